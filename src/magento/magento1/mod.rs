//! Magento 1 / OpenMage client over the native XML-RPC API (`/api/xmlrpc/`).
//!
//! * [`session`]: the shared API session (lazy login, single-flight re-login on fault 5).
//! * `calls`: one call with retries, and batches through `multiCall` with per-item results,
//!   the OpenMage ≥ 20.11 fallback and the create-by-SKU recovery.
//! * [`encode`]: the argument list of every API call (pure).
//! * [`parse`]: decoding of every answer into the domain types (pure).
//! * [`faults`]: translation of faults and transport errors into [`MagentoError`]s (pure).
//! * `api`: the [`MagentoApi`](crate::magento::MagentoApi) implementation tying these together.
//!
//! Built on [`crate::rpc::transport::Transport`] (reqwest/rustls), not on dxr_client, because
//! a PHP fatal error is an HTTP 500 with an empty body that must be retried. Nothing here
//! touches OpenERP or the state store.

mod api;
mod calls;
pub mod encode;
pub mod faults;
pub mod limits;
pub mod parse;
pub mod session;

use std::sync::atomic::AtomicU8;
use std::time::Duration;

use tokio::sync::{Mutex, Semaphore};

use crate::config::{MagentoEndpoint, MultiCallMode};
use crate::magento::error::{ErrorKind, MagentoError};
use crate::rpc::transport::{Backoff, HttpOptions, Transport};
use crate::secret::Secret;

/// `multiCall` support not known yet.
const MC_UNKNOWN: u8 = 0;
/// `multiCall` works on this shop.
const MC_SUPPORTED: u8 = 1;
/// `multiCall` is rejected with fault 623 (OpenMage ≥ 20.11).
const MC_UNSUPPORTED: u8 = 2;

/// A Magento 1 / OpenMage XML-RPC client. Cheap to share behind an `Arc`; concurrent callers
/// share one API session and at most `concurrency` requests are in flight at a time.
pub struct Magento1Client {
    transport: Transport,
    api_user: String,
    api_key: Secret,
    backoff: Backoff,
    batch_size: usize,
    mode: MultiCallMode,
    multicall: AtomicU8,
    detect: Mutex<()>,
    limiter: Semaphore,
    session: session::Session,
    login_refused: std::sync::Mutex<Option<(std::time::Instant, MagentoError)>>,
}

impl std::fmt::Debug for Magento1Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Magento1Client")
            .field("url", &self.transport.url())
            .field("api_user", &self.api_user)
            .finish_non_exhaustive()
    }
}

impl Magento1Client {
    /// Builds a client for `endpoint` (no network traffic until the first call).
    ///
    /// Timeouts, attempts, concurrency, batch size and the multiCall mode come from the
    /// endpoint; retries wait with exponential backoff and full jitter (200 ms doubling, at
    /// most 10 s).
    pub fn new(endpoint: &MagentoEndpoint) -> Result<Self, MagentoError> {
        let opts = HttpOptions {
            connect_timeout: endpoint.connect_timeout,
            request_timeout: endpoint.timeout,
            pool_max_idle_per_host: endpoint.concurrency.max(1),
            headers: Vec::new(),
        };
        let transport = Transport::new(&endpoint.url, &opts)
            .map_err(|e| MagentoError::new(ErrorKind::Protocol, "connect", e.to_string()))?;
        Ok(Magento1Client {
            transport,
            api_user: endpoint.api_user.clone(),
            api_key: endpoint.api_key.clone(),
            backoff: Backoff {
                attempts: endpoint.retries.max(1),
                base: Duration::from_millis(200),
                max: Duration::from_secs(10),
            },
            batch_size: endpoint.batch_size.max(1),
            mode: endpoint.multicall,
            multicall: AtomicU8::new(MC_UNKNOWN),
            detect: Mutex::new(()),
            limiter: Semaphore::new(endpoint.concurrency.max(1)),
            session: session::Session::new(),
            login_refused: std::sync::Mutex::new(None),
        })
    }

    /// Replaces the retry delays (the number of attempts stays `endpoint.retries`). Tests use
    /// short delays.
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff.base = base;
        self.backoff.max = max;
        self
    }

    /// The endpoint URL (without credentials).
    pub fn url(&self) -> &str {
        self.transport.url()
    }
}
