//! Prints any SCEP message as `name: value` lines: the crate's conformance and debugging tool.
//!
//! ```text
//! cargo run --example inspect -- FILE [--key KEY.pem] [--cert CERT.pem]... [--password PW] [--allow-des]
//! ```
//!
//! FILE is a pkiMessage (PKCSReq, RenewalReq, CertPoll, GetCert, GetCRL, CertRep), a
//! GetCACert response (DER certificate or certs-only SignedData), in DER or BER. `--cert`
//! supplies certificates to find the signer (CertReps may carry none) and to pick the
//! recipient; `--key` (RSA, PKCS #8 or PKCS #1 PEM) or `--password` decrypts the envelope.
//! Exits non-zero with the error on bad input.

use std::process::ExitCode;

use der::Encode;
use scep::Certificate;
use scep::message::{CaCertificates, CertRepContent, PkiMessage, RequestContent};
use scep::{DecryptOptions, EnvelopeKey, Limits};

struct Args {
    file: String,
    key: Option<String>,
    certs: Vec<String>,
    password: Option<String>,
    allow_des: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut file = None;
    let mut args = Args {
        file: String::new(),
        key: None,
        certs: Vec::new(),
        password: None,
        allow_des: false,
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--key" => args.key = Some(it.next().ok_or("--key needs a file")?),
            "--cert" => args.certs.push(it.next().ok_or("--cert needs a file")?),
            "--password" => args.password = Some(it.next().ok_or("--password needs a value")?),
            "--allow-des" => args.allow_des = true,
            "-h" | "--help" => return Err(usage()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{}", usage())),
            s => {
                if file.replace(s.to_owned()).is_some() {
                    return Err(format!("only one FILE\n{}", usage()));
                }
            }
        }
    }
    args.file = file.ok_or_else(usage)?;
    Ok(args)
}

fn usage() -> String {
    "usage: inspect FILE [--key KEY.pem] [--cert CERT.pem]... [--password PW] [--allow-des]".into()
}

fn load_certs(paths: &[String]) -> Result<Vec<Certificate>, String> {
    let mut out = Vec::new();
    for p in paths {
        let bytes = std::fs::read(p).map_err(|e| format!("{p}: {e}"))?;
        if bytes.starts_with(b"-----") {
            out.extend(Certificate::load_pem_chain(&bytes).map_err(|e| format!("{p}: {e}"))?);
        } else {
            out.push(der::Decode::from_der(&bytes).map_err(|e| format!("{p}: {e}"))?);
        }
    }
    Ok(out)
}

fn load_key(path: &str) -> Result<rsa::PrivateKey, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let pem = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    // Skip "Bag Attributes" and other text before the PEM block.
    let start = pem
        .find("-----BEGIN")
        .ok_or(format!("{path}: no PEM block"))?;
    let pem = &pem[start..];
    rsa::PrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| rsa::PrivateKey::from_pkcs1_pem(pem))
        .map_err(|e| format!("{path}: not an RSA private key: {e}"))
}

fn line(name: &str, value: impl std::fmt::Display) {
    println!("{name}: {value}");
}

fn cert_summary(c: &Certificate) -> String {
    format!(
        "subject={} issuer={} serial={}",
        c.tbs_certificate().subject(),
        c.tbs_certificate().issuer(),
        hex(c.tbs_certificate().serial_number().as_bytes())
    )
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let input = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file))?;
    let input = if input.starts_with(b"-----BEGIN") {
        // PEM-armoured message: take the base64 body.
        let (_, der) = der::pem::decode_vec(&input).map_err(|e| format!("PEM: {e}"))?;
        der
    } else {
        input
    };
    let certs = load_certs(&args.certs)?;
    let limits = Limits::default();
    let options = {
        let mut o = DecryptOptions::default();
        o.allow_insecure_single_des = args.allow_des;
        o
    };

    let msg = match PkiMessage::decode(&input, &limits) {
        Ok(m) => m,
        Err(pki_err) => {
            // Not a pkiMessage: maybe a GetCACert response.
            return match CaCertificates::parse(None, &input, &limits) {
                Ok(ca) => {
                    line("kind", "GetCACert response");
                    line("certificates", ca.certificates.len());
                    for c in &ca.certificates {
                        line("certificate", cert_summary(c));
                    }
                    Ok(())
                }
                Err(_) => Err(pki_err.to_string()),
            };
        }
    };

    let a = msg.attributes().clone();
    line("kind", "pkiMessage");
    line("message-type", a.message_type);
    line("transaction-id", &a.transaction_id);
    line(
        "sender-nonce",
        a.sender_nonce
            .as_ref()
            .map_or("absent".into(), |n| n.to_string()),
    );
    line(
        "recipient-nonce",
        a.recipient_nonce
            .as_ref()
            .map_or("absent".into(), |n| n.to_string()),
    );
    if let Some(r) = a.random_nonce() {
        line("random-nonce", hex(&r));
    }
    line(
        "pki-status",
        a.pki_status.map_or("absent".into(), |s| s.to_string()),
    );
    line(
        "fail-info",
        a.fail_info.map_or("absent".into(), |f| f.to_string()),
    );
    if let Some(t) = &a.fail_info_text {
        line("fail-info-text", t);
    }
    line("digest", msg.digest_algorithm());
    line("signature", msg.key_algorithm());
    match msg.envelope_info() {
        None => line("content-encryption", "none (no pkcsPKIEnvelope)"),
        Some(Ok(info)) => {
            match &info.cipher {
                Ok(c) => line("content-encryption", c),
                Err(e) => line("content-encryption", format!("refused: {e}")),
            }
            for r in &info.recipients {
                line("recipient", format!("{r:?}"));
            }
        }
        Some(Err(e)) => line("content-encryption", format!("unreadable envelope: {e}")),
    }
    line("certificates-in-message", msg.certificates().len());
    match msg.signer_certificate(&certs) {
        Some(c) => line("signer-subject", c.tbs_certificate().subject()),
        None => line(
            "signer-subject",
            "not found (pass the CA certificate with --cert)",
        ),
    }

    let verified = match msg.verify(&certs) {
        Ok(v) => {
            line("verified", "yes");
            v
        }
        Err(e) => {
            line("verified", format!("no: {e}"));
            return Err(e.to_string());
        }
    };

    let key = match &args.key {
        Some(k) => Some(load_key(k)?),
        None => None,
    };
    let recipient_cert = certs.iter().find(|c| {
        key.as_ref().is_some_and(|k| {
            use scep::KeyDecryptor;
            k.recipient_key_info().ok().and_then(|s| s.to_der().ok())
                == c.tbs_certificate().subject_public_key_info().to_der().ok()
        })
    });
    let env_key = match (&key, &args.password) {
        (Some(k), _) => EnvelopeKey::Key {
            key: k,
            certificate: recipient_cert,
        },
        (None, Some(p)) => EnvelopeKey::Password(p.as_bytes()),
        (None, None) => return Ok(()),
    };

    if a.message_type.is_request() {
        let (content, cipher) = verified
            .request(env_key, &options)
            .map_err(|e| e.to_string())?;
        line("decrypted-with", cipher);
        match content {
            RequestContent::PkcsReq(csr) | RequestContent::RenewalReq(csr) => {
                line("csr-subject", &csr.info.subject);
                line("csr-version", csr.info.version);
                line(
                    "csr-signature",
                    match scep::csr::verify(&csr) {
                        Ok(()) => "valid".to_string(),
                        Err(e) => format!("invalid: {e}"),
                    },
                );
                let details = scep::csr::inspect(&csr).map_err(|e| e.to_string())?;
                line(
                    "challenge-password-present",
                    if details.challenge_password.is_some() {
                        "yes"
                    } else {
                        "no"
                    },
                );
                for n in &details.dns_names {
                    line("csr-dns-name", n);
                }
                for ip in &details.ip_addresses {
                    line("csr-ip-address", ip);
                }
                for ext in &details.requested_extensions {
                    line("csr-requested-extension", ext.extn_id);
                }
            }
            RequestContent::CertPoll(ias) => {
                line("poll-issuer", &ias.issuer);
                line("poll-subject", &ias.subject);
            }
            RequestContent::GetCert(ias) | RequestContent::GetCrl(ias) => {
                line("issuer", &ias.issuer);
                line("serial", hex(ias.serial_number.as_bytes()));
            }
            _ => line("payload", "unknown"),
        }
    } else {
        match verified
            .cert_rep(env_key, &options)
            .map_err(|e| e.to_string())?
        {
            CertRepContent::Success { certificates, crls } => {
                line("certificates", certificates.len());
                for c in &certificates {
                    line("certificate", cert_summary(c));
                }
                line("crls", crls.len());
                for c in &crls {
                    line("crl-issuer", &c.tbs_cert_list.issuer);
                }
            }
            CertRepContent::Failure { .. } | CertRepContent::Pending => {}
            _ => {}
        }
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}
