//! Our own XML-RPC dispatcher on dxr's types, shared by the connector server and both sandboxes.
//!
//! dxr's `RouteBuilder` echoes the whole request into parse faults and hard-codes its fault
//! codes, so this module does the HTTP side itself: it reads the body under a size limit, runs
//! the [`guard`](super::guard) checks, parses with `dxr::MethodCall`, dispatches through a
//! method table, and writes the response with the XML declaration and content type of the peer
//! being served. Protocol-level faults (empty body, malformed XML, unknown method, timeout) are
//! mapped by a [`FaultStyle`] so the Magento sandbox answers with Zend's codes (630/631/632/620),
//! the OpenERP sandbox like Odoo, and the connector with the interoperability codes.
//!
//! Each call runs in its own task (a panic becomes an internal fault and the server keeps
//! serving) under a timeout, inside one `tracing` span. Parameters are never logged.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dxr::{MethodCall, MethodResponse, Value};
use tracing::Instrument;

use super::fault::Fault;
use super::guard::{self, Rejection};
use super::value;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What a method handler returns.
pub type MethodResult = Result<Value, Fault>;

type Handler<S> = Arc<dyn Fn(Arc<S>, Call) -> BoxFuture<MethodResult> + Send + Sync>;
type Authorizer = Arc<dyn Fn(&RequestMeta) -> Result<(), Fault> + Send + Sync>;

/// Request-level facts a handler may need (never the body).
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// HTTP headers of the request.
    pub headers: HeaderMap,
    /// Peer address, when known.
    pub peer: Option<SocketAddr>,
    /// Request path (`/RPC2`, `/api/xmlrpc/`, `/xmlrpc/2/object`, ...).
    pub path: String,
}

/// One method invocation: its positional parameters and the request it came in.
#[derive(Debug, Clone)]
pub struct Call {
    /// Method name as sent.
    pub method: String,
    /// Positional parameters.
    pub params: Vec<Value>,
    /// Request facts.
    pub meta: Arc<RequestMeta>,
}

impl Call {
    /// Parameter `i`, if present.
    pub fn param(&self, i: usize) -> Option<&Value> {
        self.params.get(i)
    }
}

/// Faults raised by the protocol layer rather than by a method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// Body refused before parsing.
    Rejected(Rejection),
    /// XML that does not parse as a methodCall.
    Malformed,
    /// No `<methodName>`.
    NoMethodName,
    /// Method not in the table.
    UnknownMethod(String),
    /// The call ran past the per-request timeout.
    Timeout(Duration),
    /// The handler panicked or was aborted.
    Internal,
    /// `system.multicall` inside `system.multicall`, or a malformed multicall entry.
    BadMulticall(String),
}

/// How protocol-level faults and the response envelope look for one kind of server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultStyle {
    /// The connector's own server: interoperability codes (-32700 parse, -32600 invalid request,
    /// -32601 unknown method, -32602 bad params, -32603 internal), 413 too large, 408 timeout.
    Connector,
    /// Zend_XmlRpc_Server as in Magento 1: 630 unreadable, 631 parse/DOCTYPE, 632 no method
    /// name or malformed, 620 unknown method.
    Zend,
    /// Python/Odoo: everything is fault 1 with a traceback-like last line; GET gives 405.
    Python,
}

impl FaultStyle {
    /// Maps a protocol error to the fault this kind of server sends.
    pub fn fault(self, e: &ProtocolError) -> Fault {
        match self {
            FaultStyle::Connector => match e {
                ProtocolError::Rejected(Rejection::TooLarge { limit }) => {
                    Fault::new(413, format!("request too large: the limit is {limit} bytes"))
                }
                ProtocolError::Rejected(Rejection::Empty) => Fault::new(-32600, "invalid request: empty body"),
                ProtocolError::Rejected(r) => Fault::new(-32700, format!("parse error: {r}")),
                ProtocolError::Malformed => Fault::new(-32700, "parse error: not a well-formed XML-RPC methodCall"),
                ProtocolError::NoMethodName => Fault::new(-32600, "invalid request: no methodName"),
                ProtocolError::UnknownMethod(m) => {
                    Fault::new(-32601, format!("unknown method {:?}", value::truncate(m, 80)))
                }
                ProtocolError::Timeout(d) => Fault::new(408, format!("request timed out after {} s", d.as_secs())),
                ProtocolError::Internal => Fault::new(-32603, "internal error (see the server log)"),
                ProtocolError::BadMulticall(m) => Fault::new(-32602, format!("system.multicall: {m}")),
            },
            FaultStyle::Zend => match e {
                ProtocolError::Rejected(Rejection::Empty) => Fault::new(630, "Unable to read request"),
                ProtocolError::Rejected(Rejection::Doctype | Rejection::NotUtf8 | Rejection::TooDeep { .. }) => {
                    Fault::new(631, "Failed to parse request")
                }
                ProtocolError::Rejected(Rejection::TooLarge { .. }) => Fault::new(630, "Unable to read request"),
                ProtocolError::Rejected(Rejection::Malformed)
                | ProtocolError::Malformed
                | ProtocolError::NoMethodName => {
                    Fault::new(632, "Invalid request, no method passed; request must contain a 'methodName' tag")
                }
                ProtocolError::UnknownMethod(m) => {
                    Fault::new(620, format!("Method \"{}\" does not exist", value::truncate(m, 80)))
                }
                ProtocolError::Timeout(_) | ProtocolError::Internal => {
                    Fault::new(1, "Internal Error. Please see log for details.")
                }
                ProtocolError::BadMulticall(m) => {
                    Fault::new(623, format!("Calling parameters do not match signature: {m}"))
                }
            },
            FaultStyle::Python => {
                let last = match e {
                    ProtocolError::Rejected(r) => format!("xml.parsers.expat.ExpatError: {r}"),
                    ProtocolError::Malformed | ProtocolError::NoMethodName => {
                        "xml.parsers.expat.ExpatError: no element found: line 1, column 0".to_owned()
                    }
                    ProtocolError::UnknownMethod(m) => {
                        format!("NameError: Method not available {}", value::truncate(m, 80))
                    }
                    ProtocolError::Timeout(d) => format!("TimeoutError: request exceeded {} s", d.as_secs()),
                    ProtocolError::Internal => "Exception: internal error".to_owned(),
                    ProtocolError::BadMulticall(m) => format!("TypeError: {m}"),
                };
                Fault::new(
                    1,
                    format!("Traceback (most recent call last):\n  File \"<sandbox>\", line 1, in dispatch\n{last}\n"),
                )
            }
        }
    }

    fn declaration(self) -> &'static str {
        match self {
            FaultStyle::Python => "<?xml version='1.0'?>\n",
            FaultStyle::Connector | FaultStyle::Zend => "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            FaultStyle::Python => "text/xml; charset=utf-8",
            FaultStyle::Connector | FaultStyle::Zend => "text/xml; charset=UTF-8",
        }
    }
}

/// Limits applied to every request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted body, in bytes.
    pub max_body_bytes: usize,
    /// Deepest accepted element nesting.
    pub max_depth: usize,
    /// Longest a single call may run.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_body_bytes: 4 * 1024 * 1024, max_depth: 128, timeout: Duration::from_secs(60) }
    }
}

struct Entry<S> {
    help: String,
    handler: Handler<S>,
}

/// The method table of one XML-RPC endpoint, with its fault style and optional authorizer.
///
/// Adding a method is one line: `registry.method("runs.get", "help text", handlers::runs_get)`
/// where the handler is `async fn(Arc<S>, Call) -> MethodResult`.
pub struct Registry<S> {
    methods: BTreeMap<String, Entry<S>>,
    style: FaultStyle,
    authorizer: Option<Authorizer>,
    system_methods: bool,
}

impl<S: Send + Sync + 'static> Registry<S> {
    /// Empty table answering protocol faults in `style`. `system.*` methods are on for the
    /// Connector and Zend styles, off for Python (Odoo has none).
    pub fn new(style: FaultStyle) -> Self {
        Registry { methods: BTreeMap::new(), style, authorizer: None, system_methods: style != FaultStyle::Python }
    }

    /// The fault style of this table.
    pub fn style(&self) -> FaultStyle {
        self.style
    }

    /// Registers `name` with its help text and handler (replacing any previous one).
    pub fn method<F, Fut>(&mut self, name: &str, help: &str, handler: F) -> &mut Self
    where
        F: Fn(Arc<S>, Call) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = MethodResult> + Send + 'static,
    {
        let handler: Handler<S> = Arc::new(move |s, c| Box::pin(handler(s, c)));
        self.methods.insert(name.to_owned(), Entry { help: help.to_owned(), handler });
        self
    }

    /// Checks every request (e.g. a bearer token) before any method runs, `system.*` included.
    pub fn authorize(&mut self, f: impl Fn(&RequestMeta) -> Result<(), Fault> + Send + Sync + 'static) -> &mut Self {
        self.authorizer = Some(Arc::new(f));
        self
    }

    /// Names of the registered methods (without `system.*`), sorted.
    pub fn method_names(&self) -> Vec<String> {
        self.methods.keys().cloned().collect()
    }

    /// Calls one method by name (used by the HTTP handler and `system.multicall`).
    pub async fn dispatch(self: &Arc<Self>, state: Arc<S>, call: Call, timeout: Duration) -> MethodResult {
        let span = tracing::info_span!("rpc", method = %value::truncate(&call.method, 80));
        let started = Instant::now();
        let result = self.dispatch_inner(state, call, timeout, 0).instrument(span.clone()).await;
        span.in_scope(|| match &result {
            Ok(_) => tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "call done"),
            Err(f) => tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                fault = f.code,
                "call answered with a fault: {}",
                value::truncate(&f.message, 200)
            ),
        });
        result
    }

    fn dispatch_inner(
        self: &Arc<Self>,
        state: Arc<S>,
        call: Call,
        timeout: Duration,
        depth: u8,
    ) -> BoxFuture<MethodResult> {
        let this = Arc::clone(self);
        Box::pin(async move {
            if this.system_methods {
                match call.method.as_str() {
                    "system.listMethods" => return Ok(this.list_methods()),
                    "system.methodHelp" => return this.method_help(&call),
                    "system.methodSignature" => return Ok(value::string("undef")),
                    "system.multicall" => {
                        if depth > 0 {
                            return Err(this
                                .style
                                .fault(&ProtocolError::BadMulticall("nested system.multicall".into())));
                        }
                        return this.multicall(state, call, timeout).await;
                    }
                    _ => {}
                }
            }
            let Some(entry) = this.methods.get(&call.method) else {
                return Err(this.style.fault(&ProtocolError::UnknownMethod(call.method.clone())));
            };
            let fut = (entry.handler)(state, call);
            let task = tokio::spawn(fut);
            let abort = task.abort_handle();
            match tokio::time::timeout(timeout, task).await {
                Ok(Ok(result)) => result,
                Ok(Err(join_error)) => {
                    if join_error.is_panic() {
                        tracing::error!("method handler panicked");
                    }
                    Err(this.style.fault(&ProtocolError::Internal))
                }
                Err(_) => {
                    abort.abort();
                    Err(this.style.fault(&ProtocolError::Timeout(timeout)))
                }
            }
        })
    }

    fn list_methods(&self) -> Value {
        let mut names = self.method_names();
        for s in ["system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall"] {
            names.push(s.to_owned());
        }
        names.sort();
        value::array(names.into_iter().map(value::string))
    }

    fn method_help(&self, call: &Call) -> MethodResult {
        let name = match call.param(0) {
            Some(Value::String(s)) => s.as_str(),
            _ => return Err(self.bad_params("system.methodHelp(name): name must be a string")),
        };
        match name {
            "system.listMethods" => Ok(value::string("Lists the methods this server offers.")),
            "system.methodHelp" => Ok(value::string("Returns the help text of a method.")),
            "system.methodSignature" => Ok(value::string("Signatures are not published; see system.methodHelp.")),
            "system.multicall" => Ok(value::string(
                "Runs several calls in one request: [{methodName, params}] -> [[result] or {faultCode, faultString}].",
            )),
            _ => self
                .methods
                .get(name)
                .map(|e| value::string(e.help.clone()))
                .ok_or_else(|| self.style.fault(&ProtocolError::UnknownMethod(name.to_owned()))),
        }
    }

    fn bad_params(&self, msg: &str) -> Fault {
        match self.style {
            FaultStyle::Connector => Fault::new(-32602, msg),
            FaultStyle::Zend => Fault::new(623, "Calling parameters do not match signature"),
            FaultStyle::Python => Fault::new(1, format!("TypeError: {msg}")),
        }
    }

    async fn multicall(self: &Arc<Self>, state: Arc<S>, call: Call, timeout: Duration) -> MethodResult {
        let Some(Value::Array(entries)) = call.params.first() else {
            return Err(self.bad_params("system.multicall takes one array of {methodName, params} structs"));
        };
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            let parsed = match entry {
                Value::Struct(m) => match (m.get("methodName"), m.get("params")) {
                    (Some(Value::String(name)), Some(Value::Array(params))) => Some((name.clone(), params.clone())),
                    (Some(Value::String(name)), None) => Some((name.clone(), Vec::new())),
                    _ => None,
                },
                _ => None,
            };
            let result = match parsed {
                Some((method, params)) => {
                    let sub = Call { method, params, meta: Arc::clone(&call.meta) };
                    self.dispatch_inner(Arc::clone(&state), sub, timeout, 1).await
                }
                None => Err(self.style.fault(&ProtocolError::BadMulticall(
                    "each entry must be a struct {methodName: string, params: array}".into(),
                ))),
            };
            out.push(match result {
                Ok(v) => value::array([v]),
                Err(f) => f.to_value(),
            });
        }
        Ok(Value::Array(out))
    }
}

/// One XML-RPC endpoint: a method table, the state its handlers share, and the limits.
pub struct Endpoint<S> {
    registry: Arc<Registry<S>>,
    state: Arc<S>,
    limits: Limits,
}

impl<S: Send + Sync + 'static> Endpoint<S> {
    /// Builds an endpoint.
    pub fn new(registry: Registry<S>, state: Arc<S>, limits: Limits) -> Arc<Self> {
        Arc::new(Endpoint { registry: Arc::new(registry), state, limits })
    }

    /// The shared state.
    pub fn state(&self) -> &Arc<S> {
        &self.state
    }

    /// The method table.
    pub fn registry(&self) -> &Arc<Registry<S>> {
        &self.registry
    }

    /// Handles one raw request body and returns the XML response text (faults included).
    pub async fn handle(&self, meta: RequestMeta, body: &[u8]) -> String {
        let style = self.registry.style;
        let result = self.process(meta, body).await;
        render(style, result)
    }

    async fn process(&self, meta: RequestMeta, body: &[u8]) -> MethodResult {
        let style = self.registry.style;
        if body.len() > self.limits.max_body_bytes {
            return Err(
                style.fault(&ProtocolError::Rejected(Rejection::TooLarge { limit: self.limits.max_body_bytes }))
            );
        }
        let text = guard::check(body, self.limits.max_depth).map_err(|r| style.fault(&ProtocolError::Rejected(r)))?;
        let call = match MethodCall::from_xml(text) {
            Ok(c) => c,
            Err(_) => {
                let e =
                    if text.contains("<methodName>") { ProtocolError::Malformed } else { ProtocolError::NoMethodName };
                return Err(style.fault(&e));
            }
        };
        if let Some(auth) = &self.registry.authorizer {
            auth(&meta)?;
        }
        let call = Call { method: call.name.into_owned(), params: call.params, meta: Arc::new(meta) };
        self.registry.dispatch(Arc::clone(&self.state), call, self.limits.timeout).await
    }

    /// axum handler for this endpoint: POST carries calls; other methods get the style's answer.
    pub async fn axum_handler(State(endpoint): State<Arc<Self>>, request: axum::extract::Request) -> Response {
        let (parts, body) = request.into_parts();
        let connect = parts.extensions.get::<ConnectInfo<SocketAddr>>().cloned();
        let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
        let style = endpoint.registry.style;
        if method != Method::POST {
            return match style {
                FaultStyle::Zend => {
                    xml_response(style, render(style, Err(style.fault(&ProtocolError::Rejected(Rejection::Empty)))))
                }
                _ => (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")], "XML-RPC endpoint: use POST\n")
                    .into_response(),
            };
        }
        let limit = endpoint.limits.max_body_bytes;
        let declared =
            headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        let bytes: Bytes = match read_body(body, declared, limit, endpoint.limits.timeout).await {
            Ok(b) => b,
            // `Unreadable`: the client is gone; the answer only closes the exchange.
            Err(BodyError::TooLarge | BodyError::Unreadable) => {
                let fault = style.fault(&ProtocolError::Rejected(Rejection::TooLarge { limit }));
                return xml_response(style, render(style, Err(fault)));
            }
        };
        let meta = RequestMeta { headers, peer: connect.map(|c| c.0), path: uri.path().to_owned() };
        let text = endpoint.handle(meta, &bytes).await;
        xml_response(style, text)
    }

    /// An axum `MethodRouter` serving this endpoint (mount it on one or more paths).
    pub fn route(self: &Arc<Self>) -> axum::routing::MethodRouter {
        axum::routing::any(Self::axum_handler).with_state(Arc::clone(self))
    }
}

/// Most bytes read and thrown away after a request body went over the limit.
///
/// A client that sends its whole request before reading the answer (Python's
/// `xmlrpc.client`, the addon's client) sees a reset connection instead of the size fault when
/// the server answers early and closes with unread data, so an oversized body is read to its
/// end, up to this much more (and within the request timeout), before the fault is sent.
/// Past that the fault is sent at once and the connection closed.
pub const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Why a request body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Over the limit (the rest was drained as far as [`DRAIN_LIMIT`] allows).
    TooLarge,
    /// The client went away or sent a broken body.
    Unreadable,
}

/// Reads a request body of at most `limit` bytes (`declared`: its `Content-Length`, if any).
///
/// An oversized body is drained (see [`DRAIN_LIMIT`]) within `deadline` before
/// `Err(BodyError::TooLarge)` is returned, so that the answer reaches clients that only read
/// once they have sent everything.
pub async fn read_body(
    body: Body,
    declared: Option<usize>,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, BodyError> {
    use futures_util::StreamExt;

    let mut stream = body.into_data_stream();
    let drain_all = |mut stream: axum::body::BodyDataStream, seen: usize| async move {
        let mut drained = seen;
        let drain = async {
            while drained <= limit.saturating_add(DRAIN_LIMIT) {
                match stream.next().await {
                    Some(Ok(chunk)) => drained += chunk.len(),
                    _ => break,
                }
            }
        };
        // Past the deadline the connection is closed with the rest unread.
        let _ = tokio::time::timeout(deadline, drain).await;
    };
    if let Some(len) = declared
        && len > limit
    {
        if len <= limit.saturating_add(DRAIN_LIMIT) {
            drain_all(stream, 0).await;
        }
        return Err(BodyError::TooLarge);
    }
    let mut buf: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if buf.len() + chunk.len() > limit {
            drain_all(stream, buf.len() + chunk.len()).await;
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

fn xml_response(style: FaultStyle, text: String) -> Response {
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(style.content_type()));
    resp
}

/// Renders a method result (or fault) as a complete XML-RPC response document.
pub fn render(style: FaultStyle, result: MethodResult) -> String {
    let mut out = String::from(style.declaration());
    match result {
        Ok(mut v) => {
            value::strip_control_chars(&mut v);
            match (MethodResponse { value: v }).to_xml() {
                Ok(xml) => out.push_str(&xml),
                Err(_) => return render(style, Err(style.fault(&ProtocolError::Internal))),
            }
        }
        Err(f) => {
            let mut v = f.to_value();
            value::strip_control_chars(&mut v);
            out.push_str("<methodResponse><fault>");
            out.push_str(&v.to_xml().unwrap_or_default());
            out.push_str("</fault></methodResponse>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct St;

    async fn echo(_: Arc<St>, call: Call) -> MethodResult {
        Ok(value::array(call.params))
    }

    async fn boom(_: Arc<St>, _: Call) -> MethodResult {
        panic!("handler bug")
    }

    async fn slow(_: Arc<St>, _: Call) -> MethodResult {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(value::boolean(true))
    }

    fn endpoint(style: FaultStyle) -> Arc<Endpoint<St>> {
        let mut r = Registry::new(style);
        r.method("echo", "Returns its parameters.", echo)
            .method("boom", "Panics.", boom)
            .method("slow", "Sleeps.", slow);
        let limits = Limits { max_body_bytes: 2048, max_depth: 32, timeout: Duration::from_millis(200) };
        Endpoint::new(r, Arc::new(St), limits)
    }

    fn call_xml(name: &str, params: &str) -> String {
        format!(
            "<?xml version='1.0'?><methodCall><methodName>{name}</methodName><params>{params}</params></methodCall>"
        )
    }

    fn fault_code(xml: &str) -> i32 {
        let start = xml.find("<fault>").expect("a fault") + 7;
        let end = xml.rfind("</fault>").unwrap();
        let v = Value::from_xml(&xml[start..end]).unwrap();
        match v {
            Value::Struct(m) => Fault::from_map(&m).unwrap().code,
            _ => panic!("bad fault"),
        }
    }

    #[tokio::test]
    async fn echo_round_trips_with_declaration() {
        let ep = endpoint(FaultStyle::Connector);
        let out = ep
            .handle(RequestMeta::default(), call_xml("echo", "<param><value><int>7</int></value></param>").as_bytes())
            .await;
        assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse>"));
        let resp = MethodResponse::from_xml(out.trim_start_matches(FaultStyle::Connector.declaration())).unwrap();
        assert_eq!(resp.value, value::array([value::int(7)]));
    }

    #[tokio::test]
    async fn protocol_faults_follow_the_style() {
        let cases: &[(&[u8], i32, i32)] = &[
            (b"", -32600, 630),
            (b"<?xml version=\"1.0\"?><methodCall><methodName>login</methodName><params>", -32700, 632),
            (b"<!DOCTYPE x><methodCall/>", -32700, 631),
            (b"<methodCall><params/></methodCall>", -32600, 632),
        ];
        for (body, connector, zend) in cases {
            assert_eq!(
                fault_code(&endpoint(FaultStyle::Connector).handle(RequestMeta::default(), body).await),
                *connector
            );
            assert_eq!(fault_code(&endpoint(FaultStyle::Zend).handle(RequestMeta::default(), body).await), *zend);
            assert_eq!(fault_code(&endpoint(FaultStyle::Python).handle(RequestMeta::default(), body).await), 1);
        }
        let unknown = call_xml("nope", "");
        assert_eq!(
            fault_code(&endpoint(FaultStyle::Connector).handle(RequestMeta::default(), unknown.as_bytes()).await),
            -32601
        );
        assert_eq!(
            fault_code(&endpoint(FaultStyle::Zend).handle(RequestMeta::default(), unknown.as_bytes()).await),
            620
        );
    }

    #[tokio::test]
    async fn oversized_and_deep_bodies_are_faults_without_echo() {
        let ep = endpoint(FaultStyle::Connector);
        let big = call_xml("echo", &"<param><value><string>secret-payload</string></value></param>".repeat(100));
        let out = ep.handle(RequestMeta::default(), big.as_bytes()).await;
        assert_eq!(fault_code(&out), 413);
        assert!(!out.contains("secret-payload"));
        let deep = call_xml(
            "echo",
            &format!("<param>{}{}</param>", "<value><array><data>".repeat(12), "</data></array></value>".repeat(12)),
        );
        assert_eq!(fault_code(&ep.handle(RequestMeta::default(), deep.as_bytes()).await), -32700);
    }

    #[tokio::test]
    async fn a_panicking_handler_is_an_internal_fault_and_a_slow_one_times_out() {
        let ep = endpoint(FaultStyle::Connector);
        assert_eq!(fault_code(&ep.handle(RequestMeta::default(), call_xml("boom", "").as_bytes()).await), -32603);
        assert_eq!(fault_code(&ep.handle(RequestMeta::default(), call_xml("slow", "").as_bytes()).await), 408);
        let out = ep.handle(RequestMeta::default(), call_xml("echo", "").as_bytes()).await;
        assert!(out.contains("<array><data></data></array>"), "{out}");
    }

    #[tokio::test]
    async fn system_methods_and_multicall() {
        let ep = endpoint(FaultStyle::Connector);
        let out = ep.handle(RequestMeta::default(), call_xml("system.listMethods", "").as_bytes()).await;
        assert!(out.contains("<string>echo</string>") && out.contains("system.multicall"));
        let mc = "<param><value><array><data>\
            <value><struct><member><name>methodName</name><value><string>echo</string></value></member>\
            <member><name>params</name><value><array><data><value><int>1</int></value></data></array></value></member></struct></value>\
            <value><struct><member><name>methodName</name><value><string>nope</string></value></member>\
            <member><name>params</name><value><array><data></data></array></value></member></struct></value>\
            <value><struct><member><name>methodName</name><value><string>system.multicall</string></value></member>\
            <member><name>params</name><value><array><data></data></array></value></member></struct></value>\
            </data></array></value></param>";
        let out = ep.handle(RequestMeta::default(), call_xml("system.multicall", mc).as_bytes()).await;
        let resp = MethodResponse::from_xml(out.trim_start_matches(FaultStyle::Connector.declaration())).unwrap();
        let Value::Array(items) = resp.value else { panic!() };
        assert_eq!(items[0], value::array([value::array([value::int(1)])]));
        assert_eq!(
            Fault::from_map(match &items[1] {
                Value::Struct(m) => m,
                _ => panic!(),
            })
            .unwrap()
            .code,
            -32601
        );
        assert_eq!(
            Fault::from_map(match &items[2] {
                Value::Struct(m) => m,
                _ => panic!(),
            })
            .unwrap()
            .code,
            -32602
        );
        let help = ep
            .handle(
                RequestMeta::default(),
                call_xml("system.methodHelp", "<param><value><string>echo</string></value></param>").as_bytes(),
            )
            .await;
        assert!(help.contains("Returns its parameters."));
    }

    #[tokio::test]
    async fn authorizer_runs_before_every_method() {
        let mut r = Registry::<St>::new(FaultStyle::Connector);
        r.method("echo", "", echo).authorize(|m| {
            if m.headers.get("authorization").is_some() { Ok(()) } else { Err(Fault::new(401, "missing token")) }
        });
        let ep = Endpoint::new(r, Arc::new(St), Limits::default());
        assert_eq!(
            fault_code(&ep.handle(RequestMeta::default(), call_xml("system.listMethods", "").as_bytes()).await),
            401
        );
        let mut meta = RequestMeta::default();
        meta.headers.insert("authorization", HeaderValue::from_static("Bearer x"));
        assert!(!ep.handle(meta, call_xml("echo", "").as_bytes()).await.contains("<fault>"));
    }

    #[tokio::test]
    async fn bodies_are_read_up_to_the_limit_and_oversized_ones_drained() {
        let t = Duration::from_secs(5);
        assert_eq!(read_body(Body::from(vec![b'a'; 10]), Some(10), 10, t).await, Ok(Bytes::from(vec![b'a'; 10])));
        assert_eq!(read_body(Body::from(vec![b'a'; 10]), None, 10, t).await, Ok(Bytes::from(vec![b'a'; 10])));
        assert_eq!(read_body(Body::from(vec![b'a'; 11]), None, 10, t).await, Err(BodyError::TooLarge));
        assert_eq!(read_body(Body::from(vec![b'a'; 11]), Some(11), 10, t).await, Err(BodyError::TooLarge));
        // A declared length past what may be drained is refused without reading.
        let huge = Some(10 + DRAIN_LIMIT + 1);
        assert_eq!(read_body(Body::from(vec![b'a'; 11]), huge, 10, t).await, Err(BodyError::TooLarge));
    }

    #[tokio::test]
    async fn text_fault_codes_are_encoded_as_strings() {
        let out = render(FaultStyle::Python, Err(Fault::with_text_code("AccessDenied", "Access Denied")));
        assert!(out.contains("<name>faultCode</name><value><string>AccessDenied</string></value>"), "{out}");
    }
}
