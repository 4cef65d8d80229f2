//! The data the emulated database starts with.
//!
//! * [`Profile::Demo`]: the shared demo data of [`crate::sandbox::seed`] (catalog under
//!   "All / Saleable", taxes with their Magento class mapping, stock per warehouse, partners of
//!   the customers OpenERP already knows, USD and EUR pricelists, payment terms, the shipping
//!   product and a ready `magento.backend` named `sandbox`), plus optional generated categories
//!   and products for benchmarks.
//! * [`Profile::Recording`]: the records the calls of `../shared/recordings/odoo17` refer to,
//!   with the same ids (product 5 `FURN_7777`, partner 14 Azure Interior, tax 1 `15%`, next order
//!   `S00025`, ...), so those request bodies can be replayed as they are.
//!
//! Everything is created through the ORM, so seeded records obey the same rules as records
//! created over RPC.

use std::collections::BTreeMap;

use base64::Engine;
use dxr::Value;
use rust_decimal::Decimal;

use super::error::OResult;
use super::models::Modules;
use super::orm::val::{Cmd, EN, Trans, Val, Vals};
use super::orm::{Ctx, Db};
use crate::sandbox::seed::{self, ProductKind, SeedProduct, SeedStock, TaxKey};

/// Which data set to start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// The shared demo data (the default).
    #[default]
    Demo,
    /// The records the Odoo 17 recordings refer to, with their ids.
    Recording,
}

/// Sizes of the generated benchmark data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generated {
    /// Extra categories `Bench Category <i>` under "All / Saleable".
    pub categories: usize,
    /// Extra products `BENCH-<i>` ([`seed::generated_products`]), spread over the generated
    /// categories when there are some.
    pub products: usize,
}

/// Ids of the seeded records tests and helpers need.
#[derive(Debug, Clone, Default)]
pub struct SeedIds {
    /// Warehouses in the order of the seed (index 0 = website 1).
    pub warehouses: Vec<i64>,
    /// Stock location of each warehouse.
    pub stock_locations: Vec<i64>,
    /// "All / Saleable".
    pub saleable_category: i64,
    /// Category id by seed key.
    pub categories: BTreeMap<String, i64>,
    /// Tax id by seed key (`standard`, `ny`, `none`, `vat20`, `eco`).
    pub taxes: BTreeMap<String, i64>,
    /// USD and EUR pricelists.
    pub pricelists: BTreeMap<String, i64>,
    /// The `sandbox` backend (demo profile).
    pub backend: Option<i64>,
    /// The shipping product.
    pub shipping_product: Option<i64>,
    /// The product of discount lines.
    pub discount_product: Option<i64>,
    /// The product of the rounding line.
    pub rounding_product: Option<i64>,
}

fn sys() -> Ctx {
    Ctx::user(1)
}

fn tr(en: &str, fr: &str) -> Val {
    let mut t = Trans::new([(EN, en.to_owned())]);
    if !fr.is_empty() && fr != en {
        t.insert("fr_FR", fr.to_owned());
    }
    Val::Tr(Box::new(t))
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

fn num(f: f64) -> Val {
    Val::Num(Decimal::try_from(f).unwrap_or_default())
}

/// Creates a record with a given id (ids only go up: `id` must be above every existing one).
fn create_at(db: &mut Db, model: &str, id: i64, vals: Vals) -> OResult<i64> {
    db.set_next_id(model, id);
    db.create(&sys(), model, vals)
}

/// Fills an empty database.
pub fn load(db: &mut Db, profile: Profile, generated: Generated, modules: Modules) -> OResult<SeedIds> {
    let mut ids = SeedIds::default();
    base(db, profile, modules)?;
    stock_setup(db, profile, &mut ids)?;
    match profile {
        Profile::Demo => demo(db, generated, &mut ids)?,
        Profile::Recording => recording(db, &mut ids)?,
    }
    Ok(ids)
}

fn base(db: &mut Db, profile: Profile, modules: Modules) -> OResult<()> {
    let c = sys();
    for (code, name, active) in
        [("en_US", "English (US)", true), ("fr_FR", "French / Français", true), ("de_DE", "German / Deutsch", false)]
    {
        db.create(
            &c,
            "res.lang",
            Vals::new()
                .with("code", Val::str(code))
                .with("name", Val::str(name))
                .with("iso_code", Val::str(&code[..2]))
                .with("active", Val::Bool(active)),
        )?;
    }
    db.create(
        &c,
        "res.currency",
        Vals::new()
            .with("name", Val::str("USD"))
            .with("full_name", Val::str("United States dollar"))
            .with("symbol", Val::str("$"))
            .with("position", Val::str("before"))
            .with("rate", num(1.0))
            .with("currency_unit_label", Val::str("Dollars"))
            .with("currency_subunit_label", Val::str("Cents")),
    )?;
    db.create(
        &c,
        "res.currency",
        Vals::new()
            .with("name", Val::str("EUR"))
            .with("full_name", Val::str("Euro"))
            .with("symbol", Val::str("€"))
            .with("position", Val::str("after"))
            .with("rate", Val::Num(dec("0.9")))
            .with("currency_unit_label", Val::str("Euros"))
            .with("currency_subunit_label", Val::str("Cents")),
    )?;
    for (id, code, en, fr, phone, currency) in [
        (68, "ES", "Spain", "Espagne", 34, Some(2)),
        (75, "FR", "France", "France", 33, Some(2)),
        (109, "IT", "Italy", "Italie", 39, Some(2)),
        (233, "US", "United States", "États-Unis", 1, Some(1)),
        (234, "UY", "Uruguay", "Uruguay", 598, None),
    ] {
        create_at(
            db,
            "res.country",
            id,
            Vals::new()
                .with("code", Val::str(code))
                .with("name", tr(en, fr))
                .with("phone_code", Val::Int(phone))
                .with("currency_id", Val::opt_id(currency)),
        )?;
    }
    for (id, country, code, name) in [
        (13, 233, "CA", "California"),
        (41, 233, "NY", "New York"),
        (52, 233, "TX", "Texas"),
        (324, 109, "CA", "Cagliari"),
        (429, 68, "CA", "Cádiz"),
        (1669, 234, "CA", "Canelones"),
    ] {
        create_at(
            db,
            "res.country.state",
            id,
            Vals::new().with("country_id", Val::Id(country)).with("code", Val::str(code)).with("name", Val::str(name)),
        )?;
    }
    db.create(&c, "uom.category", Vals::new().with("name", Val::str("Unit")))?;
    db.create(&c, "uom.category", Vals::new().with("name", Val::str("Weight")))?;
    db.create(&c, "uom.uom", Vals::new().with("name", tr("Units", "Unité(s)")).with("category_id", Val::Id(1)))?;
    db.create(
        &c,
        "uom.uom",
        Vals::new()
            .with("name", tr("Dozens", "Douzaine(s)"))
            .with("category_id", Val::Id(1))
            .with("factor", Val::Num(dec("0.08333333")))
            .with("uom_type", Val::str("bigger")),
    )?;
    db.create(&c, "uom.uom", Vals::new().with("name", Val::str("kg")).with("category_id", Val::Id(2)))?;

    // Partners 1-4, company 1, the two users.
    let p1 = db.create(
        &c,
        "res.partner",
        Vals::new()
            .with("name", Val::str("My Company (San Francisco)"))
            .with("is_company", Val::Bool(true))
            .with("street", Val::str("250 Executive Park Blvd, Suite 3400"))
            .with("city", Val::str("San Francisco"))
            .with("zip", Val::str("94134"))
            .with("state_id", Val::Id(13))
            .with("country_id", Val::Id(233))
            .with("email", Val::str("info@yourcompany.com"))
            .with("phone", Val::str("+1 555-555-5556")),
    )?;
    db.create(
        &c,
        "res.company",
        Vals::new()
            .with("name", Val::str("My Company (San Francisco)"))
            .with("partner_id", Val::Id(p1))
            .with("currency_id", Val::Id(1))
            .with("country_id", Val::Id(233))
            .with("email", Val::str("info@yourcompany.com")),
    )?;
    db.write(&c, "res.partner", &[p1], Vals::new().with("company_id", Val::Id(1)))?;
    let bot = db.create(
        &c,
        "res.partner",
        Vals::new()
            .with("name", Val::str("OdooBot"))
            .with("email", Val::str("odoobot@example.com"))
            .with("active", Val::Bool(false)),
    )?;
    let admin_partner = db.create(
        &c,
        "res.partner",
        Vals::new()
            .with("name", Val::str("Mitchell Admin"))
            .with("email", Val::str("admin@yourcompany.example.com"))
            .with("tz", Val::str("Europe/Brussels")),
    )?;
    let yourcompany = db.create(
        &c,
        "res.partner",
        Vals::new()
            .with("name", Val::str("YourCompany"))
            .with("is_company", Val::Bool(true))
            .with("city", Val::str("San Francisco"))
            .with("country_id", Val::Id(233))
            .with("state_id", Val::Id(13)),
    )?;
    db.write(&c, "res.partner", &[admin_partner], Vals::new().with("parent_id", Val::Id(yourcompany)))?;
    db.create(
        &c,
        "res.users",
        Vals::new()
            .with("partner_id", Val::Id(bot))
            .with("login", Val::str("__system__"))
            .with("active", Val::Bool(false))
            .with_cmds("company_ids", vec![Cmd::Set(vec![1])]),
    )?;
    db.create(
        &c,
        "res.users",
        Vals::new()
            .with("partner_id", Val::Id(admin_partner))
            .with("login", Val::str("admin"))
            .with_cmds("company_ids", vec![Cmd::Set(vec![1])]),
    )?;

    let chicago_partner_id = if profile == Profile::Recording { 41 } else { 5 };
    if profile == Profile::Recording {
        azure_interior(db)?;
    }
    let p2 = create_at(
        db,
        "res.partner",
        chicago_partner_id,
        Vals::new()
            .with("name", Val::str("My Company (Chicago)"))
            .with("is_company", Val::Bool(true))
            .with("city", Val::str("Chicago"))
            .with("country_id", Val::Id(233)),
    )?;
    db.create(
        &c,
        "res.company",
        Vals::new()
            .with("name", Val::str("My Company (Chicago)"))
            .with("partner_id", Val::Id(p2))
            .with("currency_id", Val::Id(1))
            .with("country_id", Val::Id(233)),
    )?;
    db.write(&c, "res.users", &[2], Vals::new().with_cmds("company_ids", vec![Cmd::Set(vec![2, 1])]))?;

    for (name, days) in [("Immediate Payment", 0), ("15 Days", 15), ("21 Days", 21), ("30 Days", 30)] {
        db.create(&c, "account.payment.term", Vals::new().with("name", Val::str(name)).with("days", Val::Int(days)))?;
    }
    db.create(
        &c,
        "account.journal",
        Vals::new()
            .with("name", Val::str("Customer Invoices"))
            .with("code", Val::str("INV"))
            .with("type", Val::str("sale")),
    )?;

    let mut installed = vec![
        "base",
        "web",
        "product",
        "uom",
        "sale",
        "sale_management",
        "stock",
        "account",
        "sale_stock",
        "analytic",
        "mail",
        "portal",
        "payment",
    ];
    if modules.delivery {
        installed.push("delivery");
    }
    if profile == Profile::Demo {
        installed.push("magento_connector");
    }
    for m in installed {
        db.create(
            &c,
            "ir.module.module",
            Vals::new()
                .with("name", Val::str(m))
                .with("shortdesc", Val::str(m))
                .with("state", Val::str("installed"))
                .with("latest_version", Val::str("17.0.1.0")),
        )?;
    }
    Ok(())
}

fn azure_interior(db: &mut Db) -> OResult<()> {
    create_at(
        db,
        "res.partner",
        14,
        Vals::new()
            .with("name", Val::str("Azure Interior"))
            .with("is_company", Val::Bool(true))
            .with("email", Val::str("azure.Interior24@example.com"))
            .with("street", Val::str("4557 De Silva St"))
            .with("city", Val::str("Fremont"))
            .with("zip", Val::str("94538"))
            .with("state_id", Val::Id(13))
            .with("country_id", Val::Id(233))
            .with("phone", Val::str("(870)-931-0505"))
            .with("customer_rank", Val::Int(1)),
    )?;
    Ok(())
}

fn stock_setup(db: &mut Db, profile: Profile, ids: &mut SeedIds) -> OResult<()> {
    let c = sys();
    let loc = |db: &mut Db, name: &str, parent: Option<i64>, usage: &str| -> OResult<i64> {
        db.create(
            &c,
            "stock.location",
            Vals::new()
                .with("name", Val::str(name))
                .with("location_id", Val::opt_id(parent))
                .with("usage", Val::str(usage)),
        )
    };
    let physical = loc(db, "Physical Locations", None, "view")?;
    let partners = loc(db, "Partners", None, "view")?;
    let virtual_ = loc(db, "Virtual Locations", None, "view")?;
    let vendors = loc(db, "Vendors", Some(partners), "supplier")?;
    let customers = loc(db, "Customers", Some(partners), "customer")?;
    loc(db, "Inventory adjustment", Some(virtual_), "inventory")?;
    let first_name = if profile == Profile::Recording { "YourCompany" } else { "San Francisco" };
    for (name, code) in [(first_name, "WH"), ("Chicago", "CHI")] {
        let view = loc(db, code, Some(physical), "view")?;
        let lot = loc(db, "Stock", Some(view), "internal")?;
        let wh = db.create(
            &c,
            "stock.warehouse",
            Vals::new()
                .with("name", Val::str(name))
                .with("code", Val::str(code))
                .with("view_location_id", Val::Id(view))
                .with("lot_stock_id", Val::Id(lot))
                .with("partner_id", Val::Id(1)),
        )?;
        db.write(&c, "stock.location", &[view, lot], Vals::new().with("warehouse_id", Val::Id(wh)))?;
        let in_type = db.create(
            &c,
            "stock.picking.type",
            Vals::new()
                .with("name", tr("Receipts", "Réceptions"))
                .with("code", Val::str("incoming"))
                .with("sequence_code", Val::str("IN"))
                .with("warehouse_id", Val::Id(wh))
                .with("default_location_src_id", Val::Id(vendors))
                .with("default_location_dest_id", Val::Id(lot)),
        )?;
        let out_type = db.create(
            &c,
            "stock.picking.type",
            Vals::new()
                .with("name", tr("Delivery Orders", "Bons de livraison"))
                .with("code", Val::str("outgoing"))
                .with("sequence_code", Val::str("OUT"))
                .with("warehouse_id", Val::Id(wh))
                .with("default_location_src_id", Val::Id(lot))
                .with("default_location_dest_id", Val::Id(customers)),
        )?;
        db.write(
            &c,
            "stock.warehouse",
            &[wh],
            Vals::new().with("in_type_id", Val::Id(in_type)).with("out_type_id", Val::Id(out_type)),
        )?;
        ids.warehouses.push(wh);
        ids.stock_locations.push(lot);
    }
    Ok(())
}

/// Puts seed stock in place for a product in warehouse `w`: quants (on hand, reserved) and open
/// receipt / delivery moves for the incoming and outgoing quantities.
fn seed_stock(db: &mut Db, ids: &SeedIds, product: i64, w: usize, s: &SeedStock) -> OResult<()> {
    let c = sys();
    let (Some(&wh), Some(&lot)) = (ids.warehouses.get(w), ids.stock_locations.get(w)) else {
        return Ok(());
    };
    if s.on_hand != 0.0 || s.reserved != 0.0 {
        db.create(
            &c,
            "stock.quant",
            Vals::new()
                .with("product_id", Val::Id(product))
                .with("location_id", Val::Id(lot))
                .with("quantity", num(s.on_hand))
                .with("reserved_quantity", num(s.reserved)),
        )?;
    }
    let all = c.with_active_test(false);
    let vendors = db.search_one(
        &all,
        "stock.location",
        &super::orm::domain::Domain::leaf("usage", "=", Value::String("supplier".into())),
    )?;
    let customers = db.search_one(
        &all,
        "stock.location",
        &super::orm::domain::Domain::leaf("usage", "=", Value::String("customer".into())),
    )?;
    let in_type = db.get_id(&all, "stock.warehouse", wh, "in_type_id");
    let out_type = db.get_id(&all, "stock.warehouse", wh, "out_type_id");
    let mut moves = Vec::new();
    if s.incoming != 0.0 {
        moves.push(("Seed receipt", vendors, Some(lot), in_type, s.incoming, 0.0, "confirmed"));
    }
    if s.outgoing != 0.0 {
        let state = if s.reserved >= s.outgoing {
            "assigned"
        } else if s.reserved > 0.0 {
            "partially_available"
        } else {
            "confirmed"
        };
        moves.push(("Seed delivery", Some(lot), customers, out_type, s.outgoing, s.reserved, state));
    }
    for (name, src, dst, t, qty, reserved, state) in moves {
        let (Some(src), Some(dst)) = (src, dst) else {
            continue;
        };
        db.create(
            &c,
            "stock.move",
            Vals::new()
                .with("name", Val::str(name))
                .with("product_id", Val::Id(product))
                .with("product_uom_qty", num(qty))
                .with("quantity", num(reserved))
                .with("product_uom", Val::Id(1))
                .with("location_id", Val::Id(src))
                .with("location_dest_id", Val::Id(dst))
                .with("picking_type_id", Val::opt_id(t))
                .with("warehouse_id", Val::Id(wh))
                .with("state", Val::str(state)),
        )?;
    }
    Ok(())
}

fn kind_type(kind: ProductKind) -> &'static str {
    match kind {
        ProductKind::Storable => "product",
        ProductKind::Consumable => "consu",
        ProductKind::Service => "service",
    }
}

fn tax_key(t: TaxKey) -> &'static str {
    match t {
        TaxKey::Standard => "standard",
        TaxKey::NoTax => "none",
        TaxKey::Unmapped => "eco",
    }
}

fn create_seed_product(db: &mut Db, ids: &SeedIds, p: &SeedProduct, categ: i64) -> OResult<i64> {
    let c = sys();
    let price = dec(p.price);
    let mut v = Vals::new()
        .with("name", tr(&p.name, &p.name_fr))
        .with("default_code", Val::opt_str(p.sku.as_deref()))
        .with("description", Val::Str(format!("<p>{}</p>", p.description)))
        .with("description_sale", Val::Str(p.short_description.clone()))
        .with("list_price", Val::Num(price))
        .with("standard_price", Val::Num((price * dec("0.6")).round_dp(2)))
        .with("weight", Val::Num(dec(p.weight)))
        .with("categ_id", Val::Id(categ))
        .with("detailed_type", Val::str(kind_type(p.kind)))
        .with("sale_ok", Val::Bool(p.sale_ok))
        .with("magento_exportable", Val::Bool(p.exportable));
    if let Some(t) = ids.taxes.get(tax_key(p.tax)) {
        v = v.with_cmds("taxes_id", vec![Cmd::Set(vec![*t])]);
    }
    if p.has_image {
        v.set("image_1920", Val::Str(png_base64(p.sku.as_deref().unwrap_or(&p.name))));
    }
    let id = db.create(&c, "product.product", v)?;
    if p.kind != ProductKind::Service {
        for (w, s) in p.stock.iter().enumerate() {
            seed_stock(db, ids, id, w, s)?;
        }
    }
    if !p.active {
        db.write(&c, "product.product", &[id], Vals::new().with("active", Val::Bool(false)))?;
    }
    Ok(id)
}

fn demo(db: &mut Db, generated: Generated, ids: &mut SeedIds) -> OResult<()> {
    let c = sys();
    let all = db.create(&c, "product.category", Vals::new().with("name", Val::str("All")))?;
    let saleable = db.create(
        &c,
        "product.category",
        Vals::new().with("name", Val::str("Saleable")).with("parent_id", Val::Id(all)),
    )?;
    ids.saleable_category = saleable;
    for cat in seed::categories() {
        let parent = cat.parent.and_then(|k| ids.categories.get(k).copied()).unwrap_or(saleable);
        let id = db.create(
            &c,
            "product.category",
            Vals::new()
                .with("name", tr(cat.name, cat.name_fr))
                .with("parent_id", Val::Id(parent))
                .with("magento_exportable", Val::Bool(cat.exportable)),
        )?;
        ids.categories.insert(cat.key.to_owned(), id);
    }
    let mut bench_cats = Vec::new();
    for i in 0..generated.categories {
        let parent = if i < 10 { saleable } else { bench_cats[i % 10] };
        let id = db.create(
            &c,
            "product.category",
            Vals::new()
                .with("name", tr(&format!("Bench Category {i}"), &format!("Catégorie de test {i}")))
                .with("parent_id", Val::Id(parent)),
        )?;
        bench_cats.push(id);
    }

    let mut groups: BTreeMap<String, i64> = BTreeMap::new();
    for (key, name, percent, included, class) in seed::OPENERP_TAXES {
        let gname = format!("Tax {percent}%");
        let group = match groups.get(&gname) {
            Some(g) => *g,
            None => {
                let g = db.create(&c, "account.tax.group", Vals::new().with("name", Val::Str(gname.clone())))?;
                groups.insert(gname, g);
                g
            }
        };
        let id = db.create(
            &c,
            "account.tax",
            Vals::new()
                .with("name", Val::str(*name))
                .with("amount", Val::Num(dec(percent)))
                .with("amount_type", Val::str("percent"))
                .with("price_include", Val::Bool(*included))
                .with("type_tax_use", Val::str("sale"))
                .with("tax_group_id", Val::Id(group))
                .with("magento_tax_class_id", Val::Int(class.unwrap_or(0)))
                .with("magento_tax_class_mapped", Val::Bool(class.is_some())),
        )?;
        ids.taxes.insert((*key).to_owned(), id);
    }
    let g15 = db.create(&c, "account.tax.group", Vals::new().with("name", Val::str("Tax 15%")))?;
    db.create(
        &c,
        "account.tax",
        Vals::new()
            .with("name", Val::str("15%"))
            .with("amount", Val::Num(dec("15")))
            .with("type_tax_use", Val::str("purchase"))
            .with("tax_group_id", Val::Id(g15)),
    )?;

    for p in seed::products().into_iter().filter(|p| p.in_openerp) {
        let categ = ids.categories.get(p.category).copied().unwrap_or(saleable);
        let id = create_seed_product(db, ids, &p, categ)?;
        match p.sku.as_deref() {
            Some(seed::SHIPPING_SKU) => ids.shipping_product = Some(id),
            Some(seed::DISCOUNT_SKU) => ids.discount_product = Some(id),
            Some(seed::ROUNDING_SKU) => ids.rounding_product = Some(id),
            _ => {}
        }
    }
    let home = ids.categories.get("home").copied().unwrap_or(saleable);
    for (i, p) in seed::generated_products(generated.products).enumerate() {
        let categ = if bench_cats.is_empty() { home } else { bench_cats[i % bench_cats.len()] };
        create_seed_product(db, ids, &p, categ)?;
    }

    let usd = db.create(
        &c,
        "product.pricelist",
        Vals::new()
            .with("name", Val::str("Public Pricelist"))
            .with("currency_id", Val::Id(1))
            .with("sequence", Val::Int(1))
            .with("company_id", Val::Id(1)),
    )?;
    let eur = db.create(
        &c,
        "product.pricelist",
        Vals::new()
            .with("name", Val::str("EUR Pricelist"))
            .with("currency_id", Val::Id(2))
            .with("sequence", Val::Int(2))
            .with("company_id", Val::Id(1)),
    )?;
    ids.pricelists.insert("USD".into(), usd);
    ids.pricelists.insert("EUR".into(), eur);
    let find = |db: &Db, sku: &str| {
        db.search_one(
            &c.with_active_test(false),
            "product.product",
            &super::orm::domain::Domain::leaf("default_code", "=", Value::String(sku.into())),
        )
        .ok()
        .flatten()
    };
    if let Some(cable) = find(db, "ELEC-ACC-001") {
        let tmpl = db.get_id(&c, "product.product", cable, "product_tmpl_id");
        db.create(
            &c,
            "product.pricelist.item",
            Vals::new()
                .with("pricelist_id", Val::Id(usd))
                .with("applied_on", Val::str("1_product"))
                .with("product_tmpl_id", Val::opt_id(tmpl))
                .with("min_quantity", num(10.0))
                .with("compute_price", Val::str("percentage"))
                .with("percent_price", num(10.0)),
        )?;
    }
    if let Some(book) = find(db, "BOOK-001") {
        db.create(
            &c,
            "product.pricelist.item",
            Vals::new()
                .with("pricelist_id", Val::Id(eur))
                .with("applied_on", Val::str("0_product_variant"))
                .with("product_id", Val::Id(book))
                .with("compute_price", Val::str("fixed"))
                .with("fixed_price", num(36.0)),
        )?;
    }

    for cust in seed::customers() {
        let Some(email) = cust.openerp_email else {
            continue;
        };
        let Some(a) = cust.addresses.iter().find(|a| a.default_billing).or(cust.addresses.first()) else {
            continue;
        };
        let state = a.region_code.and_then(|code| {
            let country = if a.country == "US" { 233 } else { 0 };
            db.search_one(
                &c,
                "res.country.state",
                &super::orm::domain::Domain::and([
                    super::orm::domain::Domain::leaf("code", "=", Value::String(code.into())),
                    super::orm::domain::Domain::leaf("country_id", "=", Value::Integer(country)),
                ]),
            )
            .ok()
            .flatten()
        });
        let country = db.search_one(
            &c,
            "res.country",
            &super::orm::domain::Domain::leaf("code", "=", Value::String(a.country.into())),
        )?;
        let name = format!("{} {}", cust.firstname, cust.lastname);
        let address = Vals::new()
            .with("street", Val::opt_str(a.street.first().copied()))
            .with("street2", Val::opt_str(a.street.get(1).copied()))
            .with("city", Val::str(a.city))
            .with("zip", Val::str(a.postcode))
            .with("state_id", Val::opt_id(state))
            .with("country_id", Val::opt_id(country))
            .with("phone", Val::str(a.telephone));
        let mut main = address
            .clone()
            .with("name", Val::Str(name.clone()))
            .with("email", Val::str(email))
            .with("customer_rank", Val::Int(1))
            .with("lang", Val::str("en_US"));
        main.set("type", Val::str("contact"));
        let pid = db.create(&c, "res.partner", main)?;
        db.create(
            &c,
            "res.partner",
            address.with("name", Val::Str(name)).with("type", Val::str("delivery")).with("parent_id", Val::Id(pid)),
        )?;
    }

    backend(db, ids)?;
    Ok(())
}

fn backend(db: &mut Db, ids: &mut SeedIds) -> OResult<()> {
    let c = sys();
    let mut stores = Vec::new();
    for v in seed::store_views() {
        let pricelist = ids.pricelists.get(v.currency).copied();
        stores.push(Cmd::Create(
            Vals::new()
                .with("name", Val::str(v.name))
                .with("magento_store_id", Val::Int(v.store_id))
                .with("magento_store_code", Val::str(v.code))
                .with("magento_website_id", Val::Int(v.website_id))
                .with("magento_group_id", Val::Int(v.group_id))
                .with("magento_root_category_id", Val::Int(v.root_category_id))
                .with("lang", Val::str(v.lang))
                .with("pricelist_id", Val::opt_id(pricelist))
                .with("warehouse_id", Val::opt_id(ids.warehouses.get(v.warehouse).copied()))
                .with("root_category_id", Val::Id(ids.saleable_category)),
        ));
    }
    let payments = vec![
        Cmd::Create(
            Vals::new()
                .with("code", Val::str("checkmo"))
                .with("name", Val::str("Check / Money order"))
                .with("payment_term_id", Val::Id(1)),
        ),
        Cmd::Create(
            Vals::new()
                .with("code", Val::str("banktransfer"))
                .with("name", Val::str("Bank Transfer Payment"))
                .with("payment_term_id", Val::Id(4)),
        ),
    ];
    let statuses: Vec<Cmd> = [
        ("confirmed", "processing", "Order confirmed in OpenERP as {name}.", false),
        ("invoiced", "processing", "Invoiced in OpenERP ({name}).", false),
        ("partially_shipped", "processing", "Partially shipped ({name}).", true),
        ("shipped", "complete", "Shipped ({name}).", true),
        ("cancelled", "canceled", "Cancelled in OpenERP ({name}).", true),
    ]
    .into_iter()
    .map(|(event, status, comment, notify)| {
        Cmd::Create(
            Vals::new()
                .with("event", Val::str(event))
                .with("magento_status", Val::str(status))
                .with("comment", Val::str(comment))
                .with("notify", Val::Bool(notify)),
        )
    })
    .collect();
    let id = db.create(
        &c,
        "magento.backend",
        Vals::new()
            .with("name", Val::str(crate::config::SANDBOX_BACKEND))
            .with("company_id", Val::Id(1))
            .with("root_category_id", Val::Id(ids.saleable_category))
            .with("connector_token", Val::str("sandbox-token"))
            .with("shipping_product_id", Val::opt_id(ids.shipping_product))
            .with("discount_product_id", Val::opt_id(ids.discount_product))
            .with("rounding_product_id", Val::opt_id(ids.rounding_product))
            .with("stock_field", Val::str("virtual_available"))
            .with_cmds("store_ids", stores)
            .with_cmds("payment_method_ids", payments)
            .with_cmds("status_map_ids", statuses),
    )?;
    ids.backend = Some(id);
    Ok(())
}

fn recording(db: &mut Db, ids: &mut SeedIds) -> OResult<()> {
    let c = sys();
    for (id, name, parent) in [
        (1, "All", None),
        (2, "Saleable", Some(1)),
        (3, "Expenses", Some(1)),
        (4, "Internal", Some(1)),
        (5, "Services", Some(2)),
        (6, "Saleable", Some(5)),
        (7, "Software", Some(2)),
        (8, "Office Furniture", Some(2)),
        (9, "Consumable", Some(1)),
    ] {
        create_at(
            db,
            "product.category",
            id,
            Vals::new().with("name", Val::str(name)).with("parent_id", Val::opt_id(parent)),
        )?;
    }
    ids.saleable_category = 2;
    let g = db.create(&c, "account.tax.group", Vals::new().with("name", Val::str("Tax 15%")))?;
    for use_ in ["sale", "purchase"] {
        let t = db.create(
            &c,
            "account.tax",
            Vals::new()
                .with("name", Val::str("15%"))
                .with("amount", Val::Num(dec("15")))
                .with("type_tax_use", Val::str(use_))
                .with("tax_group_id", Val::Id(g)),
        )?;
        ids.taxes.insert(use_.to_owned(), t);
    }
    let product = |db: &mut Db,
                   id: i64,
                   code: &str,
                   name: &str,
                   price: &str,
                   cost: &str,
                   categ: i64,
                   desc: Option<&str>,
                   image: bool|
     -> OResult<i64> {
        db.set_next_id("product.template", id);
        let mut v = Vals::new()
            .with("name", Val::str(name))
            .with("default_code", Val::str(code))
            .with("list_price", Val::Num(dec(price)))
            .with("standard_price", Val::Num(dec(cost)))
            .with("weight", Val::Num(dec("0.01")))
            .with("categ_id", Val::Id(categ))
            .with("detailed_type", Val::str("product"))
            .with("description_sale", Val::opt_str(desc))
            .with_cmds("taxes_id", vec![Cmd::Set(vec![1])]);
        if image {
            v.set("image_1920", Val::Str(png_base64(code)));
        }
        create_at(db, "product.product", id, v)
    };
    product(db, 5, "FURN_7777", "Office Chair", "70", "55", 8, None, true)?;
    product(db, 6, "FURN_8888", "Office Lamp", "40", "35", 8, None, false)?;
    product(db, 7, "FURN_9999", "Office Design Software", "280", "235", 7, None, false)?;
    product(
        db,
        8,
        "FURN_7800",
        "Desk Combination",
        "450",
        "300",
        8,
        Some("Desk combination, black-brown: chair + desk + drawer."),
        false,
    )?;
    db.set_next_id("product.template", 9);
    let tmpl = db.create(
        &c.with("create_product_product", Value::Boolean(false)),
        "product.template",
        Vals::new()
            .with("name", Val::str("Customizable Desk"))
            .with("list_price", Val::Num(dec("750")))
            .with("categ_id", Val::Id(8))
            .with("detailed_type", Val::str("product"))
            .with("description_sale", Val::str("160x80cm, with large legs."))
            .with_cmds("taxes_id", vec![Cmd::Set(vec![1])]),
    )?;
    for (name, attr, extra) in
        [("Steel", "Legs", "0"), ("Aluminium", "Legs", "50.4"), ("White", "Color", "0"), ("Black", "Color", "0")]
    {
        db.create(
            &c,
            "product.template.attribute.value",
            Vals::new()
                .with("name", Val::str(name))
                .with("attribute_name", Val::str(attr))
                .with("price_extra", Val::Num(dec(extra)))
                .with("product_tmpl_id", Val::Id(tmpl)),
        )?;
    }
    for (id, code, values) in [(12, "FURN_0096", [1, 3]), (13, "FURN_0097", [1, 4]), (14, "FURN_0098", [2, 3])] {
        create_at(
            db,
            "product.product",
            id,
            Vals::new()
                .with("product_tmpl_id", Val::Id(tmpl))
                .with("default_code", Val::str(code))
                .with("standard_price", Val::Num(dec("500")))
                .with("weight", Val::Num(dec("0.01")))
                .with_cmds("product_template_attribute_value_ids", vec![Cmd::Set(values.to_vec())]),
        )?;
    }
    for (product, w, s) in [
        (5, 0, SeedStock { on_hand: 0.0, incoming: 260.0, outgoing: 0.0, reserved: 0.0 }),
        (6, 0, SeedStock { on_hand: 0.0, incoming: 0.0, outgoing: 45.0, reserved: 0.0 }),
        (8, 0, SeedStock { on_hand: 60.0, incoming: 0.0, outgoing: 56.0, reserved: 56.0 }),
        (12, 0, SeedStock::on_hand(45.0)),
    ] {
        seed_stock(db, ids, product, w, &s)?;
    }
    db.create(
        &c,
        "product.pricelist",
        Vals::new()
            .with("name", Val::str("Public Pricelist"))
            .with("currency_id", Val::Id(1))
            .with("company_id", Val::Id(1)),
    )?;
    db.set_next_id("product.template", 41);
    db.set_next_id("product.product", 41);
    db.set_next_id("res.partner", 43);
    db.set_next_id("sale.order", 25);
    db.set_seq("sale.order", 25);
    db.set_next_id("sale.order.line", 51);
    db.set_next_id("stock.picking", 25);
    db.set_next_id("stock.move", 47);
    let out_type =
        ids.warehouses.first().and_then(|w| db.get_id(&c, "stock.warehouse", *w, "out_type_id")).unwrap_or(2);
    db.set_seq(&format!("stock.picking.type/{out_type}"), 12);
    Ok(())
}

/// A small PNG (8×8, one colour derived from `key`), base64-encoded as Odoo stores images.
pub fn png_base64(key: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(png(key))
}

/// A small valid PNG whose colour depends on `key`.
pub fn png(key: &str) -> Vec<u8> {
    let h = key.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    let (r, g, b) = ((h >> 16) as u8, (h >> 8) as u8, h as u8);
    let (w, hgt) = (8u32, 8u32);
    let mut row = vec![0u8];
    for _ in 0..w {
        row.extend_from_slice(&[r, g, b]);
    }
    let raw: Vec<u8> = row.repeat(hgt as usize);
    let mut z = vec![0x78, 0x01, 0x01];
    let len = raw.len() as u16;
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&(!len).to_le_bytes());
    z.extend_from_slice(&raw);
    let (mut a, mut b2) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b2 = (b2 + a) % 65521;
    }
    z.extend_from_slice(&((b2 << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&hgt.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", z), (b"IEND", Vec::new())] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(&data);
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_well_formed() {
        let p = png("x");
        assert!(p.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_ne!(png("a"), png("b"));
        assert!(super::super::orm::rpc::check_image(&png_base64("x")).is_ok());
    }
}
