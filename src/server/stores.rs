//! Where a server keeps what it has seen, behind traits so that several instances can share
//! one store (a database) and a restart loses nothing.
//!
//! The traits are synchronous, `Send + Sync` and take `&self`, like rustls'
//! `StoresServerSessions`: an implementation does its own locking, and an async
//! application calls the server from a blocking task. The in-memory implementations here
//! are the defaults.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use crate::error::StoreError;
use crate::types::Nonce;

/// What a [`ReplayCache`] or a [`ReplayStore`] knew of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonceCheck {
    /// Not seen before (or forgotten since, or the cache is off): now recorded.
    Fresh,
    /// Seen before, with a byte-identical message: the same request sent again.
    Retransmission,
    /// Seen before with a different message: a nonce reused by another message.
    Replay,
}

/// A bounded set of recently seen values (senderNonces; for the server's own use, the
/// encryptedKeys of envelopes), each with a SHA-256 digest of the message that carried
/// it; the oldest is forgotten first. Values are kept as SHA-256 digests.
#[derive(Debug, Clone)]
pub struct ReplayCache {
    capacity: usize,
    order: VecDeque<[u8; 32]>,
    seen: HashMap<[u8; 32], [u8; 32]>,
}

pub(super) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for p in parts {
        hasher.update(p);
    }
    hasher.finalize().into()
}

impl ReplayCache {
    /// A cache remembering up to `capacity` nonces (0 disables replay protection).
    pub fn new(capacity: usize) -> Self {
        ReplayCache {
            capacity,
            order: VecDeque::new(),
            seen: HashMap::new(),
        }
    }

    /// Checks `nonce`, carried by `message` (the pkiMessage as received), and records it
    /// when it is fresh.
    pub fn check(&mut self, nonce: &Nonce, message: &[u8]) -> NonceCheck {
        self.check_value(
            &sha256(&[b"senderNonce", nonce.as_bytes()]),
            &sha256(&[message]),
        )
    }

    /// Checks the value whose digest is `value`, carried by the message whose digest is
    /// `message`, and records it when it is fresh.
    pub fn check_value(&mut self, value: &[u8; 32], message: &[u8; 32]) -> NonceCheck {
        if self.capacity == 0 {
            return NonceCheck::Fresh;
        }
        if let Some(seen) = self.seen.get(value) {
            return if seen == message {
                NonceCheck::Retransmission
            } else {
                NonceCheck::Replay
            };
        }
        if self.order.len() >= self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.order.push_back(*value);
        self.seen.insert(*value, *message);
        NonceCheck::Fresh
    }
}

/// What a value is, in a [`ReplayStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SeenKind {
    /// The senderNonce of a request.
    SenderNonce,
    /// The encryptedKey of a request's envelope (see
    /// [`ServerConfig::envelope_memory`](super::ServerConfig::envelope_memory)).
    EncryptedKey,
}

/// Where a server records the senderNonces and encryptedKeys it has seen, each with the
/// SHA-256 digest of the message that carried it.
///
/// Several server instances behind a load balancer must share one store: a request
/// replayed to the second instance is then refused there too.
pub trait ReplayStore: Send + Sync {
    /// Looks up `value` (a SHA-256 digest) of `kind`: seen with the message whose digest
    /// is `message` ([`NonceCheck::Retransmission`]), with another
    /// ([`NonceCheck::Replay`]), or not at all ([`NonceCheck::Fresh`], and then it is
    /// recorded, atomically with the lookup).
    ///
    /// # Errors
    ///
    /// The store cannot answer; the request is then refused (HTTP 503).
    fn check(
        &self,
        kind: SeenKind,
        value: &[u8; 32],
        message: &[u8; 32],
    ) -> Result<NonceCheck, StoreError>;
}

/// The in-memory [`ReplayStore`]: one bounded [`ReplayCache`] for each kind, the oldest
/// forgotten first. It belongs to one process and is lost at a restart.
#[derive(Debug)]
pub struct MemoryReplayStore {
    nonces: Mutex<ReplayCache>,
    envelopes: Mutex<ReplayCache>,
}

impl MemoryReplayStore {
    /// A store remembering up to `nonces` senderNonces and `envelopes` encryptedKeys (0
    /// turns that check off).
    pub fn new(nonces: usize, envelopes: usize) -> Self {
        MemoryReplayStore {
            nonces: Mutex::new(ReplayCache::new(nonces)),
            envelopes: Mutex::new(ReplayCache::new(envelopes)),
        }
    }
}

impl ReplayStore for MemoryReplayStore {
    fn check(
        &self,
        kind: SeenKind,
        value: &[u8; 32],
        message: &[u8; 32],
    ) -> Result<NonceCheck, StoreError> {
        let cache = match kind {
            SeenKind::SenderNonce => &self.nonces,
            SeenKind::EncryptedKey => &self.envelopes,
        };
        // A panic elsewhere while the lock was held leaves the cache whole: every change
        // to it is one insertion or removal.
        let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(cache.check_value(value, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_cache_tells_retransmissions_from_replays_and_forgets_the_oldest() {
        use NonceCheck::{Fresh, Replay, Retransmission};
        let n = |b: u8| Nonce::from_bytes(&[b; 16]).unwrap();
        let mut cache = ReplayCache::new(2);
        assert_eq!(cache.check(&n(1), b"a"), Fresh);
        assert_eq!(cache.check(&n(1), b"a"), Retransmission);
        assert_eq!(cache.check(&n(1), b"b"), Replay);
        assert_eq!(cache.check(&n(2), b"a"), Fresh);
        assert_eq!(cache.check(&n(3), b"c"), Fresh); // forgets 1
        assert_eq!(cache.check(&n(3), b"d"), Replay);
        assert_eq!(cache.check(&n(2), b"a"), Retransmission);
        assert_eq!(cache.check(&n(1), b"b"), Fresh);
        let mut off = ReplayCache::new(0);
        assert_eq!(off.check(&n(1), b"a"), Fresh);
        assert_eq!(off.check(&n(1), b"b"), Fresh);
    }
}
