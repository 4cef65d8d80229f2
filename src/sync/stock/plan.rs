//! Pure decisions of the stock export: which warehouses a product's quantity is counted in,
//! what Magento must show for it (quantity, `is_in_stock`, backorders), and whether that
//! differs from what was last sent.
//!
//! No I/O here: the driver in [`super`] reads OpenERP and the state store, calls these
//! functions, and writes to Magento.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use rust_decimal::Decimal;

use crate::magento::types::Backorders;
use crate::openerp::models::settings::{self, BackendSettings};
use crate::openerp::models::stock::StockLevel;
use crate::openerp::{ProductKind, models::settings::StockField};
use crate::store::StockSent;

/// Decimal places Magento keeps for a stock quantity (`decimal(12,4)`).
pub const QTY_DECIMALS: u32 = 4;

/// Where one product's quantity is counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QtyScope {
    /// Every warehouse (no warehouse in the context).
    AllWarehouses,
    /// The sum over these warehouses (sorted, distinct, never empty).
    Warehouses(Vec<i64>),
}

impl QtyScope {
    /// Short description for messages.
    pub fn describe(&self) -> String {
        match self {
            QtyScope::AllWarehouses => "all warehouses".into(),
            QtyScope::Warehouses(w) if w.len() == 1 => format!("warehouse {}", w[0]),
            QtyScope::Warehouses(w) => {
                format!("warehouses {}", w.iter().map(i64::to_string).collect::<Vec<_>>().join(" + "))
            }
        }
    }
}

/// The warehouse of each Magento website, from the backend's store lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WarehouseMap {
    /// Website id → warehouses mapped by its store lines (empty: none mapped).
    by_website: BTreeMap<i64, BTreeSet<i64>>,
    /// Websites of the store lines that export the catalogue.
    default_websites: Vec<i64>,
    /// Problems worth telling the user once per run.
    warnings: Vec<String>,
}

impl WarehouseMap {
    /// Builds the map from the store lines of `settings`.
    ///
    /// Every store line of a website should name the same warehouse; when they disagree, the
    /// quantities of all the warehouses named are added, and [`WarehouseMap::warnings`] says
    /// so. Store lines without a website id are ignored (with a warning when they name a
    /// warehouse).
    pub fn from_settings(settings: &BackendSettings) -> WarehouseMap {
        let mut by_website: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        let mut exporting = BTreeSet::new();
        let mut warnings = Vec::new();
        for line in &settings.stores {
            let Some(website) = line.magento_website_id else {
                if let Some(w) = &line.warehouse {
                    warnings.push(format!(
                        "store view {} has warehouse {:?} but no Magento website id: load the stores again",
                        line.magento_store_id, w.name
                    ));
                }
                continue;
            };
            let set = by_website.entry(website).or_default();
            if let Some(w) = &line.warehouse {
                set.insert(w.id);
            }
            if line.export_catalog {
                exporting.insert(website);
            }
        }
        for (website, whs) in &by_website {
            if whs.len() > 1 {
                warnings.push(format!(
                    "the store views of website {website} name different warehouses ({}); their quantities \
                     are added. Give every store view of a website the same warehouse",
                    whs.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        WarehouseMap { by_website, default_websites: exporting.into_iter().collect(), warnings }
    }

    /// Websites a product goes to when its binding does not say (those of the store lines
    /// that export the catalogue).
    pub fn default_websites(&self) -> &[i64] {
        &self.default_websites
    }

    /// Problems found in the store lines.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Where the quantity of a product exported to `websites` is counted: the distinct
    /// warehouses of those websites; every warehouse when the product has no website or one of
    /// its websites has no warehouse (adding "everything" to a warehouse would count twice).
    pub fn scope_for(&self, websites: &[i64]) -> QtyScope {
        let mut all = BTreeSet::new();
        for w in websites {
            match self.by_website.get(w) {
                Some(set) if !set.is_empty() => all.extend(set.iter().copied()),
                _ => return QtyScope::AllWarehouses,
            }
        }
        if all.is_empty() { QtyScope::AllWarehouses } else { QtyScope::Warehouses(all.into_iter().collect()) }
    }
}

/// The websites recorded in a product binding's extra data (`"websites": [1, 2]`), if any.
pub fn binding_websites(extra: &serde_json::Value) -> Option<Vec<i64>> {
    let list = extra.get("websites")?.as_array()?;
    let mut out: Vec<i64> = list.iter().filter_map(serde_json::Value::as_i64).collect();
    out.sort_unstable();
    out.dedup();
    (!out.is_empty()).then_some(out)
}

/// The SKU recorded in a product binding's extra data (`"sku": "..."`), if any.
pub fn binding_sku(extra: &serde_json::Value) -> Option<String> {
    extra.get("sku").and_then(serde_json::Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Which products may be backordered in Magento.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackorderPolicy {
    /// None.
    None,
    /// Every product.
    All,
    /// Only these OpenERP product ids.
    Selected(HashSet<i64>),
}

impl BackorderPolicy {
    /// The policy of the backend settings.
    pub fn from_settings(s: &BackendSettings) -> BackorderPolicy {
        match s.backorders {
            settings::Backorders::None => BackorderPolicy::None,
            settings::Backorders::All => BackorderPolicy::All,
            settings::Backorders::Selected => {
                BackorderPolicy::Selected(s.backorder_product_ids.iter().copied().collect())
            }
        }
    }

    /// True when `product_id` may be backordered.
    pub fn allows(&self, product_id: i64) -> bool {
        match self {
            BackorderPolicy::None => false,
            BackorderPolicy::All => true,
            BackorderPolicy::Selected(ids) => ids.contains(&product_id),
        }
    }
}

/// Why a product's stock is not sent although it is bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotTracked {
    /// A consumable: OpenERP does not count its stock.
    Consumable,
    /// A service.
    Service,
    /// Another kind without stock (combo, a module's type).
    Other(String),
}

impl std::fmt::Display for NotTracked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotTracked::Consumable => f.write_str("a consumable: OpenERP does not track its stock, so none is sent"),
            NotTracked::Service => f.write_str("a service: it has no stock, so none is sent"),
            NotTracked::Other(t) => write!(f, "product type {t:?} does not track stock, so none is sent"),
        }
    }
}

/// `Ok` when the stock of a product of this kind is tracked and exported.
pub fn tracked(kind: &ProductKind) -> Result<(), NotTracked> {
    match kind {
        ProductKind::Storable => Ok(()),
        ProductKind::Consumable => Err(NotTracked::Consumable),
        ProductKind::Service => Err(NotTracked::Service),
        ProductKind::Combo => Err(NotTracked::Other("combo".into())),
        ProductKind::Other(t) => Err(NotTracked::Other(t.clone())),
    }
}

/// The configured quantity of one level; `None` when the field is `free_qty` and the server
/// did not send it.
pub fn field_qty(level: &StockLevel, field: StockField) -> Option<Decimal> {
    match field {
        StockField::VirtualAvailable => Some(level.virtual_available),
        StockField::QtyAvailable => Some(level.qty_available),
        StockField::FreeQty => level.free_qty,
    }
}

/// What Magento must show for one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockTarget {
    /// Quantity (never negative unless backorders are allowed), rounded to 4 places.
    pub qty: Decimal,
    /// In stock flag.
    pub is_in_stock: bool,
    /// Backorders to set on the item (`None`: leave the shop's configuration).
    pub backorders: Option<Backorders>,
}

impl StockTarget {
    /// The Magento backorders code, as stored in the sent log.
    pub fn backorders_code(&self) -> Option<i64> {
        self.backorders.map(Backorders::code)
    }
}

/// Largest quantity a Magento 1 stock item holds (`cataloginventory_stock_item.qty` is
/// `decimal(12,4)`; MySQL in Magento's non-strict mode would silently store the maximum).
pub const MAX_QTY: Decimal = Decimal::from_parts(0xD4A5_0FFF, 0xE8, 0, false, 4);

/// Refuses a quantity Magento cannot store, with the reason.
pub fn storable_qty(qty: Decimal) -> Result<(), String> {
    if qty.abs() > MAX_QTY {
        return Err(format!(
            "OpenERP's quantity {} is beyond what Magento can store ({MAX_QTY}): correct the product's stock in \
             OpenERP; nothing was sent",
            qty.normalize()
        ));
    }
    Ok(())
}

/// What to send for a product whose OpenERP quantity is `qty`.
///
/// Without backorders a negative quantity is sent as 0 and the item is in stock only when the
/// quantity is positive. With backorders the quantity is sent as it is (Magento counts the
/// backorders below zero), the item stays in stock, and backorders are switched on for it. When
/// backorders were switched on by an earlier run (`previous_backorders` is a code) and are no
/// longer allowed, they are switched off explicitly; an item never touched keeps the shop's
/// configuration.
pub fn target(qty: Decimal, backorders_allowed: bool, previous_backorders: Option<i64>) -> StockTarget {
    let qty = qty.round_dp(QTY_DECIMALS).normalize();
    if backorders_allowed {
        return StockTarget { qty, is_in_stock: true, backorders: Some(Backorders::Allow) };
    }
    let qty = if qty.is_sign_negative() { Decimal::ZERO } else { qty };
    StockTarget { is_in_stock: qty > Decimal::ZERO, qty, backorders: previous_backorders.map(|_| Backorders::No) }
}

/// True when `target` for `sku` differs from what was last sent (or nothing was).
pub fn changed(previous: Option<&StockSent>, sku: &str, target: &StockTarget) -> bool {
    match previous {
        None => true,
        Some(p) => {
            p.sku != sku
                || p.qty.normalize() != target.qty
                || p.is_in_stock != target.is_in_stock
                || p.backorders != target.backorders_code()
        }
    }
}

fn flag(in_stock: bool) -> &'static str {
    if in_stock { "in stock" } else { "out of stock" }
}

fn backorders_text(code: Option<i64>) -> &'static str {
    match code {
        None => "shop default",
        Some(0) => "off",
        Some(_) => "on",
    }
}

/// Plain-words difference between the last level sent and `target` (for reports).
pub fn describe(previous: Option<&StockSent>, target: &StockTarget, scope: &QtyScope) -> String {
    let mut parts = Vec::new();
    match previous {
        None => {
            parts.push(format!("qty {}", target.qty));
            parts.push(flag(target.is_in_stock).to_owned());
            if let Some(b) = target.backorders_code() {
                parts.push(format!("backorders {}", backorders_text(Some(b))));
            }
        }
        Some(p) => {
            let before = p.qty.normalize();
            if before == target.qty {
                parts.push(format!("qty {}", target.qty));
            } else {
                parts.push(format!("qty {before} → {}", target.qty));
            }
            if p.is_in_stock == target.is_in_stock {
                parts.push(flag(target.is_in_stock).to_owned());
            } else {
                parts.push(format!("{} → {}", flag(p.is_in_stock), flag(target.is_in_stock)));
            }
            if p.backorders != target.backorders_code() {
                parts.push(format!(
                    "backorders {} → {}",
                    backorders_text(p.backorders),
                    backorders_text(target.backorders_code())
                ));
            }
        }
    }
    format!("{} ({})", parts.join(", "), scope.describe())
}

#[cfg(test)]
mod tests {
    #[test]
    fn absurd_quantities_are_refused_with_the_reason() {
        use rust_decimal::Decimal;
        assert_eq!(super::MAX_QTY.to_string(), "99999999.9999");
        assert!(super::storable_qty(Decimal::from(99_999_999)).is_ok());
        assert!(super::storable_qty(Decimal::from(-5)).is_ok());
        let e = super::storable_qty(Decimal::from(1_000_000_000_000_i64)).unwrap_err();
        assert!(e.contains("1000000000000") && e.contains("99999999.9999"), "{e}");
        assert!(super::storable_qty(Decimal::from(-1_000_000_000_000_i64)).is_err());
    }

    use super::*;
    use crate::openerp::models::settings::StoreSettings;
    use crate::rpc::value::Many2one;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn line(store: i64, website: Option<i64>, warehouse: Option<i64>, export: bool) -> StoreSettings {
        StoreSettings {
            id: store,
            name: None,
            magento_store_id: store,
            magento_store_code: None,
            magento_website_id: website,
            magento_group_id: None,
            magento_root_category_id: None,
            lang: None,
            pricelist: None,
            warehouse: warehouse.map(|id| Many2one { id, name: format!("WH{id}") }),
            root_category: None,
            import_orders: true,
            export_catalog: export,
        }
    }

    fn settings(stores: Vec<StoreSettings>) -> BackendSettings {
        BackendSettings { export_images: false, ..BackendSettings::example("shop", stores) }
    }

    fn sent(sku: &str, qty: &str, in_stock: bool, backorders: Option<i64>) -> StockSent {
        StockSent {
            backend: "shop".into(),
            product_id: 1,
            scope: 0,
            sku: sku.into(),
            qty: dec(qty),
            is_in_stock: in_stock,
            backorders,
            at: chrono::Utc::now(),
        }
    }

    #[test]
    fn one_warehouse_per_website_and_the_sum_over_distinct_ones() {
        let m = WarehouseMap::from_settings(&settings(vec![
            line(1, Some(1), Some(10), true),
            line(2, Some(1), Some(10), true),
            line(3, Some(2), Some(20), true),
        ]));
        assert!(m.warnings().is_empty());
        assert_eq!(m.default_websites(), &[1, 2]);
        assert_eq!(m.scope_for(&[1]), QtyScope::Warehouses(vec![10]));
        assert_eq!(m.scope_for(&[1, 2]), QtyScope::Warehouses(vec![10, 20]));
        assert_eq!(m.scope_for(&[]), QtyScope::AllWarehouses);
        assert_eq!(m.scope_for(&[3]), QtyScope::AllWarehouses, "an unknown website has no warehouse");
        let same = WarehouseMap::from_settings(&settings(vec![
            line(1, Some(1), Some(10), true),
            line(3, Some(2), Some(10), true),
        ]));
        assert_eq!(same.scope_for(&[1, 2]), QtyScope::Warehouses(vec![10]), "a warehouse counts once");
    }

    #[test]
    fn no_warehouse_means_all_warehouses_and_conflicts_are_reported() {
        let none =
            WarehouseMap::from_settings(&settings(vec![line(1, Some(1), None, true), line(3, Some(2), None, true)]));
        assert_eq!(none.scope_for(&[1, 2]), QtyScope::AllWarehouses);
        let partial = WarehouseMap::from_settings(&settings(vec![
            line(1, Some(1), Some(10), true),
            line(3, Some(2), None, true),
        ]));
        assert_eq!(partial.scope_for(&[1]), QtyScope::Warehouses(vec![10]));
        assert_eq!(partial.scope_for(&[1, 2]), QtyScope::AllWarehouses, "never warehouse + everything");
        let conflict = WarehouseMap::from_settings(&settings(vec![
            line(1, Some(1), Some(10), true),
            line(2, Some(1), Some(11), false),
            line(4, None, Some(12), true),
        ]));
        assert_eq!(conflict.scope_for(&[1]), QtyScope::Warehouses(vec![10, 11]));
        assert_eq!(conflict.default_websites(), &[1]);
        assert_eq!(conflict.warnings().len(), 2, "{:?}", conflict.warnings());
        assert!(conflict.warnings()[0].contains("website id"));
        assert!(conflict.warnings()[1].contains("different warehouses (10, 11)"));
        let no_export = WarehouseMap::from_settings(&settings(vec![line(3, Some(2), Some(20), false)]));
        assert!(no_export.default_websites().is_empty());
    }

    #[test]
    fn binding_extra_gives_websites_and_sku() {
        let extra = serde_json::json!({"sku": " A-1 ", "websites": [2, 1, 2, "x"]});
        assert_eq!(binding_websites(&extra), Some(vec![1, 2]));
        assert_eq!(binding_sku(&extra).as_deref(), Some("A-1"));
        assert_eq!(binding_websites(&serde_json::json!({"websites": []})), None);
        assert_eq!(binding_websites(&serde_json::json!({})), None);
        assert_eq!(binding_sku(&serde_json::json!({"sku": ""})), None);
        assert_eq!(binding_sku(&serde_json::Value::Null), None);
    }

    #[test]
    fn negative_and_zero_quantities_without_backorders() {
        let t = target(dec("-3"), false, None);
        assert_eq!((t.qty, t.is_in_stock, t.backorders), (Decimal::ZERO, false, None));
        let t = target(dec("0"), false, None);
        assert_eq!((t.qty, t.is_in_stock), (Decimal::ZERO, false));
        let t = target(dec("12.000"), false, None);
        assert_eq!((t.qty.to_string().as_str(), t.is_in_stock), ("12", true));
        let t = target(dec("0.00001"), false, None);
        assert_eq!((t.qty, t.is_in_stock), (Decimal::ZERO, false), "rounded to Magento's 4 places first");
        let t = target(dec("2.99999999"), false, None);
        assert_eq!(t.qty, dec("3"));
    }

    #[test]
    fn backorders_keep_the_item_in_stock_and_are_switched_off_only_when_set_before() {
        let t = target(dec("-5"), true, None);
        assert_eq!((t.qty, t.is_in_stock, t.backorders), (dec("-5"), true, Some(Backorders::Allow)));
        assert_eq!(t.backorders_code(), Some(1));
        let t = target(dec("0"), true, None);
        assert!(t.is_in_stock);
        let off = target(dec("-5"), false, Some(1));
        assert_eq!((off.qty, off.is_in_stock, off.backorders), (Decimal::ZERO, false, Some(Backorders::No)));
        let kept_off = target(dec("4"), false, Some(0));
        assert_eq!(kept_off.backorders, Some(Backorders::No));
    }

    #[test]
    fn change_detection_covers_qty_flag_backorders_and_sku() {
        let t = target(dec("5"), false, None);
        assert!(changed(None, "A", &t));
        assert!(!changed(Some(&sent("A", "5.0000", true, None)), "A", &t));
        assert!(changed(Some(&sent("A", "4", true, None)), "A", &t));
        assert!(changed(Some(&sent("A", "5", false, None)), "A", &t));
        assert!(changed(Some(&sent("B", "5", true, None)), "A", &t), "a renamed SKU is sent again");
        let b = target(dec("5"), true, None);
        assert!(changed(Some(&sent("A", "5", true, None)), "A", &b), "backorders switched on");
        let off = target(dec("5"), false, Some(1));
        assert!(changed(Some(&sent("A", "5", true, Some(1))), "A", &off), "backorders switched off");
        let still_off = target(dec("5"), false, Some(0));
        assert!(!changed(Some(&sent("A", "5", true, Some(0))), "A", &still_off));
    }

    #[test]
    fn descriptions_say_what_changes() {
        let scope = QtyScope::Warehouses(vec![1, 2]);
        let t = target(dec("3"), false, None);
        assert_eq!(describe(None, &t, &scope), "qty 3, in stock (warehouses 1 + 2)");
        let prev = sent("A", "5", true, None);
        assert_eq!(describe(Some(&prev), &t, &QtyScope::AllWarehouses), "qty 5 → 3, in stock (all warehouses)");
        let z = target(dec("-1"), false, None);
        assert_eq!(
            describe(Some(&prev), &z, &QtyScope::Warehouses(vec![7])),
            "qty 5 → 0, in stock → out of stock (warehouse 7)"
        );
        let b = target(dec("-1"), true, None);
        assert_eq!(
            describe(Some(&prev), &b, &scope),
            "qty 5 → -1, in stock, backorders shop default → on (warehouses 1 + 2)"
        );
    }

    #[test]
    fn kinds_and_fields() {
        assert!(tracked(&ProductKind::Storable).is_ok());
        assert_eq!(tracked(&ProductKind::Consumable), Err(NotTracked::Consumable));
        assert!(tracked(&ProductKind::Service).unwrap_err().to_string().contains("service"));
        assert!(tracked(&ProductKind::Other("event".into())).unwrap_err().to_string().contains("\"event\""));
        let level = StockLevel { product_id: 1, qty_available: dec("4"), virtual_available: dec("8"), free_qty: None };
        assert_eq!(field_qty(&level, StockField::VirtualAvailable), Some(dec("8")));
        assert_eq!(field_qty(&level, StockField::QtyAvailable), Some(dec("4")));
        assert_eq!(field_qty(&level, StockField::FreeQty), None);
    }

    #[test]
    fn backorder_policy_from_settings() {
        let mut s = settings(vec![]);
        assert!(!BackorderPolicy::from_settings(&s).allows(1));
        s.backorders = settings::Backorders::All;
        assert!(BackorderPolicy::from_settings(&s).allows(1));
        s.backorders = settings::Backorders::Selected;
        s.backorder_product_ids = vec![2];
        let p = BackorderPolicy::from_settings(&s);
        assert!(p.allows(2) && !p.allows(1));
    }
}
