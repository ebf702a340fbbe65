//! The client and server roles against each other, in process: discovery with pinning,
//! enrolment (RSA and ECDSA), PENDING and polling (with a save/restore in between),
//! renewal both ways, wrong challenge, replay and retransmission, GetCert, GetCRL,
//! GetNextCACert, and the checks a client makes on every CertRep.

#[path = "../examples/support/memory_ca.rs"]
mod memory_ca;

use core::str::FromStr;
mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::party::{Party, client_at, rsa_key};
use common::rng;

use memory_ca::MemoryCa;
use scep::asn1::IssuerAndSerialNumber;
use scep::cert::Identity;
use scep::client::{
    CaInfo, ClientConfig, Discovery, Enrollment, EnrollmentKind, Fingerprint, Outcome, Query,
    QueryOutcome, handle_next_ca_response, next_ca_request,
};
use scep::csr::CsrParams;
use scep::error::{CryptoError, PolicyError, ProtocolError};
use scep::http::HttpRequest;
use scep::{Certificate, EnvelopeKey, FailInfo, MessageSigner, MessageType};
use x509_cert::name::Name;

const CHALLENGE: &str = "roles-challenge";

/// The in-process transport: the request shape goes to the CA as an HTTP server would pass
/// it on.
fn send(ca: &mut MemoryCa, req: &HttpRequest) -> (u16, Option<String>, Vec<u8>) {
    let query = req.query.as_str();
    let r = ca.handle(req.method.as_str(), query, &req.body).unwrap();
    (r.status, Some(r.content_type.to_owned()), r.body)
}

fn config(ca: &MemoryCa) -> ClientConfig {
    let mut c = ClientConfig::new("/scep");
    c.ca_pin = Some(Fingerprint::sha256(&ca.current.cert).unwrap());
    c.poll_interval = Duration::from_secs(5);
    c
}

fn discover(ca: &mut MemoryCa, config: &ClientConfig) -> CaInfo {
    let mut d = Discovery::new(config.clone());
    loop {
        let req = d.poll_request().unwrap().expect("a discovery request");
        let (status, ct, body) = send(ca, &req);
        if let Some(info) = d
            .handle_response(
                scep::http::HttpReply::new(status, ct.as_deref(), &body),
                SystemTime::now(),
            )
            .unwrap()
        {
            assert!(d.poll_request().unwrap().is_none());
            return info;
        }
    }
}

fn csr(key: &dyn MessageSigner, cn: &str, challenge: &str) -> scep::asn1::CertReq {
    let mut p = CsrParams::new(Name::from_str(cn).unwrap());
    p.challenge_password = Some(challenge.into());
    p.build(key).unwrap()
}

/// An initial enrolment for `cn` with `challenge`, signed by `key` / `cert`.
fn initial(
    info: &CaInfo,
    cfg: &ClientConfig,
    key: &rsa::PrivateKey,
    cert: &Certificate,
    cn: &str,
    challenge: &str,
    now: SystemTime,
) -> Enrollment {
    let id = Identity::new(cert.clone(), Arc::new(key.clone())).unwrap();
    Enrollment::new(
        info,
        cfg,
        EnrollmentKind::Initial,
        csr(key, cn, challenge),
        &id,
        now,
    )
    .unwrap()
}

/// Runs an enrolment to its end, moving the clock forward to each poll.
fn run(
    ca: &mut MemoryCa,
    enrollment: &mut Enrollment,
    signer: &dyn MessageSigner,
    key: EnvelopeKey<'_>,
    mut now: SystemTime,
) -> Outcome {
    loop {
        let req = enrollment
            .poll_request(signer, now, &mut rng())
            .unwrap()
            .expect("a request is due");
        let (status, ct, body) = send(ca, &req);
        match enrollment
            .handle_response(
                scep::http::HttpReply::new(status, ct.as_deref(), &body),
                key,
                now,
            )
            .unwrap()
        {
            Outcome::Pending { next_poll } => {
                assert_eq!(enrollment.poll_timeout(), Some(next_poll));
                // Nothing is due before the poll time.
                assert!(
                    enrollment
                        .poll_request(signer, now, &mut rng())
                        .unwrap()
                        .is_none()
                );
                now = next_poll;
            }
            other => return other,
        }
    }
}

/// Sends and polls until the enrolment fails; returns the error, the number of answers
/// and the time of the last one.
fn poll_until_error(
    ca: &mut MemoryCa,
    e: &mut Enrollment,
    key: &dyn MessageSigner,
    env: EnvelopeKey<'_>,
    mut t: SystemTime,
) -> (scep::Error, u32, SystemTime) {
    let mut answers = 0;
    loop {
        let req = e.poll_request(key, t, &mut rng()).unwrap().unwrap();
        let (status, ct, body) = send(ca, &req);
        answers += 1;
        match e.handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            env,
            t,
        ) {
            Ok(Outcome::Pending { next_poll }) => t = next_poll,
            Ok(other) => panic!("{other:?}"),
            Err(err) => return (err, answers, t),
        }
    }
}

fn issued(outcome: Outcome) -> (Certificate, Vec<Certificate>) {
    match outcome {
        Outcome::Issued { certificate, chain } => (certificate, chain),
        other => panic!("not issued: {other:?}"),
    }
}

#[test]
fn rsa_enrolment_then_renewal_both_ways_then_get_cert_and_crl() {
    let mut ca = MemoryCa::new(CHALLENGE, 0, true).unwrap();
    let cfg = config(&ca);
    let info = discover(&mut ca, &cfg);
    assert_eq!(info.ca, ca.current.cert);
    assert_eq!(info.recipient, ca.current.cert);
    assert!(info.negotiated.renewal && info.negotiated.use_post);

    let now = SystemTime::now();
    let Party {
        key,
        cert: signer_cert,
    } = client_at(rsa_key(), "CN=roles rsa", now);
    let mut e = initial(
        &info,
        &cfg,
        &key,
        &signer_cert,
        "CN=roles rsa",
        CHALLENGE,
        now,
    );
    assert_eq!(e.message_type(), MessageType::PkcsReq);
    let by_key = |cert| EnvelopeKey::Key {
        key: &key,
        certificate: Some(cert),
    };
    let (cert, chain) = issued(run(&mut ca, &mut e, &key, by_key(&signer_cert), now));
    assert_eq!(cert.tbs_certificate().subject().to_string(), "CN=roles rsa");
    assert_eq!(
        cert.tbs_certificate().issuer(),
        ca.current.cert.tbs_certificate().subject()
    );
    assert!(scep::cert::certifies_key(
        &cert,
        &key.public_key_info().unwrap()
    ));
    assert!(
        chain.is_empty(),
        "the example CA sends the issued certificate only"
    );
    scep::cert::verify_issued_by(
        &cert,
        ca.current.cert.tbs_certificate().subject_public_key_info(),
    )
    .unwrap();

    // Renewal, announced: a RenewalReq signed with the issued certificate, no challenge.
    let new_key = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
    let renewing = Identity::new(cert.clone(), Arc::new(key.clone())).unwrap();
    let mut r = Enrollment::new(
        &info,
        &cfg,
        EnrollmentKind::Renewal,
        csr(&new_key, "CN=roles rsa", ""),
        &renewing,
        now,
    )
    .unwrap();
    assert_eq!(r.message_type(), MessageType::RenewalReq);
    let (renewed, _) = issued(run(&mut ca, &mut r, &key, by_key(&cert), now));
    assert!(scep::cert::certifies_key(
        &renewed,
        &new_key.public_key_info().unwrap()
    ));

    // Renewal, not announced: a PKCSReq signed with the existing certificate.
    let mut no_renewal = info.clone();
    no_renewal.negotiated.renewal = false;
    let mut p = Enrollment::new(
        &no_renewal,
        &cfg,
        EnrollmentKind::Renewal,
        csr(&new_key, "CN=roles rsa", ""),
        &renewing,
        now,
    )
    .unwrap();
    assert_eq!(p.message_type(), MessageType::PkcsReq);
    issued(run(&mut ca, &mut p, &key, by_key(&cert), now));

    // GetCert for the first certificate.
    let (q, req) = Query::get_cert(
        &info,
        &cfg,
        IssuerAndSerialNumber::of(&cert),
        &renewing,
        &mut rng(),
    )
    .unwrap();
    let (status, ct, body) = send(&mut ca, &req);
    assert_eq!(
        q.handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            by_key(&cert)
        )
        .unwrap(),
        QueryOutcome::Certificates(vec![cert.clone()])
    );
    // GetCRL: a CRL signed by the CA.
    let (q, req) = Query::get_crl(
        &info,
        &cfg,
        IssuerAndSerialNumber::of(&cert),
        &renewing,
        &mut rng(),
    )
    .unwrap();
    let (status, ct, body) = send(&mut ca, &req);
    match q
        .handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            by_key(&cert),
        )
        .unwrap()
    {
        QueryOutcome::Crl(crl) => {
            assert_eq!(
                &crl.tbs_cert_list.issuer,
                ca.current.cert.tbs_certificate().subject()
            )
        }
        other => panic!("not a CRL: {other:?}"),
    }
    // GetNextCACert, verified by the current CA.
    let req = next_ca_request(&info, &cfg).unwrap();
    let (status, ct, body) = send(&mut ca, &req);
    let next = handle_next_ca_response(
        &info,
        &cfg,
        scep::http::HttpReply::new(status, ct.as_deref(), &body),
    )
    .unwrap();
    assert_eq!(
        next.certificates,
        vec![ca.next.as_ref().unwrap().cert.clone()]
    );
}

#[test]
fn ecdsa_enrolment_through_pending_with_save_and_restore() {
    let mut ca = MemoryCa::new(CHALLENGE, 2, false).unwrap();
    let cfg = config(&ca);
    let info = discover(&mut ca, &cfg);
    let now = SystemTime::now();
    let key = {
        use p256::elliptic_curve::Generate;
        p256::ecdsa::SigningKey::generate_from_rng(&mut rng())
    };
    let id = Identity::self_signed(
        Arc::new(key.clone()),
        &Name::from_str("CN=roles ec").unwrap(),
        now,
        Duration::from_secs(3600),
        &mut rng(),
    )
    .unwrap();
    let mut e = Enrollment::new(
        &info,
        &cfg,
        EnrollmentKind::Initial,
        csr(&key, "CN=roles ec", CHALLENGE),
        &id,
        now,
    )
    .unwrap();
    let password = EnvelopeKey::Password(CHALLENGE.as_bytes());

    // First answer: PENDING.
    let req = e.poll_request(&key, now, &mut rng()).unwrap().unwrap();
    let (status, ct, body) = send(&mut ca, &req);
    let Outcome::Pending { next_poll } = e
        .handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            password,
            now,
        )
        .unwrap()
    else {
        panic!("expected PENDING");
    };
    // The client restarts: its saved state resumes the same transaction with CertPoll.
    let saved = e.save().unwrap();
    let mut resumed = Enrollment::restore(&saved, &cfg).unwrap();
    assert_eq!(resumed, e);
    assert_eq!(resumed.transaction_id(), e.transaction_id());
    // The restored enrolment knows the certificate it signs with (the key is not saved).
    assert_eq!(resumed.signer_certificate(), id.certificate());
    let (cert, _) = issued(run(&mut ca, &mut resumed, &key, password, next_poll));
    assert_eq!(resumed.polls(), 2);
    assert!(scep::cert::certifies_key(
        &cert,
        &key.public_key_info().unwrap()
    ));
}

#[test]
fn polling_stops_at_the_configured_limit() {
    let mut ca = MemoryCa::new(CHALLENGE, 100, false).unwrap();
    let mut cfg = config(&ca);
    cfg.max_polls = 3;
    let info = discover(&mut ca, &cfg);
    let now = SystemTime::now();
    let Party { key, cert } = client_at(rsa_key(), "CN=patient", now);
    let mut e = initial(&info, &cfg, &key, &cert, "CN=patient", CHALLENGE, now);
    let env = EnvelopeKey::Key {
        key: &key,
        certificate: Some(&cert),
    };
    let (err, _, _) = poll_until_error(&mut ca, &mut e, &key, env, now);
    assert_eq!(
        err,
        scep::Error::Policy(PolicyError::PollLimitReached { polls: 3 })
    );
}

#[test]
fn wrong_challenge_fails_with_bad_request_and_replay_is_refused() {
    let mut ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let cfg = config(&ca);
    let info = discover(&mut ca, &cfg);
    let now = SystemTime::now();
    let Party { key, cert } = client_at(rsa_key(), "CN=intruder", now);
    let mut e = initial(&info, &cfg, &key, &cert, "CN=intruder", "guess", now);
    let env = EnvelopeKey::Key {
        key: &key,
        certificate: Some(&cert),
    };
    let req = e.poll_request(&key, now, &mut rng()).unwrap().unwrap();
    let (status, ct, body) = send(&mut ca, &req);
    match e
        .handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            env,
            now,
        )
        .unwrap()
    {
        Outcome::Failed { fail_info, .. } => assert_eq!(fail_info, FailInfo::BadRequest),
        other => panic!("{other:?}"),
    }
    assert!(ca.issued().is_empty());

    // The same request again: its senderNonce was seen, the server refuses it, unsigned
    // (whoever replays a message need not hold its key).
    let (status, ct, body) = send(&mut ca, &req);
    assert_eq!((status, ct.as_deref()), (400, Some("text/plain")));
    assert!(
        String::from_utf8_lossy(&body).contains("replayed"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert!(ca.issued().is_empty());
}

/// micromdm's scepclient polls a PENDING enrolment by sending its PKCSReq again, byte for
/// byte. With `accept_retransmissions` the server passes it on marked as a
/// retransmission (the in-memory CA answers it as a poll); a fresh request is not marked.
#[test]
fn a_request_sent_again_unchanged_is_a_retransmission_when_accepted() {
    let mut ca = MemoryCa::new(CHALLENGE, 1, false).unwrap();
    ca.accept_retransmissions().unwrap();
    let cfg = config(&ca);
    let info = discover(&mut ca, &cfg);
    let now = SystemTime::now();
    let Party { key, cert } = client_at(rsa_key(), "CN=resender", now);
    let mut e = initial(&info, &cfg, &key, &cert, "CN=resender", CHALLENGE, now);
    let req = e.poll_request(&key, now, &mut rng()).unwrap().unwrap();
    let query = req.query.as_str().to_owned();

    // What a server makes of it, the first time and the second: by default the second is
    // refused (HTTP 400); with the option, it is passed on, marked.
    for accept in [false, true] {
        let server = memory_ca::server(&ca.current, None, accept).unwrap();
        let mut marks = Vec::new();
        for _ in 0..2 {
            match server.handle_request(
                req.method.as_str(),
                &query,
                &req.body,
                SystemTime::now(),
                &mut rng(),
            ) {
                scep::server::Incoming::PkiOperation(r) => marks.push(Some(r.is_retransmission())),
                scep::server::Incoming::Respond(_) => marks.push(None),
            }
        }
        let second = if accept { Some(true) } else { None };
        assert_eq!(
            marks,
            [Some(false), second],
            "accept_retransmissions: {accept}"
        );
    }

    // Through the CA: PENDING, then SUCCESS for the same bytes.
    let ca_cert = ca.current.cert.clone();
    let status_of = |body: &[u8]| {
        scep::message::PkiMessage::decode(body, &Default::default())
            .unwrap()
            .verify(std::slice::from_ref(&ca_cert))
            .unwrap()
            .attributes()
            .pki_status
    };
    let (_, _, first) = send(&mut ca, &req);
    assert_eq!(status_of(&first), Some(scep::PkiStatus::Pending));
    assert!(ca.issued().is_empty());
    let (_, _, second) = send(&mut ca, &req);
    assert_eq!(status_of(&second), Some(scep::PkiStatus::Success));
    assert_eq!(ca.issued().len(), 1);
}

#[test]
fn cert_reps_from_strangers_and_for_other_transactions_are_refused() {
    let mut ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let mut other_ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let cfg = config(&ca);
    let info = discover(&mut ca, &cfg);
    let now = SystemTime::now();
    let Party { key, cert } = client_at(rsa_key(), "CN=careful", now);
    let env = EnvelopeKey::Key {
        key: &key,
        certificate: Some(&cert),
    };
    let new = || initial(&info, &cfg, &key, &cert, "CN=careful", CHALLENGE, now);
    // A CA we did not pin answers (its CertRep carries its own certificate).
    let mut e = new();
    let req = e.poll_request(&key, now, &mut rng()).unwrap().unwrap();
    let (status, ct, body) = send(&mut other_ca, &req);
    assert_eq!(
        e.handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            env,
            now
        )
        .unwrap_err(),
        scep::Error::Crypto(CryptoError::UntrustedSigner)
    );
    // The answer to another request of ours (another nonce) is refused.
    let mut a = new();
    let mut b = new();
    let req_a = a.poll_request(&key, now, &mut rng()).unwrap().unwrap();
    let _req_b = b.poll_request(&key, now, &mut rng()).unwrap().unwrap();
    let (status, ct, body) = send(&mut ca, &req_a);
    assert_eq!(
        b.handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            env,
            now
        )
        .unwrap_err(),
        scep::Error::Protocol(ProtocolError::RecipientNonceMismatch)
    );
    // A response with nothing outstanding.
    assert_eq!(
        b.handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            env,
            now
        )
        .unwrap_err(),
        scep::Error::Protocol(ProtocolError::UnexpectedResponse(
            "no request is outstanding"
        ))
    );
}

#[test]
fn discovery_pins_and_identities_are_checked() {
    let mut ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let mut cfg = config(&ca);
    cfg.ca_pin = Some(Fingerprint::from_hex(&"AB".repeat(32)).unwrap());
    let mut d = Discovery::new(cfg.clone());
    let req = d.poll_request().unwrap().unwrap();
    let (s, ct, b) = send(&mut ca, &req);
    d.handle_response(
        scep::http::HttpReply::new(s, ct.as_deref(), &b),
        SystemTime::now(),
    )
    .unwrap();
    let req = d.poll_request().unwrap().unwrap();
    let (s, ct, b) = send(&mut ca, &req);
    assert_eq!(
        d.handle_response(
            scep::http::HttpReply::new(s, ct.as_deref(), &b),
            SystemTime::now()
        )
        .unwrap_err(),
        scep::Error::Policy(PolicyError::CaPinMismatch)
    );
    // A SHA-1 pin in the colon-separated form NDES prints also works.
    let sha1 = scep::DigestAlgorithm::Sha1.digest(&der::Encode::to_der(&ca.current.cert).unwrap());
    let text: Vec<String> = sha1.iter().map(|b| format!("{b:02x}")).collect();
    cfg.ca_pin = Some(Fingerprint::from_hex(&text.join(":")).unwrap());
    discover(&mut ca, &cfg);

    // Half an identity is a typed error, and so is somebody else's key.
    let key = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
    let cert = ca.current.cert.clone();
    assert!(matches!(
        Identity::from_parts(Some(cert.clone()), None),
        Err(scep::Error::Key { .. })
    ));
    assert!(matches!(
        Identity::from_parts(None, Some(Arc::new(key.clone()))),
        Err(scep::Error::Key { .. })
    ));
    assert!(matches!(
        Identity::from_parts(Some(cert), Some(Arc::new(key.clone()))),
        Err(scep::Error::Key { .. })
    ));
}

/// Microsoft NDES: two RA certificates with one subject and the Certificate Request Agent
/// extended key usage, the signing one with digitalSignature, the encryption one with
/// keyEncipherment. Refused unless the client trusts RAs; trusted when marked or pinned.
/// An encryption certificate without the marker is trusted only when pinned.
#[test]
fn ndes_style_ca_with_separate_ra_signing_and_encryption_certificates() {
    use scep::cert::{CertificateParams, end_entity_extensions, issue, random_serial};
    use scep::client::RaTrust;
    use scep::error::Distrust;
    use x509_cert::ext::ToExtension;
    use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages};
    let ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let now = SystemTime::now();
    let certificate_request_agent =
        der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.1");
    let ra = |usage: KeyUsages, eku: bool| -> Certificate {
        let key = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
        let name = Name::from_str("CN=NDES RA,O=example").unwrap();
        let spki = key.public_key_info().unwrap();
        let mut extensions: Vec<_> = end_entity_extensions(&name, &spki, None)
            .unwrap()
            .into_iter()
            .filter(|e| e.extn_id != const_oid::db::rfc5280::ID_CE_KEY_USAGE)
            .collect();
        extensions.push((&KeyUsage(usage.into())).to_extension(&name, &[]).unwrap());
        if eku {
            extensions.push(
                (&ExtendedKeyUsage(vec![certificate_request_agent]))
                    .to_extension(&name, &[])
                    .unwrap(),
            );
        }
        issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng()).unwrap(),
                subject: name,
                public_key: spki,
                not_before: now - Duration::from_secs(60),
                not_after: now + Duration::from_secs(3600),
                extensions,
            },
            ca.current.cert.tbs_certificate().subject(),
            ca.current.key.as_ref(),
            scep::DigestAlgorithm::Sha256,
        )
        .unwrap()
    };
    let sign = ra(KeyUsages::DigitalSignature, true);
    let enc = ra(KeyUsages::KeyEncipherment, true);
    let caps = memory_ca::capabilities();
    let answer = vec![sign.clone(), ca.current.cert.clone(), enc.clone()];
    let mut cfg = config(&ca);
    assert!(matches!(
        CaInfo::new(caps.clone(), answer.clone(), &cfg, now),
        Err(scep::Error::Policy(PolicyError::UntrustedCertificate {
            reason: Distrust::NotTrustedAsRa,
            ..
        }))
    ));
    for trust in [
        RaTrust::Marked,
        RaTrust::Pinned(vec![
            Fingerprint::sha256(&sign).unwrap(),
            Fingerprint::sha256(&enc).unwrap(),
        ]),
    ] {
        cfg.ra_trust = trust;
        let info = CaInfo::new(caps.clone(), answer.clone(), &cfg, now).unwrap();
        assert_eq!(info.ca, ca.current.cert);
        assert_eq!(info.recipient, enc);
        assert_eq!(info.signers, vec![sign.clone(), ca.current.cert.clone()]);
    }
    // An unmarked encryption certificate with the RA's subject: an RA only when pinned.
    let unmarked = ra(KeyUsages::KeyEncipherment, false);
    let with_unmarked = vec![sign.clone(), ca.current.cert.clone(), unmarked.clone()];
    cfg.ra_trust = RaTrust::Marked;
    assert!(matches!(
        CaInfo::new(caps.clone(), with_unmarked.clone(), &cfg, now),
        Err(scep::Error::Policy(PolicyError::UntrustedCertificate {
            reason: Distrust::NotTrustedAsRa,
            ..
        }))
    ));
    cfg.ra_trust = RaTrust::Pinned(vec![
        Fingerprint::sha256(&sign).unwrap(),
        Fingerprint::sha256(&unmarked).unwrap(),
    ]);
    let info = CaInfo::new(caps.clone(), with_unmarked, &cfg, now).unwrap();
    assert_eq!(info.recipient, unmarked);
    // Marked: a certificate without the marker and with another subject is not an RA.
    cfg.ra_trust = RaTrust::Marked;
    let (_, other) = {
        let key = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
        let name = Name::from_str("CN=some device").unwrap();
        let spki = key.public_key_info().unwrap();
        let cert = issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng()).unwrap(),
                extensions: end_entity_extensions(&name, &spki, None).unwrap(),
                subject: name,
                public_key: spki,
                not_before: now - Duration::from_secs(60),
                not_after: now + Duration::from_secs(3600),
            },
            ca.current.cert.tbs_certificate().subject(),
            ca.current.key.as_ref(),
            scep::DigestAlgorithm::Sha256,
        )
        .unwrap();
        (key, cert)
    };
    let mut with_device = answer.clone();
    with_device.push(other);
    assert!(matches!(
        CaInfo::new(caps.clone(), with_device, &cfg, now),
        Err(scep::Error::Policy(PolicyError::UntrustedCertificate {
            reason: Distrust::NotTrustedAsRa,
            ..
        }))
    ));

    // A certificate that does not chain to the pinned CA is refused.
    let stranger = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    assert!(matches!(
        CaInfo::new(
            caps,
            vec![ca.current.cert.clone(), stranger.current.cert.clone()],
            &cfg,
            now,
        ),
        Err(scep::Error::Policy(PolicyError::UntrustedCertificate {
            reason: Distrust::NoTrustedIssuer,
            ..
        }))
    ));
}

#[test]
fn polling_stops_at_the_configured_time() {
    let mut ca = MemoryCa::new(CHALLENGE, 100, false).unwrap();
    let mut cfg = config(&ca);
    cfg.max_poll_duration = Duration::from_secs(12);
    let info = discover(&mut ca, &cfg);
    let now = SystemTime::now();
    let Party { key, cert } = client_at(rsa_key(), "CN=late", now);
    let mut e = initial(&info, &cfg, &key, &cert, "CN=late", CHALLENGE, now);
    let env = EnvelopeKey::Key {
        key: &key,
        certificate: Some(&cert),
    };
    // Polls every 5 s: at 0 and 5 still PENDING; the PENDING at 10 s puts the next poll
    // (15 s) past the limit, which that answer reports.
    let (err, answers, t) = poll_until_error(&mut ca, &mut e, &key, env, now);
    assert_eq!(err, scep::Error::Policy(PolicyError::PollTimeExceeded));
    assert_eq!(answers, 3);
    // The transaction can be resumed with wider limits: the next poll is due.
    e.set_poll_limits(100, Duration::from_secs(3600));
    assert!(
        e.poll_request(&key, t + Duration::from_secs(5), &mut rng())
            .unwrap()
            .is_some()
    );
}

#[test]
fn server_decrypts_with_the_key_a_request_is_addressed_to_during_rollover() {
    use scep::server::{DecryptionKey, Server, ServerConfig};
    use std::sync::Arc;
    let old = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let new = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let server = Server::new(
        ServerConfig::new(memory_ca::capabilities(), vec![new.current.cert.clone()]),
        new.current.cert.clone(),
        Identity::new(new.current.cert.clone(), new.current.key.clone()).unwrap(),
        vec![
            DecryptionKey {
                certificate: new.current.cert.clone(),
                key: new.current.key.clone(),
            },
            DecryptionKey {
                certificate: old.current.cert.clone(),
                key: old.current.key.clone() as Arc<dyn scep::KeyDecryptor + Send + Sync>,
            },
        ],
    )
    .unwrap();
    // A client that still encrypts to the old CA certificate.
    let key = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
    let now = SystemTime::now();
    let id = Identity::self_signed(
        Arc::new(key.clone()),
        &Name::from_str("CN=rollover").unwrap(),
        now,
        Duration::from_secs(3600),
        &mut rng(),
    )
    .unwrap();
    for recipient in [&old.current.cert, &new.current.cert] {
        let request = scep::message::OutgoingRequest {
            transaction_id: scep::TransactionId::random(&mut rng()),
            sender_nonce: scep::Nonce::generate(&mut rng()),
            content: scep::message::RequestContent::PkcsReq(csr(&key, "CN=rollover", CHALLENGE)),
        };
        let sealed = request
            .seal(
                &scep::message::SealParams::new(&key, id.certificate()),
                scep::Recipient::Certificate(recipient),
                &mut rng(),
            )
            .unwrap();
        let scep::server::Incoming::PkiOperation(mut received) = server.handle_request(
            "POST",
            "operation=PKIOperation",
            &sealed,
            SystemTime::now(),
            &mut rng(),
        ) else {
            panic!("not a PKIOperation");
        };
        assert_eq!(received.message_type(), MessageType::PkcsReq);
        assert!(!received.signer_issued_by_ca());
        let content = server.decrypt(&mut received).unwrap();
        assert_eq!(content, request.content);
        assert_eq!(received.cipher(), Some(scep::ContentCipher::Aes128Cbc));
    }
}

#[test]
fn subject_match_is_optional_because_cas_rewrite_subjects() {
    use scep::cert::{CertificateParams, end_entity_extensions, issue, random_serial};
    use scep::message::CertRepContent;
    use scep::server::Incoming;
    let ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let server = memory_ca::server(&ca.current, None, false).unwrap();
    let now = SystemTime::now();
    for require in [false, true] {
        let mut cfg = ClientConfig::new("/scep");
        cfg.ca_pin = Some(Fingerprint::sha256(&ca.current.cert).unwrap());
        cfg.require_subject_match = require;
        let info = CaInfo::new(
            memory_ca::capabilities(),
            vec![ca.current.cert.clone()],
            &cfg,
            now,
        )
        .unwrap();
        let Party { key, cert } = client_at(rsa_key(), "CN=asked for", now);
        let mut e = initial(&info, &cfg, &key, &cert, "CN=asked for", CHALLENGE, now);
        let req = e.poll_request(&key, now, &mut rng()).unwrap().unwrap();
        let query = req.query.as_str();
        let Incoming::PkiOperation(mut received) =
            server.handle_request("POST", query, &req.body, SystemTime::now(), &mut rng())
        else {
            panic!("not a PKIOperation");
        };
        let scep::message::RequestContent::PkcsReq(csr) = server.decrypt(&mut received).unwrap()
        else {
            panic!("not a PKCSReq");
        };
        // The CA issues under a subject of its own choosing.
        let subject = Name::from_str("CN=what the CA wants,O=CA policy").unwrap();
        let rewritten = issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng()).unwrap(),
                extensions: end_entity_extensions(&subject, &csr.info.public_key, None).unwrap(),
                subject: subject.clone(),
                public_key: csr.info.public_key.clone(),
                not_before: now,
                not_after: now + Duration::from_secs(3600),
            },
            ca.current.cert.tbs_certificate().subject(),
            ca.current.key.as_ref(),
            scep::DigestAlgorithm::Sha256,
        )
        .unwrap();
        let reply = server
            .reply(
                &received,
                CertRepContent::issued(vec![rewritten]),
                None,
                &mut rng(),
            )
            .unwrap();
        let env = EnvelopeKey::Key {
            key: &key,
            certificate: Some(&cert),
        };
        let outcome = e.handle_response(
            scep::http::HttpReply::new(reply.status, Some(reply.content_type), &reply.body),
            env,
            now,
        );
        if require {
            assert_eq!(
                outcome.unwrap_err(),
                scep::Error::Protocol(ProtocolError::NoIssuedCertificate)
            );
        } else {
            let (got, _) = issued(outcome.unwrap());
            assert_eq!(got.tbs_certificate().subject(), &subject);
        }
    }
}

/// An identity owns its key (shared): it is `Send + Sync + 'static`, so it can be kept in
/// a task across an `.await` or handed to another thread.
#[test]
fn an_identity_owns_its_key_and_crosses_threads() {
    fn send_sync_static<T: Send + Sync + 'static>(_: &T) {}
    let Party { key, cert } = client_at(rsa_key(), "CN=shared", SystemTime::now());
    let id = Identity::new(cert.clone(), Arc::new(key)).unwrap();
    send_sync_static(&id);
    let moved = id.clone();
    let signed = std::thread::spawn(move || {
        moved
            .key()
            .sign_prehashed(scep::DigestAlgorithm::Sha256, &[7; 32])
            .unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(signed.len(), 256);
    assert_eq!(id.certificate(), &cert);
    // A key that is not the certificate's is refused.
    let Party {
        key: other,
        cert: _,
    } = client_at(rsa_key(), "CN=other", SystemTime::now());
    assert!(matches!(
        Identity::new(cert, Arc::new(other)),
        Err(scep::Error::Key { .. })
    ));
}
