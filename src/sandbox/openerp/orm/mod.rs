//! A small in-memory ORM with Odoo 17's semantics, enough to answer the external API.
//!
//! * [`model`]: typed field and model definitions, hooks, the registry.
//! * [`table`]: rows and indexes.
//! * [`val`]: stored values and `create`/`write` values (x2many commands).
//! * [`domain`]: search domains.
//! * [`rpc`]: the generic model methods over XML-RPC values (`search_read`, `fields_get`, …).
//!
//! [`Db`] is the database: every model's table, sequences, an undo log that makes each RPC call
//! a transaction (rolled back on error, ids are not reused, as with PostgreSQL sequences), a
//! clock, and a small cache of sorted search results so that paged reads of large tables cost
//! one scan. Business behaviour lives in `super::models`, not here.

pub mod domain;
pub mod model;
pub mod rpc;
pub mod table;
pub mod val;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{NaiveDateTime, Utc};
use dxr::Value;
use rust_decimal::Decimal;

use self::domain::Domain;
use self::model::{DefaultVal, FType, FieldDef, ModelDef, OnDelete, Registry, Storage};
use self::table::{Row, Table};
use self::val::{Cmd, EN, In, Val, Vals};
use super::error::{OResult, OdooError};
use crate::rpc::value::Map;

/// The languages installed in the emulated database.
pub const LANGS: &[&str] = &["en_US", "fr_FR"];

/// The call context: user, language, `active_test` and the raw context struct.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Current user id.
    pub uid: i64,
    /// Language (an installed one; `en_US` otherwise).
    pub lang: String,
    /// Exclude archived records from searches and x2many reads.
    pub active_test: bool,
    /// The whole context as sent.
    pub map: Map,
}

impl Ctx {
    /// Context of user `uid` with no keys.
    pub fn user(uid: i64) -> Ctx {
        Ctx { uid, lang: EN.to_owned(), active_test: true, map: Map::new() }
    }

    /// Context from the `context` struct of a call.
    pub fn from_map(uid: i64, map: Map) -> Ctx {
        let lang = match map.get("lang") {
            Some(Value::String(l)) if LANGS.contains(&l.as_str()) => l.clone(),
            _ => EN.to_owned(),
        };
        let active_test = !matches!(map.get("active_test"), Some(Value::Boolean(false)) | Some(Value::Integer(0)));
        Ctx { uid, lang, active_test, map }
    }

    /// A context key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// True when the key is set to a true value.
    pub fn flag(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| crate::rpc::value::to_bool(key, v).unwrap_or(false))
    }

    /// The same context with another `active_test`.
    pub fn with_active_test(&self, on: bool) -> Ctx {
        let mut c = self.clone();
        c.active_test = on;
        c
    }

    /// The same context in another language.
    pub fn with_lang(&self, lang: &str) -> Ctx {
        let mut c = self.clone();
        c.lang = if LANGS.contains(&lang) { lang.to_owned() } else { EN.to_owned() };
        c.map.insert("lang".into(), Value::String(c.lang.clone()));
        c
    }

    /// The same context with one more key.
    pub fn with(&self, key: &str, v: Value) -> Ctx {
        let mut c = self.clone();
        c.map.insert(key.to_owned(), v);
        c
    }
}

/// Id sets memoised per database generation.
type Memo = (u64, HashMap<String, Arc<HashSet<i64>>>);

struct SearchCache {
    generation: u64,
    entries: VecDeque<(String, Arc<Vec<i64>>)>,
}

/// Tables at least this large cache their sorted search results between calls.
const CACHE_MIN_ROWS: usize = 2000;
const CACHE_ENTRIES: usize = 16;

/// One sort term of an `order` clause.
#[derive(Debug, Clone)]
struct OrderTerm {
    field: Option<usize>,
    desc: bool,
    nulls_first: bool,
}

/// A sort key of one value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    B(bool),
    I(i64),
    N(Decimal),
    S(String, String),
}

/// The emulated database.
pub struct Db {
    /// Model definitions.
    pub reg: Arc<Registry>,
    tables: HashMap<String, Table>,
    seqs: HashMap<String, i64>,
    undo: Option<Vec<(String, i64, Option<Row>)>>,
    generation: u64,
    cache: Mutex<SearchCache>,
    memo: Mutex<Memo>,
    clock: Option<NaiveDateTime>,
}

impl Db {
    /// Empty database for the registry's models.
    pub fn new(reg: Arc<Registry>) -> Db {
        let mut inverse: HashSet<(String, String)> = HashSet::new();
        for m in reg.models() {
            for f in &m.fields {
                if f.storage == Storage::One2many
                    && let (Some(r), Some(i)) = (&f.relation, &f.inverse)
                {
                    inverse.insert((r.clone(), i.clone()));
                }
            }
        }
        let tables = reg
            .models()
            .map(|m| {
                let cols = m.fields.iter().filter_map(|f| {
                    let col = f.column()?;
                    let wanted = f.index
                        || inverse.contains(&(m.name.clone(), f.name.clone()))
                        || m.parent_field.as_deref() == Some(f.name.as_str());
                    wanted.then_some(col)
                });
                (m.name.clone(), Table::new(Arc::clone(m), cols.collect::<Vec<_>>()))
            })
            .collect();
        Db {
            reg,
            tables,
            seqs: HashMap::new(),
            undo: None,
            generation: 0,
            cache: Mutex::new(SearchCache { generation: 0, entries: VecDeque::new() }),
            memo: Mutex::new((0, HashMap::new())),
            clock: None,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Transactions, clock, sequences

    /// Starts recording undo information (one RPC call = one transaction).
    pub fn begin(&mut self) {
        self.undo = Some(Vec::new());
    }

    /// Keeps the changes made since [`begin`](Self::begin).
    pub fn commit(&mut self) {
        self.undo = None;
    }

    /// Undoes the changes made since [`begin`](Self::begin). Ids and sequence numbers stay
    /// consumed, as in PostgreSQL.
    pub fn rollback(&mut self) {
        if let Some(log) = self.undo.take() {
            for (model, id, old) in log.into_iter().rev() {
                if let Some(t) = self.tables.get_mut(&model) {
                    t.put(id, old);
                }
            }
            self.generation += 1;
        }
    }

    /// Freezes (or, with `None`, releases) the clock.
    pub fn set_clock(&mut self, at: Option<NaiveDateTime>) {
        self.clock = at;
    }

    /// The current time (UTC, whole seconds).
    pub fn now_dt(&self) -> NaiveDateTime {
        let now = self.clock.unwrap_or_else(|| Utc::now().naive_utc());
        now.with_nanosecond_zero()
    }

    /// The current time as Odoo writes it: `YYYY-MM-DD HH:MM:SS`.
    pub fn now(&self) -> String {
        self.now_dt().format("%Y-%m-%d %H:%M:%S").to_string()
    }

    /// Today as `YYYY-MM-DD`.
    pub fn today(&self) -> String {
        self.now_dt().format("%Y-%m-%d").to_string()
    }

    /// Takes the next number of a named sequence (starting at 1; never rolled back).
    pub fn next_seq(&mut self, key: &str) -> i64 {
        let n = self.seqs.entry(key.to_owned()).or_insert(1);
        let v = *n;
        *n += 1;
        v
    }

    /// Sets the next number of a named sequence.
    pub fn set_seq(&mut self, key: &str, next: i64) {
        self.seqs.insert(key.to_owned(), next);
    }

    /// Sets the next id of a model.
    ///
    /// Ids only go up: a value below an existing id is raised above it, so no record is ever
    /// overwritten.
    pub fn set_next_id(&mut self, model: &str, next: i64) {
        if let Some(t) = self.tables.get_mut(model) {
            let floor = t.ids().last().map_or(1, |m| m + 1);
            t.next_id = next.max(floor);
        }
    }

    /// Increases on every change (for caches and tests).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    // -----------------------------------------------------------------------------------------
    // Low-level access

    /// A model's definition (`UserError: Object x doesn't exist` for unknown models).
    pub fn def(&self, model: &str) -> OResult<Arc<ModelDef>> {
        self.reg.get(model).cloned().ok_or_else(|| OdooError::User(format!("Object {model} doesn't exist")))
    }

    /// A model's table.
    ///
    /// # Panics
    /// Never for models of the registry; other names are a programming error.
    pub fn table(&self, model: &str) -> &Table {
        self.tables.get(model).unwrap_or_else(|| panic!("no table for model {model}"))
    }

    /// True when the record exists.
    pub fn exists(&self, model: &str, id: i64) -> bool {
        self.tables.get(model).is_some_and(|t| t.contains(id))
    }

    /// Every id of a model, ascending (archived included).
    pub fn all_ids(&self, model: &str) -> Vec<i64> {
        self.tables.get(model).map(|t| t.ids().collect()).unwrap_or_default()
    }

    fn put_row(&mut self, model: &str, id: i64, row: Option<Row>) {
        let Some(t) = self.tables.get_mut(model) else {
            return;
        };
        let old = t.put(id, row);
        if let Some(log) = self.undo.as_mut() {
            log.push((model.to_owned(), id, old));
        }
        self.generation += 1;
    }

    /// Sets a stored field without hooks or `write_date` (computed-stored values, seeds).
    pub fn set_stored(&mut self, model: &str, id: i64, field: &str, v: Val) -> OResult<()> {
        let def = self.def(model)?;
        let f = def.field(field).ok_or_else(|| OdooError::invalid_field(model, field))?;
        let Some(col) = f.column() else {
            return Err(OdooError::value(format!("{model}.{field} is not stored")));
        };
        let Some(row) = self.table(model).get(id) else {
            return Err(OdooError::missing(model, &[id], 1));
        };
        let mut row = row.clone();
        row[col] = v;
        self.put_row(model, id, Some(row));
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Reading values

    /// The value of field `f` of record `id` (computed fields computed, x2many ids in the
    /// comodel's order, archived targets hidden when `active_test`).
    pub fn value<'a>(&'a self, ctx: &Ctx, def: &ModelDef, id: i64, f: &FieldDef) -> OResult<Cow<'a, Val>> {
        if f.name == "id" {
            return Ok(Cow::Owned(Val::Int(id)));
        }
        match &f.storage {
            Storage::Column(col) => {
                let row = self.table(&def.name).get(id).ok_or_else(|| OdooError::missing(&def.name, &[id], ctx.uid))?;
                let v = &row[*col];
                if f.ftype == FType::Many2many
                    && let (Val::Ids(ids), Some(rel)) = (v, f.relation.as_deref())
                {
                    let mut ids = ids.clone();
                    self.filter_active(ctx, rel, &mut ids);
                    self.sort_default(ctx, rel, &mut ids);
                    return Ok(Cow::Owned(Val::Ids(ids)));
                }
                Ok(Cow::Borrowed(v))
            }
            Storage::Delegated => {
                let Some((parent, link)) = def.inherits.as_ref() else {
                    return Ok(Cow::Owned(Val::False));
                };
                let lf = def.field(link).ok_or_else(|| OdooError::invalid_field(&def.name, link))?;
                let pid = self.value(ctx, def, id, lf)?.id();
                let Some(pid) = pid else {
                    return Ok(Cow::Owned(f.empty_read()));
                };
                let pdef = self.def(parent)?;
                let pf = pdef.field(&f.name).ok_or_else(|| OdooError::invalid_field(parent, &f.name))?;
                self.value(ctx, &pdef, pid, pf)
            }
            Storage::One2many => Ok(Cow::Owned(Val::Ids(self.o2m_ids(ctx, f, id)))),
            Storage::Related(path) => {
                let mut cur_def =
                    self.reg.get(&def.name).cloned().ok_or_else(|| OdooError::invalid_field(&def.name, &f.name))?;
                let mut cur_id = id;
                for (i, step) in path.iter().enumerate() {
                    let sf = cur_def.field(step).ok_or_else(|| OdooError::invalid_field(&cur_def.name, step))?.clone();
                    if i + 1 == path.len() {
                        return Ok(Cow::Owned(self.value(ctx, &cur_def, cur_id, &sf)?.into_owned()));
                    }
                    let Some(next) = self.value(ctx, &cur_def, cur_id, &sf)?.id() else {
                        return Ok(Cow::Owned(f.empty_read()));
                    };
                    cur_def = self.def(sf.relation.as_deref().unwrap_or_default())?;
                    cur_id = next;
                }
                Ok(Cow::Owned(Val::False))
            }
            Storage::Computed => {
                if f.name == "display_name" {
                    return Ok(Cow::Owned(Val::Str(self.display_name(ctx, &def.name, id))));
                }
                match def.hooks.compute {
                    Some(c) => Ok(Cow::Owned(c(self, ctx, id, f)?)),
                    None => Ok(Cow::Owned(f.empty_read())),
                }
            }
        }
    }

    /// The value of a field by name.
    pub fn get(&self, ctx: &Ctx, model: &str, id: i64, field: &str) -> OResult<Val> {
        let def = self.def(model)?;
        let f = def.field(field).ok_or_else(|| OdooError::invalid_field(model, field))?;
        Ok(self.value(ctx, &def, id, f)?.into_owned())
    }

    /// A many2one value (`None` when empty or on error).
    pub fn get_id(&self, ctx: &Ctx, model: &str, id: i64, field: &str) -> Option<i64> {
        self.get(ctx, model, id, field).ok().and_then(|v| v.id())
    }

    /// A number (`0` when empty or on error).
    pub fn get_num(&self, ctx: &Ctx, model: &str, id: i64, field: &str) -> Decimal {
        self.get(ctx, model, id, field).map(|v| v.num()).unwrap_or_default()
    }

    /// A flag (`false` when empty or on error).
    pub fn get_bool(&self, ctx: &Ctx, model: &str, id: i64, field: &str) -> bool {
        self.get(ctx, model, id, field).map(|v| v.bool()).unwrap_or(false)
    }

    /// Text in the context language (`None` when empty or on error).
    pub fn get_str(&self, ctx: &Ctx, model: &str, id: i64, field: &str) -> Option<String> {
        let v = self.get(ctx, model, id, field).ok()?;
        v.text(&ctx.lang).map(str::to_owned)
    }

    /// x2many ids (empty on error).
    pub fn get_ids(&self, ctx: &Ctx, model: &str, id: i64, field: &str) -> Vec<i64> {
        self.get(ctx, model, id, field).map(|v| v.ids().to_vec()).unwrap_or_default()
    }

    fn o2m_ids(&self, ctx: &Ctx, f: &FieldDef, id: i64) -> Vec<i64> {
        let (Some(rel), Some(inv)) = (f.relation.as_deref(), f.inverse.as_deref()) else {
            return Vec::new();
        };
        let mut ids = self.referencing(rel, inv, id);
        self.filter_active(ctx, rel, &mut ids);
        self.sort_default(ctx, rel, &mut ids);
        ids
    }

    /// Ids of `model` whose many2one `field` points to `target` (archived included).
    pub fn referencing(&self, model: &str, field: &str, target: i64) -> Vec<i64> {
        let Some(table) = self.tables.get(model) else {
            return Vec::new();
        };
        let Some(col) = table.def.field(field).and_then(FieldDef::column) else {
            return Vec::new();
        };
        match table.lookup(col, &table::IndexKey::Int(target)) {
            Some(ids) => ids,
            None => table.ids().filter(|i| table.get(*i).is_some_and(|r| r[col].id() == Some(target))).collect(),
        }
    }

    fn filter_active(&self, ctx: &Ctx, model: &str, ids: &mut Vec<i64>) {
        if !ctx.active_test {
            return;
        }
        let Some(table) = self.tables.get(model) else {
            return;
        };
        let Some(col) = table.def.field("active").and_then(FieldDef::column) else {
            return;
        };
        ids.retain(|i| table.get(*i).is_some_and(|r| r[col].bool()));
    }

    /// The display name of a record.
    pub fn display_name(&self, ctx: &Ctx, model: &str, id: i64) -> String {
        let Ok(def) = self.def(model) else {
            return format!("{model},{id}");
        };
        if let Some(h) = def.hooks.display_name {
            return h(self, ctx, id);
        }
        if let Some(rn) = def.rec_name.as_deref()
            && let Some(f) = def.field(rn)
            && let Ok(v) = self.value(ctx, &def, id, f)
        {
            return match v.as_ref() {
                Val::Id(t) => self.display_name(ctx, f.relation.as_deref().unwrap_or_default(), *t),
                other => other.text(&ctx.lang).map(str::to_owned).unwrap_or_default(),
            };
        }
        format!("{model},{id}")
    }

    // -----------------------------------------------------------------------------------------
    // Searching

    /// Searches like `Model.search(domain, offset, limit, order)`: archived records are left
    /// out unless `active_test` is off or the domain mentions `active`.
    pub fn search(
        &self,
        ctx: &Ctx,
        model: &str,
        domain: &Domain,
        order: Option<&str>,
        offset: usize,
        limit: Option<usize>,
    ) -> OResult<Vec<i64>> {
        let def = self.def(model)?;
        let with_active;
        let dom = if def.has_active() && ctx.active_test && !domain.mentions("active") {
            with_active = Domain::And(vec![Domain::leaf("active", "=", Value::Boolean(true)), domain.clone()]);
            &with_active
        } else {
            domain
        };
        let cnode = domain::compile(self, ctx, &def, dom)?;
        let order_text = order.map(str::trim).filter(|o| !o.is_empty()).unwrap_or(&def.order).to_owned();
        let terms = parse_order(&def, &order_text)?;
        let table = self.table(model);
        let by_id = terms.len() == 1 && terms[0].field.is_none() && !terms[0].desc;
        let cache_key = (table.len() >= CACHE_MIN_ROWS)
            .then(|| format!("{model}\u{1}{dom:?}\u{1}{order_text}\u{1}{}\u{1}{:?}", ctx.lang, ctx.map));
        if let Some(key) = &cache_key
            && let Some(hit) = self.cache_get(key)
        {
            return Ok(page(&hit, offset, limit));
        }
        let stop_after = if cache_key.is_none() && by_id { limit.map(|l| l + offset) } else { None };
        let mut ids = Vec::new();
        let consider = |id: i64, ids: &mut Vec<i64>| -> OResult<bool> {
            if cnode.eval(self, ctx, &def, id)? {
                ids.push(id);
            }
            Ok(stop_after.is_none_or(|s| ids.len() < s))
        };
        match cnode.candidates(self, &def) {
            Some(c) => {
                for id in c {
                    if table.contains(id) && !consider(id, &mut ids)? {
                        break;
                    }
                }
            }
            None => {
                for id in table.ids() {
                    if !consider(id, &mut ids)? {
                        break;
                    }
                }
            }
        }
        if !by_id {
            self.sort_ids(ctx, &def, &mut ids, &terms)?;
        }
        if let Some(key) = cache_key {
            let ids = Arc::new(ids);
            self.cache_put(key, Arc::clone(&ids));
            return Ok(page(&ids, offset, limit));
        }
        Ok(page(&ids, offset, limit))
    }

    /// Every matching id in the default order.
    pub fn search_all(&self, ctx: &Ctx, model: &str, domain: &Domain) -> OResult<Vec<i64>> {
        self.search(ctx, model, domain, None, 0, None)
    }

    /// The first matching id in the default order.
    pub fn search_one(&self, ctx: &Ctx, model: &str, domain: &Domain) -> OResult<Option<i64>> {
        Ok(self.search(ctx, model, domain, None, 0, Some(1))?.into_iter().next())
    }

    fn cache_get(&self, key: &str) -> Option<Arc<Vec<i64>>> {
        let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.generation != self.generation {
            return None;
        }
        cache.entries.iter().find(|(k, _)| k == key).map(|(_, v)| Arc::clone(v))
    }

    fn cache_put(&self, key: String, ids: Arc<Vec<i64>>) {
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.generation != self.generation {
            cache.entries.clear();
            cache.generation = self.generation;
        }
        if cache.entries.len() >= CACHE_ENTRIES {
            cache.entries.pop_front();
        }
        cache.entries.push_back((key, ids));
    }

    /// A set of ids memoised under `key` until the next change.
    pub fn memo_get(&self, key: &str) -> Option<Arc<HashSet<i64>>> {
        let memo = self.memo.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if memo.0 != self.generation {
            return None;
        }
        memo.1.get(key).cloned()
    }

    /// Memoises a set of ids under `key` until the next change.
    pub fn memo_put(&self, key: String, ids: Arc<HashSet<i64>>) {
        let mut memo = self.memo.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if memo.0 != self.generation {
            memo.1.clear();
            memo.0 = self.generation;
        }
        memo.1.insert(key, ids);
    }

    /// Ids of `model` whose record name (or the model's extra name-search fields) match `name`
    /// with `op` (`ilike`, `=`, …).
    pub fn name_search_ids(&self, ctx: &Ctx, model: &str, name: &str, op: &str) -> OResult<Vec<i64>> {
        let def = self.def(model)?;
        let dom = name_domain(&def, name, op);
        self.search_all(ctx, model, &dom)
    }

    /// Record ids in the subtree of `start` along `parent` (start included).
    pub fn descendants(&self, model: &str, parent: &str, start: &[i64]) -> HashSet<i64> {
        let mut seen: HashSet<i64> = start.iter().copied().collect();
        let mut queue: VecDeque<i64> = start.iter().copied().collect();
        while let Some(id) = queue.pop_front() {
            for child in self.referencing(model, parent, id) {
                if seen.insert(child) {
                    queue.push_back(child);
                }
            }
        }
        seen
    }

    /// Record ids on the path from `start` to the root along `parent` (start included).
    pub fn ancestors(&self, model: &str, parent: &str, start: &[i64]) -> HashSet<i64> {
        let ctx = Ctx::user(1).with_active_test(false);
        let mut seen = HashSet::new();
        for &s in start {
            let mut cur = Some(s);
            while let Some(id) = cur {
                if !seen.insert(id) {
                    break;
                }
                cur = self.get_id(&ctx, model, id, parent);
            }
        }
        seen
    }

    /// Sorts ids by the model's default order.
    pub fn sort_default(&self, ctx: &Ctx, model: &str, ids: &mut [i64]) {
        if ids.len() < 2 {
            return;
        }
        let Ok(def) = self.def(model) else { return };
        let Ok(terms) = parse_order(&def, &def.order) else {
            return;
        };
        let mut v = ids.to_vec();
        if self.sort_ids(ctx, &def, &mut v, &terms).is_ok() {
            ids.copy_from_slice(&v);
        }
    }

    fn sort_ids(&self, ctx: &Ctx, def: &ModelDef, ids: &mut Vec<i64>, terms: &[OrderTerm]) -> OResult<()> {
        if ids.len() < 2 {
            return Ok(());
        }
        let mut keyed: Vec<(Vec<Option<SortKey>>, i64)> = Vec::with_capacity(ids.len());
        for &id in ids.iter() {
            let mut k = Vec::with_capacity(terms.len());
            for t in terms {
                k.push(self.sort_key(ctx, def, id, t.field)?);
            }
            keyed.push((k, id));
        }
        keyed.sort_by(|(a, ia), (b, ib)| {
            for (i, t) in terms.iter().enumerate() {
                let o = match (&a[i], &b[i]) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => {
                        if t.nulls_first {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        }
                    }
                    (Some(_), None) => {
                        if t.nulls_first {
                            Ordering::Greater
                        } else {
                            Ordering::Less
                        }
                    }
                    (Some(x), Some(y)) => {
                        if t.desc {
                            y.cmp(x)
                        } else {
                            x.cmp(y)
                        }
                    }
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            ia.cmp(ib)
        });
        *ids = keyed.into_iter().map(|(_, id)| id).collect();
        Ok(())
    }

    fn sort_key(&self, ctx: &Ctx, def: &ModelDef, id: i64, field: Option<usize>) -> OResult<Option<SortKey>> {
        let Some(i) = field else {
            return Ok(Some(SortKey::I(id)));
        };
        let f = &def.fields[i];
        let v = self.value(ctx, def, id, f)?;
        Ok(match v.as_ref() {
            Val::False => match f.ftype {
                FType::Boolean => Some(SortKey::B(false)),
                FType::Integer => Some(SortKey::I(0)),
                _ => None,
            },
            Val::Bool(b) => Some(SortKey::B(*b)),
            Val::Int(n) => Some(SortKey::I(*n)),
            Val::Num(d) => Some(SortKey::N(*d)),
            Val::Id(t) => {
                let name = self.display_name(ctx, f.relation.as_deref().unwrap_or_default(), *t);
                Some(SortKey::S(name.to_lowercase(), name))
            }
            other => other.text(&ctx.lang).map(|s| SortKey::S(s.to_lowercase(), s.to_owned())),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Writing

    /// Creates a record like `Model.create(vals)` and returns its id.
    pub fn create(&mut self, ctx: &Ctx, model: &str, vals: Vals) -> OResult<i64> {
        let def = self.def(model)?;
        let mut vals = vals;
        for k in vals.keys() {
            if def.field(k).is_none() {
                return Err(OdooError::invalid_field(model, k));
            }
        }
        if let Some(h) = def.hooks.before_create {
            h(self, ctx, &mut vals)?;
        }
        let original = vals.clone();
        let mut delegated = Vals::new();
        if let Some((parent, link)) = def.inherits.clone() {
            let mut parent_vals = Vals::new();
            for (k, v) in std::mem::take(&mut vals.0) {
                if def.field(&k).is_some_and(|f| f.storage == Storage::Delegated) {
                    parent_vals.0.push((k, v));
                } else {
                    vals.0.push((k, v));
                }
            }
            match vals.get(&link).and_then(Val::id) {
                Some(_) => delegated = parent_vals,
                None => {
                    let pid = self.create(ctx, &parent, parent_vals)?;
                    vals.set(&link, Val::Id(pid));
                }
            }
        }
        let id = self.tables.get_mut(model).map(Table::take_id).unwrap_or(0);
        let now = self.now();
        let mut row: Row = vec![Val::False; def.ncols];
        for f in &def.fields {
            if let Some(col) = f.column() {
                row[col] = match &f.default {
                    DefaultVal::None => Val::False,
                    DefaultVal::Const(v) => v.clone(),
                    DefaultVal::Fn(func) => func(self, ctx),
                };
                if f.translate
                    && let Val::Str(s) = &row[col]
                {
                    row[col] = Val::Tr(Box::new(val::Trans::new([(EN, s.clone())])));
                }
            }
        }
        for (name, v) in [
            ("create_date", Val::Str(now.clone())),
            ("write_date", Val::Str(now)),
            ("create_uid", Val::Id(ctx.uid)),
            ("write_uid", Val::Id(ctx.uid)),
        ] {
            if let Some(col) = def.field(name).and_then(FieldDef::column) {
                row[col] = v;
            }
        }
        let mut later: Vec<(FieldDef, Vec<Cmd>)> = Vec::new();
        let mut related: Vals = Vals::new();
        for (k, v) in vals.0 {
            let Some(f) = def.field(&k) else { continue };
            match (&f.storage, v) {
                (Storage::Column(col), In::V(val)) => {
                    if f.ftype == FType::Many2many {
                        later.push((f.clone(), vec![Cmd::Set(val.ids().to_vec())]));
                        continue;
                    }
                    let stored = self.store_value(ctx, &def, f, &row[*col], val)?;
                    row[*col] = stored;
                }
                (Storage::Column(_) | Storage::One2many, In::Cmds(cmds)) => later.push((f.clone(), cmds)),
                (Storage::Related(_), v) => related.0.push((k, v)),
                _ => {}
            }
        }
        for f in &def.fields {
            if f.required
                && let Some(col) = f.column()
                && matches!(row[col], Val::False)
                && !matches!(f.ftype, FType::Boolean | FType::Integer | FType::Float | FType::Monetary)
            {
                return Err(OdooError::not_null(&def.description, model, &f.label, &f.name));
            }
        }
        self.put_row(model, id, Some(row));
        for (f, cmds) in later {
            self.apply_x2m(ctx, &def, id, &f, cmds)?;
        }
        if !delegated.is_empty()
            && let Some((parent, link)) = def.inherits.clone()
            && let Some(pid) = self.get_id(ctx, model, id, &link)
        {
            self.write(ctx, &parent, &[pid], delegated)?;
        }
        if !related.is_empty() {
            self.write_related(ctx, &def, &[id], related)?;
        }
        if let Some(h) = def.hooks.after_create {
            h(self, ctx, id, &original)?;
        }
        Ok(id)
    }

    /// Writes values on records like `records.write(vals)`.
    pub fn write(&mut self, ctx: &Ctx, model: &str, ids: &[i64], vals: Vals) -> OResult<()> {
        let def = self.def(model)?;
        for k in vals.keys() {
            if def.field(k).is_none() {
                return Err(OdooError::invalid_field(model, k));
            }
        }
        let missing: Vec<i64> = ids.iter().copied().filter(|i| !self.exists(model, *i)).collect();
        if !missing.is_empty() {
            return Err(OdooError::missing(model, &missing, ctx.uid));
        }
        let mut vals = vals;
        if let Some(h) = def.hooks.before_write {
            h(self, ctx, ids, &mut vals)?;
        }
        if let Some(pf) = def.parent_field.as_deref()
            && let Some(parent) = vals.get(pf).and_then(Val::id)
            && ids.iter().any(|&id| self.descendants(model, pf, &[id]).contains(&parent))
        {
            return Err(OdooError::Validation("Recursion Detected.".into()));
        }
        let original = vals.clone();
        let mut delegated = Vals::new();
        let mut related = Vals::new();
        let mut plain: Vec<(FieldDef, Val)> = Vec::new();
        let mut cmds: Vec<(FieldDef, Vec<Cmd>)> = Vec::new();
        for (k, v) in vals.0 {
            let Some(f) = def.field(&k) else { continue };
            match (&f.storage, v) {
                (Storage::Delegated, v) => delegated.0.push((k, v)),
                (Storage::Related(_), v) => related.0.push((k, v)),
                (Storage::Column(_), In::V(val)) if f.ftype == FType::Many2many => {
                    cmds.push((f.clone(), vec![Cmd::Set(val.ids().to_vec())]))
                }
                (Storage::Column(_), In::V(val)) => plain.push((f.clone(), val)),
                (Storage::Column(_) | Storage::One2many, In::Cmds(c)) => cmds.push((f.clone(), c)),
                _ => {}
            }
        }
        if !delegated.is_empty()
            && let Some((parent, link)) = def.inherits.clone()
        {
            let mut pids: Vec<i64> = ids.iter().filter_map(|i| self.get_id(ctx, model, *i, &link)).collect();
            pids.sort_unstable();
            pids.dedup();
            self.write(ctx, &parent, &pids, delegated)?;
        }
        let now = self.now();
        for &id in ids {
            let Some(row) = self.table(model).get(id) else {
                continue;
            };
            let mut row = row.clone();
            for (f, val) in &plain {
                let Some(col) = f.column() else { continue };
                let stored = self.store_value(ctx, &def, f, &row[col], val.clone())?;
                if f.required
                    && matches!(stored, Val::False)
                    && !matches!(f.ftype, FType::Boolean | FType::Integer | FType::Float | FType::Monetary)
                {
                    return Err(OdooError::not_null(&def.description, model, &f.label, &f.name));
                }
                row[col] = stored;
            }
            if let Some(col) = def.field("write_date").and_then(FieldDef::column) {
                row[col] = Val::Str(now.clone());
            }
            if let Some(col) = def.field("write_uid").and_then(FieldDef::column) {
                row[col] = Val::Id(ctx.uid);
            }
            self.put_row(model, id, Some(row));
        }
        for (f, c) in cmds {
            for &id in ids {
                self.apply_x2m(ctx, &def, id, &f, c.clone())?;
            }
        }
        if !related.is_empty() {
            self.write_related(ctx, &def, ids, related)?;
        }
        if let Some(h) = def.hooks.after_write {
            h(self, ctx, ids, &original)?;
        }
        Ok(())
    }

    fn write_related(&mut self, ctx: &Ctx, def: &ModelDef, ids: &[i64], vals: Vals) -> OResult<()> {
        for (k, v) in vals.0 {
            let Some(Storage::Related(path)) = def.field(&k).map(|f| f.storage.clone()) else {
                continue;
            };
            for &id in ids {
                let mut model = def.name.clone();
                let mut cur = id;
                for step in &path[..path.len() - 1] {
                    let Some(next) = self.get_id(ctx, &model, cur, step) else {
                        break;
                    };
                    let rel = self.def(&model)?.field(step).and_then(|f| f.relation.clone()).unwrap_or_default();
                    model = rel;
                    cur = next;
                }
                if let Some(last) = path.last() {
                    let mut one = Vals::new();
                    one.set_in(last, v.clone());
                    self.write(ctx, &model, &[cur], one)?;
                }
            }
        }
        Ok(())
    }

    /// Deletes records like `records.unlink()` (cascades, restricts and nulls references).
    pub fn unlink(&mut self, ctx: &Ctx, model: &str, ids: &[i64]) -> OResult<()> {
        let def = self.def(model)?;
        let missing: Vec<i64> = ids.iter().copied().filter(|i| !self.exists(model, *i)).collect();
        if !missing.is_empty() {
            return Err(OdooError::missing(model, &missing, ctx.uid));
        }
        if let Some(h) = def.hooks.before_unlink {
            h(self, ctx, ids)?;
        }
        let reg = Arc::clone(&self.reg);
        for other in reg.models() {
            for f in &other.fields {
                if f.relation.as_deref() != Some(model) {
                    continue;
                }
                let Some(col) = f.column() else { continue };
                for &id in ids {
                    if f.ftype == FType::Many2many {
                        let holders: Vec<i64> = self
                            .table(&other.name)
                            .ids()
                            .filter(|h| self.table(&other.name).get(*h).is_some_and(|r| r[col].ids().contains(&id)))
                            .collect();
                        for h in holders {
                            let mut v =
                                self.table(&other.name).get(h).map(|r| r[col].ids().to_vec()).unwrap_or_default();
                            v.retain(|x| *x != id);
                            self.set_stored(&other.name, h, &f.name, Val::Ids(v))?;
                        }
                        continue;
                    }
                    let refs: Vec<i64> = self
                        .referencing(&other.name, &f.name, id)
                        .into_iter()
                        .filter(|r| !(other.name == model && ids.contains(r)))
                        .collect();
                    if refs.is_empty() {
                        continue;
                    }
                    match f.ondelete {
                        OnDelete::Cascade => {
                            let alive: Vec<i64> = refs.into_iter().filter(|r| self.exists(&other.name, *r)).collect();
                            if !alive.is_empty() {
                                self.unlink(ctx, &other.name, &alive)?;
                            }
                        }
                        OnDelete::Restrict => {
                            return Err(OdooError::foreign_key(
                                &other.description,
                                &other.name,
                                &format!("{}_{}_fkey", other.name.replace('.', "_"), f.name),
                            ));
                        }
                        OnDelete::SetNull => {
                            if f.required {
                                return Err(OdooError::foreign_key(
                                    &other.description,
                                    &other.name,
                                    &format!("{}_{}_fkey", other.name.replace('.', "_"), f.name),
                                ));
                            }
                            for r in refs {
                                self.set_stored(&other.name, r, &f.name, Val::False)?;
                            }
                        }
                    }
                }
            }
        }
        for &id in ids {
            if self.exists(model, id) {
                self.put_row(model, id, None);
            }
        }
        Ok(())
    }

    /// Converts a new value for storage: int4 range, foreign keys, translations.
    fn store_value(&self, ctx: &Ctx, def: &ModelDef, f: &FieldDef, old: &Val, new: Val) -> OResult<Val> {
        match (&f.ftype, &new) {
            (FType::Integer, Val::Int(i)) if i32::try_from(*i).is_err() => {
                return Err(OdooError::integer_out_of_range());
            }
            (FType::Many2one, Val::Id(t)) => {
                let rel = f.relation.as_deref().unwrap_or_default();
                if i32::try_from(*t).is_err() {
                    return Err(OdooError::integer_out_of_range());
                }
                if !self.exists(rel, *t) {
                    return Err(OdooError::foreign_key(
                        &def.description,
                        &def.name,
                        &format!("{}_{}_fkey", def.name.replace('.', "_"), f.name),
                    ));
                }
            }
            _ => {}
        }
        if !f.translate {
            return Ok(new);
        }
        Ok(match (old, new) {
            (_, Val::False) => Val::False,
            (Val::Tr(t), Val::Str(s)) => {
                let mut t = t.clone();
                t.insert(&ctx.lang, s);
                Val::Tr(t)
            }
            (_, Val::Str(s)) => Val::Tr(Box::new(val::Trans::new([(EN, s.clone()), (ctx.lang.as_str(), s)]))),
            (_, other) => other,
        })
    }

    fn apply_x2m(&mut self, ctx: &Ctx, def: &ModelDef, id: i64, f: &FieldDef, cmds: Vec<Cmd>) -> OResult<()> {
        let Some(rel) = f.relation.clone() else {
            return Ok(());
        };
        if f.storage == Storage::One2many {
            let inv = f.inverse.clone().unwrap_or_default();
            let inv_required = self.def(&rel)?.field(&inv).is_some_and(|x| x.required);
            let detach = |db: &mut Db, cid: i64| -> OResult<()> {
                if inv_required {
                    db.unlink(ctx, &rel, &[cid])
                } else {
                    db.write(ctx, &rel, &[cid], Vals::new().with(&inv, Val::False))
                }
            };
            for cmd in cmds {
                match cmd {
                    Cmd::Create(mut vals) => {
                        vals.set(&inv, Val::Id(id));
                        self.create(ctx, &rel, vals)?;
                    }
                    Cmd::Update(cid, vals) => self.write(ctx, &rel, &[cid], vals)?,
                    Cmd::Delete(cid) => self.unlink(ctx, &rel, &[cid])?,
                    Cmd::Unlink(cid) => detach(self, cid)?,
                    Cmd::Link(cid) => self.write(ctx, &rel, &[cid], Vals::new().with(&inv, Val::Id(id)))?,
                    Cmd::Clear => {
                        for cid in self.referencing(&rel, &inv, id) {
                            detach(self, cid)?;
                        }
                    }
                    Cmd::Set(keep) => {
                        for cid in self.referencing(&rel, &inv, id) {
                            if !keep.contains(&cid) {
                                detach(self, cid)?;
                            }
                        }
                        for cid in keep {
                            self.write(ctx, &rel, &[cid], Vals::new().with(&inv, Val::Id(id)))?;
                        }
                    }
                }
            }
            return Ok(());
        }
        let Some(col) = f.column() else { return Ok(()) };
        let mut cur: Vec<i64> = self.table(&def.name).get(id).map(|r| r[col].ids().to_vec()).unwrap_or_default();
        for cmd in cmds {
            match cmd {
                Cmd::Create(vals) => {
                    let nid = self.create(ctx, &rel, vals)?;
                    cur.push(nid);
                }
                Cmd::Update(cid, vals) => self.write(ctx, &rel, &[cid], vals)?,
                Cmd::Delete(cid) => {
                    self.unlink(ctx, &rel, &[cid])?;
                    cur.retain(|x| *x != cid);
                }
                Cmd::Unlink(cid) => cur.retain(|x| *x != cid),
                Cmd::Link(cid) => {
                    if !cur.contains(&cid) {
                        cur.push(cid);
                    }
                }
                Cmd::Clear => cur.clear(),
                Cmd::Set(ids) => {
                    cur.clear();
                    for i in ids {
                        if !cur.contains(&i) {
                            cur.push(i);
                        }
                    }
                }
            }
        }
        if let Some(bad) = cur.iter().find(|i| !self.exists(&rel, **i)) {
            let _ = bad;
            return Err(OdooError::foreign_key(
                &def.description,
                &def.name,
                &format!("{}_{}_fkey", def.name.replace('.', "_"), f.name),
            ));
        }
        self.set_stored(&def.name, id, &f.name, Val::Ids(cur))
    }
}

trait ZeroNanos {
    fn with_nanosecond_zero(self) -> Self;
}

impl ZeroNanos for NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

fn page(ids: &[i64], offset: usize, limit: Option<usize>) -> Vec<i64> {
    let start = offset.min(ids.len());
    let end = limit.map_or(ids.len(), |l| (start + l).min(ids.len()));
    ids[start..end].to_vec()
}

/// The domain a name search uses: the record name and the model's extra fields, OR-ed.
pub fn name_domain(def: &ModelDef, name: &str, op: &str) -> Domain {
    let mut fields: Vec<&str> = Vec::new();
    if let Some(extra) = def.hooks.name_search_fields {
        fields.extend(extra());
    }
    if fields.is_empty() {
        fields.push(def.rec_name.as_deref().unwrap_or("id"));
    }
    let leaves: Vec<Domain> = fields.iter().map(|f| Domain::leaf(f, op, Value::String(name.to_owned()))).collect();
    if leaves.len() == 1 { leaves.into_iter().next().unwrap_or(Domain::Const(false)) } else { Domain::Or(leaves) }
}

fn parse_order(def: &ModelDef, text: &str) -> OResult<Vec<OrderTerm>> {
    let bad = || {
        OdooError::value(format!(
            "Invalid \"order\" specified ({text}). A valid \"order\" specification is a comma-separated list of valid field \
             names (optionally followed by asc/desc for the direction)"
        ))
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        let words: Vec<String> = part.split_whitespace().map(str::to_lowercase).collect();
        let Some(name) = part.split_whitespace().next() else {
            return Err(bad());
        };
        let desc = match words.get(1).map(String::as_str) {
            None | Some("asc") => false,
            Some("desc") => true,
            Some("nulls") => false,
            _ => return Err(bad()),
        };
        let rest: Vec<&str> = words
            .iter()
            .skip(if words.get(1).is_some_and(|w| w == "asc" || w == "desc") { 2 } else { 1 })
            .map(String::as_str)
            .collect();
        let nulls_first = match rest.as_slice() {
            [] => desc,
            ["nulls", "first"] => true,
            ["nulls", "last"] => false,
            _ => return Err(bad()),
        };
        if name == "id" {
            out.push(OrderTerm { field: None, desc, nulls_first });
            continue;
        }
        let Some(i) = def.field_index(name) else {
            return Err(OdooError::value(format!(
                "Invalid field {} on model {}",
                super::error::py_str(name),
                super::error::py_str(&def.name)
            )));
        };
        if def.fields[i].ftype.is_x2many() {
            return Err(bad());
        }
        out.push(OrderTerm { field: Some(i), desc, nulls_first });
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::value;
    use model::ModelBuilder;

    fn db() -> Db {
        let mut c = ModelBuilder::new("t.cat", "Category");
        c.char("name", "Name").required().translate();
        c.m2o("parent_id", "Parent", "t.cat").cascade();
        c.o2m("child_ids", "Children", "t.cat", "parent_id");
        c.boolean("active", "Active").default(Val::Bool(true));
        c.order("name");
        c.parent("parent_id");
        let mut p = ModelBuilder::new("t.item", "Item");
        p.char("code", "Code").index();
        p.integer("qty", "Qty");
        p.m2o("cat_id", "Category", "t.cat");
        p.m2m("tag_ids", "Tags", "t.cat");
        Db::new(Arc::new(Registry::new(vec![c.build(), p.build()])))
    }

    fn leaf(p: &str, op: &str, v: Value) -> Domain {
        Domain::leaf(p, op, v)
    }

    #[test]
    fn create_search_order_and_translations() {
        let mut db = db();
        let ctx = Ctx::user(2);
        let root = db.create(&ctx, "t.cat", Vals::new().with("name", Val::str("Root"))).unwrap();
        let a = db
            .create(&ctx, "t.cat", Vals::new().with("name", Val::str("beta")).with("parent_id", Val::Id(root)))
            .unwrap();
        let b = db
            .create(&ctx, "t.cat", Vals::new().with("name", Val::str("Alpha")).with("parent_id", Val::Id(a)))
            .unwrap();
        assert_eq!(db.search_all(&ctx, "t.cat", &Domain::all()).unwrap(), vec![b, a, root]);
        assert_eq!(db.get_ids(&ctx, "t.cat", root, "child_ids"), vec![a]);
        let fr = ctx.with_lang("fr_FR");
        db.write(&fr, "t.cat", &[b], Vals::new().with("name", Val::str("Alpha FR"))).unwrap();
        assert_eq!(db.get_str(&ctx, "t.cat", b, "name").as_deref(), Some("Alpha"));
        assert_eq!(db.get_str(&fr, "t.cat", b, "name").as_deref(), Some("Alpha FR"));
        assert_eq!(db.search_all(&fr, "t.cat", &leaf("name", "ilike", value::string("fr"))).unwrap(), vec![b]);
        let sub = db.search_all(&ctx, "t.cat", &leaf("id", "child_of", value::int(a as i32))).unwrap();
        assert_eq!(sub, vec![b, a]);
        let err = db.create(&ctx, "t.cat", Vals::new()).unwrap_err();
        assert!(err.to_string().contains("Field: Name (name)"), "{err}");
    }

    #[test]
    fn rollback_restores_rows_but_not_ids() {
        let mut db = db();
        let ctx = Ctx::user(2);
        db.begin();
        let x = db.create(&ctx, "t.item", Vals::new().with("code", Val::str("X"))).unwrap();
        db.rollback();
        assert!(!db.exists("t.item", x));
        let y = db.create(&ctx, "t.item", Vals::new().with("code", Val::str("Y"))).unwrap();
        assert_eq!(y, x + 1);
        assert_eq!(db.search_all(&ctx, "t.item", &leaf("code", "=ilike", value::string("y"))).unwrap(), vec![y]);
        assert!(db.search_all(&ctx, "t.item", &leaf("code", "=", value::string("y"))).unwrap().is_empty());
    }

    #[test]
    fn archived_records_hidden_unless_asked() {
        let mut db = db();
        let ctx = Ctx::user(2);
        let a = db.create(&ctx, "t.cat", Vals::new().with("name", Val::str("A"))).unwrap();
        let b =
            db.create(&ctx, "t.cat", Vals::new().with("name", Val::str("B")).with("active", Val::Bool(false))).unwrap();
        assert_eq!(db.search_all(&ctx, "t.cat", &Domain::all()).unwrap(), vec![a]);
        assert_eq!(db.search_all(&ctx.with_active_test(false), "t.cat", &Domain::all()).unwrap(), vec![a, b]);
        assert_eq!(db.search_all(&ctx, "t.cat", &leaf("active", "=", Value::Boolean(false))).unwrap(), vec![b]);
    }

    #[test]
    fn unlink_cascades_and_m2m_commands() {
        let mut db = db();
        let ctx = Ctx::user(2);
        let root = db.create(&ctx, "t.cat", Vals::new().with("name", Val::str("R"))).unwrap();
        let child =
            db.create(&ctx, "t.cat", Vals::new().with("name", Val::str("C")).with("parent_id", Val::Id(root))).unwrap();
        let item = db
            .create(
                &ctx,
                "t.item",
                Vals::new().with("cat_id", Val::Id(child)).with_cmds("tag_ids", vec![Cmd::Set(vec![root, child])]),
            )
            .unwrap();
        assert_eq!(db.get_ids(&ctx, "t.item", item, "tag_ids").len(), 2);
        db.write(&ctx, "t.item", &[item], Vals::new().with_cmds("tag_ids", vec![Cmd::Unlink(root)])).unwrap();
        assert_eq!(db.get_ids(&ctx, "t.item", item, "tag_ids"), vec![child]);
        db.unlink(&ctx, "t.cat", &[root]).unwrap();
        assert!(!db.exists("t.cat", child));
        assert_eq!(db.get(&ctx, "t.item", item, "cat_id").unwrap(), Val::False);
        assert!(db.get_ids(&ctx, "t.item", item, "tag_ids").is_empty());
        assert!(matches!(db.unlink(&ctx, "t.cat", &[root]), Err(OdooError::Missing(_))));
    }

    #[test]
    fn int4_checks() {
        let mut db = db();
        let ctx = Ctx::user(2);
        let err = db.create(&ctx, "t.item", Vals::new().with("qty", Val::Int(1 << 33))).unwrap_err();
        assert!(err.to_string().contains("integer out of range"));
        let err = db.search_all(&ctx, "t.item", &leaf("id", "=", Value::Long(1 << 32))).unwrap_err();
        assert!(err.to_string().contains("out of range for type integer"));
    }
}
