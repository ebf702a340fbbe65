//! Typed SCEP messages, sealed and opened.
//!
//! A pkiMessage (RFC 8894 section 3.2) is a SignedData whose signed attributes carry the
//! SCEP fields and whose content is a pkcsPKIEnvelope (EnvelopedData) holding the payload.
//!
//! **Sealing** (building): describe the message ([`OutgoingRequest`] or [`OutgoingCertRep`])
//! and give [`SealParams`] (signer, certificate, digest, cipher) and a [`Recipient`].
//!
//! **Opening** (parsing) goes in three steps, so that a server can look at who is asking
//! before paying for RSA:
//! 1. [`PkiMessage::decode`]: parse (BER accepted) and read the attributes; nothing is
//!    trusted yet.
//! 2. [`PkiMessage::verify`]: find the signer certificate (in the message or among the
//!    certificates supplied) and check the signature and messageDigest.
//! 3. [`VerifiedMessage::request`] / [`VerifiedMessage::cert_rep`]: decrypt and decode the
//!    typed payload.

mod ca_certs;
mod cert_rep;
mod request;

pub use ca_certs::{CaCertForm, CaCertificates, NextCaCertificates};
pub use cert_rep::{CertRepContent, CertRepStatus, SealedSuccess};
pub use request::{IssuerAndSubject, RequestContent};

use crate::asn1::Certificate;
use rand_core::CryptoRng;

pub use crate::attributes::ScepAttributes;
use crate::error::{Element, LimitKind, ProtocolError, Result};
use crate::limits::Limits;
use crate::pipeline::envelope::{
    self, DecryptOptions, Decrypted, Envelope, EnvelopeInfo, EnvelopeKey,
};
use crate::pipeline::signed::{self, ParsedSignedData, SignRequest};
use crate::pipeline::{ContentCipher, DigestAlgorithm, KeyAlgorithm, MessageSigner, Recipient};
use crate::types::{MessageType, Nonce, PkiStatus, TransactionId};

/// How to sign and encrypt an outgoing message.
#[derive(Clone, Copy)]
#[expect(
    clippy::exhaustive_structs,
    reason = "a parameter struct built with a literal; a new field is meant to break the build"
)]
pub struct SealParams<'a> {
    /// The signing key.
    pub signer: &'a dyn MessageSigner,
    /// The signer's certificate (always included in the message).
    pub signer_certificate: &'a Certificate,
    /// Further certificates to include (e.g. a CA chain for a CertRep).
    pub extra_certificates: &'a [Certificate],
    /// The digest for the signature and messageDigest.
    pub digest: DigestAlgorithm,
    /// The content-encryption algorithm of the envelope.
    pub cipher: ContentCipher,
    /// The PBKDF2 iteration count when the envelope is sealed with a password
    /// ([`Recipient::Password`]). An eavesdropper can test guesses of the password offline
    /// at this cost each, so it is high by default
    /// ([`PBKDF2_ITERATIONS`](crate::pipeline::envelope::PBKDF2_ITERATIONS)); the password
    /// (the challenge) must have high entropy all the same (RFC 8894 section 7.3).
    pub pbkdf2_iterations: u32,
}

impl<'a> SealParams<'a> {
    /// Parameters with SHA-256 and AES-128-CBC, the RFC 8894 `SCEPStandard` baseline, and
    /// the default PBKDF2 iteration count.
    pub fn new(signer: &'a dyn MessageSigner, signer_certificate: &'a Certificate) -> Self {
        SealParams {
            signer,
            signer_certificate,
            extra_certificates: &[],
            digest: DigestAlgorithm::Sha256,
            cipher: ContentCipher::Aes128Cbc,
            pbkdf2_iterations: envelope::PBKDF2_ITERATIONS,
        }
    }
}

/// A request to seal: PKCSReq, RenewalReq, CertPoll, GetCert or GetCRL.
#[derive(Clone, Debug, PartialEq, Eq)]
#[expect(
    clippy::exhaustive_structs,
    reason = "a parameter struct built with a literal; a new field is meant to break the build"
)]
pub struct OutgoingRequest {
    /// The transaction ID (the same for a request and its polls).
    pub transaction_id: TransactionId,
    /// A fresh sender nonce; keep it to check the CertRep's recipientNonce.
    pub sender_nonce: Nonce,
    /// The payload.
    pub content: RequestContent,
}

impl OutgoingRequest {
    /// Seals the request: the payload is enveloped for `recipient` (the CA or RA
    /// encryption certificate) and signed per `params`. Returns the DER pkiMessage.
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        params: &SealParams<'_>,
        recipient: Recipient<'_>,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let payload = self.content.to_der()?;
        let attrs = ScepAttributes::request(
            self.content.message_type(),
            self.transaction_id.clone(),
            self.sender_nonce.clone(),
        );
        seal_message(&attrs, &payload, params, recipient, rng)
    }
}

/// A CertRep to seal.
#[derive(Clone, Debug, PartialEq, Eq)]
#[expect(
    clippy::exhaustive_structs,
    reason = "a parameter struct built with a literal; a new field is meant to break the build"
)]
pub struct OutgoingCertRep {
    /// The request's transaction ID.
    pub transaction_id: TransactionId,
    /// A fresh sender nonce.
    pub sender_nonce: Nonce,
    /// The request's senderNonce, echoed.
    pub recipient_nonce: Nonce,
    /// The status and its content.
    pub content: CertRepContent,
}

impl OutgoingCertRep {
    /// Builds the reply to a request: same transactionID, the request's senderNonce as
    /// recipientNonce, and a fresh senderNonce.
    pub fn reply_to<R: CryptoRng + ?Sized>(
        request: &ScepAttributes,
        content: CertRepContent,
        rng: &mut R,
    ) -> Result<Self> {
        let recipient_nonce = request
            .sender_nonce
            .clone()
            .ok_or(ProtocolError::MissingAttribute(Element::SenderNonce))?;
        Ok(Self {
            transaction_id: request.transaction_id.clone(),
            sender_nonce: Nonce::generate(rng),
            recipient_nonce,
            content,
        })
    }

    /// Seals the CertRep. A SUCCESS is enveloped for `recipient` (normally the request's
    /// signer certificate, or the challenge password for signers whose key cannot decrypt);
    /// FAILURE and PENDING carry no envelope and ignore it (see
    /// [`OutgoingCertRep::seal_without_envelope`]).
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        params: &SealParams<'_>,
        recipient: Recipient<'_>,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        match &self.content {
            CertRepContent::Success { certificates, crls } => {
                let payload = signed::certs_only(certificates, crls)?;
                seal_message(&self.attributes(), &payload, params, recipient, rng)
            }
            CertRepContent::Failure { .. } | CertRepContent::Pending => {
                sign_message(&self.attributes(), &[], params)
            }
        }
    }

    /// Seals a FAILURE or PENDING, which carry no envelope and so need no recipient.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::UnexpectedContent`] for a SUCCESS: seal it with
    /// [`OutgoingCertRep::seal`] and a recipient.
    pub fn seal_without_envelope(&self, params: &SealParams<'_>) -> Result<Vec<u8>> {
        if matches!(self.content, CertRepContent::Success { .. }) {
            return Err(ProtocolError::UnexpectedContent(
                "a SUCCESS CertRep carries an envelope: seal it for a recipient",
            )
            .into());
        }
        sign_message(&self.attributes(), &[], params)
    }

    fn attributes(&self) -> ScepAttributes {
        let mut attrs = ScepAttributes::request(
            MessageType::CertRep,
            self.transaction_id.clone(),
            self.sender_nonce.clone(),
        );
        attrs.recipient_nonce = Some(self.recipient_nonce.clone());
        attrs.pki_status = Some(self.content.status());
        if let CertRepContent::Failure {
            fail_info,
            fail_info_text,
        } = &self.content
        {
            attrs.fail_info = Some(*fail_info);
            attrs.fail_info_text = fail_info_text.clone();
        }
        attrs
    }
}

/// Envelopes `payload` for `recipient`, then signs the envelope with the attributes.
fn seal_message<R: CryptoRng + ?Sized>(
    attrs: &ScepAttributes,
    payload: &[u8],
    params: &SealParams<'_>,
    recipient: Recipient<'_>,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let envelope = envelope::seal_with_iterations(
        payload,
        params.cipher,
        recipient,
        params.pbkdf2_iterations,
        rng,
    )?;
    sign_message(attrs, &envelope, params)
}

/// Signs `envelope` (empty for a CertRep without one) with the attributes.
fn sign_message(
    attrs: &ScepAttributes,
    envelope: &[u8],
    params: &SealParams<'_>,
) -> Result<Vec<u8>> {
    // Without a payload (FAILURE, PENDING) the eContent is present and empty, as
    // micromdm's server writes it: pyscep cannot read a CertRep whose eContent is absent
    // (it hashes the missing content), and an empty id-data is what "no pkcsPKIEnvelope"
    // means in RFC 8894 section 3.3.2.
    signed::sign(SignRequest {
        content: Some(envelope),
        attributes: attrs.to_attributes()?,
        digest: params.digest,
        signer: params.signer,
        signer_certificate: params.signer_certificate,
        extra_certificates: params.extra_certificates,
    })
}

/// A received pkiMessage: decoded, attributes read, **not yet verified**.
#[derive(Debug, Clone)]
pub struct PkiMessage {
    parsed: ParsedSignedData,
    attributes: ScepAttributes,
    digest: DigestAlgorithm,
    key_algorithm: KeyAlgorithm,
    limits: Limits,
}

impl PkiMessage {
    /// Decodes a pkiMessage (BER or DER) and reads its SCEP attributes.
    ///
    /// Refuses MD5 and unknown algorithms here, before any verification work.
    pub fn decode(input: &[u8], limits: &Limits) -> Result<Self> {
        let parsed = signed::parse(input, limits)?;
        let si = match parsed.signer_infos.as_slice() {
            [si] => si,
            [] => {
                return Err(ProtocolError::UnexpectedContent(
                    "a pkiMessage has one SignerInfo; this SignedData has none",
                )
                .into());
            }
            _ => {
                return Err(ProtocolError::UnexpectedContent(
                    "a pkiMessage has one SignerInfo; this SignedData has several",
                )
                .into());
            }
        };
        let (digest, key_algorithm) = signed::signer_algorithms(si)?;
        let attrs = si
            .signed_attrs
            .as_ref()
            .ok_or(ProtocolError::MissingAttribute(Element::SignedAttrs))?;
        let attributes = ScepAttributes::from_attributes(attrs.iter())?;
        if parsed.content_type != crate::oids::ID_DATA {
            return Err(ProtocolError::WrongContentType("eContentType is not id-data").into());
        }
        Ok(Self {
            parsed,
            attributes,
            digest,
            key_algorithm,
            limits: *limits,
        })
    }

    /// The SCEP attributes (unverified until [`PkiMessage::verify`] succeeds).
    pub fn attributes(&self) -> &ScepAttributes {
        &self.attributes
    }

    /// The messageType.
    pub fn message_type(&self) -> MessageType {
        self.attributes.message_type
    }

    /// The transactionID.
    pub fn transaction_id(&self) -> &TransactionId {
        &self.attributes.transaction_id
    }

    /// The certificates carried in the SignedData.
    pub fn certificates(&self) -> &[Certificate] {
        &self.parsed.certificates
    }

    /// The digest algorithm of the SignerInfo.
    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        self.digest
    }

    /// The signature key algorithm of the SignerInfo.
    pub fn key_algorithm(&self) -> KeyAlgorithm {
        self.key_algorithm
    }

    /// The certificate the SignerInfo names, found among the message's certificates or
    /// `extra` (e.g. the CA certificates from GetCACert, for CertReps that carry none).
    pub fn signer_certificate<'a>(&'a self, extra: &'a [Certificate]) -> Option<&'a Certificate> {
        let si = self.parsed.signer_infos.first()?;
        signed::find_signer(&si.sid, &self.parsed.certificates, extra)
    }

    /// The encapsulated pkcsPKIEnvelope, if any (unverified).
    pub fn envelope(&self) -> Option<&[u8]> {
        // An empty eContent (FAILURE and PENDING as micromdm and this crate write them)
        // is no envelope.
        self.parsed.content.as_deref().filter(|c| !c.is_empty())
    }

    /// What the envelope says about itself (cipher, recipients), without decrypting.
    pub fn envelope_info(&self) -> Option<Result<EnvelopeInfo>> {
        self.envelope().map(|e| envelope::inspect(e, &self.limits))
    }

    /// Verifies the signature and messageDigest. The signer certificate is looked up in the
    /// message and in `extra`.
    ///
    /// This checks that the message was signed by the holder of that certificate's key; it
    /// does not decide whether that certificate is trusted: a server checks a RenewalReq's
    /// signer against its CA, a client checks a CertRep's signer against the CA/RA
    /// certificates it selected (see [`VerifiedMessage::signer`]).
    pub fn verify(self, extra: &[Certificate]) -> Result<VerifiedMessage> {
        let verified = signed::verify(&self.parsed, extra)?;
        Ok(VerifiedMessage {
            message: self,
            signer: verified.signer,
        })
    }
}

/// A pkiMessage whose signature has been verified.
#[derive(Debug, Clone)]
pub struct VerifiedMessage {
    message: PkiMessage,
    signer: Certificate,
}

impl VerifiedMessage {
    /// The verified message.
    pub fn message(&self) -> &PkiMessage {
        &self.message
    }

    /// The SCEP attributes, now authenticated.
    pub fn attributes(&self) -> &ScepAttributes {
        &self.message.attributes
    }

    /// The certificate whose key signed the message.
    pub fn signer(&self) -> &Certificate {
        &self.signer
    }

    /// Decrypts the pkcsPKIEnvelope (see [`envelope::open`]).
    pub fn decrypt(&self, key: EnvelopeKey<'_>, options: &DecryptOptions) -> Result<Decrypted> {
        envelope::open(self.envelope()?, key, options)
    }

    /// Decrypts and decodes a request's payload (server side). Returns the payload and the
    /// cipher the client used (a good choice for the reply).
    ///
    /// Every failure from key transport to the decoded payload (a wrong key, bad padding,
    /// a payload that does not decode or is too large once decrypted, and for PKCSReq and
    /// RenewalReq a PKCS #10 request whose own signature does not verify: the only
    /// integrity check a payload has) is one
    /// [`CryptoError::DecryptionFailed`](crate::error::CryptoError::DecryptionFailed),
    /// after the same work; an envelope whose ciphertext is too large for
    /// [`Limits::max_csr_size`] is refused before decrypting.
    ///
    /// This decrypts whatever envelope it is given: it does not remember envelopes, so a
    /// captured one replayed with chosen ciphertext is opened each time. A server uses
    /// [`Server::decrypt`](crate::server::Server::decrypt), which refuses that.
    pub fn request(
        &self,
        key: EnvelopeKey<'_>,
        options: &DecryptOptions,
    ) -> Result<(RequestContent, ContentCipher)> {
        self.request_with_any(&[key], options, &mut |_| Ok(()))
    }

    /// [`VerifiedMessage::request`] with the first of `keys` that the envelope is
    /// addressed to (a server's keys during a CA rollover): only that one is tried.
    /// `admit` sees the content-encryption key first (see `Envelope::open_with`).
    pub(crate) fn request_with_any(
        &self,
        keys: &[EnvelopeKey<'_>],
        options: &DecryptOptions,
        admit: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<(RequestContent, ContentCipher)> {
        let mt = self.message.message_type();
        if !mt.is_request() {
            return Err(ProtocolError::UnexpectedMessageType {
                expected: MessageType::REQUESTS,
                found: mt,
            }
            .into());
        }
        if self.attributes().sender_nonce.is_none() {
            return Err(ProtocolError::MissingAttribute(Element::SenderNonce).into());
        }
        let envelope = Envelope::parse(self.envelope()?, options)?;
        let key = keys
            .iter()
            .find(|k| envelope.addressed_to(k) > 0)
            .ok_or(crate::error::CryptoError::NoMatchingRecipient)?;
        let limit = match mt {
            MessageType::PkcsReq | MessageType::RenewalReq => LimitKind::CsrSize,
            _ => LimitKind::RequestPayloadSize,
        };
        envelope.open_with(
            *key,
            options,
            (options.limits.max_csr_size, limit),
            admit,
            |payload| {
                let content = RequestContent::from_der(mt, payload, &options.limits)?;
                if let RequestContent::PkcsReq(csr) | RequestContent::RenewalReq(csr) = &content {
                    crate::csr::verify(csr)?;
                }
                Ok(content)
            },
        )
    }

    fn envelope(&self) -> Result<&[u8]> {
        self.message.envelope().ok_or_else(|| {
            ProtocolError::UnexpectedContent("the message has no pkcsPKIEnvelope").into()
        })
    }

    /// Checks that this CertRep answers our request: messageType CertRep, our transactionID,
    /// and a recipientNonce equal to our senderNonce.
    ///
    /// With `require_sender_nonce`, a CertRep without senderNonce is refused (RFC 8894
    /// section 3.2.1 requires one). Lenient clients leave it off: some CAs (cryptlib, whose
    /// sample RFC 8894 points to) send only a PKCS #9 randomNonce, and a client has no use
    /// for the CertRep's own nonce.
    pub fn check_reply(
        &self,
        transaction_id: &TransactionId,
        our_nonce: &Nonce,
        require_sender_nonce: bool,
    ) -> Result<()> {
        let a = self.attributes();
        require_cert_rep(a)?;
        if a.transaction_id != *transaction_id {
            return Err(ProtocolError::TransactionIdMismatch.into());
        }
        match &a.recipient_nonce {
            None => return Err(ProtocolError::MissingAttribute(Element::RecipientNonce).into()),
            Some(n) if n != our_nonce => return Err(ProtocolError::RecipientNonceMismatch.into()),
            Some(_) => {}
        }
        if require_sender_nonce && a.sender_nonce.is_none() {
            return Err(ProtocolError::MissingAttribute(Element::SenderNonce).into());
        }
        Ok(())
    }

    /// Reads a CertRep's status (client side), before any decryption: the status
    /// attributes checked, and for SUCCESS the envelope, which [`SealedSuccess::open`]
    /// decrypts with the requester's key. FAILURE and PENDING need no key.
    pub fn cert_rep_status(&self) -> Result<CertRepStatus<'_>> {
        let a = self.attributes();
        require_cert_rep(a)?;
        match cert_rep::check_status(a.pki_status, a.fail_info)? {
            PkiStatus::Success => Ok(CertRepStatus::Success(SealedSuccess::new(self.envelope()?))),
            PkiStatus::Failure => Ok(CertRepStatus::Failure {
                fail_info: a
                    .fail_info
                    .ok_or(ProtocolError::MissingAttribute(Element::FailInfo))?,
                fail_info_text: a.fail_info_text.clone(),
            }),
            PkiStatus::Pending => Ok(CertRepStatus::Pending),
        }
    }

    /// [`VerifiedMessage::cert_rep_status`] and, for a SUCCESS, [`SealedSuccess::open`]
    /// with `key`, in one step (the key is used only for a SUCCESS).
    pub fn cert_rep(
        &self,
        key: EnvelopeKey<'_>,
        options: &DecryptOptions,
    ) -> Result<CertRepContent> {
        match self.cert_rep_status()? {
            CertRepStatus::Success(sealed) => sealed.open(key, options),
            CertRepStatus::Failure {
                fail_info,
                fail_info_text,
            } => Ok(CertRepContent::Failure {
                fail_info,
                fail_info_text,
            }),
            CertRepStatus::Pending => Ok(CertRepContent::Pending),
        }
    }
}

/// A CertRep, or [`ProtocolError::UnexpectedMessageType`].
fn require_cert_rep(a: &ScepAttributes) -> Result<()> {
    if a.message_type == MessageType::CertRep {
        Ok(())
    } else {
        Err(ProtocolError::UnexpectedMessageType {
            expected: &[MessageType::CertRep],
            found: a.message_type,
        }
        .into())
    }
}
