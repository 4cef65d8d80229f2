//! Orders, invoices and shipments, and the order state machine of `Mage_Sales_Model_Order`
//! (`canInvoice`, `canShip`, `canCancel`, `canHold`, `_checkState`).
//!
//! Amounts are kept twice, in the base currency (USD) and in the order currency, as Magento
//! stores `base_*` and plain columns. Increment ids come from a sequence per entity type and
//! store: store 1 numbers `1000000NN`, store 2 `2000000NN`, store 3 `3000000NN`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// Order-level amounts in one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Amounts {
    /// Sum of row totals (tax excluded).
    pub subtotal: Decimal,
    /// Discount, **negative** (or zero) as Magento stores it on the order.
    pub discount: Decimal,
    /// Shipping (tax excluded).
    pub shipping: Decimal,
    /// Tax on shipping.
    pub shipping_tax: Decimal,
    /// Total tax (rows and shipping).
    pub tax: Decimal,
    /// Tax included in the discount (catalog prices including tax), added back to the total.
    pub hidden_tax: Decimal,
    /// Grand total = subtotal + discount + shipping + tax + hidden tax.
    pub grand_total: Decimal,
    /// Sum of row totals including tax.
    pub subtotal_incl_tax: Decimal,
    /// Shipping including its tax.
    pub shipping_incl_tax: Decimal,
}

impl Amounts {
    /// Component-wise sum.
    pub(crate) fn add(&self, o: &Amounts) -> Amounts {
        Amounts {
            subtotal: self.subtotal + o.subtotal,
            discount: self.discount + o.discount,
            shipping: self.shipping + o.shipping,
            shipping_tax: self.shipping_tax + o.shipping_tax,
            tax: self.tax + o.tax,
            hidden_tax: self.hidden_tax + o.hidden_tax,
            grand_total: self.grand_total + o.grand_total,
            subtotal_incl_tax: self.subtotal_incl_tax + o.subtotal_incl_tax,
            shipping_incl_tax: self.shipping_incl_tax + o.shipping_incl_tax,
        }
    }
}

/// Row amounts of an item in one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ItemAmounts {
    /// Unit price (tax excluded).
    pub price: Decimal,
    /// Catalog price before special prices / options.
    pub original_price: Decimal,
    /// price × qty.
    pub row_total: Decimal,
    /// Tax of the row, after discount.
    pub tax: Decimal,
    /// Discount of the row (**positive**).
    pub discount: Decimal,
    /// Unit price including tax.
    pub price_incl_tax: Decimal,
    /// Row total including tax.
    pub row_total_incl_tax: Decimal,
    /// Tax included in the discount (catalog prices including tax).
    pub hidden_tax: Decimal,
}

/// What has been invoiced of an item, in one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ItemInvoiced {
    /// Tax invoiced.
    pub tax: Decimal,
    /// Discount invoiced.
    pub discount: Decimal,
    /// Row total invoiced.
    pub row: Decimal,
}

/// An order line (`sales_flat_order_item`).
#[derive(Debug, Clone)]
pub(crate) struct OrderItem {
    /// Item id.
    pub id: i64,
    /// Parent line of a configurable's child line.
    pub parent_item_id: Option<i64>,
    /// Quote item id.
    pub quote_item_id: i64,
    /// Product id.
    pub product_id: i64,
    /// Product type.
    pub product_type: String,
    /// SKU (the child's SKU on a configurable parent line).
    pub sku: String,
    /// Name.
    pub name: String,
    /// PHP-serialized options.
    pub product_options: String,
    /// Unit weight (`None` for virtual products).
    pub weight: Option<Decimal>,
    /// Virtual product.
    pub is_virtual: bool,
    /// Ordered quantity.
    pub qty_ordered: Decimal,
    /// Invoiced quantity.
    pub qty_invoiced: Decimal,
    /// Shipped quantity.
    pub qty_shipped: Decimal,
    /// Canceled quantity.
    pub qty_canceled: Decimal,
    /// Tax rate in percent.
    pub tax_percent: Decimal,
    /// Discount rate in percent (percent rules only).
    pub discount_percent: Decimal,
    /// Amounts in the base currency.
    pub base: ItemAmounts,
    /// Amounts in the order currency.
    pub amounts: ItemAmounts,
    /// Invoiced so far (base).
    pub base_invoiced: ItemInvoiced,
    /// Invoiced so far (order currency).
    pub invoiced: ItemInvoiced,
    /// Whether anything was invoiced yet (hidden tax columns switch from NULL to 0).
    pub any_invoiced: bool,
    /// Tax canceled (set by `cancel`).
    pub tax_canceled: Option<Decimal>,
    /// Sales rules applied.
    pub applied_rule_ids: Option<String>,
    /// Child line of a configurable (prices and tax are zero, several columns NULL).
    pub dummy: bool,
    /// Parent line of a configurable.
    pub has_children: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl OrderItem {
    /// Quantity still to invoice (dummy lines follow their parent and report 0).
    pub(crate) fn qty_to_invoice(&self) -> Decimal {
        if self.dummy {
            Decimal::ZERO
        } else {
            (self.qty_ordered - self.qty_invoiced - self.qty_canceled).max(Decimal::ZERO)
        }
    }

    /// Quantity still to ship.
    pub(crate) fn qty_to_ship(&self) -> Decimal {
        if self.dummy || self.is_virtual {
            Decimal::ZERO
        } else {
            (self.qty_ordered - self.qty_shipped - self.qty_canceled).max(Decimal::ZERO)
        }
    }
}

/// A billing or shipping address copied onto the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrderAddress {
    /// Address id.
    pub id: i64,
    /// `billing` or `shipping`.
    pub address_type: &'static str,
    /// Address-book entry it was picked from.
    pub customer_address_id: Option<i64>,
    /// Customer (NULL for guests).
    pub customer_id: Option<i64>,
    /// Email.
    pub email: String,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// Company.
    pub company: Option<String>,
    /// Street lines joined with `\n`.
    pub street: String,
    /// City.
    pub city: String,
    /// Region name.
    pub region: Option<String>,
    /// Region id.
    pub region_id: Option<i64>,
    /// Postcode.
    pub postcode: String,
    /// Country.
    pub country_id: String,
    /// Phone.
    pub telephone: String,
}

/// A status history entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct History {
    /// Entry id (ordering only; the API does not return it).
    pub id: i64,
    /// 0 no, 1 yes, 2 not applicable.
    pub is_customer_notified: i64,
    /// Comment.
    pub comment: Option<String>,
    /// Status at the time.
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// `order`, `invoice` or `shipment`.
    pub entity_name: &'static str,
}

/// A sales rule applied to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppliedRule {
    /// Rule id.
    pub rule_id: i64,
    /// Coupon code.
    pub coupon_code: String,
    /// Rule name (`coupon_rule_name`).
    pub rule_name: String,
    /// Label (`discount_description`).
    pub label: String,
}

/// An order (`sales_flat_order` and its children).
#[derive(Debug, Clone)]
pub(crate) struct Order {
    /// Entity id.
    pub id: i64,
    /// Increment id.
    pub increment_id: String,
    /// Store view.
    pub store_id: i64,
    /// `Website\nGroup\nView`.
    pub store_name: String,
    /// Quote id.
    pub quote_id: i64,
    /// Protect code.
    pub protect_code: String,
    /// State.
    pub state: String,
    /// Status.
    pub status: String,
    /// State and status before `hold`.
    pub hold_before: Option<(String, String)>,
    /// Customer (NULL for guests).
    pub customer_id: Option<i64>,
    /// Customer group.
    pub customer_group_id: i64,
    /// Email.
    pub customer_email: String,
    /// First name.
    pub customer_firstname: String,
    /// Last name.
    pub customer_lastname: String,
    /// Date of birth (`'YYYY-MM-DD 00:00:00'`).
    pub customer_dob: Option<String>,
    /// Gender option.
    pub customer_gender: Option<i64>,
    /// Tax/VAT number.
    pub customer_taxvat: Option<String>,
    /// Base currency.
    pub base_currency: String,
    /// Order currency.
    pub order_currency: String,
    /// Base → order rate.
    pub rate: Decimal,
    /// Applied rule, if any.
    pub rule: Option<AppliedRule>,
    /// Shipping method code.
    pub shipping_method: String,
    /// Shipping description.
    pub shipping_description: String,
    /// Lines (parents before their children).
    pub items: Vec<OrderItem>,
    /// Billing address.
    pub billing: OrderAddress,
    /// Shipping address (`None` for virtual orders).
    pub shipping: Option<OrderAddress>,
    /// Totals in the base currency.
    pub base: Amounts,
    /// Totals in the order currency.
    pub amounts: Amounts,
    /// Invoiced totals (base), once invoiced.
    pub base_invoiced: Option<Amounts>,
    /// Invoiced totals (order currency).
    pub invoiced: Option<Amounts>,
    /// Canceled totals (base), once canceled.
    pub base_canceled: Option<Amounts>,
    /// Canceled totals (order currency).
    pub canceled: Option<Amounts>,
    /// Total weight.
    pub weight: Decimal,
    /// Sum of parent-level quantities.
    pub total_qty_ordered: Decimal,
    /// Parent-level line count.
    pub total_item_count: i64,
    /// Only virtual items.
    pub is_virtual: bool,
    /// Payment entity id.
    pub payment_id: i64,
    /// Payment method.
    pub payment_method: String,
    /// Status history, oldest first.
    pub history: Vec<History>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
    /// Invoice ids.
    pub invoices: Vec<i64>,
    /// Shipment ids.
    pub shipments: Vec<i64>,
}

/// States in which nothing but comments can happen.
const FINAL_STATES: &[&str] = &["canceled", "complete", "closed"];

impl Order {
    /// `canInvoice()`.
    pub(crate) fn can_invoice(&self) -> bool {
        if FINAL_STATES.contains(&self.state.as_str()) || self.state == "holded" || self.state == "payment_review" {
            return false;
        }
        self.items.iter().any(|i| i.qty_to_invoice() > Decimal::ZERO)
    }

    /// `canShip()`.
    pub(crate) fn can_ship(&self) -> bool {
        if self.state == "holded" || self.state == "payment_review" || self.is_virtual || self.state == "canceled" {
            return false;
        }
        self.items.iter().any(|i| i.qty_to_ship() > Decimal::ZERO)
    }

    /// `canCancel()`.
    pub(crate) fn can_cancel(&self) -> bool {
        if self.state == "holded" || FINAL_STATES.contains(&self.state.as_str()) || self.state == "payment_review" {
            return false;
        }
        self.items.iter().any(|i| i.qty_to_invoice() > Decimal::ZERO)
    }

    /// `canHold()`.
    pub(crate) fn can_hold(&self) -> bool {
        !FINAL_STATES.contains(&self.state.as_str()) && self.state != "holded" && self.state != "payment_review"
    }

    /// Default status of a state.
    pub(crate) fn default_status(state: &str) -> &'static str {
        match state {
            "new" => "pending",
            "processing" => "processing",
            "complete" => "complete",
            "closed" => "closed",
            "canceled" => "canceled",
            "holded" => "holded",
            "payment_review" => "payment_review",
            _ => "pending",
        }
    }

    /// Appends a history entry.
    pub(crate) fn add_history(
        &mut self,
        id: i64,
        status: &str,
        comment: Option<String>,
        notified: i64,
        entity: &'static str,
        at: DateTime<Utc>,
    ) {
        self.history.push(History {
            id,
            is_customer_notified: notified,
            comment,
            status: status.to_owned(),
            created_at: at,
            entity_name: entity,
        });
    }

    /// `_setState($state, true, …)`: state, its default status and a history entry.
    pub(crate) fn set_state(
        &mut self,
        history_id: i64,
        state: &str,
        notified: i64,
        entity: &'static str,
        at: DateTime<Utc>,
    ) {
        self.state = state.to_owned();
        self.status = Order::default_status(state).to_owned();
        let status = self.status.clone();
        self.add_history(history_id, &status, None, notified, entity, at);
    }

    /// `_checkState()` after an invoice or shipment was saved (`is_in_process` set).
    pub(crate) fn check_state(
        &mut self,
        history_id: &mut impl FnMut() -> i64,
        entity: &'static str,
        at: DateTime<Utc>,
    ) {
        let notify = 1;
        if self.state != "canceled"
            && self.state != "holded"
            && !self.can_invoice()
            && !self.can_ship()
            && self.state != "complete"
        {
            self.set_state(history_id(), "complete", notify, entity, at);
        }
        if self.state == "new" {
            self.set_state(history_id(), "processing", notify, entity, at);
        }
    }

    /// The address used for tax and the list's name columns (shipping, or billing when virtual).
    pub(crate) fn tax_address(&self) -> &OrderAddress {
        self.shipping.as_ref().unwrap_or(&self.billing)
    }
}

/// A comment on an invoice or shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Comment {
    /// Comment id.
    pub id: i64,
    /// Text.
    pub comment: String,
    /// Customer was notified.
    pub notified: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// An invoice line.
#[derive(Debug, Clone)]
pub(crate) struct InvoiceItem {
    /// Item id.
    pub id: i64,
    /// Order line.
    pub order_item_id: i64,
    /// Product.
    pub product_id: i64,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Quantity invoiced.
    pub qty: Decimal,
    /// Child line of a configurable.
    pub dummy: bool,
    /// Base amounts.
    pub base: ItemAmounts,
    /// Order-currency amounts.
    pub amounts: ItemAmounts,
}

/// An invoice.
#[derive(Debug, Clone)]
pub(crate) struct Invoice {
    /// Entity id.
    pub id: i64,
    /// Increment id.
    pub increment_id: String,
    /// Order entity id.
    pub order_id: i64,
    /// Store view.
    pub store_id: i64,
    /// 1 open, 2 paid, 3 canceled.
    pub state: i64,
    /// Lines.
    pub items: Vec<InvoiceItem>,
    /// Base totals.
    pub base: Amounts,
    /// Order-currency totals.
    pub amounts: Amounts,
    /// Quantity invoiced.
    pub total_qty: Decimal,
    /// Comments.
    pub comments: Vec<Comment>,
    /// Email sent.
    pub email_sent: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

/// A shipment line.
#[derive(Debug, Clone)]
pub(crate) struct ShipmentItem {
    /// Item id.
    pub id: i64,
    /// Order line.
    pub order_item_id: i64,
    /// Product.
    pub product_id: i64,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Unit price (order currency).
    pub price: Decimal,
    /// Unit weight.
    pub weight: Option<Decimal>,
    /// Quantity shipped.
    pub qty: Decimal,
}

/// A tracking number.
#[derive(Debug, Clone)]
pub(crate) struct Track {
    /// Track id.
    pub id: i64,
    /// Carrier code (`ups`, `custom`…).
    pub carrier_code: String,
    /// Title.
    pub title: String,
    /// Number.
    pub number: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A shipment.
#[derive(Debug, Clone)]
pub(crate) struct Shipment {
    /// Entity id.
    pub id: i64,
    /// Increment id.
    pub increment_id: String,
    /// Order entity id.
    pub order_id: i64,
    /// Store view.
    pub store_id: i64,
    /// Lines.
    pub items: Vec<ShipmentItem>,
    /// Tracking numbers.
    pub tracks: Vec<Track>,
    /// Comments.
    pub comments: Vec<Comment>,
    /// Quantity shipped.
    pub total_qty: Decimal,
    /// Email sent.
    pub email_sent: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

/// Id counters of the sales tables.
#[derive(Debug, Clone)]
pub(crate) struct SalesIds {
    next: HashMap<&'static str, i64>,
}

impl SalesIds {
    /// Next id of `table` (1-based).
    pub(crate) fn next(&mut self, table: &'static str) -> i64 {
        let n = self.next.entry(table).or_insert(1);
        let id = *n;
        *n += 1;
        id
    }
}

/// Orders, invoices, shipments and their indexes.
#[derive(Debug)]
pub(crate) struct Sales {
    orders: BTreeMap<i64, Order>,
    order_by_increment: HashMap<String, i64>,
    invoices: BTreeMap<i64, Invoice>,
    invoice_by_increment: HashMap<String, i64>,
    shipments: BTreeMap<i64, Shipment>,
    shipment_by_increment: HashMap<String, i64>,
    sequences: HashMap<(&'static str, i64), u64>,
    /// Row id counters.
    pub ids: SalesIds,
}

impl Default for Sales {
    fn default() -> Self {
        Sales {
            orders: BTreeMap::new(),
            order_by_increment: HashMap::new(),
            invoices: BTreeMap::new(),
            invoice_by_increment: HashMap::new(),
            shipments: BTreeMap::new(),
            shipment_by_increment: HashMap::new(),
            sequences: HashMap::new(),
            ids: SalesIds { next: HashMap::new() },
        }
    }
}

impl Sales {
    /// Next increment id of `entity` (`order`, `invoice`, `shipment`) in `store`.
    pub(crate) fn next_increment(&mut self, entity: &'static str, store: i64) -> String {
        let n = self.sequences.entry((entity, store)).or_insert(0);
        *n += 1;
        format!("{store}{:08}", *n)
    }

    /// Inserts or replaces an order.
    pub(crate) fn put_order(&mut self, o: Order) {
        self.order_by_increment.insert(o.increment_id.clone(), o.id);
        self.orders.insert(o.id, o);
    }

    /// Order by increment id.
    pub(crate) fn order_by_increment(&self, inc: &str) -> Option<&Order> {
        self.order_by_increment.get(inc).and_then(|id| self.orders.get(id))
    }

    /// Mutable order by increment id.
    pub(crate) fn order_by_increment_mut(&mut self, inc: &str) -> Option<&mut Order> {
        let id = *self.order_by_increment.get(inc)?;
        self.orders.get_mut(&id)
    }

    /// Order by entity id.
    pub(crate) fn order(&self, id: i64) -> Option<&Order> {
        self.orders.get(&id)
    }

    /// Every order by entity id.
    pub(crate) fn orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.values()
    }

    /// Number of orders.
    pub(crate) fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// Inserts an invoice.
    pub(crate) fn put_invoice(&mut self, i: Invoice) {
        self.invoice_by_increment.insert(i.increment_id.clone(), i.id);
        self.invoices.insert(i.id, i);
    }

    /// Invoice by increment id.
    pub(crate) fn invoice_by_increment(&self, inc: &str) -> Option<&Invoice> {
        self.invoice_by_increment.get(inc).and_then(|id| self.invoices.get(id))
    }

    /// Invoice by entity id.
    pub(crate) fn invoice(&self, id: i64) -> Option<&Invoice> {
        self.invoices.get(&id)
    }

    /// Every invoice by id.
    pub(crate) fn invoices(&self) -> impl Iterator<Item = &Invoice> {
        self.invoices.values()
    }

    /// Inserts or replaces a shipment.
    pub(crate) fn put_shipment(&mut self, s: Shipment) {
        self.shipment_by_increment.insert(s.increment_id.clone(), s.id);
        self.shipments.insert(s.id, s);
    }

    /// Shipment by increment id.
    pub(crate) fn shipment_by_increment(&self, inc: &str) -> Option<&Shipment> {
        self.shipment_by_increment.get(inc).and_then(|id| self.shipments.get(id))
    }

    /// Mutable shipment by increment id.
    pub(crate) fn shipment_by_increment_mut(&mut self, inc: &str) -> Option<&mut Shipment> {
        let id = *self.shipment_by_increment.get(inc)?;
        self.shipments.get_mut(&id)
    }

    /// Shipment by entity id.
    pub(crate) fn shipment(&self, id: i64) -> Option<&Shipment> {
        self.shipments.get(&id)
    }

    /// Every shipment by id.
    pub(crate) fn shipments(&self) -> impl Iterator<Item = &Shipment> {
        self.shipments.values()
    }
}
