# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""One Magento shop: the settings the connector server reads, and the buttons that call it."""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..connector_client import (
    ACTIVE_STATES,
    METHODS,
    PROTOCOL_VERSION,
    BadResponse,
    ConnectorClient,
    ConnectorError,
    RunTimeout,
)

from .magento_export_request import JOBS as EXPORT_JOBS

_logger = logging.getLogger(__name__)

#: Export job -> the model its ``ids`` are records of.
EXPORT_MODELS = {job: model for model, job in EXPORT_JOBS.items()}

#: Client method that starts a job -> run kind.
JOB_KINDS = {name: kind for name, (_server, kind) in METHODS.items() if kind}

#: System parameter holding the client timeout in seconds.
TIMEOUT_PARAM = "magento_connector.timeout"


def as_bool(value):
    """A Magento flag (bool, int or "0"/"1" string) as a bool."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no")
    return bool(value)


class MagentoBackend(models.Model):
    _name = "magento.backend"
    _description = "Magento Backend"
    _order = "name"

    name = fields.Char(
        required=True,
        help="Must equal the name of a [backends.<name>] section of the connector server's "
        "configuration: the server finds these settings by this name.",
    )
    active = fields.Boolean(default=True)
    connector_url = fields.Char(
        string="Connector URL",
        default="http://127.0.0.1:8070/RPC2",
        help="XML-RPC address of the magento-connector server.",
    )
    connector_token = fields.Char(
        groups="base.group_system",
        copy=False,
        help="The token of the [server] section of the connector server's configuration.",
    )
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        help="Company of the orders and partners the connector creates.",
    )
    root_category_id = fields.Many2one(
        "product.category",
        string="Root Category",
        help="Category exported under each store's Magento root when the store line has none. "
        "Empty: every exportable category.",
    )
    attribute_set_id = fields.Integer(default=4, help="Magento attribute set of new products.")
    product_visibility = fields.Selection(
        [
            ("1", "Not Visible Individually"),
            ("2", "Catalog"),
            ("3", "Search"),
            ("4", "Catalog, Search"),
        ],
        default="4",
    )
    price_source = fields.Selection(
        [("list_price", "Sales Price"), ("pricelist", "Pricelist of the default store")],
        default="list_price",
    )
    export_images = fields.Boolean(default=True)
    stock_field = fields.Selection(
        [
            ("virtual_available", "Forecasted Quantity"),
            ("free_qty", "Free Quantity"),
            ("qty_available", "Quantity On Hand"),
        ],
        string="Stock Quantity",
        default="virtual_available",
    )
    backorders = fields.Selection(
        [("none", "No Backorders"), ("all", "All Products"), ("selected", "Selected Products")],
        default="none",
    )
    backorder_product_ids = fields.Many2many("product.product", string="Backorder Products")
    shipping_product_id = fields.Many2one(
        "product.product",
        string="Shipping Product",
        help="Product of the shipping line of imported orders (a service).",
    )
    discount_product_id = fields.Many2one(
        "product.product",
        string="Discount Product",
        help="Product of the discount lines of imported orders (a service), used when a "
        "percentage on the line cannot reproduce Magento's discount to the cent.",
    )
    rounding_product_id = fields.Many2one(
        "product.product",
        string="Rounding Product",
        help="Product of the adjustment line that absorbs a rounding difference between "
        "Magento's totals and OpenERP's (a service).",
    )
    rounding_tolerance = fields.Float(
        default=0.02,
        help="Largest difference (in the order currency) between Magento's and OpenERP's "
        "totals that an adjustment line may absorb; a larger one sends the order to the broken "
        "orders.",
    )
    import_statuses = fields.Char(
        default="pending,processing",
        help="Comma-separated Magento order statuses to import.",
    )
    import_from_date = fields.Datetime(help="Orders created before this date are never imported.")
    import_overlap_minutes = fields.Integer(
        default=10,
        help="Each import looks back this many minutes before the last one, so no order is missed.",
    )
    confirm_orders = fields.Boolean(
        default=True, help="Confirm imported orders whose totals match Magento's."
    )
    auto_export = fields.Boolean(
        string="Export on Save",
        default=False,
        help="When a product or category is saved, ask the connector server to export it. "
        "Requests wait in the export queue while the server is down.",
    )
    store_ids = fields.One2many("magento.backend.store", "backend_id", string="Store Views")
    payment_method_ids = fields.One2many(
        "magento.payment.method", "backend_id", string="Payment Methods"
    )
    status_map_ids = fields.One2many("magento.order.status", "backend_id", string="Order Status Updates")

    _sql_constraints = [
        (
            "name_uniq",
            "unique(name)",
            "A Magento backend with this name exists already: each name matches one backend of "
            "the connector server.",
        )
    ]

    # ------------------------------------------------------------------ client

    def _connector_client(self):
        """A client of this backend's server (the token is read as superuser)."""
        self.ensure_one()
        timeout = self.env["ir.config_parameter"].sudo().get_param(TIMEOUT_PARAM) or "30"
        try:
            timeout = max(1.0, float(timeout))
        except ValueError:
            timeout = 30.0
        backend = self.sudo()
        return ConnectorClient(backend.connector_url, backend.connector_token, timeout=timeout, label=self.name)

    def _call(self, method, *args, **kwargs):
        """Calls a client method; any connector error becomes a ``UserError`` with its message."""
        self.ensure_one()
        try:
            return getattr(self._connector_client(), method)(*args, **kwargs)
        except ConnectorError as err:
            raise UserError(str(err)) from None

    @api.model
    def _default_backend(self):
        """The backend to use when only one is meant: the first active one."""
        backend = self.search([], limit=1)
        if not backend:
            raise UserError(
                _("No Magento backend is configured. Create one in Magento > Configuration > Backends.")
            )
        return backend

    # ------------------------------------------------------------------ runs

    def _try_start(self, job, selection=False, **options):
        """Starts a job and returns ``(run_id, joined)``; raises ``ConnectorError``.

        With ``selection`` (specific records), a run of the same kind already queued or running is
        not asked again (the server would answer with that run, without the selection): ``joined``
        is then True and ``run_id`` is that run.
        """
        self.ensure_one()
        client = self._connector_client()
        if selection:
            latest = client.runs_list(backend=self.name, kind=JOB_KINDS[job], limit=1)
            if (
                isinstance(latest, list)
                and latest
                and isinstance(latest[0], dict)
                and latest[0].get("state") in ACTIVE_STATES
                and isinstance(latest[0].get("id"), int)
            ):
                return latest[0]["id"], True
        run_id = getattr(client, job)(self.name, **options)
        if not isinstance(run_id, int):
            raise BadResponse("The connector server answered %s without a run id." % job)
        return run_id, False

    def _start_run(self, job, selection=False, **options):
        """Like ``_try_start``, with a ``UserError`` for the UI."""
        try:
            return self._try_start(job, selection=selection, **options)
        except ConnectorError as err:
            raise UserError(str(err)) from None

    def _open_run(self, run_id, joined=False, queued=False):
        """Reads a run from the server and opens its report.

        ``joined``: the run is another one of the same kind, busy; ``queued``: the selection was
        put in the export-request queue, sent once that run has finished.
        """
        self.ensure_one()
        run = self.env["magento.run"]._from_server(self, run_id)
        action = run._action_open()
        if not joined:
            return action
        if queued:
            message = _(
                "Run %(run)s of the same kind is still in progress on backend %(backend)s: your "
                "selection is queued (Export Requests) and is sent when that run has finished.",
                run=run_id,
                backend=self.name,
            )
        else:
            message = _(
                "Run %(run)s of the same kind is still in progress on backend %(backend)s: your "
                "selection was not sent. Start it again when that run has finished.",
                run=run_id,
                backend=self.name,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("A run is already in progress"),
                "message": message,
                "type": "warning",
                "sticky": True,
                "next": action,
            },
        }

    def _start_export(self, job, ids):
        """Starts an export of ``ids``; when a run of the same kind is busy, queues them instead.

        Returns ``(run_id, joined)``.
        """
        self.ensure_one()
        run_id, joined = self._start_run(job, selection=True, ids=list(ids))
        if joined:
            model = EXPORT_MODELS[job]
            self.env["magento.export.request"]._enqueue(model, list(ids), backends=self)
        return run_id, joined

    def _run_job(self, job, selection=False, **options):
        """Starts a job and opens its report."""
        run_id, joined = self._start_run(job, selection=selection, **options)
        return self._open_run(run_id, joined=joined)

    @api.model
    def _export_records(self, job, ids):
        """Export buttons of products and categories: starts ``job`` for ``ids`` on every active backend."""
        if not ids:
            raise UserError(_("Select the records to export first."))
        backends = self.search([])
        if not backends:
            self._default_backend()
        if len(backends) == 1:
            run_id, joined = backends._start_export(job, ids)
            return backends._open_run(run_id, joined=joined, queued=joined)
        runs = self.env["magento.run"]
        for backend in backends:
            run_id, _joined = backend._start_export(job, ids)
            runs |= runs._from_server(backend, run_id)
        return runs._action_open_list()

    # ------------------------------------------------------------------ buttons

    def action_check_connection(self):
        self.ensure_one()
        version = self._call("version")
        if not isinstance(version, dict):
            version = {}
        answer = self._call("check", self.name)
        vals = self.env["magento.check.result"]._values_from_answer(self, answer)
        vals["server_version"] = _(
            "%(version)s (protocol %(protocol)s)",
            version=version.get("version", "?"),
            protocol=version.get("protocol", "?"),
        )
        if version.get("protocol") != PROTOCOL_VERSION:
            vals["ok"] = False
            vals["server_version"] += " " + _("- this addon speaks protocol %s", PROTOCOL_VERSION)
        result = self.env["magento.check.result"].create(vals)
        return {
            "type": "ir.actions.act_window",
            "name": _("Connection test"),
            "res_model": "magento.check.result",
            "res_id": result.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_load_stores(self):
        self.ensure_one()
        answer = self._call("stores", self.name)
        created, updated, gone = self._apply_stores(answer)
        message = _(
            "%(created)s store view(s) added, %(updated)s updated.",
            created=created,
            updated=updated,
        )
        if gone:
            message += " " + _(
                "These lines have no store view in Magento any more: %s.", ", ".join(gone)
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Store views loaded"),
                "message": message,
                "type": "success" if not gone else "warning",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _apply_stores(self, answer):
        """Creates or updates store lines from a ``magento.stores`` answer.

        Only Magento's data is written on existing lines; the merchant's mapping (language,
        pricelist, warehouse, root category, flags) is kept. Returns ``(created, updated, gone)``.
        """
        self.ensure_one()
        if not isinstance(answer, dict) or not isinstance(answer.get("store_views"), list):
            raise UserError(_("The connector server sent no store view list."))
        groups = {g.get("id"): g for g in answer.get("groups") or [] if isinstance(g, dict)}
        existing = {line.magento_store_id: line for line in self.store_ids}
        seen = set()
        created = updated = 0
        for view in answer["store_views"]:
            if not isinstance(view, dict) or not isinstance(view.get("id"), int):
                continue
            seen.add(view["id"])
            group = groups.get(view.get("group_id")) or {}
            root = view.get("root_category_id") or group.get("root_category_id") or 0
            vals = {
                "name": view.get("name") or view.get("code") or str(view["id"]),
                "magento_store_code": view.get("code") or False,
                "magento_website_id": view.get("website_id") or 0,
                "magento_group_id": view.get("group_id") or 0,
                "magento_root_category_id": root,
            }
            line = existing.get(view["id"])
            if line:
                line.write(vals)
                updated += 1
            else:
                active = as_bool(view.get("is_active", True))
                vals.update(
                    backend_id=self.id,
                    magento_store_id=view["id"],
                    import_orders=active,
                    export_catalog=active,
                )
                self.env["magento.backend.store"].create(vals)
                created += 1
        gone = [line.display_name for store_id, line in existing.items() if store_id not in seen]
        return created, updated, gone

    def action_open_tax_mapping(self):
        self.ensure_one()
        answer = self._call("taxes_sync", self.name)
        wizard = self.env["magento.tax.mapping"]._create_from_answer(self, answer)
        return {
            "type": "ir.actions.act_window",
            "name": _("Tax mapping"),
            "res_model": "magento.tax.mapping",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_open_synchronize(self):
        self.ensure_one()
        wizard = self.env["magento.synchronize"].create({"backend_id": self.id})
        return wizard._action_open()

    def action_open_runs(self):
        self.ensure_one()
        return self.env["magento.run.viewer"]._open_for(self)

    def action_open_broken_orders(self):
        self.ensure_one()
        return self.env["magento.broken.order.viewer"]._open_for(self)

    # ------------------------------------------------------------------ crons

    def _cron_start(self, job, **options):
        """Starts ``job`` on every active backend; a backend that fails is logged, not fatal."""
        run_ids = {}
        for backend in self.search([]):
            try:
                run_ids[backend.id] = getattr(backend._connector_client(), job)(backend.name, **options)
            except ConnectorError as err:
                _logger.warning("Magento backend %s: %s could not start: %s", backend.name, job, err)
        return run_ids

    @api.model
    def _cron_import_orders(self):
        return self._cron_start("import_orders")

    @api.model
    def _cron_export_stock(self):
        return self._cron_start("export_stock")

    @api.model
    def _cron_export_catalog(self, wait=60):
        """Categories first (products refer to them), then products."""
        started = {}
        for backend in self.search([]):
            client = backend._connector_client()
            try:
                run_id = client.export_categories(backend.name)
                try:
                    client.wait_for_run(run_id, timeout=wait, poll=2)
                except RunTimeout:
                    _logger.info("Magento backend %s: categories run %s still running", backend.name, run_id)
                started[backend.id] = client.export_products(backend.name)
            except ConnectorError as err:
                _logger.warning("Magento backend %s: catalog export could not start: %s", backend.name, err)
        return started
