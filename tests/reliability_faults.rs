//! Fault injection (issue 10): the sync cycle in process against sandboxes that fail 10 % of
//! Magento requests and 5 % of OpenERP requests (faults, HTTP 500, timeouts, dropped
//! connections; seeded, so every seed replays the same faults). Every record must end either
//! synced (and the sandboxes agree) or reported with a reason, every record an uninterrupted
//! run reports must be reported, and once injection stops, one more cycle must reach exactly
//! the golden state. Then Magento's deadlocks between concurrent writers, including phantom
//! ones (the write was done, the client is told it deadlocked), must not duplicate products.

mod reliability_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use magento_connector::config::MultiCallMode;
use magento_connector::sandbox::harness::{ClientTuning, Harness, RunResult, SandboxesOptions};
use magento_connector::sandbox::knobs::{Inject, Rule};
use magento_connector::sandbox::openerp::Options as OpenErpOptions;
use magento_connector::server::jobs::JobKind;
use magento_connector::store::{BindingKind, Outcome, RunState};
use reliability_support::*;

/// The cycle of this file: the deployment's cycle, the re-import of broken orders (an
/// injected OpenERP fault is a refusal, which sends the order to the broken queue), then stock
/// again (imported orders change the forecast).
const FAULT_CYCLE: [JobKind; 6] = [
    JobKind::Categories,
    JobKind::Products,
    JobKind::Stock,
    JobKind::OrdersImport,
    JobKind::OrdersReimport,
    JobKind::Stock,
];

/// Jobs whose records an uninterrupted run lists completely: the re-import reports what the
/// import sent to the broken queue, the last stock run what the imported orders changed.
const AUDITED: usize = 4;

const FAULT_KINDS: [Inject; 4] = [Inject::Fault, Inject::Http500, Inject::Timeout, Inject::Drop];

fn tuning() -> ClientTuning {
    ClientTuning { timeout: Duration::from_millis(300), retries: 4, ..ClientTuning::default() }
}

async fn harness(options: SandboxesOptions) -> Harness {
    let h = Harness::with_options(options).await.unwrap();
    // Held requests outlast the client's timeout: the client sees a timeout.
    h.magento().knobs().set_hang(Duration::from_millis(800));
    h.openerp().knobs().set_hang(Duration::from_millis(100));
    h
}

async fn cycle(h: &Harness) -> Vec<RunResult> {
    let mut out = Vec::new();
    for kind in FAULT_CYCLE {
        out.push(run_job(h, kind).await);
    }
    out
}

async fn snapshot(h: &Harness) -> Snapshot {
    Snapshot::take(h.magento(), h.openerp(), h.store()).await
}

/// What each audited run of a clean cycle reports: `(kind, reference)` per job.
fn reported(results: &[RunResult]) -> Vec<BTreeSet<(String, String)>> {
    results.iter().map(|r| r.records.iter().map(|x| (x.kind.clone(), x.reference.clone())).collect()).collect()
}

/// Cross-checks one faulty cycle: runs fail only with a reason, failed records say why,
/// synced records are in the sandboxes, and every record of the golden cycle is reported.
async fn audit(h: &Harness, results: &[RunResult], golden: &[BTreeSet<(String, String)>]) -> Vec<String> {
    let mut problems = Vec::new();
    let sent: BTreeMap<String, rust_decimal::Decimal> =
        h.store().stock().list(BACKEND).await.unwrap().into_iter().map(|s| (s.sku.to_lowercase(), s.qty)).collect();
    for (i, r) in results.iter().enumerate() {
        let job = FAULT_CYCLE[i];
        match r.run.state {
            RunState::Done => {}
            RunState::Failed => {
                let e = r.run.error.clone().unwrap_or_default();
                if e.trim().is_empty() || e.contains("panic") {
                    problems.push(format!("{job} run failed without a usable reason: {e:?}"));
                }
            }
            other => problems.push(format!("{job} run ended {other:?}")),
        }
        for rec in &r.records {
            let label = format!("{job} {} {:?}", rec.kind, rec.reference);
            if rec.outcome == Outcome::Failed {
                if rec.message.trim().is_empty() {
                    problems.push(format!("{label}: failed without a reason"));
                }
                continue;
            }
            match rec.kind.as_str() {
                "category" => {
                    let name = rec.reference.rsplit_once(" (root").map_or("", |x| x.0);
                    let name = name.rsplit(" / ").next().unwrap_or_default();
                    let m =
                        rec.magento_id.as_deref().and_then(|m| m.parse().ok()).and_then(|id| h.magento().category(id));
                    match m {
                        Some(c) if c.name == name => {}
                        other => problems.push(format!("{label} is {:?} but Magento has {other:?}", rec.outcome)),
                    }
                }
                "product" if matches!(rec.outcome, Outcome::Created | Outcome::Updated) => {
                    let p = h.magento().product(&rec.reference);
                    let same_id =
                        rec.magento_id.as_deref().is_none_or(|m| p.as_ref().is_some_and(|p| p.id.to_string() == m));
                    if p.is_none() || !same_id {
                        problems.push(format!("{label} is {:?} but Magento has {:?}", rec.outcome, p.map(|p| p.id)));
                    }
                }
                "stock" if rec.outcome == Outcome::Updated => {
                    let qty = h.magento().stock(&rec.reference).map(|s| s.qty);
                    let logged = sent.get(&rec.reference.to_lowercase()).copied();
                    // A later run may have sent a newer level; the log holds the last one sent.
                    if qty.is_none() || qty != logged {
                        problems.push(format!("{label}: Magento has {qty:?}, the stock log says {logged:?} was sent"));
                    }
                }
                "order" if matches!(rec.outcome, Outcome::Created | Outcome::Updated) => {
                    let n = h.openerp().orders_by_client_ref(&rec.reference).len();
                    let bound = h
                        .store()
                        .bindings()
                        .list(BACKEND, BindingKind::Order)
                        .await
                        .unwrap()
                        .iter()
                        .any(|b| b.magento_id == rec.reference);
                    if n != 1 || !bound {
                        problems.push(format!("{label}: {n} OpenERP order(s), bound: {bound}"));
                    }
                }
                _ => {}
            }
        }
        if job == JobKind::OrdersReimport && r.run.state == RunState::Done {
            for b in h.store().broken().list(BACKEND, false).await.unwrap() {
                if r.record(&b.increment_id).is_none() {
                    problems.push(format!("broken order {} not looked at by the re-import", b.increment_id));
                }
            }
        }
        if i < AUDITED && r.run.state == RunState::Done {
            let got: BTreeSet<(String, String)> =
                r.records.iter().map(|x| (x.kind.clone(), x.reference.clone())).collect();
            let missing: Vec<_> = golden[i].difference(&got).collect();
            if !missing.is_empty() {
                problems.push(format!("{job}: not reported at all (silently lost): {missing:?}"));
            }
        }
    }
    problems
}

/// Sandboxes with more to do than the seed: 40 more products in 3 more categories, 20 more
/// orders (reproducible).
async fn busy_harness(tuning: ClientTuning) -> Harness {
    let options =
        SandboxesOptions { openerp: OpenErpOptions::with_generated(3, 40), tuning, ..SandboxesOptions::default() };
    let h = harness(options).await;
    assert_eq!(h.magento().generate_orders(20, 2).len(), 20);
    h
}

async fn faulty_then_clean(
    seed: u64,
    tuning: ClientTuning,
    golden: &Snapshot,
    golden_reported: &[BTreeSet<(String, String)>],
) {
    let h = busy_harness(tuning).await;
    h.magento().knobs().set_random_faults(0.10, &FAULT_KINDS, seed);
    h.openerp().knobs().set_random_faults(0.05, &FAULT_KINDS, seed.wrapping_mul(31));
    let results = cycle(&h).await;
    let (m, o) = (h.magento().knobs(), h.openerp().knobs());
    let injected = (m.injected(), m.requests(), o.injected(), o.requests());
    assert!(injected.0 >= 3 && injected.2 >= 1, "seed {seed}: too few faults injected to test anything: {injected:?}");
    let problems = audit(&h, &results, golden_reported).await;
    assert!(problems.is_empty(), "seed {seed} ({injected:?} faults injected):\n{}", problems.join("\n"));
    let failed: usize = results.iter().map(|r| r.with_outcome(Outcome::Failed).len()).sum();
    let failed_runs = results.iter().filter(|r| r.run.state == RunState::Failed).count();
    eprintln!(
        "seed {seed} ({:?}): Magento {}/{} and OpenERP {}/{} requests failed; {failed} failed records, {failed_runs} failed runs",
        tuning.multicall, injected.0, injected.1, injected.2, injected.3
    );

    h.magento().knobs().clear_random_faults();
    h.openerp().knobs().clear_random_faults();
    let clean = cycle(&h).await;
    for r in &clean {
        assert_eq!(r.run.state, RunState::Done, "seed {seed}: clean run failed: {:?}", r.run.error);
    }
    let snap = snapshot(&h).await;
    assert_eq!(snap.duplicates(h.openerp()), Vec::<String>::new(), "seed {seed}");
    assert_same_state(&format!("seed {seed}"), golden, &snap);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_faults_lose_nothing_and_a_clean_cycle_reaches_the_golden_state() {
    let g = busy_harness(tuning()).await;
    let results = cycle(&g).await;
    for r in &results {
        assert_eq!(r.run.state, RunState::Done, "golden: {:?}", r.run.error);
    }
    let golden_reported = reported(&results);
    assert_eq!(audit(&g, &results, &golden_reported).await, Vec::<String>::new(), "the audit passes a clean cycle");
    let golden = snapshot(&g).await;
    assert!(golden.duplicates(g.openerp()).is_empty());
    assert!(golden.orders.len() > 20 && golden.products.len() > 60, "{} orders", golden.orders.len());
    g.shutdown().await;
    let single = ClientTuning { multicall: MultiCallMode::Off, ..tuning() };
    let small_batches = ClientTuning { batch_size: 5, ..tuning() };
    for (seed, tuning) in [(7, tuning()), (1234, single), (987_654_321, small_batches), (42, single)] {
        faulty_then_clean(seed, tuning, &golden, &golden_reported).await;
    }
}

/// Answers lost after the write was done: every fifth Magento write is carried out, then its
/// request is held past the client's timeout. The client retries or looks the record up; the
/// cycle reports every record, and a clean cycle reaches the golden state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_lost_after_magento_writes_never_duplicate() {
    let g = busy_harness(tuning()).await;
    let results = cycle(&g).await;
    let golden_reported = reported(&results);
    let golden = snapshot(&g).await;
    g.shutdown().await;

    let h = busy_harness(tuning()).await;
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = std::sync::Arc::clone(&seen);
    h.magento().knobs().add_rule(Rule {
        matcher: Box::new(move |m, _| {
            is_write(Peer::Magento, m) && counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 5 == 2
        }),
        inject: Inject::HoldAfter,
        times: None,
    });
    let results = cycle(&h).await;
    let lost = h.magento().knobs().injected();
    assert!(lost >= 10, "only {lost} answers lost of {} writes", seen.load(std::sync::atomic::Ordering::SeqCst));
    let problems = audit(&h, &results, &golden_reported).await;
    assert!(problems.is_empty(), "{lost} answers lost:\n{}", problems.join("\n"));
    h.magento().knobs().clear_rules();
    for r in cycle(&h).await {
        assert_eq!(r.run.state, RunState::Done, "clean run failed: {:?}", r.run.error);
    }
    let snap = snapshot(&h).await;
    assert_eq!(snap.duplicates(h.openerp()), Vec::<String>::new());
    assert_same_state("after lost answers", &golden, &snap);
    h.shutdown().await;
}

/// The seeded products OpenERP cannot export (unmapped tax, no SKU): always reported failed.
const UNEXPORTABLE: [&str; 2] = ["HOME-ECO-BAG", "[id 24] Handmade Vase (no reference yet)"];

/// Deadlocks between concurrent writers, most of them phantom: the catalog export with four
/// requests at once never leaves two products with one SKU, and converges within a few runs.
async fn deadlocked_catalog(multicall: MultiCallMode, seed: u64) {
    let options = SandboxesOptions {
        openerp: OpenErpOptions::with_generated(4, 60),
        tuning: ClientTuning { concurrency: 4, batch_size: 5, multicall, ..ClientTuning::default() },
        ..SandboxesOptions::default()
    };
    let h = harness(options).await;
    h.magento().knobs().set_latency(Duration::from_millis(3));
    h.magento().set_deadlocks(0.5, 0.7, seed);
    let before = h.magento().product_count();
    let mut runs = 0;
    loop {
        runs += 1;
        let c = run_job(&h, JobKind::Categories).await;
        let p = run_job(&h, JobKind::Products).await;
        let dups: Vec<String> = snapshot(&h).await.products.keys().filter(|k| k.contains('#')).cloned().collect();
        assert!(dups.is_empty(), "{multicall:?} seed {seed}, run {runs}: duplicate products {dups:?}");
        if c.run.failed == 0
            && p.with_outcome(Outcome::Failed).iter().all(|r| UNEXPORTABLE.contains(&r.reference.as_str()))
        {
            break;
        }
        assert!(runs < 8, "{multicall:?}: still failing after {runs} runs: {:?}", p.with_outcome(Outcome::Failed));
        if runs == 5 {
            h.magento().set_deadlocks(0.0, 0.0, seed);
        }
    }
    let creates = h.magento().knobs().count("catalog_product.create");
    assert!(creates > 65, "{multicall:?}: no create was retried after a deadlock ({creates} creates): nothing tested");
    eprintln!("{multicall:?}: {runs} run(s), {creates} creates for 65 products");
    let s = snapshot(&h).await;
    for i in 0..60 {
        let sku = format!("bench-{i:06}");
        assert!(s.products.contains_key(&sku), "{multicall:?}: {sku} missing");
    }
    assert_eq!(h.magento().product_count(), before + 65, "{multicall:?}: 60 generated and 5 seeded products created");
    assert!(s.duplicates(h.openerp()).is_empty(), "{:?}", s.duplicates(h.openerp()));
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phantom_deadlocks_never_duplicate_products_with_multicall() {
    deadlocked_catalog(MultiCallMode::On, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phantom_deadlocks_never_duplicate_products_with_single_calls() {
    deadlocked_catalog(MultiCallMode::Off, 17).await;
}

/// Regression: the Magento sandbox ignored targeted rules on `login` and `multiCall` (it
/// counted the call and dropped the injection), so a test holding or failing a whole batch
/// silently tested nothing.
#[tokio::test]
async fn targeted_rules_on_login_and_multicall_are_applied() {
    let mut h = harness(SandboxesOptions { tuning: tuning(), ..SandboxesOptions::default() }).await;
    run_job(&h, JobKind::Categories).await;
    run_job(&h, JobKind::Products).await;
    h.reconnect(ClientTuning { retries: 1, multicall: MultiCallMode::On, ..tuning() }).unwrap();
    let m = h.magento().knobs();
    m.reset_counts();
    m.add_rule(Rule::method_with("login", "", Inject::Fault, Some(1)));
    let r = run_job(&h, JobKind::Stock).await;
    assert_eq!(m.injected(), 1);
    assert!(r.run.state == RunState::Failed || r.run.failed > 0, "the refused login is reported: {:?}", r.run);
    assert_eq!(m.count("cataloginventory_stock_item.update"), 0, "nothing sent without a session");
    m.add_rule(Rule::method_with("multiCall", "", Inject::HoldAfter, Some(1)));
    let r = run_job(&h, JobKind::Stock).await;
    assert_eq!(m.injected(), 2);
    assert!(r.with_outcome(Outcome::Failed).iter().any(|x| x.message.contains("timed out")), "{:?}", r.records);
    // The held batch was carried out before the hold: Magento has the levels.
    assert_eq!(
        h.magento().stock("HOME-001").map(|s| s.qty),
        Some(h.openerp().stock(h.openerp().product_id("HOME-001").unwrap(), None).forecast)
    );
    h.shutdown().await;
}
