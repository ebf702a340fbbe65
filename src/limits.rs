//! Limits on untrusted input, with safe defaults.

/// Bounds applied while decoding untrusted input. Exceeding one is an
/// [`Error::Limit`](crate::Error::Limit) naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum size of a whole message in octets (default 1 MiB).
    pub max_message_size: usize,
    /// Maximum ASN.1 nesting depth (default 64).
    pub max_depth: usize,
    /// Maximum number of certificates in a SignedData (default 64).
    pub max_certificates: usize,
    /// Maximum number of signed attributes in a SignerInfo (default 64).
    pub max_attributes: usize,
    /// Maximum number of RecipientInfos in an EnvelopedData (default 16).
    pub max_recipients: usize,
    /// Maximum size of a PKCS #10 request in octets (default 64 KiB).
    pub max_csr_size: usize,
    /// Maximum PBKDF2 iteration count accepted in a PasswordRecipientInfo (default 1 000 000),
    /// so that a message cannot make the receiver spin.
    pub max_pbkdf2_iterations: u32,
}

impl Limits {
    /// The defaults.
    pub const DEFAULT: Limits = Limits {
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
        Limits::DEFAULT
    }
}
