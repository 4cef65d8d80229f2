//! Sales orders in the OpenERP sandbox: amounts (discount, price-included taxes, rounding per
//! line, compared with the recorded Odoo 17 amounts), line defaults and pricelists,
//! confirmation (delivery, forecasts, `date_order` overwritten), deliveries with backorders and
//! tracking references, invoices, cancellation, stock per warehouse.

mod openerp_sandbox_support;

use std::str::FromStr;

use chrono::NaiveDate;
use dxr::Value;
use magento_connector::rpc::value::{self, Map};
use magento_connector::sandbox::openerp::{InvoiceLine, OpenErpSandbox, Options};
use openerp_sandbox_support::*;
use rust_decimal::Decimal;

fn st(x: &str) -> Value {
    value::string(x)
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn line(vals: Vec<(&str, Value)>) -> Value {
    value::array([Value::Integer(0), Value::Integer(0), value::structure(vals)])
}

fn taxes(ids: &[i64]) -> Value {
    value::array([value::array([
        Value::Integer(6),
        Value::Integer(0),
        value::array(ids.iter().map(|i| value::id(*i))),
    ])])
}

async fn create_order(c: &Client, vals: Vec<(&str, Value)>) -> i64 {
    value::to_i64("id", &c.ok("sale.order", "create", vec![value::structure(vals)], kw(&[])).await).unwrap()
}

fn recorded(stem: &str) -> Value {
    let base = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = ["..", "../..", "../../.."]
        .iter()
        .map(|up| base.join(up).join("shared/recordings/odoo17"))
        .find(|p| p.join("INDEX.md").is_file())
        .expect("../shared/recordings/odoo17");
    decode(&std::fs::read_to_string(dir.join(format!("{stem}.response.xml"))).unwrap()).unwrap()
}

#[tokio::test]
async fn amounts_match_the_recorded_order() {
    let erp = OpenErpSandbox::start(Options::recording()).await.unwrap();
    let c = Client::new(&erp);
    let partner = value::to_i64(
        "id",
        &c.ok(
            "res.partner",
            "create",
            vec![value::structure([("name", st("Buyer")), ("is_company", Value::Boolean(true))])],
            kw(&[]),
        )
        .await,
    )
    .unwrap();
    let ship = value::to_i64(
        "id",
        &c.ok(
            "product.product",
            "create",
            vec![value::structure([("name", st("Ship")), ("detailed_type", st("service"))])],
            kw(&[]),
        )
        .await,
    )
    .unwrap();
    let order = create_order(
        &c,
        vec![
            ("partner_id", value::id(partner)),
            (
                "order_line",
                value::array([
                    line(vec![
                        ("product_id", Value::Integer(5)),
                        ("product_uom_qty", Value::Double(2.0)),
                        ("price_unit", Value::Double(100.0)),
                        ("discount", Value::Double(10.0)),
                        ("tax_id", taxes(&[1])),
                    ]),
                    line(vec![
                        ("product_id", Value::Integer(6)),
                        ("name", st("Custom")),
                        ("product_uom_qty", Value::Double(1.0)),
                        ("price_unit", Value::Double(19.99)),
                        ("tax_id", taxes(&[1])),
                    ]),
                    line(vec![
                        ("product_id", value::id(ship)),
                        ("price_unit", Value::Double(5.0)),
                        ("tax_id", taxes(&[])),
                    ]),
                ]),
            ),
        ],
    )
    .await;
    let want = records(&recorded("0330-sale.order.read-draft")).remove(0);
    let got = records(
        &c.ok(
            "sale.order",
            "read",
            vec![ids(&[order])],
            kw(&[("fields", fields(&["amount_untaxed", "amount_tax", "amount_total"]))]),
        )
        .await,
    )
    .remove(0);
    for f in ["amount_untaxed", "amount_tax", "amount_total"] {
        assert_eq!(got.get(f), want.get(f), "{f}");
    }
    let want_lines = records(&recorded("0340-sale.order.line.search_read"));
    let got_lines = records(
        &c.ok(
            "sale.order.line",
            "search_read",
            vec![domain(&[("order_id", "=", value::id(order))])],
            kw(&[("order", st("id"))]),
        )
        .await,
    );
    for (w, g) in want_lines.iter().zip(&got_lines) {
        for f in ["price_subtotal", "price_tax", "price_total", "discount", "price_unit"] {
            assert_eq!(g.get(f), w.get(f), "{f}");
        }
    }
    c.ok("sale.order", "action_confirm", vec![ids(&[order])], kw(&[])).await;
    let want_totals = records(&recorded("0360-sale.order.read-confirmed")).remove(0);
    let got_totals =
        records(&c.ok("sale.order", "read", vec![ids(&[order])], kw(&[("fields", fields(&["tax_totals"]))])).await)
            .remove(0);
    assert_eq!(got_totals.get("tax_totals"), want_totals.get("tax_totals"));
    erp.shutdown().await;
}

#[tokio::test]
async fn price_included_taxes_discounts_and_rounding_per_line() {
    let erp = OpenErpSandbox::start(Options::default()).await.unwrap();
    let c = Client::new(&erp);
    let t = erp.seed_ids().taxes.clone();
    let (std_tax, vat20) = (t["standard"], t["vat20"]);
    let mug = erp.product_id("HOME-001").unwrap();
    let order = create_order(
        &c,
        vec![
            ("partner_id", Value::Integer(6)),
            (
                "order_line",
                value::array([
                    line(vec![
                        ("product_id", value::id(mug)),
                        ("product_uom_qty", Value::Double(3.0)),
                        ("price_unit", Value::Double(19.99)),
                        ("discount", Value::Double(10.0)),
                        ("tax_id", taxes(&[vat20])),
                    ]),
                    line(vec![
                        ("product_id", value::id(mug)),
                        ("product_uom_qty", Value::Double(7.0)),
                        ("price_unit", Value::Double(9.99)),
                        ("tax_id", taxes(&[std_tax])),
                    ]),
                    line(vec![
                        ("product_id", value::id(mug)),
                        ("price_unit", Value::Double(0.06)),
                        ("tax_id", taxes(&[std_tax])),
                    ]),
                    line(vec![
                        ("product_id", value::id(mug)),
                        ("price_unit", Value::Double(0.06)),
                        ("tax_id", taxes(&[std_tax])),
                    ]),
                    line(vec![
                        ("product_id", value::id(mug)),
                        ("price_unit", Value::Double(0.06)),
                        ("tax_id", taxes(&[std_tax])),
                    ]),
                ]),
            ),
        ],
    )
    .await;
    let o = erp.order(order).unwrap();
    // 19.99 × 0.9 × 3 = 53.973 → 53.97 included; 53.97 / 1.2 = 44.975 → 44.98; tax 8.99.
    assert_eq!((o.lines[0].subtotal, o.lines[0].tax, o.lines[0].total), (d("44.98"), d("8.99"), d("53.97")));
    // 69.93 × 8.25% = 5.769225 → 5.77.
    assert_eq!((o.lines[1].subtotal, o.lines[1].tax), (d("69.93"), d("5.77")));
    // 0.06 × 8.25% = 0.00495 → 0.00 on each line (rounding globally would give 0.01).
    assert!(o.lines[2..].iter().all(|l| l.tax.is_zero()));
    assert_eq!(o.amount_untaxed, d("44.98") + d("69.93") + d("0.18"));
    assert_eq!(o.amount_tax, d("8.99") + d("5.77"));
    assert_eq!(o.amount_total, o.amount_untaxed + o.amount_tax);
    let r = records(
        &c.ok("sale.order", "read", vec![ids(&[order])], kw(&[("fields", fields(&["amount_total", "tax_totals"]))]))
            .await,
    )
    .remove(0);
    assert_eq!(dbl(&r, "amount_total"), 129.85);
    let Some(Value::Struct(tt)) = r.get("tax_totals") else { panic!() };
    assert_eq!(tt.get("formatted_amount_total"), Some(&st("$\u{a0}129.85")));
    erp.shutdown().await;
}

#[tokio::test]
async fn line_defaults_come_from_product_partner_and_pricelist() {
    let erp = OpenErpSandbox::start(Options::default()).await.unwrap();
    let c = Client::new(&erp);
    let fr_partner = value::to_i64(
        "id",
        &c.ok(
            "res.partner",
            "create",
            vec![value::structure([("name", st("Emily Martin")), ("lang", st("fr_FR"))])],
            kw(&[]),
        )
        .await,
    )
    .unwrap();
    let (book, mug, cable) = (
        erp.product_id("BOOK-001").unwrap(),
        erp.product_id("HOME-001").unwrap(),
        erp.product_id("ELEC-ACC-001").unwrap(),
    );
    let eur = erp.seed_ids().pricelists["EUR"];
    let order = create_order(
        &c,
        vec![
            ("partner_id", value::id(fr_partner)),
            ("pricelist_id", value::id(eur)),
            (
                "order_line",
                value::array([
                    line(vec![("product_id", value::id(book))]),
                    line(vec![("product_id", value::id(mug)), ("product_uom_qty", Value::Integer(2))]),
                ]),
            ),
        ],
    )
    .await;
    let o = erp.order(order).unwrap();
    assert_eq!(o.currency, "EUR");
    assert_eq!(o.lines[0].price_unit, d("36"), "fixed EUR price of the pricelist rule");
    assert_eq!(o.lines[1].price_unit, d("7.16"), "7.95 USD at 0.9 EUR per USD");
    assert_eq!(
        o.lines[1].name, "[HOME-001] Mug en céramique 350ml\nCeramic Coffee Mug 350ml.",
        "name in the customer's language"
    );
    assert_eq!(o.lines[0].tax_ids, vec![erp.seed_ids().taxes["none"]], "taxes of the product");
    let usd = erp.seed_ids().pricelists["USD"];
    let bulk = create_order(
        &c,
        vec![
            ("partner_id", Value::Integer(6)),
            ("pricelist_id", value::id(usd)),
            (
                "order_line",
                value::array([
                    line(vec![("product_id", value::id(cable)), ("product_uom_qty", Value::Integer(10))]),
                    line(vec![("product_id", value::id(cable))]),
                ]),
            ),
        ],
    )
    .await;
    let o = erp.order(bulk).unwrap();
    assert_eq!((o.lines[0].price_unit, o.lines[1].price_unit), (d("8.99"), d("9.99")), "10% from 10 units");
    erp.shutdown().await;
}

#[tokio::test]
async fn confirmation_creates_the_delivery_and_overwrites_the_date() {
    let erp = OpenErpSandbox::start(Options::default()).await.unwrap();
    let c = Client::new(&erp);
    let desk = erp.product_id("OFF-DESK-001").unwrap();
    let wh = erp.seed_ids().warehouses.clone();
    let before = erp.stock(desk, Some(wh[0]));
    assert_eq!(
        (before.on_hand, before.forecast, before.free, before.incoming, before.outgoing),
        (d("4"), d("8"), d("1"), d("10"), d("6"))
    );
    let order = create_order(
        &c,
        vec![
            ("partner_id", Value::Integer(6)),
            ("date_order", st("2024-07-10 12:34:56")),
            ("client_order_ref", st("100000042")),
            (
                "order_line",
                value::array([
                    line(vec![("product_id", value::id(desk)), ("product_uom_qty", Value::Integer(3))]),
                    line(vec![
                        ("product_id", value::id(erp.product_id("SHIP").unwrap())),
                        ("price_unit", Value::Double(5.0)),
                    ]),
                ]),
            ),
        ],
    )
    .await;
    assert_eq!(erp.order(order).unwrap().date_order, "2024-07-10 12:34:56");
    erp.set_clock(Some(NaiveDate::from_ymd_opt(2030, 5, 6).unwrap().and_hms_opt(7, 8, 9).unwrap()));
    assert_eq!(c.ok("sale.order", "action_confirm", vec![ids(&[order])], kw(&[])).await, Value::Boolean(true));
    let o = erp.order(order).unwrap();
    assert_eq!((o.state.as_str(), o.date_order.as_str()), ("sale", "2030-05-06 07:08:09"));
    assert_eq!((o.invoice_status.as_str(), o.delivery_status.as_deref()), ("to invoice", Some("pending")));
    assert_eq!(o.picking_ids.len(), 1);
    let p = records(
        &c.ok(
            "stock.picking",
            "search_read",
            vec![domain(&[("sale_id", "=", value::id(order))])],
            kw(&[(
                "fields",
                fields(&[
                    "name",
                    "state",
                    "origin",
                    "picking_type_code",
                    "move_ids",
                    "carrier_tracking_ref",
                    "partner_id",
                ]),
            )]),
        )
        .await,
    )
    .remove(0);
    assert_eq!(
        (s(&p, "name"), s(&p, "state"), s(&p, "origin"), s(&p, "picking_type_code")),
        ("WH/OUT/00001", "assigned", o.name.as_str(), "outgoing")
    );
    assert_eq!(p.get("carrier_tracking_ref"), Some(&Value::Boolean(false)));
    assert_eq!(id_list(&p["move_ids"]).len(), 1, "no move for the service line");
    let after = erp.stock(desk, Some(wh[0]));
    assert_eq!(
        (after.on_hand, after.outgoing, after.forecast, after.free),
        (d("4"), d("9"), d("5"), d("0")),
        "1 unit was free, it is now reserved"
    );
    let twice = c.exec("sale.order", "action_confirm", vec![ids(&[order])], kw(&[])).await.unwrap_err();
    assert_eq!(
        (twice.code, twice.message.clone()),
        (2, format!("The following orders are not in a state requiring confirmation: {}", o.name))
    );
    erp.shutdown().await;
}

#[tokio::test]
async fn partial_delivery_backorder_invoices_and_statuses() {
    let erp = OpenErpSandbox::start(Options::default()).await.unwrap();
    let c = Client::new(&erp);
    let shirt = erp.product_id("CLO-TSHIRT-RED-S").unwrap();
    let wh = erp.seed_ids().warehouses.clone();
    let order = create_order(
        &c,
        vec![
            ("partner_id", Value::Integer(6)),
            (
                "order_line",
                value::array([line(vec![("product_id", value::id(shirt)), ("product_uom_qty", Value::Integer(3))])]),
            ),
        ],
    )
    .await;
    erp.confirm_order(order).unwrap();
    let picking = erp.order(order).unwrap().picking_ids[0];
    let backorder =
        erp.deliver(picking, Some(&[(shirt, d("1"))]), Some("1Z999AA10123456784"), true).unwrap().expect("a backorder");
    let done = erp.read("stock.picking", picking, &["state", "carrier_tracking_ref", "date_done"]).unwrap().unwrap();
    assert_eq!((s(&done, "state"), s(&done, "carrier_tracking_ref")), ("done", "1Z999AA10123456784"));
    assert!(matches!(done.get("date_done"), Some(Value::String(_))));
    let bo = erp.read("stock.picking", backorder, &["state", "backorder_id", "name"]).unwrap().unwrap();
    assert_eq!(
        (s(&bo, "state"), m2o(&bo, "backorder_id"), s(&bo, "name")),
        ("assigned", Some(picking), "WH/OUT/00002")
    );
    let o = erp.order(order).unwrap();
    assert_eq!((o.lines[0].qty_delivered, o.delivery_status.as_deref()), (d("1"), Some("partial")));
    assert_eq!(erp.stock(shirt, Some(wh[0])).on_hand, d("14"));
    let inv = erp.invoice_order(order, Some(&[InvoiceLine { line_id: o.lines[0].id, qty: d("2") }]), true).unwrap();
    let i = erp
        .read(
            "account.move",
            inv,
            &["name", "state", "move_type", "invoice_origin", "amount_total", "invoice_line_ids"],
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        (s(&i, "name").starts_with("INV/"), s(&i, "state"), s(&i, "move_type"), s(&i, "invoice_origin")),
        (true, "posted", "out_invoice", o.name.as_str())
    );
    assert_eq!(dbl(&i, "amount_total"), 43.08, "2 × 19.90 + 8.25%");
    let o = erp.order(order).unwrap();
    assert_eq!(
        (o.lines[0].qty_invoiced, o.invoice_status.as_str(), o.invoice_ids.clone()),
        (d("2"), "to invoice", vec![inv])
    );
    erp.deliver_order(order, Some("1Z999AA10123456785")).unwrap();
    erp.invoice_order(order, None, true).unwrap();
    let o = erp.order(order).unwrap();
    assert_eq!(
        (o.delivery_status.as_deref(), o.invoice_status.as_str(), o.lines[0].qty_delivered),
        (Some("full"), "invoiced", d("3"))
    );
    assert_eq!(erp.stock(shirt, Some(wh[0])).on_hand, d("12"));
    let nothing = erp.invoice_order(order, None, true).unwrap_err();
    assert!(nothing.to_string().starts_with("There is no invoiceable line"));
    erp.shutdown().await;
}

#[tokio::test]
async fn cancellation_asks_then_releases_the_reservation() {
    let erp = OpenErpSandbox::start(Options::default()).await.unwrap();
    let c = Client::new(&erp);
    let mug = erp.product_id("HOME-001").unwrap();
    let wh = erp.seed_ids().warehouses[0];
    let order = create_order(
        &c,
        vec![
            ("partner_id", Value::Integer(6)),
            (
                "order_line",
                value::array([line(vec![("product_id", value::id(mug)), ("product_uom_qty", Value::Integer(5))])]),
            ),
        ],
    )
    .await;
    erp.confirm_order(order).unwrap();
    assert_eq!(erp.stock(mug, Some(wh)).free, d("55"));
    let wizard = c.ok("sale.order", "action_cancel", vec![ids(&[order])], kw(&[])).await;
    let Value::Struct(w) = wizard else { panic!("{wizard:?}") };
    assert_eq!(w.get("res_model"), Some(&st("sale.order.cancel")));
    assert_eq!(erp.order(order).unwrap().state, "sale", "the wizard did not cancel");
    let done = c
        .ok(
            "sale.order",
            "action_cancel",
            vec![ids(&[order])],
            kw(&[("context", value::structure([("disable_cancel_warning", Value::Boolean(true))]))]),
        )
        .await;
    assert_eq!(done, Value::Boolean(true));
    let o = erp.order(order).unwrap();
    assert_eq!(o.state, "cancel");
    let p = erp.read("stock.picking", o.picking_ids[0], &["state"]).unwrap().unwrap();
    assert_eq!(s(&p, "state"), "cancel");
    let st_after = erp.stock(mug, Some(wh));
    assert_eq!((st_after.free, st_after.outgoing), (d("60"), d("0")));
    let other = create_order(
        &c,
        vec![
            ("partner_id", Value::Integer(6)),
            ("order_line", value::array([line(vec![("product_id", value::id(mug))])])),
        ],
    )
    .await;
    erp.confirm_order(other).unwrap();
    erp.cancel_order(other).unwrap();
    assert_eq!(erp.order(other).unwrap().state, "cancel");
    assert!(
        c.exec("sale.order", "unlink", vec![ids(&[other])], kw(&[])).await.is_ok(),
        "cancelled orders can be deleted"
    );
    erp.shutdown().await;
}

#[tokio::test]
async fn stock_per_warehouse_location_or_everywhere() {
    let erp = OpenErpSandbox::start(Options::default()).await.unwrap();
    let c = Client::new(&erp);
    let shirt = erp.product_id("CLO-TSHIRT-BLUE-M").unwrap();
    let read = |ctx: Map| {
        let c = &c;
        async move {
            let r = c
                .ok(
                    "product.product",
                    "read",
                    vec![ids(&[shirt])],
                    kw(&[
                        ("fields", fields(&["qty_available", "virtual_available", "free_qty"])),
                        ("context", Value::Struct(ctx)),
                    ]),
                )
                .await;
            dbl(&records(&r)[0], "qty_available")
        }
    };
    assert_eq!(read(Map::new()).await, 65.0);
    let wh = erp.seed_ids().warehouses.clone();
    assert_eq!(read(kw(&[("warehouse", value::id(wh[1]))])).await, 50.0);
    assert_eq!(read(kw(&[("warehouse", st("Chicago"))])).await, 50.0);
    assert_eq!(read(kw(&[("warehouse", st("San Francisco"))])).await, 15.0);
    assert_eq!(read(kw(&[("location", st("CHI/Stock"))])).await, 50.0);
    assert_eq!(read(kw(&[("location", value::id(erp.seed_ids().stock_locations[0]))])).await, 15.0);
    erp.set_stock(shirt, wh[1], d("7")).unwrap();
    assert_eq!(read(kw(&[("warehouse", value::id(wh[1]))])).await, 7.0);
    let in_stock = c
        .ok(
            "product.product",
            "search",
            vec![domain(&[("qty_available", ">", Value::Integer(100)), ("detailed_type", "=", st("product"))])],
            kw(&[("context", value::structure([("warehouse", value::id(wh[1]))]))]),
        )
        .await;
    assert_eq!(id_list(&in_stock), vec![erp.product_id("ELEC-ACC-001").unwrap(), erp.product_id("HOME-001").unwrap()]);
    erp.shutdown().await;
}

#[tokio::test]
async fn product_edits_as_a_user_would_make_them() {
    let erp = OpenErpSandbox::start(Options::default()).await.unwrap();
    let lamp = erp.product_id("API-LAMP-001").unwrap();
    erp.edit_product(lamp, kw(&[("list_price", Value::Double(55.5)), ("name", st("Brass Lamp"))]), None).unwrap();
    erp.edit_product(lamp, kw(&[("name", st("Lampe en laiton"))]), Some("fr_FR")).unwrap();
    let en = erp.read("product.product", lamp, &["name", "lst_price"]).unwrap().unwrap();
    assert_eq!((s(&en, "name"), dbl(&en, "lst_price")), ("Brass Lamp", 55.5));
    erp.archive_product(lamp).unwrap();
    assert_eq!(
        erp.read("product.product", lamp, &["active"]).unwrap().unwrap().get("active"),
        Some(&Value::Boolean(false))
    );
    assert_eq!(erp.count("product.product", &[("active", "=", Value::Boolean(false))]).unwrap(), 2);
    erp.shutdown().await;
}
