//! Version-neutral Magento domain types: what the sync jobs read from and write to a shop.
//!
//! Nothing here knows a wire format: no session ids, no `identifierType`, no store codes versus
//! `false`. Money and quantities are [`Decimal`], dates are UTC [`DateTime`], ids are `i64`.
//! A Magento 2 REST adapter fills the same types.
//!
//! Sign convention for discounts: every `discount_amount` in these types is a **non-negative
//! amount to subtract** (a 10 % coupon on 213.74 is `21.37`). Magento 1 sends the order header
//! discount negative (`-21.3700`) and item discounts positive (`15.0000`); the parser normalises
//! both to their absolute value.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

// ---------------------------------------------------------------------------------------------
// Shop structure

/// Where a value is read or written: the default (admin, global) values, or one store view's
/// overrides (translations, store-level prices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// Default values (Magento 1 admin store 0).
    #[default]
    Default,
    /// Values of one store view, by store view id.
    Store(i64),
}

/// One store view with its place in the website / store group hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreView {
    /// Store view id.
    pub id: i64,
    /// Store view code (`default`, `fr`).
    pub code: String,
    /// Display name.
    pub name: String,
    /// Website id.
    pub website_id: i64,
    /// Store group ("store") id.
    pub group_id: i64,
    /// Root category of the store group.
    pub root_category_id: i64,
    /// Whether the store view is enabled.
    pub is_active: bool,
    /// Sort order in the admin.
    pub sort_order: i64,
}

/// What the shop says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// `Community`, `Enterprise`…
    pub edition: String,
    /// Magento version (`1.9.4.5`; OpenMage reports the Magento version it is based on here).
    pub version: String,
    /// OpenMage LTS version (`19.4.23`, `20.11.0`), when the shop runs OpenMage.
    pub openmage_version: Option<String>,
}

/// Whether batched calls (Magento 1 `multiCall`) are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSupport {
    /// The shop accepts batched calls and the client uses them.
    Supported,
    /// The shop rejects them (OpenMage ≥ 20.11); the client sends concurrent single calls.
    Unsupported,
    /// Turned off in the configuration.
    Disabled,
}

/// Result of [`MagentoApi::probe`](super::MagentoApi::probe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// Edition and version.
    pub version: VersionInfo,
    /// Batched calls.
    pub batch: BatchSupport,
}

// ---------------------------------------------------------------------------------------------
// Attribute values

/// A value for an arbitrary EAV attribute (beyond the typed fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// Text.
    Text(String),
    /// Integer (option ids, flags).
    Int(i64),
    /// Decimal number (prices, weights).
    Decimal(Decimal),
    /// Yes/no.
    Bool(bool),
    /// Several values (multiselect, `available_sort_by`).
    List(Vec<AttrValue>),
    /// Clears the value (sent as an empty string: Magento ignores nulls).
    Clear,
}

/// Extra attributes by attribute code.
pub type Attributes = BTreeMap<String, AttrValue>;

// ---------------------------------------------------------------------------------------------
// Categories

/// A node of the category tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryNode {
    /// Category id.
    pub id: i64,
    /// Parent id (`None` for the tree root, id 1).
    pub parent_id: Option<i64>,
    /// Name in the requested scope.
    pub name: String,
    /// Enabled flag (`false` when Magento has no value, as for the tree root).
    pub is_active: bool,
    /// Position among its siblings.
    pub position: i64,
    /// Depth (0 = tree root, 1 = store roots).
    pub level: i64,
    /// Children in Magento's order.
    pub children: Vec<CategoryNode>,
}

impl CategoryNode {
    /// This node and all its descendants, depth first.
    pub fn walk(&self) -> Vec<&CategoryNode> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }

    /// Finds a node by id in this subtree.
    pub fn find(&self, id: i64) -> Option<&CategoryNode> {
        if self.id == id {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(id))
    }
}

/// Full data of one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryInfo {
    /// Category id.
    pub id: i64,
    /// Parent id (`None` for the tree root).
    pub parent_id: Option<i64>,
    /// Name in the requested scope.
    pub name: String,
    /// Enabled flag.
    pub is_active: bool,
    /// Shown in the navigation menu.
    pub include_in_menu: bool,
    /// Anchor category (shows products of sub-categories).
    pub is_anchor: bool,
    /// Position among its siblings.
    pub position: i64,
    /// Depth.
    pub level: i64,
    /// Path of ids from the tree root (`1/2/3/12`).
    pub path: String,
    /// URL key.
    pub url_key: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Sort options offered (empty when "use config").
    pub available_sort_by: Vec<String>,
    /// Default sort option (`None` when "use config").
    pub default_sort_by: Option<String>,
    /// Direct children ids.
    pub children_ids: Vec<i64>,
    /// Last update.
    pub updated_at: Option<DateTime<Utc>>,
}

/// A new category. Magento requires `is_active`, `include_in_menu`, `available_sort_by` and
/// `default_sort_by` on create; [`NewCategory::new`] fills sensible defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCategory {
    /// Name (default scope).
    pub name: String,
    /// Enabled flag.
    pub is_active: bool,
    /// Shown in the navigation menu.
    pub include_in_menu: bool,
    /// Anchor category.
    pub is_anchor: bool,
    /// Sort options offered.
    pub available_sort_by: Vec<String>,
    /// Default sort option (must be one of `available_sort_by`).
    pub default_sort_by: String,
    /// Other attributes (`description`, `url_key`, `meta_title`…).
    pub attributes: Attributes,
}

impl NewCategory {
    /// An active, anchored menu category sorted by position, name or price.
    pub fn new(name: impl Into<String>) -> Self {
        NewCategory {
            name: name.into(),
            is_active: true,
            include_in_menu: true,
            is_anchor: true,
            available_sort_by: vec!["position".into(), "name".into(), "price".into()],
            default_sort_by: "position".into(),
            attributes: Attributes::new(),
        }
    }
}

/// Changes to a category; `None` fields are left untouched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CategoryUpdate {
    /// New name (in the given scope: a translation when the scope is a store view).
    pub name: Option<String>,
    /// Enabled flag.
    pub is_active: Option<bool>,
    /// Shown in the navigation menu.
    pub include_in_menu: Option<bool>,
    /// Other attributes.
    pub attributes: Attributes,
}

// ---------------------------------------------------------------------------------------------
// Products

/// Product visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Not visible individually (configurable children).
    NotVisible,
    /// Catalog only.
    Catalog,
    /// Search only.
    Search,
    /// Catalog and search.
    CatalogSearch,
}

impl Visibility {
    /// Magento's option id (1–4).
    pub fn id(self) -> i64 {
        match self {
            Visibility::NotVisible => 1,
            Visibility::Catalog => 2,
            Visibility::Search => 3,
            Visibility::CatalogSearch => 4,
        }
    }

    /// From Magento's option id.
    pub fn from_id(id: i64) -> Option<Self> {
        match id {
            1 => Some(Visibility::NotVisible),
            2 => Some(Visibility::Catalog),
            3 => Some(Visibility::Search),
            4 => Some(Visibility::CatalogSearch),
            _ => None,
        }
    }
}

/// Filter for [`MagentoApi::list_products`](super::MagentoApi::list_products); empty = all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProductFilter {
    /// Only these SKUs.
    pub skus: Option<Vec<String>>,
    /// Only products updated at or after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only this product type (`simple`, `configurable`, `virtual`…).
    pub type_id: Option<String>,
}

/// A product as listed (no attribute values beyond the name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSummary {
    /// Product id.
    pub id: i64,
    /// SKU.
    pub sku: String,
    /// Name (default scope).
    pub name: Option<String>,
    /// Attribute set id.
    pub attribute_set_id: i64,
    /// Product type.
    pub type_id: String,
    /// Category ids.
    pub category_ids: Vec<i64>,
    /// Website ids.
    pub website_ids: Vec<i64>,
}

/// Full data of one product in one scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// Product id.
    pub id: i64,
    /// SKU.
    pub sku: String,
    /// Product type.
    pub type_id: String,
    /// Attribute set id.
    pub attribute_set_id: i64,
    /// Name.
    pub name: Option<String>,
    /// Price (excluding or including tax according to the shop's catalog settings).
    pub price: Option<Decimal>,
    /// Special price.
    pub special_price: Option<Decimal>,
    /// Special price start.
    pub special_from_date: Option<DateTime<Utc>>,
    /// Special price end.
    pub special_to_date: Option<DateTime<Utc>>,
    /// Enabled (status 1) or disabled (status 2); `None` when not set.
    pub enabled: Option<bool>,
    /// Visibility.
    pub visibility: Option<Visibility>,
    /// Product tax class id.
    pub tax_class_id: Option<i64>,
    /// Weight.
    pub weight: Option<Decimal>,
    /// URL key.
    pub url_key: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Short description.
    pub short_description: Option<String>,
    /// Category ids.
    pub category_ids: Vec<i64>,
    /// Website ids.
    pub website_ids: Vec<i64>,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
    /// Last update.
    pub updated_at: Option<DateTime<Utc>>,
    /// Every other attribute as Magento sent it (JSON).
    pub attributes: BTreeMap<String, serde_json::Value>,
}

/// Stock settings sent with a product create or update.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StockData {
    /// Quantity.
    pub qty: Option<Decimal>,
    /// In stock flag.
    pub is_in_stock: Option<bool>,
    /// Manage stock (sets "use config" off).
    pub manage_stock: Option<bool>,
}

/// Attribute values of a product create or update; `None` fields are left untouched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProductData {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Short description.
    pub short_description: Option<String>,
    /// Price.
    pub price: Option<Decimal>,
    /// Special price.
    pub special_price: Option<Decimal>,
    /// Weight.
    pub weight: Option<Decimal>,
    /// Enabled (status 1) or disabled (status 2).
    pub enabled: Option<bool>,
    /// Visibility.
    pub visibility: Option<Visibility>,
    /// Product tax class id.
    pub tax_class_id: Option<i64>,
    /// URL key.
    pub url_key: Option<String>,
    /// Website ids (replaces the set).
    pub website_ids: Option<Vec<i64>>,
    /// Category ids (replaces the set).
    pub category_ids: Option<Vec<i64>>,
    /// Stock settings.
    pub stock: Option<StockData>,
    /// Other attributes by code.
    pub attributes: Attributes,
}

/// A product to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    /// SKU (the batch item key).
    pub sku: String,
    /// Product type (`simple`, `virtual`, `configurable`…).
    pub type_id: String,
    /// Attribute set id.
    pub attribute_set_id: i64,
    /// Attribute values (default scope).
    pub data: ProductData,
}

/// Changes to one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductUpdate {
    /// SKU of the product (the batch item key).
    pub sku: String,
    /// Default values or one store view's overrides.
    pub scope: Scope,
    /// Values to write.
    pub data: ProductData,
}

// ---------------------------------------------------------------------------------------------
// Media

/// The role an image plays for its product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImageRole {
    /// Base image (`image`).
    Base,
    /// Small image (`small_image`).
    Small,
    /// Thumbnail (`thumbnail`).
    Thumbnail,
}

impl ImageRole {
    /// Magento's type code.
    pub fn code(self) -> &'static str {
        match self {
            ImageRole::Base => "image",
            ImageRole::Small => "small_image",
            ImageRole::Thumbnail => "thumbnail",
        }
    }

    /// From Magento's type code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "image" => Some(ImageRole::Base),
            "small_image" => Some(ImageRole::Small),
            "thumbnail" => Some(ImageRole::Thumbnail),
            _ => None,
        }
    }
}

/// One image of a product gallery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductImage {
    /// Stored file path (`/b/r/brass-lamp.png`): the image's identifier.
    pub file: String,
    /// Label.
    pub label: Option<String>,
    /// Position in the gallery.
    pub position: Option<i64>,
    /// Hidden on the product page.
    pub disabled: bool,
    /// Public URL.
    pub url: Option<String>,
    /// Roles.
    pub roles: Vec<ImageRole>,
}

/// Image formats Magento accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageMime {
    /// `image/jpeg`.
    Jpeg,
    /// `image/png`.
    Png,
    /// `image/gif`.
    Gif,
    /// `image/webp` (OpenMage ≥ 20.1 only).
    Webp,
}

impl ImageMime {
    /// The MIME type string.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageMime::Jpeg => "image/jpeg",
            ImageMime::Png => "image/png",
            ImageMime::Gif => "image/gif",
            ImageMime::Webp => "image/webp",
        }
    }

    /// Guesses the format from the first bytes of the image.
    pub fn sniff(content: &[u8]) -> Option<Self> {
        if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageMime::Jpeg)
        } else if content.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageMime::Png)
        } else if content.starts_with(b"GIF87a") || content.starts_with(b"GIF89a") {
            Some(ImageMime::Gif)
        } else if content.len() >= 12 && &content[0..4] == b"RIFF" && &content[8..12] == b"WEBP" {
            Some(ImageMime::Webp)
        } else {
            None
        }
    }
}

/// An image to add to a product gallery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImage {
    /// Raw image bytes.
    pub content: Vec<u8>,
    /// Format.
    pub mime: ImageMime,
    /// File name; any extension is dropped (Magento appends one from the format).
    pub name: String,
    /// Label.
    pub label: Option<String>,
    /// Position in the gallery.
    pub position: Option<i64>,
    /// Roles.
    pub roles: Vec<ImageRole>,
    /// Hidden on the product page.
    pub disabled: bool,
}

// ---------------------------------------------------------------------------------------------
// Stock

/// Stock of one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockItem {
    /// Product id.
    pub product_id: i64,
    /// SKU.
    pub sku: String,
    /// Quantity.
    pub qty: Decimal,
    /// In stock flag.
    pub is_in_stock: bool,
}

/// Backorder policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backorders {
    /// No backorders.
    No,
    /// Allow quantity below 0.
    Allow,
    /// Allow quantity below 0 and notify the customer.
    AllowAndNotify,
}

impl Backorders {
    /// Magento's code (0, 1, 2).
    pub fn code(self) -> i64 {
        match self {
            Backorders::No => 0,
            Backorders::Allow => 1,
            Backorders::AllowAndNotify => 2,
        }
    }
}

/// Stock change for one product; `None` fields are left untouched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StockUpdate {
    /// SKU (the batch item key).
    pub sku: String,
    /// New quantity.
    pub qty: Option<Decimal>,
    /// In stock flag.
    pub is_in_stock: Option<bool>,
    /// Manage stock (sets "use config" off).
    pub manage_stock: Option<bool>,
    /// Backorders (sets "use config" off).
    pub backorders: Option<Backorders>,
}

// ---------------------------------------------------------------------------------------------
// Taxes and customers

/// A product tax class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxClass {
    /// Tax class id (0 = none).
    pub id: i64,
    /// Name.
    pub name: String,
}

/// A customer account (secrets such as the password hash are never read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// Customer id.
    pub id: i64,
    /// E-mail.
    pub email: String,
    /// First name.
    pub firstname: Option<String>,
    /// Middle name.
    pub middlename: Option<String>,
    /// Last name.
    pub lastname: Option<String>,
    /// Prefix (Mr, Ms…).
    pub prefix: Option<String>,
    /// Suffix.
    pub suffix: Option<String>,
    /// Customer group id.
    pub group_id: Option<i64>,
    /// Website id.
    pub website_id: Option<i64>,
    /// Store view the account was created in.
    pub store_id: Option<i64>,
    /// Store view name the account was created in.
    pub created_in: Option<String>,
    /// Date of birth (midnight UTC).
    pub dob: Option<DateTime<Utc>>,
    /// Tax / VAT number.
    pub taxvat: Option<String>,
    /// Gender option id.
    pub gender: Option<i64>,
    /// Default billing address id.
    pub default_billing: Option<i64>,
    /// Default shipping address id.
    pub default_shipping: Option<i64>,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
    /// Last update.
    pub updated_at: Option<DateTime<Utc>>,
}

/// An address of a customer's address book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerAddress {
    /// Address id.
    pub id: i64,
    /// First name.
    pub firstname: Option<String>,
    /// Last name.
    pub lastname: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Street lines.
    pub street: Vec<String>,
    /// City.
    pub city: Option<String>,
    /// Region name.
    pub region: Option<String>,
    /// Region id.
    pub region_id: Option<i64>,
    /// Postcode.
    pub postcode: Option<String>,
    /// ISO-2 country code.
    pub country_id: Option<String>,
    /// Telephone.
    pub telephone: Option<String>,
    /// VAT number.
    pub vat_id: Option<String>,
    /// Default billing address of the customer.
    pub is_default_billing: bool,
    /// Default shipping address of the customer.
    pub is_default_shipping: bool,
}

// ---------------------------------------------------------------------------------------------
// Orders

/// Filter for [`MagentoApi::list_orders`](super::MagentoApi::list_orders). Magento 1 lists have
/// no paging: keep the date window narrow.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderFilter {
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created at or before.
    pub created_to: Option<DateTime<Utc>>,
    /// Updated at or after.
    pub updated_from: Option<DateTime<Utc>>,
    /// Only these statuses (empty = any).
    pub statuses: Vec<String>,
    /// Only these store views (empty = any).
    pub store_ids: Vec<i64>,
}

/// An order header as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    /// Entity id.
    pub entity_id: i64,
    /// Increment id (`100000001`), the order's identifier in the API.
    pub increment_id: String,
    /// Store view id.
    pub store_id: i64,
    /// State (`new`, `processing`, `complete`, `canceled`…).
    pub state: String,
    /// Status.
    pub status: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last update.
    pub updated_at: DateTime<Utc>,
    /// Customer id (`None` for guests).
    pub customer_id: Option<i64>,
    /// Customer e-mail.
    pub customer_email: Option<String>,
    /// Grand total in the order currency.
    pub grand_total: Decimal,
    /// Order currency.
    pub order_currency_code: Option<String>,
}

/// The buyer of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCustomer {
    /// Customer id (`None` for guests).
    pub id: Option<i64>,
    /// Guest checkout.
    pub is_guest: bool,
    /// E-mail.
    pub email: Option<String>,
    /// First name.
    pub firstname: Option<String>,
    /// Middle name.
    pub middlename: Option<String>,
    /// Last name.
    pub lastname: Option<String>,
    /// Prefix.
    pub prefix: Option<String>,
    /// Suffix.
    pub suffix: Option<String>,
    /// Customer group id (0 = not logged in).
    pub group_id: Option<i64>,
    /// Tax / VAT number.
    pub taxvat: Option<String>,
    /// Date of birth.
    pub dob: Option<DateTime<Utc>>,
}

/// Currencies and rates of an order. Amounts without `base_` are in the order currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCurrency {
    /// Currency of the amounts in [`Order::totals`] and the item prices.
    pub order: String,
    /// Base currency of the website ([`Order::base_totals`], `base_` item prices).
    pub base: String,
    /// Store view display currency.
    pub store: Option<String>,
    /// Global currency.
    pub global: Option<String>,
    /// base → order rate.
    pub base_to_order_rate: Option<Decimal>,
    /// store → order rate.
    pub store_to_order_rate: Option<Decimal>,
    /// store → base rate.
    pub store_to_base_rate: Option<Decimal>,
    /// base → global rate.
    pub base_to_global_rate: Option<Decimal>,
}

/// Order totals in one currency. Missing values read as zero. Discounts are positive.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderTotals {
    /// Sum of the rows, tax excluded.
    pub subtotal: Decimal,
    /// Sum of the rows, tax included.
    pub subtotal_incl_tax: Decimal,
    /// Discount (positive amount to subtract).
    pub discount_amount: Decimal,
    /// Shipping, tax excluded.
    pub shipping_amount: Decimal,
    /// Tax on shipping.
    pub shipping_tax_amount: Decimal,
    /// Shipping, tax included.
    pub shipping_incl_tax: Decimal,
    /// Discount on shipping (positive).
    pub shipping_discount_amount: Decimal,
    /// Total tax.
    pub tax_amount: Decimal,
    /// Tax hidden by tax-inclusive discounts.
    pub hidden_tax_amount: Decimal,
    /// Hidden tax on shipping.
    pub shipping_hidden_tax_amount: Decimal,
    /// Grand total.
    pub grand_total: Decimal,
    /// Paid so far.
    pub total_paid: Decimal,
    /// Invoiced so far.
    pub total_invoiced: Decimal,
    /// Refunded so far.
    pub total_refunded: Decimal,
    /// Canceled.
    pub total_canceled: Decimal,
}

/// A billing or shipping address of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAddress {
    /// Order address id.
    pub id: Option<i64>,
    /// Address book entry it came from, if any.
    pub customer_address_id: Option<i64>,
    /// First name.
    pub firstname: Option<String>,
    /// Middle name.
    pub middlename: Option<String>,
    /// Last name.
    pub lastname: Option<String>,
    /// Prefix.
    pub prefix: Option<String>,
    /// Suffix.
    pub suffix: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Street lines (Magento joins them with `\n`).
    pub street: Vec<String>,
    /// City.
    pub city: Option<String>,
    /// Region name.
    pub region: Option<String>,
    /// Region id.
    pub region_id: Option<i64>,
    /// Postcode.
    pub postcode: Option<String>,
    /// ISO-2 country code.
    pub country_id: Option<String>,
    /// Telephone.
    pub telephone: Option<String>,
    /// Fax.
    pub fax: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// VAT number.
    pub vat_id: Option<String>,
}

/// A label/value pair of a product option (`Color: Blue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionLabel {
    /// Option label.
    pub label: String,
    /// Chosen value as displayed.
    pub value: String,
}

/// Decoded `product_options` of an order item.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProductOptions {
    /// SKU of the chosen simple product (configurable parent rows).
    pub simple_sku: Option<String>,
    /// Name of the chosen simple product.
    pub simple_name: Option<String>,
    /// Configurable attributes chosen.
    pub attributes_info: Vec<OptionLabel>,
    /// Custom options chosen.
    pub options: Vec<OptionLabel>,
    /// The add-to-cart request (`info_buyRequest`) as JSON.
    pub info_buy_request: Option<serde_json::Value>,
}

/// One order row. Configurable and bundle products give a parent row (prices, tax, discount)
/// and child rows (`parent_item_id` set, amounts zero).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    /// Order item id (key for invoice and shipment quantities).
    pub item_id: i64,
    /// Parent row id for child rows.
    pub parent_item_id: Option<i64>,
    /// Product id (the variant for child rows, the parent for configurable rows).
    pub product_id: Option<i64>,
    /// Product type (`simple`, `configurable`, `virtual`, `bundle`…).
    pub product_type: String,
    /// SKU (a configurable parent row carries the chosen child's SKU).
    pub sku: String,
    /// Name.
    pub name: String,
    /// Ordered quantity.
    pub qty_ordered: Decimal,
    /// Invoiced quantity.
    pub qty_invoiced: Decimal,
    /// Shipped quantity.
    pub qty_shipped: Decimal,
    /// Canceled quantity.
    pub qty_canceled: Decimal,
    /// Refunded quantity.
    pub qty_refunded: Decimal,
    /// Unit price, tax excluded, order currency.
    pub price: Decimal,
    /// Unit price, tax excluded, base currency.
    pub base_price: Decimal,
    /// Catalog price before price rules, order currency.
    pub original_price: Decimal,
    /// Catalog price before price rules, base currency.
    pub base_original_price: Decimal,
    /// Unit price, tax included, order currency.
    pub price_incl_tax: Decimal,
    /// Unit price, tax included, base currency.
    pub base_price_incl_tax: Decimal,
    /// Row total, tax excluded, order currency.
    pub row_total: Decimal,
    /// Row total, tax excluded, base currency.
    pub base_row_total: Decimal,
    /// Row total, tax included, order currency.
    pub row_total_incl_tax: Decimal,
    /// Row total, tax included, base currency.
    pub base_row_total_incl_tax: Decimal,
    /// Tax rate in percent.
    pub tax_percent: Decimal,
    /// Row tax, order currency.
    pub tax_amount: Decimal,
    /// Row tax, base currency.
    pub base_tax_amount: Decimal,
    /// Discount rate in percent.
    pub discount_percent: Decimal,
    /// Row discount, order currency (positive).
    pub discount_amount: Decimal,
    /// Row discount, base currency (positive).
    pub base_discount_amount: Decimal,
    /// Hidden tax, order currency.
    pub hidden_tax_amount: Decimal,
    /// Hidden tax, base currency.
    pub base_hidden_tax_amount: Decimal,
    /// Unit weight.
    pub weight: Option<Decimal>,
    /// Virtual (not shipped).
    pub is_virtual: bool,
    /// Decoded options.
    pub product_options: ProductOptions,
}

/// Payment of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPayment {
    /// Payment method code (`checkmo`, `paypal_express`…).
    pub method: String,
    /// Amount ordered, order currency.
    pub amount_ordered: Option<Decimal>,
    /// Amount paid, order currency.
    pub amount_paid: Option<Decimal>,
    /// Last gateway transaction id.
    pub last_trans_id: Option<String>,
    /// Purchase order number.
    pub po_number: Option<String>,
}

/// One entry of an order's status history (Magento lists them newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStatusEntry {
    /// Comment text.
    pub comment: Option<String>,
    /// Status at the time.
    pub status: Option<String>,
    /// Customer notified (`None` when not applicable).
    pub is_customer_notified: Option<bool>,
    /// Visible to the customer.
    pub is_visible_on_front: bool,
    /// When.
    pub created_at: Option<DateTime<Utc>>,
    /// What produced it (`order`, `invoice`, `shipment`…).
    pub entity_name: Option<String>,
}

/// A full order, everything the import needs, plus the raw payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Increment id.
    pub increment_id: String,
    /// Entity id.
    pub entity_id: i64,
    /// Store view id.
    pub store_id: i64,
    /// Store name (website / group / view, `\n`-separated in Magento 1).
    pub store_name: Option<String>,
    /// State.
    pub state: String,
    /// Status.
    pub status: String,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last update (UTC).
    pub updated_at: DateTime<Utc>,
    /// Buyer.
    pub customer: OrderCustomer,
    /// Currencies and rates.
    pub currency: OrderCurrency,
    /// Totals in the order currency.
    pub totals: OrderTotals,
    /// Totals in the base currency.
    pub base_totals: OrderTotals,
    /// Coupon code used.
    pub coupon_code: Option<String>,
    /// Discount label (rule name or coupon label).
    pub discount_description: Option<String>,
    /// Shipping method code (`flatrate_flatrate`).
    pub shipping_method: Option<String>,
    /// Shipping description shown to the customer.
    pub shipping_description: Option<String>,
    /// Virtual order (nothing to ship).
    pub is_virtual: bool,
    /// Customer note left at checkout.
    pub customer_note: Option<String>,
    /// Total weight.
    pub weight: Option<Decimal>,
    /// Payment.
    pub payment: OrderPayment,
    /// Billing address.
    pub billing_address: Option<OrderAddress>,
    /// Shipping address (`None` for virtual orders).
    pub shipping_address: Option<OrderAddress>,
    /// Rows (parents and children).
    pub items: Vec<OrderItem>,
    /// Status history, newest first.
    pub status_history: Vec<OrderStatusEntry>,
    /// The payload as Magento sent it, as JSON (for the broken-orders snapshot).
    pub raw: serde_json::Value,
}

/// A comment (and optionally a status change) on an order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderComment {
    /// New status; `None` keeps the current one.
    pub status: Option<String>,
    /// Comment text.
    pub comment: String,
    /// E-mail the customer.
    pub notify: bool,
}

/// Quantities per order item id; empty means "everything still possible".
pub type ItemQuantities = BTreeMap<i64, Decimal>;

/// An invoice to create.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvoiceRequest {
    /// Quantities per order item id (empty: invoice everything).
    pub items: ItemQuantities,
    /// Comment.
    pub comment: Option<String>,
    /// E-mail the customer.
    pub notify: bool,
    /// Put the comment in that e-mail.
    pub include_comment: bool,
}

/// A shipment to create.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShipmentRequest {
    /// Quantities per order item id (empty: ship everything).
    pub items: ItemQuantities,
    /// Comment.
    pub comment: Option<String>,
    /// E-mail the customer.
    pub notify: bool,
    /// Put the comment in that e-mail.
    pub include_comment: bool,
}

/// A shipment of an order as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentInfo {
    /// Increment id.
    pub increment_id: String,
    /// Shipped quantity per order item id (configurable child rows included).
    pub items: ItemQuantities,
    /// Tracking numbers.
    pub tracks: Vec<String>,
    /// Comment texts.
    pub comments: Vec<String>,
}

/// A tracking number to add to a shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// Carrier code (`custom`, `ups`, `usps`, `fedex`, `dhl`…).
    pub carrier_code: String,
    /// Title shown to the customer.
    pub title: String,
    /// Tracking number.
    pub number: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_formats_are_sniffed_from_magic_bytes() {
        assert_eq!(ImageMime::sniff(b"\x89PNG\r\n\x1a\nrest"), Some(ImageMime::Png));
        assert_eq!(ImageMime::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageMime::Jpeg));
        assert_eq!(ImageMime::sniff(b"GIF89a..."), Some(ImageMime::Gif));
        assert_eq!(ImageMime::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageMime::Webp));
        assert_eq!(ImageMime::sniff(b"<svg"), None);
    }

    #[test]
    fn category_tree_walk_and_find() {
        let leaf = |id| CategoryNode {
            id,
            parent_id: Some(2),
            name: format!("c{id}"),
            is_active: true,
            position: 1,
            level: 2,
            children: vec![],
        };
        let root = CategoryNode {
            id: 2,
            parent_id: Some(1),
            name: "root".into(),
            is_active: true,
            position: 1,
            level: 1,
            children: vec![leaf(3), leaf(4)],
        };
        assert_eq!(root.walk().iter().map(|n| n.id).collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(root.find(4).map(|n| n.name.as_str()), Some("c4"));
        assert!(root.find(9).is_none());
    }

    #[test]
    fn visibility_and_roles_round_trip() {
        for v in [Visibility::NotVisible, Visibility::Catalog, Visibility::Search, Visibility::CatalogSearch] {
            assert_eq!(Visibility::from_id(v.id()), Some(v));
        }
        for r in [ImageRole::Base, ImageRole::Small, ImageRole::Thumbnail] {
            assert_eq!(ImageRole::from_code(r.code()), Some(r));
        }
    }
}
