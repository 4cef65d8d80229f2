# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The Magento product tax class chosen for a tax."""

from odoo import fields, models


class AccountTax(models.Model):
    _inherit = "account.tax"

    magento_tax_class_id = fields.Integer(
        string="Magento Tax Class ID",
        default=0,
        help="Magento product tax class sent for products with this tax (meaningful once mapped).",
    )
    magento_tax_class_mapped = fields.Boolean(
        string="Magento Tax Class Mapped",
        default=False,
        help="Checked once a class is chosen; class 0 (None) is a valid choice.",
    )
