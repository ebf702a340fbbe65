//! The attack suite: every attack the crate defends against, mounted end to end through
//! the public API, each asserting that it fails. One test (or a few) per item of the
//! security review (issue 8); `SECURITY.md` gives the threat model they come from.
//!
//! | item | attack | tests |
//! |---|---|---|
//! | 1 | CBC padding oracle, and a format oracle, on the server's decrypt path; a PKCS #1 v1.5 padding probe against a key that reports bad padding (an HSM, aws-lc) | `padding_oracle_attack_on_a_captured_request_learns_nothing`, `the_envelope_memory_is_no_padding_oracle_for_a_lenient_key_decryptor`, `a_padding_probe_against_an_aws_lc_ca_key_learns_nothing` (feature `aws-lc-rs`), `format_oracle_gets_one_answer_per_captured_envelope`, `format_oracle_reads_the_challenge_without_the_content_key_memory` |
//! | 2 | an issued certificate taken for an RA or an intermediate; expired intermediates; a planted certificate; quadratic chain building; a subject twin of the RA; a sub-CA beside the chain; ignored critical extensions | `an_enrolled_device_certificate_in_get_ca_cert_is_not_trusted_as_an_ra`, `a_device_certificate_cannot_act_as_an_intermediate_ca`, `an_expired_intermediate_is_not_trusted`, `a_certificate_not_issued_by_the_ca_is_not_accepted_as_ours`, `a_long_chain_in_the_worst_order_is_built`, `an_ambiguous_chain_of_one_name_is_refused_with_bounded_work`, `get_next_ca_cert_signed_by_a_device_is_refused`, `a_device_certificate_with_the_ra_s_subject_is_not_an_ra`, `a_ca_certificate_beside_the_chain_is_refused`, `an_intermediate_with_an_unknown_critical_extension_is_refused` |
//! | 3 | duplicate recipients, several password recipients | `duplicate_recipients_cost_no_rsa_decryption`, `several_password_recipients_are_refused_before_any_key_derivation` |
//! | 4 | CA signatures for unauthenticated input; the requester's digest | `unverifiable_and_replayed_messages_get_no_signed_answer`, `get_next_ca_cert_costs_no_signature_per_request`, `replies_are_signed_with_the_servers_digest_not_the_requesters` |
//! | 5 | renewal with an expired certificate | `an_expired_certificate_of_this_ca_cannot_renew`, `renewal_checks_name_every_reason` |
//! | 6 | a weak digest in what the client receives | `a_strict_client_refuses_a_sha1_cert_rep` |
//! | 7 | polling without end | `a_client_retrying_on_errors_polls_no_more_than_its_limits` |
//! | 8 | a finished enrolment sending again; default limits; loose fingerprints | `a_finished_enrolment_sends_nothing`, `discovery_uses_the_configured_limits`, `fingerprints_are_exactly_40_or_64_hex_digits` |
//! | 9 | cheap offline guessing of a PWRI password | `password_envelopes_use_a_high_iteration_count` |
//! | 10 | the example CA: renewal into any subject, a stranger's poll, a re-signed envelope, an envelope sealed with the challenge for a stranger | `a_device_cannot_renew_into_another_subject`, `a_stranger_cannot_collect_a_pending_certificate`, `a_captured_envelope_re_signed_by_a_stranger_is_refused`, `a_stranger_gets_no_envelope_sealed_with_the_challenge` |

#[path = "common/craft.rs"]
mod craft;
#[path = "../examples/support/memory_ca.rs"]
mod memory_ca;

use core::str::FromStr;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use cms::content_info::{CmsVersion, ContentInfo};
use craft::{envelope, envelope_of, iv_and_ciphertext, request_attrs, sign_message};
use der::Decode;
use der::asn1::{Any, OctetString};
use memory_ca::{CaKey, MemoryCa};
use scep::asn1::Certificate;
use scep::asn1::EnvelopedData;
use scep::cert::Identity;
use scep::cert::{CertificateParams, end_entity_extensions, issue, random_serial};
use scep::client::{CaInfo, ClientConfig, Enrollment, EnrollmentKind, Fingerprint, RaTrust};
use scep::csr::CsrParams;
use scep::error::Distrust;
use scep::http::{HttpRequest, HttpResponse, Method, Operation};
use scep::message::{
    CertRepContent, OutgoingCertRep, OutgoingRequest, PkiMessage, RequestContent, SealParams,
};
use scep::{
    DigestAlgorithm, EnvelopeKey, KeyAlgorithm, KeyDecryptor, MessageSigner, MessageType, Nonce,
    Recipient, TransactionId,
};
use x509_cert::ext::ToExtension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

const CHALLENGE: &str = "attack-suite-challenge";

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
}

fn rsa_key() -> rsa::PrivateKey {
    rsa::PrivateKey::new(&mut rng(), 2048).unwrap()
}

fn ec_key() -> p256::ecdsa::SigningKey {
    use p256::elliptic_curve::Generate;
    p256::ecdsa::SigningKey::generate_from_rng(&mut rng())
}

fn self_signed(key: &dyn MessageSigner, cn: &str) -> Certificate {
    let now = SystemTime::now();
    scep::cert::self_signed_certificate(
        key,
        &name(cn),
        now - Duration::from_secs(60),
        now + Duration::from_secs(3600),
        &mut rng(),
    )
    .unwrap()
}

fn csr(key: &dyn MessageSigner, cn: &str, challenge: Option<&str>) -> scep::asn1::CertReq {
    let mut p = CsrParams::new(name(cn));
    p.challenge_password = challenge.map(Into::into);
    p.build(key).unwrap()
}

/// Issues a certificate for `public_key` from `ca`, valid from `not_before` to `not_after`,
/// with the given extensions (end-entity ones when `None`).
fn issue_from(
    ca: &CaKey,
    subject: &str,
    public_key: &SubjectPublicKeyInfoOwned,
    not_before: SystemTime,
    not_after: SystemTime,
    extensions: Option<Vec<x509_cert::ext::Extension>>,
) -> Certificate {
    let subject = name(subject);
    let extensions = extensions.unwrap_or_else(|| {
        end_entity_extensions(
            &subject,
            public_key,
            Some(ca.cert.tbs_certificate().subject_public_key_info()),
        )
        .unwrap()
    });
    issue(
        &CertificateParams {
            serial_number: random_serial(&mut rng()).unwrap(),
            subject,
            public_key: public_key.clone(),
            not_before,
            not_after,
            extensions,
        },
        ca.cert.tbs_certificate().subject(),
        ca.key.as_ref(),
        DigestAlgorithm::Sha256,
    )
    .unwrap()
}

/// Sends an HTTP request shape to the in-memory CA, as an HTTP server would pass it on.
fn send(ca: &mut MemoryCa, req: &HttpRequest) -> HttpResponse {
    let query = req.query.as_str();
    ca.handle(req.method.as_str(), query, &req.body).unwrap()
}

/// POSTs a pkiMessage to the in-memory CA.
fn post(ca: &mut MemoryCa, message: Vec<u8>) -> HttpResponse {
    let req =
        HttpRequest::new("/scep", &Operation::PkiOperation { message }, Method::Post).unwrap();
    send(ca, &req)
}

/// Signs `content` as a PKCSReq of `transaction_id` with `key` / `cert` (any key, as an
/// attacker does), posts it to the CA and returns what comes back.
fn post_as(
    ca: &mut MemoryCa,
    transaction_id: &str,
    content: &[u8],
    key: &dyn MessageSigner,
    cert: &Certificate,
) -> Observation {
    let attrs = request_attrs(MessageType::PkcsReq, transaction_id);
    let message = sign_message(&attrs, content, key, cert, DigestAlgorithm::Sha256);
    let ca_cert = ca.current.cert.clone();
    observe(&post(ca, message), &ca_cert)
}

/// What an attacker sees of an answer: the HTTP status and content type, the body length,
/// and for a CertRep its pkiStatus, failInfo and failInfoText.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Observation {
    status: u16,
    content_type: String,
    length: usize,
    pki_status: Option<String>,
    fail_info: Option<String>,
    fail_info_text: Option<String>,
}

fn observe(response: &HttpResponse, ca: &Certificate) -> Observation {
    let rep = (response.content_type == "application/x-pki-message").then(|| {
        PkiMessage::decode(&response.body, &Default::default())
            .unwrap()
            .verify(std::slice::from_ref(ca))
            .unwrap()
    });
    let a = rep.as_ref().map(|r| r.attributes().clone());
    Observation {
        status: response.status,
        content_type: response.content_type.to_owned(),
        length: response.body.len(),
        pki_status: a.as_ref().and_then(|a| a.pki_status).map(|s| s.to_string()),
        fail_info: a.as_ref().and_then(|a| a.fail_info).map(|f| f.to_string()),
        fail_info_text: a.and_then(|a| a.fail_info_text),
    }
}

/// A key that counts its private-key operations.
struct Counting {
    key: Arc<rsa::PrivateKey>,
    signs: AtomicUsize,
    decrypts: AtomicUsize,
}

impl Counting {
    fn new(key: Arc<rsa::PrivateKey>) -> Arc<Self> {
        Arc::new(Counting {
            key,
            signs: AtomicUsize::new(0),
            decrypts: AtomicUsize::new(0),
        })
    }
    fn signs(&self) -> usize {
        self.signs.load(Ordering::SeqCst)
    }
    fn decrypts(&self) -> usize {
        self.decrypts.load(Ordering::SeqCst)
    }
}

impl MessageSigner for Counting {
    fn key_algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Rsa
    }
    fn sign_prehashed(&self, digest: DigestAlgorithm, hashed: &[u8]) -> scep::Result<Vec<u8>> {
        self.signs.fetch_add(1, Ordering::SeqCst);
        self.key.sign_prehashed(digest, hashed)
    }
    fn public_key_info(&self) -> scep::Result<SubjectPublicKeyInfoOwned> {
        MessageSigner::public_key_info(self.key.as_ref())
    }
}

impl KeyDecryptor for Counting {
    fn decrypt_key(&self, encrypted_key: &[u8]) -> scep::Result<Vec<u8>> {
        self.decrypts.fetch_add(1, Ordering::SeqCst);
        self.key.decrypt_key(encrypted_key)
    }
    fn recipient_key_info(&self) -> scep::Result<SubjectPublicKeyInfoOwned> {
        self.key.recipient_key_info()
    }
}

/// The CA certificate's signing and decryption keys, as the server gets them.
type ServerKeys = (
    Arc<dyn MessageSigner + Send + Sync>,
    Arc<dyn KeyDecryptor + Send + Sync>,
);

/// A memory CA (with a next CA) whose server signs and decrypts with the keys `keys`
/// makes of the CA key, configured by `configure`.
fn ca_with(
    keys: impl FnOnce(&CaKey) -> ServerKeys,
    configure: impl FnOnce(&mut scep::server::ServerConfig),
) -> MemoryCa {
    let mut ca = MemoryCa::new(CHALLENGE, 0, true).unwrap();
    let cert = ca.current.cert.clone();
    let mut config = scep::server::ServerConfig::new(memory_ca::capabilities(), vec![cert.clone()]);
    config.next_ca_certificates = ca.next.as_ref().map(|n| vec![n.cert.clone()]);
    configure(&mut config);
    let (signer, decryptor) = keys(&ca.current);
    ca.server = scep::server::Server::new(
        config,
        cert.clone(),
        Identity::new(cert.clone(), signer).unwrap(),
        vec![scep::server::DecryptionKey {
            certificate: cert,
            key: decryptor,
        }],
    )
    .unwrap();
    ca
}

/// A memory CA whose server signs and decrypts through a counting key, configured by
/// `configure`.
fn counting_ca_with(
    configure: impl FnOnce(&mut scep::server::ServerConfig),
) -> (MemoryCa, Arc<Counting>) {
    let mut counting = None;
    let ca = ca_with(
        |k| {
            let c = Counting::new(k.key.clone());
            counting = Some(c.clone());
            (c.clone(), c)
        },
        configure,
    );
    (ca, counting.unwrap())
}

/// A memory CA whose server signs and decrypts through a counting key.
fn counting_ca() -> (MemoryCa, Arc<Counting>) {
    counting_ca_with(|_| {})
}

/// `content` as a request of `transaction_id` (a random one when `None`) signed by `key`
/// and `signer` (with `digest`) and encrypted to `ca`.
fn seal_request(
    transaction_id: Option<&TransactionId>,
    content: RequestContent,
    key: &dyn MessageSigner,
    signer: &Certificate,
    digest: DigestAlgorithm,
    ca: &Certificate,
) -> Vec<u8> {
    let request = OutgoingRequest {
        transaction_id: transaction_id
            .cloned()
            .unwrap_or_else(|| TransactionId::random(&mut rng())),
        sender_nonce: Nonce::generate(&mut rng()),
        content,
    };
    let mut params = SealParams::new(key, signer);
    params.digest = digest;
    request
        .seal(&params, Recipient::Certificate(ca), &mut rng())
        .unwrap()
}

/// A sealed PKCSReq from a victim with an RSA key, with `challenge`.
fn victim_request(ca: &Certificate, challenge: &str) -> (rsa::PrivateKey, Certificate, Vec<u8>) {
    let key = rsa_key();
    let cert = self_signed(&key, "CN=victim");
    let content = RequestContent::PkcsReq(csr(&key, "CN=victim", Some(challenge)));
    let sealed = seal_request(None, content, &key, &cert, DigestAlgorithm::Sha256, ca);
    (key, cert, sealed)
}

// ---------------------------------------------------------------------------------------
// 1. Decryption oracles on the server's decrypt path.
// ---------------------------------------------------------------------------------------

/// What an attacker has of a captured PKCSReq (its recipients, IV and ciphertext blocks),
/// and, for the test to judge the attack by, the truth: the plaintext block `k` that lies
/// wholly inside the victim's challenge.
struct Captured {
    recipients: Vec<Any>,
    iv: Vec<u8>,
    blocks: Vec<Vec<u8>>,
    k: usize,
    truth: Vec<u8>,
}

const SECRET: &str = "0123456789abcdef-the-victims-one-time-challenge";

fn capture(ca: &MemoryCa) -> Captured {
    let ca_cert = &ca.current.cert;
    let (_, _, captured) = victim_request(ca_cert, SECRET);
    let env = envelope_of(&captured);
    assert_eq!(
        env.encrypted_content.content_enc_alg.oid,
        const_oid::db::rfc5911::ID_AES_128_CBC
    );
    let (iv, ciphertext) = iv_and_ciphertext(&env);
    let plaintext = scep::pipeline::envelope::open(
        PkiMessage::decode(&captured, &Default::default())
            .unwrap()
            .envelope()
            .unwrap(),
        EnvelopeKey::Key {
            key: ca.current.key.as_ref(),
            certificate: Some(ca_cert),
        },
        &Default::default(),
    )
    .unwrap()
    .plaintext;
    let at = plaintext
        .windows(SECRET.len())
        .position(|w| w == SECRET.as_bytes())
        .unwrap();
    // Block k of the ciphertext (C_k, counting from 0) has the plaintext
    // plaintext[16k..16k + 16] = D(C_k) xor C_(k-1): here, wholly inside the challenge.
    let k = at / 16 + 1;
    let truth = plaintext[16 * k..16 * k + 16].to_vec();
    assert!(SECRET.as_bytes().windows(16).any(|w| w == truth));
    Captured {
        recipients: env.recip_infos.iter().cloned().collect(),
        iv,
        blocks: ciphertext.chunks(16).map(<[u8]>::to_vec).collect(),
        k,
        truth,
    }
}

/// The classic adaptive padding-oracle attack (Vaudenay 2002), last octets first: for
/// each position, the 256 values of the chosen block's octet are sent through `query`, and
/// the odd answer out marks the one that made the padding right. Returns the octets of the
/// target block it derived (last first) and every answer, in order. At most 2 x 256
/// requests.
fn vaudenay(
    previous: &[u8],
    query: &mut dyn FnMut(&[u8; 16]) -> Observation,
) -> (Vec<u8>, Vec<Observation>) {
    let mut intermediate = [0u8; 16];
    let mut learned = Vec::new();
    let mut all = Vec::new();
    for position in (14..16).rev() {
        let pad = u8::try_from(16 - position).unwrap();
        let mut answers = Vec::new();
        for guess in 0..=255u8 {
            let mut r = [0x5au8; 16];
            for j in position + 1..16 {
                r[j] = intermediate[j] ^ pad;
            }
            r[position] = guess;
            answers.push((guess, query(&r)));
        }
        let mut counts = std::collections::BTreeMap::new();
        for (_, o) in &answers {
            *counts.entry(o.clone()).or_insert(0) += 1;
        }
        let odd: Vec<u8> = answers
            .iter()
            .filter(|(_, o)| counts[o] < 128)
            .map(|(g, _)| *g)
            .collect();
        all.extend(answers.into_iter().map(|(_, o)| o));
        let [guess] = odd.as_slice() else {
            break;
        };
        intermediate[position] = guess ^ pad;
        learned.push(intermediate[position] ^ previous[position]);
    }
    (learned, all)
}

/// The padding oracle on a captured PKCSReq, against the uniform failure alone (the
/// server's memory of content-encryption keys is off): the attacker replays the victim's
/// KeyTransRecipientInfo with two chosen blocks (R, C_k) under his own self-signed
/// signature and varies R. Every answer must be the same, so the attack learns nothing.
#[test]
fn padding_oracle_attack_on_a_captured_request_learns_nothing() {
    let (mut ca, _) = counting_ca_with(|config| config.envelope_memory = 0);
    let captured = capture(&ca);
    let attacker = ec_key();
    let attacker_cert = self_signed(&attacker, "CN=attacker");
    let target = captured.blocks[captured.k].clone();
    let mut query = |r: &[u8; 16]| -> Observation {
        let mut chosen = r.to_vec();
        chosen.extend_from_slice(&target);
        let content = envelope(
            CmsVersion::V0,
            captured.recipients.clone(),
            const_oid::db::rfc5911::ID_AES_128_CBC,
            &captured.iv,
            &chosen,
        );
        post_as(&mut ca, "attacker", &content, &attacker, &attacker_cert)
    };
    let (learned, answers) = vaudenay(&captured.blocks[captured.k - 1], &mut query);
    assert!(
        learned.is_empty(),
        "the attack learned {learned:?} (the truth ends {:?}) from {} requests",
        &captured.truth[14..],
        answers.len()
    );
    let seen: BTreeSet<_> = answers.iter().collect();
    assert_eq!(seen.len(), 1, "the answers differ: {seen:#?}");
}

/// A format oracle (found in review): the attacker replays the victim's
/// KeyTransRecipientInfo in a GetCert, with IV' = IV xor P0 xor H (P0, the first block of
/// any CSR with the victim's subject, key size and challenge length, is predictable), so
/// that the content decrypts to a header H of his choice, a garbage block, and the target
/// block xor a difference of his choice. H declares an IssuerAndSerialNumber whose INTEGER
/// runs to the end of the content for exactly one padding length, so the payload decodes
/// (and the CA answers GetCert with badCertId) exactly when the padding is that one. The
/// uniform failure cannot hide that (the application's answer depends on the payload), so
/// the server remembers the content-encryption keys it decrypted with and refuses one that
/// comes again in another message: the attacker gets one answer per captured envelope.
/// Returns the octets the attack derived and every answer.
fn format_oracle(
    ca: &mut MemoryCa,
    captured: &Captured,
    octets: usize,
) -> (Vec<u8>, Vec<Observation>) {
    let attacker = ec_key();
    let attacker_cert = self_signed(&attacker, "CN=attacker");
    let lookalike = csr(&rsa_key(), "CN=victim", Some(&"x".repeat(SECRET.len())));
    let lookalike = der::Encode::to_der(&lookalike).unwrap();
    let p0 = &lookalike[..16];
    let (t, blocks, iv) = (captured.k, &captured.blocks, &captured.iv);
    let mut answers = Vec::new();
    let mut query = |header: &[u8; 16], delta: &[u8; 16]| -> Observation {
        let iv2: Vec<u8> = (0..16).map(|i| iv[i] ^ p0[i] ^ header[i]).collect();
        let mut ct = blocks[0].clone();
        ct.extend(blocks[t - 1].iter().zip(delta).map(|(a, b)| a ^ b));
        ct.extend_from_slice(&blocks[t]);
        let content = envelope(
            CmsVersion::V0,
            captured.recipients.clone(),
            const_oid::db::rfc5911::ID_AES_128_CBC,
            &iv2,
            &ct,
        );
        let attrs = request_attrs(MessageType::GetCert, "attacker");
        let message = sign_message(
            &attrs,
            &content,
            &attacker,
            &attacker_cert,
            DigestAlgorithm::Sha256,
        );
        let o = observe(&post(ca, message), &ca.current.cert.clone());
        answers.push(o.clone());
        o
    };
    // What "wrong" looks like: a header that never decodes.
    let wrong = query(&[0xffu8; 16], &[0u8; 16]);
    let mut known = [0u8; 16];
    let mut learned = Vec::new();
    for p in (16 - octets..16).rev() {
        let pad = u8::try_from(16 - p).unwrap();
        let len = 32 + p;
        let mut h = [0u8; 16];
        h[..7].copy_from_slice(&[
            0x30,
            u8::try_from(len - 2).unwrap(),
            0x30,
            0x00,
            0x02,
            u8::try_from(len - 6).unwrap(),
            0x01,
        ]);
        let mut found = None;
        for guess in 0..=255u8 {
            let mut delta = [0u8; 16];
            for q in p + 1..16 {
                delta[q] = known[q] ^ pad;
            }
            delta[p] = guess;
            if query(&h, &delta) != wrong {
                found = Some(guess);
                break;
            }
        }
        let Some(guess) = found else { break };
        known[p] = guess ^ pad;
        learned.insert(0, known[p]);
    }
    (learned, answers)
}

#[test]
fn format_oracle_gets_one_answer_per_captured_envelope() {
    let mut ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let captured = capture(&ca);
    let (learned, answers) = format_oracle(&mut ca, &captured, 2);
    // After the first request, every other one is refused before its content is
    // decrypted, all alike.
    let reused = answers[1].clone();
    assert_eq!(reused.fail_info.as_deref(), Some("badRequest (2)"));
    assert!(answers[1..].iter().all(|o| *o == reused), "{answers:#?}");
    assert_ne!(
        learned,
        captured.truth[16 - learned.len()..],
        "the attack learned the truth"
    );
}

/// The harness is real: with the server's memory of content-encryption keys off, the same
/// attack reads octets of the victim's challenge (the uniform failure alone does not stop a
/// format oracle on a payload without an integrity check).
#[test]
fn format_oracle_reads_the_challenge_without_the_content_key_memory() {
    let (mut ca, _) = counting_ca_with(|config| config.envelope_memory = 0);
    let captured = capture(&ca);
    let (learned, _) = format_oracle(&mut ca, &captured, 2);
    assert_eq!(learned, captured.truth[14..]);
}

/// A `KeyDecryptor` the way OpenSSL's `RSA_private_decrypt(RSA_PKCS1_PADDING)` (before
/// 3.2, or with implicit rejection off) and many PKCS #11 tokens behave: bad PKCS #1 v1.5
/// padding is an error, and a ciphertext shorter than the modulus is read as if
/// left-padded with zero octets. Which inputs conform is known to it by a table: in the
/// test below every other input is random (so, but for a chance of about 2^-16, not
/// conforming), which lets the test do without raw RSA.
struct LenientHsm {
    key: Arc<rsa::PrivateKey>,
    conforming: std::sync::Mutex<BTreeSet<Vec<u8>>>,
}

impl KeyDecryptor for LenientHsm {
    fn decrypt_key(&self, encrypted_key: &[u8]) -> scep::Result<Vec<u8>> {
        const K: usize = 256; // RSA-2048, the memory CA's key
        if encrypted_key.len() > K {
            return Err(scep::error::CryptoError::DecryptionFailed.into());
        }
        let mut padded = vec![0u8; K - encrypted_key.len()];
        padded.extend_from_slice(encrypted_key);
        if !self.conforming.lock().unwrap().contains(&padded) {
            // Bad padding: an error, as the trait allows.
            return Err(scep::error::CryptoError::DecryptionFailed.into());
        }
        self.key.decrypt_key(&padded)
    }
    fn recipient_key_info(&self) -> scep::Result<SubjectPublicKeyInfoOwned> {
        self.key.recipient_key_info()
    }
}

/// The KTRI of a captured request with its encryptedKey replaced by `enc`.
fn ktri_with(ktri: &Any, enc: &[u8]) -> Any {
    let mut k = scep::asn1::RecipientInfo::from_any(ktri).unwrap();
    if let scep::asn1::RecipientInfo::Ktri(t) = &mut k {
        t.enc_key = OctetString::new(enc.to_vec()).unwrap();
    }
    k.to_any().unwrap()
}

/// Bleichenbacher through the envelope memory (found in a second review): with a decryptor
/// that reports bad padding as an error (which `KeyDecryptor` allows) and accepts a
/// ciphertext without its leading zero octet, a memory keyed on the recovered key would
/// answer "reused" to the same RSA ciphertext sent in two encodings exactly when its
/// padding conforms: a PKCS #1 v1.5 conformance oracle. The memory is keyed on the
/// encryptedKey as it travels, and only a canonical one (the modulus's length, below it)
/// is taken, so the answers do not depend on the padding.
#[test]
fn the_envelope_memory_is_no_padding_oracle_for_a_lenient_key_decryptor() {
    let mut hsm = None;
    let mut ca = ca_with(
        |k| {
            let h = Arc::new(LenientHsm {
                key: k.key.clone(),
                conforming: Default::default(),
            });
            hsm = Some(h.clone());
            (k.key.clone(), h)
        },
        |_| {},
    );
    let hsm = hsm.unwrap();
    let ca_cert = ca.current.cert.clone();
    let (_, _, sealed) = victim_request(&ca_cert, CHALLENGE);
    let ktri = envelope_of(&sealed)
        .recip_infos
        .iter()
        .next()
        .unwrap()
        .clone();
    let attacker = ec_key();
    let attacker_cert = self_signed(&attacker, "CN=attacker");
    let ask = |ca: &mut MemoryCa, enc: &[u8]| -> Option<String> {
        let content = envelope(
            CmsVersion::V0,
            vec![ktri_with(&ktri, enc)],
            const_oid::db::rfc5911::ID_AES_128_CBC,
            &[7u8; 16],
            &[9u8; 32],
        );
        post_as(ca, "attacker", &content, &attacker, &attacker_cert).fail_info
    };
    // A conforming ciphertext (what m*s mod n is, in Bleichenbacher's attack, when the
    // padding happens to conform) whose first octet is zero.
    let conforming = loop {
        let c = ca
            .current
            .key
            .as_public_key()
            .encrypt(&mut rng(), rsa::Pkcs1v15Encrypt, &[0x42u8; 16])
            .unwrap();
        if c[0] == 0 {
            break c;
        }
    };
    hsm.conforming.lock().unwrap().insert(conforming.clone());
    // A ciphertext that does not conform, also with a zero first octet.
    let mut random = vec![0u8; 256];
    getrandom::fill(&mut random[1..]).unwrap();

    let when_conforming = (ask(&mut ca, &conforming), ask(&mut ca, &conforming[1..]));
    let when_not = (ask(&mut ca, &random), ask(&mut ca, &random[1..]));
    assert_eq!(
        when_conforming, when_not,
        "whether the padding conforms shows in the answers"
    );
}

/// Bleichenbacher's probe against a CA whose key aws-lc holds (feature `aws-lc-rs`): aws-lc
/// reports bad PKCS #1 v1.5 padding as an error, so the attacker replays the victim's
/// KeyTransRecipientInfo once with a conforming encryptedKey (a wrong content key under
/// good padding) and once with a random one (bad padding), under his own signature. The
/// server answers both alike: the pipeline goes on with a substitute key after the error.
#[cfg(feature = "aws-lc-rs")]
#[test]
fn a_padding_probe_against_an_aws_lc_ca_key_learns_nothing() {
    use rsa::pkcs8::EncodePrivateKey;
    let mut ca = ca_with(
        |k| {
            let der = k.key.to_pkcs8_der().unwrap();
            let key = Arc::new(
                scep::pipeline::aws_lc::AwsLcRsaKey::from_pkcs8_der(der.as_bytes()).unwrap(),
            );
            (key.clone(), key)
        },
        |_| {},
    );
    let ca_cert = ca.current.cert.clone();
    let (_, _, sealed) = victim_request(&ca_cert, CHALLENGE);
    let ktri = envelope_of(&sealed)
        .recip_infos
        .iter()
        .next()
        .unwrap()
        .clone();
    let attacker = ec_key();
    let attacker_cert = self_signed(&attacker, "CN=attacker");
    let ask = |ca: &mut MemoryCa, enc: &[u8]| -> Observation {
        let content = envelope(
            CmsVersion::V0,
            vec![ktri_with(&ktri, enc)],
            const_oid::db::rfc5911::ID_AES_128_CBC,
            &[7u8; 16],
            &[9u8; 32],
        );
        post_as(ca, "attacker", &content, &attacker, &attacker_cert)
    };
    let conforming = ca
        .current
        .key
        .as_public_key()
        .encrypt(&mut rng(), rsa::Pkcs1v15Encrypt, &[0x42u8; 16])
        .unwrap();
    let mut random = vec![0u8; 256];
    getrandom::fill(&mut random[1..]).unwrap();
    let when_conforming = ask(&mut ca, &conforming);
    let when_not = ask(&mut ca, &random);
    assert_eq!(
        when_conforming.fail_info.as_deref(),
        Some("badMessageCheck (1)"),
        "{when_conforming:?}"
    );
    assert_eq!(
        when_conforming, when_not,
        "whether the padding conforms shows in the answers"
    );
}

/// Counts the key-transport decryptions that reach modular exponentiation (`rsa` refuses
/// an encryptedKey whose length is not the modulus's before any).
struct RsaWork {
    key: Arc<rsa::PrivateKey>,
    exponentiations: AtomicUsize,
}

impl KeyDecryptor for RsaWork {
    fn decrypt_key(&self, encrypted_key: &[u8]) -> scep::Result<Vec<u8>> {
        if encrypted_key.len() == 256 {
            self.exponentiations.fetch_add(1, Ordering::SeqCst);
        }
        self.key.decrypt_key(encrypted_key)
    }
    fn recipient_key_info(&self) -> scep::Result<SubjectPublicKeyInfoOwned> {
        self.key.recipient_key_info()
    }
}

/// The flood that would empty the envelope memory must cost the server an RSA decryption
/// per place (found in a second review: an encryptedKey of one octet took a place without
/// any). A non-canonical encryptedKey is refused before it is remembered. Here the memory
/// holds 8 envelopes.
#[test]
fn a_flood_without_rsa_work_does_not_empty_the_envelope_memory() {
    let mut work = None;
    let mut ca = ca_with(
        |k| {
            let w = Arc::new(RsaWork {
                key: k.key.clone(),
                exponentiations: AtomicUsize::new(0),
            });
            work = Some(w.clone());
            (k.key.clone(), w)
        },
        |config| config.envelope_memory = 8,
    );
    let work = work.unwrap();
    let ca_cert = ca.current.cert.clone();
    let (_, _, sealed) = victim_request(&ca_cert, CHALLENGE);
    let env = envelope_of(&sealed);
    let ktri = env.recip_infos.iter().next().unwrap().clone();
    let (iv, _) = iv_and_ciphertext(&env);
    // The victim's own request reaches the CA: its key is remembered.
    let _ = post(&mut ca, sealed.clone());
    let attacker = ec_key();
    let attacker_cert = self_signed(&attacker, "CN=attacker");
    let replay = envelope(
        CmsVersion::V0,
        vec![ktri.clone()],
        const_oid::db::rfc5911::ID_AES_128_CBC,
        &iv,
        &[0u8; 32],
    );
    let reused = Some("badRequest (2)".to_owned());
    let first = post_as(&mut ca, "attacker", &replay, &attacker, &attacker_cert);
    assert_eq!(first.fail_info, reused, "{first:?}");
    let before = work.exponentiations.load(Ordering::SeqCst);
    for i in 0..8u8 {
        let junk = envelope(
            CmsVersion::V0,
            vec![ktri_with(&ktri, &[i])],
            const_oid::db::rfc5911::ID_AES_128_CBC,
            &iv,
            &[0u8; 32],
        );
        let _ = post_as(&mut ca, "attacker", &junk, &attacker, &attacker_cert);
    }
    // The flood cost no RSA decryption, and took no place in the memory:
    assert_eq!(work.exponentiations.load(Ordering::SeqCst), before);
    // the captured envelope is still refused.
    let again = post_as(&mut ca, "attacker", &replay, &attacker, &attacker_cert);
    assert_eq!(again.fail_info, reused, "{again:?}");
}

// ---------------------------------------------------------------------------------------
// 2. Trust: a certificate the CA issued is not an RA, nor an intermediate CA.
// ---------------------------------------------------------------------------------------

/// An enrolled device's certificate and key: what an on-path attacker holds after
/// enrolling once himself.
fn enrolled_device(ca: &MemoryCa) -> (rsa::PrivateKey, Certificate) {
    let key = rsa_key();
    let now = SystemTime::now();
    let cert = issue_from(
        &ca.current,
        "CN=attacker device",
        &MessageSigner::public_key_info(&key).unwrap(),
        now - Duration::from_secs(60),
        now + Duration::from_secs(86400),
        None,
    );
    (key, cert)
}

/// The client's view of the in-memory CA: its certificate alone, as GetCACert gives it.
fn discovered(ca: &MemoryCa, config: &ClientConfig) -> CaInfo {
    CaInfo::new(
        memory_ca::capabilities(),
        vec![ca.current.cert.clone()],
        config,
        SystemTime::now(),
    )
    .unwrap()
}

/// An enrolment of `kind` for `csr`, signed with `key` and `signer`, started at `now`.
fn enrolment(
    info: &CaInfo,
    config: &ClientConfig,
    kind: EnrollmentKind,
    csr: scep::asn1::CertReq,
    key: &rsa::PrivateKey,
    signer: &Certificate,
    now: SystemTime,
) -> Enrollment {
    let identity = Identity::new(signer.clone(), Arc::new(key.clone())).unwrap();
    Enrollment::new(info, config, kind, csr, &identity, now).unwrap()
}

/// A new device (an RSA key and its self-signed certificate for `cn`) and its initial
/// enrolment with `challenge`, started at `now`.
fn new_device(
    ca: &MemoryCa,
    config: &ClientConfig,
    cn: &str,
    challenge: &str,
    now: SystemTime,
) -> (rsa::PrivateKey, Certificate, Enrollment) {
    let key = rsa_key();
    let cert = self_signed(&key, cn);
    let info = discovered(ca, config);
    let e = enrolment(
        &info,
        config,
        EnrollmentKind::Initial,
        csr(&key, cn, Some(challenge)),
        &key,
        &cert,
        now,
    );
    (key, cert, e)
}

/// Sends the enrolment's request due at `now` to the CA and hands it the answer (a SUCCESS
/// is decrypted with `key`, whose certificate is `signer`).
fn exchange(
    ca: &mut MemoryCa,
    e: &mut Enrollment,
    key: &rsa::PrivateKey,
    signer: &Certificate,
    now: SystemTime,
) -> scep::Result<scep::client::Outcome> {
    let req = e.poll_request(key, now, &mut rng()).unwrap().unwrap();
    let answer = send(ca, &req);
    e.handle_response(
        scep::http::HttpReply::new(answer.status, Some(answer.content_type), &answer.body),
        EnvelopeKey::Key {
            key,
            certificate: Some(signer),
        },
        now,
    )
}

fn pinned(ca: &MemoryCa) -> ClientConfig {
    pin(&ca.current.cert)
}

/// A client configuration pinning `anchor`.
fn pin(anchor: &Certificate) -> ClientConfig {
    let mut config = ClientConfig::new("/scep");
    config.ca_pin = Some(Fingerprint::sha256(anchor).unwrap());
    config
}

/// An on-path attacker adds his own device certificate to the GetCACert answer. Before,
/// the client took it for an RA: it encrypted its challenge to the attacker and accepted a
/// CertRep he signed. Now discovery refuses it.
#[test]
fn an_enrolled_device_certificate_in_get_ca_cert_is_not_trusted_as_an_ra() {
    let ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let (attacker_key, attacker_cert) = enrolled_device(&ca);
    let certs = vec![ca.current.cert.clone(), attacker_cert.clone()];
    let info = CaInfo::new(
        memory_ca::capabilities(),
        certs,
        &pinned(&ca),
        SystemTime::now(),
    );
    let info = match info {
        Err(e) => {
            assert_eq!(e, untrusted(&attacker_cert, Distrust::NotTrustedAsRa));
            return;
        }
        Ok(info) => info,
    };
    // The attack goes on: the victim's PKCSReq is encrypted to the recipient discovery
    // chose; if that is the attacker's certificate, he reads the challenge.
    let (_, _, sealed) = victim_request(&info.recipient, CHALLENGE);
    let opened = PkiMessage::decode(&sealed, &Default::default())
        .unwrap()
        .verify(&[])
        .unwrap()
        .request(
            EnvelopeKey::Key {
                key: &attacker_key,
                certificate: Some(&attacker_cert),
            },
            &Default::default(),
        );
    panic!(
        "discovery trusted the device certificate: recipient {}, signers {:?}; the attacker \
         decrypts the victim's request: {}",
        info.recipient.tbs_certificate().subject(),
        info.signers
            .iter()
            .map(|c| c.tbs_certificate().subject().to_string())
            .collect::<Vec<_>>(),
        opened.is_ok()
    );
}

/// A device certificate used as an intermediate CA: the attacker signs a "CA" certificate
/// with his device key and puts both in the GetCACert answer.
#[test]
fn a_device_certificate_cannot_act_as_an_intermediate_ca() {
    let ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let (attacker_key, attacker_cert) = enrolled_device(&ca);
    let now = SystemTime::now();
    let fake_ca_key = rsa_key();
    let fake_name = name("CN=fake issuing CA");
    let fake_ca = issue(
        &CertificateParams {
            serial_number: random_serial(&mut rng()).unwrap(),
            subject: fake_name.clone(),
            public_key: MessageSigner::public_key_info(&fake_ca_key).unwrap(),
            not_before: now - Duration::from_secs(60),
            not_after: now + Duration::from_secs(86400),
            extensions: ca_extensions(&fake_name, None),
        },
        attacker_cert.tbs_certificate().subject(),
        &attacker_key,
        DigestAlgorithm::Sha256,
    )
    .unwrap();
    // Even with the device trusted as an RA, it issues nothing.
    let certs = vec![
        ca.current.cert.clone(),
        attacker_cert.clone(),
        fake_ca.clone(),
    ];
    for (ra_trust, refused) in [
        (
            RaTrust::None,
            untrusted(&attacker_cert, Distrust::NotTrustedAsRa),
        ),
        (
            RaTrust::Pinned(vec![Fingerprint::sha256(&attacker_cert).unwrap()]),
            untrusted(&fake_ca, Distrust::NoTrustedIssuer),
        ),
    ] {
        let mut config = pinned(&ca);
        config.ra_trust = ra_trust;
        match CaInfo::new(
            memory_ca::capabilities(),
            certs.clone(),
            &config,
            SystemTime::now(),
        ) {
            Err(e) => assert_eq!(e, refused),
            Ok(info) => panic!(
                "the device certificate issued a trusted CA: issuing CA {}, recipient {}",
                info.ca.tbs_certificate().subject(),
                info.recipient.tbs_certificate().subject()
            ),
        }
    }
}

/// Why discovery refused, when it refused for a certificate's sake.
fn distrust_of(result: &scep::Result<CaInfo>) -> Option<Distrust> {
    match result {
        Err(scep::Error::Policy(scep::error::PolicyError::UntrustedCertificate {
            reason, ..
        })) => Some(*reason),
        _ => None,
    }
}

/// The error for `cert` not being trusted, for `reason`.
fn untrusted(cert: &Certificate, reason: Distrust) -> scep::Error {
    scep::Error::Policy(scep::error::PolicyError::UntrustedCertificate {
        subject: cert.tbs_certificate().subject().to_string(),
        reason,
    })
}

/// basicConstraints cA TRUE, keyUsage keyCertSign | cRLSign | digitalSignature |
/// keyEncipherment, and a path length.
fn ca_extensions(subject: &Name, path_len: Option<u8>) -> Vec<x509_cert::ext::Extension> {
    vec![
        (&BasicConstraints {
            ca: true,
            path_len_constraint: path_len,
        })
            .to_extension(subject, &[])
            .unwrap(),
        (&KeyUsage(
            KeyUsages::KeyCertSign
                | KeyUsages::CRLSign
                | KeyUsages::DigitalSignature
                | KeyUsages::KeyEncipherment,
        ))
            .to_extension(subject, &[])
            .unwrap(),
    ]
}

/// An intermediate CA certificate that expired is not trusted (nor one not yet valid).
#[test]
fn an_expired_intermediate_is_not_trusted() {
    let ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let key = rsa_key();
    let now = SystemTime::now();
    let day = Duration::from_secs(86400);
    for (not_before, not_after) in [(now - 30 * day, now - day), (now + day, now + 30 * day)] {
        let intermediate = issue_from(
            &ca.current,
            "CN=intermediate",
            &MessageSigner::public_key_info(&key).unwrap(),
            not_before,
            not_after,
            Some(ca_extensions(&name("CN=intermediate"), Some(0))),
        );
        let info = CaInfo::new(
            memory_ca::capabilities(),
            vec![ca.current.cert.clone(), intermediate.clone()],
            &pinned(&ca),
            SystemTime::now(),
        );
        match info {
            Err(e) => assert_eq!(e, untrusted(&intermediate, Distrust::NotValidNow)),
            Ok(info) => panic!(
                "an intermediate valid {not_before:?}..{not_after:?} became the issuing CA {}",
                info.ca.tbs_certificate().subject()
            ),
        }
    }
}

/// The CertRep signer may be trusted (here: the CA itself signs), but the certificate a
/// SUCCESS carries for our key must be issued by the CA: one made by someone else is
/// refused.
#[test]
fn a_certificate_not_issued_by_the_ca_is_not_accepted_as_ours() {
    let ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let config = pinned(&ca);
    let now = SystemTime::now();
    let (key, cert, mut e) = new_device(&ca, &config, "CN=victim", CHALLENGE, now);
    // A certificate for the victim's key, issued by another key under the CA's name.
    let rogue = rsa_key();
    let planted = issue(
        &CertificateParams {
            serial_number: random_serial(&mut rng()).unwrap(),
            subject: name("CN=victim"),
            public_key: MessageSigner::public_key_info(&key).unwrap(),
            not_before: now,
            not_after: now + Duration::from_secs(3600),
            extensions: Vec::new(),
        },
        ca.current.cert.tbs_certificate().subject(),
        &rogue,
        DigestAlgorithm::Sha256,
    )
    .unwrap();
    let content = CertRepContent::issued(vec![planted]);
    let outcome = answer_with(
        &ca,
        &mut e,
        &key,
        &cert,
        content,
        DigestAlgorithm::Sha256,
        now,
    );
    assert_eq!(
        outcome,
        Err(scep::error::ProtocolError::NoIssuedCertificate.into())
    );
}

/// Chain building does linear work: 64 certificates (the most a GetCACert answer may
/// hold), a chain of CA certificates each issued by the one before, sent in the worst
/// order (the anchor last, the rest deepest first), is built and its deepest CA found.
#[test]
fn a_long_chain_in_the_worst_order_is_built() {
    let now = SystemTime::now();
    let root = CaKey::generate("CN=root", now).unwrap();
    // A root without a path length limit.
    let mut certs = Vec::new();
    let mut issuer = CaKey {
        key: root.key.clone(),
        cert: issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng()).unwrap(),
                subject: name("CN=root"),
                public_key: MessageSigner::public_key_info(root.key.as_ref()).unwrap(),
                not_before: now - Duration::from_secs(60),
                not_after: now + Duration::from_secs(86400),
                extensions: ca_extensions(&name("CN=root"), None),
            },
            &name("CN=root"),
            root.key.as_ref(),
            DigestAlgorithm::Sha256,
        )
        .unwrap(),
    };
    let anchor = issuer.cert.clone();
    // One key for all the intermediates keeps the test fast; names tell them apart.
    let key = Arc::new(rsa_key());
    for i in 1..64 {
        let cn = format!("CN=intermediate {i}");
        let cert = issue_from(
            &issuer,
            &cn,
            &MessageSigner::public_key_info(key.as_ref()).unwrap(),
            now - Duration::from_secs(60),
            now + Duration::from_secs(86400),
            Some(ca_extensions(&name(&cn), None)),
        );
        certs.push(cert.clone());
        issuer = CaKey {
            key: key.clone(),
            cert,
        };
    }
    certs.reverse();
    certs.push(anchor.clone());
    let info = CaInfo::new(
        memory_ca::capabilities(),
        certs,
        &pin(&anchor),
        SystemTime::now(),
    )
    .unwrap();
    assert_eq!(
        info.ca.tbs_certificate().subject().to_string(),
        "CN=intermediate 63"
    );
}

/// 63 CA certificates with one name, each issued by the one before with a key of its own:
/// every certificate names every other as a possible issuer. Building used to verify
/// signatures O(n³) times (14 s); now each certificate is checked against a bounded
/// number of candidate issuers, and a chain this ambiguous is refused (the timing is in
/// `benches/trust.rs`).
#[test]
fn an_ambiguous_chain_of_one_name_is_refused_with_bounded_work() {
    let now = SystemTime::now();
    let cn = name("CN=same");
    let mut keys: Vec<p256::ecdsa::SigningKey> = (0..64).map(|_| ec_key()).collect();
    let mut certs = Vec::new();
    for i in 0..64 {
        let cert = issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng()).unwrap(),
                subject: cn.clone(),
                public_key: keys[i].public_key_info().unwrap(),
                not_before: now - Duration::from_secs(60),
                not_after: now + Duration::from_secs(86400),
                extensions: ca_extensions(&cn, None),
            },
            &cn,
            &keys[i.saturating_sub(1)],
            DigestAlgorithm::Sha256,
        )
        .unwrap();
        certs.push(cert);
    }
    keys.clear();
    let anchor = certs[0].clone();
    certs.reverse();
    let info = CaInfo::new(
        memory_ca::capabilities(),
        certs,
        &pin(&anchor),
        SystemTime::now(),
    );
    assert_eq!(
        distrust_of(&info),
        Some(Distrust::NoTrustedIssuer),
        "{:?}",
        info.map(|i| i.ca.tbs_certificate().serial_number().clone())
    );
}

/// A GetNextCACert answer signed by anyone but the current CA (here: an enrolled device,
/// with the next "CA" of its choice) is refused.
#[test]
fn get_next_ca_cert_signed_by_a_device_is_refused() {
    let ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let (key, device) = enrolled_device(&ca);
    let config = pinned(&ca);
    let info = discovered(&ca, &config);
    let rogue = CaKey::generate("CN=rogue next CA", SystemTime::now()).unwrap();
    let body = scep::message::NextCaCertificates::new(vec![rogue.cert])
        .seal(&key, &device, DigestAlgorithm::Sha256)
        .unwrap();
    let result = scep::client::handle_next_ca_response(
        &info,
        &config,
        scep::http::HttpReply::new(200, Some("application/x-x509-next-ca-cert"), &body),
    );
    assert!(
        matches!(
            result,
            Err(scep::Error::Crypto(
                scep::error::CryptoError::UntrustedSigner
                    | scep::error::CryptoError::SignerNotFound
            ))
        ),
        "{result:?}"
    );
}

/// An RA certificate for `name` issued by the CA, with `usage` and, when `marked`, the
/// Certificate Request Agent extended key usage (as NDES's carry).
fn ra_certificate(ca: &MemoryCa, name_text: &str, usage: KeyUsages, marked: bool) -> Certificate {
    use x509_cert::ext::pkix::ExtendedKeyUsage;
    let key = rsa_key();
    let n = name(name_text);
    let spki = MessageSigner::public_key_info(&key).unwrap();
    let mut extensions: Vec<_> = end_entity_extensions(&n, &spki, None)
        .unwrap()
        .into_iter()
        .filter(|e| e.extn_id != const_oid::db::rfc5280::ID_CE_KEY_USAGE)
        .collect();
    extensions.push((&KeyUsage(usage.into())).to_extension(&n, &[]).unwrap());
    if marked {
        let cra = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.1");
        extensions.push(
            (&ExtendedKeyUsage(vec![cra]))
                .to_extension(&n, &[])
                .unwrap(),
        );
    }
    let now = SystemTime::now();
    issue_from(
        &ca.current,
        name_text,
        &spki,
        now - Duration::from_secs(60),
        now + Duration::from_secs(3600),
        Some(extensions),
    )
}

/// `RaTrust::Marked` (found in review): an enrolled device that got a certificate with the
/// NDES RA's subject (a CA that issues the subject a requester asks for does) is not an
/// RA: only the marker makes one.
#[test]
fn a_device_certificate_with_the_ra_s_subject_is_not_an_ra() {
    let ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let ra_name = "CN=NDES RA,O=example";
    let sign = ra_certificate(&ca, ra_name, KeyUsages::DigitalSignature, true);
    let enc = ra_certificate(&ca, ra_name, KeyUsages::KeyEncipherment, true);
    let now = SystemTime::now();
    let twin = issue_from(
        &ca.current,
        ra_name,
        &MessageSigner::public_key_info(&rsa_key()).unwrap(),
        now - Duration::from_secs(60),
        now + Duration::from_secs(86400),
        None,
    );
    let mut config = pinned(&ca);
    config.ra_trust = RaTrust::Marked;
    let answer = vec![twin.clone(), sign, ca.current.cert.clone(), enc];
    assert_eq!(
        CaInfo::new(memory_ca::capabilities(), answer, &config, now).unwrap_err(),
        untrusted(&twin, Distrust::NotTrustedAsRa)
    );
}

/// A second CA certificate beside the chain (a sibling sub-CA under the pinned root) does
/// not get to be the issuing CA by being deeper or newer (found in review): the answer
/// must hold one chain.
#[test]
fn a_ca_certificate_beside_the_chain_is_refused() {
    let now = SystemTime::now();
    let day = Duration::from_secs(86400);
    // The memory CA's certificate has pathLenConstraint 0: a root that allows more.
    let root_key = Arc::new(rsa_key());
    let root_name = name("CN=root");
    let root = CaKey {
        cert: issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng()).unwrap(),
                subject: root_name.clone(),
                public_key: MessageSigner::public_key_info(root_key.as_ref()).unwrap(),
                not_before: now - day,
                not_after: now + day,
                extensions: ca_extensions(&root_name, None),
            },
            &root_name,
            root_key.as_ref(),
            DigestAlgorithm::Sha256,
        )
        .unwrap(),
        key: root_key,
    };
    let key = rsa_key();
    let spki = MessageSigner::public_key_info(&key).unwrap();
    let sub = |cn: &str, not_before| {
        issue_from(
            &root,
            cn,
            &spki,
            not_before,
            now + day,
            Some(ca_extensions(&name(cn), None)),
        )
    };
    let issuing = sub("CN=issuing CA", now - day);
    let sibling = sub("CN=someone else's sub-CA", now - Duration::from_secs(60));
    let answer = vec![root.cert.clone(), issuing.clone(), sibling.clone()];
    let refused = CaInfo::new(memory_ca::capabilities(), answer, &pin(&root.cert), now);
    assert_eq!(
        distrust_of(&refused),
        Some(Distrust::OffTheChain),
        "{:?}",
        refused.map(|i| i.ca.tbs_certificate().subject().to_string())
    );
    // One chain is fine.
    let info = CaInfo::new(
        memory_ca::capabilities(),
        vec![root.cert.clone(), issuing.clone()],
        &pin(&root.cert),
        now,
    )
    .unwrap();
    assert_eq!(info.ca, issuing);
}

/// A CA key and its certificate: self-signed when `issuer` is `None`; cA TRUE, no path
/// length constraint.
fn ca_key(cn: &str, issuer: Option<&CaKey>) -> CaKey {
    let now = SystemTime::now();
    let day = Duration::from_secs(86400);
    let key = Arc::new(rsa_key());
    let subject = name(cn);
    let spki = MessageSigner::public_key_info(key.as_ref()).unwrap();
    let cert = match issuer {
        Some(issuer) => issue_from(
            issuer,
            cn,
            &spki,
            now - day,
            now + day,
            Some(ca_extensions(&subject, None)),
        ),
        None => issue(
            &CertificateParams {
                serial_number: random_serial(&mut rng()).unwrap(),
                subject: subject.clone(),
                public_key: spki,
                not_before: now - day,
                not_after: now + day,
                extensions: ca_extensions(&subject, None),
            },
            &subject,
            key.as_ref(),
            DigestAlgorithm::Sha256,
        )
        .unwrap(),
    };
    CaKey { cert, key }
}

/// A sub-CA that someone else runs, below the issuing CA or beside it under the pinned
/// root, does not take over as the issuing CA when the client names the issuing CA
/// (`ClientConfig::issuing_ca`; found in a second review: the one-chain rule alone cannot
/// tell, since an on-path attacker chooses what the answer holds). Without it, pinning a
/// CA trusts every CA below it, as the documentation says.
#[test]
fn a_sub_ca_does_not_take_over_a_named_issuing_ca() {
    let now = SystemTime::now();
    let root = ca_key("CN=root", None);
    let issuing = ca_key("CN=issuing CA", Some(&root));
    let below = ca_key("CN=someone else's sub-CA", Some(&issuing));
    let beside = ca_key("CN=another sub-CA", Some(&root));
    let named = |anchor: &Certificate| {
        let mut config = pin(anchor);
        config.issuing_ca = Some(Fingerprint::sha256(&issuing.cert).unwrap());
        config
    };
    let discover = |answer: Vec<Certificate>, config: &ClientConfig| {
        CaInfo::new(memory_ca::capabilities(), answer, config, now)
    };
    for (answer, config) in [
        (
            vec![root.cert.clone(), issuing.cert.clone(), below.cert.clone()],
            named(&root.cert),
        ),
        (
            vec![issuing.cert.clone(), below.cert.clone()],
            named(&issuing.cert),
        ),
    ] {
        assert_eq!(
            discover(answer, &config).unwrap_err(),
            untrusted(&below.cert, Distrust::OffTheChain)
        );
    }
    // The real issuing CA left out, another sub-CA in its place.
    assert_eq!(
        discover(
            vec![root.cert.clone(), beside.cert.clone()],
            &named(&root.cert)
        )
        .unwrap_err(),
        scep::Error::Policy(scep::error::PolicyError::CaPinMismatch)
    );
    // The chain itself is fine.
    let info = discover(
        vec![root.cert.clone(), issuing.cert.clone()],
        &named(&root.cert),
    )
    .unwrap();
    assert_eq!(info.ca, issuing.cert);
    // Without a named issuing CA, the deepest of one chain issues: pinning the root trusts
    // the CAs under it.
    let info = discover(
        vec![root.cert.clone(), beside.cert.clone()],
        &pin(&root.cert),
    )
    .unwrap();
    assert_eq!(info.ca, beside.cert);
}

/// An intermediate with a critical extension this crate does not process (here name
/// constraints) is refused rather than trusted without its constraint (RFC 5280 section
/// 6.1.4).
#[test]
fn an_intermediate_with_an_unknown_critical_extension_is_refused() {
    let ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let now = SystemTime::now();
    let cn = name("CN=constrained intermediate");
    let mut extensions = ca_extensions(&cn, Some(0));
    extensions.push(x509_cert::ext::Extension {
        extn_id: der::asn1::ObjectIdentifier::new_unwrap("2.5.29.30"),
        critical: true,
        // NameConstraints { permittedSubtrees [0] { GeneralSubtree { dNSName "example" } } }
        extn_value: OctetString::new(vec![
            0x30, 0x0d, 0xa0, 0x0b, 0x30, 0x09, 0x82, 0x07, b'e', b'x', b'a', b'm', b'p', b'l',
            b'e',
        ])
        .unwrap(),
    });
    let intermediate = issue_from(
        &ca.current,
        "CN=constrained intermediate",
        &MessageSigner::public_key_info(&rsa_key()).unwrap(),
        now - Duration::from_secs(60),
        now + Duration::from_secs(3600),
        Some(extensions),
    );
    let answer = vec![ca.current.cert.clone(), intermediate.clone()];
    assert_eq!(
        CaInfo::new(memory_ca::capabilities(), answer, &pinned(&ca), now).unwrap_err(),
        untrusted(&intermediate, Distrust::UnknownCriticalExtension)
    );
}

// ---------------------------------------------------------------------------------------
// 3. Work per request: one recipient is tried.
// ---------------------------------------------------------------------------------------

/// 16 RecipientInfos naming the CA certificate used to cost 16 RSA decryptions (and 16
/// passes over up to 1 MiB of content). Duplicates are refused before any.
#[test]
fn duplicate_recipients_cost_no_rsa_decryption() {
    let (mut ca, counting) = counting_ca();
    let ca_cert = ca.current.cert.clone();
    let (_, _, captured) = victim_request(&ca_cert, CHALLENGE);
    let env = envelope_of(&captured);
    let ktri = env.recip_infos.iter().next().unwrap().clone();
    let (iv, _) = iv_and_ciphertext(&env);
    // 16 copies of the KTRI, each with another encryptedKey so that the SET keeps them.
    let mut recipients = vec![ktri.clone()];
    for i in 1..16u8 {
        let mut k = scep::asn1::RecipientInfo::from_any(&ktri).unwrap();
        if let scep::asn1::RecipientInfo::Ktri(t) = &mut k {
            let mut bytes = t.enc_key.as_bytes().to_vec();
            bytes[0] ^= i;
            t.enc_key = OctetString::new(bytes).unwrap();
        }
        recipients.push(k.to_any().unwrap());
    }
    let content = envelope(
        CmsVersion::V0,
        recipients,
        const_oid::db::rfc5911::ID_AES_128_CBC,
        &iv,
        &vec![0u8; 64 << 10],
    );
    let attacker = ec_key();
    let attacker_cert = self_signed(&attacker, "CN=attacker");
    let answer = post_as(&mut ca, "attacker", &content, &attacker, &attacker_cert);
    assert_eq!(
        answer.fail_info.as_deref(),
        Some("badRequest (2)"),
        "{answer:?}"
    );
    assert_eq!(counting.decrypts(), 0, "RSA decryptions for one request");
}

// ---------------------------------------------------------------------------------------
// 4. No private-key work for unauthenticated input.
// ---------------------------------------------------------------------------------------

/// A PKCSReq whose signature does not verify, and a replayed one, are answered without
/// using the CA key: HTTP 400, a plain-text reason, no CertRep.
#[test]
fn unverifiable_and_replayed_messages_get_no_signed_answer() {
    let (mut ca, counting) = counting_ca();
    let ca_cert = ca.current.cert.clone();
    // Making the server signed its GetNextCACert answer, once.
    let at_start = counting.signs();
    let (_, _, sealed) = victim_request(&ca_cert, "wrong challenge");
    // A bad signature: flip an octet of the signature value (the last octets of the
    // message are the SignerInfo's signature).
    let mut forged = sealed.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let answer = post(&mut ca, forged);
    assert_eq!(
        (answer.status, answer.content_type),
        (400, "text/plain"),
        "a bad signature"
    );
    assert_eq!(
        counting.signs(),
        at_start,
        "CA signatures for a bad signature"
    );

    // The genuine message, then the same again: the second is a replay.
    let first = post(&mut ca, sealed.clone());
    assert_eq!(first.status, 200);
    let signs = counting.signs();
    let replay = post(&mut ca, sealed);
    assert_eq!(
        (replay.status, replay.content_type),
        (400, "text/plain"),
        "a replay"
    );
    assert_eq!(counting.signs(), signs, "CA signatures for a replay");
}

/// GetNextCACert is public: answering it costs no signature per request.
#[test]
fn get_next_ca_cert_costs_no_signature_per_request() {
    let (mut ca, counting) = counting_ca();
    let req = HttpRequest::new(
        "/scep",
        &Operation::GetNextCaCert { message: None },
        Method::Get,
    )
    .unwrap();
    let first = send(&mut ca, &req);
    assert_eq!(first.status, 200);
    let signs = counting.signs();
    for _ in 0..10 {
        assert_eq!(send(&mut ca, &req).body, first.body);
    }
    assert_eq!(counting.signs(), signs);
}

/// A requester that signs with SHA-1 does not get the CA to sign with SHA-1: replies are
/// signed with the server's digest (SHA-256).
#[test]
fn replies_are_signed_with_the_servers_digest_not_the_requesters() {
    let mut ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let ca_cert = ca.current.cert.clone();
    let key = rsa_key();
    let cert = self_signed(&key, "CN=sha1 client");
    let content = RequestContent::PkcsReq(csr(&key, "CN=sha1 client", Some("wrong")));
    let sealed = seal_request(None, content, &key, &cert, DigestAlgorithm::Sha1, &ca_cert);
    let answer = post(&mut ca, sealed);
    let rep = PkiMessage::decode(&answer.body, &Default::default()).unwrap();
    assert_eq!(rep.digest_algorithm(), DigestAlgorithm::Sha256);
}

// ---------------------------------------------------------------------------------------
// 5. Renewal: an expired certificate of this CA is not a renewal signer.
// ---------------------------------------------------------------------------------------

#[test]
fn an_expired_certificate_of_this_ca_cannot_renew() {
    let mut ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let key = rsa_key();
    let now = SystemTime::now();
    let day = Duration::from_secs(86400);
    let expired = issue_from(
        &ca.current,
        "CN=old device",
        &MessageSigner::public_key_info(&key).unwrap(),
        now - 30 * day,
        now - day,
        None,
    );
    let config = pinned(&ca);
    let info = discovered(&ca, &config);
    let new_key = rsa_key();
    for kind in [MessageType::RenewalReq, MessageType::PkcsReq] {
        let mut info = info.clone();
        info.negotiated.renewal = kind == MessageType::RenewalReq;
        let mut e = enrolment(
            &info,
            &config,
            EnrollmentKind::Renewal,
            csr(&new_key, "CN=old device", None),
            &key,
            &expired,
            now,
        );
        assert_eq!(e.message_type(), kind);
        let outcome = exchange(&mut ca, &mut e, &key, &expired, now).unwrap();
        assert!(
            matches!(outcome, scep::client::Outcome::Failed { .. }),
            "{kind}: {outcome:?}"
        );
    }
    assert!(ca.issued().is_empty());
}

/// What a server application needs to refuse a renewal is exposed, and every reason is
/// named: a signer outside its validity, not issued by this CA (self-signed or another
/// CA's), a different subject, a new key when re-keying is not allowed.
#[test]
fn renewal_checks_name_every_reason() {
    use scep::error::{PolicyError, RenewalRefusal};
    use scep::server::{Incoming, RenewalPolicy, SignerKind};
    let ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let other_ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let server = memory_ca::server(&ca.current, None, false).unwrap();
    let now = SystemTime::now();
    let day = Duration::from_secs(86400);
    let key = rsa_key();
    let spki = MessageSigner::public_key_info(&key).unwrap();
    let valid = issue_from(&ca.current, "CN=device", &spki, now - day, now + day, None);
    let expired = issue_from(
        &ca.current,
        "CN=device",
        &spki,
        now - 2 * day,
        now - day,
        None,
    );
    let foreign = issue_from(
        &other_ca.current,
        "CN=device",
        &spki,
        now - day,
        now + day,
        None,
    );
    let self_signed = self_signed(&key, "CN=device");
    let new_key = rsa_key();
    let same = csr(&key, "CN=device", None);
    let rekey = csr(&new_key, "CN=device", None);
    let renamed = csr(&key, "CN=somebody else", None);

    let check = |signer: &Certificate, csr: &scep::asn1::CertReq, policy: RenewalPolicy| {
        let content = RequestContent::RenewalReq(csr.clone());
        let sealed = seal_request(
            None,
            content,
            &key,
            signer,
            DigestAlgorithm::Sha256,
            &ca.current.cert,
        );
        let query = "operation=PKIOperation";
        let Incoming::PkiOperation(received) =
            server.handle_request("POST", query, &sealed, now, &mut rng())
        else {
            panic!("not handed on")
        };
        (received.signer_kind(), received.check_renewal(csr, &policy))
    };
    let refused = |r| Err(scep::Error::Policy(PolicyError::RenewalRefused(r)));
    let strict = RenewalPolicy::default();
    let mut rekeying = RenewalPolicy::default();
    rekeying.allow_rekey = true;
    use RenewalRefusal::{KeyChanged, NotIssuedByCa, SignerNotValid, SubjectChanged};
    for (signer, csr, policy, kind, verdict) in [
        (&valid, &same, strict, SignerKind::IssuedByCa, Ok(())),
        (
            &expired,
            &same,
            strict,
            SignerKind::IssuedByCaNotValid,
            refused(SignerNotValid),
        ),
        (
            &foreign,
            &same,
            strict,
            SignerKind::Other,
            refused(NotIssuedByCa),
        ),
        (
            &self_signed,
            &same,
            strict,
            SignerKind::SelfSigned,
            refused(NotIssuedByCa),
        ),
        (
            &valid,
            &renamed,
            strict,
            SignerKind::IssuedByCa,
            refused(SubjectChanged),
        ),
        (
            &valid,
            &rekey,
            strict,
            SignerKind::IssuedByCa,
            refused(KeyChanged),
        ),
        (&valid, &rekey, rekeying, SignerKind::IssuedByCa, Ok(())),
    ] {
        assert_eq!(
            check(signer, csr, policy),
            (kind, verdict),
            "{} with {policy:?}",
            signer.tbs_certificate().subject()
        );
    }
}

// ---------------------------------------------------------------------------------------
// 6. The client's digest policy applies to what it receives.
// ---------------------------------------------------------------------------------------

#[test]
fn a_strict_client_refuses_a_sha1_cert_rep() {
    let ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let mut config = pinned(&ca);
    config.policy = scep::caps::Policy::strict();
    let now = SystemTime::now();
    let (key, cert, mut e) = new_device(&ca, &config, "CN=strict", CHALLENGE, now);
    let pending = CertRepContent::Pending;
    let outcome = answer_with(
        &ca,
        &mut e,
        &key,
        &cert,
        pending,
        DigestAlgorithm::Sha1,
        now,
    );
    assert!(
        matches!(outcome, Err(scep::Error::Policy(_))),
        "a SHA-1 CertRep: {outcome:?}"
    );
}

/// Answers the enrolment's request due at `now` with a CertRep of `content` signed by the
/// CA with `digest`, made here rather than by the CA's own logic, and hands it over.
fn answer_with(
    ca: &MemoryCa,
    e: &mut Enrollment,
    key: &rsa::PrivateKey,
    cert: &Certificate,
    content: CertRepContent,
    digest: DigestAlgorithm,
    now: SystemTime,
) -> scep::Result<scep::client::Outcome> {
    let request = decode_request(&e.poll_request(key, now, &mut rng()).unwrap().unwrap());
    let mut params = SealParams::new(ca.current.key.as_ref(), &ca.current.cert);
    params.digest = digest;
    let reply = OutgoingCertRep::reply_to(request.attributes(), content, &mut rng())
        .unwrap()
        .seal(&params, Recipient::Certificate(cert), &mut rng())
        .unwrap();
    let key = EnvelopeKey::Key {
        key,
        certificate: Some(cert),
    };
    e.handle_response(
        scep::http::HttpReply::new(200, Some("application/x-pki-message"), &reply),
        key,
        now,
    )
}

/// The verified pkiMessage of a client's HTTP request shape.
fn decode_request(req: &HttpRequest) -> scep::message::VerifiedMessage {
    let Operation::PkiOperation { message } = scep::http::parse_request(
        req.method.as_str(),
        req.query.as_str(),
        &req.body,
        &Default::default(),
    )
    .unwrap() else {
        panic!("not a PKIOperation")
    };
    PkiMessage::decode(&message, &Default::default())
        .unwrap()
        .verify(&[])
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// 7 and 8. The enrolment's limits and state.
// ---------------------------------------------------------------------------------------

/// A client that retries whenever an answer fails to verify (an on-path attacker corrupts
/// every answer after a PENDING) sends at most `max_polls` CertPolls, and none after
/// `max_poll_duration`.
#[test]
fn a_client_retrying_on_errors_polls_no_more_than_its_limits() {
    let mut ca = MemoryCa::new(CHALLENGE, 100, false).unwrap();
    let mut config = pinned(&ca);
    config.max_polls = 5;
    let start = SystemTime::now();
    let (key, cert, mut e) = new_device(&ca, &config, "CN=patient", CHALLENGE, start);
    let pending = exchange(&mut ca, &mut e, &key, &cert, start).unwrap();
    assert!(matches!(pending, scep::client::Outcome::Pending { .. }));
    let envelope_key = EnvelopeKey::Key {
        key: &key,
        certificate: Some(&cert),
    };
    let mut sent = 0;
    let mut now = start;
    for _ in 0..500 {
        now += config.poll_interval;
        match e.poll_request(&key, now, &mut rng()) {
            Ok(Some(_)) => {
                sent += 1;
                // The attacker's answer: not a valid CertRep.
                let _ = e.handle_response(
                    scep::http::HttpReply::new(200, Some("application/x-pki-message"), b"garbage"),
                    envelope_key,
                    now,
                );
            }
            Ok(None) => {}
            Err(_) => break,
        }
    }
    assert_eq!(sent, 5, "CertPolls sent");

    // The time limit, likewise: checked when a poll would be sent.
    config.max_polls = 1000;
    config.max_poll_duration = Duration::from_secs(3600);
    let (key, cert, mut e) = new_device(&ca, &config, "CN=patient", CHALLENGE, start);
    exchange(&mut ca, &mut e, &key, &cert, start).unwrap();
    let late = start + Duration::from_secs(7200);
    assert!(
        matches!(
            e.poll_request(&key, late, &mut rng()),
            Err(scep::Error::Policy(
                scep::error::PolicyError::PollTimeExceeded
            ))
        ),
        "a poll two hours into a one-hour limit"
    );
}

/// Once an enrolment has its answer (issued or failed), it never sends again.
#[test]
fn a_finished_enrolment_sends_nothing() {
    for challenge in [CHALLENGE, "wrong"] {
        let mut ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
        let config = pinned(&ca);
        let now = SystemTime::now();
        let (key, cert, mut e) = new_device(&ca, &config, "CN=done", challenge, now);
        exchange(&mut ca, &mut e, &key, &cert, now).unwrap();
        for later in [now, now + Duration::from_secs(86400)] {
            assert!(
                e.poll_request(&key, later, &mut rng()).unwrap().is_none(),
                "a finished enrolment ({challenge}) sent again"
            );
        }
        // Nor after a save and restore.
        let mut restored = Enrollment::restore(&e.save().unwrap(), &config).unwrap();
        assert!(
            restored
                .poll_request(&key, now, &mut rng())
                .unwrap()
                .is_none()
        );
    }
}

/// Discovery applies the configured limits to the GetCACert answer.
#[test]
fn discovery_uses_the_configured_limits() {
    let mut ca = MemoryCa::new(CHALLENGE, 0, true).unwrap();
    let mut config = pinned(&ca);
    config.decrypt.limits.max_certificates = 1;
    let (_, device) = enrolled_device(&ca);
    let body = scep::pipeline::certs_only(&[ca.current.cert.clone(), device], &[]).unwrap();
    let mut d = scep::client::Discovery::new(config);
    let req = d.poll_request().unwrap().unwrap();
    let caps = send(&mut ca, &req);
    let now = SystemTime::now();
    d.handle_response(
        scep::http::HttpReply::new(caps.status, Some(caps.content_type), &caps.body),
        now,
    )
    .unwrap();
    let result = d.handle_response(
        scep::http::HttpReply::new(200, Some("application/x-x509-ca-ra-cert"), &body),
        now,
    );
    assert!(
        matches!(result, Err(scep::Error::Limit { .. })),
        "two certificates under a limit of one: {result:?}"
    );
}

/// A fingerprint is 40 or 64 hex digits, nothing else.
#[test]
fn fingerprints_are_exactly_40_or_64_hex_digits() {
    let good = "ab".repeat(32);
    assert!(Fingerprint::from_hex(&good).is_ok());
    assert!(Fingerprint::from_hex(&"cd".repeat(20)).is_ok());
    assert!(Fingerprint::from_hex(&good.replace("ab", "AB:")).is_ok());
    for bad in [
        good[..63].to_owned(),             // an odd number of digits
        format!("{}a", &good[..62]),       // 63 digits
        format!("+1{}", &good[2..]),       // a sign
        format!("{}0x", &"ab".repeat(19)), // not hex
        "ab".repeat(33),                   // 66 digits
        String::new(),
    ] {
        assert!(Fingerprint::from_hex(&bad).is_err(), "{bad:?} was accepted");
    }
}

// ---------------------------------------------------------------------------------------
// 3 (PWRI) and 9. Password recipients: one per envelope, a budget, a high default count.
// ---------------------------------------------------------------------------------------

/// The iteration count of each PasswordRecipientInfo in an envelope.
fn pwri_iterations(envelope_der: &[u8]) -> Vec<u32> {
    #[derive(der::Sequence)]
    struct Pbkdf2Params {
        salt: OctetString,
        iteration_count: u32,
        key_length: Option<u32>,
        prf: Option<AlgorithmIdentifierOwned>,
    }
    let env = ContentInfo::from_der(envelope_der)
        .unwrap()
        .content
        .decode_as::<EnvelopedData>()
        .unwrap();
    env.recip_infos
        .iter()
        .filter_map(|r| match scep::asn1::RecipientInfo::from_any(r).unwrap() {
            scep::asn1::RecipientInfo::Pwri(p) => Some(
                p.key_derivation_alg
                    .unwrap()
                    .parameters
                    .unwrap()
                    .decode_as::<Pbkdf2Params>()
                    .unwrap()
                    .iteration_count,
            ),
            _ => None,
        })
        .collect()
}

/// An envelope with several PasswordRecipientInfos used to run PBKDF2 for each (16 x 10⁶
/// iterations: 34 s). Only one is allowed, and the iteration limit is a budget for the
/// whole envelope.
#[test]
fn several_password_recipients_are_refused_before_any_key_derivation() {
    let sealed = scep::pipeline::envelope::seal(
        b"payload",
        scep::ContentCipher::Aes128Cbc,
        Recipient::Password(b"password"),
        &mut rng(),
    )
    .unwrap();
    let env = ContentInfo::from_der(&sealed)
        .unwrap()
        .content
        .decode_as::<EnvelopedData>()
        .unwrap();
    let pwri = env.recip_infos.iter().next().unwrap().clone();
    let mut second = scep::asn1::RecipientInfo::from_any(&pwri).unwrap();
    if let scep::asn1::RecipientInfo::Pwri(p) = &mut second {
        let mut bytes = p.enc_key.as_bytes().to_vec();
        bytes[0] ^= 1;
        p.enc_key = OctetString::new(bytes).unwrap();
    }
    let (iv, ciphertext) = iv_and_ciphertext(&env);
    let two = envelope(
        CmsVersion::V3,
        vec![second.to_any().unwrap(), pwri],
        const_oid::db::rfc5911::ID_AES_128_CBC,
        &iv,
        &ciphertext,
    );
    // Whatever the order, the right password does not help: two PWRIs are refused.
    let result = scep::pipeline::envelope::open(
        &two,
        EnvelopeKey::Password(b"password"),
        &Default::default(),
    );
    assert!(
        matches!(result, Err(scep::Error::Protocol(_))),
        "two password recipients: {result:?}"
    );
}

/// The PBKDF2 iteration count of what the crate seals with a password is high by default
/// (an eavesdropper tests challenge guesses offline against it: 2 048 iterations cost
/// about 4 ms a guess) and configurable; the server seals an ECDSA requester's SUCCESS
/// with it.
#[test]
fn password_envelopes_use_a_high_iteration_count() {
    let seal = |iterations| {
        scep::pipeline::envelope::seal_with_iterations(
            b"payload",
            scep::ContentCipher::Aes128Cbc,
            Recipient::Password(b"password"),
            iterations,
            &mut rng(),
        )
        .unwrap()
    };
    assert_eq!(
        pwri_iterations(
            &scep::pipeline::envelope::seal(
                b"payload",
                scep::ContentCipher::Aes128Cbc,
                Recipient::Password(b"password"),
                &mut rng(),
            )
            .unwrap()
        ),
        [600_000]
    );
    assert_eq!(pwri_iterations(&seal(750_000)), [750_000]);

    // End to end: an ECDSA device enrols; the CertRep's envelope is sealed with the
    // challenge at the server's count.
    let mut ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let key = ec_key();
    let cert = self_signed(&key, "CN=ecdsa device");
    let content = RequestContent::PkcsReq(csr(&key, "CN=ecdsa device", Some(CHALLENGE)));
    let sha256 = DigestAlgorithm::Sha256;
    let sealed = seal_request(None, content, &key, &cert, sha256, &ca.current.cert);
    let answer = post(&mut ca, sealed);
    let rep = PkiMessage::decode(&answer.body, &Default::default()).unwrap();
    assert_eq!(rep.attributes().pki_status, Some(scep::PkiStatus::Success));
    assert_eq!(
        pwri_iterations(rep.envelope().unwrap()),
        [ca.server.config().pbkdf2_iterations]
    );
    assert_eq!(ca.server.config().pbkdf2_iterations, 600_000);
}

// ---------------------------------------------------------------------------------------
// 10. The example CA's authorisation.
// ---------------------------------------------------------------------------------------

/// An enrolled device (a certificate this CA issued) asks, without the challenge, for a
/// certificate with another subject, by PKCSReq (certmonger-style renewal) and by
/// RenewalReq. Both are refused.
#[test]
fn a_device_cannot_renew_into_another_subject() {
    let mut ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let (key, device) = enrolled_device(&ca);
    let config = pinned(&ca);
    let info = discovered(&ca, &config);
    let now = SystemTime::now();
    for renewal in [true, false] {
        let mut info = info.clone();
        info.negotiated.renewal = renewal;
        let mut e = enrolment(
            &info,
            &config,
            EnrollmentKind::Renewal,
            csr(&key, "CN=the CEO", None),
            &key,
            &device,
            now,
        );
        let outcome = exchange(&mut ca, &mut e, &key, &device, now).unwrap();
        assert!(
            matches!(outcome, scep::client::Outcome::Failed { .. }),
            "renewal={renewal}: {outcome:?}"
        );
    }
    assert!(ca.issued().is_empty(), "certificates issued");
}

/// A stranger polls a victim's pending transaction (its ID is no secret: here it is the
/// hash of the victim's public key) and would collect the victim's certificate. A poll
/// must be signed with the key of the request it polls.
#[test]
fn a_stranger_cannot_collect_a_pending_certificate() {
    let mut ca = MemoryCa::new(CHALLENGE, 1, false).unwrap();
    let ca_cert = ca.current.cert.clone();
    let victim = rsa_key();
    let victim_cert = self_signed(&victim, "CN=victim");
    let transaction_id = TransactionId::random(&mut rng());
    let content = RequestContent::PkcsReq(csr(&victim, "CN=victim", Some(CHALLENGE)));
    let sha256 = DigestAlgorithm::Sha256;
    let sealed = seal_request(
        Some(&transaction_id),
        content,
        &victim,
        &victim_cert,
        sha256,
        &ca_cert,
    );
    let pending = observe(&post(&mut ca, sealed), &ca_cert);
    assert_eq!(pending.pki_status.as_deref(), Some("PENDING (3)"));

    let stranger = rsa_key();
    let stranger_cert = self_signed(&stranger, "CN=stranger");
    let poll = RequestContent::CertPoll(scep::message::IssuerAndSubject {
        issuer: ca_cert.tbs_certificate().subject().clone(),
        subject: name("CN=victim"),
    });
    let sealed = seal_request(
        Some(&transaction_id),
        poll,
        &stranger,
        &stranger_cert,
        sha256,
        &ca_cert,
    );
    let answer = observe(&post(&mut ca, sealed), &ca_cert);
    assert_eq!(
        answer.pki_status.as_deref(),
        Some("FAILURE (2)"),
        "a stranger's poll: {answer:?}"
    );
    assert!(
        ca.issued().is_empty(),
        "a certificate was issued to the stranger"
    );
}

/// A captured PKCSReq's envelope (the victim's CSR and challenge), re-signed by a stranger:
/// with the policy that a PKCSReq's signer key must be the CSR's key (every client but
/// Apple's MDM identities), it is refused.
#[test]
fn a_captured_envelope_re_signed_by_a_stranger_is_refused() {
    let mut ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let ca_cert = ca.current.cert.clone();
    let (_, _, captured) = victim_request(&ca_cert, CHALLENGE);
    let m = PkiMessage::decode(&captured, &Default::default()).unwrap();
    let stranger = rsa_key();
    let stranger_cert = self_signed(&stranger, "CN=stranger");
    let tid = m.transaction_id().as_str();
    let answer = post_as(
        &mut ca,
        tid,
        m.envelope().unwrap(),
        &stranger,
        &stranger_cert,
    );
    assert_eq!(
        answer.pki_status.as_deref(),
        Some("FAILURE (2)"),
        "the re-signed request: {answer:?}"
    );
    assert!(ca.issued().is_empty());
}

/// The example CA seals a SUCCESS for a requester whose key cannot decrypt (ECDSA) with
/// the challenge; found in review: it did so for anyone, so a stranger asked GetCRL and
/// got an envelope to test guesses of the challenge against offline (each costing the CA
/// a PBKDF2 derivation). Only a requester that showed the challenge, or holds a
/// certificate the CA issued, gets one; a stranger gets a FAILURE.
#[test]
fn a_stranger_gets_no_envelope_sealed_with_the_challenge() {
    let mut ca = MemoryCa::new(CHALLENGE, 0, false).unwrap();
    let ca_cert = ca.current.cert.clone();
    let stranger = ec_key();
    let stranger_cert = self_signed(&stranger, "CN=stranger");
    let get_crl = RequestContent::GetCrl(scep::asn1::IssuerAndSerialNumber::of(&ca_cert));
    let sha256 = DigestAlgorithm::Sha256;
    let sealed = seal_request(None, get_crl, &stranger, &stranger_cert, sha256, &ca_cert);
    let answer = post(&mut ca, sealed);
    let rep = PkiMessage::decode(&answer.body, &Default::default()).unwrap();
    assert_eq!(rep.attributes().pki_status, Some(scep::PkiStatus::Failure));
    assert!(rep.envelope().is_none());
}
