//! Stock export against both sandboxes: what Magento shows per SKU after a run, how many write
//! calls a run makes, and what the run reports.
//!
//! The products job is not on `main` yet, so the tests bind the products the Magento sandbox
//! seeds (those with a `magento_id`) through the store, as the product export would.

use std::str::FromStr;

use dxr::Value;
use magento_connector::config::{MultiCallMode, SANDBOX_BACKEND};
use magento_connector::rpc::value::{self, Map};
use magento_connector::sandbox::harness::{ClientTuning, Harness, RunResult, SandboxesOptions};
use magento_connector::sandbox::knobs::{Inject, Rule};
use magento_connector::sandbox::seed::{self, SeedProduct};
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{BindingKind, BindingPut, Outcome, RunState};
use rust_decimal::Decimal;

const UPDATE: &str = "cataloginventory_stock_item.update";

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn seed_product(sku: &str) -> SeedProduct {
    seed::products().into_iter().find(|p| p.sku.as_deref() == Some(sku)).unwrap()
}

fn f(x: f64) -> Decimal {
    Decimal::try_from(x).unwrap().normalize()
}

/// Seeded forecast over both warehouses (the default mapping: website 1 → warehouse 1,
/// website 2 → warehouse 2, every product exported to both websites).
fn forecast(sku: &str) -> Decimal {
    seed_product(sku).stock.iter().map(|s| f(s.forecast())).sum::<Decimal>().normalize()
}

/// Seed products bound at start: in OpenERP, in Magento, active, storable.
fn seeded_storables() -> Vec<String> {
    seed::products()
        .into_iter()
        .filter(|p| p.in_openerp && p.active && p.magento_id.is_some() && p.kind == seed::ProductKind::Storable)
        .filter_map(|p| p.sku)
        .collect()
}

async fn start(multicall: MultiCallMode) -> Harness {
    let options = SandboxesOptions {
        tuning: ClientTuning { multicall, ..ClientTuning::default() },
        ..SandboxesOptions::default()
    };
    Harness::with_options(options).await.unwrap()
}

fn erp_id(h: &Harness, sku: &str) -> i64 {
    h.openerp().product_id(sku).unwrap_or_else(|| panic!("{sku} is not in OpenERP"))
}

/// Binds `sku` to Magento product `magento_id` as the product export would.
async fn bind(h: &Harness, sku: &str, magento_id: i64, websites: Option<&[i64]>) -> i64 {
    let id = erp_id(h, sku);
    let mut extra = serde_json::json!({ "sku": sku });
    if let Some(w) = websites {
        extra["websites"] = serde_json::json!(w);
    }
    h.store()
        .bindings()
        .put(BindingPut::new(SANDBOX_BACKEND, BindingKind::Product, id, magento_id.to_string()).extra(extra))
        .await
        .unwrap();
    id
}

/// Binds every seeded product that exists on both sides.
async fn bind_seeded(h: &Harness) {
    for p in seed::products().into_iter().filter(|p| p.in_openerp) {
        if let (Some(sku), Some(mid)) = (p.sku.as_deref(), p.magento_id) {
            bind(h, sku, mid, None).await;
        }
    }
}

/// Puts seed products that only OpenERP has into the Magento sandbox and binds them.
async fn insert_and_bind(h: &Harness, skus: &[&str]) {
    let products: Vec<SeedProduct> = skus.iter().map(|s| seed_product(s)).collect();
    let ids = h.magento().insert_products(&products);
    assert_eq!(ids.len(), skus.len());
    for (sku, mid) in skus.iter().zip(ids) {
        bind(h, sku, mid, None).await;
    }
}

/// Runs the stock push; the counts of a real run add up to its total (unchanged quantities
/// are counted as skipped without a report line each).
async fn run(h: &Harness, options: JobOptions) -> RunResult {
    let r = h.run(JobKind::Stock, options).await.unwrap();
    assert_eq!(r.run.state, RunState::Done, "run error: {:?}", r.run.error);
    assert_eq!(r.run.done, r.run.total, "{:?}", r.run);
    if !r.run.dry_run {
        assert_eq!(r.run.created + r.run.updated + r.run.skipped + r.run.failed, r.run.total, "{:?}", r.run);
    }
    r
}

fn writes(h: &Harness) -> u64 {
    h.magento().knobs().count(UPDATE)
}

fn qty(h: &Harness, sku: &str) -> (Decimal, bool) {
    let s = h.magento().stock(sku).unwrap_or_else(|| panic!("{sku} is not in Magento"));
    (s.qty.normalize(), s.is_in_stock)
}

fn backorders(h: &Harness, sku: &str) -> Option<i64> {
    h.magento().stock(sku).unwrap().backorders
}

fn outcome(r: &RunResult, sku: &str) -> Outcome {
    r.record(sku).unwrap_or_else(|| panic!("no record for {sku}: {:#?}", r.records)).outcome
}

fn write_backend(h: &Harness, vals: Vec<(&str, Value)>) {
    let id = h.openerp().seed_ids().backend.unwrap();
    let vals: Map = vals.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    h.openerp().write("magento.backend", &[id], vals).unwrap();
}

fn set_store_warehouse(h: &Harness, magento_store_id: i64, warehouse: Option<i64>) {
    let lines =
        h.openerp().search("magento.backend.store", &[("magento_store_id", "=", value::id(magento_store_id))]).unwrap();
    assert_eq!(lines.len(), 1);
    let v = warehouse.map_or(Value::Boolean(false), value::id);
    h.openerp().write("magento.backend.store", &lines, [("warehouse_id".to_owned(), v)].into_iter().collect()).unwrap();
}

fn warehouses(h: &Harness) -> (i64, i64) {
    let w = &h.openerp().seed_ids().warehouses;
    (w[0], w[1])
}

/// First push, then a run without changes, then two changed quantities: the whole scenario
/// with the given multiCall mode. Returns the harness for further checks.
async fn first_push_then_only_changes(multicall: MultiCallMode) -> Harness {
    let h = start(multicall).await;
    bind_seeded(&h).await;
    let storables = seeded_storables();
    assert_eq!(storables.len(), 16, "{storables:?}");

    let r = run(&h, JobOptions::default()).await;
    assert_eq!(writes(&h), 16, "one write per storable bound product");
    for sku in &storables {
        let want = forecast(sku);
        assert_eq!(qty(&h, sku), (want, want > Decimal::ZERO), "{sku}");
        assert_eq!(outcome(&r, sku), Outcome::Updated, "{sku}");
        assert_eq!(backorders(&h, sku), None, "backorders left to the shop's configuration");
    }
    assert_eq!(qty(&h, "ELEC-PHN-001"), (dec("35"), true), "25 in warehouse 1 + 10 in warehouse 2");
    assert_eq!(qty(&h, "ELEC-ACC-002"), (dec("35"), true), "0 + 35: stock of the second website counts");
    assert_eq!(r.run.updated, 16);
    assert_eq!(r.run.failed, 0);
    let sent = h.store().stock().list(SANDBOX_BACKEND).await.unwrap();
    assert_eq!(sent.len(), 16);

    let requests = h.magento().knobs().requests();
    let again = run(&h, JobOptions::default()).await;
    assert_eq!(writes(&h), 16, "nothing changed: no write call");
    assert_eq!(h.magento().knobs().requests(), requests, "nothing changed: not a single Magento request");
    assert!(again.with_outcome(Outcome::Updated).is_empty());
    assert!(again.run.error.is_none());

    let (wh1, wh2) = warehouses(&h);
    h.openerp().set_stock(erp_id(&h, "ELEC-PHN-001"), wh1, dec("5")).unwrap();
    h.openerp().set_stock(erp_id(&h, "HOME-001"), wh2, dec("0")).unwrap();
    let changed = run(&h, JobOptions::default()).await;
    assert_eq!(writes(&h), 18, "exactly two writes");
    assert_eq!(qty(&h, "ELEC-PHN-001"), (dec("15"), true));
    assert_eq!(qty(&h, "HOME-001"), (dec("60"), true));
    let updated: Vec<&str> = changed.with_outcome(Outcome::Updated).iter().map(|r| r.reference.as_str()).collect();
    assert_eq!(updated, vec!["ELEC-PHN-001", "HOME-001"]);
    assert!(
        changed.record("ELEC-PHN-001").unwrap().message.contains("qty 35 → 15"),
        "{:?}",
        changed.record("ELEC-PHN-001")
    );
    h
}

#[tokio::test]
async fn first_push_then_only_changed_quantities_are_written() {
    let h = first_push_then_only_changes(MultiCallMode::Auto).await;
    assert!(h.magento().knobs().count("multiCall") > 0, "the batch went through multiCall");
    h.shutdown().await;
}

#[tokio::test]
async fn multicall_off_gives_the_same_result() {
    let h = first_push_then_only_changes(MultiCallMode::Off).await;
    assert_eq!(h.magento().knobs().count("multiCall"), 0);
    h.shutdown().await;
}

#[tokio::test]
async fn unbound_untracked_and_unexportable_products_are_reported_not_sent() {
    let h = start(MultiCallMode::Auto).await;
    bind_seeded(&h).await;
    // A consumable that Magento has and that is bound: still no stock is sent for it.
    insert_and_bind(&h, &["OFF-PAPER-A4"]).await;
    let before = h.magento().stock("OFF-PAPER-A4").unwrap();
    let r = run(&h, JobOptions::default()).await;

    let paper = r.record("OFF-PAPER-A4").unwrap();
    assert_eq!(paper.outcome, Outcome::Skipped);
    assert!(paper.message.contains("consumable"), "{}", paper.message);
    assert_eq!(h.magento().stock("OFF-PAPER-A4").unwrap(), before);
    let service = r.record("SRV-WARRANTY-2Y").unwrap();
    assert_eq!(service.outcome, Outcome::Skipped);
    assert!(service.message.contains("service"), "{}", service.message);
    for sku in ["API-LAMP-001", "OFF-DESK-001", "OFF-CHAIR-001", "1001", "HOME-ECO-BAG", "RAW-STEEL-01"] {
        let rec = r.record(sku).unwrap_or_else(|| panic!("{sku} not reported"));
        assert_eq!(rec.outcome, Outcome::Skipped, "{sku}");
        assert!(rec.message.contains("not in Magento yet"), "{sku}: {}", rec.message);
        assert!(h.magento().stock(sku).is_none(), "the stock job never creates products");
    }
    let vase = r.records.iter().find(|x| x.reference.starts_with("product.product ")).expect("product without SKU");
    assert!(vase.message.contains("not in Magento yet"));
    assert!(r.record("INT-STAPLER").is_none(), "not exportable: not walked");
    assert!(r.record("ELEC-OLD-001").is_none(), "archived: not walked");
    assert_eq!(writes(&h), 16);
    h.shutdown().await;
}

#[tokio::test]
async fn negative_and_zero_quantities_without_and_with_backorders() {
    let h = start(MultiCallMode::Auto).await;
    bind_seeded(&h).await;
    insert_and_bind(&h, &["OFF-CHAIR-001", "OFF-DESK-001"]).await;
    let (wh1, wh2) = warehouses(&h);
    // Phone 2: 8 + 0 on hand; now none anywhere.
    h.openerp().set_stock(erp_id(&h, "ELEC-PHN-002"), wh1, Decimal::ZERO).unwrap();
    assert_eq!(forecast("OFF-CHAIR-001"), dec("-2"), "seed: 2 promised, none on hand");

    let r = run(&h, JobOptions::default()).await;
    assert_eq!(qty(&h, "OFF-CHAIR-001"), (Decimal::ZERO, false), "a negative forecast is sent as 0");
    assert_eq!(qty(&h, "ELEC-PHN-002"), (Decimal::ZERO, false), "zero is out of stock");
    assert!(r.record("OFF-CHAIR-001").unwrap().message.contains("out of stock"));
    assert_eq!(qty(&h, "OFF-DESK-001"), (forecast("OFF-DESK-001"), true));
    let _ = wh2;

    // Backorders for every product: quantities as they are, in stock, backorders on.
    write_backend(&h, vec![("backorders", value::string("all"))]);
    let w = writes(&h);
    let r = run(&h, JobOptions::default()).await;
    assert_eq!(writes(&h) - w, 18, "the backorder switch is a change for every product");
    assert_eq!(qty(&h, "OFF-CHAIR-001"), (dec("-2"), true));
    assert_eq!(qty(&h, "ELEC-PHN-002"), (Decimal::ZERO, true));
    assert_eq!(backorders(&h, "OFF-CHAIR-001"), Some(1));
    assert_eq!(backorders(&h, "ELEC-PHN-001"), Some(1));
    assert!(r.record("OFF-CHAIR-001").unwrap().message.contains("backorders shop default → on"));

    // Only the chair: the others get backorders switched off again, the chair is not resent.
    let chair = erp_id(&h, "OFF-CHAIR-001");
    write_backend(
        &h,
        vec![
            ("backorders", value::string("selected")),
            (
                "backorder_product_ids",
                value::array([value::array([value::int(6), value::int(0), value::array([value::id(chair)])])]),
            ),
        ],
    );
    let w = writes(&h);
    let r = run(&h, JobOptions::default()).await;
    assert_eq!(writes(&h) - w, 17, "every product but the chair");
    assert!(r.record("OFF-CHAIR-001").is_none(), "unchanged: not reported");
    assert_eq!((qty(&h, "OFF-CHAIR-001"), backorders(&h, "OFF-CHAIR-001")), ((dec("-2"), true), Some(1)));
    assert_eq!((qty(&h, "ELEC-PHN-002"), backorders(&h, "ELEC-PHN-002")), ((Decimal::ZERO, false), Some(0)));
    assert_eq!((qty(&h, "ELEC-PHN-001"), backorders(&h, "ELEC-PHN-001")), ((dec("35"), true), Some(0)));

    // None: the chair is back to 0, out of stock, backorders off.
    write_backend(&h, vec![("backorders", value::string("none"))]);
    let w = writes(&h);
    run(&h, JobOptions::default()).await;
    assert_eq!(writes(&h) - w, 1);
    assert_eq!((qty(&h, "OFF-CHAIR-001"), backorders(&h, "OFF-CHAIR-001")), ((Decimal::ZERO, false), Some(0)));
    h.shutdown().await;
}

#[tokio::test]
async fn warehouses_of_the_websites_decide_the_sum() {
    let h = start(MultiCallMode::Auto).await;
    bind_seeded(&h).await;
    // Exported to website 1 only (the binding says so): warehouse 1 alone.
    bind(&h, "HOME-002", 6, Some(&[1])).await;
    bind(&h, "BOOK-001", 7, Some(&[2])).await;
    let (wh1, _wh2) = warehouses(&h);
    run(&h, JobOptions::default()).await;
    assert_eq!(qty(&h, "ELEC-ACC-001").0, dec("520"), "120 + 400: both websites, both warehouses");
    assert_eq!(qty(&h, "HOME-002").0, dec("40"), "website 1 → warehouse 1");
    assert_eq!(qty(&h, "BOOK-001").0, dec("30"), "website 2 → warehouse 2");

    // The wholesale website now ships from warehouse 1 too: one warehouse, counted once.
    set_store_warehouse(&h, 3, Some(wh1));
    let r = run(&h, JobOptions::default()).await;
    assert_eq!(qty(&h, "ELEC-ACC-001").0, dec("120"));
    assert_eq!(qty(&h, "BOOK-001").0, dec("12"));
    assert!(r.record("ELEC-ACC-001").unwrap().message.contains(&format!("(warehouse {wh1})")));

    // No warehouse on any store view: every warehouse.
    for store in [1, 2, 3] {
        set_store_warehouse(&h, store, None);
    }
    let r = run(&h, JobOptions::default()).await;
    assert_eq!(qty(&h, "ELEC-ACC-001").0, dec("520"));
    assert_eq!(qty(&h, "HOME-002").0, dec("40"));
    assert!(r.record("ELEC-ACC-001").unwrap().message.contains("(all warehouses)"));
    h.shutdown().await;
}

#[tokio::test]
async fn the_configured_stock_field_is_sent() {
    let h = start(MultiCallMode::Auto).await;
    insert_and_bind(&h, &["OFF-DESK-001"]).await;
    let desk = seed_product("OFF-DESK-001");
    let sum = |g: fn(&seed::SeedStock) -> f64| desk.stock.iter().map(|s| f(g(s))).sum::<Decimal>().normalize();
    let (forecast_, on_hand, free) = (sum(|s| s.forecast()), sum(|s| s.on_hand), sum(|s| s.free()));
    assert_eq!((forecast_, on_hand, free), (dec("20"), dec("16"), dec("13")), "seed: 4+10-6 / 4 / 4-3 plus 12");

    run(&h, JobOptions::default()).await;
    assert_eq!(qty(&h, "OFF-DESK-001").0, forecast_);
    write_backend(&h, vec![("stock_field", value::string("qty_available"))]);
    run(&h, JobOptions::default()).await;
    assert_eq!(qty(&h, "OFF-DESK-001").0, on_hand);
    write_backend(&h, vec![("stock_field", value::string("free_qty"))]);
    let r = run(&h, JobOptions::default()).await;
    assert_eq!(qty(&h, "OFF-DESK-001").0, free);
    assert!(r.record("OFF-DESK-001").unwrap().message.contains("qty 16 → 13"));
    h.shutdown().await;
}

#[tokio::test]
async fn faulted_items_are_reported_and_retried_next_run() {
    for multicall in [MultiCallMode::Auto, MultiCallMode::Off] {
        let h = start(multicall).await;
        bind_seeded(&h).await;
        let knobs = h.magento().knobs();
        knobs.add_rule(Rule::method_with(UPDATE, "ELEC-PHN-001", Inject::Fault, None));
        knobs.add_rule(Rule::method_with(UPDATE, "HOME-003", Inject::Fault, None));
        let before = qty(&h, "ELEC-PHN-001");

        let r = run(&h, JobOptions::default()).await;
        assert_eq!(r.run.failed, 2, "{multicall:?}");
        assert_eq!(r.run.updated, 14, "{multicall:?}");
        for sku in ["ELEC-PHN-001", "HOME-003"] {
            let rec = r.record(sku).unwrap();
            assert_eq!(rec.outcome, Outcome::Failed);
            assert!(rec.message.contains("sent again on the next run"), "{}", rec.message);
        }
        assert_eq!(qty(&h, "ELEC-PHN-001"), before, "not written");
        assert_eq!(qty(&h, "ELEC-ACC-002"), (dec("35"), true), "the others are written");
        let sent = h.store().stock().list(SANDBOX_BACKEND).await.unwrap();
        assert_eq!(sent.len(), 14, "failed items are not recorded as sent");

        knobs.clear_rules();
        let w = writes(&h);
        let r = run(&h, JobOptions::default()).await;
        assert_eq!(writes(&h) - w, 2, "{multicall:?}: only the two failed items are sent again");
        assert_eq!(r.run.updated, 2);
        assert_eq!(qty(&h, "ELEC-PHN-001"), (dec("35"), true));
        assert_eq!(qty(&h, "HOME-003"), (dec("2"), true));
        h.shutdown().await;
    }
}

#[tokio::test]
async fn dry_run_ids_and_full() {
    let h = start(MultiCallMode::Auto).await;
    bind_seeded(&h).await;
    let before = qty(&h, "ELEC-PHN-001");

    let dry = run(&h, JobOptions { dry_run: true, ..JobOptions::default() }).await;
    assert_eq!(writes(&h), 0, "a dry run writes nothing");
    assert_eq!(qty(&h, "ELEC-PHN-001"), before);
    assert!(h.store().stock().list(SANDBOX_BACKEND).await.unwrap().is_empty());
    let planned = dry.record("ELEC-PHN-001").unwrap();
    assert_eq!(planned.outcome, Outcome::Planned);
    assert!(planned.message.contains("qty 35, in stock"), "{}", planned.message);
    assert_eq!(dry.with_outcome(Outcome::Planned).len(), 16);

    let phone = erp_id(&h, "ELEC-PHN-001");
    let lamp = erp_id(&h, "API-LAMP-001");
    let stapler = erp_id(&h, "INT-STAPLER");
    let ids = vec![phone, lamp, stapler, 999_999];
    let only = run(&h, JobOptions { ids: Some(ids), ..JobOptions::default() }).await;
    assert_eq!(writes(&h), 1);
    assert_eq!(qty(&h, "ELEC-PHN-001"), (dec("35"), true));
    assert_eq!(outcome(&only, "API-LAMP-001"), Outcome::Skipped);
    assert!(only.record("INT-STAPLER").unwrap().message.contains("not marked for Magento"));
    assert!(only.record("product.product 999999").unwrap().message.contains("not found"));
    assert_eq!(only.records.len(), 4);

    run(&h, JobOptions::default()).await;
    assert_eq!(writes(&h), 16);
    let full = run(&h, JobOptions { full: true, ..JobOptions::default() }).await;
    assert_eq!(writes(&h), 32, "full sends every level again");
    assert_eq!(full.run.updated, 16);
    h.shutdown().await;
}
