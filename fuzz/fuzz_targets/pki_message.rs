//! The outer pkiMessage: decode and SCEP attributes, no cryptography; attribute and certificate round trips.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scep::internal::fuzzing::pki_message(data));
