//! The connector's XML-RPC server (protocol in `docs/PROTOCOL.md`).
//!
//! * [`methods`]: one module per namespace (`connector`, `runs`, `catalog`, `stock`, `orders`,
//!   `taxes`, `magento`, `bindings`); registering a method is one line in its module's
//!   `register` plus the handler.
//! * [`runs`]: the run machinery (jobs with progress, cancellation, recovery).
//! * [`jobs`]: job kinds, options and the [`JobExecutor`] seam the sync jobs implement.
//! * [`backends`]: the [`Backends`] seam for synchronous calls to the peers.
//! * [`auth`]: the bearer-token check.
//!
//! This module builds the axum app (`POST /RPC2`, `/`, `/xmlrpc`; `GET /health`) on
//! [`crate::rpc::dispatch`] and serves it with graceful shutdown. It does no Magento or OpenERP
//! I/O itself: that goes through the two seams in [`Services`].

pub mod auth;
pub mod backends;
pub mod jobs;
pub mod methods;
pub mod runs;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use std::borrow::Cow;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use backends::{Backends, UnwiredBackends};
pub use jobs::{JobError, JobExecutor, JobKind, JobOptions, Summary, UnwiredExecutor};
pub use runs::{RunContext, RunManager, RunSettings};

use crate::config::Config;
use crate::rpc::{Endpoint, FaultStyle, Limits, Registry};
use crate::store::Store;
use crate::telemetry::Redactor;

/// Version of the protocol in `docs/PROTOCOL.md`.
pub const PROTOCOL_VERSION: i32 = 1;

/// How long runs get to stop at shutdown before they are marked interrupted.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The two seams to the rest of the program: how jobs run and how the peers are reached.
#[derive(Clone)]
pub struct Services {
    /// Runs jobs (the sync module).
    pub executor: Arc<dyn JobExecutor>,
    /// Synchronous peer operations (the clients).
    pub backends: Arc<dyn Backends>,
}

impl Services {
    /// Services that answer "not available yet" everywhere (nothing wired).
    pub fn unwired() -> Self {
        Services { executor: Arc::new(UnwiredExecutor), backends: Arc::new(UnwiredBackends) }
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Services")
    }
}

/// What every handler shares.
pub struct AppState {
    /// Validated configuration.
    pub config: Arc<Config>,
    /// State store.
    pub store: Store,
    /// Runs.
    pub runs: RunManager,
    /// Peer operations.
    pub backends: Arc<dyn Backends>,
    /// Scrubs configured secrets from text.
    pub redactor: Redactor,
}

impl AppState {
    /// Builds the state: a run manager over `store` with the services' executor.
    pub fn new(
        config: Arc<Config>,
        store: Store,
        services: Services,
        redactor: Redactor,
        settings: RunSettings,
    ) -> Arc<Self> {
        let runs = RunManager::new(store.clone(), services.executor, redactor.clone(), settings);
        Arc::new(AppState { config, store, runs, backends: services.backends, redactor })
    }
}

/// The server: state plus the XML-RPC endpoint.
pub struct App {
    state: Arc<AppState>,
    endpoint: Arc<Endpoint<AppState>>,
}

impl App {
    /// Builds the method table (token check included) and the endpoint with the configured limits.
    pub fn new(state: Arc<AppState>) -> App {
        let server = &state.config.server;
        let mut registry = Registry::new(FaultStyle::Connector);
        methods::register(&mut registry);
        auth::require_token(&mut registry, server.token.clone());
        let limits = Limits {
            max_body_bytes: server.max_body_bytes,
            max_depth: server.max_depth,
            timeout: server.request_timeout,
        };
        let endpoint = Endpoint::new(registry, Arc::clone(&state), limits);
        App { state, endpoint }
    }

    /// Shared state.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The endpoint (for in-process calls in tests and the CLI).
    pub fn endpoint(&self) -> &Arc<Endpoint<AppState>> {
        &self.endpoint
    }

    /// The axum router: the endpoint on `/RPC2`, `/` and `/xmlrpc`, and `GET /health`.
    ///
    /// XML-RPC answers pass through [`scrub_secrets`], so not even a caller's own input (a
    /// token sent as a method name, say) comes back with a configured secret in it.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/RPC2", self.endpoint.route())
            .route("/", self.endpoint.route())
            .route("/xmlrpc", self.endpoint.route())
            .layer(axum::middleware::from_fn_with_state(self.state.redactor.clone(), scrub_secrets))
            .route("/health", get(health))
    }

    /// Serves on `listener` until `shutdown` completes, then lets runs stop (up to
    /// [`SHUTDOWN_GRACE`]) and records their state.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stop = CancellationToken::new();
        let trigger = stop.clone();
        tokio::spawn(async move {
            shutdown.await;
            trigger.cancel();
        });
        let runs = self.state.runs.clone();
        let stop_runs = stop.clone();
        let runs_done = tokio::spawn(async move {
            stop_runs.cancelled().await;
            runs.shutdown(SHUTDOWN_GRACE).await;
        });
        let app = self.router().into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned()).await?;
        if let Err(e) = runs_done.await {
            tracing::error!("run shutdown task failed: {e}");
        }
        tracing::info!("server stopped");
        Ok(())
    }
}

/// Replaces configured secrets in a response body (faults may quote the caller's input).
pub async fn scrub_secrets(State(redactor): State<Redactor>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if redactor.is_empty() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("cannot read a response body to scrub it: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    match redactor.scrub(&text) {
        Cow::Borrowed(_) => Response::from_parts(parts, Body::from(bytes)),
        Cow::Owned(clean) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(clean))
        }
    }
}

async fn health() -> impl IntoResponse {
    let body = serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }).to_string();
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body)
}

/// Completes on ctrl-c or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for ctrl-c: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("ctrl-c received, shutting down"),
        () = term => tracing::info!("SIGTERM received, shutting down"),
    }
}
