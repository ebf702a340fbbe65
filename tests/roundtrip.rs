//! Round trips through the whole pipeline: every message type × every content cipher ×
//! every digest × RSA and ECDSA P-256 signers. RSA clients receive their CertReps by key
//! transport; ECDSA clients, whose keys cannot decrypt, by PasswordRecipientInfo with the
//! challenge password.

mod common;

use std::sync::OnceLock;

use common::party::{Party, party};
use common::rng;
use scep::asn1::CertReq;
use scep::asn1::IssuerAndSerialNumber;
use scep::csr::CsrParams;
use scep::message::{
    CertRepContent, CertRepStatus, IssuerAndSubject, OutgoingCertRep, OutgoingRequest, PkiMessage,
    RequestContent, SealParams,
};
use scep::{
    ContentCipher, DecryptOptions, DigestAlgorithm, EnvelopeKey, FailInfo, Limits, MessageSigner,
    MessageType, Nonce, PkiStatus, Recipient, TransactionId,
};

const CHALLENGE: &[u8] = b"s3cret challenge";

fn ca() -> &'static Party<rsa::PrivateKey> {
    static CA: OnceLock<Party<rsa::PrivateKey>> = OnceLock::new();
    CA.get_or_init(|| {
        party(
            rsa::PrivateKey::new(&mut rng(), 2048).unwrap(),
            "CN=Round Trip CA",
        )
    })
}

fn rsa_client() -> &'static Party<rsa::PrivateKey> {
    static C: OnceLock<Party<rsa::PrivateKey>> = OnceLock::new();
    C.get_or_init(|| {
        party(
            rsa::PrivateKey::new(&mut rng(), 2048).unwrap(),
            "CN=rsa client",
        )
    })
}

fn ec_client() -> &'static Party<p256::ecdsa::SigningKey> {
    static C: OnceLock<Party<p256::ecdsa::SigningKey>> = OnceLock::new();
    C.get_or_init(|| {
        use p256::elliptic_curve::Generate;
        party(
            p256::ecdsa::SigningKey::generate_from_rng(&mut rng()),
            "CN=ec client",
        )
    })
}

/// A signed PKCS #10 request with the challenge password, for the client's subject and key.
fn csr<K: MessageSigner>(client: &Party<K>) -> CertReq {
    let mut params = CsrParams::new(client.cert.tbs_certificate().subject().clone());
    params.challenge_password = Some(String::from_utf8(CHALLENGE.to_vec()).unwrap());
    params.dns_names.push("client.example".into());
    params.build(&client.key).unwrap()
}

fn request_contents<K: MessageSigner>(party: &Party<K>) -> Vec<RequestContent> {
    let ca = &ca().cert;
    let client = &party.cert;
    let ias = IssuerAndSerialNumber::of(client);
    vec![
        RequestContent::PkcsReq(csr(party)),
        RequestContent::RenewalReq(csr(party)),
        RequestContent::CertPoll(IssuerAndSubject {
            issuer: ca.tbs_certificate().subject().clone(),
            subject: client.tbs_certificate().subject().clone(),
        }),
        RequestContent::GetCert(ias.clone()),
        RequestContent::GetCrl(ias),
    ]
}

fn all_options() -> DecryptOptions {
    DecryptOptions::default()
}

/// Client seals a request, the server decodes, verifies, decrypts it and answers SUCCESS,
/// the client verifies and decrypts the CertRep.
fn exchange<K: MessageSigner>(
    client: &Party<K>,
    recipient_for_reply: Recipient<'_>,
    reply_key: EnvelopeKey<'_>,
) {
    let ca = ca();
    for cipher in ContentCipher::PRODUCIBLE {
        for digest in DigestAlgorithm::ALL {
            for content in request_contents(client) {
                let ctx = format!("{cipher} {digest} {:?}", content.message_type());
                let request = OutgoingRequest {
                    transaction_id: TransactionId::random(&mut rng()),
                    sender_nonce: Nonce::generate(&mut rng()),
                    content: content.clone(),
                };
                let mut params = SealParams::new(&client.key, &client.cert);
                params.cipher = cipher;
                params.digest = digest;
                let wire = request
                    .seal(&params, Recipient::Certificate(&ca.cert), &mut rng())
                    .unwrap();

                // Server side.
                let received = PkiMessage::decode(&wire, &Limits::default()).expect(&ctx);
                assert_eq!(received.message_type(), content.message_type(), "{ctx}");
                assert_eq!(received.transaction_id(), &request.transaction_id, "{ctx}");
                assert_eq!(received.digest_algorithm(), digest, "{ctx}");
                let verified = received.verify(&[]).expect(&ctx);
                assert_eq!(verified.signer(), &client.cert, "{ctx}");
                let (got, used_cipher) = verified
                    .request(
                        EnvelopeKey::Key {
                            key: &ca.key,
                            certificate: Some(&ca.cert),
                        },
                        &all_options(),
                    )
                    .expect(&ctx);
                assert_eq!(got, content, "{ctx}");
                assert_eq!(used_cipher, cipher, "{ctx}");
                if let RequestContent::PkcsReq(csr) | RequestContent::RenewalReq(csr) = &got {
                    scep::csr::verify(csr).expect(&ctx);
                    let details = scep::csr::inspect(csr).expect(&ctx);
                    assert_eq!(
                        details.challenge_password.as_deref().map(str::as_bytes),
                        Some(CHALLENGE),
                        "{ctx}"
                    );
                }

                let reply = OutgoingCertRep::reply_to(
                    verified.attributes(),
                    CertRepContent::issued(vec![client.cert.clone(), ca.cert.clone()]),
                    &mut rng(),
                )
                .unwrap();
                let mut server_params = SealParams::new(&ca.key, &ca.cert);
                server_params.cipher = used_cipher;
                server_params.digest = digest;
                // The matrix is about ciphers and digests: a low PBKDF2 count keeps its
                // hundred password envelopes fast (tests/attacks.rs checks the default).
                server_params.pbkdf2_iterations = 2048;
                let reply_wire = reply
                    .seal(&server_params, recipient_for_reply, &mut rng())
                    .unwrap();

                // Client side.
                let rep = PkiMessage::decode(&reply_wire, &Limits::default()).expect(&ctx);
                let rep = rep.verify(std::slice::from_ref(&ca.cert)).expect(&ctx);
                assert_eq!(rep.signer(), &ca.cert);
                rep.check_reply(&request.transaction_id, &request.sender_nonce, true)
                    .expect(&ctx);
                let content = rep.cert_rep(reply_key, &all_options()).expect(&ctx);
                // The same in two steps: the status without a key, then the envelope.
                let CertRepStatus::Success(sealed) = rep.cert_rep_status().expect(&ctx) else {
                    panic!("{ctx}: not a SUCCESS");
                };
                assert_eq!(sealed.open(reply_key, &all_options()).expect(&ctx), content);
                assert_eq!(
                    content,
                    CertRepContent::Success {
                        certificates: vec![client.cert.clone(), ca.cert.clone()],
                        crls: vec![]
                    }
                    .normalised(),
                    "{ctx}"
                );
            }
        }
    }
}

trait Normalised {
    fn normalised(self) -> Self;
}

impl Normalised for CertRepContent {
    /// Certificates travel in a DER SET: compare them in DER order.
    fn normalised(self) -> Self {
        match self {
            CertRepContent::Success {
                mut certificates,
                crls,
            } => {
                use der::Encode;
                certificates.sort_by_key(|c| c.to_der().unwrap());
                CertRepContent::Success { certificates, crls }
            }
            other => other,
        }
    }
}

#[test]
fn rsa_client_every_message_cipher_and_digest() {
    let client = rsa_client();
    exchange(
        client,
        Recipient::Certificate(&client.cert),
        EnvelopeKey::Key {
            key: &client.key,
            certificate: Some(&client.cert),
        },
    );
}

#[test]
fn ecdsa_client_every_message_cipher_and_digest_with_pwri_replies() {
    exchange(
        ec_client(),
        Recipient::Password(CHALLENGE),
        EnvelopeKey::Password(CHALLENGE),
    );
}

#[test]
fn failure_and_pending_replies_carry_no_envelope() {
    let ca = ca();
    let client = rsa_client();
    for digest in DigestAlgorithm::ALL {
        for content in [
            CertRepContent::failure(
                FailInfo::BadRequest,
                Some("wrong challenge — refusé".into()),
            ),
            CertRepContent::failure(FailInfo::BadCertId, None),
            CertRepContent::Pending,
        ] {
            let request_nonce = Nonce::generate(&mut rng());
            let tid = TransactionId::new("POLL-1").unwrap();
            let reply = OutgoingCertRep {
                transaction_id: tid.clone(),
                sender_nonce: Nonce::generate(&mut rng()),
                recipient_nonce: request_nonce.clone(),
                content: content.clone(),
            };
            let mut params = SealParams::new(&ca.key, &ca.cert);
            params.digest = digest;
            let wire = reply
                .seal(&params, Recipient::Certificate(&client.cert), &mut rng())
                .unwrap();
            let msg = PkiMessage::decode(&wire, &Limits::default()).unwrap();
            assert!(msg.envelope().is_none());
            assert_eq!(msg.message_type(), MessageType::CertRep);
            let v = msg.verify(&[]).unwrap();
            v.check_reply(&tid, &request_nonce, true).unwrap();
            assert_eq!(v.attributes().pki_status, Some(content.status()));
            // No key is needed to read a FAILURE or a PENDING.
            let got = match v.cert_rep_status().unwrap() {
                CertRepStatus::Failure {
                    fail_info,
                    fail_info_text,
                } => CertRepContent::Failure {
                    fail_info,
                    fail_info_text,
                },
                CertRepStatus::Pending => CertRepContent::Pending,
                other => panic!("{other:?}"),
            };
            assert_eq!(got, content);
            if content.status() == PkiStatus::Pending {
                assert_eq!(v.attributes().fail_info, None);
            }
        }
    }
}

#[test]
fn crl_reply_round_trips() {
    use der::Decode;
    // A CRL made by openssl would need the CLI; the structure here is built from DER.
    let crl_der = include_bytes!("../test-vectors/crl/crl.der");
    let crl = scep::CertificateList::from_der(crl_der).unwrap();
    let ca = ca();
    let client = rsa_client();
    let reply = OutgoingCertRep {
        transaction_id: TransactionId::new("CRL-1").unwrap(),
        sender_nonce: Nonce::generate(&mut rng()),
        recipient_nonce: Nonce::generate(&mut rng()),
        content: CertRepContent::crl(crl.clone()),
    };
    let wire = reply
        .seal(
            &SealParams::new(&ca.key, &ca.cert),
            Recipient::Certificate(&client.cert),
            &mut rng(),
        )
        .unwrap();
    let v = PkiMessage::decode(&wire, &Limits::default())
        .unwrap()
        .verify(&[])
        .unwrap();
    let got = v
        .cert_rep(
            EnvelopeKey::Key {
                key: &client.key,
                certificate: Some(&client.cert),
            },
            &DecryptOptions::default(),
        )
        .unwrap();
    assert_eq!(got, CertRepContent::crl(crl));
}

#[test]
fn tampering_is_detected() {
    let ca = ca();
    let client = rsa_client();
    let request = OutgoingRequest {
        transaction_id: TransactionId::new("T-1").unwrap(),
        sender_nonce: Nonce::generate(&mut rng()),
        content: RequestContent::PkcsReq(csr(client)),
    };
    let wire = request
        .seal(
            &SealParams::new(&client.key, &client.cert),
            Recipient::Certificate(&ca.cert),
            &mut rng(),
        )
        .unwrap();
    // Flip one bit in every byte position of the encrypted payload region and the
    // signature; each must fail to decode or fail verification.
    let mut rejected = 0;
    for i in (0..wire.len()).step_by(7) {
        let mut w = wire.clone();
        w[i] ^= 0x01;
        let ok = PkiMessage::decode(&w, &Limits::default())
            .and_then(|m| m.verify(&[]))
            .is_ok();
        if !ok {
            rejected += 1;
        } else {
            // A flip that still verifies can only be in a part the signature does not
            // cover (certificates set, unsigned parts): the signed fields must be intact.
            let m = PkiMessage::decode(&w, &Limits::default())
                .unwrap()
                .verify(&[])
                .unwrap();
            assert_eq!(m.attributes().transaction_id, request.transaction_id);
        }
    }
    assert!(
        rejected > wire.len() / 14,
        "{rejected} of {} flips rejected",
        wire.len() / 7
    );
}

/// Every way of holding the wrong key gives a typed error, and a corrupted ciphertext gives
/// the same error as a wrong key (no padding oracle).
#[test]
fn envelope_key_errors_are_typed_and_uniform() {
    use scep::error::CryptoError;
    use scep::pipeline::envelope::{open, seal};
    let ca = ca();
    let client = rsa_client();
    let options = DecryptOptions::default();
    for cipher in ContentCipher::PRODUCIBLE {
        let env = seal(
            b"payload of three blocks, more or less....",
            cipher,
            Recipient::Certificate(&ca.cert),
            &mut rng(),
        )
        .unwrap();
        let right = EnvelopeKey::Key {
            key: &ca.key,
            certificate: Some(&ca.cert),
        };
        assert!(open(&env, right, &options).is_ok(), "{cipher}");

        // A key with somebody else's certificate: the caller's mistake, said as such.
        let mismatched = EnvelopeKey::Key {
            key: &ca.key,
            certificate: Some(&client.cert),
        };
        assert!(
            matches!(
                open(&env, mismatched, &options),
                Err(scep::Error::Key { .. })
            ),
            "{cipher}"
        );
        // A certificate the envelope is not addressed to.
        let not_addressed = EnvelopeKey::Key {
            key: &client.key,
            certificate: Some(&client.cert),
        };
        assert_eq!(
            open(&env, not_addressed, &options).unwrap_err(),
            scep::Error::Crypto(CryptoError::NoMatchingRecipient),
            "{cipher}"
        );
        // A password for an envelope without PasswordRecipientInfo.
        assert_eq!(
            open(&env, EnvelopeKey::Password(CHALLENGE), &options).unwrap_err(),
            scep::Error::Crypto(CryptoError::NoMatchingRecipient),
            "{cipher}"
        );
        // The wrong key without a certificate, and the right key with a corrupted last
        // block (bad padding) or a truncated ciphertext: all the same error.
        let wrong = EnvelopeKey::Key {
            key: &client.key,
            certificate: None,
        };
        let failed = scep::Error::Crypto(CryptoError::DecryptionFailed);
        assert_eq!(open(&env, wrong, &options).unwrap_err(), failed, "{cipher}");
        let mut corrupted = env.clone();
        let last = corrupted.len() - 1;
        corrupted[last] ^= 0x01;
        assert_eq!(
            open(&corrupted, right, &options).unwrap_err(),
            failed,
            "{cipher}"
        );
    }
}
