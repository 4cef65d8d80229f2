# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The answer of ``connector.check``: what works and what does not, on both ends."""

from odoo import api, fields, models


class MagentoCheckResult(models.TransientModel):
    _name = "magento.check.result"
    _description = "Magento Connection Test"

    backend_id = fields.Many2one("magento.backend", required=True, ondelete="cascade")
    ok = fields.Boolean(string="Everything Works")
    server_version = fields.Char(string="Connector Version")
    openerp_ok = fields.Boolean(string="OpenERP Reachable")
    openerp_url = fields.Char(string="OpenERP URL")
    openerp_message = fields.Text(string="OpenERP")
    openerp_version = fields.Char(string="OpenERP Version")
    openerp_uid = fields.Integer(string="OpenERP User ID")
    magento_ok = fields.Boolean(string="Magento Reachable")
    magento_url = fields.Char(string="Magento URL")
    magento_message = fields.Text(string="Magento")
    magento_version = fields.Char(string="Magento Version")
    magento_multicall = fields.Selection(
        [("yes", "Yes"), ("no", "No"), ("unknown", "Unknown")], string="multiCall"
    )
    settings_ok = fields.Boolean(string="Settings Usable")
    settings_message = fields.Text(string="Settings")

    @api.model
    def _values_from_answer(self, backend, answer):
        """Values of a result record from a ``connector.check`` answer."""
        answer = answer if isinstance(answer, dict) else {}
        openerp = answer.get("openerp") if isinstance(answer.get("openerp"), dict) else {}
        magento = answer.get("magento") if isinstance(answer.get("magento"), dict) else {}
        settings = answer.get("settings") if isinstance(answer.get("settings"), dict) else {}
        multicall = magento.get("multicall")
        return {
            "backend_id": backend.id,
            "ok": bool(answer.get("ok")),
            "openerp_ok": bool(openerp.get("ok")),
            "openerp_url": openerp.get("url") or False,
            "openerp_message": openerp.get("message") or False,
            "openerp_version": str(openerp["server_version"]) if openerp.get("server_version") else False,
            "openerp_uid": openerp.get("uid") if isinstance(openerp.get("uid"), int) else 0,
            "magento_ok": bool(magento.get("ok")),
            "magento_url": magento.get("url") or False,
            "magento_message": magento.get("message") or False,
            "magento_version": str(magento["magento_version"]) if magento.get("magento_version") else False,
            "magento_multicall": multicall if multicall in ("yes", "no", "unknown") else False,
            "settings_ok": bool(settings.get("ok")),
            "settings_message": settings.get("message") or False,
        }
