# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""XML-RPC client of the magento-connector server (docs/PROTOCOL.md, protocol version 1).

This module is the only place of the addon that talks to the connector server. It must not
import ``odoo``: it is tested outside OpenERP against the real server binary.

Every transport or server error becomes a :class:`ConnectorError` whose ``str()`` is a sentence
a merchant can act on; the token never appears in a message or a ``repr``.
"""

import http.client
import socket
import ssl
import time
import urllib.parse
import xmlrpc.client
from datetime import datetime
from xml.parsers.expat import ExpatError

#: Protocol version this client speaks.
PROTOCOL_VERSION = 1

#: Default XML-RPC URL of the server.
DEFAULT_URL = "http://127.0.0.1:8070/RPC2"

#: Run states after which a run never changes again.
FINAL_STATES = frozenset({"done", "failed", "cancelled"})

#: Run states of a run that is not finished.
ACTIVE_STATES = frozenset({"queued", "running"})

#: Outcomes a run report record can have.
OUTCOMES = ("created", "updated", "skipped", "failed", "planned")

#: Codes of broken orders.
BROKEN_CODES = (
    "unknown_sku",
    "unmapped_tax",
    "unknown_payment",
    "totals_mismatch",
    "invalid_address",
    "openerp_refused",
    "magento_data",
)

#: Kinds accepted by ``bindings.get``.
BINDING_KINDS = ("category", "product", "order", "partner")

#: Python method name -> (server method, run kind it starts or None).
METHODS = {
    "version": ("connector.version", None),
    "check": ("connector.check", None),
    "stores": ("magento.stores", None),
    "taxes_sync": ("taxes.sync", None),
    "export_categories": ("catalog.export_categories", "categories"),
    "export_products": ("catalog.export_products", "products"),
    "export_stock": ("stock.export", "stock"),
    "import_orders": ("orders.import", "orders_import"),
    "reimport_orders": ("orders.reimport", "orders_reimport"),
    "export_order_status": ("orders.export_status", "order_status"),
    "run_get": ("runs.get", None),
    "runs_list": ("runs.list", None),
    "run_cancel": ("runs.cancel", None),
    "run_report": ("runs.report", None),
    "list_broken": ("orders.list_broken", None),
    "bindings_get": ("bindings.get", None),
}

# Server methods whose first parameter is a backend name.
_BACKEND_METHODS = frozenset(
    server for name, (server, _kind) in METHODS.items() if not name.startswith("run") and name != "version"
)

_MAX_SERVER_TEXT = 500


class ConnectorError(Exception):
    """Base of every error of this module; ``str(error)`` is a readable sentence for the UI."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


class ConfigurationError(ConnectorError):
    """The client cannot be used as configured (no token, not an http(s) URL)."""


class ServerUnreachable(ConnectorError):
    """Nothing answers at the URL: connection refused, unknown host, network down, TLS failure."""


class ServerTimeout(ConnectorError):
    """The server accepted the connection but did not answer in time."""


class HttpError(ConnectorError):
    """The server answered with an HTTP error status instead of an XML-RPC response."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class BadResponse(ConnectorError):
    """The answer is not XML-RPC: the URL probably points at something else."""


class ServerFault(ConnectorError):
    """The server answered with an XML-RPC fault; ``code`` and ``fault_string`` keep the details."""

    def __init__(self, message, code, fault_string, method):
        super().__init__(message)
        self.code = code
        self.fault_string = fault_string
        self.method = method


class AuthenticationError(ServerFault):
    """Fault 401: the server refused the token."""


class NotFound(ServerFault):
    """Fault 404: unknown run or broken order (see :class:`UnknownBackend` for backends)."""


class UnknownBackend(NotFound):
    """Fault 404 on a backend: the server has no backend of that name."""


class InvalidParams(ServerFault):
    """Fault -32602: wrong parameter count, type, unknown option or bad value."""


class MethodNotFound(ServerFault):
    """Fault -32601: the server does not know the method (older server)."""


class PeerError(ServerFault):
    """Fault 502: Magento or OpenERP failed during a synchronous method."""


class RequestTimeout(ServerFault):
    """Fault 408: the server gave up on the request."""


class RunTimeout(ConnectorError):
    """:meth:`ConnectorClient.wait_for_run` gave up; ``run`` is the last state read."""

    def __init__(self, message, run):
        super().__init__(message)
        self.run = run


def safe_url(url):
    """``url`` without user info, query or fragment, for messages."""
    try:
        parts = urllib.parse.urlsplit(url or "")
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None else "%s:%s" % (host, port)
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def parse_datetime(value):
    """A protocol date string (``YYYY-MM-DD HH:MM:SS``, UTC) as a naive ``datetime``; None if absent or invalid."""
    if not isinstance(value, str) or not value:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(value[:19], fmt)
        except ValueError:
            continue
    return None


def _clip(text):
    text = str(text).strip()
    if len(text) > _MAX_SERVER_TEXT:
        text = text[:_MAX_SERVER_TEXT] + "..."
    return text


class _Transport(xmlrpc.client.Transport):
    """HTTP transport with a socket timeout and extra headers."""

    def __init__(self, timeout, headers):
        super().__init__(headers=headers)
        self._timeout = timeout

    def make_connection(self, host):
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


class _SafeTransport(xmlrpc.client.SafeTransport):
    """HTTPS transport with a socket timeout and extra headers."""

    def __init__(self, timeout, headers):
        super().__init__(headers=headers)
        self._timeout = timeout

    def make_connection(self, host):
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


def _expect_struct(answer, method):
    """``answer`` when it is a struct; a :class:`BadResponse` otherwise."""
    if not isinstance(answer, dict):
        raise BadResponse(
            "The connector server answered %s with %s instead of a struct: it does not speak "
            "protocol %d." % (method, type(answer).__name__, PROTOCOL_VERSION)
        )
    return answer


def _options(**values):
    """An options struct without the unset (None) entries: ``<nil/>`` is never sent."""
    return {key: value for key, value in values.items() if value is not None}


class ConnectorClient:
    """Client of one connector server.

    ``url`` is the XML-RPC endpoint (``http://127.0.0.1:8070/RPC2``), ``token`` the shared secret
    of the server's ``[server] token``, ``timeout`` the socket timeout in seconds and ``label``
    the name used in messages (the OpenERP backend record's name).

    A new ``ServerProxy`` is made for every call, so one client can be shared by threads.
    """

    def __init__(self, url, token, timeout=30, label=None):
        self._url = (url or "").strip()
        self.__token = token or ""
        self.timeout = timeout
        self.label = label

    def __repr__(self):
        return "<ConnectorClient %s>" % safe_url(self._url)

    @property
    def url(self):
        """The server URL without credentials."""
        return safe_url(self._url)

    # ------------------------------------------------------------------ transport

    def _proxy(self):
        parts = urllib.parse.urlsplit(self._url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                "The connector URL %r is not an http:// or https:// URL (expected something like %s)."
                % (self.url or self._url[:80], DEFAULT_URL)
            )
        if not self.__token:
            raise ConfigurationError(
                "No connector token is configured%s. Copy the `token` of the `[server]` section of "
                "the server's configuration into the backend's Connector token field."
                % self._on_backend()
            )
        headers = [("Authorization", "Bearer " + self.__token)]
        transport_class = _SafeTransport if parts.scheme == "https" else _Transport
        return xmlrpc.client.ServerProxy(
            self._url,
            transport=transport_class(self.timeout, headers),
            allow_none=False,
        )

    def _on_backend(self, backend=None):
        name = backend or self.label
        return " on backend %s" % name if name else ""

    def call(self, method, *params):
        """Calls ``method`` with ``params`` and returns the answer, or raises a :class:`ConnectorError`."""
        proxy = self._proxy()
        backend = params[0] if method in _BACKEND_METHODS and params and isinstance(params[0], str) else None
        try:
            return getattr(proxy, method)(*params)
        except xmlrpc.client.Fault as fault:
            raise self._fault_error(method, fault, backend) from None
        except xmlrpc.client.ProtocolError as err:
            raise self._http_error(err) from None
        except (socket.timeout, TimeoutError):
            raise ServerTimeout(
                "The connector server at %s did not answer within %s s. It may be busy; try again, "
                "or check its log." % (self.url, self.timeout)
            ) from None
        except ConnectionRefusedError:
            raise ServerUnreachable(
                "The connector server at %s is not reachable: connection refused. Start it with "
                "`magento-connector serve`." % self.url
            ) from None
        except socket.gaierror:
            raise ServerUnreachable(
                "The connector server at %s is not reachable: the host name cannot be resolved. "
                "Check the connector URL on the backend." % self.url
            ) from None
        except ssl.SSLError as err:
            raise ServerUnreachable(
                "The connector server at %s is not reachable: TLS failed (%s)."
                % (self.url, _clip(getattr(err, "reason", None) or err))
            ) from None
        except (ConnectionResetError, ConnectionAbortedError, http.client.RemoteDisconnected):
            raise ServerUnreachable(
                "The connector server at %s closed the connection without answering. Check that "
                "the URL points at the connector server and that it is running." % self.url
            ) from None
        except OSError as err:
            raise ServerUnreachable(
                "The connector server at %s is not reachable: %s. Start it with `magento-connector "
                "serve`, or check the connector URL on the backend."
                % (self.url, _clip(err.strerror or err))
            ) from None
        except (ExpatError, xmlrpc.client.ResponseError, http.client.HTTPException):
            raise BadResponse(
                "The server at %s did not answer with XML-RPC. Check that the connector URL points "
                "at the connector server (it ends with /RPC2)." % self.url
            ) from None
        except (TypeError, OverflowError) as err:
            raise InvalidParams(
                "The parameters of %s cannot be sent: %s." % (method, _clip(err)),
                -32602,
                str(err),
                method,
            ) from None

    def _fault_error(self, method, fault, backend):
        code = fault.faultCode
        text = _clip(fault.faultString or "")
        if code == 401:
            return AuthenticationError(
                "The connector server at %s refused the token configured%s. Set the backend's "
                "Connector token to the `token` of the `[server]` section of the server's "
                "configuration." % (self.url, self._on_backend(backend)),
                code,
                text,
                method,
            )
        if code == 404:
            if backend is not None and "backend" in text.lower():
                return UnknownBackend(
                    "The connector server has no backend named %r (%s). Add a `[backends.%s]` "
                    "section to its configuration, or rename the OpenERP backend to match one."
                    % (backend, text, backend),
                    code,
                    text,
                    method,
                )
            return NotFound("The connector server did not find it: %s." % text.rstrip("."), code, text, method)
        if code == -32602:
            return InvalidParams(
                "The connector server refused the parameters of %s: %s." % (method, text.rstrip(".")),
                code,
                text,
                method,
            )
        if code == -32601:
            return MethodNotFound(
                "The connector server does not know the method %s: it is older than this addon "
                "(protocol %d). Upgrade magento-connector." % (method, PROTOCOL_VERSION),
                code,
                text,
                method,
            )
        if code == 502:
            return PeerError("Magento or OpenERP failed: %s." % text.rstrip("."), code, text, method)
        if code == 408:
            return RequestTimeout(
                "The connector server gave up on %s (request timed out). Try again later." % method,
                code,
                text,
                method,
            )
        if code == -32603:
            return ServerFault(
                "The connector server had an internal error on %s; its log has the details." % method,
                code,
                text,
                method,
            )
        return ServerFault(
            "The connector server answered %s with an error (code %s): %s." % (method, code, text.rstrip(".")),
            code,
            text,
            method,
        )

    def _http_error(self, err):
        status = err.errcode
        reason = _clip(err.errmsg or "")
        if status == 401:
            hint = "It refused the token configured%s." % self._on_backend()
        elif status == 404:
            hint = "Check the connector URL: it ends with /RPC2."
        elif status in (502, 503, 504):
            hint = "A proxy in front of it could not reach it; check that it is running."
        else:
            hint = "Check the connector URL and the server's log."
        return HttpError(
            "The connector server at %s answered HTTP %s %s. %s" % (self.url, status, reason, hint),
            status,
        )

    # ------------------------------------------------------------------ methods

    def version(self):
        """``connector.version()``: ``{version, protocol, backends, magento_kinds}``."""
        return self.call("connector.version")

    def check(self, backend):
        """``connector.check(backend)``: what works and what does not on both ends."""
        return self.call("connector.check", backend)

    def stores(self, backend):
        """``magento.stores(backend)``: ``{websites, groups, store_views}``."""
        return self.call("magento.stores", backend)

    def taxes_sync(self, backend):
        """``taxes.sync(backend)``: ``{run_id, classes, mapping}``."""
        return self.call("taxes.sync", backend)

    def export_categories(self, backend, ids=None, dry_run=None, full=None):
        """Starts a ``categories`` run; returns its id."""
        return self.call("catalog.export_categories", backend, _options(ids=ids, dry_run=dry_run, full=full))

    def export_products(self, backend, ids=None, dry_run=None, full=None):
        """Starts a ``products`` run; returns its id."""
        return self.call("catalog.export_products", backend, _options(ids=ids, dry_run=dry_run, full=full))

    def export_stock(self, backend, ids=None, dry_run=None, full=None):
        """Starts a ``stock`` run; returns its id."""
        return self.call("stock.export", backend, _options(ids=ids, dry_run=dry_run, full=full))

    def import_orders(self, backend, stores=None, since=None, increment_ids=None, dry_run=None):
        """Starts an ``orders_import`` run; ``since`` is a ``datetime`` or a protocol date string."""
        if isinstance(since, datetime):
            since = since.strftime("%Y-%m-%d %H:%M:%S")
        return self.call(
            "orders.import",
            backend,
            _options(stores=stores, since=since, increment_ids=increment_ids, dry_run=dry_run),
        )

    def reimport_orders(self, backend, increment_ids=None):
        """Starts an ``orders_reimport`` run (``increment_ids`` None: every broken order)."""
        return self.call("orders.reimport", backend, _options(increment_ids=increment_ids))

    def export_order_status(self, backend, increment_ids=None, dry_run=None):
        """Starts an ``order_status`` run; returns its id."""
        return self.call("orders.export_status", backend, _options(increment_ids=increment_ids, dry_run=dry_run))

    def run_get(self, run_id):
        """``runs.get(run_id)``: the run with its last messages."""
        return self.call("runs.get", int(run_id))

    def runs_list(self, backend=None, kind=None, state=None, limit=None):
        """``runs.list(filters)``: runs newest first, without messages."""
        return self.call("runs.list", _options(backend=backend, kind=kind, state=state, limit=limit))

    def run_cancel(self, run_id):
        """``runs.cancel(run_id)``: ``{id, state}``."""
        return self.call("runs.cancel", int(run_id))

    def run_report(self, run_id, outcome=None, offset=None, limit=None):
        """``runs.report(run_id, options)``: ``{total, records}``."""
        return self.call("runs.report", int(run_id), _options(outcome=outcome, offset=offset, limit=limit))

    def list_broken(self, backend):
        """``orders.list_broken(backend)``: broken orders with reason and hint."""
        return self.call("orders.list_broken", backend)

    def bindings_get(self, backend, kind, openerp_ids):
        """``bindings.get(backend, kind, openerp_ids)``: Magento ids bound to OpenERP ids."""
        return self.call("bindings.get", backend, kind, [int(i) for i in openerp_ids])

    # ------------------------------------------------------------------ helpers

    def wait_for_run(self, run_id, timeout=60.0, poll=1.0):
        """Polls ``runs.get`` until the run is done, failed or cancelled and returns it.

        Raises :class:`RunTimeout` (with the last state read) when ``timeout`` seconds pass first.
        """
        deadline = time.monotonic() + timeout
        while True:
            run = _expect_struct(self.run_get(run_id), "runs.get")
            if run.get("state") in FINAL_STATES:
                return run
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunTimeout(
                    "Run %s is still %s after %s s (%s%% done). It goes on on the server; open its "
                    "report later." % (run_id, run.get("state"), timeout, run.get("percent", 0)),
                    run,
                )
            time.sleep(min(poll, remaining))

    def run_report_all(self, run_id, outcome=None, page=1000, max_records=5000):
        """Every record of a run report (at most ``max_records``), paging through ``runs.report``.

        Returns ``(total, records)`` where ``total`` is the server's count.
        """
        records = []
        total = 0
        offset = 0
        while len(records) < max_records:
            answer = _expect_struct(
                self.run_report(run_id, outcome=outcome, offset=offset, limit=min(page, max_records - len(records))),
                "runs.report",
            )
            total = answer.get("total") if isinstance(answer.get("total"), int) else 0
            batch = answer.get("records") if isinstance(answer.get("records"), list) else []
            records.extend(batch)
            offset += len(batch)
            if not batch or offset >= total:
                break
        return total, records
