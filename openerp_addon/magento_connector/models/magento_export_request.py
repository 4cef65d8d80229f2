# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Export-on-save queue: a request stays here until the connector server accepted a run for it.

Saving a product or a category never waits for the server: the request is written in the same
transaction as the record, and once that transaction is committed a background thread asks the
server. When the server is down the request stays pending and the "send pending export requests"
cron retries it.
"""

import logging
import threading
from datetime import timedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.modules import module
from odoo.modules.registry import Registry
from odoo.tools import config

from ..connector_client import ConnectorError

_logger = logging.getLogger(__name__)

#: Model of a request -> client method that exports it.
JOBS = {"product.product": "export_products", "product.category": "export_categories"}

#: Sent requests are deleted after this many days.
KEEP_SENT_DAYS = 30

#: Fields whose change alone does not make a record worth exporting (chatter, activities, and
#: the cost that every stock valuation rewrites).
_IGNORED_FIELDS_PREFIXES = ("message_", "activity_", "website_message_")
_IGNORED_FIELDS = {"standard_price", "priority", "color", "sequence"}


def _testing():
    """True under Odoo's test runner, where a thread with its own cursor must not run."""
    return bool(
        config.get("test_enable")
        or getattr(threading.current_thread(), "testing", False)
        or getattr(module, "current_test", None)
    )


def _send_in_thread(dbname, request_ids):
    """Sends requests with a cursor of its own, after the saving transaction was committed."""
    threading.current_thread().dbname = dbname
    try:
        with Registry(dbname).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["magento.export.request"].browse(request_ids).exists()._send(commit=True)
    except Exception:
        _logger.exception("Magento export requests %s stay pending for the cron", list(request_ids))


class MagentoExportRequest(models.Model):
    _name = "magento.export.request"
    _description = "Magento Export Request"
    _order = "id desc"

    backend_id = fields.Many2one("magento.backend", ondelete="cascade", index=True)
    model = fields.Selection(
        [("product.product", "Product"), ("product.category", "Product Category")],
        required=True,
    )
    res_id = fields.Integer(string="Record ID", required=True)
    state = fields.Selection(
        [("pending", "Pending"), ("sent", "Sent")], default="pending", required=True, index=True
    )
    attempts = fields.Integer(default=0)
    last_error = fields.Char()
    run_id = fields.Integer(string="Run")

    @api.depends("model", "res_id")
    def _compute_display_name(self):
        for request in self:
            record = None
            if request.model and request.res_id:
                record = self.env[request.model].sudo().browse(request.res_id).exists()
            request.display_name = record.display_name if record else "%s #%s" % (request.model, request.res_id)

    # ------------------------------------------------------------------ enqueue

    @api.model
    def _worth_exporting(self, vals):
        """False when a write only touches chatter/activity fields."""
        if vals is None:
            return True
        return any(
            not name.startswith(_IGNORED_FIELDS_PREFIXES) and name not in _IGNORED_FIELDS for name in vals
        )

    @api.model
    def _enqueue(self, model, res_ids, backends=None):
        """Queues ``res_ids`` of ``model`` for ``backends`` (default: every backend with export on
        save); returns the requests.

        Called from ``create``/``write`` of products and categories, by any user, and by the
        export buttons when a run of the same kind is busy: runs as superuser.
        """
        if not res_ids:
            return self.browse()
        if backends is None:
            if self.env.context.get("magento_no_auto_export"):
                return self.browse()
            backends = self.env["magento.backend"].sudo().search([("auto_export", "=", True)])
        if not backends:
            return self.browse()
        requests = self.sudo()
        pending = requests.search(
            [
                ("state", "=", "pending"),
                ("model", "=", model),
                ("res_id", "in", list(res_ids)),
                ("backend_id", "in", backends.ids),
            ]
        )
        have = {(r.backend_id.id, r.res_id) for r in pending}
        vals_list = [
            {"backend_id": backend.id, "model": model, "res_id": res_id}
            for backend in backends
            for res_id in res_ids
            if (backend.id, res_id) not in have
        ]
        created = requests.create(vals_list) if vals_list else requests.browse()
        queued = created | pending
        queued._send_after_commit()
        return queued

    def _send_after_commit(self):
        """Sends these requests from a background thread once the current transaction is committed.

        One thread per transaction, whatever the number of saves in it.
        """
        if not self or _testing():
            return
        postcommit = self.env.cr.postcommit
        ids = postcommit.data.get("magento_export_request_ids")
        if ids is None:
            ids = postcommit.data["magento_export_request_ids"] = set()
            dbname = self.env.cr.dbname

            def start():
                threading.Thread(
                    target=_send_in_thread,
                    args=(dbname, tuple(sorted(ids))),
                    name="magento-export-request",
                    daemon=True,
                ).start()

            postcommit.add(start)
        ids.update(self.ids)

    # ------------------------------------------------------------------ send

    def _lock_pending(self):
        """The pending requests among these that no other transaction is sending."""
        if not self:
            return self
        self.flush_model(["state"])
        self.env.cr.execute(
            "SELECT id FROM magento_export_request WHERE id IN %s AND state = 'pending' "
            "FOR UPDATE SKIP LOCKED",
            [tuple(self.ids)],
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _send(self, commit=False):
        """Asks the server for one run per backend and model; returns the number of requests sent.

        On success a request becomes ``sent`` with its run id. When the server cannot be reached or
        refuses, the request stays ``pending`` with the reason and is retried later. ``commit``
        commits after each group (crons and background threads only).
        """
        requests = self.sudo().filtered(lambda r: r.state == "pending")
        groups = {}
        for request in requests:
            groups.setdefault((request.backend_id, request.model), requests.browse())
            groups[(request.backend_id, request.model)] |= request
        sent = 0
        for (backend, model), group in groups.items():
            # Locked until the commit below: a cron and a background thread never send the same request.
            group = group._lock_pending()
            if group:
                sent += group._send_group(backend, model)
            if commit:
                self.env.cr.commit()
        return sent

    def _send_group(self, backend, model):
        if not backend or not backend.active:
            group_msg = _("The backend is archived or deleted.")
            self.write({"last_error": group_msg})
            return 0
        existing = self.env[model].browse(self.mapped("res_id")).exists()
        gone = self.filtered(lambda r: r.res_id not in existing.ids)
        if gone:
            gone.write({"state": "sent", "last_error": _("The record was deleted before it could be sent.")})
        todo = self - gone
        if not todo:
            return 0
        try:
            run_id, joined = backend._try_start(JOBS[model], selection=True, ids=sorted(set(todo.mapped("res_id"))))
        except ConnectorError as err:
            for request in todo:
                request.write({"attempts": request.attempts + 1, "last_error": str(err)[:500]})
            _logger.info("Magento backend %s: %d export request(s) stay pending: %s", backend.name, len(todo), err)
            return 0
        if joined:
            todo.write({"last_error": _("Waiting for run %s of the same kind to finish.", run_id)})
            return 0
        for request in todo:
            request.write(
                {"state": "sent", "run_id": run_id, "attempts": request.attempts + 1, "last_error": False}
            )
        return len(todo)

    @api.model
    def _cron_send_pending(self, limit=1000):
        """Retries pending requests and forgets the sent ones older than ``KEEP_SENT_DAYS``."""
        pending = self.search([("state", "=", "pending")], order="id", limit=limit)
        sent = pending._send(commit=True)
        old = self.search(
            [("state", "=", "sent"), ("write_date", "<", fields.Datetime.now() - timedelta(days=KEEP_SENT_DAYS))]
        )
        old.unlink()
        return sent

    def action_send_now(self):
        """Button: sends the selected pending requests now."""
        pending = self.filtered(lambda r: r.state == "pending")
        sent = pending._send()
        still = len(pending) - sent
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Export requests"),
                "message": _(
                    "%(sent)s request(s) sent, %(still)s still pending (see Last Error).",
                    sent=sent,
                    still=still,
                ),
                "type": "success" if not still else "warning",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
