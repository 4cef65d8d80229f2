//! Security properties of the connector server, end to end:
//!
//! * the token: missing, wrong, mangled or sent somewhere else than the `Authorization` header
//!   is fault 401 for every registered method, for `system.*` and through `system.multicall`,
//!   and nothing runs;
//! * secrets (the token, backend passwords and API keys, including ones with quotes, `<`, `&`
//!   and apostrophes) never appear in the JSON log of a whole server session, in any answer
//!   (faults included, even when the caller sends a secret as a method name or parameter),
//!   nor in run messages, run errors and run records (`runs.get`, `runs.list`, `runs.report`),
//!   including a job that fails or panics with a secret in its message;
//! * the binary refuses to bind a non-loopback address without `allow_non_loopback` (exit code
//!   2, one line naming the key).
//!
//! The log subscriber is global to this test binary: only one test installs it.

mod server_support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use dxr::Value;
use magento_connector::config::{Config, RawConfig};
use magento_connector::rpc::transport::{DecodeFailure, decode_response, encode_call};
use magento_connector::rpc::{CallError, value};
use magento_connector::secret::Secret;
use magento_connector::server::jobs::{BoxFuture, JobError, JobExecutor, JobKind, Summary};
use magento_connector::server::{App, AppState, RunContext, Services};
use magento_connector::store::{NewRecord, Outcome, Store};
use magento_connector::telemetry::{self, LogOptions, Redactor};
use server_support::{FakeBackends, client, int_of, member, raw_config, settings, str_of, wait_run};

/// Secrets with characters that change form when escaped (JSON, XML, Rust `Debug`).
const TOKEN: &str = "tok\"en'<&>-0123456789abcdef";
const ERP_PASSWORD: &str = "erp\"Pa55'<word>&x";
const MAGENTO_KEY: &str = "mage-'Api\"Key&<7>";
const SECRETS: [&str; 3] = [TOKEN, ERP_PASSWORD, MAGENTO_KEY];

/// A running server with this file's secrets.
struct Server {
    url: String,
    base: String,
    state: Arc<AppState>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

fn config() -> Config {
    let mut raw: RawConfig = raw_config();
    raw.server.token = Some(Secret::new(TOKEN));
    let shop = raw.backends.get_mut("shop").expect("the shop backend");
    shop.openerp.as_mut().expect("openerp end").password = Some(Secret::new(ERP_PASSWORD));
    shop.magento.as_mut().expect("magento end").api_key = Some(Secret::new(MAGENTO_KEY));
    Config::from_raw(raw, Some("security.toml".into()), &|_| None).unwrap()
}

async fn start(executor: Arc<dyn JobExecutor>) -> Server {
    let config = Arc::new(config());
    let redactor = Redactor::new(&config.secrets());
    let services = Services { executor, backends: Arc::new(FakeBackends) };
    let state = AppState::new(config, Store::open_in_memory().unwrap(), services, redactor, settings(4));
    state.runs.recover().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(App::new(Arc::clone(&state)).serve(listener, async move {
        let _ = rx.await;
    }));
    Server { url: format!("http://{addr}/RPC2"), base: format!("http://{addr}"), state, stop, task }
}

impl Server {
    fn client(&self) -> magento_connector::rpc::Transport {
        client(&self.url, Some(&format!("Bearer {TOKEN}")))
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// An executor whose jobs quote every secret: in records, messages, errors and panics.
#[derive(Default)]
struct LeakyExecutor {
    executions: AtomicUsize,
}

impl JobExecutor for LeakyExecutor {
    fn execute(self: Arc<Self>, ctx: RunContext) -> BoxFuture<Result<Summary, JobError>> {
        Box::pin(async move {
            self.executions.fetch_add(1, Ordering::SeqCst);
            match ctx.kind() {
                JobKind::Stock => panic!("stock job bug with key {MAGENTO_KEY} and password {ERP_PASSWORD}"),
                JobKind::Categories => {
                    ctx.set_total(2).await?;
                    ctx.record(
                        NewRecord::new("category", format!("Root/{MAGENTO_KEY}"), Outcome::Failed)
                            .message(format!("Magento refused key {MAGENTO_KEY} (password {ERP_PASSWORD})"))
                            .openerp_id(4),
                    )
                    .await?;
                    ctx.record(
                        NewRecord::new("category", "Root/Shoes", Outcome::Created)
                            .magento_id(format!("12-{TOKEN}"))
                            .openerp_id(5),
                    )
                    .await?;
                    ctx.advance(2).await?;
                    ctx.info(format!("logged in with token {TOKEN}")).await;
                    ctx.warn(format!("key {MAGENTO_KEY} is about to expire")).await;
                    ctx.error(format!("password {ERP_PASSWORD} was refused once")).await;
                    tracing::warn!(key = MAGENTO_KEY, "job saw key {MAGENTO_KEY:?} and password {ERP_PASSWORD}");
                    Ok(Summary::new(format!("done with token {TOKEN}")))
                }
                _ => {
                    tracing::error!("giving up: {ERP_PASSWORD:?}");
                    Err(JobError::failed(format!(
                        "OpenERP refused password {ERP_PASSWORD}; Magento refused key {MAGENTO_KEY:?}"
                    )))
                }
            }
        })
    }
}

fn fault_code(r: &Result<Value, CallError>) -> Option<i32> {
    match r {
        Err(CallError::Fault(f)) => Some(f.code),
        _ => None,
    }
}

fn methods_of(v: Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(|m| value::to_string("method", m).unwrap()).collect(),
        other => panic!("system.listMethods answered {other:?}"),
    }
}

/// Parameters that would let each method do its work if the token were right.
fn plausible_params(method: &str) -> Vec<Value> {
    let sandbox = value::string("sandbox");
    match method {
        "connector.version" | "system.listMethods" | "runs.list" => vec![],
        "system.methodHelp" | "system.methodSignature" => vec![value::string("runs.get")],
        "system.multicall" => vec![value::array([value::structure([
            ("methodName", value::string("catalog.export_categories")),
            ("params", value::array([sandbox.clone(), value::structure::<&str>([])])),
        ])])],
        "runs.get" | "runs.cancel" | "runs.report" => vec![value::int(1)],
        "bindings.get" => vec![sandbox, value::string("product"), value::array([value::int(1)])],
        "connector.check" | "magento.stores" | "taxes.sync" | "orders.list_broken" => vec![sandbox],
        _ => vec![sandbox, value::structure::<&str>([])],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_wrong_token_is_refused_for_every_method_and_through_multicall() {
    let exec = Arc::new(LeakyExecutor::default());
    let srv = start(Arc::clone(&exec) as Arc<dyn JobExecutor>).await;
    let mut methods = methods_of(srv.client().call("system.listMethods", vec![]).await.unwrap());
    assert!(methods.iter().any(|m| m == "system.multicall") && methods.len() > 15, "{methods:?}");
    methods.push("no.such_method".into());

    let wrong = [
        None,
        Some(String::new()),
        Some("Bearer".to_owned()),
        Some("Bearer ".to_owned()),
        Some("Bearer wrong-token-0123456789".to_owned()),
        Some(format!("Basic {TOKEN}")),
        Some(format!("Token {TOKEN}")),
        Some(format!("Bearer {TOKEN}x")),
        Some(format!("Bearer {}", &TOKEN[..TOKEN.len() - 1])),
        Some(format!("Bearer {}", TOKEN.to_uppercase())),
        Some(format!("Bearer{TOKEN}")),
        Some(TOKEN.to_owned()),
    ];
    for auth in &wrong {
        let c = client(&srv.url, auth.as_deref());
        for m in &methods {
            let r = c.call(m, plausible_params(m)).await;
            assert_eq!(fault_code(&r), Some(401), "{m} with {auth:?}: {r:?}");
            let message = format!("{r:?}");
            assert!(SECRETS.iter().all(|s| !message.contains(s)), "{message}");
            assert!(!message.contains("wrong-token"), "the fault echoes what was sent: {message}");
        }
    }
    // The token somewhere else than the Authorization header, or twice.
    let http = reqwest::Client::new();
    let body = |m: &str| encode_call(m, vec![value::string(TOKEN)]).unwrap();
    let requests = [
        http.post(&srv.url).header("X-Token", TOKEN).body(body("connector.version")),
        http.post(&srv.url).header("X-Api-Key", TOKEN).body(body("connector.version")),
        http.post(&srv.url)
            .header("Cookie", format!("token={}", TOKEN.replace(['"', ';'], "")))
            .body(body("runs.list")),
        http.post(reqwest::Url::parse_with_params(&srv.url, [("token", TOKEN)]).unwrap())
            .body(body("system.listMethods")),
        http.post(reqwest::Url::parse_with_params(&format!("{}/", srv.base), [("access_token", TOKEN)]).unwrap())
            .body(body("connector.version")),
        // Two Authorization headers, the first one wrong: the first one counts.
        http.post(&srv.url)
            .header("Authorization", "Bearer wrong-token-0123456789")
            .header("Authorization", format!("Bearer {TOKEN}"))
            .body(body("connector.version")),
    ];
    for request in requests {
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let text = r.text().await.unwrap();
        match decode_response(&text) {
            Err(DecodeFailure::Fault(f)) => assert_eq!(f.code, 401, "{}", f.message),
            other => panic!("not refused: {other:?}"),
        }
    }

    assert_eq!(exec.executions.load(Ordering::SeqCst), 0, "no job ran");
    assert!(srv.state.store.runs().list(Default::default()).await.unwrap().is_empty(), "no run was created");

    // With the token, the same multicall does start a run: the refusals above were the token's.
    let ok = srv.client().call("system.multicall", plausible_params("system.multicall")).await.unwrap();
    let Value::Array(items) = ok else { panic!("{ok:?}") };
    assert!(matches!(&items[0], Value::Array(inner) if inner.len() == 1), "{items:?}");
    assert_eq!(srv.state.store.runs().list(Default::default()).await.unwrap().len(), 1);
    srv.stop().await;
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_log_an_answer_or_a_run_report() {
    let capture = Capture::default();
    let sink = capture.clone();
    let redactor = Redactor::new(&config().secrets());
    let sub =
        telemetry::subscriber(LogOptions { json: true, verbosity: 2 }, "trace", redactor, move || sink.clone(), false);
    tracing::subscriber::set_global_default(sub).unwrap();
    // As the binary does (`telemetry::init`): panics go to the log, not raw to stderr. The
    // test harness's hook comes back once the server has stopped.
    let harness_hook = std::panic::take_hook();
    telemetry::install_panic_hook();

    let exec = Arc::new(LeakyExecutor::default());
    let srv = start(Arc::clone(&exec) as Arc<dyn JobExecutor>).await;
    let c = srv.client();
    let mut answers: Vec<String> = Vec::new();
    let keep = |answers: &mut Vec<String>, r: Result<Value, CallError>| answers.push(format!("{r:?}"));

    // Secrets sent by a caller, as a token, a method name, parameters, option keys and values.
    keep(
        &mut answers,
        client(&srv.url, Some(&format!("Bearer {ERP_PASSWORD}"))).call("connector.version", vec![]).await,
    );
    keep(&mut answers, client(&srv.url, Some(&format!("Bearer {TOKEN}{MAGENTO_KEY}"))).call("runs.list", vec![]).await);
    for s in SECRETS {
        keep(&mut answers, c.call(s, vec![]).await);
        keep(&mut answers, c.call("runs.get", vec![value::string(s)]).await);
        keep(&mut answers, c.call("connector.check", vec![value::string(s)]).await);
        keep(
            &mut answers,
            c.call("catalog.export_products", vec![value::string(s), value::structure::<&str>([])]).await,
        );
        keep(
            &mut answers,
            c.call("stock.export", vec![value::string("sandbox"), value::structure([(s, value::boolean(true))])]).await,
        );
        keep(
            &mut answers,
            c.call("orders.import", vec![value::string("sandbox"), value::structure([("since", value::string(s))])])
                .await,
        );
        keep(&mut answers, c.call("runs.list", vec![value::structure([("kind", value::string(s))])]).await);
        keep(
            &mut answers,
            c.call("bindings.get", vec![value::string("sandbox"), value::string(s), value::array([])]).await,
        );
        keep(&mut answers, c.call("system.methodHelp", vec![value::string(s)]).await);
        keep(
            &mut answers,
            c.call(
                "system.multicall",
                vec![value::array([value::structure([
                    ("methodName", value::string(s)),
                    ("params", value::array([])),
                ])])],
            )
            .await,
        );
    }
    // Peers and jobs that quote the secrets.
    keep(&mut answers, c.call("connector.check", vec![value::string("shop")]).await);
    keep(&mut answers, c.call("magento.stores", vec![value::string("shop")]).await);
    let mut runs = Vec::new();
    for method in ["catalog.export_categories", "orders.import", "stock.export"] {
        let id = c.call(method, vec![value::string("shop"), value::structure::<&str>([])]).await.unwrap();
        let run = wait_run(&c, int_of(&id)).await;
        answers.push(format!("{run:?}"));
        keep(&mut answers, c.call("runs.report", vec![id.clone()]).await);
        runs.push((method, id, run));
    }
    keep(&mut answers, c.call("runs.list", vec![]).await);
    srv.stop().await;
    std::panic::set_hook(harness_hook);
    assert_eq!(exec.executions.load(Ordering::SeqCst), 3);

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.lines().count() > 20 && log.contains("call refused: wrong token"), "the capture works: {log}");
    for line in log.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
    }
    assert!(log.contains("[redacted]"), "secret-bearing lines are logged, scrubbed");
    assert!(
        log.contains("panic: stock job bug with key [redacted] and password [redacted]"),
        "the job's panic is logged, scrubbed: {log}"
    );
    for secret in SECRETS {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
        let json = serde_json::to_string(secret).unwrap();
        assert!(!log.contains(json.trim_matches('"')), "{secret} (JSON-escaped) in the log:\n{log}");
        for a in &answers {
            assert!(!a.contains(secret), "{secret} in an answer: {a}");
        }
    }

    // What the runs say, with the secrets replaced.
    let (_, _, categories) = &runs[0];
    assert_eq!(str_of(member(categories, "state")), "done");
    let texts: Vec<String> = match member(categories, "messages") {
        Value::Array(m) => m.iter().map(|x| str_of(member(x, "text"))).collect(),
        other => panic!("{other:?}"),
    };
    for expected in [
        "logged in with token [redacted]",
        "key [redacted] is about to expire",
        "password [redacted] was refused once",
        "done with token [redacted]",
    ] {
        assert!(texts.iter().any(|t| t == expected), "{expected:?} not in {texts:?}");
    }
    let report = answers.iter().find(|a| a.contains("Magento refused key")).expect("the categories report");
    assert!(report.contains("Magento refused key [redacted] (password [redacted])"), "{report}");
    assert!(report.contains("Root/[redacted]") && report.contains("12-[redacted]"), "{report}");
    let (_, _, orders) = &runs[1];
    assert_eq!(str_of(member(orders, "state")), "failed");
    let error = str_of(member(orders, "error"));
    assert!(error.starts_with("OpenERP refused password [redacted]; Magento refused key "), "{error}");
    let (_, _, stock) = &runs[2];
    assert_eq!(str_of(member(stock, "state")), "failed");
    let error = str_of(member(stock, "error"));
    assert!(error.contains("panic") && error.contains("[redacted]"), "{error}");
}

fn write_config(dir: &Path, server: &str) -> std::path::PathBuf {
    let path = dir.join("connector.toml");
    std::fs::write(
        &path,
        format!("[server]\n{server}\n\n[state]\npath = \"state.sqlite3\"\n\n[backends.demo]\nsandbox = true\n"),
    )
    .unwrap();
    path
}

#[test]
fn the_binary_refuses_a_non_loopback_address_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let token = "token = \"0123456789abcdef0123\"";
    let cases = [
        (format!("bind = \"0.0.0.0:0\"\n{token}"), "server.bind", "allow_non_loopback"),
        (format!("bind = \"[::]:0\"\n{token}"), "server.bind", "allow_non_loopback"),
        (format!("bind = \"0.0.0.0:0\"\nallow_non_loopback = false\n{token}"), "server.bind", "allow_non_loopback"),
        // Allowed, but exposed with a short token: refused before anything is bound.
        (
            "bind = \"0.0.0.0:0\"\nallow_non_loopback = true\ntoken = \"short\"".to_owned(),
            "server.token",
            "16 characters",
        ),
    ];
    for (server, key, reason) in cases {
        let cfg = write_config(dir.path(), &server);
        let out = Command::new(env!("CARGO_BIN_EXE_magento-connector"))
            .args(["--config", cfg.to_str().unwrap(), "serve"])
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env_remove("MAGENTO_CONNECTOR_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{server}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
        assert!(stderr.contains(key) && stderr.contains(reason), "{server}: {stderr}");
        assert!(!stderr.contains("0123456789abcdef0123"), "the token is not printed: {stderr}");
        assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty(), "nothing on stdout");
        assert!(!dir.path().join("state.sqlite3").exists(), "refused before the state file is touched");
    }
}
