//! SignedData (RFC 5652 section 5).
//!
//! ```text
//! SignedData ::= SEQUENCE {
//!   version CMSVersion,
//!   digestAlgorithms DigestAlgorithmIdentifiers,
//!   encapContentInfo EncapsulatedContentInfo,
//!   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!   signerInfos SignerInfos }
//!
//! SignerInfo ::= SEQUENCE {
//!   version CMSVersion,
//!   sid SignerIdentifier,
//!   digestAlgorithm DigestAlgorithmIdentifier,
//!   signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//!   signatureAlgorithm SignatureAlgorithmIdentifier,
//!   signature SignatureValue,
//!   unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
//!
//! SignerIdentifier ::= CHOICE {
//!   issuerAndSerialNumber IssuerAndSerialNumber,
//!   subjectKeyIdentifier [0] SubjectKeyIdentifier }
//! ```
//!
//! CertificateSet and RevocationInfoChoices are kept as sets of [`Any`]: certificates
//! (SEQUENCE) and CRLs are decoded from them one by one, and the other choices
//! (attribute certificates, other formats) are skipped rather than failing the message.

#![expect(
    clippy::exhaustive_structs,
    clippy::exhaustive_enums,
    reason = "ASN.1 structures of RFC 5652 section 5: fixed by the RFC, fields public to build and read them, as in RustCrypto formats"
)]

use cms::content_info::CmsVersion;
use cms::signed_data::EncapsulatedContentInfo;
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Choice, Sequence, ValueOrd};
use x509_cert::attr::Attributes;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::cert::IssuerAndSerialNumber;

/// `SignedData` (RFC 5652 section 5.1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SignedData {
    /// CMSVersion: 1 for SCEP (issuerAndSerialNumber signers, id-data content).
    pub version: CmsVersion,
    /// The digest algorithms of the signers.
    pub digest_algorithms: SetOfVec<AlgorithmIdentifierOwned>,
    /// The signed content.
    pub encap_content_info: EncapsulatedContentInfo,
    /// Certificates (as received; decode with [`crate::asn1::Certificate`]).
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub certificates: Option<SetOfVec<Any>>,
    /// CRLs and other revocation information.
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub crls: Option<SetOfVec<Any>>,
    /// The signers.
    pub signer_infos: SetOfVec<SignerInfo>,
}

/// `SignerIdentifier` (RFC 5652 section 5.3).
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum SignerIdentifier {
    /// The signer certificate's issuer and serial number.
    IssuerAndSerialNumber(IssuerAndSerialNumber),
    /// The signer certificate's subjectKeyIdentifier.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    SubjectKeyIdentifier(OctetString),
}

/// `SignerInfo` (RFC 5652 section 5.3).
#[derive(Clone, Debug, PartialEq, Eq, Sequence, ValueOrd)]
pub struct SignerInfo {
    /// 1 for issuerAndSerialNumber, 3 for subjectKeyIdentifier.
    pub version: CmsVersion,
    /// Which certificate signed.
    pub sid: SignerIdentifier,
    /// The digest algorithm.
    pub digest_alg: AlgorithmIdentifierOwned,
    /// The signed (authenticated) attributes, where SCEP puts its fields.
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub signed_attrs: Option<Attributes>,
    /// The signature algorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// The signature.
    pub signature: OctetString,
    /// Unsigned attributes.
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub unsigned_attrs: Option<Attributes>,
}

impl ValueOrd for SignerIdentifier {
    fn value_cmp(&self, other: &Self) -> der::Result<core::cmp::Ordering> {
        use der::{DerOrd, Encode};
        self.to_der()?.der_cmp(&other.to_der()?)
    }
}
