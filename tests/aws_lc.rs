//! The `aws-lc-rs` feature: keys held by aws-lc sign what this crate (over the RustCrypto
//! crates) verifies, receive envelopes, answer a bad envelope exactly as a wrong key, and
//! carry a whole enrolment on the CA's side; verification and key transport through
//! aws-lc accept and refuse exactly what the default build does.

#![cfg(feature = "aws-lc-rs")]

mod common;

use std::str::FromStr;

use cms::content_info::ContentInfo;
use common::party::{Party, ec_key, party, rsa_key};
use common::rng;
use der::asn1::{OctetString, SetOfVec};
use der::{Decode, Encode};
use scep::asn1::{EnvelopedData, RecipientInfo};
use scep::csr::CsrParams;
use scep::error::{CryptoError, PolicyError};
use scep::message::{
    CertRepContent, OutgoingCertRep, OutgoingRequest, PkiMessage, RequestContent, SealParams,
};
use scep::pipeline::aws_lc::{AwsLcEcdsaP256Key, AwsLcRsaKey};
use scep::pipeline::envelope;
use scep::{
    ContentCipher, DecryptOptions, DigestAlgorithm, EnvelopeKey, KeyDecryptor, MessageSigner,
    Nonce, Recipient, TransactionId,
};
use x509_cert::name::Name;

/// A fresh RSA-2048 key, loaded into aws-lc from its PKCS #8 PEM.
fn aws_rsa() -> AwsLcRsaKey {
    use rsa::pkcs8::EncodePrivateKey;
    let pem = rsa_key().to_pkcs8_pem(Default::default()).unwrap();
    AwsLcRsaKey::from_pkcs8_pem(&pem).unwrap()
}

#[test]
fn aws_lc_keys_sign_what_the_rust_crypto_crates_verify() {
    let rsa = party(aws_rsa(), "CN=aws-lc RSA");
    let spki = rsa.key.public_key_info().unwrap();
    scep::cert::verify_issued_by(&rsa.cert, &spki).unwrap();

    let ec = {
        use p256::pkcs8::EncodePrivateKey;
        let der = ec_key().to_pkcs8_der().unwrap();
        AwsLcEcdsaP256Key::from_pkcs8_der(der.as_bytes()).unwrap()
    };
    let ec = party(ec, "CN=aws-lc P-256");
    scep::cert::verify_issued_by(&ec.cert, &ec.key.public_key_info().unwrap()).unwrap();

    // What aws-lc does not sign with is refused by name, not signed with another digest.
    for digest in [DigestAlgorithm::Sha1, DigestAlgorithm::Sha224] {
        assert!(matches!(
            rsa.key
                .sign_prehashed(digest, &vec![0; digest.output_len()]),
            Err(scep::Error::Policy(PolicyError::DigestNotAllowed { .. }))
        ));
    }
    assert!(matches!(
        ec.key.sign_prehashed(DigestAlgorithm::Sha384, &[0; 48]),
        Err(scep::Error::Policy(PolicyError::DigestNotAllowed { .. }))
    ));
    // A key that is not PKCS #8 is an error, not a panic.
    assert!(AwsLcRsaKey::from_pkcs8_der(b"not a key").is_err());
    assert!(
        AwsLcRsaKey::from_pkcs8_pem("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
            .is_err()
    );
}

/// `envelope` with the encryptedKey of its one KeyTransRecipientInfo replaced by `enc`.
fn with_encrypted_key(envelope: &[u8], enc: &[u8]) -> Vec<u8> {
    let info = ContentInfo::from_der(envelope).unwrap();
    let mut env = info.content.decode_as::<EnvelopedData>().unwrap();
    let mut ri = RecipientInfo::from_any(env.recip_infos.get(0).unwrap()).unwrap();
    if let RecipientInfo::Ktri(k) = &mut ri {
        k.enc_key = OctetString::new(enc.to_vec()).unwrap();
    }
    let mut set = SetOfVec::new();
    set.insert(ri.to_any().unwrap()).unwrap();
    env.recip_infos = set;
    ContentInfo {
        content_type: info.content_type,
        content: der::asn1::Any::encode_from(&env).unwrap(),
    }
    .to_der()
    .unwrap()
}

#[test]
fn a_bad_envelope_to_an_aws_lc_key_fails_as_a_wrong_key_does() {
    let Party { key, cert } = party(aws_rsa(), "CN=aws-lc recipient");
    let sealed = envelope::seal(
        b"the content",
        ContentCipher::Aes128Cbc,
        Recipient::Certificate(&cert),
        &mut rng(),
    )
    .unwrap();
    let options = DecryptOptions::default();
    let open = |bytes: &[u8], key: &AwsLcRsaKey| {
        envelope::open(
            bytes,
            EnvelopeKey::Key {
                key,
                certificate: Some(&cert),
            },
            &options,
        )
    };
    assert_eq!(open(&sealed, &key).unwrap().plaintext, b"the content");

    // aws-lc reports the bad padding of a random encryptedKey as an error; the pipeline
    // answers it exactly as it answers a well-padded encryptedKey holding the wrong
    // content key.
    let mut garbage = [0u8; 256];
    getrandom::fill(&mut garbage).unwrap();
    garbage[0] = 0;
    let bad_padding = open(&with_encrypted_key(&sealed, &garbage), &key).unwrap_err();
    let public = {
        use rsa::pkcs8::DecodePublicKey;
        let spki = key.recipient_key_info().unwrap().to_der().unwrap();
        rsa::PublicKey::from_public_key_der(&spki).unwrap()
    };
    let other_key = public
        .encrypt(&mut rng(), rsa::Pkcs1v15Encrypt, &[7; 16])
        .unwrap();
    let wrong_content_key = open(&with_encrypted_key(&sealed, &other_key), &key).unwrap_err();
    assert_eq!(
        bad_padding,
        scep::Error::Crypto(CryptoError::DecryptionFailed)
    );
    assert_eq!(bad_padding, wrong_content_key);
}

#[test]
fn a_ca_with_an_aws_lc_key_answers_an_enrolment() {
    let ca = party(aws_rsa(), "CN=aws-lc CA");
    let client = party(rsa_key(), "CN=device");
    let mut params = CsrParams::new(Name::from_str("CN=device").unwrap());
    params.challenge_password = Some("secret".into());
    let request = OutgoingRequest {
        transaction_id: TransactionId::random(&mut rng()),
        sender_nonce: Nonce::generate(&mut rng()),
        content: RequestContent::PkcsReq(params.build(&client.key).unwrap()),
    };
    let sent_nonce = request.sender_nonce.clone();
    let wire = request
        .seal(
            &SealParams::new(&client.key, &client.cert),
            Recipient::Certificate(&ca.cert),
            &mut rng(),
        )
        .unwrap();

    // The CA: verify, decrypt with the aws-lc key, issue and sign the CertRep with it.
    let options = DecryptOptions::default();
    let verified = PkiMessage::decode(&wire, &options.limits)
        .and_then(|m| m.verify(&[]))
        .unwrap();
    let (content, _) = verified
        .request(
            EnvelopeKey::Key {
                key: &ca.key,
                certificate: Some(&ca.cert),
            },
            &options,
        )
        .unwrap();
    let RequestContent::PkcsReq(csr) = content else {
        panic!("not a PKCSReq");
    };
    let details = scep::csr::inspect(&csr).unwrap();
    let now = std::time::SystemTime::now();
    let cert = scep::cert::issue(
        &scep::cert::CertificateParams {
            serial_number: scep::cert::random_serial(&mut rng()).unwrap(),
            subject: details.subject.clone(),
            public_key: details.public_key.clone(),
            not_before: now,
            not_after: now + std::time::Duration::from_secs(3600),
            extensions: Vec::new(),
        },
        ca.cert.tbs_certificate().subject(),
        &ca.key,
        DigestAlgorithm::Sha256,
    )
    .unwrap();
    let reply = OutgoingCertRep::reply_to(
        verified.attributes(),
        CertRepContent::issued(vec![cert.clone()]),
        &mut rng(),
    )
    .unwrap()
    .seal(
        &SealParams::new(&ca.key, &ca.cert),
        Recipient::Certificate(&client.cert),
        &mut rng(),
    )
    .unwrap();

    // The client, on the RustCrypto keys: the CertRep verifies against the CA and decrypts.
    let answer = PkiMessage::decode(&reply, &options.limits)
        .and_then(|m| m.verify(std::slice::from_ref(&ca.cert)))
        .unwrap();
    answer
        .check_reply(&verified.attributes().transaction_id, &sent_nonce, true)
        .unwrap();
    let CertRepContent::Success { certificates, .. } = answer
        .cert_rep(
            EnvelopeKey::Key {
                key: &client.key,
                certificate: Some(&client.cert),
            },
            &options,
        )
        .unwrap()
    else {
        panic!("not a SUCCESS");
    };
    assert_eq!(certificates, vec![cert.clone()]);
    scep::cert::verify_issued_by(&cert, &ca.key.public_key_info().unwrap()).unwrap();
    assert!(scep::cert::certifies_key(
        &cert,
        &client.key.public_key_info().unwrap()
    ));
}

/// `cert` with the last byte of its DER (inside the signature) changed.
fn with_signature_changed(cert: &scep::Certificate) -> scep::Certificate {
    let mut der = cert.to_der().unwrap();
    let last = der.last_mut().unwrap();
    *last ^= 0x01;
    scep::Certificate::from_der(&der).unwrap()
}

#[test]
fn verification_through_aws_lc_accepts_and_refuses_what_the_default_build_does() {
    use scep::cert::{CertificateParams, issue, verify_issued_by};
    // aws-lc verifies most of these; RSA-1024 with SHA-384 and every SHA-224 case fall
    // back to the RustCrypto crates. Each must verify, and fail once the signature changes.
    let rsa_1024 = rsa::PrivateKey::new(&mut rng(), 1024).unwrap();
    let rsa_2048 = rsa_key();
    let p256 = ec_key();
    let signers: [(&str, &dyn MessageSigner); 3] = [
        ("RSA-1024", &rsa_1024),
        ("RSA-2048", &rsa_2048),
        ("P-256", &p256),
    ];
    let subject = Name::from_str("CN=signed").unwrap();
    for (name, signer) in signers {
        let spki = signer.public_key_info().unwrap();
        for digest in [
            DigestAlgorithm::Sha1,
            DigestAlgorithm::Sha224,
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ] {
            let params = CertificateParams {
                serial_number: scep::cert::random_serial(&mut rng()).unwrap(),
                subject: subject.clone(),
                public_key: spki.clone(),
                not_before: std::time::SystemTime::now(),
                not_after: std::time::SystemTime::now() + std::time::Duration::from_secs(60),
                extensions: Vec::new(),
            };
            let cert = issue(&params, &subject, signer, digest).unwrap();
            verify_issued_by(&cert, &spki)
                .unwrap_or_else(|e| panic!("{name} with {digest:?}: {e}"));
            assert_eq!(
                verify_issued_by(&with_signature_changed(&cert), &spki),
                Err(scep::Error::Crypto(CryptoError::BadSignature)),
                "{name} with {digest:?}"
            );
            // Another key of the same kind does not verify it either.
            let other = match name {
                "P-256" => ec_key().public_key_info().unwrap(),
                _ => rsa_key().public_key_info().unwrap(),
            };
            assert_eq!(
                verify_issued_by(&cert, &other),
                Err(scep::Error::Crypto(CryptoError::BadSignature)),
                "{name} with {digest:?} under another key"
            );
        }
    }
}

#[test]
fn key_transport_to_any_rsa_size_opens_with_the_recipients_key() {
    // aws-lc encrypts to 2048 bits and up; a 1024-bit recipient goes through the `rsa`
    // crate. Either way the RustCrypto key opens it.
    for bits in [1024, 2048, 3072] {
        let Party { key, cert } = party(
            rsa::PrivateKey::new(&mut rng(), bits).unwrap(),
            "CN=recipient",
        );
        let sealed = envelope::seal(
            b"content",
            ContentCipher::Aes128Cbc,
            Recipient::Certificate(&cert),
            &mut rng(),
        )
        .unwrap();
        let opened = envelope::open(
            &sealed,
            EnvelopeKey::Key {
                key: &key,
                certificate: Some(&cert),
            },
            &DecryptOptions::default(),
        )
        .unwrap();
        assert_eq!(opened.plaintext, b"content", "RSA-{bits}");
    }
}
