//! Entry points for the fuzz targets under `fuzz/`. Not public API: the targets stay thin
//! and everything they exercise lives here, so a crash reproduces with a plain unit test.

use crate::limits::Limits;
use crate::message::PkiMessage;

/// The open path of a received pkiMessage without keys: BER normalisation, SignedData and
/// attribute decoding, envelope inspection, signer lookup and signature verification.
pub fn open_pki_message(data: &[u8]) {
    let limits = Limits::default();
    if let Ok(msg) = PkiMessage::decode(data, &limits) {
        let _ = msg.envelope_info();
        let _ = msg.signer_certificate(&[]);
        let _ = msg.verify(&[]);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn garbage_does_not_panic() {
        for input in [
            &b""[..],
            &[0x30],
            &[0x30, 0x80],
            &[0x30, 0x80, 0, 0],
            &[0xff; 64],
        ] {
            super::open_pki_message(input);
        }
    }
}
