//! `catalog_category.*` (`Mage_Catalog_Model_Category_Api`): tree, level, info, create,
//! update, move, delete and product assignments, with store-level values and "use default".

use chrono::{DateTime, Utc};
use dxr::Value;

use super::super::args::Args;
use super::super::faults::{ApiError, ApiResult};
use super::super::model::Shop;
use super::super::model::attributes::{self, CATEGORY_ATTRIBUTES};
use super::super::model::catalog::{Category, Values};
use super::super::php;
use super::product::resolve_product;
use crate::rpc::value::{array, string, structure};

fn store_id(shop: &Shop, v: Option<&Value>) -> ApiResult<i64> {
    shop.resolve_store(v).map_err(|_| ApiError::api("store_not_exists"))
}

/// `_initCategory`: loads a category by id or faults 102.
fn init(shop: &Shop, v: Option<&Value>) -> ApiResult<i64> {
    let id = match v {
        Some(Value::Integer(i)) => i64::from(*i),
        Some(Value::Long(i)) => *i,
        Some(other) => php::int_of_numeric(&php::to_php_string(other)).unwrap_or(0),
        None => 0,
    };
    shop.catalog.category(id).map(|c| c.id).ok_or_else(|| ApiError::api("not_exists"))
}

fn int_value(c: &Category, code: &str, store: i64) -> Value {
    c.value(code, store).cloned().unwrap_or(Value::Nil)
}

fn node(shop: &Shop, c: &Category, store: i64, with_children: bool) -> Value {
    let mut m = vec![
        ("category_id", php::int(c.id)),
        ("parent_id", php::int(c.parent_id)),
        ("name", string(c.name(store))),
        ("is_active", int_value(c, "is_active", store)),
        ("position", php::int(c.position)),
        ("level", php::int(c.level)),
    ];
    if with_children {
        m.push(("children", array(shop.catalog.children(c.id).into_iter().map(|ch| node(shop, ch, store, true)))));
    }
    structure(m)
}

/// `catalog_category.currentStore(store)`: the resolved store id (not kept between requests).
pub(crate) fn current_store(shop: &Shop, args: Args) -> ApiResult<Value> {
    Ok(php::int(store_id(shop, args.get(0))?))
}

/// `catalog_category.tree(parentId, store)`.
pub(crate) fn tree(shop: &Shop, args: Args) -> ApiResult<Value> {
    let store = store_id(shop, args.get(1))?;
    let parent = match (args.get(0), args.get(1)) {
        (None, Some(_)) => shop.store(store).map_or(1, |s| s.root_category_id),
        (None, None) => 1,
        (Some(v), _) => init(shop, Some(v))?,
    };
    let root = shop.catalog.category(parent).ok_or_else(|| ApiError::api("not_exists"))?;
    Ok(node(shop, root, store, true))
}

/// `catalog_category.level(website, store, categoryId)`.
pub(crate) fn level(shop: &Shop, args: Args) -> ApiResult<Value> {
    let mut store = 0;
    let ids: Result<Vec<i64>, i64> = match (args.get(0), args.get(1), args.get(2)) {
        (Some(w), st, cat) => {
            let website = shop
                .resolve_website(w)
                .ok_or_else(|| ApiError::api_msg("website_not_exists", "Invalid website code requested:"))?;
            match (st, cat) {
                (None, None) => {
                    let mut roots: Vec<i64> =
                        shop.stores.iter().filter(|s| s.website_id == website).map(|s| s.root_category_id).collect();
                    roots.dedup();
                    Ok(roots)
                }
                (None, Some(c)) => Err(init(shop, Some(c))?),
                (Some(s), c) => {
                    store = store_id(shop, Some(s))?;
                    if shop.website_of(store) != website {
                        return Err(ApiError::api("store_not_exists"));
                    }
                    match c {
                        None => Err(shop.store(store).map_or(1, |s| s.root_category_id)),
                        Some(c) => Err(php::to_int_lenient(c)),
                    }
                }
            }
        }
        (None, Some(s), None) => {
            store = store_id(shop, Some(s))?;
            Err(shop.store(store).map_or(1, |s| s.root_category_id))
        }
        (None, Some(s), Some(c)) => {
            store = store_id(shop, Some(s))?;
            Err(php::to_int_lenient(c))
        }
        (None, None, c) => Err(c.map_or(1, php::to_int_lenient)),
    };
    let rows: Vec<Value> = match ids {
        Ok(ids) => {
            ids.iter().filter_map(|id| shop.catalog.category(*id)).map(|c| node(shop, c, store, false)).collect()
        }
        Err(parent) => shop.catalog.children(parent).into_iter().map(|c| node(shop, c, store, false)).collect(),
    };
    Ok(Value::Array(rows))
}

fn csv(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// `catalog_category.info(categoryId, store, attributes)`.
pub(crate) fn info(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let id = init(shop, args.get(0))?;
    let store = store_id(shop, args.get(1))?;
    let c = shop.catalog.category(id).ok_or_else(|| ApiError::api("not_exists"))?;
    let allowed = |code: &str| match args.get(2) {
        Some(Value::Array(list)) => list.iter().any(|v| php::to_php_string(v) == code),
        _ => true,
    };
    let children = shop.catalog.children(id);
    let descendants = shop.catalog.descendants(id);
    let mut m: Values = Values::new();
    m.insert("category_id".into(), php::int(c.id));
    m.insert("is_active".into(), int_value(c, "is_active", store));
    m.insert("position".into(), php::int(c.position));
    m.insert("level".into(), php::int(c.level));
    let statics: Vec<(&str, Value)> = vec![
        ("created_at", php::iso_value(&c.created_at)),
        ("updated_at", php::datetime_value(&c.updated_at)),
        ("increment_id", Value::Nil),
        ("path", string(c.path.clone())),
        ("path_in_store", Value::Nil),
        ("children_count", php::int(descendants.len() as i64)),
    ];
    for (code, v) in statics {
        if allowed(code) {
            m.insert(code.into(), v);
        }
    }
    for (code, _) in CATEGORY_ATTRIBUTES {
        if allowed(code) {
            m.insert((*code).into(), c.value(code, store).cloned().unwrap_or(Value::Nil));
        }
    }
    m.insert("parent_id".into(), php::int(c.parent_id));
    m.insert("children".into(), string(csv(children.iter().map(|c| c.id))));
    m.insert("all_children".into(), string(csv(std::iter::once(id).chain(descendants.iter().map(|c| c.id)))));
    Ok(Value::Struct(m))
}

/// Applies `data` to a category's values in `store` (0: default); returns the "use config"
/// attributes.
fn apply_data(values: &mut Values, data: &crate::rpc::value::Map) -> Vec<String> {
    let mut use_config = Vec::new();
    for (code, backend) in CATEGORY_ATTRIBUTES {
        let Some(v) = data.get(*code) else { continue };
        if matches!(v, Value::Nil) {
            continue;
        }
        let is_use_config = match v {
            Value::String(s) => s == "use_config",
            Value::Array(a) => a.len() == 1 && a[0] == Value::String("use_config".into()),
            _ => false,
        };
        if is_use_config {
            use_config.push((*code).to_owned());
            values.remove(*code);
            continue;
        }
        let stored = if *code == "available_sort_by" {
            match v {
                Value::Array(a) => Some(Value::Array(a.iter().map(|x| string(php::to_php_string(x))).collect())),
                Value::String(s) if s.is_empty() => None,
                other => {
                    Some(Value::Array(php::to_php_string(other).split(',').map(|s| string(s.to_owned())).collect()))
                }
            }
        } else {
            attributes::normalize(*backend, v)
        };
        match stored {
            Some(x) => {
                values.insert((*code).into(), x);
            }
            None => {
                values.remove(*code);
            }
        }
    }
    use_config
}

/// The first required attribute that is empty, in attribute-id order.
fn missing_required(values: &Values, use_config: &[String]) -> Option<&'static str> {
    ["name", "is_active", "available_sort_by", "default_sort_by", "include_in_menu"]
        .into_iter()
        .find(|code| !use_config.iter().any(|u| u == code) && !values.contains_key(*code))
}

fn url_path(shop: &Shop, parent: i64, level: i64, key: &str) -> String {
    let parent_path = shop
        .catalog
        .category(parent)
        .filter(|_| level > 2)
        .and_then(|p| p.values.get("url_path"))
        .map(php::to_php_string)
        .map(|p| p.trim_end_matches(".html").to_owned());
    match parent_path {
        Some(p) if !p.is_empty() => format!("{p}/{key}.html"),
        _ => format!("{key}.html"),
    }
}

/// `catalog_category.create(parentId, data, store)`.
pub(crate) fn create(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let parent_id = init(shop, args.get(0))?;
    store_id(shop, args.get(2))?;
    let data = args.map(1).unwrap_or_default();
    let mut values = Values::new();
    let use_config = apply_data(&mut values, &data);
    if let Some(code) = missing_required(&values, &use_config) {
        return Err(ApiError::api_msg("data_invalid", format!("Attribute \"{code}\" is required.")));
    }
    let parent = shop.catalog.category(parent_id).cloned().ok_or_else(|| ApiError::api("not_exists"))?;
    let id = shop.catalog.allocate_category_id();
    let position = shop.catalog.children(parent_id).iter().map(|c| c.position).max().unwrap_or(0) + 1;
    let level = parent.level + 1;
    let key = values.get("url_key").map(php::to_php_string).unwrap_or_else(|| {
        super::super::seeding::url_key(&values.get("name").map(php::to_php_string).unwrap_or_default())
    });
    values.insert("url_key".into(), string(key.clone()));
    values.insert("url_path".into(), string(url_path(shop, parent_id, level, &key)));
    shop.catalog.put_category(Category {
        id,
        parent_id,
        path: format!("{}/{id}", parent.path),
        position,
        level,
        values,
        store_values: Default::default(),
        created_at: now,
        updated_at: now,
    });
    Ok(string(id.to_string()))
}

/// `catalog_category.update(categoryId, data, store)`.
pub(crate) fn update(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let id = init(shop, args.get(0))?;
    let store = store_id(shop, args.get(2))?;
    let data = args.map(1).unwrap_or_default();
    let mut c = shop.catalog.category(id).cloned().ok_or_else(|| ApiError::api("not_exists"))?;
    let mut merged = c.values.clone();
    if store != 0 {
        merged.extend(c.store_values.get(&store).cloned().unwrap_or_default());
    }
    let mut candidate = merged.clone();
    let use_config = apply_data(&mut candidate, &data);
    if let Some(code) = missing_required(&candidate, &use_config).filter(|code| data.contains_key(*code)) {
        return Err(ApiError::api_msg("data_invalid", format!("Attribute \"{code}\" is required.")));
    }
    if store == 0 {
        apply_data(&mut c.values, &data);
    } else {
        apply_data(c.store_values.entry(store).or_default(), &data);
    }
    c.updated_at = now;
    shop.catalog.put_category(c);
    Ok(Value::Boolean(true))
}

/// `catalog_category.move(categoryId, parentId, afterId)`.
pub(crate) fn move_category(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let id = init(shop, args.get(0))?;
    let parent_id = init(shop, args.get(1))?;
    let c = shop.catalog.category(id).cloned().ok_or_else(|| ApiError::api("not_exists"))?;
    let parent = shop.catalog.category(parent_id).cloned().ok_or_else(|| ApiError::api("not_exists"))?;
    if parent.path == c.path || parent.path.starts_with(&format!("{}/", c.path)) {
        return Err(ApiError::api_msg(
            "not_moved",
            "Operation do not allow to move a parent category to any of children category",
        ));
    }
    let siblings: Vec<(i64, i64)> =
        shop.catalog.children(parent_id).into_iter().filter(|s| s.id != id).map(|s| (s.id, s.position)).collect();
    let position = match args.get(2) {
        Some(after) => {
            let after = php::to_int_lenient(after);
            let pos = siblings.iter().find(|(sid, _)| *sid == after).map_or(0, |(_, p)| *p) + 1;
            for (sid, spos) in &siblings {
                if *spos >= pos
                    && let Some(s) = shop.catalog.category_mut(*sid)
                {
                    s.position += 1;
                }
            }
            pos
        }
        None => siblings.iter().map(|(_, p)| *p).max().unwrap_or(0) + 1,
    };
    let old_prefix = c.path.clone();
    let new_path = format!("{}/{id}", parent.path);
    let level_delta = parent.level + 1 - c.level;
    let moved: Vec<i64> = std::iter::once(id).chain(shop.catalog.descendants(id).iter().map(|d| d.id)).collect();
    for mid in moved {
        if let Some(m) = shop.catalog.category_mut(mid) {
            m.path = format!("{new_path}{}", &m.path[old_prefix.len()..]);
            m.level += level_delta;
            if mid == id {
                m.parent_id = parent_id;
                m.position = position;
                m.updated_at = now;
            }
        }
    }
    Ok(Value::Boolean(true))
}

/// `catalog_category.delete(categoryId)`.
pub(crate) fn delete(shop: &mut Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let id = init(shop, args.get(0))?;
    let is_root = id == 1 || shop.stores.iter().any(|s| s.root_category_id == id);
    if is_root {
        return Err(ApiError::api_msg("not_deleted", "Can't delete root category."));
    }
    shop.catalog.remove_category_tree(id);
    Ok(Value::Boolean(true))
}

/// `catalog_category.assignedProducts(categoryId, store)`.
pub(crate) fn assigned_products(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let id = init(shop, args.get(0))?;
    let store = store_id(shop, args.get(1))?;
    let website = shop.website_of(store);
    let rows = shop.catalog.assigned(id).into_iter().filter_map(|(pid, pos)| {
        let p = shop.catalog.product(pid)?;
        if store != 0 && !p.website_ids.contains(&website) {
            return None;
        }
        Some(structure([
            ("product_id", php::int(p.id)),
            ("type", string(p.type_id.clone())),
            ("set", php::int(p.set_id)),
            ("sku", string(p.sku.clone())),
            ("position", php::int(pos)),
        ]))
    });
    Ok(Value::Array(rows.collect()))
}

fn product_for_category(shop: &Shop, v: Option<&Value>, identifier: Option<&Value>) -> ApiResult<i64> {
    let identifier = identifier.map(php::to_php_string);
    resolve_product(shop, v, identifier.as_deref())
        .ok_or_else(|| ApiError::api_msg("not_exists", "Product not exists."))
}

/// `catalog_category.assignProduct(categoryId, product, position, identifierType)`.
pub(crate) fn assign_product(shop: &mut Shop, args: Args) -> ApiResult<Value> {
    args.require(2)?;
    let id = init(shop, args.get(0))?;
    let pid = product_for_category(shop, args.get(1), args.get(3))?;
    let position = args.get(2).map_or(0, php::to_int_lenient);
    shop.catalog.assign(id, pid, position);
    Ok(Value::Boolean(true))
}

/// `catalog_category.updateProduct(categoryId, product, position, identifierType)`.
pub(crate) fn update_product(shop: &mut Shop, args: Args) -> ApiResult<Value> {
    args.require(2)?;
    let id = init(shop, args.get(0))?;
    let pid = product_for_category(shop, args.get(1), args.get(3))?;
    if !shop.catalog.assigned(id).iter().any(|(p, _)| *p == pid) {
        return Err(ApiError::api("product_not_assigned"));
    }
    shop.catalog.assign(id, pid, args.get(2).map_or(0, php::to_int_lenient));
    Ok(Value::Boolean(true))
}

/// `catalog_category.removeProduct(categoryId, product, identifierType)`.
pub(crate) fn remove_product(shop: &mut Shop, args: Args) -> ApiResult<Value> {
    args.require(2)?;
    let id = init(shop, args.get(0))?;
    let pid = product_for_category(shop, args.get(1), args.get(2))?;
    if !shop.catalog.unassign(id, pid) {
        return Err(ApiError::api("product_not_assigned"));
    }
    Ok(Value::Boolean(true))
}
