//! Inputs the fuzz targets found a bug with, replayed through the same entry points
//! (`scep::internal::fuzzing`), with a check of what the fixed code does with each.
//!
//! Each file under `tests/fuzz-regressions/<target>/` is an artifact of `fuzz/`'s target of
//! that name, kept as the fuzzer wrote it (see `fuzz/README.md`, "From a crash to a
//! regression test"). Every file is run through its target here, so a fix that regresses
//! fails the test with the file's name.
//!
//! Built with `--cfg fuzzing` only (`scep::internal::fuzzing` exists only then):
//! `RUSTFLAGS="--cfg fuzzing" cargo test --test mutation --test fuzz_regressions`, as
//! `.ci/run` does.
#![cfg(fuzzing)]

use std::path::{Path, PathBuf};

use scep::caps::Capabilities;

fn regressions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions")
}

fn read(rel: &str) -> Vec<u8> {
    let path = regressions_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The entry point of a fuzz target, by the target's name.
fn entry_point(target: &str) -> fn(&[u8]) {
    match target {
        "open" => scep::internal::fuzzing::open_pki_message,
        "pki_message" => scep::internal::fuzzing::pki_message,
        "open_with_key" => scep::internal::fuzzing::open_with_key,
        "cert_rep_client" => scep::internal::fuzzing::cert_rep_client,
        "ca_certs" => scep::internal::fuzzing::ca_certs,
        "caps" => scep::internal::fuzzing::caps,
        "http_request" => scep::internal::fuzzing::http_request,
        "csr" => scep::internal::fuzzing::csr,
        "ber" => scep::internal::fuzzing::ber,
        "pwri" => scep::internal::fuzzing::pwri,
        other => panic!("tests/fuzz-regressions/{other}/ names no fuzz target"),
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

#[test]
fn every_recorded_input_passes_its_target() {
    let mut count = 0;
    for dir in files(&regressions_dir()) {
        let target = dir.file_name().unwrap().to_string_lossy().into_owned();
        let entry = entry_point(&target);
        for file in files(&dir) {
            let input = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| entry(&input));
            assert!(outcome.is_ok(), "{target}: {} panics again", file.display());
            count += 1;
        }
    }
    assert!(count > 0, "no regression inputs found");
}

/// `caps`: a byte order mark that is not the first character of the body was kept at the
/// start of an unknown keyword; the canonical text then began with it and parsing that
/// dropped it, so format → parse changed the capabilities. Byte order marks around
/// keywords are now dropped wherever they are.
#[test]
fn caps_byte_order_mark_inside_the_body() {
    let input = read("caps/crash-467848a0096dff6c293e2e77e22e329328430c85");
    let caps = Capabilities::from_bytes(&input).unwrap();
    assert_eq!(caps.unknown(), ["Renewal5", "al5"]);
    assert_eq!(Capabilities::parse(&caps.format()).unwrap(), caps);

    // Two marks at the very start (only one used to be removed).
    let input = read("caps/crash-12836c4d58c9f752f1810e5c28a916d41893b102");
    let caps = Capabilities::from_bytes(&input).unwrap();
    assert_eq!(
        caps.unknown().first().map(String::as_str),
        Some("RSne-keyword")
    );
    assert_eq!(Capabilities::parse(&caps.format()).unwrap(), caps);

    // The same for a known keyword, and nothing else changes.
    let caps = Capabilities::parse("SHA-1\n\u{feff}AES\u{feff}\r\n").unwrap();
    assert_eq!(caps.format(), "AES\nSHA-1");
    assert!(Capabilities::new().with_extension("\u{feff}x").is_err());
}
