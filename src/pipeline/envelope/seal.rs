//! Sealing: the EnvelopedData of a content for a certificate (RSA key transport) or a
//! password (PasswordRecipientInfo).

use super::*;
use crate::error::Element;

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
            Element::Pbkdf2Params,
            "iterationCount must be at least 1",
        ));
    }
    if cipher == ContentCipher::InsecureDesCbc {
        return Err(AlgorithmError::Refused {
            algorithm: "DES-CBC",
            element: Element::ContentEncryptionAlgorithm,
        }
        .into());
    }
    let cek = random_key(cipher, rng);
    let iv = random_bytes(rng, cipher.block_len());

    let (info, version) = match recipient {
        Recipient::Certificate(cert) => {
            let spki = cert.tbs_certificate().subject_public_key_info();
            if spki_algorithm(Element::RecipientCertificate, spki)? != crate::KeyAlgorithm::Rsa {
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
                    .map_err(|e| Error::encode(Element::EncryptedKey, e))?,
            };
            (RecipientInfo::Ktri(ktri), CmsVersion::V0)
        }
        Recipient::Password(password) => {
            let salt = random_bytes(rng, PBKDF2_SALT_LEN);
            let mut kek = Secret::new(vec![0u8; cipher.key_len()]);
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
                salt: OctetString::new(salt).map_err(|e| Error::encode(Element::Pbkdf2Salt, e))?,
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
                        Any::encode_from(&params)
                            .map_err(|e| Error::encode(Element::Pbkdf2Params, e))?,
                    ),
                }),
                key_enc_alg: AlgorithmIdentifierOwned {
                    oid: oids::PWRI_KEK,
                    parameters: Some(
                        Any::encode_from(&kek_alg)
                            .map_err(|e| Error::encode(Element::PwriKek, e))?,
                    ),
                },
                enc_key: OctetString::new(wrapped)
                    .map_err(|e| Error::encode(Element::EncryptedKey, e))?,
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
        .map_err(|e| Error::encode(Element::RecipientInfos, e))?;
    let env = EnvelopedData {
        version,
        originator_info: None,
        recip_infos,
        encrypted_content: EncryptedContentInfo {
            content_type: oids::ID_DATA,
            content_enc_alg: cipher_identifier(cipher, &iv)?,
            encrypted_content: Some(
                OctetString::new(ciphertext)
                    .map_err(|e| Error::encode(Element::EncryptedContent, e))?,
            ),
        },
        unprotected_attrs: None,
    };
    crate::pipeline::content_info::wrap(oids::ID_ENVELOPED_DATA, &env, Element::EnvelopedData)
}
