//! `sales_order_invoice.*` (`Mage_Sales_Model_Order_Invoice_Api`): create (full or partial by
//! `itemsQty`, paid at once as check/money order is offline), info, list, addComment.

use chrono::{DateTime, Utc};
use dxr::Value;
use rust_decimal::Decimal;

use super::super::args::Args;
use super::super::faults::{ApiError, ApiResult};
use super::super::filters::{Filter, Scalar};
use super::super::model::Shop;
use super::super::model::sales::{Amounts, Comment, Invoice, InvoiceItem, ItemAmounts, Order, OrderItem};
use super::super::php::{self, money};
use crate::rpc::value::{Map, string, structure};

/// Quantities requested per order item: `None` = everything left.
pub(crate) fn requested_qtys(v: Option<&Value>) -> Option<Vec<(i64, Decimal)>> {
    let pairs: Vec<(i64, Decimal)> = match v {
        Some(Value::Struct(m)) => {
            m.iter().filter_map(|(k, q)| Some((k.trim().parse::<i64>().ok()?, php::to_decimal_lenient(q)))).collect()
        }
        Some(Value::Array(a)) => a.iter().enumerate().map(|(i, q)| (i as i64, php::to_decimal_lenient(q))).collect(),
        _ => Vec::new(),
    };
    if pairs.is_empty() { None } else { Some(pairs) }
}

/// The quantity of each order item to process: explicit quantities (0 for unlisted items) or
/// everything left; child lines follow their parent.
pub(crate) fn plan(
    order: &Order,
    requested: Option<&[(i64, Decimal)]>,
    left: impl Fn(&OrderItem) -> Decimal,
) -> Vec<(usize, Decimal)> {
    let mut out: Vec<(usize, Decimal)> = Vec::new();
    for (idx, item) in order.items.iter().enumerate() {
        if item.dummy {
            let parent_qty = out
                .iter()
                .find(|(i, _)| Some(order.items[*i].id) == item.parent_item_id)
                .map_or(Decimal::ZERO, |(_, q)| *q);
            out.push((idx, parent_qty));
            continue;
        }
        let qty = match requested {
            None => left(item),
            Some(r) => r.iter().find(|(id, _)| *id == item.id).map_or(Decimal::ZERO, |(_, q)| (*q).max(Decimal::ZERO)),
        };
        out.push((idx, qty));
    }
    out
}

fn share(total: Decimal, done: Decimal, qty: Decimal, left: Decimal, ordered: Decimal) -> Decimal {
    if qty == left {
        total - done
    } else if ordered.is_zero() {
        Decimal::ZERO
    } else {
        php::cents(total * qty / ordered)
    }
}

fn invoice_amounts(
    item: &OrderItem,
    a: &ItemAmounts,
    done_tax: Decimal,
    done_discount: Decimal,
    qty: Decimal,
) -> ItemAmounts {
    let left = item.qty_to_invoice();
    ItemAmounts {
        price: a.price,
        original_price: a.original_price,
        row_total: php::cents(a.price * qty),
        tax: share(a.tax, done_tax, qty, left, item.qty_ordered),
        discount: share(a.discount, done_discount, qty, left, item.qty_ordered),
        price_incl_tax: a.price_incl_tax,
        row_total_incl_tax: if item.qty_ordered.is_zero() {
            Decimal::ZERO
        } else {
            php::cents(a.row_total_incl_tax * qty / item.qty_ordered)
        },
        hidden_tax: if item.qty_ordered.is_zero() {
            Decimal::ZERO
        } else {
            php::cents(a.hidden_tax * qty / item.qty_ordered)
        },
    }
}

/// `sales_order_invoice.create(orderIncrementId, itemsQty, comment, email, includeComment)`.
pub(crate) fn create(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let inc = args.string(0).unwrap_or_default();
    let order = shop.sales.order_by_increment(&inc).cloned().ok_or_else(|| ApiError::api("order_not_exists"))?;
    if !order.can_invoice() {
        return Err(ApiError::api_msg("data_invalid", "Cannot do invoice for order."));
    }
    let requested = requested_qtys(args.get(1));
    let plan = plan(&order, requested.as_deref(), OrderItem::qty_to_invoice);
    for (idx, qty) in &plan {
        let item = &order.items[*idx];
        if !item.dummy && *qty > item.qty_to_invoice() {
            return Err(ApiError::internal(format!("We found an invalid quantity to invoice item \"{}\".", item.name)));
        }
    }
    let total_qty: Decimal = plan.iter().filter(|(i, _)| !order.items[*i].dummy).map(|(_, q)| *q).sum();
    if total_qty.is_zero() {
        return Err(ApiError::internal("Cannot create an invoice without products."));
    }
    let invoice_id = shop.sales.ids.next("invoice");
    let increment_id = shop.sales.next_increment("invoice", order.store_id);
    let mut items = Vec::new();
    let mut updated = order.clone();
    let first = order.base_invoiced.is_none();
    let (mut base_totals, mut totals) = (Amounts::default(), Amounts::default());
    for (idx, qty) in plan.iter().filter(|(_, q)| !q.is_zero()) {
        let oi = &order.items[*idx];
        let base = invoice_amounts(oi, &oi.base, oi.base_invoiced.tax, oi.base_invoiced.discount, *qty);
        let amounts = invoice_amounts(oi, &oi.amounts, oi.invoiced.tax, oi.invoiced.discount, *qty);
        for (t, a) in [(&mut base_totals, &base), (&mut totals, &amounts)] {
            t.subtotal += a.row_total;
            t.discount -= a.discount;
            t.tax += a.tax;
            t.subtotal_incl_tax += a.row_total_incl_tax;
        }
        let ui = &mut updated.items[*idx];
        ui.qty_invoiced += *qty;
        ui.base_invoiced.tax += base.tax;
        ui.base_invoiced.discount += base.discount;
        ui.base_invoiced.row += base.row_total;
        ui.invoiced.tax += amounts.tax;
        ui.invoiced.discount += amounts.discount;
        ui.invoiced.row += amounts.row_total;
        ui.any_invoiced = true;
        ui.updated_at = now;
        items.push(InvoiceItem {
            id: shop.sales.ids.next("invoice_item"),
            order_item_id: oi.id,
            product_id: oi.product_id,
            sku: oi.sku.clone(),
            name: oi.name.clone(),
            qty: *qty,
            dummy: oi.dummy,
            base,
            amounts,
        });
    }
    for (t, o) in [(&mut base_totals, &order.base), (&mut totals, &order.amounts)] {
        if first {
            t.shipping = o.shipping;
            t.shipping_tax = o.shipping_tax;
            t.shipping_incl_tax = o.shipping_incl_tax;
            t.tax += o.shipping_tax;
        }
        t.grand_total = t.subtotal + t.discount + t.shipping + t.tax;
    }
    updated.base_invoiced = Some(order.base_invoiced.unwrap_or_default().add(&base_totals));
    updated.invoiced = Some(order.invoiced.unwrap_or_default().add(&totals));
    updated.invoices.push(invoice_id);
    updated.updated_at = now;
    let mut comments = Vec::new();
    let email = args.truthy(3);
    if let Some(c) = args.get(2) {
        comments.push(Comment {
            id: shop.sales.ids.next("invoice_comment"),
            comment: php::to_php_string(c),
            notified: email,
            created_at: now,
        });
    }
    let mut history_ids = Vec::new();
    for _ in 0..2 {
        history_ids.push(shop.sales.ids.next("order_status_history"));
    }
    let mut next_history = history_ids.into_iter();
    updated.check_state(&mut || next_history.next().unwrap_or_default(), "invoice", now);
    shop.sales.put_order(updated);
    shop.sales.put_invoice(Invoice {
        id: invoice_id,
        increment_id: increment_id.clone(),
        order_id: order.id,
        store_id: order.store_id,
        state: 2,
        items,
        base: base_totals,
        amounts: totals,
        total_qty,
        comments,
        email_sent: email,
        created_at: now,
        updated_at: now,
    });
    Ok(string(increment_id))
}

fn comment_row(parent: i64, c: &Comment) -> Value {
    structure([
        ("parent_id", php::int(parent)),
        ("is_customer_notified", php::int(i64::from(c.notified))),
        ("is_visible_on_front", php::int(0)),
        ("comment", string(c.comment.clone())),
        ("created_at", php::datetime_value(&c.created_at)),
        ("comment_id", php::int(c.id)),
    ])
}

fn item_row(inv: &Invoice, i: &InvoiceItem) -> Value {
    let zero = || money(Decimal::ZERO);
    let mut m = Map::new();
    let mut set = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    set("parent_id", php::int(inv.id));
    set("base_price", money(i.base.price));
    set("tax_amount", money(i.amounts.tax));
    set("base_row_total", money(i.base.row_total));
    set("discount_amount", money(i.amounts.discount));
    set("row_total", money(i.amounts.row_total));
    set("base_discount_amount", money(i.base.discount));
    set("price_incl_tax", if i.dummy { Value::Nil } else { money(i.amounts.price_incl_tax) });
    set("base_tax_amount", money(i.base.tax));
    set("base_price_incl_tax", if i.dummy { Value::Nil } else { money(i.base.price_incl_tax) });
    set("qty", money(i.qty));
    set("base_cost", Value::Nil);
    set("price", money(i.amounts.price));
    set("base_row_total_incl_tax", if i.dummy { Value::Nil } else { money(i.base.row_total_incl_tax) });
    set("row_total_incl_tax", if i.dummy { Value::Nil } else { money(i.amounts.row_total_incl_tax) });
    set("product_id", php::int(i.product_id));
    set("order_item_id", php::int(i.order_item_id));
    set("additional_data", Value::Nil);
    set("description", Value::Nil);
    set("sku", string(i.sku.clone()));
    set("name", string(i.name.clone()));
    set("hidden_tax_amount", if i.dummy { Value::Nil } else { zero() });
    set("base_hidden_tax_amount", if i.dummy { Value::Nil } else { zero() });
    for k in [
        "base_weee_tax_applied_amount",
        "base_weee_tax_applied_row_amnt",
        "base_weee_tax_applied_row_amount",
        "weee_tax_applied_amount",
        "weee_tax_applied_row_amount",
        "weee_tax_disposition",
        "weee_tax_row_disposition",
        "base_weee_tax_disposition",
        "base_weee_tax_row_disposition",
    ] {
        set(k, if i.dummy { Value::Nil } else { zero() });
    }
    set("weee_tax_applied", if i.dummy { Value::Nil } else { string("a:0:{}") });
    set("item_id", php::int(i.id));
    Value::Struct(m)
}

fn header(shop: &Shop, inv: &Invoice) -> Map {
    let order = shop.sales.order(inv.order_id);
    let mut m = Map::new();
    let mut set = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    let rate = order.map_or(Decimal::ONE, |o| o.rate);
    set("store_id", php::int(inv.store_id));
    set("base_grand_total", money(inv.base.grand_total));
    set("shipping_tax_amount", money(inv.amounts.shipping_tax));
    set("tax_amount", money(inv.amounts.tax));
    set("base_tax_amount", money(inv.base.tax));
    set("store_to_order_rate", money(rate));
    set("base_shipping_tax_amount", money(inv.base.shipping_tax));
    set("base_discount_amount", money(inv.base.discount));
    set("base_to_order_rate", money(rate));
    set("grand_total", money(inv.amounts.grand_total));
    set("shipping_amount", money(inv.amounts.shipping));
    set("subtotal_incl_tax", money(inv.amounts.subtotal_incl_tax));
    set("base_subtotal_incl_tax", money(inv.base.subtotal_incl_tax));
    set("store_to_base_rate", money(Decimal::ONE));
    set("base_shipping_amount", money(inv.base.shipping));
    set("total_qty", money(inv.total_qty));
    set("base_to_global_rate", money(Decimal::ONE));
    set("subtotal", money(inv.amounts.subtotal));
    set("base_subtotal", money(inv.base.subtotal));
    set("discount_amount", money(inv.amounts.discount));
    set("billing_address_id", php::opt_int(order.map(|o| o.billing.id)));
    set("is_used_for_refund", Value::Nil);
    set("order_id", php::int(inv.order_id));
    set("email_sent", if inv.email_sent { php::int(1) } else { Value::Nil });
    set("can_void_flag", php::int(0));
    set("state", php::int(inv.state));
    set("shipping_address_id", php::opt_int(order.and_then(|o| o.shipping.as_ref().map(|s| s.id))));
    let base_currency = order.map_or("USD".to_owned(), |o| o.base_currency.clone());
    set("store_currency_code", string(base_currency.clone()));
    set("transaction_id", Value::Nil);
    set("order_currency_code", string(order.map_or(base_currency.clone(), |o| o.order_currency.clone())));
    set("base_currency_code", string(base_currency.clone()));
    set("global_currency_code", string(base_currency));
    set("increment_id", string(inv.increment_id.clone()));
    set("created_at", php::datetime_value(&inv.created_at));
    set("updated_at", php::datetime_value(&inv.updated_at));
    set("hidden_tax_amount", money(Decimal::ZERO));
    set("base_hidden_tax_amount", money(Decimal::ZERO));
    set("shipping_hidden_tax_amount", money(Decimal::ZERO));
    set("base_shipping_hidden_tax_amnt", Value::Nil);
    set("shipping_incl_tax", money(inv.amounts.shipping_incl_tax));
    set("base_shipping_incl_tax", money(inv.base.shipping_incl_tax));
    set("base_total_refunded", Value::Nil);
    set("discount_description", php::opt_str(order.and_then(|o| o.rule.as_ref().map(|r| r.label.as_str()))));
    set("invoice_id", php::int(inv.id));
    set("order_increment_id", php::opt_str(order.map(|o| o.increment_id.as_str())));
    set("order_created_at", order.map_or(Value::Nil, |o| php::datetime_value(&o.created_at)));
    set("billing_firstname", php::opt_str(order.map(|o| o.billing.firstname.as_str())));
    set("billing_middlename", Value::Nil);
    set("billing_lastname", php::opt_str(order.map(|o| o.billing.lastname.as_str())));
    m
}

/// `sales_order_invoice.info(invoiceIncrementId)`.
pub(crate) fn info(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let inv = shop
        .sales
        .invoice_by_increment(&args.string(0).unwrap_or_default())
        .ok_or_else(|| ApiError::api("not_exists"))?;
    let mut m = header(shop, inv);
    m.insert("items".into(), Value::Array(inv.items.iter().map(|i| item_row(inv, i)).collect()));
    m.insert("comments".into(), Value::Array(inv.comments.iter().map(|c| comment_row(inv.id, c)).collect()));
    Ok(Value::Struct(m))
}

/// `sales_order_invoice.list(filters)`: the columns the 1.9 collection selects.
pub(crate) fn list(shop: &Shop, args: Args) -> ApiResult<Value> {
    let filter = Filter::parse(args.get(0), &[("invoice_id", "entity_id")]);
    let rows = shop.sales.invoices().filter_map(|inv| {
        let order_currency = shop.sales.order(inv.order_id).map_or("USD".to_owned(), |o| o.order_currency.clone());
        let ok = filter.matches(|f| match f {
            "entity_id" => Some(Scalar::int(inv.id)),
            "order_id" => Some(Scalar::int(inv.order_id)),
            "increment_id" => Some(Scalar::Text(inv.increment_id.clone())),
            "created_at" => Some(Scalar::Date(inv.created_at)),
            "state" => Some(Scalar::int(inv.state)),
            "grand_total" => Some(Scalar::Num(inv.amounts.grand_total)),
            "order_currency_code" => Some(Scalar::Text(order_currency.clone())),
            _ => None,
        });
        ok.then(|| {
            structure([
                ("increment_id", string(inv.increment_id.clone())),
                ("created_at", php::datetime_value(&inv.created_at)),
                ("order_currency_code", string(order_currency)),
                ("order_id", php::int(inv.order_id)),
                ("state", php::int(inv.state)),
                ("grand_total", money(inv.amounts.grand_total)),
                ("invoice_id", php::int(inv.id)),
            ])
        })
    });
    Ok(Value::Array(rows.collect()))
}
