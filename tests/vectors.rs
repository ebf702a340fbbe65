//! Vectors from ../shared/test-vectors: the JSCEP samples RFC 8894 points to, smallstep's
//! Apple-device messages, and recorded exchanges with real peers.

mod common;

use common::{shared, shared_cert, shared_rsa_key};
use scep::error::Element;
use scep::message::{PkiMessage, RequestContent};
use scep::{
    ContentCipher, DecryptOptions, DigestAlgorithm, EnvelopeKey, Limits, MessageType, PkiStatus,
};

#[test]
fn jscep_req2_pkcsreq_decodes_and_verifies() {
    let Some(der) = shared("test-vectors/jscep/scep_req2.der") else {
        return;
    };
    let msg = PkiMessage::decode(&der, &Limits::default()).unwrap();
    assert_eq!(msg.message_type(), MessageType::PkcsReq);
    assert_eq!(msg.transaction_id().as_str(), "7XXEY-ERLPU-2JDR9");
    assert_eq!(msg.digest_algorithm(), DigestAlgorithm::Sha256);
    let nonce = msg.attributes().sender_nonce.clone().unwrap();
    assert_eq!(nonce.to_string(), "E8C57D516909026F3463F8E907FC9856");
    assert_eq!(
        msg.attributes().random_nonce(),
        Some(vec![0x43, 0x9E, 0x19, 0xB4, 0x0A, 0xF7, 0xE0, 0x85])
    );
    assert!(msg.attributes().signing_time().is_some());
    let verified = msg.verify(&[]).unwrap();
    let expected_signer =
        shared_cert("test-vectors/jscep/extracted/scep_req2_signer_selfsigned.pem").unwrap();
    assert_eq!(verified.signer(), &expected_signer);
    // The eContent is scep_req1.der byte for byte.
    let req1 = shared("test-vectors/jscep/scep_req1.der").unwrap();
    assert_eq!(verified.message().envelope(), Some(req1.as_slice()));
}

#[test]
fn jscep_resp2_certrep_has_no_sender_nonce() {
    let (Some(der), Some(req)) = (
        shared("test-vectors/jscep/scep_resp2.der"),
        shared("test-vectors/jscep/scep_req2.der"),
    ) else {
        return;
    };
    let request = PkiMessage::decode(&req, &Limits::default()).unwrap();
    let our_nonce = request.attributes().sender_nonce.clone().unwrap();
    let msg = PkiMessage::decode(&der, &Limits::default()).unwrap();
    assert_eq!(msg.message_type(), MessageType::CertRep);
    assert_eq!(msg.attributes().pki_status, Some(PkiStatus::Success));
    assert_eq!(msg.attributes().sender_nonce, None);
    assert_eq!(msg.attributes().random_nonce().map(|n| n.len()), Some(8));
    let verified = msg.verify(&[]).unwrap();
    let ca = shared_cert("test-vectors/jscep/extracted/scep_resp2_signer_scep_ca.pem").unwrap();
    assert_eq!(verified.signer(), &ca);
    // Lenient (default) clients accept it; strict ones refuse it, naming the attribute.
    verified
        .check_reply(request.transaction_id(), &our_nonce, false)
        .unwrap();
    assert_eq!(
        verified.check_reply(request.transaction_id(), &our_nonce, true),
        Err(scep::Error::Protocol(
            scep::error::ProtocolError::MissingAttribute(Element::SenderNonce)
        ))
    );
    let resp1 = shared("test-vectors/jscep/scep_resp1.der").unwrap();
    assert_eq!(verified.message().envelope(), Some(resp1.as_slice()));
}

#[test]
fn smallstep_pkcsreq_verifies_decrypts_and_yields_the_apple_csr() {
    let (Some(der), Some(ca), Some(ca_key)) = (
        shared("test-vectors/smallstep/PKCSReq.der"),
        shared_cert("test-vectors/smallstep/testca/ca.pem"),
        shared_rsa_key("test-vectors/smallstep/testca/ca.unencrypted.pk8.pem"),
    ) else {
        return;
    };
    let msg = PkiMessage::decode(&der, &Limits::default()).unwrap();
    assert_eq!(msg.message_type(), MessageType::PkcsReq);
    assert_eq!(msg.digest_algorithm(), DigestAlgorithm::Sha1);
    // Apple's 8-byte senderNonce.
    assert_eq!(
        msg.attributes()
            .sender_nonce
            .as_ref()
            .map(|n| n.as_bytes().len()),
        Some(8)
    );
    let verified = msg.verify(&[]).unwrap();
    let key = EnvelopeKey::Key {
        key: &ca_key,
        certificate: Some(&ca),
    };
    let (content, cipher) = verified.request(key, &DecryptOptions::default()).unwrap();
    assert_eq!(cipher, ContentCipher::DesEde3Cbc);
    let RequestContent::PkcsReq(csr) = content else {
        panic!("not a PKCSReq: {content:?}");
    };
    // Apple devices write version 2 where RFC 2986 has 0; the signature covers it.
    assert_eq!(csr.info.version, 2);
    scep::csr::verify(&csr).unwrap();
    let details = scep::csr::inspect(&csr).unwrap();
    assert_eq!(
        details.subject.to_string(),
        "CN=com.apple.security.scep.063D7953-1338-4BF0-8F99-913382996224"
    );
    assert_eq!(details.challenge_password, None);
    assert_eq!(
        details
            .requested_extensions
            .iter()
            .map(|e| e.extn_id)
            .collect::<Vec<_>>(),
        [const_oid::db::rfc5280::ID_CE_KEY_USAGE]
    );
    // The device signs the pkiMessage with an identity the MDM gave it (CN=MDM SCEP
    // SIGNER, RSA-2048), not with a self-signed certificate for the CSR's key (RSA-1024): a
    // server must not require the two keys to be the same.
    assert_ne!(
        &details.public_key,
        verified
            .signer()
            .tbs_certificate()
            .subject_public_key_info()
    );
    let modulus = {
        use rsa::pkcs8::DecodePublicKey;
        use rsa::traits::PublicKeyParts;
        let spki = der::Encode::to_der(&details.public_key).unwrap();
        rsa::PublicKey::from_public_key_der(&spki).unwrap().size()
    };
    assert_eq!(modulus, 128, "RSA-1024 key in the Apple CSR");
}

#[test]
fn smallstep_single_des_certrep_is_refused_by_default_and_reaches_the_key_when_allowed() {
    let (Some(der), Some(ca_key)) = (
        shared("test-vectors/smallstep/CertRep.der"),
        shared_rsa_key("test-vectors/smallstep/testca/ca.unencrypted.pk8.pem"),
    ) else {
        return;
    };
    let msg = PkiMessage::decode(&der, &Limits::default()).unwrap();
    assert_eq!(msg.message_type(), MessageType::CertRep);
    assert_eq!(msg.attributes().pki_status, Some(PkiStatus::Success));
    let verified = msg.verify(&[]).unwrap();
    let key = EnvelopeKey::Key {
        key: &ca_key,
        certificate: None,
    };
    let refused = verified
        .cert_rep(key, &DecryptOptions::default())
        .unwrap_err();
    assert_eq!(
        refused,
        scep::Error::Algorithm(scep::error::AlgorithmError::Refused {
            algorithm: "DES-CBC",
            element: Element::EncryptedContentInfoContentEncryptionAlgorithm,
        })
    );
    assert!(
        refused.to_string().contains("RFC 8894 section 2.9"),
        "{refused}"
    );
    // With the option the cipher is accepted and decryption goes on to the recipient key.
    // The recipient is the Apple device's own certificate (CN=MDM SCEP SIGNER), whose key
    // smallstep does not publish, so the CA key here is the wrong one: the error is the
    // uniform decryption failure, not the refusal.
    let mut allow = DecryptOptions::default();
    allow.allow_insecure_single_des = true;
    assert_eq!(
        verified.cert_rep(key, &allow).unwrap_err(),
        scep::Error::Crypto(scep::error::CryptoError::DecryptionFailed)
    );
}

#[test]
fn smallstep_certrep_without_signer_certs_verifies_with_ca() {
    let (Some(der), Some(ca)) = (
        shared("test-vectors/smallstep/testca2/CertRep_NoCertificatesForSigners.der"),
        shared_cert("test-vectors/smallstep/testca2/ca2.pem"),
    ) else {
        return;
    };
    let msg = PkiMessage::decode(&der, &Limits::default()).unwrap();
    assert_eq!(msg.message_type(), MessageType::CertRep);
    assert!(msg.signer_certificate(&[]).is_none());
    assert_eq!(
        msg.clone().verify(&[]).err(),
        Some(scep::Error::Crypto(
            scep::error::CryptoError::SignerNotFound
        ))
    );
    let verified = msg.verify(std::slice::from_ref(&ca)).unwrap();
    assert_eq!(verified.signer(), &ca);
}

#[test]
fn recorded_get_ca_cert_responses_parse_to_the_ca() {
    use scep::message::CaCertificates;
    for pair in [
        "certmonger__micromdm-server",
        "micromdm-client__micromdm-server",
        "openssl-handmade__micromdm-server",
        "pyscep__micromdm-server",
    ] {
        let dir = format!("test-vectors/peers/{pair}");
        let Some(ca) = shared_cert(&format!("{dir}/keys/ca.pem")) else {
            return;
        };
        let listing = std::fs::read_dir(common::shared_dir().join(&dir)).unwrap();
        let mut seen = 0;
        for entry in listing {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if !name.ends_with("-GetCACert.response.der") {
                continue;
            }
            let body = shared(&format!("{dir}/{name}")).unwrap();
            let parsed = CaCertificates::parse(
                Some(scep::message::CaCertForm::Certificate),
                &body,
                &Limits::default(),
            )
            .unwrap();
            assert_eq!(parsed.certificates, vec![ca.clone()], "{pair}/{name}");
            // Without a content type the body is recognised too.
            assert_eq!(
                CaCertificates::parse(None, &body, &Limits::default()).unwrap(),
                parsed
            );
            seen += 1;
        }
        assert!(seen > 0, "{pair}: no GetCACert response");
    }
}

#[test]
fn jscep_certs_only_response_lists_the_issued_certificate() {
    let (Some(der), Some(issued)) = (
        shared("test-vectors/jscep/scep_resp0.der"),
        shared_cert("test-vectors/jscep/extracted/scep_resp0_issued_cert.pem"),
    ) else {
        return;
    };
    let (certs, crls) = scep::pipeline::parse_certs_only(&der, &Limits::default()).unwrap();
    assert_eq!(certs, vec![issued]);
    assert!(crls.is_empty());
}

#[test]
fn all_six_jscep_samples_decode_at_their_layer() {
    use scep::pipeline::envelope::{RecipientKind, inspect};
    let Some(req0) = shared("test-vectors/jscep/scep_req0.der") else {
        return;
    };
    // Level 0 of the request: the PKCS #10 CSR.
    let csr: scep::asn1::CertReq = der::Decode::from_der(&req0).unwrap();
    scep::csr::verify(&csr).unwrap();
    let details = scep::csr::inspect(&csr).unwrap();
    assert_eq!(
        details.challenge_password.as_deref(),
        Some("NQ3C6-GS3ZN-2XPGL-SEJTQ")
    );
    assert_eq!(details.email_addresses, ["dave@wetas-r-us.com"]);
    assert_eq!(details.uris, ["http://www.wetas-r-us.com"]);
    assert!(
        details
            .subject
            .to_string()
            .contains("CN=Test SCEP PKI user")
    );

    // Level 1 of both: EnvelopedData, AES-128-CBC to the CA by issuer and serial. No key
    // for them was published, so only their structure can be checked.
    let limits = Limits::default();
    for (name, plain_len) in [("scep_req1.der", 661usize), ("scep_resp1.der", 0)] {
        let env = shared(&format!("test-vectors/jscep/{name}")).unwrap();
        let info = inspect(&env, &limits).unwrap();
        assert_eq!(info.cipher, Ok(ContentCipher::Aes128Cbc), "{name}");
        assert!(
            matches!(
                info.recipients.as_slice(),
                [RecipientKind::KeyTransport { .. }]
            ),
            "{name}: {:?}",
            info.recipients
        );
        if plain_len > 0 {
            // PKCS #7 padding to the next block.
            assert_eq!(info.encrypted_len, (plain_len / 16 + 1) * 16, "{name}");
        }
    }

    // Level 2: the pkiMessages.
    for (name, t) in [
        ("scep_req2.der", MessageType::PkcsReq),
        ("scep_resp2.der", MessageType::CertRep),
    ] {
        let der = shared(&format!("test-vectors/jscep/{name}")).unwrap();
        let msg = PkiMessage::decode(&der, &limits).unwrap();
        assert_eq!(msg.message_type(), t, "{name}");
    }

    // Level 0 of the response: the certs-only SignedData with the issued certificate,
    // whose key is the CSR's.
    let resp0 = shared("test-vectors/jscep/scep_resp0.der").unwrap();
    let (certs, crls) = scep::pipeline::parse_certs_only(&resp0, &limits).unwrap();
    assert!(crls.is_empty());
    assert_eq!(certs.len(), 1);
    assert_eq!(
        certs[0].tbs_certificate().subject_public_key_info(),
        &details.public_key
    );
}
