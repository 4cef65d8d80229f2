//! The shop as it stands when the sandbox starts, built from [`crate::sandbox::seed`] plus the
//! facts of the recorded shop that the seed does not describe: category assignments, the
//! configurable `CLO-TSHIRT` (id 19) with its six variants, the `fr` name of category 9, the
//! cart rules, and the seeded orders.
//!
//! Magento-side stock starts at the seed's on-hand quantity of warehouse 1 (website 1); services
//! have no stock management (their `is_in_stock` is the recorded `<boolean>1`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use dxr::Value;
use rust_decimal::Decimal;

use crate::sandbox::seed::{self, ProductKind, TaxKey};

use super::model::catalog::{Catalog, Category, Product, StockItem, SuperAttribute, Values};
use super::model::customers::{Address, Customer, Customers};
use super::model::sales::Sales;
use super::model::{CouponRule, DiscountAction, Shop};
use super::orders::{self, AddressSpec, CustomerSpec, LineSpec, NewAddress, OrderSpec};
use super::php;

/// Category assignments of the recorded shop (`catalog_product.list`).
const CATEGORY_IDS: &[(i64, &[i64])] = &[
    (1, &[6, 7]),
    (2, &[7, 11]),
    (3, &[8]),
    (4, &[8]),
    (5, &[9]),
    (6, &[9]),
    (7, &[10]),
    (8, &[3, 4]),
    (9, &[3, 5]),
    (10, &[9]),
    (11, &[6]),
    (12, &[6]),
    (13, &[3]),
    (14, &[3]),
    (15, &[3]),
    (16, &[3]),
    (17, &[3]),
    (18, &[3]),
    (19, &[3, 4, 5]),
    (22, &[8]),
];

/// A URL key from a name (`Classic T-Shirt` → `classic-t-shirt`).
pub(crate) fn url_key(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn i(v: i64) -> Value {
    php::int(v)
}

fn seed_categories(catalog: &mut Catalog, at: DateTime<Utc>) {
    let mut put = |id: i64,
                   parent: i64,
                   path: &str,
                   position: i64,
                   level: i64,
                   name: &str,
                   active: Option<i64>,
                   url: Option<&str>| {
        let mut values = Values::new();
        values.insert("name".into(), s(name));
        if let Some(a) = active {
            values.insert("is_active".into(), i(a));
        }
        if let Some(u) = url {
            let key = url_key(name);
            values.insert("url_key".into(), s(&key));
            values.insert("url_path".into(), s(u));
            values.insert("include_in_menu".into(), i(1));
            values.insert("is_anchor".into(), i(0));
            values.insert("display_mode".into(), s("PRODUCTS"));
        }
        catalog.put_category(Category {
            id,
            parent_id: parent,
            path: path.into(),
            position,
            level,
            values,
            store_values: BTreeMap::new(),
            created_at: at,
            updated_at: at,
        });
    };
    put(1, 0, "1", 0, 0, "Root Catalog", None, None);
    put(2, 1, "1/2", 1, 1, "Default Category", Some(1), None);
    put(3, 2, "1/2/3", 1, 2, "Clothing", Some(1), Some("clothing.html"));
    put(4, 3, "1/2/3/4", 1, 3, "Men", Some(1), Some("clothing/men.html"));
    put(5, 3, "1/2/3/5", 2, 3, "Women", Some(1), Some("clothing/women.html"));
    put(6, 2, "1/2/6", 2, 2, "Electronics", Some(1), Some("electronics.html"));
    put(7, 6, "1/2/6/7", 1, 3, "Phones", Some(1), Some("electronics/phones.html"));
    put(8, 6, "1/2/6/8", 2, 3, "Accessories", Some(1), Some("electronics/accessories.html"));
    put(9, 2, "1/2/9", 3, 2, "Home & Garden", Some(1), Some("home-garden.html"));
    put(10, 2, "1/2/10", 4, 2, "Books", Some(1), Some("books.html"));
    put(11, 2, "1/2/11", 5, 2, "Sale", Some(0), Some("sale.html"));
    put(12, 1, "1/12", 2, 1, "Wholesale Root", Some(1), None);
    // The recorded shop has a French name for "Home & Garden" only.
    if let Some(c) = catalog.category_mut(9) {
        c.store_values.entry(2).or_default().insert("name".into(), s("Maison & Jardin"));
    }
}

fn base_product(id: i64, sku: &str, type_id: &str, set_id: i64, at: DateTime<Utc>) -> Product {
    let mut values = Values::new();
    values.insert("status".into(), i(1));
    values.insert("visibility".into(), i(4));
    values.insert("options_container".into(), s("container1"));
    Product {
        id,
        sku: sku.into(),
        type_id: type_id.into(),
        set_id,
        values,
        store_values: BTreeMap::new(),
        website_ids: BTreeSet::from([1]),
        category_ids: BTreeSet::new(),
        created_at: at,
        updated_at: at,
        has_options: 0,
        required_options: 0,
        stock: StockItem::managed(Decimal::ZERO),
        media: Vec::new(),
        children: Vec::new(),
        super_attributes: Vec::new(),
    }
}

fn seed_products(catalog: &mut Catalog, at: DateTime<Utc>) {
    let dec = |v: &str| v.parse::<Decimal>().unwrap_or_default();
    for sp in seed::products() {
        let (Some(id), Some(sku)) = (sp.magento_id, sp.sku.as_deref()) else {
            continue;
        };
        let type_id = if sp.kind == ProductKind::Service { "virtual" } else { "simple" };
        let mut p = base_product(id, sku, type_id, sp.attribute_set, at);
        let v = &mut p.values;
        v.insert("name".into(), s(&sp.name));
        v.insert("description".into(), s(&sp.description));
        v.insert("short_description".into(), s(&sp.short_description));
        v.insert("price".into(), php::money(dec(sp.price)));
        if type_id == "simple" {
            v.insert("weight".into(), php::money(dec(sp.weight)));
        }
        v.insert("tax_class_id".into(), i(if sp.tax == TaxKey::NoTax { 0 } else { 2 }));
        let key = url_key(&sp.name);
        v.insert("url_path".into(), s(&format!("{key}.html")));
        v.insert("url_key".into(), s(&key));
        if sku.starts_with("CLO-TSHIRT-") {
            v.insert("visibility".into(), i(1));
            let parts: Vec<&str> = sku.split('-').collect();
            let color = if parts.get(2) == Some(&"RED") { 3 } else { 4 };
            let size = match parts.get(3) {
                Some(&"S") => 7,
                Some(&"M") => 8,
                _ => 9,
            };
            v.insert("color".into(), i(color));
            v.insert("size".into(), i(size));
        }
        p.stock = if type_id == "virtual" {
            StockItem::unmanaged()
        } else {
            StockItem::managed(Decimal::try_from(sp.stock[0].on_hand).unwrap_or_default())
        };
        p.category_ids = CATEGORY_IDS
            .iter()
            .find(|(pid, _)| *pid == id)
            .map(|(_, c)| c.iter().copied().collect())
            .unwrap_or_default();
        catalog.put_product(p);
    }
    // The configurable parent of the T-shirt variants.
    let mut parent = base_product(19, seed::CONFIGURABLE_SKU, "configurable", 9, at);
    let v = &mut parent.values;
    v.insert("name".into(), s("Classic T-Shirt"));
    v.insert("description".into(), s("100% cotton classic T-Shirt."));
    v.insert("short_description".into(), s("Classic cotton T-Shirt"));
    v.insert("price".into(), php::money(dec("19.90")));
    v.insert("tax_class_id".into(), i(2));
    v.insert("url_key".into(), s("classic-t-shirt"));
    v.insert("url_path".into(), s("classic-t-shirt.html"));
    parent.has_options = 1;
    parent.required_options = 1;
    parent.stock = StockItem { is_in_stock: true, ..StockItem::managed(Decimal::ZERO) };
    parent.children = (13..=18).collect();
    parent.super_attributes = vec![
        SuperAttribute { attribute_id: 94, code: "color", label: "Color", pricing: Vec::new() },
        SuperAttribute { attribute_id: 134, code: "size", label: "Size", pricing: vec![(9, dec("2.00"))] },
    ];
    parent.category_ids = BTreeSet::from([3, 4, 5]);
    catalog.put_product(parent);
}

fn seed_customers(
    customers: &mut Customers,
    stores: &[seed::SeedStoreView],
    rng: &mut fastrand::Rng,
    at: DateTime<Utc>,
) {
    for sc in seed::customers() {
        let Some(id) = sc.magento_id else { continue };
        let store_name = stores.iter().find(|st| st.store_id == sc.store_id).map_or("Default Store View", |st| st.name);
        let mut v = Values::new();
        v.insert("store_id".into(), i(sc.store_id));
        v.insert("website_id".into(), i(sc.website_id));
        v.insert("created_in".into(), s(store_name));
        v.insert("firstname".into(), s(sc.firstname));
        v.insert("lastname".into(), s(sc.lastname));
        v.insert("email".into(), s(sc.email));
        v.insert("group_id".into(), i(sc.group_id));
        v.insert("password_hash".into(), s(&password_hash(rng)));
        v.insert("confirmation".into(), s(&hex(rng, 32)));
        v.insert("disable_auto_group_change".into(), i(0));
        match id {
            1 => {
                v.insert("dob".into(), s("1980-05-17 00:00:00"));
            }
            2 => {
                v.insert("taxvat".into(), s("US-123456789"));
            }
            _ => {}
        }
        for a in &sc.addresses {
            let aid = customers.allocate_address_id();
            let mut av = Values::new();
            av.insert("firstname".into(), s(a.firstname));
            av.insert("lastname".into(), s(a.lastname));
            if let Some(c) = a.company {
                av.insert("company".into(), s(c));
            }
            av.insert("street".into(), s(&a.street.join("\n")));
            av.insert("city".into(), s(a.city));
            av.insert("country_id".into(), s(a.country));
            if let Some(r) = a.region {
                av.insert("region".into(), s(r));
            }
            if let Some(r) = a.region_id {
                av.insert("region_id".into(), i(r));
            }
            av.insert("postcode".into(), s(a.postcode));
            av.insert("telephone".into(), s(a.telephone));
            customers.put_address(Address { id: aid, customer_id: id, values: av, created_at: at, updated_at: at });
            if a.default_billing {
                v.insert("default_billing".into(), i(aid));
            }
            if a.default_shipping {
                v.insert("default_shipping".into(), i(aid));
            }
        }
        customers.put_customer(Customer { id, values: v, created_at: at, updated_at: at });
    }
}

fn hex(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n).map(|_| char::from_digit(rng.u32(0..16), 16).unwrap_or('0')).collect()
}

/// A hash in OpenMage's `sha256:salt` shape (never a real password).
pub(crate) fn password_hash(rng: &mut fastrand::Rng) -> String {
    let salt: String = (0..32).map(|_| rng.alphanumeric()).collect();
    format!("{}:{salt}", hex(rng, 64))
}

/// The cart rules: `CONNECTOR10` (as recorded) and `SAVE5` (5.00 off the cart).
pub(crate) fn coupons() -> Vec<CouponRule> {
    vec![
        CouponRule {
            rule_id: 1,
            code: "CONNECTOR10".into(),
            name: "Connector 10% coupon".into(),
            label: "Coupon 10%".into(),
            action: DiscountAction::Percent(Decimal::TEN),
        },
        CouponRule {
            rule_id: 2,
            code: "SAVE5".into(),
            name: "Save 5 on the cart".into(),
            label: "Save 5.00".into(),
            action: DiscountAction::CartFixed(Decimal::new(5, 0)),
        },
    ]
}

/// Guest details of the seed's guest-only person.
fn guest() -> (CustomerSpec, NewAddress) {
    let g = seed::customers().into_iter().find(|c| c.magento_id.is_none()).map(|c| {
        let addr = c.addresses.first().map(NewAddress::from_seed);
        (
            CustomerSpec::Guest { email: c.email.into(), firstname: c.firstname.into(), lastname: c.lastname.into() },
            addr,
        )
    });
    match g {
        Some((spec, Some(addr))) => (spec, addr),
        _ => (
            CustomerSpec::Guest {
                email: "guest.buyer@example.org".into(),
                firstname: "Grace".into(),
                lastname: "Guest".into(),
            },
            NewAddress {
                firstname: "Grace".into(),
                lastname: "Guest".into(),
                company: None,
                street: vec!["1 Liberty Plaza".into()],
                city: "New York".into(),
                region_id: Some(43),
                region: None,
                postcode: "10006".into(),
                country_id: "US".into(),
                telephone: "646-555-0177".into(),
            },
        ),
    }
}

/// The seeded orders, oldest first: see the module docs of `magento1` for what each shows.
pub(crate) fn seed_order_specs(start: DateTime<Utc>) -> Vec<OrderSpec> {
    let at = |minutes_ago: i64| Some(start - Duration::minutes(minutes_ago));
    let (guest, guest_address) = guest();
    let mut v = Vec::new();
    // 100000001: John, CONNECTOR10, billing NY / shipping CA typed at checkout (as recorded:
    // not picked from the address book), tax after discount.
    let john = seed::customers().into_iter().find(|c| c.magento_id == Some(1)).map(|c| c.addresses).unwrap_or_default();
    let typed =
        |i: usize| john.get(i).map_or(AddressSpec::Book(i as i64 + 1), |a| AddressSpec::New(NewAddress::from_seed(a)));
    let mut o = OrderSpec::new(
        1,
        CustomerSpec::Registered(1),
        typed(1),
        vec![LineSpec::new("ELEC-PHN-001", 1).by_id(), LineSpec::new("HOME-001", 3), LineSpec::new("BOOK-001", 1)],
    );
    o.shipping = Some(typed(0));
    o.coupon = Some("CONNECTOR10".into());
    o.created_at = at(70);
    v.push(o);
    // 100000002: guest, configurable (parent + child rows), NY tax, a virtual item.
    let mut o = OrderSpec::new(
        1,
        guest.clone(),
        AddressSpec::New(guest_address.clone()),
        vec![
            LineSpec::configurable(seed::CONFIGURABLE_SKU, "CLO-TSHIRT-BLUE-L", 2).by_id(),
            LineSpec::new("ELEC-ACC-002", 1),
            LineSpec::new("SRV-WARRANTY-2Y", 1),
        ],
    );
    o.created_at = at(60);
    v.push(o);
    // 200000001: Emily in store fr, EUR, address book, configurable.
    let mut o = OrderSpec::new(
        2,
        CustomerSpec::Registered(4),
        AddressSpec::Book(6),
        vec![LineSpec::new("HOME-003", 1), LineSpec::configurable(seed::CONFIGURABLE_SKU, "CLO-TSHIRT-RED-S", 1)],
    );
    o.created_at = at(50);
    v.push(o);
    // 100000003: Jane (wholesale group), SAVE5 fixed discount, billing NY, shipping CA.
    let mut o = OrderSpec::new(
        1,
        CustomerSpec::Registered(2),
        AddressSpec::Book(3),
        vec![LineSpec::new("HOME-002", 2), LineSpec::new("CLO-W-001", 1)],
    );
    o.shipping = Some(AddressSpec::Book(4));
    o.coupon = Some("SAVE5".into());
    o.created_at = at(40);
    v.push(o);
    // 100000004: Carlos (TX, no tax rule), with the SKU OpenERP does not know.
    let mut o = OrderSpec::new(
        1,
        CustomerSpec::Registered(3),
        AddressSpec::Book(5),
        vec![LineSpec::new(seed::MAGENTO_ONLY_SKU, 1), LineSpec::new("ELEC-ACC-001", 2)],
    );
    o.created_at = at(30);
    v.push(o);
    // 100000005: John again, shipping to a new address in CA, shipping taxed.
    let mut o = OrderSpec::new(
        1,
        CustomerSpec::Registered(1),
        AddressSpec::Book(1),
        vec![LineSpec::new("ELEC-ACC-002", 1), LineSpec::new("CLO-M-001", 1)],
    );
    o.shipping = Some(AddressSpec::New(NewAddress {
        firstname: "John".into(),
        lastname: "Doe".into(),
        company: None,
        street: vec!["88 Harbor Blvd".into()],
        city: "San Diego".into(),
        region_id: Some(12),
        region: None,
        postcode: "92101".into(),
        country_id: "US".into(),
        telephone: "619-555-0100".into(),
    }));
    o.tax_shipping = true;
    o.created_at = at(20);
    v.push(o);
    // 300000001: a guest in the wholesale store (website 2).
    let mut o = OrderSpec::new(3, guest, AddressSpec::New(guest_address), vec![LineSpec::new("ELEC-ACC-001", 10)]);
    o.created_at = at(10);
    v.push(o);
    v
}

/// Builds the shop at start.
pub(crate) fn build_shop(
    base_url: String,
    openmage_version: &'static str,
    seed_value: u64,
    now: DateTime<Utc>,
) -> Shop {
    let seeded_at = now - Duration::hours(2);
    let mut rng = fastrand::Rng::with_seed(seed_value);
    let mut catalog = Catalog::new(20, 13);
    seed_categories(&mut catalog, seeded_at);
    seed_products(&mut catalog, seeded_at);
    let stores = seed::store_views();
    let mut customers = Customers::new();
    seed_customers(&mut customers, &stores, &mut rng, seeded_at);
    let mut shop = Shop {
        stores,
        catalog,
        customers,
        sales: Sales::default(),
        coupons: coupons(),
        base_url,
        openmage_version,
        rng,
    };
    for spec in seed_order_specs(now) {
        if let Err(e) = orders::place_order(&mut shop, &spec, now) {
            tracing::error!("seeded order could not be placed: {e}");
        }
    }
    shop
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_keys_are_slugs() {
        assert_eq!(url_key("Classic T-Shirt"), "classic-t-shirt");
        assert_eq!(url_key("Home & Garden"), "home-garden");
        assert_eq!(url_key("Men's Leather Belt"), "men-s-leather-belt");
    }

    #[test]
    fn the_seeded_shop_has_the_recorded_structure() {
        let shop = build_shop("http://127.0.0.1:1".into(), "19.4.23", 7, Utc::now());
        let c = &shop.catalog;
        assert_eq!(c.product(19).map(|p| p.type_id.as_str()), Some("configurable"));
        assert_eq!(c.id_by_sku(seed::MAGENTO_ONLY_SKU), Some(22));
        assert_eq!(c.id_by_sku("ELEC-OLD-001"), Some(11));
        assert_eq!(c.id_by_sku("API-LAMP-001"), None);
        assert_eq!(c.category(12).map(|c| c.name(0)), Some("Wholesale Root".into()));
        assert_eq!(c.category(9).map(|c| c.name(2)), Some("Maison & Jardin".into()));
        assert_eq!(shop.customers.count(), 4);
        let incs: Vec<String> = shop.sales.orders().map(|o| o.increment_id.clone()).collect();
        assert_eq!(incs, ["100000001", "100000002", "200000001", "100000003", "100000004", "100000005", "300000001"]);
        let o1 = shop.sales.order_by_increment("100000001").unwrap();
        assert_eq!(o1.base.grand_total, "230.28".parse::<Decimal>().unwrap());
        let o2 = shop.sales.order_by_increment("100000002").unwrap();
        assert_eq!(o2.items.len(), 4, "configurable gives a parent and a child row");
        assert_eq!(o2.items[1].parent_item_id, Some(o2.items[0].id));
    }
}
