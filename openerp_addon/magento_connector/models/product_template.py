# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Products: the "export to Magento" flag, the export button and export on save."""

from odoo import api, fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    magento_exportable = fields.Boolean(
        string="Export to Magento",
        default=True,
        help="Unchecked: the connector never exports this product to Magento.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        templates._magento_enqueue()
        return templates

    def write(self, vals):
        result = super().write(vals)
        if self.env["magento.export.request"]._worth_exporting(vals):
            self._magento_enqueue(flag_changed="magento_exportable" in vals)
        return result

    def _magento_enqueue(self, flag_changed=False):
        variants = self.with_context(active_test=False).product_variant_ids
        if not flag_changed:
            variants = variants.filtered("magento_exportable")
        self.env["magento.export.request"]._enqueue("product.product", variants.ids)

    def action_magento_export(self):
        """Button and list action: exports the variants of these products now."""
        return self.env["magento.backend"]._export_records("export_products", self.product_variant_ids.ids)
