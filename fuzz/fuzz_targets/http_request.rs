//! The server's HTTP request parsing (method selector, length-prefixed query, body); operation round trips.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scep::internal::fuzzing::http_request(data));
