//! A small scripted Magento 1 XML-RPC server for the client tests, on `127.0.0.1:0`.
//!
//! It checks the parameter types the way Zend's signature check does (fault 623), keeps real
//! sessions (fault 5 for unknown ids), answers `call` and `multiCall` through one per-test
//! handler `(path, args) -> Result<Value, Fault>`, and can inject HTTP 500s (empty body) and
//! delays per HTTP request. Every request is logged for assertions. It is not the sandbox: it
//! only knows what each test scripts.

#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dxr::Value;
use magento_connector::config::{MagentoEndpoint, MagentoKind, MultiCallMode};
use magento_connector::magento::Magento1Client;
use magento_connector::rpc::dispatch::{Call, Endpoint, FaultStyle, Limits, MethodResult, Registry, RequestMeta};
use magento_connector::rpc::{Fault, value};
use magento_connector::secret::Secret;

/// API user and key the fake accepts.
pub const USER: &str = "connector";
/// API key the fake accepts.
pub const KEY: &str = "connector123";
/// Session id of the recordings (the first login returns it).
pub const RECORDED_SID: &str = "6410d670e7e42b14aef2f3d107a6f838";

/// Per-test answer to one API call (or one multiCall item).
pub type Handler = Box<dyn Fn(&str, &[Value]) -> Result<Value, Fault> + Send + Sync>;

/// What to do with one upcoming HTTP request before XML-RPC handling.
#[derive(Debug, Clone, Copy)]
pub enum HttpAction {
    /// Answer HTTP 500 with an empty body (a PHP fatal error).
    Fail500,
    /// Wait this long, then answer normally.
    Delay(Duration),
}

/// How the fake treats `multiCall`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiCall {
    /// Accepts `multiCall(string, array)` (Magento ≤ OpenMage 20.10).
    Supported,
    /// Fault 623 as OpenMage ≥ 20.11 answers a standard client.
    Rejects,
}

/// One logged XML-RPC request.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Top-level method (`login`, `call`, `multiCall`, `endSession`).
    pub method: String,
    /// Its parameters.
    pub params: Vec<Value>,
}

/// Shared state of the fake.
pub struct FakeState {
    handler: Handler,
    /// Every request that reached XML-RPC handling.
    pub log: Mutex<Vec<Logged>>,
    /// Actions for the next HTTP requests (consumed one per request).
    pub http_plan: Mutex<VecDeque<HttpAction>>,
    /// Action applied to every request once the plan is empty.
    pub http_always: Mutex<Option<HttpAction>>,
    /// Live session ids.
    pub sessions: Mutex<HashSet<String>>,
    /// HTTP requests received (including failed ones).
    pub http_requests: AtomicUsize,
    /// HTTP requests being answered right now.
    pub in_flight: AtomicUsize,
    /// Most HTTP requests seen in flight at once.
    pub max_in_flight: AtomicUsize,
    /// When set, the whole answer to the next `multiCall` (instead of asking the handler).
    pub multicall_reply: Mutex<Option<Value>>,
    logins: AtomicUsize,
    multicall: MultiCall,
}

impl FakeState {
    /// Number of logged requests with this top-level method.
    pub fn count(&self, method: &str) -> usize {
        self.log.lock().unwrap().iter().filter(|l| l.method == method).count()
    }

    /// Number of `call` requests for this API path.
    pub fn calls_to(&self, path: &str) -> usize {
        self.calls(path).len()
    }

    /// Args of every `call` request for this API path.
    pub fn calls(&self, path: &str) -> Vec<Vec<Value>> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.method == "call" && l.params.get(1) == Some(&value::string(path)))
            .map(|l| match l.params.get(2) {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// Every `multiCall` request's calls as `(path, args)` lists.
    pub fn multicalls(&self) -> Vec<Vec<(String, Vec<Value>)>> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.method == "multiCall")
            .map(|l| match l.params.get(1) {
                Some(Value::Array(calls)) => calls.iter().map(split_call).collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// Forgets every session (as after the idle timeout).
    pub fn expire_sessions(&self) {
        self.sessions.lock().unwrap().clear();
    }

    /// Plans actions for the next HTTP requests.
    pub fn plan(&self, actions: impl IntoIterator<Item = HttpAction>) {
        self.http_plan.lock().unwrap().extend(actions);
    }
}

fn split_call(c: &Value) -> (String, Vec<Value>) {
    match c {
        Value::Array(parts) => {
            let path = match parts.first() {
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            let args = match parts.get(1) {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            (path, args)
        }
        _ => (String::new(), Vec::new()),
    }
}

fn signature_fault() -> Fault {
    Fault::new(623, "Calling parameters do not match signature")
}

fn session_ok(st: &FakeState, p: Option<&Value>) -> Result<(), Fault> {
    match p {
        Some(Value::String(s)) if st.sessions.lock().unwrap().contains(s) => Ok(()),
        Some(Value::String(_)) => Err(Fault::new(5, "Session expired. Try to relogin.")),
        _ => Err(signature_fault()),
    }
}

fn log(st: &FakeState, call: &Call) {
    st.log.lock().unwrap().push(Logged { method: call.method.clone(), params: call.params.clone() });
}

async fn login(st: Arc<FakeState>, call: Call) -> MethodResult {
    log(&st, &call);
    let (Some(Value::String(user)), Some(Value::String(key)), 2) = (call.param(0), call.param(1), call.params.len())
    else {
        return Err(signature_fault());
    };
    if user != USER || key != KEY {
        return Err(Fault::new(2, "Access denied."));
    }
    let n = st.logins.fetch_add(1, Ordering::SeqCst);
    let sid = if n == 0 { RECORDED_SID.to_owned() } else { format!("{n:032x}") };
    st.sessions.lock().unwrap().insert(sid.clone());
    Ok(value::string(sid))
}

async fn call(st: Arc<FakeState>, call: Call) -> MethodResult {
    log(&st, &call);
    let path = match (call.param(1), call.param(2), call.params.len()) {
        (Some(Value::String(p)), None, 2) | (Some(Value::String(p)), Some(Value::Array(_)), 3) => p.clone(),
        _ => return Err(signature_fault()),
    };
    session_ok(&st, call.param(0))?;
    let args = match call.param(2) {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    (st.handler)(&path, &args)
}

async fn multi_call(st: Arc<FakeState>, call: Call) -> MethodResult {
    log(&st, &call);
    if st.multicall == MultiCall::Rejects {
        return Err(signature_fault());
    }
    let Some(Value::Array(calls)) = call.param(1) else {
        return Err(signature_fault());
    };
    if call.params.len() != 2 {
        return Err(signature_fault());
    }
    session_ok(&st, call.param(0))?;
    if let Some(reply) = st.multicall_reply.lock().unwrap().take() {
        return Ok(reply);
    }
    let mut out = Vec::new();
    for c in calls {
        let (path, args) = split_call(c);
        out.push(match (st.handler)(&path, &args) {
            Ok(v) => v,
            // Inside multiCall, PHP exceptions (fault 1) lose their message.
            Err(f) => value::structure([
                ("isFault", value::boolean(true)),
                ("faultCode", value::string(f.code.to_string())),
                (
                    "faultMessage",
                    value::string(if f.code == 1 {
                        "Internal Error. Please see log for details.".to_owned()
                    } else {
                        f.message
                    }),
                ),
            ]),
        });
    }
    Ok(Value::Array(out))
}

async fn end_session(st: Arc<FakeState>, call: Call) -> MethodResult {
    log(&st, &call);
    session_ok(&st, call.param(0))?;
    if let Some(Value::String(s)) = call.param(0) {
        st.sessions.lock().unwrap().remove(s);
    }
    Ok(value::boolean(true))
}

async fn http(State(ep): State<Arc<Endpoint<FakeState>>>, body: Bytes) -> Response {
    let st = Arc::clone(ep.state());
    st.http_requests.fetch_add(1, Ordering::SeqCst);
    let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    st.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let response = answer(&ep, &st, body).await;
    st.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

async fn answer(ep: &Endpoint<FakeState>, st: &FakeState, body: Bytes) -> Response {
    let planned = st.http_plan.lock().unwrap().pop_front();
    let action = planned.or(*st.http_always.lock().unwrap());
    match action {
        Some(HttpAction::Fail500) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
        }
        Some(HttpAction::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    let text = ep.handle(RequestMeta::default(), &body).await;
    ([(header::CONTENT_TYPE, "text/xml; charset=UTF-8")], text).into_response()
}

/// A running fake.
pub struct Fake {
    /// Its state (logs, plans, sessions).
    pub state: Arc<FakeState>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Fake {
    /// Starts a fake answering API calls with `handler`.
    pub async fn start(multicall: MultiCall, handler: Handler) -> Fake {
        let state = Arc::new(FakeState {
            handler,
            log: Mutex::new(Vec::new()),
            http_plan: Mutex::new(VecDeque::new()),
            http_always: Mutex::new(None),
            sessions: Mutex::new(HashSet::new()),
            http_requests: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            multicall_reply: Mutex::new(None),
            logins: AtomicUsize::new(0),
            multicall,
        });
        let mut reg = Registry::new(FaultStyle::Zend);
        reg.method("login", "", login).method("call", "", call).method("multiCall", "", multi_call).method(
            "endSession",
            "",
            end_session,
        );
        let ep =
            Endpoint::new(reg, Arc::clone(&state), Limits { max_body_bytes: 16 * 1024 * 1024, ..Limits::default() });
        let app = axum::Router::new().route("/api/xmlrpc/", axum::routing::post(http)).with_state(ep);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake { state, addr }
    }

    /// An endpoint configuration pointing at this fake.
    pub fn endpoint(&self) -> MagentoEndpoint {
        MagentoEndpoint {
            kind: MagentoKind::Magento1,
            url: format!("http://{}/api/xmlrpc/", self.addr),
            api_user: USER.into(),
            api_key: Secret::new(KEY),
            concurrency: 2,
            batch_size: 25,
            multicall: MultiCallMode::Auto,
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            retries: 4,
        }
    }

    /// A client for this fake with millisecond backoff.
    pub fn client(&self) -> Magento1Client {
        self.client_with(|_| {})
    }

    /// A client for this fake, with endpoint settings changed by `f`.
    pub fn client_with(&self, f: impl FnOnce(&mut MagentoEndpoint)) -> Magento1Client {
        let mut ep = self.endpoint();
        f(&mut ep);
        Magento1Client::new(&ep).unwrap().with_backoff(Duration::from_millis(1), Duration::from_millis(5))
    }
}

// ---------------------------------------------------------------------------------------------
// Recordings

/// Path of a Magento 1 recording: `shared/` sits next to the repository (CI, main checkout)
/// or one level higher (a worktree under `wt/`).
pub fn recording_path(name: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = ["../shared/recordings/magento1", "../../shared/recordings/magento1"]
        .iter()
        .map(|d| root.join(d))
        .find(|d| d.is_dir())
        .unwrap_or_else(|| panic!("recordings not found next to {}", root.display()));
    dir.join(name)
}

/// The value (or fault) of a recorded response.
pub fn recorded_response(name: &str) -> Result<Value, Fault> {
    let text = std::fs::read_to_string(recording_path(&format!("{name}.response.xml"))).unwrap();
    match magento_connector::rpc::transport::decode_response(&text) {
        Ok(v) => Ok(v),
        Err(magento_connector::rpc::transport::DecodeFailure::Fault(f)) => Err(f),
        Err(e) => panic!("recording {name} does not decode: {e:?}"),
    }
}

/// The method name and parameters of a recorded request.
pub fn recorded_request(name: &str) -> (String, Vec<Value>) {
    let text = std::fs::read_to_string(recording_path(&format!("{name}.request.xml"))).unwrap();
    let call = dxr::MethodCall::from_xml(&text).unwrap();
    (call.name.into_owned(), call.params)
}

/// The `args` array of a recorded `call` request.
pub fn recorded_args(name: &str) -> Vec<Value> {
    let (method, params) = recorded_request(name);
    assert_eq!(method, "call", "{name} is not a call");
    match params.get(2) {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    }
}
