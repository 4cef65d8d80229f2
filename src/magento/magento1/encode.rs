//! Argument lists of every Magento 1 API call the client makes (pure functions).
//!
//! Wire rules enforced here (protocols.md A.2.1, A.4, A.8):
//! * the args of `call` are always one `<array>` of positional arguments (built by the
//!   caller from the `Vec<Value>` these functions return);
//! * every product call by SKU passes `identifierType = 'sku'`, so numeric SKUs are not taken
//!   for entity ids (the stock calls have no such argument: they try SKU first);
//! * a store placeholder before a later argument is `false` (admin store), never `<nil/>`;
//!   the attributes placeholder is `false`, never `[]`; trailing optional arguments are left
//!   out;
//! * amounts and quantities go as decimal strings, dates as `'YYYY-MM-DD HH:MM:SS'` UTC
//!   strings; nothing is sent as `dateTime.iso8601` or `<ex:nil/>`;
//! * image content is base64 text inside a `<string>`, the file name has no extension.

use base64::Engine as _;
use dxr::Value;

use crate::magento::types::{
    AttrValue, Attributes, CategoryUpdate, InvoiceRequest, ItemQuantities, NewCategory, NewImage, NewProduct,
    OrderComment, OrderFilter, ProductData, ProductFilter, ProductUpdate, Scope, ShipmentRequest, StockUpdate, Track,
};
use crate::rpc::value::{self, Map};

/// Most SKUs sent in one `catalog_product.list` or `cataloginventory_stock_item.list` call.
pub const SKUS_PER_LIST: usize = 200;

/// `'sku'`: the identifierType argument.
fn sku_type() -> Value {
    value::string("sku")
}

/// Store argument: `false` (admin / default values) or the store view id.
pub fn store_arg(scope: Scope) -> Value {
    match scope {
        Scope::Default => value::boolean(false),
        Scope::Store(id) => value::id(id),
    }
}

/// A flag as Magento's EAV flags expect it (`1`/`0`).
fn flag(b: bool) -> Value {
    value::int(i32::from(b))
}

/// One attribute value.
pub fn attr_value(v: &AttrValue) -> Value {
    match v {
        AttrValue::Text(s) => value::string(s.clone()),
        AttrValue::Int(i) => value::id(*i),
        AttrValue::Decimal(d) => value::decimal_string(*d),
        AttrValue::Bool(b) => flag(*b),
        AttrValue::List(items) => value::array(items.iter().map(attr_value)),
        AttrValue::Clear => value::string(""),
    }
}

fn put_attributes(m: &mut Map, attrs: &Attributes) {
    for (k, v) in attrs {
        m.insert(k.clone(), attr_value(v));
    }
}

fn ids(list: &[i64]) -> Value {
    value::array(list.iter().map(|i| value::id(*i)))
}

/// The `productData` struct of a create or update.
pub fn product_data(d: &ProductData) -> Value {
    let mut m = Map::new();
    put_attributes(&mut m, &d.attributes);
    let mut text = |k: &str, v: &Option<String>| {
        if let Some(s) = v {
            m.insert(k.to_owned(), value::string(s.clone()));
        }
    };
    text("name", &d.name);
    text("description", &d.description);
    text("short_description", &d.short_description);
    text("url_key", &d.url_key);
    for (k, v) in [("price", d.price), ("special_price", d.special_price), ("weight", d.weight)] {
        if let Some(x) = v {
            m.insert(k.to_owned(), value::decimal_string(x));
        }
    }
    if let Some(e) = d.enabled {
        m.insert("status".into(), value::int(if e { 1 } else { 2 }));
    }
    if let Some(v) = d.visibility {
        m.insert("visibility".into(), value::id(v.id()));
    }
    if let Some(t) = d.tax_class_id {
        m.insert("tax_class_id".into(), value::id(t));
    }
    if let Some(w) = &d.website_ids {
        m.insert("website_ids".into(), ids(w));
    }
    if let Some(c) = &d.category_ids {
        m.insert("categories".into(), ids(c));
    }
    if let Some(s) = &d.stock {
        let mut sd = Map::new();
        if let Some(q) = s.qty {
            sd.insert("qty".into(), value::decimal_string(q));
        }
        if let Some(b) = s.is_in_stock {
            sd.insert("is_in_stock".into(), flag(b));
        }
        if let Some(b) = s.manage_stock {
            sd.insert("manage_stock".into(), flag(b));
            sd.insert("use_config_manage_stock".into(), value::int(0));
        }
        m.insert("stock_data".into(), Value::Struct(sd));
    }
    Value::Struct(m)
}

/// `catalog_product.create(type, set, sku, productData)`.
pub fn product_create(p: &NewProduct) -> Vec<Value> {
    vec![
        value::string(p.type_id.clone()),
        value::id(p.attribute_set_id),
        value::string(p.sku.clone()),
        product_data(&p.data),
    ]
}

/// `catalog_product.update(sku, productData, store|false, 'sku')`.
pub fn product_update(u: &ProductUpdate) -> Vec<Value> {
    vec![value::string(u.sku.clone()), product_data(&u.data), store_arg(u.scope), sku_type()]
}

/// `catalog_product.update(sku, {status: 2}, false, 'sku')`.
pub fn product_disable(sku: &str) -> Vec<Value> {
    vec![value::string(sku), value::structure([("status", value::int(2))]), store_arg(Scope::Default), sku_type()]
}

/// `catalog_product.info(sku, store|false, false, 'sku')`: all attributes.
pub fn product_info(sku: &str, scope: Scope) -> Vec<Value> {
    vec![value::string(sku), store_arg(scope), value::boolean(false), sku_type()]
}

/// `catalog_product.list(filters)` argument lists: one call per chunk of SKUs (or one call).
pub fn product_list(f: &ProductFilter) -> Vec<Vec<Value>> {
    let mut base = Map::new();
    if let Some(since) = &f.updated_since {
        base.insert("updated_at".into(), value::structure([("from", value::string(value::format_datetime(since)))]));
    }
    if let Some(t) = &f.type_id {
        base.insert("type".into(), value::structure([("eq", value::string(t.clone()))]));
    }
    match &f.skus {
        None => vec![vec![Value::Struct(base)]],
        Some(skus) => skus
            .chunks(SKUS_PER_LIST)
            .map(|chunk| {
                let mut m = base.clone();
                m.insert("sku".into(), sku_in(chunk));
                vec![Value::Struct(m)]
            })
            .collect(),
    }
}

/// `{in: [skus]}`.
fn sku_in(skus: &[String]) -> Value {
    value::structure([("in", value::array(skus.iter().map(|s| value::string(s.clone()))))])
}

/// `catalog_product.list({sku: {in: [...]}})`: existence check by SKU.
pub fn product_lookup(skus: &[String]) -> Vec<Value> {
    vec![value::structure([("sku", sku_in(skus))])]
}

/// The `categoryData` of a create.
pub fn category_create(parent_id: i64, c: &NewCategory) -> Vec<Value> {
    let mut m = Map::new();
    put_attributes(&mut m, &c.attributes);
    m.insert("name".into(), value::string(c.name.clone()));
    m.insert("is_active".into(), flag(c.is_active));
    m.insert("include_in_menu".into(), flag(c.include_in_menu));
    m.insert("is_anchor".into(), flag(c.is_anchor));
    m.insert("available_sort_by".into(), value::array(c.available_sort_by.iter().map(|s| value::string(s.clone()))));
    m.insert("default_sort_by".into(), value::string(c.default_sort_by.clone()));
    vec![value::id(parent_id), Value::Struct(m)]
}

/// `catalog_category.update(id, data[, store])`.
pub fn category_update(id: i64, u: &CategoryUpdate, scope: Scope) -> Vec<Value> {
    let mut m = Map::new();
    put_attributes(&mut m, &u.attributes);
    if let Some(n) = &u.name {
        m.insert("name".into(), value::string(n.clone()));
    }
    if let Some(b) = u.is_active {
        m.insert("is_active".into(), flag(b));
    }
    if let Some(b) = u.include_in_menu {
        m.insert("include_in_menu".into(), flag(b));
    }
    let mut args = vec![value::id(id), Value::Struct(m)];
    if let Scope::Store(_) = scope {
        args.push(store_arg(scope));
    }
    args
}

/// `catalog_category.move(id, parentId[, afterId])`.
pub fn category_move(id: i64, parent_id: i64, after_id: Option<i64>) -> Vec<Value> {
    let mut args = vec![value::id(id), value::id(parent_id)];
    if let Some(a) = after_id {
        args.push(value::id(a));
    }
    args
}

/// `catalog_category.tree(rootId[, store])`; the technical root is id 1.
pub fn category_tree(root_id: Option<i64>, scope: Scope) -> Vec<Value> {
    let mut args = vec![value::id(root_id.unwrap_or(1))];
    if let Scope::Store(_) = scope {
        args.push(store_arg(scope));
    }
    args
}

/// `catalog_category.info(id[, store])`.
pub fn category_info(id: i64, scope: Scope) -> Vec<Value> {
    let mut args = vec![value::id(id)];
    if let Scope::Store(_) = scope {
        args.push(store_arg(scope));
    }
    args
}

/// `catalog_category.level(websiteId)`: the root categories of a website's store views.
pub fn category_level_of_website(website_id: i64) -> Vec<Value> {
    vec![value::id(website_id)]
}

/// `catalog_category.tree(null, storeId)`: the tree under a store view's root. The only call
/// that sends `<nil/>`; used only when a website has several different roots.
pub fn category_tree_of_store(store_id: i64) -> Vec<Value> {
    vec![Value::Nil, value::id(store_id)]
}

/// `catalog_product_attribute_media.list(sku, false, 'sku')`.
pub fn media_list(sku: &str) -> Vec<Value> {
    vec![value::string(sku), store_arg(Scope::Default), sku_type()]
}

/// File name without its extension (Magento appends one from the MIME type).
pub fn image_base_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_owned(),
        _ => base.to_owned(),
    }
}

/// `catalog_product_attribute_media.create(sku, data, false, 'sku')`.
pub fn media_create(sku: &str, img: &NewImage) -> Vec<Value> {
    let file = value::structure([
        ("content", value::string(base64::engine::general_purpose::STANDARD.encode(&img.content))),
        ("mime", value::string(img.mime.as_str())),
        ("name", value::string(image_base_name(&img.name))),
    ]);
    let mut m = Map::new();
    m.insert("file".into(), file);
    if let Some(l) = &img.label {
        m.insert("label".into(), value::string(l.clone()));
    }
    if let Some(p) = img.position {
        m.insert("position".into(), value::id(p));
    }
    m.insert("types".into(), value::array(img.roles.iter().map(|r| value::string(r.code()))));
    m.insert("exclude".into(), flag(img.disabled));
    vec![value::string(sku), Value::Struct(m), store_arg(Scope::Default), sku_type()]
}

/// `catalog_product_attribute_media.remove(sku, file, 'sku')`.
pub fn media_remove(sku: &str, file: &str) -> Vec<Value> {
    vec![value::string(sku), value::string(file), sku_type()]
}

/// `cataloginventory_stock_item.list([skus])`: one positional argument, the list.
pub fn stock_list(skus: &[String]) -> Vec<Value> {
    vec![value::array(skus.iter().map(|s| value::string(s.clone())))]
}

/// `cataloginventory_stock_item.update(sku, data)`.
pub fn stock_update(u: &StockUpdate) -> Vec<Value> {
    let mut m = Map::new();
    if let Some(q) = u.qty {
        m.insert("qty".into(), value::decimal_string(q));
    }
    if let Some(b) = u.is_in_stock {
        m.insert("is_in_stock".into(), flag(b));
    }
    if let Some(b) = u.manage_stock {
        m.insert("manage_stock".into(), flag(b));
        m.insert("use_config_manage_stock".into(), value::int(0));
    }
    if let Some(b) = u.backorders {
        m.insert("backorders".into(), value::id(b.code()));
        m.insert("use_config_backorders".into(), value::int(0));
    }
    vec![value::string(u.sku.clone()), Value::Struct(m)]
}

/// `sales_order.list(filters)`.
pub fn order_list(f: &OrderFilter) -> Vec<Value> {
    let mut m = Map::new();
    let mut created = Map::new();
    if let Some(d) = &f.created_from {
        created.insert("from".into(), value::string(value::format_datetime(d)));
    }
    if let Some(d) = &f.created_to {
        created.insert("to".into(), value::string(value::format_datetime(d)));
    }
    if !created.is_empty() {
        m.insert("created_at".into(), Value::Struct(created));
    }
    if let Some(d) = &f.updated_from {
        m.insert("updated_at".into(), value::structure([("from", value::string(value::format_datetime(d)))]));
    }
    if !f.statuses.is_empty() {
        m.insert(
            "status".into(),
            value::structure([("in", value::array(f.statuses.iter().map(|s| value::string(s.clone()))))]),
        );
    }
    if !f.store_ids.is_empty() {
        m.insert("store_id".into(), value::structure([("in", ids(&f.store_ids))]));
    }
    vec![Value::Struct(m)]
}

/// `sales_order_shipment.list(filters)`: the shipments of one order (by order entity id).
pub fn shipment_list_of_order(order_entity_id: i64) -> Vec<Value> {
    vec![value::structure([("order_id", value::structure([("eq", value::string(order_entity_id.to_string()))]))])]
}

/// `sales_order.addComment(incrementId, status|false, comment, notify)`; `false` keeps the
/// current status.
pub fn order_comment(increment_id: &str, c: &OrderComment) -> Vec<Value> {
    let status = match &c.status {
        Some(s) => value::string(s.clone()),
        None => value::boolean(false),
    };
    vec![value::string(increment_id), status, value::string(c.comment.clone()), value::boolean(c.notify)]
}

/// `{ "<order item id>": "<qty>" }`.
fn quantities(q: &ItemQuantities) -> Value {
    Value::Struct(q.iter().map(|(id, qty)| (id.to_string(), value::decimal_string(*qty))).collect())
}

/// `sales_order_invoice.create(incrementId, itemsQty[, comment, email, includeComment])`.
/// Without comment and e-mail the trailing arguments are left out (Magento would store an
/// empty comment otherwise).
pub fn invoice_create(increment_id: &str, r: &InvoiceRequest) -> Vec<Value> {
    let mut args = vec![value::string(increment_id), quantities(&r.items)];
    if r.comment.is_some() || r.notify || r.include_comment {
        args.push(value::string(r.comment.clone().unwrap_or_default()));
        args.push(value::boolean(r.notify));
        args.push(value::boolean(r.include_comment));
    }
    args
}

/// `sales_order_shipment.create(incrementId, itemsQty[, comment, email, includeComment])`.
pub fn shipment_create(increment_id: &str, r: &ShipmentRequest) -> Vec<Value> {
    let mut args = vec![value::string(increment_id), quantities(&r.items)];
    if r.comment.is_some() || r.notify || r.include_comment {
        args.push(value::string(r.comment.clone().unwrap_or_default()));
        args.push(value::boolean(r.notify));
        args.push(value::boolean(r.include_comment));
    }
    args
}

/// `sales_order_shipment.addTrack(shipmentIncrementId, carrier, title, number)`.
pub fn add_track(shipment_increment_id: &str, t: &Track) -> Vec<Value> {
    vec![
        value::string(shipment_increment_id),
        value::string(t.carrier_code.clone()),
        value::string(t.title.clone()),
        value::string(t.number.clone()),
    ]
}

/// The `calls` argument of `multiCall`: `[[path, [args]], …]`.
pub fn multicall_calls<'a>(calls: impl IntoIterator<Item = (&'a str, &'a [Value])>) -> Value {
    value::array(calls.into_iter().map(|(path, args)| value::array([value::string(path), Value::Array(args.to_vec())])))
}

/// Parameters of `call(sessionId, path, args)`.
pub fn call_params(session_id: &str, path: &str, args: &[Value]) -> Vec<Value> {
    vec![value::string(session_id), value::string(path), Value::Array(args.to_vec())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::magento::types::{Backorders, ImageMime, ImageRole, StockData, Visibility};
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn product_calls_by_sku_always_say_sku_and_use_false_placeholders() {
        let args = product_info("1001", Scope::Default);
        assert_eq!(
            args,
            vec![value::string("1001"), value::boolean(false), value::boolean(false), value::string("sku")]
        );
        let args = product_info("1001", Scope::Store(2));
        assert_eq!(args[1], value::int(2));
        let u = ProductUpdate {
            sku: "1001".into(),
            scope: Scope::Default,
            data: ProductData { price: Some(dec("12.30")), ..Default::default() },
        };
        let args = product_update(&u);
        assert_eq!(args[0], value::string("1001"));
        assert_eq!(args[1], value::structure([("price", value::string("12.3"))]));
        assert_eq!(args[2..], [value::boolean(false), value::string("sku")]);
        assert!(!format!("{args:?}").contains("Nil"));
    }

    #[test]
    fn product_data_encodes_typed_fields() {
        let d = ProductData {
            name: Some("Lamp".into()),
            price: Some(dec("45.50")),
            weight: Some(dec("1.25")),
            enabled: Some(false),
            visibility: Some(Visibility::CatalogSearch),
            tax_class_id: Some(2),
            website_ids: Some(vec![1]),
            category_ids: Some(vec![9, 12]),
            stock: Some(StockData { qty: Some(dec("30")), is_in_stock: Some(true), manage_stock: Some(true) }),
            attributes: [("color".to_owned(), AttrValue::Int(4)), ("meta_title".to_owned(), AttrValue::Clear)].into(),
            ..Default::default()
        };
        let v = product_data(&d);
        let Value::Struct(m) = v else { panic!() };
        assert_eq!(m["name"], value::string("Lamp"));
        assert_eq!(m["price"], value::string("45.5"));
        assert_eq!(m["status"], value::int(2));
        assert_eq!(m["visibility"], value::int(4));
        assert_eq!(m["categories"], value::array([value::int(9), value::int(12)]));
        assert_eq!(m["website_ids"], value::array([value::int(1)]));
        assert_eq!(m["color"], value::int(4));
        assert_eq!(m["meta_title"], value::string(""));
        assert_eq!(
            m["stock_data"],
            value::structure([
                ("qty", value::string("30")),
                ("is_in_stock", value::int(1)),
                ("manage_stock", value::int(1)),
                ("use_config_manage_stock", value::int(0)),
            ])
        );
    }

    #[test]
    fn category_create_sends_every_required_attribute() {
        let args = category_create(3, &NewCategory::new("Kids"));
        assert_eq!(args[0], value::int(3));
        let Value::Struct(m) = &args[1] else { panic!() };
        for k in ["name", "is_active", "include_in_menu", "available_sort_by", "default_sort_by"] {
            assert!(m.contains_key(k), "{k}");
        }
        assert_eq!(
            m["available_sort_by"],
            value::array([value::string("position"), value::string("name"), value::string("price")])
        );
        assert_eq!(
            category_update(
                12,
                &CategoryUpdate { name: Some("Enfants".into()), ..Default::default() },
                Scope::Store(2)
            )
            .len(),
            3
        );
        assert_eq!(category_update(12, &CategoryUpdate::default(), Scope::Default).len(), 2);
        assert_eq!(category_move(5, 3, None), vec![value::int(5), value::int(3)]);
    }

    #[test]
    fn images_go_as_base64_text_without_extension() {
        let img = NewImage {
            content: vec![0x89, b'P', b'N', b'G'],
            mime: ImageMime::Png,
            name: "photos/brass-lamp.png".into(),
            label: Some("front".into()),
            position: Some(1),
            roles: vec![ImageRole::Base, ImageRole::Thumbnail],
            disabled: false,
        };
        let args = media_create("API-LAMP-001", &img);
        let Value::Struct(m) = &args[1] else { panic!() };
        let Value::Struct(file) = &m["file"] else { panic!() };
        assert_eq!(file["content"], value::string("iVBORw=="));
        assert_eq!(file["name"], value::string("brass-lamp"));
        assert_eq!(file["mime"], value::string("image/png"));
        assert_eq!(m["types"], value::array([value::string("image"), value::string("thumbnail")]));
        assert_eq!(args[2..], [value::boolean(false), value::string("sku")]);
        assert_eq!(image_base_name("a.b.jpg"), "a.b");
        assert_eq!(image_base_name(".hidden"), ".hidden");
        assert_eq!(image_base_name("noext"), "noext");
    }

    #[test]
    fn stock_and_order_arguments() {
        let u = StockUpdate {
            sku: "1001".into(),
            qty: Some(dec("123.5")),
            is_in_stock: Some(true),
            backorders: Some(Backorders::Allow),
            ..Default::default()
        };
        assert_eq!(
            stock_update(&u),
            vec![
                value::string("1001"),
                value::structure([
                    ("qty", value::string("123.5")),
                    ("is_in_stock", value::int(1)),
                    ("backorders", value::int(1)),
                    ("use_config_backorders", value::int(0)),
                ])
            ]
        );
        let c = OrderComment { status: None, comment: "hi".into(), notify: false };
        assert_eq!(order_comment("100000001", &c)[1], value::boolean(false));
        let r = InvoiceRequest { items: [(1, dec("1")), (2, dec("3"))].into(), ..Default::default() };
        assert_eq!(
            invoice_create("100000001", &r),
            vec![value::string("100000001"), value::structure([("1", value::string("1")), ("2", value::string("3"))])]
        );
        let r = ShipmentRequest { comment: Some("Shipped".into()), ..Default::default() };
        assert_eq!(shipment_create("100000001", &r).len(), 5);
    }

    #[test]
    fn sku_lists_are_chunked() {
        let skus: Vec<String> = (0..450).map(|i| format!("S{i}")).collect();
        let calls = product_list(&ProductFilter { skus: Some(skus), ..Default::default() });
        assert_eq!(calls.len(), 3);
        let calls = product_list(&ProductFilter::default());
        assert_eq!(calls, vec![vec![Value::Struct(Map::new())]]);
    }
}
