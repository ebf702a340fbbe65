//! The server role, sans I/O: an HTTP request (method, query, body) goes in, an
//! [`Incoming`] comes out — either the response to send, or a verified PKIOperation for
//! the application to decide on.
//!
//! The order matters for a server exposed to anyone: the pkiMessage is parsed and its
//! signature verified, and the senderNonce checked against a bounded replay cache, before
//! any RSA decryption. What does not verify, and a nonce seen before, is refused without
//! any private-key operation (HTTP 400); only a byte-identical retransmission can be let
//! through, with [`ServerConfig::accept_retransmissions`]. The application then looks at
//! [`Received`] (message type, transaction ID, signer certificate and
//! [`SignerKind`]: self-signed, issued by this CA and valid now — a renewal —, or other)
//! and decides whether to [`Server::decrypt`] it; it answers with [`Server::reply`], or
//! with [`Server::refuse`] for an error, which tells the peer only a failInfo and a fixed
//! text.
//!
//! ```no_run
//! # fn demo(server: &mut scep::server::Server, method: &str, query: &str, body: &[u8])
//! # -> Result<scep::http::HttpResponse, scep::Error> {
//! use scep::message::{CertRepContent, RequestContent};
//! use scep::server::{Incoming, RenewalPolicy};
//! let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
//! let now = std::time::SystemTime::now();
//! Ok(match server.handle_request(method, query, body, now, &mut rng) {
//!     Incoming::Respond(response) => response,
//!     Incoming::PkiOperation(mut received) => match server.decrypt(&mut received) {
//!         Err(e) => server.refuse(&received, &e, &mut rng)?,
//!         Ok(RequestContent::PkcsReq(csr)) if received.signed_with_csr_key(&csr) => {
//!             // check the challenge password, issue a certificate ...
//!             server.reply(&received, CertRepContent::Pending, None, &mut rng)?
//!         }
//!         Ok(RequestContent::RenewalReq(csr)) => {
//!             match received.check_renewal(&csr, &RenewalPolicy::default()) {
//!                 Err(e) => server.refuse(&received, &e, &mut rng)?,
//!                 // check revocation, issue ...
//!                 Ok(()) => server.reply(&received, CertRepContent::Pending, None, &mut rng)?,
//!             }
//!         }
//!         Ok(_) => {
//!             let refusal = CertRepContent::failure(scep::FailInfo::BadRequest, None);
//!             server.reply(&received, refusal, None, &mut rng)?
//!         }
//!     },
//! })
//! # }
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::SystemTime;

use rand_core::CryptoRng;

use crate::asn1::{CertReq, Certificate};
use crate::caps::{Capabilities, Capability};
use crate::cert::verify_issued_by;
use crate::error::{Error, PolicyError, ProtocolError, RenewalRefusal, Result};
use crate::http::{self, HttpResponse, Operation, ServerLimits};
use crate::limits::Limits;
use crate::message::{
    CaCertificates, CertRepContent, NextCaCertificates, OutgoingCertRep, PkiMessage,
    RequestContent, SealParams, VerifiedMessage,
};
use crate::oids;
use crate::pipeline::{
    ContentCipher, DecryptOptions, DigestAlgorithm, EnvelopeKey, KeyDecryptor, MessageSigner,
    Recipient,
};
use crate::types::{FailInfo, MessageType, Nonce, TransactionId};

/// What a [`ReplayCache`] knew of a senderNonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonceCheck {
    /// Not seen before (or forgotten since, or the cache is off): now recorded.
    Fresh,
    /// Seen before, with a byte-identical message: the same request sent again.
    Retransmission,
    /// Seen before with a different message: a nonce reused by another message.
    Replay,
}

/// A bounded set of recently seen values (senderNonces; for the server's own use, the
/// encryptedKeys of envelopes), each with a SHA-256 digest of the message that carried
/// it; the oldest is forgotten first. Values are kept as SHA-256 digests.
#[derive(Debug, Clone)]
pub struct ReplayCache {
    capacity: usize,
    order: VecDeque<[u8; 32]>,
    seen: HashMap<[u8; 32], [u8; 32]>,
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for p in parts {
        hasher.update(p);
    }
    hasher.finalize().into()
}

impl ReplayCache {
    /// A cache remembering up to `capacity` nonces (0 disables replay protection).
    pub fn new(capacity: usize) -> Self {
        ReplayCache {
            capacity,
            order: VecDeque::new(),
            seen: HashMap::new(),
        }
    }

    /// Checks `nonce`, carried by `message` (the pkiMessage as received), and records it
    /// when it is fresh.
    pub fn check(&mut self, nonce: &Nonce, message: &[u8]) -> NonceCheck {
        self.check_value(
            &sha256(&[b"senderNonce", nonce.as_bytes()]),
            &sha256(&[message]),
        )
    }

    /// Checks the value whose digest is `value`, carried by the message whose digest is
    /// `message`, and records it when it is fresh.
    fn check_value(&mut self, value: &[u8; 32], message: &[u8; 32]) -> NonceCheck {
        if self.capacity == 0 {
            return NonceCheck::Fresh;
        }
        if let Some(seen) = self.seen.get(value) {
            return if seen == message {
                NonceCheck::Retransmission
            } else {
                NonceCheck::Replay
            };
        }
        if self.order.len() >= self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.order.push_back(*value);
        self.seen.insert(*value, *message);
        NonceCheck::Fresh
    }
}

/// A decryption key and the certificate requests are encrypted to.
#[derive(Clone)]
pub struct DecryptionKey {
    /// The certificate clients encrypt to (CA or RA encryption certificate).
    pub certificate: Certificate,
    /// Its private key (an `Arc`, so that an HSM handle or a key shared with the CA's
    /// issuing code can be used).
    pub key: Arc<dyn KeyDecryptor + Send + Sync>,
}

/// What a server answers from configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The GetCACaps answer.
    pub capabilities: Capabilities,
    /// The GetCACert answer: one certificate is sent as `application/x-x509-ca-cert`, more
    /// as a certs-only `application/x-x509-ca-ra-cert`.
    pub ca_certificates: Vec<Certificate>,
    /// The GetNextCACert answer, during a CA rollover. It is signed once, when the
    /// [`Server`] is made, not per request.
    pub next_ca_certificates: Option<Vec<Certificate>>,
    /// HTTP request limits.
    pub http_limits: ServerLimits,
    /// Decoding limits and decryption options for requests.
    pub decrypt: DecryptOptions,
    /// How many senderNonces the replay cache remembers (default 10 000; 0 turns the
    /// replay check off).
    pub replay_cache_size: usize,
    /// How many envelopes the server remembers, by their encryptedKey (default 100 000,
    /// about 10 MB; 0 turns the check off). An encryptedKey that another message brought
    /// before is refused ([`ProtocolError::ReusedContentKey`](crate::error::ProtocolError))
    /// before the key transport: honest clients make a new content-encryption key for
    /// every message, and an attacker who replays a captured envelope with ciphertext of
    /// his choice, to learn its plaintext from how the server answers, gets one answer per
    /// envelope. The memory is this `Server`'s: it is not shared with other instances, nor
    /// kept across a restart.
    pub envelope_memory: usize,
    /// Whether a byte-identical request sent again (same senderNonce, same message) reaches
    /// the application, marked by [`Received::is_retransmission`], instead of being
    /// refused as a replay (default `false`: refused). A different message with a nonce
    /// already seen is refused either way.
    ///
    /// Turn it on for clients that answer PENDING by sending their PKCSReq again
    /// unchanged instead of polling with CertPoll and a fresh nonce (RFC 8894 section
    /// 3.3.3): micromdm's `scepclient` does, every 30 seconds. The application then
    /// answers such a request from the state of its transaction (by transaction ID), as
    /// it would a CertPoll, rather than as a new enrolment.
    pub accept_retransmissions: bool,
    /// The digest the server signs with (CertReps and the GetNextCACert answer), whatever
    /// digest a request was signed with: a requester must not choose the digest of the
    /// CA's signature over data it chose (transactionID, nonces). Default SHA-256; set
    /// SHA-1 only for clients that cannot verify anything else.
    pub digest: DigestAlgorithm,
    /// The PBKDF2 iteration count of the PasswordRecipientInfo a SUCCESS is sealed with
    /// for requesters whose key cannot decrypt (ECDSA). Default
    /// [`PBKDF2_ITERATIONS`](crate::pipeline::envelope::PBKDF2_ITERATIONS).
    pub pbkdf2_iterations: u32,
    /// Answer a PKIOperation whose signature does not verify, or a replay, with a FAILURE
    /// CertRep (badMessageCheck, badRequest) signed by the CA, as RFC 8894 section 3.3.2.2
    /// describes, instead of HTTP 400 with a plain-text reason (default `false`). Such
    /// a message is not authenticated: answering it costs a CA signature per message
    /// anyone sends, over a transactionID and nonce the sender chose.
    pub sign_unverified_failures: bool,
}

impl ServerConfig {
    /// A configuration announcing `capabilities` and answering GetCACert with
    /// `ca_certificates`; defaults for the rest.
    pub fn new(capabilities: Capabilities, ca_certificates: Vec<Certificate>) -> Self {
        ServerConfig {
            capabilities,
            ca_certificates,
            next_ca_certificates: None,
            http_limits: ServerLimits::default(),
            decrypt: DecryptOptions::default(),
            replay_cache_size: 10_000,
            envelope_memory: 100_000,
            accept_retransmissions: false,
            digest: DigestAlgorithm::Sha256,
            pbkdf2_iterations: crate::pipeline::envelope::PBKDF2_ITERATIONS,
            sign_unverified_failures: false,
        }
    }
}

/// What the server made of an HTTP request. Deliberately exhaustive: a server either
/// answers or has a request to decide on.
#[derive(Debug)]
pub enum Incoming {
    /// Send this response (GetCACaps, GetCACert, GetNextCACert, or the refusal of a
    /// PKIOperation that does not decode, does not verify or was replayed).
    Respond(HttpResponse),
    /// A verified PKIOperation for the application to decide on.
    PkiOperation(Box<Received>),
}

/// Who signed a request, as far as this CA can tell, at the time the request was
/// handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignerKind {
    /// A certificate this CA issued (its name and signature check), valid at the time the
    /// request was handled: a renewal (or re-key) signer.
    IssuedByCa,
    /// A certificate this CA issued, but expired (or not yet valid) at that time. It does
    /// not authorise a renewal.
    IssuedByCaNotValid,
    /// A self-issued certificate (issuer = subject) not issued by this CA: what a client
    /// makes for its initial enrolment (RFC 8894 section 2.3). The message signature
    /// proves the key; nothing else about the certificate is vouched for.
    SelfSigned,
    /// Any other certificate: another CA's (an MDM identity, as Apple devices sign with),
    /// or one naming this CA as issuer whose signature does not check under its key.
    Other,
}

/// What a renewal may change, checked by [`Received::check_renewal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenewalPolicy {
    /// The CSR's subject must equal the signer certificate's (default `true`): otherwise
    /// any certificate this CA issued buys a certificate for any name.
    pub require_same_subject: bool,
    /// The CSR may carry a key other than the signer certificate's, a re-key (default
    /// `false`). sscep and certmonger renew with a new key.
    pub allow_rekey: bool,
}

impl Default for RenewalPolicy {
    fn default() -> Self {
        RenewalPolicy {
            require_same_subject: true,
            allow_rekey: false,
        }
    }
}

/// A verified pkiMessage, not yet decrypted.
#[derive(Debug)]
pub struct Received {
    verified: VerifiedMessage,
    signer: SignerKind,
    retransmission: bool,
    cipher: Option<ContentCipher>,
    /// SHA-256 of the pkiMessage as received.
    message_digest: [u8; 32],
}

impl Received {
    /// The message type.
    pub fn message_type(&self) -> MessageType {
        self.verified.message().message_type()
    }

    /// The transaction ID.
    pub fn transaction_id(&self) -> &TransactionId {
        self.verified.message().transaction_id()
    }

    /// The request's senderNonce.
    pub fn sender_nonce(&self) -> Option<&Nonce> {
        self.verified.attributes().sender_nonce.as_ref()
    }

    /// The certificate that signed the request.
    pub fn signer_certificate(&self) -> &Certificate {
        self.verified.signer()
    }

    /// Who signed the request (see [`SignerKind`]).
    pub fn signer_kind(&self) -> SignerKind {
        self.signer
    }

    /// Whether the signer certificate was issued by this CA and is valid at the time the
    /// request was handled ([`SignerKind::IssuedByCa`]): a renewal or re-key signer. It
    /// says nothing of revocation: look the certificate up in the CA's records.
    pub fn signer_issued_by_ca(&self) -> bool {
        self.signer == SignerKind::IssuedByCa
    }

    /// Whether the request is signed with the key of `csr` (the signer certificate
    /// certifies the CSR's public key). A PKCSReq from a client's self-signed certificate
    /// is; a server that requires it stops a captured request from being re-signed by
    /// someone else and issued to them. Apple devices enrolling through MDM sign with an
    /// MDM identity instead, so a server for them cannot require it.
    pub fn signed_with_csr_key(&self, csr: &CertReq) -> bool {
        crate::cert::certifies_key(self.verified.signer(), &csr.info.public_key)
    }

    /// Checks a renewal (a RenewalReq, or a PKCSReq signed with an existing certificate)
    /// for `csr` under `policy`: the signer must be a certificate this CA issued, valid
    /// now ([`SignerKind::IssuedByCa`]), with the CSR's subject (unless the policy
    /// allows otherwise) and the CSR's key (unless it allows re-keying). Revocation is the
    /// CA's to check.
    ///
    /// # Errors
    ///
    /// [`PolicyError::RenewalRefused`] with the reason.
    pub fn check_renewal(&self, csr: &CertReq, policy: &RenewalPolicy) -> Result<()> {
        let refuse = |reason| Err(PolicyError::RenewalRefused(reason).into());
        match self.signer {
            SignerKind::IssuedByCa => {}
            SignerKind::IssuedByCaNotValid => return refuse(RenewalRefusal::SignerNotValid),
            _ => return refuse(RenewalRefusal::NotIssuedByCa),
        }
        let signer = self.verified.signer().tbs_certificate();
        if policy.require_same_subject && signer.subject() != &csr.info.subject {
            return refuse(RenewalRefusal::SubjectChanged);
        }
        if !policy.allow_rekey && !self.signed_with_csr_key(csr) {
            return refuse(RenewalRefusal::KeyChanged);
        }
        Ok(())
    }

    /// Whether this exact message was received before (only ever `true` with
    /// [`ServerConfig::accept_retransmissions`] on): answer it from the state of its
    /// transaction, not as a new request.
    pub fn is_retransmission(&self) -> bool {
        self.retransmission
    }

    /// The verified message, with all its attributes.
    pub fn verified(&self) -> &VerifiedMessage {
        &self.verified
    }

    /// The cipher the request's envelope used, once decrypted.
    pub fn cipher(&self) -> Option<ContentCipher> {
        self.cipher
    }
}

/// A SCEP server: configuration, the CertRep signer, the decryption keys and the replay
/// cache. Keep one for the life of the service (behind a lock when shared between
/// threads), so that the replay cache sees every request.
pub struct Server {
    config: ServerConfig,
    ca_certificate: Certificate,
    signer: Arc<dyn MessageSigner + Send + Sync>,
    signer_certificate: Certificate,
    decryption_keys: Vec<DecryptionKey>,
    replay: ReplayCache,
    /// The encryptedKeys of the envelopes decrypted (behind a lock: decrypting takes
    /// `&self`).
    envelopes: std::sync::Mutex<ReplayCache>,
    /// The GetCACert and GetNextCACert answers, made once.
    ca_response: HttpResponse,
    next_ca_response: HttpResponse,
}

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("ca", &self.ca_certificate.tbs_certificate().subject())
            .field(
                "signer",
                &self.signer_certificate.tbs_certificate().subject(),
            )
            .field("decryption_keys", &self.decryption_keys.len())
            .finish_non_exhaustive()
    }
}

/// The refusal of a PKIOperation that is not authenticated: sent as it is, unsigned.
const REPLAYED: &str = "the senderNonce was seen before: a replayed request";

impl Server {
    /// A server for the CA `ca_certificate` that signs CertReps (and GetNextCACert
    /// answers) with `signer` / `signer_certificate` (the CA itself, or an RA) and
    /// decrypts requests with `decryption_keys` (several during a rollover: the one the
    /// request is addressed to is used).
    ///
    /// The GetCACert and GetNextCACert answers are made here, once: answering them
    /// costs no private-key operation.
    pub fn new(
        config: ServerConfig,
        ca_certificate: Certificate,
        signer: Arc<dyn MessageSigner + Send + Sync>,
        signer_certificate: Certificate,
        decryption_keys: Vec<DecryptionKey>,
    ) -> Result<Self> {
        if !crate::cert::certifies_key(&signer_certificate, &signer.public_key_info()?) {
            return Err(Error::key(
                "the CertRep signing key does not belong to its certificate",
            ));
        }
        for k in &decryption_keys {
            if !crate::cert::certifies_key(&k.certificate, &k.key.recipient_key_info()?) {
                return Err(Error::key(
                    "a decryption key does not belong to the certificate given with it",
                ));
            }
        }
        let (content_type, body) = CaCertificates {
            certificates: config.ca_certificates.clone(),
        }
        .to_response()?;
        let ca_response = HttpResponse {
            status: 200,
            content_type,
            body,
        };
        let next_ca_response = match &config.next_ca_certificates {
            None => HttpResponse::error(404, "no next CA certificate"),
            Some(next) => HttpResponse::next_ca_cert(
                NextCaCertificates {
                    certificates: next.clone(),
                }
                .seal(signer.as_ref(), &signer_certificate, config.digest)?,
            ),
        };
        let replay = ReplayCache::new(config.replay_cache_size);
        let envelopes = std::sync::Mutex::new(ReplayCache::new(config.envelope_memory));
        Ok(Server {
            config,
            ca_certificate,
            signer,
            signer_certificate,
            decryption_keys,
            replay,
            envelopes,
            ca_response,
            next_ca_response,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Handles an HTTP request: `method`, the raw `query` (after `?`) and the `body`,
    /// received at `now` (the time a renewal signer's validity is checked at).
    ///
    /// A PKIOperation that does not decode, does not verify or was replayed is refused
    /// here, with HTTP 400 and a plain-text reason (no private-key operation; see
    /// [`ServerConfig::sign_unverified_failures`]); one that verifies is handed on.
    pub fn handle_request<R: CryptoRng + ?Sized>(
        &mut self,
        method: &str,
        query: &str,
        body: &[u8],
        now: SystemTime,
        rng: &mut R,
    ) -> Incoming {
        let operation = match http::parse_request(method, query, body, &self.config.http_limits) {
            Ok(op) => op,
            Err(e) => return Incoming::Respond(HttpResponse::from_error(&e)),
        };
        match operation {
            Operation::GetCaCaps { .. } => {
                Incoming::Respond(HttpResponse::ca_caps(&self.config.capabilities))
            }
            Operation::GetCaCert { .. } => Incoming::Respond(self.ca_response.clone()),
            Operation::GetNextCaCert { .. } => Incoming::Respond(self.next_ca_response.clone()),
            Operation::PkiOperation { message } => self.pki_operation(&message, now, rng),
        }
    }

    fn pki_operation<R: CryptoRng + ?Sized>(
        &mut self,
        message: &[u8],
        now: SystemTime,
        rng: &mut R,
    ) -> Incoming {
        let limits = self.config.decrypt.limits;
        let received = match PkiMessage::decode(message, &limits) {
            Ok(m) => m,
            Err(e) => return Incoming::Respond(HttpResponse::error(400, &e.to_string())),
        };
        if !received.message_type().is_request() {
            return Incoming::Respond(HttpResponse::error(400, "the pkiMessage is not a request"));
        }
        let attributes = received.attributes().clone();
        let message_digest = sha256(&[message]);
        let verified = match received.verify(&[]) {
            Ok(v) => v,
            // RFC 8894 section 3.3.2.2: badMessageCheck for a signature that does not
            // verify; unsigned unless asked for.
            Err(e) => {
                return Incoming::Respond(self.unauthenticated(
                    &attributes,
                    FailInfo::BadMessageCheck,
                    &e.to_string(),
                    rng,
                ));
            }
        };
        let check = match &attributes.sender_nonce {
            Some(n) => self
                .replay
                .check_value(&sha256(&[b"senderNonce", n.as_bytes()]), &message_digest),
            None => NonceCheck::Fresh,
        };
        let retransmission = check == NonceCheck::Retransmission;
        if check == NonceCheck::Replay || (retransmission && !self.config.accept_retransmissions) {
            // Whoever sends a replay need not hold the signer's key: no more
            // authenticated than a bad signature.
            return Incoming::Respond(self.unauthenticated(
                &attributes,
                FailInfo::BadRequest,
                REPLAYED,
                rng,
            ));
        }
        let signer = self.signer_kind(verified.signer(), now);
        Incoming::PkiOperation(Box::new(Received {
            verified,
            signer,
            retransmission,
            cipher: None,
            message_digest,
        }))
    }

    fn signer_kind(&self, signer: &Certificate, now: SystemTime) -> SignerKind {
        let ca = self.ca_certificate.tbs_certificate();
        let issued_by_ca = signer.tbs_certificate().issuer() == ca.subject()
            && verify_issued_by(signer, ca.subject_public_key_info()).is_ok();
        match (issued_by_ca, crate::cert::valid_at(signer, now)) {
            (true, true) => SignerKind::IssuedByCa,
            (true, false) => SignerKind::IssuedByCaNotValid,
            (false, _) if crate::cert::is_self_issued(signer) => SignerKind::SelfSigned,
            (false, _) => SignerKind::Other,
        }
    }

    /// The answer to a PKIOperation that is not authenticated: HTTP 400 with `text`, or
    /// with [`ServerConfig::sign_unverified_failures`] a signed FAILURE.
    fn unauthenticated<R: CryptoRng + ?Sized>(
        &self,
        attributes: &crate::attributes::ScepAttributes,
        fail_info: FailInfo,
        text: &str,
        rng: &mut R,
    ) -> HttpResponse {
        if !self.config.sign_unverified_failures {
            return HttpResponse::error(400, text);
        }
        OutgoingCertRep::reply_to(
            attributes,
            CertRepContent::failure(fail_info, Some(text.to_owned())),
            rng,
        )
        .and_then(|r| r.seal_without_envelope(&self.seal_params()))
        .map_or_else(
            |_| HttpResponse::error(400, text),
            HttpResponse::pki_message,
        )
    }

    fn seal_params(&self) -> SealParams<'_> {
        let mut params = SealParams::new(self.signer.as_ref(), &self.signer_certificate);
        params.digest = self.config.digest;
        params.pbkdf2_iterations = self.config.pbkdf2_iterations;
        params
    }

    /// Decrypts the request with the key it is addressed to and decodes its payload.
    ///
    /// Only one key is tried: the first of the decryption keys whose certificate the
    /// envelope names. An encryptedKey that another message brought before is refused
    /// ([`ProtocolError::ReusedContentKey`](crate::error::ProtocolError)) before the key
    /// transport (see [`ServerConfig::envelope_memory`]). Every
    /// failure from key transport to the decoded payload is one
    /// [`CryptoError::DecryptionFailed`](crate::error::CryptoError::DecryptionFailed),
    /// after the same work (see [`VerifiedMessage::request`]); the other errors concern
    /// what travels in clear.
    pub fn decrypt(&self, received: &mut Received) -> Result<RequestContent> {
        let keys: Vec<EnvelopeKey<'_>> = self
            .decryption_keys
            .iter()
            .map(|k| EnvelopeKey::Key {
                key: k.key.as_ref(),
                certificate: Some(&k.certificate),
            })
            .collect();
        let message = received.message_digest;
        let mut admit = |encrypted_key: &[u8]| {
            let mut seen = self
                .envelopes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match seen.check_value(&sha256(&[b"encryptedKey", encrypted_key]), &message) {
                NonceCheck::Replay => Err(ProtocolError::ReusedContentKey.into()),
                NonceCheck::Fresh | NonceCheck::Retransmission => Ok(()),
            }
        };
        let (content, cipher) =
            received
                .verified
                .request_with_any(&keys, &self.config.decrypt, &mut admit)?;
        received.cipher = Some(cipher);
        Ok(content)
    }

    /// Builds the CertRep for `received`: recipientNonce = its senderNonce, a fresh
    /// senderNonce, its transactionID, signed with [`ServerConfig::digest`]. A SUCCESS is
    /// encrypted to the request's signer certificate when its key is RSA, with the cipher
    /// the client used (DES-EDE3 when that was single DES; AES-128 or DES-EDE3 by the
    /// capabilities when the request was not decrypted); for other keys
    /// (ECDSA) `password` (the challenge password) is used for a PasswordRecipientInfo,
    /// and without one this is an [`Error::Key`].
    ///
    /// Whoever receives a PasswordRecipientInfo can test guesses of its password offline:
    /// give the challenge only for a requester that showed it (in its CSR, or in that of
    /// the enrolment it polls), never for anyone who asks (GetCRL is answered to anyone).
    pub fn reply<R: CryptoRng + ?Sized>(
        &self,
        received: &Received,
        content: CertRepContent,
        password: Option<&[u8]>,
        rng: &mut R,
    ) -> Result<HttpResponse> {
        let mut params = self.seal_params();
        let reply = OutgoingCertRep::reply_to(received.verified.attributes(), content, rng)?;
        if !matches!(reply.content, CertRepContent::Success { .. }) {
            return Ok(HttpResponse::pki_message(
                reply.seal_without_envelope(&params)?,
            ));
        }
        let signer_cert = received.verified.signer();
        let rsa = signer_cert
            .tbs_certificate()
            .subject_public_key_info()
            .algorithm
            .oid
            == oids::RSA_ENCRYPTION;
        let recipient = match (rsa, password) {
            (true, _) => Recipient::Certificate(signer_cert),
            (false, Some(p)) => Recipient::Password(p),
            (false, None) => {
                return Err(Error::key(
                    "the requester's key cannot decrypt: give the challenge password for a PasswordRecipientInfo",
                ));
            }
        };
        // The client's cipher, except single DES, which is never produced: a client that
        // sends DES (micromdm's scepclient) gets DES-EDE3, which every such client reads.
        params.cipher = match received.cipher {
            Some(ContentCipher::InsecureDesCbc) => ContentCipher::DesEde3Cbc,
            Some(c) => c,
            None => self.default_cipher(),
        };
        Ok(HttpResponse::pki_message(
            reply.seal(&params, recipient, rng)?,
        ))
    }

    /// A FAILURE answering `received` for `error` (what [`Server::decrypt`] or the
    /// application's checks returned): the error's failInfo
    /// ([`Error::fail_info`], badRequest when it has none) and a fixed text for that
    /// failInfo, or, for a refused or unknown algorithm, the error's own text (which names
    /// only the algorithm). Nothing else of the error reaches the peer; log it for the
    /// operator.
    pub fn refuse<R: CryptoRng + ?Sized>(
        &self,
        received: &Received,
        error: &Error,
        rng: &mut R,
    ) -> Result<HttpResponse> {
        let fail_info = error.fail_info().unwrap_or(FailInfo::BadRequest);
        let text = match error {
            Error::Algorithm(_) => error.to_string(),
            _ => fail_info.description().to_owned(),
        };
        self.reply(
            received,
            CertRepContent::failure(fail_info, Some(text)),
            None,
            rng,
        )
    }

    fn default_cipher(&self) -> ContentCipher {
        let caps = &self.config.capabilities;
        if caps.supports(Capability::Aes) {
            ContentCipher::Aes128Cbc
        } else {
            ContentCipher::DesEde3Cbc
        }
    }

    /// The decoding limits in force.
    pub fn limits(&self) -> &Limits {
        &self.config.decrypt.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_cache_tells_retransmissions_from_replays_and_forgets_the_oldest() {
        use NonceCheck::{Fresh, Replay, Retransmission};
        let n = |b: u8| Nonce::from_bytes(&[b; 16]).unwrap();
        let mut cache = ReplayCache::new(2);
        assert_eq!(cache.check(&n(1), b"a"), Fresh);
        assert_eq!(cache.check(&n(1), b"a"), Retransmission);
        assert_eq!(cache.check(&n(1), b"b"), Replay);
        assert_eq!(cache.check(&n(2), b"a"), Fresh);
        assert_eq!(cache.check(&n(3), b"c"), Fresh); // forgets 1
        assert_eq!(cache.check(&n(3), b"d"), Replay);
        assert_eq!(cache.check(&n(2), b"a"), Retransmission);
        assert_eq!(cache.check(&n(1), b"b"), Fresh);
        let mut off = ReplayCache::new(0);
        assert_eq!(off.check(&n(1), b"a"), Fresh);
        assert_eq!(off.check(&n(1), b"b"), Fresh);
    }
}
