//! `taxes.sync`: read Magento tax classes and propose the tax mapping, as a recorded run whose
//! result is returned in the same call.

use std::sync::Arc;

use dxr::Value;

use super::{Params, int, internal};
use crate::rpc::value;
use crate::rpc::{Call, Fault, MethodResult, Registry};
use crate::server::AppState;
use crate::server::jobs::{JobKind, JobOptions};
use crate::server::runs::InlineError;

/// Fault code when a run of the same kind is already in progress on the backend.
pub const BUSY: i32 = 409;

pub(super) fn register(r: &mut Registry<AppState>) {
    r.method(
        "taxes.sync",
        "taxes.sync(backend) -> {run_id, classes: [{id, name}], mapping: [{tax_id, tax_name, amount, price_include, mapped, class_id?, proposed_class_id?, reason}]}",
        sync,
    );
}

async fn sync(state: Arc<AppState>, call: Call) -> MethodResult {
    let p = Params::new(&call, "taxes.sync(backend)", 1, 1)?;
    let backend = p.backend(&state, 0)?;
    let backends = Arc::clone(&state.backends);
    let result =
        state.runs.run_inline(&backend, JobKind::Taxes, JobOptions::default(), move |ctx| backends.taxes(ctx)).await;
    let (run_id, sync) = match result {
        Ok(v) => v,
        Err(InlineError::Busy(id)) => {
            return Err(Fault::new(
                BUSY,
                format!("taxes.sync: run {id} is already in progress on backend {backend:?}; try again when it ends"),
            ));
        }
        Err(InlineError::Job { run_id, message }) => {
            return Err(Fault::new(502, format!("taxes.sync failed (run {run_id}): {message}")));
        }
        Err(InlineError::ShuttingDown) => return Err(Fault::new(-32603, "the server is shutting down")),
        Err(InlineError::Store(e)) => return Err(internal(&state, "taxes.sync", &e)),
    };
    let classes =
        sync.classes.iter().map(|c| value::structure([("id", int(c.id)), ("name", value::string(c.name.clone()))]));
    let mapping = sync.mapping.iter().map(|m| {
        let mut s = value::Map::new();
        s.insert("tax_id".into(), int(m.tax_id));
        s.insert("tax_name".into(), value::string(m.tax_name.clone()));
        s.insert("amount".into(), value::decimal_string(m.amount));
        s.insert("price_include".into(), value::boolean(m.price_include));
        s.insert("mapped".into(), value::boolean(m.mapped));
        if let Some(c) = m.class_id {
            s.insert("class_id".into(), int(c));
        }
        if let Some(c) = m.proposed_class_id {
            s.insert("proposed_class_id".into(), int(c));
        }
        s.insert("reason".into(), value::string(m.reason.clone()));
        Value::Struct(s)
    });
    Ok(value::structure([
        ("run_id", int(run_id)),
        ("classes", value::array(classes)),
        ("mapping", value::array(mapping)),
    ]))
}
