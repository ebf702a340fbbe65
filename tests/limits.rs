//! Every field of `scep::Limits` is enforced on the decode path: each test takes a sealed
//! vector that opens with the default limits, lowers one limit just below what the vector
//! needs (or grows the vector just past the default), and gets `Error::Limit` naming it
//! (and `Ok` at exactly the limit). A limit on what is inside an envelope is checked after
//! decrypting and fails as the one `DecryptionFailed` of everything after key transport
//! (an error of its own would tell an attacker something of the plaintext); only its
//! block-size approximation on the ciphertext, checked before decrypting, is a `Limit`.

use std::path::PathBuf;

use scep::message::{CaCertificates, PkiMessage, VerifiedMessage};
use scep::pipeline::envelope;
use scep::{Certificate, DecryptOptions, EnvelopeKey, Error, Limits};

fn read(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test-vectors/sealed")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cert(name: &str) -> Certificate {
    Certificate::load_pem_chain(&read(name)).unwrap().remove(0)
}

fn rsa_key(name: &str) -> rsa::PrivateKey {
    use rsa::pkcs8::DecodePrivateKey;
    rsa::PrivateKey::from_pkcs8_pem(std::str::from_utf8(&read(name)).unwrap()).unwrap()
}

fn open(name: &str) -> VerifiedMessage {
    PkiMessage::decode(&read(name), &Limits::default())
        .unwrap()
        .verify(&[cert("ca.pem")])
        .unwrap()
}

#[track_caller]
fn assert_decryption_failed<T: std::fmt::Debug>(r: Result<T, Error>) {
    assert_eq!(
        r.unwrap_err(),
        Error::Crypto(scep::error::CryptoError::DecryptionFailed)
    );
}

#[track_caller]
fn assert_limit<T: std::fmt::Debug>(r: Result<T, Error>, what: &str, limit: usize) {
    match r {
        Err(Error::Limit { what: w, limit: l }) => assert_eq!((w.name(), l), (what, limit)),
        other => panic!("expected Limit {{ {what:?}, {limit} }}, got {other:?}"),
    }
}

fn with(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::default();
    f(&mut limits);
    limits
}

fn options(limits: Limits) -> DecryptOptions {
    let mut options = DecryptOptions::default();
    options.limits = limits;
    options
}

/// The CA's key, for the sealed requests.
fn ca_key_and_cert() -> (rsa::PrivateKey, Certificate) {
    (rsa_key("ca.key.pem"), cert("ca.pem"))
}

#[test]
fn the_defaults_are_the_documented_ones() {
    let l = Limits::default();
    assert_eq!(l, Limits::DEFAULT);
    assert_eq!(l.max_message_size, 1 << 20);
    assert_eq!(l.max_depth, 64);
    assert_eq!(l.max_certificates, 64);
    assert_eq!(l.max_attributes, 64);
    assert_eq!(l.max_recipients, 16);
    assert_eq!(l.max_csr_size, 64 << 10);
    assert_eq!(l.max_pbkdf2_iterations, 1_000_000);
}

#[test]
fn message_size() {
    let msg = read("pkcsreq-rsa-aes256-sha256.der");
    let n = msg.len();
    assert_limit(
        PkiMessage::decode(&msg, &with(|l| l.max_message_size = n - 1)),
        "message size",
        n - 1,
    );
    assert!(PkiMessage::decode(&msg, &with(|l| l.max_message_size = n)).is_ok());

    let chain = read("getcacert-chain.der");
    let n = chain.len();
    assert_limit(
        CaCertificates::parse(None, &chain, &with(|l| l.max_message_size = n - 1)),
        "message size",
        n - 1,
    );

    // The envelope is checked again on its own.
    let env = PkiMessage::decode(&msg, &Limits::default())
        .unwrap()
        .envelope()
        .unwrap()
        .to_vec();
    let n = env.len();
    assert_limit(
        envelope::inspect(&env, &with(|l| l.max_message_size = n - 1)),
        "message size",
        n - 1,
    );
    assert!(envelope::inspect(&env, &with(|l| l.max_message_size = n)).is_ok());
}

#[test]
fn nesting_depth() {
    let msg = read("pkcsreq-rsa-aes256-sha256.der");
    // ContentInfo > [0] > SignedData > certificates > Certificate > TBS > subject > RDN >
    // AttributeTypeAndValue: a handful of levels, far below the default.
    assert_limit(
        PkiMessage::decode(&msg, &with(|l| l.max_depth = 4)),
        "nesting depth",
        4,
    );
    assert!(PkiMessage::decode(&msg, &with(|l| l.max_depth = 16)).is_ok());
    assert_limit(
        CaCertificates::parse(
            None,
            &read("getcacert-single.der"),
            &with(|l| l.max_depth = 2),
        ),
        "nesting depth",
        2,
    );
}

#[test]
fn certificates() {
    // A certs-only chain of two.
    let chain = read("getcacert-chain.der");
    assert_limit(
        CaCertificates::parse(None, &chain, &with(|l| l.max_certificates = 1)),
        "certificates",
        1,
    );
    assert_eq!(
        CaCertificates::parse(None, &chain, &with(|l| l.max_certificates = 2))
            .unwrap()
            .certificates
            .len(),
        2
    );

    // A CertRep SUCCESS: the message carries the CA certificate; its payload carries the
    // issued certificate and the CA, and DecryptOptions' limits apply to the payload.
    let rep = read("certrep-success-rsa.der");
    let one = with(|l| l.max_certificates = 1);
    let verified = PkiMessage::decode(&rep, &one)
        .unwrap()
        .verify(&[cert("ca.pem")])
        .unwrap();
    let key = rsa_key("client-rsa.key.pem");
    let client = cert("client-rsa.pem");
    let key = EnvelopeKey::Key {
        key: &key,
        certificate: Some(&client),
    };
    assert_decryption_failed(verified.cert_rep(key, &options(one)));
    assert!(
        verified
            .cert_rep(key, &options(with(|l| l.max_certificates = 2)))
            .is_ok()
    );
}

#[test]
fn signed_attributes() {
    // contentType, messageDigest, messageType, transactionID, senderNonce.
    let msg = read("pkcsreq-rsa-aes256-sha256.der");
    assert_limit(
        PkiMessage::decode(&msg, &with(|l| l.max_attributes = 4)),
        "signed attributes",
        4,
    );
    assert!(PkiMessage::decode(&msg, &with(|l| l.max_attributes = 5)).is_ok());
}

#[test]
fn recipients() {
    let (ca_key, ca) = ca_key_and_cert();
    let key = EnvelopeKey::Key {
        key: &ca_key,
        certificate: Some(&ca),
    };
    let msg = read("pkcsreq-rsa-aes256-sha256.der");
    let none = with(|l| l.max_recipients = 0);
    let decoded = PkiMessage::decode(&msg, &none).unwrap();
    assert_limit(decoded.envelope_info().unwrap(), "recipients", 0);
    let verified = decoded.verify(&[]).unwrap();
    assert_limit(verified.request(key, &options(none)), "recipients", 0);
    assert!(
        verified
            .request(key, &options(with(|l| l.max_recipients = 1)))
            .is_ok()
    );
}

#[test]
fn csr_size() {
    let (ca_key, ca) = ca_key_and_cert();
    let key = EnvelopeKey::Key {
        key: &ca_key,
        certificate: Some(&ca),
    };
    let verified = open("pkcsreq-rsa-aes256-sha256.der");
    let csr_len = verified
        .decrypt(key, &DecryptOptions::default())
        .unwrap()
        .plaintext
        .len();
    // AES: the ciphertext is the CSR and 1 to 16 octets of padding.
    let ciphertext_len = (csr_len / 16 + 1) * 16;
    // Before decrypting: the smallest plaintext the ciphertext can hold (all but one
    // block) is over the limit.
    let below = ciphertext_len - 16 - 1;
    assert_limit(
        verified.request(key, &options(with(|l| l.max_csr_size = below))),
        "CSR size",
        below,
    );
    // After decrypting: one octet over the limit.
    assert_decryption_failed(
        verified.request(key, &options(with(|l| l.max_csr_size = csr_len - 1))),
    );
    assert!(
        verified
            .request(key, &options(with(|l| l.max_csr_size = csr_len)))
            .is_ok()
    );
}

#[test]
fn pbkdf2_iterations() {
    // The PWRI CertRep was sealed with 2048 iterations.
    let verified = open("certrep-success-ec-pwri.der");
    let key = EnvelopeKey::Password(b"vector-challenge");
    assert_limit(
        verified.cert_rep(key, &options(with(|l| l.max_pbkdf2_iterations = 2047))),
        "PBKDF2 iterations",
        2047,
    );
    assert!(
        verified
            .cert_rep(key, &options(with(|l| l.max_pbkdf2_iterations = 2048)))
            .is_ok()
    );
}

/// The sealed PKCSReq with `n` unsigned attributes added to its SignerInfo (they are not
/// covered by the signature, so the message still verifies).
fn with_unsigned_attributes(n: usize) -> Vec<u8> {
    use cms::content_info::ContentInfo;
    use cms::signed_data::SignedData;
    use der::asn1::{OctetString, SetOfVec};
    use der::{Any, Decode, Encode};
    use x509_cert::attr::Attribute;

    let ci = ContentInfo::from_der(&read("pkcsreq-rsa-aes256-sha256.der")).unwrap();
    let mut sd: SignedData = ci.content.decode_as().unwrap();
    let mut sis: Vec<_> = sd.signer_infos.0.into_vec();
    let attrs: Vec<Attribute> = (0..n)
        .map(|i| Attribute {
            // Distinct OIDs under a private arc, so the SET holds `n` distinct elements.
            oid: format!("1.3.6.1.4.1.55555.{}", i + 1).parse().unwrap(),
            values: SetOfVec::try_from(vec![
                Any::encode_from(&OctetString::new(vec![0u8; 4]).unwrap()).unwrap(),
            ])
            .unwrap(),
        })
        .collect();
    sis[0].unsigned_attrs = Some(SetOfVec::try_from(attrs).unwrap());
    sd.signer_infos = cms::signed_data::SignerInfos(SetOfVec::try_from(sis).unwrap());
    ContentInfo {
        content_type: ci.content_type,
        content: Any::encode_from(&sd).unwrap(),
    }
    .to_der()
    .unwrap()
}

#[test]
fn unsigned_attributes() {
    let limit = Limits::default().max_attributes;
    let over = with_unsigned_attributes(limit + 1);
    assert_limit(
        PkiMessage::decode(&over, &Limits::default()),
        "unsigned attributes",
        limit,
    );
    // At the limit it decodes, and the signature still verifies.
    let at = with_unsigned_attributes(limit);
    PkiMessage::decode(&at, &Limits::default())
        .unwrap()
        .verify(&[cert("ca.pem")])
        .unwrap();
}

#[test]
fn csr_attributes() {
    let (ca_key, ca) = ca_key_and_cert();
    let key = EnvelopeKey::Key {
        key: &ca_key,
        certificate: Some(&ca),
    };
    let verified = open("pkcsreq-rsa-aes256-sha256.der");
    let n = match verified.request(key, &DecryptOptions::default()).unwrap().0 {
        scep::message::RequestContent::PkcsReq(csr) => csr.info.attributes.len(),
        other => panic!("expected a PKCSReq, got {other:?}"),
    };
    // challengePassword and extensionRequest.
    assert_eq!(n, 2);
    assert_decryption_failed(verified.request(key, &options(with(|l| l.max_attributes = n - 1))));
    assert!(
        verified
            .request(key, &options(with(|l| l.max_attributes = n)))
            .is_ok()
    );
}
