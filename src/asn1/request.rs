//! PKCS #10 `CertificationRequest` (RFC 2986 section 4), as SCEP peers send it.
//!
//! ```text
//! CertificationRequestInfo ::= SEQUENCE {
//!     version       INTEGER { v1(0) } (v1,...),
//!     subject       Name,
//!     subjectPKInfo SubjectPublicKeyInfo{{ PKInfoAlgorithms }},
//!     attributes    [0] Attributes{{ CRIAttributes }} }
//!
//! CertificationRequest ::= SEQUENCE {
//!     certificationRequestInfo CertificationRequestInfo,
//!     signatureAlgorithm AlgorithmIdentifier{{ SignatureAlgorithms }},
//!     signature          BIT STRING }
//! ```
//!
//! Declared here rather than taken from x509-cert because x509-cert accepts only version 0,
//! and Apple devices (iOS and macOS SCEP clients) send version 2. The version is kept as
//! received, so the signature, which covers it, still verifies.

#![expect(
    clippy::exhaustive_structs,
    reason = "ASN.1 structures of RFC 2986: fixed by the RFC, fields public to build and read them, as in RustCrypto formats"
)]

use der::Sequence;
use der::asn1::BitString;
use x509_cert::attr::Attributes;
use x509_cert::name::Name;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// `CertificationRequestInfo`: what the requester signs.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertReqInfo {
    /// The version: 0 (v1) is the only one RFC 2986 defines; Apple devices send 2.
    pub version: u8,
    /// The subject name.
    pub subject: Name,
    /// The subject's public key.
    pub public_key: SubjectPublicKeyInfoOwned,
    /// The attributes: challengePassword, extensionRequest and others.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    pub attributes: Attributes,
}

/// `CertificationRequest`: a PKCS #10 request.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertReq {
    /// The signed request information.
    pub info: CertReqInfo,
    /// The signature algorithm.
    pub algorithm: AlgorithmIdentifierOwned,
    /// The signature over the DER of `info`, by the key in it.
    pub signature: BitString,
}

impl der::pem::PemLabel for CertReq {
    const PEM_LABEL: &'static str = "CERTIFICATE REQUEST";
}
