//! Order import against both sandboxes: the seeded orders (coupon with tax, guest with a
//! configurable item, EUR store, fixed coupon, unknown SKU, returning customer with a new
//! shipping address and taxed shipping, wholesale guest), re-runs, the state store lost, the
//! broken queue and the re-import after the fix, dry runs, and the bindings the follow-up job
//! relies on. Every imported order is checked against Magento to the cent.

mod sync_orders_support;

use std::collections::BTreeSet;

use dxr::Value;
use magento_connector::rpc::value;
use magento_connector::sandbox::harness::Harness;
use magento_connector::sandbox::magento1::{AddressSpec, CustomerSpec, LineSpec, OrderSpec};
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{BindingKind, BrokenCode, Outcome};
use sync_orders_support::*;

const SEEDED: [&str; 6] = ["100000001", "100000002", "200000001", "100000003", "100000005", "300000001"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_orders_import_to_the_cent_and_the_unknown_sku_waits_in_the_queue() {
    let h = Harness::start().await.unwrap();
    let r = import(&h).await;
    assert_eq!(assert_all_created_exact(&h, &r), 6, "{:#?}", r.records);
    for inc in SEEDED {
        assert_eq!(outcome(&r, inc), Outcome::Created, "{inc}: {}", message(&r, inc));
    }

    // 100000001: John, CONNECTOR10 on every row, tax after discount, billing NY / shipping CA.
    let o = assert_exact_tax(&h, "100000001");
    assert_eq!(o.state, "sale");
    let items: Vec<_> = o.lines.iter().filter(|l| l.sku.as_deref() != Some("SHIP")).collect();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|l| l.discount == d("10")), "Magento's own 10 %: {items:#?}");
    let m = h.magento().order("100000001").unwrap();
    for (line, item) in items.iter().zip(&m.items) {
        assert_eq!(
            (line.sku.as_deref(), line.price_unit, line.qty),
            (Some(item.sku.as_str()), item.price, item.qty_ordered)
        );
        assert_eq!(line.subtotal, item.row_total - item.discount, "{}", item.sku);
        assert_eq!(line.tax, item.tax, "{}", item.sku);
    }
    assert_eq!(o.client_order_ref.as_deref(), Some("100000001"));
    assert_eq!(o.origin.as_deref(), Some("magento:sandbox:1:100000001"));
    assert_eq!(o.date_order, m.created_at.format("%Y-%m-%d %H:%M:%S").to_string(), "the Magento date survives");
    assert_eq!(o.payment_term_id, Some(1), "checkmo's payment term");

    // 100000002: guest, configurable: one line on the child product with the parent's money.
    let o = assert_exact_tax(&h, "100000002");
    let m = h.magento().order("100000002").unwrap();
    let parent = m.items.iter().find(|i| i.product_type == "configurable").unwrap();
    let tshirt = o.lines.iter().find(|l| l.sku.as_deref() == Some("CLO-TSHIRT-BLUE-L")).unwrap();
    assert_eq!((tshirt.qty, tshirt.price_unit), (parent.qty_ordered, parent.price));
    assert_eq!(o.lines.len(), 4, "3 items (the child row is no line) and shipping");

    // 200000001: EUR store: EUR pricelist, EUR amounts (not the base currency's).
    let o = assert_exact_tax(&h, "200000001");
    assert_eq!((o.currency.as_str(), o.pricelist_id), ("EUR", Some(h.openerp().seed_ids().pricelists["EUR"])));
    let m = h.magento().order("200000001").unwrap();
    assert_ne!(m.totals.grand_total, m.base.grand_total);

    // 100000003: SAVE5, a fixed discount spread over the rows: exact percentages per row.
    let o = assert_exact_tax(&h, "100000003");
    assert!(o.lines.iter().filter(|l| l.sku.as_deref() != Some("SHIP")).all(|l| l.discount > d("0")));
    assert!(o.lines.iter().all(|l| l.sku.as_deref() != Some("DISCOUNT")), "no discount line needed");

    // 100000005: taxed shipping.
    let o = assert_exact_tax(&h, "100000005");
    let ship = o.lines.iter().find(|l| l.sku.as_deref() == Some("SHIP")).unwrap();
    let m = h.magento().order("100000005").unwrap();
    assert_eq!((ship.price_unit, ship.tax), (m.totals.shipping, m.totals.shipping_tax));
    assert!(m.totals.shipping_tax > d("0"));

    // 100000004: the unknown SKU goes to the broken queue, with the payload.
    assert_eq!(outcome(&r, "100000004"), Outcome::Failed);
    assert!(erp_orders(&h, "100000004").is_empty());
    let broken = h.store().broken().get("sandbox", "100000004").await.unwrap().unwrap();
    assert_eq!((broken.code, broken.attempts), (BrokenCode::UnknownSku, 1));
    assert!(broken.reason.contains("ELEC-HDPH-001"), "{}", broken.reason);
    assert!(broken.hint.contains("Internal Reference ELEC-HDPH-001"), "{}", broken.hint);
    assert_eq!(broken.payload.as_ref().unwrap()["increment_id"], "100000004");

    // The order binding: lines → Magento item (the parent item for the configurable).
    let b = order_binding(&h, "100000002", 1).await.unwrap();
    assert_eq!(b.openerp_id, erp_orders(&h, "100000002")[0].id);
    let lines = b.extra["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().any(|l| l["item_id"] == parent.id && l["sku"] == "CLO-TSHIRT-BLUE-L" && l["qty"] == "2"));
    let erp_line_ids: BTreeSet<i64> = erp_orders(&h, "100000002")[0].lines.iter().map(|l| l.id).collect();
    assert!(lines.iter().all(|l| erp_line_ids.contains(&l["line_id"].as_i64().unwrap())));
    assert_eq!(b.extra["state"], "sale");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_and_addresses_are_matched_never_duplicated() {
    let h = Harness::start().await.unwrap();
    let erp = h.openerp();
    // OpenERP knew John as "John.Doe@Example.com" with a delivery child in Los Angeles.
    let john = erp.partners_by_email("john.doe@example.com");
    assert_eq!(john.len(), 1);
    let john_id = john[0].id;
    let r = import(&h).await;
    assert_all_created_exact(&h, &r);
    let o1 = assert_exact(&h, "100000001");
    let o5 = assert_exact(&h, "100000005");
    assert_eq!((o1.partner_id, o5.partner_id), (john_id, john_id), "matched by email, case-insensitively");
    let john = erp.partner(john_id).unwrap();
    let la: Vec<_> = john.children.iter().filter(|c| c.city.as_deref() == Some("Los Angeles")).collect();
    assert_eq!(la.len(), 1, "the Los Angeles address is reused, never duplicated: {:#?}", john.children);
    assert_eq!(o1.partner_shipping_id, la[0].id);
    assert_eq!(o5.partner_invoice_id, la[0].id, "100000005 bills to the same address");
    let ny = john.children.iter().find(|c| c.city.as_deref() == Some("New York")).unwrap();
    assert_eq!((ny.kind.as_str(), ny.state_code.as_deref(), o1.partner_invoice_id), ("invoice", Some("NY"), ny.id));
    assert_eq!(ny.street2.as_deref(), Some("Floor 3"));
    let sd = john.children.iter().find(|c| c.city.as_deref() == Some("San Diego")).unwrap();
    assert_eq!((sd.kind.as_str(), o5.partner_shipping_id), ("delivery", sd.id), "the new address is a new child");
    assert_eq!(john.children.len(), 3, "{:#?}", john.children);

    // The guest of 100000002 and 300000001: one partner of their own, one address.
    let guests = erp.partners_by_email("guest.buyer@example.org");
    let top: Vec<_> = guests.iter().filter(|p| p.parent_id.is_none()).collect();
    assert_eq!(top.len(), 1, "{guests:#?}");
    let g = erp.partner(top[0].id).unwrap();
    assert_eq!(g.children.len(), 1, "billing = shipping: one child: {:#?}", g.children);
    assert_eq!(assert_exact(&h, "300000001").partner_id, g.id);

    // Jane (customer 2): new, with her Magento reference; bound.
    let jane = erp.partners_by_email("jane.smith@example.com");
    let jane: Vec<_> = jane.iter().filter(|p| p.parent_id.is_none()).collect();
    assert_eq!(jane.len(), 1);
    let b = h.store().bindings().find_by_magento("sandbox", BindingKind::Partner, "2", 0).await.unwrap().unwrap();
    assert_eq!(b.openerp_id, jane[0].id);
    let bindings = h.store().bindings();
    let guest_b = bindings.find_by_magento("sandbox", BindingKind::Partner, "guest:guest.buyer@example.org", 0).await;
    assert_eq!(guest_b.unwrap().unwrap().openerp_id, g.id);

    // Emily ordered in the French store: her partner speaks French.
    let emily: Vec<_> =
        erp.partners_by_email("emily.martin@example.fr").into_iter().filter(|p| p.parent_id.is_none()).collect();
    assert_eq!(emily.len(), 1);
    assert_eq!(emily[0].lang.as_deref(), Some("fr_FR"));

    // A later order of Jane shipping to the same address reuses everything.
    let before = erp.count("res.partner", &[]).unwrap();
    let inc = h
        .magento()
        .add_order(&OrderSpec {
            shipping: Some(AddressSpec::Book(4)),
            ..OrderSpec::new(1, CustomerSpec::Registered(2), AddressSpec::Book(3), vec![LineSpec::new("HOME-002", 1)])
        })
        .unwrap();
    let r = import(&h).await;
    assert_eq!(outcome(&r, &inc), Outcome::Created, "{}", message(&r, &inc));
    assert!(message(&r, &inc).contains("invoice address reused, delivery address reused"), "{}", message(&r, &inc));
    assert_exact_tax(&h, &inc);
    assert_eq!(erp.count("res.partner", &[]).unwrap(), before, "no partner created");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_and_a_lost_state_store_create_nothing_twice() {
    let mut h = Harness::start().await.unwrap();
    let r = import(&h).await;
    assert_eq!(assert_all_created_exact(&h, &r), 6);
    let orders = h.openerp().orders().len();
    let partners = h.openerp().count("res.partner", &[]).unwrap();

    // Same state: the overlap lists orders again; the bindings say they are done.
    h.openerp().knobs().reset_counts();
    let again = import(&h).await;
    assert!(again.with_outcome(Outcome::Created).is_empty(), "{:#?}", again.records);
    assert_eq!(h.openerp().knobs().count("sale.order.create"), 0);
    assert_eq!(h.openerp().orders().len(), orders);

    // State store lost: orders are found by their Magento reference, partners by reference
    // or email, addresses by content; bindings come back.
    h.lose_state().unwrap();
    h.openerp().knobs().reset_counts();
    let lost = import(&h).await;
    assert_eq!(h.openerp().knobs().count("sale.order.create"), 0, "{:#?}", lost.records);
    assert_eq!(h.openerp().knobs().count("res.partner.create"), 0);
    assert_eq!(h.openerp().orders().len(), orders);
    assert_eq!(h.openerp().count("res.partner", &[]).unwrap(), partners);
    for inc in SEEDED {
        assert_eq!(outcome(&lost, inc), Outcome::Skipped, "{inc}: {}", message(&lost, inc));
        assert!(message(&lost, inc).contains("binding restored"), "{}", message(&lost, inc));
        assert_exact(&h, inc);
    }
    let b = order_binding(&h, "100000001", 1).await.expect("binding restored");
    assert_eq!(b.extra["lines"].as_array().unwrap().len(), 3);
    assert_eq!(outcome(&lost, "100000004"), Outcome::Failed, "still broken");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_found_after_the_state_is_lost_goes_on_to_the_check_and_the_confirmation() {
    let mut h = Harness::start().await.unwrap();
    let backend = h.openerp().seed_ids().backend.unwrap();
    let set_confirm = |h: &Harness, on: bool| {
        let vals = [("confirm_orders".to_owned(), Value::Boolean(on))].into_iter().collect();
        h.openerp().write("magento.backend", &[backend], vals).unwrap();
    };
    set_confirm(&h, false);
    let r = import(&h).await;
    assert_all_created_exact(&h, &r);
    assert!(message(&r, "100000001").contains("(quotation)"), "{}", message(&r, "100000001"));
    assert_eq!(assert_exact(&h, "100000001").state, "draft");
    h.lose_state().unwrap();
    set_confirm(&h, true);
    let r = import(&h).await;
    assert!(message(&r, "100000001").contains("continued (confirmed)"), "{}", message(&r, "100000001"));
    assert_eq!(r.with_outcome(Outcome::Updated).len(), 6, "the drafts were confirmed, not created again");
    for inc in SEEDED {
        let o = assert_exact(&h, inc);
        assert_eq!(o.state, "sale", "{inc}");
        let m = h.magento().order(inc).unwrap();
        assert_eq!(o.date_order, m.created_at.format("%Y-%m-%d %H:%M:%S").to_string());
    }
    assert_eq!(h.openerp().orders().len(), 6);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_sku_is_imported_exactly_once_the_product_exists() {
    let h = Harness::start().await.unwrap();
    import(&h).await;
    let broken = h.store().broken().list("sandbox", false).await.unwrap();
    assert_eq!(broken.iter().map(|b| b.increment_id.as_str()).collect::<Vec<_>>(), ["100000004"]);
    // Re-importing before the fix changes nothing but the attempt count.
    let r = reimport(&h, &[]).await;
    assert_eq!(outcome(&r, "100000004"), Outcome::Failed);
    assert_eq!(h.store().broken().get("sandbox", "100000004").await.unwrap().unwrap().attempts, 2);

    // The user creates the product in OpenERP.
    let tax = h.openerp().seed_ids().taxes["standard"];
    let vals = value::structure([
        ("name", value::string("Noise Cancelling Headphones")),
        ("default_code", value::string("ELEC-HDPH-001")),
        ("list_price", value::double(99.0)),
        ("taxes_id", value::array([value::array([value::int(6), value::int(0), value::array([value::id(tax)])])])),
    ]);
    let Value::Struct(vals) = vals else { unreachable!() };
    h.openerp().create("product.product", vals).unwrap();
    h.magento().knobs().reset_counts();
    let r = reimport(&h, &["100000004", "100000001"]).await;
    assert_eq!(outcome(&r, "100000004"), Outcome::Created, "{}", message(&r, "100000004"));
    assert_eq!(outcome(&r, "100000001"), Outcome::Skipped, "not broken: nothing to do");
    assert!(h.magento().knobs().count("sales_order.info") >= 1, "re-read from Magento");
    let o = assert_exact_tax(&h, "100000004");
    let line = o.lines.iter().find(|l| l.sku.as_deref() == Some("ELEC-HDPH-001")).unwrap();
    let m = h.magento().order("100000004").unwrap();
    let item = m.items.iter().find(|i| i.sku == "ELEC-HDPH-001").unwrap();
    assert_eq!(line.price_unit, item.price, "Magento's price, not OpenERP's list price");
    let b = h.store().broken().get("sandbox", "100000004").await.unwrap().unwrap();
    assert!(b.resolved_at.is_some());
    assert!(h.store().broken().list("sandbox", false).await.unwrap().is_empty());
    // Nothing is imported twice.
    let again = reimport(&h, &[]).await;
    assert!(again.records.is_empty());
    let r = import(&h).await;
    assert!(r.with_outcome(Outcome::Created).is_empty());
    assert_eq!(erp_orders(&h, "100000004").len(), 1);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_plans_and_writes_nothing() {
    let h = Harness::start().await.unwrap();
    let partners = h.openerp().count("res.partner", &[]).unwrap();
    let r = run(&h, JobKind::OrdersImport, JobOptions { dry_run: true, ..JobOptions::default() }).await;
    assert_eq!(r.with_outcome(Outcome::Planned).len(), 6, "{:#?}", r.records);
    assert!(message(&r, "100000001").contains("would create the order"), "{}", message(&r, "100000001"));
    assert!(message(&r, "100000001").contains("partner #"), "{}", message(&r, "100000001"));
    assert_eq!(outcome(&r, "100000004"), Outcome::Failed);
    assert!(h.openerp().orders().is_empty());
    assert_eq!(h.openerp().count("res.partner", &[]).unwrap(), partners);
    assert!(h.store().broken().list("sandbox", true).await.unwrap().is_empty());
    assert!(h.store().bindings().list("sandbox", BindingKind::Order).await.unwrap().is_empty());
    assert!(h.store().cursors().get("sandbox", 1, "orders.updated_at").await.unwrap().is_none());
    // The real run afterwards imports them all.
    assert_eq!(assert_all_created_exact(&h, &import(&h).await), 6);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_limit_the_run_to_stores_and_orders() {
    let h = Harness::start().await.unwrap();
    let fr = JobOptions {
        stores: Some(vec![magento_connector::server::jobs::StoreRef::Code("fr".into())]),
        ..JobOptions::default()
    };
    let r = run(&h, JobKind::OrdersImport, fr).await;
    assert_eq!(r.records.iter().map(|x| x.reference.as_str()).collect::<Vec<_>>(), ["200000001"]);
    assert_exact_tax(&h, "200000001");
    let named = JobOptions {
        increment_ids: Some(vec!["100000003".into(), "200000001".into(), "999999999".into()]),
        ..JobOptions::default()
    };
    let r = run(&h, JobKind::OrdersImport, named).await;
    assert_eq!(outcome(&r, "100000003"), Outcome::Created);
    assert_eq!(outcome(&r, "200000001"), Outcome::Skipped, "already imported");
    assert_eq!(outcome(&r, "999999999"), Outcome::Skipped, "{}", message(&r, "999999999"));
    assert_exact_tax(&h, "100000003");
    assert!(erp_orders(&h, "100000001").is_empty(), "not named");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_date_and_the_overlap_window_decide_what_is_listed() {
    let h = Harness::start().await.unwrap();
    // Orders created before the backend's start date are never imported.
    let seeded = h.magento().order("100000003").unwrap().created_at;
    let backend = h.openerp().seed_ids().backend.unwrap();
    let start = value::string((seeded - chrono::Duration::seconds(1)).format("%Y-%m-%d %H:%M:%S").to_string());
    h.openerp()
        .write("magento.backend", &[backend], [("import_from_date".to_owned(), start)].into_iter().collect())
        .unwrap();
    let r = import(&h).await;
    let refs: BTreeSet<&str> = r.records.iter().map(|x| x.reference.as_str()).collect();
    assert_eq!(refs, BTreeSet::from(["100000003", "100000004", "100000005", "300000001"]), "{:#?}", r.records);
    assert_all_created_exact(&h, &r);
    let cursor = h.store().cursors().get("sandbox", 1, "orders.updated_at").await.unwrap().unwrap().0;
    assert_eq!(cursor, h.magento().order("100000005").unwrap().created_at.format("%Y-%m-%d %H:%M:%S").to_string());

    // An order committed late with a date a little before the cursor is inside the overlap.
    let late_at = h.magento().order("100000005").unwrap().created_at - chrono::Duration::minutes(3);
    let mut late =
        OrderSpec::new(1, CustomerSpec::Registered(3), AddressSpec::Book(5), vec![LineSpec::new("ELEC-ACC-001", 1)]);
    late.created_at = Some(late_at);
    let late = h.magento().add_order(&late).unwrap();
    h.magento().knobs().reset_counts();
    let r = import(&h).await;
    assert_eq!(outcome(&r, &late), Outcome::Created, "{:#?}", r.records);
    assert_exact_tax(&h, &late);
    assert_eq!(h.magento().knobs().count("sales_order.info"), 2, "the late order and the broken one only");

    // `since` overrides the window (and never moves the cursor back past unseen orders).
    let since = JobOptions { since: Some(seeded - chrono::Duration::hours(3)), ..JobOptions::default() };
    let r = run(&h, JobKind::OrdersImport, since).await;
    assert!(r.with_outcome(Outcome::Created).is_empty());
    assert_eq!(outcome(&r, "100000004"), Outcome::Failed, "still broken");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_and_a_reimport_at_the_same_time_create_the_order_once() {
    let h = Harness::start().await.unwrap();
    import(&h).await;
    let vals =
        value::structure([("name", value::string("Headphones")), ("default_code", value::string("ELEC-HDPH-001"))]);
    let Value::Struct(vals) = vals else { unreachable!() };
    h.openerp().create("product.product", vals).unwrap();
    // Both runs see 100000004: the import in its overlap window, the re-import in the queue.
    h.openerp().knobs().set_latency(std::time::Duration::from_millis(5));
    let (a, b) = tokio::join!(
        h.run(JobKind::OrdersImport, JobOptions::default()),
        h.run(JobKind::OrdersReimport, JobOptions::default())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let created: Vec<_> = a
        .records
        .iter()
        .chain(&b.records)
        .filter(|r| r.reference == "100000004" && r.outcome == Outcome::Created)
        .collect();
    assert_eq!(created.len(), 1, "{:#?} {:#?}", a.records, b.records);
    assert_exact_tax(&h, "100000004");
    h.shutdown().await;
}
