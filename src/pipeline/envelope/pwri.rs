//! PasswordRecipientInfo (RFC 3211): PBKDF2 key derivation and the key wrap.

use super::*;
use crate::error::{Cause, Element};

/// PBKDF2-params (RFC 8018 appendix A.2), with the `specified` salt choice.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(super) struct Pbkdf2Params {
    pub(super) salt: OctetString,
    pub(super) iteration_count: u32,
    pub(super) key_length: Option<u32>,
    pub(super) prf: Option<AlgorithmIdentifierOwned>,
}

pub(super) fn pbkdf2(
    prf: &ObjectIdentifier,
    password: &[u8],
    salt: &[u8],
    rounds: u32,
    out: &mut [u8],
) -> Result<()> {
    if *prf == oids::HMAC_WITH_SHA1 {
        ::pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, out);
    } else if *prf == oids::HMAC_WITH_SHA256 {
        ::pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, out);
    } else if *prf == oids::HMAC_WITH_SHA384 {
        ::pbkdf2::pbkdf2_hmac::<sha2::Sha384>(password, salt, rounds, out);
    } else if *prf == oids::HMAC_WITH_SHA512 {
        ::pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, rounds, out);
    } else if *prf == oids::HMAC_WITH_SHA224 {
        ::pbkdf2::pbkdf2_hmac::<sha2::Sha224>(password, salt, rounds, out);
    } else {
        return Err(Error::unsupported(Element::Pbkdf2ParamsPrf, prf));
    }
    Ok(())
}

/// RFC 3211 section 2.3.1: format the CEK and encrypt it twice.
pub(super) fn pwri_wrap<R: CryptoRng + ?Sized>(
    cipher: ContentCipher,
    kek: &[u8],
    iv: &[u8],
    cek: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let block = cipher.block_len();
    let len =
        u8::try_from(cek.len()).map_err(|_| Error::encode(Element::PwriKey, "key too long"))?;
    let mut formatted = Secret::new(vec![len]);
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
        .ok_or(CryptoError::EncryptionFailed(Cause::text("PWRI wrap")))?
        .to_vec();
    cbc_raw(cipher, kek, &last_block, &first, true)
}

/// RFC 3211 section 2.3.2: undo the two encryptions and check length and check octets.
pub(super) fn pwri_unwrap(
    cipher: ContentCipher,
    kek: &[u8],
    iv: &[u8],
    wrapped: &[u8],
) -> Option<Secret> {
    let block = cipher.block_len();
    if wrapped.len() < block.checked_mul(2)? || !wrapped.len().is_multiple_of(block) {
        return None;
    }
    let n = wrapped.len();
    let prev = wrapped.get(n.checked_sub(block.checked_mul(2)?)?..n.checked_sub(block)?)?;
    let last = wrapped.get(n.checked_sub(block)?..)?;
    // The last block of the inner ciphertext, then the whole inner ciphertext.
    let inner_last = cbc_raw(cipher, kek, prev, last, false).ok()?;
    let inner = Secret::new(cbc_raw(cipher, kek, &inner_last, wrapped, false).ok()?);
    let formatted = Secret::new(cbc_raw(cipher, kek, iv, &inner, false).ok()?);
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
    Some(Secret::new(key.to_vec()))
}
