//! Stock export (`stock.export`, [`JobKind::Stock`](crate::server::jobs::JobKind::Stock), CLI
//! `run stock`): OpenERP quantities to the Magento stock items of the exported products.
//!
//! # What is sent
//!
//! For every product exported to Magento (a product binding), the quantity of the backend's
//! `stock_field` (`virtual_available` by default: the forecast, what is not yet promised to
//! someone else; `free_qty` or `qty_available` when chosen) goes to the product's stock item
//! as `qty` with `is_in_stock`:
//!
//! * **Warehouses.** Each Magento website has the warehouse of its store lines
//!   (`magento.backend.store.warehouse_id`). Magento 1 keeps **one** stock item per product
//!   (per-website stock needs MSI, which Magento 1 does not have), so the quantity sent is the
//!   **sum over the distinct warehouses of the websites the product is exported to**: a product
//!   on two websites served by two warehouses shows both warehouses' stock, and a warehouse
//!   shared by two websites counts once. The websites of a product are those recorded in its
//!   binding (`extra.websites`, written by the product export), else the websites of the store
//!   lines that export the catalogue. When none of those websites has a warehouse, or one of
//!   them has none, the quantity over **all warehouses** is sent (never "one warehouse + all",
//!   which would count twice).
//! * **In stock.** `is_in_stock` is true only when the quantity is positive; a negative forecast
//!   is sent as 0. Where backorders are allowed (`backorders` = `all`, or `selected` for the
//!   products in `backorder_product_ids`), the quantity is sent as it is, the item stays in
//!   stock and its Magento `backorders` is set to "allow"; when backorders are withdrawn
//!   later, the item's backorders are set back to "no". Items never given backorders keep the
//!   shop's configuration.
//! * **Only changes.** The last level sent per product (qty, flag, backorders, SKU) is in the
//!   state store ([`crate::store::StockSentLog`]); a product whose level did not change is not
//!   sent, so a run where nothing changed makes no write call. `full` sends every level.
//!   Unchanged products are counted in the summary, not reported one by one (an hourly run
//!   over 100,000 products would otherwise write 100,000 lines).
//!
//! # What is reported
//!
//! One record per product touched (`kind = "stock"`, reference = SKU): `updated` when sent,
//! `planned` in a dry run (with the difference), `failed` when Magento refused the item (not
//! recorded as sent, so the next run sends it again; the others are written and recorded) or
//! when one of its OpenERP fields cannot be read (the rest of its page goes on),
//! `skipped` for services and consumables (no stock tracking), for products not exported yet
//! (the stock job never creates products) and for products not marked for Magento.
//!
//! # How
//!
//! OpenERP products are walked page by page (exportable ones, or `options.ids`); per page the
//! quantities are read with [`OpenErpClient::stock_levels`] once per warehouse needed, the
//! changes are sent with one [`MagentoApi::update_stock`] batch (multiCall where it works,
//! concurrent single calls otherwise), and the results recorded. At most one page of OpenERP
//! rows is held, plus the product bindings. The run fails only when it cannot work at all:
//! OpenERP unreadable, settings unusable, Magento refusing the API user or unreachable.
//!
//! This module reads OpenERP, writes Magento stock items and the sent-stock log; it never
//! writes products, bindings or OpenERP.
//!
//! [`OpenErpClient::stock_levels`]: crate::openerp::OpenErpClient::stock_levels
//! [`MagentoApi::update_stock`]: crate::magento::MagentoApi::update_stock

pub mod plan;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use futures_util::future::try_join_all;
use rust_decimal::Decimal;

use self::plan::{BackorderPolicy, QtyScope, StockTarget, WarehouseMap};
use crate::magento::types::StockUpdate;
use crate::magento::{ErrorKind, MagentoError};
use crate::openerp::models::products::{ADDON_FIELD, MODEL};
use crate::openerp::models::settings::{Backorders, StockField};
use crate::openerp::models::stock::StockScope;
use crate::openerp::orm::{RowDecoder, row_or_reason};
use crate::openerp::{Context, Domain, ProductKind, Profile};
use crate::rpc::value::{self, Map, Record};
use crate::server::jobs::{JobError, Summary};
use crate::store::{BindingKind, NewRecord, Outcome, StockSentPut};
use crate::sync::env::JobEnv;

/// Kind of the run records of this job.
pub const RECORD_KIND: &str = "stock";

/// The stock item scope in the sent log (Magento 1 has one stock item per product).
pub const SCOPE: i64 = 0;

/// One OpenERP product as the stock job reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRow {
    /// `product.product` id.
    pub id: i64,
    /// Internal reference.
    pub sku: Option<String>,
    /// Storable, consumable, service, ...
    pub kind: ProductKind,
    /// The addon's flag.
    pub exportable: bool,
}

impl ProductRow {
    /// Fields read for this version.
    pub fn fields(profile: &Profile) -> Vec<&'static str> {
        let mut f = vec!["default_code", ADDON_FIELD];
        f.extend_from_slice(profile.product_type_fields());
        f
    }

    /// Decodes one row read with [`ProductRow::fields`].
    pub fn from_map(m: &Map, profile: &Profile) -> Result<Self, value::DecodeError> {
        let r = Record::new(m, MODEL);
        Ok(ProductRow {
            id: r.i64("id")?,
            sku: r.opt_string("default_code")?.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
            kind: profile.decode_product_kind(&r)?,
            exportable: r.get(ADDON_FIELD).map_or(Ok(true), |v| value::to_bool(ADDON_FIELD, v))?,
        })
    }

    /// The reference used in reports: the SKU, or the record when there is none.
    pub fn reference(&self) -> String {
        self.sku.clone().unwrap_or_else(|| format!("product.product {}", self.id))
    }
}

/// What the state store knows of an exported product.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bound {
    magento_id: String,
    sku: Option<String>,
    websites: Option<Vec<i64>>,
}

/// A bound, stock-tracked product of the current page.
#[derive(Debug, Clone)]
struct Candidate {
    id: i64,
    sku: String,
    magento_id: String,
    scope: QtyScope,
}

/// A level to send.
#[derive(Debug, Clone)]
struct Planned {
    candidate: Candidate,
    target: StockTarget,
    message: String,
}

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    sent: u64,
    planned: u64,
    unchanged: u64,
    failed: u64,
    unbound: u64,
    untracked: u64,
    other_skipped: u64,
}

impl Tally {
    fn line(&self, dry_run: bool) -> String {
        let head = if dry_run {
            format!("{} stock level(s) would be sent", self.planned)
        } else {
            format!("{} stock level(s) sent", self.sent)
        };
        format!(
            "{head}, {} unchanged, {} failed, {} not exported to Magento yet, {} without stock tracking, {} other skipped",
            self.unchanged, self.failed, self.unbound, self.untracked, self.other_skipped
        )
    }
}

fn openerp_failed(what: &str, e: &crate::openerp::Error) -> JobError {
    JobError::failed(format!("OpenERP: cannot {what}: {e}"))
}

/// Runs the stock export.
pub async fn run(env: &JobEnv) -> Result<Summary, JobError> {
    let options = env.ctx.options().clone();
    let field = env.settings.stock_field;
    let profile = env.openerp().profile().await.map_err(|e| openerp_failed("detect the version", &e))?.clone();
    if field == StockField::FreeQty && !profile.has_free_qty {
        return Err(JobError::failed(format!(
            "the backend's stock field is free_qty, which OpenERP {}.0 does not have: choose virtual_available \
             or qty_available",
            profile.major
        )));
    }
    let warehouses = WarehouseMap::from_settings(&env.settings);
    for w in warehouses.warnings() {
        env.ctx.warn(w).await;
    }
    let policy = BackorderPolicy::from_settings(&env.settings);
    let bindings = load_bindings(env).await?;
    if bindings.is_empty() {
        env.ctx.warn("no product has been exported to Magento yet: run the product export first").await;
    }
    let backorders = match env.settings.backorders {
        Backorders::None => "none".to_owned(),
        Backorders::All => "all products".to_owned(),
        Backorders::Selected => format!("{} selected product(s)", env.settings.backorder_product_ids.len()),
    };
    env.ctx
        .info(format!(
            "stock field {}, {} product(s) exported to Magento, backorders: {backorders}{}",
            field.field(),
            bindings.len(),
            if options.full { ", full: every level is sent" } else { "" }
        ))
        .await;

    let ctx = Context::default();
    let domain = match &options.ids {
        Some(ids) => Domain::new().in_ids("id", ids),
        None => Domain::new().eq(ADDON_FIELD, dxr::Value::Boolean(true)),
    };
    let total =
        env.openerp().search_count(MODEL, &domain, &ctx).await.map_err(|e| openerp_failed("count the products", &e))?;
    env.ctx.set_total(u64::try_from(total).unwrap_or(0)).await?;

    let decode_profile = profile.clone();
    // One product's unreadable value fails that product, not the page: only a row that cannot
    // even say which product it is fails the read.
    let decode: RowDecoder<Result<ProductRow, (i64, String)>> =
        Arc::new(move |m: &Map| row_or_reason(m, MODEL, ProductRow::from_map(m, &decode_profile)));
    let mut pages = env.openerp().pages_as(MODEL, &domain, &ProductRow::fields(&profile), &ctx, decode);
    let mut seen = BTreeSet::new();
    let mut tally = Tally::default();
    loop {
        env.check_cancelled()?;
        let Some(page) = pages.next_page().await.map_err(|e| openerp_failed("read the products", &e))? else {
            break;
        };
        if options.ids.is_some() {
            seen.extend(page.iter().map(|r| r.as_ref().map_or_else(|(id, _)| *id, |r| r.id)));
        }
        let n = page.len() as u64;
        let (page, unreadable): (Vec<_>, Vec<_>) = page.into_iter().partition(Result::is_ok);
        for (id, why) in unreadable.into_iter().filter_map(Result::err) {
            tally.failed += 1;
            let reference =
                bindings.get(&id).and_then(|b| b.sku.clone()).unwrap_or_else(|| format!("product.product {id}"));
            let rec = NewRecord::new(RECORD_KIND, reference, Outcome::Failed)
                .message(format!("OpenERP's data cannot be used: {why}"))
                .openerp_id(id);
            env.ctx.record(rec).await?;
        }
        let page = page.into_iter().filter_map(Result::ok).collect();
        process_page(env, page, &bindings, &warehouses, &policy, &ctx, &mut tally).await?;
        env.ctx.advance(n).await?;
    }
    let missing: Vec<i64> = options.ids.iter().flatten().filter(|id| !seen.contains(id)).copied().collect();
    if !missing.is_empty() {
        env.ctx.set_total(u64::try_from(total).unwrap_or(0) + missing.len() as u64).await?;
        env.ctx.advance(missing.len() as u64).await?;
    }
    for id in &missing {
        tally.other_skipped += 1;
        let rec = NewRecord::new(RECORD_KIND, format!("product.product {id}"), Outcome::Skipped)
            .message("not found in OpenERP (deleted or archived): nothing to send")
            .openerp_id(*id);
        env.ctx.record(rec).await?;
    }
    let line = tally.line(env.ctx.dry_run());
    env.ctx.info(&line).await;
    Ok(Summary::new(line))
}

/// Every product binding of the backend, by OpenERP id.
async fn load_bindings(env: &JobEnv) -> Result<HashMap<i64, Bound>, JobError> {
    let rows = env.ctx.store().bindings().list(env.backend(), BindingKind::Product).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for b in rows.into_iter().filter(|b| b.store_id == 0) {
        out.insert(
            b.openerp_id,
            Bound {
                sku: plan::binding_sku(&b.extra),
                websites: plan::binding_websites(&b.extra),
                magento_id: b.magento_id,
            },
        );
    }
    Ok(out)
}

/// Sorts one page into skipped products and candidates, then reads, compares and sends.
async fn process_page(
    env: &JobEnv,
    page: Vec<ProductRow>,
    bindings: &HashMap<i64, Bound>,
    warehouses: &WarehouseMap,
    policy: &BackorderPolicy,
    ctx: &Context,
    tally: &mut Tally,
) -> Result<(), JobError> {
    let mut candidates = Vec::new();
    for row in page {
        let skip = |message: String| {
            NewRecord::new(RECORD_KIND, row.reference(), Outcome::Skipped).message(message).openerp_id(row.id)
        };
        if !row.exportable {
            tally.other_skipped += 1;
            env.ctx.record(skip("not marked for Magento (Export to Magento is off)".into())).await?;
            continue;
        }
        if let Err(why) = plan::tracked(&row.kind) {
            tally.untracked += 1;
            env.ctx.record(skip(format!("{why}"))).await?;
            continue;
        }
        let Some(bound) = bindings.get(&row.id) else {
            tally.unbound += 1;
            env.ctx.record(skip("not in Magento yet (never exported): run the product export first".into())).await?;
            continue;
        };
        let Some(sku) = bound.sku.clone().or_else(|| row.sku.clone()) else {
            tally.failed += 1;
            let rec = NewRecord::new(RECORD_KIND, row.reference(), Outcome::Failed)
                .message("no SKU known for this product: set its internal reference and export it again")
                .openerp_id(row.id)
                .magento_id(bound.magento_id.clone());
            env.ctx.record(rec).await?;
            continue;
        };
        let websites = bound.websites.as_deref().unwrap_or(warehouses.default_websites());
        candidates.push(Candidate {
            id: row.id,
            sku,
            magento_id: bound.magento_id.clone(),
            scope: warehouses.scope_for(websites),
        });
    }
    if candidates.is_empty() {
        return Ok(());
    }
    let quantities = read_quantities(env, &candidates, ctx).await?;
    let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
    let previous = env.ctx.store().stock().get_many(env.backend(), &ids, SCOPE).await?;
    let full = env.ctx.options().full;
    let mut planned = Vec::new();
    let mut unchanged = 0u64;
    for c in candidates {
        let Some(qty) = quantities.get(&c.id).copied() else {
            tally.failed += 1;
            let rec = NewRecord::new(RECORD_KIND, c.sku.clone(), Outcome::Failed)
                .message(format!(
                    "OpenERP returned no {} for this product in {}; it will be tried again next run",
                    env.settings.stock_field.field(),
                    c.scope.describe()
                ))
                .openerp_id(c.id)
                .magento_id(c.magento_id.clone());
            env.ctx.record(rec).await?;
            continue;
        };
        if let Err(why) = plan::storable_qty(qty) {
            tally.failed += 1;
            let rec = NewRecord::new(RECORD_KIND, c.sku.clone(), Outcome::Failed)
                .message(why)
                .openerp_id(c.id)
                .magento_id(c.magento_id.clone());
            env.ctx.record(rec).await?;
            continue;
        }
        let prev = previous.get(&c.id);
        let target = plan::target(qty, policy.allows(c.id), prev.and_then(|p| p.backorders));
        if !full && !plan::changed(prev, &c.sku, &target) {
            tally.unchanged += 1;
            unchanged += 1;
            continue;
        }
        let message = plan::describe(prev, &target, &c.scope);
        planned.push(Planned { candidate: c, target, message });
    }
    env.ctx.count_unreported(Outcome::Skipped, unchanged).await?;
    if planned.is_empty() {
        return Ok(());
    }
    if env.ctx.dry_run() {
        for p in planned {
            tally.planned += 1;
            let rec = NewRecord::new(RECORD_KIND, p.candidate.sku, Outcome::Planned)
                .message(p.message)
                .openerp_id(p.candidate.id)
                .magento_id(p.candidate.magento_id);
            env.ctx.record(rec).await?;
        }
        return Ok(());
    }
    env.check_cancelled()?;
    send(env, planned, tally).await
}

/// The configured quantity of each candidate, summed over its warehouses. Products OpenERP did
/// not return are absent.
async fn read_quantities(
    env: &JobEnv,
    candidates: &[Candidate],
    ctx: &Context,
) -> Result<HashMap<i64, Decimal>, JobError> {
    let mut by_warehouse: BTreeMap<Option<i64>, Vec<i64>> = BTreeMap::new();
    for c in candidates {
        match &c.scope {
            QtyScope::AllWarehouses => by_warehouse.entry(None).or_default().push(c.id),
            QtyScope::Warehouses(ws) => {
                for w in ws {
                    by_warehouse.entry(Some(*w)).or_default().push(c.id);
                }
            }
        }
    }
    let field = env.settings.stock_field;
    let reads = by_warehouse.iter().map(|(warehouse, ids)| async move {
        let scope = StockScope { warehouse: *warehouse, location: None };
        let levels = env.openerp().stock_levels(ids, scope, ctx).await.map_err(|e| {
            let place = warehouse.map_or_else(|| "all warehouses".to_owned(), |w| format!("warehouse {w}"));
            openerp_failed(&format!("read the stock of {place}"), &e)
        })?;
        let per_product: HashMap<i64, Option<Decimal>> =
            levels.iter().map(|l| (l.product_id, plan::field_qty(l, field))).collect();
        Ok::<_, JobError>((*warehouse, per_product))
    });
    let read: HashMap<Option<i64>, HashMap<i64, Option<Decimal>>> = try_join_all(reads).await?.into_iter().collect();
    let level = |warehouse: Option<i64>, id: i64| read.get(&warehouse).and_then(|m| m.get(&id).copied().flatten());
    let mut out = HashMap::with_capacity(candidates.len());
    for c in candidates {
        let qty = match &c.scope {
            QtyScope::AllWarehouses => level(None, c.id),
            QtyScope::Warehouses(ws) => ws.iter().map(|w| level(Some(*w), c.id)).sum::<Option<Decimal>>(),
        };
        if let Some(q) = qty {
            out.insert(c.id, q);
        }
    }
    Ok(out)
}

/// Why a whole batch says Magento cannot be used at all, if it does.
fn fatal(errors: &[&MagentoError], batch_len: usize) -> Option<String> {
    if let Some(e) = errors.iter().find(|e| e.kind == ErrorKind::Auth) {
        return Some(format!("Magento refused the API user: {e}. Check the API user's role and key"));
    }
    let transport = errors.iter().filter(|e| e.fault_code.is_none() && e.kind != ErrorKind::NotFound).count();
    if batch_len > 0 && transport == batch_len {
        return errors.first().map(|e| format!("Magento cannot be reached: {e}"));
    }
    None
}

/// What to tell the user about one item Magento did not take.
fn failure_message(e: &MagentoError) -> String {
    if e.kind == ErrorKind::NotFound {
        return format!(
            "the product is no longer in Magento ({}): run the product export to create it again",
            e.message
        );
    }
    format!("Magento did not take the stock update: {e}. It will be sent again on the next run")
}

/// Sends the planned levels, records the ones Magento took as sent, and reports each.
async fn send(env: &JobEnv, planned: Vec<Planned>, tally: &mut Tally) -> Result<(), JobError> {
    let updates: Vec<StockUpdate> = planned
        .iter()
        .map(|p| StockUpdate {
            sku: p.candidate.sku.clone(),
            qty: Some(p.target.qty),
            is_in_stock: Some(p.target.is_in_stock),
            manage_stock: None,
            backorders: p.target.backorders,
        })
        .collect();
    let results = env.magento().update_stock(&updates).await;
    if results.len() != planned.len() {
        return Err(JobError::failed(format!(
            "Magento client answered {} results for {} stock updates",
            results.len(),
            planned.len()
        )));
    }
    let sent: Vec<StockSentPut> = planned
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_ok())
        .map(|(p, _)| StockSentPut {
            product_id: p.candidate.id,
            scope: SCOPE,
            sku: p.candidate.sku.clone(),
            qty: p.target.qty,
            is_in_stock: p.target.is_in_stock,
            backorders: p.target.backorders_code(),
        })
        .collect();
    env.ctx.store().stock().put_many(env.backend(), sent).await?;
    let errors: Vec<&MagentoError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let stop = fatal(&errors, results.len());
    for (p, r) in planned.into_iter().zip(&results) {
        let (outcome, message) = match r {
            Ok(()) => {
                tally.sent += 1;
                (Outcome::Updated, p.message)
            }
            Err(e) => {
                tally.failed += 1;
                (Outcome::Failed, failure_message(e))
            }
        };
        let rec = NewRecord::new(RECORD_KIND, p.candidate.sku, outcome)
            .message(message)
            .openerp_id(p.candidate.id)
            .magento_id(p.candidate.magento_id);
        env.ctx.record(rec).await?;
    }
    match stop {
        Some(why) => Err(JobError::failed(why)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: ErrorKind, code: Option<i32>) -> MagentoError {
        MagentoError { kind, fault_code: code, message: "x".into(), method: "m".into(), key: None }
    }

    #[test]
    fn only_rights_or_an_unreachable_shop_stop_the_run() {
        let fault = err(ErrorKind::Refused, Some(1));
        let gone = err(ErrorKind::NotFound, Some(101));
        let auth = err(ErrorKind::Auth, Some(2));
        let down = err(ErrorKind::Retryable, None);
        assert_eq!(fatal(&[&fault, &gone], 2), None);
        assert_eq!(fatal(&[], 3), None);
        assert!(fatal(&[&auth], 5).unwrap().contains("API user"));
        assert!(fatal(&[&down, &down], 2).unwrap().contains("cannot be reached"));
        assert_eq!(fatal(&[&down], 2), None, "one item lost in a batch that otherwise went through");
        assert!(failure_message(&gone).contains("product export"));
        assert!(failure_message(&fault).contains("next run"));
    }

    #[test]
    fn rows_decode_with_the_version_type_fields() {
        let p17 = Profile::odoo(17).unwrap();
        let mut m = Map::new();
        m.insert("id".into(), value::int(7));
        m.insert("default_code".into(), value::string(" SKU-7 "));
        m.insert("detailed_type".into(), value::string("consu"));
        let row = ProductRow::from_map(&m, &p17).unwrap();
        assert_eq!(row.sku.as_deref(), Some("SKU-7"));
        assert_eq!(row.kind, ProductKind::Consumable);
        assert!(row.exportable, "absent addon flag reads as the addon default");
        m.insert("default_code".into(), dxr::Value::Boolean(false));
        m.insert(ADDON_FIELD.into(), dxr::Value::Boolean(false));
        let row = ProductRow::from_map(&m, &p17).unwrap();
        assert_eq!((row.reference().as_str(), row.exportable), ("product.product 7", false));
        assert!(ProductRow::fields(&p17).contains(&"detailed_type"));
        m.remove("detailed_type");
        assert!(ProductRow::from_map(&m, &p17).is_err());
    }
}
