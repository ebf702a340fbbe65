//! The crate's one error type.
//!
//! Every fallible operation returns [`Error`]. Its variants name the layer that failed
//! (decoding, algorithms, cryptographic checks, the SCEP protocol, policy, limits, the
//! HTTP shapes) and carry the element or attribute concerned, so that a caller can act on
//! it, log it precisely, or map it to a SCEP `failInfo`.

use core::fmt;
use std::sync::Arc;

mod element;
pub use element::Element;

// The error names the vocabulary of the layers above it (as rustls's `Error` names its
// enums); it calls nothing there. tests/layers.rs allows exactly these names.
use crate::caps::Capability;
use crate::types::FailInfo;
use crate::types::MessageType;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Input could not be decoded: `element` names the structure or attribute.
    Decode {
        /// The ASN.1 element, attribute or text field being decoded (e.g.
        /// [`Element::SignedData`], [`Element::TransactionId`]).
        element: Element,
        /// What was wrong with it.
        detail: String,
    },
    /// A value could not be encoded (usually a value too large for its ASN.1 type).
    Encode {
        /// The element being encoded.
        element: Element,
        /// What was wrong.
        detail: String,
    },
    /// An algorithm was not recognised, or was refused.
    Algorithm(AlgorithmError),
    /// A cryptographic check failed.
    Crypto(CryptoError),
    /// The message is well-formed but breaks the SCEP protocol.
    Protocol(ProtocolError),
    /// A configurable policy refused the message or the peer.
    Policy(PolicyError),
    /// Input exceeded a configured limit.
    Limit {
        /// What was limited.
        what: LimitKind,
        /// The configured limit.
        limit: usize,
    },
    /// An HTTP request or response did not have the shape SCEP needs.
    Http(HttpError),
    /// A key or certificate given by the caller cannot be used for what was asked.
    Key {
        /// What was wrong with it.
        detail: String,
    },
    /// A store (of nonces, envelopes, transactions) could not answer.
    Store(StoreError),
}

/// Which input limit an [`Error::Limit`] is about: a field of [`Limits`](crate::Limits) or
/// [`ServerLimits`](crate::http::ServerLimits), or a bound of GetCACaps parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKind {
    /// `Limits::max_message_size`: a message, a body, a decrypted content ("message size").
    MessageSize,
    /// `Limits::max_csr_size`: the CSR of a PKCSReq or RenewalReq ("CSR size").
    CsrSize,
    /// `Limits::max_csr_size`: the payload of another request ("request payload size").
    RequestPayloadSize,
    /// `Limits::max_nesting_depth`: BER nesting ("nesting depth").
    NestingDepth,
    /// `Limits::max_certificates`: certificates in a SignedData ("certificates").
    Certificates,
    /// `Limits::max_certificates`: CRLs in a SignedData ("CRLs").
    Crls,
    /// `Limits::max_certificates`: SignerInfos in a SignedData ("signer infos").
    SignerInfos,
    /// `Limits::max_attributes`: signed attributes of a SignerInfo ("signed attributes").
    SignedAttributes,
    /// `Limits::max_attributes`: unsigned attributes of a SignerInfo ("unsigned attributes").
    UnsignedAttributes,
    /// `Limits::max_attributes`: attributes of a PKCS #10 request ("CSR attributes").
    CsrAttributes,
    /// `Limits::max_recipients`: RecipientInfos of an EnvelopedData ("recipients").
    Recipients,
    /// `Limits::max_pbkdf2_iterations`: a PasswordRecipientInfo's iteration count ("PBKDF2 iterations").
    Pbkdf2Iterations,
    /// `ServerLimits::max_query_len`: a request's query string ("query string length").
    QueryStringLength,
    /// the size of a GetCACaps response body ("GetCACaps response size").
    CapsResponseSize,
    /// the number of keywords in a GetCACaps response ("GetCACaps keyword count").
    CapsKeywordCount,
}

impl LimitKind {
    /// The limit's name, as errors print it (e.g. `"message size"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::MessageSize => "message size",
            Self::CsrSize => "CSR size",
            Self::RequestPayloadSize => "request payload size",
            Self::NestingDepth => "nesting depth",
            Self::Certificates => "certificates",
            Self::Crls => "CRLs",
            Self::SignerInfos => "signer infos",
            Self::SignedAttributes => "signed attributes",
            Self::UnsignedAttributes => "unsigned attributes",
            Self::CsrAttributes => "CSR attributes",
            Self::Recipients => "recipients",
            Self::Pbkdf2Iterations => "PBKDF2 iterations",
            Self::QueryStringLength => "query string length",
            Self::CapsResponseSize => "GetCACaps response size",
            Self::CapsKeywordCount => "GetCACaps keyword count",
        }
    }
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error of another crate, boxed (what [`Cause::from_error`] takes: any error type, or
/// a `Box` of one).
pub type BoxedError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error of something outside this crate (a store's database driver, an HSM's
/// PKCS #11 library, a signer), kept so that [`Error::source`](std::error::Error::source)
/// reaches it.
///
/// Two are equal when their texts are: the source is not compared.
#[derive(Debug, Clone)]
pub struct Cause {
    detail: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Cause {
    /// A cause with only a text.
    pub fn text(detail: impl fmt::Display) -> Self {
        Self {
            detail: detail.to_string(),
            source: None,
        }
    }

    /// A cause that keeps `error` as its source; its text is `error`'s.
    pub fn from_error(error: impl Into<BoxedError>) -> Self {
        let error: BoxedError = error.into();
        Self {
            detail: error.to_string(),
            source: Some(Arc::from(error)),
        }
    }

    /// A cause with its own text (e.g. naming the database) that keeps `error` as its
    /// source.
    pub fn new(detail: impl fmt::Display, error: impl Into<BoxedError>) -> Self {
        Self {
            detail: detail.to_string(),
            source: Some(Arc::from(error.into())),
        }
    }

    /// The text, for the operator.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    fn source_error(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.detail == other.detail
    }
}

impl Eq for Cause {}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

/// A store that could not answer: which, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreError {
    /// The store (e.g. `"replay store"`).
    pub store: &'static str,
    /// What went wrong, for the operator; its source is the store's own error when the
    /// store gave one ([`StoreError::caused_by`]).
    pub cause: Cause,
}

impl StoreError {
    /// A store error for `store`, with a text.
    pub fn new(store: &'static str, detail: impl fmt::Display) -> Self {
        Self {
            store,
            cause: Cause::text(detail),
        }
    }

    /// A store error for `store` that keeps the store's own `error` as its
    /// [`source`](std::error::Error::source).
    pub fn caused_by(store: &'static str, error: impl Into<BoxedError>) -> Self {
        Self {
            store,
            cause: Cause::from_error(error),
        }
    }

    /// A store error for `store` with a [`Cause`] made by the caller.
    pub fn from_cause(store: &'static str, cause: Cause) -> Self {
        Self { store, cause }
    }

    /// What went wrong, for the operator.
    pub fn detail(&self) -> &str {
        self.cause.detail()
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} could not answer: {}", self.store, self.cause)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.source_error()
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Algorithm errors: unknown, unsupported, refused or inconsistent algorithms.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlgorithmError {
    /// The algorithm identifier is not one this crate implements.
    Unsupported {
        /// Where the algorithm was found (e.g. [`Element::SignerInfoDigestAlgorithm`]).
        element: Element,
        /// The dotted OID that was found.
        oid: String,
    },
    /// The algorithm is known but refused because it is insecure (RFC 8894 section 2.9).
    Refused {
        /// The algorithm's name (e.g. `"DES-CBC"`, `"MD5"`).
        algorithm: &'static str,
        /// Where it was found.
        element: Element,
    },
    /// The algorithm's parameters are malformed (e.g. an IV of the wrong length).
    BadParameters {
        /// Where the algorithm was found.
        element: Element,
        /// What was wrong.
        detail: String,
    },
    /// The signature algorithm does not fit the signer's public key (e.g. ECDSA with an RSA key).
    KeyMismatch {
        /// The signature algorithm's name.
        algorithm: &'static str,
        /// The key type found.
        key: String,
    },
}

/// Failures of cryptographic checks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// No certificate matching the SignerInfo's signer identifier was found, neither in the
    /// message nor among the certificates supplied by the caller.
    SignerNotFound,
    /// The message was signed by a certificate that is not among those trusted for it
    /// (e.g. a GetNextCACert response not signed by the current CA).
    UntrustedSigner,
    /// The signature over the signed attributes does not verify.
    BadSignature,
    /// The messageDigest attribute does not equal the digest of the encapsulated content.
    MessageDigestMismatch,
    /// The content could not be decrypted, or what it decrypted to could not be read: a
    /// wrong key or password, a corrupted key, bad padding, or a payload that does not
    /// decode or exceeds a limit once decrypted. Deliberately one kind for all of these,
    /// reached after the same work, with nothing decrypted in it (no padding oracle).
    DecryptionFailed,
    /// None of the message's RecipientInfos is addressed to the key or password given.
    NoMatchingRecipient,
    /// Signing failed in the signer (e.g. an HSM refused); the signer's own error is the
    /// [`source`](std::error::Error::source) when it gave one.
    SigningFailed(Cause),
    /// Encryption failed (e.g. the recipient's RSA key is too small for the content key).
    EncryptionFailed(Cause),
}

/// Violations of the SCEP protocol by a well-formed message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A required authenticated attribute is missing.
    MissingAttribute(Element),
    /// An authenticated attribute appears more than once, or has more than one value.
    DuplicateAttribute(Element),
    /// The message type is not the one this operation expects.
    UnexpectedMessageType {
        /// The message types the operation accepts.
        expected: &'static [MessageType],
        /// The message type found.
        found: MessageType,
    },
    /// The recipientNonce does not echo the senderNonce of our request.
    RecipientNonceMismatch,
    /// The transactionID does not match ours.
    TransactionIdMismatch,
    /// The message carries a content that its type or status forbids, or lacks one it needs.
    UnexpectedContent(&'static str),
    /// A pkiStatus FAILURE without a failInfo, or a failInfo with another status.
    InconsistentStatus(&'static str),
    /// The SignedData's encapsulated content is not of type id-data.
    WrongContentType(&'static str),
    /// A CertRep SUCCESS holds no certificate for the public key of our request (or, when
    /// required, none whose subject matches the request's).
    NoIssuedCertificate,
    /// A response arrived when no request was outstanding, or a request was asked for
    /// while one is outstanding.
    UnexpectedResponse(&'static str),
    /// The request's senderNonce was seen before: a replayed request.
    ReplayedNonce,
    /// More than one RecipientInfo of an envelope is addressed to the key or password
    /// (the text names the kind). Only one is ever tried: each would cost a private-key
    /// operation or a PBKDF2 derivation.
    DuplicateRecipient(&'static str),
    /// The envelope's encrypted content-encryption key came with another message before: a
    /// captured envelope sent again with other ciphertext (see
    /// `server::ServerConfig::envelope_memory`).
    ReusedContentKey,
}

/// Policy refusals.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// The CA does not announce `SCEPStandard` and the policy requires it (downgrade guard).
    ScepStandardRequired,
    /// No content-encryption algorithm is supported by both sides under the policy.
    NoCommonCipher,
    /// No digest algorithm is supported by both sides under the policy.
    NoCommonDigest,
    /// The operation needs a capability the CA does not announce in GetCACaps.
    NotSupportedByCa(Capability),
    /// No certificate of the GetCACert answer has the pinned fingerprint.
    CaPinMismatch,
    /// A certificate of the GetCACert answer is not trusted.
    UntrustedCertificate {
        /// Its subject.
        subject: String,
        /// Why.
        reason: Distrust,
    },
    /// A signature received uses a digest the policy does not allow
    /// (`caps::Policy::allowed_digests` applies to what is received too).
    DigestNotAllowed {
        /// The digest.
        digest: crate::pipeline::DigestAlgorithm,
        /// Where it was found.
        element: Element,
    },
    /// The request is still PENDING after the configured number of polls.
    PollLimitReached {
        /// The number of polls made.
        polls: u32,
    },
    /// The request is still PENDING after the configured maximum polling time.
    PollTimeExceeded,
    /// A renewal is not authorised (see `server::Received::check_renewal`).
    RenewalRefused(RenewalRefusal),
}

/// Why a certificate of a GetCACert answer is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Distrust {
    /// No trusted CA certificate issued it (its issuer's name and its signature).
    NoTrustedIssuer,
    /// It is expired, or not yet valid, at the time given.
    NotValidNow,
    /// Its issuer's path length constraint leaves no room for another CA certificate.
    PathLengthExceeded,
    /// Its signature uses a digest the policy does not allow.
    DigestNotAllowed,
    /// It is not a CA certificate and the client does not trust it as an RA
    /// (`client::ClientConfig::ra_trust`).
    NotTrustedAsRa,
    /// It has a critical extension this crate does not process (RFC 5280 section 6.1.4).
    UnknownCriticalExtension,
    /// It is a CA certificate off the chain from the trusted CA to the issuing CA: beside
    /// it (the answer must hold one chain, so that which CA issues is not a guess), or
    /// below the issuing CA the caller named (`client::ClientConfig::issuing_ca`).
    OffTheChain,
}

/// Why a renewal is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenewalRefusal {
    /// The signer certificate was not issued by this CA.
    NotIssuedByCa,
    /// The signer certificate was issued by this CA but is expired, or not yet valid.
    SignerNotValid,
    /// The CSR asks for another subject than the signer certificate's.
    SubjectChanged,
    /// The CSR carries another key than the signer certificate's, and re-keying is not
    /// allowed.
    KeyChanged,
}

/// Errors in the HTTP request/response shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    /// The request has no `operation` query parameter.
    MissingOperation,
    /// The `operation` is not one SCEP defines.
    UnknownOperation(String),
    /// A PKIOperation GET has no `message` parameter.
    MissingMessage,
    /// The `message` parameter or a body is not valid base64.
    BadBase64,
    /// The query string is malformed (bad percent-encoding).
    BadQuery,
    /// The method is not allowed for the operation.
    MethodNotAllowed(String),
    /// The body exceeds the configured limit.
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The response's content type does not match the operation.
    UnexpectedContentType(String),
    /// The response's HTTP status is not 200.
    Status(u16),
}

impl Error {
    /// Builds a decode error for `element`.
    pub(crate) fn decode(element: Element, detail: impl fmt::Display) -> Self {
        Self::Decode {
            element,
            detail: detail.to_string(),
        }
    }

    /// Builds an encode error for `element`.
    pub(crate) fn encode(element: Element, detail: impl fmt::Display) -> Self {
        Self::Encode {
            element,
            detail: detail.to_string(),
        }
    }

    /// Builds a key error.
    pub(crate) fn key(detail: impl fmt::Display) -> Self {
        Self::Key {
            detail: detail.to_string(),
        }
    }

    /// Builds an "unsupported algorithm" error.
    pub(crate) fn unsupported(element: Element, oid: &der::asn1::ObjectIdentifier) -> Self {
        Self::Algorithm(AlgorithmError::Unsupported {
            element,
            oid: oid.to_string(),
        })
    }

    /// Returns the SCEP `failInfo` a server should answer with for this error, when one fits
    /// (RFC 8894 section 3.2.1.4).
    pub fn fail_info(&self) -> Option<FailInfo> {
        match self {
            Self::Algorithm(_) => Some(FailInfo::BadAlg),
            Self::Crypto(CryptoError::SigningFailed(_) | CryptoError::EncryptionFailed(_)) => None,
            Self::Crypto(_) => Some(FailInfo::BadMessageCheck),
            Self::Decode { .. } | Self::Protocol(_) | Self::Limit { .. } => {
                Some(FailInfo::BadRequest)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode { element, detail } => write!(f, "cannot decode {element}: {detail}"),
            Self::Encode { element, detail } => write!(f, "cannot encode {element}: {detail}"),
            Self::Algorithm(e) => e.fmt(f),
            Self::Crypto(e) => e.fmt(f),
            Self::Protocol(e) => e.fmt(f),
            Self::Policy(e) => e.fmt(f),
            Self::Limit { what, limit } => write!(f, "{what} exceeds the limit of {limit}"),
            Self::Http(e) => e.fmt(f),
            Self::Key { detail } => write!(f, "unusable key or certificate: {detail}"),
            Self::Store(e) => e.fmt(f),
        }
    }
}

impl fmt::Display for AlgorithmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported { element, oid } => {
                write!(f, "unsupported algorithm {oid} in {element}")
            }
            Self::Refused { algorithm, element } => write!(
                f,
                "{algorithm} in {element} is refused: it is insecure and RFC 8894 section 2.9 \
                 says it must not be used"
            ),
            Self::BadParameters { element, detail } => {
                write!(f, "bad algorithm parameters in {element}: {detail}")
            }
            Self::KeyMismatch { algorithm, key } => {
                write!(
                    f,
                    "signature algorithm {algorithm} does not fit a {key} key"
                )
            }
        }
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SignerNotFound => f.write_str(
                "the signer's certificate is neither in the message nor among the supplied certificates",
            ),
            Self::UntrustedSigner => {
                f.write_str("the message is signed by a certificate that is not trusted for it")
            }
            Self::BadSignature => f.write_str("the SignerInfo signature does not verify"),
            Self::MessageDigestMismatch => f.write_str(
                "the messageDigest attribute does not match the digest of the content",
            ),
            Self::DecryptionFailed => f.write_str(
                "the content could not be decrypted and read (wrong key or password, or \
                 corrupted data)",
            ),
            Self::NoMatchingRecipient => {
                f.write_str("no RecipientInfo is addressed to the given key or password")
            }
            Self::SigningFailed(d) => write!(f, "signing failed: {d}"),
            Self::EncryptionFailed(d) => write!(f, "encryption failed: {d}"),
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingAttribute(a) => {
                write!(f, "the required {a} is missing")
            }
            Self::DuplicateAttribute(a) => {
                write!(f, "the {a} appears more than once")
            }
            Self::UnexpectedMessageType { expected, found } => {
                f.write_str("expected a ")?;
                for (i, t) in expected.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    f.write_str(t.name())?;
                }
                write!(f, " message, found messageType {found}")
            }
            Self::RecipientNonceMismatch => {
                f.write_str("the recipientNonce does not echo our senderNonce")
            }
            Self::TransactionIdMismatch => f.write_str("the transactionID does not match ours"),
            Self::UnexpectedContent(d) => write!(f, "unexpected content: {d}"),
            Self::InconsistentStatus(d) => write!(f, "inconsistent pkiStatus: {d}"),
            Self::WrongContentType(d) => write!(f, "wrong content type: {d}"),
            Self::NoIssuedCertificate => {
                f.write_str("the CertRep holds no certificate for the public key of our request")
            }
            Self::UnexpectedResponse(d) => write!(f, "out of sequence: {d}"),
            Self::ReplayedNonce => {
                f.write_str("the senderNonce was seen before: a replayed request")
            }
            Self::ReusedContentKey => f.write_str(
                "the envelope's content-encryption key came with another message before",
            ),
            Self::DuplicateRecipient(kind) => write!(
                f,
                "more than one {kind} of the envelope is addressed to the key or password"
            ),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ScepStandardRequired => f.write_str(
                "the CA does not announce SCEPStandard, which the policy requires (possible downgrade)",
            ),
            Self::NoCommonCipher => {
                f.write_str("no content-encryption algorithm is acceptable to both sides")
            }
            Self::NoCommonDigest => {
                f.write_str("no digest algorithm is acceptable to both sides")
            }
            Self::NotSupportedByCa(cap) => {
                write!(f, "the CA does not announce the {cap} capability")
            }
            Self::CaPinMismatch => {
                f.write_str("no CA certificate has the pinned fingerprint")
            }
            Self::UntrustedCertificate { subject, reason } => {
                write!(f, "the certificate {subject} is not trusted: {reason}")
            }
            Self::DigestNotAllowed { digest, element } => {
                write!(f, "{digest} in {element} is not allowed by the policy")
            }
            Self::PollLimitReached { polls } => {
                write!(f, "still PENDING after {polls} polls")
            }
            Self::PollTimeExceeded => {
                f.write_str("still PENDING after the maximum polling time")
            }
            Self::RenewalRefused(reason) => write!(f, "renewal refused: {reason}"),
        }
    }
}

impl fmt::Display for Distrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoTrustedIssuer => "it does not chain to the trusted CA",
            Self::NotValidNow => "it is expired or not yet valid",
            Self::PathLengthExceeded => "its issuer's path length constraint is exceeded",
            Self::DigestNotAllowed => "its signature's digest is not allowed by the policy",
            Self::NotTrustedAsRa => {
                "it is not a CA certificate and not trusted as an RA (ClientConfig::ra_trust)"
            }
            Self::UnknownCriticalExtension => {
                "it has a critical extension this crate does not process"
            }
            Self::OffTheChain => "it is a CA certificate off the chain to the issuing CA",
        })
    }
}

impl fmt::Display for RenewalRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotIssuedByCa => "the signer certificate was not issued by this CA",
            Self::SignerNotValid => "the signer certificate is expired or not yet valid",
            Self::SubjectChanged => "the request's subject is not the signer certificate's",
            Self::KeyChanged => {
                "the request's key is not the signer certificate's, and re-keying is not allowed"
            }
        })
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingOperation => f.write_str("the query has no operation parameter"),
            Self::UnknownOperation(op) => write!(f, "unknown SCEP operation {op:?}"),
            Self::MissingMessage => {
                f.write_str("a PKIOperation GET request has no message parameter")
            }
            Self::BadBase64 => f.write_str("the message is not valid base64"),
            Self::BadQuery => f.write_str("the query string is malformed"),
            Self::MethodNotAllowed(m) => write!(f, "method {m} is not allowed here"),
            Self::BodyTooLarge { limit } => {
                write!(f, "the body exceeds the limit of {limit} bytes")
            }
            Self::UnexpectedContentType(t) => write!(f, "unexpected content type {t:?}"),
            Self::Status(s) => write!(f, "the server answered with HTTP status {s}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(e) => e.cause.source_error(),
            Self::Crypto(CryptoError::SigningFailed(c) | CryptoError::EncryptionFailed(c)) => {
                c.source_error()
            }
            _ => None,
        }
    }
}

impl CryptoError {
    /// A signing failure that keeps the signer's `error` (an HSM's, a key's) as its
    /// [`source`](std::error::Error::source).
    pub fn signing_failed(error: impl Into<BoxedError>) -> Self {
        Self::SigningFailed(Cause::from_error(error))
    }
}

impl From<AlgorithmError> for Error {
    fn from(e: AlgorithmError) -> Self {
        Self::Algorithm(e)
    }
}
impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}
impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}
impl From<PolicyError> for Error {
    fn from(e: PolicyError) -> Self {
        Self::Policy(e)
    }
}
impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        Self::Http(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unexpected_message_type_names_what_was_expected_and_found() {
        let e = Error::from(ProtocolError::UnexpectedMessageType {
            expected: MessageType::REQUESTS,
            found: MessageType::CertRep,
        });
        assert_eq!(
            e.to_string(),
            "expected a PKCSReq or RenewalReq or CertPoll or GetCert or GetCRL message, \
             found messageType CertRep (3)"
        );
        assert_eq!(e.fail_info(), Some(FailInfo::BadRequest));
    }

    #[test]
    fn a_capability_the_ca_lacks_is_named_by_its_keyword() {
        let e = Error::from(PolicyError::NotSupportedByCa(Capability::GetNextCaCert));
        assert_eq!(
            e.to_string(),
            "the CA does not announce the GetNextCACert capability"
        );
    }

    #[test]
    fn a_store_or_signer_error_is_kept_as_the_source() {
        use std::error::Error as _;
        let io = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let store = Error::from(StoreError::caused_by("transaction store", io()));
        assert_eq!(
            store.to_string(),
            "the transaction store could not answer: refused"
        );
        let source = store
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(
            source.map(std::io::Error::kind),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
        let signer = Error::from(CryptoError::signing_failed(io()));
        assert!(
            signer
                .source()
                .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
        );
        // A text alone has no source, and equality ignores the source.
        assert!(
            Error::from(StoreError::new("replay store", "x"))
                .source()
                .is_none()
        );
        assert_eq!(
            StoreError::caused_by("s", io()),
            StoreError::new("s", "refused")
        );
    }
}
