//! `ContentInfo` (RFC 5652 section 3): the wrapper around both the pkiMessage SignedData
//! and the pkcsPKIEnvelope EnvelopedData, opened and made the same way for both.

use cms::content_info::ContentInfo;
use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, Encode};

use crate::error::{Element, Error, LimitKind, ProtocolError, Result};
use crate::limits::Limits;

/// Opens a (BER or DER) ContentInfo that must hold `content_type`: the size limit is
/// checked before any work, the input normalised to DER, the ContentInfo decoded
/// (`element` names it in an error) and its type checked (`wrong_type` says what it should
/// have been). Returns the content.
pub(crate) fn open(
    input: &[u8],
    limits: &Limits,
    content_type: ObjectIdentifier,
    element: Element,
    wrong_type: &'static str,
) -> Result<Any> {
    if input.len() > limits.max_message_size {
        return Err(Error::Limit {
            what: LimitKind::MessageSize,
            limit: limits.max_message_size,
        });
    }
    let der = crate::ber::to_der(input, limits)?;
    let info = ContentInfo::from_der(&der).map_err(|e| Error::decode(element, e))?;
    if info.content_type != content_type {
        return Err(ProtocolError::WrongContentType(wrong_type).into());
    }
    Ok(info.content)
}

/// The DER ContentInfo of `content_type` around `content` (`element` names the content
/// in an error).
pub(crate) fn wrap<T: der::EncodeValue + der::Tagged>(
    content_type: ObjectIdentifier,
    content: &T,
    element: Element,
) -> Result<Vec<u8>> {
    let content = Any::encode_from(content).map_err(|e| Error::encode(element, e))?;
    ContentInfo {
        content_type,
        content,
    }
    .to_der()
    .map_err(|e| Error::encode(Element::ContentInfo, e))
}
