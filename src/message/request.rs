//! The payloads of the request messages (RFC 8894 section 3.3).
//!
//! | messageType | payload inside the pkcsPKIEnvelope |
//! |---|---|
//! | PKCSReq (19), RenewalReq (17) | PKCS #10 `CertificationRequest` (RFC 2986) |
//! | CertPoll (20) | `IssuerAndSubject` |
//! | GetCert (21), GetCRL (22) | `IssuerAndSerialNumber` (RFC 5652 section 10.2.4) |

use crate::asn1::CertReq;
use der::{Decode, Encode, Sequence};
use x509_cert::name::Name;

use crate::asn1::IssuerAndSerialNumber;
use crate::error::{Element, Error, LimitKind, ProtocolError, Result};
use crate::limits::Limits;
use crate::types::MessageType;

/// The CertPoll payload (RFC 8894 section 3.3.3).
///
/// ```text
/// IssuerAndSubject ::= SEQUENCE {
///     issuer     Name,
///     subject    Name
/// }
/// ```
///
/// `issuer` is the CA's name, `subject` the subject of the pending request.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[expect(
    clippy::exhaustive_structs,
    reason = "the ASN.1 structure of RFC 8894 section 3.3.3, fixed"
)]
pub struct IssuerAndSubject {
    /// The issuing CA's distinguished name.
    pub issuer: Name,
    /// The subject of the certificate request being polled.
    pub subject: Name,
}

/// The typed content of a request message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestContent {
    /// PKCSReq: a PKCS #10 request, signed with a self-signed certificate (or, for renewal
    /// on CAs without RenewalReq, an existing certificate).
    PkcsReq(CertReq),
    /// RenewalReq: a PKCS #10 request signed with a certificate the CA issued.
    RenewalReq(CertReq),
    /// CertPoll (formerly GetCertInitial): polls a PENDING request.
    CertPoll(IssuerAndSubject),
    /// GetCert: asks for the certificate with this issuer and serial number.
    GetCert(IssuerAndSerialNumber),
    /// GetCRL: asks for the CRL covering the certificate with this issuer and serial number.
    GetCrl(IssuerAndSerialNumber),
}

impl RequestContent {
    /// The messageType this content travels under.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::PkcsReq(_) => MessageType::PkcsReq,
            Self::RenewalReq(_) => MessageType::RenewalReq,
            Self::CertPoll(_) => MessageType::CertPoll,
            Self::GetCert(_) => MessageType::GetCert,
            Self::GetCrl(_) => MessageType::GetCrl,
        }
    }

    /// The DER payload that goes into the pkcsPKIEnvelope.
    pub fn to_der(&self) -> Result<Vec<u8>> {
        let r = match self {
            Self::PkcsReq(c) | Self::RenewalReq(c) => c.to_der(),
            Self::CertPoll(c) => c.to_der(),
            Self::GetCert(c) | Self::GetCrl(c) => c.to_der(),
        };
        r.map_err(|e| Error::encode(Element::RequestPayload, e))
    }

    /// Decodes the payload of a request of `message_type` (already decrypted; BER accepted).
    pub fn from_der(message_type: MessageType, payload: &[u8], limits: &Limits) -> Result<Self> {
        let der = crate::ber::to_der(payload, limits)?;
        match message_type {
            MessageType::PkcsReq | MessageType::RenewalReq => {
                if der.len() > limits.max_csr_size {
                    return Err(Error::Limit {
                        what: LimitKind::CsrSize,
                        limit: limits.max_csr_size,
                    });
                }
                let csr = CertReq::from_der(&der)
                    .map_err(|e| Error::decode(Element::Pkcs10CertificationRequest, e))?;
                if csr.info.attributes.len() > limits.max_attributes {
                    return Err(Error::Limit {
                        what: LimitKind::CsrAttributes,
                        limit: limits.max_attributes,
                    });
                }
                Ok(if message_type == MessageType::PkcsReq {
                    Self::PkcsReq(csr)
                } else {
                    Self::RenewalReq(csr)
                })
            }
            MessageType::CertPoll => IssuerAndSubject::from_der(&der)
                .map(RequestContent::CertPoll)
                .map_err(|e| Error::decode(Element::IssuerAndSubject, e)),
            MessageType::GetCert => IssuerAndSerialNumber::from_der(&der)
                .map(RequestContent::GetCert)
                .map_err(|e| Error::decode(Element::IssuerAndSerialNumber, e)),
            MessageType::GetCrl => IssuerAndSerialNumber::from_der(&der)
                .map(RequestContent::GetCrl)
                .map_err(|e| Error::decode(Element::IssuerAndSerialNumber, e)),
            other => Err(ProtocolError::UnexpectedMessageType {
                expected: MessageType::REQUESTS,
                found: other,
            }
            .into()),
        }
    }
}
