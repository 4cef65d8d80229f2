//! Configuration: how to reach both ends of each backend, and the server's own settings.
//!
//! One TOML file (`--config`, default `./connector.toml`, documented in
//! `connector.example.toml`) with environment overrides for secrets. Business settings (store
//! mapping, tax mapping, ...) are *not* here: they live in OpenERP records and are read at run
//! time. With no file at all the connector runs on the built-in sandbox backend.
//!
//! Raw TOML is deserialized into [`RawConfig`], then [`Config::from_raw`] validates it and
//! applies the environment; the rest of the program only sees [`Config`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::secret::Secret;

/// Name of the backend the connector creates when no configuration file exists.
pub const SANDBOX_BACKEND: &str = "sandbox";

/// Default bind address (loopback only).
pub const DEFAULT_BIND: &str = "127.0.0.1:8070";

/// Prefix of every environment variable the connector reads.
pub const ENV_PREFIX: &str = "MAGENTO_CONNECTOR";

/// A configuration problem, with the key or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// File path.
        path: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
    /// The TOML does not parse or has unknown/mistyped keys.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// File path.
        path: PathBuf,
        /// Parser message (never contains secret values: they are only checked for type).
        message: String,
    },
    /// A value is present but not acceptable.
    #[error("invalid config value `{key}`: {message}")]
    Invalid {
        /// Dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// `[server]` as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// Listen address.
    pub bind: Option<String>,
    /// Shared secret the addon sends as `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
    /// Allow binding a non-loopback address.
    pub allow_non_loopback: Option<bool>,
    /// Largest request body in bytes.
    pub max_body_bytes: Option<usize>,
    /// Deepest XML element nesting accepted.
    pub max_depth: Option<usize>,
    /// Per-request timeout in seconds.
    pub request_timeout_secs: Option<u64>,
}

/// `[state]` as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    /// SQLite file.
    pub path: Option<PathBuf>,
}

/// `[backends.<name>.openerp]` as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpenErp {
    /// Base URL (`https://erp.example.com`); `/xmlrpc/2/...` is appended.
    pub url: String,
    /// Database name.
    pub db: String,
    /// Login.
    pub user: String,
    /// Password or API key.
    pub password: Option<Secret>,
    /// Connect timeout, seconds.
    pub connect_timeout_secs: Option<u64>,
    /// Request timeout, seconds.
    pub timeout_secs: Option<u64>,
    /// Attempts per call for transient failures.
    pub retries: Option<u32>,
    /// Rows per page on reads.
    pub page_size: Option<usize>,
}

/// `[backends.<name>.magento]` as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMagento {
    /// `magento1` (XML-RPC) now; `magento2` (REST) later.
    pub kind: String,
    /// Shop base URL (`https://shop.example.com`); `/api/xmlrpc/` is appended for magento1.
    pub url: String,
    /// API user (System > Web Services > SOAP/XML-RPC Users).
    pub api_user: String,
    /// API key of that user.
    pub api_key: Option<Secret>,
    /// Concurrent requests to the shop.
    pub concurrency: Option<usize>,
    /// Calls per multiCall batch.
    pub batch_size: Option<usize>,
    /// `auto` (detect), `on` or `off`.
    pub multicall: Option<String>,
    /// Connect timeout, seconds.
    pub connect_timeout_secs: Option<u64>,
    /// Request timeout, seconds.
    pub timeout_secs: Option<u64>,
    /// Attempts per call for transient failures.
    pub retries: Option<u32>,
}

/// `[backends.<name>]` as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackend {
    /// `true` to run this backend on the built-in sandboxes (then `openerp`/`magento` are ignored).
    #[serde(default)]
    pub sandbox: bool,
    /// OpenERP end.
    pub openerp: Option<RawOpenErp>,
    /// Magento end.
    pub magento: Option<RawMagento>,
}

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `[server]`.
    #[serde(default)]
    pub server: RawServer,
    /// `[state]`.
    #[serde(default)]
    pub state: RawState,
    /// `[backends.*]`.
    #[serde(default)]
    pub backends: BTreeMap<String, RawBackend>,
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Listen address.
    pub bind: SocketAddr,
    /// Shared token (never empty once validated).
    pub token: Secret,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Deepest XML nesting.
    pub max_depth: usize,
    /// Per-request timeout.
    pub request_timeout: Duration,
}

/// How multiCall is used against a Magento 1 shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiCallMode {
    /// Try it; on fault 623 (OpenMage >= 20.11) fall back to single calls for this backend.
    Auto,
    /// Always use it.
    On,
    /// Never use it.
    Off,
}

/// The Magento end of a backend.
#[derive(Debug, Clone)]
pub struct MagentoEndpoint {
    /// `magento1` today.
    pub kind: MagentoKind,
    /// Full API URL (for magento1: `<base>/api/xmlrpc/`).
    pub url: String,
    /// API user.
    pub api_user: String,
    /// API key.
    pub api_key: Secret,
    /// Concurrent requests (default 2: real shops deadlock under more writers).
    pub concurrency: usize,
    /// Calls per multiCall (default 25: 200 took 19 s on a real shop).
    pub batch_size: usize,
    /// multiCall usage.
    pub multicall: MultiCallMode,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Request timeout.
    pub timeout: Duration,
    /// Attempts per call for transient failures.
    pub retries: u32,
}

/// Which Magento API a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MagentoKind {
    /// Magento 1 / OpenMage XML-RPC API.
    Magento1,
}

/// The OpenERP end of a backend.
#[derive(Debug, Clone)]
pub struct OpenErpEndpoint {
    /// Base URL (`/xmlrpc/2/common` and `/xmlrpc/2/object` are appended).
    pub url: String,
    /// Database.
    pub db: String,
    /// Login.
    pub user: String,
    /// Password or API key.
    pub password: Secret,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Request timeout.
    pub timeout: Duration,
    /// Attempts per call for transient failures.
    pub retries: u32,
    /// Rows per page on reads.
    pub page_size: usize,
}

/// One backend: a Magento shop and the OpenERP database it syncs with.
#[derive(Debug, Clone)]
#[expect(clippy::large_enum_variant, reason = "a handful of backends per process; boxing buys nothing")]
pub enum BackendConfig {
    /// Runs on the built-in sandboxes, started in-process on loopback ports.
    Sandbox,
    /// Real peers.
    Remote {
        /// OpenERP end.
        openerp: OpenErpEndpoint,
        /// Magento end.
        magento: MagentoEndpoint,
    },
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Server settings.
    pub server: ServerConfig,
    /// SQLite state file.
    pub state_path: PathBuf,
    /// Backends by name.
    pub backends: BTreeMap<String, BackendConfig>,
    /// Where the configuration came from (`None`: built-in sandbox defaults).
    pub source: Option<PathBuf>,
}

/// Environment variable name for a backend secret: `MAGENTO_CONNECTOR_<BACKEND>_<SUFFIX>`.
pub fn env_name(backend: &str, suffix: &str) -> String {
    let b: String =
        backend.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("{ENV_PREFIX}_{b}_{suffix}")
}

impl Config {
    /// Loads `path`. When `path` is the default and does not exist, returns the sandbox defaults.
    pub fn load(path: &Path, explicit: bool, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        if !explicit && !path.exists() {
            return Config::from_raw(RawConfig::default(), None, env);
        }
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let raw: RawConfig = toml::from_str(&text)
            .map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.message().to_owned() })?;
        Config::from_raw(raw, Some(path.to_owned()), env)
    }

    /// Validates raw settings and applies environment overrides (`env` is injectable for tests).
    pub fn from_raw(
        raw: RawConfig,
        source: Option<PathBuf>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid { key: key.to_owned(), message };
        let bind_text = raw.server.bind.unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind: SocketAddr =
            bind_text.parse().map_err(|_| invalid("server.bind", format!("{bind_text:?} is not an address:port")))?;
        let allow_public = raw.server.allow_non_loopback.unwrap_or(false);
        if !bind.ip().is_loopback() && !allow_public {
            return Err(invalid(
                "server.bind",
                format!("{bind} is not a loopback address; set server.allow_non_loopback = true to expose the server"),
            ));
        }
        let token = env(&format!("{ENV_PREFIX}_TOKEN")).map(Secret::new).or(raw.server.token).unwrap_or_default();
        let token = if token.is_empty() {
            if source.is_some() {
                return Err(invalid("server.token", format!("no token: set server.token or {ENV_PREFIX}_TOKEN")));
            }
            Secret::new("sandbox-token")
        } else {
            token
        };
        if source.is_some() && token.expose().len() < 16 && !bind.ip().is_loopback() {
            return Err(invalid("server.token", "use at least 16 characters when the server is exposed".into()));
        }
        let server = ServerConfig {
            bind,
            token,
            max_body_bytes: raw.server.max_body_bytes.unwrap_or(4 * 1024 * 1024),
            max_depth: raw.server.max_depth.unwrap_or(128),
            request_timeout: Duration::from_secs(raw.server.request_timeout_secs.unwrap_or(60)),
        };
        if server.max_body_bytes < 1024 {
            return Err(invalid("server.max_body_bytes", "must be at least 1024".into()));
        }
        if !(8..=10_000).contains(&server.max_depth) {
            return Err(invalid("server.max_depth", "must be between 8 and 10000".into()));
        }

        let mut backends = BTreeMap::new();
        if raw.backends.is_empty() {
            backends.insert(SANDBOX_BACKEND.to_owned(), BackendConfig::Sandbox);
        }
        for (name, b) in raw.backends {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(invalid(
                    &format!("backends.{name}"),
                    "backend names use letters, digits, '_' and '-'".into(),
                ));
            }
            if b.sandbox {
                backends.insert(name, BackendConfig::Sandbox);
                continue;
            }
            let key = |k: &str| format!("backends.{name}.{k}");
            let o = b.openerp.ok_or_else(|| invalid(&key("openerp"), "missing section".into()))?;
            let m = b.magento.ok_or_else(|| invalid(&key("magento"), "missing section".into()))?;
            let password =
                env(&env_name(&name, "OPENERP_PASSWORD")).map(Secret::new).or(o.password).unwrap_or_default();
            if password.is_empty() {
                return Err(invalid(
                    &key("openerp.password"),
                    format!("missing: set it or {}", env_name(&name, "OPENERP_PASSWORD")),
                ));
            }
            let api_key = env(&env_name(&name, "MAGENTO_API_KEY")).map(Secret::new).or(m.api_key).unwrap_or_default();
            if api_key.is_empty() {
                return Err(invalid(
                    &key("magento.api_key"),
                    format!("missing: set it or {}", env_name(&name, "MAGENTO_API_KEY")),
                ));
            }
            check_url(&key("openerp.url"), &o.url)?;
            check_url(&key("magento.url"), &m.url)?;
            let kind = match m.kind.as_str() {
                "magento1" => MagentoKind::Magento1,
                "magento2" => return Err(invalid(&key("magento.kind"), "magento2 (REST) is not supported yet".into())),
                other => {
                    return Err(invalid(&key("magento.kind"), format!("unknown kind {other:?} (expected magento1)")));
                }
            };
            let multicall = match m.multicall.as_deref().unwrap_or("auto") {
                "auto" => MultiCallMode::Auto,
                "on" => MultiCallMode::On,
                "off" => MultiCallMode::Off,
                other => {
                    return Err(invalid(&key("magento.multicall"), format!("{other:?}: expected auto, on or off")));
                }
            };
            let concurrency = m.concurrency.unwrap_or(2);
            let batch_size = m.batch_size.unwrap_or(25);
            if !(1..=64).contains(&concurrency) {
                return Err(invalid(&key("magento.concurrency"), "must be between 1 and 64".into()));
            }
            if !(1..=500).contains(&batch_size) {
                return Err(invalid(&key("magento.batch_size"), "must be between 1 and 500".into()));
            }
            let page_size = o.page_size.unwrap_or(500);
            if !(1..=10_000).contains(&page_size) {
                return Err(invalid(&key("openerp.page_size"), "must be between 1 and 10000".into()));
            }
            let openerp = OpenErpEndpoint {
                url: o.url.trim_end_matches('/').to_owned(),
                db: o.db,
                user: o.user,
                password,
                connect_timeout: Duration::from_secs(o.connect_timeout_secs.unwrap_or(10)),
                timeout: Duration::from_secs(o.timeout_secs.unwrap_or(120)),
                retries: o.retries.unwrap_or(4),
                page_size,
            };
            let base = m.url.trim_end_matches('/');
            let url = if base.ends_with("/api/xmlrpc") { format!("{base}/") } else { format!("{base}/api/xmlrpc/") };
            let magento = MagentoEndpoint {
                kind,
                url,
                api_user: m.api_user,
                api_key,
                concurrency,
                batch_size,
                multicall,
                connect_timeout: Duration::from_secs(m.connect_timeout_secs.unwrap_or(10)),
                timeout: Duration::from_secs(m.timeout_secs.unwrap_or(60)),
                retries: m.retries.unwrap_or(4),
            };
            backends.insert(name, BackendConfig::Remote { openerp, magento });
        }
        let state_path = raw.state.path.unwrap_or_else(|| PathBuf::from("connector.sqlite3"));
        Ok(Config { server, state_path, backends, source })
    }

    /// Every secret of this configuration, for scrubbing text that may quote one.
    pub fn secrets(&self) -> Vec<Secret> {
        let mut out = vec![self.server.token.clone()];
        for b in self.backends.values() {
            if let BackendConfig::Remote { openerp, magento } = b {
                out.push(openerp.password.clone());
                out.push(magento.api_key.clone());
            }
        }
        out
    }
}

fn check_url(key: &str, url: &str) -> Result<(), ConfigError> {
    match reqwest::Url::parse(url) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => {
            if !u.username().is_empty() || u.password().is_some() {
                return Err(ConfigError::Invalid {
                    key: key.to_owned(),
                    message: "put credentials in their own keys, not in the URL".into(),
                });
            }
            Ok(())
        }
        _ => Err(ConfigError::Invalid { key: key.to_owned(), message: format!("{url:?} is not an http(s) URL") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Parse { path: "t".into(), message: e.to_string() })?;
        Config::from_raw(raw, Some("t.toml".into()), env)
    }

    const FULL: &str = r#"
        [server]
        token = "0123456789abcdef-token"
        [state]
        path = "/tmp/x.sqlite3"
        [backends.shop]
        [backends.shop.openerp]
        url = "https://erp.example.com/"
        db = "prod"
        user = "connector"
        password = "erp-password-1"
        [backends.shop.magento]
        kind = "magento1"
        url = "https://shop.example.com"
        api_user = "connector"
        api_key = "mage-key-1"
    "#;

    #[test]
    fn no_file_means_the_sandbox_backend_on_loopback() {
        let c = Config::load(Path::new("/nonexistent/connector.toml"), false, &no_env).unwrap();
        assert_eq!(c.server.bind.to_string(), DEFAULT_BIND);
        assert!(matches!(c.backends.get(SANDBOX_BACKEND), Some(BackendConfig::Sandbox)));
        assert!(c.source.is_none());
    }

    #[test]
    fn an_explicit_missing_file_is_an_error() {
        assert!(matches!(Config::load(Path::new("/nonexistent/c.toml"), true, &no_env), Err(ConfigError::Read { .. })));
    }

    #[test]
    fn a_full_file_validates_and_builds_endpoints() {
        let c = parse(FULL, &no_env).unwrap();
        let BackendConfig::Remote { openerp, magento } = &c.backends["shop"] else { panic!() };
        assert_eq!(openerp.url, "https://erp.example.com");
        assert_eq!(magento.url, "https://shop.example.com/api/xmlrpc/");
        assert_eq!(magento.concurrency, 2);
        assert_eq!(magento.batch_size, 25);
        assert_eq!(magento.multicall, MultiCallMode::Auto);
    }

    #[test]
    fn environment_overrides_secrets() {
        let env = |k: &str| match k {
            "MAGENTO_CONNECTOR_SHOP_MAGENTO_API_KEY" => Some("from-env-key".to_owned()),
            "MAGENTO_CONNECTOR_TOKEN" => Some("env-token-0123456789".to_owned()),
            _ => None,
        };
        let c = parse(FULL, &env).unwrap();
        let BackendConfig::Remote { magento, .. } = &c.backends["shop"] else { panic!() };
        assert_eq!(magento.api_key.expose(), "from-env-key");
        assert_eq!(c.server.token.expose(), "env-token-0123456789");
    }

    #[test]
    fn public_bind_needs_an_explicit_setting() {
        let text = FULL.replace("[server]", "[server]\nbind = \"0.0.0.0:8070\"");
        let e = parse(&text, &no_env).unwrap_err().to_string();
        assert!(e.contains("allow_non_loopback"), "{e}");
        let text = FULL.replace("[server]", "[server]\nbind = \"0.0.0.0:8070\"\nallow_non_loopback = true");
        assert!(parse(&text, &no_env).is_ok());
    }

    #[test]
    fn missing_token_and_secrets_are_reported_without_values() {
        let e = parse(&FULL.replace("token = \"0123456789abcdef-token\"", ""), &no_env).unwrap_err().to_string();
        assert!(e.contains("server.token"));
        let e = parse(&FULL.replace("api_key = \"mage-key-1\"", ""), &no_env).unwrap_err().to_string();
        assert!(e.contains("MAGENTO_CONNECTOR_SHOP_MAGENTO_API_KEY"), "{e}");
        let e = parse(&FULL.replace("kind = \"magento1\"", "kind = \"magento9\""), &no_env).unwrap_err().to_string();
        assert!(e.contains("magento9") && !e.contains("mage-key-1"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(parse(&FULL.replace("[state]", "[state]\ncolour = 1"), &no_env).is_err());
    }

    #[test]
    fn credentials_in_urls_are_refused() {
        let e = parse(&FULL.replace("https://erp.example.com/", "https://u:p@erp.example.com/"), &no_env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("credentials") && !e.contains("u:p"), "{e}");
    }
}
