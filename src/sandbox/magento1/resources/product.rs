//! `catalog_product.*` (`Mage_Catalog_Model_Product_Api`): list with filters, info, create,
//! update, delete, special price; identifier resolution (protocols.md A.8); store-level values
//! with "use default" fallback; websites, categories and stock data on save.
//!
//! Like Magento 1, `create` does not enforce the required attributes (the model's `validate()`
//! result is ignored, see the `@todo` in `Product/Api.php`); only the type, the attribute set,
//! an empty type/set/SKU and a duplicate SKU are refused.

use chrono::{DateTime, Utc};
use dxr::Value;
use rust_decimal::Decimal;

use super::super::args::{Args, list_of};
use super::super::faults::{ApiError, ApiResult};
use super::super::filters::{Filter, Scalar};
use super::super::model::Shop;
use super::super::model::attributes::{self, AttrDef, Backend, Scope, product_attribute};
use super::super::model::catalog::{Product, StockItem, Values};
use super::super::php;
use crate::rpc::value::{Map, array, string, structure};

/// Product types Magento knows (`catalog_product_type.list`).
pub(crate) const PRODUCT_TYPES: &[(&str, &str)] = &[
    ("simple", "Simple Product"),
    ("grouped", "Grouped Product"),
    ("configurable", "Configurable Product"),
    ("virtual", "Virtual Product"),
    ("bundle", "Bundle Product"),
    ("downloadable", "Downloadable Product"),
];

/// Product attribute sets: `(id, name)`.
pub(crate) const ATTRIBUTE_SETS: &[(i64, &str)] = &[(9, "Clothing"), (4, "Default")];

/// Attribute sets of other entity types (customer, address, category, sales).
const OTHER_SETS: &[i64] = &[1, 2, 3, 5, 6, 7, 8];

/// `Mage_Catalog_Helper_Product::getProduct` id resolution (A.8). `identifier_type` is the
/// argument as sent (`None` for null).
pub(crate) fn resolve_product(shop: &Shop, value: Option<&Value>, identifier_type: Option<&str>) -> Option<i64> {
    let v = value?;
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Integer(_) | Value::Long(_) | Value::Double(_) => php::to_php_string(v),
        Value::Boolean(true) => "1".into(),
        _ => return None,
    };
    let is_string = matches!(v, Value::String(_));
    let expected_sku = identifier_type.is_none() && is_string && !php::looks_like_id(&text);
    if identifier_type == Some("sku") || expected_sku {
        if let Some(id) = shop.catalog.id_by_sku(&text) {
            return Some(id);
        }
        if identifier_type == Some("sku") {
            return None;
        }
    }
    if php::truthy(v) && php::is_numeric(&text) {
        let id = php::int_of_numeric(&text)?;
        return shop.catalog.product(id).map(|p| p.id);
    }
    None
}

fn store_id(shop: &Shop, v: Option<&Value>) -> ApiResult<i64> {
    shop.resolve_store(v).map_err(|_| ApiError::api("store_not_exists"))
}

/// `_getProduct`: store first (100), then the product (101).
fn get_product(
    shop: &Shop,
    v: Option<&Value>,
    store: Option<&Value>,
    identifier: Option<String>,
) -> ApiResult<(i64, i64)> {
    let store = store_id(shop, store)?;
    let id = resolve_product(shop, v, identifier.as_deref()).ok_or_else(|| ApiError::api("product_not_exists"))?;
    Ok((id, store))
}

fn ints(ids: impl IntoIterator<Item = i64>) -> Value {
    array(ids.into_iter().map(php::int))
}

/// The value of an attribute as `info` returns it.
fn attribute_value(p: &Product, def: &AttrDef, store: i64) -> Value {
    match def.code {
        "type_id" => string(p.type_id.clone()),
        "category_ids" => ints(p.category_ids.iter().copied()),
        "created_at" => php::iso_value(&p.created_at),
        "updated_at" => php::datetime_value(&p.updated_at),
        "has_options" => php::int(p.has_options),
        "required_options" => php::int(p.required_options),
        "group_price" | "tier_price" => Value::Array(Vec::new()),
        "sku" => string(p.sku.clone()),
        code => p.value(code, store).cloned().unwrap_or(Value::Nil),
    }
}

/// `catalog_product.info` for one product.
pub(crate) fn info_struct(p: &Product, store: i64, attributes: Option<&Value>) -> Value {
    let filter: Option<Vec<String>> = match attributes {
        Some(v @ (Value::Array(_) | Value::Struct(_))) => {
            Some(list_of(Some(v)).iter().map(php::to_php_string).collect())
        }
        _ => None,
    };
    let mut m = Map::new();
    m.insert("product_id".into(), php::int(p.id));
    m.insert("sku".into(), string(p.sku.clone()));
    m.insert("set".into(), php::int(p.set_id));
    m.insert("type".into(), string(p.type_id.clone()));
    m.insert("categories".into(), ints(p.category_ids.iter().copied()));
    m.insert("websites".into(), ints(p.website_ids.iter().copied()));
    for def in p.attributes().filter(|d| d.info) {
        let allowed = filter.as_ref().is_none_or(|f| f.iter().any(|a| a == def.code || a == &def.id.to_string()));
        if allowed {
            m.insert(def.code.into(), attribute_value(p, def, store));
        }
    }
    Value::Struct(m)
}

/// `catalog_product.info(product, store, attributes, identifierType)`.
pub(crate) fn info(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let identifier = args.string(3).filter(|s| !s.is_empty()).map(|s| s.to_lowercase());
    let identifier = if args.get(3).is_some() && identifier.is_none() { args.string(3) } else { identifier };
    let (id, store) = get_product(shop, args.get(0), args.get(1), identifier)?;
    let p = shop.catalog.product(id).ok_or_else(|| ApiError::api("product_not_exists"))?;
    Ok(info_struct(p, store, args.get(2)))
}

fn filter_column(p: &Product, field: &str, store: i64) -> Option<Scalar> {
    match field {
        "entity_id" => Some(Scalar::int(p.id)),
        "sku" => Some(Scalar::Text(p.sku.clone())),
        "type_id" => Some(Scalar::Text(p.type_id.clone())),
        "attribute_set_id" => Some(Scalar::int(p.set_id)),
        "created_at" => Some(Scalar::Date(p.created_at)),
        "updated_at" => Some(Scalar::Date(p.updated_at)),
        "has_options" => Some(Scalar::int(p.has_options)),
        "required_options" => Some(Scalar::int(p.required_options)),
        "category_ids" => {
            Some(Scalar::Text(p.category_ids.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",")))
        }
        code => {
            let def = product_attribute(code)?;
            let v = p.value(code, store)?;
            match def.backend {
                Backend::Int | Backend::Decimal => Some(Scalar::Num(php::to_decimal_lenient(v))),
                Backend::Datetime => crate::rpc::value::parse_datetime(&php::to_php_string(v)).map(Scalar::Date),
                _ => Some(Scalar::Text(php::to_php_string(v))),
            }
        }
    }
}

fn known_filter_field(field: &str) -> bool {
    matches!(field, "entity_id" | "attribute_set_id" | "type_id")
        || product_attribute(field).is_some_and(|d| d.id > 0 || d.code == "type_id")
}

/// `catalog_product.list(filters, store)`.
pub(crate) fn list(shop: &Shop, args: Args) -> ApiResult<Value> {
    let store = store_id(shop, args.get(1))?;
    let filter =
        Filter::parse(args.get(0), &[("product_id", "entity_id"), ("set", "attribute_set_id"), ("type", "type_id")]);
    if let Some(bad) = filter.fields().find(|f| !known_filter_field(f)) {
        return Err(ApiError::api_msg("filters_invalid", format!("Invalid attribute name: {bad}.")));
    }
    // `setStoreId` only picks the values' scope: products of other websites are listed too.
    // A `sku in [...]` clause picks the candidates through the SKU index (same comparison:
    // case-insensitive, trailing spaces ignored) instead of a scan of the whole catalog.
    let candidates: Box<dyn Iterator<Item = &Product>> = match filter.in_texts("sku") {
        Some(keys) => {
            let mut ids: Vec<i64> = keys.filter_map(|k| shop.catalog.id_by_sku(k)).collect();
            ids.sort_unstable();
            ids.dedup();
            Box::new(ids.into_iter().filter_map(|id| shop.catalog.product(id)))
        }
        None => Box::new(shop.catalog.products()),
    };
    let rows = candidates.filter(|p| filter.is_empty() || filter.matches(|f| filter_column(p, f, store))).map(|p| {
        structure([
            ("product_id", php::int(p.id)),
            ("sku", string(p.sku.clone())),
            ("name", p.value("name", store).cloned().unwrap_or(Value::Nil)),
            ("set", php::int(p.set_id)),
            ("type", string(p.type_id.clone())),
            ("category_ids", ints(p.category_ids.iter().copied())),
            ("website_ids", ints(p.website_ids.iter().copied())),
        ])
    });
    Ok(Value::Array(rows.collect()))
}

/// `catalog_product.currentStore(store)`.
pub(crate) fn current_store(shop: &Shop, args: Args) -> ApiResult<Value> {
    Ok(php::int(store_id(shop, args.get(0))?))
}

/// Writes `value` (already normalised; `None` clears) for `def` in `store`.
fn write_value(shop: &Shop, p: &mut Product, def: &AttrDef, store: i64, value: Option<Value>) {
    let targets: Vec<i64> = match (store, def.save_scope()) {
        (0, _) | (_, Scope::Global) => vec![0],
        (s, Scope::Website) => shop.stores_of_website(shop.website_of(s)),
        (s, Scope::Store) => vec![s],
    };
    for t in targets {
        let values: &mut Values = if t == 0 { &mut p.values } else { p.store_values.entry(t).or_default() };
        match &value {
            Some(v) => {
                values.insert(def.code.into(), v.clone());
            }
            None => {
                values.remove(def.code);
            }
        }
    }
}

fn fk_error(table: &str, column: &str, refs: &str) -> ApiError {
    ApiError::internal(format!(
        "SQLSTATE[23000]: Integrity constraint violation: 1452 Cannot add or update a child row: a foreign key constraint fails (`magento`.`{table}`, CONSTRAINT `FK_{}_{}` FOREIGN KEY (`{column}`) REFERENCES `{refs}` ON DELETE CASCADE ON UPDATE CASCADE)",
        table.to_uppercase(),
        column.to_uppercase()
    ))
}

/// `_prepareDataForSave` plus the save checks that follow it.
fn prepare_data(shop: &Shop, p: &mut Product, data: &Map, store: i64, creating: bool) -> ApiResult<()> {
    if let Some(Value::Array(w)) = data.get("website_ids") {
        p.website_ids = w.iter().map(php::to_int_lenient).collect();
    }
    for def in p.attributes().collect::<Vec<_>>() {
        if def.is_special() && def.code != "category_ids" {
            continue;
        }
        let incoming = data
            .get(def.code)
            .filter(|v| !matches!(v, Value::Nil))
            .or_else(|| nested(data, "single_data", def.code))
            .or_else(|| nested(data, "multi_data", def.code));
        let Some(v) = incoming else { continue };
        if def.code == "category_ids" {
            p.category_ids = list_of(Some(v)).iter().map(php::to_int_lenient).collect();
            continue;
        }
        let normalized = attributes::normalize(def.backend, v);
        if creating && store != 0 {
            write_value(shop, p, def, 0, normalized.clone());
        }
        write_value(shop, p, def, store, normalized);
    }
    if let Some(Value::Array(c)) = data.get("categories") {
        p.category_ids = c.iter().map(php::to_int_lenient).collect();
    }
    if let Some(Value::Array(w)) = data.get("websites") {
        p.website_ids = w.iter().map(|x| shop.resolve_website(x).unwrap_or_else(|| php::to_int_lenient(x))).collect();
    }
    if let Some(stock) = data.get("stock_data") {
        if let Value::Struct(s) = stock {
            apply_stock(&mut p.stock, s);
        }
        let qty_type = p.is_qty_type();
        p.stock.verify(qty_type);
    }
    if let Some(bad) = p.category_ids.iter().find(|c| shop.catalog.category(**c).is_none()) {
        tracing::debug!(category = bad, "product saved with an unknown category");
        return Err(fk_error("catalog_category_product", "category_id", "catalog_category_entity` (`entity_id`"));
    }
    let websites = shop.website_ids();
    if p.website_ids.iter().any(|w| !websites.contains(w)) {
        return Err(fk_error("catalog_product_website", "website_id", "core_website` (`website_id`"));
    }
    Ok(())
}

fn nested<'a>(data: &'a Map, kind: &str, code: &str) -> Option<&'a Value> {
    match data.get("additional_attributes")? {
        Value::Struct(m) => match m.get(kind)? {
            Value::Struct(inner) => inner.get(code).filter(|v| !matches!(v, Value::Nil)),
            _ => None,
        },
        _ => None,
    }
}

/// Applies the keys `cataloginventory_stock_item.update` and `stock_data` honour.
pub(crate) fn apply_stock(stock: &mut StockItem, data: &Map) {
    let get = |k: &str| data.get(k).filter(|v| !matches!(v, Value::Nil));
    if let Some(v) = get("qty") {
        stock.qty = php::to_decimal_lenient(v);
    }
    if let Some(v) = get("is_in_stock") {
        stock.is_in_stock = php::truthy(v);
    }
    if let Some(v) = get("manage_stock") {
        stock.manage_stock = php::truthy(v);
    }
    if let Some(v) = get("use_config_manage_stock") {
        stock.use_config_manage_stock = php::truthy(v);
    }
    if let Some(v) = get("backorders") {
        stock.backorders = php::to_int_lenient(v);
    }
    if let Some(v) = get("use_config_backorders") {
        stock.use_config_backorders = php::truthy(v);
    }
    if let Some(v) = get("min_sale_qty") {
        stock.min_sale_qty = php::to_decimal_lenient(v);
    }
}

fn duplicate_sku() -> ApiError {
    ApiError::internal("The value of attribute \"SKU\" must be unique")
}

fn set_url(p: &mut Product) {
    let key = p
        .values
        .get("url_key")
        .map(php::to_php_string)
        .or_else(|| p.values.get("name").map(|n| super::super::seeding::url_key(&php::to_php_string(n))));
    if let Some(key) = key.filter(|k| !k.is_empty()) {
        p.values.insert("url_key".into(), string(key.clone()));
        p.values.entry("url_path".into()).or_insert_with(|| string(format!("{key}.html")));
    }
}

/// `catalog_product.create(type, set, sku, data, store)`.
pub(crate) fn create(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(4)?;
    if !args.truthy(0) || !args.truthy(1) || !args.truthy(2) {
        return Err(ApiError::api("data_invalid"));
    }
    let type_id = args.string(0).unwrap_or_default();
    if !PRODUCT_TYPES.iter().any(|(t, _)| *t == type_id) {
        return Err(ApiError::api("product_type_not_exists"));
    }
    let set = args.get(1).map_or(0, php::to_int_lenient);
    if !ATTRIBUTE_SETS.iter().any(|(s, _)| *s == set) {
        return Err(ApiError::api(if OTHER_SETS.contains(&set) {
            "product_attribute_set_not_valid"
        } else {
            "product_attribute_set_not_exists"
        }));
    }
    let sku = args.string(2).unwrap_or_default();
    let store = store_id(shop, args.get(4))?;
    let data = match args.get(3) {
        Some(Value::Struct(m)) => m.clone(),
        _ => Map::new(),
    };
    if shop.catalog.id_by_sku(&sku).is_some() {
        return Err(duplicate_sku());
    }
    let has_stock_data = matches!(data.get("stock_data"), Some(Value::Struct(_)));
    let mut p = Product {
        id: 0,
        sku,
        type_id,
        set_id: set,
        values: Values::new(),
        store_values: Default::default(),
        website_ids: Default::default(),
        category_ids: Default::default(),
        created_at: now,
        updated_at: now,
        has_options: 0,
        required_options: 0,
        stock: if has_stock_data {
            StockItem { is_in_stock: false, ..StockItem::managed(Decimal::ZERO) }
        } else {
            StockItem::unmanaged()
        },
        media: Vec::new(),
        children: Vec::new(),
        super_attributes: Vec::new(),
    };
    p.values.insert("visibility".into(), php::int(4));
    p.values.insert("options_container".into(), string("container1"));
    prepare_data(shop, &mut p, &data, store, true)?;
    set_url(&mut p);
    p.id = shop.catalog.allocate_product_id();
    let id = p.id;
    shop.catalog.put_product(p);
    Ok(string(id.to_string()))
}

/// `catalog_product.update(product, data, store, identifierType)`.
pub(crate) fn update(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let (id, store) = get_product(shop, args.get(0), args.get(2), args.string(3))?;
    let data = match args.get(1) {
        Some(Value::Struct(m)) => m.clone(),
        _ => Map::new(),
    };
    update_with(shop, id, store, &data, now)?;
    Ok(Value::Boolean(true))
}

fn update_with(shop: &mut Shop, id: i64, store: i64, data: &Map, now: DateTime<Utc>) -> ApiResult<()> {
    let mut p = shop.catalog.product(id).cloned().ok_or_else(|| ApiError::api("product_not_exists"))?;
    if let Some(new_sku) = data.get("sku").filter(|v| !matches!(v, Value::Nil)).map(php::to_php_string)
        && !new_sku.is_empty()
    {
        if shop.catalog.id_by_sku(&new_sku).is_some_and(|other| other != id) {
            return Err(duplicate_sku());
        }
        p.sku = new_sku;
    }
    prepare_data(shop, &mut p, data, store, false)?;
    p.updated_at = now;
    shop.catalog.put_product(p);
    Ok(())
}

/// `catalog_product.delete(product, identifierType)`.
pub(crate) fn delete(shop: &mut Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let (id, _) = get_product(shop, args.get(0), None, args.string(1))?;
    shop.catalog.remove_product(id);
    Ok(Value::Boolean(true))
}

/// `catalog_product.getSpecialPrice(product, store)`.
pub(crate) fn get_special_price(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let (id, store) = get_product(shop, args.get(0), args.get(1), None)?;
    let p = shop.catalog.product(id).ok_or_else(|| ApiError::api("product_not_exists"))?;
    let get = |c: &str| p.value(c, store).cloned().unwrap_or(Value::Nil);
    Ok(structure([
        ("special_price", get("special_price")),
        ("special_from_date", get("special_from_date")),
        ("special_to_date", get("special_to_date")),
    ]))
}

/// `catalog_product.setSpecialPrice(product, price, from, to, store)` (no identifierType).
pub(crate) fn set_special_price(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(1)?;
    let (id, store) = get_product(shop, args.get(0), args.get(4), None)?;
    let mut data = Map::new();
    for (i, key) in [(1, "special_price"), (2, "special_from_date"), (3, "special_to_date")] {
        if let Some(v) = args.get(i) {
            data.insert(key.into(), v.clone());
        }
    }
    update_with(shop, id, store, &data, now)?;
    Ok(Value::Boolean(true))
}
