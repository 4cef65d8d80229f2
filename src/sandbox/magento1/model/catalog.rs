//! The catalog tables: products (with store-level values, website and category assignments,
//! stock item and media gallery) and categories (a tree with store-level values).
//!
//! Products are indexed by id and by lower-cased SKU (MySQL compares SKUs case-insensitively),
//! category assignments both ways, so a 100,000-product catalog stays linear.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use dxr::Value;
use rust_decimal::Decimal;

use super::attributes::AttrDef;

/// Attribute values of one scope (`code → value` as it goes on the wire).
pub(crate) type Values = BTreeMap<String, Value>;

/// A stock item (`cataloginventory_stock_item`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StockItem {
    /// Quantity.
    pub qty: Decimal,
    /// Stored `is_in_stock` flag.
    pub is_in_stock: bool,
    /// `manage_stock` (used when `use_config_manage_stock` is off).
    pub manage_stock: bool,
    /// `use_config_manage_stock` (the config says: manage stock).
    pub use_config_manage_stock: bool,
    /// `backorders` (0: none).
    pub backorders: i64,
    /// `use_config_backorders`.
    pub use_config_backorders: bool,
    /// `min_sale_qty`.
    pub min_sale_qty: Decimal,
}

impl StockItem {
    /// A managed stock item with `qty` (in stock when positive).
    pub(crate) fn managed(qty: Decimal) -> Self {
        StockItem {
            qty,
            is_in_stock: qty > Decimal::ZERO,
            manage_stock: true,
            use_config_manage_stock: true,
            backorders: 0,
            use_config_backorders: true,
            min_sale_qty: Decimal::ONE,
        }
    }

    /// A stock item without stock management (what `create` without `stock_data` gives).
    pub(crate) fn unmanaged() -> Self {
        StockItem {
            manage_stock: false,
            use_config_manage_stock: false,
            is_in_stock: false,
            ..StockItem::managed(Decimal::ZERO)
        }
    }

    /// Effective stock management.
    pub(crate) fn manages(&self) -> bool {
        if self.use_config_manage_stock { true } else { self.manage_stock }
    }

    /// `getIsInStock()`: always true without stock management.
    pub(crate) fn in_stock(&self) -> bool {
        !self.manages() || self.is_in_stock
    }

    /// `_beforeSave`: a managed item without backorders at or below zero goes out of stock.
    pub(crate) fn verify(&mut self, qty_type: bool) {
        if !qty_type {
            self.qty = Decimal::ZERO;
            return;
        }
        if self.manages() && self.backorders == 0 && self.qty <= Decimal::ZERO {
            self.is_in_stock = false;
        }
    }
}

/// One image of a product's media gallery.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MediaImage {
    /// Stored path (`/b/r/brass-lamp.png`).
    pub file: String,
    /// Label.
    pub label: Option<String>,
    /// Position.
    pub position: i64,
    /// Disabled on the storefront.
    pub exclude: bool,
    /// Decoded image bytes.
    pub content: Vec<u8>,
    /// Mime type.
    pub mime: String,
}

/// A configurable product's super attribute with its per-option price deltas.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SuperAttribute {
    /// Attribute id (94 color, 134 size).
    pub attribute_id: i64,
    /// Attribute code.
    pub code: &'static str,
    /// Frontend label.
    pub label: &'static str,
    /// Price added per option value.
    pub pricing: Vec<(i64, Decimal)>,
}

/// A product (`catalog_product_entity` and its EAV values).
#[derive(Debug, Clone)]
pub(crate) struct Product {
    /// Entity id.
    pub id: i64,
    /// SKU.
    pub sku: String,
    /// Type (`simple`, `virtual`, `configurable`…).
    pub type_id: String,
    /// Attribute set.
    pub set_id: i64,
    /// Default (admin, store 0) values.
    pub values: Values,
    /// Store-level values (`store_id → values`).
    pub store_values: BTreeMap<i64, Values>,
    /// Websites.
    pub website_ids: BTreeSet<i64>,
    /// Categories.
    pub category_ids: BTreeSet<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
    /// `has_options`.
    pub has_options: i64,
    /// `required_options`.
    pub required_options: i64,
    /// Stock item.
    pub stock: StockItem,
    /// Media gallery, in insertion order.
    pub media: Vec<MediaImage>,
    /// Children of a configurable.
    pub children: Vec<i64>,
    /// Super attributes of a configurable.
    pub super_attributes: Vec<SuperAttribute>,
}

impl Product {
    /// Value of `code` in `store` with "use default" fallback (`None`: NULL).
    pub(crate) fn value(&self, code: &str, store: i64) -> Option<&Value> {
        if store != 0
            && let Some(v) = self.store_values.get(&store).and_then(|m| m.get(code))
        {
            return Some(v);
        }
        self.values.get(code)
    }

    /// Text value of `code` in `store`.
    pub(crate) fn text(&self, code: &str, store: i64) -> Option<String> {
        match self.value(code, store)? {
            Value::String(s) => Some(s.clone()),
            other => Some(super::super::php::to_php_string(other)),
        }
    }

    /// Decimal value of `code` in `store`.
    pub(crate) fn decimal(&self, code: &str, store: i64) -> Option<Decimal> {
        self.value(code, store).map(super::super::php::to_decimal_lenient)
    }

    /// Integer value of `code` in `store`.
    pub(crate) fn int(&self, code: &str, store: i64) -> Option<i64> {
        self.value(code, store).map(super::super::php::to_int_lenient)
    }

    /// True for types that keep a quantity (not configurable/grouped/bundle).
    pub(crate) fn is_qty_type(&self) -> bool {
        matches!(self.type_id.as_str(), "simple" | "virtual" | "downloadable")
    }

    /// True for virtual and downloadable products (no shipping).
    pub(crate) fn is_virtual(&self) -> bool {
        matches!(self.type_id.as_str(), "virtual" | "downloadable")
    }

    /// Product attributes this product exposes.
    pub(crate) fn attributes(&self) -> impl Iterator<Item = &'static AttrDef> + '_ {
        super::attributes::PRODUCT_ATTRIBUTES.iter().filter(|d| d.applies_to(&self.type_id))
    }

    /// Final price in `store` on `today` (special price when active and lower).
    pub(crate) fn final_price(&self, store: i64, today: DateTime<Utc>) -> Decimal {
        let price = self.decimal("price", store).unwrap_or_default();
        let Some(special) = self.decimal("special_price", store) else {
            return price;
        };
        let from = self.text("special_from_date", store).and_then(|s| crate::rpc::value::parse_datetime(&s));
        let to = self.text("special_to_date", store).and_then(|s| crate::rpc::value::parse_datetime(&s));
        let active = from.is_none_or(|f| f <= today) && to.is_none_or(|t| today.date_naive() <= t.date_naive());
        if active && special < price { special } else { price }
    }
}

/// A category (`catalog_category_entity` and its EAV values).
#[derive(Debug, Clone)]
pub(crate) struct Category {
    /// Entity id.
    pub id: i64,
    /// Parent id (0 for the tree root 1).
    pub parent_id: i64,
    /// Materialised path (`1/2/3/12`).
    pub path: String,
    /// Position among siblings.
    pub position: i64,
    /// Depth (root 1 is level 0).
    pub level: i64,
    /// Default values.
    pub values: Values,
    /// Store-level values.
    pub store_values: BTreeMap<i64, Values>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl Category {
    /// Value of `code` in `store` with "use default" fallback.
    pub(crate) fn value(&self, code: &str, store: i64) -> Option<&Value> {
        if store != 0
            && let Some(v) = self.store_values.get(&store).and_then(|m| m.get(code))
        {
            return Some(v);
        }
        self.values.get(code)
    }

    /// Name in `store`.
    pub(crate) fn name(&self, store: i64) -> String {
        self.value("name", store).map(super::super::php::to_php_string).unwrap_or_default()
    }
}

/// Products, categories and their indexes.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    products: BTreeMap<i64, Product>,
    by_sku: HashMap<String, i64>,
    next_product_id: i64,
    categories: BTreeMap<i64, Category>,
    next_category_id: i64,
    /// `category → product → position`.
    assignments: BTreeMap<i64, BTreeMap<i64, i64>>,
    media_files: HashSet<String>,
}

fn sku_key(sku: &str) -> String {
    sku.trim_end().to_lowercase()
}

impl Catalog {
    /// Empty catalog whose next ids are `next_product_id` and `next_category_id` (ids already
    /// taken are skipped, like an auto-increment that ran past seeded rows).
    pub(crate) fn new(next_product_id: i64, next_category_id: i64) -> Self {
        Catalog { next_product_id, next_category_id, ..Default::default() }
    }

    /// Allocates the next product id.
    pub(crate) fn allocate_product_id(&mut self) -> i64 {
        while self.products.contains_key(&self.next_product_id) {
            self.next_product_id += 1;
        }
        let id = self.next_product_id;
        self.next_product_id += 1;
        id
    }

    /// Allocates the next category id.
    pub(crate) fn allocate_category_id(&mut self) -> i64 {
        while self.categories.contains_key(&self.next_category_id) {
            self.next_category_id += 1;
        }
        let id = self.next_category_id;
        self.next_category_id += 1;
        id
    }

    /// Product by id.
    pub(crate) fn product(&self, id: i64) -> Option<&Product> {
        self.products.get(&id)
    }

    /// Mutable product by id.
    pub(crate) fn product_mut(&mut self, id: i64) -> Option<&mut Product> {
        self.products.get_mut(&id)
    }

    /// Id of the product with this SKU (case-insensitive, like MySQL).
    pub(crate) fn id_by_sku(&self, sku: &str) -> Option<i64> {
        self.by_sku.get(&sku_key(sku)).copied()
    }

    /// Every product, by id.
    pub(crate) fn products(&self) -> impl Iterator<Item = &Product> {
        self.products.values()
    }

    /// Number of products.
    pub(crate) fn product_count(&self) -> usize {
        self.products.len()
    }

    /// Inserts or replaces a product, keeping the SKU and category indexes in step.
    pub(crate) fn put_product(&mut self, p: Product) {
        if let Some(old) = self.products.get(&p.id) {
            let old_key = sku_key(&old.sku);
            if self.by_sku.get(&old_key) == Some(&p.id) {
                self.by_sku.remove(&old_key);
            }
            let old_cats: Vec<i64> = old.category_ids.iter().copied().collect();
            for c in old_cats {
                if !p.category_ids.contains(&c)
                    && let Some(m) = self.assignments.get_mut(&c)
                {
                    m.remove(&p.id);
                }
            }
        }
        self.by_sku.insert(sku_key(&p.sku), p.id);
        for c in &p.category_ids {
            self.assignments.entry(*c).or_default().entry(p.id).or_insert(1);
        }
        self.products.insert(p.id, p);
    }

    /// Removes a product and its assignments and files.
    pub(crate) fn remove_product(&mut self, id: i64) -> Option<Product> {
        let p = self.products.remove(&id)?;
        if self.by_sku.get(&sku_key(&p.sku)) == Some(&id) {
            self.by_sku.remove(&sku_key(&p.sku));
        }
        for c in &p.category_ids {
            if let Some(m) = self.assignments.get_mut(c) {
                m.remove(&id);
            }
        }
        for m in &p.media {
            self.media_files.remove(&m.file);
        }
        Some(p)
    }

    /// Category by id.
    pub(crate) fn category(&self, id: i64) -> Option<&Category> {
        self.categories.get(&id)
    }

    /// Mutable category by id.
    pub(crate) fn category_mut(&mut self, id: i64) -> Option<&mut Category> {
        self.categories.get_mut(&id)
    }

    /// Every category, by id.
    pub(crate) fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    /// Inserts or replaces a category.
    pub(crate) fn put_category(&mut self, c: Category) {
        self.categories.insert(c.id, c);
    }

    /// Removes a category and everything below it; returns the removed ids.
    pub(crate) fn remove_category_tree(&mut self, id: i64) -> Vec<i64> {
        let Some(root) = self.categories.get(&id) else {
            return Vec::new();
        };
        let prefix = format!("{}/", root.path);
        let ids: Vec<i64> =
            self.categories.values().filter(|c| c.id == id || c.path.starts_with(&prefix)).map(|c| c.id).collect();
        for cid in &ids {
            self.categories.remove(cid);
            if let Some(products) = self.assignments.remove(cid) {
                for pid in products.keys() {
                    if let Some(p) = self.products.get_mut(pid) {
                        p.category_ids.remove(cid);
                    }
                }
            }
        }
        ids
    }

    /// Direct children of a category, by position then id.
    pub(crate) fn children(&self, id: i64) -> Vec<&Category> {
        let mut v: Vec<&Category> = self.categories.values().filter(|c| c.parent_id == id && c.id != id).collect();
        v.sort_by_key(|c| (c.position, c.id));
        v
    }

    /// All descendants of a category (not itself), in path order.
    pub(crate) fn descendants(&self, id: i64) -> Vec<&Category> {
        let Some(root) = self.categories.get(&id) else {
            return Vec::new();
        };
        let prefix = format!("{}/", root.path);
        self.categories.values().filter(|c| c.path.starts_with(&prefix)).collect()
    }

    /// Products directly assigned to a category with their positions.
    pub(crate) fn assigned(&self, category: i64) -> Vec<(i64, i64)> {
        self.assignments.get(&category).map(|m| m.iter().map(|(p, pos)| (*p, *pos)).collect()).unwrap_or_default()
    }

    /// Assigns (or re-positions) a product in a category.
    pub(crate) fn assign(&mut self, category: i64, product: i64, position: i64) {
        if let Some(p) = self.products.get_mut(&product) {
            p.category_ids.insert(category);
            self.assignments.entry(category).or_default().insert(product, position);
        }
    }

    /// Removes a product from a category; false when it was not assigned.
    pub(crate) fn unassign(&mut self, category: i64, product: i64) -> bool {
        let removed = self.assignments.get_mut(&category).is_some_and(|m| m.remove(&product).is_some());
        if let Some(p) = self.products.get_mut(&product) {
            p.category_ids.remove(&category);
        }
        removed
    }

    /// Reserves a media path that is not in use yet: `/b/r/brass-lamp.png`, then
    /// `/b/r/brass-lamp_1.png`, … (Varien_File_Uploader's renaming).
    pub(crate) fn reserve_media_path(&mut self, file_name: &str) -> String {
        let dispersion: String =
            file_name.chars().take(2).map(|c| format!("/{}", if c == '.' { '_' } else { c })).collect();
        let (stem, ext) = match file_name.rsplit_once('.') {
            Some((s, e)) => (s.to_owned(), format!(".{e}")),
            None => (file_name.to_owned(), String::new()),
        };
        let mut candidate = format!("{dispersion}/{file_name}");
        let mut n = 1;
        while self.media_files.contains(&candidate) {
            candidate = format!("{dispersion}/{stem}_{n}{ext}");
            n += 1;
        }
        self.media_files.insert(candidate.clone());
        candidate
    }

    /// Frees a media path.
    pub(crate) fn release_media_path(&mut self, file: &str) {
        self.media_files.remove(file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: i64, sku: &str) -> Product {
        Product {
            id,
            sku: sku.into(),
            type_id: "simple".into(),
            set_id: 4,
            values: Values::new(),
            store_values: BTreeMap::new(),
            website_ids: BTreeSet::from([1]),
            category_ids: BTreeSet::from([3]),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            has_options: 0,
            required_options: 0,
            stock: StockItem::managed(Decimal::ONE),
            media: Vec::new(),
            children: Vec::new(),
            super_attributes: Vec::new(),
        }
    }

    #[test]
    fn sku_index_is_case_insensitive_and_follows_renames() {
        let mut c = Catalog::new(20, 13);
        c.put_product(product(20, "API-LAMP-001"));
        assert_eq!(c.id_by_sku("api-lamp-001"), Some(20));
        let mut renamed = product(20, "API-LAMP-002");
        renamed.category_ids.clear();
        c.put_product(renamed);
        assert_eq!(c.id_by_sku("API-LAMP-001"), None);
        assert_eq!(c.id_by_sku("API-LAMP-002"), Some(20));
        assert!(c.assigned(3).is_empty());
        assert_eq!(c.allocate_product_id(), 21);
    }

    #[test]
    fn media_paths_are_dispersed_and_renamed_when_taken() {
        let mut c = Catalog::new(1, 1);
        assert_eq!(c.reserve_media_path("brass-lamp.png"), "/b/r/brass-lamp.png");
        assert_eq!(c.reserve_media_path("brass-lamp.png"), "/b/r/brass-lamp_1.png");
        assert_eq!(c.reserve_media_path("x.png"), "/x/_/x.png");
    }

    #[test]
    fn unmanaged_stock_is_always_in_stock_and_managed_stock_runs_out() {
        let mut s = StockItem::unmanaged();
        assert!(s.in_stock());
        s = StockItem::managed(Decimal::from(3));
        s.qty = Decimal::ZERO;
        s.verify(true);
        assert!(!s.in_stock());
    }
}
