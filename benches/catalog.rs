//! Catalog export benchmark (not a test; never run in CI), issue 10.
//!
//! * default (`cargo bench --bench catalog`): 10,000 generated products in 200 generated
//!   categories, exported from the OpenERP sandbox to the Magento sandbox with 2 ms latency per
//!   HTTP request on both sides: a full export (categories, then products), an incremental run
//!   after the name and price of 1 % of the products changed in OpenERP, and a run with nothing
//!   changed; then the same full export the straightforward way (multiCall off, one request at a
//!   time) as a baseline, and the ratio between the two.
//! * `cargo bench --bench catalog -- --scale`: 100,000 products, a full export and a run with
//!   nothing changed, to see whether the connector's memory grows with the catalog.
//!
//! The sandboxes run in a child process (this binary started with `--sandbox-child`, driven
//! through stdin/stdout), so the peak resident memory printed for the connector is the
//! connector's alone (clients, jobs, run manager and a file-backed state store, as in
//! production); the sandboxes' memory is printed apart. The generated catalog is dated a day
//! back, as a catalog that exists before the connector is installed would be.
//!
//! Figures per run: wall time (categories + products), HTTP requests and logical calls to each
//! side, Magento write calls, products written per second, peak RSS of the connector during
//! the run. Environment: `CATALOG_PRODUCTS`, `CATALOG_CATEGORIES`, `CATALOG_LATENCY_MS`,
//! `CATALOG_CHANGED` (products changed for the incremental run), `CATALOG_BASELINE=0` skips the
//! baseline; `SCALE_PRODUCTS` sets the size of `--scale`.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use magento_connector::config::{
    BackendConfig, Config, MagentoEndpoint, MagentoKind, MultiCallMode, OpenErpEndpoint, SANDBOX_BACKEND,
};
use magento_connector::sandbox::harness::{ClientTuning, Sandboxes, SandboxesOptions};
use magento_connector::sandbox::magento1::SandboxOptions;
use magento_connector::sandbox::openerp::Options as OpenErpOptions;
use magento_connector::secret::Secret;
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::server::runs::{RunManager, RunSettings};
use magento_connector::store::{BindingKind, RunRow, RunState, Store};
use magento_connector::sync::env::{PeerSet, SandboxEndpoints};
use magento_connector::sync::executor::SyncExecutor;
use magento_connector::telemetry::Redactor;
use serde_json::{Value as Json, json};
use support::{Table, fmt_rate, group_thousands, peak_rss_kib};

const CHILD_FLAG: &str = "--sandbox-child";

// ---------------------------------------------------------------------------------------------
// Memory of this process.

/// Current resident set size (`VmRSS`), KiB.
fn rss_kib() -> u64 {
    status_kib("VmRSS:").unwrap_or(0)
}

fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time (user + system) of this process so far, from `/proc/self/stat` (100 ticks/s).
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Resets the peak RSS to the current RSS (Linux: `5` to `/proc/self/clear_refs`).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

// ---------------------------------------------------------------------------------------------
// The child: both sandboxes, driven by one-line commands, answering one JSON line each.

fn child(categories: usize, products: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let empty = rss_kib();
    let started = Instant::now();
    let day_ago = (chrono::Utc::now() - chrono::Duration::days(1)).naive_utc();
    let options = SandboxesOptions {
        magento: SandboxOptions { seed_orders: false, ..SandboxOptions::default() },
        openerp: OpenErpOptions { clock: Some(day_ago), ..OpenErpOptions::with_generated(categories, products) },
        tuning: ClientTuning::default(),
    };
    let sandboxes = rt.block_on(Sandboxes::start(options)).expect("sandboxes");
    sandboxes.openerp.set_clock(None);
    let m = &sandboxes.magento;
    let o = &sandboxes.openerp;
    let hello = json!({
        "magento": m.url(),
        "openerp": o.url(),
        "db": o.db(),
        "login": o.login(),
        "password": o.password(),
        "api_user": m.credentials().username,
        "api_key": m.credentials().api_key.expose(),
        "rss_empty_kib": empty,
        "rss_started_kib": rss_kib(),
        "seed_s": started.elapsed().as_secs_f64(),
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{hello}").expect("stdout");
    out.flush().expect("stdout");
    let mut bench_ids: Option<Vec<i64>> = None;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace();
        let answer = match words.next() {
            Some("latency") => {
                let ms: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                m.knobs().set_latency(Duration::from_millis(ms));
                o.knobs().set_latency(Duration::from_millis(ms));
                json!({})
            }
            Some("reset") => {
                m.knobs().reset_counts();
                o.knobs().reset_counts();
                json!({})
            }
            Some("counts") => json!({
                "magento": { "requests": m.knobs().requests(), "calls": m.knobs().counts() },
                "openerp": { "requests": o.knobs().requests(), "calls": o.knobs().counts() },
            }),
            Some("change") => {
                let n: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                let ids = bench_ids.get_or_insert_with(|| {
                    let mut ids = o
                        .search("product.product", &[("default_code", "=like", dxr::Value::String("BENCH-%".into()))])
                        .expect("bench products");
                    ids.sort_unstable();
                    ids
                });
                let step = (ids.len() / n.max(1)).max(1);
                let mut changed = 0;
                for (k, id) in ids.iter().step_by(step).take(n).enumerate() {
                    let vals = [
                        ("name".to_owned(), dxr::Value::String(format!("Benchmark Product {id} (rev {k})"))),
                        ("list_price".to_owned(), dxr::Value::Double(12.5)),
                    ]
                    .into_iter()
                    .collect();
                    o.write("product.product", &[*id], vals).expect("change a product");
                    changed += 1;
                }
                json!({ "changed": changed })
            }
            Some("rss") => json!({ "rss_kib": rss_kib(), "hwm_kib": peak_rss_kib().unwrap_or(0) }),
            Some("cpu") => json!({ "cpu_s": cpu_secs() }),
            Some("products") => {
                json!({ "magento_products": m.product_count(), "magento_categories": m.category_count() })
            }
            Some("quit") | None => break,
            Some(other) => json!({ "error": format!("unknown command {other}") }),
        };
        writeln!(out, "{answer}").expect("stdout");
        out.flush().expect("stdout");
    }
    rt.block_on(sandboxes.shutdown());
}

/// The sandboxes' process, seen from the bench.
struct Remote {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    hello: Json,
}

impl Remote {
    fn start(categories: usize, products: usize) -> Remote {
        let exe = std::env::current_exe().expect("own path");
        let mut child = Command::new(exe)
            .args([CHILD_FLAG, &categories.to_string(), &products.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the sandboxes' process");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("sandboxes' hello");
        let hello: Json = serde_json::from_str(&line).expect("sandboxes' hello is JSON");
        Remote { child, stdin, stdout, hello }
    }

    fn ask(&mut self, command: &str) -> Json {
        writeln!(self.stdin, "{command}").expect("to the sandboxes");
        self.stdin.flush().expect("to the sandboxes");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("from the sandboxes");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("sandboxes answered {line:?}: {e}"))
    }

    fn text(&self, key: &str) -> String {
        self.hello[key].as_str().unwrap_or_default().to_owned()
    }

    fn endpoints(&self, tuning: ClientTuning) -> SandboxEndpoints {
        SandboxEndpoints {
            magento: MagentoEndpoint {
                kind: MagentoKind::Magento1,
                url: self.text("magento"),
                api_user: self.text("api_user"),
                api_key: Secret::new(self.text("api_key")),
                concurrency: tuning.concurrency,
                batch_size: tuning.batch_size,
                multicall: tuning.multicall,
                connect_timeout: Duration::from_secs(5),
                timeout: tuning.timeout,
                retries: tuning.retries,
            },
            openerp: OpenErpEndpoint {
                url: self.text("openerp"),
                db: self.text("db"),
                user: self.text("login"),
                password: Secret::new(self.text("password")),
                connect_timeout: Duration::from_secs(5),
                timeout: Duration::from_secs(60),
                retries: 3,
                page_size: 500,
            },
        }
    }

    fn counts(&mut self) -> Counts {
        let c = self.ask("counts");
        let side = |s: &str| {
            let calls: BTreeMap<String, u64> = serde_json::from_value(c[s]["calls"].clone()).unwrap_or_default();
            (c[s]["requests"].as_u64().unwrap_or(0), calls)
        };
        let (mage_requests, mage) = side("magento");
        let (erp_requests, erp) = side("openerp");
        Counts { mage_requests, mage, erp_requests, erp }
    }

    fn rss(&mut self) -> (u64, u64) {
        let r = self.ask("rss");
        (r["rss_kib"].as_u64().unwrap_or(0), r["hwm_kib"].as_u64().unwrap_or(0))
    }

    fn quit(mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

#[derive(Debug, Default)]
struct Counts {
    mage_requests: u64,
    mage: BTreeMap<String, u64>,
    erp_requests: u64,
    erp: BTreeMap<String, u64>,
}

impl Counts {
    /// Logical Magento calls (the multiCall envelopes and session calls left out).
    fn mage_calls(&self) -> u64 {
        self.mage
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "multiCall" | "login" | "endSession"))
            .map(|(_, v)| v)
            .sum()
    }

    fn mage_writes(&self) -> u64 {
        self.mage.iter().filter(|(k, _)| is_write(k)).map(|(_, v)| v).sum()
    }

    fn erp_calls(&self) -> u64 {
        self.erp.values().sum()
    }

    fn top(map: &BTreeMap<String, u64>, n: usize) -> String {
        let mut v: Vec<(&String, &u64)> = map.iter().collect();
        v.sort_by_key(|e| std::cmp::Reverse(*e.1));
        v.iter().take(n).map(|(k, c)| format!("{k} {c}")).collect::<Vec<_>>().join(", ")
    }
}

fn is_write(method: &str) -> bool {
    let verb = method.rsplit('.').next().unwrap_or(method);
    ["create", "update", "move", "remove", "delete", "assignProduct", "removeProduct", "updateProduct"].contains(&verb)
}

// ---------------------------------------------------------------------------------------------
// The connector side.

/// Clients, a file-backed store and a run manager against the child's sandboxes.
struct Connector {
    store: Store,
    manager: RunManager,
    peers: PeerSet,
    _dir: tempfile::TempDir,
}

impl Connector {
    fn new(remote: &Remote, tuning: ClientTuning) -> Connector {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("state.sqlite3")).expect("state store");
        let mut config = Config::from_raw(Default::default(), None, &|_| None).expect("config");
        config.backends.clear();
        config.backends.insert(SANDBOX_BACKEND.to_owned(), BackendConfig::Sandbox);
        let endpoints = std::iter::once((SANDBOX_BACKEND.to_owned(), remote.endpoints(tuning))).collect();
        let peers = PeerSet::from_config(&config, &endpoints).expect("clients");
        let manager = RunManager::new(
            store.clone(),
            Arc::new(SyncExecutor::new(peers.clone())),
            Redactor::default(),
            RunSettings::default(),
        );
        Connector { store, manager, peers, _dir: dir }
    }

    async fn run(&self, kind: JobKind) -> RunRow {
        let started = self.manager.start(SANDBOX_BACKEND, kind, JobOptions::default()).await.expect("start a run");
        let row = self.manager.wait(started.id, Duration::from_millis(20)).await.expect("wait").expect("run row");
        assert_eq!(row.state, RunState::Done, "{kind:?}: {:?}", row.error);
        row
    }

    /// Bindings of a kind (product bindings by id only: loading 100,000 of them whole would
    /// distort the connector's memory figures).
    async fn bindings(&self, kind: BindingKind) -> usize {
        let b = self.store.bindings();
        match kind {
            BindingKind::Product => b.openerp_ids(SANDBOX_BACKEND, kind, 0).await.expect("bindings").len(),
            _ => b.list(SANDBOX_BACKEND, kind).await.expect("bindings").len(),
        }
    }

    fn store_bytes(&self) -> u64 {
        let Some(path) = self.store.path() else { return 0 };
        ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
            .map(|m| m.len())
            .sum()
    }

    async fn close(self) {
        self.peers.close().await;
    }
}

/// Figures of one export (categories, then products).
#[derive(Debug, Default)]
struct Figures {
    label: String,
    categories: Duration,
    products: Duration,
    written: u64,
    failed: u64,
    counts: Counts,
    connector_cpu: f64,
    sandbox_cpu: f64,
    start_kib: u64,
    peak_kib: Option<u64>,
}

impl Figures {
    fn wall(&self) -> Duration {
        self.categories + self.products
    }
}

async fn export(connector: &Connector, remote: &mut Remote, label: &str) -> Figures {
    remote.ask("reset");
    let sandbox_cpu = remote.ask("cpu")["cpu_s"].as_f64().unwrap_or(0.0);
    let connector_cpu = cpu_secs();
    let start_kib = rss_kib();
    let measured_peak = reset_peak();
    let t = Instant::now();
    let cats = connector.run(JobKind::Categories).await;
    let categories = t.elapsed();
    let t = Instant::now();
    let prods = connector.run(JobKind::Products).await;
    let products = t.elapsed();
    let peak_kib = if measured_peak { peak_rss_kib() } else { None };
    let counts = remote.counts();
    let connector_cpu = cpu_secs() - connector_cpu;
    let sandbox_cpu = remote.ask("cpu")["cpu_s"].as_f64().unwrap_or(0.0) - sandbox_cpu;
    let f = Figures {
        label: label.to_owned(),
        categories,
        products,
        written: prods.created + prods.updated,
        failed: cats.failed + prods.failed,
        counts,
        connector_cpu,
        sandbox_cpu,
        start_kib,
        peak_kib,
    };
    println!(
        "  {label}: categories {:.2} s ({} created, {} updated, {} unchanged), products {:.2} s ({} created, {} \
         updated, {} unchanged, {} failed)",
        categories.as_secs_f64(),
        cats.created,
        cats.updated,
        cats.skipped,
        products.as_secs_f64(),
        prods.created,
        prods.updated,
        prods.skipped,
        prods.failed,
    );
    println!("    Magento calls: {}", Counts::top(&f.counts.mage, 8));
    println!("    OpenERP calls: {}", Counts::top(&f.counts.erp, 8));
    f
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn table(rows: &[&Figures]) -> Table {
    let mut t = Table::new(&[
        "run",
        "wall",
        "categories",
        "products",
        "written",
        "written/s",
        "Magento req",
        "Magento calls",
        "writes",
        "OpenERP req",
        "OpenERP calls",
        "failed",
        "CPU connector/sandboxes",
        "connector RSS: start → peak",
    ]);
    for f in rows {
        t.row(vec![
            f.label.clone(),
            secs(f.wall()),
            secs(f.categories),
            secs(f.products),
            group_thousands(f.written),
            fmt_rate(f.written as usize, f.wall()),
            group_thousands(f.counts.mage_requests),
            group_thousands(f.counts.mage_calls()),
            group_thousands(f.counts.mage_writes()),
            group_thousands(f.counts.erp_requests),
            group_thousands(f.counts.erp_calls()),
            f.failed.to_string(),
            format!("{:.1} s / {:.1} s", f.connector_cpu, f.sandbox_cpu),
            format!("{} → {}", mib(f.start_kib), f.peak_kib.map(mib).unwrap_or_else(|| "n/a".into())),
        ]);
    }
    t
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

fn start(categories: usize, products: usize, latency: u64) -> Remote {
    let mut remote = Remote::start(categories, products);
    remote.ask(&format!("latency {latency}"));
    println!(
        "sandboxes: {products} products in {categories} categories, seeded in {:.1} s; sandbox process RSS {} \
         empty, {} seeded; latency {latency} ms per request on both sides",
        remote.hello["seed_s"].as_f64().unwrap_or(0.0),
        mib(remote.hello["rss_empty_kib"].as_u64().unwrap_or(0)),
        mib(remote.hello["rss_started_kib"].as_u64().unwrap_or(0)),
    );
    remote
}

async fn catalog() {
    let products = support::env_count("CATALOG_PRODUCTS", 10_000);
    let categories = support::env_count("CATALOG_CATEGORIES", 200);
    let latency = std::env::var("CATALOG_LATENCY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2u64);
    let changed = support::env_count("CATALOG_CHANGED", products.div_ceil(100));
    let baseline = std::env::var("CATALOG_BASELINE").map(|v| v != "0").unwrap_or(true);
    println!("catalog export, load average before: {}", loadavg());

    let mut remote = start(categories, products, latency);
    let connector = Connector::new(&remote, ClientTuning::default());
    println!("connector RSS at start: {}", mib(rss_kib()));
    let full = export(&connector, &mut remote, "full export").await;
    let c = remote.ask(&format!("change {changed}"));
    let inc = export(&connector, &mut remote, &format!("{} changed", c["changed"])).await;
    let none = export(&connector, &mut remote, "nothing changed").await;
    let (sandbox_rss, sandbox_hwm) = remote.rss();
    let shop = remote.ask("products");
    println!(
        "Magento sandbox: {} products, {} categories; sandbox process RSS {} (peak {}); bindings: {} products, {} \
         categories, state file {:.1} MB",
        shop["magento_products"],
        shop["magento_categories"],
        mib(sandbox_rss),
        mib(sandbox_hwm),
        connector.bindings(BindingKind::Product).await,
        connector.bindings(BindingKind::Category).await,
        connector.store_bytes() as f64 / 1e6,
    );
    connector.close().await;
    remote.quit();

    let mut rows = vec![&full, &inc, &none];
    let base;
    if baseline {
        let mut remote = start(categories, products, latency);
        let tuning = ClientTuning { multicall: MultiCallMode::Off, concurrency: 1, ..ClientTuning::default() };
        let connector = Connector::new(&remote, tuning);
        base = export(&connector, &mut remote, "baseline: full, 1 call/request, sequential").await;
        connector.close().await;
        remote.quit();
        rows.push(&base);
        println!();
        table(&rows).print();
        let ratio = |a: f64, b: f64| if b > 0.0 { format!("{:.1}×", a / b) } else { "-".into() };
        println!(
            "baseline / batched full export: wall {}, Magento requests {}, OpenERP requests {}",
            ratio(base.wall().as_secs_f64(), full.wall().as_secs_f64()),
            ratio(base.counts.mage_requests as f64, full.counts.mage_requests as f64),
            ratio(base.counts.erp_requests as f64, full.counts.erp_requests as f64),
        );
    } else {
        println!();
        table(&rows).print();
    }
    println!("load average after: {}", loadavg());
}

async fn scale() {
    let products = support::env_count("SCALE_PRODUCTS", 100_000);
    let categories = support::env_count("CATALOG_CATEGORIES", 200);
    let latency = std::env::var("CATALOG_LATENCY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2u64);
    println!("catalog at scale, load average before: {}", loadavg());
    let mut remote = start(categories, products, latency);
    let connector = Connector::new(&remote, ClientTuning::default());
    println!("connector RSS at start: {}", mib(rss_kib()));
    let full = export(&connector, &mut remote, "full export").await;
    let none = export(&connector, &mut remote, "nothing changed").await;
    let (sandbox_rss, sandbox_hwm) = remote.rss();
    let shop = remote.ask("products");
    let product_bindings = connector.bindings(BindingKind::Product).await;
    println!(
        "Magento sandbox: {} products, {} categories; sandbox process RSS {} (peak {}); bindings: {product_bindings} \
         products, {} categories; state file {:.1} MB",
        shop["magento_products"],
        shop["magento_categories"],
        mib(sandbox_rss),
        mib(sandbox_hwm),
        connector.bindings(BindingKind::Category).await,
        connector.store_bytes() as f64 / 1e6,
    );
    connector.close().await;
    remote.quit();
    println!();
    table(&[&full, &none]).print();
    println!("connector RSS at the end: {}; load average after: {}", mib(rss_kib()), loadavg());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == CHILD_FLAG) {
        let n = |k: usize| args.get(i + k).and_then(|v| v.parse().ok()).unwrap_or(0);
        child(n(1), n(2));
        return;
    }
    if !support::benchmarking() {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    if args.iter().any(|a| a == "--scale") {
        rt.block_on(scale());
    } else {
        rt.block_on(catalog());
    }
}
