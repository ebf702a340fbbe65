//! SignedData (RFC 5652 section 5): the outer layer of every pkiMessage, and the
//! degenerate certs-only form that carries certificates and CRLs.
//!
//! ```text
//! SignedData ::= SEQUENCE {
//!   version CMSVersion,
//!   digestAlgorithms DigestAlgorithmIdentifiers,
//!   encapContentInfo EncapsulatedContentInfo,
//!   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!   signerInfos SignerInfos }
//!
//! SignerInfo ::= SEQUENCE {
//!   version CMSVersion,
//!   sid SignerIdentifier,
//!   digestAlgorithm DigestAlgorithmIdentifier,
//!   signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//!   signatureAlgorithm SignatureAlgorithmIdentifier,
//!   signature SignatureValue,
//!   unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
//! ```
//!
//! Verification (RFC 5652 section 5.6) is ours: the `cms` crate only encodes and decodes.
//! The signature covers the DER encoding of the signed attributes with an explicit SET OF
//! tag. The `der` crate sorts SET OF elements when it decodes, so a sender that did not sort
//! its attributes signed bytes that re-encoding would not reproduce: verification therefore
//! first tries the DER re-encoding and then the attribute bytes exactly as received.

use cms::content_info::CmsVersion;
use cms::signed_data::EncapsulatedContentInfo;
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Tag, Tagged};
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::asn1::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use crate::asn1::{Certificate, CertificateList, IssuerAndSerialNumber};

use crate::asn1::attribute::{self, required_value, to_any};
use crate::error::{AlgorithmError, Element, Error, LimitKind, ProtocolError, Result};
use crate::limits::Limits;
use crate::oids;
use crate::pipeline::algorithms::{DigestAlgorithm, KeyAlgorithm, signature_algorithm};
use crate::pipeline::content_info;
use crate::pipeline::keys::{MessageSigner, verify_prehashed};

/// What goes into a signed pkiMessage.
pub(crate) struct SignRequest<'a> {
    /// The encapsulated id-data content (the pkcsPKIEnvelope), or `None` for CertReps that
    /// carry none (FAILURE, PENDING).
    pub content: Option<&'a [u8]>,
    /// The SCEP authenticated attributes (contentType and messageDigest are added here).
    pub attributes: Vec<Attribute>,
    /// The digest algorithm.
    pub digest: DigestAlgorithm,
    /// The signing key.
    pub signer: &'a dyn MessageSigner,
    /// The signer's certificate, always included in the message.
    pub signer_certificate: &'a Certificate,
    /// Further certificates to include (e.g. the CA chain).
    pub extra_certificates: &'a [Certificate],
}

fn digest_algorithm_identifier(digest: DigestAlgorithm) -> AlgorithmIdentifierOwned {
    // RFC 5754 section 2: SHA-2 identifiers are generated with absent parameters.
    AlgorithmIdentifierOwned {
        oid: digest.oid(),
        parameters: None,
    }
}

/// Encodes values as a SET OF `Any`, dropping duplicates; `None` when empty.
fn any_set<'t, T: Encode + 't>(
    element: Element,
    items: impl IntoIterator<Item = &'t T>,
) -> Result<Option<SetOfVec<Any>>> {
    let mut set = SetOfVec::new();
    for item in items {
        let any = to_any(element, item)?;
        if set.iter().any(|c| *c == any) {
            continue;
        }
        set.insert(any).map_err(|e| Error::encode(element, e))?;
    }
    Ok(if set.is_empty() { None } else { Some(set) })
}

fn wrap_content_info(signed: &SignedData) -> Result<Vec<u8>> {
    content_info::wrap(oids::ID_SIGNED_DATA, signed, Element::SignedData)
}

/// Builds and signs a pkiMessage SignedData; returns the DER ContentInfo.
pub(crate) fn sign(req: SignRequest<'_>) -> Result<Vec<u8>> {
    let digest = req.digest;
    let key_alg = req.signer.key_algorithm();

    // The certificate must belong to the key: a mismatch would produce a message that no
    // peer can verify, so it is caught here rather than there.
    let cert_spki = req
        .signer_certificate
        .tbs_certificate()
        .subject_public_key_info();
    let key_spki = req.signer.public_key_info()?;
    if cert_spki.to_der().ok() != key_spki.to_der().ok() {
        return Err(Error::key(
            "the signer certificate's public key is not the signing key's",
        ));
    }

    let content_digest = digest.digest(req.content.unwrap_or(&[]));
    let mut attrs = SetOfVec::new();
    attrs
        .insert(attribute::object_identifier(
            oids::ID_CONTENT_TYPE,
            oids::ID_DATA,
        )?)
        .map_err(|e| Error::encode(Element::SignedAttrs, e))?;
    attrs
        .insert(attribute::octets(oids::ID_MESSAGE_DIGEST, &content_digest)?)
        .map_err(|e| Error::encode(Element::SignedAttrs, e))?;
    for attr in req.attributes {
        if attr.oid == oids::ID_CONTENT_TYPE || attr.oid == oids::ID_MESSAGE_DIGEST {
            continue;
        }
        attrs
            .insert(attr)
            .map_err(|e| Error::encode(Element::SignedAttrs, e))?;
    }
    let signed_attrs_der = attrs
        .to_der()
        .map_err(|e| Error::encode(Element::SignedAttrs, e))?;
    let hashed = digest.digest(&signed_attrs_der);
    let signature = req.signer.sign_prehashed(digest, &hashed)?;

    // RSA SignerInfos use rsaEncryption (as OpenSSL, cryptlib and most SCEP peers do);
    // ECDSA ones name the digest.
    let signature_algorithm = match key_alg {
        KeyAlgorithm::Rsa => AlgorithmIdentifierOwned {
            oid: oids::RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        KeyAlgorithm::EcdsaP256 => AlgorithmIdentifierOwned {
            oid: key_alg.signature_oid(digest),
            parameters: None,
        },
    };

    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber::of(
            req.signer_certificate,
        )),
        digest_alg: digest_algorithm_identifier(digest),
        signed_attrs: Some(attrs),
        signature_algorithm,
        signature: OctetString::new(signature).map_err(|e| Error::encode(Element::Signature, e))?,
        unsigned_attrs: None,
    };

    let econtent = match req.content {
        Some(c) => Some(to_any(
            Element::EContent,
            &OctetString::new(c).map_err(|e| Error::encode(Element::EContent, e))?,
        )?),
        None => None,
    };

    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms
        .insert(digest_algorithm_identifier(digest))
        .map_err(|e| Error::encode(Element::DigestAlgorithms, e))?;
    let mut signer_infos = SetOfVec::new();
    signer_infos
        .insert(signer_info)
        .map_err(|e| Error::encode(Element::SignerInfos, e))?;

    let certs = core::iter::once(req.signer_certificate).chain(req.extra_certificates.iter());
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oids::ID_DATA,
            econtent,
        },
        certificates: any_set(Element::SignedDataCertificates, certs)?,
        crls: None,
        signer_infos,
    };
    wrap_content_info(&signed)
}

/// Builds a degenerate certs-only SignedData (RFC 8894 section 3.4; RFC 5652 section 5):
/// no signers, no content, the certificates and CRLs given. Returns the DER ContentInfo.
pub fn certs_only(certificates: &[Certificate], crls: &[CertificateList]) -> Result<Vec<u8>> {
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oids::ID_DATA,
            econtent: None,
        },
        certificates: any_set(Element::SignedDataCertificates, certificates)?,
        crls: any_set(Element::SignedDataCrls, crls)?,
        signer_infos: SetOfVec::new(),
    };
    wrap_content_info(&signed)
}

/// A SignedData as received, decoded but not verified.
#[derive(Debug, Clone)]
pub(crate) struct ParsedSignedData {
    /// eContentType.
    pub content_type: ObjectIdentifier,
    /// The eContent octets, if present.
    pub content: Option<Vec<u8>>,
    /// The certificates carried (other certificate formats are skipped).
    pub certificates: Vec<Certificate>,
    /// The CRLs carried (other revocation formats are skipped).
    pub crls: Vec<CertificateList>,
    /// The SignerInfos.
    pub signer_infos: Vec<SignerInfo>,
    /// The first SignerInfo's signed attributes exactly as received, re-tagged as SET.
    pub raw_signed_attrs: Option<Vec<u8>>,
}

/// Decodes a (BER or DER) ContentInfo holding SignedData.
pub(crate) fn parse(input: &[u8], limits: &Limits) -> Result<ParsedSignedData> {
    let content = content_info::open(
        input,
        limits,
        oids::ID_SIGNED_DATA,
        Element::ContentInfo,
        "the pkiMessage ContentInfo is not id-signedData",
    )?;
    let inner = content
        .to_der()
        .map_err(|e| Error::decode(Element::ContentInfoContent, e))?;
    let signed = SignedData::from_der(&inner).map_err(|e| Error::decode(Element::SignedData, e))?;

    let content = match &signed.encap_content_info.econtent {
        None => None,
        Some(any) => {
            let octets = any
                .decode_as::<OctetString>()
                .map_err(|e| Error::decode(Element::EncapsulatedContentInfoEContent, e))?;
            Some(octets.into_bytes().into_vec())
        }
    };

    let mut certificates = Vec::new();
    if let Some(set) = &signed.certificates {
        if set.len() > limits.max_certificates {
            return Err(Error::Limit {
                what: LimitKind::Certificates,
                limit: limits.max_certificates,
            });
        }
        // CertificateChoices: only plain certificates (SEQUENCE) are used; attribute and
        // other certificate formats are skipped.
        for any in set.iter().filter(|a| a.tag() == Tag::Sequence) {
            certificates.push(
                any.decode_as::<Certificate>()
                    .map_err(|e| Error::decode(Element::SignedDataCertificates, e))?,
            );
        }
    }
    let mut crls = Vec::new();
    if let Some(set) = &signed.crls {
        if set.len() > limits.max_certificates {
            return Err(Error::Limit {
                what: LimitKind::Crls,
                limit: limits.max_certificates,
            });
        }
        for any in set.iter().filter(|a| a.tag() == Tag::Sequence) {
            crls.push(
                any.decode_as::<CertificateList>()
                    .map_err(|e| Error::decode(Element::SignedDataCrls, e))?,
            );
        }
    }
    if signed.signer_infos.len() > limits.max_certificates {
        return Err(Error::Limit {
            what: LimitKind::SignerInfos,
            limit: limits.max_certificates,
        });
    }
    let signer_infos: Vec<SignerInfo> = signed.signer_infos.iter().cloned().collect();
    for si in &signer_infos {
        for (what, attrs) in [
            (LimitKind::SignedAttributes, &si.signed_attrs),
            (LimitKind::UnsignedAttributes, &si.unsigned_attrs),
        ] {
            if attrs.as_ref().map_or(0, |a| a.len()) > limits.max_attributes {
                return Err(Error::Limit {
                    what,
                    limit: limits.max_attributes,
                });
            }
        }
    }
    let raw_signed_attrs = raw_first_signed_attrs(&inner);

    Ok(ParsedSignedData {
        content_type: signed.encap_content_info.econtent_type,
        content,
        certificates,
        crls,
        signer_infos,
        raw_signed_attrs,
    })
}

/// One DER TLV split off the front of the input: (tag octet, whole encoding, contents,
/// what follows).
type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// Splits one TLV off `input`. Only what SignedData needs: low tag numbers and definite
/// lengths (the input has been through the normaliser).
fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(n)?;
        let len = bytes.iter().try_fold(0usize, |acc, b| {
            acc.checked_mul(256)?.checked_add(usize::from(*b))
        })?;
        (len, rest)
    };
    let (contents, after) = rest.split_at_checked(len)?;
    let header_len = input.len().checked_sub(rest.len())?;
    let whole = input.get(..header_len.checked_add(len)?)?;
    Some((tag, whole, contents, after))
}

/// The first SignerInfo's `[0] IMPLICIT` signed attributes as received, with the SET tag.
fn raw_first_signed_attrs(signed_data_der: &[u8]) -> Option<Vec<u8>> {
    let (_, _, body, _) = tlv(signed_data_der)?;
    let mut rest = body;
    let mut signer_infos = None;
    while !rest.is_empty() {
        let (tag, _, contents, after) = tlv(rest)?;
        // signerInfos is the last SET in SignedData (digestAlgorithms is the first).
        if tag == 0x31 {
            signer_infos = Some(contents);
        }
        rest = after;
    }
    let (_, _, si_body, _) = tlv(signer_infos?)?;
    let mut rest = si_body;
    while !rest.is_empty() {
        let (tag, whole, _, after) = tlv(rest)?;
        if tag == 0xA0 {
            let mut out = whole.to_vec();
            if let Some(first) = out.first_mut() {
                *first = 0x31;
            }
            return Some(out);
        }
        rest = after;
    }
    None
}

/// The outcome of a successful verification.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    /// The certificate whose key made the signature.
    pub signer: Certificate,
}

/// Finds the certificate a SignerInfo names, among `certs` then `extra`.
pub(crate) fn find_signer<'a>(
    sid: &SignerIdentifier,
    certs: &'a [Certificate],
    extra: &'a [Certificate],
) -> Option<&'a Certificate> {
    certs.iter().chain(extra.iter()).find(|c| match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => ias.matches(c),
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            crate::asn1::cert::has_subject_key_identifier(c, ski.as_bytes())
        }
    })
}

/// The digest and signature algorithms of a SignerInfo, checked for consistency.
pub(crate) fn signer_algorithms(si: &SignerInfo) -> Result<(DigestAlgorithm, KeyAlgorithm)> {
    let digest = DigestAlgorithm::from_oid(Element::SignerInfoDigestAlgorithm, &si.digest_alg.oid)?;
    let (key_alg, implied) = signature_algorithm(
        Element::SignerInfoSignatureAlgorithm,
        &si.signature_algorithm.oid,
    )?;
    if let Some(implied) = implied.filter(|i| *i != digest) {
        {
            return Err(AlgorithmError::BadParameters {
                element: Element::SignerInfoSignatureAlgorithm,
                detail: format!(
                    "the signature algorithm implies {implied} but digestAlgorithm is {digest}"
                ),
            }
            .into());
        }
    }
    Ok((digest, key_alg))
}

/// Verifies the single SignerInfo of a pkiMessage (RFC 5652 section 5.6).
pub(crate) fn verify(parsed: &ParsedSignedData, extra: &[Certificate]) -> Result<Verified> {
    let si = match parsed.signer_infos.as_slice() {
        [si] => si,
        [] => {
            return Err(
                ProtocolError::UnexpectedContent("the SignedData has no SignerInfo").into(),
            );
        }
        _ => {
            return Err(ProtocolError::UnexpectedContent(
                "a pkiMessage has exactly one SignerInfo; this one has several",
            )
            .into());
        }
    };
    let (digest, key_alg) = signer_algorithms(si)?;
    let signer = find_signer(&si.sid, &parsed.certificates, extra)
        .ok_or(crate::error::CryptoError::SignerNotFound)?;
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or(ProtocolError::MissingAttribute(Element::SignedAttrs))?;

    // contentType must be present and match eContentType (RFC 5652 section 11.1).
    let content_type = required_value(attrs.iter(), oids::ID_CONTENT_TYPE, Element::ContentType)?
        .decode_as::<ObjectIdentifier>()
        .map_err(|e| Error::decode(Element::ContentType, e))?;
    if content_type != parsed.content_type {
        return Err(ProtocolError::WrongContentType(
            "the contentType attribute differs from eContentType",
        )
        .into());
    }
    let message_digest = required_value(
        attrs.iter(),
        oids::ID_MESSAGE_DIGEST,
        Element::MessageDigest,
    )?
    .decode_as::<OctetString>()
    .map_err(|e| Error::decode(Element::MessageDigest, e))?;
    let expected = digest.digest(parsed.content.as_deref().unwrap_or(&[]));
    if message_digest.as_bytes() != expected.as_slice() {
        return Err(crate::error::CryptoError::MessageDigestMismatch.into());
    }

    let spki = signer.tbs_certificate().subject_public_key_info();
    let signature = si.signature.as_bytes();
    let reencoded = attrs
        .to_der()
        .map_err(|e| Error::encode(Element::SignedAttrs, e))?;
    let first = verify_prehashed(spki, key_alg, digest, &digest.digest(&reencoded), signature);
    match (first, &parsed.raw_signed_attrs) {
        (Ok(()), _) => {}
        (Err(e), Some(raw)) if *raw != reencoded => {
            verify_prehashed(spki, key_alg, digest, &digest.digest(raw), signature)
                .map_err(|_| e)?;
        }
        (Err(e), _) => return Err(e),
    }
    Ok(Verified {
        signer: signer.clone(),
    })
}

/// Decodes a degenerate certs-only SignedData (GetCACert chain, CertRep SUCCESS payload).
///
/// Returns its certificates and CRLs. SignerInfos, if any, are ignored: this structure
/// carries no signed content, so there is nothing they could vouch for.
pub fn parse_certs_only(
    input: &[u8],
    limits: &Limits,
) -> Result<(Vec<Certificate>, Vec<CertificateList>)> {
    let parsed = parse(input, limits)?;
    Ok((parsed.certificates, parsed.crls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_rejects_truncation() {
        assert!(tlv(&[0x30]).is_none());
        assert!(tlv(&[0x30, 0x05, 0x00]).is_none());
        assert!(tlv(&[0x30, 0x85, 0, 0, 0, 0, 1]).is_none());
        let (tag, whole, contents, after) = tlv(&[0x04, 0x01, 0xAA, 0xBB]).unwrap();
        assert_eq!(
            (tag, whole, contents, after),
            (0x04, &[4u8, 1, 0xAA][..], &[0xAAu8][..], &[0xBBu8][..])
        );
    }

    #[test]
    fn certs_only_round_trip_empty() {
        let der = certs_only(&[], &[]).unwrap();
        let (certs, crls) = parse_certs_only(&der, &Limits::default()).unwrap();
        assert!(certs.is_empty() && crls.is_empty());
    }
}
