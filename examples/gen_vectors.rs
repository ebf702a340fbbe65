//! Writes the sealed-message test vectors under `test-vectors/sealed/` (see
//! `test-vectors/README.md`): throw-away keys and certificates, and one message of each kind
//! sealed with them, so that tests (and the fuzz seed corpus) have messages this crate made
//! that later versions must still open.
//!
//! ```text
//! cargo run --example gen_vectors -- test-vectors/sealed
//! ```
//!
//! The keys are fresh on every run, so the files change; what `tests/generated_vectors.rs`
//! checks (transaction IDs, the challenge password, subjects, statuses) stays the same.

use core::str::FromStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use der::pem::LineEnding;
use der::{Encode, EncodePem};
use scep::asn1::IssuerAndSerialNumber;
use scep::cert::self_signed_certificate;
use scep::cert::{CertificateParams, end_entity_extensions, issue, random_serial};
use scep::csr::CsrParams;
use scep::message::{
    CaCertificates, CertRepContent, IssuerAndSubject, OutgoingCertRep, OutgoingRequest,
    RequestContent, SealParams,
};
use scep::{
    Certificate, ContentCipher, DigestAlgorithm, FailInfo, MessageSigner, Nonce, Recipient,
    TransactionId,
};
use x509_cert::name::Name;

type BoxError = Box<dyn std::error::Error>;

const CHALLENGE: &str = "vector-challenge";

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn main() -> Result<(), BoxError> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: gen_vectors OUTPUT_DIR")?,
    );
    std::fs::create_dir_all(&out)?;
    let now = SystemTime::now();
    let year = Duration::from_secs(365 * 86400);

    // The CA: RSA-2048, self-signed, valid for 30 years.
    let ca_key = rsa::PrivateKey::new(&mut rng(), 2048)?;
    let ca_name = Name::from_str("CN=scep vectors CA,O=scep")?;
    let ca_cert = issue(
        &CertificateParams {
            serial_number: random_serial(&mut rng())?,
            subject: ca_name.clone(),
            public_key: ca_key.public_key_info()?,
            not_before: now,
            not_after: now + 30 * year,
            extensions: scep::cert::ca_extensions(
                &ca_name,
                &ca_key.public_key_info()?,
                None,
                None,
            )?,
        },
        &ca_name,
        &ca_key,
        DigestAlgorithm::Sha256,
    )?;
    write_rsa_key(&out.join("ca.key.pem"), &ca_key)?;
    write_cert(&out.join("ca.pem"), &ca_cert)?;

    // Clients: RSA-2048 and ECDSA P-256, each with its self-signed signer certificate.
    let rsa_key = rsa::PrivateKey::new(&mut rng(), 2048)?;
    let rsa_name = Name::from_str("CN=vector rsa client")?;
    let rsa_cert = self_signed_certificate(&rsa_key, &rsa_name, now, now + 30 * year, &mut rng())?;
    write_rsa_key(&out.join("client-rsa.key.pem"), &rsa_key)?;
    write_cert(&out.join("client-rsa.pem"), &rsa_cert)?;

    let ec_key = {
        use p256::elliptic_curve::Generate;
        p256::ecdsa::SigningKey::generate_from_rng(&mut rng())
    };
    let ec_name = Name::from_str("CN=vector ec client")?;
    let ec_cert = self_signed_certificate(&ec_key, &ec_name, now, now + 30 * year, &mut rng())?;
    {
        use p256::pkcs8::EncodePrivateKey;
        std::fs::write(
            out.join("client-ec.key.pem"),
            ec_key.to_pkcs8_pem(LineEnding::LF)?.as_bytes(),
        )?;
    }
    write_cert(&out.join("client-ec.pem"), &ec_cert)?;

    let csr = |name: &Name, key: &dyn MessageSigner| -> Result<_, BoxError> {
        let mut p = CsrParams::new(name.clone());
        p.challenge_password = Some(CHALLENGE.into());
        p.dns_names.push("vector.example".into());
        Ok(p.build(key)?)
    };

    // Requests, each with its own transaction ID and cipher/digest combination.
    let requests: [(
        &str,
        &str,
        ContentCipher,
        DigestAlgorithm,
        bool,
        RequestContent,
    ); 5] = [
        (
            "pkcsreq-rsa-aes256-sha256.der",
            "VECTOR-PKCSREQ-RSA",
            ContentCipher::Aes256Cbc,
            DigestAlgorithm::Sha256,
            true,
            RequestContent::PkcsReq(csr(&rsa_name, &rsa_key)?),
        ),
        (
            "pkcsreq-ec-aes128-sha256.der",
            "VECTOR-PKCSREQ-EC",
            ContentCipher::Aes128Cbc,
            DigestAlgorithm::Sha256,
            false,
            RequestContent::PkcsReq(csr(&ec_name, &ec_key)?),
        ),
        (
            "certpoll-rsa-des3-sha1.der",
            "VECTOR-PKCSREQ-RSA",
            ContentCipher::DesEde3Cbc,
            DigestAlgorithm::Sha1,
            true,
            RequestContent::CertPoll(IssuerAndSubject {
                issuer: ca_name.clone(),
                subject: rsa_name.clone(),
            }),
        ),
        (
            "getcert-rsa-aes192-sha512.der",
            "VECTOR-GETCERT",
            ContentCipher::Aes192Cbc,
            DigestAlgorithm::Sha512,
            true,
            RequestContent::GetCert(IssuerAndSerialNumber::of(&ca_cert)),
        ),
        (
            "getcrl-ec-aes256-sha384.der",
            "VECTOR-GETCRL",
            ContentCipher::Aes256Cbc,
            DigestAlgorithm::Sha384,
            false,
            RequestContent::GetCrl(IssuerAndSerialNumber::of(&ca_cert)),
        ),
    ];
    let mut rsa_request_attrs = None;
    let mut ec_request_attrs = None;
    for (file, tid, cipher, digest, rsa, content) in requests {
        let (signer, cert): (&dyn MessageSigner, &Certificate) = if rsa {
            (&rsa_key, &rsa_cert)
        } else {
            (&ec_key, &ec_cert)
        };
        let request = OutgoingRequest {
            transaction_id: TransactionId::new(tid)?,
            sender_nonce: Nonce::generate(&mut rng()),
            content,
        };
        let mut params = SealParams::new(signer, cert);
        params.cipher = cipher;
        params.digest = digest;
        let der = request.seal(&params, Recipient::Certificate(&ca_cert), &mut rng())?;
        std::fs::write(out.join(file), &der)?;
        let attrs = scep::message::PkiMessage::decode(&der, &scep::Limits::default())?
            .attributes()
            .clone();
        if file == "pkcsreq-rsa-aes256-sha256.der" {
            rsa_request_attrs = Some(attrs);
        } else if file == "pkcsreq-ec-aes128-sha256.der" {
            ec_request_attrs = Some(attrs);
        }
    }
    let rsa_request_attrs = rsa_request_attrs.ok_or("no RSA request")?;
    let ec_request_attrs = ec_request_attrs.ok_or("no EC request")?;

    // Issued certificates and the CertReps.
    let issue_for = |name: &Name, key: &dyn MessageSigner| -> Result<Certificate, BoxError> {
        let public_key = key.public_key_info()?;
        Ok(issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng())?,
                subject: name.clone(),
                extensions: end_entity_extensions(
                    name,
                    &public_key,
                    Some(ca_cert.tbs_certificate().subject_public_key_info()),
                )?,
                public_key,
                not_before: now,
                not_after: now + 30 * year,
            },
            &ca_name,
            &ca_key,
            DigestAlgorithm::Sha256,
        )?)
    };
    let ca_params = SealParams::new(&ca_key, &ca_cert);
    let replies: [(
        &str,
        &scep::message::ScepAttributes,
        CertRepContent,
        Recipient<'_>,
    ); 4] = [
        (
            "certrep-success-rsa.der",
            &rsa_request_attrs,
            CertRepContent::issued(vec![issue_for(&rsa_name, &rsa_key)?, ca_cert.clone()]),
            Recipient::Certificate(&rsa_cert),
        ),
        (
            "certrep-success-ec-pwri.der",
            &ec_request_attrs,
            CertRepContent::issued(vec![issue_for(&ec_name, &ec_key)?]),
            Recipient::Password(CHALLENGE.as_bytes()),
        ),
        (
            "certrep-failure.der",
            &rsa_request_attrs,
            CertRepContent::failure(FailInfo::BadRequest, Some("challenge mismatch".into())),
            Recipient::Certificate(&rsa_cert),
        ),
        (
            "certrep-pending.der",
            &rsa_request_attrs,
            CertRepContent::Pending,
            Recipient::Certificate(&rsa_cert),
        ),
    ];
    for (file, attrs, content, recipient) in replies {
        let reply = OutgoingCertRep::reply_to(attrs, content, &mut rng())?;
        std::fs::write(
            out.join(file),
            reply.seal(&ca_params, recipient, &mut rng())?,
        )?;
    }

    // GetCACert answers: the single certificate, and a chain (CA + the RSA client standing
    // in for an RA certificate).
    std::fs::write(out.join("getcacert-single.der"), ca_cert.to_der()?)?;
    let chain = CaCertificates::new(vec![ca_cert.clone(), rsa_cert.clone()]);
    std::fs::write(out.join("getcacert-chain.der"), chain.to_response()?.1)?;

    eprintln!("wrote vectors to {}", out.display());
    Ok(())
}

fn write_cert(path: &Path, cert: &Certificate) -> Result<(), BoxError> {
    std::fs::write(path, cert.to_pem(LineEnding::LF)?)?;
    Ok(())
}

fn write_rsa_key(path: &Path, key: &rsa::PrivateKey) -> Result<(), BoxError> {
    use rsa::pkcs8::EncodePrivateKey;
    std::fs::write(path, key.to_pkcs8_pem(LineEnding::LF)?.as_bytes())?;
    Ok(())
}
