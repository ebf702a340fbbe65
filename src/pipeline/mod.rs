//! The CMS pipeline: the only place that touches CMS.
//!
//! `seal` = EnvelopedData (RSA key transport or PasswordRecipientInfo) then SignedData with
//! the SCEP authenticated attributes. `open` = parse (accepting BER), find the signer,
//! verify the signature and messageDigest, then decrypt.

pub mod adapters;
pub(crate) mod algorithms;
#[cfg(feature = "aws-lc-rs")]
pub mod aws_lc;
mod content_info;
pub mod envelope;
pub(crate) mod keys;
pub(crate) mod signed;

pub use algorithms::{ContentCipher, DigestAlgorithm, KeyAlgorithm};
pub use envelope::{
    DecryptOptions, Decrypted, EnvelopeInfo, EnvelopeKey, Recipient, RecipientKind,
};
pub use keys::{KeyDecryptor, MessageSigner};
pub use signed::{certs_only, parse_certs_only};
