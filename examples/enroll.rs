//! A full SCEP enrolment in one process: an embedded CA built on this crate answers
//! GetCACaps, GetCACert and a PKCSReq; the client negotiates, enrols, verifies and decrypts
//! the CertRep and prints the issued certificate as PEM.
//!
//! ```text
//! cargo run --example enroll [-- --ecdsa]
//! ```
//!
//! No network is involved: the "transport" hands the client's [`HttpRequest`] shapes to the
//! CA as method, query and body, exactly what an HTTP server would pass on, and returns the
//! CA's [`HttpResponse`]. Progress goes to stderr; the certificate goes to stdout.
//!
//! With `--ecdsa` the client's key is ECDSA P-256: it cannot decrypt key transport, so the
//! CA encrypts its reply with the challenge password (PasswordRecipientInfo).

use core::str::FromStr;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use der::pem::LineEnding;
use der::{Encode, EncodePem};
use scep::caps::{Capabilities, Capability, Policy, negotiate};
use scep::cert::{CertificateParams, end_entity_extensions, issue, random_serial};
use scep::csr::{CsrParams, self_signed_certificate};
use scep::http::{
    HttpRequest, HttpResponse, Method, Operation, OperationKind, ServerLimits, check_response,
    parse_request,
};
use scep::message::{
    CaCertificates, CertRepContent, OutgoingCertRep, OutgoingRequest, PkiMessage, RequestContent,
    SealParams,
};
use scep::{
    Certificate, DecryptOptions, DigestAlgorithm, EnvelopeKey, FailInfo, KeyDecryptor, Limits,
    MessageSigner, Nonce, Recipient, TransactionId,
};
use x509_cert::ext::ToExtension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;

type Rng = rand_core::UnwrapErr<getrandom::SysRng>;
type BoxError = Box<dyn std::error::Error>;

fn rng() -> Rng {
    rand_core::UnwrapErr(getrandom::SysRng)
}

const CHALLENGE: &str = "enrol-me-please";
const SCEP_PATH: &str = "/scep";

/// The embedded CA: what a SCEP server built on this crate does with each request.
struct EmbeddedCa {
    key: rsa::RsaPrivateKey,
    cert: Certificate,
    caps: Capabilities,
}

impl EmbeddedCa {
    fn new() -> Result<Self, BoxError> {
        let key = rsa::RsaPrivateKey::new(&mut rng(), 2048)?;
        let name = Name::from_str("CN=Embedded SCEP CA,O=scep example")?;
        let now = SystemTime::now();
        let public_key = MessageSigner::public_key_info(&key)?;
        let ca_extensions = vec![
            (&BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            })
                .to_extension(&name, &[])?,
            (&KeyUsage(
                KeyUsages::KeyCertSign
                    | KeyUsages::CRLSign
                    | KeyUsages::DigitalSignature
                    | KeyUsages::KeyEncipherment,
            ))
                .to_extension(&name, &[])?,
        ];
        let params = CertificateParams {
            serial_number: random_serial(&mut rng())?,
            subject: name.clone(),
            public_key,
            not_before: now,
            not_after: now + Duration::from_secs(10 * 365 * 86400),
            extensions: ca_extensions,
        };
        let cert = issue(&params, &name, &key, DigestAlgorithm::Sha256)?;
        let caps = Capabilities::scep_standard()
            .with(Capability::PostPkiOperation)
            .with(Capability::Renewal);
        Ok(EmbeddedCa { key, cert, caps })
    }

    /// What an HTTP server would call with the request it received.
    fn handle(&self, method: &str, query: &str, body: &[u8]) -> HttpResponse {
        let operation = match parse_request(method, query, body, &ServerLimits::default()) {
            Ok(op) => op,
            Err(e) => return HttpResponse::from_error(&e),
        };
        match operation {
            Operation::GetCaCaps { .. } => HttpResponse::ca_caps(&self.caps),
            Operation::GetCaCert { .. } => {
                match (CaCertificates {
                    certificates: vec![self.cert.clone()],
                })
                .to_response()
                {
                    Ok((_, der)) => HttpResponse::ca_cert(der),
                    Err(e) => HttpResponse::error(500, &e.to_string()),
                }
            }
            Operation::PkiOperation { message } => match self.pki_operation(&message) {
                Ok(der) => HttpResponse::pki_message(der),
                Err(e) => HttpResponse::error(400, &e.to_string()),
            },
            other => HttpResponse::error(501, &format!("{} is not offered", other.kind())),
        }
    }

    fn pki_operation(&self, message: &[u8]) -> Result<Vec<u8>, scep::Error> {
        // 1. Parse and verify before any RSA decryption.
        let received = PkiMessage::decode(message, &Limits::default())?;
        eprintln!(
            "ca: {} from {}, transaction {}",
            received.message_type(),
            received
                .signer_certificate(&[])
                .map(|c| c.tbs_certificate().subject().to_string())
                .unwrap_or_default(),
            received.transaction_id()
        );
        let digest = received.digest_algorithm();
        let verified = received.verify(&[])?;
        // 2. Decrypt the payload.
        let (content, cipher) = verified.request(
            EnvelopeKey::Key {
                key: &self.key,
                certificate: Some(&self.cert),
            },
            &DecryptOptions::default(),
        )?;
        // 3. Decide.
        let reply = match content {
            RequestContent::PkcsReq(csr) => {
                scep::csr::verify(&csr)?;
                let details = scep::csr::inspect(&csr)?;
                if details.challenge_password.as_deref() != Some(CHALLENGE) {
                    CertRepContent::failure(
                        FailInfo::BadRequest,
                        Some("wrong challenge password".into()),
                    )
                } else {
                    let now = SystemTime::now();
                    let params = CertificateParams {
                        serial_number: random_serial(&mut rng())?,
                        subject: details.subject.clone(),
                        public_key: details.public_key.clone(),
                        not_before: now,
                        not_after: now + Duration::from_secs(365 * 86400),
                        extensions: end_entity_extensions(
                            &details.subject,
                            &details.public_key,
                            Some(self.cert.tbs_certificate().subject_public_key_info()),
                        )?,
                    };
                    let issued = issue(
                        &params,
                        self.cert.tbs_certificate().subject(),
                        &self.key,
                        DigestAlgorithm::Sha256,
                    )?;
                    eprintln!("ca: issued {}", details.subject);
                    CertRepContent::issued(vec![issued, self.cert.clone()])
                }
            }
            other => CertRepContent::failure(
                FailInfo::BadRequest,
                Some(format!("{:?} is not offered", other.message_type())),
            ),
        };
        // 4. Reply to the signer: key transport when its key can decrypt, else the password.
        let signer_key = verified
            .signer()
            .tbs_certificate()
            .subject_public_key_info();
        let recipient = if signer_key.algorithm.oid == scep::oids::RSA_ENCRYPTION {
            Recipient::Certificate(verified.signer())
        } else {
            Recipient::Password(CHALLENGE.as_bytes())
        };
        let mut params = SealParams::new(&self.key, &self.cert);
        params.cipher = cipher;
        params.digest = digest;
        OutgoingCertRep::reply_to(verified.attributes(), reply, &mut rng())?.seal(
            &params,
            recipient,
            &mut rng(),
        )
    }
}

/// Stands in for an HTTP client: sends the request shape to the CA, checks the answer.
fn send(
    ca: &EmbeddedCa,
    kind: OperationKind,
    request: &HttpRequest,
) -> Result<(&'static str, Vec<u8>), BoxError> {
    let query = request
        .path_and_query
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default();
    let shown: String = request.path_and_query.chars().take(72).collect();
    eprintln!(
        "client: {} {shown}{} ({} octets of body)",
        request.method,
        if shown.len() < request.path_and_query.len() {
            "..."
        } else {
            ""
        },
        request.body.len()
    );
    let response = ca.handle(request.method.as_str(), query, &request.body);
    let body = check_response(
        kind,
        response.status,
        Some(response.content_type),
        &response.body,
    )
    .map_err(|e| format!("{kind}: {e}: {}", String::from_utf8_lossy(&response.body)))?;
    Ok((response.content_type, body.to_vec()))
}

/// The client side. `decryptor` is the client key when it can decrypt key transport (RSA);
/// without one the CA's reply is read with the challenge password.
fn enrol(
    ca: &EmbeddedCa,
    key: &dyn MessageSigner,
    decryptor: Option<&dyn KeyDecryptor>,
) -> Result<Certificate, BoxError> {
    // GetCACaps, then negotiation (strict: the CA must announce SCEPStandard).
    let op = Operation::GetCaCaps { message: None };
    let (_, body) = send(
        ca,
        op.kind(),
        &HttpRequest::new(SCEP_PATH, &op, Method::Get)?,
    )?;
    let caps = Capabilities::from_bytes(&body)?;
    let negotiated = negotiate(&caps, &Policy::strict())?;
    eprintln!(
        "client: CA announces {}; using {} with {} by {}",
        caps.format().trim_end().replace('\n', " "),
        negotiated.cipher,
        negotiated.digest,
        negotiated.method()
    );

    // GetCACert. A real client pins the CA by this fingerprint.
    let op = Operation::GetCaCert { message: None };
    let (content_type, body) = send(
        ca,
        op.kind(),
        &HttpRequest::new(SCEP_PATH, &op, Method::Get)?,
    )?;
    let ca_certs = CaCertificates::parse(Some(content_type), &body, &Limits::default())?;
    let ca_cert = ca_certs
        .certificates
        .first()
        .ok_or("GetCACert returned no certificate")?
        .clone();
    let fingerprint = DigestAlgorithm::Sha256.digest(&ca_cert.to_der()?);
    eprintln!(
        "client: CA {} SHA-256 {}",
        ca_cert.tbs_certificate().subject(),
        fingerprint
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    );

    // The PKCSReq: a CSR with the challenge password, signed with a self-signed certificate.
    let subject = Name::from_str("CN=device-0001,O=scep example")?;
    let now = SystemTime::now();
    let signer_cert = self_signed_certificate(
        key,
        &subject,
        now,
        now + Duration::from_secs(3600),
        &mut rng(),
    )?;
    let mut csr = CsrParams::new(subject);
    csr.challenge_password = Some(CHALLENGE.into());
    csr.dns_names.push("device-0001.example.net".into());
    let public_key = key.public_key_info()?;
    let request = OutgoingRequest {
        transaction_id: TransactionId::from_public_key(&public_key.to_der()?),
        sender_nonce: Nonce::generate(&mut rng()),
        content: RequestContent::PkcsReq(csr.build(key)?),
    };
    let mut params = SealParams::new(key, &signer_cert);
    params.cipher = negotiated.cipher;
    params.digest = negotiated.digest;
    let sealed = request.seal(&params, Recipient::Certificate(&ca_cert), &mut rng())?;
    let op = Operation::PkiOperation { message: sealed };
    let (_, body) = send(
        ca,
        op.kind(),
        &HttpRequest::new(SCEP_PATH, &op, negotiated.method())?,
    )?;

    // The CertRep: verified against the CA we fetched, matched to our request, decrypted.
    let reply =
        PkiMessage::decode(&body, &Limits::default())?.verify(std::slice::from_ref(&ca_cert))?;
    reply.check_reply(&request.transaction_id, &request.sender_nonce, true)?;
    let reply_key = match decryptor {
        Some(k) => EnvelopeKey::Key {
            key: k,
            certificate: Some(&signer_cert),
        },
        None => EnvelopeKey::Password(CHALLENGE.as_bytes()),
    };
    match reply.cert_rep(reply_key, &DecryptOptions::default())? {
        // Certificate order in the SET means nothing: pick ours by its public key.
        CertRepContent::Success { certificates, .. } => Ok(certificates
            .into_iter()
            .find(|c| c.tbs_certificate().subject_public_key_info() == &public_key)
            .ok_or("the CertRep has no certificate for our key")?),
        CertRepContent::Failure {
            fail_info,
            fail_info_text,
        } => Err(format!("FAILURE {fail_info:?} {fail_info_text:?}").into()),
        CertRepContent::Pending => Err("PENDING".into()),
        other => Err(format!("unexpected CertRep {other:?}").into()),
    }
}

fn run(ecdsa: bool) -> Result<(), BoxError> {
    let ca = EmbeddedCa::new()?;
    let cert = if ecdsa {
        use p256::elliptic_curve::Generate;
        let key = p256::ecdsa::SigningKey::generate_from_rng(&mut rng());
        enrol(&ca, &key, None)?
    } else {
        let key = rsa::RsaPrivateKey::new(&mut rng(), 2048)?;
        enrol(&ca, &key, Some(&key))?
    };
    scep::cert::verify_issued_by(&cert, ca.cert.tbs_certificate().subject_public_key_info())?;
    eprintln!(
        "client: issued {} by {}, serial {}",
        cert.tbs_certificate().subject(),
        cert.tbs_certificate().issuer(),
        cert.tbs_certificate()
            .serial_number()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    );
    print!("{}", cert.to_pem(LineEnding::LF)?);
    Ok(())
}

fn main() -> ExitCode {
    let ecdsa = std::env::args().any(|a| a == "--ecdsa");
    match run(ecdsa) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
