# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Magento payment method code -> settings of imported orders."""

from odoo import fields, models


class MagentoPaymentMethod(models.Model):
    _name = "magento.payment.method"
    _description = "Magento Payment Method"
    _order = "backend_id, code"

    backend_id = fields.Many2one("magento.backend", required=True, ondelete="cascade", index=True)
    code = fields.Char(required=True, help="Magento payment method code, e.g. checkmo.")
    name = fields.Char()
    payment_term_id = fields.Many2one("account.payment.term", help="Set on imported orders.")
    import_orders = fields.Boolean(
        default=True,
        help="Unchecked: orders paid this way are skipped, with a reason in the run report.",
    )

    _sql_constraints = [
        (
            "code_uniq",
            "unique(backend_id, code)",
            "This payment method code is already mapped on this backend.",
        )
    ]
