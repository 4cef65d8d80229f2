//! The API resources the sandbox emulates, one module per resource family, and the table that
//! routes a canonical `resource.method` to its implementation.
//!
//! A path that `api.xml` declares but the sandbox does not emulate (carts, credit memos, tier
//! prices, custom options, tags, …) answers fault 4 "Resource path is not callable.", which is
//! also what Magento answers for declared methods its model lacks.

pub(crate) mod attribute;
pub(crate) mod category;
pub(crate) mod customer;
pub(crate) mod invoice;
pub(crate) mod media;
pub(crate) mod order;
pub(crate) mod product;
pub(crate) mod shipment;
pub(crate) mod stock;
pub(crate) mod store;

use chrono::{DateTime, Utc};
use dxr::Value;

use super::args::Args;
use super::faults::ApiResult;
use super::model::Shop;

/// True when the call changes data (the deadlock emulation only hits writes).
pub(crate) fn is_write(resource: &str, method: &str) -> bool {
    matches!(
        (resource, method),
        (_, "create" | "update" | "delete" | "move" | "remove" | "assignProduct" | "updateProduct" | "removeProduct")
            | ("sales_order", "addComment" | "hold" | "unhold" | "cancel")
            | ("sales_order_shipment", "addTrack" | "removeTrack" | "addComment")
            | ("catalog_product", "setSpecialPrice")
    )
}

/// True when the sandbox emulates the canonical path.
pub(crate) fn is_emulated(resource: &str, method: &str) -> bool {
    EMULATED.iter().any(|(r, methods)| *r == resource && methods.contains(&method))
}

const EMULATED: &[(&str, &[&str])] = &[
    ("core_store", &["list", "info"]),
    ("core_magento", &["info"]),
    ("directory_country", &["list"]),
    ("directory_region", &["list"]),
    ("customer", &["list", "create", "info", "update", "delete"]),
    ("customer_group", &["list"]),
    ("customer_address", &["list", "create", "info", "update", "delete"]),
    (
        "catalog_category",
        &[
            "currentStore",
            "tree",
            "level",
            "info",
            "create",
            "update",
            "move",
            "delete",
            "assignedProducts",
            "assignProduct",
            "updateProduct",
            "removeProduct",
        ],
    ),
    (
        "catalog_product",
        &["currentStore", "list", "info", "create", "update", "delete", "getSpecialPrice", "setSpecialPrice"],
    ),
    ("catalog_product_attribute", &["currentStore", "list", "options", "types", "info"]),
    ("catalog_product_attribute_set", &["list"]),
    ("catalog_product_type", &["list"]),
    ("catalog_product_attribute_media", &["currentStore", "list", "info", "types", "create", "update", "remove"]),
    ("catalog_product_link", &["list", "types"]),
    ("sales_order", &["list", "info", "addComment", "hold", "unhold", "cancel"]),
    ("sales_order_shipment", &["list", "info", "create", "addComment", "addTrack", "removeTrack", "getCarriers"]),
    ("sales_order_invoice", &["list", "info", "create"]),
    ("cataloginventory_stock_item", &["list", "update"]),
];

/// Runs an emulated method; `None` when the path is not emulated.
pub(crate) fn invoke(
    shop: &mut Shop,
    resource: &str,
    method: &str,
    args: Args,
    now: DateTime<Utc>,
) -> Option<ApiResult<Value>> {
    Some(match (resource, method) {
        ("core_store", "list") => store::list(shop),
        ("core_store", "info") => store::info(shop, args),
        ("core_magento", "info") => store::magento_info(shop),
        ("directory_country", "list") => store::countries(),
        ("directory_region", "list") => store::regions(args),
        ("customer", "list") => customer::list(shop, args),
        ("customer", "create") => customer::create(shop, args, now),
        ("customer", "info") => customer::info(shop, args),
        ("customer", "update") => customer::update(shop, args, now),
        ("customer", "delete") => customer::delete(shop, args),
        ("customer_group", "list") => customer::group_list(),
        ("customer_address", "list") => customer::address_list(shop, args),
        ("customer_address", "create") => customer::address_create(shop, args, now),
        ("customer_address", "info") => customer::address_info(shop, args),
        ("customer_address", "update") => customer::address_update(shop, args, now),
        ("customer_address", "delete") => customer::address_delete(shop, args),
        ("catalog_category", "currentStore") => category::current_store(shop, args),
        ("catalog_category", "tree") => category::tree(shop, args),
        ("catalog_category", "level") => category::level(shop, args),
        ("catalog_category", "info") => category::info(shop, args),
        ("catalog_category", "create") => category::create(shop, args, now),
        ("catalog_category", "update") => category::update(shop, args, now),
        ("catalog_category", "move") => category::move_category(shop, args, now),
        ("catalog_category", "delete") => category::delete(shop, args),
        ("catalog_category", "assignedProducts") => category::assigned_products(shop, args),
        ("catalog_category", "assignProduct") => category::assign_product(shop, args),
        ("catalog_category", "updateProduct") => category::update_product(shop, args),
        ("catalog_category", "removeProduct") => category::remove_product(shop, args),
        ("catalog_product", "currentStore") => product::current_store(shop, args),
        ("catalog_product", "list") => product::list(shop, args),
        ("catalog_product", "info") => product::info(shop, args),
        ("catalog_product", "create") => product::create(shop, args, now),
        ("catalog_product", "update") => product::update(shop, args, now),
        ("catalog_product", "delete") => product::delete(shop, args),
        ("catalog_product", "getSpecialPrice") => product::get_special_price(shop, args),
        ("catalog_product", "setSpecialPrice") => product::set_special_price(shop, args, now),
        ("catalog_product_attribute", "currentStore") => product::current_store(shop, args),
        ("catalog_product_attribute", "list") => attribute::list(args),
        ("catalog_product_attribute", "options") => attribute::options(shop, args),
        ("catalog_product_attribute", "types") => attribute::types(),
        ("catalog_product_attribute", "info") => attribute::info(args),
        ("catalog_product_attribute_set", "list") => attribute::set_list(),
        ("catalog_product_type", "list") => attribute::type_list(),
        ("catalog_product_link", "list") => attribute::link_list(shop, args),
        ("catalog_product_link", "types") => attribute::link_types(),
        ("catalog_product_attribute_media", "currentStore") => product::current_store(shop, args),
        ("catalog_product_attribute_media", "list") => media::list(shop, args),
        ("catalog_product_attribute_media", "info") => media::info(shop, args),
        ("catalog_product_attribute_media", "types") => media::types(args),
        ("catalog_product_attribute_media", "create") => media::create(shop, args, now),
        ("catalog_product_attribute_media", "update") => media::update(shop, args, now),
        ("catalog_product_attribute_media", "remove") => media::remove(shop, args, now),
        ("sales_order", "list") => order::list(shop, args),
        ("sales_order", "info") => order::info(shop, args),
        ("sales_order", "addComment") => order::add_comment(shop, args, now),
        ("sales_order", "hold") => order::hold(shop, args, now),
        ("sales_order", "unhold") => order::unhold(shop, args, now),
        ("sales_order", "cancel") => order::cancel(shop, args, now),
        ("sales_order_invoice", "list") => invoice::list(shop, args),
        ("sales_order_invoice", "info") => invoice::info(shop, args),
        ("sales_order_invoice", "create") => invoice::create(shop, args, now),
        ("sales_order_shipment", "list") => shipment::list(shop, args),
        ("sales_order_shipment", "info") => shipment::info(shop, args),
        ("sales_order_shipment", "create") => shipment::create(shop, args, now),
        ("sales_order_shipment", "addTrack") => shipment::add_track(shop, args, now),
        ("sales_order_shipment", "removeTrack") => shipment::remove_track(shop, args),
        ("sales_order_shipment", "addComment") => shipment::add_comment(shop, args, now),
        ("sales_order_shipment", "getCarriers") => shipment::get_carriers(shop, args),
        ("cataloginventory_stock_item", "list") => stock::list(shop, args),
        ("cataloginventory_stock_item", "update") => stock::update(shop, args, now),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::magento1::api_config::RESOURCES;

    #[test]
    fn every_emulated_path_is_declared_in_api_xml() {
        for (r, methods) in EMULATED {
            let def = RESOURCES.iter().find(|d| d.name == *r).unwrap_or_else(|| panic!("{r} not declared"));
            for m in *methods {
                assert!(def.has_method(m), "{r}.{m} not declared");
            }
        }
    }

    #[test]
    fn writes_are_classified() {
        assert!(is_write("catalog_product", "create"));
        assert!(is_write("cataloginventory_stock_item", "update"));
        assert!(is_write("sales_order", "addComment"));
        assert!(is_write("sales_order_shipment", "addTrack"));
        assert!(!is_write("catalog_product", "info"));
        assert!(!is_write("sales_order", "list"));
    }
}
