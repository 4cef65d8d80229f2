//! The OpenERP / Odoo external-API client and its field profiles per version.
//!
//! * [`client`]: login, version detection, `execute_kw` with context, retries and the
//!   `None`-return helper; [`error`]: our error kinds for every wire failure.
//! * [`orm`]: search, chunked read, paged `search_read`, create (one or many), write, unlink.
//! * [`profile`]: which models/fields each version uses (Odoo 17 verified; 13–16, 18, 19 from
//!   the documented differences; older refused).
//! * [`wire`]: domains, contexts, x2many commands and the checks on every outgoing value.
//! * [`models`]: typed access for the sync jobs (products, categories, taxes, stock, pricelists,
//!   partners, sale orders, invoices and pickings, the addon's backend settings).
//!
//! This module only talks to OpenERP: it never calls Magento, never touches the state store,
//! and never decides business mapping (that is `crate::sync`).

pub mod client;
pub mod error;
pub mod models;
pub mod orm;
pub mod profile;
pub mod wire;

#[cfg(test)]
#[cfg(test)]
pub(crate) mod testutil;

pub use client::{ClientOptions, FieldInfo, OpenErpClient, Request};
pub use error::{Error, ErrorKind};
pub use orm::{Pages, SearchOpts};
pub use profile::{ProductKind, Profile, ServerVersion, Support};
pub use wire::{Command, Context, Domain};
