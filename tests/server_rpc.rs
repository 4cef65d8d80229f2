//! Black-box tests of the connector server over real TCP on 127.0.0.1: clients (Python's
//! xmlrpc.client and our Rust transport), token, protocol faults, every method of
//! docs/PROTOCOL.md on fakes of the two seams, and runs across a restart.

mod server_support;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dxr::Value;
use magento_connector::rpc::value;
use magento_connector::server::Services;
use magento_connector::store::{BindingKind, BindingPut, BrokenCode, BrokenUpsert, RunState, Store};
use server_support::*;

fn python(script: &str) -> (bool, String, String) {
    let out = Command::new("python3").arg("-c").arg(script).output().expect("python3 runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_version_answers_python_and_rust_clients() {
    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open_in_memory().unwrap(), settings(2)).await;
    let v = srv.client().call("connector.version", vec![]).await.unwrap();
    assert_eq!(str_of(member(&v, "version")), env!("CARGO_PKG_VERSION"));
    assert_eq!(int_of(member(&v, "protocol")), 1);
    assert_eq!(member(&v, "backends"), &value::array([value::string("sandbox"), value::string("shop")]));
    assert_eq!(member(&v, "magento_kinds"), &value::array([value::string("magento1")]));

    let url = srv.url.clone();
    let script = format!(
        r#"
import json, xmlrpc.client
p = xmlrpc.client.ServerProxy({url:?}, headers=[("Authorization", "Bearer {TOKEN}")])
print(json.dumps(p.connector.version(), sort_keys=True))
try:
    xmlrpc.client.ServerProxy({url:?}).connector.version()
except xmlrpc.client.Fault as f:
    print(f.faultCode)
try:
    xmlrpc.client.ServerProxy({url:?}, headers=[("Authorization", "Bearer nope")]).connector.version()
except xmlrpc.client.Fault as f:
    print(f.faultCode, "nope" in f.faultString)
"#
    );
    let (ok, out, err) = tokio::task::spawn_blocking(move || python(&script)).await.unwrap();
    assert!(ok, "python failed: {err}");
    let lines: Vec<&str> = out.lines().collect();
    let expected = format!(
        "{{\"backends\": [\"sandbox\", \"shop\"], \"magento_kinds\": [\"magento1\"], \"protocol\": 1, \"version\": \"{}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(lines, vec![expected.as_str(), "401", "401 False"]);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_token_is_fault_401_for_every_method() {
    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open_in_memory().unwrap(), settings(2)).await;
    for auth in [
        None,
        Some("Bearer wrong-token-xyz".to_owned()),
        Some(format!("Basic {TOKEN}")),
        Some(format!("Bearer {TOKEN}x")),
    ] {
        let c = client(&srv.url, auth.as_deref());
        for (method, params) in [
            ("connector.version", vec![]),
            ("system.listMethods", vec![]),
            ("catalog.export_products", vec![value::string("sandbox"), no_options()]),
        ] {
            let f = fault(c.call(method, params).await);
            assert_eq!(f.code, 401, "{method} with {auth:?}");
            assert!(!f.message.contains("wrong-token") && !f.message.contains(TOKEN), "{}", f.message);
        }
    }
    assert_eq!(exec.executions.load(Ordering::SeqCst), 0, "no job ran");
    assert!(srv.state.store.runs().list(Default::default()).await.unwrap().is_empty(), "no run was created");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_faults_never_stop_the_server() {
    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open_in_memory().unwrap(), settings(2)).await;
    let call = |name: &str, params: &str| {
        format!(
            "<?xml version=\"1.0\"?><methodCall><methodName>{name}</methodName><params>{params}</params></methodCall>"
        )
        .into_bytes()
    };
    let deep = format!("<param>{}{}</param>", "<value><array><data>".repeat(20), "</data></array></value>".repeat(20));
    let big = call(
        "connector.version",
        &"<param><value><string>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</string></value></param>".repeat(2000),
    );
    let cases: Vec<(&str, Vec<u8>, i32)> = vec![
        ("oversized body", big, 413),
        ("DOCTYPE", b"<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY a \"aaaa\">]><methodCall><methodName>connector.version</methodName></methodCall>".to_vec(), -32700),
        ("deep nesting", call("connector.version", &deep), -32700),
        ("malformed XML", b"<?xml version=\"1.0\"?><methodCall><methodName>connector.version</methodName><params><param>".to_vec(), -32700),
        ("not UTF-8", vec![0x3c, 0xff, 0xfe, 0x3e], -32700),
        ("empty body", Vec::new(), -32600),
        ("no methodName", b"<methodCall><params/></methodCall>".to_vec(), -32600),
        ("unknown method", call("catalog.nope", ""), -32601),
        ("wrong parameter type", call("runs.get", "<param><value><string>seven</string></value></param>"), -32602),
        ("wrong parameter count", call("connector.version", "<param><value><int>1</int></value></param>"), -32602),
        ("options not a struct", call("stock.export", "<param><value><string>sandbox</string></value></param><param><value><int>1</int></value></param>"), -32602),
    ];
    for (what, body, code) in cases {
        let f = post_raw(&srv.url, body, true).await.expect_err(what);
        assert_eq!(f.code, code, "{what}: {}", f.message);
        assert!(
            !f.message.contains("xxxxxxxxxx") && !f.message.contains("ENTITY"),
            "{what} echoes the request: {}",
            f.message
        );
        let v = srv
            .client()
            .call("connector.version", vec![])
            .await
            .unwrap_or_else(|e| panic!("server stopped answering after {what}: {e}"));
        assert_eq!(int_of(member(&v, "protocol")), 1);
    }
    let f = fault(srv.client().call("runs.get", vec![value::string("7")]).await);
    assert!(f.message.contains("`run_id` must be an int"), "{}", f.message);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_needs_no_token_and_every_path_serves_the_endpoint() {
    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open_in_memory().unwrap(), settings(2)).await;
    let resp = reqwest::get(format!("{}/health", srv.base)).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}));
    for path in ["/", "/xmlrpc", "/RPC2"] {
        let c = client(&format!("{}{path}", srv.base), Some(&format!("Bearer {TOKEN}")));
        assert_eq!(int_of(member(&c.call("connector.version", vec![]).await.unwrap(), "protocol")), 1, "{path}");
    }
    let list = srv.client().call("system.listMethods", vec![]).await.unwrap();
    let Value::Array(names) = list else { panic!() };
    let names: Vec<String> = names.iter().map(str_of).collect();
    for m in [
        "bindings.get",
        "catalog.export_categories",
        "catalog.export_products",
        "connector.check",
        "connector.version",
        "magento.stores",
        "orders.export_status",
        "orders.import",
        "orders.list_broken",
        "orders.reimport",
        "runs.cancel",
        "runs.get",
        "runs.list",
        "runs.report",
        "stock.export",
        "taxes.sync",
        "system.multicall",
    ] {
        assert!(names.contains(&m.to_owned()), "{m} missing from {names:?}");
    }
    let mc = srv
        .client()
        .call(
            "system.multicall",
            vec![value::array([
                st(vec![("methodName", value::string("connector.version")), ("params", value::array([]))]),
                st(vec![("methodName", value::string("runs.get")), ("params", value::array([value::int(999)]))]),
            ])],
        )
        .await
        .unwrap();
    let Value::Array(items) = mc else { panic!() };
    assert_eq!(int_of(member(&items[1], "faultCode")), 404);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_backends_are_404_and_unknown_options_are_refused_by_name() {
    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open_in_memory().unwrap(), settings(2)).await;
    let c = srv.client();
    let nope = value::string("nope");
    for (method, params) in [
        ("catalog.export_categories", vec![nope.clone(), no_options()]),
        ("catalog.export_products", vec![nope.clone()]),
        ("stock.export", vec![nope.clone(), no_options()]),
        ("orders.import", vec![nope.clone(), no_options()]),
        ("orders.reimport", vec![nope.clone(), no_options()]),
        ("orders.export_status", vec![nope.clone(), no_options()]),
        ("orders.list_broken", vec![nope.clone()]),
        ("connector.check", vec![nope.clone()]),
        ("magento.stores", vec![nope.clone()]),
        ("taxes.sync", vec![nope.clone()]),
        ("bindings.get", vec![nope.clone(), value::string("product"), value::array([value::int(1)])]),
    ] {
        let f = fault(c.call(method, params).await);
        assert_eq!(f.code, 404, "{method}: {}", f.message);
        assert!(f.message.contains("\"nope\"") && f.message.contains("sandbox, shop"), "{}", f.message);
    }
    let f = fault(
        c.call("catalog.export_products", vec![value::string("sandbox"), st(vec![("dryrun", value::boolean(true))])])
            .await,
    );
    assert_eq!(f.code, -32602);
    assert!(f.message.contains("\"dryrun\""), "{}", f.message);
    let f = fault(
        c.call(
            "orders.reimport",
            vec![value::string("sandbox"), st(vec![("since", value::string("2026-01-01 00:00:00"))])],
        )
        .await,
    );
    assert!(f.code == -32602 && f.message.contains("\"since\""), "{}", f.message);
    let f = fault(
        c.call("orders.import", vec![value::string("sandbox"), st(vec![("since", value::string("last tuesday"))])])
            .await,
    );
    assert!(f.code == -32602 && f.message.contains("`since`"), "{}", f.message);
    assert!(srv.state.store.runs().list(Default::default()).await.unwrap().is_empty(), "refused calls create no run");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_started_twice_returns_the_same_run_id() {
    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open_in_memory().unwrap(), settings(2)).await;
    let c = srv.client();
    let start = || async {
        int_of(
            &srv.client()
                .call(
                    "catalog.export_products",
                    vec![value::string("sandbox"), st(vec![("dry_run", value::boolean(true))])],
                )
                .await
                .unwrap(),
        )
    };
    let ids = join_all(vec![start(), start(), start(), start(), start(), start()]).await;
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "concurrent starts gave {ids:?}");
    let first = ids[0];
    assert_eq!(start().await, first, "asking again while it runs gives the same id");
    let other_backend =
        int_of(&c.call("catalog.export_products", vec![value::string("shop"), no_options()]).await.unwrap());
    assert_ne!(other_backend, first, "another backend gets its own run");
    let other_kind =
        int_of(&c.call("catalog.export_categories", vec![value::string("sandbox"), no_options()]).await.unwrap());
    assert_ne!(other_kind, first, "another kind gets its own run");
    exec.gate.add_permits(2);
    let done = wait_run(&c, first).await;
    assert_eq!(str_of(member(&done, "state")), "done");
    assert_eq!(member(&done, "dry_run"), &value::boolean(true));
    assert_eq!(exec.executions.load(Ordering::SeqCst), 3, "one execution per distinct run");
    let again = start().await;
    assert!(again > first, "a finished run does not block a new one");
    exec.gate.add_permits(1);
    wait_run(&c, again).await;
    wait_run(&c, other_backend).await;
    srv.stop().await;
}

async fn join_all<F: std::future::Future<Output = i64>>(futs: Vec<F>) -> Vec<i64> {
    // Poll all futures concurrently without an extra dependency.
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<i64>> = vec![None; pinned.len()];
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if results[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    results.into_iter().map(|r| r.unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_get_list_report_follow_the_records() {
    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open_in_memory().unwrap(), settings(2)).await;
    let c = srv.client();
    let id = int_of(
        &c.call(
            "catalog.export_categories",
            vec![value::string("sandbox"), st(vec![("ids", value::array([value::int(4)]))])],
        )
        .await
        .unwrap(),
    );
    let run = wait_run(&c, id).await;
    assert_eq!(str_of(member(&run, "state")), "done");
    assert_eq!(str_of(member(&run, "kind")), "categories");
    assert_eq!(str_of(member(&run, "backend")), "sandbox");
    assert_eq!(
        (int_of(member(&run, "total")), int_of(member(&run, "done")), int_of(member(&run, "percent"))),
        (3, 3, 100)
    );
    let counts = member(&run, "counts");
    let n = |k| int_of(member(counts, k));
    assert_eq!((n("created"), n("updated"), n("skipped"), n("failed")), (1, 1, 0, 1));
    for k in ["created_at", "started_at", "finished_at"] {
        let t = str_of(member(&run, k));
        assert!(value::parse_datetime(&t).is_some() && t.len() == 19, "{k} = {t}");
    }
    let Value::Array(messages) = member(&run, "messages") else { panic!() };
    let texts: Vec<String> =
        messages.iter().map(|m| format!("{}:{}", str_of(member(m, "level")), str_of(member(m, "text")))).collect();
    assert_eq!(texts, vec!["warn:one category failed", "info:3 categories processed"]);
    assert!(matches!(&run, Value::Struct(m) if !m.contains_key("error")));

    let report = c.call("runs.report", vec![value::id(id)]).await.unwrap();
    assert_eq!(int_of(member(&report, "total")), 3);
    let Value::Array(records) = member(&report, "records") else { panic!() };
    assert_eq!(str_of(member(&records[0], "ref")), "Root/Shoes");
    assert_eq!(str_of(member(&records[0], "outcome")), "created");
    assert_eq!(str_of(member(&records[0], "magento_id")), "12");
    assert_eq!(int_of(member(&records[0], "openerp_id")), 4);
    assert_eq!(str_of(member(&records[2], "message")), "name is empty");
    assert!(matches!(&records[2], Value::Struct(m) if !m.contains_key("magento_id")));
    let failed =
        c.call("runs.report", vec![value::id(id), st(vec![("outcome", value::string("failed"))])]).await.unwrap();
    assert_eq!(int_of(member(&failed, "total")), 1);
    let page = c
        .call("runs.report", vec![value::id(id), st(vec![("offset", value::int(1)), ("limit", value::int(1))])])
        .await
        .unwrap();
    let Value::Array(page_records) = member(&page, "records") else { panic!() };
    assert_eq!((int_of(member(&page, "total")), page_records.len()), (3, 1));
    assert_eq!(str_of(member(&page_records[0], "ref")), "Root/Hats");
    for bad in [
        st(vec![("outcome", value::string("exploded"))]),
        st(vec![("limit", value::int(5000))]),
        st(vec![("page", value::int(1))]),
    ] {
        assert_eq!(fault(c.call("runs.report", vec![value::id(id), bad]).await).code, -32602);
    }

    let failing = int_of(&c.call("orders.import", vec![value::string("sandbox"), no_options()]).await.unwrap());
    wait_run(&c, failing).await;
    let all = c.call("runs.list", vec![]).await.unwrap();
    let Value::Array(all) = all else { panic!() };
    assert_eq!(all.iter().map(|r| int_of(member(r, "id"))).collect::<Vec<_>>(), vec![failing, id], "newest first");
    assert!(matches!(&all[0], Value::Struct(m) if !m.contains_key("messages")));
    let only = c
        .call("runs.list", vec![st(vec![("kind", value::string("categories")), ("state", value::string("done"))])])
        .await
        .unwrap();
    assert_eq!(
        only,
        value::array([{
            let Value::Array(a) = c
                .call("runs.list", vec![st(vec![("limit", value::int(1)), ("state", value::string("done"))])])
                .await
                .unwrap()
            else {
                panic!()
            };
            a[0].clone()
        }])
    );
    let Value::Array(none) = c.call("runs.list", vec![st(vec![("backend", value::string("shop"))])]).await.unwrap()
    else {
        panic!()
    };
    assert!(none.is_empty());
    for bad in [
        st(vec![("state", value::string("sleeping"))]),
        st(vec![("kind", value::string("cats"))]),
        st(vec![("limit", value::int(501))]),
    ] {
        assert_eq!(fault(c.call("runs.list", vec![bad]).await).code, -32602);
    }
    assert_eq!(fault(c.call("runs.get", vec![value::int(999)]).await).code, 404);
    assert_eq!(fault(c.call("runs.report", vec![value::int(999)]).await).code, 404);
    assert_eq!(fault(c.call("runs.cancel", vec![value::int(999)]).await).code, 404);
    let cancel_done = c.call("runs.cancel", vec![value::id(id)]).await.unwrap();
    assert_eq!(str_of(member(&cancel_done, "state")), "done", "cancelling a finished run changes nothing");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_running_run_at_a_record_boundary_and_a_queued_one_at_once() {
    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open_in_memory().unwrap(), settings(1)).await;
    let c = srv.client();
    let running =
        int_of(&c.call("catalog.export_products", vec![value::string("sandbox"), no_options()]).await.unwrap());
    for _ in 0..500 {
        let r = c.call("runs.get", vec![value::id(running)]).await.unwrap();
        if int_of(member(&r, "done")) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let queued =
        int_of(&c.call("catalog.export_categories", vec![value::string("sandbox"), no_options()]).await.unwrap());
    let q = c.call("runs.get", vec![value::id(queued)]).await.unwrap();
    assert_eq!(str_of(member(&q, "state")), "queued", "one worker: the second run waits");
    let cq = c.call("runs.cancel", vec![value::id(queued)]).await.unwrap();
    assert_eq!(str_of(member(&cq, "state")), "cancelled", "a queued run is cancelled at once");

    let cr = c.call("runs.cancel", vec![value::id(running)]).await.unwrap();
    assert_eq!(str_of(member(&cr, "state")), "running", "a running run finishes its record first");
    let r = wait_run(&c, running).await;
    assert_eq!(str_of(member(&r, "state")), "cancelled");
    let done = int_of(member(&r, "done"));
    let report =
        c.call("runs.report", vec![value::id(running), st(vec![("outcome", value::string("planned"))])]).await.unwrap();
    assert_eq!(int_of(member(&report, "total")), done, "every record written before the stop is reported");
    assert!(int_of(member(&r, "percent")) < 100);
    let Value::Array(msgs) = member(&r, "messages") else { panic!() };
    assert!(msgs.iter().any(|m| str_of(member(m, "text")).contains("cancellation requested")));
    assert_eq!(exec.executions.load(Ordering::SeqCst), 1, "the cancelled queued run never executed");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_and_panicking_jobs_fail_their_run_and_the_server_keeps_serving() {
    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open_in_memory().unwrap(), settings(2)).await;
    let c = srv.client();
    let panicking = int_of(&c.call("stock.export", vec![value::string("sandbox"), no_options()]).await.unwrap());
    let r = wait_run(&c, panicking).await;
    assert_eq!(str_of(member(&r, "state")), "failed");
    assert!(str_of(member(&r, "error")).contains("panic: stock job bug"), "{r:?}");
    let failing = int_of(&c.call("orders.import", vec![value::string("shop"), no_options()]).await.unwrap());
    let r = wait_run(&c, failing).await;
    assert_eq!(str_of(member(&r, "state")), "failed");
    let error = str_of(member(&r, "error"));
    assert!(error.starts_with("OpenERP refused password [redacted]"), "{error}");
    assert_eq!(int_of(member(&c.call("connector.version", vec![]).await.unwrap(), "protocol")), 1);
    let again = int_of(&c.call("stock.export", vec![value::string("sandbox"), no_options()]).await.unwrap());
    assert_ne!(again, panicking, "a failed run does not block the next one");
    wait_run(&c, again).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwired_services_fail_runs_and_sync_methods_honestly() {
    let srv = spawn(Services::unwired(), Store::open_in_memory().unwrap(), settings(2)).await;
    let c = srv.client();
    let id = int_of(&c.call("catalog.export_categories", vec![value::string("sandbox"), no_options()]).await.unwrap());
    let r = wait_run(&c, id).await;
    assert_eq!(str_of(member(&r, "state")), "failed");
    assert!(str_of(member(&r, "error")).contains("not available yet"));
    let check = c.call("connector.check", vec![value::string("sandbox")]).await.unwrap();
    assert_eq!(member(&check, "ok"), &value::boolean(false));
    assert!(str_of(member(member(&check, "magento"), "message")).contains("not available yet"));
    let f = fault(c.call("magento.stores", vec![value::string("sandbox")]).await);
    assert!(f.code == 502 && f.message.contains("not available yet"), "{f:?}");
    let f = fault(c.call("taxes.sync", vec![value::string("sandbox")]).await);
    assert!(f.code == 502 && f.message.contains("not available yet"), "{f:?}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_stores_and_taxes_go_through_the_backends_seam() {
    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open_in_memory().unwrap(), settings(2)).await;
    let c = srv.client();
    let check = c.call("connector.check", vec![value::string("sandbox")]).await.unwrap();
    assert_eq!(member(&check, "ok"), &value::boolean(true));
    assert_eq!(str_of(member(&check, "backend")), "sandbox");
    let oe = member(&check, "openerp");
    assert_eq!((str_of(member(oe, "server_version")), int_of(member(oe, "uid"))), ("17.0".into(), 2));
    let mg = member(&check, "magento");
    assert_eq!(
        (str_of(member(mg, "magento_version")), str_of(member(mg, "multicall"))),
        ("1.9.4.5".into(), "yes".into())
    );
    assert_eq!(member(member(&check, "settings"), "ok"), &value::boolean(true));
    let shop = c.call("connector.check", vec![value::string("shop")]).await.unwrap();
    assert_eq!(member(&shop, "ok"), &value::boolean(false));
    assert_eq!(str_of(member(member(&shop, "magento"), "message")), "login refused for key [redacted]");

    let stores = c.call("magento.stores", vec![value::string("sandbox")]).await.unwrap();
    let Value::Array(views) = member(&stores, "store_views") else { panic!() };
    assert_eq!(views.len(), 2);
    assert_eq!(str_of(member(&views[1], "code")), "fr");
    assert_eq!(member(&views[1], "is_active"), &value::boolean(false));
    assert_eq!(int_of(member(&views[1], "root_category_id")), 2);
    let Value::Array(groups) = member(&stores, "groups") else { panic!() };
    assert_eq!(int_of(member(&groups[0], "website_id")), 1);
    let f = fault(c.call("magento.stores", vec![value::string("shop")]).await);
    assert_eq!(f.code, 502);
    assert_eq!(f.message, "magento.stores: Magento: access denied for key [redacted]");

    let taxes = c.call("taxes.sync", vec![value::string("sandbox")]).await.unwrap();
    let run_id = int_of(member(&taxes, "run_id"));
    let Value::Array(mapping) = member(&taxes, "mapping") else { panic!() };
    assert_eq!(str_of(member(&mapping[0], "amount")), "20");
    assert_eq!(int_of(member(&mapping[0], "proposed_class_id")), 2);
    assert!(matches!(&mapping[0], Value::Struct(m) if !m.contains_key("class_id")));
    let run = c.call("runs.get", vec![value::id(run_id)]).await.unwrap();
    assert_eq!((str_of(member(&run, "state")), str_of(member(&run, "kind"))), ("done".into(), "taxes".into()));
    assert_eq!(int_of(member(member(&run, "counts"), "skipped")), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bindings_and_broken_orders_are_read_from_the_store() {
    let exec = FakeExecutor::new();
    let store = Store::open_in_memory().unwrap();
    store.bindings().put(BindingPut::new("sandbox", BindingKind::Product, 7, "101")).await.unwrap();
    store.bindings().put(BindingPut::new("sandbox", BindingKind::Product, 7, "101").store(2)).await.unwrap();
    store.bindings().put(BindingPut::new("sandbox", BindingKind::Product, 8, "102")).await.unwrap();
    store.bindings().put(BindingPut::new("shop", BindingKind::Product, 7, "999")).await.unwrap();
    store
        .broken()
        .upsert(BrokenUpsert {
            backend: "sandbox".into(),
            store_id: 1,
            increment_id: "100000042".into(),
            code: BrokenCode::UnknownSku,
            reason: "SKU ZZ-1 is not in OpenERP".into(),
            hint: "create the product or fix the SKU, then re-import".into(),
            payload: None,
        })
        .await
        .unwrap();
    let srv = spawn(fake_services(&exec), store, settings(2)).await;
    let c = srv.client();
    let got = c
        .call(
            "bindings.get",
            vec![value::string("sandbox"), value::string("product"), value::array([value::int(7), value::int(9)])],
        )
        .await
        .unwrap();
    let Value::Array(rows) = got else { panic!() };
    assert_eq!(rows.len(), 2);
    assert_eq!((int_of(member(&rows[0], "openerp_id")), str_of(member(&rows[0], "magento_id"))), (7, "101".into()));
    assert!(matches!(&rows[0], Value::Struct(m) if !m.contains_key("store_id")), "global scope leaves store_id out");
    assert_eq!(int_of(member(&rows[1], "store_id")), 2);
    assert!(value::parse_datetime(&str_of(member(&rows[0], "synced_at"))).is_some());
    let f =
        fault(c.call("bindings.get", vec![value::string("sandbox"), value::string("invoice"), value::array([])]).await);
    assert!(f.code == -32602 && f.message.contains("\"invoice\""));
    let f = fault(
        c.call(
            "bindings.get",
            vec![value::string("sandbox"), value::string("product"), value::array([value::string("7")])],
        )
        .await,
    );
    assert_eq!(f.code, -32602);

    let broken = c.call("orders.list_broken", vec![value::string("sandbox")]).await.unwrap();
    let Value::Array(b) = broken else { panic!() };
    assert_eq!(b.len(), 1);
    assert_eq!(str_of(member(&b[0], "increment_id")), "100000042");
    assert_eq!(str_of(member(&b[0], "code")), "unknown_sku");
    assert_eq!(int_of(member(&b[0], "attempts")), 1);
    assert_eq!(int_of(member(&b[0], "store_id")), 1);
    let Value::Array(none) = c.call("orders.list_broken", vec![value::string("shop")]).await.unwrap() else { panic!() };
    assert!(none.is_empty());
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_survive_a_restart_and_orphans_are_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open(&path).unwrap(), settings(2)).await;
    let c = srv.client();
    let done =
        int_of(&c.call("catalog.export_categories", vec![value::string("sandbox"), no_options()]).await.unwrap());
    wait_run(&c, done).await;
    srv.stop().await;

    // A run left `running` by a process that no longer exists.
    {
        let store = Store::open(&path).unwrap();
        let created = store.runs().create("sandbox", "stock", false, serde_json::json!({}), 999_999_999).await.unwrap();
        store.runs().mark_running(created.run().id).await.unwrap();
    }
    let srv = spawn(fake_services(&exec), Store::open(&path).unwrap(), settings(2)).await;
    let c = srv.client();
    let again = c.call("runs.get", vec![value::id(done)]).await.unwrap();
    assert_eq!(str_of(member(&again, "state")), "done");
    assert_eq!(int_of(member(member(&again, "counts"), "failed")), 1);
    let orphan = c.call("runs.list", vec![st(vec![("kind", value::string("stock"))])]).await.unwrap();
    let Value::Array(orphan) = orphan else { panic!() };
    assert_eq!(str_of(member(&orphan[0], "state")), "failed");
    assert!(str_of(member(&orphan[0], "error")).starts_with("interrupted"));
    let next = int_of(&c.call("stock.export", vec![value::string("sandbox"), no_options()]).await.unwrap());
    assert_ne!(next, int_of(member(&orphan[0], "id")), "the orphan no longer blocks its kind");
    wait_run(&c, next).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_running_run_record_its_state() {
    let exec = FakeExecutor::new();
    let store = Store::open_in_memory().unwrap();
    let srv = spawn(fake_services(&exec), store.clone(), settings(1)).await;
    let c = srv.client();
    let id = int_of(&c.call("catalog.export_products", vec![value::string("sandbox"), no_options()]).await.unwrap());
    let queued =
        int_of(&c.call("catalog.export_categories", vec![value::string("sandbox"), no_options()]).await.unwrap());
    for _ in 0..500 {
        if store.runs().get(id).await.unwrap().unwrap().done > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(store.runs().get(queued).await.unwrap().unwrap().state, RunState::Queued);
    srv.stop().await;
    let run = store.runs().get(id).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Failed);
    assert!(run.error.unwrap().contains("server shut down"));
    let (recorded, _) = store.runs().records(id, None, 0, 0).await.unwrap();
    assert_eq!(recorded, run.done, "records written before the shutdown are kept");
    let waiting = store.runs().get(queued).await.unwrap().unwrap();
    assert_eq!(waiting.state, RunState::Failed, "a queued run does not stay queued after a shutdown");
    assert!(waiting.error.unwrap().contains("server shut down"));
    assert_eq!(exec.executions.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_from_another_process_reaches_the_run_through_the_state_file() {
    use magento_connector::server::jobs::{JobExecutor, JobKind, JobOptions};
    use magento_connector::server::{RunContext, RunManager};
    use magento_connector::telemetry::Redactor;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    let exec = FakeExecutor::new();
    // Two managers on two connections to one file stand for the CLI and the server.
    let owner = RunManager::new(
        Store::open(&path).unwrap(),
        exec.clone() as Arc<dyn JobExecutor>,
        Redactor::default(),
        settings(1),
    );
    let other = RunManager::new(
        Store::open(&path).unwrap(),
        exec.clone() as Arc<dyn JobExecutor>,
        Redactor::default(),
        settings(1),
    );
    let started = owner.start("shop", JobKind::Products, JobOptions::default()).await.unwrap();
    let seen = other.start("shop", JobKind::Products, JobOptions::default()).await.unwrap();
    assert_eq!((seen.id, seen.existing), (started.id, true), "the other process sees the active run");
    for _ in 0..500 {
        if other.store().runs().get(started.id).await.unwrap().unwrap().done > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(other.cancel(started.id).await.unwrap(), Some(RunState::Running));
    let run = other.wait(started.id, Duration::from_millis(20)).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Cancelled, "the owner's heartbeat picked the request up");
    assert_eq!(exec.executions.load(Ordering::SeqCst), 1);

    // A job can be exercised on its own with a standalone context.
    let store = Store::open_in_memory().unwrap();
    let ctx = RunContext::standalone(store.clone(), "shop", JobKind::Categories, JobOptions::default()).await.unwrap();
    let summary = (exec.clone() as Arc<dyn JobExecutor>).execute(ctx.clone()).await.unwrap();
    assert_eq!(summary.message, "3 categories processed");
    let row = store.runs().get(ctx.id()).await.unwrap().unwrap();
    assert_eq!((row.state, row.created, row.updated, row.failed, row.done), (RunState::Running, 1, 1, 1, 3));
}
