//! OpenERP side of the order follow-up: reads what happened to the bound orders in a few paged
//! calls for all of them (never one call per order).
//!
//! [`headers`]: the orders (state, invoices, deliveries), then their invoices, then their
//! deliveries, each read by id in pages. [`details`]: invoice lines and done moves, only for
//! the orders whose fingerprint changed. Writes nothing.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::detect::{InvoiceDoc, OrderDocs, PickingDoc, QtyLine};
use crate::openerp::models::followup::{DELIVERY_FIELDS, Invoice, PICKING_FIELDS, PICKING_MODEL, Picking};
use crate::openerp::models::sale_orders;
use crate::openerp::{Context, Error, OpenErpClient};
use crate::rpc::value::{DecodeError, Map, Record};

/// `sale.order` fields read.
pub const ORDER_FIELDS: &[&str] = &["name", "state", "invoice_ids", "picking_ids"];

fn decode_err(model: &str, e: &DecodeError) -> Error {
    Error::decode(e).with_call(model, "read")
}

fn created(m: &Map, model: &str) -> Result<Option<DateTime<Utc>>, DecodeError> {
    Record::new(m, model).opt_datetime("create_date")
}

/// The orders `ids` with their posted customer invoices and outgoing deliveries (without
/// lines and moves), by `sale.order` id. Orders that no longer exist are absent.
pub async fn headers(client: &OpenErpClient, ids: &[i64]) -> Result<BTreeMap<i64, OrderDocs>, Error> {
    let ctx = Context::default();
    let model = sale_orders::MODEL;
    let mut orders = BTreeMap::new();
    let mut invoice_of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut picking_of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for m in client.read(model, ids, ORDER_FIELDS, &ctx).await? {
        let r = Record::new(&m, model);
        let id = r.i64("id").map_err(|e| decode_err(model, &e))?;
        let docs = OrderDocs {
            order_id: id,
            name: r.string_or_empty("name").map_err(|e| decode_err(model, &e))?,
            state: r.string_or_empty("state").map_err(|e| decode_err(model, &e))?,
            invoices: Vec::new(),
            pickings: Vec::new(),
        };
        for inv in r.ids("invoice_ids").map_err(|e| decode_err(model, &e))? {
            invoice_of.entry(inv).or_default().push(id);
        }
        for p in r.ids("picking_ids").map_err(|e| decode_err(model, &e))? {
            picking_of.entry(p).or_default().push(id);
        }
        orders.insert(id, docs);
    }

    let profile = client.profile().await?;
    let inv_model = profile.invoice_model;
    let mut fields = Invoice::fields(profile);
    fields.push("create_date");
    let inv_ids: Vec<i64> = invoice_of.keys().copied().collect();
    for m in client.read(inv_model, &inv_ids, &fields, &ctx).await? {
        let inv = Invoice::from_map(&m, profile).map_err(|e| decode_err(inv_model, &e))?;
        if inv.move_type != "out_invoice" || inv.state != profile.invoice_posted_state {
            continue;
        }
        let doc = InvoiceDoc {
            id: inv.id,
            name: inv.name.clone(),
            created: created(&m, inv_model).map_err(|e| decode_err(inv_model, &e))?,
            lines: Vec::new(),
        };
        for o in invoice_of.get(&inv.id).into_iter().flatten() {
            if let Some(docs) = orders.get_mut(o) {
                docs.invoices.push(doc.clone());
            }
        }
    }

    let known = client.fields(PICKING_MODEL).await?;
    let mut fields = PICKING_FIELDS.to_vec();
    fields.extend(DELIVERY_FIELDS.iter().filter(|f| known.contains_key(**f)));
    let pick_ids: Vec<i64> = picking_of.keys().copied().collect();
    for m in client.read(PICKING_MODEL, &pick_ids, &fields, &ctx).await? {
        let p = Picking::from_map(&m).map_err(|e| decode_err(PICKING_MODEL, &e))?;
        if p.picking_type_code.as_deref() != Some("outgoing") {
            continue;
        }
        let doc = PickingDoc {
            id: p.id,
            name: p.name.clone(),
            state: p.state.clone(),
            date_done: p.date_done,
            tracking_ref: p.carrier_tracking_ref.clone(),
            carrier: p.carrier.as_ref().map(|c| c.name.clone()),
            moves: Vec::new(),
        };
        for o in picking_of.get(&p.id).into_iter().flatten() {
            if let Some(docs) = orders.get_mut(o) {
                docs.pickings.push(doc.clone());
            }
        }
    }
    Ok(orders)
}

/// Fills the invoice lines and the done moves of `orders` (two paged searches for all of them).
pub async fn details(client: &OpenErpClient, orders: &mut [&mut OrderDocs]) -> Result<(), Error> {
    let ctx = Context::default();
    let inv_ids: BTreeSet<i64> = orders.iter().flat_map(|o| o.invoices.iter().map(|i| i.id)).collect();
    let pick_ids: BTreeSet<i64> =
        orders.iter().flat_map(|o| o.pickings.iter().filter(|p| p.state == "done").map(|p| p.id)).collect();
    let mut inv_lines: BTreeMap<i64, Vec<QtyLine>> = BTreeMap::new();
    let ids: Vec<i64> = inv_ids.into_iter().collect();
    for l in client.invoice_lines(&ids, &ctx).await? {
        if let Some(inv) = &l.invoice {
            inv_lines.entry(inv.id).or_default().push(QtyLine { sale_line_ids: l.sale_line_ids, qty: l.quantity });
        }
    }
    let mut moves: BTreeMap<i64, Vec<QtyLine>> = BTreeMap::new();
    let ids: Vec<i64> = pick_ids.into_iter().collect();
    for mv in client.picking_moves(&ids, &ctx).await? {
        if mv.state != "done" {
            continue;
        }
        if let (Some(p), Some(line)) = (&mv.picking, &mv.sale_line) {
            moves.entry(p.id).or_default().push(QtyLine { sale_line_ids: vec![line.id], qty: mv.quantity });
        }
    }
    for o in orders.iter_mut() {
        for inv in &mut o.invoices {
            inv.lines = inv_lines.get(&inv.id).cloned().unwrap_or_default();
        }
        for p in &mut o.pickings {
            p.moves = moves.get(&p.id).cloned().unwrap_or_default();
        }
    }
    Ok(())
}
