//! Stock export benchmark (not a test; never run in CI): 10,000 generated products bound in
//! both sandboxes, one push of every quantity, 1 % of the quantities changed in OpenERP, a
//! second push, and a third push with nothing changed. For each push it prints the Magento
//! HTTP requests, the stock write calls, the OpenERP requests and the wall time.
//!
//! `cargo bench --bench stock` (release build). `STOCK_BENCH_PRODUCTS=n` changes the size,
//! `STOCK_BENCH_MULTICALL=off` sends single calls instead of multiCall batches.

use std::time::{Duration, Instant};

use magento_connector::config::{MultiCallMode, SANDBOX_BACKEND};
use magento_connector::openerp::models::stock::StockScope;
use magento_connector::openerp::{Context, Domain};
use magento_connector::rpc::value::{Map, Record};
use magento_connector::sandbox::harness::{ClientTuning, Harness, SandboxesOptions};
use magento_connector::sandbox::openerp::Options as OpenErpOptions;
use magento_connector::sandbox::seed;
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{BindingKind, BindingPut, Outcome, RunState};
use rust_decimal::Decimal;

const UPDATE: &str = "cataloginventory_stock_item.update";

struct Figures {
    magento_requests: u64,
    writes: u64,
    openerp_requests: u64,
    updated: u64,
    failed: u64,
    wall: Duration,
}

async fn push(h: &Harness, label: &str) -> Figures {
    let (m, o) = (h.magento().knobs(), h.openerp().knobs());
    m.reset_counts();
    o.reset_counts();
    let started = Instant::now();
    let r = h.run(JobKind::Stock, JobOptions::default()).await.expect("run");
    let wall = started.elapsed();
    assert_eq!(r.run.state, RunState::Done, "{label}: {:?}", r.run.error);
    let f = Figures {
        magento_requests: m.requests(),
        writes: m.count(UPDATE),
        openerp_requests: o.requests(),
        updated: r.with_outcome(Outcome::Updated).len() as u64,
        failed: r.run.failed,
        wall,
    };
    println!(
        "{label:<22} {:>9} {:>9} {:>9} {:>9} {:>7} {:>10.3}",
        f.updated,
        f.writes,
        f.magento_requests,
        f.openerp_requests,
        f.failed,
        f.wall.as_secs_f64()
    );
    f
}

async fn bench(products: usize, multicall: MultiCallMode) {
    let setup = Instant::now();
    let options = SandboxesOptions {
        openerp: OpenErpOptions::with_generated(0, products),
        tuning: ClientTuning { multicall, ..ClientTuning::default() },
        ..SandboxesOptions::default()
    };
    let h = Harness::with_options(options).await.expect("sandboxes");
    let generated: Vec<seed::SeedProduct> = seed::generated_products(products).collect();
    let magento_ids = h.magento().insert_products(&generated);
    assert_eq!(magento_ids.len(), products);

    let domain = Domain::new().term("default_code", "=like", dxr::Value::String("BENCH-%".into()));
    let rows: Vec<Map> = h
        .peers()
        .openerp
        .search_read_all("product.product", &domain, &["default_code"], &Context::default())
        .await
        .expect("OpenERP ids");
    let mut by_sku = std::collections::HashMap::new();
    for row in &rows {
        let r = Record::new(row, "product.product");
        by_sku.insert(r.string("default_code").expect("sku"), r.i64("id").expect("id"));
    }
    let mut erp_ids = Vec::with_capacity(products);
    for (p, mid) in generated.iter().zip(&magento_ids) {
        let sku = p.sku.clone().expect("generated products have a SKU");
        let id = by_sku[&sku];
        erp_ids.push(id);
        let put = BindingPut::new(SANDBOX_BACKEND, BindingKind::Product, id, mid.to_string())
            .extra(serde_json::json!({ "sku": sku }));
        h.store().bindings().put(put).await.expect("binding");
    }
    println!(
        "\n{products} products, multiCall {multicall:?}, setup {:.1} s (sandboxes, Magento insert, bindings)",
        setup.elapsed().as_secs_f64()
    );
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>9} {:>7} {:>10}",
        "push", "updated", "writes", "mage req", "erp req", "failed", "wall (s)"
    );

    let first = push(&h, "1: every quantity").await;
    assert_eq!(first.writes as usize, products, "first push writes every product");

    let wh1 = h.openerp().seed_ids().warehouses[0];
    let step = 100;
    for id in erp_ids.iter().step_by(step) {
        h.openerp().set_stock(*id, wh1, Decimal::from(1000)).expect("set_stock");
    }
    let changed = products.div_ceil(step);
    let second = push(&h, "2: 1 % changed").await;
    assert_eq!(second.writes as usize, changed, "only the changed quantities are written");
    let third = push(&h, "3: nothing changed").await;
    assert_eq!((third.writes, third.magento_requests), (0, 0));
    breakdown(&h, &erp_ids).await;
    h.shutdown().await;
}

/// Where the time of a push without changes goes: the same reads, one kind at a time.
async fn breakdown(h: &Harness, erp_ids: &[i64]) {
    let client = &h.peers().openerp;
    let ctx = Context::default();
    let domain = Domain::new().eq("magento_exportable", dxr::Value::Boolean(true));
    let t = Instant::now();
    let mut pages =
        client.pages("product.product", &domain, &["default_code", "magento_exportable", "detailed_type"], &ctx);
    let mut n = 0;
    while let Some(p) = pages.next_page().await.expect("page") {
        n += p.len();
    }
    let walk = t.elapsed();
    let mut levels = Vec::new();
    for wh in h.openerp().seed_ids().warehouses.clone() {
        let t = Instant::now();
        for chunk in erp_ids.chunks(client.page_size()) {
            let scope = StockScope { warehouse: Some(wh), location: None };
            client.stock_levels(chunk, scope, &ctx).await.expect("levels");
        }
        levels.push(t.elapsed());
    }
    let t = Instant::now();
    for chunk in erp_ids.chunks(client.page_size()) {
        h.store().stock().get_many(SANDBOX_BACKEND, chunk, 0).await.expect("sent log");
    }
    let log = t.elapsed();
    println!(
        "breakdown: product walk {n} rows {:.3} s, stock_levels per warehouse {}, sent-log reads {:.3} s",
        walk.as_secs_f64(),
        levels.iter().map(|d| format!("{:.3} s", d.as_secs_f64())).collect::<Vec<_>>().join(" + "),
        log.as_secs_f64()
    );
}

fn main() {
    let products = std::env::var("STOCK_BENCH_PRODUCTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let multicall = match std::env::var("STOCK_BENCH_MULTICALL").as_deref() {
        Ok("off") => MultiCallMode::Off,
        _ => MultiCallMode::Auto,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(bench(products, multicall));
}
