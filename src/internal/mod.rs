//! Entry points for this repository's fuzz targets and mutation tests. Not part of the API:
//! compiled only with `--cfg fuzzing` (which cargo-fuzz sets; `.ci/run` sets it for
//! `tests/mutation.rs` and `tests/fuzz_regressions.rs`) and for the crate's own unit tests.
//! It embeds the throw-away keys under `test-vectors/sealed/`, which the published package
//! leaves out.

pub mod fuzzing;
