//! Limits on untrusted input, with safe defaults.

/// Bounds applied while decoding untrusted input. Exceeding one is an
/// [`Error::Limit`](crate::Error::Limit) whose `what`, a [`LimitKind`](crate::error::LimitKind),
/// names it (its name is given below for each field).
///
/// The message decoders take them directly ([`PkiMessage::decode`](crate::message::PkiMessage::decode),
/// [`CaCertificates::parse`](crate::message::CaCertificates::parse),
/// [`NextCaCertificates::open`](crate::message::NextCaCertificates::open),
/// the BER normalisation of every input, [`envelope::inspect`](crate::pipeline::envelope::inspect));
/// decryption and the payload decoders behind it take them from
/// [`DecryptOptions::limits`](crate::DecryptOptions::limits). `tests/limits.rs` exceeds each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum size in octets of a whole message, and of each encoding nested in one (the
    /// pkcsPKIEnvelope, the decrypted payload), checked before decoding it. Default 1 MiB.
    /// `"message size"`.
    pub max_message_size: usize,
    /// Maximum ASN.1 nesting depth, checked while BER is normalised (so before any typed
    /// decoder recurses). Default 64. `"nesting depth"`.
    pub max_depth: usize,
    /// Maximum number of certificates in a SignedData, and also of its CRLs and of its
    /// SignerInfos. Default 64. `"certificates"`, `"CRLs"`, `"signer infos"`.
    pub max_certificates: usize,
    /// Maximum number of attributes in one set of them: the signed and the unsigned
    /// attributes of each SignerInfo, and the attributes of a PKCS #10 request. Default 64.
    /// `"signed attributes"`, `"unsigned attributes"`, `"CSR attributes"`.
    pub max_attributes: usize,
    /// Maximum number of RecipientInfos in an EnvelopedData. Default 16. `"recipients"`.
    /// (Whatever their number, only the one addressed to the key is tried, and an
    /// envelope with two addressed to it is refused.)
    pub max_recipients: usize,
    /// Maximum size in octets of a request's payload: the PKCS #10 request of a PKCSReq or
    /// RenewalReq, the IssuerAndSubject or IssuerAndSerialNumber of the others. Default
    /// 64 KiB. Checked twice: before decrypting, on the ciphertext (refused when even its
    /// smallest possible plaintext, all but one block, is larger), as `"CSR size"` or
    /// `"request payload size"`; and after decrypting and BER normalisation, exactly,
    /// where exceeding it is the one
    /// [`CryptoError::DecryptionFailed`](crate::error::CryptoError::DecryptionFailed) of
    /// every failure after key transport (a distinct error there would tell an attacker
    /// the length of the padding).
    pub max_csr_size: usize,
    /// Maximum PBKDF2 iteration count accepted in a PasswordRecipientInfo, checked before
    /// deriving the key, so that a message cannot make the receiver spin. Only one
    /// PasswordRecipientInfo of an envelope is ever tried (an envelope with several is
    /// refused), so this is the PBKDF2 budget of the whole envelope. Default 1 000 000
    /// (above the 600 000 this crate seals with). `"PBKDF2 iterations"`.
    pub max_pbkdf2_iterations: u32,
}

impl Limits {
    /// The defaults.
    pub const DEFAULT: Self = Self {
        max_message_size: 1 << 20,
        max_depth: 64,
        max_certificates: 64,
        max_attributes: 64,
        max_recipients: 16,
        max_csr_size: 64 << 10,
        max_pbkdf2_iterations: 1_000_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
