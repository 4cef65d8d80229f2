//! Fuzzes the server side: a raw request body through `Endpoint::handle` (size limit, guard,
//! `MethodCall::from_xml`, dispatch, `system.*`, render).
//!
//! The first input byte picks the endpoint: a tiny registry (`echo` returns its parameters,
//! `fail` answers a fault) in each fault style (Connector, Zend, Python), or the real connector
//! server (`server::App` with unwired services, an in-memory store and the token sent).
//! Properties: no panic, no abort; every answer is a well-formed XML-RPC response; `echo`
//! gives back what it was sent.

#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use dxr::{MethodCall, Value};
use libfuzzer_sys::fuzz_target;
use magento_connector::config::{Config, RawBackend, RawConfig};
use magento_connector::rpc::dispatch::{Call, Endpoint, Limits, MethodResult, Registry, RequestMeta, render};
use magento_connector::rpc::transport::{DecodeFailure, decode_response};
use magento_connector::rpc::{Fault, FaultStyle, guard, value};
use magento_connector::secret::Secret;
use magento_connector::server::{App, AppState, RunSettings, Services};
use magento_connector::store::Store;
use magento_connector::telemetry::Redactor;

const TOKEN: &str = "fuzz-token-0123456789abcdef";

struct Tiny;

async fn echo(_: Arc<Tiny>, call: Call) -> MethodResult {
    Ok(value::array(call.params))
}

async fn fail(_: Arc<Tiny>, call: Call) -> MethodResult {
    Err(Fault::new(7, format!("{} parameter(s)", call.params.len())))
}

struct Targets {
    runtime: tokio::runtime::Runtime,
    tiny: Vec<(FaultStyle, Arc<Endpoint<Tiny>>)>,
    app: App,
    limits: Limits,
}

fn limits() -> Limits {
    Limits { max_body_bytes: 64 * 1024, max_depth: 64, timeout: Duration::from_secs(5) }
}

fn targets() -> &'static Targets {
    static TARGETS: OnceLock<Targets> = OnceLock::new();
    TARGETS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let tiny = [FaultStyle::Connector, FaultStyle::Zend, FaultStyle::Python]
            .into_iter()
            .map(|style| {
                let mut r = Registry::new(style);
                r.method("echo", "Returns its parameters.", echo).method("fail", "Answers fault 7.", fail);
                (style, Endpoint::new(r, Arc::new(Tiny), limits()))
            })
            .collect();
        let mut raw = RawConfig::default();
        raw.server.bind = Some("127.0.0.1:0".into());
        raw.server.token = Some(Secret::new(TOKEN));
        raw.server.max_body_bytes = Some(limits().max_body_bytes);
        raw.server.max_depth = Some(limits().max_depth);
        raw.backends.insert("sandbox".into(), RawBackend { sandbox: true, openerp: None, magento: None });
        let config = Arc::new(Config::from_raw(raw, None, &|_| None).expect("config"));
        let redactor = Redactor::new(&config.secrets());
        let app = runtime.block_on(async {
            let store = Store::open_in_memory().expect("store");
            let state = AppState::new(config, store, Services::unwired(), redactor, RunSettings::default());
            App::new(state)
        });
        Targets { runtime, tiny, app, limits: limits() }
    })
}

fn well_formed(answer: &str) -> Result<Value, DecodeFailure> {
    let decoded = decode_response(answer);
    assert!(decoded != Err(DecodeFailure::Invalid), "not an XML-RPC response: {answer}");
    decoded
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let t = targets();
    match selector % 4 {
        3 => {
            let mut meta = RequestMeta { path: "/RPC2".into(), ..RequestMeta::default() };
            let auth = format!("Bearer {TOKEN}").parse().expect("header value");
            meta.headers.insert("authorization", auth);
            let answer = t.runtime.block_on(t.app.endpoint().handle(meta, body));
            let _ = well_formed(&answer);
        }
        i => {
            let (style, endpoint) = &t.tiny[usize::from(i)];
            let answer = t.runtime.block_on(endpoint.handle(RequestMeta::default(), body));
            let decoded = well_formed(&answer);
            let call = guard::check(body, t.limits.max_depth)
                .ok()
                .filter(|_| body.len() <= t.limits.max_body_bytes)
                .and_then(|text| MethodCall::from_xml(text).ok());
            if let Some(call) = call
                && call.name == "echo"
            {
                let expected = render(*style, Ok(value::array(call.params)));
                let got = decoded.expect("echo answers a value");
                assert_eq!(render(*style, Ok(got)), expected, "echo gives back its parameters");
            }
        }
    }
});
