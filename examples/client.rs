//! An sscep-style SCEP client over HTTP, on `scep::client`.
//!
//! ```text
//! client getcaps   --url URL
//! client getca     --url URL [--out CA.pem] [--fingerprint HEX]
//! client enroll    --url URL --challenge P --subject CN=NAME --key-out KEY.pem --cert-out CERT.pem
//!                  [--ecdsa] [--allow-des] [--fingerprint HEX] [--force-get]
//!                  [--dns NAME]... [--state FILE] [--poll-interval SECS] [--max-polls N]
//! client renew     --url URL --cert CERT.pem --key KEY.pem --key-out NEWKEY.pem --cert-out NEW.pem
//!                  [--subject CN=NAME] [--ecdsa] [--allow-des] [--fingerprint HEX]
//! client poll      --url URL --state FILE --key KEY.pem --cert-out CERT.pem [--challenge P]
//!                  [--max-polls N]
//! client getcert   --url URL --cert CERT.pem --key KEY.pem --serial HEX --out OUT.pem
//! client getcrl    --url URL --cert CERT.pem --key KEY.pem --out CRL.pem
//! client getnextca --url URL --out NEXT.pem [--fingerprint HEX]
//! ```
//!
//! Every command that talks to the CA also takes `--ra-marked` (trust RA certificates the
//! CA issued with an RA extended key usage: Microsoft NDES) or `--ra-fingerprint HEX[,HEX]`
//! (trust these RA certificates); without, a GetCACert answer with an RA is refused. And
//! `--issuing-ca-fingerprint HEX` names the CA that issues, when `--fingerprint` pins a
//! root (otherwise any sub-CA under the root could answer as the issuing CA).
//!
//! URL is the SCEP URL, e.g. `http://127.0.0.1:8080/scep` (plain HTTP; this example has
//! no TLS). Keys are PKCS #8 PEM, RSA-2048 or, with `--ecdsa`, P-256 (the CA then encrypts
//! its reply with the challenge password). Exit status: 0 on success, 3 when the CA
//! answers FAILURE (the line `failed: <failInfo>` is printed), 4 when it is still PENDING
//! (`--state` keeps the transaction for `client poll`), 1 on any other error.

#[path = "support/requester.rs"]
mod requester;

use core::str::FromStr;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use der::pem::LineEnding;
use der::{Decode, EncodePem};
use scep::Certificate;
use scep::asn1::{IssuerAndSerialNumber, SerialNumber};
use scep::caps::Capabilities;
use scep::cert::Identity;
use scep::client::{
    CaInfo, ClientConfig, Discovery, Enrollment, EnrollmentKind, Fingerprint, Outcome, Query,
    QueryOutcome, RaTrust, handle_next_ca_response, next_ca_request,
};
use scep::csr::CsrParams;
use x509_cert::name::Name;

use requester::{BoxError, Key, Transport, rng};

/// The command line: a command and `--name value` options (flags have no value).
struct Args {
    command: String,
    options: Vec<(String, Option<String>)>,
}

const FLAGS: &[&str] = &["--ecdsa", "--allow-des", "--force-get", "--ra-marked"];

impl Args {
    fn parse() -> Result<Self, String> {
        let mut it = std::env::args().skip(1);
        let command = it.next().ok_or_else(usage)?;
        let mut options = Vec::new();
        while let Some(name) = it.next() {
            if !name.starts_with("--") {
                return Err(format!("unexpected argument {name:?}\n{}", usage()));
            }
            if FLAGS.contains(&name.as_str()) {
                options.push((name, None));
            } else {
                let v = it.next().ok_or_else(|| format!("{name} needs a value"))?;
                options.push((name, Some(v)));
            }
        }
        Ok(Args { command, options })
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.options
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }
    fn need(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("{} needs {name}", self.command))
    }
    fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }
}

fn usage() -> String {
    "usage: client getcaps|getca|enroll|renew|poll|getcert|getcrl|getnextca --url URL [options] \
     (see the source header for the options)"
        .into()
}

fn load_cert(path: &str) -> Result<Certificate, BoxError> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    if bytes.starts_with(b"-----") {
        Certificate::load_pem_chain(&bytes)?
            .into_iter()
            .next()
            .ok_or_else(|| format!("{path}: no certificate").into())
    } else {
        Ok(Certificate::from_der(&bytes)?)
    }
}

fn write_certs(path: &str, certs: &[Certificate]) -> Result<(), BoxError> {
    let mut pem = String::new();
    for c in certs {
        pem.push_str(&c.to_pem(LineEnding::LF)?);
    }
    std::fs::write(path, pem)?;
    Ok(())
}

fn config(args: &Args, scep_path: &str) -> Result<ClientConfig, BoxError> {
    let mut config = ClientConfig::new(scep_path);
    if let Some(f) = args.get("--fingerprint") {
        config.ca_pin = Some(Fingerprint::from_hex(f)?);
    }
    if let Some(f) = args.get("--issuing-ca-fingerprint") {
        config.issuing_ca = Some(Fingerprint::from_hex(f)?);
    }
    if args.flag("--ra-marked") {
        config.ra_trust = RaTrust::Marked;
    } else if let Some(list) = args.get("--ra-fingerprint") {
        config.ra_trust = RaTrust::Pinned(
            list.split(',')
                .map(Fingerprint::from_hex)
                .collect::<Result<_, _>>()?,
        );
    }
    config.decrypt.allow_insecure_single_des = args.flag("--allow-des");
    config.policy.force_get = args.flag("--force-get");
    if let Some(s) = args.get("--poll-interval") {
        config.poll_interval = Duration::from_secs(s.parse()?);
    }
    if let Some(n) = args.get("--max-polls") {
        config.max_polls = n.parse()?;
    }
    Ok(config)
}

fn discover(t: &Transport, config: &ClientConfig) -> Result<CaInfo, BoxError> {
    let mut d = Discovery::new(config.clone());
    while let Some(req) = d.poll_request()? {
        let (status, ct, body) = t.send(&req)?;
        if let Some(info) = d.handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            SystemTime::now(),
        )? {
            eprintln!(
                "CA {} (SHA-256 {}); {} with {}, {}",
                info.ca.tbs_certificate().subject(),
                hex(&scep::DigestAlgorithm::Sha256.digest(&der::Encode::to_der(&info.ca)?)),
                info.negotiated.cipher,
                info.negotiated.digest,
                scep::http::Method::for_pki_operation(&info.negotiated)
            );
            return Ok(info);
        }
    }
    Err("discovery ended without an answer".into())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// Drives an enrolment to its end: sleeps until each poll is due.
fn finish(
    t: &Transport,
    enrollment: &mut Enrollment,
    key: &Key,
    challenge: Option<&str>,
    state: Option<&str>,
) -> Result<Finished, BoxError> {
    loop {
        let now = SystemTime::now();
        let Some(req) = enrollment.poll_request(key.signer(), now, &mut rng())? else {
            let due = enrollment.poll_timeout().unwrap_or(now);
            std::thread::sleep(due.duration_since(now).unwrap_or_default());
            continue;
        };
        let (status, ct, body) = t.send(&req)?;
        let outcome = enrollment.handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            key.envelope_key(challenge),
            SystemTime::now(),
        );
        match outcome {
            Ok(Outcome::Issued { certificate, chain }) => {
                if let Some(s) = state {
                    let _ = std::fs::remove_file(s);
                }
                println!(
                    "issued: {} by {}",
                    certificate.tbs_certificate().subject(),
                    certificate.tbs_certificate().issuer()
                );
                let mut all = vec![certificate];
                all.extend(chain);
                return Ok(Finished::Issued(all));
            }
            Ok(Outcome::Failed {
                fail_info,
                fail_info_text,
            }) => {
                println!(
                    "failed: {}{}",
                    fail_info.name(),
                    fail_info_text
                        .map(|t| format!(" ({t})"))
                        .unwrap_or_default()
                );
                return Ok(Finished::Exit(ExitCode::from(3)));
            }
            Ok(Outcome::Pending { next_poll }) => {
                if let Some(s) = state {
                    std::fs::write(s, enrollment.save()?)?;
                }
                eprintln!(
                    "pending: poll {} of transaction {} in {}s",
                    enrollment.polls() + 1,
                    enrollment.transaction_id(),
                    next_poll
                        .duration_since(SystemTime::now())
                        .unwrap_or_default()
                        .as_secs()
                );
            }
            Err(scep::Error::Policy(e)) if state.is_some() => {
                if let Some(s) = state {
                    std::fs::write(s, enrollment.save()?)?;
                }
                println!("pending: {e}");
                return Ok(Finished::Exit(ExitCode::from(4)));
            }
            Err(e) => return Err(e.into()),
            Ok(other) => return Err(format!("unexpected outcome {other:?}").into()),
        }
    }
}

/// How an enrolment ended.
enum Finished {
    Issued(Vec<Certificate>),
    Exit(ExitCode),
}

impl Finished {
    /// Writes the certificate (then its chain) to `--cert-out` and gives the exit code.
    fn write(self, args: &Args) -> Result<ExitCode, BoxError> {
        match self {
            Finished::Issued(certs) => {
                write_certs(args.need("--cert-out")?, &certs)?;
                Ok(ExitCode::SUCCESS)
            }
            Finished::Exit(code) => Ok(code),
        }
    }
}

fn enroll(args: &Args, renew: bool) -> Result<ExitCode, BoxError> {
    let (t, path) = Transport::new(args.need("--url")?)?;
    let config = config(args, &path)?;
    let info = discover(&t, &config)?;
    let now = SystemTime::now();
    let challenge = args.get("--challenge");
    let new_key = Key::generate(args.flag("--ecdsa"))?;

    // The signing identity: for renewal the existing certificate and key (both, or a
    // typed error), else a self-signed certificate for the new key.
    let old_key = match (renew, args.get("--key")) {
        (true, Some(p)) => Some(Key::load(p)?),
        _ => None,
    };
    let old_cert = match (renew, args.get("--cert")) {
        (true, Some(p)) => Some(load_cert(p)?),
        _ => None,
    };
    let subject = match (args.get("--subject"), &old_cert) {
        (Some(s), _) => Name::from_str(s)?,
        (None, Some(c)) => c.tbs_certificate().subject().clone(),
        (None, None) => return Err("--subject is required".into()),
    };
    let identity = if renew {
        Identity::from_parts(old_cert, old_key.as_ref().map(Key::shared))?
    } else {
        Identity::self_signed(
            new_key.shared(),
            &subject,
            now,
            Duration::from_secs(7 * 86400),
            &mut rng(),
        )?
    };
    let mut csr = CsrParams::new(subject);
    csr.challenge_password = challenge.map(str::to_owned);
    csr.dns_names = args.all("--dns").into_iter().map(str::to_owned).collect();
    let csr = csr.build(new_key.signer())?;
    let kind = if renew {
        EnrollmentKind::Renewal
    } else {
        EnrollmentKind::Initial
    };
    let mut enrollment = Enrollment::new(&info, &config, kind, csr, &identity, now)?;
    eprintln!(
        "{} transaction {}",
        enrollment.message_type(),
        enrollment.transaction_id()
    );
    new_key.save(args.need("--key-out")?)?;
    let signing_key = old_key.as_ref().unwrap_or(&new_key);
    finish(
        &t,
        &mut enrollment,
        signing_key,
        challenge,
        args.get("--state"),
    )?
    .write(args)
}

fn poll(args: &Args) -> Result<ExitCode, BoxError> {
    let (t, path) = Transport::new(args.need("--url")?)?;
    let state = args.need("--state")?;
    let mut enrollment = Enrollment::restore(&std::fs::read(state)?, &config(args, &path)?)?;
    if let Some(n) = args.get("--max-polls") {
        enrollment.set_poll_limits(
            enrollment.polls().saturating_add(n.parse()?),
            Duration::from_secs(30 * 86400),
        );
    }
    let key = Key::load(args.need("--key")?)?;
    finish(
        &t,
        &mut enrollment,
        &key,
        args.get("--challenge"),
        Some(state),
    )?
    .write(args)
}

fn query(args: &Args, crl: bool) -> Result<ExitCode, BoxError> {
    let (t, path) = Transport::new(args.need("--url")?)?;
    let config = config(args, &path)?;
    let info = discover(&t, &config)?;
    let key = Key::load(args.need("--key")?)?;
    let cert = load_cert(args.need("--cert")?)?;
    let identity = Identity::new(cert.clone(), key.shared())?;
    let target = if crl {
        IssuerAndSerialNumber::of(&cert)
    } else {
        let serial = args.need("--serial")?;
        let bytes = (0..serial.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(serial.get(i..i + 2).unwrap_or("x"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| "--serial must be hex")?;
        IssuerAndSerialNumber {
            issuer: info.ca.tbs_certificate().subject().clone(),
            serial_number: SerialNumber::new(&bytes)?,
        }
    };
    let (q, req) = if crl {
        Query::get_crl(&info, &config, target, &identity, &mut rng())?
    } else {
        Query::get_cert(&info, &config, target, &identity, &mut rng())?
    };
    let (status, ct, body) = t.send(&req)?;
    let out = args.need("--out")?;
    match q.handle_response(
        scep::http::HttpReply::new(status, ct.as_deref(), &body),
        key.envelope_key(args.get("--challenge")),
    )? {
        QueryOutcome::Certificates(certs) => {
            for c in &certs {
                println!("certificate: {}", c.tbs_certificate().subject());
            }
            write_certs(out, &certs)?;
        }
        QueryOutcome::Crl(crl) => {
            println!(
                "crl: issuer {}, {} revoked",
                crl.tbs_cert_list.issuer,
                crl.tbs_cert_list
                    .revoked_certificates
                    .as_ref()
                    .map_or(0, Vec::len)
            );
            std::fs::write(out, crl.to_pem(LineEnding::LF)?)?;
        }
        QueryOutcome::Failed { fail_info, .. } => {
            println!("failed: {}", fail_info.name());
            return Ok(ExitCode::from(3));
        }
        other => return Err(format!("unexpected answer {other:?}").into()),
    }
    Ok(ExitCode::SUCCESS)
}

fn run(args: &Args) -> Result<ExitCode, BoxError> {
    match args.command.as_str() {
        "getcaps" => {
            let (t, path) = Transport::new(args.need("--url")?)?;
            let config = config(args, &path)?;
            let req = Discovery::new(config).poll_request()?.ok_or("no request")?;
            let (status, ct, body) = t.send(&req)?;
            let body = scep::http::check_response(
                scep::http::OperationKind::GetCaCaps,
                scep::http::HttpReply::new(status, ct.as_deref(), &body),
            )?;
            println!("{}", Capabilities::from_bytes(body)?.format().trim_end());
            Ok(ExitCode::SUCCESS)
        }
        "getca" => {
            let (t, path) = Transport::new(args.need("--url")?)?;
            let info = discover(&t, &config(args, &path)?)?;
            for c in &info.certificates {
                println!(
                    "certificate: {} SHA-256 {}",
                    c.tbs_certificate().subject(),
                    hex(&scep::DigestAlgorithm::Sha256.digest(&der::Encode::to_der(c)?))
                );
            }
            if let Some(out) = args.get("--out") {
                write_certs(out, &info.certificates)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        "enroll" => enroll(args, false),
        "renew" => enroll(args, true),
        "poll" => poll(args),
        "getcert" => query(args, false),
        "getcrl" => query(args, true),
        "getnextca" => {
            let (t, path) = Transport::new(args.need("--url")?)?;
            let config = config(args, &path)?;
            let info = discover(&t, &config)?;
            let req = next_ca_request(&info, &config)?;
            let (status, ct, body) = t.send(&req)?;
            let next = handle_next_ca_response(
                &info,
                &config,
                scep::http::HttpReply::new(status, ct.as_deref(), &body),
            )?;
            for c in &next.certificates {
                println!("next: {}", c.tbs_certificate().subject());
            }
            write_certs(args.need("--out")?, &next.certificates)?;
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(usage().into()),
    }
}

fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
