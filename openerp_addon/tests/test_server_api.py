"""The addon's client against the real connector server (``docs/PROTOCOL.md``), sandbox backend.

Written against the protocol: a job whose implementation is not there yet may end ``failed``; the
tests then check the polling flow and the shape of what the server answers, not the job's success.
"""

import re
import urllib.request
import xmlrpc.client

import pytest

from client_loader import load_client_module

cc = load_client_module()

BACKEND = "sandbox"
RUN_KEYS = {"id", "backend", "kind", "state", "dry_run", "created_at", "total", "done", "percent", "counts"}
DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
WAIT = 180.0

#: (client method, options, run kind, whether it takes dry_run)
JOBS = [
    ("export_categories", {"dry_run": True}, "categories"),
    ("export_products", {"dry_run": True}, "products"),
    ("export_stock", {"dry_run": True}, "stock"),
    ("import_orders", {"dry_run": True}, "orders_import"),
    ("export_order_status", {"dry_run": True}, "order_status"),
    ("reimport_orders", {}, "orders_reimport"),
]


@pytest.fixture(scope="module")
def client(connector_server):
    return cc.ConnectorClient(connector_server.url, connector_server.token, timeout=60, label=BACKEND)


def check_run(run, kind=None):
    assert RUN_KEYS <= set(run), sorted(RUN_KEYS - set(run))
    assert run["backend"] == BACKEND
    assert run["state"] in ("queued", "running", "done", "failed", "cancelled")
    assert isinstance(run["percent"], int) and 0 <= run["percent"] <= 100
    assert isinstance(run["total"], int) and isinstance(run["done"], int)
    assert set(run["counts"]) == {"created", "updated", "skipped", "failed"}
    assert DATE.match(run["created_at"])
    for key in ("started_at", "finished_at"):
        if key in run:
            assert DATE.match(run[key]), (key, run[key])
    if kind is not None:
        assert run["kind"] == kind
    return run


def check_report(report, dry_run):
    assert isinstance(report["total"], int)
    assert isinstance(report["records"], list) and len(report["records"]) <= report["total"]
    for record in report["records"]:
        assert record["outcome"] in cc.OUTCOMES
        assert isinstance(record["kind"], str) and isinstance(record["ref"], str)
        assert isinstance(record["message"], str)
        if dry_run:
            assert record["outcome"] not in ("created", "updated"), record


# ---------------------------------------------------------------------- service


def test_health_and_version_agree(client, connector_server):
    assert connector_server.health["status"] == "ok"
    version = client.version()
    assert version["protocol"] == cc.PROTOCOL_VERSION
    assert version["version"] == connector_server.health["version"]
    assert BACKEND in version["backends"]
    assert "magento1" in version["magento_kinds"]


def test_the_server_has_every_method_the_client_calls(client):
    listed = set(client.call("system.listMethods"))
    assert {server for server, _kind in cc.METHODS.values()} <= listed


def test_check_reports_both_ends_of_the_sandbox(client):
    answer = client.check(BACKEND)
    assert answer["backend"] == BACKEND and isinstance(answer["ok"], bool)
    for end in ("openerp", "magento"):
        assert answer[end]["ok"] is True, answer[end]
        assert isinstance(answer[end]["url"], str) and isinstance(answer[end]["message"], str)
    assert answer["magento"].get("multicall", "unknown") in ("yes", "no", "unknown")
    assert isinstance(answer["settings"]["ok"], bool) and isinstance(answer["settings"]["message"], str)


def test_stores_list_the_sandbox_store_views(client):
    answer = client.stores(BACKEND)
    websites = {w["id"] for w in answer["websites"]}
    groups = {g["id"]: g for g in answer["groups"]}
    codes = set()
    for view in answer["store_views"]:
        assert isinstance(view["id"], int) and isinstance(view["name"], str)
        assert view["website_id"] in websites and view["group_id"] in groups
        assert groups[view["group_id"]]["website_id"] == view["website_id"]
        assert isinstance(view["root_category_id"], int)
        codes.add(view["code"])
    assert {"default", "fr", "wholesale"} <= codes


def test_taxes_sync_proposes_classes_for_unmapped_taxes(client):
    answer = client.taxes_sync(BACKEND)
    class_ids = {c["id"] for c in answer["classes"]}
    assert {2, 4} <= class_ids
    assert answer["mapping"], "the sandbox has sale taxes"
    for entry in answer["mapping"]:
        assert isinstance(entry["tax_id"], int) and isinstance(entry["tax_name"], str)
        assert isinstance(entry["mapped"], bool) and isinstance(entry["reason"], str)
        if entry["mapped"]:
            assert entry["class_id"] in class_ids | {0}
        if "proposed_class_id" in entry:
            assert entry["proposed_class_id"] in class_ids | {0}
    assert any(not entry["mapped"] for entry in answer["mapping"])
    check_run(client.run_get(answer["run_id"]))


# ---------------------------------------------------------------------- runs


@pytest.mark.parametrize("job,options,kind", JOBS, ids=[j[0] for j in JOBS])
def test_a_job_run_can_be_followed_to_its_end(client, job, options, kind):
    run_id = getattr(client, job)(BACKEND, **options)
    assert isinstance(run_id, int) and run_id > 0
    first = check_run(client.run_get(run_id), kind)
    assert first["id"] == run_id
    assert first["dry_run"] is bool(options.get("dry_run"))
    assert isinstance(first.get("messages", []), list)
    final = check_run(client.wait_for_run(run_id, timeout=WAIT, poll=0.2), kind)
    assert final["state"] in cc.FINAL_STATES
    if final["state"] == "failed":
        assert isinstance(final.get("error"), str) and final["error"]
    if final["state"] == "done":
        assert "finished_at" in final and final["done"] <= final["total"]
    check_report(client.run_report(run_id), dry_run=final["dry_run"])
    total, records = client.run_report_all(run_id)
    assert len(records) == min(total, 5000)


def test_asking_again_during_a_run_returns_the_same_run(client):
    first = client.export_categories(BACKEND, dry_run=True)
    second = client.export_categories(BACKEND, dry_run=True)
    if second != first:
        assert client.run_get(first)["state"] in cc.FINAL_STATES
    client.wait_for_run(second, timeout=WAIT, poll=0.2)


def test_runs_list_is_newest_first_and_filters(client):
    started = client.export_stock(BACKEND, dry_run=True)
    client.wait_for_run(started, timeout=WAIT, poll=0.2)
    runs = client.runs_list(backend=BACKEND)
    assert started in [r["id"] for r in runs]
    for run in runs:
        check_run(run)
        assert "messages" not in run
    created = [r["created_at"] for r in runs]
    assert created == sorted(created, reverse=True)
    stock = client.runs_list(backend=BACKEND, kind="stock", limit=1)
    assert len(stock) == 1 and stock[0]["kind"] == "stock" and stock[0]["id"] == started
    for run in client.runs_list(backend=BACKEND, state="done"):
        assert run["state"] == "done"


def test_a_run_can_be_cancelled(client):
    run_id = client.export_products(BACKEND, dry_run=True, full=True)
    answer = client.run_cancel(run_id)
    assert answer["id"] == run_id and answer["state"] in ("queued", "running", "done", "failed", "cancelled")
    final = client.wait_for_run(run_id, timeout=WAIT, poll=0.2)
    assert final["state"] in cc.FINAL_STATES


def test_report_options_page_the_records(client):
    run_id = client.export_products(BACKEND, dry_run=True, full=True)
    client.wait_for_run(run_id, timeout=WAIT, poll=0.2)
    whole = client.run_report(run_id, limit=1000)
    page = client.run_report(run_id, offset=1, limit=1)
    assert page["total"] == whole["total"]
    assert page["records"] == whole["records"][1:2]
    for record in client.run_report(run_id, outcome="skipped")["records"]:
        assert record["outcome"] == "skipped"


# ---------------------------------------------------------------------- orders and bindings


def test_broken_orders_have_a_reason_and_a_hint(client):
    for order in client.list_broken(BACKEND):
        assert isinstance(order["increment_id"], str)
        assert order["code"] in cc.BROKEN_CODES
        assert isinstance(order["reason"], str) and isinstance(order["hint"], str)
        assert isinstance(order["attempts"], int)
        assert DATE.match(order["first_seen"]) and DATE.match(order["last_attempt"])


def test_bindings_answer_only_for_the_ids_asked(client):
    for binding in client.bindings_get(BACKEND, "product", [1, 2, 3]):
        assert binding["openerp_id"] in (1, 2, 3)
        assert "magento_id" in binding and DATE.match(binding["synced_at"])


# ---------------------------------------------------------------------- refusals, as the merchant reads them


def test_wrong_token_is_refused_with_a_readable_message(connector_server):
    wrong = "wrong-" + connector_server.token[::-1]
    client = cc.ConnectorClient(connector_server.url, wrong, label=BACKEND)
    with pytest.raises(cc.AuthenticationError) as err:
        client.stores(BACKEND)
    message = str(err.value)
    assert "refused the token configured on backend sandbox" in message
    assert wrong not in message and connector_server.token not in message


def test_a_call_without_token_is_fault_401(connector_server):
    with pytest.raises(xmlrpc.client.Fault) as err:
        xmlrpc.client.ServerProxy(connector_server.url).connector.version()
    assert err.value.faultCode == 401


def test_unknown_backend_is_named(client):
    with pytest.raises(cc.UnknownBackend) as err:
        client.stores("no_such_shop")
    assert "no_such_shop" in str(err.value)


def test_unknown_run_is_not_found(client):
    with pytest.raises(cc.NotFound):
        client.run_get(987654321)
    with pytest.raises(cc.NotFound):
        client.run_cancel(987654321)


def test_unknown_option_is_refused_and_named(client):
    with pytest.raises(cc.InvalidParams) as err:
        client.call("catalog.export_products", BACKEND, {"idz": [1]})
    assert "idz" in str(err.value)


@pytest.mark.parametrize(
    "method,params",
    [
        ("connector.check", ()),
        ("runs.get", ("seven",)),
        ("catalog.export_products", (BACKEND, {"ids": "1,2"})),
        ("bindings.get", (BACKEND, "invoice", [1])),
    ],
)
def test_bad_parameters_are_refused(client, method, params):
    with pytest.raises(cc.InvalidParams) as err:
        client.call(method, *params)
    assert method in str(err.value)


def test_unknown_method(client):
    with pytest.raises(cc.MethodNotFound):
        client.call("catalog.export_everything", BACKEND)


def test_a_wrong_path_is_an_http_404(connector_server):
    client = cc.ConnectorClient(connector_server.base_url + "/no/such/path", connector_server.token)
    with pytest.raises(cc.HttpError) as err:
        client.version()
    assert err.value.status == 404


def test_health_needs_no_token(connector_server):
    with urllib.request.urlopen(connector_server.base_url + "/health", timeout=5) as answer:
        assert answer.status == 200


def test_the_token_never_reaches_the_server_log(connector_server, client):
    client.version()
    wrong = "never-log-" + connector_server.token[:6]
    with pytest.raises(cc.AuthenticationError):
        cc.ConnectorClient(connector_server.url, wrong).version()
    log = connector_server.log_text()
    assert connector_server.token not in log
    assert wrong not in log
