//! An in-memory CA on top of `scep::server`: what `examples/server.rs` serves over HTTP and
//! what `tests/roles.rs` talks to in-process.
//!
//! Policy ([`CaPolicy`]):
//! * a PKCSReq signed with the CSR's own key (a client's self-signed certificate) needs the
//!   static challenge password; one signed by another key is refused, unless
//!   `allow_foreign_signers` (Apple devices enrolling through MDM sign with an MDM
//!   identity);
//! * a RenewalReq, or a PKCSReq signed by a certificate this CA issued (renewal the way
//!   certmonger and sscep send it), needs that certificate valid now and the same subject
//!   in the CSR; a new key only with `renewal.allow_rekey` (on by default here: sscep and
//!   certmonger renew with a new key);
//! * with `pending_polls = N`, every enrolment is answered PENDING until it has been
//!   polled N times; a poll must be signed with the key of the request it polls;
//! * GetCert finds certificates this CA issued; GetCRL answers with a fresh, empty CRL;
//! * a SUCCESS for a requester whose key cannot decrypt (ECDSA) is sealed with the
//!   challenge only for one that showed it or holds a certificate of this CA; anyone else
//!   gets a FAILURE;
//! * a request that cannot be decrypted or read gets a FAILURE with a fixed text
//!   (`Server::refuse`).

#![allow(dead_code)]

use core::str::FromStr;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use scep::Certificate;
use scep::asn1::CertReq;
use scep::caps::{Capabilities, Capability};
use scep::cert::{CertificateParams, end_entity_extensions, issue, issue_crl, random_serial};
use scep::message::{CertRepContent, RequestContent};
use scep::server::{
    DecryptionKey, Incoming, Received, RenewalPolicy, Server, ServerConfig, SignerKind,
};
use scep::{DigestAlgorithm, FailInfo, MessageSigner};
use x509_cert::ext::ToExtension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A CA key and its self-signed certificate.
pub struct CaKey {
    pub key: Arc<rsa::PrivateKey>,
    pub cert: Certificate,
}

impl CaKey {
    /// A fresh RSA-2048 CA named `name`, valid 10 years from `now`.
    pub fn generate(name: &str, now: SystemTime) -> Result<Self, BoxError> {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let key = rsa::PrivateKey::new(&mut rng, 2048)?;
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
                serial_number: random_serial(&mut rng)?,
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
        Ok(CaKey {
            key: Arc::new(key),
            cert,
        })
    }
}

/// Who may enrol and renew (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct CaPolicy {
    /// What a renewal may change.
    pub renewal: RenewalPolicy,
    /// Accept a PKCSReq (with the challenge) signed by a key other than the CSR's, as Apple
    /// devices enrolling through MDM send. The cost: a stranger who captured such a request
    /// (and kept it from arriving) can re-sign it and be answered, and for an ECDSA key the
    /// answer is sealed with the challenge, which he can then guess offline.
    pub allow_foreign_signers: bool,
}

impl Default for CaPolicy {
    fn default() -> Self {
        let mut renewal = RenewalPolicy::default();
        renewal.allow_rekey = true;
        CaPolicy {
            renewal,
            allow_foreign_signers: false,
        }
    }
}

/// A pending enrolment: the request, how often it was polled, the key of the requester,
/// the only one whose polls are answered, and whether its CSR showed the challenge.
struct Pending {
    csr: CertReq,
    polls: u32,
    requester: SubjectPublicKeyInfoOwned,
    showed_challenge: bool,
}

/// The CA's state.
pub struct MemoryCa {
    pub server: Server,
    pub current: CaKey,
    pub next: Option<CaKey>,
    pub challenge: String,
    pub pending_polls: u32,
    pub policy: CaPolicy,
    issued: Vec<Certificate>,
    pending: HashMap<String, Pending>,
}

/// The capabilities the example server announces.
pub fn capabilities() -> Capabilities {
    [
        Capability::PostPkiOperation,
        Capability::ScepStandard,
        Capability::Aes,
        Capability::Sha256,
        Capability::Sha1,
        Capability::Des3,
        Capability::Renewal,
        Capability::GetNextCaCert,
    ]
    .into_iter()
    .collect()
}

/// The SCEP server for a CA: it signs and decrypts with the CA key (the configuration
/// `MemoryCa` uses; tests that decide on requests themselves use it on its own).
pub fn server(
    current: &CaKey,
    next: Option<&CaKey>,
    accept_retransmissions: bool,
) -> Result<Server, scep::Error> {
    let mut config = ServerConfig::new(capabilities(), vec![current.cert.clone()]);
    config.next_ca_certificates = next.map(|n| vec![n.cert.clone()]);
    // Accept what micromdm's client sends; never produce it.
    config.decrypt.allow_insecure_single_des = true;
    config.accept_retransmissions = accept_retransmissions;
    Server::new(
        config,
        current.cert.clone(),
        current.key.clone(),
        current.cert.clone(),
        vec![DecryptionKey {
            certificate: current.cert.clone(),
            key: current.key.clone(),
        }],
    )
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
        Ok(MemoryCa {
            server: server(&current, next.as_ref(), false)?,
            current,
            next,
            challenge: challenge.to_owned(),
            pending_polls,
            policy: CaPolicy::default(),
            issued: Vec::new(),
            pending: HashMap::new(),
        })
    }

    /// Lets a request sent again unchanged through (`ServerConfig::accept_retransmissions`),
    /// as micromdm's scepclient does while its enrolment is PENDING; such a PKCSReq is
    /// answered as a poll of its transaction.
    pub fn accept_retransmissions(&mut self) -> Result<(), BoxError> {
        self.server = server(&self.current, self.next.as_ref(), true)?;
        Ok(())
    }

    /// The certificates issued so far.
    pub fn issued(&self) -> &[Certificate] {
        &self.issued
    }

    fn issue_for(&mut self, csr: &CertReq) -> Result<Certificate, BoxError> {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let now = SystemTime::now();
        let subject = csr.info.subject.clone();
        let public_key = csr.info.public_key.clone();
        let cert = issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng)?,
                extensions: end_entity_extensions(
                    &subject,
                    &public_key,
                    Some(
                        self.current
                            .cert
                            .tbs_certificate()
                            .subject_public_key_info(),
                    ),
                )?,
                subject,
                public_key,
                not_before: now - Duration::from_secs(60),
                not_after: now + Duration::from_secs(365 * 86400),
            },
            self.current.cert.tbs_certificate().subject(),
            self.current.key.as_ref(),
            DigestAlgorithm::Sha256,
        )?;
        self.issued.push(cert.clone());
        Ok(cert)
    }

    /// SUCCESS with the issued certificate only: micromdm's scepclient (and other naive
    /// clients) take the first certificate of the degenerate SignedData as theirs, and a
    /// DER SET OF puts the CA certificate first as often as not. The chain is available
    /// from GetCACert.
    fn success(&mut self, csr: &CertReq) -> Result<CertRepContent, BoxError> {
        let cert = self.issue_for(csr)?;
        Ok(CertRepContent::issued(vec![cert]))
    }

    /// One poll of the pending transaction `tid` by `received`'s signer: SUCCESS after
    /// `pending_polls` of them, and whether the enrolment showed the challenge. A poll
    /// signed by another key than the request's is answered as one for an unknown
    /// transaction.
    fn poll(&mut self, tid: &str, received: &Received) -> Result<(CertRepContent, bool), BoxError> {
        let requester = received
            .signer_certificate()
            .tbs_certificate()
            .subject_public_key_info();
        let entry = self.pending.remove(tid);
        Ok(match entry {
            Some(p) if &p.requester == requester => {
                let polls = p.polls + 1;
                let showed = p.showed_challenge;
                if polls >= self.pending_polls {
                    (self.success(&p.csr)?, showed)
                } else {
                    self.pending.insert(tid.to_owned(), Pending { polls, ..p });
                    (CertRepContent::Pending, showed)
                }
            }
            other => {
                if let Some(p) = other {
                    self.pending.insert(tid.to_owned(), p);
                }
                let unknown = CertRepContent::failure(
                    FailInfo::BadCertId,
                    Some("no pending request with this transaction ID".into()),
                );
                (unknown, false)
            }
        })
    }

    /// Whether an enrolment request for `csr` (which showed the challenge or not) is
    /// authorised; `Err` with the reason otherwise.
    fn authorise(
        &self,
        received: &Received,
        csr: &CertReq,
        showed_challenge: bool,
    ) -> Result<(), String> {
        let renewal = received.message_type() == scep::MessageType::RenewalReq
            || matches!(
                received.signer_kind(),
                SignerKind::IssuedByCa | SignerKind::IssuedByCaNotValid
            );
        if renewal {
            // A renewal is authorised by the certificate it is signed with, not by the
            // challenge.
            return received
                .check_renewal(csr, &self.policy.renewal)
                .map_err(|e| e.to_string());
        }
        if !showed_challenge {
            return Err("wrong challenge password".into());
        }
        if !received.signed_with_csr_key(csr) && !self.policy.allow_foreign_signers {
            return Err("the request must be signed with the key it asks a certificate for".into());
        }
        Ok(())
    }

    /// Decides on a decrypted request. Returns the CertRep content and, for requesters
    /// whose key cannot decrypt, the password to encrypt a SUCCESS with: the challenge,
    /// only for a requester that showed it (in this request's CSR, or in that of the
    /// enrolment it polls) or that holds a certificate this CA issued. A stranger gets no
    /// envelope sealed with the challenge to test guesses against offline.
    pub fn decide(
        &mut self,
        received: &Received,
        content: RequestContent,
    ) -> Result<(CertRepContent, Option<String>), BoxError> {
        let tid = received.transaction_id().as_str().to_owned();
        let bad_request =
            |text: &str| CertRepContent::failure(FailInfo::BadRequest, Some(text.to_owned()));
        let (reply, showed_challenge) = match content {
            // The same request again, byte for byte (micromdm's scepclient polls that
            // way): a poll of its transaction, not a second enrolment. Any other request,
            // even for a pending transaction ID, goes through the checks below.
            RequestContent::PkcsReq(_) | RequestContent::RenewalReq(_)
                if received.is_retransmission() =>
            {
                self.poll(&tid, received)?
            }
            RequestContent::PkcsReq(csr) | RequestContent::RenewalReq(csr) => {
                // (A CSR whose attributes do not decode shows no challenge; the error
                // itself does not reach the peer.)
                let showed_challenge = scep::csr::inspect(&csr).is_ok_and(|d| {
                    d.challenge_password.as_deref() == Some(self.challenge.as_str())
                });
                let reply = if let Err(reason) = self.authorise(received, &csr, showed_challenge) {
                    bad_request(&reason)
                } else if self.pending_polls > 0 {
                    let requester = received
                        .signer_certificate()
                        .tbs_certificate()
                        .subject_public_key_info()
                        .clone();
                    self.pending.insert(
                        tid,
                        Pending {
                            csr,
                            polls: 0,
                            requester,
                            showed_challenge,
                        },
                    );
                    CertRepContent::Pending
                } else {
                    self.success(&csr)?
                };
                (reply, showed_challenge)
            }
            RequestContent::CertPoll(_) => self.poll(&tid, received)?,
            RequestContent::GetCert(ias) => match self.issued.iter().find(|c| ias.matches(c)) {
                Some(c) => (CertRepContent::issued(vec![c.clone()]), false),
                None => (CertRepContent::failure(FailInfo::BadCertId, None), false),
            },
            RequestContent::GetCrl(_) => {
                let now = SystemTime::now();
                let crl = issue_crl(
                    self.current.cert.tbs_certificate().subject(),
                    self.current.key.as_ref(),
                    DigestAlgorithm::Sha256,
                    now - Duration::from_secs(60),
                    now + Duration::from_secs(86400),
                    &[],
                )?;
                (CertRepContent::crl(crl), false)
            }
            _ => (bad_request("unsupported request"), false),
        };
        let password =
            (showed_challenge || received.signer_issued_by_ca()).then(|| self.challenge.clone());
        Ok((reply, password))
    }

    /// The whole server step: HTTP request in, HTTP response out.
    pub fn handle(
        &mut self,
        method: &str,
        query: &str,
        body: &[u8],
    ) -> Result<scep::http::HttpResponse, BoxError> {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let now = SystemTime::now();
        let mut received = match self
            .server
            .handle_request(method, query, body, now, &mut rng)
        {
            Incoming::PkiOperation(received) => received,
            Incoming::Respond(r) => return Ok(r),
        };
        let content = match self.server.decrypt(&mut received) {
            Ok(c) => c,
            // A failInfo and a fixed text: nothing of the error reaches the peer.
            Err(e) => return Ok(self.server.refuse(&received, &e, &mut rng)?),
        };
        let (reply, password) = self.decide(&received, content)?;
        let password = password.as_deref().map(str::as_bytes);
        match self.server.reply(&received, reply, password, &mut rng) {
            // A SUCCESS the requester's key cannot decrypt, and no password for it.
            Err(e @ scep::Error::Key { .. }) => Ok(self.server.refuse(&received, &e, &mut rng)?),
            other => Ok(other?),
        }
    }
}
