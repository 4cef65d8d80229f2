//! Customers and their address book (`customer_entity`, `customer_address_entity`).
//!
//! Attribute values are kept the way they go on the wire (INT columns as `<int>`, the rest as
//! strings, NULL as absent), so `info` and `list` render them directly. Emails are unique per
//! website, compared case-insensitively.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use dxr::Value;

use super::catalog::Values;

/// Customer attributes in `customer.info` order, with whether they are INT columns.
pub(crate) const CUSTOMER_ATTRIBUTES: &[(&str, bool)] = &[
    ("increment_id", false),
    ("store_id", true),
    ("website_id", true),
    ("created_in", false),
    ("prefix", false),
    ("firstname", false),
    ("middlename", false),
    ("lastname", false),
    ("suffix", false),
    ("email", false),
    ("group_id", true),
    ("dob", false),
    ("password_hash", false),
    ("default_billing", true),
    ("default_shipping", true),
    ("taxvat", false),
    ("confirmation", false),
    ("gender", true),
    ("rp_token", false),
    ("rp_token_created_at", false),
    ("disable_auto_group_change", true),
    ("password_created_at", true),
    ("rp_customer_id", true),
];

/// Address attributes in `customer_address.info` order, with whether they are INT columns.
pub(crate) const ADDRESS_ATTRIBUTES: &[(&str, bool)] = &[
    ("increment_id", false),
    ("prefix", false),
    ("firstname", false),
    ("middlename", false),
    ("lastname", false),
    ("suffix", false),
    ("company", false),
    ("street", false),
    ("city", false),
    ("country_id", false),
    ("region", false),
    ("region_id", true),
    ("postcode", false),
    ("telephone", false),
    ("fax", false),
    ("vat_id", false),
    ("vat_is_valid", true),
    ("vat_request_id", false),
    ("vat_request_date", false),
    ("vat_request_success", true),
];

/// A customer account.
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    /// Entity id.
    pub id: i64,
    /// Attribute values (see [`CUSTOMER_ATTRIBUTES`]); absent means NULL.
    pub values: Values,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl Customer {
    /// Text attribute.
    pub(crate) fn text(&self, code: &str) -> Option<String> {
        self.values.get(code).map(super::super::php::to_php_string)
    }

    /// Integer attribute.
    pub(crate) fn int(&self, code: &str) -> Option<i64> {
        self.values.get(code).map(super::super::php::to_int_lenient)
    }
}

/// An address of a customer's address book.
#[derive(Debug, Clone)]
pub(crate) struct Address {
    /// Entity id.
    pub id: i64,
    /// Owner.
    pub customer_id: i64,
    /// Attribute values (see [`ADDRESS_ATTRIBUTES`]).
    pub values: Values,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl Address {
    /// Text attribute.
    pub(crate) fn text(&self, code: &str) -> Option<String> {
        self.values.get(code).map(super::super::php::to_php_string)
    }
}

/// Customers, addresses and the email index.
#[derive(Debug, Default)]
pub(crate) struct Customers {
    customers: BTreeMap<i64, Customer>,
    addresses: BTreeMap<i64, Address>,
    by_email: HashMap<(i64, String), i64>,
    next_customer_id: i64,
    next_address_id: i64,
}

impl Customers {
    /// Empty tables.
    pub(crate) fn new() -> Self {
        Customers { next_customer_id: 1, next_address_id: 1, ..Default::default() }
    }

    /// Allocates a customer id.
    pub(crate) fn allocate_customer_id(&mut self) -> i64 {
        while self.customers.contains_key(&self.next_customer_id) {
            self.next_customer_id += 1;
        }
        let id = self.next_customer_id;
        self.next_customer_id += 1;
        id
    }

    /// Allocates an address id.
    pub(crate) fn allocate_address_id(&mut self) -> i64 {
        while self.addresses.contains_key(&self.next_address_id) {
            self.next_address_id += 1;
        }
        let id = self.next_address_id;
        self.next_address_id += 1;
        id
    }

    /// Customer by id.
    pub(crate) fn customer(&self, id: i64) -> Option<&Customer> {
        self.customers.get(&id)
    }

    /// Every customer by id.
    pub(crate) fn customers(&self) -> impl Iterator<Item = &Customer> {
        self.customers.values()
    }

    /// Number of customers.
    pub(crate) fn count(&self) -> usize {
        self.customers.len()
    }

    /// Customer id owning `email` on `website`.
    pub(crate) fn id_by_email(&self, website: i64, email: &str) -> Option<i64> {
        self.by_email.get(&(website, email.trim().to_lowercase())).copied()
    }

    /// Inserts or replaces a customer, keeping the email index in step.
    pub(crate) fn put_customer(&mut self, c: Customer) {
        if let Some(old) = self.customers.get(&c.id) {
            let key = (old.int("website_id").unwrap_or(0), old.text("email").unwrap_or_default().to_lowercase());
            self.by_email.remove(&key);
        }
        let key = (c.int("website_id").unwrap_or(0), c.text("email").unwrap_or_default().trim().to_lowercase());
        self.by_email.insert(key, c.id);
        self.customers.insert(c.id, c);
    }

    /// Removes a customer and its addresses.
    pub(crate) fn remove_customer(&mut self, id: i64) -> Option<Customer> {
        let c = self.customers.remove(&id)?;
        let key = (c.int("website_id").unwrap_or(0), c.text("email").unwrap_or_default().to_lowercase());
        self.by_email.remove(&key);
        self.addresses.retain(|_, a| a.customer_id != id);
        Some(c)
    }

    /// Address by id.
    pub(crate) fn address(&self, id: i64) -> Option<&Address> {
        self.addresses.get(&id)
    }

    /// Addresses of a customer, by id.
    pub(crate) fn addresses_of(&self, customer: i64) -> Vec<&Address> {
        self.addresses.values().filter(|a| a.customer_id == customer).collect()
    }

    /// Inserts or replaces an address.
    pub(crate) fn put_address(&mut self, a: Address) {
        self.addresses.insert(a.id, a);
    }

    /// Removes an address (and clears the owner's defaults pointing at it).
    pub(crate) fn remove_address(&mut self, id: i64) -> Option<Address> {
        let a = self.addresses.remove(&id)?;
        if let Some(c) = self.customers.get_mut(&a.customer_id) {
            for key in ["default_billing", "default_shipping"] {
                if c.values.get(key) == Some(&Value::Integer(i32::try_from(id).unwrap_or(-1))) {
                    c.values.remove(key);
                }
            }
        }
        Some(a)
    }

    /// Mutable customer by id.
    pub(crate) fn customer_mut(&mut self, id: i64) -> Option<&mut Customer> {
        self.customers.get_mut(&id)
    }
}
