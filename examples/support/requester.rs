//! The requester's side of the example client and the conformance tool: a blocking HTTP
//! transport that leaves the status to the library, and the requester's key (RSA-2048 or
//! ECDSA P-256, PKCS #8 PEM).

use std::time::Duration;

use der::pem::LineEnding;
use scep::http::HttpRequest;
use scep::{EnvelopeKey, KeyDecryptor, MessageSigner};

/// Any error of an example, for `main` to print.
pub type BoxError = Box<dyn std::error::Error>;

/// The operating system's random number generator.
pub fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// The HTTP side: a blocking client that does not treat 4xx/5xx as errors (the library
/// judges the status).
pub struct Transport {
    agent: ureq::Agent,
    /// `http://host:port`
    base: String,
}

impl Transport {
    pub fn new(url: &str) -> Result<(Self, String), BoxError> {
        let rest = url
            .strip_prefix("http://")
            .ok_or("only http:// URLs are supported")?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Ok((
            Transport {
                agent,
                base: format!("http://{authority}"),
            },
            path.to_owned(),
        ))
    }

    pub fn send(&self, req: &HttpRequest) -> Result<(u16, Option<String>, Vec<u8>), BoxError> {
        let url = format!("{}{}", self.base, req.target());
        let response = match req.method {
            scep::http::Method::Get => self.agent.get(&url).call()?,
            _ => self
                .agent
                .post(&url)
                .header(
                    "Content-Type",
                    req.content_type.unwrap_or("application/octet-stream"),
                )
                .send(&req.body[..])?,
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .into_body()
            .with_config()
            .limit(16 << 20)
            .read_to_vec()?;
        Ok((status, content_type, body))
    }
}

/// An RSA or ECDSA P-256 private key.
pub enum Key {
    Rsa(rsa::PrivateKey),
    Ec(p256::ecdsa::SigningKey),
}

impl Key {
    pub fn generate(ecdsa: bool) -> Result<Self, BoxError> {
        Ok(if ecdsa {
            use p256::elliptic_curve::Generate;
            Key::Ec(p256::ecdsa::SigningKey::generate_from_rng(&mut rng()))
        } else {
            Key::Rsa(rsa::PrivateKey::new(&mut rng(), 2048)?)
        })
    }
    #[allow(dead_code, reason = "the conformance tool makes its keys")]
    pub fn load(path: &str) -> Result<Self, BoxError> {
        let pem = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        {
            use rsa::pkcs8::DecodePrivateKey;
            if let Ok(k) = rsa::PrivateKey::from_pkcs8_pem(&pem) {
                return Ok(Key::Rsa(k));
            }
        }
        {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            if let Ok(k) = rsa::PrivateKey::from_pkcs1_pem(&pem) {
                return Ok(Key::Rsa(k));
            }
        }
        use p256::pkcs8::DecodePrivateKey;
        p256::ecdsa::SigningKey::from_pkcs8_pem(&pem)
            .map(Key::Ec)
            .map_err(|e| format!("{path}: neither an RSA nor a P-256 PKCS #8 key: {e}").into())
    }
    #[allow(dead_code, reason = "the conformance tool makes its keys")]
    pub fn save(&self, path: &str) -> Result<(), BoxError> {
        let pem = match self {
            Key::Rsa(k) => {
                use rsa::pkcs8::EncodePrivateKey;
                k.to_pkcs8_pem(LineEnding::LF)?.to_string()
            }
            Key::Ec(k) => {
                use p256::pkcs8::EncodePrivateKey;
                k.to_pkcs8_pem(LineEnding::LF)?.to_string()
            }
        };
        std::fs::write(path, pem)?;
        Ok(())
    }
    /// The key as a shared signer (a copy of it in an `Arc`), for an `Identity`.
    pub fn shared(&self) -> std::sync::Arc<dyn MessageSigner + Send + Sync> {
        match self {
            Key::Rsa(k) => std::sync::Arc::new(k.clone()),
            Key::Ec(k) => std::sync::Arc::new(k.clone()),
        }
    }
    #[allow(dead_code, reason = "not every example signs with a borrowed key")]
    pub fn signer(&self) -> &dyn MessageSigner {
        match self {
            Key::Rsa(k) => k,
            Key::Ec(k) => k,
        }
    }
    /// The key for a CertRep's envelope: the RSA key, or the challenge password.
    pub fn envelope_key<'a>(&'a self, challenge: Option<&'a str>) -> EnvelopeKey<'a> {
        match (self, challenge) {
            (Key::Rsa(k), _) => EnvelopeKey::Key {
                key: k as &dyn KeyDecryptor,
                certificate: None,
            },
            (Key::Ec(_), Some(p)) => EnvelopeKey::Password(p.as_bytes()),
            (Key::Ec(_), None) => EnvelopeKey::Password(b""),
        }
    }
}
