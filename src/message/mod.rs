//! Typed SCEP messages.
