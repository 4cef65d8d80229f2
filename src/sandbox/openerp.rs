//! Emulated Odoo 17 external API.
