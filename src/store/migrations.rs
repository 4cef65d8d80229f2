//! Versioned, forward-only schema migrations.
//!
//! `PRAGMA user_version` holds the number of migrations applied. At open, every missing
//! migration is applied in order, each in its own transaction together with the version bump, so
//! a failure leaves the file at the last good version. A file with a higher version than this
//! program knows is refused rather than guessed at. Never edit a published migration: append a
//! new one.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// One schema step: SQL run as a batch inside a transaction.
pub(crate) struct Migration {
    /// What the step does (for the log).
    pub what: &'static str,
    /// SQL statements.
    pub sql: &'static str,
}

/// Every migration, oldest first; version N is `MIGRATIONS[N - 1]`.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        what: "initial schema: bindings, runs, run_events, run_records, broken_orders, cursors, sent_events, stock_sent",
        sql: r#"
CREATE TABLE bindings (
    id           INTEGER PRIMARY KEY,
    backend      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    openerp_id   INTEGER NOT NULL,
    magento_id   TEXT    NOT NULL,
    store_id     INTEGER NOT NULL DEFAULT 0,
    payload_hash TEXT,
    extra        TEXT    NOT NULL DEFAULT '{}',
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    UNIQUE (backend, kind, openerp_id, store_id),
    UNIQUE (backend, kind, magento_id, store_id)
);

CREATE TABLE runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    backend          TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    dry_run          INTEGER NOT NULL DEFAULT 0,
    options          TEXT    NOT NULL DEFAULT '{}',
    created_at       TEXT    NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    total            INTEGER NOT NULL DEFAULT 0,
    done             INTEGER NOT NULL DEFAULT 0,
    created          INTEGER NOT NULL DEFAULT 0,
    updated          INTEGER NOT NULL DEFAULT 0,
    skipped          INTEGER NOT NULL DEFAULT 0,
    failed           INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    owner_pid        INTEGER,
    heartbeat_at     TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
-- At most one queued or running run per backend and kind, whichever process asks.
CREATE UNIQUE INDEX runs_one_active ON runs (backend, kind) WHERE state IN ('queued', 'running');
CREATE INDEX runs_by_backend_kind ON runs (backend, kind, id);

CREATE TABLE run_events (
    id     INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    at     TEXT    NOT NULL,
    level  TEXT    NOT NULL,
    text   TEXT    NOT NULL
);
CREATE INDEX run_events_by_run ON run_events (run_id, id);

CREATE TABLE run_records (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    ref        TEXT    NOT NULL,
    outcome    TEXT    NOT NULL CHECK (outcome IN ('created', 'updated', 'skipped', 'failed', 'planned')),
    message    TEXT    NOT NULL DEFAULT '',
    magento_id TEXT,
    openerp_id INTEGER,
    at         TEXT    NOT NULL
);
CREATE INDEX run_records_by_run ON run_records (run_id, outcome, id);

CREATE TABLE broken_orders (
    id           INTEGER PRIMARY KEY,
    backend      TEXT    NOT NULL,
    store_id     INTEGER NOT NULL,
    increment_id TEXT    NOT NULL,
    code         TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    hint         TEXT    NOT NULL,
    payload      TEXT,
    attempts     INTEGER NOT NULL DEFAULT 1,
    first_seen   TEXT    NOT NULL,
    last_attempt TEXT    NOT NULL,
    resolved_at  TEXT,
    UNIQUE (backend, increment_id)
);

CREATE TABLE cursors (
    backend    TEXT    NOT NULL,
    store_id   INTEGER NOT NULL,
    stream     TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (backend, store_id, stream)
) WITHOUT ROWID;

CREATE TABLE sent_events (
    id           INTEGER PRIMARY KEY,
    backend      TEXT NOT NULL,
    increment_id TEXT NOT NULL,
    event_kind   TEXT NOT NULL,
    event_key    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'done')),
    magento_ref  TEXT,
    message      TEXT NOT NULL DEFAULT '',
    at           TEXT NOT NULL,
    UNIQUE (backend, increment_id, event_kind, event_key)
);

CREATE TABLE stock_sent (
    backend     TEXT    NOT NULL,
    product_id  INTEGER NOT NULL,
    scope       INTEGER NOT NULL DEFAULT 0,
    sku         TEXT    NOT NULL,
    qty         TEXT    NOT NULL,
    is_in_stock INTEGER NOT NULL,
    at          TEXT    NOT NULL,
    PRIMARY KEY (backend, product_id, scope)
) WITHOUT ROWID;
"#,
    },
    Migration {
        what: "stock_sent.backorders: the Magento backorders code last sent (NULL: left to the shop's config)",
        sql: "ALTER TABLE stock_sent ADD COLUMN backorders INTEGER;",
    },
];

/// Latest schema version this program knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the missing steps of `migrations` to `conn`; returns the version before.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[Migration], path: &Path) -> Result<i64, StoreError> {
    let known = migrations.len() as i64;
    let before: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if before > known {
        return Err(StoreError::TooNew { path: path.to_owned(), found: before, known });
    }
    for (i, m) in migrations.iter().enumerate().skip(usize::try_from(before).unwrap_or(0)) {
        let version = i as i64 + 1;
        let fail = |source| StoreError::Migration { version, source };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(fail)?;
        // Another process may have migrated while we waited for the write lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(fail)?;
        if now >= version {
            continue;
        }
        tx.execute_batch(m.sql).map_err(fail)?;
        tx.pragma_update(None, "user_version", version).map_err(fail)?;
        tx.commit().map_err(fail)?;
        tracing::info!(version, "state store migrated: {}", m.what);
    }
    Ok(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: &[Migration] = &[
        Migration { what: "a", sql: "CREATE TABLE a (x INTEGER);" },
        Migration { what: "b", sql: "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1);" },
        Migration { what: "broken", sql: "CREATE TABLE c (z INTEGER); INSERT INTO nope VALUES (1);" },
    ];

    fn version(c: &Connection) -> i64 {
        c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn steps_apply_in_order_and_only_once() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut c, &STEPS[..1], Path::new("m")).unwrap(), 0);
        assert_eq!(version(&c), 1);
        assert_eq!(migrate(&mut c, &STEPS[..2], Path::new("m")).unwrap(), 1);
        assert_eq!(migrate(&mut c, &STEPS[..2], Path::new("m")).unwrap(), 2);
        let rows: i64 = c.query_row("SELECT count(*) FROM a", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 1, "step b ran exactly once");
    }

    #[test]
    fn a_failing_step_rolls_back_and_keeps_the_previous_version() {
        let mut c = Connection::open_in_memory().unwrap();
        let e = migrate(&mut c, STEPS, Path::new("m")).unwrap_err();
        assert!(matches!(e, StoreError::Migration { version: 3, .. }), "{e}");
        assert_eq!(version(&c), 2);
        let c_exists: i64 =
            c.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'c'", [], |r| r.get(0)).unwrap();
        assert_eq!(c_exists, 0, "the failed step left nothing behind");
    }

    #[test]
    fn a_newer_file_is_refused() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "user_version", 9).unwrap();
        let e = migrate(&mut c, STEPS, Path::new("state.sqlite3")).unwrap_err().to_string();
        assert!(e.contains("schema version 9") && e.contains("state.sqlite3"), "{e}");
    }
}
