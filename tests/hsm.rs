//! A CA key in a PKCS #11 token: `examples/hsm.rs` on SoftHSM2, with a token this test
//! initialises in a temporary folder (its own `SOFTHSM2_CONF`; nothing outside is
//! touched). The token generates the key, signs the CA certificate, the issued
//! certificate and the CertRep, and decrypts the request; OpenSSL checks the signatures.
//!
//! Ignored by default: it needs the examples built and SoftHSM2 installed (Debian
//! `softhsm2`; `.ci/run` installs it). Run with
//! `cargo build --examples && cargo test --test hsm -- --ignored`. With `CI` set, a
//! missing SoftHSM2 fails the test instead of skipping it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::process::{example, run, run_with_stderr, tempdir};

/// Where Debian installs the SoftHSM2 module, or `SOFTHSM2_MODULE`.
fn softhsm_module() -> Option<PathBuf> {
    let path = std::env::var_os("SOFTHSM2_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but the SoftHSM2 module {} is missing (apt-get install softhsm2)",
        path.display()
    );
    eprintln!("skipped: no SoftHSM2 module at {}", path.display());
    None
}

/// A SoftHSM2 configuration whose tokens live in `dir`.
fn softhsm_conf(dir: &Path) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    conf
}

fn hsm(module: &Path, conf: &Path, pin: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(example("hsm"));
    cmd.env("SOFTHSM2_CONF", conf)
        .env("SCEP_PKCS11_PIN", pin)
        .env("SCEP_PKCS11_SO_PIN", "so-pin-5678")
        .arg("--module")
        .arg(module)
        .args(["--token", "scep-ca", "--key", "ca"])
        .args(extra);
    cmd
}

fn openssl(args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new("openssl");
    cmd.args(args);
    run_with_stderr(cmd, "openssl", Duration::from_secs(30))
}

#[test]
#[ignore = "needs the examples built and SoftHSM2"]
fn a_ca_key_in_softhsm_signs_and_decrypts_an_enrolment() {
    let Some(module) = softhsm_module() else {
        return;
    };
    let dir = tempdir("hsm");
    let conf = softhsm_conf(&dir);
    let ca_pem = dir.join("ca.pem");
    let device_pem = dir.join("device.pem");
    let files = [
        "--ca-out",
        ca_pem.to_str().unwrap(),
        "--cert-out",
        device_pem.to_str().unwrap(),
    ];

    // A new token, an RSA-2048 key generated in it, and an enrolment.
    let mut first = vec!["--init-token", "--generate", "2048"];
    first.extend(files);
    let (code, out) = run(
        hsm(&module, &conf, "1234", &first),
        "hsm example (new token)",
        Duration::from_secs(120),
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("token key \"ca\": RSA, sensitive and not extractable"),
        "{out}"
    );
    assert!(out.contains("enrolled CN=hsm-example-device"), "{out}");

    // OpenSSL checks what the token signed: the CA certificate (self-signed) and the
    // device's certificate under it.
    let ca = ca_pem.to_str().unwrap();
    let (code, text) = openssl(&["verify", "-x509_strict", "-CAfile", ca, ca]);
    assert_eq!(code, 0, "the CA certificate signed in the token: {text}");
    let (code, text) = openssl(&[
        "verify",
        "-x509_strict",
        "-CAfile",
        ca,
        device_pem.to_str().unwrap(),
    ]);
    assert_eq!(
        code, 0,
        "the device certificate signed in the token: {text}"
    );
    let (_, text) = openssl(&["x509", "-in", ca, "-noout", "-text"]);
    assert!(text.contains("CA:TRUE"), "{text}");
    assert!(text.contains("Certificate Sign"), "{text}");

    // The key stayed in the token: a second run finds it there, makes a new CA
    // certificate with it and enrols again.
    let (code, out) = run(
        hsm(&module, &conf, "1234", &files),
        "hsm example (same token)",
        Duration::from_secs(120),
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("enrolled CN=hsm-example-device"), "{out}");
    let (code, text) = openssl(&["verify", "-CAfile", ca, device_pem.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");

    // A wrong PIN: the token refuses the login, and the example says so.
    let (code, out) = run_with_stderr(
        hsm(&module, &conf, "9999", &[]),
        "hsm example (wrong PIN)",
        Duration::from_secs(60),
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("Login") && out.contains("PIN is incorrect"),
        "the token refuses the login: {out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
