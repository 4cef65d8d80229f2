//! The HTTP side of the sandbox: axum on `/api/xmlrpc/` and `/index.php/api/xmlrpc/`, built on
//! the shared dispatcher's registry, guard and renderer with `FaultStyle::Zend`.
//!
//! This layer owns what happens per HTTP request: the body limit, Zend's protocol faults (GET or
//! empty → 630, DOCTYPE → 631, malformed → 632), the write-request accounting the deadlock
//! emulation needs, the [`Knobs`] latency and random injection, and the failures a client can
//! only see at the HTTP level (HTTP 500 with an empty body, a held request, a dropped
//! connection).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dxr::MethodCall;
use tokio::sync::watch;

use super::handler::{self, SandboxState, abort_kind};
use crate::rpc::Fault;
use crate::rpc::dispatch::{Call, FaultStyle, Limits, ProtocolError, Registry, RequestMeta, render};
use crate::rpc::guard::{self, Rejection};
use crate::sandbox::knobs::Inject;

/// Shared by every request.
pub(crate) struct App {
    /// Method table.
    pub registry: Arc<Registry<SandboxState>>,
    /// Handler state.
    pub state: Arc<SandboxState>,
    /// Body/depth/timeout limits.
    pub limits: Limits,
    /// Flips to `true` when the sandbox shuts down (ends held requests).
    pub shutdown: watch::Receiver<bool>,
}

/// The router.
pub(crate) fn router(app: Arc<App>) -> axum::Router {
    axum::Router::new()
        .route("/api/xmlrpc/", axum::routing::any(handle))
        .route("/api/xmlrpc", axum::routing::any(handle))
        .route("/index.php/api/xmlrpc/", axum::routing::any(handle))
        .route("/index.php/api/xmlrpc", axum::routing::any(handle))
        .with_state(app)
}

const STYLE: FaultStyle = FaultStyle::Zend;

/// Zend's spelling of what dxr writes differently: `<int>` (never `<i4>`), `<data/>` for an
/// empty array, and `'` unescaped (XMLWriter escapes `"` but not `'`). Literal tags cannot occur
/// inside values (text is escaped), so these replacements only touch markup.
fn zend_wire(text: String) -> String {
    if text.contains("<i4>") || text.contains("<data></data>") || text.contains("&apos;") {
        text.replace("<i4>", "<int>")
            .replace("</i4>", "</int>")
            .replace("<data></data>", "<data/>")
            .replace("&apos;", "'")
    } else {
        text
    }
}

fn xml(text: String) -> Response {
    let mut resp = Response::new(Body::from(zend_wire(text)));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=UTF-8"));
    resp
}

fn fault(f: Fault) -> Response {
    xml(render(STYLE, Err(f)))
}

/// A body that fails at once: hyper closes the connection before anything is written.
struct Broken;

impl http_body::Body for Broken {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "connection dropped by the sandbox",
        ))))
    }
}

fn dropped() -> Response {
    Response::new(Body::new(Broken))
}

fn http500() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/html; charset=UTF-8")], Body::empty())
        .into_response()
}

/// Holds the request for the knobs' hang time (or until shutdown), then drops it.
async fn hold(app: &App) -> Response {
    let mut shutdown = app.shutdown.clone();
    let hang = app.state.knobs.hang();
    tokio::select! {
        () = tokio::time::sleep(hang) => {}
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
    dropped()
}

async fn injected(app: &App, kind: Inject) -> Response {
    match kind {
        Inject::Http500 => http500(),
        Inject::Timeout | Inject::HoldAfter => hold(app).await,
        Inject::Drop => dropped(),
        Inject::Fault | Inject::Deadlock => fault(Fault::new(1, "Internal Error. Please see log for details.")),
    }
}

/// Decrements the write-request counter when the request ends (however it ends).
struct WriteGuard<'a>(&'a SandboxState, bool);

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        if self.1 {
            self.0.writes_in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

async fn handle(State(app): State<Arc<App>>, request: axum::extract::Request) -> Result<Response, Infallible> {
    let (parts, body) = request.into_parts();
    if parts.method != Method::POST {
        if let Some(kind) = app.state.knobs.before_request().await {
            return Ok(injected(&app, kind).await);
        }
        return Ok(fault(STYLE.fault(&ProtocolError::Rejected(Rejection::Empty))));
    }
    let too_large =
        || fault(STYLE.fault(&ProtocolError::Rejected(Rejection::TooLarge { limit: app.limits.max_body_bytes })));
    let bytes = match axum::body::to_bytes(body, app.limits.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return Ok(too_large()),
    };
    let parsed = guard::check(&bytes, app.limits.max_depth).map_err(ProtocolError::Rejected).and_then(|text| {
        MethodCall::from_xml(text).map_err(|_| {
            if text.contains("<methodName>") { ProtocolError::Malformed } else { ProtocolError::NoMethodName }
        })
    });
    let call = match parsed {
        Ok(c) => c,
        Err(e) => {
            if let Some(kind) = app.state.knobs.before_request().await {
                return Ok(injected(&app, kind).await);
            }
            return Ok(fault(STYLE.fault(&e)));
        }
    };
    let writes = handler::request_writes(&call.name, &call.params);
    if writes {
        app.state.writes_in_flight.fetch_add(1, Ordering::SeqCst);
    }
    let _guard = WriteGuard(&app.state, writes);
    let mut headers = parts.headers;
    headers.remove(handler::FORCED_DEADLOCK_HEADER);
    match app.state.knobs.before_request().await {
        // A random deadlock hits the request's first write call (reads never deadlock).
        Some(Inject::Deadlock) if writes => {
            headers.insert(handler::FORCED_DEADLOCK_HEADER, HeaderValue::from_static("1"));
        }
        Some(Inject::Deadlock) | None => {}
        Some(kind) => return Ok(injected(&app, kind).await),
    }
    let meta = RequestMeta { headers, peer: None, path: parts.uri.path().to_owned() };
    let call = Call { method: call.name.into_owned(), params: call.params, meta: Arc::new(meta) };
    let result = app.registry.dispatch(Arc::clone(&app.state), call, app.limits.timeout).await;
    if let Err(f) = &result
        && let Some(kind) = abort_kind(f)
    {
        return Ok(injected(&app, kind).await);
    }
    Ok(xml(app.state.rewrite(render(STYLE, result))))
}
