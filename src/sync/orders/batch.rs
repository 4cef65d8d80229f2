//! One batch of Magento orders through the import, as units of work that fail alone:
//! checks (store view, binding, status, payment method, pricelist), the plan of lines, the
//! partners, one `create` for the orders that passed, the totals check against what OpenERP
//! computed, one confirmation, the bindings and the report. Whatever fails after a write
//! removes what was written for that order and sends it to the broken queue.
//!
//! Reads are per batch, not per order or line ([`lookup`], [`customer`]); the decisions are
//! the pure functions of [`mapping`] and [`totals`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::broken::Broken;
use super::customer::{self, CustomerPlan, Who, address_binding_id};
use super::lookup::{self, ExistingOrder, RunData};
use super::mapping::{self, MapSettings, Plan};
use super::totals;
use super::write::{self, Header};
use crate::magento::{MagentoError, Order};
use crate::openerp::models::settings::StoreSettings;
use crate::openerp::{Error, ErrorKind};
use crate::server::jobs::JobError;
use crate::store::{BindingKind, BindingPut, NewRecord, Outcome, StoreError};
use crate::sync::env::JobEnv;

/// Orders fetched, planned and created together.
pub const BATCH_SIZE: usize = 50;

/// What produced the orders of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Listed in a store's window (status filter already applied by Magento).
    Window,
    /// Named by the run (`increment_ids`).
    Named,
    /// Re-import of broken orders.
    Reimport,
}

/// One order as fetched from Magento.
#[derive(Debug)]
pub struct Incoming {
    /// Increment id.
    pub increment_id: String,
    /// Store view id, when known before reading the order.
    pub store_id: Option<i64>,
    /// `updated_at` from the list (for the cursor).
    pub updated_at: Option<DateTime<Utc>>,
    /// The order, or why it could not be read.
    pub order: Result<Order, MagentoError>,
}

/// How an order ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    Imported { id: i64, name: String, confirmed: bool },
    Restored { id: i64, name: String },
    Skipped { reason: String, resolve: bool, openerp_id: Option<i64> },
    Broken(Broken),
    Failed(String),
    Planned(String),
}

/// Counts of a run, and the orders to see again (store, `updated_at`).
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Imported.
    pub imported: u64,
    /// Found in OpenERP and bound again.
    pub restored: u64,
    /// Skipped with a reason.
    pub skipped: u64,
    /// Sent to the broken queue.
    pub broken: u64,
    /// Failed for a passing reason (retried by the next run).
    pub failed: u64,
    /// Dry run: planned.
    pub planned: u64,
    /// `(store, updated_at)` of orders not finished.
    pub unfinished: Vec<(i64, DateTime<Utc>)>,
}

impl Tally {
    /// One line for the run's messages.
    pub fn line(&self) -> String {
        let mut parts = vec![
            format!("{} imported", self.imported),
            format!("{} already in OpenERP", self.restored),
            format!("{} skipped", self.skipped),
            format!("{} broken", self.broken),
            format!("{} failed (retried next run)", self.failed),
        ];
        if self.planned > 0 {
            parts.push(format!("{} planned (dry run)", self.planned));
        }
        parts.join(", ")
    }
}

struct Work {
    inc: String,
    store_id: i64,
    updated_at: Option<DateTime<Utc>>,
    order: Option<Order>,
    store: Option<StoreSettings>,
    plan: Option<Plan>,
    pricelist_id: i64,
    currency: String,
    tolerance: rust_decimal::Decimal,
    payment_term: Option<i64>,
    existing: Option<ExistingOrder>,
    customer: Option<CustomerPlan>,
    partners: Option<(i64, i64, i64)>,
    openerp_id: Option<i64>,
    name: String,
    fate: Option<Fate>,
    notes: Vec<String>,
    /// Partners and addresses created for this order alone (children first).
    owned: Vec<i64>,
}

impl Work {
    fn open(&self) -> bool {
        self.fate.is_none()
    }

    fn origin(&self, backend: &str) -> String {
        write::origin(backend, self.store_id, &self.inc)
    }
}

/// A passing failure (worth retrying as it is) rather than something to fix.
fn passing(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Transport
            | ErrorKind::Conflict
            | ErrorKind::Uncertain
            | ErrorKind::AccessDenied
            | ErrorKind::Forbidden
            | ErrorKind::UnknownDatabase
    )
}

fn failure(step: &str, e: &Error) -> Fate {
    if passing(e) {
        Fate::Failed(format!("{step}: {e}; the next run tries again"))
    } else {
        Fate::Broken(Broken::openerp_refused(step, &e.to_string()))
    }
}

fn lookup_failed(what: &str, e: impl std::fmt::Display) -> JobError {
    JobError::failed(format!("cannot {what} in OpenERP: {e}"))
}

/// Runs batches of orders for one run.
pub struct Importer<'e> {
    env: &'e JobEnv,
    data: RunData,
    /// Counts so far.
    pub tally: Tally,
    /// Store views the run is limited to (named orders of other views are skipped).
    pub only_stores: Option<Vec<i64>>,
}

impl<'e> Importer<'e> {
    /// Reads what every batch needs (taxes, pricelists, currencies).
    pub async fn new(env: &'e JobEnv) -> Result<Importer<'e>, JobError> {
        let data = RunData::load(env.openerp(), &env.settings)
            .await
            .map_err(|e| lookup_failed("read the taxes and pricelists", e))?;
        if data.taxes.is_empty() {
            env.ctx.warn("OpenERP has no active percent sale tax: taxed orders will be broken (unmapped_tax)").await;
        }
        Ok(Importer { env, data, tally: Tally::default(), only_stores: None })
    }

    /// Takes one batch through the import and reports every order of it.
    pub async fn process(&mut self, batch: Vec<Incoming>, mode: Mode) -> Result<(), JobError> {
        let mut works: Vec<Work> = Vec::with_capacity(batch.len());
        for inc in batch {
            let mut w = Work {
                inc: inc.increment_id.clone(),
                store_id: inc.store_id.unwrap_or(0),
                updated_at: inc.updated_at,
                order: None,
                store: None,
                plan: None,
                pricelist_id: 0,
                currency: String::new(),
                tolerance: self.env.settings.rounding_tolerance,
                payment_term: None,
                existing: None,
                customer: None,
                partners: None,
                openerp_id: None,
                name: String::new(),
                fate: None,
                notes: Vec::new(),
                owned: Vec::new(),
            };
            match inc.order {
                Ok(o) => {
                    w.store_id = o.store_id;
                    w.updated_at = Some(o.updated_at);
                    w.order = Some(o);
                }
                Err(e) if e.is_auth() => {
                    return Err(JobError::failed(format!(
                        "Magento refused to show order {}: {e} (the API user's role needs Sales > Order > Retrieve                          orders info)",
                        inc.increment_id
                    )));
                }
                Err(e) if e.is_retryable() => {
                    w.fate = Some(Fate::Failed(format!("Magento could not be read: {e}; the next run tries again")))
                }
                Err(e) if e.is_not_found() => {
                    w.fate = Some(Fate::Skipped {
                        reason: format!("Magento has no order {}", inc.increment_id),
                        resolve: false,
                        openerp_id: None,
                    })
                }
                Err(e) => w.fate = Some(Fate::Broken(Broken::magento_data(&e.to_string()))),
            }
            works.push(w);
        }
        self.preflight(&mut works, mode).await?;
        self.plan(&mut works).await?;
        self.find_existing(&mut works).await?;
        if self.env.ctx.dry_run() {
            self.plan_partners(&mut works).await?;
        } else {
            self.create(&mut works).await?;
            self.check_and_confirm(&mut works).await?;
            self.customers_of_existing(&mut works).await;
        }
        self.finish(works).await
    }

    async fn preflight(&mut self, works: &mut [Work], mode: Mode) -> Result<(), JobError> {
        let s = &self.env.settings;
        let store = self.env.ctx.store();
        for w in works.iter_mut().filter(|w| w.open()) {
            let Some(order) = &w.order else { continue };
            let Some(line) = s.store(order.store_id) else {
                w.fate = Some(Fate::Skipped {
                    reason: format!("store view {} is not set up on the Magento backend", order.store_id),
                    resolve: false,
                    openerp_id: None,
                });
                continue;
            };
            if self.only_stores.as_ref().is_some_and(|only| !only.contains(&order.store_id)) {
                w.fate = Some(Fate::Skipped {
                    reason: format!("store view {} is not among the run's store views", order.store_id),
                    resolve: false,
                    openerp_id: None,
                });
                continue;
            }
            if !line.import_orders {
                w.fate = Some(Fate::Skipped {
                    reason: format!("store view {} does not import orders", line.name.as_deref().unwrap_or("?")),
                    resolve: false,
                    openerp_id: None,
                });
                continue;
            }
            w.store = Some(line.clone());
            if let Some(b) =
                store.bindings().find_by_magento(self.env.backend(), BindingKind::Order, &w.inc, w.store_id).await?
            {
                w.fate = Some(Fate::Skipped {
                    reason: format!("already imported (OpenERP order #{})", b.openerp_id),
                    resolve: true,
                    openerp_id: Some(b.openerp_id),
                });
                continue;
            }
            if mode != Mode::Window && !s.import_statuses.is_empty() && !s.import_statuses.contains(&order.status) {
                w.fate = Some(Fate::Skipped {
                    reason: format!(
                        "status {:?} is not imported (backend imports {})",
                        order.status,
                        s.import_statuses.join(", ")
                    ),
                    resolve: mode == Mode::Reimport,
                    openerp_id: None,
                });
                continue;
            }
            if order.payment.method.trim().is_empty() {
                w.fate = Some(Fate::Broken(Broken::magento_data("the order has no payment method (`payment.method`)")));
                continue;
            }
            match s.payment_method(&order.payment.method) {
                None => {
                    w.fate = Some(Fate::Broken(Broken::unknown_payment(&order.payment.method)));
                    continue;
                }
                Some(p) if !p.import_orders => {
                    w.fate = Some(Fate::Skipped {
                        reason: format!("payment method {:?} is set not to import its orders", p.code),
                        resolve: mode == Mode::Reimport,
                        openerp_id: None,
                    });
                    continue;
                }
                Some(p) => w.payment_term = p.payment_term.as_ref().map(|t| t.id),
            }
            w.currency = order.currency.order.clone();
            match self.data.pricelist(line, &order.currency.order) {
                Ok(pl) => w.pricelist_id = pl.id,
                Err(why) => {
                    w.fate = Some(Fate::Broken(Broken::totals_mismatch(
                        why,
                        "set the store view's pricelist (Magento backend > Store Views) to a pricelist in the order \
                         currency, then run the broken-order re-import",
                    )))
                }
            }
        }
        Ok(())
    }

    async fn plan(&mut self, works: &mut [Work]) -> Result<(), JobError> {
        let skus: Vec<String> = works
            .iter()
            .filter(|w| w.open())
            .filter_map(|w| w.order.as_ref())
            .flat_map(|o| mapping::money_rows(o).into_iter().map(|r| r.sku))
            .collect();
        let products = lookup::products_by_sku(self.env.openerp(), &skus)
            .await
            .map_err(|e| lookup_failed("look up the products of the orders", e))?;
        let s = &self.env.settings;
        for w in works.iter_mut().filter(|w| w.open()) {
            let Some(order) = &w.order else { continue };
            let settings = MapSettings {
                shipping_product: s.shipping_product.as_ref().map(|p| p.id),
                discount_product: s.discount_product.as_ref().map(|p| p.id),
                rounding_product: s.rounding_product.as_ref().map(|p| p.id),
                tolerance: s.rounding_tolerance,
                step: self.data.step(&order.currency.order),
            };
            match mapping::plan_order(order, &products, &self.data.taxes, &settings) {
                Ok(p) => w.plan = Some(p),
                Err(b) => w.fate = Some(Fate::Broken(b)),
            }
        }
        Ok(())
    }

    async fn find_existing(&mut self, works: &mut [Work]) -> Result<(), JobError> {
        let backend = self.env.backend().to_owned();
        // Orders already in OpenERP are looked up for every order still open, and for broken
        // ones too: an order created before its binding was written is not created again.
        let origins: Vec<String> = works
            .iter()
            .filter(|w| w.order.is_some() && (w.open() || matches!(w.fate, Some(Fate::Broken(_)))))
            .map(|w| w.origin(&backend))
            .collect();
        let found = lookup::orders_by_origin(self.env.openerp(), &origins)
            .await
            .map_err(|e| lookup_failed("look up orders already imported", e))?;
        for w in works.iter_mut() {
            let Some(e) = found.get(&w.origin(&backend)) else { continue };
            if matches!(w.fate, Some(Fate::Broken(_))) && !e.is_confirmed() {
                // A draft left behind for an order that is broken now: it goes.
                if !self.env.ctx.dry_run()
                    && let Err(err) = write::rollback(self.env.openerp(), Some(e.id), &[]).await
                {
                    w.notes.push(format!("the draft {} left by an earlier run could not be deleted: {err}", e.name));
                }
                continue;
            }
            if e.is_confirmed() {
                w.fate = Some(Fate::Restored { id: e.id, name: e.name.clone() });
            }
            w.openerp_id = Some(e.id);
            w.name = e.name.clone();
            w.existing = Some(e.clone());
        }
        Ok(())
    }

    async fn resolve_partners(&mut self, works: &mut [Work]) -> Result<Option<customer::Resolution>, JobError> {
        let needing: Vec<(usize, &Order, Option<String>)> = works
            .iter()
            .enumerate()
            .filter(|(_, w)| w.open() && w.existing.is_none())
            .filter_map(|(i, w)| {
                let lang = self.data.lang(w.store.as_ref().and_then(|s| s.lang.as_deref()));
                w.order.as_ref().map(|o| (i, o, lang))
            })
            .collect();
        if needing.is_empty() {
            return Ok(None);
        }
        let res =
            customer::resolve(self.env.openerp(), self.env.ctx.store(), self.env.backend(), &mut self.data, &needing)
                .await
                .map_err(|e| lookup_failed("look up the customers", e))?;
        Ok(Some(res))
    }

    async fn plan_partners(&mut self, works: &mut [Work]) -> Result<(), JobError> {
        let res = self.resolve_partners(works).await?;
        for (i, w) in works.iter_mut().enumerate() {
            if !w.open() {
                if let Some(Fate::Restored { name, .. }) = &w.fate {
                    w.fate =
                        Some(Fate::Planned(format!("already in OpenERP as {name}: its binding would be restored")));
                }
                continue;
            }
            let Some(plan) = &w.plan else { continue };
            let money = plan.summary(&w.currency);
            if let Some(e) = &w.existing {
                w.fate = Some(Fate::Planned(format!(
                    "draft {} found in OpenERP: would be checked ({money}) and confirmed",
                    e.name
                )));
                continue;
            }
            match res.as_ref().and_then(|r| r.orders.get(&i)) {
                Some(Ok(c)) => {
                    let who = |x: Who, what: &str| match x {
                        Who::Existing(id) => format!("{what} #{id}"),
                        Who::New(_) => format!("new {what}"),
                    };
                    w.fate = Some(Fate::Planned(format!(
                        "would create the order: {money}; customer {} ({}), {}, {}",
                        who(c.partner, "partner"),
                        c.matched_by,
                        who(c.invoice, "invoice address"),
                        who(c.shipping, "delivery address")
                    )));
                }
                Some(Err(b)) => w.fate = Some(Fate::Broken(b.clone())),
                None => {}
            }
        }
        Ok(())
    }

    async fn create(&mut self, works: &mut [Work]) -> Result<(), JobError> {
        let Some(res) = self.resolve_partners(works).await? else {
            return Ok(());
        };
        let client = self.env.openerp();
        let created = if res.new_partners.is_empty() && res.new_children.is_empty() {
            customer::Created::default()
        } else {
            customer::create(client, self.env.backend(), &res)
                .await
                .map_err(|e| lookup_failed("create the customers", e))?
        };
        let backend = self.env.backend().to_owned();
        let company = self.env.settings.company.as_ref().map(|c| c.id);
        let mut batch: Vec<(usize, (crate::openerp::models::sale_orders::NewOrder, String))> = Vec::new();
        for (i, w) in works.iter_mut().enumerate() {
            if !w.open() || w.existing.is_some() {
                continue;
            }
            let Some(c) = res.orders.get(&i) else { continue };
            let c = match c {
                Ok(c) => c,
                Err(b) => {
                    w.fate = Some(Fate::Broken(b.clone()));
                    continue;
                }
            };
            if let Some(e) = created.error_for(c) {
                w.fate = Some(failure("creating the customer or its addresses", e));
                w.customer = Some(c.clone());
                continue;
            }
            let ids = (created.id(c.partner, false), created.id(c.invoice, true), created.id(c.shipping, true));
            let (Some(p), Some(inv), Some(ship)) = ids else { continue };
            // An address that is the partner itself comes back as the partner.
            let inv = if c.invoice == Who::Existing(p) { p } else { inv };
            let ship = if c.shipping == Who::Existing(p) { p } else { ship };
            w.customer = Some(c.clone());
            w.partners = Some((p, inv, ship));
            describe_customer(w, c);
            // Records created for this order alone go with it if a later step fails.
            let alone = |who: Who, child: bool| match who {
                Who::New(n) => {
                    let orders = if child { &res.new_children[n].orders } else { &res.new_partners[n].orders };
                    orders == &[i]
                }
                Who::Existing(_) => false,
            };
            for (who, id, child) in [(c.shipping, ship, true), (c.invoice, inv, true), (c.partner, p, false)] {
                if alone(who, child) && !w.owned.contains(&id) {
                    w.owned.push(id);
                }
            }
            let (Some(order), Some(plan)) = (&w.order, &w.plan) else { continue };
            let header = Header {
                partner_id: p,
                invoice_id: inv,
                shipping_id: ship,
                increment_id: order.increment_id.clone(),
                origin: write::origin(&backend, order.store_id, &order.increment_id),
                date: order.created_at,
                pricelist_id: w.pricelist_id,
                payment_term_id: w.payment_term,
                company_id: company,
                warehouse_id: w.store.as_ref().and_then(|s| s.warehouse.as_ref()).map(|x| x.id),
            };
            batch.push((i, (write::new_order(plan, &header), header.origin.clone())));
        }
        let inputs: Vec<_> = batch.iter().map(|(_, o)| o.clone()).collect();
        let results = write::create_orders(client, &inputs).await;
        for ((i, _), r) in batch.iter().zip(results) {
            match r {
                Ok(id) => works[*i].openerp_id = Some(id),
                Err(e) => works[*i].fate = Some(failure("creating the order", &e)),
            }
        }
        // Partners and addresses created only for orders that failed go now.
        self.drop_orphans(works, &res, &created).await;
        Ok(())
    }

    /// Deletes the partners and addresses this batch created whose orders all failed.
    async fn drop_orphans(&mut self, works: &mut [Work], res: &customer::Resolution, created: &customer::Created) {
        let failed = |i: &usize| {
            works.get(*i).is_some_and(|w| matches!(w.fate, Some(Fate::Broken(_))) && w.openerp_id.is_none())
        };
        let mut doomed: Vec<i64> = Vec::new();
        for (n, c) in res.new_children.iter().enumerate() {
            if let Some(Ok(id)) = created.children.get(n)
                && c.orders.iter().all(failed)
            {
                doomed.push(*id);
            }
        }
        for (n, p) in res.new_partners.iter().enumerate() {
            if let Some(Ok(id)) = created.partners.get(n)
                && p.orders.iter().all(failed)
            {
                // Its children go with it, created for these orders too.
                doomed.push(*id);
            }
        }
        if doomed.is_empty() {
            return;
        }
        if let Err(e) = self.env.openerp().unlink("res.partner", &doomed, &crate::openerp::Context::default()).await {
            tracing::warn!(partners = ?doomed, "partners created for failed orders could not be deleted: {e}");
            self.env
                .ctx
                .warn(format!("partners {doomed:?} created for orders that failed could not be deleted: {e}"))
                .await;
        }
    }

    async fn check_and_confirm(&mut self, works: &mut [Work]) -> Result<(), JobError> {
        let client = self.env.openerp();
        let ids: Vec<i64> = works.iter().filter(|w| w.open()).filter_map(|w| w.openerp_id).collect();
        if ids.is_empty() {
            return Ok(());
        }
        let read = match lookup::read_orders(client, &ids).await {
            Ok(r) => r,
            Err(e) => {
                for w in works.iter_mut().filter(|w| w.open() && w.openerp_id.is_some()) {
                    w.fate = Some(Fate::Failed(format!(
                        "reading the created order back failed: {e}; the next run continues it"
                    )));
                }
                return Ok(());
            }
        };
        let mut to_confirm: Vec<(usize, i64, DateTime<Utc>)> = Vec::new();
        for (i, w) in works.iter_mut().enumerate() {
            let (Some(id), true) = (w.openerp_id, w.open()) else { continue };
            let (Some(plan), Some(order)) = (&w.plan, &w.order) else { continue };
            let Some(o) = read.get(&id) else {
                w.fate = Some(Fate::Failed(format!("order #{id} vanished from OpenERP right after it was created")));
                continue;
            };
            w.name = o.name.clone();
            if let Err(why) = totals::check_created(&plan.expectation(w.tolerance), o.untaxed, o.tax, o.total) {
                let removed = write::rollback(client, Some(id), &w.owned).await;
                let detail = match removed {
                    Ok(()) => format!("{why}; the order was removed from OpenERP"),
                    Err(e) => format!("{why}; removing order {} failed: {e}", o.name),
                };
                w.openerp_id = None;
                w.fate = Some(Fate::Broken(Broken::totals_mismatch(
                    detail,
                    "check that OpenERP's taxes of these rates are plain percentages computed like Magento's, then run \
                     the broken-order re-import",
                )));
                continue;
            }
            if o.is_confirmed() || !self.env.settings.confirm_orders {
                w.fate = Some(Fate::Imported { id, name: o.name.clone(), confirmed: o.is_confirmed() });
            } else {
                to_confirm.push((i, id, order.created_at));
            }
        }
        let inputs: Vec<(i64, DateTime<Utc>)> = to_confirm.iter().map(|(_, id, d)| (*id, *d)).collect();
        let results = write::confirm_orders(client, &inputs).await;
        for ((i, id, _), r) in to_confirm.into_iter().zip(results) {
            let w = &mut works[i];
            match r {
                Ok(()) => w.fate = Some(Fate::Imported { id, name: w.name.clone(), confirmed: true }),
                Err(e) if passing(&e) => {
                    w.fate = Some(Fate::Failed(format!(
                        "confirming {} failed: {e}; the draft stays and the next run continues it",
                        w.name
                    )))
                }
                Err(e) => {
                    let removed = write::rollback(client, Some(id), &w.owned).await;
                    let mut b = Broken::openerp_refused(&format!("to confirm {}", w.name), &e.to_string());
                    if let Err(re) = removed {
                        b.reason.push_str(&format!("; removing the order failed: {re}"));
                    }
                    w.openerp_id = None;
                    w.fate = Some(Fate::Broken(b));
                }
            }
        }
        Ok(())
    }

    /// Orders found in OpenERP by their Magento reference (made by a run that stopped before
    /// writing its bindings) take their customer and addresses from the order itself, so their
    /// partner and address bindings are written like those of an order created now.
    async fn customers_of_existing(&mut self, works: &mut [Work]) {
        let imported = |w: &Work| matches!(w.fate, Some(Fate::Imported { .. } | Fate::Restored { .. }));
        let needing: Vec<usize> = (0..works.len())
            .filter(|i| works[*i].customer.is_none() && works[*i].existing.is_some() && imported(&works[*i]))
            .collect();
        let codes: Vec<String> = needing
            .iter()
            .filter_map(|i| works[*i].order.as_ref())
            .flat_map(|o| [o.billing_address.as_ref(), o.shipping_address.as_ref()])
            .flatten()
            .filter_map(|a| a.country_id.clone())
            .collect();
        if needing.is_empty() {
            return;
        }
        if let Err(e) = self.data.ensure_countries(self.env.openerp(), &codes).await {
            tracing::warn!("countries not read, partner bindings of orders found in OpenERP not written: {e}");
            return;
        }
        for i in needing {
            let w = &mut works[i];
            let (Some(order), Some(partners)) = (&w.order, w.existing.as_ref().and_then(|e| e.partners)) else {
                continue;
            };
            let address = |a: Option<&crate::magento::types::OrderAddress>| {
                a.and_then(|a| customer::AddressData::from_magento(a, &self.data).ok())
            };
            let billing = address(order.billing_address.as_ref().or(order.shipping_address.as_ref()));
            let shipping = if order.shipping_address.is_some() {
                address(order.shipping_address.as_ref())
            } else {
                billing.clone()
            };
            let (Some(billing), Some(shipping)) = (billing, shipping) else { continue };
            let (p, inv, ship) = partners;
            w.customer = Some(CustomerPlan {
                buyer: customer::Buyer::of(order),
                partner: Who::Existing(p),
                matched_by: "order",
                invoice: Who::Existing(inv),
                shipping: Who::Existing(ship),
                keys: (billing.key(), shipping.key()),
            });
            w.partners = Some(partners);
        }
    }

    async fn finish(&mut self, works: Vec<Work>) -> Result<(), JobError> {
        let backend = self.env.backend().to_owned();
        let store = self.env.ctx.store().clone();
        let client = self.env.openerp();
        let bound: Vec<i64> = works
            .iter()
            .filter_map(|w| match &w.fate {
                Some(Fate::Imported { id, .. } | Fate::Restored { id, .. }) => Some(*id),
                _ => None,
            })
            .collect();
        let lines = if bound.is_empty() {
            HashMap::new()
        } else {
            // Without the lines the bindings would be useless to the follow-up: stop here; the
            // next run finds these orders by their Magento reference and binds them.
            lookup::order_lines(client, &bound).await.map_err(|e| lookup_failed("read the lines of the orders", e))?
        };
        for w in works {
            let fate = w.fate.clone().unwrap_or_else(|| Fate::Failed("the order was not processed".into()));
            let mut message_tail = String::new();
            if !w.notes.is_empty() {
                message_tail = format!("; {}", w.notes.join("; "));
            }
            let (outcome, message, openerp_id) = match &fate {
                Fate::Imported { id, name, confirmed } => {
                    let plan = w.plan.as_ref();
                    if let Some(e) = self.bind(&store, &backend, &w, *id, name, *confirmed, lines.get(id)).await? {
                        message_tail.push_str(&format!("; binding not written: {e}"));
                    }
                    store.broken().resolve(&backend, &w.inc).await?;
                    self.tally.imported += 1;
                    let money = plan.map(|p| p.summary(&w.currency)).unwrap_or_default();
                    let state = if *confirmed { "confirmed" } else { "quotation" };
                    let verb = if w.existing.is_some() { "continued" } else { "created" };
                    let outcome = if w.existing.is_some() { Outcome::Updated } else { Outcome::Created };
                    (outcome, format!("{name} {verb} ({state}): {money}{message_tail}"), Some(*id))
                }
                Fate::Restored { id, name } => {
                    if let Some(e) = self.bind(&store, &backend, &w, *id, name, true, lines.get(id)).await? {
                        message_tail.push_str(&format!("; binding not written: {e}"));
                    }
                    store.broken().resolve(&backend, &w.inc).await?;
                    self.tally.restored += 1;
                    (
                        Outcome::Skipped,
                        format!("already in OpenERP as {name} (found by its Magento reference): binding restored"),
                        Some(*id),
                    )
                }
                Fate::Skipped { reason, resolve, openerp_id } => {
                    if *resolve && !self.env.ctx.dry_run() {
                        store.broken().resolve(&backend, &w.inc).await?;
                    }
                    self.tally.skipped += 1;
                    (Outcome::Skipped, format!("{reason}{message_tail}"), *openerp_id)
                }
                Fate::Broken(b) => {
                    if !self.env.ctx.dry_run() {
                        let payload = w.order.as_ref().map(|o| o.raw.clone());
                        store.broken().upsert(b.upsert(&backend, w.store_id, &w.inc, payload)).await?;
                    }
                    self.tally.broken += 1;
                    (Outcome::Failed, format!("{}{message_tail}", b.message()), None)
                }
                Fate::Failed(why) => {
                    if let Some(at) = w.updated_at {
                        self.tally.unfinished.push((w.store_id, at));
                    }
                    self.tally.failed += 1;
                    (Outcome::Failed, format!("{why}{message_tail}"), w.openerp_id)
                }
                Fate::Planned(what) => {
                    self.tally.planned += 1;
                    (Outcome::Planned, format!("{what}{message_tail}"), w.openerp_id)
                }
            };
            let mut rec = NewRecord::new("order", w.inc.clone(), outcome).message(message).magento_id(w.inc.clone());
            if let Some(id) = openerp_id {
                rec = rec.openerp_id(id);
            }
            self.env.ctx.record(rec).await?;
            self.env.ctx.advance(1).await?;
        }
        Ok(())
    }

    /// Writes the order binding (lines: OpenERP line → Magento item) and the partner and
    /// address bindings of an imported order. A binding conflict (the increment id bound to
    /// another OpenERP order: a duplicate to resolve by hand) is returned, not raised.
    #[allow(clippy::too_many_arguments)]
    async fn bind(
        &self,
        store: &crate::store::Store,
        backend: &str,
        w: &Work,
        id: i64,
        name: &str,
        confirmed: bool,
        lines: Option<&Vec<(i64, i64)>>,
    ) -> Result<Option<StoreError>, JobError> {
        let by_index = lines.map(|l| write::lines_by_plan_index(l)).unwrap_or_default();
        let items: Vec<serde_json::Value> = w
            .plan
            .as_ref()
            .map(|p| {
                p.item_lines()
                    .filter_map(|(i, item_id, sku, qty)| {
                        by_index.get(&i).map(|line| {
                            json!({"line_id": line, "item_id": item_id, "sku": sku, "qty": qty.normalize().to_string()})
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let order = w.order.as_ref();
        let extra = json!({
            "lines": items,
            "state": if confirmed { "sale" } else { "draft" },
            "name": name,
            "origin": w.origin(backend),
            "magento_status": order.map(|o| o.status.clone()),
            "currency": w.currency,
            "grand_total": order.map(|o| o.totals.grand_total.normalize().to_string()),
        });
        let put = BindingPut::new(backend, BindingKind::Order, id, w.inc.clone()).store(w.store_id).extra(extra);
        match store.bindings().put(put).await {
            Ok(_) => {}
            Err(e @ StoreError::Conflict { .. }) => return Ok(Some(e)),
            Err(e) => return Err(e.into()),
        }
        if let (Some(c), Some((p, inv, ship))) = (&w.customer, w.partners) {
            if let Some(mid) = c.buyer.binding_id() {
                let put = BindingPut::new(backend, BindingKind::Partner, p, mid.clone())
                    .extra(json!({"email": c.buyer.email, "guest": c.buyer.customer_id.is_none()}));
                if let Err(e) = store.bindings().put(put).await {
                    // Another partner holds this customer's binding: keep it, say so.
                    tracing::warn!("partner binding of {mid} not written: {e}");
                }
            }
            for (child, key) in [(inv, &c.keys.0), (ship, &c.keys.1)] {
                if child == p {
                    continue;
                }
                let put = BindingPut::new(backend, BindingKind::Address, child, address_binding_id(p, key));
                if let Err(e) = store.bindings().put(put).await {
                    tracing::warn!("address binding of partner {child} not written: {e}");
                }
            }
        }
        Ok(None)
    }
}

fn describe_customer(w: &mut Work, c: &CustomerPlan) {
    let how = match c.matched_by {
        "new" => "new customer".to_owned(),
        other => format!("customer found by {other}"),
    };
    let addr = |x: Who, what: &str| match x {
        Who::Existing(_) => format!("{what} reused"),
        Who::New(_) => format!("{what} created"),
    };
    let addresses = if c.invoice == c.shipping {
        addr(c.invoice, "invoice and delivery address")
    } else {
        format!("{}, {}", addr(c.invoice, "invoice address"), addr(c.shipping, "delivery address"))
    };
    w.notes.push(format!("{how}, {addresses}"));
}
