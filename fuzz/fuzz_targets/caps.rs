//! GetCACaps response text: parse, format, parse again, negotiate.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scep::internal::fuzzing::caps(data));
