//! Failure emulation of the Magento 1 sandbox: deadlocks between concurrent writers (with and
//! without "phantom" writes), random injection per HTTP request, targeted rules per logical
//! call (inside multiCall too), and the call counters.

mod magento_sandbox_support;

use std::time::Duration;

use dxr::Value;
use magento_connector::rpc::CallError;
use magento_connector::sandbox::knobs::{Inject, Rule};
use magento_connector::sandbox::magento1::{MagentoSandbox, SandboxOptions};
use magento_sandbox_support::*;
use tokio::task::JoinSet;

const DEADLOCK: &str =
    "SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock; try restarting transaction";

async fn deadlocking(phantom: f64) -> MagentoSandbox {
    let sb = MagentoSandbox::start(SandboxOptions {
        deadlock_rate: 1.0,
        phantom_rate: phantom,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    // Every request stays "in flight" for a while, so concurrent writers overlap.
    sb.knobs().set_latency(Duration::from_millis(150));
    sb
}

fn create(sku: &str) -> Vec<Value> {
    vec![s("simple"), i(4), s(sku), st(&[("name", s(sku)), ("price", s("1"))])]
}

/// Fires `n` concurrent creates; returns `(sku, result)`.
async fn concurrent_creates(c: &Client, prefix: &str, n: usize) -> Vec<(String, Result<Value, CallError>)> {
    let mut set = JoinSet::new();
    for k in 0..n {
        let t = c.transport.clone();
        let session = c.session.clone();
        let sku = format!("{prefix}-{k}");
        set.spawn(async move {
            let r = t.call("call", vec![s(&session), s("catalog_product.create"), Value::Array(create(&sku))]).await;
            (sku, r)
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out
}

#[tokio::test]
async fn concurrent_writers_deadlock_and_lone_writers_do_not() {
    let sb = deadlocking(0.0).await;
    let c = Client::login(&sb).await;
    for k in 0..3 {
        c.call("catalog_product.create", create(&format!("SEQ-{k}"))).await.expect("a lone writer never deadlocks");
    }
    let results = concurrent_creates(&c, "PAR", 6).await;
    let mut deadlocked = 0;
    for (sku, r) in &results {
        match r {
            Ok(_) => assert!(sb.product(sku).is_some()),
            Err(CallError::Fault(f)) => {
                assert_eq!((f.code, f.message.as_str()), (1, DEADLOCK));
                assert!(sb.product(sku).is_none(), "{sku}: a deadlocked write is rolled back");
                deadlocked += 1;
            }
            Err(e) => panic!("{sku}: {e}"),
        }
    }
    assert!(deadlocked >= 1, "six overlapping writers, rate 1.0: {results:?}");
    // Reads never deadlock.
    let mut set = JoinSet::new();
    for _ in 0..4 {
        let t = c.transport.clone();
        let session = c.session.clone();
        set.spawn(async move { t.call("call", vec![s(&session), s("catalog_product.info"), arr(vec![s("1")])]).await });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap().expect("reads are not affected");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn phantom_deadlocks_apply_the_write_anyway() {
    let sb = deadlocking(1.0).await;
    let c = Client::login(&sb).await;
    let results = concurrent_creates(&c, "PH", 5).await;
    let faulted: Vec<&String> = results.iter().filter(|(_, r)| r.is_err()).map(|(sku, _)| sku).collect();
    assert!(!faulted.is_empty());
    for sku in faulted {
        assert!(
            sb.product(sku).is_some(),
            "{sku}: the fault came back but the product exists: check by SKU before retrying"
        );
        let retry = c.call("catalog_product.create", create(sku)).await;
        assert_eq!(code(retry), 1, "a blind retry hits the duplicate SKU");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn deadlocks_inside_multicall_are_generic_item_faults() {
    let sb = deadlocking(0.0).await;
    let c = Client::login(&sb).await;
    let mut set = JoinSet::new();
    for k in 0..4 {
        let t = c.transport.clone();
        let session = c.session.clone();
        set.spawn(async move {
            let calls = arr(vec![
                item("cataloginventory_stock_item.update", vec![s("HOME-001"), st(&[("qty", i(k))])]),
                item("catalog_product.info", vec![s("1")]),
            ]);
            t.call("multiCall", vec![s(&session), calls]).await
        });
    }
    let mut deadlocked = 0;
    while let Some(r) = set.join_next().await {
        let out = r.unwrap().expect("the multiCall itself succeeds");
        let out = items(&out);
        if let Value::Struct(m) = &out[0]
            && m.contains_key("isFault")
        {
            assert_eq!(get(&out[0], "faultCode"), &s("1"));
            assert_eq!(text(&out[0], "faultMessage"), "Internal Error. Please see log for details.");
            deadlocked += 1;
        }
        assert_eq!(text(&out[1], "sku"), "ELEC-PHN-001", "the read item is unaffected");
    }
    assert!(deadlocked >= 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn random_injection_per_http_request() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let knobs = sb.knobs();

    knobs.set_random_faults(1.0, &[Inject::Http500], 7);
    match c.call("catalog_product.create", create("INJ-500")).await {
        Err(e @ CallError::Http { status: 500, .. }) => assert!(e.is_transient()),
        other => panic!("expected HTTP 500, got {other:?}"),
    }
    knobs.set_random_faults(1.0, &[Inject::Drop], 7);
    match c.call0("store.list").await {
        Err(e @ CallError::Connect { .. }) => assert!(e.is_transient()),
        other => panic!("expected a dropped connection, got {other:?}"),
    }
    knobs.set_random_faults(1.0, &[Inject::Fault], 7);
    let f = fault(c.call("catalog_product.create", create("INJ-FAULT")).await);
    assert_eq!(f.code, 1);
    // A random deadlock hits the first write call of a request and spares reads.
    knobs.set_random_faults(1.0, &[Inject::Deadlock], 7);
    let f = fault(c.call("catalog_product.create", create("INJ-DEADLOCK")).await);
    assert_eq!((f.code, f.message.as_str()), (1, DEADLOCK));
    c.call0("store.list").await.expect("reads do not deadlock");
    let out = c
        .multi(vec![
            item("store.list", vec![]),
            item("catalog_product.create", create("INJ-MC-1")),
            item("catalog_product.create", create("INJ-MC-2")),
        ])
        .await
        .unwrap();
    assert_eq!(text(&items(&out)[1], "faultMessage"), "Internal Error. Please see log for details.");
    assert!(matches!(&items(&out)[2], Value::String(_)), "only the first write deadlocks");
    assert!(
        sb.product("INJ-MC-1").is_none() && sb.product("INJ-MC-2").is_some() && sb.product("INJ-DEADLOCK").is_none()
    );
    knobs.set_random_faults(1.0, &[Inject::Timeout], 7);
    knobs.set_hang(Duration::from_secs(3));
    let impatient = Client { transport: transport(&sb, Duration::from_millis(300)), session: c.session.clone() };
    assert!(matches!(
        impatient.call("catalog_product.create", create("INJ-HANG")).await,
        Err(CallError::Timeout { .. })
    ));
    knobs.clear_random_faults();
    for sku in ["INJ-500", "INJ-FAULT", "INJ-HANG"] {
        assert!(sb.product(sku).is_none(), "{sku}: an injected request is not applied");
    }
    c.call0("store.list").await.expect("back to normal");

    // Reproducible from the seed.
    let pattern = |sb: &MagentoSandbox, c: &Client| {
        let knobs = sb.knobs().clone();
        let c = Client { transport: c.transport.clone(), session: c.session.clone() };
        async move {
            knobs.set_random_faults(0.5, &[Inject::Fault], 42);
            let mut out = Vec::new();
            for _ in 0..12 {
                out.push(c.call0("magento.info").await.is_ok());
            }
            knobs.clear_random_faults();
            out
        }
    };
    let a = pattern(&sb, &c).await;
    let b = pattern(&sb, &c).await;
    assert_eq!(a, b);
    assert!(a.contains(&true) && a.contains(&false), "{a:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn targeted_rules_hit_single_multicall_items_and_counters_see_every_item() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let knobs = sb.knobs();
    knobs.reset_counts();
    knobs.add_rule(Rule::method_with("cataloginventory_stock_item.update", "ELEC-ACC-001", Inject::Fault, Some(1)));
    let before = sb.stock("ELEC-ACC-001").unwrap().qty;
    let calls = vec![
        item("product_stock.update", vec![s("ELEC-ACC-001"), st(&[("qty", i(1))])]),
        item("cataloginventory_stock_item.update", vec![s("ELEC-ACC-002"), st(&[("qty", i(2))])]),
        item("cataloginventory_stock_item.update", vec![s("HOME-001"), st(&[("qty", i(3))])]),
    ];
    let out = c.multi(calls.clone()).await.unwrap();
    let out = items(&out);
    assert_eq!(get(&out[0], "faultCode"), &s("1"));
    assert_eq!((&out[1], &out[2]), (&Value::Boolean(true), &Value::Boolean(true)));
    assert_eq!(sb.stock("ELEC-ACC-001").unwrap().qty, before, "the faulted item was not applied");
    assert_eq!(sb.stock("HOME-001").unwrap().qty, "3".parse().unwrap());
    // The rule ran out: the same batch now passes.
    let out = c.multi(calls).await.unwrap();
    assert!(items(&out).iter().all(|v| v == &Value::Boolean(true)));
    assert_eq!(knobs.count("cataloginventory_stock_item.update"), 6, "aliases count under the canonical path");
    assert_eq!(knobs.count("multiCall"), 2);
    assert_eq!(knobs.requests(), 2);

    // A targeted deadlock through `call` carries the MySQL message.
    knobs.add_rule(Rule::method_with("catalog_product.update", "", Inject::Deadlock, Some(1)));
    let f = fault(c.call("catalog_product.update", vec![s("1"), st(&[("name", s("x"))])]).await);
    assert_eq!((f.code, f.message.as_str()), (1, DEADLOCK));
    assert_eq!(sb.product("ELEC-PHN-001").unwrap().value("name", 0), Some("Nokia 2610 Phone"));

    // A PHP fatal on the second item: the request dies, the first item is already written.
    knobs.add_rule(Rule::method_with("cataloginventory_stock_item.update", "HOME-002", Inject::Http500, Some(1)));
    let calls = vec![
        item("cataloginventory_stock_item.update", vec![s("HOME-001"), st(&[("qty", i(9))])]),
        item("cataloginventory_stock_item.update", vec![s("HOME-002"), st(&[("qty", i(9))])]),
        item("cataloginventory_stock_item.update", vec![s("HOME-003"), st(&[("qty", i(9))])]),
    ];
    assert!(matches!(c.multi(calls).await, Err(CallError::Http { status: 500, .. })));
    assert_eq!(sb.stock("HOME-001").unwrap().qty, "9".parse().unwrap());
    assert_ne!(sb.stock("HOME-003").unwrap().qty, "9".parse().unwrap());
    knobs.clear_rules();
    sb.shutdown().await;
}
