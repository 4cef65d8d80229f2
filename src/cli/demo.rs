//! `magento-connector demo`: starts the connector server on the built-in sandbox backend (an
//! in-memory state store, a random token, an ephemeral loopback port), drives it over real
//! XML-RPC like the addon would, and prints what each step actually returned.
//!
//! Nothing here is scripted output: every line comes from a call's answer. Steps the wiring
//! cannot do yet say "not available yet" (and do not fail the demo); other failures do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dxr::Value;

use super::{Failure, Wiring, exit};
use crate::config::{Config, RawConfig, SANDBOX_BACKEND};
use crate::rpc::value::{self, Record};
use crate::rpc::{CallError, HttpOptions, Transport};
use crate::secret::Secret;
use crate::server::jobs::{JobKind, NOT_AVAILABLE};
use crate::server::{App, AppState, RunSettings};
use crate::store::Store;
use crate::telemetry::Redactor;

/// How long the demo waits for one run.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Default)]
struct Tally {
    ok: Vec<String>,
    unavailable: Vec<String>,
    failed: Vec<String>,
}

impl Tally {
    fn outcome(&mut self, step: &str, result: Result<String, String>) {
        match result {
            Ok(line) => {
                println!("  ok        {step}: {line}");
                self.ok.push(step.to_owned());
            }
            Err(e) if e.contains(NOT_AVAILABLE) => {
                println!("  --        {step}: {e}");
                self.unavailable.push(step.to_owned());
            }
            Err(e) => {
                println!("  FAILED    {step}: {e}");
                self.failed.push(step.to_owned());
            }
        }
    }
}

fn demo_config(token: &Secret) -> Result<Config, Failure> {
    let mut raw = RawConfig::default();
    raw.server.bind = Some("127.0.0.1:0".into());
    raw.server.token = Some(token.clone());
    Config::from_raw(raw, None, &|_| None).map_err(|e| Failure::new(exit::CONFIG, e.to_string()))
}

fn call_error(e: &CallError) -> String {
    match e {
        CallError::Fault(f) => format!("fault {}: {}", f.code, f.message),
        other => other.to_string(),
    }
}

pub(super) async fn run(wiring: &dyn Wiring) -> Result<(), Failure> {
    let token = Secret::new(format!("demo-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)));
    let config = Arc::new(demo_config(&token)?);
    let store = Store::open_in_memory().map_err(|e| Failure::new(exit::STORE, e.to_string()))?;
    let services = wiring
        .services(&config, &store)
        .await
        .map_err(|e| Failure::new(exit::FAILED, format!("cannot set up the sandbox backend: {e:#}")))?;
    let redactor = Redactor::new(&config.secrets());
    let state = AppState::new(Arc::clone(&config), store, services, redactor, RunSettings::default());
    let listener = tokio::net::TcpListener::bind(config.server.bind)
        .await
        .map_err(|e| Failure::new(exit::SERVE, format!("cannot listen: {e}")))?;
    let addr = listener.local_addr().map_err(|e| Failure::new(exit::SERVE, e.to_string()))?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(App::new(state).serve(listener, async move {
        let _ = stop_rx.await;
    }));
    let url = format!("http://{addr}/RPC2");
    println!("magento-connector demo: connector server on {url}, backend {SANDBOX_BACKEND:?}, in-memory state");
    let client = Transport::new(
        &url,
        &HttpOptions {
            headers: vec![("Authorization".into(), Secret::new(format!("Bearer {}", token.expose())))],
            ..HttpOptions::default()
        },
    )
    .map_err(|e| Failure::new(exit::FAILED, e.to_string()))?;
    let anonymous =
        Transport::new(&url, &HttpOptions::default()).map_err(|e| Failure::new(exit::FAILED, e.to_string()))?;
    let mut tally = Tally::default();
    let backend = value::string(SANDBOX_BACKEND);

    let version =
        client.call("connector.version", vec![]).await.map_err(|e| call_error(&e)).and_then(|v| describe_version(&v));
    tally.outcome("connector.version", version);

    let refused = match anonymous.call("connector.version", vec![]).await {
        Err(CallError::Fault(f)) if f.code == 401 => {
            Ok(format!("a call without the token is refused (fault 401: {})", f.message))
        }
        Err(e) => Err(format!("expected fault 401, got {}", call_error(&e))),
        Ok(_) => Err("a call without the token was accepted".into()),
    };
    tally.outcome("token check", refused);

    let check = client
        .call("connector.check", vec![backend.clone()])
        .await
        .map_err(|e| call_error(&e))
        .and_then(|v| describe_check(&v));
    tally.outcome("connector.check", check);

    let stores = client
        .call("magento.stores", vec![backend.clone()])
        .await
        .map_err(|e| call_error(&e))
        .and_then(|v| describe_stores(&v));
    tally.outcome("magento.stores", stores);

    let taxes = client
        .call("taxes.sync", vec![backend.clone()])
        .await
        .map_err(|e| call_error(&e))
        .and_then(|v| describe_taxes(&v));
    tally.outcome("taxes.sync", taxes);

    let cycle = [JobKind::Categories, JobKind::Products, JobKind::Stock, JobKind::OrdersImport, JobKind::OrderStatus];
    for kind in cycle {
        let result = run_job(&client, kind).await;
        let run_id = result.as_ref().ok().map(|(id, _)| *id);
        tally.outcome(kind.method(), result.map(|(_, line)| line));
        if let Some(id) = run_id {
            print_failed_records(&client, id).await;
        }
    }

    let broken = client.call("orders.list_broken", vec![backend.clone()]).await.map_err(|e| call_error(&e));
    let described = broken.as_ref().map_err(Clone::clone).and_then(describe_broken);
    tally.outcome("orders.list_broken", described.map(|(line, _)| line.clone()));
    if let Ok(v) = &broken
        && let Ok((_, details)) = describe_broken(v)
    {
        for d in details {
            println!("            {d}");
        }
    }

    println!(
        "second pass (the catalog did not change, so no catalog write; stock only where the imported orders changed the forecast):"
    );
    for kind in cycle {
        let result = run_job(&client, kind).await.map(|(_, line)| line);
        tally.outcome(&format!("again {}", kind.method()), result);
    }

    let _ = stop_tx.send(());
    if let Ok(Err(e)) = server.await {
        tally.outcome("server shutdown", Err(e.to_string()));
    }
    println!(
        "summary: {} step(s) worked, {} not available yet{}, {} failed",
        tally.ok.len(),
        tally.unavailable.len(),
        if tally.unavailable.is_empty() { String::new() } else { format!(" ({})", tally.unavailable.join(", ")) },
        tally.failed.len()
    );
    if tally.failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(exit::FAILED, format!("demo steps failed: {}", tally.failed.join(", "))))
    }
}

/// Prints up to five failed records of a run with their reasons.
async fn print_failed_records(client: &Transport, run_id: i64) {
    let options = value::structure([("outcome", value::string("failed")), ("limit", value::int(5))]);
    let Ok(v) = client.call("runs.report", vec![value::id(run_id), options]).await else { return };
    let Ok(r) = Record::from_value(&v, "runs.report") else { return };
    let Ok(records) = r.array("records") else { return };
    for rec in records.iter() {
        if let Ok(rec) = Record::from_value(rec, "record") {
            println!(
                "            failed {} {}: {}",
                rec.string_or_empty("kind").unwrap_or_default(),
                rec.string_or_empty("ref").unwrap_or_default(),
                rec.string_or_empty("message").unwrap_or_default()
            );
        }
    }
}

fn describe_broken(v: &Value) -> Result<(String, Vec<String>), String> {
    let Value::Array(items) = v else { return Err(format!("unexpected answer: {}", value::describe(v))) };
    let mut details = Vec::new();
    for item in items {
        let r = Record::from_value(item, "broken order").map_err(|e| e.to_string())?;
        details.push(format!(
            "broken {} ({}): {} — {}",
            r.string_or_empty("increment_id").map_err(|e| e.to_string())?,
            r.string_or_empty("code").map_err(|e| e.to_string())?,
            r.string_or_empty("reason").map_err(|e| e.to_string())?,
            r.string_or_empty("hint").map_err(|e| e.to_string())?
        ));
    }
    Ok((format!("{} broken order(s)", items.len()), details))
}

async fn run_job(client: &Transport, kind: JobKind) -> Result<(i64, String), String> {
    let id = client
        .call(kind.method(), vec![value::string(SANDBOX_BACKEND), value::structure::<&str>([])])
        .await
        .map_err(|e| call_error(&e))
        .and_then(|v| value::to_i64("run id", &v).map_err(|e| e.to_string()))?;
    let started = Instant::now();
    loop {
        let v = client.call("runs.get", vec![value::id(id)]).await.map_err(|e| call_error(&e))?;
        let r = Record::from_value(&v, "run").map_err(|e| e.to_string())?;
        let state = r.string("state").map_err(|e| e.to_string())?;
        match state.as_str() {
            "done" => {
                let counts = r.record("counts").map_err(|e| e.to_string())?;
                let n = |k: &str| counts.i64(k).unwrap_or(0);
                return Ok((
                    id,
                    format!(
                        "run {id} done: {} of {} record(s); created {}, updated {}, skipped {}, failed {}",
                        r.i64("done").unwrap_or(0),
                        r.i64("total").unwrap_or(0),
                        n("created"),
                        n("updated"),
                        n("skipped"),
                        n("failed")
                    ),
                ));
            }
            "failed" | "cancelled" => {
                let error = r.opt_string("error").ok().flatten().unwrap_or_else(|| "no reason recorded".into());
                return Err(format!("run {id} {state}: {error}"));
            }
            _ if started.elapsed() > RUN_TIMEOUT => {
                return Err(format!("run {id} still {state} after {} s", RUN_TIMEOUT.as_secs()));
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn describe_version(v: &Value) -> Result<String, String> {
    let r = Record::from_value(v, "connector.version").map_err(|e| e.to_string())?;
    let backends: Vec<String> = r
        .array("backends")
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|b| value::to_string("backend", b).ok())
        .collect();
    Ok(format!(
        "version {}, protocol {}, backends [{}]",
        r.string("version").map_err(|e| e.to_string())?,
        r.i64("protocol").map_err(|e| e.to_string())?,
        backends.join(", ")
    ))
}

fn describe_check(v: &Value) -> Result<String, String> {
    let r = Record::from_value(v, "connector.check").map_err(|e| e.to_string())?;
    if r.bool("ok").map_err(|e| e.to_string())? {
        return Ok("OpenERP, Magento and the settings are reachable and usable".into());
    }
    let mut problems = Vec::new();
    for end in ["openerp", "magento", "settings"] {
        let e = r.record(end).map_err(|e| e.to_string())?;
        if !e.bool("ok").map_err(|e| e.to_string())? {
            problems.push(format!("{end}: {}", e.string_or_empty("message").map_err(|e| e.to_string())?));
        }
    }
    Err(problems.join("; "))
}

fn describe_stores(v: &Value) -> Result<String, String> {
    let r = Record::from_value(v, "magento.stores").map_err(|e| e.to_string())?;
    let n = |k: &str| r.array(k).map(|a| a.len()).map_err(|e| e.to_string());
    Ok(format!("{} website(s), {} store group(s), {} store view(s)", n("websites")?, n("groups")?, n("store_views")?))
}

fn describe_taxes(v: &Value) -> Result<String, String> {
    let r = Record::from_value(v, "taxes.sync").map_err(|e| e.to_string())?;
    let mapping = r.array("mapping").map_err(|e| e.to_string())?;
    let mapped = mapping
        .iter()
        .filter(|m| Record::from_value(m, "mapping").and_then(|m| m.bool("mapped")).unwrap_or(false))
        .count();
    Ok(format!(
        "run {}: {} tax class(es), {} tax(es), {mapped} mapped",
        r.i64("run_id").map_err(|e| e.to_string())?,
        r.array("classes").map_err(|e| e.to_string())?.len(),
        mapping.len()
    ))
}
