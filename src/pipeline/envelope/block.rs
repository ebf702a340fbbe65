//! The block-cipher plumbing of the content encryption: CBC with PKCS #7 padding, random
//! keys and IVs, the AlgorithmIdentifier of a cipher and its IV.

use super::*;
use crate::error::Element;

pub(super) fn cbc_raw(
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

pub(super) fn pkcs7_pad(data: &[u8], block: usize) -> Vec<u8> {
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
pub(super) fn pkcs7_unpadded_len(data: &[u8], block: usize) -> Option<usize> {
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

pub(super) fn random_bytes<R: CryptoRng + ?Sized>(rng: &mut R, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

pub(super) fn random_key<R: CryptoRng + ?Sized>(cipher: ContentCipher, rng: &mut R) -> Secret {
    let mut key = Secret::new(random_bytes(rng, cipher.key_len()));
    if matches!(
        cipher,
        ContentCipher::DesEde3Cbc | ContentCipher::InsecureDesCbc
    ) {
        // DES keys carry odd parity in the low bit of each octet (FIPS 46-3).
        for b in key.iter_mut() {
            *b = (*b & 0xfe) | u8::from((*b >> 1).count_ones() % 2 == 0);
        }
    }
    key
}

pub(super) fn cipher_identifier(
    cipher: ContentCipher,
    iv: &[u8],
) -> Result<AlgorithmIdentifierOwned> {
    let iv = OctetString::new(iv).map_err(|e| Error::encode(Element::Iv, e))?;
    Ok(AlgorithmIdentifierOwned {
        oid: cipher.oid(),
        parameters: Some(Any::encode_from(&iv).map_err(|e| Error::encode(Element::Iv, e))?),
    })
}

/// Reads a CBC cipher identifier: the cipher and its IV, refusing single DES unless allowed.
pub(super) fn read_cipher(
    element: Element,
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
