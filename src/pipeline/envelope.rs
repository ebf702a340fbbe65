//! EnvelopedData (RFC 5652 section 6): the pkcsPKIEnvelope.
//!
//! Placeholder: being written.

use crate::asn1::Certificate;
use rand_core::CryptoRng;

use crate::error::Result;
use crate::limits::Limits;
use crate::pipeline::algorithms::ContentCipher;
use crate::pipeline::keys::KeyDecryptor;

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
    /// A key-transport private key. With its certificate, only the RecipientInfo naming that
    /// certificate is tried; without, every key-transport RecipientInfo is.
    Key {
        /// The private key.
        key: &'a dyn KeyDecryptor,
        /// Its certificate, if known.
        certificate: Option<&'a Certificate>,
    },
    /// The password of a PasswordRecipientInfo.
    Password(&'a [u8]),
}

/// Options for decryption.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecryptOptions {
    /// Decrypt content encrypted with single DES-CBC. **Insecure**: 56-bit keys are broken
    /// and RFC 8894 section 2.9 forbids DES; this exists only because micromdm's server
    /// answers every CertRep in DES-CBC. Off by default. Never affects what is produced.
    pub allow_insecure_single_des: bool,
    /// Input limits.
    pub limits: Limits,
}

/// The kind of a RecipientInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecipientKind {
    /// KeyTransRecipientInfo addressed by issuer and serial number (DER of each).
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
    /// The content-encryption algorithm, or the error that refuses or fails to recognise it.
    pub cipher: core::result::Result<ContentCipher, crate::Error>,
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

/// Encrypts `content` for `recipient` and returns the DER `ContentInfo` of type
/// id-envelopedData.
pub fn seal<R: CryptoRng + ?Sized>(
    content: &[u8],
    cipher: ContentCipher,
    recipient: Recipient<'_>,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let _ = (content, cipher, recipient, rng);
    Err(crate::Error::key("envelope sealing not yet implemented"))
}

/// Reads an envelope (a BER or DER `ContentInfo` of type id-envelopedData) without
/// decrypting it.
pub fn inspect(input: &[u8], limits: &Limits) -> Result<EnvelopeInfo> {
    let _ = (input, limits);
    Err(crate::Error::key("envelope inspection not yet implemented"))
}

/// Decrypts an envelope (a BER or DER `ContentInfo` of type id-envelopedData).
pub fn open(input: &[u8], key: EnvelopeKey<'_>, options: &DecryptOptions) -> Result<Decrypted> {
    let _ = (input, key, options);
    Err(crate::Error::key("envelope opening not yet implemented"))
}
