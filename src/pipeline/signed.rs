//! SignedData (RFC 5652 section 5).
