//! Decoding of order answers: `sales_order.list` headers and full `sales_order.info` orders,
//! including the PHP-serialized `product_options` of each item; shipments read back.
//!
//! Discounts are normalised to positive amounts (Magento sends the header negative and the
//! items positive); missing amounts (`<nil/>`, as on configurable child rows) read as zero.

use dxr::Value;
use rust_decimal::Decimal;

use super::{list, opt_text, record, street_lines};
use crate::magento::json;
use crate::magento::php;
use crate::magento::types::{
    ItemQuantities, OptionLabel, Order, OrderAddress, OrderCurrency, OrderCustomer, OrderItem, OrderPayment,
    OrderStatusEntry, OrderSummary, OrderTotals, ProductOptions, ShipmentInfo,
};
use crate::rpc::value::{DecodeError, Record};

/// `sales_order_shipment.list`: the increment ids.
pub fn shipment_list(v: &Value) -> Result<Vec<String>, DecodeError> {
    list(v, "sales_order_shipment.list")?.iter().map(|row| record(row, "shipment")?.string("increment_id")).collect()
}

/// `sales_order_shipment.info`: items (order item id → qty), tracking numbers, comments.
pub fn shipment_info(v: &Value) -> Result<ShipmentInfo, DecodeError> {
    let r0 = record(v, "shipment")?;
    let inc = r0.string("increment_id")?;
    let ctx = format!("shipment {inc}");
    let r = Record::new(r0.map(), &ctx);
    let mut items = ItemQuantities::new();
    for it in r.array("items")?.iter() {
        let i = record(it, &ctx)?;
        *items.entry(i.i64("order_item_id")?).or_insert(Decimal::ZERO) += i.decimal_or_zero("qty")?;
    }
    let mut tracks = Vec::new();
    for t in r.array("tracks")?.iter() {
        let t = record(t, &ctx)?;
        if let Some(n) = opt_text(&t, "track_number")?.or(opt_text(&t, "number")?) {
            tracks.push(n);
        }
    }
    let mut comments = Vec::new();
    for c in r.array("comments")?.iter() {
        if let Some(text) = opt_text(&record(c, &ctx)?, "comment")? {
            comments.push(text);
        }
    }
    Ok(ShipmentInfo { increment_id: inc, items, tracks, comments })
}

/// `sales_order.list`.
pub fn order_list(v: &Value) -> Result<Vec<OrderSummary>, DecodeError> {
    list(v, "sales_order.list")?
        .iter()
        .map(|row| {
            let r0 = record(row, "order")?;
            let inc = r0.string("increment_id")?;
            let ctx = format!("order {inc}");
            let r = Record::new(r0.map(), &ctx);
            Ok(OrderSummary {
                entity_id: r.i64("order_id")?,
                increment_id: inc.clone(),
                store_id: r.i64("store_id")?,
                state: r.string_or_empty("state")?,
                status: r.string_or_empty("status")?,
                created_at: r.datetime("created_at")?,
                updated_at: r.datetime("updated_at")?,
                customer_id: r.opt_i64("customer_id")?,
                customer_email: opt_text(&r, "customer_email")?,
                grand_total: r.decimal_or_zero("grand_total")?,
                order_currency_code: opt_text(&r, "order_currency_code")?,
            })
        })
        .collect()
}

/// Reads the totals with an optional `base_` prefix.
fn totals(r: &Record<'_>, prefix: &str) -> Result<OrderTotals, DecodeError> {
    let d = |k: &str| r.decimal_or_zero(&format!("{prefix}{k}"));
    // The base shipping hidden tax column is abbreviated in some versions.
    let shipping_hidden = match r.opt_decimal(&format!("{prefix}shipping_hidden_tax_amount"))? {
        Some(x) => x,
        None => r.decimal_or_zero(&format!("{prefix}shipping_hidden_tax_amnt"))?,
    };
    Ok(OrderTotals {
        subtotal: d("subtotal")?,
        subtotal_incl_tax: d("subtotal_incl_tax")?,
        discount_amount: d("discount_amount")?.abs(),
        shipping_amount: d("shipping_amount")?,
        shipping_tax_amount: d("shipping_tax_amount")?,
        shipping_incl_tax: d("shipping_incl_tax")?,
        shipping_discount_amount: d("shipping_discount_amount")?.abs(),
        tax_amount: d("tax_amount")?,
        hidden_tax_amount: d("hidden_tax_amount")?,
        shipping_hidden_tax_amount: shipping_hidden,
        // Every order has its grand total; reading a missing one as 0 would blame the totals.
        grand_total: r.decimal(&format!("{prefix}grand_total"))?,
        total_paid: d("total_paid")?,
        total_invoiced: d("total_invoiced")?,
        total_refunded: d("total_refunded")?,
        total_canceled: d("total_canceled")?,
    })
}

/// An order address; `None` for the `[]` of a virtual order or an empty struct.
fn address(r: &Record<'_>, key: &str, order_ctx: &str) -> Result<Option<OrderAddress>, DecodeError> {
    let a = r.record(key)?;
    if a.map().is_empty() {
        return Ok(None);
    }
    let ctx = format!("{order_ctx}.{key}");
    let a = Record::new(a.map(), &ctx);
    Ok(Some(OrderAddress {
        id: a.opt_i64("address_id")?,
        customer_address_id: a.opt_i64("customer_address_id")?,
        firstname: opt_text(&a, "firstname")?,
        middlename: opt_text(&a, "middlename")?,
        lastname: opt_text(&a, "lastname")?,
        prefix: opt_text(&a, "prefix")?,
        suffix: opt_text(&a, "suffix")?,
        company: opt_text(&a, "company")?,
        street: street_lines(&a, "street")?,
        city: opt_text(&a, "city")?,
        region: opt_text(&a, "region")?,
        region_id: a.opt_i64("region_id")?.filter(|id| *id != 0),
        postcode: opt_text(&a, "postcode")?,
        country_id: opt_text(&a, "country_id")?,
        telephone: opt_text(&a, "telephone")?,
        fax: opt_text(&a, "fax")?,
        email: opt_text(&a, "email")?,
        vat_id: opt_text(&a, "vat_id")?,
    }))
}

/// Decodes an item's `product_options`: PHP-serialized (Magento 1) or JSON (some extensions).
pub fn product_options(raw: Option<&str>) -> Result<ProductOptions, php::PhpError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(ProductOptions::default());
    };
    let j = if raw.starts_with('{') || raw.starts_with('[') {
        serde_json::from_str::<serde_json::Value>(raw)
            .map_err(|e| php::PhpError { offset: 0, reason: format!("neither PHP-serialized nor JSON: {e}") })?
    } else {
        php::unserialize(raw)?.to_json()
    };
    Ok(options_from_json(&j))
}

/// Picks the known members out of decoded item options.
fn options_from_json(j: &serde_json::Value) -> ProductOptions {
    ProductOptions {
        simple_sku: json_text(&j["simple_sku"]),
        simple_name: json_text(&j["simple_name"]),
        attributes_info: labels(&j["attributes_info"]),
        options: labels(&j["options"]),
        info_buy_request: match &j["info_buyRequest"] {
            serde_json::Value::Null => None,
            other => Some(other.clone()),
        },
    }
}

fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `[{label, value|print_value}, …]` (a list or a map of such entries).
fn labels(v: &serde_json::Value) -> Vec<OptionLabel> {
    let entries: Vec<&serde_json::Value> = match v {
        serde_json::Value::Array(a) => a.iter().collect(),
        serde_json::Value::Object(m) => m.values().collect(),
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|e| {
            let label = json_text(&e["label"])?;
            let value = json_text(&e["print_value"]).or_else(|| json_text(&e["value"])).unwrap_or_default();
            Some(OptionLabel { label, value })
        })
        .collect()
}

fn item(v: &Value, order_ctx: &str) -> Result<OrderItem, DecodeError> {
    let r0 = record(v, order_ctx)?;
    let id = r0.i64("item_id")?;
    let ctx = format!("{order_ctx} item {id}");
    let r = Record::new(r0.map(), &ctx);
    let product_options = match r.get("product_options") {
        // Some extensions hand the options over already decoded.
        Some(v @ (Value::Struct(_) | Value::Array(_))) => options_from_json(&json::to_json(v)),
        _ => {
            let raw_options = r.opt_string("product_options")?;
            product_options(raw_options.as_deref()).map_err(|e| DecodeError {
                field: format!("{ctx}.product_options"),
                expected: "PHP-serialized options",
                found: e.to_string(),
            })?
        }
    };
    let z = |k: &str| r.decimal_or_zero(k);
    Ok(OrderItem {
        item_id: id,
        parent_item_id: r.opt_i64("parent_item_id")?,
        product_id: r.opt_i64("product_id")?,
        product_type: r.string_or_empty("product_type")?,
        sku: r.string_or_empty("sku")?,
        name: r.string_or_empty("name")?,
        qty_ordered: z("qty_ordered")?,
        qty_invoiced: z("qty_invoiced")?,
        qty_shipped: z("qty_shipped")?,
        qty_canceled: z("qty_canceled")?,
        qty_refunded: z("qty_refunded")?,
        price: z("price")?,
        base_price: z("base_price")?,
        original_price: z("original_price")?,
        base_original_price: z("base_original_price")?,
        price_incl_tax: z("price_incl_tax")?,
        base_price_incl_tax: z("base_price_incl_tax")?,
        row_total: z("row_total")?,
        base_row_total: z("base_row_total")?,
        row_total_incl_tax: z("row_total_incl_tax")?,
        base_row_total_incl_tax: z("base_row_total_incl_tax")?,
        tax_percent: z("tax_percent")?,
        tax_amount: z("tax_amount")?,
        base_tax_amount: z("base_tax_amount")?,
        discount_percent: z("discount_percent")?,
        discount_amount: z("discount_amount")?.abs(),
        base_discount_amount: z("base_discount_amount")?.abs(),
        hidden_tax_amount: z("hidden_tax_amount")?,
        base_hidden_tax_amount: z("base_hidden_tax_amount")?,
        weight: r.opt_decimal("weight")?,
        is_virtual: r.bool("is_virtual")?,
        product_options,
    })
}

fn history(v: &Value, ctx: &str) -> Result<OrderStatusEntry, DecodeError> {
    let r = record(v, ctx)?;
    Ok(OrderStatusEntry {
        comment: opt_text(&r, "comment")?,
        status: opt_text(&r, "status")?,
        is_customer_notified: match r.opt_i64("is_customer_notified") {
            Ok(Some(1)) => Some(true),
            Ok(Some(0)) => Some(false),
            Ok(_) => None,
            Err(_) => Some(r.bool("is_customer_notified")?),
        },
        is_visible_on_front: r.bool("is_visible_on_front")?,
        created_at: r.opt_datetime("created_at")?,
        entity_name: opt_text(&r, "entity_name")?,
    })
}

/// `sales_order.info`.
pub fn order(v: &Value) -> Result<Order, DecodeError> {
    let r0 = record(v, "order")?;
    let inc = r0.string("increment_id")?;
    let ctx = format!("order {inc}");
    let r = Record::new(r0.map(), &ctx);
    let opt_dec = |k: &str| -> Result<Option<Decimal>, DecodeError> { r.opt_decimal(k) };
    let customer_id = r.opt_i64("customer_id")?;
    let payment = r.record("payment")?;
    let items = r.array("items")?.iter().map(|it| item(it, &ctx)).collect::<Result<Vec<_>, _>>()?;
    let status_history = r.array("status_history")?.iter().map(|h| history(h, &ctx)).collect::<Result<Vec<_>, _>>()?;
    Ok(Order {
        increment_id: inc.clone(),
        entity_id: r.i64("order_id")?,
        store_id: r.i64("store_id")?,
        store_name: opt_text(&r, "store_name")?,
        state: r.string_or_empty("state")?,
        status: r.string_or_empty("status")?,
        created_at: r.datetime("created_at")?,
        updated_at: r.datetime("updated_at")?,
        customer: OrderCustomer {
            id: customer_id,
            is_guest: r.bool("customer_is_guest")? || customer_id.is_none(),
            email: opt_text(&r, "customer_email")?,
            firstname: opt_text(&r, "customer_firstname")?,
            middlename: opt_text(&r, "customer_middlename")?,
            lastname: opt_text(&r, "customer_lastname")?,
            prefix: opt_text(&r, "customer_prefix")?,
            suffix: opt_text(&r, "customer_suffix")?,
            group_id: r.opt_i64("customer_group_id")?,
            taxvat: opt_text(&r, "customer_taxvat")?,
            dob: r.opt_datetime("customer_dob")?,
        },
        currency: OrderCurrency {
            order: r.string("order_currency_code")?,
            base: r.string("base_currency_code")?,
            store: opt_text(&r, "store_currency_code")?,
            global: opt_text(&r, "global_currency_code")?,
            base_to_order_rate: opt_dec("base_to_order_rate")?,
            store_to_order_rate: opt_dec("store_to_order_rate")?,
            store_to_base_rate: opt_dec("store_to_base_rate")?,
            base_to_global_rate: opt_dec("base_to_global_rate")?,
        },
        totals: totals(&r, "")?,
        base_totals: totals(&r, "base_")?,
        coupon_code: opt_text(&r, "coupon_code")?,
        discount_description: opt_text(&r, "discount_description")?,
        shipping_method: opt_text(&r, "shipping_method")?,
        shipping_description: opt_text(&r, "shipping_description")?,
        is_virtual: r.bool("is_virtual")?,
        customer_note: opt_text(&r, "customer_note")?,
        weight: opt_dec("weight")?,
        payment: OrderPayment {
            method: payment.string_or_empty("method")?,
            amount_ordered: payment.opt_decimal("amount_ordered")?,
            amount_paid: payment.opt_decimal("amount_paid")?,
            last_trans_id: opt_text(&payment, "last_trans_id")?,
            po_number: opt_text(&payment, "po_number")?,
        },
        billing_address: address(&r, "billing_address", &ctx)?,
        shipping_address: address(&r, "shipping_address", &ctx)?,
        items,
        status_history,
        raw: redacted_raw(v),
    })
}

/// Payment members that are card or bank secrets: blanked (with the guest access code
/// `protect_code`) in the raw payload kept for the broken-orders snapshot.
const RAW_SECRETS: &[&str] = &[
    "cc_number_enc",
    "cc_cid_enc",
    "cc_debug_request_body",
    "cc_debug_response_body",
    "cc_debug_response_serialized",
    "echeck_routing_number",
    "echeck_account_name",
];

/// The order as JSON with [`RAW_SECRETS`] in `payment` and the `protect_code` replaced by
/// `"[redacted]"` (null values stay null).
fn redacted_raw(v: &Value) -> serde_json::Value {
    let mut raw = json::to_json(v);
    let redact = |slot: Option<&mut serde_json::Value>| {
        if let Some(x) = slot
            && !x.is_null()
        {
            *x = serde_json::Value::String(crate::secret::REDACTED.into());
        }
    };
    redact(raw.get_mut("protect_code"));
    if let Some(p) = raw.get_mut("payment") {
        for k in RAW_SECRETS {
            redact(p.get_mut(*k));
        }
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_of_a_simple_row_have_only_the_buy_request() {
        let o = product_options(Some(r#"a:1:{s:15:"info_buyRequest";a:2:{s:3:"sku";s:8:"HOME-001";s:3:"qty";i:3;}}"#))
            .unwrap();
        assert_eq!(o.simple_sku, None);
        assert_eq!(o.info_buy_request, Some(serde_json::json!({"sku": "HOME-001", "qty": 3})));
        assert_eq!(product_options(None).unwrap(), ProductOptions::default());
        assert_eq!(product_options(Some("")).unwrap(), ProductOptions::default());
    }

    fn minimal_order(options: Value) -> Value {
        use crate::rpc::value::{array, int, string, structure};
        structure([
            ("increment_id", string("100000009")),
            ("order_id", int(9)),
            ("store_id", int(1)),
            ("created_at", string("2026-11-27 02:40:54")),
            ("updated_at", string("2026-11-27 02:40:54")),
            ("order_currency_code", string("USD")),
            ("base_currency_code", string("USD")),
            ("grand_total", string("10.0000")),
            ("base_grand_total", string("10.0000")),
            ("billing_address", array([])),
            ("shipping_address", array([])),
            ("payment", array([])),
            ("items", array([structure([("item_id", int(7)), ("sku", string("A")), ("product_options", options)])])),
        ])
    }

    #[test]
    fn item_options_may_arrive_decoded_and_broken_ones_name_the_field() {
        use crate::rpc::value::{string, structure};
        let o = order(&minimal_order(structure([("simple_sku", string("A-RED"))]))).unwrap();
        assert_eq!(o.items[0].product_options.simple_sku.as_deref(), Some("A-RED"));
        assert!(o.billing_address.is_none() && o.shipping_address.is_none());
        assert_eq!(o.payment.method, "");
        let mut no_total = minimal_order(string("a:0:{}"));
        if let Value::Struct(m) = &mut no_total {
            m.remove("grand_total");
        }
        assert_eq!(order(&no_total).unwrap_err().field, "order 100000009.grand_total");
        let e = order(&minimal_order(string("a:1:{s:3:\"abc\";"))).unwrap_err();
        assert_eq!(e.field, "order 100000009 item 7.product_options");
        assert!(e.found.contains("invalid PHP-serialized data"), "{e}");
    }

    #[test]
    fn custom_options_use_the_print_value_and_json_is_accepted() {
        let o = product_options(Some(
            r#"{"options":[{"label":"Engraving","value":"x","print_value":"Hello"}],"simple_sku":"A-1"}"#,
        ))
        .unwrap();
        assert_eq!(o.options, vec![OptionLabel { label: "Engraving".into(), value: "Hello".into() }]);
        assert_eq!(o.simple_sku.as_deref(), Some("A-1"));
        assert!(product_options(Some("not serialized")).is_err());
    }
}
