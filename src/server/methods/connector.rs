//! `connector.*`: what this server is, and whether a backend's peers can be reached.

use std::sync::Arc;

use dxr::Value;

use super::{Params, int};
use crate::rpc::value;
use crate::rpc::{Call, MethodResult, Registry};
use crate::server::backends::{CheckReport, EndCheck};
use crate::server::{AppState, PROTOCOL_VERSION};

pub(super) fn register(r: &mut Registry<AppState>) {
    r.method("connector.version", "connector.version() -> {version, protocol, backends, magento_kinds}", version)
        .method(
            "connector.check",
            "connector.check(backend) -> {backend, ok, openerp: {...}, magento: {...}, settings: {ok, message}}",
            check,
        );
}

async fn version(state: Arc<AppState>, call: Call) -> MethodResult {
    Params::new(&call, "connector.version()", 0, 0)?;
    Ok(value::structure([
        ("version", value::string(env!("CARGO_PKG_VERSION"))),
        ("protocol", value::int(PROTOCOL_VERSION)),
        ("backends", value::array(state.config.backends.keys().map(|k| value::string(k.clone())))),
        ("magento_kinds", value::array([value::string("magento1")])),
    ]))
}

async fn check(state: Arc<AppState>, call: Call) -> MethodResult {
    let p = Params::new(&call, "connector.check(backend)", 1, 1)?;
    let backend = p.backend(&state, 0)?;
    let report = Arc::clone(&state.backends).check(backend.clone()).await;
    Ok(check_value(&state, &backend, &report))
}

fn end_value(state: &AppState, e: &EndCheck, magento: bool) -> Value {
    let mut m = value::Map::new();
    m.insert("ok".into(), value::boolean(e.ok));
    m.insert("url".into(), value::string(e.url.clone()));
    m.insert("message".into(), value::string(state.redactor.scrub(&e.message).into_owned()));
    if magento {
        if let Some(v) = &e.magento_version {
            m.insert("magento_version".into(), value::string(v.clone()));
        }
        if let Some(v) = &e.multicall {
            m.insert("multicall".into(), value::string(v.clone()));
        }
    } else {
        if let Some(v) = &e.server_version {
            m.insert("server_version".into(), value::string(v.clone()));
        }
        if let Some(uid) = e.uid {
            m.insert("uid".into(), int(uid));
        }
    }
    Value::Struct(m)
}

/// The `connector.check` struct of a report.
pub(crate) fn check_value(state: &AppState, backend: &str, r: &CheckReport) -> Value {
    value::structure([
        ("backend", value::string(backend)),
        ("ok", value::boolean(r.ok())),
        ("openerp", end_value(state, &r.openerp, false)),
        ("magento", end_value(state, &r.magento, true)),
        (
            "settings",
            value::structure([
                ("ok", value::boolean(r.settings_ok)),
                ("message", value::string(state.redactor.scrub(&r.settings_message).into_owned())),
            ]),
        ),
    ])
}
