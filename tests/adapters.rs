//! RustCrypto signers through `scep::pipeline::adapters`: a pkiMessage signed by a wrapped
//! `PrehashSigner + Keypair` verifies like one signed by the key itself, and an RSA signer
//! whose digest is fixed refuses another digest.

mod common;

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use common::party::rsa_party;
use common::rng;
use scep::csr::CsrParams;
use scep::error::{Error, PolicyError};
use scep::message::{OutgoingRequest, PkiMessage, RequestContent, SealParams};
use scep::pipeline::adapters::{EcdsaP256Signer, RsaPkcs1v15Signer};
use scep::{Certificate, DigestAlgorithm, Limits, MessageSigner, Nonce, Recipient, TransactionId};
use x509_cert::name::Name;

/// A PKCSReq signed by `signer` (and its self-signed certificate) with `digest`, to `ca`.
fn signed_request(
    signer: &dyn MessageSigner,
    ca: &Certificate,
    digest: DigestAlgorithm,
) -> Result<(Vec<u8>, Certificate), Error> {
    let subject = Name::from_str("CN=adapted key").unwrap();
    // The adapters are borrowed here, so the self-signed certificate is made directly
    // rather than through an `Identity` (which shares its key).
    let now = SystemTime::now();
    let certificate = scep::cert::self_signed_certificate(
        signer,
        &subject,
        now,
        now + Duration::from_secs(3600),
        &mut rng(),
    )?;
    let mut params = CsrParams::new(subject);
    params.challenge_password = Some("secret".into());
    let request = OutgoingRequest {
        transaction_id: TransactionId::random(&mut rng()),
        sender_nonce: Nonce::generate(&mut rng()),
        content: RequestContent::PkcsReq(params.build(signer)?),
    };
    let mut seal = SealParams::new(signer, &certificate);
    seal.digest = digest;
    let message = request.seal(&seal, Recipient::Certificate(ca), &mut rng())?;
    Ok((message, certificate))
}

#[test]
fn wrapped_rustcrypto_signers_sign_messages_that_verify() {
    let ca = rsa_party("CN=adapter CA").cert;
    let ec = {
        use p256::elliptic_curve::Generate;
        p256::ecdsa::SigningKey::generate_from_rng(&mut rng())
    };
    let rsa = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
    let signers: [(Box<dyn MessageSigner>, &str); 2] = [
        (Box::new(EcdsaP256Signer(ec)), "ECDSA P-256"),
        (
            Box::new(RsaPkcs1v15Signer(
                rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa),
            )),
            "RSA",
        ),
    ];
    for (signer, what) in &signers {
        let (message, cert) = signed_request(signer.as_ref(), &ca, DigestAlgorithm::Sha256)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let verified = PkiMessage::decode(&message, &Limits::default())
            .unwrap()
            .verify(&[])
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(verified.signer(), &cert, "{what}");
    }
}

#[test]
fn an_rsa_signer_with_a_fixed_digest_refuses_another() {
    let rsa = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
    let signer = RsaPkcs1v15Signer(rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa));
    let err = signed_request(
        &signer,
        &rsa_party("CN=adapter CA").cert,
        DigestAlgorithm::Sha384,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Policy(PolicyError::DigestNotAllowed {
                digest: DigestAlgorithm::Sha384,
                ..
            })
        ),
        "{err}"
    );
}
