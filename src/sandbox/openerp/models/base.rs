//! `res.*` models (companies, users, currencies, countries, states, partners, languages),
//! `uom.uom` and `ir.module.module`.
//!
//! Partners behave like Odoo 17's: the display name of a child is `"Parent, Child"`, the
//! commercial partner is the top company, a child of type `contact` takes its parent's address
//! on create and follows it when the parent's address changes (`_fields_sync`), and
//! `address_get` finds invoice/delivery children the way sales orders need.

use crate::sandbox::openerp::error::OResult;
use crate::sandbox::openerp::orm::model::{FieldDef, ModelBuilder, ModelDef};
use crate::sandbox::openerp::orm::val::{Val, Vals};
use crate::sandbox::openerp::orm::{Ctx, Db, LANGS};

/// Address fields synced from a parent to its `contact` children.
pub const ADDRESS_FIELDS: &[&str] = &["street", "street2", "zip", "city", "state_id", "country_id"];

/// Partner types and their labels (Odoo 17: `private` is gone).
pub const PARTNER_TYPES: &[(&str, &str)] = &[
    ("contact", "Contact"),
    ("invoice", "Invoice Address"),
    ("delivery", "Delivery Address"),
    ("other", "Other Address"),
];

/// Language selection of the installed languages.
pub const LANG_SELECTION: &[(&str, &str)] = &[("en_US", "English (US)"), ("fr_FR", "French / Français")];

fn default_lang(_: &Db, ctx: &Ctx) -> Val {
    Val::str(if LANGS.contains(&ctx.lang.as_str()) { ctx.lang.as_str() } else { "en_US" })
}

fn default_company(_: &Db, _: &Ctx) -> Val {
    Val::Id(1)
}

/// The model definitions of this module.
pub fn models() -> Vec<ModelDef> {
    vec![lang(), currency(), country(), state(), company(), users(), partner(), uom_category(), uom(), module()]
}

fn lang() -> ModelDef {
    let mut b = ModelBuilder::new("res.lang", "Languages");
    b.char("name", "Name").required();
    b.char("code", "Locale Code").required().index();
    b.char("iso_code", "ISO code");
    b.boolean("active", "Active");
    b.selection("direction", "Direction", &[("ltr", "Left-to-Right"), ("rtl", "Right-to-Left")])
        .default(Val::str("ltr"));
    b.order("active desc,name");
    b.build()
}

fn currency() -> ModelDef {
    let mut b = ModelBuilder::new("res.currency", "Currency");
    b.char("name", "Currency").required().index();
    b.char("full_name", "Name");
    b.char("symbol", "Symbol").required();
    b.float("rate", "Current Rate").default(Val::Num(1.into()));
    b.float("rounding", "Rounding Factor").default(Val::Num(rust_decimal::Decimal::new(1, 2)));
    b.integer("decimal_places", "Decimal Places").default(Val::Int(2));
    b.boolean("active", "Active").default(Val::Bool(true));
    b.selection("position", "Symbol Position", &[("after", "After Amount"), ("before", "Before Amount")])
        .default(Val::str("after"));
    b.char("currency_unit_label", "Currency Unit");
    b.char("currency_subunit_label", "Currency Subunit");
    b.order("active desc, name");
    b.build()
}

fn country() -> ModelDef {
    let mut b = ModelBuilder::new("res.country", "Country");
    b.char("name", "Country Name").required().translate();
    b.char("code", "Country Code").index();
    b.integer("phone_code", "Country Calling Code");
    b.m2o("currency_id", "Currency", "res.currency");
    b.o2m("state_ids", "States", "res.country.state", "country_id");
    b.order("name");
    b.build()
}

fn state() -> ModelDef {
    let mut b = ModelBuilder::new("res.country.state", "Country state");
    b.m2o("country_id", "Country", "res.country").required();
    b.char("name", "State Name").required();
    b.char("code", "State Code").required().index();
    b.order("code");
    b.hooks().display_name = Some(|db, ctx, id| {
        let name = db.get_str(ctx, "res.country.state", id, "name").unwrap_or_default();
        let code = db
            .get_id(ctx, "res.country.state", id, "country_id")
            .and_then(|c| db.get_str(ctx, "res.country", c, "code"))
            .unwrap_or_default();
        format!("{name} ({code})")
    });
    b.build()
}

fn company() -> ModelDef {
    let mut b = ModelBuilder::new("res.company", "Companies");
    b.char("name", "Company Name").required();
    b.m2o("partner_id", "Partner", "res.partner").required();
    b.m2o("currency_id", "Currency", "res.currency").required();
    b.m2o("country_id", "Country", "res.country");
    b.char("email", "Email");
    b.char("phone", "Phone");
    b.integer("sequence", "Sequence").default(Val::Int(10));
    b.m2o("parent_id", "Parent Company", "res.company");
    b.selection(
        "tax_calculation_rounding_method",
        "Tax Calculation Rounding Method",
        &[("round_per_line", "Round per Line"), ("round_globally", "Round Globally")],
    )
    .default(Val::str("round_per_line"));
    b.boolean("active", "Active").default(Val::Bool(true));
    b.order("sequence, name");
    b.build()
}

fn users() -> ModelDef {
    let mut b = ModelBuilder::new("res.users", "User");
    b.inherits("res.partner", "partner_id");
    b.m2o("partner_id", "Related Partner", "res.partner").required().cascade();
    b.char("login", "Login").required().index();
    b.m2o("company_id", "Company", "res.company").required().default_fn(default_company);
    b.m2m("company_ids", "Companies", "res.company");
    b.boolean("active", "Active").default(Val::Bool(true));
    b.boolean("share", "Share User");
    b.html("signature", "Email Signature");
    b.order("name, login");
    b.rec_name("name");
    b.build()
}

fn partner() -> ModelDef {
    let mut b = ModelBuilder::new("res.partner", "Contact");
    b.char("name", "Name").index();
    b.char("complete_name", "Complete Name").computed();
    b.boolean("is_company", "Is a Company");
    b.selection("company_type", "Company Type", &[("person", "Individual"), ("company", "Company")]).computed();
    b.selection("type", "Address Type", PARTNER_TYPES).default(Val::str("contact"));
    b.m2o("parent_id", "Related Company", "res.partner").index();
    b.o2m("child_ids", "Contact", "res.partner", "parent_id");
    b.m2o("commercial_partner_id", "Commercial Entity", "res.partner").computed();
    b.char("commercial_company_name", "Company Name Entity").computed();
    b.char("company_name", "Company Name");
    b.char("street", "Street");
    b.char("street2", "Street2");
    b.char("zip", "Zip");
    b.char("city", "City");
    b.m2o("state_id", "State", "res.country.state").restrict();
    b.m2o("country_id", "Country", "res.country").restrict();
    b.char("email", "Email").index();
    b.char("phone", "Phone");
    b.char("mobile", "Mobile");
    b.char("vat", "Tax ID");
    b.char("ref", "Reference").index();
    b.char("website", "Website Link");
    b.char("function", "Job Position");
    b.selection("lang", "Language", LANG_SELECTION).default_fn(default_lang);
    b.char("tz", "Timezone");
    b.html("comment", "Notes");
    b.integer("customer_rank", "Customer Rank");
    b.integer("supplier_rank", "Supplier Rank");
    b.boolean("active", "Active").default(Val::Bool(true));
    b.m2o("company_id", "Company", "res.company");
    b.m2o("user_id", "Salesperson", "res.users");
    b.integer("color", "Color Index");
    b.m2o("property_product_pricelist", "Pricelist", "product.pricelist");
    b.m2o("property_payment_term_id", "Customer Payment Terms", "account.payment.term");
    b.text("contact_address", "Complete Address").computed();
    b.order("complete_name ASC, id DESC");
    b.hooks().display_name = Some(partner_display_name);
    b.hooks().compute = Some(partner_compute);
    b.hooks().before_create = Some(partner_before_create);
    b.hooks().after_write = Some(partner_after_write);
    b.hooks().name_search_fields = Some(|| &["complete_name", "email", "ref", "vat"]);
    b.build()
}

fn uom_category() -> ModelDef {
    let mut b = ModelBuilder::new("uom.category", "Product UoM Categories");
    b.char("name", "Unit of Measure Category").required().translate();
    b.build()
}

fn uom() -> ModelDef {
    let mut b = ModelBuilder::new("uom.uom", "Product Unit of Measure");
    b.char("name", "Unit of Measure").required().translate();
    b.m2o("category_id", "Category", "uom.category").required();
    b.float("factor", "Ratio").default(Val::Num(1.into()));
    b.float("rounding", "Rounding Precision").default(Val::Num(rust_decimal::Decimal::new(1, 2)));
    b.selection(
        "uom_type",
        "Type",
        &[
            ("bigger", "Bigger than the reference Unit of Measure"),
            ("reference", "Reference Unit of Measure for this category"),
            ("smaller", "Smaller than the reference Unit of Measure"),
        ],
    )
    .default(Val::str("reference"));
    b.boolean("active", "Active").default(Val::Bool(true));
    b.order("factor DESC, id");
    b.build()
}

fn module() -> ModelDef {
    let mut b = ModelBuilder::new("ir.module.module", "Module");
    b.char("name", "Technical Name").required().index();
    b.char("shortdesc", "Module Name");
    b.char("latest_version", "Installed Version");
    b.selection(
        "state",
        "Status",
        &[
            ("uninstallable", "Uninstallable"),
            ("uninstalled", "Not Installed"),
            ("installed", "Installed"),
            ("to upgrade", "To be upgraded"),
            ("to remove", "To be removed"),
            ("to install", "To be installed"),
        ],
    )
    .default(Val::str("uninstalled"));
    b.order("application desc,sequence,name");
    b.boolean("application", "Application");
    b.integer("sequence", "Sequence").default(Val::Int(100));
    b.build()
}

/// `commercial_partner_id`: the partner itself when it is a company or has no parent, else the
/// parent's commercial partner.
pub fn commercial_partner(db: &Db, ctx: &Ctx, id: i64) -> i64 {
    let mut cur = id;
    for _ in 0..32 {
        if db.get_bool(ctx, "res.partner", cur, "is_company") {
            return cur;
        }
        match db.get_id(ctx, "res.partner", cur, "parent_id") {
            Some(p) => cur = p,
            None => return cur,
        }
    }
    cur
}

fn commercial_company_name(db: &Db, ctx: &Ctx, id: i64) -> Option<String> {
    let cp = commercial_partner(db, ctx, id);
    if db.get_bool(ctx, "res.partner", cp, "is_company") {
        db.get_str(ctx, "res.partner", cp, "name")
    } else {
        db.get_str(ctx, "res.partner", id, "company_name")
    }
}

/// Odoo 17 `res.partner._get_complete_name`.
pub fn partner_display_name(db: &Db, ctx: &Ctx, id: i64) -> String {
    let m = "res.partner";
    let mut name = db.get_str(ctx, m, id, "name").unwrap_or_default();
    let parent = db.get_id(ctx, m, id, "parent_id");
    let company_name = db.get_str(ctx, m, id, "company_name");
    if company_name.is_some() || parent.is_some() {
        let ptype = db.get_str(ctx, m, id, "type").unwrap_or_default();
        if name.is_empty()
            && let Some((_, label)) = PARTNER_TYPES.iter().find(|(k, _)| *k == ptype && *k != "contact")
        {
            name = (*label).to_owned();
        }
        if !db.get_bool(ctx, m, id, "is_company") {
            let cname = commercial_company_name(db, ctx, id)
                .or_else(|| parent.and_then(|p| db.get_str(ctx, m, p, "name")))
                .unwrap_or_default();
            name = format!("{cname}, {name}");
        }
    }
    name.trim().to_owned()
}

fn partner_compute(db: &Db, ctx: &Ctx, id: i64, f: &FieldDef) -> OResult<Val> {
    let m = "res.partner";
    Ok(match f.name.as_str() {
        "complete_name" => Val::Str(partner_display_name(db, ctx, id)),
        "commercial_partner_id" => Val::Id(commercial_partner(db, ctx, id)),
        "commercial_company_name" => Val::opt_str(commercial_company_name(db, ctx, id).as_deref()),
        "company_type" => Val::str(if db.get_bool(ctx, m, id, "is_company") { "company" } else { "person" }),
        "contact_address" => {
            let mut parts = Vec::new();
            for f in ["street", "street2"] {
                if let Some(s) = db.get_str(ctx, m, id, f) {
                    parts.push(s);
                }
            }
            let city_line = [
                db.get_str(ctx, m, id, "city"),
                db.get_id(ctx, m, id, "state_id").and_then(|s| db.get_str(ctx, "res.country.state", s, "code")),
                db.get_str(ctx, m, id, "zip"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            if !city_line.is_empty() {
                parts.push(city_line);
            }
            if let Some(c) = db.get_id(ctx, m, id, "country_id").and_then(|c| db.get_str(ctx, "res.country", c, "name"))
            {
                parts.push(c);
            }
            Val::Str(parts.join("\n"))
        }
        _ => f.empty_read(),
    })
}

fn has_address(db: &Db, ctx: &Ctx, id: i64) -> bool {
    ADDRESS_FIELDS.iter().any(|f| db.get(ctx, "res.partner", id, f).is_ok_and(|v| v.truthy()))
}

fn address_vals(db: &Db, ctx: &Ctx, id: i64) -> Vals {
    let mut v = Vals::new();
    for f in ADDRESS_FIELDS {
        v.set(f, db.get(ctx, "res.partner", id, f).unwrap_or(Val::False));
    }
    v
}

fn partner_before_create(db: &mut Db, ctx: &Ctx, vals: &mut Vals) -> OResult<()> {
    let parent = vals.get("parent_id").and_then(Val::id);
    let is_contact = vals.get("type").is_none_or(|t| t.text("en_US") == Some("contact"));
    if let Some(p) = parent {
        if is_contact && db.exists("res.partner", p) && has_address(db, ctx, p) {
            for (k, v) in address_vals(db, ctx, p).0 {
                vals.set_in(&k, v);
            }
        }
        let cp = commercial_partner(db, ctx, p);
        if !vals.has("vat")
            && let Ok(vat) = db.get(ctx, "res.partner", cp, "vat")
        {
            vals.set("vat", vat);
        }
    }
    Ok(())
}

fn partner_after_write(db: &mut Db, ctx: &Ctx, ids: &[i64], vals: &Vals) -> OResult<()> {
    let address_changed = ADDRESS_FIELDS.iter().any(|f| vals.has(f));
    for &id in ids {
        if (vals.has("parent_id") || vals.has("type"))
            && let Some(p) = db.get_id(ctx, "res.partner", id, "parent_id")
            && db.get_str(ctx, "res.partner", id, "type").as_deref() == Some("contact")
            && has_address(db, ctx, p)
        {
            let v = address_vals(db, ctx, p);
            db.write(ctx, "res.partner", &[id], v)?;
        }
        if address_changed {
            let children: Vec<i64> = db
                .referencing("res.partner", "parent_id", id)
                .into_iter()
                .filter(|c| db.get_str(ctx, "res.partner", *c, "type").as_deref() == Some("contact"))
                .collect();
            if !children.is_empty() {
                let v = address_vals(db, ctx, id);
                db.write(ctx, "res.partner", &children, v)?;
            }
        }
        if vals.has("vat") && commercial_partner(db, ctx, id) == id {
            let vat = db.get(ctx, "res.partner", id, "vat")?;
            let children = db.referencing("res.partner", "parent_id", id);
            if !children.is_empty() {
                db.write(ctx, "res.partner", &children, Vals::new().with("vat", vat))?;
            }
        }
    }
    Ok(())
}

/// Odoo 17 `res.partner.address_get(adr_pref)`: for each wanted type, the first matching
/// partner among the descendants (then the ancestors up to the commercial entity), falling
/// back to a `contact` or the partner itself.
pub fn address_get(db: &Db, ctx: &Ctx, partner: i64, wanted: &[&str]) -> Vec<(String, i64)> {
    let mut prefs: Vec<&str> = wanted.to_vec();
    if !prefs.contains(&"contact") {
        prefs.push("contact");
    }
    let mut result: Vec<(String, i64)> = Vec::new();
    let mut visited = std::collections::HashSet::new();
    let mut current = Some(partner);
    'outer: while let Some(cp) = current {
        let mut to_scan = vec![cp];
        while !to_scan.is_empty() {
            let record = to_scan.remove(0);
            visited.insert(record);
            let rtype = db.get_str(ctx, "res.partner", record, "type").unwrap_or_default();
            if prefs.contains(&rtype.as_str()) && !result.iter().any(|(t, _)| *t == rtype) {
                result.push((rtype, record));
            }
            if result.len() == prefs.len() {
                break 'outer;
            }
            let mut kids: Vec<i64> = db
                .get_ids(ctx, "res.partner", record, "child_ids")
                .into_iter()
                .filter(|c| !visited.contains(c) && !db.get_bool(ctx, "res.partner", *c, "is_company"))
                .collect();
            kids.append(&mut to_scan);
            to_scan = kids;
        }
        if db.get_bool(ctx, "res.partner", cp, "is_company") {
            break;
        }
        current = db.get_id(ctx, "res.partner", cp, "parent_id");
    }
    let default = result.iter().find(|(t, _)| t == "contact").map_or(partner, |(_, i)| *i);
    prefs.iter().map(|t| (t.to_string(), result.iter().find(|(k, _)| k == t).map_or(default, |(_, i)| *i))).collect()
}
