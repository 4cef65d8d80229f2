//! What the order follow-up reads after import: posted customer invoices of an order with
//! their product lines, outgoing pickings with their moves and tracking reference.
//!
//! `carrier_tracking_ref` and `carrier_id` belong to the `delivery` module, which may be absent
//! (it is in the Odoo 17 recordings): they are requested only when `fields_get` lists them.
//! Moves are searched by `picking_id` (the picking's own move field was renamed across versions).

use chrono::{DateTime, NaiveDate, Utc};
use dxr::Value;
use rust_decimal::Decimal;

use crate::openerp::client::OpenErpClient;
use crate::openerp::error::Error;
use crate::openerp::orm::SearchOpts;
use crate::openerp::profile::{InvoiceLineFilter, Profile};
use crate::openerp::wire::{Context, Domain, id_value};
use crate::rpc::value::{DecodeError, Many2one, Map, Record};

use super::sale_orders;

/// Model of journal lines (invoice lines).
pub const INVOICE_LINE_MODEL: &str = "account.move.line";
/// Model of pickings.
pub const PICKING_MODEL: &str = "stock.picking";
/// Model of stock moves.
pub const MOVE_MODEL: &str = "stock.move";

/// Invoice fields read, besides the version's invoice type field.
pub const INVOICE_FIELDS: &[&str] =
    &["name", "state", "invoice_origin", "invoice_date", "amount_untaxed", "amount_tax", "amount_total", "currency_id"];
/// Invoice line fields read.
pub const INVOICE_LINE_FIELDS: &[&str] = &["move_id", "product_id", "name", "quantity", "price_unit", "sale_line_ids"];
/// Picking fields read (plus the `delivery` module's fields when present).
pub const PICKING_FIELDS: &[&str] =
    &["name", "state", "origin", "scheduled_date", "date_done", "sale_id", "picking_type_code"];
/// Fields of the `delivery` module read when the server has them.
pub const DELIVERY_FIELDS: &[&str] = &["carrier_tracking_ref", "carrier_id"];
/// Move fields read, besides the version's done-quantity field.
pub const MOVE_FIELDS: &[&str] = &["picking_id", "product_id", "product_uom_qty", "state", "sale_line_id"];

/// A customer invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// Id.
    pub id: i64,
    /// Number (`INV/2026/00001`).
    pub name: String,
    /// `draft`, `posted`, `cancel`.
    pub state: String,
    /// `out_invoice`, `out_refund`, …
    pub move_type: String,
    /// Source document (the order names).
    pub origin: Option<String>,
    /// Invoice date.
    pub invoice_date: Option<NaiveDate>,
    /// Total without taxes.
    pub amount_untaxed: Decimal,
    /// Taxes.
    pub amount_tax: Decimal,
    /// Total.
    pub amount_total: Decimal,
    /// Currency.
    pub currency: Option<Many2one>,
}

impl Invoice {
    /// Fields to request for this version.
    pub fn fields(profile: &Profile) -> Vec<&'static str> {
        let mut f = INVOICE_FIELDS.to_vec();
        f.push(profile.invoice_type_field);
        f
    }

    /// Decodes one row.
    pub fn from_map(m: &Map, profile: &Profile) -> Result<Self, DecodeError> {
        let r = Record::new(m, profile.invoice_model);
        Ok(Invoice {
            id: r.i64("id")?,
            name: r.string_or_empty("name")?,
            state: r.string_or_empty("state")?,
            move_type: r.string_or_empty(profile.invoice_type_field)?,
            origin: r.opt_string("invoice_origin")?,
            invoice_date: r.opt_datetime("invoice_date")?.map(|d| d.date_naive()),
            amount_untaxed: r.decimal_or_zero("amount_untaxed")?,
            amount_tax: r.decimal_or_zero("amount_tax")?,
            amount_total: r.decimal_or_zero("amount_total")?,
            currency: r.many2one("currency_id")?,
        })
    }
}

/// A product line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    /// Id.
    pub id: i64,
    /// Invoice.
    pub invoice: Option<Many2one>,
    /// Product.
    pub product: Option<Many2one>,
    /// Label.
    pub name: String,
    /// Quantity invoiced.
    pub quantity: Decimal,
    /// Unit price.
    pub price_unit: Decimal,
    /// Sale order lines this line invoices.
    pub sale_line_ids: Vec<i64>,
}

impl InvoiceLine {
    /// Decodes one row.
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, INVOICE_LINE_MODEL);
        Ok(InvoiceLine {
            id: r.i64("id")?,
            invoice: r.many2one("move_id")?,
            product: r.many2one("product_id")?,
            name: r.string_or_empty("name")?,
            quantity: r.decimal_or_zero("quantity")?,
            price_unit: r.decimal_or_zero("price_unit")?,
            sale_line_ids: r.ids("sale_line_ids")?,
        })
    }
}

/// A delivery (outgoing picking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picking {
    /// Id.
    pub id: i64,
    /// Reference (`WH/OUT/00012`).
    pub name: String,
    /// `draft`, `waiting`, `confirmed`, `assigned`, `done`, `cancel`.
    pub state: String,
    /// Source document (the order name).
    pub origin: Option<String>,
    /// Planned date (UTC).
    pub scheduled_date: Option<DateTime<Utc>>,
    /// Date of validation (UTC).
    pub date_done: Option<DateTime<Utc>>,
    /// Sale order.
    pub sale: Option<Many2one>,
    /// `outgoing`, `incoming`, `internal`.
    pub picking_type_code: Option<String>,
    /// Tracking number (`delivery` module; `None` without it or when empty).
    pub carrier_tracking_ref: Option<String>,
    /// Carrier (`delivery` module).
    pub carrier: Option<Many2one>,
}

impl Picking {
    /// Decodes one row.
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, PICKING_MODEL);
        Ok(Picking {
            id: r.i64("id")?,
            name: r.string_or_empty("name")?,
            state: r.string_or_empty("state")?,
            origin: r.opt_string("origin")?,
            scheduled_date: r.opt_datetime("scheduled_date")?,
            date_done: r.opt_datetime("date_done")?,
            sale: r.many2one("sale_id")?,
            picking_type_code: r.opt_string("picking_type_code")?,
            carrier_tracking_ref: r.opt_string("carrier_tracking_ref")?.filter(|s| !s.is_empty()),
            carrier: r.many2one("carrier_id")?,
        })
    }
}

/// A stock move of a picking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMove {
    /// Id.
    pub id: i64,
    /// Picking.
    pub picking: Option<Many2one>,
    /// Product.
    pub product: Option<Many2one>,
    /// Demand.
    pub demand: Decimal,
    /// Done quantity (`quantity` 17+, which is the picked/reserved quantity until the move is
    /// done; `quantity_done` ≤16).
    pub quantity: Decimal,
    /// `draft` … `done`, `cancel`.
    pub state: String,
    /// Sale order line.
    pub sale_line: Option<Many2one>,
}

impl StockMove {
    /// Fields to request for this version.
    pub fn fields(profile: &Profile) -> Vec<&'static str> {
        let mut f = MOVE_FIELDS.to_vec();
        f.push(profile.move_quantity_field);
        f
    }

    /// Decodes one row.
    pub fn from_map(m: &Map, profile: &Profile) -> Result<Self, DecodeError> {
        let r = Record::new(m, MOVE_MODEL);
        Ok(StockMove {
            id: r.i64("id")?,
            picking: r.many2one("picking_id")?,
            product: r.many2one("product_id")?,
            demand: r.decimal_or_zero("product_uom_qty")?,
            quantity: r.decimal_or_zero(profile.move_quantity_field)?,
            state: r.string_or_empty("state")?,
            sale_line: r.many2one("sale_line_id")?,
        })
    }
}

impl OpenErpClient {
    /// Posted customer invoices (`out_invoice`) of a sale order.
    pub async fn order_invoices(&self, order_id: i64, ctx: &Context) -> Result<Vec<Invoice>, Error> {
        let profile = self.profile().await?;
        let order = self.read_one(sale_orders::MODEL, order_id, &["invoice_ids"], ctx).await?;
        let ids = Record::new(&order, sale_orders::MODEL).ids("invoice_ids")?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let model = profile.invoice_model;
        let domain = Domain::new()
            .in_ids("id", &ids)
            .eq(profile.invoice_type_field, Value::String("out_invoice".into()))
            .eq("state", Value::String(profile.invoice_posted_state.into()));
        let rows = self.search_read(model, &domain, &Invoice::fields(profile), &SearchOpts::default(), ctx).await?;
        rows.iter()
            .map(|m| Invoice::from_map(m, profile).map_err(|e| Error::decode(&e).with_call(model, "search_read")))
            .collect()
    }

    /// Product lines of invoices (tax, receivable, section and note lines left out).
    pub async fn invoice_lines(&self, invoice_ids: &[i64], ctx: &Context) -> Result<Vec<InvoiceLine>, Error> {
        if invoice_ids.is_empty() {
            return Ok(Vec::new());
        }
        let profile = self.profile().await?;
        let domain = Domain::new().in_ids("move_id", invoice_ids);
        let domain = match profile.invoice_product_lines {
            InvoiceLineFilter::DisplayTypeProduct => domain.eq("display_type", Value::String("product".into())),
            InvoiceLineFilter::NotExcludedFromInvoiceTab => {
                domain.eq("exclude_from_invoice_tab", Value::Boolean(false))
            }
        };
        let rows = self.search_read_all(INVOICE_LINE_MODEL, &domain, INVOICE_LINE_FIELDS, ctx).await?;
        rows.iter()
            .map(|m| {
                InvoiceLine::from_map(m).map_err(|e| Error::decode(&e).with_call(INVOICE_LINE_MODEL, "search_read"))
            })
            .collect()
    }

    /// Outgoing pickings of a sale order (only `done` ones when `done_only`), with the tracking
    /// reference when the `delivery` module is installed.
    pub async fn order_pickings(&self, order_id: i64, done_only: bool, ctx: &Context) -> Result<Vec<Picking>, Error> {
        let mut fields = PICKING_FIELDS.to_vec();
        let known = self.fields(PICKING_MODEL).await?;
        fields.extend(DELIVERY_FIELDS.iter().filter(|f| known.contains_key(**f)));
        let mut domain =
            Domain::new().eq("sale_id", id_value(order_id)).eq("picking_type_code", Value::String("outgoing".into()));
        if done_only {
            domain = domain.eq("state", Value::String("done".into()));
        }
        let rows = self.search_read(PICKING_MODEL, &domain, &fields, &SearchOpts::default(), ctx).await?;
        rows.iter()
            .map(|m| Picking::from_map(m).map_err(|e| Error::decode(&e).with_call(PICKING_MODEL, "search_read")))
            .collect()
    }

    /// Moves of pickings, by id.
    pub async fn picking_moves(&self, picking_ids: &[i64], ctx: &Context) -> Result<Vec<StockMove>, Error> {
        if picking_ids.is_empty() {
            return Ok(Vec::new());
        }
        let profile = self.profile().await?;
        let domain = Domain::new().in_ids("picking_id", picking_ids);
        let rows = self.search_read_all(MOVE_MODEL, &domain, &StockMove::fields(profile), ctx).await?;
        rows.iter()
            .map(|m| {
                StockMove::from_map(m, profile).map_err(|e| Error::decode(&e).with_call(MOVE_MODEL, "search_read"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openerp::testutil::recorded_rows;

    #[test]
    fn decodes_the_recorded_picking_without_delivery_module() {
        let p = Picking::from_map(&recorded_rows("0370-stock.picking.search_read-for-order")[0]).unwrap();
        assert_eq!((p.id, p.name.as_str(), p.state.as_str()), (25, "WH/OUT/00012", "confirmed"));
        assert_eq!(p.origin.as_deref(), Some("S00025"));
        assert_eq!(p.date_done, None, "False date_done reads as None");
        assert_eq!(p.carrier_tracking_ref, None);
        assert!(p.scheduled_date.is_some());
    }

    #[test]
    fn synthetic_invoice_line_and_move_rows_decode_per_profile() {
        use crate::rpc::value::{array, double, int, string};
        let p17 = Profile::odoo(17).unwrap();
        let mut inv = Map::new();
        for (k, v) in [
            ("id", int(7)),
            ("name", string("INV/2026/00001")),
            ("state", string("posted")),
            ("move_type", string("out_invoice")),
            ("invoice_origin", string("S00025")),
            ("invoice_date", string("2026-11-27")),
            ("amount_total", double(234.99)),
            ("currency_id", array([int(1), string("USD")])),
        ] {
            inv.insert(k.into(), v);
        }
        let i = Invoice::from_map(&inv, &p17).unwrap();
        assert_eq!((i.move_type.as_str(), i.amount_total.to_string().as_str()), ("out_invoice", "234.99"));
        assert_eq!(i.invoice_date, NaiveDate::from_ymd_opt(2026, 11, 27));
        let p13 = Profile::odoo(13).unwrap();
        assert!(Invoice::fields(&p13).contains(&"type"));

        let mut mv = Map::new();
        for (k, v) in [
            ("id", int(47)),
            ("picking_id", array([int(25), string("WH/OUT/00012")])),
            ("product_id", array([int(5), string("[FURN_7777] Office Chair")])),
            ("product_uom_qty", double(2.0)),
            ("quantity", double(2.0)),
            ("state", string("done")),
            ("sale_line_id", array([int(51), string("S00025 - Office Chair")])),
        ] {
            mv.insert(k.into(), v);
        }
        let m = StockMove::from_map(&mv, &p17).unwrap();
        assert_eq!((m.quantity, m.demand), (Decimal::from(2), Decimal::from(2)));
        assert_eq!(m.sale_line.map(|l| l.id), Some(51));
        let p16 = Profile::odoo(16).unwrap();
        assert_eq!(StockMove::from_map(&mv, &p16).unwrap().quantity, Decimal::ZERO, "16 reads quantity_done");
        assert!(StockMove::fields(&p16).contains(&"quantity_done"));
    }
}
