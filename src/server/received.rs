//! A verified request, not yet decrypted, and what the server can tell of its signer.

use crate::asn1::{CertReq, Certificate};
use crate::error::{PolicyError, RenewalRefusal, Result};
use crate::message::VerifiedMessage;
use crate::pipeline::ContentCipher;
use crate::types::{MessageType, Nonce, TransactionId};

use super::RenewalPolicy;

/// Who signed a request, as far as this CA can tell, at the time the request was
/// handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignerKind {
    /// A certificate this CA issued (its name and signature check), valid at the time the
    /// request was handled: a renewal (or re-key) signer.
    IssuedByCa,
    /// A certificate this CA issued, but expired (or not yet valid) at that time. It does
    /// not authorise a renewal.
    IssuedByCaNotValid,
    /// A self-issued certificate (issuer = subject) not issued by this CA: what a client
    /// makes for its initial enrolment (RFC 8894 section 2.3). The message signature
    /// proves the key; nothing else about the certificate is vouched for.
    SelfSigned,
    /// Any other certificate: another CA's (an MDM identity, as Apple devices sign with),
    /// or one naming this CA as issuer whose signature does not check under its key.
    Other,
}

/// A verified pkiMessage, not yet decrypted.
#[derive(Debug)]
pub struct Received {
    pub(super) verified: VerifiedMessage,
    pub(super) signer: SignerKind,
    pub(super) retransmission: bool,
    pub(super) cipher: Option<ContentCipher>,
    /// SHA-256 of the pkiMessage as received.
    pub(super) message_digest: [u8; 32],
    /// The replay store's value for the encryptedKey of the envelope, once decrypted.
    pub(super) envelope: Option<[u8; 32]>,
    /// The replay store's value of the senderNonce, when this request recorded it (found
    /// it fresh): forgotten again if the request cannot be answered (HTTP 503). Its
    /// encryptedKey stays: the same bytes again are a retransmission there, which is let
    /// through, and nothing else may bring that envelope again.
    pub(super) recorded_nonce: Option<[u8; 32]>,
}

impl Received {
    /// The message type.
    pub fn message_type(&self) -> MessageType {
        self.verified.message().message_type()
    }

    /// The transaction ID.
    pub fn transaction_id(&self) -> &TransactionId {
        self.verified.message().transaction_id()
    }

    /// The request's senderNonce.
    pub fn sender_nonce(&self) -> Option<&Nonce> {
        self.verified.attributes().sender_nonce.as_ref()
    }

    /// The certificate that signed the request.
    pub fn signer_certificate(&self) -> &Certificate {
        self.verified.signer()
    }

    /// Who signed the request (see [`SignerKind`]).
    pub fn signer_kind(&self) -> SignerKind {
        self.signer
    }

    /// Whether the signer certificate was issued by this CA and is valid at the time the
    /// request was handled ([`SignerKind::IssuedByCa`]): a renewal or re-key signer. It
    /// says nothing of revocation: look the certificate up in the CA's records.
    pub fn signer_issued_by_ca(&self) -> bool {
        self.signer == SignerKind::IssuedByCa
    }

    /// Whether the request is signed with the key of `csr` (the signer certificate
    /// certifies the CSR's public key). A PKCSReq from a client's self-signed certificate
    /// is; a server that requires it stops a captured request from being re-signed by
    /// someone else and issued to them. Apple devices enrolling through MDM sign with an
    /// MDM identity instead, so a server for them cannot require it.
    pub fn signed_with_csr_key(&self, csr: &CertReq) -> bool {
        crate::cert::certifies_key(self.verified.signer(), &csr.info.public_key)
    }

    /// Checks a renewal (a RenewalReq, or a PKCSReq signed with an existing certificate)
    /// for `csr` under `policy`: the signer must be a certificate this CA issued, valid
    /// now ([`SignerKind::IssuedByCa`]), with the CSR's subject (unless the policy
    /// allows otherwise) and the CSR's key (unless it allows re-keying). Revocation is the
    /// CA's to check.
    ///
    /// # Errors
    ///
    /// [`PolicyError::RenewalRefused`] with the reason.
    pub fn check_renewal(&self, csr: &CertReq, policy: &RenewalPolicy) -> Result<()> {
        let refuse = |reason| Err(PolicyError::RenewalRefused(reason).into());
        match self.signer {
            SignerKind::IssuedByCa => {}
            SignerKind::IssuedByCaNotValid => return refuse(RenewalRefusal::SignerNotValid),
            _ => return refuse(RenewalRefusal::NotIssuedByCa),
        }
        let signer = self.verified.signer().tbs_certificate();
        if policy.require_same_subject && signer.subject() != &csr.info.subject {
            return refuse(RenewalRefusal::SubjectChanged);
        }
        if !policy.allow_rekey && !self.signed_with_csr_key(csr) {
            return refuse(RenewalRefusal::KeyChanged);
        }
        Ok(())
    }

    /// Whether this exact message was received before (only ever `true` with
    /// [`ServerConfig::accept_retransmissions`](super::ServerConfig::accept_retransmissions) on): answer it from the state of its
    /// transaction, not as a new request.
    pub fn is_retransmission(&self) -> bool {
        self.retransmission
    }

    /// The verified message, with all its attributes.
    pub fn verified(&self) -> &VerifiedMessage {
        &self.verified
    }

    /// The cipher the request's envelope used, once decrypted.
    pub fn cipher(&self) -> Option<ContentCipher> {
        self.cipher
    }
}
