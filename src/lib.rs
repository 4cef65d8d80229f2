//! # magento-connector
//!
//! An OpenERP/Odoo ⇄ Magento connector. A Rust XML-RPC server (this crate) does the Magento
//! I/O, the OpenERP external-API I/O and the mapping; a thin OpenERP addon (`openerp_addon/`)
//! drives it from menus and buttons. State (bindings, cursors, runs, broken orders) lives in
//! SQLite.
//!
//! # Layout
//!
//! * [`rpc`]: XML-RPC plumbing on dxr's types (dispatcher, transport, lenient values).
//! * [`config`], [`secret`]: configuration and secrets that never print.
//! * [`server`]: the connector's XML-RPC server: method registry, auth, runs (jobs + progress).
//! * [`store`]: SQLite state store and its migrations.
//! * [`magento`]: the `MagentoApi` trait and the Magento 1 XML-RPC client.
//! * [`openerp`]: the OpenERP external-API client and its field profiles per version.
//! * [`sync`]: one module per job (categories, products, stock, taxes, orders, follow-up) with
//!   pure mappers apart from the I/O.
//! * [`sandbox`]: faithful in-process emulators of Magento 1 and OpenERP (demo, tests, benches).
//! * [`cli`], [`telemetry`]: the command line and logging; [`app`]: the real wiring.

#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod config;
pub mod magento;
pub mod openerp;
pub mod rpc;
pub mod sandbox;
pub mod secret;
pub mod server;
pub mod store;
pub mod sync;
pub mod telemetry;
