//! Values as the emulated ORM stores them, and the field values of a `create`/`write`.
//!
//! Money and quantities are `Decimal` here and become doubles only on the wire. Empty is one
//! value, [`Val::False`], whatever the field type, as in Odoo's cache.

use rust_decimal::Decimal;

/// The default language; translatable fields always hold a value for it.
pub const EN: &str = "en_US";

/// One stored or computed field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// Empty (NULL): read as `False`, or `0`/`0.0` for numbers.
    False,
    /// Boolean.
    Bool(bool),
    /// Integer (ids and int fields are int4 on the wire).
    Int(i64),
    /// Float or monetary.
    Num(Decimal),
    /// Text: char, text, html, selection, date, datetime, binary (base64).
    Str(String),
    /// A translatable text: language code → value (`en_US` always present).
    Tr(Box<Trans>),
    /// A many2one target.
    Id(i64),
    /// many2many / one2many ids.
    Ids(Vec<i64>),
    /// A ready-made wire value (structs such as `sale.order.tax_totals`).
    Wire(Box<dxr::Value>),
}

impl Val {
    /// Text value (`False` when `s` is `None`).
    pub fn opt_str(s: Option<&str>) -> Val {
        s.map_or(Val::False, |s| Val::Str(s.to_owned()))
    }

    /// Text value.
    pub fn str(s: impl Into<String>) -> Val {
        Val::Str(s.into())
    }

    /// Many2one value (`False` for `None`).
    pub fn opt_id(id: Option<i64>) -> Val {
        id.map_or(Val::False, Val::Id)
    }

    /// True for the empty value.
    pub fn is_false(&self) -> bool {
        matches!(self, Val::False)
    }

    /// Truthiness as Python sees the read value.
    pub fn truthy(&self) -> bool {
        match self {
            Val::False => false,
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            Val::Num(d) => !d.is_zero(),
            Val::Str(s) => !s.is_empty(),
            Val::Tr(_) | Val::Id(_) | Val::Wire(_) => true,
            Val::Ids(v) => !v.is_empty(),
        }
    }

    /// The text in `lang` (falling back to `en_US`) for text and translated values.
    pub fn text(&self, lang: &str) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Tr(t) => t.get(lang).or_else(|| t.get(EN)),
            _ => None,
        }
    }

    /// The many2one id, if set.
    pub fn id(&self) -> Option<i64> {
        match self {
            Val::Id(i) => Some(*i),
            _ => None,
        }
    }

    /// The ids of an x2many value (empty for anything else).
    pub fn ids(&self) -> &[i64] {
        match self {
            Val::Ids(v) => v,
            _ => &[],
        }
    }

    /// The number of a float/int value (`0` when empty).
    pub fn num(&self) -> Decimal {
        match self {
            Val::Num(d) => *d,
            Val::Int(i) => Decimal::from(*i),
            _ => Decimal::ZERO,
        }
    }

    /// The integer of an int value (`0` when empty).
    pub fn int(&self) -> i64 {
        match self {
            Val::Int(i) => *i,
            Val::Id(i) => *i,
            _ => 0,
        }
    }

    /// The flag of a boolean value (`false` when empty).
    pub fn bool(&self) -> bool {
        matches!(self, Val::Bool(true))
    }
}

/// The values of a translatable text per installed language (small: a few entries).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trans(Vec<(&'static str, String)>);

impl Trans {
    /// Translations from `(lang, text)` pairs (languages that are not installed are dropped).
    pub fn new<'a>(items: impl IntoIterator<Item = (&'a str, String)>) -> Trans {
        let mut t = Trans::default();
        for (l, v) in items {
            t.insert(l, v);
        }
        t
    }

    /// The text in `lang`, if set.
    pub fn get(&self, lang: &str) -> Option<&str> {
        self.0.iter().find(|(l, _)| *l == lang).map(|(_, v)| v.as_str())
    }

    /// Sets the text of `lang` (ignored for languages that are not installed).
    pub fn insert(&mut self, lang: &str, text: String) {
        let Some(l) = super::LANGS.iter().find(|x| **x == lang) else {
            return;
        };
        match self.0.iter_mut().find(|(k, _)| k == l) {
            Some(slot) => slot.1 = text,
            None => self.0.push((l, text)),
        }
    }

    /// `(lang, text)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(l, v)| (*l, v.as_str()))
    }
}

/// One x2many command (`(0, 0, vals)` … `(6, 0, ids)`).
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// `(0, 0, vals)`: create and link.
    Create(Vals),
    /// `(1, id, vals)`: write on a linked record.
    Update(i64, Vals),
    /// `(2, id, 0)`: delete the record.
    Delete(i64),
    /// `(3, id, 0)`: remove the link.
    Unlink(i64),
    /// `(4, id, 0)`: add a link.
    Link(i64),
    /// `(5, 0, 0)`: remove every link.
    Clear,
    /// `(6, 0, ids)`: replace the links.
    Set(Vec<i64>),
}

/// The new value of one field in a `create`/`write`.
#[derive(Debug, Clone, PartialEq)]
pub enum In {
    /// A plain value (for translatable text: the value in the context language).
    V(Val),
    /// x2many commands.
    Cmds(Vec<Cmd>),
}

/// Field values of a `create`/`write`, in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vals(pub Vec<(String, In)>);

impl Vals {
    /// Empty set of values.
    pub fn new() -> Self {
        Vals(Vec::new())
    }

    /// Builder: sets `field` to a plain value.
    pub fn with(mut self, field: &str, v: Val) -> Self {
        self.set(field, v);
        self
    }

    /// Builder: sets `field` to x2many commands.
    pub fn with_cmds(mut self, field: &str, cmds: Vec<Cmd>) -> Self {
        self.set_in(field, In::Cmds(cmds));
        self
    }

    /// Sets (or replaces) a plain value.
    pub fn set(&mut self, field: &str, v: Val) {
        self.set_in(field, In::V(v));
    }

    /// Sets (or replaces) a value.
    pub fn set_in(&mut self, field: &str, v: In) {
        if let Some(slot) = self.0.iter_mut().find(|(k, _)| k == field) {
            slot.1 = v;
        } else {
            self.0.push((field.to_owned(), v));
        }
    }

    /// Sets a value only when the field is absent.
    pub fn set_default(&mut self, field: &str, v: Val) {
        if !self.has(field) {
            self.set(field, v);
        }
    }

    /// True when the field is present.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(k, _)| k == field)
    }

    /// The entry for a field.
    pub fn get_in(&self, field: &str) -> Option<&In> {
        self.0.iter().find(|(k, _)| k == field).map(|(_, v)| v)
    }

    /// The plain value of a field, if present and plain.
    pub fn get(&self, field: &str) -> Option<&Val> {
        match self.get_in(field) {
            Some(In::V(v)) => Some(v),
            _ => None,
        }
    }

    /// Removes and returns a field's entry.
    pub fn take(&mut self, field: &str) -> Option<In> {
        let pos = self.0.iter().position(|(k, _)| k == field)?;
        Some(self.0.remove(pos).1)
    }

    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Field names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}
