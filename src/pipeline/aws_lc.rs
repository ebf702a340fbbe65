//! Keys of [aws-lc-rs] as [`MessageSigner`] and [`KeyDecryptor`] (feature `aws-lc-rs`):
//! the same messages, several times faster private-key operations than the pure-Rust
//! `rsa` crate (see `benches/README.md`).
//!
//! * [`AwsLcRsaKey`]: RSA PKCS #1 v1.5 signatures with SHA-256, SHA-384 or SHA-512 (what
//!   aws-lc signs; another digest is [`PolicyError::DigestNotAllowed`]) and PKCS #1 v1.5
//!   key transport.
//! * [`AwsLcEcdsaP256Key`]: ECDSA P-256 with SHA-256 (signatures only: such a key cannot
//!   receive a key-transport envelope).
//!
//! aws-lc reports bad PKCS #1 v1.5 padding as an error. That error goes no further than
//! the envelope pipeline, which answers it exactly as it answers a wrong key: it goes on
//! with a substitute content-encryption key of the right length (RFC 3218 section 2.3.2)
//! and fails at the same point with the same [`CryptoError::DecryptionFailed`], so no
//! padding oracle comes of it (`tests/aws_lc.rs` mounts it).
//!
//! Keys load from PKCS #8, DER or PEM; the key is zeroized by aws-lc when dropped.
//!
//! With the feature on, the pipeline's public-key operations go through aws-lc too: every
//! signature verification (SignerInfo, certificate, CRL, CSR) and the key transport of an
//! envelope to an RSA recipient. Where aws-lc does not take the case (a digest it does not
//! pair with the key, SHA-224; a key it refuses, such as an RSA key under 2048 bits for
//! encryption), the `rsa` and `p256` crates do it as in the default build, so the feature
//! changes speed, never which messages are accepted. aws-lc draws the PKCS #1 v1.5
//! encryption padding from its own generator (the operating system's), not from the
//! caller's `rng`.
//!
//! [aws-lc-rs]: https://docs.rs/aws-lc-rs

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use der::Decode;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::error::{Cause, CryptoError, Element, Error, PolicyError, Result};
use crate::pipeline::{DigestAlgorithm, KeyAlgorithm, KeyDecryptor, MessageSigner};

/// An RSA private key held by aws-lc, for signing and for key transport.
pub struct AwsLcRsaKey {
    signing: RsaKeyPair,
    decrypting: Pkcs1PrivateDecryptingKey,
    spki: SubjectPublicKeyInfoOwned,
}

impl core::fmt::Debug for AwsLcRsaKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwsLcRsaKey")
            .field("modulus_bits", &self.decrypting.key_size_bits())
            .finish_non_exhaustive()
    }
}

impl AwsLcRsaKey {
    /// A key from its PKCS #8 `PrivateKeyInfo` (DER).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let signing = RsaKeyPair::from_pkcs8(der)
            .map_err(|e| Error::key(format_args!("aws-lc refuses the RSA key: {e}")))?;
        let decrypting = PrivateDecryptingKey::from_pkcs8(der)
            .ok()
            .and_then(|k| Pkcs1PrivateDecryptingKey::new(k).ok())
            .ok_or_else(|| Error::key("aws-lc refuses the RSA key for decryption"))?;
        let spki = spki(signing.public_key().as_der())?;
        Ok(Self {
            signing,
            decrypting,
            spki,
        })
    }

    /// A key from a PEM `PRIVATE KEY` (PKCS #8).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        Self::from_pkcs8_der(&pkcs8_pem(pem)?)
    }
}

impl MessageSigner for AwsLcRsaKey {
    fn key_algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Rsa
    }

    fn sign_prehashed(&self, digest: DigestAlgorithm, hashed: &[u8]) -> Result<Vec<u8>> {
        let (encoding, algorithm): (&'static signature::RsaSignatureEncoding, _) = match digest {
            DigestAlgorithm::Sha256 => (&signature::RSA_PKCS1_SHA256, &digest::SHA256),
            DigestAlgorithm::Sha384 => (&signature::RSA_PKCS1_SHA384, &digest::SHA384),
            DigestAlgorithm::Sha512 => (&signature::RSA_PKCS1_SHA512, &digest::SHA512),
            DigestAlgorithm::Sha1 | DigestAlgorithm::Sha224 => {
                return Err(not_signed_by_aws_lc(digest));
            }
        };
        let hashed = Digest::import_less_safe(hashed, algorithm).map_err(|_| {
            CryptoError::SigningFailed(Cause::text(
                "the digest has the wrong length for its algorithm",
            ))
        })?;
        let mut out = vec![0u8; self.signing.public_modulus_len()];
        self.signing
            .sign_digest(encoding, &hashed, &mut out)
            .map_err(CryptoError::signing_failed)?;
        Ok(out)
    }

    fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned> {
        Ok(self.spki.clone())
    }
}

impl KeyDecryptor for AwsLcRsaKey {
    fn decrypt_key(&self, encrypted_key: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; self.decrypting.key_size_bytes()];
        // Bad padding is an error here; the pipeline handles it as a wrong key (see the
        // module documentation), so it carries nothing.
        let len = self
            .decrypting
            .decrypt(encrypted_key, &mut out)
            .map_err(|_| CryptoError::DecryptionFailed)?
            .len();
        out.truncate(len);
        Ok(out)
    }

    fn recipient_key_info(&self) -> Result<SubjectPublicKeyInfoOwned> {
        Ok(self.spki.clone())
    }
}

/// An ECDSA P-256 private key held by aws-lc (signatures with SHA-256).
pub struct AwsLcEcdsaP256Key {
    pair: EcdsaKeyPair,
    spki: SubjectPublicKeyInfoOwned,
}

impl core::fmt::Debug for AwsLcEcdsaP256Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwsLcEcdsaP256Key").finish_non_exhaustive()
    }
}

impl AwsLcEcdsaP256Key {
    /// A key from its PKCS #8 `PrivateKeyInfo` (DER).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der)
            .map_err(|e| Error::key(format_args!("aws-lc refuses the P-256 key: {e}")))?;
        let spki = spki(pair.public_key().as_der())?;
        Ok(Self { pair, spki })
    }

    /// A key from a PEM `PRIVATE KEY` (PKCS #8).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        Self::from_pkcs8_der(&pkcs8_pem(pem)?)
    }
}

impl MessageSigner for AwsLcEcdsaP256Key {
    fn key_algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::EcdsaP256
    }

    fn sign_prehashed(&self, digest: DigestAlgorithm, hashed: &[u8]) -> Result<Vec<u8>> {
        if digest != DigestAlgorithm::Sha256 {
            return Err(not_signed_by_aws_lc(digest));
        }
        let hashed = Digest::import_less_safe(hashed, &digest::SHA256).map_err(|_| {
            CryptoError::SigningFailed(Cause::text("the digest has the wrong length for SHA-256"))
        })?;
        let signature = self
            .pair
            .sign_digest(&hashed)
            .map_err(CryptoError::signing_failed)?;
        Ok(signature.as_ref().to_vec())
    }

    fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned> {
        Ok(self.spki.clone())
    }
}

fn not_signed_by_aws_lc(digest: DigestAlgorithm) -> Error {
    PolicyError::DigestNotAllowed {
        digest,
        element: Element::AwsLcSignerDigest,
    }
    .into()
}

/// The SubjectPublicKeyInfo of an aws-lc public key's X.509 DER.
fn spki(
    der: core::result::Result<
        aws_lc_rs::encoding::PublicKeyX509Der<'static>,
        aws_lc_rs::error::Unspecified,
    >,
) -> Result<SubjectPublicKeyInfoOwned> {
    let der = der.map_err(|_| Error::key("aws-lc cannot encode the public key"))?;
    SubjectPublicKeyInfoOwned::from_der(der.as_ref())
        .map_err(|e| Error::decode(Element::SubjectPublicKeyInfo, e))
}

/// The DER of a PEM `PRIVATE KEY`.
fn pkcs8_pem(pem: &str) -> Result<Vec<u8>> {
    let (label, der) = der::pem::decode_vec(pem.as_bytes())
        .map_err(|e| Error::key(format_args!("not a PEM key: {e}")))?;
    if label != "PRIVATE KEY" {
        return Err(Error::key(format_args!(
            "a PEM {label:?}, not a PKCS #8 PRIVATE KEY"
        )));
    }
    Ok(der)
}

/// Verifies `signature` over the hash `hashed` with aws-lc, or `None` where aws-lc does
/// not take the case (the caller then verifies with the `rsa` or `p256` crate). `spki`'s
/// key algorithm has been checked to be `alg`, and `hashed` made with `digest`.
pub(crate) fn verify_prehashed(
    spki: &SubjectPublicKeyInfoOwned,
    alg: KeyAlgorithm,
    digest: DigestAlgorithm,
    hashed: &[u8],
    signature: &[u8],
) -> Option<Result<()>> {
    use DigestAlgorithm as D;
    use aws_lc_rs::signature as s;
    // RSAPublicKey (PKCS #1) or the SEC1 point, as aws-lc takes them.
    let key = spki.subject_public_key.as_bytes()?;
    let (algorithm, digest_algorithm): (&'static dyn s::VerificationAlgorithm, _) =
        match (alg, digest) {
            // The `rsa` crate's range, 1024 to 8192 bits, for each digest but SHA-384
            // (aws-lc pairs it with 2048 bits and up only).
            (KeyAlgorithm::Rsa, D::Sha1) => (
                &s::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY as &dyn s::VerificationAlgorithm,
                &digest::SHA1_FOR_LEGACY_USE_ONLY,
            ),
            (KeyAlgorithm::Rsa, D::Sha256) => (
                &s::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY as _,
                &digest::SHA256,
            ),
            (KeyAlgorithm::Rsa, D::Sha384) if rsa_modulus_bits(key)? >= 2048 => {
                (&s::RSA_PKCS1_2048_8192_SHA384 as _, &digest::SHA384)
            }
            (KeyAlgorithm::Rsa, D::Sha512) => (
                &s::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY as _,
                &digest::SHA512,
            ),
            (KeyAlgorithm::EcdsaP256, D::Sha1) => (
                &s::ECDSA_P256_SHA1_ASN1 as _,
                &digest::SHA1_FOR_LEGACY_USE_ONLY,
            ),
            (KeyAlgorithm::EcdsaP256, D::Sha256) => {
                (&s::ECDSA_P256_SHA256_ASN1 as _, &digest::SHA256)
            }
            (KeyAlgorithm::EcdsaP256, D::Sha384) => {
                (&s::ECDSA_P256_SHA384_ASN1 as _, &digest::SHA384)
            }
            (KeyAlgorithm::EcdsaP256, D::Sha512) => {
                (&s::ECDSA_P256_SHA512_ASN1 as _, &digest::SHA512)
            }
            _ => return None,
        };
    // A key aws-lc refuses to parse goes to the other crates, which decide alike for
    // every key a peer really uses; only the verdict on the signature is taken from here.
    let parsed = s::ParsedPublicKey::new(algorithm, key).ok()?;
    let hashed = Digest::import_less_safe(hashed, digest_algorithm).ok()?;
    Some(
        parsed
            .verify_digest_sig(&hashed, signature)
            .map_err(|_| CryptoError::BadSignature.into()),
    )
}

/// The size in bits of the modulus of a DER RSAPublicKey, `None` if it does not decode.
fn rsa_modulus_bits(rsa_public_key: &[u8]) -> Option<u32> {
    let key = rsa::pkcs1::RsaPublicKey::<der::asn1::UintRef<'_>>::from_der(rsa_public_key).ok()?;
    let modulus = key.modulus.as_bytes();
    let first = modulus.first()?;
    let whole = u32::try_from(modulus.len()).ok()?.checked_sub(1)?;
    whole
        .checked_mul(8)?
        .checked_add(u32::BITS.checked_sub(first.leading_zeros())?)
}

/// Encrypts a content-encryption key to the RSA key in `spki` with PKCS #1 v1.5, or
/// `None` where aws-lc refuses the key (under 2048 bits; the caller then uses the `rsa`
/// crate).
pub(crate) fn rsa_encrypt_key(
    spki: &SubjectPublicKeyInfoOwned,
    key: &[u8],
) -> Option<Result<Vec<u8>>> {
    use aws_lc_rs::rsa::{Pkcs1PublicEncryptingKey, PublicEncryptingKey};
    let der = der::Encode::to_der(spki).ok()?;
    let public = PublicEncryptingKey::from_der(&der)
        .ok()
        .and_then(|k| Pkcs1PublicEncryptingKey::new(k).ok())?;
    let mut out = vec![0u8; public.ciphertext_size()];
    Some(match public.encrypt(key, &mut out) {
        Ok(written) => {
            let len = written.len();
            out.truncate(len);
            Ok(out)
        }
        Err(e) => Err(CryptoError::EncryptionFailed(Cause::from_error(e)).into()),
    })
}
