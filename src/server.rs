//! The server role, sans I/O: an HTTP request (method, query, body) goes in, an
//! [`Incoming`] comes out — either the response to send, or a verified PKIOperation for
//! the application to decide on.
//!
//! The order matters for a server exposed to anyone: the pkiMessage is parsed and its
//! signature verified, and the senderNonce checked against a bounded replay cache, before
//! any RSA decryption. A nonce seen before is refused with a FAILURE CertRep; only a
//! byte-identical retransmission can be let through, with
//! [`ServerConfig::accept_retransmissions`]. The application then looks at [`Received`]
//! (message type, transaction ID, signer certificate, whether this CA issued it — a
//! renewal) and decides whether to [`Server::decrypt`] it; it answers with
//! [`Server::reply`].
//!
//! ```no_run
//! # fn demo(server: &mut scep::server::Server, method: &str, query: &str, body: &[u8])
//! # -> Result<scep::http::HttpResponse, scep::Error> {
//! use scep::message::{CertRepContent, RequestContent};
//! use scep::server::Incoming;
//! let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
//! Ok(match server.handle_request(method, query, body, &mut rng) {
//!     Incoming::Respond(response) => response,
//!     Incoming::PkiOperation(mut received) => {
//!         let reply = match server.decrypt(&mut received)? {
//!             RequestContent::PkcsReq(csr) => {
//!                 // check the challenge password, issue a certificate ...
//!                 # let _ = csr;
//!                 CertRepContent::Pending
//!             }
//!             _ => CertRepContent::failure(scep::FailInfo::BadRequest, None),
//!         };
//!         server.reply(&received, reply, None, &mut rng)?
//!     }
//! })
//! # }
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use rand_core::CryptoRng;

use crate::asn1::Certificate;
use crate::caps::{Capabilities, Capability};
use crate::cert::verify_issued_by;
use crate::error::{CryptoError, Error, ProtocolError, Result};
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

/// A bounded set of recently seen senderNonces, each with a SHA-256 digest of the message
/// that carried it; the oldest is forgotten first.
#[derive(Debug, Clone)]
pub struct ReplayCache {
    capacity: usize,
    order: VecDeque<Vec<u8>>,
    seen: HashMap<Vec<u8>, [u8; 32]>,
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
        use sha2::Digest;
        if self.capacity == 0 {
            return NonceCheck::Fresh;
        }
        let digest: [u8; 32] = sha2::Sha256::digest(message).into();
        let bytes = nonce.as_bytes().to_vec();
        if let Some(seen) = self.seen.get(&bytes) {
            return if *seen == digest {
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
        self.order.push_back(bytes.clone());
        self.seen.insert(bytes, digest);
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
    /// The GetNextCACert answer, during a CA rollover.
    pub next_ca_certificates: Option<Vec<Certificate>>,
    /// HTTP request limits.
    pub http_limits: ServerLimits,
    /// Decoding limits and decryption options for requests.
    pub decrypt: DecryptOptions,
    /// How many senderNonces the replay cache remembers (default 10 000).
    pub replay_cache_size: usize,
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
            accept_retransmissions: false,
        }
    }
}

/// What the server made of an HTTP request. Deliberately exhaustive: a server either
/// answers or has a request to decide on.
#[derive(Debug)]
pub enum Incoming {
    /// Send this response (GetCACaps, GetCACert, GetNextCACert, an error, or a FAILURE
    /// CertRep for a message that failed verification or was replayed).
    Respond(HttpResponse),
    /// A verified PKIOperation for the application to decide on.
    PkiOperation(Box<Received>),
}

/// A verified pkiMessage, not yet decrypted.
#[derive(Debug)]
pub struct Received {
    verified: VerifiedMessage,
    signer_issued_by_ca: bool,
    retransmission: bool,
    digest: DigestAlgorithm,
    cipher: Option<ContentCipher>,
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

    /// Whether the signer certificate was issued by this CA (a renewal or re-key).
    pub fn signer_issued_by_ca(&self) -> bool {
        self.signer_issued_by_ca
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

impl Server {
    /// A server for the CA `ca_certificate` that signs CertReps (and GetNextCACert
    /// answers) with `signer` / `signer_certificate` (the CA itself, or an RA) and
    /// decrypts requests with `decryption_keys` (several during a rollover: the one the
    /// request is addressed to is used).
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
        let replay = ReplayCache::new(config.replay_cache_size);
        Ok(Server {
            config,
            ca_certificate,
            signer,
            signer_certificate,
            decryption_keys,
            replay,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Handles an HTTP request: `method`, the raw `query` (after `?`) and the `body`.
    pub fn handle_request<R: CryptoRng + ?Sized>(
        &mut self,
        method: &str,
        query: &str,
        body: &[u8],
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
            Operation::GetCaCert { .. } => Incoming::Respond(
                match (CaCertificates {
                    certificates: self.config.ca_certificates.clone(),
                })
                .to_response()
                {
                    Ok((content_type, body)) => HttpResponse {
                        status: 200,
                        content_type,
                        body,
                    },
                    Err(e) => HttpResponse::error(500, &e.to_string()),
                },
            ),
            Operation::GetNextCaCert { .. } => Incoming::Respond(self.next_ca_response()),
            Operation::PkiOperation { message } => self.pki_operation(&message, rng),
        }
    }

    fn next_ca_response(&self) -> HttpResponse {
        let Some(next) = &self.config.next_ca_certificates else {
            return HttpResponse::error(404, "no next CA certificate");
        };
        match (NextCaCertificates {
            certificates: next.clone(),
        })
        .seal(
            self.signer.as_ref(),
            &self.signer_certificate,
            DigestAlgorithm::Sha256,
        ) {
            Ok(body) => HttpResponse::next_ca_cert(body),
            Err(e) => HttpResponse::error(500, &e.to_string()),
        }
    }

    fn pki_operation<R: CryptoRng + ?Sized>(&mut self, message: &[u8], rng: &mut R) -> Incoming {
        let limits = self.config.decrypt.limits;
        let received = match PkiMessage::decode(message, &limits) {
            Ok(m) => m,
            Err(e) => return Incoming::Respond(HttpResponse::error(400, &e.to_string())),
        };
        if !received.message_type().is_request() {
            return Incoming::Respond(HttpResponse::error(400, "the pkiMessage is not a request"));
        }
        let digest = received.digest_algorithm();
        let attributes = received.attributes().clone();
        let verified = match received.verify(&[]) {
            Ok(v) => v,
            Err(e) => {
                // RFC 8894 section 3.3.2.2: badMessageCheck for a signature that does not
                // verify. The reply goes unencrypted (FAILURE carries no envelope).
                return Incoming::Respond(self.failure_response(
                    &attributes,
                    digest,
                    FailInfo::BadMessageCheck,
                    &e.to_string(),
                    rng,
                ));
            }
        };
        let check = match &attributes.sender_nonce {
            Some(n) => self.replay.check(n, message),
            None => NonceCheck::Fresh,
        };
        let retransmission = check == NonceCheck::Retransmission;
        if check == NonceCheck::Replay || (retransmission && !self.config.accept_retransmissions) {
            return Incoming::Respond(self.failure_response(
                &attributes,
                digest,
                FailInfo::BadRequest,
                &ProtocolError::ReplayedNonce.to_string(),
                rng,
            ));
        }
        let signer = verified.signer();
        let signer_issued_by_ca = signer.tbs_certificate().issuer()
            == self.ca_certificate.tbs_certificate().subject()
            && verify_issued_by(
                signer,
                self.ca_certificate
                    .tbs_certificate()
                    .subject_public_key_info(),
            )
            .is_ok();
        Incoming::PkiOperation(Box::new(Received {
            verified,
            signer_issued_by_ca,
            retransmission,
            digest,
            cipher: None,
        }))
    }

    fn failure_response<R: CryptoRng + ?Sized>(
        &self,
        attributes: &crate::attributes::ScepAttributes,
        digest: DigestAlgorithm,
        fail_info: FailInfo,
        text: &str,
        rng: &mut R,
    ) -> HttpResponse {
        let reply = OutgoingCertRep::reply_to(
            attributes,
            CertRepContent::failure(fail_info, Some(text.to_owned())),
            rng,
        )
        .and_then(|r| {
            let mut params = SealParams::new(self.signer.as_ref(), &self.signer_certificate);
            params.digest = digest;
            r.seal(&params, Recipient::Password(b""), rng)
        });
        match reply {
            Ok(der) => HttpResponse::pki_message(der),
            Err(_) => HttpResponse::error(400, text),
        }
    }

    /// Decrypts the request with the key it is addressed to and decodes its payload.
    pub fn decrypt(&self, received: &mut Received) -> Result<RequestContent> {
        let mut last = Err(Error::from(CryptoError::NoMatchingRecipient));
        for k in &self.decryption_keys {
            let key = EnvelopeKey::Key {
                key: k.key.as_ref(),
                certificate: Some(&k.certificate),
            };
            match received.verified.request(key, &self.config.decrypt) {
                Ok((content, cipher)) => {
                    received.cipher = Some(cipher);
                    return Ok(content);
                }
                Err(e @ Error::Crypto(CryptoError::NoMatchingRecipient)) => last = Err(e),
                Err(e) => return Err(e),
            }
        }
        last
    }

    /// Builds the CertRep for `received`: recipientNonce = its senderNonce, a fresh
    /// senderNonce, its transactionID, signed with the request's digest. A SUCCESS is
    /// encrypted to the request's signer certificate when its key is RSA, with the cipher
    /// the client used (DES-EDE3 when that was single DES; AES-128 or DES-EDE3 by the
    /// capabilities when the request was not decrypted); for other keys
    /// (ECDSA) `password` (the challenge password) is used for a PasswordRecipientInfo,
    /// and without one this is an [`Error::Key`].
    pub fn reply<R: CryptoRng + ?Sized>(
        &self,
        received: &Received,
        content: CertRepContent,
        password: Option<&[u8]>,
        rng: &mut R,
    ) -> Result<HttpResponse> {
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
            (false, None) if !matches!(content, CertRepContent::Success { .. }) => {
                Recipient::Password(b"")
            }
            (false, None) => {
                return Err(Error::key(
                    "the requester's key cannot decrypt: give the challenge password for a PasswordRecipientInfo",
                ));
            }
        };
        let mut params = SealParams::new(self.signer.as_ref(), &self.signer_certificate);
        params.digest = received.digest;
        // The client's cipher, except single DES, which is never produced: a client that
        // sends DES (micromdm's scepclient) gets DES-EDE3, which every such client reads.
        params.cipher = match received.cipher {
            Some(ContentCipher::InsecureDesCbc) => ContentCipher::DesEde3Cbc,
            Some(c) => c,
            None => self.default_cipher(),
        };
        let reply = OutgoingCertRep::reply_to(received.verified.attributes(), content, rng)?;
        Ok(HttpResponse::pki_message(
            reply.seal(&params, recipient, rng)?,
        ))
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
