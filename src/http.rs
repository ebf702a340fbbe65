//! The HTTP shapes of SCEP (RFC 8894 section 4): what a client sends, what a server
//! receives, and the content types of the answers. No HTTP client, no sockets: the caller
//! moves the bytes with whatever HTTP stack it has.
//!
//! RFC 8894 section 4.1 defines two request forms:
//!
//! ```text
//! "POST" SP SCEPPATH "?operation=" OPERATION SP HTTP-version CRLF
//! "GET" SP SCEPPATH "?operation=" OPERATION "&message=" MESSAGE SP HTTP-version CRLF
//! ```
//!
//! A PKIOperation sent by GET carries the DER message in standard base64 (RFC 4648
//! section 4, not base64url), and since that alphabet contains `+`, `/` and `=`, the
//! base64 text "MUST be escaped as specified in \[RFC3986\]": every octet outside the RFC 3986
//! unreserved set becomes `%XX`. By POST (allowed when the CA announces `POSTPKIOperation`),
//! the body is the DER message itself with content type `application/x-pki-message`.
//! GetCACaps, GetCACert and GetNextCACert are GET requests whose optional `message` is a
//! CA identifier.
//!
//! # Client side
//!
//! [`HttpRequest::new`] builds the request for an [`Operation`]; [`check_response`]
//! checks the status and content type of the answer and hands back the body.
//!
//! ```
//! use scep::http::{check_response, HttpRequest, Method, Operation, OperationKind};
//!
//! let der = vec![0x30, 0x03, 0xfb, 0xff, 0xfe]; // base64 "MAP7//4=" has '+', '/' and '='
//! let get = HttpRequest::new("/scep", &Operation::PkiOperation { message: der.clone() }, Method::Get)?;
//! assert_eq!(get.path_and_query, "/scep?operation=PKIOperation&message=MAP7%2F%2F4%3D");
//!
//! let post = HttpRequest::new("/scep", &Operation::PkiOperation { message: der.clone() }, Method::Post)?;
//! assert_eq!(post.path_and_query, "/scep?operation=PKIOperation");
//! assert_eq!(post.content_type, Some("application/x-pki-message"));
//! assert_eq!(post.body, der);
//!
//! let body = check_response(OperationKind::PkiOperation, 200, Some("application/x-pki-message"), b"\x30\x00")?;
//! assert_eq!(body, b"\x30\x00");
//! # Ok::<(), scep::Error>(())
//! ```
//!
//! # Server side
//!
//! [`parse_request`] turns the method, the raw query string and the body into an
//! [`Operation`]; [`HttpResponse`] carries the answer with the right content type.
//!
//! ```
//! use scep::http::{parse_request, HttpResponse, Operation, ServerLimits};
//!
//! let op = parse_request("GET", "operation=PKIOperation&message=MAP7%2F%2F4%3D", b"", &ServerLimits::DEFAULT)?;
//! assert_eq!(op, Operation::PkiOperation { message: vec![0x30, 0x03, 0xfb, 0xff, 0xfe] });
//!
//! let op = parse_request("GET", "operation=GetCACaps&message=0", b"", &ServerLimits::DEFAULT)?;
//! assert_eq!(op, Operation::GetCaCaps { message: Some("0".into()) });
//! let answer = HttpResponse::ca_caps(&scep::caps::Capabilities::scep_standard());
//! assert_eq!((answer.status, answer.content_type), (200, "text/plain"));
//! # Ok::<(), scep::Error>(())
//! ```
//!
//! ## What the server parser tolerates
//!
//! Real clients are sloppy; the parser accepts, deliberately:
//!
//! - parameters in any order, empty parameters (`&&`), unknown parameters (ignored), a
//!   leading `?`, and parameter names and operation names in any ASCII case (RFC 8894
//!   spells them exactly, but nothing is gained by refusing `pkioperation`);
//! - an empty `message=` (pyscep sends one with every operation): the same as none;
//! - in the PKIOperation `message`: `+`, `/` and `=` sent unescaped (old sscep, hand-made
//!   clients), a space where a `+` was (a client or proxy applied form encoding, in which
//!   `+` means space; base64 has no spaces, so a space can only be a mangled `+`),
//!   line breaks and tabs (line-wrapped base64, escaped or not), and missing `=` padding;
//! - a PKIOperation POST whose body is base64 text rather than DER: a body that does not
//!   start with `0x30` (a DER or BER SEQUENCE) is decoded as base64, whitespace ignored;
//! - a PKIOperation POST with an empty body but a `message` parameter: decoded as for GET.
//!
//! In a CA identifier (`message` of GetCACaps, GetCACert, GetNextCACert), `+` means a
//! space, as in HTML form encoding, which is what most HTTP libraries produce.
//!
//! It refuses: a repeated `operation` or `message` parameter and malformed `%` escapes
//! ([`HttpError::BadQuery`]), methods other than `GET` and `POST` (methods are
//! case-sensitive, RFC 9110 section 9.1) and POST for anything but PKIOperation
//! ([`HttpError::MethodNotAllowed`]), base64 with characters outside the alphabet, more
//! than two `=`, or non-zero trailing bits ([`HttpError::BadBase64`]), and oversized
//! bodies, messages and query strings (see [`ServerLimits`]).

use core::fmt;

use base64ct::{Base64, Base64Unpadded, Encoding};

use crate::caps::Capabilities;
use crate::error::{Error, HttpError, Result};
use crate::limits::Limits;
use crate::message::CaCertForm;

/// Content type of a PKIOperation request sent by POST and of every PKIOperation response
/// (RFC 8894 sections 4.3 to 4.6).
pub const CONTENT_TYPE_PKI_MESSAGE: &str = "application/x-pki-message";
/// Content type of a GetCACert response holding a single DER CA certificate (RFC 8894
/// section 4.2.1.1).
pub const CONTENT_TYPE_CA_CERT: &str = "application/x-x509-ca-cert";
/// Content type of a GetCACert response holding a degenerate certificates-only CMS
/// SignedData with the CA (and RA) certificates (RFC 8894 section 4.2.1.2).
pub const CONTENT_TYPE_CA_RA_CERT: &str = "application/x-x509-ca-ra-cert";
/// Content type of a GetNextCACert response (RFC 8894 section 4.7.1).
pub const CONTENT_TYPE_NEXT_CA_CERT: &str = "application/x-x509-next-ca-cert";
/// Content type of a GetCACaps response (RFC 8894 section 3.5.2), and of this module's
/// error responses.
pub const CONTENT_TYPE_TEXT_PLAIN: &str = "text/plain";

/// The SCEPPATH that RFC 8894 section 4.1 says clients "SHOULD" use unless told otherwise.
pub const DEFAULT_SCEP_PATH: &str = "/cgi-bin/pkiclient.exe";

/// Longest operation name or content type quoted back in an error.
const MAX_QUOTED: usize = 64;

/// The HTTP methods SCEP uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`: every operation; PKIOperation carries the message base64 in the query.
    Get,
    /// `POST`: PKIOperation only, with the DER message as body, when the CA announces
    /// `POSTPKIOperation`.
    Post,
}

impl Method {
    /// The method for PKIOperation requests to a CA with the `negotiated` capabilities:
    /// POST when it supports POSTPKIOperation and the policy does not force GET.
    pub fn for_pki_operation(negotiated: &crate::caps::Negotiated) -> Self {
        if negotiated.use_post {
            Method::Post
        } else {
            Method::Get
        }
    }

    /// The method's token, `"GET"` or `"POST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The four SCEP operations, without their data (RFC 8894 sections 3.5.1, 4.2 to 4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperationKind {
    /// `GetCACaps`: the CA's capabilities.
    GetCaCaps,
    /// `GetCACert`: the CA (and RA) certificates.
    GetCaCert,
    /// `GetNextCACert`: the CA's rollover certificate.
    GetNextCaCert,
    /// `PKIOperation`: a pkiMessage (PKCSReq, RenewalReq, CertPoll, GetCert, GetCRL).
    PkiOperation,
}

impl OperationKind {
    /// Every operation.
    pub const ALL: [OperationKind; 4] = [
        OperationKind::GetCaCaps,
        OperationKind::GetCaCert,
        OperationKind::GetNextCaCert,
        OperationKind::PkiOperation,
    ];

    /// The value of the `operation` parameter, as RFC 8894 spells it.
    pub fn name(self) -> &'static str {
        match self {
            OperationKind::GetCaCaps => "GetCACaps",
            OperationKind::GetCaCert => "GetCACert",
            OperationKind::GetNextCaCert => "GetNextCACert",
            OperationKind::PkiOperation => "PKIOperation",
        }
    }

    /// Recognises an operation name, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Self> {
        OperationKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }

    /// The content types a successful response may have. Empty for GetCACaps, whose
    /// servers send all sorts (see [`check_response`]).
    pub fn response_content_types(self) -> &'static [&'static str] {
        match self {
            OperationKind::GetCaCaps => &[],
            OperationKind::GetCaCert => &[CONTENT_TYPE_CA_CERT, CONTENT_TYPE_CA_RA_CERT],
            OperationKind::GetNextCaCert => &[CONTENT_TYPE_NEXT_CA_CERT],
            OperationKind::PkiOperation => &[CONTENT_TYPE_PKI_MESSAGE],
        }
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A SCEP operation with its data: what a client asks for, and what a server received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// GetCACaps, with an optional CA identifier.
    GetCaCaps {
        /// The CA identifier (`message` parameter), if any.
        message: Option<String>,
    },
    /// GetCACert, with an optional CA identifier.
    GetCaCert {
        /// The CA identifier (`message` parameter), if any.
        message: Option<String>,
    },
    /// GetNextCACert, with an optional CA identifier.
    GetNextCaCert {
        /// The CA identifier (`message` parameter), if any.
        message: Option<String>,
    },
    /// PKIOperation with the pkiMessage (a CMS ContentInfo, DER or BER).
    PkiOperation {
        /// The message octets, decoded from base64 for GET.
        message: Vec<u8>,
    },
}

impl Operation {
    /// The operation without its data.
    pub fn kind(&self) -> OperationKind {
        match self {
            Operation::GetCaCaps { .. } => OperationKind::GetCaCaps,
            Operation::GetCaCert { .. } => OperationKind::GetCaCert,
            Operation::GetNextCaCert { .. } => OperationKind::GetNextCaCert,
            Operation::PkiOperation { .. } => OperationKind::PkiOperation,
        }
    }

    /// The CA identifier of GetCACaps, GetCACert and GetNextCACert, if any.
    pub fn ca_identifier(&self) -> Option<&str> {
        match self {
            Operation::GetCaCaps { message }
            | Operation::GetCaCert { message }
            | Operation::GetNextCaCert { message } => message.as_deref(),
            Operation::PkiOperation { .. } => None,
        }
    }
}

/// An HTTP request a client must send: method, request target, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The request target: SCEPPATH, `?`, the query (e.g. `/scep?operation=GetCACaps`).
    pub path_and_query: String,
    /// The `Content-Type` header to send, if any (POST only).
    pub content_type: Option<&'static str>,
    /// The body (empty for GET).
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// Builds the request for `operation` under `scep_path` (SCEPPATH, e.g. `"/scep"` or
    /// [`DEFAULT_SCEP_PATH`]) with `method` (for PKIOperation, usually
    /// [`Method::for_pki_operation`]).
    ///
    /// GET PKIOperation puts the message, base64 and percent-encoded, in `message=`; POST
    /// sends it as the body with content type [`CONTENT_TYPE_PKI_MESSAGE`]. A CA identifier
    /// is percent-encoded. Long messages make long URLs, which some servers and proxies
    /// truncate: prefer POST when the CA allows it.
    ///
    /// # Errors
    ///
    /// - [`Error::Encode`] (`"SCEPPATH"`) when `scep_path` does not start with `/` or
    ///   contains `?`, `#`, whitespace, control or non-ASCII characters (percent-encode it
    ///   first);
    /// - [`HttpError::MethodNotAllowed`] for POST with anything but PKIOperation;
    /// - [`HttpError::MissingMessage`] for a PKIOperation with an empty message.
    pub fn new(scep_path: &str, operation: &Operation, method: Method) -> Result<Self> {
        check_scep_path(scep_path)?;
        let mut target = String::with_capacity(scep_path.len().saturating_add(32));
        target.push_str(scep_path);
        target.push_str("?operation=");
        target.push_str(operation.kind().name());

        match operation {
            Operation::PkiOperation { message } => {
                if message.is_empty() {
                    return Err(HttpError::MissingMessage.into());
                }
                match method {
                    Method::Get => {
                        target.push_str("&message=");
                        percent_encode(base64_encode(message)?.as_bytes(), &mut target);
                        Ok(HttpRequest {
                            method,
                            path_and_query: target,
                            content_type: None,
                            body: Vec::new(),
                        })
                    }
                    Method::Post => Ok(HttpRequest {
                        method,
                        path_and_query: target,
                        content_type: Some(CONTENT_TYPE_PKI_MESSAGE),
                        body: message.clone(),
                    }),
                }
            }
            Operation::GetCaCaps { message }
            | Operation::GetCaCert { message }
            | Operation::GetNextCaCert { message } => {
                if method != Method::Get {
                    return Err(HttpError::MethodNotAllowed(method.as_str().to_owned()).into());
                }
                if let Some(ident) = message {
                    target.push_str("&message=");
                    percent_encode(ident.as_bytes(), &mut target);
                }
                Ok(HttpRequest {
                    method,
                    path_and_query: target,
                    content_type: None,
                    body: Vec::new(),
                })
            }
        }
    }
}

/// Checks that SCEPPATH can be put in a request target as it is.
fn check_scep_path(path: &str) -> Result<()> {
    let bad = |detail: &str| Err(Error::encode("SCEPPATH", format!("{path:?} {detail}")));
    if !path.starts_with('/') {
        return bad("does not start with '/'");
    }
    if path.contains(['?', '#']) {
        return bad("contains '?' or '#'");
    }
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return bad("contains whitespace, control or non-ASCII characters");
    }
    Ok(())
}

/// Standard base64 with padding (RFC 4648 section 4).
fn base64_encode(data: &[u8]) -> Result<String> {
    let len = Base64::encoded_len(data);
    if len == 0 && !data.is_empty() {
        return Err(Error::encode("PKIOperation message", "too large to encode"));
    }
    let mut buf = vec![0u8; len];
    let text = Base64::encode(data, &mut buf)
        .map_err(|_| Error::encode("PKIOperation message", "base64 length mismatch"))?;
    Ok(text.to_owned())
}

/// Appends `data` percent-encoded: RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// as they are, every other octet as `%XX` with upper-case hex (RFC 3986 section 2.1).
fn percent_encode(data: &[u8], out: &mut String) {
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
fn percent_decode(data: &[u8], plus_as_space: bool) -> Result<Vec<u8>, HttpError> {
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
fn base64_decode_lenient(text: &[u8]) -> Result<Vec<u8>, HttpError> {
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
    pub const DEFAULT: ServerLimits = ServerLimits::from_limits(&Limits::DEFAULT);

    /// Limits derived from the crate's [`Limits`]: the body may be as large as a message.
    pub const fn from_limits(limits: &Limits) -> Self {
        ServerLimits {
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
        ServerLimits::DEFAULT
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

/// Quotes at most [`MAX_QUOTED`] characters of untrusted text in an error.
fn quote(text: &str) -> String {
    text.chars().take(MAX_QUOTED).collect()
}

/// Parses what a SCEP server received: the request `method`, the raw `query` string (the
/// part of the request target after `?`, still percent-encoded) and the `body`.
///
/// See the [module documentation](self) for what is tolerated and what is refused.
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
            what: "query string length",
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

/// An HTTP response a SCEP server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

/// The form a GetCACert response declares by its content type (parameters and case
/// ignored); `None` for no or another content type.
pub fn ca_cert_form(content_type: Option<&str>) -> Option<CaCertForm> {
    let media_type = content_type?.split(';').next()?.trim();
    if media_type.eq_ignore_ascii_case(CONTENT_TYPE_CA_CERT) {
        Some(CaCertForm::Certificate)
    } else if media_type.eq_ignore_ascii_case(CONTENT_TYPE_CA_RA_CERT) {
        Some(CaCertForm::Chain)
    } else {
        None
    }
}

impl HttpResponse {
    /// 200, the GetCACert answer in `form` (its content type) with `body` (RFC 8894
    /// section 4.2.1), as [`CaCertificates::to_response`](crate::message::CaCertificates::to_response)
    /// gives them.
    pub fn ca_certificates(form: CaCertForm, body: Vec<u8>) -> Self {
        match form {
            CaCertForm::Chain => HttpResponse::ca_ra_certs(body),
            _ => HttpResponse::ca_cert(body),
        }
    }

    /// 200, `text/plain`, the canonical capability list (RFC 8894 section 3.5.2).
    pub fn ca_caps(caps: &Capabilities) -> Self {
        HttpResponse::ok(CONTENT_TYPE_TEXT_PLAIN, caps.format().into_bytes())
    }

    /// 200, `application/x-x509-ca-cert`: a single DER CA certificate, for a CA without
    /// an RA (RFC 8894 section 4.2.1.1).
    pub fn ca_cert(certificate_der: Vec<u8>) -> Self {
        HttpResponse::ok(CONTENT_TYPE_CA_CERT, certificate_der)
    }

    /// 200, `application/x-x509-ca-ra-cert`: a degenerate certificates-only CMS SignedData
    /// with the CA and RA certificates (RFC 8894 section 4.2.1.2).
    pub fn ca_ra_certs(certs_only_der: Vec<u8>) -> Self {
        HttpResponse::ok(CONTENT_TYPE_CA_RA_CERT, certs_only_der)
    }

    /// 200, `application/x-x509-next-ca-cert`: the GetNextCACert answer, a SignedData over
    /// a degenerate certificates-only SignedData (RFC 8894 section 4.7.1).
    pub fn next_ca_cert(signed_der: Vec<u8>) -> Self {
        HttpResponse::ok(CONTENT_TYPE_NEXT_CA_CERT, signed_der)
    }

    /// 200, `application/x-pki-message`: a CertRep (RFC 8894 sections 4.3 to 4.6).
    pub fn pki_message(cert_rep_der: Vec<u8>) -> Self {
        HttpResponse::ok(CONTENT_TYPE_PKI_MESSAGE, cert_rep_der)
    }

    /// An error answer with `status` and a `text/plain` body.
    pub fn error(status: u16, text: &str) -> Self {
        HttpResponse {
            status,
            content_type: CONTENT_TYPE_TEXT_PLAIN,
            body: text.as_bytes().to_vec(),
        }
    }

    /// The error answer for an error from [`parse_request`], with the status of
    /// [`error_status`] and the error's text as body. A 405 answer needs an `Allow`
    /// header, which the caller adds (`GET`, or `GET, POST` for PKIOperation).
    pub fn from_error(err: &Error) -> Self {
        HttpResponse::error(error_status(err), &err.to_string())
    }

    fn ok(content_type: &'static str, body: Vec<u8>) -> Self {
        HttpResponse {
            status: 200,
            content_type,
            body,
        }
    }
}

/// The HTTP status a server answers an error from [`parse_request`] with: 405 for
/// [`HttpError::MethodNotAllowed`], 413 for [`HttpError::BodyTooLarge`] and size limits,
/// 414 for an over-long query, 400 for the other malformed requests, 503 for a store that
/// could not answer, 500 for anything else.
pub fn error_status(err: &Error) -> u16 {
    match err {
        Error::Http(HttpError::MethodNotAllowed(_)) => 405,
        Error::Http(HttpError::BodyTooLarge { .. }) => 413,
        Error::Http(
            HttpError::MissingOperation
            | HttpError::UnknownOperation(_)
            | HttpError::MissingMessage
            | HttpError::BadBase64
            | HttpError::BadQuery,
        ) => 400,
        Error::Limit {
            what: "query string length",
            ..
        } => 414,
        Error::Limit { .. } => 413,
        Error::Store(_) => 503,
        _ => 500,
    }
}

/// The media type of a `Content-Type` value: parameters (`; charset=...`) and surrounding
/// whitespace removed.
fn media_type(content_type: &str) -> &str {
    content_type
        .split(';')
        .next()
        .unwrap_or(content_type)
        .trim()
}

/// Client side: checks the answer to a request for `operation` and returns its body.
///
/// The status must be 200. The content type must be one of
/// [`OperationKind::response_content_types`], compared without parameters and ignoring
/// ASCII case; GetCACaps answers are accepted with any content type or none, since servers
/// send `text/plain`, `text/html`, `application/octet-stream` and others.
///
/// RFC 8894 section 3.5.2 asks a client to treat a failed GetCACaps like an empty one: on
/// [`HttpError::Status`] for GetCACaps, use [`Capabilities::new`].
///
/// # Errors
///
/// [`HttpError::Status`] for a status other than 200, then
/// [`HttpError::UnexpectedContentType`] (with the received value, or `""` when there is
/// none).
pub fn check_response<'a>(
    operation: OperationKind,
    status: u16,
    content_type: Option<&str>,
    body: &'a [u8],
) -> Result<&'a [u8]> {
    if status != 200 {
        return Err(HttpError::Status(status).into());
    }
    let expected = operation.response_content_types();
    if expected.is_empty() {
        return Ok(body);
    }
    let received = content_type.unwrap_or_default();
    let media = media_type(received);
    if expected.iter().any(|e| e.eq_ignore_ascii_case(media)) {
        Ok(body)
    } else {
        Err(HttpError::UnexpectedContentType(quote(received)).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::Capability;

    const LIMITS: ServerLimits = ServerLimits::DEFAULT;

    fn parse(method: &str, query: &str, body: &[u8]) -> Result<Operation> {
        parse_request(method, query, body, &LIMITS)
    }

    fn http_err(r: Result<impl fmt::Debug>) -> HttpError {
        match r {
            Err(Error::Http(e)) => e,
            other => panic!("expected an HTTP error, got {other:?}"),
        }
    }

    fn pki(message: &[u8]) -> Operation {
        Operation::PkiOperation {
            message: message.to_vec(),
        }
    }

    #[test]
    fn percent_encoding_round_trips_every_octet() {
        let all: Vec<u8> = (0..=255).collect();
        let mut enc = String::new();
        percent_encode(&all, &mut enc);
        assert_eq!(percent_decode(enc.as_bytes(), false).unwrap(), all);
        assert_eq!(percent_decode(enc.as_bytes(), true).unwrap(), all);
        // Exactly the unreserved characters stay literal.
        for b in 0..=255u8 {
            let mut one = String::new();
            percent_encode(&[b], &mut one);
            let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
            if unreserved {
                assert_eq!(one, char::from(b).to_string());
            } else {
                assert_eq!(one, format!("%{b:02X}"));
            }
        }
        let mut s = String::new();
        percent_encode(b"+/= &", &mut s);
        assert_eq!(s, "%2B%2F%3D%20%26");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode(b"%2b%2F%3d", false).unwrap(), b"+/=");
        assert_eq!(percent_decode(b"a+b%2B", false).unwrap(), b"a+b+");
        assert_eq!(percent_decode(b"a+b%2B", true).unwrap(), b"a b+");
        for bad in [&b"%"[..], b"%2", b"%zz", b"%2G", b"abc%", b"%%41"] {
            assert_eq!(
                percent_decode(bad, false),
                Err(HttpError::BadQuery),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn base64_round_trips_every_octet_and_length() {
        let all: Vec<u8> = (0..=255).collect();
        // Every length 1..=256 (all three padding cases), every octet value.
        for len in 1..=all.len() {
            let data = &all[all.len() - len..];
            let req = HttpRequest::new("/scep", &pki(data), Method::Get).unwrap();
            let query = req.path_and_query.strip_prefix("/scep?").unwrap();
            assert_eq!(parse("GET", query, b"").unwrap(), pki(data), "len {len}");
        }
        // Known answers: RFC 4648 section 10 test vectors.
        for (plain, b64) in [
            (&b"f"[..], "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain).unwrap(), b64);
            assert_eq!(base64_decode_lenient(b64.as_bytes()).unwrap(), plain);
            let unpadded = b64.trim_end_matches('=');
            assert_eq!(base64_decode_lenient(unpadded.as_bytes()).unwrap(), plain);
        }
        // The three characters that need escaping.
        let tricky = [0xfb, 0xff, 0xfe, 0x3e];
        assert_eq!(base64_encode(&tricky).unwrap(), "+//+Pg==");
        let req = HttpRequest::new("/", &pki(&tricky), Method::Get).unwrap();
        assert_eq!(
            req.path_and_query,
            "/?operation=PKIOperation&message=%2B%2F%2F%2BPg%3D%3D"
        );
    }

    #[test]
    fn get_and_post_shapes() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        let get = HttpRequest::new(DEFAULT_SCEP_PATH, &pki(&der), Method::Get).unwrap();
        assert_eq!(
            get,
            HttpRequest {
                method: Method::Get,
                path_and_query: "/cgi-bin/pkiclient.exe?operation=PKIOperation&message=MAMCAQU%3D"
                    .into(),
                content_type: None,
                body: vec![],
            }
        );
        let post = HttpRequest::new("/scep", &pki(&der), Method::Post).unwrap();
        assert_eq!(
            post,
            HttpRequest {
                method: Method::Post,
                path_and_query: "/scep?operation=PKIOperation".into(),
                content_type: Some("application/x-pki-message"),
                body: der.to_vec(),
            }
        );
        let caps = HttpRequest::new(
            "/scep",
            &Operation::GetCaCaps { message: None },
            Method::Get,
        )
        .unwrap();
        assert_eq!(caps.path_and_query, "/scep?operation=GetCACaps");
        assert_eq!((caps.method, caps.content_type), (Method::Get, None));
        let cert = HttpRequest::new(
            "/scep",
            &Operation::GetCaCert {
                message: Some("My CA/1+2".into()),
            },
            Method::Get,
        )
        .unwrap();
        assert_eq!(
            cert.path_and_query,
            "/scep?operation=GetCACert&message=My%20CA%2F1%2B2"
        );
        let next = HttpRequest::new(
            "/scep",
            &Operation::GetNextCaCert {
                message: Some("0".into()),
            },
            Method::Get,
        )
        .unwrap();
        assert_eq!(
            next.path_and_query,
            "/scep?operation=GetNextCACert&message=0"
        );
        // And the server parses each back.
        for (req, op) in [
            (get, pki(&der)),
            (post, pki(&der)),
            (caps, Operation::GetCaCaps { message: None }),
            (
                cert,
                Operation::GetCaCert {
                    message: Some("My CA/1+2".into()),
                },
            ),
            (
                next,
                Operation::GetNextCaCert {
                    message: Some("0".into()),
                },
            ),
        ] {
            let (_, query) = req.path_and_query.split_once('?').unwrap();
            assert_eq!(
                parse(req.method.as_str(), query, &req.body).unwrap(),
                op,
                "{}",
                req.path_and_query
            );
        }
    }

    #[test]
    fn client_side_errors() {
        let op = Operation::GetCaCaps { message: None };
        assert_eq!(
            http_err(HttpRequest::new("/scep", &op, Method::Post)),
            HttpError::MethodNotAllowed("POST".into())
        );
        assert_eq!(
            http_err(HttpRequest::new("/scep", &pki(&[]), Method::Post)),
            HttpError::MissingMessage
        );
        for bad in [
            "",
            "scep",
            "http://ca/scep",
            "/scep?x=1",
            "/sc ep",
            "/scep#x",
            "/sc\u{e9}p",
        ] {
            assert!(
                matches!(
                    HttpRequest::new(bad, &op, Method::Get),
                    Err(Error::Encode {
                        element: "SCEPPATH",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn operation_names_and_parameters_in_any_case_and_order() {
        for query in [
            "operation=GetCACaps",
            "OPERATION=getcacaps",
            "?operation=GetCACaps",
            "message=&operation=GetCACaps",
            "&&foo=bar&operation=GetCACaps&&",
            "operation=Get%43ACaps",
        ] {
            assert_eq!(
                parse("GET", query, b"").unwrap(),
                Operation::GetCaCaps { message: None },
                "{query}"
            );
        }
        assert_eq!(
            parse("GET", "message=CA+one%2B&Operation=getcacert", b"").unwrap(),
            Operation::GetCaCert {
                message: Some("CA one+".into())
            }
        );
        assert_eq!(
            parse("GET", "operation=PKIOPERATION&message=MAA%3D", b"").unwrap(),
            pki(&[0x30, 0x00])
        );
    }

    #[test]
    fn sloppy_base64_in_get() {
        let der = [0xfb, 0xff, 0xfe, 0x3e]; // "+//+Pg=="
        for message in [
            "%2B%2F%2F%2BPg%3D%3D", // proper
            "+//+Pg==",             // nothing escaped
            "%2B//+Pg%3D%3D",       // half escaped
            "%20//%20Pg==",         // '+' turned into an escaped space
            "+//+Pg",               // no padding
            "+//+%0D%0APg==%0A",    // line breaks
            "+//+%09Pg%3D%3D",      // a tab
            "%2b%2f%2f%2bPg%3d%3d", // lower-case escapes
        ] {
            let query = format!("operation=PKIOperation&message={message}");
            assert_eq!(parse("GET", &query, b"").unwrap(), pki(&der), "{message}");
        }
    }

    #[test]
    fn bad_base64() {
        for message in [
            "!!!!",
            "MAA=%3D",
            "MAA===",
            "M",
            "MAA=M",
            "MA=A",
            "MAB=", // non-zero trailing bits
            "%C3%A9AAA",
        ] {
            let query = format!("operation=PKIOperation&message={message}");
            assert_eq!(
                http_err(parse("GET", &query, b"")),
                HttpError::BadBase64,
                "{message}"
            );
        }
        assert_eq!(
            http_err(parse("POST", "operation=PKIOperation", b"not base64!")),
            HttpError::BadBase64
        );
    }

    #[test]
    fn post_bodies() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        assert_eq!(
            parse("POST", "operation=PKIOperation", &der).unwrap(),
            pki(&der)
        );
        // BER indefinite length is still a SEQUENCE.
        let ber = [0x30, 0x80, 0x00, 0x00];
        assert_eq!(
            parse("POST", "operation=PKIOperation", &ber).unwrap(),
            pki(&ber)
        );
        // Base64 bodies, with or without line breaks and padding.
        for body in [&b"MAMCAQU="[..], b"MAMC\r\nAQU=\r\n", b"  MAMCAQU\n"] {
            assert_eq!(
                parse("POST", "operation=PKIOperation&message=", body).unwrap(),
                pki(&der),
                "{body:?}"
            );
        }
        // Empty body: the message parameter is used.
        assert_eq!(
            parse("POST", "operation=PKIOperation&message=MAMCAQU%3D", b"").unwrap(),
            pki(&der)
        );
        // A body wins over the parameter.
        assert_eq!(
            parse("POST", "operation=PKIOperation&message=MAA%3D", &der).unwrap(),
            pki(&der)
        );
    }

    #[test]
    fn request_errors() {
        assert_eq!(http_err(parse("GET", "", b"")), HttpError::MissingOperation);
        assert_eq!(
            http_err(parse("GET", "message=abc", b"")),
            HttpError::MissingOperation
        );
        assert_eq!(
            http_err(parse("GET", "operation=&message=abc", b"")),
            HttpError::MissingOperation
        );
        assert_eq!(
            http_err(parse("GET", "operation=GetCRL", b"")),
            HttpError::UnknownOperation("GetCRL".into())
        );
        let long = "X".repeat(1000);
        assert_eq!(
            http_err(parse("GET", &format!("operation={long}"), b"")),
            HttpError::UnknownOperation("X".repeat(MAX_QUOTED))
        );
        assert_eq!(
            http_err(parse("GET", "operation=PKIOperation", b"")),
            HttpError::MissingMessage
        );
        assert_eq!(
            http_err(parse("GET", "operation=PKIOperation&message=", b"")),
            HttpError::MissingMessage
        );
        assert_eq!(
            http_err(parse("GET", "operation=PKIOperation&message=%0A", b"")),
            HttpError::MissingMessage
        );
        assert_eq!(
            http_err(parse("POST", "operation=PKIOperation", b"")),
            HttpError::MissingMessage
        );
        for method in ["PUT", "HEAD", "get", "DELETE"] {
            assert_eq!(
                http_err(parse(method, "operation=PKIOperation&message=MAA%3D", b"")),
                HttpError::MethodNotAllowed(method.into())
            );
        }
        for op in ["GetCACaps", "GetCACert", "GetNextCACert"] {
            assert_eq!(
                http_err(parse("POST", &format!("operation={op}"), b"")),
                HttpError::MethodNotAllowed("POST".into()),
                "{op}"
            );
        }
        for query in [
            "operation=GetCACaps&operation=GetCACaps",
            "operation=PKIOperation&message=MAA%3D&message=MAA%3D",
            "operation=GetCACaps&other=%zz",
            "operation=GetCACaps%",
            "operation=GetCACert&message=%FF",
        ] {
            assert_eq!(
                http_err(parse("GET", query, b"")),
                HttpError::BadQuery,
                "{query}"
            );
        }
    }

    #[test]
    fn size_limits() {
        let mut limits = ServerLimits::DEFAULT;
        limits.max_body_size = 4;
        limits.max_query_len = 60;
        let body = [0x30, 0x03, 0x02, 0x01, 0x05];
        assert_eq!(
            http_err(parse_request(
                "POST",
                "operation=PKIOperation",
                &body,
                &limits
            )),
            HttpError::BodyTooLarge { limit: 4 }
        );
        // The body limit applies whatever the operation.
        assert_eq!(
            http_err(parse_request("GET", "operation=GetCACaps", &body, &limits)),
            HttpError::BodyTooLarge { limit: 4 }
        );
        // At the limit is fine.
        assert_eq!(
            parse_request("POST", "operation=PKIOperation", &body[..4], &limits).unwrap(),
            pki(&body[..4])
        );
        // A GET message decoding to more than the limit.
        assert_eq!(
            http_err(parse_request(
                "GET",
                "operation=PKIOperation&message=MAMCAQU%3D",
                b"",
                &limits
            )),
            HttpError::BodyTooLarge { limit: 4 }
        );
        let query = format!("operation=GetCACaps&message={}", "a".repeat(33));
        assert_eq!(query.len(), 61);
        assert_eq!(
            parse_request("GET", &query, b"", &limits).unwrap_err(),
            Error::Limit {
                what: "query string length",
                limit: 60
            }
        );
        assert!(parse_request("GET", &query[..60], b"", &limits).is_ok());
        assert_eq!(
            ServerLimits::default(),
            ServerLimits::from_limits(&Limits::DEFAULT)
        );
        assert_eq!(ServerLimits::DEFAULT.max_body_size, 1 << 20);
        assert_eq!(ServerLimits::DEFAULT.max_query_len, (4 << 20) + 4096);
    }

    #[test]
    fn responses() {
        let caps = Capabilities::scep_standard().with(Capability::Renewal);
        let r = HttpResponse::ca_caps(&caps);
        assert_eq!(
            (r.status, r.content_type, r.body.as_slice()),
            (
                200,
                "text/plain",
                &b"AES\nPOSTPKIOperation\nRenewal\nSHA-256\nSCEPStandard"[..]
            )
        );
        assert_eq!(
            HttpResponse::ca_cert(vec![1]).content_type,
            "application/x-x509-ca-cert"
        );
        assert_eq!(
            HttpResponse::ca_ra_certs(vec![1]).content_type,
            "application/x-x509-ca-ra-cert"
        );
        assert_eq!(
            HttpResponse::next_ca_cert(vec![1]).content_type,
            "application/x-x509-next-ca-cert"
        );
        let r = HttpResponse::pki_message(vec![0x30, 0]);
        assert_eq!(
            (r.status, r.content_type, r.body),
            (200, "application/x-pki-message", vec![0x30, 0])
        );
        // Each response passes the client's check for its operation.
        for (op, r) in [
            (OperationKind::GetCaCaps, HttpResponse::ca_caps(&caps)),
            (OperationKind::GetCaCert, HttpResponse::ca_cert(vec![1])),
            (OperationKind::GetCaCert, HttpResponse::ca_ra_certs(vec![1])),
            (
                OperationKind::GetNextCaCert,
                HttpResponse::next_ca_cert(vec![1]),
            ),
            (
                OperationKind::PkiOperation,
                HttpResponse::pki_message(vec![1]),
            ),
        ] {
            assert_eq!(
                check_response(op, r.status, Some(r.content_type), &r.body).unwrap(),
                r.body.as_slice()
            );
        }
    }

    #[test]
    fn get_ca_cert_forms_by_content_type() {
        use crate::message::CaCertForm;
        for (ct, form) in [
            (
                Some("application/x-x509-ca-cert"),
                Some(CaCertForm::Certificate),
            ),
            (
                Some("Application/X-X509-CA-Cert; charset=binary"),
                Some(CaCertForm::Certificate),
            ),
            (
                Some("application/x-x509-ca-ra-cert"),
                Some(CaCertForm::Chain),
            ),
            (Some("application/octet-stream"), None),
            (None, None),
        ] {
            assert_eq!(ca_cert_form(ct), form, "{ct:?}");
        }
        for form in [CaCertForm::Certificate, CaCertForm::Chain] {
            let r = HttpResponse::ca_certificates(form, vec![1]);
            assert_eq!(ca_cert_form(Some(r.content_type)), Some(form));
        }
    }

    #[test]
    fn error_responses() {
        for (query, method, status) in [
            ("operation=Foo", "GET", 400),
            ("", "GET", 400),
            ("operation=PKIOperation", "GET", 400),
            ("operation=PKIOperation&message=!!!!", "GET", 400),
            ("operation=%", "GET", 400),
            ("operation=GetCACert", "POST", 405),
            ("operation=GetCACert", "PATCH", 405),
        ] {
            let err = parse(method, query, b"").unwrap_err();
            let r = HttpResponse::from_error(&err);
            assert_eq!(r.status, status, "{query} {err}");
            assert_eq!(r.content_type, "text/plain");
            assert_eq!(r.body, err.to_string().into_bytes());
        }
        assert_eq!(
            error_status(&HttpError::BodyTooLarge { limit: 1 }.into()),
            413
        );
        assert_eq!(
            error_status(&Error::Limit {
                what: "query string length",
                limit: 1
            }),
            414
        );
        assert_eq!(
            error_status(&Error::Limit {
                what: "message size",
                limit: 1
            }),
            413
        );
        assert_eq!(error_status(&Error::key("x")), 500);
        assert_eq!(
            HttpResponse::error(503, "later"),
            HttpResponse {
                status: 503,
                content_type: "text/plain",
                body: b"later".to_vec()
            }
        );
    }

    #[test]
    fn response_checks() {
        let body = b"\x30\x00";
        // Parameters and case are ignored.
        for ct in [
            "application/x-pki-message",
            "Application/X-PKI-Message",
            "application/x-pki-message; charset=binary",
            " application/x-pki-message ;x=y",
        ] {
            assert_eq!(
                check_response(OperationKind::PkiOperation, 200, Some(ct), body).unwrap(),
                body,
                "{ct}"
            );
        }
        assert_eq!(
            http_err(check_response(
                OperationKind::PkiOperation,
                500,
                Some("application/x-pki-message"),
                body
            )),
            HttpError::Status(500)
        );
        assert_eq!(
            http_err(check_response(OperationKind::PkiOperation, 204, None, b"")),
            HttpError::Status(204)
        );
        assert_eq!(
            http_err(check_response(
                OperationKind::PkiOperation,
                200,
                Some("text/plain; charset=utf-8"),
                body
            )),
            HttpError::UnexpectedContentType("text/plain; charset=utf-8".into())
        );
        assert_eq!(
            http_err(check_response(OperationKind::PkiOperation, 200, None, body)),
            HttpError::UnexpectedContentType(String::new())
        );
        assert_eq!(
            http_err(check_response(
                OperationKind::GetCaCert,
                200,
                Some("application/x-x509-next-ca-cert"),
                body
            )),
            HttpError::UnexpectedContentType("application/x-x509-next-ca-cert".into())
        );
        assert_eq!(
            http_err(check_response(
                OperationKind::GetNextCaCert,
                200,
                Some("application/x-x509-ca-cert"),
                body
            )),
            HttpError::UnexpectedContentType("application/x-x509-ca-cert".into())
        );
        // GetCACaps: any content type, or none; but the status still matters.
        for ct in [
            None,
            Some("text/plain"),
            Some("text/html"),
            Some("application/octet-stream"),
        ] {
            assert_eq!(
                check_response(OperationKind::GetCaCaps, 200, ct, b"AES").unwrap(),
                b"AES"
            );
        }
        assert_eq!(
            http_err(check_response(
                OperationKind::GetCaCaps,
                404,
                Some("text/plain"),
                b""
            )),
            HttpError::Status(404)
        );
    }

    #[test]
    fn operation_kinds() {
        for kind in OperationKind::ALL {
            assert_eq!(OperationKind::from_name(kind.name()), Some(kind));
            assert_eq!(
                OperationKind::from_name(&kind.name().to_lowercase()),
                Some(kind)
            );
            assert_eq!(kind.to_string(), kind.name());
        }
        assert_eq!(OperationKind::from_name("GetCACertChain"), None);
        assert_eq!(pki(&[1]).kind(), OperationKind::PkiOperation);
        assert_eq!(pki(&[1]).ca_identifier(), None);
        assert_eq!(
            Operation::GetNextCaCert {
                message: Some("x".into())
            }
            .ca_identifier(),
            Some("x")
        );
        assert_eq!(Method::Post.to_string(), "POST");
    }
}

/// With the `http` feature: this crate's shapes to and from the `http` crate's types.
#[cfg(feature = "http")]
mod convert {
    use super::{HttpResponse, ServerLimits};

    impl From<HttpResponse> for ::http::Response<Vec<u8>> {
        /// The status, `Content-Type`, `Allow: GET, POST` on a 405 (RFC 9110 section
        /// 15.5.6), and the body.
        fn from(response: HttpResponse) -> Self {
            let mut out = ::http::Response::new(response.body);
            *out.status_mut() = ::http::StatusCode::from_u16(response.status)
                .unwrap_or(::http::StatusCode::INTERNAL_SERVER_ERROR);
            let headers = out.headers_mut();
            headers.insert(
                ::http::header::CONTENT_TYPE,
                ::http::HeaderValue::from_static(response.content_type),
            );
            if response.status == 405 {
                headers.insert(
                    ::http::header::ALLOW,
                    ::http::HeaderValue::from_static("GET, POST"),
                );
            }
            out
        }
    }

    /// What a SCEP server needs of an `http::Request` before it reads the body: the method
    /// and the query.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct RequestHead<'a> {
        /// The method.
        pub method: &'a str,
        /// The query string (after `?`), empty when there is none.
        pub query: &'a str,
    }

    impl<'a> RequestHead<'a> {
        /// The head of `request`, or the response that refuses it before its body is
        /// read: 413 when its `Content-Length` exceeds
        /// [`ServerLimits::max_body_size`] (read the body within that limit too: a
        /// request without a length can still be too long).
        pub fn of<B>(
            request: &'a ::http::Request<B>,
            limits: &ServerLimits,
        ) -> Result<Self, HttpResponse> {
            let declared = request
                .headers()
                .get(::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let limit = u64::try_from(limits.max_body_size).unwrap_or(u64::MAX);
            if declared.is_some_and(|n| n > limit) {
                return Err(HttpResponse::from_error(
                    &super::HttpError::BodyTooLarge {
                        limit: limits.max_body_size,
                    }
                    .into(),
                ));
            }
            Ok(RequestHead {
                method: request.method().as_str(),
                query: request.uri().query().unwrap_or(""),
            })
        }
    }
}

#[cfg(feature = "http")]
pub use convert::RequestHead;
