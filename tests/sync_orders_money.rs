//! The money of imported orders: percent and fixed coupons, tax-excluded and tax-included
//! catalog prices, taxed shipping, a second currency, configurable items with a coupon, a cent
//! of Magento's "Total" tax rounding (the rounding rule), and a "Unit Price" tax that cannot be
//! reproduced (totals mismatch, nothing left in OpenERP). Every imported order equals
//! Magento's grand total to the cent.

mod sync_orders_support;

use dxr::Value;
use magento_connector::rpc::value;
use magento_connector::sandbox::harness::{Harness, SandboxesOptions};
use magento_connector::sandbox::magento1::{
    AddressSpec, CustomerSpec, LineSpec, NewAddress, OrderSpec, SandboxOptions, TaxCalculation,
};
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{BrokenCode, Outcome};
use rust_decimal::Decimal;
use sync_orders_support::*;

/// Both sandboxes without the seeded orders.
async fn empty_shop() -> Harness {
    let options = SandboxesOptions {
        magento: SandboxOptions { seed_orders: false, ..SandboxOptions::default() },
        ..SandboxesOptions::default()
    };
    Harness::with_options(options).await.unwrap()
}

fn address(region_id: i64, city: &str, street: &str) -> NewAddress {
    NewAddress {
        firstname: "Pat".into(),
        lastname: "Buyer".into(),
        company: None,
        street: vec![street.into()],
        city: city.into(),
        region_id: Some(region_id),
        region: None,
        postcode: "90001".into(),
        country_id: "US".into(),
        telephone: "555-0100".into(),
    }
}

fn guest(email: &str) -> CustomerSpec {
    CustomerSpec::Guest { email: email.into(), firstname: "Pat".into(), lastname: "Buyer".into() }
}

const CA: i64 = 12;
const NY: i64 = 43;

fn spec(email: &str, region: i64, lines: Vec<LineSpec>) -> OrderSpec {
    OrderSpec::new(1, guest(email), AddressSpec::New(address(region, "Somewhere", "1 Main St")), lines)
}

fn add(h: &Harness, s: &OrderSpec) -> String {
    h.magento().add_order(s).unwrap()
}

fn struct_of(v: Value) -> magento_connector::rpc::value::Map {
    match v {
        Value::Struct(m) => m,
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupons_shipping_tax_currencies_and_configurables_land_exactly() {
    let h = empty_shop().await;
    let mut orders = Vec::new();
    // Percent coupon with taxed shipping.
    let mut s = spec("a@example.org", CA, vec![LineSpec::new("ELEC-PHN-001", 1), LineSpec::new("HOME-001", 3)]);
    s.coupon = Some("CONNECTOR10".into());
    s.tax_shipping = true;
    orders.push(add(&h, &s));
    // Fixed coupon spread over three rows of different sizes, NY tax, taxed shipping.
    let mut s = spec(
        "b@example.org",
        NY,
        vec![LineSpec::new("HOME-002", 2), LineSpec::new("CLO-W-001", 1), LineSpec::new("ELEC-ACC-001", 7)],
    );
    s.coupon = Some("SAVE5".into());
    s.tax_shipping = true;
    orders.push(add(&h, &s));
    // Configurable with a coupon, untaxed book, virtual item.
    let mut s = spec(
        "c@example.org",
        CA,
        vec![
            LineSpec::configurable("CLO-TSHIRT", "CLO-TSHIRT-RED-M", 3),
            LineSpec::new("BOOK-001", 2),
            LineSpec::new("SRV-WARRANTY-2Y", 1),
        ],
    );
    s.coupon = Some("CONNECTOR10".into());
    orders.push(add(&h, &s));
    // EUR store with a fixed coupon (converted) and taxed shipping.
    let mut s = OrderSpec::new(
        2,
        CustomerSpec::Registered(4),
        AddressSpec::New(address(CA, "Paris-sur-Mer", "2 Rue Haute")),
        vec![LineSpec::new("HOME-003", 1), LineSpec::configurable("CLO-TSHIRT", "CLO-TSHIRT-BLUE-S", 2)],
    );
    s.coupon = Some("SAVE5".into());
    s.tax_shipping = true;
    orders.push(add(&h, &s));
    // Big quantities and a coupon: rows where only some percentages are exact.
    let mut s = spec(
        "d@example.org",
        NY,
        vec![LineSpec::new("ELEC-PHN-002", 17), LineSpec::new("HOME-001", 29), LineSpec::new("ELEC-ACC-001", 113)],
    );
    s.coupon = Some("SAVE5".into());
    orders.push(add(&h, &s));

    let r = import(&h).await;
    assert_eq!(assert_all_created_exact(&h, &r), orders.len(), "{:#?}", r.records);
    for inc in &orders {
        let o = assert_exact_tax(&h, inc);
        let m = h.magento().order(inc).unwrap();
        let ship = o.lines.iter().find(|l| l.sku.as_deref() == Some("SHIP")).unwrap();
        assert_eq!((ship.subtotal, ship.tax), (m.totals.shipping, m.totals.shipping_tax), "{inc}");
        // Every Magento row with money has its line with its exact untaxed amount, unless a
        // discount line took the part no percentage could express.
        let discount_lines = o.lines.iter().filter(|l| l.sku.as_deref() == Some("DISCOUNT")).count();
        for item in m.items.iter().filter(|i| i.parent_item_id.is_none()) {
            let line = o.lines.iter().find(|l| l.sku.as_deref() == Some(item.sku.as_str())).unwrap();
            assert_eq!((line.qty, line.price_unit), (item.qty_ordered, item.price), "{inc} {}", item.sku);
            if discount_lines == 0 {
                assert_eq!(line.subtotal, item.row_total - item.discount, "{inc} {}", item.sku);
                assert_eq!(line.tax, item.tax, "{inc} {}", item.sku);
            }
        }
    }
    // Fixed discounts on large rows need discount lines (taxed, plus the untaxed cents that
    // keep the tax exact); both paths ran.
    let with_lines = orders
        .iter()
        .filter(|inc| erp_orders(&h, inc)[0].lines.iter().any(|l| l.sku.as_deref() == Some("DISCOUNT")))
        .count();
    assert!(with_lines >= 1 && with_lines < orders.len(), "{with_lines} orders with discount lines");
    let big = erp_orders(&h, &orders[4]).remove(0);
    let disc: Vec<_> = big.lines.iter().filter(|l| l.sku.as_deref() == Some("DISCOUNT")).collect();
    assert!(!disc.is_empty() && disc.iter().all(|l| l.price_unit < d("0")), "{big:#?}");
    let eur = assert_exact_tax(&h, &orders[3]);
    assert_eq!(eur.currency, "EUR");
    let m = h.magento().order(&orders[3]).unwrap();
    assert_eq!(m.totals.discount, d("-4.50"), "SAVE5 is 4.50 EUR at 0.9");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tax_included_prices_use_a_price_included_tax() {
    let h = empty_shop().await;
    let mut s = spec("incl@example.org", CA, vec![LineSpec::new("HOME-001", 3), LineSpec::new("CLO-M-001", 2)]);
    s.prices_include_tax = true;
    s.coupon = Some("CONNECTOR10".into());
    let with_coupon = add(&h, &s);
    let mut s = spec("incl2@example.org", CA, vec![LineSpec::new("ELEC-ACC-001", 3)]);
    s.prices_include_tax = true;
    let plain = add(&h, &s);

    // Without a price-included 8.25 % tax in OpenERP the discounted order cannot be imported
    // exactly: it is broken with what to create.
    let r = import(&h).await;
    assert_eq!(outcome(&r, &with_coupon), Outcome::Failed, "{}", message(&r, &with_coupon));
    let b = h.store().broken().get("sandbox", &with_coupon).await.unwrap().unwrap();
    assert_eq!(b.code, BrokenCode::UnmappedTax, "{}", b.reason);
    assert!(b.reason.contains("8.25 %") && b.reason.contains("included in the price"), "{}", b.reason);
    assert!(erp_orders(&h, &with_coupon).is_empty());
    assert_eq!(outcome(&r, &plain), Outcome::Created, "{}", message(&r, &plain));
    assert_all_created_exact(&h, &r);

    // The user creates it; the re-import uses it with Magento's prices including tax.
    let vals = value::structure([
        ("name", value::string("Sales Tax 8.25% (incl.)")),
        ("amount", value::double(8.25)),
        ("amount_type", value::string("percent")),
        ("price_include", value::boolean(true)),
        ("type_tax_use", value::string("sale")),
    ]);
    let incl = h.openerp().create("account.tax", struct_of(vals)).unwrap();
    let r = reimport(&h, &[]).await;
    assert_eq!(outcome(&r, &with_coupon), Outcome::Created, "{}", message(&r, &with_coupon));
    assert!(message(&r, &with_coupon).contains("prices include tax"), "{}", message(&r, &with_coupon));
    let o = assert_exact_tax(&h, &with_coupon);
    let m = h.magento().order(&with_coupon).unwrap();
    for item in &m.items {
        let line = o.lines.iter().find(|l| l.sku.as_deref() == Some(item.sku.as_str())).unwrap();
        assert_eq!(line.tax_ids, vec![incl], "{}", item.sku);
        assert_ne!(line.price_unit, item.price, "the price including tax, not Magento's price excluding it");
        assert!(line.price_unit > item.price, "{}", item.sku);
        // Magento's 10 % (or the percentage that gives its rounding of the row exactly).
        assert!((line.discount - d("10")).abs() < d("0.1"), "{}: {}", item.sku, line.discount);
        assert_eq!(line.tax, item.tax, "{}", item.sku);
    }
    // Without discount nor any sign of prices including tax in Magento's figures, the order
    // was imported at once with Magento's prices excluding tax: the same money to the cent.
    let o = assert_exact_tax(&h, &plain);
    assert_eq!(o.lines[0].tax_ids, vec![h.openerp().seed_ids().taxes["standard"]]);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cent_of_total_rounding_is_an_explicit_adjustment_and_unit_price_tax_is_a_mismatch() {
    let h = empty_shop().await;
    // "Total": the delta carried over rows moves a cent of tax compared with per-row rounding.
    let rows = vec![LineSpec::new("ELEC-ACC-001", 1), LineSpec::new("CLO-M-001", 1), LineSpec::new("HOME-001", 1)];
    let mut candidates = Vec::new();
    for extra in ["HOME-002", "CLO-W-001", "ELEC-PHN-001", "HOME-003"] {
        let mut lines = rows.clone();
        lines.push(LineSpec::new(extra, 1));
        let mut s = spec("total@example.org", CA, lines);
        s.tax_calculation = TaxCalculation::Total;
        candidates.push(add(&h, &s));
    }
    let per_row_differs = |inc: &str| {
        let m = h.magento().order(inc).unwrap();
        let per_row: Decimal = m
            .items
            .iter()
            .map(|i| {
                ((i.row_total - i.discount) * d("0.0825"))
                    .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
            })
            .sum();
        per_row != m.totals.tax
    };
    let total = candidates.iter().find(|inc| per_row_differs(inc)).cloned().expect("one order shows the cent");
    // "Unit Price": 0.84 per unit × 10 = 8.40 where OpenERP computes 8.37.
    let mut s = spec("unit@example.org", NY, vec![LineSpec::new("ELEC-ACC-001", 10)]);
    s.tax_calculation = TaxCalculation::UnitPrice;
    let unit = add(&h, &s);
    let partners = h.openerp().count("res.partner", &[]).unwrap();

    let r = import(&h).await;
    assert_all_created_exact(&h, &r);
    let o = assert_exact(&h, &total);
    let m = h.magento().order(&total).unwrap();
    let rounding: Vec<_> = o.lines.iter().filter(|l| l.sku.as_deref() == Some("ROUNDING")).collect();
    assert_eq!(rounding.len(), 1, "{o:#?}\n{}\n{m:#?}", message(&r, &total));
    assert_eq!(rounding[0].tax_ids, Vec::<i64>::new());
    assert!(rounding[0].price_unit.abs() <= d("0.02"));
    assert!((o.amount_tax - m.totals.tax).abs() <= d("0.02"));
    let msg = message(&r, &total);
    assert!(msg.contains("rounding rule") && msg.contains(&m.totals.grand_total.normalize().to_string()), "{msg}");
    assert_eq!(o.state, "sale");

    assert_eq!(outcome(&r, &unit), Outcome::Failed, "{}", message(&r, &unit));
    let b = h.store().broken().get("sandbox", &unit).await.unwrap().unwrap();
    assert_eq!(b.code, BrokenCode::TotalsMismatch);
    let mu = h.magento().order(&unit).unwrap();
    assert_eq!(mu.totals.tax, d("8.40"), "0.84 per unit × 10");
    let computed = mu.totals.grand_total - d("0.03");
    assert!(
        b.reason.contains(&mu.totals.grand_total.normalize().to_string()) && b.reason.contains(&computed.to_string()),
        "both figures: {}",
        b.reason
    );
    assert!(b.hint.contains("Unit Price"), "{}", b.hint);
    assert!(erp_orders(&h, &unit).is_empty(), "nothing of it in OpenERP");
    let guests = h.openerp().partners_by_email("unit@example.org");
    assert!(guests.is_empty(), "no partner left for it: {guests:#?}");
    assert!(h.openerp().count("res.partner", &[]).unwrap() > partners, "the others' partners exist");

    // A larger tolerance lets the adjustment absorb it (explicitly, with both figures).
    let backend = h.openerp().seed_ids().backend.unwrap();
    let vals = [("rounding_tolerance".to_owned(), value::double(0.05))].into_iter().collect();
    h.openerp().write("magento.backend", &[backend], vals).unwrap();
    let r = run(&h, JobKind::OrdersReimport, JobOptions::default()).await;
    assert_eq!(outcome(&r, &unit), Outcome::Created, "{}", message(&r, &unit));
    let o = assert_exact(&h, &unit);
    assert_eq!(o.amount_total, mu.totals.grand_total);
    assert_eq!(o.lines.iter().filter(|l| l.sku.as_deref() == Some("ROUNDING")).count(), 1);
    h.shutdown().await;
}
