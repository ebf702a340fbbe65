//! Object identifiers used by SCEP and the CMS algorithms it relies on.
//!
//! Every identifier `const-oid`'s database has comes from there, under the short name this
//! crate's code uses; the five it lacks (ecdsa-with-SHA1, DES-CBC, hmacWithSHA1,
//! id-alg-PWRI-KEK, id-kp-cmcRA) are spelled out with the RFC that assigns them.

use der::asn1::ObjectIdentifier as Oid;

pub(crate) use const_oid::db::rfc5911::{
    ID_CONTENT_TYPE, ID_DATA, ID_ENVELOPED_DATA, ID_SIGNED_DATA,
};
pub(crate) use const_oid::db::rfc5911::{ID_MESSAGE_DIGEST, ID_SIGNING_TIME};
pub(crate) use const_oid::db::rfc8894::{
    ID_FAIL_INFO, ID_MESSAGE_TYPE, ID_PKI_STATUS, ID_RECIPIENT_NONCE, ID_SCEP_FAIL_INFO_TEXT,
    ID_SENDER_NONCE, ID_TRANSACTION_ID,
};

/// PKCS #9 challengePassword (RFC 2985).
pub(crate) const CHALLENGE_PASSWORD: Oid = const_oid::db::rfc2985::PKCS_9_AT_CHALLENGE_PASSWORD;
/// PKCS #9 extensionRequest (RFC 2985).
pub(crate) const EXTENSION_REQUEST: Oid = const_oid::db::rfc2985::PKCS_9_AT_EXTENSION_REQUEST;
/// PKCS #9 randomNonce (RFC 2985), which cryptlib sends instead of senderNonce in CertReps.
pub(crate) const RANDOM_NONCE: Oid = const_oid::db::rfc2985::PKCS_9_AT_RANDOM_NONCE;

/// rsaEncryption (RFC 8017).
pub(crate) const RSA_ENCRYPTION: Oid = const_oid::db::rfc5912::RSA_ENCRYPTION;
/// md5WithRSAEncryption (refused).
pub(crate) const MD5_WITH_RSA: Oid = const_oid::db::rfc5912::MD_5_WITH_RSA_ENCRYPTION;
/// sha1WithRSAEncryption.
pub(crate) const SHA1_WITH_RSA: Oid = const_oid::db::rfc5912::SHA_1_WITH_RSA_ENCRYPTION;
/// sha256WithRSAEncryption.
pub(crate) const SHA256_WITH_RSA: Oid = const_oid::db::rfc5912::SHA_256_WITH_RSA_ENCRYPTION;
/// sha384WithRSAEncryption.
pub(crate) const SHA384_WITH_RSA: Oid = const_oid::db::rfc5912::SHA_384_WITH_RSA_ENCRYPTION;
/// sha512WithRSAEncryption.
pub(crate) const SHA512_WITH_RSA: Oid = const_oid::db::rfc5912::SHA_512_WITH_RSA_ENCRYPTION;
/// sha224WithRSAEncryption.
pub(crate) const SHA224_WITH_RSA: Oid = const_oid::db::rfc5912::SHA_224_WITH_RSA_ENCRYPTION;

/// id-ecPublicKey (RFC 5480).
pub(crate) const EC_PUBLIC_KEY: Oid = const_oid::db::rfc5912::ID_EC_PUBLIC_KEY;
/// secp256r1 / prime256v1 (RFC 5480).
pub(crate) const SECP256R1: Oid = const_oid::db::rfc5912::SECP_256_R_1;
/// ecdsa-with-SHA1 (RFC 3279).
pub(crate) const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
/// ecdsa-with-SHA224 (RFC 5758).
pub(crate) const ECDSA_WITH_SHA224: Oid = const_oid::db::rfc5912::ECDSA_WITH_SHA_224;
/// ecdsa-with-SHA256 (RFC 5758).
pub(crate) const ECDSA_WITH_SHA256: Oid = const_oid::db::rfc5912::ECDSA_WITH_SHA_256;
/// ecdsa-with-SHA384 (RFC 5758).
pub(crate) const ECDSA_WITH_SHA384: Oid = const_oid::db::rfc5912::ECDSA_WITH_SHA_384;
/// ecdsa-with-SHA512 (RFC 5758).
pub(crate) const ECDSA_WITH_SHA512: Oid = const_oid::db::rfc5912::ECDSA_WITH_SHA_512;

/// id-md5 (refused).
pub(crate) const MD5: Oid = const_oid::db::rfc5912::ID_MD_5;
/// id-sha1.
pub(crate) const SHA1: Oid = const_oid::db::rfc5912::ID_SHA_1;
/// id-sha224.
pub(crate) const SHA224: Oid = const_oid::db::rfc5912::ID_SHA_224;
/// id-sha256.
pub(crate) const SHA256: Oid = const_oid::db::rfc5912::ID_SHA_256;
/// id-sha384.
pub(crate) const SHA384: Oid = const_oid::db::rfc5912::ID_SHA_384;
/// id-sha512.
pub(crate) const SHA512: Oid = const_oid::db::rfc5912::ID_SHA_512;

/// desCBC (OIW; refused for producing, decryptable only on explicit opt-in).
pub(crate) const DES_CBC: Oid = Oid::new_unwrap("1.3.14.3.2.7");
/// des-ede3-cbc (RFC 3370).
pub(crate) const DES_EDE3_CBC: Oid = const_oid::db::rfc5911::DES_EDE_3_CBC;
/// id-aes128-CBC (RFC 3565).
pub(crate) const AES128_CBC: Oid = const_oid::db::rfc5911::ID_AES_128_CBC;
/// id-aes192-CBC (RFC 3565).
pub(crate) const AES192_CBC: Oid = const_oid::db::rfc5911::ID_AES_192_CBC;
/// id-aes256-CBC (RFC 3565).
pub(crate) const AES256_CBC: Oid = const_oid::db::rfc5911::ID_AES_256_CBC;

/// id-PBKDF2 (RFC 8018).
pub(crate) const PBKDF2: Oid = const_oid::db::rfc5911::ID_PBKDF_2;
/// id-hmacWithSHA1 (RFC 8018), PBKDF2's default PRF.
pub(crate) const HMAC_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.113549.2.7");
/// id-hmacWithSHA256 (RFC 8018).
pub(crate) const HMAC_WITH_SHA256: Oid = const_oid::db::rfc5753::ID_HMAC_WITH_SHA_256;
/// id-hmacWithSHA224 (RFC 8018).
pub(crate) const HMAC_WITH_SHA224: Oid = const_oid::db::rfc5753::ID_HMAC_WITH_SHA_224;
/// id-hmacWithSHA384 (RFC 8018).
pub(crate) const HMAC_WITH_SHA384: Oid = const_oid::db::rfc5753::ID_HMAC_WITH_SHA_384;
/// id-hmacWithSHA512 (RFC 8018).
pub(crate) const HMAC_WITH_SHA512: Oid = const_oid::db::rfc5753::ID_HMAC_WITH_SHA_512;
/// id-alg-PWRI-KEK (RFC 3211).
pub(crate) const PWRI_KEK: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.3.9");

/// id-ce-subjectKeyIdentifier.
pub(crate) const SUBJECT_KEY_IDENTIFIER: Oid = const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER;
/// id-ce-keyUsage.
pub(crate) const KEY_USAGE: Oid = const_oid::db::rfc5280::ID_CE_KEY_USAGE;
/// id-ce-subjectAltName.
pub(crate) const SUBJECT_ALT_NAME: Oid = const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME;
/// id-ce-basicConstraints.
pub(crate) const BASIC_CONSTRAINTS: Oid = const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS;
/// id-kp-cmcRA (RFC 6402 section 2.10): the extended key usage of a CMC registration
/// authority, which marks an RA certificate.
pub(crate) const ID_KP_CMC_RA: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.28");
/// id-ce-extKeyUsage.
pub(crate) const EXTENDED_KEY_USAGE: Oid = const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE;
/// id-ce-authorityKeyIdentifier.
pub(crate) const AUTHORITY_KEY_IDENTIFIER: Oid =
    const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER;
