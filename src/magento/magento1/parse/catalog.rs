//! Decoding of shop, catalog, media, stock and tax-class answers.

use std::collections::BTreeMap;

use dxr::Value;

use super::{id_list, list, opt_text, record};
use crate::magento::json;
use crate::magento::types::{
    CategoryInfo, CategoryNode, ImageRole, Product, ProductImage, ProductSummary, StockItem, TaxClass, VersionInfo,
    Visibility,
};
use crate::rpc::value::{self, DecodeError, Record};

/// A `store.list` row (the root category comes from another call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRow {
    /// Store view id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Website id.
    pub website_id: i64,
    /// Store group id.
    pub group_id: i64,
    /// Enabled.
    pub is_active: bool,
    /// Sort order.
    pub sort_order: i64,
}

/// `store.list`.
pub fn store_list(v: &Value) -> Result<Vec<StoreRow>, DecodeError> {
    list(v, "store.list")?
        .iter()
        .map(|row| {
            let r = record(row, "store")?;
            Ok(StoreRow {
                id: r.i64("store_id")?,
                code: r.string("code")?,
                name: r.string_or_empty("name")?,
                website_id: r.i64("website_id")?,
                group_id: r.i64("group_id")?,
                is_active: r.bool("is_active")?,
                sort_order: r.opt_i64("sort_order")?.unwrap_or(0),
            })
        })
        .collect()
}

/// `magento.info`.
pub fn version(v: &Value) -> Result<VersionInfo, DecodeError> {
    let r = record(v, "magento.info")?;
    Ok(VersionInfo {
        edition: r.string_or_empty("magento_edition")?,
        version: r.string("magento_version")?,
        openmage_version: opt_text(&r, "openmage_version")?,
    })
}

/// A category node without its children.
fn node(r: &Record<'_>) -> Result<CategoryNode, DecodeError> {
    Ok(CategoryNode {
        id: r.i64("category_id")?,
        parent_id: r.opt_i64("parent_id")?.filter(|p| *p != 0),
        name: r.string_or_empty("name")?,
        is_active: r.bool("is_active")?,
        position: r.opt_i64("position")?.unwrap_or(0),
        level: r.opt_i64("level")?.unwrap_or(0),
        children: Vec::new(),
    })
}

/// `catalog_category.tree`: a node with nested `children`.
pub fn category_tree(v: &Value) -> Result<CategoryNode, DecodeError> {
    category_node(v, 0)
}

fn category_node(v: &Value, depth: usize) -> Result<CategoryNode, DecodeError> {
    // Real trees are a handful of levels deep; refuse absurd nesting rather than recurse on.
    if depth > 64 {
        return Err(DecodeError::new("category.children", "a tree at most 64 levels deep", v));
    }
    let r = record(v, "category")?;
    let mut n = node(&r)?;
    n.children = r.array("children")?.iter().map(|c| category_node(c, depth + 1)).collect::<Result<Vec<_>, _>>()?;
    Ok(n)
}

/// `catalog_category.level`: flat nodes (no children).
pub fn category_level(v: &Value) -> Result<Vec<CategoryNode>, DecodeError> {
    list(v, "catalog_category.level")?.iter().map(|row| node(&record(row, "category")?)).collect()
}

/// Ids from a comma-separated string (`"4,5"`), a list, or nothing.
fn csv_ids(r: &Record<'_>, key: &str) -> Result<Vec<i64>, DecodeError> {
    match r.get(key) {
        None | Some(Value::Nil) | Some(Value::Boolean(false)) => Ok(Vec::new()),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<i64>().map_err(|_| DecodeError::new(key, "comma-separated ids", &value::string(s.clone())))
            })
            .collect(),
        Some(_) => id_list(r, key),
    }
}

/// Strings from a list, or a single string (`available_sort_by`).
fn string_list(r: &Record<'_>, key: &str) -> Result<Vec<String>, DecodeError> {
    match r.get(key) {
        None | Some(Value::Nil) | Some(Value::Boolean(false)) => Ok(Vec::new()),
        Some(Value::String(s)) => {
            Ok(s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect())
        }
        Some(_) => r.array(key)?.iter().filter_map(|v| value::to_opt_string(key, v).transpose()).collect(),
    }
}

/// `catalog_category.info`.
pub fn category_info(v: &Value) -> Result<CategoryInfo, DecodeError> {
    let r = record(v, "category")?;
    Ok(CategoryInfo {
        id: r.i64("category_id")?,
        parent_id: r.opt_i64("parent_id")?.filter(|p| *p != 0),
        name: r.string_or_empty("name")?,
        is_active: r.bool("is_active")?,
        include_in_menu: r.bool("include_in_menu")?,
        is_anchor: r.bool("is_anchor")?,
        position: r.opt_i64("position")?.unwrap_or(0),
        level: r.opt_i64("level")?.unwrap_or(0),
        path: r.string_or_empty("path")?,
        url_key: opt_text(&r, "url_key")?,
        description: opt_text(&r, "description")?,
        available_sort_by: string_list(&r, "available_sort_by")?,
        default_sort_by: opt_text(&r, "default_sort_by")?,
        children_ids: csv_ids(&r, "children")?,
        updated_at: r.opt_datetime("updated_at")?,
    })
}

/// `catalog_product.list`.
pub fn product_list(v: &Value) -> Result<Vec<ProductSummary>, DecodeError> {
    list(v, "catalog_product.list")?
        .iter()
        .map(|row| {
            let r = record(row, "product")?;
            Ok(ProductSummary {
                id: r.i64("product_id")?,
                sku: r.string("sku")?,
                name: r.opt_string("name")?,
                attribute_set_id: r.i64("set")?,
                type_id: r.string("type")?,
                category_ids: id_list(&r, "category_ids")?,
                website_ids: id_list(&r, "website_ids")?,
            })
        })
        .collect()
}

/// Members of `catalog_product.info` that have a typed field in [`Product`].
const PRODUCT_TYPED: &[&str] = &[
    "product_id",
    "sku",
    "type",
    "type_id",
    "set",
    "name",
    "price",
    "special_price",
    "special_from_date",
    "special_to_date",
    "status",
    "visibility",
    "tax_class_id",
    "weight",
    "url_key",
    "description",
    "short_description",
    "categories",
    "category_ids",
    "websites",
    "website_ids",
    "created_at",
    "updated_at",
];

/// `catalog_product.info`.
pub fn product(v: &Value) -> Result<Product, DecodeError> {
    let r = record(v, "product")?;
    let category_ids = if r.has("categories") { id_list(&r, "categories")? } else { id_list(&r, "category_ids")? };
    let website_ids = if r.has("websites") { id_list(&r, "websites")? } else { id_list(&r, "website_ids")? };
    let type_id = match r.opt_string("type")? {
        Some(t) => t,
        None => r.string("type_id")?,
    };
    let attributes: BTreeMap<String, serde_json::Value> = r
        .map()
        .iter()
        .filter(|(k, _)| !PRODUCT_TYPED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), json::to_json(v)))
        .collect();
    Ok(Product {
        id: r.i64("product_id")?,
        sku: r.string("sku")?,
        type_id,
        attribute_set_id: r.i64("set")?,
        name: r.opt_string("name")?,
        price: r.opt_decimal("price")?,
        special_price: r.opt_decimal("special_price")?,
        special_from_date: r.opt_datetime("special_from_date")?,
        special_to_date: r.opt_datetime("special_to_date")?,
        enabled: r.opt_i64("status")?.and_then(|s| match s {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }),
        visibility: r.opt_i64("visibility")?.and_then(Visibility::from_id),
        tax_class_id: r.opt_i64("tax_class_id")?,
        weight: r.opt_decimal("weight")?,
        url_key: opt_text(&r, "url_key")?,
        description: r.opt_string("description")?,
        short_description: r.opt_string("short_description")?,
        category_ids,
        website_ids,
        created_at: r.opt_datetime("created_at")?,
        updated_at: r.opt_datetime("updated_at")?,
        attributes,
    })
}

/// `catalog_product_attribute_media.list`.
pub fn media_list(v: &Value) -> Result<Vec<ProductImage>, DecodeError> {
    list(v, "catalog_product_attribute_media.list")?
        .iter()
        .map(|row| {
            let r = record(row, "image")?;
            let roles = r
                .array("types")?
                .iter()
                .filter_map(|t| value::to_opt_string("types", t).ok().flatten())
                .filter_map(|t| ImageRole::from_code(&t))
                .collect();
            Ok(ProductImage {
                file: r.string("file")?,
                label: opt_text(&r, "label")?,
                position: r.opt_i64("position")?,
                disabled: r.bool("exclude")?,
                url: opt_text(&r, "url")?,
                roles,
            })
        })
        .collect()
}

/// `cataloginventory_stock_item.list` (`is_in_stock` is an int for most products, a boolean
/// for some).
pub fn stock_list(v: &Value) -> Result<Vec<StockItem>, DecodeError> {
    list(v, "cataloginventory_stock_item.list")?
        .iter()
        .map(|row| {
            let r = record(row, "stock item")?;
            Ok(StockItem {
                product_id: r.i64("product_id")?,
                sku: r.string("sku")?,
                qty: r.decimal_or_zero("qty")?,
                is_in_stock: r.bool("is_in_stock")?,
            })
        })
        .collect()
}

/// `catalog_product_attribute.options('tax_class_id')`, without the empty option.
pub fn tax_classes(v: &Value) -> Result<Vec<TaxClass>, DecodeError> {
    let mut out = Vec::new();
    for row in list(v, "catalog_product_attribute.options")?.iter() {
        let r = record(row, "option")?;
        let Some(id) = r.opt_i64("value")? else {
            continue;
        };
        out.push(TaxClass { id, name: r.string_or_empty("label")? });
    }
    Ok(out)
}

/// `catalog_product.list` rows reduced to `(sku, id)`, for existence checks.
pub fn sku_ids(v: &Value) -> Result<Vec<(String, i64)>, DecodeError> {
    list(v, "catalog_product.list")?
        .iter()
        .map(|row| {
            let r = record(row, "product")?;
            Ok((r.string("sku")?, r.i64("product_id")?))
        })
        .collect()
}
