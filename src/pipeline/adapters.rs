//! RustCrypto signers as [`MessageSigner`]s: a key that implements the `signature` crate's
//! `hazmat::PrehashSigner` and `Keypair` (a key in memory, or one in an HSM, a TPM or a
//! cloud KMS behind a crate that implements those traits) signs SCEP messages without glue.
//!
//! Two wrappers, one per algorithm, since a type could implement both traits for both
//! signature types:
//!
//! * [`EcdsaP256Signer`]: `PrehashSigner<p256::ecdsa::Signature>` with a
//!   `p256::ecdsa::VerifyingKey`. It signs the hash of any digest (ECDSA takes the hash as
//!   it comes).
//! * [`RsaPkcs1v15Signer`]: `PrehashSigner<rsa::pkcs1v15::Signature>` with a
//!   `rsa::pkcs1v15::VerifyingKey<D>`. The DigestInfo prefix, and so the digest, is fixed by
//!   `D` in RustCrypto's types: signing with another digest is a
//!   [`PolicyError::DigestNotAllowed`], so configure the peer (or [`crate::caps::Policy`])
//!   for that digest.
//!
//! ```
//! use scep::MessageSigner;
//! use scep::pipeline::adapters::{EcdsaP256Signer, RsaPkcs1v15Signer};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
//! let ec = {
//!     use p256::elliptic_curve::Generate;
//!     p256::ecdsa::SigningKey::generate_from_rng(&mut rng)
//! };
//! let signer = EcdsaP256Signer(ec);
//! let hash = scep::DigestAlgorithm::Sha256.digest(b"signed attributes");
//! assert!(!signer.sign_prehashed(scep::DigestAlgorithm::Sha256, &hash)?.is_empty());
//!
//! let rsa = rsa::PrivateKey::new(&mut rng, 2048)?;
//! let signer = RsaPkcs1v15Signer(rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa));
//! assert!(signer.sign_prehashed(scep::DigestAlgorithm::Sha256, &hash).is_ok());
//! assert!(signer.sign_prehashed(scep::DigestAlgorithm::Sha1, &hash[..20]).is_err());
//! # Ok(())
//! # }
//! ```

use const_oid::AssociatedOid;
use p256::ecdsa::signature::Keypair;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::error::{CryptoError, Element, PolicyError, Result};
use crate::pipeline::algorithms::{DigestAlgorithm, KeyAlgorithm};
use crate::pipeline::keys::{MessageSigner, ecdsa_p256_sign, ecdsa_p256_spki, rsa_spki};

/// An ECDSA P-256 RustCrypto signer as a [`MessageSigner`] (see the
/// [module documentation](self)).
#[derive(Debug, Clone)]
#[expect(
    clippy::exhaustive_structs,
    reason = "a wrapper of the key, built as `Adapter(key)`"
)]
pub struct EcdsaP256Signer<S>(pub S);

impl<S> MessageSigner for EcdsaP256Signer<S>
where
    S: PrehashSigner<p256::ecdsa::Signature> + Keypair<VerifyingKey = p256::ecdsa::VerifyingKey>,
{
    fn key_algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::EcdsaP256
    }

    fn sign_prehashed(&self, _digest: DigestAlgorithm, hashed: &[u8]) -> Result<Vec<u8>> {
        ecdsa_p256_sign(&self.0, hashed)
    }

    fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned> {
        ecdsa_p256_spki(&self.0.verifying_key())
    }
}

/// An RSA PKCS #1 v1.5 RustCrypto signer for the digest `D` as a [`MessageSigner`] (see
/// the [module documentation](self)).
#[derive(Debug, Clone)]
#[expect(
    clippy::exhaustive_structs,
    reason = "a wrapper of the key, built as `Adapter(key)`"
)]
pub struct RsaPkcs1v15Signer<S>(pub S);

impl<S, D> MessageSigner for RsaPkcs1v15Signer<S>
where
    S: PrehashSigner<rsa::pkcs1v15::Signature>
        + Keypair<VerifyingKey = rsa::pkcs1v15::VerifyingKey<D>>,
    D: sha2::Digest + AssociatedOid,
{
    fn key_algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Rsa
    }

    fn sign_prehashed(&self, digest: DigestAlgorithm, hashed: &[u8]) -> Result<Vec<u8>> {
        if digest.oid() != D::OID {
            return Err(PolicyError::DigestNotAllowed {
                digest,
                element: Element::RsaSignerFixedDigest,
            }
            .into());
        }
        let signature = self
            .0
            .sign_prehash(hashed)
            .map_err(CryptoError::signing_failed)?;
        Ok(rsa::signature::SignatureEncoding::to_vec(&signature))
    }

    fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned> {
        let verifying_key = self.0.verifying_key();
        rsa_spki(verifying_key.as_ref())
    }
}
