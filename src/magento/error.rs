//! The one error type every [`MagentoApi`](super::MagentoApi) operation returns.
//!
//! Error policy: wire failures (transport errors, HTTP statuses, XML-RPC faults, undecodable
//! answers) are translated into a [`MagentoError`] **at the client boundary**, so that the sync
//! jobs only ever decide on an [`ErrorKind`]: retry later, treat as missing in Magento, report a
//! refusal with Magento's reason, stop for bad credentials, or flag a protocol problem. Messages
//! never contain the API key or the session id (the client scrubs them), nor request payloads.
//!
//! This module only defines the type; the Magento 1 translation table lives in
//! `magento1::faults`.

use std::fmt;

/// What the caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Transient: network failure, timeout, HTTP 5xx, database deadlock. Worth retrying later.
    Retryable,
    /// The addressed record (product, category, order, customer, image…) does not exist.
    NotFound,
    /// Magento refused the request and said why (validation, state, duplicate…).
    Refused,
    /// Bad credentials, missing API role or resource rights.
    Auth,
    /// The exchange itself is broken: unexpected answer shape, unsupported call, signature
    /// mismatch, undecodable value. Needs a fix on our side or in the shop's setup.
    Protocol,
}

impl ErrorKind {
    /// Short lowercase name (`retryable`, `not_found`, `refused`, `auth`, `protocol`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Retryable => "retryable",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Refused => "refused",
            ErrorKind::Auth => "auth",
            ErrorKind::Protocol => "protocol",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed Magento operation: kind, Magento's fault code and message, the API method, and for
/// batch items the item key (SKU, increment id…).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MagentoError {
    /// What the caller should do about it.
    pub kind: ErrorKind,
    /// Magento's fault code, when the shop answered with a fault.
    pub fault_code: Option<i32>,
    /// Human-readable reason (Magento's fault message, or our description).
    pub message: String,
    /// API method involved (`catalog_product.create`, `login`, …).
    pub method: String,
    /// Item key in a batch (SKU, order increment id…), when the error concerns one item.
    pub key: Option<String>,
}

impl fmt::Display for MagentoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.method)?;
        if let Some(k) = &self.key {
            write!(f, " [{k}]")?;
        }
        write!(f, ": {}", self.message)?;
        match self.fault_code {
            Some(c) => write!(f, " (fault {c}, {})", self.kind),
            None => write!(f, " ({})", self.kind),
        }
    }
}

impl MagentoError {
    /// Builds an error without fault code or key.
    pub fn new(kind: ErrorKind, method: impl Into<String>, message: impl Into<String>) -> Self {
        MagentoError { kind, fault_code: None, message: message.into(), method: method.into(), key: None }
    }

    /// Builds an error from a Magento fault.
    pub fn fault(kind: ErrorKind, method: impl Into<String>, code: i32, message: impl Into<String>) -> Self {
        MagentoError { kind, fault_code: Some(code), message: message.into(), method: method.into(), key: None }
    }

    /// A protocol error (unexpected answer, undecodable value).
    pub fn protocol(method: impl Into<String>, message: impl Into<String>) -> Self {
        MagentoError::new(ErrorKind::Protocol, method, message)
    }

    /// Sets the item key (SKU, increment id…) this error concerns.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the item key only when none is set yet.
    pub fn with_key_if_unset(self, key: Option<&str>) -> Self {
        match (&self.key, key) {
            (None, Some(k)) => self.with_key(k),
            _ => self,
        }
    }

    /// True when retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Retryable
    }

    /// True when the addressed record does not exist in Magento.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// True for credential or rights problems.
    pub fn is_auth(&self) -> bool {
        self.kind == ErrorKind::Auth
    }
}

/// Result of a Magento operation.
pub type MagentoResult<T> = Result<T, MagentoError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_method_key_code_and_kind() {
        let e = MagentoError::fault(ErrorKind::NotFound, "catalog_product.info", 101, "Product not exists.")
            .with_key("SKU-1");
        assert_eq!(e.to_string(), "catalog_product.info [SKU-1]: Product not exists. (fault 101, not_found)");
        let e = MagentoError::new(ErrorKind::Retryable, "call", "timed out");
        assert_eq!(e.to_string(), "call: timed out (retryable)");
        assert!(e.is_retryable() && !e.is_not_found());
    }

    #[test]
    fn key_is_only_set_once() {
        let e = MagentoError::protocol("m", "x").with_key("A").with_key_if_unset(Some("B"));
        assert_eq!(e.key.as_deref(), Some("A"));
        let e = MagentoError::protocol("m", "x").with_key_if_unset(Some("B"));
        assert_eq!(e.key.as_deref(), Some("B"));
    }
}
