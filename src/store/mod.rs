//! SQLite state store: bindings, runs and their reports, broken orders, cursors, order
//! follow-up events and the last stock sent.
//!
//! This module owns every SQL statement of the crate; the rest of the program calls the typed
//! functions of its sub-modules through [`Store`]. It knows nothing of XML-RPC, Magento or
//! OpenERP payloads (JSON snapshots are stored as opaque `serde_json::Value`s).
//!
//! # Concurrency
//!
//! One connection per [`Store`], behind a mutex, used from `tokio::task::spawn_blocking`.
//! SQLite admits one writer at a time anyway, so a single connection costs nothing in write
//! throughput, never sees `SQLITE_BUSY` from its own process, keeps the prepared-statement cache
//! warm, and works the same for `:memory:`. Every statement here is small (one row or one page),
//! so readers waiting behind a writer wait microseconds. Other processes sharing the file (the
//! CLI's `run` next to a running server) are handled by WAL mode and the busy timeout.
//!
//! # Timestamps
//!
//! Stored as UTC text `YYYY-MM-DD HH:MM:SS.mmm` (sorts in time order, readable in `sqlite3`) and
//! handed out as `chrono::DateTime<Utc>`.

pub mod bindings;
pub mod broken;
pub mod cursors;
pub mod events;
mod migrations;
pub mod runs;
pub mod stock;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::Connection;

pub use bindings::{Binding, BindingKind, BindingPut, Bindings};
pub use broken::{BrokenCode, BrokenOrder, BrokenOrders, BrokenUpsert};
pub use cursors::Cursors;
pub use events::{EventKey, EventKind, EventState, SentEvent, SentEvents};
pub use migrations::SCHEMA_VERSION;
pub use runs::{Created, NewRecord, Outcome, RunEvent, RunFilter, RunRecord, RunRow, RunState, Runs};
pub use stock::{StockSent, StockSentLog, StockSentPut};

/// How long a statement waits for another process's write lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A state-store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or configured.
    #[error("cannot open state file {path}: {source}")]
    Open {
        /// File path.
        path: PathBuf,
        /// SQLite error.
        source: rusqlite::Error,
    },
    /// The directory of the state file could not be created.
    #[error("cannot create directory {path} for the state file: {source}")]
    CreateDir {
        /// Directory path.
        path: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
    /// The file was written by a newer program.
    #[error(
        "state file {path} has schema version {found}, newer than the {known} this program knows; \
         use a newer magento-connector"
    )]
    TooNew {
        /// File path.
        path: PathBuf,
        /// Version found in the file.
        found: i64,
        /// Latest version this program knows.
        known: i64,
    },
    /// A migration failed (the file is left at the previous version).
    #[error("migration to schema version {version} failed: {source}")]
    Migration {
        /// Version being applied.
        version: i64,
        /// SQLite error.
        source: rusqlite::Error,
    },
    /// Two bindings would share the same Magento id.
    #[error(
        "{kind} binding conflict on backend {backend:?}: Magento id {magento_id:?} (store {store_id}) \
         is already bound to OpenERP id {bound_to}"
    )]
    Conflict {
        /// Backend name.
        backend: String,
        /// Binding kind.
        kind: BindingKind,
        /// Magento id in dispute.
        magento_id: String,
        /// Store scope.
        store_id: i64,
        /// OpenERP id it is bound to already.
        bound_to: i64,
    },
    /// A stored value cannot be read back (edited by hand, or a bug).
    #[error("state store: unreadable {column}: {message}")]
    Corrupt {
        /// `table.column`.
        column: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Any other SQLite error.
    #[error("state store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The blocking task running the statement panicked or was cancelled.
    #[error("state store task failed: {0}")]
    Task(String),
}

struct Inner {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
}

/// Handle on the state store; cheap to clone and safe to share between tasks.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.inner.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the state file at `path` and brings its schema up to date.
    ///
    /// Blocking: call it at start-up, before serving.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_reporting(path).map(|(store, _)| store)
    }

    /// Like [`Store::open`], also returning the schema version found before migrating (0 for a
    /// new file).
    pub fn open_reporting(path: &Path) -> Result<(Store, i64), StoreError> {
        let open_err = |source| StoreError::Open { path: path.to_owned(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: dir.to_owned(), source })?;
        }
        let mut conn = Connection::open(path).map_err(open_err)?;
        configure(&conn, true).map_err(open_err)?;
        let before = migrations::migrate(&mut conn, migrations::MIGRATIONS, path)?;
        Ok((Store { inner: Arc::new(Inner { conn: Mutex::new(conn), path: Some(path.to_owned()) }) }, before))
    }

    /// Opens a private in-memory store (tests, `demo`).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let mut conn =
            Connection::open_in_memory().map_err(|source| StoreError::Open { path: path.clone(), source })?;
        configure(&conn, false).map_err(|source| StoreError::Open { path: path.clone(), source })?;
        migrations::migrate(&mut conn, migrations::MIGRATIONS, &path)?;
        Ok(Store { inner: Arc::new(Inner { conn: Mutex::new(conn), path: None }) })
    }

    /// The file behind this store (`None` for in-memory).
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Schema version recorded in the file (`PRAGMA user_version`).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        self.call(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)).await
    }

    /// Bindings between OpenERP and Magento records.
    pub fn bindings(&self) -> Bindings<'_> {
        Bindings(self)
    }

    /// Runs, their messages and per-record reports.
    pub fn runs(&self) -> Runs<'_> {
        Runs(self)
    }

    /// Orders that could not be imported.
    pub fn broken(&self) -> BrokenOrders<'_> {
        BrokenOrders(self)
    }

    /// Incremental-sync cursors.
    pub fn cursors(&self) -> Cursors<'_> {
        Cursors(self)
    }

    /// Order follow-up events sent to Magento (status, invoice, shipment, ...).
    pub fn events(&self) -> SentEvents<'_> {
        SentEvents(self)
    }

    /// The last stock quantity sent per product and scope.
    pub fn stock(&self) -> StockSentLog<'_> {
        StockSentLog(self)
    }

    /// Runs `f` on the connection in a blocking task.
    pub(crate) async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            // A panic inside `f` rolls its transaction back on unwind; the connection stays usable.
            let mut conn = inner.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

fn configure(conn: &Connection, file: bool) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if file {
        // Returns the mode actually set; `wal` on any local file system.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

const TS_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";

/// Current time as stored.
pub(crate) fn now_text() -> String {
    ts_text(&Utc::now())
}

/// A time as stored.
pub(crate) fn ts_text(t: &DateTime<Utc>) -> String {
    t.format(TS_FORMAT).to_string()
}

/// Reads a stored time back.
pub(crate) fn parse_ts(column: &'static str, s: &str) -> Result<DateTime<Utc>, StoreError> {
    NaiveDateTime::parse_from_str(s, TS_FORMAT)
        .map(|n| n.and_utc())
        .map_err(|e| StoreError::Corrupt { column, message: format!("{s:?}: {e}") })
}

/// Reads an optional stored time back.
pub(crate) fn parse_opt_ts(column: &'static str, s: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.map(|s| parse_ts(column, &s)).transpose()
}

/// Reads stored JSON back.
pub(crate) fn parse_json(column: &'static str, s: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt { column, message: e.to_string() })
}
