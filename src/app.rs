//! The real wiring of the program: clients for configured backends, the in-process sandboxes
//! for `sandbox` backends, the sync executor and the peer operations behind the server.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::cli::Wiring;
use crate::config::{BackendConfig, Config};
use crate::sandbox::harness::{Sandboxes, SandboxesOptions};
use crate::server::Services;
use crate::store::Store;
use crate::sync::env::PeerSet;
use crate::sync::executor::SyncExecutor;
use crate::sync::peers::PeerBackends;

/// Wires the sync jobs and clients into the server; starts a pair of sandboxes for each
/// `sandbox = true` backend and keeps them running for the life of the process.
#[derive(Default)]
pub struct ConnectorWiring {
    sandboxes: Mutex<Vec<Sandboxes>>,
}

impl Wiring for ConnectorWiring {
    fn services<'a>(
        &'a self,
        config: &'a Arc<Config>,
        _store: &'a Store,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<Services>> + Send + 'a>> {
        Box::pin(async move {
            let mut endpoints = BTreeMap::new();
            for (name, backend) in &config.backends {
                if !matches!(backend, BackendConfig::Sandbox) {
                    continue;
                }
                let sandboxes = Sandboxes::start(SandboxesOptions::default()).await.map_err(anyhow::Error::msg)?;
                sandboxes.name_backend(name).map_err(anyhow::Error::msg)?;
                tracing::info!(
                    backend = %name,
                    magento = sandboxes.magento.url(),
                    openerp = %sandboxes.openerp.url(),
                    "built-in sandboxes started"
                );
                endpoints.insert(name.clone(), sandboxes.endpoints());
                self.sandboxes.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(sandboxes);
            }
            let peers = PeerSet::from_config(config, &endpoints).map_err(anyhow::Error::msg)?;
            Ok(Services {
                executor: Arc::new(SyncExecutor::new(peers.clone())),
                backends: Arc::new(PeerBackends::new(peers)),
            })
        })
    }
}
