//! The generic model methods as the external API calls them (`odoo.api.call_kw`): argument
//! binding, conversion of XML-RPC values into field values and back, and `search`,
//! `search_read`, `read`, `search_count`, `create`, `write`, `unlink`, `fields_get`,
//! `name_search`, `name_get`, `read_group`, `default_get`, `exists`, `action_archive`.
//!
//! Conversions follow Odoo 17's `convert_to_cache`/`convert_to_read`: empty is `False` on the
//! wire, many2one is `[id, display_name]` (or the id with `load=None`), x2many is a list of ids,
//! dates are strings, floats are doubles; a `<dateTime.iso8601>` sent for a date field raises
//! `TypeError: object of type 'DateTime' has no len()`, a `<base64>` sent for an image raises
//! `UserError: Image is not encoded in base64.` as the real server does.

use std::collections::BTreeMap;
use std::str::FromStr;

use base64::Engine;
use chrono::{NaiveDate, NaiveDateTime};
use dxr::Value;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::domain::Domain;
use super::model::{DefaultVal, FType, FieldDef, ModelDef, Ret};
use super::val::{Cmd, In, Val, Vals};
use super::{Ctx, Db};
use crate::rpc::value::{self, Map};
use crate::sandbox::openerp::error::{OResult, OdooError, py_repr, py_str};

/// Positional and keyword arguments of one method call, bound like Python binds them.
#[derive(Debug, Clone)]
pub struct Args {
    func: String,
    pos: Vec<Value>,
    kw: Map,
    max_pos: usize,
}

impl Args {
    /// Arguments of `func` (used in `TypeError` messages).
    pub fn new(func: &str, pos: Vec<Value>, kw: Map) -> Args {
        Args { func: func.to_owned(), pos, kw, max_pos: 0 }
    }

    /// Argument `name` at position `idx` (after the ids for record methods).
    pub fn get(&mut self, idx: usize, name: &str) -> OResult<Option<Value>> {
        self.max_pos = self.max_pos.max(idx + 1);
        if let Some(v) = self.pos.get(idx) {
            if self.kw.contains_key(name) {
                return Err(OdooError::type_error(format!(
                    "{}() got multiple values for argument '{name}'",
                    self.func
                )));
            }
            return Ok(Some(v.clone()));
        }
        Ok(self.kw.remove(name))
    }

    /// A required argument.
    pub fn required(&mut self, idx: usize, name: &str) -> OResult<Value> {
        self.get(idx, name)?.ok_or_else(|| {
            OdooError::type_error(format!("{}() missing 1 required positional argument: '{name}'", self.func))
        })
    }

    /// Removes every keyword argument left (for `**kwargs` parameters).
    pub fn rest(&mut self) -> Map {
        std::mem::take(&mut self.kw)
    }

    /// Fails on arguments the method does not take.
    pub fn finish(&self) -> OResult<()> {
        if self.pos.len() > self.max_pos {
            return Err(OdooError::type_error(format!(
                "{}() takes {} positional arguments but {} were given",
                self.func,
                self.max_pos + 1,
                self.pos.len() + 1
            )));
        }
        if let Some(k) = self.kw.keys().next() {
            return Err(OdooError::type_error(format!("{}() got an unexpected keyword argument '{k}'", self.func)));
        }
        Ok(())
    }

    /// The function name.
    pub fn func(&self) -> &str {
        &self.func
    }
}

/// Reads a list of record ids (an int or a list of ints).
pub fn ids_of(v: &Value) -> OResult<Vec<i64>> {
    let one = |x: &Value| -> OResult<i64> {
        match x {
            Value::Integer(i) => Ok(i64::from(*i)),
            Value::Long(i) => Ok(*i),
            Value::Boolean(b) => Ok(i64::from(*b)),
            other => Err(OdooError::type_error(format!("Invalid id {}", py_repr(other)))),
        }
    };
    match v {
        Value::Array(a) => a.iter().map(one).collect(),
        Value::Boolean(false) | Value::Nil => Ok(Vec::new()),
        other => Ok(vec![one(other)?]),
    }
}

fn int4_ids(ids: &[i64]) -> OResult<()> {
    if let Some(bad) = ids.iter().find(|i| i32::try_from(**i).is_err()) {
        return Err(OdooError::int4_out_of_range(*bad));
    }
    Ok(())
}

fn opt_usize(v: Option<Value>, name: &str) -> OResult<Option<usize>> {
    match v {
        None | Some(Value::Nil) | Some(Value::Boolean(false)) => Ok(None),
        Some(Value::Integer(i)) if i >= 0 => Ok(Some(i as usize)),
        Some(Value::Long(i)) if i >= 0 => Ok(Some(usize::try_from(i).unwrap_or(usize::MAX))),
        Some(other) => Err(OdooError::type_error(format!("{name} must be an integer, not {}", py_repr(&other)))),
    }
}

fn opt_string(v: Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn string_list(v: Option<Value>) -> OResult<Option<Vec<String>>> {
    match v {
        None | Some(Value::Nil) | Some(Value::Boolean(false)) => Ok(None),
        Some(Value::Array(a)) => a
            .into_iter()
            .map(|x| match x {
                Value::String(s) => Ok(s),
                other => Err(OdooError::type_error(format!("field names must be strings, not {}", py_repr(&other)))),
            })
            .collect::<OResult<Vec<_>>>()
            .map(Some),
        Some(Value::String(s)) => Ok(Some(vec![s])),
        Some(other) => Err(OdooError::type_error(format!("expected a list of field names, not {}", py_repr(&other)))),
    }
}

// ---------------------------------------------------------------------------------------------
// Wire → field values

fn wrong_value(def: &ModelDef, f: &FieldDef, v: &Value) -> OdooError {
    OdooError::value(format!("Wrong value for {}.{}: {}", def.name, f.name, py_repr(v)))
}

const MAGIC: &[&str] = &["id", "create_date", "write_date", "create_uid", "write_uid", "display_name", "parent_path"];

/// Converts a `vals` struct of `create`/`write` into field values.
pub fn parse_vals(db: &Db, ctx: &Ctx, def: &ModelDef, v: &Value) -> OResult<Vals> {
    let Value::Struct(m) = v else {
        return Err(OdooError::value(format!("Invalid values {} for {}", py_repr(v), def.name)));
    };
    let mut out = Vals::new();
    for (k, x) in m {
        let Some(f) = def.field(k) else {
            return Err(OdooError::invalid_field(&def.name, k));
        };
        if MAGIC.contains(&k.as_str()) {
            continue;
        }
        out.set_in(k, parse_in(db, ctx, def, f, x)?);
    }
    Ok(out)
}

/// Converts one value sent for field `f`.
pub fn parse_in(db: &Db, ctx: &Ctx, def: &ModelDef, f: &FieldDef, v: &Value) -> OResult<In> {
    if matches!(v, Value::Nil | Value::Boolean(false)) && !matches!(f.ftype, FType::Boolean) {
        return Ok(match f.ftype {
            FType::One2many | FType::Many2many => In::Cmds(vec![Cmd::Clear]),
            FType::Integer => In::V(Val::Int(0)),
            FType::Float | FType::Monetary => In::V(Val::Num(Decimal::ZERO)),
            _ => In::V(Val::False),
        });
    }
    let val = match f.ftype {
        FType::Char | FType::Text | FType::Html => Val::Str(match v {
            Value::String(s) => s.clone(),
            Value::DateTime(d) => d.to_string(),
            other => py_repr(other),
        }),
        FType::Selection => match v {
            Value::String(s) if f.selection_has(s) => Val::Str(s.clone()),
            other => return Err(wrong_value(def, f, other)),
        },
        FType::Boolean => Val::Bool(match v {
            Value::Boolean(b) => *b,
            Value::Integer(i) => *i != 0,
            Value::Long(i) => *i != 0,
            Value::Double(d) => *d != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Struct(m) => !m.is_empty(),
            Value::Nil => false,
            _ => true,
        }),
        FType::Integer => Val::Int(match v {
            Value::Integer(i) => i64::from(*i),
            Value::Long(i) => *i,
            Value::Boolean(b) => i64::from(*b),
            Value::Double(d) if d.is_finite() => d.trunc() as i64,
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| OdooError::value(format!("invalid literal for int() with base 10: {}", py_str(s))))?,
            other => {
                return Err(OdooError::type_error(format!(
                    "int() argument must be a string, a bytes-like object or a real number, not {}",
                    py_repr(other)
                )));
            }
        }),
        FType::Float | FType::Monetary => Val::Num(match v {
            Value::Integer(i) => Decimal::from(*i),
            Value::Long(i) => Decimal::from(*i),
            Value::Boolean(b) => Decimal::from(i64::from(*b)),
            Value::Double(d) => value::decimal_from_f64(*d)
                .ok_or_else(|| OdooError::python("psycopg2.errors.NumericValueOutOfRange", "numeric field overflow"))?,
            Value::String(s) => Decimal::from_str(s.trim())
                .or_else(|_| Decimal::from_scientific(s.trim()))
                .map_err(|_| OdooError::value(format!("could not convert string to float: {}", py_str(s))))?,
            other => {
                return Err(OdooError::type_error(format!(
                    "float() argument must be a string or a real number, not {}",
                    py_repr(other)
                )));
            }
        }),
        FType::Date | FType::Datetime => match v {
            Value::String(s) if f.ftype == FType::Date => Val::Str(parse_date(s)?),
            Value::String(s) => Val::Str(parse_datetime(s)?),
            Value::DateTime(_) => {
                return Err(OdooError::type_error("object of type 'DateTime' has no len()"));
            }
            other => {
                return Err(OdooError::type_error(format!(
                    "strptime() argument 1 must be str, not {}",
                    py_repr(other)
                )));
            }
        },
        FType::Binary => match v {
            Value::String(s) => {
                if f.image {
                    check_image(s)?;
                }
                Val::Str(s.clone())
            }
            Value::Base64(_) => {
                return Err(OdooError::User("Image is not encoded in base64.".into()));
            }
            other => return Err(wrong_value(def, f, other)),
        },
        FType::Many2one => match v {
            Value::Integer(i) => Val::Id(i64::from(*i)),
            Value::Long(i) => Val::Id(*i),
            Value::Boolean(true) => Val::Id(1),
            other => return Err(wrong_value(def, f, other)),
        },
        FType::One2many | FType::Many2many => {
            return parse_commands(db, ctx, def, f, v).map(In::Cmds);
        }
    };
    Ok(In::V(val))
}

/// Normalises a date string as `fields.Date.to_date` accepts it.
pub fn parse_date(s: &str) -> OResult<String> {
    let head: String = s.chars().take(10).collect();
    NaiveDate::parse_from_str(&head, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| OdooError::value(format!("time data {} does not match format '%Y-%m-%d'", py_str(&head))))
}

/// Normalises a datetime string as `fields.Datetime.to_datetime` accepts it.
pub fn parse_datetime(s: &str) -> OResult<String> {
    let fmt = match s.len() {
        10 => "%Y-%m-%d",
        13 => "%Y-%m-%d %H",
        16 => "%Y-%m-%d %H:%M",
        _ => "%Y-%m-%d %H:%M:%S",
    };
    let parsed = if s.len() == 10 {
        NaiveDate::parse_from_str(s, fmt).ok().and_then(|d| d.and_hms_opt(0, 0, 0))
    } else if s.len() == 13 {
        NaiveDateTime::parse_from_str(&format!("{s}:00:00"), "%Y-%m-%d %H:%M:%S").ok()
    } else {
        NaiveDateTime::parse_from_str(s, fmt).ok()
    };
    parsed
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .ok_or_else(|| OdooError::value(format!("time data {} does not match format '{fmt}'", py_str(s))))
}

/// Checks that an image field value is base64 of a known image format.
pub fn check_image(s: &str) -> OResult<()> {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| OdooError::User("Image is not encoded in base64.".into()))?;
    let known = bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(b"\xff\xd8\xff")
        || bytes.starts_with(b"GIF8")
        || (bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP")
        || bytes.starts_with(b"<svg")
        || bytes.starts_with(b"<?xml")
        || bytes.starts_with(b"BM");
    if !known {
        return Err(OdooError::User("This file could not be decoded as an image file.".into()));
    }
    Ok(())
}

fn parse_commands(db: &Db, ctx: &Ctx, def: &ModelDef, f: &FieldDef, v: &Value) -> OResult<Vec<Cmd>> {
    let Value::Array(items) = v else {
        return Err(wrong_value(def, f, v));
    };
    let rel = f.relation.as_deref().unwrap_or_default();
    let comodel = db.def(rel)?;
    if !items.is_empty() && items.iter().all(|x| matches!(x, Value::Integer(_) | Value::Long(_))) {
        return Ok(vec![Cmd::Set(ids_of(v)?)]);
    }
    let mut out = Vec::new();
    for item in items {
        let Value::Array(c) = item else {
            return Err(wrong_value(def, f, v));
        };
        let code = match c.first() {
            Some(Value::Integer(i)) => *i,
            _ => return Err(wrong_value(def, f, v)),
        };
        let id = || -> OResult<i64> {
            match c.get(1) {
                Some(Value::Integer(i)) => Ok(i64::from(*i)),
                Some(Value::Long(i)) => Ok(*i),
                _ => Err(wrong_value(def, f, v)),
            }
        };
        out.push(match code {
            0 => Cmd::Create(parse_vals(db, ctx, &comodel, c.get(2).unwrap_or(&Value::Struct(Map::new())))?),
            1 => Cmd::Update(id()?, parse_vals(db, ctx, &comodel, c.get(2).unwrap_or(&Value::Struct(Map::new())))?),
            2 => Cmd::Delete(id()?),
            3 => Cmd::Unlink(id()?),
            4 => Cmd::Link(id()?),
            5 => Cmd::Clear,
            6 => Cmd::Set(ids_of(c.get(2).unwrap_or(&Value::Array(Vec::new())))?),
            _ => return Err(wrong_value(def, f, v)),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Field values → wire

/// A result integer; beyond 32 bits the real server cannot marshal it.
pub fn wire_int(i: i64) -> OResult<Value> {
    i32::try_from(i).map(Value::Integer).map_err(|_| OdooError::int_overflow())
}

/// A float or monetary value as a double.
pub fn wire_num(d: Decimal) -> Value {
    Value::Double(d.to_f64().unwrap_or(0.0))
}

/// The wire value of `v` read from field `f` (`m2o_names`: `[id, name]` pairs, else ids).
pub fn to_wire(db: &Db, ctx: &Ctx, f: &FieldDef, v: &Val, m2o_names: bool) -> OResult<Value> {
    if let Val::Wire(w) = v {
        return Ok((**w).clone());
    }
    if f.name == "id" {
        return wire_int(v.int());
    }
    Ok(match f.ftype {
        FType::Boolean => Value::Boolean(v.bool()),
        FType::Integer => wire_int(v.int())?,
        FType::Float | FType::Monetary => wire_num(v.num()),
        FType::Many2one => match v {
            Val::Id(t) => {
                if m2o_names {
                    let name = db.display_name(ctx, f.relation.as_deref().unwrap_or_default(), *t);
                    Value::Array(vec![wire_int(*t)?, Value::String(name)])
                } else {
                    wire_int(*t)?
                }
            }
            _ => Value::Boolean(false),
        },
        FType::One2many | FType::Many2many => {
            Value::Array(v.ids().iter().map(|i| wire_int(*i)).collect::<OResult<_>>()?)
        }
        FType::Binary if bin_size(ctx, &f.name) => match v {
            Val::Str(s) if !s.is_empty() => Value::String(human_size(binary_len(s))),
            _ => Value::Boolean(false),
        },
        _ => match v {
            Val::Str(s) => Value::String(s.clone()),
            Val::Tr(_) => v.text(&ctx.lang).map_or(Value::Boolean(false), |s| Value::String(s.to_owned())),
            Val::Int(i) => Value::String(i.to_string()),
            _ => Value::Boolean(false),
        },
    })
}

/// True when the context asks for binary fields as sizes (`bin_size`, or `bin_size_<field>`),
/// as the web client does for forms: Odoo then reads `"1.23 Kb"` instead of the content.
fn bin_size(ctx: &Ctx, field: &str) -> bool {
    let truthy = |v: &Value| match v {
        Value::Boolean(b) => *b,
        Value::Integer(i) => *i != 0,
        Value::Long(i) => *i != 0,
        Value::String(s) => !s.is_empty(),
        _ => false,
    };
    ctx.get("bin_size").is_some_and(truthy) || ctx.get(&format!("bin_size_{field}")).is_some_and(truthy)
}

/// Decoded length of a stored base64 value (its text length when it is not base64, as Odoo's
/// `Binary.compute_value` falls back to).
fn binary_len(s: &str) -> usize {
    base64::engine::general_purpose::STANDARD.decode(s.trim()).map_or(s.len(), |b| b.len())
}

/// `odoo.tools.human_size`: `"%0.2f %s"` in bytes, Kb, Mb, Gb, Tb (powers of 1024).
fn human_size(size: usize) -> String {
    const UNITS: [&str; 5] = ["bytes", "Kb", "Mb", "Gb", "Tb"];
    let mut s = size as f64;
    let mut i = 0;
    while s >= 1024.0 && i < UNITS.len() - 1 {
        s /= 1024.0;
        i += 1;
    }
    format!("{s:.2} {}", UNITS[i])
}

/// `read(ids, fields, load)` as a list of structs (`id` always included, missing ids skipped).
pub fn read(
    db: &Db,
    ctx: &Ctx,
    def: &ModelDef,
    ids: &[i64],
    fields: Option<&[String]>,
    m2o_names: bool,
) -> OResult<Vec<Value>> {
    int4_ids(ids)?;
    let chosen: Vec<&FieldDef> = match fields {
        Some(names) if !names.is_empty() => names
            .iter()
            .map(|n| def.field(n).ok_or_else(|| OdooError::invalid_field(&def.name, n)))
            .collect::<OResult<_>>()?,
        _ => def.fields.iter().collect(),
    };
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        if !db.exists(&def.name, id) {
            continue;
        }
        let mut m = Map::new();
        m.insert("id".into(), wire_int(id)?);
        for f in &chosen {
            let v = db.value(ctx, def, id, f)?;
            m.insert(f.name.clone(), to_wire(db, ctx, f, &v, m2o_names)?);
        }
        out.push(Value::Struct(m));
    }
    Ok(out)
}

/// `fields_get` description of one field.
pub fn describe_field(f: &FieldDef, attributes: Option<&[String]>) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        if attributes.is_none_or(|a| a.iter().any(|x| x == k)) {
            m.insert(k.to_owned(), v);
        }
    };
    put("type", Value::String(f.ftype.name().into()));
    put("string", Value::String(f.label.clone()));
    put("required", Value::Boolean(f.required));
    put("readonly", Value::Boolean(f.readonly));
    put("store", Value::Boolean(f.is_stored()));
    put("sortable", Value::Boolean(f.is_stored()));
    put("searchable", Value::Boolean(true));
    put("manual", Value::Boolean(false));
    put("name", Value::String(f.name.clone()));
    put("translate", Value::Boolean(f.translate));
    put("company_dependent", Value::Boolean(false));
    put("change_default", Value::Boolean(false));
    put("exportable", Value::Boolean(true));
    put("depends", Value::Array(Vec::new()));
    if let Some(r) = &f.relation {
        put("relation", Value::String(r.clone()));
        put("context", Value::Struct(Map::new()));
        put("domain", Value::Array(Vec::new()));
    }
    if let Some(i) = &f.inverse {
        put("relation_field", Value::String(i.clone()));
    }
    if f.ftype == FType::Selection {
        put(
            "selection",
            Value::Array(
                f.selection
                    .iter()
                    .map(|(k, l)| Value::Array(vec![Value::String(k.clone()), Value::String(l.clone())]))
                    .collect(),
            ),
        );
    }
    if let Some(h) = &f.help {
        put("help", Value::String(h.clone()));
    }
    if let Some(g) = &f.groups {
        put("groups", Value::String(g.clone()));
    }
    Value::Struct(m)
}

fn archive(db: &mut Db, ctx: &Ctx, def: &ModelDef, ids: &[i64], active: Option<bool>) -> OResult<Ret> {
    if !def.has_active() {
        return Err(OdooError::no_method(
            &def.name,
            if active == Some(false) { "action_archive" } else { "action_unarchive" },
        ));
    }
    for &id in ids {
        let now = match active {
            Some(a) => a,
            None => !db.get_bool(ctx, &def.name, id, "active"),
        };
        db.write(ctx, &def.name, &[id], Vals::new().with("active", Val::Bool(now)))?;
    }
    Ok(Ret::None)
}

const GENERIC: &[&str] = &[
    "search",
    "search_read",
    "search_count",
    "read",
    "create",
    "write",
    "unlink",
    "fields_get",
    "name_search",
    "name_get",
    "read_group",
    "default_get",
    "exists",
    "check_access_rights",
    "action_archive",
    "action_unarchive",
    "toggle_active",
];

/// True when `method` can be called on `def` (generic or business method).
pub fn has_method(def: &ModelDef, method: &str) -> bool {
    GENERIC.contains(&method) || def.method(method).is_some()
}

/// Calls a model method like `odoo.api.call_kw(model, method, args, kwargs)`.
pub fn call(db: &mut Db, ctx: &Ctx, model: &str, method: &str, pos: Vec<Value>, kw: Map) -> OResult<Ret> {
    let def = db.def(model)?;
    let on_records = matches!(
        method,
        "read" | "write" | "unlink" | "name_get" | "exists" | "action_archive" | "action_unarchive" | "toggle_active"
    ) || def.method(method).is_some_and(|m| m.on_records);
    let mut pos = pos;
    let ids = if on_records {
        if pos.is_empty() {
            return Err(OdooError::type_error(format!("{method}() missing 1 required positional argument: 'self'")));
        }
        ids_of(&pos.remove(0))?
    } else {
        Vec::new()
    };
    let mut a = Args::new(&format!("BaseModel.{method}"), pos, kw);
    let v = match method {
        "search" => {
            let domain = Domain::parse(&a.required(0, "domain")?)?;
            let offset = opt_usize(a.get(1, "offset")?, "offset")?.unwrap_or(0);
            let limit = opt_usize(a.get(2, "limit")?, "limit")?;
            let order = opt_string(a.get(3, "order")?);
            a.finish()?;
            let ids = db.search(ctx, model, &domain, order.as_deref(), offset, limit.filter(|l| *l > 0))?;
            Value::Array(ids.into_iter().map(wire_int).collect::<OResult<_>>()?)
        }
        "search_count" => {
            let domain = Domain::parse(&a.required(0, "domain")?)?;
            let limit = opt_usize(a.get(1, "limit")?, "limit")?;
            a.finish()?;
            let n = db.search(ctx, model, &domain, Some("id"), 0, limit.filter(|l| *l > 0))?.len();
            wire_int(n as i64)?
        }
        "search_read" => {
            let domain = Domain::parse(&a.get(0, "domain")?.unwrap_or(Value::Array(Vec::new())))?;
            let fields = string_list(a.get(1, "fields")?)?;
            let offset = opt_usize(a.get(2, "offset")?, "offset")?.unwrap_or(0);
            let limit = opt_usize(a.get(3, "limit")?, "limit")?;
            let order = opt_string(a.get(4, "order")?);
            let load = a.rest().remove("load");
            a.finish()?;
            if let Some(names) = &fields {
                for n in names {
                    if def.field(n).is_none() {
                        return Err(OdooError::invalid_field(model, n));
                    }
                }
            }
            let ids = db.search(ctx, model, &domain, order.as_deref(), offset, limit.filter(|l| *l > 0))?;
            Value::Array(read(db, ctx, &def, &ids, fields.as_deref(), classic(load.as_ref()))?)
        }
        "read" => {
            let fields = string_list(a.get(0, "fields")?)?;
            let load = a.get(1, "load")?;
            a.finish()?;
            Value::Array(read(db, ctx, &def, &ids, fields.as_deref(), classic(load.as_ref()))?)
        }
        "create" => {
            let vals = a.required(0, "vals_list")?;
            a.finish()?;
            match &vals {
                Value::Array(list) => {
                    let mut out = Vec::new();
                    for item in list {
                        let v = parse_vals(db, ctx, &def, item)?;
                        out.push(wire_int(db.create(ctx, model, v)?)?);
                    }
                    Value::Array(out)
                }
                other => {
                    let v = parse_vals(db, ctx, &def, other)?;
                    wire_int(db.create(ctx, model, v)?)?
                }
            }
        }
        "write" => {
            let vals = a.required(0, "vals")?;
            a.finish()?;
            int4_ids(&ids)?;
            let v = parse_vals(db, ctx, &def, &vals)?;
            db.write(ctx, model, &ids, v)?;
            Value::Boolean(true)
        }
        "unlink" => {
            a.finish()?;
            int4_ids(&ids)?;
            db.unlink(ctx, model, &ids)?;
            Value::Boolean(true)
        }
        "fields_get" => {
            let all = string_list(a.get(0, "allfields")?)?;
            let attributes = string_list(a.get(1, "attributes")?)?;
            a.finish()?;
            let mut m = Map::new();
            for f in &def.fields {
                if all.as_ref().is_some_and(|names| !names.is_empty() && !names.contains(&f.name)) {
                    continue;
                }
                m.insert(f.name.clone(), describe_field(f, attributes.as_deref()));
            }
            Value::Struct(m)
        }
        "name_search" => {
            let name = opt_string(a.get(0, "name")?).unwrap_or_default();
            let extra = a.get(1, "args")?.map(|d| Domain::parse(&d)).transpose()?.unwrap_or_else(Domain::all);
            let operator = opt_string(a.get(2, "operator")?).unwrap_or_else(|| "ilike".into());
            let limit = opt_usize(a.get(3, "limit")?, "limit")?.unwrap_or(100);
            a.finish()?;
            let dom = if name.is_empty() && operator == "ilike" {
                extra
            } else {
                Domain::And(vec![extra, super::name_domain(&def, &name, &operator)])
            };
            let ids = db.search(ctx, model, &dom, None, 0, Some(limit).filter(|l| *l > 0))?;
            Value::Array(
                ids.into_iter()
                    .map(|i| Ok(Value::Array(vec![wire_int(i)?, Value::String(db.display_name(ctx, model, i))])))
                    .collect::<OResult<_>>()?,
            )
        }
        "name_get" => {
            a.finish()?;
            Value::Array(
                ids.iter()
                    .filter(|i| db.exists(model, **i))
                    .map(|i| Ok(Value::Array(vec![wire_int(*i)?, Value::String(db.display_name(ctx, model, *i))])))
                    .collect::<OResult<_>>()?,
            )
        }
        "exists" => {
            a.finish()?;
            Value::Array(ids.iter().filter(|i| db.exists(model, **i)).map(|i| wire_int(*i)).collect::<OResult<_>>()?)
        }
        "check_access_rights" => {
            a.required(0, "operation")?;
            a.get(1, "raise_exception")?;
            a.finish()?;
            Value::Boolean(true)
        }
        "default_get" => {
            let fields = string_list(Some(a.required(0, "fields_list")?))?.unwrap_or_default();
            a.finish()?;
            let mut m = Map::new();
            for n in fields {
                let Some(f) = def.field(&n) else { continue };
                let v = match &f.default {
                    DefaultVal::None => continue,
                    DefaultVal::Const(v) => v.clone(),
                    DefaultVal::Fn(func) => func(db, ctx),
                };
                let w = match (&f.ftype, &v) {
                    (FType::Many2one, Val::Id(i)) => wire_int(*i)?,
                    _ => to_wire(db, ctx, f, &v, false)?,
                };
                m.insert(n, w);
            }
            Value::Struct(m)
        }
        "read_group" => {
            let domain = Domain::parse(&a.required(0, "domain")?)?;
            let fields = string_list(Some(a.required(1, "fields")?))?.unwrap_or_default();
            let groupby = string_list(Some(a.required(2, "groupby")?))?.unwrap_or_default();
            let offset = opt_usize(a.get(3, "offset")?, "offset")?.unwrap_or(0);
            let limit = opt_usize(a.get(4, "limit")?, "limit")?;
            let orderby = opt_string(a.get(5, "orderby")?);
            let lazy = a.get(6, "lazy")?.is_none_or(|v| value::to_bool("lazy", &v).unwrap_or(true));
            a.finish()?;
            read_group(db, ctx, &def, &domain, &fields, &groupby, offset, limit, orderby.as_deref(), lazy)?
        }
        "action_archive" => {
            a.finish()?;
            return archive(db, ctx, &def, &ids, Some(false));
        }
        "action_unarchive" => {
            a.finish()?;
            return archive(db, ctx, &def, &ids, Some(true));
        }
        "toggle_active" => {
            a.finish()?;
            return archive(db, ctx, &def, &ids, None);
        }
        _ => match def.method(method) {
            Some(m) => {
                let f = m.f;
                if on_records {
                    int4_ids(&ids)?;
                    let missing: Vec<i64> = ids.iter().copied().filter(|i| !db.exists(model, *i)).collect();
                    if !missing.is_empty() {
                        return Err(OdooError::missing(model, &missing, ctx.uid));
                    }
                }
                let mut a = Args::new(&format!("{}.{method}", model_class(model)), a.pos.clone(), a.rest());
                let r = f(db, ctx, &ids, &mut a)?;
                a.finish()?;
                return Ok(r);
            }
            None => return Err(OdooError::no_method(model, method)),
        },
    };
    Ok(Ret::Value(v))
}

fn classic(load: Option<&Value>) -> bool {
    match load {
        None => true,
        Some(Value::String(s)) => s == "_classic_read",
        Some(_) => false,
    }
}

fn model_class(model: &str) -> String {
    model
        .split('.')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn read_group(
    db: &Db,
    ctx: &Ctx,
    def: &ModelDef,
    domain: &Domain,
    fields: &[String],
    groupby: &[String],
    offset: usize,
    limit: Option<usize>,
    orderby: Option<&str>,
    lazy: bool,
) -> OResult<Value> {
    let groupby: Vec<String> = if lazy { groupby.iter().take(1).cloned().collect() } else { groupby.to_vec() };
    let mut aggs: Vec<(String, String, String)> = Vec::new();
    for spec in fields {
        let (alias, func, field) = if let Some((alias, rest)) = spec.split_once(':') {
            if let Some((func, inner)) = rest.split_once('(') {
                (alias.to_owned(), func.to_owned(), inner.trim_end_matches(')').to_owned())
            } else {
                (alias.to_owned(), rest.to_owned(), alias.to_owned())
            }
        } else {
            (spec.clone(), "sum".to_owned(), spec.clone())
        };
        if field == "__count" || groupby.contains(&field) {
            continue;
        }
        let f = def.field(&field).ok_or_else(|| OdooError::invalid_field(&def.name, &field))?;
        if !matches!(f.ftype, FType::Integer | FType::Float | FType::Monetary) && func == "sum" && !spec.contains(':') {
            continue;
        }
        aggs.push((alias, func, field));
    }
    let mut gfields = Vec::new();
    for g in &groupby {
        let name = g.split(':').next().unwrap_or(g);
        let f = def.field(name).ok_or_else(|| OdooError::invalid_field(&def.name, name))?;
        gfields.push(f.clone());
    }
    let ids = db.search(ctx, &def.name, domain, orderby, 0, None)?;
    let mut groups: Vec<(Vec<Val>, Vec<i64>)> = Vec::new();
    for id in ids {
        let key: Vec<Val> =
            gfields.iter().map(|f| db.value(ctx, def, id, f).map(|v| v.into_owned())).collect::<OResult<_>>()?;
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(id),
            None => groups.push((key, vec![id])),
        }
    }
    if groupby.is_empty() && groups.is_empty() {
        groups.push((Vec::new(), Vec::new()));
    }
    let mut out = Vec::new();
    for (key, members) in groups.into_iter().skip(offset).take(limit.unwrap_or(usize::MAX)) {
        let mut m = Map::new();
        let mut dom = match domain {
            Domain::And(v) if v.is_empty() => Vec::new(),
            _ => vec![domain_to_value(domain)],
        };
        for (f, k) in gfields.iter().zip(&key) {
            m.insert(f.name.clone(), to_wire(db, ctx, f, k, true)?);
            let raw = match k {
                Val::Id(i) | Val::Int(i) => wire_int(*i)?,
                other => to_wire(db, ctx, f, other, false)?,
            };
            dom.push(Value::Array(vec![Value::String(f.name.clone()), Value::String("=".into()), raw]));
        }
        let count = wire_int(members.len() as i64)?;
        if lazy && let Some(g) = groupby.first() {
            m.insert(format!("{}_count", g.split(':').next().unwrap_or(g)), count);
        } else {
            m.insert("__count".into(), count);
        }
        for (alias, func, field) in &aggs {
            let f = def.field(field).ok_or_else(|| OdooError::invalid_field(&def.name, field))?;
            let vals: Vec<Val> =
                members.iter().map(|i| db.value(ctx, def, *i, f).map(|v| v.into_owned())).collect::<OResult<_>>()?;
            let agg = aggregate(func, f.ftype, &vals);
            m.insert(
                alias.clone(),
                match agg {
                    Val::Int(i) => wire_int(i)?,
                    Val::Num(d) => wire_num(d),
                    other => to_wire(db, ctx, f, &other, true)?,
                },
            );
        }
        m.insert("__domain".into(), Value::Array(dom));
        out.push(Value::Struct(m));
    }
    Ok(Value::Array(out))
}

fn aggregate(func: &str, ftype: FType, vals: &[Val]) -> Val {
    let ints = ftype == FType::Integer;
    match func {
        "count" => Val::Int(vals.iter().filter(|v| !v.is_false()).count() as i64),
        "min" | "max" => {
            let nums = vals.iter().map(Val::num);
            let r = if func == "min" { nums.min() } else { nums.max() };
            match r {
                Some(d) if ints => Val::Int(d.to_i64().unwrap_or(0)),
                Some(d) => Val::Num(d),
                None => Val::False,
            }
        }
        "avg" => {
            if vals.is_empty() {
                return Val::False;
            }
            let s: Decimal = vals.iter().map(Val::num).sum();
            Val::Num(s / Decimal::from(vals.len() as i64))
        }
        _ => {
            if ints {
                Val::Int(vals.iter().map(Val::int).sum())
            } else {
                Val::Num(vals.iter().map(Val::num).sum())
            }
        }
    }
}

/// A domain back in wire form (for `__domain`).
pub fn domain_to_value(d: &Domain) -> Value {
    fn push(d: &Domain, out: &mut Vec<Value>) {
        match d {
            Domain::And(v) | Domain::Or(v) => {
                let op = if matches!(d, Domain::And(_)) { "&" } else { "|" };
                for _ in 1..v.len() {
                    out.push(Value::String(op.into()));
                }
                for x in v {
                    push(x, out);
                }
            }
            Domain::Not(x) => {
                out.push(Value::String("!".into()));
                push(x, out);
            }
            Domain::Leaf(l) => out.push(Value::Array(vec![
                Value::String(l.path.clone()),
                Value::String(l.op.clone()),
                l.value.clone(),
            ])),
            Domain::Const(b) => out.push(Value::Array(vec![
                Value::Integer(i32::from(*b)),
                Value::String("=".into()),
                Value::Integer(1),
            ])),
        }
    }
    let mut out = Vec::new();
    push(d, &mut out);
    if out.len() == 1
        && let Some(Value::Array(_)) = out.first()
    {
        return out.pop().unwrap_or(Value::Array(Vec::new()));
    }
    Value::Array(out)
}

/// Struct of translations for tests and helpers: `{lang: text}` of a translatable value.
pub fn translations(v: &Val) -> BTreeMap<String, String> {
    match v {
        Val::Tr(t) => t.iter().map(|(l, x)| (l.to_owned(), x.to_owned())).collect(),
        Val::Str(s) => [(super::val::EN.to_owned(), s.clone())].into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_strings_as_odoo_parses_them() {
        assert_eq!(parse_datetime("2024-07-10 12:34:56").unwrap(), "2024-07-10 12:34:56");
        assert_eq!(parse_datetime("2024-07-10").unwrap(), "2024-07-10 00:00:00");
        assert_eq!(parse_datetime("2024-07-10 12:34").unwrap(), "2024-07-10 12:34:00");
        assert!(parse_datetime("2024-07-10T12:34:56Z").is_err());
        assert_eq!(parse_date("2024-07-10 12:00:00").unwrap(), "2024-07-10");
    }

    #[test]
    fn sizes_read_as_odoo_prints_them() {
        assert_eq!(human_size(0), "0.00 bytes");
        assert_eq!(human_size(1023), "1023.00 bytes");
        assert_eq!(human_size(1260), "1.23 Kb");
        assert_eq!(human_size(5 * 1024 * 1024), "5.00 Mb");
        assert_eq!(binary_len("aGVsbG8="), 5);
    }

    #[test]
    fn images_must_decode() {
        assert!(check_image("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==").is_ok());
        assert_eq!(check_image("@@@").unwrap_err().to_string(), "Image is not encoded in base64.");
        assert!(check_image("aGVsbG8=").is_err());
    }

    #[test]
    fn args_bind_like_python() {
        let mut a = Args::new(
            "BaseModel.search",
            vec![Value::Array(vec![])],
            [("limit".to_owned(), Value::Integer(1))].into_iter().collect(),
        );
        assert!(a.required(0, "domain").is_ok());
        assert_eq!(a.get(2, "limit").unwrap(), Some(Value::Integer(1)));
        assert!(a.finish().is_ok());
        let mut b =
            Args::new("BaseModel.search", vec![], [("count".to_owned(), Value::Boolean(true))].into_iter().collect());
        assert!(b.get(0, "domain").unwrap().is_none());
        assert!(b.finish().unwrap_err().to_string().contains("unexpected keyword argument 'count'"));
    }
}
