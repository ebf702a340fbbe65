//! Certificates, CRLs and IssuerAndSerialNumber over the lenient `Raw` profile.

#![expect(
    clippy::exhaustive_structs,
    reason = "ASN.1 structures of RFC 5280 / RFC 5652: fixed by the RFC, fields public to build and read them, as in RustCrypto formats"
)]

use der::Sequence;
use x509_cert::certificate::Raw;
use x509_cert::name::Name;

/// An X.509 certificate as SCEP peers send it.
///
/// x509-cert's [`CertificateInner`](x509_cert::certificate::CertificateInner) with the
/// [`Raw`] profile: serial numbers of any length are accepted (certmonger uses 32 octets;
/// RFC 5280 asks for at most 20). Decode one with `der::Decode::from_der` or
/// `der::DecodePem::from_pem`; a certificate of x509-cert's default profile converts
/// through its DER encoding (see [`crate::cert::from_rfc5280`]).
pub type Certificate = x509_cert::certificate::CertificateInner<Raw>;

/// A CRL over the lenient profile.
pub type CertificateList = x509_cert::crl::CertificateList<Raw>;

/// A certificate serial number of any length.
pub type SerialNumber = x509_cert::serial_number::SerialNumber<Raw>;

/// `IssuerAndSerialNumber` (RFC 5652 section 10.2.4).
///
/// ```text
/// IssuerAndSerialNumber ::= SEQUENCE {
///   issuer Name,
///   serialNumber CertificateSerialNumber }
/// ```
///
/// Names a certificate: in a SignerInfo, a KeyTransRecipientInfo, and as the payload of
/// GetCert and GetCRL (RFC 8894 section 3.3.4).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct IssuerAndSerialNumber {
    /// The certificate's issuer.
    pub issuer: Name,
    /// The certificate's serial number.
    pub serial_number: SerialNumber,
}

impl IssuerAndSerialNumber {
    /// The issuer and serial number of `cert`.
    pub fn of(cert: &Certificate) -> Self {
        Self {
            issuer: cert.tbs_certificate().issuer().clone(),
            serial_number: cert.tbs_certificate().serial_number().clone(),
        }
    }

    /// Whether this names `cert`.
    pub fn matches(&self, cert: &Certificate) -> bool {
        cert.tbs_certificate().issuer() == &self.issuer
            && cert.tbs_certificate().serial_number() == &self.serial_number
    }
}

/// Whether `cert` has the subjectKeyIdentifier `ski` (how a SignerInfo or a RecipientInfo
/// names a certificate by key, RFC 5652 sections 5.3 and 6.2.1).
pub(crate) fn has_subject_key_identifier(cert: &Certificate, ski: &[u8]) -> bool {
    matches!(
        cert.tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>(),
        Ok(Some((_, found))) if found.0.as_bytes() == ski
    )
}
