//! The example server's database: SQLite (a file, the default) or PostgreSQL (for several
//! instances behind a load balancer). It holds everything the CA must not lose: its keys,
//! the replay store, the transactions, the certificates it issued (and their
//! revocations), the operator's decisions on pending requests, and poll counts.
//!
//! Both backends run the same SQL (`$1`-style parameters, `ON CONFLICT`, `RETURNING`);
//! only the table definitions differ. Every operation that must be atomic is one
//! statement, or a transaction.

#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use scep::error::{Cause, StoreError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A value in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(v.to_vec())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A row of a result.
pub type Row = Vec<Value>;

enum Backend {
    Sqlite(rusqlite::Connection),
    /// The connection, made again when it closed (the database restarted). The
    /// synchronous client notices that only when a statement fails on it: that statement
    /// (or transaction) runs once more on a new connection. Every statement here is safe
    /// to run twice, should the first have run before the connection died: at worst a
    /// request is refused as seen before, or a poll is counted twice.
    Postgres {
        client: Box<postgres::Client>,
        url: String,
    },
}

/// The database, behind one lock per process (SQLite has one writer at a time anyway;
/// PostgreSQL instances each have their own connection and the database orders them).
pub struct Db {
    backend: Mutex<Backend>,
    what: String,
}

/// The tables, in SQLite's types (`INT`, `BLOB`, `SERIAL`: see [`POSTGRES_SCHEMA`]).
/// Each kind of replay value has its own table and window, so that a flood of one kind
/// (fresh nonces cost nothing to make) does not push out the other. What the CA keeps
/// per transaction is keyed by its generation, never by its ID: a new transaction under
/// an old one's ID inherits none of it.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ca (name TEXT PRIMARY KEY, key BLOB NOT NULL, cert BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS seen_nonces (
    n SERIAL PRIMARY KEY, value BLOB NOT NULL UNIQUE, message BLOB NOT NULL,
    kept INT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS seen_envelopes (
    n SERIAL PRIMARY KEY, value BLOB NOT NULL UNIQUE, message BLOB NOT NULL,
    kept INT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS transactions (
    id TEXT PRIMARY KEY, generation BLOB NOT NULL, message_type INT NOT NULL,
    requester BLOB NOT NULL, csr BLOB NOT NULL, renewal_signer BLOB, password BLOB,
    state TEXT NOT NULL, chain BLOB, fail_info INT, created INT NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (
    serial TEXT PRIMARY KEY, generation BLOB UNIQUE, transaction_id TEXT NOT NULL,
    der BLOB NOT NULL, subject TEXT NOT NULL, issued INT NOT NULL, revoked INT);
CREATE TABLE IF NOT EXISTS decisions (generation BLOB PRIMARY KEY, verdict TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS polls (generation BLOB PRIMARY KEY, count INT NOT NULL);
";

/// [`SCHEMA`] in SQLite.
fn sqlite_schema() -> String {
    SCHEMA
        .replace("SERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT")
        .replace(" INT ", " INTEGER ")
        .replace(" INT,", " INTEGER,")
        .replace(" INT)", " INTEGER)")
}

/// [`SCHEMA`] in PostgreSQL.
fn postgres_schema() -> String {
    SCHEMA
        .replace("SERIAL PRIMARY KEY", "BIGSERIAL PRIMARY KEY")
        .replace("BLOB", "BYTEA")
        .replace(" INT ", " BIGINT ")
        .replace(" INT,", " BIGINT,")
        .replace(" INT)", " BIGINT)")
}

fn sqlite_value(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Null => rusqlite::types::Value::Null,
        Value::Int(i) => rusqlite::types::Value::Integer(*i),
        Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
        Value::Bytes(b) => rusqlite::types::Value::Blob(b.clone()),
    }
}

fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(r) => Value::Text(r.to_string()),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

/// SQL NULL for a parameter of any type (`Option::<T>::None` is typed: PostgreSQL would
/// refuse a NULL of BYTEA for a BIGINT column).
#[derive(Debug)]
struct Null;

impl postgres::types::ToSql for Null {
    fn to_sql(
        &self,
        _: &postgres::types::Type,
        _: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, BoxError> {
        Ok(postgres::types::IsNull::Yes)
    }
    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

fn pg_params(params: &[Value]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|v| -> Box<dyn postgres::types::ToSql + Sync> {
            match v {
                Value::Null => Box::new(Null),
                Value::Int(i) => Box::new(*i),
                Value::Text(t) => Box::new(t.clone()),
                Value::Bytes(b) => Box::new(b.clone()),
            }
        })
        .collect()
}

fn from_pg(row: &postgres::Row) -> Result<Row, BoxError> {
    use postgres::types::Type;
    let mut out = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let value = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?
                .map_or(Value::Null, Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map_or(Value::Null, |v| Value::Int(v.into()))
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?
                .map_or(Value::Null, Value::Bytes)
        } else {
            row.try_get::<_, Option<String>>(i)?
                .map_or(Value::Null, Value::Text)
        };
        out.push(value);
    }
    Ok(out)
}

/// `sql` with its `$N` parameters as `?N`: SQLite numbers `$N` parameters in the order
/// they first appear, `?N` by N (PostgreSQL's meaning of `$N`).
fn sqlite_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Work inside one database transaction.
pub struct Tx<'a> {
    backend: &'a mut Backend,
}

impl Tx<'_> {
    /// Runs `sql` with `params`; the rows it returns.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, BoxError> {
        run(self.backend, sql, params)
    }
}

/// Whether the connection closed (it is made again before the next statement).
fn closed(backend: &Backend) -> bool {
    matches!(backend, Backend::Postgres { client, .. } if client.is_closed())
}

/// Connects again if the connection closed; only between units of work (a statement, a
/// transaction), never inside a transaction, which must fail whole.
fn reconnect_if_closed(backend: &mut Backend) -> Result<(), BoxError> {
    if let Backend::Postgres { client, url } = backend
        && client.is_closed()
    {
        **client = postgres::Client::connect(url, postgres::NoTls)?;
    }
    Ok(())
}

fn run(backend: &mut Backend, sql: &str, params: &[Value]) -> Result<Vec<Row>, BoxError> {
    match backend {
        Backend::Sqlite(c) => {
            let mut stmt = c.prepare_cached(&sqlite_sql(sql))?;
            let values: Vec<rusqlite::types::Value> = params.iter().map(sqlite_value).collect();
            let columns = stmt.column_count();
            let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let mut r = Vec::with_capacity(columns);
                for i in 0..columns {
                    r.push(from_sqlite(row.get_ref(i)?));
                }
                out.push(r);
            }
            Ok(out)
        }
        Backend::Postgres { client: c, .. } => {
            let boxed = pg_params(params);
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                boxed.iter().map(|b| b.as_ref()).collect();
            c.query(sql, &refs)?.iter().map(from_pg).collect()
        }
    }
}

impl Db {
    /// Opens `spec`: `sqlite:FILE` or `postgres://...` (also `postgresql://`), creating the
    /// tables it lacks.
    pub fn open(spec: &str) -> Result<Self, BoxError> {
        let backend = if let Some(path) = spec.strip_prefix("sqlite:") {
            let c = rusqlite::Connection::open(path)?;
            // Another process (an operator command) may hold the lock for a moment.
            c.busy_timeout(Duration::from_secs(10))?;
            c.execute_batch("PRAGMA journal_mode = WAL;")?;
            c.execute_batch(&sqlite_schema())?;
            Backend::Sqlite(c)
        } else if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            let mut c = postgres::Client::connect(spec, postgres::NoTls)?;
            // Instances started together create the tables at once: one at a time.
            c.batch_execute("SELECT pg_advisory_lock(4151)")?;
            let created = c.batch_execute(&postgres_schema());
            c.batch_execute("SELECT pg_advisory_unlock(4151)")?;
            created?;
            Backend::Postgres {
                client: Box::new(c),
                url: spec.to_owned(),
            }
        } else {
            return Err(format!("--store {spec:?}: expected sqlite:FILE or postgres://...").into());
        };
        let db = Db {
            backend: Mutex::new(backend),
            what: spec.split(':').next().unwrap_or("db").to_owned(),
        };
        db.check_schema()?;
        Ok(db)
    }

    /// Refuses, at once and by name, tables an earlier version of this example made
    /// (`CREATE TABLE IF NOT EXISTS` leaves them as they were): otherwise every request
    /// would fail on them, HTTP 503 for ever. There are no migrations.
    fn check_schema(&self) -> Result<(), BoxError> {
        const EXPECTED: [(&str, &str); 6] = [
            ("transactions", "generation, renewal_signer"),
            ("certificates", "generation, transaction_id"),
            ("decisions", "generation, verdict"),
            ("polls", "generation, count"),
            ("seen_nonces", "value, kept"),
            ("seen_envelopes", "value, kept"),
        ];
        for (table, columns) in EXPECTED {
            self.query(&format!("SELECT {columns} FROM {table} WHERE 1 = 0"), &[])
                .map_err(|e| {
                    format!(
                        "the {} database: the table {table} is not what this version \
                         expects (made by an earlier one?): {e}; move the database aside and \
                         start afresh",
                        self.what
                    )
                })?;
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Backend> {
        self.backend.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one statement.
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, BoxError> {
        let mut backend = self.lock();
        reconnect_if_closed(&mut backend)?;
        match run(&mut backend, sql, params) {
            Err(_) if closed(&backend) => {
                reconnect_if_closed(&mut backend)?;
                run(&mut backend, sql, params)
            }
            result => result,
        }
    }

    /// Runs `work` in one database transaction (serialisable in PostgreSQL, immediate in
    /// SQLite): committed when it returns `Ok`, rolled back otherwise.
    pub fn transaction<T>(
        &self,
        work: impl Fn(&mut Tx<'_>) -> Result<T, BoxError>,
    ) -> Result<T, BoxError> {
        let mut backend = self.lock();
        let (begin, commit, rollback) = match &*backend {
            Backend::Sqlite(_) => ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"),
            Backend::Postgres { .. } => {
                ("BEGIN ISOLATION LEVEL SERIALIZABLE", "COMMIT", "ROLLBACK")
            }
        };
        // PostgreSQL may refuse a serialisable transaction that raced another, or the
        // connection may have closed: try again.
        for attempt in 0..5 {
            reconnect_if_closed(&mut backend)?;
            let again = |e: &BoxError, backend: &Backend| {
                attempt < 4 && (serialization_failure(e) || closed(backend))
            };
            if let Err(e) = run(&mut backend, begin, &[]) {
                if again(&e, &backend) {
                    continue;
                }
                return Err(e);
            }
            let mut tx = Tx {
                backend: &mut backend,
            };
            match work(&mut tx) {
                Ok(value) => match run(&mut backend, commit, &[]) {
                    Ok(_) => return Ok(value),
                    Err(e) if again(&e, &backend) => continue,
                    Err(e) => return Err(e),
                },
                Err(e) => {
                    let _ = run(&mut backend, rollback, &[]);
                    if again(&e, &backend) {
                        continue;
                    }
                    return Err(e);
                }
            }
        }
        Err("the transaction kept conflicting with others".into())
    }

    /// A store error naming this database.
    /// The database's own error is kept as the error's source.
    pub fn error(&self, store: &'static str, e: impl Into<BoxError>) -> StoreError {
        let e: BoxError = e.into();
        let text = format!("{} database: {e}", self.what);
        StoreError::from_cause(store, Cause::new(text, e))
    }
}

fn serialization_failure(e: &BoxError) -> bool {
    e.downcast_ref::<postgres::Error>()
        .and_then(postgres::Error::code)
        .is_some_and(|c| {
            *c == postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
                || *c == postgres::error::SqlState::T_R_DEADLOCK_DETECTED
        })
}

/// Seconds since 1970.
pub fn unix(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The time `secs` seconds after 1970.
pub fn from_unix(secs: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

// ---------------------------------------------------------------------------------------
// The server's stores.
// ---------------------------------------------------------------------------------------

use scep::asn1::CertReq;
use scep::server::{
    Generation, NonceCheck, ReplayStore, SeenKind, Transaction, TransactionState, TransactionStore,
};
use scep::{FailInfo, MessageType, TransactionId};

/// How many values of each kind the replay store keeps at least (the newest), before
/// values of requests that were not authorised are forgotten; values of authorised ones
/// are kept ten times as long. Each kind has its own table and window.
pub const REPLAY_WINDOW: i64 = 100_000;

/// The table of values of `kind`.
fn seen_table(kind: SeenKind) -> Result<&'static str, BoxError> {
    match kind {
        SeenKind::SenderNonce => Ok("seen_nonces"),
        SeenKind::EncryptedKey => Ok("seen_envelopes"),
        _ => Err(format!("no table for {kind:?}").into()),
    }
}

impl Db {
    fn check_seen(
        &self,
        kind: SeenKind,
        value: &[u8; 32],
        message: &[u8; 32],
    ) -> Result<NonceCheck, BoxError> {
        let table = seen_table(kind)?;
        // Twice at most: a value forgotten between the insert and the select (it fell out
        // of the window just then) is inserted again.
        for _ in 0..2 {
            let inserted = self.query(
                &format!(
                    "INSERT INTO {table} (value, message) VALUES ($1, $2) \
                     ON CONFLICT (value) DO NOTHING RETURNING n"
                ),
                &[value.as_slice().into(), message.as_slice().into()],
            )?;
            if let Some(n) = inserted
                .first()
                .and_then(|r| r.first())
                .and_then(Value::int)
            {
                // Forget what fell out of the window (not kept, then kept, ten times later).
                self.query(
                    &format!(
                        "DELETE FROM {table} WHERE (kept = 0 AND n <= $1) OR (kept = 1 AND n <= $2)"
                    ),
                    &[(n - REPLAY_WINDOW).into(), (n - 10 * REPLAY_WINDOW).into()],
                )?;
                return Ok(NonceCheck::Fresh);
            }
            let rows = self.query(
                &format!("SELECT message FROM {table} WHERE value = $1"),
                &[value.as_slice().into()],
            )?;
            match rows.first().and_then(|r| r.first()).and_then(Value::bytes) {
                Some(m) if m == message.as_slice() => return Ok(NonceCheck::Retransmission),
                Some(_) => return Ok(NonceCheck::Replay),
                None => {}
            }
        }
        Err(format!("{table}: a value came and went twice").into())
    }
}

impl ReplayStore for Db {
    fn check(
        &self,
        kind: SeenKind,
        value: &[u8; 32],
        message: &[u8; 32],
    ) -> Result<NonceCheck, StoreError> {
        self.check_seen(kind, value, message)
            .map_err(|e| self.error("replay store", e))
    }

    fn keep(&self, kind: SeenKind, value: &[u8; 32]) -> Result<(), StoreError> {
        seen_table(kind)
            .and_then(|table| {
                self.query(
                    &format!("UPDATE {table} SET kept = 1 WHERE value = $1"),
                    &[value.as_slice().into()],
                )
            })
            .map(drop)
            .map_err(|e| self.error("replay store", e))
    }

    fn forget(
        &self,
        kind: SeenKind,
        value: &[u8; 32],
        message: &[u8; 32],
    ) -> Result<(), StoreError> {
        seen_table(kind)
            .and_then(|table| {
                self.query(
                    &format!("DELETE FROM {table} WHERE value = $1 AND message = $2"),
                    &[value.as_slice().into(), message.as_slice().into()],
                )
            })
            .map(drop)
            .map_err(|e| self.error("replay store", e))
    }
}

const TRANSACTION_COLUMNS: &str = "id, generation, message_type, requester, csr, renewal_signer, \
    password, state, chain, fail_info, created";

fn state_columns(state: &TransactionState) -> Result<(Value, Value, Value), BoxError> {
    Ok(match state {
        TransactionState::Pending => ("pending".into(), Value::Null, Value::Null),
        TransactionState::Issued(chain) => (
            "issued".into(),
            scep::pipeline::certs_only(chain, &[])?.into(),
            Value::Null,
        ),
        TransactionState::Rejected(fail_info) => (
            "rejected".into(),
            Value::Null,
            i64::from(fail_info.value()).into(),
        ),
        _ => return Err("a transaction state this example does not store".into()),
    })
}

fn transaction_row(t: &Transaction) -> Result<Vec<Value>, BoxError> {
    use der::Encode;
    let (state, chain, fail_info) = state_columns(&t.state)?;
    Ok(vec![
        t.id.as_str().into(),
        t.generation.as_bytes().as_slice().into(),
        i64::from(t.message_type.value()).into(),
        t.requester.to_der()?.into(),
        t.csr.to_der()?.into(),
        t.renewal.as_ref().map(Encode::to_der).transpose()?.into(),
        t.password.clone().into(),
        state,
        chain,
        fail_info,
        unix(t.created).into(),
    ])
}

/// A transaction from its row; a row that does not decode is an error naming it.
fn transaction_of(row: &Row) -> Result<Transaction, BoxError> {
    use der::Decode;
    let id = row.first().and_then(Value::text).unwrap_or("?").to_owned();
    let bad = |what: &str| -> BoxError { format!("transaction {id:?}: {what}").into() };
    let col = |i: usize| row.get(i).ok_or_else(|| bad("a column is missing"));
    let generation = col(1)?
        .bytes()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(Generation::from_bytes)
        .ok_or_else(|| bad("generation"))?;
    let message_type = MessageType::from_value(
        u32::try_from(col(2)?.int().ok_or_else(|| bad("message_type"))?)
            .map_err(|_| bad("message_type"))?,
    );
    let requester = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(
        col(3)?.bytes().ok_or_else(|| bad("requester"))?,
    )
    .map_err(|e| bad(&format!("requester: {e}")))?;
    let csr = CertReq::from_der(col(4)?.bytes().ok_or_else(|| bad("csr"))?)
        .map_err(|e| bad(&format!("csr: {e}")))?;
    let renewal = match col(5)? {
        Value::Null => None,
        Value::Bytes(der) => Some(
            scep::Certificate::from_der(der).map_err(|e| bad(&format!("renewal_signer: {e}")))?,
        ),
        _ => return Err(bad("renewal_signer")),
    };
    let password = col(6)?.bytes().map(<[u8]>::to_vec);
    let state = match col(7)?.text().ok_or_else(|| bad("state"))? {
        "pending" => TransactionState::Pending,
        "issued" => {
            let chain = col(8)?.bytes().ok_or_else(|| bad("chain"))?;
            let (certs, _) = scep::pipeline::parse_certs_only(chain, &Default::default())
                .map_err(|e| bad(&format!("chain: {e}")))?;
            TransactionState::Issued(certs)
        }
        "rejected" => {
            let code = col(9)?.int().ok_or_else(|| bad("fail_info"))?;
            TransactionState::Rejected(FailInfo::from_value(
                u32::try_from(code).map_err(|_| bad("fail_info"))?,
            ))
        }
        other => return Err(bad(&format!("state {other:?}"))),
    };
    let created = from_unix(col(10)?.int().ok_or_else(|| bad("created"))?);
    Ok(Transaction::new(
        TransactionId::new(id.clone()).map_err(|e| bad(&format!("id: {e}")))?,
        generation,
        message_type,
        requester,
        csr,
        renewal,
        password,
        state,
        created,
    ))
}

impl Db {
    fn get_transaction(&self, tx: &mut Tx<'_>, id: &str) -> Result<Option<Transaction>, BoxError> {
        let rows = tx.query(
            &format!("SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE id = $1"),
            &[id.into()],
        )?;
        rows.first().map(transaction_of).transpose()
    }

    /// The pending transactions, oldest first.
    pub fn pending(&self) -> Result<Vec<Transaction>, BoxError> {
        let rows = self.query(
            &format!(
                "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE state = 'pending' \
                 ORDER BY created, id"
            ),
            &[],
        )?;
        rows.iter().map(transaction_of).collect()
    }
}

impl TransactionStore for Db {
    fn get(&self, id: &TransactionId) -> Result<Option<Transaction>, StoreError> {
        let rows = self
            .query(
                &format!("SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE id = $1"),
                &[id.as_str().into()],
            )
            .map_err(|e| self.error("transaction store", e))?;
        rows.first()
            .map(transaction_of)
            .transpose()
            .map_err(|e| self.error("transaction store", e))
    }

    fn insert(
        &self,
        transaction: &Transaction,
        replacing: Option<&Transaction>,
    ) -> Result<Option<Transaction>, StoreError> {
        let row = transaction_row(transaction).map_err(|e| self.error("transaction store", e))?;
        // Serialisable: two instances inserting the same ID at once cannot both succeed.
        self.transaction(|tx| {
            match self.get_transaction(tx, transaction.id.as_str())? {
                Some(existing) if replacing.is_none_or(|r| r.generation != existing.generation) => {
                    return Ok(Some(existing));
                }
                Some(_) => {
                    // A new transaction under a finished one's ID. What the CA kept for
                    // the old one is keyed by its generation: none of it carries over.
                    let id = transaction.id.as_str();
                    tx.query("DELETE FROM transactions WHERE id = $1", &[id.into()])?;
                }
                None => {}
            }
            tx.query(
                &format!(
                    "INSERT INTO transactions ({TRANSACTION_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ),
                &row,
            )?;
            Ok(None)
        })
        .map_err(|e| self.error("transaction store", e))
    }

    fn finish(
        &self,
        id: &TransactionId,
        generation: Generation,
        state: &TransactionState,
    ) -> Result<bool, StoreError> {
        let (state, chain, fail_info) =
            state_columns(state).map_err(|e| self.error("transaction store", e))?;
        let rows = self
            .query(
                "UPDATE transactions SET state = $3, chain = $4, fail_info = $5 \
                 WHERE id = $1 AND generation = $2 AND state = 'pending' RETURNING id",
                &[
                    id.as_str().into(),
                    generation.as_bytes().as_slice().into(),
                    state,
                    chain,
                    fail_info,
                ],
            )
            .map_err(|e| self.error("transaction store", e))?;
        Ok(!rows.is_empty())
    }
}
