//! The SCEP transaction the server runs (`Server::handle`) around a CA's decisions: every
//! transition, with a scripted CA whose decisions and calls the tests see.

use core::str::FromStr;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use scep::asn1::{CertReq, Certificate, CertificateList, IssuerAndSerialNumber};
use scep::cert::{CertificateParams, Identity, end_entity_extensions, issue, random_serial};
use scep::csr::CsrParams;
use scep::error::StoreError;
use scep::http::{HttpRequest, Method, Operation};
use scep::message::{IssuerAndSubject, OutgoingRequest, PkiMessage, RequestContent, SealParams};
use scep::server::{
    CertificateAuthority, Decision, DecryptionKey, Enrolment, Generation, Handled,
    MemoryReplayStore, MemoryTransactionStore, Outcome, Server, ServerConfig, Transaction,
    TransactionState, TransactionStore,
};
use scep::{
    DigestAlgorithm, EnvelopeKey, FailInfo, MessageSigner, MessageType, Nonce, Recipient,
    TransactionId,
};
use x509_cert::ext::ToExtension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;

#[path = "common/craft.rs"]
mod craft;

const CHALLENGE: &str = "transactions-challenge";

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

/// The CA: its key, its certificate, and the server around it.
struct Ca {
    key: Arc<rsa::PrivateKey>,
    cert: Certificate,
}

impl Ca {
    fn new() -> Self {
        let key = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
        let n = name("CN=transactions CA");
        let now = SystemTime::now();
        let cert = issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng()).unwrap(),
                subject: n.clone(),
                public_key: key.public_key_info().unwrap(),
                not_before: now - Duration::from_secs(60),
                not_after: now + Duration::from_secs(86400),
                extensions: vec![
                    (&BasicConstraints {
                        ca: true,
                        path_len_constraint: Some(0),
                    })
                        .to_extension(&n, &[])
                        .unwrap(),
                    (&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::KeyEncipherment))
                        .to_extension(&n, &[])
                        .unwrap(),
                ],
            },
            &n,
            &key,
            DigestAlgorithm::Sha256,
        )
        .unwrap();
        Ca {
            key: Arc::new(key),
            cert,
        }
    }

    fn server(&self, configure: impl FnOnce(&mut ServerConfig)) -> Server {
        let caps = scep::caps::Capabilities::scep_standard();
        let mut config = ServerConfig::new(caps, vec![self.cert.clone()]);
        configure(&mut config);
        Server::new(
            config,
            self.cert.clone(),
            Identity::new(self.cert.clone(), self.key.clone()).unwrap(),
            vec![DecryptionKey {
                certificate: self.cert.clone(),
                key: self.key.clone(),
            }],
        )
        .unwrap()
    }

    /// A certificate of this CA for `key`, valid from `not_before` to `not_after`.
    fn issue(
        &self,
        subject: &Name,
        key: &dyn MessageSigner,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Certificate {
        let spki = key.public_key_info().unwrap();
        issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng()).unwrap(),
                extensions: end_entity_extensions(
                    subject,
                    &spki,
                    Some(self.cert.tbs_certificate().subject_public_key_info()),
                )
                .unwrap(),
                subject: subject.clone(),
                public_key: spki,
                not_before,
                not_after,
            },
            self.cert.tbs_certificate().subject(),
            self.key.as_ref(),
            DigestAlgorithm::Sha256,
        )
        .unwrap()
    }
}

/// A CA whose decisions are scripted: `enrol` and `poll` answer from queues (issue when
/// empty), and every call is counted.
struct Scripted {
    ca: Ca,
    decisions: Mutex<VecDeque<Result<Decision, StoreError>>>,
    challenges: AtomicUsize,
    enrols: AtomicUsize,
    polls: AtomicUsize,
    /// The certificates it revoked.
    revoked: Mutex<Vec<Certificate>>,
    /// With a one-time challenge: whether it was used.
    one_time: Option<AtomicBool>,
}

/// What the scripted CA should answer: issue a certificate for the CSR.
const ISSUE: Option<Decision> = None;

impl Scripted {
    fn new(ca: Ca) -> Self {
        Scripted {
            ca,
            decisions: Mutex::default(),
            challenges: AtomicUsize::new(0),
            enrols: AtomicUsize::new(0),
            polls: AtomicUsize::new(0),
            revoked: Mutex::default(),
            one_time: None,
        }
    }

    /// The CA, its challenge good for one enrolment only.
    fn one_time(ca: Ca) -> Self {
        Scripted {
            one_time: Some(AtomicBool::new(false)),
            ..Scripted::new(ca)
        }
    }

    /// The next decisions, in order; [`ISSUE`] issues (a certificate made when it is
    /// used: an empty chain stands for it in the queue).
    fn script(&self, decisions: impl IntoIterator<Item = Option<Decision>>) {
        let mut queue = self.decisions.lock().unwrap();
        queue.extend(
            decisions
                .into_iter()
                .map(|d| Ok(d.unwrap_or(Decision::Issue(Vec::new())))),
        );
    }

    fn fail_next(&self) {
        self.decisions
            .lock()
            .unwrap()
            .push_back(Err(StoreError::new("scripted CA", "its database is down")));
    }

    fn decide(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        let next = self.decisions.lock().unwrap().pop_front();
        match next {
            Some(Ok(Decision::Issue(chain))) if chain.is_empty() => Ok(self.issued(enrolment)),
            Some(d) => d,
            None => Ok(self.issued(enrolment)),
        }
    }

    fn issued(&self, enrolment: &Enrolment<'_>) -> Decision {
        let now = SystemTime::now();
        let spki = &enrolment.details.public_key;
        let cert = issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng()).unwrap(),
                extensions: end_entity_extensions(&enrolment.details.subject, spki, None).unwrap(),
                subject: enrolment.details.subject.clone(),
                public_key: spki.clone(),
                not_before: now - Duration::from_secs(60),
                not_after: now + Duration::from_secs(3600),
            },
            self.ca.cert.tbs_certificate().subject(),
            self.ca.key.as_ref(),
            DigestAlgorithm::Sha256,
        )
        .unwrap();
        Decision::Issue(vec![cert])
    }

    fn count(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::SeqCst)
    }
}

impl CertificateAuthority for Scripted {
    fn check_challenge(
        &self,
        _enrolment: &Enrolment<'_>,
        challenge: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.challenges.fetch_add(1, Ordering::SeqCst);
        let right = scep::server::challenge_matches(CHALLENGE, challenge);
        match &self.one_time {
            Some(used) => Ok(right && !used.swap(true, Ordering::SeqCst)),
            None => Ok(right),
        }
    }

    fn revoked(&self, certificate: &Certificate) -> Result<bool, StoreError> {
        Ok(self.revoked.lock().unwrap().contains(certificate))
    }

    fn enrol(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        self.enrols.fetch_add(1, Ordering::SeqCst);
        self.decide(enrolment)
    }

    fn poll(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.decide(enrolment)
    }

    fn certificate(
        &self,
        _issuer_and_serial: &IssuerAndSerialNumber,
    ) -> Result<Option<Certificate>, StoreError> {
        Ok(None)
    }

    fn crl(
        &self,
        _issuer_and_serial: &IssuerAndSerialNumber,
    ) -> Result<Option<CertificateList>, StoreError> {
        Ok(None)
    }
}

/// A requester: a key and the certificate it signs with.
struct Device {
    key: Arc<rsa::PrivateKey>,
    cert: Certificate,
}

impl Device {
    fn self_signed(cn: &str) -> Self {
        let key = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
        let now = SystemTime::now();
        let cert = scep::cert::self_signed_certificate(
            &key,
            &name(cn),
            now - Duration::from_secs(60),
            now + Duration::from_secs(3600),
            &mut rng(),
        )
        .unwrap();
        Device {
            key: Arc::new(key),
            cert,
        }
    }

    /// The same key, signing with `cert`.
    fn with_cert(&self, cert: Certificate) -> Self {
        Device {
            key: self.key.clone(),
            cert,
        }
    }

    fn csr(&self, cn: &str, challenge: Option<&str>) -> CertReq {
        let mut p = CsrParams::new(name(cn));
        p.challenge_password = challenge.map(Into::into);
        p.build(self.key.as_ref()).unwrap()
    }

    /// `content` under `tid`, sealed to the CA and posted; the server's answer.
    fn send(
        &self,
        server: &Server,
        ca: &dyn CertificateAuthority,
        ca_cert: &Certificate,
        tid: &TransactionId,
        content: RequestContent,
    ) -> (Handled, Option<scep::message::CertRepContent>) {
        let (query, body) = self.seal(ca_cert, tid, content);
        self.post(server, ca, ca_cert, &query, &body)
    }

    /// `content` under `tid` with a fresh nonce, sealed to the CA: the pkiMessage.
    fn sealed(
        &self,
        ca_cert: &Certificate,
        tid: &TransactionId,
        content: RequestContent,
    ) -> Vec<u8> {
        let request = OutgoingRequest {
            transaction_id: tid.clone(),
            sender_nonce: Nonce::generate(&mut rng()),
            content,
        };
        request
            .seal(
                &SealParams::new(self.key.as_ref(), &self.cert),
                Recipient::Certificate(ca_cert),
                &mut rng(),
            )
            .unwrap()
    }

    /// `content` under `tid`, sealed to the CA: the query and body of its POST.
    fn seal(
        &self,
        ca_cert: &Certificate,
        tid: &TransactionId,
        content: RequestContent,
    ) -> (String, Vec<u8>) {
        let sealed = self.sealed(ca_cert, tid, content);
        let http = HttpRequest::new(
            "/scep",
            &Operation::PkiOperation { message: sealed },
            Method::Post,
        )
        .unwrap();
        let query = http.query.as_str().to_owned();
        (query, http.body)
    }

    /// Posts a sealed request; the server's answer, opened.
    fn post(
        &self,
        server: &Server,
        ca: &dyn CertificateAuthority,
        ca_cert: &Certificate,
        query: &str,
        body: &[u8],
    ) -> (Handled, Option<scep::message::CertRepContent>) {
        let handled = server.handle(ca, "POST", query, body, SystemTime::now(), &mut rng());
        let content = (handled.response.content_type == "application/x-pki-message").then(|| {
            PkiMessage::decode(&handled.response.body, &Default::default())
                .unwrap()
                .verify(std::slice::from_ref(ca_cert))
                .unwrap()
                .cert_rep(
                    EnvelopeKey::Key {
                        key: self.key.as_ref(),
                        certificate: Some(&self.cert),
                    },
                    &Default::default(),
                )
                .unwrap()
        });
        (handled, content)
    }
}

fn tid(s: &str) -> TransactionId {
    TransactionId::new(s).unwrap()
}

fn poll_content(ca: &Certificate, cn: &str) -> RequestContent {
    RequestContent::CertPoll(IssuerAndSubject {
        issuer: ca.tbs_certificate().subject().clone(),
        subject: name(cn),
    })
}

fn issued_certificate(content: &Option<scep::message::CertRepContent>) -> Certificate {
    match content {
        Some(scep::message::CertRepContent::Success { certificates, .. }) => {
            certificates[0].clone()
        }
        other => panic!("not a SUCCESS: {other:?}"),
    }
}

fn failed(handled: &Handled) -> (FailInfo, String) {
    match &handled.report.outcome {
        Outcome::Failed { fail_info, reason } => (*fail_info, reason.clone()),
        other => panic!("not a FAILURE: {other:?}"),
    }
}

#[test]
fn an_enrolment_issued_at_once_is_answered_again_from_its_transaction() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    let device = Device::self_signed("CN=device");
    let csr = device.csr("CN=device", Some(CHALLENGE));
    let id = tid("T-ISSUE");
    let (handled, content) = device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &id,
        RequestContent::PkcsReq(csr.clone()),
    );
    assert_eq!(handled.report.outcome, Outcome::Success);
    assert_eq!(handled.report.transaction_id, Some(id.clone()));
    assert_eq!(handled.report.message_type, Some(MessageType::PkcsReq));
    let first = issued_certificate(&content);
    // The client lost the answer and sends the request again (a new nonce): the same
    // certificate, from the transaction; the CA is not asked again.
    let (_, again) = device.send(&server, &ca, &ca.ca.cert, &id, RequestContent::PkcsReq(csr));
    assert_eq!(issued_certificate(&again), first);
    // And a CertPoll (RFC 8894 section 5.2, resync): the same.
    let (_, polled) = device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &id,
        poll_content(&ca.ca.cert, "CN=device"),
    );
    assert_eq!(issued_certificate(&polled), first);
    assert_eq!(Scripted::count(&ca.enrols), 1);
    assert_eq!(Scripted::count(&ca.challenges), 1);
    assert_eq!(Scripted::count(&ca.polls), 0);
}

#[test]
fn a_pending_enrolment_is_decided_when_polled() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    let device = Device::self_signed("CN=patient");
    let id = tid("T-PENDING");
    ca.script([Some(Decision::Pend), Some(Decision::Pend), ISSUE]);
    let csr = device.csr("CN=patient", Some(CHALLENGE));
    let (handled, _) = device.send(&server, &ca, &ca.ca.cert, &id, RequestContent::PkcsReq(csr));
    assert_eq!(handled.report.outcome, Outcome::Pending);
    let poll = || poll_content(&ca.ca.cert, "CN=patient");
    let (handled, _) = device.send(&server, &ca, &ca.ca.cert, &id, poll());
    assert_eq!(handled.report.outcome, Outcome::Pending);
    let (handled, content) = device.send(&server, &ca, &ca.ca.cert, &id, poll());
    assert_eq!(handled.report.outcome, Outcome::Success);
    let cert = issued_certificate(&content);
    // Issued: polls after that are answered from the transaction.
    let (_, again) = device.send(&server, &ca, &ca.ca.cert, &id, poll());
    assert_eq!(issued_certificate(&again), cert);
    assert_eq!(Scripted::count(&ca.polls), 2);
}

#[test]
fn a_poll_is_answered_only_for_the_key_that_began_the_transaction() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    let device = Device::self_signed("CN=victim");
    let id = tid("T-VICTIM");
    ca.script([Some(Decision::Pend)]);
    let csr = device.csr("CN=victim", Some(CHALLENGE));
    device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &id,
        RequestContent::PkcsReq(csr.clone()),
    );
    let stranger = Device::self_signed("CN=victim");
    let (handled, content) = stranger.send(
        &server,
        &ca,
        &ca.ca.cert,
        &id,
        poll_content(&ca.ca.cert, "CN=victim"),
    );
    assert_eq!(failed(&handled).0, FailInfo::BadCertId);
    assert!(matches!(
        content,
        Some(scep::message::CertRepContent::Failure { .. })
    ));
    // Nor does the stranger get anywhere with the victim's request under his own key.
    let (handled, _) = stranger.send(&server, &ca, &ca.ca.cert, &id, RequestContent::PkcsReq(csr));
    assert_eq!(failed(&handled).0, FailInfo::BadRequest);
    // An unknown transaction: the same answer as the stranger's.
    let (handled, _) = device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &tid("T-UNKNOWN"),
        poll_content(&ca.ca.cert, "CN=victim"),
    );
    assert_eq!(failed(&handled).0, FailInfo::BadCertId);
    assert_eq!(Scripted::count(&ca.polls), 0);
}

#[test]
fn a_rejection_tells_the_peer_a_fixed_text_and_stays() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    let device = Device::self_signed("CN=refused");
    let id = tid("T-REJECT");
    ca.script([Some(Decision::Reject {
        fail_info: FailInfo::BadRequest,
        reason: "the operator said no: subject not in the inventory".into(),
    })]);
    let csr = device.csr("CN=refused", Some(CHALLENGE));
    let (handled, content) =
        device.send(&server, &ca, &ca.ca.cert, &id, RequestContent::PkcsReq(csr));
    let (fail_info, reason) = failed(&handled);
    assert_eq!(fail_info, FailInfo::BadRequest);
    assert!(reason.contains("inventory"));
    match content {
        Some(scep::message::CertRepContent::Failure { fail_info_text, .. }) => {
            assert_eq!(
                fail_info_text.as_deref(),
                Some(FailInfo::BadRequest.description())
            );
        }
        other => panic!("{other:?}"),
    }
    let (handled, _) = device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &id,
        poll_content(&ca.ca.cert, "CN=refused"),
    );
    assert_eq!(failed(&handled).0, FailInfo::BadRequest);
    assert_eq!(Scripted::count(&ca.polls), 0);
}

#[test]
fn a_wrong_challenge_or_a_foreign_signer_is_refused_before_the_ca_decides() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    let device = Device::self_signed("CN=guesser");
    let (handled, _) = device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &tid("T-WRONG"),
        RequestContent::PkcsReq(device.csr("CN=guesser", Some("guess"))),
    );
    assert!(failed(&handled).1.contains("challenge"));
    // A request signed by another key than the CSR's (a captured one, re-signed).
    let other = Device::self_signed("CN=other");
    let (handled, _) = other.send(
        &server,
        &ca,
        &ca.ca.cert,
        &tid("T-FOREIGN"),
        RequestContent::PkcsReq(device.csr("CN=guesser", Some(CHALLENGE))),
    );
    assert!(failed(&handled).1.contains("not signed with the key"));
    // Allowed when the server allows foreign signers (Apple MDM identities).
    let lenient = ca.ca.server(|c| c.allow_foreign_signers = true);
    let (handled, _) = other.send(
        &lenient,
        &ca,
        &ca.ca.cert,
        &tid("T-FOREIGN"),
        RequestContent::PkcsReq(device.csr("CN=guesser", Some(CHALLENGE))),
    );
    assert_eq!(handled.report.outcome, Outcome::Success);
    assert_eq!(Scripted::count(&ca.enrols), 1);
}

#[test]
fn renewals_are_checked_by_the_server() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|c| c.renewal.allow_rekey = true);
    let now = SystemTime::now();
    let day = Duration::from_secs(86400);
    let device = Device::self_signed("CN=renewing");
    let n = name("CN=renewing");
    let valid = device.with_cert(ca.ca.issue(&n, device.key.as_ref(), now - day, now + day));
    let expired = device.with_cert(
        ca.ca
            .issue(&n, device.key.as_ref(), now - 2 * day, now - day),
    );
    let other_ca = Ca::new();
    let foreign = device.with_cert(other_ca.issue(&n, device.key.as_ref(), now - day, now + day));
    let renew = |d: &Device, cn: &str, id: &str| {
        d.send(
            &server,
            &ca,
            &ca.ca.cert,
            &tid(id),
            RequestContent::RenewalReq(d.csr(cn, None)),
        )
        .0
    };
    assert!(
        failed(&renew(&expired, "CN=renewing", "R1"))
            .1
            .contains("expired")
    );
    assert!(
        failed(&renew(&foreign, "CN=renewing", "R2"))
            .1
            .contains("not issued by this CA")
    );
    assert!(
        failed(&renew(&device, "CN=renewing", "R3"))
            .1
            .contains("not issued by this CA")
    );
    assert!(
        failed(&renew(&valid, "CN=somebody else", "R4"))
            .1
            .contains("subject")
    );
    assert_eq!(Scripted::count(&ca.enrols), 0);
    assert_eq!(
        renew(&valid, "CN=renewing", "R5").report.outcome,
        Outcome::Success
    );
    // No challenge was asked for.
    assert_eq!(Scripted::count(&ca.challenges), 0);
}

#[test]
fn another_request_under_a_pending_transaction_id_is_refused() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    let device = Device::self_signed("CN=twice");
    let id = tid("T-TWICE");
    ca.script([Some(Decision::Pend)]);
    device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &id,
        RequestContent::PkcsReq(device.csr("CN=twice", Some(CHALLENGE))),
    );
    let (handled, _) = device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &id,
        RequestContent::PkcsReq(device.csr("CN=twice-other", Some(CHALLENGE))),
    );
    assert!(failed(&handled).1.contains("still pending"));
    assert_eq!(Scripted::count(&ca.enrols), 1);
}

#[test]
fn an_answer_that_cannot_be_encrypted_is_known_before_the_ca_is_asked() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    // An ECDSA device renewing without a challenge in its CSR: nothing to seal the
    // SUCCESS with (the CA gives no password for it).
    let key = {
        use p256::elliptic_curve::Generate;
        p256::ecdsa::SigningKey::generate_from_rng(&mut rng())
    };
    let now = SystemTime::now();
    let cert = ca.ca.issue(
        &name("CN=ec"),
        &key,
        now - Duration::from_secs(60),
        now + Duration::from_secs(3600),
    );
    let mut p = CsrParams::new(name("CN=ec"));
    p.challenge_password = None;
    let csr = p.build(&key).unwrap();
    let request = OutgoingRequest {
        transaction_id: tid("T-EC"),
        sender_nonce: Nonce::generate(&mut rng()),
        content: RequestContent::RenewalReq(csr),
    };
    let sealed = request
        .seal(
            &SealParams::new(&key, &cert),
            Recipient::Certificate(&ca.ca.cert),
            &mut rng(),
        )
        .unwrap();
    let handled = server.handle(
        &ca,
        "POST",
        "operation=PKIOperation",
        &sealed,
        now,
        &mut rng(),
    );
    assert!(
        failed(&handled).1.contains("cannot be encrypted"),
        "{:?}",
        handled.report
    );
    assert_eq!(Scripted::count(&ca.enrols), 0);
}

#[test]
fn a_ca_that_cannot_decide_now_leaves_a_pending_transaction() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    let device = Device::self_signed("CN=unlucky");
    let id = tid("T-DOWN");
    ca.fail_next();
    let (handled, content) = device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &id,
        RequestContent::PkcsReq(device.csr("CN=unlucky", Some(CHALLENGE))),
    );
    assert_eq!(handled.response.status, 503);
    assert!(content.is_none());
    assert!(matches!(
        handled.report.outcome,
        Outcome::Refused { status: 503, .. }
    ));
    // The client polls: the CA decides then.
    let (handled, content) = device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &id,
        poll_content(&ca.ca.cert, "CN=unlucky"),
    );
    assert_eq!(handled.report.outcome, Outcome::Success);
    issued_certificate(&content);
}

/// A transaction store that cannot answer.
struct Down;

impl TransactionStore for Down {
    fn get(&self, _id: &TransactionId) -> Result<Option<Transaction>, StoreError> {
        Err(StoreError::new("transaction store", "connection refused"))
    }
    fn insert(
        &self,
        _t: &Transaction,
        _replacing: Option<&Transaction>,
    ) -> Result<Option<Transaction>, StoreError> {
        Err(StoreError::new("transaction store", "connection refused"))
    }
    fn finish(
        &self,
        _id: &TransactionId,
        _g: Generation,
        _s: &TransactionState,
    ) -> Result<bool, StoreError> {
        Err(StoreError::new("transaction store", "connection refused"))
    }
}

#[test]
fn a_store_that_cannot_answer_is_http_503_with_a_fixed_text() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {}).with_transaction_store(Arc::new(Down));
    let device = Device::self_signed("CN=waiting");
    let (handled, _) = device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &tid("T-503"),
        RequestContent::PkcsReq(device.csr("CN=waiting", Some(CHALLENGE))),
    );
    assert_eq!(handled.response.status, 503);
    assert!(!String::from_utf8_lossy(&handled.response.body).contains("connection refused"));
    match &handled.report.outcome {
        Outcome::Refused {
            status: 503,
            reason,
        } => assert!(reason.contains("connection refused")),
        other => panic!("{other:?}"),
    }
    assert_eq!(Scripted::count(&ca.enrols), 0);
}

#[test]
fn a_flood_of_unauthorised_requests_does_not_forget_an_authorised_one() {
    let ca = Scripted::new(Ca::new());
    // A replay store of 4 nonces and 4 envelopes.
    let server = ca.ca.server(|c| {
        c.replay_cache_size = 4;
        c.envelope_memory = 4;
    });
    let device = Device::self_signed("CN=kept");
    let sealed = device.sealed(
        &ca.ca.cert,
        &tid("T-KEPT"),
        RequestContent::PkcsReq(device.csr("CN=kept", Some(CHALLENGE))),
    );
    let query = "operation=PKIOperation";
    let now = SystemTime::now();
    let first = server.handle(&ca, "POST", query, &sealed, now, &mut rng());
    assert_eq!(first.report.outcome, Outcome::Success);
    // Ten self-signed requests with a wrong challenge, each a fresh nonce and envelope.
    for i in 0..10 {
        let flood = Device::self_signed("CN=flood");
        let (handled, _) = flood.send(
            &server,
            &ca,
            &ca.ca.cert,
            &tid(&format!("F{i}")),
            RequestContent::PkcsReq(flood.csr("CN=flood", Some("wrong"))),
        );
        assert!(matches!(handled.report.outcome, Outcome::Failed { .. }));
    }
    // The authorised request sent again is still known: refused as a replay.
    let again = server.handle(&ca, "POST", query, &sealed, now, &mut rng());
    assert_eq!(again.response.status, 400);
}

#[test]
fn the_server_serves_threads_at_once() {
    let ca = Arc::new(Scripted::new(Ca::new()));
    let server = Arc::new(ca.ca.server(|_| {}));
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let (ca, server) = (ca.clone(), server.clone());
            std::thread::spawn(move || {
                let mut serials = Vec::new();
                for i in 0..3 {
                    let cn = format!("CN=thread {t} device {i}");
                    let device = Device::self_signed(&cn);
                    let (handled, content) = device.send(
                        &server,
                        ca.as_ref(),
                        &ca.ca.cert,
                        &tid(&format!("T{t}-{i}")),
                        RequestContent::PkcsReq(device.csr(&cn, Some(CHALLENGE))),
                    );
                    assert_eq!(handled.report.outcome, Outcome::Success);
                    serials.push(
                        issued_certificate(&content)
                            .tbs_certificate()
                            .serial_number()
                            .clone(),
                    );
                }
                serials
            })
        })
        .collect();
    let mut serials: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let n = serials.len();
    serials.sort_by_key(|s| s.as_bytes().to_vec());
    serials.dedup();
    assert_eq!((n, serials.len()), (6, 6));
}

/// A transaction store of two instances in which instance A is overtaken: between A's
/// look-up (nothing there yet) and its insert, `overtake` runs (instance B handles the
/// same request to the end).
struct Overtaken {
    inner: Arc<MemoryTransactionStore>,
    overtake: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl TransactionStore for Overtaken {
    fn get(&self, id: &TransactionId) -> Result<Option<Transaction>, StoreError> {
        let seen = self.inner.get(id)?;
        let overtake = self.overtake.lock().unwrap().take();
        if let Some(overtake) = overtake {
            overtake();
        }
        Ok(seen)
    }
    fn insert(
        &self,
        t: &Transaction,
        replacing: Option<&Transaction>,
    ) -> Result<Option<Transaction>, StoreError> {
        self.inner.insert(t, replacing)
    }
    fn finish(
        &self,
        id: &TransactionId,
        g: Generation,
        s: &TransactionState,
    ) -> Result<bool, StoreError> {
        self.inner.finish(id, g, s)
    }
}

/// Two instances on shared stores, with retransmissions accepted (a client sending one
/// request to both): instance A is returned, overtaken by B (between A's look-up and
/// its insert, B handles `query` and `body` to the end and must answer SUCCESS); and B's
/// certificate, once A has handled the request.
fn overtaken_instance(
    ca: &Arc<Scripted>,
    device: &Arc<Device>,
    query: &str,
    body: &[u8],
) -> (
    Server,
    Arc<MemoryTransactionStore>,
    Arc<Mutex<Option<Certificate>>>,
) {
    let shared = Arc::new(MemoryTransactionStore::new(100));
    let replay: Arc<MemoryReplayStore> = Arc::new(MemoryReplayStore::new(100, 100));
    let retransmissions = |c: &mut ServerConfig| c.accept_retransmissions = true;
    let b = ca
        .ca
        .server(retransmissions)
        .with_transaction_store(shared.clone())
        .with_replay_store(replay.clone());
    let from_b = Arc::new(Mutex::new(None));
    let overtake = {
        let (ca, device, from_b) = (ca.clone(), device.clone(), from_b.clone());
        let (query, body) = (query.to_owned(), body.to_vec());
        Box::new(move || {
            let (handled, content) = device.post(&b, ca.as_ref(), &ca.ca.cert, &query, &body);
            assert_eq!(handled.report.outcome, Outcome::Success, "B");
            *from_b.lock().unwrap() = Some(issued_certificate(&content));
        })
    };
    let a = ca
        .ca
        .server(retransmissions)
        .with_transaction_store(Arc::new(Overtaken {
            inner: shared.clone(),
            overtake: Mutex::new(Some(overtake)),
        }))
        .with_replay_store(replay);
    (a, shared, from_b)
}

#[test]
fn two_instances_answering_one_request_at_once_issue_one_certificate() {
    let ca = Arc::new(Scripted::new(Ca::new()));
    let device = Arc::new(Device::self_signed("CN=raced"));
    let (query, body) = device.seal(
        &ca.ca.cert,
        &tid("RACED"),
        RequestContent::PkcsReq(device.csr("CN=raced", Some(CHALLENGE))),
    );
    let (a, shared, from_b) = overtaken_instance(&ca, &device, &query, &body);
    let (handled, content) = device.post(&a, ca.as_ref(), &ca.ca.cert, &query, &body);
    assert_eq!(handled.report.outcome, Outcome::Success, "A");
    let from_b = from_b.lock().unwrap().clone().expect("B answered first");
    assert_eq!(
        issued_certificate(&content),
        from_b,
        "A answers with B's certificate"
    );
    assert_eq!(Scripted::count(&ca.enrols), 1, "the CA decided once");
    assert_eq!(Scripted::count(&ca.polls), 0);
    match shared.get(&tid("RACED")).unwrap().unwrap().state {
        TransactionState::Issued(chain) => assert_eq!(chain, vec![from_b]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_finished_transaction_is_replaced_and_finished_only_as_it_was_read() {
    let ca = Ca::new();
    let device = Device::self_signed("CN=stored");
    let spki = device
        .cert
        .tbs_certificate()
        .subject_public_key_info()
        .clone();
    let transaction = |generation| {
        Transaction::new(
            tid("STORED"),
            generation,
            MessageType::PkcsReq,
            spki.clone(),
            device.csr("CN=stored", Some(CHALLENGE)),
            None,
            None,
            TransactionState::Pending,
            SystemTime::now(),
        )
    };
    let (first, second, stranger) = (
        Generation::from_bytes([1; 16]),
        Generation::from_bytes([2; 16]),
        Generation::from_bytes([3; 16]),
    );
    let store = MemoryTransactionStore::new(10);
    let pending = transaction(first);
    assert_eq!(store.insert(&pending, None).unwrap(), None);
    // Stored: an insert returns what is there, whether or not it is finished.
    assert_eq!(store.insert(&pending, None).unwrap(), Some(pending.clone()));
    let issued = TransactionState::Issued(vec![ca.cert.clone()]);
    assert!(
        !store.finish(&pending.id, stranger, &issued).unwrap(),
        "not finished under another generation"
    );
    assert_eq!(store.get(&pending.id).unwrap(), Some(pending.clone()));
    assert!(store.finish(&pending.id, first, &issued).unwrap());
    assert!(
        !store.finish(&pending.id, first, &issued).unwrap(),
        "finished once"
    );
    let finished = store.get(&pending.id).unwrap().unwrap();
    let renewal = transaction(second);
    assert_eq!(
        store.insert(&renewal, None).unwrap(),
        Some(finished.clone()),
        "not replaced without naming it"
    );
    assert_eq!(
        store
            .insert(&renewal, Some(&transaction(stranger)))
            .unwrap(),
        Some(finished.clone()),
        "not replaced when another generation was read"
    );
    assert_eq!(store.insert(&renewal, Some(&finished)).unwrap(), None);
    assert_eq!(store.get(&pending.id).unwrap(), Some(renewal));
    // A decision on the old generation, arriving late, does not finish the new one.
    let late = TransactionState::Rejected(FailInfo::BadRequest);
    assert!(!store.finish(&pending.id, first, &late).unwrap());
    assert!(store.finish(&pending.id, second, &issued).unwrap());
}

#[test]
fn a_revoked_certificate_renews_no_more() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    let now = SystemTime::now();
    let day = Duration::from_secs(86400);
    let device = Device::self_signed("CN=revoked");
    let n = name("CN=revoked");
    let cert = ca.ca.issue(&n, device.key.as_ref(), now - day, now + day);
    let holder = device.with_cert(cert.clone());
    // A renewal that waits, then the certificate is revoked.
    ca.script([Some(Decision::Pend)]);
    let (handled, _) = holder.send(
        &server,
        &ca,
        &ca.ca.cert,
        &tid("REV-PENDING"),
        RequestContent::RenewalReq(holder.csr("CN=revoked", None)),
    );
    assert_eq!(handled.report.outcome, Outcome::Pending);
    ca.revoked.lock().unwrap().push(cert);
    // Polled with a self-signed certificate over the same key: the revocation of the
    // certificate that signed the renewal still counts.
    let poll = |id: &str| {
        device
            .send(
                &server,
                &ca,
                &ca.ca.cert,
                &tid(id),
                poll_content(&ca.ca.cert, "CN=revoked"),
            )
            .0
    };
    let (fail_info, reason) = failed(&poll("REV-PENDING"));
    assert_eq!(fail_info, FailInfo::BadRequest);
    assert!(reason.contains("revoked"), "{reason}");
    assert_eq!(
        Scripted::count(&ca.polls),
        0,
        "the CA was not asked to issue"
    );
    // Rejected for good.
    assert_eq!(failed(&poll("REV-PENDING")).1, "rejected before");
    // A new renewal, or a PKCSReq signed with the revoked certificate, is refused.
    for (id, content) in [
        (
            "REV-RENEW",
            RequestContent::RenewalReq(holder.csr("CN=revoked", None)),
        ),
        (
            "REV-PKCSREQ",
            RequestContent::PkcsReq(holder.csr("CN=revoked", Some(CHALLENGE))),
        ),
    ] {
        let (handled, _) = holder.send(&server, &ca, &ca.ca.cert, &tid(id), content);
        let (fail_info, reason) = failed(&handled);
        assert_eq!(fail_info, FailInfo::BadRequest, "{id}");
        assert!(reason.contains("revoked"), "{id}: {reason}");
    }
    assert_eq!(Scripted::count(&ca.enrols), 1, "only the first renewal");
}

/// A transaction store that is down until told otherwise.
struct Flaky {
    inner: MemoryTransactionStore,
    down: AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new("transaction store", "connection refused"))
        } else {
            Ok(())
        }
    }
}

impl TransactionStore for Flaky {
    fn get(&self, id: &TransactionId) -> Result<Option<Transaction>, StoreError> {
        self.check()?;
        self.inner.get(id)
    }
    fn insert(
        &self,
        t: &Transaction,
        replacing: Option<&Transaction>,
    ) -> Result<Option<Transaction>, StoreError> {
        self.check()?;
        self.inner.insert(t, replacing)
    }
    fn finish(
        &self,
        id: &TransactionId,
        g: Generation,
        s: &TransactionState,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.finish(id, g, s)
    }
}

#[test]
fn a_request_refused_with_503_is_answered_when_sent_again() {
    let ca = Scripted::new(Ca::new());
    let store = Arc::new(Flaky {
        inner: MemoryTransactionStore::new(10),
        down: AtomicBool::new(true),
    });
    // Retransmissions refused (the default): only a forgotten nonce lets the retry in.
    let server = ca.ca.server(|_| {}).with_transaction_store(store.clone());
    let device = Device::self_signed("CN=retry");
    let (query, body) = device.seal(
        &ca.ca.cert,
        &tid("T-RETRY"),
        RequestContent::PkcsReq(device.csr("CN=retry", Some(CHALLENGE))),
    );
    let (handled, _) = device.post(&server, &ca, &ca.ca.cert, &query, &body);
    assert_eq!(handled.response.status, 503);
    store.down.store(false, Ordering::SeqCst);
    let (handled, content) = device.post(&server, &ca, &ca.ca.cert, &query, &body);
    assert_eq!(handled.report.outcome, Outcome::Success);
    issued_certificate(&content);
    // Answered now, it is remembered again: the same bytes once more are a replay.
    let (handled, _) = device.post(&server, &ca, &ca.ca.cert, &query, &body);
    assert_eq!(handled.response.status, 400);
}

/// After a 503 the request's senderNonce is forgotten, so that its client may retry; its
/// envelope is not. A stranger who re-signs the captured envelope under the same
/// attributes (nonce included), with foreign signers allowed, is refused before any key
/// transport and gets nothing issued.
#[test]
fn after_a_503_a_captured_envelope_re_signed_by_a_stranger_is_still_refused() {
    let ca = Scripted::new(Ca::new());
    let store = Arc::new(Flaky {
        inner: MemoryTransactionStore::new(10),
        down: AtomicBool::new(true),
    });
    let server = ca
        .ca
        .server(|c| c.allow_foreign_signers = true)
        .with_transaction_store(store.clone());
    let victim = Device::self_signed("CN=victim");
    let (query, body) = victim.seal(
        &ca.ca.cert,
        &tid("T-CAPTURED"),
        RequestContent::PkcsReq(victim.csr("CN=victim", Some(CHALLENGE))),
    );
    let (handled, _) = victim.post(&server, &ca, &ca.ca.cert, &query, &body);
    assert_eq!(handled.response.status, 503);
    store.down.store(false, Ordering::SeqCst);

    let captured = PkiMessage::decode(&body, &Default::default()).unwrap();
    let stranger = Device::self_signed("CN=stranger");
    let re_signed = craft::sign_message(
        captured.attributes(),
        captured.envelope().unwrap(),
        stranger.key.as_ref(),
        &stranger.cert,
        DigestAlgorithm::Sha256,
    );
    let (handled, content) = stranger.post(&server, &ca, &ca.ca.cert, &query, &re_signed);
    let (fail_info, reason) = failed(&handled);
    assert_eq!(fail_info, FailInfo::BadRequest);
    assert!(reason.contains("came with another message"), "{reason}");
    assert!(
        !matches!(content, Some(scep::message::CertRepContent::Success { .. })),
        "nothing for the stranger"
    );
    assert_eq!(
        Scripted::count(&ca.challenges),
        0,
        "refused before the CA was asked"
    );

    // A known limit: the stranger's request recorded the forgotten nonce with its own
    // message, so the victim's byte-identical retry is now a replay (HTTP 400); it must
    // start again with a fresh request. Nothing was issued to anyone.
    let (handled, _) = victim.post(&server, &ca, &ca.ca.cert, &query, &body);
    assert_eq!(handled.response.status, 400);
    assert_eq!(Scripted::count(&ca.enrols), 0);
}

#[test]
fn a_one_time_challenge_used_by_the_same_request_on_another_instance_is_answered() {
    let ca = Arc::new(Scripted::one_time(Ca::new()));
    let device = Arc::new(Device::self_signed("CN=once"));
    let (query, body) = device.seal(
        &ca.ca.cert,
        &tid("ONCE"),
        RequestContent::PkcsReq(device.csr("CN=once", Some(CHALLENGE))),
    );
    let (a, _, from_b) = overtaken_instance(&ca, &device, &query, &body);
    // A looked before B recorded the transaction; B used the challenge up.
    let (handled, content) = device.post(&a, ca.as_ref(), &ca.ca.cert, &query, &body);
    assert_eq!(handled.report.outcome, Outcome::Success, "A");
    assert_eq!(
        Some(issued_certificate(&content)),
        *from_b.lock().unwrap(),
        "A answers with B's certificate"
    );
    assert_eq!(
        Scripted::count(&ca.challenges),
        2,
        "asked on both instances"
    );
    assert_eq!(Scripted::count(&ca.enrols), 1);
    // Another request with the used-up challenge is refused.
    let other = Device::self_signed("CN=twice");
    let (handled, _) = other.send(
        &a,
        ca.as_ref(),
        &ca.ca.cert,
        &tid("TWICE"),
        RequestContent::PkcsReq(other.csr("CN=twice", Some(CHALLENGE))),
    );
    assert!(failed(&handled).1.contains("challenge"));
}

/// jscep sends a GET PKIOperation with its base64 in `message=` as it is, `+`, `/` and
/// `=` unescaped: a whole enrolment that way is answered.
#[test]
fn a_get_with_the_base64_unescaped_as_jscep_sends_it_enrols() {
    use base64ct::Encoding;
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    let device = Device::self_signed("CN=jscep-style");
    // A message whose base64 has all three characters an unescaped query mangles.
    let (sealed, base64) = loop {
        let sealed = device.sealed(
            &ca.ca.cert,
            &tid("T-JSCEP-GET"),
            RequestContent::PkcsReq(device.csr("CN=jscep-style", Some(CHALLENGE))),
        );
        let base64 = base64ct::Base64::encode_string(&sealed);
        if base64.contains('+') && base64.contains('/') && base64.ends_with('=') {
            break (sealed, base64);
        }
    };
    assert!(!sealed.is_empty());
    let query = format!("operation=PKIOperation&message={base64}");
    let handled = server.handle(&ca, "GET", &query, &[], SystemTime::now(), &mut rng());
    assert_eq!(handled.report.outcome, Outcome::Success);
}

/// The `http` feature: an `http::Request` in, an `http::Response` out, with the status,
/// Content-Type, `Allow` on 405, and a declared body over the limit refused before it is
/// read.
#[test]
#[cfg(feature = "http")]
fn http_requests_and_responses() {
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    let now = SystemTime::now();
    let get = http::Request::get("/scep?operation=GetCACaps")
        .body(Vec::new())
        .unwrap();
    let (response, report) = server.handle_http(&ca, &get, now, &mut rng());
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert!(String::from_utf8_lossy(response.body()).contains("SCEPStandard"));
    assert_eq!(report.outcome, Outcome::Answered);

    let put = http::Request::put("/scep?operation=PKIOperation")
        .body(Vec::new())
        .unwrap();
    let (response, _) = server.handle_http(&ca, &put, now, &mut rng());
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, POST");

    let limit = server.config().http_limits.max_body_size;
    let huge = http::Request::post("/scep?operation=PKIOperation")
        .header("content-length", (limit + 1).to_string())
        .body(Vec::new())
        .unwrap();
    let (response, report) = server.handle_http(&ca, &huge, now, &mut rng());
    assert_eq!(response.status(), 413);
    assert!(matches!(
        report.outcome,
        Outcome::Refused { status: 413, .. }
    ));

    // A whole enrolment through http types.
    let device = Device::self_signed("CN=http");
    let sealed = device.sealed(
        &ca.ca.cert,
        &tid("T-HTTP"),
        RequestContent::PkcsReq(device.csr("CN=http", Some(CHALLENGE))),
    );
    let post = http::Request::post("/scep?operation=PKIOperation")
        .header("content-length", sealed.len().to_string())
        .body(sealed)
        .unwrap();
    let (response, report) = server.handle_http(&ca, &post, now, &mut rng());
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-pki-message"
    );
    assert_eq!(report.outcome, Outcome::Success);
}

/// The `tracing` feature: an event per request with the operation, message type,
/// transaction ID and outcome, and the reason of a refusal; never the challenge.
#[test]
#[cfg(feature = "tracing")]
fn the_server_traces_what_it_did_without_secrets() {
    // One global subscriber for the whole test binary, writing each thread's events to
    // that thread's buffer when it has one. (A subscriber set for this thread only is
    // not enough: a callsite first reached on another test's thread, where no subscriber
    // is interested, may be cached as uninteresting.)
    thread_local! {
        static CAPTURE: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
    }
    struct ThreadBuffer;
    impl std::io::Write for ThreadBuffer {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            CAPTURE.with(|c| {
                if let Some(buffer) = c.borrow_mut().as_mut() {
                    buffer.extend_from_slice(data);
                }
            });
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadBuffer)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    CAPTURE.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let ca = Scripted::new(Ca::new());
    let server = ca.ca.server(|_| {});
    let device = Device::self_signed("CN=traced");
    device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &tid("T-TRACED"),
        RequestContent::PkcsReq(device.csr("CN=traced", Some(CHALLENGE))),
    );
    device.send(
        &server,
        &ca,
        &ca.ca.cert,
        &tid("T-GUESS"),
        RequestContent::PkcsReq(device.csr("CN=traced", Some("a guess"))),
    );
    let log = String::from_utf8(CAPTURE.with(|c| c.borrow_mut().take()).unwrap()).unwrap();
    assert!(
        log.contains("answered") && log.contains("T-TRACED") && log.contains("Success"),
        "{log}"
    );
    assert!(
        log.contains("FAILURE")
            && log.contains("T-GUESS")
            && log.contains("challenge is not accepted"),
        "{log}"
    );
    assert!(
        log.contains("PKCSReq") && log.contains("PKIOperation"),
        "{log}"
    );
    assert!(
        !log.contains(CHALLENGE) && !log.contains("a guess"),
        "a secret in the log: {log}"
    );
}

/// The `http` and `tracing` tests of this file run under plain `cargo test` because the
/// dev-dependency on the crate itself turns both features on. Under `CI`, a build where
/// that no longer holds fails here instead of skipping those tests without a word.
#[test]
fn the_http_and_tracing_tests_are_built() {
    let built = cfg!(feature = "http") && cfg!(feature = "tracing");
    let ci = std::env::var_os("CI").is_some();
    assert!(
        built || !ci,
        "the http and tracing features are off: their tests did not build"
    );
}
