//! The OpenERP writes of the order import: the `create` values of a planned order, creating a
//! batch of orders in one call (falling back to one at a time), confirming them with their
//! Magento date, and deleting what an order left behind when a later step failed.
//!
//! Creating is not safe to repeat: after a lost answer the orders are looked up by their
//! Magento reference (`origin`) before anything is created again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use super::lookup::{self, ExistingOrder};
use super::mapping::Plan;
use crate::openerp::models::sale_orders::{NewOrder, NewOrderLine};
use crate::openerp::wire::Context;
use crate::openerp::{Error, ErrorKind, OpenErpClient};

/// Date writes in flight at once after a batch confirmation.
pub const DATE_WRITES_IN_FLIGHT: usize = 4;

/// The Magento reference of an order in OpenERP (`origin`), unique per backend and store.
pub fn origin(backend: &str, store_id: i64, increment_id: &str) -> String {
    format!("magento:{backend}:{store_id}:{increment_id}")
}

/// Header values of an order besides its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Customer.
    pub partner_id: i64,
    /// Invoice address.
    pub invoice_id: i64,
    /// Delivery address.
    pub shipping_id: i64,
    /// Magento increment id.
    pub increment_id: String,
    /// Magento reference ([`origin`]).
    pub origin: String,
    /// Magento's order date.
    pub date: DateTime<Utc>,
    /// Pricelist (the order currency).
    pub pricelist_id: i64,
    /// Payment term of the payment method.
    pub payment_term_id: Option<i64>,
    /// Company.
    pub company_id: Option<i64>,
    /// Warehouse of the store view.
    pub warehouse_id: Option<i64>,
}

/// The `create` values of a planned order: one line per planned line, in order, with its
/// sequence (1, 2, …) so created lines can be matched back to the plan.
pub fn new_order(plan: &Plan, h: &Header) -> NewOrder {
    NewOrder {
        partner_id: h.partner_id,
        partner_invoice_id: Some(h.invoice_id),
        partner_shipping_id: Some(h.shipping_id),
        client_order_ref: Some(h.increment_id.clone()),
        origin: Some(h.origin.clone()),
        date_order: Some(h.date),
        pricelist_id: Some(h.pricelist_id),
        payment_term_id: h.payment_term_id,
        company_id: h.company_id,
        warehouse_id: h.warehouse_id,
        note: None,
        lines: plan
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| NewOrderLine {
                product_id: l.product_id,
                name: Some(l.name.clone()),
                quantity: l.quantity,
                price_unit: Some(l.price_unit),
                discount: Some(l.discount),
                tax_ids: Some(l.tax.as_ref().map(|t| vec![t.id]).unwrap_or_default()),
                sequence: Some(i as i64 + 1),
            })
            .collect(),
    }
}

/// Creates `orders` (with their origins) in one call; when that call fails, looks up which
/// exist by origin and creates the others one at a time. One result per order, in order.
pub async fn create_orders(client: &OpenErpClient, orders: &[(NewOrder, String)]) -> Vec<Result<i64, Error>> {
    if orders.is_empty() {
        return Vec::new();
    }
    let ctx = Context::default();
    let all: Vec<NewOrder> = orders.iter().map(|(o, _)| o.clone()).collect();
    let first = match client.create_orders(&all, &ctx).await {
        Ok(ids) => return ids.into_iter().map(Ok).collect(),
        Err(e) => e,
    };
    if orders.len() > 1 {
        tracing::info!("creating {} orders in one call failed ({first}); one at a time", orders.len());
    }
    let origins: Vec<String> = orders.iter().map(|(_, o)| o.clone()).collect();
    let existing = match lookup::orders_by_origin(client, &origins).await {
        Ok(found) => found,
        Err(e) => return orders.iter().map(|_| Err(e.clone())).collect(),
    };
    // After a lost answer the call may still commit: creating again could duplicate, so the
    // orders not found stay for the next run (which finds them by origin, or creates them).
    let retry = first.kind() != ErrorKind::Uncertain && orders.len() > 1;
    let mut out = Vec::with_capacity(orders.len());
    for (order, origin) in orders {
        if let Some(o) = existing.get(origin) {
            out.push(Ok(o.id));
        } else if retry {
            out.push(create_one(client, order, origin).await);
        } else {
            out.push(Err(first.clone()));
        }
    }
    out
}

async fn create_one(client: &OpenErpClient, order: &NewOrder, origin: &str) -> Result<i64, Error> {
    match client.create_order(order, &Context::default()).await {
        Ok(id) => Ok(id),
        Err(e) if e.kind() == ErrorKind::Uncertain => {
            let found = lookup::orders_by_origin(client, &[origin.to_owned()]).await?;
            found.get(origin).map(|o| o.id).ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// Confirms orders (one `action_confirm` call; one at a time when it fails) and writes their
/// Magento date back (confirmation overwrites it), a few writes in flight. A lost answer is
/// checked by reading the state. One result per order, in order.
pub async fn confirm_orders(client: &OpenErpClient, orders: &[(i64, DateTime<Utc>)]) -> Vec<Result<(), Error>> {
    if orders.is_empty() {
        return Vec::new();
    }
    let ctx = Context::default();
    let ids: Vec<i64> = orders.iter().map(|(id, _)| *id).collect();
    let batch = client
        .call(crate::openerp::Request::new("sale.order", "action_confirm").on_ids(&ids).context(&ctx).idempotent(false))
        .await;
    let mut confirmed: Vec<Result<(), Error>> = match batch {
        Ok(_) => orders.iter().map(|_| Ok(())).collect(),
        Err(e) => {
            if orders.len() > 1 {
                tracing::info!("confirming {} orders in one call failed ({e}); one at a time", orders.len());
            }
            let states = match lookup::read_orders(client, &ids).await {
                Ok(s) => s,
                Err(re) => return orders.iter().map(|_| Err(re.clone())).collect(),
            };
            let mut out = Vec::with_capacity(orders.len());
            for (id, _) in orders {
                if states.get(id).is_some_and(ExistingOrder::is_confirmed) {
                    out.push(Ok(()));
                } else if orders.len() == 1 && e.kind() != ErrorKind::Uncertain {
                    out.push(Err(e.clone()));
                } else {
                    out.push(confirm_one(client, *id).await);
                }
            }
            out
        }
    };
    let dates: Vec<(usize, i64, DateTime<Utc>)> =
        orders.iter().enumerate().filter(|(i, _)| confirmed[*i].is_ok()).map(|(i, (id, d))| (i, *id, *d)).collect();
    let written: Vec<(usize, Result<(), Error>)> = futures_util::stream::iter(dates)
        .map(|(i, id, d)| async move { (i, client.set_order_date(id, d, &Context::default()).await) })
        .buffer_unordered(DATE_WRITES_IN_FLIGHT)
        .collect()
        .await;
    for (i, r) in written {
        if let Err(e) = r {
            confirmed[i] = Err(e);
        }
    }
    confirmed
}

async fn confirm_one(client: &OpenErpClient, id: i64) -> Result<(), Error> {
    let req = crate::openerp::Request::new("sale.order", "action_confirm")
        .on_ids(&[id])
        .context(&Context::default())
        .idempotent(false);
    match client.call(req).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::Uncertain => {
            let state = lookup::read_orders(client, &[id]).await?;
            if state.get(&id).is_some_and(ExistingOrder::is_confirmed) { Ok(()) } else { Err(e) }
        }
        Err(e) => Err(e),
    }
}

/// Removes what the import created for one order: the order (cancelled first when it was
/// confirmed) and the partners and addresses created only for it (children before parents).
pub async fn rollback(client: &OpenErpClient, order: Option<i64>, partners: &[i64]) -> Result<(), Error> {
    let ctx = Context::default();
    if let Some(id) = order {
        let state = lookup::read_orders(client, &[id]).await?;
        if let Some(o) = state.get(&id) {
            if o.is_confirmed() || o.state == "sent" {
                client.cancel_order(id, &ctx).await?;
            }
            client.delete_orders(&[id], &ctx).await?;
        }
    }
    if !partners.is_empty() {
        client.unlink("res.partner", partners, &ctx).await?;
    }
    Ok(())
}

/// Line ids of created orders matched to the planned lines by sequence: `plan index → line id`.
pub fn lines_by_plan_index(lines: &[(i64, i64)]) -> HashMap<usize, i64> {
    lines.iter().filter_map(|(id, seq)| usize::try_from(*seq).ok().filter(|s| *s >= 1).map(|s| (s - 1, *id))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_unique_per_backend_and_store() {
        assert_eq!(origin("shop", 2, "200000001"), "magento:shop:2:200000001");
        assert_ne!(origin("shop", 1, "100000001"), origin("other", 1, "100000001"));
    }

    #[test]
    fn lines_come_back_by_sequence() {
        let m = lines_by_plan_index(&[(51, 1), (52, 2), (60, 3), (70, 0)]);
        assert_eq!((m[&0], m[&1], m[&2]), (51, 52, 60));
        assert_eq!(m.len(), 3);
    }
}
