//! Where a server keeps what it has seen, behind traits so that several instances can share
//! one store (a database) and a restart loses nothing.
//!
//! The traits are synchronous, `Send + Sync` and take `&self`, like rustls'
//! `StoresServerSessions`: an implementation does its own locking, and an async
//! application calls the server from a blocking task. The in-memory implementations here
//! are the defaults.

use core::fmt;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use rand_core::CryptoRng;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::asn1::{CertReq, Certificate};
use crate::error::StoreError;
use crate::types::{FailInfo, MessageType, Nonce, TransactionId};

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
/// it. Values are kept as SHA-256 digests.
///
/// When it is full, the oldest value is forgotten, but values [kept](ReplayCache::keep)
/// (those of authorised requests) only after every other: a flood of requests that are
/// not authorised (anyone can sign one with a self-signed certificate) forgets only its
/// own kind.
#[derive(Debug, Clone)]
pub struct ReplayCache {
    capacity: usize,
    /// Values in the order they came, and those kept in the order they were kept; either
    /// may hold values no longer seen, or since kept, which eviction skips.
    order: VecDeque<[u8; 32]>,
    kept_order: VecDeque<[u8; 32]>,
    /// Value -> (message digest, kept).
    seen: HashMap<[u8; 32], ([u8; 32], bool)>,
}

pub(super) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for p in parts {
        hasher.update(p);
    }
    hasher.finalize().into()
}

/// The replay-store value of a senderNonce.
pub(super) fn nonce_value(nonce: &Nonce) -> [u8; 32] {
    sha256(&[b"senderNonce", nonce.as_bytes()])
}

impl ReplayCache {
    /// A cache remembering up to `capacity` nonces (0 disables replay protection).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            order: VecDeque::new(),
            kept_order: VecDeque::new(),
            seen: HashMap::new(),
        }
    }

    /// Checks `nonce`, carried by `message` (the pkiMessage as received), and records it
    /// when it is fresh.
    pub fn check(&mut self, nonce: &Nonce, message: &[u8]) -> NonceCheck {
        self.check_value(&nonce_value(nonce), &sha256(&[message]))
    }

    /// Checks the value whose digest is `value`, carried by the message whose digest is
    /// `message`, and records it when it is fresh.
    pub fn check_value(&mut self, value: &[u8; 32], message: &[u8; 32]) -> NonceCheck {
        if self.capacity == 0 {
            return NonceCheck::Fresh;
        }
        if let Some((seen, _)) = self.seen.get(value) {
            return if seen == message {
                NonceCheck::Retransmission
            } else {
                NonceCheck::Replay
            };
        }
        while self.seen.len() >= self.capacity && self.forget_one() {}
        self.order.push_back(*value);
        self.seen.insert(*value, (*message, false));
        NonceCheck::Fresh
    }

    /// Marks `value` as that of an authorised request: it is forgotten after all the
    /// others.
    pub fn keep(&mut self, value: &[u8; 32]) {
        if let Some((_, kept)) = self.seen.get_mut(value)
            && !*kept
        {
            *kept = true;
            self.kept_order.push_back(*value);
        }
    }

    /// Forgets `value` if it was recorded with `message` (see [`ReplayStore::forget`]).
    pub fn forget(&mut self, value: &[u8; 32], message: &[u8; 32]) {
        if self.seen.get(value).is_some_and(|(m, _)| m == message) {
            self.seen.remove(value);
            // Its places in the orders go too, or a stale one would evict the value
            // early when it is seen again (a scan, only after a store failed).
            self.order.retain(|v| v != value);
            self.kept_order.retain(|v| v != value);
        }
    }

    /// Forgets the oldest value not kept, or else the oldest kept; `false` when there is
    /// nothing left to forget.
    fn forget_one(&mut self) -> bool {
        while let Some(v) = self.order.pop_front() {
            if matches!(self.seen.get(&v), Some((_, false))) {
                self.seen.remove(&v);
                return true;
            }
        }
        while let Some(v) = self.kept_order.pop_front() {
            if matches!(self.seen.get(&v), Some((_, true))) {
                self.seen.remove(&v);
                return true;
            }
        }
        false
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

    /// Marks `value` of `kind` as that of an authorised request (one that became a
    /// transaction, or a renewal): a bounded store forgets it after every value of a
    /// request that was not authorised, so that anyone's flood of self-signed requests
    /// cannot push it out.
    fn keep(&self, kind: SeenKind, value: &[u8; 32]) -> Result<(), StoreError>;

    /// Forgets `value` of `kind` if it is recorded with the message whose digest is
    /// `message`: the request that recorded it could not be answered (another store or
    /// the CA was down: HTTP 503), and the same request sent again must not be refused as
    /// seen before. A value recorded by another message stays. (The server forgets only
    /// senderNonces.)
    fn forget(
        &self,
        kind: SeenKind,
        value: &[u8; 32],
        message: &[u8; 32],
    ) -> Result<(), StoreError>;
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
        Self {
            nonces: Mutex::new(ReplayCache::new(nonces)),
            envelopes: Mutex::new(ReplayCache::new(envelopes)),
        }
    }
}

impl MemoryReplayStore {
    fn cache(&self, kind: SeenKind) -> std::sync::MutexGuard<'_, ReplayCache> {
        let cache = match kind {
            SeenKind::SenderNonce => &self.nonces,
            SeenKind::EncryptedKey => &self.envelopes,
        };
        // A panic elsewhere while the lock was held leaves the cache whole: every change
        // to it is one insertion or removal.
        cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ReplayStore for MemoryReplayStore {
    fn check(
        &self,
        kind: SeenKind,
        value: &[u8; 32],
        message: &[u8; 32],
    ) -> Result<NonceCheck, StoreError> {
        Ok(self.cache(kind).check_value(value, message))
    }

    fn keep(&self, kind: SeenKind, value: &[u8; 32]) -> Result<(), StoreError> {
        self.cache(kind).keep(value);
        Ok(())
    }

    fn forget(
        &self,
        kind: SeenKind,
        value: &[u8; 32],
        message: &[u8; 32],
    ) -> Result<(), StoreError> {
        self.cache(kind).forget(value, message);
        Ok(())
    }
}

/// Where an enrolment transaction is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionState {
    /// Waiting for the CA (an operator); the client polls.
    Pending,
    /// Issued: the certificates the SUCCESS carried (the client's first). A poll, or the
    /// request sent again, gets them again (RFC 8894 section 5.2).
    Issued(Vec<Certificate>),
    /// Refused by the CA, with this failInfo.
    Rejected(FailInfo),
}

/// Which transaction of an ID this is: random, drawn when a transaction starts.
///
/// A client may start a new transaction under the ID of a finished one (micromdm's
/// scepclient derives the ID from its key), so the ID alone does not name a transaction.
/// The server finishes a transaction only if its generation is still the stored one, and
/// a CA that keeps state per transaction (poll counts, an operator's approval, the
/// certificate issued) keys it by generation: nothing of an old transaction's decision
/// then carries over to a new one under its ID, without anything to forget.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Generation([u8; 16]);

impl Generation {
    /// A fresh, random generation.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The generation of these octets (as stored).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Its octets.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Lower-case hex, 32 digits.
impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Generation({self})")
    }
}

/// An enrolment transaction as a server stores it: what it needs to answer a poll, a
/// retransmission or a resync later, possibly on another instance or after a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transaction {
    /// The transaction ID.
    pub id: TransactionId,
    /// Which transaction of this ID it is.
    pub generation: Generation,
    /// PKCSReq or RenewalReq.
    pub message_type: MessageType,
    /// The public key that signed the request: only a request signed with it is answered
    /// from this transaction.
    pub requester: SubjectPublicKeyInfoOwned,
    /// The request.
    pub csr: CertReq,
    /// For a renewal: the certificate (of this CA) that signed it, whose revocation ends
    /// the renewal while it waits; `None` for an initial enrolment.
    pub renewal: Option<Certificate>,
    /// For a requester whose key cannot decrypt (ECDSA): the password its answer is sealed
    /// with (its challenge). A secret: a persistent store should protect it.
    pub password: Option<Vec<u8>>,
    /// Where it is.
    pub state: TransactionState,
    /// When it began.
    pub created: SystemTime,
}

impl Transaction {
    /// Whether it is a renewal.
    pub fn is_renewal(&self) -> bool {
        self.renewal.is_some()
    }

    /// A transaction of the given parts.
    #[expect(clippy::too_many_arguments)]
    pub fn new(
        id: TransactionId,
        generation: Generation,
        message_type: MessageType,
        requester: SubjectPublicKeyInfoOwned,
        csr: CertReq,
        renewal: Option<Certificate>,
        password: Option<Vec<u8>>,
        state: TransactionState,
        created: SystemTime,
    ) -> Self {
        Self {
            id,
            generation,
            message_type,
            requester,
            csr,
            renewal,
            password,
            state,
            created,
        }
    }
}

/// Where a server keeps its enrolment transactions, by transaction ID.
///
/// Only authorised requests (the challenge right, or a renewal the policy allows) become
/// transactions, so a bounded store is not filled by anyone's flood.
pub trait TransactionStore: Send + Sync {
    /// The transaction `id`, if there is one.
    fn get(&self, id: &TransactionId) -> Result<Option<Transaction>, StoreError>;

    /// Records `transaction`, atomically, unless a transaction with its ID is stored: then
    /// nothing changes and the stored one is returned. Except when the stored one has the
    /// [`Generation`] of `replacing`, the finished transaction the server read before (it
    /// asks for a new request of the same requester under a finished transaction's ID):
    /// then `transaction` replaces it. `None` when it recorded `transaction`.
    ///
    /// The comparison makes the replacement safe with several instances: one that read a
    /// finished transaction does not replace one another instance recorded since.
    fn insert(
        &self,
        transaction: &Transaction,
        replacing: Option<&Transaction>,
    ) -> Result<Option<Transaction>, StoreError>;

    /// Moves the pending transaction `id` of `generation` to `state`, atomically; `false`
    /// when it is not pending any more (another instance answered it) or another
    /// generation replaced it.
    fn finish(
        &self,
        id: &TransactionId,
        generation: Generation,
        state: &TransactionState,
    ) -> Result<bool, StoreError>;
}

/// The in-memory [`TransactionStore`], of up to a number of transactions. When it is full,
/// the oldest finished (issued or rejected) transaction is forgotten; a pending one never
/// is: a new one is refused instead, until an operator decides. It belongs to one process
/// and is lost at a restart.
#[derive(Debug)]
pub struct MemoryTransactionStore {
    capacity: usize,
    transactions: Mutex<(HashMap<TransactionId, Transaction>, VecDeque<TransactionId>)>,
}

impl MemoryTransactionStore {
    /// A store of up to `capacity` transactions.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            transactions: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }
}

impl TransactionStore for MemoryTransactionStore {
    fn get(&self, id: &TransactionId) -> Result<Option<Transaction>, StoreError> {
        let guard = self
            .transactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(guard.0.get(id).cloned())
    }

    fn insert(
        &self,
        transaction: &Transaction,
        replacing: Option<&Transaction>,
    ) -> Result<Option<Transaction>, StoreError> {
        let mut guard = self
            .transactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (map, order) = &mut *guard;
        match map.get(&transaction.id) {
            Some(existing) if replacing.is_some_and(|r| r.generation == existing.generation) => {
                map.insert(transaction.id.clone(), transaction.clone());
                return Ok(None);
            }
            Some(existing) => return Ok(Some(existing.clone())),
            None => {}
        }
        if map.len() >= self.capacity {
            // Forget the oldest finished transaction; pending ones stay.
            let finished = order.iter().position(|id| {
                map.get(id)
                    .is_some_and(|t| t.state != TransactionState::Pending)
            });
            match finished.and_then(|i| order.remove(i)) {
                Some(id) => {
                    map.remove(&id);
                }
                None => {
                    return Err(StoreError::new(
                        "transaction store",
                        "full of pending transactions",
                    ));
                }
            }
        }
        order.push_back(transaction.id.clone());
        map.insert(transaction.id.clone(), transaction.clone());
        Ok(None)
    }

    fn finish(
        &self,
        id: &TransactionId,
        generation: Generation,
        state: &TransactionState,
    ) -> Result<bool, StoreError> {
        let mut guard = self
            .transactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match guard.0.get_mut(id) {
            Some(t) if t.state == TransactionState::Pending && t.generation == generation => {
                t.state = state.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
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
        // Forgotten only with the message that recorded it.
        cache.forget(
            &sha256(&[b"senderNonce", n(3).as_bytes()]),
            &sha256(&[b"d"]),
        );
        assert_eq!(cache.check(&n(3), b"d"), Replay);
        cache.forget(
            &sha256(&[b"senderNonce", n(3).as_bytes()]),
            &sha256(&[b"c"]),
        );
        assert_eq!(cache.check(&n(3), b"d"), Fresh);
        let mut off = ReplayCache::new(0);
        assert_eq!(off.check(&n(1), b"a"), Fresh);
        assert_eq!(off.check(&n(1), b"b"), Fresh);
    }
}
