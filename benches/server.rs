//! The server's whole `Server::handle` (what an HTTP handler calls) for a PKCSReq, GetCACaps
//! and GetCACert; the parse of a CertRep with a chain; the ECDSA P-256 client path (its
//! CertRep sealed with the challenge password, PasswordRecipientInfo); and enrolments per
//! second on one thread and on two (the server is `Sync`: one instance for both).
//!
//! Requests are made before the clock starts (each PKCSReq has its own nonce and
//! transaction ID, as the server refuses a replay).

#[path = "../examples/support/issue_at_once.rs"]
mod issue_at_once;
mod support;

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use issue_at_once::IssueAtOnce;
use scep::asn1::IssuerAndSerialNumber;
use scep::caps::{Capabilities, Capability};
use scep::cert::Identity;
use scep::message::{
    CertRepContent, OutgoingCertRep, OutgoingRequest, PkiMessage, RequestContent, SealParams,
};
use scep::server::{DecryptionKey, Server, ServerConfig};
use scep::{Certificate, DecryptOptions, EnvelopeKey, Limits, Nonce, Recipient, TransactionId};
use support::{party, rng};
use x509_cert::name::Name;

const CHALLENGE: &str = "bench challenge";

struct Bench {
    server: Server,
    ca: IssueAtOnce<rsa::PrivateKey>,
    client_key: rsa::PrivateKey,
    client_cert: Certificate,
    csr: scep::asn1::CertReq,
}

impl Bench {
    fn new() -> Self {
        let (ca_key, ca_cert) = party("CN=bench CA");
        let ca_key = Arc::new(ca_key);
        let caps: Capabilities = Capabilities::scep_standard().with(Capability::PostPkiOperation);
        let mut config = ServerConfig::new(caps, vec![ca_cert.clone()]);
        config.transactions = 10_000_000;
        config.replay_cache_size = 10_000_000;
        let server = Server::new(
            config,
            ca_cert.clone(),
            Identity::new(ca_cert.clone(), ca_key.clone()).expect("identity"),
            vec![DecryptionKey {
                certificate: ca_cert.clone(),
                key: ca_key.clone(),
            }],
        )
        .expect("server");
        let (client_key, client_cert) = party("CN=bench client");
        let csr = support::csr(&client_key, "CN=bench client", CHALLENGE);
        Self {
            server,
            ca: IssueAtOnce {
                key: ca_key,
                cert: ca_cert,
                challenge: CHALLENGE.into(),
            },
            client_key,
            client_cert,
            csr,
        }
    }

    /// A fresh PKCSReq (its own transaction ID and nonce), as the body of a POST.
    fn pkcsreq(&self) -> Vec<u8> {
        support::pkcsreq(
            &self.csr,
            &self.client_key,
            &self.client_cert,
            &self.ca.cert,
        )
    }

    fn handle(&self, method: &str, query: &str, body: &[u8]) -> u16 {
        let handled =
            self.server
                .handle(&self.ca, method, query, body, SystemTime::now(), &mut rng());
        handled.response.status
    }
}

fn server(c: &mut Criterion) {
    let b = Bench::new();
    let mut g = c.benchmark_group("server");
    g.bench_function("handle_pkcsreq", |bench| {
        bench.iter_batched(
            || b.pkcsreq(),
            |body| assert_eq!(b.handle("POST", "operation=PKIOperation", &body), 200),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("handle_get_ca_caps", |bench| {
        bench.iter(|| assert_eq!(b.handle("GET", "operation=GetCACaps", &[]), 200))
    });
    g.bench_function("handle_get_ca_cert", |bench| {
        bench.iter(|| assert_eq!(b.handle("GET", "operation=GetCACert", &[]), 200))
    });
    g.finish();

    // Enrolments per second, the same number of requests on one thread and on two.
    let mut g = c.benchmark_group("server_threads");
    g.throughput(Throughput::Elements(1));
    for threads in [1usize, 2] {
        g.bench_with_input(
            BenchmarkId::new("enrolments", threads),
            &threads,
            |bench, &t| {
                bench.iter_custom(|iters| {
                    let bodies: Vec<Vec<u8>> = (0..iters).map(|_| b.pkcsreq()).collect();
                    let chunk = bodies.len().div_ceil(t).max(1);
                    let start = Instant::now();
                    std::thread::scope(|s| {
                        for part in bodies.chunks(chunk) {
                            let b = &b;
                            s.spawn(move || {
                                for body in part {
                                    assert_eq!(
                                        b.handle("POST", "operation=PKIOperation", body),
                                        200
                                    );
                                }
                            });
                        }
                    });
                    start.elapsed()
                })
            },
        );
    }
    g.finish();
}

/// A CertRep SUCCESS holding the issued certificate and the CA chain, parsed (no key).
fn cert_rep_with_chain(c: &mut Criterion) {
    let (ca_key, ca_cert) = party("CN=bench CA");
    let (_, intermediate) = party("CN=bench intermediate");
    let (client_key, client_cert) = party("CN=bench client");
    let request = OutgoingRequest {
        transaction_id: TransactionId::random(&mut rng()),
        sender_nonce: Nonce::generate(&mut rng()),
        content: RequestContent::GetCert(IssuerAndSerialNumber::of(&client_cert)),
    }
    .seal(
        &SealParams::new(&client_key, &client_cert),
        Recipient::Certificate(&ca_cert),
        &mut rng(),
    )
    .expect("seal");
    let limits = Limits::default();
    let verified = PkiMessage::decode(&request, &limits)
        .and_then(|m| m.verify(&[]))
        .expect("request");
    let chain = vec![client_cert.clone(), intermediate.clone(), ca_cert.clone()];
    let mut params = SealParams::new(&ca_key, &ca_cert);
    params.extra_certificates = std::slice::from_ref(&intermediate);
    let reply = OutgoingCertRep::reply_to(
        verified.attributes(),
        CertRepContent::issued(chain),
        &mut rng(),
    )
    .and_then(|r| r.seal(&params, Recipient::Certificate(&client_cert), &mut rng()))
    .expect("CertRep");
    c.bench_function("cert_rep_with_chain_parse_only", |bench| {
        bench.iter(|| PkiMessage::decode(&reply, &limits).expect("decode"))
    });
}

/// The ECDSA P-256 client: build and sign a PKCSReq, then read a CertRep SUCCESS sealed
/// with the challenge password (PasswordRecipientInfo, PBKDF2 at the default count).
fn ecdsa_client(c: &mut Criterion) {
    let (ca_key, ca_cert) = party("CN=bench CA");
    let key = {
        use p256::elliptic_curve::Generate;
        p256::ecdsa::SigningKey::generate_from_rng(&mut rng())
    };
    let now = SystemTime::now();
    let cert = scep::cert::self_signed_certificate(
        &key,
        &Name::from_str("CN=bench ec").expect("name"),
        now,
        now + Duration::from_secs(3600),
        &mut rng(),
    )
    .expect("certificate");
    let csr = support::csr(&key, "CN=bench ec", CHALLENGE);
    let build = || support::pkcsreq(&csr, &key, &cert, &ca_cert);
    let request = build();
    let limits = Limits::default();
    let verified = PkiMessage::decode(&request, &limits)
        .and_then(|m| m.verify(&[]))
        .expect("request");
    let reply = OutgoingCertRep::reply_to(
        verified.attributes(),
        CertRepContent::issued(vec![cert.clone()]),
        &mut rng(),
    )
    .and_then(|r| {
        r.seal(
            &SealParams::new(&ca_key, &ca_cert),
            Recipient::Password(CHALLENGE.as_bytes()),
            &mut rng(),
        )
    })
    .expect("CertRep");
    let options = DecryptOptions::default();
    let mut g = c.benchmark_group("ecdsa_client");
    g.bench_function("build_pkcsreq", |bench| bench.iter(build));
    g.bench_function("read_pwri_cert_rep", |bench| {
        bench.iter(|| {
            PkiMessage::decode(&reply, &limits)
                .and_then(|m| m.verify(std::slice::from_ref(&ca_cert)))
                .and_then(|v| v.cert_rep(EnvelopeKey::Password(CHALLENGE.as_bytes()), &options))
                .expect("SUCCESS")
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(4));
    targets = server, cert_rep_with_chain, ecdsa_client
}
criterion_main!(benches);
