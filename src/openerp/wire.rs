//! What we put on the wire to Odoo: domains, contexts, x2many commands, and the check every
//! outgoing value passes.
//!
//! Odoo's habits (protocols.md C.5–C.7): ids and integers are 32-bit, datetimes are UTC strings
//! (`dateTime.iso8601` faults), binaries are base64 *text* in `<string>` (`<base64>` faults),
//! nil is never needed (send `False`). [`check_outgoing`] enforces this on every request so a
//! bad value is refused here, naming the field, instead of faulting (or being half-applied)
//! on the server. Pure functions only; no I/O.

use chrono::{DateTime, Utc};
use dxr::Value;
use rust_decimal::Decimal;

use super::error::{Error, ErrorKind};
use crate::rpc::value::{self, Map};

/// An id or integer as Odoo takes it: `<int>` when it fits in 32 bits, otherwise a value that
/// [`check_outgoing`] refuses with the field's name.
pub fn id_value(id: i64) -> Value {
    match i32::try_from(id) {
        Ok(v) => Value::Integer(v),
        Err(_) => Value::Long(id),
    }
}

/// A list of ids as an `<array>` of `<int>`.
pub fn ids_value(ids: &[i64]) -> Value {
    Value::Array(ids.iter().map(|&i| id_value(i)).collect())
}

/// A many2one value for `create`/`write`: the id, or `False` to clear it.
pub fn m2o_value(id: Option<i64>) -> Value {
    id.map_or(Value::Boolean(false), id_value)
}

/// A text value for `create`/`write`: the string, or `False` when empty/absent.
pub fn text_value(s: Option<&str>) -> Value {
    match s {
        Some(t) if !t.is_empty() => Value::String(t.to_owned()),
        _ => Value::Boolean(false),
    }
}

/// A float field value from a decimal (Odoo's float fields take `<double>`).
pub fn float_value(d: Decimal) -> Value {
    Value::Double(value::decimal_to_f64(d))
}

/// A datetime field value: `'YYYY-MM-DD HH:MM:SS'` in UTC, as a string.
pub fn datetime_value(dt: &DateTime<Utc>) -> Value {
    Value::String(value::format_datetime(dt))
}

/// Binary field value: base64 text in a `<string>` (never `<base64>`).
pub fn binary_value(bytes: &[u8]) -> Value {
    use base64::Engine as _;
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Checks and normalises a value before it is sent: strips C0 control characters from
/// strings, turns `<i8>` that fit into `<int>`, and refuses nil, `dateTime.iso8601`, `<base64>`,
/// integers beyond 32 bits and non-finite doubles. `path` names the value in the error.
pub fn check_outgoing(v: &mut Value, path: &str) -> Result<(), Error> {
    let refuse = |what: String| Err(Error::new(ErrorKind::InvalidInput, format!("`{path}`: {what}")));
    match v {
        Value::Nil => refuse("nil cannot be sent to OpenERP (send False for an empty value)".into()),
        Value::DateTime(_) => {
            refuse("dateTime.iso8601 faults on OpenERP; send a 'YYYY-MM-DD HH:MM:SS' UTC string".into())
        }
        Value::Base64(_) => refuse("<base64> is refused by OpenERP binary fields; send base64 text as a string".into()),
        Value::Long(i) => match i32::try_from(*i) {
            Ok(small) => {
                *v = Value::Integer(small);
                Ok(())
            }
            Err(_) => refuse(format!("integer {i} does not fit in 32 bits (OpenERP ids and integers are int4)")),
        },
        Value::Double(d) if !d.is_finite() => refuse("not a finite number".into()),
        Value::String(s) => {
            if s.chars().any(|c| c < ' ' && c != '\t' && c != '\n' && c != '\r') {
                value::strip_control_chars(v);
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                check_outgoing(item, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        Value::Struct(members) => {
            for (k, item) in members.iter_mut() {
                check_outgoing(item, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Domains

/// One element of a domain: a leaf `[field, operator, value]` or a prefix operator.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainItem {
    /// `[field, operator, value]`.
    Leaf(String, String, Value),
    /// `'&'`.
    And,
    /// `'|'`.
    Or,
    /// `'!'`.
    Not,
}

/// An Odoo search domain in prefix notation. Leaves pushed one after the other are ANDed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Domain {
    items: Vec<DomainItem>,
}

impl Domain {
    /// The empty domain (all records).
    pub fn new() -> Self {
        Domain::default()
    }

    /// Adds the leaf `[field, op, value]` (ANDed with what is there).
    pub fn term(mut self, field: &str, op: &str, value: Value) -> Self {
        self.items.push(DomainItem::Leaf(field.to_owned(), op.to_owned(), value));
        self
    }

    /// `field = value`.
    pub fn eq(self, field: &str, value: Value) -> Self {
        self.term(field, "=", value)
    }

    /// `field in ids`.
    pub fn in_ids(self, field: &str, ids: &[i64]) -> Self {
        self.term(field, "in", ids_value(ids))
    }

    /// `field child_of id` (the record and all its descendants).
    pub fn child_of(self, field: &str, id: i64) -> Self {
        self.term(field, "child_of", id_value(id))
    }

    /// Case-insensitive exact match: `=ilike` with `%`, `_` and `\` escaped, so the pattern
    /// matches only `text` itself (`=` is case-sensitive in Odoo).
    pub fn ilike_exact(self, field: &str, text: &str) -> Self {
        self.term(field, "=ilike", Value::String(escape_like(text)))
    }

    /// Both domains must match.
    pub fn and(a: Domain, b: Domain) -> Domain {
        if a.is_empty() {
            return b;
        }
        if b.is_empty() {
            return a;
        }
        let mut items = vec![DomainItem::And];
        items.extend(a.normalized().items);
        items.extend(b.normalized().items);
        Domain { items }
    }

    /// Either domain matches (an empty side matches everything).
    pub fn or(a: Domain, b: Domain) -> Domain {
        if a.is_empty() || b.is_empty() {
            return Domain::new();
        }
        let mut items = vec![DomainItem::Or];
        items.extend(a.normalized().items);
        items.extend(b.normalized().items);
        Domain { items }
    }

    /// True when there is no condition.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The items, as built.
    pub fn items(&self) -> &[DomainItem] {
        &self.items
    }

    /// The same domain with the implicit ANDs made explicit (Odoo's `normalize_domain`), so it
    /// can be nested inside another operator.
    pub fn normalized(&self) -> Domain {
        let mut out: Vec<DomainItem> = Vec::with_capacity(self.items.len() + 2);
        let mut expected: i64 = 1;
        for item in &self.items {
            if expected == 0 {
                out.insert(0, DomainItem::And);
                expected = 1;
            }
            expected += match item {
                DomainItem::Leaf(..) => -1,
                DomainItem::And | DomainItem::Or => 1,
                DomainItem::Not => 0,
            };
            out.push(item.clone());
        }
        Domain { items: out }
    }

    /// The domain as the XML-RPC array Odoo reads.
    pub fn to_value(&self) -> Value {
        Value::Array(
            self.items
                .iter()
                .map(|i| match i {
                    DomainItem::Leaf(f, o, v) => {
                        Value::Array(vec![Value::String(f.clone()), Value::String(o.clone()), v.clone()])
                    }
                    DomainItem::And => Value::String("&".into()),
                    DomainItem::Or => Value::String("|".into()),
                    DomainItem::Not => Value::String("!".into()),
                })
                .collect(),
        )
    }
}

/// Escapes `\`, `%` and `_` for a `=like`/`=ilike` pattern (PostgreSQL's default escape).
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Context

/// The `context` sent with every `execute_kw`: language, time zone (always UTC), archived
/// records, and the stock/pricelist scope of computed fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// Language of translated fields and messages (`en_US`, `fr_FR`).
    pub lang: Option<String>,
    /// Time zone; UTC so that Odoo never shifts datetimes.
    pub tz: String,
    /// `Some(false)` to include archived records.
    pub active_test: Option<bool>,
    /// Warehouse id for stock quantities.
    pub warehouse: Option<i64>,
    /// Location id for stock quantities.
    pub location: Option<i64>,
    /// Pricelist id for prices computed by Odoo.
    pub pricelist: Option<i64>,
    /// Companies the call may see (`allowed_company_ids`, first = current).
    pub allowed_company_ids: Vec<i64>,
    /// Other keys, sent as given.
    pub extra: Map,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            lang: Some("en_US".into()),
            tz: "UTC".into(),
            active_test: None,
            warehouse: None,
            location: None,
            pricelist: None,
            allowed_company_ids: Vec::new(),
            extra: Map::new(),
        }
    }
}

impl Context {
    /// Same context in another language.
    pub fn with_lang(mut self, lang: &str) -> Self {
        self.lang = Some(lang.to_owned());
        self
    }

    /// Same context including (`false`) or excluding (`true`) archived records.
    pub fn with_active_test(mut self, active_test: bool) -> Self {
        self.active_test = Some(active_test);
        self
    }

    /// Same context with stock quantities computed for a warehouse.
    pub fn with_warehouse(mut self, warehouse: Option<i64>) -> Self {
        self.warehouse = warehouse;
        self
    }

    /// Same context with stock quantities computed for a location.
    pub fn with_location(mut self, location: Option<i64>) -> Self {
        self.location = location;
        self
    }

    /// Same context with an extra key.
    pub fn with(mut self, key: &str, v: Value) -> Self {
        self.extra.insert(key.to_owned(), v);
        self
    }

    /// The context as an XML-RPC struct.
    pub fn to_value(&self) -> Value {
        Value::Struct(self.to_map())
    }

    /// The context's members.
    pub fn to_map(&self) -> Map {
        let mut m = self.extra.clone();
        if let Some(lang) = &self.lang {
            m.insert("lang".into(), Value::String(lang.clone()));
        }
        m.insert("tz".into(), Value::String(self.tz.clone()));
        if let Some(a) = self.active_test {
            m.insert("active_test".into(), Value::Boolean(a));
        }
        if let Some(w) = self.warehouse {
            m.insert("warehouse".into(), id_value(w));
        }
        if let Some(l) = self.location {
            m.insert("location".into(), id_value(l));
        }
        if let Some(p) = self.pricelist {
            m.insert("pricelist".into(), id_value(p));
        }
        if !self.allowed_company_ids.is_empty() {
            m.insert("allowed_company_ids".into(), ids_value(&self.allowed_company_ids));
        }
        m
    }
}

// ---------------------------------------------------------------------------------------------
// x2many commands

/// An x2many write command (protocols.md C.6); always sent as an integer tuple.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `(0, 0, vals)`: create a record and link it.
    Create(Map),
    /// `(1, id, vals)`: write on a linked record.
    Update(i64, Map),
    /// `(2, id, 0)`: unlink and delete.
    Delete(i64),
    /// `(3, id, 0)`: remove the link only.
    Unlink(i64),
    /// `(4, id, 0)`: add a link.
    Link(i64),
    /// `(5, 0, 0)`: remove all links.
    Clear,
    /// `(6, 0, ids)`: replace the set.
    Set(Vec<i64>),
}

impl Command {
    /// The command as the array Odoo reads.
    pub fn to_value(&self) -> Value {
        let zero = || Value::Integer(0);
        match self {
            Command::Create(vals) => Value::Array(vec![Value::Integer(0), zero(), Value::Struct(vals.clone())]),
            Command::Update(id, vals) => {
                Value::Array(vec![Value::Integer(1), id_value(*id), Value::Struct(vals.clone())])
            }
            Command::Delete(id) => Value::Array(vec![Value::Integer(2), id_value(*id), zero()]),
            Command::Unlink(id) => Value::Array(vec![Value::Integer(3), id_value(*id), zero()]),
            Command::Link(id) => Value::Array(vec![Value::Integer(4), id_value(*id), zero()]),
            Command::Clear => Value::Array(vec![Value::Integer(5), zero(), zero()]),
            Command::Set(ids) => Value::Array(vec![Value::Integer(6), zero(), ids_value(ids)]),
        }
    }

    /// A list of commands as one field value.
    pub fn list(commands: &[Command]) -> Value {
        Value::Array(commands.iter().map(Command::to_value).collect())
    }
}

/// True when `vals` holds an x2many command that creates or deletes records (`0` or `2`): such
/// a `write` must not be repeated blindly after a transport failure.
pub fn has_non_idempotent_command(vals: &Map) -> bool {
    vals.values().any(|v| match v {
        Value::Array(cmds) => cmds.iter().any(|c| match c {
            Value::Array(t) => matches!(t.first(), Some(Value::Integer(0 | 2))),
            _ => false,
        }),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::value::{int, string, structure};

    #[test]
    fn outgoing_values_are_checked_with_their_path() {
        let mut ok = structure([("qty", Value::Long(3)), ("name", string("a\u{1}b"))]);
        check_outgoing(&mut ok, "vals").unwrap();
        assert_eq!(ok, structure([("qty", int(3)), ("name", string("ab"))]));

        let mut big = Value::Array(vec![structure([("id", Value::Long(1 << 32))])]);
        let e = check_outgoing(&mut big, "args").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.message().contains("`args[0].id`"), "{}", e.message());
        assert!(e.message().contains("32 bits"));

        for bad in [Value::Nil, Value::Base64(vec![1]), Value::Double(f64::NAN)] {
            assert!(check_outgoing(&mut structure([("f", bad)]), "vals").is_err());
        }
        let dt = <dxr::DateTime as std::str::FromStr>::from_str("20240801T10:00:00").unwrap();
        assert!(check_outgoing(&mut Value::DateTime(dt), "v").is_err());
    }

    #[test]
    fn domains_normalize_like_odoo() {
        let d = Domain::new().eq("a", int(1)).eq("b", int(2));
        assert_eq!(d.normalized().items().len(), 3);
        assert_eq!(d.normalized().items()[0], DomainItem::And);
        let either = Domain::or(Domain::new().eq("a", int(1)), Domain::new().eq("b", int(2)).eq("c", int(3)));
        let v = either.to_value();
        let Value::Array(items) = v else { panic!() };
        assert_eq!(items[0], string("|"));
        assert_eq!(items[2], string("&"));
        assert_eq!(items.len(), 5);
        assert!(Domain::or(Domain::new(), Domain::new().eq("x", int(1))).is_empty());
    }

    #[test]
    fn ilike_exact_escapes_wildcards() {
        assert_eq!(escape_like("john_doe%x\\y@example.com"), "john\\_doe\\%x\\\\y@example.com");
        let d = Domain::new().ilike_exact("email", "a_b@x.com");
        assert_eq!(
            d.to_value(),
            Value::Array(vec![Value::Array(vec![string("email"), string("=ilike"), string("a\\_b@x.com")])])
        );
    }

    #[test]
    fn commands_are_integer_tuples() {
        assert_eq!(Command::Set(vec![1]).to_value(), Value::Array(vec![int(6), int(0), Value::Array(vec![int(1)])]));
        assert_eq!(Command::Clear.to_value(), Value::Array(vec![int(5), int(0), int(0)]));
        let mut vals = Map::new();
        vals.insert("tax_id".into(), Command::list(&[Command::Set(vec![1])]));
        assert!(!has_non_idempotent_command(&vals));
        vals.insert("order_line".into(), Command::list(&[Command::Create(Map::new())]));
        assert!(has_non_idempotent_command(&vals));
    }

    #[test]
    fn context_always_sends_utc_and_only_set_keys() {
        let c = Context::default().with_warehouse(Some(2)).with_active_test(false);
        let Value::Struct(m) = c.to_value() else { panic!() };
        assert_eq!(m.get("tz"), Some(&string("UTC")));
        assert_eq!(m.get("lang"), Some(&string("en_US")));
        assert_eq!(m.get("warehouse"), Some(&int(2)));
        assert_eq!(m.get("active_test"), Some(&Value::Boolean(false)));
        assert!(!m.contains_key("location"));
    }
}
