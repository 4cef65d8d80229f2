//! Server throughput benchmark: calls per second and latency percentiles of the real connector
//! server (`magento_connector::server::App` on 127.0.0.1:0, token checked, SQLite store in a
//! temporary file) under 8 concurrent `rpc::Transport` clients.
//!
//! Two workloads: `connector.version` (dispatch + auth + render, no I/O) and `runs.get` on a
//! few runs created first (adds a SQLite read of the run and its last messages). Clients and
//! server share one 2-worker tokio runtime, as on the 2-core reference machine.
//!
//! Run: `cargo bench --bench server`; `BENCH_CALLS` (default 20000) and `BENCH_CLIENTS`
//! (default 8) change the load.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dxr::Value;
use magento_connector::config::{Config, RawBackend, RawConfig};
use magento_connector::rpc::{HttpOptions, Transport, value};
use magento_connector::secret::Secret;
use magento_connector::server::{App, AppState, RunSettings, Services};
use magento_connector::store::Store;
use magento_connector::telemetry::Redactor;
use support::{Samples, Table, env_count, fmt_duration, fmt_rate, peak_rss_kib};

const TOKEN: &str = "bench-token-0123456789abcdef";

struct Server {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(dir: &std::path::Path) -> Server {
    let mut raw = RawConfig::default();
    raw.server.bind = Some("127.0.0.1:0".into());
    raw.server.token = Some(Secret::new(TOKEN));
    raw.backends.insert("sandbox".into(), RawBackend { sandbox: true, openerp: None, magento: None });
    let config = Arc::new(Config::from_raw(raw, None, &|_| None).expect("valid bench config"));
    let store = Store::open(&dir.join("connector.sqlite3")).expect("state store");
    let redactor = Redactor::new(&config.secrets());
    let state = AppState::new(config, store, Services::unwired(), redactor, RunSettings::default());
    state.runs.recover().await.expect("recover runs");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(App::new(state).serve(listener, async move {
        let _ = rx.await;
    }));
    Server { url: format!("http://{addr}/RPC2"), stop, task }
}

fn client(url: &str) -> Transport {
    let headers = vec![("Authorization".to_owned(), Secret::new(format!("Bearer {TOKEN}")))];
    Transport::new(url, &HttpOptions { headers, ..HttpOptions::default() }).expect("client")
}

/// Runs `calls` calls spread over `clients` clients; returns per-call latencies and wall time.
async fn load(
    url: &str,
    clients: usize,
    calls: usize,
    make: Arc<dyn Fn(usize) -> (String, Vec<Value>) + Send + Sync>,
) -> (Samples, Duration, usize) {
    let per_client = calls / clients;
    let mut tasks = Vec::new();
    let started = Instant::now();
    for c in 0..clients {
        let t = client(url);
        let make = Arc::clone(&make);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            let mut faults = 0usize;
            for i in 0..per_client {
                let (method, params) = make(c * per_client + i);
                let t0 = Instant::now();
                let r = t.call(&method, params).await;
                latencies.push(t0.elapsed());
                if r.is_err() {
                    faults += 1;
                }
            }
            (latencies, faults)
        }));
    }
    let mut all = Vec::with_capacity(calls);
    let mut faults = 0;
    for task in tasks {
        let (l, f) = task.await.expect("client task");
        all.extend(l);
        faults += f;
    }
    (Samples::new(all), started.elapsed(), faults)
}

fn main() {
    if !support::benchmarking() {
        return;
    }
    let calls = env_count("BENCH_CALLS", 20_000);
    let clients = env_count("BENCH_CLIENTS", 8);
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let server = start(dir.path()).await;
        let c = client(&server.url);
        let mut run_ids = Vec::new();
        for method in ["catalog.export_categories", "catalog.export_products", "stock.export", "orders.import"] {
            let id = c.call(method, vec![value::string("sandbox"), value::structure::<&str>([])]).await.expect("run starts");
            run_ids.push(id);
        }
        // The unwired executor fails each run at once; wait until all are final.
        for id in &run_ids {
            for _ in 0..200 {
                let run = c.call("runs.get", vec![id.clone()]).await.expect("runs.get");
                let Value::Struct(m) = &run else { panic!("runs.get answers a struct") };
                if !matches!(m.get("state"), Some(Value::String(s)) if s == "queued" || s == "running") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        // Warm-up: open every client's connection and the store's caches.
        let _ = load(&server.url, clients, clients * 50, Arc::new(|_| ("connector.version".to_owned(), vec![]))).await;

        let mut table = Table::new(&["method", "calls", "clients", "calls/s", "p50", "p99", "max", "faults"]);
        let version: Arc<dyn Fn(usize) -> (String, Vec<Value>) + Send + Sync> =
            Arc::new(|_| ("connector.version".to_owned(), vec![]));
        let ids = Arc::new(run_ids);
        let get: Arc<dyn Fn(usize) -> (String, Vec<Value>) + Send + Sync> =
            Arc::new(move |i| ("runs.get".to_owned(), vec![ids[i % ids.len()].clone()]));
        for (name, make) in [("connector.version", version), ("runs.get", get)] {
            let (lat, wall, faults) = load(&server.url, clients, calls, make).await;
            table.row(vec![
                name.into(),
                lat.len().to_string(),
                clients.to_string(),
                fmt_rate(lat.len(), wall).trim_end_matches("/s").to_owned(),
                fmt_duration(lat.median()),
                fmt_duration(lat.percentile(99.0)),
                fmt_duration(lat.percentile(100.0)),
                faults.to_string(),
            ]);
        }
        println!("connector server on 127.0.0.1 (release build, token checked, SQLite store, 2-worker runtime shared with the clients)");
        table.print();
        if let Some(kib) = peak_rss_kib() {
            println!("peak RSS {} MiB (server and clients)", kib / 1024);
        }
        let _ = server.stop.send(());
        let _ = server.task.await;
    });
}
