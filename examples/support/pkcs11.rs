//! An RSA key in a PKCS #11 token (a hardware security module, or SoftHSM2) as this
//! crate's [`MessageSigner`] and [`KeyDecryptor`]: the private key never leaves the
//! token; the token signs (`CKM_RSA_PKCS` over the DigestInfo of the digest the crate
//! computed, RFC 8017 section 9.2) and decrypts the content-encryption key of a
//! KeyTransRecipientInfo (`CKM_RSA_PKCS`, RFC 8017 section 7.2).
//!
//! A token reports bad PKCS #1 v1.5 padding as an error (`CKR_ENCRYPTED_DATA_INVALID`);
//! the crate's envelope pipeline treats that error as it treats a wrong key, after the
//! same work, so the answer and the work after it do not tell one from the other. What
//! this cannot cover is the token's own timing: how long `CKM_RSA_PKCS` takes on bad
//! padding is the token's (the Marvin attack); choose a token that decrypts in constant
//! time. Every other failure of the token (a lost session, a removed device) is also
//! answered as a decryption failure here; the operator sees it in the token's logs.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use der::asn1::{BitString, Null, OctetString};
use der::{Encode, Sequence};
use scep::error::{CryptoError, Error};
use scep::{DigestAlgorithm, KeyAlgorithm, KeyDecryptor, MessageSigner};
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `rsaEncryption` (RFC 8017 appendix A.1).
const RSA_ENCRYPTION: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// DigestInfo (RFC 8017 section 9.2): what `CKM_RSA_PKCS` signs.
#[derive(Sequence)]
struct DigestInfo {
    algorithm: AlgorithmIdentifierOwned,
    digest: OctetString,
}

/// A PKCS #11 module, loaded and initialised once per process, and one of its tokens.
pub struct Token {
    pkcs11: Pkcs11,
    slot: Slot,
}

impl Token {
    /// Loads `module` (e.g. `/usr/lib/softhsm/libsofthsm2.so`) and finds the token
    /// labelled `label`.
    pub fn open(module: &Path, label: &str) -> Result<Self, BoxError> {
        let pkcs11 = load(module)?;
        Self::labelled(pkcs11, label)
    }

    /// The initialised token labelled `label` of `pkcs11`.
    fn labelled(pkcs11: Pkcs11, label: &str) -> Result<Self, BoxError> {
        for slot in pkcs11.get_slots_with_initialized_token()? {
            if pkcs11.get_token_info(slot)?.label() == label {
                return Ok(Self { pkcs11, slot });
            }
        }
        Err(format!("no initialised token is labelled {label:?}").into())
    }

    /// Loads `module` and initialises a token labelled `label` in the first slot without
    /// one, with the security officer PIN `so_pin` and the user PIN `pin`.
    pub fn initialise(
        module: &Path,
        label: &str,
        so_pin: &str,
        pin: &str,
    ) -> Result<Self, BoxError> {
        let pkcs11 = load(module)?;
        let initialised = pkcs11.get_slots_with_initialized_token()?;
        let slot = pkcs11
            .get_slots_with_token()?
            .into_iter()
            .find(|s| !initialised.contains(s))
            .ok_or("every slot of the module holds an initialised token")?;
        let so_pin = AuthPin::new(so_pin.into());
        pkcs11.init_token(slot, &so_pin, label)?;
        let session = pkcs11.open_rw_session(slot)?;
        session.login(UserType::So, Some(&so_pin))?;
        session.init_pin(&AuthPin::new(pin.into()))?;
        session.logout()?;
        // The module renumbers its slots once a token is initialised (SoftHSM2 does).
        drop(session);
        Self::labelled(pkcs11, label)
    }

    /// Generates an RSA key pair of `bits` in the token, labelled `key_label`: the private
    /// key sensitive and not extractable, usable to sign and decrypt only.
    pub fn generate_rsa(
        &self,
        pin: &str,
        key_label: &str,
        bits: u64,
    ) -> Result<TokenKey, BoxError> {
        let session = self.login(pin)?;
        let label = key_label.as_bytes().to_vec();
        let public = [
            Attribute::Token(true),
            Attribute::Label(label.clone()),
            Attribute::ModulusBits(bits.into()),
            Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
            Attribute::Verify(true),
            Attribute::Encrypt(true),
        ];
        let private = [
            Attribute::Token(true),
            Attribute::Label(label),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Decrypt(true),
        ];
        session.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)?;
        TokenKey::find(session, key_label)
    }

    /// The RSA key labelled `key_label`, after logging in with `pin`.
    pub fn key(&self, pin: &str, key_label: &str) -> Result<TokenKey, BoxError> {
        TokenKey::find(self.login(pin)?, key_label)
    }

    fn login(&self, pin: &str) -> Result<Session, BoxError> {
        let session = self.pkcs11.open_rw_session(self.slot)?;
        session.login(UserType::User, Some(&AuthPin::new(pin.into())))?;
        Ok(session)
    }
}

fn load(module: &Path) -> Result<Pkcs11, BoxError> {
    let pkcs11 = Pkcs11::new(module)
        .map_err(|e| format!("cannot load the PKCS #11 module {}: {e}", module.display()))?;
    pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))?;
    Ok(pkcs11)
}

/// An RSA private key in a token, with its public key read from the token once.
pub struct TokenKey {
    // A PKCS #11 session serves one operation at a time (it is `Send`, not `Sync`).
    session: Mutex<Session>,
    private: ObjectHandle,
    spki: SubjectPublicKeyInfoOwned,
}

impl TokenKey {
    fn find(session: Session, key_label: &str) -> Result<Self, BoxError> {
        let label = Attribute::Label(key_label.as_bytes().to_vec());
        let one = |class: ObjectClass| -> Result<ObjectHandle, BoxError> {
            let found = session.find_objects(&[
                Attribute::Class(class),
                Attribute::KeyType(KeyType::RSA),
                label.clone(),
            ])?;
            match found.as_slice() {
                [one] => Ok(*one),
                [] => Err(format!("the token holds no RSA {class} labelled {key_label:?}").into()),
                _ => Err(
                    format!("the token holds several RSA {class}s labelled {key_label:?}").into(),
                ),
            }
        };
        let private = one(ObjectClass::PRIVATE_KEY)?;
        let public = one(ObjectClass::PUBLIC_KEY)?;
        let mut modulus = None;
        let mut exponent = None;
        for attribute in session.get_attributes(
            public,
            &[AttributeType::Modulus, AttributeType::PublicExponent],
        )? {
            match attribute {
                Attribute::Modulus(n) => modulus = Some(n),
                Attribute::PublicExponent(e) => exponent = Some(e),
                _ => {}
            }
        }
        let (Some(n), Some(e)) = (modulus, exponent) else {
            return Err("the token does not show the public key's modulus and exponent".into());
        };
        let spki = rsa_spki(&n, &e)?;
        Ok(Self {
            session: Mutex::new(session),
            private,
            spki,
        })
    }

    /// Whether the token marks the private key sensitive and not extractable (what
    /// "the key never leaves the token" rests on).
    pub fn is_sealed_in_token(&self) -> Result<bool, BoxError> {
        let mut sensitive = false;
        let mut extractable = true;
        for attribute in self.with_session(|s| {
            s.get_attributes(
                self.private,
                &[AttributeType::Sensitive, AttributeType::Extractable],
            )
        })? {
            match attribute {
                Attribute::Sensitive(s) => sensitive = s,
                Attribute::Extractable(x) => extractable = x,
                _ => {}
            }
        }
        Ok(sensitive && !extractable)
    }

    fn with_session<T>(
        &self,
        op: impl FnOnce(&Session) -> cryptoki::error::Result<T>,
    ) -> Result<T, cryptoki::error::Error> {
        match self.session.lock() {
            Ok(session) => op(&session),
            Err(poisoned) => op(&poisoned.into_inner()),
        }
    }
}

/// The SubjectPublicKeyInfo of the RSA key (`modulus`, `exponent`: big-endian octets).
fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Result<SubjectPublicKeyInfoOwned, BoxError> {
    let key = rsa::pkcs1::RsaPublicKey {
        modulus: der::asn1::UintRef::new(modulus)?,
        public_exponent: der::asn1::UintRef::new(exponent)?,
    };
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Null.into()),
        },
        subject_public_key: BitString::from_bytes(&key.to_der()?)?,
    })
}

impl MessageSigner for TokenKey {
    fn key_algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Rsa
    }

    fn sign_prehashed(&self, digest: DigestAlgorithm, hashed: &[u8]) -> scep::Result<Vec<u8>> {
        let info = DigestInfo {
            algorithm: AlgorithmIdentifierOwned {
                oid: digest.oid(),
                parameters: Some(Null.into()),
            },
            digest: OctetString::new(hashed).map_err(CryptoError::signing_failed)?,
        }
        .to_der()
        .map_err(CryptoError::signing_failed)?;
        self.with_session(|s| s.sign(&Mechanism::RsaPkcs, self.private, &info))
            .map_err(|e| CryptoError::signing_failed(e).into())
    }

    fn public_key_info(&self) -> scep::Result<SubjectPublicKeyInfoOwned> {
        Ok(self.spki.clone())
    }
}

impl KeyDecryptor for TokenKey {
    fn decrypt_key(&self, encrypted_key: &[u8]) -> scep::Result<Vec<u8>> {
        // The token's error is not passed on: the pipeline makes every failure of key
        // transport one uniform DecryptionFailed (see the module documentation).
        self.with_session(|s| s.decrypt(&Mechanism::RsaPkcs, self.private, encrypted_key))
            .map_err(|_| Error::Crypto(CryptoError::DecryptionFailed))
    }

    fn recipient_key_info(&self) -> scep::Result<SubjectPublicKeyInfoOwned> {
        Ok(self.spki.clone())
    }
}

/// Reads a SubjectPublicKeyInfo back (a check that [`rsa_spki`] made one `rsa` accepts).
pub fn rsa_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<rsa::PublicKey, BoxError> {
    use rsa::pkcs8::DecodePublicKey;
    Ok(rsa::PublicKey::from_public_key_der(&spki.to_der()?)?)
}
