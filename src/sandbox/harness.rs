//! Both sandboxes, the real clients and a state store, wired like the server wires them: the
//! test bench of the sync jobs, and the engine of the demo and the benchmarks.
//!
//! [`Sandboxes`] starts the two emulators on loopback ports; [`Harness`] adds a store and runs
//! jobs through the real [`RunManager`] and [`SyncExecutor`], so a test exercises exactly the
//! code path of `runs.get` after an XML-RPC `catalog.export_products`.

use std::sync::Arc;
use std::time::Duration;

use super::magento1::{MagentoSandbox, SandboxOptions};
use super::openerp::{OpenErpSandbox, Options as OpenErpOptions};
use crate::config::{
    BackendConfig, Config, MagentoEndpoint, MagentoKind, MultiCallMode, OpenErpEndpoint, SANDBOX_BACKEND,
};
use crate::server::jobs::{JobKind, JobOptions};
use crate::server::runs::{RunManager, RunSettings};
use crate::store::{Outcome, RunRecord, RunRow, Store};
use crate::sync::env::{PeerSet, Peers, SandboxEndpoints};
use crate::sync::executor::SyncExecutor;
use crate::telemetry::Redactor;

/// How the connector talks to the emulated Magento.
#[derive(Debug, Clone, Copy)]
pub struct ClientTuning {
    /// multiCall usage.
    pub multicall: MultiCallMode,
    /// Concurrent requests.
    pub concurrency: usize,
    /// Calls per multiCall.
    pub batch_size: usize,
    /// Attempts per call on transient failures.
    pub retries: u32,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for ClientTuning {
    fn default() -> Self {
        ClientTuning {
            multicall: MultiCallMode::Auto,
            concurrency: 2,
            batch_size: 25,
            retries: 4,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Options of both emulators.
#[derive(Debug, Clone, Default)]
pub struct SandboxesOptions {
    /// The emulated Magento 1.
    pub magento: SandboxOptions,
    /// The emulated OpenERP.
    pub openerp: OpenErpOptions,
    /// Client settings toward the emulated Magento.
    pub tuning: ClientTuning,
}

/// The two emulators, running.
pub struct Sandboxes {
    /// Emulated Magento 1.
    pub magento: MagentoSandbox,
    /// Emulated OpenERP.
    pub openerp: OpenErpSandbox,
    tuning: ClientTuning,
}

impl Sandboxes {
    /// Starts both emulators on free loopback ports.
    pub async fn start(options: SandboxesOptions) -> Result<Sandboxes, String> {
        let magento =
            MagentoSandbox::start(options.magento).await.map_err(|e| format!("cannot start the Magento sandbox: {e}"))?;
        let openerp =
            OpenErpSandbox::start(options.openerp).await.map_err(|e| format!("cannot start the OpenERP sandbox: {e}"))?;
        Ok(Sandboxes { magento, openerp, tuning: options.tuning })
    }

    /// How the connector reaches the emulated Magento.
    pub fn magento_endpoint(&self) -> MagentoEndpoint {
        let c = self.magento.credentials();
        MagentoEndpoint {
            kind: MagentoKind::Magento1,
            url: self.magento.url().to_owned(),
            api_user: c.username,
            api_key: c.api_key,
            concurrency: self.tuning.concurrency,
            batch_size: self.tuning.batch_size,
            multicall: self.tuning.multicall,
            connect_timeout: Duration::from_secs(5),
            timeout: self.tuning.timeout,
            retries: self.tuning.retries,
        }
    }

    /// How the connector reaches the emulated OpenERP.
    pub fn openerp_endpoint(&self) -> OpenErpEndpoint {
        self.openerp.endpoint()
    }

    /// Names the seeded `magento.backend` record of the emulated OpenERP `name`, so that a
    /// sandbox backend configured under another name finds its settings.
    pub fn name_backend(&self, name: &str) -> Result<(), String> {
        let id = self.openerp.seed_ids().backend.ok_or("the OpenERP sandbox has no seeded magento.backend")?;
        let vals = [("name".to_owned(), dxr::Value::String(name.to_owned()))].into_iter().collect();
        self.openerp.write("magento.backend", &[id], vals).map_err(|e| format!("cannot name the sandbox backend: {e}"))
    }

    /// Both endpoints, for [`PeerSet::from_config`].
    pub fn endpoints(&self) -> SandboxEndpoints {
        SandboxEndpoints { magento: self.magento_endpoint(), openerp: self.openerp_endpoint() }
    }

    /// Stops both emulators.
    pub async fn shutdown(self) {
        self.magento.shutdown().await;
        self.openerp.shutdown().await;
    }
}

/// A finished run with its report.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The run row (state, counts, error).
    pub run: RunRow,
    /// Every record of the run.
    pub records: Vec<RunRecord>,
}

impl RunResult {
    /// Records with this outcome.
    pub fn with_outcome(&self, outcome: Outcome) -> Vec<&RunRecord> {
        self.records.iter().filter(|r| r.outcome == outcome).collect()
    }

    /// The record about `reference` (SKU, increment id, ...), if any.
    pub fn record(&self, reference: &str) -> Option<&RunRecord> {
        self.records.iter().find(|r| r.reference == reference)
    }
}

/// Sandboxes + clients + a store, with helpers to run jobs.
pub struct Harness {
    /// The emulators.
    pub sandboxes: Sandboxes,
    store: Store,
    peers: PeerSet,
}

impl Harness {
    /// Starts both sandboxes with default options and an in-memory store.
    pub async fn start() -> Result<Harness, String> {
        Harness::with_options(SandboxesOptions::default()).await
    }

    /// Starts both sandboxes with `options` and an in-memory store.
    pub async fn with_options(options: SandboxesOptions) -> Result<Harness, String> {
        let sandboxes = Sandboxes::start(options).await?;
        let store = Store::open_in_memory().map_err(|e| e.to_string())?;
        let peers = Harness::peer_set(&sandboxes)?;
        Ok(Harness { sandboxes, store, peers })
    }

    fn peer_set(sandboxes: &Sandboxes) -> Result<PeerSet, String> {
        let mut config = Config::from_raw(Default::default(), None, &|_| None).map_err(|e| e.to_string())?;
        config.backends.clear();
        config.backends.insert(SANDBOX_BACKEND.to_owned(), BackendConfig::Sandbox);
        let endpoints = std::iter::once((SANDBOX_BACKEND.to_owned(), sandboxes.endpoints())).collect();
        PeerSet::from_config(&config, &endpoints)
    }

    /// The emulated Magento.
    pub fn magento(&self) -> &MagentoSandbox {
        &self.sandboxes.magento
    }

    /// The emulated OpenERP.
    pub fn openerp(&self) -> &OpenErpSandbox {
        &self.sandboxes.openerp
    }

    /// The state store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The clients of the sandbox backend.
    pub fn peers(&self) -> Arc<Peers> {
        self.peers.get(SANDBOX_BACKEND).expect("the harness always configures the sandbox backend")
    }

    /// Replaces the state store by an empty one (the "state store lost" scenario).
    pub fn lose_state(&mut self) -> Result<(), String> {
        self.store = Store::open_in_memory().map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Uses `store` from now on (e.g. a file-backed store).
    pub fn set_store(&mut self, store: Store) {
        self.store = store;
    }

    /// New clients (fresh sessions), e.g. after changing the client tuning.
    pub fn reconnect(&mut self, tuning: ClientTuning) -> Result<(), String> {
        self.sandboxes.tuning = tuning;
        self.peers = Harness::peer_set(&self.sandboxes)?;
        Ok(())
    }

    /// Runs one job to its end through the real run manager and executor.
    pub async fn run(&self, kind: JobKind, options: JobOptions) -> Result<RunResult, String> {
        let manager = RunManager::new(
            self.store.clone(),
            Arc::new(SyncExecutor::new(self.peers.clone())),
            Redactor::default(),
            RunSettings::default(),
        );
        let started = manager.start(SANDBOX_BACKEND, kind, options).await.map_err(|e| e.to_string())?;
        let run = manager
            .wait(started.id, Duration::from_millis(20))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("run {} disappeared", started.id))?;
        let records = self.records(run.id).await?;
        Ok(RunResult { run, records })
    }

    /// Every record of a run.
    pub async fn records(&self, run_id: i64) -> Result<Vec<RunRecord>, String> {
        let mut out = Vec::new();
        loop {
            let (total, rows) =
                self.store.runs().records(run_id, None, out.len() as u32, 1000).await.map_err(|e| e.to_string())?;
            let n = rows.len();
            out.extend(rows);
            if n == 0 || out.len() as u64 >= total {
                return Ok(out);
            }
        }
    }

    /// Stops the sandboxes.
    pub async fn shutdown(self) {
        self.peers.close().await;
        self.sandboxes.shutdown().await;
    }
}
