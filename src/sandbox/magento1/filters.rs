//! Filters of the v1 `list` methods as they arrive over XML-RPC (protocols.md A.7).
//!
//! An XML-RPC struct reaches PHP as an array, so each `field => condition` pair goes straight
//! to `addFieldToFilter` and Varien's `prepareSqlCondition`: a scalar means `=`, a struct applies
//! **only its first recognised operator** (except the `from`/`to` pair), and a struct or list
//! without operator keys is an OR of its items. Comparisons follow MySQL: NULL matches nothing
//! but `null`/`is`, text compares case-insensitively (`utf8_general_ci`), numbers numerically,
//! DATETIME columns as date-times.
//!
//! dxr keeps struct members in a `BTreeMap`, so "first operator" means first in alphabetical
//! order here, not first as sent (`{gt, lt}` behaves as in PHP, `{lt, gt}` does not).

use std::cmp::Ordering;
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use dxr::Value;
use rust_decimal::Decimal;

use super::php;

/// A column value of one row (`None` is SQL NULL).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    /// Number.
    Num(Decimal),
    /// Text.
    Text(String),
    /// Date-time (UTC).
    Date(DateTime<Utc>),
}

impl Scalar {
    /// Number from an integer.
    pub(crate) fn int(i: i64) -> Scalar {
        Scalar::Num(Decimal::from(i))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Eq(Value),
    Neq(Value),
    Like(String),
    NLike(String),
    In(InList),
    Nin(Vec<Value>),
    Null,
    NotNull,
    Is(Value),
    Gt(Value),
    Lt(Value),
    Gteq(Value),
    Lteq(Value),
    Finset(Value),
    Regexp(String),
    Range(Option<Value>, Option<Value>),
    Or(Vec<Cond>),
}

/// The values of an `in` condition, with their text forms folded once (a SKU lookup of 200
/// SKUs against every product would otherwise fold each SKU again for each product).
#[derive(Debug, Clone, PartialEq)]
struct InList {
    values: Vec<Value>,
    texts: HashSet<String>,
}

impl InList {
    fn new(values: Vec<Value>) -> InList {
        let texts = values.iter().map(|v| fold(&php::to_php_string(v))).collect();
        InList { values, texts }
    }
}

/// Text as a case-insensitive MySQL collation compares it: lowercased, trailing spaces ignored.
fn fold(s: &str) -> String {
    let mut t = s.to_lowercase();
    t.truncate(t.trim_end().len());
    t
}

const OPERATORS: &[&str] = &[
    "eq", "neq", "like", "nlike", "in", "nin", "is", "notnull", "null", "gt", "lt", "gteq", "lteq", "finset", "regexp",
    "from", "to", "seq", "sneq",
];

/// A parsed filter struct: `(canonical field, condition)` pairs, all of which must hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    clauses: Vec<(String, Cond)>,
}

impl Filter {
    /// Parses the `filters` argument; `aliases` maps API names to columns (`product_id` →
    /// `entity_id`). Anything but a struct or list filters nothing, as PHP's `foreach` on a
    /// scalar does.
    pub(crate) fn parse(filters: Option<&Value>, aliases: &[(&str, &str)]) -> Filter {
        let pairs: Vec<(String, &Value)> = match filters {
            Some(Value::Struct(m)) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Some(Value::Array(a)) => a.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
            _ => Vec::new(),
        };
        let clauses = pairs
            .into_iter()
            .map(|(field, v)| {
                let field = aliases.iter().find(|(a, _)| *a == field).map_or(field, |(_, c)| (*c).to_owned());
                (field, parse_cond(v))
            })
            .collect();
        Filter { clauses }
    }

    /// The (canonical) fields filtered on, for up-front validation.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &str> {
        self.clauses.iter().map(|(f, _)| f.as_str())
    }

    /// True when the row whose columns `get` returns passes every clause.
    pub(crate) fn matches(&self, get: impl Fn(&str) -> Option<Scalar>) -> bool {
        self.clauses.iter().all(|(field, cond)| eval(cond, get(field).as_ref()))
    }

    /// The folded texts a row's `field` must be one of, when a clause is `field in [...]`
    /// (every clause must hold, so rows can be looked up by these keys instead of scanned).
    pub(crate) fn in_texts(&self, field: &str) -> Option<impl Iterator<Item = &str>> {
        self.clauses.iter().find_map(|(f, cond)| match cond {
            Cond::In(list) if f == field => Some(list.texts.iter().map(String::as_str)),
            _ => None,
        })
    }

    /// True when there is nothing to filter.
    pub(crate) fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }
}

fn parse_cond(v: &Value) -> Cond {
    match v {
        Value::Struct(m) => {
            if m.contains_key("from") || m.contains_key("to") {
                return Cond::Range(m.get("from").cloned(), m.get("to").cloned());
            }
            match m.iter().find(|(k, _)| OPERATORS.contains(&k.as_str())) {
                Some((op, val)) => op_cond(op, val),
                None => Cond::Or(m.values().map(parse_cond).collect()),
            }
        }
        Value::Array(a) => Cond::Or(a.iter().map(parse_cond).collect()),
        other => Cond::Eq(other.clone()),
    }
}

fn op_cond(op: &str, v: &Value) -> Cond {
    let text = || php::to_php_string(v);
    match op {
        "eq" | "seq" => Cond::Eq(v.clone()),
        "neq" | "sneq" => Cond::Neq(v.clone()),
        "like" => Cond::Like(text()),
        "nlike" => Cond::NLike(text()),
        "in" => Cond::In(InList::new(super::args::list_of(Some(v)))),
        "nin" => Cond::Nin(super::args::list_of(Some(v))),
        "null" => Cond::Null,
        "notnull" => Cond::NotNull,
        "is" => Cond::Is(v.clone()),
        "gt" => Cond::Gt(v.clone()),
        "lt" => Cond::Lt(v.clone()),
        "gteq" => Cond::Gteq(v.clone()),
        "lteq" => Cond::Lteq(v.clone()),
        "finset" => Cond::Finset(v.clone()),
        _ => Cond::Regexp(text()),
    }
}

/// Compares a column value with a filter value the way MySQL does for the column's type.
fn compare(col: &Scalar, v: &Value) -> Option<Ordering> {
    match col {
        Scalar::Num(n) => Some(n.cmp(&php::to_decimal_lenient(v))),
        Scalar::Text(s) => Some(fold(s).as_str().cmp(fold(&php::to_php_string(v)).as_str())),
        Scalar::Date(d) => {
            let s = php::to_php_string(v);
            crate::rpc::value::parse_datetime(s.trim()).map(|f| d.cmp(&f))
        }
    }
}

fn text_of(col: &Scalar) -> String {
    match col {
        Scalar::Num(n) => n.normalize().to_string(),
        Scalar::Text(s) => s.clone(),
        Scalar::Date(d) => php::datetime(d),
    }
}

fn eval(cond: &Cond, col: Option<&Scalar>) -> bool {
    let cmp = |v: &Value, want: &[Ordering]| col.and_then(|c| compare(c, v)).is_some_and(|o| want.contains(&o));
    match cond {
        Cond::Null => col.is_none(),
        Cond::NotNull => col.is_some(),
        Cond::Is(v) => {
            let s = php::to_php_string(v).to_ascii_uppercase();
            match s.as_str() {
                "NULL" => col.is_none(),
                "NOT NULL" => col.is_some(),
                _ => false,
            }
        }
        Cond::Eq(v) => cmp(v, &[Ordering::Equal]),
        Cond::Neq(v) => cmp(v, &[Ordering::Less, Ordering::Greater]),
        Cond::Gt(v) => cmp(v, &[Ordering::Greater]),
        Cond::Lt(v) => cmp(v, &[Ordering::Less]),
        Cond::Gteq(v) => cmp(v, &[Ordering::Greater, Ordering::Equal]),
        Cond::Lteq(v) => cmp(v, &[Ordering::Less, Ordering::Equal]),
        Cond::Like(p) => col.is_some_and(|c| php::sql_like(&text_of(c), p)),
        Cond::NLike(p) => col.is_some_and(|c| !php::sql_like(&text_of(c), p)),
        Cond::In(list) => match col {
            Some(Scalar::Text(s)) => list.texts.contains(fold(s).as_str()),
            _ => list.values.iter().any(|v| cmp(v, &[Ordering::Equal])),
        },
        Cond::Nin(vs) => {
            col.is_some() && !vs.is_empty() && vs.iter().all(|v| cmp(v, &[Ordering::Less, Ordering::Greater]))
        }
        Cond::Finset(v) => {
            let needle = php::to_php_string(v);
            col.is_some_and(|c| text_of(c).split(',').any(|x| x == needle))
        }
        Cond::Regexp(p) => col.is_some_and(|c| text_of(c).to_lowercase().contains(&p.to_lowercase())),
        Cond::Range(from, to) => {
            col.is_some()
                && from.as_ref().is_none_or(|f| cmp(f, &[Ordering::Greater, Ordering::Equal]))
                && to.as_ref().is_none_or(|t| cmp(t, &[Ordering::Less, Ordering::Equal]))
        }
        Cond::Or(items) => items.iter().any(|c| eval(c, col)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::value::{array, int, string, structure};

    fn row(field: &str) -> Option<Scalar> {
        match field {
            "entity_id" => Some(Scalar::int(7)),
            "sku" => Some(Scalar::Text("CLO-TSHIRT-RED-S".into())),
            "increment_id" => Some(Scalar::Text("100000010".into())),
            "created_at" => crate::rpc::value::parse_datetime("2026-11-27 02:40:54").map(Scalar::Date),
            _ => None,
        }
    }

    fn check(f: Value) -> bool {
        Filter::parse(Some(&f), &[("product_id", "entity_id")]).matches(row)
    }

    #[test]
    fn scalars_operators_and_aliases() {
        assert!(check(structure([("product_id", int(7))])));
        assert!(check(structure([("product_id", structure([("in", array([int(1), int(7)]))]))])));
        assert!(!check(structure([("product_id", structure([("nin", array([int(7)]))]))])));
        assert!(check(structure([("sku", structure([("like", string("clo-tshirt%"))]))])));
        assert!(check(structure([("customer_id", structure([("null", Value::Boolean(true))]))])));
        assert!(!check(structure([("customer_id", structure([("neq", int(3))]))])), "NULL never compares");
    }

    #[test]
    fn only_the_first_operator_applies_except_from_to() {
        // {gt: 5, lt: 6}: only `gt` is applied, so 7 passes.
        assert!(check(structure([("entity_id", structure([("gt", int(5)), ("lt", int(6))]))])));
        assert!(!check(structure([("entity_id", structure([("from", int(1)), ("to", int(6))]))])));
        assert!(check(structure([("entity_id", structure([("from", int(7)), ("to", int(7))]))])));
    }

    #[test]
    fn increment_id_compares_as_text_and_dates_as_dates() {
        // '100000010' > '100000002' as strings, and also '100000010' < '2' as strings.
        assert!(check(structure([("increment_id", structure([("gt", string("100000002"))]))])));
        assert!(!check(structure([("increment_id", structure([("gt", string("2"))]))])));
        assert!(check(structure([("created_at", structure([("from", string("2026-11-27"))]))])));
        assert!(!check(structure([("created_at", structure([("gt", string("2026-11-27 02:40:54"))]))])));
    }

    #[test]
    fn in_lists_compare_text_case_insensitively_and_numbers_numerically() {
        let sku_in = |vs: Vec<Value>| check(structure([("sku", structure([("in", array(vs))]))]));
        assert!(sku_in(vec![string("x"), string("clo-tshirt-red-s  ")]));
        assert!(!sku_in(vec![string("clo-tshirt-red"), string("CLO-TSHIRT-RED-S-XL")]));
        assert!(!sku_in(vec![]));
        let id_in = |vs: Vec<Value>| check(structure([("entity_id", structure([("in", array(vs))]))]));
        assert!(id_in(vec![string("7.0"), int(9)]));
        assert!(!id_in(vec![string("70")]));
    }

    #[test]
    fn in_texts_name_the_keys_of_an_in_clause() {
        let f = Filter::parse(Some(&structure([("sku", structure([("in", array([string("A-1 "), int(7)]))]))])), &[]);
        let mut keys: Vec<&str> = f.in_texts("sku").unwrap().collect();
        keys.sort_unstable();
        assert_eq!(keys, ["7", "a-1"]);
        assert!(f.in_texts("entity_id").is_none());
        let eq = Filter::parse(Some(&structure([("sku", string("A-1"))])), &[]);
        assert!(eq.in_texts("sku").is_none());
    }

    #[test]
    fn a_struct_without_operators_is_an_or() {
        let f = structure([("sku", array([structure([("eq", string("x"))]), structure([("like", string("CLO%"))])]))]);
        assert!(check(f));
    }
}
