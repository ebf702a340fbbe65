//! The sealed messages under `test-vectors/sealed/` (made by `examples/gen_vectors.rs`,
//! see `test-vectors/README.md`) open, verify and decrypt with the keys beside them, with
//! the transaction IDs, statuses, subjects and payloads the generator put in.

mod common;

use common::sealed::{cert, read, rsa_key};
use der::Decode;
use scep::message::{CaCertificates, CertRepContent, PkiMessage, RequestContent};
use scep::{
    Certificate, ContentCipher, DecryptOptions, DigestAlgorithm, EnvelopeKey, FailInfo,
    KeyAlgorithm, Limits, MessageType, PkiStatus,
};

const CHALLENGE: &str = "vector-challenge";

fn open(name: &str) -> scep::message::VerifiedMessage {
    let msg = PkiMessage::decode(&read(name), &Limits::default()).unwrap();
    msg.verify(&[cert("ca.pem")]).unwrap()
}

#[test]
fn generated_requests_open_with_the_ca_key() {
    let ca = cert("ca.pem");
    let ca_key = rsa_key("ca.key.pem");
    let key = EnvelopeKey::Key {
        key: &ca_key,
        certificate: Some(&ca),
    };
    for (file, tid, signer, t, cipher, digest, key_alg) in [
        (
            "pkcsreq-rsa-aes256-sha256.der",
            "VECTOR-PKCSREQ-RSA",
            "client-rsa.pem",
            MessageType::PkcsReq,
            ContentCipher::Aes256Cbc,
            DigestAlgorithm::Sha256,
            KeyAlgorithm::Rsa,
        ),
        (
            "pkcsreq-ec-aes128-sha256.der",
            "VECTOR-PKCSREQ-EC",
            "client-ec.pem",
            MessageType::PkcsReq,
            ContentCipher::Aes128Cbc,
            DigestAlgorithm::Sha256,
            KeyAlgorithm::EcdsaP256,
        ),
        (
            "certpoll-rsa-des3-sha1.der",
            "VECTOR-PKCSREQ-RSA",
            "client-rsa.pem",
            MessageType::CertPoll,
            ContentCipher::DesEde3Cbc,
            DigestAlgorithm::Sha1,
            KeyAlgorithm::Rsa,
        ),
        (
            "getcert-rsa-aes192-sha512.der",
            "VECTOR-GETCERT",
            "client-rsa.pem",
            MessageType::GetCert,
            ContentCipher::Aes192Cbc,
            DigestAlgorithm::Sha512,
            KeyAlgorithm::Rsa,
        ),
        (
            "getcrl-ec-aes256-sha384.der",
            "VECTOR-GETCRL",
            "client-ec.pem",
            MessageType::GetCrl,
            ContentCipher::Aes256Cbc,
            DigestAlgorithm::Sha384,
            KeyAlgorithm::EcdsaP256,
        ),
    ] {
        let v = open(file);
        let m = v.message();
        assert_eq!(m.message_type(), t, "{file}");
        assert_eq!(m.transaction_id().as_str(), tid, "{file}");
        assert_eq!(m.digest_algorithm(), digest, "{file}");
        assert_eq!(m.key_algorithm(), key_alg, "{file}");
        assert_eq!(v.signer(), &cert(signer), "{file}");
        let (content, used) = v.request(key, &DecryptOptions::default()).unwrap();
        assert_eq!(used, cipher, "{file}");
        match content {
            RequestContent::PkcsReq(csr) => {
                scep::csr::verify(&csr).unwrap();
                let d = scep::csr::inspect(&csr).unwrap();
                assert_eq!(d.challenge_password.as_deref(), Some(CHALLENGE), "{file}");
                assert_eq!(d.dns_names, ["vector.example"], "{file}");
                assert_eq!(
                    &d.subject,
                    cert(signer).tbs_certificate().subject(),
                    "{file}"
                );
            }
            RequestContent::CertPoll(ias) => {
                assert_eq!(&ias.issuer, ca.tbs_certificate().subject());
                assert_eq!(ias.subject.to_string(), "CN=vector rsa client");
            }
            RequestContent::GetCert(ias) | RequestContent::GetCrl(ias) => {
                assert!(ias.matches(&ca), "{file}");
            }
            other => panic!("{file}: {other:?}"),
        }
    }
}

#[test]
fn generated_cert_reps_open_for_their_clients() {
    let ca = cert("ca.pem");
    let client = cert("client-rsa.pem");
    let client_key = rsa_key("client-rsa.key.pem");
    let by_key = EnvelopeKey::Key {
        key: &client_key,
        certificate: Some(&client),
    };

    let v = open("certrep-success-rsa.der");
    assert_eq!(v.attributes().pki_status, Some(PkiStatus::Success));
    assert_eq!(v.message().transaction_id().as_str(), "VECTOR-PKCSREQ-RSA");
    let CertRepContent::Success { certificates, crls } =
        v.cert_rep(by_key, &DecryptOptions::default()).unwrap()
    else {
        panic!("not SUCCESS");
    };
    assert!(crls.is_empty());
    // A DER SET OF is sorted: the order says nothing; find ours by its key.
    assert_eq!(certificates.len(), 2);
    assert!(certificates.contains(&ca));
    let issued = certificates
        .iter()
        .find(|c| {
            c.tbs_certificate().subject_public_key_info()
                == client.tbs_certificate().subject_public_key_info()
        })
        .expect("the issued certificate");
    assert_eq!(
        issued.tbs_certificate().issuer(),
        ca.tbs_certificate().subject()
    );
    scep::cert::verify_issued_by(issued, ca.tbs_certificate().subject_public_key_info()).unwrap();

    let v = open("certrep-success-ec-pwri.der");
    assert_eq!(v.message().transaction_id().as_str(), "VECTOR-PKCSREQ-EC");
    let CertRepContent::Success { certificates, .. } = v
        .cert_rep(
            EnvelopeKey::Password(CHALLENGE.as_bytes()),
            &DecryptOptions::default(),
        )
        .unwrap()
    else {
        panic!("not SUCCESS");
    };
    assert_eq!(
        certificates[0].tbs_certificate().subject_public_key_info(),
        cert("client-ec.pem")
            .tbs_certificate()
            .subject_public_key_info()
    );

    let v = open("certrep-failure.der");
    assert_eq!(
        v.cert_rep(by_key, &DecryptOptions::default()).unwrap(),
        CertRepContent::failure(FailInfo::BadRequest, Some("challenge mismatch".into()))
    );
    let v = open("certrep-pending.der");
    assert_eq!(
        v.cert_rep(by_key, &DecryptOptions::default()).unwrap(),
        CertRepContent::Pending
    );
}

#[test]
fn generated_get_ca_cert_answers_parse() {
    let ca = cert("ca.pem");
    let single = CaCertificates::parse(
        Some(scep::message::CaCertForm::Certificate),
        &read("getcacert-single.der"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(single.certificates, std::slice::from_ref(&ca));
    let chain = CaCertificates::parse(
        Some(scep::message::CaCertForm::Chain),
        &read("getcacert-chain.der"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(chain.certificates.len(), 2);
    assert!(chain.certificates.contains(&ca));
    assert!(chain.certificates.contains(&cert("client-rsa.pem")));
    // The single answer is the certificate's DER, nothing more.
    assert!(Certificate::from_der(&read("getcacert-single.der")).is_ok());
}
