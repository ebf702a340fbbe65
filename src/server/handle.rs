//! The SCEP transaction, run by the server around the CA's decisions: [`Server::handle`].
//!
//! ```text
//! PKCSReq / RenewalReq ──► transaction with this ID? ── yes, same requester and request ──► answer from it
//!        │ no                                       └── another requester or request ───► FAILURE badRequest
//!        ▼
//!   renewal? ── yes ──► check_renewal (signer of this CA, valid now, subject, key), the CA's revoked
//!        │ no ──► signed with the CSR's key (or foreign signers allowed)
//!        ▼
//!   can the answer be encrypted? (RSA requester, or a password for it)
//!        ▼
//!   the CA's check_challenge (initial enrolments) ──► transaction recorded (pending)
//!        ▼
//!   the CA's enrol ──► issued / pending / rejected, recorded ──► CertRep
//!
//! CertPoll ──► the transaction of this ID and requester ──► issued: SUCCESS again (resync)
//!                                                      ├─► rejected: FAILURE again
//!                                                      └─► pending: renewal signer revoked? FAILURE
//!                                                                   else the CA's poll
//! GetCert, GetCRL ──► the CA's certificate / crl
//! ```

use std::time::SystemTime;

use rand_core::CryptoRng;

use super::app::{CertificateAuthority, Decision, Enrolment};
use super::stores::{Generation, SeenKind, Transaction, TransactionState, nonce_value};
use super::{Incoming, Received, Server, SignerKind, can_decrypt, refusal, unavailable};
use crate::asn1::{CertReq, Certificate};
use crate::cert::certifies_key;
use crate::error::{Error, StoreError};
use crate::http::{HttpResponse, OperationKind};
use crate::message::{CertRepContent, RequestContent};
use crate::types::{FailInfo, MessageType, TransactionId};

/// What [`Server::handle`] did: the response to send, and what happened, for the operator.
#[derive(Debug)]
#[non_exhaustive]
pub struct Handled {
    /// The HTTP response to send.
    pub response: HttpResponse,
    /// What happened (never sent to the peer).
    pub report: Report,
}

/// What happened to one request, for the operator's log: never sent to the peer, and with
/// no secret in it (no challenge, no key).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The operation, when the request parsed.
    pub operation: Option<OperationKind>,
    /// The pkiMessage's type, when it verified.
    pub message_type: Option<MessageType>,
    /// Its transaction ID, when it verified.
    pub transaction_id: Option<TransactionId>,
    /// The outcome.
    pub outcome: Outcome,
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Answered from configuration (GetCACaps, GetCACert, GetNextCACert).
    Answered,
    /// A CertRep SUCCESS: a certificate issued (or sent again), or a GetCert or GetCRL
    /// answer.
    Success,
    /// A CertRep PENDING.
    Pending,
    /// A CertRep FAILURE with this failInfo, and why.
    Failed {
        /// The failInfo sent.
        fail_info: FailInfo,
        /// Why, for the operator.
        reason: String,
    },
    /// Refused without a CertRep (an HTTP error status), and why.
    Refused {
        /// The HTTP status sent.
        status: u16,
        /// Why, for the operator.
        reason: String,
    },
}

/// The CertRep to answer with, the password to seal a SUCCESS with, and the outcome.
struct Answer {
    content: CertRepContent,
    password: Option<Vec<u8>>,
    reason: Option<String>,
}

impl Answer {
    fn fail(fail_info: FailInfo, reason: impl Into<String>) -> Self {
        Self {
            content: CertRepContent::failure(fail_info, Some(fail_info.description().into())),
            password: None,
            reason: Some(reason.into()),
        }
    }

    fn bad_request(reason: impl Into<String>) -> Self {
        Self::fail(FailInfo::BadRequest, reason)
    }

    fn content(content: CertRepContent, password: Option<Vec<u8>>) -> Self {
        Self {
            content,
            password,
            reason: None,
        }
    }
}

impl Server {
    /// Handles an HTTP request (`method`, the raw `query`, the `body`) received at `now`,
    /// running the SCEP transaction around the decisions of `ca`, and returns the response
    /// with a [`Report`] of what happened.
    ///
    /// GetCACaps, GetCACert and GetNextCACert are answered from configuration. A
    /// PKIOperation is verified, checked against the replay store and decrypted (see
    /// [`Server::handle_request`] and [`Server::decrypt`]), then:
    ///
    /// * **PKCSReq, RenewalReq**: a request for a transaction ID the store knows is
    ///   answered from that transaction when it comes from the same key with the same
    ///   CSR (a retransmission, or a client that lost its state), and refused otherwise.
    ///   A new one must be a renewal the [`ServerConfig::renewal`](super::ServerConfig)
    ///   policy allows (signer issued by this CA, valid now, same subject, re-key if
    ///   allowed), or else be signed with the CSR's key (unless
    ///   [`ServerConfig::allow_foreign_signers`](super::ServerConfig)) and carry a
    ///   challenge the CA accepts. Whether the answer can be encrypted (an RSA requester,
    ///   or a password: the challenge) is known before the CA is asked. The transaction is
    ///   recorded as pending, then the CA decides, and the decision is recorded.
    /// * **CertPoll**: answered from the transaction of its ID, only for the key that
    ///   started it: issued is SUCCESS again (RFC 8894 section 5.2), rejected is FAILURE
    ///   again, pending asks the CA again.
    /// * **GetCert, GetCRL**: the CA's answer.
    ///
    /// The peer learns a failInfo and a fixed text; the reason is in the report. A store or
    /// CA that cannot answer gives HTTP 503: what was recorded stays consistent (an
    /// authorised enrolment may stay pending, for the next poll to find), and the
    /// request's senderNonce is forgotten, so that the client may send it again.
    pub fn handle<R: CryptoRng + ?Sized>(
        &self,
        ca: &dyn CertificateAuthority,
        method: &str,
        query: &str,
        body: &[u8],
        now: SystemTime,
        rng: &mut R,
    ) -> Handled {
        #[cfg(feature = "tracing")]
        let span = tracing::info_span!("scep", method).entered();
        let handled = self.run(ca, method, query, body, now, rng);
        #[cfg(feature = "tracing")]
        {
            trace_report(&handled.report);
            drop(span);
        }
        handled
    }

    fn run<R: CryptoRng + ?Sized>(
        &self,
        ca: &dyn CertificateAuthority,
        method: &str,
        query: &str,
        body: &[u8],
        now: SystemTime,
        rng: &mut R,
    ) -> Handled {
        let intake = self.intake(method, query, body, now, rng);
        let mut report = Report {
            operation: intake.operation,
            message_type: None,
            transaction_id: None,
            outcome: Outcome::Answered,
        };
        let mut received = match intake.incoming {
            Incoming::Respond(response) => {
                if let Some(reason) = intake.refusal {
                    report.outcome = refusal_outcome(&response, reason);
                }
                return Handled { response, report };
            }
            Incoming::PkiOperation(received) => received,
        };
        report.message_type = Some(received.message_type());
        report.transaction_id = Some(received.transaction_id().clone());
        let answer = match self.decrypt(&mut received) {
            Err(Error::Store(e)) => return self.refused_unavailable(&received, report, &e),
            Err(e) => Ok(Answer {
                content: refusal(&e),
                password: None,
                reason: Some(e.to_string()),
            }),
            Ok(content) => self.operation(ca, &received, content, now, rng),
        };
        let answer = match answer {
            Ok(a) => a,
            Err(e) => return self.refused_unavailable(&received, report, &e),
        };
        let outcome = match &answer.content {
            CertRepContent::Success { .. } => Outcome::Success,
            CertRepContent::Pending => Outcome::Pending,
            CertRepContent::Failure { fail_info, .. } => Outcome::Failed {
                fail_info: *fail_info,
                reason: answer.reason.unwrap_or_default(),
            },
        };
        match self.reply(&received, answer.content, answer.password.as_deref(), rng) {
            Ok(response) => {
                report.outcome = outcome;
                Handled { response, report }
            }
            Err(e) => {
                let response = HttpResponse::error(500, "the server could not answer");
                report.outcome = Outcome::Refused {
                    status: 500,
                    reason: e.to_string(),
                };
                Handled { response, report }
            }
        }
    }

    /// HTTP 503 for a request a store or the CA could not serve: the senderNonce it
    /// recorded is forgotten, so that the client's retry is not refused as a replay
    /// (unless the replay store itself cannot answer now; the report says so).
    fn refused_unavailable(
        &self,
        received: &Received,
        mut report: Report,
        error: &StoreError,
    ) -> Handled {
        let mut reason = error.to_string();
        if let Some(nonce) = &received.recorded_nonce
            && let Err(e) =
                self.replay
                    .forget(SeenKind::SenderNonce, nonce, &received.message_digest)
        {
            reason = format!("{reason}; the senderNonce stays recorded: {e}");
        }
        report.outcome = Outcome::Refused {
            status: 503,
            reason,
        };
        Handled {
            response: unavailable(),
            report,
        }
    }

    /// The answer to a decrypted request.
    fn operation<R: CryptoRng + ?Sized>(
        &self,
        ca: &dyn CertificateAuthority,
        received: &Received,
        content: RequestContent,
        now: SystemTime,
        rng: &mut R,
    ) -> Result<Answer, StoreError> {
        let signer = received.signer_certificate();
        match content {
            RequestContent::PkcsReq(csr) | RequestContent::RenewalReq(csr) => {
                self.enrolment(ca, received, csr, now, rng)
            }
            RequestContent::CertPoll(_) => {
                match self.transactions.get(received.transaction_id())? {
                    Some(t) if &t.requester == requester(received) => {
                        self.keep(received)?;
                        self.answer_transaction(ca, received, t)
                    }
                    // A poll signed by another key is answered as one for no transaction.
                    _ => Ok(Answer::fail(
                        FailInfo::BadCertId,
                        "no transaction of this requester",
                    )),
                }
            }
            RequestContent::GetCert(ias) => {
                let Some(password) = self.password(ca, signer, None)? else {
                    return Ok(Answer::bad_request(
                        "the answer cannot be encrypted to this requester",
                    ));
                };
                Ok(match ca.certificate(&ias)? {
                    Some(c) => Answer::content(CertRepContent::issued(vec![c]), password),
                    None => Answer::fail(FailInfo::BadCertId, "no such certificate"),
                })
            }
            RequestContent::GetCrl(ias) => {
                let Some(password) = self.password(ca, signer, None)? else {
                    return Ok(Answer::bad_request(
                        "the answer cannot be encrypted to this requester",
                    ));
                };
                Ok(match ca.crl(&ias)? {
                    Some(crl) => Answer::content(CertRepContent::crl(crl), password),
                    None => Answer::fail(FailInfo::BadCertId, "no CRL for this certificate"),
                })
            }
        }
    }

    /// The password a SUCCESS to `signer` is sealed with: `Some(None)` for a key that
    /// decrypts, `Some(Some(p))` with `challenge` or the CA's password for it, `None` when
    /// there is none.
    fn password(
        &self,
        ca: &dyn CertificateAuthority,
        signer: &Certificate,
        challenge: Option<&str>,
    ) -> Result<Option<Option<Vec<u8>>>, StoreError> {
        if can_decrypt(signer) {
            return Ok(Some(None));
        }
        let password = match challenge {
            Some(c) => Some(c.as_bytes().to_vec()),
            None => ca.password_for(signer)?,
        };
        Ok(password.map(Some))
    }

    /// Marks the request's nonce and encryptedKey as those of an authorised request.
    fn keep(&self, received: &Received) -> Result<(), StoreError> {
        if let Some(n) = received.sender_nonce() {
            self.replay.keep(SeenKind::SenderNonce, &nonce_value(n))?;
        }
        if let Some(value) = &received.envelope {
            self.replay.keep(SeenKind::EncryptedKey, value)?;
        }
        Ok(())
    }

    fn enrolment<R: CryptoRng + ?Sized>(
        &self,
        ca: &dyn CertificateAuthority,
        received: &Received,
        csr: CertReq,
        now: SystemTime,
        rng: &mut R,
    ) -> Result<Answer, StoreError> {
        let id = received.transaction_id();
        let kind = received.signer_kind();
        let renewal = received.message_type() == MessageType::RenewalReq
            || matches!(
                kind,
                SignerKind::IssuedByCa | SignerKind::IssuedByCaNotValid
            );
        let mut replacing = None;
        if let Some(t) = self.transactions.get(id)? {
            match stored(t, received, &csr, renewal) {
                Stored::Answer(answer) => return Ok(answer),
                Stored::Same(t) => {
                    self.keep(received)?;
                    return self.answer_transaction(ca, received, t);
                }
                Stored::Replace(t) => replacing = Some(t),
            }
        }
        let details = match crate::csr::inspect(&csr) {
            Ok(d) => d,
            Err(e) => return Ok(Answer::bad_request(format!("the CSR: {e}"))),
        };
        let signer = received.signer_certificate();
        if renewal {
            if let Err(e) = received.check_renewal(&csr, &self.config.renewal) {
                return Ok(Answer::bad_request(e.to_string()));
            }
            if ca.revoked(signer)? {
                return Ok(Answer::bad_request(REVOKED_SIGNER));
            }
        } else if !received.signed_with_csr_key(&csr) && !self.config.allow_foreign_signers {
            return Ok(Answer::bad_request(
                "the request is not signed with the key it asks a certificate for",
            ));
        }
        let challenge = details.challenge_password.as_deref();
        let Some(password) = self.password(ca, signer, challenge)? else {
            return Ok(Answer::bad_request(
                "the answer cannot be encrypted to this requester (no challenge for its key)",
            ));
        };
        let generation = Generation::random(rng);
        let enrolment = Enrolment {
            transaction_id: id,
            generation,
            message_type: received.message_type(),
            csr: &csr,
            details: &details,
            signer,
            signer_kind: kind,
            renewal: renewal.then_some(signer),
        };
        if !renewal && !ca.check_challenge(&enrolment, challenge)? {
            // The same request, sent to another instance at once, may have used up a
            // one-time challenge and started the transaction: then it is answered.
            if let Some(t) = self.transactions.get(id)?
                && let Stored::Same(t) = stored(t, received, &csr, renewal)
            {
                self.keep(received)?;
                return self.answer_transaction(ca, received, t);
            }
            return Ok(Answer::bad_request("the challenge is not accepted"));
        }
        // Authorised: recorded as pending before the CA decides, so that a CA that
        // cannot decide now leaves a transaction the client's next poll finds.
        let transaction = Transaction::new(
            id.clone(),
            generation,
            received.message_type(),
            requester(received).clone(),
            csr.clone(),
            renewal.then(|| signer.clone()),
            password.clone(),
            TransactionState::Pending,
            now,
        );
        // Another instance may record a transaction of this ID between the look above and
        // the insert: then it is looked at again, as if it had been there first.
        let mut attempts = 0u8;
        while let Some(current) = self.transactions.insert(&transaction, replacing.as_ref())? {
            attempts = attempts.saturating_add(1);
            match stored(current, received, &csr, renewal) {
                Stored::Answer(answer) => return Ok(answer),
                Stored::Same(t) => {
                    self.keep(received)?;
                    return self.answer_transaction(ca, received, t);
                }
                Stored::Replace(_) if attempts >= 3 => {
                    return Err(StoreError::new(
                        "transaction store",
                        format!("transaction {id} changed under three attempts to replace it"),
                    ));
                }
                Stored::Replace(t) => replacing = Some(t),
            }
        }
        self.keep(received)?;
        let decision = ca.enrol(&enrolment)?;
        self.decided(received, &transaction, decision)
    }

    /// Records the CA's decision on a pending transaction and answers it.
    fn decided(
        &self,
        received: &Received,
        transaction: &Transaction,
        decision: Decision,
    ) -> Result<Answer, StoreError> {
        let state = match decision {
            Decision::Pend => {
                return Ok(Answer::content(CertRepContent::Pending, None));
            }
            Decision::Issue(chain) => {
                let ours = chain
                    .first()
                    .is_some_and(|c| certifies_key(c, &transaction.csr.info.public_key));
                if !ours {
                    // The CA's mistake: nothing is recorded, the client is refused.
                    return Ok(Answer::fail(
                        FailInfo::BadRequest,
                        "the CA issued no certificate for the request's key first",
                    ));
                }
                TransactionState::Issued(chain)
            }
            Decision::Reject { fail_info, reason } => {
                if self.transactions.finish(
                    &transaction.id,
                    transaction.generation,
                    &TransactionState::Rejected(fail_info),
                )? {
                    return Ok(Answer::fail(fail_info, reason));
                }
                return self.stored_answer(received, transaction);
            }
        };
        if !self
            .transactions
            .finish(&transaction.id, transaction.generation, &state)?
        {
            // Another instance answered it meanwhile: its answer stands.
            return self.stored_answer(received, transaction);
        }
        Ok(state_answer(&state, transaction.password.clone()))
    }

    /// The answer from the stored `transaction`, as it is now; a transaction of its ID
    /// that replaced it since answers nothing.
    fn stored_answer(
        &self,
        received: &Received,
        transaction: &Transaction,
    ) -> Result<Answer, StoreError> {
        match self.transactions.get(&transaction.id)? {
            Some(t)
                if &t.requester == requester(received)
                    && t.generation == transaction.generation =>
            {
                Ok(state_answer(&t.state, t.password))
            }
            _ => Ok(Answer::fail(FailInfo::BadCertId, "the transaction is gone")),
        }
    }

    /// The answer from a transaction of this requester: resync, or the CA asked again.
    fn answer_transaction(
        &self,
        ca: &dyn CertificateAuthority,
        received: &Received,
        t: Transaction,
    ) -> Result<Answer, StoreError> {
        if t.state != TransactionState::Pending {
            return Ok(state_answer(&t.state, t.password));
        }
        if let Some(renewal_signer) = &t.renewal
            && ca.revoked(renewal_signer)?
        {
            // The certificate that signed the renewal was revoked while it waited (whatever
            // certificate over the same key signs the poll): refused for good.
            let decision = Decision::Reject {
                fail_info: FailInfo::BadRequest,
                reason: REVOKED_SIGNER.into(),
            };
            return self.decided(received, &t, decision);
        }
        let details = match crate::csr::inspect(&t.csr) {
            Ok(d) => d,
            Err(e) => return Ok(Answer::bad_request(format!("the stored CSR: {e}"))),
        };
        let enrolment = Enrolment {
            transaction_id: &t.id,
            generation: t.generation,
            message_type: t.message_type,
            csr: &t.csr,
            details: &details,
            signer: received.signer_certificate(),
            signer_kind: received.signer_kind(),
            renewal: t.renewal.as_ref(),
        };
        let decision = ca.poll(&enrolment)?;
        self.decided(received, &t, decision)
    }
}

/// Why a renewal is refused whose signer the CA revoked.
const REVOKED_SIGNER: &str = "the renewal's signer certificate is revoked";

/// What a stored transaction with a request's ID means for that PKCSReq or RenewalReq.
enum Stored {
    /// Answer this (the ID is another requester's, or another request's still pending).
    Answer(Answer),
    /// The same request again (a retransmission, a client that lost its state): answered
    /// from this transaction.
    Same(Transaction),
    /// Another request of this requester under a finished transaction's ID (a client whose
    /// transaction ID comes from its key, renewing with that key): a new transaction
    /// replaces this one.
    Replace(Transaction),
}

fn stored(t: Transaction, received: &Received, csr: &CertReq, renewal: bool) -> Stored {
    if &t.requester != requester(received) {
        return Stored::Answer(Answer::bad_request(
            "the transaction ID is another requester's",
        ));
    }
    if &t.csr == csr && t.message_type == received.message_type() && t.is_renewal() == renewal {
        return Stored::Same(t);
    }
    if t.state == TransactionState::Pending {
        return Stored::Answer(Answer::bad_request(
            "the transaction ID is that of another request, still pending",
        ));
    }
    Stored::Replace(t)
}

/// The answer a transaction's state gives.
fn state_answer(state: &TransactionState, password: Option<Vec<u8>>) -> Answer {
    match state {
        TransactionState::Pending => Answer::content(CertRepContent::Pending, None),
        TransactionState::Issued(chain) => {
            Answer::content(CertRepContent::issued(chain.clone()), password)
        }
        TransactionState::Rejected(fail_info) => Answer::fail(*fail_info, "rejected before"),
    }
}

/// The public key that signed the request.
fn requester(received: &Received) -> &x509_cert::spki::SubjectPublicKeyInfoOwned {
    received
        .signer_certificate()
        .tbs_certificate()
        .subject_public_key_info()
}

fn refusal_outcome(response: &HttpResponse, reason: String) -> Outcome {
    Outcome::Refused {
        status: response.status,
        reason,
    }
}

#[cfg(feature = "http")]
impl Server {
    /// [`Server::handle`] for an `http::Request` whose body has been read (within
    /// [`ServerLimits::max_body_size`](crate::http::ServerLimits); a `Content-Length` over
    /// it is refused here, as [`RequestHead::of`](crate::http::RequestHead::of) does
    /// before the body is read). Returns the `http::Response` and the [`Report`].
    pub fn handle_http<B: AsRef<[u8]>, R: CryptoRng + ?Sized>(
        &self,
        ca: &dyn CertificateAuthority,
        request: &::http::Request<B>,
        now: SystemTime,
        rng: &mut R,
    ) -> (::http::Response<Vec<u8>>, Report) {
        match crate::http::RequestHead::of(request, &self.config.http_limits) {
            Err(response) => {
                let report = Report {
                    operation: None,
                    message_type: None,
                    transaction_id: None,
                    outcome: Outcome::Refused {
                        status: response.status,
                        reason: "the declared body length exceeds the limit".into(),
                    },
                };
                (response.into(), report)
            }
            Ok(head) => {
                let handled = self.handle(
                    ca,
                    head.method,
                    head.query,
                    request.body().as_ref(),
                    now,
                    rng,
                );
                (handled.response.into(), handled.report)
            }
        }
    }
}

/// The event for a request's report: info for what was answered, warn for a refusal or a
/// FAILURE, with the reason. Nothing secret is in a report.
#[cfg(feature = "tracing")]
fn trace_report(report: &Report) {
    let operation = report.operation.map(|o| o.name());
    let message_type = report.message_type.map(|m| m.name());
    let transaction_id = report.transaction_id.as_ref().map(TransactionId::as_str);
    match &report.outcome {
        Outcome::Answered | Outcome::Success | Outcome::Pending => tracing::info!(
            operation,
            message_type,
            transaction_id,
            outcome = ?report.outcome,
            "answered"
        ),
        Outcome::Failed { fail_info, reason } => tracing::warn!(
            operation,
            message_type,
            transaction_id,
            fail_info = fail_info.name(),
            reason = reason.as_str(),
            "FAILURE"
        ),
        Outcome::Refused { status, reason } => tracing::warn!(
            operation,
            message_type,
            transaction_id,
            status,
            reason = reason.as_str(),
            "refused"
        ),
    }
}
