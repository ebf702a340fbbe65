//! Enrolment: PKCSReq or RenewalReq, then CertPoll while PENDING; saved and restored.

use std::time::{Duration, SystemTime};

use der::asn1::{Null, ObjectIdentifier, OctetString};
use der::{Choice, Decode, Encode, Sequence};
use rand_core::CryptoRng;

use super::{CaInfo, ClientConfig, ExpectedReply, read_cert_rep};
use crate::asn1::{CertReq, Certificate};
use crate::cert::Identity;
use crate::cert::{certifies_key, verify_issued_by_allowing};
use crate::error::{Element, Error, PolicyError, ProtocolError, Result};
use crate::http::{HttpReply, HttpRequest, Method, Operation};
use crate::message::{
    CertRepContent, IssuerAndSubject, OutgoingRequest, RequestContent, SealParams,
};
use crate::pipeline::{
    ContentCipher, DecryptOptions, DigestAlgorithm, EnvelopeKey, MessageSigner, Recipient,
};
use crate::types::{FailInfo, MessageType, Nonce, TransactionId};

/// The outcome of an enrolment step.
// One per transaction step: boxing the certificate would buy nothing.
#[expect(clippy::large_enum_variant)]
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

/// The state of an enrolment that [`Enrollment::save`] writes, as DER: the transaction
/// (what was negotiated, the request, who signs it and who answers it) and where it is.
/// The policy (limits, strictness) is not saved: [`Enrollment::restore`] takes it from the
/// client's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct SavedEnrollment {
    version: u8,
    transaction_id: OctetString,
    message_type: u32,
    csr: CertReq,
    signer_certificate: Certificate,
    recipient: Certificate,
    signers: Vec<Certificate>,
    ca: Certificate,
    cipher: ObjectIdentifier,
    digest: ObjectIdentifier,
    use_post: bool,
    scep_path: OctetString,
    /// Requests sent (the first, then the polls).
    requests: u32,
    /// Nanoseconds since 1970.
    started: u64,
    state: SavedState,
}

/// Where a saved enrolment is. A request that was out when the state was saved is saved
/// as the step that sent it: after a restore it is sent again.
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
enum SavedState {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", constructed = "true")]
    Initial(Null),
    /// A CertPoll is due at this time (nanoseconds since 1970).
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    Pending(u64),
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    Done(Null),
}

/// The version of [`SavedEnrollment`] this crate writes (1 had loose fields and sentinel
/// times; it is not read).
const SAVED_VERSION: u8 = 2;

/// Where an enrolment is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// The initial request is to be sent (first, or again after an answer that could
    /// not be used).
    Initial,
    /// A request is out: its senderNonce, and the step that sent it (to return to when
    /// its answer cannot be used).
    Awaiting { nonce: Nonce, sent: Step },
    /// The CA answered PENDING: the next CertPoll is due at `next_poll`.
    Pending { next_poll: SystemTime },
    /// The CA issued the certificate or refused: nothing more is sent.
    Done,
}

/// What an outstanding request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Initial,
    Poll { due: SystemTime },
}

impl Step {
    fn state(self) -> State {
        match self {
            Self::Initial => State::Initial,
            Self::Poll { due } => State::Pending { next_poll: due },
        }
    }
}

/// An enrolment transaction: PKCSReq or RenewalReq, then CertPoll while PENDING.
///
/// It holds no key: pass the signer to [`Enrollment::poll_request`] and the decryption key
/// to [`Enrollment::handle_response`], so keys can stay in an HSM and the state can be
/// saved ([`Enrollment::save`]) and restored after a restart.
///
/// Every request after the first (a CertPoll, or the initial request sent again after an
/// answer that could not be used) counts as a poll: at most
/// [`ClientConfig::max_polls`] are sent, and none after
/// [`ClientConfig::max_poll_duration`] from the start. Once the CA has issued the
/// certificate or refused, nothing more is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    transaction_id: TransactionId,
    message_type: MessageType,
    csr: CertReq,
    signer_certificate: Certificate,
    recipient: Certificate,
    signers: Vec<Certificate>,
    ca: Certificate,
    cipher: ContentCipher,
    digest: DigestAlgorithm,
    use_post: bool,
    scep_path: String,
    /// Requests sent so far (the first, then the polls).
    sent: u32,
    started: SystemTime,
    state: State,
    rules: Rules,
}

/// What an enrolment takes from the client's configuration, and does not save.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rules {
    max_polls: u32,
    max_poll_duration: Duration,
    poll_interval: Duration,
    require_sender_nonce: bool,
    require_subject_match: bool,
    allowed_digests: Vec<DigestAlgorithm>,
    decrypt: DecryptOptions,
}

impl Rules {
    fn of(config: &ClientConfig) -> Self {
        Self {
            max_polls: config.max_polls,
            max_poll_duration: config.max_poll_duration,
            poll_interval: config.poll_interval,
            require_sender_nonce: config.require_sender_nonce,
            require_subject_match: config.require_subject_match,
            allowed_digests: config.policy.allowed_digests.clone(),
            decrypt: config.decrypt,
        }
    }
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
        identity: &Identity,
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
            .map_err(|e| Error::encode(Element::SubjectPublicKeyInfo, e))?;
        Ok(Self {
            transaction_id: TransactionId::from_public_key(&spki),
            message_type,
            csr,
            signer_certificate: identity.certificate().clone(),
            recipient: ca.recipient.clone(),
            signers: ca.signers.clone(),
            ca: ca.ca.clone(),
            cipher: ca.negotiated.cipher,
            digest: ca.negotiated.digest,
            use_post: ca.negotiated.use_post,
            scep_path: config.scep_path.clone(),
            sent: 0,
            started: now,
            state: State::Initial,
            rules: Rules::of(config),
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

    /// The certificate the requests are signed with.
    pub fn signer_certificate(&self) -> &Certificate {
        &self.signer_certificate
    }

    /// Changes the polling limits (e.g. to resume a transaction that reached them):
    /// at most `max_polls` polls in all, until `max_poll_duration` after the first
    /// request.
    pub fn set_poll_limits(&mut self, max_polls: u32, max_poll_duration: Duration) {
        self.rules.max_polls = max_polls;
        self.rules.max_poll_duration = max_poll_duration;
    }

    /// The number of polls sent so far (every request after the first).
    pub fn polls(&self) -> u32 {
        self.sent.saturating_sub(1)
    }

    /// Whether the enrolment is over: the CA issued the certificate or refused.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// When the next request is due: `None` while a request is outstanding, before the
    /// first request (send it now) and once the enrolment is over.
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        match self.state {
            State::Pending { next_poll } => Some(next_poll),
            _ => None,
        }
    }

    /// Checks the polling limits for one more poll at `now`.
    fn check_poll_limits(&self, now: SystemTime) -> Result<()> {
        let polls = self.polls();
        if polls >= self.rules.max_polls {
            return Err(PolicyError::PollLimitReached { polls }.into());
        }
        if now.duration_since(self.started).unwrap_or_default() >= self.rules.max_poll_duration {
            return Err(PolicyError::PollTimeExceeded.into());
        }
        Ok(())
    }

    /// The request to send now: the initial request, or a CertPoll once the poll time has
    /// come; `None` when a request is outstanding, the next poll is not yet due, or the
    /// enrolment is over.
    ///
    /// `signer` must be the key of the identity the enrolment was started with.
    ///
    /// # Errors
    ///
    /// [`PolicyError::PollLimitReached`] or [`PolicyError::PollTimeExceeded`] when one
    /// more poll would exceed [`ClientConfig::max_polls`] or
    /// [`ClientConfig::max_poll_duration`] (see [`Enrollment::set_poll_limits`]).
    pub fn poll_request<R: CryptoRng + ?Sized>(
        &mut self,
        signer: &dyn MessageSigner,
        now: SystemTime,
        rng: &mut R,
    ) -> Result<Option<HttpRequest>> {
        let step = match self.state {
            State::Awaiting { .. } | State::Done => return Ok(None),
            State::Pending { next_poll } if next_poll > now => return Ok(None),
            State::Pending { next_poll } => Step::Poll { due: next_poll },
            State::Initial => Step::Initial,
        };
        if self.sent > 0 {
            self.check_poll_limits(now)?;
        }
        if !certifies_key(&self.signer_certificate, &signer.public_key_info()?) {
            return Err(Error::key(
                "the signing key does not belong to the signing certificate",
            ));
        }
        let content = match step {
            Step::Initial if self.message_type == MessageType::RenewalReq => {
                RequestContent::RenewalReq(self.csr.clone())
            }
            Step::Initial => RequestContent::PkcsReq(self.csr.clone()),
            Step::Poll { .. } => RequestContent::CertPoll(IssuerAndSubject {
                issuer: self.ca.tbs_certificate().subject().clone(),
                subject: self.csr.info.subject.clone(),
            }),
        };
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
        self.sent = self.sent.saturating_add(1);
        self.state = State::Awaiting {
            nonce: request.sender_nonce,
            sent: step,
        };
        Ok(Some(http))
    }

    /// Takes the HTTP answer to the outstanding request at `now`. `key` decrypts a SUCCESS:
    /// the signer's key, or [`EnvelopeKey::Password`] with the challenge password when the
    /// key cannot decrypt (ECDSA).
    ///
    /// An answer that cannot be used (a transport error, a CertRep that does not verify or
    /// does not answer our request) is an error and returns the enrolment to the step that
    /// sent the request, which [`Enrollment::poll_request`] may send again, within the
    /// polling limits. A SUCCESS must hold a certificate for our key issued by the CA
    /// (checked under its key), else [`ProtocolError::NoIssuedCertificate`]. A PENDING
    /// when no further poll is allowed is the polling-limit error (the state is kept, so
    /// that [`Enrollment::set_poll_limits`] can resume it).
    pub fn handle_response(
        &mut self,
        reply: HttpReply<'_>,
        key: EnvelopeKey<'_>,
        now: SystemTime,
    ) -> Result<Outcome> {
        let State::Awaiting { nonce, sent } = &self.state else {
            return Err(ProtocolError::UnexpectedResponse("no request is outstanding").into());
        };
        let (nonce, sent) = (nonce.clone(), *sent);
        let outcome = self
            .read_cert_rep(reply, &nonce, key)
            .and_then(|content| self.outcome(content, now));
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                self.state = sent.state();
                return Err(e);
            }
        };
        match &outcome {
            Outcome::Issued { .. } | Outcome::Failed { .. } => self.state = State::Done,
            Outcome::Pending { next_poll } => {
                self.state = State::Pending {
                    next_poll: *next_poll,
                };
                self.check_poll_limits(*next_poll)?;
            }
        }
        Ok(outcome)
    }

    fn outcome(&self, content: CertRepContent, now: SystemTime) -> Result<Outcome> {
        match content {
            CertRepContent::Success { certificates, .. } => {
                let ca = self.ca.tbs_certificate();
                let mut refused = None;
                let ours = certificates.iter().position(|c| {
                    if !certifies_key(c, &self.csr.info.public_key)
                        || c.tbs_certificate().issuer() != ca.subject()
                        || (self.rules.require_subject_match
                            && c.tbs_certificate().subject() != &self.csr.info.subject)
                    {
                        return false;
                    }
                    match verify_issued_by_allowing(
                        c,
                        ca.subject_public_key_info(),
                        &self.rules.allowed_digests,
                    ) {
                        Ok(()) => true,
                        Err(e @ Error::Policy(_)) => {
                            refused = Some(e);
                            false
                        }
                        Err(_) => false,
                    }
                });
                let Some(index) = ours else {
                    return Err(refused.unwrap_or(ProtocolError::NoIssuedCertificate.into()));
                };
                let mut chain = certificates;
                let certificate = chain.remove(index);
                Ok(Outcome::Issued { certificate, chain })
            }
            CertRepContent::Failure {
                fail_info,
                fail_info_text,
            } => Ok(Outcome::Failed {
                fail_info,
                fail_info_text,
            }),
            CertRepContent::Pending => Ok(Outcome::Pending {
                next_poll: now.checked_add(self.rules.poll_interval).unwrap_or(now),
            }),
        }
    }

    fn read_cert_rep(
        &self,
        reply: HttpReply<'_>,
        nonce: &Nonce,
        key: EnvelopeKey<'_>,
    ) -> Result<CertRepContent> {
        let expected = ExpectedReply {
            signers: &self.signers,
            allowed_digests: &self.rules.allowed_digests,
            transaction_id: &self.transaction_id,
            sender_nonce: nonce,
            require_sender_nonce: self.rules.require_sender_nonce,
            decrypt: &self.rules.decrypt,
        };
        read_cert_rep(reply, &expected, key)
    }

    /// Writes the state (DER), to resume after a restart with [`Enrollment::restore`]:
    /// the transaction and where it is. A request that is out is saved as the step that
    /// sent it (after a restore it is sent again, as a poll). The policy is not saved.
    ///
    /// The state holds the CSR, and with it the challenge password in clear (a PKCSReq
    /// sent again after a restore needs it): store it as a secret, as the key is, and wipe
    /// the buffer (`zeroize`) once written.
    pub fn save(&self) -> Result<Vec<u8>> {
        let octets = |s: &str| {
            OctetString::new(s.as_bytes()).map_err(|e| Error::encode(Element::SavedEnrolment, e))
        };
        let state = match &self.state {
            State::Initial
            | State::Awaiting {
                sent: Step::Initial,
                ..
            } => SavedState::Initial(Null),
            State::Pending { next_poll: due }
            | State::Awaiting {
                sent: Step::Poll { due },
                ..
            } => SavedState::Pending(nanos(*due)?),
            State::Done => SavedState::Done(Null),
        };
        SavedEnrollment {
            version: SAVED_VERSION,
            transaction_id: octets(self.transaction_id.as_str())?,
            message_type: self.message_type.value(),
            csr: self.csr.clone(),
            signer_certificate: self.signer_certificate.clone(),
            recipient: self.recipient.clone(),
            signers: self.signers.clone(),
            ca: self.ca.clone(),
            cipher: self.cipher.oid(),
            digest: self.digest.oid(),
            use_post: self.use_post,
            scep_path: octets(&self.scep_path)?,
            requests: self.sent,
            started: nanos(self.started)?,
            state,
        }
        .to_der()
        .map_err(|e| Error::encode(Element::SavedEnrolment, e))
    }

    /// Restores a state written by [`Enrollment::save`], under the policy of `config`
    /// (polling limits, strictness, digests, decryption options).
    pub fn restore(saved: &[u8], config: &ClientConfig) -> Result<Self> {
        let s = SavedEnrollment::from_der(saved)
            .map_err(|e| Error::decode(Element::SavedEnrolment, e))?;
        if s.version != SAVED_VERSION {
            return Err(Error::decode(
                Element::SavedEnrolment,
                format_args!("version {} (this crate reads {SAVED_VERSION})", s.version),
            ));
        }
        let text = |o: &OctetString| {
            String::from_utf8(o.as_bytes().to_vec())
                .map_err(|e| Error::decode(Element::SavedEnrolment, e))
        };
        let time = |nanos: u64| {
            SystemTime::UNIX_EPOCH
                .checked_add(Duration::from_nanos(nanos))
                .ok_or_else(|| Error::decode(Element::SavedEnrolment, "a time out of range"))
        };
        let message_type = MessageType::from_value(s.message_type);
        if !matches!(message_type, MessageType::PkcsReq | MessageType::RenewalReq) {
            return Err(Error::decode(
                Element::SavedEnrolment,
                format_args!("messageType {message_type} is not an enrolment"),
            ));
        }
        let state = match s.state {
            SavedState::Initial(_) => State::Initial,
            SavedState::Pending(due) => State::Pending {
                next_poll: time(due)?,
            },
            SavedState::Done(_) => State::Done,
        };
        Ok(Self {
            transaction_id: TransactionId::new(text(&s.transaction_id)?)?,
            message_type,
            csr: s.csr,
            signer_certificate: s.signer_certificate,
            recipient: s.recipient,
            signers: s.signers,
            ca: s.ca,
            cipher: ContentCipher::from_oid(Element::SavedEnrolmentCipher, &s.cipher)?,
            digest: DigestAlgorithm::from_oid(Element::SavedEnrolmentDigest, &s.digest)?,
            use_post: s.use_post,
            scep_path: text(&s.scep_path)?,
            sent: s.requests,
            started: time(s.started)?,
            state,
            rules: Rules::of(config),
        })
    }
}

/// Nanoseconds since 1970 (which fit a u64 until the year 2554).
fn nanos(t: SystemTime) -> Result<u64> {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_nanos()).ok())
        .ok_or_else(|| Error::encode(Element::SavedEnrolment, "a time before 1970 or after 2554"))
}
