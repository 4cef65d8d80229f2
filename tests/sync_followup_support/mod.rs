//! Helpers of the order follow-up tests: an "imported" order (a confirmed `sale.order` in
//! the OpenERP sandbox for a Magento sandbox order, with its binding), runs, counters and
//! views.
#![allow(dead_code)]

use std::str::FromStr;

use dxr::Value;
use magento_connector::config::SANDBOX_BACKEND;
use magento_connector::rpc::value::{self, Map};
use magento_connector::sandbox::harness::{Harness, RunResult};
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{BindingKind, BindingPut, RunRecord, RunState};
use rust_decimal::Decimal;

/// Magento methods that change an order.
pub const WRITES: &[&str] = &[
    "sales_order_invoice.create",
    "sales_order_shipment.create",
    "sales_order_shipment.addTrack",
    "sales_order.addComment",
    "sales_order.cancel",
];

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn writes(h: &Harness) -> u64 {
    h.magento().knobs().count_where(|m| WRITES.contains(&m))
}

pub fn vals(pairs: Vec<(&str, Value)>) -> Map {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// An OpenERP order with the simple and configurable-parent lines of Magento order `inc`
/// (plus a shipping line), confirmed, and its order binding. Returns the `sale.order` id.
pub async fn import(h: &Harness, inc: &str) -> i64 {
    let erp = h.openerp();
    let mage = h.magento().order(inc).expect("a seeded Magento order");
    let partner = erp.create("res.partner", vals(vec![("name", value::string(format!("Buyer of {inc}")))])).unwrap();
    let parents: Vec<_> = mage.items.iter().filter(|i| i.parent_item_id.is_none()).collect();
    let mut lines = Vec::new();
    for it in &parents {
        let product = erp.product_id(&it.sku).unwrap_or_else(|| panic!("OpenERP knows {}", it.sku));
        lines.push(value::array([
            Value::Integer(0),
            Value::Integer(0),
            value::structure([
                ("product_id", value::id(product)),
                ("product_uom_qty", Value::Double(it.qty_ordered.to_string().parse().unwrap())),
                ("price_unit", Value::Double(it.price.to_string().parse().unwrap())),
            ]),
        ]));
    }
    if let Some(ship) = erp.seed_ids().shipping_product {
        lines.push(value::array([
            Value::Integer(0),
            Value::Integer(0),
            value::structure([("product_id", value::id(ship)), ("price_unit", Value::Double(5.0))]),
        ]));
    }
    let order = erp
        .create(
            "sale.order",
            vals(vec![
                ("partner_id", value::id(partner)),
                ("client_order_ref", value::string(inc)),
                ("order_line", Value::Array(lines)),
            ]),
        )
        .unwrap();
    erp.confirm_order(order).unwrap();
    let view = erp.order(order).unwrap();
    let links: Vec<serde_json::Value> = view
        .lines
        .iter()
        .filter_map(|l| {
            let item = parents.iter().find(|i| Some(&i.sku) == l.sku.as_ref())?;
            Some(serde_json::json!({"line_id": l.id, "item_id": item.id, "sku": item.sku, "qty": l.qty.to_string()}))
        })
        .collect();
    assert_eq!(links.len(), parents.len());
    h.store()
        .bindings()
        .put(
            BindingPut::new(SANDBOX_BACKEND, BindingKind::Order, order, inc)
                .store(mage.store_id)
                .extra(serde_json::json!({"lines": links, "state": "sale"})),
        )
        .await
        .unwrap();
    order
}

pub async fn follow(h: &Harness) -> RunResult {
    follow_with(h, JobOptions::default()).await
}

pub async fn follow_with(h: &Harness, options: JobOptions) -> RunResult {
    let r = h.run(JobKind::OrderStatus, options).await.unwrap();
    assert_eq!(r.run.state, RunState::Done, "run failed: {:?}", r.run.error);
    r
}

pub fn of_kind<'a>(r: &'a RunResult, kind: &str, inc: &str) -> Vec<&'a RunRecord> {
    r.records.iter().filter(|x| x.kind == kind && x.reference == inc).collect()
}

/// Magento item id of the parent row with this SKU.
pub fn item(h: &Harness, inc: &str, sku: &str) -> i64 {
    h.magento().order(inc).unwrap().items.iter().find(|i| i.parent_item_id.is_none() && i.sku == sku).unwrap().id
}

pub fn line(h: &Harness, order: i64, sku: &str) -> i64 {
    h.openerp().order(order).unwrap().lines.iter().find(|l| l.sku.as_deref() == Some(sku)).unwrap().id
}

pub fn comments(h: &Harness, inc: &str) -> Vec<(String, String)> {
    h.magento()
        .order(inc)
        .unwrap()
        .history
        .iter()
        .filter_map(|e| Some((e.status.clone(), e.comment.clone()?)))
        .collect()
}

/// The outgoing delivery of an order that is still open.
pub fn open_delivery(h: &Harness, order: i64) -> i64 {
    let erp = h.openerp();
    let ids = erp.order(order).unwrap().picking_ids;
    *ids.iter()
        .find(|p| {
            let row = erp.read("stock.picking", **p, &["state"]).unwrap().unwrap();
            !matches!(row.get("state"), Some(Value::String(s)) if s == "done" || s == "cancel")
        })
        .expect("an open delivery")
}
