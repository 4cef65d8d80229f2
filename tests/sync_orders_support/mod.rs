//! Helpers of the order import tests: runs, and the money assertion every imported order
//! must pass (OpenERP's total equals Magento's grand total to the cent).

#![allow(dead_code)]

use magento_connector::sandbox::harness::{Harness, RunResult};
use magento_connector::sandbox::openerp::OrderView;
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{BindingKind, Outcome, RunState};
use rust_decimal::Decimal;

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub async fn run(h: &Harness, kind: JobKind, options: JobOptions) -> RunResult {
    let r = h.run(kind, options).await.unwrap();
    assert_eq!(r.run.state, RunState::Done, "run failed: {:?}\n{:#?}", r.run.error, r.records);
    r
}

pub async fn import(h: &Harness) -> RunResult {
    run(h, JobKind::OrdersImport, JobOptions::default()).await
}

pub async fn reimport(h: &Harness, ids: &[&str]) -> RunResult {
    let options = JobOptions {
        increment_ids: if ids.is_empty() { None } else { Some(ids.iter().map(|s| (*s).to_owned()).collect()) },
        ..JobOptions::default()
    };
    run(h, JobKind::OrdersReimport, options).await
}

/// OpenERP orders made for a Magento increment id.
pub fn erp_orders(h: &Harness, inc: &str) -> Vec<OrderView> {
    h.openerp().orders_by_client_ref(inc)
}

/// The one OpenERP order of `inc`, checked against Magento to the cent: total, tax, and the
/// untaxed amount (tax may differ by the rounding line's tolerance only when `rounding`).
pub fn assert_exact(h: &Harness, inc: &str) -> OrderView {
    let orders = erp_orders(h, inc);
    assert_eq!(orders.len(), 1, "{inc}: expected exactly one OpenERP order, got {orders:#?}");
    let o = orders.into_iter().next().unwrap();
    let m = h.magento().order(inc).unwrap_or_else(|| panic!("{inc} is not in Magento"));
    assert_eq!(o.amount_total, m.totals.grand_total, "{inc}: OpenERP total vs Magento grand total\n{o:#?}");
    assert_eq!(o.amount_untaxed + o.amount_tax, o.amount_total);
    assert_eq!(o.currency, m.order_currency, "{inc}: currency");
    o
}

/// Like [`assert_exact`], and the tax equals Magento's too (no rounding line).
pub fn assert_exact_tax(h: &Harness, inc: &str) -> OrderView {
    let o = assert_exact(h, inc);
    let m = h.magento().order(inc).unwrap();
    assert_eq!(o.amount_tax, m.totals.tax, "{inc}: OpenERP tax vs Magento tax\n{o:#?}");
    assert!(o.lines.iter().all(|l| l.sku.as_deref() != Some("ROUNDING")), "{inc}: unexpected rounding line");
    o
}

/// Every imported order of the run's records passes [`assert_exact`].
pub fn assert_all_created_exact(h: &Harness, r: &RunResult) -> usize {
    let created = r.with_outcome(Outcome::Created);
    for rec in &created {
        assert_exact(h, &rec.reference);
    }
    created.len()
}

pub fn outcome(r: &RunResult, inc: &str) -> Outcome {
    r.record(inc).unwrap_or_else(|| panic!("no record for {inc}: {:#?}", r.records)).outcome
}

pub fn message(r: &RunResult, inc: &str) -> String {
    r.record(inc).map(|x| x.message.clone()).unwrap_or_default()
}

pub async fn order_binding(h: &Harness, inc: &str, store: i64) -> Option<magento_connector::store::Binding> {
    h.store().bindings().find_by_magento("sandbox", BindingKind::Order, inc, store).await.unwrap()
}
