//! BER to DER normalisation of untrusted input.
//!
//! Real SCEP peers send BER: Apple devices, Java (Bouncy Castle) and micromdm's Go library use
//! indefinite lengths and split OCTET STRINGs into constructed segments, most visibly in the
//! `encryptedContent` of an EnvelopedData:
//!
//! ```text
//! EncryptedContentInfo ::= SEQUENCE {
//!   contentType ContentType,
//!   contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
//!   encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }   -- RFC 5652 section 6.1
//! ```
//!
//! Rather than teaching every structure to accept BER, [`to_der`] rewrites the whole input once
//! into DER and the typed decoders stay strict:
//!
//! - indefinite lengths become definite, and every length is written in its minimal form;
//! - constructed universal strings (OCTET STRING, BIT STRING and the character and time types)
//!   are flattened into one primitive string;
//! - a constructed `[0]` in the third position of a SEQUENCE that starts with an OBJECT
//!   IDENTIFIER and an AlgorithmIdentifier, and that holds only OCTET STRING segments, is the
//!   implicitly tagged `encryptedContent` above and is flattened into a primitive `[0]`;
//! - a BOOLEAN TRUE is written as `0xFF`.
//!
//! Nothing else changes: element order (including SET OF order, which signatures may cover) is
//! kept, and input that is already DER comes out byte for byte identical. The contents of
//! OCTET STRINGs are not looked into; a caller that decodes a nested encoding (the signed
//! content, the decrypted payload) normalises it in turn.
//!
//! Input is bounded by [`Limits::max_message_size`] and nesting by [`Limits::max_depth`]; the
//! output is never larger than the input plus a few octets per element, so no allocation is
//! driven by a length the input claims.

use crate::error::{Element, Error, LimitKind, Result};
use crate::limits::Limits;

const ELEMENT: Element = Element::BerEncoding;

/// Converts a BER encoding of exactly one element into DER.
///
/// Input that is already DER is returned unchanged. Trailing octets after the element, a
/// length that runs past the end of its container, an unterminated indefinite length, a
/// primitive element with an indefinite length and a malformed tag are errors naming the
/// offset where they were found.
pub(crate) fn to_der(input: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    if input.len() > limits.max_message_size {
        return Err(Error::Limit {
            what: LimitKind::MessageSize,
            limit: limits.max_message_size,
        });
    }
    let mut reader = Reader { input, pos: 0 };
    let mut out = Vec::with_capacity(input.len());
    let header = reader.header()?;
    Normaliser { limits }.element(&mut reader, &header, 0, Role::Plain, &mut out)?;
    if reader.pos != input.len() {
        return Err(at(reader.pos, "trailing data after the element"));
    }
    Ok(out)
}

fn at(offset: usize, what: &str) -> Error {
    Error::decode(ELEMENT, format_args!("at offset {offset}: {what}"))
}

/// An identifier and length as read.
#[derive(Debug, Clone, Copy)]
struct Header {
    /// Offset of the identifier octets.
    start: usize,
    /// The first identifier octet (class, constructed bit and low tag bits).
    first: u8,
    /// The identifier octets, including high-tag-number continuation octets.
    tag_end: usize,
    /// `None` for an indefinite length.
    len: Option<usize>,
}

impl Header {
    fn constructed(&self) -> bool {
        self.first & 0x20 != 0
    }

    /// True for the end-of-contents marker `00 00`.
    fn is_eoc(&self) -> bool {
        self.first == 0 && self.len == Some(0)
    }

    /// The universal tag number, when the tag is universal and in low-tag form.
    fn universal(&self) -> Option<u8> {
        (self.first & 0xC0 == 0 && self.first & 0x1F != 0x1F).then_some(self.first & 0x1F)
    }
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8> {
        let b = self
            .input
            .get(self.pos)
            .copied()
            .ok_or_else(|| at(self.pos, "unexpected end of input"))?;
        self.pos = self.pos.saturating_add(1);
        Ok(b)
    }

    fn header(&mut self) -> Result<Header> {
        let start = self.pos;
        let first = self.byte()?;
        if first & 0x1F == 0x1F {
            // High-tag-number form: base-128 digits, at most four of them (a u28 tag).
            let mut digits = 0u8;
            loop {
                let b = self.byte()?;
                digits = digits.saturating_add(1);
                if digits == 1 && b == 0x80 {
                    return Err(at(start, "tag number with a leading zero digit"));
                }
                if digits > 4 {
                    return Err(at(start, "tag number too large"));
                }
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let tag_end = self.pos;
        let len_start = self.pos;
        let first_len = self.byte()?;
        let len = match first_len {
            0x80 => None,
            0xFF => return Err(at(len_start, "reserved length octet 0xFF")),
            short if short < 0x80 => Some(usize::from(short)),
            long => {
                let count = long & 0x7F;
                if count > 8 {
                    return Err(at(len_start, "length of more than eight octets"));
                }
                let mut value: u64 = 0;
                for _ in 0..count {
                    let b = self.byte()?;
                    value = value
                        .checked_mul(256)
                        .and_then(|v| v.checked_add(u64::from(b)))
                        .ok_or_else(|| at(len_start, "length overflows"))?;
                }
                Some(usize::try_from(value).map_err(|_| at(len_start, "length overflows"))?)
            }
        };
        if let Some(len) = len {
            let remaining = self.input.len().saturating_sub(self.pos);
            if len > remaining {
                return Err(at(
                    start,
                    &format!(
                        "length {len} runs past the end of the input ({remaining} octets left)"
                    ),
                ));
            }
        }
        Ok(Header {
            start,
            first,
            tag_end,
            len,
        })
    }

    fn take(&mut self, len: usize) -> Result<&[u8]> {
        let end = self
            .pos
            .checked_add(len)
            .ok_or_else(|| at(self.pos, "length overflows"))?;
        let bytes = self
            .input
            .get(self.pos..end)
            .ok_or_else(|| at(self.pos, "unexpected end of input"))?;
        self.pos = end;
        Ok(bytes)
    }

    fn tag_bytes(&self, header: &Header) -> Result<&[u8]> {
        self.input
            .get(header.start..header.tag_end)
            .ok_or_else(|| at(header.start, "unexpected end of input"))
    }
}

/// How an element is to be written, decided by its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Written as what it is.
    Plain,
    /// An implicitly tagged OCTET STRING (`encryptedContent`): flattened when constructed
    /// from OCTET STRING segments.
    ImplicitOctetString,
}

const OCTET_STRING: u8 = 0x04;
const BIT_STRING: u8 = 0x03;
const BOOLEAN: u8 = 0x01;
const OBJECT_IDENTIFIER: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
const CONTEXT_0_CONSTRUCTED: u8 = 0xA0;

/// Universal string and time types that BER allows in constructed form.
fn is_string_type(number: u8) -> bool {
    matches!(
        number,
        0x03 | 0x04
            | 0x0C
            | 0x12
            | 0x13
            | 0x14
            | 0x15
            | 0x16
            | 0x17
            | 0x18
            | 0x19
            | 0x1A
            | 0x1B
            | 0x1C
            | 0x1E
    )
}

struct Normaliser<'l> {
    limits: &'l Limits,
}

impl Normaliser<'_> {
    /// Reads the contents of the element whose header was just read and appends its DER to
    /// `out`.
    fn element(
        &self,
        reader: &mut Reader<'_>,
        header: &Header,
        depth: usize,
        role: Role,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if depth > self.limits.max_depth {
            return Err(Error::Limit {
                what: LimitKind::NestingDepth,
                limit: self.limits.max_depth,
            });
        }
        if header.is_eoc() {
            return Err(at(
                header.start,
                "end-of-contents outside an indefinite length",
            ));
        }
        if !header.constructed() {
            let Some(len) = header.len else {
                return Err(at(
                    header.start,
                    "primitive element with an indefinite length",
                ));
            };
            out.extend_from_slice(reader.tag_bytes(header)?);
            let content = reader.take(len)?;
            if header.first == BOOLEAN && content.len() == 1 && content != [0] {
                push_len(out, 1);
                out.push(0xFF);
            } else {
                push_len(out, content.len());
                out.extend_from_slice(content);
            }
            return Ok(());
        }

        if let Some(number) = header.universal().filter(|n| is_string_type(*n)) {
            let content = self.flatten(reader, header, number, depth)?;
            out.push(number);
            push_len(out, content.len());
            out.extend_from_slice(&content);
            return Ok(());
        }

        if role == Role::ImplicitOctetString {
            let saved = reader.pos;
            match self.flatten(reader, header, OCTET_STRING, depth) {
                Ok(content) => {
                    // The same class and tag number, primitive.
                    out.push(header.first & !0x20);
                    push_len(out, content.len());
                    out.extend_from_slice(&content);
                    return Ok(());
                }
                // Not OCTET STRING segments after all: an explicit tag; write it as is.
                Err(_) => reader.pos = saved,
            }
        }

        let mut body = Vec::new();
        let mut seen: [u8; 2] = [0, 0];
        let mut index = 0usize;
        self.children(reader, header, |reader, child| {
            let role = if header.first == SEQUENCE
                && index == 2
                && seen == [OBJECT_IDENTIFIER, SEQUENCE]
                && child.first == CONTEXT_0_CONSTRUCTED
            {
                Role::ImplicitOctetString
            } else {
                Role::Plain
            };
            if let Some(slot) = seen.get_mut(index) {
                *slot = child.first;
            }
            index = index.saturating_add(1);
            self.element(reader, child, depth.saturating_add(1), role, &mut body)
        })?;
        out.extend_from_slice(reader.tag_bytes(header)?);
        push_len(out, body.len());
        out.extend_from_slice(&body);
        Ok(())
    }

    /// Walks the children of a constructed element, definite or indefinite, calling `each`
    /// with every child header; the reader ends just after the element.
    fn children(
        &self,
        reader: &mut Reader<'_>,
        header: &Header,
        mut each: impl FnMut(&mut Reader<'_>, &Header) -> Result<()>,
    ) -> Result<()> {
        match header.len {
            Some(len) => {
                let end = reader
                    .pos
                    .checked_add(len)
                    .ok_or_else(|| at(header.start, "length overflows"))?;
                let slice = reader
                    .input
                    .get(..end)
                    .ok_or_else(|| at(header.start, "unexpected end of input"))?;
                let mut inner = Reader {
                    input: slice,
                    pos: reader.pos,
                };
                while inner.pos < end {
                    let child = inner.header()?;
                    if child.is_eoc() {
                        return Err(at(child.start, "end-of-contents inside a definite length"));
                    }
                    each(&mut inner, &child)?;
                }
                reader.pos = end;
            }
            None => loop {
                let child = reader.header()?;
                if child.is_eoc() {
                    break;
                }
                each(reader, &child)?;
            },
        }
        Ok(())
    }

    /// Concatenates the segments of a constructed string whose segments carry universal tag
    /// `number` (BIT STRING segments are joined on their unused-bits octet).
    fn flatten(
        &self,
        reader: &mut Reader<'_>,
        header: &Header,
        number: u8,
        depth: usize,
    ) -> Result<Vec<u8>> {
        let mut content = Vec::new();
        let mut unused_bits: Option<u8> = None;
        self.segments(reader, header, number, depth, &mut |start, segment| {
            if number != BIT_STRING {
                content.extend_from_slice(segment);
                return Ok(());
            }
            if unused_bits.is_some_and(|u| u != 0) {
                return Err(at(start, "BIT STRING segment after one with unused bits"));
            }
            let Some((&unused, bits)) = segment.split_first() else {
                return Err(at(start, "empty BIT STRING segment"));
            };
            if unused > 7 || (bits.is_empty() && unused != 0) {
                return Err(at(start, "BIT STRING segment with invalid unused bits"));
            }
            unused_bits = Some(unused);
            content.extend_from_slice(bits);
            Ok(())
        })?;
        if number == BIT_STRING {
            content.insert(0, unused_bits.unwrap_or(0));
        }
        Ok(content)
    }

    fn segments(
        &self,
        reader: &mut Reader<'_>,
        header: &Header,
        number: u8,
        depth: usize,
        sink: &mut dyn FnMut(usize, &[u8]) -> Result<()>,
    ) -> Result<()> {
        if depth > self.limits.max_depth {
            return Err(Error::Limit {
                what: LimitKind::NestingDepth,
                limit: self.limits.max_depth,
            });
        }
        self.children(reader, header, |reader, child| {
            if child.universal() != Some(number) {
                return Err(at(
                    child.start,
                    "constructed string segment of a different type",
                ));
            }
            if child.constructed() {
                self.segments(reader, child, number, depth.saturating_add(1), sink)
            } else {
                let len = child.len.ok_or_else(|| {
                    at(child.start, "primitive element with an indefinite length")
                })?;
                let start = child.start;
                let bytes = reader.take(len)?;
                sink(start, bytes)
            }
        })
    }
}

/// Appends a DER length.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if let Ok(short) = u8::try_from(len)
        && short < 0x80
    {
        out.push(short);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = bytes.get(skip..).unwrap_or(&[]);
    // At most eight octets, so the count fits in the low seven bits.
    out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0));
    out.extend_from_slice(significant);
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_indefinite_sequence_of_a_segmented_octet_string_becomes_der() {
        let limits = Limits::default();
        // An indefinite-length SEQUENCE holding a constructed OCTET STRING in two segments.
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x01, 0xAA, 0x04, 0x01, 0xBB, 0x00, 0x00, 0x00, 0x00,
        ];
        let der = to_der(&ber, &limits).unwrap();
        assert_eq!(der, [0x30, 0x04, 0x04, 0x02, 0xAA, 0xBB]);
    }

    use super::*;

    fn der(input: &[u8]) -> Result<Vec<u8>> {
        to_der(input, &Limits::default())
    }

    #[test]
    fn der_input_is_unchanged() {
        let input = [
            0x30, 0x0C, 0x06, 0x03, 0x2A, 0x03, 0x04, 0x04, 0x01, 0xAA, 0xA0, 0x02, 0x05, 0x00,
        ];
        assert_eq!(der(&input).unwrap(), input);
    }

    #[test]
    fn long_lengths_are_made_minimal() {
        let mut input = vec![0x04, 0x81, 0x03, 1, 2, 3];
        assert_eq!(der(&input).unwrap(), [0x04, 0x03, 1, 2, 3]);
        input = vec![0x04, 0x82, 0x00, 0x81];
        input.extend(std::iter::repeat_n(7u8, 0x81));
        let out = der(&input).unwrap();
        assert_eq!(out.get(..3), Some(&[0x04, 0x81, 0x81][..]));
        assert_eq!(out.len(), 3 + 0x81);
    }

    #[test]
    fn long_content_gets_a_long_length() {
        let mut input = vec![0x30, 0x80, 0x04, 0x82, 0x01, 0x00];
        input.extend(std::iter::repeat_n(1u8, 256));
        input.extend([0, 0]);
        let out = der(&input).unwrap();
        assert_eq!(
            out.get(..6),
            Some(&[0x30, 0x82, 0x01, 0x04, 0x04, 0x82][..])
        );
        assert_eq!(out.len(), 4 + 4 + 256);
    }

    #[test]
    fn nested_constructed_octet_strings_flatten() {
        let input = [
            0x24, 0x80, 0x24, 0x06, 0x04, 0x01, 1, 0x04, 0x01, 2, 0x04, 0x00, 0x04, 0x02, 3, 4,
            0x00, 0x00,
        ];
        assert_eq!(der(&input).unwrap(), [0x04, 0x04, 1, 2, 3, 4]);
    }

    #[test]
    fn constructed_bit_string_joins_on_unused_bits() {
        let input = [0x23, 0x08, 0x03, 0x02, 0x00, 0xAA, 0x03, 0x02, 0x04, 0xB0];
        assert_eq!(der(&input).unwrap(), [0x03, 0x03, 0x04, 0xAA, 0xB0]);
        let bad = [0x23, 0x08, 0x03, 0x02, 0x04, 0xA0, 0x03, 0x02, 0x00, 0xB0];
        assert!(der(&bad).is_err());
    }

    #[test]
    fn constructed_printable_string_flattens() {
        let input = [0x33, 0x06, 0x13, 0x01, b'a', 0x13, 0x01, b'b'];
        assert_eq!(der(&input).unwrap(), [0x13, 0x02, b'a', b'b']);
        let mixed = [0x33, 0x06, 0x13, 0x01, b'a', 0x04, 0x01, b'b'];
        assert!(der(&mixed).is_err());
    }

    #[test]
    fn encrypted_content_is_flattened_but_explicit_content_is_kept() {
        // EncryptedContentInfo { id-data, AlgorithmIdentifier, [0] constructed segments }
        let eci = [
            0x30, 0x80, 0x06, 0x01, 0x2A, 0x30, 0x03, 0x06, 0x01, 0x2B, 0xA0, 0x80, 0x04, 0x01,
            0xAA, 0x04, 0x01, 0xBB, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(
            der(&eci).unwrap(),
            [
                0x30, 0x0C, 0x06, 0x01, 0x2A, 0x30, 0x03, 0x06, 0x01, 0x2B, 0x80, 0x02, 0xAA, 0xBB
            ]
        );
        // EncapsulatedContentInfo { id-data, [0] EXPLICIT OCTET STRING }: the wrapper stays.
        let eci = [
            0x30, 0x80, 0x06, 0x01, 0x2A, 0xA0, 0x80, 0x24, 0x80, 0x04, 0x01, 0xAA, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(
            der(&eci).unwrap(),
            [0x30, 0x08, 0x06, 0x01, 0x2A, 0xA0, 0x03, 0x04, 0x01, 0xAA]
        );
        // A [0] in third place whose content is not OCTET STRINGs is left as it is.
        let other = [
            0x30, 0x0C, 0x06, 0x01, 0x2A, 0x30, 0x03, 0x06, 0x01, 0x2B, 0xA0, 0x02, 0x05, 0x00,
        ];
        assert_eq!(der(&other).unwrap(), other);
    }

    #[test]
    fn boolean_true_becomes_ff() {
        assert_eq!(der(&[0x01, 0x01, 0x01]).unwrap(), [0x01, 0x01, 0xFF]);
        assert_eq!(der(&[0x01, 0x01, 0x00]).unwrap(), [0x01, 0x01, 0x00]);
    }

    #[test]
    fn high_tag_numbers_pass_through() {
        let input = [0x9F, 0x81, 0x00, 0x01, 0x05];
        assert_eq!(der(&input).unwrap(), input);
        assert!(der(&[0x9F, 0x80, 0x01, 0x00]).is_err());
        assert!(der(&[0x9F, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00]).is_err());
    }

    #[test]
    fn malformed_input_is_an_error_with_an_offset() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x80],
            &[0x30, 0x80, 0x04, 0x00],
            &[0x04, 0x80, 0x00, 0x00],
            &[0x04, 0x05, 1, 2],
            &[0x04, 0xFF],
            &[0x04, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            &[0x00, 0x00],
            &[0x30, 0x02, 0x00, 0x00],
            &[0x30, 0x03, 0x04, 0x02, 0x00],
            &[0x04, 0x00, 0x00],
        ] {
            let err = der(bad).unwrap_err();
            assert!(
                matches!(err, Error::Decode { element: ELEMENT, ref detail } if detail.starts_with("at offset")),
                "{bad:02X?}: {err:?}"
            );
        }
    }

    #[test]
    fn depth_and_size_limits_apply() {
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend([0x30, 0x80]);
        }
        for _ in 0..100 {
            deep.extend([0x00, 0x00]);
        }
        assert_eq!(
            der(&deep).unwrap_err(),
            Error::Limit {
                what: LimitKind::NestingDepth,
                limit: 64
            }
        );
        let mut deep_string = Vec::new();
        for _ in 0..100 {
            deep_string.extend([0x24, 0x80]);
        }
        for _ in 0..100 {
            deep_string.extend([0x00, 0x00]);
        }
        assert!(matches!(
            der(&deep_string).unwrap_err(),
            Error::Limit {
                what: LimitKind::NestingDepth,
                ..
            }
        ));
        let limits = Limits {
            max_message_size: 4,
            ..Limits::default()
        };
        assert_eq!(
            to_der(&[0x04, 0x03, 1, 2, 3], &limits).unwrap_err(),
            Error::Limit {
                what: LimitKind::MessageSize,
                limit: 4
            }
        );
    }
}
