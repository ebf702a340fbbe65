//! A SCEP server someone could deploy: axum on a multi-threaded tokio runtime, the SCEP
//! transaction run by `scep::server::Server::handle`, and the CA's state in a database:
//! SQLite by default, PostgreSQL for several instances behind a load balancer.
//!
//! ```text
//! cargo run --example server -- --listen 127.0.0.1:PORT --challenge PASSWORD
//!     [--pending N|manual] [--store sqlite:FILE|postgres://...] [--ca-dir DIR]
//!     [--ca-out CA.pem] [--accept-retransmissions] [--allow-foreign-signers] [--no-rekey]
//!     [--allow-insecure-des] [--allow-small-rsa-keys] [--plaintext-db-network]
//! cargo run --example server -- list-pending --store STORE
//! cargo run --example server -- approve TRANSACTION_ID [--generation G] --store STORE
//! cargo run --example server -- reject TRANSACTION_ID [--generation G] --store STORE
//! cargo run --example server -- revoke SERIAL --store STORE
//! ```
//!
//! * `--store` (default `sqlite:scep-server.db`) holds the CA's keys (made on first start,
//!   unless `--ca-dir DIR` keeps them in files there), the replay store, the transactions,
//!   the certificates issued and their revocations, the operator's decisions. Several
//!   instances on one PostgreSQL database share all of it: a request pended at one is
//!   collected at another; a request replayed to one after another saw it is refused.
//! * It serves every path (SCEPPATH is ignored: `/scep` and `/cgi-bin/pkiclient.exe` both
//!   work) and prints a line containing `listening` once it accepts connections. GetCACaps
//!   announces POSTPKIOperation, SCEPStandard, AES, SHA-256, SHA-1, DES3, Renewal and
//!   GetNextCACert.
//! * An initial enrolment needs the challenge and must be signed with the CSR's key
//!   (`--allow-foreign-signers` lifts that, for Apple devices that sign with an MDM
//!   identity); a renewal (RenewalReq, or PKCSReq signed by a certificate this CA issued)
//!   needs that certificate valid and the same subject (a new key is allowed unless
//!   `--no-rekey`). `--pending N` answers PENDING until polled N times, `--pending manual`
//!   until an operator runs `approve` or `reject` (on the same store, while the server
//!   runs); `list-pending` prints a line per pending request: its transaction ID, subject,
//!   creation time (Unix seconds) and generation, tab-separated. `--generation` makes a
//!   verdict land only on the request the operator looked at (a client may start a new
//!   one under the same ID); a verdict, once given, stands.
//!   `revoke` puts a certificate on the CRL. `--ca-out` writes the CA certificate (PEM).
//!   `--accept-retransmissions` answers a request sent again unchanged from its
//!   transaction (what micromdm's scepclient sends while PENDING) instead of refusing it
//!   as a replay.
//! * The database holds secrets (the CA's key, unless `--ca-dir`; the challenge of ECDSA
//!   requesters' transactions) and the example speaks to PostgreSQL without TLS: a
//!   `postgres://` store must be on a unix socket or a loopback address, unless
//!   `--plaintext-db-network` says the network to it is private (or a TLS tunnel).
//! * Single DES is refused (RFC 8894 section 2.9) with a CertRep FAILURE badAlg whose text
//!   names it, unless `--allow-insecure-des` (micromdm's scepclient sends only DES; the
//!   answer to it is then sealed with DES-EDE3). An RSA key under 2048 bits is refused
//!   (FAILURE badAlg) unless `--allow-small-rsa-keys` (1024 and up). The certificate
//!   copies the request's subject and the DNS names, IP addresses, e-mail addresses and
//!   URIs of its subjectAltName, no other name form (a real CA checks them first).
//! * Every request is logged (stderr): method, path, status, and what the server did
//!   and why (`tracing`).

#[path = "support/db.rs"]
mod db;
#[path = "support/db_ca.rs"]
mod db_ca;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use der::EncodePem;
use scep::server::{Outcome, Server, ServerConfig};

use db::Db;
use db_ca::{CaKey, DbCa, Pending, capabilities};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: server --listen 127.0.0.1:PORT --challenge PASSWORD \
    [--pending N|manual] [--store sqlite:FILE|postgres://...] [--ca-dir DIR] [--ca-out CA.pem] \
    [--accept-retransmissions] [--allow-foreign-signers] [--no-rekey] [--allow-insecure-des] \
    [--allow-small-rsa-keys] [--plaintext-db-network]\n       \
    server list-pending|approve ID|reject ID|revoke SERIAL --store STORE [--generation G] \
    [--plaintext-db-network]";

/// The command line.
#[derive(Default)]
struct Args {
    command: Option<(String, Option<String>)>,
    listen: Option<String>,
    challenge: Option<String>,
    pending: Option<String>,
    store: Option<String>,
    ca_dir: Option<PathBuf>,
    ca_out: Option<String>,
    accept_retransmissions: bool,
    allow_foreign_signers: bool,
    no_rekey: bool,
    allow_insecure_des: bool,
    allow_small_rsa_keys: bool,
    plaintext_db_network: bool,
    generation: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1).peekable();
    if let Some(first) = it.peek().filter(|a| !a.starts_with("--")).cloned() {
        it.next();
        let operand = match first.as_str() {
            "list-pending" => None,
            "approve" | "reject" | "revoke" => Some(
                it.next()
                    .ok_or_else(|| format!("{first} needs an operand\n{USAGE}"))?,
            ),
            _ => return Err(USAGE.into()),
        };
        args.command = Some((first, operand));
    }
    let verdict = matches!(&args.command, Some((c, _)) if c == "approve" || c == "reject");
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{a} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--listen" => args.listen = Some(value()?),
            "--challenge" => args.challenge = Some(value()?),
            "--pending" => args.pending = Some(value()?),
            "--store" => args.store = Some(value()?),
            "--ca-dir" => args.ca_dir = Some(PathBuf::from(value()?)),
            "--ca-out" => args.ca_out = Some(value()?),
            "--accept-retransmissions" => args.accept_retransmissions = true,
            "--allow-foreign-signers" => args.allow_foreign_signers = true,
            "--no-rekey" => args.no_rekey = true,
            "--allow-insecure-des" => args.allow_insecure_des = true,
            "--allow-small-rsa-keys" => args.allow_small_rsa_keys = true,
            "--plaintext-db-network" => args.plaintext_db_network = true,
            "--generation" => args.generation = Some(value()?),
            _ => return Err(USAGE.into()),
        }
    }
    if args.generation.is_some() && !verdict {
        return Err(format!("--generation is for approve and reject\n{USAGE}"));
    }
    Ok(args)
}

/// Refuses a PostgreSQL store reached over a network, which this example would cross
/// without TLS (the CA's key and challenges in clear), unless the operator says that
/// network is private. A unix socket and loopback addresses are fine.
fn check_store_transport(store: &str, plaintext_network: bool) -> Result<(), BoxError> {
    if !(store.starts_with("postgres://") || store.starts_with("postgresql://"))
        || plaintext_network
    {
        return Ok(());
    }
    let config: postgres::Config = store.parse()?;
    // `hostaddr` is where it connects when given, whatever `host` says.
    let addresses: Vec<String> = config
        .get_hostaddrs()
        .iter()
        .map(ToString::to_string)
        .collect();
    let hosts = config.get_hosts().iter().filter_map(|host| match host {
        postgres::config::Host::Tcp(name) => Some(name.clone()),
        _ => None,
    });
    for name in addresses.into_iter().chain(hosts) {
        let loopback = name == "localhost"
            || name
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(format!(
                "--store: the PostgreSQL host {name:?} is not a unix socket or a loopback \
                 address, and this example does not use TLS: pass --plaintext-db-network \
                 if the network to it is private"
            )
            .into());
        }
    }
    Ok(())
}

/// What the request handler needs.
struct App {
    server: Server,
    ca: DbCa,
}

/// Runs an operator command on the store.
fn operator(
    db: &Db,
    command: &str,
    operand: Option<&str>,
    generation: Option<&str>,
) -> Result<ExitCode, BoxError> {
    match (command, operand) {
        ("list-pending", _) => {
            for t in db.pending()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    t.id,
                    t.csr.info.subject,
                    db::unix(t.created),
                    t.generation
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ("approve" | "reject", Some(id)) => {
            if DbCa::decide(db, id, generation, command)? {
                let done = if command == "approve" {
                    "approved"
                } else {
                    "rejected"
                };
                println!("{done} {id}");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("no pending transaction {id} (of that generation) without a verdict");
                Ok(ExitCode::FAILURE)
            }
        }
        ("revoke", Some(serial)) => {
            if DbCa::revoke(db, serial)? {
                println!("revoked {serial}");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("no unrevoked certificate with serial number {serial}");
                Ok(ExitCode::FAILURE)
            }
        }
        _ => Err(USAGE.into()),
    }
}

async fn scep(State(app): State<Arc<App>>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let limits = app.server.config().http_limits;
    let head = http::Request::from_parts(parts.clone(), ());
    let path = parts.uri.path().to_owned();
    let method = parts.method.clone();
    // A declared length over the limit is refused before the body is read; the body is
    // read within the limit either way.
    if let Err(response) = scep::http::RequestHead::of(&head, &limits) {
        return into_axum(response.into());
    }
    let body = match axum::body::to_bytes(body, limits.max_body_size).await {
        Ok(b) => b.to_vec(),
        Err(_) => {
            return into_axum(scep::http::HttpResponse::error(413, "the body is too large").into());
        }
    };
    let request = http::Request::from_parts(parts, body);
    // Verification, decryption, signing and the database are blocking work.
    let handled = tokio::task::spawn_blocking(move || {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        app.server
            .handle_http(&app.ca, &request, SystemTime::now(), &mut rng)
    })
    .await;
    match handled {
        Ok((response, report)) => {
            let mut line = format!("{method} {path} -> {}", response.status());
            if let Some(operation) = &report.operation {
                line.push_str(&format!(" {operation}"));
            }
            if let Some(message_type) = &report.message_type {
                line.push_str(&format!(" {message_type}"));
            }
            if let Some(id) = &report.transaction_id {
                line.push_str(&format!(" transaction {id}"));
            }
            match &report.outcome {
                Outcome::Failed { fail_info, reason } => {
                    line.push_str(&format!(": FAILURE {fail_info}: {reason}"));
                }
                Outcome::Refused { status, reason } => {
                    line.push_str(&format!(": refused ({status}): {reason}"));
                }
                other => line.push_str(&format!(": {other:?}")),
            }
            eprintln!("{line}");
            into_axum(response)
        }
        Err(e) => {
            eprintln!("{method} {path} -> 500: {e}");
            into_axum(scep::http::HttpResponse::error(500, "internal error").into())
        }
    }
}

fn into_axum(response: http::Response<Vec<u8>>) -> Response {
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, Body::from(body)).into_response()
}

fn serve(args: Args, db: Arc<Db>) -> Result<(), BoxError> {
    let listen = args.listen.ok_or(USAGE)?;
    let challenge = args.challenge.ok_or(USAGE)?;
    let pending: Pending = args.pending.as_deref().unwrap_or("0").parse()?;
    let dir = args.ca_dir.as_deref();
    let current = CaKey::load_or_create(&db, dir, "current", "CN=scep example CA,O=scep")?;
    let next = CaKey::load_or_create(&db, dir, "next", "CN=scep example CA 2,O=scep")?;
    if let Some(path) = &args.ca_out {
        std::fs::write(path, current.cert.to_pem(der::pem::LineEnding::LF)?)?;
    }
    let mut config = ServerConfig::new(capabilities(), vec![current.cert.clone()]);
    config.next_ca_certificates = Some(vec![next.cert.clone()]);
    // Single DES (RFC 8894 section 2.9: not to be used) is refused, with a FAILURE badAlg
    // naming it, unless old clients need it (micromdm's scepclient sends nothing else).
    config.decrypt.allow_insecure_single_des = args.allow_insecure_des;
    config.accept_retransmissions = args.accept_retransmissions;
    config.allow_foreign_signers = args.allow_foreign_signers;
    config.renewal.allow_rekey = !args.no_rekey;
    let server = current
        .server(config)?
        .with_replay_store(db.clone())
        .with_transaction_store(db.clone());
    let subject = current.cert.tbs_certificate().subject().to_string();
    let app = Arc::new(App {
        server,
        ca: DbCa {
            db,
            keys: current,
            challenge,
            pending,
            min_rsa_bits: if args.allow_small_rsa_keys {
                1024
            } else {
                2048
            },
        },
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        println!(
            "listening on http://{} (CA {subject})",
            listener.local_addr()?
        );
        let router = axum::Router::new().fallback(scep).with_state(app);
        axum::serve(listener, router).await?;
        Ok::<_, BoxError>(())
    })
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .init();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let store = args
        .store
        .clone()
        .unwrap_or_else(|| "sqlite:scep-server.db".into());
    let result = check_store_transport(&store, args.plaintext_db_network)
        .and_then(|()| Db::open(&store))
        .and_then(|db| {
            let db = Arc::new(db);
            match &args.command {
                Some((command, operand)) => {
                    operator(&db, command, operand.as_deref(), args.generation.as_deref())
                }
                None => serve(args, db).map(|()| ExitCode::SUCCESS),
            }
        });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
