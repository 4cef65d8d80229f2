//! Calls and batches: the I/O core of the Magento 1 client.
//!
//! * [`Magento1Client::call`]: one `call(sessionId, path, [args])` with lazy login, one
//!   re-login on fault 5, and bounded retries with backoff for what [`Retry`] allows.
//! * [`Magento1Client::batch`]: many calls through `multiCall` in chunks of `batch_size`
//!   (at most `concurrency` requests in flight), with per-item results. Fault 623 on
//!   `multiCall` (OpenMage ≥ 20.11) is detected once per client in `auto` mode and the client
//!   falls back to concurrent single calls for good.
//! * A `multiCall` whose answer cannot be decoded runs its items again one by one, so one
//!   item's unreadable data fails that item only.
//! * [`Magento1Client::batch_in_order_once`]: calls that must neither run twice nor out of
//!   order (category creates): chunks in sequence, nothing re-sent.
//! * Product creates never run twice: when a create fails in a way that might hide a success
//!   (fault 1, a deadlock, a timeout), the client first looks the SKU up and reports the
//!   existing id.
//!
//! Secrets: the API key and the session id are scrubbed from every error message; request
//! parameters are never logged.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use dxr::Value;
use futures_util::future::join_all;

use super::{MC_SUPPORTED, MC_UNKNOWN, MC_UNSUPPORTED, Magento1Client, encode, faults, parse};
use crate::config::MultiCallMode;
use crate::magento::error::{ErrorKind, MagentoError, MagentoResult};
use crate::magento::types::BatchSupport;
use crate::rpc::transport::CallError;
use crate::rpc::value;
use crate::secret::Secret;

/// How long a refused login is answered from memory.
const LOGIN_REFUSAL_MEMORY: Duration = Duration::from_secs(5);

/// Which failures of a call are retried in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    /// Idempotent calls (reads, updates): transport errors, HTTP 5xx and deadlocks.
    Transient,
    /// Calls that must not run twice (comments, cancel, hold…): only deadlocks, which
    /// Magento rolled back. A timeout is reported as retryable to the caller instead.
    DeadlockOnly,
    /// No retry here (the caller has its own recovery). Invoices, shipments and tracks: a
    /// deadlock raised after Magento committed (an after-commit observer) leaves the record
    /// created, and a blind retry would create a second one.
    Never,
}

/// One call of a batch.
#[derive(Debug, Clone)]
pub(super) struct BatchItem {
    /// API path.
    pub path: &'static str,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Item key for errors (SKU, increment id).
    pub key: String,
    /// For product creates: the SKU to look up before any re-run.
    pub create_sku: Option<String>,
}

/// Outcome of one `multiCall` request.
enum Multi {
    Results(Vec<Value>),
    Unsupported,
    Failed(MagentoError),
}

impl Magento1Client {
    /// Sends one XML-RPC request, within the concurrency limit.
    async fn send(&self, method: &str, params: Vec<Value>) -> Result<Value, CallError> {
        let Ok(_permit) = self.limiter.acquire().await else {
            return Err(CallError::Encode("the client is shut down".into()));
        };
        self.transport.call(method, params).await
    }

    /// Removes the API key and the session id from an error message.
    fn scrub(&self, mut e: MagentoError, sid: Option<&Secret>) -> MagentoError {
        e.message = self.api_key.scrub(&e.message);
        if let Some(s) = sid {
            e.message = s.scrub(&e.message);
        }
        e
    }

    /// `login(user, key)` with retries on transient failures.
    async fn login(&self) -> MagentoResult<Secret> {
        // A refused login is remembered briefly, so that a batch of hundreds of calls with a
        // wrong key does not send hundreds of logins.
        if let Ok(last) = self.login_refused.lock()
            && let Some((at, err)) = last.as_ref()
            && at.elapsed() < LOGIN_REFUSAL_MEMORY
        {
            return Err(err.clone());
        }
        let result = self.login_uncached().await;
        if let Err(e) = &result
            && e.kind == ErrorKind::Auth
            && let Ok(mut last) = self.login_refused.lock()
        {
            *last = Some((Instant::now(), e.clone()));
        }
        result
    }

    async fn login_uncached(&self) -> MagentoResult<Secret> {
        let mut attempt = 1;
        loop {
            let started = Instant::now();
            let params = vec![value::string(self.api_user.clone()), value::string(self.api_key.expose())];
            match self.send("login", params).await {
                Ok(Value::String(s)) if !s.trim().is_empty() => {
                    tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "logged in to Magento");
                    return Ok(Secret::new(s.trim()));
                }
                Ok(other) => {
                    let found = match other {
                        Value::String(_) => "an empty string".to_owned(),
                        v => value::describe(&v),
                    };
                    return Err(MagentoError::protocol("login", format!("expected a session id, got {found}")));
                }
                Err(e) => {
                    let mut err = self.scrub(faults::from_call_error("login", &e), None);
                    if err.kind == ErrorKind::Auth {
                        err.message = format!("API user {:?} refused: {}", self.api_user, err.message);
                    }
                    if err.is_retryable() && attempt < self.backoff.attempts {
                        let delay = self.backoff.delay(attempt);
                        tracing::warn!(attempt, delay_ms = delay.as_millis() as u64, "login failed, retrying: {err}");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Runs an authenticated request (`call` or `multiCall`) built by `build` from the session
    /// id: logs in when needed, logs in again once on fault 5, retries per `retry`.
    async fn authed(
        &self,
        method: &str,
        label: &str,
        key: Option<&str>,
        retry: Retry,
        build: impl Fn(&str) -> Vec<Value> + Send + Sync,
    ) -> MagentoResult<Value> {
        let mut attempt = 1;
        let mut relogged = false;
        loop {
            let (sid, generation) =
                self.session.current(|| self.login()).await.map_err(|e| e.with_key_if_unset(key))?;
            let started = Instant::now();
            match self.send(method, build(sid.expose())).await {
                Ok(v) => {
                    tracing::debug!(
                        method = label,
                        key,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "magento call done"
                    );
                    return Ok(v);
                }
                Err(CallError::Fault(f)) if f.code == 5 && f.text_code.is_none() && !relogged => {
                    tracing::info!(method = label, "Magento session expired, logging in again");
                    relogged = true;
                    self.session.invalidate(generation).await;
                }
                Err(e) => {
                    let mut err = self.scrub(faults::from_call_error(label, &e), Some(&sid)).with_key_if_unset(key);
                    let again = match retry {
                        Retry::Transient => err.is_retryable(),
                        Retry::DeadlockOnly => err.is_retryable() && err.fault_code.is_some(),
                        Retry::Never => false,
                    };
                    if again && attempt < self.backoff.attempts {
                        let delay = self.backoff.delay(attempt);
                        tracing::warn!(
                            method = label,
                            key,
                            attempt,
                            delay_ms = delay.as_millis() as u64,
                            "retrying: {err}"
                        );
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                        continue;
                    }
                    if attempt > 1 {
                        err.message = format!("{} (gave up after {attempt} attempts)", err.message);
                    }
                    return Err(err);
                }
            }
        }
    }

    /// `call(sessionId, path, args)`.
    pub(super) async fn call(
        &self,
        path: &str,
        args: &[Value],
        retry: Retry,
        key: Option<&str>,
    ) -> MagentoResult<Value> {
        self.authed("call", path, key, retry, |sid| encode::call_params(sid, path, args)).await
    }

    /// Calls `path` and decodes the answer with `parse`; a decoding failure is a protocol
    /// error naming the field.
    pub(super) async fn call_parsed<T>(
        &self,
        path: &str,
        args: &[Value],
        retry: Retry,
        key: Option<&str>,
        parse: impl FnOnce(&Value) -> Result<T, value::DecodeError>,
    ) -> MagentoResult<T> {
        let v = self.call(path, args, retry, key).await?;
        parse(&v).map_err(|e| MagentoError::protocol(path, e.to_string()).with_key_if_unset(key))
    }

    /// Ends the session, if one is open. An already expired session is not an error.
    pub(super) async fn end_session(&self) -> MagentoResult<()> {
        let Some(sid) = self.session.take().await else {
            return Ok(());
        };
        match self.send("endSession", vec![value::string(sid.expose())]).await {
            Ok(_) => Ok(()),
            Err(CallError::Fault(f)) if f.code == 5 => Ok(()),
            Err(e) => Err(self.scrub(faults::from_call_error("endSession", &e), Some(&sid))),
        }
    }

    // -----------------------------------------------------------------------------------------
    // multiCall

    fn multicall_state(&self) -> u8 {
        self.multicall.load(Ordering::SeqCst)
    }

    fn mark_unsupported(&self) {
        if self.multicall.swap(MC_UNSUPPORTED, Ordering::SeqCst) != MC_UNSUPPORTED {
            tracing::warn!(
                url = self.transport.url(),
                "Magento rejects multiCall with fault 623 (OpenMage >= 20.11): using concurrent single calls from now on"
            );
        }
    }

    fn mark_supported(&self) {
        let _ = self.multicall.compare_exchange(MC_UNKNOWN, MC_SUPPORTED, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Whether batches go through `multiCall` (and are not known to be refused).
    fn multicall_wanted(&self) -> bool {
        match self.mode {
            MultiCallMode::Off => false,
            MultiCallMode::On => true,
            MultiCallMode::Auto => self.multicall_state() != MC_UNSUPPORTED,
        }
    }

    /// Tests `multiCall` with a harmless call (or reports what is already known).
    pub(super) async fn probe_multicall(&self) -> MagentoResult<BatchSupport> {
        if self.mode == MultiCallMode::Off {
            return Ok(BatchSupport::Disabled);
        }
        match self.multicall_state() {
            MC_SUPPORTED => return Ok(BatchSupport::Supported),
            MC_UNSUPPORTED => return Ok(BatchSupport::Unsupported),
            _ => {}
        }
        let calls = encode::multicall_calls([("magento.info", &[][..])]);
        match self
            .authed("multiCall", "multiCall", None, Retry::Transient, |sid| vec![value::string(sid), calls.clone()])
            .await
        {
            Ok(_) => {
                self.mark_supported();
                Ok(BatchSupport::Supported)
            }
            Err(e) if e.fault_code == Some(623) => {
                self.mark_unsupported();
                Ok(BatchSupport::Unsupported)
            }
            Err(e) => Err(e),
        }
    }

    /// Sends one chunk as a `multiCall` (the request retried per `retry`). In `auto` mode the
    /// first request is serialised so that a shop refusing `multiCall` is detected exactly once.
    async fn multicall_chunk(&self, chunk: &[BatchItem], retry: Retry) -> Multi {
        // Only the chunk that still finds the support unknown once it holds the lock keeps it;
        // chunks that waited behind it go ahead concurrently.
        let mut _detecting = None;
        if self.mode == MultiCallMode::Auto && self.multicall_state() == MC_UNKNOWN {
            let guard = self.detect.lock().await;
            if self.multicall_state() == MC_UNKNOWN {
                _detecting = Some(guard);
            }
        }
        if !self.multicall_wanted() {
            return Multi::Unsupported;
        }
        let calls = encode::multicall_calls(chunk.iter().map(|it| (it.path, it.args.as_slice())));
        let label = format!("multiCall({} x {})", chunk.len(), chunk[0].path);
        match self.authed("multiCall", &label, None, retry, |sid| vec![value::string(sid), calls.clone()]).await {
            Ok(Value::Array(results)) if results.len() == chunk.len() => {
                self.mark_supported();
                Multi::Results(results)
            }
            Ok(other) => Multi::Failed(MagentoError::protocol(
                label,
                format!("expected {} results, got {}", chunk.len(), value::describe(&other)),
            )),
            Err(e) if e.fault_code == Some(623) => match self.mode {
                MultiCallMode::Auto => {
                    self.mark_unsupported();
                    Multi::Unsupported
                }
                _ => Multi::Failed(MagentoError {
                    message: format!(
                        "{} (this shop refuses multiCall, as OpenMage >= 20.11 does: set multicall = \"auto\" or \"off\")",
                        e.message
                    ),
                    ..e
                }),
            },
            Err(e) => Multi::Failed(e),
        }
    }

    /// Runs many calls; one result per item, in input order.
    pub(super) async fn batch(&self, items: Vec<BatchItem>) -> Vec<MagentoResult<Value>> {
        let chunks: Vec<&[BatchItem]> = items.chunks(self.batch_size).collect();
        let done = join_all(chunks.iter().map(|c| self.run_chunk(c))).await;
        done.into_iter().flatten().collect()
    }

    async fn run_chunk(&self, chunk: &[BatchItem]) -> Vec<MagentoResult<Value>> {
        if chunk.len() < 2 || !self.multicall_wanted() {
            return self.singles(chunk).await;
        }
        match self.multicall_chunk(chunk, Retry::Transient).await {
            Multi::Results(values) => self.item_results(chunk, values).await,
            Multi::Unsupported => self.singles(chunk).await,
            // An answer that cannot be read as a whole (one item's data can make the document
            // undecodable, e.g. a character reference to a lone surrogate) or a request that
            // cannot be encoded: each item alone, so only the item at fault fails. Every
            // batched call may run again (reads, updates); creates look their SKU up first.
            Multi::Failed(e) if e.kind == ErrorKind::Protocol && e.fault_code.is_none() => {
                tracing::warn!(count = chunk.len(), "multiCall failed as a whole ({e}); running its items one by one");
                join_all(chunk.iter().map(|it| self.single(it, true))).await
            }
            Multi::Failed(e) => chunk.iter().map(|it| Err(e.clone().with_key(it.key.clone()))).collect(),
        }
    }

    /// Runs calls that must not run twice, in input order: chunks one after the other, each a
    /// `multiCall` when the shop takes it (Magento runs its calls in order), else single calls
    /// one at a time. A request that may have been applied (timeout, HTTP 5xx) is not sent
    /// again and a failed item is not re-run: the error is the item's result.
    pub(super) async fn batch_in_order_once(&self, items: Vec<BatchItem>) -> Vec<MagentoResult<Value>> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(self.batch_size) {
            if chunk.len() >= 2 && self.multicall_wanted() {
                match self.multicall_chunk(chunk, Retry::DeadlockOnly).await {
                    Multi::Results(values) => {
                        for (it, v) in chunk.iter().zip(values) {
                            out.push(match faults::item_fault(&v) {
                                None => Ok(v),
                                Some((code, message)) => Err(self
                                    .scrub(faults::from_fault(it.path, code, &message), None)
                                    .with_key(it.key.clone())),
                            });
                        }
                        continue;
                    }
                    Multi::Failed(e) => {
                        out.extend(chunk.iter().map(|it| Err(e.clone().with_key(it.key.clone()))));
                        continue;
                    }
                    Multi::Unsupported => {}
                }
            }
            for it in chunk {
                out.push(self.call(it.path, &it.args, Retry::DeadlockOnly, Some(&it.key)).await);
            }
        }
        out
    }

    /// Each item as its own call, concurrently (bounded by the client's limit).
    async fn singles(&self, items: &[BatchItem]) -> Vec<MagentoResult<Value>> {
        join_all(items.iter().map(|it| self.single(it, false))).await
    }

    async fn single(&self, it: &BatchItem, check_first: bool) -> MagentoResult<Value> {
        match &it.create_sku {
            Some(sku) => self.create_with_check(it.path, &it.args, sku, check_first).await,
            None => self.call(it.path, &it.args, Retry::Transient, Some(&it.key)).await,
        }
    }

    /// Per-item results of a `multiCall`. Items that failed with fault 1 (which inside a
    /// `multiCall` hides deadlocks and every other PHP exception behind one generic message)
    /// or with a transient fault are run again alone; failed creates are first looked up by
    /// SKU.
    async fn item_results(&self, chunk: &[BatchItem], values: Vec<Value>) -> Vec<MagentoResult<Value>> {
        let mut out: Vec<MagentoResult<Value>> = Vec::with_capacity(chunk.len());
        let mut rerun = Vec::new();
        let mut recover = Vec::new();
        for (i, (it, v)) in chunk.iter().zip(values).enumerate() {
            match faults::item_fault(&v) {
                None => out.push(Ok(v)),
                Some((code, message)) => {
                    let err = self.scrub(faults::from_fault(it.path, code, &message), None).with_key(it.key.clone());
                    if code == 1 || err.is_retryable() {
                        if it.create_sku.is_some() { recover.push(i) } else { rerun.push(i) }
                    }
                    out.push(Err(err));
                }
            }
        }
        if !recover.is_empty() {
            let skus: Vec<String> = recover.iter().filter_map(|&i| chunk[i].create_sku.clone()).collect();
            match self.lookup_skus(&skus).await {
                Ok(found) => {
                    for &i in &recover {
                        let sku = chunk[i].create_sku.as_deref().unwrap_or_default();
                        match found.get(&sku.to_lowercase()) {
                            Some(id) => {
                                tracing::info!(
                                    sku,
                                    id,
                                    "product exists although its create failed in a multiCall: reporting it as created"
                                );
                                out[i] = Ok(value::id(*id));
                            }
                            None => rerun.push(i),
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        "SKU lookup after failed creates did not work ({e}); retrying the creates one by one"
                    );
                    rerun.extend(recover.iter().copied());
                }
            }
        }
        if !rerun.is_empty() {
            tracing::info!(
                count = rerun.len(),
                "re-running multiCall items that failed with a possibly transient fault"
            );
            let again = join_all(rerun.iter().map(|&i| self.single(&chunk[i], false))).await;
            for (i, r) in rerun.into_iter().zip(again) {
                out[i] = r;
            }
        }
        out
    }

    // -----------------------------------------------------------------------------------------
    // Products by SKU

    /// Ids of the products with these SKUs, keyed by lowercase SKU (Magento compares SKUs
    /// case-insensitively).
    pub(super) async fn lookup_skus(&self, skus: &[String]) -> MagentoResult<HashMap<String, i64>> {
        let mut found = HashMap::new();
        for chunk in skus.chunks(encode::SKUS_PER_LIST) {
            let rows = self
                .call_parsed(
                    "catalog_product.list",
                    &encode::product_lookup(chunk),
                    Retry::Transient,
                    None,
                    parse::catalog::sku_ids,
                )
                .await?;
            found.extend(rows.into_iter().map(|(sku, id)| (sku.to_lowercase(), id)));
        }
        Ok(found)
    }

    /// Creates a product so that it never exists twice: after any failure that could hide a
    /// success (fault 1, deadlock, timeout, HTTP 5xx) the SKU is looked up first, and only
    /// retried when absent and the failure was transient.
    async fn create_with_check(
        &self,
        path: &str,
        args: &[Value],
        sku: &str,
        check_first: bool,
    ) -> MagentoResult<Value> {
        if check_first
            && let Ok(found) = self.lookup_skus(&[sku.to_owned()]).await
            && let Some(id) = found.get(&sku.to_lowercase())
        {
            return Ok(value::id(*id));
        }
        let mut attempt = 1;
        loop {
            match self.call(path, args, Retry::Never, Some(sku)).await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() || e.fault_code == Some(1) => {
                    match self.lookup_skus(&[sku.to_owned()]).await {
                        Ok(found) => {
                            if let Some(id) = found.get(&sku.to_lowercase()) {
                                tracing::info!(
                                    sku,
                                    id,
                                    "product exists although its create failed ({e}): reporting it as created"
                                );
                                return Ok(value::id(*id));
                            }
                        }
                        Err(le) if le.is_retryable() => {}
                        Err(le) => return Err(le.with_key_if_unset(Some(sku))),
                    }
                    let transient = e.is_retryable() || faults::is_generic_internal(&e);
                    if !transient || attempt >= self.backoff.attempts {
                        return Err(e);
                    }
                    let delay = self.backoff.delay(attempt);
                    tracing::warn!(
                        sku,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "product create failed, retrying: {e}"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
