//! The addon's business settings: `magento.backend` (found by name) with its store views,
//! payment methods and status mapping, decoded into [`BackendSettings`].
//!
//! Field lists here are exactly those of `openerp_addon/contract.json` (a test checks it). The
//! server never reads `connector_token` and never writes any addon model.

use chrono::{DateTime, Utc};
use dxr::Value;
use rust_decimal::Decimal;

use crate::openerp::client::OpenErpClient;
use crate::openerp::error::{Error, ErrorKind};
use crate::openerp::orm::SearchOpts;
use crate::openerp::wire::{Context, Domain};
use crate::rpc::value::{DecodeError, Many2one, Map, Record};

/// Model of backends.
pub const BACKEND_MODEL: &str = "magento.backend";
/// Model of store views.
pub const STORE_MODEL: &str = "magento.backend.store";
/// Model of payment methods.
pub const PAYMENT_MODEL: &str = "magento.payment.method";
/// Model of status mappings.
pub const STATUS_MODEL: &str = "magento.order.status";

/// `magento.backend` fields read (every field but `connector_token`).
pub const BACKEND_FIELDS: &[&str] = &[
    "name",
    "active",
    "connector_url",
    "company_id",
    "root_category_id",
    "attribute_set_id",
    "product_visibility",
    "price_source",
    "export_images",
    "stock_field",
    "backorders",
    "backorder_product_ids",
    "shipping_product_id",
    "discount_product_id",
    "rounding_product_id",
    "rounding_tolerance",
    "import_statuses",
    "import_from_date",
    "import_overlap_minutes",
    "confirm_orders",
    "store_ids",
    "payment_method_ids",
    "status_map_ids",
];

/// `magento.backend.store` fields read.
pub const STORE_FIELDS: &[&str] = &[
    "backend_id",
    "name",
    "magento_store_id",
    "magento_store_code",
    "magento_website_id",
    "magento_group_id",
    "magento_root_category_id",
    "lang",
    "pricelist_id",
    "warehouse_id",
    "root_category_id",
    "import_orders",
    "export_catalog",
];

/// `magento.payment.method` fields read.
pub const PAYMENT_FIELDS: &[&str] = &["backend_id", "code", "name", "payment_term_id", "import_orders"];

/// `magento.order.status` fields read.
pub const STATUS_FIELDS: &[&str] = &["backend_id", "event", "magento_status", "comment", "notify"];

/// The rounding tolerance when the backend record has none (the contract's default, 0.02).
pub const DEFAULT_ROUNDING_TOLERANCE: Decimal = Decimal::from_parts(2, 0, 0, false, 2);

/// Where product prices sent to Magento come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    /// The product's sales price.
    ListPrice,
    /// The default store line's pricelist.
    Pricelist,
}

/// Which quantity is sent to Magento as stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockField {
    /// Forecast.
    VirtualAvailable,
    /// On hand − reserved.
    FreeQty,
    /// On hand.
    QtyAvailable,
}

impl StockField {
    /// The `product.product` field name.
    pub fn field(self) -> &'static str {
        match self {
            StockField::VirtualAvailable => "virtual_available",
            StockField::FreeQty => "free_qty",
            StockField::QtyAvailable => "qty_available",
        }
    }
}

/// Backorder policy sent to Magento.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backorders {
    /// No backorders.
    None,
    /// Every product.
    All,
    /// Only [`BackendSettings::backorder_product_ids`].
    Selected,
}

/// An OpenERP event that is reported to Magento.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEvent {
    /// Order confirmed.
    Confirmed,
    /// Invoice posted.
    Invoiced,
    /// Fully shipped.
    Shipped,
    /// Partly shipped.
    PartiallyShipped,
    /// Cancelled.
    Cancelled,
}

/// One Magento store view and how it maps to OpenERP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// Line id.
    pub id: i64,
    /// Store view name.
    pub name: Option<String>,
    /// Magento store view id.
    pub magento_store_id: i64,
    /// Magento store code.
    pub magento_store_code: Option<String>,
    /// Magento website id.
    pub magento_website_id: Option<i64>,
    /// Magento store group id.
    pub magento_group_id: Option<i64>,
    /// Root category of the store's group in Magento.
    pub magento_root_category_id: Option<i64>,
    /// OpenERP language for this store's texts.
    pub lang: Option<String>,
    /// Pricelist (currency) of imported orders.
    pub pricelist: Option<Many2one>,
    /// Warehouse for this store's stock.
    pub warehouse: Option<Many2one>,
    /// OpenERP category mapped to the store's Magento root (overrides the backend's).
    pub root_category: Option<Many2one>,
    /// Import this store's orders.
    pub import_orders: bool,
    /// Export the catalogue to this store.
    pub export_catalog: bool,
}

/// A Magento payment method code and what to do with its orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMethodSettings {
    /// Line id.
    pub id: i64,
    /// Magento method code (`checkmo`).
    pub code: String,
    /// Label.
    pub name: Option<String>,
    /// Payment term set on imported orders.
    pub payment_term: Option<Many2one>,
    /// `false`: orders with this method are skipped with a reason.
    pub import_orders: bool,
}

/// What to tell Magento when an event happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMapping {
    /// Line id.
    pub id: i64,
    /// The event.
    pub event: OrderEvent,
    /// Status sent with the comment (`None`: keep the status).
    pub magento_status: Option<String>,
    /// Comment text (`{name}` is the OpenERP order name).
    pub comment: Option<String>,
    /// Notify the customer.
    pub notify: bool,
}

/// The settings of one backend, as the sync jobs use them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendSettings {
    /// `magento.backend` id.
    pub id: i64,
    /// Name (= the backend name in the server configuration).
    pub name: String,
    /// Active.
    pub active: bool,
    /// URL of the connector server the addon calls.
    pub connector_url: Option<String>,
    /// Company of created orders and partners.
    pub company: Option<Many2one>,
    /// Category exported under each store's root when the store line has none.
    pub root_category: Option<Many2one>,
    /// Magento attribute set of new products.
    pub attribute_set_id: i64,
    /// Magento visibility of new products (1–4).
    pub product_visibility: u8,
    /// Price source.
    pub price_source: PriceSource,
    /// Export images.
    pub export_images: bool,
    /// Stock quantity sent.
    pub stock_field: StockField,
    /// Backorder policy.
    pub backorders: Backorders,
    /// Products allowed to backorder when [`Backorders::Selected`].
    pub backorder_product_ids: Vec<i64>,
    /// Product used for shipping lines.
    pub shipping_product: Option<Many2one>,
    /// Product of discount lines (when a percentage cannot reproduce Magento's discount).
    pub discount_product: Option<Many2one>,
    /// Product of the adjustment line absorbing a rounding difference.
    pub rounding_product: Option<Many2one>,
    /// Largest difference (order currency) the adjustment line may absorb.
    pub rounding_tolerance: Decimal,
    /// Magento statuses to import (`pending`, `processing`).
    pub import_statuses: Vec<String>,
    /// Orders created before are never imported.
    pub import_from_date: Option<DateTime<Utc>>,
    /// Cursor overlap window in minutes.
    pub import_overlap_minutes: i64,
    /// Confirm imported orders whose totals match.
    pub confirm_orders: bool,
    /// Store views.
    pub stores: Vec<StoreSettings>,
    /// Payment methods.
    pub payment_methods: Vec<PaymentMethodSettings>,
    /// Status mapping.
    pub status_map: Vec<StatusMapping>,
}

impl BackendSettings {
    /// Settings with the addon's defaults and the given store lines, for unit tests of the jobs.
    #[cfg(test)]
    pub(crate) fn example(name: &str, stores: Vec<StoreSettings>) -> BackendSettings {
        BackendSettings {
            id: 1,
            name: name.to_owned(),
            active: true,
            connector_url: None,
            company: None,
            root_category: None,
            attribute_set_id: 4,
            product_visibility: 4,
            price_source: PriceSource::ListPrice,
            export_images: true,
            stock_field: StockField::VirtualAvailable,
            backorders: Backorders::None,
            backorder_product_ids: vec![],
            shipping_product: None,
            discount_product: None,
            rounding_product: None,
            rounding_tolerance: DEFAULT_ROUNDING_TOLERANCE,
            import_statuses: vec!["pending".into(), "processing".into()],
            import_from_date: None,
            import_overlap_minutes: 10,
            confirm_orders: true,
            stores,
            payment_methods: vec![],
            status_map: vec![],
        }
    }

    /// The payment method line for a Magento code, if configured.
    pub fn payment_method(&self, code: &str) -> Option<&PaymentMethodSettings> {
        self.payment_methods.iter().find(|p| p.code == code)
    }

    /// The store line for a Magento store view id, if configured.
    pub fn store(&self, magento_store_id: i64) -> Option<&StoreSettings> {
        self.stores.iter().find(|s| s.magento_store_id == magento_store_id)
    }

    /// The status mapping of an event, if configured.
    pub fn status_for(&self, event: OrderEvent) -> Option<&StatusMapping> {
        self.status_map.iter().find(|s| s.event == event)
    }

    /// Decodes the backend row; the lines are decoded separately and passed in.
    pub fn from_parts(
        m: &Map,
        stores: Vec<StoreSettings>,
        payment_methods: Vec<PaymentMethodSettings>,
        status_map: Vec<StatusMapping>,
    ) -> Result<Self, DecodeError> {
        let r = Record::new(m, BACKEND_MODEL);
        let selection = |field: &str, default: &str| -> Result<String, DecodeError> {
            Ok(r.opt_string(field)?.unwrap_or_else(|| default.to_owned()))
        };
        let bad = |field: &str, v: &str, expected: &'static str| {
            DecodeError::new(format!("{BACKEND_MODEL}.{field}"), expected, &Value::String(v.to_owned()))
        };
        let visibility = selection("product_visibility", "4")?;
        let product_visibility = match visibility.as_str() {
            "1" => 1,
            "2" => 2,
            "3" => 3,
            "4" => 4,
            other => return Err(bad("product_visibility", other, "1, 2, 3 or 4")),
        };
        let price_source = match selection("price_source", "list_price")?.as_str() {
            "list_price" => PriceSource::ListPrice,
            "pricelist" => PriceSource::Pricelist,
            other => return Err(bad("price_source", other, "list_price or pricelist")),
        };
        let stock_field = match selection("stock_field", "virtual_available")?.as_str() {
            "virtual_available" => StockField::VirtualAvailable,
            "free_qty" => StockField::FreeQty,
            "qty_available" => StockField::QtyAvailable,
            other => {
                return Err(bad("stock_field", other, "virtual_available, free_qty or qty_available"));
            }
        };
        let backorders = match selection("backorders", "none")?.as_str() {
            "none" => Backorders::None,
            "all" => Backorders::All,
            "selected" => Backorders::Selected,
            other => return Err(bad("backorders", other, "none, all or selected")),
        };
        Ok(BackendSettings {
            id: r.i64("id")?,
            name: r.string("name")?,
            active: r.bool("active")?,
            connector_url: r.opt_string("connector_url")?,
            company: r.many2one("company_id")?,
            root_category: r.many2one("root_category_id")?,
            attribute_set_id: r.opt_i64("attribute_set_id")?.unwrap_or(4),
            product_visibility,
            price_source,
            export_images: r.bool("export_images")?,
            stock_field,
            backorders,
            backorder_product_ids: r.ids("backorder_product_ids")?,
            shipping_product: r.many2one("shipping_product_id")?,
            discount_product: r.many2one("discount_product_id")?,
            rounding_product: r.many2one("rounding_product_id")?,
            rounding_tolerance: match r.opt_decimal("rounding_tolerance")? {
                Some(t) if t >= Decimal::ZERO => t.round_dp(6).normalize(),
                Some(t) => return Err(bad("rounding_tolerance", &t.to_string(), "a tolerance ≥ 0")),
                None => DEFAULT_ROUNDING_TOLERANCE,
            },
            import_statuses: r
                .opt_string("import_statuses")?
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            import_from_date: r.opt_datetime("import_from_date")?,
            import_overlap_minutes: r.opt_i64("import_overlap_minutes")?.unwrap_or(0),
            confirm_orders: r.bool("confirm_orders")?,
            stores,
            payment_methods,
            status_map,
        })
    }
}

impl StoreSettings {
    /// Decodes one row.
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, STORE_MODEL);
        Ok(StoreSettings {
            id: r.i64("id")?,
            name: r.opt_string("name")?,
            magento_store_id: r.i64("magento_store_id")?,
            magento_store_code: r.opt_string("magento_store_code")?,
            magento_website_id: r.opt_i64("magento_website_id")?,
            magento_group_id: r.opt_i64("magento_group_id")?,
            magento_root_category_id: r.opt_i64("magento_root_category_id")?,
            lang: r.opt_string("lang")?,
            pricelist: r.many2one("pricelist_id")?,
            warehouse: r.many2one("warehouse_id")?,
            root_category: r.many2one("root_category_id")?,
            import_orders: r.bool("import_orders")?,
            export_catalog: r.bool("export_catalog")?,
        })
    }
}

impl PaymentMethodSettings {
    /// Decodes one row.
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, PAYMENT_MODEL);
        Ok(PaymentMethodSettings {
            id: r.i64("id")?,
            code: r.string("code")?,
            name: r.opt_string("name")?,
            payment_term: r.many2one("payment_term_id")?,
            import_orders: r.bool("import_orders")?,
        })
    }
}

impl StatusMapping {
    /// Decodes one row.
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, STATUS_MODEL);
        let raw = r.string("event")?;
        let event = match raw.as_str() {
            "confirmed" => OrderEvent::Confirmed,
            "invoiced" => OrderEvent::Invoiced,
            "shipped" => OrderEvent::Shipped,
            "partially_shipped" => OrderEvent::PartiallyShipped,
            "cancelled" => OrderEvent::Cancelled,
            _ => {
                return Err(DecodeError::new(
                    format!("{STATUS_MODEL}.event"),
                    "confirmed, invoiced, shipped, partially_shipped or cancelled",
                    &Value::String(raw),
                ));
            }
        };
        Ok(StatusMapping {
            id: r.i64("id")?,
            event,
            magento_status: r.opt_string("magento_status")?.filter(|s| !s.is_empty()),
            comment: r.opt_string("comment")?.filter(|s| !s.is_empty()),
            notify: r.bool("notify")?,
        })
    }
}

/// Every (model, fields) the server requests from the addon's own models, plus the addon
/// fields it requests on standard models (checked against `openerp_addon/contract.json`).
pub fn addon_fields_requested() -> Vec<(&'static str, Vec<&'static str>)> {
    use super::{categories, products, taxes};
    vec![
        (BACKEND_MODEL, BACKEND_FIELDS.to_vec()),
        (STORE_MODEL, STORE_FIELDS.to_vec()),
        (PAYMENT_MODEL, PAYMENT_FIELDS.to_vec()),
        (STATUS_MODEL, STATUS_FIELDS.to_vec()),
        (products::MODEL, products::FIELDS.to_vec()),
        (categories::MODEL, categories::FIELDS.to_vec()),
        (taxes::MODEL, taxes::FIELDS.to_vec()),
    ]
}

fn decode_lines<T>(rows: &[Map], model: &str, f: impl Fn(&Map) -> Result<T, DecodeError>) -> Result<Vec<T>, Error> {
    rows.iter().map(|m| f(m).map_err(|e| Error::decode(&e).with_call(model, "read"))).collect()
}

impl OpenErpClient {
    /// The settings of the backend named `name` (the `[backends.<name>]` of the configuration)
    /// with its lines. [`ErrorKind::NotFound`] when no active backend has that name.
    pub async fn backend_settings(&self, name: &str, ctx: &Context) -> Result<BackendSettings, Error> {
        let domain = Domain::new().eq("name", Value::String(name.to_owned()));
        let rows = self.search_read(BACKEND_MODEL, &domain, BACKEND_FIELDS, &SearchOpts::limit(2), ctx).await?;
        let row = match rows.as_slice() {
            [one] => one,
            [] => {
                let archived = self.search_count(BACKEND_MODEL, &domain, &ctx.clone().with_active_test(false)).await?;
                let hint = if archived > 0 { " (it is archived)" } else { "" };
                return Err(Error::new(ErrorKind::NotFound, format!("no active magento.backend named {name:?}{hint}"))
                    .with_call(BACKEND_MODEL, "search_read"));
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::Refused,
                    format!("several magento.backend records are named {name:?}"),
                )
                .with_call(BACKEND_MODEL, "search_read"));
            }
        };
        let r = Record::new(row, BACKEND_MODEL);
        let all = ctx.clone().with_active_test(false);
        let stores = self.read(STORE_MODEL, &r.ids("store_ids")?, STORE_FIELDS, &all).await?;
        let payments = self.read(PAYMENT_MODEL, &r.ids("payment_method_ids")?, PAYMENT_FIELDS, &all).await?;
        let statuses = self.read(STATUS_MODEL, &r.ids("status_map_ids")?, STATUS_FIELDS, &all).await?;
        BackendSettings::from_parts(
            row,
            decode_lines(&stores, STORE_MODEL, StoreSettings::from_map)?,
            decode_lines(&payments, PAYMENT_MODEL, PaymentMethodSettings::from_map)?,
            decode_lines(&statuses, STATUS_MODEL, StatusMapping::from_map)?,
        )
        .map_err(|e| Error::decode(&e).with_call(BACKEND_MODEL, "read"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::value::{array, int, string};

    fn map(pairs: Vec<(&str, Value)>) -> Map {
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    fn backend_row() -> Map {
        map(vec![
            ("id", int(1)),
            ("name", string("shop")),
            ("active", Value::Boolean(true)),
            ("connector_url", string("http://127.0.0.1:8070/RPC2")),
            ("company_id", array([int(1), string("My Company (San Francisco)")])),
            ("root_category_id", Value::Boolean(false)),
            ("attribute_set_id", int(4)),
            ("product_visibility", string("4")),
            ("price_source", string("pricelist")),
            ("export_images", Value::Boolean(true)),
            ("stock_field", string("free_qty")),
            ("backorders", string("selected")),
            ("backorder_product_ids", array([int(5), int(6)])),
            ("shipping_product_id", array([int(41), string("[MAGE-SHIP] Magento Shipping")])),
            ("discount_product_id", array([int(42), string("[MAGE-DISC] Discount")])),
            ("rounding_product_id", Value::Boolean(false)),
            ("rounding_tolerance", Value::Double(0.05)),
            ("import_statuses", string("pending, processing,")),
            ("import_from_date", Value::Boolean(false)),
            ("import_overlap_minutes", int(10)),
            ("confirm_orders", Value::Boolean(true)),
            ("store_ids", array([int(1)])),
            ("payment_method_ids", array([int(1)])),
            ("status_map_ids", array([int(1)])),
        ])
    }

    #[test]
    fn decodes_a_backend_with_its_lines() {
        let store = StoreSettings::from_map(&map(vec![
            ("id", int(1)),
            ("backend_id", array([int(1), string("shop")])),
            ("name", string("Default Store View")),
            ("magento_store_id", int(1)),
            ("magento_store_code", string("default")),
            ("magento_website_id", int(1)),
            ("magento_group_id", int(1)),
            ("magento_root_category_id", int(2)),
            ("lang", string("en_US")),
            ("pricelist_id", Value::Boolean(false)),
            ("warehouse_id", array([int(1), string("YourCompany")])),
            ("root_category_id", Value::Boolean(false)),
            ("import_orders", Value::Boolean(true)),
            ("export_catalog", Value::Boolean(true)),
        ]))
        .unwrap();
        let pay = PaymentMethodSettings::from_map(&map(vec![
            ("id", int(1)),
            ("code", string("checkmo")),
            ("name", Value::Boolean(false)),
            ("payment_term_id", array([int(1), string("Immediate Payment")])),
            ("import_orders", Value::Boolean(true)),
        ]))
        .unwrap();
        let status = StatusMapping::from_map(&map(vec![
            ("id", int(1)),
            ("event", string("shipped")),
            ("magento_status", string("complete")),
            ("comment", Value::Boolean(false)),
            ("notify", Value::Boolean(true)),
        ]))
        .unwrap();
        let s = BackendSettings::from_parts(&backend_row(), vec![store], vec![pay], vec![status]).unwrap();
        assert_eq!(s.price_source, PriceSource::Pricelist);
        assert_eq!(s.stock_field.field(), "free_qty");
        assert_eq!(s.backorders, Backorders::Selected);
        assert_eq!(s.import_statuses, vec!["pending", "processing"]);
        assert_eq!(s.import_from_date, None);
        assert_eq!(s.shipping_product.as_ref().map(|p| p.id), Some(41));
        assert_eq!(s.discount_product.as_ref().map(|p| p.id), Some(42));
        assert_eq!(s.rounding_product, None);
        assert_eq!(s.rounding_tolerance, Decimal::new(5, 2));
        assert_eq!(s.store(1).and_then(|st| st.warehouse.as_ref()).map(|w| w.id), Some(1));
        assert_eq!(s.payment_method("checkmo").and_then(|p| p.payment_term.as_ref()).map(|t| t.id), Some(1));
        assert_eq!(s.payment_method("checkmo").unwrap().name, None);
        assert_eq!(s.status_for(OrderEvent::Shipped).and_then(|m| m.magento_status.as_deref()), Some("complete"));
        assert!(s.status_for(OrderEvent::Cancelled).is_none());
    }

    #[test]
    fn bad_selection_values_name_the_field() {
        let mut row = backend_row();
        row.insert("stock_field".into(), string("outgoing_qty"));
        let e = BackendSettings::from_parts(&row, vec![], vec![], vec![]).unwrap_err();
        assert_eq!(e.field, "magento.backend.stock_field");
        let mut row = backend_row();
        row.insert("rounding_tolerance".into(), Value::Double(-0.01));
        let e = BackendSettings::from_parts(&row, vec![], vec![], vec![]).unwrap_err();
        assert_eq!(e.field, "magento.backend.rounding_tolerance");
        let mut row = backend_row();
        row.remove("rounding_tolerance");
        let s = BackendSettings::from_parts(&row, vec![], vec![], vec![]).unwrap();
        assert_eq!(s.rounding_tolerance, DEFAULT_ROUNDING_TOLERANCE);
        assert_eq!(DEFAULT_ROUNDING_TOLERANCE.to_string(), "0.02");
        let e = StatusMapping::from_map(&map(vec![("id", int(1)), ("event", string("paid"))])).unwrap_err();
        assert_eq!(e.field, "magento.order.status.event");
    }

    /// Backend fields only the addon uses (the token it sends, its own export-on-save switch).
    const ADDON_ONLY_FIELDS: &[&str] = &["connector_token", "auto_export"];

    #[test]
    fn every_addon_field_we_request_is_in_the_contract() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openerp_addon/contract.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let contract: serde_json::Value = serde_json::from_str(&text).unwrap();
        let new_models = contract["new_models"].as_object().unwrap();
        let extended = contract["extended_models"].as_object().unwrap();
        let mut checked = 0;
        for (model, fields) in addon_fields_requested() {
            if let Some(declared) = new_models.get(model) {
                for f in fields {
                    assert!(declared.get(f).is_some(), "{model}.{f} is requested but not in contract.json new_models");
                    checked += 1;
                }
                assert!(
                    declared.as_object().unwrap().keys().all(|k| ADDON_ONLY_FIELDS.contains(&k.as_str())
                        || addon_fields_requested().iter().any(|(m, fs)| *m == model && fs.contains(&k.as_str()))),
                    "{model}: a contract field is not read (only {ADDON_ONLY_FIELDS:?} may be skipped)"
                );
            } else {
                let declared = extended.get(model);
                for f in fields.into_iter().filter(|f| f.starts_with("magento_")) {
                    assert!(
                        declared.and_then(|d| d.get(f)).is_some(),
                        "{model}.{f} is requested but not in contract.json extended_models"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 40, "only {checked} fields checked");
        assert!(!BACKEND_FIELDS.contains(&"connector_token"), "the server never reads the token");
    }
}
