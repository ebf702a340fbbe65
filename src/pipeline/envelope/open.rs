//! Opening: parsing an EnvelopedData, choosing the one RecipientInfo for the key, and
//! decrypting, with every failure after key transport the same error.

use super::*;
use crate::error::{Element, LimitKind};

fn parse(input: &[u8], limits: &Limits) -> Result<(EnvelopedData, Vec<RecipientInfo>)> {
    let env = crate::pipeline::content_info::open(
        input,
        limits,
        oids::ID_ENVELOPED_DATA,
        Element::PkcsPkiEnvelopeContentInfo,
        "the pkcsPKIEnvelope ContentInfo is not id-envelopedData",
    )?
    .decode_as::<EnvelopedData>()
    .map_err(|e| Error::decode(Element::EnvelopedData, e))?;
    if env.recip_infos.len() > limits.max_recipients {
        return Err(Error::Limit {
            what: LimitKind::Recipients,
            limit: limits.max_recipients,
        });
    }
    let recipients = env
        .recip_infos
        .iter()
        .map(RecipientInfo::from_any)
        .collect::<Result<Vec<_>>>()?;
    Ok((env, recipients))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Reads an envelope (a BER or DER `ContentInfo` of type id-envelopedData) without
/// decrypting it.
pub fn inspect(input: &[u8], limits: &Limits) -> Result<EnvelopeInfo> {
    let (env, recipients) = parse(input, limits)?;
    let cipher = read_cipher(
        Element::EncryptedContentInfoContentEncryptionAlgorithm,
        &env.encrypted_content.content_enc_alg,
        true,
    )
    .map(|(c, _)| c);
    let recipients = recipients
        .iter()
        .map(|r| match r {
            RecipientInfo::Ktri(k) => match &k.rid {
                RecipientIdentifier::IssuerAndSerialNumber(ias) => RecipientKind::KeyTransport {
                    issuer: ias.issuer.to_string(),
                    serial: hex(ias.serial_number.as_bytes()),
                },
                RecipientIdentifier::SubjectKeyIdentifier(ski) => {
                    RecipientKind::KeyTransportSki(hex(ski.as_bytes()))
                }
            },
            RecipientInfo::Pwri(_) => RecipientKind::Password,
            _ => RecipientKind::Other,
        })
        .collect();
    Ok(EnvelopeInfo {
        cipher,
        recipients,
        encrypted_len: env
            .encrypted_content
            .encrypted_content
            .as_ref()
            .map_or(0, |c| c.as_bytes().len()),
    })
}

/// Derives the key-encryption key of a PasswordRecipientInfo from `password` and checks
/// the parameters (public information, so their errors may differ). Returns the
/// key-encryption cipher, key and IV.
fn pwri_kek(
    pwri: &PasswordRecipientInfo,
    password: &[u8],
    options: &DecryptOptions,
) -> Result<(ContentCipher, Secret, Vec<u8>)> {
    let kdf = pwri
        .key_derivation_alg
        .as_ref()
        .ok_or(ProtocolError::UnexpectedContent(
            "a PasswordRecipientInfo without keyDerivationAlgorithm",
        ))?;
    if kdf.oid != oids::PBKDF2 {
        return Err(Error::unsupported(
            Element::PasswordRecipientInfoKeyDerivationAlgorithm,
            &kdf.oid,
        ));
    }
    let params = kdf
        .parameters
        .as_ref()
        .ok_or_else(|| Error::decode(Element::Pbkdf2Params, "absent"))?
        .decode_as::<Pbkdf2Params>()
        .map_err(|e| Error::decode(Element::Pbkdf2Params, e))?;
    if params.iteration_count == 0 {
        return Err(Error::decode(Element::Pbkdf2Params, "iterationCount is 0"));
    }
    // One PasswordRecipientInfo is tried per envelope, so the limit is the envelope's
    // whole PBKDF2 budget.
    if params.iteration_count > options.limits.max_pbkdf2_iterations {
        return Err(Error::Limit {
            what: LimitKind::Pbkdf2Iterations,
            limit: usize::try_from(options.limits.max_pbkdf2_iterations).unwrap_or(usize::MAX),
        });
    }
    if pwri.key_enc_alg.oid != oids::PWRI_KEK {
        return Err(Error::unsupported(
            Element::PasswordRecipientInfoKeyEncryptionAlgorithm,
            &pwri.key_enc_alg.oid,
        ));
    }
    let kek_alg = pwri
        .key_enc_alg
        .parameters
        .as_ref()
        .ok_or_else(|| Error::decode(Element::IdAlgPwriKekParameters, "absent"))?
        .decode_as::<AlgorithmIdentifierOwned>()
        .map_err(|e| Error::decode(Element::IdAlgPwriKekParameters, e))?;
    let (kek_cipher, kek_iv) = read_cipher(
        Element::IdAlgPwriKekParameters,
        &kek_alg,
        options.allow_insecure_single_des,
    )?;
    if let Some(len) = params.key_length
        && usize::try_from(len).ok() != Some(kek_cipher.key_len())
    {
        return Err(AlgorithmError::BadParameters {
            element: Element::Pbkdf2ParamsKeyLength,
            detail: format!("{len} octets, {kek_cipher} needs {}", kek_cipher.key_len()),
        }
        .into());
    }
    let prf = params.prf.as_ref().map_or(oids::HMAC_WITH_SHA1, |p| p.oid);
    let mut kek = Secret::new(vec![0u8; kek_cipher.key_len()]);
    pbkdf2(
        &prf,
        password,
        params.salt.as_bytes(),
        params.iteration_count,
        &mut kek,
    )?;
    Ok((kek_cipher, kek, kek_iv))
}

fn ktri_matches(k: &KeyTransRecipientInfo, cert: &Certificate) -> bool {
    match &k.rid {
        RecipientIdentifier::IssuerAndSerialNumber(ias) => ias.matches(cert),
        RecipientIdentifier::SubjectKeyIdentifier(ski) => {
            crate::asn1::cert::has_subject_key_identifier(cert, ski.as_bytes())
        }
    }
}

fn check_key_transport_alg(k: &KeyTransRecipientInfo) -> Result<()> {
    let alg = &k.key_enc_alg;
    if alg.oid != oids::RSA_ENCRYPTION {
        return Err(Error::unsupported(
            Element::KeyTransRecipientInfoKeyEncryptionAlgorithm,
            &alg.oid,
        ));
    }
    // NULL (RFC 3370) or absent (Go, Apple).
    match &alg.parameters {
        None => Ok(()),
        Some(p) if p.is_null() => Ok(()),
        Some(_) => Err(AlgorithmError::BadParameters {
            element: Element::KeyTransRecipientInfoKeyEncryptionAlgorithm,
            detail: "rsaEncryption parameters must be NULL or absent".into(),
        }
        .into()),
    }
}

/// A secret of this process, drawn from the operating system once, that makes substitute
/// keys unpredictable whatever their seed; `None` if the operating system's generator
/// failed (then nothing is decrypted: RSA blinding would fail too).
pub(super) fn process_secret() -> Option<&'static [u8; 32]> {
    static SECRET: std::sync::OnceLock<Option<[u8; 32]>> = std::sync::OnceLock::new();
    SECRET
        .get_or_init(|| {
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret).ok().map(|()| secret)
        })
        .as_ref()
}

/// A content-encryption key of `len` octets that stands in for one that could not be
/// recovered, so that decryption goes on and fails the same way as with a wrong key
/// (RFC 3218 section 2.3.2): SHA-512 of the process `secret`, the kind of seed, and `seed`
/// (what the key transport gave: the output of an RSA decryption, the encryptedKey when
/// the key reported an error, the key-encryption key derived from the password). It is
/// the same for the same seed, and nobody outside the process can compute it.
pub(super) fn substitute_key(secret: &[u8; 32], len: usize, kind: &[u8], seed: &[u8]) -> Secret {
    use sha2::Digest;
    let mut hasher = sha2::Sha512::new();
    hasher.update(b"scep substitute content-encryption key");
    hasher.update(secret);
    hasher.update(kind);
    hasher.update(seed);
    Secret::new(hasher.finalize().into_iter().take(len).collect())
}

/// Refuses an encryptedKey that is not a canonical RSA ciphertext for the recipient key
/// `spki`: exactly as long as the modulus, and below it (RFC 8017 section 7.2.2, step 1,
/// and RSADP's range check, both a "decryption error" there: here
/// [`CryptoError::DecryptionFailed`], as for a wrong key). Both conditions are public. They
/// give each ciphertext value one encoding, whatever a [`KeyDecryptor`] would accept, so
/// that a server's memory of the encryptedKeys it saw cannot be passed by another encoding
/// of the same value.
fn check_encrypted_key(
    encrypted: &[u8],
    spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
) -> Result<()> {
    use rsa::traits::PublicKeyParts;
    let key = crate::pipeline::keys::rsa_public_key(spki)?;
    let n = key.n_bytes();
    if encrypted.len() != key.size() || n.len() != encrypted.len() || encrypted >= &n[..] {
        return Err(CryptoError::DecryptionFailed.into());
    }
    Ok(())
}

/// The RecipientInfo an [`EnvelopeKey`] opens.
enum Selected<'e> {
    KeyTransport(&'e KeyTransRecipientInfo),
    Password(&'e PasswordRecipientInfo),
}

/// An envelope read for opening: everything that can be read without a key. Every error
/// up to here concerns what travels in clear.
pub(crate) struct Envelope {
    cipher: ContentCipher,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    recipients: Vec<RecipientInfo>,
}

impl Envelope {
    /// Parses an envelope (BER or DER `ContentInfo` of type id-envelopedData) and reads its
    /// content-encryption algorithm (refusing single DES unless allowed) and ciphertext.
    pub(crate) fn parse(input: &[u8], options: &DecryptOptions) -> Result<Self> {
        let (env, recipients) = parse(input, &options.limits)?;
        let eci = env.encrypted_content;
        let (cipher, iv) = read_cipher(
            Element::EncryptedContentInfoContentEncryptionAlgorithm,
            &eci.content_enc_alg,
            options.allow_insecure_single_des,
        )?;
        let ciphertext = eci
            .encrypted_content
            .ok_or(ProtocolError::UnexpectedContent(
                "the EnvelopedData has no encryptedContent",
            ))?
            .into_bytes()
            .into_vec();
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(cipher.block_len()) {
            return Err(Error::decode(
                Element::EncryptedContentInfoEncryptedContent,
                format_args!(
                    "{} octets is not a whole number of {cipher} blocks",
                    ciphertext.len()
                ),
            ));
        }
        Ok(Self {
            cipher,
            iv,
            ciphertext,
            recipients,
        })
    }

    /// How many of the RecipientInfos `key` would open: a [`EnvelopeKey::Key`] with its
    /// certificate, those naming the certificate; without, every key-transport one; a
    /// password, every PasswordRecipientInfo.
    pub(crate) fn addressed_to(&self, key: &EnvelopeKey<'_>) -> usize {
        self.candidates(key).count()
    }

    fn candidates<'s>(&'s self, key: &EnvelopeKey<'_>) -> impl Iterator<Item = Selected<'s>> {
        let key = *key;
        self.recipients.iter().filter_map(move |r| match (r, key) {
            (RecipientInfo::Ktri(k), EnvelopeKey::Key { certificate, .. })
                if certificate.is_none_or(|c| ktri_matches(k, c)) =>
            {
                Some(Selected::KeyTransport(k))
            }
            (RecipientInfo::Pwri(p), EnvelopeKey::Password(_)) => Some(Selected::Password(p)),
            _ => None,
        })
    }

    /// The one RecipientInfo `key` opens: none is [`CryptoError::NoMatchingRecipient`],
    /// more than one [`ProtocolError::DuplicateRecipient`] (each would cost a private-key
    /// operation or a PBKDF2 derivation, so only one is ever tried).
    fn select(&self, key: &EnvelopeKey<'_>) -> Result<Selected<'_>> {
        let mut found = self.candidates(key);
        let first = found.next().ok_or(CryptoError::NoMatchingRecipient)?;
        if found.next().is_some() {
            return Err(ProtocolError::DuplicateRecipient(match first {
                Selected::KeyTransport(_) => "KeyTransRecipientInfo",
                Selected::Password(_) => "PasswordRecipientInfo",
            })
            .into());
        }
        Ok(first)
    }

    /// Decrypts the content with `key` and decodes it with `decode`, as one step.
    ///
    /// What is public is checked first, each with its own error: which RecipientInfo the
    /// key opens, its algorithm parameters, and the size of the ciphertext against
    /// `max_plaintext` (a ciphertext whose smallest possible plaintext is larger is
    /// refused before any decryption, as [`Error::Limit`] `what`), and that an
    /// encryptedKey is a canonical RSA ciphertext. `admit` then sees the encryptedKey (the
    /// RecipientInfo's, as it travels: public) before the key transport and may refuse it:
    /// a server refuses one it saw in another message (a captured envelope replayed with
    /// chosen ciphertext), a decision that depends on nothing secret. From key transport
    /// to the decoded value everything fails as one [`CryptoError::DecryptionFailed`],
    /// after the same work: a key that cannot be recovered is replaced by a substitute
    /// (see [`substitute_key`]), the whole content is decrypted, the padding checked, and
    /// `decode` run (over the content without its padding, or all of it when the padding
    /// is wrong) whatever happened before. Nothing decrypted reaches the error.
    pub(crate) fn open_with<T>(
        &self,
        key: EnvelopeKey<'_>,
        options: &DecryptOptions,
        max_plaintext: (usize, LimitKind),
        admit: &mut dyn FnMut(&[u8]) -> Result<()>,
        decode: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<(T, ContentCipher)> {
        let cipher = self.cipher;
        let key_spki = match key {
            EnvelopeKey::Key { key, certificate } => {
                let key_spki = key.recipient_key_info()?;
                if certificate
                    .is_some_and(|c| c.tbs_certificate().subject_public_key_info() != &key_spki)
                {
                    return Err(Error::key(
                        "the decryption key does not belong to the certificate given with it",
                    ));
                }
                Some(key_spki)
            }
            EnvelopeKey::Password(_) => None,
        };
        let selected = self.select(&key)?;
        let (limit, what) = max_plaintext;
        if self.ciphertext.len().saturating_sub(cipher.block_len()) > limit {
            return Err(Error::Limit { what, limit });
        }
        let secret = process_secret().ok_or(CryptoError::DecryptionFailed)?;
        // Recover the content-encryption key, or a substitute (`recovered` false). The
        // substitute is made either way, so that both cost the same.
        let len = cipher.key_len();
        let (recovered, substitute) = match (selected, key, &key_spki) {
            (Selected::KeyTransport(ktri), EnvelopeKey::Key { key, .. }, Some(spki)) => {
                check_key_transport_alg(ktri)?;
                let encrypted = ktri.enc_key.as_bytes();
                check_encrypted_key(encrypted, spki)?;
                admit(encrypted)?;
                match key.decrypt_key(encrypted) {
                    Ok(k) => {
                        let k = Secret::new(k);
                        let substitute = substitute_key(secret, len, b"output", &k);
                        (Some(k), substitute)
                    }
                    Err(_) => (None, substitute_key(secret, len, b"error", encrypted)),
                }
            }
            (Selected::Password(pwri), EnvelopeKey::Password(password), _) => {
                admit(pwri.enc_key.as_bytes())?;
                let (kek_cipher, kek, kek_iv) = pwri_kek(pwri, password, options)?;
                let unwrapped = pwri_unwrap(kek_cipher, &kek, &kek_iv, pwri.enc_key.as_bytes());
                (unwrapped, substitute_key(secret, len, b"password", &kek))
            }
            // `select` pairs key-transport recipients with keys and PWRIs with passwords.
            _ => return Err(CryptoError::NoMatchingRecipient.into()),
        };
        let (cek, recovered) = match recovered {
            Some(k) if k.len() == len => (k, true),
            _ => (substitute, false),
        };
        // The ciphertext is a whole number of blocks and the key has the cipher's length
        // (checked above), so this does not fail; if it did, it would fail like the rest.
        let plain = Secret::new(
            cbc_raw(cipher, &cek, &self.iv, &self.ciphertext, false).unwrap_or_default(),
        );
        let unpadded = pkcs7_unpadded_len(&plain, cipher.block_len());
        let content = plain
            .get(..unpadded.unwrap_or(plain.len()))
            .unwrap_or_default();
        let decoded = decode(content);
        match (recovered, unpadded.is_some(), decoded) {
            (true, true, Ok(value)) => Ok((value, cipher)),
            _ => Err(CryptoError::DecryptionFailed.into()),
        }
    }
}

/// Decrypts an envelope (a BER or DER `ContentInfo` of type id-envelopedData).
///
/// Exactly one RecipientInfo may be addressed to `key` (see [`EnvelopeKey`]); the
/// decrypted content may be at most [`Limits::max_message_size`] octets. A wrong key or
/// password, a corrupted key and bad padding are one [`CryptoError::DecryptionFailed`].
pub fn open(input: &[u8], key: EnvelopeKey<'_>, options: &DecryptOptions) -> Result<Decrypted> {
    Envelope::parse(input, options)?
        .open_with(
            key,
            options,
            (options.limits.max_message_size, LimitKind::MessageSize),
            &mut |_| Ok(()),
            |p| Ok(p.to_vec()),
        )
        .map(|(plaintext, cipher)| Decrypted { cipher, plaintext })
}
