//! Test support shared by the `server_*` integration tests: a real server on 127.0.0.1:0 with
//! injectable services, a Rust client with the token, raw HTTP posts, and fakes of the two
//! seams (`JobExecutor`, `Backends`).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dxr::Value;
use magento_connector::config::{Config, RawBackend, RawConfig, RawMagento, RawOpenErp};
use magento_connector::rpc::transport::{DecodeFailure, decode_response};
use magento_connector::rpc::{CallError, Fault, HttpOptions, Transport, value};
use magento_connector::secret::Secret;
use magento_connector::server::backends::{
    Backends, CheckReport, EndCheck, PeerError, StoreGroup, StoreStructure, StoreView, TaxClass, TaxMapping, TaxSync,
    Website,
};
use magento_connector::server::jobs::{BoxFuture, JobError, JobExecutor, JobKind, Summary};
use magento_connector::server::{App, AppState, RunContext, RunSettings, Services};
use magento_connector::store::{NewRecord, Outcome, Store};
use magento_connector::telemetry::Redactor;
use tokio::sync::Semaphore;

pub const TOKEN: &str = "test-token-0123456789abcdef";
pub const ERP_PASSWORD: &str = "erp-Pa55word-xyz";
pub const MAGENTO_KEY: &str = "mage-ApiKey-777";

/// A running server and what the tests need to reach it.
pub struct TestServer {
    pub url: String,
    pub base: String,
    pub state: Arc<AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// A client sending the right token.
    pub fn client(&self) -> Transport {
        client(&self.url, Some(&format!("Bearer {TOKEN}")))
    }

    /// Stops the server and waits for it (runs get their shutdown).
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
    }
}

/// A client with an optional Authorization header value.
pub fn client(url: &str, authorization: Option<&str>) -> Transport {
    let headers = authorization.map(|a| vec![("Authorization".to_owned(), Secret::new(a))]).unwrap_or_default();
    Transport::new(url, &HttpOptions { headers, request_timeout: Duration::from_secs(30), ..HttpOptions::default() })
        .unwrap()
}

/// The default test configuration: the sandbox backend plus a remote backend `shop` whose
/// secrets are known to the tests (nothing listens at its URLs).
pub fn raw_config() -> RawConfig {
    let mut raw = RawConfig::default();
    raw.server.bind = Some("127.0.0.1:0".into());
    raw.server.token = Some(Secret::new(TOKEN));
    raw.server.max_body_bytes = Some(64 * 1024);
    raw.server.max_depth = Some(32);
    raw.server.request_timeout_secs = Some(20);
    raw.backends.insert("sandbox".into(), RawBackend { sandbox: true, openerp: None, magento: None });
    raw.backends.insert(
        "shop".into(),
        RawBackend {
            sandbox: false,
            openerp: Some(RawOpenErp {
                url: "http://127.0.0.1:9".into(),
                db: "prod".into(),
                user: "connector".into(),
                password: Some(Secret::new(ERP_PASSWORD)),
                connect_timeout_secs: None,
                timeout_secs: None,
                retries: None,
                page_size: None,
            }),
            magento: Some(RawMagento {
                kind: "magento1".into(),
                url: "http://127.0.0.1:9".into(),
                api_user: "connector".into(),
                api_key: Some(Secret::new(MAGENTO_KEY)),
                concurrency: None,
                batch_size: None,
                multicall: None,
                connect_timeout_secs: None,
                timeout_secs: None,
                retries: None,
            }),
        },
    );
    raw
}

/// Starts a server on 127.0.0.1:0.
pub async fn spawn(services: Services, store: Store, settings: RunSettings) -> TestServer {
    let config = Arc::new(Config::from_raw(raw_config(), Some("test.toml".into()), &|_| None).unwrap());
    let redactor = Redactor::new(&config.secrets());
    let state = AppState::new(Arc::clone(&config), store, services, redactor, settings);
    state.runs.recover().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = App::new(Arc::clone(&state));
    let handle = tokio::spawn(app.serve(listener, async move {
        let _ = rx.await;
    }));
    TestServer {
        url: format!("http://{addr}/RPC2"),
        base: format!("http://{addr}"),
        state,
        stop: Some(tx),
        handle: Some(handle),
    }
}

/// Fast settings for tests.
pub fn settings(max_parallel: usize) -> RunSettings {
    RunSettings { max_parallel, heartbeat_every: Duration::from_millis(50), stale_after: Duration::from_secs(60) }
}

/// Posts a raw body and returns the decoded answer (value or fault).
pub async fn post_raw(url: &str, body: Vec<u8>, authorized: bool) -> Result<Value, Fault> {
    let mut req = reqwest::Client::new().post(url).header("Content-Type", "text/xml").body(body);
    if authorized {
        req = req.header("Authorization", format!("Bearer {TOKEN}"));
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{text}");
    match decode_response(&text) {
        Ok(v) => Ok(v),
        Err(DecodeFailure::Fault(f)) => Err(f),
        Err(DecodeFailure::Invalid) => panic!("not an XML-RPC response: {text}"),
    }
}

/// The fault of a call that must fail.
pub fn fault(r: Result<Value, CallError>) -> Fault {
    match r {
        Err(CallError::Fault(f)) => f,
        other => panic!("expected a fault, got {other:?}"),
    }
}

/// A struct member.
pub fn member<'a>(v: &'a Value, key: &str) -> &'a Value {
    match v {
        Value::Struct(m) => m.get(key).unwrap_or_else(|| panic!("no member {key} in {v:?}")),
        _ => panic!("not a struct: {v:?}"),
    }
}

pub fn int_of(v: &Value) -> i64 {
    value::to_i64("x", v).unwrap()
}

pub fn str_of(v: &Value) -> String {
    value::to_string("x", v).unwrap()
}

pub fn no_options() -> Value {
    value::structure::<&str>([])
}

/// Polls `runs.get` until the run is final; returns the run struct.
pub async fn wait_run(c: &Transport, id: i64) -> Value {
    for _ in 0..600 {
        let v = c.call("runs.get", vec![value::id(id)]).await.unwrap();
        let state = str_of(member(&v, "state"));
        if !matches!(state.as_str(), "queued" | "running") {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("run {id} did not finish");
}

/// Fake executor. Per kind:
/// * categories: 3 records (created, updated, failed), total 3, summary line.
/// * products: one `planned` record per loop turn until cancelled or released by `gate`.
/// * stock: panics.
/// * orders_import: fails with a message quoting the backend's secrets.
/// * others: done at once.
pub struct FakeExecutor {
    pub gate: Arc<Semaphore>,
    pub executions: AtomicUsize,
}

impl FakeExecutor {
    pub fn new() -> Arc<Self> {
        Arc::new(FakeExecutor { gate: Arc::new(Semaphore::new(0)), executions: AtomicUsize::new(0) })
    }
}

impl JobExecutor for FakeExecutor {
    fn execute(self: Arc<Self>, ctx: RunContext) -> BoxFuture<Result<Summary, JobError>> {
        Box::pin(async move {
            self.executions.fetch_add(1, Ordering::SeqCst);
            match ctx.kind() {
                JobKind::Categories => {
                    ctx.set_total(3).await?;
                    ctx.record(
                        NewRecord::new("category", "Root/Shoes", Outcome::Created).magento_id("12").openerp_id(4),
                    )
                    .await?;
                    ctx.advance(1).await?;
                    ctx.record(
                        NewRecord::new("category", "Root/Hats", Outcome::Updated).magento_id("13").openerp_id(5),
                    )
                    .await?;
                    ctx.advance(1).await?;
                    ctx.record(
                        NewRecord::new("category", "Root/Bad", Outcome::Failed).message("name is empty").openerp_id(6),
                    )
                    .await?;
                    ctx.advance(1).await?;
                    ctx.warn("one category failed").await;
                    Ok(Summary::new("3 categories processed"))
                }
                JobKind::Products => {
                    ctx.set_total(1000).await?;
                    let mut n = 0u64;
                    loop {
                        if ctx.is_cancelled() {
                            return Err(JobError::Cancelled);
                        }
                        if let Ok(p) = self.gate.try_acquire() {
                            p.forget();
                            return Ok(Summary::new(format!("{n} products planned")));
                        }
                        n += 1;
                        ctx.record(NewRecord::new("product", format!("SKU-{n}"), Outcome::Planned)).await?;
                        ctx.advance(1).await?;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                JobKind::Stock => panic!("stock job bug"),
                JobKind::OrdersImport => {
                    tracing::warn!("login with password {ERP_PASSWORD} refused");
                    ctx.info(format!("tried key {MAGENTO_KEY}")).await;
                    Err(JobError::failed(format!(
                        "OpenERP refused password {ERP_PASSWORD} and Magento key {MAGENTO_KEY}"
                    )))
                }
                _ => Ok(Summary::default()),
            }
        })
    }
}

/// Fake peers: fixed answers; `shop` fails `magento.stores` with a message quoting a secret.
pub struct FakeBackends;

impl Backends for FakeBackends {
    fn check(self: Arc<Self>, backend: String) -> BoxFuture<CheckReport> {
        Box::pin(async move {
            let ok = backend == "sandbox";
            CheckReport {
                openerp: EndCheck {
                    ok: true,
                    url: "http://127.0.0.1:8069".into(),
                    message: "logged in".into(),
                    server_version: Some("17.0".into()),
                    uid: Some(2),
                    ..EndCheck::default()
                },
                magento: EndCheck {
                    ok,
                    url: "http://127.0.0.1:8080/api/xmlrpc/".into(),
                    message: if ok { "ok".into() } else { format!("login refused for key {MAGENTO_KEY}") },
                    magento_version: Some("1.9.4.5".into()),
                    multicall: Some("yes".into()),
                    ..EndCheck::default()
                },
                settings_ok: true,
                settings_message: "magento.backend sandbox found".into(),
            }
        })
    }

    fn stores(self: Arc<Self>, backend: String) -> BoxFuture<Result<StoreStructure, PeerError>> {
        Box::pin(async move {
            if backend != "sandbox" {
                return Err(PeerError::Failed {
                    peer: magento_connector::server::backends::Peer::Magento,
                    message: format!("access denied for key {MAGENTO_KEY}"),
                });
            }
            Ok(StoreStructure {
                websites: vec![Website { id: 1, name: "Main Website".into() }],
                groups: vec![StoreGroup { id: 1, website_id: 1, name: "Main Store".into(), root_category_id: 2 }],
                store_views: vec![
                    StoreView {
                        id: 1,
                        code: "default".into(),
                        name: "English".into(),
                        website_id: 1,
                        group_id: 1,
                        is_active: true,
                        root_category_id: 2,
                    },
                    StoreView {
                        id: 2,
                        code: "fr".into(),
                        name: "Français".into(),
                        website_id: 1,
                        group_id: 1,
                        is_active: false,
                        root_category_id: 2,
                    },
                ],
            })
        })
    }

    fn taxes(self: Arc<Self>, ctx: RunContext) -> BoxFuture<Result<TaxSync, JobError>> {
        Box::pin(async move {
            ctx.record(NewRecord::new("tax", "VAT 20%", Outcome::Skipped).openerp_id(1)).await?;
            Ok(TaxSync {
                classes: vec![TaxClass { id: 2, name: "Taxable Goods".into() }],
                mapping: vec![TaxMapping {
                    tax_id: 1,
                    tax_name: "VAT 20%".into(),
                    amount: "20.0".parse().unwrap(),
                    price_include: false,
                    mapped: false,
                    class_id: None,
                    proposed_class_id: Some(2),
                    reason: "same rate".into(),
                }],
            })
        })
    }
}

/// Services with both fakes.
pub fn fake_services(exec: &Arc<FakeExecutor>) -> Services {
    Services { executor: Arc::clone(exec) as Arc<dyn JobExecutor>, backends: Arc::new(FakeBackends) }
}

/// `{k: v}` struct from pairs.
pub fn st(pairs: Vec<(&str, Value)>) -> Value {
    Value::Struct(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<BTreeMap<_, _>>())
}
