//! Tests of the HTTP shapes.

use super::encoding::{
    MAX_QUOTED, base64_decode_lenient, base64_encode, percent_decode, percent_encode,
};
use super::*;
use crate::caps::{Capabilities, Capability};
use crate::error::{Element, Error, HttpError, LimitKind, Result};
use crate::limits::Limits;

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
        assert_eq!(req.path, "/scep");
        let query = req.query.as_str();
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
        req.target(),
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
            path: "/cgi-bin/pkiclient.exe".into(),
            query: "operation=PKIOperation&message=MAMCAQU%3D".into(),
            content_type: None,
            body: vec![],
        }
    );
    let post = HttpRequest::new("/scep", &pki(&der), Method::Post).unwrap();
    assert_eq!(
        post,
        HttpRequest {
            method: Method::Post,
            path: "/scep".into(),
            query: "operation=PKIOperation".into(),
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
    assert_eq!(caps.target(), "/scep?operation=GetCACaps");
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
        cert.target(),
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
    assert_eq!(next.target(), "/scep?operation=GetNextCACert&message=0");
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
        let query = req.query.as_str();
        assert_eq!(
            parse(req.method.as_str(), query, &req.body).unwrap(),
            op,
            "{}",
            req.target()
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
                    element: Element::RequestPath,
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
            what: LimitKind::QueryStringLength,
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
            check_response(op, HttpReply::new(r.status, Some(r.content_type), &r.body)).unwrap(),
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
            what: LimitKind::QueryStringLength,
            limit: 1
        }),
        414
    );
    assert_eq!(
        error_status(&Error::Limit {
            what: LimitKind::MessageSize,
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
            check_response(
                OperationKind::PkiOperation,
                HttpReply::new(200, Some(ct), body)
            )
            .unwrap(),
            body,
            "{ct}"
        );
    }
    assert_eq!(
        http_err(check_response(
            OperationKind::PkiOperation,
            HttpReply::new(500, Some("application/x-pki-message"), body)
        )),
        HttpError::Status(500)
    );
    assert_eq!(
        http_err(check_response(
            OperationKind::PkiOperation,
            HttpReply::new(204, None, b"")
        )),
        HttpError::Status(204)
    );
    assert_eq!(
        http_err(check_response(
            OperationKind::PkiOperation,
            HttpReply::new(200, Some("text/plain; charset=utf-8"), body)
        )),
        HttpError::UnexpectedContentType("text/plain; charset=utf-8".into())
    );
    assert_eq!(
        http_err(check_response(
            OperationKind::PkiOperation,
            HttpReply::new(200, None, body)
        )),
        HttpError::UnexpectedContentType(String::new())
    );
    assert_eq!(
        http_err(check_response(
            OperationKind::GetCaCert,
            HttpReply::new(200, Some("application/x-x509-next-ca-cert"), body)
        )),
        HttpError::UnexpectedContentType("application/x-x509-next-ca-cert".into())
    );
    assert_eq!(
        http_err(check_response(
            OperationKind::GetNextCaCert,
            HttpReply::new(200, Some("application/x-x509-ca-cert"), body)
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
            check_response(OperationKind::GetCaCaps, HttpReply::new(200, ct, b"AES")).unwrap(),
            b"AES"
        );
    }
    assert_eq!(
        http_err(check_response(
            OperationKind::GetCaCaps,
            HttpReply::new(404, Some("text/plain"), b"")
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
