//! Typed access to the OpenERP records the sync jobs need, one module per area. Each module
//! declares the fields it reads (constants used in the requests themselves), decodes rows into
//! plain structs (`from_map`, unit-tested on the Odoo 17 recordings) and adds a few methods to
//! [`OpenErpClient`](super::OpenErpClient).

pub mod categories;
pub mod followup;
pub mod partners;
pub mod pricelist;
pub mod products;
pub mod sale_orders;
pub mod settings;
pub mod stock;
pub mod taxes;
