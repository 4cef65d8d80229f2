//! Bad data from the peers (issue 10): Magento orders and OpenERP products, categories and
//! stock with missing fields, wrong types, empty strings, control characters, references to
//! lone surrogates, very long strings, absurd or negative quantities and prices, zero-quantity
//! items, no items, an orphan configurable child, odd SKUs and names.
//!
//! Each bad record must end as a clear per-record error (a failed record, or a broken order,
//! whose reason names the field) or be carried over intact (text the peer really holds), never
//! a panic, never half-written (no partner or order left in OpenERP for a broken order, no
//! product or category created or changed in Magento for a failed one), and every other record
//! of the same run is still processed.
//!
//! Bad values are planted with the sandboxes' test hooks: the Magento order builder plus
//! `MagentoSandbox::tamper_order` (edits an order's `sales_order.info` answer) and
//! `rewrite_answers` (raw text no value can hold), the OpenERP sandbox's `write`, and
//! `with_db` + `set_stored` (a `Val::Wire` stores a mistyped wire value).

mod reliability_support;

use dxr::Value;
use magento_connector::rpc::value::{self as v, Map};
use magento_connector::sandbox::harness::{Harness, RunResult};
use magento_connector::sandbox::magento1::{AddressSpec, CustomerSpec, LineSpec, NewAddress, OrderSpec};
use magento_connector::sandbox::openerp::orm::val::Val;
use magento_connector::server::jobs::JobKind;
use magento_connector::store::{Outcome, RunState};
use reliability_support::*;

// ---------------------------------------------------------------------------------------------
// Orders from Magento

/// Sets (or with `None` removes) the member at a dotted path (`items.0.qty_ordered`).
fn set(v: &mut Value, path: &str, new: Option<Value>) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut cur = v;
    for p in parts {
        cur = match cur {
            Value::Struct(m) => m.get_mut(p).unwrap_or_else(|| panic!("no {p} in {path}")),
            Value::Array(a) => &mut a[p.parse::<usize>().unwrap()],
            other => panic!("{path}: {other:?}"),
        };
    }
    match (cur, new) {
        (Value::Struct(m), Some(n)) => {
            m.insert(last.to_owned(), n);
        }
        (Value::Struct(m), None) => {
            m.remove(last);
        }
        (Value::Array(a), Some(n)) => a[last.parse::<usize>().unwrap()] = n,
        (Value::Array(a), None) => {
            a.remove(last.parse::<usize>().unwrap());
        }
        (other, _) => panic!("{path}: {other:?}"),
    }
}

fn text(s: &str) -> Option<Value> {
    Some(Value::String(s.to_owned()))
}

/// Markers the answers' text is rewritten from (no value holds what they become).
const LONE_SURROGATE: &str = "\u{e000}";
const SURROGATE_PAIR: &str = "\u{e001}";
const RAW_CONTROL: &str = "\u{e002}";
const BOGUS_ENTITY: &str = "\u{e003}";

fn rewrite_markers(h: &Harness) {
    let m = h.magento();
    m.rewrite_answers(LONE_SURROGATE, "&#55357;");
    m.rewrite_answers(SURROGATE_PAIR, "&#55357;&#56832;");
    m.rewrite_answers(RAW_CONTROL, "&#1;");
    m.rewrite_answers(BOGUS_ENTITY, "&bogus;");
}

/// A guest order of `HOME-001` × 1 and `HOME-002` × 2 by `<case>@bad.example`.
fn place(h: &Harness, case: &str, lines: Vec<LineSpec>) -> String {
    let address = NewAddress {
        firstname: "Bad".into(),
        lastname: case.into(),
        company: None,
        street: vec!["1 Main St".into()],
        city: "Los Angeles".into(),
        region_id: Some(12),
        region: None,
        postcode: "90001".into(),
        country_id: "US".into(),
        telephone: "310-555-0000".into(),
    };
    let spec = OrderSpec::new(
        1,
        CustomerSpec::Guest { email: format!("{case}@bad.example"), firstname: "Bad".into(), lastname: case.into() },
        AddressSpec::New(address),
        lines,
    );
    h.magento().add_order(&spec).unwrap()
}

/// What must become of a bad order.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Broken, with this code and these words in the reason.
    Broken(&'static str, &'static str),
    /// Imported; the billing partner's name contains this text.
    Imported(&'static str),
}

struct Case {
    name: &'static str,
    expect: Expect,
    tamper: fn(&mut Value),
}

fn order_cases() -> Vec<Case> {
    use Expect::{Broken, Imported};
    let case = |name, expect, tamper| Case { name, expect, tamper };
    vec![
        case("nosku", Broken("magento_data", "no SKU"), |v| set(v, "items.0.sku", None)),
        case("emptysku", Broken("magento_data", "no SKU"), |v| set(v, "items.0.sku", text(""))),
        case("skuspaces", Broken("magento_data", "no SKU"), |v| set(v, "items.0.sku", text("   "))),
        case("skuint", Broken("unknown_sku", "12345"), |v| set(v, "items.0.sku", Some(Value::Integer(12345)))),
        case("qtytext", Broken("magento_data", "qty_ordered`: expected a decimal number, got string \"abc\""), |v| {
            set(v, "items.0.qty_ordered", text("abc"))
        }),
        case("qtyarray", Broken("magento_data", "qty_ordered`: expected a decimal number, got array"), |v| {
            set(v, "items.0.qty_ordered", Some(Value::Array(vec![])))
        }),
        case("qtyhuge", Broken("magento_data", "quantity 1000000000000 (`qty_ordered`)"), |v| {
            set(v, "items.0.qty_ordered", text("1000000000000.0000"))
        }),
        case("qtyexponent", Broken("magento_data", "quantity 1000000000000 (`qty_ordered`)"), |v| {
            set(v, "items.0.qty_ordered", text("1e12"))
        }),
        case("qtynegative", Broken("magento_data", "has quantity -3"), |v| {
            set(v, "items.0.qty_ordered", text("-3.0000"))
        }),
        case("qtyzero", Broken("magento_data", "has quantity 0"), |v| set(v, "items.0.qty_ordered", text("0.0000"))),
        case("pricenegative", Broken("magento_data", "negative price -10 (`price`)"), |v| {
            set(v, "items.0.price", text("-10.0000"))
        }),
        case("rownegative", Broken("magento_data", "negative price -20 (`row_total`)"), |v| {
            set(v, "items.1.row_total", text("-20.0000"))
        }),
        case("noitems", Broken("magento_data", "no items (`items`"), |v| set(v, "items", Some(Value::Array(vec![])))),
        case("itemsmissing", Broken("magento_data", "no items (`items`"), |v| set(v, "items", None)),
        case("orphanchild", Broken("magento_data", "parent item 999999 (`parent_item_id`)"), |v| {
            set(v, "items.0.parent_item_id", text("999999"))
        }),
        // The order's third line is a configurable T-shirt: its parent row goes, the child stays.
        case("configchild", Broken("magento_data", "(`parent_item_id`), which is not in the order"), |v| {
            let Value::Struct(m) = v else { return };
            if let Some(Value::Array(items)) = m.get_mut("items") {
                items.retain(
                    |i| !matches!(i, Value::Struct(x) if x.get("product_type") == text("configurable").as_ref()),
                );
            }
        }),
        case("nototal", Broken("magento_data", "grand_total`: expected a decimal number, got nothing"), |v| {
            set(v, "grand_total", None)
        }),
        case(
            "totaltext",
            Broken("magento_data", "grand_total`: expected a decimal number, got string \"lots\""),
            |v| set(v, "grand_total", text("lots")),
        ),
        case("emailstruct", Broken("magento_data", "customer_email`: expected text, got struct"), |v| {
            set(v, "customer_email", Some(Value::Struct(Default::default())))
        }),
        case("customerid", Broken("magento_data", "customer_id"), |v| set(v, "customer_id", text("abc"))),
        case("nopayment", Broken("magento_data", "no payment method (`payment.method`)"), |v| set(v, "payment", None)),
        case("nocountry", Broken("invalid_address", "billing address has no country"), |v| {
            set(v, "billing_address.country_id", text(""))
        }),
        case("nostreet", Broken("invalid_address", "neither street nor city"), |v| {
            set(v, "billing_address.street", text(""));
            set(v, "billing_address.city", text(" "));
        }),
        case("baddate", Broken("magento_data", "created_at`: expected a date-time, got string \"yesterday\""), |v| {
            set(v, "created_at", text("yesterday"))
        }),
        case("bogus", Broken("magento_data", "invalid XML-RPC response"), |v| {
            set(v, "billing_address.lastname", text(&format!("Bo{BOGUS_ENTITY}gus")))
        }),
        // Text the shop really holds is carried over as it arrives.
        case("processed", Imported("Con&#1;tr&#7;ol"), |v| {
            set(v, "billing_address.lastname", text("Con\u{1}tr\u{7}ol"))
        }),
        case("rawcontrol", Imported("Control"), |v| {
            set(v, "billing_address.lastname", text(&format!("Con{RAW_CONTROL}trol")))
        }),
        case("lonesurrogate", Imported("Sur\u{FFFD}rogate"), |v| {
            set(v, "billing_address.lastname", text(&format!("Sur{LONE_SURROGATE}rogate")))
        }),
        case("emoji", Imported("Smile \u{1F600}"), |v| {
            set(v, "billing_address.lastname", text(&format!("Smile {SURROGATE_PAIR}")))
        }),
        case("xml", Imported("<b>Tom & \"Jerry\"</b> ]]> &amp;"), |v| {
            set(v, "billing_address.lastname", text("<b>Tom & \"Jerry\"</b> ]]> &amp;"))
        }),
        case("long", Imported("Bad"), |v| set(v, "billing_address.street", text(&"Long Street ".repeat(20_000)))),
        case("nobilling", Imported("nobilling"), |v| set(v, "billing_address", None)),
    ]
}

fn broken_orders(r: &RunResult) -> Vec<&str> {
    r.with_outcome(Outcome::Failed).iter().map(|x| x.reference.as_str()).collect()
}

#[tokio::test]
async fn bad_orders_are_broken_with_the_field_named_and_the_others_imported() {
    let h = Harness::start().await.unwrap();
    rewrite_markers(&h);
    let cases = order_cases();
    let mut placed = Vec::new();
    for c in &cases {
        let mut lines = vec![LineSpec::new("HOME-001", 1), LineSpec::new("HOME-002", 2)];
        if c.name == "configchild" {
            lines.push(LineSpec { parent_sku: Some("CLO-TSHIRT".into()), ..LineSpec::new("CLO-TSHIRT-RED-M", 1) });
        }
        let inc = place(&h, c.name, lines);
        h.magento().tamper_order(&inc, c.tamper);
        placed.push(inc);
    }
    // Good orders placed after the bad ones share their batches.
    let good: Vec<String> =
        (0..3).map(|i| place(&h, &format!("good{i}"), vec![LineSpec::new("BOOK-001", 1)])).collect();
    let r = run_job(&h, JobKind::OrdersImport).await;
    assert_eq!(r.run.state, RunState::Done, "{:?}", r.run.error);
    let broken = h.store().broken().list(BACKEND, false).await.unwrap();
    let mut problems = Vec::new();
    for (c, inc) in cases.iter().zip(&placed) {
        let rec = r.record(inc).unwrap_or_else(|| panic!("{}: no record", c.name));
        let erp = h.openerp().orders_by_client_ref(inc);
        let partners = h.openerp().partners_by_email(&format!("{}@bad.example", c.name));
        match c.expect {
            Expect::Broken(code, words) => {
                let queued = broken.iter().find(|b| &b.increment_id == inc);
                let ok = rec.outcome == Outcome::Failed
                    && rec.message.contains(words)
                    && queued.is_some_and(|b| b.code.as_str() == code && b.reason.contains(words));
                if !ok {
                    problems.push(format!(
                        "{}: want broken {code} with {words:?}, got {:?}: {}",
                        c.name, rec.outcome, rec.message
                    ));
                }
                if !erp.is_empty() || !partners.is_empty() {
                    problems.push(format!(
                        "{}: half-written: {} order(s), {} partner(s)",
                        c.name,
                        erp.len(),
                        partners.len()
                    ));
                }
            }
            Expect::Imported(name) => {
                let billing = erp.first().and_then(|o| h.openerp().partner(o.partner_invoice_id));
                let ok = rec.outcome == Outcome::Created
                    && erp.len() == 1
                    && billing.as_ref().is_some_and(|p| p.name.contains(name));
                if !ok {
                    problems.push(format!(
                        "{}: want imported with billing name containing {name:?}, got {:?}: {} / {:?}",
                        c.name,
                        rec.outcome,
                        rec.message,
                        billing.map(|p| p.name)
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for inc in good.iter().chain(
        ["100000001", "100000002", "100000003", "100000005", "200000001", "300000001"]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .iter(),
    ) {
        assert_eq!(r.record(inc).map(|x| x.outcome), Some(Outcome::Created), "{inc}: {:?}", r.record(inc));
        assert_eq!(h.openerp().orders_by_client_ref(inc).len(), 1, "{inc}");
    }
    // The long street arrived whole.
    let long = &placed[cases.iter().position(|c| c.name == "long").unwrap()];
    let o = &h.openerp().orders_by_client_ref(long)[0];
    assert_eq!(
        h.openerp().partner(o.partner_invoice_id).unwrap().street.map(|s| s.len()),
        Some("Long Street ".len() * 20_000 - 1)
    );

    // Nothing changes on the next run: broken orders stay broken, nothing is imported twice.
    let before = Snapshot::take(h.magento(), h.openerp(), h.store()).await;
    let again = run_job(&h, JobKind::OrdersReimport).await;
    assert_eq!(again.run.state, RunState::Done);
    assert_eq!(broken_orders(&again).len(), broken.len(), "{:?}", again.records);
    let after = Snapshot::take(h.magento(), h.openerp(), h.store()).await;
    assert_same_state("after the re-import", &before, &after);
    assert!(after.duplicates(h.openerp()).is_empty(), "{:?}", after.duplicates(h.openerp()));
    h.shutdown().await;
}

/// Regression: an answer one order's data made undecodable failed every order of its
/// `multiCall` batch; now the batch is read again one order at a time.
#[tokio::test]
async fn one_unreadable_order_answer_fails_that_order_alone() {
    let h = Harness::start().await.unwrap();
    rewrite_markers(&h);
    let bad = place(&h, "bogus", vec![LineSpec::new("HOME-001", 1)]);
    h.magento().tamper_order(&bad, |v| set(v, "billing_address.lastname", text(&format!("x{BOGUS_ENTITY}"))));
    let r = run_job(&h, JobKind::OrdersImport).await;
    assert_eq!(broken_orders(&r), ["100000004", bad.as_str()], "{:#?}", r.records);
    assert_eq!(r.run.created, 6, "{:#?}", r.records);
    h.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Products, categories and stock from OpenERP

fn template(h: &Harness, product: i64) -> i64 {
    let m = h.openerp().read("product.product", product, &["product_tmpl_id"]).unwrap().unwrap();
    v::to_many2one("product_tmpl_id", &m["product_tmpl_id"]).unwrap().unwrap().id
}

/// Stores a value as it is, without the ORM's checks (a mistyped wire value with `Val::Wire`).
fn raw(h: &Harness, model: &str, id: i64, field: &str, val: Val) {
    h.openerp().with_db(|db| db.set_stored(model, id, field, val)).unwrap();
}

fn write(h: &Harness, model: &str, id: i64, field: &str, val: Value) {
    let mut m = Map::new();
    m.insert(field.into(), val);
    h.openerp().write(model, &[id], m).unwrap();
}

fn wire(v: Value) -> Val {
    Val::Wire(Box::new(v))
}

#[tokio::test]
async fn bad_catalog_data_fails_per_record_and_the_rest_is_exported() {
    let h = Harness::start().await.unwrap();
    let erp = h.openerp();
    let id = |sku: &str| erp.product_id(sku).unwrap();
    // Products already in Magento (bound by SKU) and new ones.
    let lamp = id("API-LAMP-001");
    write(&h, "product.product", lamp, "default_code", Value::String("   ".into()));
    write(&h, "product.product", id("OFF-DESK-001"), "default_code", Value::String("OFF/DESK/001".into()));
    write(&h, "product.product", id("HOME-003"), "default_code", Value::String("H".repeat(70)));
    let xml_name = "<b>Chair & \"Co\"</b> ]]> 'x' &amp; &#1;";
    write(&h, "product.template", template(&h, id("OFF-CHAIR-001")), "name", Value::String(xml_name.into()));
    write(&h, "product.template", template(&h, id("1001")), "name", Value::String("Gad\u{1}get\u{b}".into()));
    write(&h, "product.template", template(&h, id("HOME-001")), "list_price", Value::Double(-5.0));
    raw(&h, "product.template", template(&h, id("HOME-002")), "list_price", wire(Value::String("abc".into())));
    raw(&h, "product.product", id("ELEC-PHN-001"), "weight", wire(Value::String("heavy".into())));
    raw(&h, "product.template", template(&h, id("ELEC-ACC-001")), "name", wire(Value::Array(vec![])));
    raw(&h, "product.template", template(&h, id("CLO-M-001")), "name", Val::Str(String::new()));
    write(&h, "product.template", template(&h, id("CLO-W-001")), "name", Value::String("Wo\u{e000}men".into()));
    erp.rewrite_answers("\u{e000}", "&#55357;");
    let long_name = "Very long book ".repeat(1000);
    write(&h, "product.template", template(&h, id("BOOK-001")), "name", Value::String(long_name.clone()));
    // Categories: an empty name (its child goes without it), a name with markup and slashes.
    let desks = erp.search("product.category", &[("name", "=", v::string("Desks"))]).unwrap()[0];
    let office = erp.search("product.category", &[("name", "=", v::string("Office"))]).unwrap()[0];
    raw(&h, "product.category", office, "name", Val::Str(String::new()));
    let phones = erp.search("product.category", &[("name", "=", v::string("Phones"))]).unwrap()[0];
    let odd = "Tools & <Hardware> / Indoor/Outdoor";
    write(&h, "product.category", phones, "name", Value::String(odd.into()));
    let magento_before: Vec<_> = magento_products(h.magento());

    let c = run_job(&h, JobKind::Categories).await;
    assert_eq!(c.run.state, RunState::Done, "{:?}", c.run.error);
    for root in [2, 12] {
        let failed: Vec<_> = c
            .with_outcome(Outcome::Failed)
            .into_iter()
            .filter(|r| r.reference.ends_with(&format!("(root {root})")))
            .collect();
        assert_eq!(failed.len(), 2, "root {root}: the nameless category and its child: {failed:#?}");
        assert!(
            failed.iter().any(|r| r.openerp_id == Some(office) && r.message.contains("needs a name")),
            "{failed:#?}"
        );
        assert!(
            failed.iter().any(|r| r.openerp_id == Some(desks) && r.message.contains("could not be created")),
            "{failed:#?}"
        );
        assert!(h.magento().categories_named(root, "").is_empty(), "no nameless category under root {root}");
    }
    assert_eq!(c.with_outcome(Outcome::Created).len() + c.with_outcome(Outcome::Updated).len(), 16, "{:#?}", c.records);
    let electronics = h.magento().categories_named(2, "Electronics")[0].id;
    assert_eq!(h.magento().categories_named(electronics, odd).len(), 1, "the odd name arrives as it is");

    let p = run_job(&h, JobKind::Products).await;
    assert_eq!(p.run.state, RunState::Done, "one product's data never stops the run: {:?}", p.run.error);
    let failed = |reference: &str, words: &str| {
        let r = p
            .records
            .iter()
            .find(|r| r.reference == reference)
            .unwrap_or_else(|| panic!("no record {reference}: {:#?}", p.records));
        assert_eq!(r.outcome, Outcome::Failed, "{reference}: {r:?}");
        assert!(r.message.contains(words), "{reference}: {words:?} not in {:?}", r.message);
    };
    failed(&format!("[id {lamp}] Brass Desk Lamp"), "no internal reference (SKU)");
    failed(&"H".repeat(70), "longer than the 64 characters");
    failed("HOME-001", "price -5 is negative");
    failed(
        &format!("[id {}]", id("HOME-002")),
        "`product.product.list_price`: expected a decimal number, got string \"abc\"",
    );
    failed(
        &format!("[id {}]", id("ELEC-PHN-001")),
        "`product.product.weight`: expected a decimal number, got string \"heavy\"",
    );
    failed(&format!("[id {}]", id("ELEC-ACC-001")), "`product.product.name`: expected text, got array");
    failed("CLO-M-001", "no name");
    // A name beyond Magento's VARCHAR(255) would be cut silently by the shop: refused instead.
    failed("BOOK-001", &format!("name is {} characters long; Magento keeps at most 255", long_name.trim().len()));
    // Nothing half-written: the failed products are as they were in Magento.
    for sku in ["HOME-001", "HOME-002", "ELEC-PHN-001", "ELEC-ACC-001", "CLO-M-001", "BOOK-001"] {
        let before = magento_before.iter().find(|x| x.sku == sku).unwrap();
        let now = h.magento().product(sku).unwrap();
        assert_eq!((&now.values, &now.category_ids), (&before.values, &before.category_ids), "{sku} changed");
    }
    assert!(h.magento().product(&"H".repeat(64)).is_none() && h.magento().product("   ").is_none());
    // The others went, their text as OpenERP holds it (control characters cannot travel).
    let name = |sku: &str| h.magento().product(sku).and_then(|p| p.values.get("name").cloned());
    assert_eq!(name("OFF/DESK/001").as_deref(), Some("Standing Desk"));
    assert_eq!(name("OFF-CHAIR-001").as_deref(), Some(xml_name));
    assert_eq!(name("1001").as_deref(), Some("Gadget"));
    assert_eq!(name("CLO-W-001").as_deref(), Some("Wo\u{FFFD}men"), "a lone surrogate from OpenERP reads as U+FFFD");
    for sku in
        ["ELEC-PHN-002", "ELEC-ACC-002", "SRV-WARRANTY-2Y", "OFF/DESK/001", "OFF-CHAIR-001", "1001", "OFF-PAPER-A4"]
    {
        let r = p.record(sku).unwrap_or_else(|| panic!("no record {sku}"));
        assert!(matches!(r.outcome, Outcome::Created | Outcome::Updated), "{sku}: {r:?}");
    }

    // Stock: an absurd quantity is refused with the reason, a negative one is sent as 0.
    erp.set_stock(id("ELEC-ACC-002"), 1, rust_decimal::Decimal::from(1_000_000_000_000_i64)).unwrap();
    erp.set_stock(id("ELEC-PHN-002"), 1, rust_decimal::Decimal::from(-7)).unwrap();
    erp.set_stock(id("ELEC-PHN-002"), 2, rust_decimal::Decimal::ZERO).unwrap();
    // A mistyped reference fails that product's stock, not the page it was read in.
    raw(&h, "product.product", id("OFF-PAPER-A4"), "default_code", wire(Value::Array(vec![])));
    let paper_before = h.magento().stock("OFF-PAPER-A4").unwrap();
    let before = h.magento().stock("ELEC-ACC-002").unwrap();
    let s = run_job(&h, JobKind::Stock).await;
    assert_eq!(s.run.state, RunState::Done, "{:?}", s.run.error);
    let r = s.record("OFF-PAPER-A4").unwrap_or_else(|| panic!("{:#?}", s.records));
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    assert!(r.message.contains("default_code") && r.message.contains("expected text, got array"), "{}", r.message);
    assert_eq!(h.magento().stock("OFF-PAPER-A4").unwrap(), paper_before, "nothing sent for it");
    let r = s.record("ELEC-ACC-002").unwrap();
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    assert!(r.message.contains("1000000000") && r.message.contains("beyond what Magento can store"), "{}", r.message);
    assert_eq!(h.magento().stock("ELEC-ACC-002").unwrap(), before, "nothing sent");
    assert_eq!(h.magento().stock("ELEC-PHN-002").map(|s| (s.qty.is_zero(), s.is_in_stock)), Some((true, false)));
    assert!(s.with_outcome(Outcome::Updated).len() >= 10, "{:#?}", s.records);

    // A second run changes nothing and duplicates nothing.
    let snap = Snapshot::take(h.magento(), erp, h.store()).await;
    run_job(&h, JobKind::Categories).await;
    run_job(&h, JobKind::Products).await;
    assert_same_state("second catalog run", &snap, &Snapshot::take(h.magento(), erp, h.store()).await);
    assert!(snap.duplicates(erp).is_empty(), "{:?}", snap.duplicates(erp));
    h.shutdown().await;
}
