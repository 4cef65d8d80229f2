//! The OpenERP client against the byte-exact Odoo 17 recordings: a tiny HTTP server answers
//! each request with the next recorded response body, so the client's whole path (transport,
//! fault decoding, typed decoding, retries) runs on what a real server sent. Where the client
//! sends exactly what the recording sent, the request is compared too.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use dxr::{MethodCall, Value};
use magento_connector::config::OpenErpEndpoint;
use magento_connector::openerp::models::partners::NewPartner;
use magento_connector::openerp::models::sale_orders::OrderState;
use magento_connector::openerp::{ClientOptions, Domain, ErrorKind, OpenErpClient, Request, SearchOpts};
use magento_connector::rpc::Backoff;
use magento_connector::secret::Secret;
use rust_decimal::Decimal;

fn recordings() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared/recordings/odoo17"))
        .find(|p| p.is_dir())
        .expect("shared/recordings/odoo17 next to the repository")
}

fn read(stem: &str, kind: &str) -> String {
    std::fs::read_to_string(recordings().join(format!("{stem}.{kind}.xml"))).unwrap()
}

#[derive(Default)]
struct Replay {
    queue: Mutex<VecDeque<&'static str>>,
    requests: Mutex<Vec<(String, String)>>,
}

impl Replay {
    fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().unwrap().clone()
    }

    fn left(&self) -> usize {
        self.queue.lock().unwrap().len()
    }
}

async fn start(stems: &[&'static str]) -> (Arc<Replay>, OpenErpClient) {
    let replay = Arc::new(Replay { queue: Mutex::new(stems.iter().copied().collect()), ..Replay::default() });
    let r = Arc::clone(&replay);
    let app = axum::Router::new().route(
        "/xmlrpc/2/{service}",
        axum::routing::post(move |Path(service): Path<String>, body: Bytes| {
            let r = Arc::clone(&r);
            async move {
                r.requests.lock().unwrap().push((service, String::from_utf8_lossy(&body).into_owned()));
                let Some(stem) = r.queue.lock().unwrap().pop_front() else {
                    return (StatusCode::IM_A_TEAPOT, "no recording left").into_response();
                };
                ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], read(stem, "response")).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    // The credentials of the recordings: db `connector`, login `admin`, password `admin`.
    let ep = OpenErpEndpoint {
        url: format!("http://{addr}"),
        db: "connector".into(),
        user: "admin".into(),
        password: Secret::new("admin"),
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        retries: 1,
        page_size: 100,
    };
    let mut opts = ClientOptions::for_endpoint(&ep);
    opts.backoff = Backoff { attempts: 1, base: Duration::from_millis(1), max: Duration::from_millis(1) };
    (replay, OpenErpClient::with_options(&ep, opts).unwrap())
}

/// Our request equals the recorded one (same method and parameters).
fn same_call(ours: &str, stem: &str) {
    let ours = MethodCall::from_xml(ours.trim_start_matches("<?xml version=\"1.0\"?>").trim()).unwrap();
    let recorded = read(stem, "request");
    let recorded = MethodCall::from_xml(recorded.trim_start_matches("<?xml version='1.0'?>").trim()).unwrap();
    assert_eq!(ours.name, recorded.name, "{stem}");
    assert_eq!(ours.params, recorded.params, "{stem}");
}

#[tokio::test]
async fn login_and_version_exactly_as_recorded() {
    let (replay, c) = start(&["0010-common.version", "0020-common.authenticate"]).await;
    assert_eq!(c.profile().await.unwrap().major, 17);
    assert_eq!(c.authenticate().await.unwrap(), 2);
    let reqs = replay.requests();
    assert_eq!(reqs.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), vec!["common", "common"]);
    same_call(&reqs[0].1, "0010-common.version");
    same_call(&reqs[1].1, "0020-common.authenticate");
}

#[tokio::test]
async fn recorded_wrong_password_and_unknown_database() {
    let (_, c) = start(&["0030-common.authenticate-wrong-password"]).await;
    let e = c.authenticate().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert!(e.message().starts_with("wrong login or password for database \"connector\""));

    let (_, c) = start(&["0700-fault.authenticate-unknown-db"]).await;
    let e = c.authenticate().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownDatabase);
    assert!(e.message().starts_with("database \"connector\" does not exist on http://127.0.0.1:"), "{}", e.message());

    let (_, c) = start(&["0010-common.version", "0020-common.authenticate", "0540-fault.wrong-password"]).await;
    let e = c.search("res.partner", &Domain::new(), &SearchOpts::default(), &c.context()).await.unwrap_err();
    assert_eq!((e.kind(), e.message()), (ErrorKind::AccessDenied, "Access Denied"));
}

#[tokio::test]
async fn recorded_catalogue_reads() {
    let (replay, c) = start(&[
        "0010-common.version",
        "0020-common.authenticate",
        "0090-product.product.search_read",
        "0100-product.product.read-image_1920",
        "0110-product.product.search_count",
        "0120-product.product.search-by-default_code",
        "0150-product.category.search_read",
        "0160-account.tax.search_read",
        "0380-product.product.read-stock-after-confirm",
    ])
    .await;
    let ctx = c.context();
    let products = c.product_pages(&Domain::new(), &ctx).await.unwrap().collect_all().await.unwrap();
    assert_eq!(products.len(), 5, "a short page ends the walk");
    assert_eq!(products[0].default_code.as_deref(), Some("FURN_7777"));
    let images = c.product_images(&[5], &ctx).await.unwrap();
    assert_eq!((images[0].product_id, images[0].size, images[0].mime), (5, 16_910, Some("image/jpeg")));
    assert_eq!(c.search_count("product.product", &Domain::new(), &ctx).await.unwrap(), 35);
    let by_code = Domain::new().eq("default_code", Value::String("FURN_7777".into()));
    assert_eq!(c.search("product.product", &by_code, &SearchOpts::default(), &ctx).await.unwrap(), vec![5]);
    let cats = c.categories(&ctx).await.unwrap();
    assert_eq!(cats.iter().find(|c| c.id == 8).unwrap().complete_name, "All / Saleable / Office Furniture");
    let taxes = c.sale_taxes(false, &ctx).await.unwrap();
    assert_eq!(taxes[0].percent(), Some(Decimal::from(15)));
    let stock = c.stock_levels(&[5, 6], Default::default(), &ctx).await.unwrap();
    assert_eq!(stock[0].virtual_available, Decimal::from(258));
    assert_eq!(replay.left(), 0);
}

#[tokio::test]
async fn recorded_partner_lookups_and_creates() {
    let (_, c) = start(&[
        "0010-common.version",
        "0020-common.authenticate",
        "0200-res.partner.search_read-by-email-ilike",
        "0220-res.partner.search_read-by-email-notfound",
        "0170-res.country.search_read-by-code",
        "0180-res.country.state.search_read-by-code",
        "0230-res.partner.create-company",
        "0300-res.partner.create-batch",
        "0280-res.partner.read-children",
        "0560-res.partner.read-missing-id",
    ])
    .await;
    let ctx = c.context();
    let found = c.partners_by_email("AZURE.INTERIOR24@example.com", &ctx).await.unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), vec![14]);
    assert!(c.partners_by_email("nobody@example.com", &ctx).await.unwrap().is_empty());
    assert_eq!(c.country_by_code("us", &ctx).await.unwrap().unwrap().id, 233);
    assert_eq!(c.state_by_code(233, "CA", &ctx).await.unwrap().unwrap().name, "California");
    let company = NewPartner { name: "Magento Test Buyer Inc.".into(), is_company: true, ..NewPartner::default() };
    assert_eq!(c.create_partner(&company, &ctx).await.unwrap(), 43);
    let a = NewPartner { name: "Batch A".into(), ..NewPartner::default() };
    let b = NewPartner { name: "Batch B".into(), ..NewPartner::default() };
    assert_eq!(c.create_partners(&[a, b], &ctx).await.unwrap(), vec![47, 48]);
    let kids = c.read_partners(&[44, 45, 46], &ctx).await.unwrap();
    assert_eq!(kids.len(), 3);
    let e = c.read_one("res.partner", 999_999, &["name"], &ctx).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "read drops missing ids silently; read_one says so");
}

#[tokio::test]
async fn recorded_order_flow() {
    let (replay, c) = start(&[
        "0010-common.version",
        "0020-common.authenticate",
        "0320-sale.order.create",
        "0330-sale.order.read-draft",
        "0340-sale.order.line.search_read",
        "0350-sale.order.action_confirm",
        "0630-fault.double-confirm",
        "0360-sale.order.read-confirmed",
        "0140-product.product.fields_get",
        "0370-stock.picking.search_read-for-order",
    ])
    .await;
    let ctx = c.context();
    let id = c
        .execute_kw("sale.order", "create", vec![Value::Struct(Default::default())], Default::default())
        .await
        .unwrap();
    assert_eq!(id, Value::Integer(25));
    let order = c.read_order(25, &ctx).await.unwrap();
    assert_eq!(
        (order.state.clone(), order.amount_tax, order.amount_total),
        (OrderState::Draft, Decimal::from(30), Decimal::new(23499, 2))
    );
    let lines = c.order_lines(25, &ctx).await.unwrap();
    assert_eq!(lines.iter().map(|l| l.price_total).sum::<Decimal>(), Decimal::new(23499, 2));
    c.confirm_order(25, None, &ctx).await.unwrap();
    same_call(&replay.requests()[5].1, "0350-sale.order.action_confirm");
    let e = c.confirm_order(25, None, &ctx).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused);
    assert_eq!(
        e.to_string(),
        "sale.order.action_confirm (ids 25): refused by OpenERP: The following orders are not in a state requiring confirmation: S00025"
    );
    assert!(c.read_order(25, &ctx).await.unwrap().state.is_confirmed());
    let pickings = c.order_pickings(25, false, &ctx).await.unwrap();
    assert_eq!(pickings[0].name, "WH/OUT/00012");
    assert_eq!(pickings[0].carrier_tracking_ref, None);
    assert_eq!(replay.left(), 0);
}

#[tokio::test]
async fn recorded_none_fault_then_read_back() {
    let (replay, c) = start(&[
        "0010-common.version",
        "0020-common.authenticate",
        "0650-fault.none-return-action_archive",
        "0660-res.partner.read-after-none-fault",
    ])
    .await;
    let req = Request::new("res.partner", "action_archive").on_ids(&[48]);
    c.call_verified(req, "active", &Value::Boolean(false)).await.unwrap();
    same_call(&replay.requests()[2].1, "0650-fault.none-return-action_archive");
}
