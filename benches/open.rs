//! The open path a SCEP server runs for every request: decode (BER normalisation, SignedData,
//! attributes), verify the signature, decrypt the envelope and decode the payload.

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use scep::message::{OutgoingRequest, PkiMessage, RequestContent, SealParams};
use scep::{DecryptOptions, EnvelopeKey, Limits, Nonce, Recipient, TransactionId};
use support::party;

fn bench_open(c: &mut Criterion) {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let (ca_key, ca_cert) = party("CN=bench CA");
    let (client_key, client_cert) = party("CN=bench client");
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
