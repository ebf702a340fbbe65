//! What a server answers from configuration, and its policies.

use crate::asn1::Certificate;
use crate::caps::Capabilities;
use crate::http::ServerLimits;
use crate::pipeline::{DecryptOptions, DigestAlgorithm};

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
    /// [`Server`](super::Server) is made, not per request.
    pub next_ca_certificates: Option<Vec<Certificate>>,
    /// HTTP request limits.
    pub http_limits: ServerLimits,
    /// Decoding limits and decryption options for requests.
    pub decrypt: DecryptOptions,
    /// How many senderNonces the default in-memory replay store remembers (default
    /// 10 000; 0 turns the replay check off). Not used with a store of the application's
    /// ([`Server::with_replay_store`](super::Server::with_replay_store)): that store's
    /// bounds are its own.
    pub replay_cache_size: usize,
    /// How many envelopes the server remembers, by their encryptedKey (default 100 000,
    /// about 10 MB; 0 turns the check off). An encryptedKey that another message brought
    /// before is refused ([`ProtocolError::ReusedContentKey`](crate::error::ProtocolError))
    /// before the key transport: honest clients make a new content-encryption key for
    /// every message, and an attacker who replays a captured envelope with ciphertext of
    /// his choice, to learn its plaintext from how the server answers, gets one answer per
    /// envelope. The in-memory store is this `Server`'s: it is not shared with other
    /// instances, nor kept across a restart. With a replay store of the application's
    /// ([`Server::with_replay_store`](super::Server::with_replay_store)) the envelopes go
    /// there, within its bounds, and this number is not used.
    pub envelope_memory: usize,
    /// Whether a byte-identical request sent again (same senderNonce, same message) reaches
    /// the application, marked by [`Received::is_retransmission`](super::Received::is_retransmission), instead of being
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
    /// What a renewal may change, for [`Server::handle`](super::Server::handle) (default:
    /// [`RenewalPolicy::default`], the same subject and key).
    pub renewal: RenewalPolicy,
    /// Let [`Server::handle`](super::Server::handle) take a PKCSReq (with the challenge)
    /// signed by another key than the CSR's, as Apple devices enrolling through MDM send
    /// (signed with an MDM identity). Default `false`: a captured request re-signed by
    /// someone else is refused; with it on, that someone gets the answer (for an ECDSA key,
    /// sealed with the challenge, which he can then guess offline).
    pub allow_foreign_signers: bool,
    /// How many transactions the default in-memory transaction store keeps (default
    /// 100 000): when it is full, the oldest finished one is forgotten; a pending one never
    /// is (a new one is refused instead). Not used with a store of the application's
    /// ([`Server::with_transaction_store`](super::Server::with_transaction_store)).
    pub transactions: usize,
}

impl ServerConfig {
    /// A configuration announcing `capabilities` and answering GetCACert with
    /// `ca_certificates`; defaults for the rest.
    pub fn new(capabilities: Capabilities, ca_certificates: Vec<Certificate>) -> Self {
        Self {
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
            renewal: RenewalPolicy::default(),
            allow_foreign_signers: false,
            transactions: 100_000,
        }
    }
}

/// What a renewal may change, checked by [`Received::check_renewal`](super::Received::check_renewal).
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
        Self {
            require_same_subject: true,
            allow_rekey: false,
        }
    }
}
