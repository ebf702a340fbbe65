//! Parties of a test: a key and its self-signed certificate (a client's signer
//! certificate, RFC 8894 section 2.3, or a test CA without extensions).

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use scep::cert::{CertificateParams, issue, random_serial};
use scep::{Certificate, DigestAlgorithm, MessageSigner};
use x509_cert::name::Name;

use super::rng;

/// A key and its self-signed certificate.
pub struct Party<K> {
    pub key: K,
    pub cert: Certificate,
}

/// `key` with a self-signed certificate for `cn`, valid from a minute before `now` for a
/// day, signed with SHA-256.
pub fn party_at<K: MessageSigner>(key: K, cn: &str, now: SystemTime) -> Party<K> {
    let name = Name::from_str(cn).unwrap();
    let params = CertificateParams {
        serial_number: random_serial(&mut rng()).unwrap(),
        subject: name.clone(),
        public_key: key.public_key_info().unwrap(),
        not_before: now - Duration::from_secs(60),
        not_after: now + Duration::from_secs(86400),
        extensions: Vec::new(),
    };
    let cert = issue(&params, &name, &key, DigestAlgorithm::Sha256).unwrap();
    Party { key, cert }
}

/// `key` with the self-signed certificate a SCEP client makes for it (RFC 8894 section
/// 2.3: `scep::cert::self_signed_certificate`, with its key usage, basic constraints and
/// key identifier), for `cn`, valid from `now` for a day.
pub fn client_at<K: MessageSigner>(key: K, cn: &str, now: SystemTime) -> Party<K> {
    let cert = scep::cert::self_signed_certificate(
        &key,
        &Name::from_str(cn).unwrap(),
        now,
        now + Duration::from_secs(86400),
        &mut rng(),
    )
    .unwrap();
    Party { key, cert }
}

/// [`party_at`] now.
pub fn party<K: MessageSigner>(key: K, cn: &str) -> Party<K> {
    party_at(key, cn, SystemTime::now())
}

/// A fresh RSA-2048 key.
pub fn rsa_key() -> rsa::PrivateKey {
    rsa::PrivateKey::new(&mut rng(), 2048).unwrap()
}

/// A fresh ECDSA P-256 key.
pub fn ec_key() -> p256::ecdsa::SigningKey {
    use p256::elliptic_curve::Generate;
    p256::ecdsa::SigningKey::generate_from_rng(&mut rng())
}

/// A fresh RSA-2048 party for `cn`.
pub fn rsa_party(cn: &str) -> Party<rsa::PrivateKey> {
    party(rsa_key(), cn)
}

/// A fresh ECDSA P-256 party for `cn`.
pub fn ec_party(cn: &str) -> Party<p256::ecdsa::SigningKey> {
    party(ec_key(), cn)
}
