//! `sales_order.*` (`Mage_Sales_Model_Order_Api`): list (headers with the address join
//! columns), info (with items, addresses, payment and status history newest first), addComment,
//! hold, unhold, cancel. Rendering follows the columns of the recorded OpenMage 19.4 replies.

use chrono::{DateTime, Utc};
use dxr::Value;
use rust_decimal::Decimal;

use super::super::args::Args;
use super::super::faults::{ApiError, ApiResult};
use super::super::filters::{Filter, Scalar};
use super::super::model::Shop;
use super::super::model::sales::{Amounts, Order, OrderAddress, OrderItem};
use super::super::php::{self, money, opt_money};
use crate::rpc::value::{Map, string, structure};

/// Header columns that are NULL unless set below.
const HEADER_COLUMNS: &[&str] = &[
    "state",
    "status",
    "coupon_code",
    "protect_code",
    "shipping_description",
    "is_virtual",
    "store_id",
    "customer_id",
    "base_discount_amount",
    "base_discount_canceled",
    "base_discount_invoiced",
    "base_discount_refunded",
    "base_grand_total",
    "base_shipping_amount",
    "base_shipping_canceled",
    "base_shipping_invoiced",
    "base_shipping_refunded",
    "base_shipping_tax_amount",
    "base_shipping_tax_refunded",
    "base_subtotal",
    "base_subtotal_canceled",
    "base_subtotal_invoiced",
    "base_subtotal_refunded",
    "base_tax_amount",
    "base_tax_canceled",
    "base_tax_invoiced",
    "base_tax_refunded",
    "base_to_global_rate",
    "base_to_order_rate",
    "base_total_canceled",
    "base_total_invoiced",
    "base_total_invoiced_cost",
    "base_total_offline_refunded",
    "base_total_online_refunded",
    "base_total_paid",
    "base_total_qty_ordered",
    "base_total_refunded",
    "discount_amount",
    "discount_canceled",
    "discount_invoiced",
    "discount_refunded",
    "grand_total",
    "shipping_amount",
    "shipping_canceled",
    "shipping_invoiced",
    "shipping_refunded",
    "shipping_tax_amount",
    "shipping_tax_refunded",
    "store_to_base_rate",
    "store_to_order_rate",
    "subtotal",
    "subtotal_canceled",
    "subtotal_invoiced",
    "subtotal_refunded",
    "tax_amount",
    "tax_canceled",
    "tax_invoiced",
    "tax_refunded",
    "total_canceled",
    "total_invoiced",
    "total_offline_refunded",
    "total_online_refunded",
    "total_paid",
    "total_qty_ordered",
    "total_refunded",
    "can_ship_partially",
    "can_ship_partially_item",
    "customer_is_guest",
    "customer_note_notify",
    "billing_address_id",
    "customer_group_id",
    "edit_increment",
    "email_sent",
    "forced_shipment_with_invoice",
    "payment_auth_expiration",
    "quote_address_id",
    "quote_id",
    "shipping_address_id",
    "adjustment_negative",
    "adjustment_positive",
    "base_adjustment_negative",
    "base_adjustment_positive",
    "base_shipping_discount_amount",
    "base_subtotal_incl_tax",
    "base_total_due",
    "payment_authorization_amount",
    "shipping_discount_amount",
    "subtotal_incl_tax",
    "total_due",
    "weight",
    "customer_dob",
    "increment_id",
    "applied_rule_ids",
    "base_currency_code",
    "customer_email",
    "customer_firstname",
    "customer_lastname",
    "customer_middlename",
    "customer_prefix",
    "customer_suffix",
    "customer_taxvat",
    "discount_description",
    "ext_customer_id",
    "ext_order_id",
    "global_currency_code",
    "hold_before_state",
    "hold_before_status",
    "order_currency_code",
    "original_increment_id",
    "relation_child_id",
    "relation_child_real_id",
    "relation_parent_id",
    "relation_parent_real_id",
    "remote_ip",
    "shipping_method",
    "store_currency_code",
    "store_name",
    "x_forwarded_for",
    "customer_note",
    "created_at",
    "updated_at",
    "total_item_count",
    "customer_gender",
    "hidden_tax_amount",
    "base_hidden_tax_amount",
    "shipping_hidden_tax_amount",
    "base_shipping_hidden_tax_amnt",
    "hidden_tax_invoiced",
    "base_hidden_tax_invoiced",
    "hidden_tax_refunded",
    "base_hidden_tax_refunded",
    "shipping_incl_tax",
    "base_shipping_incl_tax",
    "coupon_rule_name",
    "paypal_ipn_customer_notified",
    "gift_message_id",
    "payment_authorization_expiration",
    "forced_do_shipment_with_invoice",
    "base_shipping_hidden_tax_amount",
    "order_id",
];

/// Item columns that are NULL unless set below.
const ITEM_COLUMNS: &[&str] = &[
    "item_id",
    "order_id",
    "parent_item_id",
    "quote_item_id",
    "store_id",
    "created_at",
    "updated_at",
    "product_id",
    "product_type",
    "product_options",
    "weight",
    "is_virtual",
    "sku",
    "name",
    "description",
    "applied_rule_ids",
    "additional_data",
    "free_shipping",
    "is_qty_decimal",
    "no_discount",
    "qty_backordered",
    "qty_canceled",
    "qty_invoiced",
    "qty_ordered",
    "qty_refunded",
    "qty_shipped",
    "base_cost",
    "price",
    "base_price",
    "original_price",
    "base_original_price",
    "tax_percent",
    "tax_amount",
    "base_tax_amount",
    "tax_invoiced",
    "base_tax_invoiced",
    "discount_percent",
    "discount_amount",
    "base_discount_amount",
    "discount_invoiced",
    "base_discount_invoiced",
    "amount_refunded",
    "base_amount_refunded",
    "row_total",
    "base_row_total",
    "row_invoiced",
    "base_row_invoiced",
    "row_weight",
    "base_tax_before_discount",
    "tax_before_discount",
    "ext_order_item_id",
    "locked_do_invoice",
    "locked_do_ship",
    "price_incl_tax",
    "base_price_incl_tax",
    "row_total_incl_tax",
    "base_row_total_incl_tax",
    "hidden_tax_amount",
    "base_hidden_tax_amount",
    "hidden_tax_invoiced",
    "base_hidden_tax_invoiced",
    "hidden_tax_refunded",
    "base_hidden_tax_refunded",
    "is_nominal",
    "tax_canceled",
    "hidden_tax_canceled",
    "tax_refunded",
    "base_tax_refunded",
    "discount_refunded",
    "base_discount_refunded",
    "gift_message_id",
    "gift_message_available",
    "base_weee_tax_applied_amount",
    "base_weee_tax_applied_row_amnt",
    "base_weee_tax_applied_row_amount",
    "weee_tax_applied_amount",
    "weee_tax_applied_row_amount",
    "weee_tax_applied",
    "weee_tax_disposition",
    "weee_tax_row_disposition",
    "base_weee_tax_disposition",
    "base_weee_tax_row_disposition",
];

/// Payment columns that are NULL unless set below.
const PAYMENT_COLUMNS: &[&str] = &[
    "parent_id",
    "base_shipping_captured",
    "shipping_captured",
    "amount_refunded",
    "base_amount_paid",
    "amount_canceled",
    "base_amount_authorized",
    "base_amount_paid_online",
    "base_amount_refunded_online",
    "base_shipping_amount",
    "shipping_amount",
    "amount_paid",
    "amount_authorized",
    "base_amount_ordered",
    "base_shipping_refunded",
    "shipping_refunded",
    "base_amount_refunded",
    "amount_ordered",
    "base_amount_canceled",
    "quote_payment_id",
    "additional_data",
    "cc_exp_month",
    "cc_ss_start_year",
    "echeck_bank_name",
    "method",
    "cc_debug_request_body",
    "cc_secure_verify",
    "protection_eligibility",
    "cc_approval",
    "cc_last4",
    "cc_status_description",
    "echeck_type",
    "cc_debug_response_serialized",
    "cc_ss_start_month",
    "echeck_account_type",
    "last_trans_id",
    "cc_cid_status",
    "cc_owner",
    "cc_type",
    "po_number",
    "cc_exp_year",
    "cc_status",
    "echeck_routing_number",
    "account_status",
    "anet_trans_method",
    "cc_debug_response_body",
    "cc_ss_issue",
    "echeck_account_name",
    "cc_avs_status",
    "cc_number_enc",
    "cc_trans_id",
    "paybox_request_number",
    "address_status",
    "additional_information",
    "payment_id",
];

fn nil_map(columns: &[&str]) -> Map {
    columns.iter().map(|c| ((*c).to_owned(), Value::Nil)).collect()
}

fn set(m: &mut Map, k: &str, v: Value) {
    m.insert(k.to_owned(), v);
}

fn amounts_into(m: &mut Map, prefix: &str, a: &Amounts) {
    set(m, &format!("{prefix}subtotal"), money(a.subtotal));
    set(m, &format!("{prefix}discount_amount"), money(a.discount));
    set(m, &format!("{prefix}shipping_amount"), money(a.shipping));
    set(m, &format!("{prefix}shipping_tax_amount"), money(a.shipping_tax));
    set(m, &format!("{prefix}tax_amount"), money(a.tax));
    set(m, &format!("{prefix}grand_total"), money(a.grand_total));
    set(m, &format!("{prefix}subtotal_incl_tax"), money(a.subtotal_incl_tax));
    set(m, &format!("{prefix}shipping_incl_tax"), money(a.shipping_incl_tax));
}

fn invoiced_into(m: &mut Map, prefix: &str, a: &Amounts) {
    set(m, &format!("{prefix}subtotal_invoiced"), money(a.subtotal));
    set(m, &format!("{prefix}discount_invoiced"), money(a.discount));
    set(m, &format!("{prefix}shipping_invoiced"), money(a.shipping));
    set(m, &format!("{prefix}tax_invoiced"), money(a.tax));
    set(m, &format!("{prefix}total_invoiced"), money(a.grand_total));
    set(m, &format!("{prefix}total_paid"), money(a.grand_total));
    set(m, &format!("{prefix}hidden_tax_invoiced"), money(Decimal::ZERO));
}

fn canceled_into(m: &mut Map, prefix: &str, a: &Amounts) {
    set(m, &format!("{prefix}subtotal_canceled"), money(a.subtotal));
    set(m, &format!("{prefix}discount_canceled"), money(a.discount));
    set(m, &format!("{prefix}shipping_canceled"), money(a.shipping));
    set(m, &format!("{prefix}tax_canceled"), money(a.tax));
    set(m, &format!("{prefix}total_canceled"), money(a.grand_total));
}

/// The header columns of an order (shared by `list` and `info`).
pub(crate) fn header(o: &Order) -> Map {
    let mut m = nil_map(HEADER_COLUMNS);
    set(&mut m, "state", string(o.state.clone()));
    set(&mut m, "status", string(o.status.clone()));
    set(&mut m, "protect_code", string(o.protect_code.clone()));
    set(&mut m, "shipping_description", if o.is_virtual { Value::Nil } else { string(o.shipping_description.clone()) });
    set(&mut m, "shipping_method", if o.is_virtual { Value::Nil } else { string(o.shipping_method.clone()) });
    set(&mut m, "is_virtual", php::int(i64::from(o.is_virtual)));
    set(&mut m, "store_id", php::int(o.store_id));
    set(&mut m, "customer_id", php::opt_int(o.customer_id));
    amounts_into(&mut m, "base_", &o.base);
    amounts_into(&mut m, "", &o.amounts);
    let rate = php::money(o.rate);
    set(&mut m, "base_to_global_rate", money(Decimal::ONE));
    set(&mut m, "base_to_order_rate", rate.clone());
    set(&mut m, "store_to_base_rate", money(Decimal::ONE));
    set(&mut m, "store_to_order_rate", rate);
    set(&mut m, "total_qty_ordered", money(o.total_qty_ordered));
    set(&mut m, "customer_is_guest", php::int(i64::from(o.customer_id.is_none())));
    set(&mut m, "customer_note_notify", php::int(1));
    set(&mut m, "billing_address_id", php::int(o.billing.id));
    set(&mut m, "shipping_address_id", php::opt_int(o.shipping.as_ref().map(|s| s.id)));
    set(&mut m, "customer_group_id", php::int(o.customer_group_id));
    set(&mut m, "email_sent", php::int(1));
    set(&mut m, "quote_id", php::int(o.quote_id));
    for k in ["base_shipping_discount_amount", "shipping_discount_amount"] {
        set(&mut m, k, money(Decimal::ZERO));
    }
    set(&mut m, "weight", money(o.weight));
    set(&mut m, "customer_dob", php::opt_str(o.customer_dob.as_deref()));
    set(&mut m, "increment_id", string(o.increment_id.clone()));
    set(&mut m, "base_currency_code", string(o.base_currency.clone()));
    set(&mut m, "global_currency_code", string(o.base_currency.clone()));
    set(&mut m, "store_currency_code", string(o.base_currency.clone()));
    set(&mut m, "order_currency_code", string(o.order_currency.clone()));
    set(&mut m, "customer_email", string(o.customer_email.clone()));
    set(&mut m, "customer_firstname", string(o.customer_firstname.clone()));
    set(&mut m, "customer_lastname", string(o.customer_lastname.clone()));
    set(&mut m, "customer_taxvat", php::opt_str(o.customer_taxvat.as_deref()));
    set(&mut m, "customer_gender", php::opt_int(o.customer_gender));
    if let Some(r) = &o.rule {
        set(&mut m, "coupon_code", string(r.coupon_code.clone()));
        set(&mut m, "applied_rule_ids", string(r.rule_id.to_string()));
        set(&mut m, "discount_description", string(r.label.clone()));
        set(&mut m, "coupon_rule_name", string(r.rule_name.clone()));
    }
    if let Some((state, status)) = &o.hold_before {
        set(&mut m, "hold_before_state", string(state.clone()));
        set(&mut m, "hold_before_status", string(status.clone()));
    }
    set(&mut m, "store_name", string(o.store_name.clone()));
    set(&mut m, "created_at", php::datetime_value(&o.created_at));
    set(&mut m, "updated_at", php::datetime_value(&o.updated_at));
    set(&mut m, "total_item_count", php::int(o.total_item_count));
    set(&mut m, "hidden_tax_amount", money(o.amounts.hidden_tax));
    set(&mut m, "base_hidden_tax_amount", money(o.base.hidden_tax));
    for k in ["shipping_hidden_tax_amount", "base_shipping_hidden_tax_amnt", "base_shipping_hidden_tax_amount"] {
        set(&mut m, k, money(Decimal::ZERO));
    }
    set(&mut m, "paypal_ipn_customer_notified", php::int(0));
    if let (Some(b), Some(a)) = (&o.base_invoiced, &o.invoiced) {
        invoiced_into(&mut m, "base_", b);
        invoiced_into(&mut m, "", a);
        set(&mut m, "base_total_invoiced_cost", money(Decimal::ZERO));
    }
    if let (Some(b), Some(a)) = (&o.base_canceled, &o.canceled) {
        canceled_into(&mut m, "base_", b);
        canceled_into(&mut m, "", a);
    }
    if o.base_invoiced.is_some() || o.base_canceled.is_some() {
        let paid_base = o.base_invoiced.map_or(Decimal::ZERO, |a| a.grand_total);
        let paid = o.invoiced.map_or(Decimal::ZERO, |a| a.grand_total);
        set(&mut m, "base_total_due", money(o.base.grand_total - paid_base));
        set(&mut m, "total_due", money(o.amounts.grand_total - paid));
    }
    set(&mut m, "order_id", php::int(o.id));
    m
}

fn address(o: &Order, a: &OrderAddress) -> Value {
    structure([
        ("parent_id", php::int(o.id)),
        ("customer_address_id", php::opt_int(a.customer_address_id)),
        ("quote_address_id", Value::Nil),
        ("region_id", php::opt_int(a.region_id)),
        ("customer_id", php::opt_int(a.customer_id)),
        ("fax", Value::Nil),
        ("region", php::opt_str(a.region.as_deref())),
        ("postcode", string(a.postcode.clone())),
        ("lastname", string(a.lastname.clone())),
        ("street", string(a.street.clone())),
        ("city", string(a.city.clone())),
        ("email", string(a.email.clone())),
        ("telephone", string(a.telephone.clone())),
        ("country_id", string(a.country_id.clone())),
        ("firstname", string(a.firstname.clone())),
        ("address_type", string(a.address_type)),
        ("prefix", Value::Nil),
        ("middlename", Value::Nil),
        ("suffix", Value::Nil),
        ("company", php::opt_str(a.company.as_deref())),
        ("vat_id", Value::Nil),
        ("vat_is_valid", Value::Nil),
        ("vat_request_id", Value::Nil),
        ("vat_request_date", Value::Nil),
        ("vat_request_success", Value::Nil),
        ("address_id", php::int(a.id)),
    ])
}

fn item(o: &Order, i: &OrderItem) -> Value {
    let mut m = nil_map(ITEM_COLUMNS);
    let zero = || money(Decimal::ZERO);
    set(&mut m, "item_id", php::int(i.id));
    set(&mut m, "order_id", php::int(o.id));
    set(&mut m, "parent_item_id", php::opt_int(i.parent_item_id));
    set(&mut m, "quote_item_id", php::int(i.quote_item_id));
    set(&mut m, "store_id", php::int(o.store_id));
    set(&mut m, "created_at", php::datetime_value(&i.created_at));
    set(&mut m, "updated_at", php::datetime_value(&i.updated_at));
    set(&mut m, "product_id", php::int(i.product_id));
    set(&mut m, "product_type", string(i.product_type.clone()));
    set(&mut m, "product_options", string(i.product_options.clone()));
    set(&mut m, "weight", opt_money(i.weight));
    set(&mut m, "is_virtual", php::int(i64::from(i.is_virtual)));
    set(&mut m, "sku", string(i.sku.clone()));
    set(&mut m, "name", string(i.name.clone()));
    set(&mut m, "applied_rule_ids", php::opt_str(i.applied_rule_ids.as_deref()));
    for k in ["free_shipping", "is_qty_decimal", "no_discount", "is_nominal"] {
        set(&mut m, k, php::int(0));
    }
    set(&mut m, "qty_canceled", money(i.qty_canceled));
    set(&mut m, "qty_invoiced", money(i.qty_invoiced));
    set(&mut m, "qty_ordered", money(i.qty_ordered));
    set(&mut m, "qty_refunded", zero());
    set(&mut m, "qty_shipped", money(i.qty_shipped));
    set(&mut m, "price", money(i.amounts.price));
    set(&mut m, "base_price", money(i.base.price));
    set(&mut m, "original_price", money(i.amounts.original_price));
    set(&mut m, "base_original_price", if i.dummy { Value::Nil } else { money(i.base.original_price) });
    set(&mut m, "tax_percent", money(i.tax_percent));
    set(&mut m, "tax_amount", money(i.amounts.tax));
    set(&mut m, "base_tax_amount", money(i.base.tax));
    set(&mut m, "tax_invoiced", money(i.invoiced.tax));
    set(&mut m, "base_tax_invoiced", money(i.base_invoiced.tax));
    set(&mut m, "discount_percent", money(i.discount_percent));
    set(&mut m, "discount_amount", money(i.amounts.discount));
    set(&mut m, "base_discount_amount", money(i.base.discount));
    set(&mut m, "discount_invoiced", money(i.invoiced.discount));
    set(&mut m, "base_discount_invoiced", money(i.base_invoiced.discount));
    set(&mut m, "amount_refunded", zero());
    set(&mut m, "base_amount_refunded", zero());
    set(&mut m, "row_total", money(i.amounts.row_total));
    set(&mut m, "base_row_total", money(i.base.row_total));
    set(&mut m, "row_invoiced", money(i.invoiced.row));
    set(&mut m, "base_row_invoiced", money(i.base_invoiced.row));
    let row_weight = if i.dummy || i.is_virtual { Decimal::ZERO } else { i.weight.unwrap_or_default() * i.qty_ordered };
    set(&mut m, "row_weight", money(row_weight));
    if let Some(t) = i.tax_canceled {
        set(&mut m, "tax_canceled", money(t));
        set(&mut m, "hidden_tax_canceled", zero());
    }
    if !i.dummy {
        set(&mut m, "price_incl_tax", money(i.amounts.price_incl_tax));
        set(&mut m, "base_price_incl_tax", money(i.base.price_incl_tax));
        set(&mut m, "row_total_incl_tax", money(i.amounts.row_total_incl_tax));
        set(&mut m, "base_row_total_incl_tax", money(i.base.row_total_incl_tax));
        set(&mut m, "hidden_tax_amount", money(i.amounts.hidden_tax));
        set(&mut m, "base_hidden_tax_amount", money(i.base.hidden_tax));
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
            set(&mut m, k, zero());
        }
        set(&mut m, "weee_tax_applied", string("a:0:{}"));
    }
    if i.any_invoiced {
        set(&mut m, "hidden_tax_invoiced", zero());
        set(&mut m, "base_hidden_tax_invoiced", zero());
    }
    if i.has_children {
        set(&mut m, "has_children", Value::Boolean(true));
    }
    Value::Struct(m)
}

fn payment(o: &Order) -> Value {
    let mut m = nil_map(PAYMENT_COLUMNS);
    set(&mut m, "parent_id", php::int(o.id));
    set(&mut m, "base_shipping_amount", money(o.base.shipping));
    set(&mut m, "shipping_amount", money(o.amounts.shipping));
    set(&mut m, "base_amount_ordered", money(o.base.grand_total));
    set(&mut m, "amount_ordered", money(o.amounts.grand_total));
    for k in ["cc_exp_month", "cc_ss_start_year", "cc_ss_start_month", "cc_exp_year"] {
        set(&mut m, k, string("0"));
    }
    set(&mut m, "method", string(o.payment_method.clone()));
    set(&mut m, "additional_information", Value::Array(Vec::new()));
    set(&mut m, "payment_id", php::int(o.payment_id));
    if let (Some(b), Some(a)) = (&o.base_invoiced, &o.invoiced) {
        set(&mut m, "base_amount_paid", money(b.grand_total));
        set(&mut m, "amount_paid", money(a.grand_total));
        set(&mut m, "base_shipping_captured", money(b.shipping));
        set(&mut m, "shipping_captured", money(a.shipping));
    }
    Value::Struct(m)
}

/// `sales_order.info` of one order.
pub(crate) fn info_struct(o: &Order) -> Value {
    let mut m = header(o);
    m.insert("shipping_address".into(), o.shipping.as_ref().map_or(Value::Array(Vec::new()), |s| address(o, s)));
    m.insert("billing_address".into(), address(o, &o.billing));
    m.insert("items".into(), Value::Array(o.items.iter().map(|i| item(o, i)).collect()));
    m.insert("payment".into(), payment(o));
    let mut history: Vec<_> = o.history.iter().collect();
    history.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    m.insert(
        "status_history".into(),
        Value::Array(
            history
                .into_iter()
                .map(|h| {
                    structure([
                        ("parent_id", php::int(o.id)),
                        ("is_customer_notified", php::int(h.is_customer_notified)),
                        ("is_visible_on_front", php::int(0)),
                        ("comment", php::opt_str(h.comment.as_deref())),
                        ("status", string(h.status.clone())),
                        ("created_at", php::datetime_value(&h.created_at)),
                        ("entity_name", string(h.entity_name)),
                        ("store_id", php::int(o.store_id)),
                    ])
                })
                .collect(),
        ),
    );
    Value::Struct(m)
}

fn list_row(o: &Order) -> Value {
    let mut m = header(o);
    let name_src = o.tax_address();
    m.insert("firstname".into(), string(name_src.firstname.clone()));
    m.insert("middlename".into(), Value::Nil);
    m.insert("lastname".into(), string(name_src.lastname.clone()));
    m.insert("telephone".into(), string(name_src.telephone.clone()));
    m.insert("postcode".into(), string(name_src.postcode.clone()));
    m.insert("billing_firstname".into(), string(o.billing.firstname.clone()));
    m.insert("billing_lastname".into(), string(o.billing.lastname.clone()));
    m.insert("billing_name".into(), string(format!("{} {}", o.billing.firstname, o.billing.lastname)));
    let (sf, sl) = o
        .shipping
        .as_ref()
        .map_or((Value::Nil, Value::Nil), |s| (string(s.firstname.clone()), string(s.lastname.clone())));
    let sn = o.shipping.as_ref().map_or(Value::Nil, |s| string(format!("{} {}", s.firstname, s.lastname)));
    m.insert("shipping_firstname".into(), sf);
    m.insert("shipping_lastname".into(), sl);
    m.insert("shipping_name".into(), sn);
    Value::Struct(m)
}

fn column(row: &Map, field: &str) -> Option<Scalar> {
    let v = row.get(field)?;
    match v {
        Value::Nil => None,
        Value::Integer(i) => Some(Scalar::int(i64::from(*i))),
        Value::String(s) => {
            let numeric = field.contains("amount")
                || field.contains("total")
                || field.contains("rate")
                || field.ends_with("_invoiced")
                || field.ends_with("_canceled")
                || field.ends_with("_refunded")
                || field.ends_with("_incl_tax")
                || field == "subtotal"
                || field == "base_subtotal"
                || field == "weight"
                || field.ends_with("_due");
            if field == "created_at" || field == "updated_at" || field == "customer_dob" {
                crate::rpc::value::parse_datetime(s).map(Scalar::Date)
            } else if numeric && field != "increment_id" {
                Some(Scalar::Num(php::to_decimal_lenient(v)))
            } else {
                Some(Scalar::Text(s.clone()))
            }
        }
        _ => Some(Scalar::Text(php::to_php_string(v))),
    }
}

/// `sales_order.list(filters)`.
pub(crate) fn list(shop: &Shop, args: Args) -> ApiResult<Value> {
    let filter = Filter::parse(args.get(0), &[("order_id", "entity_id")]);
    let mut rows = Vec::new();
    let known = |f: &str| f == "entity_id" || HEADER_COLUMNS.contains(&f) || LIST_JOIN_COLUMNS.contains(&f);
    if let Some(bad) = filter.fields().find(|f| !known(f)) {
        return Err(ApiError::internal(format!(
            "SQLSTATE[42S22]: Column not found: 1054 Unknown column '{bad}' in 'where clause'"
        )));
    }
    for o in shop.sales.orders() {
        let row = list_row(o);
        let Value::Struct(m) = &row else { continue };
        let entity_id = Scalar::int(o.id);
        if filter.matches(|f| if f == "entity_id" { Some(entity_id.clone()) } else { column(m, f) }) {
            rows.push(row);
        }
    }
    Ok(Value::Array(rows))
}

const LIST_JOIN_COLUMNS: &[&str] = &[
    "firstname",
    "middlename",
    "lastname",
    "telephone",
    "postcode",
    "billing_firstname",
    "billing_lastname",
    "shipping_firstname",
    "shipping_lastname",
    "billing_name",
    "shipping_name",
];

fn order_id_arg(args: &Args) -> String {
    args.string(0).unwrap_or_default()
}

/// `sales_order.info(incrementId)`.
pub(crate) fn info(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let o = shop.sales.order_by_increment(&order_id_arg(&args)).ok_or_else(|| ApiError::api("not_exists"))?;
    Ok(info_struct(o))
}

/// `sales_order.addComment(incrementId, status, comment, notify)`.
pub(crate) fn add_comment(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let inc = order_id_arg(&args);
    let history_id = shop.sales.ids.next("order_status_history");
    let o = shop.sales.order_by_increment_mut(&inc).ok_or_else(|| ApiError::api("not_exists"))?;
    let status = match args.get(1) {
        Some(Value::Boolean(false)) | None => o.status.clone(),
        Some(Value::Boolean(true)) => Order::default_status(&o.state).to_owned(),
        Some(v) => php::to_php_string(v),
    };
    let comment = args.string(2).filter(|c| !c.is_empty());
    let notify = args.truthy(3);
    o.status = status.clone();
    o.add_history(history_id, &status, comment, i64::from(notify), "order", now);
    o.updated_at = now;
    Ok(Value::Boolean(true))
}

/// `sales_order.hold(incrementId)`.
pub(crate) fn hold(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(1)?;
    let inc = order_id_arg(&args);
    let history_id = shop.sales.ids.next("order_status_history");
    let o = shop.sales.order_by_increment_mut(&inc).ok_or_else(|| ApiError::api("not_exists"))?;
    if !o.can_hold() {
        return Err(ApiError::api_msg("status_not_changed", "Hold action is not available."));
    }
    o.hold_before = Some((o.state.clone(), o.status.clone()));
    o.state = "holded".into();
    o.status = "holded".into();
    o.add_history(history_id, "holded", None, 2, "order", now);
    o.updated_at = now;
    Ok(Value::Boolean(true))
}

/// `sales_order.unhold(incrementId)`.
pub(crate) fn unhold(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(1)?;
    let inc = order_id_arg(&args);
    let history_id = shop.sales.ids.next("order_status_history");
    let o = shop.sales.order_by_increment_mut(&inc).ok_or_else(|| ApiError::api("not_exists"))?;
    let Some((state, status)) = o.hold_before.take().filter(|_| o.state == "holded") else {
        return Err(ApiError::api_msg("status_not_changed", "Unhold action is not available."));
    };
    o.state = state;
    o.status = status.clone();
    o.add_history(history_id, &status, None, 2, "order", now);
    o.updated_at = now;
    Ok(Value::Boolean(true))
}

/// `sales_order.cancel(incrementId)`.
pub(crate) fn cancel(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(1)?;
    let inc = order_id_arg(&args);
    let history_id = shop.sales.ids.next("order_status_history");
    let o = shop.sales.order_by_increment_mut(&inc).ok_or_else(|| ApiError::api("not_exists"))?;
    if o.state == "canceled" || !o.can_cancel() {
        return Err(ApiError::api("status_not_changed"));
    }
    for i in &mut o.items {
        let to_cancel = if i.dummy {
            Decimal::ZERO
        } else {
            i.qty_to_invoice().min((i.qty_ordered - i.qty_shipped).max(Decimal::ZERO))
        };
        i.qty_canceled = to_cancel;
        let share = if i.qty_ordered.is_zero() { Decimal::ZERO } else { to_cancel / i.qty_ordered };
        i.tax_canceled = Some(php::cents(i.base.tax * share));
        i.updated_at = now;
    }
    let inv_base = o.base_invoiced.unwrap_or_default();
    let inv = o.invoiced.unwrap_or_default();
    let canceled = |t: &Amounts, i: &Amounts| Amounts {
        subtotal: t.subtotal - i.subtotal,
        discount: t.discount.abs() - i.discount.abs(),
        shipping: t.shipping - i.shipping,
        tax: t.tax - i.tax,
        grand_total: t.grand_total - i.grand_total,
        ..Default::default()
    };
    o.base_canceled = Some(canceled(&o.base, &inv_base));
    o.canceled = Some(canceled(&o.amounts, &inv));
    o.state = "canceled".into();
    o.status = "canceled".into();
    o.add_history(history_id, "canceled", None, 2, "order", now);
    o.updated_at = now;
    Ok(Value::Boolean(true))
}
