//! CA capabilities: the GetCACaps response (RFC 8894 section 3.5) and the negotiation of
//! the algorithms and transport a client uses with a CA.
//!
//! A CA answers `GET SCEPPATH?operation=GetCACaps` with a `text/plain` list of keywords,
//! one per line (RFC 8894 section 3.5.2). [`Capabilities`] parses that list tolerantly
//! (any letter case, `\n` or `\r\n`, blank lines, surrounding whitespace, unknown keywords
//! kept) and formats the canonical text a server returns. [`negotiate`] then picks the
//! strongest content-encryption and digest algorithms both sides accept under a
//! [`Policy`], and whether PKIOperation may be sent by POST.
//!
//! # AES key sizes
//!
//! RFC 8894 section 3.5.2 defines the keyword `AES` as "CA supports the AES128-CBC
//! encryption algorithm" and asks for AES-128-CBC "in the interests of interoperability".
//! Many CAs also accept AES-256-CBC under the same keyword, but nothing in the response
//! says so. Negotiation therefore maps `AES` to [`ContentCipher::Aes128Cbc`] by default;
//! a caller who knows its CA accepts a larger key sets [`Policy::aes_means`] to
//! [`ContentCipher::Aes256Cbc`] (or `Aes192Cbc`), and AES-128 stays the fall-back when
//! the larger key is not in [`Policy::allowed_ciphers`].
//!
//! # A CA that announces nothing
//!
//! An empty response (or an HTTP error, or a CA that does not implement GetCACaps) means
//! that the CA supports none of the capabilities (RFC 8894 section 3.5.2): historically
//! that leaves single DES and MD5, which this crate refuses (RFC 8894 section 2.9). Only
//! when [`Policy::legacy_fallback`] is set does negotiation fall back to DES-EDE3-CBC for
//! a CA that names no cipher and to SHA-1 for a CA that names no digest; otherwise it fails
//! with [`PolicyError::NoCommonCipher`] / [`PolicyError::NoCommonDigest`].
//!
//! # Example
//!
//! ```
//! use scep::caps::{negotiate, Capabilities, Capability, Policy};
//! use scep::{ContentCipher, DigestAlgorithm};
//!
//! // What micromdm's server answers.
//! let caps = Capabilities::parse("Renewal\nSHA-1\nSHA-256\nAES\nDES3\nSCEPStandard\nPOSTPKIOperation")?;
//! assert!(caps.supports(Capability::Renewal));
//!
//! let n = negotiate(&caps, &Policy::default())?;
//! assert_eq!(n.cipher, ContentCipher::Aes128Cbc);
//! assert_eq!(n.digest, DigestAlgorithm::Sha256);
//! assert!(n.use_post && n.renewal && n.scep_standard);
//!
//! // A server announces what it supports.
//! let ours = Capabilities::scep_standard().with(Capability::Renewal);
//! assert_eq!(ours.format(), "AES\nPOSTPKIOperation\nRenewal\nSHA-256\nSCEPStandard");
//! # Ok::<(), scep::Error>(())
//! ```

use core::fmt;
use std::collections::BTreeSet;

use crate::error::{Element, Error, LimitKind, PolicyError, Result};
use crate::pipeline::algorithms::{ContentCipher, DigestAlgorithm};

/// Largest GetCACaps response accepted, in octets (64 KiB).
pub const MAX_CAPS_SIZE: usize = 64 << 10;

/// Largest number of keywords accepted in a GetCACaps response.
pub const MAX_CAPS_KEYWORDS: usize = 256;

/// A capability keyword this crate knows (RFC 8894 section 3.5.2, plus `SHA-224`,
/// `SHA-384` and the pre-RFC `Update`).
///
/// The variants are declared in the order in which [`Capabilities::format`] lists them
/// (the order of the RFC's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Capability {
    /// `AES`: the CA supports AES-128-CBC (see the [module documentation](self) for larger
    /// keys).
    Aes,
    /// `DES3`: the CA supports triple DES-CBC.
    Des3,
    /// `GetNextCACert`: the CA supports the GetNextCACert operation (CA key rollover).
    GetNextCaCert,
    /// `POSTPKIOperation`: the CA accepts PKIOperation messages sent by HTTP POST.
    PostPkiOperation,
    /// `Renewal`: the CA supports RenewalReq (a request signed with an existing certificate).
    Renewal,
    /// `SHA-1`: the CA supports SHA-1.
    Sha1,
    /// `SHA-224`: not an RFC 8894 keyword; recognised for CAs that announce it.
    Sha224,
    /// `SHA-256`: the CA supports SHA-256.
    Sha256,
    /// `SHA-384`: not an RFC 8894 keyword; recognised for CAs that announce it.
    Sha384,
    /// `SHA-512`: the CA supports SHA-512.
    Sha512,
    /// `SCEPStandard`: the CA implements every mandatory part of RFC 8894; implies `AES`,
    /// `POSTPKIOperation` and `SHA-256` (RFC 8894 section 3.5.2).
    ScepStandard,
    /// `Update`: an obsolete keyword of the SCEP drafts (the "Update" operation). Kept when
    /// received, never used by negotiation.
    Update,
}

impl Capability {
    /// Every known capability, in canonical order.
    pub const ALL: [Self; 12] = [
        Self::Aes,
        Self::Des3,
        Self::GetNextCaCert,
        Self::PostPkiOperation,
        Self::Renewal,
        Self::Sha1,
        Self::Sha224,
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
        Self::ScepStandard,
        Self::Update,
    ];

    /// The keyword as a CA must send it (RFC 8894 section 3.5.2: "The CA MUST use the text
    /// case specified here").
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Aes => "AES",
            Self::Des3 => "DES3",
            Self::GetNextCaCert => "GetNextCACert",
            Self::PostPkiOperation => "POSTPKIOperation",
            Self::Renewal => "Renewal",
            Self::Sha1 => "SHA-1",
            Self::Sha224 => "SHA-224",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
            Self::ScepStandard => "SCEPStandard",
            Self::Update => "Update",
        }
    }

    /// Recognises a keyword, ignoring ASCII case ("clients SHOULD ignore the text case",
    /// RFC 8894 section 3.5.2). Surrounding whitespace is not removed here.
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.keyword().eq_ignore_ascii_case(keyword))
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// The capabilities a CA announces in its GetCACaps response (RFC 8894 section 3.5.2).
///
/// Known keywords are kept as a set of [`Capability`]; unknown ones are kept, in the order
/// and spelling received, in [`Capabilities::unknown`] ("A client MUST be able to accept
/// and ignore any unknown keywords"). Two values are equal when they hold the same known
/// capabilities and the same unknown keywords in the same order.
///
/// [`Capabilities::contains`] answers what was literally announced;
/// [`Capabilities::supports`] also applies the implications of `SCEPStandard`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    known: BTreeSet<Capability>,
    unknown: Vec<String>,
}

impl Capabilities {
    /// No capabilities: what an empty GetCACaps response, an HTTP error or a CA without
    /// GetCACaps amounts to (RFC 8894 section 3.5.2).
    pub fn new() -> Self {
        Self::default()
    }

    /// What an RFC 8894 CA announces at minimum: `SCEPStandard` together with the
    /// capabilities it implies (`AES`, `POSTPKIOperation`, `SHA-256`), which older clients
    /// that do not know `SCEPStandard` need to see spelt out.
    pub fn scep_standard() -> Self {
        [
            Capability::Aes,
            Capability::PostPkiOperation,
            Capability::Sha256,
            Capability::ScepStandard,
        ]
        .into_iter()
        .collect()
    }

    /// Parses a GetCACaps response body given as text.
    ///
    /// Keywords are separated by `\n` or `\r\n`; whitespace and byte order marks (U+FEFF)
    /// around a keyword and blank lines are ignored; letter case is ignored for known
    /// keywords; unknown keywords are kept as received (trimmed). An empty body means no
    /// capabilities.
    ///
    /// # Errors
    ///
    /// [`Error::Limit`] when the text exceeds [`MAX_CAPS_SIZE`] octets or
    /// [`MAX_CAPS_KEYWORDS`] keywords.
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_CAPS_SIZE {
            return Err(Error::Limit {
                what: LimitKind::CapsResponseSize,
                limit: MAX_CAPS_SIZE,
            });
        }
        let mut caps = Self::new();
        let mut count = 0usize;
        for keyword in text.split('\n').map(trim_keyword).filter(|k| !k.is_empty()) {
            count = count.saturating_add(1);
            if count > MAX_CAPS_KEYWORDS {
                return Err(Error::Limit {
                    what: LimitKind::CapsKeywordCount,
                    limit: MAX_CAPS_KEYWORDS,
                });
            }
            match Capability::from_keyword(keyword) {
                Some(known) => {
                    caps.known.insert(known);
                }
                None => caps.unknown.push(keyword.to_owned()),
            }
        }
        Ok(caps)
    }

    /// Parses a GetCACaps response body given as octets.
    ///
    /// # Errors
    ///
    /// [`Error::Limit`] as for [`Capabilities::parse`] (the size is checked before
    /// anything else), and [`Error::Decode`] when the body is not UTF-8.
    pub fn from_bytes(body: &[u8]) -> Result<Self> {
        if body.len() > MAX_CAPS_SIZE {
            return Err(Error::Limit {
                what: LimitKind::CapsResponseSize,
                limit: MAX_CAPS_SIZE,
            });
        }
        let text = core::str::from_utf8(body).map_err(|e| {
            Error::decode(Element::GetCaCapsResponse, format!("not UTF-8 text: {e}"))
        })?;
        Self::parse(text)
    }

    /// Adds a capability (builder style).
    #[must_use]
    pub fn with(mut self, capability: Capability) -> Self {
        self.known.insert(capability);
        self
    }

    /// Adds a capability; returns whether it was not present before.
    pub fn insert(&mut self, capability: Capability) -> bool {
        self.known.insert(capability)
    }

    /// Removes a capability; returns whether it was present.
    pub fn remove(&mut self, capability: Capability) -> bool {
        self.known.remove(&capability)
    }

    /// Adds a keyword this crate does not define (a server's extension), builder style. A
    /// keyword that matches a known one (in any case) adds that known capability instead.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] when the keyword is empty, has surrounding whitespace or byte
    /// order marks, or contains a control character (it could not survive
    /// [`Capabilities::format`] and [`Capabilities::parse`] unchanged).
    pub fn with_extension(mut self, keyword: &str) -> Result<Self> {
        if keyword.is_empty()
            || trim_keyword(keyword) != keyword
            || keyword.chars().any(char::is_control)
        {
            return Err(Error::encode(
                Element::GetCaCapsKeyword,
                format!("{keyword:?} is empty, padded or contains control characters"),
            ));
        }
        match Capability::from_keyword(keyword) {
            Some(known) => {
                self.known.insert(known);
            }
            None => self.unknown.push(keyword.to_owned()),
        }
        Ok(self)
    }

    /// Whether the CA literally announced `capability`.
    pub fn contains(&self, capability: Capability) -> bool {
        self.known.contains(&capability)
    }

    /// Whether the CA supports `capability`, counting what `SCEPStandard` implies (`AES`,
    /// `POSTPKIOperation` and `SHA-256`, RFC 8894 section 3.5.2).
    pub fn supports(&self, capability: Capability) -> bool {
        self.contains(capability)
            || (self.contains(Capability::ScepStandard)
                && matches!(
                    capability,
                    Capability::Aes | Capability::PostPkiOperation | Capability::Sha256
                ))
    }

    /// The known capabilities announced, in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        self.known.iter().copied()
    }

    /// The unknown keywords, in the order and spelling received.
    pub fn unknown(&self) -> &[String] {
        &self.unknown
    }

    /// Whether nothing at all was announced.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty() && self.unknown.is_empty()
    }

    /// The canonical GetCACaps response body: known keywords in their RFC spelling and the
    /// order of [`Capability::ALL`], then unknown keywords as received, separated by `\n`
    /// (RFC 8894 section 3.5.2 allows `\n` or `\r\n`), without a final newline. Serve it as
    /// `text/plain` (see [`crate::http::HttpResponse::ca_caps`]).
    pub fn format(&self) -> String {
        let mut out = String::new();
        let keywords = self
            .known
            .iter()
            .map(|c| c.keyword())
            .chain(self.unknown.iter().map(String::as_str));
        for (i, keyword) in keywords.enumerate() {
            if i != 0 {
                out.push('\n');
            }
            out.push_str(keyword);
        }
        out
    }

    /// Content-encryption algorithms the CA announces, before any policy: `AES` (or
    /// `SCEPStandard`) maps to AES-128 plus `aes_means`, `DES3` to DES-EDE3.
    pub fn announced_ciphers(&self, aes_means: ContentCipher) -> Vec<ContentCipher> {
        let mut out = Vec::new();
        if self.supports(Capability::Aes) {
            out.push(ContentCipher::Aes128Cbc);
            if matches!(
                aes_means,
                ContentCipher::Aes192Cbc | ContentCipher::Aes256Cbc
            ) {
                out.push(aes_means);
            }
        }
        if self.supports(Capability::Des3) {
            out.push(ContentCipher::DesEde3Cbc);
        }
        out
    }

    /// Digest algorithms the CA announces, before any policy, weakest first.
    pub fn announced_digests(&self) -> Vec<DigestAlgorithm> {
        [
            (Capability::Sha1, DigestAlgorithm::Sha1),
            (Capability::Sha224, DigestAlgorithm::Sha224),
            (Capability::Sha256, DigestAlgorithm::Sha256),
            (Capability::Sha384, DigestAlgorithm::Sha384),
            (Capability::Sha512, DigestAlgorithm::Sha512),
        ]
        .into_iter()
        .filter(|(c, _)| self.supports(*c))
        .map(|(_, d)| d)
        .collect()
    }
}

/// A keyword without what may surround it in a GetCACaps body: whitespace (including the
/// `\r` of `\r\n`) and byte order marks. A UTF-8 BOM starts some bodies, and one left
/// inside a body (concatenated text) must not end up in a keyword either: the canonical
/// text would then start with it, and parsing that text again would drop it.
fn trim_keyword(keyword: &str) -> &str {
    keyword.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        Self {
            known: iter.into_iter().collect(),
            unknown: Vec::new(),
        }
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}

/// What a client accepts when negotiating with a CA.
///
/// Among the algorithms both the CA and the policy accept, the strongest is chosen (by the
/// strength order of [`ContentCipher`] and [`DigestAlgorithm`]; the order of the allowed
/// lists does not matter).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// Refuse a CA that does not announce `SCEPStandard`
    /// ([`PolicyError::ScepStandardRequired`]). GetCACaps travels over plain HTTP, so an
    /// attacker can strip keywords from it; set this when the CA is known to implement
    /// RFC 8894 to stop such a downgrade. Default: `false` (many deployed CAs predate it).
    pub require_scep_standard: bool,
    /// Content-encryption algorithms the client is willing to use. Default: every cipher
    /// this crate produces ([`ContentCipher::PRODUCIBLE`]). Single DES is never chosen.
    pub allowed_ciphers: Vec<ContentCipher>,
    /// Digest algorithms the client is willing to use. Default: all of
    /// [`DigestAlgorithm::ALL`], SHA-1 included because many deployed CAs offer nothing
    /// else; it ranks lowest, so it is chosen only when the CA offers no SHA-2.
    pub allowed_digests: Vec<DigestAlgorithm>,
    /// The AES variant to use when the CA announces `AES` (or `SCEPStandard`). RFC 8894
    /// defines `AES` as AES-128-CBC, the default. Set [`ContentCipher::Aes256Cbc`] (or
    /// `Aes192Cbc`) only when the CA is known to accept it; AES-128 remains the fall-back
    /// when the chosen variant is not allowed. Non-AES values are ignored (AES then means
    /// AES-128).
    pub aes_means: ContentCipher,
    /// For a CA that names no cipher, use DES-EDE3-CBC, and for a CA that names no digest,
    /// use SHA-1, instead of failing. RFC 8894 section 3.5.2 would have the client assume
    /// single DES and MD5 there, which this crate refuses; DES-EDE3 and SHA-1 are what such
    /// old CAs nearly always accept. The fall-back algorithms must still be allowed.
    /// Default: `false`.
    pub legacy_fallback: bool,
    /// Send PKIOperation by GET even when the CA supports POST. Default: `false`.
    pub force_get: bool,
    /// Accept a GetNextCACert answer in jscep's form: a SignedData, verified under the
    /// current CA, with no content and the next CA in its `certificates` field (RFC 8894
    /// section 4.7.1 puts a certs-only SignedData in the content). Default: `true`;
    /// `false` in [`Policy::strict`].
    pub next_ca_in_certificates: bool,
}

impl Policy {
    /// The defaults described on each field: any producible cipher, any digest (SHA-1
    /// last), AES means AES-128, no legacy fall-back, `SCEPStandard` not required.
    pub fn new() -> Self {
        Self {
            require_scep_standard: false,
            allowed_ciphers: ContentCipher::PRODUCIBLE.to_vec(),
            allowed_digests: DigestAlgorithm::ALL.to_vec(),
            aes_means: ContentCipher::Aes128Cbc,
            legacy_fallback: false,
            force_get: false,
            next_ca_in_certificates: true,
        }
    }

    /// For CAs known to implement RFC 8894: `SCEPStandard` required, AES only, SHA-256 or
    /// stronger only.
    pub fn strict() -> Self {
        Self {
            require_scep_standard: true,
            allowed_ciphers: vec![
                ContentCipher::Aes256Cbc,
                ContentCipher::Aes192Cbc,
                ContentCipher::Aes128Cbc,
            ],
            allowed_digests: vec![
                DigestAlgorithm::Sha512,
                DigestAlgorithm::Sha384,
                DigestAlgorithm::Sha256,
            ],
            next_ca_in_certificates: false,
            ..Self::new()
        }
    }

    /// For old CAs: the defaults plus [`Policy::legacy_fallback`].
    pub fn legacy() -> Self {
        Self {
            legacy_fallback: true,
            ..Self::new()
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::new()
    }
}

/// The outcome of [`negotiate`]: what the client uses with this CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Negotiated {
    /// Content-encryption algorithm for the pkcsPKIEnvelope.
    pub cipher: ContentCipher,
    /// Digest algorithm for the SignerInfo (and the signature).
    pub digest: DigestAlgorithm,
    /// Send PKIOperation by POST (the CA supports it and the policy does not force GET).
    pub use_post: bool,
    /// The CA announces `Renewal`.
    pub renewal: bool,
    /// The CA announces `GetNextCACert`.
    pub get_next_ca_cert: bool,
    /// The CA announces `SCEPStandard`.
    pub scep_standard: bool,
    /// The cipher or the digest comes from [`Policy::legacy_fallback`], not from the CA's
    /// announcement.
    pub legacy_fallback: bool,
}

/// Chooses the cipher, digest and transport for a CA with capabilities `caps` under
/// `policy`: the strongest cipher and digest that both accept (see the
/// [module documentation](self) for `AES` and for CAs that announce nothing).
///
/// # Errors
///
/// [`PolicyError::ScepStandardRequired`] when the policy requires `SCEPStandard` and the
/// CA does not announce it (checked first), then [`PolicyError::NoCommonCipher`] or
/// [`PolicyError::NoCommonDigest`].
pub fn negotiate(caps: &Capabilities, policy: &Policy) -> Result<Negotiated> {
    if policy.require_scep_standard && !caps.contains(Capability::ScepStandard) {
        return Err(PolicyError::ScepStandardRequired.into());
    }

    let mut fallback = false;

    let mut ciphers = caps.announced_ciphers(policy.aes_means);
    if ciphers.is_empty() && policy.legacy_fallback {
        ciphers.push(ContentCipher::DesEde3Cbc);
        fallback = true;
    }
    let cipher = ciphers
        .into_iter()
        .filter(|c| policy.allowed_ciphers.contains(c) && *c != ContentCipher::InsecureDesCbc)
        .max()
        .ok_or(PolicyError::NoCommonCipher)?;

    let mut digests = caps.announced_digests();
    if digests.is_empty() && policy.legacy_fallback {
        digests.push(DigestAlgorithm::Sha1);
        fallback = true;
    }
    let digest = digests
        .into_iter()
        .filter(|d| policy.allowed_digests.contains(d))
        .max()
        .ok_or(PolicyError::NoCommonDigest)?;

    Ok(Negotiated {
        cipher,
        digest,
        use_post: caps.supports(Capability::PostPkiOperation) && !policy.force_get,
        renewal: caps.contains(Capability::Renewal),
        get_next_ca_cert: caps.contains(Capability::GetNextCaCert),
        scep_standard: caps.contains(Capability::ScepStandard),
        legacy_fallback: fallback,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(text: &str) -> Capabilities {
        Capabilities::parse(text).unwrap()
    }

    fn known(c: &Capabilities) -> Vec<Capability> {
        c.iter().collect()
    }

    #[test]
    fn parses_lf_and_crlf_alike() {
        let lf = caps("AES\nSHA-256\nPOSTPKIOperation");
        let crlf = caps("AES\r\nSHA-256\r\nPOSTPKIOperation\r\n");
        assert_eq!(lf, crlf);
        assert_eq!(
            known(&lf),
            vec![
                Capability::Aes,
                Capability::PostPkiOperation,
                Capability::Sha256
            ]
        );
        assert!(lf.unknown().is_empty());
    }

    #[test]
    fn ignores_case_of_known_keywords() {
        let c = caps(
            "aes\nsha-256\nscepstandard\npostpkioperation\ndes3\nGETNEXTCACERT\nrenewal\nsha-1\nSha-512\nupdate",
        );
        assert_eq!(
            known(&c),
            vec![
                Capability::Aes,
                Capability::Des3,
                Capability::GetNextCaCert,
                Capability::PostPkiOperation,
                Capability::Renewal,
                Capability::Sha1,
                Capability::Sha256,
                Capability::Sha512,
                Capability::ScepStandard,
                Capability::Update,
            ]
        );
        assert!(c.unknown().is_empty());
    }

    #[test]
    fn tolerates_blank_lines_and_whitespace() {
        let c = caps("\n\n  AES  \r\n\t\r\n SHA-256\t\n\n\r\n");
        assert_eq!(known(&c), vec![Capability::Aes, Capability::Sha256]);
        assert!(c.unknown().is_empty());
        // A byte-order mark before the first keyword is dropped.
        assert_eq!(caps("\u{feff}AES"), caps("AES"));
    }

    #[test]
    fn keeps_unknown_keywords_in_order_and_spelling() {
        let c = caps("AES\nX-Vendor-Thing\nSHA-3\r\nrenewal\nSHA 256");
        assert_eq!(known(&c), vec![Capability::Aes, Capability::Renewal]);
        assert_eq!(c.unknown(), ["X-Vendor-Thing", "SHA-3", "SHA 256"]);
        assert_eq!(c.format(), "AES\nRenewal\nX-Vendor-Thing\nSHA-3\nSHA 256");
    }

    #[test]
    fn empty_body_supports_nothing() {
        for text in ["", "\n", "\r\n\r\n", "   "] {
            let c = caps(text);
            assert!(c.is_empty(), "{text:?}");
            assert_eq!(c, Capabilities::new());
            for cap in Capability::ALL {
                assert!(!c.supports(cap));
            }
        }
    }

    #[test]
    fn duplicates_collapse() {
        let c = caps("AES\naes\nAES");
        assert_eq!(known(&c), vec![Capability::Aes]);
        assert_eq!(c.format(), "AES");
    }

    #[test]
    fn from_bytes_rejects_non_utf8() {
        let err = Capabilities::from_bytes(b"AES\n\xff\xfe").unwrap_err();
        assert!(
            matches!(
                err,
                Error::Decode {
                    element: Element::GetCaCapsResponse,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            Capabilities::from_bytes(b"AES\r\nSHA-256").unwrap(),
            caps("AES\nSHA-256")
        );
    }

    #[test]
    fn size_and_count_limits() {
        let big = "A".repeat(MAX_CAPS_SIZE + 1);
        assert_eq!(
            Capabilities::parse(&big).unwrap_err(),
            Error::Limit {
                what: LimitKind::CapsResponseSize,
                limit: MAX_CAPS_SIZE
            }
        );
        assert_eq!(
            Capabilities::from_bytes(big.as_bytes()).unwrap_err(),
            Error::Limit {
                what: LimitKind::CapsResponseSize,
                limit: MAX_CAPS_SIZE
            }
        );
        // Exactly at the size limit is fine.
        let at = "A".repeat(MAX_CAPS_SIZE);
        assert_eq!(Capabilities::parse(&at).unwrap().unknown().len(), 1);

        let ok = vec!["AES"; MAX_CAPS_KEYWORDS].join("\n");
        assert!(Capabilities::parse(&ok).is_ok());
        let too_many = vec!["AES"; MAX_CAPS_KEYWORDS + 1].join("\n");
        assert_eq!(
            Capabilities::parse(&too_many).unwrap_err(),
            Error::Limit {
                what: LimitKind::CapsKeywordCount,
                limit: MAX_CAPS_KEYWORDS
            }
        );
        // Blank lines do not count as keywords.
        let padded = format!("{}{}", "\n".repeat(1000), ok);
        assert!(Capabilities::parse(&padded).is_ok());
    }

    #[test]
    fn format_is_canonical_and_round_trips() {
        let all: Capabilities = Capability::ALL.into_iter().collect();
        assert_eq!(
            all.format(),
            "AES\nDES3\nGetNextCACert\nPOSTPKIOperation\nRenewal\nSHA-1\nSHA-224\nSHA-256\nSHA-384\nSHA-512\nSCEPStandard\nUpdate"
        );
        let with_ext = all.clone().with_extension("Vendor-X").unwrap();
        for c in [
            all,
            with_ext,
            Capabilities::new(),
            Capabilities::scep_standard(),
        ] {
            assert_eq!(Capabilities::parse(&c.format()).unwrap(), c);
            assert_eq!(c.to_string(), c.format());
        }
        // Sloppy input formats canonically.
        assert_eq!(
            caps("sha-256\r\n\r\nscepstandard\naes\n").format(),
            "AES\nSHA-256\nSCEPStandard"
        );
    }

    #[test]
    fn builder() {
        let mut c = Capabilities::new()
            .with(Capability::Renewal)
            .with(Capability::Aes);
        assert!(c.insert(Capability::Sha256));
        assert!(!c.insert(Capability::Sha256));
        assert!(c.remove(Capability::Renewal));
        assert!(!c.remove(Capability::Renewal));
        assert_eq!(c.format(), "AES\nSHA-256");
        // An extension that is really a known keyword becomes that keyword.
        let c = c.with_extension("des3").unwrap();
        assert!(c.contains(Capability::Des3));
        assert!(c.unknown().is_empty());
        for bad in ["", " X", "X ", "A\nB", "A\rB", "A\u{7}"] {
            assert!(
                matches!(
                    Capabilities::new().with_extension(bad),
                    Err(Error::Encode {
                        element: Element::GetCaCapsKeyword,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn scep_standard_implies_aes_post_sha256() {
        let c = caps("SCEPStandard");
        for cap in [
            Capability::Aes,
            Capability::PostPkiOperation,
            Capability::Sha256,
            Capability::ScepStandard,
        ] {
            assert!(c.supports(cap), "{cap}");
        }
        assert!(!c.contains(Capability::Aes));
        for cap in [
            Capability::Des3,
            Capability::Sha1,
            Capability::Sha512,
            Capability::Renewal,
            Capability::GetNextCaCert,
        ] {
            assert!(!c.supports(cap), "{cap}");
        }
    }

    #[test]
    fn negotiate_scep_standard_only() {
        let n = negotiate(&caps("SCEPStandard"), &Policy::default()).unwrap();
        assert_eq!(n.cipher, ContentCipher::Aes128Cbc);
        assert_eq!(n.digest, DigestAlgorithm::Sha256);
        assert!(n.use_post);
        assert!(n.use_post);
        assert!(n.scep_standard);
        assert!(!n.renewal && !n.get_next_ca_cert && !n.legacy_fallback);
        // The strict policy accepts it too.
        assert_eq!(
            negotiate(&caps("SCEPStandard"), &Policy::strict()).unwrap(),
            n
        );
    }

    #[test]
    fn negotiate_aes_sha256() {
        let n = negotiate(&caps("AES\nSHA-256"), &Policy::default()).unwrap();
        assert_eq!(n.cipher, ContentCipher::Aes128Cbc);
        assert_eq!(n.digest, DigestAlgorithm::Sha256);
        assert!(!n.use_post);
        assert!(!n.use_post);
        assert!(!n.scep_standard);
    }

    #[test]
    fn negotiate_aes_means() {
        let mut p = Policy {
            aes_means: ContentCipher::Aes256Cbc,
            ..Policy::default()
        };
        let n = negotiate(&caps("AES\nSHA-256"), &p).unwrap();
        assert_eq!(n.cipher, ContentCipher::Aes256Cbc);
        p.aes_means = ContentCipher::Aes192Cbc;
        assert_eq!(
            negotiate(&caps("SCEPStandard"), &p).unwrap().cipher,
            ContentCipher::Aes192Cbc
        );
        // AES-256 wanted but not allowed: AES-128 remains.
        p.aes_means = ContentCipher::Aes256Cbc;
        p.allowed_ciphers = vec![ContentCipher::Aes128Cbc, ContentCipher::DesEde3Cbc];
        assert_eq!(
            negotiate(&caps("AES\nDES3\nSHA-256"), &p).unwrap().cipher,
            ContentCipher::Aes128Cbc
        );
        // A non-AES value is ignored.
        let mut p = Policy {
            aes_means: ContentCipher::DesEde3Cbc,
            ..Policy::default()
        };
        assert_eq!(
            negotiate(&caps("AES\nSHA-256"), &p).unwrap().cipher,
            ContentCipher::Aes128Cbc
        );
        // aes_means never adds AES when the CA does not announce it.
        p.aes_means = ContentCipher::Aes256Cbc;
        assert_eq!(
            negotiate(&caps("DES3\nSHA-256"), &p).unwrap().cipher,
            ContentCipher::DesEde3Cbc
        );
    }

    #[test]
    fn negotiate_des3_sha1_only() {
        let c = caps("DES3\nSHA-1");
        let n = negotiate(&c, &Policy::default()).unwrap();
        assert_eq!(n.cipher, ContentCipher::DesEde3Cbc);
        assert_eq!(n.digest, DigestAlgorithm::Sha1);
        assert!(!n.legacy_fallback);
        let no_des3 = Policy {
            allowed_ciphers: vec![ContentCipher::Aes128Cbc],
            ..Policy::default()
        };
        assert_eq!(
            negotiate(&c, &no_des3).unwrap_err(),
            Error::Policy(PolicyError::NoCommonCipher)
        );
        let no_sha1 = Policy {
            allowed_digests: vec![DigestAlgorithm::Sha256],
            ..Policy::default()
        };
        assert_eq!(
            negotiate(&c, &no_sha1).unwrap_err(),
            Error::Policy(PolicyError::NoCommonDigest)
        );
    }

    #[test]
    fn negotiate_picks_strongest() {
        let c = caps("DES3\nAES\nSHA-1\nSHA-256\nSHA-512\nSHA-384\nSHA-224");
        let n = negotiate(&c, &Policy::default()).unwrap();
        assert_eq!(n.cipher, ContentCipher::Aes128Cbc);
        assert_eq!(n.digest, DigestAlgorithm::Sha512);
        // The order of the allowed list does not matter.
        let p = Policy {
            allowed_digests: vec![DigestAlgorithm::Sha1, DigestAlgorithm::Sha256],
            ..Policy::default()
        };
        assert_eq!(negotiate(&c, &p).unwrap().digest, DigestAlgorithm::Sha256);
        // Single DES is never chosen, even if listed as allowed.
        let mut p = Policy::legacy();
        p.allowed_ciphers = vec![ContentCipher::InsecureDesCbc];
        assert_eq!(
            negotiate(&Capabilities::new(), &p).unwrap_err(),
            Error::Policy(PolicyError::NoCommonCipher)
        );
    }

    #[test]
    fn negotiate_empty() {
        let empty = Capabilities::new();
        assert_eq!(
            negotiate(&empty, &Policy::default()).unwrap_err(),
            Error::Policy(PolicyError::NoCommonCipher)
        );
        let n = negotiate(&empty, &Policy::legacy()).unwrap();
        assert_eq!(n.cipher, ContentCipher::DesEde3Cbc);
        assert_eq!(n.digest, DigestAlgorithm::Sha1);
        assert!(n.legacy_fallback);
        assert!(!n.use_post && !n.renewal && !n.get_next_ca_cert && !n.scep_standard);
        // Fall-back applies per dimension: a CA naming AES but no digest gets SHA-1 ...
        let n = negotiate(&caps("AES"), &Policy::legacy()).unwrap();
        assert_eq!(
            (n.cipher, n.digest, n.legacy_fallback),
            (ContentCipher::Aes128Cbc, DigestAlgorithm::Sha1, true)
        );
        // ... and without the fall-back, no digest.
        assert_eq!(
            negotiate(&caps("AES"), &Policy::default()).unwrap_err(),
            Error::Policy(PolicyError::NoCommonDigest)
        );
        // The fall-back algorithms must themselves be allowed.
        let mut p = Policy::legacy();
        p.allowed_digests = vec![DigestAlgorithm::Sha256];
        assert_eq!(
            negotiate(&empty, &p).unwrap_err(),
            Error::Policy(PolicyError::NoCommonDigest)
        );
        // A CA that names ciphers the policy refuses does not trigger the fall-back.
        let mut p = Policy::legacy();
        p.allowed_ciphers = vec![ContentCipher::DesEde3Cbc];
        assert_eq!(
            negotiate(&caps("AES\nSHA-256"), &p).unwrap_err(),
            Error::Policy(PolicyError::NoCommonCipher)
        );
    }

    #[test]
    fn negotiate_downgrade_guard() {
        let p = Policy {
            require_scep_standard: true,
            ..Policy::default()
        };
        // Everything else is fine, but SCEPStandard is missing.
        let stripped = caps("AES\nSHA-256\nPOSTPKIOperation\nRenewal");
        assert_eq!(
            negotiate(&stripped, &p).unwrap_err(),
            Error::Policy(PolicyError::ScepStandardRequired)
        );
        assert_eq!(
            negotiate(&Capabilities::new(), &Policy::strict()).unwrap_err(),
            Error::Policy(PolicyError::ScepStandardRequired)
        );
        // The guard comes before the fall-back.
        let mut p = Policy::legacy();
        p.require_scep_standard = true;
        assert_eq!(
            negotiate(&Capabilities::new(), &p).unwrap_err(),
            Error::Policy(PolicyError::ScepStandardRequired)
        );
        assert!(negotiate(&stripped.with(Capability::ScepStandard), &Policy::strict()).is_ok());
        // SCEPStandard implies AES and SHA-256, which strict allows, whatever else is named.
        let n = negotiate(&caps("SCEPStandard\nSHA-1\nDES3"), &Policy::strict()).unwrap();
        assert_eq!(
            (n.cipher, n.digest),
            (ContentCipher::Aes128Cbc, DigestAlgorithm::Sha256)
        );
    }

    #[test]
    fn negotiate_transport_flags() {
        let c = caps("Renewal\nGetNextCACert\nPOSTPKIOperation\nAES\nSHA-256\nUpdate");
        let n = negotiate(&c, &Policy::default()).unwrap();
        assert!(n.use_post && n.renewal && n.get_next_ca_cert && !n.scep_standard);
        let p = Policy {
            force_get: true,
            ..Policy::default()
        };
        let n = negotiate(&c, &p).unwrap();
        assert!(!n.use_post);
        assert!(!n.use_post);
        // "Update" alone does not mean Renewal.
        assert!(
            !negotiate(&caps("Update\nAES\nSHA-256"), &Policy::default())
                .unwrap()
                .renewal
        );
    }
}
