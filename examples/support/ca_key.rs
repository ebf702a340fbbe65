//! What both example CAs (`memory_ca.rs`, `db_ca.rs`) do alike: make a CA key and its
//! certificate, issue an end-entity certificate for a request, and announce the same
//! capabilities.

#![allow(dead_code)]

use core::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use scep::Certificate;
use scep::asn1::SerialNumber;
use scep::caps::{Capabilities, Capability};
use scep::cert::{CertificateParams, Identity, end_entity_extensions, issue};
use scep::csr::CsrDetails;
use scep::server::{DecryptionKey, Server, ServerConfig};
use scep::{DigestAlgorithm, MessageSigner};
use x509_cert::name::Name;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// A CA key and its self-signed certificate.
pub struct CaKey {
    pub key: Arc<rsa::PrivateKey>,
    pub cert: Certificate,
}

impl CaKey {
    /// A fresh RSA-2048 CA named `name`, valid 10 years from `now`.
    pub fn generate(name: &str, now: SystemTime) -> Result<Self, BoxError> {
        let key = rsa::PrivateKey::new(&mut rng(), 2048)?;
        let name = Name::from_str(name)?;
        let extensions = scep::cert::ca_extensions(&name, &key.public_key_info()?, None, Some(0))?;
        let cert = issue(
            &CertificateParams {
                serial_number: scep::cert::random_serial(&mut rng())?,
                subject: name.clone(),
                public_key: key.public_key_info()?,
                not_before: now - Duration::from_secs(60),
                not_after: now + Duration::from_secs(10 * 365 * 86400),
                extensions,
            },
            &name,
            &key,
            DigestAlgorithm::Sha256,
        )?;
        Ok(CaKey {
            key: Arc::new(key),
            cert,
        })
    }

    /// The SCEP server of this CA with `config`: the CA key signs the answers and
    /// decrypts the requests (no separate RA).
    pub fn server(&self, config: ServerConfig) -> Result<Server, scep::Error> {
        Server::new(
            config,
            self.cert.clone(),
            Identity::new(self.cert.clone(), self.key.clone())?,
            vec![DecryptionKey {
                certificate: self.cert.clone(),
                key: self.key.clone(),
            }],
        )
    }

    /// A certificate with `serial` for what `details` asks (subject, key, and the
    /// subjectAltName's DNS names, IP addresses, e-mail addresses and URIs: the example
    /// CAs' policy is to copy those, and no other name form), valid for a year from `now`
    /// (a minute earlier, for clocks behind), signed with SHA-256.
    pub fn issue_for(
        &self,
        details: &CsrDetails,
        serial: SerialNumber,
        now: SystemTime,
    ) -> Result<Certificate, BoxError> {
        let ca = self.cert.tbs_certificate();
        let mut extensions = end_entity_extensions(
            &details.subject,
            &details.public_key,
            Some(ca.subject_public_key_info()),
        )?;
        extensions.extend(scep::cert::requested_subject_alt_name(details)?);
        Ok(issue(
            &CertificateParams {
                serial_number: serial,
                extensions,
                subject: details.subject.clone(),
                public_key: details.public_key.clone(),
                not_before: now - Duration::from_secs(60),
                not_after: now + Duration::from_secs(365 * 86400),
            },
            ca.subject(),
            self.key.as_ref(),
            DigestAlgorithm::Sha256,
        )?)
    }
}

/// Refuses an RSA key under `min_rsa_bits` (the reason, for the operator); other keys
/// (P-256) pass.
pub fn check_key(details: &CsrDetails, min_rsa_bits: usize) -> Result<(), String> {
    match details.rsa_modulus_bits() {
        Some(bits) if bits < min_rsa_bits => Err(format!(
            "an RSA key of {bits} bits, under the {min_rsa_bits} this CA issues for"
        )),
        _ => Ok(()),
    }
}

/// The capabilities the example servers announce.
pub fn capabilities() -> Capabilities {
    [
        Capability::PostPkiOperation,
        Capability::ScepStandard,
        Capability::Aes,
        Capability::Sha256,
        Capability::Sha1,
        Capability::Des3,
        Capability::Renewal,
        Capability::GetNextCaCert,
    ]
    .into_iter()
    .collect()
}
