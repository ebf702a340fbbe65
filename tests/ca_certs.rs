//! GetCACert and GetNextCACert responses built and read by this crate.

mod common;

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use common::rng;
use scep::cert::{CertificateParams, issue, random_serial};
use scep::error::{CryptoError, Error};
use scep::message::{CaCertForm, CaCertificates, NextCaCertificates};
use scep::{Certificate, DigestAlgorithm, Limits, MessageSigner};
use x509_cert::name::Name;

fn party(cn: &str) -> (p256::ecdsa::SigningKey, Certificate) {
    use p256::elliptic_curve::Generate;
    let key = p256::ecdsa::SigningKey::generate_from_rng(&mut rng());
    let name = Name::from_str(cn).unwrap();
    let now = SystemTime::now();
    let params = CertificateParams {
        serial_number: random_serial(&mut rng()).unwrap(),
        subject: name.clone(),
        public_key: key.public_key_info().unwrap(),
        not_before: now,
        not_after: now + Duration::from_secs(3600),
        extensions: Vec::new(),
    };
    let cert = issue(&params, &name, &key, DigestAlgorithm::Sha256).unwrap();
    (key, cert)
}

#[test]
fn get_ca_cert_single_and_chain_round_trip() {
    let (_, ca) = party("CN=current CA");
    let (_, ra) = party("CN=RA");
    for certs in [vec![ca.clone()], vec![ca.clone(), ra.clone()]] {
        let resp = CaCertificates::new(certs.clone());
        let (form, body) = resp.to_response().unwrap();
        let back = CaCertificates::parse(Some(form), &body, &Limits::default()).unwrap();
        let mut got = back.certificates.clone();
        let mut want = certs.clone();
        use der::Encode;
        got.sort_by_key(|c| c.to_der().unwrap());
        want.sort_by_key(|c| c.to_der().unwrap());
        assert_eq!(got, want);
    }
    assert!(CaCertificates::new(vec![]).to_response().is_err());
    assert!(matches!(
        CaCertificates::parse(
            Some(CaCertForm::Certificate),
            b"not a cert",
            &Limits::default()
        ),
        Err(Error::Decode { .. })
    ));
}

#[test]
fn get_next_ca_cert_is_verified_against_the_current_ca() {
    let (ca_key, ca) = party("CN=current CA");
    let (_, next) = party("CN=next CA");
    let (other_key, other) = party("CN=impostor");
    let body = NextCaCertificates::new(vec![next.clone()])
        .seal(&ca_key, &ca, DigestAlgorithm::Sha256)
        .unwrap();
    let opened =
        NextCaCertificates::open(&body, std::slice::from_ref(&ca), &Limits::default()).unwrap();
    assert_eq!(opened.certificates, vec![next.clone()]);

    // Signed by someone else: refused even though the signature itself is valid.
    let forged = NextCaCertificates::new(vec![next.clone()])
        .seal(&other_key, &other, DigestAlgorithm::Sha256)
        .unwrap();
    assert_eq!(
        NextCaCertificates::open(&forged, std::slice::from_ref(&ca), &Limits::default()),
        Err(Error::Crypto(CryptoError::UntrustedSigner))
    );
    // Tampered content (an octet of the next CA certificate, which is signed content): the
    // messageDigest no longer matches. (An octet at a fixed offset could land in the
    // unsigned outer certificates and change nothing that is checked.)
    let next_der = der::Encode::to_der(&next).unwrap();
    let start = body
        .windows(next_der.len())
        .position(|w| w == next_der.as_slice())
        .expect("the next CA certificate is in the content");
    let mut tampered = body.clone();
    tampered[start + next_der.len() / 2] ^= 0x40;
    assert!(
        NextCaCertificates::open(&tampered, std::slice::from_ref(&ca), &Limits::default()).is_err()
    );
}
