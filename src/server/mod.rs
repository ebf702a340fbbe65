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
//! # fn demo(server: &scep::server::Server, method: &str, query: &str, body: &[u8])
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

mod app;
mod config;
mod handle;
mod received;
mod stores;

pub use app::{CertificateAuthority, Decision, Enrolment, challenge_matches};
pub use config::{RenewalPolicy, ServerConfig};
pub use handle::{Handled, Outcome, Report};
pub use received::{Received, SignerKind};
pub use stores::{
    Generation, MemoryReplayStore, MemoryTransactionStore, NonceCheck, ReplayCache, ReplayStore,
    SeenKind, Transaction, TransactionState, TransactionStore,
};

use std::sync::Arc;
use std::time::SystemTime;

use stores::sha256;

use rand_core::CryptoRng;

use crate::asn1::Certificate;
use crate::caps::Capability;
use crate::cert::Identity;
use crate::cert::verify_issued_by;
use crate::error::{Error, ProtocolError, Result};
use crate::http::{self, HttpResponse, Operation};
use crate::limits::Limits;
use crate::message::{
    CaCertificates, CertRepContent, NextCaCertificates, OutgoingCertRep, PkiMessage,
    RequestContent, SealParams,
};
use crate::oids;
use crate::pipeline::{ContentCipher, EnvelopeKey, KeyDecryptor, Recipient};
use crate::types::FailInfo;

/// A decryption key and the certificate requests are encrypted to.
#[derive(Clone)]
#[expect(
    clippy::exhaustive_structs,
    reason = "a parameter struct built with a literal; a new field is meant to break the build"
)]
pub struct DecryptionKey {
    /// The certificate clients encrypt to (CA or RA encryption certificate).
    pub certificate: Certificate,
    /// Its private key (an `Arc`, so that an HSM handle or a key shared with the CA's
    /// issuing code can be used).
    pub key: Arc<dyn KeyDecryptor + Send + Sync>,
}

/// What the server made of an HTTP request. Deliberately exhaustive: a server either
/// answers or has a request to decide on.
#[derive(Debug)]
#[expect(
    clippy::exhaustive_enums,
    reason = "a server either answers or has a request to decide: a match must handle both"
)]
pub enum Incoming {
    /// Send this response (GetCACaps, GetCACert, GetNextCACert, or the refusal of a
    /// PKIOperation that does not decode, does not verify or was replayed).
    Respond(HttpResponse),
    /// A verified PKIOperation for the application to decide on.
    PkiOperation(Box<Received>),
}

/// A SCEP server: configuration, the CertRep signer, the decryption keys and the replay
/// store. It is `Send + Sync` and every method takes `&self`: share one (in an `Arc`)
/// between threads, and requests are verified and decrypted in parallel. Keep it for the
/// life of the service, or give every instance the same [`ReplayStore`]
/// ([`Server::with_replay_store`]), so that the replay checks see every request.
pub struct Server {
    config: ServerConfig,
    ca_certificate: Certificate,
    signer: Identity,
    decryption_keys: Vec<DecryptionKey>,
    replay: Arc<dyn ReplayStore>,
    transactions: Arc<dyn TransactionStore>,
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
                &self.signer.certificate().tbs_certificate().subject(),
            )
            .field("decryption_keys", &self.decryption_keys.len())
            .finish_non_exhaustive()
    }
}

/// The refusal of a PKIOperation that is not authenticated: sent as it is, unsigned.
const REPLAYED: &str = "the senderNonce was seen before: a replayed request";

/// What the intake made of an HTTP request: the operation (when it parsed), what to do, and
/// why a refusal was made (for the report).
struct Intake {
    operation: Option<http::OperationKind>,
    incoming: Incoming,
    refusal: Option<String>,
}

impl Intake {
    fn refused(
        operation: Option<http::OperationKind>,
        response: HttpResponse,
        reason: String,
    ) -> Self {
        Self {
            operation,
            incoming: Incoming::Respond(response),
            refusal: Some(reason),
        }
    }
}

/// The answer when a store cannot answer (what went wrong is for the operator).
/// The FAILURE that tells the peer of `error` only its failInfo and that failInfo's fixed
/// text; an algorithm refusal names the algorithm (public: it was in the request).
fn refusal(error: &Error) -> CertRepContent {
    let fail_info = error.fail_info().unwrap_or(FailInfo::BadRequest);
    let text = match error {
        Error::Algorithm(_) => error.to_string(),
        _ => fail_info.description().to_owned(),
    };
    CertRepContent::failure(fail_info, Some(text))
}

/// Whether `certificate`'s key can decrypt a SUCCESS (an RSA key: key transport); other
/// keys (ECDSA) need a password.
fn can_decrypt(certificate: &Certificate) -> bool {
    certificate
        .tbs_certificate()
        .subject_public_key_info()
        .algorithm
        .oid
        == oids::RSA_ENCRYPTION
}

fn unavailable() -> HttpResponse {
    HttpResponse::error(503, "the server cannot answer now; try again later")
}

impl Server {
    /// A server for the CA `ca_certificate` that signs CertReps (and GetNextCACert
    /// answers) as `signer` (the CA itself, or an RA) and decrypts requests with
    /// `decryption_keys` (several during a rollover: the one the request is addressed to
    /// is used).
    ///
    /// The GetCACert and GetNextCACert answers are made here, once: answering them
    /// costs no private-key operation.
    pub fn new(
        config: ServerConfig,
        ca_certificate: Certificate,
        signer: Identity,
        decryption_keys: Vec<DecryptionKey>,
    ) -> Result<Self> {
        for k in &decryption_keys {
            if !crate::cert::certifies_key(&k.certificate, &k.key.recipient_key_info()?) {
                return Err(Error::key(
                    "a decryption key does not belong to the certificate given with it",
                ));
            }
        }
        let (form, body) = CaCertificates::new(config.ca_certificates.clone()).to_response()?;
        let ca_response = HttpResponse::ca_certificates(form, body);
        let next_ca_response = match &config.next_ca_certificates {
            None => HttpResponse::error(404, "no next CA certificate"),
            Some(next) => HttpResponse::next_ca_cert(NextCaCertificates::new(next.clone()).seal(
                signer.key(),
                signer.certificate(),
                config.digest,
            )?),
        };
        let replay = Arc::new(MemoryReplayStore::new(
            config.replay_cache_size,
            config.envelope_memory,
        ));
        let transactions = Arc::new(MemoryTransactionStore::new(config.transactions));
        Ok(Self {
            config,
            ca_certificate,
            signer,
            decryption_keys,
            replay,
            transactions,
            ca_response,
            next_ca_response,
        })
    }

    /// The server with `store` for its replay checks instead of the in-memory one made
    /// from [`ServerConfig::replay_cache_size`] and [`ServerConfig::envelope_memory`]
    /// (a store that several instances share, or that survives a restart).
    pub fn with_replay_store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.replay = store;
        self
    }

    /// The server with `store` for its transactions instead of the in-memory one of
    /// [`ServerConfig::transactions`] (a store that several instances share, or that
    /// survives a restart).
    pub fn with_transaction_store(mut self, store: Arc<dyn TransactionStore>) -> Self {
        self.transactions = store;
        self
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
    /// [`ServerConfig::sign_unverified_failures`]); one that verifies is handed on. This is
    /// the lower layer: [`Server::handle`] runs the whole transaction.
    pub fn handle_request<R: CryptoRng + ?Sized>(
        &self,
        method: &str,
        query: &str,
        body: &[u8],
        now: SystemTime,
        rng: &mut R,
    ) -> Incoming {
        self.intake(method, query, body, now, rng).incoming
    }

    /// [`Server::handle_request`], with what the report needs.
    fn intake<R: CryptoRng + ?Sized>(
        &self,
        method: &str,
        query: &str,
        body: &[u8],
        now: SystemTime,
        rng: &mut R,
    ) -> Intake {
        let operation = match http::parse_request(method, query, body, &self.config.http_limits) {
            Ok(op) => op,
            Err(e) => return Intake::refused(None, HttpResponse::from_error(&e), e.to_string()),
        };
        let kind = operation.kind();
        let answer = |response: HttpResponse| Intake {
            operation: Some(kind),
            incoming: Incoming::Respond(response),
            refusal: None,
        };
        match operation {
            Operation::GetCaCaps { .. } => answer(HttpResponse::ca_caps(&self.config.capabilities)),
            Operation::GetCaCert { .. } => answer(self.ca_response.clone()),
            Operation::GetNextCaCert { .. } => answer(self.next_ca_response.clone()),
            Operation::PkiOperation { message } => self.pki_operation(&message, now, rng),
        }
    }

    fn pki_operation<R: CryptoRng + ?Sized>(
        &self,
        message: &[u8],
        now: SystemTime,
        rng: &mut R,
    ) -> Intake {
        let kind = Some(http::OperationKind::PkiOperation);
        let limits = self.config.decrypt.limits;
        let received = match PkiMessage::decode(message, &limits) {
            Ok(m) => m,
            Err(e) => {
                let text = e.to_string();
                return Intake::refused(kind, HttpResponse::error(400, &text), text);
            }
        };
        if !received.message_type().is_request() {
            let text = "the pkiMessage is not a request";
            return Intake::refused(kind, HttpResponse::error(400, text), text.into());
        }
        let attributes = received.attributes().clone();
        let message_digest = sha256(&[message]);
        let verified = match received.verify(&[]) {
            Ok(v) => v,
            // RFC 8894 section 3.3.2.2: badMessageCheck for a signature that does not
            // verify; unsigned unless asked for.
            Err(e) => {
                let text = e.to_string();
                let response =
                    self.unauthenticated(&attributes, FailInfo::BadMessageCheck, &text, rng);
                return Intake::refused(kind, response, text);
            }
        };
        let mut recorded_nonce = None;
        let check = match &attributes.sender_nonce {
            Some(n) => {
                let nonce = stores::nonce_value(n);
                match self
                    .replay
                    .check(SeenKind::SenderNonce, &nonce, &message_digest)
                {
                    Ok(check) => {
                        if check == NonceCheck::Fresh {
                            recorded_nonce = Some(nonce);
                        }
                        check
                    }
                    Err(e) => return Intake::refused(kind, unavailable(), e.to_string()),
                }
            }
            None => NonceCheck::Fresh,
        };
        let retransmission = check == NonceCheck::Retransmission;
        if check == NonceCheck::Replay || (retransmission && !self.config.accept_retransmissions) {
            // Whoever sends a replay need not hold the signer's key: no more
            // authenticated than a bad signature.
            let response = self.unauthenticated(&attributes, FailInfo::BadRequest, REPLAYED, rng);
            return Intake::refused(kind, response, REPLAYED.into());
        }
        let signer = self.signer_kind(verified.signer(), now);
        Intake {
            operation: kind,
            incoming: Incoming::PkiOperation(Box::new(Received {
                verified,
                signer,
                retransmission,
                cipher: None,
                message_digest,
                envelope: None,
                recorded_nonce,
            })),
            refusal: None,
        }
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
        let mut params = SealParams::new(self.signer.key(), self.signer.certificate());
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
    /// after the same work (see [`VerifiedMessage::request`](crate::message::VerifiedMessage::request)); the other errors concern
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
        let mut envelope = None;
        let mut admit = |encrypted_key: &[u8]| {
            let value = sha256(&[b"encryptedKey", encrypted_key]);
            envelope = Some(value);
            match self
                .replay
                .check(SeenKind::EncryptedKey, &value, &message)?
            {
                NonceCheck::Replay => Err(ProtocolError::ReusedContentKey.into()),
                NonceCheck::Fresh | NonceCheck::Retransmission => Ok(()),
            }
        };
        let opened = received
            .verified
            .request_with_any(&keys, &self.config.decrypt, &mut admit);
        received.envelope = envelope;
        let (content, cipher) = opened?;
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
        let recipient = match (can_decrypt(signer_cert), password) {
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
        self.reply(received, refusal(error), None, rng)
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
    fn a_server_is_shared_between_threads() {
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<Server>();
        send_and_sync::<Received>();
    }
}
