//! Product payloads (pure): whether an OpenERP product is exported, its SKU and Magento type,
//! the attributes sent at default scope, the snapshot kept in the binding (to show field
//! differences in dry runs and reports) and the payload hash.
//!
//! Field rules:
//! * SKU = internal reference, trimmed; empty → not exported; longer than 64 characters (the
//!   size of Magento 1's `sku` column) → not exported.
//! * type: services → `virtual`, storable and consumable → `simple`; other kinds are refused.
//! * name; description = description, else sales description, else name; short description =
//!   sales description, else name (Magento 1's admin requires both).
//! * price (4 decimals), weight (simple products only), status enabled, tax class, websites,
//!   categories (the set replaces Magento's), meta title/description/keywords when OpenERP has
//!   the `website_meta_*` fields (a value cleared in OpenERP is cleared in Magento).
//! * visibility, attribute set, type and stock management are create-time values: they are
//!   sent on create only (an existing product's visibility is a shop decision, e.g. the
//!   variants of a configurable product are "Not Visible Individually").

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::magento::types::{AttrValue, ProductData};
use crate::openerp::ProductKind;
use crate::openerp::models::products::Product;
use crate::sync::catalog_common::{hash_json, hash_text};

/// Longest SKU Magento 1 stores.
pub const SKU_MAX: usize = 64;

/// Hash kept in the binding of a product the connector disabled.
pub const DISABLED_HASH: &str = "disabled";

/// What the binding keeps of the last default-scope payload: field → value (long texts by
/// hash).
pub type Snapshot = BTreeMap<String, serde_json::Value>;

/// Why a product is not (or no longer) exported; a bound one is disabled in Magento.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotExported {
    /// The record no longer exists.
    Deleted,
    /// Archived.
    Archived,
    /// "Can be Sold" is off.
    NotSaleable,
    /// The addon's "Export to Magento" is off.
    NotExportable,
}

impl std::fmt::Display for NotExported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotExported::Deleted => "deleted in OpenERP",
            NotExported::Archived => "archived in OpenERP",
            NotExported::NotSaleable => "not saleable in OpenERP (Can be Sold is off)",
            NotExported::NotExportable => "not exportable (Export to Magento is off in OpenERP)",
        })
    }
}

/// Whether a product (`None`: it no longer exists) is exported at all.
pub fn exportability(p: Option<&Product>) -> Result<(), NotExported> {
    match p {
        None => Err(NotExported::Deleted),
        Some(p) if !p.active => Err(NotExported::Archived),
        Some(p) if !p.sale_ok => Err(NotExported::NotSaleable),
        Some(p) if !p.magento_exportable => Err(NotExported::NotExportable),
        Some(_) => Ok(()),
    }
}

/// The Magento SKU of a product, or why it has none.
pub fn sku(p: &Product) -> Result<String, String> {
    let s = p.default_code.as_deref().map(str::trim).unwrap_or_default();
    if s.is_empty() {
        return Err("no internal reference (SKU): set one in OpenERP to export this product".into());
    }
    if s.chars().count() > SKU_MAX {
        return Err(format!("the internal reference {s:?} is longer than the {SKU_MAX} characters Magento allows"));
    }
    Ok(s.to_owned())
}

/// The Magento product type of an OpenERP product kind.
pub fn magento_type(kind: &ProductKind) -> Result<&'static str, String> {
    match kind {
        ProductKind::Storable | ProductKind::Consumable => Ok("simple"),
        ProductKind::Service => Ok("virtual"),
        ProductKind::Combo => Err("combo products are not exported (Magento 1 has no equivalent)".into()),
        ProductKind::Other(t) => Err(format!("product type {t:?} is not exported (only goods and services are)")),
    }
}

/// Name, description and short description as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Short description.
    pub short_description: String,
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl Texts {
    /// Texts from OpenERP's name, description and sales description, with the fallbacks.
    pub fn new(name: &str, description: Option<&str>, description_sale: Option<&str>) -> Texts {
        let name = name.trim().to_owned();
        let sale = non_empty(description_sale);
        Texts {
            description: non_empty(description).or_else(|| sale.clone()).unwrap_or_else(|| name.clone()),
            short_description: sale.unwrap_or_else(|| name.clone()),
            name,
        }
    }

    /// Texts of a product in the language it was read in.
    pub fn of(p: &Product) -> Texts {
        Texts::new(&p.name, p.description.as_deref(), p.description_sale.as_deref())
    }

    /// Hash of the three texts.
    pub fn hash(&self) -> String {
        hash_json(&serde_json::json!([self.name, self.description, self.short_description]))
    }
}

/// SEO texts (`website_meta_*`), when OpenERP has them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// `website_meta_title` → `meta_title`.
    pub title: Option<String>,
    /// `website_meta_description` → `meta_description`.
    pub description: Option<String>,
    /// `website_meta_keywords` → `meta_keyword`.
    pub keywords: Option<String>,
}

/// What a payload is built from.
#[derive(Debug, Clone)]
pub struct PayloadInput<'a> {
    /// SKU.
    pub sku: &'a str,
    /// Magento product type (`simple`, `virtual`).
    pub type_id: &'static str,
    /// Default-language texts.
    pub texts: &'a Texts,
    /// Price.
    pub price: Decimal,
    /// Weight.
    pub weight: Decimal,
    /// Tax class.
    pub tax_class_id: i64,
    /// Websites.
    pub website_ids: &'a [i64],
    /// Categories.
    pub category_ids: &'a [i64],
    /// SEO texts (`None`: OpenERP has no such fields).
    pub meta: Option<&'a Meta>,
    /// The snapshot last sent (to clear meta texts removed in OpenERP).
    pub previous: Option<&'a Snapshot>,
}

/// Default-scope attributes, with their snapshot and hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// Attributes to send (create or update).
    pub data: ProductData,
    /// What the binding keeps of it.
    pub snapshot: Snapshot,
    /// Hash of the snapshot.
    pub hash: String,
}

/// A money or weight amount as sent: at most 4 decimals, no trailing zeros.
pub fn amount(d: Decimal) -> Decimal {
    d.round_dp(4).normalize()
}

fn text_digest(s: &str) -> serde_json::Value {
    serde_json::Value::String(format!("{} chars, #{}", s.chars().count(), &hash_text(s)[..8]))
}

/// Builds the default-scope payload.
pub fn build(input: &PayloadInput<'_>) -> Payload {
    let price = amount(input.price);
    let weight = (input.type_id == "simple").then(|| amount(input.weight));
    let mut categories = input.category_ids.to_vec();
    categories.sort_unstable();
    categories.dedup();
    let mut websites = input.website_ids.to_vec();
    websites.sort_unstable();
    websites.dedup();
    let mut attributes = BTreeMap::new();
    let mut snapshot = Snapshot::new();
    let t = input.texts;
    snapshot.insert("sku".into(), serde_json::Value::String(input.sku.to_owned()));
    snapshot.insert("name".into(), serde_json::Value::String(t.name.clone()));
    snapshot.insert("description".into(), text_digest(&t.description));
    snapshot.insert("short_description".into(), text_digest(&t.short_description));
    snapshot.insert("price".into(), serde_json::Value::String(price.to_string()));
    if let Some(w) = weight {
        snapshot.insert("weight".into(), serde_json::Value::String(w.to_string()));
    }
    snapshot.insert("status".into(), serde_json::json!("enabled"));
    snapshot.insert("tax_class_id".into(), serde_json::json!(input.tax_class_id));
    snapshot.insert("website_ids".into(), serde_json::json!(websites));
    snapshot.insert("category_ids".into(), serde_json::json!(categories));
    if let Some(m) = input.meta {
        for (code, v) in [("meta_title", &m.title), ("meta_description", &m.description), ("meta_keyword", &m.keywords)]
        {
            match non_empty(v.as_deref()) {
                Some(text) => {
                    snapshot.insert(code.into(), text_digest(&text));
                    attributes.insert(code.to_owned(), AttrValue::Text(text));
                }
                None if input.previous.is_some_and(|p| p.get(code).is_some_and(|x| x != "")) => {
                    snapshot.insert(code.into(), serde_json::json!(""));
                    attributes.insert(code.to_owned(), AttrValue::Clear);
                }
                None => {}
            }
        }
    }
    let data = ProductData {
        name: Some(t.name.clone()),
        description: Some(t.description.clone()),
        short_description: Some(t.short_description.clone()),
        price: Some(price),
        weight,
        enabled: Some(true),
        tax_class_id: Some(input.tax_class_id),
        website_ids: Some(websites),
        category_ids: Some(categories),
        attributes,
        ..ProductData::default()
    };
    let hash = hash_json(&serde_json::to_value(&snapshot).unwrap_or_default());
    Payload { data, snapshot, hash }
}

/// The field differences between the snapshot last sent and a new one, in plain words
/// (`price 10 → 12`); every field when nothing was sent before.
pub fn diff(old: Option<&Snapshot>, new: &Snapshot) -> Vec<String> {
    let show = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = Vec::new();
    for (k, v) in new {
        match old.and_then(|o| o.get(k)) {
            Some(prev) if prev == v => {}
            Some(prev) => out.push(format!("{k} {} → {}", show(prev), show(v))),
            None => out.push(format!("{k} = {}", show(v))),
        }
    }
    if let Some(o) = old {
        for k in o.keys().filter(|k| !new.contains_key(*k)) {
            out.push(format!("{k} no longer sent"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn product() -> Product {
        Product {
            id: 7,
            default_code: Some(" LAMP-1 ".into()),
            name: "Brass Lamp".into(),
            description: Some("<p>Long</p>".into()),
            description_sale: None,
            list_price: dec("49.9"),
            lst_price: dec("49.9"),
            weight: dec("1.2"),
            category: None,
            tax_ids: vec![1],
            active: true,
            sale_ok: true,
            barcode: None,
            kind: ProductKind::Storable,
            write_date: None,
            template: None,
            magento_exportable: true,
        }
    }

    #[test]
    fn exportability_and_sku_rules() {
        let mut p = product();
        assert_eq!(exportability(Some(&p)), Ok(()));
        assert_eq!(sku(&p).unwrap(), "LAMP-1");
        p.sale_ok = false;
        assert_eq!(exportability(Some(&p)), Err(NotExported::NotSaleable));
        p.active = false;
        assert_eq!(exportability(Some(&p)), Err(NotExported::Archived));
        assert_eq!(exportability(None), Err(NotExported::Deleted));
        p.default_code = Some("   ".into());
        assert!(sku(&p).unwrap_err().contains("no internal reference"));
        p.default_code = Some("X".repeat(65));
        assert!(sku(&p).unwrap_err().contains("64"));
        assert_eq!(magento_type(&ProductKind::Service), Ok("virtual"));
        assert_eq!(magento_type(&ProductKind::Consumable), Ok("simple"));
        assert!(magento_type(&ProductKind::Other("event".into())).is_err());
    }

    #[test]
    fn texts_fall_back_to_the_nearest_openerp_text() {
        let t = Texts::of(&product());
        assert_eq!((t.description.as_str(), t.short_description.as_str()), ("<p>Long</p>", "Brass Lamp"));
        let t = Texts::new(" Mug ", Some("  "), Some("Short"));
        assert_eq!((t.name.as_str(), t.description.as_str(), t.short_description.as_str()), ("Mug", "Short", "Short"));
    }

    fn input<'a>(texts: &'a Texts, meta: Option<&'a Meta>, previous: Option<&'a Snapshot>) -> PayloadInput<'a> {
        PayloadInput {
            sku: "LAMP-1",
            type_id: "simple",
            texts,
            price: dec("49.900000000001"),
            weight: dec("1.20"),
            tax_class_id: 2,
            website_ids: &[2, 1],
            category_ids: &[40, 7, 7],
            meta,
            previous,
        }
    }

    #[test]
    fn payload_rounds_sorts_and_hashes() {
        let texts = Texts::of(&product());
        let p = build(&input(&texts, None, None));
        assert_eq!(p.data.price, Some(dec("49.9")));
        assert_eq!(p.data.weight, Some(dec("1.2")));
        assert_eq!(p.data.category_ids, Some(vec![7, 40]));
        assert_eq!(p.data.website_ids, Some(vec![1, 2]));
        assert_eq!(p.data.enabled, Some(true));
        assert_eq!(p.data.visibility, None, "visibility is a create-time value");
        assert_eq!(build(&input(&texts, None, None)).hash, p.hash);
        let virt = build(&PayloadInput { type_id: "virtual", ..input(&texts, None, None) });
        assert_eq!(virt.data.weight, None);
        assert_ne!(virt.hash, p.hash);
        let changed = build(&PayloadInput { price: dec("45"), ..input(&texts, None, None) });
        assert_eq!(diff(Some(&p.snapshot), &changed.snapshot), vec!["price 49.9 → 45".to_owned()]);
        assert_eq!(diff(None, &p.snapshot).len(), p.snapshot.len());
    }

    #[test]
    fn meta_texts_are_sent_and_cleared() {
        let texts = Texts::of(&product());
        let meta = Meta { title: Some("Lamp".into()), ..Meta::default() };
        let p = build(&input(&texts, Some(&meta), None));
        assert_eq!(p.data.attributes.get("meta_title"), Some(&AttrValue::Text("Lamp".into())));
        assert!(!p.data.attributes.contains_key("meta_keyword"));
        let cleared = build(&input(&texts, Some(&Meta::default()), Some(&p.snapshot)));
        assert_eq!(cleared.data.attributes.get("meta_title"), Some(&AttrValue::Clear));
        let again = build(&input(&texts, Some(&Meta::default()), Some(&cleared.snapshot)));
        assert!(again.data.attributes.is_empty());
    }
}
