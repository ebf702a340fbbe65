//! The sealed vectors of `test-vectors/sealed/` (made by `examples/gen_vectors.rs`) and
//! the keys beside them.

use std::path::PathBuf;

use scep::Certificate;

/// The folder.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-vectors/sealed")
}

/// The bytes of the file `name` there.
pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The first certificate of the PEM file `name`.
pub fn cert(name: &str) -> Certificate {
    Certificate::load_pem_chain(&read(name)).unwrap().remove(0)
}

/// The RSA key of the PKCS #8 PEM file `name`.
pub fn rsa_key(name: &str) -> rsa::PrivateKey {
    use rsa::pkcs8::DecodePrivateKey;
    rsa::PrivateKey::from_pkcs8_pem(std::str::from_utf8(&read(name)).unwrap()).unwrap()
}
