//! Entry points for the fuzz targets under `fuzz/`. Not public API: the targets stay thin
//! and everything they exercise lives here, so a crash reproduces with a plain unit test.
//!
//! One function per kind of untrusted input. Each takes arbitrary bytes and never panics
//! on its own account: every error the library returns is expected and ignored. Where an
//! input decodes into a value that can be encoded again, the entry point checks that
//! decoding that encoding gives the same value back; a round trip that does not is a bug,
//! and the panic it raises (in `oracle`) is what the fuzzer reports. Those checks are
//! the only panics here.
//!
//! The entry points that decrypt use fixed throw-away keys from `test-vectors/sealed/`
//! (embedded at compile time), so the sealed messages there are good seeds: they get past
//! decryption into the payload decoders, and mutations of them get as far as they can.

use core::fmt::Debug;
use std::sync::OnceLock;

use der::{Decode, DecodePem, Encode};

use crate::asn1::{CertReq, Certificate, CertificateList};
use crate::error::Element;

use crate::attributes::ScepAttributes;
/// BER to DER normalisation under `limits` (the crate's `ber` module), for the mutation
/// tests.
pub fn ber_to_der(input: &[u8], limits: &Limits) -> crate::Result<Vec<u8>> {
    crate::ber::to_der(input, limits)
}
use crate::caps::{Capabilities, Policy, negotiate};
use crate::client::{CaInfo, ClientConfig, Fingerprint, RaTrust};
use crate::http::{self, HttpRequest, Method, Operation, ServerLimits};
use crate::limits::Limits;
use crate::message::{
    CaCertForm, CaCertificates, CertRepContent, NextCaCertificates, PkiMessage, RequestContent,
};
use crate::pipeline::envelope::{self, DecryptOptions, EnvelopeKey};
use crate::pipeline::signed;
use crate::types::{MessageType, Nonce, TransactionId};

/// The CA key of the sealed vectors: the recipient of their requests.
const CA_KEY_PEM: &str = include_str!("../../test-vectors/sealed/ca.key.pem");
/// The CA certificate of the sealed vectors: the signer of their CertReps.
const CA_CERT_PEM: &str = include_str!("../../test-vectors/sealed/ca.pem");
/// The RSA client key of the sealed vectors: the recipient of `certrep-success-rsa.der`.
const CLIENT_KEY_PEM: &str = include_str!("../../test-vectors/sealed/client-rsa.key.pem");
/// The RSA client's certificate.
const CLIENT_CERT_PEM: &str = include_str!("../../test-vectors/sealed/client-rsa.pem");
/// The challenge password of the sealed vectors, which also opens the PWRI CertRep.
const CHALLENGE: &[u8] = b"vector-challenge";
/// The transaction ID the CertRep client expects (that of the sealed RSA PKCSReq).
const TRANSACTION_ID: &str = "VECTOR-PKCSREQ-RSA";
/// PBKDF2 iteration cap while fuzzing. The default limit (1 000 000) lets one input cost
/// about a second, which would make the fuzzer spend its time in PBKDF2; the check of the
/// limit itself is still exercised by anything above this.
const FUZZ_MAX_PBKDF2_ITERATIONS: u32 = 10_000;

/// The fixed keys and certificates, parsed once.
struct Fixture {
    ca_key: rsa::PrivateKey,
    ca_cert: Certificate,
    client_key: rsa::PrivateKey,
    client_cert: Certificate,
    transaction_id: TransactionId,
    nonce: Nonce,
}

/// The fixture, or `None` if the embedded files do not parse (then the entry points that
/// need it do nothing; a unit test checks that they do parse).
fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            use rsa::pkcs8::DecodePrivateKey;
            Some(Fixture {
                ca_key: rsa::PrivateKey::from_pkcs8_pem(CA_KEY_PEM).ok()?,
                ca_cert: Certificate::from_pem(CA_CERT_PEM).ok()?,
                client_key: rsa::PrivateKey::from_pkcs8_pem(CLIENT_KEY_PEM).ok()?,
                client_cert: Certificate::from_pem(CLIENT_CERT_PEM).ok()?,
                transaction_id: TransactionId::new(TRANSACTION_ID).ok()?,
                nonce: Nonce::from_bytes(&[0x5c; Nonce::LEN]).ok()?,
            })
        })
        .as_ref()
}

/// Decryption options while fuzzing: single DES allowed (so its decoders are reached) and
/// PBKDF2 capped at [`FUZZ_MAX_PBKDF2_ITERATIONS`].
fn decrypt_options() -> DecryptOptions {
    let mut options = DecryptOptions::insecure_allow_single_des();
    options.limits.max_pbkdf2_iterations = FUZZ_MAX_PBKDF2_ITERATIONS;
    options
}

/// How far an input got, for the unit tests (the fuzz targets ignore it).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Trace {
    /// The outer structure decoded.
    decoded: bool,
    /// The signature verified.
    verified: bool,
    /// An envelope decrypted.
    decrypted: bool,
    /// A typed payload decoded.
    payload: bool,
    /// Round-trip checks that ran (and held).
    round_trips: u32,
}

impl Trace {
    fn round_trip(&mut self) {
        self.round_trips = self.round_trips.saturating_add(1);
    }
}

/// The oracle of the round-trip checks: a value that does not survive encoding and
/// decoding is a bug, and a panic is how a fuzz target reports one. This is the only
/// place in the module that panics.
#[cfg_attr(not(test), expect(clippy::panic))]
#[track_caller]
fn oracle<T: PartialEq + Debug + ?Sized>(what: &str, before: &T, after: &T) {
    if before != after {
        panic!("round trip changed the {what}:\n before: {before:?}\n  after: {after:?}");
    }
}

/// The oracle for an encoding that its own decoder refuses.
#[cfg_attr(not(test), expect(clippy::panic))]
#[track_caller]
fn oracle_refused(what: &str, err: &crate::Error) {
    panic!("the {what} this crate encoded does not decode again: {err}");
}

/// Values keyed by their DER encoding, sorted and without duplicates: what a SET OF keeps
/// of a list. `None` when one of them cannot be encoded.
fn as_set<T: Encode + Clone>(items: &[T]) -> Option<Vec<(Vec<u8>, T)>> {
    let mut keyed = items
        .iter()
        .map(|i| i.to_der().ok().map(|d| (d, i.clone())))
        .collect::<Option<Vec<_>>>()?;
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|a, b| a.0 == b.0);
    Some(keyed)
}

/// Certificates and CRLs → certs-only SignedData → decode: the same sets.
fn certs_round_trip(
    certificates: &[Certificate],
    crls: &[CertificateList],
    limits: &Limits,
    t: &mut Trace,
) {
    let Ok(der) = signed::certs_only(certificates, crls) else {
        return;
    };
    if der.len() > limits.max_message_size {
        return;
    }
    match signed::parse_certs_only(&der, limits) {
        Ok((c, l)) => {
            oracle("certificates", &as_set(certificates), &as_set(&c));
            oracle("CRLs", &as_set(crls), &as_set(&l));
            t.round_trip();
        }
        Err(e) => oracle_refused("certs-only SignedData", &e),
    }
}

/// A request payload → DER → decode: the same payload.
fn request_round_trip(content: &RequestContent, limits: &Limits, t: &mut Trace) {
    let Ok(der) = content.to_der() else {
        return;
    };
    match RequestContent::from_der(content.message_type(), &der, limits) {
        Ok(again) => {
            oracle("request payload", content, &again);
            t.round_trip();
        }
        Err(e) => oracle_refused("request payload", &e),
    }
}

/// SCEP attributes → CMS attributes → decode: the same attributes.
fn attributes_round_trip(attributes: &ScepAttributes, t: &mut Trace) {
    let Ok(encoded) = attributes.to_attributes() else {
        return;
    };
    match ScepAttributes::from_attributes(encoded.iter()) {
        Ok(again) => {
            oracle("SCEP attributes", attributes, &again);
            t.round_trip();
        }
        Err(e) => oracle_refused("SCEP attributes", &e),
    }
}

/// A certificate → DER → decode: the same certificate.
fn certificate_round_trip(certificate: &Certificate, t: &mut Trace) {
    let Ok(der) = certificate.to_der() else {
        return;
    };
    match Certificate::from_der(&der) {
        Ok(again) => {
            oracle("certificate", certificate, &again);
            t.round_trip();
        }
        Err(e) => oracle_refused(
            "certificate",
            &crate::Error::decode(Element::Certificate, e),
        ),
    }
}

/// Decodes a decrypted payload the way the message type says: a request's payload, or
/// (CertRep) a certs-only SignedData.
fn decode_payload(message_type: MessageType, plaintext: &[u8], limits: &Limits, t: &mut Trace) {
    if message_type.is_request() {
        if let Ok(content) = RequestContent::from_der(message_type, plaintext, limits) {
            t.payload = true;
            request_round_trip(&content, limits, t);
        }
    } else if let Ok((certificates, crls)) = signed::parse_certs_only(plaintext, limits) {
        t.payload = true;
        certs_round_trip(&certificates, &crls, limits, t);
    }
}

/// The typed content of a CertRep, re-encoded where it carries certificates.
fn cert_rep_round_trip(content: &CertRepContent, limits: &Limits, t: &mut Trace) {
    if let CertRepContent::Success { certificates, crls } = content {
        certs_round_trip(certificates, crls, limits, t);
    }
}

/// The open path of a received pkiMessage without keys: BER normalisation, SignedData and
/// attribute decoding, envelope inspection, signer lookup and signature verification
/// (the `open` target).
pub fn open_pki_message(data: &[u8]) {
    let limits = Limits::default();
    if let Ok(msg) = PkiMessage::decode(data, &limits) {
        let _ = msg.envelope_info();
        let _ = msg.signer_certificate(&[]);
        let _ = msg.verify(&[]);
    }
}

/// The outer pkiMessage (the `pki_message` target): [`PkiMessage::decode`] and its
/// attributes, no cryptography. Checks that the SCEP attributes and the carried
/// certificates survive encoding and decoding.
pub fn pki_message(data: &[u8]) {
    pki_message_trace(data);
}

fn pki_message_trace(data: &[u8]) -> Trace {
    let mut t = Trace::default();
    let Ok(msg) = PkiMessage::decode(data, &Limits::default()) else {
        return t;
    };
    t.decoded = true;
    let _ = msg.message_type().name();
    let _ = msg.attributes().random_nonce();
    let _ = msg.attributes().signing_time();
    let _ = msg.signer_certificate(&[]);
    attributes_round_trip(msg.attributes(), &mut t);
    for certificate in msg.certificates() {
        certificate_round_trip(certificate, &mut t);
    }
    t
}

/// The server's full open path with a fixed CA key (the `open_with_key` target): decode,
/// decrypt with the CA key of `test-vectors/sealed/` (trying every key-transport
/// recipient) and decode the typed payload (a request's payload, or a CertRep's
/// certs-only SignedData); then verify and go through
/// [`VerifiedMessage::request`](crate::message::VerifiedMessage::request) or
/// [`VerifiedMessage::cert_rep`](crate::message::VerifiedMessage::cert_rep).
///
/// The envelope is decrypted before and regardless of verification: a mutated envelope
/// breaks the messageDigest, and the fuzzer should still reach the envelope and payload
/// decoders behind it. Single DES is allowed so that its decoders are reached too.
pub fn open_with_key(data: &[u8]) {
    open_with_key_trace(data);
}

fn open_with_key_trace(data: &[u8]) -> Trace {
    let mut t = Trace::default();
    let Some(fx) = fixture() else {
        return t;
    };
    let options = decrypt_options();
    let Ok(msg) = PkiMessage::decode(data, &options.limits) else {
        return t;
    };
    t.decoded = true;
    let _ = msg.envelope_info();
    let message_type = msg.message_type();
    let key = EnvelopeKey::Key {
        key: &fx.ca_key,
        certificate: None,
    };
    if let Some(env) = msg.envelope()
        && let Ok(decrypted) = envelope::open(env, key, &options)
    {
        t.decrypted = true;
        decode_payload(message_type, &decrypted.plaintext, &options.limits, &mut t);
    }

    let Ok(verified) = msg.verify(core::slice::from_ref(&fx.ca_cert)) else {
        return t;
    };
    t.verified = true;
    if message_type.is_request() {
        if let Ok((content, _cipher)) = verified.request(key, &options) {
            t.payload = true;
            request_round_trip(&content, &options.limits, &mut t);
        }
    } else if let Ok(content) = verified.cert_rep(key, &options) {
        t.payload = true;
        cert_rep_round_trip(&content, &options.limits, &mut t);
    }
    t
}

/// CertRep handling in the client role (the `cert_rep_client` target): decode, verify
/// against the CA certificate of `test-vectors/sealed/`, check the reply against a fixed
/// transaction ID and nonce (the result is ignored), then read the CertRep with the RSA
/// client's key and with the challenge password (PWRI). As in [`open_with_key`], the
/// envelope is also decrypted without verification so that mutations reach its decoders.
pub fn cert_rep_client(data: &[u8]) {
    cert_rep_client_trace(data);
}

fn cert_rep_client_trace(data: &[u8]) -> Trace {
    let mut t = Trace::default();
    let Some(fx) = fixture() else {
        return t;
    };
    let options = decrypt_options();
    let Ok(msg) = PkiMessage::decode(data, &options.limits) else {
        return t;
    };
    t.decoded = true;
    let keys = [
        EnvelopeKey::Key {
            key: &fx.client_key,
            certificate: Some(&fx.client_cert),
        },
        EnvelopeKey::Password(CHALLENGE),
    ];
    if let Some(env) = msg.envelope() {
        for key in keys {
            if let Ok(decrypted) = envelope::open(env, key, &options) {
                t.decrypted = true;
                decode_payload(
                    MessageType::CertRep,
                    &decrypted.plaintext,
                    &options.limits,
                    &mut t,
                );
            }
        }
    }

    let Ok(verified) = msg.verify(core::slice::from_ref(&fx.ca_cert)) else {
        return t;
    };
    t.verified = true;
    let _ = verified.check_reply(&fx.transaction_id, &fx.nonce, false);
    let _ = verified.check_reply(&fx.transaction_id, &fx.nonce, true);
    for key in keys {
        if let Ok(content) = verified.cert_rep(key, &options) {
            t.payload = true;
            cert_rep_round_trip(&content, &options.limits, &mut t);
        }
    }
    t
}

/// GetCACert and GetNextCACert responses (the `ca_certs` target):
/// [`CaCertificates::parse`] with no declared form and with each of the two GetCACert
/// forms, and [`NextCaCertificates::open`] against the sealed CA certificate.
/// A parsed list is sent again with [`CaCertificates::to_response`] and parsed again: the
/// same certificates (as a set when there are several: a certs-only SignedData is a SET).
/// The certificates then go through the client's trust decisions ([`CaInfo::new`]):
/// pinned to the sealed CA and to the answer's first certificate, without a pin, with
/// each [`RaTrust`], naming the last certificate as the issuing CA or not, at a time
/// inside the sealed CA's validity.
pub fn ca_certs(data: &[u8]) {
    ca_certs_trace(data);
}

fn ca_certs_trace(data: &[u8]) -> Trace {
    let mut t = Trace::default();
    let limits = Limits::default();
    for form in [None, Some(CaCertForm::Certificate), Some(CaCertForm::Chain)] {
        let Ok(parsed) = CaCertificates::parse(form, data, &limits) else {
            continue;
        };
        t.decoded = true;
        if let (None, Some(fx)) = (form, fixture()) {
            trust_decisions(fx, &parsed.certificates, &mut t);
        }
        let Ok((form, body)) = parsed.to_response() else {
            continue;
        };
        match CaCertificates::parse(Some(form), &body, &limits) {
            Ok(again) => {
                oracle(
                    "GetCACert certificates",
                    &as_set(&parsed.certificates),
                    &as_set(&again.certificates),
                );
                t.round_trip();
            }
            Err(e) => oracle_refused("GetCACert response", &e),
        }
    }
    if let Some(fx) = fixture() {
        let trusted = core::slice::from_ref(&fx.ca_cert);
        if let Ok(next) = NextCaCertificates::open(data, trusted, &limits) {
            t.verified = true;
            t.payload = !next.certificates.is_empty();
        }
        // The lenient reading (jscep's form) must not panic either.
        let _ = NextCaCertificates::open_lenient(
            data,
            trusted,
            &limits,
            &crate::pipeline::DigestAlgorithm::ALL,
        );
    }
    t
}

/// [`CaInfo::new`] over `certificates` under several pins and RA policies.
fn trust_decisions(fx: &Fixture, certificates: &[Certificate], t: &mut Trace) {
    let now = fx
        .ca_cert
        .tbs_certificate()
        .validity()
        .not_before
        .to_system_time()
        .checked_add(std::time::Duration::from_secs(86400))
        .unwrap_or(std::time::UNIX_EPOCH);
    let first = certificates
        .first()
        .and_then(|c| Fingerprint::sha256(c).ok());
    let pins = [Fingerprint::sha256(&fx.ca_cert).ok(), first.clone(), None];
    for pin in pins {
        for ra_trust in [
            RaTrust::None,
            RaTrust::Marked,
            RaTrust::Pinned(first.iter().cloned().collect()),
        ] {
            let mut config = ClientConfig::new("/scep");
            config.ca_pin = pin.clone();
            config.ra_trust = ra_trust;
            // Half the time, the answer's last certificate named as the issuing CA.
            config.issuing_ca = certificates
                .last()
                .filter(|_| certificates.len().is_multiple_of(2))
                .and_then(|c| Fingerprint::sha256(c).ok());
            if let Ok(info) = CaInfo::new(
                Capabilities::scep_standard(),
                certificates.to_vec(),
                &config,
                now,
            ) {
                t.verified = true;
                // What the trust decision gave is among the certificates it was given.
                let given = |c: &Certificate| certificates.contains(c);
                if !(given(&info.ca) && given(&info.recipient) && info.signers.iter().all(given)) {
                    oracle("trusted certificates", "among the answer", "not among it");
                }
            }
        }
    }
}

/// A GetCACaps response body (the `caps` target): [`Capabilities::from_bytes`]; the
/// canonical text ([`Capabilities::format`]) parses back to the same capabilities, known
/// and unknown keywords alike; [`negotiate`] with the default policy (result ignored).
pub fn caps(data: &[u8]) {
    caps_trace(data);
}

fn caps_trace(data: &[u8]) -> Trace {
    let mut t = Trace::default();
    let Ok(caps) = Capabilities::from_bytes(data) else {
        return t;
    };
    t.decoded = true;
    let text = caps.format();
    match Capabilities::parse(&text) {
        Ok(again) => {
            oracle("capabilities", &caps, &again);
            t.round_trip();
        }
        Err(e) => oracle_refused("GetCACaps text", &e),
    }
    let _ = negotiate(&caps, &Policy::default());
    t
}

/// Splits a fuzz input into what [`http::parse_request`] takes: the first octet selects
/// the method (`GET`, `POST`, `PUT` or `get`, by its value modulo 4), the next two give
/// the query length (big-endian, cut to what is there), then the query (as UTF-8, invalid
/// sequences replaced) and the rest is the body. `fuzz/seed.sh` writes seeds this way.
pub fn split_http_input(data: &[u8]) -> (&'static str, String, &[u8]) {
    let (selector, rest) = data.split_first().map_or((0, data), |(s, r)| (*s, r));
    let method = match selector % 4 {
        0 => "GET",
        1 => "POST",
        2 => "PUT",
        _ => "get",
    };
    let (len, rest) = match rest.split_first_chunk::<2>() {
        Some((len, rest)) => (usize::from(u16::from_be_bytes(*len)), rest),
        None => (0, &[][..]),
    };
    let (query, body) = rest.split_at_checked(len).unwrap_or((rest, &[]));
    (method, String::from_utf8_lossy(query).into_owned(), body)
}

/// The server's HTTP request parsing (the `http_request` target): the input is split by
/// [`split_http_input`] and given to [`http::parse_request`] with the default limits. An
/// operation parsed is built again with [`HttpRequest::new`] (by GET, and also by POST for
/// a PKIOperation whose message starts with a SEQUENCE tag, the only POST body that is not
/// taken for base64) and parsed again: the same operation.
pub fn http_request(data: &[u8]) {
    http_request_trace(data);
}

fn http_request_trace(data: &[u8]) -> Trace {
    let mut t = Trace::default();
    let limits = ServerLimits::default();
    let (method, query, body) = split_http_input(data);
    let Ok(op) = http::parse_request(method, &query, body, &limits) else {
        return t;
    };
    t.decoded = true;
    let post = matches!(&op, Operation::PkiOperation { message } if message.first() == Some(&0x30));
    let methods: &[Method] = if post {
        &[Method::Get, Method::Post]
    } else {
        &[Method::Get]
    };
    for &method in methods {
        let Ok(request) = HttpRequest::new(http::DEFAULT_SCEP_PATH, &op, method) else {
            continue;
        };
        let query = request.query.as_str();
        match http::parse_request(method.as_str(), query, &request.body, &limits) {
            Ok(again) => {
                oracle("SCEP operation", &op, &again);
                t.round_trip();
            }
            Err(e) => oracle_refused("HTTP request", &e),
        }
    }
    t
}

/// A PKCS #10 request (the `csr` target): [`CertReq`] decoded from DER, then
/// [`crate::csr::inspect`] and [`crate::csr::verify`], and the request re-encoded decodes
/// to the same value. The same bytes also go through
/// [`RequestContent::from_der`] as the payload of a PKCSReq (BER accepted, CSR size limit),
/// of a CertPoll and of a GetCert, each round-tripped.
pub fn csr(data: &[u8]) {
    csr_trace(data);
}

fn csr_trace(data: &[u8]) -> Trace {
    let mut t = Trace::default();
    let limits = Limits::default();
    if let Ok(csr) = CertReq::from_der(data) {
        t.decoded = true;
        let _ = crate::csr::inspect(&csr);
        t.verified = crate::csr::verify(&csr).is_ok();
        if let Ok(der) = csr.to_der() {
            match CertReq::from_der(&der) {
                Ok(again) => {
                    oracle("PKCS #10 request", &csr, &again);
                    t.round_trip();
                }
                Err(e) => oracle_refused(
                    "PKCS #10 request",
                    &crate::Error::decode(Element::CertificationRequest, e),
                ),
            }
        }
    }
    for message_type in [
        MessageType::PkcsReq,
        MessageType::CertPoll,
        MessageType::GetCert,
    ] {
        if let Ok(content) = RequestContent::from_der(message_type, data, &limits) {
            t.payload = true;
            if let RequestContent::PkcsReq(csr) = &content {
                let _ = crate::csr::inspect(csr);
            }
            request_round_trip(&content, &limits, &mut t);
        }
    }
    t
}

/// The BER-to-DER normaliser (the `ber` target): on success the output is valid input
/// again and normalising it changes nothing (`to_der(to_der(x)) == to_der(x)`).
pub fn ber(data: &[u8]) {
    ber_trace(data);
}

fn ber_trace(data: &[u8]) -> Trace {
    let mut t = Trace::default();
    let limits = Limits::default();
    let Ok(der) = crate::ber::to_der(data, &limits) else {
        return t;
    };
    t.decoded = true;
    // Definite lengths can take an octet more than an indefinite one for long contents, so
    // input just under the size limit may normalise to just over it.
    if der.len() > limits.max_message_size {
        return t;
    }
    match crate::ber::to_der(&der, &limits) {
        Ok(again) => {
            oracle("DER encoding", der.as_slice(), again.as_slice());
            t.round_trip();
        }
        Err(e) => oracle_refused("DER encoding", &e),
    }
    t
}

/// An envelope on its own (the `pwri` target): [`envelope::inspect`], then
/// [`envelope::open`] with the sealed vectors' challenge password, which goes through the
/// PasswordRecipientInfo unwrap (PBKDF2, id-alg-PWRI-KEK); a decrypted payload is read as
/// the certs-only SignedData of a CertRep.
pub fn pwri(data: &[u8]) {
    pwri_trace(data);
}

fn pwri_trace(data: &[u8]) -> Trace {
    let mut t = Trace::default();
    let options = decrypt_options();
    if let Ok(info) = envelope::inspect(data, &options.limits) {
        t.decoded = true;
        let _ = info.cipher.map(|c| c.key_len());
    }
    if let Ok(decrypted) = envelope::open(data, EnvelopeKey::Password(CHALLENGE), &options) {
        t.decrypted = true;
        decode_payload(
            MessageType::CertRep,
            &decrypted.plaintext,
            &options.limits,
            &mut t,
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn sealed_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-vectors/sealed")
    }

    fn sealed(name: &str) -> Vec<u8> {
        std::fs::read(sealed_dir().join(name)).unwrap()
    }

    /// Every file of `test-vectors/sealed/` (keys and certificates too: they are garbage
    /// to most entry points), with its name.
    fn sealed_files() -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(sealed_dir())
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&path).unwrap())
            })
            .collect();
        files.sort();
        assert!(files.len() >= 17, "test-vectors/sealed/ is incomplete");
        files
    }

    fn garbage() -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x30],
            vec![0x30, 0x80],
            vec![0x30, 0x80, 0, 0],
            vec![0xff; 64],
            vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            vec![0x24, 0x80, 0x04, 0x01, 0xAA, 0x00, 0x00],
            b"operation=GetCACaps".to_vec(),
            "\u{feff}AES\r\nsha-256\n\n x-vendor \n".as_bytes().to_vec(),
            vec![0xA0, 0x80, 0x30, 0x80],
        ];
        out.push([0x30, 0x80].repeat(200));
        out
    }

    /// A fuzz target's name and entry point.
    type EntryPoint = (&'static str, fn(&[u8]));

    const ENTRY_POINTS: [EntryPoint; 10] = [
        ("open_pki_message", open_pki_message),
        ("pki_message", pki_message),
        ("open_with_key", open_with_key),
        ("cert_rep_client", cert_rep_client),
        ("ca_certs", ca_certs),
        ("caps", caps),
        ("http_request", http_request),
        ("csr", csr),
        ("ber", ber),
        ("pwri", pwri),
    ];

    #[test]
    fn every_entry_point_takes_every_sealed_file_and_garbage() {
        let inputs: Vec<Vec<u8>> = sealed_files()
            .into_iter()
            .map(|(_, b)| b)
            .chain(garbage())
            .collect();
        for (name, entry) in ENTRY_POINTS {
            for input in &inputs {
                // A panic here fails the test and names nothing; say which.
                let r = std::panic::catch_unwind(|| entry(input));
                assert!(
                    r.is_ok(),
                    "{name} panicked on {:02x?}",
                    &input[..input.len().min(32)]
                );
            }
        }
    }

    #[test]
    fn the_embedded_keys_parse() {
        let fx = fixture().expect("the embedded test keys parse");
        assert_eq!(fx.transaction_id.as_str(), TRANSACTION_ID);
    }

    #[test]
    fn requests_are_opened_down_to_the_payload() {
        for name in [
            "pkcsreq-rsa-aes256-sha256.der",
            "pkcsreq-ec-aes128-sha256.der",
            "certpoll-rsa-des3-sha1.der",
            "getcert-rsa-aes192-sha512.der",
            "getcrl-ec-aes256-sha384.der",
        ] {
            let t = open_with_key_trace(&sealed(name));
            assert!(
                t.decoded && t.verified && t.decrypted && t.payload,
                "{name}: {t:?}"
            );
            // Attributes are not checked here; the payload twice (unverified and verified).
            assert_eq!(t.round_trips, 2, "{name}: {t:?}");
        }
        // A CertRep is not for the CA's key: verified, but nothing decrypts...
        let t = open_with_key_trace(&sealed("certrep-success-rsa.der"));
        assert!(
            t.decoded && t.verified && !t.decrypted && !t.payload,
            "{t:?}"
        );
        // ...unless there is nothing to decrypt.
        let t = open_with_key_trace(&sealed("certrep-pending.der"));
        assert!(t.verified && !t.decrypted && t.payload, "{t:?}");
    }

    #[test]
    fn cert_reps_are_read_with_the_client_key_and_the_password() {
        for name in ["certrep-success-rsa.der", "certrep-success-ec-pwri.der"] {
            let t = cert_rep_client_trace(&sealed(name));
            assert!(
                t.decoded && t.verified && t.decrypted && t.payload,
                "{name}: {t:?}"
            );
            assert_eq!(t.round_trips, 2, "{name}: {t:?}");
        }
        for name in ["certrep-failure.der", "certrep-pending.der"] {
            let t = cert_rep_client_trace(&sealed(name));
            assert!(t.verified && !t.decrypted && t.payload, "{name}: {t:?}");
        }
        let t = cert_rep_client_trace(&sealed("pkcsreq-rsa-aes256-sha256.der"));
        assert!(t.verified && !t.payload, "a request is no CertRep: {t:?}");
    }

    #[test]
    fn pki_message_checks_attributes_and_certificates() {
        let t = pki_message_trace(&sealed("certrep-success-rsa.der"));
        assert!(t.decoded && t.round_trips >= 2, "{t:?}");
        assert!(!pki_message_trace(&sealed("getcacert-chain.der")).decoded);
    }

    #[test]
    fn ca_certs_round_trip_both_forms() {
        let single = ca_certs_trace(&sealed("getcacert-single.der"));
        // No content type and x509-ca-cert; x509-ca-ra-cert refuses a bare certificate.
        assert_eq!((single.decoded, single.round_trips), (true, 2));
        let chain = ca_certs_trace(&sealed("getcacert-chain.der"));
        assert_eq!((chain.decoded, chain.round_trips), (true, 2));
        assert!(!ca_certs_trace(b"not a certificate").decoded);
    }

    #[test]
    fn caps_round_trip() {
        let t = caps_trace(b"AES\r\nsha-256\n\n x-vendor \nSCEPStandard");
        assert_eq!((t.decoded, t.round_trips), (true, 1));
        assert!(!caps_trace(&[0xff, 0xfe]).decoded, "not UTF-8");
    }

    #[test]
    fn http_inputs_split_and_round_trip() {
        let mut input = vec![0u8, 0, 19];
        input.extend_from_slice(b"operation=GetCACert");
        assert_eq!(
            split_http_input(&input),
            ("GET", "operation=GetCACert".to_owned(), &[][..])
        );
        assert_eq!(http_request_trace(&input).round_trips, 1);

        let message = sealed("pkcsreq-rsa-aes256-sha256.der");
        let mut post = vec![1u8, 0, 22];
        post.extend_from_slice(b"operation=PKIOperation");
        post.extend_from_slice(&message);
        let (method, query, body) = split_http_input(&post);
        assert_eq!(
            (method, query.as_str(), body),
            ("POST", "operation=PKIOperation", &message[..])
        );
        // Sent again by GET and by POST.
        assert_eq!(http_request_trace(&post).round_trips, 2);
        assert_eq!(split_http_input(&[]), ("GET", String::new(), &[][..]));
        assert_eq!(
            split_http_input(&[6, 0xff, 0xff, b'a']),
            ("PUT", "a".to_owned(), &[][..])
        );
    }

    /// The CSR inside the sealed RSA PKCSReq, decrypted with the CA key.
    fn sealed_csr() -> Vec<u8> {
        let fx = fixture().unwrap();
        let msg = PkiMessage::decode(&sealed("pkcsreq-rsa-aes256-sha256.der"), &Limits::default())
            .unwrap();
        let key = EnvelopeKey::Key {
            key: &fx.ca_key,
            certificate: Some(&fx.ca_cert),
        };
        envelope::open(msg.envelope().unwrap(), key, &DecryptOptions::default())
            .unwrap()
            .plaintext
    }

    #[test]
    fn csr_decodes_verifies_and_round_trips() {
        let t = csr_trace(&sealed_csr());
        assert!(t.decoded && t.verified && t.payload, "{t:?}");
        // CertReq itself, and as a PKCSReq payload.
        assert_eq!(t.round_trips, 2);
    }

    #[test]
    fn ber_normalises_to_a_fixed_point() {
        let t = ber_trace(&[
            0x30, 0x80, 0x24, 0x80, 0x04, 0x01, 0xAA, 0x00, 0x00, 0x00, 0x00,
        ]);
        assert_eq!((t.decoded, t.round_trips), (true, 1));
        for (name, bytes) in sealed_files() {
            if name.ends_with(".der") {
                assert_eq!(ber_trace(&bytes).round_trips, 1, "{name}");
            }
        }
    }

    #[test]
    fn pwri_opens_the_password_envelope() {
        let msg =
            PkiMessage::decode(&sealed("certrep-success-ec-pwri.der"), &Limits::default()).unwrap();
        let t = pwri_trace(msg.envelope().unwrap());
        assert!(t.decoded && t.decrypted && t.payload, "{t:?}");
        assert_eq!(t.round_trips, 1);
        // A key-transport envelope is inspected but does not open with a password.
        let msg =
            PkiMessage::decode(&sealed("certrep-success-rsa.der"), &Limits::default()).unwrap();
        let t = pwri_trace(msg.envelope().unwrap());
        assert!(t.decoded && !t.decrypted, "{t:?}");
    }

    #[test]
    #[should_panic(expected = "round trip changed the x")]
    fn the_oracle_panics_on_a_difference() {
        oracle("x", &1, &2);
    }
}
