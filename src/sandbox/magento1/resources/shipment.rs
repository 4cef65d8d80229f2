//! `sales_order_shipment.*` (`Mage_Sales_Model_Order_Shipment_Api`): create (full or partial),
//! addTrack/removeTrack with the carriers that offer tracking, addComment, info, list,
//! getCarriers.

use chrono::{DateTime, Utc};
use dxr::Value;
use rust_decimal::Decimal;

use super::super::args::Args;
use super::super::faults::{ApiError, ApiResult};
use super::super::filters::{Filter, Scalar};
use super::super::model::Shop;
use super::super::model::sales::{Comment, OrderItem, Shipment, ShipmentItem, Track};
use super::super::php::{self, money};
use super::invoice::{plan, requested_qtys};
use crate::rpc::value::{Map, string, structure};

/// Carriers with tracking (`custom` plus every carrier whose model can track).
pub(crate) const CARRIERS: &[(&str, &str)] = &[
    ("custom", "Custom Value"),
    ("dhlint", "DHL"),
    ("fedex", "Federal Express"),
    ("ups", "United Parcel Service"),
    ("usps", "United States Postal Service"),
];

/// `sales_order_shipment.create(orderIncrementId, itemsQty, comment, email, includeComment)`.
pub(crate) fn create(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(1)?;
    let inc = args.string(0).unwrap_or_default();
    let order = shop.sales.order_by_increment(&inc).cloned().ok_or_else(|| ApiError::api("order_not_exists"))?;
    if !order.can_ship() {
        return Err(ApiError::api_msg("data_invalid", "Cannot do shipment for order."));
    }
    let requested = requested_qtys(args.get(1));
    let plan = plan(&order, requested.as_deref(), OrderItem::qty_to_ship);
    for (idx, qty) in &plan {
        let item = &order.items[*idx];
        if !item.dummy && *qty > item.qty_to_ship() {
            return Err(ApiError::internal(format!(
                "We found an invalid quantity to ship for item \"{}\".",
                item.name
            )));
        }
    }
    let total_qty: Decimal =
        plan.iter().filter(|(i, _)| !order.items[*i].dummy && !order.items[*i].is_virtual).map(|(_, q)| *q).sum();
    if total_qty.is_zero() {
        return Err(ApiError::internal("We cannot create an empty shipment."));
    }
    let shipment_id = shop.sales.ids.next("shipment");
    let increment_id = shop.sales.next_increment("shipment", order.store_id);
    let mut updated = order.clone();
    let mut items = Vec::new();
    for (idx, qty) in plan.iter().filter(|(i, q)| !q.is_zero() && !order.items[*i].is_virtual) {
        let oi = &order.items[*idx];
        items.push(ShipmentItem {
            id: shop.sales.ids.next("shipment_item"),
            order_item_id: oi.id,
            product_id: oi.product_id,
            sku: oi.sku.clone(),
            name: oi.name.clone(),
            price: oi.amounts.price,
            weight: oi.weight,
            qty: *qty,
        });
        let ui = &mut updated.items[*idx];
        ui.qty_shipped += *qty;
        ui.updated_at = now;
    }
    let email = args.truthy(3);
    let include = args.truthy(4);
    let mut comments = Vec::new();
    if let Some(c) = args.get(2) {
        comments.push(Comment {
            id: shop.sales.ids.next("shipment_comment"),
            comment: php::to_php_string(c),
            notified: email && include,
            created_at: now,
        });
    }
    updated.shipments.push(shipment_id);
    updated.updated_at = now;
    let ids = [shop.sales.ids.next("order_status_history"), shop.sales.ids.next("order_status_history")];
    let mut next = ids.into_iter();
    updated.check_state(&mut || next.next().unwrap_or_default(), "shipment", now);
    shop.sales.put_order(updated);
    shop.sales.put_shipment(Shipment {
        id: shipment_id,
        increment_id: increment_id.clone(),
        order_id: order.id,
        store_id: order.store_id,
        items,
        tracks: Vec::new(),
        comments,
        total_qty,
        email_sent: email,
        created_at: now,
        updated_at: now,
    });
    Ok(string(increment_id))
}

/// `sales_order_shipment.addTrack(shipmentIncrementId, carrier, title, number)`.
pub(crate) fn add_track(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(4)?;
    let inc = args.string(0).unwrap_or_default();
    shop.sales.shipment_by_increment(&inc).ok_or_else(|| ApiError::api("not_exists"))?;
    let carrier = args.string(1).unwrap_or_default();
    if !CARRIERS.iter().any(|(c, _)| *c == carrier) {
        return Err(ApiError::api_msg("data_invalid", "Invalid carrier specified."));
    }
    let id = shop.sales.ids.next("shipment_track");
    let s = shop.sales.shipment_by_increment_mut(&inc).ok_or_else(|| ApiError::api("not_exists"))?;
    s.tracks.push(Track {
        id,
        carrier_code: carrier,
        title: args.string(2).unwrap_or_default(),
        number: args.string(3).unwrap_or_default(),
        created_at: now,
    });
    s.updated_at = now;
    Ok(string(id.to_string()))
}

/// `sales_order_shipment.removeTrack(shipmentIncrementId, trackId)`.
pub(crate) fn remove_track(shop: &mut Shop, args: Args) -> ApiResult<Value> {
    args.require(2)?;
    let inc = args.string(0).unwrap_or_default();
    let track = args.get(1).map_or(0, php::to_int_lenient);
    let s = shop.sales.shipment_by_increment_mut(&inc).ok_or_else(|| ApiError::api("not_exists"))?;
    let before = s.tracks.len();
    s.tracks.retain(|t| t.id != track);
    if s.tracks.len() == before {
        return Err(ApiError::api("track_not_exists"));
    }
    Ok(Value::Boolean(true))
}

/// `sales_order_shipment.addComment(shipmentIncrementId, comment, email, includeInEmail)`.
pub(crate) fn add_comment(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let inc = args.string(0).unwrap_or_default();
    let id = shop.sales.ids.next("shipment_comment");
    let notified = args.truthy(2) && args.truthy(3);
    let s = shop.sales.shipment_by_increment_mut(&inc).ok_or_else(|| ApiError::api("not_exists"))?;
    s.comments.push(Comment { id, comment: args.string(1).unwrap_or_default(), notified, created_at: now });
    Ok(Value::Boolean(true))
}

/// `sales_order_shipment.getCarriers(orderIncrementId)`.
pub(crate) fn get_carriers(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    shop.sales
        .order_by_increment(&args.string(0).unwrap_or_default())
        .ok_or_else(|| ApiError::api("order_not_exists"))?;
    Ok(structure(CARRIERS.iter().map(|(c, t)| (*c, string(*t)))))
}

/// `sales_order_shipment.info(shipmentIncrementId)`.
pub(crate) fn info(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let s = shop
        .sales
        .shipment_by_increment(&args.string(0).unwrap_or_default())
        .ok_or_else(|| ApiError::api("not_exists"))?;
    let order = shop.sales.order(s.order_id);
    let mut m = Map::new();
    let mut set = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    set("store_id", php::int(s.store_id));
    set("total_weight", Value::Nil);
    set("total_qty", money(s.total_qty));
    set("email_sent", if s.email_sent { php::int(1) } else { Value::Nil });
    set("order_id", php::int(s.order_id));
    set("customer_id", php::opt_int(order.and_then(|o| o.customer_id)));
    set("shipping_address_id", php::opt_int(order.and_then(|o| o.shipping.as_ref().map(|a| a.id))));
    set("billing_address_id", php::opt_int(order.map(|o| o.billing.id)));
    set("shipment_status", Value::Nil);
    set("increment_id", string(s.increment_id.clone()));
    set("created_at", php::datetime_value(&s.created_at));
    set("updated_at", php::datetime_value(&s.updated_at));
    set("packages", Value::Nil);
    set("shipping_label", Value::Nil);
    set("shipment_id", php::int(s.id));
    set(
        "items",
        Value::Array(
            s.items
                .iter()
                .map(|i| {
                    structure([
                        ("parent_id", php::int(s.id)),
                        ("row_total", Value::Nil),
                        ("price", money(i.price)),
                        ("weight", php::opt_money(i.weight)),
                        ("qty", money(i.qty)),
                        ("product_id", php::int(i.product_id)),
                        ("order_item_id", php::int(i.order_item_id)),
                        ("additional_data", Value::Nil),
                        ("description", Value::Nil),
                        ("name", string(i.name.clone())),
                        ("sku", string(i.sku.clone())),
                        ("item_id", php::int(i.id)),
                    ])
                })
                .collect(),
        ),
    );
    set(
        "tracks",
        Value::Array(
            s.tracks
                .iter()
                .map(|t| {
                    structure([
                        ("parent_id", php::int(s.id)),
                        ("weight", Value::Nil),
                        ("qty", Value::Nil),
                        ("order_id", php::int(s.order_id)),
                        ("track_number", string(t.number.clone())),
                        ("number", string(t.number.clone())),
                        ("description", Value::Nil),
                        ("title", string(t.title.clone())),
                        ("carrier_code", string(t.carrier_code.clone())),
                        ("created_at", php::datetime_value(&t.created_at)),
                        ("updated_at", php::datetime_value(&t.created_at)),
                        ("track_id", php::int(t.id)),
                    ])
                })
                .collect(),
        ),
    );
    set(
        "comments",
        Value::Array(
            s.comments
                .iter()
                .map(|c| {
                    structure([
                        ("parent_id", php::int(s.id)),
                        ("is_customer_notified", php::int(i64::from(c.notified))),
                        ("is_visible_on_front", php::int(0)),
                        ("comment", string(c.comment.clone())),
                        ("created_at", php::datetime_value(&c.created_at)),
                        ("comment_id", php::int(c.id)),
                    ])
                })
                .collect(),
        ),
    );
    Ok(Value::Struct(m))
}

/// `sales_order_shipment.list(filters)`: the columns the 1.9 collection selects.
pub(crate) fn list(shop: &Shop, args: Args) -> ApiResult<Value> {
    let filter = Filter::parse(args.get(0), &[("shipment_id", "entity_id")]);
    let rows = shop.sales.shipments().filter_map(|s| {
        let ok = filter.matches(|f| match f {
            "entity_id" => Some(Scalar::int(s.id)),
            "order_id" => Some(Scalar::int(s.order_id)),
            "increment_id" => Some(Scalar::Text(s.increment_id.clone())),
            "created_at" => Some(Scalar::Date(s.created_at)),
            "total_qty" => Some(Scalar::Num(s.total_qty)),
            _ => None,
        });
        ok.then(|| {
            structure([
                ("increment_id", string(s.increment_id.clone())),
                ("created_at", php::datetime_value(&s.created_at)),
                ("total_qty", money(s.total_qty)),
                ("order_id", php::int(s.order_id)),
                ("shipment_id", php::int(s.id)),
            ])
        })
    });
    Ok(Value::Array(rows.collect()))
}
