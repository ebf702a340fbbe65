#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unused_qualifications, clippy::use_self)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]
#![warn(unreachable_pub, clippy::exhaustive_enums, clippy::exhaustive_structs)]

pub mod asn1;
mod attributes;
mod ber;
pub mod caps;
pub mod cert;
pub mod client;
pub mod csr;
pub mod error;
pub mod http;
mod limits;
pub mod message;
mod oids;
pub mod pipeline;
pub mod server;
mod types;

/// Entry points for the fuzz targets and mutation tests (`--cfg fuzzing` only).
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod internal;

pub use asn1::{Certificate, CertificateList};
pub use error::{Error, Result};
pub use limits::Limits;
pub use pipeline::{
    ContentCipher, DecryptOptions, DigestAlgorithm, EnvelopeKey, KeyAlgorithm, KeyDecryptor,
    MessageSigner, Recipient,
};
pub use types::{FailInfo, MessageType, Nonce, PkiStatus, TransactionId};

/// Re-exports of the crates whose types appear in this crate's API.
///
/// `cms` is a release candidate pinned exactly (`=0.3.0-rc.0`, no 0.3 release exists):
/// the public fields of the structures in [`asn1`] use its `CmsVersion`,
/// `EncapsulatedContentInfo` and `EncryptedContentInfo`, so a dependent names them through
/// `scep::reexports::cms` and gets the same version as this crate, whatever else it uses.
pub mod reexports {
    pub use cms;
    pub use der;
    pub use p256;
    pub use rand_core;
    pub use rsa;
    pub use x509_cert;
    pub use x509_cert::spki;
}
