//! The simplest CA a SCEP server can run: a static challenge, and every authorised
//! enrolment issued at once (a year, SHA-256) with whatever key signs for the CA, an
//! HSM's or the `rsa` crate's. Used by `examples/hsm.rs` and `benches/server.rs`.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use scep::asn1::{CertificateList, IssuerAndSerialNumber};
use scep::cert::{CertificateParams, end_entity_extensions, issue, random_serial};
use scep::error::StoreError;
use scep::server::{CertificateAuthority, Decision, Enrolment, challenge_matches};
use scep::{Certificate, DigestAlgorithm, MessageSigner};

/// Issues at once for the CA `cert`, signing with `key`, to whoever gives `challenge`.
pub struct IssueAtOnce<K> {
    pub key: Arc<K>,
    pub cert: Certificate,
    pub challenge: String,
}

impl<K: MessageSigner + Send + Sync> CertificateAuthority for IssueAtOnce<K> {
    fn check_challenge(
        &self,
        _: &Enrolment<'_>,
        challenge: Option<&str>,
    ) -> Result<bool, StoreError> {
        Ok(challenge_matches(&self.challenge, challenge))
    }

    fn enrol(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let error = |e: scep::Error| StoreError::caused_by("CA", e);
        let now = SystemTime::now();
        let d = enrolment.details;
        let ca = self.cert.tbs_certificate();
        let params = CertificateParams {
            serial_number: random_serial(&mut rng).map_err(error)?,
            extensions: end_entity_extensions(
                &d.subject,
                &d.public_key,
                Some(ca.subject_public_key_info()),
            )
            .map_err(error)?,
            subject: d.subject.clone(),
            public_key: d.public_key.clone(),
            not_before: now - Duration::from_secs(60),
            not_after: now + Duration::from_secs(365 * 86400),
        };
        let cert = issue(
            &params,
            ca.subject(),
            self.key.as_ref(),
            DigestAlgorithm::Sha256,
        )
        .map_err(error)?;
        Ok(Decision::Issue(vec![cert]))
    }

    fn revoked(&self, _: &Certificate) -> Result<bool, StoreError> {
        Ok(false)
    }

    fn certificate(&self, _: &IssuerAndSerialNumber) -> Result<Option<Certificate>, StoreError> {
        Ok(None)
    }

    fn crl(&self, _: &IssuerAndSerialNumber) -> Result<Option<CertificateList>, StoreError> {
        Ok(None)
    }
}
