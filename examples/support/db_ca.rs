//! The example server's CA on its database (`db.rs`): its keys (made on first start and
//! kept in the database, or in `--ca-dir`), its decisions, and the operator's commands.
//!
//! Policy: an RSA key under 2048 bits is refused (badAlg) unless the server allows small
//! keys; the certificate copies the subject and the requested subjectAltName's DNS names,
//! IP addresses, e-mail addresses and URIs (no other name form); an initial enrolment
//! needs the static challenge; with `--pending N` an
//! enrolment is answered PENDING until polled N times, with `--pending manual` until an
//! operator approves it (`approve`); an operator's `reject` (or `approve`) of a pending
//! request counts in either mode. GetCert finds the certificates this CA issued, GetCRL
//! lists the ones revoked (`revoke`); a revoked certificate renews no more. A GetCert or
//! GetCRL answer for a requester whose key cannot decrypt is sealed with the challenge
//! only for a holder of an unrevoked certificate this CA issued.
//!
//! What the CA keeps per transaction (the certificate issued for it, poll counts, the
//! operator's verdict) is keyed by the transaction's generation: a new transaction under
//! an old one's ID (micromdm's scepclient renews under the same ID) starts afresh.

#![allow(dead_code)]

use core::str::FromStr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use der::{Decode, DecodePem, Encode, EncodePem};
use scep::Certificate;
use scep::DigestAlgorithm;
use scep::asn1::{CertificateList, IssuerAndSerialNumber};
use scep::cert::{issue_crl, random_serial};
use scep::error::StoreError;
use scep::server::{CertificateAuthority, Decision, Enrolment, Generation, challenge_matches};

use crate::db::{Db, Row, Value, from_unix, unix};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[path = "ca_key.rs"]
mod ca_key;
use ca_key::rng;
pub use ca_key::{CaKey, capabilities};

impl CaKey {
    /// The CA `label` (`current`, `next`): from `dir` (`label.key.pem`, `label.pem`) when
    /// given, else from the database; made on first use, named `name`.
    pub fn load_or_create(
        db: &Db,
        dir: Option<&Path>,
        label: &str,
        name: &str,
    ) -> Result<Self, BoxError> {
        use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
        match dir {
            Some(dir) => {
                let (key_path, cert_path) = (
                    dir.join(format!("{label}.key.pem")),
                    dir.join(format!("{label}.pem")),
                );
                if !key_path.exists() {
                    std::fs::create_dir_all(dir)?;
                    let keys = CaKey::generate(name, SystemTime::now())?;
                    write_private(
                        &key_path,
                        keys.key.to_pkcs8_pem(der::pem::LineEnding::LF)?.as_bytes(),
                    )?;
                    std::fs::write(&cert_path, keys.cert.to_pem(der::pem::LineEnding::LF)?)?;
                }
                let key = rsa::PrivateKey::from_pkcs8_pem(&std::fs::read_to_string(&key_path)?)?;
                let cert = Certificate::from_pem(std::fs::read(&cert_path)?)?;
                Ok(CaKey {
                    key: Arc::new(key),
                    cert,
                })
            }
            None => {
                let select = "SELECT key, cert FROM ca WHERE name = $1";
                let mut rows = db.query(select, &[label.into()])?;
                if rows.is_empty() {
                    // The first instance to start makes the CA; the others read it.
                    let fresh = CaKey::generate(name, SystemTime::now())?;
                    db.query(
                        "INSERT INTO ca (name, key, cert) VALUES ($1, $2, $3) \
                         ON CONFLICT (name) DO NOTHING",
                        &[
                            label.into(),
                            fresh.key.to_pkcs8_der()?.as_bytes().into(),
                            fresh.cert.to_der()?.into(),
                        ],
                    )?;
                    rows = db.query(select, &[label.into()])?;
                }
                let row = rows.first().ok_or("the CA row is missing")?;
                let key = rsa::PrivateKey::from_pkcs8_der(
                    row.first().and_then(Value::bytes).ok_or("ca.key")?,
                )?;
                let cert =
                    Certificate::from_der(row.get(1).and_then(Value::bytes).ok_or("ca.cert")?)?;
                Ok(CaKey {
                    key: Arc::new(key),
                    cert,
                })
            }
        }
    }
}

/// Writes a new file only its owner can read (the CA's private key); an existing file is
/// an error, never overwritten.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), BoxError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

/// When an enrolment is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// After this many polls (0: at once).
    Polls(u32),
    /// When an operator approves it.
    Manual,
}

impl FromStr for Pending {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "manual" {
            Ok(Pending::Manual)
        } else {
            s.parse()
                .map(Pending::Polls)
                .map_err(|e| format!("--pending {s:?}: a number or \"manual\" ({e})"))
        }
    }
}

/// The CA's decisions on its database.
pub struct DbCa {
    pub db: Arc<Db>,
    pub keys: CaKey,
    pub challenge: String,
    pub pending: Pending,
    /// The smallest RSA key it issues for (2048; `--allow-small-rsa-keys`: 1024).
    pub min_rsa_bits: usize,
}

/// A serial number as the database keys it: upper-case hex without leading zeros (what
/// `openssl x509 -serial` prints, give or take a leading `0`; [`DbCa::revoke`] accepts
/// either).
fn serial_key(serial: &[u8]) -> String {
    let hex: String = serial.iter().map(|x| format!("{x:02X}")).collect();
    normalise_serial(&hex)
}

/// `hex` (what an operator types: any case, `0x` or not, `:` between octets or not, as
/// `openssl x509 -serial` or a browser shows it) as the database keys it.
fn normalise_serial(hex: &str) -> String {
    let hex = hex.trim();
    let hex = hex
        .strip_prefix("0x")
        .or_else(|| hex.strip_prefix("0X"))
        .unwrap_or(hex);
    let digits: String = hex.chars().filter(|c| *c != ':').collect();
    let trimmed = digits.trim_start_matches('0').to_ascii_uppercase();
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed
    }
}

impl DbCa {
    fn store_error(&self, e: impl Into<BoxError>) -> StoreError {
        self.db.error("CA", e)
    }

    /// The certificate already issued for the transaction of `generation`, if any
    /// (issued, but its transaction not yet marked so: the server asks again).
    fn issued_for(&self, generation: Generation) -> Result<Option<Certificate>, BoxError> {
        let rows = self.db.query(
            "SELECT serial, der FROM certificates WHERE generation = $1",
            &[generation.as_bytes().as_slice().into()],
        )?;
        rows.first().map(certificate_of).transpose()
    }

    /// The certificate this CA issued with serial number `serial`, if any, and whether it
    /// is revoked.
    fn by_serial(&self, serial: &[u8]) -> Result<Option<(Certificate, bool)>, BoxError> {
        let rows = self.db.query(
            "SELECT serial, der, revoked FROM certificates WHERE serial = $1",
            &[serial_key(serial).into()],
        )?;
        rows.first()
            .map(|row| {
                Ok((
                    certificate_of(row)?,
                    row.get(2).is_some_and(|v| *v != Value::Null),
                ))
            })
            .transpose()
    }

    /// Whether `certificate` is one this CA issued and did not revoke.
    fn issued_unrevoked(&self, certificate: &Certificate) -> Result<bool, BoxError> {
        let serial = certificate.tbs_certificate().serial_number().as_bytes();
        Ok(self
            .by_serial(serial)?
            .is_some_and(|(c, revoked)| &c == certificate && !revoked))
    }

    /// Issues a certificate for the enrolment and records it: one per transaction (the
    /// `generation` column is unique), so that two instances deciding on the same
    /// transaction at once issue one certificate, the other's being discarded unrecorded;
    /// a new serial number if the random one is taken.
    fn issue(&self, enrolment: &Enrolment<'_>) -> Result<Decision, BoxError> {
        let now = SystemTime::now();
        for _ in 0..5 {
            if let Some(cert) = self.issued_for(enrolment.generation)? {
                return Ok(Decision::Issue(vec![cert]));
            }
            let serial = random_serial(&mut rng())?;
            let cert = self
                .keys
                .issue_for(enrolment.details, serial.clone(), now)?;
            let row: Vec<Value> = vec![
                serial_key(serial.as_bytes()).into(),
                enrolment.generation.as_bytes().as_slice().into(),
                enrolment.transaction_id.as_str().into(),
                cert.to_der()?.into(),
                enrolment.details.subject.to_string().into(),
                unix(now).into(),
            ];
            let signer = enrolment
                .renewal
                .map(|c| serial_key(c.tbs_certificate().serial_number().as_bytes()));
            // A renewal's signer may have been revoked since the server asked: looked at
            // again in the transaction that records the certificate, so that a revocation
            // is either seen here or comes after the issue.
            let recorded = self.db.transaction(|tx| {
                if let Some(signer) = &signer {
                    let rows = tx.query(
                        "SELECT serial FROM certificates WHERE serial = $1 \
                         AND revoked IS NOT NULL",
                        &[signer.as_str().into()],
                    )?;
                    if !rows.is_empty() {
                        return Ok(None);
                    }
                }
                let inserted = tx.query(
                    "INSERT INTO certificates \
                     (serial, generation, transaction_id, der, subject, issued) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING serial",
                    &row,
                )?;
                Ok(Some(!inserted.is_empty()))
            })?;
            match recorded {
                None => {
                    return Ok(Decision::reject(
                        "the renewal's signer certificate was revoked before the issue",
                    ));
                }
                Some(true) => return Ok(Decision::Issue(vec![cert])),
                // The serial number is taken, or another instance issued for this
                // transaction meanwhile (found at the top of the loop).
                Some(false) => {}
            }
        }
        Err("no free serial number after five tries".into())
    }

    /// An operator's verdict on the pending transaction `id`: `approve` or `reject`; with
    /// `generation` (what `list-pending` prints last), only if that is the transaction
    /// pending under `id` now, the one the operator looked at. One statement, bound to the
    /// generation pending now: a verdict never lands on another transaction that takes
    /// the ID later. A verdict, once given, stands (the CA may already have issued on
    /// it): `false` when there is no pending transaction `id` without one.
    pub fn decide(
        db: &Db,
        id: &str,
        generation: Option<&str>,
        verdict: &str,
    ) -> Result<bool, BoxError> {
        let insert = "INSERT INTO decisions (generation, verdict) \
             SELECT generation, $2 FROM transactions WHERE id = $1 AND state = 'pending'";
        let conflict = "ON CONFLICT (generation) DO NOTHING RETURNING verdict";
        let rows = match generation {
            None => db.query(
                &format!("{insert} {conflict}"),
                &[id.into(), verdict.into()],
            )?,
            Some(g) => {
                let g = parse_generation(g)?;
                db.query(
                    &format!("{insert} AND generation = $3 {conflict}"),
                    &[id.into(), verdict.into(), g.as_bytes().as_slice().into()],
                )?
            }
        };
        Ok(!rows.is_empty())
    }

    /// The operator's verdict on the transaction of `generation`, if any.
    fn verdict(&self, generation: Generation) -> Result<Option<String>, BoxError> {
        let rows = self.db.query(
            "SELECT verdict FROM decisions WHERE generation = $1",
            &[generation.as_bytes().as_slice().into()],
        )?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(Value::text)
            .map(str::to_owned))
    }

    /// Revokes the certificate with serial number `serial` (hex, any case, leading zeros
    /// or not).
    pub fn revoke(db: &Db, serial: &str) -> Result<bool, BoxError> {
        let rows = db.query(
            "UPDATE certificates SET revoked = $2 WHERE serial = $1 AND revoked IS NULL \
             RETURNING serial",
            &[
                normalise_serial(serial).into(),
                unix(SystemTime::now()).into(),
            ],
        )?;
        Ok(!rows.is_empty())
    }
}

impl CertificateAuthority for DbCa {
    fn check_challenge(
        &self,
        _enrolment: &Enrolment<'_>,
        challenge: Option<&str>,
    ) -> Result<bool, StoreError> {
        Ok(challenge_matches(&self.challenge, challenge))
    }

    fn enrol(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        if let Err(reason) = ca_key::check_key(enrolment.details, self.min_rsa_bits) {
            return Ok(Decision::Reject {
                fail_info: scep::FailInfo::BadAlg,
                reason,
            });
        }
        match self.pending {
            Pending::Polls(0) => self.issue(enrolment).map_err(|e| self.store_error(e)),
            _ => Ok(Decision::Pend),
        }
    }

    fn poll(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        let generation = enrolment.generation;
        // An operator's verdict counts in either mode.
        let verdict = self.verdict(generation).map_err(|e| self.store_error(e))?;
        let decided = match (verdict.as_deref(), self.pending) {
            (Some("approve"), _) => true,
            (Some(_), _) => return Ok(Decision::reject("rejected by the operator")),
            (None, Pending::Manual) => false,
            (None, Pending::Polls(n)) => {
                let rows = self
                    .db
                    .query(
                        "INSERT INTO polls (generation, count) VALUES ($1, 1) \
                         ON CONFLICT (generation) DO UPDATE SET count = polls.count + 1 \
                         RETURNING count",
                        &[generation.as_bytes().as_slice().into()],
                    )
                    .map_err(|e| self.store_error(e))?;
                let count = rows
                    .first()
                    .and_then(|r| r.first())
                    .and_then(Value::int)
                    .unwrap_or(0);
                count >= i64::from(n)
            }
        };
        if decided {
            self.issue(enrolment).map_err(|e| self.store_error(e))
        } else {
            Ok(Decision::Pend)
        }
    }

    fn revoked(&self, certificate: &Certificate) -> Result<bool, StoreError> {
        let serial = certificate.tbs_certificate().serial_number().as_bytes();
        let found = self.by_serial(serial).map_err(|e| self.store_error(e))?;
        Ok(found.is_some_and(|(c, revoked)| &c == certificate && revoked))
    }

    fn certificate(
        &self,
        issuer_and_serial: &IssuerAndSerialNumber,
    ) -> Result<Option<Certificate>, StoreError> {
        let found = self
            .by_serial(issuer_and_serial.serial_number.as_bytes())
            .map_err(|e| self.store_error(e))?;
        Ok(found
            .map(|(c, _)| c)
            .filter(|c| issuer_and_serial.matches(c)))
    }

    fn crl(
        &self,
        _issuer_and_serial: &IssuerAndSerialNumber,
    ) -> Result<Option<CertificateList>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT serial, der, revoked FROM certificates WHERE revoked IS NOT NULL \
                 ORDER BY serial",
                &[],
            )
            .map_err(|e| self.store_error(e))?;
        let mut revoked = Vec::new();
        for row in &rows {
            let cert = certificate_of(row).map_err(|e| self.store_error(e))?;
            let serial = row.first().and_then(Value::text).unwrap_or("?");
            let when = row
                .get(2)
                .and_then(Value::int)
                .map(from_unix)
                .ok_or_else(|| self.store_error(format!("certificate {serial}: revoked")))?;
            revoked.push((cert.tbs_certificate().serial_number().clone(), when));
        }
        let now = SystemTime::now();
        issue_crl(
            self.keys.cert.tbs_certificate().subject(),
            self.keys.key.as_ref(),
            DigestAlgorithm::Sha256,
            now - Duration::from_secs(60),
            now + Duration::from_secs(86400),
            &revoked,
        )
        .map(Some)
        .map_err(|e| self.store_error(e))
    }

    fn password_for(&self, requester: &Certificate) -> Result<Option<Vec<u8>>, StoreError> {
        let ours = self
            .issued_unrevoked(requester)
            .map_err(|e| self.store_error(e))?;
        Ok(ours.then(|| self.challenge.as_bytes().to_vec()))
    }
}

/// A generation as `list-pending` prints it (32 hex digits).
fn parse_generation(hex: &str) -> Result<Generation, BoxError> {
    let bad = || format!("--generation {hex:?}: 32 hex digits, as list-pending prints it");
    let hex = hex.trim();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad().into());
    }
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2).ok_or_else(bad)?;
        *b = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
    }
    Ok(Generation::from_bytes(bytes))
}

/// The certificate of a `(serial, der)` row; an error naming the row if it does not decode.
fn certificate_of(row: &Row) -> Result<Certificate, BoxError> {
    let serial = row.first().and_then(Value::text).unwrap_or("?");
    let der = row
        .get(1)
        .and_then(Value::bytes)
        .ok_or_else(|| format!("certificate {serial}: no DER"))?;
    Certificate::from_der(der).map_err(|e| format!("certificate {serial}: {e}").into())
}
