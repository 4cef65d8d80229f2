//! Positional arguments as `call_user_func_array` hands them to a resource method.
//!
//! An absent trailing argument takes the PHP default (usually `null`); an explicit `<nil/>` is
//! `null` too. A missing *required* argument is a PHP 8 `ArgumentCountError`, which neither the
//! handler nor Zend catches: the request dies with HTTP 500 ([`ApiError::Fatal`]).

use dxr::Value;

use super::faults::{ApiError, ApiResult};
use super::php;

/// The positional arguments of one call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Args<'a> {
    items: &'a [Value],
}

impl<'a> Args<'a> {
    /// Wraps the argument list.
    pub(crate) fn new(items: &'a [Value]) -> Self {
        Args { items }
    }

    /// Fails like PHP when fewer than `n` arguments were passed.
    pub(crate) fn require(&self, n: usize) -> ApiResult<()> {
        if self.items.len() < n { Err(ApiError::Fatal) } else { Ok(()) }
    }

    /// Argument `i`; `None` when absent or `<nil/>` (PHP `null`).
    pub(crate) fn get(&self, i: usize) -> Option<&'a Value> {
        match self.items.get(i) {
            None | Some(Value::Nil) => None,
            Some(v) => Some(v),
        }
    }

    /// Argument `i` as PHP would print it (`null` → `None`).
    pub(crate) fn string(&self, i: usize) -> Option<String> {
        self.get(i).map(php::to_php_string)
    }

    /// True when argument `i` is PHP-truthy.
    pub(crate) fn truthy(&self, i: usize) -> bool {
        self.get(i).is_some_and(php::truthy)
    }

    /// Argument `i` as a struct/array map view: a struct, an empty array (PHP's empty hash) or
    /// absent/`null` all read as a map; anything else is `None`.
    pub(crate) fn map(&self, i: usize) -> Option<std::borrow::Cow<'a, crate::rpc::value::Map>> {
        match self.get(i) {
            None => Some(std::borrow::Cow::Owned(Default::default())),
            Some(Value::Struct(m)) => Some(std::borrow::Cow::Borrowed(m)),
            Some(Value::Array(a)) => Some(std::borrow::Cow::Owned(list_to_map(a))),
            Some(_) => None,
        }
    }
}

/// A PHP list seen as a hash (`[a, b]` → `{"0": a, "1": b}`).
pub(crate) fn list_to_map(a: &[Value]) -> crate::rpc::value::Map {
    a.iter().enumerate().map(|(i, v)| (i.to_string(), v.clone())).collect()
}

/// The values of a PHP array argument (a list, or a struct's values in numeric-key order); a
/// scalar is wrapped in a one-element list, `null` is empty.
pub(crate) fn list_of(v: Option<&Value>) -> Vec<Value> {
    match v {
        None | Some(Value::Nil) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Struct(m)) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| match (a.0.parse::<i64>(), b.0.parse::<i64>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => a.0.cmp(b.0),
            });
            entries.into_iter().map(|(_, v)| v.clone()).collect()
        }
        Some(other) => vec![other.clone()],
    }
}
