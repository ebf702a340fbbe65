//! Tests of EnvelopedData seal and open.

use super::open::{process_secret, substitute_key};
use super::*;
use crate::error::LimitKind;

#[test]
fn padding_round_trip_and_rejection() {
    for len in 0..40 {
        let data = vec![7u8; len];
        let padded = pkcs7_pad(&data, 16);
        assert_eq!(padded.len() % 16, 0);
        assert_eq!(pkcs7_unpadded_len(&padded, 16), Some(len));
    }
    let mut bad = pkcs7_pad(b"abc", 8);
    let last = bad.len() - 1;
    bad[last] = 0;
    assert_eq!(pkcs7_unpadded_len(&bad, 8), None);
    bad[last] = 9;
    assert_eq!(pkcs7_unpadded_len(&bad, 8), None);
    bad[last] = 5;
    bad[last - 1] = 4;
    assert_eq!(pkcs7_unpadded_len(&bad, 8), None);
}

#[test]
fn pwri_wrap_round_trip_and_check_bytes() {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    for cipher in ContentCipher::PRODUCIBLE {
        let kek = random_key(cipher, &mut rng);
        let iv = random_bytes(&mut rng, cipher.block_len());
        let cek = random_key(cipher, &mut rng);
        let wrapped = pwri_wrap(cipher, &kek, &iv, &cek, &mut rng).unwrap();
        assert_eq!(pwri_unwrap(cipher, &kek, &iv, &wrapped), Some(cek.clone()));
        let mut other = kek.clone();
        other[0] ^= 0x80;
        assert_eq!(pwri_unwrap(cipher, &other, &iv, &wrapped), None, "{cipher}");
    }
}

#[test]
fn password_round_trip_wrong_password_and_des_refusal() {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    for cipher in ContentCipher::PRODUCIBLE {
        let env = seal_with_iterations(
            b"hello scep",
            cipher,
            Recipient::Password(b"pw"),
            2048,
            &mut rng,
        )
        .unwrap();
        let ok = open(
            &env,
            EnvelopeKey::Password(b"pw"),
            &DecryptOptions::default(),
        )
        .unwrap();
        assert_eq!(ok.plaintext, b"hello scep");
        assert_eq!(ok.cipher, cipher);
        assert_eq!(
            open(
                &env,
                EnvelopeKey::Password(b"pW"),
                &DecryptOptions::default()
            ),
            Err(CryptoError::DecryptionFailed.into())
        );
        let info = inspect(&env, &Limits::default()).unwrap();
        assert_eq!(info.cipher, Ok(cipher));
        assert_eq!(info.recipients, vec![RecipientKind::Password]);
    }
    assert!(matches!(
        seal(
            b"x",
            ContentCipher::InsecureDesCbc,
            Recipient::Password(b"pw"),
            &mut rng
        ),
        Err(Error::Algorithm(AlgorithmError::Refused {
            algorithm: "DES-CBC",
            ..
        }))
    ));
}

#[test]
fn substitute_keys_are_the_same_for_a_seed_and_not_computable_from_it() {
    use sha2::Digest;
    let secret = process_secret().unwrap();
    let seed = b"a public encryptedKey";
    let a = substitute_key(secret, 16, b"error", seed);
    assert_eq!(a, substitute_key(secret, 16, b"error", seed));
    assert_ne!(a, substitute_key(secret, 16, b"error", b"another seed"));
    assert_ne!(a, substitute_key(secret, 16, b"output", seed));
    assert_eq!(substitute_key(secret, 32, b"error", seed).len(), 32);
    // What someone who knows the seed but not the process secret would compute.
    let public: Vec<u8> = sha2::Sha512::new()
        .chain_update(b"scep substitute content-encryption key")
        .chain_update(seed)
        .finalize()
        .into_iter()
        .take(16)
        .collect();
    assert_ne!(*a, public);
    assert_ne!(secret, &[0u8; 32]);
}

#[test]
fn pbkdf2_iteration_limit() {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let env = seal_with_iterations(
        b"x",
        ContentCipher::Aes128Cbc,
        Recipient::Password(b"pw"),
        2048,
        &mut rng,
    )
    .unwrap();
    let mut options = DecryptOptions::default();
    options.limits.max_pbkdf2_iterations = 100;
    assert!(matches!(
        open(&env, EnvelopeKey::Password(b"pw"), &options),
        Err(Error::Limit {
            what: LimitKind::Pbkdf2Iterations,
            ..
        })
    ));
}
