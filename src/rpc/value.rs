//! XML-RPC value helpers shared by both peers: builders, lenient readers and the quirk types.
//!
//! Magento 1 sends ids as `<int>` or numeric `<string>`, money as `'149.9900'` (or a noisy
//! `<double>`), `<nil/>` for NULL and an empty `<array>` where a struct is expected. Odoo sends
//! `False` for every empty field and many2one values as `[id, name]`. The readers here accept all
//! of these and turn them into plain Rust values; a [`DecodeError`] names the field and what was
//! found, never the whole document.
//!
//! This module only converts values. It does no I/O and knows nothing of either peer's models.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use dxr::Value;
use rust_decimal::Decimal;

/// A struct value as dxr stores it.
pub type Map = BTreeMap<String, Value>;

/// A value could not be read as the type a field needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: expected {expected}, got {found}")]
pub struct DecodeError {
    /// Field (or path) being read.
    pub field: String,
    /// What the reader needed.
    pub expected: &'static str,
    /// Short description of what arrived (type and a truncated value).
    pub found: String,
}

impl DecodeError {
    /// Builds an error for `field`, describing the offending value briefly.
    pub fn new(field: impl Into<String>, expected: &'static str, found: &Value) -> Self {
        DecodeError { field: field.into(), expected, found: describe(found) }
    }

    /// Builds an error for a field that is absent.
    pub fn missing(field: impl Into<String>, expected: &'static str) -> Self {
        DecodeError { field: field.into(), expected, found: "nothing (missing)".into() }
    }
}

/// Short, bounded description of a value for error messages (type plus at most 40 characters).
pub fn describe(v: &Value) -> String {
    match v {
        Value::Integer(i) => format!("int {i}"),
        Value::Long(i) => format!("i8 {i}"),
        Value::Boolean(b) => format!("boolean {}", u8::from(*b)),
        Value::String(s) => format!("string {:?}", truncate(s, 40)),
        Value::Double(d) => format!("double {d}"),
        Value::DateTime(_) => "dateTime.iso8601".into(),
        Value::Base64(b) => format!("base64 ({} bytes)", b.len()),
        Value::Struct(m) => format!("struct ({} members)", m.len()),
        Value::Array(a) => format!("array ({} items)", a.len()),
        Value::Nil => "nil".into(),
        _ => "unknown value".into(),
    }
}

/// Cuts `s` to at most `max` characters, adding `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Builders

/// `<string>` value.
pub fn string(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

/// `<int>` value.
pub fn int(i: i32) -> Value {
    Value::Integer(i)
}

/// `<int>` value from an i64 id; ids that do not fit in 32 bits become a string (both peers
/// store ids in 32-bit columns, so this only happens with bad input).
pub fn id(i: i64) -> Value {
    match i32::try_from(i) {
        Ok(v) => Value::Integer(v),
        Err(_) => Value::String(i.to_string()),
    }
}

/// `<boolean>` value.
pub fn boolean(b: bool) -> Value {
    Value::Boolean(b)
}

/// `<double>` value.
pub fn double(d: f64) -> Value {
    Value::Double(d)
}

/// `<array>` value.
pub fn array(items: impl IntoIterator<Item = Value>) -> Value {
    Value::Array(items.into_iter().collect())
}

/// `<struct>` value from `(name, value)` pairs.
pub fn structure<K: Into<String>>(members: impl IntoIterator<Item = (K, Value)>) -> Value {
    Value::Struct(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// Decimal as the plain string Magento expects for amounts and quantities (`"12.5"`).
pub fn decimal_string(d: Decimal) -> Value {
    Value::String(d.normalize().to_string())
}

// ---------------------------------------------------------------------------------------------
// Lenient scalar readers (field name is only used for the error)

/// True for the values both peers use to say "nothing here": `<nil/>` and Odoo's `False`.
pub fn is_empty(v: &Value) -> bool {
    matches!(v, Value::Nil | Value::Boolean(false))
}

/// Reads an integer id or count from `<int>`, `<i8>`, a numeric string (trimmed) or an
/// integral double.
pub fn to_i64(field: &str, v: &Value) -> Result<i64, DecodeError> {
    match v {
        Value::Integer(i) => Ok(i64::from(*i)),
        Value::Long(i) => Ok(*i),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>()
                .or_else(|_| {
                    // "12.0000" is how Magento sends integral DECIMAL columns.
                    Decimal::from_str(t)
                        .ok()
                        .filter(|d| d.fract().is_zero())
                        .and_then(|d| i64::try_from(d).ok())
                        .ok_or(())
                })
                .map_err(|()| DecodeError::new(field, "an integer", v))
        }
        Value::Double(d) if d.fract() == 0.0 && d.abs() < 9.0e15 => Ok(*d as i64),
        _ => Err(DecodeError::new(field, "an integer", v)),
    }
}

/// Like [`to_i64`] but `<nil/>`, `False` and `""` read as `None`.
pub fn to_opt_i64(field: &str, v: &Value) -> Result<Option<i64>, DecodeError> {
    match v {
        Value::Nil | Value::Boolean(false) => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        _ => to_i64(field, v).map(Some),
    }
}

/// Reads an amount or quantity as a decimal from a string (`'149.9900'`), an int, or a double.
///
/// Doubles are rounded to 6 decimal places first, which removes binary noise such as
/// `213.74000000000001` without touching any real amount.
pub fn to_decimal(field: &str, v: &Value) -> Result<Decimal, DecodeError> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            Decimal::from_str(t)
                .or_else(|_| Decimal::from_scientific(t))
                .map_err(|_| DecodeError::new(field, "a decimal number", v))
        }
        Value::Integer(i) => Ok(Decimal::from(*i)),
        Value::Long(i) => Ok(Decimal::from(*i)),
        Value::Double(d) => decimal_from_f64(*d).ok_or_else(|| DecodeError::new(field, "a finite number", v)),
        _ => Err(DecodeError::new(field, "a decimal number", v)),
    }
}

/// Like [`to_decimal`] but `<nil/>`, `False` and `""` read as `None`.
pub fn to_opt_decimal(field: &str, v: &Value) -> Result<Option<Decimal>, DecodeError> {
    match v {
        Value::Nil | Value::Boolean(false) => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        _ => to_decimal(field, v).map(Some),
    }
}

/// Converts a double to a decimal rounded to 6 places (`None` for NaN or infinities).
pub fn decimal_from_f64(d: f64) -> Option<Decimal> {
    if !d.is_finite() {
        return None;
    }
    Decimal::from_f64_retain(d).map(|x| x.round_dp(6).normalize())
}

/// Converts a decimal to the double Odoo's float fields take.
pub fn decimal_to_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}

/// Reads a flag from `<boolean>`, `<int>` 0/1, or a string (`"0"`, `"1"`, `""`, `"true"`,
/// `"false"`). `<nil/>` is false.
pub fn to_bool(field: &str, v: &Value) -> Result<bool, DecodeError> {
    match v {
        Value::Boolean(b) => Ok(*b),
        Value::Integer(i) => Ok(*i != 0),
        Value::Long(i) => Ok(*i != 0),
        Value::Nil => Ok(false),
        Value::Double(d) => Ok(*d != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" | "0" | "false" | "no" => Ok(false),
            "1" | "true" | "yes" => Ok(true),
            t => t.parse::<f64>().map(|n| n != 0.0).map_err(|_| DecodeError::new(field, "a flag", v)),
        },
        _ => Err(DecodeError::new(field, "a flag", v)),
    }
}

/// Reads text. Ints and doubles are rendered as text (Magento SKUs and codes may arrive as ints).
/// `<nil/>` and Odoo's `False` are errors here; use [`to_opt_string`] for optional text.
pub fn to_string(field: &str, v: &Value) -> Result<String, DecodeError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Integer(i) => Ok(i.to_string()),
        Value::Long(i) => Ok(i.to_string()),
        Value::Double(d) => Ok(d.to_string()),
        _ => Err(DecodeError::new(field, "text", v)),
    }
}

/// Optional text: `<nil/>`, `False` and missing read as `None`; `""` stays `Some("")`.
pub fn to_opt_string(field: &str, v: &Value) -> Result<Option<String>, DecodeError> {
    match v {
        Value::Nil | Value::Boolean(false) => Ok(None),
        _ => to_string(field, v).map(Some),
    }
}

/// Reads a date-time in UTC from the formats both peers send: `'YYYY-MM-DD HH:MM:SS'` (UTC, no
/// zone), ISO-8601 with an offset (`2026-11-27T02:39:29+00:00`), or a date alone (midnight UTC).
pub fn to_datetime(field: &str, v: &Value) -> Result<DateTime<Utc>, DecodeError> {
    let s = match v {
        Value::String(s) => s.trim(),
        _ => return Err(DecodeError::new(field, "a date-time", v)),
    };
    parse_datetime(s).ok_or_else(|| DecodeError::new(field, "a date-time", v))
}

/// Optional date-time: `<nil/>`, `False`, `""` and Magento's zero date read as `None`.
pub fn to_opt_datetime(field: &str, v: &Value) -> Result<Option<DateTime<Utc>>, DecodeError> {
    match v {
        Value::Nil | Value::Boolean(false) => Ok(None),
        Value::String(s) if s.trim().is_empty() || s.starts_with("0000-00-00") => Ok(None),
        _ => to_datetime(field, v).map(Some),
    }
}

/// Parses the date-time formats described in [`to_datetime`].
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(n.and_utc());
        }
    }
    if let Ok(dt) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%:z") {
        return Some(dt.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|n| n.and_utc())
}

/// Formats a UTC date-time the way both peers store it: `'YYYY-MM-DD HH:MM:SS'`.
pub fn format_datetime(dt: &DateTime<Utc>) -> String {
    dt.format("%Y-%m-%d %H:%M:%S").to_string()
}

// ---------------------------------------------------------------------------------------------
// Structs, arrays and Odoo relations

/// Reads a struct. An empty `<array>` (PHP's empty hash) and `<nil/>`/`False` read as an empty
/// struct.
pub fn to_map<'a>(field: &str, v: &'a Value) -> Result<std::borrow::Cow<'a, Map>, DecodeError> {
    match v {
        Value::Struct(m) => Ok(std::borrow::Cow::Borrowed(m)),
        Value::Array(a) if a.is_empty() => Ok(std::borrow::Cow::Owned(Map::new())),
        Value::Nil | Value::Boolean(false) => Ok(std::borrow::Cow::Owned(Map::new())),
        _ => Err(DecodeError::new(field, "a struct", v)),
    }
}

/// Reads an array. `<nil/>` and `False` read as empty; a struct with keys `"0".."n-1"` (PHP list
/// with gaps) reads as its values in key order.
pub fn to_array<'a>(field: &str, v: &'a Value) -> Result<std::borrow::Cow<'a, [Value]>, DecodeError> {
    match v {
        Value::Array(a) => Ok(std::borrow::Cow::Borrowed(a.as_slice())),
        Value::Nil | Value::Boolean(false) => Ok(std::borrow::Cow::Owned(Vec::new())),
        Value::Struct(m) if m.keys().all(|k| k.parse::<u64>().is_ok()) => {
            let mut entries: Vec<(u64, &Value)> =
                m.iter().filter_map(|(k, v)| k.parse::<u64>().ok().map(|n| (n, v))).collect();
            entries.sort_by_key(|(n, _)| *n);
            Ok(std::borrow::Cow::Owned(entries.into_iter().map(|(_, v)| v.clone()).collect()))
        }
        _ => Err(DecodeError::new(field, "an array", v)),
    }
}

/// An Odoo many2one as read over XML-RPC: `[id, "display name"]`, or `False`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Many2one {
    /// Record id.
    pub id: i64,
    /// Display name at read time.
    pub name: String,
}

/// Reads a many2one: `[id, name]`, a bare id (with `load=None`), or `False` → `None`.
pub fn to_many2one(field: &str, v: &Value) -> Result<Option<Many2one>, DecodeError> {
    match v {
        Value::Nil | Value::Boolean(false) => Ok(None),
        Value::Array(a) if a.len() == 2 => {
            Ok(Some(Many2one { id: to_i64(field, &a[0])?, name: to_opt_string(field, &a[1])?.unwrap_or_default() }))
        }
        Value::Integer(_) | Value::Long(_) => Ok(Some(Many2one { id: to_i64(field, v)?, name: String::new() })),
        _ => Err(DecodeError::new(field, "a many2one ([id, name] or False)", v)),
    }
}

/// Reads a list of ids (one2many / many2many read, `search` result).
pub fn to_ids(field: &str, v: &Value) -> Result<Vec<i64>, DecodeError> {
    to_array(field, v)?.iter().map(|x| to_i64(field, x)).collect()
}

/// Borrowed view of a struct with typed, lenient getters that name the field in errors.
///
/// Missing members and `<nil/>`/`False` are treated alike by the `opt_*` getters.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    map: &'a Map,
    context: &'a str,
}

static EMPTY_MAP: std::sync::LazyLock<Map> = std::sync::LazyLock::new(Map::new);

impl<'a> Record<'a> {
    /// Wraps a struct; `context` prefixes field names in errors (e.g. `"order 100000001"`).
    pub fn new(map: &'a Map, context: &'a str) -> Self {
        Record { map, context }
    }

    /// Wraps a value that must be a struct (an empty `<array>` counts as an empty struct).
    pub fn from_value(v: &'a Value, context: &'a str) -> Result<Self, DecodeError> {
        match v {
            Value::Struct(m) => Ok(Record { map: m, context }),
            Value::Array(a) if a.is_empty() => Ok(Record { map: &EMPTY_MAP, context }),
            _ => Err(DecodeError::new(context, "a struct", v)),
        }
    }

    /// The underlying map.
    pub fn map(&self) -> &'a Map {
        self.map
    }

    fn name(&self, key: &str) -> String {
        if self.context.is_empty() { key.to_owned() } else { format!("{}.{key}", self.context) }
    }

    /// Raw member, if present.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// True when the member is present and not nil/False/"".
    pub fn has(&self, key: &str) -> bool {
        match self.map.get(key) {
            None => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(v) => !is_empty(v),
        }
    }

    fn req(&self, key: &str, expected: &'static str) -> Result<&'a Value, DecodeError> {
        self.map.get(key).ok_or_else(|| DecodeError::missing(self.name(key), expected))
    }

    /// Required integer.
    pub fn i64(&self, key: &str) -> Result<i64, DecodeError> {
        to_i64(&self.name(key), self.req(key, "an integer")?)
    }

    /// Optional integer.
    pub fn opt_i64(&self, key: &str) -> Result<Option<i64>, DecodeError> {
        self.map.get(key).map_or(Ok(None), |v| to_opt_i64(&self.name(key), v))
    }

    /// Required decimal.
    pub fn decimal(&self, key: &str) -> Result<Decimal, DecodeError> {
        to_decimal(&self.name(key), self.req(key, "a decimal number")?)
    }

    /// Optional decimal.
    pub fn opt_decimal(&self, key: &str) -> Result<Option<Decimal>, DecodeError> {
        self.map.get(key).map_or(Ok(None), |v| to_opt_decimal(&self.name(key), v))
    }

    /// Decimal defaulting to zero when missing or empty.
    pub fn decimal_or_zero(&self, key: &str) -> Result<Decimal, DecodeError> {
        Ok(self.opt_decimal(key)?.unwrap_or(Decimal::ZERO))
    }

    /// Flag; missing reads as false.
    pub fn bool(&self, key: &str) -> Result<bool, DecodeError> {
        self.map.get(key).map_or(Ok(false), |v| to_bool(&self.name(key), v))
    }

    /// Required text.
    pub fn string(&self, key: &str) -> Result<String, DecodeError> {
        to_string(&self.name(key), self.req(key, "text")?)
    }

    /// Optional text (`None` for missing, nil or False).
    pub fn opt_string(&self, key: &str) -> Result<Option<String>, DecodeError> {
        self.map.get(key).map_or(Ok(None), |v| to_opt_string(&self.name(key), v))
    }

    /// Text defaulting to `""`.
    pub fn string_or_empty(&self, key: &str) -> Result<String, DecodeError> {
        Ok(self.opt_string(key)?.unwrap_or_default())
    }

    /// Required date-time (UTC).
    pub fn datetime(&self, key: &str) -> Result<DateTime<Utc>, DecodeError> {
        to_datetime(&self.name(key), self.req(key, "a date-time")?)
    }

    /// Optional date-time (UTC).
    pub fn opt_datetime(&self, key: &str) -> Result<Option<DateTime<Utc>>, DecodeError> {
        self.map.get(key).map_or(Ok(None), |v| to_opt_datetime(&self.name(key), v))
    }

    /// Nested struct; missing, nil, False and `[]` read as an empty record.
    pub fn record(&self, key: &str) -> Result<Record<'a>, DecodeError> {
        match self.map.get(key) {
            None | Some(Value::Nil) | Some(Value::Boolean(false)) => {
                Ok(Record { map: &EMPTY_MAP, context: self.context })
            }
            Some(v) => Record::from_value(v, self.context).map_err(|_| DecodeError::new(self.name(key), "a struct", v)),
        }
    }

    /// Array member; missing, nil and False read as empty.
    pub fn array(&self, key: &str) -> Result<std::borrow::Cow<'a, [Value]>, DecodeError> {
        self.map.get(key).map_or(Ok(std::borrow::Cow::Owned(Vec::new())), |v| to_array(&self.name(key), v))
    }

    /// Odoo many2one member.
    pub fn many2one(&self, key: &str) -> Result<Option<Many2one>, DecodeError> {
        self.map.get(key).map_or(Ok(None), |v| to_many2one(&self.name(key), v))
    }

    /// Odoo x2many member (list of ids); missing reads as empty.
    pub fn ids(&self, key: &str) -> Result<Vec<i64>, DecodeError> {
        self.map.get(key).map_or(Ok(Vec::new()), |v| to_ids(&self.name(key), v))
    }
}

/// Removes C0 control characters (except tab, LF, CR) from every string inside `v`, as Odoo's
/// marshaller does; XML 1.0 cannot carry them.
pub fn strip_control_chars(v: &mut Value) {
    match v {
        Value::String(s) if s.chars().any(is_forbidden_control) => s.retain(|c| !is_forbidden_control(c)),
        Value::Struct(m) => m.values_mut().for_each(strip_control_chars),
        Value::Array(a) => a.iter_mut().for_each(strip_control_chars),
        _ => {}
    }
}

fn is_forbidden_control(c: char) -> bool {
    (c < ' ' && c != '\t' && c != '\n' && c != '\r') || c == '\u{FFFE}' || c == '\u{FFFF}'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn ids_read_from_int_string_and_integral_double() {
        assert_eq!(to_i64("id", &Value::Integer(20)).unwrap(), 20);
        assert_eq!(to_i64("id", &string(" 20 ")).unwrap(), 20);
        assert_eq!(to_i64("qty", &string("3.0000")).unwrap(), 3);
        assert_eq!(to_i64("id", &Value::Double(7.0)).unwrap(), 7);
        assert!(to_i64("id", &string("abc")).is_err());
        assert!(to_i64("id", &string("3.5")).is_err());
        assert_eq!(to_opt_i64("id", &Value::Nil).unwrap(), None);
        assert_eq!(to_opt_i64("id", &Value::Boolean(false)).unwrap(), None);
    }

    #[test]
    fn amounts_read_exactly_and_double_noise_is_removed() {
        assert_eq!(to_decimal("price", &string("149.9900")).unwrap(), dec("149.99"));
        assert_eq!(to_decimal("d", &string("-21.3700")).unwrap(), dec("-21.37"));
        let noisy: f64 = "213.74000000000001".parse().unwrap();
        assert_eq!(to_decimal("t", &Value::Double(noisy)).unwrap(), dec("213.74"));
        assert_eq!(to_decimal("t", &Value::Double(10.0)).unwrap(), dec("10"));
        assert_eq!(to_decimal("t", &Value::Integer(5)).unwrap(), dec("5"));
        assert_eq!(to_decimal("t", &string("1e+16")).unwrap(), dec("10000000000000000"));
        assert!(to_decimal("t", &Value::Double(f64::NAN)).is_err());
        assert!(to_decimal("t", &string("12,50")).is_err());
    }

    #[test]
    fn flags_accept_bool_int_and_strings() {
        assert!(to_bool("f", &Value::Boolean(true)).unwrap());
        assert!(to_bool("f", &Value::Integer(1)).unwrap());
        assert!(!to_bool("f", &string("0")).unwrap());
        assert!(to_bool("f", &string("1")).unwrap());
        assert!(!to_bool("f", &Value::Nil).unwrap());
        assert!(to_bool("f", &string("maybe")).is_err());
    }

    #[test]
    fn both_magento_date_formats_parse_to_utc() {
        let a = to_datetime("d", &string("2026-11-27 02:39:29")).unwrap();
        let b = to_datetime("d", &string("2026-11-27T02:39:29+00:00")).unwrap();
        let c = to_datetime("d", &string("2026-11-27T04:39:29+02:00")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(format_datetime(&a), "2026-11-27 02:39:29");
        assert_eq!(to_opt_datetime("d", &string("0000-00-00 00:00:00")).unwrap(), None);
        assert_eq!(format_datetime(&to_datetime("d", &string("1980-05-17")).unwrap()), "1980-05-17 00:00:00");
    }

    #[test]
    fn empty_array_reads_as_empty_struct() {
        let v = Value::Array(vec![]);
        let r = Record::from_value(&v, "payment").unwrap();
        assert!(r.map().is_empty());
        assert!(Record::from_value(&string("x"), "payment").is_err());
    }

    #[test]
    fn many2one_reads_pair_false_and_bare_id() {
        let v = array([int(8), string("All / Saleable")]);
        assert_eq!(to_many2one("categ_id", &v).unwrap(), Some(Many2one { id: 8, name: "All / Saleable".into() }));
        assert_eq!(to_many2one("categ_id", &Value::Boolean(false)).unwrap(), None);
        assert_eq!(to_many2one("categ_id", &int(3)).unwrap().unwrap().id, 3);
        assert!(to_many2one("categ_id", &string("x")).is_err());
    }

    #[test]
    fn record_getters_name_the_field_in_errors() {
        let v = structure([("sku", string("A")), ("price", string("oops")), ("note", Value::Boolean(false))]);
        let r = Record::from_value(&v, "item 3").unwrap();
        assert_eq!(r.string("sku").unwrap(), "A");
        assert_eq!(r.opt_string("note").unwrap(), None);
        let e = r.decimal("price").unwrap_err();
        assert_eq!(e.field, "item 3.price");
        assert!(e.to_string().contains("expected a decimal number"));
        let e = r.i64("qty").unwrap_err();
        assert!(e.to_string().contains("missing"));
    }

    #[test]
    fn php_list_struct_reads_as_array_in_key_order() {
        let v = structure([("1", string("b")), ("0", string("a")), ("10", string("c"))]);
        let a = to_array("x", &v).unwrap();
        assert_eq!(a.as_ref(), &[string("a"), string("b"), string("c")]);
    }

    #[test]
    fn control_characters_are_stripped_recursively() {
        let mut v = array([string("a\u{1}b\tc\n"), structure([("k", string("\u{0}x"))])]);
        strip_control_chars(&mut v);
        assert_eq!(v, array([string("ab\tc\n"), structure([("k", string("x"))])]));
    }

    #[test]
    fn describe_is_bounded() {
        let long = "x".repeat(10_000);
        assert!(describe(&string(long)).len() < 80);
    }
}
