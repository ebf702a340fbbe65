//! Vectors from ../shared/test-vectors: the JSCEP samples RFC 8894 points to, smallstep's
//! Apple-device messages, and recorded exchanges with real peers.

mod common;

use common::{shared, shared_cert};
use scep::message::PkiMessage;
use scep::{DigestAlgorithm, Limits, MessageType, PkiStatus};

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
            scep::error::ProtocolError::MissingAttribute("senderNonce")
        ))
    );
    let resp1 = shared("test-vectors/jscep/scep_resp1.der").unwrap();
    assert_eq!(verified.message().envelope(), Some(resp1.as_slice()));
}

#[test]
fn smallstep_pkcsreq_verifies() {
    let Some(der) = shared("test-vectors/smallstep/PKCSReq.der") else {
        return;
    };
    let msg = PkiMessage::decode(&der, &Limits::default()).unwrap();
    assert_eq!(msg.message_type(), MessageType::PkcsReq);
    assert_eq!(msg.digest_algorithm(), DigestAlgorithm::Sha1);
    msg.verify(&[]).unwrap();
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
                Some("application/x-x509-ca-cert"),
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
    let (certs, crls) = scep::pipeline::signed::parse_certs_only(&der, &Limits::default()).unwrap();
    assert_eq!(certs, vec![issued]);
    assert!(crls.is_empty());
}
