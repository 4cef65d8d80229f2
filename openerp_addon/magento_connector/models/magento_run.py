# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Runs of the connector server, shown in OpenERP.

Runs live in the server's state store. These transient models are filled from ``runs.list``,
``runs.get`` and ``runs.report`` when a screen is opened or refreshed; nothing is synchronized
into OpenERP tables.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..connector_client import OUTCOMES, parse_datetime

RUN_STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]

RUN_KINDS = [
    ("categories", "Export categories"),
    ("products", "Export products"),
    ("stock", "Update stock"),
    ("orders_import", "Import orders"),
    ("orders_reimport", "Re-import broken orders"),
    ("order_status", "Send order status"),
]

OUTCOME_LABELS = {
    "created": "Created",
    "updated": "Updated",
    "skipped": "Skipped",
    "failed": "Failed",
    "planned": "Planned (dry run)",
}

#: Report record kind -> OpenERP model of its ``openerp_id``.
RECORD_MODELS = {
    "category": "product.category",
    "product": "product.product",
    "stock": "product.product",
    "order": "sale.order",
    "partner": "res.partner",
    "tax": "account.tax",
}


def _known(value, choices):
    """``value`` when it is one of ``choices`` (a selection list), else False."""
    return value if value in dict(choices) else False


def _int(value):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


class MagentoRun(models.TransientModel):
    _name = "magento.run"
    _description = "Magento Connector Run"
    _order = "run_number desc"
    _rec_name = "run_number"

    viewer_id = fields.Many2one("magento.run.viewer", ondelete="cascade")
    backend_id = fields.Many2one("magento.backend", required=True, ondelete="cascade")
    run_number = fields.Integer(string="Run", required=True, help="Run id on the connector server.")
    kind = fields.Selection(RUN_KINDS, string="Job")
    state = fields.Selection(RUN_STATES)
    dry_run = fields.Boolean()
    created_at = fields.Datetime(string="Asked")
    started_at = fields.Datetime(string="Started")
    finished_at = fields.Datetime(string="Finished")
    total = fields.Integer()
    done = fields.Integer()
    percent = fields.Integer(string="Progress")
    count_created = fields.Integer(string="Created")
    count_updated = fields.Integer(string="Updated")
    count_skipped = fields.Integer(string="Skipped")
    count_failed = fields.Integer(string="Failed")
    error = fields.Text()
    messages = fields.Text(string="Log")
    report_total = fields.Integer(string="Records in Report")
    record_ids = fields.One2many("magento.run.record", "run_id", string="Records")

    @api.depends("run_number", "kind")
    def _compute_display_name(self):
        kinds = dict(RUN_KINDS)
        for run in self:
            run.display_name = _("Run %(number)s: %(kind)s", number=run.run_number, kind=kinds.get(run.kind, ""))

    # ------------------------------------------------------------------ server data

    @api.model
    def _values_from_server(self, data):
        counts = data.get("counts") or {}
        messages = data.get("messages") or []
        return {
            "run_number": _int(data.get("id")),
            "kind": _known(data.get("kind"), RUN_KINDS),
            "state": _known(data.get("state"), RUN_STATES),
            "dry_run": bool(data.get("dry_run")),
            "created_at": parse_datetime(data.get("created_at")) or False,
            "started_at": parse_datetime(data.get("started_at")) or False,
            "finished_at": parse_datetime(data.get("finished_at")) or False,
            "total": _int(data.get("total")),
            "done": _int(data.get("done")),
            "percent": max(0, min(100, _int(data.get("percent")))),
            "count_created": _int(counts.get("created")),
            "count_updated": _int(counts.get("updated")),
            "count_skipped": _int(counts.get("skipped")),
            "count_failed": _int(counts.get("failed")),
            "error": data.get("error") or False,
            "messages": "\n".join(
                "%s [%s] %s" % (m.get("at", ""), m.get("level", ""), m.get("text", ""))
                for m in messages
                if isinstance(m, dict)
            )
            or False,
        }

    @api.model
    def _record_values(self, records):
        return [
            {
                "kind": r.get("kind") or False,
                "ref": r.get("ref") or False,
                "outcome": _known(r.get("outcome"), [(o, o) for o in OUTCOMES]),
                "message": r.get("message") or False,
                "magento_id": str(r["magento_id"]) if r.get("magento_id") not in (None, "") else False,
                "openerp_id": _int(r.get("openerp_id")),
            }
            for r in records
            if isinstance(r, dict)
        ]

    @api.model
    def _from_server(self, backend, run_number, with_report=True, data=None, viewer=None):
        """A run record filled from the server (``data``: a ``runs.list`` entry, to skip ``runs.get``)."""
        if data is None:
            data = backend._call("run_get", run_number)
        if not isinstance(data, dict):
            raise UserError(_("The connector server sent no run for run %s.", run_number))
        vals = self._values_from_server(data)
        vals["backend_id"] = backend.id
        if viewer is not None:
            vals["viewer_id"] = viewer.id
        if with_report:
            total, records = backend._call("run_report_all", run_number)
            vals["report_total"] = _int(total)
            vals["record_ids"] = [(0, 0, v) for v in self._record_values(records)]
        return self.create(vals)

    def _refresh(self):
        for run in self:
            data = run.backend_id._call("run_get", run.run_number)
            if not isinstance(data, dict):
                raise UserError(_("The connector server sent no run for run %s.", run.run_number))
            total, records = run.backend_id._call("run_report_all", run.run_number)
            vals = self._values_from_server(data)
            vals["report_total"] = _int(total)
            vals["record_ids"] = [(0, 0, v) for v in self._record_values(records)]
            run.record_ids.unlink()
            run.write(vals)

    # ------------------------------------------------------------------ actions

    def _action_open(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.display_name,
            "res_model": "magento.run",
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }

    def _action_open_list(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Runs"),
            "res_model": "magento.run",
            "view_mode": "tree,form",
            "domain": [("id", "in", self.ids)],
            "target": "current",
        }

    def action_refresh(self):
        """Button: reads the run and its report again."""
        self._refresh()
        return False

    def action_open(self):
        """Row button of the runs list: the run's report."""
        self.ensure_one()
        self._refresh()
        return self._action_open()

    def action_cancel(self):
        """Button: cancels a queued or running run (a running one stops at the next record)."""
        for run in self:
            run.backend_id._call("run_cancel", run.run_number)
        self._refresh()
        return False

    def action_open_runs(self):
        self.ensure_one()
        return self.env["magento.run.viewer"]._open_for(self.backend_id)


class MagentoRunRecord(models.TransientModel):
    _name = "magento.run.record"
    _description = "Magento Connector Run Record"
    _order = "id"

    run_id = fields.Many2one("magento.run", required=True, ondelete="cascade")
    kind = fields.Char()
    ref = fields.Char(string="Reference")
    outcome = fields.Selection(list(OUTCOME_LABELS.items()))
    message = fields.Text(string="Reason")
    magento_id = fields.Char(string="Magento ID")
    openerp_id = fields.Integer(string="OpenERP ID")

    def action_open_record(self):
        """Row button: opens the OpenERP record the line is about."""
        self.ensure_one()
        model = RECORD_MODELS.get(self.kind)
        if not model or not self.openerp_id or model not in self.env:
            return False
        record = self.env[model].browse(self.openerp_id).exists()
        if not record:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": model,
            "res_id": record.id,
            "view_mode": "form",
            "target": "current",
        }


class MagentoRunViewer(models.TransientModel):
    _name = "magento.run.viewer"
    _description = "Magento Connector Runs"

    backend_id = fields.Many2one("magento.backend", required=True, ondelete="cascade")
    kind = fields.Selection(RUN_KINDS, string="Job")
    state = fields.Selection(RUN_STATES)
    limit = fields.Integer(default=50)
    run_ids = fields.One2many("magento.run", "viewer_id", string="Runs")

    @api.depends("backend_id")
    def _compute_display_name(self):
        for viewer in self:
            viewer.display_name = _("Runs of %s", viewer.backend_id.name or "")

    @api.model
    def _open_for(self, backend):
        viewer = self.create({"backend_id": backend.id})
        viewer._refresh()
        return {
            "type": "ir.actions.act_window",
            "name": _("Runs"),
            "res_model": "magento.run.viewer",
            "res_id": viewer.id,
            "view_mode": "form",
            "target": "current",
        }

    @api.model
    def action_open_default(self):
        """Menu: the runs of the first backend."""
        return self._open_for(self.env["magento.backend"]._default_backend())

    def _refresh(self):
        Run = self.env["magento.run"]
        for viewer in self:
            limit = max(1, min(500, viewer.limit or 50))
            answer = viewer.backend_id._call(
                "runs_list",
                backend=viewer.backend_id.name,
                kind=viewer.kind or None,
                state=viewer.state or None,
                limit=limit,
            )
            viewer.run_ids.unlink()
            for data in answer or []:
                if isinstance(data, dict) and isinstance(data.get("id"), int):
                    Run._from_server(viewer.backend_id, data["id"], with_report=False, data=data, viewer=viewer)

    def action_refresh(self):
        """Button: reads the list again (runs in progress move on)."""
        self._refresh()
        return False
