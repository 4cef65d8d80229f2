"""``connector_client`` against a small XML-RPC server in this process.

What these tests pin down does not depend on the Rust server: the header and parameters the
client sends, how every kind of failure becomes a readable ``ConnectorError``, and the polling
and paging helpers. ``test_server_api.py`` runs the same client against the real server.
"""

import http.server
import socket
import threading
import time
import xmlrpc.client
from datetime import datetime

import pytest

from client_loader import load_client_module

cc = load_client_module()

TOKEN = "unit-test-token-3f9a"


class FakeServer:
    """An XML-RPC endpoint whose answers the test decides; it records what it received."""

    def __init__(self):
        self.calls = []
        self.headers = []
        self.handlers = {}
        self.http_status = None
        self.raw_body = None
        self.delay = 0.0
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                params, method = xmlrpc.client.loads(body)
                fake.calls.append((method, params))
                fake.headers.append(dict(self.headers))
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.http_status:
                    self.send_response(fake.http_status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if fake.raw_body is not None:
                    payload = fake.raw_body
                else:
                    handler = fake.handlers.get(method)
                    try:
                        result = handler(*params) if handler else "ok"
                        payload = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
                    except xmlrpc.client.Fault as fault:
                        payload = xmlrpc.client.dumps(fault)
                    payload = payload.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/RPC2" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake():
    server = FakeServer()
    yield server
    server.close()


def client_for(fake, token=TOKEN, **kwargs):
    return cc.ConnectorClient(fake.url, token, label="shop", **kwargs)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_fault(code, text):
    def handler(*_params):
        raise xmlrpc.client.Fault(code, text)

    return handler


# ---------------------------------------------------------------------- what is sent


def test_the_token_travels_as_a_bearer_header(fake):
    client_for(fake).version()
    assert fake.headers[0]["Authorization"] == "Bearer " + TOKEN


def test_job_options_leave_out_unset_values(fake):
    fake.handlers["catalog.export_products"] = lambda backend, options: 7
    assert client_for(fake).export_products("shop", ids=[3, 4], dry_run=True) == 7
    assert fake.calls == [("catalog.export_products", ("shop", {"ids": [3, 4], "dry_run": True}))]


def test_reimport_of_every_broken_order_sends_an_empty_options_struct(fake):
    client_for(fake).reimport_orders("shop")
    assert fake.calls == [("orders.reimport", ("shop", {}))]


def test_import_orders_sends_since_as_a_protocol_date(fake):
    client_for(fake).import_orders("shop", since=datetime(2024, 5, 6, 7, 8, 9), stores=["fr", 1])
    assert fake.calls == [("orders.import", ("shop", {"since": "2024-05-06 07:08:09", "stores": ["fr", 1]}))]


SAMPLE_ARGS = {
    "version": (),
    "check": ("shop",),
    "stores": ("shop",),
    "taxes_sync": ("shop",),
    "export_categories": ("shop",),
    "export_products": ("shop",),
    "export_stock": ("shop",),
    "import_orders": ("shop",),
    "reimport_orders": ("shop",),
    "export_order_status": ("shop",),
    "run_get": (5,),
    "runs_list": (),
    "run_cancel": (5,),
    "run_report": (5,),
    "list_broken": ("shop",),
    "bindings_get": ("shop", "product", [1, 2]),
}

EXPECTED_PARAMS = {
    "version": (),
    "check": ("shop",),
    "stores": ("shop",),
    "taxes_sync": ("shop",),
    "export_categories": ("shop", {}),
    "export_products": ("shop", {}),
    "export_stock": ("shop", {}),
    "import_orders": ("shop", {}),
    "reimport_orders": ("shop", {}),
    "export_order_status": ("shop", {}),
    "run_get": (5,),
    "runs_list": ({},),
    "run_cancel": (5,),
    "run_report": (5, {}),
    "list_broken": ("shop",),
    "bindings_get": ("shop", "product", [1, 2]),
}


@pytest.mark.parametrize("name", sorted(cc.METHODS))
def test_each_client_method_calls_its_protocol_method(fake, name):
    getattr(client_for(fake), name)(*SAMPLE_ARGS[name])
    assert fake.calls == [(cc.METHODS[name][0], EXPECTED_PARAMS[name])]


def test_runs_list_and_report_filters(fake):
    client = client_for(fake)
    client.runs_list(backend="shop", kind="products", state="running", limit=10)
    client.run_report(9, outcome="failed", offset=200, limit=100)
    assert fake.calls == [
        ("runs.list", ({"backend": "shop", "kind": "products", "state": "running", "limit": 10},)),
        ("runs.report", (9, {"outcome": "failed", "offset": 200, "limit": 100})),
    ]


def test_one_client_serves_many_threads(fake):
    fake.handlers["runs.get"] = lambda run_id: {"id": run_id, "state": "done"}
    client = client_for(fake)
    results = {}

    def worker(n):
        results[n] = client.run_get(n)["id"]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {n: n for n in range(1, 9)}


# ---------------------------------------------------------------------- errors


def test_server_down_says_how_to_start_it():
    url = "http://127.0.0.1:%d/RPC2" % free_port()
    with pytest.raises(cc.ServerUnreachable) as err:
        cc.ConnectorClient(url, TOKEN).version()
    assert str(err.value) == (
        "The connector server at %s is not reachable: connection refused. Start it with "
        "`magento-connector serve`." % url
    )
    assert isinstance(err.value, cc.ConnectorError)


def test_unknown_host_names_the_url():
    with pytest.raises(cc.ServerUnreachable) as err:
        cc.ConnectorClient("http://no-such-host.invalid:8070/RPC2", TOKEN, timeout=5).version()
    assert "no-such-host.invalid" in str(err.value)
    assert "cannot be resolved" in str(err.value)


def test_a_silent_server_times_out(fake):
    fake.delay = 2.0
    with pytest.raises(cc.ServerTimeout) as err:
        client_for(fake, timeout=0.3).version()
    assert "did not answer within 0.3 s" in str(err.value)


def test_wrong_token_names_the_backend_and_never_the_token(fake):
    fake.handlers["magento.stores"] = raise_fault(401, "missing or wrong token")
    with pytest.raises(cc.AuthenticationError) as err:
        client_for(fake).stores("shop")
    message = str(err.value)
    assert "refused the token configured on backend shop" in message
    assert TOKEN not in message and TOKEN not in repr(err.value)
    assert err.value.code == 401


def test_unknown_backend(fake):
    fake.handlers["magento.stores"] = raise_fault(404, "unknown backend `nope`")
    with pytest.raises(cc.UnknownBackend) as err:
        client_for(fake).stores("nope")
    assert "has no backend named 'nope'" in str(err.value)
    assert "[backends.nope]" in str(err.value)


def test_unknown_run_is_not_taken_for_a_backend(fake):
    fake.handlers["runs.get"] = raise_fault(404, "unknown run 99")
    with pytest.raises(cc.NotFound) as err:
        client_for(fake).run_get(99)
    assert not isinstance(err.value, cc.UnknownBackend)
    assert "unknown run 99" in str(err.value)


def test_bad_parameters_name_the_method_and_the_server_reason(fake):
    fake.handlers["catalog.export_products"] = raise_fault(-32602, "unknown option `idz`")
    with pytest.raises(cc.InvalidParams) as err:
        client_for(fake).call("catalog.export_products", "shop", {"idz": [1]})
    assert str(err.value) == "The connector server refused the parameters of catalog.export_products: unknown option `idz`."


@pytest.mark.parametrize(
    "code,error_class,words",
    [
        (-32601, cc.MethodNotFound, "Upgrade magento-connector"),
        (502, cc.PeerError, "Magento or OpenERP failed: Magento answered 623"),
        (408, cc.RequestTimeout, "timed out"),
        (-32603, cc.ServerFault, "internal error"),
        (413, cc.ServerFault, "(code 413)"),
    ],
)
def test_other_faults(fake, code, error_class, words):
    fake.handlers["connector.check"] = raise_fault(code, "Magento answered 623")
    with pytest.raises(error_class) as err:
        client_for(fake).check("shop")
    assert words in str(err.value)
    assert err.value.code == code


def test_http_error_status(fake):
    fake.http_status = 404
    with pytest.raises(cc.HttpError) as err:
        client_for(fake).version()
    assert err.value.status == 404
    assert "answered HTTP 404" in str(err.value) and "/RPC2" in str(err.value)


def test_an_answer_that_is_not_xml_rpc(fake):
    fake.raw_body = b"<html><body>Odoo login</body></html>"
    with pytest.raises(cc.BadResponse) as err:
        client_for(fake).version()
    assert "did not answer with XML-RPC" in str(err.value)


def test_values_that_cannot_be_sent_are_a_parameter_error(fake):
    with pytest.raises(cc.InvalidParams):
        client_for(fake).call("catalog.export_products", "shop", {"ids": [object()]})
    with pytest.raises(cc.InvalidParams):
        client_for(fake).call("catalog.export_products", "shop", {"ids": [None]})
    assert fake.calls == []


def test_no_token_is_a_configuration_error_before_any_call(fake):
    with pytest.raises(cc.ConfigurationError) as err:
        cc.ConnectorClient(fake.url, "", label="shop").version()
    assert "No connector token is configured on backend shop" in str(err.value)
    assert fake.calls == []


def test_a_url_that_is_not_http(fake):
    with pytest.raises(cc.ConfigurationError) as err:
        cc.ConnectorClient("127.0.0.1:8070", TOKEN).version()
    assert "not an http:// or https:// URL" in str(err.value)


def test_credentials_in_the_url_stay_out_of_messages_and_repr():
    url = "http://user:s3cret-pw@127.0.0.1:%d/RPC2?x=1" % free_port()
    client = cc.ConnectorClient(url, TOKEN)
    with pytest.raises(cc.ServerUnreachable) as err:
        client.version()
    for text in (str(err.value), repr(client), client.url):
        assert "s3cret-pw" not in text and TOKEN not in text
    assert client.url == "http://127.0.0.1:%d/RPC2" % int(url.split(":")[3].split("/")[0])


# ---------------------------------------------------------------------- helpers


def test_wait_for_run_polls_until_the_run_ends(fake):
    states = iter(["queued", "running", "running", "done"])
    fake.handlers["runs.get"] = lambda run_id: {"id": run_id, "state": next(states), "percent": 50}
    run = client_for(fake).wait_for_run(3, timeout=10, poll=0.01)
    assert run["state"] == "done"
    assert [c[0] for c in fake.calls] == ["runs.get"] * 4


def test_wait_for_run_gives_up_with_the_last_state(fake):
    fake.handlers["runs.get"] = lambda run_id: {"id": run_id, "state": "running", "percent": 40}
    with pytest.raises(cc.RunTimeout) as err:
        client_for(fake).wait_for_run(3, timeout=0.2, poll=0.05)
    assert err.value.run["state"] == "running"
    assert "Run 3 is still running" in str(err.value) and "40%" in str(err.value)


def test_run_report_all_pages_through_the_report(fake):
    total = 2345

    def report(run_id, options):
        start = options["offset"]
        end = min(total, start + options["limit"])
        return {"total": total, "records": [{"ref": str(i), "outcome": "updated"} for i in range(start, end)]}

    fake.handlers["runs.report"] = report
    count, records = client_for(fake).run_report_all(4, page=1000)
    assert count == total and len(records) == total
    assert [c[1][1]["offset"] for c in fake.calls] == [0, 1000, 2000]
    assert [r["ref"] for r in records[998:1002]] == ["998", "999", "1000", "1001"]


def test_run_report_all_stops_at_max_records(fake):
    fake.handlers["runs.report"] = lambda run_id, options: {
        "total": 10_000,
        "records": [{"ref": "x"}] * options["limit"],
    }
    count, records = client_for(fake).run_report_all(4, page=1000, max_records=1500)
    assert count == 10_000 and len(records) == 1500


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2024-05-06 07:08:09", datetime(2024, 5, 6, 7, 8, 9)),
        ("2024-05-06T07:08:09", datetime(2024, 5, 6, 7, 8, 9)),
        ("2024-05-06", datetime(2024, 5, 6)),
        ("", None),
        (None, None),
        ("yesterday", None),
        (12, None),
    ],
)
def test_parse_datetime(value, expected):
    assert cc.parse_datetime(value) == expected


def test_an_answer_of_the_wrong_shape_is_a_bad_response(fake):
    fake.handlers["runs.get"] = lambda run_id: "done"
    fake.handlers["runs.report"] = lambda run_id, options: ["not", "a", "struct"]
    client = client_for(fake)
    with pytest.raises(cc.BadResponse) as err:
        client.wait_for_run(1, timeout=1, poll=0.01)
    assert "answered runs.get with str instead of a struct" in str(err.value)
    with pytest.raises(cc.BadResponse):
        client.run_report_all(1)
