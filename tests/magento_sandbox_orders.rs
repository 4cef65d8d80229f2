//! Orders in the Magento 1 sandbox: seeded and generated orders reconcile to the cent in both
//! currencies, the order builder's cases, list filters, and the order state machine through
//! invoices, shipments, holds, comments and cancellation.

mod magento_sandbox_support;

use dxr::Value;
use magento_connector::sandbox::magento1::{
    AddressSpec, CustomerSpec, LineSpec, NewAddress, OrderBuildError, OrderSpec,
};
use magento_sandbox_support::*;
use rust_decimal::Decimal;

fn d(x: &str) -> Decimal {
    x.parse().unwrap()
}

/// subtotal + discount + shipping + tax = grand total, per currency, and the items add up.
fn assert_reconciles(o: &Value) {
    let inc = text(o, "increment_id");
    for prefix in ["", "base_"] {
        let f = |k: &str| dec(o, &format!("{prefix}{k}"));
        assert_eq!(
            f("subtotal") + f("discount_amount") + f("shipping_amount") + f("tax_amount"),
            f("grand_total"),
            "{inc} {prefix}totals"
        );
        let rows = items(get(o, "items"));
        let sum = |k: &str| rows.iter().map(|r| dec(r, &format!("{prefix}{k}"))).sum::<Decimal>();
        assert_eq!(sum("row_total"), f("subtotal"), "{inc} {prefix}row totals");
        assert_eq!(-sum("discount_amount"), f("discount_amount"), "{inc} {prefix}discounts");
        assert_eq!(sum("tax_amount") + f("shipping_tax_amount"), f("tax_amount"), "{inc} {prefix}tax");
        assert_eq!(
            f("shipping_incl_tax"),
            f("shipping_amount") + f("shipping_tax_amount"),
            "{inc} {prefix}shipping incl tax"
        );
    }
}

#[tokio::test]
async fn seeded_orders_reconcile_in_both_currencies_and_show_each_case() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let list = c.call0("sales_order.list").await.unwrap();
    let incs: Vec<String> = items(&list).iter().map(|o| text(o, "increment_id")).collect();
    assert_eq!(incs, ["100000001", "100000002", "200000001", "100000003", "100000004", "100000005", "300000001"]);
    for inc in &incs {
        let o = c.call("sales_order.info", vec![s(inc)]).await.unwrap();
        assert_reconciles(&o);
        assert_eq!((text(&o, "state"), text(&o, "status")), ("new".into(), "pending".into()));
    }
    let info = |inc: &'static str| c.call("sales_order.info", vec![s(inc)]);
    // (1) coupon, different addresses, tax after discount: the recorded totals.
    let o = info("100000001").await.unwrap();
    assert_eq!(
        (text(&o, "grand_total"), text(&o, "discount_amount"), text(&o, "tax_amount")),
        ("230.2800".into(), "-21.3700".into(), "12.9100".into())
    );
    assert_eq!(text(&o, "coupon_code"), "CONNECTOR10");
    assert_ne!(text(get(&o, "billing_address"), "region"), text(get(&o, "shipping_address"), "region"));
    assert_eq!(text(&items(get(&o, "items"))[0], "discount_amount"), "15.0000", "item discounts are positive");
    // (2) guest with a configurable: parent with the money and the child's SKU, child at 0.
    let o = info("100000002").await.unwrap();
    assert_eq!((get(&o, "customer_id"), get(&o, "customer_is_guest")), (&Value::Nil, &i(1)));
    let rows = items(get(&o, "items"));
    assert_eq!(
        (text(&rows[0], "product_type"), text(&rows[0], "sku")),
        ("configurable".into(), "CLO-TSHIRT-BLUE-L".into())
    );
    assert_eq!(text(&rows[0], "price"), "21.9000", "19.90 + 2.00 for size L");
    assert_eq!(get(&rows[0], "has_children"), &Value::Boolean(true));
    assert_eq!(get(&rows[1], "parent_item_id"), get(&rows[0], "item_id"));
    assert_eq!((text(&rows[1], "price"), get(&rows[1], "price_incl_tax")), ("0.0000".into(), &Value::Nil));
    assert!(text(&rows[0], "product_options").starts_with("a:6:{s:15:\"info_buyRequest\""));
    assert_eq!(text(&o, "shipping_amount"), "15.0000", "3 shippable units; the virtual warranty does not count");
    // (3) EUR order: base USD, order EUR at 0.9.
    let o = info("200000001").await.unwrap();
    assert_eq!(
        (text(&o, "order_currency_code"), text(&o, "base_currency_code"), text(&o, "base_to_order_rate")),
        ("EUR".into(), "USD".into(), "0.9000".into())
    );
    assert_eq!(dec(&o, "shipping_amount"), dec(&o, "base_shipping_amount") * d("0.9"));
    assert!(dec(&o, "grand_total") < dec(&o, "base_grand_total"));
    assert!(get(get(&o, "billing_address"), "customer_address_id") != &Value::Nil, "picked from the address book");
    // (4) fixed discount spread over the rows.
    let o = info("100000003").await.unwrap();
    assert_eq!((text(&o, "discount_amount"), text(&o, "coupon_code")), ("-5.0000".into(), "SAVE5".into()));
    assert!(items(get(&o, "items")).iter().all(|r| dec(r, "discount_amount") > Decimal::ZERO));
    // (5) the SKU OpenERP does not know.
    let o = info("100000004").await.unwrap();
    assert!(items(get(&o, "items")).iter().any(|r| text(r, "sku") == "ELEC-HDPH-001"));
    // (6) returning customer, new shipping address, taxed shipping.
    let o = info("100000005").await.unwrap();
    assert_eq!(get(&o, "customer_id"), &i(1));
    assert_eq!(get(get(&o, "shipping_address"), "customer_address_id"), &Value::Nil);
    assert_eq!(text(&o, "shipping_tax_amount"), "0.8300", "10.00 × 8.25 %");
    // Status history newest first; list rows carry the address join columns.
    let row = &items(&list)[0];
    assert_eq!((text(row, "billing_name"), text(row, "shipping_name")), ("John Doe".into(), "John Doe".into()));
    assert!(
        matches!(row, Value::Struct(m) if !m.contains_key("items") && !m.contains_key("billing_address")),
        "list rows are headers"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn the_builder_places_orders_per_store_and_refuses_bad_specs() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let ca = NewAddress {
        firstname: "Ann".into(),
        lastname: "Lee".into(),
        company: None,
        street: vec!["1 A St".into(), "B".into()],
        city: "Fresno".into(),
        region_id: Some(12),
        region: None,
        postcode: "93650".into(),
        country_id: "US".into(),
        telephone: "559-555-0101".into(),
    };
    let guest =
        CustomerSpec::Guest { email: "ann@example.org".into(), firstname: "Ann".into(), lastname: "Lee".into() };
    let mut spec = OrderSpec::new(
        2,
        guest.clone(),
        AddressSpec::New(ca.clone()),
        vec![LineSpec::new("BOOK-001", 2), LineSpec::new("HOME-001", 1)],
    );
    spec.coupon = Some("CONNECTOR10".into());
    spec.tax_shipping = true;
    let before = sb.stock("HOME-001").unwrap().qty;
    let inc = sb.add_order(&spec).unwrap();
    assert_eq!(inc, "200000002", "store 2 numbers 2000000NN");
    assert_eq!(sb.stock("HOME-001").unwrap().qty, before - Decimal::ONE, "checkout takes the stock");
    let view = sb.order(&inc).unwrap();
    assert_eq!(view.order_currency, "EUR");
    for t in [view.totals, view.base] {
        assert_eq!(t.subtotal + t.discount + t.shipping + t.tax, t.grand_total);
        assert!(t.shipping_tax > Decimal::ZERO);
    }
    assert_reconciles(&c.call("sales_order.info", vec![s(&inc)]).await.unwrap());
    spec.store_id = 3;
    assert_eq!(sb.add_order(&spec).unwrap(), "300000002");
    spec.store_id = 1;
    assert_eq!(sb.add_order(&spec).unwrap(), "100000006");
    // Refusals.
    let bad = |f: &dyn Fn(&mut OrderSpec)| {
        let mut x = spec.clone();
        f(&mut x);
        sb.add_order(&x).unwrap_err()
    };
    assert_eq!(bad(&|x| x.lines = vec![LineSpec::new("NOPE", 1)]), OrderBuildError::UnknownSku("NOPE".into()));
    assert_eq!(bad(&|x| x.coupon = Some("BOGUS".into())), OrderBuildError::UnknownCoupon("BOGUS".into()));
    assert_eq!(bad(&|x| x.store_id = 9), OrderBuildError::UnknownStore(9));
    assert_eq!(bad(&|x| x.billing = AddressSpec::Book(1)), OrderBuildError::GuestAddressBook);
    assert!(matches!(
        bad(&|x| x.lines = vec![LineSpec::configurable("CLO-TSHIRT", "HOME-001", 1)]),
        OrderBuildError::NotAVariant { .. }
    ));
    assert_eq!(bad(&|x| x.customer = CustomerSpec::Registered(99)), OrderBuildError::UnknownCustomer(99));
    let count = sb.order_count();
    // Generated orders: reproducible ids, every one reconciles over the API.
    let generated = sb.generate_orders(40, 3);
    assert_eq!(generated.len(), 40);
    assert_eq!(sb.order_count(), count + 40);
    assert!(generated.iter().any(|g| g.starts_with('2')) && generated.iter().any(|g| g.starts_with('3')));
    let calls: Vec<Value> = generated.iter().map(|g| item("sales_order.info", vec![s(g)])).collect();
    let infos = c.multi(calls).await.unwrap();
    for o in items(&infos) {
        assert_reconciles(o);
    }
    assert!(items(&infos).iter().any(|o| get(o, "coupon_code") != &Value::Nil));
    sb.shutdown().await;
}

#[tokio::test]
async fn order_list_filters() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let incs = |v: Value| items(&v).iter().map(|o| text(o, "increment_id")).collect::<Vec<_>>();
    // increment_id is varchar: '200000001' > '100000004' but '300000001' > '2' too.
    let gt = c.call("sales_order.list", vec![st(&[("increment_id", st(&[("gt", s("100000004"))]))])]).await.unwrap();
    assert_eq!(incs(gt), ["200000001", "100000005", "300000001"]);
    let guests = c
        .call(
            "sales_order.list",
            vec![st(&[
                ("status", st(&[("in", arr(vec![s("pending"), s("processing")]))])),
                ("customer_id", st(&[("null", Value::Boolean(true))])),
            ])],
        )
        .await
        .unwrap();
    assert_eq!(incs(guests), ["100000002", "300000001"]);
    let first = sb.order("100000001").unwrap().created_at;
    let since = (first + chrono::Duration::seconds(1)).format("%Y-%m-%d %H:%M:%S").to_string();
    let recent = c.call("sales_order.list", vec![st(&[("created_at", st(&[("gt", s(&since))]))])]).await.unwrap();
    assert_eq!(incs(recent).len(), 6, "all but the first seeded order");
    let by_id = c.call("sales_order.list", vec![st(&[("order_id", i(3))])]).await.unwrap();
    assert_eq!(incs(by_id), ["200000001"]);
    sb.shutdown().await;
}

#[tokio::test]
async fn invoices_shipments_holds_comments_and_cancellation_drive_the_state() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let info = |inc: &'static str| c.call("sales_order.info", vec![s(inc)]);
    // Comments: a string sets the status without touching the state, even an unknown one.
    c.call("sales_order.addComment", vec![s("100000001"), s("no_such_status"), s("bogus"), Value::Boolean(false)])
        .await
        .unwrap();
    let o = info("100000001").await.unwrap();
    assert_eq!((text(&o, "state"), text(&o, "status")), ("new".into(), "no_such_status".into()));
    let newest = &items(get(&o, "status_history"))[0];
    assert_eq!((text(newest, "comment"), get(newest, "is_customer_notified")), ("bogus".into(), &i(0)));
    c.call("sales_order.addComment", vec![s("100000001"), Value::Boolean(true), s("reset"), Value::Boolean(true)])
        .await
        .unwrap();
    assert_eq!(sb.order("100000001").unwrap().status, "pending", "true means the state's default status");
    c.call("sales_order.addComment", vec![s("100000001"), Value::Boolean(false), s("keep")]).await.unwrap();
    assert_eq!(sb.order("100000001").unwrap().status, "pending");
    // Hold blocks invoicing; unhold restores.
    c.call("sales_order.hold", vec![s("100000001")]).await.unwrap();
    assert_eq!(text(&info("100000001").await.unwrap(), "hold_before_state"), "new");
    let f = fault(c.call("sales_order_invoice.create", vec![s("100000001"), st(&[])]).await);
    assert_eq!((f.code, f.message.as_str()), (102, "Cannot do invoice for order."));
    assert_eq!(code(c.call("sales_order.hold", vec![s("100000001")]).await), 103);
    assert_eq!(code(c.call("sales_order.cancel", vec![s("100000001")]).await), 103, "a held order cannot be canceled");
    c.call("sales_order.unhold", vec![s("100000001")]).await.unwrap();
    assert_eq!(code(c.call("sales_order.unhold", vec![s("100000001")]).await), 103);
    // Partial invoice of item 2 (3 mugs): 2 of them.
    let view = sb.order("100000001").unwrap();
    let mug = view.items.iter().find(|i| i.sku == "HOME-001").unwrap().id;
    let inv = c
        .call("sales_order_invoice.create", vec![s("100000001"), st(&[(&mug.to_string(), i(2))]), s("part 1")])
        .await
        .unwrap();
    assert_eq!(inv, s("100000001"));
    let view = sb.order("100000001").unwrap();
    assert_eq!((view.state.as_str(), view.status.as_str()), ("processing", "processing"));
    assert_eq!(view.items.iter().find(|i| i.id == mug).unwrap().qty_invoiced, d("2"));
    let f = fault(c.call("sales_order_invoice.create", vec![s("100000001"), st(&[(&mug.to_string(), i(5))])]).await);
    assert!(f.code == 1 && f.message.contains("invalid quantity"), "{f:?}");
    // The rest, then nothing left.
    let inv2 = c.call("sales_order_invoice.create", vec![s("100000001"), arr(vec![])]).await.unwrap();
    assert_eq!(inv2, s("100000002"));
    let f = fault(c.call("sales_order_invoice.create", vec![s("100000001"), st(&[])]).await);
    assert_eq!((f.code, f.message.as_str()), (102, "Cannot do invoice for order."));
    let view = sb.order("100000001").unwrap();
    let invoiced: Decimal = view.invoices.iter().map(|i| i.totals.grand_total).sum();
    assert_eq!(invoiced, view.totals.grand_total, "partial invoices add up to the order");
    let first = c.call("sales_order_invoice.info", vec![s("100000001")]).await.unwrap();
    assert_eq!(text(&first, "shipping_amount"), "25.0000", "shipping goes on the first invoice");
    assert_eq!(get(&first, "state"), &i(2), "paid");
    assert_eq!(text(&items(get(&first, "comments"))[0], "comment"), "part 1");
    let o = info("100000001").await.unwrap();
    assert_eq!((text(&o, "total_paid"), text(&o, "total_due")), ("230.2800".into(), "0.0000".into()));
    // Shipments: unknown carrier refused, partial shipment, then complete.
    let sh = c
        .call("sales_order_shipment.create", vec![s("100000001"), st(&[(&mug.to_string(), i(1))]), s("first box")])
        .await
        .unwrap();
    assert_eq!(sh, s("100000001"));
    assert_eq!(sb.order("100000001").unwrap().state, "processing", "still something to ship");
    let f =
        fault(c.call("sales_order_shipment.addTrack", vec![s("100000001"), s("pigeon"), s("Pigeon"), s("1")]).await);
    assert_eq!((f.code, f.message.as_str()), (102, "Invalid carrier specified."));
    let track = c
        .call("sales_order_shipment.addTrack", vec![s("100000001"), s("ups"), s("UPS Ground"), s("1Z999")])
        .await
        .unwrap();
    assert_eq!(track, s("1"));
    let carriers = c.call("sales_order_shipment.getCarriers", vec![s("100000001")]).await.unwrap();
    assert_eq!(text(&carriers, "custom"), "Custom Value");
    c.call("sales_order_shipment.create", vec![s("100000001"), st(&[])]).await.unwrap();
    let view = sb.order("100000001").unwrap();
    assert_eq!((view.state.as_str(), view.status.as_str()), ("complete", "complete"));
    assert_eq!(view.shipments.len(), 2);
    assert_eq!(view.shipments[0].tracks[0].number, "1Z999");
    assert_eq!(view.history.last().map(|h| h.entity_name.as_str()), Some("shipment"));
    let f = fault(c.call("sales_order_shipment.create", vec![s("100000001"), st(&[])]).await);
    assert_eq!((f.code, f.message.as_str()), (102, "Cannot do shipment for order."));
    let f = fault(c.call("sales_order.cancel", vec![s("100000001")]).await);
    assert_eq!((f.code, f.message.as_str()), (103, "Order status not changed. Details in error message."));
    // Cancel a pending order: canceled amounts, quantities, total due.
    c.call("sales_order.cancel", vec![s("100000002")]).await.unwrap();
    let o = info("100000002").await.unwrap();
    assert_eq!((text(&o, "state"), text(&o, "status")), ("canceled".into(), "canceled".into()));
    assert_eq!(text(&o, "total_canceled"), text(&o, "grand_total"));
    assert_eq!(text(&o, "total_due"), text(&o, "grand_total"));
    let rows = items(get(&o, "items"));
    assert_eq!(
        (text(&rows[0], "qty_canceled"), text(&rows[1], "qty_canceled")),
        ("2.0000".into(), "0.0000".into()),
        "parent canceled, child not"
    );
    assert_eq!(get(&items(get(&o, "status_history"))[0], "is_customer_notified"), &i(2));
    assert_eq!(code(c.call("sales_order.cancel", vec![s("100000002")]).await), 103);
    assert_eq!(code(c.call("sales_order_invoice.create", vec![s("100000002"), st(&[])]).await), 102);
    assert_eq!(code(c.call("sales_order.info", vec![s("999999999")]).await), 100);
    assert_eq!(code(c.call("sales_order_invoice.create", vec![s("999999999"), st(&[])]).await), 103);
    assert_eq!(code(c.call("sales_order_invoice.info", vec![s("999999999")]).await), 100);
    assert_eq!(code(c.call("sales_order_shipment.info", vec![s("999999999")]).await), 100);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_virtual_only_order_completes_on_invoice_and_has_no_shipping_address() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let spec =
        OrderSpec::new(1, CustomerSpec::Registered(3), AddressSpec::Book(5), vec![LineSpec::new("SRV-WARRANTY-2Y", 1)]);
    let inc = sb.add_order(&spec).unwrap();
    let o = c.call("sales_order.info", vec![s(&inc)]).await.unwrap();
    assert_eq!(get(&o, "shipping_address"), &Value::Array(vec![]), "an empty PHP array");
    assert_eq!((get(&o, "is_virtual"), text(&o, "shipping_amount")), (&i(1), "0.0000".into()));
    c.call("sales_order_invoice.create", vec![s(&inc), st(&[])]).await.unwrap();
    assert_eq!(sb.order(&inc).unwrap().state, "complete");
    sb.shutdown().await;
}
