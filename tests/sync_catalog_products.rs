//! Product export against both sandboxes: first export (attributes, websites, categories, tax
//! class, price, translations at store scope, image), what is reported instead of exported,
//! changes (rename, SKU change, disable, translations, images), the zero-write second run,
//! state loss, dry run, ids-limited runs, multiCall off, injected faults, and the request
//! counts of a 100-product update.

use std::collections::BTreeMap;

use dxr::Value;
use magento_connector::config::MultiCallMode;
use magento_connector::sandbox::harness::{ClientTuning, Harness, RunResult, SandboxesOptions};
use magento_connector::sandbox::knobs::{Inject, Rule};
use magento_connector::sandbox::magento1::ProductView;
use magento_connector::sandbox::openerp::Options as OpenErpOptions;
use magento_connector::sandbox::openerp::data::png_base64;
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{BindingKind, Outcome, RunState};
use rust_decimal::Decimal;

fn is_write(method: &str) -> bool {
    ["create", "update", "move", "remove", "delete", "assignProduct", "removeProduct"]
        .iter()
        .any(|w| method.rsplit('.').next() == Some(*w))
}

fn writes(h: &Harness) -> BTreeMap<String, u64> {
    h.magento().knobs().counts().into_iter().filter(|(m, _)| is_write(m)).collect()
}

async fn run(h: &Harness, kind: JobKind, options: JobOptions) -> RunResult {
    let r = h.run(kind, options).await.unwrap();
    assert_eq!(r.run.state, RunState::Done, "{:?}\n{:#?}", r.run.error, r.records);
    r
}

/// Runs the product export and checks that the counts of a real run add up to its total (a dry
/// run's plans are records of their own outcome).
async fn export(h: &Harness, options: JobOptions) -> RunResult {
    let r = run(h, JobKind::Products, options).await;
    let counted = r.run.created + r.run.updated + r.run.skipped + r.run.failed;
    assert_eq!(r.run.done, r.run.total, "{:?}", r.run);
    if !r.run.dry_run {
        assert_eq!(counted, r.run.total, "{:?}", r.run);
    }
    r
}

fn product_id(h: &Harness, sku: &str) -> i64 {
    let ids = h.openerp().search("product.product", &[("default_code", "=", Value::String(sku.into()))]).unwrap();
    assert_eq!(ids.len(), 1, "{sku}");
    ids[0]
}

fn write(h: &Harness, sku: &str, vals: Vec<(&str, Value)>) {
    let id = product_id(h, sku);
    h.openerp().write("product.product", &[id], vals.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()).unwrap();
}

fn write_fr(h: &Harness, sku: &str, vals: Vec<(&str, Value)>) {
    let id = product_id(h, sku);
    let ctx = Value::Struct([("lang".to_owned(), Value::String("fr_FR".into()))].into_iter().collect());
    let kwargs = [("context".to_owned(), ctx)].into_iter().collect();
    let vals = Value::Struct(vals.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
    h.openerp()
        .call("product.product", "write", vec![Value::Array(vec![Value::Integer(id as i32)]), vals], kwargs)
        .unwrap();
}

fn mag(h: &Harness, sku: &str) -> ProductView {
    h.magento().product(sku).unwrap_or_else(|| panic!("{sku} is not in Magento"))
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Magento category id of a category name under a parent.
fn category(h: &Harness, parent: i64, name: &str) -> i64 {
    let found = h.magento().categories_named(parent, name);
    assert_eq!(found.len(), 1, "{name} under {parent}");
    found[0].id
}

async fn exported(h: &Harness) -> RunResult {
    run(h, JobKind::Categories, JobOptions::default()).await;
    export(h, JobOptions::default()).await
}

#[tokio::test]
async fn first_export_writes_the_catalog_and_reports_what_it_cannot_export() {
    let h = Harness::start().await.unwrap();
    // A product whose category is not exported to Magento.
    let internal = h.openerp().seed_ids().categories["internal"];
    write(&h, "OFF-CHAIR-001", vec![("categ_id", Value::Integer(internal as i32))]);
    let before = h.magento().product_count();
    let r = exported(&h).await;

    // New products: lamp, desk, chair, numeric SKU 1001, paper.
    assert_eq!(h.magento().product_count(), before + 5, "{:#?}", r.with_outcome(Outcome::Created));
    let lamp = mag(&h, "API-LAMP-001");
    assert_eq!((lamp.type_id.as_str(), lamp.set_id), ("simple", 4));
    assert_eq!(lamp.decimal("price", 0), Some(dec("49.9")));
    assert_eq!(lamp.decimal("weight", 0), Some(dec("1.2")));
    assert_eq!(lamp.value("status", 0), Some("1"));
    assert_eq!(lamp.value("visibility", 0), Some("4"));
    assert_eq!(lamp.value("tax_class_id", 0), Some("2"));
    assert_eq!(lamp.value("name", 0), Some("Brass Desk Lamp"));
    assert_eq!(lamp.value("description", 0), Some("<p>Brass Desk Lamp: full description.</p>"));
    assert_eq!(lamp.value("short_description", 0), Some("Brass Desk Lamp."));
    assert_eq!(lamp.website_ids, vec![1, 2]);
    let home12 = category(&h, 12, "Home & Garden");
    assert_eq!(lamp.category_ids, vec![9, home12]);
    // Translations at store scope (store view fr = 2) only.
    assert_eq!(lamp.store_value(2, "name"), Some("Lampe de bureau en laiton"));
    assert_eq!(lamp.store_value(1, "name"), None);
    assert_eq!(lamp.store_value(3, "name"), None);
    // The image as base, small image and thumbnail.
    assert_eq!(lamp.media.len(), 1);
    assert_eq!(lamp.media[0].types, vec!["image", "small_image", "thumbnail"]);
    assert!(lamp.media[0].file.contains("oe-"), "{}", lamp.media[0].file);
    // Numeric SKU: its own product, not product id 1001.
    let numeric = mag(&h, "1001");
    assert_eq!(numeric.value("name", 0), Some("Numeric SKU Widget"));
    // Services are virtual; consumables do not manage stock.
    assert_eq!(mag(&h, "SRV-WARRANTY-2Y").type_id, "virtual");
    assert!(!mag(&h, "OFF-PAPER-A4").stock.manage_stock);
    assert!(mag(&h, "OFF-DESK-001").stock.manage_stock);
    // Visibility is a create-time value: the configurable's variants stay "not visible individually".
    assert_eq!(mag(&h, "CLO-TSHIRT-RED-S").value("visibility", 0), Some("1"));
    assert_eq!(mag(&h, "CLO-TSHIRT-RED-S").website_ids, vec![1, 2]);
    // Books: no tax (class 0).
    assert_eq!(mag(&h, "BOOK-001").value("tax_class_id", 0), Some("0"));

    // Seeded Magento products are bound by SKU and updated, not duplicated.
    let phone = mag(&h, "ELEC-PHN-001");
    assert_eq!(phone.id, 1);
    let phones12 = category(&h, category(&h, 12, "Electronics"), "Phones");
    assert_eq!(phone.category_ids, vec![7, phones12]);
    assert_eq!(phone.website_ids, vec![1, 2]);
    let rec = r.record("ELEC-PHN-001").unwrap();
    assert_eq!(rec.outcome, Outcome::Updated);
    assert!(rec.message.contains("bound to the existing Magento product 1"), "{}", rec.message);
    assert_eq!(rec.magento_id.as_deref(), Some("1"));

    // Reported instead of exported.
    let eco = r.record("HOME-ECO-BAG").unwrap();
    assert_eq!(eco.outcome, Outcome::Failed);
    assert!(eco.message.contains("Eco Tax 2%") && eco.message.contains("no Magento tax class"), "{}", eco.message);
    assert!(h.magento().product("HOME-ECO-BAG").is_none());
    let vase = r.records.iter().find(|r| r.reference.contains("Handmade Vase")).unwrap();
    assert_eq!(vase.outcome, Outcome::Failed);
    assert!(vase.message.contains("no internal reference"), "{}", vase.message);
    // Exported without the category it cannot have, and the record says so.
    let chair = r.record("OFF-CHAIR-001").unwrap();
    assert_eq!(chair.outcome, Outcome::Created);
    assert!(chair.message.contains("exported without that category"), "{}", chair.message);
    assert!(mag(&h, "OFF-CHAIR-001").category_ids.is_empty());
    // Not exportable: never touched.
    for sku in ["INT-STAPLER", "RAW-STEEL-01", "SHIP"] {
        assert!(h.magento().product(sku).is_none(), "{sku}");
        assert!(r.record(sku).is_none(), "{sku}");
    }
    assert_eq!(mag(&h, "ELEC-OLD-001").value("status", 0), Some("1"), "archived and never bound: left alone");
    assert_eq!(r.with_outcome(Outcome::Failed).len(), 2, "{:#?}", r.with_outcome(Outcome::Failed));

    // Nothing changed: no write call at all.
    h.magento().knobs().reset_counts();
    let again = export(&h, JobOptions::default()).await;
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
    assert_eq!(again.with_outcome(Outcome::Failed).len(), 2, "still reported");
    assert!(again.with_outcome(Outcome::Updated).is_empty() && again.with_outcome(Outcome::Created).is_empty());
    h.shutdown().await;
}

#[tokio::test]
async fn changes_in_openerp_reach_magento_without_new_products() {
    let h = Harness::start().await.unwrap();
    exported(&h).await;
    let count = h.magento().product_count();
    let old_image = mag(&h, "API-LAMP-001").media[0].file.clone();

    write(
        &h,
        "HOME-001",
        vec![("name", Value::String("Ceramic Mug 350ml".into())), ("list_price", Value::Double(8.5))],
    );
    write(&h, "ELEC-ACC-002", vec![("default_code", Value::String("ELEC-ACC-002B".into()))]);
    write(&h, "1001", vec![("list_price", Value::Double(5.5))]);
    write(&h, "HOME-002", vec![("active", Value::Boolean(false))]);
    write(&h, "CLO-M-001", vec![("magento_exportable", Value::Boolean(false))]);
    write_fr(&h, "BOOK-001", vec![("name", Value::String("Le Programmeur Pragmatique".into()))]);
    write(&h, "API-LAMP-001", vec![("image_1920", Value::String(png_base64("a new lamp photo")))]);
    write(&h, "OFF-DESK-001", vec![("image_1920", Value::Boolean(false))]);
    h.magento().knobs().reset_counts();
    let r = export(&h, JobOptions::default()).await;

    assert_eq!(h.magento().product_count(), count, "nothing created");
    let mug = mag(&h, "HOME-001");
    assert_eq!((mug.value("name", 0), mug.decimal("price", 0)), (Some("Ceramic Mug 350ml"), Some(dec("8.5"))));
    let rec = r.record("HOME-001").unwrap();
    assert!(rec.message.contains("price 7.95 → 8.5"), "{}", rec.message);
    // SKU changed: the same Magento product gets the new SKU.
    assert!(h.magento().product("ELEC-ACC-002").is_none());
    assert_eq!(mag(&h, "ELEC-ACC-002B").id, 4);
    // A numeric SKU is addressed as a SKU, never as a product id.
    assert_eq!(mag(&h, "1001").decimal("price", 0), Some(dec("5.5")));
    // Archived or no longer exportable: disabled, not deleted.
    assert_eq!(mag(&h, "HOME-002").value("status", 0), Some("2"));
    assert_eq!(mag(&h, "CLO-M-001").value("status", 0), Some("2"));
    assert!(r.record("HOME-002").unwrap().message.contains("archived"), "{}", r.record("HOME-002").unwrap().message);
    // Translation changed at store scope only.
    let book = mag(&h, "BOOK-001");
    assert_eq!(book.store_value(2, "name"), Some("Le Programmeur Pragmatique"));
    assert_eq!(book.value("name", 0), Some("The Pragmatic Programmer"));
    // Image replaced (the old file of ours removed), and removed.
    let lamp = mag(&h, "API-LAMP-001");
    assert_eq!(lamp.media.len(), 1);
    assert_ne!(lamp.media[0].file, old_image);
    assert_eq!(lamp.media[0].types, vec!["image", "small_image", "thumbnail"]);
    assert!(mag(&h, "OFF-DESK-001").media.is_empty());
    assert_eq!(h.magento().knobs().count("catalog_product.create"), 0);

    // Exportable again: enabled again.
    write(&h, "CLO-M-001", vec![("magento_exportable", Value::Boolean(true))]);
    let r = export(&h, JobOptions::default()).await;
    assert_eq!(mag(&h, "CLO-M-001").value("status", 0), Some("1"));
    assert!(r.record("CLO-M-001").unwrap().message.contains("enabled again"));
    h.shutdown().await;
}

#[tokio::test]
async fn a_lost_state_store_creates_no_duplicate_product_or_image() {
    let mut h = Harness::start().await.unwrap();
    exported(&h).await;
    let products = h.magento().product_count();
    let categories = h.magento().category_count();
    let lamp_media = mag(&h, "API-LAMP-001").media;
    h.lose_state().unwrap();
    h.magento().knobs().reset_counts();
    let r = exported(&h).await;
    assert_eq!(h.magento().product_count(), products);
    assert_eq!(h.magento().category_count(), categories);
    assert_eq!(mag(&h, "API-LAMP-001").media, lamp_media, "the image is found again, not added twice");
    assert!(r.with_outcome(Outcome::Created).is_empty());
    assert_eq!(h.magento().knobs().count("catalog_product.create"), 0);
    assert_eq!(h.magento().knobs().count("catalog_product_attribute_media.create"), 0);
    h.shutdown().await;
}

#[tokio::test]
async fn a_dry_run_plans_with_field_differences_and_writes_nothing() {
    let h = Harness::start().await.unwrap();
    run(&h, JobKind::Categories, JobOptions::default()).await;
    h.magento().knobs().reset_counts();
    let count = h.magento().product_count();
    let r = export(&h, JobOptions { dry_run: true, ..JobOptions::default() }).await;
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
    assert_eq!(h.magento().product_count(), count);
    assert!(h.store().bindings().list("sandbox", BindingKind::Product).await.unwrap().is_empty());
    let lamp = r.record("API-LAMP-001").unwrap();
    assert_eq!(lamp.outcome, Outcome::Planned);
    assert!(lamp.message.contains("create (simple)") && lamp.message.contains("price = 49.9"), "{}", lamp.message);
    assert!(lamp.message.contains("add the image") && lamp.message.contains("store view 2"), "{}", lamp.message);
    assert_eq!(r.record("ELEC-PHN-001").unwrap().outcome, Outcome::Planned);

    // After a real run, a dry run shows exactly what changed.
    export(&h, JobOptions::default()).await;
    write(&h, "HOME-001", vec![("list_price", Value::Double(9.0))]);
    write(&h, "HOME-002", vec![("active", Value::Boolean(false))]);
    h.magento().knobs().reset_counts();
    let r = export(&h, JobOptions { dry_run: true, ..JobOptions::default() }).await;
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
    assert_eq!(r.record("HOME-001").unwrap().message, "update: price 7.95 → 9");
    assert!(r.record("HOME-002").unwrap().message.contains("disable in Magento: archived"));
    assert_eq!(mag(&h, "HOME-001").decimal("price", 0), Some(dec("7.95")));
    h.shutdown().await;
}

#[tokio::test]
async fn an_ids_limited_run_exports_just_those_products() {
    let h = Harness::start().await.unwrap();
    run(&h, JobKind::Categories, JobOptions::default()).await;
    let lamp = product_id(&h, "API-LAMP-001");
    let stapler = product_id(&h, "INT-STAPLER");
    let r = export(&h, JobOptions { ids: Some(vec![lamp, stapler]), ..JobOptions::default() }).await;
    assert!(h.magento().product("API-LAMP-001").is_some());
    assert!(h.magento().product("OFF-DESK-001").is_none());
    assert_eq!(r.records.len(), 2);
    assert_eq!(r.record("INT-STAPLER").unwrap().outcome, Outcome::Skipped);
    assert!(r.record("INT-STAPLER").unwrap().message.contains("not exportable"));
    // The next full-scope run still picks up everything else.
    let r = export(&h, JobOptions::default()).await;
    assert!(h.magento().product("OFF-DESK-001").is_some());
    assert_eq!(r.record("API-LAMP-001").unwrap().outcome, Outcome::Skipped);
    h.shutdown().await;
}

/// Sandboxes whose OpenERP data was written long ago (so only later writes count as changes).
async fn seeded_in_the_past() -> Harness {
    let past = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let h = Harness::with_options(SandboxesOptions {
        openerp: OpenErpOptions { clock: Some(past), ..OpenErpOptions::default() },
        ..SandboxesOptions::default()
    })
    .await
    .unwrap();
    h.openerp().set_clock(None);
    h
}

#[tokio::test]
async fn incremental_runs_look_at_changes_only_and_settings_changes_reevaluate_everything() {
    let h = seeded_in_the_past().await;
    let first = exported(&h).await;
    assert_eq!(first.records.len(), 24);

    // Nothing changed: only the two products that could never be exported are looked at.
    let r = export(&h, JobOptions::default()).await;
    let refs: Vec<&str> = r.records.iter().map(|r| r.reference.as_str()).collect();
    assert_eq!(refs.len(), 2, "{:#?}", r.records);
    assert!(refs.contains(&"HOME-ECO-BAG"), "{refs:?}");

    // A product that is not for sale changed: not looked at, not counted.
    write(&h, "RAW-STEEL-01", vec![("weight", Value::Double(12.5))]);
    let r = export(&h, JobOptions::default()).await;
    assert_eq!(r.records.len(), 2, "{:#?}", r.records);
    assert_eq!(r.run.total, 2, "{:?}", r.run);

    // One product and one template changed.
    write(&h, "HOME-001", vec![("list_price", Value::Double(8.25))]);
    let book_tmpl =
        h.openerp().read("product.product", product_id(&h, "BOOK-001"), &["product_tmpl_id"]).unwrap().unwrap();
    let Value::Array(t) = &book_tmpl["product_tmpl_id"] else { panic!() };
    h.openerp()
        .write(
            "product.template",
            &[magento_connector::rpc::value::to_i64("id", &t[0]).unwrap()],
            [("description_sale".to_owned(), Value::String("A classic.".into()))].into_iter().collect(),
        )
        .unwrap();
    let r = export(&h, JobOptions::default()).await;
    assert_eq!(r.records.len(), 4, "{:#?}", r.records);
    assert_eq!(r.record("HOME-001").unwrap().outcome, Outcome::Updated);
    assert_eq!(r.record("BOOK-001").unwrap().outcome, Outcome::Updated);
    assert_eq!(mag(&h, "BOOK-001").value("short_description", 0), Some("A classic."));

    // A setting that shapes every payload: the tax class of the standard tax.
    let standard = h.openerp().seed_ids().taxes["standard"];
    h.openerp()
        .write(
            "account.tax",
            &[standard],
            [("magento_tax_class_id".to_owned(), Value::Integer(4))].into_iter().collect(),
        )
        .unwrap();
    let r = export(&h, JobOptions::default()).await;
    assert_eq!(r.with_outcome(Outcome::Updated).len(), 21);
    assert_eq!(mag(&h, "ELEC-PHN-001").value("tax_class_id", 0), Some("4"));
    assert_eq!(mag(&h, "BOOK-001").value("tax_class_id", 0), Some("0"), "its tax did not change");
    // Products written within the overlap window are looked at again, and left alone.
    h.magento().knobs().reset_counts();
    let r = export(&h, JobOptions::default()).await;
    assert_eq!(r.records.len(), 4, "{:#?}", r.records);
    assert_eq!(r.record("HOME-001").unwrap().outcome, Outcome::Skipped);
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));

    // `full` sends everything again, and creates nothing.
    h.magento().knobs().reset_counts();
    let r = export(&h, JobOptions { full: true, ..JobOptions::default() }).await;
    assert_eq!(r.with_outcome(Outcome::Updated).len(), 22);
    assert!(r.with_outcome(Outcome::Created).is_empty());
    assert_eq!(h.magento().knobs().count("catalog_product.create"), 0);
    h.shutdown().await;
}

#[tokio::test]
async fn pricelist_prices_are_exported_and_unsupported_rules_reported() {
    let h = Harness::start().await.unwrap();
    let ids = h.openerp().seed_ids().clone();
    let backend = ids.backend.unwrap();
    h.openerp()
        .write(
            "magento.backend",
            &[backend],
            [("price_source".to_owned(), Value::String("pricelist".into()))].into_iter().collect(),
        )
        .unwrap();
    let item: BTreeMap<String, Value> = [
        ("pricelist_id", Value::Integer(ids.pricelists["USD"] as i32)),
        ("applied_on", Value::String("0_product_variant".into())),
        ("product_id", Value::Integer(product_id(&h, "BOOK-001") as i32)),
        ("compute_price", Value::String("fixed".into())),
        ("fixed_price", Value::Double(35.5)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    h.openerp().create("product.pricelist.item", item).unwrap();
    exported(&h).await;
    assert_eq!(mag(&h, "BOOK-001").decimal("price", 0), Some(dec("35.5")), "the default store view's pricelist");
    assert_eq!(mag(&h, "ELEC-PHN-001").decimal("price", 0), Some(dec("149.99")), "no rule: the sales price");

    // Rules of a pricelist in another currency cannot be evaluated without a conversion: each
    // product says so and is left alone; a fixed price in that pricelist needs none.
    let default_line =
        h.openerp().search("magento.backend.store", &[("magento_store_id", "=", Value::Integer(1))]).unwrap();
    h.openerp()
        .write(
            "magento.backend.store",
            &default_line,
            [("pricelist_id".to_owned(), Value::Integer(ids.pricelists["EUR"] as i32))].into_iter().collect(),
        )
        .unwrap();
    h.magento().knobs().reset_counts();
    let r = export(&h, JobOptions::default()).await;
    let mug = r.record("HOME-001").unwrap();
    assert_eq!(mug.outcome, Outcome::Failed);
    assert!(mug.message.contains("currency conversion"), "{}", mug.message);
    assert_eq!(mag(&h, "HOME-001").decimal("price", 0), Some(dec("7.95")), "left as it was");
    let updated: Vec<&str> = r.with_outcome(Outcome::Updated).iter().map(|r| r.reference.as_str()).collect();
    assert_eq!(updated, ["BOOK-001"]);
    assert_eq!(mag(&h, "BOOK-001").decimal("price", 0), Some(dec("36")), "the EUR pricelist's fixed price");
    assert_eq!(h.magento().knobs().count("catalog_product.update"), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn images_stay_out_when_the_backend_says_so() {
    let h = seeded_in_the_past().await;
    let backend = h.openerp().seed_ids().backend.unwrap();
    h.openerp()
        .write(
            "magento.backend",
            &[backend],
            [("export_images".to_owned(), Value::Boolean(false))].into_iter().collect(),
        )
        .unwrap();
    exported(&h).await;
    assert!(mag(&h, "API-LAMP-001").media.is_empty());
    assert_eq!(h.magento().knobs().count("catalog_product_attribute_media.create"), 0);
    // Turned on: the images of products nobody changed go too.
    h.openerp()
        .write(
            "magento.backend",
            &[backend],
            [("export_images".to_owned(), Value::Boolean(true))].into_iter().collect(),
        )
        .unwrap();
    let r = export(&h, JobOptions::default()).await;
    assert_eq!(mag(&h, "API-LAMP-001").media.len(), 1);
    assert!(
        r.record("API-LAMP-001").unwrap().message.contains("image added"),
        "{}",
        r.record("API-LAMP-001").unwrap().message
    );
    h.shutdown().await;
}

/// What Magento holds of a product: type, default values, store values, gallery size.
type ProductState = (String, BTreeMap<String, String>, BTreeMap<i64, BTreeMap<String, String>>, usize);

/// Every exported product as Magento holds it (without ids and dates).
fn catalog_state(h: &Harness) -> BTreeMap<String, ProductState> {
    let mut out = BTreeMap::new();
    for sku in [
        "API-LAMP-001",
        "OFF-DESK-001",
        "OFF-CHAIR-001",
        "1001",
        "OFF-PAPER-A4",
        "ELEC-PHN-001",
        "BOOK-001",
        "SRV-WARRANTY-2Y",
        "CLO-TSHIRT-RED-S",
    ] {
        let p = mag(h, sku);
        let mut values = p.values.clone();
        values.retain(|k, _| !matches!(k.as_str(), "url_key" | "url_path" | "image" | "small_image" | "thumbnail"));
        out.insert(sku.to_owned(), (p.type_id.clone(), values, p.store_values.clone(), p.media.len()));
    }
    out
}

#[tokio::test]
async fn multicall_off_gives_the_same_catalog() {
    let on = Harness::start().await.unwrap();
    exported(&on).await;
    let off = Harness::with_options(SandboxesOptions {
        tuning: ClientTuning { multicall: MultiCallMode::Off, ..ClientTuning::default() },
        ..SandboxesOptions::default()
    })
    .await
    .unwrap();
    exported(&off).await;
    assert_eq!(off.magento().knobs().count("multiCall"), 0);
    assert!(on.magento().knobs().count("multiCall") > 0);
    assert_eq!(catalog_state(&on), catalog_state(&off));
    on.shutdown().await;
    off.shutdown().await;
}

#[tokio::test]
async fn injected_faults_fail_only_their_products_and_the_next_run_retries_them() {
    let h = Harness::with_options(SandboxesOptions {
        tuning: ClientTuning { retries: 2, ..ClientTuning::default() },
        ..SandboxesOptions::default()
    })
    .await
    .unwrap();
    run(&h, JobKind::Categories, JobOptions::default()).await;
    let knobs = h.magento().knobs();
    knobs.add_rule(Rule::method_with("catalog_product.update", "ELEC-PHN-002", Inject::Fault, None));
    knobs.add_rule(Rule::method_with("catalog_product.create", "OFF-DESK-001", Inject::Fault, None));
    let r = export(&h, JobOptions::default()).await;
    for sku in ["ELEC-PHN-002", "OFF-DESK-001"] {
        let rec = r.record(sku).unwrap();
        assert_eq!(rec.outcome, Outcome::Failed, "{sku}");
        assert!(rec.message.contains("Magento refused"), "{}", rec.message);
    }
    assert!(h.magento().product("OFF-DESK-001").is_none());
    assert_eq!(mag(&h, "ELEC-PHN-002").website_ids, vec![1], "not updated");
    assert!(h.magento().product("API-LAMP-001").is_some(), "the others are written");
    assert_eq!(mag(&h, "ELEC-PHN-001").website_ids, vec![1, 2]);

    knobs.clear_rules();
    let r = export(&h, JobOptions::default()).await;
    assert_eq!(r.record("OFF-DESK-001").unwrap().outcome, Outcome::Created);
    assert_eq!(r.record("ELEC-PHN-002").unwrap().outcome, Outcome::Updated);
    assert_eq!(mag(&h, "ELEC-PHN-002").website_ids, vec![1, 2]);
    assert_eq!(r.with_outcome(Outcome::Failed).len(), 2, "only the two that cannot be exported at all");
    h.shutdown().await;
}

/// HTTP requests to Magento for an update of `n` products, with the client's default batching.
async fn requests_for_update(n: usize, multicall: MultiCallMode) -> (u64, u64) {
    let h = Harness::with_options(SandboxesOptions {
        openerp: OpenErpOptions::with_generated(0, n),
        tuning: ClientTuning { multicall, ..ClientTuning::default() },
        ..SandboxesOptions::default()
    })
    .await
    .unwrap();
    run(&h, JobKind::Categories, JobOptions::default()).await;
    h.magento().knobs().reset_counts();
    export(&h, JobOptions::default()).await;
    let first = h.magento().knobs().requests();
    let ids =
        h.openerp().search("product.product", &[("default_code", "=like", Value::String("BENCH-%".into()))]).unwrap();
    assert_eq!(ids.len(), n);
    h.openerp()
        .write("product.product", &ids, [("list_price".to_owned(), Value::Double(11.5))].into_iter().collect())
        .unwrap();
    h.magento().knobs().reset_counts();
    let r = export(&h, JobOptions::default()).await;
    assert_eq!(r.with_outcome(Outcome::Updated).len(), n);
    assert_eq!(h.magento().knobs().count("catalog_product.update"), n as u64);
    let update = h.magento().knobs().requests();
    h.shutdown().await;
    (first, update)
}

#[tokio::test]
async fn a_hundred_changed_products_cost_a_few_requests_with_multicall() {
    let (first_on, update_on) = requests_for_update(100, MultiCallMode::Auto).await;
    let (first_off, update_off) = requests_for_update(100, MultiCallMode::Off).await;
    eprintln!(
        "100 generated products: first export {first_on} requests with multiCall, {first_off} without; \
         update of all 100: {update_on} requests with multiCall, {update_off} without"
    );
    assert!(update_on <= 10, "{update_on}");
    assert!(update_off >= 100, "{update_off}");
    assert!(first_on * 4 < first_off, "{first_on} vs {first_off}");
}

#[tokio::test]
async fn names_longer_than_magento_keeps_are_refused_not_cut() {
    let h = Harness::start().await.unwrap();
    let long = format!("Ceramic Mug {}", "with a very long story ".repeat(12));
    assert!(long.chars().count() > 255);
    write(&h, "HOME-001", vec![("name", Value::String(long.clone()))]);
    let r = exported(&h).await;
    let rec = r.record("HOME-001").unwrap();
    assert_eq!(rec.outcome, Outcome::Failed, "{}", rec.message);
    assert!(rec.message.contains("name is 287 characters") && rec.message.contains("255"), "{}", rec.message);
    let in_shop = h.magento().product("HOME-001").and_then(|p| p.value("name", 0).map(str::to_owned));
    assert!(!in_shop.unwrap_or_default().starts_with("Ceramic Mug with"), "no cut name in the shop");
    assert!(h.magento().product("BOOK-001").is_some(), "the others are exported");

    // Bound product: a too long name (default scope, or one store view's) is refused, the
    // shop keeps the last name sent, and a fixed name goes through on the next run.
    write(&h, "HOME-001", vec![("name", Value::String("Ceramic Mug".into()))]);
    export(&h, JobOptions::default()).await;
    let book_fr_before = mag(&h, "BOOK-001").store_value(2, "name").map(str::to_owned);
    assert!(book_fr_before.is_some());
    write(&h, "HOME-001", vec![("name", Value::String(long.clone()))]);
    write_fr(&h, "BOOK-001", vec![("name", Value::String(format!("Le {}", "très ".repeat(60))))]);
    let r = export(&h, JobOptions::default()).await;
    assert_eq!(r.record("HOME-001").unwrap().outcome, Outcome::Failed);
    assert_eq!(mag(&h, "HOME-001").value("name", 0), Some("Ceramic Mug"));
    let book = r.record("BOOK-001").unwrap();
    assert_eq!(book.outcome, Outcome::Failed, "{}", book.message);
    assert!(book.message.contains("store view 2") && book.message.contains("255"), "{}", book.message);
    assert_eq!(mag(&h, "BOOK-001").store_value(2, "name").map(str::to_owned), book_fr_before, "kept, not cut");

    write(&h, "HOME-001", vec![("name", Value::String("Ceramic Mug XL".into()))]);
    write_fr(&h, "BOOK-001", vec![("name", Value::String("Le Programmeur".into()))]);
    let r = export(&h, JobOptions::default()).await;
    assert_eq!(r.record("HOME-001").unwrap().outcome, Outcome::Updated);
    assert_eq!(mag(&h, "HOME-001").value("name", 0), Some("Ceramic Mug XL"));
    assert_eq!(mag(&h, "BOOK-001").store_value(2, "name"), Some("Le Programmeur"));
    h.shutdown().await;
}
