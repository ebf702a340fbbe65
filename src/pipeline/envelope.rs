//! EnvelopedData (RFC 5652 section 6): the pkcsPKIEnvelope of SCEP (RFC 8894 section 3.2.2).
//!
//! The structures are in [`crate::asn1::enveloped_data`]. Sealing makes a random
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

use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::EncryptedContentInfo;
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
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
        DecryptOptions {
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

/// PBKDF2-params (RFC 8018 appendix A.2), with the `specified` salt choice.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct Pbkdf2Params {
    salt: OctetString,
    iteration_count: u32,
    key_length: Option<u32>,
    prf: Option<AlgorithmIdentifierOwned>,
}

// ---------------------------------------------------------------------------------------
// Block cipher plumbing
// ---------------------------------------------------------------------------------------

fn cbc_raw(
    cipher: ContentCipher,
    key: &[u8],
    iv: &[u8],
    data: &[u8],
    encrypt: bool,
) -> Result<Vec<u8>> {
    use cbc::cipher::block_padding::NoPadding;
    use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};

    fn run<C>(key: &[u8], iv: &[u8], data: &[u8], encrypt: bool) -> Option<Vec<u8>>
    where
        C: cbc::cipher::BlockCipherEncrypt + cbc::cipher::BlockCipherDecrypt + cbc::cipher::KeyInit,
    {
        if encrypt {
            let enc = cbc::Encryptor::<C>::new_from_slices(key, iv).ok()?;
            Some(enc.encrypt_padded_vec::<NoPadding>(data))
        } else {
            let dec = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
            dec.decrypt_padded_vec::<NoPadding>(data).ok()
        }
    }
    if !data.len().is_multiple_of(cipher.block_len()) {
        return Err(CryptoError::DecryptionFailed.into());
    }
    let out = match cipher {
        ContentCipher::Aes128Cbc => run::<aes::Aes128>(key, iv, data, encrypt),
        ContentCipher::Aes192Cbc => run::<aes::Aes192>(key, iv, data, encrypt),
        ContentCipher::Aes256Cbc => run::<aes::Aes256>(key, iv, data, encrypt),
        ContentCipher::DesEde3Cbc => run::<des::TdesEde3>(key, iv, data, encrypt),
        ContentCipher::InsecureDesCbc => run::<des::Des>(key, iv, data, encrypt),
    };
    out.ok_or_else(|| CryptoError::DecryptionFailed.into())
}

fn pkcs7_pad(data: &[u8], block: usize) -> Vec<u8> {
    let pad = block.saturating_sub(data.len().checked_rem(block).unwrap_or(0));
    let mut out = Vec::with_capacity(data.len().saturating_add(pad));
    out.extend_from_slice(data);
    // `pad` is in 1..=block (at most 16), so it fits in a byte.
    out.resize(
        data.len().saturating_add(pad),
        u8::try_from(pad).unwrap_or(0),
    );
    out
}

/// The length of the content once its PKCS #7 padding is stripped, or `None` when the
/// padding is wrong. Every octet of the last block is looked at whatever the pad value, and
/// the answer is formed without branching on the octets.
fn pkcs7_unpadded_len(data: &[u8], block: usize) -> Option<usize> {
    let len = data.len();
    let last_block = data.get(len.checked_sub(block)?..)?;
    let pad = *last_block.last()?;
    let pad_len = usize::from(pad);
    let mut bad = u8::from(pad == 0) | u8::from(pad_len > block);
    for (i, b) in last_block.iter().rev().enumerate() {
        // Octets within the pad must equal it; others are not constrained.
        let in_pad = u8::from(i < pad_len);
        bad |= in_pad & u8::from(*b != pad);
    }
    if bad != 0 {
        return None;
    }
    len.checked_sub(pad_len)
}

fn random_bytes<R: CryptoRng + ?Sized>(rng: &mut R, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

fn random_key<R: CryptoRng + ?Sized>(cipher: ContentCipher, rng: &mut R) -> Vec<u8> {
    let mut key = random_bytes(rng, cipher.key_len());
    if matches!(
        cipher,
        ContentCipher::DesEde3Cbc | ContentCipher::InsecureDesCbc
    ) {
        // DES keys carry odd parity in the low bit of each octet (FIPS 46-3).
        for b in &mut key {
            *b = (*b & 0xfe) | u8::from((*b >> 1).count_ones() % 2 == 0);
        }
    }
    key
}

fn cipher_identifier(cipher: ContentCipher, iv: &[u8]) -> Result<AlgorithmIdentifierOwned> {
    let iv = OctetString::new(iv).map_err(|e| Error::encode("IV", e))?;
    Ok(AlgorithmIdentifierOwned {
        oid: cipher.oid(),
        parameters: Some(Any::encode_from(&iv).map_err(|e| Error::encode("IV", e))?),
    })
}

/// Reads a CBC cipher identifier: the cipher and its IV, refusing single DES unless allowed.
fn read_cipher(
    element: &'static str,
    alg: &AlgorithmIdentifierOwned,
    allow_des: bool,
) -> Result<(ContentCipher, Vec<u8>)> {
    let cipher = ContentCipher::from_oid(element, &alg.oid)?;
    if cipher == ContentCipher::InsecureDesCbc && !allow_des {
        return Err(AlgorithmError::Refused {
            algorithm: "DES-CBC",
            element,
        }
        .into());
    }
    let iv = alg
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<OctetString>().ok())
        .map(|o| o.into_bytes().into_vec())
        .ok_or_else(|| AlgorithmError::BadParameters {
            element,
            detail: "the parameters are not an OCTET STRING IV".into(),
        })?;
    if iv.len() != cipher.block_len() {
        return Err(AlgorithmError::BadParameters {
            element,
            detail: format!(
                "the IV has {} octets, {cipher} needs {}",
                iv.len(),
                cipher.block_len()
            ),
        }
        .into());
    }
    Ok((cipher, iv))
}

// ---------------------------------------------------------------------------------------
// PWRI (RFC 3211)
// ---------------------------------------------------------------------------------------

fn pbkdf2(
    prf: &ObjectIdentifier,
    password: &[u8],
    salt: &[u8],
    rounds: u32,
    out: &mut [u8],
) -> Result<()> {
    if *prf == oids::HMAC_WITH_SHA1 {
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, out);
    } else if *prf == oids::HMAC_WITH_SHA256 {
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, out);
    } else if *prf == oids::HMAC_WITH_SHA384 {
        pbkdf2::pbkdf2_hmac::<sha2::Sha384>(password, salt, rounds, out);
    } else if *prf == oids::HMAC_WITH_SHA512 {
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, rounds, out);
    } else if *prf == oids::HMAC_WITH_SHA224 {
        pbkdf2::pbkdf2_hmac::<sha2::Sha224>(password, salt, rounds, out);
    } else {
        return Err(Error::unsupported("PBKDF2-params.prf", prf));
    }
    Ok(())
}

/// RFC 3211 section 2.3.1: format the CEK and encrypt it twice.
fn pwri_wrap<R: CryptoRng + ?Sized>(
    cipher: ContentCipher,
    kek: &[u8],
    iv: &[u8],
    cek: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let block = cipher.block_len();
    let len = u8::try_from(cek.len()).map_err(|_| Error::encode("PWRI key", "key too long"))?;
    let mut formatted = vec![len];
    formatted.extend(cek.iter().take(3).map(|b| !b));
    formatted.extend_from_slice(cek);
    let min = block.saturating_mul(2);
    let target = formatted
        .len()
        .max(min)
        .div_ceil(block)
        .saturating_mul(block);
    let pad = random_bytes(rng, target.saturating_sub(formatted.len()));
    formatted.extend_from_slice(&pad);
    let first = cbc_raw(cipher, kek, iv, &formatted, true)?;
    let last_block = first
        .get(first.len().saturating_sub(block)..)
        .ok_or(CryptoError::EncryptionFailed("PWRI wrap".into()))?
        .to_vec();
    cbc_raw(cipher, kek, &last_block, &first, true)
}

/// RFC 3211 section 2.3.2: undo the two encryptions and check length and check octets.
fn pwri_unwrap(cipher: ContentCipher, kek: &[u8], iv: &[u8], wrapped: &[u8]) -> Option<Vec<u8>> {
    let block = cipher.block_len();
    if wrapped.len() < block.checked_mul(2)? || !wrapped.len().is_multiple_of(block) {
        return None;
    }
    let n = wrapped.len();
    let prev = wrapped.get(n.checked_sub(block.checked_mul(2)?)?..n.checked_sub(block)?)?;
    let last = wrapped.get(n.checked_sub(block)?..)?;
    // The last block of the inner ciphertext, then the whole inner ciphertext.
    let inner_last = cbc_raw(cipher, kek, prev, last, false).ok()?;
    let inner = cbc_raw(cipher, kek, &inner_last, wrapped, false).ok()?;
    let formatted = cbc_raw(cipher, kek, iv, &inner, false).ok()?;
    let (&len, rest) = formatted.split_first()?;
    let (check, key_and_pad) = rest.split_at_checked(3)?;
    let key = key_and_pad.get(..usize::from(len))?;
    let mut bad = u8::from(key.len() < 3);
    for (c, k) in check.iter().zip(key.iter()) {
        bad |= u8::from(*c != !*k);
    }
    if bad != 0 {
        return None;
    }
    Some(key.to_vec())
}

// ---------------------------------------------------------------------------------------
// Seal
// ---------------------------------------------------------------------------------------

/// Encrypts `content` for `recipient` and returns the DER `ContentInfo` of type
/// id-envelopedData.
pub fn seal<R: CryptoRng + ?Sized>(
    content: &[u8],
    cipher: ContentCipher,
    recipient: Recipient<'_>,
    rng: &mut R,
) -> Result<Vec<u8>> {
    seal_with_iterations(content, cipher, recipient, PBKDF2_ITERATIONS, rng)
}

/// [`seal`] with `pbkdf2_iterations` PBKDF2 iterations for a [`Recipient::Password`]
/// (ignored for a certificate).
pub fn seal_with_iterations<R: CryptoRng + ?Sized>(
    content: &[u8],
    cipher: ContentCipher,
    recipient: Recipient<'_>,
    pbkdf2_iterations: u32,
    rng: &mut R,
) -> Result<Vec<u8>> {
    if pbkdf2_iterations == 0 {
        return Err(Error::encode(
            "PBKDF2-params",
            "iterationCount must be at least 1",
        ));
    }
    if cipher == ContentCipher::InsecureDesCbc {
        return Err(AlgorithmError::Refused {
            algorithm: "DES-CBC",
            element: "contentEncryptionAlgorithm",
        }
        .into());
    }
    let cek = random_key(cipher, rng);
    let iv = random_bytes(rng, cipher.block_len());

    let (info, version) = match recipient {
        Recipient::Certificate(cert) => {
            let spki = cert.tbs_certificate().subject_public_key_info();
            if spki_algorithm("recipient certificate", spki)? != crate::KeyAlgorithm::Rsa {
                return Err(Error::key(
                    "key transport needs an RSA recipient certificate; use a password \
                     (PasswordRecipientInfo) for recipients whose key cannot decrypt",
                ));
            }
            let encrypted = rsa_encrypt_key(spki, &cek, rng)?;
            let ktri = KeyTransRecipientInfo {
                version: CmsVersion::V0,
                rid: RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber::of(cert)),
                key_enc_alg: AlgorithmIdentifierOwned {
                    oid: oids::RSA_ENCRYPTION,
                    parameters: Some(Any::null()),
                },
                enc_key: OctetString::new(encrypted)
                    .map_err(|e| Error::encode("encryptedKey", e))?,
            };
            (RecipientInfo::Ktri(ktri), CmsVersion::V0)
        }
        Recipient::Password(password) => {
            let salt = random_bytes(rng, PBKDF2_SALT_LEN);
            let mut kek = vec![0u8; cipher.key_len()];
            pbkdf2(
                &oids::HMAC_WITH_SHA256,
                password,
                &salt,
                pbkdf2_iterations,
                &mut kek,
            )?;
            let kek_iv = random_bytes(rng, cipher.block_len());
            let wrapped = pwri_wrap(cipher, &kek, &kek_iv, &cek, rng)?;
            let params = Pbkdf2Params {
                salt: OctetString::new(salt).map_err(|e| Error::encode("PBKDF2 salt", e))?,
                iteration_count: pbkdf2_iterations,
                key_length: None,
                prf: Some(AlgorithmIdentifierOwned {
                    oid: oids::HMAC_WITH_SHA256,
                    parameters: Some(Any::null()),
                }),
            };
            let kek_alg = cipher_identifier(cipher, &kek_iv)?;
            let pwri = PasswordRecipientInfo {
                version: CmsVersion::V0,
                key_derivation_alg: Some(AlgorithmIdentifierOwned {
                    oid: oids::PBKDF2,
                    parameters: Some(
                        Any::encode_from(&params).map_err(|e| Error::encode("PBKDF2-params", e))?,
                    ),
                }),
                key_enc_alg: AlgorithmIdentifierOwned {
                    oid: oids::PWRI_KEK,
                    parameters: Some(
                        Any::encode_from(&kek_alg).map_err(|e| Error::encode("PWRI-KEK", e))?,
                    ),
                },
                enc_key: OctetString::new(wrapped).map_err(|e| Error::encode("encryptedKey", e))?,
            };
            (RecipientInfo::Pwri(pwri), CmsVersion::V3)
        }
    };

    let ciphertext = cbc_raw(
        cipher,
        &cek,
        &iv,
        &pkcs7_pad(content, cipher.block_len()),
        true,
    )?;
    let mut recip_infos = SetOfVec::new();
    recip_infos
        .insert(info.to_any()?)
        .map_err(|e| Error::encode("recipientInfos", e))?;
    let env = EnvelopedData {
        version,
        originator_info: None,
        recip_infos,
        encrypted_content: EncryptedContentInfo {
            content_type: oids::ID_DATA,
            content_enc_alg: cipher_identifier(cipher, &iv)?,
            encrypted_content: Some(
                OctetString::new(ciphertext).map_err(|e| Error::encode("encryptedContent", e))?,
            ),
        },
        unprotected_attrs: None,
    };
    ContentInfo {
        content_type: oids::ID_ENVELOPED_DATA,
        content: Any::encode_from(&env).map_err(|e| Error::encode("EnvelopedData", e))?,
    }
    .to_der()
    .map_err(|e| Error::encode("ContentInfo", e))
}

// ---------------------------------------------------------------------------------------
// Open
// ---------------------------------------------------------------------------------------

fn parse(input: &[u8], limits: &Limits) -> Result<(EnvelopedData, Vec<RecipientInfo>)> {
    if input.len() > limits.max_message_size {
        return Err(Error::Limit {
            what: "message size",
            limit: limits.max_message_size,
        });
    }
    let der = crate::ber::to_der(input, limits)?;
    let info =
        ContentInfo::from_der(&der).map_err(|e| Error::decode("pkcsPKIEnvelope ContentInfo", e))?;
    if info.content_type != oids::ID_ENVELOPED_DATA {
        return Err(ProtocolError::WrongContentType(
            "the pkcsPKIEnvelope ContentInfo is not id-envelopedData",
        )
        .into());
    }
    let env = info
        .content
        .decode_as::<EnvelopedData>()
        .map_err(|e| Error::decode("EnvelopedData", e))?;
    if env.recip_infos.len() > limits.max_recipients {
        return Err(Error::Limit {
            what: "recipients",
            limit: limits.max_recipients,
        });
    }
    let recipients = env
        .recip_infos
        .iter()
        .map(RecipientInfo::from_any)
        .collect::<Result<Vec<_>>>()?;
    Ok((env, recipients))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Reads an envelope (a BER or DER `ContentInfo` of type id-envelopedData) without
/// decrypting it.
pub fn inspect(input: &[u8], limits: &Limits) -> Result<EnvelopeInfo> {
    let (env, recipients) = parse(input, limits)?;
    let cipher = read_cipher(
        "EncryptedContentInfo.contentEncryptionAlgorithm",
        &env.encrypted_content.content_enc_alg,
        true,
    )
    .map(|(c, _)| c);
    let recipients = recipients
        .iter()
        .map(|r| match r {
            RecipientInfo::Ktri(k) => match &k.rid {
                RecipientIdentifier::IssuerAndSerialNumber(ias) => RecipientKind::KeyTransport {
                    issuer: ias.issuer.to_string(),
                    serial: hex(ias.serial_number.as_bytes()),
                },
                RecipientIdentifier::SubjectKeyIdentifier(ski) => {
                    RecipientKind::KeyTransportSki(hex(ski.as_bytes()))
                }
            },
            RecipientInfo::Pwri(_) => RecipientKind::Password,
            _ => RecipientKind::Other,
        })
        .collect();
    Ok(EnvelopeInfo {
        cipher,
        recipients,
        encrypted_len: env
            .encrypted_content
            .encrypted_content
            .as_ref()
            .map_or(0, |c| c.as_bytes().len()),
    })
}

/// Derives the key-encryption key of a PasswordRecipientInfo from `password` and checks
/// the parameters (public information, so their errors may differ). Returns the
/// key-encryption cipher, key and IV.
fn pwri_kek(
    pwri: &PasswordRecipientInfo,
    password: &[u8],
    options: &DecryptOptions,
) -> Result<(ContentCipher, Vec<u8>, Vec<u8>)> {
    let kdf = pwri
        .key_derivation_alg
        .as_ref()
        .ok_or(ProtocolError::UnexpectedContent(
            "a PasswordRecipientInfo without keyDerivationAlgorithm",
        ))?;
    if kdf.oid != oids::PBKDF2 {
        return Err(Error::unsupported(
            "PasswordRecipientInfo.keyDerivationAlgorithm",
            &kdf.oid,
        ));
    }
    let params = kdf
        .parameters
        .as_ref()
        .ok_or_else(|| Error::decode("PBKDF2-params", "absent"))?
        .decode_as::<Pbkdf2Params>()
        .map_err(|e| Error::decode("PBKDF2-params", e))?;
    if params.iteration_count == 0 {
        return Err(Error::decode("PBKDF2-params", "iterationCount is 0"));
    }
    // One PasswordRecipientInfo is tried per envelope, so the limit is the envelope's
    // whole PBKDF2 budget.
    if params.iteration_count > options.limits.max_pbkdf2_iterations {
        return Err(Error::Limit {
            what: "PBKDF2 iterations",
            limit: usize::try_from(options.limits.max_pbkdf2_iterations).unwrap_or(usize::MAX),
        });
    }
    if pwri.key_enc_alg.oid != oids::PWRI_KEK {
        return Err(Error::unsupported(
            "PasswordRecipientInfo.keyEncryptionAlgorithm",
            &pwri.key_enc_alg.oid,
        ));
    }
    let kek_alg = pwri
        .key_enc_alg
        .parameters
        .as_ref()
        .ok_or_else(|| Error::decode("id-alg-PWRI-KEK parameters", "absent"))?
        .decode_as::<AlgorithmIdentifierOwned>()
        .map_err(|e| Error::decode("id-alg-PWRI-KEK parameters", e))?;
    let (kek_cipher, kek_iv) = read_cipher(
        "id-alg-PWRI-KEK parameters",
        &kek_alg,
        options.allow_insecure_single_des,
    )?;
    if let Some(len) = params.key_length
        && usize::try_from(len).ok() != Some(kek_cipher.key_len())
    {
        return Err(AlgorithmError::BadParameters {
            element: "PBKDF2-params.keyLength",
            detail: format!("{len} octets, {kek_cipher} needs {}", kek_cipher.key_len()),
        }
        .into());
    }
    let prf = params.prf.as_ref().map_or(oids::HMAC_WITH_SHA1, |p| p.oid);
    let mut kek = vec![0u8; kek_cipher.key_len()];
    pbkdf2(
        &prf,
        password,
        params.salt.as_bytes(),
        params.iteration_count,
        &mut kek,
    )?;
    Ok((kek_cipher, kek, kek_iv))
}

fn ktri_matches(k: &KeyTransRecipientInfo, cert: &Certificate) -> bool {
    match &k.rid {
        RecipientIdentifier::IssuerAndSerialNumber(ias) => ias.matches(cert),
        RecipientIdentifier::SubjectKeyIdentifier(ski) => {
            crate::asn1::cert::has_subject_key_identifier(cert, ski.as_bytes())
        }
    }
}

fn check_key_transport_alg(k: &KeyTransRecipientInfo) -> Result<()> {
    let alg = &k.key_enc_alg;
    if alg.oid != oids::RSA_ENCRYPTION {
        return Err(Error::unsupported(
            "KeyTransRecipientInfo.keyEncryptionAlgorithm",
            &alg.oid,
        ));
    }
    // NULL (RFC 3370) or absent (Go, Apple).
    match &alg.parameters {
        None => Ok(()),
        Some(p) if p.is_null() => Ok(()),
        Some(_) => Err(AlgorithmError::BadParameters {
            element: "KeyTransRecipientInfo.keyEncryptionAlgorithm",
            detail: "rsaEncryption parameters must be NULL or absent".into(),
        }
        .into()),
    }
}

/// A secret of this process, drawn from the operating system once, that makes substitute
/// keys unpredictable whatever their seed; `None` if the operating system's generator
/// failed (then nothing is decrypted: RSA blinding would fail too).
fn process_secret() -> Option<&'static [u8; 32]> {
    static SECRET: std::sync::OnceLock<Option<[u8; 32]>> = std::sync::OnceLock::new();
    SECRET
        .get_or_init(|| {
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret).ok().map(|()| secret)
        })
        .as_ref()
}

/// A content-encryption key of `len` octets that stands in for one that could not be
/// recovered, so that decryption goes on and fails the same way as with a wrong key
/// (RFC 3218 section 2.3.2): SHA-512 of the process `secret`, the kind of seed, and `seed`
/// (what the key transport gave: the output of an RSA decryption, the encryptedKey when
/// the key reported an error, the key-encryption key derived from the password). It is
/// the same for the same seed, and nobody outside the process can compute it.
fn substitute_key(secret: &[u8; 32], len: usize, kind: &[u8], seed: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut hasher = sha2::Sha512::new();
    hasher.update(b"scep substitute content-encryption key");
    hasher.update(secret);
    hasher.update(kind);
    hasher.update(seed);
    hasher.finalize().into_iter().take(len).collect()
}

/// Refuses an encryptedKey that is not a canonical RSA ciphertext for the recipient key
/// `spki`: exactly as long as the modulus, and below it (RFC 8017 section 7.2.2, step 1,
/// and RSADP's range check, both a "decryption error" there: here
/// [`CryptoError::DecryptionFailed`], as for a wrong key). Both conditions are public. They
/// give each ciphertext value one encoding, whatever a [`KeyDecryptor`] would accept, so
/// that a server's memory of the encryptedKeys it saw cannot be passed by another encoding
/// of the same value.
fn check_encrypted_key(
    encrypted: &[u8],
    spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
) -> Result<()> {
    use rsa::traits::PublicKeyParts;
    let key = crate::pipeline::keys::rsa_public_key(spki)?;
    let n = key.n_bytes();
    if encrypted.len() != key.size() || n.len() != encrypted.len() || encrypted >= &n[..] {
        return Err(CryptoError::DecryptionFailed.into());
    }
    Ok(())
}

/// The RecipientInfo an [`EnvelopeKey`] opens.
enum Selected<'e> {
    KeyTransport(&'e KeyTransRecipientInfo),
    Password(&'e PasswordRecipientInfo),
}

/// An envelope read for opening: everything that can be read without a key. Every error
/// up to here concerns what travels in clear.
pub(crate) struct Envelope {
    cipher: ContentCipher,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    recipients: Vec<RecipientInfo>,
}

impl Envelope {
    /// Parses an envelope (BER or DER `ContentInfo` of type id-envelopedData) and reads its
    /// content-encryption algorithm (refusing single DES unless allowed) and ciphertext.
    pub(crate) fn parse(input: &[u8], options: &DecryptOptions) -> Result<Self> {
        let (env, recipients) = parse(input, &options.limits)?;
        let eci = env.encrypted_content;
        let (cipher, iv) = read_cipher(
            "EncryptedContentInfo.contentEncryptionAlgorithm",
            &eci.content_enc_alg,
            options.allow_insecure_single_des,
        )?;
        let ciphertext = eci
            .encrypted_content
            .ok_or(ProtocolError::UnexpectedContent(
                "the EnvelopedData has no encryptedContent",
            ))?
            .into_bytes()
            .into_vec();
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(cipher.block_len()) {
            return Err(Error::decode(
                "EncryptedContentInfo.encryptedContent",
                format_args!(
                    "{} octets is not a whole number of {cipher} blocks",
                    ciphertext.len()
                ),
            ));
        }
        Ok(Envelope {
            cipher,
            iv,
            ciphertext,
            recipients,
        })
    }

    /// How many of the RecipientInfos `key` would open: a [`EnvelopeKey::Key`] with its
    /// certificate, those naming the certificate; without, every key-transport one; a
    /// password, every PasswordRecipientInfo.
    pub(crate) fn addressed_to(&self, key: &EnvelopeKey<'_>) -> usize {
        self.candidates(key).count()
    }

    fn candidates<'s>(&'s self, key: &EnvelopeKey<'_>) -> impl Iterator<Item = Selected<'s>> {
        let key = *key;
        self.recipients.iter().filter_map(move |r| match (r, key) {
            (RecipientInfo::Ktri(k), EnvelopeKey::Key { certificate, .. })
                if certificate.is_none_or(|c| ktri_matches(k, c)) =>
            {
                Some(Selected::KeyTransport(k))
            }
            (RecipientInfo::Pwri(p), EnvelopeKey::Password(_)) => Some(Selected::Password(p)),
            _ => None,
        })
    }

    /// The one RecipientInfo `key` opens: none is [`CryptoError::NoMatchingRecipient`],
    /// more than one [`ProtocolError::DuplicateRecipient`] (each would cost a private-key
    /// operation or a PBKDF2 derivation, so only one is ever tried).
    fn select(&self, key: &EnvelopeKey<'_>) -> Result<Selected<'_>> {
        let mut found = self.candidates(key);
        let first = found.next().ok_or(CryptoError::NoMatchingRecipient)?;
        if found.next().is_some() {
            return Err(ProtocolError::DuplicateRecipient(match first {
                Selected::KeyTransport(_) => "KeyTransRecipientInfo",
                Selected::Password(_) => "PasswordRecipientInfo",
            })
            .into());
        }
        Ok(first)
    }

    /// Decrypts the content with `key` and decodes it with `decode`, as one step.
    ///
    /// What is public is checked first, each with its own error: which RecipientInfo the
    /// key opens, its algorithm parameters, and the size of the ciphertext against
    /// `max_plaintext` (a ciphertext whose smallest possible plaintext is larger is
    /// refused before any decryption, as [`Error::Limit`] `what`), and that an
    /// encryptedKey is a canonical RSA ciphertext. `admit` then sees the encryptedKey (the
    /// RecipientInfo's, as it travels: public) before the key transport and may refuse it:
    /// a server refuses one it saw in another message (a captured envelope replayed with
    /// chosen ciphertext), a decision that depends on nothing secret. From key transport
    /// to the decoded value everything fails as one [`CryptoError::DecryptionFailed`],
    /// after the same work: a key that cannot be recovered is replaced by a substitute
    /// (see [`substitute_key`]), the whole content is decrypted, the padding checked, and
    /// `decode` run (over the content without its padding, or all of it when the padding
    /// is wrong) whatever happened before. Nothing decrypted reaches the error.
    pub(crate) fn open_with<T>(
        &self,
        key: EnvelopeKey<'_>,
        options: &DecryptOptions,
        max_plaintext: (usize, &'static str),
        admit: &mut dyn FnMut(&[u8]) -> Result<()>,
        decode: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<(T, ContentCipher)> {
        let cipher = self.cipher;
        let key_spki = match key {
            EnvelopeKey::Key { key, certificate } => {
                let key_spki = key.recipient_key_info()?;
                if certificate
                    .is_some_and(|c| c.tbs_certificate().subject_public_key_info() != &key_spki)
                {
                    return Err(Error::key(
                        "the decryption key does not belong to the certificate given with it",
                    ));
                }
                Some(key_spki)
            }
            EnvelopeKey::Password(_) => None,
        };
        let selected = self.select(&key)?;
        let (limit, what) = max_plaintext;
        if self.ciphertext.len().saturating_sub(cipher.block_len()) > limit {
            return Err(Error::Limit { what, limit });
        }
        let secret = process_secret().ok_or(CryptoError::DecryptionFailed)?;
        // Recover the content-encryption key, or a substitute (`recovered` false). The
        // substitute is made either way, so that both cost the same.
        let len = cipher.key_len();
        let (recovered, substitute) = match (selected, key, &key_spki) {
            (Selected::KeyTransport(ktri), EnvelopeKey::Key { key, .. }, Some(spki)) => {
                check_key_transport_alg(ktri)?;
                let encrypted = ktri.enc_key.as_bytes();
                check_encrypted_key(encrypted, spki)?;
                admit(encrypted)?;
                match key.decrypt_key(encrypted) {
                    Ok(k) => {
                        let substitute = substitute_key(secret, len, b"output", &k);
                        (Some(k), substitute)
                    }
                    Err(_) => (None, substitute_key(secret, len, b"error", encrypted)),
                }
            }
            (Selected::Password(pwri), EnvelopeKey::Password(password), _) => {
                admit(pwri.enc_key.as_bytes())?;
                let (kek_cipher, kek, kek_iv) = pwri_kek(pwri, password, options)?;
                let unwrapped = pwri_unwrap(kek_cipher, &kek, &kek_iv, pwri.enc_key.as_bytes());
                (unwrapped, substitute_key(secret, len, b"password", &kek))
            }
            // `select` pairs key-transport recipients with keys and PWRIs with passwords.
            _ => return Err(CryptoError::NoMatchingRecipient.into()),
        };
        let (cek, recovered) = match recovered {
            Some(k) if k.len() == len => (k, true),
            _ => (substitute, false),
        };
        // The ciphertext is a whole number of blocks and the key has the cipher's length
        // (checked above), so this does not fail; if it did, it would fail like the rest.
        let plain = cbc_raw(cipher, &cek, &self.iv, &self.ciphertext, false).unwrap_or_default();
        let unpadded = pkcs7_unpadded_len(&plain, cipher.block_len());
        let content = plain
            .get(..unpadded.unwrap_or(plain.len()))
            .unwrap_or_default();
        let decoded = decode(content);
        match (recovered, unpadded.is_some(), decoded) {
            (true, true, Ok(value)) => Ok((value, cipher)),
            _ => Err(CryptoError::DecryptionFailed.into()),
        }
    }
}

/// Decrypts an envelope (a BER or DER `ContentInfo` of type id-envelopedData).
///
/// Exactly one RecipientInfo may be addressed to `key` (see [`EnvelopeKey`]); the
/// decrypted content may be at most [`Limits::max_message_size`] octets. A wrong key or
/// password, a corrupted key and bad padding are one [`CryptoError::DecryptionFailed`].
pub fn open(input: &[u8], key: EnvelopeKey<'_>, options: &DecryptOptions) -> Result<Decrypted> {
    Envelope::parse(input, options)?
        .open_with(
            key,
            options,
            (options.limits.max_message_size, "message size"),
            &mut |_| Ok(()),
            |p| Ok(p.to_vec()),
        )
        .map(|(plaintext, cipher)| Decrypted { cipher, plaintext })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_round_trip_and_rejection() {
        for len in 0..40 {
            let data = vec![7u8; len];
            let padded = pkcs7_pad(&data, 16);
            assert_eq!(padded.len() % 16, 0);
            assert_eq!(pkcs7_unpadded_len(&padded, 16), Some(len));
        }
        let mut bad = pkcs7_pad(b"abc", 8);
        let last = bad.len() - 1;
        bad[last] = 0;
        assert_eq!(pkcs7_unpadded_len(&bad, 8), None);
        bad[last] = 9;
        assert_eq!(pkcs7_unpadded_len(&bad, 8), None);
        bad[last] = 5;
        bad[last - 1] = 4;
        assert_eq!(pkcs7_unpadded_len(&bad, 8), None);
    }

    #[test]
    fn pwri_wrap_round_trip_and_check_bytes() {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        for cipher in ContentCipher::PRODUCIBLE {
            let kek = random_key(cipher, &mut rng);
            let iv = random_bytes(&mut rng, cipher.block_len());
            let cek = random_key(cipher, &mut rng);
            let wrapped = pwri_wrap(cipher, &kek, &iv, &cek, &mut rng).unwrap();
            assert_eq!(pwri_unwrap(cipher, &kek, &iv, &wrapped), Some(cek.clone()));
            let mut other = kek.clone();
            other[0] ^= 0x80;
            assert_eq!(pwri_unwrap(cipher, &other, &iv, &wrapped), None, "{cipher}");
        }
    }

    #[test]
    fn password_round_trip_wrong_password_and_des_refusal() {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        for cipher in ContentCipher::PRODUCIBLE {
            let env = seal_with_iterations(
                b"hello scep",
                cipher,
                Recipient::Password(b"pw"),
                2048,
                &mut rng,
            )
            .unwrap();
            let ok = open(
                &env,
                EnvelopeKey::Password(b"pw"),
                &DecryptOptions::default(),
            )
            .unwrap();
            assert_eq!(ok.plaintext, b"hello scep");
            assert_eq!(ok.cipher, cipher);
            assert_eq!(
                open(
                    &env,
                    EnvelopeKey::Password(b"pW"),
                    &DecryptOptions::default()
                ),
                Err(CryptoError::DecryptionFailed.into())
            );
            let info = inspect(&env, &Limits::default()).unwrap();
            assert_eq!(info.cipher, Ok(cipher));
            assert_eq!(info.recipients, vec![RecipientKind::Password]);
        }
        assert!(matches!(
            seal(
                b"x",
                ContentCipher::InsecureDesCbc,
                Recipient::Password(b"pw"),
                &mut rng
            ),
            Err(Error::Algorithm(AlgorithmError::Refused {
                algorithm: "DES-CBC",
                ..
            }))
        ));
    }

    #[test]
    fn substitute_keys_are_the_same_for_a_seed_and_not_computable_from_it() {
        use sha2::Digest;
        let secret = process_secret().unwrap();
        let seed = b"a public encryptedKey";
        let a = substitute_key(secret, 16, b"error", seed);
        assert_eq!(a, substitute_key(secret, 16, b"error", seed));
        assert_ne!(a, substitute_key(secret, 16, b"error", b"another seed"));
        assert_ne!(a, substitute_key(secret, 16, b"output", seed));
        assert_eq!(substitute_key(secret, 32, b"error", seed).len(), 32);
        // What someone who knows the seed but not the process secret would compute.
        let public: Vec<u8> = sha2::Sha512::new()
            .chain_update(b"scep substitute content-encryption key")
            .chain_update(seed)
            .finalize()
            .into_iter()
            .take(16)
            .collect();
        assert_ne!(a, public);
        assert_ne!(secret, &[0u8; 32]);
    }

    #[test]
    fn pbkdf2_iteration_limit() {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let env = seal_with_iterations(
            b"x",
            ContentCipher::Aes128Cbc,
            Recipient::Password(b"pw"),
            2048,
            &mut rng,
        )
        .unwrap();
        let mut options = DecryptOptions::default();
        options.limits.max_pbkdf2_iterations = 100;
        assert!(matches!(
            open(&env, EnvelopeKey::Password(b"pw"), &options),
            Err(Error::Limit {
                what: "PBKDF2 iterations",
                ..
            })
        ));
    }
}
