//! BER to DER normalisation of untrusted input.
//!
//! Placeholder: being written (see the helper's task). `to_der` currently passes DER through.

use crate::error::Result;
use crate::limits::Limits;

/// Converts a BER encoding into DER (definite lengths, primitive strings, minimal lengths).
///
/// Input that is already DER is returned unchanged.
pub fn to_der(input: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let _ = limits;
    Ok(input.to_vec())
}
