//! The example server (`examples/server.rs`) as it would be deployed, over real HTTP on
//! 127.0.0.1, driven by this crate's client role:
//!
//! * on SQLite, killed (SIGKILL) while a request is pending and started again: it keeps
//!   its CA, the pending transaction, the operator's approval and its replay store;
//! * two instances on one PostgreSQL database act as one server: a request pended at one
//!   is approved by the operator and collected at the other, a request replayed to the
//!   other is refused, a certificate revoked through one is on the other's CRL;
//! * the same two under concurrent load, every request sent to both at once: one
//!   certificate per transaction, both instances answer with it, serial numbers unique.
//!
//! Ignored by default: they need the examples built and, for PostgreSQL, its server
//! binaries (Debian's `postgresql` package; `.ci/run` installs it). Each test runs its own
//! PostgreSQL cluster in a temporary folder, on 127.0.0.1 and a free port, and stops it.
//! `.ci/run` runs `cargo test --test deploy -- --ignored --test-threads=1`.

mod common;

use core::str::FromStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

use common::process::{Running, example, free_port, load_cert, run, tempdir};
use common::rng;
use scep::Certificate;
use scep::asn1::IssuerAndSerialNumber;
use scep::cert::Identity;
use scep::client::{
    CaInfo, ClientConfig, Discovery, Enrollment, EnrollmentKind, Fingerprint, Outcome, Query,
    QueryOutcome,
};
use scep::csr::CsrParams;
use scep::http::{HttpRequest, Method};
use scep::{EnvelopeKey, FailInfo, MessageSigner};
use x509_cert::name::Name;

/// The challenge every server here is started with.
const CHALLENGE: &str = "deploy-secret";

/// An instance of the example server.
struct Instance {
    running: Running,
    /// `http://127.0.0.1:PORT`
    base: String,
    ca: Certificate,
    /// Its standard error: a line per request, with what it did and why.
    log: PathBuf,
}

impl Instance {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

/// Starts the example server on `store` with `--pending pending` and `extra` arguments.
fn start(store: &str, dir: &Path, name: &str, pending: &str, extra: &[&str]) -> Instance {
    let port = free_port();
    let ca_path = dir.join(format!("{name}-ca.pem"));
    let mut cmd = Command::new(example("server"));
    cmd.args(["--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--challenge",
            CHALLENGE,
            "--pending",
            pending,
            "--store",
            store,
        ])
        .arg("--ca-out")
        .arg(&ca_path)
        .args(extra);
    let log = dir.join(format!("{name}.log"));
    let running = Running::start_logging(cmd, "listening", name, Duration::from_secs(60), &log);
    Instance {
        running,
        base: format!("http://127.0.0.1:{port}"),
        ca: load_cert(&ca_path),
        log,
    }
}

/// Runs an operator command of the example server on `store`; its exit status and output.
fn operator(store: &str, args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(example("server"));
    cmd.args(args).args(["--store", store]);
    run(
        cmd,
        &format!("server {}", args.join(" ")),
        Duration::from_secs(60),
    )
}

/// The transaction IDs `list-pending` prints.
fn pending_ids(store: &str) -> Vec<String> {
    let (code, out) = operator(store, &["list-pending"]);
    assert_eq!(code, 0, "list-pending");
    out.lines()
        .filter_map(|l| l.split('\t').next())
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One HTTP exchange with the instance at `base`: (status, Content-Type, body).
fn send(base: &str, req: &HttpRequest) -> (u16, Option<String>, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let url = format!("{base}{}", req.target());
    let response = match req.method {
        Method::Get => agent.get(&url).call(),
        _ => agent
            .post(&url)
            .header(
                "Content-Type",
                req.content_type.unwrap_or("application/octet-stream"),
            )
            .send(&req.body[..]),
    }
    .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.into_body().read_to_vec().unwrap();
    (status, content_type, body)
}

/// A GET of `operation` (GetCACaps, GetCACert).
fn scep_get(operation: &str) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        path: "/scep".into(),
        query: format!("operation={operation}"),
        content_type: None,
        body: Vec::new(),
    }
}

/// The client's configuration, pinned to `ca`.
fn config(ca: &Certificate) -> ClientConfig {
    let mut c = ClientConfig::new("/scep");
    c.ca_pin = Some(Fingerprint::sha256(ca).unwrap());
    c.poll_interval = Duration::from_secs(1);
    c
}

/// GetCACaps and GetCACert from `base`.
fn discover(base: &str, config: &ClientConfig) -> CaInfo {
    let mut d = Discovery::new(config.clone());
    loop {
        let req = d.poll_request().unwrap().expect("a discovery request");
        let (status, ct, body) = send(base, &req);
        if let Some(info) = d
            .handle_response(
                scep::http::HttpReply::new(status, ct.as_deref(), &body),
                SystemTime::now(),
            )
            .unwrap()
        {
            return info;
        }
    }
}

/// A device: an RSA-2048 key, its self-signed certificate, its name.
struct Device {
    key: rsa::PrivateKey,
    cert: Certificate,
    cn: String,
}

impl Device {
    fn new(cn: &str) -> Self {
        Device::with_bits(cn, 2048)
    }

    /// A device with an RSA key of `bits`.
    fn with_bits(cn: &str, bits: usize) -> Self {
        let key = rsa::PrivateKey::new(&mut rng(), bits).unwrap();
        let name = Name::from_str(&format!("CN={cn}")).unwrap();
        let id = Identity::self_signed(
            Arc::new(key.clone()),
            &name,
            SystemTime::now(),
            Duration::from_secs(3600),
            &mut rng(),
        )
        .unwrap();
        let cert = id.certificate().clone();
        Device {
            key,
            cert,
            cn: cn.to_owned(),
        }
    }

    /// The DNS name and IP address its CSR asks for (subjectAltName).
    fn dns_name(&self) -> String {
        format!("{}.devices.example", self.cn)
    }

    /// An initial enrolment (PKCSReq with the challenge, asking for a subjectAltName).
    fn enrolment(&self, info: &CaInfo, config: &ClientConfig) -> Enrollment {
        let mut p = CsrParams::new(Name::from_str(&format!("CN={}", self.cn)).unwrap());
        p.challenge_password = Some(CHALLENGE.into());
        p.dns_names = vec![self.dns_name()];
        p.ip_addresses = vec!["192.0.2.7".parse().unwrap()];
        let csr = p.build(&self.key).unwrap();
        let id = Identity::new(self.cert.clone(), Arc::new(self.key.clone())).unwrap();
        Enrollment::new(
            info,
            config,
            EnrollmentKind::Initial,
            csr,
            &id,
            SystemTime::now(),
        )
        .unwrap()
    }

    fn envelope_key(&self) -> EnvelopeKey<'_> {
        EnvelopeKey::Key {
            key: &self.key,
            certificate: Some(&self.cert),
        }
    }

    /// The request `enrollment` sends next (a poll as soon as one is allowed); the
    /// enrolment now waits for the answer to it.
    fn next_request(&self, enrollment: &mut Enrollment) -> HttpRequest {
        let due = enrollment.poll_timeout().unwrap_or_else(SystemTime::now);
        enrollment
            .poll_request(&self.key as &dyn MessageSigner, due, &mut rng())
            .unwrap()
            .expect("a request is due")
    }

    /// Sends `enrollment`'s first request to `base`, which must answer PENDING; that
    /// request, for sending again.
    fn pended(&self, enrollment: &mut Enrollment, base: &str) -> HttpRequest {
        let request = self.next_request(enrollment);
        let (status, ct, body) = send(base, &request);
        let outcome = enrollment
            .handle_response(
                scep::http::HttpReply::new(status, ct.as_deref(), &body),
                self.envelope_key(),
                SystemTime::now(),
            )
            .unwrap();
        assert!(matches!(outcome, Outcome::Pending { .. }), "{outcome:?}");
        request
    }

    /// Sends `enrollment`'s next request to `base` and handles the answer.
    fn exchange(&self, enrollment: &mut Enrollment, base: &str) -> Outcome {
        let due = enrollment.poll_timeout().unwrap_or_else(SystemTime::now);
        let req = self.next_request(enrollment);
        let (status, ct, body) = send(base, &req);
        enrollment
            .handle_response(
                scep::http::HttpReply::new(status, ct.as_deref(), &body),
                self.envelope_key(),
                due,
            )
            .unwrap_or_else(|e| panic!("{} at {base}: {e}", self.cn))
    }

    /// Checks that `outcome` is a certificate for this device issued by `ca`.
    fn issued(&self, outcome: Outcome, ca: &Certificate) -> Certificate {
        let Outcome::Issued { certificate, .. } = outcome else {
            panic!("{}: not issued: {outcome:?}", self.cn);
        };
        let tbs = certificate.tbs_certificate();
        assert_eq!(tbs.issuer(), ca.tbs_certificate().subject(), "issuer");
        scep::cert::verify_issued_by(&certificate, ca.tbs_certificate().subject_public_key_info())
            .expect("signed by the CA");
        assert_eq!(
            tbs.subject_public_key_info(),
            self.cert.tbs_certificate().subject_public_key_info(),
            "the certificate is for the device's key"
        );
        assert_eq!(tbs.subject().to_string(), format!("CN={}", self.cn));
        // The requested subjectAltName is copied.
        let san = tbs
            .extensions()
            .into_iter()
            .flatten()
            .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME)
            .expect("a subjectAltName");
        let san = <x509_cert::ext::pkix::SubjectAltName as der::Decode>::from_der(
            san.extn_value.as_bytes(),
        )
        .unwrap();
        let names: Vec<String> = san.0.iter().map(|n| format!("{n:?}")).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names[0].contains(&self.dns_name()), "{names:?}");
        assert!(names[1].contains("[192, 0, 2, 7]"), "{names:?}");
        certificate
    }
}

#[test]
#[ignore = "needs the examples built (.ci/run builds them)"]
fn sqlite_server_keeps_its_state_through_a_crash() {
    let dir = tempdir("deploy-sqlite");
    let store = format!("sqlite:{}", dir.join("scep.db").display());
    let first = start(&store, &dir, "server", "manual", &[]);
    let cfg = config(&first.ca);
    let info = discover(&first.base, &cfg);
    let device = Device::new("crash-test");
    let mut enrollment = device.enrolment(&info, &cfg);
    let pkcs_req = device.pended(&mut enrollment, &first.base);
    let id = enrollment.transaction_id().as_str().to_owned();
    assert_eq!(pending_ids(&store), vec![id.clone()]);

    // A crash, then the operator approves while the server is down.
    first.running.crash();
    let (code, _) = operator(&store, &["approve", &id]);
    assert_eq!(code, 0, "approve");
    let (code, _) = operator(&store, &["approve", "no-such-transaction"]);
    assert_ne!(code, 0, "approving a transaction that does not exist");

    let second = start(&store, &dir, "server-restarted", "manual", &[]);
    assert_eq!(second.ca, first.ca, "the CA is the same after the restart");
    // The replay store survived: the PKCSReq sent again is refused.
    let (status, _, _) = send(&second.base, &pkcs_req);
    assert_eq!(status, 400, "the PKCSReq replayed after the restart");
    // The pending transaction and the approval survived: the poll collects the certificate.
    let outcome = device.exchange(&mut enrollment, &second.base);
    device.issued(outcome, &second.ca);
    assert!(pending_ids(&store).is_empty());

    // A corrupt row: the request that needs it gets HTTP 503, the log names the row, the
    // server goes on.
    let other = Device::new("corrupt-row");
    let mut pending = other.enrolment(&info, &cfg);
    let outcome = other.exchange(&mut pending, &second.base);
    assert!(matches!(outcome, Outcome::Pending { .. }), "{outcome:?}");
    let corrupt = pending.transaction_id().as_str().to_owned();
    let db = rusqlite::Connection::open(dir.join("scep.db")).unwrap();
    let changed = db
        .execute(
            "UPDATE transactions SET csr = x'3003020100' WHERE id = ?1",
            [&corrupt],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let poll = other.next_request(&mut pending);
    let (status, _, body) = send(&second.base, &poll);
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    let log = second.log();
    assert!(
        log.lines()
            .any(|l| l.contains(" 503 ") && l.contains(&format!("transaction {corrupt:?}: csr"))),
        "the log names the corrupt row:\n{log}"
    );
    let (status, _, _) = send(&second.base, &scep_get("GetCACaps"));
    assert_eq!(status, 200, "the server goes on");
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs the examples built (.ci/run builds them)"]
fn the_operator_rejects_in_any_mode_and_secrets_stay_private() {
    let dir = tempdir("deploy-operator");
    let store = format!("sqlite:{}", dir.join("scep.db").display());
    let keys = dir.join("ca");
    let ca_dir = keys.to_str().unwrap();
    let server = start(&store, &dir, "server", "5", &["--ca-dir", ca_dir]);
    // The CA key on disk is its owner's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.join("current.key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the CA key is readable by others: {mode:o}"
        );
    }
    let cfg = config(&server.ca);
    let info = discover(&server.base, &cfg);
    // An RSA key under 2048 bits is refused: FAILURE badAlg.
    let small = Device::with_bits("small-key", 1024);
    let mut refused = small.enrolment(&info, &cfg);
    let outcome = small.exchange(&mut refused, &server.base);
    assert!(
        matches!(
            outcome,
            Outcome::Failed {
                fail_info: FailInfo::BadAlg,
                ..
            }
        ),
        "{outcome:?}"
    );
    // Under --pending 5, an operator's rejection counts at the next poll.
    let device = Device::new("rejected-device");
    let mut enrollment = device.enrolment(&info, &cfg);
    let outcome = device.exchange(&mut enrollment, &server.base);
    assert!(matches!(outcome, Outcome::Pending { .. }), "{outcome:?}");
    let id = enrollment.transaction_id().as_str().to_owned();
    // A verdict for another generation than the one pending is refused; for the one
    // list-pending shows, it lands; once given, it stands.
    let (code, listed) = operator(&store, &["list-pending"]);
    assert_eq!(code, 0);
    let fields: Vec<&str> = listed.trim().split('\t').collect();
    assert_eq!((fields.len(), fields[0]), (4, id.as_str()), "{listed}");
    let generation = fields[3];
    assert_eq!(generation.len(), 32, "{listed}");
    let other = "0".repeat(32);
    let (code, _) = operator(&store, &["approve", &id, "--generation", &other]);
    assert_eq!(code, 1, "a verdict for a generation that is not pending");
    let (code, out) = operator(&store, &["reject", &id, "--generation", generation]);
    assert_eq!((code, out.trim()), (0, format!("rejected {id}").as_str()));
    let (code, _) = operator(&store, &["approve", &id]);
    assert_eq!(code, 1, "a verdict, once given, stands");
    let outcome = device.exchange(&mut enrollment, &server.base);
    assert!(
        matches!(
            outcome,
            Outcome::Failed {
                fail_info: FailInfo::BadRequest,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(pending_ids(&store).is_empty());
    // A PostgreSQL store across a network is refused: this example speaks to it in clear.
    for url in [
        "postgres://scep@192.0.2.1/scep",
        "postgres://scep@localhost/scep?hostaddr=192.0.2.1",
    ] {
        let out = Command::new(example("server"))
            .args(["list-pending", "--store", url])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is not a unix socket"), "{url}: {stderr}");
    }
    // A database an earlier version made is refused at once, by table, not with 503s.
    let old = dir.join("old.db");
    rusqlite::Connection::open(&old)
        .unwrap()
        .execute_batch("CREATE TABLE polls (id TEXT PRIMARY KEY, count INTEGER NOT NULL);")
        .unwrap();
    let out = Command::new(example("server"))
        .args([
            "list-pending",
            "--store",
            &format!("sqlite:{}", old.display()),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the table polls"), "{stderr}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A PostgreSQL cluster of its own in a temporary folder, on 127.0.0.1 and a free port
/// (its unix socket in that folder too), stopped and removed when dropped.
struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// Run its commands as the `postgres` user (the tests run as root in CI, and
    /// PostgreSQL refuses to run as root).
    as_postgres: bool,
}

/// The newest `/usr/lib/postgresql/N/bin` with `initdb` (Debian's layout), or `PG_BIN`.
fn postgres_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

impl Postgres {
    /// Starts one; `None` (the test skips) when PostgreSQL is not installed and `CI` is
    /// not set. In CI it must be there.
    fn start(tag: &str) -> Option<Self> {
        let Some(bin) = postgres_bin() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but PostgreSQL is not installed (/usr/lib/postgresql/N/bin)"
            );
            eprintln!("skipping: PostgreSQL is not installed");
            return None;
        };
        let id = Command::new("id").arg("-u").output().unwrap();
        let as_postgres = String::from_utf8_lossy(&id.stdout).trim() == "0";
        let dir = tempdir(tag);
        if as_postgres {
            let status = Command::new("chown")
                .arg("postgres:")
                .arg(&dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown postgres {}", dir.display());
        }
        let pg = Postgres {
            dir,
            bin,
            port: free_port(),
            as_postgres,
        };
        let data = pg.dir.join("data");
        let mut initdb = pg.command("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "scep", "-A", "trust", "-E", "UTF8", "--no-sync"]);
        let (code, _) = run(initdb, "initdb", Duration::from_secs(120));
        assert_eq!(code, 0, "initdb");
        pg.start_server();
        Some(pg)
    }

    /// Stops the server (fast shutdown: connections are closed).
    fn stop(&self) {
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"]);
        let (code, _) = run(pg_ctl, "pg_ctl stop", Duration::from_secs(60));
        assert_eq!(code, 0, "pg_ctl stop");
    }

    /// Starts the server (again, after [`Postgres::stop`]).
    fn start_server(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=40",
            self.port,
            self.dir.display()
        );
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("postgres.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        let (code, _) = run(pg_ctl, "pg_ctl start", Duration::from_secs(90));
        assert_eq!(
            code,
            0,
            "pg_ctl start (log: {})",
            self.dir.join("postgres.log").display()
        );
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }

    /// The URL the example server takes as `--store`.
    fn url(&self) -> String {
        format!("postgres://scep@127.0.0.1:{}/postgres", self.port)
    }

    /// A client for checking what the servers wrote.
    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url(), postgres::NoTls).unwrap()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
#[ignore = "needs the examples built and PostgreSQL installed (.ci/run does both)"]
fn postgres_instances_share_transactions_replays_and_revocations() {
    let Some(pg) = Postgres::start("deploy-pg-share") else {
        return;
    };
    let store = pg.url();
    let a = start(&store, &pg.dir, "instance-a", "manual", &[]);
    let b = start(&store, &pg.dir, "instance-b", "manual", &[]);
    assert_eq!(a.ca, b.ca, "both instances run the one CA in the database");
    let cfg = config(&a.ca);
    let info = discover(&a.base, &cfg);
    let device = Device::new("shared-device");

    // PKCSReq to A: PENDING.
    let mut enrollment = device.enrolment(&info, &cfg);
    let pkcs_req = device.pended(&mut enrollment, &a.base);
    // The same PKCSReq replayed to B: B knows A saw it.
    let (status, _, _) = send(&b.base, &pkcs_req);
    assert_eq!(status, 400, "the PKCSReq replayed to the other instance");

    // B still answers PENDING to a poll until the operator approves.
    let outcome = device.exchange(&mut enrollment, &b.base);
    assert!(matches!(outcome, Outcome::Pending { .. }), "{outcome:?}");
    let id = enrollment.transaction_id().as_str().to_owned();
    assert_eq!(pending_ids(&store), vec![id.clone()]);
    let (code, _) = operator(&store, &["approve", &id]);
    assert_eq!(code, 0, "approve");
    let cert = device.issued(device.exchange(&mut enrollment, &b.base), &a.ca);
    assert!(pending_ids(&store).is_empty());

    // Revoked through the operator command; on the CRL that A then signs.
    // As a browser shows it: upper case, octets between colons.
    let serial = cert
        .tbs_certificate()
        .serial_number()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let (code, _) = operator(&store, &["revoke", &serial]);
    assert_eq!(code, 0, "revoke");
    let holder = Identity::new(cert.clone(), Arc::new(device.key.clone())).unwrap();
    // Answers to the holder are encrypted to its certificate.
    let holder_key = EnvelopeKey::Key {
        key: &device.key,
        certificate: Some(&cert),
    };
    let (query, req) = Query::get_crl(
        &info,
        &cfg,
        IssuerAndSerialNumber::of(&cert),
        &holder,
        &mut rng(),
    )
    .unwrap();
    let (status, ct, body) = send(&a.base, &req);
    match query
        .handle_response(
            scep::http::HttpReply::new(status, ct.as_deref(), &body),
            holder_key,
        )
        .unwrap()
    {
        QueryOutcome::Crl(crl) => {
            let revoked: Vec<_> = crl
                .tbs_cert_list
                .revoked_certificates
                .iter()
                .flatten()
                .map(|r| r.serial_number.clone())
                .collect();
            assert_eq!(
                revoked,
                vec![cert.tbs_certificate().serial_number().clone()]
            );
        }
        other => panic!("not a CRL: {other:?}"),
    }
    // The revoked certificate renews no more, at either instance.
    for base in [&b.base, &a.base] {
        let mut p = CsrParams::new(Name::from_str("CN=shared-device").unwrap());
        p.challenge_password = None;
        let csr = p.build(&device.key).unwrap();
        let mut renewal = Enrollment::new(
            &info,
            &cfg,
            EnrollmentKind::Renewal,
            csr,
            &holder,
            SystemTime::now(),
        )
        .unwrap();
        let req = renewal
            .poll_request(
                &device.key as &dyn MessageSigner,
                SystemTime::now(),
                &mut rng(),
            )
            .unwrap()
            .unwrap();
        let (status, ct, body) = send(base, &req);
        let outcome = renewal
            .handle_response(
                scep::http::HttpReply::new(status, ct.as_deref(), &body),
                holder_key,
                SystemTime::now(),
            )
            .unwrap();
        assert!(
            matches!(
                outcome,
                Outcome::Failed {
                    fail_info: FailInfo::BadRequest,
                    ..
                }
            ),
            "{base}: a renewal signed by a revoked certificate: {outcome:?}"
        );
    }
    assert!(a.log().contains("revoked") || b.log().contains("revoked"));
    // GetCert at A finds what B issued.
    let (query, req) = Query::get_cert(
        &info,
        &cfg,
        IssuerAndSerialNumber::of(&cert),
        &holder,
        &mut rng(),
    )
    .unwrap();
    let (status, ct, body) = send(&a.base, &req);
    assert_eq!(
        query
            .handle_response(
                scep::http::HttpReply::new(status, ct.as_deref(), &body),
                holder_key
            )
            .unwrap(),
        QueryOutcome::Certificates(vec![cert.clone()])
    );

    // The database goes down: what needs it is HTTP 503 (with a fixed text), what is
    // configuration is still answered; back up, both instances carry on.
    pg.stop();
    let (_, req) = Query::get_cert(
        &info,
        &cfg,
        IssuerAndSerialNumber::of(&cert),
        &holder,
        &mut rng(),
    )
    .unwrap();
    let (status, _, body) = send(&a.base, &req);
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    let (status, _, _) = send(&b.base, &scep_get("GetCACaps"));
    assert_eq!(status, 200, "GetCACaps needs no database");
    pg.start_server();
    for base in [&a.base, &b.base] {
        let (query, req) = Query::get_cert(
            &info,
            &cfg,
            IssuerAndSerialNumber::of(&cert),
            &holder,
            &mut rng(),
        )
        .unwrap();
        let (status, ct, body) = send(base, &req);
        assert_eq!(
            query
                .handle_response(
                    scep::http::HttpReply::new(status, ct.as_deref(), &body),
                    holder_key
                )
                .unwrap(),
            QueryOutcome::Certificates(vec![cert.clone()]),
            "{base} after the database came back"
        );
    }
    drop((a, b));
}

#[test]
#[ignore = "needs the examples built and PostgreSQL installed (.ci/run does both)"]
fn postgres_instances_under_concurrent_load_issue_once_per_transaction() {
    const DEVICES: usize = 12;
    let Some(pg) = Postgres::start("deploy-pg-load") else {
        return;
    };
    let store = pg.url();
    // Immediate issue; a request sent again unchanged is answered (as micromdm's client
    // needs), so that both instances answer the same PKCSReq.
    let extra = ["--accept-retransmissions"];
    let a = start(&store, &pg.dir, "instance-a", "0", &extra);
    let b = start(&store, &pg.dir, "instance-b", "0", &extra);
    let cfg = config(&a.ca);
    let info = discover(&a.base, &cfg);
    let devices: Vec<Arc<Device>> = (0..DEVICES)
        .map(|i| Arc::new(Device::new(&format!("load-{i}"))))
        .collect();

    // Every device sends its PKCSReq to A and to B at once; all devices at once.
    let start_line = Arc::new(Barrier::new(2 * DEVICES));
    let mut threads = Vec::new();
    for device in &devices {
        let mut enrollment = device.enrolment(&info, &cfg);
        let req = device.next_request(&mut enrollment);
        for base in [a.base.clone(), b.base.clone()] {
            let (device, enrollment, req) = (device.clone(), enrollment.clone(), req.clone());
            let start_line = start_line.clone();
            threads.push(std::thread::spawn(move || {
                start_line.wait();
                let (status, ct, body) = send(&base, &req);
                let mut enrollment = enrollment;
                let outcome = enrollment
                    .handle_response(
                        scep::http::HttpReply::new(status, ct.as_deref(), &body),
                        device.envelope_key(),
                        SystemTime::now(),
                    )
                    .unwrap_or_else(|e| panic!("{} at {base}: {e}", device.cn));
                (enrollment.transaction_id().as_str().to_owned(), outcome)
            }));
        }
    }
    let answers: Vec<(String, Outcome)> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    let mut serials = Vec::new();
    for (device, pair) in devices.iter().zip(answers.chunks(2)) {
        let [(id_a, from_a), (id_b, from_b)] = pair else {
            panic!("two answers per device");
        };
        assert_eq!(id_a, id_b);
        let cert_a = device.issued(from_a.clone(), &a.ca);
        let cert_b = device.issued(from_b.clone(), &a.ca);
        assert_eq!(
            cert_a, cert_b,
            "{}: both instances answer with one certificate",
            device.cn
        );
        serials.push(cert_a.tbs_certificate().serial_number().clone());
    }
    serials.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    serials.dedup();
    assert_eq!(serials.len(), DEVICES, "a serial number per device");

    // What the database holds: one certificate per transaction, one finished transaction
    // per device, nothing pending.
    let mut db = pg.client();
    let row = db
        .query_one(
            "SELECT count(*), count(DISTINCT transaction_id), count(DISTINCT serial) \
             FROM certificates",
            &[],
        )
        .unwrap();
    let counts: (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    let n = i64::try_from(DEVICES).unwrap();
    assert_eq!(
        counts,
        (n, n, n),
        "certificates, their transactions, their serials"
    );
    let row = db
        .query_one(
            "SELECT count(*) FILTER (WHERE state = 'issued'), count(*) FROM transactions",
            &[],
        )
        .unwrap();
    let states: (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(states, (n, n), "issued transactions, all transactions");
    drop((a, b));
}
