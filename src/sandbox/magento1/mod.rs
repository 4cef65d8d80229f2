//! A faithful in-process Magento 1 / OpenMage 19.4 XML-RPC server (`/api/xmlrpc/`).
//!
//! It answers like the real server recorded in `../shared/recordings/magento1/`: Zend's
//! protocol faults and strict signature check, API sessions with a sliding timeout, resource
//! aliases, the fault tables and their resolution rule, PHP 8.2 value types (`<int>` ids,
//! `'149.9900'` money, `<nil/>`, `[]` for empty hashes, ISO `created_at` on EAV `info`), and the
//! resources a connector needs: stores, directory, categories, products (store-level values,
//! numeric SKUs, duplicate SKUs, media, stock), customers and addresses, orders with invoices,
//! shipments, tracks and the order state machine.
//!
//! # Seeded shop
//! From [`crate::sandbox::seed`]: three store views (default/fr on website 1 under category 2,
//! wholesale on website 2 under category 12 "Wholesale Root"), categories 1–12 as recorded,
//! the products with a `magento_id` plus the configurable `CLO-TSHIRT` (19) over the six
//! T-shirt variants, customers 1–4 with their address books, and these orders (all
//! `new/pending`):
//!
//! | increment | what it shows |
//! |---|---|
//! | `100000001` | John, coupon `CONNECTOR10` (10 %), billing NY / shipping CA, tax 8.25 % after discount (totals 230.28 as recorded) |
//! | `100000002` | guest, configurable line (parent with money + child at 0), NY tax, a virtual item |
//! | `200000001` | Emily in store `fr`: EUR order currency at 0.9, address book, configurable |
//! | `100000003` | Jane, `SAVE5` fixed-amount discount spread over the rows |
//! | `100000004` | Carlos, with `ELEC-HDPH-001`, the SKU OpenERP does not know |
//! | `100000005` | John again, new shipping address, taxed shipping |
//! | `300000001` | guest in the wholesale store (website 2) |
//!
//! Tests and benchmarks add more with [`MagentoSandbox::add_order`] and
//! [`MagentoSandbox::generate_orders`], and can load a large catalog with
//! [`MagentoSandbox::insert_products`]. Test-only hooks plant data the model cannot express:
//! [`MagentoSandbox::tamper_order`] edits an order's `sales_order.info` answer,
//! [`MagentoSandbox::rewrite_answers`] edits the raw text of every answer.
//!
//! # Layout
//! `server` (HTTP, injection), `handler` (top-level methods, checks, deadlocks), `signature`,
//! `session`, `api_config` (resources, faults, users), `resources/*` (one module per resource
//! family), `model/*` (data), `orders` (order builder), `seeding`, `filters`, `php` (value
//! shapes), `directory`, `inspect` (read-only views).
//!
//! This module owns the Magento emulation only; it must not touch the OpenERP sandbox or the
//! connector's own code.

mod api_config;
mod args;
mod directory;
mod faults;
mod filters;
mod handler;
mod inspect;
mod model;
mod orders;
mod php;
mod resources;
mod seeding;
mod server;
mod session;
mod signature;

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use rust_decimal::Decimal;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use api_config::{Acl, ApiUser, default_users};
pub use inspect::{
    CategoryView, HistoryView, InvoiceView, MediaView, OrderItemView, OrderView, ProductView, ShipmentView, StockView,
    TotalsView, TrackView,
};
pub use model::{CouponRule, DiscountAction};
pub use orders::{AddressSpec, CustomerSpec, LineSpec, NewAddress, OrderBuildError, OrderSpec, TaxCalculation};
pub use signature::MultiCallPrototype;

use handler::{Deadlocks, SandboxState, lock};
use model::catalog::{Product, StockItem};
use session::Sessions;

use crate::rpc::dispatch::Limits;
use crate::sandbox::knobs::Knobs;
use crate::sandbox::seed::{self, SeedProduct};
use crate::secret::Secret;

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Address to bind (default `127.0.0.1:0`: a free loopback port).
    pub bind: SocketAddr,
    /// `api/config/session_timeout` (default 3600 s, sliding).
    pub session_timeout: Duration,
    /// `true` (default): OpenMage 19.4, `multiCall(string, array[, array])`. `false`: OpenMage
    /// ≥ 20.11, where a standard multiCall gets fault 623 (`magento.info` then reports 20.11.0).
    pub multicall_enabled: bool,
    /// API users (default: `connector`/`connector123` with all rights, `limited`/`limited123`
    /// with `catalog_product.info` only).
    pub users: Vec<ApiUser>,
    /// Seed of every random choice (session ids, protect codes, injection of deadlocks,
    /// generated orders).
    pub seed: u64,
    /// Place the seeded orders at start (default true).
    pub seed_orders: bool,
    /// Share (0–1) of write calls that deadlock while another write request is in flight.
    pub deadlock_rate: f64,
    /// Share (0–1) of those deadlocks where the write was applied anyway ("phantom" writes).
    pub phantom_rate: f64,
    /// Body size, nesting and per-call time limits.
    pub limits: Limits,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            session_timeout: Duration::from_secs(3600),
            multicall_enabled: true,
            users: default_users(),
            seed: 1,
            seed_orders: true,
            deadlock_rate: 0.0,
            phantom_rate: 0.0,
            limits: Limits { max_body_bytes: 32 * 1024 * 1024, ..Limits::default() },
        }
    }
}

/// API credentials of one user.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// API user name.
    pub username: String,
    /// API key.
    pub api_key: Secret,
}

/// A running Magento 1 sandbox.
pub struct MagentoSandbox {
    url: String,
    base_url: String,
    state: Arc<SandboxState>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    order_rng: Mutex<fastrand::Rng>,
}

impl std::fmt::Debug for MagentoSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MagentoSandbox").field("url", &self.url).finish_non_exhaustive()
    }
}

impl MagentoSandbox {
    /// Binds, seeds the shop and starts serving.
    pub async fn start(options: SandboxOptions) -> std::io::Result<MagentoSandbox> {
        let listener = tokio::net::TcpListener::bind(options.bind).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let version = if options.multicall_enabled { "19.4.23" } else { "20.11.0" };
        let mut shop = seeding::build_shop(base_url.clone(), version, options.seed, Utc::now());
        if !options.seed_orders {
            shop.sales = model::sales::Sales::default();
        }
        let state = Arc::new(SandboxState {
            shop: Mutex::new(shop),
            sessions: Mutex::new(Sessions::new(options.session_timeout, options.seed.wrapping_add(17))),
            knobs: Arc::new(Knobs::default()),
            users: options.users.clone(),
            multicall: if options.multicall_enabled { MultiCallPrototype::Array } else { MultiCallPrototype::Struct },
            writes_in_flight: AtomicUsize::new(0),
            deadlocks: Mutex::new(Deadlocks {
                rate: options.deadlock_rate.clamp(0.0, 1.0),
                phantom: options.phantom_rate.clamp(0.0, 1.0),
                rng: fastrand::Rng::with_seed(options.seed.wrapping_add(31)),
            }),
            tampered: Mutex::new(Default::default()),
            rewrites: Mutex::new(Vec::new()),
        });
        let (stop, stop_rx) = watch::channel(false);
        let app = Arc::new(server::App {
            registry: Arc::new(handler::registry()),
            state: Arc::clone(&state),
            limits: options.limits,
            shutdown: stop_rx.clone(),
        });
        let router = server::router(app);
        let mut graceful = stop_rx;
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = graceful.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
                tracing::error!("magento sandbox stopped: {e}");
            }
        });
        tracing::info!(%addr, "magento1 sandbox listening");
        Ok(MagentoSandbox {
            url: format!("{base_url}/api/xmlrpc/"),
            base_url,
            state,
            stop,
            task: Some(task),
            order_rng: Mutex::new(fastrand::Rng::with_seed(options.seed.wrapping_add(101))),
        })
    }

    /// The XML-RPC endpoint (`http://127.0.0.1:<port>/api/xmlrpc/`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The shop base URL (`http://127.0.0.1:<port>`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Credentials of the first API user with all rights (`connector` / `connector123`).
    pub fn credentials(&self) -> Credentials {
        let u = self.state.users.iter().find(|u| u.acl == Acl::All).or_else(|| self.state.users.first());
        u.map_or_else(
            || Credentials { username: String::new(), api_key: Secret::default() },
            |u| Credentials { username: u.username.clone(), api_key: u.api_key.clone() },
        )
    }

    /// Credentials of a restricted user, if one is configured (`limited` / `limited123`).
    pub fn limited_credentials(&self) -> Option<Credentials> {
        self.state
            .users
            .iter()
            .find(|u| u.acl != Acl::All)
            .map(|u| Credentials { username: u.username.clone(), api_key: u.api_key.clone() })
    }

    /// Latency, injection and call counters (`count("catalog_product.create")`, HTTP
    /// `requests()`); each `multiCall` item counts under its own canonical path.
    pub fn knobs(&self) -> &Arc<Knobs> {
        &self.state.knobs
    }

    /// Stops serving; requests held by an injected timeout are dropped.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task).await.is_err() {
                abort.abort();
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Test controls

    /// Ages every live session past the timeout (their next call gets fault 5).
    pub fn expire_all_sessions(&self) {
        lock(&self.state.sessions).expire_all();
    }

    /// Changes the sliding session timeout.
    pub fn set_session_timeout(&self, timeout: Duration) {
        lock(&self.state.sessions).set_timeout(timeout);
    }

    /// Sessions that would still be accepted.
    pub fn live_sessions(&self) -> usize {
        lock(&self.state.sessions).live()
    }

    /// Changes the deadlock emulation: `rate` of write calls deadlock while another write
    /// request is in flight, `phantom_rate` of those were applied anyway; reseeds it.
    pub fn set_deadlocks(&self, rate: f64, phantom_rate: f64, seed: u64) {
        let mut d = lock(&self.state.deadlocks);
        d.rate = rate.clamp(0.0, 1.0);
        d.phantom = phantom_rate.clamp(0.0, 1.0);
        d.rng = fastrand::Rng::with_seed(seed);
    }

    /// Test-only: every later `sales_order.info` answer about order `increment_id` goes
    /// through `f` before it is sent (before `processingRow`, like data read from the
    /// database), to plant what a shop's database can hold and the order model cannot: missing
    /// or mistyped fields, absurd numbers, broken texts.
    pub fn tamper_order(&self, increment_id: &str, f: impl Fn(&mut dxr::Value) + Send + Sync + 'static) {
        lock(&self.state.tampered).insert(increment_id.to_owned(), Arc::new(f));
    }

    /// Test-only: replaces `from` by `to` in the text of every later answer, e.g. a marker
    /// string by a raw character reference no string value can hold (`&#55357;`).
    pub fn rewrite_answers(&self, from: &str, to: &str) {
        lock(&self.state.rewrites).push((from.to_owned(), to.to_owned()));
    }

    // ------------------------------------------------------------------------------------
    // Data setup

    /// Places an order (see [`OrderSpec`]) and returns its increment id.
    pub fn add_order(&self, spec: &OrderSpec) -> Result<String, OrderBuildError> {
        orders::place_order(&mut lock(&self.state.shop), spec, Utc::now())
    }

    /// Places `n` reproducible orders of `lines_per_order` lines each (registered customers and
    /// guests, stores 1–3, every fourth with `CONNECTOR10`), returns their increment ids.
    pub fn generate_orders(&self, n: usize, lines_per_order: usize) -> Vec<String> {
        let mut rng = lock(&self.order_rng);
        let mut shop = lock(&self.state.shop);
        let skus: Vec<String> = shop
            .catalog
            .products()
            .filter(|p| matches!(p.type_id.as_str(), "simple" | "virtual") && p.website_ids.contains(&1))
            .map(|p| p.sku.clone())
            .collect();
        let guest = seed::customers().into_iter().find(|c| c.magento_id.is_none());
        let mut out = Vec::with_capacity(n);
        if skus.is_empty() {
            return out;
        }
        for i in 0..n {
            let lines: Vec<LineSpec> = (0..lines_per_order.max(1))
                .map(|_| LineSpec::new(&skus[rng.usize(0..skus.len())], rng.u32(1..=3)))
                .collect();
            let store = match i % 10 {
                9 => 2,
                8 => 3,
                _ => 1,
            };
            let spec_customer = match (i % 5, &guest) {
                (4, Some(g)) if store != 2 => None.or(Some((
                    CustomerSpec::Guest {
                        email: g.email.into(),
                        firstname: g.firstname.into(),
                        lastname: g.lastname.into(),
                    },
                    AddressSpec::New(g.addresses.first().map(NewAddress::from_seed).unwrap_or_else(fallback_address)),
                ))),
                _ => None,
            };
            let (customer, address) = spec_customer.unwrap_or_else(|| {
                let cid = if store == 2 { 4 } else { [1, 2, 3][i % 3] };
                let aid = shop
                    .customers
                    .customer(cid)
                    .and_then(|c| c.int("default_billing"))
                    .or_else(|| shop.customers.addresses_of(cid).first().map(|a| a.id));
                match aid {
                    Some(a) => (CustomerSpec::Registered(cid), AddressSpec::Book(a)),
                    None => (
                        CustomerSpec::Guest {
                            email: format!("generated{i}@example.org"),
                            firstname: "Gen".into(),
                            lastname: format!("Buyer {i}"),
                        },
                        AddressSpec::New(fallback_address()),
                    ),
                }
            });
            let mut spec = OrderSpec::new(store, customer, address, lines);
            if i % 4 == 3 {
                spec.coupon = Some("CONNECTOR10".into());
            }
            match orders::place_order(&mut shop, &spec, Utc::now()) {
                Ok(inc) => out.push(inc),
                Err(e) => tracing::warn!("generated order {i} not placed: {e}"),
            }
        }
        out
    }

    /// Inserts products straight into the shop (website 1, in the Magento category of their
    /// seed category when it has one, stock from warehouse 1), e.g. a 100,000-product catalog
    /// from [`seed::generated_products`]. Products without SKU or with a SKU already present
    /// are skipped. Returns the new ids.
    pub fn insert_products(&self, products: &[SeedProduct]) -> Vec<i64> {
        let categories = seed::categories();
        let mut shop = lock(&self.state.shop);
        let now = Utc::now();
        let mut ids = Vec::with_capacity(products.len());
        for sp in products {
            let Some(sku) = sp.sku.as_deref() else {
                continue;
            };
            if shop.catalog.id_by_sku(sku).is_some() {
                continue;
            }
            let id = shop.catalog.allocate_product_id();
            let type_id = if sp.kind == seed::ProductKind::Service { "virtual" } else { "simple" };
            let mut values = model::catalog::Values::new();
            let s = |v: &str| dxr::Value::String(v.to_owned());
            values.insert("name".into(), s(&sp.name));
            values.insert("description".into(), s(&sp.description));
            values.insert("short_description".into(), s(&sp.short_description));
            values.insert("price".into(), php::money(sp.price.parse::<Decimal>().unwrap_or_default()));
            if type_id == "simple" {
                values.insert("weight".into(), php::money(sp.weight.parse::<Decimal>().unwrap_or_default()));
            }
            values.insert("status".into(), php::int(1));
            values.insert("visibility".into(), php::int(4));
            values.insert("tax_class_id".into(), php::int(if sp.tax == seed::TaxKey::NoTax { 0 } else { 2 }));
            let key = seeding::url_key(&sp.name);
            values.insert("url_path".into(), s(&format!("{key}.html")));
            values.insert("url_key".into(), s(&key));
            values.insert("options_container".into(), s("container1"));
            let category = categories.iter().find(|c| c.key == sp.category).and_then(|c| c.magento_id);
            shop.catalog.put_product(Product {
                id,
                sku: sku.to_owned(),
                type_id: type_id.into(),
                set_id: sp.attribute_set,
                values,
                store_values: Default::default(),
                website_ids: [1].into(),
                category_ids: category.into_iter().collect(),
                created_at: now,
                updated_at: now,
                has_options: 0,
                required_options: 0,
                stock: if type_id == "virtual" {
                    StockItem::unmanaged()
                } else {
                    StockItem::managed(Decimal::try_from(sp.stock[0].on_hand).unwrap_or_default())
                },
                media: Vec::new(),
                children: Vec::new(),
                super_attributes: Vec::new(),
            });
            ids.push(id);
        }
        ids
    }

    // ------------------------------------------------------------------------------------
    // Inspection

    /// A product by SKU (case-insensitive, like Magento).
    pub fn product(&self, sku: &str) -> Option<ProductView> {
        let shop = lock(&self.state.shop);
        shop.catalog.id_by_sku(sku).and_then(|id| shop.catalog.product(id)).map(inspect::product_view)
    }

    /// A product by id.
    pub fn product_by_id(&self, id: i64) -> Option<ProductView> {
        lock(&self.state.shop).catalog.product(id).map(inspect::product_view)
    }

    /// Stock of a product by SKU.
    pub fn stock(&self, sku: &str) -> Option<StockView> {
        self.product(sku).map(|p| p.stock)
    }

    /// Media gallery of a product by SKU.
    pub fn media(&self, sku: &str) -> Vec<MediaView> {
        self.product(sku).map(|p| p.media).unwrap_or_default()
    }

    /// Number of products.
    pub fn product_count(&self) -> usize {
        lock(&self.state.shop).catalog.product_count()
    }

    /// Number of categories (root 1 included).
    pub fn category_count(&self) -> usize {
        lock(&self.state.shop).catalog.categories().count()
    }

    /// A category by id.
    pub fn category(&self, id: i64) -> Option<CategoryView> {
        let shop = lock(&self.state.shop);
        shop.catalog.category(id).map(|c| inspect::category_view(&shop, c))
    }

    /// Direct children of a category, by position.
    pub fn child_categories(&self, parent: i64) -> Vec<CategoryView> {
        let shop = lock(&self.state.shop);
        shop.catalog.children(parent).into_iter().map(|c| inspect::category_view(&shop, c)).collect()
    }

    /// Children of `parent` whose default name is `name` (Magento allows duplicates).
    pub fn categories_named(&self, parent: i64, name: &str) -> Vec<CategoryView> {
        self.child_categories(parent).into_iter().filter(|c| c.name == name).collect()
    }

    /// An order by increment id.
    pub fn order(&self, increment_id: &str) -> Option<OrderView> {
        let shop = lock(&self.state.shop);
        shop.sales.order_by_increment(increment_id).map(|o| inspect::order_view(&shop, o))
    }

    /// Increment ids of every order, by entity id.
    pub fn order_increment_ids(&self) -> Vec<String> {
        lock(&self.state.shop).sales.orders().map(|o| o.increment_id.clone()).collect()
    }

    /// Number of orders.
    pub fn order_count(&self) -> usize {
        lock(&self.state.shop).sales.order_count()
    }

    /// Number of customers.
    pub fn customer_count(&self) -> usize {
        lock(&self.state.shop).customers.count()
    }

    /// Customer id by email on a website.
    pub fn customer_id_by_email(&self, website_id: i64, email: &str) -> Option<i64> {
        lock(&self.state.shop).customers.id_by_email(website_id, email)
    }
}

fn fallback_address() -> NewAddress {
    NewAddress {
        firstname: "Gen".into(),
        lastname: "Buyer".into(),
        company: None,
        street: vec!["1 Main St".into()],
        city: "Los Angeles".into(),
        region_id: Some(12),
        region: None,
        postcode: "90001".into(),
        country_id: "US".into(),
        telephone: "310-555-0000".into(),
    }
}

impl Drop for MagentoSandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
