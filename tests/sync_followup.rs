//! Order follow-up against both sandboxes: confirmed comments, full and partial invoices,
//! full and partial shipments with tracking numbers, cancellations; each event sent once,
//! refusals left pending and retried, "already done" faults recorded as done.
//!
//! The order import is not part of these tests: each test creates a confirmed `sale.order` in
//! the OpenERP sandbox for a Magento sandbox order and writes its binding (with the line →
//! Magento item links) itself, as the import does.

mod sync_followup_support;

use dxr::Value;
use magento_connector::config::SANDBOX_BACKEND;
use magento_connector::magento::types::{InvoiceRequest, ShipmentRequest};
use magento_connector::sandbox::harness::Harness;
use magento_connector::sandbox::knobs::{Inject, Rule};
use magento_connector::sandbox::openerp::InvoiceLine;
use magento_connector::server::jobs::JobOptions;
use magento_connector::store::{BindingKind, BindingPut, EventKey, EventKind, EventState, Outcome};
use magento_connector::sync::followup::detect::IN_FLIGHT;
use rust_decimal::Decimal;
use sync_followup_support::*;

#[tokio::test]
async fn invoices_full_and_partial_with_status_comments_and_nothing_twice() {
    let h = Harness::start().await.unwrap();
    let inc = "100000001";
    let order = import(&h, inc).await;
    let name = h.openerp().order(order).unwrap().name;

    let r = follow(&h).await;
    let st = of_kind(&r, "status", inc);
    assert_eq!(st.len(), 1, "{:?}", r.records);
    assert_eq!(st[0].outcome, Outcome::Updated);
    let mage = h.magento().order(inc).unwrap();
    assert_eq!(mage.status, "processing", "the mapped status of `confirmed`");
    assert!(comments(&h, inc).contains(&("processing".into(), format!("Order confirmed in OpenERP as {name}."))));

    let (phn, home, book) = (item(&h, inc, "ELEC-PHN-001"), item(&h, inc, "HOME-001"), item(&h, inc, "BOOK-001"));
    let partial = [
        InvoiceLine { line_id: line(&h, order, "HOME-001"), qty: d("2") },
        InvoiceLine { line_id: line(&h, order, "ELEC-PHN-001"), qty: d("1") },
    ];
    h.openerp().invoice_order(order, Some(&partial), true).unwrap();
    let r = follow(&h).await;
    let inv = of_kind(&r, "invoice", inc);
    assert_eq!(inv.len(), 1, "{:?}", r.records);
    assert_eq!(inv[0].outcome, Outcome::Created);
    let mage = h.magento().order(inc).unwrap();
    assert_eq!(mage.invoices.len(), 1);
    assert_eq!(mage.invoices[0].items, vec![(phn, d("1")), (home, d("2"))]);
    assert_eq!(inv[0].magento_id.as_deref(), Some(mage.invoices[0].increment_id.as_str()));
    assert!(comments(&h, inc).contains(&("processing".into(), format!("Invoiced in OpenERP ({name})."))));

    h.openerp().invoice_order(order, None, true).unwrap();
    let r = follow(&h).await;
    assert_eq!(of_kind(&r, "invoice", inc).len(), 1, "only the new invoice: {:?}", r.records);
    let mage = h.magento().order(inc).unwrap();
    assert_eq!(mage.invoices.len(), 2);
    assert_eq!(mage.invoices[1].items, vec![(home, d("1")), (book, d("1"))], "the shipping line is not an item");
    assert!(mage.items.iter().all(|i| i.qty_invoiced == i.qty_ordered));

    let (w, req) = (writes(&h), h.magento().knobs().requests());
    assert_eq!(w, 5, "confirmed, 2 invoices and their 2 comments: {:?}", h.magento().knobs().counts());
    let r = follow(&h).await;
    assert!(r.records.is_empty(), "{:?}", r.records);
    assert_eq!(r.run.total, 1);
    assert_eq!((writes(&h), h.magento().knobs().requests()), (w, req), "no Magento call at all");
    h.shutdown().await;
}

#[tokio::test]
async fn partial_then_full_shipment_with_tracking_numbers() {
    let h = Harness::start().await.unwrap();
    let inc = "100000002";
    let order = import(&h, inc).await;
    let name = h.openerp().order(order).unwrap().name;
    let shirt_item = item(&h, inc, "CLO-TSHIRT-BLUE-L");
    let acc_item = item(&h, inc, "ELEC-ACC-002");
    let shirt = h.openerp().product_id("CLO-TSHIRT-BLUE-L").unwrap();
    follow(&h).await;

    let first = open_delivery(&h, order);
    let back = h.openerp().deliver(first, Some(&[(shirt, d("1"))]), Some("1Z111, 1Z222"), true).unwrap();
    assert!(back.is_some(), "the rest waits in a backorder");
    let r = follow(&h).await;
    let sh = of_kind(&r, "shipment", inc);
    assert_eq!(sh.len(), 1, "{:?}", r.records);
    assert_eq!(sh[0].outcome, Outcome::Created);
    assert_eq!(of_kind(&r, "track", inc).len(), 2);
    let mage = h.magento().order(inc).unwrap();
    assert_eq!(mage.shipments.len(), 1);
    let s = &mage.shipments[0];
    assert_eq!(sh[0].magento_id.as_deref(), Some(s.increment_id.as_str()));
    assert_eq!(s.items.iter().find(|(i, _)| *i == shirt_item), Some(&(shirt_item, d("1"))), "{:?}", s.items);
    assert!(s.items.iter().all(|(i, _)| *i != acc_item), "{:?}", s.items);
    let tracks: Vec<(&str, &str)> = s.tracks.iter().map(|t| (t.carrier_code.as_str(), t.number.as_str())).collect();
    assert_eq!(tracks, [("custom", "1Z111"), ("custom", "1Z222")]);
    assert!(s.comments.iter().any(|c| c.contains("WH/OUT")), "{:?}", s.comments);
    assert!(comments(&h, inc).contains(&("processing".into(), format!("Partially shipped ({name})."))));

    h.openerp().deliver(open_delivery(&h, order), None, Some("1Z333"), false).unwrap();
    let r = follow(&h).await;
    assert_eq!(of_kind(&r, "shipment", inc).len(), 1, "{:?}", r.records);
    let mage = h.magento().order(inc).unwrap();
    assert_eq!(mage.shipments.len(), 2);
    let s = &mage.shipments[1];
    let mut parents: Vec<(i64, Decimal)> =
        s.items.iter().copied().filter(|(i, _)| *i == shirt_item || *i == acc_item).collect();
    parents.sort();
    let mut want = vec![(shirt_item, d("1")), (acc_item, d("1"))];
    want.sort();
    assert_eq!(parents, want);
    assert_eq!(s.tracks.iter().map(|t| t.number.as_str()).collect::<Vec<_>>(), ["1Z333"]);
    assert!(comments(&h, inc).contains(&("complete".into(), format!("Shipped ({name})."))));
    let shipped: Vec<(i64, Decimal)> = mage
        .items
        .iter()
        .filter(|i| i.parent_item_id.is_none() && i.product_type != "virtual")
        .map(|i| (i.id, i.qty_shipped - i.qty_ordered))
        .collect();
    assert!(shipped.iter().all(|(_, left)| left.is_zero()), "{shipped:?}");

    let (w, req) = (writes(&h), h.magento().knobs().requests());
    let r = follow(&h).await;
    assert!(r.records.is_empty(), "{:?}", r.records);
    assert_eq!((writes(&h), h.magento().knobs().requests()), (w, req));
    h.shutdown().await;
}

#[tokio::test]
async fn cancellations_already_canceled_and_not_cancelable() {
    let h = Harness::start().await.unwrap();
    let (a, b, c) = ("100000003", "100000005", "300000001");
    let oa = import(&h, a).await;
    let ob = import(&h, b).await;
    let oc = import(&h, c).await;
    follow(&h).await;
    let name_a = h.openerp().order(oa).unwrap().name;

    // b was canceled in Magento meanwhile; c was completed there (invoiced and shipped).
    let m = h.peers().magento.clone();
    m.cancel_order(b).await.unwrap();
    m.create_invoice(c, &InvoiceRequest::default()).await.unwrap();
    m.create_shipment(c, &Default::default()).await.unwrap();
    assert_eq!(h.magento().order(c).unwrap().state, "complete");
    for o in [oa, ob, oc] {
        h.openerp().cancel_order(o).unwrap();
    }
    let r = follow(&h).await;
    let mage = h.magento().order(a).unwrap();
    assert_eq!((mage.state.as_str(), mage.status.as_str()), ("canceled", "canceled"));
    assert_eq!(of_kind(&r, "cancel", a)[0].outcome, Outcome::Updated);
    assert!(comments(&h, a).contains(&("canceled".into(), format!("Cancelled in OpenERP ({name_a})."))));

    let rb = of_kind(&r, "cancel", b);
    assert_eq!(rb[0].outcome, Outcome::Skipped, "{rb:?}");
    assert!(rb[0].message.contains("already canceled"), "{}", rb[0].message);
    let ev = h.store().events().get(&EventKey::new(SANDBOX_BACKEND, b, EventKind::Cancel, "cancel")).await.unwrap();
    assert_eq!(ev.unwrap().state, EventState::Done);
    assert_eq!(of_kind(&r, "status", b)[0].outcome, Outcome::Updated, "the comment still goes");

    let rc = of_kind(&r, "cancel", c);
    assert_eq!(rc[0].outcome, Outcome::Failed, "{rc:?}");
    assert!(rc[0].message.contains("\"complete\""), "{}", rc[0].message);
    let ev = h.store().events().get(&EventKey::new(SANDBOX_BACKEND, c, EventKind::Cancel, "cancel")).await.unwrap();
    let ev = ev.unwrap();
    assert_eq!(ev.state, EventState::Pending);
    assert!(ev.message.contains("fault 103"), "{}", ev.message);
    assert!(of_kind(&r, "status", c).is_empty(), "no cancel comment while the cancel is pending");

    let before = h.magento().knobs().count("sales_order.cancel");
    let r = follow(&h).await;
    assert_eq!(h.magento().knobs().count("sales_order.cancel"), before + 1, "only the pending one is retried");
    assert_eq!(r.records.len(), 1, "{:?}", r.records);
    h.shutdown().await;
}

#[tokio::test]
async fn a_fault_on_one_order_stays_pending_and_is_sent_next_run() {
    let h = Harness::start().await.unwrap();
    let (a, b) = ("100000001", "100000005");
    let oa = import(&h, a).await;
    let ob = import(&h, b).await;
    follow(&h).await;
    h.openerp().invoice_order(oa, None, true).unwrap();
    h.openerp().invoice_order(ob, None, true).unwrap();
    h.openerp().deliver_order(oa, None).unwrap();
    h.magento().knobs().add_rule(Rule::method_with("sales_order_invoice.create", a, Inject::Fault, Some(1)));

    let r = follow(&h).await;
    let fa = of_kind(&r, "invoice", a);
    assert_eq!(fa[0].outcome, Outcome::Failed, "{fa:?}");
    assert_eq!(of_kind(&r, "shipment", a)[0].outcome, Outcome::Created, "a shipment does not wait for an invoice");
    assert!(fa[0].message.contains("retried on the next run"), "{}", fa[0].message);
    assert!(of_kind(&r, "status", a).iter().all(|x| !x.message.contains("invoiced")), "its comment waits");
    assert_eq!(of_kind(&r, "invoice", b)[0].outcome, Outcome::Created);
    assert_eq!(h.magento().order(a).unwrap().invoices.len(), 0);
    assert_eq!(h.magento().order(b).unwrap().invoices.len(), 1);
    assert_eq!(r.run.failed, 1);
    let inv_a = h.openerp().order(oa).unwrap().invoice_ids[0];
    let key = EventKey::new(SANDBOX_BACKEND, a, EventKind::Invoice, &format!("invoice:{inv_a}"));
    let ev = h.store().events().get(&key).await.unwrap().unwrap();
    assert_eq!(ev.state, EventState::Pending);
    assert!(ev.message.contains("fault 1"), "the reason is kept: {}", ev.message);

    let before = h.magento().knobs().count("sales_order_invoice.create");
    let r = follow(&h).await;
    assert_eq!(h.magento().knobs().count("sales_order_invoice.create"), before + 1, "b is not sent again");
    assert_eq!(of_kind(&r, "invoice", a)[0].outcome, Outcome::Created);
    assert_eq!(of_kind(&r, "status", a).len(), 1, "the invoiced comment follows");
    assert!(of_kind(&r, "shipment", a).is_empty(), "the shipment was sent already");
    assert!(r.records.iter().all(|x| x.reference == a), "{:?}", r.records);
    assert_eq!(h.magento().order(a).unwrap().invoices.len(), 1);
    assert_eq!(h.store().events().get(&key).await.unwrap().unwrap().state, EventState::Sent);
    h.shutdown().await;
}

#[tokio::test]
async fn already_invoiced_in_magento_is_done_and_a_failed_track_is_retried_alone() {
    let h = Harness::start().await.unwrap();
    let inc = "100000001";
    let order = import(&h, inc).await;
    follow(&h).await;
    h.peers().magento.create_invoice(inc, &InvoiceRequest::default()).await.unwrap();
    h.openerp().invoice_order(order, None, true).unwrap();
    h.magento().knobs().add_rule(Rule::method_with("sales_order_shipment.addTrack", "TRK-2", Inject::Fault, Some(1)));
    h.openerp().deliver(open_delivery(&h, order), None, Some("TRK-1,TRK-2"), false).unwrap();

    let r = follow(&h).await;
    let inv = of_kind(&r, "invoice", inc);
    assert_eq!(inv[0].outcome, Outcome::Skipped, "{inv:?}");
    assert!(inv[0].message.contains("already invoiced in Magento"), "{}", inv[0].message);
    assert_eq!(h.magento().order(inc).unwrap().invoices.len(), 1, "no second invoice");
    let tracks = of_kind(&r, "track", inc);
    assert_eq!(tracks.iter().map(|t| t.outcome).collect::<Vec<_>>(), [Outcome::Created, Outcome::Failed]);
    let shipped = of_kind(&r, "status", inc).into_iter().filter(|s| s.message.contains("shipped comment")).count();
    assert_eq!(shipped, 1, "the comment follows the shipment, not its tracking numbers: {:?}", r.records);

    let (shipments, adds) = (
        h.magento().knobs().count("sales_order_shipment.create"),
        h.magento().knobs().count("sales_order_shipment.addTrack"),
    );
    let r = follow(&h).await;
    assert_eq!(h.magento().knobs().count("sales_order_shipment.create"), shipments, "no second shipment");
    assert_eq!(h.magento().knobs().count("sales_order_shipment.addTrack"), adds + 1);
    assert_eq!(of_kind(&r, "track", inc)[0].outcome, Outcome::Created);
    let mage = h.magento().order(inc).unwrap();
    assert_eq!(mage.shipments.len(), 1);
    let numbers: Vec<&str> = mage.shipments[0].tracks.iter().map(|t| t.number.as_str()).collect();
    assert_eq!(numbers, ["TRK-1", "TRK-2"]);
    let w = writes(&h);
    assert!(follow(&h).await.records.is_empty());
    assert_eq!(writes(&h), w);
    h.shutdown().await;
}

#[tokio::test]
async fn dry_run_plans_and_writes_nothing() {
    let h = Harness::start().await.unwrap();
    let inc = "100000001";
    let order = import(&h, inc).await;
    h.openerp().invoice_order(order, None, true).unwrap();
    h.openerp().deliver_order(order, Some("1Z9")).unwrap();
    let dry = JobOptions { dry_run: true, ..JobOptions::default() };
    let r = follow_with(&h, dry.clone()).await;
    let planned: Vec<&str> = r.records.iter().map(|x| x.kind.as_str()).collect();
    assert_eq!(planned, ["status", "invoice", "status", "shipment", "track", "status"], "{:?}", r.records);
    assert!(r.records.iter().all(|x| x.outcome == Outcome::Planned));
    assert!(r.records[1].message.contains("would send invoice"), "{}", r.records[1].message);
    assert_eq!(writes(&h), 0);
    assert!(h.store().events().for_order(SANDBOX_BACKEND, inc).await.unwrap().is_empty(), "no state written");
    assert_eq!(follow_with(&h, dry).await.records.len(), 6, "a dry run keeps nothing, so it plans the same again");

    let r = follow(&h).await;
    assert_eq!(r.records.len(), 6);
    assert_eq!(writes(&h), 6);
    h.shutdown().await;
}

#[tokio::test]
async fn scope_other_backend_broken_queue_and_increment_ids() {
    let h = Harness::start().await.unwrap();
    let (a, b, c) = ("100000001", "100000005", "100000003");
    for inc in [a, b, c] {
        import(&h, inc).await;
    }
    let other = BindingPut::new("elsewhere", BindingKind::Order, 999_999, "100000002")
        .extra(serde_json::json!({"lines": [{"line_id": 1, "item_id": 1}]}));
    h.store().bindings().put(other).await.unwrap();
    h.store()
        .broken()
        .upsert(magento_connector::store::BrokenUpsert {
            backend: SANDBOX_BACKEND.into(),
            store_id: 1,
            increment_id: c.into(),
            code: magento_connector::store::BrokenCode::UnknownSku,
            reason: "test".into(),
            hint: "test".into(),
            payload: None,
        })
        .await
        .unwrap();

    let only =
        JobOptions { increment_ids: Some(vec![b.into(), c.into(), "999999999".into()]), ..JobOptions::default() };
    let r = follow_with(&h, only).await;
    let sent: Vec<&str> = r.records.iter().filter(|x| x.kind == "status").map(|x| x.reference.as_str()).collect();
    assert_eq!(sent, [b]);
    let skipped: Vec<(&str, &str)> =
        r.records.iter().filter(|x| x.kind == "order").map(|x| (x.reference.as_str(), x.message.as_str())).collect();
    assert_eq!(
        skipped,
        [
            (c, "still in the broken-order queue: re-import it first"),
            ("999999999", "not an order imported for this backend")
        ]
    );
    assert!(comments(&h, a).iter().all(|(_, t)| !t.contains("OpenERP")), "a was not in the list");

    let r = follow(&h).await;
    let sent: Vec<&str> = r.records.iter().map(|x| x.reference.as_str()).collect();
    assert_eq!(sent, [a], "b is done, c is broken, the other backend's order is not ours");
    assert!(h.magento().order("100000002").unwrap().history.iter().all(|e| e.comment.is_none()));
    h.shutdown().await;
}

#[tokio::test]
async fn an_interrupted_send_is_looked_for_in_magento_before_sending_again() {
    let h = Harness::start().await.unwrap();
    let (a, b) = ("100000001", "100000005");
    let oa = import(&h, a).await;
    let ob = import(&h, b).await;
    follow(&h).await;
    let ia = h.openerp().invoice_order(oa, None, true).unwrap();
    let ib = h.openerp().invoice_order(ob, None, true).unwrap();
    // The process stopped during both invoice calls: Magento got a's, not b's.
    h.peers().magento.create_invoice(a, &InvoiceRequest::default()).await.unwrap();
    for (inc, inv) in [(a, ia), (b, ib)] {
        let key = EventKey::new(SANDBOX_BACKEND, inc, EventKind::Invoice, &format!("invoice:{inv}"));
        h.store().events().mark(&key, EventState::Pending, None, IN_FLIGHT).await.unwrap();
    }
    let before = h.magento().knobs().count("sales_order_invoice.create");
    let r = follow(&h).await;
    assert_eq!(h.magento().knobs().count("sales_order_invoice.create"), before + 1, "only b's is sent");
    let fa = of_kind(&r, "invoice", a);
    assert_eq!(fa[0].outcome, Outcome::Skipped);
    assert!(fa[0].message.contains("found in Magento"), "{}", fa[0].message);
    assert_eq!(of_kind(&r, "invoice", b)[0].outcome, Outcome::Created);
    assert_eq!(h.magento().order(a).unwrap().invoices.len(), 1);
    assert_eq!(h.magento().order(b).unwrap().invoices.len(), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn documents_from_before_the_import_are_not_sent() {
    let h = Harness::start().await.unwrap();
    let inc = "100000001";
    let order = import(&h, inc).await;
    let earlier = chrono::Utc::now().naive_utc() - chrono::Duration::hours(3);
    h.openerp().set_clock(Some(earlier));
    h.openerp().invoice_order(order, None, true).unwrap();
    h.openerp().set_clock(None);
    let r = follow(&h).await;
    let inv = of_kind(&r, "invoice", inc);
    assert_eq!(inv[0].outcome, Outcome::Skipped);
    assert!(inv[0].message.contains("before the order was imported"), "{}", inv[0].message);
    assert_eq!(h.magento().knobs().count("sales_order_invoice.create"), 0);
    assert_eq!(writes(&h), 1, "the confirmation only");
    h.shutdown().await;
}

#[tokio::test]
async fn openerp_is_read_in_a_few_calls_whatever_the_number_of_orders() {
    let h = Harness::start().await.unwrap();
    let incs = ["100000001", "100000002", "100000003", "100000005", "300000001"];
    let mut orders = Vec::new();
    for inc in incs {
        orders.push(import(&h, inc).await);
    }
    for o in &orders {
        h.openerp().invoice_order(*o, None, true).unwrap();
        h.openerp().deliver_order(*o, None).unwrap();
    }
    let k = h.openerp().knobs();
    k.reset_counts();
    let r = follow(&h).await;
    assert_eq!(r.run.failed, 0, "{:?}", r.records);
    assert_eq!(writes(&h), 5 * 5, "confirmed, invoice, comment, shipment, comment per order");
    let job_calls = |k: &magento_connector::sandbox::knobs::Knobs| -> u64 {
        let settings_or_login = |m: &str| m.starts_with("magento.") || m.starts_with("common.");
        k.counts().iter().filter(|(m, _)| !settings_or_login(m)).map(|(_, n)| n).sum()
    };
    assert_eq!(job_calls(k), 6, "orders, invoices, deliveries (+ fields_get), invoice lines, moves: {:?}", k.counts());
    for m in ["sale.order.read", "account.move.read", "stock.picking.read"] {
        assert_eq!(k.count(m), 1, "{m}: {:?}", k.counts());
    }

    k.reset_counts();
    let req = h.magento().knobs().requests();
    let r = follow(&h).await;
    assert!(r.records.is_empty());
    assert_eq!(h.magento().knobs().requests(), req);
    assert_eq!(k.count("account.move.line.search_read") + k.count("stock.move.search_read"), 0, "{:?}", k.counts());
    assert!(job_calls(k) <= 4, "unchanged orders: headers only: {:?}", k.counts());
    h.shutdown().await;
}

#[tokio::test]
async fn bindings_to_a_missing_order_or_without_line_links() {
    let h = Harness::start().await.unwrap();
    let gone = BindingPut::new(SANDBOX_BACKEND, BindingKind::Order, 987_654, "100000001")
        .extra(serde_json::json!({"lines": [{"line_id": 1, "item_id": 1}]}));
    h.store().bindings().put(gone).await.unwrap();
    let order = import(&h, "100000005").await;
    let broken = BindingPut::new(SANDBOX_BACKEND, BindingKind::Order, order, "100000005")
        .store(1)
        .extra(serde_json::json!({"state": "sale"}));
    h.store().bindings().put(broken).await.unwrap();

    let r = follow(&h).await;
    let gone = r.record("100000001").unwrap();
    assert_eq!(gone.outcome, Outcome::Skipped);
    assert!(gone.message.contains("no longer exists in OpenERP"), "{}", gone.message);
    let bad = r.record("100000005").unwrap();
    assert_eq!(bad.outcome, Outcome::Failed);
    assert!(bad.message.contains("no `lines`") && bad.message.contains("re-import"), "{}", bad.message);
    assert_eq!(writes(&h), 0, "nothing is sent for an order without links, not even its confirmation");

    let r = follow(&h).await;
    let refs: Vec<&str> = r.records.iter().map(|x| x.reference.as_str()).collect();
    assert_eq!(refs, ["100000005"], "the missing order is reported once, the broken binding until repaired");
    assert_eq!(h.magento().knobs().requests(), 0);
    h.shutdown().await;
}

#[tokio::test]
async fn shipments_already_in_magento_with_and_without_the_delivery_note() {
    let h = Harness::start().await.unwrap();
    let (a, b) = ("100000001", "100000005");
    let oa = import(&h, a).await;
    let ob = import(&h, b).await;
    follow(&h).await;
    let pa = open_delivery(&h, oa);
    let pb = open_delivery(&h, ob);
    h.openerp().deliver(pa, None, Some("Z-A"), false).unwrap();
    h.openerp().deliver(pb, None, Some("Z-B"), false).unwrap();
    let name_a = h.openerp().read("stock.picking", pa, &["name"]).unwrap().unwrap();
    let Some(Value::String(name_a)) = name_a.get("name").cloned() else { panic!() };
    // a: the process stopped after Magento created the shipment; b: shipped by hand in Magento.
    let m = h.peers().magento.clone();
    let note = magento_connector::sync::followup::send::shipment_note(&name_a);
    let sa = m.create_shipment(a, &ShipmentRequest { comment: Some(note), ..Default::default() }).await.unwrap();
    m.create_shipment(b, &ShipmentRequest::default()).await.unwrap();
    let key = EventKey::new(SANDBOX_BACKEND, a, EventKind::Shipment, &format!("picking:{pa}"));
    h.store().events().mark(&key, EventState::Pending, None, IN_FLIGHT).await.unwrap();

    let creates = h.magento().knobs().count("sales_order_shipment.create");
    let r = follow(&h).await;
    assert_eq!(h.magento().knobs().count("sales_order_shipment.create"), creates + 1, "only b's is tried");
    let sh = of_kind(&r, "shipment", a);
    assert!(sh[0].message.contains("found in Magento"), "{}", sh[0].message);
    assert_eq!(sh[0].magento_id.as_deref(), Some(sa.as_str()));
    assert_eq!(of_kind(&r, "track", a)[0].outcome, Outcome::Created);
    let ma = h.magento().order(a).unwrap();
    assert_eq!(ma.shipments.len(), 1);
    assert_eq!(ma.shipments[0].tracks.iter().map(|t| t.number.as_str()).collect::<Vec<_>>(), ["Z-A"]);
    assert_eq!(h.store().events().get(&key).await.unwrap().unwrap().magento_ref.as_deref(), Some(sa.as_str()));

    let shb = of_kind(&r, "shipment", b);
    assert!(shb[0].message.contains("already shipped in Magento"), "{}", shb[0].message);
    let tb = of_kind(&r, "track", b);
    assert_eq!(tb[0].outcome, Outcome::Failed);
    assert!(tb[0].message.contains("by hand"), "{}", tb[0].message);
    assert!(h.magento().order(b).unwrap().shipments[0].tracks.is_empty());
    let w = writes(&h);
    assert!(follow(&h).await.records.is_empty(), "reported once, not retried");
    assert_eq!(writes(&h), w);
    h.shutdown().await;
}
