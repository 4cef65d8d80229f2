//! Read-only views of the sandbox's data for tests and benchmarks: owned snapshots with typed
//! fields (money as `Decimal`), so assertions never go through the XML-RPC API.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::model::Shop;
use super::model::catalog::{Category, Product};
use super::model::sales::{Amounts, Order};
use super::php;

/// Stock of a product as Magento sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockView {
    /// Quantity.
    pub qty: Decimal,
    /// `is_in_stock` as `getIsInStock()` reports it (always true without stock management).
    pub is_in_stock: bool,
    /// Effective stock management.
    pub manage_stock: bool,
    /// The item's own backorders code (`None`: `use_config_backorders`, the shop's default).
    pub backorders: Option<i64>,
}

/// One image of a product's gallery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaView {
    /// Stored path (`/b/r/brass-lamp.png`).
    pub file: String,
    /// Label.
    pub label: Option<String>,
    /// Position.
    pub position: i64,
    /// Disabled.
    pub exclude: bool,
    /// Roles (`image`, `small_image`, `thumbnail`).
    pub types: Vec<String>,
    /// Mime type.
    pub mime: String,
    /// Decoded size in bytes.
    pub size: usize,
}

/// A product with its default and store-level values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductView {
    /// Entity id.
    pub id: i64,
    /// SKU.
    pub sku: String,
    /// Type.
    pub type_id: String,
    /// Attribute set.
    pub set_id: i64,
    /// Default (admin) values as PHP would print them.
    pub values: BTreeMap<String, String>,
    /// Store-level values (`store_id → code → value`), without fallback.
    pub store_values: BTreeMap<i64, BTreeMap<String, String>>,
    /// Websites.
    pub website_ids: Vec<i64>,
    /// Categories.
    pub category_ids: Vec<i64>,
    /// Stock.
    pub stock: StockView,
    /// Gallery.
    pub media: Vec<MediaView>,
    /// Children of a configurable.
    pub children: Vec<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl ProductView {
    /// Value of `code` in `store` with "use default" fallback (store 0 = default).
    pub fn value(&self, code: &str, store: i64) -> Option<&str> {
        self.store_values.get(&store).and_then(|m| m.get(code)).or_else(|| self.values.get(code)).map(String::as_str)
    }

    /// Store-level value only (no fallback).
    pub fn store_value(&self, store: i64, code: &str) -> Option<&str> {
        self.store_values.get(&store).and_then(|m| m.get(code)).map(String::as_str)
    }

    /// A decimal attribute (`price`, `weight`…) in `store`.
    pub fn decimal(&self, code: &str, store: i64) -> Option<Decimal> {
        self.value(code, store).and_then(|s| s.parse().ok())
    }
}

fn text_map(m: &BTreeMap<String, dxr::Value>) -> BTreeMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), php::to_php_string(v))).collect()
}

pub(crate) fn product_view(p: &Product) -> ProductView {
    ProductView {
        id: p.id,
        sku: p.sku.clone(),
        type_id: p.type_id.clone(),
        set_id: p.set_id,
        values: text_map(&p.values),
        store_values: p.store_values.iter().map(|(s, m)| (*s, text_map(m))).collect(),
        website_ids: p.website_ids.iter().copied().collect(),
        category_ids: p.category_ids.iter().copied().collect(),
        stock: StockView {
            qty: p.stock.qty,
            is_in_stock: p.stock.in_stock(),
            manage_stock: p.stock.manages(),
            backorders: (!p.stock.use_config_backorders).then_some(p.stock.backorders),
        },
        media: p
            .media
            .iter()
            .map(|m| MediaView {
                file: m.file.clone(),
                label: m.label.clone(),
                position: m.position,
                exclude: m.exclude,
                types: super::resources::media::TYPES
                    .iter()
                    .filter(|t| p.values.get(**t).map(php::to_php_string).as_deref() == Some(m.file.as_str()))
                    .map(|t| (*t).to_owned())
                    .collect(),
                mime: m.mime.clone(),
                size: m.content.len(),
            })
            .collect(),
        children: p.children.clone(),
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// A category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryView {
    /// Entity id.
    pub id: i64,
    /// Parent.
    pub parent_id: i64,
    /// Path (`1/2/3`).
    pub path: String,
    /// Position among siblings.
    pub position: i64,
    /// Level.
    pub level: i64,
    /// Default name.
    pub name: String,
    /// Store-level names.
    pub store_names: BTreeMap<i64, String>,
    /// Default `is_active`.
    pub is_active: bool,
    /// Default values as text.
    pub values: BTreeMap<String, String>,
    /// Products assigned directly.
    pub product_ids: Vec<i64>,
}

pub(crate) fn category_view(shop: &Shop, c: &Category) -> CategoryView {
    CategoryView {
        id: c.id,
        parent_id: c.parent_id,
        path: c.path.clone(),
        position: c.position,
        level: c.level,
        name: c.name(0),
        store_names: c
            .store_values
            .iter()
            .filter_map(|(s, m)| m.get("name").map(|n| (*s, php::to_php_string(n))))
            .collect(),
        is_active: c.values.get("is_active").is_some_and(php::truthy),
        values: text_map(&c.values),
        product_ids: shop.catalog.assigned(c.id).into_iter().map(|(p, _)| p).collect(),
    }
}

/// Totals of an order in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotalsView {
    /// Subtotal.
    pub subtotal: Decimal,
    /// Discount (negative).
    pub discount: Decimal,
    /// Shipping.
    pub shipping: Decimal,
    /// Shipping tax (included in `tax`).
    pub shipping_tax: Decimal,
    /// Tax.
    pub tax: Decimal,
    /// Grand total.
    pub grand_total: Decimal,
}

fn totals(a: &Amounts) -> TotalsView {
    TotalsView {
        subtotal: a.subtotal,
        discount: a.discount,
        shipping: a.shipping,
        shipping_tax: a.shipping_tax,
        tax: a.tax,
        grand_total: a.grand_total,
    }
}

/// An order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItemView {
    /// Item id.
    pub id: i64,
    /// Parent line (configurable child).
    pub parent_item_id: Option<i64>,
    /// SKU.
    pub sku: String,
    /// Product type.
    pub product_type: String,
    /// Ordered.
    pub qty_ordered: Decimal,
    /// Invoiced.
    pub qty_invoiced: Decimal,
    /// Shipped.
    pub qty_shipped: Decimal,
    /// Canceled.
    pub qty_canceled: Decimal,
    /// Unit price (order currency).
    pub price: Decimal,
    /// Unit price (base).
    pub base_price: Decimal,
    /// Row total (order currency).
    pub row_total: Decimal,
    /// Tax (order currency).
    pub tax: Decimal,
    /// Discount, positive (order currency).
    pub discount: Decimal,
}

/// A status history entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryView {
    /// Status.
    pub status: String,
    /// Comment.
    pub comment: Option<String>,
    /// 0 no, 1 yes, 2 n/a.
    pub is_customer_notified: i64,
    /// `order`, `invoice` or `shipment`.
    pub entity_name: String,
}

/// An invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceView {
    /// Increment id.
    pub increment_id: String,
    /// Quantity.
    pub total_qty: Decimal,
    /// Totals (order currency).
    pub totals: TotalsView,
    /// Totals (base).
    pub base: TotalsView,
    /// `(order_item_id, qty)`.
    pub items: Vec<(i64, Decimal)>,
    /// Comments.
    pub comments: Vec<String>,
}

/// A tracking number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackView {
    /// Track id.
    pub id: i64,
    /// Carrier code.
    pub carrier_code: String,
    /// Title.
    pub title: String,
    /// Number.
    pub number: String,
}

/// A shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentView {
    /// Increment id.
    pub increment_id: String,
    /// Quantity.
    pub total_qty: Decimal,
    /// `(order_item_id, qty)`.
    pub items: Vec<(i64, Decimal)>,
    /// Tracking numbers.
    pub tracks: Vec<TrackView>,
    /// Comments.
    pub comments: Vec<String>,
}

/// An order with its documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    /// Entity id.
    pub id: i64,
    /// Increment id.
    pub increment_id: String,
    /// Store view.
    pub store_id: i64,
    /// State.
    pub state: String,
    /// Status.
    pub status: String,
    /// Customer (None: guest).
    pub customer_id: Option<i64>,
    /// Customer email.
    pub customer_email: String,
    /// Order currency.
    pub order_currency: String,
    /// Base → order rate.
    pub base_to_order_rate: Decimal,
    /// Totals in the order currency.
    pub totals: TotalsView,
    /// Totals in the base currency.
    pub base: TotalsView,
    /// Coupon.
    pub coupon_code: Option<String>,
    /// Lines.
    pub items: Vec<OrderItemView>,
    /// Status history, oldest first.
    pub history: Vec<HistoryView>,
    /// Invoices.
    pub invoices: Vec<InvoiceView>,
    /// Shipments.
    pub shipments: Vec<ShipmentView>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

pub(crate) fn order_view(shop: &Shop, o: &Order) -> OrderView {
    OrderView {
        id: o.id,
        increment_id: o.increment_id.clone(),
        store_id: o.store_id,
        state: o.state.clone(),
        status: o.status.clone(),
        customer_id: o.customer_id,
        customer_email: o.customer_email.clone(),
        order_currency: o.order_currency.clone(),
        base_to_order_rate: o.rate,
        totals: totals(&o.amounts),
        base: totals(&o.base),
        coupon_code: o.rule.as_ref().map(|r| r.coupon_code.clone()),
        items: o
            .items
            .iter()
            .map(|i| OrderItemView {
                id: i.id,
                parent_item_id: i.parent_item_id,
                sku: i.sku.clone(),
                product_type: i.product_type.clone(),
                qty_ordered: i.qty_ordered,
                qty_invoiced: i.qty_invoiced,
                qty_shipped: i.qty_shipped,
                qty_canceled: i.qty_canceled,
                price: i.amounts.price,
                base_price: i.base.price,
                row_total: i.amounts.row_total,
                tax: i.amounts.tax,
                discount: i.amounts.discount,
            })
            .collect(),
        history: o
            .history
            .iter()
            .map(|h| HistoryView {
                status: h.status.clone(),
                comment: h.comment.clone(),
                is_customer_notified: h.is_customer_notified,
                entity_name: h.entity_name.to_owned(),
            })
            .collect(),
        invoices: o
            .invoices
            .iter()
            .filter_map(|id| shop.sales.invoice(*id))
            .map(|inv| InvoiceView {
                increment_id: inv.increment_id.clone(),
                total_qty: inv.total_qty,
                totals: totals(&inv.amounts),
                base: totals(&inv.base),
                items: inv.items.iter().map(|i| (i.order_item_id, i.qty)).collect(),
                comments: inv.comments.iter().map(|c| c.comment.clone()).collect(),
            })
            .collect(),
        shipments: o
            .shipments
            .iter()
            .filter_map(|id| shop.sales.shipment(*id))
            .map(|s| ShipmentView {
                increment_id: s.increment_id.clone(),
                total_qty: s.total_qty,
                items: s.items.iter().map(|i| (i.order_item_id, i.qty)).collect(),
                tracks: s
                    .tracks
                    .iter()
                    .map(|t| TrackView {
                        id: t.id,
                        carrier_code: t.carrier_code.clone(),
                        title: t.title.clone(),
                        number: t.number.clone(),
                    })
                    .collect(),
                comments: s.comments.iter().map(|c| c.comment.clone()).collect(),
            })
            .collect(),
        created_at: o.created_at,
    }
}
