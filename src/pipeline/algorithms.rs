//! The algorithm tables: content-encryption ciphers, digests and signature algorithms, with
//! their OIDs and the refusals of RFC 8894 section 2.9.

use core::fmt;

use der::asn1::ObjectIdentifier;
use sha2::Digest;

use crate::error::{AlgorithmError, Element, Error, Result};
use crate::oids;

/// A content-encryption algorithm for the pkcsPKIEnvelope (EnvelopedData).
///
/// Listed weakest first, so that `Ord` ranks them by strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ContentCipher {
    /// DES-CBC (56-bit). **Insecure**: never produced; decrypted only when
    /// [`DecryptOptions::allow_insecure_single_des`](crate::DecryptOptions) is set, because
    /// some servers (micromdm) answer in it whatever the client asked for.
    InsecureDesCbc,
    /// DES-EDE3-CBC (three-key triple DES), `des-ede3-cbc`.
    DesEde3Cbc,
    /// AES-128-CBC, `id-aes128-CBC`.
    Aes128Cbc,
    /// AES-192-CBC, `id-aes192-CBC`.
    Aes192Cbc,
    /// AES-256-CBC, `id-aes256-CBC`.
    Aes256Cbc,
}

impl ContentCipher {
    /// Every cipher this crate can produce, strongest first.
    pub const PRODUCIBLE: [Self; 4] = [
        Self::Aes256Cbc,
        Self::Aes192Cbc,
        Self::Aes128Cbc,
        Self::DesEde3Cbc,
    ];

    /// The algorithm's OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::InsecureDesCbc => oids::DES_CBC,
            Self::DesEde3Cbc => oids::DES_EDE3_CBC,
            Self::Aes128Cbc => oids::AES128_CBC,
            Self::Aes192Cbc => oids::AES192_CBC,
            Self::Aes256Cbc => oids::AES256_CBC,
        }
    }

    /// Maps an OID to a cipher; unknown OIDs are an "unsupported algorithm" error naming
    /// `element`. Single DES is returned as [`ContentCipher::InsecureDesCbc`]: callers
    /// decide whether to refuse it.
    pub fn from_oid(element: Element, oid: &ObjectIdentifier) -> Result<Self> {
        [
            Self::InsecureDesCbc,
            Self::DesEde3Cbc,
            Self::Aes128Cbc,
            Self::Aes192Cbc,
            Self::Aes256Cbc,
        ]
        .into_iter()
        .find(|c| c.oid() == *oid)
        .ok_or_else(|| Error::unsupported(element, oid))
    }

    /// Key length in octets.
    pub fn key_len(self) -> usize {
        match self {
            Self::InsecureDesCbc => 8,
            Self::DesEde3Cbc => 24,
            Self::Aes128Cbc => 16,
            Self::Aes192Cbc => 24,
            Self::Aes256Cbc => 32,
        }
    }

    /// Block (and IV) length in octets.
    pub fn block_len(self) -> usize {
        match self {
            Self::InsecureDesCbc | Self::DesEde3Cbc => 8,
            _ => 16,
        }
    }

    /// A human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Self::InsecureDesCbc => "DES-CBC",
            Self::DesEde3Cbc => "DES-EDE3-CBC",
            Self::Aes128Cbc => "AES-128-CBC",
            Self::Aes192Cbc => "AES-192-CBC",
            Self::Aes256Cbc => "AES-256-CBC",
        }
    }
}

impl fmt::Display for ContentCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A message-digest algorithm. MD5 is not representable: it is refused on sight.
///
/// Listed weakest first, so that `Ord` ranks them by strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-1.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// Every supported digest, strongest first.
    pub const ALL: [Self; 5] = [
        Self::Sha512,
        Self::Sha384,
        Self::Sha256,
        Self::Sha224,
        Self::Sha1,
    ];

    /// `Ok` when `allowed` holds this digest, else
    /// [`PolicyError::DigestNotAllowed`](crate::error::PolicyError::DigestNotAllowed)
    /// naming `element`: a policy on the digests of what is received.
    pub(crate) fn require_allowed(self, allowed: &[Self], element: Element) -> Result<()> {
        if allowed.contains(&self) {
            Ok(())
        } else {
            Err(crate::error::PolicyError::DigestNotAllowed {
                digest: self,
                element,
            }
            .into())
        }
    }

    /// The digest's OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => oids::SHA1,
            Self::Sha224 => oids::SHA224,
            Self::Sha256 => oids::SHA256,
            Self::Sha384 => oids::SHA384,
            Self::Sha512 => oids::SHA512,
        }
    }

    /// Maps an OID; MD5 is refused (RFC 8894 section 2.9), others are unsupported.
    pub fn from_oid(element: Element, oid: &ObjectIdentifier) -> Result<Self> {
        if *oid == oids::MD5 {
            return Err(AlgorithmError::Refused {
                algorithm: "MD5",
                element,
            }
            .into());
        }
        Self::ALL
            .into_iter()
            .find(|d| d.oid() == *oid)
            .ok_or_else(|| Error::unsupported(element, oid))
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// The output length in octets.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// A human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha224 => "SHA-224",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The public-key algorithm of a signer or recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// RSA (signatures with PKCS #1 v1.5, key transport with PKCS #1 v1.5).
    Rsa,
    /// ECDSA over NIST P-256 (signatures only: such a key cannot receive a key-transport
    /// envelope, so messages to it use a PasswordRecipientInfo).
    EcdsaP256,
}

impl KeyAlgorithm {
    /// The SignerInfo `signatureAlgorithm` OID for this key with `digest`.
    pub fn signature_oid(self, digest: DigestAlgorithm) -> ObjectIdentifier {
        match (self, digest) {
            (Self::Rsa, DigestAlgorithm::Sha1) => oids::SHA1_WITH_RSA,
            (Self::Rsa, DigestAlgorithm::Sha224) => oids::SHA224_WITH_RSA,
            (Self::Rsa, DigestAlgorithm::Sha256) => oids::SHA256_WITH_RSA,
            (Self::Rsa, DigestAlgorithm::Sha384) => oids::SHA384_WITH_RSA,
            (Self::Rsa, DigestAlgorithm::Sha512) => oids::SHA512_WITH_RSA,
            (Self::EcdsaP256, DigestAlgorithm::Sha1) => oids::ECDSA_WITH_SHA1,
            (Self::EcdsaP256, DigestAlgorithm::Sha224) => oids::ECDSA_WITH_SHA224,
            (Self::EcdsaP256, DigestAlgorithm::Sha256) => oids::ECDSA_WITH_SHA256,
            (Self::EcdsaP256, DigestAlgorithm::Sha384) => oids::ECDSA_WITH_SHA384,
            (Self::EcdsaP256, DigestAlgorithm::Sha512) => oids::ECDSA_WITH_SHA512,
        }
    }

    /// A human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rsa => "RSA",
            Self::EcdsaP256 => "ECDSA P-256",
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Interprets a SignerInfo / certificate `signatureAlgorithm` OID.
///
/// Returns the key algorithm and, for the combined `shaNWith...` identifiers, the digest
/// they imply. Plain `rsaEncryption` (which cryptlib and others put in SignerInfos) gives
/// no digest: the SignerInfo's `digestAlgorithm` applies. MD5 is refused.
pub(crate) fn signature_algorithm(
    element: Element,
    oid: &ObjectIdentifier,
) -> Result<(KeyAlgorithm, Option<DigestAlgorithm>)> {
    if *oid == oids::MD5_WITH_RSA {
        return Err(AlgorithmError::Refused {
            algorithm: "MD5",
            element,
        }
        .into());
    }
    if *oid == oids::RSA_ENCRYPTION {
        return Ok((KeyAlgorithm::Rsa, None));
    }
    if *oid == oids::EC_PUBLIC_KEY {
        return Ok((KeyAlgorithm::EcdsaP256, None));
    }
    for key in [KeyAlgorithm::Rsa, KeyAlgorithm::EcdsaP256] {
        for digest in DigestAlgorithm::ALL {
            if key.signature_oid(digest) == *oid {
                return Ok((key, Some(digest)));
            }
        }
    }
    Err(Error::unsupported(element, oid))
}

/// The AlgorithmIdentifier of a signature by `key` with `digest` in a certificate or CSR:
/// `shaNWithRSAEncryption` with NULL parameters, or `ecdsa-with-SHAn` without
/// (RFC 4055 section 5, RFC 5758 section 3.2).
pub(crate) fn signature_algorithm_identifier(
    key: KeyAlgorithm,
    digest: DigestAlgorithm,
) -> x509_cert::spki::AlgorithmIdentifierOwned {
    x509_cert::spki::AlgorithmIdentifierOwned {
        oid: key.signature_oid(digest),
        parameters: match key {
            KeyAlgorithm::Rsa => Some(der::asn1::Any::null()),
            KeyAlgorithm::EcdsaP256 => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_is_refused_with_rfc_reference() {
        let err = DigestAlgorithm::from_oid(Element::SignerInfoDigestAlgorithm, &oids::MD5)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("MD5"), "{err}");
        assert!(err.contains("RFC 8894 section 2.9"), "{err}");
    }

    #[test]
    fn cipher_oids_round_trip() {
        for c in ContentCipher::PRODUCIBLE {
            assert_eq!(
                ContentCipher::from_oid(Element::ContentEncryptionAlgorithm, &c.oid()).ok(),
                Some(c)
            );
        }
        assert_eq!(
            ContentCipher::from_oid(Element::ContentEncryptionAlgorithm, &oids::DES_CBC).ok(),
            Some(ContentCipher::InsecureDesCbc)
        );
    }

    #[test]
    fn signature_oids() {
        assert_eq!(
            signature_algorithm(
                Element::SignerInfoSignatureAlgorithm,
                &oids::SHA256_WITH_RSA
            )
            .ok(),
            Some((KeyAlgorithm::Rsa, Some(DigestAlgorithm::Sha256)))
        );
        assert_eq!(
            signature_algorithm(Element::SignerInfoSignatureAlgorithm, &oids::RSA_ENCRYPTION).ok(),
            Some((KeyAlgorithm::Rsa, None))
        );
        assert!(
            signature_algorithm(Element::SignerInfoSignatureAlgorithm, &oids::MD5_WITH_RSA)
                .is_err()
        );
    }

    #[test]
    fn digests_have_advertised_lengths() {
        for d in DigestAlgorithm::ALL {
            assert_eq!(d.digest(b"abc").len(), d.output_len());
        }
    }
}
