//! The [`JobExecutor`] of the server: reads the backend's settings and hands the run to the
//! job module of its kind.

use std::sync::Arc;

use super::env::{JobEnv, PeerSet};
use super::{categories, followup, orders, products, stock};
use crate::server::jobs::{BoxFuture, JobError, JobExecutor, JobKind, Summary};
use crate::server::runs::RunContext;

/// Runs sync jobs against the configured backends.
pub struct SyncExecutor {
    peers: PeerSet,
}

impl SyncExecutor {
    /// An executor over these peers.
    pub fn new(peers: PeerSet) -> Self {
        SyncExecutor { peers }
    }
}

impl JobExecutor for SyncExecutor {
    fn execute(self: Arc<Self>, ctx: RunContext) -> BoxFuture<Result<Summary, JobError>> {
        Box::pin(async move {
            let peers = self
                .peers
                .get(ctx.backend())
                .ok_or_else(|| JobError::failed(format!("unknown backend {:?}", ctx.backend())))?;
            let kind = ctx.kind();
            let env = JobEnv::load(peers, ctx).await?;
            match kind {
                JobKind::Categories => categories::run(&env).await,
                JobKind::Products => products::run(&env).await,
                JobKind::Stock => stock::run(&env).await,
                JobKind::OrdersImport => orders::import(&env).await,
                JobKind::OrdersReimport => orders::reimport(&env).await,
                JobKind::OrderStatus => followup::run(&env).await,
                JobKind::Taxes => Err(JobError::failed("taxes.sync runs synchronously through the taxes method")),
            }
        })
    }
}
