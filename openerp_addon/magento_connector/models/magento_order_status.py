# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""What to tell Magento when an event happens to an imported order in OpenERP."""

from odoo import fields, models


class MagentoOrderStatus(models.Model):
    _name = "magento.order.status"
    _description = "Magento Order Status Update"
    _order = "backend_id, event"
    _rec_name = "event"

    backend_id = fields.Many2one("magento.backend", required=True, ondelete="cascade", index=True)
    event = fields.Selection(
        [
            ("confirmed", "Confirmed"),
            ("invoiced", "Invoiced"),
            ("shipped", "Shipped"),
            ("partially_shipped", "Partially Shipped"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
    )
    magento_status = fields.Char(help="Status sent with the comment; empty keeps the order's status.")
    comment = fields.Char(help="Comment text; {name} is replaced by the OpenERP order name.")
    notify = fields.Boolean(default=False, help="Notify the customer by e-mail.")

    _sql_constraints = [
        (
            "event_uniq",
            "unique(backend_id, event)",
            "This event already has a status update on this backend.",
        )
    ]
