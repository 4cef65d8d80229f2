//! What the order import reads from OpenERP before it writes: the sale taxes, pricelists and
//! currencies once per run; products by SKU, countries and states, and orders already created
//! for a batch of Magento orders in a few calls per batch (never per line).
//!
//! Reads only; no decision about an order is taken here.

use std::collections::{BTreeSet, HashMap};

use dxr::Value;
use rust_decimal::Decimal;

use super::mapping::{TaxChoice, TaxTable};
use crate::openerp::models::pricelist::Currency;
use crate::openerp::models::settings::{BackendSettings, StoreSettings};
use crate::openerp::models::taxes::AmountType;
use crate::openerp::wire::{Context, Domain};
use crate::openerp::{Error, OpenErpClient, SearchOpts};
use crate::rpc::value::{Map, Record};

/// Rounding step used when the currency's is unknown.
pub const DEFAULT_STEP: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// A pricelist and the code of its currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricelistInfo {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Currency id.
    pub currency_id: Option<i64>,
    /// Currency code (`EUR`).
    pub currency: Option<String>,
}

/// A state of a country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateInfo {
    /// Id.
    pub id: i64,
    /// Code (unique within the country only).
    pub code: String,
    /// Name.
    pub name: String,
}

/// An order found in OpenERP by its Magento reference (`origin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingOrder {
    /// Id.
    pub id: i64,
    /// Number (`S00012`).
    pub name: String,
    /// State (`draft`, `sent`, `sale`, `done`, `cancel`).
    pub state: String,
    /// Untaxed amount.
    pub untaxed: Decimal,
    /// Tax.
    pub tax: Decimal,
    /// Total.
    pub total: Decimal,
    /// Customer, invoice and delivery partners.
    pub partners: Option<(i64, i64, i64)>,
}

impl ExistingOrder {
    /// Fields read.
    pub const FIELDS: &'static [&'static str] = &[
        "name",
        "state",
        "origin",
        "amount_untaxed",
        "amount_tax",
        "amount_total",
        "partner_id",
        "partner_invoice_id",
        "partner_shipping_id",
    ];

    /// Decodes one row.
    pub fn from_map(m: &Map) -> Result<ExistingOrder, crate::rpc::value::DecodeError> {
        let r = Record::new(m, "sale.order");
        Ok(ExistingOrder {
            id: r.i64("id")?,
            name: r.string_or_empty("name")?,
            state: r.string_or_empty("state")?,
            untaxed: r.decimal_or_zero("amount_untaxed")?,
            tax: r.decimal_or_zero("amount_tax")?,
            total: r.decimal_or_zero("amount_total")?,
            partners: match r.many2one("partner_id")? {
                Some(p) => {
                    let invoice = r.many2one("partner_invoice_id")?.map_or(p.id, |m| m.id);
                    let shipping = r.many2one("partner_shipping_id")?.map_or(p.id, |m| m.id);
                    Some((p.id, invoice, shipping))
                }
                None => None,
            },
        })
    }

    /// Confirmed (a sales order, not a quotation).
    pub fn is_confirmed(&self) -> bool {
        matches!(self.state.as_str(), "sale" | "done")
    }
}

fn decode<T>(
    rows: &[Map],
    model: &str,
    f: impl Fn(&Map) -> Result<T, crate::rpc::value::DecodeError>,
) -> Result<Vec<T>, Error> {
    rows.iter().map(|m| f(m).map_err(|e| Error::decode(&e).with_call(model, "search_read"))).collect()
}

/// What is read once per run.
#[derive(Debug, Clone, Default)]
pub struct RunData {
    /// Usable sale taxes.
    pub taxes: TaxTable,
    /// Every pricelist.
    pub pricelists: Vec<PricelistInfo>,
    /// Rounding step per currency code.
    pub steps: HashMap<String, Decimal>,
    /// Country id per ISO code (filled per batch).
    pub countries: HashMap<String, i64>,
    /// Country codes looked up and unknown.
    pub unknown_countries: BTreeSet<String>,
    /// States per country id (filled per batch).
    pub states: HashMap<i64, Vec<StateInfo>>,
    /// Codes of the active languages (a partner's language must be one).
    pub langs: BTreeSet<String>,
}

impl RunData {
    /// Reads the taxes of the backend's company, the pricelists and their currencies.
    pub async fn load(client: &OpenErpClient, settings: &BackendSettings) -> Result<RunData, Error> {
        let ctx = Context::default();
        let company = settings.company.as_ref().map(|c| c.id);
        let taxes = client
            .sale_taxes(false, &ctx)
            .await?
            .into_iter()
            .filter(|t| t.active && t.amount_type == AmountType::Percent)
            .filter(|t| company.is_none() || t.company.as_ref().is_none_or(|c| Some(c.id) == company))
            .map(|t| TaxChoice { id: t.id, name: t.name, rate: t.amount.normalize(), included: t.price_include })
            .collect();
        let rows = client.search_read_all("product.pricelist", &Domain::new(), &["name", "currency_id"], &ctx).await?;
        let mut pricelists = decode(&rows, "product.pricelist", |m| {
            let r = Record::new(m, "product.pricelist");
            let c = r.many2one("currency_id")?;
            Ok(PricelistInfo {
                id: r.i64("id")?,
                name: r.string_or_empty("name")?,
                currency_id: c.as_ref().map(|c| c.id),
                currency: None,
            })
        })?;
        let currency_ids: Vec<i64> =
            pricelists.iter().filter_map(|p| p.currency_id).collect::<BTreeSet<_>>().into_iter().collect();
        let mut steps = HashMap::new();
        let mut names = HashMap::new();
        if !currency_ids.is_empty() {
            let rows =
                client.read("res.currency", &currency_ids, &["name", "rounding", "decimal_places"], &ctx).await?;
            for c in decode(&rows, "res.currency", Currency::from_map)? {
                steps.insert(c.name.clone(), c.rounding);
                names.insert(c.id, c.name);
            }
        }
        for p in &mut pricelists {
            p.currency = p.currency_id.and_then(|c| names.get(&c).cloned());
        }
        let rows = client.search_read_all("res.lang", &Domain::new(), &["code"], &ctx).await?;
        let langs =
            decode(&rows, "res.lang", |m| Record::new(m, "res.lang").string_or_empty("code"))?.into_iter().collect();
        Ok(RunData { taxes: TaxTable::new(taxes), pricelists, steps, langs, ..RunData::default() })
    }

    /// The pricelist of an order of `store` in `currency`: the store line's when it is in that
    /// currency, else (the store line having none) the first pricelist in that currency.
    /// `Err` says why there is none.
    pub fn pricelist(&self, store: &StoreSettings, currency: &str) -> Result<&PricelistInfo, String> {
        if let Some(pl) = &store.pricelist {
            let info = self.pricelists.iter().find(|p| p.id == pl.id);
            return match info {
                Some(p) if p.currency.as_deref() == Some(currency) => Ok(p),
                Some(p) => Err(format!(
                    "the order is in {currency} but the store view's pricelist {:?} is in {}",
                    p.name,
                    p.currency.as_deref().unwrap_or("no currency")
                )),
                None => Err(format!("the store view's pricelist {:?} cannot be read", pl.name)),
            };
        }
        self.pricelists
            .iter()
            .find(|p| p.currency.as_deref() == Some(currency))
            .ok_or_else(|| format!("the order is in {currency} and no pricelist is in {currency}"))
    }

    /// `lang` when it is an active language of OpenERP.
    pub fn lang(&self, lang: Option<&str>) -> Option<String> {
        lang.filter(|l| self.langs.contains(*l)).map(str::to_owned)
    }

    /// The rounding step of a currency.
    pub fn step(&self, currency: &str) -> Decimal {
        self.steps.get(currency).copied().filter(|s| *s > Decimal::ZERO).unwrap_or(DEFAULT_STEP)
    }

    /// Reads the countries of `codes` not read yet, and all their states (two calls at most).
    pub async fn ensure_countries(&mut self, client: &OpenErpClient, codes: &[String]) -> Result<(), Error> {
        let missing: Vec<String> = codes
            .iter()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty() && !self.countries.contains_key(c) && !self.unknown_countries.contains(c))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let ctx = Context::default();
        let list = Value::Array(missing.iter().map(|c| Value::String(c.clone())).collect());
        let rows = client
            .search_read(
                "res.country",
                &Domain::new().term("code", "in", list),
                &["code"],
                &SearchOpts::default(),
                &ctx,
            )
            .await?;
        let found = decode(&rows, "res.country", |m| {
            let r = Record::new(m, "res.country");
            Ok((r.string_or_empty("code")?.to_ascii_uppercase(), r.i64("id")?))
        })?;
        let new_ids: Vec<i64> = found.iter().map(|(_, id)| *id).collect();
        for (code, id) in found {
            self.countries.insert(code, id);
        }
        for c in missing {
            if !self.countries.contains_key(&c) {
                self.unknown_countries.insert(c);
            }
        }
        if new_ids.is_empty() {
            return Ok(());
        }
        let rows = client
            .search_read_all(
                "res.country.state",
                &Domain::new().in_ids("country_id", &new_ids),
                &["code", "name", "country_id"],
                &ctx,
            )
            .await?;
        let states = decode(&rows, "res.country.state", |m| {
            let r = Record::new(m, "res.country.state");
            Ok((
                r.many2one("country_id")?.map(|c| c.id),
                StateInfo { id: r.i64("id")?, code: r.string_or_empty("code")?, name: r.string_or_empty("name")? },
            ))
        })?;
        for id in new_ids {
            self.states.entry(id).or_default();
        }
        for (country, s) in states {
            if let Some(c) = country {
                self.states.entry(c).or_default().push(s);
            }
        }
        Ok(())
    }

    /// The country id of an ISO code (after [`RunData::ensure_countries`]).
    pub fn country(&self, code: &str) -> Option<i64> {
        self.countries.get(&code.trim().to_ascii_uppercase()).copied()
    }

    /// The state named or coded `region` **within** `country_id` (codes are unique only per
    /// country).
    pub fn state(&self, country_id: i64, region: &str) -> Option<i64> {
        let region = region.trim();
        if region.is_empty() {
            return None;
        }
        let states = self.states.get(&country_id)?;
        states
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(region))
            .or_else(|| states.iter().find(|s| s.code.eq_ignore_ascii_case(region)))
            .map(|s| s.id)
    }
}

/// `product.product` ids by internal reference for these SKUs, in one call per page of SKUs:
/// an active product wins over an archived one, then the lowest id.
pub async fn products_by_sku(client: &OpenErpClient, skus: &[String]) -> Result<HashMap<String, i64>, Error> {
    let mut out: HashMap<String, (bool, i64)> = HashMap::new();
    let unique: Vec<&str> = skus.iter().map(String::as_str).collect::<BTreeSet<_>>().into_iter().collect();
    if unique.is_empty() {
        return Ok(HashMap::new());
    }
    let ctx = Context::default().with_active_test(false);
    for chunk in unique.chunks(client.page_size().max(1)) {
        let list = Value::Array(chunk.iter().map(|c| Value::String((*c).to_owned())).collect());
        let rows = client
            .search_read(
                "product.product",
                &Domain::new().term("default_code", "in", list),
                &["default_code", "active"],
                &SearchOpts::default(),
                &ctx,
            )
            .await?;
        for (code, active, id) in decode(&rows, "product.product", |m| {
            let r = Record::new(m, "product.product");
            Ok((r.string_or_empty("default_code")?, r.bool("active")?, r.i64("id")?))
        })? {
            let better = match out.get(&code) {
                None => true,
                Some((a, i)) => (active && !*a) || (active == *a && id < *i),
            };
            if better {
                out.insert(code, (active, id));
            }
        }
    }
    Ok(out.into_iter().map(|(k, (_, id))| (k, id)).collect())
}

/// Orders whose `origin` is one of `origins` (cancelled ones left out), by origin; when several
/// share an origin, the confirmed one, else the oldest.
pub async fn orders_by_origin(
    client: &OpenErpClient,
    origins: &[String],
) -> Result<HashMap<String, ExistingOrder>, Error> {
    let mut out: HashMap<String, ExistingOrder> = HashMap::new();
    if origins.is_empty() {
        return Ok(out);
    }
    let ctx = Context::default();
    for chunk in origins.chunks(client.page_size().max(1)) {
        let list = Value::Array(chunk.iter().map(|c| Value::String(c.clone())).collect());
        let domain = Domain::new().term("origin", "in", list).term("state", "!=", Value::String("cancel".into()));
        let opts = SearchOpts { order: Some("id asc".into()), ..SearchOpts::default() };
        let rows = client.search_read("sale.order", &domain, ExistingOrder::FIELDS, &opts, &ctx).await?;
        for m in &rows {
            let origin = Record::new(m, "sale.order").opt_string("origin").map_err(|e| Error::decode(&e))?;
            let o = ExistingOrder::from_map(m).map_err(|e| Error::decode(&e).with_call("sale.order", "search_read"))?;
            let Some(origin) = origin else { continue };
            let keep = match out.get(&origin) {
                None => true,
                Some(prev) => o.is_confirmed() && !prev.is_confirmed(),
            };
            if keep {
                out.insert(origin, o);
            }
        }
    }
    Ok(out)
}

/// Reads the amounts and state of orders by id.
pub async fn read_orders(client: &OpenErpClient, ids: &[i64]) -> Result<HashMap<i64, ExistingOrder>, Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = client.read("sale.order", ids, ExistingOrder::FIELDS, &Context::default()).await?;
    Ok(decode(&rows, "sale.order", ExistingOrder::from_map)?.into_iter().map(|o| (o.id, o)).collect())
}

/// The line ids of orders with their sequence, by order id, in line order.
pub async fn order_lines(client: &OpenErpClient, ids: &[i64]) -> Result<HashMap<i64, Vec<(i64, i64)>>, Error> {
    let mut out: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let opts = SearchOpts { order: Some("order_id asc, sequence asc, id asc".into()), ..SearchOpts::default() };
    for chunk in ids.chunks(client.page_size().max(1)) {
        let rows = client
            .search_read(
                "sale.order.line",
                &Domain::new().in_ids("order_id", chunk),
                &["order_id", "sequence"],
                &opts,
                &Context::default(),
            )
            .await?;
        for (order, line, seq) in decode(&rows, "sale.order.line", |m| {
            let r = Record::new(m, "sale.order.line");
            Ok((r.many2one("order_id")?.map(|o| o.id), r.i64("id")?, r.opt_i64("sequence")?.unwrap_or(0)))
        })? {
            if let Some(o) = order {
                out.entry(o).or_default().push((line, seq));
            }
        }
    }
    Ok(out)
}
