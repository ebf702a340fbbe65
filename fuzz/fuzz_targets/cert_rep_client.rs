//! CertRep handling in the client role: verify, check_reply, decrypt with the client key and the challenge.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scep::internal::fuzzing::cert_rep_client(data));
