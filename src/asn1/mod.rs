//! The CMS structures SCEP uses (RFC 5652), declared for this crate.
//!
//! The `cms` crate's types fix certificates and serial numbers to x509-cert's RFC 5280
//! profile, which refuses serial numbers longer than 20 octets. Real peers send them:
//! certmonger signs its requests with a self-signed certificate whose serial number has 32
//! octets, and every CertRep to it names that serial in its RecipientInfo. So the structures
//! that carry certificates or serial numbers are declared here over x509-cert's lenient
//! [`Raw`](x509_cert::certificate::Raw) profile; `cms` still provides `ContentInfo`, the
//! version numbers, and the structures that carry neither.
//!
//! One (private) module per structure, its types re-exported here: `cert` (certificates,
//! IssuerAndSerialNumber), `signed_data` (SignedData, SignerInfo), `enveloped_data`
//! (EnvelopedData and its RecipientInfos), `request` (PKCS #10, which Apple devices send
//! with version 2).

pub(crate) mod attribute;
pub(crate) mod cert;
pub(crate) mod enveloped_data;
pub(crate) mod request;
pub(crate) mod signed_data;

pub use cert::{Certificate, CertificateList, IssuerAndSerialNumber, SerialNumber};
pub use enveloped_data::{
    EnvelopedData, KeyTransRecipientInfo, PasswordRecipientInfo, RecipientIdentifier, RecipientInfo,
};
pub use request::{CertReq, CertReqInfo};
pub use signed_data::{SignedData, SignerIdentifier, SignerInfo};
