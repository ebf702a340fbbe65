//! GetCert, GetCRL and GetNextCACert.

use rand_core::CryptoRng;

use super::{CaInfo, ClientConfig, ExpectedReply, read_cert_rep};
use crate::asn1::{Certificate, CertificateList, IssuerAndSerialNumber};
use crate::caps::Capability;
use crate::cert::Identity;
use crate::error::{PolicyError, ProtocolError, Result};
use crate::http::{self, HttpReply, HttpRequest, Method, Operation, OperationKind};
use crate::message::{
    CertRepContent, NextCaCertificates, OutgoingRequest, RequestContent, SealParams,
};
use crate::pipeline::{DecryptOptions, DigestAlgorithm, EnvelopeKey, Recipient};
use crate::types::{FailInfo, MessageType, Nonce, TransactionId};

/// What a GetCert or GetCRL returned.
// One per exchange: boxing the CRL would buy nothing.
#[expect(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryOutcome {
    /// GetCert: the certificates of the CertRep (the requested one among them).
    Certificates(Vec<Certificate>),
    /// GetCRL: the CRL.
    Crl(CertificateList),
    /// The CA answered PENDING (unusual for these operations).
    Pending,
    /// The CA refused.
    Failed {
        /// Why.
        fail_info: FailInfo,
        /// The CA's explanation, if any.
        fail_info_text: Option<String>,
    },
}

/// A GetCert or GetCRL exchange: one request, one CertRep.
#[derive(Debug, Clone)]
pub struct Query {
    transaction_id: TransactionId,
    sender_nonce: Nonce,
    kind: MessageType,
    signers: Vec<Certificate>,
    allowed_digests: Vec<DigestAlgorithm>,
    require_sender_nonce: bool,
    decrypt: DecryptOptions,
}

impl Query {
    /// GetCert for the certificate `issuer_and_serial`, signed by `identity`.
    pub fn get_cert<R: CryptoRng + ?Sized>(
        ca: &CaInfo,
        config: &ClientConfig,
        issuer_and_serial: IssuerAndSerialNumber,
        identity: &Identity,
        rng: &mut R,
    ) -> Result<(Self, HttpRequest)> {
        Self::start(
            ca,
            config,
            RequestContent::GetCert(issuer_and_serial),
            identity,
            rng,
        )
    }

    /// GetCRL for the certificate `issuer_and_serial` (the CRL that would list it),
    /// signed by `identity`.
    pub fn get_crl<R: CryptoRng + ?Sized>(
        ca: &CaInfo,
        config: &ClientConfig,
        issuer_and_serial: IssuerAndSerialNumber,
        identity: &Identity,
        rng: &mut R,
    ) -> Result<(Self, HttpRequest)> {
        Self::start(
            ca,
            config,
            RequestContent::GetCrl(issuer_and_serial),
            identity,
            rng,
        )
    }

    fn start<R: CryptoRng + ?Sized>(
        ca: &CaInfo,
        config: &ClientConfig,
        content: RequestContent,
        identity: &Identity,
        rng: &mut R,
    ) -> Result<(Self, HttpRequest)> {
        let kind = content.message_type();
        let request = OutgoingRequest {
            transaction_id: TransactionId::random(rng),
            sender_nonce: Nonce::generate(rng),
            content,
        };
        let mut params = SealParams::new(identity.key(), identity.certificate());
        params.cipher = ca.negotiated.cipher;
        params.digest = ca.negotiated.digest;
        let sealed = request.seal(&params, Recipient::Certificate(&ca.recipient), rng)?;
        let http = HttpRequest::new(
            &config.scep_path,
            &Operation::PkiOperation { message: sealed },
            Method::for_pki_operation(&ca.negotiated),
        )?;
        Ok((
            Self {
                transaction_id: request.transaction_id,
                sender_nonce: request.sender_nonce,
                kind,
                signers: ca.signers.clone(),
                allowed_digests: config.policy.allowed_digests.clone(),
                require_sender_nonce: config.require_sender_nonce,
                decrypt: config.decrypt,
            },
            http,
        ))
    }

    /// Takes the answer. `key` decrypts a SUCCESS (see [`Enrollment::handle_response`](super::Enrollment::handle_response)).
    pub fn handle_response(
        self,
        reply: HttpReply<'_>,
        key: EnvelopeKey<'_>,
    ) -> Result<QueryOutcome> {
        let expected = ExpectedReply {
            signers: &self.signers,
            allowed_digests: &self.allowed_digests,
            transaction_id: &self.transaction_id,
            sender_nonce: &self.sender_nonce,
            require_sender_nonce: self.require_sender_nonce,
            decrypt: &self.decrypt,
        };
        match read_cert_rep(reply, &expected, key)? {
            CertRepContent::Success { certificates, crls } => {
                if self.kind == MessageType::GetCrl {
                    crls.into_iter().next().map(QueryOutcome::Crl).ok_or(
                        ProtocolError::UnexpectedContent("the GetCRL answer holds no CRL").into(),
                    )
                } else {
                    Ok(QueryOutcome::Certificates(certificates))
                }
            }
            CertRepContent::Failure {
                fail_info,
                fail_info_text,
            } => Ok(QueryOutcome::Failed {
                fail_info,
                fail_info_text,
            }),
            CertRepContent::Pending => Ok(QueryOutcome::Pending),
        }
    }
}

/// The GetNextCACert request. [`PolicyError::NotSupportedByCa`] when the CA does not
/// announce `GetNextCACert`.
pub fn next_ca_request(ca: &CaInfo, config: &ClientConfig) -> Result<HttpRequest> {
    if !ca.negotiated.get_next_ca_cert {
        return Err(PolicyError::NotSupportedByCa(Capability::GetNextCaCert).into());
    }
    HttpRequest::new(
        &config.scep_path,
        &Operation::GetNextCaCert {
            message: config.ca_identifier.clone(),
        },
        Method::Get,
    )
}

/// Reads a GetNextCACert answer: it must be signed by the current CA (or an RA trusted
/// for it, [`CaInfo::signers`]) with a digest `config`'s policy allows; returns the next
/// CA certificates. It is read under `config.decrypt.limits`.
pub fn handle_next_ca_response(
    ca: &CaInfo,
    config: &ClientConfig,
    reply: HttpReply<'_>,
) -> Result<NextCaCertificates> {
    let body = http::check_response(OperationKind::GetNextCaCert, reply)?;
    let open = if config.policy.next_ca_in_certificates {
        NextCaCertificates::open_lenient
    } else {
        NextCaCertificates::open_allowing
    };
    open(
        body,
        &ca.signers,
        &config.decrypt.limits,
        &config.policy.allowed_digests,
    )
}
