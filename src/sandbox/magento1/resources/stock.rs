//! `cataloginventory_stock_item.list/update` (`Mage_CatalogInventory_Model_Stock_Item_Api`):
//! SKU first, then id; unknown products skipped by `list`, rows in product-id order.

use chrono::{DateTime, Utc};
use dxr::Value;

use super::super::args::{Args, list_of};
use super::super::faults::{ApiError, ApiResult};
use super::super::model::Shop;
use super::super::model::catalog::Product;
use super::super::php;
use super::product::apply_stock;
use crate::rpc::value::{string, structure};

/// `getIdBySku`, then the value as an entity id.
fn resolve(shop: &Shop, v: &Value) -> Option<i64> {
    let text = php::to_php_string(v);
    if let Some(id) = shop.catalog.id_by_sku(&text) {
        return Some(id);
    }
    let id = match v {
        Value::Integer(i) => i64::from(*i),
        Value::Long(i) => *i,
        _ => php::int_of_numeric(&text)?,
    };
    shop.catalog.product(id).map(|p| p.id)
}

/// The stock row of a product.
pub(crate) fn row(p: &Product) -> Value {
    let in_stock = if p.stock.manages() { php::int(i64::from(p.stock.is_in_stock)) } else { Value::Boolean(true) };
    structure([
        ("product_id", php::int(p.id)),
        ("sku", string(p.sku.clone())),
        ("qty", php::money(p.stock.qty)),
        ("is_in_stock", in_stock),
    ])
}

/// `cataloginventory_stock_item.list(productIds)`.
pub(crate) fn list(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let mut ids: Vec<i64> = list_of(args.get(0)).iter().filter_map(|v| resolve(shop, v)).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(Value::Array(ids.into_iter().filter_map(|id| shop.catalog.product(id)).map(row).collect()))
}

/// `cataloginventory_stock_item.update(product, data)`.
pub(crate) fn update(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let id = args.get(0).and_then(|v| resolve(shop, v)).ok_or_else(|| ApiError::api("not_exists"))?;
    let data = args.map(1).unwrap_or_default();
    let p = shop.catalog.product_mut(id).ok_or_else(|| ApiError::api("not_exists"))?;
    apply_stock(&mut p.stock, &data);
    let qty_type = p.is_qty_type();
    p.stock.verify(qty_type);
    p.updated_at = now;
    Ok(Value::Boolean(true))
}
