//! The Magento 1 client against real traffic: every recorded response the client needs decodes
//! into the domain types with the values the shop really sent, requests carry the XML-RPC
//! types the real server checks (compared to the recorded requests where they match), and
//! every recorded fault becomes the right error kind.
//!
//! The recordings (`../shared/recordings/magento1`) come from OpenMage 19.4.23; a scripted
//! fake server replays them.

mod magento_client_support;

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{TimeZone, Utc};
use dxr::Value;
use magento_client_support::*;
use magento_connector::magento::*;
use magento_connector::rpc::{Fault, value};
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A handler answering API paths from a table of recordings (or values).
fn replay(table: HashMap<&'static str, Result<Value, Fault>>) -> Handler {
    Box::new(move |path, _args| table.get(path).cloned().unwrap_or_else(|| Err(Fault::new(3, "Invalid api path."))))
}

async fn fake_with(table: Vec<(&'static str, &str)>) -> Fake {
    let t = table.into_iter().map(|(path, rec)| (path, recorded_response(rec))).collect();
    Fake::start(MultiCall::Supported, replay(t)).await
}

// ---------------------------------------------------------------------------------------------
// Orders

#[tokio::test]
async fn order_100000001_decodes_with_totals_discount_items_and_addresses() {
    let fake = fake_with(vec![("sales_order.info", "1030-sales_order.info")]).await;
    let o = fake.client().order("100000001").await.unwrap();

    assert_eq!((o.increment_id.as_str(), o.entity_id, o.store_id), ("100000001", 1, 1));
    assert_eq!((o.state.as_str(), o.status.as_str()), ("new", "pending"));
    assert_eq!(o.created_at, Utc.with_ymd_and_hms(2026, 11, 27, 2, 40, 54).unwrap());
    assert_eq!(o.customer.id, Some(1));
    assert!(!o.customer.is_guest);
    assert_eq!(o.customer.group_id, Some(1));
    assert_eq!(o.customer.email.as_deref(), Some("john.doe@example.com"));
    assert_eq!((o.currency.order.as_str(), o.currency.base.as_str()), ("USD", "USD"));

    let t = &o.totals;
    assert_eq!(t.grand_total, dec("230.28"));
    assert_eq!(t.subtotal, dec("213.74"));
    assert_eq!(t.subtotal_incl_tax, dec("228.08"));
    assert_eq!(t.discount_amount, dec("21.37"), "header discount is sent negative, stored positive");
    assert_eq!(t.shipping_amount, dec("25"));
    assert_eq!(t.shipping_incl_tax, dec("25"));
    assert_eq!(t.tax_amount, dec("12.91"));
    assert_eq!(t.subtotal - t.discount_amount + t.shipping_amount + t.tax_amount, t.grand_total);
    assert_eq!(o.base_totals.grand_total, dec("230.28"));
    assert_eq!(o.base_totals.discount_amount, dec("21.37"));
    assert_eq!(o.coupon_code.as_deref(), Some("CONNECTOR10"));
    assert_eq!(o.discount_description.as_deref(), Some("Coupon 10%"));
    assert_eq!(o.shipping_method.as_deref(), Some("flatrate_flatrate"));
    assert_eq!(o.shipping_description.as_deref(), Some("Flat Rate - Fixed"));
    assert_eq!(o.payment.method, "checkmo");
    assert_eq!(o.payment.amount_ordered, Some(dec("230.28")));

    let b = o.billing_address.as_ref().unwrap();
    assert_eq!(b.street, vec!["11 Wall Street", "Floor 3"]);
    assert_eq!(b.company.as_deref(), Some("Doe Consulting"));
    assert_eq!((b.city.as_deref(), b.region.as_deref(), b.region_id), (Some("New York"), Some("New York"), Some(43)));
    assert_eq!((b.postcode.as_deref(), b.country_id.as_deref()), (Some("10005"), Some("US")));
    assert_eq!(b.telephone.as_deref(), Some("212-555-0100"));
    let s = o.shipping_address.as_ref().unwrap();
    assert_eq!(s.street, vec!["1200 Ocean Ave", "Apt 4"]);
    assert_eq!((s.region_id, s.company.as_deref()), (Some(12), None));

    assert_eq!(o.items.len(), 3);
    let phone = &o.items[0];
    assert_eq!((phone.item_id, phone.sku.as_str(), phone.product_id), (1, "ELEC-PHN-001", Some(1)));
    assert_eq!((phone.qty_ordered, phone.price, phone.price_incl_tax), (dec("1"), dec("149.99"), dec("162.36")));
    assert_eq!((phone.tax_percent, phone.tax_amount), (dec("8.25"), dec("11.14")));
    assert_eq!((phone.discount_percent, phone.discount_amount), (dec("10"), dec("15")));
    assert_eq!(phone.product_options.info_buy_request, Some(serde_json::json!({"product_id": 1, "qty": 1})));
    let mugs = &o.items[1];
    assert_eq!((mugs.qty_ordered, mugs.row_total, mugs.row_total_incl_tax), (dec("3"), dec("23.85"), dec("25.82")));
    let book = &o.items[2];
    assert_eq!((book.tax_percent, book.discount_amount), (dec("0"), dec("3.99")));
    let item_discounts: Decimal = o.items.iter().map(|i| i.discount_amount).sum();
    assert_eq!(item_discounts, t.discount_amount);

    assert_eq!(o.status_history.len(), 1);
    assert_eq!(o.status_history[0].status.as_deref(), Some("pending"));
    assert_eq!(o.status_history[0].is_customer_notified, Some(true));
    assert_eq!(o.raw["protect_code"], serde_json::json!("[redacted]"), "guest access code kept out of snapshots");
    assert_eq!(o.raw["payment"]["cc_number_enc"], serde_json::Value::Null);
    assert_eq!(o.raw["payment"]["method"], serde_json::json!("checkmo"));
    assert_eq!(o.raw["base_discount_amount"], serde_json::json!("-21.3700"), "raw keeps Magento's values");
    assert_eq!(o.raw["items"][0]["sku"], serde_json::json!("ELEC-PHN-001"));

    // The request is exactly the recorded one (same session id, path and typed args).
    let (_, recorded) = recorded_request("1030-sales_order.info");
    let sent = fake.state.log.lock().unwrap().iter().find(|l| l.method == "call").unwrap().params.clone();
    assert_eq!(sent, recorded);
}

#[tokio::test]
async fn guest_order_with_a_configurable_product_keeps_parent_and_child_rows() {
    let fake = fake_with(vec![("sales_order.info", "1040-sales_order.info")]).await;
    let o = fake.client().order("100000002").await.unwrap();
    assert_eq!(o.customer.id, None);
    assert!(o.customer.is_guest);
    assert_eq!(o.customer.group_id, Some(0));
    assert_eq!((o.customer.firstname.as_deref(), o.customer.lastname.as_deref()), (Some("Guest"), Some("Buyer")));
    assert_eq!(o.totals.grand_total, dec("110.68"));
    assert_eq!(o.totals.discount_amount, dec("0"));
    assert_eq!(o.coupon_code, None);

    assert_eq!(o.items.len(), 4);
    let parent = &o.items[0];
    assert_eq!((parent.item_id, parent.parent_item_id, parent.product_type.as_str()), (4, None, "configurable"));
    assert_eq!(
        (parent.product_id, parent.sku.as_str(), parent.name.as_str()),
        (Some(19), "CLO-TSHIRT-BLUE-L", "Classic T-Shirt")
    );
    assert_eq!((parent.price, parent.qty_ordered, parent.tax_percent), (dec("21.9"), dec("2"), dec("8.375")));
    let opts = &parent.product_options;
    assert_eq!(opts.simple_sku.as_deref(), Some("CLO-TSHIRT-BLUE-L"));
    assert_eq!(opts.simple_name.as_deref(), Some("Classic T-Shirt Blue L"));
    assert_eq!(
        opts.attributes_info,
        vec![
            OptionLabel { label: "Color".into(), value: "Blue".into() },
            OptionLabel { label: "Size".into(), value: "L".into() }
        ]
    );
    assert_eq!(opts.info_buy_request.as_ref().unwrap()["super_attribute"], serde_json::json!({"94": 4, "134": 9}));

    let child = &o.items[1];
    assert_eq!((child.item_id, child.parent_item_id, child.product_id), (5, Some(4), Some(18)));
    assert_eq!((child.product_type.as_str(), child.sku.as_str()), ("simple", "CLO-TSHIRT-BLUE-L"));
    assert_eq!((child.price, child.price_incl_tax, child.qty_ordered), (dec("0"), dec("0"), dec("2")));
    assert_eq!(child.product_options.simple_sku, None);

    let warranty = &o.items[3];
    assert!(warranty.is_virtual);
    assert_eq!(warranty.sku, "SRV-WARRANTY-2Y");
    assert_eq!(o.billing_address.as_ref().unwrap().street, vec!["99 Broadway"]);
}

#[tokio::test]
async fn eur_order_keeps_order_and_base_currency_amounts_apart() {
    let fake = fake_with(vec![("sales_order.info", "1050-sales_order.info")]).await;
    let o = fake.client().order("200000001").await.unwrap();
    assert_eq!(o.store_id, 2);
    assert_eq!(
        (o.currency.order.as_str(), o.currency.base.as_str(), o.currency.store.as_deref()),
        ("EUR", "USD", Some("USD"))
    );
    assert_eq!(o.currency.base_to_order_rate, Some(dec("0.9")));
    assert_eq!((o.totals.grand_total, o.base_totals.grand_total), (dec("120.38"), dec("133.75")));
    assert_eq!((o.totals.shipping_amount, o.base_totals.shipping_amount), (dec("13.5"), dec("15")));
    let lamp = &o.items[0];
    assert_eq!((lamp.sku.as_str(), lamp.name.as_str()), ("API-LAMP-001", "Lampe de bureau en laiton"));
    assert_eq!((lamp.price, lamp.base_price, lamp.row_total), (dec("40.41"), dec("44.9"), dec("80.82")));
    assert_eq!(o.items[1].product_options.simple_sku.as_deref(), Some("CLO-TSHIRT-RED-S"));
    assert_eq!(o.items[2].parent_item_id, Some(9));
    assert_eq!(o.billing_address.as_ref().unwrap().customer_address_id, Some(6));
    let ship = o.shipping_address.as_ref().unwrap();
    assert_eq!((ship.customer_address_id, ship.street.len()), (Some(5), 2));
    assert_eq!(o.customer.id, Some(4));
}

#[tokio::test]
async fn order_after_invoice_and_shipment_reports_quantities_payments_and_history() {
    let fake = fake_with(vec![("sales_order.info", "1180-sales_order.info.after-invoice-shipment")]).await;
    let o = fake.client().order("100000001").await.unwrap();
    assert_eq!((o.state.as_str(), o.status.as_str()), ("complete", "complete"));
    assert_eq!((o.totals.total_paid, o.totals.total_invoiced), (dec("230.28"), dec("230.28")));
    for it in &o.items {
        assert_eq!((it.qty_invoiced, it.qty_shipped), (it.qty_ordered, it.qty_ordered), "{}", it.sku);
    }
    let h = &o.status_history;
    assert_eq!(h.len(), 5);
    assert_eq!((h[0].entity_name.as_deref(), h[0].status.as_deref()), (Some("shipment"), Some("complete")));
    assert_eq!((h[1].entity_name.as_deref(), h[1].status.as_deref()), (Some("invoice"), Some("processing")));
    assert_eq!(h[3].comment.as_deref(), Some("Imported into Odoo as SO042"));
    assert_eq!(h[3].is_customer_notified, Some(false));
    assert!(h[0].created_at.unwrap() >= h[4].created_at.unwrap(), "newest first");
}

#[tokio::test]
async fn a_virtual_order_has_no_shipping_address() {
    let mut v = recorded_response("1030-sales_order.info").unwrap();
    if let Value::Struct(m) = &mut v {
        m.insert("shipping_address".into(), Value::Array(vec![]));
        m.insert("is_virtual".into(), value::int(1));
    }
    let fake = Fake::start(MultiCall::Supported, replay([("sales_order.info", Ok(v))].into())).await;
    let o = fake.client().order("100000001").await.unwrap();
    assert!(o.shipping_address.is_none());
    assert!(o.billing_address.is_some());
    assert!(o.is_virtual);
}

#[tokio::test]
async fn orders_in_one_multicall_with_a_missing_one() {
    let known: HashMap<String, Value> = [
        ("100000001".to_owned(), recorded_response("1030-sales_order.info").unwrap()),
        ("100000002".to_owned(), recorded_response("1040-sales_order.info").unwrap()),
    ]
    .into();
    let not_found = recorded_response("1060-sales_order.info.FAULT-not-exists").unwrap_err();
    let fake = Fake::start(
        MultiCall::Supported,
        Box::new(move |path, args| {
            assert_eq!(path, "sales_order.info");
            match args.first() {
                Some(Value::String(inc)) => known.get(inc).cloned().ok_or_else(|| not_found.clone()),
                _ => Err(Fault::new(623, "Calling parameters do not match signature")),
            }
        }),
    )
    .await;
    let ids = ["100000001", "999999999", "100000002"].map(String::from);
    let out = fake.client().orders(&ids).await;
    assert_eq!(out.len(), 3);
    assert_eq!(out[0].as_ref().unwrap().totals.grand_total, dec("230.28"));
    let e = out[1].as_ref().unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!((e.key.as_deref(), e.fault_code), (Some("999999999"), Some(100)));
    assert_eq!(out[2].as_ref().unwrap().items.len(), 4);
    assert_eq!(fake.state.multicalls().len(), 1);
    assert_eq!(fake.state.count("call"), 0);
}

#[tokio::test]
async fn order_list_filter_and_headers() {
    let fake = fake_with(vec![("sales_order.list", "0990-sales_order.list")]).await;
    let filter = OrderFilter {
        created_from: Some(Utc.with_ymd_and_hms(2026, 11, 27, 1, 0, 0).unwrap()),
        created_to: Some(Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()),
        statuses: vec!["pending".into(), "processing".into()],
        store_ids: vec![1, 2],
        ..Default::default()
    };
    let list = fake.client().list_orders(&filter).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!((list[0].increment_id.as_str(), list[0].entity_id, list[0].customer_id), ("100000001", 1, Some(1)));
    assert_eq!(list[0].grand_total, dec("230.28"));
    assert!(list.iter().any(|o| o.customer_id.is_none()), "the guest order");
    let sent = &fake.state.calls("sales_order.list")[0];
    assert_eq!(
        sent,
        &vec![value::structure([
            (
                "created_at",
                value::structure([
                    ("from", value::string("2026-11-27 01:00:00")),
                    ("to", value::string("2026-11-28 00:00:00"))
                ])
            ),
            (
                "status",
                value::structure([("in", value::array([value::string("pending"), value::string("processing")]))])
            ),
            ("store_id", value::structure([("in", value::array([value::int(1), value::int(2)]))])),
        ])]
    );
}

// ---------------------------------------------------------------------------------------------
// Catalog

#[tokio::test]
async fn product_info_decodes_typed_fields_and_keeps_other_attributes() {
    let fake = fake_with(vec![("catalog_product.info", "0340-catalog_product.info")]).await;
    let p = fake.client().product("API-LAMP-001", Scope::Default).await.unwrap().unwrap();
    assert_eq!((p.id, p.sku.as_str(), p.type_id.as_str(), p.attribute_set_id), (20, "API-LAMP-001", "simple", 4));
    assert_eq!(p.name.as_deref(), Some("Brass Desk Lamp"));
    assert_eq!((p.price, p.special_price, p.weight), (Some(dec("49.9")), Some(dec("44.9")), Some(dec("1.25"))));
    assert_eq!(p.special_from_date, Some(Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap()));
    assert_eq!((p.enabled, p.visibility, p.tax_class_id), (Some(true), Some(Visibility::CatalogSearch), Some(2)));
    assert_eq!((p.category_ids.clone(), p.website_ids.clone()), (vec![9, 12], vec![1]));
    assert_eq!(p.created_at, Some(Utc.with_ymd_and_hms(2026, 11, 27, 2, 40, 49).unwrap()), "ISO-8601 with offset");
    assert_eq!(p.updated_at, Some(Utc.with_ymd_and_hms(2026, 11, 27, 2, 40, 50).unwrap()), "plain format");
    assert_eq!(p.url_key.as_deref(), Some("brass-desk-lamp"));
    assert_eq!(p.attributes["meta_keyword"], serde_json::json!("lamp, brass"));
    assert_eq!(p.attributes["color"], serde_json::Value::Null);
    assert!(!p.attributes.contains_key("price"));
    let sent = &fake.state.calls("catalog_product.info")[0];
    assert_eq!(
        sent,
        &vec![value::string("API-LAMP-001"), value::boolean(false), value::boolean(false), value::string("sku")]
    );
}

#[tokio::test]
async fn store_scoped_and_configurable_product_info() {
    let fake = fake_with(vec![("catalog_product.info", "0350-catalog_product.info.fr-store")]).await;
    let p = fake.client().product("API-LAMP-001", Scope::Store(2)).await.unwrap().unwrap();
    assert_eq!(p.name.as_deref(), Some("Lampe de bureau en laiton"));
    assert_eq!(fake.state.calls("catalog_product.info")[0][1], value::int(2));

    let fake = fake_with(vec![("catalog_product.info", "0360-catalog_product.info.by-sku")]).await;
    let p = fake.client().product("CLO-TSHIRT", Scope::Default).await.unwrap().unwrap();
    assert_eq!((p.id, p.type_id.as_str(), p.attribute_set_id), (19, "configurable", 9));
    assert_eq!(p.category_ids, vec![3, 4, 5]);
    assert_eq!(p.attributes["has_options"], serde_json::json!(1));
    // The recorded request used <nil/> placeholders; the client sends false instead.
    let recorded = recorded_args("0360-catalog_product.info.by-sku");
    assert_eq!(recorded[1..3], [Value::Nil, Value::Nil]);
    let sent = &fake.state.calls("catalog_product.info")[0];
    assert_eq!((sent[0].clone(), sent[3].clone()), (recorded[0].clone(), recorded[3].clone()));
    assert_eq!(sent[1..3], [value::boolean(false), value::boolean(false)]);
}

#[tokio::test]
async fn a_missing_product_is_none_and_other_faults_stay_errors() {
    let fake = fake_with(vec![("catalog_product.info", "0380-catalog_product.info.FAULT-not-exists")]).await;
    assert_eq!(fake.client().product("NOPE", Scope::Default).await.unwrap(), None);
    let fake = fake_with(vec![("catalog_product.info", "1290-customer.list.FAULT-access-denied")]).await;
    let e = fake.client().product("X", Scope::Default).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
}

#[tokio::test]
async fn a_numeric_sku_is_looked_up_as_a_sku() {
    // Without identifierType the real shop takes '1001' for an entity id (recording 0370).
    let fake = Fake::start(
        MultiCall::Supported,
        Box::new(|path, args| {
            assert_eq!(path, "catalog_product.info");
            if args.get(3) == Some(&value::string("sku")) {
                let mut v = recorded_response("0340-catalog_product.info").unwrap();
                if let Value::Struct(m) = &mut v {
                    m.insert("sku".into(), value::string("1001"));
                    m.insert("product_id".into(), value::int(21));
                }
                Ok(v)
            } else {
                recorded_response("0370-catalog_product.info.numeric-sku-ambiguity")
            }
        }),
    )
    .await;
    let p = fake.client().product("1001", Scope::Default).await.unwrap().unwrap();
    assert_eq!((p.id, p.sku.as_str()), (21, "1001"));
}

#[tokio::test]
async fn product_list_filter_matches_the_recorded_request() {
    let fake = fake_with(vec![("catalog_product.list", "0410-catalog_product.list.filter-updated_at")]).await;
    let since = Utc.with_ymd_and_hms(2026, 11, 27, 2, 10, 51).unwrap();
    let filter = ProductFilter { updated_since: Some(since), type_id: Some("simple".into()), skus: None };
    let list = fake.client().list_products(&filter).await.unwrap();
    assert_eq!(
        fake.state.calls("catalog_product.list")[0],
        recorded_args("0410-catalog_product.list.filter-updated_at")
    );
    assert!(!list.is_empty());
    assert!(list.iter().all(|p| p.type_id == "simple"));
    assert!(list.iter().any(|p| p.sku == "API-LAMP-001" && p.id == 20 && p.attribute_set_id == 4));
}

#[tokio::test]
async fn category_trees_decode_with_scope() {
    let fake = fake_with(vec![("catalog_category.tree", "0130-catalog_category.tree")]).await;
    let t = fake.client().category_tree(None, Scope::Default).await.unwrap();
    assert_eq!((t.id, t.parent_id, t.name.as_str(), t.level, t.is_active), (1, None, "Root Catalog", 0, false));
    assert_eq!(t.children.len(), 1);
    let root = &t.children[0];
    assert_eq!((root.id, root.parent_id, root.name.as_str(), root.level), (2, Some(1), "Default Category", 1));
    assert_eq!(root.children.iter().map(|c| c.id).collect::<Vec<_>>(), vec![3, 6, 9, 10, 11]);
    assert_eq!(t.walk().len(), 11);
    assert!(!t.find(11).unwrap().is_active, "Sale is inactive");
    assert_eq!(t.find(8).unwrap().name, "Accessories");
    assert_eq!(fake.state.calls("catalog_category.tree")[0], vec![value::int(1)]);

    let fake = fake_with(vec![("catalog_category.tree", "0140-catalog_category.tree.fr-store")]).await;
    let t = fake.client().category_tree(Some(2), Scope::Store(2)).await.unwrap();
    assert_eq!(t.id, 2);
    assert_eq!(t.find(9).unwrap().name, "Maison & Jardin");
    assert_eq!(fake.state.calls("catalog_category.tree")[0], vec![value::int(2), value::int(2)]);
}

#[tokio::test]
async fn category_info_create_and_update() {
    let fake = fake_with(vec![
        ("catalog_category.info", "0180-catalog_category.info"),
        ("catalog_category.create", "0170-catalog_category.create"),
        ("catalog_category.update", "0190-catalog_category.update"),
    ])
    .await;
    let c = fake.client();
    let info = c.category(12, Scope::Default).await.unwrap();
    assert_eq!((info.id, info.parent_id, info.name.as_str(), info.level), (12, Some(3), "Kids", 3));
    assert_eq!((info.is_active, info.include_in_menu, info.is_anchor), (true, true, true));
    assert_eq!(info.path, "1/2/3/12");
    assert_eq!(info.available_sort_by, vec!["position", "name", "price"]);
    assert_eq!(info.default_sort_by.as_deref(), Some("position"));
    assert!(info.children_ids.is_empty());
    assert_eq!(info.url_key.as_deref(), Some("kids-clothing"));

    let mut kids = NewCategory::new("Kids");
    kids.attributes.insert("description".into(), AttrValue::Text("Clothing for children".into()));
    kids.attributes.insert("url_key".into(), AttrValue::Text("kids-clothing".into()));
    assert_eq!(c.create_category(3, &kids).await.unwrap(), 12);
    assert_eq!(fake.state.calls("catalog_category.create")[0], recorded_args("0170-catalog_category.create"));

    let upd = CategoryUpdate { name: Some("Enfants".into()), ..Default::default() };
    c.update_category(12, &upd, Scope::Store(2)).await.unwrap();
    assert_eq!(
        fake.state.calls("catalog_category.update")[0],
        vec![value::int(12), value::structure([("name", value::string("Enfants"))]), value::int(2)]
    );
}

#[tokio::test]
async fn stores_get_their_group_root_category() {
    let level = value::array([value::structure([
        ("category_id", value::int(2)),
        ("parent_id", value::int(1)),
        ("name", value::string("Default Category")),
        ("is_active", value::int(1)),
        ("position", value::int(1)),
        ("level", value::int(1)),
    ])]);
    let fake = Fake::start(
        MultiCall::Supported,
        replay([("store.list", recorded_response("0080-store.list")), ("catalog_category.level", Ok(level))].into()),
    )
    .await;
    let stores = fake.client().stores().await.unwrap();
    assert_eq!(stores.len(), 2);
    assert_eq!(
        stores[1],
        StoreView {
            id: 2,
            code: "fr".into(),
            name: "French Store View".into(),
            website_id: 1,
            group_id: 1,
            root_category_id: 2,
            is_active: true,
            sort_order: 1
        }
    );
    assert_eq!(stores[0].root_category_id, 2);
    assert_eq!(fake.state.calls("catalog_category.level"), vec![vec![value::int(1)]]);
    assert_eq!(fake.state.calls_to("catalog_category.tree"), 0, "one root per website needs no tree call");
}

#[tokio::test]
async fn a_website_with_several_roots_resolves_each_group() {
    let store = |id: i32, group: i32, code: &str| {
        value::structure([
            ("store_id", value::int(id)),
            ("code", value::string(code)),
            ("website_id", value::int(1)),
            ("group_id", value::int(group)),
            ("name", value::string(code)),
            ("sort_order", value::int(0)),
            ("is_active", value::int(1)),
        ])
    };
    let node = |id: i32| {
        value::structure([
            ("category_id", value::int(id)),
            ("parent_id", value::int(1)),
            ("name", value::string(format!("root {id}"))),
            ("is_active", value::int(1)),
            ("position", value::int(1)),
            ("level", value::int(1)),
            ("children", value::array([])),
        ])
    };
    let (node2, node40) = (node(2), node(40));
    let stores_v = value::array([store(1, 1, "default"), store(2, 1, "fr"), store(3, 2, "outlet")]);
    let level_v = value::array([node(2), node(40)]);
    let fake = Fake::start(
        MultiCall::Supported,
        Box::new(move |path, args| match path {
            "store.list" => Ok(stores_v.clone()),
            "catalog_category.level" => Ok(level_v.clone()),
            "catalog_category.tree" => match args.get(1) {
                Some(Value::Integer(1)) => Ok(node2.clone()),
                Some(Value::Integer(3)) => Ok(node40.clone()),
                _ => Err(Fault::new(100, "Requested store view not found.")),
            },
            _ => Err(Fault::new(3, "Invalid api path.")),
        }),
    )
    .await;
    let stores = fake.client().stores().await.unwrap();
    let roots: Vec<(i64, i64)> = stores.iter().map(|s| (s.id, s.root_category_id)).collect();
    assert_eq!(roots, vec![(1, 2), (2, 2), (3, 40)]);
    assert_eq!(
        fake.state.calls("catalog_category.tree"),
        vec![vec![Value::Nil, value::int(1)], vec![Value::Nil, value::int(3)]]
    );
}

#[tokio::test]
async fn version_and_tax_classes() {
    let options = value::array([
        value::structure([("label", value::string("")), ("value", value::string(""))]),
        value::structure([("label", value::string("None")), ("value", value::string("0"))]),
        value::structure([("label", value::string("Taxable Goods")), ("value", value::int(2))]),
        value::structure([("label", value::string("Shipping")), ("value", value::int(4))]),
    ]);
    let fake = Fake::start(
        MultiCall::Supported,
        replay(
            [
                ("magento.info", recorded_response("0040-magento.info")),
                ("catalog_product_attribute.options", Ok(options)),
            ]
            .into(),
        ),
    )
    .await;
    let c = fake.client();
    let v = c.version().await.unwrap();
    assert_eq!(
        v,
        VersionInfo {
            edition: "Community".into(),
            version: "1.9.4.5".into(),
            openmage_version: Some("19.4.23".into())
        }
    );
    let classes = c.tax_classes().await.unwrap();
    assert_eq!(
        classes,
        vec![
            TaxClass { id: 0, name: "None".into() },
            TaxClass { id: 2, name: "Taxable Goods".into() },
            TaxClass { id: 4, name: "Shipping".into() }
        ]
    );
    assert_eq!(fake.state.calls("catalog_product_attribute.options")[0], vec![value::string("tax_class_id")]);
}

#[tokio::test]
async fn tax_classes_from_a_recorded_options_answer_skip_the_empty_option() {
    let fake = fake_with(vec![("catalog_product_attribute.options", "0240-product_attribute.options")]).await;
    let classes = fake.client().tax_classes().await.unwrap();
    assert_eq!(
        classes.iter().map(|c| (c.id, c.name.as_str())).collect::<Vec<_>>(),
        vec![(3, "Red"), (4, "Blue"), (5, "Black"), (6, "White")]
    );
}

// ---------------------------------------------------------------------------------------------
// Stock and media

#[tokio::test]
async fn stock_list_reads_int_and_boolean_flags_and_matches_the_recorded_request() {
    let fake = fake_with(vec![("cataloginventory_stock_item.list", "0470-cataloginventory_stock_item.list")]).await;
    let skus = ["20", "ELEC-ACC-001", "HOME-003", "12", "NO-SUCH-SKU"].map(String::from);
    let stock = fake.client().stock(&skus).await.unwrap();
    assert_eq!(
        fake.state.calls("cataloginventory_stock_item.list")[0],
        recorded_args("0470-cataloginventory_stock_item.list")
    );
    let by_sku: HashMap<&str, &StockItem> = stock.iter().map(|s| (s.sku.as_str(), s)).collect();
    assert_eq!(stock.len(), 4);
    assert_eq!((by_sku["ELEC-ACC-001"].qty, by_sku["ELEC-ACC-001"].is_in_stock), (dec("123.5"), true));
    assert!(!by_sku["HOME-003"].is_in_stock);
    assert!(by_sku["SRV-WARRANTY-2Y"].is_in_stock, "sent as <boolean>1");
    assert_eq!((by_sku["API-LAMP-001"].product_id, by_sku["API-LAMP-001"].qty), (20, dec("42")));
}

#[tokio::test]
async fn media_list_and_create_match_the_recordings() {
    let fake = fake_with(vec![
        ("catalog_product_attribute_media.list", "0510-catalog_product_attribute_media.list"),
        ("catalog_product_attribute_media.create", "0490-catalog_product_attribute_media.create"),
    ])
    .await;
    let c = fake.client();
    let images = c.images("API-LAMP-001").await.unwrap();
    assert_eq!(
        images,
        vec![ProductImage {
            file: "/b/r/brass-lamp.png".into(),
            label: Some("Brass lamp front".into()),
            position: Some(1),
            disabled: false,
            url: Some("http://127.0.0.1:8080/media/catalog/product/b/r/brass-lamp.png".into()),
            roles: vec![ImageRole::Base, ImageRole::Small, ImageRole::Thumbnail],
        }]
    );

    let recorded = recorded_args("0490-catalog_product_attribute_media.create");
    let Value::Struct(data) = &recorded[1] else { panic!() };
    let Value::Struct(file) = &data["file"] else { panic!() };
    let Value::String(b64) = &file["content"] else { panic!() };
    use base64::Engine as _;
    let content = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    let img = NewImage {
        mime: ImageMime::sniff(&content).unwrap(),
        content,
        name: "brass-lamp.png".into(),
        label: Some("Brass lamp front".into()),
        position: Some(1),
        roles: vec![ImageRole::Base, ImageRole::Small, ImageRole::Thumbnail],
        disabled: false,
    };
    assert_eq!(c.add_image("API-LAMP-001", &img).await.unwrap(), "/b/r/brass-lamp.png");
    let sent = &fake.state.calls("catalog_product_attribute_media.create")[0];
    assert_eq!(sent[1], recorded[1], "same data struct: base64 in a <string>, name without extension");
    assert_eq!(sent[2..], [value::boolean(false), value::string("sku")]);
}

// ---------------------------------------------------------------------------------------------
// Customers

#[tokio::test]
async fn customer_and_address_book() {
    let fake = fake_with(vec![
        ("customer.info", "0550-customer.info"),
        ("customer_address.list", "0610-customer_address.list"),
    ])
    .await;
    let c = fake.client();
    let cu = c.customer(4).await.unwrap();
    assert_eq!((cu.id, cu.email.as_str()), (4, "emily.nguyen@example.com"));
    assert_eq!((cu.firstname.as_deref(), cu.lastname.as_deref()), (Some("Emily"), Some("Nguyen")));
    assert_eq!((cu.group_id, cu.website_id, cu.store_id, cu.gender), (Some(1), Some(1), Some(1), Some(2)));
    assert_eq!(cu.dob, Some(Utc.with_ymd_and_hms(1990, 2, 3, 0, 0, 0).unwrap()));
    assert_eq!(cu.created_in.as_deref(), Some("Default Store View"));
    assert_eq!(cu.default_billing, None);
    let debug = format!("{cu:?}");
    assert!(!debug.contains("76c493ea") && !debug.contains("f9e0dcdb"), "no password hash or confirmation key");

    let book = c.customer_addresses(4).await.unwrap();
    assert_eq!(book.len(), 2);
    let ca = book.iter().find(|a| a.id == 5).unwrap();
    assert_eq!(ca.street, vec!["742 Evergreen Terrace", "Suite 2"]);
    assert!(ca.is_default_billing && ca.is_default_shipping);
    assert_eq!((ca.region_id, ca.postcode.as_deref()), (Some(12), Some("95814")));
    let ny = book.iter().find(|a| a.id == 6).unwrap();
    assert!(!ny.is_default_billing);
    assert_eq!(ny.street, vec!["1 Main St"]);
}

// ---------------------------------------------------------------------------------------------
// Order follow-up requests

#[tokio::test]
async fn follow_up_requests_match_the_recordings() {
    let fake = fake_with(vec![
        ("sales_order.addComment", "1070-sales_order.addComment"),
        ("sales_order.hold", "1100-sales_order.hold"),
        ("sales_order.cancel", "1190-sales_order.cancel"),
        ("sales_order_invoice.create", "1120-sales_order_invoice.create"),
        ("sales_order_shipment.create", "1150-sales_order_shipment.create"),
        ("sales_order_shipment.addTrack", "1160-sales_order_shipment.addTrack"),
    ])
    .await;
    let c = fake.client();
    let comment = OrderComment {
        status: Some("processing".into()),
        comment: "Imported into Odoo as SO042".into(),
        notify: false,
    };
    c.add_order_comment("100000001", &comment).await.unwrap();
    c.hold_order("100000002").await.unwrap();
    c.cancel_order("100000002").await.unwrap();
    let inv = InvoiceRequest { comment: Some("Invoiced from Odoo".into()), ..Default::default() };
    assert_eq!(c.create_invoice("100000001", &inv).await.unwrap(), "100000001");
    let shp = ShipmentRequest { comment: Some("Shipped from WH/OUT/00042".into()), ..Default::default() };
    assert_eq!(c.create_shipment("100000001", &shp).await.unwrap(), "100000001");
    let track = Track { carrier_code: "ups".into(), title: "UPS Ground".into(), number: "1Z999AA10123456784".into() };
    assert_eq!(c.add_track("100000001", &track).await.unwrap(), 1);

    let (_, hold) = recorded_request("1100-sales_order.hold");
    let (_, cancel) = recorded_request("1190-sales_order.cancel");
    let log = fake.state.log.lock().unwrap().clone();
    let sent: Vec<&Vec<Value>> = log.iter().filter(|l| l.method == "call").map(|l| &l.params).collect();
    assert_eq!(sent[0], &recorded_request("1070-sales_order.addComment").1);
    assert_eq!(sent[1], &hold);
    assert_eq!(sent[2], &cancel);
    assert_eq!(sent[3], &recorded_request("1120-sales_order_invoice.create").1);
    assert_eq!(sent[4], &recorded_request("1150-sales_order_shipment.create").1);
    assert_eq!(sent[5], &recorded_request("1160-sales_order_shipment.addTrack").1);
}

#[tokio::test]
async fn login_and_end_session_match_the_recordings() {
    let fake = fake_with(vec![("magento.info", "0040-magento.info")]).await;
    let c = fake.client();
    c.version().await.unwrap();
    c.close().await.unwrap();
    let log = fake.state.log.lock().unwrap().clone();
    assert_eq!((log[0].method.as_str(), &log[0].params), ("login", &recorded_request("0010-login").1));
    let end = log.iter().find(|l| l.method == "endSession").unwrap();
    assert_eq!(end.params, recorded_request("1330-endSession").1);
    assert!(fake.state.sessions.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn recorded_faults_become_the_right_error_kinds() {
    let cases: Vec<(&str, &str, ErrorKind, i32)> = vec![
        ("catalog_category.info", "0200-catalog_category.info.FAULT-not-exists", ErrorKind::NotFound, 102),
        ("customer.info", "0630-customer.info.FAULT-not-exists", ErrorKind::NotFound, 102),
        ("sales_order.info", "1060-sales_order.info.FAULT-not-exists", ErrorKind::NotFound, 100),
        ("sales_order_invoice.create", "1140-sales_order_invoice.create.FAULT-cannot-invoice", ErrorKind::Refused, 102),
        ("sales_order.cancel", "1200-sales_order.cancel.FAULT-not-cancelable", ErrorKind::Refused, 103),
        ("catalog_product.create", "0290-catalog_product.create.FAULT-bad-type", ErrorKind::Refused, 104),
        ("catalog_product.list", "0430-catalog_product.list.FAULT-bad-filter", ErrorKind::Refused, 0),
        (
            "catalog_product_attribute_media.create",
            "0500-catalog_product_attribute_media.create.FAULT-bad-mime",
            ErrorKind::Refused,
            102,
        ),
        (
            "cataloginventory_stock_item.update",
            "0480-cataloginventory_stock_item.update.FAULT-not-exists",
            ErrorKind::NotFound,
            101,
        ),
        ("catalog_category.create", "0160-catalog_category.create.FAULT-missing-required", ErrorKind::Refused, 103),
        ("customer_address.list", "1290-customer.list.FAULT-access-denied", ErrorKind::Auth, 2),
        ("store.list", "1230-call.FAULT-invalid-api-path", ErrorKind::Protocol, 3),
        ("magento.info", "1240-call.FAULT-struct-args", ErrorKind::Protocol, 623),
    ];
    let table: HashMap<&'static str, Result<Value, Fault>> =
        cases.iter().map(|(p, rec, _, _)| (*p, recorded_response(rec))).collect();
    let fake = Fake::start(MultiCall::Supported, replay(table)).await;
    let c = fake.client();
    let p = NewProduct { sku: "X-1".into(), type_id: "foo".into(), attribute_set_id: 4, data: ProductData::default() };
    let img = NewImage {
        content: vec![1, 2, 3],
        mime: ImageMime::Gif,
        name: "x".into(),
        label: None,
        position: None,
        roles: vec![],
        disabled: false,
    };
    let results: Vec<(&str, MagentoError)> = vec![
        ("catalog_category.info", c.category(999, Scope::Default).await.unwrap_err()),
        ("customer.info", c.customer(999999).await.unwrap_err()),
        ("sales_order.info", c.order("999999999").await.unwrap_err()),
        ("sales_order_invoice.create", c.create_invoice("100000001", &InvoiceRequest::default()).await.unwrap_err()),
        ("sales_order.cancel", c.cancel_order("100000001").await.unwrap_err()),
        ("catalog_product.create", c.create_product(&p).await.unwrap_err()),
        ("catalog_product.list", c.list_products(&ProductFilter::default()).await.unwrap_err()),
        ("catalog_product_attribute_media.create", c.add_image("X-1", &img).await.unwrap_err()),
        (
            "cataloginventory_stock_item.update",
            c.update_stock(&[StockUpdate { sku: "999999".into(), ..Default::default() }])
                .await
                .pop()
                .unwrap()
                .unwrap_err(),
        ),
        ("catalog_category.create", c.create_category(3, &NewCategory::new("Kids")).await.unwrap_err()),
        ("customer_address.list", c.customer_addresses(1).await.unwrap_err()),
        ("store.list", c.stores().await.unwrap_err()),
        ("magento.info", c.version().await.unwrap_err()),
    ];
    for ((path, rec, kind, code), (p2, err)) in cases.iter().zip(results) {
        assert_eq!(*path, p2);
        assert_eq!((err.kind, err.fault_code), (*kind, Some(*code)), "{rec}: {err}");
        assert_eq!(err.method, *path, "{err}");
        let expected = recorded_response(rec).unwrap_err().message;
        assert!(err.message.starts_with(&expected), "{rec}: {err}");
    }
}

#[tokio::test]
async fn a_wrong_api_key_is_an_auth_error_without_the_key() {
    let fake = Fake::start(MultiCall::Supported, replay(HashMap::new())).await;
    let c = fake.client_with(|ep| ep.api_key = "wrong-key-value".into());
    let e = c.version().await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!((e.method.as_str(), e.fault_code), ("login", Some(2)));
    assert_eq!(recorded_response("0020-login.FAULT-wrong-key").unwrap_err(), Fault::new(2, "Access denied."));
    assert_eq!(e.message, "API user \"connector\" refused: Access denied.");
    assert!(!e.to_string().contains("wrong-key-value"));
}

#[tokio::test]
async fn recorded_multicall_answers_give_per_item_results() {
    // 1210 answers five calls; the second is `{isFault, faultCode: "101", faultMessage}` and
    // the fourth `{…faultCode: "3"…}` (string codes, unlike top-level faults).
    let fake = Fake::start(MultiCall::Supported, replay(HashMap::new())).await;
    *fake.state.multicall_reply.lock().unwrap() = Some(recorded_response("1210-multiCall").unwrap());
    let updates: Vec<StockUpdate> =
        (0..5).map(|i| StockUpdate { sku: format!("S{i}"), ..Default::default() }).collect();
    let out = fake.client().update_stock(&updates).await;
    assert!(out[0].is_ok() && out[2].is_ok() && out[4].is_ok(), "{out:?}");
    let missing = out[1].as_ref().unwrap_err();
    assert_eq!(
        (missing.kind, missing.fault_code, missing.key.as_deref()),
        (ErrorKind::NotFound, Some(101), Some("S1"))
    );
    assert_eq!(missing.message, "Product not exists.");
    let bad_path = out[3].as_ref().unwrap_err();
    assert_eq!((bad_path.kind, bad_path.fault_code), (ErrorKind::Protocol, Some(3)));
    assert_eq!(fake.state.multicalls().len(), 1);
    assert_eq!(fake.state.count("call"), 0, "no item is re-run: none failed with fault 1");

    // 1300 (restricted user): the second item is denied.
    *fake.state.multicall_reply.lock().unwrap() = Some(recorded_response("1300-multiCall.access-denied").unwrap());
    let out = fake.client().update_stock(&updates[..2]).await;
    assert!(out[0].is_ok());
    let denied = out[1].as_ref().unwrap_err();
    assert_eq!((denied.kind, denied.fault_code), (ErrorKind::Auth, Some(2)));
}
