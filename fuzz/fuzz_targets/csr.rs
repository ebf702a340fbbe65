//! PKCS #10 requests and the other request payloads: decode, inspect, verify, round trips.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scep::internal::fuzzing::csr(data));
