//! Certificates: signing new ones (a SCEP client's self-signed certificate, a CA issuing
//! from a request), conversion from x509-cert's default profile, and key matching.
//!
//! The signing goes through [`MessageSigner`], so a CA key in an HSM can issue.

use std::sync::Arc;
use std::time::SystemTime;

use der::asn1::{BitString, GeneralizedTime, UtcTime};
use der::{Decode, Encode, Sequence};
use rand_core::CryptoRng;
use x509_cert::certificate::{Raw, Version};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

use crate::asn1::{Certificate, SerialNumber};
use crate::error::{Element, Error, Result};
use crate::pipeline::{DigestAlgorithm, KeyAlgorithm, MessageSigner};

/// A signing identity: a certificate and the key it certifies, checked to belong
/// together. The key is shared (`Arc`), so an identity is `Send + Sync + 'static` and lives
/// across an `.await`; a key in an HSM is a [`MessageSigner`] like any other.
///
/// The client signs its requests with one (a self-signed certificate for an initial
/// enrolment, RFC 8894 section 2.3, or the certificate being renewed) and the server its
/// CertReps (the CA's or an RA's, [`Server::new`](crate::server::Server::new)).
#[derive(Clone)]
pub struct Identity {
    key: Arc<dyn MessageSigner + Send + Sync>,
    certificate: Certificate,
}

impl core::fmt::Debug for Identity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Identity")
            .field("certificate", &self.certificate.tbs_certificate().subject())
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// An identity from a certificate and its key; the key must be the certificate's
    /// ([`Error::Key`] otherwise).
    pub fn new(
        certificate: Certificate,
        key: Arc<dyn MessageSigner + Send + Sync>,
    ) -> Result<Self> {
        if !certifies_key(&certificate, &key.public_key_info()?) {
            return Err(Error::key(
                "the signing key does not belong to the signing certificate",
            ));
        }
        Ok(Self { key, certificate })
    }

    /// An identity from parts that may be missing (command-line options, configuration):
    /// a certificate without its key, or a key without its certificate, is an
    /// [`Error::Key`] saying which is missing.
    pub fn from_parts(
        certificate: Option<Certificate>,
        key: Option<Arc<dyn MessageSigner + Send + Sync>>,
    ) -> Result<Self> {
        match (certificate, key) {
            (Some(c), Some(k)) => Self::new(c, k),
            (Some(_), None) => Err(Error::key(
                "a signing certificate was given without its key",
            )),
            (None, Some(_)) => Err(Error::key(
                "a signing key was given without its certificate",
            )),
            (None, None) => Err(Error::key("no signing certificate and key were given")),
        }
    }

    /// A fresh self-signed identity for `key` (RFC 8894 section 2.3), valid from `now`
    /// for `validity`.
    pub fn self_signed<R: CryptoRng + ?Sized>(
        key: Arc<dyn MessageSigner + Send + Sync>,
        subject: &Name,
        now: SystemTime,
        validity: core::time::Duration,
        rng: &mut R,
    ) -> Result<Self> {
        let not_after = now
            .checked_add(validity)
            .ok_or_else(|| Error::encode(Element::Validity, "too long"))?;
        let certificate = self_signed_certificate(key.as_ref(), subject, now, not_after, rng)?;
        Ok(Self { key, certificate })
    }

    /// The certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The key.
    pub fn key(&self) -> &(dyn MessageSigner + Send + Sync) {
        self.key.as_ref()
    }

    /// The key, shared.
    pub fn shared_key(&self) -> &Arc<dyn MessageSigner + Send + Sync> {
        &self.key
    }
}

/// What goes into a certificate.
#[derive(Clone, Debug)]
#[expect(
    clippy::exhaustive_structs,
    reason = "a parameter struct built with a literal; a new field is meant to break the build"
)]
pub struct CertificateParams {
    /// The serial number (see [`random_serial`]).
    pub serial_number: SerialNumber,
    /// The subject name.
    pub subject: Name,
    /// The subject's public key.
    pub public_key: SubjectPublicKeyInfoOwned,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
    /// Extensions, in order.
    pub extensions: Vec<Extension>,
}

/// `TBSCertificate` (RFC 5280 section 4.1), as this crate writes it (v3, no unique IDs).
#[derive(Clone, Debug, Sequence)]
struct TbsCertificateOut {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: Version,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity<Raw>,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// `Certificate` (RFC 5280 section 4.1) around an encoded TBSCertificate.
#[derive(Clone, Debug, Sequence)]
struct CertificateOut {
    tbs_certificate: der::asn1::Any,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// Converts a time to the RFC 5280 encoding: UTCTime through 2049, GeneralizedTime after.
pub(crate) fn rfc5280_time(t: SystemTime) -> Result<Time> {
    let since = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| Error::encode(Element::Validity, "time before 1970"))?;
    let dt = der::DateTime::from_unix_duration(since)
        .map_err(|e| Error::encode(Element::Validity, e))?;
    if dt.year() < 2050 {
        UtcTime::from_date_time(dt)
            .map(Time::UtcTime)
            .map_err(|e| Error::encode(Element::Validity, e))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_date_time(dt)))
    }
}

/// Signs a certificate for `params` with `signer`, naming `issuer` as its issuer.
///
/// For a self-signed certificate pass the subject as issuer and the subject's own key.
pub fn issue(
    params: &CertificateParams,
    issuer: &Name,
    signer: &dyn MessageSigner,
    digest: DigestAlgorithm,
) -> Result<Certificate> {
    let alg =
        crate::pipeline::algorithms::signature_algorithm_identifier(signer.key_algorithm(), digest);
    let tbs = TbsCertificateOut {
        version: Version::V3,
        serial_number: params.serial_number.clone(),
        signature: alg.clone(),
        issuer: issuer.clone(),
        validity: Validity::new(
            rfc5280_time(params.not_before)?,
            rfc5280_time(params.not_after)?,
        ),
        subject: params.subject.clone(),
        subject_public_key_info: params.public_key.clone(),
        extensions: if params.extensions.is_empty() {
            None
        } else {
            Some(params.extensions.clone())
        },
    };
    let tbs_der = tbs
        .to_der()
        .map_err(|e| Error::encode(Element::TbsCertificate, e))?;
    let signature = signer.sign_prehashed(digest, &digest.digest(&tbs_der))?;
    let cert = CertificateOut {
        tbs_certificate: der::asn1::Any::from_der(&tbs_der)
            .map_err(|e| Error::encode(Element::TbsCertificate, e))?,
        signature_algorithm: alg,
        signature: BitString::from_bytes(&signature)
            .map_err(|e| Error::encode(Element::CertificateSignature, e))?,
    };
    let der = cert
        .to_der()
        .map_err(|e| Error::encode(Element::Certificate, e))?;
    Certificate::from_der(&der).map_err(|e| Error::encode(Element::Certificate, e))
}

/// Signs a CRL (RFC 5280 section 5) for `issuer` with `signer`: version 2, `this_update`,
/// `next_update`, and the `revoked` serial numbers with their revocation times.
pub fn issue_crl(
    issuer: &Name,
    signer: &dyn MessageSigner,
    digest: DigestAlgorithm,
    this_update: SystemTime,
    next_update: SystemTime,
    revoked: &[(SerialNumber, SystemTime)],
) -> Result<crate::asn1::CertificateList> {
    use x509_cert::crl::{RevokedCert, TbsCertList};
    let alg =
        crate::pipeline::algorithms::signature_algorithm_identifier(signer.key_algorithm(), digest);
    let mut entries = Vec::with_capacity(revoked.len());
    for (serial, when) in revoked {
        entries.push(RevokedCert::<Raw> {
            serial_number: serial.clone(),
            revocation_date: rfc5280_time(*when)?,
            crl_entry_extensions: None,
        });
    }
    let tbs = TbsCertList::<Raw> {
        version: Version::V2,
        signature: alg.clone(),
        issuer: issuer.clone(),
        this_update: rfc5280_time(this_update)?,
        next_update: Some(rfc5280_time(next_update)?),
        revoked_certificates: if entries.is_empty() {
            None
        } else {
            Some(entries)
        },
        crl_extensions: None,
    };
    let tbs_der = tbs
        .to_der()
        .map_err(|e| Error::encode(Element::TbsCertList, e))?;
    let signature = signer.sign_prehashed(digest, &digest.digest(&tbs_der))?;
    Ok(crate::asn1::CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(&signature)
            .map_err(|e| Error::encode(Element::CrlSignature, e))?,
    })
}

/// A random positive serial number of 16 octets (RFC 5280 section 4.1.2.2 allows 20).
pub fn random_serial<R: CryptoRng + ?Sized>(rng: &mut R) -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    // Clear the top bit (positive) and make the first octet non-zero (minimal encoding).
    if let Some(first) = bytes.first_mut() {
        *first = (*first & 0x7f) | 0x01;
    }
    SerialNumber::new(&bytes).map_err(|e| Error::encode(Element::SerialNumber, e))
}

/// Converts a certificate of x509-cert's default (RFC 5280) profile to this crate's
/// [`Certificate`] (lenient profile), through its DER encoding.
pub fn from_rfc5280(cert: &x509_cert::Certificate) -> Result<Certificate> {
    let der = cert
        .to_der()
        .map_err(|e| Error::encode(Element::Certificate, e))?;
    Certificate::from_der(&der).map_err(|e| Error::decode(Element::Certificate, e))
}

/// Whether `cert` is within its validity period at `time`: notBefore <= `time` <= notAfter
/// (RFC 5280 section 4.1.2.5).
pub fn valid_at(cert: &Certificate, time: SystemTime) -> bool {
    let validity = cert.tbs_certificate().validity();
    validity.not_before.to_system_time() <= time && time <= validity.not_after.to_system_time()
}

/// Whether `cert` is self-issued: its issuer is its subject (RFC 5280 section 3.2).
pub fn is_self_issued(cert: &Certificate) -> bool {
    cert.tbs_certificate().issuer() == cert.tbs_certificate().subject()
}

/// Whether `cert` certifies the public key `spki`.
pub fn certifies_key(cert: &Certificate, spki: &SubjectPublicKeyInfoOwned) -> bool {
    cert.tbs_certificate().subject_public_key_info() == spki
}

/// Builds the self-signed certificate a SCEP client signs its request with (RFC 8894
/// section 2.3): same subject and key as the request, a random serial number, `keyUsage`
/// digitalSignature (and keyEncipherment for RSA keys, so the CA can encrypt its reply to
/// it) marked critical, `basicConstraints` cA FALSE and a subjectKeyIdentifier. Signed with
/// SHA-256.
pub fn self_signed_certificate<R: CryptoRng + ?Sized>(
    signer: &dyn MessageSigner,
    subject: &Name,
    not_before: SystemTime,
    not_after: SystemTime,
    rng: &mut R,
) -> Result<Certificate> {
    let public_key = signer.public_key_info()?;
    let extensions = end_entity_extensions(subject, &public_key, None)?;
    let params = CertificateParams {
        serial_number: random_serial(rng)?,
        subject: subject.clone(),
        public_key,
        not_before,
        not_after,
        extensions,
    };
    issue(&params, subject, signer, DigestAlgorithm::Sha256)
}

/// The extensions of an end-entity certificate for `public_key`: `keyUsage` (critical)
/// digitalSignature, plus keyEncipherment for RSA keys so that a CertRep can be encrypted to
/// them; `basicConstraints` cA FALSE; a subjectKeyIdentifier; and, when `issuer_key` is
/// given (a CA-issued certificate), an authorityKeyIdentifier naming the issuer's key.
pub fn end_entity_extensions(
    subject: &Name,
    public_key: &SubjectPublicKeyInfoOwned,
    issuer_key: Option<&SubjectPublicKeyInfoOwned>,
) -> Result<Vec<Extension>> {
    use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
    let usage = match crate::pipeline::keys::spki_algorithm(Element::SubjectPublicKey, public_key)?
    {
        KeyAlgorithm::Rsa => KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment,
        KeyAlgorithm::EcdsaP256 => KeyUsages::DigitalSignature.into(),
    };
    extensions_with(
        subject,
        public_key,
        issuer_key,
        KeyUsage(usage),
        false,
        None,
    )
}

/// The extensions of a SCEP CA certificate for `public_key` (RFC 8894 section 2.2, RFC 5280
/// sections 4.2.1.3 and 4.2.1.9): `basicConstraints` (critical) cA TRUE with `path_len`
/// (`Some(0)`: it issues end-entity certificates only); `keyUsage` (critical) keyCertSign
/// and cRLSign (it issues certificates and CRLs), digitalSignature (it signs CertReps) and,
/// for an RSA key, keyEncipherment (requests are encrypted to it); a subjectKeyIdentifier;
/// and, when `issuer_key` is given (a sub-CA), an authorityKeyIdentifier.
///
/// ```
/// # use core::str::FromStr;
/// # use scep::MessageSigner;
/// # let key = rsa::PrivateKey::new(&mut rand_core::UnwrapErr(getrandom::SysRng), 2048).unwrap();
/// let name = x509_cert::name::Name::from_str("CN=Example CA").unwrap();
/// let extensions = scep::cert::ca_extensions(&name, &key.public_key_info().unwrap(), None, Some(0))
///     .unwrap();
/// assert_eq!(extensions.len(), 3); // basicConstraints, keyUsage, subjectKeyIdentifier
/// ```
pub fn ca_extensions(
    subject: &Name,
    public_key: &SubjectPublicKeyInfoOwned,
    issuer_key: Option<&SubjectPublicKeyInfoOwned>,
    path_len: Option<u8>,
) -> Result<Vec<Extension>> {
    use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
    let signing = KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature;
    let usage = match crate::pipeline::keys::spki_algorithm(Element::SubjectPublicKey, public_key)?
    {
        KeyAlgorithm::Rsa => signing | KeyUsages::KeyEncipherment,
        KeyAlgorithm::EcdsaP256 => signing,
    };
    extensions_with(
        subject,
        public_key,
        issuer_key,
        KeyUsage(usage),
        true,
        path_len,
    )
}

/// keyUsage, basicConstraints, subjectKeyIdentifier and (with `issuer_key`)
/// authorityKeyIdentifier.
fn extensions_with(
    subject: &Name,
    public_key: &SubjectPublicKeyInfoOwned,
    issuer_key: Option<&SubjectPublicKeyInfoOwned>,
    usage: x509_cert::ext::pkix::KeyUsage,
    ca: bool,
    path_len_constraint: Option<u8>,
) -> Result<Vec<Extension>> {
    use x509_cert::ext::pkix::BasicConstraints;
    let mut extensions = vec![
        extension(&usage, subject, Element::KeyUsageExtension)?,
        extension(
            &BasicConstraints {
                ca,
                path_len_constraint,
            },
            subject,
            Element::BasicConstraintsExtension,
        )?,
        extension(
            &key_identifier(public_key)?,
            subject,
            Element::SubjectKeyIdentifierExtension,
        )?,
    ];
    if let Some(issuer) = issuer_key {
        let aki = x509_cert::ext::pkix::AuthorityKeyIdentifier {
            key_identifier: Some(key_identifier(issuer)?.0),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        extensions.push(extension(
            &aki,
            subject,
            Element::AuthorityKeyIdentifierExtension,
        )?);
    }
    Ok(extensions)
}

/// A subjectKeyIdentifier for `spki`: the SHA-1 hash of the subjectPublicKey bits (RFC 5280
/// section 4.2.1.2, method 1).
pub fn key_identifier(
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<x509_cert::ext::pkix::SubjectKeyIdentifier> {
    let hash = DigestAlgorithm::Sha1.digest(spki.subject_public_key.raw_bytes());
    der::asn1::OctetString::new(hash)
        .map(x509_cert::ext::pkix::SubjectKeyIdentifier)
        .map_err(|e| Error::encode(Element::SubjectKeyIdentifier, e))
}

/// The subjectAltName extension for what a request asks (RFC 5280 section 4.2.1.6), of
/// its DNS names, IP addresses, e-mail addresses and URIs only (the other name forms a
/// CSR may carry are left out: a CA vouches for none of them here), or `None` when it
/// asks for none of these. Critical when `subject` is empty, as RFC 5280 requires.
///
/// Whether the requester may have those names is the CA's decision: check them before
/// issuing (a device should not get a certificate for a name it does not own).
///
/// ```
/// # use core::str::FromStr;
/// # let key = rsa::PrivateKey::new(&mut rand_core::UnwrapErr(getrandom::SysRng), 2048).unwrap();
/// use scep::csr::CsrParams;
/// let mut params = CsrParams::new(x509_cert::name::Name::from_str("CN=device").unwrap());
/// params.dns_names = vec!["device.example".into()];
/// let details = scep::csr::inspect(&params.build(&key).unwrap()).unwrap();
/// let san = scep::cert::requested_subject_alt_name(&details).unwrap().unwrap();
/// assert!(!san.critical);
/// ```
pub fn requested_subject_alt_name(details: &crate::csr::CsrDetails) -> Result<Option<Extension>> {
    use der::asn1::{Ia5String, OctetString};
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    let ia5 = |s: &str, element: Element| Ia5String::new(s).map_err(|e| Error::encode(element, e));
    let mut names = Vec::new();
    for n in &details.dns_names {
        names.push(GeneralName::DnsName(ia5(
            n,
            Element::SubjectAltNameDnsName,
        )?));
    }
    for ip in &details.ip_addresses {
        let octets = match ip {
            std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
            std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        let octets = OctetString::new(octets)
            .map_err(|e| Error::encode(Element::SubjectAltNameIpAddress, e))?;
        names.push(GeneralName::IpAddress(octets));
    }
    for e in &details.email_addresses {
        names.push(GeneralName::Rfc822Name(ia5(
            e,
            Element::SubjectAltNameRfc822Name,
        )?));
    }
    for u in &details.uris {
        names.push(GeneralName::UniformResourceIdentifier(ia5(
            u,
            Element::SubjectAltNameUniformResourceIdentifier,
        )?));
    }
    if names.is_empty() {
        return Ok(None);
    }
    extension(
        &SubjectAltName(names),
        &details.subject,
        Element::SubjectAltNameExtension,
    )
    .map(Some)
}

fn extension<T>(value: &T, subject: &Name, element: Element) -> Result<Extension>
where
    for<'a> &'a T: ToExtension,
    for<'a> <&'a T as ToExtension>::Error: core::fmt::Display,
{
    value
        .to_extension(subject, &[])
        .map_err(|e| Error::encode(element, e))
}

/// Verifies that `cert` was signed by the key `issuer_key` (its issuer's public key).
///
/// Only the signature is checked: names, validity and extensions are the caller's policy.
pub fn verify_issued_by(cert: &Certificate, issuer_key: &SubjectPublicKeyInfoOwned) -> Result<()> {
    verify_issued_by_allowing(cert, issuer_key, &DigestAlgorithm::ALL)
}

/// [`verify_issued_by`], refusing a signature whose digest is not in `allowed` with
/// [`PolicyError::DigestNotAllowed`](crate::error::PolicyError::DigestNotAllowed) before
/// checking it.
pub(crate) fn verify_issued_by_allowing(
    cert: &Certificate,
    issuer_key: &SubjectPublicKeyInfoOwned,
    allowed: &[DigestAlgorithm],
) -> Result<()> {
    const ELEMENT: Element = Element::CertificateSignatureAlgorithm;
    let alg = &cert.signature_algorithm().oid;
    let (_, digest) = crate::pipeline::algorithms::signature_algorithm(ELEMENT, alg)?;
    if let Some(digest) = digest {
        digest.require_allowed(allowed, ELEMENT)?;
    }
    let tbs = cert
        .tbs_certificate()
        .to_der()
        .map_err(|e| Error::encode(Element::TbsCertificate, e))?;
    crate::pipeline::keys::verify_signature(ELEMENT, &tbs, alg, cert.signature(), issuer_key)
}

/// Verifies that the CRL `crl` was signed by the key `issuer_key` (its issuer's public
/// key), as [`verify_issued_by`] does for a certificate.
///
/// Only the signature is checked: the issuer's name and `thisUpdate` / `nextUpdate` are the
/// caller's policy.
pub fn verify_crl_issued_by(
    crl: &crate::asn1::CertificateList,
    issuer_key: &SubjectPublicKeyInfoOwned,
) -> Result<()> {
    const ELEMENT: Element = Element::CertificateListSignatureAlgorithm;
    let alg = &crl.signature_algorithm.oid;
    let tbs = crl
        .tbs_cert_list
        .to_der()
        .map_err(|e| Error::encode(Element::TbsCertList, e))?;
    crate::pipeline::keys::verify_signature(ELEMENT, &tbs, alg, &crl.signature, issuer_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::keys::verify_prehashed;
    use core::str::FromStr;

    #[test]
    fn the_requested_subject_alt_name_is_copied_and_critical_without_a_subject() {
        use x509_cert::ext::pkix::SubjectAltName;
        use x509_cert::ext::pkix::name::GeneralName;
        let key = {
            use p256::elliptic_curve::Generate;
            p256::ecdsa::SigningKey::generate_from_rng(&mut rand_core::UnwrapErr(getrandom::SysRng))
        };
        let mut params = crate::csr::CsrParams::new(Name::from_str("CN=device").unwrap());
        params.dns_names = vec!["a.example".into()];
        params.ip_addresses = vec!["2001:db8::1".parse().unwrap()];
        params.email_addresses = vec!["ops@example.org".into()];
        params.uris = vec!["urn:device:42".into()];
        let mut details = crate::csr::inspect(&params.build(&key).unwrap()).unwrap();
        let ext = requested_subject_alt_name(&details).unwrap().unwrap();
        assert!(!ext.critical);
        let san = SubjectAltName::from_der(ext.extn_value.as_bytes()).unwrap();
        let mut ip = [0u8; 16];
        ip[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        ip[15] = 1;
        match san.0.as_slice() {
            [
                GeneralName::DnsName(d),
                GeneralName::IpAddress(i),
                GeneralName::Rfc822Name(e),
                GeneralName::UniformResourceIdentifier(u),
            ] => {
                assert_eq!(d.to_string(), "a.example");
                assert_eq!(i.as_bytes(), ip);
                assert_eq!(e.to_string(), "ops@example.org");
                assert_eq!(u.to_string(), "urn:device:42");
            }
            other => panic!("{other:?}"),
        }
        details.subject = Name::default();
        assert!(
            requested_subject_alt_name(&details)
                .unwrap()
                .unwrap()
                .critical
        );
        details.dns_names.clear();
        details.ip_addresses.clear();
        details.email_addresses.clear();
        details.uris.clear();
        assert_eq!(requested_subject_alt_name(&details).unwrap(), None);
    }

    #[test]
    fn rsa_modulus_bits_are_counted_exactly() {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        for bits in [1024usize, 2048] {
            let key = rsa::PrivateKey::new(&mut rng, bits).unwrap();
            let csr = crate::csr::CsrParams::new(Name::from_str("CN=k").unwrap())
                .build(&key)
                .unwrap();
            let details = crate::csr::inspect(&csr).unwrap();
            assert_eq!(details.rsa_modulus_bits(), Some(bits));
        }
        let ec = {
            use p256::elliptic_curve::Generate;
            p256::ecdsa::SigningKey::generate_from_rng(&mut rng)
        };
        let csr = crate::csr::CsrParams::new(Name::from_str("CN=k").unwrap())
            .build(&ec)
            .unwrap();
        assert_eq!(crate::csr::inspect(&csr).unwrap().rsa_modulus_bits(), None);
    }

    #[test]
    fn self_signed_certificate_has_the_scep_extensions() {
        use crate::oids;
        use std::time::Duration;
        use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let key = {
            use p256::elliptic_curve::Generate;
            p256::ecdsa::SigningKey::generate_from_rng(&mut rng)
        };
        let name = Name::from_str("CN=client").unwrap();
        let now = SystemTime::now();
        let cert =
            self_signed_certificate(&key, &name, now, now + Duration::from_secs(60), &mut rng)
                .unwrap();
        let tbs = cert.tbs_certificate();
        assert_eq!(tbs.subject(), &name);
        assert_eq!(tbs.issuer(), &name);
        let exts = tbs.extensions().unwrap();
        let ku = exts.iter().find(|e| e.extn_id == oids::KEY_USAGE).unwrap();
        assert!(ku.critical);
        let ku = KeyUsage::from_der(ku.extn_value.as_bytes()).unwrap();
        assert!(ku.digital_signature() && !ku.key_encipherment());
        let bc = exts
            .iter()
            .find(|e| e.extn_id == oids::BASIC_CONSTRAINTS)
            .unwrap();
        assert!(
            !BasicConstraints::from_der(bc.extn_value.as_bytes())
                .unwrap()
                .ca
        );
        assert!(
            exts.iter()
                .any(|e| e.extn_id == oids::SUBJECT_KEY_IDENTIFIER)
        );
        verify_prehashed(
            tbs.subject_public_key_info(),
            KeyAlgorithm::EcdsaP256,
            DigestAlgorithm::Sha256,
            &DigestAlgorithm::Sha256.digest(&tbs.to_der().unwrap()),
            cert.signature().raw_bytes(),
        )
        .unwrap();
        verify_issued_by(&cert, tbs.subject_public_key_info()).unwrap();
    }
    #[test]
    fn ca_extensions_make_a_scep_ca() {
        use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let key = {
            use p256::elliptic_curve::Generate;
            p256::ecdsa::SigningKey::generate_from_rng(&mut rng)
        };
        let name = Name::from_str("CN=a CA").unwrap();
        let now = SystemTime::now();
        let spki = key.public_key_info().unwrap();
        let params = CertificateParams {
            serial_number: random_serial(&mut rng).unwrap(),
            subject: name.clone(),
            public_key: spki.clone(),
            not_before: now,
            not_after: now + std::time::Duration::from_secs(3600),
            extensions: ca_extensions(&name, &spki, None, Some(0)).unwrap(),
        };
        let cert = issue(&params, &name, &key, DigestAlgorithm::Sha256).unwrap();
        let tbs = cert.tbs_certificate();
        let (critical, bc) = tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
        assert!(critical && bc.ca);
        assert_eq!(bc.path_len_constraint, Some(0));
        let (critical, ku) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
        assert!(critical);
        assert_eq!(
            ku.0,
            KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature,
            "an ECDSA key does no key transport"
        );
    }

    #[test]
    fn a_crl_verifies_under_its_issuer_only() {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let (key, other) = {
            use p256::elliptic_curve::Generate;
            (
                p256::ecdsa::SigningKey::generate_from_rng(&mut rng),
                p256::ecdsa::SigningKey::generate_from_rng(&mut rng),
            )
        };
        let name = Name::from_str("CN=crl issuer").unwrap();
        let now = SystemTime::now();
        let later = now + std::time::Duration::from_secs(3600);
        let serial = random_serial(&mut rng).unwrap();
        let mut crl = issue_crl(
            &name,
            &key,
            DigestAlgorithm::Sha256,
            now,
            later,
            &[(serial, now)],
        )
        .unwrap();
        verify_crl_issued_by(&crl, &key.public_key_info().unwrap()).unwrap();
        assert!(verify_crl_issued_by(&crl, &other.public_key_info().unwrap()).is_err());
        // The revoked list changed after signing: the signature no longer holds.
        crl.tbs_cert_list.revoked_certificates = None;
        assert!(verify_crl_issued_by(&crl, &key.public_key_info().unwrap()).is_err());
    }

    #[test]
    fn self_signed_p256_verifies_and_round_trips() {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let key = {
            use p256::elliptic_curve::Generate;
            p256::ecdsa::SigningKey::generate_from_rng(&mut rng)
        };
        let name = Name::from_str("CN=test,O=scep").unwrap();
        let now = SystemTime::now();
        let params = CertificateParams {
            serial_number: random_serial(&mut rng).unwrap(),
            subject: name.clone(),
            public_key: key.public_key_info().unwrap(),
            not_before: now,
            not_after: now + std::time::Duration::from_secs(3600),
            extensions: Vec::new(),
        };
        let cert = issue(&params, &name, &key, DigestAlgorithm::Sha384).unwrap();
        assert_eq!(cert.tbs_certificate().subject(), &name);
        assert!(certifies_key(&cert, &params.public_key));
        let tbs = cert.tbs_certificate().to_der().unwrap();
        verify_prehashed(
            &params.public_key,
            KeyAlgorithm::EcdsaP256,
            DigestAlgorithm::Sha384,
            &DigestAlgorithm::Sha384.digest(&tbs),
            cert.signature().raw_bytes(),
        )
        .unwrap();
        let rfc = x509_cert::Certificate::from_der(&cert.to_der().unwrap()).unwrap();
        assert_eq!(from_rfc5280(&rfc).unwrap(), cert);
    }
}
