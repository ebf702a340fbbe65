//! What the benchmarks share: the RNG, a party (an RSA-2048 key and its self-signed
//! certificate), and the client's CSR and PKCSReq.

#![allow(dead_code)]

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use scep::cert::{CertificateParams, issue, random_serial};
use scep::csr::CsrParams;
use scep::message::{OutgoingRequest, RequestContent, SealParams};
use scep::{Certificate, DigestAlgorithm, MessageSigner, Nonce, Recipient, TransactionId};
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

/// A CSR for `cn` with the challenge password `challenge`, signed by `key`.
pub fn csr(key: &dyn MessageSigner, cn: &str, challenge: &str) -> scep::asn1::CertReq {
    let mut params = CsrParams::new(Name::from_str(cn).expect("name"));
    params.challenge_password = Some(challenge.into());
    params.build(key).expect("CSR")
}

/// A fresh PKCSReq for `csr` (its own transaction ID and nonce), signed by `key` / `cert`
/// and enveloped for `ca` (AES-128-CBC, SHA-256).
pub fn pkcsreq(
    csr: &scep::asn1::CertReq,
    key: &dyn MessageSigner,
    cert: &Certificate,
    ca: &Certificate,
) -> Vec<u8> {
    OutgoingRequest {
        transaction_id: TransactionId::random(&mut rng()),
        sender_nonce: Nonce::generate(&mut rng()),
        content: RequestContent::PkcsReq(csr.clone()),
    }
    .seal(
        &SealParams::new(key, cert),
        Recipient::Certificate(ca),
        &mut rng(),
    )
    .expect("seal")
}
