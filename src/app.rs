//! The real wiring of the program: clients for configured backends, the in-process sandboxes
//! for `sandbox` backends, the sync executor and the peer operations behind the server.

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

/// Wires the sync jobs and clients into the server; starts the sandboxes when a backend needs
/// them and keeps them running for the life of the process.
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
            let needs_sandbox = config.backends.values().any(|b| matches!(b, BackendConfig::Sandbox));
            let endpoints = if needs_sandbox {
                let sandboxes = Sandboxes::start(SandboxesOptions::default()).await.map_err(anyhow::Error::msg)?;
                tracing::info!(
                    magento = sandboxes.magento.url(),
                    openerp = %sandboxes.openerp.url(),
                    "built-in sandboxes started"
                );
                let endpoints = sandboxes.endpoints();
                self.sandboxes.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(sandboxes);
                Some(endpoints)
            } else {
                None
            };
            let peers = PeerSet::from_config(config, endpoints.as_ref()).map_err(anyhow::Error::msg)?;
            Ok(Services {
                executor: Arc::new(SyncExecutor::new(peers.clone())),
                backends: Arc::new(PeerBackends::new(peers)),
            })
        })
    }
}
