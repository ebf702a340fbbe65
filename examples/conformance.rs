//! A conformance probe for any SCEP server: what RFC 8894 asks of a CA, checked over HTTP,
//! one row per check, each naming its section and whether the RFC says MUST, SHOULD or
//! MAY.
//!
//! ```text
//! conformance URL [--challenge PW] [--pin SHA256] [--ecdsa] [--json | --json-out FILE]
//!                 [--poll-interval SECS] [--max-polls N]
//! ```
//!
//! URL is the SCEP URL (`http://127.0.0.1:8080/scep`). `--challenge` is the enrolment
//! password (without one, only the checks that need no certificate run, and a wrong
//! challenge is still tried); `--pin` the SHA-256 fingerprint (hex) of the CA or root that
//! GetCACert must return (without it the first answer is believed); `--ecdsa` enrols with
//! P-256 keys (the CA then encrypts to the challenge password); `--json` prints the rows
//! as JSON, one object a line, instead of the table, and `--json-out FILE` writes them
//! to FILE as well as printing the table (one probe, both forms). A PENDING answer is polled every
//! `--poll-interval` seconds (default 2), at most `--max-polls` times (default 5).
//!
//! What it does to the server: a GetCACaps, a GetCACert, an enrolment for every cipher
//! and digest the CA announces (by POST, and once by GET), each with a new key and a
//! subject `CN=scep-conformance-…`; the first one's request sent again (replay), then a
//! CertPoll for it (resync); a request with a broken signature; one with a wrong
//! challenge; one encrypted with single DES and one signed with MD5; GetCert for the
//! issued certificate, GetCRL, GetNextCACert. Every answer (CertRep) is checked for its
//! transaction ID, nonces, signer, digest and cipher. A server that refuses some of this
//! is a finding of the report, not an error of the tool.
//!
//! Results: `pass`, `FAIL` (the server does not do what the row asks), `n/a` (the check
//! does not apply: not announced, never PENDING, no certificate to ask for). Exit status 0
//! when no MUST row fails, 1 when one does, 2 on a usage error.

#[path = "../tests/common/craft.rs"]
mod craft;
#[path = "support/requester.rs"]
mod requester;

use core::str::FromStr;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use cms::content_info::CmsVersion;
use cms::enveloped_data::{KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo};
use der::asn1::{Any, OctetString};
use der::{Decode, Encode};
use scep::asn1::IssuerAndSerialNumber;
use scep::caps::{Capabilities, Capability};
use scep::cert::Identity;
use scep::client::{CaInfo, ClientConfig, Discovery, Fingerprint};
use scep::csr::CsrParams;
use scep::http::{HttpRequest, Method, Operation};
use scep::message::{
    CertRepContent, IssuerAndSubject, OutgoingRequest, PkiMessage, RequestContent, SealParams,
};
use scep::{
    Certificate, ContentCipher, DecryptOptions, DigestAlgorithm, FailInfo, Limits, MessageType,
    Nonce, Recipient, TransactionId,
};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;
use x509_cert::spki::AlgorithmIdentifierOwned;

use requester::{BoxError, Key, Transport, rng};

/// How strongly RFC 8894 (or RFC 5280 for the certificates) asks for what a row checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Must,
    Should,
    May,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    Fail,
    NotApplicable,
}

impl Verdict {
    fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::NotApplicable => "n/a",
        }
    }
    fn of(ok: bool) -> Self {
        if ok { Verdict::Pass } else { Verdict::Fail }
    }
}

/// One row of the report.
struct Row {
    id: String,
    section: &'static str,
    level: Level,
    what: String,
    verdict: Verdict,
    detail: String,
}

/// The facts of one CertRep, for the rows about every answer.
struct Facts {
    /// Which probe it answered.
    label: String,
    content_type: Option<String>,
    transaction_id_echoed: bool,
    /// `None`: no recipientNonce.
    recipient_nonce_echoed: Option<bool>,
    /// `None`: no senderNonce; `Some(true)`: the CA's own, `Some(false)`: ours echoed.
    sender_nonce_own: Option<bool>,
    /// The request's digest and the CertRep's.
    digests: (DigestAlgorithm, DigestAlgorithm),
    /// The CertRep envelope's cipher (`None`: no envelope).
    cipher: Option<String>,
    signed_by_ca: Result<(), String>,
}

/// What came back for a request.
enum Answer {
    /// Not HTTP 200: the status and the start of the body.
    Http(u16, String),
    /// HTTP 200 but not a CertRep for our request, with why.
    Unreadable(String),
    /// A CertRep for our request.
    Rep(CertRepContent),
}

impl Answer {
    fn describe(&self) -> String {
        match self {
            Answer::Http(status, body) if body.is_empty() => format!("HTTP {status}"),
            Answer::Http(status, body) => format!("HTTP {status} ({body})"),
            Answer::Unreadable(why) => format!("unreadable answer: {why}"),
            Answer::Rep(CertRepContent::Success { .. }) => "SUCCESS".into(),
            Answer::Rep(CertRepContent::Pending) => "PENDING".into(),
            Answer::Rep(CertRepContent::Failure {
                fail_info,
                fail_info_text,
            }) => format!(
                "FAILURE {}{}",
                fail_info.name(),
                fail_info_text
                    .as_ref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            ),
            Answer::Rep(_) => "another CertRep".into(),
        }
    }
    /// Issued something, or said it would: what a refused request must not get.
    fn accepted(&self) -> bool {
        matches!(
            self,
            Answer::Rep(CertRepContent::Success { .. } | CertRepContent::Pending)
        )
    }
}

/// A requester: a key, its self-signed certificate, its CSR and transaction.
struct Party {
    key: Key,
    certificate: Certificate,
    csr: scep::asn1::CertReq,
    transaction_id: TransactionId,
}

/// The algorithms and method of the requests that are not about them.
#[derive(Debug, Clone, Copy)]
struct Choice {
    cipher: ContentCipher,
    digest: DigestAlgorithm,
    post: bool,
}

/// The first enrolment: the base of replay, resync, GetCert and GetCRL.
struct First {
    party: Party,
    message: Vec<u8>,
    nonce: Nonce,
    issued: Option<Certificate>,
}

/// How an enrolment ended.
enum Enrolled {
    Issued(Box<Certificate>),
    /// Anything else: the last answer.
    Not(Answer),
}

struct Probe {
    transport: Transport,
    config: ClientConfig,
    info: CaInfo,
    challenge: Option<String>,
    ecdsa: bool,
    poll_interval: Duration,
    max_polls: u32,
    /// Every enrolment that got a PENDING: (label, how it ended).
    pendings: Vec<(String, String)>,
    facts: Vec<Facts>,
    serial: u32,
}

impl Probe {
    fn send(&self, req: &HttpRequest) -> Result<(u16, Option<String>, Vec<u8>), String> {
        self.transport.send(req).map_err(|e| e.to_string())
    }

    fn party(&mut self, challenge: Option<&str>) -> Result<Party, BoxError> {
        self.serial += 1;
        let subject = Name::from_str(&format!(
            "CN=scep-conformance-{}-{},O=scep conformance",
            std::process::id(),
            self.serial
        ))?;
        let key = Key::generate(self.ecdsa)?;
        let identity = Identity::self_signed(
            key.shared(),
            &subject,
            SystemTime::now(),
            Duration::from_secs(86400),
            &mut rng(),
        )?;
        let certificate = identity.certificate().clone();
        let mut params = CsrParams::new(subject);
        params.challenge_password = challenge.map(str::to_owned);
        let csr = params.build(key.signer())?;
        let transaction_id = TransactionId::from_public_key(&csr.info.public_key.to_der()?);
        Ok(Party {
            key,
            certificate,
            csr,
            transaction_id,
        })
    }

    fn http(&self, message: Vec<u8>, post: bool) -> Result<HttpRequest, BoxError> {
        let method = if post { Method::Post } else { Method::Get };
        Ok(HttpRequest::new(
            &self.config.scep_path,
            &Operation::PkiOperation { message },
            method,
        )?)
    }

    /// Seals `content` from `party` with `cipher` and `digest`: the pkiMessage and its nonce.
    fn seal(
        &self,
        party: &Party,
        content: RequestContent,
        cipher: ContentCipher,
        digest: DigestAlgorithm,
    ) -> Result<(Vec<u8>, Nonce), BoxError> {
        let request = OutgoingRequest {
            transaction_id: party.transaction_id.clone(),
            sender_nonce: Nonce::generate(&mut rng()),
            content,
        };
        let mut params = SealParams::new(party.key.signer(), &party.certificate);
        params.cipher = cipher;
        params.digest = digest;
        let sealed = request.seal(
            &params,
            Recipient::Certificate(&self.info.recipient),
            &mut rng(),
        )?;
        Ok((sealed, request.sender_nonce))
    }

    /// Sends a pkiMessage and reads the answer as a CertRep to `party`'s request with
    /// `nonce`, recording its facts under `label`.
    fn exchange(
        &mut self,
        label: &str,
        party: &Party,
        message: Vec<u8>,
        nonce: &Nonce,
        digest: DigestAlgorithm,
        post: bool,
    ) -> Answer {
        let req = match self.http(message, post) {
            Ok(r) => r,
            Err(e) => return Answer::Unreadable(format!("cannot send: {e}")),
        };
        let (status, content_type, body) = match self.send(&req) {
            Ok(r) => r,
            Err(e) => return Answer::Unreadable(format!("no answer: {e}")),
        };
        if status != 200 {
            let text: String = String::from_utf8_lossy(&body)
                .chars()
                .take(60)
                .filter(|c| !c.is_control())
                .collect();
            return Answer::Http(status, text.trim().to_owned());
        }
        let msg = match PkiMessage::decode(&body, &Limits::default()) {
            Ok(m) => m,
            Err(e) => return Answer::Unreadable(format!("not a pkiMessage: {e}")),
        };
        let a = msg.attributes();
        let cipher = msg.envelope_info().map(|info| match info {
            Ok(info) => match info.cipher {
                Ok(c) => c.name().to_owned(),
                Err(e) => format!("unusable: {e}"),
            },
            Err(e) => format!("unreadable envelope: {e}"),
        });
        let mut facts = Facts {
            label: label.to_owned(),
            content_type: content_type.clone(),
            transaction_id_echoed: a.transaction_id == party.transaction_id,
            recipient_nonce_echoed: a.recipient_nonce.as_ref().map(|n| n == nonce),
            sender_nonce_own: a.sender_nonce.as_ref().map(|n| n != nonce),
            digests: (digest, msg.digest_algorithm()),
            cipher,
            signed_by_ca: Ok(()),
        };
        let verified = match msg.verify(&self.info.signers) {
            Ok(v) if self.info.signers.contains(v.signer()) => v,
            Ok(v) => {
                let why = format!(
                    "signed by {}, not by the CA or an RA of GetCACert",
                    v.signer().tbs_certificate().subject()
                );
                facts.signed_by_ca = Err(why.clone());
                self.facts.push(facts);
                return Answer::Unreadable(why);
            }
            Err(e) => {
                facts.signed_by_ca = Err(e.to_string());
                self.facts.push(facts);
                return Answer::Unreadable(format!("signature: {e}"));
            }
        };
        self.facts.push(facts);
        if let Err(e) = verified.check_reply(&party.transaction_id, nonce, false) {
            return Answer::Unreadable(e.to_string());
        }
        let mut options = DecryptOptions::default();
        // Read, so that the report can say so (a row fails on it).
        options.allow_insecure_single_des = true;
        let key = party.key.envelope_key(self.challenge.as_deref());
        match verified.cert_rep(key, &options) {
            Ok(content) => Answer::Rep(content),
            Err(e) => Answer::Unreadable(e.to_string()),
        }
    }

    /// The certificate for `party`'s key, issued by the CA, among `certificates`.
    fn ours(&self, party: &Party, certificates: &[Certificate]) -> Option<Certificate> {
        let ca = self.info.ca.tbs_certificate();
        certificates
            .iter()
            .find(|c| {
                c.tbs_certificate().subject_public_key_info() == &party.csr.info.public_key
                    && c.tbs_certificate().issuer() == ca.subject()
                    && scep::cert::verify_issued_by(c, ca.subject_public_key_info()).is_ok()
            })
            .cloned()
    }

    /// Follows an answer to its end: polls a PENDING with CertPoll.
    fn conclude(
        &mut self,
        label: &str,
        party: &Party,
        mut answer: Answer,
        cipher: ContentCipher,
        digest: DigestAlgorithm,
        post: bool,
    ) -> Enrolled {
        let mut polls = 0;
        while matches!(answer, Answer::Rep(CertRepContent::Pending)) && polls < self.max_polls {
            polls += 1;
            std::thread::sleep(self.poll_interval);
            let poll = RequestContent::CertPoll(IssuerAndSubject {
                issuer: self.info.ca.tbs_certificate().subject().clone(),
                subject: party.csr.info.subject.clone(),
            });
            answer = match self.seal(party, poll, cipher, digest) {
                Ok((message, nonce)) => self.exchange(label, party, message, &nonce, digest, post),
                Err(e) => Answer::Unreadable(format!("cannot seal a CertPoll: {e}")),
            };
        }
        if polls > 0 {
            self.pendings.push((
                label.to_owned(),
                format!("{} after {polls} polls", answer.describe()),
            ));
        }
        match answer {
            Answer::Rep(CertRepContent::Success {
                ref certificates, ..
            }) => match self.ours(party, certificates) {
                Some(c) => Enrolled::Issued(Box::new(c)),
                None => Enrolled::Not(Answer::Unreadable(
                    "SUCCESS without a certificate for our key issued by the CA".into(),
                )),
            },
            other => Enrolled::Not(other),
        }
    }

    /// A PKCSReq with a new key: the party, the first request sent, and how it ended.
    fn enrol(
        &mut self,
        label: &str,
        challenge: Option<&str>,
        cipher: ContentCipher,
        digest: DigestAlgorithm,
        post: bool,
    ) -> Result<(Party, Vec<u8>, Nonce, Enrolled), BoxError> {
        let party = self.party(challenge)?;
        let (message, nonce) = self.seal(
            &party,
            RequestContent::PkcsReq(party.csr.clone()),
            cipher,
            digest,
        )?;
        let answer = self.exchange(label, &party, message.clone(), &nonce, digest, post);
        let end = self.conclude(label, &party, answer, cipher, digest, post);
        Ok((party, message, nonce, end))
    }
}

/// The report being written.
#[derive(Default)]
struct Report {
    rows: Vec<Row>,
}

impl Report {
    fn add(
        &mut self,
        id: impl Into<String>,
        section: &'static str,
        level: Level,
        what: impl Into<String>,
        verdict: Verdict,
        detail: impl Into<String>,
    ) {
        self.rows.push(Row {
            id: id.into(),
            section,
            level,
            what: what.into(),
            verdict,
            detail: detail.into(),
        });
    }

    fn must_failed(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.level == Level::Must && r.verdict == Verdict::Fail)
    }

    fn table(&self, url: &str) -> String {
        let mut out = format!("SCEP conformance of {url} (RFC 8894)\n\n");
        let w = self.rows.iter().map(|r| r.id.len()).max().unwrap_or(2);
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{:<4} {:<6} {:<8} {:<w$} {}{}",
                r.verdict.name(),
                r.level.name(),
                r.section,
                r.id,
                r.what,
                if r.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", r.detail)
                }
            );
        }
        let count = |v| self.rows.iter().filter(|r| r.verdict == v).count();
        let _ = writeln!(
            out,
            "\n{} pass, {} FAIL ({} of them MUST), {} n/a",
            count(Verdict::Pass),
            count(Verdict::Fail),
            self.rows
                .iter()
                .filter(|r| r.level == Level::Must && r.verdict == Verdict::Fail)
                .count(),
            count(Verdict::NotApplicable)
        );
        out
    }

    fn json(&self) -> String {
        let mut out = String::from("[\n");
        for (i, r) in self.rows.iter().enumerate() {
            let _ = writeln!(
                out,
                "{{\"id\":{},\"section\":{},\"level\":{},\"result\":{},\"check\":{},\"detail\":{}}}{}",
                json_string(&r.id),
                json_string(r.section),
                json_string(r.level.name()),
                json_string(r.verdict.name()),
                json_string(&r.what),
                json_string(&r.detail),
                if i + 1 < self.rows.len() { "," } else { "" }
            );
        }
        out.push_str("]\n");
        out
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The command line.
struct Args {
    url: String,
    challenge: Option<String>,
    pin: Option<String>,
    ecdsa: bool,
    json: bool,
    json_out: Option<String>,
    poll_interval: Duration,
    max_polls: u32,
}

fn usage() -> String {
    "usage: conformance URL [--challenge PW] [--pin SHA256] [--ecdsa] [--json | --json-out FILE] \
     [--poll-interval SECS] [--max-polls N]"
        .into()
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        url: String::new(),
        challenge: None,
        pin: None,
        ecdsa: false,
        json: false,
        json_out: None,
        poll_interval: Duration::from_secs(2),
        max_polls: 5,
    };
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--challenge" => args.challenge = Some(value()?),
            "--pin" => args.pin = Some(value()?),
            "--ecdsa" => args.ecdsa = true,
            "--json" => args.json = true,
            "--json-out" => args.json_out = Some(value()?),
            "--poll-interval" => {
                args.poll_interval =
                    Duration::from_secs(value()?.parse().map_err(|e| format!("{a}: {e}"))?)
            }
            "--max-polls" => args.max_polls = value()?.parse().map_err(|e| format!("{a}: {e}"))?,
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{}", usage())),
            s if args.url.is_empty() => args.url = s.to_owned(),
            s => return Err(format!("unexpected argument {s:?}\n{}", usage())),
        }
    }
    if args.url.is_empty() {
        return Err(usage());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(report) => {
            if let Some(path) = &args.json_out
                && let Err(e) = std::fs::write(path, report.json())
            {
                eprintln!("error: {path}: {e}");
                return ExitCode::from(2);
            }
            if args.json {
                print!("{}", report.json());
            } else {
                print!("{}", report.table(&args.url));
            }
            if report.must_failed() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn run(args: &Args) -> Result<Report, BoxError> {
    let (transport, path) = Transport::new(&args.url)?;
    let mut config = ClientConfig::new(path);
    if let Some(pin) = &args.pin {
        config.ca_pin = Some(Fingerprint::from_hex(pin)?);
    }
    let mut report = Report::default();

    let caps = caps_rows(&mut report, &transport, &config)?;

    let Some(info) = cacert_rows(&mut report, &transport, &config)? else {
        return Ok(report);
    };

    // AES as RFC 8894 defines it (AES-128), DES3; digests strongest first.
    let announced_ciphers = caps.announced_ciphers(ContentCipher::Aes128Cbc);
    let mut announced_digests = caps.announced_digests();
    announced_digests.reverse();
    let post = caps.supports(Capability::PostPkiOperation);
    let best_cipher = announced_ciphers
        .first()
        .copied()
        .unwrap_or(ContentCipher::Aes128Cbc);
    let best_digest = if announced_digests.contains(&DigestAlgorithm::Sha256) {
        DigestAlgorithm::Sha256
    } else {
        announced_digests
            .first()
            .copied()
            .unwrap_or(DigestAlgorithm::Sha256)
    };
    let choice = Choice {
        cipher: best_cipher,
        digest: best_digest,
        post,
    };
    let mut probe = Probe {
        transport,
        config,
        info,
        challenge: args.challenge.clone(),
        ecdsa: args.ecdsa,
        poll_interval: args.poll_interval,
        max_polls: args.max_polls,
        pendings: Vec::new(),
        facts: Vec::new(),
        serial: 0,
    };

    wrong_challenge(&mut report, &mut probe, choice)?;

    let Some(challenge) = args.challenge.clone() else {
        report.add(
            "enrol",
            "3.3.1",
            Level::Must,
            "enrolment checks",
            Verdict::NotApplicable,
            "no --challenge given",
        );
        return Ok(report);
    };

    // The first enrolment, its answer the base of replay, resync, GetCert and GetCRL.
    let label = format!(
        "PKCSReq {} {} {}",
        best_cipher.name(),
        best_digest.name(),
        if post { "POST" } else { "GET" }
    );
    let (party, first_message, first_nonce, end) =
        probe.enrol(&label, Some(&challenge), best_cipher, best_digest, post)?;
    let issued = match &end {
        Enrolled::Issued(c) => Some(c.as_ref().clone()),
        Enrolled::Not(_) => None,
    };
    report.add(
        format!(
            "enrol.{}-{}-{}",
            best_cipher.name(),
            best_digest.name(),
            if post { "post" } else { "get" }
        ),
        "3.3.1",
        Level::Must,
        format!("{label} is issued"),
        Verdict::of(issued.is_some()),
        describe(&end),
    );

    // Every other announced cipher and digest.
    for cipher in announced_ciphers
        .iter()
        .copied()
        .filter(|c| *c != best_cipher)
    {
        enrol_row(
            &mut report,
            &mut probe,
            &challenge,
            Choice { cipher, ..choice },
            Level::Must,
            "3.5.2",
        )?;
    }
    for digest in announced_digests
        .iter()
        .copied()
        .filter(|d| *d != best_digest)
    {
        enrol_row(
            &mut report,
            &mut probe,
            &challenge,
            Choice { digest, ..choice },
            Level::Must,
            "3.5.2",
        )?;
    }
    // GET: the base form (section 4.1); with POSTPKIOperation a client uses POST.
    if post {
        enrol_row(
            &mut report,
            &mut probe,
            &challenge,
            Choice {
                post: false,
                ..choice
            },
            Level::Should,
            "4.1",
        )?;
    }

    let first = First {
        party,
        message: first_message,
        nonce: first_nonce,
        issued,
    };
    replay_and_resync(&mut report, &mut probe, &first, choice)?;

    poll_row(&mut report, &probe);

    bad_signature(&mut report, &mut probe, &challenge, choice)?;

    // Single DES and MD5 (section 2.9).
    let weak = weak_requests(&mut probe, &challenge)?;
    for (id, what, answer) in weak {
        report.add(
            id,
            "2.9",
            Level::Must,
            what,
            Verdict::of(!answer.accepted()),
            answer.describe(),
        );
    }

    // GetCert, GetCRL (sections 3.3.4, 4.5, 4.6), GetNextCACert (section 4.7).
    if let Some(cert) = &first.issued {
        queries(&mut report, &mut probe, &first.party, cert, choice)?;
    }
    next_ca(&mut report, &probe, &caps)?;

    answers(&mut report, &probe);
    Ok(report)
}

/// GetCACaps (section 3.5): its rows, and the capabilities (none when unreadable).
fn caps_rows(
    report: &mut Report,
    transport: &Transport,
    config: &ClientConfig,
) -> Result<Capabilities, BoxError> {
    let discovery = Discovery::new(config.clone());
    let caps_req = discovery.poll_request()?.ok_or("no GetCACaps request")?;
    let (status, ct, body) = transport.send(&caps_req)?;
    let caps = if status == 200 {
        match Capabilities::from_bytes(&body) {
            Ok(c) => {
                report.add(
                    "caps.answer",
                    "3.5.2",
                    Level::Must,
                    "GetCACaps answers a list of keywords",
                    Verdict::Pass,
                    c.format().trim_end().replace(['\r', '\n'], " "),
                );
                c
            }
            Err(e) => {
                report.add(
                    "caps.answer",
                    "3.5.2",
                    Level::Must,
                    "GetCACaps answers a list of keywords",
                    Verdict::Fail,
                    e.to_string(),
                );
                Capabilities::new()
            }
        }
    } else {
        report.add(
            "caps.answer",
            "3.5.2",
            Level::Must,
            "GetCACaps answers a list of keywords",
            Verdict::Fail,
            format!("HTTP {status}"),
        );
        Capabilities::new()
    };
    let ct_ok = ct
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/plain"));
    report.add(
        "caps.content-type",
        "3.5.2",
        Level::Should,
        "GetCACaps is text/plain",
        Verdict::of(ct_ok),
        ct.unwrap_or_else(|| "no Content-Type".into()),
    );
    report.add(
        "caps.scep-standard",
        "3.5.2",
        Level::Should,
        "announces SCEPStandard (RFC 8894 itself)",
        Verdict::of(caps.contains(Capability::ScepStandard)),
        "",
    );
    let mandatory = caps.supports(Capability::Aes) && caps.supports(Capability::Sha256);
    report.add(
        "caps.aes-sha256",
        "2.9",
        Level::Must,
        "supports AES and SHA-256 (mandatory to implement)",
        Verdict::of(mandatory),
        "",
    );
    let unknown = caps.unknown();
    if !unknown.is_empty() {
        report.add(
            "caps.unknown",
            "3.5.2",
            Level::May,
            "keywords outside the IANA registry (ignored by clients)",
            Verdict::NotApplicable,
            unknown.join(" "),
        );
    }
    Ok(caps)
}

/// GetCACert (sections 4.2, 2.2): its rows, and what it gave (`None`: nothing usable).
fn cacert_rows(
    report: &mut Report,
    transport: &Transport,
    config: &ClientConfig,
) -> Result<Option<CaInfo>, BoxError> {
    let mut discovery = Discovery::new(config.clone());
    let mut info = None;
    let mut cacert_error = None;
    while let Some(req) = discovery.poll_request()? {
        let (status, ct, body) = transport.send(&req)?;
        match discovery.handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            SystemTime::now(),
        ) {
            Ok(Some(i)) => {
                info = Some(i);
                break;
            }
            Ok(None) => {}
            Err(e) => {
                cacert_error = Some(e.to_string());
                break;
            }
        }
    }
    let Some(info) = info else {
        report.add(
            "cacert.answer",
            "4.2.1",
            Level::Must,
            "GetCACert answers the CA certificate (or a chain)",
            Verdict::Fail,
            cacert_error.unwrap_or_else(|| "no answer".into()),
        );
        return Ok(None);
    };
    report.add(
        "cacert.answer",
        "4.2.1",
        Level::Must,
        "GetCACert answers the CA certificate (or a chain)",
        Verdict::Pass,
        format!(
            "{} certificate(s); CA {} SHA-256 {}",
            info.certificates.len(),
            info.ca.tbs_certificate().subject(),
            hex(&DigestAlgorithm::Sha256.digest(&info.ca.to_der()?))
        ),
    );
    check_ca_certificate(report, &info.ca);
    Ok(Some(info))
}

/// A PKCSReq with a wrong challenge (section 2.3): never issued.
fn wrong_challenge(report: &mut Report, probe: &mut Probe, choice: Choice) -> Result<(), BoxError> {
    let Choice {
        cipher: best_cipher,
        digest: best_digest,
        post,
    } = choice;
    let (_, _, _, end) = probe.enrol(
        "wrong challenge",
        Some("scep-conformance-wrong-challenge"),
        best_cipher,
        best_digest,
        post,
    )?;
    let (verdict, detail) = match &end {
        Enrolled::Issued(_) => (Verdict::Fail, "issued".to_owned()),
        Enrolled::Not(a) if a.accepted() => (Verdict::Fail, a.describe()),
        Enrolled::Not(a) => (Verdict::Pass, a.describe()),
    };
    report.add(
        "challenge.wrong",
        "2.3",
        Level::Must,
        "a PKCSReq with a wrong challenge password is not issued",
        verdict,
        detail,
    );
    let bad_request = matches!(
        &end,
        Enrolled::Not(Answer::Rep(CertRepContent::Failure {
            fail_info: FailInfo::BadRequest,
            ..
        }))
    );
    report.add(
        "challenge.wrong-failinfo",
        "3.3.2.2",
        Level::Should,
        "... and is answered by a CertRep FAILURE badRequest",
        Verdict::of(bad_request),
        "",
    );
    Ok(())
}

/// The first PKCSReq again, byte for byte, and a CertPoll after its issue.
fn replay_and_resync(
    report: &mut Report,
    probe: &mut Probe,
    first: &First,
    choice: Choice,
) -> Result<(), BoxError> {
    let Choice {
        cipher: best_cipher,
        digest: best_digest,
        post,
    } = choice;
    // The first request again, byte for byte (section 3.2.1.5: nonces detect replays).
    if let Some(cert) = &first.issued {
        let answer = probe.exchange(
            "replay",
            &first.party,
            first.message.clone(),
            &first.nonce,
            best_digest,
            post,
        );
        let (verdict, detail) = match &answer {
            Answer::Rep(CertRepContent::Success { certificates, .. }) => {
                match probe.ours(&first.party, certificates) {
                    Some(c) if c == *cert => (
                        Verdict::Pass,
                        "the same certificate again (answered from the transaction)".into(),
                    ),
                    Some(c) => (
                        Verdict::Fail,
                        format!(
                            "a second certificate, serial {}",
                            hex(c.tbs_certificate().serial_number().as_bytes())
                        ),
                    ),
                    None => (Verdict::Pass, "SUCCESS without a certificate".into()),
                }
            }
            Answer::Rep(CertRepContent::Pending) => (
                Verdict::Fail,
                "PENDING: a new transaction for a replayed request".into(),
            ),
            other => (Verdict::Pass, other.describe()),
        };
        report.add(
            "replay",
            "3.2.1.5",
            Level::Should,
            "a replayed PKCSReq does not get a second certificate",
            verdict,
            detail,
        );

        // Resync: a CertPoll for the issued transaction (section 5.2).
        let poll = RequestContent::CertPoll(IssuerAndSubject {
            issuer: probe.info.ca.tbs_certificate().subject().clone(),
            subject: first.party.csr.info.subject.clone(),
        });
        let (message, nonce) = probe.seal(&first.party, poll, best_cipher, best_digest)?;
        let answer = probe.exchange("resync", &first.party, message, &nonce, best_digest, post);
        let (verdict, detail) = match &answer {
            Answer::Rep(CertRepContent::Success { certificates, .. }) => {
                match probe.ours(&first.party, certificates) {
                    Some(c) if c == *cert => {
                        (Verdict::Pass, "SUCCESS, the same certificate".into())
                    }
                    Some(_) => (Verdict::Fail, "SUCCESS with another certificate".into()),
                    None => (Verdict::Fail, "SUCCESS without our certificate".into()),
                }
            }
            other => (Verdict::Fail, other.describe()),
        };
        report.add(
            "resync",
            "5.2",
            Level::Should,
            "a CertPoll after the issue answers SUCCESS with the certificate (resync)",
            verdict,
            detail,
        );
    } else {
        for (id, section) in [("replay", "3.2.1.5"), ("resync", "5.2")] {
            report.add(
                id,
                section,
                Level::Should,
                format!("{id} of the first enrolment"),
                Verdict::NotApplicable,
                "nothing was issued",
            );
        }
    }
    Ok(())
}

/// CertPoll on a pending request (section 3.3.3): only if the CA pended.
fn poll_row(report: &mut Report, probe: &Probe) {
    // CertPoll on a pending request (section 3.3.3): only if the CA pended.
    if probe.pendings.is_empty() {
        report.add(
            "poll",
            "3.3.3",
            Level::Must,
            "a PENDING request is polled to its end with CertPoll",
            Verdict::NotApplicable,
            "the CA never answered PENDING",
        );
    } else {
        let all_issued = probe
            .pendings
            .iter()
            .all(|(_, end)| end.starts_with("SUCCESS"));
        let detail = probe
            .pendings
            .iter()
            .map(|(l, e)| format!("{l}: {e}"))
            .collect::<Vec<_>>()
            .join("; ");
        report.add(
            "poll",
            "3.3.3",
            Level::Must,
            "a PENDING request is polled to its end with CertPoll",
            Verdict::of(all_issued),
            detail,
        );
    }
}

/// A request whose signature does not verify (section 3.3.2.2).
fn bad_signature(
    report: &mut Report,
    probe: &mut Probe,
    challenge: &str,
    choice: Choice,
) -> Result<(), BoxError> {
    let Choice {
        cipher: best_cipher,
        digest: best_digest,
        post,
    } = choice;
    // A request whose signature does not verify (section 3.3.2.2).
    let bad = probe.party(Some(challenge))?;
    let (mut message, nonce) = probe.seal(
        &bad,
        RequestContent::PkcsReq(bad.csr.clone()),
        best_cipher,
        best_digest,
    )?;
    // The signature is the last element of the DER: its last octet changed.
    if let Some(last) = message.last_mut() {
        *last ^= 0x01;
    }
    let answer = probe.exchange("bad signature", &bad, message, &nonce, best_digest, post);
    let signed_reply = matches!(answer, Answer::Rep(_));
    report.add(
        "signature.bad",
        "3.3.2.2",
        Level::Must,
        "a request whose signature does not verify is refused",
        Verdict::of(!answer.accepted()),
        answer.describe(),
    );
    report.add(
        "signature.bad-quiet",
        "3.3.2.2",
        Level::May,
        "... without a signed CertRep (nothing to tell an attacker)",
        if signed_reply {
            Verdict::NotApplicable
        } else {
            Verdict::Pass
        },
        if signed_reply {
            "a signed CertRep (badMessageCheck is what the RFC allows)"
        } else {
            "no CertRep"
        },
    );
    Ok(())
}

fn describe(end: &Enrolled) -> String {
    match end {
        Enrolled::Issued(c) => format!(
            "issued serial {}",
            hex(c.tbs_certificate().serial_number().as_bytes())
        ),
        Enrolled::Not(a) => a.describe(),
    }
}

/// An enrolment with `choice`, as the row `enrol.CIPHER-DIGEST-METHOD`.
fn enrol_row(
    report: &mut Report,
    probe: &mut Probe,
    challenge: &str,
    choice: Choice,
    level: Level,
    section: &'static str,
) -> Result<(), BoxError> {
    let Choice {
        cipher,
        digest,
        post,
    } = choice;
    let method = if post { "POST" } else { "GET" };
    let label = format!("PKCSReq {} {} {method}", cipher.name(), digest.name());
    let (_, _, _, end) = probe.enrol(&label, Some(challenge), cipher, digest, post)?;
    report.add(
        format!(
            "enrol.{}-{}-{}",
            cipher.name(),
            digest.name(),
            method.to_ascii_lowercase()
        ),
        section,
        level,
        format!("{label} is issued"),
        Verdict::of(matches!(end, Enrolled::Issued(_))),
        describe(&end),
    );
    Ok(())
}

/// The CA certificate's extensions and validity (RFC 8894 section 2.2; RFC 5280 sections
/// 4.2.1.9, 4.2.1.3, 4.1.2.5).
fn check_ca_certificate(report: &mut Report, ca: &Certificate) {
    let tbs = ca.tbs_certificate();
    let bc = tbs.get_extension::<BasicConstraints>();
    let (verdict, detail) = match &bc {
        Ok(Some((_, bc))) if bc.ca => (Verdict::Pass, String::new()),
        Ok(Some(_)) => (Verdict::Fail, "basicConstraints cA is FALSE".into()),
        Ok(None) => (Verdict::Fail, "no basicConstraints".into()),
        Err(e) => (Verdict::Fail, format!("unreadable basicConstraints: {e}")),
    };
    report.add(
        "cacert.ca-flag",
        "2.2",
        Level::Must,
        "the CA certificate has basicConstraints cA TRUE",
        verdict,
        detail,
    );
    let ku = tbs.get_extension::<KeyUsage>();
    let bits: Option<KeyUsage> = match &ku {
        Ok(Some((_, ku))) => Some(*ku),
        _ => None,
    };
    let has = |u: KeyUsages| bits.is_some_and(|k| k.0.contains(u));
    let names = |list: &[(KeyUsages, &'static str)]| {
        list.iter()
            .filter(|(u, _)| !has(*u))
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
    };
    let missing = names(&[(KeyUsages::KeyCertSign, "keyCertSign")]);
    report.add(
        "cacert.key-cert-sign",
        "2.2",
        Level::Must,
        "the CA certificate's keyUsage has keyCertSign",
        Verdict::of(bits.is_none() || missing.is_empty()),
        if bits.is_none() {
            "no keyUsage (all uses allowed)".to_owned()
        } else {
            missing.join(" ")
        },
    );
    let missing = names(&[
        (KeyUsages::DigitalSignature, "digitalSignature"),
        (KeyUsages::KeyEncipherment, "keyEncipherment"),
    ]);
    report.add(
        "cacert.scep-usages",
        "2.2",
        Level::Should,
        "... and digitalSignature, keyEncipherment (it signs CertReps, RSA key transport)",
        Verdict::of(bits.is_none() || missing.is_empty()),
        if missing.is_empty() || bits.is_none() {
            String::new()
        } else {
            format!("missing {}", missing.join(" "))
        },
    );
    let valid = scep::cert::valid_at(ca, SystemTime::now());
    report.add(
        "cacert.validity",
        "2.2",
        Level::Must,
        "the CA certificate is valid now",
        Verdict::of(valid),
        format!(
            "{} to {}",
            tbs.validity().not_before,
            tbs.validity().not_after
        ),
    );
}

/// A PKCSReq encrypted with single DES and one signed with MD5, each from a new key with
/// the right challenge: what a server that follows section 2.9 refuses.
fn weak_requests(
    probe: &mut Probe,
    challenge: &str,
) -> Result<Vec<(&'static str, &'static str, Answer)>, BoxError> {
    let mut out = Vec::new();
    // RSA keys only: RSA key transport for DES, an RSA signature for MD5.
    let ecdsa = std::mem::replace(&mut probe.ecdsa, false);
    let party = probe.party(Some(challenge))?;
    let csr = party.csr.to_der()?;
    let envelope = des_envelope(&csr, &probe.info.recipient)?;
    let attrs = craft::request_attrs(MessageType::PkcsReq, party.transaction_id.as_str());
    let nonce = attrs.sender_nonce.clone().ok_or("no nonce")?;
    let message = craft::sign_message(
        &attrs,
        &envelope,
        party.key.signer(),
        &party.certificate,
        DigestAlgorithm::Sha256,
    );
    let post = probe.info.negotiated.use_post;
    let answer = probe.exchange(
        "single DES",
        &party,
        message,
        &nonce,
        DigestAlgorithm::Sha256,
        post,
    );
    out.push((
        "weak.des",
        "a PKCSReq encrypted with single DES is refused",
        answer,
    ));

    let party = probe.party(Some(challenge))?;
    let (sealed, _) = probe.seal(
        &party,
        RequestContent::PkcsReq(party.csr.clone()),
        ContentCipher::Aes128Cbc,
        DigestAlgorithm::Sha256,
    )?;
    let envelope = PkiMessage::decode(&sealed, &Limits::default())?
        .envelope()
        .ok_or("no envelope")?
        .to_vec();
    let attrs = craft::request_attrs(MessageType::PkcsReq, party.transaction_id.as_str());
    let nonce = attrs.sender_nonce.clone().ok_or("no nonce")?;
    let Key::Rsa(rsa_key) = &party.key else {
        return Err("an RSA key was asked for".into());
    };
    let message = craft::sign_message_md5(&attrs, &envelope, rsa_key, &party.certificate);
    let answer = probe.exchange(
        "MD5",
        &party,
        message,
        &nonce,
        DigestAlgorithm::Sha256,
        post,
    );
    out.push(("weak.md5", "a PKCSReq signed with MD5 is refused", answer));
    probe.ecdsa = ecdsa;
    // Their answers say nothing about the CA's CertReps in general.
    probe
        .facts
        .retain(|f| f.label != "single DES" && f.label != "MD5");
    Ok(out)
}

/// A pkcsPKIEnvelope of `content` in single DES-CBC, its key RSA-encrypted to
/// `recipient`.
fn des_envelope(content: &[u8], recipient: &Certificate) -> Result<Vec<u8>, BoxError> {
    use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
    use rand_core::Rng as _;
    use rsa::pkcs8::DecodePublicKey;
    let mut key = [0u8; 8];
    let mut iv = [0u8; 8];
    rng().fill_bytes(&mut key);
    rng().fill_bytes(&mut iv);
    let ciphertext = cbc::Encryptor::<des::Des>::new_from_slices(&key, &iv)
        .map_err(|e| format!("DES: {e}"))?
        .encrypt_padded_vec::<Pkcs7>(content);
    let spki = recipient
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()?;
    let public = rsa::PublicKey::from_public_key_der(&spki)?;
    let encrypted_key = public.encrypt(&mut rng(), rsa::Pkcs1v15Encrypt, &key)?;
    let ktri = RecipientInfo::Ktri(KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(Decode::from_der(
            &IssuerAndSerialNumber::of(recipient).to_der()?,
        )?),
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        enc_key: OctetString::new(encrypted_key)?,
    });
    Ok(craft::envelope(
        CmsVersion::V0,
        vec![Any::from_der(&ktri.to_der()?)?],
        // desCBC (RFC 8018 appendix B.2.1; not in const-oid's database).
        der::oid::ObjectIdentifier::new_unwrap("1.3.14.3.2.7"),
        &iv,
        &ciphertext,
    ))
}

/// GetCert for the issued certificate and GetCRL: optional operations (section 3.3.4).
fn queries(
    report: &mut Report,
    probe: &mut Probe,
    party: &Party,
    cert: &Certificate,
    choice: Choice,
) -> Result<(), BoxError> {
    let Choice {
        cipher,
        digest,
        post,
    } = choice;
    // Signed with the issued certificate, as a client would.
    let holder = Party {
        key: match &party.key {
            Key::Rsa(k) => Key::Rsa(k.clone()),
            Key::Ec(k) => Key::Ec(k.clone()),
        },
        certificate: cert.clone(),
        csr: party.csr.clone(),
        transaction_id: TransactionId::random(&mut rng()),
    };
    let target = IssuerAndSerialNumber::of(cert);
    let (message, nonce) = probe.seal(
        &holder,
        RequestContent::GetCert(target.clone()),
        cipher,
        digest,
    )?;
    let answer = probe.exchange("GetCert", &holder, message, &nonce, digest, post);
    let (verdict, detail) = match &answer {
        Answer::Rep(CertRepContent::Success { certificates, .. }) => {
            if certificates.contains(cert) {
                (Verdict::Pass, "the issued certificate".to_owned())
            } else {
                (Verdict::Fail, "SUCCESS without the certificate".to_owned())
            }
        }
        other => (
            Verdict::NotApplicable,
            format!("not supported: {}", other.describe()),
        ),
    };
    report.add(
        "getcert",
        "3.3.4",
        Level::May,
        "GetCert returns the issued certificate",
        verdict,
        detail,
    );

    let transaction_id = TransactionId::random(&mut rng());
    let holder = Party {
        transaction_id,
        ..holder
    };
    let (message, nonce) = probe.seal(&holder, RequestContent::GetCrl(target), cipher, digest)?;
    let answer = probe.exchange("GetCRL", &holder, message, &nonce, digest, post);
    let ca = probe.info.ca.tbs_certificate();
    let (verdict, detail) = match &answer {
        Answer::Rep(CertRepContent::Success { crls, .. }) => match crls.first() {
            Some(crl) => {
                let signed = scep::cert::verify_crl_issued_by(crl, ca.subject_public_key_info());
                match signed {
                    Ok(()) if crl.tbs_cert_list.issuer == *ca.subject() => (
                        Verdict::Pass,
                        format!(
                            "a CRL of the CA, {} revoked",
                            crl.tbs_cert_list
                                .revoked_certificates
                                .as_ref()
                                .map_or(0, Vec::len)
                        ),
                    ),
                    Ok(()) => (Verdict::Fail, "a CRL of another issuer".to_owned()),
                    Err(e) => (Verdict::Fail, format!("a CRL not signed by the CA: {e}")),
                }
            }
            None => (Verdict::Fail, "SUCCESS without a CRL".to_owned()),
        },
        other => (
            Verdict::NotApplicable,
            format!("not supported: {}", other.describe()),
        ),
    };
    report.add(
        "getcrl",
        "3.3.4",
        Level::May,
        "GetCRL returns the CA's CRL, signed by it",
        verdict,
        detail,
    );
    Ok(())
}

/// GetNextCACert when announced (section 4.7).
fn next_ca(report: &mut Report, probe: &Probe, caps: &Capabilities) -> Result<(), BoxError> {
    if !caps.supports(Capability::GetNextCaCert) {
        report.add(
            "getnextca",
            "4.7",
            Level::Must,
            "GetNextCACert, when announced, answers the next CA signed by the current one",
            Verdict::NotApplicable,
            "not announced",
        );
        return Ok(());
    }
    let mut strict = probe.config.clone();
    strict.policy.next_ca_in_certificates = false;
    let req = scep::client::next_ca_request(&probe.info, &strict)?;
    let (status, ct, body) = probe.send(&req)?;
    let result = scep::client::handle_next_ca_response(
        &probe.info,
        &strict,
        scep::http::HttpReply::new(status, ct.as_deref(), &body),
    );
    let (verdict, detail) = match result {
        Ok(next) => (
            Verdict::Pass,
            next.certificates
                .iter()
                .map(|c| c.tbs_certificate().subject().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Err(e) => {
            // The jscep form: accepted by a lenient client, still a finding.
            let lenient = scep::client::handle_next_ca_response(
                &probe.info,
                &probe.config,
                scep::http::HttpReply::new(status, ct.as_deref(), &body),
            );
            match lenient {
                Ok(_) => (
                    Verdict::Fail,
                    "the next CA only in the outer certificates, no content (jscep's form)"
                        .to_owned(),
                ),
                Err(_) => (Verdict::Fail, e.to_string()),
            }
        }
    };
    report.add(
        "getnextca",
        "4.7",
        Level::Must,
        "GetNextCACert, when announced, answers the next CA signed by the current one",
        verdict,
        detail,
    );
    Ok(())
}

/// The rows about every CertRep received.
fn answers(report: &mut Report, probe: &Probe) {
    let facts = &probe.facts;
    let n = facts.len();
    let bad = |f: &dyn Fn(&Facts) -> bool| -> Vec<String> {
        let mut labels: Vec<String> = facts
            .iter()
            .filter(|x| f(x))
            .map(|x| x.label.clone())
            .collect();
        labels.dedup();
        labels
    };
    let mut row = |id: &str, section, level, what: &str, failing: Vec<String>| {
        let verdict = if n == 0 {
            Verdict::NotApplicable
        } else {
            Verdict::of(failing.is_empty())
        };
        let detail = if failing.is_empty() {
            format!("{n} CertReps")
        } else {
            format!("{} of {n}: {}", failing.len(), failing.join(", "))
        };
        report.add(id, section, level, what, verdict, detail);
    };
    row(
        "certrep.signer",
        "3.3.2",
        Level::Must,
        "every CertRep is signed by the CA or its RA",
        bad(&|f| f.signed_by_ca.is_err()),
    );
    row(
        "certrep.transaction-id",
        "3.2.1.1",
        Level::Must,
        "every CertRep has the request's transactionID",
        bad(&|f| !f.transaction_id_echoed),
    );
    row(
        "certrep.recipient-nonce",
        "3.2.1.5",
        Level::Must,
        "every CertRep's recipientNonce is the request's senderNonce",
        bad(&|f| f.recipient_nonce_echoed != Some(true)),
    );
    row(
        "certrep.sender-nonce",
        "3.2.1.5",
        Level::Must,
        "every CertRep has a senderNonce",
        bad(&|f| f.sender_nonce_own.is_none()),
    );
    row(
        "certrep.sender-nonce-own",
        "3.2.1.5",
        Level::Should,
        "... of the CA's own (not the request's echoed)",
        bad(&|f| f.sender_nonce_own == Some(false)),
    );
    row(
        "certrep.no-des",
        "2.9",
        Level::Must,
        "no CertRep envelope is single DES",
        bad(&|f| f.cipher.as_deref() == Some(ContentCipher::InsecureDesCbc.name())),
    );
    row(
        "certrep.content-type",
        "4.3.1",
        Level::Should,
        "every CertRep is application/x-pki-message",
        bad(&|f| {
            !f.content_type
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("application/x-pki-message"))
        }),
    );
    // Informative: RFC 8894 leaves the CertRep's digest to the CA (a CA may refuse to let
    // a requester choose the digest of its signature over data the requester chose).
    let mut pairs: Vec<String> = facts
        .iter()
        .map(|f| format!("{}→{}", f.digests.0.name(), f.digests.1.name()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    report.add(
        "certrep.digest",
        "3.5.2",
        Level::May,
        "the CertReps' digests (request → answer)",
        Verdict::NotApplicable,
        pairs.join(", "),
    );
}
