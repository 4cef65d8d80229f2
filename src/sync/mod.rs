//! Sync jobs, one module per job, with their pure mappers apart from the I/O.
//!
//! * [`env`]: the peers of each backend and the environment of one run.
//! * [`executor`]: the server's [`JobExecutor`](crate::server::jobs::JobExecutor), dispatching a
//!   run to its job.
//! * [`peers`]: the server's synchronous peer operations (`connector.check`, `magento.stores`,
//!   `taxes.sync`).
//! * [`taxes`]: tax class proposals and resolution.
//! * [`categories`], [`products`]: catalog export, with what they share in [`catalog_common`].
//!   [`stock`]: stock export.
//! * [`orders`]: order import and broken-order re-import. [`followup`]: order status,
//!   invoices, shipments and cancellations sent back to Magento.
//!
//! Jobs read and write the peers only through [`crate::magento::MagentoApi`] and
//! [`crate::openerp::OpenErpClient`], and the state only through [`crate::store`].

pub mod catalog_common;
pub mod categories;
pub mod env;
pub mod executor;
pub mod followup;
pub mod orders;
pub mod peers;
pub mod products;
pub mod stock;
pub mod taxes;
