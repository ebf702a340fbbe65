//! The BER-to-DER normaliser: its output is DER and a fixed point.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scep::internal::fuzzing::ber(data));
