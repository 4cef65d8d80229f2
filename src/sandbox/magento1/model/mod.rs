//! The sandbox shop's data: store structure, catalog, customers, sales, sales rules and the
//! tax table. Plain data with indexes; the API semantics live in `resources`, the order maths
//! in `orders`.
//!
//! Everything sits behind one mutex in the sandbox (one "database"); nothing here does I/O.

pub(crate) mod attributes;
pub(crate) mod catalog;
pub(crate) mod customers;
pub(crate) mod sales;

use dxr::Value;
use rust_decimal::Decimal;

use crate::sandbox::seed::SeedStoreView;

use super::php;

/// A cart price rule usable by the order builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponRule {
    /// Rule id (`applied_rule_ids`).
    pub rule_id: i64,
    /// Coupon code.
    pub code: String,
    /// Rule name (`coupon_rule_name`).
    pub name: String,
    /// Store label (`discount_description`).
    pub label: String,
    /// What it takes off.
    pub action: DiscountAction,
}

/// How a rule discounts the cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountAction {
    /// `by_percent`: this percentage of every row.
    Percent(Decimal),
    /// `cart_fixed`: this amount (base currency) off the whole cart, spread over the rows.
    CartFixed(Decimal),
}

/// The shop.
#[derive(Debug)]
pub(crate) struct Shop {
    /// Store views (admin store 0 not included).
    pub stores: Vec<SeedStoreView>,
    /// Catalog.
    pub catalog: catalog::Catalog,
    /// Customers.
    pub customers: customers::Customers,
    /// Sales.
    pub sales: sales::Sales,
    /// Cart price rules.
    pub coupons: Vec<CouponRule>,
    /// `http://host:port` of the sandbox (media URLs).
    pub base_url: String,
    /// `openmage_version` reported by `magento.info`.
    pub openmage_version: &'static str,
    /// Randomness for protect codes and password hashes (seeded).
    pub rng: fastrand::Rng,
}

/// Why a store argument could not be resolved (`store_not_exists`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoSuchStore;

impl Shop {
    /// Store view by id (not the admin store).
    pub(crate) fn store(&self, id: i64) -> Option<&SeedStoreView> {
        self.stores.iter().find(|s| s.store_id == id)
    }

    /// `Mage::app()->getStore($store)->getId()`: `null`, `''` and `false` are the admin store
    /// 0 (the API runs in the admin area); ids and codes must exist.
    pub(crate) fn resolve_store(&self, v: Option<&Value>) -> Result<i64, NoSuchStore> {
        let key = match v {
            None | Some(Value::Nil) | Some(Value::Boolean(_)) => return Ok(0),
            Some(Value::String(s)) if s.is_empty() => return Ok(0),
            Some(Value::Integer(i)) => i.to_string(),
            Some(Value::Long(i)) => i.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(NoSuchStore),
        };
        if key == "0" || key == "admin" {
            return Ok(0);
        }
        if let Some(id) = php::int_of_numeric(&key) {
            return self.store(id).map(|s| s.store_id).ok_or(NoSuchStore);
        }
        self.stores.iter().find(|s| s.code == key).map(|s| s.store_id).ok_or(NoSuchStore)
    }

    /// Website of a store (0 for admin).
    pub(crate) fn website_of(&self, store: i64) -> i64 {
        self.store(store).map_or(0, |s| s.website_id)
    }

    /// Store views of a website.
    pub(crate) fn stores_of_website(&self, website: i64) -> Vec<i64> {
        self.stores.iter().filter(|s| s.website_id == website).map(|s| s.store_id).collect()
    }

    /// Website ids that exist.
    pub(crate) fn website_ids(&self) -> Vec<i64> {
        let mut w: Vec<i64> = self.stores.iter().map(|s| s.website_id).collect();
        w.sort_unstable();
        w.dedup();
        w
    }

    /// Website id by id or code (`base`, `wholesale`…).
    pub(crate) fn resolve_website(&self, v: &Value) -> Option<i64> {
        let s = php::to_php_string(v);
        if let Some(id) = php::int_of_numeric(&s) {
            return self.website_ids().contains(&id).then_some(id);
        }
        self.stores.iter().find(|st| website_code(st) == s).map(|st| st.website_id)
    }

    /// `Website\nGroup\nView` as orders store it.
    pub(crate) fn store_name(&self, store: i64) -> String {
        self.store(store).map(|s| format!("{}\n{}\n{}", s.website_name, s.group_name, s.name)).unwrap_or_default()
    }

    /// Tax rate (percent) for a product tax class shipped to a country/region, from the shop's
    /// tax rules: Retail Customer + Taxable Goods = 8.25 % in CA, 8.375 % in NY, nothing else.
    pub(crate) fn tax_rate(&self, tax_class_id: i64, country: &str, region_id: Option<i64>) -> Decimal {
        if tax_class_id == 0 || country != "US" {
            return Decimal::ZERO;
        }
        match region_id {
            Some(12) => Decimal::new(825, 2),
            Some(43) => Decimal::new(8375, 3),
            _ => Decimal::ZERO,
        }
    }

    /// A random lowercase hex string of `n` characters.
    pub(crate) fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from_digit(self.rng.u32(0..16), 16).unwrap_or('0')).collect()
    }
}

/// Website code of a store view's website (`base` for website 1, as Magento installs it).
pub(crate) fn website_code(s: &SeedStoreView) -> String {
    if s.website_id == 1 {
        "base".to_owned()
    } else {
        s.website_name.split_whitespace().next().unwrap_or("website").to_lowercase()
    }
}
