//! The server's synchronous peer operations (`connector.check`, `magento.stores`, `taxes.sync`)
//! over the real clients: the [`Backends`] implementation.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::env::PeerSet;
use super::taxes;
use crate::magento::types::BatchSupport;
use crate::openerp::Context;
use crate::server::backends::{
    Backends, CheckReport, EndCheck, Peer, PeerError, StoreGroup, StoreStructure, StoreView, TaxSync, Website,
};
use crate::server::jobs::{BoxFuture, JobError};
use crate::server::runs::RunContext;

/// [`Backends`] over the configured peers.
pub struct PeerBackends {
    peers: PeerSet,
}

impl PeerBackends {
    /// Over these peers.
    pub fn new(peers: PeerSet) -> Self {
        PeerBackends { peers }
    }
}

impl Backends for PeerBackends {
    fn check(self: Arc<Self>, backend: String) -> BoxFuture<CheckReport> {
        Box::pin(async move {
            let Some(p) = self.peers.get(&backend) else {
                let end = EndCheck { message: format!("unknown backend {backend:?}"), ..EndCheck::default() };
                return CheckReport {
                    openerp: end.clone(),
                    magento: end,
                    settings_ok: false,
                    settings_message: "unknown backend".into(),
                };
            };
            let openerp_fut = async {
                let mut end = EndCheck { url: p.openerp_url.clone(), ..EndCheck::default() };
                match p.openerp.version().await {
                    Ok(v) => end.server_version = Some(v.server_version.clone()),
                    Err(e) => {
                        end.message = format!("cannot reach OpenERP: {e}");
                        return end;
                    }
                }
                match p.openerp.authenticate().await {
                    Ok(uid) => {
                        end.ok = true;
                        end.uid = Some(uid);
                        end.message = "connected".into();
                    }
                    Err(e) => end.message = format!("login refused: {e}"),
                }
                end
            };
            let magento_fut = async {
                let mut end = EndCheck { url: p.magento_url.clone(), ..EndCheck::default() };
                match p.magento.probe().await {
                    Ok(r) => {
                        end.ok = true;
                        end.magento_version = Some(match &r.version.openmage_version {
                            Some(om) => format!("{} {} (OpenMage {om})", r.version.edition, r.version.version),
                            None => format!("{} {}", r.version.edition, r.version.version),
                        });
                        end.multicall = Some(
                            match r.batch {
                                BatchSupport::Supported => "yes",
                                BatchSupport::Unsupported | BatchSupport::Disabled => "no",
                            }
                            .to_owned(),
                        );
                        end.message = "connected".into();
                    }
                    Err(e) => end.message = format!("cannot use the Magento API: {e}"),
                }
                end
            };
            let (openerp, magento) = tokio::join!(openerp_fut, magento_fut);
            let (settings_ok, settings_message) = if openerp.ok {
                match p.settings().await {
                    Ok(s) if s.stores.is_empty() => {
                        (false, "no store view is mapped yet: use Load stores on the backend".into())
                    }
                    Ok(s) => (true, format!("{} store view(s) mapped", s.stores.len())),
                    Err(e) => (false, e.to_string()),
                }
            } else {
                (false, "OpenERP is not reachable, so the settings could not be read".into())
            };
            CheckReport { openerp, magento, settings_ok, settings_message }
        })
    }

    fn stores(self: Arc<Self>, backend: String) -> BoxFuture<Result<StoreStructure, PeerError>> {
        Box::pin(async move {
            let p = self.peers.get(&backend).ok_or_else(|| PeerError::Failed {
                peer: Peer::Magento,
                message: format!("unknown backend {backend:?}"),
            })?;
            let views = p
                .magento
                .stores()
                .await
                .map_err(|e| PeerError::Failed { peer: Peer::Magento, message: e.to_string() })?;
            Ok(structure(&views))
        })
    }

    fn taxes(self: Arc<Self>, ctx: RunContext) -> BoxFuture<Result<TaxSync, JobError>> {
        Box::pin(async move {
            let p = self
                .peers
                .get(ctx.backend())
                .ok_or_else(|| JobError::failed(format!("unknown backend {:?}", ctx.backend())))?;
            let classes = p.magento.tax_classes().await.map_err(|e| JobError::failed(format!("Magento: {e}")))?;
            let taxes_list = p
                .openerp
                .sale_taxes(false, &Context::default())
                .await
                .map_err(|e| JobError::failed(format!("OpenERP: {e}")))?;
            let mapping = taxes::propose(&classes, &taxes_list);
            for m in &mapping {
                let outcome = crate::store::Outcome::Skipped;
                let rec = crate::store::NewRecord::new("tax", m.tax_name.clone(), outcome)
                    .message(m.reason.clone())
                    .openerp_id(m.tax_id);
                ctx.record(rec).await?;
            }
            ctx.info(format!("{} Magento tax classes, {} OpenERP sale taxes", classes.len(), taxes_list.len())).await;
            Ok(TaxSync { classes: taxes::report_classes(&classes), mapping })
        })
    }
}

/// Groups Magento store views into websites and store groups.
pub fn structure(views: &[crate::magento::types::StoreView]) -> StoreStructure {
    let mut websites = BTreeMap::new();
    let mut groups = BTreeMap::new();
    let mut store_views = Vec::new();
    for v in views {
        websites
            .entry(v.website_id)
            .or_insert_with(|| Website { id: v.website_id, name: format!("Website {}", v.website_id) });
        groups.entry(v.group_id).or_insert_with(|| StoreGroup {
            id: v.group_id,
            website_id: v.website_id,
            name: format!("Store {}", v.group_id),
            root_category_id: v.root_category_id,
        });
        store_views.push(StoreView {
            id: v.id,
            code: v.code.clone(),
            name: v.name.clone(),
            website_id: v.website_id,
            group_id: v.group_id,
            is_active: v.is_active,
            root_category_id: v.root_category_id,
        });
    }
    StoreStructure { websites: websites.into_values().collect(), groups: groups.into_values().collect(), store_views }
}
