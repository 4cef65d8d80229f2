//! Shared helpers of the reliability suite (issue 10): the connector binary as a child process
//! against sandboxes running in the test process, call recording and targeted holds on the
//! sandboxes' knobs, and a canonical snapshot of everything the sync jobs write (both
//! sandboxes and the state file) with the duplicate checks of "nothing lost, nothing
//! duplicated".

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use magento_connector::sandbox::harness::{Harness, RunResult, Sandboxes};
use magento_connector::sandbox::knobs::{Inject, Rule};
use magento_connector::sandbox::magento1::MagentoSandbox;
use magento_connector::sandbox::openerp::{OpenErpSandbox, PartnerView};
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{BindingKind, Store};

/// The connector binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_magento-connector");

/// Backend name the child is configured with (the seeded `magento.backend` record's name).
pub const BACKEND: &str = "sandbox";

/// The sync cycle, as `run` sub-commands, in the order a deployment runs them.
pub const CYCLE: [&str; 4] = ["categories", "products", "stock", "orders"];

/// The same cycle as job kinds (in-process runs).
pub const CYCLE_KINDS: [JobKind; 4] = [JobKind::Categories, JobKind::Products, JobKind::Stock, JobKind::OrdersImport];

// ---------------------------------------------------------------------------------------------
// The binary as a child process

/// A temporary directory with a configuration pointing at running sandboxes and a state file.
pub struct ChildEnv {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// The configuration file.
    pub config: PathBuf,
    /// The state file.
    pub state: PathBuf,
    logs: AtomicU64,
}

impl ChildEnv {
    /// Writes a configuration with a remote backend named [`BACKEND`] on `sandboxes`.
    pub fn new(sandboxes: &Sandboxes) -> ChildEnv {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.sqlite3");
        let m = sandboxes.magento_endpoint();
        let o = sandboxes.openerp_endpoint();
        let multicall = match m.multicall {
            magento_connector::config::MultiCallMode::Auto => "auto",
            magento_connector::config::MultiCallMode::On => "on",
            magento_connector::config::MultiCallMode::Off => "off",
        };
        let text = format!(
            r#"
[server]
token = "reliability-token-0123456789"

[state]
path = {state:?}

[backends.{BACKEND}.openerp]
url = {ourl:?}
db = {db:?}
user = {user:?}
password = {password:?}
timeout_secs = 30
retries = 3

[backends.{BACKEND}.magento]
kind = "magento1"
url = {murl:?}
api_user = {api_user:?}
api_key = {api_key:?}
concurrency = {concurrency}
batch_size = {batch_size}
multicall = "{multicall}"
timeout_secs = 30
retries = 4
"#,
            ourl = o.url,
            db = o.db,
            user = o.user,
            password = o.password.expose(),
            murl = m.url,
            api_user = m.api_user,
            api_key = m.api_key.expose(),
            concurrency = m.concurrency,
            batch_size = m.batch_size,
        );
        let config = dir.path().join("connector.toml");
        std::fs::write(&config, text).unwrap();
        ChildEnv { dir, config, state, logs: AtomicU64::new(0) }
    }

    /// Starts `run <job>` in a child process (output to files in the directory).
    pub fn spawn(&self, job: &str) -> (Child, PathBuf) {
        let n = self.logs.fetch_add(1, Ordering::Relaxed);
        let log = self.dir.path().join(format!("{n:03}-{job}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let mut cmd = Command::new(BIN);
        cmd.args(["--config", self.config.to_str().unwrap(), "run", job, "--backend", BACKEND])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .env_remove("RUST_LOG");
        for (k, _) in std::env::vars() {
            if k.starts_with("MAGENTO_CONNECTOR") {
                cmd.env_remove(k);
            }
        }
        (cmd.spawn().unwrap(), log)
    }

    /// Runs `run <job>` to its end; panics with the child's output when it does not exit 0.
    pub async fn run(&self, job: &str) {
        let (mut child, log) = self.spawn(job);
        let status = wait_child(&mut child, Duration::from_secs(120)).await;
        assert!(status.success(), "`run {job}` exited with {status}:\n{}", std::fs::read_to_string(&log).unwrap());
    }

    /// Runs the whole cycle, then stock once more (see [`settled_cycle`]).
    pub async fn run_settled_cycle(&self) {
        for job in settled_cycle() {
            self.run(job).await;
        }
    }

    /// The state file.
    pub fn store(&self) -> Store {
        Store::open(&self.state).unwrap()
    }
}

/// The cycle followed by one more stock export: imported orders change the forecast the stock
/// job sends, so the stock after an interrupted cycle and its rerun equals the golden one only
/// once stock has been sent after the last orders (a deployment runs stock again within the
/// hour anyway).
pub fn settled_cycle() -> Vec<&'static str> {
    let mut v = CYCLE.to_vec();
    v.push("stock");
    v
}

/// Polls the child until it exits (without blocking the runtime).
pub async fn wait_child(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("child still running after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// SIGKILLs the child and reaps it (a zombie would still look alive to the next process).
pub async fn kill_child(child: &mut Child) {
    child.kill().unwrap();
    wait_child(child, Duration::from_secs(10)).await;
}

// ---------------------------------------------------------------------------------------------
// Call recording and targeted holds

/// Which sandbox a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Peer {
    /// The Magento sandbox.
    Magento,
    /// The OpenERP sandbox.
    OpenErp,
}

/// One logical call as seen by a sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRec {
    /// Which sandbox.
    pub peer: Peer,
    /// Canonical method (`catalog_product.create`, `sale.order.create`, `common.authenticate`).
    pub method: String,
    /// How many calls of this method on this peer came before (0-based).
    pub nth: u64,
}

impl CallRec {
    /// True for calls that change data.
    pub fn is_write(&self) -> bool {
        is_write(self.peer, &self.method)
    }
}

/// True for the calls that change data on `peer`.
pub fn is_write(peer: Peer, method: &str) -> bool {
    let op = method.rsplit('.').next().unwrap_or_default();
    match peer {
        Peer::Magento => matches!(
            op,
            "create"
                | "update"
                | "move"
                | "delete"
                | "remove"
                | "assign"
                | "unassign"
                | "addComment"
                | "hold"
                | "unhold"
                | "cancel"
                | "addTrack"
                | "removeTrack"
                | "capture"
        ),
        Peer::OpenErp => {
            matches!(op, "create" | "write" | "unlink" | "copy")
                || op.starts_with("action_")
                || op.starts_with("button_")
        }
    }
}

/// Records every logical call of both sandboxes, in the order they arrive.
#[derive(Clone, Default)]
pub struct Recorder {
    calls: Arc<Mutex<Vec<CallRec>>>,
    counts: Arc<Mutex<BTreeMap<(Peer, String), u64>>>,
}

impl Recorder {
    /// Installs the recorder on both sandboxes (a rule that never matches).
    pub fn install(&self, sandboxes: &Sandboxes) {
        for (peer, knobs) in
            [(Peer::Magento, sandboxes.magento.knobs().as_ref()), (Peer::OpenErp, sandboxes.openerp.knobs())]
        {
            let me = self.clone();
            knobs.add_rule(Rule {
                matcher: Box::new(move |m, _| {
                    me.push(peer, m);
                    false
                }),
                inject: Inject::Fault,
                times: None,
            });
        }
    }

    fn push(&self, peer: Peer, method: &str) {
        let mut counts = self.counts.lock().unwrap();
        let n = counts.entry((peer, method.to_owned())).or_insert(0);
        self.calls.lock().unwrap().push(CallRec { peer, method: method.to_owned(), nth: *n });
        *n += 1;
    }

    /// The calls so far.
    pub fn calls(&self) -> Vec<CallRec> {
        self.calls.lock().unwrap().clone()
    }
}

/// Holds one chosen call (the `nth` call of `method` on `peer`) with `inject`, and says when
/// it fired.
pub struct Hold {
    fired: Arc<AtomicBool>,
}

impl Hold {
    /// Installs the hold.
    pub fn install(sandboxes: &Sandboxes, peer: Peer, method: &str, nth: u64, inject: Inject) -> Hold {
        let fired = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(AtomicU64::new(0));
        let (f, method) = (Arc::clone(&fired), method.to_owned());
        let rule = Rule {
            matcher: Box::new(move |m, _| {
                if m != method {
                    return false;
                }
                let hit = seen.fetch_add(1, Ordering::SeqCst) == nth;
                if hit {
                    f.store(true, Ordering::SeqCst);
                }
                hit
            }),
            inject,
            times: Some(1),
        };
        match peer {
            Peer::Magento => sandboxes.magento.knobs().add_rule(rule),
            Peer::OpenErp => sandboxes.openerp.knobs().add_rule(rule),
        }
        Hold { fired }
    }

    /// True once the chosen call arrived.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshot of what the jobs write

/// A Magento category, by its path of names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CategorySnap {
    /// Names from the tree root, `/`-joined.
    pub path: String,
    /// Enabled.
    pub active: bool,
    /// Names per store view.
    pub store_names: BTreeMap<i64, String>,
    /// SKUs of the products in it.
    pub skus: BTreeSet<String>,
}

/// An image of a product's gallery: label, types, excluded, position, size.
pub type MediaSnap = (Option<String>, Vec<String>, bool, i64, usize);

/// A Magento product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSnap {
    /// Type.
    pub type_id: String,
    /// Default-scope attribute values (timestamps left out).
    pub values: BTreeMap<String, String>,
    /// Store-view values.
    pub store_values: BTreeMap<i64, BTreeMap<String, String>>,
    /// Websites.
    pub websites: Vec<i64>,
    /// Category paths.
    pub categories: BTreeSet<String>,
    /// Stock: qty, in stock, managed, backorders.
    pub stock: (String, bool, bool, Option<i64>),
    /// Gallery.
    pub media: Vec<MediaSnap>,
}

/// An OpenERP sales order made by the import.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrderSnap {
    /// `origin` (the Magento reference).
    pub origin: Option<String>,
    /// State.
    pub state: String,
    /// Customer, invoice and delivery partners, described.
    pub partners: [String; 3],
    /// Total.
    pub total: String,
    /// Lines: (sku, name, qty, price, discount, taxes).
    pub lines: Vec<(Option<String>, String, String, String, String, usize)>,
}

/// Everything the sync jobs write, in a form independent of ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Magento categories (tree order).
    pub categories: Vec<CategorySnap>,
    /// Magento products per SKU (a duplicate SKU shows as `sku#2`).
    pub products: BTreeMap<String, ProductSnap>,
    /// Magento orders: increment id → (state, status, history entries).
    pub magento_orders: BTreeMap<String, (String, String, usize)>,
    /// OpenERP orders per `client_order_ref`.
    pub orders: BTreeMap<String, Vec<OrderSnap>>,
    /// OpenERP partners, described (sorted, duplicates kept).
    pub partners: Vec<String>,
    /// Unresolved broken orders of the state file: increment id → code.
    pub broken: BTreeMap<String, String>,
    /// Bindings per kind in the state file.
    pub bindings: BTreeMap<String, usize>,
}

fn category_paths(m: &MagentoSandbox) -> (Vec<CategorySnap>, BTreeMap<i64, String>) {
    let mut out = Vec::new();
    let mut paths = BTreeMap::new();
    let mut stack: Vec<(i64, String)> = vec![(1, String::new())];
    while let Some((id, prefix)) = stack.pop() {
        let children = m.child_categories(id);
        for c in children.iter().rev() {
            let path = if prefix.is_empty() { c.name.clone() } else { format!("{prefix}/{}", c.name) };
            stack.push((c.id, path));
        }
        if id == 1 {
            continue;
        }
        let c = m.category(id).unwrap();
        paths.insert(id, prefix.clone());
        out.push((c, prefix));
    }
    let skus =
        |ids: &[i64]| -> BTreeSet<String> { ids.iter().filter_map(|p| m.product_by_id(*p)).map(|p| p.sku).collect() };
    let cats = out
        .into_iter()
        .map(|(c, path)| CategorySnap {
            path,
            active: c.is_active,
            store_names: c.store_names.clone(),
            skus: skus(&c.product_ids),
        })
        .collect();
    (cats, paths)
}

/// Every Magento product, by id.
pub fn magento_products(m: &MagentoSandbox) -> Vec<magento_connector::sandbox::magento1::ProductView> {
    let n = m.product_count();
    let mut out = Vec::with_capacity(n);
    let mut id = 1;
    while out.len() < n && id < 100_000 {
        if let Some(p) = m.product_by_id(id) {
            out.push(p);
        }
        id += 1;
    }
    out
}

fn describe_partner(p: &PartnerView) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        p.kind,
        p.name,
        p.email.as_deref().unwrap_or(""),
        p.street.as_deref().unwrap_or(""),
        p.street2.as_deref().unwrap_or(""),
        p.city.as_deref().unwrap_or(""),
        p.zip.as_deref().unwrap_or(""),
        p.country_code.as_deref().unwrap_or(""),
        p.phone.as_deref().unwrap_or(""),
        p.active
    )
}

/// All partners of the OpenERP sandbox with their parent (described).
pub fn partners(erp: &OpenErpSandbox) -> Vec<PartnerView> {
    erp.search("res.partner", &[]).unwrap().into_iter().filter_map(|id| erp.partner(id)).collect()
}

impl Snapshot {
    /// Reads both sandboxes and the state file.
    pub async fn take(m: &MagentoSandbox, erp: &OpenErpSandbox, store: &Store) -> Snapshot {
        let (categories, paths) = category_paths(m);
        let mut products = BTreeMap::new();
        for p in magento_products(m) {
            let mut key = p.sku.to_lowercase();
            let mut n = 1;
            while products.contains_key(&key) {
                n += 1;
                key = format!("{}#{n}", p.sku.to_lowercase());
            }
            let mut values = p.values.clone();
            values.retain(|k, _| !matches!(k.as_str(), "created_at" | "updated_at"));
            products.insert(
                key,
                ProductSnap {
                    type_id: p.type_id.clone(),
                    values,
                    store_values: p.store_values.clone(),
                    websites: p.website_ids.clone(),
                    categories: p
                        .category_ids
                        .iter()
                        .map(|c| {
                            let name = m.category(*c).map(|c| c.name).unwrap_or_default();
                            let parent = paths.get(c).cloned().unwrap_or_default();
                            format!("{parent}/{name}")
                        })
                        .collect(),
                    stock: (
                        p.stock.qty.normalize().to_string(),
                        p.stock.is_in_stock,
                        p.stock.manage_stock,
                        p.stock.backorders,
                    ),
                    media: p
                        .media
                        .iter()
                        .map(|x| (x.label.clone(), x.types.clone(), x.exclude, x.position, x.size))
                        .collect(),
                },
            );
        }
        let magento_orders = m
            .order_increment_ids()
            .into_iter()
            .filter_map(|inc| m.order(&inc))
            .map(|o| (o.increment_id.clone(), (o.state.clone(), o.status.clone(), o.history.len())))
            .collect();
        let all_partners = partners(erp);
        let by_id: BTreeMap<i64, &PartnerView> = all_partners.iter().map(|p| (p.id, p)).collect();
        let who = |id: i64| -> String {
            match by_id.get(&id) {
                Some(p) => {
                    let parent =
                        p.parent_id.and_then(|i| by_id.get(&i)).map(|x| describe_partner(x)).unwrap_or_default();
                    format!("{} < {parent}", describe_partner(p))
                }
                None => format!("missing partner {id}"),
            }
        };
        let mut orders: BTreeMap<String, Vec<OrderSnap>> = BTreeMap::new();
        for o in erp.orders() {
            let Some(r) = o.client_order_ref.clone() else { continue };
            let snap = OrderSnap {
                origin: o.origin.clone(),
                state: o.state.clone(),
                partners: [who(o.partner_id), who(o.partner_invoice_id), who(o.partner_shipping_id)],
                total: o.amount_total.normalize().to_string(),
                lines: o
                    .lines
                    .iter()
                    .map(|l| {
                        (
                            l.sku.clone(),
                            l.name.clone(),
                            l.qty.normalize().to_string(),
                            l.price_unit.normalize().to_string(),
                            l.discount.normalize().to_string(),
                            l.tax_ids.len(),
                        )
                    })
                    .collect(),
            };
            orders.entry(r).or_default().push(snap);
        }
        for v in orders.values_mut() {
            v.sort();
        }
        let mut partners: Vec<String> = all_partners
            .iter()
            .map(|p| {
                let parent = p.parent_id.and_then(|i| by_id.get(&i)).map(|x| describe_partner(x)).unwrap_or_default();
                format!("{} < {parent}", describe_partner(p))
            })
            .collect();
        partners.sort();
        let broken = store
            .broken()
            .list(BACKEND, false)
            .await
            .unwrap()
            .into_iter()
            .map(|b| (b.increment_id.clone(), b.code.as_str().to_owned()))
            .collect();
        let mut bindings = BTreeMap::new();
        for kind in [
            BindingKind::Category,
            BindingKind::Product,
            BindingKind::Order,
            BindingKind::Partner,
            BindingKind::Address,
        ] {
            bindings.insert(kind.as_str().to_owned(), store.bindings().list(BACKEND, kind).await.unwrap().len());
        }
        Snapshot { categories, products, magento_orders, orders, partners, broken, bindings }
    }

    /// Duplicates that must never exist: categories per parent and name, products per SKU,
    /// top-level partners per email, addresses per partner and normalized address, OpenERP
    /// orders per Magento reference.
    pub fn duplicates(&self, erp: &OpenErpSandbox) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for c in &self.categories {
            if !seen.insert(c.path.clone()) {
                out.push(format!("category {} twice", c.path));
            }
        }
        for k in self.products.keys() {
            if k.contains('#') {
                out.push(format!("product SKU {k} twice"));
            }
        }
        for (r, v) in &self.orders {
            if v.len() > 1 {
                out.push(format!("{} OpenERP orders for {r}", v.len()));
            }
            let mut origins = BTreeSet::new();
            for o in v {
                if !origins.insert(o.origin.clone()) {
                    out.push(format!("origin {:?} twice", o.origin));
                }
            }
        }
        let all = partners(erp);
        let mut emails: BTreeMap<String, usize> = BTreeMap::new();
        let mut addresses: BTreeMap<(i64, String), usize> = BTreeMap::new();
        for p in &all {
            match p.parent_id {
                None => {
                    if let Some(e) = p.email.as_deref().filter(|e| !e.is_empty()) {
                        *emails.entry(e.trim().to_lowercase()).or_default() += 1;
                    }
                }
                Some(parent) => {
                    *addresses.entry((parent, normalized_address(p))).or_default() += 1;
                }
            }
        }
        for (e, n) in emails {
            if n > 1 {
                out.push(format!("{n} partners with email {e}"));
            }
        }
        for ((parent, key), n) in addresses {
            if n > 1 {
                out.push(format!("{n} addresses {key:?} under partner {parent}"));
            }
        }
        out
    }
}

/// An address reduced to what makes it the same place (case and spaces ignored).
pub fn normalized_address(p: &PartnerView) -> String {
    let norm = |s: Option<&str>| s.unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    [
        p.kind.clone(),
        norm(Some(&p.name)),
        norm(p.street.as_deref()),
        norm(p.street2.as_deref()),
        norm(p.city.as_deref()),
        norm(p.zip.as_deref()),
        norm(p.country_code.as_deref()),
    ]
    .join("|")
}

/// Compares two snapshots part by part, with a readable difference.
pub fn assert_same_state(label: &str, want: &Snapshot, got: &Snapshot) {
    let mut diffs = Vec::new();
    if want.categories != got.categories {
        diffs.push(format!("categories:\n want {:#?}\n got {:#?}", want.categories, got.categories));
    }
    for k in want.products.keys().chain(got.products.keys()).collect::<BTreeSet<_>>() {
        if want.products.get(k) != got.products.get(k) {
            diffs.push(format!("product {k}:\n want {:#?}\n got {:#?}", want.products.get(k), got.products.get(k)));
        }
    }
    if want.magento_orders != got.magento_orders {
        diffs.push(format!("Magento orders: want {:?}\n got {:?}", want.magento_orders, got.magento_orders));
    }
    for k in want.orders.keys().chain(got.orders.keys()).collect::<BTreeSet<_>>() {
        if want.orders.get(k) != got.orders.get(k) {
            diffs.push(format!("OpenERP order {k}:\n want {:#?}\n got {:#?}", want.orders.get(k), got.orders.get(k)));
        }
    }
    if want.partners != got.partners {
        let w: BTreeSet<_> = want.partners.iter().collect();
        let g: BTreeSet<_> = got.partners.iter().collect();
        diffs.push(format!(
            "partners ({} vs {}): missing {:#?}, extra {:#?}",
            want.partners.len(),
            got.partners.len(),
            w.difference(&g).collect::<Vec<_>>(),
            g.difference(&w).collect::<Vec<_>>()
        ));
    }
    if want.broken != got.broken {
        diffs.push(format!("broken queue: want {:?}, got {:?}", want.broken, got.broken));
    }
    if want.bindings != got.bindings {
        diffs.push(format!("bindings: want {:?}, got {:?}", want.bindings, got.bindings));
    }
    assert!(diffs.is_empty(), "{label}: the state differs from the golden run:\n{}", diffs.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// In-process runs

/// Runs one job in process and returns its result (a run that could not start panics).
pub async fn run_job(h: &Harness, kind: JobKind) -> RunResult {
    h.run(kind, JobOptions::default()).await.unwrap()
}
