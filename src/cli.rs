//! The command line: `serve`, `run`, `check`, `migrate`, `demo`.
//!
//! Parses arguments (clap), loads the configuration, sets up logging, and hands over to the
//! server, the run machinery or the demo. Every failure ends with one line on stderr and an
//! exit code from [`exit`]. What runs jobs and reaches the peers is injected through a
//! [`Wiring`]: [`main`] uses [`Unwired`] (everything answers "not available yet"); the binary
//! switches to the real wiring with [`main_with`] once the clients and jobs exist.

mod demo;
mod run;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{BackendConfig, Config};
use crate::server::jobs::JobKind;
use crate::server::{App, AppState, RunSettings, Services};
use crate::store::Store;
use crate::telemetry::{self, LogOptions, Redactor};

/// Exit codes.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// A run failed or was cancelled, a check found problems, a demo step failed.
    pub const FAILED: i32 = 1;
    /// Bad command line or configuration.
    pub const CONFIG: i32 = 2;
    /// The state file cannot be opened or migrated.
    pub const STORE: i32 = 3;
    /// The server could not start (address in use, ...).
    pub const SERVE: i32 = 4;
}

/// How the program reaches its peers and runs jobs. The lead's implementation starts the
/// sandboxes for sandbox backends and builds the clients and the sync executor.
pub trait Wiring: Send + Sync {
    /// The services for `config` (called once per command, inside the runtime).
    fn services<'a>(
        &'a self,
        config: &'a Arc<Config>,
        store: &'a Store,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<Services>> + Send + 'a>>;
}

/// Wiring with nothing behind it: jobs fail and checks report "not available yet".
#[derive(Debug, Clone, Copy, Default)]
pub struct Unwired;

impl Wiring for Unwired {
    fn services<'a>(
        &'a self,
        _: &'a Arc<Config>,
        _: &'a Store,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<Services>> + Send + 'a>> {
        Box::pin(async { Ok(Services::unwired()) })
    }
}

/// OpenERP/Odoo ⇄ Magento connector.
#[derive(Debug, Parser)]
#[command(name = "magento-connector", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Configuration file (default ./connector.toml; without it, the built-in sandbox backend).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Log one JSON object per line.
    #[arg(long, global = true)]
    pub log_json: bool,
    /// More log output (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the XML-RPC API the OpenERP addon calls (until ctrl-c or SIGTERM).
    Serve,
    /// Run one job in this process, with a progress bar and a summary.
    Run(RunArgs),
    /// Check that each backend's OpenERP and Magento can be reached.
    Check {
        /// Only this backend.
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
    },
    /// Create the state file or bring its schema up to date, then exit.
    Migrate,
    /// Start the connector on the built-in sandboxes and show what it does.
    Demo,
}

/// Jobs on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JobArg {
    /// Export the category tree.
    Categories,
    /// Export products.
    Products,
    /// Export stock levels.
    Stock,
    /// Read tax classes and propose the tax mapping.
    Taxes,
    /// Import orders.
    Orders,
    /// Import broken orders again.
    Reimport,
    /// Send order follow-up (status, invoices, shipments).
    OrderStatus,
}

impl JobArg {
    /// The job kind.
    pub fn kind(self) -> JobKind {
        match self {
            JobArg::Categories => JobKind::Categories,
            JobArg::Products => JobKind::Products,
            JobArg::Stock => JobKind::Stock,
            JobArg::Taxes => JobKind::Taxes,
            JobArg::Orders => JobKind::OrdersImport,
            JobArg::Reimport => JobKind::OrdersReimport,
            JobArg::OrderStatus => JobKind::OrderStatus,
        }
    }
}

/// `run` arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The job.
    #[arg(value_enum)]
    pub job: JobArg,
    /// Backend name (may be left out when only one is configured).
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,
    /// Compute and report, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Ignore incremental state and send everything.
    #[arg(long)]
    pub full: bool,
    /// OpenERP record ids, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub ids: Vec<i64>,
    /// Store views (ids or codes), comma-separated (orders).
    #[arg(long, value_delimiter = ',', value_name = "STORE,...")]
    pub stores: Vec<String>,
    /// Orders changed since "YYYY-MM-DD HH:MM:SS" UTC (orders).
    #[arg(long, value_name = "DATETIME")]
    pub since: Option<String>,
    /// Order increment ids, comma-separated (orders, reimport, order-status).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub increment_ids: Vec<String>,
}

/// A command's failure: exit code and one line for stderr.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: i32,
    /// One-line reason.
    pub message: String,
}

impl Failure {
    /// A failure.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Failure { code, message: message.into() }
    }
}

/// Entry point of the binary with nothing wired; returns the exit code.
pub fn main() -> i32 {
    main_with(&Unwired)
}

/// Entry point with the given wiring; returns the exit code.
pub fn main_with(wiring: &dyn Wiring) -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = e.print();
            return if e.use_stderr() { exit::CONFIG } else { exit::OK };
        }
    };
    match run_cli(cli, wiring) {
        Ok(()) => exit::OK,
        Err(f) => {
            let line = f.message.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
            eprintln!("magento-connector: {line}");
            f.code
        }
    }
}

fn run_cli(cli: Cli, wiring: &dyn Wiring) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::FAILED, format!("cannot start the async runtime: {e}")))?;
    let log = LogOptions { json: cli.log_json, verbosity: cli.verbose };
    match cli.command {
        Command::Demo => {
            init_logging(log, "off", &[])?;
            runtime.block_on(demo::run(wiring))
        }
        command => {
            let config = load_config(cli.config)?;
            // Commands for people print their own results; their logs are for `-v` and `RUST_LOG`.
            let default_level = if matches!(command, Command::Serve) { "info" } else { "off" };
            init_logging(log, default_level, &config.secrets())?;
            let config = Arc::new(config);
            runtime.block_on(async move {
                match command {
                    Command::Serve => serve(config, wiring).await,
                    Command::Run(args) => run::run(config, wiring, args).await,
                    Command::Check { backend } => check(config, wiring, backend).await,
                    Command::Migrate => migrate(&config),
                    Command::Demo => Ok(()),
                }
            })
        }
    }
}

fn init_logging(log: LogOptions, default_level: &str, secrets: &[crate::secret::Secret]) -> Result<(), Failure> {
    telemetry::init(log, default_level, Redactor::new(secrets)).map_err(|e| Failure::new(exit::FAILED, e.to_string()))
}

/// Loads the configuration named on the command line (or the default file, or the sandbox
/// defaults when that does not exist).
pub fn load_config(path: Option<PathBuf>) -> Result<Config, Failure> {
    let explicit = path.is_some();
    let path = path.unwrap_or_else(|| PathBuf::from("connector.toml"));
    Config::load(&path, explicit, &|k| std::env::var(k).ok()).map_err(|e| Failure::new(exit::CONFIG, e.to_string()))
}

/// Opens the configured state file.
pub fn open_store(config: &Config) -> Result<Store, Failure> {
    Store::open(&config.state_path).map_err(|e| Failure::new(exit::STORE, e.to_string()))
}

/// Resolves `--backend`: the named one, or the only one configured.
pub fn pick_backend(config: &Config, name: Option<String>) -> Result<String, Failure> {
    match name {
        Some(n) if config.backends.contains_key(&n) => Ok(n),
        Some(n) => Err(Failure::new(
            exit::CONFIG,
            format!(
                "unknown backend {n:?} (configured: {})",
                config.backends.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )),
        None if config.backends.len() == 1 => Ok(config.backends.keys().next().cloned().unwrap_or_default()),
        None => Err(Failure::new(
            exit::CONFIG,
            format!(
                "several backends are configured; choose one with --backend ({})",
                config.backends.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

async fn services(wiring: &dyn Wiring, config: &Arc<Config>, store: &Store) -> Result<Services, Failure> {
    wiring
        .services(config, store)
        .await
        .map_err(|e| Failure::new(exit::FAILED, format!("cannot set up the backends: {e:#}")))
}

async fn serve(config: Arc<Config>, wiring: &dyn Wiring) -> Result<(), Failure> {
    let store = open_store(&config)?;
    let services = services(wiring, &config, &store).await?;
    let redactor = Redactor::new(&config.secrets());
    let state = AppState::new(Arc::clone(&config), store, services, redactor, RunSettings::default());
    state.runs.recover().await.map_err(|e| Failure::new(exit::STORE, e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(config.server.bind)
        .await
        .map_err(|e| Failure::new(exit::SERVE, format!("cannot listen on {}: {e}", config.server.bind)))?;
    let addr = listener.local_addr().map_err(|e| Failure::new(exit::SERVE, e.to_string()))?;
    let source =
        config.source.as_ref().map_or_else(|| "built-in sandbox defaults".to_owned(), |p| p.display().to_string());
    tracing::info!(
        config = %source,
        state = %config.state_path.display(),
        backends = ?config.backends.keys().collect::<Vec<_>>(),
        "connector server listening on http://{addr}/RPC2"
    );
    App::new(state)
        .serve(listener, crate::server::shutdown_signal())
        .await
        .map_err(|e| Failure::new(exit::SERVE, format!("server error: {e}")))
}

async fn check(config: Arc<Config>, wiring: &dyn Wiring, backend: Option<String>) -> Result<(), Failure> {
    let names = match backend {
        Some(b) => vec![pick_backend(&config, Some(b))?],
        None => config.backends.keys().cloned().collect(),
    };
    let store = open_store(&config)?;
    let services = services(wiring, &config, &store).await?;
    let redactor = Redactor::new(&config.secrets());
    let mut bad = Vec::new();
    for name in names {
        let report = Arc::clone(&services.backends).check(name.clone()).await;
        let kind = match config.backends.get(&name) {
            Some(BackendConfig::Sandbox) => "sandbox",
            _ => "remote",
        };
        println!("backend {name} ({kind}): {}", if report.ok() { "ok" } else { "PROBLEMS" });
        for (what, ok, url, msg) in [
            ("openerp", report.openerp.ok, &report.openerp.url, &report.openerp.message),
            ("magento", report.magento.ok, &report.magento.url, &report.magento.message),
            ("settings", report.settings_ok, &String::new(), &report.settings_message),
        ] {
            let url = if url.is_empty() { String::new() } else { format!(" {url}") };
            println!("  {what:<9}{:<4}{url} {}", if ok { "ok" } else { "NO" }, redactor.scrub(msg));
        }
        if !report.ok() {
            bad.push(name);
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(exit::FAILED, format!("check found problems on: {}", bad.join(", "))))
    }
}

fn migrate(config: &Config) -> Result<(), Failure> {
    let (_, before) =
        Store::open_reporting(&config.state_path).map_err(|e| Failure::new(exit::STORE, e.to_string()))?;
    let now = crate::store::SCHEMA_VERSION;
    let path = config.state_path.display();
    if before == now {
        println!("state file {path}: schema version {now}, up to date");
    } else {
        println!("state file {path}: schema version {before} -> {now}");
    }
    Ok(())
}
