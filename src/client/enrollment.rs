//! Enrolment: PKCSReq or RenewalReq, then CertPoll while PENDING; saved and restored.

use std::time::{Duration, SystemTime};

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use rand_core::CryptoRng;
use x509_cert::name::Name;

use super::discovery::is_self_issued;
use super::{CaInfo, ClientConfig, ExpectedReply, Identity, read_cert_rep};
use crate::asn1::{CertReq, Certificate};
use crate::cert::certifies_key;
use crate::error::{Error, PolicyError, ProtocolError, Result};
use crate::http::{HttpRequest, Method, Operation};
use crate::message::{
    CertRepContent, IssuerAndSubject, OutgoingRequest, RequestContent, SealParams,
};
use crate::pipeline::{
    ContentCipher, DecryptOptions, DigestAlgorithm, EnvelopeKey, MessageSigner, Recipient,
};
use crate::types::{FailInfo, MessageType, Nonce, TransactionId};

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
        let expected = ExpectedReply {
            signers: &self.signers,
            transaction_id: &self.transaction_id,
            sender_nonce: nonce,
            require_sender_nonce: self.require_sender_nonce,
            decrypt: &self.decrypt,
        };
        read_cert_rep(status, content_type, body, &expected, key)
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
