//! GetCACaps and HTTP shapes against real exchanges recorded between independent clients
//! (micromdm scepclient, certmonger, pyscep, an openssl-based client) and micromdm's
//! server, in `../shared/test-vectors/peers/*/`.
//!
//! When the recordings are missing the tests are skipped, unless the `CI` environment
//! variable is set, in which case they fail.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use scep::caps::{Capabilities, Capability, Policy, negotiate};
use scep::error::HttpError;
use scep::http::{
    HttpRequest, Method, Operation, OperationKind, ServerLimits, check_response, parse_request,
};
use scep::{ContentCipher, DigestAlgorithm, Error};

const PEERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/test-vectors/peers");

/// Every file of every pair folder, sorted; `None` (after failing under CI) when the
/// recordings are not there.
fn peer_files() -> Option<Vec<PathBuf>> {
    let root = Path::new(PEERS);
    if !root.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "test vectors missing under CI: {PEERS}"
        );
        eprintln!("skipping: {PEERS} not found");
        return None;
    }
    let mut files = Vec::new();
    for pair in fs::read_dir(root).unwrap() {
        let pair = pair.unwrap().path();
        if pair.is_dir() {
            for f in fs::read_dir(&pair).unwrap() {
                let f = f.unwrap().path();
                if f.is_file() {
                    files.push(f);
                }
            }
        }
    }
    files.sort();
    Some(files)
}

fn name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

/// `NNN-` prefix of a recorded file.
fn number(path: &Path) -> &str {
    name(path).split_once('-').unwrap().0
}

/// The operation named in a recorded file name: `NNN-<Operation>[-...]...`.
fn operation_of(path: &Path) -> OperationKind {
    let rest = name(path).split_once('-').unwrap().1;
    let op = rest.split(['-', '.']).next().unwrap();
    OperationKind::from_name(op).unwrap_or_else(|| panic!("operation in {path:?}"))
}

/// The value of `key: ` lines in a recorded request/response description.
fn field<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
        .collect()
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let n = name(path);
    let stem = n.split_once(".http-").unwrap().0;
    path.with_file_name(format!("{stem}{suffix}"))
}

#[test]
fn recorded_getcacaps_responses() {
    let Some(files) = peer_files() else { return };
    let responses: Vec<_> = files
        .iter()
        .filter(|f| name(f).ends_with("-GetCACaps.response.txt"))
        .collect();
    assert!(responses.len() >= 12, "found {}", responses.len());

    let micromdm: BTreeSet<Capability> = [
        Capability::Renewal,
        Capability::Sha1,
        Capability::Sha256,
        Capability::Aes,
        Capability::Des3,
        Capability::ScepStandard,
        Capability::PostPkiOperation,
    ]
    .into();

    for path in responses {
        let body = fs::read(path).unwrap();
        let caps = Capabilities::from_bytes(&body).unwrap();
        assert_eq!(caps.iter().collect::<BTreeSet<_>>(), micromdm, "{path:?}");
        assert!(caps.unknown().is_empty(), "{path:?}");
        assert!(!caps.contains(Capability::GetNextCaCert));
        assert!(!caps.contains(Capability::Sha512));

        // Independently: the keywords the pair's MANIFEST lists for this file.
        let manifest = fs::read_to_string(path.with_file_name("MANIFEST.md")).unwrap();
        let row = manifest
            .lines()
            .find(|l| l.starts_with(&format!("| `{}`", name(path))))
            .unwrap_or_else(|| panic!("no MANIFEST row for {path:?}"));
        let listed = row
            .split_once("(text/plain): ")
            .unwrap()
            .1
            .split(" |")
            .next()
            .unwrap();
        let from_manifest = Capabilities::parse(&listed.replace(' ', "\n")).unwrap();
        assert_eq!(caps, from_manifest, "{path:?}");

        // micromdm already sends the RFC spelling, `\n`-separated; only the order differs.
        let text = String::from_utf8(body).unwrap();
        let formatted = caps.format();
        let mut ours: Vec<&str> = formatted.split('\n').collect();
        let mut theirs: Vec<&str> = text.split('\n').collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs);

        let n = negotiate(&caps, &Policy::default()).unwrap();
        assert_eq!(n.cipher, ContentCipher::Aes128Cbc);
        assert_eq!(n.digest, DigestAlgorithm::Sha256);
        assert!(n.use_post && n.renewal && n.scep_standard && !n.get_next_ca_cert);
        assert_eq!(Method::for_pki_operation(&n), Method::Post);
        assert_eq!(negotiate(&caps, &Policy::strict()).unwrap(), n);
    }
}

#[test]
fn recorded_requests_parse() {
    let Some(files) = peer_files() else { return };
    let requests: Vec<_> = files
        .iter()
        .filter(|f| name(f).ends_with(".http-request.txt"))
        .collect();
    assert!(requests.len() >= 36, "found {}", requests.len());

    let (mut pki_get, mut pki_post, mut rebuilt) = (0, 0, 0);
    for path in requests {
        let text = fs::read_to_string(path).unwrap();
        let [method] = field(&text, "method")[..] else {
            panic!("method in {path:?}")
        };
        let [query] = field(&text, "query")[..] else {
            panic!("query in {path:?}")
        };
        let [scep_path] = field(&text, "path")[..] else {
            panic!("path in {path:?}")
        };
        let [request_line] = field(&text, "request-line")[..] else {
            panic!("request-line in {path:?}")
        };
        assert_eq!(
            request_line,
            format!("{method} {scep_path}?{query} HTTP/1.1"),
            "{path:?}"
        );

        let kind = operation_of(path);
        let body = if method == "POST" {
            fs::read(sibling(path, ".request.der")).unwrap()
        } else {
            Vec::new()
        };
        let op = parse_request(method, query, &body, &ServerLimits::DEFAULT)
            .unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert_eq!(op.kind(), kind, "{path:?}");

        match &op {
            Operation::PkiOperation { message } => {
                // Byte for byte the recorded pkiMessage, whether it came base64 in the
                // query (certmonger) or as the POST body.
                let der = fs::read(sibling(path, ".request.der")).unwrap();
                assert_eq!(message, &der, "{path:?}");
                if method == "GET" {
                    pki_get += 1;
                } else {
                    pki_post += 1;
                }
            }
            other => {
                // certmonger: message=0 / message=1; pyscep: message= (none); micromdm
                // and curl: no message at all.
                let expected = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("message="))
                    .filter(|m| !m.is_empty());
                assert_eq!(other.ca_identifier(), expected, "{path:?}");
                assert_eq!(method, "GET");
            }
        }

        // Our client builds the same request target, where the recording has no empty
        // `message=` (pyscep's, which we do not send). For certmonger's PKIOperation GET
        // this checks our base64 and percent-encoding byte for byte.
        if !query.ends_with("message=") {
            let m = if method == "POST" {
                Method::Post
            } else {
                Method::Get
            };
            let req = HttpRequest::new(scep_path, &op, m).unwrap();
            assert_eq!(req.target(), format!("{scep_path}?{query}"), "{path:?}");
            assert_eq!(req.body, body);
            rebuilt += 1;
        }
    }
    assert!(pki_get >= 2, "certmonger's GETs: {pki_get}");
    assert!(pki_post >= 7, "POSTs: {pki_post}");
    assert!(rebuilt >= 20, "rebuilt: {rebuilt}");
}

#[test]
fn recorded_responses_check() {
    let Some(files) = peer_files() else { return };
    let responses: Vec<_> = files
        .iter()
        .filter(|f| name(f).ends_with(".http-response.txt"))
        .collect();
    assert!(responses.len() >= 36, "found {}", responses.len());

    let (mut ok, mut failed) = (0, 0);
    for path in responses {
        let text = fs::read_to_string(path).unwrap();
        let [status] = field(&text, "status")[..] else {
            panic!("status in {path:?}")
        };
        let status: u16 = status.split(' ').next().unwrap().parse().unwrap();
        let content_type = field(&text, "header").into_iter().find_map(|h| {
            let (k, v) = h.split_once(": ")?;
            k.eq_ignore_ascii_case("content-type").then_some(v)
        });
        // The recorded body: NNN-...response(.txt|.der|-CertRep-*.der|-HTTP500.txt).
        let body_file = files
            .iter()
            .find(|f| {
                f.parent() == path.parent()
                    && number(f) == number(path)
                    && name(f).contains("response")
                    && !name(f).contains("http-response")
                    && !name(f).contains("response.plain")
            })
            .unwrap_or_else(|| panic!("no body for {path:?}"));
        let body = fs::read(body_file).unwrap();
        let kind = operation_of(path);

        match check_response(
            kind,
            scep::http::HttpReply::new(status, content_type, &body),
        ) {
            Ok(returned) => {
                assert_eq!(status, 200, "{path:?}");
                assert_eq!(returned, body.as_slice());
                ok += 1;
            }
            Err(Error::Http(HttpError::Status(s))) => {
                assert_eq!(s, status, "{path:?}");
                assert_ne!(status, 200);
                failed += 1;
            }
            Err(e) => panic!("{path:?}: {e}"),
        }
    }
    assert!(ok >= 30 && failed >= 5, "ok {ok}, failed {failed}");
}
