//! What a server receives: the query and body of a request parsed into an [`Operation`],
//! within [`ServerLimits`].

use super::encoding::{base64_decode_lenient, percent_decode, quote};
use super::{Method, Operation, OperationKind};
use crate::error::{Error, HttpError, LimitKind, Result};
use crate::limits::Limits;

/// Bounds on what [`parse_request`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Largest request body, and largest PKIOperation message decoded from a GET query, in
    /// octets ([`HttpError::BodyTooLarge`]). Default: [`Limits::max_message_size`] (1 MiB).
    pub max_body_size: usize,
    /// Longest query string, in octets ([`Error::Limit`] `"query string length"`). Default:
    /// four times `max_body_size` plus 4 KiB, room for a maximal message in base64 with
    /// every character percent-encoded.
    pub max_query_len: usize,
}

impl ServerLimits {
    /// The defaults, derived from [`Limits::DEFAULT`].
    pub const DEFAULT: Self = Self::from_limits(&Limits::DEFAULT);

    /// Limits derived from the crate's [`Limits`]: the body may be as large as a message.
    pub const fn from_limits(limits: &Limits) -> Self {
        Self {
            max_body_size: limits.max_message_size,
            max_query_len: limits
                .max_message_size
                .saturating_mul(4)
                .saturating_add(4096),
        }
    }
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The two query parameters SCEP uses, percent-decoding not yet applied to the values.
#[derive(Default)]
struct Query<'a> {
    operation: Option<&'a [u8]>,
    message: Option<&'a [u8]>,
}

/// Splits the query into its SCEP parameters; see the module documentation for what is
/// tolerated. Every parameter's escapes must be well-formed.
fn split_query(query: &str) -> Result<Query<'_>, HttpError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut out = Query::default();
    for pair in query.as_bytes().split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => {
                let (name, rest) = pair.split_at_checked(eq).ok_or(HttpError::BadQuery)?;
                (name, rest.get(1..).unwrap_or_default())
            }
            None => (pair, &[][..]),
        };
        let name = percent_decode(name, true)?;
        // Validate the value's escapes even for parameters we ignore.
        percent_decode(value, false)?;
        let slot = if name.eq_ignore_ascii_case(b"operation") {
            &mut out.operation
        } else if name.eq_ignore_ascii_case(b"message") {
            &mut out.message
        } else {
            continue;
        };
        if slot.replace(value).is_some() {
            return Err(HttpError::BadQuery);
        }
    }
    Ok(out)
}

/// Parses what a SCEP server received: the request `method`, the raw `query` string (the
/// part of the request target after `?`, still percent-encoded) and the `body`.
///
/// See the [module documentation](crate::http) for what is tolerated and what is refused.
///
/// # Errors
///
/// - [`HttpError::BodyTooLarge`]: the body, or a PKIOperation message decoded from the
///   query, exceeds [`ServerLimits::max_body_size`];
/// - [`Error::Limit`] (`"query string length"`): the query exceeds
///   [`ServerLimits::max_query_len`];
/// - [`HttpError::MethodNotAllowed`]: neither `GET` nor `POST`, or `POST` for anything
///   but PKIOperation;
/// - [`HttpError::BadQuery`]: a malformed `%` escape, a repeated `operation` or `message`,
///   or a CA identifier that is not UTF-8;
/// - [`HttpError::MissingOperation`]: no or an empty `operation`;
/// - [`HttpError::UnknownOperation`]: an operation SCEP does not define;
/// - [`HttpError::MissingMessage`]: a PKIOperation without a message;
/// - [`HttpError::BadBase64`]: a PKIOperation message that is not base64.
pub fn parse_request(
    method: &str,
    query: &str,
    body: &[u8],
    limits: &ServerLimits,
) -> Result<Operation> {
    if body.len() > limits.max_body_size {
        return Err(HttpError::BodyTooLarge {
            limit: limits.max_body_size,
        }
        .into());
    }
    if query.len() > limits.max_query_len {
        return Err(Error::Limit {
            what: LimitKind::QueryStringLength,
            limit: limits.max_query_len,
        });
    }
    let method = match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        other => return Err(HttpError::MethodNotAllowed(quote(other)).into()),
    };

    let params = split_query(query)?;
    let name = percent_decode(params.operation.unwrap_or_default(), true)?;
    if name.is_empty() {
        return Err(HttpError::MissingOperation.into());
    }
    let name = String::from_utf8_lossy(&name);
    let kind =
        OperationKind::from_name(&name).ok_or_else(|| HttpError::UnknownOperation(quote(&name)))?;

    if kind == OperationKind::PkiOperation {
        let message = match method {
            Method::Post if !body.is_empty() => decode_post_body(body)?,
            _ => decode_message_param(params.message.unwrap_or_default())?,
        };
        if message.is_empty() {
            return Err(HttpError::MissingMessage.into());
        }
        if message.len() > limits.max_body_size {
            return Err(HttpError::BodyTooLarge {
                limit: limits.max_body_size,
            }
            .into());
        }
        return Ok(Operation::PkiOperation { message });
    }

    if method != Method::Get {
        return Err(HttpError::MethodNotAllowed(method.as_str().to_owned()).into());
    }
    let ident = percent_decode(params.message.unwrap_or_default(), true)?;
    let message = if ident.is_empty() {
        None
    } else {
        Some(String::from_utf8(ident).map_err(|_| HttpError::BadQuery)?)
    };
    Ok(match kind {
        OperationKind::GetCaCaps => Operation::GetCaCaps { message },
        OperationKind::GetCaCert => Operation::GetCaCert { message },
        _ => Operation::GetNextCaCert { message },
    })
}

/// Decodes the PKIOperation `message` parameter: percent-decoding (a `+` stays a `+`),
/// then a space is taken for a `+` mangled by form decoding, CR, LF and tab are dropped,
/// and the result is decoded as base64.
fn decode_message_param(raw: &[u8]) -> Result<Vec<u8>, HttpError> {
    let text: Vec<u8> = percent_decode(raw, false)?
        .into_iter()
        .filter(|b| !matches!(b, b'\r' | b'\n' | b'\t'))
        .map(|b| if b == b' ' { b'+' } else { b })
        .collect();
    base64_decode_lenient(&text)
}

/// A POST body is the DER (or BER) message when it starts with a SEQUENCE tag; otherwise
/// it is taken as base64 text, whitespace ignored.
fn decode_post_body(body: &[u8]) -> Result<Vec<u8>, HttpError> {
    if body.first() == Some(&0x30) {
        return Ok(body.to_vec());
    }
    let text: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64_decode_lenient(&text)
}
