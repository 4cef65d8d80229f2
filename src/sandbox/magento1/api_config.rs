//! Magento's `api.xml` configuration as the sandbox serves it: resources with their titles,
//! aliases and methods (for `resources` and path resolution), the global and per-resource fault
//! tables (for `globalFaults`, `resourceFaults` and the fault resolution rule), and the API users
//! with their ACL.
//!
//! The resource table is the one a real OpenMage 19.4.23 returned (`0050-resources`), so
//! `resources` lists every path even where the sandbox does not emulate the method (those paths
//! answer fault 4, see [`crate::sandbox::magento1::resources`]).

/// One API resource of `api.xml`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResourceDef {
    /// Resource name (`catalog_product`).
    pub name: &'static str,
    /// Title shown by `resources`.
    pub title: &'static str,
    /// Aliases (`product`).
    pub aliases: &'static [&'static str],
    /// Methods as `(name, title)`.
    pub methods: &'static [(&'static str, &'static str)],
}

impl ResourceDef {
    /// True when `method` is declared for this resource.
    pub(crate) fn has_method(&self, method: &str) -> bool {
        self.methods.iter().any(|(m, _)| *m == method)
    }
}

pub(crate) const RESOURCES: &[ResourceDef] = &[
    ResourceDef {
        name: "core_store",
        title: "Store API",
        aliases: &["store"],
        methods: &[("list", "Retrieve store list"), ("info", "Retrieve store data")],
    },
    ResourceDef {
        name: "core_magento",
        title: "Magento info API",
        aliases: &["magento"],
        methods: &[("info", "Get info about current Magento installation")],
    },
    ResourceDef {
        name: "directory_country",
        title: "Country API",
        aliases: &["country"],
        methods: &[("list", "List of countries")],
    },
    ResourceDef {
        name: "directory_region",
        title: "Region API",
        aliases: &["region"],
        methods: &[("list", "List of regions in specified country")],
    },
    ResourceDef {
        name: "customer",
        title: "Customer API",
        aliases: &[],
        methods: &[
            ("list", "Retrieve customers"),
            ("create", "Create customer"),
            ("info", "Retrieve customer data"),
            ("update", "Update customer data"),
            ("delete", "Delete customer"),
        ],
    },
    ResourceDef {
        name: "customer_group",
        title: "Customer's Groups API",
        aliases: &[],
        methods: &[("list", "Retrieve customer groups")],
    },
    ResourceDef {
        name: "customer_address",
        title: "Customer Address API",
        aliases: &[],
        methods: &[
            ("list", "Retrieve customer addresses"),
            ("create", "Create customer address"),
            ("info", "Retrieve address data"),
            ("update", "Update customer address data"),
            ("delete", "Delete customer address"),
        ],
    },
    ResourceDef {
        name: "catalog_category",
        title: "Category API",
        aliases: &["category"],
        methods: &[
            ("currentStore", "Set/Get current store view"),
            ("tree", "Retrieve hierarchical tree"),
            ("level", "Retrieve one level of categories by website/store view/parent category"),
            ("info", "Retrieve category data"),
            ("create", "Create new category"),
            ("update", "Update category"),
            ("move", "Move category in tree"),
            ("delete", "Delete category"),
            ("assignedProducts", "Retrieve list of assigned products"),
            ("assignProduct", "Assign product to category"),
            ("updateProduct", "Update assigned product"),
            ("removeProduct", "Remove product assignment"),
        ],
    },
    ResourceDef {
        name: "catalog_category_attribute",
        title: "Category attributes API",
        aliases: &["category_attribute"],
        methods: &[
            ("currentStore", "Set/Get current store view"),
            ("list", "Retrieve category attributes"),
            ("options", "Retrieve attribute options"),
        ],
    },
    ResourceDef {
        name: "catalog_product",
        title: "Product API",
        aliases: &["product"],
        methods: &[
            ("currentStore", "Set/Get current store view"),
            ("list", "Retrieve products list by filters"),
            ("info", "Retrieve product"),
            ("create", "Create new product"),
            ("update", "Update product"),
            ("multiUpdate", "Multi update product"),
            ("delete", "Delete product"),
            ("getSpecialPrice", "Get special price"),
            ("setSpecialPrice", "Set special price"),
            ("listOfAdditionalAttributes", "Get list of non-default attributes by product type and attributes set"),
        ],
    },
    ResourceDef {
        name: "catalog_product_attribute",
        title: "Product attributes API",
        aliases: &["product_attribute"],
        methods: &[
            ("currentStore", "Set/Get current store view"),
            ("list", "Retrieve attribute list"),
            ("options", "Retrieve attribute options"),
            ("types", "Get list of possible attribute types"),
            ("create", "Create new attribute"),
            ("update", "Update attribute"),
            ("remove", "Delete attribute"),
            ("info", "Get full information about attribute with list of options"),
            ("addOption", "Add option"),
            ("removeOption", "Remove option"),
        ],
    },
    ResourceDef {
        name: "catalog_product_attribute_set",
        title: "Product attribute sets API",
        aliases: &["product_attribute_set"],
        methods: &[
            ("create", "Create attribute set based on another set"),
            ("remove", "Remove attribute set"),
            ("list", "Retrieve product attribute sets"),
            ("attributeAdd", "Add attribute into attribute set"),
            ("attributeRemove", "Remove attribute from attribute set"),
            ("groupAdd", "Add group into attribute set"),
            ("groupRename", "Rename existing group"),
            ("groupRemove", "Remove group from attribute set"),
        ],
    },
    ResourceDef {
        name: "catalog_product_type",
        title: "Product types API",
        aliases: &["product_type"],
        methods: &[("list", "Retrieve product types")],
    },
    ResourceDef {
        name: "catalog_product_attribute_media",
        title: "Product Images API",
        aliases: &["product_attribute_media", "product_media"],
        methods: &[
            ("currentStore", "Set/Get current store view"),
            ("list", "Retrieve product image list"),
            ("info", "Retrieve product image"),
            ("types", "Retrieve product image types"),
            ("create", "Upload new product image "),
            ("update", "Update product image"),
            ("remove", "Remove product image"),
        ],
    },
    ResourceDef {
        name: "catalog_product_attribute_tier_price",
        title: "Product Tier Price API",
        aliases: &["product_attribute_tier_price", "product_tier_price"],
        methods: &[("info", "Retrieve product tier prices"), ("update", "Update product tier prices")],
    },
    ResourceDef {
        name: "catalog_product_link",
        title: "Product links API (related, cross sells, up sells)",
        aliases: &["product_link"],
        methods: &[
            ("list", "Retrieve linked products"),
            ("assign", "Assign product link"),
            ("update", "Update product link"),
            ("remove", "Remove product link"),
            ("types", "Retrieve product link types"),
            ("attributes", "Retrieve product link type attributes"),
        ],
    },
    ResourceDef {
        name: "catalog_product_custom_option",
        title: "Catalog product custom options API",
        aliases: &["product_custom_option"],
        methods: &[
            ("add", "Add new custom option into product"),
            ("update", "Update custom option of product"),
            ("types", "Get list of available custom option types"),
            ("info", "Get full information about custom option in product"),
            ("list", "Retrieve list of product custom options"),
            ("remove", "Remove custom option"),
        ],
    },
    ResourceDef {
        name: "catalog_product_custom_option_value",
        title: "Catalog product custom option values API",
        aliases: &["product_custom_option_value"],
        methods: &[
            ("list", "Retrieve list of option values"),
            ("info", "Retrieve option value info"),
            ("add", "Add new values into custom option"),
            ("update", "Update value of custom option"),
            ("remove", "Remove value from custom option"),
        ],
    },
    ResourceDef {
        name: "sales_order",
        title: "Order API",
        aliases: &["order"],
        methods: &[
            ("list", "Retrieve list of orders by filters"),
            ("info", "Retrieve order information"),
            ("addComment", "Add comment to order"),
            ("hold", "Hold order"),
            ("unhold", "Unhold order"),
            ("cancel", "Cancel order"),
        ],
    },
    ResourceDef {
        name: "sales_order_shipment",
        title: "Shipment API",
        aliases: &["order_shipment"],
        methods: &[
            ("list", "Retrieve list of shipments by filters"),
            ("info", "Retrieve shipment information"),
            ("sendInfo", "Send shipment info"),
            ("create", "Create new shipment for order"),
            ("addComment", "Add new comment to shipment"),
            ("addTrack", "Add new tracking number"),
            ("removeTrack", "Remove tracking number"),
            ("getCarriers", "Retrieve list of allowed carriers for order"),
        ],
    },
    ResourceDef {
        name: "sales_order_invoice",
        title: "Invoice API",
        aliases: &["order_invoice"],
        methods: &[
            ("list", "Retrieve list of invoices by filters"),
            ("info", "Retrieve invoice information"),
            ("create", "Create new invoice for order"),
            ("addComment", "Add new comment to shipment"),
            ("capture", "Capture invoice"),
            ("void", "Void invoice"),
            ("cancel", "Cancel invoice"),
        ],
    },
    ResourceDef {
        name: "sales_order_creditmemo",
        title: "Credit memo API",
        aliases: &["order_creditmemo"],
        methods: &[
            ("list", "Retrieve list of credit memos by filters"),
            ("info", "Retrieve credit memo information"),
            ("create", "Create new credit memo for order"),
            ("addComment", "Add new comment to credit memo"),
            ("cancel", "Cancel credit memo"),
        ],
    },
    ResourceDef {
        name: "cataloginventory_stock_item",
        title: "Inventory API",
        aliases: &["product_stock"],
        methods: &[
            ("list", "Retrieve stock data by product ids"),
            ("update", "Update product stock data"),
            ("multiUpdate", "Multi update product stock data"),
        ],
    },
    ResourceDef {
        name: "cart",
        title: "Shopping Cart",
        aliases: &[],
        methods: &[
            ("create", "Create shopping cart"),
            ("order", "Create an order from shopping cart"),
            ("info", "Retrieve information about shopping cart"),
            ("totals", "Get total prices for shopping cart"),
            ("license", "Get terms and conditions"),
        ],
    },
    ResourceDef {
        name: "cart_product",
        title: "Cart Product API",
        aliases: &[],
        methods: &[
            ("add", "Add product to shopping cart"),
            ("update", "Update product quantities in shopping cart"),
            ("remove", "Remove product from shopping cart"),
            ("list", "Get list of products in shopping cart"),
            ("moveToCustomerQuote", "Move product(s) to customer quote"),
        ],
    },
    ResourceDef {
        name: "cart_customer",
        title: "Customer Information",
        aliases: &["cart_customer_address"],
        methods: &[
            ("set", "Set customer for shopping cart"),
            ("addresses", "Set customer's addresses in shopping cart"),
        ],
    },
    ResourceDef {
        name: "cart_shipping",
        title: "Shipping information",
        aliases: &[],
        methods: &[("method", "Set shipping method"), ("list", "Get list of available shipping methods")],
    },
    ResourceDef {
        name: "cart_payment",
        title: "Payment method information",
        aliases: &[],
        methods: &[("method", "Set payment method"), ("list", "Get list of available payment methods")],
    },
    ResourceDef {
        name: "cart_coupon",
        title: "Shopping cart ability to set coupon code",
        aliases: &[],
        methods: &[("add", "Add coupon code for shopping cart"), ("remove", "Remove coupon code from shopping cart")],
    },
    ResourceDef {
        name: "catalog_product_tag",
        title: "Product Tag API",
        aliases: &["product_tag"],
        methods: &[
            ("list", "Retrieve list of tags by product"),
            ("info", "Retrieve product tag info"),
            ("add", "Add tag(s) to product"),
            ("update", "Update product tag"),
            ("remove", "Remove product tag"),
        ],
    },
    ResourceDef {
        name: "giftmessage",
        title: "Gift Message API",
        aliases: &[],
        methods: &[
            ("setForQuote", "Add gift message for shopping cart"),
            ("setForQuoteItem", "Add gift messages for quote item of shopping cart"),
            ("setForQuoteProduct", "Add gift messages to products of shopping cart"),
        ],
    },
    ResourceDef {
        name: "catalog_product_downloadable_link",
        title: "Category API",
        aliases: &["product_downloadable_link"],
        methods: &[
            ("add", "Add links and samples to downloadable product"),
            ("list", "Retrieve links and samples list from downloadable product"),
            ("remove", "Remove links and samples from downloadable product"),
        ],
    },
];

/// Finds a resource by name or alias.
pub(crate) fn resource(name_or_alias: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.name == name_or_alias)
        .or_else(|| RESOURCES.iter().find(|r| r.aliases.contains(&name_or_alias)))
}

/// One fault of a fault table: `(code, name, message)`.
pub(crate) type FaultDef = (i32, &'static str, &'static str);

/// The global fault table (`Mage/Api/etc/api.xml`).
pub(crate) const GLOBAL_FAULTS: &[FaultDef] = &[
    (0, "unknown", "Unknown Error"),
    (1, "internal", "Internal Error. Please see log for details."),
    (2, "access_denied", "Access denied."),
    (3, "resource_path_invalid", "Invalid api path."),
    (4, "resource_path_not_callable", "Resource path is not callable."),
    (5, "session_expired", "Session expired. Try to relogin."),
    (6, "invalid_request_param", "Required parameter is missing, for more details see \"exception.log\"."),
];

const STORE_NOT_EXISTS: FaultDef = (100, "store_not_exists", "Requested store view not found.");

/// The fault table of a resource (by canonical name); empty when it defines none.
pub(crate) fn resource_faults(resource: &str) -> &'static [FaultDef] {
    match resource {
        "core_store" => &[STORE_NOT_EXISTS],
        "directory_region" => &[(101, "country_not_exists", "Country not exists.")],
        "customer" => &[
            (100, "data_invalid", "Invalid customer data. Details in error message."),
            (101, "filters_invalid", "Invalid filters specified. Details in error message."),
            (102, "not_exists", "Customer not exists."),
            (103, "not_deleted", "Customer not deleted. Details in error message."),
        ],
        "customer_address" => &[
            (100, "data_invalid", "Invalid address data. Details in error message."),
            (101, "customer_not_exists", "Customer not exists."),
            (102, "not_exists", "Address not exists."),
            (103, "not_deleted", "Address not deleted. Details in error message."),
        ],
        "catalog_category" => &[
            STORE_NOT_EXISTS,
            (101, "website_not_exists", "Requested website not found."),
            (102, "not_exists", "Category not exists."),
            (103, "data_invalid", "Invalid data given. Details in error message."),
            (104, "not_moved", "Category not moved. Details in error message."),
            (105, "not_deleted", "Category not deleted. Details in error message."),
            (106, "product_not_assigned", "Requested product is not assigned to category."),
        ],
        "catalog_category_attribute" => &[STORE_NOT_EXISTS, (101, "not_exists", "Requested attribute not found.")],
        "catalog_product" => &[
            STORE_NOT_EXISTS,
            (101, "product_not_exists", "Product not exists."),
            (102, "data_invalid", "Invalid data given. Details in error message."),
            (103, "not_deleted", "Product not deleted. Details in error message."),
            (104, "product_type_not_exists", "Product type is not in allowed types."),
            (105, "product_attribute_set_not_exists", "Product attribute set is not existed"),
            (106, "product_attribute_set_not_valid", "Product attribute set is not belong catalog product entity type"),
            (
                107,
                "multi_update_not_match",
                "Quantity of product IDs and product data should match. Details in error message.",
            ),
            (
                108,
                "partially_updated",
                "There was an error during one or more products update. See error log for details.",
            ),
        ],
        "catalog_product_attribute" => &[
            STORE_NOT_EXISTS,
            (101, "not_exists", "Requested attribute not found."),
            (102, "invalid_parameters", "Invalid request parameters."),
        ],
        "catalog_product_attribute_media" => &[
            STORE_NOT_EXISTS,
            (101, "product_not_exists", "Product not exists."),
            (102, "data_invalid", "Invalid data given. Details in error message."),
            (103, "not_exists", "Requested image not exists in product images' gallery."),
            (104, "not_created", "Image creation failed. Details in error message."),
            (105, "not_updated", "Image not updated. Details in error message."),
            (106, "not_removed", "Image not removed. Details in error message."),
            (107, "not_media", "Requested product doesn't support images"),
        ],
        "catalog_product_link" => &[
            (100, "type_not_exists", "Given invalid link type."),
            (101, "product_not_exists", "Product not exists."),
            (102, "data_invalid", "Invalid data given. Details in error message."),
            (104, "not_removed", "Product link not removed."),
        ],
        "cataloginventory_stock_item" => &[
            (101, "not_exists", "Product not exists."),
            (102, "not_updated", "Product inventory not updated. Details in error message."),
            (
                103,
                "multi_update_not_match",
                "Quantity of product IDs and product stock data should match. Details in error message.",
            ),
        ],
        "sales_order" => &[
            (100, "not_exists", "Requested order not exists."),
            (101, "filters_invalid", "Invalid filters given. Details in error message."),
            (102, "data_invalid", "Invalid data given. Details in error message."),
            (103, "status_not_changed", "Order status not changed. Details in error message."),
        ],
        "sales_order_shipment" => &[
            (100, "not_exists", "Requested shipment not exists."),
            (101, "filters_invalid", "Invalid filters given. Details in error message."),
            (102, "data_invalid", "Invalid data given. Details in error message."),
            (103, "order_not_exists", "Requested order not exists."),
            (104, "track_not_exists", "Requested tracking not exists."),
            (105, "track_not_deleted", "Tracking not deleted. Details in error message."),
        ],
        "sales_order_invoice" => &[
            (100, "not_exists", "Requested invoice does not exist."),
            (101, "invalid_filter", "Invalid filters given. Details in error message."),
            (102, "data_invalid", "Invalid data given. Details in error message."),
            (103, "order_not_exists", "Requested order does not exist."),
            (104, "status_not_changed", "Invoice status not changed."),
        ],
        "sales_order_creditmemo" => &[
            (100, "not_exists", "Requested credit memo does not exist"),
            (101, "invalid_filter", "Invalid filter given. Details in error message."),
            (102, "data_invalid", "Invalid data given. Details in error message."),
            (103, "order_not_exists", "Requested order does not exist"),
            (104, "status_not_changed", "Credit memo status not changed."),
        ],
        _ => &[],
    }
}

/// Resolves a fault by name as `Mage_Api_Model_Server_Handler_Abstract::_fault` does: the
/// resource table first (with the custom message if any), then the global table *without* the
/// custom message, then 0 "Unknown Error".
pub(crate) fn resolve_fault(resource: Option<&str>, name: &str, custom: Option<&str>) -> (i32, String) {
    if let Some(r) = resource
        && let Some((code, _, msg)) = resource_faults(r).iter().find(|(_, n, _)| *n == name)
    {
        return (*code, custom.unwrap_or(msg).to_owned());
    }
    let (code, msg) =
        GLOBAL_FAULTS.iter().find(|(_, n, _)| *n == name).map_or((0, "Unknown Error"), |(c, _, m)| (*c, *m));
    // Global faults keep the custom message only when raised directly (no resource context).
    let message = if resource.is_none() { custom.unwrap_or(msg) } else { msg };
    (code, message.to_owned())
}

/// What an API user may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acl {
    /// Role with resource `all`.
    All,
    /// Only these canonical paths (`catalog_product.info`).
    Only(Vec<String>),
}

impl Acl {
    /// True when the canonical `resource.method` is allowed.
    pub fn allows(&self, resource: &str, method: &str) -> bool {
        match self {
            Acl::All => true,
            Acl::Only(paths) => paths.iter().any(|p| p.split_once('.') == Some((resource, method))),
        }
    }

    /// True when at least one method of `resource` is allowed.
    pub fn allows_resource(&self, resource: &str) -> bool {
        match self {
            Acl::All => true,
            Acl::Only(paths) => paths.iter().any(|p| p.split_once('.').is_some_and(|(r, _)| r == resource)),
        }
    }
}

/// An API user (System > Web Services > SOAP/XML-RPC Users).
#[derive(Debug, Clone)]
pub struct ApiUser {
    /// User name.
    pub username: String,
    /// API key.
    pub api_key: crate::secret::Secret,
    /// Role.
    pub acl: Acl,
}

/// The users of the recordings: `connector` / `connector123` (all) and `limited` / `limited123`
/// (only `catalog_product.info`).
pub fn default_users() -> Vec<ApiUser> {
    vec![
        ApiUser { username: "connector".into(), api_key: crate::secret::Secret::new("connector123"), acl: Acl::All },
        ApiUser {
            username: "limited".into(),
            api_key: crate::secret::Secret::new("limited123"),
            acl: Acl::Only(vec!["catalog_product.info".into()]),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_canonical_resources() {
        assert_eq!(resource("product").map(|r| r.name), Some("catalog_product"));
        assert_eq!(resource("product_stock").map(|r| r.name), Some("cataloginventory_stock_item"));
        assert_eq!(resource("order").map(|r| r.name), Some("sales_order"));
        assert_eq!(resource("product_media").map(|r| r.name), Some("catalog_product_attribute_media"));
        assert!(resource("no_such_resource").is_none());
        assert!(resource("catalog_product").is_some_and(|r| r.has_method("info") && !r.has_method("items")));
    }

    #[test]
    fn fault_resolution_falls_back_to_global_then_unknown() {
        assert_eq!(
            resolve_fault(Some("catalog_product"), "product_not_exists", None),
            (101, "Product not exists.".into())
        );
        assert_eq!(
            resolve_fault(Some("catalog_category"), "not_exists", Some("Product not exists.")),
            (102, "Product not exists.".into())
        );
        assert_eq!(
            resolve_fault(Some("catalog_product"), "filters_invalid", Some("detail")),
            (0, "Unknown Error".into())
        );
        assert_eq!(
            resolve_fault(Some("catalog_product"), "resource_path_not_callable", Some("x")),
            (4, "Resource path is not callable.".into())
        );
        assert_eq!(resolve_fault(None, "session_expired", None), (5, "Session expired. Try to relogin.".into()));
    }

    #[test]
    fn limited_acl_allows_only_product_info() {
        let acl = &default_users()[1].acl;
        assert!(acl.allows("catalog_product", "info"));
        assert!(!acl.allows("catalog_product", "list"));
        assert!(!acl.allows_resource("customer"));
    }
}
