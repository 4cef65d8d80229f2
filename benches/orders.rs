//! Order import throughput: 1,000 Magento orders of 3 lines (`generate_orders(1000, 3)`)
//! imported into the OpenERP sandbox through the real run manager, clients and HTTP, without
//! and with added latency per request on both sides. Prints orders per second and requests per
//! order to each side. Not run in CI (`cargo bench --bench orders`; `ORDERS=n` and
//! `LATENCY_MS=a,b` change the sizes).

use std::time::{Duration, Instant};

use dxr::Value;
use magento_connector::rpc::value;
use magento_connector::sandbox::harness::{Harness, SandboxesOptions};
use magento_connector::sandbox::magento1::SandboxOptions;
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{Outcome, RunState};

fn env_list(name: &str, default: &[u64]) -> Vec<u64> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .filter(|v: &Vec<u64>| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

async fn one(orders: usize, latency: Duration) -> Result<(), String> {
    let options = SandboxesOptions {
        magento: SandboxOptions { seed_orders: false, ..SandboxOptions::default() },
        ..SandboxesOptions::default()
    };
    let h = Harness::with_options(options).await?;
    // The one SKU only Magento has would break an order in seven; give it to OpenERP too.
    let vals = value::structure([
        ("name", value::string("Noise Cancelling Headphones")),
        ("default_code", value::string("ELEC-HDPH-001")),
    ]);
    let Value::Struct(vals) = vals else { return Err("not a struct".into()) };
    h.openerp().create("product.product", vals).map_err(|e| e.to_string())?;
    let placed = h.magento().generate_orders(orders, 3);
    h.magento().knobs().reset_counts();
    h.openerp().knobs().reset_counts();
    h.magento().knobs().set_latency(latency);
    h.openerp().knobs().set_latency(latency);
    let started = Instant::now();
    let r = h.run(JobKind::OrdersImport, JobOptions::default()).await?;
    let elapsed = started.elapsed();
    if r.run.state != RunState::Done {
        return Err(format!("run {:?}: {:?}", r.run.state, r.run.error));
    }
    let created = r.with_outcome(Outcome::Created).len();
    let failed = r.with_outcome(Outcome::Failed).len();
    let per_order = |n: u64| n as f64 / placed.len().max(1) as f64;
    let erp = h.openerp().knobs();
    let mage = h.magento().knobs();
    println!(
        "orders={:>5} latency={:>2} ms: {:>7.1} orders/s ({:.2} s); created {created}, failed {failed}; \
         requests per order: OpenERP {:.3} ({} calls), Magento {:.3} ({} calls)",
        placed.len(),
        latency.as_millis(),
        placed.len() as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        per_order(erp.requests()),
        erp.requests(),
        per_order(mage.requests()),
        mage.requests(),
    );
    let mut top: Vec<(String, u64)> = erp.counts().into_iter().collect();
    top.sort_by_key(|e| std::cmp::Reverse(e.1));
    let top: Vec<String> = top.iter().take(8).map(|(k, v)| format!("{k} {v}")).collect();
    println!("    OpenERP calls: {}", top.join(", "));
    let mut mtop: Vec<(String, u64)> = mage.counts().into_iter().collect();
    mtop.sort_by_key(|e| std::cmp::Reverse(e.1));
    let mtop: Vec<String> = mtop.iter().take(5).map(|(k, v)| format!("{k} {v}")).collect();
    println!("    Magento calls: {}", mtop.join(", "));
    h.shutdown().await;
    Ok(())
}

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let orders = env_list("ORDERS", &[1000]);
    let latencies = env_list("LATENCY_MS", &[0, 2]);
    for n in orders {
        for ms in &latencies {
            if let Err(e) = runtime.block_on(one(n as usize, Duration::from_millis(*ms))) {
                eprintln!("orders={n} latency={ms} ms: {e}");
                std::process::exit(1);
            }
        }
    }
}
