//! Single-valued attributes: the one reader and the builders that SCEP's authenticated
//! attributes (RFC 8894 section 3.2.1), CMS's signed attributes (RFC 5652 section 5.3) and
//! PKCS #10's attributes (RFC 2986 section 4.1) share.
//!
//! ```text
//! Attribute ::= SEQUENCE {
//!   attrType   OBJECT IDENTIFIER,
//!   attrValues SET OF AttributeValue }
//! ```
//!
//! Every attribute this crate reads holds exactly one value. The policy, the same in every
//! layer: an attribute without a value, or with more than one, is an [`Error::Decode`]
//! naming it; an attribute that appears twice is a [`ProtocolError::DuplicateAttribute`];
//! a required one that is absent, a [`ProtocolError::MissingAttribute`].

use der::asn1::{Any, ObjectIdentifier, OctetString, PrintableString, SetOfVec};
use der::{Decode, Encode};
use x509_cert::attr::Attribute;

use crate::error::{Element, Error, ProtocolError, Result};

/// The one value of `attr`; `element` names it in errors.
pub(crate) fn single_value(element: Element, attr: &Attribute) -> Result<&Any> {
    let mut values = attr.values.iter();
    match (values.next(), values.next()) {
        (Some(value), None) => Ok(value),
        (None, _) => Err(Error::decode(element, "the attribute has no value")),
        (Some(_), Some(_)) => Err(Error::decode(
            element,
            "the attribute has more than one value",
        )),
    }
}

/// The one value of the attribute `oid` among `attrs`, which must appear exactly once;
/// `name` names it in errors.
pub(crate) fn required_value<'a>(
    attrs: impl IntoIterator<Item = &'a Attribute>,
    oid: ObjectIdentifier,
    name: Element,
) -> Result<&'a Any> {
    let mut found = attrs.into_iter().filter(|a| a.oid == oid);
    let attr = found.next().ok_or(ProtocolError::MissingAttribute(name))?;
    if found.next().is_some() {
        return Err(ProtocolError::DuplicateAttribute(name).into());
    }
    single_value(name, attr)
}

/// Encodes any value as an `Any`; `element` names it in errors.
pub(crate) fn to_any<T: Encode>(element: Element, value: &T) -> Result<Any> {
    let der = value.to_der().map_err(|e| Error::encode(element, e))?;
    Any::from_der(&der).map_err(|e| Error::encode(element, e))
}

/// The attribute `oid` with the one value `value`.
pub(crate) fn single(oid: ObjectIdentifier, value: Any) -> Result<Attribute> {
    let mut values = SetOfVec::new();
    values
        .insert(value)
        .map_err(|e| Error::encode(Element::AttributeValue, e))?;
    Ok(Attribute { oid, values })
}

/// The attribute `oid` with a PrintableString value.
pub(crate) fn printable(oid: ObjectIdentifier, text: &str) -> Result<Attribute> {
    let s = PrintableString::new(text).map_err(|e| Error::encode(Element::AttributeValue, e))?;
    single(oid, to_any(Element::AttributeValue, &s)?)
}

/// The attribute `oid` with an OCTET STRING value.
pub(crate) fn octets(oid: ObjectIdentifier, bytes: &[u8]) -> Result<Attribute> {
    let s = OctetString::new(bytes).map_err(|e| Error::encode(Element::AttributeValue, e))?;
    single(oid, to_any(Element::AttributeValue, &s)?)
}

/// The attribute `oid` with an OBJECT IDENTIFIER value.
pub(crate) fn object_identifier(
    oid: ObjectIdentifier,
    value: ObjectIdentifier,
) -> Result<Attribute> {
    single(oid, to_any(Element::AttributeValue, &value)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oids;

    #[test]
    fn one_policy_for_every_reader() {
        let one = octets(oids::ID_SENDER_NONCE, &[1; 16]).unwrap();
        assert!(single_value(Element::SenderNonce, &one).is_ok());

        let mut two = one.clone();
        two.values
            .insert(
                to_any(
                    Element::AttributeValue,
                    &OctetString::new([2u8; 16]).unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
        assert!(matches!(
            single_value(Element::SenderNonce, &two),
            Err(Error::Decode { .. })
        ));
        let none = Attribute {
            oid: oids::ID_SENDER_NONCE,
            values: SetOfVec::new(),
        };
        assert!(matches!(
            single_value(Element::SenderNonce, &none),
            Err(Error::Decode { .. })
        ));

        let attrs = [one.clone(), one.clone()];
        assert_eq!(
            required_value(&attrs, oids::ID_SENDER_NONCE, Element::SenderNonce),
            Err(ProtocolError::DuplicateAttribute(Element::SenderNonce).into())
        );
        assert_eq!(
            required_value(&attrs[..0], oids::ID_SENDER_NONCE, Element::SenderNonce),
            Err(ProtocolError::MissingAttribute(Element::SenderNonce).into())
        );
        assert!(required_value(&attrs[..1], oids::ID_SENDER_NONCE, Element::SenderNonce).is_ok());
    }
}
