# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""One Magento store view of a backend and how it maps to OpenERP."""

from odoo import fields, models


class MagentoBackendStore(models.Model):
    _name = "magento.backend.store"
    _description = "Magento Store View"
    _order = "backend_id, magento_store_id"

    backend_id = fields.Many2one("magento.backend", required=True, ondelete="cascade", index=True)
    name = fields.Char(help="Store view name, as loaded from Magento.")
    magento_store_id = fields.Integer(string="Store View ID", required=True)
    magento_store_code = fields.Char(string="Store View Code")
    magento_website_id = fields.Integer(string="Website ID")
    magento_group_id = fields.Integer(string="Store ID")
    magento_root_category_id = fields.Integer(string="Magento Root Category ID")
    lang = fields.Char(
        string="Language",
        help="OpenERP language code (e.g. fr_FR) of names and descriptions sent to this store view.",
    )
    pricelist_id = fields.Many2one("product.pricelist", help="Pricelist (currency) of imported orders.")
    warehouse_id = fields.Many2one("stock.warehouse", help="Stock of this store view's website.")
    root_category_id = fields.Many2one(
        "product.category",
        string="Root Category",
        help="OpenERP category mapped to this store's Magento root (overrides the backend's).",
    )
    import_orders = fields.Boolean(default=True)
    export_catalog = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "store_uniq",
            "unique(backend_id, magento_store_id)",
            "This Magento store view is already mapped on this backend.",
        )
    ]
