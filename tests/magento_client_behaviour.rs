//! Behaviour of the Magento 1 client against a scripted fake server: sessions, batching and
//! the OpenMage ≥ 20.11 fallback, retries (HTTP 500, timeouts, deadlocks) with bounds,
//! create-by-SKU recovery without duplicates, and secrets kept out of errors.

mod magento_client_support;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dxr::Value;
use magento_client_support::*;
use magento_connector::config::MultiCallMode;
use magento_connector::magento::*;
use magento_connector::rpc::{Fault, value};
use rust_decimal::Decimal;

const DEADLOCK: &str =
    "SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock; try restarting transaction";

fn info_handler() -> Handler {
    Box::new(|path, _| match path {
        "magento.info" => recorded_response("0040-magento.info"),
        "cataloginventory_stock_item.update" | "catalog_product.update" => Ok(value::boolean(true)),
        _ => Err(Fault::new(3, "Invalid api path.")),
    })
}

fn stock_updates(n: usize) -> Vec<StockUpdate> {
    (0..n)
        .map(|i| StockUpdate { sku: format!("SKU-{i}"), qty: Some(Decimal::from(i as i64)), ..Default::default() })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Sessions

#[tokio::test]
async fn an_expired_session_is_renewed_once_and_the_call_retried() {
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let c = fake.client();
    c.version().await.unwrap();
    fake.state.expire_sessions();
    let v = c.version().await.unwrap();
    assert_eq!(v.version, "1.9.4.5");
    assert_eq!(fake.state.count("login"), 2);
    assert_eq!(fake.state.count("call"), 3, "first call, refused call, retried call");
}

#[tokio::test]
async fn concurrent_callers_after_an_expiry_share_one_new_login() {
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let mut ep = fake.endpoint();
    ep.concurrency = 8;
    let c: Arc<dyn MagentoApi> = magento_connector::magento::connect(&ep).unwrap();
    c.version().await.unwrap();
    fake.state.expire_sessions();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = Arc::clone(&c);
            tokio::spawn(async move { c.version().await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(fake.state.count("login"), 2, "one initial login and exactly one re-login");
}

#[tokio::test]
async fn a_session_refused_right_after_a_new_login_is_an_auth_error_not_a_loop() {
    let fake =
        Fake::start(MultiCall::Supported, Box::new(|_, _| Err(Fault::new(5, "Session expired. Try to relogin."))))
            .await;
    let e = fake.client().version().await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!(e.fault_code, Some(5));
    assert_eq!((fake.state.count("login"), fake.state.count("call")), (2, 2));
}

#[tokio::test]
async fn close_ends_the_session_and_later_calls_log_in_again() {
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let c = fake.client();
    c.version().await.unwrap();
    c.close().await.unwrap();
    assert!(fake.state.sessions.lock().unwrap().is_empty());
    c.close().await.unwrap();
    assert_eq!(fake.state.count("endSession"), 1, "nothing to end the second time");
    c.version().await.unwrap();
    assert_eq!(fake.state.count("login"), 2);
}

#[tokio::test]
async fn a_wrong_key_is_tried_once_for_a_whole_batch() {
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let c = fake.client_with(|ep| {
        ep.api_key = "not-the-key".into();
        ep.multicall = MultiCallMode::Off;
    });
    let out = c.update_stock(&stock_updates(50)).await;
    assert_eq!(out.len(), 50);
    for (i, r) in out.iter().enumerate() {
        let e = r.as_ref().unwrap_err();
        assert!(e.is_auth(), "{e}");
        assert_eq!(e.key, Some(format!("SKU-{i}")));
        assert!(!e.to_string().contains("not-the-key"));
    }
    assert_eq!(fake.state.count("login"), 1);
    assert_eq!(fake.state.count("call"), 0);
}

// ---------------------------------------------------------------------------------------------
// Batches

#[tokio::test]
async fn a_multicall_reports_failing_items_inline() {
    let fake = Fake::start(
        MultiCall::Supported,
        Box::new(|path, args| {
            assert_eq!(path, "cataloginventory_stock_item.update");
            match args.first() {
                Some(Value::String(s)) if s == "SKU-1" => Err(Fault::new(101, "Product not exists.")),
                Some(Value::String(_)) => Ok(value::boolean(true)),
                _ => Err(Fault::new(623, "Calling parameters do not match signature")),
            }
        }),
    )
    .await;
    let out = fake.client().update_stock(&stock_updates(3)).await;
    assert!(out[0].is_ok() && out[2].is_ok());
    let e = out[1].as_ref().unwrap_err();
    assert_eq!((e.kind, e.key.as_deref(), e.fault_code), (ErrorKind::NotFound, Some("SKU-1"), Some(101)));
    assert_eq!(e.method, "cataloginventory_stock_item.update");
    let mc = fake.state.multicalls();
    assert_eq!(mc.len(), 1);
    assert_eq!(mc[0].len(), 3);
    assert_eq!(mc[0][1].1, vec![value::string("SKU-1"), value::structure([("qty", value::string("1"))])]);
    assert_eq!(fake.state.count("call"), 0);
}

#[tokio::test]
async fn batches_are_cut_to_the_batch_size() {
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let c = fake.client_with(|ep| ep.batch_size = 10);
    let out = c.update_stock(&stock_updates(35)).await;
    assert!(out.iter().all(Result::is_ok));
    let mut sizes: Vec<usize> = fake.state.multicalls().iter().map(Vec::len).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, vec![5, 10, 10, 10]);
}

#[tokio::test]
async fn chunks_run_concurrently_up_to_the_configured_limit() {
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let c = fake.client_with(|ep| {
        ep.batch_size = 5;
        ep.concurrency = 2;
    });
    c.version().await.unwrap();
    *fake.state.http_always.lock().unwrap() = Some(HttpAction::Delay(Duration::from_millis(150)));
    let out = c.update_stock(&stock_updates(30)).await;
    assert!(out.iter().all(Result::is_ok));
    assert_eq!(fake.state.count("multiCall"), 6);
    assert_eq!(fake.state.max_in_flight.load(Ordering::SeqCst), 2, "never more than 2, and the limit is used");
}

#[tokio::test]
async fn fault_623_on_multicall_falls_back_to_single_calls_and_is_detected_once() {
    let fake = Fake::start(MultiCall::Rejects, info_handler()).await;
    let c = fake.client();
    let out = c.update_stock(&stock_updates(60)).await;
    assert_eq!(out.len(), 60);
    assert!(out.iter().all(Result::is_ok));
    assert_eq!(fake.state.count("multiCall"), 1, "detected on the first chunk only");
    assert_eq!(fake.state.calls_to("cataloginventory_stock_item.update"), 60);
    let out = c.update_stock(&stock_updates(30)).await;
    assert!(out.iter().all(Result::is_ok));
    assert_eq!(fake.state.count("multiCall"), 1, "remembered");
    let report = c.probe().await.unwrap();
    assert_eq!(report.batch, BatchSupport::Unsupported);
    assert_eq!(fake.state.count("multiCall"), 1);
}

#[tokio::test]
async fn probe_reports_version_and_multicall_support() {
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let report = fake.client().probe().await.unwrap();
    assert_eq!(report.version.openmage_version.as_deref(), Some("19.4.23"));
    assert_eq!(report.batch, BatchSupport::Supported);
    assert_eq!(fake.state.multicalls(), vec![vec![("magento.info".to_owned(), vec![])]]);

    let fake = Fake::start(MultiCall::Rejects, info_handler()).await;
    assert_eq!(fake.client().probe().await.unwrap().batch, BatchSupport::Unsupported);
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let c = fake.client_with(|ep| ep.multicall = MultiCallMode::Off);
    assert_eq!(c.probe().await.unwrap().batch, BatchSupport::Disabled);
    assert_eq!(fake.state.count("multiCall"), 0);
}

#[tokio::test]
async fn multicall_mode_on_reports_a_refusal_per_item_and_off_never_sends_one() {
    let fake = Fake::start(MultiCall::Rejects, info_handler()).await;
    let out = fake.client_with(|ep| ep.multicall = MultiCallMode::On).update_stock(&stock_updates(3)).await;
    for (i, r) in out.iter().enumerate() {
        let e = r.as_ref().unwrap_err();
        assert_eq!((e.kind, e.fault_code), (ErrorKind::Protocol, Some(623)));
        assert_eq!(e.key, Some(format!("SKU-{i}")));
        assert!(e.message.contains("multicall = \"auto\" or \"off\""), "{e}");
    }
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let out = fake.client_with(|ep| ep.multicall = MultiCallMode::Off).update_stock(&stock_updates(7)).await;
    assert!(out.iter().all(Result::is_ok));
    assert_eq!((fake.state.count("multiCall"), fake.state.count("call")), (0, 7));
}

// ---------------------------------------------------------------------------------------------
// Retries

#[tokio::test]
async fn http_500_with_an_empty_body_is_retried() {
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let c = fake.client();
    c.version().await.unwrap();
    let before = fake.state.http_requests.load(Ordering::SeqCst);
    fake.state.plan([HttpAction::Fail500, HttpAction::Fail500]);
    assert_eq!(c.version().await.unwrap().version, "1.9.4.5");
    assert_eq!(fake.state.http_requests.load(Ordering::SeqCst) - before, 3);
}

#[tokio::test]
async fn http_500_gives_up_after_the_configured_attempts_with_a_clear_error() {
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let c = fake.client_with(|ep| ep.retries = 3);
    c.version().await.unwrap();
    let before = fake.state.http_requests.load(Ordering::SeqCst);
    *fake.state.http_always.lock().unwrap() = Some(HttpAction::Fail500);
    let e = c.version().await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(e.method, "magento.info");
    assert!(e.message.contains("HTTP 500") && e.message.contains("gave up after 3 attempts"), "{e}");
    assert_eq!(fake.state.http_requests.load(Ordering::SeqCst) - before, 3);
}

#[tokio::test]
async fn timeouts_are_retried_and_bounded() {
    let fake = Fake::start(MultiCall::Supported, info_handler()).await;
    let c = fake.client_with(|ep| {
        ep.timeout = Duration::from_millis(300);
        ep.retries = 3;
    });
    c.version().await.unwrap();
    fake.state.plan([HttpAction::Delay(Duration::from_secs(2)), HttpAction::Delay(Duration::from_secs(2))]);
    assert_eq!(c.version().await.unwrap().edition, "Community");

    let before = fake.state.http_requests.load(Ordering::SeqCst);
    *fake.state.http_always.lock().unwrap() = Some(HttpAction::Delay(Duration::from_secs(2)));
    let e = c.version().await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(e.message.contains("timed out") && e.message.contains("gave up after 3 attempts"), "{e}");
    assert_eq!(fake.state.http_requests.load(Ordering::SeqCst) - before, 3);
}

#[tokio::test]
async fn a_timeout_on_a_call_that_must_not_run_twice_is_not_repeated() {
    let fake = Fake::start(MultiCall::Supported, Box::new(|_, _| Ok(value::boolean(true)))).await;
    let c = fake.client_with(|ep| ep.timeout = Duration::from_millis(300));
    c.hold_order("100000001").await.unwrap();
    let before = fake.state.http_requests.load(Ordering::SeqCst);
    fake.state.plan([HttpAction::Delay(Duration::from_secs(2))]);
    let comment = OrderComment { status: None, comment: "Shipped".into(), notify: true };
    let e = c.add_order_comment("100000001", &comment).await.unwrap_err();
    assert!(e.is_retryable(), "the caller may retry later: {e}");
    assert_eq!(e.key.as_deref(), Some("100000001"));
    assert_eq!(fake.state.http_requests.load(Ordering::SeqCst) - before, 1);
}

#[tokio::test]
async fn deadlocks_are_retried_for_updates_but_not_for_order_comments() {
    let failures = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let f2 = Arc::clone(&failures);
    let fake = Fake::start(
        MultiCall::Supported,
        Box::new(move |path, _| {
            let mut f = f2.lock().unwrap();
            let n = f.entry(path.to_owned()).or_default();
            *n += 1;
            if *n <= 2 { Err(Fault::new(1, DEADLOCK)) } else { Ok(value::boolean(true)) }
        }),
    )
    .await;
    let c = fake.client();
    let upd = ProductUpdate {
        sku: "A".into(),
        scope: Scope::Default,
        data: ProductData { name: Some("x".into()), ..Default::default() },
    };
    c.update_product(&upd).await.unwrap();
    assert_eq!(fake.state.calls_to("catalog_product.update"), 3);
    // Magento 1's addComment saves the order, then sends (queues) the e-mail: a fault raised
    // there comes after the comment exists, so the client hands it back (the follow-up looks
    // for the comment before sending it again) instead of adding it a second time.
    let comment = OrderComment { status: Some("processing".into()), comment: "ok".into(), notify: false };
    let e = c.add_order_comment("100000001", &comment).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(fake.state.calls_to("sales_order.addComment"), 1);
}

#[tokio::test]
async fn other_faults_are_not_retried() {
    let fake = Fake::start(
        MultiCall::Supported,
        Box::new(|_, _| Err(Fault::new(1, "Invalid attribute value for 'visibility'"))),
    )
    .await;
    let upd = ProductUpdate { sku: "A".into(), scope: Scope::Default, data: ProductData::default() };
    let e = fake.client().update_product(&upd).await.unwrap_err();
    assert_eq!((e.kind, e.fault_code), (ErrorKind::Refused, Some(1)));
    assert_eq!(e.message, "Invalid attribute value for 'visibility'");
    assert_eq!(fake.state.calls_to("catalog_product.update"), 1);
}

// ---------------------------------------------------------------------------------------------
// Identifiers and secrets

#[tokio::test]
async fn numeric_skus_are_always_sent_with_identifier_type_sku() {
    let fake = Fake::start(
        MultiCall::Supported,
        Box::new(|path, args| {
            // Like Magento: without identifierType a numeric string is an entity id.
            let by_sku = match path {
                "catalog_product.update" => args.get(3) == Some(&value::string("sku")),
                "catalog_product_attribute_media.list" => args.get(2) == Some(&value::string("sku")),
                "catalog_product_attribute_media.remove" => args.get(2) == Some(&value::string("sku")),
                _ => false,
            };
            if !by_sku {
                return Err(Fault::new(101, "Product not exists."));
            }
            match path {
                "catalog_product_attribute_media.list" => Ok(value::array([])),
                _ => Ok(value::boolean(true)),
            }
        }),
    )
    .await;
    let c = fake.client();
    let upd = ProductUpdate {
        sku: "1001".into(),
        scope: Scope::Store(2),
        data: ProductData { enabled: Some(true), ..Default::default() },
    };
    c.update_product(&upd).await.unwrap();
    c.disable_product("1001").await.unwrap();
    assert!(c.images("1001").await.unwrap().is_empty());
    c.remove_image("1001", "/a/b/ab.jpg").await.unwrap();
    let updates = fake.state.calls("catalog_product.update");
    assert_eq!(
        updates[0],
        vec![value::string("1001"), value::structure([("status", value::int(1))]), value::int(2), value::string("sku")]
    );
    assert_eq!(
        updates[1],
        vec![
            value::string("1001"),
            value::structure([("status", value::int(2))]),
            value::boolean(false),
            value::string("sku")
        ]
    );
}

#[tokio::test]
async fn secrets_never_appear_in_errors() {
    let fake = Fake::start(
        MultiCall::Supported,
        Box::new(|_, _| Err(Fault::new(1, format!("PDO error near 'session {RECORDED_SID}' and key '{KEY}'")))),
    )
    .await;
    let c = fake.client();
    let e = c
        .update_product(&ProductUpdate { sku: "A".into(), scope: Scope::Default, data: ProductData::default() })
        .await
        .unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(!text.contains(RECORDED_SID) && !text.contains(KEY), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!format!("{c:?}").contains(KEY));
}

// ---------------------------------------------------------------------------------------------
// Product creates never run twice

/// A minimal product table behind the fake: creates, SKU lookups, and scripted failures.
#[derive(Default)]
struct Shop {
    products: Mutex<BTreeMap<String, (i64, String)>>,
    next_id: AtomicI64,
    creates: Mutex<HashMap<String, usize>>,
}

impl Shop {
    fn insert(&self, sku: &str) -> i64 {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 100;
        self.products.lock().unwrap().insert(sku.to_lowercase(), (id, sku.to_owned()));
        id
    }

    fn id_of(&self, sku: &str) -> Option<i64> {
        self.products.lock().unwrap().get(&sku.to_lowercase()).map(|p| p.0)
    }

    fn creates_of(&self, sku: &str) -> usize {
        self.creates.lock().unwrap().get(sku).copied().unwrap_or(0)
    }

    /// `catalog_product.list({sku: {in: [...]}})`.
    fn list(&self, args: &[Value]) -> Result<Value, Fault> {
        let Some(Value::Struct(f)) = args.first() else {
            return Ok(value::array([]));
        };
        let Some(Value::Struct(cond)) = f.get("sku") else {
            return Err(Fault::new(0, "Unknown Error"));
        };
        let Some(Value::Array(skus)) = cond.get("in") else {
            return Err(Fault::new(0, "Unknown Error"));
        };
        let products = self.products.lock().unwrap();
        let rows = skus.iter().filter_map(|s| match s {
            Value::String(s) => products.get(&s.to_lowercase()),
            _ => None,
        });
        Ok(value::array(rows.map(|(id, sku)| {
            value::structure([
                ("product_id", value::id(*id)),
                ("sku", value::string(sku.clone())),
                ("set", value::int(4)),
                ("type", value::string("simple")),
            ])
        })))
    }

    /// `catalog_product.create(type, set, sku, data)` with per-SKU behaviour.
    fn create(&self, args: &[Value]) -> Result<Value, Fault> {
        let Some(Value::String(sku)) = args.get(2) else {
            return Err(Fault::new(102, "Invalid data given."));
        };
        let n = {
            let mut c = self.creates.lock().unwrap();
            let n = c.entry(sku.clone()).or_default();
            *n += 1;
            *n
        };
        if self.id_of(sku).is_some() {
            return Err(Fault::new(1, "The value of attribute \"SKU\" must be unique"));
        }
        match (sku.as_str(), n) {
            // Saved, then an observer fails: the product exists although the call failed.
            ("B", _) => {
                self.insert(sku);
                Err(Fault::new(1, "Indexer failed after save"))
            }
            // A deadlock the first time (rolled back), fine afterwards.
            ("C", 1) => Err(Fault::new(1, DEADLOCK)),
            ("E", _) => Err(Fault::new(104, "Product type is not in allowed types.")),
            // Saved, then the answer is lost (the client times out meanwhile).
            ("T", 1) => {
                let id = self.insert(sku);
                // Blocks only this handler; the runtime moves its other tasks elsewhere.
                tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(1500)));
                Ok(value::string(id.to_string()))
            }
            _ => Ok(value::string(self.insert(sku).to_string())),
        }
    }
}

fn shop_handler(shop: Arc<Shop>) -> Handler {
    Box::new(move |path, args| match path {
        "catalog_product.create" => shop.create(args),
        "catalog_product.list" => shop.list(args),
        _ => Err(Fault::new(3, "Invalid api path.")),
    })
}

fn new_product(sku: &str) -> NewProduct {
    NewProduct {
        sku: sku.into(),
        type_id: "simple".into(),
        attribute_set_id: 4,
        data: ProductData {
            name: Some(format!("Product {sku}")),
            price: Some(Decimal::new(1999, 2)),
            ..Default::default()
        },
    }
}

#[tokio::test]
async fn failed_creates_in_a_multicall_are_checked_by_sku_and_never_duplicated() {
    let shop = Arc::new(Shop::default());
    let existing = shop.insert("D");
    let fake = Fake::start(MultiCall::Supported, shop_handler(Arc::clone(&shop))).await;
    let products: Vec<NewProduct> = ["A", "B", "C", "D", "E"].iter().map(|s| new_product(s)).collect();
    let out = fake.client().create_products(&products).await;

    assert_eq!(*out[0].as_ref().unwrap(), shop.id_of("A").unwrap());
    assert_eq!(
        *out[1].as_ref().unwrap(),
        shop.id_of("B").unwrap(),
        "created although the item failed: reported with its id"
    );
    assert_eq!(*out[2].as_ref().unwrap(), shop.id_of("C").unwrap(), "deadlocked once, created on the retry");
    assert_eq!(*out[3].as_ref().unwrap(), existing, "already there: its id, no second product");
    let e = out[4].as_ref().unwrap_err();
    assert_eq!((e.kind, e.fault_code, e.key.as_deref()), (ErrorKind::Refused, Some(104), Some("E")));

    assert_eq!(
        ["A", "B", "C", "D", "E"].map(|s| shop.creates_of(s)),
        [1, 1, 2, 1, 1],
        "B and D are never created again; C once more after the lookup found nothing"
    );
    assert_eq!(shop.products.lock().unwrap().len(), 4);
    assert_eq!(fake.state.count("multiCall"), 1);
    let lookups = fake.state.calls("catalog_product.list");
    assert_eq!(lookups.len(), 1, "one lookup for all failed creates");
    assert_eq!(
        lookups[0],
        vec![value::structure([("sku", value::structure([("in", value::array(["B", "C", "D"].map(value::string)))]))])]
    );
}

#[tokio::test]
async fn single_creates_check_the_sku_after_a_deadlock_or_a_generic_failure() {
    let shop = Arc::new(Shop::default());
    let fake = Fake::start(MultiCall::Supported, shop_handler(Arc::clone(&shop))).await;
    let c = fake.client();
    assert_eq!(c.create_product(&new_product("C")).await.unwrap(), shop.id_of("C").unwrap());
    assert_eq!(shop.creates_of("C"), 2);
    assert_eq!(c.create_product(&new_product("B")).await.unwrap(), shop.id_of("B").unwrap());
    assert_eq!(shop.creates_of("B"), 1);
    let e = c.create_product(&new_product("E")).await.unwrap_err();
    assert_eq!(e.fault_code, Some(104));
    assert_eq!(shop.creates_of("E"), 1);
    let e = c.create_product(&new_product(" ")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Refused);
    assert_eq!(shop.creates_of(" "), 0, "refused before sending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_create_whose_answer_times_out_is_found_instead_of_created_again() {
    let shop = Arc::new(Shop::default());
    let fake = Fake::start(MultiCall::Supported, shop_handler(Arc::clone(&shop))).await;
    let c = fake.client_with(|ep| ep.timeout = Duration::from_millis(400));
    let id = c.create_product(&new_product("T")).await.unwrap();
    assert_eq!(id, shop.id_of("T").unwrap());
    assert_eq!(shop.creates_of("T"), 1);
}
