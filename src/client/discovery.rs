//! Start-up: GetCACaps, then GetCACert, and what they say about the CA.

use der::Decode;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

use super::{ClientConfig, Fingerprint};
use crate::asn1::Certificate;
use crate::caps::{Capabilities, Negotiated, Policy, negotiate};
use crate::cert::verify_issued_by;
use crate::error::{Error, PolicyError, ProtocolError, Result};
use crate::http::{self, HttpRequest, Method, Operation, OperationKind};
use crate::limits::Limits;
use crate::message::CaCertificates;
use crate::oids;

/// What a client knows about its CA after [`Discovery`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaInfo {
    /// The announced capabilities.
    pub capabilities: Capabilities,
    /// The negotiated algorithms and transport.
    pub negotiated: Negotiated,
    /// Every certificate of the GetCACert answer, all chaining to the pinned one.
    pub certificates: Vec<Certificate>,
    /// The CA that issues our certificates (the pinned certificate, or an intermediate
    /// below it).
    pub ca: Certificate,
    /// The certificate requests are encrypted to: an RA certificate with keyEncipherment,
    /// else one with dataEncipherment, else the CA.
    pub recipient: Certificate,
    /// The certificates a CertRep may be signed by: RA certificates with digitalSignature,
    /// then the CA.
    pub signers: Vec<Certificate>,
}

fn key_usage(cert: &Certificate) -> Option<KeyUsage> {
    cert.tbs_certificate()
        .extensions()?
        .iter()
        .find(|e| e.extn_id == oids::KEY_USAGE)
        .and_then(|e| KeyUsage::from_der(e.extn_value.as_bytes()).ok())
}

fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate()
        .extensions()
        .and_then(|exts| {
            exts.iter()
                .find(|e| e.extn_id == oids::BASIC_CONSTRAINTS)
                .and_then(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok())
        })
        .is_some_and(|bc| bc.ca)
}

pub(super) fn is_self_issued(cert: &Certificate) -> bool {
    cert.tbs_certificate().issuer() == cert.tbs_certificate().subject()
}

fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    cert.tbs_certificate().issuer() == issuer.tbs_certificate().subject()
        && verify_issued_by(cert, issuer.tbs_certificate().subject_public_key_info()).is_ok()
}

impl CaInfo {
    /// Builds the CA view from capabilities and the GetCACert certificates under a pin and
    /// policy (what [`Discovery`] does; also for clients that cache them).
    ///
    /// The trust anchor is the certificate with the pinned fingerprint; without a pin, the
    /// only certificate, else the only self-issued one. Every other certificate must chain
    /// to it ([`PolicyError::UntrustedCertificate`] otherwise).
    pub fn new(
        capabilities: Capabilities,
        certificates: Vec<Certificate>,
        pin: Option<&Fingerprint>,
        policy: &Policy,
    ) -> Result<Self> {
        let negotiated = negotiate(&capabilities, policy)?;
        let anchor = match pin {
            Some(pin) => certificates
                .iter()
                .find(|c| pin.matches(c))
                .ok_or(PolicyError::CaPinMismatch)?,
            None => match certificates.as_slice() {
                [only] => only,
                _ => {
                    let mut roots = certificates.iter().filter(|c| is_self_issued(c));
                    match (roots.next(), roots.next()) {
                        (Some(root), None) => root,
                        _ => {
                            return Err(Error::decode(
                                "GetCACert response",
                                "cannot tell which certificate is the CA; pin its fingerprint",
                            ));
                        }
                    }
                }
            },
        };
        // Grow the trusted set from the anchor.
        let mut trusted: Vec<&Certificate> = vec![anchor];
        loop {
            let before = trusted.len();
            for c in &certificates {
                if !trusted.contains(&c) && trusted.iter().any(|t| issued_by(c, t)) {
                    trusted.push(c);
                }
            }
            if trusted.len() == before {
                break;
            }
        }
        if let Some(untrusted) = certificates.iter().find(|c| !trusted.contains(c)) {
            return Err(PolicyError::UntrustedCertificate(
                untrusted.tbs_certificate().subject().to_string(),
            )
            .into());
        }
        // The issuing CA: the lowest CA certificate (one that issued no other CA here).
        let cas: Vec<&Certificate> = trusted
            .iter()
            .copied()
            .filter(|c| *c == anchor || is_ca(c))
            .collect();
        let ca = cas
            .iter()
            .copied()
            .find(|c| !cas.iter().any(|other| other != c && issued_by(other, c)))
            .unwrap_or(anchor)
            .clone();
        let ras: Vec<&Certificate> = trusted
            .iter()
            .copied()
            .filter(|c| *c != anchor && !is_ca(c))
            .collect();
        let with_usage = |u: KeyUsages| {
            ras.iter()
                .copied()
                .find(|c| key_usage(c).is_some_and(|ku| ku.0.contains(u)))
        };
        let recipient = with_usage(KeyUsages::KeyEncipherment)
            .or_else(|| with_usage(KeyUsages::DataEncipherment))
            .or_else(|| ras.iter().copied().find(|c| key_usage(c).is_none()))
            .unwrap_or(&ca)
            .clone();
        let mut signers: Vec<Certificate> = ras
            .iter()
            .copied()
            .filter(|c| key_usage(c).is_none_or(|ku| ku.digital_signature()))
            .cloned()
            .collect();
        signers.push(ca.clone());
        Ok(CaInfo {
            capabilities,
            negotiated,
            certificates,
            ca,
            recipient,
            signers,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DiscoveryStep {
    Caps,
    CaCert,
    Done,
}

/// Start-up: GetCACaps, then GetCACert, giving a [`CaInfo`].
#[derive(Debug, Clone)]
pub struct Discovery {
    config: ClientConfig,
    step: DiscoveryStep,
    capabilities: Option<Capabilities>,
}

impl Discovery {
    /// Starts discovery for `config`.
    pub fn new(config: ClientConfig) -> Self {
        Discovery {
            config,
            step: DiscoveryStep::Caps,
            capabilities: None,
        }
    }

    /// The request to send next, or `None` when discovery is over.
    pub fn poll_request(&self) -> Result<Option<HttpRequest>> {
        let message = self.config.ca_identifier.clone();
        let op = match self.step {
            DiscoveryStep::Caps => Operation::GetCaCaps { message },
            DiscoveryStep::CaCert => Operation::GetCaCert { message },
            DiscoveryStep::Done => return Ok(None),
        };
        HttpRequest::new(&self.config.scep_path, &op, Method::Get).map(Some)
    }

    /// Takes the answer to the last request. Returns the [`CaInfo`] once GetCACert has
    /// been answered.
    ///
    /// A GetCACaps answer other than 200 counts as an empty capability list (RFC 8894
    /// section 3.5.2); negotiation then decides whether that is acceptable.
    pub fn handle_response(
        &mut self,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Option<CaInfo>> {
        match self.step {
            DiscoveryStep::Caps => {
                let caps = match http::check_response(
                    OperationKind::GetCaCaps,
                    status,
                    content_type,
                    body,
                ) {
                    Ok(body) => Capabilities::from_bytes(body)?,
                    Err(Error::Http(crate::error::HttpError::Status(_))) => Capabilities::new(),
                    Err(e) => return Err(e),
                };
                self.capabilities = Some(caps);
                self.step = DiscoveryStep::CaCert;
                Ok(None)
            }
            DiscoveryStep::CaCert => {
                let body =
                    http::check_response(OperationKind::GetCaCert, status, content_type, body)?;
                let certs = CaCertificates::parse(content_type, body, &Limits::default())?;
                let info = CaInfo::new(
                    self.capabilities.clone().unwrap_or_default(),
                    certs.certificates,
                    self.config.ca_pin.as_ref(),
                    &self.config.policy,
                )?;
                self.step = DiscoveryStep::Done;
                Ok(Some(info))
            }
            DiscoveryStep::Done => {
                Err(ProtocolError::UnexpectedResponse("discovery is already complete").into())
            }
        }
    }
}
