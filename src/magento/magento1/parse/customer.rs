//! Decoding of customer answers. Secret members (`password_hash`, `confirmation`,
//! `rp_token`) are never read.

use dxr::Value;

use super::{list, opt_text, record, street_lines};
use crate::magento::types::{Customer, CustomerAddress};
use crate::rpc::value::DecodeError;

/// `customer.info`.
pub fn customer(v: &Value) -> Result<Customer, DecodeError> {
    let r = record(v, "customer")?;
    Ok(Customer {
        id: r.i64("customer_id")?,
        email: r.string("email")?,
        firstname: opt_text(&r, "firstname")?,
        middlename: opt_text(&r, "middlename")?,
        lastname: opt_text(&r, "lastname")?,
        prefix: opt_text(&r, "prefix")?,
        suffix: opt_text(&r, "suffix")?,
        group_id: r.opt_i64("group_id")?,
        website_id: r.opt_i64("website_id")?,
        store_id: r.opt_i64("store_id")?,
        created_in: opt_text(&r, "created_in")?,
        dob: r.opt_datetime("dob")?,
        taxvat: opt_text(&r, "taxvat")?,
        gender: r.opt_i64("gender")?,
        default_billing: r.opt_i64("default_billing")?,
        default_shipping: r.opt_i64("default_shipping")?,
        created_at: r.opt_datetime("created_at")?,
        updated_at: r.opt_datetime("updated_at")?,
    })
}

/// `customer_address.list`.
pub fn addresses(v: &Value) -> Result<Vec<CustomerAddress>, DecodeError> {
    list(v, "customer_address.list")?
        .iter()
        .map(|row| {
            let r = record(row, "address")?;
            Ok(CustomerAddress {
                id: r.i64("customer_address_id")?,
                firstname: opt_text(&r, "firstname")?,
                lastname: opt_text(&r, "lastname")?,
                company: opt_text(&r, "company")?,
                street: street_lines(&r, "street")?,
                city: opt_text(&r, "city")?,
                region: opt_text(&r, "region")?,
                region_id: r.opt_i64("region_id")?,
                postcode: opt_text(&r, "postcode")?,
                country_id: opt_text(&r, "country_id")?,
                telephone: opt_text(&r, "telephone")?,
                vat_id: opt_text(&r, "vat_id")?,
                is_default_billing: r.bool("is_default_billing")?,
                is_default_shipping: r.bool("is_default_shipping")?,
            })
        })
        .collect()
}
