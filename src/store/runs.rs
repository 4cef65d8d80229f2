//! Runs (jobs with progress), their messages and per-record reports.
//!
//! The partial unique index `runs_one_active` makes "one queued or running run per backend and
//! kind" hold across every process sharing the file; [`Runs::create`] returns the existing run
//! instead of a second one. Counts are updated in the same transaction as the record they
//! count, so a report and its counts always agree.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::{Store, StoreError, now_text, parse_json, parse_opt_ts, parse_ts, ts_text};

/// Life-cycle state of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunState {
    /// Waiting for a worker.
    Queued,
    /// Executing.
    Running,
    /// Finished (possibly with failed records).
    Done,
    /// Stopped by an error.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl RunState {
    /// Every state.
    pub const ALL: [RunState; 5] =
        [RunState::Queued, RunState::Running, RunState::Done, RunState::Failed, RunState::Cancelled];

    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Done => "done",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(s: &str) -> Option<RunState> {
        RunState::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// True for queued and running.
    pub fn is_active(self) -> bool {
        matches!(self, RunState::Queued | RunState::Running)
    }
}

impl std::fmt::Display for RunState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to one record of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Created on the target side.
    Created,
    /// Updated on the target side.
    Updated,
    /// Nothing to do (unchanged, out of scope).
    Skipped,
    /// Could not be synced; the message says why.
    Failed,
    /// Dry run: what would have been done.
    Planned,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 5] =
        [Outcome::Created, Outcome::Updated, Outcome::Skipped, Outcome::Failed, Outcome::Planned];

    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::Planned => "planned",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The count column this outcome adds to (planned records are counted by the report only).
    fn count_column(self) -> Option<&'static str> {
        match self {
            Outcome::Created => Some("created"),
            Outcome::Updated => Some("updated"),
            Outcome::Skipped => Some("skipped"),
            Outcome::Failed => Some("failed"),
            Outcome::Planned => None,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// Run id.
    pub id: i64,
    /// Backend name.
    pub backend: String,
    /// Job kind name (`categories`, `orders_import`, ...).
    pub kind: String,
    /// State.
    pub state: RunState,
    /// Dry run.
    pub dry_run: bool,
    /// Options as given (JSON object).
    pub options: serde_json::Value,
    /// Created (queued).
    pub created_at: DateTime<Utc>,
    /// Started running.
    pub started_at: Option<DateTime<Utc>>,
    /// Reached a final state.
    pub finished_at: Option<DateTime<Utc>>,
    /// Records to process (0 until known).
    pub total: u64,
    /// Records processed.
    pub done: u64,
    /// Records created.
    pub created: u64,
    /// Records updated.
    pub updated: u64,
    /// Records skipped.
    pub skipped: u64,
    /// Records failed.
    pub failed: u64,
    /// Why the run failed.
    pub error: Option<String>,
    /// Process that owns the run while it is active.
    pub owner_pid: Option<i64>,
    /// Last sign of life of the owner.
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// Cancellation was asked for while it ran.
    pub cancel_requested: bool,
}

impl RunRow {
    /// Progress in percent, 0–100: 100 once done; otherwise `done / total` (0 while unknown),
    /// so a failed or cancelled run shows how far it got.
    pub fn percent(&self) -> u8 {
        if self.state == RunState::Done {
            return 100;
        }
        if self.total == 0 {
            return 0;
        }
        let p = self.done.min(self.total).saturating_mul(100) / self.total;
        u8::try_from(p).unwrap_or(100)
    }
}

/// Result of [`Runs::create`].
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// A new run was queued.
    New(RunRow),
    /// A run of this backend and kind was already queued or running; here it is.
    Existing(RunRow),
}

impl Created {
    /// The run, new or existing.
    pub fn run(&self) -> &RunRow {
        match self {
            Created::New(r) | Created::Existing(r) => r,
        }
    }
}

/// One message of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// `info`, `warn` or `error`.
    pub level: String,
    /// Text (already redacted by the caller).
    pub text: String,
}

/// A per-record report line to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    /// Record kind (`category`, `product`, `order`, ...).
    pub kind: String,
    /// Human reference (SKU, increment id, name).
    pub reference: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Why (required for failures, optional otherwise).
    pub message: String,
    /// Magento id, when known.
    pub magento_id: Option<String>,
    /// OpenERP id, when known.
    pub openerp_id: Option<i64>,
}

impl NewRecord {
    /// A report line without message or ids.
    pub fn new(kind: impl Into<String>, reference: impl Into<String>, outcome: Outcome) -> Self {
        NewRecord {
            kind: kind.into(),
            reference: reference.into(),
            outcome,
            message: String::new(),
            magento_id: None,
            openerp_id: None,
        }
    }

    /// Sets the message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Sets the Magento id.
    pub fn magento_id(mut self, id: impl Into<String>) -> Self {
        self.magento_id = Some(id.into());
        self
    }

    /// Sets the OpenERP id.
    pub fn openerp_id(mut self, id: i64) -> Self {
        self.openerp_id = Some(id);
        self
    }
}

/// A per-record report line as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Record kind.
    pub kind: String,
    /// Human reference.
    pub reference: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Message.
    pub message: String,
    /// Magento id.
    pub magento_id: Option<String>,
    /// OpenERP id.
    pub openerp_id: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Filters of [`Runs::list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    /// Only this backend.
    pub backend: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this state.
    pub state: Option<RunState>,
    /// At most this many (newest first).
    pub limit: u32,
}

const COLUMNS: &str = "id, backend, kind, state, dry_run, options, created_at, started_at, finished_at, total, done, \
                       created, updated, skipped, failed, error, owner_pid, heartbeat_at, cancel_requested";

fn count(r: &Row<'_>, i: usize) -> Result<u64, StoreError> {
    let v: i64 = r.get(i)?;
    Ok(u64::try_from(v).unwrap_or(0))
}

fn from_row(r: &Row<'_>) -> Result<RunRow, StoreError> {
    let state: String = r.get(3)?;
    let options: String = r.get(5)?;
    let created: String = r.get(6)?;
    Ok(RunRow {
        id: r.get(0)?,
        backend: r.get(1)?,
        kind: r.get(2)?,
        state: RunState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt { column: "runs.state", message: format!("{state:?}") })?,
        dry_run: r.get(4)?,
        options: parse_json("runs.options", &options)?,
        created_at: parse_ts("runs.created_at", &created)?,
        started_at: parse_opt_ts("runs.started_at", r.get(7)?)?,
        finished_at: parse_opt_ts("runs.finished_at", r.get(8)?)?,
        total: count(r, 9)?,
        done: count(r, 10)?,
        created: count(r, 11)?,
        updated: count(r, 12)?,
        skipped: count(r, 13)?,
        failed: count(r, 14)?,
        error: r.get(15)?,
        owner_pid: r.get(16)?,
        heartbeat_at: parse_opt_ts("runs.heartbeat_at", r.get(17)?)?,
        cancel_requested: r.get(18)?,
    })
}

fn get_run(c: &rusqlite::Connection, id: i64) -> Result<Option<RunRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM runs WHERE id = ?1");
    let mut st = c.prepare_cached(&sql)?;
    let mut rows = st.query([id])?;
    rows.next()?.map(from_row).transpose()
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Typed access to `runs`, `run_events` and `run_records` (see [`Store::runs`]).
#[derive(Debug, Clone, Copy)]
pub struct Runs<'a>(pub(super) &'a Store);

impl Runs<'_> {
    /// Queues a run, or returns the queued/running run of the same backend and kind.
    pub async fn create(
        &self,
        backend: &str,
        kind: &str,
        dry_run: bool,
        options: serde_json::Value,
        owner_pid: i64,
    ) -> Result<Created, StoreError> {
        let (backend, kind) = (backend.to_owned(), kind.to_owned());
        self.0
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let sql = format!(
                    "SELECT {COLUMNS} FROM runs WHERE backend = ?1 AND kind = ?2 AND state IN ('queued', 'running')"
                );
                let existing = {
                    let mut st = tx.prepare_cached(&sql)?;
                    let mut rows = st.query(params![backend, kind])?;
                    rows.next()?.map(from_row).transpose()?
                };
                if let Some(run) = existing {
                    return Ok(Created::Existing(run));
                }
                let now = now_text();
                tx.execute(
                    "INSERT INTO runs (backend, kind, state, dry_run, options, created_at, owner_pid, heartbeat_at)
                     VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?5)",
                    params![backend, kind, dry_run, options.to_string(), now, owner_pid],
                )?;
                let id = tx.last_insert_rowid();
                let run = get_run(&tx, id)?.ok_or_else(|| StoreError::Corrupt {
                    column: "runs",
                    message: "row vanished after insert".into(),
                })?;
                tx.commit()?;
                Ok(Created::New(run))
            })
            .await
    }

    /// One run.
    pub async fn get(&self, id: i64) -> Result<Option<RunRow>, StoreError> {
        self.0.call(move |c| get_run(c, id)).await
    }

    /// The queued or running run of a backend and kind.
    pub async fn active(&self, backend: &str, kind: &str) -> Result<Option<RunRow>, StoreError> {
        let (backend, kind) = (backend.to_owned(), kind.to_owned());
        self.0
            .call(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM runs WHERE backend = ?1 AND kind = ?2 AND state IN ('queued', 'running')"
                );
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(params![backend, kind])?;
                rows.next()?.map(from_row).transpose()
            })
            .await
    }

    /// Runs matching `filter`, newest first (`limit` 0 means 50).
    pub async fn list(&self, filter: RunFilter) -> Result<Vec<RunRow>, StoreError> {
        self.0
            .call(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM runs WHERE (?1 IS NULL OR backend = ?1) AND (?2 IS NULL OR kind = ?2)
                     AND (?3 IS NULL OR state = ?3) ORDER BY id DESC LIMIT ?4"
                );
                let limit = if filter.limit == 0 { 50 } else { filter.limit };
                let mut st = c.prepare_cached(&sql)?;
                let mut rows =
                    st.query(params![filter.backend, filter.kind, filter.state.map(RunState::as_str), limit])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(from_row(r)?);
                }
                Ok(out)
            })
            .await
    }

    /// Moves a queued run to running; false when it is no longer queued (cancelled meanwhile).
    pub async fn mark_running(&self, id: i64) -> Result<bool, StoreError> {
        self.0
            .call(move |c| {
                let now = now_text();
                let n = c.execute(
                    "UPDATE runs SET state = 'running', started_at = ?2, heartbeat_at = ?2 WHERE id = ?1 AND state = 'queued'",
                    params![id, now],
                )?;
                Ok(n == 1)
            })
            .await
    }

    /// Moves an active run to a final state; false when it was already final.
    pub async fn finish(&self, id: i64, state: RunState, error: Option<String>) -> Result<bool, StoreError> {
        self.0
            .call(move |c| {
                let now = now_text();
                let n = c.execute(
                    "UPDATE runs SET state = ?2, error = ?3, finished_at = ?4 WHERE id = ?1 AND state IN ('queued', 'running')",
                    params![id, state.as_str(), error, now],
                )?;
                Ok(n == 1)
            })
            .await
    }

    /// Cancels a queued run at once; false when it is not queued.
    pub async fn cancel_queued(&self, id: i64) -> Result<bool, StoreError> {
        self.0
            .call(move |c| {
                let now = now_text();
                let n = c.execute(
                    "UPDATE runs SET state = 'cancelled', finished_at = ?2, cancel_requested = 1 WHERE id = ?1 AND state = 'queued'",
                    params![id, now],
                )?;
                Ok(n == 1)
            })
            .await
    }

    /// Asks a running run to stop at its next record boundary; false when it is not running.
    pub async fn request_cancel(&self, id: i64) -> Result<bool, StoreError> {
        self.0
            .call(move |c| {
                let n = c.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?1 AND state = 'running'", [id])?;
                Ok(n == 1)
            })
            .await
    }

    /// Sets the number of records to process (and refreshes the heartbeat).
    pub async fn set_total(&self, id: i64, total: u64) -> Result<(), StoreError> {
        self.0
            .call(move |c| {
                c.execute(
                    "UPDATE runs SET total = ?2, heartbeat_at = ?3 WHERE id = ?1",
                    params![id, clamp(total), now_text()],
                )?;
                Ok(())
            })
            .await
    }

    /// Adds `n` to the processed count (and refreshes the heartbeat); returns the new count.
    pub async fn advance(&self, id: i64, n: u64) -> Result<u64, StoreError> {
        self.0
            .call(move |c| {
                let done: i64 = c.query_row(
                    "UPDATE runs SET done = done + ?2, heartbeat_at = ?3 WHERE id = ?1 RETURNING done",
                    params![id, clamp(n), now_text()],
                    |r| r.get(0),
                )?;
                Ok(u64::try_from(done).unwrap_or(0))
            })
            .await
    }

    /// Records a sign of life of the owner at `at`; returns whether cancellation was requested.
    pub async fn heartbeat(&self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.0
            .call(move |c| {
                let requested: Option<bool> = c
                    .query_row(
                        "UPDATE runs SET heartbeat_at = ?2 WHERE id = ?1 RETURNING cancel_requested",
                        params![id, ts_text(&at)],
                        |r| r.get(0),
                    )
                    .optional()?;
                Ok(requested.unwrap_or(false))
            })
            .await
    }

    /// Marks failed ("interrupted") every active run whose owner is gone: `is_alive(pid)` is
    /// false, or the heartbeat is older than `stale_before`. Returns the ids marked.
    pub async fn interrupt_orphans(
        &self,
        is_alive: impl Fn(i64) -> bool + Send + 'static,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        self.0
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let candidates: Vec<(i64, Option<i64>, Option<String>)> = {
                    let mut st = tx
                        .prepare("SELECT id, owner_pid, heartbeat_at FROM runs WHERE state IN ('queued', 'running')")?;
                    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                    rows.collect::<Result<_, _>>()?
                };
                let now = now_text();
                let mut marked = Vec::new();
                for (id, pid, heartbeat) in candidates {
                    let stale = match parse_opt_ts("runs.heartbeat_at", heartbeat)? {
                        Some(at) => at < stale_before,
                        None => true,
                    };
                    let dead = pid.is_none_or(|p| !is_alive(p));
                    if stale || dead {
                        tx.execute(
                            "UPDATE runs SET state = 'failed', finished_at = ?2,
                             error = 'interrupted: the process running it stopped before it finished' WHERE id = ?1",
                            params![id, now],
                        )?;
                        tx.execute(
                            "INSERT INTO run_events (run_id, at, level, text) VALUES (?1, ?2, 'error', ?3)",
                            params![id, now, "interrupted: the process running it stopped before it finished"],
                        )?;
                        marked.push(id);
                    }
                }
                tx.commit()?;
                Ok(marked)
            })
            .await
    }

    /// Appends a message.
    pub async fn add_event(&self, id: i64, level: &str, text: &str) -> Result<(), StoreError> {
        let (level, text) = (level.to_owned(), text.to_owned());
        self.0
            .call(move |c| {
                c.prepare_cached("INSERT INTO run_events (run_id, at, level, text) VALUES (?1, ?2, ?3, ?4)")?
                    .execute(params![id, now_text(), level, text])?;
                Ok(())
            })
            .await
    }

    /// The last `n` messages, oldest first.
    pub async fn events(&self, id: i64, n: u32) -> Result<Vec<RunEvent>, StoreError> {
        self.0
            .call(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT at, level, text FROM (SELECT id, at, level, text FROM run_events WHERE run_id = ?1 ORDER BY id DESC LIMIT ?2)
                     ORDER BY id",
                )?;
                let mut rows = st.query(params![id, n])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let at: String = r.get(0)?;
                    out.push(RunEvent { at: parse_ts("run_events.at", &at)?, level: r.get(1)?, text: r.get(2)? });
                }
                Ok(out)
            })
            .await
    }

    /// Adds a report line and its count, in one transaction.
    pub async fn add_record(&self, id: i64, rec: NewRecord) -> Result<(), StoreError> {
        self.add_records(id, vec![rec]).await
    }

    /// [`Runs::add_record`] of many lines in one transaction, in order.
    pub async fn add_records(&self, id: i64, recs: Vec<NewRecord>) -> Result<(), StoreError> {
        if recs.is_empty() {
            return Ok(());
        }
        self.0
            .call(move |c| {
                let tx = c.transaction()?;
                let now = now_text();
                for rec in recs {
                    tx.prepare_cached(
                        "INSERT INTO run_records (run_id, kind, ref, outcome, message, magento_id, openerp_id, at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )?
                    .execute(params![
                        id,
                        rec.kind,
                        rec.reference,
                        rec.outcome.as_str(),
                        rec.message,
                        rec.magento_id,
                        rec.openerp_id,
                        now
                    ])?;
                    if let Some(col) = rec.outcome.count_column() {
                        tx.prepare_cached(&format!(
                            "UPDATE runs SET {col} = {col} + 1, heartbeat_at = ?2 WHERE id = ?1"
                        ))?
                        .execute(params![id, now])?;
                    }
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }

    /// Adds `n` to the count of `outcome` without report lines (bulk jobs count the records
    /// they leave unchanged instead of listing each).
    pub async fn add_counts(&self, id: i64, outcome: Outcome, n: u64) -> Result<(), StoreError> {
        let Some(col) = outcome.count_column() else { return Ok(()) };
        if n == 0 {
            return Ok(());
        }
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        self.0
            .call(move |c| {
                c.prepare_cached(&format!("UPDATE runs SET {col} = {col} + ?2, heartbeat_at = ?3 WHERE id = ?1"))?
                    .execute(params![id, n, now_text()])?;
                Ok(())
            })
            .await
    }

    /// A page of report lines (in the order they were recorded) and the number matching.
    pub async fn records(
        &self,
        id: i64,
        outcome: Option<Outcome>,
        offset: u32,
        limit: u32,
    ) -> Result<(u64, Vec<RunRecord>), StoreError> {
        self.0
            .call(move |c| {
                let o = outcome.map(Outcome::as_str);
                let total: i64 = c.query_row(
                    "SELECT count(*) FROM run_records WHERE run_id = ?1 AND (?2 IS NULL OR outcome = ?2)",
                    params![id, o],
                    |r| r.get(0),
                )?;
                let mut st = c.prepare_cached(
                    "SELECT kind, ref, outcome, message, magento_id, openerp_id, at FROM run_records
                     WHERE run_id = ?1 AND (?2 IS NULL OR outcome = ?2) ORDER BY id LIMIT ?3 OFFSET ?4",
                )?;
                let mut rows = st.query(params![id, o, limit, offset])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let outcome: String = r.get(2)?;
                    let at: String = r.get(6)?;
                    out.push(RunRecord {
                        kind: r.get(0)?,
                        reference: r.get(1)?,
                        outcome: Outcome::parse(&outcome).ok_or_else(|| StoreError::Corrupt {
                            column: "run_records.outcome",
                            message: format!("{outcome:?}"),
                        })?,
                        message: r.get(3)?,
                        magento_id: r.get(4)?,
                        openerp_id: r.get(5)?,
                        at: parse_ts("run_records.at", &at)?,
                    });
                }
                Ok((u64::try_from(total).unwrap_or(0), out))
            })
            .await
    }
}
