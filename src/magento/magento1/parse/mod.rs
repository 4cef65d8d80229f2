//! Decoding of Magento 1 API answers into the domain types (pure functions).
//!
//! Lenient where Magento is inconsistent (ids and flags as `<int>` or strings, amounts as
//! strings or doubles, `<nil/>`, `[]` for an empty struct, `is_in_stock` as boolean or int, both
//! date formats), strict where the import depends on a value: a missing or unreadable required
//! field is a [`DecodeError`] naming the field.
//!
//! * [`catalog`]: stores, version, categories, products, media, stock, tax classes.
//! * [`sales`]: order headers and full orders (with the PHP-serialized item options).
//! * [`customer`]: customers and their address books.

pub mod catalog;
pub mod customer;
pub mod sales;

use std::borrow::Cow;

use dxr::Value;

use crate::rpc::value::{self, DecodeError, Record};

/// A list answer (`<array>`; an empty struct and `<nil/>` read as empty).
pub fn list<'a>(v: &'a Value, what: &str) -> Result<Cow<'a, [Value]>, DecodeError> {
    value::to_array(what, v)
}

/// A struct answer.
pub fn record<'a>(v: &'a Value, what: &'a str) -> Result<Record<'a>, DecodeError> {
    Record::from_value(v, what)
}

/// The id a `create` call returns (a string such as `'20'`, or an int).
pub fn created_id(v: &Value) -> Result<i64, DecodeError> {
    value::to_i64("new id", v)
}

/// A text answer such as an increment id or a stored file path.
pub fn text(v: &Value, what: &str) -> Result<String, DecodeError> {
    value::to_string(what, v)
}

/// Ids from a list that may hold ints or numeric strings.
pub fn id_list(r: &Record<'_>, key: &str) -> Result<Vec<i64>, DecodeError> {
    r.array(key)?.iter().map(|v| value::to_i64(key, v)).collect()
}

/// Splits Magento's one-string street (`"l1\nl2"`) into non-empty lines. A list of lines is
/// accepted too.
pub fn street_lines(r: &Record<'_>, key: &str) -> Result<Vec<String>, DecodeError> {
    match r.get(key) {
        None | Some(Value::Nil) | Some(Value::Boolean(false)) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for v in items {
                if let Some(s) = value::to_opt_string(key, v)? {
                    out.extend(split_street(&s));
                }
            }
            Ok(out)
        }
        Some(v) => Ok(split_street(&value::to_string(key, v)?)),
    }
}

fn split_street(s: &str) -> Vec<String> {
    s.split('\n').map(|l| l.trim_end_matches('\r').trim().to_owned()).filter(|l| !l.is_empty()).collect()
}

/// Optional text that reads `""` as `None`.
pub fn opt_text(r: &Record<'_>, key: &str) -> Result<Option<String>, DecodeError> {
    Ok(r.opt_string(key)?.filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streets_split_on_newlines_and_accept_lists() {
        let v = value::structure([
            ("a", value::string("11 Wall Street\nFloor 3")),
            ("b", value::array([value::string("x"), value::string("y\r\nz")])),
            ("c", Value::Nil),
        ]);
        let r = record(&v, "addr").unwrap();
        assert_eq!(street_lines(&r, "a").unwrap(), vec!["11 Wall Street", "Floor 3"]);
        assert_eq!(street_lines(&r, "b").unwrap(), vec!["x", "y", "z"]);
        assert!(street_lines(&r, "c").unwrap().is_empty());
        assert!(street_lines(&r, "missing").unwrap().is_empty());
    }

    #[test]
    fn created_ids_accept_strings_and_ints() {
        assert_eq!(created_id(&value::string("20")).unwrap(), 20);
        assert_eq!(created_id(&value::int(1)).unwrap(), 1);
        assert!(created_id(&value::boolean(true)).is_err());
    }
}
