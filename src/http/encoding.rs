//! Base64 and percent-encoding, both ways, and the quoting of untrusted text in errors.

use base64ct::{Base64, Base64Unpadded, Encoding};

use crate::error::{Element, Error, HttpError, Result};

/// Longest operation name or content type quoted back in an error.
pub(super) const MAX_QUOTED: usize = 64;

/// Standard base64 with padding (RFC 4648 section 4).
pub(super) fn base64_encode(data: &[u8]) -> Result<String> {
    let len = Base64::encoded_len(data);
    if len == 0 && !data.is_empty() {
        return Err(Error::encode(
            Element::PkiOperationMessage,
            "too large to encode",
        ));
    }
    let mut buf = vec![0u8; len];
    let text = Base64::encode(data, &mut buf)
        .map_err(|_| Error::encode(Element::PkiOperationMessage, "base64 length mismatch"))?;
    Ok(text.to_owned())
}

/// Appends `data` percent-encoded: RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// as they are, every other octet as `%XX` with upper-case hex (RFC 3986 section 2.1).
pub(super) fn percent_encode(data: &[u8], out: &mut String) {
    for &b in data {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0x0f));
        }
    }
}

/// The upper-case hex digit for a nibble.
fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16)
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or('0')
}

/// Decodes `%XX` escapes (either hex case); with `plus_as_space`, a literal `+` becomes a
/// space (HTML form encoding). A `%` not followed by two hex digits is
/// [`HttpError::BadQuery`].
pub(super) fn percent_decode(data: &[u8], plus_as_space: bool) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::with_capacity(data.len());
    let mut bytes = data.iter().copied();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hi = bytes.next().and_then(|h| char::from(h).to_digit(16));
                let lo = bytes.next().and_then(|l| char::from(l).to_digit(16));
                let value = hi
                    .zip(lo)
                    .and_then(|(h, l)| h.checked_mul(16)?.checked_add(l))
                    .and_then(|v| u8::try_from(v).ok())
                    .ok_or(HttpError::BadQuery)?;
                out.push(value);
            }
            b'+' if plus_as_space => out.push(b' '),
            _ => out.push(b),
        }
    }
    Ok(out)
}

/// Decodes standard base64 whose whitespace has already been removed; the `=` padding may
/// be absent, but if present it must be correct (at most two, total length a multiple of
/// four). Trailing bits must be zero (canonical encoding).
pub(super) fn base64_decode_lenient(text: &[u8]) -> Result<Vec<u8>, HttpError> {
    let unpadded = text
        .iter()
        .rposition(|&b| b != b'=')
        .map_or(0, |p| p.saturating_add(1));
    let (data, padding) = text
        .split_at_checked(unpadded)
        .ok_or(HttpError::BadBase64)?;
    if padding.len() > 2 || (!padding.is_empty() && !text.len().is_multiple_of(4)) {
        return Err(HttpError::BadBase64);
    }
    let data = core::str::from_utf8(data).map_err(|_| HttpError::BadBase64)?;
    Base64Unpadded::decode_vec(data).map_err(|_| HttpError::BadBase64)
}

/// Quotes at most [`MAX_QUOTED`] characters of untrusted text in an error.
pub(super) fn quote(text: &str) -> String {
    text.chars().take(MAX_QUOTED).collect()
}
