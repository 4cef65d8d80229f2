//! Model and field definitions of the emulated ORM, and the registry that holds them.
//!
//! A model is data (typed fields with their Odoo attributes) plus [`Hooks`]: plain functions
//! the ORM calls for computed fields, display names, create/write/unlink side effects and the
//! business methods callable over RPC. Definitions are built once at start-up and shared.

use std::collections::HashMap;
use std::sync::Arc;

use super::rpc::Args;
use super::val::{Val, Vals};
use super::{Ctx, Db};
use crate::sandbox::openerp::error::OResult;

/// Odoo field types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FType {
    /// `fields.Char`.
    Char,
    /// `fields.Text`.
    Text,
    /// `fields.Html`.
    Html,
    /// `fields.Boolean`.
    Boolean,
    /// `fields.Integer`.
    Integer,
    /// `fields.Float`.
    Float,
    /// `fields.Monetary`.
    Monetary,
    /// `fields.Date`.
    Date,
    /// `fields.Datetime`.
    Datetime,
    /// `fields.Selection`.
    Selection,
    /// `fields.Many2one`.
    Many2one,
    /// `fields.One2many`.
    One2many,
    /// `fields.Many2many`.
    Many2many,
    /// `fields.Binary` / `fields.Image`.
    Binary,
}

impl FType {
    /// The type name `fields_get` reports.
    pub fn name(self) -> &'static str {
        match self {
            FType::Char => "char",
            FType::Text => "text",
            FType::Html => "html",
            FType::Boolean => "boolean",
            FType::Integer => "integer",
            FType::Float => "float",
            FType::Monetary => "monetary",
            FType::Date => "date",
            FType::Datetime => "datetime",
            FType::Selection => "selection",
            FType::Many2one => "many2one",
            FType::One2many => "one2many",
            FType::Many2many => "many2many",
            FType::Binary => "binary",
        }
    }

    /// Parses a type name (as in `openerp_addon/contract.json`).
    pub fn parse(s: &str) -> Option<FType> {
        Some(match s {
            "char" => FType::Char,
            "text" => FType::Text,
            "html" => FType::Html,
            "boolean" => FType::Boolean,
            "integer" => FType::Integer,
            "float" => FType::Float,
            "monetary" => FType::Monetary,
            "date" => FType::Date,
            "datetime" => FType::Datetime,
            "selection" => FType::Selection,
            "many2one" => FType::Many2one,
            "one2many" => FType::One2many,
            "many2many" => FType::Many2many,
            "binary" => FType::Binary,
            _ => return None,
        })
    }

    /// True for one2many and many2many.
    pub fn is_x2many(self) -> bool {
        matches!(self, FType::One2many | FType::Many2many)
    }

    /// True for the relational types.
    pub fn is_relational(self) -> bool {
        matches!(self, FType::Many2one | FType::One2many | FType::Many2many)
    }

    /// True for the text-like types stored as [`Val::Str`].
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FType::Char | FType::Text | FType::Html | FType::Selection | FType::Date | FType::Datetime | FType::Binary
        )
    }
}

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// A column of the model's table (index into the row).
    Column(usize),
    /// Stored on the `_inherits` parent (product.product → product.template).
    Delegated,
    /// The records of `relation` whose `inverse` many2one points here.
    One2many,
    /// Computed by the model's [`Hooks::compute`].
    Computed,
    /// Follows many2one fields then reads the last one (`product_tmpl_id.magento_exportable`).
    Related(Vec<String>),
}

/// What happens to a record when the many2one target is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// The field is emptied.
    SetNull,
    /// The record is deleted too.
    Cascade,
    /// The deletion is refused.
    Restrict,
}

/// A default value: constant or computed when the record is created.
#[derive(Clone)]
pub enum DefaultVal {
    /// No default (empty).
    None,
    /// A constant.
    Const(Val),
    /// Computed at create time.
    Fn(fn(&Db, &Ctx) -> Val),
}

impl std::fmt::Debug for DefaultVal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DefaultVal::None => f.write_str("None"),
            DefaultVal::Const(v) => write!(f, "Const({v:?})"),
            DefaultVal::Fn(_) => f.write_str("Fn"),
        }
    }
}

/// One field of a model.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// Technical name.
    pub name: String,
    /// Label (`string`).
    pub label: String,
    /// Type.
    pub ftype: FType,
    /// Comodel of relational fields.
    pub relation: Option<String>,
    /// Inverse many2one of a one2many.
    pub inverse: Option<String>,
    /// `(value, label)` pairs of a selection.
    pub selection: Vec<(String, String)>,
    /// NOT NULL.
    pub required: bool,
    /// Read-only in `fields_get`.
    pub readonly: bool,
    /// Translatable text.
    pub translate: bool,
    /// Indexed in memory (equality and `=ilike` lookups).
    pub index: bool,
    /// Default value.
    pub default: DefaultVal,
    /// Where the value lives.
    pub storage: Storage,
    /// Reaction to the deletion of a many2one target.
    pub ondelete: OnDelete,
    /// Help text.
    pub help: Option<String>,
    /// Access groups (only reported).
    pub groups: Option<String>,
    /// True for images (base64 must decode to an image).
    pub image: bool,
}

impl FieldDef {
    fn new(name: &str, label: &str, ftype: FType) -> Self {
        FieldDef {
            name: name.to_owned(),
            label: if label.is_empty() { default_label(name) } else { label.to_owned() },
            ftype,
            relation: None,
            inverse: None,
            selection: Vec::new(),
            required: false,
            readonly: false,
            translate: false,
            index: false,
            default: DefaultVal::None,
            storage: Storage::Column(usize::MAX),
            ondelete: OnDelete::SetNull,
            help: None,
            groups: None,
            image: false,
        }
    }

    /// Marks the field required.
    pub fn required(&mut self) -> &mut Self {
        self.required = true;
        self
    }

    /// Marks the field read-only.
    pub fn readonly(&mut self) -> &mut Self {
        self.readonly = true;
        self
    }

    /// Marks the text translatable.
    pub fn translate(&mut self) -> &mut Self {
        self.translate = true;
        self
    }

    /// Indexes the field in memory.
    pub fn index(&mut self) -> &mut Self {
        self.index = true;
        self
    }

    /// Sets a constant default.
    pub fn default(&mut self, v: Val) -> &mut Self {
        self.default = DefaultVal::Const(v);
        self
    }

    /// Sets a computed default.
    pub fn default_fn(&mut self, f: fn(&Db, &Ctx) -> Val) -> &mut Self {
        self.default = DefaultVal::Fn(f);
        self
    }

    /// Makes the field computed by the model's hook (not stored).
    pub fn computed(&mut self) -> &mut Self {
        self.storage = Storage::Computed;
        self.readonly = true;
        self
    }

    /// Makes the field computed but writable (the model's write hook handles it).
    pub fn computed_rw(&mut self) -> &mut Self {
        self.storage = Storage::Computed;
        self
    }

    /// Makes the field related to a dotted path of many2one fields.
    pub fn related(&mut self, path: &str) -> &mut Self {
        self.storage = Storage::Related(path.split('.').map(str::to_owned).collect());
        self
    }

    /// Deletes the record when the many2one target is deleted.
    pub fn cascade(&mut self) -> &mut Self {
        self.ondelete = OnDelete::Cascade;
        self
    }

    /// Refuses the deletion of the many2one target.
    pub fn restrict(&mut self) -> &mut Self {
        self.ondelete = OnDelete::Restrict;
        self
    }

    /// Sets the help text.
    pub fn help(&mut self, h: &str) -> &mut Self {
        self.help = Some(h.to_owned());
        self
    }

    /// Sets the access groups.
    pub fn groups(&mut self, g: &str) -> &mut Self {
        self.groups = Some(g.to_owned());
        self
    }

    /// Marks a binary field as an image.
    pub fn image(&mut self) -> &mut Self {
        self.image = true;
        self
    }

    /// True when `fields_get` reports the field as stored.
    pub fn is_stored(&self) -> bool {
        matches!(self.storage, Storage::Column(_))
    }

    /// The column index of a stored field.
    pub fn column(&self) -> Option<usize> {
        match self.storage {
            Storage::Column(c) => Some(c),
            _ => None,
        }
    }

    /// The empty value as read for this type (`0`, `0.0`, `False`, `[]`).
    pub fn empty_read(&self) -> Val {
        match self.ftype {
            FType::Integer => Val::Int(0),
            FType::Float | FType::Monetary => Val::Num(rust_decimal::Decimal::ZERO),
            FType::Boolean => Val::Bool(false),
            FType::One2many | FType::Many2many => Val::Ids(Vec::new()),
            _ => Val::False,
        }
    }

    /// True when `v` is a valid selection key.
    pub fn selection_has(&self, v: &str) -> bool {
        self.selection.iter().any(|(k, _)| k == v)
    }
}

/// Odoo's default label for a field: `root_category_id` → `Root Category`.
pub fn default_label(name: &str) -> String {
    let base = name.strip_suffix("_ids").or_else(|| name.strip_suffix("_id")).unwrap_or(name);
    base.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a business method returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Ret {
    /// A value.
    Value(dxr::Value),
    /// Python `None`: the work is committed, then marshalling fails (fault 1).
    None,
}

/// A business method callable over RPC.
pub type MethodFn = fn(&mut Db, &Ctx, &[i64], &mut Args) -> OResult<Ret>;

/// One business method.
#[derive(Clone)]
pub struct MethodDef {
    /// Name.
    pub name: &'static str,
    /// True when the first positional argument is the list of ids.
    pub on_records: bool,
    /// Implementation.
    pub f: MethodFn,
}

/// Computes a non-stored field of one record.
pub type ComputeFn = fn(&Db, &Ctx, i64, &FieldDef) -> OResult<Val>;
/// Display name of one record.
pub type NameFn = fn(&Db, &Ctx, i64) -> String;
/// Adjusts the values of a create before it is applied.
pub type BeforeCreateFn = fn(&mut Db, &Ctx, &mut Vals) -> OResult<()>;
/// Runs after a record was created.
pub type AfterCreateFn = fn(&mut Db, &Ctx, i64, &Vals) -> OResult<()>;
/// Adjusts (or refuses) the values of a write before it is applied.
pub type BeforeWriteFn = fn(&mut Db, &Ctx, &[i64], &mut Vals) -> OResult<()>;
/// Runs after records were written.
pub type AfterWriteFn = fn(&mut Db, &Ctx, &[i64], &Vals) -> OResult<()>;
/// Runs before records are deleted (may refuse).
pub type UnlinkFn = fn(&mut Db, &Ctx, &[i64]) -> OResult<()>;
/// The fields a `name_search` looks in, besides the record name.
pub type NameSearchFn = fn() -> &'static [&'static str];

/// The behaviour of a model.
#[derive(Clone, Default)]
pub struct Hooks {
    /// Computed fields.
    pub compute: Option<ComputeFn>,
    /// Display name (default: the `rec_name` field).
    pub display_name: Option<NameFn>,
    /// Before create.
    pub before_create: Option<BeforeCreateFn>,
    /// After create.
    pub after_create: Option<AfterCreateFn>,
    /// Before write.
    pub before_write: Option<BeforeWriteFn>,
    /// After write.
    pub after_write: Option<AfterWriteFn>,
    /// Before unlink.
    pub before_unlink: Option<UnlinkFn>,
    /// Extra fields searched by `name_search` (OR-ed with the record name).
    pub name_search_fields: Option<NameSearchFn>,
    /// Business methods.
    pub methods: Vec<MethodDef>,
}

/// A model: fields, default order, hooks.
pub struct ModelDef {
    /// Technical name (`res.partner`).
    pub name: String,
    /// `_description` (`Contact`).
    pub description: String,
    /// Fields in declaration order (magic fields first).
    pub fields: Vec<FieldDef>,
    by_name: HashMap<String, usize>,
    /// Number of stored columns.
    pub ncols: usize,
    /// `_order`.
    pub order: String,
    /// `_rec_name`.
    pub rec_name: Option<String>,
    /// `_parent_name` (for `child_of`).
    pub parent_field: Option<String>,
    /// `_inherits`: parent model and link field.
    pub inherits: Option<(String, String)>,
    /// Behaviour.
    pub hooks: Hooks,
}

impl std::fmt::Debug for ModelDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelDef").field("name", &self.name).field("fields", &self.fields.len()).finish()
    }
}

impl ModelDef {
    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.by_name.get(name).map(|&i| &self.fields[i])
    }

    /// The position of a field in [`ModelDef::fields`].
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// True when the model has an `active` field.
    pub fn has_active(&self) -> bool {
        self.by_name.contains_key("active")
    }

    /// A business method by name.
    pub fn method(&self, name: &str) -> Option<&MethodDef> {
        self.hooks.methods.iter().find(|m| m.name == name)
    }
}

/// Builds a [`ModelDef`].
pub struct ModelBuilder {
    def: ModelDef,
}

impl ModelBuilder {
    /// Starts a model; `id`, `display_name` and the log-access fields are added by [`build`](Self::build).
    pub fn new(name: &str, description: &str) -> Self {
        ModelBuilder {
            def: ModelDef {
                name: name.to_owned(),
                description: description.to_owned(),
                fields: Vec::new(),
                by_name: HashMap::new(),
                ncols: 0,
                order: "id".to_owned(),
                rec_name: None,
                parent_field: None,
                inherits: None,
                hooks: Hooks::default(),
            },
        }
    }

    /// Sets `_order`.
    pub fn order(&mut self, order: &str) -> &mut Self {
        self.def.order = order.to_owned();
        self
    }

    /// Sets `_rec_name`.
    pub fn rec_name(&mut self, f: &str) -> &mut Self {
        self.def.rec_name = Some(f.to_owned());
        self
    }

    /// Sets `_parent_name`.
    pub fn parent(&mut self, f: &str) -> &mut Self {
        self.def.parent_field = Some(f.to_owned());
        self
    }

    /// Sets `_inherits`.
    pub fn inherits(&mut self, parent: &str, link: &str) -> &mut Self {
        self.def.inherits = Some((parent.to_owned(), link.to_owned()));
        self
    }

    /// Mutable access to the hooks.
    pub fn hooks(&mut self) -> &mut Hooks {
        &mut self.def.hooks
    }

    /// Adds a business method on records (first argument: ids).
    pub fn method(&mut self, name: &'static str, f: MethodFn) -> &mut Self {
        self.def.hooks.methods.push(MethodDef { name, on_records: true, f });
        self
    }

    /// Adds a business method on the model (no ids).
    pub fn model_method(&mut self, name: &'static str, f: MethodFn) -> &mut Self {
        self.def.hooks.methods.push(MethodDef { name, on_records: false, f });
        self
    }

    /// Adds (or replaces) a field.
    pub fn field(&mut self, name: &str, label: &str, ftype: FType) -> &mut FieldDef {
        let f = FieldDef::new(name, label, ftype);
        if let Some(&i) = self.def.by_name.get(name) {
            self.def.fields[i] = f;
            return &mut self.def.fields[i];
        }
        self.def.by_name.insert(name.to_owned(), self.def.fields.len());
        self.def.fields.push(f);
        self.def.fields.last_mut().expect("just pushed")
    }

    /// Mutable access to a field already declared.
    pub fn field_mut(&mut self, name: &str) -> Option<&mut FieldDef> {
        let i = *self.def.by_name.get(name)?;
        Some(&mut self.def.fields[i])
    }

    /// `fields.Char`.
    pub fn char(&mut self, name: &str, label: &str) -> &mut FieldDef {
        self.field(name, label, FType::Char)
    }

    /// `fields.Text`.
    pub fn text(&mut self, name: &str, label: &str) -> &mut FieldDef {
        self.field(name, label, FType::Text)
    }

    /// `fields.Html`.
    pub fn html(&mut self, name: &str, label: &str) -> &mut FieldDef {
        self.field(name, label, FType::Html)
    }

    /// `fields.Boolean`.
    pub fn boolean(&mut self, name: &str, label: &str) -> &mut FieldDef {
        self.field(name, label, FType::Boolean)
    }

    /// `fields.Integer`.
    pub fn integer(&mut self, name: &str, label: &str) -> &mut FieldDef {
        self.field(name, label, FType::Integer)
    }

    /// `fields.Float`.
    pub fn float(&mut self, name: &str, label: &str) -> &mut FieldDef {
        self.field(name, label, FType::Float)
    }

    /// `fields.Monetary`.
    pub fn monetary(&mut self, name: &str, label: &str) -> &mut FieldDef {
        self.field(name, label, FType::Monetary)
    }

    /// `fields.Date`.
    pub fn date(&mut self, name: &str, label: &str) -> &mut FieldDef {
        self.field(name, label, FType::Date)
    }

    /// `fields.Datetime`.
    pub fn datetime(&mut self, name: &str, label: &str) -> &mut FieldDef {
        self.field(name, label, FType::Datetime)
    }

    /// `fields.Binary`.
    pub fn binary(&mut self, name: &str, label: &str) -> &mut FieldDef {
        self.field(name, label, FType::Binary)
    }

    /// `fields.Selection` with `(value, label)` pairs.
    pub fn selection(&mut self, name: &str, label: &str, values: &[(&str, &str)]) -> &mut FieldDef {
        let f = self.field(name, label, FType::Selection);
        f.selection = values.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        f
    }

    /// `fields.Many2one`.
    pub fn m2o(&mut self, name: &str, label: &str, relation: &str) -> &mut FieldDef {
        let f = self.field(name, label, FType::Many2one);
        f.relation = Some(relation.to_owned());
        f
    }

    /// `fields.One2many`.
    pub fn o2m(&mut self, name: &str, label: &str, relation: &str, inverse: &str) -> &mut FieldDef {
        let f = self.field(name, label, FType::One2many);
        f.relation = Some(relation.to_owned());
        f.inverse = Some(inverse.to_owned());
        f.storage = Storage::One2many;
        f
    }

    /// `fields.Many2many`.
    pub fn m2m(&mut self, name: &str, label: &str, relation: &str) -> &mut FieldDef {
        let f = self.field(name, label, FType::Many2many);
        f.relation = Some(relation.to_owned());
        f
    }

    /// Finishes the model: adds the magic fields and numbers the columns.
    pub fn build(mut self) -> ModelDef {
        let mut fields = vec![FieldDef::new("id", "ID", FType::Integer)];
        fields[0].readonly = true;
        fields.append(&mut self.def.fields);
        let mut display = FieldDef::new("display_name", "Display Name", FType::Char);
        display.storage = Storage::Computed;
        display.readonly = true;
        let mut cu = FieldDef::new("create_uid", "Created by", FType::Many2one);
        cu.relation = Some("res.users".into());
        cu.readonly = true;
        let mut cd = FieldDef::new("create_date", "Created on", FType::Datetime);
        cd.readonly = true;
        let mut wu = FieldDef::new("write_uid", "Last Updated by", FType::Many2one);
        wu.relation = Some("res.users".into());
        wu.readonly = true;
        let mut wd = FieldDef::new("write_date", "Last Updated on", FType::Datetime);
        wd.readonly = true;
        for f in [display, cu, cd, wu, wd] {
            if !fields.iter().any(|x| x.name == f.name) {
                fields.push(f);
            }
        }
        let mut col = 0;
        for f in fields.iter_mut() {
            if f.name == "id" {
                f.storage = Storage::Computed;
                continue;
            }
            if matches!(f.storage, Storage::Column(_)) {
                f.storage = Storage::Column(col);
                col += 1;
            }
        }
        self.def.by_name = fields.iter().enumerate().map(|(i, f)| (f.name.clone(), i)).collect();
        self.def.fields = fields;
        self.def.ncols = col;
        if self.def.parent_field.is_none() && self.def.by_name.contains_key("parent_id") {
            self.def.parent_field = Some("parent_id".into());
        }
        if self.def.rec_name.is_none() && self.def.by_name.contains_key("name") {
            self.def.rec_name = Some("name".into());
        }
        self.def
    }
}

/// Every model of the emulated database.
#[derive(Debug, Default)]
pub struct Registry {
    models: HashMap<String, Arc<ModelDef>>,
}

impl Registry {
    /// Builds the registry; `_inherits` children get the parent's fields as delegated fields.
    pub fn new(defs: Vec<ModelDef>) -> Self {
        let by_name: HashMap<String, ModelDef> = defs.into_iter().map(|d| (d.name.clone(), d)).collect();
        let mut out = HashMap::new();
        let parents: HashMap<String, Vec<FieldDef>> = by_name
            .values()
            .filter_map(|d| d.inherits.as_ref().map(|(p, _)| p.clone()))
            .filter_map(|p| by_name.get(&p).map(|pd| (p, pd.fields.clone())))
            .collect();
        for (name, mut def) in by_name {
            if let Some((parent, _)) = def.inherits.clone()
                && let Some(pfields) = parents.get(&parent)
            {
                for pf in pfields {
                    if def.by_name.contains_key(&pf.name) {
                        continue;
                    }
                    let mut f = pf.clone();
                    f.storage = Storage::Delegated;
                    def.by_name.insert(f.name.clone(), def.fields.len());
                    def.fields.push(f);
                }
            }
            out.insert(name, Arc::new(def));
        }
        Registry { models: out }
    }

    /// A model by name.
    pub fn get(&self, name: &str) -> Option<&Arc<ModelDef>> {
        self.models.get(name)
    }

    /// Every model name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    /// Every model.
    pub fn models(&self) -> impl Iterator<Item = &Arc<ModelDef>> {
        self.models.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_labels_follow_odoo() {
        assert_eq!(default_label("root_category_id"), "Root Category");
        assert_eq!(default_label("backorder_product_ids"), "Backorder Product");
        assert_eq!(default_label("magento_store_code"), "Magento Store Code");
    }

    #[test]
    fn build_numbers_columns_and_adds_magic_fields() {
        let mut b = ModelBuilder::new("x.y", "X");
        b.char("name", "Name").required();
        b.o2m("line_ids", "Lines", "x.line", "x_id");
        b.float("amount", "Amount").computed();
        let d = b.build();
        assert_eq!(d.field("name").unwrap().column(), Some(0));
        assert!(d.field("write_date").unwrap().column().is_some());
        assert_eq!(d.field("line_ids").unwrap().storage, Storage::One2many);
        assert_eq!(d.rec_name.as_deref(), Some("name"));
        assert_eq!(d.fields[0].name, "id");
    }
}
