//! What the benchmarks share: the RNG and a party (an RSA-2048 key and its self-signed
//! certificate).

#![allow(dead_code)]

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use scep::cert::{CertificateParams, issue, random_serial};
use scep::{Certificate, DigestAlgorithm, MessageSigner};
use x509_cert::name::Name;

/// The operating system's RNG.
pub fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// A fresh RSA-2048 key and its self-signed certificate for `cn`, valid for a day.
pub fn party(cn: &str) -> (rsa::PrivateKey, Certificate) {
    let key = rsa::PrivateKey::new(&mut rng(), 2048).expect("RSA key");
    let name = Name::from_str(cn).expect("name");
    let now = SystemTime::now();
    let params = CertificateParams {
        serial_number: random_serial(&mut rng()).expect("serial"),
        subject: name.clone(),
        public_key: key.public_key_info().expect("spki"),
        not_before: now - Duration::from_secs(60),
        not_after: now + Duration::from_secs(86400),
        extensions: Vec::new(),
    };
    let cert = issue(&params, &name, &key, DigestAlgorithm::Sha256).expect("certificate");
    (key, cert)
}
