//! `runs.*`: observe and cancel runs.

use std::sync::Arc;

use dxr::Value;

use super::{Params, bad_params, date, int, internal, not_found, only_keys};
use crate::rpc::value;
use crate::rpc::{Call, MethodResult, Registry};
use crate::server::AppState;
use crate::server::jobs::JobKind;
use crate::server::runs::RunView;
use crate::store::{Outcome, RunFilter, RunRow, RunState};

pub(super) fn register(r: &mut Registry<AppState>) {
    r.method("runs.get", "runs.get(run_id) -> run struct with the last 50 messages", get)
        .method(
            "runs.list",
            "runs.list(filters) -> runs, newest first; filters {backend?, kind?, state?, limit? (50, max 500)}",
            list,
        )
        .method(
            "runs.cancel",
            "runs.cancel(run_id) -> {id, state}: queued runs stop at once, running ones at the next record",
            cancel,
        )
        .method(
            "runs.report",
            "runs.report(run_id, options) -> {total, records}; options {outcome?, offset? (0), limit? (200, max 1000)}",
            report,
        );
}

/// The run struct of `runs.get` / `runs.list`.
pub(crate) fn run_value(run: &RunRow, messages: Option<&[crate::store::RunEvent]>) -> Value {
    let mut m = value::Map::new();
    m.insert("id".into(), int(run.id));
    m.insert("backend".into(), value::string(run.backend.clone()));
    m.insert("kind".into(), value::string(run.kind.clone()));
    m.insert("state".into(), value::string(run.state.as_str()));
    m.insert("dry_run".into(), value::boolean(run.dry_run));
    m.insert("created_at".into(), date(&run.created_at));
    if let Some(t) = &run.started_at {
        m.insert("started_at".into(), date(t));
    }
    if let Some(t) = &run.finished_at {
        m.insert("finished_at".into(), date(t));
    }
    m.insert("total".into(), int(run.total));
    m.insert("done".into(), int(run.done));
    m.insert("percent".into(), value::int(i32::from(run.percent())));
    m.insert(
        "counts".into(),
        value::structure([
            ("created", int(run.created)),
            ("updated", int(run.updated)),
            ("skipped", int(run.skipped)),
            ("failed", int(run.failed)),
        ]),
    );
    if let Some(msgs) = messages {
        m.insert(
            "messages".into(),
            value::array(msgs.iter().map(|e| {
                value::structure([
                    ("at", date(&e.at)),
                    ("level", value::string(e.level.clone())),
                    ("text", value::string(e.text.clone())),
                ])
            })),
        );
    }
    if let Some(e) = &run.error {
        m.insert("error".into(), value::string(e.clone()));
    }
    Value::Struct(m)
}

async fn get(state: Arc<AppState>, call: Call) -> MethodResult {
    let p = Params::new(&call, "runs.get(run_id)", 1, 1)?;
    let id = p.int(0, "run_id")?;
    match state.runs.get(id).await {
        Ok(Some(RunView { run, messages })) => Ok(run_value(&run, Some(&messages))),
        Ok(None) => Err(not_found(format!("unknown run {id}"))),
        Err(e) => Err(internal(&state, "runs.get", &e)),
    }
}

async fn list(state: Arc<AppState>, call: Call) -> MethodResult {
    const SIG: &str = "runs.list(filters)";
    let p = Params::new(&call, SIG, 0, 1)?;
    let f = p.opt_struct(0, "filters")?;
    only_keys(SIG, &f, &["backend", "kind", "state", "limit"])?;
    let text = |key: &str| -> Result<Option<String>, crate::rpc::Fault> {
        match f.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(bad_params(format!("{SIG}: `{key}` must be a string, got {}", value::describe(v)))),
        }
    };
    let backend = text("backend")?;
    let kind = text("kind")?;
    if let Some(k) = &kind
        && JobKind::parse(k).is_none()
    {
        let kinds: Vec<&str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(bad_params(format!(
            "{SIG}: unknown kind {:?} (one of {})",
            value::truncate(k, 40),
            kinds.join(", ")
        )));
    }
    let run_state = match text("state")? {
        None => None,
        Some(s) => Some(RunState::parse(&s).ok_or_else(|| {
            bad_params(format!(
                "{SIG}: unknown state {:?} (one of queued, running, done, failed, cancelled)",
                value::truncate(&s, 40)
            ))
        })?),
    };
    let limit = match f.get("limit") {
        None => 50,
        Some(v @ Value::Integer(n)) if !(1..=500).contains(n) => {
            return Err(bad_params(format!("{SIG}: `limit` must be between 1 and 500, got {}", value::describe(v))));
        }
        Some(Value::Integer(n)) => u32::try_from(*n).unwrap_or(50),
        Some(v) => return Err(bad_params(format!("{SIG}: `limit` must be an int, got {}", value::describe(v)))),
    };
    match state.store.runs().list(RunFilter { backend, kind, state: run_state, limit }).await {
        Ok(runs) => Ok(value::array(runs.iter().map(|r| run_value(r, None)))),
        Err(e) => Err(internal(&state, "runs.list", &e)),
    }
}

async fn cancel(state: Arc<AppState>, call: Call) -> MethodResult {
    let p = Params::new(&call, "runs.cancel(run_id)", 1, 1)?;
    let id = p.int(0, "run_id")?;
    match state.runs.cancel(id).await {
        Ok(Some(s)) => Ok(value::structure([("id", int(id)), ("state", value::string(s.as_str()))])),
        Ok(None) => Err(not_found(format!("unknown run {id}"))),
        Err(e) => Err(internal(&state, "runs.cancel", &e)),
    }
}

async fn report(state: Arc<AppState>, call: Call) -> MethodResult {
    const SIG: &str = "runs.report(run_id, options)";
    let p = Params::new(&call, SIG, 1, 2)?;
    let id = p.int(0, "run_id")?;
    let o = p.opt_struct(1, "options")?;
    only_keys(SIG, &o, &["outcome", "offset", "limit"])?;
    let outcome = match o.get("outcome") {
        None => None,
        Some(Value::String(s)) => Some(Outcome::parse(s).ok_or_else(|| {
            bad_params(format!(
                "{SIG}: unknown outcome {:?} (one of created, updated, skipped, failed, planned)",
                value::truncate(s, 40)
            ))
        })?),
        Some(v) => return Err(bad_params(format!("{SIG}: `outcome` must be a string, got {}", value::describe(v)))),
    };
    let bounded = |key: &str, default: u32, min: i32, max: i32| -> Result<u32, crate::rpc::Fault> {
        match o.get(key) {
            None => Ok(default),
            Some(Value::Integer(n)) if (min..=max).contains(n) => Ok(u32::try_from(*n).unwrap_or(default)),
            Some(v) => Err(bad_params(format!(
                "{SIG}: `{key}` must be an int between {min} and {max}, got {}",
                value::describe(v)
            ))),
        }
    };
    let offset = bounded("offset", 0, 0, i32::MAX)?;
    let limit = bounded("limit", 200, 1, 1000)?;
    let runs = state.store.runs();
    match runs.get(id).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(not_found(format!("unknown run {id}"))),
        Err(e) => return Err(internal(&state, "runs.report", &e)),
    }
    let (total, records) =
        runs.records(id, outcome, offset, limit).await.map_err(|e| internal(&state, "runs.report", &e))?;
    let records = records.iter().map(|r| {
        let mut m = value::Map::new();
        m.insert("kind".into(), value::string(r.kind.clone()));
        m.insert("ref".into(), value::string(r.reference.clone()));
        m.insert("outcome".into(), value::string(r.outcome.as_str()));
        m.insert("message".into(), value::string(r.message.clone()));
        if let Some(mid) = &r.magento_id {
            m.insert("magento_id".into(), value::string(mid.clone()));
        }
        if let Some(oid) = r.openerp_id {
            m.insert("openerp_id".into(), int(oid));
        }
        Value::Struct(m)
    });
    Ok(value::structure([("total", int(total)), ("records", value::array(records))]))
}
