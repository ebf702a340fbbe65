//! The open path a SCEP server runs for every request: decode (BER normalisation, SignedData,
//! attributes), verify the signature, decrypt the envelope and decode the payload.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use scep::cert::{CertificateParams, issue, random_serial};
use scep::message::{OutgoingRequest, PkiMessage, RequestContent, SealParams};
use scep::{
    Certificate, DecryptOptions, DigestAlgorithm, EnvelopeKey, Limits, MessageSigner, Nonce,
    Recipient, TransactionId,
};
use x509_cert::name::Name;

fn party(bits: usize, cn: &str) -> (rsa::PrivateKey, Certificate) {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let key = rsa::PrivateKey::new(&mut rng, bits).expect("RSA key");
    let name = Name::from_str(cn).expect("name");
    let now = SystemTime::now();
    let params = CertificateParams {
        serial_number: random_serial(&mut rng).expect("serial"),
        subject: name.clone(),
        public_key: key.public_key_info().expect("spki"),
        not_before: now,
        not_after: now + Duration::from_secs(3600),
        extensions: Vec::new(),
    };
    let cert = issue(&params, &name, &key, DigestAlgorithm::Sha256).expect("certificate");
    (key, cert)
}

fn bench_open(c: &mut Criterion) {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let (ca_key, ca_cert) = party(2048, "CN=bench CA");
    let (client_key, client_cert) = party(2048, "CN=bench client");
    let ias = scep::asn1::IssuerAndSerialNumber::of(&client_cert);
    let request = OutgoingRequest {
        transaction_id: TransactionId::new("BENCH").expect("id"),
        sender_nonce: Nonce::generate(&mut rng),
        content: RequestContent::GetCert(ias),
    };
    let wire = request
        .seal(
            &SealParams::new(&client_key, &client_cert),
            Recipient::Certificate(&ca_cert),
            &mut rng,
        )
        .expect("seal");
    let limits = Limits::default();
    let options = DecryptOptions::default();

    c.bench_function("decode", |b| {
        b.iter(|| PkiMessage::decode(&wire, &limits).expect("decode"))
    });
    c.bench_function("decode+verify", |b| {
        b.iter(|| {
            PkiMessage::decode(&wire, &limits)
                .and_then(|m| m.verify(&[]))
                .expect("verify")
        })
    });
    c.bench_function("decode+verify+decrypt (RSA-2048, AES-128)", |b| {
        b.iter(|| {
            let v = PkiMessage::decode(&wire, &limits)
                .and_then(|m| m.verify(&[]))
                .expect("verify");
            v.request(
                EnvelopeKey::Key {
                    key: &ca_key,
                    certificate: Some(&ca_cert),
                },
                &options,
            )
            .expect("decrypt")
        })
    });
}

criterion_group!(benches, bench_open);
criterion_main!(benches);
