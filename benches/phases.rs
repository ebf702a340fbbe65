//! The phases of a SCEP enrolment, named as the Go anchor (`../shared/perf/go-micromdm`)
//! names them, and the primitives they are made of, measured alone.
//!
//! RSA-2048 CA and client keys and AES-128-CBC, as in the anchor. `benches/README.md` says
//! how to run this beside the anchor and read the ratios and the protocol overhead
//! (`benches/report.py` makes the table from one run of both).

mod support;

use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use scep::cert::{CertificateParams, end_entity_extensions, issue, random_serial};
use scep::message::{CertRepContent, OutgoingCertRep, PkiMessage, RequestContent, SealParams};
use scep::{
    Certificate, DecryptOptions, DigestAlgorithm, EnvelopeKey, KeyDecryptor, Limits, MessageSigner,
    Recipient,
};
use support::{party, rng};

/// The two parties of an enrolment, their keys of type `K` (the `rsa` crate's, or with
/// the `aws-lc-rs` feature aws-lc's).
struct Setup<K = rsa::PrivateKey> {
    ca_key: K,
    ca_cert: Certificate,
    client_key: K,
    client_cert: Certificate,
    csr: scep::asn1::CertReq,
}

impl Setup {
    fn new() -> Self {
        let (ca_key, ca_cert) = party("CN=bench CA");
        let (client_key, client_cert) = party("CN=bench client");
        let csr = support::csr(&client_key, "CN=bench client", "bench challenge");
        Self {
            ca_key,
            ca_cert,
            client_key,
            client_cert,
            csr,
        }
    }

    /// The same parties, their keys moved into aws-lc.
    #[cfg(feature = "aws-lc-rs")]
    fn aws_lc(&self) -> Setup<scep::pipeline::aws_lc::AwsLcRsaKey> {
        use rsa::pkcs8::EncodePrivateKey;
        let load = |k: &rsa::PrivateKey| {
            let der = k.to_pkcs8_der().expect("PKCS #8");
            scep::pipeline::aws_lc::AwsLcRsaKey::from_pkcs8_der(der.as_bytes()).expect("aws-lc key")
        };
        Setup {
            ca_key: load(&self.ca_key),
            ca_cert: self.ca_cert.clone(),
            client_key: load(&self.client_key),
            client_cert: self.client_cert.clone(),
            csr: self.csr.clone(),
        }
    }
}

impl<K: MessageSigner + KeyDecryptor> Setup<K> {
    /// The client: a PKCSReq for the CSR, enveloped for the CA (AES-128-CBC) and signed.
    fn pkcsreq(&self) -> Vec<u8> {
        support::pkcsreq(
            &self.csr,
            &self.client_key,
            &self.client_cert,
            &self.ca_cert,
        )
    }

    /// The server: parse, verify, decrypt, check the CSR, issue, seal a CertRep SUCCESS.
    fn serve(&self, wire: &[u8]) -> Vec<u8> {
        let options = DecryptOptions::default();
        let verified = PkiMessage::decode(wire, &options.limits)
            .and_then(|m| m.verify(&[]))
            .expect("verify");
        let content = verified
            .request(
                EnvelopeKey::Key {
                    key: &self.ca_key,
                    certificate: Some(&self.ca_cert),
                },
                &options,
            )
            .expect("decrypt");
        let (RequestContent::PkcsReq(csr), _cipher) = content else {
            panic!("not a PKCSReq");
        };
        scep::csr::verify(&csr).expect("CSR signature");
        let details = scep::csr::inspect(&csr).expect("CSR");
        let now = SystemTime::now();
        let ca = self.ca_cert.tbs_certificate();
        let params = CertificateParams {
            serial_number: random_serial(&mut rng()).expect("serial"),
            extensions: end_entity_extensions(
                &details.subject,
                &details.public_key,
                Some(ca.subject_public_key_info()),
            )
            .expect("extensions"),
            subject: details.subject.clone(),
            public_key: details.public_key.clone(),
            not_before: now,
            not_after: now + Duration::from_secs(3600),
        };
        let cert =
            issue(&params, ca.subject(), &self.ca_key, DigestAlgorithm::Sha256).expect("issue");
        OutgoingCertRep::reply_to(
            verified.attributes(),
            CertRepContent::issued(vec![cert]),
            &mut rng(),
        )
        .and_then(|reply| {
            reply.seal(
                &SealParams::new(&self.ca_key, &self.ca_cert),
                Recipient::Certificate(verified.signer()),
                &mut rng(),
            )
        })
        .expect("CertRep")
    }

    /// The client again: parse, verify against the CA, decrypt the issued certificate.
    fn read_reply(&self, reply: &[u8]) -> CertRepContent {
        let options = DecryptOptions::default();
        PkiMessage::decode(reply, &options.limits)
            .and_then(|m| m.verify(std::slice::from_ref(&self.ca_cert)))
            .and_then(|v| {
                v.cert_rep(
                    EnvelopeKey::Key {
                        key: &self.client_key,
                        certificate: Some(&self.client_cert),
                    },
                    &options,
                )
            })
            .expect("CertRep SUCCESS")
    }
}

/// The phases of the Go anchor, under its names.
fn phases(c: &mut Criterion) {
    let s = Setup::new();
    let wire = s.pkcsreq();
    let limits = Limits::default();
    let options = DecryptOptions::default();
    let mut g = c.benchmark_group("phases");
    g.bench_function("round_trip", |b| {
        b.iter(|| {
            let reply = s.serve(&s.pkcsreq());
            assert!(matches!(
                s.read_reply(&reply),
                CertRepContent::Success { .. }
            ));
        })
    });
    g.bench_function("client_build_pkcsreq", |b| b.iter(|| s.pkcsreq()));
    g.bench_function("server_parse_verify_pkcsreq", |b| {
        b.iter(|| {
            PkiMessage::decode(&wire, &limits)
                .and_then(|m| m.verify(&[]))
                .expect("verify")
        })
    });
    g.bench_function("server_parse_verify_decrypt_pkcsreq", |b| {
        b.iter(|| {
            PkiMessage::decode(&wire, &limits)
                .and_then(|m| m.verify(&[]))
                .and_then(|v| {
                    v.request(
                        EnvelopeKey::Key {
                            key: &s.ca_key,
                            certificate: Some(&s.ca_cert),
                        },
                        &options,
                    )
                })
                .expect("decrypt")
        })
    });
    g.bench_function("pkcs7_parse_only", |b| {
        b.iter(|| PkiMessage::decode(&wire, &limits).expect("decode"))
    });
    g.bench_function("rsa2048_sign_pkcs1v15", |b| {
        b.iter(|| {
            s.client_key
                .sign_prehashed(DigestAlgorithm::Sha256, &[0x5a; 32])
                .expect("sign")
        })
    });
    #[cfg(feature = "aws-lc-rs")]
    {
        let a = s.aws_lc();
        g.bench_function("round_trip_aws_lc", |b| {
            b.iter(|| {
                let reply = a.serve(&a.pkcsreq());
                assert!(matches!(
                    a.read_reply(&reply),
                    CertRepContent::Success { .. }
                ));
            })
        });
        g.bench_function("rsa2048_sign_pkcs1v15_aws_lc", |b| {
            b.iter(|| {
                a.client_key
                    .sign_prehashed(DigestAlgorithm::Sha256, &[0x5a; 32])
                    .expect("sign")
            })
        });
        let public = {
            use der::Encode;
            use rsa::pkcs8::DecodePublicKey;
            let spki = a.client_key.recipient_key_info().expect("spki");
            rsa::PublicKey::from_public_key_der(&spki.to_der().expect("DER")).expect("key")
        };
        let encrypted = public
            .encrypt(&mut rng(), rsa::Pkcs1v15Encrypt, &[7; 16])
            .expect("encrypt");
        g.bench_function("rsa2048_decrypt_pkcs1v15_aws_lc", |b| {
            b.iter(|| a.client_key.decrypt_key(&encrypted).expect("decrypt"))
        });
    }
    g.finish();
}

/// Each primitive alone, to subtract from the phases (the protocol overhead).
fn primitives(c: &mut Criterion) {
    let s = Setup::new();
    let mut g = c.benchmark_group("primitives");
    let digest = [0x5a; 32];
    let signature = s
        .client_key
        .sign_prehashed(DigestAlgorithm::Sha256, &digest)
        .expect("sign");
    let spki = s.client_key.public_key_info().expect("spki");
    let public = {
        use der::Encode;
        use rsa::pkcs8::DecodePublicKey;
        rsa::PublicKey::from_public_key_der(&spki.to_der().expect("spki DER")).expect("key")
    };
    g.bench_function("rsa2048_verify_pkcs1v15", |b| {
        b.iter(|| {
            public
                .verify(
                    rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    &digest,
                    &signature,
                )
                .expect("verify")
        })
    });
    g.bench_function("rsa2048_encrypt_pkcs1v15", |b| {
        b.iter(|| {
            public
                .encrypt(&mut rng(), rsa::Pkcs1v15Encrypt, &[7; 16])
                .expect("encrypt")
        })
    });
    let encrypted = public
        .encrypt(&mut rng(), rsa::Pkcs1v15Encrypt, &[7; 16])
        .expect("encrypt");
    g.bench_function("rsa2048_decrypt_pkcs1v15", |b| {
        b.iter(|| s.client_key.decrypt_key(&encrypted).expect("decrypt"))
    });
    // The public-key operations the pipeline hands to aws-lc when the feature is on.
    #[cfg(feature = "aws-lc-rs")]
    {
        use aws_lc_rs::digest::{Digest, SHA256};
        use aws_lc_rs::rsa::{Pkcs1PublicEncryptingKey, PublicEncryptingKey};
        use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
        use der::Encode;
        let hashed = Digest::import_less_safe(&digest, &SHA256).expect("digest");
        let rsa_public_key = spki.subject_public_key.raw_bytes().to_vec();
        g.bench_function("rsa2048_verify_pkcs1v15_aws_lc", |b| {
            b.iter(|| {
                ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &rsa_public_key)
                    .expect("key")
                    .verify_digest_sig(&hashed, &signature)
                    .expect("verify")
            })
        });
        let spki_der = spki.to_der().expect("spki DER");
        g.bench_function("rsa2048_encrypt_pkcs1v15_aws_lc", |b| {
            b.iter(|| {
                let key = PublicEncryptingKey::from_der(&spki_der).expect("key");
                let key = Pkcs1PublicEncryptingKey::new(key).expect("key");
                let mut out = [0u8; 256];
                key.encrypt(&[7; 16], &mut out).expect("encrypt");
                out
            })
        });
    }
    let ec = {
        use p256::elliptic_curve::Generate;
        p256::ecdsa::SigningKey::generate_from_rng(&mut rng())
    };
    g.bench_function("ecdsa_p256_sign", |b| {
        b.iter(|| {
            ec.sign_prehashed(DigestAlgorithm::Sha256, &digest)
                .expect("sign")
        })
    });
    let ec_sig = {
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        let sig: p256::ecdsa::Signature = ec.sign_prehash(&digest).expect("sign");
        sig
    };
    let ec_public = *ec.verifying_key();
    g.bench_function("ecdsa_p256_verify", |b| {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        b.iter(|| ec_public.verify_prehash(&digest, &ec_sig).expect("verify"))
    });
    let kib = vec![0x33u8; 1024];
    g.throughput(Throughput::Bytes(1024));
    g.bench_function("aes128_cbc_encrypt_1kib", |b| {
        use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
        b.iter(|| {
            cbc::Encryptor::<aes::Aes128>::new(&[1u8; 16].into(), &[2u8; 16].into())
                .encrypt_padded_vec::<Pkcs7>(&kib)
        })
    });
    g.bench_function("sha256_1kib", |b| {
        use sha2::Digest;
        b.iter(|| sha2::Sha256::digest(&kib))
    });
    g.finish();

    let mut g = c.benchmark_group("primitives");
    for iterations in [1_000u32, 10_000] {
        g.bench_with_input(
            BenchmarkId::new("pbkdf2_hmac_sha256", iterations),
            &iterations,
            |b, &n| {
                b.iter(|| {
                    let mut key = [0u8; 16];
                    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"challenge", &[9; 16], n, &mut key);
                    key
                })
            },
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3));
    targets = phases, primitives
}
criterion_main!(benches);
