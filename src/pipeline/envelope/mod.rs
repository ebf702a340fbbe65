//! EnvelopedData (RFC 5652 section 6): the pkcsPKIEnvelope of SCEP (RFC 8894 section 3.2.2).
//!
//! The structures are [`crate::asn1::EnvelopedData`] and its RecipientInfos; this module holds the options and
//! results, `seal` and `open` the two directions, `block` the CBC plumbing and `pwri` the
//! password recipient's key derivation and wrap. Sealing makes a random
//! content-encryption key (CEK), encrypts the content in CBC mode with PKCS #7 padding and
//! hands the CEK to one recipient:
//!
//! * **key transport** (KeyTransRecipientInfo): the CEK encrypted with RSA PKCS #1 v1.5 to
//!   the recipient certificate's key, named by issuerAndSerialNumber;
//! * **password** (PasswordRecipientInfo, RFC 3211), for recipients whose key cannot
//!   decrypt (ECDSA): a key-encryption key (KEK) is derived from the password with PBKDF2
//!   and the CEK is wrapped with `id-alg-PWRI-KEK` (RFC 3211 section 2.3).
//!
//! ```text
//! PBKDF2-params ::= SEQUENCE {                 -- RFC 8018 appendix A.2
//!   salt CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier },
//!   iterationCount INTEGER (1..MAX),
//!   keyLength INTEGER (1..MAX) OPTIONAL,
//!   prf AlgorithmIdentifier DEFAULT algid-hmacWithSHA1 }
//! ```
//!
//! # No padding oracle
//!
//! Opening never tells *why* decryption failed. An RSA decryption that fails or yields a
//! key of the wrong length, a PWRI unwrap whose length or check octets are wrong, and bad
//! CBC padding all end in the same [`CryptoError::DecryptionFailed`], and all do the same
//! work: when the content-encryption key cannot be recovered, a substitute key of the
//! right length is used and the content is still decrypted and its padding checked before
//! the error is returned. The padding check itself looks at every octet of the last block
//! whatever the pad value. (The `rsa` crate adds implicit rejection: bad PKCS #1 v1.5
//! padding gives a deterministic synthetic key rather than an error.)

mod block;
mod open;
mod pwri;
mod seal;
#[cfg(test)]
mod tests;

pub(crate) use open::Envelope;
pub use open::{inspect, open};
pub use seal::{seal, seal_with_iterations};

/// A key or other secret that is wiped when dropped: content-encryption keys, key-encryption
/// keys, and the decrypted content before it is decoded (a CSR with its challenge password).
type Secret = zeroize::Zeroizing<Vec<u8>>;

// What the parts share (the parts import this module's items with `use super::*`).
use block::{
    cbc_raw, cipher_identifier, pkcs7_pad, pkcs7_unpadded_len, random_bytes, random_key,
    read_cipher,
};
use pwri::{Pbkdf2Params, pbkdf2, pwri_unwrap, pwri_wrap};

use cms::content_info::CmsVersion;
use cms::enveloped_data::EncryptedContentInfo;
use der::Sequence;
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use rand_core::CryptoRng;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::asn1::Certificate;
use crate::asn1::IssuerAndSerialNumber;
use crate::asn1::enveloped_data::{
    EnvelopedData, KeyTransRecipientInfo, PasswordRecipientInfo, RecipientIdentifier, RecipientInfo,
};
use crate::error::{AlgorithmError, CryptoError, Error, ProtocolError, Result};
use crate::limits::Limits;
use crate::oids;
use crate::pipeline::algorithms::ContentCipher;
use crate::pipeline::keys::{KeyDecryptor, rsa_encrypt_key, spki_algorithm};

/// The PBKDF2 iteration count used by default when sealing with a password (PBKDF2 with
/// HMAC-SHA-256): 600 000, what OWASP's password storage guidance asks of PBKDF2-HMAC-SHA256
/// (about 70 ms on one core of the machine the tests run on, in a release build). Anyone
/// who sees the envelope can test guesses of the password offline, each at this cost; it
/// raises the cost, but only a password of high entropy protects the content (RFC 8894
/// section 7.3).
pub const PBKDF2_ITERATIONS: u32 = 600_000;
/// PBKDF2 salt length used when sealing with a password.
pub const PBKDF2_SALT_LEN: usize = 16;

/// Whom an envelope is encrypted for.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum Recipient<'a> {
    /// RSA PKCS #1 v1.5 key transport to this certificate's public key; the RecipientInfo
    /// names it by issuerAndSerialNumber.
    Certificate(&'a Certificate),
    /// A PasswordRecipientInfo (RFC 3211: PBKDF2 then id-alg-PWRI-KEK), for recipients whose
    /// key cannot decrypt (ECDSA); SCEP uses the challenge password.
    Password(&'a [u8]),
}

/// The key that opens an envelope.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum EnvelopeKey<'a> {
    /// A key-transport private key. With its certificate, the envelope must have exactly
    /// one KeyTransRecipientInfo naming that certificate; without, exactly one
    /// KeyTransRecipientInfo. Only that one is tried.
    Key {
        /// The private key.
        key: &'a dyn KeyDecryptor,
        /// Its certificate, if known.
        certificate: Option<&'a Certificate>,
    },
    /// The password of the envelope's one PasswordRecipientInfo.
    Password(&'a [u8]),
}

/// Options for decryption.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecryptOptions {
    /// Decrypt content encrypted with single DES-CBC. **Insecure**: 56-bit keys are broken
    /// and RFC 8894 section 2.9 forbids DES; this exists only because micromdm's server
    /// (and client) use DES-CBC whatever the peer announced. Off by default. Never affects
    /// what is produced.
    pub allow_insecure_single_des: bool,
    /// Input limits.
    pub limits: Limits,
}

impl DecryptOptions {
    /// Options that also decrypt single DES-CBC. See
    /// [`DecryptOptions::allow_insecure_single_des`].
    pub fn insecure_allow_single_des() -> Self {
        Self {
            allow_insecure_single_des: true,
            limits: Limits::default(),
        }
    }
}

/// The kind of a RecipientInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecipientKind {
    /// KeyTransRecipientInfo addressed by issuer and serial number.
    KeyTransport {
        /// The recipient certificate's issuer, as text.
        issuer: String,
        /// The recipient certificate's serial number, as upper-case hex.
        serial: String,
    },
    /// KeyTransRecipientInfo addressed by subjectKeyIdentifier (upper-case hex).
    KeyTransportSki(String),
    /// PasswordRecipientInfo.
    Password,
    /// Any other RecipientInfo choice (kari, kekri, ori).
    Other,
}

/// What an envelope says about itself, readable without any key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvelopeInfo {
    /// The content-encryption algorithm, single DES included (as
    /// [`ContentCipher::InsecureDesCbc`]: inspecting refuses nothing, opening does), or the
    /// error that fails to recognise it or its parameters.
    pub cipher: core::result::Result<ContentCipher, Error>,
    /// The RecipientInfos, in order.
    pub recipients: Vec<RecipientKind>,
    /// Length of the encrypted content in octets.
    pub encrypted_len: usize,
}

/// The result of opening an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decrypted {
    /// The cipher the content was encrypted with.
    pub cipher: ContentCipher,
    /// The decrypted content.
    pub plaintext: Vec<u8>,
}
