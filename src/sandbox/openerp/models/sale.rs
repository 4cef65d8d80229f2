//! `sale.order` and `sale.order.line` as in Odoo 17 with `sale_stock`.
//!
//! Lines take their name, unit, price (pricelist) and taxes from the product when they are not
//! given; amounts are computed per line with [`account::compute_all`] and summed
//! (`round_per_line`). `action_confirm` refuses orders that are not draft/sent with the
//! recorded message, sets `state = sale`, **overwrites `date_order` with now** and creates the
//! delivery. `action_cancel` shows the cancel wizard (an action dict) unless the context has
//! `disable_cancel_warning` or every order is a draft; otherwise it cancels draft invoices and
//! open deliveries.

use dxr::Value;
use rust_decimal::Decimal;

use super::account::{self, TaxResult};
use super::{base, company_currency, format_money, product, stock};
use crate::rpc::value::{self, Map};
use crate::sandbox::openerp::error::{OResult, OdooError};
use crate::sandbox::openerp::orm::domain::Domain;
use crate::sandbox::openerp::orm::model::{FieldDef, ModelBuilder, ModelDef, Ret};
use crate::sandbox::openerp::orm::rpc::{Args, wire_num};
use crate::sandbox::openerp::orm::val::{Val, Vals};
use crate::sandbox::openerp::orm::{Ctx, Db};

const SO: &str = "sale.order";
const SOL: &str = "sale.order.line";

/// Order states of Odoo 17 (`done` is gone, `locked` is a flag).
pub const ORDER_STATES: &[(&str, &str)] =
    &[("draft", "Quotation"), ("sent", "Quotation Sent"), ("sale", "Sales Order"), ("cancel", "Cancelled")];

const INVOICE_STATUS: &[(&str, &str)] = &[
    ("upselling", "Upselling Opportunity"),
    ("invoiced", "Fully Invoiced"),
    ("to invoice", "To Invoice"),
    ("no", "Nothing to Invoice"),
];

fn now(db: &Db, _: &Ctx) -> Val {
    Val::Str(db.now())
}

fn validity(db: &Db, _: &Ctx) -> Val {
    let d = db.now_dt().date() + chrono::Days::new(30);
    Val::Str(d.format("%Y-%m-%d").to_string())
}

fn uid(_: &Db, ctx: &Ctx) -> Val {
    Val::Id(ctx.uid)
}

fn company(_: &Db, _: &Ctx) -> Val {
    Val::Id(1)
}

fn warehouse(db: &Db, ctx: &Ctx) -> Val {
    Val::opt_id(db.search_one(ctx, "stock.warehouse", &Domain::all()).ok().flatten())
}

/// The model definitions of this module.
pub fn models() -> Vec<ModelDef> {
    vec![order(), line()]
}

fn order() -> ModelDef {
    let mut b = ModelBuilder::new(SO, "Sales Order");
    b.char("name", "Order Reference").required().default(Val::str("New")).index();
    b.selection("state", "Status", ORDER_STATES).default(Val::str("draft")).readonly();
    b.datetime("date_order", "Order Date").required().default_fn(now);
    b.date("validity_date", "Expiration").default_fn(validity);
    b.datetime("commitment_date", "Delivery Date");
    b.m2o("partner_id", "Customer", "res.partner").required().restrict().index();
    b.m2o("partner_invoice_id", "Invoice Address", "res.partner").required().restrict();
    b.m2o("partner_shipping_id", "Delivery Address", "res.partner").required().restrict();
    b.m2o("pricelist_id", "Pricelist", "product.pricelist");
    b.m2o("currency_id", "Currency", "res.currency");
    b.m2o("payment_term_id", "Payment Terms", "account.payment.term");
    b.char("client_order_ref", "Customer Reference");
    b.char("origin", "Source Document");
    b.html("note", "Terms and conditions");
    b.m2o("user_id", "Salesperson", "res.users").default_fn(uid);
    b.m2o("company_id", "Company", "res.company").required().default_fn(company);
    b.m2o("warehouse_id", "Warehouse", "stock.warehouse").default_fn(warehouse);
    b.o2m("order_line", "Order Lines", SOL, "order_id");
    b.boolean("locked", "Locked");
    b.boolean("require_signature", "Online signature");
    b.boolean("require_payment", "Online payment");
    b.monetary("amount_untaxed", "Untaxed Amount").computed();
    b.monetary("amount_tax", "Taxes").computed();
    b.monetary("amount_total", "Total").computed();
    b.binary("tax_totals", "Tax Totals").computed();
    b.selection("invoice_status", "Invoice Status", INVOICE_STATUS).computed();
    b.selection(
        "delivery_status",
        "Delivery Status",
        &[
            ("pending", "Not Delivered"),
            ("started", "Started"),
            ("partial", "Partially Delivered"),
            ("full", "Fully Delivered"),
        ],
    )
    .computed();
    b.o2m("picking_ids", "Transfers", "stock.picking", "sale_id");
    b.m2m("invoice_ids", "Invoices", "account.move").computed();
    b.integer("invoice_count", "Invoice Count").computed();
    b.integer("delivery_count", "Delivery Orders").computed();
    b.char("type_name", "Type Name").computed();
    b.order("date_order desc, id desc");
    b.hooks().compute = Some(order_compute);
    b.hooks().before_create = Some(order_before_create);
    b.hooks().before_write = Some(order_before_write);
    b.hooks().before_unlink = Some(|db, ctx, ids| {
        for &id in ids {
            if !matches!(db.get_str(ctx, SO, id, "state").as_deref(), Some("draft") | Some("cancel")) {
                return Err(OdooError::User(
                    "You can not delete a sent quotation or a confirmed sales order. You must first cancel it.".into(),
                ));
            }
        }
        Ok(())
    });
    b.method("action_confirm", action_confirm);
    b.method("action_cancel", action_cancel);
    b.method("action_draft", action_draft);
    b.build()
}

fn line() -> ModelDef {
    let mut b = ModelBuilder::new(SOL, "Sales Order Line");
    b.m2o("order_id", "Order Reference", SO).required().cascade().index();
    b.integer("sequence", "Sequence").default(Val::Int(10));
    b.m2o("product_id", "Product", "product.product").restrict().index();
    b.m2o("product_template_id", "Product Template", "product.template").computed();
    b.text("name", "Description").required();
    b.float("product_uom_qty", "Quantity").required().default(Val::Num(Decimal::ONE));
    b.m2o("product_uom", "Unit of Measure", "uom.uom");
    b.float("price_unit", "Unit Price").required();
    b.float("discount", "Discount (%)");
    b.m2m("tax_id", "Taxes", "account.tax");
    b.monetary("price_subtotal", "Subtotal").computed();
    b.monetary("price_tax", "Total Tax").computed();
    b.monetary("price_total", "Total").computed();
    b.float("price_reduce_taxexcl", "Price Reduce Tax excl").computed();
    b.float("qty_delivered", "Delivery Quantity").computed();
    b.float("qty_invoiced", "Invoiced Quantity").computed();
    b.float("qty_to_invoice", "Quantity To Invoice").computed();
    b.selection("invoice_status", "Invoice Status", INVOICE_STATUS).computed();
    b.selection("display_type", "Display Type", &[("line_section", "Section"), ("line_note", "Note")]);
    b.float("customer_lead", "Lead Time");
    b.boolean("is_downpayment", "Is a down payment");
    b.o2m("move_ids", "Stock Moves", "stock.move", "sale_line_id");
    b.m2m("invoice_lines", "Invoice Lines", "account.move.line").computed();
    b.field("state", "Order Status", crate::sandbox::openerp::orm::model::FType::Selection)
        .related("order_id.state")
        .selection = ORDER_STATES.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    b.m2o("currency_id", "Currency", "res.currency").related("order_id.currency_id");
    b.m2o("company_id", "Company", "res.company").related("order_id.company_id");
    b.m2o("order_partner_id", "Customer", "res.partner").related("order_id.partner_id");
    b.order("order_id, sequence, id");
    b.hooks().compute = Some(line_compute);
    b.hooks().before_create = Some(line_before_create);
    b.hooks().after_create = Some(|db, ctx, id, _| {
        let order = db.get_id(ctx, SOL, id, "order_id");
        if let Some(o) = order
            && db.get_str(ctx, SO, o, "state").as_deref() == Some("sale")
        {
            stock::launch_for_lines(db, ctx, o, &[id])?;
        }
        Ok(())
    });
    b.hooks().before_write = Some(|db, ctx, ids, vals| {
        if let Some(q) = vals.get("product_uom_qty").map(Val::num) {
            for &id in ids {
                let old = db.get_num(ctx, SOL, id, "product_uom_qty");
                let confirmed = db
                    .get_id(ctx, SOL, id, "order_id")
                    .is_some_and(|o| db.get_str(ctx, SO, o, "state").as_deref() == Some("sale"));
                if confirmed && q != old {
                    stock::change_line_demand(db, ctx, id, q - old)?;
                }
            }
        }
        Ok(())
    });
    b.hooks().before_unlink = Some(|db, ctx, ids| {
        for &id in ids {
            let confirmed = db
                .get_id(ctx, SOL, id, "order_id")
                .is_some_and(|o| db.get_str(ctx, SO, o, "state").as_deref() == Some("sale"));
            if confirmed && db.get(ctx, SOL, id, "display_type")?.is_false() {
                return Err(OdooError::User(
                    "Once a sales order is confirmed, you can't remove one of its lines (we need to track if something gets invoiced or delivered).\n                Set the quantity to 0 instead.".into(),
                ));
            }
        }
        Ok(())
    });
    b.build()
}

fn order_defaults_from_partner(db: &Db, ctx: &Ctx, partner: i64, vals: &mut Vals, force: bool) {
    let addresses = base::address_get(db, ctx, partner, &["delivery", "invoice"]);
    for (kind, field) in [("invoice", "partner_invoice_id"), ("delivery", "partner_shipping_id")] {
        if force || !vals.has(field) {
            let id = addresses.iter().find(|(k, _)| k == kind).map_or(partner, |(_, i)| *i);
            vals.set(field, Val::Id(id));
        }
    }
    let commercial = base::commercial_partner(db, ctx, partner);
    if !vals.has("pricelist_id")
        && let Some(pl) = db.get_id(ctx, "res.partner", commercial, "property_product_pricelist")
    {
        vals.set("pricelist_id", Val::Id(pl));
    }
    if !vals.has("payment_term_id")
        && let Some(t) = db.get_id(ctx, "res.partner", commercial, "property_payment_term_id")
    {
        vals.set("payment_term_id", Val::Id(t));
    }
}

fn order_before_create(db: &mut Db, ctx: &Ctx, vals: &mut Vals) -> OResult<()> {
    let named = vals
        .get("name")
        .and_then(|v| v.text("en_US").map(str::to_owned))
        .filter(|n| n != "New" && n != "/" && !n.is_empty());
    if named.is_none() {
        let n = db.next_seq(SO);
        vals.set("name", Val::Str(format!("S{n:05}")));
    }
    if let Some(p) = vals.get("partner_id").and_then(Val::id)
        && db.exists("res.partner", p)
    {
        order_defaults_from_partner(db, ctx, p, vals, false);
    }
    if !vals.has("currency_id") {
        let c = vals
            .get("pricelist_id")
            .and_then(Val::id)
            .and_then(|pl| db.get_id(ctx, "product.pricelist", pl, "currency_id"))
            .or_else(|| company_currency(db));
        vals.set("currency_id", Val::opt_id(c));
    }
    Ok(())
}

fn order_before_write(db: &mut Db, ctx: &Ctx, _ids: &[i64], vals: &mut Vals) -> OResult<()> {
    if let Some(p) = vals.get("partner_id").and_then(Val::id)
        && db.exists("res.partner", p)
    {
        let mut derived = Vals::new();
        order_defaults_from_partner(db, ctx, p, &mut derived, true);
        for (k, v) in derived.0 {
            if !vals.has(&k) && (k == "partner_invoice_id" || k == "partner_shipping_id") {
                vals.set_in(&k, v);
            }
        }
    }
    if let Some(pl) = vals.get("pricelist_id").cloned()
        && !vals.has("currency_id")
    {
        let c = pl
            .id()
            .and_then(|pl| db.get_id(ctx, "product.pricelist", pl, "currency_id"))
            .or_else(|| company_currency(db));
        vals.set("currency_id", Val::opt_id(c));
    }
    Ok(())
}

fn line_before_create(db: &mut Db, ctx: &Ctx, vals: &mut Vals) -> OResult<()> {
    let Some(order) = vals.get("order_id").and_then(Val::id) else {
        return Ok(());
    };
    if !db.exists(SO, order) {
        return Ok(());
    }
    if vals.get("display_type").is_some_and(|v| v.truthy()) {
        vals.set_default("product_uom_qty", Val::Num(Decimal::ZERO));
        vals.set_default("price_unit", Val::Num(Decimal::ZERO));
        return Ok(());
    }
    let Some(p) = vals.get("product_id").and_then(Val::id).filter(|p| db.exists("product.product", *p)) else {
        vals.set_default("price_unit", Val::Num(Decimal::ZERO));
        return Ok(());
    };
    if !vals.has("product_uom")
        && let Some(u) = db.get_id(ctx, "product.product", p, "uom_id")
    {
        vals.set("product_uom", Val::Id(u));
    }
    if !vals.has("name") {
        let partner = db.get_id(ctx, SO, order, "partner_id");
        let lang =
            partner.and_then(|pa| db.get_str(ctx, "res.partner", pa, "lang")).unwrap_or_else(|| ctx.lang.clone());
        let lctx = ctx.with_lang(&lang);
        let mut name = product::variant_display_name(db, &lctx, p);
        if let Some(d) = db.get_str(&lctx, "product.product", p, "description_sale").filter(|d| !d.is_empty()) {
            name = format!("{name}\n{d}");
        }
        vals.set("name", Val::Str(name));
    }
    if !vals.has("price_unit") {
        let qty = vals.get("product_uom_qty").map_or(Decimal::ONE, Val::num);
        let pricelist = db.get_id(ctx, SO, order, "pricelist_id");
        let currency = db.get_id(ctx, SO, order, "currency_id");
        vals.set("price_unit", Val::Num(product::product_price(db, ctx, pricelist, p, qty, currency)));
    }
    if !vals.has("tax_id") {
        let company = db.get_id(ctx, SO, order, "company_id");
        let taxes: Vec<i64> = db
            .get_ids(ctx, "product.product", p, "taxes_id")
            .into_iter()
            .filter(|t| db.get_id(ctx, "account.tax", *t, "company_id") == company)
            .collect();
        vals.set("tax_id", Val::Ids(taxes));
    }
    Ok(())
}

/// Amounts of one line (`compute_all` on the discounted price).
pub fn line_amounts(db: &Db, ctx: &Ctx, line: i64) -> TaxResult {
    let price = db.get_num(ctx, SOL, line, "price_unit")
        * (Decimal::ONE - db.get_num(ctx, SOL, line, "discount") / Decimal::ONE_HUNDRED);
    let qty = db.get_num(ctx, SOL, line, "product_uom_qty");
    let taxes = db.get_ids(&ctx.with_active_test(false), SOL, line, "tax_id");
    let currency = db.get_id(ctx, SOL, line, "order_id").and_then(|o| db.get_id(ctx, SO, o, "currency_id"));
    account::compute_all(db, &taxes, price, qty, currency)
}

fn invoice_line_ids(db: &Db, line: i64) -> Vec<i64> {
    let t = db.table("account.move.line");
    let Some(col) = t.def.field("sale_line_ids").and_then(FieldDef::column) else {
        return Vec::new();
    };
    t.ids().filter(|i| t.get(*i).is_some_and(|r| r[col].ids().contains(&line))).collect()
}

/// Quantity invoiced for a line (non-cancelled invoices, credit notes negative).
pub fn qty_invoiced(db: &Db, ctx: &Ctx, line: i64) -> Decimal {
    let mut q = Decimal::ZERO;
    for il in invoice_line_ids(db, line) {
        let Some(m) = db.get_id(ctx, "account.move.line", il, "move_id") else {
            continue;
        };
        if db.get_str(ctx, "account.move", m, "state").as_deref() == Some("cancel") {
            continue;
        }
        let qty = db.get_num(ctx, "account.move.line", il, "quantity");
        match db.get_str(ctx, "account.move", m, "move_type").as_deref() {
            Some("out_invoice") => q += qty,
            Some("out_refund") => q -= qty,
            _ => {}
        }
    }
    q
}

/// Quantity the line still has to invoice (ordered-quantity policy unless the product says
/// `delivery`).
pub fn qty_to_invoice(db: &Db, ctx: &Ctx, line: i64) -> Decimal {
    let confirmed = db
        .get_id(ctx, SOL, line, "order_id")
        .is_some_and(|o| db.get_str(ctx, SO, o, "state").as_deref() == Some("sale"));
    if !confirmed || db.get(ctx, SOL, line, "display_type").is_ok_and(|v| v.truthy()) {
        return Decimal::ZERO;
    }
    let policy =
        db.get_id(ctx, SOL, line, "product_id").and_then(|p| db.get_str(ctx, "product.product", p, "invoice_policy"));
    let target = if policy.as_deref() == Some("delivery") {
        stock::qty_delivered(db, ctx, line)
    } else {
        db.get_num(ctx, SOL, line, "product_uom_qty")
    };
    target - qty_invoiced(db, ctx, line)
}

fn line_invoice_status(db: &Db, ctx: &Ctx, line: i64) -> &'static str {
    let confirmed = db
        .get_id(ctx, SOL, line, "order_id")
        .is_some_and(|o| db.get_str(ctx, SO, o, "state").as_deref() == Some("sale"));
    if !confirmed {
        return "no";
    }
    if !qty_to_invoice(db, ctx, line).is_zero() {
        return "to invoice";
    }
    let qty = db.get_num(ctx, SOL, line, "product_uom_qty");
    if qty_invoiced(db, ctx, line) >= qty {
        return "invoiced";
    }
    "no"
}

fn line_compute(db: &Db, ctx: &Ctx, id: i64, f: &FieldDef) -> OResult<Val> {
    Ok(match f.name.as_str() {
        "price_subtotal" => Val::Num(line_amounts(db, ctx, id).total_excluded),
        "price_total" => Val::Num(line_amounts(db, ctx, id).total_included),
        "price_tax" => {
            let r = line_amounts(db, ctx, id);
            Val::Num(r.total_included - r.total_excluded)
        }
        "price_reduce_taxexcl" => {
            let qty = db.get_num(ctx, SOL, id, "product_uom_qty");
            let sub = line_amounts(db, ctx, id).total_excluded;
            Val::Num(if qty.is_zero() { Decimal::ZERO } else { sub / qty })
        }
        "qty_delivered" => Val::Num(stock::qty_delivered(db, ctx, id)),
        "qty_invoiced" => Val::Num(qty_invoiced(db, ctx, id)),
        "qty_to_invoice" => Val::Num(qty_to_invoice(db, ctx, id)),
        "invoice_status" => Val::str(line_invoice_status(db, ctx, id)),
        "product_template_id" => Val::opt_id(
            db.get_id(ctx, SOL, id, "product_id").and_then(|p| db.get_id(ctx, "product.product", p, "product_tmpl_id")),
        ),
        "invoice_lines" => Val::Ids(invoice_line_ids(db, id)),
        _ => f.empty_read(),
    })
}

fn product_lines(db: &Db, ctx: &Ctx, order: i64) -> Vec<i64> {
    db.get_ids(ctx, SO, order, "order_line")
        .into_iter()
        .filter(|l| db.get(ctx, SOL, *l, "display_type").is_ok_and(|v| v.is_false()))
        .collect()
}

fn order_amounts(db: &Db, ctx: &Ctx, order: i64) -> (Decimal, Decimal) {
    let (mut untaxed, mut tax) = (Decimal::ZERO, Decimal::ZERO);
    for l in product_lines(db, ctx, order) {
        let r = line_amounts(db, ctx, l);
        untaxed += r.total_excluded;
        tax += r.total_included - r.total_excluded;
    }
    (untaxed, tax)
}

/// The invoices of an order (through its lines' invoice lines).
pub fn order_invoices(db: &Db, ctx: &Ctx, order: i64) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    for l in db.get_ids(ctx, SO, order, "order_line") {
        for il in invoice_line_ids(db, l) {
            if let Some(m) = db.get_id(ctx, "account.move.line", il, "move_id")
                && !out.contains(&m)
            {
                out.push(m);
            }
        }
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    out
}

fn tax_totals(db: &Db, ctx: &Ctx, order: i64) -> Value {
    let currency = db.get_id(ctx, SO, order, "currency_id");
    let (untaxed, tax) = order_amounts(db, ctx, order);
    let total = untaxed + tax;
    let mut groups: Vec<(i64, i64, Decimal, Decimal)> = Vec::new();
    for l in product_lines(db, ctx, order) {
        let r = line_amounts(db, ctx, l);
        let mut seen_groups = Vec::new();
        for t in &r.taxes {
            let g = db.get_id(&ctx.with_active_test(false), "account.tax", t.tax_id, "tax_group_id").unwrap_or(0);
            let seq = db.get(ctx, "account.tax.group", g, "sequence").map(|v| v.int()).unwrap_or(10);
            let base = if seen_groups.contains(&g) { Decimal::ZERO } else { r.total_excluded };
            seen_groups.push(g);
            match groups.iter_mut().find(|x| x.1 == g) {
                Some(x) => {
                    x.2 += t.amount;
                    x.3 += base;
                }
                None => groups.push((seq, g, t.amount, base)),
            }
        }
    }
    groups.sort_by_key(|(seq, g, _, _)| (*seq, *g));
    let display_tax_base = (groups.len() == 1 && groups[0].3 != untaxed) || groups.len() > 1;
    let group_values: Vec<Value> = groups
        .iter()
        .map(|(_, g, amount, base)| {
            value::structure([
                ("group_key", Value::Integer(*g as i32)),
                ("tax_group_id", Value::Integer(*g as i32)),
                ("tax_group_name", Value::String(db.get_str(ctx, "account.tax.group", *g, "name").unwrap_or_default())),
                ("tax_group_amount", wire_num(*amount)),
                ("tax_group_base_amount", wire_num(*base)),
                ("formatted_tax_group_amount", Value::String(format_money(db, currency, *amount))),
                ("formatted_tax_group_base_amount", Value::String(format_money(db, currency, *base))),
                ("hide_base_amount", Value::Boolean(false)),
            ])
        })
        .collect();
    let mut by_subtotal = Map::new();
    by_subtotal.insert("Untaxed Amount".into(), Value::Array(group_values));
    value::structure([
        ("amount_untaxed", wire_num(untaxed)),
        ("amount_total", wire_num(total)),
        ("formatted_amount_total", Value::String(format_money(db, currency, total))),
        ("formatted_amount_untaxed", Value::String(format_money(db, currency, untaxed))),
        ("groups_by_subtotal", Value::Struct(by_subtotal)),
        (
            "subtotals",
            Value::Array(vec![value::structure([
                ("name", Value::String("Untaxed Amount".into())),
                ("amount", wire_num(untaxed)),
                ("formatted_amount", Value::String(format_money(db, currency, untaxed))),
            ])]),
        ),
        ("subtotals_order", Value::Array(vec![Value::String("Untaxed Amount".into())])),
        ("display_tax_base", Value::Boolean(display_tax_base)),
    ])
}

fn order_compute(db: &Db, ctx: &Ctx, id: i64, f: &FieldDef) -> OResult<Val> {
    Ok(match f.name.as_str() {
        "amount_untaxed" => Val::Num(order_amounts(db, ctx, id).0),
        "amount_tax" => Val::Num(order_amounts(db, ctx, id).1),
        "amount_total" => {
            let (u, t) = order_amounts(db, ctx, id);
            Val::Num(u + t)
        }
        "tax_totals" => Val::Wire(Box::new(tax_totals(db, ctx, id))),
        "invoice_status" => {
            if db.get_str(ctx, SO, id, "state").as_deref() != Some("sale") {
                Val::str("no")
            } else {
                let statuses: Vec<&str> =
                    product_lines(db, ctx, id).into_iter().map(|l| line_invoice_status(db, ctx, l)).collect();
                Val::str(if statuses.contains(&"to invoice") {
                    "to invoice"
                } else if !statuses.is_empty() && statuses.iter().all(|s| *s == "invoiced") {
                    "invoiced"
                } else {
                    "no"
                })
            }
        }
        "delivery_status" => {
            let all = ctx.with_active_test(false);
            let states: Vec<String> = db
                .get_ids(&all, SO, id, "picking_ids")
                .into_iter()
                .filter_map(|p| db.get_str(&all, "stock.picking", p, "state"))
                .collect();
            if states.is_empty() || states.iter().all(|s| s == "cancel") {
                Val::False
            } else if states.iter().all(|s| s == "done" || s == "cancel") {
                Val::str("full")
            } else if states.iter().any(|s| s == "done") {
                Val::str("partial")
            } else {
                Val::str("pending")
            }
        }
        "invoice_ids" => Val::Ids(order_invoices(db, ctx, id)),
        "invoice_count" => Val::Int(order_invoices(db, ctx, id).len() as i64),
        "delivery_count" => Val::Int(db.get_ids(ctx, SO, id, "picking_ids").len() as i64),
        "type_name" => Val::str(
            if matches!(db.get_str(ctx, SO, id, "state").as_deref(), Some("draft") | Some("sent") | Some("cancel")) {
                "Quotation"
            } else {
                "Sales Order"
            },
        ),
        _ => f.empty_read(),
    })
}

/// `action_confirm`: draft/sent orders only; state `sale`, `date_order` = now, delivery created.
pub fn action_confirm(db: &mut Db, ctx: &Ctx, ids: &[i64], _: &mut Args) -> OResult<Ret> {
    let bad: Vec<String> = ids
        .iter()
        .filter(|i| !matches!(db.get_str(ctx, SO, **i, "state").as_deref(), Some("draft") | Some("sent")))
        .map(|i| db.get_str(ctx, SO, *i, "name").unwrap_or_default())
        .collect();
    if !bad.is_empty() {
        return Err(OdooError::User(format!(
            "The following orders are not in a state requiring confirmation: {}",
            bad.join(", ")
        )));
    }
    for &id in ids {
        let missing_product = db.get_ids(ctx, SO, id, "order_line").into_iter().any(|l| {
            db.get(ctx, SOL, l, "display_type").is_ok_and(|v| v.is_false())
                && db.get_id(ctx, SOL, l, "product_id").is_none()
        });
        if missing_product {
            return Err(OdooError::User("A line on these orders missing a product, you cannot confirm it.".into()));
        }
    }
    let now = db.now();
    db.write(ctx, SO, ids, Vals::new().with("state", Val::str("sale")).with("date_order", Val::Str(now)))?;
    for &id in ids {
        stock::launch_for_order(db, ctx, id)?;
    }
    Ok(Ret::Value(Value::Boolean(true)))
}

/// `action_cancel`: the cancel wizard's action when a confirmed order is cancelled without
/// `disable_cancel_warning`, else cancels (draft invoices and open deliveries too).
pub fn action_cancel(db: &mut Db, ctx: &Ctx, ids: &[i64], _: &mut Args) -> OResult<Ret> {
    if ids.iter().any(|i| db.get_bool(ctx, SO, *i, "locked")) {
        return Err(OdooError::User("You cannot cancel a locked order. Please unlock it first.".into()));
    }
    let warn = !ctx.flag("disable_cancel_warning")
        && ids.iter().any(|i| db.get_str(ctx, SO, *i, "state").as_deref() != Some("draft"));
    if warn {
        let [id] = ids else {
            return Err(OdooError::value(format!(
                "Expected singleton: sale.order{}",
                crate::sandbox::openerp::error::py_tuple(ids)
            )));
        };
        let type_name = db.get_str(ctx, SO, *id, "type_name").unwrap_or_default();
        let context = value::structure([
            ("default_template_id", Value::Boolean(false)),
            ("default_order_id", Value::Integer(*id as i32)),
            ("mark_so_as_canceled", Value::Boolean(true)),
            (
                "default_email_layout_xmlid",
                Value::String("mail.mail_notification_layout_with_responsible_signature".into()),
            ),
            ("model_description", Value::String(type_name.clone())),
        ]);
        return Ok(Ret::Value(value::structure([
            ("name", Value::String(format!("Cancel {type_name}"))),
            ("view_mode", Value::String("form".into())),
            ("res_model", Value::String("sale.order.cancel".into())),
            ("view_id", Value::Integer(1)),
            ("type", Value::String("ir.actions.act_window".into())),
            ("context", context),
            ("target", Value::String("new".into())),
        ])));
    }
    cancel_orders(db, ctx, ids)?;
    Ok(Ret::Value(Value::Boolean(true)))
}

/// `_action_cancel`: cancels draft invoices and deliveries not done, then the orders.
pub fn cancel_orders(db: &mut Db, ctx: &Ctx, ids: &[i64]) -> OResult<()> {
    for &id in ids {
        for inv in order_invoices(db, ctx, id) {
            if db.get_str(ctx, "account.move", inv, "state").as_deref() == Some("draft") {
                db.write(ctx, "account.move", &[inv], Vals::new().with("state", Val::str("cancel")))?;
            }
        }
        for p in db.get_ids(&ctx.with_active_test(false), SO, id, "picking_ids") {
            if !matches!(db.get_str(ctx, "stock.picking", p, "state").as_deref(), Some("done") | Some("cancel")) {
                stock::cancel_picking(db, ctx, p)?;
            }
        }
    }
    db.write(ctx, SO, ids, Vals::new().with("state", Val::str("cancel")))
}

/// `action_draft`: cancelled or sent orders back to quotation.
pub fn action_draft(db: &mut Db, ctx: &Ctx, ids: &[i64], _: &mut Args) -> OResult<Ret> {
    let orders: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|i| matches!(db.get_str(ctx, SO, *i, "state").as_deref(), Some("cancel") | Some("sent")))
        .collect();
    if !orders.is_empty() {
        db.write(ctx, SO, &orders, Vals::new().with("state", Val::str("draft")))?;
    }
    Ok(Ret::Value(Value::Boolean(true)))
}
