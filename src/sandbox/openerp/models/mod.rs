//! The Odoo 17 models the connector uses, with their business behaviour.
//!
//! * [`base`]: companies, users, currencies, countries and states, partners, units, languages,
//!   installed modules.
//! * [`product`]: categories, templates and variants, attribute values, pricelists.
//! * [`account`]: taxes (and Odoo's tax computation), payment terms, customer invoices.
//! * [`sale`]: sales orders and their lines (`action_confirm`, `action_cancel`, …).
//! * [`stock`]: warehouses, locations, quants, pickings, moves, quantities per warehouse,
//!   reservation and deliveries.
//! * [`addon`]: the `magento_connector` addon's models, built from `openerp_addon/contract.json`.
//!
//! Everything here goes through the ORM in `super::orm`; nothing touches the network.

pub mod account;
pub mod addon;
pub mod base;
pub mod product;
pub mod sale;
pub mod stock;

use rust_decimal::{Decimal, RoundingStrategy};

use super::orm::model::{ModelDef, Registry};
use super::orm::{Ctx, Db};

/// Which optional Odoo modules the emulated database has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modules {
    /// `delivery` (adds `stock.picking.carrier_tracking_ref`).
    pub delivery: bool,
}

impl Default for Modules {
    fn default() -> Self {
        Modules { delivery: true }
    }
}

/// Builds every model definition.
pub fn registry(modules: Modules) -> Result<Registry, String> {
    let contract = addon::Contract::load()?;
    let mut defs: Vec<ModelDef> = Vec::new();
    defs.extend(base::models());
    defs.extend(product::models(&contract)?);
    defs.extend(account::models(&contract)?);
    defs.extend(sale::models());
    defs.extend(stock::models(modules));
    defs.extend(contract.new_models()?);
    Ok(Registry::new(defs))
}

/// The company currency (company 1).
pub fn company_currency(db: &Db) -> Option<i64> {
    db.get_id(&Ctx::user(1), "res.company", 1, "currency_id")
}

/// The rounding step of a currency (0.01 when unknown).
pub fn currency_rounding(db: &Db, currency: Option<i64>) -> Decimal {
    currency
        .map(|c| db.get_num(&Ctx::user(1), "res.currency", c, "rounding"))
        .filter(|r| !r.is_zero())
        .unwrap_or(Decimal::new(1, 2))
}

/// Rounds half away from zero to a multiple of `step` (Odoo's `float_round`).
pub fn round_to(d: Decimal, step: Decimal) -> Decimal {
    if step.is_zero() {
        return d;
    }
    let q = (d / step).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    (q * step).normalize()
}

/// Rounds an amount to a currency.
pub fn round_currency(db: &Db, currency: Option<i64>, d: Decimal) -> Decimal {
    round_to(d, currency_rounding(db, currency))
}

/// Formats an amount as Odoo's `formatLang(..., currency_obj=...)`: `$ 234.99` / `234.99 €`
/// with a no-break space and thousands separators.
pub fn format_money(db: &Db, currency: Option<i64>, d: Decimal) -> String {
    let ctx = Ctx::user(1);
    let digits = currency.map(|c| db.get_num(&ctx, "res.currency", c, "decimal_places")).unwrap_or(Decimal::TWO);
    let digits = u32::try_from(digits.trunc().mantissa()).unwrap_or(2);
    let rounded = d.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.*}", digits as usize, rounded.abs());
    let (int_part, frac) = text.split_once('.').map_or((text.as_str(), ""), |(a, b)| (a, b));
    let mut grouped = String::new();
    for (i, ch) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let number = format!(
        "{}{}{}{}",
        if d.is_sign_negative() && !rounded.is_zero() { "-" } else { "" },
        grouped,
        if frac.is_empty() { "" } else { "." },
        frac
    );
    let Some(c) = currency else { return number };
    let symbol = db.get_str(&ctx, "res.currency", c, "symbol").unwrap_or_default();
    let before = db.get_str(&ctx, "res.currency", c, "position").as_deref() == Some("before");
    if before { format!("{symbol}\u{a0}{number}") } else { format!("{number}\u{a0}{symbol}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_up() {
        assert_eq!(round_to(Decimal::new(29985, 4), Decimal::new(1, 2)), Decimal::new(300, 2));
        assert_eq!(round_to(Decimal::new(-125, 3), Decimal::new(1, 2)), Decimal::new(-13, 2));
        assert_eq!(round_to(Decimal::new(12345, 3), Decimal::new(5, 2)), Decimal::new(1235, 2));
    }

    #[test]
    fn the_registry_builds() {
        let reg = registry(Modules::default()).unwrap();
        for m in ["res.partner", "product.product", "sale.order", "stock.picking", "magento.backend", "account.move"] {
            assert!(reg.get(m).is_some(), "{m}");
        }
        let pp = reg.get("product.product").unwrap();
        assert!(pp.field("list_price").is_some_and(|f| !f.is_stored()));
        assert!(pp.field("default_code").is_some_and(|f| f.is_stored()));
        let no_delivery = registry(Modules { delivery: false }).unwrap();
        assert!(no_delivery.get("stock.picking").unwrap().field("carrier_tracking_ref").is_none());
    }
}
