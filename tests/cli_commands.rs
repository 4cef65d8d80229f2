//! The binary: help, configuration errors and exit codes, migrate, run, check, demo, and
//! serve as a real process (clients, SIGTERM, secrets kept out of its log).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_magento-connector");
const TOKEN: &str = "cli-token-abcdef0123456789";
const PASSWORD: &str = "cli-erp-pa55word";
const API_KEY: &str = "cli-mage-key-42";

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("MAGENTO_CONNECTOR_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write_config(dir: &Path, bind: &str) -> std::path::PathBuf {
    let path = dir.join("connector.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[server]
bind = "{bind}"
token = "{TOKEN}"

[state]
path = "state/connector.sqlite3"

[backends.demo]
sandbox = true

[backends.shop.openerp]
url = "http://127.0.0.1:9"
db = "prod"
user = "connector"
password = "{PASSWORD}"

[backends.shop.magento]
kind = "magento1"
url = "http://127.0.0.1:9"
api_user = "connector"
api_key = "{API_KEY}"
"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn help_works_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let top = run_in(dir.path(), &["--help"]);
    assert!(top.status.success());
    let out = text(&top.stdout);
    for cmd in ["serve", "run", "check", "migrate", "demo", "--config", "--log-json", "--verbose"] {
        assert!(out.contains(cmd), "{cmd} missing from --help:\n{out}");
    }
    for cmd in ["serve", "run", "check", "migrate", "demo"] {
        let o = run_in(dir.path(), &[cmd, "--help"]);
        assert!(o.status.success(), "{cmd} --help failed");
        assert!(text(&o.stdout).contains("Usage: magento-connector"), "{cmd}");
    }
    let run = text(&run_in(dir.path(), &["run", "--help"]).stdout);
    for flag in [
        "--backend",
        "--dry-run",
        "--full",
        "--ids",
        "--stores",
        "--since",
        "--increment-ids",
        "order-status",
        "reimport",
    ] {
        assert!(run.contains(flag), "{flag} missing from run --help:\n{run}");
    }
    let version = run_in(dir.path(), &["--version"]);
    assert_eq!(text(&version.stdout).trim(), format!("magento-connector {}", env!("CARGO_PKG_VERSION")));
    let bad = run_in(dir.path(), &["frobnicate"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_bad_config_gives_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[server]\nbind = \"0.0.0.0:8070\"\ntoken = \"0123456789abcdef0123\"\n", "server.bind"),
        ("[server]\ncolour = \"blue\"\n", "invalid config file"),
        ("[server]\nbind = \"127.0.0.1:8070\"\n", "server.token"),
        ("this is = not [toml\n", "invalid config file"),
    ];
    for (toml, needle) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, toml).unwrap();
        for cmd in ["serve", "migrate", "check"] {
            let o = run_in(dir.path(), &["--config", path.to_str().unwrap(), cmd]);
            assert_eq!(o.status.code(), Some(2), "{cmd} with {toml:?}");
            let err = text(&o.stderr);
            assert_eq!(err.lines().count(), 1, "one line: {err:?}");
            assert!(err.starts_with("magento-connector: ") && err.contains(needle), "{err}");
        }
    }
    let o = run_in(dir.path(), &["--config", "missing.toml", "migrate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("cannot read config file missing.toml"));
}

#[test]
fn migrate_creates_the_state_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "127.0.0.1:0");
    let first = run_in(dir.path(), &["--config", cfg.to_str().unwrap(), "migrate"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let latest = magento_connector::store::SCHEMA_VERSION;
    assert!(text(&first.stdout).contains(&format!("schema version 0 -> {latest}")), "{}", text(&first.stdout));
    assert!(dir.path().join("state/connector.sqlite3").exists());
    let second = run_in(dir.path(), &["--config", cfg.to_str().unwrap(), "migrate"]);
    assert!(text(&second.stdout).contains(&format!("schema version {latest}, up to date")), "{}", text(&second.stdout));
    let c = rusqlite::Connection::open(dir.path().join("state/connector.sqlite3")).unwrap();
    let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, latest);
}

#[test]
fn run_goes_through_the_run_manager_and_reports_honestly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "127.0.0.1:0");
    let c = cfg.to_str().unwrap();
    // Backend `shop` points at a closed port: the run fails for that reason, said on one line.
    let o = run_in(dir.path(), &["--config", c, "run", "categories", "--backend", "shop", "--dry-run", "--ids", "3,4"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("run 1 failed: cannot read the settings of backend \"shop\" in OpenERP"), "{err}");
    assert!(!err.contains(PASSWORD) && !err.contains(API_KEY), "{err}");
    let out = text(&o.stdout);
    assert!(out.contains("run 1: categories on backend shop — failed (dry run)"), "{out}");
    // The run is in the state file, with its options.
    let db = rusqlite::Connection::open(dir.path().join("state/connector.sqlite3")).unwrap();
    let (state, options): (String, String) =
        db.query_row("SELECT state, options FROM runs WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(state, "failed");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&options).unwrap()["ids"], serde_json::json!([3, 4]));

    let o = run_in(dir.path(), &["--config", c, "run", "orders", "--backend", "demo", "--full"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--full does not apply to `run orders`"), "{}", text(&o.stderr));
    let o = run_in(dir.path(), &["--config", c, "run", "stock"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("choose one with --backend"), "{}", text(&o.stderr));
    let o = run_in(dir.path(), &["--config", c, "run", "stock", "--backend", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_reports_per_backend_and_fails_when_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "127.0.0.1:0");
    let o = run_in(dir.path(), &["--config", cfg.to_str().unwrap(), "check"]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(out.contains("backend demo (sandbox): ok"), "{out}");
    assert!(out.contains("backend shop (remote): PROBLEMS"), "{out}");
    assert!(text(&o.stderr).contains("check found problems on: shop"), "{}", text(&o.stderr));
}

#[test]
fn demo_prints_only_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(dir.path(), &["demo"]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", text(&o.stderr));
    assert!(
        out.contains(&format!(
            "ok        connector.version: version {}, protocol 1, backends [sandbox]",
            env!("CARGO_PKG_VERSION")
        )),
        "{out}"
    );
    assert!(out.contains("ok        token check: a call without the token is refused (fault 401"), "{out}");
    for step in ["connector.check", "magento.stores", "taxes.sync", "orders.list_broken"] {
        assert!(out.contains(&format!("ok        {step}: ")), "{step} did not work:\n{out}");
    }
    assert!(out.contains("catalog.export_products: run "), "{out}");
    assert!(!out.contains("FAILED"), "{out}");
    assert!(out.contains("summary: ") && out.contains(", 0 failed"), "{out}");
    assert!(!dir.path().join("connector.sqlite3").exists(), "the demo keeps its state in memory");
}

#[test]
fn serve_answers_clients_and_stops_cleanly_on_sigterm_without_logging_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "127.0.0.1:0");
    let mut child = Command::new(BIN)
        .args(["--config", cfg.to_str().unwrap(), "--log-json", "-vv", "serve"])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut log = String::new();
    let started = Instant::now();
    let url = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 || started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("server did not start: {log}");
        }
        log.push_str(&line);
        if let Some(i) = line.find("listening on http://") {
            let rest = &line[i + "listening on ".len()..];
            break rest[..rest.find("/RPC2").unwrap() + 5].to_owned();
        }
    };
    let script = format!(
        r#"
import xmlrpc.client
p = xmlrpc.client.ServerProxy({url:?}, headers=[("Authorization", "Bearer {TOKEN}")])
print(p.connector.version()["protocol"])
rid = p.catalog.export_products("demo", {{"dry_run": True}})
print(p.runs.get(rid)["kind"])
try:
    xmlrpc.client.ServerProxy({url:?}, headers=[("Authorization", "Bearer {PASSWORD}")]).connector.version()
except xmlrpc.client.Fault as f:
    print(f.faultCode)
try:
    p.runs.get("{API_KEY}")
except xmlrpc.client.Fault as f:
    print(f.faultCode)
"#
    );
    let py = Command::new("python3").arg("-c").arg(&script).output().unwrap();
    assert!(py.status.success(), "{}", text(&py.stderr));
    assert_eq!(text(&py.stdout).lines().collect::<Vec<_>>(), vec!["1", "products", "401", "-32602"]);

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    stderr.read_to_string(&mut log).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit {status:?}: {log}");
    assert!(log.contains("SIGTERM received") && log.contains("server stopped"), "{log}");
    for line in log.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    for secret in [TOKEN, PASSWORD, API_KEY] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
    let db = rusqlite::Connection::open(dir.path().join("state/connector.sqlite3")).unwrap();
    let states: Vec<String> = db
        .prepare("SELECT state FROM runs")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(states.iter().all(|s| s == "failed"), "the run recorded its end before the process left: {states:?}");
}

#[test]
fn the_example_config_is_valid_and_documents_every_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("connector.example.toml");
    let config = magento_connector::config::Config::load(&path, true, &|_| None).unwrap();
    assert_eq!(config.backends.keys().collect::<Vec<_>>(), vec!["sandbox", "shop"]);
    let text = std::fs::read_to_string(&path).unwrap();
    let keys = [
        "bind",
        "allow_non_loopback",
        "token",
        "max_body_bytes",
        "max_depth",
        "request_timeout_secs",
        "path",
        "sandbox",
        "url",
        "db",
        "user",
        "password",
        "connect_timeout_secs",
        "timeout_secs",
        "retries",
        "page_size",
        "kind",
        "api_user",
        "api_key",
        "concurrency",
        "batch_size",
        "multicall",
    ];
    for key in keys {
        assert!(
            text.lines().any(|l| l.trim_start_matches("# ").starts_with(&format!("{key} ="))),
            "{key} is not documented"
        );
    }
    for env in
        ["MAGENTO_CONNECTOR_TOKEN", "MAGENTO_CONNECTOR_SHOP_OPENERP_PASSWORD", "MAGENTO_CONNECTOR_SHOP_MAGENTO_API_KEY"]
    {
        assert!(text.contains(env), "{env}");
    }
}
