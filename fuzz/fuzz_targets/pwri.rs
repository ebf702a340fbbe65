//! An envelope on its own: inspect, and open with the challenge password (PWRI unwrap).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scep::internal::fuzzing::pwri(data));
