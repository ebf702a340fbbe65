//! The decisions only the CA can make, which the server asks for while it runs the SCEP
//! transaction ([`Server::handle`](super::Server::handle)).

use crate::asn1::{CertReq, Certificate, CertificateList, IssuerAndSerialNumber};
use crate::csr::CsrDetails;
use crate::error::StoreError;
use crate::types::{FailInfo, MessageType, TransactionId};

use super::{Generation, SignerKind};

/// An enrolment the server has checked, for the CA to decide on: a PKCSReq or RenewalReq
/// whose signature, envelope, CSR signature and (for a renewal) signer the server has
/// verified, and for which it knows how to encrypt the answer.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Enrolment<'a> {
    /// The transaction ID.
    pub transaction_id: &'a TransactionId,
    /// Which transaction of this ID it is: what the CA keys its own state for the
    /// transaction by (poll counts, an operator's approval, the certificate issued).
    pub generation: Generation,
    /// PKCSReq or RenewalReq.
    pub message_type: MessageType,
    /// The PKCS #10 request (its signature verified).
    pub csr: &'a CertReq,
    /// What the request asks for: subject, key, challenge, extensions.
    pub details: &'a CsrDetails,
    /// The certificate that signed the pkiMessage (in [`poll`](CertificateAuthority::poll),
    /// the CertPoll's: any certificate over the requester's key).
    pub signer: &'a Certificate,
    /// Who that is, as far as this CA can tell.
    pub signer_kind: SignerKind,
    /// For a renewal (a RenewalReq, or a PKCSReq signed by a certificate this CA issued):
    /// the certificate of this CA that authorises it, the one that signed the request
    /// that started the transaction, already checked against the server's
    /// [`RenewalPolicy`](super::RenewalPolicy) and [`revoked`](CertificateAuthority::revoked)
    /// (the challenge was not asked for). A CA that issues should check its revocation
    /// again atomically with issuing, as the example server's does: it may be revoked
    /// in between. `None` for an initial enrolment.
    pub renewal: Option<&'a Certificate>,
}

/// What the CA decides on an enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Issue: the certificate for the request's key, then any chain. The server checks
    /// that the first certifies the request's key.
    Issue(Vec<Certificate>),
    /// Pending: the CA (an operator) decides later; the client polls.
    Pend,
    /// Refused. The peer is told `fail_info` and the fixed text for it
    /// ([`FailInfo::description`]); `reason` is for the operator's log only.
    Reject {
        /// The failInfo the client gets.
        fail_info: FailInfo,
        /// Why, for the operator.
        reason: String,
    },
}

impl Decision {
    /// A refusal with badRequest and `reason` for the operator.
    pub fn reject(reason: impl Into<String>) -> Self {
        Self::Reject {
            fail_info: FailInfo::BadRequest,
            reason: reason.into(),
        }
    }
}

/// Whether the challengePassword `given` is `expected`, compared in constant time (as
/// SHA-256 digests, so that neither the contents nor the length of `expected` shows in
/// the time taken): for a [`CertificateAuthority::check_challenge`] with a static
/// challenge.
///
/// ```
/// use scep::server::challenge_matches;
/// assert!(challenge_matches("s3cret", Some("s3cret")));
/// assert!(!challenge_matches("s3cret", Some("s3cre")));
/// assert!(!challenge_matches("s3cret", None));
/// ```
pub fn challenge_matches(expected: &str, given: Option<&str>) -> bool {
    let Some(given) = given else {
        return false;
    };
    let a = super::stores::sha256(&[b"challenge", expected.as_bytes()]);
    let b = super::stores::sha256(&[b"challenge", given.as_bytes()]);
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The CA behind a [`Server`](super::Server): the decisions only it can make. The server
/// runs the SCEP transaction around them (verification, decryption, replays, the
/// transaction store, polls, resync, renewal rules, encrypting the answer).
///
/// Implementations are shared between threads (`Send + Sync`, `&self`). An error is a
/// CA that cannot decide now (its database is down): the client gets HTTP 503. An
/// authorised enrolment is recorded as pending before [`enrol`](Self::enrol) is asked, so
/// after an error there the client's next poll (or the same request again) asks
/// [`poll`](Self::poll).
pub trait CertificateAuthority: Send + Sync {
    /// Whether `challenge` (the CSR's challengePassword, if it has one) authorises the
    /// initial enrolment `enrolment`. Not asked for renewals.
    ///
    /// A one-time challenge is used up here, bound to the request it authorised: the same
    /// request may be asked about again (its client retried after HTTP 503, or sent it to
    /// two instances at once), and should be accepted again for the same transaction ID,
    /// CSR and requester key (`enrolment.signer`'s), or the retry is refused; never for
    /// another key. (After a refusal the server looks for a
    /// transaction the same request started on another instance and answers from it.)
    fn check_challenge(
        &self,
        enrolment: &Enrolment<'_>,
        challenge: Option<&str>,
    ) -> Result<bool, StoreError>;

    /// Decides on an authorised enrolment: issue, pend or reject. Called once per
    /// transaction, when it starts.
    ///
    /// A client may start a new transaction under the ID of one that finished
    /// (micromdm's scepclient derives the ID from its key and renews with the same key):
    /// whatever the CA keeps per transaction (poll counts, an operator's approval, the
    /// certificate issued) must not carry over to the new transaction, or it would
    /// inherit the old one's decision. Key it by [`Enrolment::generation`], not by the
    /// transaction ID, as the example server's database does.
    fn enrol(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError>;

    /// Decides again on a pending enrolment when its client polls (an operator may have
    /// approved or rejected it since): [`Decision::Pend`] while it waits. The default
    /// keeps it pending.
    fn poll(&self, enrolment: &Enrolment<'_>) -> Result<Decision, StoreError> {
        let _ = enrolment;
        Ok(Decision::Pend)
    }

    /// Whether `certificate`, which this CA issued, is revoked. A new renewal it signs is
    /// refused (FAILURE badRequest), and so is a pending renewal it signed when its client
    /// polls. A CA that never revokes answers `false`.
    ///
    /// Revocation is per certificate, renewal per key: after a renewal that kept the key,
    /// the older certificate over it may still be valid and renew. To stop a key, answer
    /// `true` for every certificate over it (or revoke them all).
    fn revoked(&self, certificate: &Certificate) -> Result<bool, StoreError>;

    /// GetCert: the certificate with this issuer and serial number, if the CA has it.
    fn certificate(
        &self,
        issuer_and_serial: &IssuerAndSerialNumber,
    ) -> Result<Option<Certificate>, StoreError>;

    /// GetCRL: the CRL that covers the certificate with this issuer and serial number.
    fn crl(
        &self,
        issuer_and_serial: &IssuerAndSerialNumber,
    ) -> Result<Option<CertificateList>, StoreError>;

    /// The password to seal a GetCert or GetCRL answer with for `requester`, whose key
    /// cannot decrypt (ECDSA), or `None` (then it gets a FAILURE). Whoever gets a
    /// PasswordRecipientInfo can test guesses of its password offline: give one only to
    /// a requester that knows it (one this CA issued a certificate to with that
    /// challenge). An error (the CA's database is down) is HTTP 503, as for the other
    /// methods. The default gives none.
    fn password_for(&self, requester: &Certificate) -> Result<Option<Vec<u8>>, StoreError> {
        let _ = requester;
        Ok(None)
    }
}
