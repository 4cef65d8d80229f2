//! Reliability under bad input: property-based requests over real HTTP to the real servers.
//!
//! The connector server (`server::App`, unwired services, in-memory store, 64 KiB body limit,
//! depth 32) gets malformed, truncated, byte-flipped, deeply nested, oversized (with a length
//! and chunked), entity-laden (DOCTYPE, external entities, billion laughs), random-byte and
//! well-formed-but-wrong-typed requests for every registered method (`system.*` included, with
//! random parameter counts and types), `system.multicall` batches, and job methods with random
//! option structs. Every answer must be HTTP 200 with a well-formed XML-RPC response (a fault
//! where the input is bad), never fault -32603 (a panic or internal error), never a dropped
//! connection, and never the request body: a marker string sits in every body, past the 80
//! characters of an identifier or value that faults may quote, and must not come back. After
//! every case a health check (`GET /health` and `connector.version`) proves the server still
//! serves, and a process-wide panic hook proves nothing panicked anywhere. Requests are written
//! whole before the answer is read, as Python's `xmlrpc.client` (the addon's client) does; a
//! separate regression test pins fault 413 for oversized bodies sent that way.
//!
//! The Magento 1 sandbox (Zend-style dispatcher) and the OpenERP sandbox (Python-style) get a
//! smaller set: protocol garbage plus plausible-looking calls with random arguments on a real
//! session; they must answer a well-formed XML-RPC document (faults allowed; HTTP 500 with an
//! empty body from Magento, which is how OpenMage dies on a missing required argument) and
//! never panic.
//!
//! Deterministic by default (fixed seed). `PROPTEST_CASES=<n>` changes the case count of the
//! connector property (default 300; the sandboxes get a third each), `PROPTEST_RNG_SEED=<u64>`
//! the seed.

mod server_support;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dxr::Value;
use magento_connector::rpc::transport::{DecodeFailure, decode_response, encode_call};
use magento_connector::rpc::{Fault, value};
use magento_connector::sandbox::magento1::{MagentoSandbox, SandboxOptions};
use magento_connector::sandbox::openerp::{OpenErpSandbox, Options as OpenErpOptions};
use magento_connector::server::Services;
use magento_connector::store::Store;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use server_support::{TOKEN, TestServer, settings, spawn};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Must never come back in an answer.
const MARKER: &str = "QX7-BODY-MARKER-ZZ";

/// Body limit and depth of the test server (`server_support::raw_config`).
const BODY_LIMIT: usize = 64 * 1024;
const DEPTH_LIMIT: usize = 32;

/// Thread names of each test's runtime (panics are attributed by them).
const CONNECTOR: &str = "rel-connector";
const METHODS: &str = "rel-methods";
const MAGENTO: &str = "rel-magento-sandbox";
const OPENERP: &str = "rel-openerp-sandbox";
const OVERSIZE: &str = "rel-oversize";

// ---------------------------------------------------------------------------------------------
// Panic detection

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records every panic in the process with its thread's name, then runs the default hook.
fn count_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
            PANICS.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{thread}: {info}"));
            previous(info);
        }));
    });
}

/// Panics so far on the threads of the runtime named `prefix` (each test names its own).
fn panics_in(prefix: &str) -> Vec<String> {
    PANICS.lock().unwrap_or_else(|e| e.into_inner()).iter().filter(|p| p.starts_with(prefix)).cloned().collect()
}

/// A 2-worker runtime whose threads (workers and blocking pool) are named `name`.
fn runtime(name: &str) -> tokio::runtime::Runtime {
    count_panics();
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name(name).enable_all().build().unwrap()
}

/// Cases of the connector property: `PROPTEST_CASES`, or 300.
fn connector_cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
}

/// A runner for `cases` cases with the fixed seed (or `PROPTEST_RNG_SEED`), no persistence.
fn runner(cases: u32) -> TestRunner {
    let seed = std::env::var("PROPTEST_RNG_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x00C0_FFEE);
    TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 64,
        ..Config::default()
    })
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP: lengths and chunking under the test's control, sent before reading as Python does

/// How a body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length,
    Chunked,
}

/// An HTTP answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line = find(b, b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&b[..line]).ok()?.split(';').next()?.trim(), 16).ok()?;
        b = &b[line + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

fn parse_answer(raw: &[u8]) -> Result<Answer, String> {
    let head_end = find(raw, b"\r\n\r\n").ok_or_else(|| format!("no complete HTTP head in {} bytes", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let rest = &raw[head_end + 4..];
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("bad status: {head}"))?;
    let header = |name: &str| {
        head.lines()
            .skip(1)
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
            .map(str::to_owned)
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest).ok_or("truncated chunked body")?
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        rest.get(..len).ok_or_else(|| format!("body shorter than its length {len}: {}", rest.len()))?.to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Answer {
        status,
        content_type: header("content-type").unwrap_or_default(),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// POSTs `body` on a fresh connection the way Python's `xmlrpc.client` does (the addon's
/// client): the whole request is written before the answer is read, so a server that answers
/// early and closes shows up as a failed write, a dropped connection.
async fn post(
    base: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
    framing: Framing,
) -> Result<Answer, String> {
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/xml\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let mut request = Vec::with_capacity(head.len() + body.len() + 64);
    match framing {
        Framing::Length => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            request.extend_from_slice(head.as_bytes());
            request.extend_from_slice(body);
        }
        Framing::Chunked => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            request.extend_from_slice(head.as_bytes());
            for chunk in body.chunks(16 * 1024) {
                request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                request.extend_from_slice(chunk);
                request.extend_from_slice(b"\r\n");
            }
            request.extend_from_slice(b"0\r\n\r\n");
        }
    }
    let exchange = async {
        stream.write_all(&request).await.map_err(|e| format!("connection dropped while sending: {e}"))?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(|e| format!("connection dropped while reading: {e}"))?;
        Ok::<_, String>(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(20), exchange).await.map_err(|_| "no answer within 20 s")??;
    parse_answer(&raw)
}

// ---------------------------------------------------------------------------------------------
// Generators

/// Text that hides the marker past any quoting window (faults quote at most 80 characters).
fn marked(prefix: &str) -> String {
    format!("{prefix}{}{MARKER}", "p".repeat(100))
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(marked("")),
        3 => prop::sample::select(vec![
            "", "sandbox", "shop", "nope", "1", "2", "-1", "0", "category", "product", "order", "partner", "address",
            "running", "failed", "done", "products", "orders_import", "2026-01-02 03:04:05", "yesterday",
            "ELEC-PHN-001", "100000001", "fr", "default", "   ", "true",
        ])
        .prop_map(str::to_owned),
        2 => "[a-z_.]{0,16}",
        1 => "\\PC{0,24}",
        1 => prop::sample::select(vec!["\u{1}", "a\u{0}b", "\u{FFFE}", "<&>'\"", "]]>", "\r\n"]).prop_map(str::to_owned),
    ]
}

fn arb_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => prop_oneof![-3i32..30, any::<i32>()].prop_map(Value::Integer),
        1 => any::<i64>().prop_map(Value::Long),
        1 => any::<bool>().prop_map(Value::Boolean),
        4 => arb_text().prop_map(Value::String),
        1 => prop_oneof![any::<f64>(), -10.0f64..10.0].prop_map(Value::Double),
        1 => Just(Value::Nil),
        1 => vec(any::<u8>(), 0..24).prop_map(Value::Base64),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    arb_scalar().prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(arb_text(), inner, 0..6).prop_map(Value::Struct),
        ]
    })
}

/// An options struct: accepted keys of any job, unknown keys, random values.
fn arb_options() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        4 => prop::sample::select(vec!["ids", "dry_run", "full", "stores", "since", "increment_ids"]).prop_map(str::to_owned),
        1 => arb_text(),
    ];
    let val = prop_oneof![
        2 => arb_value(),
        1 => vec(prop_oneof![1i32..20, -2i32..1].prop_map(Value::Integer), 0..4).prop_map(Value::Array),
        1 => vec(arb_text().prop_map(Value::String), 0..4).prop_map(Value::Array),
        1 => any::<bool>().prop_map(Value::Boolean),
    ];
    prop_oneof![
        6 => btree_map(key, val, 0..5).prop_map(Value::Struct),
        1 => Just(Value::Array(vec![])),
        1 => arb_value(),
    ]
}

const ENTITY_BODIES: &[&str] = &[
    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]><methodCall><methodName>connector.version</methodName><params><param><value><string>&lol3;MARK</string></value></param></params></methodCall>",
    "<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><methodCall><methodName>runs.get</methodName><params><param><value><string>&xxe;MARK</string></value></param></params></methodCall>",
    "<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY % pe SYSTEM \"http://127.0.0.1:9/evil.dtd\"> %pe;]><methodCall><methodName>connector.version</methodName><params><param><value>MARK</value></param></params></methodCall>",
    "<!DOCTYPE methodCall SYSTEM \"http://127.0.0.1:9/x.dtd\"><methodCall><methodName>connector.version</methodName><params><param><value>MARK</value></param></params></methodCall>",
    "<methodCall><methodName>connector.version</methodName><!DOCTYPE late [<!ENTITY a \"MARK\">]><params/></methodCall>",
    "<methodCall><methodName>connector.version</methodName><params><param><value><string>&unknown;MARK</string></value></param></params></methodCall>",
    "<methodCall><methodName>connector.version</methodName><params><param><value><string>&#0;&#xD800;MARK</string></value></param></params></methodCall>",
    "<?xml version=\"1.0\"?><!ELEMENT methodCall ANY><methodCall><methodName>connector.version</methodName><params><param><value>MARK</value></param></params></methodCall>",
];

/// One request to the connector server.
#[derive(Debug, Clone)]
enum Case {
    /// A well-formed call of a registered method with random parameters.
    Typed { method: String, params: Vec<Value> },
    /// A job method with a random backend and options struct.
    Options { method: String, backend: String, options: Value, extra: Option<Value> },
    /// `system.multicall` with random entries.
    Multicall { entries: Vec<Value> },
    /// A well-formed call cut short.
    Truncated { body: Vec<u8>, keep: prop::sample::Index },
    /// A well-formed call with some bytes replaced.
    Mutated { body: Vec<u8>, flips: Vec<(prop::sample::Index, u8)> },
    /// Values nested `depth` levels deep.
    Deep { depth: usize, structs: bool },
    /// A body over the limit.
    Huge { size: usize, framing: Framing },
    /// DOCTYPE / entity / markup declarations.
    Entity { index: usize },
    /// Random bytes around the marker.
    Bytes { before: Vec<u8>, after: Vec<u8> },
}

/// A well-formed call carrying the marker (for truncation and mutation).
fn call_body() -> impl Strategy<Value = Vec<u8>> {
    (prop::sample::select(vec!["connector.version", "runs.get", "catalog.export_products"]), vec(arb_value(), 0..3))
        .prop_map(|(m, mut params)| {
            params.push(Value::String(marked("")));
            encode_call(m, params).expect("encodable").into_bytes()
        })
}

fn arb_case(methods: Vec<String>) -> impl Strategy<Value = Case> {
    let method = prop_oneof![
        8 => prop::sample::select(methods),
        1 => arb_text(),
    ];
    let job = prop::sample::select(vec![
        "catalog.export_categories",
        "catalog.export_products",
        "stock.export",
        "orders.import",
        "orders.reimport",
        "orders.export_status",
        "taxes.sync",
    ]);
    let backend = prop_oneof![3 => Just("sandbox".to_owned()), 1 => Just("shop".to_owned()), 1 => arb_text()];
    let multicall_entry = prop_oneof![
        4 => (method.clone(), vec(arb_value(), 0..3)).prop_map(|(m, p)| value::structure([
            ("methodName", Value::String(m)),
            ("params", Value::Array(p)),
        ])),
        1 => arb_value(),
    ];
    prop_oneof![
        6 => (method, vec(arb_value(), 0..5)).prop_map(|(method, params)| Case::Typed { method, params }),
        6 => (job, backend, arb_options(), prop::option::weighted(0.1, arb_value()))
            .prop_map(|(m, backend, options, extra)| Case::Options { method: m.to_owned(), backend, options, extra }),
        2 => vec(multicall_entry, 0..6).prop_map(|entries| Case::Multicall { entries }),
        3 => (call_body(), any::<prop::sample::Index>()).prop_map(|(body, keep)| Case::Truncated { body, keep }),
        3 => (call_body(), vec((any::<prop::sample::Index>(), any::<u8>()), 1..6))
            .prop_map(|(body, flips)| Case::Mutated { body, flips }),
        2 => (prop_oneof![1usize..12, 12usize..400], any::<bool>()).prop_map(|(depth, structs)| Case::Deep { depth, structs }),
        1 => (BODY_LIMIT + 1..BODY_LIMIT * 128, prop_oneof![Just(Framing::Length), Just(Framing::Chunked)])
            .prop_map(|(size, framing)| Case::Huge { size, framing }),
        2 => (0..ENTITY_BODIES.len()).prop_map(|index| Case::Entity { index }),
        2 => (vec(any::<u8>(), 0..600), vec(any::<u8>(), 0..600)).prop_map(|(before, after)| Case::Bytes { before, after }),
    ]
}

/// What the answer to a case must be.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    /// A value or a fault.
    Either,
    /// A fault with this code.
    Fault(i32),
    /// A fault, code not pinned.
    AnyFault,
}

fn nested(depth: usize, structs: bool) -> String {
    let inner = format!("<value><string>{}</string></value>", marked(""));
    let (open, close) = if structs {
        ("<value><struct><member><name>k</name>", "</member></struct></value>")
    } else {
        ("<value><array><data>", "</data></array></value>")
    };
    format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>system.multicall</methodName><params><param>{}{inner}{}</param></params></methodCall>",
        open.repeat(depth),
        close.repeat(depth)
    )
}

/// A well-formed call of at least `size` bytes, the marker in every parameter.
fn huge_body(size: usize) -> Vec<u8> {
    let unit = format!("<param><value><string>{MARKER}</string></value></param>");
    let params = unit.repeat(size / unit.len() + 1);
    format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>connector.version</methodName><params>{params}</params></methodCall>"
    )
    .into_bytes()
}

/// The body of a case, its framing and what must come back.
fn materialize(case: &Case) -> (Vec<u8>, Framing, Expect) {
    match case {
        Case::Typed { method, params } => {
            let mut params = params.clone();
            params.push(Value::String(marked("")));
            // The marker parameter makes every parameter list one too long for the fixed
            // signatures, except for methods with optional trailing parameters; `Either`.
            (encode_call(method, params).expect("encodable").into_bytes(), Framing::Length, Expect::Either)
        }
        Case::Options { method, backend, options, extra } => {
            let mut params = vec![Value::String(backend.clone()), options.clone()];
            params.extend(extra.clone());
            let body = encode_call(method, params).expect("encodable");
            (format!("{body}<!-- {} -->", marked("")).into_bytes(), Framing::Length, Expect::Either)
        }
        Case::Multicall { entries } => {
            let mut entries = entries.clone();
            entries.push(value::structure([
                ("methodName", Value::String(marked("m"))),
                ("params", Value::Array(vec![Value::String(marked(""))])),
            ]));
            let body = encode_call("system.multicall", vec![Value::Array(entries)]).expect("encodable");
            (body.into_bytes(), Framing::Length, Expect::Either)
        }
        Case::Truncated { body, keep } => {
            let cut = keep.index(body.len());
            (body[..cut].to_vec(), Framing::Length, Expect::AnyFault)
        }
        Case::Mutated { body, flips } => {
            let mut body = body.clone();
            for (at, byte) in flips {
                let i = at.index(body.len());
                body[i] = *byte;
            }
            (body, Framing::Length, Expect::Either)
        }
        Case::Deep { depth, structs } => {
            // Each level opens three elements; methodCall, params, param and the innermost value
            // with its string open five.
            let expect = if depth * 3 + 5 > DEPTH_LIMIT { Expect::Fault(-32700) } else { Expect::Either };
            (nested(*depth, *structs).into_bytes(), Framing::Length, expect)
        }
        Case::Huge { size, framing } => (huge_body(*size), *framing, Expect::Fault(413)),
        Case::Entity { index } => {
            let body = ENTITY_BODIES[*index].replace("MARK", &marked(""));
            (body.into_bytes(), Framing::Length, Expect::Fault(-32700))
        }
        Case::Bytes { before, after } => {
            let mut body = before.clone();
            body.extend_from_slice(marked("").as_bytes());
            body.extend_from_slice(after);
            (body, Framing::Length, Expect::Either)
        }
    }
}

/// Decodes an answer as the connector's clients would.
fn decoded(a: &Answer) -> Result<Result<Value, Fault>, String> {
    match decode_response(&a.body) {
        Ok(v) => Ok(Ok(v)),
        Err(DecodeFailure::Fault(f)) => Ok(Err(f)),
        Err(DecodeFailure::Invalid) => Err(format!("not an XML-RPC response (HTTP {}): {}", a.status, a.body)),
    }
}

/// Every fault inside a value (multicall results carry one per failed entry).
fn nested_faults(v: &Value, out: &mut Vec<Fault>) {
    match v {
        Value::Struct(m) => {
            if let Some(f) = Fault::from_map(m).filter(|_| m.len() == 2 && m.contains_key("faultString")) {
                out.push(f);
            }
            m.values().for_each(|x| nested_faults(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| nested_faults(x, out)),
        _ => {}
    }
}

async fn still_serving(srv: &TestServer) -> Result<(), String> {
    let health = reqwest::get(format!("{}/health", srv.base)).await.map_err(|e| format!("health: {e}"))?;
    if health.status().as_u16() != 200 {
        return Err(format!("health answered {}", health.status()));
    }
    let v = srv.client().call("connector.version", vec![]).await.map_err(|e| format!("connector.version: {e}"))?;
    match v {
        Value::Struct(m) if m.contains_key("protocol") => Ok(()),
        other => Err(format!("connector.version answered {other:?}")),
    }
}

/// Checks one answer; returns whether it was a value (not a fault).
fn check_connector_answer(case: &Case, expect: &Expect, answer: &Answer) -> Result<bool, TestCaseError> {
    prop_assert_eq!(answer.status, 200, "HTTP status for {:?}: {}", case, answer.body);
    prop_assert!(answer.content_type.starts_with("text/xml"), "content type {}", answer.content_type);
    prop_assert!(!answer.body.contains(MARKER), "the answer echoes the request body: {}", answer.body);
    let result = decoded(answer).map_err(TestCaseError::fail)?;
    let mut faults = Vec::new();
    match &result {
        Ok(v) => nested_faults(v, &mut faults),
        Err(f) => faults.push(f.clone()),
    }
    for f in &faults {
        prop_assert!(f.code != -32603, "internal error (a panic or a bug) for {:?}: {}", case, f.message);
    }
    match (expect, &result) {
        (Expect::Either, _) => {}
        (Expect::AnyFault, Err(_)) => {}
        (Expect::Fault(code), Err(f)) => prop_assert_eq!(f.code, *code, "fault for {:?}: {}", case, f.message),
        (_, Ok(v)) => prop_assert!(false, "a value for bad input {:?}: {:?}", case, v),
    }
    Ok(result.is_ok())
}

#[test]
fn the_connector_server_answers_every_bad_request_with_a_fault_and_keeps_serving() {
    let rt = runtime(CONNECTOR);
    let srv = rt.block_on(spawn(Services::unwired(), Store::open_in_memory().unwrap(), settings(2)));
    let methods = rt.block_on(async {
        match srv.client().call("system.listMethods", vec![]).await.unwrap() {
            Value::Array(a) => a.iter().map(|m| value::to_string("method", m).unwrap()).collect::<Vec<_>>(),
            other => panic!("system.listMethods answered {other:?}"),
        }
    });
    assert!(methods.len() > 15 && methods.iter().any(|m| m == "catalog.export_products"), "{methods:?}");
    let auth = [("Authorization", format!("Bearer {TOKEN}"))];
    // Per kind of case: (answers that were values, answers that were faults).
    let seen = Mutex::new(std::collections::BTreeMap::<&'static str, (usize, usize)>::new());
    let result = runner(connector_cases()).run(&arb_case(methods.clone()), |case| {
        let (body, framing, expect) = materialize(&case);
        let answer = rt
            .block_on(post(&srv.base, "/RPC2", &auth, &body, framing))
            .map_err(|e| TestCaseError::fail(format!("{e} for {case:?}")))?;
        let was_value = check_connector_answer(&case, &expect, &answer)?;
        rt.block_on(still_serving(&srv)).map_err(|e| TestCaseError::fail(format!("after {case:?}: {e}")))?;
        let panics = panics_in(CONNECTOR);
        prop_assert!(panics.is_empty(), "a panic while serving {:?}: {:?}", case, panics);
        let kind = match case {
            Case::Typed { .. } => "typed",
            Case::Options { .. } => "options",
            Case::Multicall { .. } => "multicall",
            Case::Truncated { .. } => "truncated",
            Case::Mutated { .. } => "mutated",
            Case::Deep { .. } => "deep",
            Case::Huge { .. } => "huge",
            Case::Entity { .. } => "entity",
            Case::Bytes { .. } => "bytes",
        };
        let mut seen = seen.lock().unwrap();
        let counts = seen.entry(kind).or_default();
        if was_value {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 9, "every kind of case ran: {seen:?}");
    // The generators reach past the parameter checks: some option structs start runs, some
    // typed calls and multicalls succeed.
    for kind in ["options", "typed", "multicall"] {
        let (values, faults) = seen[kind];
        assert!(values > 0 && faults > 0, "{kind}: {values} values, {faults} faults");
    }
    eprintln!("cases per kind (values, faults): {seen:?}");
    rt.block_on(srv.stop());
}

/// Regression: an oversized body used to be answered before it was read and the connection
/// closed with the rest unread, so clients that send the whole request before reading (Python's
/// `xmlrpc.client`, which the addon uses) got a broken pipe or a reset instead of fault 413.
#[test]
fn oversized_bodies_get_fault_413_even_when_the_client_sends_everything_first() {
    let rt = runtime(OVERSIZE);
    rt.block_on(async {
        let srv = spawn(Services::unwired(), Store::open_in_memory().unwrap(), settings(2)).await;
        let auth = [("Authorization", format!("Bearer {TOKEN}"))];
        for (size, framing) in [
            (BODY_LIMIT + 1, Framing::Length),
            (BODY_LIMIT * 16, Framing::Length),
            (BODY_LIMIT * 128, Framing::Length),
            (BODY_LIMIT * 128, Framing::Chunked),
        ] {
            let answer = post(&srv.base, "/RPC2", &auth, &huge_body(size), framing)
                .await
                .unwrap_or_else(|e| panic!("{size} bytes, {framing:?}: {e}"));
            assert_eq!(answer.status, 200, "{}", answer.body);
            let fault = decoded(&answer).unwrap().expect_err("a fault");
            assert_eq!(fault.code, 413, "{}", fault.message);
            assert!(!answer.body.contains(MARKER));
        }
        let script = format!(
            r#"
import xmlrpc.client
for mb in (1, 8):
    p = xmlrpc.client.ServerProxy({url:?}, headers=[("Authorization", "Bearer {TOKEN}")])
    try:
        p.connector.version("x" * (mb << 20))
        print("no fault")
    except xmlrpc.client.Fault as f:
        print(f.faultCode)
    except Exception as e:
        print(type(e).__name__)
"#,
            url = srv.url
        );
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("python3").arg("-c").arg(script).output().expect("python3 runs")
        })
        .await
        .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "413\n413\n", "{}", String::from_utf8_lossy(&out.stderr));
        still_serving(&srv).await.unwrap();
        srv.stop().await;
    });
    assert_eq!(panics_in(OVERSIZE), Vec::<String>::new());
}

/// Every registered method, with no parameters, one parameter of each type, and too many:
/// a fault -32602 (or a value) and never an internal error, over the Rust client.
#[test]
fn every_registered_method_refuses_wrong_parameter_types_and_counts() {
    let rt = runtime(METHODS);
    rt.block_on(async {
        let srv = spawn(Services::unwired(), Store::open_in_memory().unwrap(), settings(2)).await;
        let c = srv.client();
        let methods = match c.call("system.listMethods", vec![]).await.unwrap() {
            Value::Array(a) => a.iter().map(|m| value::to_string("method", m).unwrap()).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let samples = [
            Value::Integer(-1),
            Value::Long(i64::MAX),
            Value::Boolean(true),
            Value::String(marked("")),
            Value::Double(f64::NAN),
            Value::Nil,
            Value::Base64(vec![0, 1, 2]),
            Value::Array(vec![Value::String(marked(""))]),
            value::structure([(marked("k"), Value::Nil)]),
        ];
        let mut faults = 0;
        for m in &methods {
            let mut lists: Vec<Vec<Value>> = vec![vec![]];
            for s in &samples {
                lists.push(vec![s.clone()]);
                lists.push(vec![value::string("sandbox"), s.clone()]);
                lists.push(vec![value::string("sandbox"), value::string("product"), s.clone()]);
            }
            lists.push(vec![Value::Nil; 6]);
            for params in lists {
                match c.call(m, params.clone()).await {
                    Ok(v) => assert!(!format!("{v:?}").contains(MARKER), "{m} echoes: {v:?}"),
                    Err(e) => {
                        let f = e.fault().unwrap_or_else(|| panic!("{m}({params:?}) failed without a fault: {e}"));
                        assert_ne!(f.code, -32603, "{m}({params:?}): {}", f.message);
                        assert!(!f.message.contains(MARKER), "{m} echoes: {}", f.message);
                        faults += 1;
                    }
                }
            }
        }
        assert!(faults > methods.len() * 20, "most of these calls are refused: {faults}");
        still_serving(&srv).await.unwrap();
        srv.stop().await;
    });
    assert_eq!(panics_in(METHODS), Vec::<String>::new(), "no panic anywhere");
}

// ---------------------------------------------------------------------------------------------
// The sandboxes' dispatchers (Zend style and Python style)

/// Strings a Magento or Odoo handler may recognise.
fn vocabulary() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "ELEC-PHN-001", "CLO-TSHIRT", "CLO-TSHIRT-RED-S", "1001", "100000001", "100000002", "200000001",
            "default", "fr", "admin", "sku", "name", "price", "qty", "is_in_stock", "status", "store",
            "created_at", "updated_at", "increment_id", "product_id", "customer_id", "entity_id", "parent_id",
            "eq", "neq", "in", "nin", "like", "from", "to", "gt", "lt", "null", "notnull",
            "id", "display_name", "partner_id", "product_id.name", "order_line", "state", "=", "!=", "in",
            "not in", "ilike", "child_of", "|", "&", "!", "fields", "limit", "offset", "order", "context",
            "lang", "active_test", "domain", "count", "simple", "configurable", "4", "9", "-1", "0", "2.5",
            "1.0000", "pending", "processing", "canceled", "complete", "holded", "flatrate", "ups",
        ])
        .prop_map(value::string),
        2 => (-2i32..25).prop_map(Value::Integer),
        2 => arb_scalar(),
    ]
}

fn plausible_value() -> impl Strategy<Value = Value> {
    vocabulary().prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(
                prop_oneof![
                    3 => prop::sample::select(vec![
                        "sku", "name", "price", "qty", "is_in_stock", "status", "store", "website_ids",
                        "category_ids", "description", "weight", "visibility", "tax_class_id", "file",
                        "content", "mime", "label", "position", "types", "exclude", "email", "firstname",
                        "lastname", "is_active", "include_in_menu", "available_sort_by",
                        "default_sort_by", "increment_id", "created_at", "updated_at", "order_id",
                        "fields", "limit", "offset", "order", "context", "lang", "active_test",
                        "partner_id", "product_id", "product_uom_qty", "list_price", "default_code",
                        "categ_id", "parent_id", "magento_id", "state", "domain",
                    ])
                    .prop_map(str::to_owned),
                    1 => arb_text(),
                ],
                inner,
                0..5,
            )
            .prop_map(Value::Struct),
        ]
    })
}

/// A request to a sandbox: a method call (built by `call`) or protocol garbage.
#[derive(Debug, Clone)]
enum SandboxCase {
    Call(String, Vec<Value>),
    Raw(Vec<u8>),
}

fn protocol_garbage() -> impl Strategy<Value = SandboxCase> {
    prop_oneof![
        (0..ENTITY_BODIES.len()).prop_map(|i| SandboxCase::Raw(ENTITY_BODIES[i].as_bytes().to_vec())),
        (1usize..200, any::<bool>()).prop_map(|(d, s)| SandboxCase::Raw(nested(d, s).into_bytes())),
        vec(any::<u8>(), 0..400).prop_map(SandboxCase::Raw),
        (vec(plausible_value(), 0..3), any::<prop::sample::Index>()).prop_map(|(p, keep)| {
            let body = encode_call("call", p).expect("encodable").into_bytes();
            SandboxCase::Raw(body[..keep.index(body.len())].to_vec())
        }),
    ]
}

fn magento_case(session: String) -> impl Strategy<Value = SandboxCase> {
    let resources = vec![
        "catalog_product.list",
        "catalog_product.info",
        "catalog_product.create",
        "catalog_product.update",
        "catalog_product.delete",
        "catalog_product.setSpecialPrice",
        "catalog_product.getSpecialPrice",
        "catalog_category.tree",
        "catalog_category.level",
        "catalog_category.info",
        "catalog_category.create",
        "catalog_category.update",
        "catalog_category.move",
        "catalog_category.assignProduct",
        "catalog_category.assignedProducts",
        "catalog_category.removeProduct",
        "catalog_product_attribute.list",
        "catalog_product_attribute.options",
        "catalog_product_attribute.info",
        "catalog_product_attribute_media.create",
        "catalog_product_attribute_media.list",
        "catalog_product_attribute_media.update",
        "catalog_product_attribute_media.remove",
        "catalog_product_link.list",
        "cataloginventory_stock_item.list",
        "cataloginventory_stock_item.update",
        "product_stock.update",
        "product.info",
        "store.list",
        "store.info",
        "directory_region.list",
        "customer.list",
        "customer.info",
        "customer.create",
        "customer.update",
        "customer_address.list",
        "customer_address.create",
        "sales_order.list",
        "sales_order.info",
        "sales_order.addComment",
        "sales_order.hold",
        "sales_order.unhold",
        "sales_order.cancel",
        "sales_order_invoice.create",
        "sales_order_invoice.list",
        "sales_order_invoice.info",
        "sales_order_shipment.create",
        "sales_order_shipment.addTrack",
        "sales_order_shipment.removeTrack",
        "sales_order_shipment.info",
        "sales_order_shipment.getCarriers",
        "magento.info",
        "no_such_resource.list",
    ];
    let path = prop_oneof![6 => prop::sample::select(resources).prop_map(str::to_owned), 1 => arb_text()];
    let s1 = session.clone();
    let s2 = session;
    prop_oneof![
        6 => (path.clone(), vec(plausible_value(), 0..5)).prop_map(move |(p, args)| {
            SandboxCase::Call("call".into(), vec![value::string(s1.clone()), value::string(p), Value::Array(args)])
        }),
        2 => vec((path, vec(plausible_value(), 0..4)), 0..5).prop_map(move |calls| {
            let calls = calls.into_iter().map(|(p, a)| value::array([value::string(p), Value::Array(a)]));
            SandboxCase::Call("multiCall".into(), vec![value::string(s2.clone()), value::array(calls)])
        }),
        2 => (
            prop::sample::select(vec!["login", "call", "multiCall", "endSession", "startSession", "resources",
                "globalFaults", "resourceFaults", "system.multicall", "system.listMethods", "system.methodHelp"]),
            vec(plausible_value(), 0..4),
        )
            .prop_map(|(m, p)| SandboxCase::Call(m.to_owned(), p)),
        1 => protocol_garbage(),
    ]
}

/// An Odoo domain: leaves `[field, operator, value]` and the prefix operators.
fn odoo_domain() -> impl Strategy<Value = Value> {
    let field = prop::sample::select(vec![
        "id",
        "name",
        "display_name",
        "active",
        "default_code",
        "categ_id",
        "partner_id",
        "partner_id.name",
        "state",
        "write_date",
        "parent_id",
        "magento_id",
        "order_line.product_id",
        "nope",
    ]);
    let op = prop::sample::select(vec![
        "=",
        "!=",
        "in",
        "not in",
        "like",
        "ilike",
        "=like",
        "child_of",
        "parent_of",
        ">",
        "<=",
        "=?",
        "any",
        "bad",
    ]);
    let leaf = (field, op, prop_oneof![vocabulary(), vec(vocabulary(), 0..3).prop_map(Value::Array)])
        .prop_map(|(f, o, v)| value::array([value::string(f), value::string(o), v]));
    let item = prop_oneof![4 => leaf, 1 => prop::sample::select(vec!["&", "|", "!"]).prop_map(value::string)];
    vec(item, 0..4).prop_map(Value::Array)
}

/// Positional arguments shaped like the ORM methods' (domain, ids, vals, fields).
fn odoo_args() -> impl Strategy<Value = Vec<Value>> {
    let ids = || vec((-1i32..30).prop_map(Value::Integer), 0..4).prop_map(Value::Array);
    let fields = vec(
        prop::sample::select(vec!["id", "name", "display_name", "state", "partner_id", "list_price", "nope"])
            .prop_map(value::string),
        0..3,
    )
    .prop_map(Value::Array);
    let vals = || {
        btree_map(
            prop::sample::select(vec!["name", "active", "list_price", "default_code", "partner_id", "state", "nope"])
                .prop_map(str::to_owned),
            vocabulary(),
            0..4,
        )
        .prop_map(Value::Struct)
    };
    prop_oneof![
        odoo_domain().prop_map(|d| vec![d]),
        (ids(), fields).prop_map(|(i, f)| vec![i, f]),
        vals().prop_map(|v| vec![v]),
        (ids(), vals()).prop_map(|(i, v)| vec![i, v]),
        vocabulary().prop_map(|n| vec![n]),
    ]
}

/// Keyword arguments of `execute_kw`.
fn odoo_kwargs() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec!["fields", "limit", "offset", "order", "context", "domain", "count", "lazy"]);
    let val = prop_oneof![
        vocabulary(),
        odoo_domain(),
        btree_map(prop::sample::select(vec!["lang", "active_test", "tz"]).prop_map(str::to_owned), vocabulary(), 0..3)
            .prop_map(Value::Struct),
    ];
    btree_map(key.prop_map(str::to_owned), val, 0..4).prop_map(Value::Struct)
}

fn odoo_case(db: String, password: String) -> impl Strategy<Value = (String, SandboxCase)> {
    let (db2, password2) = (db.clone(), password.clone());
    let models = vec![
        "res.partner",
        "res.users",
        "res.country",
        "res.country.state",
        "res.currency",
        "product.product",
        "product.template",
        "product.category",
        "product.pricelist",
        "sale.order",
        "sale.order.line",
        "account.tax",
        "account.move",
        "stock.quant",
        "stock.picking",
        "stock.warehouse",
        "ir.model.data",
        "magento.backend",
        "magento.store",
        "no.such.model",
    ];
    let methods = vec![
        "search_read",
        "read",
        "search",
        "search_count",
        "create",
        "write",
        "unlink",
        "fields_get",
        "name_search",
        "name_get",
        "default_get",
        "copy",
        "check_access_rights",
        "action_confirm",
        "action_cancel",
        "read_group",
        "exists",
        "no_such_method",
        "_private",
    ];
    let object = (
        prop::sample::select(models).prop_map(str::to_owned),
        prop::sample::select(methods).prop_map(str::to_owned),
        prop_oneof![2 => odoo_args(), 1 => vec(plausible_value(), 0..4)],
        prop::option::of(prop_oneof![2 => odoo_kwargs(), 1 => plausible_value()]),
        prop::bool::weighted(0.85),
    )
        .prop_map(move |(model, method, args, kwargs, right)| {
            let mut params = vec![
                value::string(db.clone()),
                value::int(if right { 2 } else { 7 }),
                value::string(if right { password.clone() } else { "wrong".to_owned() }),
                value::string(model),
                value::string(method),
                Value::Array(args),
            ];
            params.extend(kwargs);
            ("/xmlrpc/2/object".to_owned(), SandboxCase::Call("execute_kw".into(), params))
        });
    let path = prop::sample::select(vec![
        "/xmlrpc/2/common",
        "/xmlrpc/2/object",
        "/xmlrpc/2/db",
        "/xmlrpc/common",
        "/xmlrpc/object",
        "/xmlrpc/2/nosuch",
    ])
    .prop_map(str::to_owned);
    let other = (
        path.clone(),
        prop::sample::select(vec![
            "login",
            "authenticate",
            "version",
            "about",
            "execute",
            "execute_kw",
            "list",
            "db_exist",
            "server_version",
            "nope",
        ]),
        vec(plausible_value(), 0..6),
    )
        .prop_map(|(path, m, p)| (path, SandboxCase::Call(m.to_owned(), p)));
    let reads = (
        prop::sample::select(vec!["res.partner", "product.product", "product.category", "sale.order", "account.tax"]),
        prop::sample::select(vec!["search_read", "search", "search_count"]),
        (-1i32..40),
        prop::option::of((0i32..5, prop::sample::select(vec!["id", "name", "display_name", "nope"]))),
    )
        .prop_map(move |(model, method, min_id, kw)| {
            let domain = value::array([value::array([value::string("id"), value::string(">"), value::int(min_id)])]);
            let mut params = vec![
                value::string(db2.clone()),
                value::int(2),
                value::string(password2.clone()),
                value::string(model),
                value::string(method),
                value::array([domain]),
            ];
            if let Some((limit, field)) = kw.filter(|_| method == "search_read") {
                params.push(value::structure([
                    ("limit", value::int(limit)),
                    ("fields", value::array([value::string(field)])),
                ]));
            }
            ("/xmlrpc/2/object".to_owned(), SandboxCase::Call("execute_kw".into(), params))
        });
    prop_oneof![6 => object, 2 => reads, 2 => other, 1 => (path, protocol_garbage())]
}

fn sandbox_body(case: &SandboxCase) -> Vec<u8> {
    match case {
        SandboxCase::Call(m, p) => encode_call(m, p.clone()).expect("encodable").into_bytes(),
        SandboxCase::Raw(b) => b.clone(),
    }
}

/// Checks one sandbox answer; returns whether it was a value (not a fault).
fn check_sandbox_answer(what: &str, case: &SandboxCase, answer: &Answer) -> Result<bool, TestCaseError> {
    let mut was_value = false;
    if answer.status == 500 && answer.body.is_empty() && what == MAGENTO {
        // OpenMage dies with HTTP 500 and no body on a PHP fatal error (a missing required
        // argument is an ArgumentCountError); the sandbox reproduces it on purpose.
    } else {
        prop_assert_eq!(answer.status, 200, "{} HTTP status for {:?}: {}", what, case, answer.body);
        was_value = decoded(answer).map_err(|e| TestCaseError::fail(format!("{what}: {e} for {case:?}")))?.is_ok();
    }
    let panics = panics_in(what);
    prop_assert!(panics.is_empty(), "{} panicked on {:?}: {:?}", what, case, panics);
    Ok(was_value)
}

/// Asserts that the random calls reached past the argument checks some of the time.
fn some_succeeded(what: &str, values: &AtomicUsize, cases: u32) {
    let n = values.load(Ordering::SeqCst);
    assert!(cases < 30 || n > 0, "{what}: none of {cases} calls succeeded; the generator misses the handlers");
    eprintln!("{what}: {n} of {cases} calls answered a value");
}

#[test]
fn the_magento_sandbox_dispatcher_never_panics_on_bad_input() {
    let rt = runtime(MAGENTO);
    let sandbox = rt.block_on(MagentoSandbox::start(SandboxOptions::default())).unwrap();
    let base = sandbox.base_url().to_owned();
    let creds = sandbox.credentials();
    let login =
        encode_call("login", vec![value::string(creds.username), value::string(creds.api_key.expose())]).unwrap();
    let session = rt.block_on(post(&base, "/api/xmlrpc/", &[], login.as_bytes(), Framing::Length)).unwrap();
    let session = match decoded(&session).unwrap() {
        Ok(Value::String(s)) => s,
        other => panic!("login answered {other:?}"),
    };
    let mut runner = runner((connector_cases() / 3).max(1));
    let values = AtomicUsize::new(0);
    let result = runner.run(&magento_case(session), |case| {
        let answer = rt
            .block_on(post(&base, "/api/xmlrpc/", &[], &sandbox_body(&case), Framing::Length))
            .map_err(|e| TestCaseError::fail(format!("{e} for {case:?}")))?;
        if check_sandbox_answer(MAGENTO, &case, &answer)? {
            values.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    some_succeeded(MAGENTO, &values, runner.config().cases);
    let after = rt.block_on(post(&base, "/api/xmlrpc/", &[], login.as_bytes(), Framing::Length)).unwrap();
    assert!(matches!(decoded(&after), Ok(Ok(Value::String(_)))), "still serving: {}", after.body);
    rt.block_on(sandbox.shutdown());
}

#[test]
fn the_openerp_sandbox_dispatcher_never_panics_on_bad_input() {
    let rt = runtime(OPENERP);
    let sandbox = rt.block_on(OpenErpSandbox::start(OpenErpOptions::default())).unwrap();
    let base = sandbox.url();
    let mut runner = runner((connector_cases() / 3).max(1));
    let strategy = odoo_case(sandbox.db().to_owned(), sandbox.password().to_owned());
    let values = AtomicUsize::new(0);
    let result = runner.run(&strategy, |(path, case)| {
        let answer = rt
            .block_on(post(&base, &path, &[], &sandbox_body(&case), Framing::Length))
            .map_err(|e| TestCaseError::fail(format!("{e} for {path} {case:?}")))?;
        if check_sandbox_answer(OPENERP, &case, &answer)? {
            values.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    some_succeeded(OPENERP, &values, runner.config().cases);
    let version = encode_call("version", vec![]).unwrap();
    let after = rt.block_on(post(&base, "/xmlrpc/2/common", &[], version.as_bytes(), Framing::Length)).unwrap();
    assert!(matches!(decoded(&after), Ok(Ok(_))), "still serving: {}", after.body);
    rt.block_on(sandbox.shutdown());
}
