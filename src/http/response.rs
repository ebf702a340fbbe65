//! The responses a server sends, their status for an error, and a client's check of
//! what came back.

use super::encoding::quote;
use super::{
    CONTENT_TYPE_CA_CERT, CONTENT_TYPE_CA_RA_CERT, CONTENT_TYPE_NEXT_CA_CERT,
    CONTENT_TYPE_PKI_MESSAGE, CONTENT_TYPE_TEXT_PLAIN, OperationKind,
};
use crate::caps::Capabilities;
use crate::error::{Error, HttpError, LimitKind, Result};
use crate::message::CaCertForm;

/// An HTTP response a client received, borrowed from whatever HTTP stack it uses: what
/// every `handle_response` of the client role and [`check_response`] take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    clippy::exhaustive_structs,
    reason = "a parameter struct built with a literal; a new field is meant to break the build"
)]
pub struct HttpReply<'a> {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if there was one.
    pub content_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

impl<'a> HttpReply<'a> {
    /// The reply with `status`, `content_type` and `body`.
    pub fn new(status: u16, content_type: Option<&'a str>, body: &'a [u8]) -> Self {
        HttpReply {
            status,
            content_type,
            body,
        }
    }
}

/// A server's response as its client receives it (for in-process tests and examples).
impl<'a> From<&'a HttpResponse> for HttpReply<'a> {
    fn from(response: &'a HttpResponse) -> Self {
        HttpReply::new(response.status, Some(response.content_type), &response.body)
    }
}

/// An HTTP response a SCEP server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// A response with `status`, `content_type` and `body` (for a server's own answers;
    /// the constructors below make the ones SCEP defines).
    pub fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type,
            body,
        }
    }

    /// 200, the GetCACert answer in `form` (its content type) with `body` (RFC 8894
    /// section 4.2.1), as [`CaCertificates::to_response`](crate::message::CaCertificates::to_response)
    /// gives them.
    pub fn ca_certificates(form: CaCertForm, body: Vec<u8>) -> Self {
        match form {
            CaCertForm::Chain => Self::ca_ra_certs(body),
            _ => Self::ca_cert(body),
        }
    }

    /// 200, `text/plain`, the canonical capability list (RFC 8894 section 3.5.2).
    pub fn ca_caps(caps: &Capabilities) -> Self {
        Self::ok(CONTENT_TYPE_TEXT_PLAIN, caps.format().into_bytes())
    }

    /// 200, `application/x-x509-ca-cert`: a single DER CA certificate, for a CA without
    /// an RA (RFC 8894 section 4.2.1.1).
    pub fn ca_cert(certificate_der: Vec<u8>) -> Self {
        Self::ok(CONTENT_TYPE_CA_CERT, certificate_der)
    }

    /// 200, `application/x-x509-ca-ra-cert`: a degenerate certificates-only CMS SignedData
    /// with the CA and RA certificates (RFC 8894 section 4.2.1.2).
    pub fn ca_ra_certs(certs_only_der: Vec<u8>) -> Self {
        Self::ok(CONTENT_TYPE_CA_RA_CERT, certs_only_der)
    }

    /// 200, `application/x-x509-next-ca-cert`: the GetNextCACert answer, a SignedData over
    /// a degenerate certificates-only SignedData (RFC 8894 section 4.7.1).
    pub fn next_ca_cert(signed_der: Vec<u8>) -> Self {
        Self::ok(CONTENT_TYPE_NEXT_CA_CERT, signed_der)
    }

    /// 200, `application/x-pki-message`: a CertRep (RFC 8894 sections 4.3 to 4.6).
    pub fn pki_message(cert_rep_der: Vec<u8>) -> Self {
        Self::ok(CONTENT_TYPE_PKI_MESSAGE, cert_rep_der)
    }

    /// An error answer with `status` and a `text/plain` body.
    pub fn error(status: u16, text: &str) -> Self {
        Self {
            status,
            content_type: CONTENT_TYPE_TEXT_PLAIN,
            body: text.as_bytes().to_vec(),
        }
    }

    /// The error answer for an error from [`parse_request`](super::parse_request), with the status of
    /// [`error_status`] and the error's text as body. A 405 answer needs an `Allow`
    /// header, which the caller adds (`GET`, or `GET, POST` for PKIOperation).
    pub fn from_error(err: &Error) -> Self {
        Self::error(error_status(err), &err.to_string())
    }

    fn ok(content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status: 200,
            content_type,
            body,
        }
    }
}

/// The HTTP status a server answers an error from [`parse_request`](super::parse_request) with: 405 for
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
            what: LimitKind::QueryStringLength,
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
pub fn check_response<'a>(operation: OperationKind, reply: HttpReply<'a>) -> Result<&'a [u8]> {
    let HttpReply {
        status,
        content_type,
        body,
    } = reply;
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
