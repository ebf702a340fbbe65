//! Recorded exchanges of four real SCEP clients with micromdm's server
//! (../shared/test-vectors/peers): every PKIOperation request and response opens, verifies
//! and decrypts with the key its MANIFEST.md names, and the message type, transaction ID,
//! nonces, status and payload are checked.

mod common;

use common::shared_dir;
use der::{DecodePem, Encode};
use scep::Certificate;
use scep::error::{AlgorithmError, Error};
use scep::message::{CertRepContent, PkiMessage, RequestContent};
use scep::{DecryptOptions, EnvelopeKey, FailInfo, KeyDecryptor, Limits, MessageType, PkiStatus};
use std::path::{Path, PathBuf};

const PAIRS: [&str; 4] = [
    "certmonger__micromdm-server",
    "micromdm-client__micromdm-server",
    "openssl-handmade__micromdm-server",
    "pyscep__micromdm-server",
];

/// One PKIOperation file named in a MANIFEST.md table, with the key that decrypts it.
struct Entry {
    file: String,
    key: Option<String>,
}

fn manifest_entries(dir: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.md")).expect("MANIFEST.md");
    let mut out = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `file` | content | algorithms | key |
        let (Some(file), Some(key)) = (cols.get(1), cols.get(4)) else {
            continue;
        };
        let file = file.trim_matches('`');
        if !file.contains("-PKIOperation-")
            || !file.ends_with(".der")
            || file.ends_with(".plain.der")
        {
            continue;
        }
        let key = key
            .split_whitespace()
            .next()
            .filter(|k| k.starts_with("keys/"))
            .map(str::to_owned);
        out.push(Entry {
            file: file.to_owned(),
            key,
        });
    }
    out
}

fn pair_dir(pair: &str) -> Option<PathBuf> {
    let dir = shared_dir().join("test-vectors/peers").join(pair);
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var_os("CI").is_some() {
        panic!("CI is set but {} is missing", dir.display());
    } else {
        eprintln!("skipping: {} is missing", dir.display());
        None
    }
}

fn rsa_key(path: &Path) -> rsa::PrivateKey {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let pem = std::fs::read_to_string(path).expect("key file");
    rsa::PrivateKey::from_pkcs8_pem(&pem)
        .or_else(|_| rsa::PrivateKey::from_pkcs1_pem(&pem))
        .expect("RSA key")
}

fn cert(path: &Path) -> Certificate {
    Certificate::from_pem(std::fs::read(path).expect("cert file")).expect("PEM certificate")
}

fn expected_type(file: &str) -> MessageType {
    for (name, t) in [
        ("PKCSReq", MessageType::PkcsReq),
        ("RenewalReq", MessageType::RenewalReq),
        ("CertPoll", MessageType::CertPoll),
        ("GetCert", MessageType::GetCert),
        ("GetCRL", MessageType::GetCrl),
    ] {
        if file.contains(&format!("-PKIOperation-{name}.")) {
            return t;
        }
    }
    panic!("no message type in {file}");
}

fn allow_des() -> DecryptOptions {
    let mut o = DecryptOptions::default();
    o.allow_insecure_single_des = true;
    o
}

#[test]
fn every_recorded_request_opens_verifies_and_decrypts() {
    let mut checked = 0;
    for pair in PAIRS {
        let Some(dir) = pair_dir(pair) else { return };
        for e in manifest_entries(&dir)
            .iter()
            .filter(|e| e.file.ends_with(".request.der"))
        {
            let ctx = format!("{pair}/{}", e.file);
            let der = std::fs::read(dir.join(&e.file)).expect(&ctx);
            let msg = PkiMessage::decode(&der, &Limits::default()).expect(&ctx);
            assert_eq!(msg.message_type(), expected_type(&e.file), "{ctx}");
            assert!(msg.attributes().sender_nonce.is_some(), "{ctx}");
            let verified = msg.verify(&[]).expect(&ctx);

            let key = rsa_key(&dir.join(e.key.as_deref().expect("request key")));
            let ca = cert(&dir.join("keys/ca.pem"));
            let env_key = EnvelopeKey::Key {
                key: &key,
                certificate: Some(&ca),
            };
            let decrypted = verified.decrypt(env_key, &allow_des()).expect(&ctx);
            let plain =
                std::fs::read(dir.join(e.file.replace(".request.der", ".request.plain.der")))
                    .expect(&ctx);
            assert_eq!(decrypted.plaintext, plain, "{ctx}: plaintext");

            let (content, _) = verified.request(env_key, &allow_des()).expect(&ctx);
            assert_eq!(content.message_type(), expected_type(&e.file), "{ctx}");
            if let RequestContent::PkcsReq(csr) | RequestContent::RenewalReq(csr) = &content {
                scep::csr::verify(csr).expect(&ctx);
                let details = scep::csr::inspect(csr).expect(&ctx);
                assert!(
                    details.challenge_password.is_some() || e.file.contains("RenewalReq"),
                    "{ctx}: challenge password"
                );
            }
            checked += 1;
        }
    }
    // Every pair was present (a missing one returns early outside CI), so all were seen.
    assert_eq!(checked, 10, "requests checked");
}

#[test]
fn every_recorded_certrep_verifies_matches_its_request_and_decrypts() {
    let mut checked = 0;
    for pair in PAIRS {
        let Some(dir) = pair_dir(pair) else { return };
        let ca = cert(&dir.join("keys/ca.pem"));
        for e in manifest_entries(&dir)
            .iter()
            .filter(|e| e.file.contains(".response-CertRep-"))
        {
            let ctx = format!("{pair}/{}", e.file);
            let der = std::fs::read(dir.join(&e.file)).expect(&ctx);
            let prefix = &e.file[..4];
            let req_file = manifest_entries(&dir)
                .into_iter()
                .find(|r| r.file.starts_with(prefix) && r.file.ends_with(".request.der"))
                .expect("request of the pair");
            let req = PkiMessage::decode(
                &std::fs::read(dir.join(&req_file.file)).expect(&ctx),
                &Limits::default(),
            )
            .expect(&ctx);

            let msg = PkiMessage::decode(&der, &Limits::default()).expect(&ctx);
            assert_eq!(msg.message_type(), MessageType::CertRep, "{ctx}");
            if let Some(info) = msg.envelope_info() {
                // micromdm seals every CertRep with single DES: inspecting names it (and
                // refuses nothing), opening refuses it unless allowed.
                assert_eq!(
                    info.expect(&ctx).cipher,
                    Ok(scep::ContentCipher::InsecureDesCbc),
                    "{ctx}"
                );
            }
            let verified = msg.verify(std::slice::from_ref(&ca)).expect(&ctx);
            assert_eq!(verified.signer(), &ca, "{ctx}: signed by the CA");
            let our_nonce = req
                .attributes()
                .sender_nonce
                .clone()
                .expect("request nonce");
            verified
                .check_reply(req.transaction_id(), &our_nonce, true)
                .expect(&ctx);

            if e.file.contains("CertRep-FAILURE") {
                assert_eq!(verified.attributes().pki_status, Some(PkiStatus::Failure));
                let content = verified
                    .cert_rep(EnvelopeKey::Password(b""), &DecryptOptions::default())
                    .expect(&ctx);
                assert_eq!(
                    content,
                    CertRepContent::Failure {
                        fail_info: FailInfo::BadRequest,
                        fail_info_text: None
                    },
                    "{ctx}"
                );
                checked += 1;
                continue;
            }

            assert_eq!(verified.attributes().pki_status, Some(PkiStatus::Success));
            let key = rsa_key(&dir.join(e.key.as_deref().expect("response key")));
            let env_key = EnvelopeKey::Key {
                key: &key,
                certificate: None,
            };
            // micromdm answers in single DES: refused by default, naming RFC 8894 section 2.9.
            match verified.cert_rep(env_key, &DecryptOptions::default()) {
                Err(Error::Algorithm(AlgorithmError::Refused { algorithm, .. })) => {
                    assert_eq!(algorithm, "DES-CBC", "{ctx}")
                }
                other => panic!("{ctx}: expected a DES refusal, got {other:?}"),
            }
            let decrypted = verified.decrypt(env_key, &allow_des()).expect(&ctx);
            let plain = std::fs::read(dir.join(format!(
                "{}.response.plain.der",
                &e.file[..e.file.find(".response").unwrap()]
            )))
            .expect(&ctx);
            assert_eq!(decrypted.plaintext, plain, "{ctx}: plaintext");

            let CertRepContent::Success { certificates, .. } =
                verified.cert_rep(env_key, &allow_des()).expect(&ctx)
            else {
                panic!("{ctx}: not a SUCCESS");
            };
            // The issued certificate carries the client's public key.
            let spki = key.recipient_key_info().unwrap().to_der().unwrap();
            let issued: Vec<_> = certificates
                .iter()
                .filter(|c| {
                    c.tbs_certificate()
                        .subject_public_key_info()
                        .to_der()
                        .unwrap()
                        == spki
                })
                .collect();
            assert_eq!(issued.len(), 1, "{ctx}: one certificate for our key");
            assert_eq!(
                issued[0].tbs_certificate().issuer(),
                ca.tbs_certificate().subject(),
                "{ctx}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6, "CertReps checked");
}
