//! The small typed values that SCEP carries in authenticated attributes
//! (RFC 8894 section 3.2.1): messageType, pkiStatus, failInfo, senderNonce /
//! recipientNonce and transactionID.

use core::fmt;

use rand_core::CryptoRng;
use sha2::{Digest, Sha256};

use crate::error::{Element, Error, Result};

/// The SCEP `messageType` (RFC 8894 section 3.2.1.2).
///
/// ```text
/// messageType ATTRIBUTE ::= { WITH SYNTAX PrintableString ... }
/// ```
///
/// It travels as a decimal number in a PrintableString. Values this crate does not know are
/// kept in [`MessageType::Unknown`], never lost, so that a server can answer them with
/// `badRequest` and a conformance tester can see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageType {
    /// CertRep (3): the response to every request.
    CertRep,
    /// RenewalReq (17): a certificate request signed with an existing certificate.
    RenewalReq,
    /// PKCSReq (19): a certificate request.
    PkcsReq,
    /// CertPoll (20), called GetCertInitial before RFC 8894: polls a pending request.
    CertPoll,
    /// GetCert (21): retrieves a certificate by issuer and serial number.
    GetCert,
    /// GetCRL (22): retrieves a CRL by issuer and serial number.
    GetCrl,
    /// Any other value, kept as it was received.
    Unknown(u32),
}

impl MessageType {
    /// The five requests a client sends, in the order of RFC 8894 section 3.2.1.2.
    pub const REQUESTS: &'static [Self] = &[
        Self::PkcsReq,
        Self::RenewalReq,
        Self::CertPoll,
        Self::GetCert,
        Self::GetCrl,
    ];

    /// The numeric value carried on the wire.
    pub fn value(self) -> u32 {
        match self {
            Self::CertRep => 3,
            Self::RenewalReq => 17,
            Self::PkcsReq => 19,
            Self::CertPoll => 20,
            Self::GetCert => 21,
            Self::GetCrl => 22,
            Self::Unknown(v) => v,
        }
    }

    /// Maps a wire value to a message type; unknown values become [`MessageType::Unknown`].
    pub fn from_value(value: u32) -> Self {
        match value {
            3 => Self::CertRep,
            17 => Self::RenewalReq,
            19 => Self::PkcsReq,
            20 => Self::CertPoll,
            21 => Self::GetCert,
            22 => Self::GetCrl,
            v => Self::Unknown(v),
        }
    }

    /// The name RFC 8894 uses for this message type.
    pub fn name(self) -> &'static str {
        match self {
            Self::CertRep => "CertRep",
            Self::RenewalReq => "RenewalReq",
            Self::PkcsReq => "PKCSReq",
            Self::CertPoll => "CertPoll",
            Self::GetCert => "GetCert",
            Self::GetCrl => "GetCRL",
            Self::Unknown(_) => "unknown",
        }
    }

    /// Whether this is a request (sent by a client) rather than a CertRep.
    pub fn is_request(self) -> bool {
        !matches!(self, Self::CertRep | Self::Unknown(_))
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.value())
    }
}

/// The `pkiStatus` of a CertRep (RFC 8894 section 3.2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[expect(
    clippy::exhaustive_enums,
    reason = "RFC 8894 section 3.2.1.3 defines exactly SUCCESS, FAILURE and PENDING"
)]
pub enum PkiStatus {
    /// SUCCESS (0): the request was granted.
    Success,
    /// FAILURE (2): the request was rejected; a failInfo says why.
    Failure,
    /// PENDING (3): the request awaits manual approval; poll with CertPoll.
    Pending,
}

impl PkiStatus {
    /// The numeric value carried on the wire.
    pub fn value(self) -> u32 {
        match self {
            Self::Success => 0,
            Self::Failure => 2,
            Self::Pending => 3,
        }
    }

    /// Maps a wire value to a status; other values are a decode error naming `pkiStatus`.
    pub fn from_value(value: u32) -> Result<Self> {
        match value {
            0 => Ok(Self::Success),
            2 => Ok(Self::Failure),
            3 => Ok(Self::Pending),
            v => Err(Error::decode(
                Element::PkiStatus,
                format_args!("{v} is not SUCCESS (0), FAILURE (2) or PENDING (3)"),
            )),
        }
    }

    /// The name RFC 8894 uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
            Self::Pending => "PENDING",
        }
    }
}

impl fmt::Display for PkiStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.value())
    }
}

/// The `failInfo` of a CertRep FAILURE (RFC 8894 section 3.2.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailInfo {
    /// badAlg (0): unrecognised or unsupported algorithm.
    BadAlg,
    /// badMessageCheck (1): integrity check (signature) failed.
    BadMessageCheck,
    /// badRequest (2): transaction not permitted or supported.
    BadRequest,
    /// badTime (3): the signingTime was not close enough to the system time.
    BadTime,
    /// badCertId (4): no certificate could be identified matching the criteria.
    BadCertId,
    /// Any other value, kept as it was received.
    Unknown(u32),
}

impl FailInfo {
    /// The numeric value carried on the wire.
    pub fn value(self) -> u32 {
        match self {
            Self::BadAlg => 0,
            Self::BadMessageCheck => 1,
            Self::BadRequest => 2,
            Self::BadTime => 3,
            Self::BadCertId => 4,
            Self::Unknown(v) => v,
        }
    }

    /// Maps a wire value; unknown values become [`FailInfo::Unknown`].
    pub fn from_value(value: u32) -> Self {
        match value {
            0 => Self::BadAlg,
            1 => Self::BadMessageCheck,
            2 => Self::BadRequest,
            3 => Self::BadTime,
            4 => Self::BadCertId,
            v => Self::Unknown(v),
        }
    }

    /// The name RFC 8894 uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadAlg => "badAlg",
            Self::BadMessageCheck => "badMessageCheck",
            Self::BadRequest => "badRequest",
            Self::BadTime => "badTime",
            Self::BadCertId => "badCertId",
            Self::Unknown(_) => "unknown",
        }
    }

    /// A fixed, human-readable text for this failInfo (its meaning in RFC 8894 section
    /// 3.2.1.4), for a failInfoText that tells the peer no more than the failInfo does.
    pub fn description(self) -> &'static str {
        match self {
            Self::BadAlg => "unrecognized or unsupported algorithm",
            Self::BadMessageCheck => "integrity check failed",
            Self::BadRequest => "transaction not permitted or supported",
            Self::BadTime => "the message time was not close enough to the system time",
            Self::BadCertId => "no certificate could be identified matching the criteria",
            Self::Unknown(_) => "the request failed",
        }
    }
}

impl fmt::Display for FailInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.value())
    }
}

/// Parses the decimal PrintableString form used by messageType, pkiStatus and failInfo.
pub(crate) fn parse_decimal(element: Element, text: &str) -> Result<u32> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::decode(
            element,
            format_args!("{text:?} is not a decimal number"),
        ));
    }
    text.parse::<u32>()
        .map_err(|e| Error::decode(element, format_args!("{text:?}: {e}")))
}

/// A `senderNonce` or `recipientNonce` (RFC 8894 section 3.2.1.5).
///
/// RFC 8894 nonces are 16 random octets. Old iOS versions send 8; both lengths are
/// accepted when decoding, any other length is a decode error. [`Nonce::generate`] always
/// makes 16 octets.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nonce(Vec<u8>);

impl Nonce {
    /// The length of the nonces this crate generates.
    pub const LEN: usize = 16;

    /// Generates a fresh 16-octet nonce.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; Self::LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes.to_vec())
    }

    /// Wraps received nonce bytes: 16 octets, or the 8 that old iOS versions send.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        match bytes.len() {
            8 | 16 => Ok(Self(bytes.to_vec())),
            n => Err(Error::decode(
                Element::Nonce,
                format_args!("{n} octets; SCEP nonces have 16 (or 8 from old iOS)"),
            )),
        }
    }

    /// The nonce's octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({self})")
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// A `transactionID` (RFC 8894 section 3.2.1.1): a PrintableString that ties a request to
/// its responses and polls.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TransactionId(String);

impl TransactionId {
    /// Maximum length accepted. RFC 8894 sets none; this bounds what a server must store.
    pub const MAX_LEN: usize = 512;

    /// Wraps a transaction ID, checking it is a non-empty PrintableString.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        if id.is_empty() {
            return Err(Error::decode(Element::TransactionId, "empty"));
        }
        if id.len() > Self::MAX_LEN {
            return Err(Error::decode(
                Element::TransactionId,
                format_args!("{} characters, more than {}", id.len(), Self::MAX_LEN),
            ));
        }
        if let Some(c) = id.chars().find(|c| !is_printable(*c)) {
            return Err(Error::decode(
                Element::TransactionId,
                format_args!("{c:?} is not allowed in a PrintableString"),
            ));
        }
        Ok(Self(id))
    }

    /// The transaction ID RFC 8894 section 3.2.1.1 recommends: a hash of the requester's
    /// public key, here the upper-case hex SHA-256 of the DER SubjectPublicKeyInfo.
    pub fn from_public_key(spki_der: &[u8]) -> Self {
        let digest = Sha256::digest(spki_der);
        let mut hex = String::with_capacity(64);
        for b in digest.iter() {
            hex.push_str(&format!("{b:02X}"));
        }
        Self(hex)
    }

    /// A random transaction ID (32 upper-case hex digits), for requests that have no key of
    /// their own (GetCert, GetCRL).
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        let mut hex = String::with_capacity(32);
        for b in bytes {
            hex.push_str(&format!("{b:02X}"));
        }
        Self(hex)
    }

    /// The transaction ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The PrintableString character set (X.680 section 41.4).
pub(crate) fn is_printable(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            ' ' | '\'' | '(' | ')' | '+' | ',' | '-' | '.' | '/' | ':' | '=' | '?'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_type_round_trips_and_keeps_unknown() {
        for v in [3, 17, 19, 20, 21, 22, 99] {
            assert_eq!(MessageType::from_value(v).value(), v);
        }
        assert_eq!(MessageType::from_value(99), MessageType::Unknown(99));
        assert_eq!(MessageType::from_value(20), MessageType::CertPoll);
    }

    #[test]
    fn pki_status_rejects_unknown() {
        assert_eq!(PkiStatus::from_value(3).ok(), Some(PkiStatus::Pending));
        assert!(matches!(
            PkiStatus::from_value(1),
            Err(Error::Decode {
                element: Element::PkiStatus,
                ..
            })
        ));
    }

    #[test]
    fn nonce_lengths() {
        assert!(Nonce::from_bytes(&[0; 16]).is_ok());
        assert!(Nonce::from_bytes(&[0; 8]).is_ok());
        assert!(Nonce::from_bytes(&[0; 15]).is_err());
        assert!(Nonce::from_bytes(&[]).is_err());
    }

    #[test]
    fn transaction_id_charset() {
        assert!(TransactionId::new("7XXEY-ERLPU-2JDR9").is_ok());
        assert!(TransactionId::new("a_b").is_err());
        assert!(TransactionId::new("").is_err());
        assert!(TransactionId::new("é").is_err());
    }

    #[test]
    fn decimal_parsing_is_strict() {
        assert_eq!(
            parse_decimal(Element::SignerInfoSignatureAlgorithm, "19").ok(),
            Some(19)
        );
        assert!(parse_decimal(Element::SignerInfoSignatureAlgorithm, "+19").is_err());
        assert!(parse_decimal(Element::SignerInfoSignatureAlgorithm, " 19").is_err());
        assert!(parse_decimal(Element::SignerInfoSignatureAlgorithm, "").is_err());
        assert!(parse_decimal(Element::SignerInfoSignatureAlgorithm, "99999999999").is_err());
    }
}
