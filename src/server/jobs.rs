//! The contract between the run machinery and the sync jobs: job kinds, their options (parsed
//! from the XML-RPC options struct, unknown keys refused), the [`JobExecutor`] seam the sync
//! module implements, and what a job returns.
//!
//! Nothing here runs a job; see [`runs`](super::runs) for that.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dxr::Value;
use serde::{Deserialize, Serialize};

use super::runs::RunContext;
use crate::rpc::value;
use crate::store::StoreError;

/// A boxed, sendable future borrowing nothing.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Marker in every message saying a feature is not wired into this build (the demo and the
/// CLI tell "not available yet" apart from a real failure by it).
pub const NOT_AVAILABLE: &str = "not available yet";

/// Kind of job; one run at a time per backend and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    /// Export the category tree to Magento.
    Categories,
    /// Export products to Magento.
    Products,
    /// Export stock levels to Magento.
    Stock,
    /// Read Magento tax classes and propose the mapping of OpenERP taxes.
    Taxes,
    /// Import Magento orders into OpenERP.
    OrdersImport,
    /// Import broken orders again.
    OrdersReimport,
    /// Send order follow-up (status, invoices, shipments) to Magento.
    OrderStatus,
}

impl JobKind {
    /// Every kind.
    pub const ALL: [JobKind; 7] = [
        JobKind::Categories,
        JobKind::Products,
        JobKind::Stock,
        JobKind::Taxes,
        JobKind::OrdersImport,
        JobKind::OrdersReimport,
        JobKind::OrderStatus,
    ];

    /// Run kind as stored and sent (`runs.get` → `kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Categories => "categories",
            JobKind::Products => "products",
            JobKind::Stock => "stock",
            JobKind::Taxes => "taxes",
            JobKind::OrdersImport => "orders_import",
            JobKind::OrdersReimport => "orders_reimport",
            JobKind::OrderStatus => "order_status",
        }
    }

    /// Parses a run kind.
    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Name on the command line (`magento-connector run <name>`).
    pub fn cli_name(self) -> &'static str {
        match self {
            JobKind::Categories => "categories",
            JobKind::Products => "products",
            JobKind::Stock => "stock",
            JobKind::Taxes => "taxes",
            JobKind::OrdersImport => "orders",
            JobKind::OrdersReimport => "reimport",
            JobKind::OrderStatus => "order-status",
        }
    }

    /// XML-RPC method that starts this job.
    pub fn method(self) -> &'static str {
        match self {
            JobKind::Categories => "catalog.export_categories",
            JobKind::Products => "catalog.export_products",
            JobKind::Stock => "stock.export",
            JobKind::Taxes => "taxes.sync",
            JobKind::OrdersImport => "orders.import",
            JobKind::OrdersReimport => "orders.reimport",
            JobKind::OrderStatus => "orders.export_status",
        }
    }

    /// Option names this job accepts.
    pub fn accepted_options(self) -> &'static [&'static str] {
        match self {
            JobKind::Categories | JobKind::Products | JobKind::Stock => &["ids", "dry_run", "full"],
            JobKind::Taxes => &["dry_run"],
            JobKind::OrdersImport => &["stores", "since", "increment_ids", "dry_run"],
            JobKind::OrdersReimport => &["increment_ids"],
            JobKind::OrderStatus => &["increment_ids", "dry_run"],
        }
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Magento store view named by id or by code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoreRef {
    /// Store view id.
    Id(i64),
    /// Store view code.
    Code(String),
}

/// Options of a run. `None` lists mean "not given" (the job's default scope); `Some(vec![])`
/// means "none".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobOptions {
    /// OpenERP record ids to limit the run to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<i64>>,
    /// Compute and report, write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Ignore incremental state (hashes, cursors) and send everything.
    #[serde(default)]
    pub full: bool,
    /// Store views to import orders from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stores: Option<Vec<StoreRef>>,
    /// Import orders changed since (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Magento order increment ids to limit the run to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub increment_ids: Option<Vec<String>>,
}

/// An options struct that cannot be accepted; the message names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OptionsError(pub String);

impl JobOptions {
    /// Parses the options struct of `kind`'s method. `None`, an empty struct and an empty array
    /// (PHP's empty hash) mean defaults. Unknown keys, and keys of other jobs, are refused.
    pub fn from_value(kind: JobKind, v: Option<&Value>) -> Result<JobOptions, OptionsError> {
        let method = kind.method();
        let map = match v {
            None => return Ok(JobOptions::default()),
            Some(Value::Struct(m)) => m,
            Some(Value::Array(a)) if a.is_empty() => return Ok(JobOptions::default()),
            Some(other) => {
                return Err(OptionsError(format!(
                    "{method}: options must be a struct, got {}",
                    value::describe(other)
                )));
            }
        };
        let accepted = kind.accepted_options();
        let mut o = JobOptions::default();
        for (key, val) in map {
            if !accepted.contains(&key.as_str()) {
                return Err(OptionsError(format!(
                    "{method}: unknown option {:?} (accepted: {})",
                    value::truncate(key, 40),
                    accepted.join(", ")
                )));
            }
            let bad = |expected: &str| {
                OptionsError(format!("{method}: option `{key}` must be {expected}, got {}", value::describe(val)))
            };
            match key.as_str() {
                "ids" => {
                    o.ids = Some(list(val, bad("an array of positive ints"), |x| {
                        positive_id(x).ok_or_else(|| bad("an array of positive ints"))
                    })?)
                }
                "dry_run" => o.dry_run = flag(val).ok_or_else(|| bad("a boolean"))?,
                "full" => o.full = flag(val).ok_or_else(|| bad("a boolean"))?,
                "stores" => {
                    o.stores = Some(list(val, bad("an array of store view ids or codes"), |x| match x {
                        Value::String(s) if !s.trim().is_empty() => match s.trim().parse::<i64>() {
                            Ok(i) if i >= 0 => Ok(StoreRef::Id(i)),
                            _ => Ok(StoreRef::Code(s.trim().to_owned())),
                        },
                        Value::Integer(_) | Value::Long(_) => match value::to_i64(key, x) {
                            Ok(i) if i >= 0 => Ok(StoreRef::Id(i)),
                            _ => Err(bad("an array of store view ids or codes")),
                        },
                        _ => Err(bad("an array of store view ids or codes")),
                    })?)
                }
                "since" => {
                    o.since = Some(match val {
                        Value::String(s) => value::parse_datetime(s.trim())
                            .ok_or_else(|| bad("a date \"YYYY-MM-DD HH:MM:SS\" (UTC)"))?,
                        _ => return Err(bad("a date string \"YYYY-MM-DD HH:MM:SS\" (UTC)")),
                    })
                }
                "increment_ids" => {
                    o.increment_ids = Some(list(val, bad("an array of increment ids (strings)"), |x| match x {
                        Value::String(s) if !s.trim().is_empty() && s.trim().len() <= 50 => Ok(s.trim().to_owned()),
                        Value::Integer(i) if *i > 0 => Ok(i.to_string()),
                        _ => Err(bad("an array of increment ids (strings)")),
                    })?)
                }
                _ => return Err(OptionsError(format!("{method}: option `{key}` is not handled"))),
            }
        }
        Ok(o)
    }

    /// The options as stored with the run (JSON object).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({}))
    }

    /// Reads options stored with a run.
    pub fn from_json(v: &serde_json::Value) -> Result<JobOptions, serde_json::Error> {
        JobOptions::deserialize(v)
    }
}

fn list<T>(
    v: &Value,
    not_a_list: OptionsError,
    item: impl Fn(&Value) -> Result<T, OptionsError>,
) -> Result<Vec<T>, OptionsError> {
    match v {
        Value::Array(a) => a.iter().map(item).collect(),
        _ => Err(not_a_list),
    }
}

fn positive_id(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(_) | Value::Long(_) => value::to_i64("id", v).ok().filter(|i| *i > 0),
        _ => None,
    }
}

fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Boolean(b) => Some(*b),
        Value::Integer(0) => Some(false),
        Value::Integer(1) => Some(true),
        _ => None,
    }
}

/// What a finished job says about itself (the counts come from its records).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// One line for the run's messages (empty: nothing to add).
    pub message: String,
}

impl Summary {
    /// A summary line.
    pub fn new(message: impl Into<String>) -> Self {
        Summary { message: message.into() }
    }
}

/// Why a job stopped without finishing.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The job gave up; the text says why (it is redacted before it is stored).
    #[error("{0}")]
    Failed(String),
    /// The job saw the cancellation flag and stopped at a record boundary.
    #[error("cancelled")]
    Cancelled,
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl JobError {
    /// A failure with this text.
    pub fn failed(message: impl Into<String>) -> Self {
        JobError::Failed(message.into())
    }
}

impl From<anyhow::Error> for JobError {
    fn from(e: anyhow::Error) -> Self {
        JobError::Failed(format!("{e:#}"))
    }
}

/// Executes jobs. The sync module implements it; the server and the CLI only call it.
///
/// The context carries the backend, kind and options, reports progress and records, and says
/// when to stop (check [`RunContext::is_cancelled`] between records). Return `Ok` when the job
/// went through (failed records are counted, not errors), `Err` when it could not continue. A
/// panic is caught and fails the run.
pub trait JobExecutor: Send + Sync + 'static {
    /// Runs one job to its end.
    fn execute(self: Arc<Self>, ctx: RunContext) -> BoxFuture<Result<Summary, JobError>>;
}

/// The executor used until the sync jobs are wired in: every run fails, saying so.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnwiredExecutor;

impl JobExecutor for UnwiredExecutor {
    fn execute(self: Arc<Self>, ctx: RunContext) -> BoxFuture<Result<Summary, JobError>> {
        Box::pin(async move {
            Err(JobError::failed(format!(
                "the {} job is {NOT_AVAILABLE}: the sync jobs are not wired into this build",
                ctx.kind()
            )))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(members: Vec<(&str, Value)>) -> Value {
        value::structure(members)
    }

    #[test]
    fn defaults_from_nothing_an_empty_struct_and_an_empty_array() {
        for v in [None, Some(&s(vec![])), Some(&Value::Array(vec![]))] {
            assert_eq!(JobOptions::from_value(JobKind::Products, v).unwrap(), JobOptions::default());
        }
    }

    #[test]
    fn every_option_parses() {
        let v = s(vec![
            ("ids", value::array([value::int(3), value::int(5)])),
            ("dry_run", value::boolean(true)),
            ("full", value::int(1)),
        ]);
        let o = JobOptions::from_value(JobKind::Categories, Some(&v)).unwrap();
        assert_eq!((o.ids, o.dry_run, o.full), (Some(vec![3, 5]), true, true));
        let v = s(vec![
            ("stores", value::array([value::int(1), value::string("fr"), value::string("2")])),
            ("since", value::string("2026-01-02 03:04:05")),
            ("increment_ids", value::array([value::string("100000001"), value::int(100000002)])),
        ]);
        let o = JobOptions::from_value(JobKind::OrdersImport, Some(&v)).unwrap();
        assert_eq!(o.stores, Some(vec![StoreRef::Id(1), StoreRef::Code("fr".into()), StoreRef::Id(2)]));
        assert_eq!(o.since.map(|d| value::format_datetime(&d)), Some("2026-01-02 03:04:05".into()));
        assert_eq!(o.increment_ids, Some(vec!["100000001".into(), "100000002".into()]));
        let back = JobOptions::from_json(&o.to_json()).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn unknown_and_foreign_keys_are_refused_by_name() {
        let e =
            JobOptions::from_value(JobKind::Products, Some(&s(vec![("dryrun", value::boolean(true))]))).unwrap_err();
        assert!(e.0.contains("\"dryrun\"") && e.0.contains("accepted: ids, dry_run, full"), "{e}");
        let e = JobOptions::from_value(JobKind::OrdersReimport, Some(&s(vec![("dry_run", value::boolean(true))])))
            .unwrap_err();
        assert!(e.0.contains("orders.reimport") && e.0.contains("\"dry_run\""), "{e}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases = [
            (JobKind::Products, "ids", value::array([value::string("x")])),
            (JobKind::Products, "ids", value::array([value::int(0)])),
            (JobKind::Products, "dry_run", value::string("yes")),
            (JobKind::OrdersImport, "since", value::string("yesterday")),
            (JobKind::OrdersImport, "stores", value::array([value::boolean(true)])),
            (JobKind::OrderStatus, "increment_ids", value::string("100000001")),
        ];
        for (kind, key, val) in cases {
            let e = JobOptions::from_value(kind, Some(&s(vec![(key, val)]))).unwrap_err();
            assert!(e.0.contains(&format!("`{key}`")), "{e}");
        }
        let e = JobOptions::from_value(JobKind::Stock, Some(&value::int(3))).unwrap_err();
        assert!(e.0.contains("must be a struct"), "{e}");
    }

    #[test]
    fn kinds_round_trip() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
    }
}
