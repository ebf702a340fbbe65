//! The client role, sans I/O: it hands out the HTTP request to send next and takes the
//! response and the current time; it never touches the network or the clock itself.
//!
//! 1. [`Discovery`]: GetCACaps, then GetCACert; the CA is pinned by fingerprint,
//!    intermediate CA certificates must chain to it (cA, keyCertSign, path length,
//!    validity at the time passed in), an RA is trusted only as [`RaTrust`] says, and the
//!    result, [`CaInfo`], names the issuing CA, the certificate to encrypt to and the
//!    certificates a CertRep may be signed by.
//! 2. [`Enrollment`]: PKCSReq (or RenewalReq), then CertPoll while the CA answers PENDING,
//!    up to a number of polls and a total time. Its state can be saved and restored, so a
//!    restarted client resumes the same transaction.
//! 3. [`Query`]: GetCert and GetCRL; [`next_ca_request`] / [`handle_next_ca_response`]:
//!    GetNextCACert, verified by the current CA.
//!
//! Every CertRep is verified against the selected CA/RA certificates (a certificate the
//! message brings along is not trusted for that) with a digest the policy allows, its
//! recipientNonce must echo our senderNonce, its transactionID must be ours and its
//! messageType CertRep; an issued certificate must check under the issuing CA's key.
//!
//! ```
//! # fn main() -> Result<(), scep::Error> {
//! use scep::client::{ClientConfig, Discovery};
//! let mut discovery = Discovery::new(ClientConfig::new("/cgi-bin/pkiclient.exe"));
//! let request = discovery.poll_request()?.expect("GetCACaps first");
//! assert_eq!(request.target(), "/cgi-bin/pkiclient.exe?operation=GetCACaps");
//! // ... send it, then: discovery.handle_response(HttpReply::new(status, content_type, &body), now)?
//! # Ok(())
//! # }
//! ```

mod discovery;
mod enrollment;
mod query;
mod trust;

pub use discovery::{CaInfo, Discovery};
pub use enrollment::{Enrollment, EnrollmentKind, Outcome};
pub use query::{Query, QueryOutcome, handle_next_ca_response, next_ca_request};
pub use trust::RaTrust;

use std::time::Duration;

use der::Encode;

use crate::asn1::Certificate;
use crate::caps::Policy;
use crate::error::{CryptoError, Element, Error, Result};
use crate::http::{self, HttpReply, OperationKind};
use crate::message::{CertRepContent, PkiMessage};
use crate::pipeline::{DecryptOptions, DigestAlgorithm, EnvelopeKey};
use crate::types::{Nonce, TransactionId};

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
        let der = cert
            .to_der()
            .map_err(|e| Error::encode(Element::Certificate, e))?;
        let mut out = [0u8; 32];
        out.copy_from_slice(&DigestAlgorithm::Sha256.digest(&der));
        Ok(Self::Sha256(out))
    }

    /// Parses a hex fingerprint: exactly 64 hex digits (SHA-256) or 40 (SHA-1), in any
    /// case, with colons, spaces or dashes between them ignored. Anything else (another
    /// number of digits, a sign, a character that is not a hex digit) is an error.
    pub fn from_hex(text: &str) -> Result<Self> {
        let mut bytes = Vec::with_capacity(32);
        let mut high: Option<u8> = None;
        for c in text.chars().filter(|c| !matches!(c, ':' | ' ' | '-')) {
            let digit = c
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
                .ok_or_else(|| {
                    Error::decode(
                        Element::Fingerprint,
                        format_args!("{c:?} is not a hex digit"),
                    )
                })?;
            match high.take() {
                None => high = Some(digit),
                Some(h) => bytes.push((h << 4) | digit),
            }
        }
        let whole = high.is_none();
        if let (true, Ok(a)) = (whole, <[u8; 32]>::try_from(bytes.as_slice())) {
            Ok(Self::Sha256(a))
        } else if let (true, Ok(a)) = (whole, <[u8; 20]>::try_from(bytes.as_slice())) {
            Ok(Self::Sha1(a))
        } else {
            Err(Error::decode(
                Element::Fingerprint,
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
            Self::Sha256(f) => DigestAlgorithm::Sha256.digest(&der) == f,
            Self::Sha1(f) => DigestAlgorithm::Sha1.digest(&der) == f,
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
    /// The CA's fingerprint: the trust anchor, a root or the issuing CA itself. Without one
    /// the CA is trusted on first use: whoever answers GetCACert over plain HTTP is
    /// believed. Set it.
    pub ca_pin: Option<Fingerprint>,
    /// The fingerprint of the CA that issues our certificates, when it is not the deepest
    /// CA certificate of the GetCACert answer's chain, or to rule out that another CA takes
    /// its place: without it, pinning a root trusts every CA below it, and whoever holds
    /// the key of any sub-CA under the pinned one can answer GetCACert with that sub-CA and
    /// be the issuing CA. With it, that certificate must be in the chain
    /// ([`PolicyError::CaPinMismatch`](crate::error::PolicyError) otherwise), and CA
    /// certificates below it are refused. Default: none.
    pub issuing_ca: Option<Fingerprint>,
    /// Which RA certificates to trust (default: none; see [`RaTrust`], and there for
    /// Microsoft NDES).
    pub ra_trust: RaTrust,
    /// Algorithm and transport policy for negotiation. Its
    /// [`allowed_digests`](Policy::allowed_digests) apply to everything received as well:
    /// CertReps, the GetNextCACert answer and the certificate signatures checked.
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
        Self {
            scep_path: scep_path.into(),
            ca_identifier: None,
            ca_pin: None,
            issuing_ca: None,
            ra_trust: RaTrust::None,
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

/// What a CertRep must match: who may sign it, with what digest, and the request it
/// answers.
pub(crate) struct ExpectedReply<'a> {
    pub(crate) signers: &'a [Certificate],
    pub(crate) allowed_digests: &'a [DigestAlgorithm],
    pub(crate) transaction_id: &'a TransactionId,
    pub(crate) sender_nonce: &'a Nonce,
    pub(crate) require_sender_nonce: bool,
    pub(crate) decrypt: &'a DecryptOptions,
}

/// Reads the HTTP answer to a PKIOperation: the CertRep's digest must be allowed, it is
/// verified against the expected signers only (a message signed by a certificate it
/// brings along itself is refused with [`CryptoError::UntrustedSigner`]), matched to our
/// request, then decrypted with `key`.
pub(crate) fn read_cert_rep(
    reply: HttpReply<'_>,
    expected: &ExpectedReply<'_>,
    key: EnvelopeKey<'_>,
) -> Result<CertRepContent> {
    let body = http::check_response(OperationKind::PkiOperation, reply)?;
    let message = PkiMessage::decode(body, &expected.decrypt.limits)?;
    message
        .digest_algorithm()
        .require_allowed(expected.allowed_digests, Element::SignerInfoDigestAlgorithm)?;
    let verified = message.verify(expected.signers)?;
    if !expected.signers.contains(verified.signer()) {
        return Err(CryptoError::UntrustedSigner.into());
    }
    verified.check_reply(
        expected.transaction_id,
        expected.sender_nonce,
        expected.require_sender_nonce,
    )?;
    verified.cert_rep(key, expected.decrypt)
}
