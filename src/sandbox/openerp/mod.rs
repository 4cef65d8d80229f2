//! Emulated Odoo 17 external API.

pub mod error;
pub mod orm;
