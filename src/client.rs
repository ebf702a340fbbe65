//! The client role, sans I/O: it hands out the HTTP request to send next and takes the
//! response and the current time; it never touches the network or the clock itself.
//!
//! 1. [`Discovery`]: GetCACaps, then GetCACert; the CA is pinned by fingerprint, RA and
//!    intermediate certificates must chain to it, and the result, [`CaInfo`], names the
//!    certificate to encrypt to and the certificates a CertRep may be signed by.
//! 2. [`Enrollment`]: PKCSReq (or RenewalReq), then CertPoll while the CA answers PENDING,
//!    up to a number of polls and a total time. Its state can be saved and restored, so a
//!    restarted client resumes the same transaction.
//! 3. [`Query`]: GetCert and GetCRL; [`next_ca_request`] / [`handle_next_ca_response`]:
//!    GetNextCACert, verified by the current CA.
//!
//! Every CertRep is verified against the selected CA/RA certificates (a certificate the
//! message brings along is not trusted for that), its recipientNonce must echo our
//! senderNonce, its transactionID must be ours and its messageType CertRep.
//!
//! ```
//! # fn main() -> Result<(), scep::Error> {
//! use scep::client::{ClientConfig, Discovery};
//! let mut discovery = Discovery::new(ClientConfig::new("/cgi-bin/pkiclient.exe"));
//! let request = discovery.poll_request()?.expect("GetCACaps first");
//! assert_eq!(request.path_and_query, "/cgi-bin/pkiclient.exe?operation=GetCACaps");
//! // ... send it, then: discovery.handle_response(status, content_type, &body)?
//! # Ok(())
//! # }
//! ```

use std::time::{Duration, SystemTime};

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use rand_core::CryptoRng;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;

use crate::asn1::{CertReq, Certificate, CertificateList, IssuerAndSerialNumber};
use crate::caps::{Capabilities, Negotiated, Policy, negotiate};
use crate::cert::{certifies_key, verify_issued_by};
use crate::error::{CryptoError, Error, PolicyError, ProtocolError, Result};
use crate::http::{self, HttpRequest, Method, Operation, OperationKind};
use crate::limits::Limits;
use crate::message::{
    CaCertificates, CertRepContent, IssuerAndSubject, NextCaCertificates, OutgoingRequest,
    PkiMessage, RequestContent, SealParams, VerifiedMessage,
};
use crate::oids;
use crate::pipeline::{
    ContentCipher, DecryptOptions, DigestAlgorithm, EnvelopeKey, MessageSigner, Recipient,
};
use crate::types::{FailInfo, MessageType, Nonce, TransactionId};

/// A CA certificate fingerprint: the hash of the certificate's DER encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fingerprint {
    /// SHA-256 (what to use).
    Sha256([u8; 32]),
    /// SHA-1, for deployments that publish only that (NDES, older MDMs).
    Sha1([u8; 20]),
}

impl Fingerprint {
    /// The SHA-256 fingerprint of `cert`.
    pub fn sha256(cert: &Certificate) -> Result<Self> {
        let der = cert.to_der().map_err(|e| Error::encode("Certificate", e))?;
        let mut out = [0u8; 32];
        out.copy_from_slice(&DigestAlgorithm::Sha256.digest(&der));
        Ok(Fingerprint::Sha256(out))
    }

    /// Parses a hex fingerprint (colons and spaces ignored, any case): 64 digits are
    /// SHA-256, 40 are SHA-1.
    pub fn from_hex(text: &str) -> Result<Self> {
        let digits: Vec<u8> = text
            .bytes()
            .filter(|b| !matches!(b, b':' | b' ' | b'-'))
            .collect();
        let mut bytes = Vec::with_capacity(digits.len() / 2);
        for pair in digits.chunks(2) {
            let s = core::str::from_utf8(pair).map_err(|e| Error::decode("fingerprint", e))?;
            let b = u8::from_str_radix(s, 16)
                .map_err(|_| Error::decode("fingerprint", format_args!("{s:?} is not hex")))?;
            bytes.push(b);
        }
        if let Ok(a) = <[u8; 32]>::try_from(bytes.as_slice()) {
            Ok(Fingerprint::Sha256(a))
        } else if let Ok(a) = <[u8; 20]>::try_from(bytes.as_slice()) {
            Ok(Fingerprint::Sha1(a))
        } else {
            Err(Error::decode(
                "fingerprint",
                "expected 64 (SHA-256) or 40 (SHA-1) hex digits",
            ))
        }
    }

    /// Whether `cert` has this fingerprint.
    pub fn matches(&self, cert: &Certificate) -> bool {
        let Ok(der) = cert.to_der() else {
            return false;
        };
        match self {
            Fingerprint::Sha256(f) => DigestAlgorithm::Sha256.digest(&der) == f,
            Fingerprint::Sha1(f) => DigestAlgorithm::Sha1.digest(&der) == f,
        }
    }
}

/// How a client talks to one CA.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// SCEPPATH, e.g. `/scep` or `/cgi-bin/pkiclient.exe`.
    pub scep_path: String,
    /// A CA identifier for GetCACaps/GetCACert/GetNextCACert (`message=`), if the server
    /// hosts several CAs.
    pub ca_identifier: Option<String>,
    /// The CA's fingerprint. Without one the CA is trusted on first use: whoever answers
    /// GetCACert over plain HTTP is believed. Set it.
    pub ca_pin: Option<Fingerprint>,
    /// Algorithm and transport policy for negotiation.
    pub policy: Policy,
    /// Decryption options for CertReps (single DES is off unless switched on here).
    pub decrypt: DecryptOptions,
    /// Refuse CertReps without a senderNonce (RFC 8894 requires one; the cryptlib sample
    /// has none). Default: `false`.
    pub require_sender_nonce: bool,
    /// Also require the issued certificate's subject to equal the request's. Default:
    /// `false` (CAs rewrite subjects).
    pub require_subject_match: bool,
    /// Maximum number of CertPolls after a PENDING. Default: 10.
    pub max_polls: u32,
    /// Maximum time from the first request to the last poll. Default: 24 hours.
    pub max_poll_duration: Duration,
    /// Time between polls. Default: 60 seconds.
    pub poll_interval: Duration,
}

impl ClientConfig {
    /// The defaults described on each field, for the CA at `scep_path`.
    pub fn new(scep_path: impl Into<String>) -> Self {
        ClientConfig {
            scep_path: scep_path.into(),
            ca_identifier: None,
            ca_pin: None,
            policy: Policy::new(),
            decrypt: DecryptOptions::default(),
            require_sender_nonce: false,
            require_subject_match: false,
            max_polls: 10,
            max_poll_duration: Duration::from_secs(24 * 3600),
            poll_interval: Duration::from_secs(60),
        }
    }
}

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

fn is_self_issued(cert: &Certificate) -> bool {
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

/// A signing identity: a certificate and the key it certifies.
pub struct Identity<'k> {
    key: &'k dyn MessageSigner,
    certificate: Certificate,
}

impl core::fmt::Debug for Identity<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Identity")
            .field("certificate", &self.certificate.tbs_certificate().subject())
            .finish_non_exhaustive()
    }
}

impl<'k> Identity<'k> {
    /// An identity from a certificate and its key; the key must be the certificate's.
    pub fn new(certificate: Certificate, key: &'k dyn MessageSigner) -> Result<Self> {
        if !certifies_key(&certificate, &key.public_key_info()?) {
            return Err(Error::key(
                "the signing key does not belong to the signing certificate",
            ));
        }
        Ok(Identity { key, certificate })
    }

    /// An identity from parts that may be missing (command-line options, configuration):
    /// a certificate without its key, or a key without its certificate, is an
    /// [`Error::Key`] saying which is missing.
    pub fn from_parts(
        certificate: Option<Certificate>,
        key: Option<&'k dyn MessageSigner>,
    ) -> Result<Self> {
        match (certificate, key) {
            (Some(c), Some(k)) => Identity::new(c, k),
            (Some(_), None) => Err(Error::key(
                "a signing certificate was given without its key",
            )),
            (None, Some(_)) => Err(Error::key(
                "a signing key was given without its certificate",
            )),
            (None, None) => Err(Error::key("no signing certificate and key were given")),
        }
    }

    /// A fresh self-signed identity for `key` (RFC 8894 section 2.3), valid from `now`
    /// for `validity`.
    pub fn self_signed<R: CryptoRng + ?Sized>(
        key: &'k dyn MessageSigner,
        subject: &Name,
        now: SystemTime,
        validity: Duration,
        rng: &mut R,
    ) -> Result<Self> {
        let not_after = now
            .checked_add(validity)
            .ok_or_else(|| Error::encode("validity", "too long"))?;
        let certificate = crate::csr::self_signed_certificate(key, subject, now, not_after, rng)?;
        Ok(Identity { key, certificate })
    }

    /// The certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The key.
    pub fn key(&self) -> &'k dyn MessageSigner {
        self.key
    }
}

/// The outcome of an enrolment step.
// One per transaction step: boxing the certificate would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The certificate was issued.
    Issued {
        /// The certificate for our key.
        certificate: Certificate,
        /// The other certificates of the CertRep (chain), in the order received.
        chain: Vec<Certificate>,
    },
    /// The CA answered PENDING; poll again at `next_poll` (see
    /// [`Enrollment::poll_timeout`]).
    Pending {
        /// When the next CertPoll is due.
        next_poll: SystemTime,
    },
    /// The CA refused.
    Failed {
        /// Why.
        fail_info: FailInfo,
        /// The CA's explanation, if any.
        fail_info_text: Option<String>,
    },
}

/// The state of an enrolment that [`Enrollment::save`] writes, as DER.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct SavedEnrollment {
    version: u8,
    transaction_id: OctetString,
    message_type: u32,
    csr: CertReq,
    signer_certificate: Certificate,
    recipient: Certificate,
    signers: Vec<Certificate>,
    ca_subject: Name,
    cipher: ObjectIdentifier,
    digest: ObjectIdentifier,
    use_post: bool,
    scep_path: OctetString,
    polls: u32,
    /// Times and durations in nanoseconds (since 1970 for times; 0 = none).
    started: u64,
    next_poll: u64,
    max_polls: u32,
    max_poll_duration: u64,
    poll_interval: u64,
    require_sender_nonce: bool,
    require_subject_match: bool,
    allow_insecure_single_des: bool,
}

/// An enrolment transaction: PKCSReq or RenewalReq, then CertPoll while PENDING.
///
/// It holds no key: pass the signer to [`Enrollment::poll_request`] and the decryption key
/// to [`Enrollment::handle_response`], so keys can stay in an HSM and the state can be
/// saved ([`Enrollment::save`]) and restored after a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    transaction_id: TransactionId,
    message_type: MessageType,
    csr: CertReq,
    signer_certificate: Certificate,
    recipient: Certificate,
    signers: Vec<Certificate>,
    ca_subject: Name,
    cipher: ContentCipher,
    digest: DigestAlgorithm,
    use_post: bool,
    scep_path: String,
    polls: u32,
    started: SystemTime,
    next_poll: Option<SystemTime>,
    outstanding: Option<(Nonce, MessageType)>,
    max_polls: u32,
    max_poll_duration: Duration,
    poll_interval: Duration,
    require_sender_nonce: bool,
    require_subject_match: bool,
    decrypt: DecryptOptions,
}

/// Whether an enrolment asks for a new certificate or renews one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnrollmentKind {
    /// A PKCSReq signed with a self-signed certificate.
    Initial,
    /// A renewal signed with the existing certificate: RenewalReq when the CA announces
    /// `Renewal`, otherwise a PKCSReq signed with the existing certificate (what sscep does
    /// with its `-O`/`-K` options, and what certmonger sends).
    Renewal,
}

impl Enrollment {
    /// Starts an enrolment with the CA `ca` for `csr`, signed by `identity`, at `now`.
    ///
    /// The transactionID is derived from the CSR's public key (hex SHA-256 of the
    /// SubjectPublicKeyInfo), so a restarted client that lost its state still asks under
    /// the same ID.
    pub fn new(
        ca: &CaInfo,
        config: &ClientConfig,
        kind: EnrollmentKind,
        csr: CertReq,
        identity: &Identity<'_>,
        now: SystemTime,
    ) -> Result<Self> {
        let message_type = match kind {
            EnrollmentKind::Renewal if ca.negotiated.renewal => MessageType::RenewalReq,
            _ => MessageType::PkcsReq,
        };
        let spki = csr
            .info
            .public_key
            .to_der()
            .map_err(|e| Error::encode("SubjectPublicKeyInfo", e))?;
        Ok(Enrollment {
            transaction_id: TransactionId::from_public_key(&spki),
            message_type,
            csr,
            signer_certificate: identity.certificate.clone(),
            recipient: ca.recipient.clone(),
            signers: ca.signers.clone(),
            ca_subject: ca.ca.tbs_certificate().subject().clone(),
            cipher: ca.negotiated.cipher,
            digest: ca.negotiated.digest,
            use_post: ca.negotiated.use_post,
            scep_path: config.scep_path.clone(),
            polls: 0,
            started: now,
            next_poll: None,
            outstanding: None,
            max_polls: config.max_polls,
            max_poll_duration: config.max_poll_duration,
            poll_interval: config.poll_interval,
            require_sender_nonce: config.require_sender_nonce,
            require_subject_match: config.require_subject_match,
            decrypt: config.decrypt,
        })
    }

    /// The transactionID.
    pub fn transaction_id(&self) -> &TransactionId {
        &self.transaction_id
    }

    /// The message type of the initial request (PKCSReq or RenewalReq).
    pub fn message_type(&self) -> MessageType {
        self.message_type
    }

    /// Changes the polling limits (e.g. to resume a transaction that reached them):
    /// at most `max_polls` CertPolls in all, until `max_poll_duration` after the first
    /// request.
    pub fn set_poll_limits(&mut self, max_polls: u32, max_poll_duration: Duration) {
        self.max_polls = max_polls;
        self.max_poll_duration = max_poll_duration;
    }

    /// The number of CertPolls sent so far.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// When the next request is due: `None` while a request is outstanding or once the
    /// first request has not been sent (send it now).
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        if self.outstanding.is_some() {
            None
        } else {
            self.next_poll
        }
    }

    /// The request to send now: the initial request, or a CertPoll once the poll time has
    /// come; `None` when a request is outstanding or the next poll is not yet due.
    ///
    /// `signer` must be the key of the identity the enrolment was started with.
    pub fn poll_request<R: CryptoRng + ?Sized>(
        &mut self,
        signer: &dyn MessageSigner,
        now: SystemTime,
        rng: &mut R,
    ) -> Result<Option<HttpRequest>> {
        if self.outstanding.is_some() {
            return Ok(None);
        }
        let (message_type, content) = match self.next_poll {
            None if self.polls == 0 => (
                self.message_type,
                if self.message_type == MessageType::RenewalReq {
                    RequestContent::RenewalReq(self.csr.clone())
                } else {
                    RequestContent::PkcsReq(self.csr.clone())
                },
            ),
            Some(due) if due <= now => (
                MessageType::CertPoll,
                RequestContent::CertPoll(IssuerAndSubject {
                    issuer: self.ca_subject.clone(),
                    subject: self.csr.info.subject.clone(),
                }),
            ),
            _ => return Ok(None),
        };
        if !certifies_key(&self.signer_certificate, &signer.public_key_info()?) {
            return Err(Error::key(
                "the signing key does not belong to the signing certificate",
            ));
        }
        let request = OutgoingRequest {
            transaction_id: self.transaction_id.clone(),
            sender_nonce: Nonce::generate(rng),
            content,
        };
        let mut params = SealParams::new(signer, &self.signer_certificate);
        params.cipher = self.cipher;
        params.digest = self.digest;
        let sealed = request.seal(&params, Recipient::Certificate(&self.recipient), rng)?;
        let http = HttpRequest::new(
            &self.scep_path,
            &Operation::PkiOperation { message: sealed },
            if self.use_post {
                Method::Post
            } else {
                Method::Get
            },
        )?;
        if message_type == MessageType::CertPoll {
            self.polls = self.polls.saturating_add(1);
        }
        self.outstanding = Some((request.sender_nonce, message_type));
        Ok(Some(http))
    }

    /// Takes the HTTP answer to the outstanding request at `now`. `key` decrypts a SUCCESS:
    /// the signer's key, or [`EnvelopeKey::Password`] with the challenge password when the
    /// key cannot decrypt (ECDSA).
    ///
    /// A transport or verification error leaves the request outstanding-free, so the same
    /// step can be retried with [`Enrollment::poll_request`].
    pub fn handle_response(
        &mut self,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        key: EnvelopeKey<'_>,
        now: SystemTime,
    ) -> Result<Outcome> {
        let (nonce, sent) = self
            .outstanding
            .take()
            .ok_or(ProtocolError::UnexpectedResponse(
                "no request is outstanding",
            ))?;
        let result = self.read_cert_rep(status, content_type, body, &nonce, key);
        let content = match result {
            Ok(c) => c,
            Err(e) => {
                // Allow a retry of the same step.
                if sent == MessageType::CertPoll {
                    self.polls = self.polls.saturating_sub(1);
                }
                return Err(e);
            }
        };
        match content {
            CertRepContent::Success { certificates, .. } => {
                let ours = certificates.iter().position(|c| {
                    certifies_key(c, &self.csr.info.public_key)
                        && !is_self_issued(c)
                        && (!self.require_subject_match
                            || c.tbs_certificate().subject() == &self.csr.info.subject)
                });
                let Some(index) = ours else {
                    return Err(ProtocolError::NoIssuedCertificate.into());
                };
                let mut chain = certificates;
                let certificate = chain.remove(index);
                self.next_poll = None;
                Ok(Outcome::Issued { certificate, chain })
            }
            CertRepContent::Failure {
                fail_info,
                fail_info_text,
            } => {
                self.next_poll = None;
                Ok(Outcome::Failed {
                    fail_info,
                    fail_info_text,
                })
            }
            CertRepContent::Pending => {
                let next_poll = now.checked_add(self.poll_interval).unwrap_or(now);
                // Recorded even when a limit is reached, so that a saved state resumes
                // with a CertPoll (after [`Enrollment::set_poll_limits`]).
                self.next_poll = Some(next_poll);
                if self.polls >= self.max_polls {
                    return Err(PolicyError::PollLimitReached { polls: self.polls }.into());
                }
                let elapsed = now.duration_since(self.started).unwrap_or_default();
                if elapsed >= self.max_poll_duration {
                    return Err(PolicyError::PollTimeExceeded.into());
                }
                Ok(Outcome::Pending { next_poll })
            }
        }
    }

    fn read_cert_rep(
        &self,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        nonce: &Nonce,
        key: EnvelopeKey<'_>,
    ) -> Result<CertRepContent> {
        let verified = verify_cert_rep(
            status,
            content_type,
            body,
            &self.signers,
            &self.decrypt.limits,
        )?;
        verified.check_reply(&self.transaction_id, nonce, self.require_sender_nonce)?;
        verified.cert_rep(key, &self.decrypt)
    }

    /// Writes the state (DER), to resume after a restart with [`Enrollment::restore`].
    /// An outstanding request is not saved: after a restore the client polls again.
    pub fn save(&self) -> Result<Vec<u8>> {
        // Nanoseconds since 1970 fit a u64 until the year 2554.
        let secs = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .ok()
                .and_then(|d| u64::try_from(d.as_nanos()).ok())
                .unwrap_or(0)
        };
        let octets = |s: &str| {
            OctetString::new(s.as_bytes()).map_err(|e| Error::encode("saved enrolment", e))
        };
        // An outstanding initial request becomes a poll due now.
        let next_poll = match (&self.outstanding, self.next_poll) {
            (Some(_), _) if self.polls == 0 && self.next_poll.is_none() => 0,
            (_, Some(t)) => secs(t).max(1),
            (_, None) => 0,
        };
        SavedEnrollment {
            version: 1,
            transaction_id: octets(self.transaction_id.as_str())?,
            message_type: self.message_type.value(),
            csr: self.csr.clone(),
            signer_certificate: self.signer_certificate.clone(),
            recipient: self.recipient.clone(),
            signers: self.signers.clone(),
            ca_subject: self.ca_subject.clone(),
            cipher: self.cipher.oid(),
            digest: self.digest.oid(),
            use_post: self.use_post,
            scep_path: octets(&self.scep_path)?,
            polls: self.polls,
            started: secs(self.started),
            next_poll,
            max_polls: self.max_polls,
            max_poll_duration: u64::try_from(self.max_poll_duration.as_nanos()).unwrap_or(u64::MAX),
            poll_interval: u64::try_from(self.poll_interval.as_nanos()).unwrap_or(u64::MAX),
            require_sender_nonce: self.require_sender_nonce,
            require_subject_match: self.require_subject_match,
            allow_insecure_single_des: self.decrypt.allow_insecure_single_des,
        }
        .to_der()
        .map_err(|e| Error::encode("saved enrolment", e))
    }

    /// Restores a state written by [`Enrollment::save`].
    pub fn restore(saved: &[u8]) -> Result<Self> {
        let s =
            SavedEnrollment::from_der(saved).map_err(|e| Error::decode("saved enrolment", e))?;
        if s.version != 1 {
            return Err(Error::decode("saved enrolment", "unknown version"));
        }
        let text = |o: &OctetString| {
            String::from_utf8(o.as_bytes().to_vec())
                .map_err(|e| Error::decode("saved enrolment", e))
        };
        let time = |nanos: u64| SystemTime::UNIX_EPOCH.checked_add(Duration::from_nanos(nanos));
        let decrypt = DecryptOptions {
            allow_insecure_single_des: s.allow_insecure_single_des,
            ..DecryptOptions::default()
        };
        Ok(Enrollment {
            transaction_id: TransactionId::new(text(&s.transaction_id)?)?,
            message_type: MessageType::from_value(s.message_type),
            csr: s.csr,
            signer_certificate: s.signer_certificate,
            recipient: s.recipient,
            signers: s.signers,
            ca_subject: s.ca_subject,
            cipher: ContentCipher::from_oid("saved enrolment cipher", &s.cipher)?,
            digest: DigestAlgorithm::from_oid("saved enrolment digest", &s.digest)?,
            use_post: s.use_post,
            scep_path: text(&s.scep_path)?,
            polls: s.polls,
            started: time(s.started).unwrap_or(SystemTime::UNIX_EPOCH),
            next_poll: if s.next_poll == 0 {
                None
            } else {
                time(s.next_poll)
            },
            outstanding: None,
            max_polls: s.max_polls,
            max_poll_duration: Duration::from_nanos(s.max_poll_duration),
            poll_interval: Duration::from_nanos(s.poll_interval),
            require_sender_nonce: s.require_sender_nonce,
            require_subject_match: s.require_subject_match,
            decrypt,
        })
    }
}

/// Checks the HTTP answer to a PKIOperation and verifies the CertRep against `signers`
/// only: a message signed by a certificate it brings along itself is refused with
/// [`CryptoError::UntrustedSigner`].
fn verify_cert_rep(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    signers: &[Certificate],
    limits: &Limits,
) -> Result<VerifiedMessage> {
    let body = http::check_response(OperationKind::PkiOperation, status, content_type, body)?;
    let verified = PkiMessage::decode(body, limits)?.verify(signers)?;
    if !signers.contains(verified.signer()) {
        return Err(CryptoError::UntrustedSigner.into());
    }
    Ok(verified)
}

/// What a GetCert or GetCRL returned.
// One per exchange: boxing the CRL would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryOutcome {
    /// GetCert: the certificates of the CertRep (the requested one among them).
    Certificates(Vec<Certificate>),
    /// GetCRL: the CRL.
    Crl(CertificateList),
    /// The CA answered PENDING (unusual for these operations).
    Pending,
    /// The CA refused.
    Failed {
        /// Why.
        fail_info: FailInfo,
        /// The CA's explanation, if any.
        fail_info_text: Option<String>,
    },
}

/// A GetCert or GetCRL exchange: one request, one CertRep.
#[derive(Debug, Clone)]
pub struct Query {
    transaction_id: TransactionId,
    sender_nonce: Nonce,
    kind: MessageType,
    signers: Vec<Certificate>,
    require_sender_nonce: bool,
    decrypt: DecryptOptions,
}

impl Query {
    /// GetCert for the certificate `issuer_and_serial`, signed by `identity`.
    pub fn get_cert<R: CryptoRng + ?Sized>(
        ca: &CaInfo,
        config: &ClientConfig,
        issuer_and_serial: IssuerAndSerialNumber,
        identity: &Identity<'_>,
        rng: &mut R,
    ) -> Result<(Self, HttpRequest)> {
        Query::start(
            ca,
            config,
            RequestContent::GetCert(issuer_and_serial),
            identity,
            rng,
        )
    }

    /// GetCRL for the certificate `issuer_and_serial` (the CRL that would list it),
    /// signed by `identity`.
    pub fn get_crl<R: CryptoRng + ?Sized>(
        ca: &CaInfo,
        config: &ClientConfig,
        issuer_and_serial: IssuerAndSerialNumber,
        identity: &Identity<'_>,
        rng: &mut R,
    ) -> Result<(Self, HttpRequest)> {
        Query::start(
            ca,
            config,
            RequestContent::GetCrl(issuer_and_serial),
            identity,
            rng,
        )
    }

    fn start<R: CryptoRng + ?Sized>(
        ca: &CaInfo,
        config: &ClientConfig,
        content: RequestContent,
        identity: &Identity<'_>,
        rng: &mut R,
    ) -> Result<(Self, HttpRequest)> {
        let kind = content.message_type();
        let request = OutgoingRequest {
            transaction_id: TransactionId::random(rng),
            sender_nonce: Nonce::generate(rng),
            content,
        };
        let mut params = SealParams::new(identity.key, &identity.certificate);
        params.cipher = ca.negotiated.cipher;
        params.digest = ca.negotiated.digest;
        let sealed = request.seal(&params, Recipient::Certificate(&ca.recipient), rng)?;
        let http = HttpRequest::new(
            &config.scep_path,
            &Operation::PkiOperation { message: sealed },
            ca.negotiated.method(),
        )?;
        Ok((
            Query {
                transaction_id: request.transaction_id,
                sender_nonce: request.sender_nonce,
                kind,
                signers: ca.signers.clone(),
                require_sender_nonce: config.require_sender_nonce,
                decrypt: config.decrypt,
            },
            http,
        ))
    }

    /// Takes the answer. `key` decrypts a SUCCESS (see [`Enrollment::handle_response`]).
    pub fn handle_response(
        self,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        key: EnvelopeKey<'_>,
    ) -> Result<QueryOutcome> {
        let verified = verify_cert_rep(
            status,
            content_type,
            body,
            &self.signers,
            &self.decrypt.limits,
        )?;
        verified.check_reply(
            &self.transaction_id,
            &self.sender_nonce,
            self.require_sender_nonce,
        )?;
        match verified.cert_rep(key, &self.decrypt)? {
            CertRepContent::Success { certificates, crls } => {
                if self.kind == MessageType::GetCrl {
                    crls.into_iter().next().map(QueryOutcome::Crl).ok_or(
                        ProtocolError::UnexpectedContent("the GetCRL answer holds no CRL").into(),
                    )
                } else {
                    Ok(QueryOutcome::Certificates(certificates))
                }
            }
            CertRepContent::Failure {
                fail_info,
                fail_info_text,
            } => Ok(QueryOutcome::Failed {
                fail_info,
                fail_info_text,
            }),
            CertRepContent::Pending => Ok(QueryOutcome::Pending),
        }
    }
}

/// The GetNextCACert request. [`PolicyError::NotSupportedByCa`] when the CA does not
/// announce `GetNextCACert`.
pub fn next_ca_request(ca: &CaInfo, config: &ClientConfig) -> Result<HttpRequest> {
    if !ca.negotiated.get_next_ca_cert {
        return Err(PolicyError::NotSupportedByCa("GetNextCACert").into());
    }
    HttpRequest::new(
        &config.scep_path,
        &Operation::GetNextCaCert {
            message: config.ca_identifier.clone(),
        },
        Method::Get,
    )
}

/// Reads a GetNextCACert answer: it must be signed by the current CA (or one of its
/// signers); returns the next CA certificates.
pub fn handle_next_ca_response(
    ca: &CaInfo,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    limits: &Limits,
) -> Result<NextCaCertificates> {
    let body = http::check_response(OperationKind::GetNextCaCert, status, content_type, body)?;
    let mut trusted = ca.signers.clone();
    if !trusted.contains(&ca.ca) {
        trusted.push(ca.ca.clone());
    }
    NextCaCertificates::open(body, &trusted, limits)
}
