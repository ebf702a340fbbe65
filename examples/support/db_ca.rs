//! The example server's CA on its database (`db.rs`): its keys (made on first start and
//! kept in the database, or in `--ca-dir`), its decisions, and the operator's commands.
//!
//! Policy: an initial enrolment needs the static challenge; with `--pending N` an
//! enrolment is answered PENDING until polled N times, with `--pending manual` until an
//! operator approves or rejects it (`approve`, `reject`); GetCert finds the certificates
//! this CA issued, GetCRL lists the ones revoked (`revoke`). A GetCert or GetCRL answer for
//! a requester whose key cannot decrypt is sealed with the challenge only for a holder of
//! a certificate this CA issued.

#![allow(dead_code)]

use core::str::FromStr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use der::{Decode, DecodePem, Encode, EncodePem};
use scep::Certificate;
use scep::asn1::{CertificateList, IssuerAndSerialNumber};
use scep::cert::{CertificateParams, end_entity_extensions, issue, issue_crl, random_serial};
use scep::error::StoreError;
use scep::server::{CertificateAuthority, Decision, Enrolment};
use scep::{DigestAlgorithm, MessageSigner, TransactionId};
use x509_cert::ext::ToExtension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;

use crate::db::{Db, Row, Value, from_unix, unix};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A CA key and its certificate.
pub struct Keys {
    pub key: Arc<rsa::PrivateKey>,
    pub cert: Certificate,
}

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// A fresh RSA-2048 CA named `name`, valid 10 years from `now`.
fn generate(name: &str, now: SystemTime) -> Result<Keys, BoxError> {
    let key = rsa::PrivateKey::new(&mut rng(), 2048)?;
    let name = Name::from_str(name)?;
    let extensions = vec![
        (&BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        })
            .to_extension(&name, &[])?,
        (&KeyUsage(
            KeyUsages::KeyCertSign
                | KeyUsages::CRLSign
                | KeyUsages::DigitalSignature
                | KeyUsages::KeyEncipherment,
        ))
            .to_extension(&name, &[])?,
    ];
    let cert = issue(
        &CertificateParams {
            serial_number: random_serial(&mut rng())?,
            subject: name.clone(),
            public_key: key.public_key_info()?,
            not_before: now - Duration::from_secs(60),
            not_after: now + Duration::from_secs(10 * 365 * 86400),
            extensions,
        },
        &name,
        &key,
        DigestAlgorithm::Sha256,
    )?;
    Ok(Keys {
        key: Arc::new(key),
        cert,
    })
}

impl Keys {
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
                    let keys = generate(name, SystemTime::now())?;
                    std::fs::write(
                        &key_path,
                        keys.key.to_pkcs8_pem(der::pem::LineEnding::LF)?.as_bytes(),
                    )?;
                    std::fs::write(&cert_path, keys.cert.to_pem(der::pem::LineEnding::LF)?)?;
                }
                let key = rsa::PrivateKey::from_pkcs8_pem(&std::fs::read_to_string(&key_path)?)?;
                let cert = Certificate::from_pem(std::fs::read(&cert_path)?)?;
                Ok(Keys {
                    key: Arc::new(key),
                    cert,
                })
            }
            None => {
                let select = "SELECT key, cert FROM ca WHERE name = $1";
                let mut rows = db.query(select, &[label.into()])?;
                if rows.is_empty() {
                    // The first instance to start makes the CA; the others read it.
                    let fresh = generate(name, SystemTime::now())?;
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
                Ok(Keys {
                    key: Arc::new(key),
                    cert,
                })
            }
        }
    }
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
    pub keys: Keys,
    pub challenge: String,
    pub pending: Pending,
}

/// A serial number as the database keys it: upper-case hex without leading zeros (what
/// `openssl x509 -serial` prints, give or take a leading `0`; [`DbCa::revoke`] accepts
/// either).
fn serial_key(serial: &[u8]) -> String {
    let hex: String = serial.iter().map(|x| format!("{x:02X}")).collect();
    normalise_serial(&hex)
}

fn normalise_serial(hex: &str) -> String {
    let trimmed = hex.trim().trim_start_matches('0').to_ascii_uppercase();
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed
    }
}

impl DbCa {
    fn store_error(&self, e: impl std::fmt::Display) -> StoreError {
        self.db.error("CA", e)
    }

    /// The certificate already issued for the transaction `id`, if any (issued, but its
    /// transaction not yet marked so: the server asks again).
    fn issued_for(&self, id: &TransactionId) -> Result<Option<Certificate>, BoxError> {
        let rows = self.db.query(
            "SELECT serial, der FROM certificates WHERE transaction_id = $1",
            &[id.as_str().into()],
        )?;
        rows.first().map(certificate_of).transpose()
    }

    /// The certificate this CA issued with serial number `serial` (any form), if any.
    fn by_serial(&self, serial: &[u8]) -> Result<Option<Certificate>, BoxError> {
        let rows = self.db.query(
            "SELECT serial, der FROM certificates WHERE serial = $1",
            &[serial_key(serial).into()],
        )?;
        rows.first().map(certificate_of).transpose()
    }

    /// Issues a certificate for the enrolment and records it: one per transaction (the
    /// `transaction_id` column is unique), so that two instances deciding on the same
    /// transaction at once issue one certificate, the other's being discarded unrecorded;
    /// a new serial number if the random one is taken.
    fn issue(&self, enrolment: &Enrolment<'_>) -> Result<Decision, BoxError> {
        let now = SystemTime::now();
        let subject = enrolment.details.subject.clone();
        let public_key = enrolment.details.public_key.clone();
        for _ in 0..5 {
            if let Some(cert) = self.issued_for(enrolment.transaction_id)? {
                return Ok(Decision::Issue(vec![cert]));
            }
            let serial = random_serial(&mut rng())?;
            let cert = issue(
                &CertificateParams {
                    serial_number: serial.clone(),
                    extensions: end_entity_extensions(
                        &subject,
                        &public_key,
                        Some(self.keys.cert.tbs_certificate().subject_public_key_info()),
                    )?,
                    subject: subject.clone(),
                    public_key: public_key.clone(),
                    not_before: now - Duration::from_secs(60),
                    not_after: now + Duration::from_secs(365 * 86400),
                },
                self.keys.cert.tbs_certificate().subject(),
                self.keys.key.as_ref(),
                DigestAlgorithm::Sha256,
            )?;
            let inserted = self.db.query(
                "INSERT INTO certificates (serial, transaction_id, der, subject, issued) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING serial",
                &[
                    serial_key(serial.as_bytes()).into(),
                    enrolment.transaction_id.as_str().into(),
                    cert.to_der()?.into(),
                    subject.to_string().into(),
                    unix(now).into(),
                ],
            )?;
            if !inserted.is_empty() {
                return Ok(Decision::Issue(vec![cert]));
            }
            // The serial number is taken, or another instance issued for this
            // transaction meanwhile (found at the top of the loop).
        }
        Err("no free serial number after five tries".into())
    }

    /// An operator's verdict on the pending transaction `id`: `approve` or `reject`.
    pub fn decide(db: &Db, id: &str, verdict: &str) -> Result<bool, BoxError> {
        let pending = db.query(
            "SELECT id FROM transactions WHERE id = $1 AND state = 'pending'",
            &[id.into()],
        )?;
        if pending.is_empty() {
            return Ok(false);
        }
        db.query(
            "INSERT INTO decisions (id, verdict) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET verdict = $2",
            &[id.into(), verdict.into()],
        )?;
        Ok(true)
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
        Ok(challenge == Some(self.challenge.as_str()))
    }

    fn enrol(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        // A new transaction. Nothing of an earlier one under its ID counts: the database
        // forgot it when the new one replaced it (`Db::insert`). Not here: another
        // instance may already be polling the new transaction.
        match self.pending {
            Pending::Polls(0) => self.issue(enrolment).map_err(|e| self.store_error(e)),
            _ => Ok(Decision::Pend),
        }
    }

    fn poll(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        let id = enrolment.transaction_id.as_str();
        let decided = match self.pending {
            Pending::Polls(n) => {
                let rows = self
                    .db
                    .query(
                        "INSERT INTO polls (id, count) VALUES ($1, 1) \
                         ON CONFLICT (id) DO UPDATE SET count = polls.count + 1 RETURNING count",
                        &[id.into()],
                    )
                    .map_err(|e| self.store_error(e))?;
                let count = rows
                    .first()
                    .and_then(|r| r.first())
                    .and_then(Value::int)
                    .unwrap_or(0);
                count >= i64::from(n)
            }
            Pending::Manual => {
                let rows = self
                    .db
                    .query("SELECT verdict FROM decisions WHERE id = $1", &[id.into()])
                    .map_err(|e| self.store_error(e))?;
                match rows.first().and_then(|r| r.first()).and_then(Value::text) {
                    Some("approve") => true,
                    Some(_) => {
                        return Ok(Decision::reject("rejected by the operator"));
                    }
                    None => false,
                }
            }
        };
        if decided {
            self.issue(enrolment).map_err(|e| self.store_error(e))
        } else {
            Ok(Decision::Pend)
        }
    }

    fn certificate(
        &self,
        issuer_and_serial: &IssuerAndSerialNumber,
    ) -> Result<Option<Certificate>, StoreError> {
        let cert = self
            .by_serial(issuer_and_serial.serial_number.as_bytes())
            .map_err(|e| self.store_error(e))?;
        Ok(cert.filter(|c| issuer_and_serial.matches(c)))
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
            let when = from_unix(row.get(2).and_then(Value::int).unwrap_or(0));
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
            .by_serial(requester.tbs_certificate().serial_number().as_bytes())
            .map_err(|e| self.store_error(e))?
            .is_some_and(|c| &c == requester);
        Ok(ours.then(|| self.challenge.as_bytes().to_vec()))
    }
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
