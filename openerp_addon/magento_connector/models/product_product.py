# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Product variants: the template's flag, the export button and export on save."""

from odoo import api, fields, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    magento_exportable = fields.Boolean(related="product_tmpl_id.magento_exportable", readonly=False)

    @api.model_create_multi
    def create(self, vals_list):
        products = super().create(vals_list)
        products._magento_enqueue()
        return products

    def write(self, vals):
        result = super().write(vals)
        if self.env["magento.export.request"]._worth_exporting(vals):
            self._magento_enqueue(flag_changed="magento_exportable" in vals)
        return result

    def _magento_enqueue(self, flag_changed=False):
        products = self if flag_changed else self.filtered("magento_exportable")
        self.env["magento.export.request"]._enqueue("product.product", products.ids)

    def action_magento_export(self):
        """Button and list action: exports these variants now."""
        return self.env["magento.backend"]._export_records("export_products", self.ids)
