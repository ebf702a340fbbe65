//! GetCACert and GetNextCACert responses (RFC 8894 sections 4.2 and 4.7).
//!
//! * GetCACert with a single CA certificate: `application/x-x509-ca-cert`, the DER
//!   certificate itself.
//! * GetCACert with a chain or RA certificates: `application/x-x509-ca-ra-cert`, a
//!   degenerate certs-only SignedData.
//! * GetNextCACert: `application/x-x509-next-ca-cert`, a SignedData signed by the
//!   **current** CA whose content is a degenerate certs-only SignedData with the next CA's
//!   certificates. It must be verified against the current CA before use.

use crate::asn1::Certificate;
use der::Decode;

use crate::attributes::ScepAttributes;
use crate::error::{CryptoError, Error, ProtocolError, Result};
use crate::limits::Limits;
use crate::pipeline::signed::{self, SignRequest};
use crate::pipeline::{DigestAlgorithm, MessageSigner};

use crate::http::{CONTENT_TYPE_CA_CERT as CA_CERT, CONTENT_TYPE_CA_RA_CERT as CA_RA_CERT};

/// The certificates of a GetCACert response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaCertificates {
    /// The certificates, in the order received.
    pub certificates: Vec<Certificate>,
}

impl CaCertificates {
    /// Parses a GetCACert response body.
    ///
    /// `content_type` (parameters and case ignored) selects the form; when it is `None` or
    /// unrecognised, a single DER certificate is tried first, then a certs-only SignedData.
    /// An empty chain is an error.
    pub fn parse(content_type: Option<&str>, body: &[u8], limits: &Limits) -> Result<Self> {
        if body.len() > limits.max_message_size {
            return Err(Error::Limit {
                what: "message size",
                limit: limits.max_message_size,
            });
        }
        let kind = content_type.map(|t| {
            t.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
        let certificates = match kind.as_deref() {
            Some(CA_CERT) => vec![single_cert(body, limits)?],
            Some(CA_RA_CERT) => chain(body, limits)?,
            _ => match single_cert(body, limits) {
                Ok(c) => vec![c],
                Err(_) => chain(body, limits)?,
            },
        };
        if certificates.is_empty() {
            return Err(Error::decode(
                "GetCACert response",
                "the certs-only SignedData holds no certificate",
            ));
        }
        Ok(CaCertificates { certificates })
    }

    /// The response a server sends: the content type and the body (a single DER
    /// certificate when there is one, else a certs-only SignedData).
    pub fn to_response(&self) -> Result<(&'static str, Vec<u8>)> {
        match self.certificates.as_slice() {
            [] => Err(Error::encode(
                "GetCACert response",
                "no certificate to send",
            )),
            [one] => der::Encode::to_der(one)
                .map(|b| (CA_CERT, b))
                .map_err(|e| Error::encode("CA certificate", e)),
            many => signed::certs_only(many, &[]).map(|b| (CA_RA_CERT, b)),
        }
    }
}

fn single_cert(body: &[u8], limits: &Limits) -> Result<Certificate> {
    let der = crate::ber::to_der(body, limits)?;
    Certificate::from_der(&der).map_err(|e| Error::decode("CA certificate", e))
}

fn chain(body: &[u8], limits: &Limits) -> Result<Vec<Certificate>> {
    signed::parse_certs_only(body, limits)
        .map(|(certs, _)| certs)
        .map_err(|e| match e {
            Error::Decode { detail, .. } => Error::Decode {
                element: "GetCACert certs-only SignedData",
                detail,
            },
            e => e,
        })
}

/// GetNextCACert responses: certs-only content signed by the current CA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextCaCertificates {
    /// The next CA's certificates.
    pub certificates: Vec<Certificate>,
}

impl NextCaCertificates {
    /// Content type of a GetNextCACert response.
    pub const CONTENT_TYPE: &'static str = crate::http::CONTENT_TYPE_NEXT_CA_CERT;

    /// Builds the response body: a SignedData by the current CA (`signer`,
    /// `signer_certificate`) around a certs-only SignedData of the next CA certificates.
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
            extra_certificates: &[],
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
        let parsed = signed::parse(body, limits)?;
        if let Some(si) = parsed.signer_infos.first() {
            let (digest, _) = signed::signer_algorithms(si)?;
            digest.require_allowed(allowed_digests, "SignerInfo.digestAlgorithm")?;
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
        let inner = parsed.content.ok_or(ProtocolError::UnexpectedContent(
            "the GetNextCACert response has no content",
        ))?;
        let (certificates, _) = signed::parse_certs_only(&inner, limits)?;
        if certificates.is_empty() {
            return Err(Error::decode(
                "GetNextCACert response",
                "the certs-only SignedData holds no certificate",
            ));
        }
        Ok(NextCaCertificates { certificates })
    }
}
