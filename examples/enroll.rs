//! A full SCEP enrolment in one process: an embedded CA (the in-memory CA of
//! `examples/support/memory_ca.rs`, on `scep::server`) answers GetCACaps, GetCACert and a
//! PKCSReq; the client (`scep::client`) pins the CA, negotiates, enrols, verifies and
//! decrypts the CertRep, and prints the issued certificate as PEM.
//!
//! ```text
//! cargo run --example enroll [-- --ecdsa]
//! ```
//!
//! No network is involved: the "transport" hands each request shape to the CA as method,
//! query and body, exactly what an HTTP server would pass on (`examples/server.rs` and
//! `examples/client.rs` do the same over real HTTP). Progress goes to stderr; the
//! certificate goes to stdout.
//!
//! With `--ecdsa` the client's key is ECDSA P-256: it cannot decrypt key transport, so the
//! CA encrypts its reply with the challenge password (PasswordRecipientInfo).

#[path = "support/memory_ca.rs"]
mod memory_ca;

use core::str::FromStr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use der::EncodePem;
use der::pem::LineEnding;
use memory_ca::MemoryCa;
use scep::Certificate;
use scep::cert::Identity;
use scep::client::{ClientConfig, Discovery, Enrollment, EnrollmentKind, Fingerprint, Outcome};
use scep::csr::CsrParams;
use scep::http::HttpRequest;
use scep::{EnvelopeKey, KeyDecryptor, MessageSigner};
use x509_cert::name::Name;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const CHALLENGE: &str = "enrol-me-please";

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// Stands in for an HTTP client and server: the request shape goes to the CA as method,
/// query and body; the answer comes back as status, content type and body.
fn send(ca: &mut MemoryCa, request: &HttpRequest) -> Result<(u16, String, Vec<u8>), BoxError> {
    let query = request.query.as_str();
    let target = request.target();
    let shown: String = target.chars().take(72).collect();
    eprintln!(
        "client: {} {shown}{} ({} octets of body)",
        request.method,
        if shown.len() < target.len() {
            "..."
        } else {
            ""
        },
        request.body.len()
    );
    let response = ca.handle(request.method.as_str(), query, &request.body)?;
    eprintln!(
        "ca:     {} {} ({} octets)",
        response.status,
        response.content_type,
        response.body.len()
    );
    Ok((
        response.status,
        response.content_type.to_owned(),
        response.body,
    ))
}

/// The client side. `decryptor` is the client key when it can decrypt key transport (RSA);
/// without one the CA's reply is read with the challenge password.
fn enrol(
    ca: &mut MemoryCa,
    key: Arc<dyn MessageSigner + Send + Sync>,
    decryptor: Option<&dyn KeyDecryptor>,
) -> Result<Certificate, BoxError> {
    // The CA's fingerprint would come out of band (a provisioning profile, a config
    // file); here it is read from the embedded CA.
    let mut config = ClientConfig::new("/scep");
    config.ca_pin = Some(Fingerprint::sha256(&ca.current.cert)?);

    // GetCACaps, then GetCACert.
    let mut discovery = Discovery::new(config.clone());
    let info = loop {
        let request = discovery.poll_request()?.ok_or("discovery stopped")?;
        let (status, content_type, body) = send(ca, &request)?;
        if let Some(info) = discovery.handle_response(
            scep::http::HttpReply::new(status, Some(&content_type), &body),
            SystemTime::now(),
        )? {
            break info;
        }
    };
    eprintln!(
        "client: CA {} pinned; announces {}; using {} with {}, {}",
        info.ca.tbs_certificate().subject(),
        info.capabilities.format().trim_end().replace('\n', " "),
        info.negotiated.cipher,
        info.negotiated.digest,
        scep::http::Method::for_pki_operation(&info.negotiated)
    );

    // The PKCSReq: a CSR with the challenge password, signed with a self-signed certificate.
    let now = SystemTime::now();
    let subject = Name::from_str("CN=device-0001,O=scep example")?;
    let identity = Identity::self_signed(
        key.clone(),
        &subject,
        now,
        Duration::from_secs(3600),
        &mut rng(),
    )?;
    let mut csr = CsrParams::new(subject);
    csr.challenge_password = Some(CHALLENGE.into());
    csr.dns_names.push("device-0001.example.net".into());
    let mut enrollment = Enrollment::new(
        &info,
        &config,
        EnrollmentKind::Initial,
        csr.build(key.as_ref())?,
        &identity,
        now,
    )?;
    eprintln!(
        "client: {} transaction {}",
        enrollment.message_type(),
        enrollment.transaction_id()
    );
    let reply_key = match decryptor {
        Some(k) => EnvelopeKey::Key {
            key: k,
            certificate: Some(identity.certificate()),
        },
        None => EnvelopeKey::Password(CHALLENGE.as_bytes()),
    };
    let request = enrollment
        .poll_request(key.as_ref(), now, &mut rng())?
        .ok_or("no request to send")?;
    let (status, content_type, body) = send(ca, &request)?;
    match enrollment.handle_response(
        scep::http::HttpReply::new(status, Some(&content_type), &body),
        reply_key,
        now,
    )? {
        Outcome::Issued { certificate, .. } => Ok(certificate),
        Outcome::Failed {
            fail_info,
            fail_info_text,
        } => Err(format!("FAILURE {fail_info:?} {fail_info_text:?}").into()),
        Outcome::Pending { .. } => Err("PENDING".into()),
        other => Err(format!("unexpected outcome {other:?}").into()),
    }
}

fn run(ecdsa: bool) -> Result<(), BoxError> {
    let mut ca = MemoryCa::new(CHALLENGE, 0, false)?;
    let cert = if ecdsa {
        use p256::elliptic_curve::Generate;
        let key = p256::ecdsa::SigningKey::generate_from_rng(&mut rng());
        enrol(&mut ca, Arc::new(key), None)?
    } else {
        let key = rsa::PrivateKey::new(&mut rng(), 2048)?;
        enrol(&mut ca, Arc::new(key.clone()), Some(&key))?
    };
    scep::cert::verify_issued_by(
        &cert,
        ca.current.cert.tbs_certificate().subject_public_key_info(),
    )?;
    eprintln!(
        "client: issued {} by {}",
        cert.tbs_certificate().subject(),
        cert.tbs_certificate().issuer(),
    );
    print!("{}", cert.to_pem(LineEnding::LF)?);
    Ok(())
}

fn main() -> ExitCode {
    let ecdsa = std::env::args().any(|a| a == "--ecdsa");
    match run(ecdsa) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
