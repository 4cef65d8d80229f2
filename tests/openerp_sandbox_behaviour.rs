//! Behaviour of the OpenERP sandbox over XML-RPC on the demo data: paging, domain operators,
//! `active_test`, `False` for empty values, translations, fields, partners, faults on both
//! endpoints, transactions.

mod openerp_sandbox_support;

use dxr::Value;
use magento_connector::rpc::value::{self, Map};
use magento_connector::sandbox::openerp::{OpenErpSandbox, Options};
use openerp_sandbox_support::*;

async fn sandbox() -> (OpenErpSandbox, Client) {
    let erp = OpenErpSandbox::start(Options::default()).await.expect("sandbox");
    let c = Client::new(&erp);
    (erp, c)
}

fn st(x: &str) -> Value {
    value::string(x)
}

async fn search(c: &Client, model: &str, d: Value, extra: &[(&str, Value)]) -> Vec<i64> {
    id_list(&c.ok(model, "search", vec![d], kw(extra)).await)
}

async fn codes(c: &Client, d: Value) -> Vec<String> {
    let r = c
        .ok(
            "product.product",
            "search_read",
            vec![d],
            kw(&[
                ("fields", fields(&["default_code"])),
                ("order", st("default_code")),
                ("context", value::structure([("active_test", Value::Boolean(false))])),
            ]),
        )
        .await;
    records(&r)
        .iter()
        .map(|m| match m.get("default_code") {
            Some(Value::String(s)) => s.clone(),
            _ => "-".into(),
        })
        .collect()
}

#[tokio::test]
async fn paging_is_stable_and_complete() {
    let erp = OpenErpSandbox::start(Options::with_generated(20, 2500)).await.unwrap();
    let c = Client::new(&erp);
    let total = c.ok("product.product", "search_count", vec![domain(&[])], kw(&[])).await;
    let Value::Integer(total) = total else { panic!("{total:?}") };
    assert!(total > 2500, "{total}");
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let page = c
            .ok(
                "product.product",
                "search_read",
                vec![domain(&[])],
                kw(&[
                    ("fields", fields(&["default_code"])),
                    ("offset", Value::Integer(offset)),
                    ("limit", Value::Integer(500)),
                    ("order", st("id")),
                ]),
            )
            .await;
        let recs = records(&page);
        if recs.is_empty() {
            break;
        }
        seen.extend(recs.iter().map(|m| match m.get("id") {
            Some(Value::Integer(i)) => *i,
            _ => panic!(),
        }));
        offset += 500;
    }
    assert_eq!(seen.len() as i32, total);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "ids ascending without gaps or repeats");
    let nulls_first =
        search(&c, "product.product", domain(&[]), &[("order", st("default_code desc")), ("limit", Value::Integer(1))])
            .await;
    let vase = erp.read("product.product", nulls_first[0], &["default_code"]).unwrap().unwrap();
    assert_eq!(
        vase.get("default_code"),
        Some(&Value::Boolean(false)),
        "DESC puts empty values first, as PostgreSQL does"
    );
    let by_code = search(
        &c,
        "product.product",
        domain(&[("default_code", "!=", Value::Boolean(false))]),
        &[("order", st("default_code desc")), ("limit", Value::Integer(3))],
    )
    .await;
    assert_eq!(by_code.len(), 3);
    let codes = records(
        &c.ok("product.product", "read", vec![ids(&by_code)], kw(&[("fields", fields(&["default_code"]))])).await,
    );
    assert_eq!(s(&codes[0], "default_code"), "SRV-WARRANTY-2Y");
    let bench = search(&c, "product.product", domain(&[("default_code", "=", st("BENCH-001234"))]), &[]).await;
    assert_eq!(bench.len(), 1);
    let cats = search(&c, "product.category", domain(&[("name", "=ilike", st("bench category%"))]), &[]).await;
    assert_eq!(cats.len(), 20);
    erp.shutdown().await;
}

#[tokio::test]
async fn every_domain_operator() {
    let (erp, c) = sandbox().await;
    let d = |leaves: &[(&str, &str, Value)]| domain(leaves);
    assert_eq!(codes(&c, d(&[("default_code", "=", st("HOME-001"))])).await, ["HOME-001"]);
    assert!(codes(&c, d(&[("default_code", "=", st("home-001"))])).await.is_empty(), "= is case-sensitive");
    assert_eq!(codes(&c, d(&[("default_code", "=ilike", st("home-001"))])).await, ["HOME-001"]);
    assert_eq!(codes(&c, d(&[("default_code", "=ilike", st("home-00_"))])).await, ["HOME-001", "HOME-002", "HOME-003"]);
    assert_eq!(codes(&c, d(&[("default_code", "=like", st("CLO-TSHIRT-RED-%"))])).await.len(), 3);
    assert_eq!(codes(&c, d(&[("default_code", "like", st("TSHIRT-BLUE"))])).await.len(), 3);
    assert!(codes(&c, d(&[("default_code", "like", st("tshirt-blue"))])).await.is_empty());
    assert_eq!(codes(&c, d(&[("default_code", "ilike", st("tshirt-blue"))])).await.len(), 3);
    let all = codes(&c, d(&[])).await;
    let not_ilike = codes(&c, d(&[("default_code", "not ilike", st("tshirt"))])).await;
    assert_eq!(not_ilike.len(), all.len() - 6);
    assert!(not_ilike.contains(&"-".to_owned()), "not ilike also matches empty values");
    let ne = codes(&c, d(&[("default_code", "!=", st("HOME-001"))])).await;
    assert_eq!(ne.len(), all.len() - 1);
    assert!(ne.contains(&"-".to_owned()), "!= also matches empty values");
    assert_eq!(codes(&c, d(&[("default_code", "=", Value::Boolean(false))])).await, ["-"]);
    assert_eq!(
        codes(&c, d(&[("default_code", "in", value::array([st("HOME-001"), st("BOOK-001"), st("NOPE")]))])).await,
        ["BOOK-001", "HOME-001"]
    );
    let not_in = codes(&c, d(&[("default_code", "not in", value::array([st("HOME-001"), st("BOOK-001")]))])).await;
    assert_eq!(not_in.len(), all.len() - 2);
    let cheap = codes(&c, d(&[("list_price", "<", Value::Double(5.0))])).await;
    assert_eq!(cheap, ["DISCOUNT", "HOME-ECO-BAG", "ROUNDING", "SHIP"]);
    assert_eq!(
        codes(&c, d(&[("list_price", "<=", Value::Integer(5))])).await,
        ["1001", "DISCOUNT", "HOME-ECO-BAG", "ROUNDING", "SHIP"]
    );
    assert_eq!(codes(&c, d(&[("list_price", ">", Value::Double(299.0))])).await, ["OFF-DESK-001"]);
    assert_eq!(codes(&c, d(&[("list_price", ">=", Value::Double(299.0))])).await, ["ELEC-PHN-002", "OFF-DESK-001"]);
    let electronics = search(&c, "product.category", d(&[("name", "=", st("Electronics"))]), &[]).await[0];
    let under = codes(&c, d(&[("categ_id", "child_of", Value::Integer(electronics as i32))])).await;
    assert_eq!(under.len(), 6, "archived included: {under:?}");
    assert_eq!(codes(&c, d(&[("categ_id.name", "=", st("Phones"))])).await, ["ELEC-PHN-001", "ELEC-PHN-002"]);
    assert_eq!(
        codes(&c, d(&[("categ_id", "=", st("All / Saleable / Electronics / Phones"))])).await.len(),
        2,
        "many2one by display name"
    );
    let or = codes(
        &c,
        value::array([
            st("|"),
            value::array([st("default_code"), st("="), st("HOME-001")]),
            value::array([st("default_code"), st("="), st("HOME-002")]),
        ]),
    )
    .await;
    assert_eq!(or, ["HOME-001", "HOME-002"]);
    let and = codes(
        &c,
        value::array([
            st("&"),
            value::array([st("default_code"), st("ilike"), st("HOME")]),
            value::array([st("list_price"), st(">"), Value::Double(10.0)]),
        ]),
    )
    .await;
    assert_eq!(and, ["HOME-002", "HOME-003"]);
    let not = codes(&c, value::array([st("!"), value::array([st("default_code"), st("ilike"), st("CLO")])])).await;
    assert_eq!(not.len(), all.len() - 8);
    let with_tax = codes(&c, d(&[("taxes_id.name", "=", st("Eco Tax 2%"))])).await;
    assert_eq!(with_tax, ["HOME-ECO-BAG"]);
    let any = codes(&c, d(&[("taxes_id", "any", domain(&[("amount", "=", Value::Integer(0))]))])).await;
    assert_eq!(any, ["BOOK-001"]);
    // Partners: child_of the parent, dotted path on a many2one.
    let john = search(&c, "res.partner", d(&[("email", "=ilike", st("john.doe@example.com"))]), &[]).await;
    assert_eq!(john.len(), 1);
    let family = search(&c, "res.partner", d(&[("id", "child_of", Value::Integer(john[0] as i32))]), &[]).await;
    assert_eq!(family.len(), 2);
    let in_ca =
        search(&c, "res.partner", d(&[("state_id.code", "=", st("CA")), ("country_id.code", "=", st("US"))]), &[])
            .await;
    assert!(family.iter().all(|p| in_ca.contains(p)));
    let bad =
        c.exec("product.product", "search", vec![d(&[("default_code", "~", st("x"))])], kw(&[])).await.unwrap_err();
    assert_eq!(bad.code, 1);
    assert!(bad.message.contains("ValueError: Invalid leaf"), "{}", bad.message);
    erp.shutdown().await;
}

#[tokio::test]
async fn archived_records_need_active_test_or_an_active_leaf() {
    let (erp, c) = sandbox().await;
    let fax = d_code("ELEC-OLD-001");
    assert!(search(&c, "product.product", fax.clone(), &[]).await.is_empty());
    let ctx = value::structure([("active_test", Value::Boolean(false))]);
    let found = search(&c, "product.product", fax.clone(), &[("context", ctx)]).await;
    assert_eq!(found.len(), 1);
    let with_leaf = search(
        &c,
        "product.product",
        domain(&[
            ("default_code", "=", st("ELEC-OLD-001")),
            ("active", "in", value::array([Value::Boolean(true), Value::Boolean(false)])),
        ]),
        &[],
    )
    .await;
    assert_eq!(with_leaf, found);
    let archived = search(&c, "product.product", domain(&[("active", "=", Value::Boolean(false))]), &[]).await;
    assert_eq!(archived, found);
    let r = records(&c.ok("product.product", "read", vec![ids(&found)], kw(&[("fields", fields(&["active"]))])).await);
    assert_eq!(r[0].get("active"), Some(&Value::Boolean(false)), "read ignores active_test");
    erp.shutdown().await;
}

fn d_code(code: &str) -> Value {
    domain(&[("default_code", "=", value::string(code))])
}

#[tokio::test]
async fn empty_values_are_false_never_nil() {
    let (erp, c) = sandbox().await;
    let vase = search(&c, "product.product", domain(&[("name", "ilike", st("Handmade Vase"))]), &[]).await;
    let raw = c
        .raw(
            "/xmlrpc/2/object",
            magento_connector::rpc::transport::encode_call(
                "execute_kw",
                vec![
                    st("connector"),
                    Value::Integer(2),
                    st("admin"),
                    st("product.product"),
                    st("read"),
                    value::array([ids(&vase)]),
                    Value::Struct(kw(&[])),
                ],
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert!(!raw.body.contains("<nil/>") && !raw.body.contains("<i8>"));
    let r = records(&decode(&raw.body).unwrap());
    let m = &r[0];
    for f in ["default_code", "barcode", "image_1920", "description_purchase"] {
        assert_eq!(m.get(f), Some(&Value::Boolean(false)), "{f}");
    }
    assert!(matches!(m.get("product_template_attribute_value_ids"), Some(Value::Array(a)) if a.is_empty()));
    assert!(matches!(m.get("volume"), Some(Value::Double(d)) if *d == 0.0));
    assert!(matches!(m.get("categ_id"), Some(Value::Array(a)) if a.len() == 2));
    assert!(matches!(m.get("write_date"), Some(Value::String(d)) if d.len() == 19));
    let order =
        c.ok("sale.order", "create", vec![value::structure([("partner_id", Value::Integer(6))])], kw(&[])).await;
    let so = records(
        &c.ok(
            "sale.order",
            "read",
            vec![value::array([order])],
            kw(&[(
                "fields",
                fields(&["commitment_date", "note", "client_order_ref", "delivery_status", "validity_date"]),
            )]),
        )
        .await,
    );
    for f in ["commitment_date", "note", "client_order_ref", "delivery_status"] {
        assert_eq!(so[0].get(f), Some(&Value::Boolean(false)), "{f}");
    }
    assert!(matches!(so[0].get("validity_date"), Some(Value::String(d)) if d.len() == 10));
    erp.shutdown().await;
}

#[tokio::test]
async fn translations_follow_the_context_language() {
    let (erp, c) = sandbox().await;
    let fr = value::structure([("lang", st("fr_FR"))]);
    let mug = search(&c, "product.product", d_code("HOME-001"), &[]).await;
    let read = |ctx: Option<Value>| {
        let c = &c;
        let mug = mug.clone();
        async move {
            let mut k = vec![("fields", fields(&["name", "display_name", "categ_id"]))];
            if let Some(x) = ctx {
                k.push(("context", x));
            }
            records(&c.ok("product.product", "read", vec![ids(&mug)], kw(&k)).await).remove(0)
        }
    };
    let en = read(None).await;
    assert_eq!(s(&en, "name"), "Ceramic Coffee Mug 350ml");
    let in_fr = read(Some(fr.clone())).await;
    assert_eq!(s(&in_fr, "name"), "Mug en céramique 350ml");
    assert_eq!(s(&in_fr, "display_name"), "[HOME-001] Mug en céramique 350ml");
    assert!(matches!(in_fr.get("categ_id"), Some(Value::Array(a)) if a[1] == st("All / Saleable / Maison & Jardin")));
    assert_eq!(
        search(&c, "product.product", domain(&[("name", "ilike", st("céramique"))]), &[("context", fr.clone())]).await,
        mug
    );
    assert!(search(&c, "product.product", domain(&[("name", "ilike", st("céramique"))]), &[]).await.is_empty());
    c.ok(
        "product.product",
        "write",
        vec![ids(&mug), value::structure([("name", st("Tasse en céramique"))])],
        kw(&[("context", fr.clone())]),
    )
    .await;
    assert_eq!(s(&read(Some(fr)).await, "name"), "Tasse en céramique");
    assert_eq!(s(&read(None).await, "name"), "Ceramic Coffee Mug 350ml", "writing French leaves English alone");
    c.ok("product.product", "write", vec![ids(&mug), value::structure([("name", st("Coffee Mug"))])], kw(&[])).await;
    assert_eq!(s(&read(Some(value::structure([("lang", st("fr_FR"))]))).await, "name"), "Tasse en céramique");
    assert_eq!(
        s(&read(Some(value::structure([("lang", st("de_DE"))]))).await, "name"),
        "Coffee Mug",
        "a language that is not installed reads English"
    );
    let desk = search(&c, "product.product", d_code("OFF-DESK-001"), &[]).await;
    let d = records(
        &c.ok(
            "product.product",
            "read",
            vec![ids(&desk)],
            kw(&[("fields", fields(&["description", "description_sale"]))]),
        )
        .await,
    )
    .remove(0);
    assert_eq!(s(&d, "description"), "<p>Standing Desk: full description.</p>");
    assert_eq!(s(&d, "description_sale"), "Standing Desk.");
    erp.shutdown().await;
}

#[tokio::test]
async fn fields_get_reports_types_and_the_optional_tracking_field() {
    let (erp, c) = sandbox().await;
    let f = c.ok("stock.picking", "fields_get", vec![], kw(&[("attributes", fields(&["type", "string"]))])).await;
    let Value::Struct(m) = f else { panic!() };
    assert!(m.contains_key("carrier_tracking_ref"));
    assert_eq!(
        m.get("carrier_tracking_ref"),
        Some(&value::structure([("type", st("char")), ("string", st("Tracking Reference"))]))
    );
    erp.shutdown().await;
    let bare = OpenErpSandbox::start(Options::recording()).await.unwrap();
    let c = Client::new(&bare);
    let f = c.ok("stock.picking", "fields_get", vec![fields(&["carrier_tracking_ref", "state"])], kw(&[])).await;
    let Value::Struct(m) = f else { panic!() };
    assert!(!m.contains_key("carrier_tracking_ref"), "no delivery module in the recorded database");
    assert!(m.contains_key("state"));
    let addon = c
        .ok("magento.backend", "fields_get", vec![], kw(&[("attributes", fields(&["type", "relation", "required"]))]))
        .await;
    let Value::Struct(a) = addon else { panic!() };
    assert_eq!(
        a.get("store_ids"),
        Some(&value::structure([
            ("type", st("one2many")),
            ("relation", st("magento.backend.store")),
            ("required", Value::Boolean(false))
        ]))
    );
    let tax = c
        .ok(
            "account.tax",
            "fields_get",
            vec![fields(&["magento_tax_class_id", "magento_tax_class_mapped"])],
            kw(&[("attributes", fields(&["type"]))]),
        )
        .await;
    assert_eq!(
        tax,
        value::structure([
            ("magento_tax_class_id", value::structure([("type", st("integer"))])),
            ("magento_tax_class_mapped", value::structure([("type", st("boolean"))]))
        ])
    );
    bare.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_backend_is_ready() {
    let (erp, c) = sandbox().await;
    let b =
        records(&c.ok("magento.backend", "search_read", vec![domain(&[("name", "=", st("sandbox"))])], kw(&[])).await);
    assert_eq!(b.len(), 1);
    let b = &b[0];
    assert_eq!(s(b, "stock_field"), "virtual_available");
    assert!(m2o(b, "shipping_product_id").is_some());
    assert!(matches!(b.get("root_category_id"), Some(Value::Array(a)) if a[1] == st("All / Saleable")));
    let stores = records(
        &c.ok("magento.backend.store", "search_read", vec![domain(&[])], kw(&[("order", st("magento_store_id"))]))
            .await,
    );
    assert_eq!(stores.len(), 3);
    assert_eq!(s(&stores[1], "lang"), "fr_FR");
    assert!(matches!(stores[1].get("pricelist_id"), Some(Value::Array(a)) if a[1] == st("EUR Pricelist (EUR)")));
    assert!(matches!(stores[2].get("warehouse_id"), Some(Value::Array(a)) if a[1] == st("Chicago")));
    let methods = records(
        &c.ok(
            "magento.payment.method",
            "search_read",
            vec![domain(&[])],
            kw(&[("fields", fields(&["code", "payment_term_id"]))]),
        )
        .await,
    );
    let mut codes: Vec<&str> = methods.iter().map(|m| s(m, "code")).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["banktransfer", "checkmo"]);
    let statuses = search(&c, "magento.order.status", domain(&[]), &[]).await;
    assert_eq!(statuses.len(), 5);
    let taxes = records(
        &c.ok(
            "account.tax",
            "search_read",
            vec![domain(&[("type_tax_use", "=", st("sale"))])],
            kw(&[("fields", fields(&["name", "magento_tax_class_id", "magento_tax_class_mapped", "price_include"]))]),
        )
        .await,
    );
    let eco = taxes.iter().find(|t| s(t, "name") == "Eco Tax 2%").unwrap();
    assert_eq!(eco.get("magento_tax_class_mapped"), Some(&Value::Boolean(false)));
    let none = taxes.iter().find(|t| s(t, "name") == "No Tax 0%").unwrap();
    assert_eq!(
        (none.get("magento_tax_class_id"), none.get("magento_tax_class_mapped")),
        (Some(&Value::Integer(0)), Some(&Value::Boolean(true)))
    );
    let cats = records(
        &c.ok(
            "product.category",
            "search_read",
            vec![domain(&[("magento_exportable", "=", Value::Boolean(false))])],
            kw(&[("fields", fields(&["complete_name"]))]),
        )
        .await,
    );
    assert_eq!(cats.iter().map(|m| s(m, "complete_name")).collect::<Vec<_>>(), ["All / Saleable / Internal Supplies"]);
    let john = records(
        &c.ok(
            "res.partner",
            "search_read",
            vec![domain(&[("email", "=ilike", st("JOHN.DOE@example.com"))])],
            kw(&[("fields", fields(&["email", "child_ids"]))]),
        )
        .await,
    );
    assert_eq!(s(&john[0], "email"), "John.Doe@Example.com");
    let child = records(
        &c.ok(
            "res.partner",
            "read",
            vec![john[0]["child_ids"].clone()],
            kw(&[("fields", fields(&["type", "street", "city", "display_name"]))]),
        )
        .await,
    );
    assert_eq!(
        (s(&child[0], "type"), s(&child[0], "street"), s(&child[0], "city")),
        ("delivery", "1200 Ocean Ave", "Los Angeles")
    );
    assert_eq!(s(&child[0], "display_name"), "John Doe, John Doe");
    erp.shutdown().await;
}

#[tokio::test]
async fn partners_children_and_addresses() {
    let (erp, c) = sandbox().await;
    let co = c
        .ok(
            "res.partner",
            "create",
            vec![value::structure([
                ("name", st("Acme Corp")),
                ("is_company", Value::Boolean(true)),
                ("street", st("1 Main St")),
                ("city", st("Austin")),
                ("state_id", Value::Integer(52)),
                ("country_id", Value::Integer(233)),
                ("vat", st("US123")),
            ])],
            kw(&[]),
        )
        .await;
    let co_id = value::to_i64("id", &co).unwrap();
    let created = c
        .ok(
            "res.partner",
            "create",
            vec![value::array([
                value::structure([("name", st("Ann")), ("parent_id", co.clone()), ("street", st("ignored"))]),
                value::structure([
                    ("name", st("Ship")),
                    ("parent_id", co.clone()),
                    ("type", st("delivery")),
                    ("street", st("9 Dock Rd")),
                    ("city", st("Houston")),
                ]),
            ])],
            kw(&[]),
        )
        .await;
    let created = id_list(&created);
    assert_eq!(created.len(), 2, "a list of dicts creates several records");
    let p = erp.partner(co_id).unwrap();
    let ann = p.children.iter().find(|x| x.name == "Ann").unwrap();
    assert_eq!(
        (ann.street.as_deref(), ann.city.as_deref(), ann.state_code.as_deref(), ann.vat.as_deref()),
        (Some("1 Main St"), Some("Austin"), Some("TX"), Some("US123"))
    );
    assert_eq!(ann.display_name, "Acme Corp, Ann");
    let ship = p.children.iter().find(|x| x.kind == "delivery").unwrap();
    assert_eq!(ship.street.as_deref(), Some("9 Dock Rd"));
    c.ok("res.partner", "write", vec![co.clone(), value::structure([("street", st("2 New St"))])], kw(&[])).await;
    let p = erp.partner(co_id).unwrap();
    assert_eq!(
        p.children.iter().find(|x| x.name == "Ann").unwrap().street.as_deref(),
        Some("2 New St"),
        "contacts follow the parent's address"
    );
    assert_eq!(
        p.children.iter().find(|x| x.kind == "delivery").unwrap().street.as_deref(),
        Some("9 Dock Rd"),
        "other types keep theirs"
    );
    let order = c.ok("sale.order", "create", vec![value::structure([("partner_id", co.clone())])], kw(&[])).await;
    let so = records(
        &c.ok(
            "sale.order",
            "read",
            vec![value::array([order])],
            kw(&[("fields", fields(&["partner_invoice_id", "partner_shipping_id"]))]),
        )
        .await,
    )
    .remove(0);
    assert_eq!(m2o(&so, "partner_shipping_id"), Some(ship.id), "delivery address from the delivery child");
    assert_eq!(m2o(&so, "partner_invoice_id"), Some(co_id), "no invoice child: the partner itself");
    let ns = c.ok("res.partner", "name_search", vec![st("acme")], kw(&[])).await;
    let Value::Array(pairs) = ns else { panic!() };
    assert_eq!(pairs.len(), 3);
    let bad = c
        .exec("res.partner", "write", vec![co, value::structure([("type", st("shipping"))])], kw(&[]))
        .await
        .unwrap_err();
    assert_eq!(bad.code, 1);
    assert!(
        bad.message.trim_end().ends_with("ValueError: Wrong value for res.partner.type: 'shipping'"),
        "{}",
        bad.message
    );
    erp.shutdown().await;
}

#[tokio::test]
async fn faults_on_both_endpoints() {
    let (erp, c) = sandbox().await;
    let none = c
        .exec(
            "product.product",
            "action_archive",
            vec![ids(&search(&c, "product.product", d_code("HOME-002"), &[]).await)],
            kw(&[]),
        )
        .await
        .unwrap_err();
    assert_eq!(none.code, 1);
    assert!(none.message.trim_end().ends_with("TypeError: cannot marshal None unless allow_none is enabled"));
    assert!(search(&c, "product.product", d_code("HOME-002"), &[]).await.is_empty(), "archived despite the fault");
    let tmpl = erp.read("product.product", erp.product_id("HOME-002").unwrap(), &["product_tmpl_id"]).unwrap().unwrap();
    let t = m2o(&tmpl, "product_tmpl_id").unwrap();
    assert_eq!(
        erp.read("product.template", t, &["active"]).unwrap().unwrap().get("active"),
        Some(&Value::Boolean(false)),
        "the last variant's template is archived too"
    );
    let legacy =
        c.exec_at("/xmlrpc/object", "magento.missing", "search", vec![domain(&[])], kw(&[])).await.unwrap_err();
    assert_eq!(legacy.text_code.as_deref(), Some("warning -- UserError\n\nObject magento.missing doesn't exist"));
    assert_eq!(legacy.message, "");
    let missing =
        c.exec_at("/xmlrpc/object", "res.partner", "unlink", vec![ids(&[987654])], kw(&[])).await.unwrap_err();
    assert_eq!(
        missing.text_code.as_deref(),
        Some(
            "warning -- MissingError\n\nRecord does not exist or has been deleted.\n(Record: res.partner(987654,), User: 2)"
        )
    );
    let python = c
        .exec_at("/xmlrpc/object", "res.partner", "read", vec![ids(&[1])], kw(&[("fields", fields(&["nope"]))]))
        .await
        .unwrap_err();
    assert_eq!(python.text_code.as_deref(), Some("Invalid field 'nope' on model 'res.partner'"));
    assert!(python.message.starts_with("Traceback (most recent call last):"));
    let none_legacy =
        c.exec_at("/xmlrpc/object", "res.partner", "action_archive", vec![ids(&[1])], kw(&[])).await.unwrap_err();
    assert_eq!(none_legacy.text_code.as_deref(), Some("cannot marshal None unless allow_none is enabled"));
    let denied = c
        .call(
            "/xmlrpc/object",
            "execute_kw",
            vec![
                st("connector"),
                Value::Integer(2),
                st("bad"),
                st("res.partner"),
                st("search"),
                value::array([domain(&[])]),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!((denied.text_code.as_deref(), denied.message.as_str()), (Some("AccessDenied"), "Access Denied"));
    let private = c.exec("res.partner", "_read", vec![], kw(&[])).await.unwrap_err();
    assert_eq!(
        (private.code, private.message.as_str()),
        (4, "Private methods (such as _read) cannot be called remotely.")
    );
    let unknown_service = c.call("/xmlrpc/2/nosuchservice", "x", vec![]).await.unwrap_err();
    assert!(unknown_service.message.trim_end().ends_with("KeyError: 'nosuchservice'"));
    let overflow = c
        .exec("res.partner", "write", vec![ids(&[1]), value::structure([("color", Value::Long(1 << 40))])], kw(&[]))
        .await
        .unwrap_err();
    assert!(overflow.message.contains("NumericValueOutOfRange: integer out of range"), "{}", overflow.message);
    let datetime = c
        .exec(
            "sale.order",
            "search",
            vec![domain(&[("date_order", ">", Value::String("2020-01-01".into()))])],
            kw(&[("count", Value::Boolean(true))]),
        )
        .await
        .unwrap_err();
    assert!(
        datetime.message.contains("TypeError: BaseModel.search() got an unexpected keyword argument 'count'"),
        "{}",
        datetime.message
    );
    assert_eq!(c.get("/xmlrpc/2/object").await, 405);
    assert_eq!(c.get("/xmlrpc/common").await, 405);
    erp.shutdown().await;
}

#[tokio::test]
async fn a_failed_call_leaves_nothing_behind() {
    let (erp, c) = sandbox().await;
    let before = erp.count("sale.order.line", &[]).unwrap();
    let lamp = erp.product_id("API-LAMP-001").unwrap();
    let err = c
        .exec(
            "sale.order",
            "create",
            vec![value::structure([
                ("partner_id", Value::Integer(6)),
                (
                    "order_line",
                    value::array([
                        value::array([
                            Value::Integer(0),
                            Value::Integer(0),
                            value::structure([("product_id", value::id(lamp))]),
                        ]),
                        value::array([
                            Value::Integer(0),
                            Value::Integer(0),
                            value::structure([("product_id", Value::Integer(999999))]),
                        ]),
                    ]),
                ),
            ])],
            kw(&[]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, 2, "{}", err.message);
    assert!(err.message.contains("Constraint: sale_order_line_product_id_fkey"), "{}", err.message);
    assert_eq!(erp.count("sale.order", &[]).unwrap(), 0);
    assert_eq!(erp.count("sale.order.line", &[]).unwrap(), before);
    let req = c
        .exec("sale.order", "create", vec![value::structure([("client_order_ref", st("x"))])], kw(&[]))
        .await
        .unwrap_err();
    assert!(req.message.ends_with("Field: Customer (partner_id)\n"));
    let ok = c.ok("sale.order", "create", vec![value::structure([("partner_id", Value::Integer(6))])], kw(&[])).await;
    let so = erp.order(value::to_i64("id", &ok).unwrap()).unwrap();
    assert_eq!(so.name, "S00003", "failed creates consumed S00001 and S00002, as with Odoo's sequences");
    erp.shutdown().await;
}

#[tokio::test]
async fn write_date_moves_and_images_round_trip() {
    let (erp, c) = sandbox().await;
    let mug = erp.product_id("HOME-001").unwrap();
    erp.set_clock(Some(chrono::NaiveDate::from_ymd_opt(2030, 1, 2).unwrap().and_hms_opt(3, 4, 5).unwrap()));
    c.ok(
        "product.product",
        "write",
        vec![ids(&[mug]), value::structure([("list_price", Value::Double(8.5))])],
        kw(&[]),
    )
    .await;
    let r = erp.read("product.product", mug, &["write_date", "list_price", "lst_price"]).unwrap().unwrap();
    assert_eq!(s(&r, "write_date"), "2030-01-02 03:04:05");
    assert_eq!((dbl(&r, "list_price"), dbl(&r, "lst_price")), (8.5, 8.5));
    let changed = search(&c, "product.product", domain(&[("write_date", ">=", st("2030-01-01 00:00:00"))]), &[]).await;
    assert_eq!(changed, [mug]);
    let png =
        "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==";
    c.ok("product.product", "write", vec![ids(&[mug]), value::structure([("image_1920", st(png))])], kw(&[])).await;
    let r = erp.read("product.product", mug, &["image_1920", "image_128"]).unwrap().unwrap();
    assert_eq!((s(&r, "image_1920"), s(&r, "image_128")), (png, png));
    let b64 = c
        .exec(
            "product.product",
            "write",
            vec![ids(&[mug]), value::structure([("image_1920", Value::Base64(vec![1, 2, 3]))])],
            kw(&[]),
        )
        .await
        .unwrap_err();
    assert_eq!((b64.code, b64.message.as_str()), (2, "Image is not encoded in base64."));
    let not_image = c
        .exec(
            "product.product",
            "write",
            vec![ids(&[mug]), value::structure([("image_1920", st("aGVsbG8="))])],
            kw(&[]),
        )
        .await
        .unwrap_err();
    assert_eq!(not_image.code, 2);
    let dt = c
        .exec(
            "sale.order",
            "create",
            vec![value::structure([
                ("partner_id", Value::Integer(6)),
                ("date_order", Value::DateTime("20240801T10:00:00".parse::<dxr::DateTime>().unwrap())),
            ])],
            kw(&[]),
        )
        .await
        .unwrap_err();
    assert!(dt.message.trim_end().ends_with("TypeError: object of type 'DateTime' has no len()"), "{}", dt.message);
    let nil = c.ok("res.partner", "write", vec![ids(&[6]), value::structure([("phone", Value::Nil)])], kw(&[])).await;
    assert_eq!(nil, Value::Boolean(true));
    assert_eq!(erp.read("res.partner", 6, &["phone"]).unwrap().unwrap().get("phone"), Some(&Value::Boolean(false)));
    erp.shutdown().await;
}

#[tokio::test]
async fn read_group_and_int_limits() {
    let (erp, c) = sandbox().await;
    let g = c
        .ok(
            "product.product",
            "read_group",
            vec![domain(&[("detailed_type", "=", st("product"))]), fields(&["list_price:sum"]), fields(&["categ_id"])],
            kw(&[("lazy", Value::Boolean(false))]),
        )
        .await;
    let groups = records(&g);
    assert!(groups.len() > 5);
    assert!(groups.iter().all(|m| m.contains_key("__count")
        && m.contains_key("__domain")
        && matches!(m.get("categ_id"), Some(Value::Array(_)))));
    let big = c
        .exec("res.partner", "search", vec![domain(&[("id", "in", value::array([Value::Long(1 << 33)]))])], kw(&[]))
        .await
        .unwrap_err();
    assert!(
        big.message
            .contains("psycopg2.errors.NumericValueOutOfRange: value \"8589934592\" is out of range for type integer"),
        "{}",
        big.message
    );
    c.ok(
        "product.product",
        "write",
        vec![
            ids(&[erp.product_id("HOME-001").unwrap()]),
            value::structure([("standard_price", Value::Long(5_000_000_000))]),
        ],
        kw(&[]),
    )
    .await;
    let r = erp.read("product.product", erp.product_id("HOME-001").unwrap(), &["standard_price"]).unwrap().unwrap();
    assert_eq!(dbl(&r, "standard_price"), 5.0e9);
    erp.shutdown().await;
}

#[tokio::test]
async fn common_and_db_services() {
    let (erp, c) = sandbox().await;
    assert_eq!(
        c.call(
            "/xmlrpc/2/common",
            "authenticate",
            vec![st("connector"), st("admin"), st("admin"), Value::Struct(Map::new())]
        )
        .await
        .unwrap(),
        Value::Integer(2)
    );
    assert_eq!(
        c.call(
            "/xmlrpc/2/common",
            "authenticate",
            vec![st("connector"), st("admin"), st("nope"), Value::Struct(Map::new())]
        )
        .await
        .unwrap(),
        Value::Boolean(false)
    );
    assert_eq!(
        c.call("/xmlrpc/common", "login", vec![st("connector"), st("admin"), st("admin")]).await.unwrap(),
        Value::Integer(2)
    );
    let db = c
        .call(
            "/xmlrpc/2/common",
            "authenticate",
            vec![st("other"), st("admin"), st("admin"), Value::Struct(Map::new())],
        )
        .await
        .unwrap_err();
    assert!(db.message.contains("psycopg2.OperationalError"));
    assert_eq!(c.call("/xmlrpc/2/db", "list", vec![]).await.unwrap(), value::array([st("connector")]));
    assert_eq!(c.call("/xmlrpc/2/db", "server_version", vec![]).await.unwrap(), st("17.0-20240709"));
    let wrong_uid = c
        .call(
            "/xmlrpc/2/object",
            "execute_kw",
            vec![
                st("connector"),
                Value::Integer(77),
                st("admin"),
                st("res.partner"),
                st("search"),
                value::array([domain(&[])]),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (wrong_uid.code, wrong_uid.message.as_str()),
        (2, "Record does not exist or has been deleted.\n(Record: res.users(77,), User: 77)")
    );
    let positional = c
        .call(
            "/xmlrpc/2/object",
            "execute",
            vec![
                st("connector"),
                Value::Integer(2),
                st("admin"),
                st("res.partner"),
                st("search_count"),
                domain(&[("email", "=ilike", st("john.doe@example.com"))]),
            ],
        )
        .await
        .unwrap();
    assert_eq!(positional, Value::Integer(1));
    erp.shutdown().await;
}

#[tokio::test]
async fn x2many_commands_and_more_operators() {
    let (erp, c) = sandbox().await;
    let mug = erp.product_id("HOME-001").unwrap();
    let t = erp.seed_ids().taxes.clone();
    let cmd = |code: i32, id: i64, vals: Value| value::array([Value::Integer(code), value::id(id), vals]);
    let order = c
        .ok(
            "sale.order",
            "create",
            vec![value::structure([
                ("partner_id", Value::Integer(6)),
                (
                    "order_line",
                    value::array([
                        cmd(0, 0, value::structure([("product_id", value::id(mug))])),
                        cmd(
                            0,
                            0,
                            value::structure([("product_id", value::id(mug)), ("product_uom_qty", Value::Integer(2))]),
                        ),
                    ]),
                ),
            ])],
            kw(&[]),
        )
        .await;
    let lines = erp.order(value::to_i64("id", &order).unwrap()).unwrap().lines;
    let (l1, l2) = (lines[0].id, lines[1].id);
    c.ok(
        "sale.order",
        "write",
        vec![
            value::array([order.clone()]),
            value::structure([(
                "order_line",
                value::array([
                    cmd(1, l1, value::structure([("product_uom_qty", Value::Integer(5))])),
                    cmd(2, l2, Value::Integer(0)),
                ]),
            )]),
        ],
        kw(&[]),
    )
    .await;
    let o = erp.order(value::to_i64("id", &order).unwrap()).unwrap();
    assert_eq!(o.lines.iter().map(|l| (l.id, l.qty)).collect::<Vec<_>>(), vec![(l1, rust_decimal::Decimal::from(5))]);
    assert!(erp.read("sale.order.line", l2, &["id"]).unwrap().is_none(), "(2, id) deletes the line");
    let set =
        |cmds: Value| c.ok("sale.order.line", "write", vec![ids(&[l1]), value::structure([("tax_id", cmds)])], kw(&[]));
    set(value::array([cmd(5, 0, Value::Integer(0))])).await;
    assert!(erp.order(o.id).unwrap().lines[0].tax_ids.is_empty());
    set(value::array([cmd(4, t["standard"], Value::Integer(0)), cmd(4, t["eco"], Value::Integer(0))])).await;
    assert_eq!(erp.order(o.id).unwrap().lines[0].tax_ids.len(), 2);
    set(value::array([cmd(3, t["eco"], Value::Integer(0))])).await;
    assert_eq!(erp.order(o.id).unwrap().lines[0].tax_ids, vec![t["standard"]]);
    set(value::array([value::array([Value::Integer(6), Value::Integer(0), value::array([value::id(t["none"])])])]))
        .await;
    assert_eq!(erp.order(o.id).unwrap().lines[0].tax_ids, vec![t["none"]]);
    let bad = c
        .exec(
            "sale.order.line",
            "write",
            vec![ids(&[l1]), value::structure([("tax_id", value::array([cmd(4, 424242, Value::Integer(0))]))])],
            kw(&[]),
        )
        .await
        .unwrap_err();
    assert_eq!(bad.code, 2);
    assert_eq!(erp.order(o.id).unwrap().lines[0].tax_ids, vec![t["none"]], "the failed write changed nothing");
    let any_code = search(&c, "product.product", domain(&[("default_code", "=?", Value::Boolean(false))]), &[]).await;
    assert_eq!(
        any_code.len(),
        erp.count("product.product", &[("active", "=", Value::Boolean(true))]).unwrap(),
        "=? False is always true"
    );
    let phones = search(&c, "product.category", domain(&[("name", "=", st("Phones"))]), &[]).await[0];
    let up =
        search(&c, "product.category", domain(&[("id", "parent_of", value::id(phones))]), &[("order", st("id"))]).await;
    assert_eq!(up.len(), 4, "Phones, Electronics, Saleable, All");
    let loop_ = c
        .exec(
            "product.category",
            "write",
            vec![ids(&[up[0]]), value::structure([("parent_id", value::id(phones))])],
            kw(&[]),
        )
        .await
        .unwrap_err();
    assert_eq!((loop_.code, loop_.message.as_str()), (2, "Recursion Detected."));
    let legacy = c.raw("/xmlrpc/object", "<?xml version='1.0'?><methodCall><methodName>execute_kw").await.unwrap();
    let f = decode(&legacy.body).unwrap_err();
    assert!(f.text_code.as_deref().is_some_and(|t| t.starts_with("no element found")), "{f:?}");
    erp.shutdown().await;
}

#[tokio::test]
async fn bin_size_reads_image_sizes_instead_of_images() {
    let (erp, c) = sandbox().await;
    let lamp = erp.product_id("API-LAMP-001").unwrap();
    let mug = erp.product_id("HOME-001").unwrap();
    let read = |ctx: Value| {
        let c = &c;
        async move {
            let r = c
                .ok(
                    "product.product",
                    "read",
                    vec![ids(&[lamp, mug])],
                    kw(&[("fields", fields(&["image_1920", "name"])), ("context", ctx)]),
                )
                .await;
            records(&r).into_iter().map(|m| (m["image_1920"].clone(), m["name"].clone())).collect::<Vec<_>>()
        }
    };
    let full = read(value::structure::<&str>([])).await;
    let Value::String(png) = &full[0].0 else { panic!("the lamp has an image: {full:?}") };
    assert_eq!(full[1].0, Value::Boolean(false));
    let size = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => panic!("a size, not {other:?}"),
    };
    let expected = {
        use base64::Engine as _;
        let n = base64::engine::general_purpose::STANDARD.decode(png).unwrap().len();
        assert!(n < 1024, "the demo image is small: {n}");
        format!("{n}.00 bytes")
    };
    for ctx in [
        value::structure([("bin_size", Value::Boolean(true))]),
        value::structure([("bin_size_image_1920", Value::Boolean(true))]),
    ] {
        let sized = read(ctx).await;
        assert_eq!(size(&sized[0].0), expected);
        assert_eq!(sized[1].0, Value::Boolean(false), "no image stays False");
        assert_eq!(sized[0].1, full[0].1, "other fields are read as usual");
    }
    let other_field = read(value::structure([("bin_size_image_128", Value::Boolean(true))])).await;
    assert_eq!(other_field[0].0, full[0].0, "bin_size of another field leaves this one whole");
    erp.shutdown().await;
}
