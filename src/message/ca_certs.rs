//! GetCACert and GetNextCACert responses (RFC 8894 sections 4.2 and 4.7).
//!
//! * GetCACert with a single CA certificate: `application/x-x509-ca-cert`, the DER
//!   certificate itself.
//! * GetCACert with a chain or RA certificates: `application/x-x509-ca-ra-cert`, a
//!   degenerate certs-only SignedData.
//! * GetNextCACert: `application/x-x509-next-ca-cert`, a SignedData signed by the
//!   **current** CA whose content is a degenerate certs-only SignedData with the next CA's
//!   certificates. It must be verified against the current CA before use.
//!
//!   Peer quirk: jscep's `ScepServlet` signs a SignedData with **no content** and puts the
//!   next CA only in its `certificates` field. [`NextCaCertificates::open_lenient`]
//!   accepts that form (the signature, over empty content, still verified under the
//!   current CA); [`NextCaCertificates::open_allowing`] refuses it.

use crate::asn1::Certificate;
use der::Decode;

use crate::attributes::ScepAttributes;
use crate::error::{CryptoError, Element, Error, LimitKind, ProtocolError, Result};
use crate::limits::Limits;
use crate::pipeline::signed::{self, SignRequest};
use crate::pipeline::{DigestAlgorithm, MessageSigner};

/// The two forms of a GetCACert response body (RFC 8894 section 4.2.1). The HTTP layer
/// names them by content type ([`crate::http::ca_cert_form`],
/// [`crate::http::HttpResponse::ca_certificates`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaCertForm {
    /// One DER certificate, the CA's (section 4.2.1.1, `application/x-x509-ca-cert`).
    Certificate,
    /// A degenerate certificates-only SignedData with the CA and RA certificates (section
    /// 4.2.1.2, `application/x-x509-ca-ra-cert`).
    Chain,
}

/// The certificates of a GetCACert response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaCertificates {
    /// The certificates, in the order received.
    pub certificates: Vec<Certificate>,
}

impl CaCertificates {
    /// The certificates a server answers GetCACert with (the CA first, then RA
    /// certificates or intermediates).
    pub fn new(certificates: Vec<Certificate>) -> Self {
        Self { certificates }
    }

    /// Parses a GetCACert response body.
    ///
    /// `form` is the form the response declares (from its content type); when it is
    /// `None` (no or an unknown content type), a single DER certificate is tried first, then
    /// a certs-only SignedData. An empty chain is an error.
    pub fn parse(form: Option<CaCertForm>, body: &[u8], limits: &Limits) -> Result<Self> {
        if body.len() > limits.max_message_size {
            return Err(Error::Limit {
                what: LimitKind::MessageSize,
                limit: limits.max_message_size,
            });
        }
        let certificates = match form {
            Some(CaCertForm::Certificate) => vec![single_cert(body, limits)?],
            Some(CaCertForm::Chain) => chain(body, limits)?,
            None => match single_cert(body, limits) {
                Ok(c) => vec![c],
                Err(_) => chain(body, limits)?,
            },
        };
        if certificates.is_empty() {
            return Err(Error::decode(
                Element::GetCaCertResponse,
                "the certs-only SignedData holds no certificate",
            ));
        }
        Ok(Self { certificates })
    }

    /// The response a server sends: its form and body (a single DER certificate when there
    /// is one, else a certs-only SignedData).
    pub fn to_response(&self) -> Result<(CaCertForm, Vec<u8>)> {
        match self.certificates.as_slice() {
            [] => Err(Error::encode(
                Element::GetCaCertResponse,
                "no certificate to send",
            )),
            [one] => der::Encode::to_der(one)
                .map(|b| (CaCertForm::Certificate, b))
                .map_err(|e| Error::encode(Element::CaCertificate, e)),
            many => signed::certs_only(many, &[]).map(|b| (CaCertForm::Chain, b)),
        }
    }
}

fn single_cert(body: &[u8], limits: &Limits) -> Result<Certificate> {
    let der = crate::ber::to_der(body, limits)?;
    Certificate::from_der(&der).map_err(|e| Error::decode(Element::CaCertificate, e))
}

fn chain(body: &[u8], limits: &Limits) -> Result<Vec<Certificate>> {
    signed::parse_certs_only(body, limits)
        .map(|(certs, _)| certs)
        .map_err(|e| match e {
            Error::Decode { detail, .. } => Error::Decode {
                element: Element::GetCaCertCertsOnlySignedData,
                detail,
            },
            e => e,
        })
}

/// GetNextCACert responses: certs-only content signed by the current CA.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NextCaCertificates {
    /// The next CA's certificates.
    pub certificates: Vec<Certificate>,
}

impl NextCaCertificates {
    /// The next CA certificates a server answers GetNextCACert with.
    pub fn new(certificates: Vec<Certificate>) -> Self {
        Self { certificates }
    }

    /// Builds the response body: a SignedData by the current CA (`signer`,
    /// `signer_certificate`) around a certs-only SignedData of the next CA certificates.
    /// The next CA certificates are in the outer SignedData's `certificates` too: jscep's
    /// client reads them only there (its server sends them only there).
    pub fn seal(
        &self,
        signer: &dyn MessageSigner,
        signer_certificate: &Certificate,
        digest: DigestAlgorithm,
    ) -> Result<Vec<u8>> {
        let inner = signed::certs_only(&self.certificates, &[])?;
        signed::sign(SignRequest {
            content: Some(&inner),
            attributes: Vec::new(),
            digest,
            signer,
            signer_certificate,
            extra_certificates: &self.certificates,
        })
    }

    /// Opens a response: verifies that it is signed by one of `current_ca` (compared as
    /// whole certificates) and returns the next CA certificates.
    pub fn open(body: &[u8], current_ca: &[Certificate], limits: &Limits) -> Result<Self> {
        Self::open_allowing(body, current_ca, limits, &DigestAlgorithm::ALL)
    }

    /// [`NextCaCertificates::open`], refusing a signature whose digest is not in
    /// `allowed_digests` ([`PolicyError::DigestNotAllowed`](crate::error::PolicyError))
    /// before verifying it.
    pub fn open_allowing(
        body: &[u8],
        current_ca: &[Certificate],
        limits: &Limits,
        allowed_digests: &[DigestAlgorithm],
    ) -> Result<Self> {
        Self::open_as(body, current_ca, limits, allowed_digests, false)
    }

    /// [`NextCaCertificates::open_allowing`], also accepting jscep's form: a SignedData
    /// verified under the current CA that has no content, with the next CA certificates
    /// in its `certificates` field (every certificate there but the current CA's and the
    /// signer's). A documented peer quirk, off in
    /// [`Policy::strict`](crate::caps::Policy::strict).
    pub fn open_lenient(
        body: &[u8],
        current_ca: &[Certificate],
        limits: &Limits,
        allowed_digests: &[DigestAlgorithm],
    ) -> Result<Self> {
        Self::open_as(body, current_ca, limits, allowed_digests, true)
    }

    fn open_as(
        body: &[u8],
        current_ca: &[Certificate],
        limits: &Limits,
        allowed_digests: &[DigestAlgorithm],
        certificates_field: bool,
    ) -> Result<Self> {
        let parsed = signed::parse(body, limits)?;
        if let Some(si) = parsed.signer_infos.first() {
            let (digest, _) = signed::signer_algorithms(si)?;
            digest.require_allowed(allowed_digests, Element::SignerInfoDigestAlgorithm)?;
        }
        let verified = signed::verify(&parsed, current_ca)?;
        if !current_ca.contains(&verified.signer) {
            return Err(CryptoError::UntrustedSigner.into());
        }
        // A GetNextCACert response has no SCEP attributes, but if it has any they must
        // still be well-formed.
        if let Some(attrs) = parsed
            .signer_infos
            .first()
            .and_then(|si| si.signed_attrs.as_ref())
            .filter(|attrs| attrs.iter().any(|a| a.oid == crate::oids::ID_MESSAGE_TYPE))
        {
            ScepAttributes::from_attributes(attrs.iter())?;
        }
        let certificates = match parsed.content {
            Some(inner) => signed::parse_certs_only(&inner, limits)?.0,
            None if certificates_field => parsed
                .certificates
                .into_iter()
                .filter(|c| c != &verified.signer && !current_ca.contains(c))
                .collect(),
            None => {
                return Err(ProtocolError::UnexpectedContent(
                    "the GetNextCACert response has no content",
                )
                .into());
            }
        };
        if certificates.is_empty() {
            return Err(Error::decode(
                Element::GetNextCaCertResponse,
                "no next CA certificate in it",
            ));
        }
        Ok(Self { certificates })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::str::FromStr;
    use std::time::{Duration, SystemTime};

    fn ca(cn: &str) -> (rsa::PrivateKey, Certificate) {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let key = rsa::PrivateKey::new(&mut rng, 2048).unwrap();
        let now = SystemTime::now();
        let cert = crate::cert::self_signed_certificate(
            &key,
            &x509_cert::name::Name::from_str(cn).unwrap(),
            now - Duration::from_secs(60),
            now + Duration::from_secs(3600),
            &mut rng,
        )
        .unwrap();
        (key, cert)
    }

    /// jscep's GetNextCACert answer: signed (SHA-1) by the current CA over no content,
    /// the next CA in the certificates field.
    #[test]
    fn the_next_ca_in_the_certificates_field_is_a_quirk_read_only_leniently() {
        let (key, current) = ca("CN=current");
        let (_, next) = ca("CN=next");
        let (stranger_key, stranger) = ca("CN=stranger");
        let jscep = |key: &rsa::PrivateKey, signer: &Certificate| {
            signed::sign(SignRequest {
                content: None,
                attributes: Vec::new(),
                digest: DigestAlgorithm::Sha1,
                signer: key,
                signer_certificate: signer,
                extra_certificates: core::slice::from_ref(&next),
            })
            .unwrap()
        };
        let body = jscep(&key, &current);
        let trusted = core::slice::from_ref(&current);
        let limits = Limits::default();
        let all = &DigestAlgorithm::ALL;
        let opened = NextCaCertificates::open_lenient(&body, trusted, &limits, all).unwrap();
        assert_eq!(opened.certificates, vec![next.clone()]);
        assert!(matches!(
            NextCaCertificates::open_allowing(&body, trusted, &limits, all),
            Err(Error::Protocol(ProtocolError::UnexpectedContent(_)))
        ));
        // Signed by anyone else, it is refused either way.
        let forged = jscep(&stranger_key, &stranger);
        assert!(NextCaCertificates::open_lenient(&forged, trusted, &limits, all).is_err());
        // Nor does the SHA-1 signature pass a policy without SHA-1.
        let sha256 = &[DigestAlgorithm::Sha256];
        assert!(NextCaCertificates::open_lenient(&body, trusted, &limits, sha256).is_err());
        // The current CA alone in the certificates field is no next CA.
        let alone = signed::sign(SignRequest {
            content: None,
            attributes: Vec::new(),
            digest: DigestAlgorithm::Sha256,
            signer: &key,
            signer_certificate: &current,
            extra_certificates: &[],
        })
        .unwrap();
        assert!(NextCaCertificates::open_lenient(&alone, trusted, &limits, all).is_err());
    }
}
