//! `core_store` (`store.list`, `store.info`), `core_magento.info`, `directory_country.list`,
//! `directory_region.list`.

use dxr::Value;

use super::super::args::Args;
use super::super::directory;
use super::super::faults::{ApiError, ApiResult};
use super::super::model::Shop;
use super::super::php;
use crate::rpc::value::{array, string, structure};
use crate::sandbox::seed::SeedStoreView;

fn store_row(s: &SeedStoreView) -> Value {
    structure([
        ("store_id", php::int(s.store_id)),
        ("code", string(s.code)),
        ("website_id", php::int(s.website_id)),
        ("group_id", php::int(s.group_id)),
        ("name", string(s.name)),
        ("sort_order", php::int(s.store_id - 1)),
        ("is_active", php::int(1)),
    ])
}

/// `store.list()`: store views, admin excluded.
pub(crate) fn list(shop: &Shop) -> ApiResult<Value> {
    Ok(array(shop.stores.iter().map(store_row)))
}

/// `store.info(storeId|code)`.
pub(crate) fn info(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let id = match args.get(0) {
        None => return Err(ApiError::api("store_not_exists")),
        v => shop.resolve_store(v).map_err(|_| ApiError::api("store_not_exists"))?,
    };
    shop.store(id).map(store_row).ok_or_else(|| ApiError::api("store_not_exists"))
}

/// `magento.info()`.
pub(crate) fn magento_info(shop: &Shop) -> ApiResult<Value> {
    Ok(structure([
        ("magento_edition", string("Community")),
        ("magento_version", string("1.9.4.5")),
        ("openmage_version", string(shop.openmage_version)),
    ]))
}

/// `directory_country.list()`.
pub(crate) fn countries() -> ApiResult<Value> {
    Ok(array(directory::COUNTRIES.iter().map(|(iso2, iso3, name)| {
        structure([
            ("country_id", string(*iso2)),
            ("iso2_code", string(*iso2)),
            ("iso3_code", string(*iso3)),
            ("name", string(*name)),
        ])
    })))
}

/// `directory_region.list(country)`.
pub(crate) fn regions(args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let country = args.string(0).unwrap_or_default();
    let regions = directory::regions(&country).ok_or_else(|| ApiError::api("country_not_exists"))?;
    Ok(array(regions.iter().map(|(id, code, name)| {
        structure([("region_id", php::int(*id)), ("code", string(*code)), ("name", string(*name))])
    })))
}
