//! Orders that cannot go through, and crashes between two writes of one order: an unknown
//! payment method, a method set not to import, OpenERP refusing the confirmation or one order
//! of a batched create, answers lost after the write was applied. Nothing half-written stays
//! in OpenERP, nothing is created twice, the others go through, and the re-import is clean.
//! Also: the `updated_at` window picks up an order whose status became importable, and a batch
//! costs a few requests, not a few per order.

mod sync_orders_support;

use magento_connector::rpc::value;
use magento_connector::sandbox::harness::{Harness, SandboxesOptions};
use magento_connector::sandbox::knobs::{Inject, Rule};
use magento_connector::sandbox::magento1::{
    AddressSpec, CustomerSpec, LineSpec, NewAddress, OrderSpec, SandboxOptions,
};
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{BrokenCode, Outcome};
use sync_orders_support::*;

async fn empty_shop() -> Harness {
    let options = SandboxesOptions {
        magento: SandboxOptions { seed_orders: false, ..SandboxOptions::default() },
        ..SandboxesOptions::default()
    };
    Harness::with_options(options).await.unwrap()
}

fn guest_order(email: &str, lines: Vec<LineSpec>) -> OrderSpec {
    let address = NewAddress {
        firstname: "Sam".into(),
        lastname: email.split('@').next().unwrap_or("x").into(),
        company: None,
        street: vec!["5 Elm Street".into()],
        city: "Los Angeles".into(),
        region_id: Some(12),
        region: None,
        postcode: "90002".into(),
        country_id: "US".into(),
        telephone: "555-0101".into(),
    };
    OrderSpec::new(
        1,
        CustomerSpec::Guest { email: email.into(), firstname: "Sam".into(), lastname: "Buyer".into() },
        AddressSpec::New(address),
        lines,
    )
}

fn named(ids: &[&str]) -> JobOptions {
    JobOptions { increment_ids: Some(ids.iter().map(|s| (*s).to_owned()).collect()), ..JobOptions::default() }
}

fn top_level(h: &Harness, email: &str) -> usize {
    h.openerp().partners_by_email(email).iter().filter(|p| p.parent_id.is_none()).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_methods_decide_without_stopping_the_run() {
    let h = empty_shop().await;
    let mut s = guest_order("pay1@example.org", vec![LineSpec::new("HOME-001", 1)]);
    s.payment_method = "paypal_express".into();
    let unknown = h.magento().add_order(&s).unwrap();
    let mut s = guest_order("pay2@example.org", vec![LineSpec::new("HOME-001", 2)]);
    s.payment_method = "banktransfer".into();
    let not_imported = h.magento().add_order(&s).unwrap();
    let fine = h.magento().add_order(&guest_order("pay3@example.org", vec![LineSpec::new("HOME-002", 1)])).unwrap();
    let method = h.openerp().search("magento.payment.method", &[("code", "=", value::string("banktransfer"))]).unwrap();
    let vals = [("import_orders".to_owned(), value::boolean(false))].into_iter().collect();
    h.openerp().write("magento.payment.method", &method, vals).unwrap();

    let r = import(&h).await;
    assert_eq!(outcome(&r, &unknown), Outcome::Failed);
    let b = h.store().broken().get("sandbox", &unknown).await.unwrap().unwrap();
    assert_eq!(b.code, BrokenCode::UnknownPayment);
    assert!(b.hint.contains("\"paypal_express\""), "{}", b.hint);
    assert_eq!(outcome(&r, &not_imported), Outcome::Skipped);
    assert!(message(&r, &not_imported).contains("banktransfer"), "{}", message(&r, &not_imported));
    assert!(h.store().broken().get("sandbox", &not_imported).await.unwrap().is_none());
    assert_eq!(outcome(&r, &fine), Outcome::Created);
    assert_exact_tax(&h, &fine);
    assert!(erp_orders(&h, &unknown).is_empty() && erp_orders(&h, &not_imported).is_empty());
    assert_eq!(top_level(&h, "pay1@example.org"), 0, "no partner for an order that is not imported");

    // Once the method is configured, the re-import brings it in with its payment term.
    let vals = value::structure([
        ("code", value::string("paypal_express")),
        ("payment_term_id", value::int(4)),
        ("backend_id", value::id(h.openerp().seed_ids().backend.unwrap())),
    ]);
    let dxr::Value::Struct(vals) = vals else { unreachable!() };
    h.openerp().create("magento.payment.method", vals).unwrap();
    let r = reimport(&h, &[]).await;
    assert_eq!(outcome(&r, &unknown), Outcome::Created, "{}", message(&r, &unknown));
    assert_eq!(assert_exact_tax(&h, &unknown).payment_term_id, Some(4));
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_confirmation_leaves_nothing_and_the_reimport_is_clean() {
    let h = empty_shop().await;
    let inc = h.magento().add_order(&guest_order("crash1@example.org", vec![LineSpec::new("HOME-001", 2)])).unwrap();
    let partners = h.openerp().count("res.partner", &[]).unwrap();
    h.openerp().knobs().add_rule(Rule::method_with("sale.order.action_confirm", "", Inject::Fault, Some(1)));
    let r = run(&h, JobKind::OrdersImport, named(&[&inc])).await;
    assert_eq!(outcome(&r, &inc), Outcome::Failed, "{}", message(&r, &inc));
    let b = h.store().broken().get("sandbox", &inc).await.unwrap().unwrap();
    assert_eq!(b.code, BrokenCode::OpenerpRefused);
    assert!(b.reason.contains("confirm"), "{}", b.reason);
    assert!(h.openerp().orders().is_empty(), "the created order was removed");
    assert_eq!(h.openerp().count("res.partner", &[]).unwrap(), partners, "and the partner created for it");
    assert!(order_binding(&h, &inc, 1).await.is_none());

    let r = reimport(&h, &[]).await;
    assert_eq!(outcome(&r, &inc), Outcome::Created, "{}", message(&r, &inc));
    let o = assert_exact_tax(&h, &inc);
    assert_eq!(o.state, "sale");
    assert_eq!(top_level(&h, "crash1@example.org"), 1);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_order_create_takes_its_new_partner_with_it() {
    let h = empty_shop().await;
    let inc = h.magento().add_order(&guest_order("crash2@example.org", vec![LineSpec::new("HOME-002", 1)])).unwrap();
    h.openerp().knobs().add_rule(Rule::method_with("sale.order.create", "", Inject::Fault, Some(1)));
    let r = run(&h, JobKind::OrdersImport, named(&[&inc])).await;
    assert_eq!(outcome(&r, &inc), Outcome::Failed, "{}", message(&r, &inc));
    assert_eq!(h.store().broken().get("sandbox", &inc).await.unwrap().unwrap().code, BrokenCode::OpenerpRefused);
    assert_eq!(h.openerp().knobs().count("res.partner.create"), 2, "partner, then its address");
    assert_eq!(top_level(&h, "crash2@example.org"), 0, "the partner created for it is gone");
    assert!(h.openerp().partners_by_email("crash2@example.org").is_empty(), "its address too");
    let r = reimport(&h, &[]).await;
    assert_eq!(outcome(&r, &inc), Outcome::Created);
    assert_exact_tax(&h, &inc);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_lost_after_the_write_create_nothing_twice() {
    let h = empty_shop().await;
    let a = h.magento().add_order(&guest_order("drop1@example.org", vec![LineSpec::new("HOME-001", 1)])).unwrap();
    let b = h.magento().add_order(&guest_order("drop2@example.org", vec![LineSpec::new("CLO-M-001", 1)])).unwrap();
    let knobs = h.openerp().knobs();
    // The orders are created, the answer is lost; then the confirmation's answer is lost.
    knobs.add_rule(Rule::method_with("sale.order.create", "", Inject::Drop, Some(1)));
    knobs.add_rule(Rule::method_with("sale.order.action_confirm", "", Inject::Drop, Some(1)));
    let r = import(&h).await;
    for inc in [&a, &b] {
        assert_eq!(outcome(&r, inc), Outcome::Created, "{}", message(&r, inc));
        let o = assert_exact_tax(&h, inc);
        assert_eq!(o.state, "sale");
        let m = h.magento().order(inc).unwrap();
        assert_eq!(o.date_order, m.created_at.format("%Y-%m-%d %H:%M:%S").to_string());
    }
    assert_eq!(knobs.count("sale.order.create"), 1, "found by origin, not created again");
    assert_eq!(h.openerp().orders().len(), 2);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_order_never_blocks_or_duplicates_its_batch() {
    let h = empty_shop().await;
    let mut incs = Vec::new();
    for i in 0..6 {
        let s = guest_order(&format!("batch{i}@example.org"), vec![LineSpec::new("HOME-001", i + 1)]);
        incs.push(h.magento().add_order(&s).unwrap());
    }
    let bad = incs[3].clone();
    let knobs = h.openerp().knobs();
    let needle = format!("magento:sandbox:1:{bad}");
    knobs.add_rule(Rule::method_with("sale.order.create", &needle, Inject::Fault, None));
    let r = import(&h).await;
    assert_eq!(outcome(&r, &bad), Outcome::Failed);
    assert_eq!(h.store().broken().get("sandbox", &bad).await.unwrap().unwrap().code, BrokenCode::OpenerpRefused);
    assert!(erp_orders(&h, &bad).is_empty());
    assert_eq!(top_level(&h, "batch3@example.org"), 0, "its new partner was removed");
    for inc in incs.iter().filter(|i| **i != bad) {
        assert_eq!(outcome(&r, inc), Outcome::Created);
        assert_exact_tax(&h, inc);
    }
    assert_eq!(h.openerp().orders().len(), 5);
    assert_eq!(knobs.count("sale.order.create"), 1 + 6, "the batch, then one at a time");
    assert_eq!(knobs.count("sale.order.action_confirm"), 1, "the five confirmed together");
    knobs.clear_rules();
    let r = reimport(&h, &[]).await;
    assert_eq!(outcome(&r, &bad), Outcome::Created);
    assert_exact_tax(&h, &bad);
    assert_eq!(h.openerp().orders().len(), 6);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_status_becomes_importable_is_picked_up_later() {
    let h = Harness::start().await.unwrap();
    import(&h).await;
    let held = h.magento().add_order(&guest_order("held@example.org", vec![LineSpec::new("HOME-001", 1)])).unwrap();
    let magento = h.peers().magento.clone();
    magento.hold_order(&held).await.unwrap();
    let r = import(&h).await;
    assert!(r.record(&held).is_none(), "status holded is not listed: {:#?}", r.records);
    assert!(erp_orders(&h, &held).is_empty());
    let cursor = h.store().cursors().get("sandbox", 1, "orders.updated_at").await.unwrap();
    assert!(cursor.is_some());
    // Weeks later (here: now) the order is released: its updated_at moves, it is listed.
    magento.unhold_order(&held).await.unwrap();
    let r = import(&h).await;
    assert_eq!(outcome(&r, &held), Outcome::Created, "{:#?}", r.records);
    assert_exact_tax(&h, &held);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_costs_a_few_requests() {
    let h = empty_shop().await;
    let incs = h.magento().generate_orders(60, 3);
    assert_eq!(incs.len(), 60);
    h.openerp().knobs().reset_counts();
    h.magento().knobs().reset_counts();
    let r = import(&h).await;
    let created = assert_all_created_exact(&h, &r);
    let broken = r.with_outcome(Outcome::Failed).len();
    assert_eq!(created + broken, 60, "{:#?}", r.with_outcome(Outcome::Failed));
    let erp = h.openerp().knobs();
    assert_eq!(erp.count("sale.order.create"), 2, "50 + 10");
    assert_eq!(erp.count("sale.order.action_confirm"), 2);
    assert_eq!(erp.count("product.product.search_read"), 2, "one product lookup per batch");
    assert!(erp.count("res.partner.create") <= 4, "{:?}", erp.counts());
    let per_order = erp.requests() as f64 / 60.0;
    assert!(per_order < 2.0, "{per_order} OpenERP requests per order: {:?}", erp.counts());
    let mage = h.magento().knobs();
    assert!(mage.requests() <= 12, "{} Magento requests: {:?}", mage.requests(), mage.counts());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_a_country_openerp_lacks_is_an_invalid_address() {
    let h = empty_shop().await;
    let mut s = guest_order("abroad@example.org", vec![LineSpec::new("HOME-001", 1)]);
    if let AddressSpec::New(a) = &mut s.billing {
        a.country_id = "DE".into();
        a.region_id = None;
        a.city = "Berlin".into();
    }
    let inc = h.magento().add_order(&s).unwrap();
    let r = import(&h).await;
    assert_eq!(outcome(&r, &inc), Outcome::Failed);
    let b = h.store().broken().get("sandbox", &inc).await.unwrap().unwrap();
    assert_eq!(b.code, BrokenCode::InvalidAddress);
    assert!(b.reason.contains("\"DE\""), "{}", b.reason);
    assert_eq!(top_level(&h, "abroad@example.org"), 0);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_magento_cannot_give_is_broken_and_comes_back_with_the_reimport() {
    let h = empty_shop().await;
    let ok = h.magento().add_order(&guest_order("m1@example.org", vec![LineSpec::new("HOME-001", 1)])).unwrap();
    let bad = h.magento().add_order(&guest_order("m2@example.org", vec![LineSpec::new("HOME-002", 1)])).unwrap();
    // In a multiCall, then alone (the client runs an item that failed with fault 1 again).
    h.magento().knobs().add_rule(Rule::method_with("sales_order.info", &bad, Inject::Fault, Some(2)));
    let r = import(&h).await;
    assert_eq!(outcome(&r, &ok), Outcome::Created);
    assert_exact_tax(&h, &ok);
    assert_eq!(outcome(&r, &bad), Outcome::Failed, "{}", message(&r, &bad));
    let b = h.store().broken().get("sandbox", &bad).await.unwrap().unwrap();
    assert_eq!(b.code, BrokenCode::MagentoData);
    assert!(b.payload.is_none(), "nothing readable to keep");
    let r = reimport(&h, &[]).await;
    assert_eq!(outcome(&r, &bad), Outcome::Created);
    assert_exact_tax(&h, &bad);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_failure_keeps_the_cursor_at_the_order_and_the_next_run_imports_it() {
    let h = empty_shop().await;
    let mut first = guest_order("t1@example.org", vec![LineSpec::new("HOME-001", 1)]);
    first.created_at = Some(chrono::Utc::now() - chrono::Duration::hours(5));
    let first = h.magento().add_order(&first).unwrap();
    let later = h.magento().add_order(&guest_order("t2@example.org", vec![LineSpec::new("HOME-002", 1)])).unwrap();
    let knobs = h.openerp().knobs();
    let needle = format!("magento:sandbox:1:{first}");
    knobs.add_rule(Rule::method_with("sale.order.create", &needle, Inject::Deadlock, None));
    let r = import(&h).await;
    assert_eq!(outcome(&r, &later), Outcome::Created);
    assert_eq!(outcome(&r, &first), Outcome::Failed);
    assert!(message(&r, &first).contains("the next run tries again"), "{}", message(&r, &first));
    assert!(h.store().broken().get("sandbox", &first).await.unwrap().is_none(), "not something to fix");
    let cursor = h.store().cursors().get("sandbox", 1, "orders.updated_at").await.unwrap().unwrap().0;
    let at = h.magento().order(&first).unwrap().created_at.format("%Y-%m-%d %H:%M:%S").to_string();
    assert_eq!(cursor, at, "the cursor waits at the unfinished order, five hours back");
    knobs.clear_rules();
    let r = import(&h).await;
    assert_eq!(outcome(&r, &first), Outcome::Created, "{:#?}", r.records);
    assert_exact_tax(&h, &first);
    assert_eq!(h.openerp().orders().len(), 2);
    h.shutdown().await;
}
