//! The two key traits the pipelines need, and signature verification.
//!
//! Signing goes through [`MessageSigner`] and key-transport decryption through
//! [`KeyDecryptor`], so that a key held in an HSM, a TPM or a cloud KMS can be used without
//! this crate seeing it. Both are implemented for the RustCrypto key types:
//! [`rsa::PrivateKey`] and [`p256::ecdsa::SigningKey`].

use der::{Decode, Encode};
use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign, PrivateKey, PublicKey};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::error::{AlgorithmError, Cause, CryptoError, Element, Error, Result};
use crate::oids;
use crate::pipeline::algorithms::{DigestAlgorithm, KeyAlgorithm};

/// A private key that signs SCEP messages.
///
/// The pipeline hashes the DER-encoded signed attributes with the negotiated digest and asks
/// the signer to sign that hash. Implement this for a key held elsewhere (HSM, KMS).
pub trait MessageSigner {
    /// The key's algorithm, which selects the SignerInfo `signatureAlgorithm`.
    fn key_algorithm(&self) -> KeyAlgorithm;

    /// Signs `hashed`, the output of `digest` over the data to be signed.
    ///
    /// RSA keys return a PKCS #1 v1.5 signature (the DigestInfo for `digest` inside);
    /// ECDSA keys return a DER-encoded `ECDSA-Sig-Value`.
    fn sign_prehashed(&self, digest: DigestAlgorithm, hashed: &[u8]) -> Result<Vec<u8>>;

    /// The DER SubjectPublicKeyInfo of the key, used to build CSRs and self-signed
    /// certificates and to check that a certificate belongs to this key.
    fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned>;
}

/// A private key that can decrypt an RSA PKCS #1 v1.5 key-transport RecipientInfo.
pub trait KeyDecryptor {
    /// Decrypts the `encryptedKey` of a KeyTransRecipientInfo.
    ///
    /// Implementations should use implicit rejection (return a deterministic synthetic key
    /// instead of an error on bad padding), as `rsa::PrivateKey` does; the pipeline treats
    /// an error and a wrong key the same way in any case.
    fn decrypt_key(&self, encrypted_key: &[u8]) -> Result<Vec<u8>>;

    /// The SubjectPublicKeyInfo of the key, to match it to a recipient certificate.
    /// (Named apart from [`MessageSigner::public_key_info`] so that a type implementing
    /// both, like `rsa::PrivateKey`, needs no disambiguation.)
    fn recipient_key_info(&self) -> Result<SubjectPublicKeyInfoOwned>;
}

fn rsa_scheme(digest: DigestAlgorithm) -> Pkcs1v15Sign {
    match digest {
        DigestAlgorithm::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
        DigestAlgorithm::Sha224 => Pkcs1v15Sign::new::<sha2::Sha224>(),
        DigestAlgorithm::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
        DigestAlgorithm::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
        DigestAlgorithm::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
    }
}

pub(crate) fn rsa_spki(key: &PublicKey) -> Result<SubjectPublicKeyInfoOwned> {
    use rsa::pkcs8::EncodePublicKey;
    let der = key
        .to_public_key_der()
        .map_err(|e| Error::encode(Element::RsaSubjectPublicKeyInfo, e))?;
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes())
        .map_err(|e| Error::encode(Element::RsaSubjectPublicKeyInfo, e))
}

impl MessageSigner for PrivateKey {
    fn key_algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Rsa
    }

    fn sign_prehashed(&self, digest: DigestAlgorithm, hashed: &[u8]) -> Result<Vec<u8>> {
        // With rsa's default `getrandom` feature, `sign` blinds the private-key operation.
        self.sign(rsa_scheme(digest), hashed)
            .map_err(|e| CryptoError::signing_failed(e).into())
    }

    fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned> {
        rsa_spki(self.as_public_key())
    }
}

impl KeyDecryptor for PrivateKey {
    fn decrypt_key(&self, encrypted_key: &[u8]) -> Result<Vec<u8>> {
        self.decrypt(Pkcs1v15Encrypt, encrypted_key)
            .map_err(|_| CryptoError::DecryptionFailed.into())
    }

    fn recipient_key_info(&self) -> Result<SubjectPublicKeyInfoOwned> {
        rsa_spki(self.as_public_key())
    }
}

impl MessageSigner for p256::ecdsa::SigningKey {
    fn key_algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::EcdsaP256
    }

    fn sign_prehashed(&self, _digest: DigestAlgorithm, hashed: &[u8]) -> Result<Vec<u8>> {
        ecdsa_p256_sign(self, hashed)
    }

    fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned> {
        ecdsa_p256_spki(self.verifying_key())
    }
}

/// A DER `ECDSA-Sig-Value` by `signer` over `hashed`.
pub(crate) fn ecdsa_p256_sign(
    signer: &impl p256::ecdsa::signature::hazmat::PrehashSigner<p256::ecdsa::Signature>,
    hashed: &[u8],
) -> Result<Vec<u8>> {
    let sig = signer
        .sign_prehash(hashed)
        .map_err(CryptoError::signing_failed)?;
    Ok(sig.to_der().as_bytes().to_vec())
}

/// The SubjectPublicKeyInfo of a P-256 key.
pub(crate) fn ecdsa_p256_spki(
    key: &p256::ecdsa::VerifyingKey,
) -> Result<SubjectPublicKeyInfoOwned> {
    use p256::pkcs8::EncodePublicKey;
    let der = key
        .to_public_key_der()
        .map_err(|e| Error::encode(Element::EcSubjectPublicKeyInfo, e))?;
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes())
        .map_err(|e| Error::encode(Element::EcSubjectPublicKeyInfo, e))
}

impl<T: MessageSigner + ?Sized> MessageSigner for &T {
    fn key_algorithm(&self) -> KeyAlgorithm {
        (**self).key_algorithm()
    }
    fn sign_prehashed(&self, digest: DigestAlgorithm, hashed: &[u8]) -> Result<Vec<u8>> {
        (**self).sign_prehashed(digest, hashed)
    }
    fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned> {
        (**self).public_key_info()
    }
}

/// The key algorithm of a SubjectPublicKeyInfo, or an error naming `element`.
pub(crate) fn spki_algorithm(
    element: Element,
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<KeyAlgorithm> {
    let oid = spki.algorithm.oid;
    if oid == oids::RSA_ENCRYPTION {
        return Ok(KeyAlgorithm::Rsa);
    }
    if oid == oids::EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok());
        return match curve {
            Some(c) if c == oids::SECP256R1 => Ok(KeyAlgorithm::EcdsaP256),
            Some(c) => Err(Error::unsupported(element, &c)),
            None => Err(AlgorithmError::BadParameters {
                element,
                detail: "EC public key without a named curve".into(),
            }
            .into()),
        };
    }
    Err(Error::unsupported(element, &oid))
}

/// Decodes an RSA public key from a SubjectPublicKeyInfo.
pub(crate) fn rsa_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKey> {
    use rsa::pkcs8::DecodePublicKey;
    let der = spki
        .to_der()
        .map_err(|e| Error::encode(Element::SubjectPublicKeyInfo, e))?;
    PublicKey::from_public_key_der(&der).map_err(|e| Error::decode(Element::RsaPublicKey, e))
}

/// Verifies `signature` over the hash `hashed` (computed with `digest`) with the public key
/// in `spki`, for the key algorithm `alg`.
pub(crate) fn verify_prehashed(
    spki: &SubjectPublicKeyInfoOwned,
    alg: KeyAlgorithm,
    digest: DigestAlgorithm,
    hashed: &[u8],
    signature: &[u8],
) -> Result<()> {
    let key_alg = spki_algorithm(Element::SignerCertificatePublicKey, spki)?;
    if key_alg != alg {
        return Err(AlgorithmError::KeyMismatch {
            algorithm: alg.name(),
            key: key_alg.name().into(),
        }
        .into());
    }
    #[cfg(feature = "aws-lc-rs")]
    if let Some(verdict) =
        crate::pipeline::aws_lc::verify_prehashed(spki, alg, digest, hashed, signature)
    {
        return verdict;
    }
    match alg {
        KeyAlgorithm::Rsa => {
            let key = rsa_public_key(spki)?;
            key.verify(rsa_scheme(digest), hashed, signature)
                .map_err(|_| CryptoError::BadSignature.into())
        }
        KeyAlgorithm::EcdsaP256 => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let key =
                p256::ecdsa::VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
                    .map_err(|e| Error::decode(Element::EcPublicKey, e))?;
            let sig = p256::ecdsa::Signature::from_der(signature)
                .map_err(|_| Error::Crypto(CryptoError::BadSignature))?;
            key.verify_prehash(hashed, &sig)
                .map_err(|_| CryptoError::BadSignature.into())
        }
    }
}

/// Encrypts a content-encryption key to an RSA public key with PKCS #1 v1.5 (with feature
/// `aws-lc-rs`, by aws-lc where it takes the key, with its own randomness).
pub(crate) fn rsa_encrypt_key<R: rand_core::CryptoRng + ?Sized>(
    spki: &SubjectPublicKeyInfoOwned,
    key: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    #[cfg(feature = "aws-lc-rs")]
    if let Some(encrypted) = crate::pipeline::aws_lc::rsa_encrypt_key(spki, key) {
        return encrypted;
    }
    let public = rsa_public_key(spki)?;
    public
        .encrypt(rng, Pkcs1v15Encrypt, key)
        .map_err(|e| CryptoError::EncryptionFailed(Cause::from_error(e)).into())
}

/// Verifies `signature` over `signed` with the key in `spki`, for a combined signature
/// algorithm (`shaNWithRSAEncryption`, `ecdsa-with-SHAn`) named `alg`. `element` names the
/// algorithm field in errors.
pub(crate) fn verify_signature(
    element: Element,
    signed: &[u8],
    alg: &der::asn1::ObjectIdentifier,
    signature: &der::asn1::BitString,
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<()> {
    let (key_alg, digest) = crate::pipeline::algorithms::signature_algorithm(element, alg)?;
    let digest = digest.ok_or_else(|| Error::unsupported(element, alg))?;
    let signature = signature
        .as_bytes()
        .ok_or_else(|| Error::decode(element, "signature BIT STRING with unused bits"))?;
    verify_prehashed(spki, key_alg, digest, &digest.digest(signed), signature)
}
