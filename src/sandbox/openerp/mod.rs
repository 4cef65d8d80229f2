//! Emulated Odoo 17 external API (`/xmlrpc/2/*` and the legacy `/xmlrpc/*`), with the models the
//! connector uses and the `magento_connector` addon's models.
//!
//! It answers like the real server in `../shared/recordings/odoo17`: `False` for every empty
//! value and never `<nil/>`, many2one as `[id, display_name]`, dates as strings, integer fault
//! codes 1–4 on `/xmlrpc/2` and text codes on `/xmlrpc`, `None`-returning methods answered with
//! fault 1 after their work is committed, int4 limits, sale order amounts rounded per line,
//! `action_confirm` overwriting `date_order`, deliveries and forecasts per warehouse.
//!
//! * [`orm`]: the in-memory ORM (models, domains, transactions, generic methods).
//! * [`models`]: the Odoo models and their business behaviour.
//! * [`data`]: what the database starts with (demo or recording profile, generated sizes).
//! * [`server`]: HTTP routes, services, knobs.
//! * [`views`]: typed read helpers and user actions for tests (deliver, invoice, cancel, …).
//! * [`error`]: Odoo's exceptions and their fault encodings.
//!
//! Test-only hooks plant what the ORM cannot hold: `with_db` + `Db::set_stored` with a
//! `Val::Wire` stores a mistyped wire value, [`OpenErpSandbox::rewrite_answers`] edits the raw
//! text of every answer (e.g. a lone surrogate's `&#55357;`).
//!
//! This module owns nothing outside `src/sandbox/openerp/`; it reads the shared seed
//! ([`crate::sandbox::seed`]) and uses the shared knobs and dispatcher without changing them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), magento_connector::sandbox::openerp::SandboxError> {
//! use magento_connector::sandbox::openerp::{OpenErpSandbox, Options};
//! let erp = OpenErpSandbox::start(Options::default()).await?;
//! let url = format!("{}/xmlrpc/2/object", erp.url());
//! # let _ = url;
//! erp.shutdown().await;
//! # Ok(()) }
//! ```

pub mod data;
pub mod error;
pub mod models;
pub mod orm;
pub mod server;
pub mod views;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::NaiveDateTime;
use dxr::Value;

pub use self::data::{Generated, Profile, SeedIds};
pub use self::error::OdooError;
pub use self::models::Modules;
use self::orm::Db;
use self::orm::domain::Domain;
use self::server::{App, KillListener, Shared};
pub use self::views::{InvoiceLine, OrderLineView, OrderView, PartnerView, StockView};
use crate::rpc::dispatch::Limits;
use crate::rpc::value::Map;
use crate::sandbox::knobs::Knobs;

/// Why the sandbox could not start or a helper failed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Binding or serving failed.
    #[error("openerp sandbox: {0}")]
    Io(#[from] std::io::Error),
    /// The model definitions or the seed could not be built.
    #[error("openerp sandbox setup: {0}")]
    Setup(String),
    /// The emulated server refused an operation (the message Odoo would give).
    #[error("{0}")]
    Odoo(#[from] OdooError),
}

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct Options {
    /// Data set.
    pub profile: Profile,
    /// Generated benchmark data (demo profile only).
    pub generated: Generated,
    /// Optional Odoo modules.
    pub modules: Modules,
    /// Database name.
    pub db_name: String,
    /// Login of the API user (uid 2).
    pub login: String,
    /// Password of the API user.
    pub password: String,
    /// Dispatcher limits.
    pub limits: Limits,
    /// Address to bind (`127.0.0.1:0` picks a free port).
    pub addr: SocketAddr,
    /// A frozen clock (`None`: the real time).
    pub clock: Option<NaiveDateTime>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: Profile::Demo,
            generated: Generated::default(),
            modules: Modules::default(),
            db_name: "connector".into(),
            login: "admin".into(),
            password: "admin".into(),
            limits: Limits::default(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            clock: None,
        }
    }
}

impl Options {
    /// The records and ids of the recordings, without the `delivery` module (as recorded).
    pub fn recording() -> Options {
        Options { profile: Profile::Recording, modules: Modules { delivery: false }, ..Options::default() }
    }

    /// The demo data with `products` generated products spread over `categories` generated
    /// categories (benchmarks).
    pub fn with_generated(categories: usize, products: usize) -> Options {
        Options { generated: Generated { categories, products }, ..Options::default() }
    }
}

/// A running emulated Odoo 17 server.
pub struct OpenErpSandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    login: String,
    password: String,
    ids: SeedIds,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// A domain leaf for the helpers: `(field, operator, value)`.
pub type Leaf<'a> = (&'a str, &'a str, Value);

fn domain_of(leaves: &[Leaf<'_>]) -> Domain {
    Domain::and(leaves.iter().map(|(f, o, v)| Domain::leaf(f, o, v.clone())))
}

/// Builds and fills a database without serving it (for in-process tests of the ORM and seeds).
pub fn build_db(options: &Options) -> Result<(Db, SeedIds), SandboxError> {
    let reg = models::registry(options.modules).map_err(SandboxError::Setup)?;
    let mut db = Db::new(Arc::new(reg));
    db.set_clock(options.clock);
    let ids = data::load(&mut db, options.profile, options.generated, options.modules)?;
    Ok((db, ids))
}

impl OpenErpSandbox {
    /// Builds the database, binds the address and starts serving.
    pub async fn start(options: Options) -> Result<OpenErpSandbox, SandboxError> {
        let opts = options.clone();
        let (mut db, ids) = tokio::task::spawn_blocking(move || build_db(&opts))
            .await
            .map_err(|e| SandboxError::Setup(e.to_string()))??;
        if options.login != "admin" {
            let login = orm::val::Vals::new().with("login", orm::val::Val::Str(options.login.clone()));
            db.write(&orm::Ctx::user(1), "res.users", &[2], login)?;
        }
        let passwords = HashMap::from([(2, options.password.clone())]);
        let shared = Arc::new(Shared::new(db, options.db_name.clone(), passwords));
        let listener = tokio::net::TcpListener::bind(options.addr).await?;
        let addr = listener.local_addr()?;
        let app = App::new(Arc::clone(&shared), options.limits).router();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let service = app.into_make_service_with_connect_info::<server::ConnInfo>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(KillListener::new(listener), service).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!("openerp sandbox stopped: {e}");
            }
        });
        tracing::info!(%addr, "openerp sandbox listening");
        Ok(OpenErpSandbox {
            shared,
            addr,
            login: options.login,
            password: options.password,
            ids,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (append `/xmlrpc/2/common`, `/xmlrpc/2/object`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Database name.
    pub fn db(&self) -> &str {
        &self.shared.db_name
    }

    /// Login of the API user.
    pub fn login(&self) -> &str {
        &self.login
    }

    /// Password of the API user.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// uid of the API user (always 2, as in a fresh Odoo).
    pub fn uid(&self) -> i64 {
        2
    }

    /// The connection settings of this sandbox as the connector's configuration has them.
    pub fn endpoint(&self) -> crate::config::OpenErpEndpoint {
        crate::config::OpenErpEndpoint {
            url: self.url(),
            db: self.db().to_owned(),
            user: self.login.clone(),
            password: crate::secret::Secret::new(self.password.clone()),
            connect_timeout: std::time::Duration::from_secs(5),
            timeout: std::time::Duration::from_secs(30),
            retries: 3,
            page_size: 500,
        }
    }

    /// Latency, injection and counters (`model.method` per call, HTTP requests).
    pub fn knobs(&self) -> &Knobs {
        &self.shared.knobs
    }

    /// Test-only: replaces `from` by `to` in the text of every later answer of the object,
    /// common and db services, e.g. a marker by a raw character reference no string value can
    /// hold (`&#55357;`, as Python's XML-RPC writes a lone surrogate).
    pub fn rewrite_answers(&self, from: &str, to: &str) {
        self.shared
            .rewrites
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((from.to_owned(), to.to_owned()));
    }

    /// Ids of notable seeded records (warehouses, taxes, backend, ...).
    pub fn seed_ids(&self) -> &SeedIds {
        &self.ids
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        }
    }

    /// Freezes the clock (`None`: real time again).
    pub fn set_clock(&self, at: Option<NaiveDateTime>) {
        self.shared.lock().set_clock(at);
    }

    /// Runs `f` on the database (one transaction; rolled back when `f` fails).
    pub fn with_db<R>(&self, f: impl FnOnce(&mut Db) -> Result<R, OdooError>) -> Result<R, SandboxError> {
        let mut db = self.shared.lock();
        db.begin();
        match f(&mut db) {
            Ok(r) => {
                db.commit();
                Ok(r)
            }
            Err(e) => {
                db.rollback();
                Err(e.into())
            }
        }
    }

    /// Calls a model method as the API user, exactly as `execute_kw` would (without HTTP or
    /// knobs). A `None` result is `Ok(Value::Boolean(true))` here (the work is committed).
    pub fn call(&self, model: &str, method: &str, args: Vec<Value>, kwargs: Map) -> Result<Value, SandboxError> {
        match self.shared.execute(2, model, method, args, kwargs) {
            Ok(v) => Ok(v),
            Err(e) if e.is_none_result() => Ok(Value::Boolean(true)),
            Err(e) => Err(e.into()),
        }
    }

    /// Ids matching `leaves` (AND), archived records included, in the model's order.
    pub fn search(&self, model: &str, leaves: &[Leaf<'_>]) -> Result<Vec<i64>, SandboxError> {
        let ctx = orm::Ctx::user(2).with_active_test(false);
        Ok(self.shared.lock().search_all(&ctx, model, &domain_of(leaves))?)
    }

    /// Number of records matching `leaves` (archived included).
    pub fn count(&self, model: &str, leaves: &[Leaf<'_>]) -> Result<usize, SandboxError> {
        Ok(self.search(model, leaves)?.len())
    }

    /// One record as `read` returns it over XML-RPC (`None` when it does not exist).
    pub fn read(&self, model: &str, id: i64, fields: &[&str]) -> Result<Option<Map>, SandboxError> {
        let db = self.shared.lock();
        let def = db.def(model)?;
        let names: Vec<String> = fields.iter().map(|s| (*s).to_owned()).collect();
        let ctx = orm::Ctx::user(2).with_active_test(false);
        let rows = orm::rpc::read(&db, &ctx, &def, &[id], Some(&names), true)?;
        Ok(rows.into_iter().next().and_then(|v| match v {
            Value::Struct(m) => Some(m),
            _ => None,
        }))
    }

    /// Creates a record from XML-RPC values (as `create` over RPC).
    pub fn create(&self, model: &str, vals: Map) -> Result<i64, SandboxError> {
        let v = self.call(model, "create", vec![Value::Struct(vals)], Map::new())?;
        crate::rpc::value::to_i64("id", &v).map_err(|e| SandboxError::Setup(e.to_string()))
    }

    /// Writes XML-RPC values on records (as `write` over RPC).
    pub fn write(&self, model: &str, ids: &[i64], vals: Map) -> Result<(), SandboxError> {
        let ids = Value::Array(ids.iter().map(|i| crate::rpc::value::id(*i)).collect());
        self.call(model, "write", vec![ids, Value::Struct(vals)], Map::new())?;
        Ok(())
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Drop for OpenErpSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
