//! Runs: jobs started by a method call, executed on the server, observed through `runs.*`.
//!
//! [`RunManager`] queues a run in the store (one queued/running run per backend and kind,
//! enforced by the store across processes), executes it through the injected
//! [`JobExecutor`] with at most `max_parallel` runs at once, and records its final state.
//! [`RunContext`] is the handle a job gets: progress, per-record reports, messages (redacted),
//! and the cancellation flag. A panicking or failing job fails its run; the server keeps going.
//!
//! Liveness across processes: each active run carries its owner's pid and a heartbeat, and
//! polls for cancellation requested by another process (`runs.cancel` on the server while the
//! CLI runs the job). At start-up, [`RunManager::recover`] fails the runs whose owner is gone.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use super::jobs::{BoxFuture, JobError, JobExecutor, JobKind, JobOptions, Summary};
use crate::store::{Created, NewRecord, Outcome, RunEvent, RunRow, RunState, Store, StoreError};
use crate::telemetry::Redactor;

/// Messages returned by `runs.get`.
pub const MESSAGES_SHOWN: u32 = 50;

/// Tuning of a [`RunManager`].
#[derive(Debug, Clone, Copy)]
pub struct RunSettings {
    /// Runs executing at once (others wait `queued`).
    pub max_parallel: usize,
    /// How often an active run refreshes its heartbeat and polls for cancellation.
    pub heartbeat_every: Duration,
    /// A heartbeat older than this means the owner is gone.
    pub stale_after: Duration,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings { max_parallel: 2, heartbeat_every: Duration::from_secs(5), stale_after: Duration::from_secs(60) }
    }
}

/// Why a run could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The manager is shutting down.
    #[error("the server is shutting down; start the run again once it is back")]
    ShuttingDown,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A run that [`RunManager::start`] queued or found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// Run id.
    pub id: i64,
    /// True when a run of this backend and kind was already queued or running.
    pub existing: bool,
}

/// A run with its last messages (what `runs.get` shows).
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    /// The run.
    pub run: RunRow,
    /// Last messages, oldest first.
    pub messages: Vec<RunEvent>,
}

struct Handle {
    token: CancellationToken,
    by_user: AtomicBool,
}

struct Inner {
    store: Store,
    executor: Arc<dyn JobExecutor>,
    redactor: Redactor,
    settings: RunSettings,
    permits: Arc<Semaphore>,
    active: Mutex<HashMap<i64, Arc<Handle>>>,
    idle: Notify,
    shutting_down: AtomicBool,
    pid: i64,
}

/// Starts, tracks, cancels and recovers runs. Cheap to clone.
#[derive(Clone)]
pub struct RunManager {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RunManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunManager").field("settings", &self.inner.settings).finish()
    }
}

impl RunManager {
    /// A manager executing jobs with `executor`, scrubbing messages with `redactor`.
    pub fn new(store: Store, executor: Arc<dyn JobExecutor>, redactor: Redactor, settings: RunSettings) -> Self {
        let permits = Arc::new(Semaphore::new(settings.max_parallel.max(1)));
        RunManager {
            inner: Arc::new(Inner {
                store,
                executor,
                redactor,
                settings,
                permits,
                active: Mutex::new(HashMap::new()),
                idle: Notify::new(),
                shutting_down: AtomicBool::new(false),
                pid: i64::from(std::process::id()),
            }),
        }
    }

    /// The store runs are kept in.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Fails the runs left active by a process that is gone (killed, crashed). Call at start-up.
    pub async fn recover(&self) -> Result<Vec<i64>, StoreError> {
        let own = self.inner.pid;
        let stale = chrono::Duration::from_std(self.inner.settings.stale_after)
            .unwrap_or_else(|_| chrono::Duration::seconds(60));
        let ids = self
            .inner
            .store
            .runs()
            .interrupt_orphans(move |pid| pid != own && process_alive(pid), Utc::now() - stale)
            .await?;
        if !ids.is_empty() {
            tracing::warn!(runs = ?ids, "runs left active by a stopped process were marked failed (interrupted)");
        }
        Ok(ids)
    }

    /// Queues a run of `kind` on `backend`, or returns the one already queued or running.
    pub async fn start(&self, backend: &str, kind: JobKind, options: JobOptions) -> Result<Started, StartError> {
        if self.inner.shutting_down.load(Ordering::SeqCst) {
            return Err(StartError::ShuttingDown);
        }
        let created = self
            .inner
            .store
            .runs()
            .create(backend, kind.as_str(), options.dry_run, options.to_json(), self.inner.pid)
            .await?;
        let run = match created {
            Created::Existing(run) => return Ok(Started { id: run.id, existing: true }),
            Created::New(run) => run,
        };
        let handle = Arc::new(Handle { token: CancellationToken::new(), by_user: AtomicBool::new(false) });
        self.lock_active().insert(run.id, Arc::clone(&handle));
        tracing::info!(run = run.id, backend, kind = kind.as_str(), dry_run = options.dry_run, "run queued");
        let this = self.clone();
        let ctx = RunContext::new(
            run.id,
            backend,
            kind,
            options,
            self.inner.store.clone(),
            handle.token.clone(),
            self.inner.redactor.clone(),
        );
        tokio::spawn(async move { this.drive(ctx, handle).await });
        Ok(Started { id: run.id, existing: false })
    }

    fn lock_active(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Handle>>> {
        self.inner.active.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn drive(self, ctx: RunContext, handle: Arc<Handle>) {
        let id = ctx.id();
        // The heartbeat runs from the start, so a run waiting in the queue is not taken for an
        // orphan by another process, and a cancellation from another process reaches it.
        let beat = tokio::spawn(heartbeat(
            self.inner.store.clone(),
            id,
            self.inner.settings.heartbeat_every,
            handle.token.clone(),
        ));
        let permit = tokio::select! {
            p = Arc::clone(&self.inner.permits).acquire_owned() => p.ok(),
            () = handle.token.cancelled() => None,
        };
        let outcome = match permit {
            Some(_permit) => self.execute(ctx, &handle).await,
            None => self.never_started(id, &handle).await,
        };
        beat.abort();
        if let Err(e) = outcome {
            tracing::error!(run = id, "could not record the end of the run: {e}");
        }
        let mut active = self.lock_active();
        active.remove(&id);
        if active.is_empty() {
            self.inner.idle.notify_waiters();
        }
    }

    /// A queued run stopped before it got a worker: cancelled by a user (already recorded by
    /// `cancel`) or by a shutdown (recorded here).
    async fn never_started(&self, id: i64, handle: &Handle) -> Result<(), StoreError> {
        if self.inner.shutting_down.load(Ordering::SeqCst) && !handle.by_user.load(Ordering::SeqCst) {
            self.inner.store.runs().finish(id, RunState::Failed, Some(INTERRUPTED_BY_SHUTDOWN.into())).await?;
        }
        Ok(())
    }

    async fn execute(&self, ctx: RunContext, handle: &Handle) -> Result<(), StoreError> {
        let id = ctx.id();
        let runs = self.inner.store.runs();
        if handle.token.is_cancelled() || !runs.mark_running(id).await? {
            // Cancelled while queued (cancel_queued already wrote the final state), or shut down.
            return self.never_started(id, handle).await;
        }
        tracing::info!(run = id, backend = ctx.backend(), kind = ctx.kind().as_str(), "run started");
        let job = Arc::clone(&self.inner.executor).execute(ctx.clone());
        let result = tokio::spawn(job).await;
        let (state, error) = match result {
            Ok(Ok(summary)) => {
                if !summary.message.is_empty() {
                    ctx.info(&summary.message).await;
                }
                if handle.token.is_cancelled() { self.stopped(handle) } else { (RunState::Done, None) }
            }
            Ok(Err(JobError::Cancelled)) => self.stopped(handle),
            Ok(Err(e)) => {
                let text = ctx.redact(&e.to_string());
                ctx.error(&text).await;
                (RunState::Failed, Some(text))
            }
            Err(join) => {
                let text = if join.is_panic() {
                    let detail = panic_text(join.into_panic());
                    format!("the job stopped on an internal error (panic: {})", ctx.redact(&detail))
                } else {
                    "the job was aborted".to_owned()
                };
                tracing::error!(run = id, "{text}");
                ctx.error(&text).await;
                (RunState::Failed, Some(text))
            }
        };
        if state == RunState::Cancelled {
            ctx.warn("cancelled: stopped at a record boundary; what was written stays written").await;
        }
        runs.finish(id, state, error).await?;
        tracing::info!(run = id, state = state.as_str(), "run finished");
        Ok(())
    }

    fn stopped(&self, handle: &Handle) -> (RunState, Option<String>) {
        if self.inner.shutting_down.load(Ordering::SeqCst) && !handle.by_user.load(Ordering::SeqCst) {
            (RunState::Failed, Some(INTERRUPTED_BY_SHUTDOWN.into()))
        } else {
            (RunState::Cancelled, None)
        }
    }

    /// A run and its last messages; `None` for an unknown id.
    pub async fn get(&self, id: i64) -> Result<Option<RunView>, StoreError> {
        let runs = self.inner.store.runs();
        let Some(run) = runs.get(id).await? else { return Ok(None) };
        let messages = runs.events(id, MESSAGES_SHOWN).await?;
        Ok(Some(RunView { run, messages }))
    }

    /// Cancels a run: a queued one at once, a running one at its next record boundary (also
    /// when another process runs it). Returns the state after the request; `None` for an
    /// unknown id. Cancelling a finished run changes nothing.
    pub async fn cancel(&self, id: i64) -> Result<Option<RunState>, StoreError> {
        let runs = self.inner.store.runs();
        let Some(run) = runs.get(id).await? else { return Ok(None) };
        let handle = self.lock_active().get(&id).cloned();
        let flag = |h: &Option<Arc<Handle>>| {
            if let Some(h) = h {
                h.by_user.store(true, Ordering::SeqCst);
                h.token.cancel();
            }
        };
        match run.state {
            RunState::Queued => {
                if runs.cancel_queued(id).await? {
                    flag(&handle);
                    runs.add_event(id, "warn", "cancelled before it started").await?;
                    tracing::info!(run = id, "queued run cancelled");
                    return Ok(Some(RunState::Cancelled));
                }
                // It started meanwhile: treat as running.
                if runs.request_cancel(id).await? {
                    flag(&handle);
                }
            }
            RunState::Running => {
                if runs.request_cancel(id).await? {
                    flag(&handle);
                    runs.add_event(id, "warn", "cancellation requested; stopping at the next record boundary").await?;
                    tracing::info!(run = id, "cancellation requested");
                }
            }
            RunState::Done | RunState::Failed | RunState::Cancelled => return Ok(Some(run.state)),
        }
        Ok(runs.get(id).await?.map(|r| r.state))
    }

    /// Waits until run `id` is in a final state and returns it (`None` for an unknown id).
    pub async fn wait(&self, id: i64, poll: Duration) -> Result<Option<RunRow>, StoreError> {
        loop {
            match self.inner.store.runs().get(id).await? {
                None => return Ok(None),
                Some(r) if !r.state.is_active() => return Ok(Some(r)),
                Some(_) => tokio::time::sleep(poll).await,
            }
        }
    }

    /// Runs `work` as a run of `kind` in the caller's request and returns its value with the
    /// run id (for synchronous methods such as `taxes.sync`). The work runs in its own task,
    /// so a caller that gives up does not leave the run half-recorded.
    pub async fn run_inline<T, F, Fut>(
        &self,
        backend: &str,
        kind: JobKind,
        options: JobOptions,
        work: F,
    ) -> Result<(i64, T), InlineError>
    where
        T: Send + 'static,
        F: FnOnce(RunContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, JobError>> + Send + 'static,
    {
        if self.inner.shutting_down.load(Ordering::SeqCst) {
            return Err(InlineError::ShuttingDown);
        }
        let runs = self.inner.store.runs();
        let run = match runs.create(backend, kind.as_str(), options.dry_run, options.to_json(), self.inner.pid).await? {
            Created::Existing(run) => return Err(InlineError::Busy(run.id)),
            Created::New(run) => run,
        };
        let id = run.id;
        let handle = Arc::new(Handle { token: CancellationToken::new(), by_user: AtomicBool::new(false) });
        self.lock_active().insert(id, Arc::clone(&handle));
        let ctx = RunContext::new(
            id,
            backend,
            kind,
            options,
            self.inner.store.clone(),
            handle.token.clone(),
            self.inner.redactor.clone(),
        );
        let this = self.clone();
        let task = tokio::spawn(async move {
            let result = this.inline_body(ctx, &handle, work).await;
            let mut active = this.lock_active();
            active.remove(&id);
            if active.is_empty() {
                this.inner.idle.notify_waiters();
            }
            result
        });
        match task.await {
            Ok(Ok(v)) => Ok((id, v)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(InlineError::Job { run_id: id, message: "the job stopped on an internal error".into() }),
        }
    }

    async fn inline_body<T, F, Fut>(&self, ctx: RunContext, handle: &Handle, work: F) -> Result<T, InlineError>
    where
        T: Send + 'static,
        F: FnOnce(RunContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, JobError>> + Send + 'static,
    {
        let id = ctx.id();
        let runs = self.inner.store.runs();
        runs.mark_running(id).await?;
        let beat = tokio::spawn(heartbeat(
            self.inner.store.clone(),
            id,
            self.inner.settings.heartbeat_every,
            handle.token.clone(),
        ));
        let result = tokio::spawn(work(ctx.clone())).await;
        beat.abort();
        let (state, error, out) = match result {
            Ok(Ok(v)) => {
                if handle.token.is_cancelled() {
                    (RunState::Cancelled, None, Err(InlineError::Job { run_id: id, message: "cancelled".into() }))
                } else {
                    (RunState::Done, None, Ok(v))
                }
            }
            Ok(Err(JobError::Cancelled)) => {
                (RunState::Cancelled, None, Err(InlineError::Job { run_id: id, message: "cancelled".into() }))
            }
            Ok(Err(e)) => {
                let text = ctx.redact(&e.to_string());
                ctx.error(&text).await;
                (RunState::Failed, Some(text.clone()), Err(InlineError::Job { run_id: id, message: text }))
            }
            Err(join) => {
                let detail = if join.is_panic() { panic_text(join.into_panic()) } else { "aborted".into() };
                let text = format!("the job stopped on an internal error (panic: {})", ctx.redact(&detail));
                tracing::error!(run = id, "{text}");
                ctx.error(&text).await;
                (RunState::Failed, Some(text.clone()), Err(InlineError::Job { run_id: id, message: text }))
            }
        };
        runs.finish(id, state, error).await?;
        out
    }

    /// Stops accepting runs, asks running ones to stop, waits up to `grace` for them, then
    /// marks what is still active as failed ("interrupted").
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        let handles: Vec<(i64, Arc<Handle>)> = self.lock_active().iter().map(|(k, v)| (*k, Arc::clone(v))).collect();
        if handles.is_empty() {
            return;
        }
        tracing::info!(runs = handles.len(), "stopping active runs");
        for (_, h) in &handles {
            h.token.cancel();
        }
        let wait_idle = async {
            loop {
                let notified = self.inner.idle.notified();
                if self.lock_active().is_empty() {
                    return;
                }
                notified.await;
            }
        };
        if tokio::time::timeout(grace, wait_idle).await.is_err() {
            let left: Vec<i64> = self.lock_active().keys().copied().collect();
            for id in left {
                if let Err(e) =
                    self.inner.store.runs().finish(id, RunState::Failed, Some(INTERRUPTED_BY_SHUTDOWN.into())).await
                {
                    tracing::error!(run = id, "could not mark the run interrupted: {e}");
                }
            }
        }
    }
}

/// Error text of a run stopped by a server shutdown.
pub const INTERRUPTED_BY_SHUTDOWN: &str = "interrupted: the server shut down before the run finished (what was written is recorded; run it again to continue)";

/// Why [`RunManager::run_inline`] returned no value.
#[derive(Debug, thiserror::Error)]
pub enum InlineError {
    /// A run of this backend and kind is already active.
    #[error("run {0} of this kind is already in progress on this backend")]
    Busy(i64),
    /// The manager is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The job failed; the run records why.
    #[error("run {run_id} failed: {message}")]
    Job {
        /// Run id.
        run_id: i64,
        /// Redacted reason.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

async fn heartbeat(store: Store, id: i64, every: Duration, token: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        match store.runs().heartbeat(id, Utc::now()).await {
            Ok(true) => token.cancel(),
            Ok(false) => {}
            Err(e) => tracing::warn!(run = id, "heartbeat failed: {e}"),
        }
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    match p.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast::<&'static str>().map(|s| (*s).to_owned()).unwrap_or_else(|_| "no message".into()),
    }
}

/// Whether process `pid` exists (Linux: `/proc/<pid>`; elsewhere assumed alive, and the
/// heartbeat decides).
fn process_alive(pid: i64) -> bool {
    if cfg!(target_os = "linux") { std::path::Path::new(&format!("/proc/{pid}")).exists() } else { true }
}

struct CtxInner {
    id: i64,
    backend: String,
    kind: JobKind,
    options: JobOptions,
    store: Store,
    token: CancellationToken,
    redactor: Redactor,
}

/// What a job gets: who it is, where to report, and when to stop. Cheap to clone.
#[derive(Clone)]
pub struct RunContext {
    inner: Arc<CtxInner>,
}

impl std::fmt::Debug for RunContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunContext").field("id", &self.inner.id).field("kind", &self.inner.kind).finish()
    }
}

impl RunContext {
    fn new(
        id: i64,
        backend: &str,
        kind: JobKind,
        options: JobOptions,
        store: Store,
        token: CancellationToken,
        redactor: Redactor,
    ) -> Self {
        RunContext {
            inner: Arc::new(CtxInner { id, backend: backend.to_owned(), kind, options, store, token, redactor }),
        }
    }

    /// A context on a new running run outside any manager, for testing a job on its own.
    pub async fn standalone(
        store: Store,
        backend: &str,
        kind: JobKind,
        options: JobOptions,
    ) -> Result<RunContext, StoreError> {
        let created = store
            .runs()
            .create(backend, kind.as_str(), options.dry_run, options.to_json(), i64::from(std::process::id()))
            .await?;
        let id = created.run().id;
        store.runs().mark_running(id).await?;
        Ok(RunContext::new(id, backend, kind, options, store, CancellationToken::new(), Redactor::default()))
    }

    /// Run id.
    pub fn id(&self) -> i64 {
        self.inner.id
    }

    /// Backend name.
    pub fn backend(&self) -> &str {
        &self.inner.backend
    }

    /// Job kind.
    pub fn kind(&self) -> JobKind {
        self.inner.kind
    }

    /// Options of the run.
    pub fn options(&self) -> &JobOptions {
        &self.inner.options
    }

    /// Dry run: compute and report `planned` records, write nothing.
    pub fn dry_run(&self) -> bool {
        self.inner.options.dry_run
    }

    /// The state store (bindings, cursors, ...).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// True once the run should stop; check it between records.
    pub fn is_cancelled(&self) -> bool {
        self.inner.token.is_cancelled()
    }

    /// Completes when the run should stop (for `tokio::select!` around long waits).
    pub async fn cancelled(&self) {
        self.inner.token.cancelled().await;
    }

    /// Asks this run to stop (used by `standalone` contexts in tests).
    pub fn cancel(&self) {
        self.inner.token.cancel();
    }

    /// `text` with every configured secret scrubbed.
    pub fn redact(&self, text: &str) -> String {
        self.inner.redactor.scrub(text).into_owned()
    }

    /// Sets the number of records to process.
    pub async fn set_total(&self, n: u64) -> Result<(), StoreError> {
        self.inner.store.runs().set_total(self.inner.id, n).await
    }

    /// Adds `n` processed records.
    pub async fn advance(&self, n: u64) -> Result<(), StoreError> {
        self.inner.store.runs().advance(self.inner.id, n).await.map(|_| ())
    }

    /// Adds a per-record report line; the run's counts follow (message redacted).
    pub async fn record(&self, rec: NewRecord) -> Result<(), StoreError> {
        self.record_many(vec![rec]).await
    }

    /// [`RunContext::record`] of many lines at once (one store transaction).
    pub async fn record_many(&self, mut recs: Vec<NewRecord>) -> Result<(), StoreError> {
        for rec in &mut recs {
            rec.message = self.redact(&rec.message);
            rec.reference = self.redact(&rec.reference);
        }
        self.inner.store.runs().add_records(self.inner.id, recs).await
    }

    /// Counts `n` records of `outcome` that get no report line of their own (the unchanged
    /// items of a bulk job), so that the run's counts add up to what it processed.
    pub async fn count_unreported(&self, outcome: Outcome, n: u64) -> Result<(), StoreError> {
        self.inner.store.runs().add_counts(self.inner.id, outcome, n).await
    }

    /// Adds an `info` message.
    pub async fn info(&self, text: impl AsRef<str>) {
        self.message("info", text.as_ref()).await;
    }

    /// Adds a `warn` message.
    pub async fn warn(&self, text: impl AsRef<str>) {
        self.message("warn", text.as_ref()).await;
    }

    /// Adds an `error` message.
    pub async fn error(&self, text: impl AsRef<str>) {
        self.message("error", text.as_ref()).await;
    }

    async fn message(&self, level: &str, text: &str) {
        let text = self.redact(text);
        let id = self.inner.id;
        match level {
            "error" => tracing::error!(run = id, "{text}"),
            "warn" => tracing::warn!(run = id, "{text}"),
            _ => tracing::info!(run = id, "{text}"),
        }
        // A message that cannot be stored is still in the log; not worth failing the run for.
        if let Err(e) = self.inner.store.runs().add_event(id, level, &text).await {
            tracing::warn!(run = id, "could not store a run message: {e}");
        }
    }
}

/// A boxed job body, for executors that dispatch on [`JobKind`].
pub type JobFuture = BoxFuture<Result<Summary, JobError>>;
