//! The server's full open path with the sealed vectors' CA key: decode, decrypt, payload, verify.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scep::internal::fuzzing::open_with_key(data));
