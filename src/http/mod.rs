//! The HTTP shapes of SCEP (RFC 8894 section 4): what a client sends, what a server
//! receives, and the content types of the answers. No HTTP client, no sockets: the caller
//! moves the bytes with whatever HTTP stack it has.
//!
//! This module holds the vocabulary (operations, methods, content types); the requests a
//! client sends are built in `request`, a server's request is parsed in `parse`
//! ([`parse_request`]), the answers and a client's check of them are in `response`, the
//! encodings both sides share in `encoding`, and the `http` crate's types convert in
//! `convert` (feature `http`).
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
//! checks the status and content type of the answer (an [`HttpReply`]) and hands back the
//! body.
//!
//! ```
//! use scep::http::{check_response, HttpReply, HttpRequest, Method, Operation, OperationKind};
//!
//! let der = vec![0x30, 0x03, 0xfb, 0xff, 0xfe]; // base64 "MAP7//4=" has '+', '/' and '='
//! let get = HttpRequest::new("/scep", &Operation::PkiOperation { message: der.clone() }, Method::Get)?;
//! assert_eq!(get.target(), "/scep?operation=PKIOperation&message=MAP7%2F%2F4%3D");
//!
//! let post = HttpRequest::new("/scep", &Operation::PkiOperation { message: der.clone() }, Method::Post)?;
//! assert_eq!(post.target(), "/scep?operation=PKIOperation");
//! assert_eq!(post.content_type, Some("application/x-pki-message"));
//! assert_eq!(post.body, der);
//!
//! let reply = HttpReply::new(200, Some("application/x-pki-message"), b"\x30\x00");
//! let body = check_response(OperationKind::PkiOperation, reply)?;
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
//! ([`HttpError::BadQuery`](crate::error::HttpError::BadQuery)), methods other than `GET` and `POST` (methods are
//! case-sensitive, RFC 9110 section 9.1) and POST for anything but PKIOperation
//! ([`HttpError::MethodNotAllowed`](crate::error::HttpError::MethodNotAllowed)), base64 with characters outside the alphabet, more
//! than two `=`, or non-zero trailing bits ([`HttpError::BadBase64`](crate::error::HttpError::BadBase64)), and oversized
//! bodies, messages and query strings (see [`ServerLimits`]).

#[cfg(feature = "http")]
mod convert;
mod encoding;
mod parse;
mod request;
mod response;
#[cfg(test)]
mod tests;

#[cfg(feature = "http")]
pub use convert::RequestHead;
pub use parse::{ServerLimits, parse_request};
pub use request::HttpRequest;
pub use response::{HttpReply, HttpResponse, ca_cert_form, check_response, error_status};

use core::fmt;

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

/// The HTTP methods SCEP uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[expect(
    clippy::exhaustive_enums,
    reason = "SCEP uses GET and POST only (RFC 8894 section 4.1)"
)]
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
            Self::Post
        } else {
            Self::Get
        }
    }

    /// The method's token, `"GET"` or `"POST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
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
    pub const ALL: [Self; 4] = [
        Self::GetCaCaps,
        Self::GetCaCert,
        Self::GetNextCaCert,
        Self::PkiOperation,
    ];

    /// The value of the `operation` parameter, as RFC 8894 spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::GetCaCaps => "GetCACaps",
            Self::GetCaCert => "GetCACert",
            Self::GetNextCaCert => "GetNextCACert",
            Self::PkiOperation => "PKIOperation",
        }
    }

    /// Recognises an operation name, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }

    /// The content types a successful response may have. Empty for GetCACaps, whose
    /// servers send all sorts (see [`check_response`]).
    pub fn response_content_types(self) -> &'static [&'static str] {
        match self {
            Self::GetCaCaps => &[],
            Self::GetCaCert => &[CONTENT_TYPE_CA_CERT, CONTENT_TYPE_CA_RA_CERT],
            Self::GetNextCaCert => &[CONTENT_TYPE_NEXT_CA_CERT],
            Self::PkiOperation => &[CONTENT_TYPE_PKI_MESSAGE],
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
            Self::GetCaCaps { .. } => OperationKind::GetCaCaps,
            Self::GetCaCert { .. } => OperationKind::GetCaCert,
            Self::GetNextCaCert { .. } => OperationKind::GetNextCaCert,
            Self::PkiOperation { .. } => OperationKind::PkiOperation,
        }
    }

    /// The CA identifier of GetCACaps, GetCACert and GetNextCACert, if any.
    pub fn ca_identifier(&self) -> Option<&str> {
        match self {
            Self::GetCaCaps { message }
            | Self::GetCaCert { message }
            | Self::GetNextCaCert { message } => message.as_deref(),
            Self::PkiOperation { .. } => None,
        }
    }
}
