//! OpenSSL as an independent oracle for whole pkiMessages: what this crate seals (signed
//! with RSA or ECDSA P-256 and every digest, enveloped with every cipher by key transport
//! or password) is accepted by `openssl cms -verify` and `openssl cms -decrypt`, and the
//! certs-only responses by `openssl pkcs7`. And the reverse: what `openssl cms -encrypt`
//! produces (DER, and streamed BER with indefinite lengths and constructed content), the
//! crate decrypts.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::party::{ec_party, rsa_party};
use common::rng;
use der::Encode;
use scep::message::{
    CaCertificates, CertRepContent, IssuerAndSubject, OutgoingCertRep, OutgoingRequest,
    RequestContent, SealParams,
};
use scep::{
    Certificate, ContentCipher, DigestAlgorithm, MessageSigner, Nonce, Recipient, TransactionId,
};

/// A fresh temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let mut bytes = [0u8; 8];
        rand_core::Rng::fill_bytes(&mut rng(), &mut bytes);
        let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("scep-{tag}-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs openssl; `None` (skip) when it is not installed and CI is unset.
fn openssl(args: &[&str]) -> Option<std::process::Output> {
    match Command::new("openssl").args(args).output() {
        Ok(o) => Some(o),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but openssl cannot run: {e}"
            );
            eprintln!("skipping: openssl not available ({e})");
            None
        }
    }
}

fn ok(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: openssl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn write_pem_cert(path: &Path, cert: &Certificate) {
    use der::EncodePem;
    std::fs::write(path, cert.to_pem(der::pem::LineEnding::LF).unwrap()).unwrap();
}

fn write_rsa_key(path: &Path, key: &rsa::PrivateKey) {
    use rsa::pkcs8::EncodePrivateKey;
    std::fs::write(
        path,
        key.to_pkcs8_pem(Default::default()).unwrap().as_bytes(),
    )
    .unwrap();
}

/// `openssl cms -verify` (signature only: the certificates are self-signed test ones) and
/// returns the encapsulated content.
fn openssl_verify(dir: &TempDir, wire: &[u8], what: &str) -> Option<Vec<u8>> {
    let msg = dir.path("msg.der");
    let content = dir.path("content.der");
    std::fs::write(&msg, wire).unwrap();
    let out = openssl(&[
        "cms",
        "-verify",
        "-noverify",
        "-inform",
        "DER",
        "-in",
        p(&msg),
        "-binary",
        "-out",
        p(&content),
    ])?;
    ok(&out, what);
    Some(std::fs::read(&content).unwrap())
}

fn openssl_decrypt(dir: &TempDir, envelope: &[u8], key_args: &[&str], what: &str) -> Vec<u8> {
    let env = dir.path("env.der");
    let plain = dir.path("plain.der");
    std::fs::write(&env, envelope).unwrap();
    let mut args = vec![
        "cms",
        "-decrypt",
        "-inform",
        "DER",
        "-in",
        p(&env),
        "-binary",
        "-out",
        p(&plain),
    ];
    args.extend_from_slice(key_args);
    let out = openssl(&args).unwrap();
    ok(&out, what);
    std::fs::read(&plain).unwrap()
}

#[test]
fn openssl_verifies_and_decrypts_requests_for_every_digest_cipher_and_signer() {
    let dir = TempDir::new("req");
    let ca = rsa_party("CN=oracle CA");
    write_pem_cert(&dir.path("ca.pem"), &ca.cert);
    write_rsa_key(&dir.path("ca.key"), &ca.key);
    let rsa_client = rsa_party("CN=oracle rsa client");
    let ec_client = ec_party("CN=oracle ec client");
    let poll = RequestContent::CertPoll(IssuerAndSubject {
        issuer: ca.cert.tbs_certificate().subject().clone(),
        subject: rsa_client.cert.tbs_certificate().subject().clone(),
    });
    let payload = poll.to_der().unwrap();
    let signers: [(&dyn MessageSigner, &Certificate, &str); 2] = [
        (&rsa_client.key, &rsa_client.cert, "RSA"),
        (&ec_client.key, &ec_client.cert, "ECDSA"),
    ];
    for (signer, cert, kind) in signers {
        for digest in DigestAlgorithm::ALL {
            for cipher in ContentCipher::PRODUCIBLE {
                let what = format!("{kind} {digest} {cipher}");
                let request = OutgoingRequest {
                    transaction_id: TransactionId::random(&mut rng()),
                    sender_nonce: Nonce::generate(&mut rng()),
                    content: poll.clone(),
                };
                let mut params = SealParams::new(signer, cert);
                params.digest = digest;
                params.cipher = cipher;
                let wire = request
                    .seal(&params, Recipient::Certificate(&ca.cert), &mut rng())
                    .unwrap();
                let Some(envelope) = openssl_verify(&dir, &wire, &what) else {
                    return;
                };
                let plain = openssl_decrypt(
                    &dir,
                    &envelope,
                    &[
                        "-inkey",
                        p(&dir.path("ca.key")),
                        "-recip",
                        p(&dir.path("ca.pem")),
                    ],
                    &what,
                );
                assert_eq!(plain, payload, "{what}");
            }
        }
    }
}

#[test]
fn openssl_decrypts_pwri_certreps_and_reads_the_certificates() {
    let dir = TempDir::new("pwri");
    let ca = rsa_party("CN=oracle CA");
    let client = ec_party("CN=oracle ec client");
    for cipher in ContentCipher::PRODUCIBLE {
        let what = format!("PWRI {cipher}");
        let reply = OutgoingCertRep {
            transaction_id: TransactionId::new("PWRI").unwrap(),
            sender_nonce: Nonce::generate(&mut rng()),
            recipient_nonce: Nonce::generate(&mut rng()),
            content: CertRepContent::issued(vec![client.cert.clone(), ca.cert.clone()]),
        };
        let mut params = SealParams::new(&ca.key, &ca.cert);
        params.cipher = cipher;
        let wire = reply
            .seal(&params, Recipient::Password(b"challenge-42"), &mut rng())
            .unwrap();
        let Some(envelope) = openssl_verify(&dir, &wire, &what) else {
            return;
        };
        let certs_only =
            openssl_decrypt(&dir, &envelope, &["-pwri_password", "challenge-42"], &what);
        // The payload is a certs-only SignedData that openssl can list.
        let p7 = dir.path("certs.p7b");
        std::fs::write(&p7, &certs_only).unwrap();
        let out = openssl(&[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            p(&p7),
            "-print_certs",
            "-noout",
        ])
        .unwrap();
        ok(&out, &what);
        let listing = String::from_utf8_lossy(&out.stdout);
        assert!(listing.contains("oracle ec client"), "{what}: {listing}");
        assert!(listing.contains("oracle CA"), "{what}: {listing}");
    }
}

#[test]
fn openssl_reads_get_ca_cert_chains() {
    let dir = TempDir::new("cacert");
    let ca = rsa_party("CN=oracle root");
    let ra = rsa_party("CN=oracle RA");
    let (form, body) = CaCertificates::new(vec![ca.cert.clone(), ra.cert.clone()])
        .to_response()
        .unwrap();
    let response = scep::http::HttpResponse::ca_certificates(form, body.clone());
    assert_eq!(response.content_type, "application/x-x509-ca-ra-cert");
    let f = dir.path("chain.p7b");
    std::fs::write(&f, &body).unwrap();
    let Some(out) = openssl(&[
        "pkcs7",
        "-inform",
        "DER",
        "-in",
        p(&f),
        "-print_certs",
        "-noout",
    ]) else {
        return;
    };
    ok(&out, "chain");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("oracle root") && listing.contains("oracle RA"),
        "{listing}"
    );

    let (single_form, single) = CaCertificates::new(vec![ca.cert.clone()])
        .to_response()
        .unwrap();
    let response = scep::http::HttpResponse::ca_certificates(single_form, single.clone());
    assert_eq!(response.content_type, "application/x-x509-ca-cert");
    assert_eq!(single, ca.cert.to_der().unwrap());
}

/// `openssl cms -encrypt` of `plain` with `args` (cipher, recipient or password), as DER
/// or, with `stream`, as streamed BER (indefinite lengths, chunked encryptedContent).
fn openssl_encrypt(dir: &TempDir, plain: &[u8], args: &[&str], stream: bool) -> Option<Vec<u8>> {
    let input = dir.path("plain.bin");
    let output = dir.path("enveloped.der");
    std::fs::write(&input, plain).unwrap();
    let mut all = vec![
        "cms",
        "-encrypt",
        "-binary",
        "-in",
        p(&input),
        "-outform",
        "DER",
        "-out",
        p(&output),
    ];
    if stream {
        all.push("-stream");
    }
    all.extend_from_slice(args);
    let out = openssl(&all)?;
    ok(&out, &format!("cms -encrypt {args:?}"));
    Some(std::fs::read(&output).unwrap())
}

#[test]
fn crate_decrypts_what_openssl_encrypts_by_key_transport_and_password() {
    use scep::pipeline::envelope::{inspect, open};
    use scep::{DecryptOptions, EnvelopeKey, Limits};

    let dir = TempDir::new("encrypt");
    let recipient = rsa_party("CN=openssl recipient");
    let cert_path = dir.path("recipient.pem");
    write_pem_cert(&cert_path, &recipient.cert);
    // Long enough that streamed output splits the content into several segments.
    let plain: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();

    for (flag, cipher) in [
        ("-aes128", ContentCipher::Aes128Cbc),
        ("-aes192", ContentCipher::Aes192Cbc),
        ("-aes256", ContentCipher::Aes256Cbc),
        ("-des3", ContentCipher::DesEde3Cbc),
    ] {
        for stream in [false, true] {
            let what = format!("{flag} stream={stream}");
            let Some(env) = openssl_encrypt(&dir, &plain, &[flag, p(&cert_path)], stream) else {
                return;
            };
            if stream {
                // Indefinite length on the outer ContentInfo: BER, not DER.
                assert_eq!(env.get(1), Some(&0x80), "{what}: expected streamed BER");
            }
            let info = inspect(&env, &Limits::default()).expect(&what);
            assert_eq!(info.cipher, Ok(cipher), "{what}");
            let key = EnvelopeKey::Key {
                key: &recipient.key,
                certificate: Some(&recipient.cert),
            };
            let opened = open(&env, key, &DecryptOptions::default()).expect(&what);
            assert_eq!(opened.cipher, cipher, "{what}");
            assert_eq!(opened.plaintext, plain, "{what}");
            // Any other RSA key gets the uniform failure, never the plaintext.
            let other = rsa_party("CN=other");
            let wrong = EnvelopeKey::Key {
                key: &other.key,
                certificate: None,
            };
            assert_eq!(
                open(&env, wrong, &DecryptOptions::default()).unwrap_err(),
                scep::Error::Crypto(scep::error::CryptoError::DecryptionFailed),
                "{what}"
            );
        }
    }

    // PasswordRecipientInfo (RFC 3211) as OpenSSL writes it: PBKDF2 with HMAC-SHA1.
    for (flag, cipher) in [
        ("-aes128", ContentCipher::Aes128Cbc),
        ("-aes256", ContentCipher::Aes256Cbc),
        ("-des3", ContentCipher::DesEde3Cbc),
    ] {
        let what = format!("pwri {flag}");
        let Some(env) = openssl_encrypt(
            &dir,
            &plain,
            &[flag, "-pwri_password", "challenge-123"],
            false,
        ) else {
            return;
        };
        let opened = open(
            &env,
            EnvelopeKey::Password(b"challenge-123"),
            &DecryptOptions::default(),
        )
        .expect(&what);
        assert_eq!(opened.cipher, cipher, "{what}");
        assert_eq!(opened.plaintext, plain, "{what}");
        assert_eq!(
            open(
                &env,
                EnvelopeKey::Password(b"challenge-124"),
                &DecryptOptions::default()
            )
            .unwrap_err(),
            scep::Error::Crypto(scep::error::CryptoError::DecryptionFailed),
            "{what}"
        );
    }
}
