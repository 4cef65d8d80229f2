# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Magento > Synchronize: one button per job; each starts a run and opens its report."""

from odoo import _, fields, models


class MagentoSynchronize(models.TransientModel):
    _name = "magento.synchronize"
    _description = "Magento Synchronize"

    backend_id = fields.Many2one(
        "magento.backend",
        required=True,
        ondelete="cascade",
        default=lambda self: self.env["magento.backend"].search([], limit=1),
    )
    dry_run = fields.Boolean(help="Only report what would be done; nothing is written.")
    full = fields.Boolean(
        string="Everything",
        help="Ignore what the connector already sent and send every record (exports and stock).",
    )
    since = fields.Datetime(
        string="Orders Since",
        help="Import orders created since this date (empty: since the last import).",
    )

    def _action_open(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Synchronize"),
            "res_model": "magento.synchronize",
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _flags(self):
        return {"dry_run": True if self.dry_run else None, "full": True if self.full else None}

    def action_export_categories(self):
        self.ensure_one()
        return self.backend_id._run_job("export_categories", **self._flags())

    def action_export_products(self):
        self.ensure_one()
        return self.backend_id._run_job("export_products", **self._flags())

    def action_export_stock(self):
        self.ensure_one()
        return self.backend_id._run_job("export_stock", **self._flags())

    def action_sync_taxes(self):
        self.ensure_one()
        return self.backend_id.action_open_tax_mapping()

    def action_import_orders(self):
        self.ensure_one()
        return self.backend_id._run_job(
            "import_orders",
            since=fields.Datetime.to_string(self.since) if self.since else None,
            dry_run=True if self.dry_run else None,
        )

    def action_reimport_orders(self):
        self.ensure_one()
        return self.backend_id._run_job("reimport_orders")

    def action_export_order_status(self):
        self.ensure_one()
        return self.backend_id._run_job("export_order_status", dry_run=True if self.dry_run else None)
