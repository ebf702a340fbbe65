//! The SCEP authenticated attributes (RFC 8894 section 3.2.1) and their typed form.
//!
//! ```text
//! transactionID  PrintableString   2.16.840.1.113733.1.9.7
//! messageType    PrintableString   2.16.840.1.113733.1.9.2   (decimal)
//! pkiStatus      PrintableString   2.16.840.1.113733.1.9.3   (decimal)
//! failInfo       PrintableString   2.16.840.1.113733.1.9.4   (decimal)
//! senderNonce    OCTET STRING      2.16.840.1.113733.1.9.5
//! recipientNonce OCTET STRING      2.16.840.1.113733.1.9.6
//! failInfoText   UTF8String        1.3.6.1.5.5.7.24.1
//! ```
//!
//! Every SCEP attribute must appear at most once with exactly one value; a duplicate is a
//! [`ProtocolError::DuplicateAttribute`] naming it. Attributes this crate does not interpret
//! (signingTime, PKCS #9 randomNonce, vendor attributes) are kept in
//! [`ScepAttributes::other`], never silently dropped. The CMS attributes contentType and
//! messageDigest are handled by the SignedData layer and do not appear here.

use der::asn1::{OctetString, Utf8StringRef};
use der::{Decode, Encode, Tag, Tagged};
use x509_cert::attr::Attribute;

use crate::asn1::attribute::{self, single_value, to_any};
use crate::error::{Element, Error, ProtocolError, Result};
use crate::oids;
use crate::types::{FailInfo, MessageType, Nonce, PkiStatus, TransactionId, parse_decimal};

/// The SCEP authenticated attributes of a pkiMessage, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScepAttributes {
    /// `messageType`.
    pub message_type: MessageType,
    /// `transactionID`.
    pub transaction_id: TransactionId,
    /// `senderNonce`. Required by RFC 8894 in every message, but absent from some CertReps
    /// in the wild (cryptlib puts its nonce in PKCS #9 randomNonce instead); whether its
    /// absence is an error is decided by the caller's strictness.
    pub sender_nonce: Option<Nonce>,
    /// `recipientNonce` (CertRep only): the senderNonce of the request it answers.
    pub recipient_nonce: Option<Nonce>,
    /// `pkiStatus` (CertRep only).
    pub pki_status: Option<PkiStatus>,
    /// `failInfo` (CertRep FAILURE only).
    pub fail_info: Option<FailInfo>,
    /// `failInfoText` (CertRep FAILURE only): a human-readable reason, UTF-8.
    pub fail_info_text: Option<String>,
    /// Authenticated attributes this crate does not interpret, kept as received
    /// (signingTime, PKCS #9 randomNonce, vendor extensions).
    pub other: Vec<Attribute>,
}

impl ScepAttributes {
    /// Attributes for a request: message type, transaction ID and a sender nonce.
    pub fn request(
        message_type: MessageType,
        transaction_id: TransactionId,
        sender_nonce: Nonce,
    ) -> Self {
        Self {
            message_type,
            transaction_id,
            sender_nonce: Some(sender_nonce),
            recipient_nonce: None,
            pki_status: None,
            fail_info: None,
            fail_info_text: None,
            other: Vec::new(),
        }
    }

    /// The PKCS #9 randomNonce (1.2.840.113549.1.9.25.3) if one was sent, which cryptlib
    /// uses in place of senderNonce in CertReps.
    pub fn random_nonce(&self) -> Option<Vec<u8>> {
        let attr = self.other.iter().find(|a| a.oid == oids::RANDOM_NONCE)?;
        let value = attr.values.iter().next()?;
        value
            .decode_as::<OctetString>()
            .ok()
            .map(|o| o.into_bytes().into_vec())
    }

    /// The signingTime attribute, if one was sent.
    pub fn signing_time(&self) -> Option<x509_cert::time::Time> {
        let attr = self.other.iter().find(|a| a.oid == oids::ID_SIGNING_TIME)?;
        let value = attr.values.iter().next()?;
        let der = value.to_der().ok()?;
        x509_cert::time::Time::from_der(&der).ok()
    }

    /// Decodes the SCEP attributes out of a SignerInfo's signed attributes.
    ///
    /// contentType and messageDigest are skipped (the SignedData layer checks them).
    pub fn from_attributes<'a, I>(attributes: I) -> Result<Self>
    where
        I: IntoIterator<Item = &'a Attribute>,
    {
        let mut message_type = None;
        let mut transaction_id = None;
        let mut sender_nonce = None;
        let mut recipient_nonce = None;
        let mut pki_status = None;
        let mut fail_info = None;
        let mut fail_info_text = None;
        let mut other = Vec::new();

        for attr in attributes {
            let oid = attr.oid;
            if oid == oids::ID_CONTENT_TYPE || oid == oids::ID_MESSAGE_DIGEST {
                continue;
            } else if oid == oids::ID_MESSAGE_TYPE {
                let name = Element::MessageType;
                let text = printable_value(name, attr)?;
                set_once(
                    &mut message_type,
                    MessageType::from_value(parse_decimal(name, &text)?),
                    Element::MessageType,
                )?;
            } else if oid == oids::ID_TRANSACTION_ID {
                let name = Element::TransactionId;
                let text = printable_value(name, attr)?;
                let id = TransactionId::new(text).map_err(|e| retarget(e, name))?;
                set_once(&mut transaction_id, id, Element::TransactionId)?;
            } else if oid == oids::ID_SENDER_NONCE {
                let name = Element::SenderNonce;
                let bytes = octets_value(name, attr)?;
                let nonce = Nonce::from_bytes(&bytes).map_err(|e| retarget(e, name))?;
                set_once(&mut sender_nonce, nonce, Element::SenderNonce)?;
            } else if oid == oids::ID_RECIPIENT_NONCE {
                let name = Element::RecipientNonce;
                let bytes = octets_value(name, attr)?;
                let nonce = Nonce::from_bytes(&bytes).map_err(|e| retarget(e, name))?;
                set_once(&mut recipient_nonce, nonce, Element::RecipientNonce)?;
            } else if oid == oids::ID_PKI_STATUS {
                let name = Element::PkiStatus;
                let text = printable_value(name, attr)?;
                let status = PkiStatus::from_value(parse_decimal(name, &text)?)?;
                set_once(&mut pki_status, status, Element::PkiStatus)?;
            } else if oid == oids::ID_FAIL_INFO {
                let name = Element::FailInfo;
                let text = printable_value(name, attr)?;
                set_once(
                    &mut fail_info,
                    FailInfo::from_value(parse_decimal(name, &text)?),
                    Element::FailInfo,
                )?;
            } else if oid == oids::ID_SCEP_FAIL_INFO_TEXT {
                let name = Element::FailInfoText;
                let value = single_value(name, attr)?;
                let text = value
                    .decode_as::<Utf8StringRef<'_>>()
                    .map_err(|e| Error::decode(name, e))?;
                set_once(
                    &mut fail_info_text,
                    text.as_str().to_owned(),
                    Element::FailInfoText,
                )?;
            } else {
                other.push(attr.clone());
            }
        }

        let message_type =
            message_type.ok_or(ProtocolError::MissingAttribute(Element::MessageType))?;
        let transaction_id =
            transaction_id.ok_or(ProtocolError::MissingAttribute(Element::TransactionId))?;
        Ok(Self {
            message_type,
            transaction_id,
            sender_nonce,
            recipient_nonce,
            pki_status,
            fail_info,
            fail_info_text,
            other,
        })
    }

    /// Encodes the SCEP attributes (and the kept `other` ones) as CMS attributes.
    pub fn to_attributes(&self) -> Result<Vec<Attribute>> {
        let mut out = Vec::with_capacity(8);
        out.push(attribute::printable(
            oids::ID_MESSAGE_TYPE,
            &self.message_type.value().to_string(),
        )?);
        out.push(attribute::printable(
            oids::ID_TRANSACTION_ID,
            self.transaction_id.as_str(),
        )?);
        if let Some(n) = &self.sender_nonce {
            out.push(attribute::octets(oids::ID_SENDER_NONCE, n.as_bytes())?);
        }
        if let Some(n) = &self.recipient_nonce {
            out.push(attribute::octets(oids::ID_RECIPIENT_NONCE, n.as_bytes())?);
        }
        if let Some(s) = self.pki_status {
            out.push(attribute::printable(
                oids::ID_PKI_STATUS,
                &s.value().to_string(),
            )?);
        }
        if let Some(f) = self.fail_info {
            out.push(attribute::printable(
                oids::ID_FAIL_INFO,
                &f.value().to_string(),
            )?);
        }
        if let Some(t) = &self.fail_info_text {
            let value =
                Utf8StringRef::new(t).map_err(|e| Error::encode(Element::FailInfoText, e))?;
            out.push(attribute::single(
                oids::ID_SCEP_FAIL_INFO_TEXT,
                to_any(Element::FailInfoText, &value)?,
            )?);
        }
        out.extend(self.other.iter().cloned());
        Ok(out)
    }
}

fn retarget(err: Error, element: Element) -> Error {
    match err {
        Error::Decode { detail, .. } => Error::Decode { element, detail },
        e => e,
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, name: Element) -> Result<()> {
    if slot.is_some() {
        return Err(ProtocolError::DuplicateAttribute(name).into());
    }
    *slot = Some(value);
    Ok(())
}

/// Reads a text value. RFC 8894 says PrintableString; peers have been seen sending
/// IA5String and UTF8String, which are accepted when the text itself is printable.
fn printable_value(element: Element, attr: &Attribute) -> Result<String> {
    let value = single_value(element, attr)?;
    let text = match value.tag() {
        Tag::PrintableString | Tag::Ia5String | Tag::Utf8String => {
            core::str::from_utf8(value.value())
                .map_err(|_| Error::decode(element, "the string is not valid text"))?
        }
        t => {
            return Err(Error::decode(
                element,
                format_args!("expected a PrintableString, found {t}"),
            ));
        }
    };
    Ok(text.to_owned())
}

fn octets_value(element: Element, attr: &Attribute) -> Result<Vec<u8>> {
    let value = single_value(element, attr)?;
    if value.tag() != Tag::OctetString {
        return Err(Error::decode(
            element,
            format_args!("expected an OCTET STRING, found {}", value.tag()),
        ));
    }
    Ok(value.value().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ScepAttributes {
        ScepAttributes {
            message_type: MessageType::CertRep,
            transaction_id: TransactionId::new("ABC-123").unwrap(),
            sender_nonce: Some(Nonce::from_bytes(&[1; 16]).unwrap()),
            recipient_nonce: Some(Nonce::from_bytes(&[2; 8]).unwrap()),
            pki_status: Some(PkiStatus::Failure),
            fail_info: Some(FailInfo::BadCertId),
            fail_info_text: Some("unknown serial — déjà vu".into()),
            other: vec![attribute::octets(oids::RANDOM_NONCE, &[9; 8]).unwrap()],
        }
    }

    #[test]
    fn round_trip() {
        let a = sample();
        let attrs = a.to_attributes().unwrap();
        let b = ScepAttributes::from_attributes(&attrs).unwrap();
        assert_eq!(a, b);
        assert_eq!(b.random_nonce(), Some(vec![9; 8]));
    }

    #[test]
    fn duplicates_are_refused() {
        let mut attrs = sample().to_attributes().unwrap();
        attrs.push(attribute::printable(oids::ID_MESSAGE_TYPE, "19").unwrap());
        assert_eq!(
            ScepAttributes::from_attributes(&attrs),
            Err(ProtocolError::DuplicateAttribute(Element::MessageType).into())
        );
    }

    #[test]
    fn missing_transaction_id_is_named() {
        let attrs = vec![attribute::printable(oids::ID_MESSAGE_TYPE, "19").unwrap()];
        assert_eq!(
            ScepAttributes::from_attributes(&attrs),
            Err(ProtocolError::MissingAttribute(Element::TransactionId).into())
        );
    }

    #[test]
    fn bad_nonce_names_attribute() {
        let attrs = vec![
            attribute::printable(oids::ID_MESSAGE_TYPE, "19").unwrap(),
            attribute::printable(oids::ID_TRANSACTION_ID, "x").unwrap(),
            attribute::octets(oids::ID_SENDER_NONCE, &[0; 3]).unwrap(),
        ];
        match ScepAttributes::from_attributes(&attrs) {
            Err(Error::Decode { element, .. }) => assert_eq!(element, Element::SenderNonce),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn octet_string_where_text_expected_is_an_error() {
        let attrs = vec![attribute::octets(oids::ID_MESSAGE_TYPE, b"19").unwrap()];
        assert!(matches!(
            ScepAttributes::from_attributes(&attrs),
            Err(Error::Decode {
                element: Element::MessageType,
                ..
            })
        ));
    }
}
