//! How PHP and MySQL shape values on the wire: 4-decimal money strings, the two date formats,
//! half-up rounding, `is_numeric`, `serialize()` and the handler's `processingRow`.
//!
//! Pure functions only; this module knows nothing of the shop.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use dxr::Value;
use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds to `dp` places, half away from zero (PHP `round`, Magento `Store::roundPrice`).
pub(crate) fn round(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// Rounds money to cents.
pub(crate) fn cents(d: Decimal) -> Decimal {
    round(d, 2)
}

/// A DECIMAL(12,4) column as MySQL returns it: `'149.9900'`.
pub(crate) fn decimal4(d: Decimal) -> String {
    let r = round(d, 4);
    format!("{r:.4}")
}

/// [`decimal4`] as an XML-RPC string value.
pub(crate) fn money(d: Decimal) -> Value {
    Value::String(decimal4(d))
}

/// An optional DECIMAL column: `<nil/>` for NULL.
pub(crate) fn opt_money(d: Option<Decimal>) -> Value {
    d.map_or(Value::Nil, money)
}

/// A DATETIME column: `'YYYY-MM-DD HH:MM:SS'` (UTC, the shop's timezone).
pub(crate) fn datetime(dt: &DateTime<Utc>) -> String {
    dt.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// [`datetime`] as an XML-RPC string value.
pub(crate) fn datetime_value(dt: &DateTime<Utc>) -> Value {
    Value::String(datetime(dt))
}

/// `created_at` as EAV `*.info` calls return it: ISO-8601 with offset (`2026-11-27T02:39:29+00:00`).
pub(crate) fn iso_value(dt: &DateTime<Utc>) -> Value {
    Value::String(dt.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
}

/// An INT column as PHP 8.2 pdo_mysql returns it: `<int>`.
pub(crate) fn int(i: i64) -> Value {
    crate::rpc::value::id(i)
}

/// An optional INT column.
pub(crate) fn opt_int(i: Option<i64>) -> Value {
    i.map_or(Value::Nil, int)
}

/// An optional text column.
pub(crate) fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::Nil, |s| Value::String(s.to_owned()))
}

/// PHP `is_numeric`: optional leading whitespace, sign, digits with an optional fraction and
/// exponent (trailing whitespace allowed since PHP 8).
pub(crate) fn is_numeric(s: &str) -> bool {
    let t = s
        .trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
        .trim_end_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let b = t.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == exp_start {
            return false;
        }
        i = j;
    }
    i == b.len()
}

/// PHP `(int)` of a numeric string (`"12.7"` → 12, `"1e3"` → 1000); `None` when not numeric.
pub(crate) fn int_of_numeric(s: &str) -> Option<i64> {
    if !is_numeric(s) {
        return None;
    }
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i);
    }
    let f: f64 = t.parse().ok()?;
    if f.is_finite() && f.abs() < 9.2e18 { Some(f.trunc() as i64) } else { None }
}

/// The regex `^[+-]?[1-9][0-9]*$|^0$` that Magento uses to tell an id from a SKU.
pub(crate) fn looks_like_id(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut chars = digits.chars();
    matches!(chars.next(), Some('1'..='9')) && chars.all(|c| c.is_ascii_digit())
}

/// PHP truthiness (`empty()` is its negation) of an XML-RPC value.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Nil => false,
        Value::Boolean(b) => *b,
        Value::Integer(i) => *i != 0,
        Value::Long(i) => *i != 0,
        Value::Double(d) => *d != 0.0,
        Value::String(s) => !(s.is_empty() || s == "0"),
        Value::Array(a) => !a.is_empty(),
        Value::Struct(m) => !m.is_empty(),
        _ => true,
    }
}

/// PHP string conversion of a scalar (`(string)$v`); arrays become `"Array"`, as PHP does.
pub(crate) fn to_php_string(v: &Value) -> String {
    match v {
        Value::Nil => String::new(),
        Value::Boolean(true) => "1".into(),
        Value::Boolean(false) => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Long(i) => i.to_string(),
        Value::Double(d) => php_float(*d),
        Value::String(s) => s.clone(),
        Value::Base64(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Array(_) | Value::Struct(_) => "Array".into(),
        _ => String::new(),
    }
}

/// PHP's string form of a float (`10.0` → `"10"`, `45.5` → `"45.5"`).
pub(crate) fn php_float(d: f64) -> String {
    if d.fract() == 0.0 && d.abs() < 1e15 { format!("{}", d as i64) } else { format!("{d}") }
}

/// A decimal from a PHP scalar the way MySQL stores it into a DECIMAL column: numeric strings
/// and numbers convert, anything else becomes 0 (MySQL's non-strict conversion).
pub(crate) fn to_decimal_lenient(v: &Value) -> Decimal {
    match v {
        Value::Integer(i) => Decimal::from(*i),
        Value::Long(i) => Decimal::from(*i),
        Value::Double(d) => crate::rpc::value::decimal_from_f64(*d).unwrap_or(Decimal::ZERO),
        Value::Boolean(b) => Decimal::from(u8::from(*b)),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<Decimal>().or_else(|_| Decimal::from_scientific(t)).unwrap_or(Decimal::ZERO)
        }
        _ => Decimal::ZERO,
    }
}

/// An integer from a PHP scalar as an INT column stores it (`"4"` → 4, `true` → 1, junk → 0).
pub(crate) fn to_int_lenient(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => i64::from(*i),
        Value::Long(i) => *i,
        Value::Double(d) => *d as i64,
        Value::Boolean(b) => i64::from(*b),
        Value::String(s) => int_of_numeric(s).unwrap_or(0),
        _ => 0,
    }
}

/// Replaces characters XML cannot carry with a literal `&#N;`, as the handler's
/// `processingRow` does for every string of a result.
pub(crate) fn processing_row(v: &mut Value) {
    match v {
        Value::String(s) if s.chars().any(|c| !xml_char(c)) => {
            let mut out = String::with_capacity(s.len() + 8);
            for c in s.chars() {
                if xml_char(c) {
                    out.push(c);
                } else {
                    let _ = write!(out, "&#{};", c as u32);
                }
            }
            *s = out;
        }
        Value::Array(a) => a.iter_mut().for_each(processing_row),
        Value::Struct(m) => m.values_mut().for_each(processing_row),
        _ => {}
    }
}

fn xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// A PHP value for `serialize()` (order item `product_options` are PHP-serialized strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ser {
    /// `i:N;`
    Int(i64),
    /// `s:LEN:"…";` (length in bytes).
    Str(String),
    /// `a:N:{…}` with integer or string keys, in insertion order.
    Arr(Vec<(SerKey, Ser)>),
}

/// A PHP array key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SerKey {
    /// Integer key.
    Int(i64),
    /// String key.
    Str(String),
}

impl Ser {
    /// An array with string keys.
    pub(crate) fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Ser)>) -> Ser {
        Ser::Arr(pairs.into_iter().map(|(k, v)| (SerKey::Str(k.into()), v)).collect())
    }

    /// A string.
    pub(crate) fn str(s: impl Into<String>) -> Ser {
        Ser::Str(s.into())
    }

    /// PHP `serialize()` of this value.
    pub(crate) fn serialize(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Ser::Int(i) => {
                let _ = write!(out, "i:{i};");
            }
            Ser::Str(s) => {
                let _ = write!(out, "s:{}:\"{s}\";", s.len());
            }
            Ser::Arr(items) => {
                let _ = write!(out, "a:{}:{{", items.len());
                for (k, v) in items {
                    match k {
                        SerKey::Int(i) => {
                            let _ = write!(out, "i:{i};");
                        }
                        SerKey::Str(s) => Ser::Str(s.clone()).write(out),
                    }
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// A quantity for `info_buyRequest`: integral quantities serialize as ints, others as strings.
pub(crate) fn qty_ser(q: Decimal) -> Ser {
    if q.fract().is_zero() {
        i64::try_from(q.trunc()).map_or_else(|_| Ser::Str(q.normalize().to_string()), Ser::Int)
    } else {
        Ser::Str(q.normalize().to_string())
    }
}

/// MySQL's `LIKE` with `%` and `_` wildcards, case-insensitive (utf8_general_ci), `\` escapes.
pub(crate) fn sql_like(value: &str, pattern: &str) -> bool {
    let v: Vec<char> = value.to_lowercase().chars().collect();
    let mut p: Vec<(char, bool)> = Vec::new();
    let mut chars = pattern.to_lowercase().chars().collect::<Vec<_>>().into_iter();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                p.push((n, true));
            }
        } else {
            p.push((c, false));
        }
    }
    // Iterative wildcard matching with backtracking on the last `%`.
    let (mut vi, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        match p.get(pi) {
            Some(('%', false)) => {
                star = Some((pi, vi));
                pi += 1;
            }
            Some(('_', false)) => {
                vi += 1;
                pi += 1;
            }
            Some((c, _)) if *c == v[vi] => {
                vi += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    pi = sp + 1;
                    vi = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    while matches!(p.get(pi), Some(('%', false))) {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn money_has_four_decimals_and_rounds_half_up() {
        assert_eq!(decimal4(d("149.99")), "149.9900");
        assert_eq!(decimal4(d("-21.37")), "-21.3700");
        assert_eq!(decimal4(Decimal::ZERO), "0.0000");
        assert_eq!(cents(d("2.385")), d("2.39"));
        assert_eq!(cents(d("48.605")), d("48.61"));
        assert_eq!(cents(d("-0.005")), d("-0.01"));
    }

    #[test]
    fn numeric_strings_follow_php() {
        for s in ["12", " 12", "12 ", "-1.5", ".5", "1e3", "+7", "0"] {
            assert!(is_numeric(s), "{s}");
        }
        for s in ["", "abc", "1a", "e3", "1e", ".", "0x1A", "--1"] {
            assert!(!is_numeric(s), "{s}");
        }
        assert_eq!(int_of_numeric("12.7"), Some(12));
        assert_eq!(int_of_numeric("1e3"), Some(1000));
        assert!(looks_like_id("1001") && looks_like_id("0") && looks_like_id("-3"));
        assert!(!looks_like_id("0123") && !looks_like_id("12.0") && !looks_like_id("SKU-1") && !looks_like_id(""));
    }

    #[test]
    fn serialize_matches_php() {
        let v = Ser::map([("info_buyRequest", Ser::map([("sku", Ser::str("HOME-001")), ("qty", Ser::Int(3))]))]);
        assert_eq!(v.serialize(), r#"a:1:{s:15:"info_buyRequest";a:2:{s:3:"sku";s:8:"HOME-001";s:3:"qty";i:3;}}"#);
        let k = Ser::Arr(vec![(SerKey::Int(94), Ser::Int(4)), (SerKey::Int(134), Ser::Int(9))]);
        assert_eq!(k.serialize(), "a:2:{i:94;i:4;i:134;i:9;}");
        assert_eq!(Ser::str("é").serialize(), "s:2:\"é\";");
    }

    #[test]
    fn processing_row_escapes_control_characters() {
        let mut v = Value::Array(vec![Value::String("a\u{1}b".into()), Value::String("ok\n".into())]);
        processing_row(&mut v);
        assert_eq!(v, Value::Array(vec![Value::String("a&#1;b".into()), Value::String("ok\n".into())]));
    }

    #[test]
    fn like_supports_wildcards_case_insensitively() {
        assert!(sql_like("CLO-TSHIRT-RED-S", "CLO-TSHIRT%"));
        assert!(sql_like("john.doe@example.com", "%@EXAMPLE.com"));
        assert!(sql_like("abc", "a_c"));
        assert!(!sql_like("abcd", "a_c"));
        assert!(sql_like("a%b", "a\\%b"));
        assert!(!sql_like("axb", "a\\%b"));
        assert!(sql_like("", "%"));
    }
}
