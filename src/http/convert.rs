//! With the `http` feature: this crate's shapes to and from the `http` crate's types.

use super::{HttpResponse, ServerLimits};

impl From<HttpResponse> for ::http::Response<Vec<u8>> {
    /// The status, `Content-Type`, `Allow: GET, POST` on a 405 (RFC 9110 section
    /// 15.5.6), and the body.
    fn from(response: HttpResponse) -> Self {
        let mut out = Self::new(response.body);
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
                &crate::error::HttpError::BodyTooLarge {
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
