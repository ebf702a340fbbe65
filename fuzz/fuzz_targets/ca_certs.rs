//! GetCACert (every content type) and GetNextCACert responses; certificate list round trips.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scep::internal::fuzzing::ca_certs(data));
