# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Product categories: the "export to Magento" flag, the export action and export on save."""

from odoo import api, fields, models


class ProductCategory(models.Model):
    _inherit = "product.category"

    magento_exportable = fields.Boolean(
        string="Export to Magento",
        default=True,
        help="Unchecked: the connector never exports this category (nor its products' link to it).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        categories = super().create(vals_list)
        categories._magento_enqueue()
        return categories

    def write(self, vals):
        result = super().write(vals)
        if self.env["magento.export.request"]._worth_exporting(vals):
            self._magento_enqueue(flag_changed="magento_exportable" in vals)
        return result

    def _magento_enqueue(self, flag_changed=False):
        categories = self if flag_changed else self.filtered("magento_exportable")
        self.env["magento.export.request"]._enqueue("product.category", categories.ids)

    def action_magento_export(self):
        """List/form action: exports these categories now."""
        return self.env["magento.backend"]._export_records("export_categories", self.ids)
