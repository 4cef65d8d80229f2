//! The state store on real files: migrations, every typed function, reopening, concurrency.

use std::str::FromStr;

use magento_connector::store::{
    BindingKind, BindingPut, BrokenCode, BrokenUpsert, Created, EventKey, EventKind, EventState, NewRecord, Outcome,
    RunFilter, RunState, SCHEMA_VERSION, Store, StoreError,
};
use rust_decimal::Decimal;

fn schema(path: &std::path::Path) -> (i64, Vec<String>) {
    let c = rusqlite::Connection::open(path).unwrap();
    let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    let mut st =
        c.prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY name").unwrap();
    let objects = st.query_map([], |r| r.get(0)).unwrap().collect::<Result<Vec<String>, _>>().unwrap();
    (v, objects)
}

#[tokio::test]
async fn migrations_create_the_schema_and_a_rerun_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/state.sqlite3");
    let (store, before) = Store::open_reporting(&path).unwrap();
    assert_eq!(before, 0);
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    drop(store);
    let (v, objects) = schema(&path);
    assert_eq!(v, SCHEMA_VERSION);
    for table in
        ["bindings", "runs", "run_events", "run_records", "broken_orders", "cursors", "sent_events", "stock_sent"]
    {
        assert!(objects.iter().any(|o| o.starts_with(&format!("table {table}:"))), "{table} missing: {objects:?}");
    }
    let journal: String =
        rusqlite::Connection::open(&path).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(journal, "wal");

    let (store, before) = Store::open_reporting(&path).unwrap();
    assert_eq!(before, SCHEMA_VERSION, "nothing left to apply");
    drop(store);
    assert_eq!(schema(&path), (v, objects), "re-running migrations changes nothing");
}

#[tokio::test]
async fn a_file_from_a_newer_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    drop(Store::open(&path).unwrap());
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
    let e = Store::open(&path).unwrap_err();
    assert!(matches!(e, StoreError::TooNew { found, .. } if found == SCHEMA_VERSION + 1), "{e}");
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    std::fs::write(&path, b"this is not a database, just some text that is long enough to have a header").unwrap();
    let e = Store::open(&path).unwrap_err().to_string();
    assert!(e.contains("state.sqlite3"), "{e}");
}

#[tokio::test]
async fn bindings_upsert_find_conflict_and_delete() {
    let store = Store::open_in_memory().unwrap();
    let b = store.bindings();
    let first = b
        .put(BindingPut::new("shop", BindingKind::Product, 7, "101").hash("h1").extra(serde_json::json!({"sku": "A"})))
        .await
        .unwrap();
    assert_eq!((first.openerp_id, first.magento_id.as_str(), first.store_id), (7, "101", 0));
    assert_eq!(first.payload_hash.as_deref(), Some("h1"));
    assert_eq!(first.extra, serde_json::json!({"sku": "A"}));
    let second = b.put(BindingPut::new("shop", BindingKind::Product, 7, "101").hash("h2")).await.unwrap();
    assert_eq!(second.created_at, first.created_at, "an upsert keeps the creation time");
    assert_eq!(second.payload_hash.as_deref(), Some("h2"));
    assert_eq!(second.extra, serde_json::json!({}));
    assert!(second.updated_at >= first.updated_at);
    b.put(BindingPut::new("shop", BindingKind::Product, 7, "101").store(2)).await.unwrap();
    b.put(BindingPut::new("shop", BindingKind::Category, 7, "5")).await.unwrap();
    b.put(BindingPut::new("other", BindingKind::Product, 7, "101")).await.unwrap();

    assert_eq!(b.get("shop", BindingKind::Product, 7, 0).await.unwrap().unwrap().payload_hash.as_deref(), Some("h2"));
    assert!(b.get("shop", BindingKind::Product, 7, 3).await.unwrap().is_none());
    assert_eq!(b.find_by_magento("shop", BindingKind::Product, "101", 2).await.unwrap().unwrap().openerp_id, 7);
    assert!(b.find_by_magento("shop", BindingKind::Order, "101", 0).await.unwrap().is_none());
    let many = b.get_many("shop", BindingKind::Product, &[9, 7, 7]).await.unwrap();
    assert_eq!(many.iter().map(|x| x.store_id).collect::<Vec<_>>(), vec![0, 2]);
    assert_eq!(b.list("shop", BindingKind::Product).await.unwrap().len(), 2);
    b.put(BindingPut::new("shop", BindingKind::Product, 3, "99")).await.unwrap();
    assert_eq!(b.openerp_ids("shop", BindingKind::Product, 0).await.unwrap(), vec![3, 7]);
    assert_eq!(b.openerp_ids("shop", BindingKind::Product, 2).await.unwrap(), vec![7]);
    assert_eq!(b.openerp_ids("other", BindingKind::Category, 0).await.unwrap(), Vec::<i64>::new());
    assert!(b.delete("shop", BindingKind::Product, 3, 0).await.unwrap());

    let e = b.put(BindingPut::new("shop", BindingKind::Product, 8, "101")).await.unwrap_err();
    assert!(matches!(&e, StoreError::Conflict { bound_to: 7, .. }), "{e}");
    assert!(b.get("shop", BindingKind::Product, 8, 0).await.unwrap().is_none(), "a conflict writes nothing");
    // Re-pointing a record to another Magento id is an update, not a conflict.
    assert_eq!(b.put(BindingPut::new("shop", BindingKind::Product, 7, "150")).await.unwrap().magento_id, "150");

    assert!(b.delete("shop", BindingKind::Product, 7, 2).await.unwrap());
    assert!(!b.delete("shop", BindingKind::Product, 7, 2).await.unwrap());
    assert_eq!(b.list("shop", BindingKind::Product).await.unwrap().len(), 1);
}

#[tokio::test]
async fn runs_create_once_per_backend_and_kind_and_keep_counts_with_records() {
    let store = Store::open_in_memory().unwrap();
    let r = store.runs();
    let Created::New(run) = r.create("shop", "products", true, serde_json::json!({"dry_run": true}), 1).await.unwrap()
    else {
        panic!()
    };
    assert_eq!((run.state, run.dry_run, run.total, run.percent()), (RunState::Queued, true, 0, 0));
    assert!(
        matches!(r.create("shop", "products", false, serde_json::json!({}), 1).await.unwrap(), Created::Existing(ref e) if e.id == run.id)
    );
    let other = r.create("shop", "stock", false, serde_json::json!({}), 1).await.unwrap();
    assert!(matches!(other, Created::New(_)));
    assert_eq!(r.active("shop", "products").await.unwrap().unwrap().id, run.id);

    assert!(r.mark_running(run.id).await.unwrap());
    assert!(!r.mark_running(run.id).await.unwrap(), "only a queued run starts");
    r.set_total(run.id, 4).await.unwrap();
    for (i, outcome) in [Outcome::Created, Outcome::Updated, Outcome::Failed, Outcome::Planned].into_iter().enumerate()
    {
        r.add_record(
            run.id,
            NewRecord::new("product", format!("SKU-{i}"), outcome)
                .message(format!("m{i}"))
                .magento_id(i.to_string())
                .openerp_id(i as i64),
        )
        .await
        .unwrap();
        assert_eq!(r.advance(run.id, 1).await.unwrap(), i as u64 + 1);
    }
    let got = r.get(run.id).await.unwrap().unwrap();
    assert_eq!((got.created, got.updated, got.skipped, got.failed, got.done, got.percent()), (1, 1, 0, 1, 4, 100));
    let (total, page) = r.records(run.id, None, 1, 2).await.unwrap();
    assert_eq!((total, page.iter().map(|x| x.reference.as_str()).collect::<Vec<_>>()), (4, vec!["SKU-1", "SKU-2"]));
    let (planned, rows) = r.records(run.id, Some(Outcome::Planned), 0, 10).await.unwrap();
    assert_eq!((planned, rows[0].magento_id.as_deref(), rows[0].openerp_id), (1, Some("3"), Some(3)));

    for i in 0..60 {
        r.add_event(run.id, "info", &format!("message {i}")).await.unwrap();
    }
    let events = r.events(run.id, 50).await.unwrap();
    assert_eq!((events.len(), events[0].text.as_str(), events[49].text.as_str()), (50, "message 10", "message 59"));

    assert!(r.request_cancel(run.id).await.unwrap());
    assert!(r.heartbeat(run.id, chrono::Utc::now()).await.unwrap(), "the heartbeat reports the cancellation request");
    assert!(r.finish(run.id, RunState::Cancelled, None).await.unwrap());
    assert!(!r.finish(run.id, RunState::Done, None).await.unwrap(), "a final state is final");
    assert_eq!(r.get(run.id).await.unwrap().unwrap().state, RunState::Cancelled);
    assert!(matches!(r.create("shop", "products", false, serde_json::json!({}), 1).await.unwrap(), Created::New(_)));

    let queued = other.run().id;
    assert!(r.cancel_queued(queued).await.unwrap());
    assert!(!r.cancel_queued(queued).await.unwrap());
    assert!(!r.request_cancel(queued).await.unwrap(), "only running runs take a cancellation request");

    let all = r.list(RunFilter::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let f = RunFilter {
        backend: Some("shop".into()),
        kind: Some("stock".into()),
        state: Some(RunState::Cancelled),
        limit: 10,
    };
    assert_eq!(r.list(f).await.unwrap().len(), 1);
    assert_eq!(r.list(RunFilter { limit: 1, ..RunFilter::default() }).await.unwrap().len(), 1);
    assert!(r.get(9999).await.unwrap().is_none());
}

#[tokio::test]
async fn orphaned_runs_are_interrupted_by_dead_owner_or_stale_heartbeat() {
    let store = Store::open_in_memory().unwrap();
    let r = store.runs();
    let dead = r.create("a", "stock", false, serde_json::json!({}), 111).await.unwrap().run().id;
    let stale = r.create("b", "stock", false, serde_json::json!({}), 222).await.unwrap().run().id;
    let alive = r.create("c", "stock", false, serde_json::json!({}), 222).await.unwrap().run().id;
    r.mark_running(dead).await.unwrap();
    let old = chrono::Utc::now() - chrono::Duration::minutes(10);
    r.heartbeat(stale, old).await.unwrap();
    let marked =
        r.interrupt_orphans(|pid| pid == 222, chrono::Utc::now() - chrono::Duration::minutes(1)).await.unwrap();
    assert_eq!(marked, vec![dead, stale]);
    let d = r.get(dead).await.unwrap().unwrap();
    assert_eq!(d.state, RunState::Failed);
    assert!(d.error.unwrap().starts_with("interrupted"));
    assert!(d.finished_at.is_some());
    assert_eq!(r.get(alive).await.unwrap().unwrap().state, RunState::Queued);
    assert_eq!(r.events(dead, 5).await.unwrap()[0].level, "error");
}

#[tokio::test]
async fn broken_orders_count_attempts_and_resolve() {
    let store = Store::open_in_memory().unwrap();
    let b = store.broken();
    let up = |code: BrokenCode, payload: Option<serde_json::Value>| BrokenUpsert {
        backend: "shop".into(),
        store_id: 1,
        increment_id: "100000001".into(),
        code,
        reason: format!("reason {code}"),
        hint: "fix it".into(),
        payload,
    };
    let first =
        b.upsert(up(BrokenCode::UnknownSku, Some(serde_json::json!({"increment_id": "100000001"})))).await.unwrap();
    assert_eq!((first.attempts, first.code, first.resolved_at), (1, BrokenCode::UnknownSku, None));
    let second = b.upsert(up(BrokenCode::UnmappedTax, None)).await.unwrap();
    assert_eq!((second.attempts, second.code, second.first_seen), (2, BrokenCode::UnmappedTax, first.first_seen));
    assert_eq!(second.payload, first.payload, "a retry without a snapshot keeps the old one");
    assert!(b.resolve("shop", "100000001").await.unwrap());
    assert!(!b.resolve("shop", "100000001").await.unwrap());
    assert!(b.list("shop", false).await.unwrap().is_empty());
    assert_eq!(b.list("shop", true).await.unwrap().len(), 1);
    let reopened = b.upsert(up(BrokenCode::TotalsMismatch, None)).await.unwrap();
    assert_eq!((reopened.attempts, reopened.resolved_at), (3, None), "breaking again re-opens it");
    assert!(b.get("shop", "100000002").await.unwrap().is_none());
    for code in BrokenCode::ALL {
        assert_eq!(BrokenCode::parse(code.as_str()), Some(code));
    }
}

#[tokio::test]
async fn cursors_events_and_stock_round_trip() {
    let store = Store::open_in_memory().unwrap();
    let c = store.cursors();
    assert!(c.get("shop", 1, "orders").await.unwrap().is_none());
    c.set("shop", 1, "orders", "2026-01-01 00:00:00").await.unwrap();
    c.set("shop", 1, "orders", "2026-02-01 00:00:00").await.unwrap();
    c.set("shop", 2, "orders", "x").await.unwrap();
    assert_eq!(c.get("shop", 1, "orders").await.unwrap().unwrap().0, "2026-02-01 00:00:00");
    assert!(c.delete("shop", 1, "orders").await.unwrap());
    assert!(c.get("shop", 1, "orders").await.unwrap().is_none());
    assert_eq!(c.get("shop", 2, "orders").await.unwrap().unwrap().0, "x");

    let e = store.events();
    let key = EventKey::new("shop", "100000001", EventKind::Shipment, "picking-9");
    assert!(e.get(&key).await.unwrap().is_none());
    e.mark(&key, EventState::Pending, None, "sending").await.unwrap();
    let sent = e.mark(&key, EventState::Sent, Some("300000001"), "shipped").await.unwrap();
    assert_eq!((sent.state, sent.magento_ref.as_deref()), (EventState::Sent, Some("300000001")));
    let done = e.mark(&key, EventState::Done, None, "confirmed").await.unwrap();
    assert_eq!(done.magento_ref.as_deref(), Some("300000001"), "a later mark without ref keeps it");
    e.mark(&EventKey::new("shop", "100000001", EventKind::Status, "complete"), EventState::Pending, None, "")
        .await
        .unwrap();
    let all = e.for_order("shop", "100000001").await.unwrap();
    assert_eq!(all.iter().map(|x| x.kind).collect::<Vec<_>>(), vec![EventKind::Shipment, EventKind::Status]);
    assert_eq!(e.in_state("shop", EventState::Pending).await.unwrap().len(), 1);

    let s = store.stock();
    s.put("shop", 7, 0, "SKU-7", Decimal::from_str("12.5000").unwrap(), true).await.unwrap();
    s.put("shop", 7, 0, "SKU-7", Decimal::from_str("0").unwrap(), false).await.unwrap();
    s.put("shop", 8, 1, "SKU-8", Decimal::from_str("3").unwrap(), true).await.unwrap();
    let got = s.get("shop", 7, 0).await.unwrap().unwrap();
    assert_eq!((got.qty, got.is_in_stock, got.sku.as_str()), (Decimal::ZERO, false, "SKU-7"));
    assert_eq!(s.list("shop").await.unwrap().len(), 2);
    assert_eq!(s.clear("shop").await.unwrap(), 2);
    assert!(s.get("shop", 8, 1).await.unwrap().is_none());
}

#[tokio::test]
async fn a_reopened_file_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    let run_id = {
        let store = Store::open(&path).unwrap();
        store.bindings().put(BindingPut::new("shop", BindingKind::Order, 55, "100000009")).await.unwrap();
        store.cursors().set("shop", 0, "products", "42").await.unwrap();
        let id =
            store.runs().create("shop", "products", false, serde_json::json!({"ids": [1]}), 1).await.unwrap().run().id;
        store.runs().add_record(id, NewRecord::new("product", "A", Outcome::Created)).await.unwrap();
        store.runs().finish(id, RunState::Done, None).await.unwrap();
        id
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.bindings().find_by_magento("shop", BindingKind::Order, "100000009", 0).await.unwrap().unwrap().openerp_id,
        55
    );
    assert_eq!(store.cursors().get("shop", 0, "products").await.unwrap().unwrap().0, "42");
    let run = store.runs().get(run_id).await.unwrap().unwrap();
    assert_eq!((run.state, run.created, run.options.clone()), (RunState::Done, 1, serde_json::json!({"ids": [1]})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_from_tasks_and_from_two_handles_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite3");
    let a = Store::open(&path).unwrap();
    let b = Store::open(&path).unwrap(); // a second connection, like a second process
    let run = a.runs().create("shop", "products", false, serde_json::json!({}), 1).await.unwrap().run().id;
    let mut tasks = Vec::new();
    for t in 0..8i64 {
        let store = if t % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            for i in 0..25i64 {
                let id = t * 100 + i;
                store.bindings().put(BindingPut::new("shop", BindingKind::Product, id, id.to_string())).await.unwrap();
                store
                    .runs()
                    .add_record(run, NewRecord::new("product", id.to_string(), Outcome::Updated))
                    .await
                    .unwrap();
                store.runs().advance(run, 1).await.unwrap();
                store.cursors().set("shop", t, "s", &i.to_string()).await.unwrap();
            }
        }));
    }
    // Racing creates of one backend/kind from both handles yield one run.
    let mut creators = Vec::new();
    for k in 0..10 {
        let store = if k % 2 == 0 { a.clone() } else { b.clone() };
        creators.push(tokio::spawn(async move {
            store.runs().create("shop", "stock", false, serde_json::json!({}), 1).await.unwrap().run().id
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut ids = Vec::new();
    for c in creators {
        ids.push(c.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one stock run, whoever asked: {ids:?}");
    let got = b.runs().get(run).await.unwrap().unwrap();
    assert_eq!((got.updated, got.done), (200, 200), "no lost update");
    assert_eq!(a.bindings().list("shop", BindingKind::Product).await.unwrap().len(), 200);
    assert_eq!(a.cursors().get("shop", 7, "s").await.unwrap().unwrap().0, "24");
}

#[tokio::test]
async fn many_bindings_and_records_in_one_transaction() {
    let store = Store::open_in_memory().unwrap();
    let b = store.bindings();
    b.put(BindingPut::new("shop", BindingKind::Product, 1, "101")).await.unwrap();
    let results = b
        .put_many(vec![
            BindingPut::new("shop", BindingKind::Product, 2, "102").hash("h2"),
            BindingPut::new("shop", BindingKind::Product, 3, "101"),
            BindingPut::new("shop", BindingKind::Product, 1, "101").extra(serde_json::json!({"sku": "A"})),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().payload_hash.as_deref(), Some("h2"));
    assert!(matches!(&results[1], Err(StoreError::Conflict { bound_to: 1, .. })), "{:?}", results[1]);
    assert_eq!(results[2].as_ref().unwrap().extra, serde_json::json!({"sku": "A"}));
    assert_eq!(b.openerp_ids("shop", BindingKind::Product, 0).await.unwrap(), vec![1, 2], "the conflict wrote nothing");
    assert!(b.put_many(Vec::new()).await.unwrap().is_empty());

    let r = store.runs();
    let Created::New(run) = r.create("shop", "products", false, serde_json::json!({}), 1).await.unwrap() else {
        panic!()
    };
    let recs = [Outcome::Created, Outcome::Skipped, Outcome::Failed, Outcome::Created]
        .into_iter()
        .enumerate()
        .map(|(i, o)| NewRecord::new("product", format!("SKU-{i}"), o))
        .collect();
    r.add_records(run.id, recs).await.unwrap();
    r.add_records(run.id, Vec::new()).await.unwrap();
    let got = r.get(run.id).await.unwrap().unwrap();
    assert_eq!((got.created, got.skipped, got.failed), (2, 1, 1));
    let (total, rows) = r.records(run.id, None, 0, 10).await.unwrap();
    let refs: Vec<&str> = rows.iter().map(|x| x.reference.as_str()).collect();
    assert_eq!((total, refs), (4, vec!["SKU-0", "SKU-1", "SKU-2", "SKU-3"]));
}
