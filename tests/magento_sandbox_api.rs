//! Behaviour of the Magento 1 sandbox's API surface: sessions, signature faults, ACL, multiCall
//! per emulated version, catalog semantics (duplicate and numeric SKUs, store-scoped values,
//! filters, media, stock), customers.

mod magento_sandbox_support;

use std::time::Duration;

use dxr::Value;
use magento_connector::rpc::CallError;
use magento_connector::sandbox::magento1::{MagentoSandbox, SandboxOptions};
use magento_sandbox_support::*;

#[tokio::test]
async fn sessions_slide_expire_end_and_fault_5_comes_before_path_checks() {
    let sb = sandbox().await;
    sb.set_session_timeout(Duration::from_millis(1500));
    let c = Client::login(&sb).await;
    // Four calls 600 ms apart: 1.8 s in total, longer than the timeout, so it must slide.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        c.call0("store.list").await.expect("the idle timer restarts on every call");
    }
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(code(c.call0("store.list").await), 5);
    assert_eq!(code(c.call0("no_such_resource.list").await), 5, "session is checked before the path");

    sb.set_session_timeout(Duration::from_secs(3600));
    let c = Client::login(&sb).await;
    let other = Client::login(&sb).await;
    assert_ne!(c.session, other.session, "several sessions per user");
    assert_eq!(c.session.len(), 32);
    assert_eq!(c.transport.call("endSession", vec![s(&c.session)]).await.unwrap(), Value::Boolean(true));
    assert_eq!(code(c.call0("store.list").await), 5);
    other.call0("store.list").await.expect("the other session lives on");
    sb.expire_all_sessions();
    assert_eq!(code(other.call0("store.list").await), 5);
    assert_eq!(sb.live_sessions(), 0);
    assert_eq!(code(other.multi(vec![item("store.list", vec![])]).await), 5, "multiCall fails as a whole");
    sb.shutdown().await;
}

#[tokio::test]
async fn credentials_acl_and_signature_faults() {
    let sb = sandbox().await;
    let t = transport(&sb, Duration::from_secs(10));
    assert_eq!(code(t.call("login", vec![s("connector"), s("wrong")]).await), 2);
    assert_eq!(code(t.call("login", vec![s("nobody"), s("connector123")]).await), 2);
    assert_eq!(code(t.call("login", vec![s("connector"), i(123)]).await), 623, "login(string, int)");
    let f = fault(t.call("login", vec![s("connector"), s("")]).await);
    assert_eq!(f.code, 6, "empty key: {}", f.message);

    let c = Client::login(&sb).await;
    let sid = s(&c.session);
    assert_eq!(
        code(t.call("call", vec![sid.clone(), s("catalog_product.info"), st(&[("productId", s("1"))])]).await),
        623
    );
    assert_eq!(code(t.call("call", vec![sid.clone(), s("sales_order.info"), s("100000001")]).await), 623);
    assert_eq!(code(t.call("call", vec![i(1), s("store.list")]).await), 623);
    assert_eq!(code(t.call("catalog_product.list", vec![]).await), 620);
    assert_eq!(code(c.call0("no_such_resource.list").await), 3);
    assert_eq!(code(c.call0("catalog_product").await), 3);
    assert_eq!(code(c.call0("cart.create").await), 4, "declared but not emulated");
    assert_eq!(code(c.call0("product_stock.multiUpdate").await), 4);
    let listed = t.call("system.listMethods", vec![]).await.unwrap();
    assert!(items(&listed).contains(&s("multiCall")));

    let limited = sb.limited_credentials().unwrap();
    let l = Client::login_as(&sb, &limited.username, limited.api_key.expose()).await;
    l.call("catalog_product.info", vec![s("1")]).await.expect("allowed");
    l.call("product.info", vec![s("1")]).await.expect("allowed through the alias");
    assert_eq!(code(l.call("customer.list", vec![st(&[])]).await), 2);
    assert_eq!(code(l.call0("catalog_product.list").await), 2);
    let res = l.transport.call("resources", vec![s(&l.session)]).await.unwrap();
    assert_eq!(items(&res).len(), 1);
    assert_eq!(items(get(&items(&res)[0], "methods")).len(), 1);
    let mixed = l
        .multi(vec![
            item("catalog_product.info", vec![s("1"), s(""), arr(vec![s("sku")])]),
            item("sales_order.list", vec![]),
        ])
        .await;
    let mixed = mixed.unwrap();
    assert_eq!(text(&items(&mixed)[0], "sku"), "ELEC-PHN-001");
    assert_eq!(get(&items(&mixed)[1], "faultCode"), &s("2"));
    sb.shutdown().await;
}

#[tokio::test]
async fn multicall_items_fault_inline_and_non_api_errors_become_generic() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let create = |sku: &str| {
        item("catalog_product.create", vec![s("simple"), i(4), s(sku), st(&[("name", s("x")), ("price", s("1"))])])
    };
    let out = c
        .multi(vec![
            arr(vec![s("store.list")]),
            item("catalog_product.info", vec![i(999_999)]),
            create("MC-1"),
            create("MC-1"),
            arr(vec![s("sales_order.info"), s("100000001")]),
            item("no_such.list", vec![]),
        ])
        .await
        .unwrap();
    let out = items(&out);
    assert_eq!(out.len(), 6);
    assert!(matches!(out[0], Value::Array(_)), "call without args");
    assert_eq!(get(&out[1], "isFault"), &Value::Boolean(true));
    assert_eq!(get(&out[1], "faultCode"), &s("101"), "faultCode is a string inside multiCall");
    assert_eq!(text(&out[1], "faultMessage"), "Product not exists.");
    assert!(matches!(&out[2], Value::String(id) if !id.is_empty()));
    assert_eq!(get(&out[3], "faultCode"), &s("1"));
    assert_eq!(text(&out[3], "faultMessage"), "Internal Error. Please see log for details.", "not the exception text");
    assert_eq!(text(&out[4], "increment_id"), "100000001", "a scalar args item is the first argument");
    assert_eq!(get(&out[5], "faultCode"), &s("3"));
    // The same duplicate through `call` carries the exception text.
    let f = fault(c.call("catalog_product.create", vec![s("simple"), i(4), s("MC-1"), st(&[])]).await);
    assert_eq!((f.code, f.message.as_str()), (1, "The value of attribute \"SKU\" must be unique"));
    let f = fault(c.call("catalog_product.create", vec![s("simple"), i(4), s("mc-1"), st(&[])]).await);
    assert_eq!(f.code, 1, "SKUs are unique case-insensitively");
    // The `break` option is a struct: the 19.4 signature refuses it.
    let r = c.transport.call("multiCall", vec![s(&c.session), arr(vec![]), st(&[("break", i(1))])]).await;
    assert_eq!(code(r), 623);
    assert_eq!(sb.knobs().count("catalog_product.create"), 4, "multiCall items count under their own path");
    sb.shutdown().await;
}

#[tokio::test]
async fn openmage_20_11_refuses_the_standard_multicall() {
    let sb =
        MagentoSandbox::start(SandboxOptions { multicall_enabled: false, ..SandboxOptions::default() }).await.unwrap();
    let c = Client::login(&sb).await;
    assert_eq!(code(c.multi(vec![item("store.list", vec![])]).await), 623);
    let calls = st(&[("0", item("store.info", vec![s("fr")])), ("1", item("catalog_product.info", vec![i(999_999)]))]);
    let r = c.transport.call("multiCall", vec![s(&c.session), calls, st(&[("break", i(1))])]).await.unwrap();
    assert_eq!(items(&r).len(), 2, "calls keyed 0, 1 arrive as a list; break stops after the fault");
    assert_eq!(text(&items(&r)[0], "code"), "fr");
    let info = c.call0("magento.info").await.unwrap();
    assert_eq!(text(&info, "openmage_version"), "20.11.0");
    c.call0("store.list").await.expect("call still works");
    sb.shutdown().await;
}

#[tokio::test]
async fn numeric_skus_follow_the_identifier_rules() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    // SKU "5" collides with the id of HOME-001.
    let id = c
        .call("catalog_product.create", vec![s("simple"), i(4), s("5"), st(&[("name", s("Five")), ("price", s("5"))])])
        .await
        .unwrap();
    let Value::String(id) = id else { panic!("created id is a string") };
    assert_eq!(
        text(&c.call("catalog_product.info", vec![s("5")]).await.unwrap(), "sku"),
        "HOME-001",
        "numeric text is an id"
    );
    let by_sku = c.call("catalog_product.info", vec![s("5"), Value::Nil, Value::Nil, s("SKU")]).await.unwrap();
    assert_eq!(text(&by_sku, "name"), "Five", "info lower-cases identifierType");
    let f = c.call("catalog_product.update", vec![s("5"), st(&[("name", s("Fifth"))]), Value::Nil, s("SKU")]).await;
    assert_eq!(
        f.unwrap(),
        Value::Boolean(true),
        "update compares identifierType case-sensitively: 'SKU' is not 'sku', so 5 is the id"
    );
    assert_eq!(sb.product("HOME-001").unwrap().value("name", 0), Some("Fifth"));
    c.call("catalog_product.update", vec![s("5"), st(&[("name", s("Five again"))]), Value::Nil, s("sku")])
        .await
        .unwrap();
    assert_eq!(sb.product("5").unwrap().value("name", 0), Some("Five again"));
    // Stock calls try the SKU first.
    c.call("cataloginventory_stock_item.update", vec![s("5"), st(&[("qty", s("77")), ("is_in_stock", i(1))])])
        .await
        .unwrap();
    assert_eq!(sb.stock("5").unwrap().qty, "77".parse().unwrap());
    let rows = c.call("cataloginventory_stock_item.list", vec![arr(vec![s("5")])]).await.unwrap();
    assert_eq!(items(&rows).len(), 1);
    assert!(matches!(get(&items(&rows)[0], "product_id"), Value::Integer(_)), "product_id is an <int>");
    assert_eq!(text(&items(&rows)[0], "sku"), "5");
    assert_eq!(text(&items(&rows)[0], "qty"), "77.0000");
    // Unknown numeric SKU without identifierType: looked up as an id.
    assert_eq!(code(c.call("catalog_product.info", vec![s("424242")]).await), 101);
    assert_eq!(code(c.call("catalog_product.info", vec![s("NOPE"), Value::Nil, Value::Nil, s("sku")]).await), 101);
    assert_eq!(get(&c.call("catalog_product.info", vec![s(&id)]).await.unwrap(), "sku"), &s("5"));
    sb.shutdown().await;
}

#[tokio::test]
async fn store_scoped_values_fall_back_to_the_default() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let data = st(&[("name", s("Téléphone Nokia")), ("price", s("99"))]);
    c.call("catalog_product.update", vec![s("ELEC-PHN-001"), data, s("fr"), s("sku")]).await.unwrap();
    let p = sb.product("ELEC-PHN-001").unwrap();
    assert_eq!(p.value("name", 0), Some("Nokia 2610 Phone"), "default untouched");
    assert_eq!(p.store_value(2, "name"), Some("Téléphone Nokia"));
    assert_eq!(p.store_value(1, "name"), None, "store 1 uses the default");
    assert_eq!(p.value("price", 0), Some("99.0000"), "prices are global (catalog price scope)");
    let info_fr =
        c.call("catalog_product.info", vec![s("1"), s("fr"), arr(vec![s("name"), s("price")])]).await.unwrap();
    assert_eq!(text(&info_fr, "name"), "Téléphone Nokia");
    let info = c.call("catalog_product.info", vec![s("1")]).await.unwrap();
    assert_eq!(text(&info, "name"), "Nokia 2610 Phone");
    assert!(
        matches!(get(&info, "created_at"), Value::String(t) if t.ends_with("+00:00")),
        "EAV info created_at has an offset"
    );
    assert!(matches!(get(&info, "updated_at"), Value::String(t) if t.len() == 19));
    let list_fr = c.call("catalog_product.list", vec![st(&[("sku", s("ELEC-PHN-001"))]), s("fr")]).await.unwrap();
    assert_eq!(text(&items(&list_fr)[0], "name"), "Téléphone Nokia");
    // Website-scoped status written in store 2 reaches every view of website 1, not store 3.
    c.call("catalog_product.update", vec![s("1"), st(&[("status", i(2))]), i(2)]).await.unwrap();
    let p = sb.product("ELEC-PHN-001").unwrap();
    assert_eq!(
        (p.store_value(1, "status"), p.store_value(2, "status"), p.store_value(3, "status")),
        (Some("2"), Some("2"), None)
    );
    // '' clears the store value: back to "use default".
    c.call("catalog_product.update", vec![s("1"), st(&[("name", s(""))]), s("fr")]).await.unwrap();
    assert_eq!(sb.product("ELEC-PHN-001").unwrap().value("name", 2), Some("Nokia 2610 Phone"));
    assert_eq!(code(c.call("catalog_product.info", vec![s("1"), s("xx")]).await), 100, "unknown store");
    // Categories: store-level names in the tree.
    c.call("catalog_category.update", vec![i(3), st(&[("name", s("Vêtements"))]), s("fr")]).await.unwrap();
    let tree = c.call("catalog_category.tree", vec![i(2), s("fr")]).await.unwrap();
    assert_eq!(text(&items(get(&tree, "children"))[0], "name"), "Vêtements");
    assert_eq!(sb.category(3).unwrap().name, "Clothing");
    assert_eq!(sb.category(3).unwrap().store_names.get(&2).map(String::as_str), Some("Vêtements"));
    sb.shutdown().await;
}

#[tokio::test]
async fn product_create_handles_websites_categories_stock_and_refusals() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let data = st(&[
        ("name", s("Brass Desk Lamp")),
        ("price", Value::Double(45.5)),
        ("weight", s("1.25")),
        ("websites", arr(vec![s("base"), i(2)])),
        ("categories", arr(vec![i(9)])),
        (
            "stock_data",
            st(&[("qty", i(30)), ("is_in_stock", i(1)), ("manage_stock", i(1)), ("use_config_manage_stock", i(0))]),
        ),
    ]);
    let id = c.call("catalog_product.create", vec![s("simple"), i(4), s("API-LAMP-001"), data]).await.unwrap();
    assert_eq!(id, s("20"), "ids continue after the recorded seed and skip 22");
    let p = sb.product("API-LAMP-001").unwrap();
    assert_eq!(p.website_ids, [1, 2]);
    assert_eq!(p.category_ids, [9]);
    assert_eq!(p.values.get("price").map(String::as_str), Some("45.5000"));
    assert_eq!(p.values.get("url_key").map(String::as_str), Some("brass-desk-lamp"));
    assert_eq!((p.stock.qty, p.stock.is_in_stock), ("30".parse().unwrap(), true));
    // Without stock_data the item is not managed: in stock as a boolean.
    c.call("catalog_product.create", vec![s("virtual"), i(4), s("SRV-X"), st(&[("name", s("Service"))])])
        .await
        .unwrap();
    let rows = c.call("cataloginventory_stock_item.list", vec![arr(vec![s("SRV-X")])]).await.unwrap();
    assert_eq!(get(&items(&rows)[0], "is_in_stock"), &Value::Boolean(true));
    // Magento 1 does not enforce required attributes on create (validate() is ignored).
    c.call("catalog_product.create", vec![s("simple"), i(4), s("BARE-1"), st(&[])])
        .await
        .expect("no required-attribute check");
    assert_eq!(code(c.call("catalog_product.create", vec![s("foo"), i(4), s("X1"), st(&[])]).await), 104);
    assert_eq!(code(c.call("catalog_product.create", vec![s("simple"), i(77), s("X1"), st(&[])]).await), 105);
    assert_eq!(code(c.call("catalog_product.create", vec![s("simple"), i(1), s("X1"), st(&[])]).await), 106);
    assert_eq!(code(c.call("catalog_product.create", vec![s("simple"), i(4), s(""), st(&[])]).await), 102);
    let f = fault(
        c.call("catalog_product.create", vec![s("simple"), i(4), s("X2"), st(&[("category_ids", arr(vec![i(999)]))])])
            .await,
    );
    assert!(f.code == 1 && f.message.starts_with("SQLSTATE[23000]"), "{f:?}");
    assert!(sb.product("X2").is_none(), "nothing half-written");
    // A missing required argument is a PHP fatal (ArgumentCountError): HTTP 500, empty body.
    match c.call("catalog_product.create", vec![s("simple"), i(4)]).await {
        Err(CallError::Http { status: 500, snippet, .. }) => assert!(snippet.is_empty()),
        other => panic!("expected HTTP 500, got {other:?}"),
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn list_filters_follow_varien() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let skus = |v: Value| items(&v).iter().map(|r| text(r, "sku")).collect::<Vec<_>>();
    let like = c.call("catalog_product.list", vec![st(&[("sku", st(&[("like", s("clo-tshirt%"))]))])]).await.unwrap();
    assert_eq!(skus(like).len(), 7, "LIKE is case-insensitive");
    let ids = c
        .call("catalog_product.list", vec![st(&[("product_id", st(&[("in", arr(vec![i(1), i(3), i(999)]))]))])])
        .await
        .unwrap();
    assert_eq!(skus(ids), ["ELEC-PHN-001", "ELEC-ACC-001"]);
    // SKU lists (the connector's lookup): case-insensitive, trailing spaces ignored, entity order,
    // and the other clauses still apply.
    let sku_in = |list: Vec<Value>| st(&[("sku", st(&[("in", arr(list))]))]);
    let wanted = || vec![s("elec-acc-001 "), s("ELEC-PHN-001"), s("NO-SUCH-SKU"), s("elec-phn-001")];
    let by_sku = c.call("catalog_product.list", vec![sku_in(wanted())]).await.unwrap();
    assert_eq!(skus(by_sku), ["ELEC-PHN-001", "ELEC-ACC-001"]);
    let mut both = match sku_in(wanted()) {
        Value::Struct(m) => m,
        _ => unreachable!(),
    };
    both.insert("product_id".into(), st(&[("gt", i(1))]));
    let narrowed = c.call("catalog_product.list", vec![Value::Struct(both)]).await.unwrap();
    assert_eq!(skus(narrowed), ["ELEC-ACC-001"]);
    // Only the first operator counts: {gt: 20, lt: 2} means > 20.
    let first =
        c.call("catalog_product.list", vec![st(&[("product_id", st(&[("gt", i(20)), ("lt", i(2))]))])]).await.unwrap();
    assert_eq!(skus(first), ["ELEC-HDPH-001"]);
    let range =
        c.call("catalog_product.list", vec![st(&[("product_id", st(&[("from", i(2)), ("to", i(3))]))])]).await.unwrap();
    assert_eq!(skus(range).len(), 2);
    let typed = c.call("catalog_product.list", vec![st(&[("type", s("configurable"))])]).await.unwrap();
    assert_eq!(skus(typed), ["CLO-TSHIRT"]);
    let f = fault(c.call("catalog_product.list", vec![st(&[("no_such_field", st(&[("eq", i(1))]))])]).await);
    assert_eq!((f.code, f.message.as_str()), (0, "Unknown Error"), "filters_invalid is not in catalog_product's table");
    let f = fault(c.call("customer.list", vec![st(&[("no_such_field", i(1))])]).await);
    assert_eq!(f.code, 101);
    let f = fault(c.call("sales_order.list", vec![st(&[("no_such_field", i(1))])]).await);
    assert!(f.code == 1 && f.message.contains("Unknown column"), "{f:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn media_upload_checks_type_content_and_renames_duplicates() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let data = |name: &str, mime: &str, content: &str| {
        st(&[
            ("file", st(&[("content", s(content)), ("mime", s(mime)), ("name", s(name))])),
            ("label", s("Front")),
            ("position", i(1)),
            ("types", arr(vec![s("image"), s("thumbnail")])),
            ("exclude", i(0)),
        ])
    };
    let create = |name: &str, mime: &str, content: &str| {
        c.call("catalog_product_attribute_media.create", vec![s("HOME-001"), data(name, mime, content)])
    };
    assert_eq!(create("Mug Front", "image/png", PNG_B64).await.unwrap(), s("/M/u/Mug_Front.png"));
    assert_eq!(
        create("Mug Front", "image/png", PNG_B64).await.unwrap(),
        s("/M/u/Mug_Front_1.png"),
        "taken names are renamed"
    );
    let f = fault(create("x", "image/bmp", PNG_B64).await);
    assert_eq!((f.code, f.message.as_str()), (102, "Invalid image type."));
    let f = fault(create("x", "image/png", "***not base64***").await);
    assert_eq!((f.code, f.message.as_str()), (102, "The image contents is not valid base64 data."));
    assert_eq!(code(create("x", "image/jpeg", PNG_B64).await), 104, "content is not a JPEG");
    let list = c.call("catalog_product_attribute_media.list", vec![s("HOME-001")]).await.unwrap();
    let list = items(&list);
    assert_eq!(list.len(), 2);
    assert!(items(get(&list[0], "types")).is_empty(), "roles moved to the newest image");
    assert_eq!(items(get(&list[1], "types")), [s("image"), s("thumbnail")]);
    assert!(text(&list[1], "url").starts_with(sb.base_url()));
    assert!(matches!(get(&list[1], "position"), Value::Integer(_)));
    let update = st(&[("types", arr(vec![s("small_image")])), ("label", s("Side")), ("exclude", i(1))]);
    c.call("catalog_product_attribute_media.update", vec![s("HOME-001"), s("/M/u/Mug_Front.png"), update])
        .await
        .unwrap();
    let media = sb.media("HOME-001");
    assert_eq!(
        (media[0].label.as_deref(), media[0].exclude, media[0].types.clone()),
        (Some("Side"), true, vec!["small_image".to_owned()])
    );
    assert!(media[0].size > 0 && media[0].mime == "image/png");
    c.call("catalog_product_attribute_media.remove", vec![s("HOME-001"), s("/M/u/Mug_Front.png")]).await.unwrap();
    assert_eq!(
        code(c.call("catalog_product_attribute_media.remove", vec![s("HOME-001"), s("/M/u/Mug_Front.png")]).await),
        103
    );
    assert_eq!(code(c.call("catalog_product_attribute_media.list", vec![i(999_999)]).await), 101);
    sb.shutdown().await;
}

#[tokio::test]
async fn stock_updates_read_strings_and_run_out() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    c.call("product_stock.update", vec![s("ELEC-ACC-001"), st(&[("qty", s("123.5")), ("is_in_stock", s("1"))])])
        .await
        .unwrap();
    assert_eq!(sb.stock("ELEC-ACC-001").unwrap().qty, "123.5".parse().unwrap());
    c.call("cataloginventory_stock_item.update", vec![i(3), st(&[("qty", i(0))])]).await.unwrap();
    let st_ = sb.stock("ELEC-ACC-001").unwrap();
    assert!(!st_.is_in_stock, "a managed item at 0 without backorders goes out of stock");
    assert_eq!(code(c.call("cataloginventory_stock_item.update", vec![i(999_999), st(&[("qty", i(1))])]).await), 101);
    let rows = c
        .call(
            "cataloginventory_stock_item.list",
            vec![arr(vec![s("HOME-003"), s("NO-SUCH"), s("12"), s("ELEC-ACC-001")])],
        )
        .await
        .unwrap();
    let ids: Vec<&Value> = items(&rows).iter().map(|r| get(r, "product_id")).collect();
    assert_eq!(ids, [&i(3), &i(10), &i(12)], "product-id order, unknown skipped");
    assert_eq!(get(&items(&rows)[1], "is_in_stock"), &i(1));
    assert_eq!(get(&items(&rows)[2], "is_in_stock"), &Value::Boolean(true), "virtual without stock management");
    let single = c.call("cataloginventory_stock_item.list", vec![s("HOME-003")]).await.unwrap();
    assert_eq!(items(&single).len(), 1, "a scalar is wrapped");
    sb.shutdown().await;
}

#[tokio::test]
async fn customers_and_addresses() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let data = st(&[
        ("email", s("new@example.com")),
        ("firstname", s("New")),
        ("lastname", s("Person")),
        ("website_id", i(1)),
        ("store_id", i(1)),
        ("taxvat", s("")),
    ]);
    let id = c.call("customer.create", vec![data.clone()]).await.unwrap();
    assert_eq!(id, s("5"));
    let f = fault(c.call("customer.create", vec![data]).await);
    assert_eq!((f.code, f.message.as_str()), (100, "This customer email already exists"));
    let info = c.call("customer.info", vec![s("5")]).await.unwrap();
    assert_eq!(get(&info, "taxvat"), &Value::Nil, "'' is stored as NULL");
    assert_eq!(get(&info, "group_id"), &i(1));
    assert_eq!(code(c.call("customer.info", vec![i(999)]).await), 102);
    let bad = fault(c.call("customer_address.create", vec![s("5"), st(&[("firstname", s("X"))])]).await);
    assert_eq!(bad.code, 100);
    assert_eq!(bad.message.lines().count(), 6, "one line per missing field: {}", bad.message);
    let addr = st(&[
        ("firstname", s("New")),
        ("lastname", s("Person")),
        ("street", arr(vec![s("1 Main St"), s("Unit 2")])),
        ("city", s("Brooklyn")),
        ("region_id", i(43)),
        ("postcode", s("11201")),
        ("country_id", s("US")),
        ("telephone", s("718-555-0101")),
        ("is_default_billing", Value::Boolean(true)),
    ]);
    let aid = c.call("customer_address.create", vec![s("5"), addr]).await.unwrap();
    let list = c.call("customer_address.list", vec![s("5")]).await.unwrap();
    let row = &items(&list)[0];
    assert_eq!(get(row, "customer_address_id"), &i(7));
    assert_eq!(aid, s("7"));
    assert_eq!(text(row, "street"), "1 Main St\nUnit 2");
    assert_eq!(text(row, "region"), "New York");
    assert_eq!(
        (get(row, "is_default_billing"), get(row, "is_default_shipping")),
        (&Value::Boolean(true), &Value::Boolean(false))
    );
    let groups = c.call0("customer_group.list").await.unwrap();
    assert_eq!(items(&groups).len(), 4);
    assert_eq!(code(c.call("customer_address.list", vec![i(999)]).await), 101);
    // customer.list requires its filters argument: without it PHP dies.
    assert!(matches!(c.call0("customer.list").await, Err(CallError::Http { status: 500, .. })));
    sb.shutdown().await;
}

#[tokio::test]
async fn categories_create_move_assign_and_delete() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let f = fault(c.call("catalog_category.create", vec![i(3), st(&[("name", s("Kids"))])]).await);
    assert_eq!((f.code, f.message.as_str()), (103, "Attribute \"is_active\" is required."));
    let data = st(&[
        ("name", s("Kids")),
        ("is_active", i(1)),
        ("include_in_menu", i(1)),
        ("available_sort_by", s("use_config")),
        ("default_sort_by", s("use_config")),
    ]);
    let id = c.call("catalog_category.create", vec![i(3), data]).await.unwrap();
    assert_eq!(id, s("13"), "12 is the seeded Wholesale Root");
    let kids = sb.categories_named(3, "Kids");
    assert_eq!((kids.len(), kids[0].position, kids[0].level, kids[0].path.as_str()), (1, 3, 3, "1/2/3/13"));
    let info = c.call("catalog_category.info", vec![s("13")]).await.unwrap();
    assert_eq!(
        (text(&info, "url_path"), text(&info, "children"), text(&info, "all_children")),
        ("clothing/kids.html".into(), String::new(), "13".into())
    );
    let parent = c.call("catalog_category.info", vec![i(3)]).await.unwrap();
    assert_eq!((text(&parent, "children"), get(&parent, "children_count")), ("4,5,13".into(), &i(3)));
    // Move under Electronics after Phones (7): Accessories shifts down.
    c.call("catalog_category.move", vec![i(13), i(6), i(7)]).await.unwrap();
    let order: Vec<i64> = sb.child_categories(6).iter().map(|c| c.id).collect();
    assert_eq!(order, [7, 13, 8]);
    assert_eq!(sb.category(13).unwrap().path, "1/2/6/13");
    assert_eq!(code(c.call("catalog_category.move", vec![i(6), i(13)]).await), 104, "not under its own subtree");
    // Assignments.
    c.call("catalog_category.assignProduct", vec![i(13), s("HOME-001"), i(5), s("sku")]).await.unwrap();
    let assigned = c.call("catalog_category.assignedProducts", vec![i(13)]).await.unwrap();
    assert_eq!((get(&items(&assigned)[0], "product_id"), get(&items(&assigned)[0], "position")), (&i(5), &i(5)));
    assert!(sb.product("HOME-001").unwrap().category_ids.contains(&13));
    let f = fault(c.call("catalog_category.assignProduct", vec![i(13), s("NOPE"), Value::Nil, s("sku")]).await);
    assert_eq!((f.code, f.message.as_str()), (102, "Product not exists."));
    assert_eq!(code(c.call("catalog_category.removeProduct", vec![i(13), s("1")]).await), 106);
    c.call("catalog_category.removeProduct", vec![i(13), s("5")]).await.unwrap();
    assert!(!sb.product("HOME-001").unwrap().category_ids.contains(&13));
    // Level and tree of the wholesale website.
    let level = c.call("catalog_category.level", vec![i(2)]).await.unwrap();
    assert_eq!(get(&items(&level)[0], "category_id"), &i(12));
    assert_eq!(code(c.call("catalog_category.delete", vec![i(2)]).await), 105);
    c.call("catalog_category.delete", vec![i(6)]).await.unwrap();
    assert!(sb.category(13).is_none(), "children go with their parent");
    assert!(!sb.product("ELEC-PHN-001").unwrap().category_ids.contains(&6));
    assert_eq!(code(c.call("catalog_category.info", vec![i(6)]).await), 102);
    assert_eq!(sb.category_count(), 9);
    sb.shutdown().await;
}

#[tokio::test]
async fn attribute_metadata_and_tax_classes() {
    let sb = sandbox().await;
    let c = Client::login(&sb).await;
    let tax = c.call("catalog_product_attribute.options", vec![s("tax_class_id")]).await.unwrap();
    let tax = items(&tax);
    assert_eq!(tax.len(), 3);
    assert_eq!(
        (get(&tax[0], "value"), text(&tax[0], "label")),
        (&s("0"), "None".to_owned()),
        "'None' leads, its value a string"
    );
    assert_eq!((get(&tax[1], "value"), text(&tax[1], "label")), (&i(2), "Taxable Goods".to_owned()));
    assert_eq!(text(&tax[2], "label"), "Shipping");
    let color = c.call("product_attribute.options", vec![s("color")]).await.unwrap();
    assert_eq!(items(&color)[0], st(&[("label", s("")), ("value", s(""))]), "the empty option first");
    assert_eq!(code(c.call("product_attribute.options", vec![s("no_such")]).await), 101);
    let sets = c.call0("product_attribute_set.list").await.unwrap();
    assert_eq!(items(&sets).len(), 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn zend_protocol_faults() {
    let sb = sandbox().await;
    magento_connector::rpc::transport::install_crypto_provider();
    let http = reqwest::Client::new();
    let post = |body: &'static str| http.post(sb.url()).header("content-type", "text/xml").body(body).send();
    let cases = [
        ("", 630),
        (
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><methodCall><methodName>login</methodName></methodCall>",
            631,
        ),
        ("<?xml version=\"1.0\"?><methodCall><params/></methodCall>", 632),
        ("<?xml version=\"1.0\"?><methodCall><methodName>nope</methodName><params/></methodCall>", 620),
    ];
    for (body, want) in cases {
        let resp = post(body).await.unwrap();
        assert_eq!(resp.status(), 200);
        let text = resp.text().await.unwrap();
        assert!(text.contains(&format!("<name>faultCode</name><value><int>{want}</int></value>")), "{want}: {text}");
    }
    sb.shutdown().await;
}
