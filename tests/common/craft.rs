//! Crafting pkiMessages the way an attacker does: any content (a chosen envelope, a
//! replayed RecipientInfo), signed with any key. Shared by `tests/attacks.rs` and
//! `benches/failures.rs` (through `#[path]`), so it depends on nothing else of `tests/`.
#![allow(dead_code)]

use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::EncryptedContentInfo;
use cms::signed_data::EncapsulatedContentInfo;
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode};
use scep::asn1::EnvelopedData;
use scep::asn1::{Certificate, IssuerAndSerialNumber};
use scep::asn1::{SignedData, SignerIdentifier, SignerInfo};
use scep::message::PkiMessage;
use scep::message::ScepAttributes;
use scep::{DigestAlgorithm, KeyAlgorithm, MessageSigner, MessageType, Nonce, TransactionId};
use x509_cert::spki::AlgorithmIdentifierOwned;

/// Signs `content` (a pkcsPKIEnvelope, or anything) as a pkiMessage with the SCEP
/// attributes `attrs`, by `key` / `cert`, with SHA-256 (or `digest`).
pub fn sign_message(
    attrs: &ScepAttributes,
    content: &[u8],
    key: &dyn MessageSigner,
    cert: &Certificate,
    digest: DigestAlgorithm,
) -> Vec<u8> {
    let signature_algorithm = match key.key_algorithm() {
        KeyAlgorithm::Rsa => AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        other => AlgorithmIdentifierOwned {
            oid: other.signature_oid(digest),
            parameters: None,
        },
    };
    assemble(
        attrs,
        content,
        cert,
        digest.oid(),
        &|data| digest.digest(data).to_vec(),
        &|hashed| key.sign_prehashed(digest, hashed).unwrap(),
        signature_algorithm,
    )
}

/// [`sign_message`] with MD5 (which this crate refuses to produce, RFC 8894 section 2.9)
/// and an RSA key: what an old client sends.
pub fn sign_message_md5(
    attrs: &ScepAttributes,
    content: &[u8],
    key: &rsa::PrivateKey,
    cert: &Certificate,
) -> Vec<u8> {
    use md5::Digest as _;
    assemble(
        attrs,
        content,
        cert,
        const_oid::db::rfc5912::ID_MD_5,
        &|data| md5::Md5::digest(data).to_vec(),
        &|hashed| {
            key.sign(rsa::pkcs1v15::Pkcs1v15Sign::new::<md5::Md5>(), hashed)
                .unwrap()
        },
        AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
    )
}

/// The pkiMessage: `content` and the signed attributes hashed with `hash`, the attributes
/// signed with `sign`.
fn assemble(
    attrs: &ScepAttributes,
    content: &[u8],
    cert: &Certificate,
    digest_oid: ObjectIdentifier,
    hash: &dyn Fn(&[u8]) -> Vec<u8>,
    sign: &dyn Fn(&[u8]) -> Vec<u8>,
    signature_algorithm: AlgorithmIdentifierOwned,
) -> Vec<u8> {
    let mut signed_attrs = SetOfVec::new();
    let single = |oid, value: Any| x509_cert::attr::Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).unwrap(),
    };
    signed_attrs
        .insert(single(
            const_oid::db::rfc5911::ID_CONTENT_TYPE,
            Any::encode_from(&const_oid::db::rfc5911::ID_DATA).unwrap(),
        ))
        .unwrap();
    signed_attrs
        .insert(single(
            const_oid::db::rfc5911::ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(hash(content)).unwrap()).unwrap(),
        ))
        .unwrap();
    for attr in attrs.to_attributes().unwrap() {
        signed_attrs.insert(attr).unwrap();
    }
    let signature = sign(&hash(&signed_attrs.to_der().unwrap()));
    let digest_alg = AlgorithmIdentifierOwned {
        oid: digest_oid,
        parameters: None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber::of(cert)),
        digest_alg: digest_alg.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm,
        signature: OctetString::new(signature).unwrap(),
        unsigned_attrs: None,
    };
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![digest_alg]).unwrap(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: const_oid::db::rfc5911::ID_DATA,
            econtent: Some(Any::encode_from(&OctetString::new(content).unwrap()).unwrap()),
        },
        certificates: Some(SetOfVec::try_from(vec![Any::encode_from(cert).unwrap()]).unwrap()),
        crls: None,
        signer_infos: SetOfVec::try_from(vec![signer_info]).unwrap(),
    };
    ContentInfo {
        content_type: const_oid::db::rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&signed).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// A request's attributes with a fresh nonce.
pub fn request_attrs(message_type: MessageType, transaction_id: &str) -> ScepAttributes {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    ScepAttributes::request(
        message_type,
        TransactionId::new(transaction_id).unwrap(),
        Nonce::generate(&mut rng),
    )
}

/// The EnvelopedData inside a pkiMessage.
pub fn envelope_of(message: &[u8]) -> EnvelopedData {
    let m = PkiMessage::decode(message, &Default::default()).unwrap();
    ContentInfo::from_der(m.envelope().unwrap())
        .unwrap()
        .content
        .decode_as::<EnvelopedData>()
        .unwrap()
}

/// The IV and the ciphertext of an envelope (CBC).
pub fn iv_and_ciphertext(env: &EnvelopedData) -> (Vec<u8>, Vec<u8>) {
    let eci = &env.encrypted_content;
    let iv = eci
        .content_enc_alg
        .parameters
        .as_ref()
        .unwrap()
        .decode_as::<OctetString>()
        .unwrap()
        .as_bytes()
        .to_vec();
    let ciphertext = eci.encrypted_content.as_ref().unwrap().as_bytes().to_vec();
    (iv, ciphertext)
}

/// An envelope with the given RecipientInfos (as they are encoded), cipher, IV and
/// ciphertext.
pub fn envelope(
    version: CmsVersion,
    recipients: Vec<Any>,
    cipher: ObjectIdentifier,
    iv: &[u8],
    ciphertext: &[u8],
) -> Vec<u8> {
    let env = EnvelopedData {
        version,
        originator_info: None,
        recip_infos: SetOfVec::from_iter(recipients).unwrap(),
        encrypted_content: EncryptedContentInfo {
            content_type: const_oid::db::rfc5911::ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: cipher,
                parameters: Some(Any::encode_from(&OctetString::new(iv).unwrap()).unwrap()),
            },
            encrypted_content: Some(OctetString::new(ciphertext).unwrap()),
        },
        unprotected_attrs: None,
    };
    ContentInfo {
        content_type: const_oid::db::rfc5911::ID_ENVELOPED_DATA,
        content: Any::encode_from(&env).unwrap(),
    }
    .to_der()
    .unwrap()
}
