//! Catalog metadata: `product_attribute_set.list`, `product_attribute.list/options/info/types`,
//! `catalog_product_type.list`, `catalog_product_link.list/types`.

use dxr::Value;

use super::super::args::Args;
use super::super::faults::{ApiError, ApiResult};
use super::super::model::Shop;
use super::super::model::attributes::{PRODUCT_ATTRIBUTES, PRODUCT_OPTIONS, product_attribute};
use super::super::php;
use super::product::{ATTRIBUTE_SETS, PRODUCT_TYPES, resolve_product};
use crate::rpc::value::{array, string, structure};
use crate::sandbox::seed::MAGENTO_TAX_CLASSES;

/// `product_attribute_set.list()`.
pub(crate) fn set_list() -> ApiResult<Value> {
    Ok(array(ATTRIBUTE_SETS.iter().map(|(id, name)| structure([("set_id", php::int(*id)), ("name", string(*name))]))))
}

/// `catalog_product_type.list()`.
pub(crate) fn type_list() -> ApiResult<Value> {
    Ok(array(PRODUCT_TYPES.iter().map(|(t, l)| structure([("type", string(*t)), ("label", string(*l))]))))
}

/// `product_attribute.list(setId)`.
pub(crate) fn list(args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let set = args.get(0).map_or(0, php::to_int_lenient);
    if !ATTRIBUTE_SETS.iter().any(|(s, _)| *s == set) {
        return Ok(Value::Array(Vec::new()));
    }
    Ok(array(PRODUCT_ATTRIBUTES.iter().filter(|d| d.id > 0).map(|d| {
        structure([
            ("attribute_id", php::int(d.id)),
            ("code", string(d.code)),
            ("type", d.input.map_or(Value::Nil, string)),
            ("required", php::int(i64::from(d.required))),
            ("scope", string(d.scope.name())),
        ])
    })))
}

fn options_of(code: &str) -> Option<Vec<Value>> {
    if code == "tax_class_id" {
        // Tax_Model_Class_Source_Product: "None" (value "0", a string) then the product classes.
        return Some(
            MAGENTO_TAX_CLASSES
                .iter()
                .map(|(id, label)| {
                    let value = if *id == 0 { string("0") } else { php::int(*id) };
                    structure([("value", value), ("label", string(*label))])
                })
                .collect(),
        );
    }
    let (_, opts) = PRODUCT_OPTIONS.iter().find(|(c, _)| *c == code)?;
    let mut out = vec![structure([("label", string("")), ("value", string(""))])];
    out.extend(opts.iter().map(|(v, l)| structure([("value", php::int(*v)), ("label", string(*l))])));
    Some(out)
}

/// `product_attribute.options(attribute, store)`.
pub(crate) fn options(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    shop.resolve_store(args.get(1)).map_err(|_| ApiError::api("store_not_exists"))?;
    let key = args.string(0).unwrap_or_default();
    let def = product_attribute(&key).ok_or_else(|| ApiError::api("not_exists"))?;
    Ok(Value::Array(options_of(def.code).unwrap_or_default()))
}

/// `product_attribute.info(attribute)`.
pub(crate) fn info(args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let key = args.string(0).unwrap_or_default();
    let d = product_attribute(&key).filter(|d| d.id > 0).ok_or_else(|| ApiError::api("not_exists"))?;
    let label = {
        let mut s = d.code.replace('_', " ");
        if let Some(first) = s.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        s
    };
    let options = options_of(d.code)
        .map(|o| {
            o.into_iter().filter(|v| !matches!(v, Value::Struct(m) if m.get("value") == Some(&string("")))).collect()
        })
        .unwrap_or_default();
    let configurable = matches!(d.code, "color" | "size");
    Ok(structure([
        ("attribute_id", php::int(d.id)),
        ("attribute_code", string(d.code)),
        ("frontend_input", d.input.map_or(Value::Nil, string)),
        ("default_value", Value::Nil),
        ("is_unique", php::int(i64::from(d.code == "sku"))),
        ("is_required", php::int(i64::from(d.required))),
        ("apply_to", array(d.apply_to.iter().map(|t| string(*t)))),
        ("is_configurable", php::int(i64::from(configurable))),
        ("is_searchable", php::int(i64::from(configurable || d.code == "name"))),
        ("is_visible_in_advanced_search", php::int(0)),
        ("is_comparable", php::int(i64::from(configurable))),
        ("is_used_for_promo_rules", php::int(0)),
        ("is_visible_on_front", php::int(i64::from(configurable))),
        ("used_in_product_listing", php::int(0)),
        ("frontend_label", array([structure([("store_id", php::int(0)), ("label", string(label))])])),
        ("scope", string(d.scope.name())),
        (
            "additional_fields",
            structure([
                ("is_filterable", php::int(i64::from(configurable))),
                ("is_filterable_in_search", php::int(0)),
                ("position", php::int(0)),
                ("used_for_sort_by", php::int(0)),
            ]),
        ),
        ("options", Value::Array(options)),
    ]))
}

/// `product_attribute.types()`.
pub(crate) fn types() -> ApiResult<Value> {
    let types = [
        ("text", "Text Field"),
        ("textarea", "Text Area"),
        ("date", "Date"),
        ("boolean", "Yes/No"),
        ("multiselect", "Multiple Select"),
        ("select", "Dropdown"),
        ("price", "Price"),
        ("media_image", "Media Image"),
    ];
    Ok(array(types.iter().map(|(v, l)| structure([("value", string(*v)), ("label", string(*l))]))))
}

const LINK_TYPES: &[&str] = &["related", "up_sell", "cross_sell", "grouped"];

/// `catalog_product_link.list(type, product, identifierType)`: the sandbox keeps no links.
pub(crate) fn link_list(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(2)?;
    let kind = args.string(0).unwrap_or_default();
    if !LINK_TYPES.contains(&kind.as_str()) {
        return Err(ApiError::api("type_not_exists"));
    }
    resolve_product(shop, args.get(1), args.string(2).as_deref()).ok_or_else(|| ApiError::api("product_not_exists"))?;
    Ok(Value::Array(Vec::new()))
}

/// `catalog_product_link.types()`.
pub(crate) fn link_types() -> ApiResult<Value> {
    Ok(array(LINK_TYPES.iter().map(|t| string(*t))))
}
