//! Sale order import (`orders.import`) and broken-order re-import (`orders.reimport`): every
//! Magento order becomes exactly the OpenERP order the customer paid (same lines, prices,
//! discounts, taxes, shipping, and total to the cent) or goes to the broken queue with the
//! reason and what to fix.
//!
//! * [`fetch`]: which orders a run looks at (store views, `updated_at` windows, cursors).
//! * [`mapping`]: Magento order → OpenERP lines (pure), [`totals`]: OpenERP's computation
//!   simulated and the rounding rule (pure), [`broken`]: reasons and hints (pure).
//! * [`customer`]: partners and addresses; [`lookup`]: batched reads; [`write`]: creates,
//!   confirmations, rollbacks; [`batch`]: one batch as units of work that fail alone.
//!
//! This driver only lists, fetches (the next batch is read from Magento while OpenERP works
//! on the current one) and moves the cursors. It touches OpenERP only through `src/openerp`,
//! Magento through `MagentoApi`, and its state through the store.

pub mod batch;
pub mod broken;
pub mod customer;
pub mod fetch;
pub mod lookup;
pub mod mapping;
pub mod totals;
pub mod write;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use self::batch::{BATCH_SIZE, Importer, Incoming, Mode};
use crate::magento::{MagentoApi, MagentoResult, Order, OrderSummary};
use crate::server::jobs::{JobError, JobKind, Summary};
use crate::store::{BindingKind, NewRecord, Outcome, RunFilter};
use crate::sync::env::JobEnv;

/// An order to read: increment id, store view (when known), `updated_at` (when listed).
type Meta = (String, Option<i64>, Option<DateTime<Utc>>);

/// Reads full orders from Magento in the background (one batched call per batch).
fn spawn_fetch(
    magento: Arc<dyn MagentoApi>,
    ids: Vec<String>,
) -> tokio::task::JoinHandle<(Vec<String>, Vec<MagentoResult<Order>>)> {
    tokio::spawn(async move {
        let orders = magento.orders(&ids).await;
        (ids, orders)
    })
}

/// Runs `batches` (increment id, store hint, `updated_at`) through `importer`, reading batch
/// n + 1 from Magento while batch n is written to OpenERP.
async fn run_batches(
    env: &JobEnv,
    importer: &mut Importer<'_>,
    batches: Vec<Vec<Meta>>,
    mode: Mode,
) -> Result<(), JobError> {
    let magento = Arc::clone(&env.peers.magento);
    let mut pending = batches.into_iter();
    let mut next = pending.next().map(|b| {
        let ids = b.iter().map(|x| x.0.clone()).collect();
        (b, spawn_fetch(Arc::clone(&magento), ids))
    });
    while let Some((meta, task)) = next.take() {
        if env.ctx.is_cancelled() {
            task.abort();
            return Err(JobError::Cancelled);
        }
        let (ids, orders) = task.await.map_err(|e| JobError::failed(format!("reading orders from Magento: {e}")))?;
        next = pending.next().map(|b| {
            let ids = b.iter().map(|x| x.0.clone()).collect();
            (b, spawn_fetch(Arc::clone(&magento), ids))
        });
        let by_id: HashMap<&str, (Option<i64>, Option<DateTime<Utc>>)> =
            meta.iter().map(|(i, s, u)| (i.as_str(), (*s, *u))).collect();
        let batch = ids
            .iter()
            .zip(orders)
            .map(|(inc, order)| {
                let (store_id, updated_at) = by_id.get(inc.as_str()).copied().unwrap_or((None, None));
                Incoming { increment_id: inc.clone(), store_id, updated_at, order }
            })
            .collect();
        if let Err(e) = importer.process(batch, mode).await {
            if let Some((_, t)) = next.take() {
                t.abort();
            }
            return Err(e);
        }
    }
    Ok(())
}

/// How often a run waits for the sibling run (import ↔ re-import) to end.
const SIBLING_POLL: Duration = Duration::from_millis(200);

/// A sibling run whose heartbeat is older than this is taken for gone.
const SIBLING_STALE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Waits until no earlier import or re-import run of this backend is active (in this process
/// or another one sharing the state file): both could otherwise create the same order at once.
/// The later run waits for the earlier, so two runs never wait for each other.
async fn wait_for_sibling(env: &JobEnv) -> Result<(), JobError> {
    let own = env.ctx.id();
    let sibling = match env.ctx.kind() {
        JobKind::OrdersReimport => JobKind::OrdersImport,
        _ => JobKind::OrdersReimport,
    };
    let mut told = false;
    loop {
        let filter = RunFilter {
            backend: Some(env.backend().to_owned()),
            kind: Some(sibling.as_str().to_owned()),
            state: None,
            limit: 20,
        };
        let now = Utc::now();
        let busy = env
            .ctx
            .store()
            .runs()
            .list(filter)
            .await?
            .into_iter()
            .find(|r| r.id < own && r.state.is_active() && r.heartbeat_at.is_none_or(|h| now - h < SIBLING_STALE));
        let Some(other) = busy else { return Ok(()) };
        if !told {
            env.ctx.info(format!("waiting for run {} ({}) to finish: both write orders", other.id, other.kind)).await;
            told = true;
        }
        env.check_cancelled()?;
        tokio::time::sleep(SIBLING_POLL).await;
    }
}

/// Imports new orders of the store views that import orders (see [`fetch`] for the window).
pub async fn import(env: &JobEnv) -> Result<Summary, JobError> {
    wait_for_sibling(env).await?;
    let opts = env.ctx.options().clone();
    let settings = &env.settings;
    let stores = fetch::stores_to_import(settings, opts.stores.as_deref());
    if stores.is_empty() {
        return Ok(Summary::new("no store view imports orders (Magento backend > Store Views)"));
    }
    let mut importer = Importer::new(env).await?;
    if let Some(named) = &opts.increment_ids {
        importer.only_stores = Some(stores.iter().map(|s| s.magento_store_id).collect());
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<String> = named.iter().filter(|i| seen.insert(i.as_str())).cloned().collect();
        env.ctx.set_total(ids.len() as u64).await?;
        let batches = ids.chunks(BATCH_SIZE).map(|c| c.iter().map(|i| (i.clone(), None, None)).collect()).collect();
        run_batches(env, &mut importer, batches, Mode::Named).await?;
        return Ok(Summary::new(importer.tally.line()));
    }
    let backend = env.backend();
    let store = env.ctx.store();
    let mut windows = Vec::new();
    let mut todo: Vec<OrderSummary> = Vec::new();
    let mut seen_again = 0u64;
    for s in &stores {
        let old = fetch::cursor(store, backend, s.magento_store_id).await?;
        let w = fetch::window(old, settings.import_overlap_minutes, opts.since);
        let filter = fetch::filter(s.magento_store_id, &w, &settings.import_statuses, settings.import_from_date);
        let headers = env.magento().list_orders(&filter).await.map_err(|e| {
            JobError::failed(format!("cannot list the orders of store view {} in Magento: {e}", s.magento_store_id))
        })?;
        let listed: Vec<DateTime<Utc>> = headers.iter().map(|h| h.updated_at).collect();
        for h in headers.into_iter().filter(|h| h.store_id == s.magento_store_id) {
            if store
                .bindings()
                .find_by_magento(backend, BindingKind::Order, &h.increment_id, h.store_id)
                .await?
                .is_some()
            {
                seen_again += 1;
            } else {
                todo.push(h);
            }
        }
        windows.push((s.magento_store_id, w, old, listed));
    }
    fetch::sort_headers(&mut todo);
    env.ctx.set_total(todo.len() as u64).await?;
    let batches = todo
        .chunks(BATCH_SIZE)
        .map(|c| c.iter().map(|h| (h.increment_id.clone(), Some(h.store_id), Some(h.updated_at))).collect())
        .collect();
    run_batches(env, &mut importer, batches, Mode::Window).await?;
    if !env.ctx.dry_run() {
        for (store_id, w, old, listed) in windows {
            let unfinished: Vec<DateTime<Utc>> =
                importer.tally.unfinished.iter().filter(|(s, _)| *s == store_id).map(|(_, at)| *at).collect();
            if let Some(next) = fetch::next_cursor(old, &listed, &unfinished)
                && w.moves_cursor
                && Some(next) != old
            {
                fetch::set_cursor(store, backend, store_id, next).await?;
            }
        }
    }
    let mut line = importer.tally.line();
    if seen_again > 0 {
        line.push_str(&format!("; {seen_again} order(s) of the overlap window were imported before"));
    }
    Ok(Summary::new(line))
}

/// Imports the broken orders again (all, or `increment_ids`), re-reading each from Magento.
pub async fn reimport(env: &JobEnv) -> Result<Summary, JobError> {
    wait_for_sibling(env).await?;
    let backend = env.backend();
    let queue = env.ctx.store().broken().list(backend, false).await?;
    let wanted = env.ctx.options().increment_ids.clone();
    let mut rows = Vec::new();
    let mut not_queued = Vec::new();
    match &wanted {
        None => rows = queue.iter().map(|b| (b.increment_id.clone(), Some(b.store_id), None)).collect(),
        Some(ids) => {
            for id in ids {
                match queue.iter().find(|b| &b.increment_id == id) {
                    Some(b) => rows.push((b.increment_id.clone(), Some(b.store_id), None)),
                    None => not_queued.push(id.clone()),
                }
            }
        }
    }
    env.ctx.set_total((rows.len() + not_queued.len()) as u64).await?;
    for id in not_queued {
        env.ctx
            .record(
                NewRecord::new("order", id.clone(), Outcome::Skipped)
                    .message("not in the broken orders (imported already, or never broken)")
                    .magento_id(id),
            )
            .await?;
        env.ctx.advance(1).await?;
    }
    if rows.is_empty() {
        return Ok(Summary::new("no broken order to re-import"));
    }
    let mut importer = Importer::new(env).await?;
    let batches = rows.chunks(BATCH_SIZE).map(<[_]>::to_vec).collect();
    run_batches(env, &mut importer, batches, Mode::Reimport).await?;
    Ok(Summary::new(importer.tally.line()))
}
