//! CertRep, the response to every request (RFC 8894 section 3.3.2).
//!
//! | pkiStatus | content |
//! |---|---|
//! | SUCCESS | pkcsPKIEnvelope holding a degenerate certs-only SignedData with the issued certificate (and optionally its chain), or the CRL for GetCRL |
//! | FAILURE | no envelope; `failInfo` (required) and `failInfoText` (optional) attributes |
//! | PENDING | no envelope |

use crate::asn1::Certificate;
use crate::asn1::CertificateList;

use crate::error::{Element, LimitKind, ProtocolError, Result};
use crate::pipeline::{DecryptOptions, EnvelopeKey};
use crate::types::{FailInfo, PkiStatus};

/// The typed content of a CertRep.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertRepContent {
    /// SUCCESS: the certificates (issued certificate, chain) and/or CRLs.
    Success {
        /// Certificates, in the order received. The SET has no meaningful order: find the
        /// issued certificate by its public key, not by position.
        certificates: Vec<Certificate>,
        /// CRLs (the answer to GetCRL).
        crls: Vec<CertificateList>,
    },
    /// FAILURE with its reason.
    Failure {
        /// Why the request failed.
        fail_info: FailInfo,
        /// An optional human-readable explanation.
        fail_info_text: Option<String>,
    },
    /// PENDING: poll again later with CertPoll.
    Pending,
}

impl CertRepContent {
    /// The pkiStatus this content travels under.
    pub fn status(&self) -> PkiStatus {
        match self {
            Self::Success { .. } => PkiStatus::Success,
            Self::Failure { .. } => PkiStatus::Failure,
            Self::Pending => PkiStatus::Pending,
        }
    }

    /// A SUCCESS carrying certificates.
    pub fn issued(certificates: Vec<Certificate>) -> Self {
        Self::Success {
            certificates,
            crls: Vec::new(),
        }
    }

    /// A SUCCESS carrying a CRL (the answer to GetCRL).
    pub fn crl(crl: CertificateList) -> Self {
        Self::Success {
            certificates: Vec::new(),
            crls: vec![crl],
        }
    }

    /// A FAILURE.
    pub fn failure(fail_info: FailInfo, fail_info_text: Option<String>) -> Self {
        Self::Failure {
            fail_info,
            fail_info_text,
        }
    }
}

/// Checks the status attributes of a CertRep for consistency: FAILURE needs a failInfo, and
/// only FAILURE may carry one.
pub(crate) fn check_status(
    status: Option<PkiStatus>,
    fail_info: Option<FailInfo>,
) -> Result<PkiStatus> {
    let status = status.ok_or(ProtocolError::MissingAttribute(Element::PkiStatus))?;
    match (status, fail_info) {
        (PkiStatus::Failure, None) => {
            Err(ProtocolError::InconsistentStatus("FAILURE without a failInfo attribute").into())
        }
        (PkiStatus::Success | PkiStatus::Pending, Some(_)) => Err(
            ProtocolError::InconsistentStatus("a failInfo attribute on a non-FAILURE CertRep")
                .into(),
        ),
        (s, _) => Ok(s),
    }
}

/// A CertRep's status (RFC 8894 section 3.3.2), read before any decryption.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertRepStatus<'m> {
    /// SUCCESS: the certificates are in the envelope, not yet decrypted.
    Success(SealedSuccess<'m>),
    /// FAILURE, with its failInfo and failInfoText.
    Failure {
        /// Why.
        fail_info: FailInfo,
        /// The CA's text, if any.
        fail_info_text: Option<String>,
    },
    /// PENDING: poll later.
    Pending,
}

/// The envelope of a SUCCESS CertRep, to decrypt with the requester's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedSuccess<'m> {
    envelope: &'m [u8],
}

impl<'m> SealedSuccess<'m> {
    pub(super) fn new(envelope: &'m [u8]) -> Self {
        SealedSuccess { envelope }
    }

    /// Decrypts the envelope with `key` and reads the certificates and CRLs
    /// ([`CertRepContent::Success`]). Everything from key transport to the decoded
    /// certificates fails as one
    /// [`CryptoError::DecryptionFailed`](crate::error::CryptoError::DecryptionFailed).
    pub fn open(&self, key: EnvelopeKey<'_>, options: &DecryptOptions) -> Result<CertRepContent> {
        let ((certificates, crls), _) =
            crate::pipeline::envelope::Envelope::parse(self.envelope, options)?.open_with(
                key,
                options,
                (options.limits.max_message_size, LimitKind::MessageSize),
                &mut |_| Ok(()),
                |payload| crate::pipeline::signed::parse_certs_only(payload, &options.limits),
            )?;
        Ok(CertRepContent::Success { certificates, crls })
    }
}
