//! Magento side: the [`MagentoApi`] trait the sync jobs use, its version-neutral types, and the
//! Magento 1 / OpenMage XML-RPC implementation ([`magento1::Magento1Client`]).
//!
//! The trait speaks in domain terms (SKUs, increment ids, store view ids, [`Scope`]); wire
//! details (sessions, `multiCall`, `identifierType`, store codes versus `false`) stay in
//! [`magento1`]. A Magento 2 REST adapter can implement the same trait later. Every operation
//! returns a [`MagentoError`] whose [`ErrorKind`] tells the job what to do. Batch operations
//! return one result per input item, in input order.
//!
//! This module must not touch OpenERP, the state store or the sync logic.
//!
//! # Supported Magento versions
//!
//! The connector talks to Magento 1 only through the native XML-RPC API (`/api/xmlrpc/`).
//!
//! * **Magento CE 1.7, 1.8, 1.9** (and EE 1.12–1.14): supported. The client never sends
//!   `<nil/>` placeholders (Magento 1.7 and EE 1.14 reject them with fault 636) except in one
//!   rare case: a website with several store groups that use *different* root categories,
//!   where the only call that names a store group's root category needs a null parent id.
//! * **OpenMage LTS 19.x**: supported (the recordings in `shared/recordings/magento1` come
//!   from OpenMage 19.4.23).
//! * **OpenMage LTS 20.x**: supported. From **20.11.0** the XML-RPC signature of `multiCall`
//!   changed (a docblock was dropped, so Zend expects a struct where every client sends an
//!   array) and the standard call is rejected with fault 623. With `multicall = "auto"` (the
//!   default) the client detects this once per connection, remembers it and sends concurrent
//!   single calls instead; `multicall = "off"` skips the detection.
//!   Session ids became 64 characters long in 20.18; they are treated as opaque text.
//!
//! # API user rights
//!
//! Create an API user (System > Web Services > SOAP/XML-RPC Users) with a role
//! (SOAP/XML-RPC Roles) that grants these resources (or "All"):
//!
//! | Resource (role tree) | Used for |
//! |---|---|
//! | Core > Store > List of stores; Core > Magento info > Retrieve info | `store.list`, `magento.info` (probe) |
//! | Catalog > Category > Retrieve hierarchical tree, Retrieve category data, Create, Update, Move | category export (`catalog_category.tree/level/info/create/update/move`) |
//! | Catalog > Product > Retrieve products data, Create, Update | product export (`catalog_product.list/info/create/update`) |
//! | Catalog > Product > Product Attributes > Read attribute list | tax classes (`catalog_product_attribute.options('tax_class_id')`) |
//! | Catalog > Product > Product Images (+ Create, Remove) | image export (`catalog_product_attribute_media.list/create/remove`) |
//! | Catalog Inventory > Retrieve stock data, Update | stock export (`cataloginventory_stock_item.list/update`) |
//! | Customers > Retrieve customer info; Customers > Addresses > Retrieve address info | order import (`customer.info`, `customer_address.list`) |
//! | Sales > Order > Retrieve orders info; Change status, add comments | order import and follow-up (`sales_order.list/info/addComment/hold/unhold/cancel`) |
//! | Sales > Order > Order invoice > Create | `sales_order_invoice.create` |
//! | Sales > Order > Order shipments > Create, Tracking, Retrieve shipment info | `sales_order_shipment.create/addTrack/list/info` |
//!
//! A missing right gives fault 2 "Access denied." ([`ErrorKind::Auth`]), inside a batch only
//! for the items that need it.

pub mod error;
pub mod json;
pub mod magento1;
pub mod php;
pub mod types;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{MagentoEndpoint, MagentoKind};

pub use error::{ErrorKind, MagentoError, MagentoResult};
pub use magento1::Magento1Client;
pub use types::*;

/// Everything the sync jobs do with a Magento shop. Object-safe; used as
/// `Arc<dyn MagentoApi>`. Implementations are cheap to share between tasks: concurrent callers
/// share one API session.
#[async_trait]
pub trait MagentoApi: Send + Sync {
    // --- shop ---------------------------------------------------------------------------------

    /// Logs in and reports the version and whether batched calls work.
    async fn probe(&self) -> MagentoResult<ProbeReport>;

    /// Edition and version of the shop.
    async fn version(&self) -> MagentoResult<VersionInfo>;

    /// Store views with their website, store group and the group's root category.
    async fn stores(&self) -> MagentoResult<Vec<StoreView>>;

    /// Ends the API session (later calls log in again).
    async fn close(&self) -> MagentoResult<()>;

    // --- categories ---------------------------------------------------------------------------

    /// Category tree under `root_id` (`None`: the whole tree from the technical root, id 1),
    /// with names in `scope`.
    async fn category_tree(&self, root_id: Option<i64>, scope: Scope) -> MagentoResult<CategoryNode>;

    /// One category in `scope`; [`ErrorKind::NotFound`] when it does not exist.
    async fn category(&self, id: i64, scope: Scope) -> MagentoResult<CategoryInfo>;

    /// Creates a category under `parent_id` and returns its id.
    async fn create_category(&self, parent_id: i64, category: &NewCategory) -> MagentoResult<i64>;

    /// Updates a category, at default scope or as one store view's values.
    async fn update_category(&self, id: i64, update: &CategoryUpdate, scope: Scope) -> MagentoResult<()>;

    /// Moves a category under `parent_id`, after sibling `after_id` (`None`: last).
    async fn move_category(&self, id: i64, parent_id: i64, after_id: Option<i64>) -> MagentoResult<()>;

    /// Creates many categories, each `(parent_id, category)`, in input order (siblings get
    /// their positions in that order); one result (the new id) per input. Magento enforces no
    /// natural key for categories, so a request that may have been applied is never sent
    /// again and a failed item is never re-run: it is reported, and the caller finds the
    /// category by name under its parent on the next run.
    async fn create_categories(&self, categories: &[(i64, NewCategory)]) -> Vec<MagentoResult<i64>>;

    /// Updates many categories, each `(id, update, scope)`; one result per input, in input
    /// order (the updates may run in any order).
    async fn update_categories(&self, updates: &[(i64, CategoryUpdate, Scope)]) -> Vec<MagentoResult<()>>;

    // --- products -----------------------------------------------------------------------------

    /// Products matching the filter (no paging in Magento 1: narrow the filter).
    async fn list_products(&self, filter: &ProductFilter) -> MagentoResult<Vec<ProductSummary>>;

    /// One product by SKU in `scope`; `None` when no product has that SKU.
    async fn product(&self, sku: &str, scope: Scope) -> MagentoResult<Option<Product>>;

    /// Creates a product and returns its id. Never creates a SKU twice: when a failed attempt
    /// turns out to have created the product, its id is returned.
    async fn create_product(&self, product: &NewProduct) -> MagentoResult<i64>;

    /// Updates one product.
    async fn update_product(&self, update: &ProductUpdate) -> MagentoResult<()>;

    /// Disables a product (status 2) at default scope.
    async fn disable_product(&self, sku: &str) -> MagentoResult<()>;

    /// Creates many products; one result (the new id) per input, in input order. Same
    /// no-duplicate guarantee as [`MagentoApi::create_product`].
    async fn create_products(&self, products: &[NewProduct]) -> Vec<MagentoResult<i64>>;

    /// Updates many products; one result per input, in input order.
    async fn update_products(&self, updates: &[ProductUpdate]) -> Vec<MagentoResult<()>>;

    // --- media --------------------------------------------------------------------------------

    /// Gallery of a product.
    async fn images(&self, sku: &str) -> MagentoResult<Vec<ProductImage>>;

    /// Adds an image to a product's gallery and returns its stored file path.
    async fn add_image(&self, sku: &str, image: &NewImage) -> MagentoResult<String>;

    /// Removes an image (by stored file path) from a product's gallery.
    async fn remove_image(&self, sku: &str, file: &str) -> MagentoResult<()>;

    // --- stock --------------------------------------------------------------------------------

    /// Stock of the given SKUs (unknown SKUs are absent from the answer; order is Magento's).
    async fn stock(&self, skus: &[String]) -> MagentoResult<Vec<StockItem>>;

    /// Updates stock of many products; one result per input, in input order.
    async fn update_stock(&self, updates: &[StockUpdate]) -> Vec<MagentoResult<()>>;

    // --- taxes and customers ------------------------------------------------------------------

    /// Product tax classes.
    async fn tax_classes(&self) -> MagentoResult<Vec<TaxClass>>;

    /// One customer; [`ErrorKind::NotFound`] when it does not exist.
    async fn customer(&self, id: i64) -> MagentoResult<Customer>;

    /// Address book of a customer.
    async fn customer_addresses(&self, customer_id: i64) -> MagentoResult<Vec<CustomerAddress>>;

    // --- orders -------------------------------------------------------------------------------

    /// Order headers matching the filter.
    async fn list_orders(&self, filter: &OrderFilter) -> MagentoResult<Vec<OrderSummary>>;

    /// One full order by increment id; [`ErrorKind::NotFound`] when it does not exist.
    async fn order(&self, increment_id: &str) -> MagentoResult<Order>;

    /// Many full orders; one result per increment id, in input order.
    async fn orders(&self, increment_ids: &[String]) -> Vec<MagentoResult<Order>>;

    /// Adds a comment to an order, optionally changing its status.
    async fn add_order_comment(&self, increment_id: &str, comment: &OrderComment) -> MagentoResult<()>;

    /// Cancels an order.
    async fn cancel_order(&self, increment_id: &str) -> MagentoResult<()>;

    /// Puts an order on hold.
    async fn hold_order(&self, increment_id: &str) -> MagentoResult<()>;

    /// Releases an order from hold.
    async fn unhold_order(&self, increment_id: &str) -> MagentoResult<()>;

    /// Creates an invoice and returns its increment id. Never retried by the client, not even
    /// after a deadlock fault (which may come after Magento created it): check the order's
    /// invoiced quantities before sending again.
    async fn create_invoice(&self, increment_id: &str, invoice: &InvoiceRequest) -> MagentoResult<String>;

    /// Creates a shipment and returns its increment id. Never retried by the client (see
    /// [`MagentoApi::create_invoice`]).
    async fn create_shipment(&self, increment_id: &str, shipment: &ShipmentRequest) -> MagentoResult<String>;

    /// Adds a tracking number to a shipment and returns the track id. Never retried by the
    /// client (see [`MagentoApi::create_invoice`]): look at the shipment's tracks first.
    async fn add_track(&self, shipment_increment_id: &str, track: &Track) -> MagentoResult<i64>;

    /// Shipments of an order with their items, tracking numbers and comments (to find what a
    /// call that may have gone through created). This default says the client cannot list
    /// them.
    async fn order_shipments(&self, increment_id: &str) -> MagentoResult<Vec<ShipmentInfo>> {
        Err(MagentoError::protocol(
            "sales_order_shipment.list",
            format!("this client cannot list the shipments of order {increment_id}"),
        ))
    }
}

/// Builds the client for an endpoint's kind, ready to share between jobs. No network traffic
/// happens until the first call.
pub fn connect(endpoint: &MagentoEndpoint) -> MagentoResult<Arc<dyn MagentoApi>> {
    match endpoint.kind {
        MagentoKind::Magento1 => Ok(Arc::new(Magento1Client::new(endpoint)?)),
    }
}
