//! Product categories, templates and variants, attribute values, pricelists.
//!
//! `product.product` `_inherits` `product.template` like Odoo: template fields read and write
//! through the variant, creating a variant creates its template, creating a template creates its
//! only variant, and the template's `default_code`, `barcode`, `weight` and `standard_price`
//! come from that variant. `display_name` is `[code] name (attribute values)`, `lst_price`
//! includes `price_extra`, `image_1920` of a variant falls back to the template's image, and
//! every write through the variant moves its `write_date`.

use std::cmp::Ordering;

use dxr::Value;
use rust_decimal::Decimal;

use super::addon::Contract;
use super::{company_currency, round_currency, stock};
use crate::sandbox::openerp::error::OResult;
use crate::sandbox::openerp::orm::domain::Domain;
use crate::sandbox::openerp::orm::model::{FieldDef, ModelBuilder, ModelDef};
use crate::sandbox::openerp::orm::val::{In, Val, Vals};
use crate::sandbox::openerp::orm::{Ctx, Db};

/// Product types (Odoo ≤ 17 `detailed_type`).
pub const PRODUCT_TYPES: &[(&str, &str)] =
    &[("consu", "Consumable"), ("service", "Service"), ("product", "Storable Product")];

/// Template fields whose value lives on the single variant.
const VARIANT_FIELDS: &[&str] = &["default_code", "barcode", "weight", "volume", "standard_price"];

fn default_categ(_: &Db, _: &Ctx) -> Val {
    Val::Id(1)
}

fn default_uom(_: &Db, _: &Ctx) -> Val {
    Val::Id(1)
}

fn shared_between_companies(_: &Db, _: &Ctx) -> Val {
    Val::False
}

/// The model definitions of this module.
pub fn models(contract: &Contract) -> Result<Vec<ModelDef>, String> {
    Ok(vec![
        category(contract)?,
        template(contract)?,
        variant(contract)?,
        attribute_value(),
        pricelist(),
        pricelist_item(),
    ])
}

fn category(contract: &Contract) -> Result<ModelDef, String> {
    let mut b = ModelBuilder::new("product.category", "Product Category");
    b.char("name", "Name").required().translate().index();
    b.char("complete_name", "Complete Name").computed();
    b.m2o("parent_id", "Parent Category", "product.category").cascade();
    b.o2m("child_id", "Child Categories", "product.category", "parent_id");
    b.integer("product_count", "# Products").computed();
    b.char("parent_path", "Parent Path").computed();
    b.parent("parent_id");
    b.rec_name("complete_name");
    b.order("complete_name");
    contract.extend(&mut b, "product.category")?;
    b.hooks().display_name = Some(category_name);
    b.hooks().compute = Some(|db, ctx, id, f| {
        Ok(match f.name.as_str() {
            "complete_name" => Val::Str(category_name(db, ctx, id)),
            "parent_path" => Val::Str(parent_path(db, ctx, id)),
            "product_count" => {
                let cats: Vec<Value> = db
                    .descendants("product.category", "parent_id", &[id])
                    .into_iter()
                    .map(|c| Value::Integer(c as i32))
                    .collect();
                let n =
                    db.search_all(ctx, "product.template", &Domain::leaf("categ_id", "in", Value::Array(cats)))?.len();
                Val::Int(n as i64)
            }
            _ => f.empty_read(),
        })
    });
    Ok(b.build())
}

/// `parent_path` of a category (`_parent_store`): ancestor ids from the top, `1/2/8/`.
pub fn parent_path(db: &Db, ctx: &Ctx, id: i64) -> String {
    let mut ids = Vec::new();
    let mut cur = Some(id);
    while let Some(c) = cur {
        if ids.contains(&c) || ids.len() > 64 {
            break;
        }
        ids.push(c);
        cur = db.get_id(ctx, "product.category", c, "parent_id");
    }
    ids.iter().rev().map(|i| format!("{i}/")).collect()
}

/// `complete_name` of a category: `All / Saleable / Office Furniture` (names in the context
/// language).
pub fn category_name(db: &Db, ctx: &Ctx, id: i64) -> String {
    let mut parts = Vec::new();
    let mut cur = Some(id);
    let mut guard = 0;
    while let Some(c) = cur {
        parts.push(db.get_str(ctx, "product.category", c, "name").unwrap_or_default());
        cur = db.get_id(ctx, "product.category", c, "parent_id");
        guard += 1;
        if guard > 64 {
            break;
        }
    }
    parts.reverse();
    parts.join(" / ")
}

fn template_fields(b: &mut ModelBuilder) {
    b.char("name", "Name").required().translate();
    b.integer("sequence", "Sequence").default(Val::Int(1));
    b.html("description", "Description").translate();
    b.text("description_sale", "Sales Description").translate();
    b.text("description_purchase", "Purchase Description").translate();
    b.selection("detailed_type", "Product Type", PRODUCT_TYPES).required().default(Val::str("consu"));
    b.selection("type", "Type", PRODUCT_TYPES).required().default(Val::str("consu"));
    b.selection(
        "invoice_policy",
        "Invoicing Policy",
        &[("order", "Ordered quantities"), ("delivery", "Delivered quantities")],
    )
    .default(Val::str("order"));
    b.m2o("categ_id", "Product Category", "product.category").required().default_fn(default_categ);
    b.float("list_price", "Sales Price").default(Val::Num(Decimal::ONE));
    b.boolean("sale_ok", "Can be Sold").default(Val::Bool(true));
    b.boolean("purchase_ok", "Can be Purchased").default(Val::Bool(true));
    b.m2o("uom_id", "Unit of Measure", "uom.uom").required().default_fn(default_uom);
    b.m2o("uom_po_id", "Purchase UoM", "uom.uom").required().default_fn(default_uom);
    b.m2o("company_id", "Company", "res.company").default_fn(shared_between_companies);
    b.m2m("taxes_id", "Customer Taxes", "account.tax");
    b.m2m("supplier_taxes_id", "Vendor Taxes", "account.tax");
    b.selection("priority", "Favorite", &[("0", "Normal"), ("1", "Favorite")]).default(Val::str("0"));
    b.float("sale_delay", "Customer Lead Time");
    b.m2o("currency_id", "Currency", "res.currency").computed();
}

fn template(contract: &Contract) -> Result<ModelDef, String> {
    let mut b = ModelBuilder::new("product.template", "Product");
    template_fields(&mut b);
    b.boolean("active", "Active").default(Val::Bool(true));
    b.binary("image_1920", "Image").image();
    b.binary("image_128", "Image 128").computed();
    b.char("default_code", "Internal Reference").computed_rw();
    b.char("barcode", "Barcode").computed_rw();
    b.float("weight", "Weight").computed_rw();
    b.float("volume", "Volume").computed_rw();
    b.float("standard_price", "Cost").computed_rw();
    b.o2m("product_variant_ids", "Products", "product.product", "product_tmpl_id");
    b.m2o("product_variant_id", "Product", "product.product").computed();
    b.integer("product_variant_count", "# Product Variants").computed();
    for f in ["qty_available", "virtual_available", "incoming_qty", "outgoing_qty"] {
        b.float(f, stock::qty_label(f)).computed();
    }
    b.order("priority desc, name, id");
    contract.extend(&mut b, "product.template")?;
    b.hooks().display_name = Some(|db, ctx, id| {
        let name = db.get_str(ctx, "product.template", id, "name").unwrap_or_default();
        match template_single_variant(db, ctx, id).and_then(|v| db.get_str(ctx, "product.product", v, "default_code")) {
            Some(code) => format!("[{code}] {name}"),
            None => name,
        }
    });
    b.hooks().compute = Some(template_compute);
    b.hooks().before_write = Some(template_before_write);
    b.hooks().after_create = Some(template_after_create);
    b.hooks().after_write = Some(template_after_write);
    b.hooks().name_search_fields = Some(|| &["name", "default_code"]);
    Ok(b.build())
}

fn variant(contract: &Contract) -> Result<ModelDef, String> {
    let mut b = ModelBuilder::new("product.product", "Product Variant");
    b.inherits("product.template", "product_tmpl_id");
    b.m2o("product_tmpl_id", "Product Template", "product.template").required().cascade().index();
    b.char("default_code", "Internal Reference").index();
    b.char("barcode", "Barcode").index();
    b.boolean("active", "Active").default(Val::Bool(true));
    b.m2m("product_template_attribute_value_ids", "Attribute Values", "product.template.attribute.value");
    b.float("weight", "Weight");
    b.float("volume", "Volume");
    b.float("standard_price", "Cost");
    b.binary("image_variant_1920", "Variant Image").image();
    b.binary("image_1920", "Image").image().computed_rw();
    b.binary("image_128", "Image 128").computed();
    b.float("lst_price", "Sales Price").computed_rw();
    b.float("price_extra", "Variant Price Extra").computed();
    b.char("code", "Reference").computed();
    b.char("partner_ref", "Customer Ref").computed();
    for f in ["qty_available", "virtual_available", "free_qty", "incoming_qty", "outgoing_qty"] {
        b.float(f, stock::qty_label(f)).computed();
    }
    b.datetime("write_date", "Write Date").readonly();
    b.order("priority desc, default_code, name, id");
    contract.extend(&mut b, "product.product")?;
    b.hooks().display_name = Some(variant_display_name);
    b.hooks().compute = Some(variant_compute);
    b.hooks().before_create = Some(variant_before_create);
    b.hooks().after_create = Some(variant_after_create);
    b.hooks().before_write = Some(variant_before_write);
    b.hooks().after_write = Some(variant_after_write);
    b.hooks().before_unlink = Some(variant_before_unlink);
    b.hooks().name_search_fields = Some(|| &["default_code", "name", "barcode"]);
    Ok(b.build())
}

fn attribute_value() -> ModelDef {
    let mut b = ModelBuilder::new("product.template.attribute.value", "Product Template Attribute Value");
    b.char("name", "Value").required().translate();
    b.char("attribute_name", "Attribute");
    b.float("price_extra", "Value Price Extra");
    b.m2o("product_tmpl_id", "Product Template", "product.template").cascade();
    b.hooks().display_name = Some(|db, ctx, id| {
        let a = db.get_str(ctx, "product.template.attribute.value", id, "attribute_name").unwrap_or_default();
        let n = db.get_str(ctx, "product.template.attribute.value", id, "name").unwrap_or_default();
        if a.is_empty() { n } else { format!("{a}: {n}") }
    });
    b.build()
}

fn pricelist() -> ModelDef {
    let mut b = ModelBuilder::new("product.pricelist", "Pricelist");
    b.char("name", "Pricelist Name").required().translate();
    b.boolean("active", "Active").default(Val::Bool(true));
    b.m2o("currency_id", "Currency", "res.currency").required();
    b.m2o("company_id", "Company", "res.company");
    b.integer("sequence", "Sequence").default(Val::Int(16));
    b.o2m("item_ids", "Pricelist Rules", "product.pricelist.item", "pricelist_id");
    b.order("sequence asc, id asc");
    b.hooks().display_name = Some(|db, ctx, id| {
        let n = db.get_str(ctx, "product.pricelist", id, "name").unwrap_or_default();
        let c = db
            .get_id(ctx, "product.pricelist", id, "currency_id")
            .and_then(|c| db.get_str(ctx, "res.currency", c, "name"))
            .unwrap_or_default();
        format!("{n} ({c})")
    });
    b.build()
}

fn pricelist_item() -> ModelDef {
    let mut b = ModelBuilder::new("product.pricelist.item", "Pricelist Rule");
    b.m2o("pricelist_id", "Pricelist", "product.pricelist").required().cascade();
    b.selection(
        "applied_on",
        "Apply On",
        &[
            ("3_global", "All Products"),
            ("2_product_category", "Product Category"),
            ("1_product", "Product"),
            ("0_product_variant", "Product Variant"),
        ],
    )
    .required()
    .default(Val::str("3_global"));
    b.m2o("product_tmpl_id", "Product", "product.template").cascade();
    b.m2o("product_id", "Product Variant", "product.product").cascade();
    b.m2o("categ_id", "Product Category", "product.category").cascade();
    b.float("min_quantity", "Min. Quantity");
    b.selection(
        "compute_price",
        "Computation",
        &[("fixed", "Fixed Price"), ("percentage", "Discount"), ("formula", "Formula")],
    )
    .required()
    .default(Val::str("fixed"));
    b.monetary("fixed_price", "Fixed Price");
    b.float("percent_price", "Percentage Price");
    b.selection("base", "Based on", &[("list_price", "Sales Price"), ("standard_price", "Cost")])
        .required()
        .default(Val::str("list_price"));
    b.m2o("base_pricelist_id", "Other Pricelist", "product.pricelist");
    b.float("price_discount", "Price Discount");
    b.float("price_surcharge", "Price Surcharge");
    b.float("price_round", "Price Rounding");
    b.float("price_min_margin", "Min. Price Margin");
    b.float("price_max_margin", "Max. Price Margin");
    b.datetime("date_start", "Start Date");
    b.datetime("date_end", "End Date");
    b.order("applied_on, min_quantity desc, categ_id desc, id desc");
    b.build()
}

/// The only variant of a template (`None` when it has zero or several).
pub fn template_single_variant(db: &Db, ctx: &Ctx, tmpl: i64) -> Option<i64> {
    let v = db.get_ids(&ctx.with_active_test(false), "product.template", tmpl, "product_variant_ids");
    match v.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

fn template_compute(db: &Db, ctx: &Ctx, id: i64, f: &FieldDef) -> OResult<Val> {
    let t = "product.template";
    Ok(match f.name.as_str() {
        "image_128" => db.get(ctx, t, id, "image_1920")?,
        "currency_id" => Val::opt_id(company_currency(db)),
        "product_variant_id" => Val::opt_id(db.get_ids(ctx, t, id, "product_variant_ids").first().copied()),
        "product_variant_count" => Val::Int(db.get_ids(ctx, t, id, "product_variant_ids").len() as i64),
        "qty_available" | "virtual_available" | "incoming_qty" | "outgoing_qty" => {
            let mut sum = Decimal::ZERO;
            for v in db.get_ids(ctx, t, id, "product_variant_ids") {
                sum += db.get_num(ctx, "product.product", v, &f.name);
            }
            Val::Num(sum)
        }
        name if VARIANT_FIELDS.contains(&name) => match template_single_variant(db, ctx, id) {
            Some(v) => db.get(ctx, "product.product", v, name)?,
            None => f.empty_read(),
        },
        _ => f.empty_read(),
    })
}

fn sync_type(vals: &mut Vals) {
    if let Some(dt) = vals.get("detailed_type").cloned() {
        vals.set("type", dt);
    } else if let Some(t) = vals.get("type").cloned() {
        vals.set("detailed_type", t);
    }
}

fn take_variant_vals(vals: &mut Vals) -> Vals {
    let mut out = Vals::new();
    for f in VARIANT_FIELDS {
        if let Some(v) = vals.take(f) {
            out.set_in(f, v);
        }
    }
    out
}

fn template_before_write(db: &mut Db, ctx: &Ctx, ids: &[i64], vals: &mut Vals) -> OResult<()> {
    sync_type(vals);
    let variant_vals = take_variant_vals(vals);
    if !variant_vals.is_empty() {
        for &t in ids {
            if let Some(v) = template_single_variant(db, ctx, t) {
                db.write(ctx, "product.product", &[v], variant_vals.clone())?;
            }
        }
    }
    Ok(())
}

fn template_after_create(db: &mut Db, ctx: &Ctx, id: i64, vals: &Vals) -> OResult<()> {
    let mut vals = vals.clone();
    sync_type(&mut vals);
    if let (Some(dt), Some(t)) = (vals.get("detailed_type").cloned(), vals.get("type").cloned()) {
        db.set_stored("product.template", id, "type", t)?;
        db.set_stored("product.template", id, "detailed_type", dt)?;
    }
    if matches!(ctx.get("create_product_product"), Some(Value::Boolean(false))) {
        return Ok(());
    }
    let mut vv = take_variant_vals(&mut vals);
    vv.set("product_tmpl_id", Val::Id(id));
    if let Some(a) = vals.get("active").cloned() {
        vv.set("active", a);
    }
    db.create(&ctx.with("create_product_product", Value::Boolean(false)), "product.product", vv)?;
    Ok(())
}

fn template_after_write(db: &mut Db, ctx: &Ctx, ids: &[i64], vals: &Vals) -> OResult<()> {
    if let Some(In::V(active)) = vals.get_in("active") {
        for &t in ids {
            let variants = db.get_ids(&ctx.with_active_test(false), "product.template", t, "product_variant_ids");
            let change: Vec<i64> = variants
                .into_iter()
                .filter(|v| db.get_bool(ctx, "product.product", *v, "active") != active.bool())
                .collect();
            if !change.is_empty() {
                db.write(
                    &ctx.with("sync_from_template", Value::Boolean(true)),
                    "product.product",
                    &change,
                    Vals::new().with("active", active.clone()),
                )?;
            }
        }
    }
    Ok(())
}

/// `[code] name (attribute values)`; names in the context language.
pub fn variant_display_name(db: &Db, ctx: &Ctx, id: i64) -> String {
    let p = "product.product";
    let name = db.get_str(ctx, p, id, "name").unwrap_or_default();
    let attrs: Vec<String> = db
        .get_ids(ctx, p, id, "product_template_attribute_value_ids")
        .into_iter()
        .filter_map(|a| db.get_str(ctx, "product.template.attribute.value", a, "name"))
        .collect();
    let name = if attrs.is_empty() { name } else { format!("{name} ({})", attrs.join(", ")) };
    match db.get_str(ctx, p, id, "default_code") {
        Some(code) if !code.is_empty() => format!("[{code}] {name}"),
        _ => name,
    }
}

fn price_extra(db: &Db, ctx: &Ctx, id: i64) -> Decimal {
    db.get_ids(ctx, "product.product", id, "product_template_attribute_value_ids")
        .into_iter()
        .map(|a| db.get_num(ctx, "product.template.attribute.value", a, "price_extra"))
        .sum()
}

fn variant_compute(db: &Db, ctx: &Ctx, id: i64, f: &FieldDef) -> OResult<Val> {
    let p = "product.product";
    Ok(match f.name.as_str() {
        "image_1920" | "image_128" => {
            let own = db.get(ctx, p, id, "image_variant_1920")?;
            if own.truthy() {
                own
            } else {
                let t = db.get_id(ctx, p, id, "product_tmpl_id");
                t.map_or(Ok(Val::False), |t| db.get(ctx, "product.template", t, "image_1920"))?
            }
        }
        "price_extra" => Val::Num(price_extra(db, ctx, id)),
        "lst_price" => Val::Num(db.get_num(ctx, p, id, "list_price") + price_extra(db, ctx, id)),
        "code" => db.get(ctx, p, id, "default_code")?,
        "partner_ref" => Val::Str(variant_display_name(db, ctx, id)),
        q if stock::QTY_FIELDS.contains(&q) => Val::Num(stock::product_quantity(db, ctx, id, q)),
        _ => f.empty_read(),
    })
}

fn variant_before_create(db: &mut Db, ctx: &Ctx, vals: &mut Vals) -> OResult<()> {
    sync_type(vals);
    if vals.get("product_tmpl_id").and_then(Val::id).is_some() {
        return Ok(());
    }
    let def = db.def("product.product")?;
    let mut tvals = Vals::new();
    for (k, v) in std::mem::take(&mut vals.0) {
        let delegated =
            def.field(&k).is_some_and(|f| f.storage == crate::sandbox::openerp::orm::model::Storage::Delegated);
        if delegated {
            tvals.0.push((k, v));
        } else {
            vals.0.push((k, v));
        }
    }
    if let Some(a) = vals.get("active").cloned() {
        tvals.set("active", a);
    }
    let t = db.create(&ctx.with("create_product_product", Value::Boolean(false)), "product.template", tvals)?;
    vals.set("product_tmpl_id", Val::Id(t));
    Ok(())
}

fn variant_after_create(db: &mut Db, ctx: &Ctx, id: i64, vals: &Vals) -> OResult<()> {
    let mut rest = Vals::new();
    for f in ["image_1920", "lst_price"] {
        if let Some(v) = vals.get_in(f) {
            rest.set_in(f, v.clone());
        }
    }
    if !rest.is_empty() {
        variant_before_write(db, ctx, &[id], &mut rest)?;
    }
    Ok(())
}

fn variant_before_write(db: &mut Db, ctx: &Ctx, ids: &[i64], vals: &mut Vals) -> OResult<()> {
    sync_type(vals);
    if let Some(In::V(img)) = vals.take("image_1920") {
        for &id in ids {
            let Some(t) = db.get_id(ctx, "product.product", id, "product_tmpl_id") else {
                continue;
            };
            let template_has = db.get(ctx, "product.template", t, "image_1920")?.truthy();
            let single = template_single_variant(db, ctx, t) == Some(id);
            if single || !template_has {
                db.write(ctx, "product.template", &[t], Vals::new().with("image_1920", img.clone()))?;
                if single {
                    db.set_stored("product.product", id, "image_variant_1920", Val::False)?;
                }
            } else {
                db.set_stored("product.product", id, "image_variant_1920", img.clone())?;
            }
        }
    }
    if let Some(In::V(price)) = vals.take("lst_price") {
        for &id in ids {
            let extra = price_extra(db, ctx, id);
            if let Some(t) = db.get_id(ctx, "product.product", id, "product_tmpl_id") {
                db.write(ctx, "product.template", &[t], Vals::new().with("list_price", Val::Num(price.num() - extra)))?;
            }
        }
    }
    Ok(())
}

fn variant_after_write(db: &mut Db, ctx: &Ctx, ids: &[i64], vals: &Vals) -> OResult<()> {
    if vals.has("active") && !ctx.flag("sync_from_template") {
        let all = ctx.with_active_test(false);
        let mut templates: Vec<i64> =
            ids.iter().filter_map(|i| db.get_id(&all, "product.product", *i, "product_tmpl_id")).collect();
        templates.dedup();
        for t in templates {
            let variants = db.get_ids(&all, "product.template", t, "product_variant_ids");
            let any_active = variants.iter().any(|v| db.get_bool(&all, "product.product", *v, "active"));
            if db.get_bool(&all, "product.template", t, "active") != any_active {
                db.set_stored("product.template", t, "active", Val::Bool(any_active))?;
            }
        }
    }
    Ok(())
}

fn variant_before_unlink(db: &mut Db, ctx: &Ctx, ids: &[i64]) -> OResult<()> {
    if ctx.flag("unlink_from_template") {
        return Ok(());
    }
    let all = ctx.with_active_test(false);
    let mut templates: Vec<i64> =
        ids.iter().filter_map(|i| db.get_id(&all, "product.product", *i, "product_tmpl_id")).collect();
    templates.sort_unstable();
    templates.dedup();
    let inner = ctx.with("unlink_from_template", Value::Boolean(true));
    for t in templates {
        let variants = db.get_ids(&all, "product.template", t, "product_variant_ids");
        if variants.iter().all(|v| ids.contains(v)) {
            db.unlink(&inner, "product.template", &[t])?;
        }
    }
    Ok(())
}

/// A price converted from the company currency to `to` (rates relative to the company).
pub fn convert_from_company(db: &Db, amount: Decimal, to: Option<i64>) -> Decimal {
    let ctx = Ctx::user(1);
    let from = company_currency(db);
    if to.is_none() || to == from {
        return amount;
    }
    let rate_to = to.map(|c| db.get_num(&ctx, "res.currency", c, "rate")).unwrap_or(Decimal::ONE);
    let rate_from =
        from.map(|c| db.get_num(&ctx, "res.currency", c, "rate")).filter(|r| !r.is_zero()).unwrap_or(Decimal::ONE);
    round_currency(db, to, amount * rate_to / rate_from)
}

/// The unit price of `product` for `qty` on `pricelist` (in the pricelist's currency), or the
/// sales price converted to `currency` without a pricelist.
pub fn product_price(
    db: &Db,
    ctx: &Ctx,
    pricelist: Option<i64>,
    product: i64,
    qty: Decimal,
    currency: Option<i64>,
) -> Decimal {
    let base = db.get_num(ctx, "product.product", product, "lst_price");
    let Some(pl) = pricelist else {
        return convert_from_company(db, base, currency);
    };
    let pl_currency = db.get_id(ctx, "product.pricelist", pl, "currency_id");
    let tmpl = db.get_id(ctx, "product.product", product, "product_tmpl_id");
    let categ = db.get_id(ctx, "product.product", product, "categ_id");
    let categ_path = categ.map(|c| db.ancestors("product.category", "parent_id", &[c])).unwrap_or_default();
    let now = db.now();
    let mut items = db.get_ids(ctx, "product.pricelist", pl, "item_ids");
    items.sort_by(|a, b| {
        let key = |i: &i64| {
            (
                db.get_str(ctx, "product.pricelist.item", *i, "applied_on").unwrap_or_default(),
                -db.get_num(ctx, "product.pricelist.item", *i, "min_quantity"),
                -*i,
            )
        };
        key(a).partial_cmp(&key(b)).unwrap_or(Ordering::Equal)
    });
    let it = "product.pricelist.item";
    for i in items {
        let applies = match db.get_str(ctx, it, i, "applied_on").as_deref() {
            Some("0_product_variant") => db.get_id(ctx, it, i, "product_id") == Some(product),
            Some("1_product") => db.get_id(ctx, it, i, "product_tmpl_id") == tmpl,
            Some("2_product_category") => db.get_id(ctx, it, i, "categ_id").is_some_and(|c| categ_path.contains(&c)),
            _ => true,
        };
        let min = db.get_num(ctx, it, i, "min_quantity");
        let started = db.get_str(ctx, it, i, "date_start").is_none_or(|d| d <= now);
        let not_ended = db.get_str(ctx, it, i, "date_end").is_none_or(|d| d >= now);
        if !applies || qty < min || !started || !not_ended {
            continue;
        }
        let base_price = if db.get_str(ctx, it, i, "base").as_deref() == Some("standard_price") {
            convert_from_company(db, db.get_num(ctx, "product.product", product, "standard_price"), pl_currency)
        } else {
            convert_from_company(db, base, pl_currency)
        };
        let price = match db.get_str(ctx, it, i, "compute_price").as_deref() {
            Some("fixed") => db.get_num(ctx, it, i, "fixed_price"),
            Some("percentage") => {
                base_price * (Decimal::ONE_HUNDRED - db.get_num(ctx, it, i, "percent_price")) / Decimal::ONE_HUNDRED
            }
            _ => {
                base_price * (Decimal::ONE_HUNDRED - db.get_num(ctx, it, i, "price_discount")) / Decimal::ONE_HUNDRED
                    + db.get_num(ctx, it, i, "price_surcharge")
            }
        };
        return round_currency(db, pl_currency, price);
    }
    convert_from_company(db, base, pl_currency)
}
