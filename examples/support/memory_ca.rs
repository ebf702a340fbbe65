//! An in-memory CA on top of `scep::server`: what `examples/enroll.rs` runs in-process and
//! what the tests talk to. It implements only the CA's decisions
//! ([`CertificateAuthority`]); `Server::handle` runs the SCEP transaction around them.
//!
//! Policy:
//! * an initial enrolment needs the static challenge password; the server checks that the
//!   PKCSReq is signed with the CSR's key (unless `allow_foreign_signers`, for Apple
//!   devices that sign with an MDM identity);
//! * a renewal (a RenewalReq, or a PKCSReq signed by a certificate this CA issued) needs
//!   that certificate valid now and the same subject; a new key is allowed (sscep and
//!   certmonger renew with one);
//! * with `pending_polls = N`, every enrolment is answered PENDING until it has been
//!   polled N times;
//! * GetCert finds certificates this CA issued; GetCRL answers with a fresh, empty CRL;
//! * a GetCert or GetCRL answer for a requester whose key cannot decrypt (ECDSA) is sealed
//!   with the challenge only for one that holds a certificate this CA issued.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use scep::Certificate;
use scep::DigestAlgorithm;
use scep::asn1::{CertificateList, IssuerAndSerialNumber};
use scep::cert::{issue_crl, random_serial};
use scep::error::StoreError;
use scep::server::{
    CertificateAuthority, Decision, Enrolment, Generation, Server, ServerConfig, challenge_matches,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[path = "ca_key.rs"]
mod ca_key;
pub use ca_key::{CaKey, capabilities};

/// The example server's configuration for a CA: its capabilities and certificate, the
/// next CA for GetNextCACert, single DES accepted (micromdm's client sends only that; it
/// is never produced), and re-keying allowed on renewal.
pub fn config(current: &CaKey, next: Option<&CaKey>) -> ServerConfig {
    let mut config = ServerConfig::new(capabilities(), vec![current.cert.clone()]);
    config.next_ca_certificates = next.map(|n| vec![n.cert.clone()]);
    config.decrypt.allow_insecure_single_des = true;
    config.renewal.allow_rekey = true;
    config
}

/// The SCEP server for a CA, configured by `configure` on top of [`config`]: it signs and
/// decrypts with the CA key.
pub fn server_with(
    current: &CaKey,
    next: Option<&CaKey>,
    configure: impl FnOnce(&mut ServerConfig),
) -> Result<Server, scep::Error> {
    let mut config = config(current, next);
    configure(&mut config);
    current.server(config)
}

/// The SCEP server for a CA, with [`ServerConfig::accept_retransmissions`] as asked.
pub fn server(
    current: &CaKey,
    next: Option<&CaKey>,
    accept_retransmissions: bool,
) -> Result<Server, scep::Error> {
    server_with(current, next, |c| {
        c.accept_retransmissions = accept_retransmissions
    })
}

/// The CA's decisions and records.
pub struct Authority {
    ca: CaKey,
    challenge: String,
    pending_polls: u32,
    records: Mutex<Records>,
}

#[derive(Default)]
struct Records {
    issued: Vec<Certificate>,
    /// Polls per transaction, by generation: a new transaction under an old one's ID
    /// starts at 0.
    polls: HashMap<Generation, u32>,
}

impl Authority {
    fn records(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn issue_for(&self, enrolment: &Enrolment<'_>) -> Result<Certificate, BoxError> {
        let serial = random_serial(&mut ca_key::rng())?;
        let cert = self
            .ca
            .issue_for(enrolment.details, serial, SystemTime::now())?;
        self.records().issued.push(cert.clone());
        Ok(cert)
    }

    /// SUCCESS with the issued certificate only: micromdm's scepclient (and other naive
    /// clients) take the first certificate of the degenerate SignedData as theirs, and a
    /// DER SET OF puts the CA certificate first as often as not. The chain is available
    /// from GetCACert.
    fn issued(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        self.issue_for(enrolment)
            .map(|c| Decision::Issue(vec![c]))
            .map_err(|e| StoreError::caused_by("example CA", e))
    }
}

impl CertificateAuthority for Authority {
    fn check_challenge(
        &self,
        _enrolment: &Enrolment<'_>,
        challenge: Option<&str>,
    ) -> Result<bool, StoreError> {
        Ok(challenge_matches(&self.challenge, challenge))
    }

    fn enrol(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        if self.pending_polls > 0 {
            self.records().polls.insert(enrolment.generation, 0);
            return Ok(Decision::Pend);
        }
        self.issued(enrolment)
    }

    fn poll(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        let polls = {
            let mut records = self.records();
            let polls = records.polls.entry(enrolment.generation).or_insert(0);
            *polls += 1;
            *polls
        };
        if polls >= self.pending_polls {
            self.issued(enrolment)
        } else {
            Ok(Decision::Pend)
        }
    }

    fn revoked(&self, _certificate: &Certificate) -> Result<bool, StoreError> {
        // This CA revokes nothing (its CRL is empty).
        Ok(false)
    }

    fn certificate(
        &self,
        issuer_and_serial: &IssuerAndSerialNumber,
    ) -> Result<Option<Certificate>, StoreError> {
        Ok(self
            .records()
            .issued
            .iter()
            .find(|c| issuer_and_serial.matches(c))
            .cloned())
    }

    fn crl(
        &self,
        _issuer_and_serial: &IssuerAndSerialNumber,
    ) -> Result<Option<CertificateList>, StoreError> {
        let now = SystemTime::now();
        issue_crl(
            self.ca.cert.tbs_certificate().subject(),
            self.ca.key.as_ref(),
            DigestAlgorithm::Sha256,
            now - Duration::from_secs(60),
            now + Duration::from_secs(86400),
            &[],
        )
        .map(Some)
        .map_err(|e| StoreError::caused_by("example CA", e))
    }

    fn password_for(&self, requester: &Certificate) -> Result<Option<Vec<u8>>, StoreError> {
        // A device this CA issued a certificate to enrolled with the (static) challenge.
        let ours = self.records().issued.iter().any(|c| c == requester);
        Ok(ours.then(|| self.challenge.as_bytes().to_vec()))
    }
}

/// The CA: its keys, its server, and its decisions.
pub struct MemoryCa {
    pub server: Server,
    pub current: CaKey,
    pub next: Option<CaKey>,
    pub authority: Authority,
}

impl MemoryCa {
    /// A CA with a fresh key, the static `challenge`, and `pending_polls` polls before an
    /// enrolment is issued (0: at once). With `with_next`, a next CA for GetNextCACert.
    pub fn new(challenge: &str, pending_polls: u32, with_next: bool) -> Result<Self, BoxError> {
        let now = SystemTime::now();
        let current = CaKey::generate("CN=scep example CA,O=scep", now)?;
        let next = if with_next {
            Some(CaKey::generate("CN=scep example CA 2,O=scep", now)?)
        } else {
            None
        };
        let authority = Authority {
            ca: CaKey {
                key: current.key.clone(),
                cert: current.cert.clone(),
            },
            challenge: challenge.to_owned(),
            pending_polls,
            records: Mutex::default(),
        };
        Ok(MemoryCa {
            server: server(&current, next.as_ref(), false)?,
            current,
            next,
            authority,
        })
    }

    /// Rebuilds the server with its configuration changed by `configure`.
    pub fn configure(&mut self, configure: impl FnOnce(&mut ServerConfig)) -> Result<(), BoxError> {
        self.server = server_with(&self.current, self.next.as_ref(), configure)?;
        Ok(())
    }

    /// Lets a request sent again unchanged through (`ServerConfig::accept_retransmissions`),
    /// as micromdm's scepclient does while its enrolment is PENDING; the server answers it
    /// from its transaction.
    pub fn accept_retransmissions(&mut self) -> Result<(), BoxError> {
        self.configure(|c| c.accept_retransmissions = true)
    }

    /// The certificates issued so far.
    pub fn issued(&self) -> Vec<Certificate> {
        self.authority.records().issued.clone()
    }

    /// The whole server step: HTTP request in, HTTP response out.
    pub fn handle(
        &self,
        method: &str,
        query: &str,
        body: &[u8],
    ) -> Result<scep::http::HttpResponse, BoxError> {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let handled = self.server.handle(
            &self.authority,
            method,
            query,
            body,
            SystemTime::now(),
            &mut rng,
        );
        Ok(handled.response)
    }
}
