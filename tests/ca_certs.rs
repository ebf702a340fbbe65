//! GetCACert and GetNextCACert responses built and read by this crate.

mod common;

use common::party::{Party, ec_party};
use scep::error::{CryptoError, Error};
use scep::message::{CaCertForm, CaCertificates, NextCaCertificates};
use scep::{DigestAlgorithm, Limits};

#[test]
fn get_ca_cert_single_and_chain_round_trip() {
    let Party { key: _, cert: ca } = ec_party("CN=current CA");
    let Party { key: _, cert: ra } = ec_party("CN=RA");
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
    let Party {
        key: ca_key,
        cert: ca,
    } = ec_party("CN=current CA");
    let Party { key: _, cert: next } = ec_party("CN=next CA");
    let Party {
        key: other_key,
        cert: other,
    } = ec_party("CN=impostor");
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
