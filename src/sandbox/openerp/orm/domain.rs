//! Odoo search domains: parsing the prefix notation, compiling leaves against a model, and
//! evaluating them on records.
//!
//! Semantics follow `odoo/osv/expression.py` (17.0): implicit `&`, `like`/`ilike` wrap the value
//! in `%…%`, `=like`/`=ilike` take the raw pattern, negative operators (`!=`, `not in`,
//! `not ilike`) also match empty values, dotted paths and relational string values become
//! sub-searches on the comodel, `child_of`/`parent_of` follow the model's parent field, `any` and
//! `not any` take a sub-domain. Integer parameters beyond int4 raise psycopg2's error.

use std::borrow::Cow;
use std::collections::HashSet;
use std::str::FromStr;

use dxr::Value;
use rust_decimal::Decimal;

use super::model::{FType, FieldDef, ModelDef, Storage};
use super::table::{IndexKey, index_key};
use super::val::Val;
use super::{Ctx, Db};
use crate::sandbox::openerp::error::{OResult, OdooError, py_repr};

/// A domain as a tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    /// All children hold.
    And(Vec<Domain>),
    /// One child holds.
    Or(Vec<Domain>),
    /// The child does not hold.
    Not(Box<Domain>),
    /// `[path, operator, value]`.
    Leaf(Leaf),
    /// `TRUE_LEAF` / `FALSE_LEAF`.
    Const(bool),
}

/// One `[path, operator, value]` term.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// Field name, possibly dotted.
    pub path: String,
    /// Operator (normalised: `<>` → `!=`).
    pub op: String,
    /// Right operand as sent.
    pub value: Value,
}

const OPERATORS: &[&str] = &[
    "=",
    "!=",
    "<=",
    "<",
    ">",
    ">=",
    "=?",
    "=like",
    "=ilike",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "in",
    "not in",
    "child_of",
    "parent_of",
    "any",
    "not any",
];

impl Domain {
    /// The empty domain (every record).
    pub fn all() -> Domain {
        Domain::And(Vec::new())
    }

    /// A single leaf.
    pub fn leaf(path: &str, op: &str, value: Value) -> Domain {
        Domain::Leaf(Leaf { path: path.to_owned(), op: op.to_owned(), value })
    }

    /// AND of leaves.
    pub fn and(items: impl IntoIterator<Item = Domain>) -> Domain {
        Domain::And(items.into_iter().collect())
    }

    /// Parses a domain sent over XML-RPC (`False`/nil/missing mean every record).
    pub fn parse(v: &Value) -> OResult<Domain> {
        let items = match v {
            Value::Array(a) => a.as_slice(),
            Value::Nil | Value::Boolean(false) => return Ok(Domain::all()),
            other => {
                return Err(OdooError::value(format!("Invalid domain {}", py_repr(other))));
            }
        };
        let mut pos = 0;
        let mut out = Vec::new();
        while pos < items.len() {
            out.push(parse_term(items, &mut pos, v)?);
        }
        Ok(if out.len() == 1 { out.pop().unwrap_or(Domain::Const(true)) } else { Domain::And(out) })
    }

    /// True when some leaf, at any depth, is on `field` (Odoo looks for `active` to decide
    /// whether to add its own `active = True`).
    pub fn mentions(&self, field: &str) -> bool {
        match self {
            Domain::And(v) | Domain::Or(v) => v.iter().any(|d| d.mentions(field)),
            Domain::Not(d) => d.mentions(field),
            Domain::Leaf(l) => l.path == field,
            Domain::Const(_) => false,
        }
    }
}

fn parse_term(items: &[Value], pos: &mut usize, whole: &Value) -> OResult<Domain> {
    let Some(item) = items.get(*pos) else {
        return Err(OdooError::value(format!("Domain {} is syntactically not correct.", py_repr(whole))));
    };
    *pos += 1;
    match item {
        Value::String(op) if op == "&" || op == "|" => {
            let a = parse_term(items, pos, whole)?;
            let b = parse_term(items, pos, whole)?;
            Ok(if op == "&" { Domain::And(vec![a, b]) } else { Domain::Or(vec![a, b]) })
        }
        Value::String(op) if op == "!" => Ok(Domain::Not(Box::new(parse_term(items, pos, whole)?))),
        Value::Array(t) if t.len() == 3 => {
            let path = match &t[0] {
                Value::String(s) => s.clone(),
                Value::Integer(1) => return Ok(Domain::Const(true)),
                Value::Integer(0) => return Ok(Domain::Const(false)),
                _ => return Err(OdooError::value(format!("Invalid leaf {}", py_repr(item)))),
            };
            let op = match &t[1] {
                Value::String(s) => s.to_lowercase(),
                _ => return Err(OdooError::value(format!("Invalid leaf {}", py_repr(item)))),
            };
            let op = if op == "<>" { "!=".to_owned() } else { op };
            if !OPERATORS.contains(&op.as_str()) {
                return Err(OdooError::value(format!("Invalid leaf {}", py_repr(item))));
            }
            Ok(Domain::Leaf(Leaf { path, op, value: t[2].clone() }))
        }
        other => Err(OdooError::value(format!("Invalid leaf {}", py_repr(other)))),
    }
}

/// A comparable key of a stored value for a given field type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// Integer or id.
    I(i64),
    /// Number.
    N(Decimal),
    /// Text.
    S(String),
    /// Flag.
    B(bool),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// One compiled test on a field value.
#[derive(Debug, Clone)]
pub enum Test {
    /// Empty (`true`) or set (`false`).
    Null(bool),
    /// A boolean field is true / false (empty counts as false).
    Bool(bool),
    /// Equal.
    Eq(Key),
    /// Different or empty.
    Ne(Key),
    /// In the set (or empty when `null`).
    In(HashSet<Key>, bool),
    /// Not in the set; the flag says whether an empty value matches.
    NotIn(HashSet<Key>, bool),
    /// Ordered comparison (empty never matches).
    Cmp(Cmp, Key),
    /// SQL LIKE.
    Like {
        /// The pattern, `%`/`_` as wildcards.
        pattern: Vec<char>,
        /// Case-insensitive (`ilike`).
        ci: bool,
        /// `not like` / `not ilike`.
        negate: bool,
    },
    /// many2one in the set / an x2many has one in the set.
    RelIn(HashSet<i64>),
    /// many2one empty or not in the set / an x2many has none in the set.
    RelNotIn(HashSet<i64>),
}

/// A domain compiled against a model.
#[derive(Debug, Clone)]
pub enum CNode {
    /// All hold.
    And(Vec<CNode>),
    /// One holds.
    Or(Vec<CNode>),
    /// Negation.
    Not(Box<CNode>),
    /// Constant.
    Const(bool),
    /// A test on one field (`None`: the `id`).
    Leaf(Option<usize>, Test),
}

fn int4(v: i64) -> OResult<i64> {
    if i32::try_from(v).is_err() {
        return Err(OdooError::int4_out_of_range(v));
    }
    Ok(v)
}

fn value_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

fn is_false(v: &Value) -> bool {
    matches!(v, Value::Boolean(false) | Value::Nil)
}

/// The key of a wire value for a field type.
fn key_of(ftype: FType, v: &Value, leaf: &str) -> OResult<Key> {
    let bad = || OdooError::value(format!("Invalid value {} in leaf {leaf}", py_repr(v)));
    Ok(match ftype {
        FType::Integer | FType::Many2one | FType::One2many | FType::Many2many => match v {
            Value::Integer(i) => Key::I(i64::from(*i)),
            Value::Long(i) => Key::I(int4(*i)?),
            Value::Boolean(b) => Key::I(i64::from(*b)),
            Value::Double(d) if d.fract() == 0.0 => Key::I(int4(*d as i64)?),
            Value::String(s) => Key::I(s.trim().parse::<i64>().map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        FType::Float | FType::Monetary => Key::N(match v {
            Value::Integer(i) => Decimal::from(*i),
            Value::Long(i) => Decimal::from(*i),
            Value::Double(d) => crate::rpc::value::decimal_from_f64(*d).ok_or_else(bad)?,
            Value::String(s) => Decimal::from_str(s.trim()).map_err(|_| bad())?,
            Value::Boolean(b) => Decimal::from(i64::from(*b)),
            _ => return Err(bad()),
        }),
        FType::Boolean => Key::B(match v {
            Value::Boolean(b) => *b,
            Value::Integer(i) => *i != 0,
            _ => return Err(bad()),
        }),
        FType::Datetime => match v {
            Value::String(s) if s.len() == 10 => Key::S(format!("{s} 00:00:00")),
            Value::String(s) => Key::S(s.clone()),
            _ => return Err(bad()),
        },
        _ => match v {
            Value::String(s) => Key::S(s.clone()),
            Value::Integer(i) => Key::S(i.to_string()),
            Value::Long(i) => Key::S(i.to_string()),
            Value::Double(d) => Key::S(d.to_string()),
            _ => return Err(bad()),
        },
    })
}

/// The key of a stored value (text of translations in the context language).
fn stored_key(v: &Val, lang: &str) -> Option<Key> {
    match v {
        Val::False => None,
        Val::Bool(b) => Some(Key::B(*b)),
        Val::Int(i) | Val::Id(i) => Some(Key::I(*i)),
        Val::Num(d) => Some(Key::N(d.normalize())),
        Val::Str(_) | Val::Tr(_) => v.text(lang).map(|s| Key::S(s.to_owned())),
        Val::Ids(_) | Val::Wire(_) => None,
    }
}

fn normalize_key(k: Key) -> Key {
    match k {
        Key::N(d) => Key::N(d.normalize()),
        other => other,
    }
}

fn cmp_keys(a: &Key, b: &Key) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Key::I(x), Key::I(y)) => Some(x.cmp(y)),
        (Key::N(x), Key::N(y)) => Some(x.cmp(y)),
        (Key::I(x), Key::N(y)) => Some(Decimal::from(*x).cmp(y)),
        (Key::N(x), Key::I(y)) => Some(x.cmp(&Decimal::from(*y))),
        (Key::S(x), Key::S(y)) => Some(x.cmp(y)),
        (Key::B(x), Key::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// SQL LIKE with `%`, `_` and `\` escapes.
pub fn like(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                '%' => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                '_' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                '\\' if p + 1 < pattern.len() && pattern[p + 1] == text[t] => {
                    p += 2;
                    t += 1;
                    continue;
                }
                c if c == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    while p < pattern.len() && pattern[p] == '%' {
        p += 1;
    }
    p == pattern.len()
}

/// Compiles a domain for `def` (the caller adds `active` handling).
pub fn compile(db: &Db, ctx: &Ctx, def: &ModelDef, d: &Domain) -> OResult<CNode> {
    Ok(match d {
        Domain::And(v) => CNode::And(v.iter().map(|x| compile(db, ctx, def, x)).collect::<OResult<_>>()?),
        Domain::Or(v) => CNode::Or(v.iter().map(|x| compile(db, ctx, def, x)).collect::<OResult<_>>()?),
        Domain::Not(x) => CNode::Not(Box::new(compile(db, ctx, def, x)?)),
        Domain::Const(b) => CNode::Const(*b),
        Domain::Leaf(l) => compile_leaf(db, ctx, def, l)?,
    })
}

fn leaf_repr(l: &Leaf) -> String {
    format!(
        "({}, {}, {})",
        crate::sandbox::openerp::error::py_str(&l.path),
        crate::sandbox::openerp::error::py_str(&l.op),
        py_repr(&l.value)
    )
}

fn compile_leaf(db: &Db, ctx: &Ctx, def: &ModelDef, l: &Leaf) -> OResult<CNode> {
    let repr = leaf_repr(l);
    let (head, rest) = match l.path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (l.path.as_str(), None),
    };
    let Some(fidx) = def.field_index(head) else {
        return Err(OdooError::value(format!("Invalid field {}.{} in leaf {}", def.name, head, repr)));
    };
    let f = &def.fields[fidx];
    let slot = if head == "id" { None } else { Some(fidx) };
    if let Some(rest) = rest {
        let Some(rel) = f.relation.as_deref() else {
            return Err(OdooError::value(format!("Invalid field {}.{} in leaf {}", def.name, l.path, repr)));
        };
        let sub = Domain::leaf(rest, &l.op, l.value.clone());
        let ids = db.search(&ctx.with_active_test(false), rel, &sub, None, 0, None)?;
        return Ok(CNode::Leaf(slot, Test::RelIn(ids.into_iter().collect())));
    }
    let ftype = if head == "id" { FType::Integer } else { f.ftype };
    let op = l.op.as_str();
    let v = &l.value;
    if op == "=?" {
        if is_false(v) {
            return Ok(CNode::Const(true));
        }
        return compile_leaf(db, ctx, def, &Leaf { op: "=".into(), ..l.clone() });
    }
    if op == "child_of" || op == "parent_of" {
        let target = if ftype.is_relational() { f.relation.clone().unwrap_or_default() } else { def.name.clone() };
        let tdef = db.def(&target)?;
        let Some(parent) = tdef.parent_field.clone() else {
            return Err(OdooError::value(format!("Invalid field {}.{} in leaf {}", def.name, l.path, repr)));
        };
        let start = resolve_ids(db, ctx, &target, v)?;
        let ids = if op == "child_of" {
            db.descendants(&target, &parent, &start)
        } else {
            db.ancestors(&target, &parent, &start)
        };
        return Ok(CNode::Leaf(slot, Test::RelIn(ids)));
    }
    if op == "any" || op == "not any" {
        let Some(rel) = f.relation.as_deref() else {
            return Err(OdooError::value(format!("Invalid leaf {repr}")));
        };
        let sub = Domain::parse(v)?;
        let ids: HashSet<i64> = db.search(ctx, rel, &sub, None, 0, None)?.into_iter().collect();
        return Ok(CNode::Leaf(slot, if op == "any" { Test::RelIn(ids) } else { Test::RelNotIn(ids) }));
    }
    let negative = matches!(op, "!=" | "not in" | "not like" | "not ilike");
    let likeop = matches!(op, "like" | "ilike" | "=like" | "=ilike" | "not like" | "not ilike");
    // Relational fields: ids directly, text through a name search on the comodel.
    if ftype.is_relational() {
        let rel = f.relation.clone().unwrap_or_default();
        if (op == "=" || op == "!=") && is_false(v) {
            return Ok(CNode::Leaf(slot, Test::Null(op == "=")));
        }
        let mut set = HashSet::new();
        let mut null = false;
        let positive_op = match op {
            "!=" => "=",
            "not in" => "in",
            "not like" => "like",
            "not ilike" => "ilike",
            o => o,
        };
        for item in value_list(v) {
            match &item {
                Value::Boolean(false) | Value::Nil => null = true,
                Value::String(s) => {
                    let name_op = if positive_op == "in" { "=" } else { positive_op };
                    for id in db.name_search_ids(&ctx.with_active_test(false), &rel, s, name_op)? {
                        set.insert(id);
                    }
                }
                other => {
                    let Key::I(id) = key_of(FType::Many2one, other, &repr)? else { unreachable!("ids are ints") };
                    set.insert(id);
                }
            }
        }
        if matches!(op, "<" | "<=" | ">" | ">=") {
            let Some(first) = set.iter().next().copied() else {
                return Ok(CNode::Const(false));
            };
            let c = cmp_of(op);
            return Ok(CNode::Leaf(slot, Test::Cmp(c, Key::I(first))));
        }
        let t = if negative { Test::RelNotIn(set) } else { Test::RelIn(set) };
        if null {
            let n = CNode::Leaf(slot, Test::Null(!negative));
            let main = CNode::Leaf(slot, t);
            return Ok(if negative { CNode::And(vec![main, n]) } else { CNode::Or(vec![main, n]) });
        }
        return Ok(CNode::Leaf(slot, t));
    }
    if likeop {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Boolean(false) | Value::Nil => {
                return Ok(CNode::Leaf(slot, Test::Null(!negative)));
            }
            other => match key_of(FType::Char, other, &repr)? {
                Key::S(s) => s,
                _ => String::new(),
            },
        };
        let ci = op.contains("ilike");
        let wrapped = if op.starts_with('=') { text } else { format!("%{text}%") };
        let pattern: Vec<char> = if ci { wrapped.to_lowercase().chars().collect() } else { wrapped.chars().collect() };
        return Ok(CNode::Leaf(slot, Test::Like { pattern, ci, negate: negative }));
    }
    if ftype == FType::Boolean && (op == "=" || op == "!=") {
        let b = match v {
            Value::Boolean(b) => *b,
            Value::Nil => false,
            Value::Integer(i) => *i != 0,
            other => {
                return Err(OdooError::value(format!("Invalid value {} in leaf {repr}", py_repr(other))));
            }
        };
        return Ok(CNode::Leaf(slot, Test::Bool(if op == "=" { b } else { !b })));
    }
    match op {
        "=" | "!=" => {
            if is_false(v) {
                return Ok(CNode::Leaf(slot, Test::Null(op == "=")));
            }
            let k = normalize_key(key_of(ftype, v, &repr)?);
            Ok(CNode::Leaf(slot, if op == "=" { Test::Eq(k) } else { Test::Ne(k) }))
        }
        "in" | "not in" => {
            let mut set = HashSet::new();
            let mut null = false;
            for item in value_list(v) {
                if is_false(&item) && ftype != FType::Boolean {
                    null = true;
                } else {
                    set.insert(normalize_key(key_of(ftype, &item, &repr)?));
                }
            }
            Ok(CNode::Leaf(slot, if op == "in" { Test::In(set, null) } else { Test::NotIn(set, null) }))
        }
        "<" | "<=" | ">" | ">=" => {
            if is_false(v) {
                return Ok(CNode::Const(false));
            }
            Ok(CNode::Leaf(slot, Test::Cmp(cmp_of(op), normalize_key(key_of(ftype, v, &repr)?))))
        }
        _ => Err(OdooError::value(format!("Invalid leaf {repr}"))),
    }
}

fn cmp_of(op: &str) -> Cmp {
    match op {
        "<" => Cmp::Lt,
        "<=" => Cmp::Le,
        ">" => Cmp::Gt,
        _ => Cmp::Ge,
    }
}

/// Ids named by a `child_of` operand: an id, a list of ids, or a name.
fn resolve_ids(db: &Db, ctx: &Ctx, model: &str, v: &Value) -> OResult<Vec<i64>> {
    let mut out = Vec::new();
    for item in value_list(v) {
        match &item {
            Value::String(s) => out.extend(db.name_search_ids(&ctx.with_active_test(false), model, s, "ilike")?),
            Value::Boolean(false) | Value::Nil => {}
            other => {
                if let Key::I(i) = key_of(FType::Many2one, other, "child_of")? {
                    out.push(i);
                }
            }
        }
    }
    Ok(out)
}

impl CNode {
    /// Evaluates the node on record `id` of `def`.
    pub fn eval(&self, db: &Db, ctx: &Ctx, def: &ModelDef, id: i64) -> OResult<bool> {
        Ok(match self {
            CNode::And(v) => {
                for n in v {
                    if !n.eval(db, ctx, def, id)? {
                        return Ok(false);
                    }
                }
                true
            }
            CNode::Or(v) => {
                for n in v {
                    if n.eval(db, ctx, def, id)? {
                        return Ok(true);
                    }
                }
                false
            }
            CNode::Not(n) => !n.eval(db, ctx, def, id)?,
            CNode::Const(b) => *b,
            CNode::Leaf(slot, test) => {
                let val: Cow<'_, Val> = match slot {
                    None => Cow::Owned(Val::Id(id)),
                    Some(i) => db.value(ctx, def, id, &def.fields[*i])?,
                };
                let ftype = slot.map_or(FType::Integer, |i| def.fields[i].ftype);
                test_value(test, &val, ftype, &ctx.lang)
            }
        })
    }

    /// Ids that may match, from indexes (`None`: no index helps, scan everything).
    pub fn candidates(&self, db: &Db, def: &ModelDef) -> Option<Vec<i64>> {
        match self {
            CNode::Const(false) => Some(Vec::new()),
            CNode::And(v) => {
                let mut best: Option<Vec<i64>> = None;
                for n in v {
                    if let Some(c) = n.candidates(db, def)
                        && best.as_ref().is_none_or(|b| c.len() < b.len())
                    {
                        best = Some(c);
                    }
                }
                best
            }
            CNode::Or(v) => {
                let mut all = Vec::new();
                for n in v {
                    all.extend(n.candidates(db, def)?);
                }
                all.sort_unstable();
                all.dedup();
                Some(all)
            }
            CNode::Leaf(None, test) => match test {
                Test::Eq(Key::I(i)) => Some(vec![*i]),
                Test::In(set, false) => {
                    Some(set.iter().filter_map(|k| if let Key::I(i) = k { Some(*i) } else { None }).collect())
                }
                Test::RelIn(set) => Some(set.iter().copied().collect()),
                _ => None,
            },
            CNode::Leaf(Some(i), test) => {
                let f: &FieldDef = &def.fields[*i];
                let Storage::Column(col) = f.storage else {
                    return None;
                };
                if f.translate || f.ftype == FType::Many2many {
                    return None;
                }
                let table = db.table(&def.name);
                if !table.is_indexed(col) {
                    return None;
                }
                let keys: Vec<IndexKey> = match test {
                    Test::Eq(k) => vec![index_key_of(k)?],
                    Test::In(set, null) => {
                        let mut ks: Vec<IndexKey> = set.iter().map(index_key_of).collect::<Option<_>>()?;
                        if *null {
                            ks.push(IndexKey::Null);
                        }
                        ks
                    }
                    Test::RelIn(set) if f.ftype == FType::Many2one => set.iter().map(|i| IndexKey::Int(*i)).collect(),
                    Test::Null(true) if f.ftype == FType::Many2one => vec![IndexKey::Null],
                    Test::Like { pattern, ci: true, negate: false }
                        if !pattern.iter().any(|c| matches!(c, '%' | '_' | '\\')) =>
                    {
                        vec![IndexKey::Str(pattern.iter().collect())]
                    }
                    _ => return None,
                };
                let mut out = Vec::new();
                for k in keys {
                    out.extend(table.lookup(col, &k)?);
                }
                out.sort_unstable();
                out.dedup();
                Some(out)
            }
            _ => None,
        }
    }
}

fn index_key_of(k: &Key) -> Option<IndexKey> {
    match k {
        Key::I(i) => Some(IndexKey::Int(*i)),
        Key::S(s) => index_key(&Val::Str(s.clone())),
        Key::B(b) => Some(IndexKey::Int(i64::from(*b))),
        Key::N(_) => None,
    }
}

fn test_value(test: &Test, val: &Val, ftype: FType, lang: &str) -> bool {
    if ftype.is_x2many() {
        let ids = val.ids();
        return match test {
            Test::Null(empty) => ids.is_empty() == *empty,
            Test::RelIn(set) => ids.iter().any(|i| set.contains(i)),
            Test::RelNotIn(set) => !ids.iter().any(|i| set.contains(i)),
            _ => false,
        };
    }
    let key = stored_key(val, lang);
    match test {
        Test::Null(empty) => {
            let is_empty = match val {
                Val::False => true,
                Val::Str(s) => s.is_empty(),
                _ => false,
            };
            is_empty == *empty
        }
        Test::Bool(b) => val.bool() == *b,
        Test::Eq(k) => key.as_ref().and_then(|a| cmp_keys(a, k)) == Some(std::cmp::Ordering::Equal),
        Test::Ne(k) => match &key {
            None => true,
            Some(a) => cmp_keys(a, k) != Some(std::cmp::Ordering::Equal),
        },
        Test::In(set, null) => match &key {
            None => *null,
            Some(a) => set.contains(a),
        },
        Test::NotIn(set, null) => match &key {
            None => !*null,
            Some(a) => !set.contains(a),
        },
        Test::Cmp(c, k) => match key.as_ref().and_then(|a| cmp_keys(a, k)) {
            None => false,
            Some(o) => match c {
                Cmp::Lt => o.is_lt(),
                Cmp::Le => o.is_le(),
                Cmp::Gt => o.is_gt(),
                Cmp::Ge => o.is_ge(),
            },
        },
        Test::Like { pattern, ci, negate } => {
            let text = match val {
                Val::False => return *negate,
                _ => match val.text(lang) {
                    Some(s) => Cow::Borrowed(s),
                    None => match &key {
                        Some(Key::I(i)) => Cow::Owned(i.to_string()),
                        Some(Key::N(d)) => Cow::Owned(d.to_string()),
                        _ => return *negate,
                    },
                },
            };
            let chars: Vec<char> = if *ci { text.to_lowercase().chars().collect() } else { text.chars().collect() };
            like(pattern, &chars) != *negate
        }
        Test::RelIn(set) => val.id().is_some_and(|i| set.contains(&i)),
        Test::RelNotIn(set) => val.id().is_none_or(|i| !set.contains(&i)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::value;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn like_patterns() {
        assert!(like(&chars("%ab%"), &chars("xxabyy")));
        assert!(like(&chars("a_c"), &chars("abc")));
        assert!(!like(&chars("a_c"), &chars("abbc")));
        assert!(like(&chars("%"), &chars("")));
        assert!(like(&chars("a\\%"), &chars("a%")));
        assert!(!like(&chars("a\\%"), &chars("ab")));
        assert!(like(&chars("%x%y"), &chars("axbxy")));
    }

    #[test]
    fn parse_prefix_and_implicit_and() {
        let d = Domain::parse(&value::array([
            value::string("|"),
            value::array([value::string("a"), value::string("="), value::int(1)]),
            value::array([value::string("b"), value::string("<>"), value::int(2)]),
            value::array([value::string("c"), value::string("in"), value::array([])]),
        ]))
        .unwrap();
        let Domain::And(items) = d else { panic!("{d:?}") };
        assert!(matches!(&items[0], Domain::Or(v) if v.len() == 2));
        assert!(matches!(&items[0], Domain::Or(v) if matches!(&v[1], Domain::Leaf(l) if l.op == "!=")));
        assert!(
            Domain::parse(&value::array([
                value::string("&"),
                value::array([value::string("a"), value::string("="), value::int(1)])
            ]))
            .is_err()
        );
        assert!(
            Domain::parse(&value::array([value::array([value::string("a"), value::string("~"), value::int(1)])]))
                .is_err()
        );
        assert_eq!(Domain::parse(&Value::Boolean(false)).unwrap(), Domain::all());
    }

    #[test]
    fn negative_tests_match_empty() {
        let set: HashSet<Key> = [Key::S("x".into())].into_iter().collect();
        assert!(test_value(&Test::NotIn(set.clone(), false), &Val::False, FType::Char, "en_US"));
        assert!(!test_value(&Test::In(set, false), &Val::False, FType::Char, "en_US"));
        assert!(test_value(&Test::Ne(Key::S("x".into())), &Val::False, FType::Char, "en_US"));
        assert!(test_value(
            &Test::Like { pattern: chars("%x%"), ci: true, negate: true },
            &Val::False,
            FType::Char,
            "en_US"
        ));
        assert!(test_value(
            &Test::Eq(Key::N(Decimal::from(2))),
            &Val::Num(Decimal::new(200, 2)),
            FType::Float,
            "en_US"
        ));
    }
}
