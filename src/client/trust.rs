//! Which certificates of a GetCACert answer a client trusts, and for what: path building
//! from the pinned CA (RFC 5280 section 6.1, as far as SCEP needs it) and the RA opt-in.
//!
//! * A certificate is trusted as a **CA** when a trusted CA issued it (its issuer is that
//!   CA's subject and its signature checks under that CA's key, with a digest the policy
//!   allows), it is valid at the time given, it is a CA certificate (basicConstraints cA
//!   TRUE and, when keyUsage is present, keyCertSign), its issuer's path length constraint
//!   leaves room for it, and it has no critical extension this crate does not process
//!   (RFC 5280 section 6.1.4: name constraints, policy constraints and the like are
//!   refused, not ignored). The pinned certificate is trusted as given, if valid.
//! * The trusted CAs must form **one chain**, from the pinned certificate down to the
//!   **issuing CA**: the one the caller named (`ClientConfig::issuing_ca`), or else the
//!   deepest. A CA beside that chain (a sibling sub-CA), or below the issuing CA the caller
//!   named, is refused rather than chosen by some rule. Without a named issuing CA,
//!   pinning a CA trusts every CA below it: whoever holds the key of a sub-CA under the
//!   pinned one can answer GetCACert with it and be the issuing CA.
//! * Every other certificate is an **RA** candidate: trusted only by the caller's
//!   [`RaTrust`], valid at the time given, without unknown critical extensions.
//!
//! Each CA certificate is checked against at most [`MAX_ISSUER_CANDIDATES`] possible
//! issuers, and each RA candidate against the issuing CA once, so the signature checks are
//! linear in the number of certificates whatever their names (a chain of certificates that
//! all share one name would otherwise cost a check for every pair).

use std::collections::{HashMap, VecDeque};
use std::time::SystemTime;

use der::Encode;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};

use super::Fingerprint;
use crate::asn1::Certificate;
use crate::cert::{is_self_issued, valid_at, verify_issued_by_allowing};
use crate::error::{Distrust, Element, Error, PolicyError, Result};
use crate::oids;
use crate::pipeline::DigestAlgorithm;

/// The most signature checks made for one certificate, each against another possible
/// issuer (one with its issuer's name, and a subjectKeyIdentifier, if both are there, equal
/// to its authorityKeyIdentifier).
pub(super) const MAX_ISSUER_CANDIDATES: u8 = 4;

/// Which certificates of a GetCACert answer that are not CA certificates a client trusts
/// as a registration authority (RA): to encrypt its requests to, and to sign CertReps and
/// the GetNextCACert answer.
///
/// An RA acts for the CA, so trusting one is a decision: a certificate the CA issued to
/// anyone (an enrolled device) would otherwise read every later request and answer for the
/// CA. RFC 8894 section 2.2 has the RA's certificate issued by the CA.
///
/// # Microsoft NDES
///
/// NDES answers GetCACert with its two RA certificates and the CA: a signing certificate
/// ("Exchange Enrollment Agent (Offline request)") with digitalSignature and an encryption
/// certificate ("CEP Encryption") with keyEncipherment, both with the Certificate Request
/// Agent extended key usage (1.3.6.1.4.1.311.20.2.1) in the default templates. Pin the CA
/// and use [`RaTrust::Marked`] (or pin both RA certificates with [`RaTrust::Pinned`], which
/// is what to do when a template lacks the extended key usage); the client then encrypts
/// to the encryption certificate and accepts CertReps signed with the signing one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RaTrust {
    /// No RA (the default): the CA itself decrypts requests and signs CertReps. A
    /// GetCACert answer with a certificate that is neither a CA certificate nor the pinned
    /// one is refused ([`Distrust::NotTrustedAsRa`]).
    #[default]
    None,
    /// The RA certificates with these fingerprints (valid at the time given).
    Pinned(Vec<Fingerprint>),
    /// RA certificates issued directly by the issuing CA and each marked as an RA by an
    /// extended key usage: id-kp-cmcRA (1.3.6.1.5.5.7.3.28, RFC 6402) or Microsoft's
    /// Certificate Request Agent (1.3.6.1.4.1.311.20.2.1). The marker is the CA's word that
    /// the certificate belongs to an RA; a certificate without it is not one, whatever its
    /// subject (a CA that issues the subject a requester asks for would issue the RA's).
    Marked,
}

/// The extensions this crate processes (or that carry no constraint it must enforce); a
/// critical extension not among them makes a certificate untrusted.
const KNOWN_EXTENSIONS: [der::asn1::ObjectIdentifier; 6] = [
    oids::BASIC_CONSTRAINTS,
    oids::KEY_USAGE,
    oids::EXTENDED_KEY_USAGE,
    oids::SUBJECT_KEY_IDENTIFIER,
    oids::AUTHORITY_KEY_IDENTIFIER,
    oids::SUBJECT_ALT_NAME,
];

fn has_unknown_critical_extension(cert: &Certificate) -> bool {
    cert.tbs_certificate().extensions().is_some_and(|exts| {
        exts.iter()
            .any(|e| e.critical && !KNOWN_EXTENSIONS.contains(&e.extn_id))
    })
}

/// Microsoft's Certificate Request Agent extended key usage, which NDES's RA
/// certificates carry.
const MS_CERTIFICATE_REQUEST_AGENT: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.1");

/// The trusted certificates, by index into the answer.
#[derive(Debug)]
pub(super) struct Trusted {
    /// The issuing CA.
    pub(super) ca: usize,
    /// The RAs, in the order of the answer.
    pub(super) ras: Vec<usize>,
}

/// A certificate's keyUsage: absent (every usage allowed, RFC 5280 section 4.2.1.3), or
/// what it allows; one that does not decode allows nothing.
pub(super) fn allows(cert: &Certificate, usage: KeyUsages) -> bool {
    match cert.tbs_certificate().get_extension::<KeyUsage>() {
        Ok(None) => true,
        Ok(Some((_, ku))) => ku.0.contains(usage),
        Err(_) => false,
    }
}

/// Whether the certificate may issue certificates: basicConstraints cA TRUE and, when
/// keyUsage is present, keyCertSign.
fn is_ca(cert: &Certificate) -> bool {
    matches!(
        cert.tbs_certificate().get_extension::<BasicConstraints>(),
        Ok(Some((_, bc))) if bc.ca
    ) && allows(cert, KeyUsages::KeyCertSign)
}

/// The pathLenConstraint of a CA certificate, if it has one.
fn path_len(cert: &Certificate) -> Option<u32> {
    match cert.tbs_certificate().get_extension::<BasicConstraints>() {
        Ok(Some((_, bc))) => bc.path_len_constraint.map(u32::from),
        _ => None,
    }
}

fn has_ra_marker(cert: &Certificate) -> bool {
    matches!(
        cert.tbs_certificate().get_extension::<ExtendedKeyUsage>(),
        Ok(Some((_, eku))) if eku.0.iter().any(|o| *o == oids::ID_KP_CMC_RA
            || *o == MS_CERTIFICATE_REQUEST_AGENT)
    )
}

/// Whether `cert`'s authorityKeyIdentifier names another key than `issuer`'s
/// subjectKeyIdentifier (both present and different): then `issuer` did not issue it.
fn key_ids_differ(cert: &Certificate, issuer: &Certificate) -> bool {
    let aki = match cert
        .tbs_certificate()
        .get_extension::<AuthorityKeyIdentifier>()
    {
        Ok(Some((_, aki))) => aki.key_identifier,
        _ => None,
    };
    let ski = match issuer
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
    {
        Ok(Some((_, ski))) => Some(ski.0),
        _ => None,
    };
    matches!((aki, ski), (Some(a), Some(s)) if a != s)
}

fn distrust(cert: &Certificate, reason: Distrust) -> Error {
    PolicyError::UntrustedCertificate {
        subject: cert.tbs_certificate().subject().to_string(),
        reason,
    }
    .into()
}

/// Whether `issuer` issued `cert`: names, and the signature with an allowed digest. A
/// digest the policy refuses is an error naming the certificate.
fn issued_by(
    cert: &Certificate,
    issuer: &Certificate,
    allowed_digests: &[DigestAlgorithm],
) -> Result<bool> {
    if cert.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return Ok(false);
    }
    match verify_issued_by_allowing(
        cert,
        issuer.tbs_certificate().subject_public_key_info(),
        allowed_digests,
    ) {
        Ok(()) => Ok(true),
        Err(Error::Policy(PolicyError::DigestNotAllowed { .. })) => {
            Err(distrust(cert, Distrust::DigestNotAllowed))
        }
        Err(_) => Ok(false),
    }
}

/// A trusted CA: its index, the number of CA certificates its path length constraint
/// still allows below it (`None`: no limit), its depth below the anchor, and the index of
/// the CA that issued it (`None` for the anchor).
#[derive(Clone, Copy)]
struct Node {
    index: usize,
    remaining: Option<u32>,
    depth: usize,
    parent: Option<usize>,
}

/// Decides which of `certificates` are trusted, from the anchor `certificates[anchor]`.
///
/// # Errors
///
/// [`PolicyError::UntrustedCertificate`] naming the first certificate (in the answer's
/// order) that is not trusted, and why.
pub(super) fn build(
    certificates: &[Certificate],
    anchor: usize,
    issuing: Option<&Fingerprint>,
    ra_trust: &RaTrust,
    allowed_digests: &[DigestAlgorithm],
    now: SystemTime,
) -> Result<Trusted> {
    let anchor_cert = certificates
        .get(anchor)
        .ok_or_else(|| Error::decode(Element::GetCaCertResponse, "no trust anchor"))?;
    if !valid_at(anchor_cert, now) {
        return Err(distrust(anchor_cert, Distrust::NotValidNow));
    }
    let n = certificates.len();
    // Why a certificate is not trusted (yet); `None` once it is.
    let mut reasons: Vec<Option<Distrust>> = vec![Some(Distrust::NoTrustedIssuer); n];
    let mut attempts = vec![0u8; n];
    if let Some(r) = reasons.get_mut(anchor) {
        *r = None;
    }
    // CA certificates by the DER of their issuer name, to find them from their issuer.
    let mut by_issuer: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    for (i, c) in certificates.iter().enumerate() {
        if i != anchor
            && is_ca(c)
            && let Ok(issuer) = c.tbs_certificate().issuer().to_der()
        {
            by_issuer.entry(issuer).or_default().push(i);
        }
    }

    let root = Node {
        index: anchor,
        remaining: path_len(anchor_cert),
        depth: 0,
        parent: None,
    };
    let mut cas = vec![root];
    let mut queue = VecDeque::from([root]);
    while let Some(parent) = queue.pop_front() {
        let Some(issuer) = certificates.get(parent.index) else {
            continue;
        };
        let Ok(subject) = issuer.tbs_certificate().subject().to_der() else {
            continue;
        };
        for &i in by_issuer.get(&subject).map_or(&[][..], Vec::as_slice) {
            let (Some(cert), Some(count)) = (certificates.get(i), attempts.get_mut(i)) else {
                continue;
            };
            let reason = reasons.get(i).copied().flatten();
            if reason.is_none() || *count >= MAX_ISSUER_CANDIDATES || key_ids_differ(cert, issuer) {
                continue;
            }
            *count = count.saturating_add(1);
            if !issued_by(cert, issuer, allowed_digests)? {
                continue;
            }
            let verdict = if !valid_at(cert, now) {
                Err(Distrust::NotValidNow)
            } else if has_unknown_critical_extension(cert) {
                Err(Distrust::UnknownCriticalExtension)
            } else if is_self_issued(cert) {
                // Self-issued certificates (a CA's new key) do not count towards path
                // length (RFC 5280 section 4.2.1.9).
                Ok(parent.remaining)
            } else {
                match parent.remaining {
                    Some(0) => Err(Distrust::PathLengthExceeded),
                    r => Ok(r.map(|r| r.saturating_sub(1))),
                }
            };
            match verdict {
                Err(why) => {
                    if let Some(r) = reasons.get_mut(i) {
                        *r = Some(why);
                    }
                }
                Ok(remaining) => {
                    if let Some(r) = reasons.get_mut(i) {
                        *r = None;
                    }
                    let remaining = match (remaining, path_len(cert)) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    let node = Node {
                        index: i,
                        remaining,
                        depth: parent.depth.saturating_add(1),
                        parent: Some(parent.index),
                    };
                    cas.push(node);
                    queue.push_back(node);
                }
            }
        }
    }

    // The issuing CA: the one named, else the deepest (at equal depth one that is not
    // self-issued: a CA's certificate for its own new key is a link, not a CA below).
    // Every other trusted CA must be on its chain, or be such a link of a CA on it (same
    // name, issued by a trusted key: only that CA can have made it).
    let self_issued = |i: usize| certificates.get(i).is_some_and(is_self_issued);
    let deepest = match issuing {
        Some(pin) => cas
            .iter()
            .copied()
            .find(|node| certificates.get(node.index).is_some_and(|c| pin.matches(c)))
            .ok_or(PolicyError::CaPinMismatch)?,
        None => cas
            .iter()
            .copied()
            .max_by_key(|node| (node.depth, !self_issued(node.index)))
            .unwrap_or(root),
    };
    let mut chain = vec![deepest.index];
    let mut at = deepest.parent;
    while let Some(i) = at {
        chain.push(i);
        at = cas.iter().find(|n| n.index == i).and_then(|n| n.parent);
    }
    let subject_of = |i: usize| certificates.get(i).map(|c| c.tbs_certificate().subject());
    for node in &cas {
        let on_chain = chain.contains(&node.index)
            || (self_issued(node.index)
                && chain
                    .iter()
                    .any(|&c| subject_of(c) == subject_of(node.index)));
        if !on_chain && let Some(r) = reasons.get_mut(node.index) {
            *r = Some(Distrust::OffTheChain);
        }
    }
    let ca = deepest.index;
    let ca_cert = certificates.get(ca).unwrap_or(anchor_cert);

    // The rest: RA candidates.
    let mut ras = Vec::new();
    for (i, c) in certificates.iter().enumerate() {
        if reasons.get(i).copied().flatten().is_none() || is_ca(c) {
            continue;
        }
        let verdict = match ra_trust {
            RaTrust::None => Err(Distrust::NotTrustedAsRa),
            RaTrust::Pinned(pins) if pins.iter().any(|p| p.matches(c)) => Ok(()),
            RaTrust::Pinned(_) => Err(Distrust::NotTrustedAsRa),
            RaTrust::Marked if !issued_by(c, ca_cert, allowed_digests)? => {
                Err(Distrust::NoTrustedIssuer)
            }
            RaTrust::Marked if has_ra_marker(c) => Ok(()),
            RaTrust::Marked => Err(Distrust::NotTrustedAsRa),
        }
        .and_then(|()| {
            if !valid_at(c, now) {
                Err(Distrust::NotValidNow)
            } else if has_unknown_critical_extension(c) {
                Err(Distrust::UnknownCriticalExtension)
            } else {
                Ok(())
            }
        });
        match verdict {
            Ok(()) => ras.push(i),
            Err(why) => {
                if let Some(r) = reasons.get_mut(i) {
                    *r = Some(why);
                }
            }
        }
    }
    ras.sort_unstable();
    for (i, c) in certificates.iter().enumerate() {
        if ras.contains(&i) {
            continue;
        }
        if let Some(Some(why)) = reasons.get(i) {
            return Err(distrust(c, *why));
        }
    }
    Ok(Trusted { ca, ras })
}
