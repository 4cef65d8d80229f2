//! Order follow-up (`orders.export_status`, CLI `run order-status`): what happens to imported
//! orders in OpenERP is reflected in Magento, each event once.
//!
//! Events, per order, in this order: **confirmed** (state `sale`) → a status comment;
//! each posted customer **invoice** → `create_invoice` with its quantities per Magento item,
//! then a comment; each done outgoing **delivery** → `create_shipment` with its quantities,
//! `add_track` for each tracking number of its carrier reference, then a comment (`shipped`
//! when nothing is left to deliver, `partially_shipped` otherwise); **cancelled** →
//! `cancel_order`, then a comment. Comments use the backend's status mapping (Magento status,
//! text with `{name}` = order number, `{document}` = invoice or delivery, `{tracking}`,
//! notify); an event without mapping sends no comment.
//!
//! # Once per event
//! Every event has a stable key in the state store (`store.events()`): `confirmed`,
//! `invoice:<id>`, `invoiced:<id>`, `picking:<id>`, `picking:<id>:track:<number>`,
//! `shipped:<picking id>`, `cancel`, `cancelled`. It is written `pending` just before its call
//! and `sent` (with Magento's invoice/shipment number) or `done` (already in Magento, or
//! nothing to send) after. A refusal leaves it `pending` with Magento's reason, retried on the
//! next run; a tracking number whose shipment exists is retried alone. A `pending` event whose
//! last call may have reached Magento (process stopped, timeout) is first looked for in Magento
//! (invoiced quantities, the shipment carrying the delivery's note, the tracks of the shipment,
//! history comments, state) and only sent when absent. The same check runs within the run when
//! Magento answers any of these calls with a deadlock fault (Magento may raise it after
//! committing), before each of [`SEND_ATTEMPTS`] attempts; the client never re-sends them blindly. A delivery already
//! shipped in Magento by hand (no note) gets its tracking numbers reported as failed, to add by
//! hand.
//!
//! # Cost
//! The OpenERP side of all bound orders is read in a few paged calls ([`read`]). Per order,
//! a fingerprint of its state and documents is kept (event key `fingerprint`): an order whose
//! fingerprint did not change and that has no pending event costs no further call at all.
//!
//! # Scope
//! Order bindings of this backend only; orders still in the broken-order queue are left out;
//! invoices created and deliveries validated before the binding was written (with a margin,
//! [`detect::IMPORT_MARGIN_MINUTES`]) are recorded as done without being sent. Carrier codes:
//! `ups`, `usps`, `fedex`, `dhlint` when the OpenERP carrier's name says so, else `custom`
//! (and `custom` again when Magento refuses the code). Quantities are taken as they are on
//! the invoice lines and moves (units of measure are not converted).
//!
//! Submodules: [`detect`] (pure: documents → events), [`read`] (OpenERP reads), [`send`]
//! (Magento calls and what their refusals mean). This module owns the order of events, the
//! state store rows and the run's report; it never writes to OpenERP.

pub mod detect;
pub mod read;
pub mod send;

use std::collections::{BTreeSet, HashMap, HashSet};

use futures_util::stream::{self, StreamExt};
use rust_decimal::Decimal;

use self::detect::{Action, DetectContext, Event, FINGERPRINT_KEY, IN_FLIGHT, OrderDocs, Prior, UNCONFIRMED};
use self::send::{Document, MagentoView, Sent};
use crate::magento::types::{ItemQuantities, ShipmentInfo};
use crate::server::jobs::{JobError, Summary};
use crate::store::{Binding, BindingKind, EventKey, EventKind, EventState, NewRecord, Outcome, SentEvent};
use crate::sync::env::JobEnv;

/// Orders followed up at once (each order's events stay in sequence; the Magento client
/// bounds the requests in flight).
pub const CONCURRENCY: usize = 4;

/// Counts of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    sent: u64,
    done: u64,
    failed: u64,
    planned: u64,
}

impl Tally {
    fn add(&mut self, o: Tally) {
        self.sent += o.sent;
        self.done += o.done;
        self.failed += o.failed;
        self.planned += o.planned;
    }
}

/// One order to look at.
struct Work {
    binding: Binding,
    stored: Vec<SentEvent>,
    old_fingerprint: Option<String>,
    fingerprint: String,
}

/// Runs the follow-up.
pub async fn run(env: &JobEnv) -> Result<Summary, JobError> {
    let store = env.ctx.store();
    let backend = env.backend().to_owned();
    let wanted = env.ctx.options().increment_ids.clone();
    let bindings = store.bindings().list(&backend, BindingKind::Order).await?;
    let broken: HashSet<String> =
        store.broken().list(&backend, false).await?.into_iter().map(|b| b.increment_id).collect();

    let mut scope = Vec::new();
    let mut in_queue = 0usize;
    for b in bindings {
        if wanted.as_ref().is_some_and(|w| !w.contains(&b.magento_id)) {
            continue;
        }
        if broken.contains(&b.magento_id) {
            in_queue += 1;
            continue;
        }
        scope.push(b);
    }
    if let Some(w) = &wanted {
        let bound: HashSet<&str> = scope.iter().map(|b| b.magento_id.as_str()).collect();
        for inc in w.iter().filter(|i| !bound.contains(i.as_str())) {
            let why = if broken.contains(inc) {
                "still in the broken-order queue: re-import it first"
            } else {
                "not an order imported for this backend"
            };
            env.ctx.record(NewRecord::new("order", inc.clone(), Outcome::Skipped).message(why)).await?;
        }
    }
    env.ctx.set_total(scope.len() as u64).await?;
    if scope.is_empty() {
        let why = if in_queue > 0 { format!(" ({in_queue} in the broken-order queue)") } else { String::new() };
        return Ok(Summary::new(format!("no imported order to follow up{why}: nothing to send")));
    }

    let ids: Vec<i64> = scope.iter().map(|b| b.openerp_id).collect::<BTreeSet<_>>().into_iter().collect();
    let mut docs = read::headers(env.openerp(), &ids)
        .await
        .map_err(|e| JobError::failed(format!("cannot read the imported orders in OpenERP: {e}")))?;
    env.check_cancelled()?;

    let mut work = Vec::new();
    let mut unchanged = 0u64;
    for b in scope {
        let stored = store.events().for_order(&backend, &b.magento_id).await?;
        let fingerprint = detect::fingerprint(docs.get(&b.openerp_id));
        let old_fingerprint =
            stored.iter().find(|e| e.kind == EventKind::Status && e.key == FINGERPRINT_KEY).map(|e| e.message.clone());
        let pending = stored.iter().any(|e| e.state == EventState::Pending);
        if old_fingerprint.as_deref() == Some(fingerprint.as_str()) && !pending {
            unchanged += 1;
            continue;
        }
        work.push(Work { binding: b, stored, old_fingerprint, fingerprint });
    }
    env.ctx.advance(unchanged).await?;
    env.ctx.count_unreported(Outcome::Skipped, unchanged).await?;
    let changed: BTreeSet<i64> = work.iter().map(|w| w.binding.openerp_id).collect();
    {
        let mut refs: Vec<&mut OrderDocs> =
            docs.iter_mut().filter(|(id, _)| changed.contains(id)).map(|(_, d)| d).collect();
        read::details(env.openerp(), &mut refs)
            .await
            .map_err(|e| JobError::failed(format!("cannot read the invoices and deliveries in OpenERP: {e}")))?;
    }
    env.check_cancelled()?;

    let n_changed = work.len();
    let docs = &docs;
    let results: Vec<Result<Tally, JobError>> = stream::iter(work)
        .map(|w| {
            let d = docs.get(&w.binding.openerp_id);
            follow_order(env, w, d)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut tally = Tally::default();
    for r in results {
        tally.add(r?);
    }
    let mut text =
        format!("{} imported order(s): {unchanged} unchanged, {n_changed} looked at", unchanged + n_changed as u64);
    if env.ctx.dry_run() {
        text.push_str(&format!("; {} event(s) would be sent", tally.planned));
    } else {
        text.push_str(&format!(
            "; {} event(s) sent, {} already done or with nothing to send, {} pending (retried on the next run)",
            tally.sent, tally.done, tally.failed
        ));
    }
    if in_queue > 0 {
        text.push_str(&format!("; {in_queue} order(s) in the broken-order queue left out"));
    }
    Ok(Summary::new(text))
}

/// Where a document stands for the events that depend on it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dep {
    /// In Magento (with its number when known).
    Present(Option<String>),
    /// Will never be in Magento (the reason).
    Skipped(String),
    /// Would be sent (dry run).
    Planned,
}

/// One order's follow-up: its events, their rows and its report.
struct OrderRun<'a> {
    env: &'a JobEnv,
    inc: String,
    view: Option<MagentoView>,
    tally: Tally,
}

impl OrderRun<'_> {
    fn key(&self, ev: &Event) -> EventKey {
        EventKey::new(self.env.backend(), &self.inc, ev.kind, &ev.key)
    }

    async fn mark(
        &self,
        ev: &Event,
        state: EventState,
        magento_ref: Option<&str>,
        message: &str,
    ) -> Result<(), JobError> {
        self.env.ctx.store().events().mark(&self.key(ev), state, magento_ref, message).await?;
        Ok(())
    }

    async fn record(
        &mut self,
        ev: &Event,
        outcome: Outcome,
        message: String,
        magento: Option<&str>,
    ) -> Result<(), JobError> {
        match outcome {
            Outcome::Created | Outcome::Updated => self.tally.sent += 1,
            Outcome::Skipped => self.tally.done += 1,
            Outcome::Failed => self.tally.failed += 1,
            Outcome::Planned => self.tally.planned += 1,
        }
        let mut rec = NewRecord::new(ev.record_kind(), self.inc.clone(), outcome).message(message);
        if let Some(id) = ev.openerp_id() {
            rec = rec.openerp_id(id);
        }
        if let Some(m) = magento {
            rec = rec.magento_id(m);
        }
        self.env.ctx.record(rec).await?;
        Ok(())
    }

    /// Stores the fingerprint of the documents just processed.
    async fn mark_fingerprint(&self, fingerprint: &str) -> Result<(), JobError> {
        let key = EventKey::new(self.env.backend(), &self.inc, EventKind::Status, FINGERPRINT_KEY);
        self.env.ctx.store().events().mark(&key, EventState::Done, None, fingerprint).await?;
        Ok(())
    }

    /// The order as Magento has it now (read once, until the next write).
    async fn view(&mut self) -> Result<&MagentoView, String> {
        let v = match self.view.take() {
            Some(v) => v,
            None => MagentoView::of(&self.env.magento().order(&self.inc).await.map_err(|e| e.to_string())?),
        };
        Ok(self.view.insert(v))
    }
}

fn add_items(total: &mut ItemQuantities, items: &ItemQuantities) {
    for (i, q) in items {
        *total.entry(*i).or_insert(Decimal::ZERO) += *q;
    }
}

/// Follows up one order whose documents changed or that has pending events.
async fn follow_order(env: &JobEnv, w: Work, docs: Option<&OrderDocs>) -> Result<Tally, JobError> {
    let dry = env.ctx.dry_run();
    let inc = w.binding.magento_id.clone();
    let mut run = OrderRun { env, inc: inc.clone(), view: None, tally: Tally::default() };
    let Some(docs) = docs else {
        if !dry {
            let msg = format!("sale.order {} no longer exists in OpenERP: nothing to send", w.binding.openerp_id);
            env.ctx.record(NewRecord::new("order", inc.clone(), Outcome::Skipped).message(msg)).await?;
            run.mark_fingerprint(&w.fingerprint).await?;
            run.tally.done += 1;
        }
        env.ctx.advance(1).await?;
        return Ok(run.tally);
    };
    let links = match detect::line_links(&w.binding.extra) {
        Ok(l) => l,
        Err(e) => {
            let msg = format!("{e}; the order import writes these links: re-import the order to repair its binding");
            env.ctx
                .record(NewRecord::new("order", inc.clone(), Outcome::Failed).message(msg).openerp_id(docs.order_id))
                .await?;
            env.ctx.advance(1).await?;
            run.tally.failed += 1;
            return Ok(run.tally);
        }
    };
    let cx = DetectContext { links: &links, imported_at: w.binding.created_at, mappings: &env.settings.status_map };
    let events = detect::detect(docs, &cx);
    let stored: HashMap<String, SentEvent> =
        w.stored.into_iter().filter(|e| e.key != FINGERPRINT_KEY).map(|e| (e.key.clone(), e)).collect();

    let keys: HashSet<&str> = events.iter().map(|e| e.key.as_str()).collect();
    for row in stored.values().filter(|r| r.state == EventState::Pending && !keys.contains(r.key.as_str())) {
        if dry {
            continue;
        }
        let msg = format!(
            "no longer applies: the OpenERP order or its document changed before it was sent (last attempt: {})",
            row.message
        );
        let key = EventKey::new(env.backend(), &inc, row.kind, &row.key);
        env.ctx.store().events().mark(&key, EventState::Done, None, &msg).await?;
        env.ctx.record(NewRecord::new(row.kind.as_str(), inc.clone(), Outcome::Skipped).message(msg)).await?;
        run.tally.done += 1;
    }

    let mut invoiced = ItemQuantities::new();
    let mut shipped = ItemQuantities::new();
    let mut deps: HashMap<String, Dep> = HashMap::new();
    for ev in &events {
        if let Some(row) = stored.get(&ev.key).filter(|r| r.state != EventState::Pending) {
            deps.insert(ev.key.clone(), Dep::Present(row.magento_ref.clone()));
            match &ev.action {
                Action::Invoice { items, .. } => add_items(&mut invoiced, items),
                Action::Shipment { items, .. } => add_items(&mut shipped, items),
                _ => {}
            }
        }
    }

    let mut complete = true;
    for ev in &events {
        env.check_cancelled()?;
        let prior = detect::classify_prior(stored.get(&ev.key));
        if prior == Prior::Finished {
            continue;
        }
        let mut shipment_ref = None;
        if let Some(after) = &ev.after {
            match deps.get(after) {
                None => {
                    complete = false;
                    continue;
                }
                Some(Dep::Skipped(reason)) => {
                    if !dry {
                        let msg = format!("not sent: its document was not sent ({reason})");
                        run.mark(ev, EventState::Done, None, &msg).await?;
                        deps.insert(ev.key.clone(), Dep::Skipped(msg.clone()));
                        run.record(ev, Outcome::Skipped, format!("{}: {msg}", ev.describe()), None).await?;
                    }
                    continue;
                }
                Some(Dep::Planned) => {}
                Some(Dep::Present(r)) => {
                    shipment_ref = r.clone();
                    if matches!(ev.action, Action::Track { .. }) && r.is_none() {
                        let msg = "not added: the delivery was already shipped in Magento (without this connector's \
                                   note), so its shipment is unknown; add the tracking number in Magento by hand";
                        if !dry {
                            run.mark(ev, EventState::Done, None, msg).await?;
                            run.record(ev, Outcome::Failed, format!("{}: {msg}", ev.describe()), None).await?;
                        }
                        continue;
                    }
                }
            }
        }
        if let Some(reason) = &ev.noop {
            if !dry {
                run.mark(ev, EventState::Done, None, reason).await?;
                run.record(ev, Outcome::Skipped, format!("{}: {reason}", ev.describe()), None).await?;
            }
            deps.insert(ev.key.clone(), Dep::Skipped(reason.clone()));
            continue;
        }
        if dry {
            let how = if prior == Prior::Uncertain { "would check Magento, then send" } else { "would send" };
            run.record(ev, Outcome::Planned, format!("{how} {}", ev.describe()), None).await?;
            deps.insert(ev.key.clone(), Dep::Planned);
            continue;
        }
        let found = if prior == Prior::Uncertain {
            match presence(&mut run, ev, &invoiced, &shipped, shipment_ref.as_deref()).await {
                Ok(Presence::Present(r)) => Some(r.or_else(|| stored.get(&ev.key).and_then(|r| r.magento_ref.clone()))),
                Ok(Presence::Absent) => None,
                Err(e) => {
                    let msg =
                        format!("{UNCONFIRMED}cannot check in Magento whether the last attempt went through: {e}");
                    run.mark(ev, EventState::Pending, None, &msg).await?;
                    run.record(ev, Outcome::Failed, format!("{}: {msg}; retried on the next run", ev.describe()), None)
                        .await?;
                    complete = false;
                    continue;
                }
            }
        } else {
            None
        };
        let result = match found {
            Some(r) => Ok(Sent::Found(r)),
            None => send_checked(&mut run, ev, shipment_ref.as_deref(), &invoiced, &shipped).await?,
        };
        match result {
            Ok(Sent::Created(r)) => {
                let msg = format!("sent {}: Magento {} {r}", ev.describe(), magento_noun(ev));
                run.mark(ev, EventState::Sent, Some(&r), &msg).await?;
                run.record(ev, Outcome::Created, msg, Some(&r)).await?;
                note_present(ev, &mut invoiced, &mut shipped);
                deps.insert(ev.key.clone(), Dep::Present(Some(r)));
            }
            Ok(Sent::Applied) => {
                let msg = format!("sent {}", ev.describe());
                run.mark(ev, EventState::Sent, None, &msg).await?;
                run.record(ev, Outcome::Updated, msg, None).await?;
                deps.insert(ev.key.clone(), Dep::Present(None));
            }
            Ok(Sent::Found(r)) => {
                let msg = "found in Magento: the earlier attempt went through";
                run.mark(ev, EventState::Done, r.as_deref(), msg).await?;
                run.record(ev, Outcome::Skipped, format!("{}: {msg}", ev.describe()), r.as_deref()).await?;
                note_present(ev, &mut invoiced, &mut shipped);
                deps.insert(ev.key.clone(), Dep::Present(r));
            }
            Ok(Sent::AlreadyDone(why)) => {
                let mut r = stored.get(&ev.key).and_then(|r| r.magento_ref.clone());
                if let (None, Action::Shipment { name, .. }) = (&r, &ev.action) {
                    r = find_shipment(&run, name).await.ok().flatten().map(|s| s.increment_id);
                }
                run.mark(ev, EventState::Done, r.as_deref(), &why).await?;
                run.record(ev, Outcome::Skipped, format!("{}: {why}", ev.describe()), r.as_deref()).await?;
                note_present(ev, &mut invoiced, &mut shipped);
                deps.insert(ev.key.clone(), Dep::Present(r));
            }
            Ok(Sent::Impossible(why)) => {
                run.mark(ev, EventState::Done, None, &why).await?;
                run.record(ev, Outcome::Failed, format!("{}: {why}", ev.describe()), None).await?;
                deps.insert(ev.key.clone(), Dep::Skipped(why));
            }
            Err(f) => {
                let stored_msg = if f.uncertain { format!("{UNCONFIRMED}{}", f.message) } else { f.message.clone() };
                run.mark(ev, EventState::Pending, None, &stored_msg).await?;
                run.record(
                    ev,
                    Outcome::Failed,
                    format!("{}: {}; retried on the next run", ev.describe(), f.message),
                    None,
                )
                .await?;
                complete = false;
                if f.auth {
                    return Err(JobError::failed(format!("Magento refused the API user: {}", f.message)));
                }
            }
        }
    }
    if !dry && complete && w.old_fingerprint.as_deref() != Some(w.fingerprint.as_str()) {
        run.mark_fingerprint(&w.fingerprint).await?;
    }
    env.ctx.advance(1).await?;
    Ok(run.tally)
}

fn magento_noun(ev: &Event) -> &'static str {
    match ev.action {
        Action::Invoice { .. } => "invoice",
        Action::Shipment { .. } => "shipment",
        Action::Track { .. } => "track",
        Action::Comment { .. } | Action::Cancel => "reference",
    }
}

fn note_present(ev: &Event, invoiced: &mut ItemQuantities, shipped: &mut ItemQuantities) {
    match &ev.action {
        Action::Invoice { items, .. } => add_items(invoiced, items),
        Action::Shipment { items, .. } => add_items(shipped, items),
        _ => {}
    }
}

/// Attempts at an event within one run when Magento answers with a deadlock fault (the write
/// may be done anyway: it is looked for before each new attempt).
pub const SEND_ATTEMPTS: u32 = 3;

/// Marks the event in flight and sends it. An event refused with a transient fault (a
/// deadlock, which Magento may raise after committing the invoice, shipment, tracking number,
/// comment or cancellation) is looked for in Magento and sent again only when absent, up to
/// [`SEND_ATTEMPTS`] times.
async fn send_checked(
    run: &mut OrderRun<'_>,
    ev: &Event,
    shipment_ref: Option<&str>,
    invoiced: &ItemQuantities,
    shipped: &ItemQuantities,
) -> Result<Result<Sent, send::Failure>, JobError> {
    run.mark(ev, EventState::Pending, None, IN_FLIGHT).await?;
    let mut attempt = 1;
    loop {
        let r = send::send(run.env.magento(), &run.inc, &ev.action, shipment_ref).await;
        run.view = None;
        let answered_transient = matches!(&r, Err(f) if f.uncertain && f.answered);
        if !(answered_transient && attempt < SEND_ATTEMPTS) {
            return Ok(r);
        }
        match presence(run, ev, invoiced, shipped, shipment_ref).await {
            Ok(Presence::Present(found)) => return Ok(Ok(Sent::Found(found))),
            Ok(Presence::Absent) => {
                tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(_) => return Ok(r),
        }
    }
}

/// Whether an event is in Magento.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Presence {
    /// Not there.
    Absent,
    /// There (with its Magento number when known).
    Present(Option<String>),
}

/// The Magento shipment carrying the note of delivery `name`, if any.
async fn find_shipment(run: &OrderRun<'_>, name: &str) -> Result<Option<ShipmentInfo>, String> {
    let note = send::shipment_note(name);
    let all = run.env.magento().order_shipments(&run.inc).await.map_err(|e| e.to_string())?;
    Ok(all.into_iter().find(|s| s.comments.iter().any(|c| c == &note)))
}

/// Whether an event whose call may have reached Magento is there: an invoice by its
/// quantities on top of those already sent; a shipment by the note naming its delivery
/// (by quantities when shipments cannot be listed); a tracking number on its shipment; a
/// comment in the history; a cancellation by the order's state.
async fn presence(
    run: &mut OrderRun<'_>,
    ev: &Event,
    invoiced: &ItemQuantities,
    shipped: &ItemQuantities,
    shipment_ref: Option<&str>,
) -> Result<Presence, String> {
    let expected = |base: &ItemQuantities, items: &ItemQuantities| {
        let mut e = base.clone();
        add_items(&mut e, items);
        e.retain(|i, _| items.contains_key(i));
        e
    };
    let yes = |b: bool| if b { Presence::Present(None) } else { Presence::Absent };
    Ok(match &ev.action {
        Action::Invoice { items, .. } => {
            yes(send::quantities_present(Document::Invoice, run.view().await?, &expected(invoiced, items)))
        }
        Action::Shipment { name, items, .. } => match find_shipment(run, name).await {
            Ok(Some(s)) => Presence::Present(Some(s.increment_id)),
            Ok(None) => Presence::Absent,
            Err(e) => {
                tracing::debug!(order = %run.inc, "shipments not listed ({e}); checking quantities");
                yes(send::quantities_present(Document::Shipment, run.view().await?, &expected(shipped, items)))
            }
        },
        Action::Comment { comment, .. } => yes(send::comment_present(run.view().await?, comment)),
        Action::Cancel => yes(run.view().await?.state == "canceled"),
        Action::Track { track, .. } => match shipment_ref {
            Some(r) => {
                let all = run.env.magento().order_shipments(&run.inc).await.map_err(|e| e.to_string())?;
                yes(all.iter().any(|s| s.increment_id == r && s.tracks.contains(&track.number)))
            }
            None => Presence::Absent,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_add_up() {
        let mut t = Tally { sent: 1, ..Tally::default() };
        t.add(Tally { sent: 2, done: 1, failed: 3, planned: 4 });
        assert_eq!(t, Tally { sent: 3, done: 1, failed: 3, planned: 4 });
        let mut q = ItemQuantities::from([(1, Decimal::ONE)]);
        add_items(&mut q, &ItemQuantities::from([(1, Decimal::ONE), (2, Decimal::TWO)]));
        assert_eq!(q, ItemQuantities::from([(1, Decimal::TWO), (2, Decimal::TWO)]));
    }
}
