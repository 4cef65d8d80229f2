//! XML-RPC codec benchmark: the connector's real code paths against Python's `xmlrpc.client`
//! on the same bytes.
//!
//! * decode a 10,000-row `sales_order.list`-like response (22 string/int/nil members per row,
//!   names and types as in the OpenMage recording) and a 10,000-row `catalog_product.list`
//!   response with `crate::rpc::transport::decode_response` (the client side);
//! * encode a `call(session, "catalog_product.update", [sku, {50 members}])` request with
//!   `crate::rpc::transport::encode_call`;
//! * handle that request on the server side (`Endpoint::handle`: guard, `MethodCall::from_xml`,
//!   dispatch, render);
//! * render the 10,000-row response with `crate::rpc::dispatch::render`
//!   (`dxr::MethodResponse::to_xml`).
//!
//! The documents are written to a temporary directory and `python3 benches/codec_python.py
//! <dir>` times `loads`/`dumps` on the same files and prints JSON. Iterations:
//! `BENCH_ITERS_LARGE` (default 7) for the 10,000-row documents, `BENCH_ITERS_SMALL` (default
//! 2000) for the 50-member call; the median is reported.
//!
//! Run: `cargo bench --bench codec`.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use dxr::Value;
use magento_connector::rpc::dispatch::{Call, Endpoint, Limits, MethodResult, Registry, RequestMeta, render};
use magento_connector::rpc::transport::{decode_response, encode_call};
use magento_connector::rpc::{FaultStyle, value};
use support::{Samples, Table, env_count, fmt_duration, fmt_mb_per_s, fmt_rate, peak_rss_kib, secs, time_runs};

const ROWS: usize = 10_000;

/// One `sales_order.list` row: a subset of the 151 members OpenMage sends, with their wire types.
fn order_row(i: usize) -> Value {
    let n = i + 1;
    let guest = i % 7 == 3;
    let amount = |base: usize| value::string(format!("{}.{:02}00", base + i % 500, i % 100));
    let (first, last) = [("John", "Doe"), ("Jane", "Smith"), ("Carlos", "García Núñez"), ("Emily", "Brown")][i % 4];
    value::structure([
        ("increment_id", value::string(format!("{}", 100_000_000 + n))),
        ("order_id", value::int(n as i32)),
        ("quote_id", value::int((n + 3) as i32)),
        ("state", value::string(if i.is_multiple_of(5) { "processing" } else { "new" })),
        ("status", value::string(if i.is_multiple_of(5) { "processing" } else { "pending" })),
        ("created_at", value::string(format!("2026-11-{:02} {:02}:{:02}:54", 1 + i % 28, i % 24, i % 60))),
        ("updated_at", value::string(format!("2026-11-{:02} {:02}:{:02}:55", 1 + i % 28, i % 24, i % 60))),
        ("customer_id", if guest { Value::Nil } else { value::int((i % 900 + 1) as i32) }),
        ("customer_is_guest", value::int(i32::from(guest))),
        ("customer_email", value::string(format!("{}.{}{}@example.com", first.to_lowercase(), i, "x"))),
        ("customer_firstname", value::string(first)),
        ("customer_lastname", value::string(last)),
        ("store_id", value::int((1 + i % 2) as i32)),
        ("base_grand_total", amount(200)),
        ("grand_total", amount(200)),
        ("subtotal", amount(180)),
        ("tax_amount", amount(10)),
        ("shipping_amount", value::string("25.0000")),
        ("discount_amount", if i.is_multiple_of(3) { value::string("-21.3700") } else { value::string("0.0000") }),
        ("order_currency_code", value::string(if i.is_multiple_of(2) { "USD" } else { "EUR" })),
        ("coupon_code", if i.is_multiple_of(3) { value::string("CONNECTOR10") } else { Value::Nil }),
        ("base_total_paid", Value::Nil),
    ])
}

/// One `catalog_product.list` row, as in the OpenMage recording.
fn product_row(i: usize) -> Value {
    let n = i + 1;
    value::structure([
        ("product_id", value::int(n as i32)),
        ("sku", value::string(format!("SKU-{n:06}"))),
        ("name", value::string(format!("Product {n} — cotton T-shirt, size {}", ["S", "M", "L"][i % 3]))),
        ("set", value::int(if i.is_multiple_of(4) { 9 } else { 4 })),
        ("type", value::string(if i.is_multiple_of(10) { "configurable" } else { "simple" })),
        ("category_ids", value::array([value::int((3 + i % 9) as i32), value::int((4 + i % 7) as i32)])),
        ("website_ids", value::array([value::int(1)])),
    ])
}

/// The 50-member product payload of a `catalog_product.update` call.
fn product_payload() -> Value {
    let mut members: Vec<(String, Value)> = vec![
        ("name".into(), value::string("Nokia 2610 Phone")),
        (
            "description".into(),
            value::string(
                "The Nokia 2610 is an easy to use device that combines multiple messaging options including email, instant messaging, and more. <b>Bold</b> & \"quoted\".",
            ),
        ),
        ("short_description".into(), value::string("Easy to use phone")),
        ("price".into(), value::string("149.9900")),
        ("special_price".into(), value::string("129.9900")),
        ("weight".into(), value::string("0.2500")),
        ("status".into(), value::int(1)),
        ("visibility".into(), value::int(4)),
        ("tax_class_id".into(), value::int(2)),
        ("url_key".into(), value::string("nokia-2610-phone")),
        ("meta_title".into(), value::string("Nokia 2610")),
        ("meta_description".into(), value::string("Nokia 2610 phone, unlocked")),
        ("websites".into(), value::array([value::int(1)])),
        ("categories".into(), value::array([value::int(6), value::int(7)])),
        ("news_from_date".into(), Value::Nil),
    ];
    for k in members.len()..50 {
        let v = match k % 3 {
            0 => value::string(format!("attribute value {k} with some text")),
            1 => value::int(k as i32 * 7),
            _ => value::string(format!("{k}.5000")),
        };
        members.push((format!("custom_attribute_{k:02}"), v));
    }
    value::structure(members)
}

fn update_params() -> Vec<Value> {
    vec![
        value::string("8f14e45fceea167a5a36dedd4bea2543"),
        value::string("catalog_product.update"),
        value::array([value::string("ELEC-PHN-001"), product_payload()]),
    ]
}

/// Magento's wire spelling of what dxr writes (`<int>`, as Zend_XmlRpc sends).
fn as_magento_sends(text: String) -> String {
    text.replace("<i4>", "<int>").replace("</i4>", "</int>")
}

fn rows_of(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.len(),
        _ => 0,
    }
}

struct Measured {
    name: &'static str,
    bytes: usize,
    items: usize,
    rust: Samples,
}

fn python_results(dir: &Path) -> Result<serde_json::Value, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/codec_python.py");
    let out = Command::new("python3").arg(script).arg(dir).output().map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(format!("codec_python.py failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("codec_python.py printed no JSON: {e}"))
}

struct Ok1;

async fn accept(_: Arc<Ok1>, call: Call) -> MethodResult {
    Ok(value::boolean(call.params.len() == 3))
}

fn main() {
    if !support::benchmarking() {
        return;
    }
    let iters_large = env_count("BENCH_ITERS_LARGE", 7);
    let iters_small = env_count("BENCH_ITERS_SMALL", 2000);
    let dir = tempfile::tempdir().expect("temp dir");

    let orders = value::array((0..ROWS).map(order_row));
    let products = value::array((0..ROWS).map(product_row));
    let orders_doc = as_magento_sends(render(FaultStyle::Zend, Ok(orders.clone())));
    let products_doc = as_magento_sends(render(FaultStyle::Zend, Ok(products.clone())));
    let call_doc = encode_call("call", update_params()).expect("encodable call");
    for (file, doc) in [("orders.xml", &orders_doc), ("products.xml", &products_doc), ("call.xml", &call_doc)] {
        std::fs::write(dir.path().join(file), doc).expect("write document");
    }
    assert_eq!(decode_response(&orders_doc).map(|v| rows_of(&v)), Ok(ROWS), "the orders document decodes");
    assert_eq!(decode_response(&products_doc).map(|v| rows_of(&v)), Ok(ROWS), "the products document decodes");

    let manifest = serde_json::json!({
        "ops": [
            {"name": "decode orders", "op": "loads", "file": "orders.xml", "iters": iters_large},
            {"name": "decode products", "op": "loads", "file": "products.xml", "iters": iters_large},
            {"name": "encode call", "op": "dumps_call", "file": "call.xml", "iters": iters_small},
            {"name": "handle call", "op": "handle", "file": "call.xml", "iters": iters_small},
            {"name": "render orders", "op": "dumps_response", "file": "orders.xml", "iters": iters_large},
        ]
    });
    std::fs::write(dir.path().join("manifest.json"), manifest.to_string()).expect("write manifest");

    let mut measured = Vec::new();

    let bytes = orders_doc.as_bytes().to_vec();
    let rust = time_runs(iters_large, || decode_response(&String::from_utf8_lossy(&bytes)).map(|v| rows_of(&v)));
    measured.push(Measured { name: "decode orders", bytes: bytes.len(), items: ROWS, rust });

    let bytes = products_doc.as_bytes().to_vec();
    let rust = time_runs(iters_large, || decode_response(&String::from_utf8_lossy(&bytes)).map(|v| rows_of(&v)));
    measured.push(Measured { name: "decode products", bytes: bytes.len(), items: ROWS, rust });

    let params = update_params();
    let mut inputs: Vec<Vec<Value>> = (0..=iters_small).map(|_| params.clone()).collect();
    let rust = time_runs(iters_small, || encode_call("call", inputs.pop().unwrap_or_default()).map(|s| s.len()));
    measured.push(Measured { name: "encode call", bytes: call_doc.len(), items: 1, rust });

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut registry = Registry::new(FaultStyle::Connector);
    registry.method("call", "Accepts a Magento-style call.", accept);
    let endpoint = Endpoint::new(registry, Arc::new(Ok1), Limits::default());
    let body = call_doc.as_bytes().to_vec();
    let answer = runtime.block_on(endpoint.handle(RequestMeta::default(), &body));
    assert!(answer.contains("<boolean>1</boolean>"), "the server path accepts the call: {answer}");
    let rust = time_runs(iters_small, || runtime.block_on(endpoint.handle(RequestMeta::default(), &body)).len());
    measured.push(Measured { name: "handle call", bytes: body.len(), items: 1, rust });

    let mut inputs: Vec<Value> = (0..=iters_large).map(|_| orders.clone()).collect();
    let rendered = render(FaultStyle::Connector, Ok(orders.clone())).len();
    let rust = time_runs(iters_large, || render(FaultStyle::Connector, Ok(inputs.pop().unwrap_or(Value::Nil))).len());
    measured.push(Measured { name: "render orders", bytes: rendered, items: ROWS, rust });
    let rust_rss = peak_rss_kib();

    let python = python_results(dir.path());
    let py_median = |name: &str| -> Option<Duration> {
        let r = python.as_ref().ok()?.get("results")?.get(name)?;
        r.get("median_s")?.as_f64().map(secs)
    };

    println!("XML-RPC codec: connector (Rust, release) vs Python xmlrpc.client on the same bytes");
    println!(
        "documents: orders {:.1} MB, products {:.1} MB ({ROWS} rows each), call {} bytes (50-member struct)",
        orders_doc.len() as f64 / 1e6,
        products_doc.len() as f64 / 1e6,
        call_doc.len()
    );
    let mut table =
        Table::new(&["operation", "iters", "Rust median", "Rust throughput", "Python median", "Python/Rust"]);
    for m in &measured {
        let median = m.rust.median();
        let throughput = if m.items > 1 {
            format!("{} rows/s, {}", fmt_rate(m.items, median).trim_end_matches("/s"), fmt_mb_per_s(m.bytes, median))
        } else {
            format!("{} calls/s", fmt_rate(1, median).trim_end_matches("/s"))
        };
        let (py, ratio) = match py_median(m.name) {
            Some(p) => (fmt_duration(p), format!("{:.1}×", p.as_secs_f64() / median.as_secs_f64().max(1e-12))),
            None => ("-".into(), "-".into()),
        };
        table.row(vec![m.name.into(), m.rust.len().to_string(), fmt_duration(median), throughput, py, ratio]);
    }
    table.print();
    match &python {
        Ok(p) => {
            let version = p.get("python").and_then(|v| v.as_str()).unwrap_or("?");
            println!(
                "python {version}; Python peak RSS {} MiB",
                p.get("peak_rss_kib").and_then(|v| v.as_u64()).unwrap_or(0) / 1024
            );
            for m in &measured {
                let py_items =
                    p.get("results").and_then(|r| r.get(m.name)).and_then(|r| r.get("items")).and_then(|v| v.as_u64());
                if m.items > 1 && py_items != Some(m.items as u64) {
                    println!("warning: Python saw {py_items:?} rows for {}, Rust {}", m.name, m.items);
                }
            }
        }
        Err(e) => println!("Python comparison skipped: {e}"),
    }
    if let Some(kib) = rust_rss {
        println!("Rust peak RSS {} MiB (all documents and copies held at once)", kib / 1024);
    }
}
