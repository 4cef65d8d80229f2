//! Pricelist prices, evaluated here: Odoo 17 has no public RPC method for them
//! (`_get_products_price` is private), so the rules (`product.pricelist.item`) are read and
//! applied the way `product.pricelist._compute_price_rule` and
//! `product.pricelist.item._compute_price` do in Odoo 17.
//!
//! Supported, for a quantity of 1:
//! * scopes: all products, category (the product's category or any parent), template, variant;
//! * validity dates (`date_start` ≤ now ≤ `date_end`);
//! * fixed price, percentage discount, formula (discount, rounding, surcharge, min/max margin);
//! * bases: sales price (variant price, extras included), cost, another pricelist in the same
//!   currency (chains up to [`MAX_CHAIN`]).
//!
//! Not supported (a clear [`ErrorKind::Unsupported`] error, never a wrong price): currency
//! conversion (pricelist currency ≠ product currency, or a base pricelist in another currency),
//! cyclic or deeper chains. Not exported: tier prices (rules with `min_quantity` > 1 do not
//! apply to a quantity of 1), rule fields added by other modules (rental, subscriptions,
//! website). The evaluation follows the Odoo 17 source; for other versions the same fields are
//! read and the result is as good as those versions keep the 17 semantics.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use dxr::Value;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::openerp::client::OpenErpClient;
use crate::openerp::error::{Error, ErrorKind};
use crate::openerp::wire::{Context, Domain};
use crate::rpc::value::{DecodeError, Map, Record};

/// Model of pricelists.
pub const PRICELIST_MODEL: &str = "product.pricelist";
/// Model of pricelist rules.
pub const ITEM_MODEL: &str = "product.pricelist.item";
/// Model of currencies.
pub const CURRENCY_MODEL: &str = "res.currency";

/// Pricelist fields read.
pub const PRICELIST_FIELDS: &[&str] = &["name", "currency_id"];
/// Rule fields read.
pub const ITEM_FIELDS: &[&str] = &[
    "pricelist_id",
    "applied_on",
    "categ_id",
    "product_tmpl_id",
    "product_id",
    "min_quantity",
    "date_start",
    "date_end",
    "compute_price",
    "fixed_price",
    "percent_price",
    "base",
    "base_pricelist_id",
    "price_discount",
    "price_surcharge",
    "price_round",
    "price_min_margin",
    "price_max_margin",
];
/// Currency fields read.
pub const CURRENCY_FIELDS: &[&str] = &["name", "decimal_places", "rounding"];
/// Product fields read to price a product.
pub const PRODUCT_PRICE_FIELDS: &[&str] =
    &["product_tmpl_id", "categ_id", "lst_price", "standard_price", "currency_id"];

/// Longest chain of "based on another pricelist" followed.
pub const MAX_CHAIN: usize = 8;

/// A currency and its rounding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency {
    /// Id.
    pub id: i64,
    /// Code (`USD`).
    pub name: String,
    /// Rounding step (`0.01`).
    pub rounding: Decimal,
}

impl Currency {
    /// Decodes one row.
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, CURRENCY_MODEL);
        let rounding = match r.opt_decimal("rounding")? {
            Some(x) if x > Decimal::ZERO => x,
            _ => Decimal::new(1, u32::try_from(r.opt_i64("decimal_places")?.unwrap_or(2).clamp(0, 12)).unwrap_or(2)),
        };
        Ok(Currency { id: r.i64("id")?, name: r.string_or_empty("name")?, rounding })
    }

    /// Rounds an amount to this currency (half away from zero, as Odoo's `float_round`).
    pub fn round(&self, amount: Decimal) -> Decimal {
        round_to_step(amount, self.rounding)
    }
}

/// `x` rounded to a multiple of `step`, halves away from zero; `x` itself when `step` ≤ 0.
pub fn round_to_step(x: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return x;
    }
    ((x / step).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero) * step).normalize()
}

/// Which products a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleScope {
    /// Every product (`3_global`).
    Global,
    /// A category and its children (`2_product_category`).
    Category(i64),
    /// A template (`1_product`).
    Template(i64),
    /// A variant (`0_product_variant`).
    Variant(i64),
}

impl RuleScope {
    fn rank(self) -> u8 {
        match self {
            RuleScope::Variant(_) => 0,
            RuleScope::Template(_) => 1,
            RuleScope::Category(_) => 2,
            RuleScope::Global => 3,
        }
    }
}

/// What a computed rule starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleBase {
    /// The variant's sales price (`lst_price`: list price + attribute extras).
    ListPrice,
    /// The cost.
    StandardPrice,
    /// The price in another pricelist.
    Pricelist(i64),
}

/// How a rule computes the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleCompute {
    /// This price.
    Fixed(Decimal),
    /// Base minus this percentage.
    Percentage(Decimal),
    /// Base minus `discount` %, rounded to a multiple of `round`, plus `surcharge`, kept within
    /// base + `min_margin` … base + `max_margin` (zero values are ignored, as in Odoo).
    Formula {
        /// Discount in percent.
        discount: Decimal,
        /// Rounding step.
        round: Decimal,
        /// Amount added after rounding.
        surcharge: Decimal,
        /// Minimum margin over the base.
        min_margin: Decimal,
        /// Maximum margin over the base.
        max_margin: Decimal,
    },
}

/// One pricelist rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricelistRule {
    /// Id.
    pub id: i64,
    /// Pricelist it belongs to.
    pub pricelist_id: i64,
    /// Products it applies to.
    pub scope: RuleScope,
    /// Smallest quantity it applies to.
    pub min_quantity: Decimal,
    /// Valid from (UTC).
    pub date_start: Option<DateTime<Utc>>,
    /// Valid until, inclusive (UTC).
    pub date_end: Option<DateTime<Utc>>,
    /// Base of computed prices.
    pub base: RuleBase,
    /// Computation.
    pub compute: RuleCompute,
}

impl PricelistRule {
    /// Decodes one row read with [`ITEM_FIELDS`].
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, ITEM_MODEL);
        let id_of = |field: &str| -> Result<i64, DecodeError> {
            r.many2one(field)?
                .map(|x| x.id)
                .ok_or_else(|| DecodeError::missing(format!("{ITEM_MODEL}.{field}"), "a record"))
        };
        let applied_on = r.string("applied_on")?;
        let scope = match applied_on.as_str() {
            "3_global" => RuleScope::Global,
            "2_product_category" => RuleScope::Category(id_of("categ_id")?),
            "1_product" => RuleScope::Template(id_of("product_tmpl_id")?),
            "0_product_variant" => RuleScope::Variant(id_of("product_id")?),
            _ => {
                return Err(DecodeError::new(
                    format!("{ITEM_MODEL}.applied_on"),
                    "a known scope",
                    &Value::String(applied_on),
                ));
            }
        };
        let base_raw = r.opt_string("base")?.unwrap_or_else(|| "list_price".into());
        let base = match base_raw.as_str() {
            "list_price" => RuleBase::ListPrice,
            "standard_price" => RuleBase::StandardPrice,
            "pricelist" => match r.many2one("base_pricelist_id")? {
                Some(p) => RuleBase::Pricelist(p.id),
                // Odoo falls back to the sales price when no other pricelist is set.
                None => RuleBase::ListPrice,
            },
            _ => {
                return Err(DecodeError::new(
                    format!("{ITEM_MODEL}.base"),
                    "list_price, standard_price or pricelist",
                    &Value::String(base_raw),
                ));
            }
        };
        let compute_raw = r.string("compute_price")?;
        let compute = match compute_raw.as_str() {
            "fixed" => RuleCompute::Fixed(r.decimal_or_zero("fixed_price")?),
            "percentage" => RuleCompute::Percentage(r.decimal_or_zero("percent_price")?),
            "formula" => RuleCompute::Formula {
                discount: r.decimal_or_zero("price_discount")?,
                round: r.decimal_or_zero("price_round")?,
                surcharge: r.decimal_or_zero("price_surcharge")?,
                min_margin: r.decimal_or_zero("price_min_margin")?,
                max_margin: r.decimal_or_zero("price_max_margin")?,
            },
            _ => {
                return Err(DecodeError::new(
                    format!("{ITEM_MODEL}.compute_price"),
                    "fixed, percentage or formula",
                    &Value::String(compute_raw),
                ));
            }
        };
        Ok(PricelistRule {
            id: r.i64("id")?,
            pricelist_id: id_of("pricelist_id")?,
            scope,
            min_quantity: r.decimal_or_zero("min_quantity")?,
            date_start: r.opt_datetime("date_start")?,
            date_end: end_of(&r, "date_end")?,
            base,
            compute,
        })
    }

    fn valid_at(&self, at: DateTime<Utc>) -> bool {
        self.date_start.is_none_or(|s| s <= at) && self.date_end.is_none_or(|e| e >= at)
    }

    fn category_rank(&self, p: &PriceInput) -> Option<usize> {
        match self.scope {
            RuleScope::Global => Some(0),
            RuleScope::Category(c) => p.category_path.iter().position(|x| *x == c),
            RuleScope::Template(t) => (p.template_id == Some(t)).then_some(0),
            RuleScope::Variant(v) => (p.product_id == v).then_some(0),
        }
    }
}

/// `date_end` is a datetime in 16+ but a date in older versions: a bare date means the whole day.
fn end_of(r: &Record<'_>, field: &str) -> Result<Option<DateTime<Utc>>, DecodeError> {
    let date_only = matches!(r.get(field), Some(Value::String(s)) if s.trim().len() == 10);
    Ok(r.opt_datetime(field)?.map(|d| if date_only { d + Duration::seconds(86_399) } else { d }))
}

/// A pricelist with its rules and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricelist {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Currency of its prices.
    pub currency: Currency,
    /// Rules (any order; evaluation sorts them like Odoo).
    pub rules: Vec<PricelistRule>,
}

/// What is needed to price one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceInput {
    /// Variant id.
    pub product_id: i64,
    /// Template id.
    pub template_id: Option<i64>,
    /// The product's category and its parents, nearest first.
    pub category_path: Vec<i64>,
    /// Variant sales price (`lst_price`).
    pub list_price: Decimal,
    /// Cost (`standard_price`).
    pub standard_price: Decimal,
    /// Currency of those prices (the company's); `None` = assume the pricelist's.
    pub currency_id: Option<i64>,
}

impl PriceInput {
    /// Builds the input from a row read with [`PRODUCT_PRICE_FIELDS`] and the category's
    /// `parent_path` (`"1/2/8/"`), if known.
    pub fn from_map(m: &Map, parent_path: Option<&str>) -> Result<Self, DecodeError> {
        let r = Record::new(m, "product.product");
        let categ = r.many2one("categ_id")?.map(|c| c.id);
        let mut category_path: Vec<i64> = parent_path
            .map(|p| p.split('/').filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect())
            .unwrap_or_default();
        category_path.reverse();
        if let Some(c) = categ
            && category_path.first() != Some(&c)
        {
            category_path.retain(|x| *x != c);
            category_path.insert(0, c);
        }
        Ok(PriceInput {
            product_id: r.i64("id")?,
            template_id: r.many2one("product_tmpl_id")?.map(|t| t.id),
            category_path,
            list_price: r.decimal_or_zero("lst_price")?,
            standard_price: r.decimal_or_zero("standard_price")?,
            currency_id: r.many2one("currency_id")?.map(|c| c.id),
        })
    }
}

/// Pricelists needed to price products in one of them (the pricelist and every pricelist its
/// rules are based on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceBook {
    /// Pricelists by id.
    pub pricelists: BTreeMap<i64, Pricelist>,
}

impl PriceBook {
    /// The unit price of `product` in pricelist `pricelist_id` at `at`, rounded to the
    /// pricelist's currency.
    pub fn price(&self, pricelist_id: i64, product: &PriceInput, at: DateTime<Utc>) -> Result<Decimal, Error> {
        let pl = self.get(pricelist_id)?;
        Ok(pl.currency.round(self.raw_price(pricelist_id, product, at, 0)?))
    }

    /// The rule that applies to `product` (first in Odoo's order: variant, template, category
    /// nearest first, global; then higher `min_quantity`, then newer rule), if any.
    pub fn applicable_rule(
        &self,
        pricelist_id: i64,
        product: &PriceInput,
        at: DateTime<Utc>,
    ) -> Result<Option<&PricelistRule>, Error> {
        let pl = self.get(pricelist_id)?;
        let one = Decimal::ONE;
        Ok(pl
            .rules
            .iter()
            .filter(|r| r.min_quantity <= one && r.valid_at(at))
            .filter_map(|r| r.category_rank(product).map(|rank| (r, rank)))
            .min_by(|(a, ra), (b, rb)| {
                a.scope
                    .rank()
                    .cmp(&b.scope.rank())
                    .then(b.min_quantity.cmp(&a.min_quantity))
                    .then(ra.cmp(rb))
                    .then(b.id.cmp(&a.id))
            })
            .map(|(r, _)| r))
    }

    fn get(&self, id: i64) -> Result<&Pricelist, Error> {
        self.pricelists.get(&id).ok_or_else(|| {
            Error::new(ErrorKind::NotFound, format!("pricelist {id} is not loaded")).with_call(PRICELIST_MODEL, "read")
        })
    }

    fn raw_price(&self, pricelist_id: i64, p: &PriceInput, at: DateTime<Utc>, depth: usize) -> Result<Decimal, Error> {
        if depth > MAX_CHAIN {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "pricelist {pricelist_id}: chain of 'based on another pricelist' deeper than {MAX_CHAIN} or cyclic"
                ),
            ));
        }
        let pl = self.get(pricelist_id)?;
        let rule = self.applicable_rule(pricelist_id, p, at)?;
        let base_kind = rule.map_or(RuleBase::ListPrice, |r| r.base);
        let base = || -> Result<Decimal, Error> {
            match base_kind {
                RuleBase::ListPrice | RuleBase::StandardPrice => {
                    if let Some(c) = p.currency_id
                        && c != pl.currency.id
                    {
                        return Err(unsupported_conversion(pl, p.product_id));
                    }
                    Ok(if base_kind == RuleBase::ListPrice { p.list_price } else { p.standard_price })
                }
                RuleBase::Pricelist(other) => {
                    let o = self.get(other)?;
                    if o.currency.id != pl.currency.id {
                        return Err(unsupported_conversion(pl, p.product_id));
                    }
                    self.raw_price(other, p, at, depth + 1)
                }
            }
        };
        let hundred = Decimal::ONE_HUNDRED;
        Ok(match rule.map(|r| r.compute) {
            None => base()?,
            Some(RuleCompute::Fixed(price)) => price,
            Some(RuleCompute::Percentage(pct)) => {
                let b = base()?;
                b - b * pct / hundred
            }
            Some(RuleCompute::Formula { discount, round, surcharge, min_margin, max_margin }) => {
                let b = base()?;
                let mut price = b - b * discount / hundred;
                if !round.is_zero() {
                    price = round_to_step(price, round);
                }
                price += surcharge;
                if !min_margin.is_zero() {
                    price = price.max(b + min_margin);
                }
                if !max_margin.is_zero() {
                    price = price.min(b + max_margin);
                }
                price
            }
        })
    }
}

fn unsupported_conversion(pl: &Pricelist, product_id: i64) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "pricelist {} ({}) needs a currency conversion for product {product_id}; currency conversion is not supported",
            pl.id, pl.currency.name
        ),
    )
}

impl OpenErpClient {
    /// Loads pricelist `id`, its rules and currency, and every pricelist its rules are based on.
    pub async fn read_price_book(&self, id: i64, ctx: &Context) -> Result<PriceBook, Error> {
        let mut book = PriceBook::default();
        let mut todo = vec![id];
        while let Some(pid) = todo.pop() {
            if book.pricelists.contains_key(&pid) {
                continue;
            }
            if book.pricelists.len() > MAX_CHAIN {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("pricelist {id}: more than {MAX_CHAIN} pricelists chained"),
                ));
            }
            let row =
                self.read_one(PRICELIST_MODEL, pid, PRICELIST_FIELDS, &ctx.clone().with_active_test(false)).await?;
            let r = Record::new(&row, PRICELIST_MODEL);
            let currency_id = r
                .many2one("currency_id")?
                .ok_or_else(|| Error::new(ErrorKind::Decode, format!("pricelist {pid} has no currency")))?
                .id;
            let cur = self.read_one(CURRENCY_MODEL, currency_id, CURRENCY_FIELDS, ctx).await?;
            let currency = Currency::from_map(&cur).map_err(|e| Error::decode(&e).with_call(CURRENCY_MODEL, "read"))?;
            let domain = Domain::new().eq("pricelist_id", crate::openerp::wire::id_value(pid));
            let rows = self.search_read_all(ITEM_MODEL, &domain, ITEM_FIELDS, ctx).await?;
            let rules = rows
                .iter()
                .map(|m| PricelistRule::from_map(m).map_err(|e| Error::decode(&e).with_call(ITEM_MODEL, "search_read")))
                .collect::<Result<Vec<_>, _>>()?;
            for rule in &rules {
                if let RuleBase::Pricelist(other) = rule.base {
                    todo.push(other);
                }
            }
            book.pricelists.insert(pid, Pricelist { id: pid, name: r.string_or_empty("name")?, currency, rules });
        }
        Ok(book)
    }

    /// What [`PriceBook::price`] needs for `ids` (product prices, template, category path).
    pub async fn price_inputs(&self, ids: &[i64], ctx: &Context) -> Result<Vec<PriceInput>, Error> {
        let rows = self.read("product.product", ids, PRODUCT_PRICE_FIELDS, ctx).await?;
        let mut categ_ids: Vec<i64> = Vec::new();
        for m in &rows {
            if let Some(c) = Record::new(m, "product.product").many2one("categ_id")?
                && !categ_ids.contains(&c.id)
            {
                categ_ids.push(c.id);
            }
        }
        let mut paths: BTreeMap<i64, String> = BTreeMap::new();
        for m in self.read("product.category", &categ_ids, &["parent_path"], ctx).await? {
            let r = Record::new(&m, "product.category");
            if let Some(p) = r.opt_string("parent_path")? {
                paths.insert(r.i64("id")?, p);
            }
        }
        rows.iter()
            .map(|m| {
                let categ = Record::new(m, "product.product").many2one("categ_id")?.map(|c| c.id);
                let path = categ.and_then(|c| paths.get(&c)).map(String::as_str);
                PriceInput::from_map(m, path).map_err(|e| Error::decode(&e).with_call("product.product", "read"))
            })
            .collect()
    }

    /// Prices of `ids` in pricelist `pricelist_id` now; one result per product found (a rule
    /// that cannot be evaluated gives an error for that product only).
    pub async fn pricelist_prices(
        &self,
        pricelist_id: i64,
        ids: &[i64],
        ctx: &Context,
    ) -> Result<Vec<(i64, Result<Decimal, Error>)>, Error> {
        let book = self.read_price_book(pricelist_id, ctx).await?;
        let now = Utc::now();
        let inputs = self.price_inputs(ids, ctx).await?;
        Ok(inputs.iter().map(|p| (p.product_id, book.price(pricelist_id, p, now))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::value::{self, array, double, int, string};
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn usd() -> Currency {
        Currency { id: 1, name: "USD".into(), rounding: dec("0.01") }
    }

    fn rule(id: i64, scope: RuleScope, compute: RuleCompute) -> PricelistRule {
        PricelistRule {
            id,
            pricelist_id: 1,
            scope,
            min_quantity: Decimal::ZERO,
            date_start: None,
            date_end: None,
            base: RuleBase::ListPrice,
            compute,
        }
    }

    fn chair() -> PriceInput {
        PriceInput {
            product_id: 5,
            template_id: Some(5),
            category_path: vec![8, 2, 1],
            list_price: dec("70"),
            standard_price: dec("55"),
            currency_id: Some(1),
        }
    }

    fn book(rules: Vec<PricelistRule>) -> PriceBook {
        let mut b = PriceBook::default();
        b.pricelists.insert(1, Pricelist { id: 1, name: "Public".into(), currency: usd(), rules });
        b
    }

    fn now() -> DateTime<Utc> {
        value::parse_datetime("2026-11-27 12:00:00").unwrap()
    }

    #[test]
    fn no_rule_gives_the_sales_price() {
        assert_eq!(book(vec![]).price(1, &chair(), now()).unwrap(), dec("70"));
    }

    #[test]
    fn most_specific_rule_wins_like_odoo() {
        let b = book(vec![
            rule(1, RuleScope::Global, RuleCompute::Percentage(dec("10"))),
            rule(2, RuleScope::Category(1), RuleCompute::Percentage(dec("20"))),
            rule(3, RuleScope::Category(8), RuleCompute::Percentage(dec("30"))),
            rule(4, RuleScope::Template(5), RuleCompute::Fixed(dec("60"))),
            rule(5, RuleScope::Variant(99), RuleCompute::Fixed(dec("1"))),
        ]);
        assert_eq!(b.price(1, &chair(), now()).unwrap(), dec("60"), "template beats categories");
        let mut other = chair();
        other.template_id = Some(6);
        assert_eq!(b.price(1, &other, now()).unwrap(), dec("49"), "nearest category (30 %) beats its parent");
        other.category_path = vec![7, 2, 1];
        assert_eq!(b.price(1, &other, now()).unwrap(), dec("56"), "parent category All (20 %)");
        other.category_path = vec![];
        assert_eq!(b.price(1, &other, now()).unwrap(), dec("63"), "global 10 %");
    }

    #[test]
    fn tier_rules_and_dates_are_respected() {
        let mut tier = rule(1, RuleScope::Global, RuleCompute::Fixed(dec("50")));
        tier.min_quantity = dec("10");
        let mut expired = rule(2, RuleScope::Global, RuleCompute::Fixed(dec("40")));
        expired.date_end = value::parse_datetime("2026-01-01 00:00:00");
        let mut future = rule(3, RuleScope::Global, RuleCompute::Fixed(dec("30")));
        future.date_start = value::parse_datetime("2027-01-01 00:00:00");
        let b = book(vec![tier, expired, future]);
        assert_eq!(b.price(1, &chair(), now()).unwrap(), dec("70"));
        assert!(b.applicable_rule(1, &chair(), now()).unwrap().is_none());
    }

    #[test]
    fn formula_discount_rounding_surcharge_and_margins() {
        // 70 - 10 % = 63, rounded to 10 = 60, - 0.01 = 59.99 (Odoo's "prices ending in 9.99").
        let f = |min_margin: &str, max_margin: &str| RuleCompute::Formula {
            discount: dec("10"),
            round: dec("10"),
            surcharge: dec("-0.01"),
            min_margin: dec(min_margin),
            max_margin: dec(max_margin),
        };
        assert_eq!(
            book(vec![rule(1, RuleScope::Global, f("0", "0"))]).price(1, &chair(), now()).unwrap(),
            dec("59.99")
        );
        assert_eq!(book(vec![rule(1, RuleScope::Global, f("-5", "0"))]).price(1, &chair(), now()).unwrap(), dec("65"));
        assert_eq!(book(vec![rule(1, RuleScope::Global, f("0", "-20"))]).price(1, &chair(), now()).unwrap(), dec("50"));
        let mut cost = rule(
            1,
            RuleScope::Global,
            RuleCompute::Formula {
                discount: dec("-20"),
                round: Decimal::ZERO,
                surcharge: Decimal::ZERO,
                min_margin: Decimal::ZERO,
                max_margin: Decimal::ZERO,
            },
        );
        cost.base = RuleBase::StandardPrice;
        assert_eq!(book(vec![cost]).price(1, &chair(), now()).unwrap(), dec("66"), "cost 55 + 20 % mark-up");
        assert_eq!(round_to_step(dec("62.5"), dec("5")), dec("65"), "halves away from zero");
        assert_eq!(usd().round(dec("19.995")), dec("20"));
    }

    #[test]
    fn chained_pricelists_and_unsupported_cases() {
        let mut b = book(vec![{
            let mut r = rule(1, RuleScope::Global, RuleCompute::Percentage(dec("50")));
            r.base = RuleBase::Pricelist(2);
            r
        }]);
        b.pricelists.insert(
            2,
            Pricelist {
                id: 2,
                name: "Retail".into(),
                currency: usd(),
                rules: vec![PricelistRule {
                    pricelist_id: 2,
                    ..rule(9, RuleScope::Global, RuleCompute::Fixed(dec("90")))
                }],
            },
        );
        assert_eq!(b.price(1, &chair(), now()).unwrap(), dec("45"));

        let mut eur = b.clone();
        eur.pricelists.get_mut(&2).unwrap().currency = Currency { id: 3, name: "EUR".into(), rounding: dec("0.01") };
        let e = eur.price(1, &chair(), now()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.message().contains("currency conversion"));

        let mut foreign = chair();
        foreign.currency_id = Some(3);
        assert_eq!(book(vec![]).price(1, &foreign, now()).unwrap_err().kind(), ErrorKind::Unsupported);
        let fixed = book(vec![rule(1, RuleScope::Global, RuleCompute::Fixed(dec("12")))]);
        assert_eq!(fixed.price(1, &foreign, now()).unwrap(), dec("12"), "a fixed price needs no conversion");

        let mut cyclic = book(vec![{
            let mut r = rule(1, RuleScope::Global, RuleCompute::Percentage(dec("1")));
            r.base = RuleBase::Pricelist(1);
            r
        }]);
        cyclic.pricelists.get_mut(&1).unwrap().name = "Loop".into();
        assert_eq!(cyclic.price(1, &chair(), now()).unwrap_err().kind(), ErrorKind::Unsupported);
    }

    #[test]
    fn rules_decode_from_odoo_rows() {
        let row: Map = [
            ("id", int(3)),
            ("pricelist_id", array([int(1), string("Public Pricelist (USD)")])),
            ("applied_on", string("2_product_category")),
            ("categ_id", array([int(8), string("All / Saleable / Office Furniture")])),
            ("product_tmpl_id", Value::Boolean(false)),
            ("product_id", Value::Boolean(false)),
            ("min_quantity", double(0.0)),
            ("date_start", Value::Boolean(false)),
            ("date_end", string("2026-12-31")),
            ("compute_price", string("formula")),
            ("fixed_price", double(0.0)),
            ("percent_price", double(0.0)),
            ("base", string("pricelist")),
            ("base_pricelist_id", Value::Boolean(false)),
            ("price_discount", double(10.0)),
            ("price_surcharge", double(-0.01)),
            ("price_round", double(1.0)),
            ("price_min_margin", double(0.0)),
            ("price_max_margin", double(0.0)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let r = PricelistRule::from_map(&row).unwrap();
        assert_eq!(r.scope, RuleScope::Category(8));
        assert_eq!(r.base, RuleBase::ListPrice, "pricelist base without a pricelist falls back to the sales price");
        assert_eq!(r.date_end.map(|d| value::format_datetime(&d)).as_deref(), Some("2026-12-31 23:59:59"));
        assert!(matches!(r.compute, RuleCompute::Formula { round, .. } if round == Decimal::ONE));
        let mut bad = row.clone();
        bad.insert("applied_on".into(), string("2_product_category"));
        bad.insert("categ_id".into(), Value::Boolean(false));
        assert!(PricelistRule::from_map(&bad).is_err());
    }

    #[test]
    fn price_input_uses_parent_path() {
        let row: Map = [
            ("id", int(5)),
            ("product_tmpl_id", array([int(5), string("Office Chair")])),
            ("categ_id", array([int(8), string("All / Saleable / Office Furniture")])),
            ("lst_price", double(70.0)),
            ("standard_price", double(55.0)),
            ("currency_id", array([int(1), string("USD")])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let p = PriceInput::from_map(&row, Some("1/2/8/")).unwrap();
        assert_eq!(p.category_path, vec![8, 2, 1]);
        assert_eq!(p, chair());
        assert_eq!(PriceInput::from_map(&row, None).unwrap().category_path, vec![8]);
    }
}
