//! Deterministic mutation test: every vector truncated at every length and with every octet
//! flipped, plus structured mutations of the ASN.1 (lengths, the constructed bit, an
//! unterminated indefinite length, deep nesting, a huge claimed length). Each must give
//! `Ok` or a typed `Err` quickly: no panic (checked with `catch_unwind`), no hang (each
//! part runs under a deadline), and some mutations have a known outcome that is checked.
//!
//! Vectors: `test-vectors/sealed/*.der`, and every `.der` under `../shared/test-vectors/`
//! when that folder exists (with `CI` set it must). Each is decoded the way its kind is
//! received: pkiMessage, GetCACert response, request payload or bare envelope.
//!
//! The sealed vectors also go through the fuzz entry points that decrypt
//! (`scep::internal::fuzzing::open_with_key`, `cert_rep_client`) for every truncation and for the
//! structured mutations; the octet flips of all vectors use the typed decoders, which keeps
//! the whole test to a few seconds.
//!
//! Built with `--cfg fuzzing` only (`scep::internal::fuzzing` exists only then):
//! `RUSTFLAGS="--cfg fuzzing" cargo test --test mutation --test fuzz_regressions`, as
//! `.ci/run` does.
#![cfg(fuzzing)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use scep::message::{CaCertificates, PkiMessage, RequestContent};
use scep::pipeline::envelope;
use scep::{Error, Limits, MessageType};

/// Each part of the test runs under this deadline; going over it counts as a hang.
const DEADLINE: Duration = Duration::from_secs(120);

/// How a vector is received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A pkiMessage (SignedData).
    Message,
    /// A GetCACert response: a certificate or a certs-only SignedData.
    CaCerts,
    /// The decrypted payload of a request of this type.
    Payload(MessageType),
    /// A bare pkcsPKIEnvelope.
    Envelope,
}

struct Vector {
    name: String,
    kind: Kind,
    bytes: Vec<u8>,
    /// Made by this crate, with the keys in `test-vectors/sealed/`.
    sealed: bool,
}

fn kind_of(name: &str) -> Kind {
    let payload_type = |n: &str| {
        if n.contains("RenewalReq") {
            MessageType::RenewalReq
        } else if n.contains("CertPoll") {
            MessageType::CertPoll
        } else if n.contains("GetCert") {
            MessageType::GetCert
        } else if n.contains("GetCRL") {
            MessageType::GetCrl
        } else {
            MessageType::PkcsReq
        }
    };
    if name.contains("getcacert")
        || name.contains("GetCACert")
        || name.contains("response.plain")
        || name.ends_with("scep_resp0.der")
    {
        Kind::CaCerts
    } else if name.ends_with("request.plain.der") {
        Kind::Payload(payload_type(name))
    } else if name.ends_with("scep_req0.der") {
        Kind::Payload(MessageType::PkcsReq)
    } else if name.ends_with("scep_req1.der") || name.ends_with("scep_resp1.der") {
        Kind::Envelope
    } else {
        Kind::Message
    }
}

fn der_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            der_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "der") {
            out.push(path);
        }
    }
}

fn vectors() -> Vec<Vector> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut add = |dir: &Path, sealed: bool| {
        let mut files = Vec::new();
        der_files(dir, &mut files);
        files.sort();
        for path in files {
            let name = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string();
            out.push(Vector {
                kind: kind_of(&name),
                bytes: std::fs::read(&path).unwrap(),
                name,
                sealed,
            });
        }
    };
    add(&common::sealed::dir(), true);
    let shared = common::shared_dir().join("test-vectors");
    if shared.is_dir() {
        add(&shared, false);
    } else if std::env::var_os("CI").is_some() {
        panic!("CI is set but {} is missing", shared.display());
    } else {
        eprintln!(
            "skipping the shared vectors: {} is missing",
            shared.display()
        );
    }
    assert!(out.iter().filter(|v| v.sealed).count() >= 11);
    out
}

/// Decodes `bytes` as `kind` is received; with `summary`, returns a description of what
/// was decoded, to compare two decodings.
fn decode(kind: Kind, bytes: &[u8], summary: bool) -> Result<String, Error> {
    let limits = Limits::default();
    match kind {
        Kind::Message => {
            let m = PkiMessage::decode(bytes, &limits)?;
            let info = m.envelope_info();
            Ok(if summary {
                format!(
                    "{:?} {:?} {:?} {:?} {:?} {:?}",
                    m.attributes(),
                    m.certificates(),
                    m.envelope(),
                    m.digest_algorithm(),
                    m.key_algorithm(),
                    info
                )
            } else {
                String::new()
            })
        }
        Kind::CaCerts => CaCertificates::parse(None, bytes, &limits).map(|c| {
            if summary {
                format!("{c:?}")
            } else {
                String::new()
            }
        }),
        Kind::Payload(t) => RequestContent::from_der(t, bytes, &limits).map(|c| {
            if summary {
                format!("{c:?}")
            } else {
                String::new()
            }
        }),
        Kind::Envelope => envelope::inspect(bytes, &limits).map(|i| {
            if summary {
                format!("{i:?}")
            } else {
                String::new()
            }
        }),
    }
}

/// Runs `f` on its own thread; a panic fails the test naming `what`, and so does going over
/// [`DEADLINE`] (a hang).
fn within_deadline<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(v) => {
            handle.join().unwrap();
            v
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {DEADLINE:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked (see above)"),
    }
}

/// Decodes with a panic turned into a test failure that names the mutation.
fn decode_or_fail(vector: &str, mutation: &str, kind: Kind, bytes: &[u8]) -> Result<String, Error> {
    std::panic::catch_unwind(|| decode(kind, bytes, false))
        .unwrap_or_else(|_| panic!("{vector}: {mutation}: the decoder panicked"))
}

/// The fuzz entry point that opens a sealed vector of this kind with its keys.
fn deep_entry(kind: Kind) -> fn(&[u8]) {
    match kind {
        Kind::Message => |b: &[u8]| {
            scep::internal::fuzzing::open_with_key(b);
            scep::internal::fuzzing::cert_rep_client(b);
        },
        Kind::CaCerts => scep::internal::fuzzing::ca_certs,
        Kind::Payload(_) => scep::internal::fuzzing::csr,
        Kind::Envelope => scep::internal::fuzzing::pwri,
    }
}

#[test]
fn truncations_and_octet_flips() {
    let (truncations, flips, elapsed) = within_deadline("truncations and flips", || {
        let start = Instant::now();
        let (mut truncations, mut flips) = (0usize, 0usize);
        for v in vectors() {
            for len in 0..v.bytes.len() {
                let cut = &v.bytes[..len];
                let r = decode_or_fail(&v.name, &format!("truncated to {len}"), v.kind, cut);
                // A proper prefix of one element is never a whole element.
                assert!(r.is_err(), "{}: truncated to {len} decodes", v.name);
                if v.sealed {
                    deep_entry(v.kind)(cut);
                }
                truncations += 1;
            }
            let mut bytes = v.bytes.clone();
            for i in 0..bytes.len() {
                bytes[i] ^= 0xFF;
                let _ = decode_or_fail(&v.name, &format!("octet {i} flipped"), v.kind, &bytes);
                bytes[i] ^= 0xFF;
                flips += 1;
            }
        }
        (truncations, flips, start.elapsed())
    });
    eprintln!("{truncations} truncations and {flips} flipped octets in {elapsed:.2?}");
    assert!(flips > 15_000);
}

// -------------------------------------------------------------------------------------
// Structured mutations over the DER tree
// -------------------------------------------------------------------------------------

/// A DER element: identifier octets and either contents or children.
struct Tlv {
    tag: Vec<u8>,
    body: Body,
}

enum Body {
    Primitive(Vec<u8>),
    Constructed(Vec<Tlv>),
}

/// Parses one DER element (definite lengths) and returns it with what follows.
fn parse_tlv(input: &[u8]) -> Option<(Tlv, &[u8])> {
    let mut pos = 1;
    if input.first()? & 0x1F == 0x1F {
        while input.get(pos)? & 0x80 != 0 {
            pos += 1;
        }
        pos += 1;
    }
    let tag = input.get(..pos)?.to_vec();
    let first = *input.get(pos)?;
    pos += 1;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7F);
        let bytes = input.get(pos..pos + n)?;
        pos += n;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let contents = input.get(pos..pos + len)?;
    let rest = input.get(pos + len..)?;
    let body = if tag[0] & 0x20 != 0 {
        let mut children = Vec::new();
        let mut inner = contents;
        while !inner.is_empty() {
            let (child, after) = parse_tlv(inner)?;
            children.push(child);
            inner = after;
        }
        Body::Constructed(children)
    } else {
        Body::Primitive(contents.to_vec())
    };
    Some((Tlv { tag, body }, rest))
}

fn count(t: &Tlv) -> usize {
    1 + match &t.body {
        Body::Primitive(_) => 0,
        Body::Constructed(children) => children.iter().map(count).sum(),
    }
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mutation {
    /// The length one more than the contents (the parents' lengths left as they were).
    LengthPlusOne,
    /// The length one less than the contents.
    LengthMinusOne,
    /// The length in a non-minimal long form (a leading zero octet), parents adjusted:
    /// valid BER, so it must decode to the same as the original.
    LongForm,
    /// The constructed bit of the identifier flipped.
    FlipConstructed,
    /// An indefinite length without end-of-contents, parents adjusted.
    Unterminated,
}

/// Encodes the tree with `mutation` applied to the element numbered `target` (pre-order),
/// every other length minimal.
fn encode(t: &Tlv, next: &mut usize, target: usize, mutation: Mutation) -> Vec<u8> {
    let id = *next;
    *next += 1;
    let contents = match &t.body {
        Body::Primitive(c) => c.clone(),
        Body::Constructed(children) => children
            .iter()
            .flat_map(|c| encode(c, next, target, mutation))
            .collect(),
    };
    let mut out = t.tag.clone();
    if id != target {
        push_len(&mut out, contents.len());
    } else {
        match mutation {
            Mutation::LengthPlusOne => push_len(&mut out, contents.len() + 1),
            Mutation::LengthMinusOne => push_len(&mut out, contents.len().saturating_sub(1)),
            Mutation::LongForm => {
                let mut len = Vec::new();
                push_len(&mut len, contents.len());
                if len[0] < 0x80 {
                    out.extend_from_slice(&[0x81, len[0]]);
                } else {
                    out.push(len[0] + 1);
                    out.push(0);
                    out.extend_from_slice(&len[1..]);
                }
            }
            Mutation::FlipConstructed => {
                out[0] ^= 0x20;
                push_len(&mut out, contents.len());
            }
            Mutation::Unterminated => out.push(0x80),
        }
    }
    out.extend_from_slice(&contents);
    out
}

#[test]
fn structured_mutations_of_every_element() {
    let (mutations, elapsed) = within_deadline("structured mutations", || {
        let start = Instant::now();
        let ca = vec![common::sealed::cert("ca.pem")];
        let mut mutations = 0usize;
        for v in vectors() {
            // Mutate the DER form (the shared vectors include BER).
            let der = scep::internal::fuzzing::ber_to_der(&v.bytes, &Limits::default()).unwrap();
            let (tree, rest) = parse_tlv(&der).unwrap();
            assert!(rest.is_empty());
            assert_eq!(encode(&tree, &mut 0, usize::MAX, Mutation::LongForm), der);
            let original = decode(v.kind, &der, true);
            let verified = (v.kind == Kind::Message).then(|| {
                PkiMessage::decode(&der, &Limits::default())
                    .unwrap()
                    .verify(&ca)
                    .map(|m| m.signer().clone())
            });
            for target in 0..count(&tree) {
                for mutation in [
                    Mutation::LengthPlusOne,
                    Mutation::LengthMinusOne,
                    Mutation::LongForm,
                    Mutation::FlipConstructed,
                    Mutation::Unterminated,
                ] {
                    let bytes = encode(&tree, &mut 0, target, mutation);
                    let what = format!("element {target}: {mutation:?}");
                    let r = std::panic::catch_unwind(|| decode(v.kind, &bytes, true))
                        .unwrap_or_else(|_| panic!("{}: {what}: the decoder panicked", v.name));
                    match mutation {
                        Mutation::LongForm => {
                            assert_eq!(r, original, "{}: {what}: BER decodes differently", v.name);
                            if let Some(verified) = &verified {
                                let again = PkiMessage::decode(&bytes, &Limits::default())
                                    .unwrap()
                                    .verify(&ca)
                                    .map(|m| m.signer().clone());
                                assert_eq!(&again, verified, "{}: {what}", v.name);
                            }
                        }
                        Mutation::Unterminated => assert!(
                            matches!(r, Err(Error::Decode { .. })),
                            "{}: {what}: {r:?}",
                            v.name
                        ),
                        _ => {}
                    }
                    if v.sealed && mutation != Mutation::LongForm {
                        let entry = deep_entry(v.kind);
                        std::panic::catch_unwind(|| entry(&bytes)).unwrap_or_else(|_| {
                            panic!("{}: {what}: a fuzz entry panicked", v.name)
                        });
                    }
                    mutations += 1;
                }
            }
        }
        (mutations, start.elapsed())
    });
    eprintln!("{mutations} structured mutations in {elapsed:.2?}");
    assert!(mutations > 5_000);
}

#[test]
fn deep_nesting_is_refused_at_the_depth_limit() {
    within_deadline("deep nesting", || {
        let open = [0x30, 0x80].repeat(10_000);
        let mut closed = open.clone();
        closed.extend([0x00, 0x00].repeat(10_000));
        let limits = Limits::default();
        for input in [&open, &closed] {
            let depth = |r: Result<(), Error>| {
                assert!(
                    matches!(
                        r,
                        Err(Error::Limit {
                            what: scep::error::LimitKind::NestingDepth,
                            limit: 64
                        })
                    ),
                    "{r:?}"
                )
            };
            depth(scep::internal::fuzzing::ber_to_der(input, &limits).map(drop));
            depth(PkiMessage::decode(input, &limits).map(drop));
            depth(CaCertificates::parse(None, input, &limits).map(drop));
            depth(RequestContent::from_der(MessageType::PkcsReq, input, &limits).map(drop));
            depth(envelope::inspect(input, &limits).map(drop));
            for entry in ALL_ENTRY_POINTS {
                entry(input);
            }
        }
        // The same depth as constructed OCTET STRING segments.
        let mut strings = [0x24, 0x80].repeat(10_000);
        strings.extend([0x00, 0x00].repeat(10_000));
        assert!(matches!(
            scep::internal::fuzzing::ber_to_der(&strings, &limits),
            Err(Error::Limit {
                what: scep::error::LimitKind::NestingDepth,
                ..
            })
        ));
        // Just within the limit is fine.
        let mut ok = [0x30, 0x80].repeat(64);
        ok.extend([0x00, 0x00].repeat(64));
        assert!(scep::internal::fuzzing::ber_to_der(&ok, &limits).is_ok());
    });
}

const ALL_ENTRY_POINTS: [fn(&[u8]); 10] = [
    scep::internal::fuzzing::open_pki_message,
    scep::internal::fuzzing::pki_message,
    scep::internal::fuzzing::open_with_key,
    scep::internal::fuzzing::cert_rep_client,
    scep::internal::fuzzing::ca_certs,
    scep::internal::fuzzing::caps,
    scep::internal::fuzzing::http_request,
    scep::internal::fuzzing::csr,
    scep::internal::fuzzing::ber,
    scep::internal::fuzzing::pwri,
];

#[test]
fn huge_claimed_lengths_are_decode_errors() {
    within_deadline("huge lengths", || {
        let limits = Limits::default();
        for input in [
            &[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF][..],
            &[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x01, 0x00],
            &[0x30, 0x88, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            &[0x30, 0x89, 0x01, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0x30, 0x80, 0x04, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 0x00, 0x00],
        ] {
            let decode_err = |r: Result<(), Error>| {
                assert!(
                    matches!(r, Err(Error::Decode { .. })),
                    "{input:02x?}: {r:?}"
                )
            };
            decode_err(scep::internal::fuzzing::ber_to_der(input, &limits).map(drop));
            decode_err(PkiMessage::decode(input, &limits).map(drop));
            decode_err(CaCertificates::parse(None, input, &limits).map(drop));
            decode_err(RequestContent::from_der(MessageType::PkcsReq, input, &limits).map(drop));
            decode_err(envelope::inspect(input, &limits).map(drop));
            for entry in ALL_ENTRY_POINTS {
                entry(input);
            }
        }
    });
}

#[test]
fn an_unterminated_indefinite_length_is_a_decode_error() {
    let limits = Limits::default();
    for input in [
        &[0x30, 0x80][..],
        &[0x30, 0x80, 0x02, 0x01, 0x00],
        &[0x30, 0x80, 0x30, 0x80, 0x00, 0x00],
        &[0x30, 0x80, 0x24, 0x80, 0x04, 0x01, 0xAA],
        &[0x30, 0x80, 0x00],
    ] {
        let r = scep::internal::fuzzing::ber_to_der(input, &limits);
        assert!(
            matches!(r, Err(Error::Decode { .. })),
            "{input:02x?}: {r:?}"
        );
        for entry in ALL_ENTRY_POINTS {
            entry(input);
        }
    }
}
