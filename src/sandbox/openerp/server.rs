//! The HTTP side: axum routes for `/xmlrpc/2/<service>` (integer faults) and the legacy
//! `/xmlrpc/<service>` (text faults), the `common`, `db` and `object` services, and the knobs
//! (latency, injected faults, HTTP 500, held and dropped connections, call counters).
//!
//! Requests go through our dispatcher ([`crate::rpc::dispatch`], `FaultStyle::Python`). The
//! object service runs each call as one transaction on the shared [`Db`]: rolled back on error,
//! kept when the method returned `None` (the client still gets fault 1, as from Odoo 17).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dxr::Value;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::error::{OResult, OdooError, Stage};
use super::orm::model::Ret;
use super::orm::{Ctx, Db, rpc};
use crate::rpc::Fault;
use crate::rpc::dispatch::{Call, Endpoint, FaultStyle, Limits, MethodResult, Registry, RequestMeta, render};
use crate::rpc::value::{self, Map};
use crate::sandbox::knobs::{Inject, Knobs};

/// `server_version` of the emulated server.
pub const SERVER_VERSION: &str = "17.0-20240709";

const REQUEST_HEADER: &str = "x-openerp-sandbox-request";

/// State shared by every request and by the test helpers.
pub struct Shared {
    /// The database.
    pub db: Mutex<Db>,
    /// Latency, injection and counters.
    pub knobs: Knobs,
    /// Database name (`connector` unless configured).
    pub db_name: String,
    /// `uid → password` of the users that can log in.
    pub passwords: HashMap<i64, String>,
    pending: Mutex<HashMap<u64, Inject>>,
    next_request: AtomicU64,
    /// Test-only replacements in the text of every answer.
    pub rewrites: Mutex<Vec<(String, String)>>,
}

impl Shared {
    /// Shared state around a filled database.
    pub fn new(db: Db, db_name: String, passwords: HashMap<i64, String>) -> Shared {
        Shared {
            db: Mutex::new(db),
            knobs: Knobs::default(),
            db_name,
            passwords,
            pending: Mutex::new(HashMap::new()),
            next_request: AtomicU64::new(1),
            rewrites: Mutex::new(Vec::new()),
        }
    }

    /// Locks the database.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn check_db(&self, db: &Value) -> OResult<()> {
        match db {
            Value::String(s) if *s == self.db_name => Ok(()),
            Value::String(s) => Err(OdooError::unknown_db(s)),
            other => {
                Err(OdooError::type_error(format!("expected a database name, not {}", super::error::py_repr(other))))
            }
        }
    }

    /// `res.users.check(db, uid, password)`.
    fn check_user(&self, uid: i64, password: &str) -> OResult<()> {
        if password.is_empty() {
            return Err(OdooError::AccessDenied);
        }
        let db = self.lock();
        if !db.exists("res.users", uid) {
            return Err(OdooError::missing("res.users", &[uid], uid));
        }
        let ctx = Ctx::user(uid).with_active_test(false);
        if !db.get_bool(&ctx, "res.users", uid, "active") {
            return Err(OdooError::AccessDenied);
        }
        match self.passwords.get(&uid) {
            Some(p) if crate::secret::constant_time_eq(p.as_bytes(), password.as_bytes()) => Ok(()),
            _ => Err(OdooError::AccessDenied),
        }
    }

    /// `common.authenticate` / `login`: the uid, or `None` for bad credentials.
    fn authenticate(&self, login: &str, password: &str) -> Option<i64> {
        let db = self.lock();
        let ctx = Ctx::user(1);
        let uid = db
            .search_one(
                &ctx,
                "res.users",
                &super::orm::domain::Domain::leaf("login", "=", Value::String(login.to_owned())),
            )
            .ok()
            .flatten()?;
        drop(db);
        self.check_user(uid, password).ok().map(|_| uid)
    }

    /// Runs one model method as user `uid` in its own transaction.
    pub fn execute(&self, uid: i64, model: &str, method: &str, args: Vec<Value>, kwargs: Map) -> OResult<Value> {
        if method.starts_with('_') {
            return Err(OdooError::Access(format!("Private methods (such as {method}) cannot be called remotely.")));
        }
        let mut kwargs = kwargs;
        let context = match kwargs.remove("context") {
            Some(Value::Struct(m)) => m,
            Some(Value::Nil) | Some(Value::Boolean(false)) | None => Map::new(),
            Some(other) => {
                return Err(OdooError::type_error(format!(
                    "context must be a dictionary, not {}",
                    super::error::py_repr(&other)
                )));
            }
        };
        let ctx = Ctx::from_map(uid, context);
        let mut db = self.lock();
        let def = db.def(model)?;
        if !rpc::has_method(&def, method) {
            return Err(OdooError::no_method(model, method));
        }
        db.begin();
        match rpc::call(&mut db, &ctx, model, method, args, kwargs) {
            Ok(Ret::Value(v)) => {
                db.commit();
                Ok(v)
            }
            Ok(Ret::None) => {
                db.commit();
                Err(OdooError::none_result())
            }
            Err(e) => {
                db.rollback();
                Err(e)
            }
        }
    }
}

fn int_param(v: Option<&Value>, name: &str) -> OResult<i64> {
    match v {
        Some(Value::Integer(i)) => Ok(i64::from(*i)),
        Some(Value::Long(i)) => Ok(*i),
        Some(Value::Boolean(b)) => Ok(i64::from(*b)),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| {
            OdooError::value(format!("invalid literal for int() with base 10: {}", super::error::py_str(s)))
        }),
        Some(other) => Err(OdooError::type_error(format!(
            "int() argument must be a string, a bytes-like object or a real number, not {}",
            super::error::py_repr(other)
        ))),
        None => Err(OdooError::type_error(format!("dispatch() missing 1 required positional argument: '{name}'"))),
    }
}

fn str_param<'a>(v: Option<&'a Value>, func: &str, name: &str) -> OResult<&'a str> {
    match v {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(OdooError::type_error(format!(
            "{func}() argument '{name}' must be str, not {}",
            super::error::py_repr(other)
        ))),
        None => Err(OdooError::type_error(format!("{func}() missing 1 required positional argument: '{name}'"))),
    }
}

fn version() -> Value {
    value::structure([
        ("server_version", Value::String(SERVER_VERSION.into())),
        (
            "server_version_info",
            Value::Array(vec![
                Value::Integer(17),
                Value::Integer(0),
                Value::Integer(0),
                Value::String("final".into()),
                Value::Integer(0),
                Value::String(String::new()),
            ]),
        ),
        ("server_serie", Value::String("17.0".into())),
        ("protocol_version", Value::Integer(1)),
    ])
}

/// The `common` service.
fn common(shared: &Shared, method: &str, p: &[Value]) -> OResult<Value> {
    match method {
        "version" => Ok(version()),
        "about" => {
            let info = Value::String("See http://openerp.com".into());
            if p.first().is_some_and(|v| value::to_bool("extended", v).unwrap_or(false)) {
                Ok(Value::Array(vec![info, Value::String(SERVER_VERSION.into())]))
            } else {
                Ok(info)
            }
        }
        "authenticate" | "login" => {
            let db = p.first().ok_or_else(|| {
                OdooError::type_error(format!("exp_{method}() missing 1 required positional argument: 'db'"))
            })?;
            shared.check_db(db)?;
            let login = str_param(p.get(1), &format!("exp_{method}"), "login")?;
            let password = str_param(p.get(2), &format!("exp_{method}"), "password")?;
            if method == "authenticate" && p.len() < 4 {
                return Err(OdooError::type_error(
                    "exp_authenticate() missing 1 required positional argument: 'user_agent_env'",
                ));
            }
            Ok(match shared.authenticate(login, password) {
                Some(uid) => rpc::wire_int(uid)?,
                None => Value::Boolean(false),
            })
        }
        _ => Err(OdooError::python("KeyError", format!("'exp_{method}'"))),
    }
}

/// The `db` service (read-only parts).
fn db_service(shared: &Shared, method: &str, p: &[Value]) -> OResult<Value> {
    match method {
        "list" => Ok(Value::Array(vec![Value::String(shared.db_name.clone())])),
        "server_version" => Ok(Value::String(SERVER_VERSION.into())),
        "db_exist" => Ok(Value::Boolean(matches!(p.first(), Some(Value::String(s)) if *s == shared.db_name))),
        "list_lang" => Ok(Value::Array(
            super::models::base::LANG_SELECTION
                .iter()
                .map(|(c, n)| Value::Array(vec![Value::String((*c).into()), Value::String((*n).into())]))
                .collect(),
        )),
        _ => Err(OdooError::python("KeyError", format!("'exp_{method}'"))),
    }
}

/// The `object` service: `execute_kw(db, uid, password, model, method, args[, kwargs])` and
/// `execute(db, uid, password, model, method, *args)`.
fn object(shared: &Shared, method: &str, p: &[Value]) -> OResult<Value> {
    shared.check_db(
        p.first().ok_or_else(|| OdooError::type_error("dispatch() missing 1 required positional argument: 'db'"))?,
    )?;
    let uid = int_param(p.get(1), "uid")?;
    let password = match p.get(2) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Boolean(false)) | Some(Value::Nil) | None => String::new(),
        Some(other) => super::error::py_repr(other),
    };
    shared.check_user(uid, &password)?;
    let model = str_param(p.get(3), method, "obj")?;
    let name = str_param(p.get(4), method, "method")?;
    let (args, kwargs) = match method {
        "execute_kw" => {
            let args = match p.get(5) {
                Some(Value::Array(a)) => a.clone(),
                Some(other) => {
                    return Err(OdooError::type_error(format!(
                        "execute() argument after * must be an iterable, not {}",
                        super::error::py_repr(other)
                    )));
                }
                None => {
                    return Err(OdooError::type_error("execute_kw() missing 1 required positional argument: 'args'"));
                }
            };
            let kwargs = match p.get(6) {
                Some(Value::Struct(m)) => m.clone(),
                None | Some(Value::Nil) | Some(Value::Boolean(false)) => Map::new(),
                Some(other) => {
                    return Err(OdooError::type_error(format!(
                        "execute() argument after ** must be a mapping, not {}",
                        super::error::py_repr(other)
                    )));
                }
            };
            if p.len() > 7 {
                return Err(OdooError::type_error(format!(
                    "execute_kw() takes from 6 to 7 positional arguments but {} were given",
                    p.len()
                )));
            }
            (args, kwargs)
        }
        "execute" => (p.get(5..).map(<[Value]>::to_vec).unwrap_or_default(), Map::new()),
        other => {
            return Err(OdooError::python("NameError", format!("Method not available {other}")));
        }
    };
    shared.execute(uid, model, name, args, kwargs)
}

/// One XML-RPC service as mounted on one path.
pub struct Service {
    shared: Arc<Shared>,
    name: &'static str,
    legacy: bool,
}

fn logical_name(service: &str, call: &Call) -> String {
    if service == "object" {
        if let (Some(Value::String(m)), Some(Value::String(f))) = (call.param(3), call.param(4)) {
            return format!("{m}.{f}");
        }
        return format!("object.{}", call.method);
    }
    format!("{service}.{}", call.method)
}

fn request_id(call: &Call) -> Option<u64> {
    call.meta.headers.get(REQUEST_HEADER)?.to_str().ok()?.parse().ok()
}

fn injected_error(inject: Inject) -> OdooError {
    match inject {
        Inject::Deadlock => OdooError::python(
            "psycopg2.errors.SerializationFailure",
            "could not serialize access due to concurrent update",
        ),
        _ => OdooError::python("Exception", "sandbox knob: injected fault"),
    }
}

async fn handle(svc: Arc<Service>, call: Call) -> MethodResult {
    let logical = logical_name(svc.name, &call);
    let matched: Vec<Value> = if svc.name == "object" {
        call.params.get(5..).map(<[Value]>::to_vec).unwrap_or_default()
    } else {
        call.params.clone()
    };
    let inject = svc.shared.knobs.on_call(&logical, &matched);
    let encode = |e: OdooError| {
        if svc.legacy { e.to_legacy_fault() } else { e.to_fault() }
    };
    match inject {
        Some(i @ (Inject::Fault | Inject::Deadlock)) => return Err(encode(injected_error(i))),
        Some(Inject::Http500) => {
            if let Some(id) = request_id(&call) {
                lock(&svc.shared.pending).insert(id, Inject::Http500);
            }
            return Err(encode(injected_error(Inject::Fault)));
        }
        _ => {}
    }
    let shared = Arc::clone(&svc.shared);
    let name = svc.name;
    let method = call.method.clone();
    let params = call.params.clone();
    let result = tokio::task::spawn_blocking(move || match name {
        "common" => common(&shared, &method, &params),
        "db" => db_service(&shared, &method, &params),
        _ => object(&shared, &method, &params),
    })
    .await
    .unwrap_or_else(|_| Err(OdooError::python("Exception", "internal error")));
    if let Some(i @ (Inject::Timeout | Inject::HoldAfter | Inject::Drop)) = inject
        && let Some(id) = request_id(&call)
    {
        let i = if i == Inject::HoldAfter { Inject::Timeout } else { i };
        lock(&svc.shared.pending).insert(id, i);
    }
    result.map_err(encode)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn registry(service: &'static str) -> Registry<Service> {
    let mut r = Registry::new(FaultStyle::Python);
    let methods: &[&str] = match service {
        "common" => &["version", "authenticate", "login", "about"],
        "db" => &["list", "server_version", "db_exist", "list_lang"],
        _ => &["execute_kw", "execute"],
    };
    for m in methods {
        r.method(m, "Odoo 17 external API", handle);
    }
    r
}

/// Per-connection information: the peer and a switch that drops the connection.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// Peer address.
    pub peer: SocketAddr,
    kill: Arc<AtomicBool>,
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, KillListener>> for ConnInfo {
    fn connect_info(stream: axum::serve::IncomingStream<'_, KillListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP listener whose connections can be dropped from a handler (the `Drop` knob).
pub struct KillListener {
    inner: TcpListener,
}

impl KillListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener) -> Self {
        KillListener { inner }
    }
}

impl axum::serve::Listener for KillListener {
    type Io = KillIo;
    type Addr = ConnInfo;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let kill = Arc::new(AtomicBool::new(false));
                    return (KillIo { inner: stream, kill: Arc::clone(&kill) }, ConnInfo { peer, kill });
                }
                Err(e) => {
                    tracing::debug!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(ConnInfo { peer: self.inner.local_addr()?, kill: Arc::new(AtomicBool::new(false)) })
    }
}

/// A TCP stream that fails every read and write once killed.
pub struct KillIo {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl AsyncRead for KillIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if self.kill.load(Ordering::Acquire) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if self.kill.load(Ordering::Acquire) {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "dropped by the sandbox",
            )));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The endpoints by (legacy?, service).
type Endpoints = HashMap<(bool, &'static str), Arc<Endpoint<Service>>>;

/// The axum application state.
#[derive(Clone)]
pub struct App {
    shared: Arc<Shared>,
    endpoints: Arc<Endpoints>,
    limits: Limits,
}

impl App {
    /// Builds the six endpoints (three services × two fault formats).
    pub fn new(shared: Arc<Shared>, limits: Limits) -> App {
        let mut endpoints = HashMap::new();
        for legacy in [false, true] {
            for name in ["common", "db", "object"] {
                let svc = Arc::new(Service { shared: Arc::clone(&shared), name, legacy });
                endpoints.insert((legacy, name), Endpoint::new(registry(name), svc, limits));
            }
        }
        App { shared, endpoints: Arc::new(endpoints), limits }
    }

    /// The router: `/xmlrpc/2/{service}` and `/xmlrpc/{service}`.
    pub fn router(self) -> axum::Router {
        axum::Router::new()
            .route("/xmlrpc/2/{service}", axum::routing::any(v2))
            .route("/xmlrpc/{service}", axum::routing::any(legacy))
            .with_state(self)
    }
}

fn xml(text: String) -> Response {
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"));
    resp.headers_mut()
        .insert(header::SERVER, HeaderValue::from_static("Werkzeug/2.2.2 Python/3.11.7 (magento-connector sandbox)"));
    resp
}

fn fault_response(legacy: bool, e: &OdooError) -> Response {
    let f: Fault = if legacy { e.to_legacy_fault() } else { e.to_fault() };
    xml(render(FaultStyle::Python, Err(f)))
}

async fn v2(
    State(app): State<App>,
    ConnectInfo(conn): ConnectInfo<ConnInfo>,
    axum::extract::Path(service): axum::extract::Path<String>,
    request: axum::extract::Request,
) -> Response {
    serve(app, conn, service, false, request).await
}

async fn legacy(
    State(app): State<App>,
    ConnectInfo(conn): ConnectInfo<ConnInfo>,
    axum::extract::Path(service): axum::extract::Path<String>,
    request: axum::extract::Request,
) -> Response {
    serve(app, conn, service, true, request).await
}

/// The dispatcher answers protocol errors (unparsable body, unknown method) with fault 1; on
/// the legacy endpoint Odoo sends those as text codes too (the message as code, the traceback
/// as string). Our own handlers already answer with text codes there.
fn legacy_protocol_fault(text: String) -> String {
    match crate::rpc::transport::decode_response(&text) {
        Err(crate::rpc::transport::DecodeFailure::Fault(f)) if f.text_code.is_none() => {
            let line = f.message.lines().rev().find(|l| l.contains(": ") && !l.starts_with(' ')).unwrap_or_default();
            let message = line.split_once(": ").map_or(line, |(_, m)| m).to_owned();
            render(FaultStyle::Python, Err(Fault::with_text_code(message, f.message)))
        }
        _ => text,
    }
}

const METHOD_NOT_ALLOWED: &str = "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n";

async fn serve(app: App, conn: ConnInfo, service: String, legacy: bool, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.method != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST"), (header::CONTENT_TYPE, "text/html; charset=utf-8")],
            METHOD_NOT_ALLOWED,
        )
            .into_response();
    }
    let knobs = &app.shared.knobs;
    match knobs.before_request().await {
        Some(Inject::Http500) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, Body::empty()).into_response();
        }
        Some(Inject::Drop) => {
            conn.kill.store(true, Ordering::Release);
            return (StatusCode::INTERNAL_SERVER_ERROR, Body::empty()).into_response();
        }
        Some(Inject::Timeout | Inject::HoldAfter) => tokio::time::sleep(knobs.hang()).await,
        Some(i @ (Inject::Fault | Inject::Deadlock)) => {
            return fault_response(legacy, &injected_error(i));
        }
        None => {}
    }
    let Some(endpoint) = app.endpoints.get(&(legacy, service.as_str())).cloned() else {
        let e = OdooError::Python {
            class: "KeyError".into(),
            message: format!("'{service}'"),
            detail: String::new(),
            stage: Stage::Service,
        };
        return fault_response(legacy, &e);
    };
    let bytes: Bytes = match axum::body::to_bytes(body, app.limits.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return fault_response(
                legacy,
                &OdooError::python(
                    "xml.parsers.expat.ExpatError",
                    format!("request body over {} bytes", app.limits.max_body_bytes),
                ),
            );
        }
    };
    let id = app.shared.next_request.fetch_add(1, Ordering::Relaxed);
    let mut headers = parts.headers;
    headers.insert(REQUEST_HEADER, HeaderValue::from(id));
    let meta = RequestMeta { headers, peer: Some(conn.peer), path: parts.uri.path().to_owned() };
    let mut text = endpoint.handle(meta, &bytes).await;
    if legacy {
        text = legacy_protocol_fault(text);
    }
    for (from, to) in lock(&app.shared.rewrites).iter() {
        if text.contains(from.as_str()) {
            text = text.replace(from.as_str(), to);
        }
    }
    let pending = lock(&app.shared.pending).remove(&id);
    match pending {
        Some(Inject::Http500) => (StatusCode::INTERNAL_SERVER_ERROR, Body::empty()).into_response(),
        Some(Inject::Drop) => {
            conn.kill.store(true, Ordering::Release);
            (StatusCode::INTERNAL_SERVER_ERROR, Body::empty()).into_response()
        }
        Some(Inject::Timeout) => {
            tokio::time::sleep(knobs.hang()).await;
            xml(text)
        }
        _ => xml(text),
    }
}
