//! XML-RPC method handlers, one module per namespace, and the parameter helpers they share.
//!
//! Each namespace module has a `register` function with one line per method. Handlers parse
//! their parameters (faults -32602 naming the parameter), check the backend (fault 404), call
//! the store, the run manager or the [`Backends`](super::Backends) seam, and build the structs
//! of `docs/PROTOCOL.md`. Internal errors are logged here and answered as -32603 without
//! details.

mod bindings;
mod catalog;
mod connector;
mod magento;
mod orders;
mod runs;
mod stock;
mod taxes;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use dxr::Value;

use super::AppState;
use super::jobs::{JobKind, JobOptions};
use super::runs::StartError;
use crate::rpc::value;
use crate::rpc::{Call, Fault, MethodResult, Registry};

/// Registers every method of the connector protocol.
pub fn register(r: &mut Registry<AppState>) {
    connector::register(r);
    runs::register(r);
    catalog::register(r);
    stock::register(r);
    orders::register(r);
    taxes::register(r);
    magento::register(r);
    bindings::register(r);
}

/// Fault -32602 (invalid parameters).
pub(crate) fn bad_params(message: impl Into<String>) -> Fault {
    Fault::new(-32602, message)
}

/// Fault 404 (unknown backend, run or broken order).
pub(crate) fn not_found(message: impl Into<String>) -> Fault {
    Fault::new(404, message)
}

/// Fault -32603, with the details in the log only.
pub(crate) fn internal(state: &AppState, method: &str, error: &dyn std::fmt::Display) -> Fault {
    tracing::error!(method, "internal error: {}", state.redactor.scrub(&error.to_string()));
    Fault::new(-32603, "internal error (see the server log)")
}

/// Positional parameters of one call, checked against the method's signature.
pub(crate) struct Params<'a> {
    call: &'a Call,
    signature: &'static str,
}

impl<'a> Params<'a> {
    /// Checks the parameter count: between `min` and `max`.
    pub(crate) fn new(call: &'a Call, signature: &'static str, min: usize, max: usize) -> Result<Self, Fault> {
        let n = call.params.len();
        if n < min || n > max {
            let expected = if min == max { format!("{min}") } else { format!("{min} to {max}") };
            return Err(bad_params(format!("{signature}: expected {expected} parameter(s), got {n}")));
        }
        Ok(Params { call, signature })
    }

    fn bad(&self, name: &str, expected: &str, v: &Value) -> Fault {
        bad_params(format!("{}: `{name}` must be {expected}, got {}", self.signature, value::describe(v)))
    }

    /// Parameter `i`, if given.
    pub(crate) fn opt(&self, i: usize) -> Option<&'a Value> {
        self.call.params.get(i)
    }

    /// Required string parameter.
    pub(crate) fn string(&self, i: usize, name: &str) -> Result<&'a str, Fault> {
        match self.call.params.get(i) {
            Some(Value::String(s)) => Ok(s.as_str()),
            Some(v) => Err(self.bad(name, "a string", v)),
            None => Err(bad_params(format!("{}: `{name}` is missing", self.signature))),
        }
    }

    /// Required int parameter.
    pub(crate) fn int(&self, i: usize, name: &str) -> Result<i64, Fault> {
        match self.call.params.get(i) {
            Some(v @ (Value::Integer(_) | Value::Long(_))) => {
                value::to_i64(name, v).map_err(|_| self.bad(name, "an int", v))
            }
            Some(v) => Err(self.bad(name, "an int", v)),
            None => Err(bad_params(format!("{}: `{name}` is missing", self.signature))),
        }
    }

    /// Optional struct parameter (absent, or an empty array, reads as empty).
    pub(crate) fn opt_struct(&self, i: usize, name: &str) -> Result<value::Map, Fault> {
        match self.call.params.get(i) {
            None => Ok(value::Map::new()),
            Some(Value::Struct(m)) => Ok(m.clone()),
            Some(Value::Array(a)) if a.is_empty() => Ok(value::Map::new()),
            Some(v) => Err(self.bad(name, "a struct", v)),
        }
    }

    /// Required backend-name parameter naming a configured backend (fault 404 otherwise).
    pub(crate) fn backend(&self, state: &AppState, i: usize) -> Result<String, Fault> {
        let name = self.string(i, "backend")?;
        if state.config.backends.contains_key(name) {
            return Ok(name.to_owned());
        }
        let known: Vec<&str> = state.config.backends.keys().map(String::as_str).collect();
        Err(not_found(format!("unknown backend {:?} (configured: {})", value::truncate(name, 60), known.join(", "))))
    }
}

/// Refuses members of `map` not in `accepted` (fault -32602 naming the key).
pub(crate) fn only_keys(signature: &str, map: &value::Map, accepted: &[&str]) -> Result<(), Fault> {
    match map.keys().find(|k| !accepted.contains(&k.as_str())) {
        Some(k) => Err(bad_params(format!(
            "{signature}: unknown option {:?} (accepted: {})",
            value::truncate(k, 40),
            accepted.join(", ")
        ))),
        None => Ok(()),
    }
}

/// A date as the protocol sends it: `YYYY-MM-DD HH:MM:SS` UTC.
pub(crate) fn date(t: &DateTime<Utc>) -> Value {
    value::string(value::format_datetime(t))
}

/// A count or id as an int (a string if it ever outgrows 32 bits).
pub(crate) fn int(n: impl TryInto<i64>) -> Value {
    value::id(n.try_into().unwrap_or(i64::MAX))
}

/// Starts a job from `method(backend, options)` and answers its run id.
pub(crate) async fn start_job(state: Arc<AppState>, call: Call, kind: JobKind) -> MethodResult {
    let signature = match kind {
        JobKind::Categories => "catalog.export_categories(backend, options)",
        JobKind::Products => "catalog.export_products(backend, options)",
        JobKind::Stock => "stock.export(backend, options)",
        JobKind::Taxes => "taxes.sync(backend)",
        JobKind::OrdersImport => "orders.import(backend, options)",
        JobKind::OrdersReimport => "orders.reimport(backend, options)",
        JobKind::OrderStatus => "orders.export_status(backend, options)",
    };
    let p = Params::new(&call, signature, 1, 2)?;
    let backend = p.backend(&state, 0)?;
    let options = JobOptions::from_value(kind, p.opt(1)).map_err(|e| bad_params(e.0))?;
    match state.runs.start(&backend, kind, options).await {
        Ok(started) => Ok(int(started.id)),
        Err(StartError::ShuttingDown) => {
            Err(Fault::new(-32603, "the server is shutting down; start the run again once it is back"))
        }
        Err(StartError::Store(e)) => Err(internal(&state, kind.method(), &e)),
    }
}
