//! Order follow-up under Magento deadlocks between concurrent writers, including "phantom"
//! ones (Magento raised the deadlock after committing): every invoice, shipment, tracking
//! number and status comment ends up in Magento exactly once, whatever the faults, within a few
//! runs.

mod sync_followup_support;

use std::time::Duration;

use magento_connector::sandbox::harness::Harness;
use magento_connector::sandbox::openerp::InvoiceLine;
use rust_decimal::Decimal;
use sync_followup_support::*;

/// Orders with a line of several units (so a duplicated partial invoice or shipment would be
/// accepted by Magento) and the SKU of that line.
const ORDERS: &[(&str, &str)] = &[
    ("100000001", "HOME-001"),
    ("100000002", "CLO-TSHIRT-BLUE-L"),
    ("100000003", "HOME-002"),
    ("300000001", "ELEC-ACC-001"),
];

async fn scenario(rate: f64, phantom: f64, seed: u64) {
    let h = Harness::start().await.unwrap();
    let mut orders = Vec::new();
    for (inc, sku) in ORDERS {
        let o = import(&h, inc).await;
        let erp = h.openerp();
        erp.invoice_order(o, Some(&[InvoiceLine { line_id: line(&h, o, sku), qty: d("1") }]), true).unwrap();
        let product = erp.product_id(sku).unwrap();
        erp.deliver(open_delivery(&h, o), Some(&[(product, d("1"))]), Some(&format!("T-{inc}-1, T-{inc}-2")), true)
            .unwrap();
        orders.push(o);
    }
    // Requests last a while, so the writes of orders followed at once overlap and deadlock.
    h.magento().knobs().set_latency(Duration::from_millis(20));
    h.magento().set_deadlocks(rate, phantom, seed);
    let mut runs = 0;
    loop {
        runs += 1;
        let r = follow(&h).await;
        if r.run.failed == 0 {
            break;
        }
        assert!(
            runs < 8,
            "still failing after {runs} runs: {:?}",
            r.with_outcome(magento_connector::store::Outcome::Failed)
        );
        if runs == 5 {
            h.magento().set_deadlocks(0.0, 0.0, seed);
        }
    }
    assert!(h.magento().knobs().count("sales_order_invoice.create") >= 4);
    for (inc, sku) in ORDERS {
        let m = h.magento().order(inc).unwrap();
        let it = item(&h, inc, sku);
        assert_eq!(m.invoices.len(), 1, "{inc}: {:?}", m.invoices);
        assert_eq!(m.invoices[0].items.iter().find(|(i, _)| *i == it).map(|(_, q)| *q), Some(d("1")), "{inc}");
        assert_eq!(m.shipments.len(), 1, "{inc}: {:?}", m.shipments);
        let s = &m.shipments[0];
        assert_eq!(s.items.iter().find(|(i, _)| *i == it).map(|(_, q)| *q), Some(d("1")), "{inc}");
        let numbers: Vec<&str> = s.tracks.iter().map(|t| t.number.as_str()).collect();
        assert_eq!(numbers, [format!("T-{inc}-1"), format!("T-{inc}-2")], "{inc}");
        let ordered: Decimal = m.items.iter().filter(|i| i.id == it).map(|i| i.qty_invoiced).sum();
        assert_eq!(ordered, d("1"), "{inc}: invoiced once");
        // Status comments too: each one once, whatever Magento answered.
        let comments: Vec<&str> = m.history.iter().filter_map(|e| e.comment.as_deref()).collect();
        let mut unique = comments.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(comments.len(), unique.len(), "{inc}: a comment sent twice: {comments:?}");
        assert!(!comments.is_empty(), "{inc}: no status comment at all");
    }
    let w = writes(&h);
    assert!(follow(&h).await.records.is_empty());
    assert_eq!(writes(&h), w);
    h.shutdown().await;
}

#[tokio::test]
async fn phantom_deadlocks_never_duplicate_documents() {
    scenario(1.0, 1.0, 11).await;
}

#[tokio::test]
async fn mixed_deadlocks_converge_without_duplicates() {
    scenario(0.5, 0.5, 23).await;
}
