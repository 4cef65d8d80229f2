//! Behaviour of the OpenERP client against a small scripted Odoo-like server in the test:
//! our dispatcher (`FaultStyle::Python`) mounted at `/xmlrpc/2/common` and `/xmlrpc/2/object`
//! on `127.0.0.1:0`, with HTTP failures, timeouts, lost responses and conflicts injected.
//! Every assertion is about requests really made and errors really returned.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use dxr::Value;
use magento_connector::config::OpenErpEndpoint;
use magento_connector::openerp::models::partners::NewPartner;
use magento_connector::openerp::models::sale_orders::{NewOrder, NewOrderLine};
use magento_connector::openerp::{ClientOptions, Context, Domain, ErrorKind, OpenErpClient, ProductKind, Request};
use magento_connector::rpc::dispatch::{Call, Endpoint, FaultStyle, Limits, Registry, RequestMeta};
use magento_connector::rpc::value::{self, Map};
use magento_connector::rpc::{Backoff, Fault};
use magento_connector::secret::Secret;
use rust_decimal::Decimal;

const PASSWORD: &str = "s3cret-pw";
const UID: i32 = 2;
const NONE_TRACEBACK: &str = "Traceback (most recent call last):\n  File \"/usr/lib/python3.11/xmlrpc/client.py\", line 540, in dump_nil\n    raise TypeError(\"cannot marshal None unless allow_none is enabled\")\nTypeError: cannot marshal None unless allow_none is enabled\n";
const CONFLICT_TRACEBACK: &str = "Traceback (most recent call last):\n  File \"/opt/odoo/odoo/sql_db.py\", line 332, in execute\npsycopg2.errors.SerializationFailure: could not serialize access due to concurrent update\n";

/// One `execute_kw` the fake received.
#[derive(Debug, Clone)]
struct Seen {
    model: String,
    method: String,
    args: Vec<Value>,
    kwargs: Map,
}

#[derive(Default)]
struct Fake {
    major: i32,
    products: i64,
    seen: Mutex<Vec<Seen>>,
    common: Mutex<Vec<String>>,
    object_http: AtomicUsize,
    fail_http: AtomicUsize,
    delay: AtomicUsize,
    lose_response: AtomicUsize,
    conflicts: AtomicUsize,
    archived: Mutex<BTreeSet<i64>>,
    deleted: Mutex<BTreeSet<i64>>,
}

fn take(counter: &AtomicUsize) -> bool {
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

fn ids_of(v: Option<&Value>) -> Vec<i64> {
    v.map(|v| value::to_ids("ids", v).unwrap()).unwrap_or_default()
}

/// The `n` of a `["id", ">", n]` leaf anywhere in a domain.
fn id_greater_than(domain: &Value) -> Option<i64> {
    let Value::Array(items) = domain else {
        return None;
    };
    items.iter().find_map(|item| match item {
        Value::Array(leaf) if leaf.len() == 3 && leaf[0] == value::string("id") && leaf[1] == value::string(">") => {
            value::to_i64("n", &leaf[2]).ok()
        }
        _ => None,
    })
}

fn requested_fields(kwargs: &Map) -> Vec<String> {
    match kwargs.get("fields") {
        Some(Value::Array(f)) => f.iter().map(|x| value::to_string("f", x).unwrap()).collect(),
        _ => Vec::new(),
    }
}

impl Fake {
    fn new(major: i32, products: i64) -> Arc<Self> {
        Arc::new(Fake { major, products, ..Fake::default() })
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn seen_methods(&self) -> Vec<String> {
        self.seen().iter().map(|s| format!("{}.{}", s.model, s.method)).collect()
    }

    fn product_row(&self, id: i64, fields: &[String]) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), value::id(id));
        for f in fields {
            let v = match f.as_str() {
                "default_code" if id % 7 == 0 => Value::Boolean(false),
                "default_code" => value::string(format!("SKU-{id}")),
                "name" => value::string(format!("Product {id}")),
                "list_price" | "lst_price" => Value::Double(10.5),
                "weight" => Value::Double(0.25),
                "categ_id" if id % 2 == 0 => Value::Boolean(false),
                "categ_id" => value::array([value::int(1), value::string("All")]),
                "taxes_id" => value::array([value::int(1)]),
                "active" | "sale_ok" | "magento_exportable" => Value::Boolean(true),
                "detailed_type" => value::string("product"),
                "type" => value::string("consu"),
                "is_storable" => Value::Boolean(true),
                "write_date" => value::string("2026-11-27 02:39:39"),
                "product_tmpl_id" => value::array([value::id(id), value::string(format!("Product {id}"))]),
                "qty_available" | "virtual_available" | "free_qty" => Value::Double(3.0),
                // Empty char/text/many2one fields are False, never nil or "".
                _ => Value::Boolean(false),
            };
            m.insert(f.clone(), v);
        }
        Value::Struct(m)
    }

    fn execute(&self, call: &Call) -> Result<Value, Fault> {
        let p = &call.params;
        let password = p.get(2).and_then(|v| value::to_string("pw", v).ok()).unwrap_or_default();
        let uid = p.get(1).and_then(|v| value::to_i64("uid", v).ok()).unwrap_or_default();
        if password != PASSWORD || uid != i64::from(UID) {
            return Err(Fault::new(3, "Access Denied"));
        }
        let seen = Seen {
            model: value::to_string("model", &p[3]).unwrap(),
            method: value::to_string("method", &p[4]).unwrap(),
            args: match p.get(5) {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            },
            kwargs: match p.get(6) {
                Some(Value::Struct(m)) => m.clone(),
                _ => Map::new(),
            },
        };
        self.seen.lock().unwrap().push(seen.clone());
        if take(&self.conflicts) {
            return Err(Fault::new(1, CONFLICT_TRACEBACK));
        }
        let fields = requested_fields(&seen.kwargs);
        match (seen.model.as_str(), seen.method.as_str()) {
            ("product.product", "search_read") => {
                let after = seen.args.first().and_then(id_greater_than).unwrap_or(0);
                let limit = seen.kwargs.get("limit").map_or(i64::MAX, |l| value::to_i64("limit", l).unwrap());
                let rows = (after + 1..=self.products)
                    .take(usize::try_from(limit).unwrap())
                    .map(|id| self.product_row(id, &fields));
                Ok(Value::Array(rows.collect()))
            }
            ("product.product", "search_count") => Ok(value::id(self.products)),
            ("product.product", "read") => {
                let ids = ids_of(seen.args.first());
                Ok(Value::Array(
                    ids.into_iter().filter(|i| *i <= self.products).map(|id| self.product_row(id, &fields)).collect(),
                ))
            }
            ("x.fault", m) => Err(match m {
                "server" => Fault::new(
                    1,
                    "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: Invalid field 'nope' on model 'x.fault'\n",
                ),
                "user" => Fault::new(2, "The following orders are not in a state requiring confirmation: S00025"),
                "missing" => {
                    Fault::new(2, "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)")
                }
                "denied" => Fault::new(3, "Access Denied"),
                "forbidden" => Fault::new(4, "Private methods (such as _x) cannot be called remotely."),
                _ => Fault::new(1, "Traceback\nAttributeError: no such method\n"),
            }),
            ("res.partner", "action_archive") => {
                self.archived.lock().unwrap().extend(ids_of(seen.args.first()));
                Err(Fault::new(1, NONE_TRACEBACK))
            }
            ("res.partner", "action_noop") => Err(Fault::new(1, NONE_TRACEBACK)),
            ("res.partner", "read") => {
                let archived = self.archived.lock().unwrap().clone();
                let rows = ids_of(seen.args.first()).into_iter().map(|id| {
                    value::structure([("id", value::id(id)), ("active", Value::Boolean(!archived.contains(&id)))])
                });
                Ok(Value::Array(rows.collect()))
            }
            ("res.partner", "search") => {
                let deleted = self.deleted.lock().unwrap().clone();
                let wanted = match seen.args.first() {
                    Some(Value::Array(d)) => d
                        .iter()
                        .find_map(|leaf| match leaf {
                            Value::Array(l) if l.len() == 3 && l[1] == value::string("in") => Some(ids_of(Some(&l[2]))),
                            _ => None,
                        })
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                Ok(value::array(wanted.into_iter().filter(|i| !deleted.contains(i)).map(value::id)))
            }
            ("res.partner", "unlink") => {
                self.deleted.lock().unwrap().extend(ids_of(seen.args.first()));
                Ok(Value::Boolean(true))
            }
            ("res.partner" | "sale.order", "create") => match seen.args.first() {
                Some(Value::Array(list)) => Ok(value::array((0..list.len()).map(|i| value::id(100 + i as i64)))),
                _ => Ok(value::int(100)),
            },
            ("sale.order", "action_confirm" | "write") => Ok(Value::Boolean(true)),
            ("stock.picking", "fields_get") => Ok(value::structure([
                ("name", value::structure([("type", value::string("char")), ("string", value::string("Reference"))])),
                (
                    "sale_id",
                    value::structure([
                        ("type", value::string("many2one")),
                        ("string", value::string("Sales Order")),
                        ("relation", value::string("sale.order")),
                    ]),
                ),
            ])),
            ("stock.picking", "search_read") => Ok(Value::Array(Vec::new())),
            (model, _) => Err(Fault::new(2, format!("Object {model} doesn't exist"))),
        }
    }
}

struct Server {
    fake: Arc<Fake>,
    url: String,
}

async fn start(fake: Arc<Fake>) -> Server {
    let mut common = Registry::<Fake>::new(FaultStyle::Python);
    common
        .method("version", "", |f: Arc<Fake>, _c: Call| async move {
            f.common.lock().unwrap().push("version".into());
            Ok(value::structure([
                ("server_version", value::string(format!("{}.0-20240709", f.major))),
                (
                    "server_version_info",
                    value::array([
                        value::int(f.major),
                        value::int(0),
                        value::int(0),
                        value::string("final"),
                        value::int(0),
                        value::string(""),
                    ]),
                ),
                ("server_serie", value::string(format!("{}.0", f.major))),
                ("protocol_version", value::int(1)),
            ]))
        })
        .method("authenticate", "", |f: Arc<Fake>, c: Call| async move {
            f.common.lock().unwrap().push("authenticate".into());
            let ok = c.params.len() == 4
                && c.params[0] == value::string("connector")
                && c.params[1] == value::string("admin")
                && c.params[2] == value::string(PASSWORD);
            Ok(if ok { value::int(UID) } else { Value::Boolean(false) })
        });
    let mut object = Registry::<Fake>::new(FaultStyle::Python);
    object.method("execute_kw", "", |f: Arc<Fake>, c: Call| async move { f.execute(&c) });
    let common = Endpoint::new(common, Arc::clone(&fake), Limits::default());
    let object = Endpoint::new(object, Arc::clone(&fake), Limits::default());

    let f = Arc::clone(&fake);
    let object_route = axum::routing::post(move |body: Bytes| {
        let f = Arc::clone(&f);
        let object = Arc::clone(&object);
        async move {
            f.object_http.fetch_add(1, Ordering::SeqCst);
            if take(&f.fail_http) {
                return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
            }
            if take(&f.delay) {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            let meta = RequestMeta { path: "/xmlrpc/2/object".into(), ..RequestMeta::default() };
            let text = object.handle(meta, &body).await;
            if take(&f.lose_response) {
                return (StatusCode::BAD_GATEWAY, "Bad Gateway").into_response();
            }
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], text).into_response()
        }
    });
    let app = axum::Router::new().route("/xmlrpc/2/common", common.route()).route("/xmlrpc/2/object", object_route);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { fake, url: format!("http://{addr}") }
}

fn endpoint(url: &str, password: &str) -> OpenErpEndpoint {
    OpenErpEndpoint {
        url: url.to_owned(),
        db: "connector".into(),
        user: "admin".into(),
        password: Secret::new(password),
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_millis(400),
        retries: 4,
        page_size: 100,
    }
}

fn client(server: &Server) -> OpenErpClient {
    client_with(server, PASSWORD)
}

fn client_with(server: &Server, password: &str) -> OpenErpClient {
    let ep = endpoint(&server.url, password);
    let mut opts = ClientOptions::for_endpoint(&ep);
    opts.backoff = Backoff { attempts: 4, base: Duration::from_millis(1), max: Duration::from_millis(5) };
    OpenErpClient::with_options(&ep, opts).unwrap()
}

#[tokio::test]
async fn connect_detects_the_version_and_authenticates_once() {
    let server = start(Fake::new(17, 5)).await;
    let c = OpenErpClient::connect(&{
        let mut ep = endpoint(&server.url, PASSWORD);
        ep.retries = 1;
        ep
    })
    .await
    .unwrap();
    assert_eq!(c.profile().await.unwrap().major, 17);
    let ctx = c.context();
    for _ in 0..3 {
        assert_eq!(c.search_count("product.product", &Domain::new(), &ctx).await.unwrap(), 5);
    }
    c.read_products(&[1, 2], &ctx).await.unwrap();
    assert_eq!(*server.fake.common.lock().unwrap(), vec!["version", "authenticate"], "version and login happen once");
    assert_eq!(server.fake.seen().len(), 4);
}

#[tokio::test]
async fn wrong_password_is_a_clear_access_denied_without_the_secret() {
    let server = start(Fake::new(17, 5)).await;
    let c = client_with(&server, "wrong-password");
    let e = c.authenticate().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(e.message(), "wrong login or password for database \"connector\" (login \"admin\")");
    assert!(!e.to_string().contains("wrong-password"));
    let e = c.read_products(&[1], &c.context()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied, "object calls need a login first");
    assert!(server.fake.seen().is_empty());
}

#[tokio::test]
async fn profiles_follow_the_server_version() {
    let s18 = start(Fake::new(18, 3)).await;
    let c18 = client(&s18);
    let products = c18.read_products(&[1], &c18.context()).await.unwrap();
    assert_eq!(products[0].kind, ProductKind::Storable, "18: type consu + is_storable");
    let fields = requested_fields(&s18.fake.seen()[0].kwargs);
    assert!(fields.contains(&"is_storable".to_owned()) && !fields.contains(&"detailed_type".to_owned()));

    let s12 = start(Fake::new(12, 3)).await;
    let e = client(&s12).read_products(&[1], &Context::default()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.message().starts_with("unsupported OpenERP version 12.0"), "{}", e.message());
    assert!(s12.fake.seen().is_empty());
}

#[tokio::test]
async fn paging_walks_every_record_in_bounded_pages() {
    let server = start(Fake::new(17, 250)).await;
    let c = client(&server);
    let mut pages = c.product_pages(&Domain::new().eq("sale_ok", Value::Boolean(true)), &c.context()).await.unwrap();
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    while let Some(page) = pages.next_page().await.unwrap() {
        sizes.push(page.len());
        ids.extend(page.iter().map(|p| p.id));
    }
    assert_eq!(sizes, vec![100, 100, 50]);
    assert_eq!(ids, (1..=250).collect::<Vec<i64>>());
    assert_eq!(pages.requests(), 3, "a short page ends the walk without another call");
    let seen = server.fake.seen();
    assert_eq!(seen.len(), 3);
    let after: Vec<Option<i64>> = seen.iter().map(|s| id_greater_than(&s.args[0])).collect();
    assert_eq!(after, vec![None, Some(100), Some(200)]);
    for s in &seen {
        assert_eq!(s.method, "search_read");
        assert_eq!(s.kwargs.get("limit"), Some(&value::int(100)));
        assert_eq!(s.kwargs.get("order"), Some(&value::string("id asc")));
        let Some(Value::Struct(ctx)) = s.kwargs.get("context") else { panic!("no context") };
        assert_eq!(ctx.get("tz"), Some(&value::string("UTC")));
        assert_eq!(ctx.get("lang"), Some(&value::string("en_US")));
        let fields = requested_fields(&s.kwargs);
        assert!(!fields.iter().any(|f| f.starts_with("image")), "images are never part of a catalogue page");
    }
    // The second page keeps the caller's condition and adds the keyset condition.
    let Value::Array(d) = &seen[1].args[0] else { panic!() };
    assert_eq!(d[0], value::string("&"));
    assert_eq!(d[1], value::array([value::string("sale_ok"), value::string("="), Value::Boolean(true)]));

    let exact = start(Fake::new(17, 200)).await;
    let c = client(&exact);
    let all = c.product_pages(&Domain::new(), &c.context()).await.unwrap().collect_all().await.unwrap();
    assert_eq!(all.len(), 200);
    assert_eq!(exact.fake.seen().len(), 3, "two full pages, then an empty one");
}

#[tokio::test]
async fn reads_are_chunked_and_false_reads_as_none() {
    let server = start(Fake::new(17, 300)).await;
    let c = client(&server);
    let ids: Vec<i64> = (1..=250).collect();
    let products = c.read_products(&ids, &c.context()).await.unwrap();
    assert_eq!(products.len(), 250);
    let chunk_sizes: Vec<usize> = server.fake.seen().iter().map(|s| ids_of(s.args.first()).len()).collect();
    assert_eq!(chunk_sizes, vec![100, 100, 50]);
    let p7 = products.iter().find(|p| p.id == 7).unwrap();
    assert_eq!(p7.default_code, None, "False SKU reads as None");
    assert_eq!(p7.barcode, None);
    assert_eq!(p7.description_sale, None);
    assert_eq!(p7.category.as_ref().map(|c| c.name.as_str()), Some("All"));
    assert_eq!(products[1].category, None, "False many2one reads as None");
    assert_eq!(products[0].list_price, Decimal::new(105, 1));
    let levels = c.stock_levels(&[1, 2], Default::default(), &c.context()).await.unwrap();
    assert_eq!(levels[0].free_qty, Some(Decimal::from(3)));
}

#[tokio::test]
async fn faults_become_error_kinds_with_call_context() {
    let server = start(Fake::new(17, 1)).await;
    let c = client(&server);
    let cases = [
        ("server", ErrorKind::Server, "ValueError: Invalid field 'nope' on model 'x.fault'"),
        ("user", ErrorKind::Refused, "The following orders are not in a state requiring confirmation: S00025"),
        ("missing", ErrorKind::NotFound, "Record does not exist or has been deleted."),
        ("denied", ErrorKind::AccessDenied, "Access Denied"),
        ("forbidden", ErrorKind::Forbidden, "Private methods (such as _x) cannot be called remotely."),
    ];
    for (method, kind, start) in cases {
        let e = c.call(Request::new("x.fault", method).on_ids(&[7, 8])).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{method}: {e}");
        assert!(e.message().starts_with(start), "{method}: {}", e.message());
        assert_eq!((e.model(), e.method(), e.ids()), (Some("x.fault"), Some(method), &[7_i64, 8][..]));
    }
    assert_eq!(server.fake.seen().len(), cases.len(), "faults are not retried");
    let e = c.execute_kw("no.such.model", "search", vec![value::array([])], Map::new()).await.unwrap_err();
    assert_eq!(e.to_string(), "no.such.model.search: refused by OpenERP: Object no.such.model doesn't exist");
}

#[tokio::test]
async fn none_return_fault_counts_as_success_only_when_read_back_agrees() {
    let server = start(Fake::new(17, 1)).await;
    let c = client(&server);
    let raw = c.call(Request::new("res.partner", "action_archive").on_ids(&[48])).await.unwrap_err();
    assert!(raw.is_none_return());
    assert_eq!(c.call_none_ok(Request::new("res.partner", "action_archive").on_ids(&[48])).await.unwrap(), None);
    c.call_verified(Request::new("res.partner", "action_archive").on_ids(&[49]), "active", &Value::Boolean(false))
        .await
        .unwrap();
    let read_back = server.fake.seen().last().cloned().unwrap();
    assert_eq!(read_back.method, "read");
    let Some(Value::Struct(ctx)) = read_back.kwargs.get("context") else { panic!() };
    assert_eq!(ctx.get("active_test"), Some(&Value::Boolean(false)), "archived records are read back too");
    let e = c
        .call_verified(Request::new("res.partner", "action_noop").on_ids(&[50]), "active", &Value::Boolean(false))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unverified);
    assert!(e.message().contains("record 50"), "{}", e.message());
    let other = c.call_none_ok(Request::new("x.fault", "server")).await.unwrap_err();
    assert_eq!(other.kind(), ErrorKind::Server, "only the exact None fault is forgiven");
}

#[tokio::test]
async fn http_5xx_and_timeouts_are_retried_a_bounded_number_of_times() {
    let server = start(Fake::new(17, 5)).await;
    let c = client(&server);
    let ctx = c.context();
    c.authenticate().await.unwrap();

    server.fake.fail_http.store(2, Ordering::SeqCst);
    assert_eq!(c.read_products(&[1], &ctx).await.unwrap().len(), 1);
    assert_eq!(server.fake.object_http.swap(0, Ordering::SeqCst), 3, "two 500s, then success");

    server.fake.fail_http.store(100, Ordering::SeqCst);
    let e = c.read_products(&[1], &ctx).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport);
    assert!(e.message().contains("HTTP 500"), "{}", e.message());
    assert_eq!(server.fake.object_http.swap(0, Ordering::SeqCst), 4, "retries are bounded by the attempts");
    server.fake.fail_http.store(0, Ordering::SeqCst);

    server.fake.delay.store(1, Ordering::SeqCst);
    assert_eq!(c.read_products(&[1], &ctx).await.unwrap().len(), 1);
    assert_eq!(server.fake.object_http.swap(0, Ordering::SeqCst), 2, "one timeout, then success");
}

#[tokio::test]
async fn creates_are_never_repeated_blindly() {
    let server = start(Fake::new(17, 5)).await;
    let c = client(&server);
    let ctx = c.context();
    c.authenticate().await.unwrap();
    let order = NewOrder {
        partner_id: 43,
        partner_invoice_id: None,
        partner_shipping_id: None,
        client_order_ref: Some("100000042".into()),
        origin: None,
        date_order: value::parse_datetime("2024-07-10 12:34:56"),
        pricelist_id: None,
        payment_term_id: None,
        company_id: None,
        warehouse_id: None,
        note: None,
        lines: vec![NewOrderLine {
            product_id: 5,
            name: None,
            quantity: Decimal::from(2),
            price_unit: None,
            discount: None,
            tax_ids: Some(vec![]),
            sequence: None,
        }],
    };

    server.fake.lose_response.store(1, Ordering::SeqCst);
    let e = c.create_order(&order, &ctx).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Uncertain);
    assert!(e.message().contains("may have been committed"), "{}", e.message());
    assert_eq!(server.fake.object_http.swap(0, Ordering::SeqCst), 1, "no second create");

    server.fake.conflicts.store(1, Ordering::SeqCst);
    assert_eq!(c.create_order(&order, &ctx).await.unwrap(), 100, "a serialization failure was rolled back: retried");
    assert_eq!(server.fake.object_http.swap(0, Ordering::SeqCst), 2);

    let ids = c.create_orders(&[order.clone(), order.clone()], &ctx).await.unwrap();
    assert_eq!(ids, vec![100, 101]);
    let batch = server.fake.seen().last().cloned().unwrap();
    let Value::Array(list) = &batch.args[0] else { panic!("create takes a list") };
    assert_eq!(list.len(), 2);

    let kept = value::parse_datetime("2024-07-10 12:34:56").unwrap();
    c.confirm_order(100, Some(kept), &ctx).await.unwrap();
    let tail: Vec<String> = server.fake.seen_methods().into_iter().rev().take(2).collect();
    assert_eq!(
        tail,
        vec!["sale.order.write", "sale.order.action_confirm"],
        "date_order is written back after confirming"
    );
    let write = server.fake.seen().last().cloned().unwrap();
    assert_eq!(write.args[1], value::structure([("date_order", value::string("2024-07-10 12:34:56"))]));
}

#[tokio::test]
async fn unlink_checks_what_is_left_after_a_lost_response() {
    let server = start(Fake::new(17, 1)).await;
    let c = client(&server);
    let ctx = c.context();
    c.authenticate().await.unwrap();
    server.fake.lose_response.store(1, Ordering::SeqCst);
    c.unlink("res.partner", &[47, 48], &ctx).await.unwrap();
    assert_eq!(server.fake.seen_methods(), vec!["res.partner.unlink", "res.partner.search"], "verified, not repeated");
    assert_eq!(*server.fake.deleted.lock().unwrap(), BTreeSet::from([47, 48]));
}

#[tokio::test]
async fn bad_values_are_refused_before_anything_is_sent() {
    let server = start(Fake::new(17, 1)).await;
    let c = client(&server);
    let ctx = c.context();
    let mut vals = Map::new();
    vals.insert("color".into(), Value::Long(1 << 33));
    let e = c.write("res.partner", &[44], vals, &ctx).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.message().contains("`args[1].color`") && e.message().contains("32 bits"), "{}", e.message());
    let mut vals = Map::new();
    vals.insert("comment".into(), Value::Nil);
    assert_eq!(c.write("res.partner", &[44], vals, &ctx).await.unwrap_err().kind(), ErrorKind::InvalidInput);
    let e = c.read_products(&[1 << 40], &ctx).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(server.fake.seen().is_empty(), "nothing reached the server");
    let blank = NewPartner { name: " ".into(), ..NewPartner::default() };
    assert_eq!(c.create_partner(&blank, &ctx).await.unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn optional_module_fields_are_asked_only_when_present() {
    let server = start(Fake::new(17, 1)).await;
    let c = client(&server);
    let ctx = c.context();
    assert!(c.order_pickings(25, true, &ctx).await.unwrap().is_empty());
    assert!(c.order_pickings(26, false, &ctx).await.unwrap().is_empty());
    let seen = server.fake.seen();
    assert_eq!(
        server.fake.seen_methods(),
        vec!["stock.picking.fields_get", "stock.picking.search_read", "stock.picking.search_read"]
    );
    let fields = requested_fields(&seen[1].kwargs);
    assert!(!fields.contains(&"carrier_tracking_ref".to_owned()), "no delivery module, no tracking field");
    let Value::Array(domain) = &seen[1].args[0] else { panic!() };
    assert!(domain.contains(&value::array([value::string("sale_id"), value::string("="), value::int(25)])));
    assert!(domain.contains(&value::array([
        value::string("picking_type_code"),
        value::string("="),
        value::string("outgoing")
    ])));
    assert!(domain.contains(&value::array([value::string("state"), value::string("="), value::string("done")])));
}
