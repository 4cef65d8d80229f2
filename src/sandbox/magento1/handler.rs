//! The API handler (`Mage_Api_Model_Server_Handler`): `login`, `call`, `multiCall`,
//! `endSession`, `startSession`, `resources`, `globalFaults`, `resourceFaults`, registered on
//! our dispatcher with `FaultStyle::Zend`.
//!
//! Order of checks in `call`, as in PHP: Zend signature (623), session (5), path (3), ACL (2),
//! callable (4), then the resource method, whose failures resolve through the fault tables.
//! Per logical call it also consults the [`Knobs`] (counters, targeted rules) and, for writes
//! while another write request is in flight, the deadlock emulation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::Utc;
use dxr::Value;

use super::api_config::{self, ApiUser, GLOBAL_FAULTS};
use super::args::{Args, list_of};
use super::faults::{ApiError, DEADLOCK_MESSAGE};
use super::model::Shop;
use super::php;
use super::resources;
use super::session::{SessionUser, Sessions};
use super::signature::{self, MultiCallPrototype};
use crate::rpc::Fault;
use crate::rpc::dispatch::{Call, FaultStyle, MethodResult, Registry};
use crate::rpc::value::{array, string, structure};
use crate::sandbox::knobs::{Inject, Knobs};

/// Private request header set by the HTTP layer when random injection picked a deadlock for a
/// write request: its first write call deadlocks (never seen by clients).
pub(crate) const FORCED_DEADLOCK_HEADER: &str = "x-sandbox-forced-deadlock";

/// Fault codes that never reach the wire: they tell the HTTP layer to fail the request.
pub(crate) const ABORT_HTTP500: i32 = -1_000_500;
/// Hold the request, then drop it.
pub(crate) const ABORT_TIMEOUT: i32 = -1_000_408;
/// Close the connection without an answer.
pub(crate) const ABORT_DROP: i32 = -1_000_000;

/// The HTTP-level failure a fault stands for, if it is one of the abort sentinels.
pub(crate) fn abort_kind(f: &Fault) -> Option<Inject> {
    match f.code {
        ABORT_HTTP500 => Some(Inject::Http500),
        ABORT_TIMEOUT => Some(Inject::Timeout),
        ABORT_DROP => Some(Inject::Drop),
        _ => None,
    }
}

fn abort(kind: Inject) -> Fault {
    let code = match kind {
        Inject::Timeout | Inject::HoldAfter => ABORT_TIMEOUT,
        Inject::Drop => ABORT_DROP,
        _ => ABORT_HTTP500,
    };
    Fault::new(code, "request aborted by the sandbox")
}

/// Deadlock emulation settings.
#[derive(Debug)]
pub(crate) struct Deadlocks {
    /// Share of write calls that deadlock while another write request is in flight.
    pub rate: f64,
    /// Share of those deadlocks where the write was applied anyway.
    pub phantom: f64,
    /// Seeded randomness.
    pub rng: fastrand::Rng,
}

/// Everything the handler methods share.
pub(crate) struct SandboxState {
    /// The shop ("database").
    pub shop: Mutex<Shop>,
    /// API sessions.
    pub sessions: Mutex<Sessions>,
    /// Latency, injection and counters.
    pub knobs: Arc<Knobs>,
    /// API users.
    pub users: Vec<ApiUser>,
    /// Emulated `multiCall` prototype.
    pub multicall: MultiCallPrototype,
    /// HTTP requests with at least one write call being processed.
    pub writes_in_flight: AtomicUsize,
    /// Deadlock emulation.
    pub deadlocks: Mutex<Deadlocks>,
    /// Test-only changes of `sales_order.info` answers, by increment id.
    pub tampered: Mutex<HashMap<String, OrderTamper>>,
    /// Test-only replacements in the text of every answer.
    pub rewrites: Mutex<Vec<(String, String)>>,
}

/// A test-only change of one order's `sales_order.info` answer.
pub(crate) type OrderTamper = Arc<dyn Fn(&mut Value) + Send + Sync>;

impl SandboxState {
    /// The answer text after the test-only replacements.
    pub(crate) fn rewrite(&self, text: String) -> String {
        let rewrites = lock(&self.rewrites);
        rewrites
            .iter()
            .fold(text, |t, (from, to)| if t.contains(from.as_str()) { t.replace(from.as_str(), to) } else { t })
    }
}

/// Locks a mutex, recovering from poisoning (a panicking handler must not wedge the sandbox).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers the handler's public methods.
pub(crate) fn registry() -> Registry<SandboxState> {
    let mut r = Registry::new(FaultStyle::Zend);
    r.method("login", "Login user and retrieve session id", login)
        .method("call", "Call api functionality", call)
        .method("multiCall", "Multiple calls of resource functionality", multi_call)
        .method("endSession", "End web service session", end_session)
        .method("startSession", "Start web service session", start_session)
        .method("resources", "List of available resources", resources_method)
        .method("globalFaults", "List of global faults", global_faults)
        .method("resourceFaults", "List of resource faults", resource_faults);
    r
}

fn global(name: &str) -> Fault {
    let (code, msg) = api_config::resolve_fault(None, name, None);
    Fault::new(code, msg)
}

fn session(state: &SandboxState, v: Option<&Value>) -> Result<SessionUser, Fault> {
    let id = match v {
        Some(Value::String(s)) => s.as_str(),
        _ => "",
    };
    lock(&state.sessions).touch(id).ok_or_else(|| global("session_expired"))
}

/// A targeted injection on a top-level method (`login`, `multiCall`): the fault or abort it
/// stands for; `HoldAfter` is left to the caller (it carries the call out first).
fn top_level_injection(kind: Option<Inject>) -> Result<bool, Fault> {
    match kind {
        None => Ok(false),
        Some(Inject::HoldAfter) => Ok(true),
        Some(Inject::Fault) => Err(Fault::new(1, generic_internal())),
        Some(Inject::Deadlock) => Err(Fault::new(1, DEADLOCK_MESSAGE)),
        Some(kind @ (Inject::Http500 | Inject::Timeout | Inject::Drop)) => Err(abort(kind)),
    }
}

async fn login(state: Arc<SandboxState>, c: Call) -> MethodResult {
    signature::check("login", &c.params, state.multicall)?;
    let hold_after = top_level_injection(state.knobs.on_call("login", &[]))?;
    let user = c.param(0).map(php::to_php_string).unwrap_or_default();
    let key = c.param(1).map(php::to_php_string).unwrap_or_default();
    if !php::truthy(&string(user.clone())) || !php::truthy(&string(key.clone())) {
        return Err(global("invalid_request_param"));
    }
    let found = state
        .users
        .iter()
        .find(|u| u.username == user && crate::secret::constant_time_eq(u.api_key.expose().as_bytes(), key.as_bytes()));
    let Some(u) = found else {
        return Err(global("access_denied"));
    };
    let session = string(lock(&state.sessions).login(&u.username, u.acl.clone()));
    if hold_after {
        return Err(abort(Inject::Timeout));
    }
    Ok(session)
}

async fn end_session(state: Arc<SandboxState>, c: Call) -> MethodResult {
    signature::check("endSession", &c.params, state.multicall)?;
    state.knobs.on_call("endSession", &[]);
    if let Some(Value::String(id)) = c.param(0) {
        lock(&state.sessions).end(id);
    }
    Ok(Value::Boolean(true))
}

async fn start_session(state: Arc<SandboxState>, c: Call) -> MethodResult {
    signature::check("startSession", &c.params, state.multicall)?;
    Ok(string(lock(&state.sessions).new_id()))
}

async fn global_faults(state: Arc<SandboxState>, c: Call) -> MethodResult {
    signature::check("globalFaults", &c.params, state.multicall)?;
    Ok(array(
        GLOBAL_FAULTS
            .iter()
            .map(|(code, _, msg)| structure([("code", string(code.to_string())), ("message", string(*msg))])),
    ))
}

async fn resource_faults(state: Arc<SandboxState>, c: Call) -> MethodResult {
    signature::check("resourceFaults", &c.params, state.multicall)?;
    let user = session(&state, c.param(0))?;
    let name = c.param(1).map(php::to_php_string).unwrap_or_default();
    let def = api_config::resource(&name).ok_or_else(|| global("resource_path_invalid"))?;
    if !user.acl.allows_resource(def.name) {
        return Err(global("access_denied"));
    }
    Ok(array(
        api_config::resource_faults(def.name)
            .iter()
            .map(|(code, _, msg)| structure([("code", string(code.to_string())), ("message", string(*msg))])),
    ))
}

async fn resources_method(state: Arc<SandboxState>, c: Call) -> MethodResult {
    signature::check("resources", &c.params, state.multicall)?;
    let user = session(&state, c.param(0))?;
    let mut out = Vec::new();
    for r in api_config::RESOURCES {
        let methods: Vec<Value> = r
            .methods
            .iter()
            .filter(|(m, _)| user.acl.allows(r.name, m))
            .map(|(m, title)| {
                structure([
                    ("title", string(*title)),
                    ("description", Value::Nil),
                    ("path", string(format!("{}.{m}", r.name))),
                    ("name", string(*m)),
                    ("aliases", array(r.aliases.iter().map(|a| string(format!("{a}.{m}"))))),
                ])
            })
            .collect();
        if methods.is_empty() {
            continue;
        }
        out.push(structure([
            ("title", string(r.title)),
            ("description", Value::Nil),
            ("name", string(r.name)),
            ("aliases", array(r.aliases.iter().map(|a| string(*a)))),
            ("methods", Value::Array(methods)),
        ]));
    }
    Ok(Value::Array(out))
}

/// A resolved API path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path {
    /// Canonical resource.
    pub resource: &'static str,
    /// Method.
    pub method: &'static str,
}

/// `explode('.', $apiPath)` + alias resolution; `None` is fault 3.
pub(crate) fn resolve_path(path: &str) -> Option<Path> {
    let mut parts = path.split('.');
    let (resource, method) = (parts.next()?, parts.next()?);
    if resource.is_empty() || method.is_empty() {
        return None;
    }
    let def = api_config::resource(resource)?;
    if !def.has_method(method) {
        return None;
    }
    let (m, _) = def.methods.iter().find(|(m, _)| *m == method)?;
    Some(Path { resource: def.name, method: m })
}

/// True when a parsed request contains at least one write call.
pub(crate) fn request_writes(method: &str, params: &[Value]) -> bool {
    let is_write = |p: Option<&Value>| match p {
        Some(Value::String(s)) => resolve_path(s).is_some_and(|p| resources::is_write(p.resource, p.method)),
        _ => false,
    };
    match method {
        "call" => is_write(params.get(1)),
        "multiCall" => list_of(params.get(1)).iter().any(|item| match item {
            Value::Array(a) => is_write(a.first()),
            Value::Struct(m) => is_write(m.get("0")),
            _ => false,
        }),
        _ => false,
    }
}

/// How one logical call ended.
enum Outcome {
    Ok(Value),
    /// A fault: `(code, message, message in multiCall)`.
    Fault(i32, String, String),
    /// The whole HTTP request must fail.
    Abort(Inject),
}

fn generic_internal() -> String {
    GLOBAL_FAULTS.iter().find(|(c, _, _)| *c == 1).map(|(_, _, m)| (*m).to_owned()).unwrap_or_default()
}

fn fault_outcome(resource: Option<&str>, name: &str, custom: Option<&str>) -> Outcome {
    let (code, msg) = api_config::resolve_fault(resource, name, custom);
    Outcome::Fault(code, msg.clone(), msg)
}

/// Runs one logical call (`call`, or one `multiCall` item) after the session check.
/// `forced_deadlock` is consumed by the first write call when set.
fn run_one(
    state: &SandboxState,
    user: &SessionUser,
    path: &str,
    args: &[Value],
    forced_deadlock: &mut bool,
) -> Outcome {
    let resolved = resolve_path(path);
    let counted = resolved.map_or_else(|| path.to_owned(), |p| format!("{}.{}", p.resource, p.method));
    let injected = state.knobs.on_call(&counted, args);
    let Some(p) = resolved else {
        return fault_outcome(None, "resource_path_invalid", None);
    };
    if !user.acl.allows(p.resource, p.method) {
        return fault_outcome(None, "access_denied", None);
    }
    if !resources::is_emulated(p.resource, p.method) {
        return fault_outcome(Some(p.resource), "resource_path_not_callable", None);
    }
    let generic = generic_internal();
    match injected {
        Some(Inject::Fault) => return Outcome::Fault(1, generic.clone(), generic),
        Some(Inject::Deadlock) => return Outcome::Fault(1, DEADLOCK_MESSAGE.into(), generic),
        Some(kind @ (Inject::Http500 | Inject::Timeout | Inject::Drop)) => {
            return Outcome::Abort(kind);
        }
        Some(Inject::HoldAfter) => {
            let mut shop = lock(&state.shop);
            let _ = resources::invoke(&mut shop, p.resource, p.method, Args::new(args), Utc::now());
            return Outcome::Abort(Inject::Timeout);
        }
        None => {}
    }
    let write = resources::is_write(p.resource, p.method);
    if write && std::mem::take(forced_deadlock) {
        return Outcome::Fault(1, DEADLOCK_MESSAGE.into(), generic);
    }
    let mut apply = true;
    let mut deadlocked = false;
    if write && state.writes_in_flight.load(Ordering::SeqCst) > 1 {
        let mut d = lock(&state.deadlocks);
        if d.rate > 0.0 && d.rng.f64() < d.rate {
            deadlocked = true;
            apply = d.phantom > 0.0 && d.rng.f64() < d.phantom;
        }
    }
    if deadlocked && !apply {
        return Outcome::Fault(1, DEADLOCK_MESSAGE.into(), generic);
    }
    let result = {
        let mut shop = lock(&state.shop);
        resources::invoke(&mut shop, p.resource, p.method, Args::new(args), Utc::now())
    };
    if deadlocked {
        tracing::debug!(path = counted, "phantom deadlock: the write was applied");
        return Outcome::Fault(1, DEADLOCK_MESSAGE.into(), generic);
    }
    match result {
        None => fault_outcome(Some(p.resource), "resource_path_not_callable", None),
        Some(Ok(mut v)) => {
            if (p.resource, p.method) == ("sales_order", "info") {
                let tamper = args.first().and_then(|a| lock(&state.tampered).get(&php::to_php_string(a)).cloned());
                if let Some(t) = tamper {
                    t(&mut v);
                }
            }
            php::processing_row(&mut v);
            Outcome::Ok(v)
        }
        Some(Err(ApiError::Api { name, message })) => fault_outcome(Some(p.resource), name, message.as_deref()),
        Some(Err(ApiError::Internal(msg))) => Outcome::Fault(1, msg, generic),
        Some(Err(ApiError::Fatal)) => Outcome::Abort(Inject::Http500),
    }
}

async fn call(state: Arc<SandboxState>, c: Call) -> MethodResult {
    signature::check("call", &c.params, state.multicall)?;
    let user = session(&state, c.param(0))?;
    let path = c.param(1).map(php::to_php_string).unwrap_or_default();
    let args = match c.param(2) {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    let mut forced = c.meta.headers.contains_key(FORCED_DEADLOCK_HEADER);
    match run_one(&state, &user, &path, &args, &mut forced) {
        Outcome::Ok(v) => Ok(v),
        Outcome::Fault(code, msg, _) => Err(Fault::new(code, msg)),
        Outcome::Abort(kind) => Err(abort(kind)),
    }
}

async fn multi_call(state: Arc<SandboxState>, c: Call) -> MethodResult {
    signature::check("multiCall", &c.params, state.multicall)?;
    let hold_after = top_level_injection(state.knobs.on_call("multiCall", &[]))?;
    let user = session(&state, c.param(0))?;
    let calls = list_of(c.param(1));
    let break_on_fault = match c.param(2) {
        Some(Value::Struct(m)) => m.get("break").is_some_and(|v| php::to_php_string(v) == "1"),
        _ => false,
    };
    let mut forced = c.meta.headers.contains_key(FORCED_DEADLOCK_HEADER);
    let mut out = Vec::with_capacity(calls.len());
    for item in &calls {
        let (path, args): (Option<String>, Vec<Value>) = match item {
            Value::Array(a) => (a.first().map(php::to_php_string), a.get(1).map_or_else(Vec::new, item_args)),
            Value::Struct(m) => (m.get("0").map(php::to_php_string), m.get("1").map_or_else(Vec::new, item_args)),
            Value::String(s) => (s.chars().next().map(String::from), Vec::new()),
            _ => (None, Vec::new()),
        };
        let outcome = match path {
            None => fault_outcome(None, "resource_path_invalid", None),
            Some(p) => run_one(&state, &user, &p, &args, &mut forced),
        };
        match outcome {
            Outcome::Ok(v) => out.push(v),
            Outcome::Fault(code, _, item_msg) => {
                out.push(structure([
                    ("isFault", Value::Boolean(true)),
                    ("faultCode", string(code.to_string())),
                    ("faultMessage", string(item_msg)),
                ]));
                if break_on_fault {
                    break;
                }
            }
            Outcome::Abort(kind) => return Err(abort(kind)),
        }
    }
    if hold_after {
        return Err(abort(Inject::Timeout));
    }
    Ok(Value::Array(out))
}

/// `$args = $call[1] ?? []`: an array is positional, `null` is none, anything else is passed as
/// the single argument.
fn item_args(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Nil => Vec::new(),
        other => vec![other.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_through_aliases_and_reject_bad_shapes() {
        let p = resolve_path("product.info").unwrap();
        assert_eq!((p.resource, p.method), ("catalog_product", "info"));
        assert!(resolve_path("no_such_resource.list").is_none());
        assert!(resolve_path("catalog_product").is_none());
        assert!(resolve_path(".info").is_none());
        assert!(resolve_path("catalog_product.items").is_none());
        assert_eq!(resolve_path("order.info.extra").map(|p| p.resource), Some("sales_order"));
    }

    #[test]
    fn write_requests_are_detected_in_call_and_multicall() {
        let s = |x: &str| Value::String(x.into());
        assert!(request_writes("call", &[s("sid"), s("product.create")]));
        assert!(!request_writes("call", &[s("sid"), s("product.info")]));
        let calls =
            Value::Array(vec![Value::Array(vec![s("store.list")]), Value::Array(vec![s("product_stock.update")])]);
        assert!(request_writes("multiCall", &[s("sid"), calls]));
        assert!(!request_writes("login", &[s("u"), s("k")]));
    }
}
