//! Translation of Magento 1 wire failures into [`MagentoError`]s (pure functions).
//!
//! Fault codes are per resource (`catalog_product` 101 = product not exists, `catalog_category`
//! 102 = category not exists, `sales_order` 100 = order not exists…), so the kind depends on the
//! API path. Fault 1 carries the PHP exception text for `call`, and only the generic "Internal
//! Error" inside `multiCall`; a MySQL deadlock or lock wait timeout is transient.

use dxr::Value;

use crate::magento::error::{ErrorKind, MagentoError};
use crate::rpc::transport::CallError;
use crate::rpc::value;

/// The message Magento puts in every non-API exception inside a `multiCall` item.
pub const GENERIC_INTERNAL: &str = "Internal Error. Please see log for details.";

/// True when a fault message reports a transient database conflict (deadlock, serialization
/// failure, lock wait timeout).
pub fn is_deadlock(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("deadlock")
        || m.contains("sqlstate[40001]")
        || m.contains("serialization failure")
        || m.contains("lock wait timeout")
        || m.contains(": 1205 ")
        || m.contains(": 1213 ")
}

/// True for fault 1 with the generic message (the real cause is only in the shop's log).
pub fn is_generic_internal(e: &MagentoError) -> bool {
    e.fault_code == Some(1) && e.message.trim() == GENERIC_INTERNAL
}

/// The resource part of an API path (`catalog_product.info` → `catalog_product`), with the
/// aliases Magento defines resolved.
pub fn resource_of(path: &str) -> &str {
    let r = path.split('.').next().unwrap_or(path);
    match r {
        "product" => "catalog_product",
        "category" => "catalog_category",
        "product_media" | "product_attribute_media" => "catalog_product_attribute_media",
        "product_attribute" => "catalog_product_attribute",
        "product_stock" => "cataloginventory_stock_item",
        "store" => "core_store",
        "magento" => "core_magento",
        "order" => "sales_order",
        "order_invoice" => "sales_order_invoice",
        "order_shipment" => "sales_order_shipment",
        other => other,
    }
}

/// True when fault `code` of `resource` means "the addressed record does not exist".
pub fn is_not_found(resource: &str, code: i32) -> bool {
    matches!(
        (resource, code),
        ("catalog_product", 101)
            | ("catalog_product_attribute_media", 101 | 103)
            | ("cataloginventory_stock_item", 101)
            | ("catalog_category", 102)
            | ("catalog_product_attribute", 101)
            | ("customer", 102)
            | ("customer_address", 101 | 102)
            | ("sales_order", 100)
            | ("sales_order_invoice", 100 | 103)
            | ("sales_order_shipment", 100 | 103 | 104)
            | ("core_store", 100)
    )
}

/// Kind of a fault answered to `method` (an API path such as `catalog_product.info`, or a
/// top-level method: `login`, `multiCall`, `endSession`).
pub fn classify(method: &str, code: i32, message: &str) -> ErrorKind {
    match code {
        1 if is_deadlock(message) => ErrorKind::Retryable,
        2 | 5 => ErrorKind::Auth,
        6 if method == "login" => ErrorKind::Auth,
        3 | 4 | 6 => ErrorKind::Protocol,
        620..=653 => ErrorKind::Protocol,
        c if is_not_found(resource_of(method), c) => ErrorKind::NotFound,
        _ => ErrorKind::Refused,
    }
}

/// Error for a fault answered to `method`.
pub fn from_fault(method: &str, code: i32, message: &str) -> MagentoError {
    let kind = classify(method, code, message);
    let message =
        if message.trim().is_empty() { "(no message)".to_owned() } else { value::truncate(message.trim(), 500) };
    MagentoError::fault(kind, method, code, message)
}

/// Error for a failed request to `method` (fault, HTTP status, timeout, unreadable answer).
pub fn from_call_error(method: &str, e: &CallError) -> MagentoError {
    match e {
        CallError::Fault(f) => match &f.text_code {
            None => from_fault(method, f.code, &f.message),
            Some(t) => MagentoError::protocol(
                method,
                format!("fault with a text code {:?}: {}", value::truncate(t, 40), value::truncate(&f.message, 300)),
            ),
        },
        _ if e.is_transient() => MagentoError::new(ErrorKind::Retryable, method, e.to_string()),
        CallError::Http { status: 401 | 403, .. } => MagentoError::new(ErrorKind::Auth, method, e.to_string()),
        CallError::Http { .. } => {
            MagentoError::protocol(method, format!("{e} (is the URL the shop's /api/xmlrpc/ endpoint?)"))
        }
        CallError::Decode { .. } | CallError::Encode(_) | CallError::Timeout { .. } | CallError::Connect { .. } => {
            MagentoError::protocol(method, e.to_string())
        }
    }
}

/// The inline fault of a `multiCall` item, `{isFault: true, faultCode: "101", faultMessage}`
/// (the code is a string there), or `None` for a normal result.
pub fn item_fault(v: &Value) -> Option<(i32, String)> {
    let Value::Struct(m) = v else { return None };
    let flagged = m.get("isFault").is_some_and(|f| value::to_bool("isFault", f).unwrap_or(false));
    if !flagged {
        return None;
    }
    let code = m
        .get("faultCode")
        .and_then(|c| value::to_i64("faultCode", c).ok())
        .and_then(|c| i32::try_from(c).ok())
        .unwrap_or(0);
    let message = m
        .get("faultMessage")
        .or_else(|| m.get("faultString"))
        .and_then(|s| value::to_opt_string("faultMessage", s).ok().flatten())
        .unwrap_or_default();
    Some((code, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::Fault;

    #[test]
    fn not_found_codes_depend_on_the_resource() {
        assert_eq!(classify("catalog_product.info", 101, "Product not exists."), ErrorKind::NotFound);
        assert_eq!(classify("catalog_category.info", 102, "Category not exists."), ErrorKind::NotFound);
        assert_eq!(classify("catalog_category.create", 101, "Requested website not found."), ErrorKind::Refused);
        assert_eq!(classify("sales_order.info", 100, "Requested order not exists."), ErrorKind::NotFound);
        assert_eq!(classify("customer.info", 102, "Customer not exists."), ErrorKind::NotFound);
        assert_eq!(classify("customer.create", 100, "This customer email already exists"), ErrorKind::Refused);
        assert_eq!(classify("cataloginventory_stock_item.update", 101, "Product not exists."), ErrorKind::NotFound);
        assert_eq!(classify("catalog_product.update", 100, "Requested store view not found."), ErrorKind::Refused);
        assert_eq!(classify("product.info", 101, "x"), ErrorKind::NotFound);
    }

    #[test]
    fn deadlocks_are_retryable_other_internal_errors_are_refusals() {
        let dl = "SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock; try restarting transaction";
        assert_eq!(classify("catalog_product.create", 1, dl), ErrorKind::Retryable);
        assert_eq!(
            classify("catalog_product.create", 1, "SQLSTATE[HY000]: General error: 1205 Lock wait timeout exceeded"),
            ErrorKind::Retryable
        );
        assert_eq!(
            classify("catalog_product.create", 1, "The value of attribute \"SKU\" must be unique"),
            ErrorKind::Refused
        );
        assert_eq!(
            classify("catalog_product.create", 104, "Product type is not in allowed types."),
            ErrorKind::Refused
        );
        assert_eq!(classify("catalog_product.list", 0, "Unknown Error"), ErrorKind::Refused);
    }

    #[test]
    fn auth_and_protocol_faults() {
        assert_eq!(classify("login", 2, "Access denied."), ErrorKind::Auth);
        assert_eq!(classify("customer.list", 2, "Access denied."), ErrorKind::Auth);
        assert_eq!(classify("catalog_product.info", 5, "Session expired. Try to relogin."), ErrorKind::Auth);
        assert_eq!(classify("login", 6, "Required parameter is missing"), ErrorKind::Auth);
        assert_eq!(classify("no_such.list", 3, "Invalid api path."), ErrorKind::Protocol);
        assert_eq!(classify("multiCall", 623, "Calling parameters do not match signature"), ErrorKind::Protocol);
        assert_eq!(classify("catalog_product.list", 620, "Method does not exist"), ErrorKind::Protocol);
    }

    #[test]
    fn transport_errors_map_to_kinds() {
        let e = from_call_error(
            "sales_order.info",
            &CallError::Http { status: 500, url: "u".into(), snippet: String::new() },
        );
        assert_eq!(e.kind, ErrorKind::Retryable);
        let e = from_call_error("sales_order.info", &CallError::Timeout { url: "u".into() });
        assert_eq!(e.kind, ErrorKind::Retryable);
        let e = from_call_error(
            "sales_order.info",
            &CallError::Http { status: 404, url: "u".into(), snippet: "Not Found".into() },
        );
        assert_eq!(e.kind, ErrorKind::Protocol);
        let e = from_call_error(
            "sales_order.info",
            &CallError::Http { status: 403, url: "u".into(), snippet: String::new() },
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        let e = from_call_error("sales_order.info", &CallError::Decode { url: "u".into(), snippet: "<html>".into() });
        assert_eq!(e.kind, ErrorKind::Protocol);
        let e = from_call_error("sales_order.info", &CallError::Fault(Fault::new(100, "Requested order not exists.")));
        assert_eq!((e.kind, e.fault_code), (ErrorKind::NotFound, Some(100)));
    }

    #[test]
    fn multicall_item_faults_have_string_codes() {
        let f = value::structure([
            ("isFault", value::boolean(true)),
            ("faultCode", value::string("101")),
            ("faultMessage", value::string("Product not exists.")),
        ]);
        assert_eq!(item_fault(&f), Some((101, "Product not exists.".into())));
        let ok = value::structure([("sku", value::string("A")), ("isFault", value::boolean(false))]);
        assert_eq!(item_fault(&ok), None);
        assert_eq!(item_fault(&value::array([])), None);
    }
}
