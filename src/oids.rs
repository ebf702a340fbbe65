//! Object identifiers used by SCEP and the CMS algorithms it relies on.
//!
//! Where `const-oid`'s database has an identifier it is re-exported from there; the few it
//! lacks are spelled out with the RFC that assigns them.

use der::asn1::ObjectIdentifier as Oid;

pub use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_ENVELOPED_DATA, ID_SIGNED_DATA};
pub use const_oid::db::rfc5911::{ID_MESSAGE_DIGEST, ID_SIGNING_TIME};
pub use const_oid::db::rfc8894::{
    ID_FAIL_INFO, ID_MESSAGE_TYPE, ID_PKI_STATUS, ID_RECIPIENT_NONCE, ID_SCEP_FAIL_INFO_TEXT,
    ID_SENDER_NONCE, ID_TRANSACTION_ID,
};

/// PKCS #9 challengePassword (RFC 2985).
pub const CHALLENGE_PASSWORD: Oid = const_oid::db::rfc2985::PKCS_9_AT_CHALLENGE_PASSWORD;
/// PKCS #9 extensionRequest (RFC 2985).
pub const EXTENSION_REQUEST: Oid = const_oid::db::rfc2985::PKCS_9_AT_EXTENSION_REQUEST;
/// PKCS #9 randomNonce (RFC 2985), which cryptlib sends instead of senderNonce in CertReps.
pub const RANDOM_NONCE: Oid = const_oid::db::rfc2985::PKCS_9_AT_RANDOM_NONCE;

/// rsaEncryption (RFC 8017).
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// md5WithRSAEncryption (refused).
pub const MD5_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.4");
/// sha1WithRSAEncryption.
pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
/// sha256WithRSAEncryption.
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
/// sha384WithRSAEncryption.
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
/// sha512WithRSAEncryption.
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
/// sha224WithRSAEncryption.
pub const SHA224_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.14");

/// id-ecPublicKey (RFC 5480).
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// secp256r1 / prime256v1 (RFC 5480).
pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// ecdsa-with-SHA1 (RFC 3279).
pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
/// ecdsa-with-SHA224 (RFC 5758).
pub const ECDSA_WITH_SHA224: Oid = Oid::new_unwrap("1.2.840.10045.4.3.1");
/// ecdsa-with-SHA256 (RFC 5758).
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384 (RFC 5758).
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
/// ecdsa-with-SHA512 (RFC 5758).
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

/// id-md5 (refused).
pub const MD5: Oid = Oid::new_unwrap("1.2.840.113549.2.5");
/// id-sha1.
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
/// id-sha224.
pub const SHA224: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.4");
/// id-sha256.
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// id-sha384.
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
/// id-sha512.
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

/// desCBC (OIW; refused for producing, decryptable only on explicit opt-in).
pub const DES_CBC: Oid = Oid::new_unwrap("1.3.14.3.2.7");
/// des-ede3-cbc (RFC 3370).
pub const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");
/// id-aes128-CBC (RFC 3565).
pub const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
/// id-aes192-CBC (RFC 3565).
pub const AES192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
/// id-aes256-CBC (RFC 3565).
pub const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");

/// id-PBKDF2 (RFC 8018).
pub const PBKDF2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.12");
/// id-hmacWithSHA1 (RFC 8018), PBKDF2's default PRF.
pub const HMAC_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.113549.2.7");
/// id-hmacWithSHA256 (RFC 8018).
pub const HMAC_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.2.9");
/// id-hmacWithSHA224 (RFC 8018).
pub const HMAC_WITH_SHA224: Oid = Oid::new_unwrap("1.2.840.113549.2.8");
/// id-hmacWithSHA384 (RFC 8018).
pub const HMAC_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.2.10");
/// id-hmacWithSHA512 (RFC 8018).
pub const HMAC_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.2.11");
/// id-alg-PWRI-KEK (RFC 3211).
pub const PWRI_KEK: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.3.9");

/// id-ce-subjectKeyIdentifier.
pub const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
/// id-ce-keyUsage.
pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
/// id-ce-subjectAltName.
pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
/// id-ce-basicConstraints.
pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
/// id-kp-cmcRA (RFC 6402 section 2.10): the extended key usage of a CMC registration
/// authority, which marks an RA certificate.
pub const ID_KP_CMC_RA: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.28");
/// id-ce-extKeyUsage.
pub const EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
/// id-ce-authorityKeyIdentifier.
pub const AUTHORITY_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.35");
