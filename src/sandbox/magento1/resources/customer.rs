//! `customer.*`, `customer_group.list` and `customer_address.*`
//! (`Mage_Customer_Model_Customer_Api`, `..._Address_Api`, `..._Group_Api`).

use chrono::{DateTime, Utc};
use dxr::Value;

use super::super::args::{Args, list_of};
use super::super::directory;
use super::super::faults::{ApiError, ApiResult};
use super::super::filters::{Filter, Scalar};
use super::super::model::Shop;
use super::super::model::catalog::Values;
use super::super::model::customers::{ADDRESS_ATTRIBUTES, Address, CUSTOMER_ATTRIBUTES, Customer};
use super::super::php;
use crate::rpc::value::{Map, string, structure};

/// Customer groups of the shop.
pub(crate) const GROUPS: &[(i64, &str)] = &[(0, "NOT LOGGED IN"), (1, "General"), (2, "Wholesale"), (3, "Retailer")];

/// `customer_group.list()`.
pub(crate) fn group_list() -> ApiResult<Value> {
    Ok(Value::Array(
        GROUPS
            .iter()
            .map(|(id, code)| structure([("customer_group_id", php::int(*id)), ("customer_group_code", string(*code))]))
            .collect(),
    ))
}

fn id_arg(v: Option<&Value>) -> i64 {
    v.map_or(0, php::to_int_lenient)
}

fn customer_row(c: &Customer) -> Value {
    let mut m = Map::new();
    m.insert("customer_id".into(), php::int(c.id));
    m.insert("created_at".into(), php::datetime_value(&c.created_at));
    m.insert("updated_at".into(), php::datetime_value(&c.updated_at));
    for (code, _) in CUSTOMER_ATTRIBUTES {
        if let Some(v) = c.values.get(*code) {
            m.insert((*code).into(), v.clone());
        }
    }
    Value::Struct(m)
}

fn customer_column(c: &Customer, field: &str) -> Option<Scalar> {
    match field {
        "entity_id" => Some(Scalar::int(c.id)),
        "created_at" => Some(Scalar::Date(c.created_at)),
        "updated_at" => Some(Scalar::Date(c.updated_at)),
        code => {
            let v = c.values.get(code)?;
            let int = CUSTOMER_ATTRIBUTES.iter().any(|(k, i)| *k == code && *i);
            if int {
                Some(Scalar::int(php::to_int_lenient(v)))
            } else if code == "dob" {
                crate::rpc::value::parse_datetime(&php::to_php_string(v)).map(Scalar::Date)
            } else {
                Some(Scalar::Text(php::to_php_string(v)))
            }
        }
    }
}

/// `customer.list(filters)` (the argument is required in 1.9).
pub(crate) fn list(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let filter = Filter::parse(args.get(0), &[("customer_id", "entity_id")]);
    let known = |f: &str| {
        matches!(f, "entity_id" | "created_at" | "updated_at") || CUSTOMER_ATTRIBUTES.iter().any(|(k, _)| *k == f)
    };
    if let Some(bad) = filter.fields().find(|f| !known(f)) {
        return Err(ApiError::api_msg("filters_invalid", format!("Invalid attribute name: {bad}.")));
    }
    Ok(Value::Array(
        shop.customers.customers().filter(|c| filter.matches(|f| customer_column(c, f))).map(customer_row).collect(),
    ))
}

/// `customer.info(customerId, attributes)`.
pub(crate) fn info(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let c = shop.customers.customer(id_arg(args.get(0))).ok_or_else(|| ApiError::api("not_exists"))?;
    let wanted: Option<Vec<String>> = match args.get(1) {
        Some(v @ (Value::Array(_) | Value::Struct(_))) => {
            Some(list_of(Some(v)).iter().map(php::to_php_string).collect())
        }
        _ => None,
    };
    let allowed = |code: &str| wanted.as_ref().is_none_or(|w| w.iter().any(|x| x == code));
    let mut m = Map::new();
    m.insert("customer_id".into(), php::int(c.id));
    if allowed("created_at") {
        m.insert("created_at".into(), php::iso_value(&c.created_at));
    }
    if allowed("updated_at") {
        m.insert("updated_at".into(), php::datetime_value(&c.updated_at));
    }
    for (code, _) in CUSTOMER_ATTRIBUTES {
        if allowed(code) {
            m.insert((*code).into(), c.values.get(*code).cloned().unwrap_or(Value::Nil));
        }
    }
    Ok(Value::Struct(m))
}

/// Sets the customer attributes present in `data` (`''` clears).
fn apply_customer(values: &mut Values, data: &Map) {
    for (code, is_int) in CUSTOMER_ATTRIBUTES {
        if matches!(*code, "password_hash" | "created_in" | "increment_id") {
            continue;
        }
        let Some(v) = data.get(*code).filter(|v| !matches!(v, Value::Nil)) else {
            continue;
        };
        let stored = match v {
            Value::String(s) if s.is_empty() => None,
            _ if *is_int => Some(php::int(php::to_int_lenient(v))),
            _ if *code == "dob" => {
                Some(string(super::super::model::attributes::normalize_date(&php::to_php_string(v))))
            }
            _ => Some(string(php::to_php_string(v))),
        };
        match stored {
            Some(s) => {
                values.insert((*code).into(), s);
            }
            None => {
                values.remove(*code);
            }
        }
    }
}

/// `customer.create(data)`.
pub(crate) fn create(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(1)?;
    let data = args.map(0).unwrap_or_default();
    let mut values = Values::new();
    apply_customer(&mut values, &data);
    let website = values.get("website_id").map(php::to_int_lenient);
    let Some(website) = website.filter(|w| shop.website_ids().contains(w)) else {
        return Err(ApiError::api_msg(
            "data_invalid",
            "Customer website ID must be specified, when using the website scope",
        ));
    };
    let email = values.get("email").map(php::to_php_string).unwrap_or_default();
    if shop.customers.id_by_email(website, &email).is_some() {
        return Err(ApiError::api_msg("data_invalid", "This customer email already exists"));
    }
    let store = values.get("store_id").map_or(0, php::to_int_lenient);
    let created_in = shop.store(store).map_or("Admin", |s| s.name).to_owned();
    values.insert("created_in".into(), string(created_in));
    values.entry("group_id".into()).or_insert_with(|| php::int(1));
    values.insert("password_hash".into(), string(super::super::seeding::password_hash(&mut shop.rng)));
    let confirmation = shop.hex(32);
    values.insert("confirmation".into(), string(confirmation));
    values.insert("disable_auto_group_change".into(), php::int(0));
    let id = shop.customers.allocate_customer_id();
    shop.customers.put_customer(Customer { id, values, created_at: now, updated_at: now });
    Ok(string(id.to_string()))
}

/// `customer.update(customerId, data)`.
pub(crate) fn update(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let mut c = shop.customers.customer(id_arg(args.get(0))).cloned().ok_or_else(|| ApiError::api("not_exists"))?;
    let data = args.map(1).unwrap_or_default();
    apply_customer(&mut c.values, &data);
    let website = c.int("website_id").unwrap_or(0);
    let email = c.text("email").unwrap_or_default();
    if shop.customers.id_by_email(website, &email).is_some_and(|other| other != c.id) {
        return Err(ApiError::api_msg("data_invalid", "This customer email already exists"));
    }
    c.updated_at = now;
    shop.customers.put_customer(c);
    Ok(Value::Boolean(true))
}

/// `customer.delete(customerId)`.
pub(crate) fn delete(shop: &mut Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    shop.customers.remove_customer(id_arg(args.get(0))).ok_or_else(|| ApiError::api("not_exists"))?;
    Ok(Value::Boolean(true))
}

fn is_default(shop: &Shop, a: &Address, key: &str) -> bool {
    shop.customers.customer(a.customer_id).and_then(|c| c.int(key)) == Some(a.id)
}

/// `customer_address.list(customerId)`: set attributes only, newest first (as recorded).
pub(crate) fn address_list(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let cid = id_arg(args.get(0));
    shop.customers.customer(cid).ok_or_else(|| ApiError::api("customer_not_exists"))?;
    let mut rows = Vec::new();
    for a in shop.customers.addresses_of(cid).into_iter().rev() {
        let mut m = Map::new();
        m.insert("customer_address_id".into(), php::int(a.id));
        m.insert("created_at".into(), php::datetime_value(&a.created_at));
        m.insert("updated_at".into(), php::datetime_value(&a.updated_at));
        for (code, _) in ADDRESS_ATTRIBUTES {
            if let Some(v) = a.values.get(*code) {
                m.insert((*code).into(), v.clone());
            }
        }
        m.insert("is_default_billing".into(), Value::Boolean(is_default(shop, a, "default_billing")));
        m.insert("is_default_shipping".into(), Value::Boolean(is_default(shop, a, "default_shipping")));
        rows.push(Value::Struct(m));
    }
    Ok(Value::Array(rows))
}

/// `customer_address.info(addressId)`.
pub(crate) fn address_info(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let a = shop.customers.address(id_arg(args.get(0))).ok_or_else(|| ApiError::api("not_exists"))?;
    let mut m = Map::new();
    m.insert("customer_address_id".into(), php::int(a.id));
    m.insert("created_at".into(), php::iso_value(&a.created_at));
    m.insert("updated_at".into(), php::datetime_value(&a.updated_at));
    for (code, _) in ADDRESS_ATTRIBUTES {
        m.insert((*code).into(), a.values.get(*code).cloned().unwrap_or(Value::Nil));
    }
    m.insert("is_default_billing".into(), Value::Boolean(is_default(shop, a, "default_billing")));
    m.insert("is_default_shipping".into(), Value::Boolean(is_default(shop, a, "default_shipping")));
    Ok(Value::Struct(m))
}

fn apply_address(values: &mut Values, data: &Map) {
    for (code, is_int) in ADDRESS_ATTRIBUTES {
        let Some(v) = data.get(*code).filter(|v| !matches!(v, Value::Nil)) else {
            continue;
        };
        let stored = match v {
            Value::String(s) if s.is_empty() => None,
            Value::Array(lines) if *code == "street" => {
                let joined = lines.iter().map(php::to_php_string).collect::<Vec<_>>().join("\n");
                (!joined.is_empty()).then(|| string(joined))
            }
            _ if *is_int => Some(php::int(php::to_int_lenient(v))),
            _ => Some(string(php::to_php_string(v))),
        };
        match stored {
            Some(s) => {
                values.insert((*code).into(), s);
            }
            None => {
                values.remove(*code);
            }
        }
    }
    if let Some(rid) = values.get("region_id").map(php::to_int_lenient)
        && let Some((_, _, name)) = directory::region(rid)
    {
        values.insert("region".into(), string(name));
    }
}

/// `Mage_Customer_Model_Address_Abstract::validate()` messages, in order.
fn validate_address(values: &Values) -> Vec<&'static str> {
    let empty = |k: &str| values.get(k).is_none_or(|v| php::to_php_string(v).trim().is_empty());
    let mut errors = Vec::new();
    let checks = [
        ("firstname", "Please enter the first name."),
        ("lastname", "Please enter the last name."),
        ("street", "Please enter the street."),
        ("city", "Please enter the city."),
        ("telephone", "Please enter the telephone number."),
        ("postcode", "Please enter the zip/postal code."),
        ("country_id", "Please enter the country."),
    ];
    for (k, msg) in checks {
        if empty(k) {
            errors.push(msg);
        }
    }
    let country = values.get("country_id").map(php::to_php_string).unwrap_or_default();
    if directory::region_required(&country) && empty("region_id") {
        errors.push("Please enter the state/province.");
    }
    errors
}

fn set_defaults(shop: &mut Shop, customer: i64, address: i64, data: &Map) {
    if let Some(c) = shop.customers.customer_mut(customer) {
        for (flag, key) in [("is_default_billing", "default_billing"), ("is_default_shipping", "default_shipping")] {
            match data.get(flag) {
                Some(v) if php::truthy(v) => {
                    c.values.insert(key.into(), php::int(address));
                }
                Some(v) if !matches!(v, Value::Nil) && c.int(key) == Some(address) => {
                    c.values.remove(key);
                }
                _ => {}
            }
        }
    }
}

/// `customer_address.create(customerId, data)`.
pub(crate) fn address_create(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let cid = id_arg(args.get(0));
    shop.customers.customer(cid).ok_or_else(|| ApiError::api("customer_not_exists"))?;
    let data = args.map(1).unwrap_or_default();
    let mut values = Values::new();
    apply_address(&mut values, &data);
    let errors = validate_address(&values);
    if !errors.is_empty() {
        return Err(ApiError::api_msg("data_invalid", errors.join("\n")));
    }
    let id = shop.customers.allocate_address_id();
    shop.customers.put_address(Address { id, customer_id: cid, values, created_at: now, updated_at: now });
    set_defaults(shop, cid, id, &data);
    Ok(string(id.to_string()))
}

/// `customer_address.update(addressId, data)`.
pub(crate) fn address_update(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let mut a = shop.customers.address(id_arg(args.get(0))).cloned().ok_or_else(|| ApiError::api("not_exists"))?;
    let data = args.map(1).unwrap_or_default();
    apply_address(&mut a.values, &data);
    let errors = validate_address(&a.values);
    if !errors.is_empty() {
        return Err(ApiError::api_msg("data_invalid", errors.join("\n")));
    }
    a.updated_at = now;
    let (cid, aid) = (a.customer_id, a.id);
    shop.customers.put_address(a);
    set_defaults(shop, cid, aid, &data);
    Ok(Value::Boolean(true))
}

/// `customer_address.delete(addressId)`.
pub(crate) fn address_delete(shop: &mut Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    shop.customers.remove_address(id_arg(args.get(0))).ok_or_else(|| ApiError::api("not_exists"))?;
    Ok(Value::Boolean(true))
}
