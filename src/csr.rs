//! PKCS #10 certification requests and the SCEP client's self-signed certificate.
//!
//! ```text
//! CertificationRequestInfo ::= SEQUENCE {
//!     version       INTEGER { v1(0) } (v1,...),
//!     subject       Name,
//!     subjectPKInfo SubjectPublicKeyInfo{{ PKInfoAlgorithms }},
//!     attributes    [0] Attributes{{ CRIAttributes }} }       -- RFC 2986 section 4
//! ```
//!
//! A SCEP client sends a PKCS #10 request with the `challengePassword` attribute (RFC 8894
//! section 3.3.1; RFC 2985 section 5.4.1) and, for subject alternative names and other
//! extensions, an `extensionRequest` attribute (RFC 2985 section 5.4.2). It signs the
//! pkiMessage with a self-signed certificate for the same key and subject (RFC 8894 section
//! 2.3), which [`cert::self_signed_certificate`](crate::cert::self_signed_certificate) builds.
//!
//! ```
//! # fn main() -> Result<(), scep::Error> {
//! use core::str::FromStr;
//! use std::time::{Duration, SystemTime};
//! use scep::cert::self_signed_certificate;
//! use scep::csr::CsrParams;
//!
//! let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
//! let key = {
//!     use p256::elliptic_curve::Generate;
//!     p256::ecdsa::SigningKey::generate_from_rng(&mut rng)
//! };
//! let subject = x509_cert::name::Name::from_str("CN=device-42,O=Example").unwrap();
//! let mut params = CsrParams::new(subject.clone());
//! params.dns_names.push("device-42.example.com".into());
//! params.challenge_password = Some("one-time secret".into());
//! let csr = params.build(&key)?;
//!
//! // What a server sees:
//! scep::csr::verify(&csr)?;
//! let details = scep::csr::inspect(&csr)?;
//! assert_eq!(details.challenge_password.as_deref(), Some("one-time secret"));
//! assert_eq!(details.dns_names, ["device-42.example.com"]);
//!
//! // The certificate the client signs its PKCSReq with.
//! let now = SystemTime::now();
//! let cert = self_signed_certificate(&key, &subject, now, now + Duration::from_secs(3600), &mut rng)?;
//! assert_eq!(cert.tbs_certificate().subject(), &subject);
//! # Ok(())
//! # }
//! ```

use core::net::IpAddr;

use der::asn1::{BitString, Ia5String, OctetString, PrintableString, SetOfVec};
use der::{Decode, Encode};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::{DirectoryString, GeneralName};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::asn1::{CertReq, CertReqInfo};
use crate::error::{Element, Error, ProtocolError, Result};
use crate::oids;
use crate::pipeline::{DigestAlgorithm, MessageSigner};

/// What goes into a PKCS #10 request.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CsrParams {
    /// The subject name.
    pub subject: Name,
    /// DNS names for the subjectAltName extension.
    pub dns_names: Vec<String>,
    /// IP addresses for the subjectAltName extension.
    pub ip_addresses: Vec<IpAddr>,
    /// E-mail addresses (rfc822Name) for the subjectAltName extension.
    pub email_addresses: Vec<String>,
    /// URIs for the subjectAltName extension.
    pub uris: Vec<String>,
    /// The challenge password (RFC 8894 section 2.2), written as a PrintableString when its
    /// characters allow and as a UTF8String otherwise. Wiped when the parameters are
    /// dropped.
    pub challenge_password: Option<String>,
    /// Further extensions to request, after the subjectAltName.
    pub extensions: Vec<Extension>,
    /// The digest of the request's signature (default SHA-256).
    pub digest: DigestAlgorithm,
}

/// The challenge password is wiped when the parameters are dropped.
impl Drop for CsrParams {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.challenge_password.zeroize();
    }
}

impl CsrParams {
    /// Parameters for `subject` with no alternative names, no challenge password and SHA-256.
    pub fn new(subject: Name) -> Self {
        Self {
            subject,
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            email_addresses: Vec::new(),
            uris: Vec::new(),
            challenge_password: None,
            extensions: Vec::new(),
            digest: DigestAlgorithm::Sha256,
        }
    }

    /// The subjectAltName names, in the order DNS, IP, e-mail, URI.
    fn general_names(&self) -> Result<Vec<GeneralName>> {
        let ia5 = |what: Element, s: &str| {
            Ia5String::new(s).map_err(|e| Error::encode(what, format_args!("{s:?}: {e}")))
        };
        let mut names = Vec::new();
        for n in &self.dns_names {
            names.push(GeneralName::DnsName(ia5(
                Element::SubjectAltNameDnsName,
                n,
            )?));
        }
        for ip in &self.ip_addresses {
            names.push(GeneralName::IpAddress(ip_octets(*ip)?));
        }
        for n in &self.email_addresses {
            names.push(GeneralName::Rfc822Name(ia5(
                Element::SubjectAltNameRfc822Name,
                n,
            )?));
        }
        for n in &self.uris {
            names.push(GeneralName::UniformResourceIdentifier(ia5(
                Element::SubjectAltNameUniformResourceIdentifier,
                n,
            )?));
        }
        Ok(names)
    }

    /// Builds the request and signs it with `signer` (proof of possession of its key).
    pub fn build(&self, signer: &dyn MessageSigner) -> Result<CertReq> {
        let mut attributes = SetOfVec::new();
        if let Some(password) = &self.challenge_password {
            let value = match PrintableString::new(password) {
                Ok(p) => der::asn1::Any::encode_from(&p),
                Err(_) => {
                    der::asn1::Any::encode_from(&DirectoryString::Utf8String(password.clone()))
                }
            }
            .map_err(|e| Error::encode(Element::ChallengePassword, e))?;
            attributes
                .insert(crate::asn1::attribute::single(
                    oids::CHALLENGE_PASSWORD,
                    value,
                )?)
                .map_err(|e| Error::encode(Element::CsrAttributes, e))?;
        }
        let mut extensions = Vec::new();
        let names = self.general_names()?;
        if !names.is_empty() {
            extensions.push(
                (&SubjectAltName(names))
                    .to_extension(&self.subject, &[])
                    .map_err(|e| Error::encode(Element::SubjectAltNameExtension, e))?,
            );
        }
        extensions.extend(self.extensions.iter().cloned());
        if !extensions.is_empty() {
            let value = der::asn1::Any::encode_from(&extensions)
                .map_err(|e| Error::encode(Element::ExtensionRequest, e))?;
            attributes
                .insert(crate::asn1::attribute::single(
                    oids::EXTENSION_REQUEST,
                    value,
                )?)
                .map_err(|e| Error::encode(Element::CsrAttributes, e))?;
        }
        let info = CertReqInfo {
            version: 0,
            subject: self.subject.clone(),
            public_key: signer.public_key_info()?,
            attributes,
        };
        let info_der = info
            .to_der()
            .map_err(|e| Error::encode(Element::CertificationRequestInfo, e))?;
        let signature = signer.sign_prehashed(self.digest, &self.digest.digest(&info_der))?;
        Ok(CertReq {
            info,
            algorithm: crate::pipeline::algorithms::signature_algorithm_identifier(
                signer.key_algorithm(),
                self.digest,
            ),
            signature: BitString::from_bytes(&signature)
                .map_err(|e| Error::encode(Element::CsrSignature, e))?,
        })
    }
}

fn ip_octets(ip: IpAddr) -> Result<OctetString> {
    let octets = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    OctetString::new(octets).map_err(|e| Error::encode(Element::SubjectAltNameIpAddress, e))
}

/// What a server reads from a PKCS #10 request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsrDetails {
    /// The subject name.
    pub subject: Name,
    /// The public key.
    pub public_key: SubjectPublicKeyInfoOwned,
    /// The challenge password, when present (any DirectoryString choice, or IA5String as
    /// some clients send). Wiped when the details are dropped.
    pub challenge_password: Option<String>,
    /// All extensions of the extensionRequest attribute, in order.
    pub requested_extensions: Vec<Extension>,
    /// DNS names of a requested subjectAltName.
    pub dns_names: Vec<String>,
    /// IP addresses of a requested subjectAltName.
    pub ip_addresses: Vec<IpAddr>,
    /// E-mail addresses of a requested subjectAltName.
    pub email_addresses: Vec<String>,
    /// URIs of a requested subjectAltName.
    pub uris: Vec<String>,
}

/// The challenge password is wiped when the details are dropped.
impl Drop for CsrDetails {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.challenge_password.zeroize();
    }
}

impl CsrDetails {
    /// The size in bits of the requested RSA key's modulus, or `None` for a key that is
    /// not RSA (or not a well-formed one): for a CA's key-size policy.
    pub fn rsa_modulus_bits(&self) -> Option<usize> {
        use rsa::traits::PublicKeyParts;
        let key = crate::pipeline::keys::rsa_public_key(&self.public_key).ok()?;
        let n = key.n_bytes();
        let first = n.iter().position(|b| *b != 0)?;
        let top = n.get(first)?;
        let rest = n.len().checked_sub(first)?.checked_sub(1)?;
        let top_bits = 8usize.checked_sub(usize::try_from(top.leading_zeros()).ok()?)?;
        rest.checked_mul(8)?.checked_add(top_bits)
    }
}

/// Reads the subject, key, challenge password and requested extensions of `csr`, without
/// checking its signature (see [`verify`]).
///
/// A challengePassword or extensionRequest attribute that appears twice is a
/// [`ProtocolError::DuplicateAttribute`]; one that holds other than one value, or does not
/// decode, is an [`Error::Decode`] naming it.
pub fn inspect(csr: &CertReq) -> Result<CsrDetails> {
    let mut details = CsrDetails {
        subject: csr.info.subject.clone(),
        public_key: csr.info.public_key.clone(),
        challenge_password: None,
        requested_extensions: Vec::new(),
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        email_addresses: Vec::new(),
        uris: Vec::new(),
    };
    let mut seen_extensions = false;
    for attr in csr.info.attributes.iter() {
        if attr.oid == oids::CHALLENGE_PASSWORD {
            let value = crate::asn1::attribute::single_value(Element::ChallengePassword, attr)?;
            if details.challenge_password.is_some() {
                return Err(ProtocolError::DuplicateAttribute(Element::ChallengePassword).into());
            }
            details.challenge_password = Some(challenge_password_text(value)?);
        } else if attr.oid == oids::EXTENSION_REQUEST {
            let value = crate::asn1::attribute::single_value(Element::ExtensionRequest, attr)?;
            if seen_extensions {
                return Err(ProtocolError::DuplicateAttribute(Element::ExtensionRequest).into());
            }
            seen_extensions = true;
            details.requested_extensions = value
                .decode_as::<Vec<Extension>>()
                .map_err(|e| Error::decode(Element::ExtensionRequest, e))?;
        }
    }
    for ext in &details.requested_extensions {
        if ext.extn_id != oids::SUBJECT_ALT_NAME {
            continue;
        }
        let san = SubjectAltName::from_der(ext.extn_value.as_bytes())
            .map_err(|e| Error::decode(Element::SubjectAltNameExtension, e))?;
        for name in san.0 {
            match name {
                GeneralName::DnsName(n) => details.dns_names.push(n.to_string()),
                GeneralName::Rfc822Name(n) => details.email_addresses.push(n.to_string()),
                GeneralName::UniformResourceIdentifier(n) => details.uris.push(n.to_string()),
                GeneralName::IpAddress(o) => details.ip_addresses.push(ip_from(o.as_bytes())?),
                _ => {}
            }
        }
    }
    Ok(details)
}

fn challenge_password_text(value: &der::asn1::Any) -> Result<String> {
    if let Ok(s) = value.decode_as::<DirectoryString>() {
        return Ok(s.value().into_owned());
    }
    // Not a DirectoryString, but sent by some clients.
    value
        .decode_as::<Ia5String>()
        .map(|s| s.to_string())
        .map_err(|e| Error::decode(Element::ChallengePassword, e))
}

fn ip_from(octets: &[u8]) -> Result<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(octets) {
        return Ok(IpAddr::from(v4));
    }
    <[u8; 16]>::try_from(octets).map(IpAddr::from).map_err(|_| {
        Error::decode(
            Element::SubjectAltNameIpAddress,
            format_args!("{} octets, expected 4 or 16", octets.len()),
        )
    })
}

/// Verifies the request's signature with its own public key (proof of possession).
///
/// The signature algorithm must be `shaNWithRSAEncryption` or `ecdsa-with-SHAn` matching the
/// key; MD5 is refused.
pub fn verify(csr: &CertReq) -> Result<()> {
    let info = csr
        .info
        .to_der()
        .map_err(|e| Error::encode(Element::CertificationRequestInfo, e))?;
    crate::pipeline::keys::verify_signature(
        Element::CertificationRequestSignatureAlgorithm,
        &info,
        &csr.algorithm.oid,
        &csr.signature,
        &csr.info.public_key,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::str::FromStr;

    fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    fn ec_key() -> p256::ecdsa::SigningKey {
        use p256::elliptic_curve::Generate;
        p256::ecdsa::SigningKey::generate_from_rng(&mut rng())
    }

    #[test]
    fn csr_round_trips_names_password_and_extensions() {
        let key = ec_key();
        let mut p = CsrParams::new(Name::from_str("CN=a,O=b").unwrap());
        p.dns_names = vec!["a.example".into(), "b.example".into()];
        p.ip_addresses = vec!["192.0.2.1".parse().unwrap(), "2001:db8::1".parse().unwrap()];
        p.email_addresses = vec!["a@example.com".into()];
        p.uris = vec!["urn:uuid:1234".into()];
        p.challenge_password = Some("pässword".into()); // not printable: UTF8String
        p.digest = DigestAlgorithm::Sha384;
        let csr = p.build(&key).unwrap();
        verify(&csr).unwrap();
        let csr = CertReq::from_der(&csr.to_der().unwrap()).unwrap();
        let d = inspect(&csr).unwrap();
        assert_eq!(d.subject, p.subject);
        assert_eq!(d.public_key, key.public_key_info().unwrap());
        assert_eq!(d.challenge_password.as_deref(), Some("pässword"));
        assert_eq!(d.dns_names, p.dns_names);
        assert_eq!(d.ip_addresses, p.ip_addresses);
        assert_eq!(d.email_addresses, p.email_addresses);
        assert_eq!(d.uris, p.uris);
        assert_eq!(d.requested_extensions.len(), 1);
        assert_eq!(csr.algorithm.oid, oids::ECDSA_WITH_SHA384);
    }

    #[test]
    fn printable_password_is_a_printable_string_and_no_extension_request_without_names() {
        let key = ec_key();
        let mut p = CsrParams::new(Name::from_str("CN=a").unwrap());
        p.challenge_password = Some("secret".into());
        let csr = p.build(&key).unwrap();
        assert_eq!(csr.info.attributes.len(), 1);
        let attr = csr.info.attributes.iter().next().unwrap();
        let value = attr.values.iter().next().unwrap();
        assert_eq!(der::Tagged::tag(value), der::Tag::PrintableString);
        assert_eq!(
            inspect(&csr).unwrap().challenge_password.as_deref(),
            Some("secret")
        );
    }

    #[test]
    fn tampered_csr_fails_verification() {
        let key = ec_key();
        let mut csr = CsrParams::new(Name::from_str("CN=a").unwrap())
            .build(&key)
            .unwrap();
        csr.info.subject = Name::from_str("CN=b").unwrap();
        assert_eq!(
            verify(&csr).unwrap_err(),
            Error::Crypto(crate::error::CryptoError::BadSignature)
        );
    }

    #[test]
    fn a_challenge_password_twice_or_with_two_values_is_refused() {
        let key = ec_key();
        let mut p = CsrParams::new(Name::from_str("CN=a").unwrap());
        p.challenge_password = Some("x".into());
        let csr = p.build(&key).unwrap();
        let attr = csr.info.attributes.iter().next().unwrap().clone();
        let other = der::asn1::Any::encode_from(&PrintableString::new("y").unwrap()).unwrap();

        let mut two_values = csr.clone();
        let mut doubled = attr.clone();
        doubled.values.insert(other.clone()).unwrap();
        two_values.info.attributes = SetOfVec::try_from(vec![doubled]).unwrap();
        assert!(matches!(
            inspect(&two_values).unwrap_err(),
            Error::Decode {
                element: Element::ChallengePassword,
                ..
            }
        ));

        let mut twice = csr.clone();
        let mut second = attr.clone();
        second.values = SetOfVec::try_from(vec![other]).unwrap();
        twice.info.attributes = SetOfVec::try_from(vec![attr, second]).unwrap();
        assert_eq!(
            inspect(&twice).unwrap_err(),
            Error::Protocol(ProtocolError::DuplicateAttribute(
                Element::ChallengePassword
            ))
        );
    }
}
