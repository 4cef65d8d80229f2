//! What a job runs against: the peers of a backend (one Magento client, one OpenERP client,
//! kept for the life of the process so sessions and logins are reused) and, per run, the
//! backend's settings read fresh from OpenERP.
//!
//! Owns the construction of clients from the configuration. It does not sync anything.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{BackendConfig, Config, MagentoEndpoint, OpenErpEndpoint};
use crate::magento::{self, MagentoApi};
use crate::openerp::models::settings::BackendSettings;
use crate::openerp::{Context, OpenErpClient};
use crate::server::jobs::JobError;
use crate::server::runs::RunContext;

/// Endpoints of the in-process sandboxes, used for backends configured with `sandbox = true`.
#[derive(Debug, Clone)]
pub struct SandboxEndpoints {
    /// The emulated Magento 1.
    pub magento: MagentoEndpoint,
    /// The emulated OpenERP.
    pub openerp: OpenErpEndpoint,
}

/// The two clients of one backend.
pub struct Peers {
    /// Backend name.
    pub name: String,
    /// Magento client.
    pub magento: Arc<dyn MagentoApi>,
    /// OpenERP client.
    pub openerp: OpenErpClient,
    /// Magento API URL (no credentials).
    pub magento_url: String,
    /// OpenERP URL (no credentials).
    pub openerp_url: String,
}

impl Peers {
    /// Builds both clients (no network traffic yet: both log in lazily).
    pub fn new(name: &str, magento: &MagentoEndpoint, openerp: &OpenErpEndpoint) -> Result<Peers, String> {
        let m = magento::connect(magento).map_err(|e| format!("Magento client for backend {name:?}: {e}"))?;
        let o = OpenErpClient::new(openerp).map_err(|e| format!("OpenERP client for backend {name:?}: {e}"))?;
        Ok(Peers {
            name: name.to_owned(),
            magento: m,
            openerp: o,
            magento_url: magento.url.clone(),
            openerp_url: openerp.url.clone(),
        })
    }

    /// The settings of this backend from its `magento.backend` record in OpenERP.
    pub async fn settings(&self) -> Result<BackendSettings, crate::openerp::Error> {
        self.openerp.backend_settings(&self.name, &Context::default()).await
    }
}

/// The peers of every configured backend.
#[derive(Default, Clone)]
pub struct PeerSet {
    backends: BTreeMap<String, Arc<Peers>>,
}

impl PeerSet {
    /// Builds the clients of every backend of `config`; sandbox backends use their entry in
    /// `sandboxes` (by backend name).
    pub fn from_config(config: &Config, sandboxes: &BTreeMap<String, SandboxEndpoints>) -> Result<PeerSet, String> {
        let mut backends = BTreeMap::new();
        for (name, b) in &config.backends {
            let peers = match b {
                BackendConfig::Remote { openerp, magento } => Peers::new(name, magento, openerp)?,
                BackendConfig::Sandbox => {
                    let s = sandboxes
                        .get(name)
                        .ok_or_else(|| format!("backend {name:?} needs the sandboxes, which are not started"))?;
                    Peers::new(name, &s.magento, &s.openerp)?
                }
            };
            backends.insert(name.clone(), Arc::new(peers));
        }
        Ok(PeerSet { backends })
    }

    /// Peers of `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Peers>> {
        self.backends.get(name).cloned()
    }

    /// Ends every Magento session (best effort).
    pub async fn close(&self) {
        for p in self.backends.values() {
            if let Err(e) = p.magento.close().await {
                tracing::debug!(backend = %p.name, "closing the Magento session failed: {e}");
            }
        }
    }
}

/// Everything one run of a job needs.
pub struct JobEnv {
    /// The backend's clients.
    pub peers: Arc<Peers>,
    /// Settings read from OpenERP at the start of the run.
    pub settings: BackendSettings,
    /// The run (progress, records, cancellation, store).
    pub ctx: RunContext,
}

impl JobEnv {
    /// Reads the settings and builds the environment of a run.
    pub async fn load(peers: Arc<Peers>, ctx: RunContext) -> Result<JobEnv, JobError> {
        let settings = peers.settings().await.map_err(|e| {
            JobError::failed(format!("cannot read the settings of backend {:?} in OpenERP: {e}", peers.name))
        })?;
        if !settings.active {
            return Err(JobError::failed(format!("backend {:?} is archived in OpenERP", peers.name)));
        }
        Ok(JobEnv { peers, settings, ctx })
    }

    /// The Magento client.
    pub fn magento(&self) -> &dyn MagentoApi {
        self.peers.magento.as_ref()
    }

    /// The OpenERP client.
    pub fn openerp(&self) -> &OpenErpClient {
        &self.peers.openerp
    }

    /// Backend name.
    pub fn backend(&self) -> &str {
        &self.peers.name
    }

    /// Fails with [`JobError::Cancelled`] when the run was cancelled (call at record boundaries).
    pub fn check_cancelled(&self) -> Result<(), JobError> {
        if self.ctx.is_cancelled() { Err(JobError::Cancelled) } else { Ok(()) }
    }
}
