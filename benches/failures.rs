//! What refusing costs, and the timing surface that is left (SECURITY.md):
//!
//! * the server's open path (decode, verify, decrypt, decode the payload) for a good
//!   PKCSReq, and for two chosen two-block envelopes replaying its RecipientInfo under
//!   another signature, as a padding-oracle attacker sends them: one with bad padding, one
//!   with good padding and an unreadable payload. Both are answered with the same
//!   `DecryptionFailed`; the difference between their times is what is left to measure.
//! * the client's chain building over a GetCACert answer of 64 certificates: a chain of
//!   CA certificates in the worst order, and 64 CA certificates that share one name
//!   (refused after a bounded number of signature checks).

#[path = "../tests/common/craft.rs"]
mod craft;

mod support;

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use der::asn1::Any;
use scep::cert::{CertificateParams, issue, random_serial};
use scep::client::{CaInfo, ClientConfig, Fingerprint};
use scep::csr::CsrParams;
use scep::message::{OutgoingRequest, PkiMessage, RequestContent, SealParams};
use scep::{
    Certificate, DecryptOptions, DigestAlgorithm, EnvelopeKey, Limits, MessageSigner, MessageType,
    Nonce, Recipient, TransactionId,
};
use support::rng;
use x509_cert::ext::ToExtension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;

fn certificate(
    subject: &Name,
    key: &dyn MessageSigner,
    issuer: &Name,
    issuer_key: &dyn MessageSigner,
    ca: bool,
) -> Certificate {
    let now = SystemTime::now();
    let extensions = if ca {
        vec![
            (&BasicConstraints {
                ca: true,
                path_len_constraint: None,
            })
                .to_extension(subject, &[])
                .expect("basicConstraints"),
            (&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::KeyEncipherment))
                .to_extension(subject, &[])
                .expect("keyUsage"),
        ]
    } else {
        Vec::new()
    };
    let params = CertificateParams {
        serial_number: random_serial(&mut rng()).expect("serial"),
        subject: subject.clone(),
        public_key: key.public_key_info().expect("spki"),
        not_before: now - Duration::from_secs(60),
        not_after: now + Duration::from_secs(3600),
        extensions,
    };
    issue(&params, issuer, issuer_key, DigestAlgorithm::Sha256).expect("certificate")
}

fn ec_key() -> p256::ecdsa::SigningKey {
    use p256::elliptic_curve::Generate;
    p256::ecdsa::SigningKey::generate_from_rng(&mut rng())
}

fn bench_open_failures(c: &mut Criterion) {
    let ca_key = rsa::PrivateKey::new(&mut rng(), 2048).expect("RSA key");
    let ca_name = Name::from_str("CN=bench CA").expect("name");
    let ca_cert = certificate(&ca_name, &ca_key, &ca_name, &ca_key, true);
    let client_key = rsa::PrivateKey::new(&mut rng(), 2048).expect("RSA key");
    let client_name = Name::from_str("CN=bench client").expect("name");
    let client_cert = certificate(&client_name, &client_key, &client_name, &client_key, false);
    let mut csr = CsrParams::new(client_name);
    csr.challenge_password = Some("a challenge of some length, as real ones have".into());
    let request = OutgoingRequest {
        transaction_id: TransactionId::random(&mut rng()),
        sender_nonce: Nonce::generate(&mut rng()),
        content: RequestContent::PkcsReq(csr.build(&client_key).expect("CSR")),
    };
    let good = request
        .seal(
            &SealParams::new(&client_key, &client_cert),
            Recipient::Certificate(&ca_cert),
            &mut rng(),
        )
        .expect("seal");
    let key = EnvelopeKey::Key {
        key: &ca_key,
        certificate: Some(&ca_cert),
    };
    let options = DecryptOptions::default();
    let limits = Limits::default();

    // The attacker's two-block envelopes: R || C_1, where the intermediate value
    // D(C_1) = P_1 xor C_0 is known here (the bench decrypts the good request) so that R
    // can give the padding wanted: 0x00 (bad) or 0x01 (good) in the last octet.
    let env = craft::envelope_of(&good);
    let (iv, ciphertext) = craft::iv_and_ciphertext(&env);
    let plaintext = scep::pipeline::envelope::open(
        PkiMessage::decode(&good, &limits)
            .expect("decode")
            .envelope()
            .expect("envelope"),
        key,
        &options,
    )
    .expect("open")
    .plaintext;
    let (c0, c1) = (&ciphertext[..16], &ciphertext[16..32]);
    let mut intermediate = [0u8; 16];
    for i in 0..16 {
        intermediate[i] = plaintext[16 + i] ^ c0[i];
    }
    let recipients: Vec<Any> = env.recip_infos.iter().cloned().collect();
    let attacker = ec_key();
    let attacker_name = Name::from_str("CN=attacker").expect("name");
    let attacker_cert = certificate(&attacker_name, &attacker, &attacker_name, &attacker, false);
    let chosen = |last: u8| {
        let mut r = [0x5au8; 16];
        r[15] = intermediate[15] ^ last;
        let mut blocks = r.to_vec();
        blocks.extend_from_slice(c1);
        let content = craft::envelope(
            cms::content_info::CmsVersion::V0,
            recipients.clone(),
            const_oid::db::rfc5911::ID_AES_128_CBC,
            &iv,
            &blocks,
        );
        craft::sign_message(
            &craft::request_attrs(MessageType::PkcsReq, "attacker"),
            &content,
            &attacker,
            &attacker_cert,
            DigestAlgorithm::Sha256,
        )
    };
    let bad_padding = chosen(0x00);
    let good_padding = chosen(0x01);

    let open = |wire: &[u8]| {
        PkiMessage::decode(wire, &limits)
            .and_then(|m| m.verify(&[]))
            .expect("verify")
            .request(key, &options)
    };
    assert!(open(&good).is_ok());
    let failed = Err(scep::Error::Crypto(
        scep::error::CryptoError::DecryptionFailed,
    ));
    assert_eq!(open(&bad_padding), failed);
    assert_eq!(open(&good_padding), failed);

    let mut group = c.benchmark_group("open");
    group.bench_function("good PKCSReq", |b| b.iter(|| open(&good)));
    group.bench_function("chosen envelope, bad padding", |b| {
        b.iter(|| open(&bad_padding))
    });
    group.bench_function("chosen envelope, good padding, unreadable payload", |b| {
        b.iter(|| open(&good_padding))
    });
    group.finish();
}

fn bench_trust(c: &mut Criterion) {
    // 63 CA certificates below the anchor, each issued by the one before, deepest first.
    let anchor_key = ec_key();
    let anchor_name = Name::from_str("CN=anchor").expect("name");
    let anchor = certificate(&anchor_name, &anchor_key, &anchor_name, &anchor_key, true);
    let key = ec_key();
    let mut chain = Vec::new();
    let mut issuer = (anchor_name.clone(), &anchor_key as &dyn MessageSigner);
    let names: Vec<Name> = (1..64)
        .map(|i| Name::from_str(&format!("CN=intermediate {i}")).expect("name"))
        .collect();
    for name in &names {
        chain.push(certificate(name, &key, &issuer.0, issuer.1, true));
        issuer = (name.clone(), &key);
    }
    chain.reverse();
    chain.push(anchor.clone());

    // 64 CA certificates with one name, each issued by the one before with its own key.
    let same = Name::from_str("CN=same").expect("name");
    let keys: Vec<p256::ecdsa::SigningKey> = (0..64).map(|_| ec_key()).collect();
    let mut ambiguous: Vec<Certificate> = (0..64)
        .map(|i| {
            let issuer_key = &keys[i.max(1) - 1];
            certificate(&same, &keys[i], &same, issuer_key, true)
        })
        .collect();
    let same_anchor = ambiguous[0].clone();
    ambiguous.reverse();

    let config = |anchor: &Certificate| {
        let mut config = ClientConfig::new("/scep");
        config.ca_pin = Some(Fingerprint::sha256(anchor).expect("fingerprint"));
        config
    };
    let caps = scep::caps::Capabilities::scep_standard();
    let now = SystemTime::now();
    let (chain_config, same_config) = (config(&anchor), config(&same_anchor));
    assert!(CaInfo::new(caps.clone(), chain.clone(), &chain_config, now).is_ok());
    assert!(CaInfo::new(caps.clone(), ambiguous.clone(), &same_config, now).is_err());

    let mut group = c.benchmark_group("trust");
    group.bench_function("64-certificate chain, worst order", |b| {
        b.iter(|| CaInfo::new(caps.clone(), chain.clone(), &chain_config, now))
    });
    group.bench_function("64 CA certificates of one name (refused)", |b| {
        b.iter(|| CaInfo::new(caps.clone(), ambiguous.clone(), &same_config, now))
    });
    group.finish();
}

criterion_group!(benches, bench_open_failures, bench_trust);
criterion_main!(benches);
