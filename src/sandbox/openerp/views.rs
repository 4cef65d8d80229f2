//! Typed views of the emulated data and the actions a user would take in OpenERP, for tests and
//! benchmarks: orders with their lines and amounts, partners with their children, stock per
//! warehouse; deliver (fully or partly, with a tracking reference), invoice, cancel, set stock,
//! edit or archive a product.
//!
//! Every action runs in one transaction through the same ORM code as the RPC calls, so its
//! effects (write dates, forecasts, statuses) are the ones a client would see.

use std::collections::HashMap;

use dxr::Value;
use rust_decimal::Decimal;

use super::error::OdooError;
use super::models::{sale, stock};
use super::orm::domain::Domain;
use super::orm::val::{Cmd, Val, Vals};
use super::orm::{Ctx, Db};
use super::{OpenErpSandbox, SandboxError};
use crate::rpc::value::Map;

/// A sales order line.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLineView {
    /// Line id.
    pub id: i64,
    /// Product.
    pub product_id: Option<i64>,
    /// Product internal reference.
    pub sku: Option<String>,
    /// Description.
    pub name: String,
    /// Ordered quantity.
    pub qty: Decimal,
    /// Unit price.
    pub price_unit: Decimal,
    /// Discount (%).
    pub discount: Decimal,
    /// Taxes.
    pub tax_ids: Vec<i64>,
    /// Untaxed amount.
    pub subtotal: Decimal,
    /// Tax amount.
    pub tax: Decimal,
    /// Total.
    pub total: Decimal,
    /// Delivered quantity.
    pub qty_delivered: Decimal,
    /// Invoiced quantity.
    pub qty_invoiced: Decimal,
}

/// A sales order with its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderView {
    /// Order id.
    pub id: i64,
    /// `S000NN`.
    pub name: String,
    /// `draft`, `sent`, `sale`, `cancel`.
    pub state: String,
    /// Customer.
    pub partner_id: i64,
    /// Invoice address.
    pub partner_invoice_id: i64,
    /// Delivery address.
    pub partner_shipping_id: i64,
    /// Customer reference.
    pub client_order_ref: Option<String>,
    /// Source document.
    pub origin: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` (UTC).
    pub date_order: String,
    /// Currency code.
    pub currency: String,
    /// Pricelist.
    pub pricelist_id: Option<i64>,
    /// Payment terms.
    pub payment_term_id: Option<i64>,
    /// Warehouse.
    pub warehouse_id: Option<i64>,
    /// Untaxed total.
    pub amount_untaxed: Decimal,
    /// Taxes.
    pub amount_tax: Decimal,
    /// Total.
    pub amount_total: Decimal,
    /// `no`, `to invoice`, `invoiced`.
    pub invoice_status: String,
    /// `pending`, `partial`, `full` (`None` before confirmation).
    pub delivery_status: Option<String>,
    /// Lines in order.
    pub lines: Vec<OrderLineView>,
    /// Deliveries.
    pub picking_ids: Vec<i64>,
    /// Invoices.
    pub invoice_ids: Vec<i64>,
}

/// A partner with its children.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `Parent, Child` style display name.
    pub display_name: String,
    /// Email.
    pub email: Option<String>,
    /// Company flag.
    pub is_company: bool,
    /// `contact`, `invoice`, `delivery`, `other`.
    pub kind: String,
    /// Parent.
    pub parent_id: Option<i64>,
    /// Street.
    pub street: Option<String>,
    /// Street 2.
    pub street2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ZIP.
    pub zip: Option<String>,
    /// State code (`CA`).
    pub state_code: Option<String>,
    /// Country code (`US`).
    pub country_code: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// VAT.
    pub vat: Option<String>,
    /// Language.
    pub lang: Option<String>,
    /// Active flag.
    pub active: bool,
    /// Children (archived included).
    pub children: Vec<PartnerView>,
}

/// Stock quantities of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StockView {
    /// `qty_available`.
    pub on_hand: Decimal,
    /// `virtual_available`.
    pub forecast: Decimal,
    /// `free_qty`.
    pub free: Decimal,
    /// `incoming_qty`.
    pub incoming: Decimal,
    /// `outgoing_qty`.
    pub outgoing: Decimal,
}

/// A quantity to invoice for one order line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceLine {
    /// The sales order line.
    pub line_id: i64,
    /// Quantity.
    pub qty: Decimal,
}

fn all() -> Ctx {
    Ctx::user(2).with_active_test(false)
}

fn order_view(db: &Db, id: i64) -> Option<OrderView> {
    let c = all();
    let so = "sale.order";
    if !db.exists(so, id) {
        return None;
    }
    let lines = db
        .get_ids(&c, so, id, "order_line")
        .into_iter()
        .map(|l| {
            let sol = "sale.order.line";
            let amounts = sale::line_amounts(db, &c, l);
            let product_id = db.get_id(&c, sol, l, "product_id");
            OrderLineView {
                id: l,
                product_id,
                sku: product_id.and_then(|p| db.get_str(&c, "product.product", p, "default_code")),
                name: db.get_str(&c, sol, l, "name").unwrap_or_default(),
                qty: db.get_num(&c, sol, l, "product_uom_qty"),
                price_unit: db.get_num(&c, sol, l, "price_unit"),
                discount: db.get_num(&c, sol, l, "discount"),
                tax_ids: db.get_ids(&c, sol, l, "tax_id"),
                subtotal: amounts.total_excluded,
                tax: amounts.total_included - amounts.total_excluded,
                total: amounts.total_included,
                qty_delivered: db.get_num(&c, sol, l, "qty_delivered"),
                qty_invoiced: db.get_num(&c, sol, l, "qty_invoiced"),
            }
        })
        .collect();
    Some(OrderView {
        id,
        name: db.get_str(&c, so, id, "name").unwrap_or_default(),
        state: db.get_str(&c, so, id, "state").unwrap_or_default(),
        partner_id: db.get_id(&c, so, id, "partner_id").unwrap_or(0),
        partner_invoice_id: db.get_id(&c, so, id, "partner_invoice_id").unwrap_or(0),
        partner_shipping_id: db.get_id(&c, so, id, "partner_shipping_id").unwrap_or(0),
        client_order_ref: db.get_str(&c, so, id, "client_order_ref"),
        origin: db.get_str(&c, so, id, "origin"),
        date_order: db.get_str(&c, so, id, "date_order").unwrap_or_default(),
        currency: db
            .get_id(&c, so, id, "currency_id")
            .and_then(|cur| db.get_str(&c, "res.currency", cur, "name"))
            .unwrap_or_default(),
        pricelist_id: db.get_id(&c, so, id, "pricelist_id"),
        payment_term_id: db.get_id(&c, so, id, "payment_term_id"),
        warehouse_id: db.get_id(&c, so, id, "warehouse_id"),
        amount_untaxed: db.get_num(&c, so, id, "amount_untaxed"),
        amount_tax: db.get_num(&c, so, id, "amount_tax"),
        amount_total: db.get_num(&c, so, id, "amount_total"),
        invoice_status: db.get_str(&c, so, id, "invoice_status").unwrap_or_default(),
        delivery_status: db.get_str(&c, so, id, "delivery_status"),
        lines,
        picking_ids: db.get_ids(&c, so, id, "picking_ids"),
        invoice_ids: db.get_ids(&c, so, id, "invoice_ids"),
    })
}

fn partner_view(db: &Db, id: i64, depth: u8) -> Option<PartnerView> {
    let c = all();
    let p = "res.partner";
    if !db.exists(p, id) {
        return None;
    }
    let children = if depth > 0 {
        db.get_ids(&c, p, id, "child_ids").into_iter().filter_map(|ch| partner_view(db, ch, depth - 1)).collect()
    } else {
        Vec::new()
    };
    Some(PartnerView {
        id,
        name: db.get_str(&c, p, id, "name").unwrap_or_default(),
        display_name: db.display_name(&c, p, id),
        email: db.get_str(&c, p, id, "email"),
        is_company: db.get_bool(&c, p, id, "is_company"),
        kind: db.get_str(&c, p, id, "type").unwrap_or_default(),
        parent_id: db.get_id(&c, p, id, "parent_id"),
        street: db.get_str(&c, p, id, "street"),
        street2: db.get_str(&c, p, id, "street2"),
        city: db.get_str(&c, p, id, "city"),
        zip: db.get_str(&c, p, id, "zip"),
        state_code: db.get_id(&c, p, id, "state_id").and_then(|s| db.get_str(&c, "res.country.state", s, "code")),
        country_code: db.get_id(&c, p, id, "country_id").and_then(|s| db.get_str(&c, "res.country", s, "code")),
        phone: db.get_str(&c, p, id, "phone"),
        vat: db.get_str(&c, p, id, "vat"),
        lang: db.get_str(&c, p, id, "lang"),
        active: db.get_bool(&c, p, id, "active"),
        children,
    })
}

impl OpenErpSandbox {
    /// Every sales order (newest first, as Odoo orders them).
    pub fn orders(&self) -> Vec<OrderView> {
        let db = self.shared().lock();
        let ids = db.search_all(&all(), "sale.order", &Domain::all()).unwrap_or_default();
        ids.into_iter().filter_map(|i| order_view(&db, i)).collect()
    }

    /// One sales order.
    pub fn order(&self, id: i64) -> Option<OrderView> {
        order_view(&self.shared().lock(), id)
    }

    /// Sales orders whose `client_order_ref` equals `reference`.
    pub fn orders_by_client_ref(&self, reference: &str) -> Vec<OrderView> {
        let db = self.shared().lock();
        let ids = db
            .search_all(&all(), "sale.order", &Domain::leaf("client_order_ref", "=", Value::String(reference.into())))
            .unwrap_or_default();
        ids.into_iter().filter_map(|i| order_view(&db, i)).collect()
    }

    /// A partner with its children (two levels).
    pub fn partner(&self, id: i64) -> Option<PartnerView> {
        partner_view(&self.shared().lock(), id, 2)
    }

    /// Partners whose email matches case-insensitively (`=ilike`), archived included.
    pub fn partners_by_email(&self, email: &str) -> Vec<PartnerView> {
        let db = self.shared().lock();
        let ids = db
            .search_all(&all(), "res.partner", &Domain::leaf("email", "=ilike", Value::String(email.into())))
            .unwrap_or_default();
        ids.into_iter().filter_map(|i| partner_view(&db, i, 2)).collect()
    }

    /// The product variant with this internal reference (archived included).
    pub fn product_id(&self, sku: &str) -> Option<i64> {
        let db = self.shared().lock();
        db.search_one(&all(), "product.product", &Domain::leaf("default_code", "=", Value::String(sku.into())))
            .ok()
            .flatten()
    }

    /// Stock of a product in one warehouse (`None`: every warehouse).
    pub fn stock(&self, product: i64, warehouse: Option<i64>) -> StockView {
        let db = self.shared().lock();
        let mut c = all();
        if let Some(w) = warehouse {
            c = c.with("warehouse", Value::Integer(w as i32));
        }
        let q = |f: &str| stock::product_quantity(&db, &c, product, f);
        StockView {
            on_hand: q("qty_available"),
            forecast: q("virtual_available"),
            free: q("free_qty"),
            incoming: q("incoming_qty"),
            outgoing: q("outgoing_qty"),
        }
    }

    /// Confirms an order as a salesperson would (`action_confirm`).
    pub fn confirm_order(&self, order: i64) -> Result<(), SandboxError> {
        self.call("sale.order", "action_confirm", vec![Value::Array(vec![crate::rpc::value::id(order)])], Map::new())?;
        Ok(())
    }

    /// Validates a delivery: `done` gives delivered quantities per product (`None`: all),
    /// `tracking_ref` the carrier reference (ignored without the `delivery` module), `backorder`
    /// whether the rest waits in a new delivery. Returns the backorder.
    pub fn deliver(
        &self,
        picking: i64,
        done: Option<&[(i64, Decimal)]>,
        tracking_ref: Option<&str>,
        backorder: bool,
    ) -> Result<Option<i64>, SandboxError> {
        let map: Option<HashMap<i64, Decimal>> = done.map(|d| {
            let mut m = HashMap::new();
            for (p, q) in d {
                *m.entry(*p).or_insert(Decimal::ZERO) += *q;
            }
            m
        });
        self.with_db(|db| stock::validate_picking(db, &Ctx::user(2), picking, map.as_ref(), tracking_ref, backorder))
    }

    /// Delivers every open delivery of an order in full; returns the validated deliveries.
    pub fn deliver_order(&self, order: i64, tracking_ref: Option<&str>) -> Result<Vec<i64>, SandboxError> {
        self.with_db(|db| {
            let c = all();
            let open: Vec<i64> = db
                .get_ids(&c, "sale.order", order, "picking_ids")
                .into_iter()
                .filter(|p| {
                    !matches!(db.get_str(&c, "stock.picking", *p, "state").as_deref(), Some("done") | Some("cancel"))
                })
                .collect();
            for p in &open {
                stock::validate_picking(db, &Ctx::user(2), *p, None, tracking_ref, false)?;
            }
            Ok(open)
        })
    }

    /// Creates a customer invoice for an order: `lines` gives quantities per order line
    /// (`None`: everything left to invoice); `post` posts it. Returns the invoice id.
    pub fn invoice_order(&self, order: i64, lines: Option<&[InvoiceLine]>, post: bool) -> Result<i64, SandboxError> {
        self.with_db(|db| invoice(db, order, lines, post))
    }

    /// Cancels an order as `action_cancel` does once the user confirmed the wizard.
    pub fn cancel_order(&self, order: i64) -> Result<(), SandboxError> {
        self.with_db(|db| {
            if !db.exists("sale.order", order) {
                return Err(OdooError::missing("sale.order", &[order], 2));
            }
            sale::cancel_orders(db, &Ctx::user(2).with("disable_cancel_warning", Value::Boolean(true)), &[order])
        })
    }

    /// Sets the on-hand quantity of a product in a warehouse's stock location.
    pub fn set_stock(&self, product: i64, warehouse: i64, qty: Decimal) -> Result<(), SandboxError> {
        self.with_db(|db| {
            let lot = db
                .get_id(&all(), "stock.warehouse", warehouse, "lot_stock_id")
                .ok_or_else(|| OdooError::missing("stock.warehouse", &[warehouse], 2))?;
            stock::set_on_hand(db, &Ctx::user(2), product, lot, qty)
        })
    }

    /// Edits a product variant as a user would in the variant form (XML-RPC values; `lang`
    /// selects the language of translatable texts).
    pub fn edit_product(&self, product: i64, vals: Map, lang: Option<&str>) -> Result<(), SandboxError> {
        let mut kw = Map::new();
        if let Some(l) = lang {
            kw.insert("context".into(), crate::rpc::value::structure([("lang", Value::String(l.into()))]));
        }
        self.call(
            "product.product",
            "write",
            vec![Value::Array(vec![crate::rpc::value::id(product)]), Value::Struct(vals)],
            kw,
        )?;
        Ok(())
    }

    /// Archives a product variant (and its template when it was the last active variant).
    pub fn archive_product(&self, product: i64) -> Result<(), SandboxError> {
        self.call(
            "product.product",
            "action_archive",
            vec![Value::Array(vec![crate::rpc::value::id(product)])],
            Map::new(),
        )?;
        Ok(())
    }
}

fn invoice(db: &mut Db, order: i64, lines: Option<&[InvoiceLine]>, post: bool) -> Result<i64, OdooError> {
    let c = Ctx::user(2);
    let so = "sale.order";
    let sol = "sale.order.line";
    if !db.exists(so, order) {
        return Err(OdooError::missing(so, &[order], 2));
    }
    let mut cmds = Vec::new();
    for l in db.get_ids(&all(), so, order, "order_line") {
        if db.get(&c, sol, l, "display_type")?.truthy() {
            continue;
        }
        let qty = match lines {
            Some(ls) => ls.iter().filter(|x| x.line_id == l).map(|x| x.qty).sum(),
            None => sale::qty_to_invoice(db, &c, l),
        };
        if qty.is_zero() {
            continue;
        }
        cmds.push(Cmd::Create(
            Vals::new()
                .with("product_id", Val::opt_id(db.get_id(&c, sol, l, "product_id")))
                .with("name", Val::opt_str(db.get_str(&c, sol, l, "name").as_deref()))
                .with("quantity", Val::Num(qty))
                .with("price_unit", Val::Num(db.get_num(&c, sol, l, "price_unit")))
                .with("discount", Val::Num(db.get_num(&c, sol, l, "discount")))
                .with("product_uom_id", Val::opt_id(db.get_id(&c, sol, l, "product_uom")))
                .with("tax_ids", Val::Ids(db.get_ids(&all(), sol, l, "tax_id")))
                .with("sale_line_ids", Val::Ids(vec![l])),
        ));
    }
    if cmds.is_empty() {
        return Err(OdooError::User(
            "There is no invoiceable line. If a product has a Delivered quantities invoicing policy, please make sure that a quantity has been delivered.".into(),
        ));
    }
    let vals = Vals::new()
        .with("move_type", Val::str("out_invoice"))
        .with("partner_id", Val::opt_id(db.get_id(&c, so, order, "partner_invoice_id")))
        .with("invoice_origin", Val::opt_str(db.get_str(&c, so, order, "name").as_deref()))
        .with("ref", Val::opt_str(db.get_str(&c, so, order, "client_order_ref").as_deref()))
        .with("currency_id", Val::opt_id(db.get_id(&c, so, order, "currency_id")))
        .with("invoice_payment_term_id", Val::opt_id(db.get_id(&c, so, order, "payment_term_id")))
        .with("invoice_user_id", Val::opt_id(db.get_id(&c, so, order, "user_id")))
        .with_cmds("invoice_line_ids", cmds);
    let id = db.create(&c, "account.move", vals)?;
    if post {
        let mut args = super::orm::rpc::Args::new("account.move.action_post", Vec::new(), Map::new());
        super::models::account::action_post(db, &c, &[id], &mut args)?;
    }
    Ok(id)
}
