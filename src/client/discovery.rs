//! Start-up: GetCACaps, then GetCACert, and what they say about the CA.

use std::time::SystemTime;

use x509_cert::ext::pkix::KeyUsages;

use super::ClientConfig;
use super::trust::{self, allows};
use crate::asn1::Certificate;
use crate::caps::{Capabilities, Negotiated, negotiate};
use crate::cert::is_self_issued;
use crate::error::{Element, Error, PolicyError, ProtocolError, Result};
use crate::http::{self, HttpReply, HttpRequest, Method, Operation, OperationKind};
use crate::message::CaCertificates;

/// What a client knows about its CA after [`Discovery`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaInfo {
    /// The announced capabilities.
    pub capabilities: Capabilities,
    /// The negotiated algorithms and transport.
    pub negotiated: Negotiated,
    /// Every certificate of the GetCACert answer, each trusted as a CA or an RA.
    pub certificates: Vec<Certificate>,
    /// The CA that issues our certificates: [`ClientConfig::issuing_ca`], or else the
    /// deepest CA certificate of the chain from the pinned one. Issued certificates must
    /// check under its key.
    pub ca: Certificate,
    /// The certificate requests are encrypted to: a trusted RA certificate with
    /// keyEncipherment, else one with dataEncipherment, else one without keyUsage, else
    /// the CA.
    pub recipient: Certificate,
    /// The certificates a CertRep (and the GetNextCACert answer) may be signed by: trusted
    /// RA certificates allowing digitalSignature, then the CA.
    pub signers: Vec<Certificate>,
}

impl CaInfo {
    /// Builds the CA view from capabilities and the GetCACert certificates under
    /// `config`'s pin, RA trust and policy, at `now` (what [`Discovery`] does; also for
    /// clients that cache the answers).
    ///
    /// The trust anchor is the certificate with the pinned fingerprint; without a pin, the
    /// only certificate, else the only self-issued one. Every other certificate must be a
    /// CA certificate that chains to it (basicConstraints cA, keyCertSign, path length,
    /// validity at `now`, digests the policy allows) or an RA the caller trusts
    /// ([`ClientConfig::ra_trust`]); [`PolicyError::UntrustedCertificate`] says which one
    /// is not, and why.
    pub fn new(
        capabilities: Capabilities,
        certificates: Vec<Certificate>,
        config: &ClientConfig,
        now: SystemTime,
    ) -> Result<Self> {
        let negotiated = negotiate(&capabilities, &config.policy)?;
        let anchor = match &config.ca_pin {
            Some(pin) => certificates
                .iter()
                .position(|c| pin.matches(c))
                .ok_or(PolicyError::CaPinMismatch)?,
            None => match certificates.as_slice() {
                [_] => 0,
                _ => {
                    let mut roots = certificates
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| is_self_issued(c));
                    match (roots.next(), roots.next()) {
                        (Some((root, _)), None) => root,
                        _ => {
                            return Err(Error::decode(
                                Element::GetCaCertResponse,
                                "cannot tell which certificate is the CA; pin its fingerprint",
                            ));
                        }
                    }
                }
            },
        };
        let trusted = trust::build(
            &certificates,
            anchor,
            config.issuing_ca.as_ref(),
            &config.ra_trust,
            &config.policy.allowed_digests,
            now,
        )?;
        let pick = |i: usize| certificates.get(i).cloned();
        let ca = pick(trusted.ca).ok_or(PolicyError::CaPinMismatch)?;
        let ras: Vec<&Certificate> = trusted
            .ras
            .iter()
            .filter_map(|&i| certificates.get(i))
            .collect();
        let with_usage = |u: KeyUsages| {
            ras.iter()
                .copied()
                .find(|c| has_key_usage(c) && allows(c, u))
        };
        let recipient = with_usage(KeyUsages::KeyEncipherment)
            .or_else(|| with_usage(KeyUsages::DataEncipherment))
            .or_else(|| ras.iter().copied().find(|c| !has_key_usage(c)))
            .unwrap_or(&ca)
            .clone();
        let mut signers: Vec<Certificate> = ras
            .iter()
            .copied()
            .filter(|c| allows(c, KeyUsages::DigitalSignature))
            .cloned()
            .collect();
        signers.push(ca.clone());
        Ok(Self {
            capabilities,
            negotiated,
            certificates,
            ca,
            recipient,
            signers,
        })
    }
}

fn has_key_usage(cert: &Certificate) -> bool {
    cert.tbs_certificate()
        .extensions()
        .is_some_and(|exts| exts.iter().any(|e| e.extn_id == crate::oids::KEY_USAGE))
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
        Self {
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

    /// Takes the answer to the last request, received at `now` (the time certificates
    /// must be valid at). Returns the [`CaInfo`] once GetCACert has been answered.
    ///
    /// A GetCACaps answer other than 200 counts as an empty capability list (RFC 8894
    /// section 3.5.2); negotiation then decides whether that is acceptable. The
    /// GetCACert answer is read under the configured limits (`config.decrypt.limits`).
    pub fn handle_response(
        &mut self,
        reply: HttpReply<'_>,
        now: SystemTime,
    ) -> Result<Option<CaInfo>> {
        match self.step {
            DiscoveryStep::Caps => {
                let caps = match http::check_response(OperationKind::GetCaCaps, reply) {
                    Ok(body) => Capabilities::from_bytes(body)?,
                    Err(Error::Http(crate::error::HttpError::Status(_))) => Capabilities::new(),
                    Err(e) => return Err(e),
                };
                self.capabilities = Some(caps);
                self.step = DiscoveryStep::CaCert;
                Ok(None)
            }
            DiscoveryStep::CaCert => {
                let body = http::check_response(OperationKind::GetCaCert, reply)?;
                let certs = CaCertificates::parse(
                    http::ca_cert_form(reply.content_type),
                    body,
                    &self.config.decrypt.limits,
                )?;
                let info = CaInfo::new(
                    self.capabilities.clone().unwrap_or_default(),
                    certs.certificates,
                    &self.config,
                    now,
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
