//! The seam to the peers for the synchronous methods (`connector.check`, `magento.stores`,
//! `taxes.sync`): a [`Backends`] trait the real clients implement (wired by the lead), typed
//! results the server turns into the structs of `docs/PROTOCOL.md`, and [`UnwiredBackends`],
//! which says honestly that nothing is wired yet.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::jobs::{BoxFuture, JobError, NOT_AVAILABLE};
use super::runs::RunContext;

/// Which peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The Magento shop.
    Magento,
    /// The OpenERP database.
    OpenErp,
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Peer::Magento => "Magento",
            Peer::OpenErp => "OpenERP",
        })
    }
}

/// A synchronous call to a peer failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    /// The peer failed or refused; the message says why.
    #[error("{peer}: {message}")]
    Failed {
        /// Which peer.
        peer: Peer,
        /// Why.
        message: String,
    },
    /// This build cannot do it yet (the client is not wired).
    #[error("{NOT_AVAILABLE}: {0}")]
    Unavailable(String),
}

/// One end of a [`CheckReport`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndCheck {
    /// Reached and usable.
    pub ok: bool,
    /// URL tried (without credentials).
    pub url: String,
    /// What happened.
    pub message: String,
    /// OpenERP: `server_version` from `/xmlrpc/2/common version()`.
    pub server_version: Option<String>,
    /// OpenERP: uid after login.
    pub uid: Option<i64>,
    /// Magento: `magento.info` / `core_magento.info` version.
    pub magento_version: Option<String>,
    /// Magento: whether `multiCall` works (`yes`, `no`, `unknown`).
    pub multicall: Option<String>,
}

/// Result of `connector.check`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// OpenERP end.
    pub openerp: EndCheck,
    /// Magento end.
    pub magento: EndCheck,
    /// Whether a usable `magento.backend` record exists in OpenERP.
    pub settings_ok: bool,
    /// What is wrong with the settings, or `ok`.
    pub settings_message: String,
}

impl CheckReport {
    /// Both ends and the settings are fine.
    pub fn ok(&self) -> bool {
        self.openerp.ok && self.magento.ok && self.settings_ok
    }
}

/// A Magento website.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Website {
    /// Website id.
    pub id: i64,
    /// Name.
    pub name: String,
}

/// A Magento store group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreGroup {
    /// Group id.
    pub id: i64,
    /// Website.
    pub website_id: i64,
    /// Name.
    pub name: String,
    /// Root category.
    pub root_category_id: i64,
}

/// A Magento store view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreView {
    /// Store id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Website.
    pub website_id: i64,
    /// Group.
    pub group_id: i64,
    /// Active.
    pub is_active: bool,
    /// Root category of its group.
    pub root_category_id: i64,
}

/// Result of `magento.stores`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStructure {
    /// Websites.
    pub websites: Vec<Website>,
    /// Store groups.
    pub groups: Vec<StoreGroup>,
    /// Store views.
    pub store_views: Vec<StoreView>,
}

/// A Magento tax class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxClass {
    /// Class id.
    pub id: i64,
    /// Name.
    pub name: String,
}

/// How one OpenERP tax maps (or could map) to a Magento tax class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxMapping {
    /// OpenERP tax id.
    pub tax_id: i64,
    /// OpenERP tax name.
    pub tax_name: String,
    /// Rate (percent).
    pub amount: Decimal,
    /// Price includes the tax.
    pub price_include: bool,
    /// Already mapped in OpenERP.
    pub mapped: bool,
    /// Mapped class.
    pub class_id: Option<i64>,
    /// Proposed class.
    pub proposed_class_id: Option<i64>,
    /// Why (matched by name, by rate, nothing matches, ...).
    pub reason: String,
}

/// Result of `taxes.sync` (the run id is added by the server).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxSync {
    /// Magento product tax classes.
    pub classes: Vec<TaxClass>,
    /// One line per OpenERP sale tax.
    pub mapping: Vec<TaxMapping>,
}

/// Synchronous operations on a backend's peers. The lead implements it over the Magento and
/// OpenERP clients (sandbox backends included); tests use fakes.
pub trait Backends: Send + Sync + 'static {
    /// Reaches both ends and reports; never fails as a whole (problems go in the report).
    fn check(self: Arc<Self>, backend: String) -> BoxFuture<CheckReport>;

    /// Magento's websites, store groups and store views.
    fn stores(self: Arc<Self>, backend: String) -> BoxFuture<Result<StoreStructure, PeerError>>;

    /// Reads tax classes and proposes the tax mapping, inside a `taxes` run (`ctx.backend()`).
    fn taxes(self: Arc<Self>, ctx: RunContext) -> BoxFuture<Result<TaxSync, JobError>>;
}

/// The [`Backends`] used until the clients are wired in: says so in every answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnwiredBackends;

const UNWIRED: &str = "the Magento and OpenERP clients are not wired into this build";

impl Backends for UnwiredBackends {
    fn check(self: Arc<Self>, _backend: String) -> BoxFuture<CheckReport> {
        Box::pin(async move {
            let end = |what: &str| EndCheck {
                ok: false,
                message: format!("{NOT_AVAILABLE}: the {what} client is not wired into this build"),
                ..EndCheck::default()
            };
            CheckReport {
                openerp: end("OpenERP"),
                magento: end("Magento"),
                settings_ok: false,
                settings_message: format!("{NOT_AVAILABLE}: reading the settings needs the OpenERP client"),
            }
        })
    }

    fn stores(self: Arc<Self>, _backend: String) -> BoxFuture<Result<StoreStructure, PeerError>> {
        Box::pin(async move { Err(PeerError::Unavailable(UNWIRED.to_owned())) })
    }

    fn taxes(self: Arc<Self>, _ctx: RunContext) -> BoxFuture<Result<TaxSync, JobError>> {
        Box::pin(async move { Err(JobError::failed(format!("the taxes job is {NOT_AVAILABLE}: {UNWIRED}"))) })
    }
}
