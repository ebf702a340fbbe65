//! EnvelopedData (RFC 5652 section 6).
//!
//! ```text
//! EnvelopedData ::= SEQUENCE {
//!   version CMSVersion,
//!   originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//!   recipientInfos RecipientInfos,
//!   encryptedContentInfo EncryptedContentInfo,
//!   unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
//!
//! RecipientInfo ::= CHOICE {
//!   ktri KeyTransRecipientInfo,
//!   kari [1] KeyAgreeRecipientInfo,
//!   kekri [2] KEKRecipientInfo,
//!   pwri [3] PasswordRecipientinfo,
//!   ori [4] OtherRecipientInfo }
//!
//! KeyTransRecipientInfo ::= SEQUENCE {
//!   version CMSVersion,  -- always set to 0 or 2
//!   rid RecipientIdentifier,
//!   keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
//!   encryptedKey EncryptedKey }
//!
//! RecipientIdentifier ::= CHOICE {
//!   issuerAndSerialNumber IssuerAndSerialNumber,
//!   subjectKeyIdentifier [0] SubjectKeyIdentifier }
//!
//! PasswordRecipientInfo ::= SEQUENCE {
//!   version CMSVersion,   -- Always set to 0
//!   keyDerivationAlgorithm [0] KeyDerivationAlgorithmIdentifier OPTIONAL,
//!   keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
//!   encryptedKey EncryptedKey }
//! ```
//!
//! RecipientInfos are kept as a set of [`Any`] and read with [`RecipientInfo::from_any`],
//! so that choices this crate does not implement (kari, kekri, ori) are listed, not fatal.

#![expect(
    clippy::exhaustive_structs,
    clippy::exhaustive_enums,
    reason = "ASN.1 structures of RFC 5652 section 6: fixed by the RFC, fields public to build and read them, as in RustCrypto formats"
)]

use cms::content_info::CmsVersion;
use cms::enveloped_data::EncryptedContentInfo;
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Choice, Decode, Encode, Sequence, Tag, TagNumber, Tagged, ValueOrd};
use x509_cert::attr::Attributes;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::cert::IssuerAndSerialNumber;
use crate::error::{Element, Error, Result};

/// `EnvelopedData` (RFC 5652 section 6.1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct EnvelopedData {
    /// 0 with only key-transport recipients, 3 with a PasswordRecipientInfo.
    pub version: CmsVersion,
    /// Originator certificates and CRLs (unused by SCEP; kept as received).
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub originator_info: Option<SetOfVec<Any>>,
    /// The RecipientInfos, each read with [`RecipientInfo::from_any`].
    pub recip_infos: SetOfVec<Any>,
    /// The encrypted content.
    pub encrypted_content: EncryptedContentInfo,
    /// Unprotected attributes.
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub unprotected_attrs: Option<Attributes>,
}

/// `RecipientIdentifier` (RFC 5652 section 6.2.1).
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum RecipientIdentifier {
    /// The recipient certificate's issuer and serial number.
    IssuerAndSerialNumber(IssuerAndSerialNumber),
    /// The recipient certificate's subjectKeyIdentifier.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    SubjectKeyIdentifier(OctetString),
}

/// `KeyTransRecipientInfo` (RFC 5652 section 6.2.1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct KeyTransRecipientInfo {
    /// 0 for issuerAndSerialNumber, 2 for subjectKeyIdentifier.
    pub version: CmsVersion,
    /// Which certificate's key the content key is encrypted to.
    pub rid: RecipientIdentifier,
    /// The key-transport algorithm (rsaEncryption).
    pub key_enc_alg: AlgorithmIdentifierOwned,
    /// The encrypted content-encryption key.
    pub enc_key: OctetString,
}

/// `PasswordRecipientInfo` (RFC 3211 section 2.2; RFC 5652 section 6.2.4).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PasswordRecipientInfo {
    /// Always 0.
    pub version: CmsVersion,
    /// The password-based key derivation (PBKDF2).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub key_derivation_alg: Option<AlgorithmIdentifierOwned>,
    /// id-alg-PWRI-KEK with the KEK cipher as parameter.
    pub key_enc_alg: AlgorithmIdentifierOwned,
    /// The wrapped content-encryption key.
    pub enc_key: OctetString,
}

/// A RecipientInfo, by choice.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecipientInfo {
    /// Key transport.
    Ktri(KeyTransRecipientInfo),
    /// Password.
    Pwri(PasswordRecipientInfo),
    /// kari, kekri or ori: listed but not used by this crate.
    Other(Any),
}

const PWRI_TAG: TagNumber = TagNumber(3);

impl RecipientInfo {
    /// Reads one element of `recipientInfos`.
    pub fn from_any(any: &Any) -> Result<Self> {
        match any.tag() {
            Tag::Sequence => any
                .decode_as::<KeyTransRecipientInfo>()
                .map(RecipientInfo::Ktri)
                .map_err(|e| Error::decode(Element::KeyTransRecipientInfo, e)),
            Tag::ContextSpecific {
                constructed: true,
                number,
            } if number == PWRI_TAG => {
                // [3] IMPLICIT: read the contents as the SEQUENCE they are.
                Any::new(Tag::Sequence, any.value())
                    .and_then(|seq| seq.decode_as::<PasswordRecipientInfo>())
                    .map(RecipientInfo::Pwri)
                    .map_err(|e| Error::decode(Element::PasswordRecipientInfo, e))
            }
            _ => Ok(Self::Other(any.clone())),
        }
    }

    /// Encodes this RecipientInfo as an element of `recipientInfos`.
    pub fn to_any(&self) -> Result<Any> {
        match self {
            Self::Ktri(k) => {
                let der = k
                    .to_der()
                    .map_err(|e| Error::encode(Element::KeyTransRecipientInfo, e))?;
                Any::from_der(&der).map_err(|e| Error::encode(Element::KeyTransRecipientInfo, e))
            }
            Self::Pwri(p) => {
                // [3] IMPLICIT: the SEQUENCE's contents under a constructed context tag.
                let der = p
                    .to_der()
                    .map_err(|e| Error::encode(Element::PasswordRecipientInfo, e))?;
                let seq = Any::from_der(&der)
                    .map_err(|e| Error::encode(Element::PasswordRecipientInfo, e))?;
                Any::new(
                    Tag::ContextSpecific {
                        constructed: true,
                        number: PWRI_TAG,
                    },
                    seq.value(),
                )
                .map_err(|e| Error::encode(Element::PasswordRecipientInfo, e))
            }
            Self::Other(a) => Ok(a.clone()),
        }
    }
}

impl ValueOrd for RecipientIdentifier {
    fn value_cmp(&self, other: &Self) -> der::Result<core::cmp::Ordering> {
        use der::DerOrd;
        self.to_der()?.der_cmp(&other.to_der()?)
    }
}
