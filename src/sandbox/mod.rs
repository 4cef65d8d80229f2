//! Faithful in-process emulators of the two peers, for the demo, the tests and the benchmarks.
//!
//! * [`magento1`]: an OpenMage 19.4 XML-RPC server (`/api/xmlrpc/`).
//! * [`openerp`]: an Odoo 17 external-API server (`/xmlrpc/2/*`), including the addon's models.
//! * [`seed`]: the shared demo data both emulators start from, so that SKUs, categories and
//!   customers line up between the shop and the ERP.
//! * [`knobs`]: latency, fault injection and call counters.
//! * [`harness`]: both emulators + the real clients + a store, to run jobs end to end (tests,
//!   demo, benchmarks).
//!
//! The emulators are part of the product: they answer like the real servers in the recordings
//! (`../shared/recordings`), not like convenient fakes.

pub mod harness;
pub mod knobs;
pub mod magento1;
pub mod openerp;
pub mod seed;
