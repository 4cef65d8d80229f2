# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Broken orders (orders the server could not import), read from ``orders.list_broken`` when shown."""

from odoo import _, api, fields, models

from ..connector_client import parse_datetime

BROKEN_CODES = [
    ("unknown_sku", "Unknown SKU"),
    ("unmapped_tax", "Unmapped tax"),
    ("unknown_payment", "Unknown payment method"),
    ("totals_mismatch", "Totals mismatch"),
    ("invalid_address", "Invalid address"),
    ("openerp_refused", "Refused by OpenERP"),
    ("magento_data", "Bad data from Magento"),
]


class MagentoBrokenOrderViewer(models.TransientModel):
    _name = "magento.broken.order.viewer"
    _description = "Magento Broken Orders"

    backend_id = fields.Many2one("magento.backend", required=True, ondelete="cascade")
    order_ids = fields.One2many("magento.broken.order", "viewer_id", string="Broken Orders")

    @api.depends("backend_id")
    def _compute_display_name(self):
        for viewer in self:
            viewer.display_name = _("Broken orders of %s", viewer.backend_id.name or "")

    @api.model
    def _open_for(self, backend):
        viewer = self.create({"backend_id": backend.id})
        viewer._refresh()
        return {
            "type": "ir.actions.act_window",
            "name": _("Broken orders"),
            "res_model": "magento.broken.order.viewer",
            "res_id": viewer.id,
            "view_mode": "form",
            "target": "current",
        }

    @api.model
    def action_open_default(self):
        """Menu: the broken orders of the first backend."""
        return self._open_for(self.env["magento.backend"]._default_backend())

    def _refresh(self):
        codes = dict(BROKEN_CODES)
        for viewer in self:
            answer = viewer.backend_id._call("list_broken", viewer.backend_id.name)
            viewer.order_ids.unlink()
            vals_list = []
            for order in answer or []:
                if not isinstance(order, dict) or not order.get("increment_id"):
                    continue
                vals_list.append(
                    {
                        "viewer_id": viewer.id,
                        "increment_id": str(order["increment_id"]),
                        "store_id": order.get("store_id") if isinstance(order.get("store_id"), int) else 0,
                        "reason": order.get("reason") or False,
                        "hint": order.get("hint") or False,
                        "code": order.get("code") if order.get("code") in codes else False,
                        "attempts": order.get("attempts") if isinstance(order.get("attempts"), int) else 0,
                        "first_seen": parse_datetime(order.get("first_seen")) or False,
                        "last_attempt": parse_datetime(order.get("last_attempt")) or False,
                    }
                )
            self.env["magento.broken.order"].create(vals_list)

    def action_refresh(self):
        self._refresh()
        return False

    def action_reimport_all(self):
        """Button: re-imports every broken order of the backend."""
        self.ensure_one()
        return self.backend_id._run_job("reimport_orders")


class MagentoBrokenOrder(models.TransientModel):
    _name = "magento.broken.order"
    _description = "Magento Broken Order"
    _order = "last_attempt desc, id"
    _rec_name = "increment_id"

    viewer_id = fields.Many2one("magento.broken.order.viewer", required=True, ondelete="cascade")
    increment_id = fields.Char(string="Order", required=True)
    store_id = fields.Integer(string="Store View ID")
    reason = fields.Text()
    hint = fields.Text(string="What to Fix")
    code = fields.Selection(BROKEN_CODES, string="Problem")
    attempts = fields.Integer()
    first_seen = fields.Datetime()
    last_attempt = fields.Datetime()

    def action_reimport(self):
        """Row button: re-imports this order (after the cause was fixed)."""
        self.ensure_one()
        return self.viewer_id.backend_id._run_job(
            "reimport_orders", selection=True, increment_ids=[self.increment_id]
        )
