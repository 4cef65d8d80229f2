//! The OpenERP/Odoo external-API client core: login, version detection, `execute_kw` with
//! retries, and the helper for methods that return `None`.
//!
//! It talks to `/xmlrpc/2/common` and `/xmlrpc/2/object` only (the legacy `/xmlrpc/*` routes
//! send text fault codes). It authenticates once per client (a real `authenticate` costs about
//! 750 ms) and detects the server version once, then sends every call with the configured
//! password and a context (`lang`, `tz: UTC`, …). Retry discipline: transport failures and HTTP
//! 5xx are retried with [`Backoff`] for calls that are safe to repeat; faults are not, except
//! PostgreSQL serialization failures and deadlocks (the transaction was rolled back). A call that
//! is not safe to repeat (`create`, `action_confirm`, …) that fails in transit is reported as
//! [`ErrorKind::Uncertain`]: it may have committed and the caller must check.
//!
//! Typed ORM helpers live in [`super::orm`] and the model modules; this module owns the wire.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dxr::Value;
use tokio::sync::OnceCell;
use tracing::Instrument;

use super::error::{Error, ErrorKind};
use super::profile::{Profile, ServerVersion};
use super::wire::{Context, check_outgoing, id_value, ids_value};
use crate::config::OpenErpEndpoint;
use crate::rpc::transport::{Backoff, HttpOptions, Transport};
use crate::rpc::value::{self, Map, Record};
use crate::secret::Secret;

/// Methods that only read and can be repeated after a transport failure.
pub const READ_METHODS: &[&str] = &[
    "search",
    "search_read",
    "read",
    "search_count",
    "fields_get",
    "name_search",
    "read_group",
    "default_get",
    "check_access_rights",
    "context_get",
];

/// Client settings beyond the endpoint.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Retry schedule for transient failures (`attempts` comes from the endpoint's `retries`).
    pub backoff: Backoff,
    /// Context sent with every call unless a request brings its own.
    pub context: Context,
}

impl ClientOptions {
    /// Defaults for an endpoint: its retry count, 200 ms first delay, 5 s at most, `en_US`/UTC.
    pub fn for_endpoint(endpoint: &OpenErpEndpoint) -> Self {
        ClientOptions {
            backoff: Backoff {
                attempts: endpoint.retries.max(1),
                base: Duration::from_millis(200),
                max: Duration::from_secs(5),
            },
            context: Context::default(),
        }
    }
}

/// Type, label and relation of one field, from `fields_get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// Field type (`char`, `many2one`, …).
    pub kind: String,
    /// Label.
    pub string: String,
    /// Related model of relational fields.
    pub relation: Option<String>,
}

/// One `execute_kw` call being built.
#[derive(Debug, Clone)]
pub struct Request {
    model: String,
    method: String,
    args: Vec<Value>,
    kwargs: Map,
    context: Option<Context>,
    ids: Vec<i64>,
    idempotent: Option<bool>,
}

impl Request {
    /// A call of `model.method` with no arguments yet.
    pub fn new(model: &str, method: &str) -> Self {
        Request {
            model: model.to_owned(),
            method: method.to_owned(),
            args: Vec::new(),
            kwargs: Map::new(),
            context: None,
            ids: Vec::new(),
            idempotent: None,
        }
    }

    /// Record-style call: the ids become the first positional argument and name the records in
    /// errors.
    pub fn on_ids(mut self, ids: &[i64]) -> Self {
        self.args.insert(0, ids_value(ids));
        self.ids = ids.to_vec();
        self
    }

    /// Appends a positional argument.
    pub fn arg(mut self, v: Value) -> Self {
        self.args.push(v);
        self
    }

    /// Sets a keyword argument (`fields`, `limit`, `order`, …).
    pub fn kw(mut self, name: &str, v: Value) -> Self {
        self.kwargs.insert(name.to_owned(), v);
        self
    }

    /// Uses this context instead of the client's.
    pub fn context(mut self, ctx: &Context) -> Self {
        self.context = Some(ctx.clone());
        self
    }

    /// Says whether the call may be repeated after a transport failure (default: only the
    /// methods in [`READ_METHODS`]).
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = Some(yes);
        self
    }

    /// Model called.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Method called.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Record ids of a record-style call.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }
}

#[derive(Debug, Clone, Copy)]
enum Service {
    Common,
    Object,
}

struct Inner {
    common: Transport,
    object: Transport,
    db: String,
    user: String,
    password: Secret,
    backoff: Backoff,
    page_size: usize,
    context: Context,
    uid: OnceCell<i64>,
    version: OnceCell<ServerVersion>,
    profile: OnceCell<Profile>,
    fields: Mutex<HashMap<String, Arc<BTreeMap<String, FieldInfo>>>>,
}

/// A client of one OpenERP database. Cheap to clone (shared state: uid, profile, field cache).
#[derive(Clone)]
pub struct OpenErpClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for OpenErpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenErpClient")
            .field("url", &self.inner.object.url())
            .field("db", &self.inner.db)
            .field("user", &self.inner.user)
            .finish_non_exhaustive()
    }
}

impl OpenErpClient {
    /// Builds a client with the endpoint's settings (no I/O yet).
    pub fn new(endpoint: &OpenErpEndpoint) -> Result<Self, Error> {
        Self::with_options(endpoint, ClientOptions::for_endpoint(endpoint))
    }

    /// Builds a client with explicit options (no I/O yet).
    pub fn with_options(endpoint: &OpenErpEndpoint, options: ClientOptions) -> Result<Self, Error> {
        let http = HttpOptions {
            connect_timeout: endpoint.connect_timeout,
            request_timeout: endpoint.timeout,
            ..HttpOptions::default()
        };
        let base = endpoint.url.trim_end_matches('/');
        let transport = |service: &str| {
            Transport::new(&format!("{base}/xmlrpc/2/{service}"), &http).map_err(|e| Error::from_call(&e))
        };
        Ok(OpenErpClient {
            inner: Arc::new(Inner {
                common: transport("common")?,
                object: transport("object")?,
                db: endpoint.db.clone(),
                user: endpoint.user.clone(),
                password: endpoint.password.clone(),
                backoff: options.backoff,
                page_size: endpoint.page_size.max(1),
                context: options.context,
                uid: OnceCell::new(),
                version: OnceCell::new(),
                profile: OnceCell::new(),
                fields: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Builds a client, detects the version (refusing unsupported ones) and logs in.
    pub async fn connect(endpoint: &OpenErpEndpoint) -> Result<Self, Error> {
        let client = Self::new(endpoint)?;
        client.profile().await?;
        client.authenticate().await?;
        Ok(client)
    }

    /// Database name.
    pub fn db(&self) -> &str {
        &self.inner.db
    }

    /// Rows per page for reads.
    pub fn page_size(&self) -> usize {
        self.inner.page_size
    }

    /// The client's default context (clone it and adjust per call).
    pub fn context(&self) -> Context {
        self.inner.context.clone()
    }

    /// The server version (`common.version`, asked once).
    pub async fn version(&self) -> Result<&ServerVersion, Error> {
        self.inner
            .version
            .get_or_try_init(|| async {
                let v = self
                    .send(Service::Common, "version", Vec::new(), true)
                    .await
                    .map_err(|e| e.with_call("common", "version"))?;
                ServerVersion::from_value(&v).map_err(|e| Error::decode(&e).with_call("common", "version"))
            })
            .await
    }

    /// The field profile of the server's version (detected once; unsupported versions fail).
    pub async fn profile(&self) -> Result<&Profile, Error> {
        self.inner
            .profile
            .get_or_try_init(|| async {
                let v = self.version().await?;
                let p = Profile::for_version(v)?;
                tracing::info!(version = %v.server_version, support = ?p.support, "OpenERP version detected");
                Ok(p)
            })
            .await
    }

    /// Logs in once and returns the uid. Wrong credentials (`authenticate` answers `False`) give
    /// [`ErrorKind::AccessDenied`] "wrong login or password for database X".
    pub async fn authenticate(&self) -> Result<i64, Error> {
        self.inner
            .uid
            .get_or_try_init(|| async {
                let inner = &self.inner;
                let params = vec![
                    Value::String(inner.db.clone()),
                    Value::String(inner.user.clone()),
                    Value::String(inner.password.expose().to_owned()),
                    Value::Struct(Map::new()),
                ];
                let v = self.send(Service::Common, "authenticate", params, true).await.map_err(|e| {
                    let e = if e.kind() == ErrorKind::UnknownDatabase {
                        Error::new(
                            ErrorKind::UnknownDatabase,
                            format!("database {:?} does not exist on {}", inner.db, inner.common.url()),
                        )
                    } else {
                        e
                    };
                    e.with_call("common", "authenticate")
                })?;
                match v {
                    Value::Boolean(false) => Err(Error::new(
                        ErrorKind::AccessDenied,
                        format!("wrong login or password for database {:?} (login {:?})", inner.db, inner.user),
                    )
                    .with_call("common", "authenticate")),
                    other => {
                        value::to_i64("uid", &other).map_err(|e| Error::decode(&e).with_call("common", "authenticate"))
                    }
                }
            })
            .await
            .copied()
    }

    /// `execute_kw(model, method, args, kwargs)` with the client's context merged under any
    /// `context` given in `kwargs`.
    pub async fn execute_kw(&self, model: &str, method: &str, args: Vec<Value>, kwargs: Map) -> Result<Value, Error> {
        let mut req = Request::new(model, method);
        req.args = args;
        req.kwargs = kwargs;
        self.call(req).await
    }

    /// Sends one request (see [`Request`]). The first call detects the version (refusing
    /// unsupported ones) and logs in.
    pub async fn call(&self, req: Request) -> Result<Value, Error> {
        let Request { model, method, args, mut kwargs, context, ids, idempotent } = req;
        let fail = |e: Error| e.with_call(&model, &method).with_ids(&ids);
        // Version first: an unsupported server is refused before any object call.
        self.profile().await?;
        let uid = self.authenticate().await?;
        let idempotent = idempotent.unwrap_or_else(|| READ_METHODS.contains(&method.as_str()));
        let ctx = context.unwrap_or_else(|| self.inner.context.clone());
        let merged = match kwargs.remove("context") {
            Some(Value::Struct(given)) => {
                let mut base = ctx.to_map();
                base.extend(given);
                Value::Struct(base)
            }
            _ => ctx.to_value(),
        };
        kwargs.insert("context".into(), merged);
        let mut args = Value::Array(args);
        let mut kwargs = Value::Struct(kwargs);
        check_outgoing(&mut args, "args").map_err(fail)?;
        check_outgoing(&mut kwargs, "kwargs").map_err(fail)?;
        let params = vec![
            Value::String(self.inner.db.clone()),
            id_value(uid),
            Value::String(self.inner.password.expose().to_owned()),
            Value::String(model.clone()),
            Value::String(method.clone()),
            args,
            kwargs,
        ];
        let span = tracing::debug_span!("openerp", model = %model, method = %method);
        self.send(Service::Object, "execute_kw", params, idempotent).instrument(span).await.map_err(|e| {
            // Odoo reports an unknown uid as a missing res.users record (recording 0690).
            if e.kind() == ErrorKind::NotFound && e.message().contains(&format!("res.users({uid},)")) {
                fail(Error::new(
                    ErrorKind::AccessDenied,
                    format!("user id {uid} does not exist in database {:?}", self.inner.db),
                ))
            } else {
                fail(e)
            }
        })
    }

    /// Calls a method that may return `None`. Odoo cannot marshal `None` and answers with fault
    /// 1 "cannot marshal None…" *after committing*; exactly that fault gives `Ok(None)`. Verify
    /// the effect by reading (see [`OpenErpClient::call_verified`]).
    pub async fn call_none_ok(&self, req: Request) -> Result<Option<Value>, Error> {
        match self.call(req).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_none_return() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Calls a record-style method whose return value is not to be trusted (`None` fault,
    /// wizard action), then reads `field` back on the request's ids (archived included) and
    /// checks it equals `expected` on every record. A mismatch gives [`ErrorKind::Unverified`].
    pub async fn call_verified(&self, req: Request, field: &str, expected: &Value) -> Result<(), Error> {
        let (model, method, ids) = (req.model.clone(), req.method.clone(), req.ids.clone());
        let ctx = req.context.clone().unwrap_or_else(|| self.context()).with_active_test(false);
        self.call_none_ok(req).await?;
        let read = Request::new(&model, "read")
            .on_ids(&ids)
            .kw("fields", value::array([Value::String(field.to_owned())]))
            .context(&ctx);
        let rows = self.call(read).await?;
        let rows = value::to_array("read", &rows).map_err(|e| Error::decode(&e))?;
        let mut seen = Vec::with_capacity(rows.len());
        for row in rows.iter() {
            let rec = Record::from_value(row, &model).map_err(|e| Error::decode(&e))?;
            let id = rec.i64("id").map_err(|e| Error::decode(&e))?;
            let got = rec.get(field).cloned().unwrap_or(Value::Boolean(false));
            if !same_value(&got, expected) {
                return Err(Error::new(
                    ErrorKind::Unverified,
                    format!(
                        "after {method}, `{field}` of record {id} is {} instead of {}",
                        value::describe(&got),
                        value::describe(expected)
                    ),
                )
                .with_call(&model, &method)
                .with_ids(&ids));
            }
            seen.push(id);
        }
        if let Some(missing) = ids.iter().find(|i| !seen.contains(i)) {
            return Err(Error::new(ErrorKind::Unverified, format!("after {method}, record {missing} cannot be read"))
                .with_call(&model, &method)
                .with_ids(&ids));
        }
        Ok(())
    }

    /// Field metadata of a model (`fields_get`, cached per client).
    pub async fn fields(&self, model: &str) -> Result<Arc<BTreeMap<String, FieldInfo>>, Error> {
        if let Some(hit) = self.field_cache().get(model) {
            return Ok(Arc::clone(hit));
        }
        let req = Request::new(model, "fields_get")
            .kw("attributes", value::array(["type", "string", "relation"].map(|s| Value::String(s.into()))));
        let v = self.call(req).await?;
        let map = value::to_map("fields_get", &v).map_err(|e| Error::decode(&e).with_call(model, "fields_get"))?;
        let mut out = BTreeMap::new();
        for (name, meta) in map.iter() {
            let rec = Record::from_value(meta, name).map_err(|e| Error::decode(&e).with_call(model, "fields_get"))?;
            out.insert(
                name.clone(),
                FieldInfo {
                    kind: rec.string_or_empty("type")?,
                    string: rec.string_or_empty("string")?,
                    relation: rec.opt_string("relation")?,
                },
            );
        }
        let out = Arc::new(out);
        self.field_cache().insert(model.to_owned(), Arc::clone(&out));
        Ok(out)
    }

    /// True when `model` has `field` on this server (e.g. `carrier_tracking_ref` needs the
    /// `delivery` module).
    pub async fn has_field(&self, model: &str, field: &str) -> Result<bool, Error> {
        Ok(self.fields(model).await?.contains_key(field))
    }

    fn field_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<BTreeMap<String, FieldInfo>>>> {
        // A poisoned cache only means another task panicked mid-insert; the map is still valid.
        self.inner.fields.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn send(&self, service: Service, method: &str, params: Vec<Value>, idempotent: bool) -> Result<Value, Error> {
        let transport = match service {
            Service::Common => &self.inner.common,
            Service::Object => &self.inner.object,
        };
        let backoff = self.inner.backoff;
        let attempts = backoff.attempts.max(1);
        let mut attempt = 1;
        loop {
            let result = transport.call(method, params.clone()).await;
            let call_error = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let err = Error::from_call(&call_error).scrubbed(&self.inner.password);
            let is_fault = call_error.fault().is_some();
            let retry = err.is_transient() && (is_fault || idempotent);
            if retry && attempt < attempts {
                let delay = backoff.delay(attempt);
                tracing::warn!(
                    attempt,
                    of = attempts,
                    delay_ms = delay.as_millis() as u64,
                    "OpenERP call failed, retrying: {err}"
                );
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            return Err(if idempotent || is_fault { err } else { err.into_uncertain() });
        }
    }
}

/// Equality for read-back checks: a many2one `[id, name]` equals its id, doubles compare as
/// numbers, `False` equals an empty x2many.
fn same_value(got: &Value, expected: &Value) -> bool {
    match (got, expected) {
        (Value::Array(pair), Value::Integer(id)) if pair.len() == 2 => pair[0] == Value::Integer(*id),
        (Value::Double(a), Value::Double(b)) => (a - b).abs() < 1e-9,
        (Value::Array(a), Value::Boolean(false)) | (Value::Boolean(false), Value::Array(a)) => a.is_empty(),
        _ => got == expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::value::{int, string};

    #[test]
    fn read_back_equality_is_lenient_where_odoo_is() {
        assert!(same_value(&value::array([int(3), string("x")]), &int(3)));
        assert!(same_value(&Value::Array(vec![]), &Value::Boolean(false)));
        assert!(same_value(&string("cancel"), &string("cancel")));
        assert!(!same_value(&string("sale"), &string("cancel")));
    }

    #[test]
    fn client_futures_are_send_so_jobs_can_be_spawned() {
        fn send<T: Send>(_: &T) {}
        let ep = OpenErpEndpoint {
            url: "http://127.0.0.1:9".into(),
            db: "db".into(),
            user: "u".into(),
            password: Secret::new("p"),
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            retries: 1,
            page_size: 10,
        };
        let c = OpenErpClient::new(&ep).unwrap();
        let ctx = c.context();
        send(&c.call(Request::new("res.partner", "search")));
        send(&c.read_products(&[1], &ctx));
        send(&c.product_pages(&super::super::wire::Domain::new(), &ctx));
        let mut pages = c.pages("res.partner", &super::super::wire::Domain::new(), &["name"], &ctx);
        send(&pages.next_page());
        send(&c.backend_settings("shop", &ctx));
        send(&c.read_price_book(1, &ctx));
        send(&c.confirm_order(1, None, &ctx));
        send(&c.order_pickings(1, true, &ctx));
        send(&c.unlink("res.partner", &[1], &ctx));
        fn sync<T: Send + Sync + Clone>(_: &T) {}
        sync(&c);
    }

    #[test]
    fn request_builder_puts_ids_first() {
        let r = Request::new("sale.order", "action_confirm").arg(int(9)).on_ids(&[25]);
        assert_eq!(r.args[0], value::array([int(25)]));
        assert_eq!(r.ids(), &[25]);
        assert_eq!((r.model(), r.method()), ("sale.order", "action_confirm"));
    }
}
