//! The open path of a received pkiMessage (decode, inspect, verify).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scep::internal::fuzzing::open_pki_message(data));
