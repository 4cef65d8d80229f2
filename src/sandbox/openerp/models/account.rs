//! Taxes, tax groups, payment terms, journals and customer invoices (`account.move`).
//!
//! [`compute_all`] is Odoo 17's `account.tax.compute_all` for percent, fixed and division taxes,
//! price-included or not, with the company's default `round_per_line`: the base is rounded to
//! the currency, price-included taxes are taken out of it (the last one by subtraction so the
//! total is kept), and each tax amount is rounded.

use std::collections::HashMap;

use dxr::Value;
use rust_decimal::Decimal;

use super::addon::Contract;
use super::{company_currency, currency_rounding, round_to};
use crate::sandbox::openerp::error::{OResult, OdooError};
use crate::sandbox::openerp::orm::model::{FieldDef, ModelBuilder, ModelDef, Ret};
use crate::sandbox::openerp::orm::rpc::Args;
use crate::sandbox::openerp::orm::val::{Val, Vals};
use crate::sandbox::openerp::orm::{Ctx, Db};

fn company(_: &Db, _: &Ctx) -> Val {
    Val::Id(1)
}

fn company_currency_default(db: &Db, _: &Ctx) -> Val {
    Val::opt_id(company_currency(db))
}

fn today(db: &Db, _: &Ctx) -> Val {
    Val::Str(db.today())
}

/// The model definitions of this module.
pub fn models(contract: &Contract) -> Result<Vec<ModelDef>, String> {
    Ok(vec![tax_group(), tax(contract)?, payment_term(), journal(), moves(), move_lines()])
}

fn tax_group() -> ModelDef {
    let mut b = ModelBuilder::new("account.tax.group", "Tax Group");
    b.char("name", "Name").required().translate();
    b.integer("sequence", "Sequence").default(Val::Int(10));
    b.m2o("company_id", "Company", "res.company").required().default_fn(company);
    b.order("sequence asc, id");
    b.build()
}

fn tax(contract: &Contract) -> Result<ModelDef, String> {
    let mut b = ModelBuilder::new("account.tax", "Tax");
    b.char("name", "Tax Name").required().translate();
    b.selection("type_tax_use", "Tax Type", &[("sale", "Sales"), ("purchase", "Purchases"), ("none", "None")])
        .required()
        .default(Val::str("sale"));
    b.selection(
        "amount_type",
        "Tax Computation",
        &[
            ("group", "Group of Taxes"),
            ("fixed", "Fixed"),
            ("percent", "Percentage of Price"),
            ("division", "Percentage of Price Tax Included"),
        ],
    )
    .required()
    .default(Val::str("percent"));
    b.float("amount", "Amount").required();
    b.boolean("price_include", "Included in Price");
    b.boolean("include_base_amount", "Affect Base of Subsequent Taxes");
    b.boolean("active", "Active").default(Val::Bool(true));
    b.m2o("company_id", "Company", "res.company").required().default_fn(company);
    b.integer("sequence", "Sequence").required().default(Val::Int(1));
    b.char("description", "Description");
    b.char("invoice_label", "Label on Invoices");
    b.m2o("tax_group_id", "Tax Group", "account.tax.group");
    b.m2o("country_id", "Country", "res.country");
    b.order("sequence,id");
    contract.extend(&mut b, "account.tax")?;
    Ok(b.build())
}

fn payment_term() -> ModelDef {
    let mut b = ModelBuilder::new("account.payment.term", "Payment Terms");
    b.char("name", "Payment Terms").required().translate();
    b.boolean("active", "Active").default(Val::Bool(true));
    b.html("note", "Description on the Invoice").translate();
    b.integer("sequence", "Sequence").required().default(Val::Int(10));
    b.m2o("company_id", "Company", "res.company");
    b.integer("days", "Days");
    b.order("sequence, id");
    b.build()
}

fn journal() -> ModelDef {
    let mut b = ModelBuilder::new("account.journal", "Journal");
    b.char("name", "Journal Name").required().translate();
    b.char("code", "Short Code").required();
    b.selection(
        "type",
        "Type",
        &[
            ("sale", "Sales"),
            ("purchase", "Purchase"),
            ("cash", "Cash"),
            ("bank", "Bank"),
            ("general", "Miscellaneous"),
        ],
    )
    .required();
    b.m2o("company_id", "Company", "res.company").required().default_fn(company);
    b.boolean("active", "Active").default(Val::Bool(true));
    b.order("sequence, type, code");
    b.integer("sequence", "Sequence").default(Val::Int(10));
    b.build()
}

/// Invoice types.
pub const MOVE_TYPES: &[(&str, &str)] = &[
    ("entry", "Journal Entry"),
    ("out_invoice", "Customer Invoice"),
    ("out_refund", "Customer Credit Note"),
    ("in_invoice", "Vendor Bill"),
    ("in_refund", "Vendor Credit Note"),
];

fn moves() -> ModelDef {
    let mut b = ModelBuilder::new("account.move", "Journal Entry");
    b.char("name", "Number").default(Val::str("/")).index();
    b.selection("move_type", "Type", MOVE_TYPES).required().default(Val::str("entry"));
    b.selection("state", "Status", &[("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")])
        .required()
        .default(Val::str("draft"));
    b.m2o("partner_id", "Partner", "res.partner").restrict();
    b.date("date", "Date").required().default_fn(today);
    b.date("invoice_date", "Invoice/Bill Date");
    b.date("invoice_date_due", "Due Date");
    b.char("invoice_origin", "Origin");
    b.char("ref", "Reference");
    b.m2o("currency_id", "Currency", "res.currency").required().default_fn(company_currency_default);
    b.m2o("company_id", "Company", "res.company").required().default_fn(company);
    b.m2o("journal_id", "Journal", "account.journal").required().default(Val::Id(1));
    b.m2o("invoice_payment_term_id", "Payment Terms", "account.payment.term");
    b.m2o("invoice_user_id", "Salesperson", "res.users");
    b.o2m("invoice_line_ids", "Invoice lines", "account.move.line", "move_id");
    b.o2m("line_ids", "Journal Items", "account.move.line", "move_id");
    b.monetary("amount_untaxed", "Untaxed Amount").computed();
    b.monetary("amount_tax", "Tax").computed();
    b.monetary("amount_total", "Total").computed();
    b.monetary("amount_residual", "Amount Due").computed();
    b.selection(
        "payment_state",
        "Payment Status",
        &[
            ("not_paid", "Not Paid"),
            ("in_payment", "In Payment"),
            ("paid", "Paid"),
            ("partial", "Partially Paid"),
            ("reversed", "Reversed"),
            ("invoicing_legacy", "Invoicing App Legacy"),
        ],
    )
    .default(Val::str("not_paid"));
    b.html("narration", "Terms and Conditions");
    b.order("date desc, name desc, id desc");
    b.hooks().display_name = Some(move_display_name);
    b.hooks().compute = Some(move_compute);
    b.hooks().before_unlink = Some(|db, ctx, ids| {
        for &id in ids {
            if db.get_str(ctx, "account.move", id, "state").as_deref() == Some("posted") {
                return Err(OdooError::User("You cannot delete an entry which has been posted once.".into()));
            }
        }
        Ok(())
    });
    b.method("action_post", action_post);
    b.method("button_cancel", button_cancel);
    b.method("button_draft", button_draft);
    b.build()
}

fn move_lines() -> ModelDef {
    let mut b = ModelBuilder::new("account.move.line", "Journal Item");
    b.m2o("move_id", "Journal Entry", "account.move").required().cascade().index();
    b.integer("sequence", "Sequence").default(Val::Int(10));
    b.m2o("product_id", "Product", "product.product").restrict();
    b.char("name", "Label");
    b.float("quantity", "Quantity").default(Val::Num(Decimal::ONE));
    b.float("price_unit", "Unit Price");
    b.float("discount", "Discount (%)");
    b.m2m("tax_ids", "Taxes", "account.tax");
    b.m2o("product_uom_id", "Unit of Measure", "uom.uom");
    b.m2m("sale_line_ids", "Sales Order Lines", "sale.order.line");
    b.selection(
        "display_type",
        "Display Type",
        &[
            ("product", "Product"),
            ("cogs", "Cost of Goods Sold"),
            ("tax", "Tax"),
            ("rounding", "Rounding"),
            ("payment_term", "Payment Term"),
            ("line_section", "Section"),
            ("line_note", "Note"),
            ("epd", "Early Payment Discount"),
        ],
    )
    .required()
    .default(Val::str("product"));
    b.monetary("price_subtotal", "Subtotal").computed();
    b.monetary("price_total", "Total").computed();
    b.field("parent_state", "Status", crate::sandbox::openerp::orm::model::FType::Selection)
        .related("move_id.state")
        .selection = vec![
        ("draft".into(), "Draft".into()),
        ("posted".into(), "Posted".into()),
        ("cancel".into(), "Cancelled".into()),
    ];
    b.m2o("currency_id", "Currency", "res.currency").related("move_id.currency_id");
    b.order("date desc, move_name desc, id");
    b.hooks().compute = Some(|db, ctx, id, f| {
        let line = move_line_amounts(db, ctx, id);
        Ok(match f.name.as_str() {
            "price_subtotal" => Val::Num(line.total_excluded),
            "price_total" => Val::Num(line.total_included),
            _ => f.empty_read(),
        })
    });
    b.order("sequence, id");
    b.build()
}

fn move_display_name(db: &Db, ctx: &Ctx, id: i64) -> String {
    let m = "account.move";
    let name = db.get_str(ctx, m, id, "name").unwrap_or_default();
    if db.get_str(ctx, m, id, "state").as_deref() == Some("draft") {
        let label = match db.get_str(ctx, m, id, "move_type").as_deref() {
            Some("out_invoice") => "Draft Invoice",
            Some("out_refund") => "Draft Credit Note",
            Some("in_invoice") => "Draft Bill",
            Some("in_refund") => "Draft Vendor Credit Note",
            _ => "Draft Entry",
        };
        if name.is_empty() || name == "/" {
            return format!("{label} (* {id})");
        }
        return format!("{label} {name}");
    }
    name
}

fn move_line_amounts(db: &Db, ctx: &Ctx, line: i64) -> TaxResult {
    let l = "account.move.line";
    let currency = db.get_id(ctx, l, line, "move_id").and_then(|m| db.get_id(ctx, "account.move", m, "currency_id"));
    let price = db.get_num(ctx, l, line, "price_unit")
        * (Decimal::ONE - db.get_num(ctx, l, line, "discount") / Decimal::ONE_HUNDRED);
    let taxes = db.get_ids(&ctx.with_active_test(false), l, line, "tax_ids");
    compute_all(db, &taxes, price, db.get_num(ctx, l, line, "quantity"), currency)
}

fn move_compute(db: &Db, ctx: &Ctx, id: i64, f: &FieldDef) -> OResult<Val> {
    let m = "account.move";
    let lines = db.get_ids(ctx, m, id, "invoice_line_ids");
    let (mut untaxed, mut total) = (Decimal::ZERO, Decimal::ZERO);
    for l in &lines {
        if db.get_str(ctx, "account.move.line", *l, "display_type").as_deref() != Some("product") {
            continue;
        }
        let r = move_line_amounts(db, ctx, *l);
        untaxed += r.total_excluded;
        total += r.total_included;
    }
    Ok(match f.name.as_str() {
        "amount_untaxed" => Val::Num(untaxed),
        "amount_tax" => Val::Num(total - untaxed),
        "amount_total" => Val::Num(total),
        "amount_residual" => {
            let open = db.get_str(ctx, m, id, "state").as_deref() == Some("posted")
                && db.get_str(ctx, m, id, "payment_state").as_deref() != Some("paid");
            Val::Num(if open { total } else { Decimal::ZERO })
        }
        _ => f.empty_read(),
    })
}

/// Posts draft invoices (numbering them `INV/<year>/<n>`); Odoo 17 returns `False`.
pub fn action_post(db: &mut Db, ctx: &Ctx, ids: &[i64], _: &mut Args) -> OResult<Ret> {
    let m = "account.move";
    for &id in ids {
        let state = db.get_str(ctx, m, id, "state").unwrap_or_default();
        if state == "posted" {
            return Err(OdooError::User(format!(
                "The entry {} (id {id}) is already posted.",
                db.get_str(ctx, m, id, "name").unwrap_or_default()
            )));
        }
        if db.get_ids(ctx, m, id, "invoice_line_ids").is_empty() {
            return Err(OdooError::User("You need to add a line before posting.".into()));
        }
        let date = db.get_str(ctx, m, id, "invoice_date").unwrap_or_else(|| db.today());
        let mut vals = Vals::new()
            .with("state", Val::str("posted"))
            .with("invoice_date", Val::Str(date.clone()))
            .with("date", Val::Str(date.clone()));
        let name = db.get_str(ctx, m, id, "name").unwrap_or_default();
        if name.is_empty() || name == "/" {
            let year = date.get(..4).unwrap_or("2026").to_owned();
            let prefix =
                if db.get_str(ctx, m, id, "move_type").as_deref() == Some("out_refund") { "RINV" } else { "INV" };
            let n = db.next_seq(&format!("account.move/{prefix}/{year}"));
            vals.set("name", Val::Str(format!("{prefix}/{year}/{n:05}")));
        }
        if db.get(ctx, m, id, "invoice_date_due")?.is_false() {
            vals.set("invoice_date_due", Val::Str(date));
        }
        db.write(ctx, m, &[id], vals)?;
    }
    Ok(Ret::Value(Value::Boolean(false)))
}

/// Cancels draft entries; returns `None` in Odoo 17 (fault after the work is done).
pub fn button_cancel(db: &mut Db, ctx: &Ctx, ids: &[i64], _: &mut Args) -> OResult<Ret> {
    for &id in ids {
        if db.get_str(ctx, "account.move", id, "state").as_deref() != Some("draft") {
            return Err(OdooError::User("Only draft journal entries can be cancelled.".into()));
        }
    }
    db.write(ctx, "account.move", ids, Vals::new().with("state", Val::str("cancel")))?;
    Ok(Ret::None)
}

/// Resets entries to draft; returns `None` in Odoo 17.
pub fn button_draft(db: &mut Db, ctx: &Ctx, ids: &[i64], _: &mut Args) -> OResult<Ret> {
    db.write(ctx, "account.move", ids, Vals::new().with("state", Val::str("draft")))?;
    Ok(Ret::None)
}

/// One tax amount of a [`TaxResult`].
#[derive(Debug, Clone, PartialEq)]
pub struct TaxLine {
    /// The tax.
    pub tax_id: i64,
    /// Amount (rounded to the currency).
    pub amount: Decimal,
    /// Base it was computed on.
    pub base: Decimal,
}

/// The result of [`compute_all`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaxResult {
    /// Untaxed total.
    pub total_excluded: Decimal,
    /// Total with taxes.
    pub total_included: Decimal,
    /// Per tax.
    pub taxes: Vec<TaxLine>,
}

struct Tax {
    id: i64,
    amount_type: String,
    amount: Decimal,
    price_include: bool,
    include_base_amount: bool,
}

/// Odoo 17 `account.tax.compute_all(price_unit, currency, quantity)` with per-line rounding.
pub fn compute_all(
    db: &Db,
    tax_ids: &[i64],
    price_unit: Decimal,
    quantity: Decimal,
    currency: Option<i64>,
) -> TaxResult {
    let ctx = Ctx::user(1).with_active_test(false);
    let t = "account.tax";
    let mut taxes: Vec<(i64, i64, Tax)> = tax_ids
        .iter()
        .filter(|i| db.exists(t, **i))
        .map(|&id| {
            let seq = db.get(&ctx, t, id, "sequence").map(|v| v.int()).unwrap_or(1);
            (
                seq,
                id,
                Tax {
                    id,
                    amount_type: db.get_str(&ctx, t, id, "amount_type").unwrap_or_else(|| "percent".into()),
                    amount: db.get_num(&ctx, t, id, "amount"),
                    price_include: db.get_bool(&ctx, t, id, "price_include"),
                    include_base_amount: db.get_bool(&ctx, t, id, "include_base_amount"),
                },
            )
        })
        .collect();
    taxes.sort_by_key(|(seq, id, _)| (*seq, *id));
    let taxes: Vec<Tax> = taxes.into_iter().map(|(_, _, t)| t).collect();
    let step = currency_rounding(db, currency);
    let round = |d: Decimal| round_to(d, step);
    let hundred = Decimal::ONE_HUNDRED;
    let recompute = |base: Decimal, fixed: Decimal, pct: Decimal, div: Decimal| {
        (base - fixed) / (Decimal::ONE + pct / hundred) * (hundred - div) / hundred
    };

    let mut base = round(price_unit * quantity);
    let mut sign = Decimal::ONE;
    if base.is_sign_negative() && !base.is_zero() {
        sign = -Decimal::ONE;
        base = -base;
    }
    let (mut fixed, mut pct, mut div) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut store = true;
    let mut checkpoints: HashMap<usize, Decimal> = HashMap::new();
    for (i, tax) in taxes.iter().enumerate().rev() {
        if tax.include_base_amount {
            base = recompute(base, fixed, pct, div);
            fixed = Decimal::ZERO;
            pct = Decimal::ZERO;
            div = Decimal::ZERO;
            store = true;
        }
        if tax.price_include {
            match tax.amount_type.as_str() {
                "percent" => pct += tax.amount,
                "division" => div += tax.amount,
                "fixed" => fixed += quantity.abs() * tax.amount,
                _ => {}
            }
            if store && !tax.amount.is_zero() {
                checkpoints.insert(i, base);
                store = false;
            }
        }
    }
    let total_excluded = round(recompute(base, fixed, pct, div));
    let mut base = total_excluded;
    let mut total_included = total_excluded;
    let mut cumulated = Decimal::ZERO;
    let mut out = Vec::new();
    for (i, tax) in taxes.iter().enumerate() {
        let amount = match (tax.price_include, checkpoints.get(&i)) {
            (true, Some(cp)) => {
                let a = *cp - (base + cumulated);
                cumulated = Decimal::ZERO;
                a
            }
            _ => match tax.amount_type.as_str() {
                "fixed" => quantity.abs() * tax.amount,
                "division" if tax.amount != hundred => base / (Decimal::ONE - tax.amount / hundred) - base,
                "percent" => base * tax.amount / hundred,
                _ => Decimal::ZERO,
            },
        };
        let amount = round(amount);
        if tax.price_include && !checkpoints.contains_key(&i) {
            cumulated += amount;
        }
        out.push(TaxLine { tax_id: tax.id, amount: sign * amount, base: sign * round(base) });
        if tax.include_base_amount {
            base += amount;
        }
        total_included += amount;
    }
    TaxResult { total_excluded: sign * total_excluded, total_included: sign * round(total_included), taxes: out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::openerp::{Options, build_db};

    fn tax(db: &mut Db, amount: &str, kind: &str, included: bool, affects_base: bool) -> i64 {
        let vals = Vals::new()
            .with("name", Val::Str(format!("{kind} {amount}")))
            .with("amount", Val::Num(amount.parse().unwrap()))
            .with("amount_type", Val::str(kind))
            .with("price_include", Val::Bool(included))
            .with("include_base_amount", Val::Bool(affects_base));
        db.create(&Ctx::user(2), "account.tax", vals).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn compute_all_like_odoo() {
        let (mut db, _) = build_db(&Options::default()).unwrap();
        let usd = Some(1);
        let incl = tax(&mut db, "20", "percent", true, false);
        let r = compute_all(&db, &[incl], d("120"), d("1"), usd);
        assert_eq!((r.total_excluded, r.total_included, r.taxes[0].amount), (d("100"), d("120"), d("20")));
        let (a, b) = (tax(&mut db, "10", "percent", false, false), tax(&mut db, "5", "percent", false, false));
        let r = compute_all(&db, &[a, b], d("33.33"), d("3"), usd);
        assert_eq!(
            (r.total_excluded, r.taxes[0].amount, r.taxes[1].amount, r.total_included),
            (d("99.99"), d("10"), d("5"), d("114.99"))
        );
        let fixed = tax(&mut db, "2", "fixed", false, false);
        let r = compute_all(&db, &[fixed], d("10"), d("3"), usd);
        assert_eq!((r.total_excluded, r.total_included), (d("30"), d("36")));
        let div = tax(&mut db, "10", "division", false, false);
        let r = compute_all(&db, &[div], d("90"), d("1"), usd);
        assert_eq!(r.total_included, d("100"));
        let eco = tax(&mut db, "2", "percent", false, true);
        db.write(&Ctx::user(2), "account.tax", &[eco], Vals::new().with("sequence", Val::Int(0))).unwrap();
        let r = compute_all(&db, &[eco, a], d("100"), d("1"), usd);
        assert_eq!(
            (r.taxes[0].amount, r.taxes[1].amount),
            (d("2"), d("10.2")),
            "a tax affecting the base of the next one"
        );
        let r = compute_all(&db, &[incl], d("-120"), d("1"), usd);
        assert_eq!((r.total_excluded, r.total_included), (d("-100"), d("-120")), "refund lines keep their sign");
    }
}
