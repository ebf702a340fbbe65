//! A SCEP CA whose key lives in a PKCS #11 token: the token signs the CA certificate,
//! the issued certificates and the CertReps, and decrypts the requests; the private key
//! never leaves it.
//!
//! ```text
//! SCEP_PKCS11_PIN=... [SCEP_PKCS11_SO_PIN=...] cargo run --example hsm -- \
//!     --module /usr/lib/softhsm/libsofthsm2.so --token TOKEN --key LABEL \
//!     [--init-token] [--generate BITS] [--ca-out CA.pem] [--cert-out DEVICE.pem]
//! ```
//!
//! The PINs come from the environment, not the command line (where `ps` and the shell's
//! history would show them): `SCEP_PKCS11_PIN` the user PIN, `SCEP_PKCS11_SO_PIN` the
//! security officer's, needed only by `--init-token`, which initialises a token labelled
//! TOKEN in a free slot first. `--generate` makes an RSA key pair of BITS labelled LABEL
//! in the token (sensitive, not extractable). Then the program makes the CA certificate with the token's key, runs
//! this crate's SCEP server over it and enrols a client against it in-process (the same
//! `Server::handle` an HTTP handler calls, as `examples/server.rs` does), and prints what
//! happened. `tests/hsm.rs` runs it on SoftHSM2 with a token it initialises in a
//! temporary folder.
//!
//! To serve HTTP with a token key, give `Server::new` the `TokenKey` of
//! `support/pkcs11.rs` as the signer and as the decryption key, as `main` does here.

use core::str::FromStr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use scep::caps::{Capabilities, Capability};
use scep::cert::Identity;
use scep::cert::{CertificateParams, ca_extensions, issue, random_serial};
use scep::client::{ClientConfig, Discovery, Enrollment, EnrollmentKind, Fingerprint, Outcome};
use scep::csr::CsrParams;
use scep::http::{HttpReply, HttpRequest, HttpResponse};
use scep::server::{DecryptionKey, Server, ServerConfig};
use scep::{Certificate, DigestAlgorithm, EnvelopeKey, MessageSigner};
use x509_cert::name::Name;

#[path = "support/issue_at_once.rs"]
mod issue_at_once;
#[path = "support/pkcs11.rs"]
mod pkcs11;

use issue_at_once::IssueAtOnce;
use pkcs11::{Token, TokenKey};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: SCEP_PKCS11_PIN=... [SCEP_PKCS11_SO_PIN=...] hsm --module PATH \
    --token LABEL --key LABEL [--init-token] [--generate BITS] [--ca-out CA.pem] \
    [--cert-out DEVICE.pem]";

const CHALLENGE: &str = "hsm-example";

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

#[derive(Default)]
struct Args {
    module: Option<PathBuf>,
    token: Option<String>,
    key: Option<String>,
    init_token: bool,
    generate: Option<u64>,
    ca_out: Option<PathBuf>,
    cert_out: Option<PathBuf>,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--module" => args.module = Some(value()?.into()),
            "--token" => args.token = Some(value()?),
            "--key" => args.key = Some(value()?),
            "--init-token" => args.init_token = true,
            "--generate" => args.generate = Some(value()?.parse()?),
            "--ca-out" => args.ca_out = Some(value()?.into()),
            "--cert-out" => args.cert_out = Some(value()?.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
        }
    }
    Ok(args)
}

/// The CA certificate of `key`, signed in the token.
fn ca_certificate(key: &TokenKey, now: SystemTime) -> Result<Certificate, BoxError> {
    let name = Name::from_str("CN=scep PKCS #11 example CA,O=scep")?;
    let spki = key.public_key_info()?;
    Ok(issue(
        &CertificateParams {
            serial_number: random_serial(&mut rng())?,
            extensions: ca_extensions(&name, &spki, None, Some(0))?,
            subject: name.clone(),
            public_key: spki,
            not_before: now - Duration::from_secs(60),
            not_after: now + Duration::from_secs(10 * 365 * 86400),
        },
        &name,
        key,
        DigestAlgorithm::Sha256,
    )?)
}

fn reply(response: &HttpResponse) -> HttpReply<'_> {
    HttpReply::from(response)
}

/// Discovery and one enrolment of a fresh RSA-2048 device against `serve`.
fn enrol(
    ca_cert: &Certificate,
    serve: &dyn Fn(&HttpRequest) -> HttpResponse,
) -> Result<Certificate, BoxError> {
    let now = SystemTime::now();
    let mut config = ClientConfig::new("/scep");
    config.ca_pin = Some(Fingerprint::sha256(ca_cert)?);
    let mut discovery = Discovery::new(config.clone());
    let ca = loop {
        let request = discovery
            .poll_request()?
            .ok_or("discovery stopped before it found the CA")?;
        if let Some(ca) = discovery.handle_response(reply(&serve(&request)), now)? {
            break ca;
        }
    };
    let key = rsa::PrivateKey::new(&mut rng(), 2048)?;
    let subject = Name::from_str("CN=hsm-example-device")?;
    let identity = Identity::self_signed(
        Arc::new(key.clone()),
        &subject,
        now,
        Duration::from_secs(3600),
        &mut rng(),
    )?;
    let mut csr = CsrParams::new(subject);
    csr.challenge_password = Some(CHALLENGE.into());
    let mut enrollment = Enrollment::new(
        &ca,
        &config,
        EnrollmentKind::Initial,
        csr.build(&key)?,
        &identity,
        now,
    )?;
    let request = enrollment
        .poll_request(&key, now, &mut rng())?
        .ok_or("the enrolment made no request")?;
    let response = serve(&request);
    let reply_key = EnvelopeKey::Key {
        key: &key,
        certificate: Some(identity.certificate()),
    };
    match enrollment.handle_response(reply(&response), reply_key, now)? {
        Outcome::Issued { certificate, .. } => Ok(certificate),
        other => Err(format!("the CA did not issue: {other:?}").into()),
    }
}

fn run() -> Result<(), BoxError> {
    let args = parse_args()?;
    let module = args.module.ok_or(USAGE)?;
    let (token_label, key_label) = match (args.token, args.key) {
        (Some(t), Some(k)) => (t, k),
        _ => return Err(USAGE.into()),
    };
    let pin = env_pin("SCEP_PKCS11_PIN")?;
    let token = if args.init_token {
        let so_pin = env_pin("SCEP_PKCS11_SO_PIN")?;
        Token::initialise(&module, &token_label, &so_pin, &pin)?
    } else {
        Token::open(&module, &token_label)?
    };
    let key = match args.generate {
        Some(bits) => token.generate_rsa(&pin, &key_label, bits)?,
        None => token.key(&pin, &key_label)?,
    };
    let key = Arc::new(key);
    println!(
        "token key {key_label:?}: RSA, {}",
        if key.is_sealed_in_token()? {
            "sensitive and not extractable"
        } else {
            "EXTRACTABLE (the token lets it out)"
        }
    );

    let now = SystemTime::now();
    let ca_cert = ca_certificate(&key, now)?;
    println!(
        "CA certificate {} signed in the token",
        ca_cert.tbs_certificate().subject()
    );
    if let Some(path) = &args.ca_out {
        write_pem(path, &ca_cert)?;
    }

    let caps: Capabilities = Capabilities::scep_standard().with(Capability::PostPkiOperation);
    let server = Server::new(
        ServerConfig::new(caps, vec![ca_cert.clone()]),
        ca_cert.clone(),
        Identity::new(ca_cert.clone(), key.clone())?,
        vec![DecryptionKey {
            certificate: ca_cert.clone(),
            key: key.clone(),
        }],
    )?;
    let ca = IssueAtOnce {
        key: key.clone(),
        cert: ca_cert.clone(),
        challenge: CHALLENGE.into(),
    };
    let serve = |req: &HttpRequest| -> HttpResponse {
        let handled = server.handle(
            &ca,
            req.method.as_str(),
            req.query.as_str(),
            &req.body,
            SystemTime::now(),
            &mut rng(),
        );
        handled.response
    };
    let issued = enrol(&ca_cert, &serve)?;
    if let Some(path) = &args.cert_out {
        write_pem(path, &issued)?;
    }
    let tbs = issued.tbs_certificate();
    println!(
        "enrolled {}: certificate {} issued by {}; the request was decrypted and the \
         CertRep signed in the token",
        tbs.subject(),
        hex(tbs.serial_number().as_bytes()),
        tbs.issuer()
    );
    Ok(())
}

/// A PIN from the environment variable `name`, kept in a `Zeroizing` string.
fn env_pin(name: &str) -> Result<zeroize::Zeroizing<String>, BoxError> {
    match std::env::var(name) {
        Ok(pin) if !pin.is_empty() => Ok(zeroize::Zeroizing::new(pin)),
        _ => Err(format!("{name} is not set\n{USAGE}").into()),
    }
}

fn write_pem(path: &std::path::Path, cert: &Certificate) -> Result<(), BoxError> {
    use der::EncodePem;
    std::fs::write(path, cert.to_pem(der::pem::LineEnding::LF)?)?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() {
    if let Err(e) = run() {
        eprintln!("hsm: {e}");
        std::process::exit(1);
    }
}
