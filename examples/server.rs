//! A small SCEP server over HTTP with an in-memory CA (see `examples/support/memory_ca.rs`).
//!
//! ```text
//! cargo run --example server -- --listen 127.0.0.1:PORT --challenge PASSWORD [--pending N]
//!                                [--ca-out CA.pem] [--accept-retransmissions]
//!                                [--allow-foreign-signers] [--no-rekey]
//! ```
//!
//! It serves every path (SCEPPATH is ignored: `/scep` and `/cgi-bin/pkiclient.exe` both
//! work) and prints a line containing `listening` once it accepts connections. GetCACaps
//! announces POSTPKIOperation, SCEPStandard, AES, SHA-256, SHA-1, DES3, Renewal and
//! GetNextCACert. A PKCSReq needs the challenge password and must be signed with the key it
//! asks a certificate for (`--allow-foreign-signers` lifts that, for Apple devices that
//! sign with an MDM identity); a RenewalReq, or a PKCSReq signed by a certificate this CA
//! issued, needs that certificate valid and the same subject (a new key is allowed unless
//! `--no-rekey`); with `--pending N` enrolments stay PENDING until polled N times, and a
//! poll must be signed with the key of the request it polls. GetCert, GetCRL and GetNextCACert are answered. `--ca-out` writes
//! the CA certificate (PEM) so that clients can pin it. `--accept-retransmissions` lets
//! a request sent again unchanged through as a poll of its transaction (what micromdm's
//! scepclient sends while PENDING) instead of refusing it as a replay.

#[path = "support/memory_ca.rs"]
mod memory_ca;

use std::io::Read;
use std::process::ExitCode;

use der::EncodePem;
use memory_ca::MemoryCa;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    listen: String,
    challenge: String,
    pending: u32,
    ca_out: Option<String>,
    accept_retransmissions: bool,
    allow_foreign_signers: bool,
    no_rekey: bool,
}

fn usage() -> String {
    "usage: server --listen 127.0.0.1:PORT --challenge PASSWORD [--pending N] [--ca-out CA.pem] \
     [--accept-retransmissions] [--allow-foreign-signers] [--no-rekey]"
        .into()
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut listen, mut challenge, mut pending, mut ca_out) = (None, None, 0, None);
    let (mut accept_retransmissions, mut allow_foreign_signers, mut no_rekey) =
        (false, false, false);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{a} needs a value\n{}", usage()))
        };
        match a.as_str() {
            "--listen" => listen = Some(value()?),
            "--challenge" => challenge = Some(value()?),
            "--pending" => pending = value()?.parse().map_err(|e| format!("--pending: {e}"))?,
            "--ca-out" => ca_out = Some(value()?),
            "--accept-retransmissions" => accept_retransmissions = true,
            "--allow-foreign-signers" => allow_foreign_signers = true,
            "--no-rekey" => no_rekey = true,
            _ => return Err(usage()),
        }
    }
    Ok(Args {
        listen: listen.ok_or_else(usage)?,
        challenge: challenge.ok_or_else(usage)?,
        pending,
        ca_out,
        accept_retransmissions,
        allow_foreign_signers,
        no_rekey,
    })
}

/// Upper bound on a request body read from the network (the library checks its own,
/// smaller limit too).
const MAX_BODY: u64 = 4 << 20;

fn serve(args: Args) -> Result<(), BoxError> {
    let mut ca = MemoryCa::new(&args.challenge, args.pending, true)?;
    ca.configure(|config| {
        config.accept_retransmissions = args.accept_retransmissions;
        config.allow_foreign_signers = args.allow_foreign_signers;
        config.renewal.allow_rekey = !args.no_rekey;
    })?;
    if let Some(path) = &args.ca_out {
        std::fs::write(path, ca.current.cert.to_pem(der::pem::LineEnding::LF)?)?;
    }
    let http = tiny_http::Server::http(&args.listen)?;
    println!(
        "listening on http://{} (CA {})",
        http.server_addr(),
        ca.current.cert.tbs_certificate().subject()
    );
    for mut request in http.incoming_requests() {
        let mut body = Vec::new();
        let read = request.as_reader().take(MAX_BODY).read_to_end(&mut body);
        let url = request.url().to_owned();
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let method = request.method().as_str().to_owned();
        let response = match read {
            Err(e) => scep::http::HttpResponse::error(400, &e.to_string()),
            Ok(_) => ca
                .handle(&method, query, &body)
                .unwrap_or_else(|e| scep::http::HttpResponse::error(500, &e.to_string())),
        };
        eprintln!(
            "{method} {} -> {} {} ({} octets)",
            url.chars().take(80).collect::<String>(),
            response.status,
            response.content_type,
            response.body.len()
        );
        let mut out =
            tiny_http::Response::from_data(response.body).with_status_code(response.status);
        if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", response.content_type) {
            out = out.with_header(h);
        }
        if response.status == 405
            && let Ok(h) = tiny_http::Header::from_bytes("Allow", "GET, POST")
        {
            out = out.with_header(h);
        }
        if let Err(e) = request.respond(out) {
            eprintln!("respond: {e}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
