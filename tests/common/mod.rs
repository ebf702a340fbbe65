//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod party;
pub mod process;
pub mod sealed;

/// The `../shared` folder beside the repository.
pub fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// Reads `../shared/<rel>`. When the file is missing: panics if `CI` is set (CI always has
/// the folder, so a missing file is a failure), otherwise returns `None` so the test can
/// skip with a message.
pub fn shared(rel: &str) -> Option<Vec<u8>> {
    let path = shared_dir().join(rel);
    match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but ../shared/{rel} cannot be read: {e}");
            }
            eprintln!("skipping: ../shared/{rel} is missing ({e})");
            None
        }
    }
}

/// Like [`shared`], as text.
pub fn shared_text(rel: &str) -> Option<String> {
    shared(rel).map(|b| String::from_utf8(b).expect("UTF-8 test file"))
}

/// Parses the first PEM certificate of a file under `../shared`.
pub fn shared_cert(rel: &str) -> Option<scep::Certificate> {
    use der::DecodePem;
    let pem = shared(rel)?;
    Some(scep::Certificate::from_pem(&pem).expect("PEM certificate"))
}

/// Reads an RSA private key (PKCS #8 or PKCS #1 PEM) under `../shared`.
pub fn shared_rsa_key(rel: &str) -> Option<rsa::PrivateKey> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let pem = shared_text(rel)?;
    let key = rsa::PrivateKey::from_pkcs8_pem(&pem)
        .or_else(|_| rsa::PrivateKey::from_pkcs1_pem(&pem))
        .expect("RSA private key PEM");
    Some(key)
}

/// The operating system's RNG, as rand_core 0.10 wants it.
pub fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}
