//! What a resource method can raise, mirroring PHP's three failure kinds in the API handler:
//! a `Mage_Api_Exception` (named fault, resolved against the resource's fault table), any other
//! exception (fault 1), and a PHP fatal error (HTTP 500 with an empty body).

/// A failure raised by a resource method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// `Mage_Api_Exception($name, $customMessage)`.
    Api {
        /// Fault name (`product_not_exists`).
        name: &'static str,
        /// Custom message replacing the configured one.
        message: Option<String>,
    },
    /// Another exception escaping the model: fault 1 carrying the message in `call`, the
    /// generic "Internal Error" in `multiCall`.
    Internal(String),
    /// A PHP fatal error (`ArgumentCountError` for a missing required argument): HTTP 500, empty
    /// body, for the whole request.
    Fatal,
}

impl ApiError {
    /// Named fault with the configured message.
    pub(crate) fn api(name: &'static str) -> Self {
        ApiError::Api { name, message: None }
    }

    /// Named fault with a custom message.
    pub(crate) fn api_msg(name: &'static str, message: impl Into<String>) -> Self {
        ApiError::Api { name, message: Some(message.into()) }
    }

    /// Non-API exception with its message.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError::Internal(message.into())
    }
}

/// The deadlock message MySQL gives under concurrent writers.
pub(crate) const DEADLOCK_MESSAGE: &str =
    "SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock; try restarting transaction";

/// Result of a resource method.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
