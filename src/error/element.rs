//! The element an error is about, as a closed enum.
//!
//! Every [`Error::Decode`](super::Error::Decode), [`Error::Encode`](super::Error::Encode),
//! [`AlgorithmError`](super::AlgorithmError) and missing or duplicate attribute names the
//! element concerned with one of these values, so that code can match on it rather than on
//! text. Its [`Display`](fmt::Display) is the name an operator reads in the message (the
//! ASN.1 name of the structure or field, e.g. `SignerInfo.digestAlgorithm`).

use core::fmt;

/// An ASN.1 structure or field, an SCEP attribute, or a text field an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Element {
    /// `attribute value`.
    AttributeValue,
    /// `aws-lc signer's digest`: a digest an aws-lc key does not sign with.
    AwsLcSignerDigest,
    /// `authorityKeyIdentifier extension`.
    AuthorityKeyIdentifierExtension,
    /// `basicConstraints extension`.
    BasicConstraintsExtension,
    /// `BER encoding`.
    BerEncoding,
    /// `CA certificate`.
    CaCertificate,
    /// `Certificate`.
    Certificate,
    /// `CertificateList.signatureAlgorithm`.
    CertificateListSignatureAlgorithm,
    /// `certificate signature`.
    CertificateSignature,
    /// `Certificate.signatureAlgorithm`.
    CertificateSignatureAlgorithm,
    /// `CertificationRequest`.
    CertificationRequest,
    /// `CertificationRequestInfo`.
    CertificationRequestInfo,
    /// `CertificationRequest.signatureAlgorithm`.
    CertificationRequestSignatureAlgorithm,
    /// `challengePassword attribute`.
    ChallengePassword,
    /// `contentEncryptionAlgorithm`.
    ContentEncryptionAlgorithm,
    /// `ContentInfo`.
    ContentInfo,
    /// `ContentInfo.content`.
    ContentInfoContent,
    /// `contentType attribute`.
    ContentType,
    /// `CRL signature`.
    CrlSignature,
    /// `CSR attributes`.
    CsrAttributes,
    /// `CSR signature`.
    CsrSignature,
    /// `digestAlgorithms`.
    DigestAlgorithms,
    /// `eContent`.
    EContent,
    /// `EC public key`.
    EcPublicKey,
    /// `EC SubjectPublicKeyInfo`.
    EcSubjectPublicKeyInfo,
    /// `EncapsulatedContentInfo.eContent`.
    EncapsulatedContentInfoEContent,
    /// `encryptedContent`.
    EncryptedContent,
    /// `EncryptedContentInfo.contentEncryptionAlgorithm`.
    EncryptedContentInfoContentEncryptionAlgorithm,
    /// `EncryptedContentInfo.encryptedContent`.
    EncryptedContentInfoEncryptedContent,
    /// `encryptedKey`.
    EncryptedKey,
    /// `EnvelopedData`.
    EnvelopedData,
    /// `extensionRequest attribute`.
    ExtensionRequest,
    /// `failInfo attribute`.
    FailInfo,
    /// `failInfoText attribute`.
    FailInfoText,
    /// `fingerprint`.
    Fingerprint,
    /// `GetCACaps keyword`.
    GetCaCapsKeyword,
    /// `GetCACaps response`.
    GetCaCapsResponse,
    /// `GetCACert certs-only SignedData`.
    GetCaCertCertsOnlySignedData,
    /// `GetCACert response`.
    GetCaCertResponse,
    /// `GetNextCACert response`.
    GetNextCaCertResponse,
    /// `id-alg-PWRI-KEK parameters`.
    IdAlgPwriKekParameters,
    /// `IssuerAndSerialNumber`.
    IssuerAndSerialNumber,
    /// `IssuerAndSubject`.
    IssuerAndSubject,
    /// `IV`.
    Iv,
    /// `KeyTransRecipientInfo`.
    KeyTransRecipientInfo,
    /// `KeyTransRecipientInfo.keyEncryptionAlgorithm`.
    KeyTransRecipientInfoKeyEncryptionAlgorithm,
    /// `keyUsage extension`.
    KeyUsageExtension,
    /// `messageDigest attribute`.
    MessageDigest,
    /// `messageType attribute`.
    MessageType,
    /// `nonce`.
    Nonce,
    /// `PasswordRecipientInfo`.
    PasswordRecipientInfo,
    /// `PasswordRecipientInfo.keyDerivationAlgorithm`.
    PasswordRecipientInfoKeyDerivationAlgorithm,
    /// `PasswordRecipientInfo.keyEncryptionAlgorithm`.
    PasswordRecipientInfoKeyEncryptionAlgorithm,
    /// `PBKDF2-params`.
    Pbkdf2Params,
    /// `PBKDF2-params.keyLength`.
    Pbkdf2ParamsKeyLength,
    /// `PBKDF2-params.prf`.
    Pbkdf2ParamsPrf,
    /// `PBKDF2 salt`.
    Pbkdf2Salt,
    /// `PKCS #10 CertificationRequest`.
    Pkcs10CertificationRequest,
    /// `pkcsPKIEnvelope ContentInfo`.
    PkcsPkiEnvelopeContentInfo,
    /// `PKIOperation message`.
    PkiOperationMessage,
    /// `pkiStatus attribute`.
    PkiStatus,
    /// `PWRI-KEK`.
    PwriKek,
    /// `PWRI key`.
    PwriKey,
    /// `recipient certificate`.
    RecipientCertificate,
    /// `recipientInfos`.
    RecipientInfos,
    /// `recipientNonce attribute`.
    RecipientNonce,
    /// `request path`.
    RequestPath,
    /// `request payload`.
    RequestPayload,
    /// `RSA public key`.
    RsaPublicKey,
    /// `RSA signer's fixed digest`.
    RsaSignerFixedDigest,
    /// `RSA SubjectPublicKeyInfo`.
    RsaSubjectPublicKeyInfo,
    /// `saved enrolment`.
    SavedEnrolment,
    /// `saved enrolment cipher`.
    SavedEnrolmentCipher,
    /// `saved enrolment digest`.
    SavedEnrolmentDigest,
    /// `senderNonce attribute`.
    SenderNonce,
    /// `serial number`.
    SerialNumber,
    /// `signature`.
    Signature,
    /// `signedAttrs`.
    SignedAttrs,
    /// `SignedData`.
    SignedData,
    /// `SignedData.certificates`.
    SignedDataCertificates,
    /// `SignedData.crls`.
    SignedDataCrls,
    /// `signer certificate public key`.
    SignerCertificatePublicKey,
    /// `SignerInfo.digestAlgorithm`.
    SignerInfoDigestAlgorithm,
    /// `SignerInfo.signatureAlgorithm`.
    SignerInfoSignatureAlgorithm,
    /// `signerInfos`.
    SignerInfos,
    /// `subjectAltName dNSName`.
    SubjectAltNameDnsName,
    /// `subjectAltName extension`.
    SubjectAltNameExtension,
    /// `subjectAltName iPAddress`.
    SubjectAltNameIpAddress,
    /// `subjectAltName rfc822Name`.
    SubjectAltNameRfc822Name,
    /// `subjectAltName uniformResourceIdentifier`.
    SubjectAltNameUniformResourceIdentifier,
    /// `subjectKeyIdentifier`.
    SubjectKeyIdentifier,
    /// `subjectKeyIdentifier extension`.
    SubjectKeyIdentifierExtension,
    /// `subject public key`.
    SubjectPublicKey,
    /// `SubjectPublicKeyInfo`.
    SubjectPublicKeyInfo,
    /// `TBSCertList`.
    TbsCertList,
    /// `TBSCertificate`.
    TbsCertificate,
    /// `transactionID attribute`.
    TransactionId,
    /// `validity`.
    Validity,
}

impl Element {
    /// The element's name, as errors print it (e.g. `"SignedData"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::AttributeValue => "attribute value",
            Self::AwsLcSignerDigest => "aws-lc signer's digest",
            Self::AuthorityKeyIdentifierExtension => "authorityKeyIdentifier extension",
            Self::BasicConstraintsExtension => "basicConstraints extension",
            Self::BerEncoding => "BER encoding",
            Self::CaCertificate => "CA certificate",
            Self::Certificate => "Certificate",
            Self::CertificateListSignatureAlgorithm => "CertificateList.signatureAlgorithm",
            Self::CertificateSignature => "certificate signature",
            Self::CertificateSignatureAlgorithm => "Certificate.signatureAlgorithm",
            Self::CertificationRequest => "CertificationRequest",
            Self::CertificationRequestInfo => "CertificationRequestInfo",
            Self::CertificationRequestSignatureAlgorithm => {
                "CertificationRequest.signatureAlgorithm"
            }
            Self::ChallengePassword => "challengePassword attribute",
            Self::ContentEncryptionAlgorithm => "contentEncryptionAlgorithm",
            Self::ContentInfo => "ContentInfo",
            Self::ContentInfoContent => "ContentInfo.content",
            Self::ContentType => "contentType attribute",
            Self::CrlSignature => "CRL signature",
            Self::CsrAttributes => "CSR attributes",
            Self::CsrSignature => "CSR signature",
            Self::DigestAlgorithms => "digestAlgorithms",
            Self::EContent => "eContent",
            Self::EcPublicKey => "EC public key",
            Self::EcSubjectPublicKeyInfo => "EC SubjectPublicKeyInfo",
            Self::EncapsulatedContentInfoEContent => "EncapsulatedContentInfo.eContent",
            Self::EncryptedContent => "encryptedContent",
            Self::EncryptedContentInfoContentEncryptionAlgorithm => {
                "EncryptedContentInfo.contentEncryptionAlgorithm"
            }
            Self::EncryptedContentInfoEncryptedContent => "EncryptedContentInfo.encryptedContent",
            Self::EncryptedKey => "encryptedKey",
            Self::EnvelopedData => "EnvelopedData",
            Self::ExtensionRequest => "extensionRequest attribute",
            Self::FailInfo => "failInfo attribute",
            Self::FailInfoText => "failInfoText attribute",
            Self::Fingerprint => "fingerprint",
            Self::GetCaCapsKeyword => "GetCACaps keyword",
            Self::GetCaCapsResponse => "GetCACaps response",
            Self::GetCaCertCertsOnlySignedData => "GetCACert certs-only SignedData",
            Self::GetCaCertResponse => "GetCACert response",
            Self::GetNextCaCertResponse => "GetNextCACert response",
            Self::IdAlgPwriKekParameters => "id-alg-PWRI-KEK parameters",
            Self::IssuerAndSerialNumber => "IssuerAndSerialNumber",
            Self::IssuerAndSubject => "IssuerAndSubject",
            Self::Iv => "IV",
            Self::KeyTransRecipientInfo => "KeyTransRecipientInfo",
            Self::KeyTransRecipientInfoKeyEncryptionAlgorithm => {
                "KeyTransRecipientInfo.keyEncryptionAlgorithm"
            }
            Self::KeyUsageExtension => "keyUsage extension",
            Self::MessageDigest => "messageDigest attribute",
            Self::MessageType => "messageType attribute",
            Self::Nonce => "nonce",
            Self::PasswordRecipientInfo => "PasswordRecipientInfo",
            Self::PasswordRecipientInfoKeyDerivationAlgorithm => {
                "PasswordRecipientInfo.keyDerivationAlgorithm"
            }
            Self::PasswordRecipientInfoKeyEncryptionAlgorithm => {
                "PasswordRecipientInfo.keyEncryptionAlgorithm"
            }
            Self::Pbkdf2Params => "PBKDF2-params",
            Self::Pbkdf2ParamsKeyLength => "PBKDF2-params.keyLength",
            Self::Pbkdf2ParamsPrf => "PBKDF2-params.prf",
            Self::Pbkdf2Salt => "PBKDF2 salt",
            Self::Pkcs10CertificationRequest => "PKCS #10 CertificationRequest",
            Self::PkcsPkiEnvelopeContentInfo => "pkcsPKIEnvelope ContentInfo",
            Self::PkiOperationMessage => "PKIOperation message",
            Self::PkiStatus => "pkiStatus attribute",
            Self::PwriKek => "PWRI-KEK",
            Self::PwriKey => "PWRI key",
            Self::RecipientCertificate => "recipient certificate",
            Self::RecipientInfos => "recipientInfos",
            Self::RecipientNonce => "recipientNonce attribute",
            Self::RequestPath => "request path",
            Self::RequestPayload => "request payload",
            Self::RsaPublicKey => "RSA public key",
            Self::RsaSignerFixedDigest => "RSA signer's fixed digest",
            Self::RsaSubjectPublicKeyInfo => "RSA SubjectPublicKeyInfo",
            Self::SavedEnrolment => "saved enrolment",
            Self::SavedEnrolmentCipher => "saved enrolment cipher",
            Self::SavedEnrolmentDigest => "saved enrolment digest",
            Self::SenderNonce => "senderNonce attribute",
            Self::SerialNumber => "serial number",
            Self::Signature => "signature",
            Self::SignedAttrs => "signedAttrs",
            Self::SignedData => "SignedData",
            Self::SignedDataCertificates => "SignedData.certificates",
            Self::SignedDataCrls => "SignedData.crls",
            Self::SignerCertificatePublicKey => "signer certificate public key",
            Self::SignerInfoDigestAlgorithm => "SignerInfo.digestAlgorithm",
            Self::SignerInfoSignatureAlgorithm => "SignerInfo.signatureAlgorithm",
            Self::SignerInfos => "signerInfos",
            Self::SubjectAltNameDnsName => "subjectAltName dNSName",
            Self::SubjectAltNameExtension => "subjectAltName extension",
            Self::SubjectAltNameIpAddress => "subjectAltName iPAddress",
            Self::SubjectAltNameRfc822Name => "subjectAltName rfc822Name",
            Self::SubjectAltNameUniformResourceIdentifier => {
                "subjectAltName uniformResourceIdentifier"
            }
            Self::SubjectKeyIdentifier => "subjectKeyIdentifier",
            Self::SubjectKeyIdentifierExtension => "subjectKeyIdentifier extension",
            Self::SubjectPublicKey => "subject public key",
            Self::SubjectPublicKeyInfo => "SubjectPublicKeyInfo",
            Self::TbsCertList => "TBSCertList",
            Self::TbsCertificate => "TBSCertificate",
            Self::TransactionId => "transactionID attribute",
            Self::Validity => "validity",
        }
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Element;

    const ALL: &[Element] = &[
        Element::AttributeValue,
        Element::AwsLcSignerDigest,
        Element::AuthorityKeyIdentifierExtension,
        Element::BasicConstraintsExtension,
        Element::BerEncoding,
        Element::CaCertificate,
        Element::Certificate,
        Element::CertificateListSignatureAlgorithm,
        Element::CertificateSignature,
        Element::CertificateSignatureAlgorithm,
        Element::CertificationRequest,
        Element::CertificationRequestInfo,
        Element::CertificationRequestSignatureAlgorithm,
        Element::ChallengePassword,
        Element::ContentEncryptionAlgorithm,
        Element::ContentInfo,
        Element::ContentInfoContent,
        Element::ContentType,
        Element::CrlSignature,
        Element::CsrAttributes,
        Element::CsrSignature,
        Element::DigestAlgorithms,
        Element::EContent,
        Element::EcPublicKey,
        Element::EcSubjectPublicKeyInfo,
        Element::EncapsulatedContentInfoEContent,
        Element::EncryptedContent,
        Element::EncryptedContentInfoContentEncryptionAlgorithm,
        Element::EncryptedContentInfoEncryptedContent,
        Element::EncryptedKey,
        Element::EnvelopedData,
        Element::ExtensionRequest,
        Element::FailInfo,
        Element::FailInfoText,
        Element::Fingerprint,
        Element::GetCaCapsKeyword,
        Element::GetCaCapsResponse,
        Element::GetCaCertCertsOnlySignedData,
        Element::GetCaCertResponse,
        Element::GetNextCaCertResponse,
        Element::IdAlgPwriKekParameters,
        Element::IssuerAndSerialNumber,
        Element::IssuerAndSubject,
        Element::Iv,
        Element::KeyTransRecipientInfo,
        Element::KeyTransRecipientInfoKeyEncryptionAlgorithm,
        Element::KeyUsageExtension,
        Element::MessageDigest,
        Element::MessageType,
        Element::Nonce,
        Element::PasswordRecipientInfo,
        Element::PasswordRecipientInfoKeyDerivationAlgorithm,
        Element::PasswordRecipientInfoKeyEncryptionAlgorithm,
        Element::Pbkdf2Params,
        Element::Pbkdf2ParamsKeyLength,
        Element::Pbkdf2ParamsPrf,
        Element::Pbkdf2Salt,
        Element::Pkcs10CertificationRequest,
        Element::PkcsPkiEnvelopeContentInfo,
        Element::PkiOperationMessage,
        Element::PkiStatus,
        Element::PwriKek,
        Element::PwriKey,
        Element::RecipientCertificate,
        Element::RecipientInfos,
        Element::RecipientNonce,
        Element::RequestPath,
        Element::RequestPayload,
        Element::RsaPublicKey,
        Element::RsaSignerFixedDigest,
        Element::RsaSubjectPublicKeyInfo,
        Element::SavedEnrolment,
        Element::SavedEnrolmentCipher,
        Element::SavedEnrolmentDigest,
        Element::SenderNonce,
        Element::SerialNumber,
        Element::Signature,
        Element::SignedAttrs,
        Element::SignedData,
        Element::SignedDataCertificates,
        Element::SignedDataCrls,
        Element::SignerCertificatePublicKey,
        Element::SignerInfoDigestAlgorithm,
        Element::SignerInfoSignatureAlgorithm,
        Element::SignerInfos,
        Element::SubjectAltNameDnsName,
        Element::SubjectAltNameExtension,
        Element::SubjectAltNameIpAddress,
        Element::SubjectAltNameRfc822Name,
        Element::SubjectAltNameUniformResourceIdentifier,
        Element::SubjectKeyIdentifier,
        Element::SubjectKeyIdentifierExtension,
        Element::SubjectPublicKey,
        Element::SubjectPublicKeyInfo,
        Element::TbsCertList,
        Element::TbsCertificate,
        Element::TransactionId,
        Element::Validity,
    ];

    #[test]
    fn every_element_has_its_own_name() {
        let mut names: Vec<&str> = ALL.iter().map(|e| e.name()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "two elements print the same name");
        assert!(names.iter().all(|n| !n.is_empty() && n.trim() == *n));
    }

    #[test]
    fn an_attribute_prints_as_one() {
        assert_eq!(Element::SenderNonce.to_string(), "senderNonce attribute");
        assert_eq!(
            Element::SignerInfoDigestAlgorithm.to_string(),
            "SignerInfo.digestAlgorithm"
        );
    }
}
