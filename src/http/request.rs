//! The requests a client sends: method, request target, content type, body.

use super::encoding::{base64_encode, percent_encode};
use super::{CONTENT_TYPE_PKI_MESSAGE, Method, Operation};
use crate::error::{Element, Error, HttpError, Result};

/// An HTTP request a client must send: method, request target, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::exhaustive_structs,
    reason = "a parameter struct built with a literal; a new field is meant to break the build"
)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// SCEPPATH (e.g. `/scep`).
    pub path: String,
    /// The query, without the `?` and percent-encoded as it is sent (e.g.
    /// `operation=GetCACaps`): what a server's [`parse_request`](super::parse_request)
    /// takes.
    pub query: String,
    /// The `Content-Type` header to send, if any (POST only).
    pub content_type: Option<&'static str>,
    /// The body (empty for GET).
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A GET of `path` with `query` and no body.
    fn get(path: String, query: String) -> Self {
        Self {
            method: Method::Get,
            path,
            query,
            content_type: None,
            body: Vec::new(),
        }
    }

    /// The request target to send: the path, `?`, the query (e.g.
    /// `/scep?operation=GetCACaps`).
    pub fn target(&self) -> String {
        format!("{}?{}", self.path, self.query)
    }

    /// Builds the request for `operation` under `scep_path` (SCEPPATH, e.g. `"/scep"` or
    /// [`DEFAULT_SCEP_PATH`](super::DEFAULT_SCEP_PATH)) with `method` (for PKIOperation, usually
    /// [`Method::for_pki_operation`]).
    ///
    /// GET PKIOperation puts the message, base64 and percent-encoded, in `message=`; POST
    /// sends it as the body with content type [`CONTENT_TYPE_PKI_MESSAGE`]. A CA identifier
    /// is percent-encoded. Long messages make long URLs, which some servers and proxies
    /// truncate: prefer POST when the CA allows it.
    ///
    /// # Errors
    ///
    /// - [`Error::Encode`] ([`Element::RequestPath`](crate::error::Element::RequestPath)) when `scep_path` does not start with `/` or
    ///   contains `?`, `#`, whitespace, control or non-ASCII characters (percent-encode it
    ///   first);
    /// - [`HttpError::MethodNotAllowed`] for POST with anything but PKIOperation;
    /// - [`HttpError::MissingMessage`] for a PKIOperation with an empty message.
    pub fn new(scep_path: &str, operation: &Operation, method: Method) -> Result<Self> {
        check_scep_path(scep_path)?;
        let path = scep_path.to_owned();
        let mut target = String::with_capacity(32);
        target.push_str("operation=");
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
                        Ok(Self::get(path, target))
                    }
                    Method::Post => Ok(Self {
                        method,
                        path,
                        query: target,
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
                Ok(Self::get(path, target))
            }
        }
    }
}

/// Checks that SCEPPATH can be put in a request target as it is.
fn check_scep_path(path: &str) -> Result<()> {
    let bad = |detail: &str| {
        Err(Error::encode(
            Element::RequestPath,
            format!("{path:?} {detail}"),
        ))
    };
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
