//! EAV attribute metadata of products and categories: ids, input types, scopes, backend types
//! (which decide how a value is stored and sent back: DECIMAL as `'1.2500'`, INT as `<int>`,
//! DATETIME as `'YYYY-MM-DD HH:MM:SS'`), and which product types an attribute applies to.
//!
//! Also the normalisation of incoming values, as the EAV save path does it: `''`/`null` clear
//! a value, dates gain a time part, numeric strings become numbers.

use chrono::{NaiveDate, NaiveDateTime};
use dxr::Value;

use super::super::php;

/// Storage type of an attribute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// Column of the entity table (sku, type_id, timestamps, option flags).
    Static,
    /// VARCHAR.
    Varchar,
    /// TEXT.
    Text,
    /// INT (select options, flags).
    Int,
    /// DECIMAL(12,4).
    Decimal,
    /// DATETIME.
    Datetime,
}

/// Scope of an attribute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// One value for the whole shop.
    Global,
    /// One value per website.
    Website,
    /// One value per store view.
    Store,
}

impl Scope {
    /// Name as `product_attribute.list` shows it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Website => "website",
            Scope::Store => "store",
        }
    }
}

/// One product attribute.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttrDef {
    /// Attribute code.
    pub code: &'static str,
    /// `eav_attribute.attribute_id`.
    pub id: i64,
    /// Frontend input (`text`, `select`, `price`…); `None` where Magento has none.
    pub input: Option<&'static str>,
    /// `is_required`.
    pub required: bool,
    /// Scope as configured (what `product_attribute.list` reports).
    pub scope: Scope,
    /// Storage type.
    pub backend: Backend,
    /// Product types it applies to (empty: all).
    pub apply_to: &'static [&'static str],
    /// Returned by `catalog_product.info` (editable and not ignored).
    pub info: bool,
}

#[allow(clippy::too_many_arguments)]
const fn a(
    code: &'static str,
    id: i64,
    input: Option<&'static str>,
    required: bool,
    scope: Scope,
    backend: Backend,
    apply_to: &'static [&'static str],
    info: bool,
) -> AttrDef {
    AttrDef { code, id, input, required, scope, backend, apply_to, info }
}

use Backend::{Datetime as D, Decimal as N, Int as I, Static as X, Text as T, Varchar as V};
use Scope::{Global as G, Store as S, Website as W};

const SIMPLE: &[&str] = &["simple"];
const WEIGHTED: &[&str] = &["simple", "bundle"];
const RECURRING: &[&str] = &["simple", "virtual"];
const BUNDLE: &[&str] = &["bundle"];
const DOWNLOADABLE: &[&str] = &["downloadable"];

/// Product attributes of sets 4 (Default) and 9 (Clothing), in `product_attribute.list` order,
/// plus `type_id` (returned by `info` but not listed).
pub(crate) const PRODUCT_ATTRIBUTES: &[AttrDef] = &[
    a("name", 73, Some("text"), true, S, V, &[], true),
    a("description", 74, Some("textarea"), true, S, T, &[], true),
    a("short_description", 75, Some("textarea"), true, S, T, &[], true),
    a("sku", 76, Some("text"), true, G, X, &[], false),
    a("weight", 82, Some("weight"), true, G, N, WEIGHTED, true),
    a("old_id", 91, Some("text"), false, G, I, &[], true),
    a("news_from_date", 95, Some("date"), false, W, D, &[], true),
    a("news_to_date", 96, Some("date"), false, W, D, &[], true),
    a("status", 98, Some("select"), true, W, I, &[], true),
    a("url_key", 99, Some("text"), false, S, V, &[], true),
    a("url_path", 100, Some("text"), false, S, V, &[], true),
    a("visibility", 104, Some("select"), true, S, I, &[], true),
    a("category_ids", 110, Some("text"), false, G, X, &[], true),
    a("required_options", 112, Some("text"), false, G, X, &[], true),
    a("has_options", 113, Some("text"), false, G, X, &[], true),
    a("image_label", 114, Some("text"), false, S, V, &[], true),
    a("small_image_label", 115, Some("text"), false, S, V, &[], true),
    a("thumbnail_label", 116, Some("text"), false, S, V, &[], true),
    a("created_at", 117, Some("text"), true, G, X, &[], true),
    a("updated_at", 118, Some("text"), true, G, X, &[], true),
    a("country_of_manufacture", 119, Some("select"), false, W, V, &[], true),
    a("price_type", 125, None, true, G, I, BUNDLE, false),
    a("sku_type", 126, None, true, G, I, BUNDLE, false),
    a("weight_type", 127, None, true, G, I, BUNDLE, false),
    a("shipment_type", 129, None, true, G, I, BUNDLE, false),
    a("links_purchased_separately", 130, None, true, G, I, DOWNLOADABLE, false),
    a("samples_title", 131, None, true, S, V, DOWNLOADABLE, false),
    a("links_title", 132, None, true, S, V, DOWNLOADABLE, false),
    a("links_exist", 133, None, false, G, I, DOWNLOADABLE, false),
    a("size", 134, Some("select"), false, G, I, SIMPLE, true),
    a("color", 94, Some("select"), false, G, I, SIMPLE, true),
    a("manufacturer", 83, Some("select"), false, G, I, SIMPLE, true),
    a("price", 77, Some("price"), true, W, N, &[], true),
    a("group_price", 92, Some("text"), false, W, X, &[], true),
    a("special_price", 78, Some("price"), false, W, N, &[], true),
    a("special_from_date", 79, Some("date"), false, W, D, &[], true),
    a("special_to_date", 80, Some("date"), false, W, D, &[], true),
    a("cost", 81, Some("price"), false, W, N, &[], false),
    a("tier_price", 93, Some("text"), false, W, X, &[], true),
    a("minimal_price", 101, Some("price"), false, S, N, &[], true),
    a("msrp_enabled", 120, Some("select"), false, W, V, &[], true),
    a("msrp_display_actual_price_type", 121, Some("select"), false, W, V, &[], true),
    a("msrp", 122, Some("price"), false, W, N, &[], true),
    a("tax_class_id", 123, Some("select"), true, W, I, &[], true),
    a("price_view", 128, Some("select"), true, G, I, BUNDLE, false),
    a("meta_title", 84, Some("text"), false, S, V, &[], true),
    a("meta_keyword", 85, Some("textarea"), false, S, T, &[], true),
    a("meta_description", 86, Some("textarea"), false, S, V, &[], true),
    a("is_recurring", 102, Some("select"), false, G, I, RECURRING, true),
    a("recurring_profile", 103, Some("text"), false, G, T, RECURRING, true),
    a("custom_design", 105, Some("select"), false, S, V, &[], true),
    a("custom_design_from", 106, Some("date"), false, S, D, &[], true),
    a("custom_design_to", 107, Some("date"), false, S, D, &[], true),
    a("custom_layout_update", 108, Some("textarea"), false, S, T, &[], true),
    a("page_layout", 109, Some("select"), false, S, V, &[], true),
    a("options_container", 111, Some("select"), false, S, V, &[], true),
    a("gift_message_available", 124, Some("select"), false, G, V, &[], true),
    a("type_id", 0, None, true, G, X, &[], true),
];

/// Looks up a product attribute by code or id.
pub(crate) fn product_attribute(code_or_id: &str) -> Option<&'static AttrDef> {
    PRODUCT_ATTRIBUTES.iter().find(|d| d.code == code_or_id).or_else(|| {
        code_or_id.parse::<i64>().ok().filter(|i| *i > 0).and_then(|i| PRODUCT_ATTRIBUTES.iter().find(|d| d.id == i))
    })
}

impl AttrDef {
    /// True when the attribute exists for products of `type_id`.
    pub(crate) fn applies_to(&self, type_id: &str) -> bool {
        self.apply_to.is_empty() || self.apply_to.contains(&type_id)
    }

    /// Scope values are saved in: the configured one, except prices and their dates, which
    /// follow the catalog price scope (global, Magento's default).
    pub(crate) fn save_scope(&self) -> Scope {
        let price_scoped = matches!(
            self.code,
            "price"
                | "group_price"
                | "special_price"
                | "special_from_date"
                | "special_to_date"
                | "cost"
                | "tier_price"
                | "msrp"
        );
        if price_scoped { Scope::Global } else { self.scope }
    }

    /// True when this attribute is stored outside the plain value map (handled by the caller).
    pub(crate) fn is_special(&self) -> bool {
        matches!(
            self.code,
            "sku"
                | "type_id"
                | "category_ids"
                | "created_at"
                | "updated_at"
                | "group_price"
                | "tier_price"
                | "has_options"
                | "required_options"
        )
    }
}

/// Select options of the product attributes with a source model: `(code, [(value, label)])`.
pub(crate) const PRODUCT_OPTIONS: &[(&str, &[(i64, &str)])] = &[
    ("color", &[(3, "Red"), (4, "Blue"), (5, "Black"), (6, "White")]),
    ("size", &[(7, "S"), (8, "M"), (9, "L")]),
    ("manufacturer", &[(10, "Nokia"), (11, "Samsung"), (12, "Logitech")]),
    ("status", &[(1, "Enabled"), (2, "Disabled")]),
    ("visibility", &[(1, "Not Visible Individually"), (2, "Catalog"), (3, "Search"), (4, "Catalog, Search")]),
];

/// Option label of a select attribute value.
pub(crate) fn option_label(code: &str, value: i64) -> Option<&'static str> {
    PRODUCT_OPTIONS.iter().find(|(c, _)| *c == code)?.1.iter().find(|(v, _)| *v == value).map(|(_, l)| *l)
}

/// Normalises an incoming value for storage; `None` means "no value" (cleared).
pub(crate) fn normalize(backend: Backend, v: &Value) -> Option<Value> {
    match v {
        Value::Nil => return None,
        Value::String(s) if s.is_empty() => return None,
        Value::Boolean(false) if backend != Backend::Int => return None,
        _ => {}
    }
    Some(match backend {
        Backend::Int => Value::Integer(i32::try_from(php::to_int_lenient(v)).unwrap_or(0)),
        Backend::Decimal => php::money(php::to_decimal_lenient(v)),
        Backend::Datetime => Value::String(normalize_date(&php::to_php_string(v))),
        // Magento 1 runs MySQL with an empty SQL_MODE: a text beyond VARCHAR(255) is cut
        // without an error.
        Backend::Varchar => match v {
            Value::Array(items) => Value::Array(items.clone()),
            other => Value::String(php::to_php_string(other).chars().take(VARCHAR_LEN).collect()),
        },
        Backend::Text | Backend::Static => match v {
            Value::Array(items) => Value::Array(items.clone()),
            other => Value::String(php::to_php_string(other)),
        },
    })
}

/// Characters a `varchar` attribute value keeps (`VARCHAR(255)`).
pub(crate) const VARCHAR_LEN: usize = 255;

/// `'2020-01-01'` → `'2020-01-01 00:00:00'`; date-times keep their time; other text as is.
pub(crate) fn normalize_date(s: &str) -> String {
    let t = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return format!("{} 00:00:00", d.format("%Y-%m-%d"));
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S") {
        return dt.format("%Y-%m-%d %H:%M:%S").to_string();
    }
    crate::rpc::value::parse_datetime(t).map_or_else(|| t.to_owned(), |dt| php::datetime(&dt))
}

/// A category attribute: `(code, backend)`. All are store-scoped except `is_active`'s flags
/// that Magento keeps global; the sandbox treats every one as store-scoped.
pub(crate) const CATEGORY_ATTRIBUTES: &[(&str, Backend)] = &[
    ("name", Backend::Varchar),
    ("is_active", Backend::Int),
    ("url_key", Backend::Varchar),
    ("description", Backend::Text),
    ("image", Backend::Varchar),
    ("meta_title", Backend::Varchar),
    ("meta_keywords", Backend::Text),
    ("meta_description", Backend::Text),
    ("include_in_menu", Backend::Int),
    ("url_path", Backend::Varchar),
    ("display_mode", Backend::Varchar),
    ("landing_page", Backend::Int),
    ("is_anchor", Backend::Int),
    ("available_sort_by", Backend::Text),
    ("default_sort_by", Backend::Varchar),
    ("filter_price_range", Backend::Decimal),
    ("custom_use_parent_settings", Backend::Int),
    ("custom_apply_to_products", Backend::Int),
    ("custom_design", Backend::Varchar),
    ("custom_design_from", Backend::Datetime),
    ("custom_design_to", Backend::Datetime),
    ("page_layout", Backend::Varchar),
    ("custom_layout_update", Backend::Text),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_stored_like_the_eav_backend() {
        assert_eq!(normalize(Backend::Decimal, &Value::Double(45.5)), Some(Value::String("45.5000".into())));
        assert_eq!(normalize(Backend::Decimal, &Value::String("12.30".into())), Some(Value::String("12.3000".into())));
        assert_eq!(normalize(Backend::Int, &Value::String("4".into())), Some(Value::Integer(4)));
        assert_eq!(
            normalize(Backend::Datetime, &Value::String("2020-01-01".into())),
            Some(Value::String("2020-01-01 00:00:00".into()))
        );
        assert_eq!(normalize(Backend::Varchar, &Value::String(String::new())), None);
        assert_eq!(normalize(Backend::Varchar, &Value::Nil), None);
        assert_eq!(normalize(Backend::Int, &Value::Boolean(false)), Some(Value::Integer(0)));
        // VARCHAR(255) cuts silently (characters, not bytes); TEXT keeps everything.
        let long = Value::String("é".repeat(300));
        assert_eq!(normalize(Backend::Varchar, &long), Some(Value::String("é".repeat(255))));
        assert_eq!(normalize(Backend::Text, &long), Some(long.clone()));
    }

    #[test]
    fn attributes_resolve_by_code_or_id_and_apply_by_type() {
        assert_eq!(product_attribute("134").map(|d| d.code), Some("size"));
        assert_eq!(product_attribute("color").map(|d| d.id), Some(94));
        assert!(product_attribute("no_such").is_none());
        let weight = product_attribute("weight").unwrap();
        assert!(weight.applies_to("simple") && !weight.applies_to("configurable") && !weight.applies_to("virtual"));
        assert_eq!(PRODUCT_ATTRIBUTES.iter().filter(|d| d.id > 0).count(), 57);
    }
}
