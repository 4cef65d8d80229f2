//! Category export against both sandboxes: first export under both roots (binding the seeded
//! categories by path), translations at store scope, order, rename / move / disable, the
//! zero-write second run, state loss, dry run and an ids-limited run.

use std::collections::BTreeMap;

use dxr::Value;
use magento_connector::sandbox::harness::{Harness, RunResult};
use magento_connector::sandbox::magento1::CategoryView;
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{BindingKind, Outcome, RunState};

fn is_write(method: &str) -> bool {
    ["create", "update", "move", "remove", "delete", "assignProduct", "removeProduct"]
        .iter()
        .any(|w| method.rsplit('.').next() == Some(*w))
}

fn writes(h: &Harness) -> BTreeMap<String, u64> {
    h.magento().knobs().counts().into_iter().filter(|(m, _)| is_write(m)).collect()
}

async fn run(h: &Harness, options: JobOptions) -> RunResult {
    let r = h.run(JobKind::Categories, options).await.unwrap();
    assert_eq!(r.run.state, RunState::Done, "{:?}\n{:#?}", r.run.error, r.records);
    r
}

fn names(children: &[CategoryView]) -> Vec<String> {
    children.iter().map(|c| c.name.clone()).collect()
}

fn child(h: &Harness, parent: i64, name: &str) -> CategoryView {
    let found = h.magento().categories_named(parent, name);
    assert_eq!(found.len(), 1, "{name} under {parent}: {found:#?}");
    found.into_iter().next().unwrap()
}

fn category_id(h: &Harness, key: &str) -> i64 {
    h.openerp().seed_ids().categories[key]
}

fn write_category(h: &Harness, id: i64, vals: Vec<(&str, Value)>) {
    h.openerp().write("product.category", &[id], vals.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()).unwrap();
}

const WHOLESALE_ROOT: i64 = 12;

#[tokio::test]
async fn first_export_binds_the_seeded_tree_fills_the_second_root_and_a_second_run_writes_nothing() {
    let h = Harness::start().await.unwrap();
    let before = h.magento().category_count();
    let r = run(&h, JobOptions::default()).await;

    // Root 2 already had 8 of the 10 exported categories: they are bound, not duplicated.
    assert_eq!(
        names(&h.magento().child_categories(2)),
        ["Books", "Clothing", "Electronics", "Home & Garden", "Sale", "Office"]
    );
    assert_eq!(h.magento().categories_named(2, "Clothing").len(), 1);
    let office = child(&h, 2, "Office");
    assert!(office.is_active);
    assert_eq!(names(&h.magento().child_categories(office.id)), ["Desks"]);
    let desks = child(&h, office.id, "Desks");
    for k in ["available_sort_by", "default_sort_by", "include_in_menu"] {
        assert!(desks.values.contains_key(k), "{k} missing on a created category: {:?}", desks.values);
    }
    // Root 12 (website 2) gets the whole tree.
    assert_eq!(
        names(&h.magento().child_categories(WHOLESALE_ROOT)),
        ["Books", "Clothing", "Electronics", "Home & Garden", "Office"]
    );
    let clothing12 = child(&h, WHOLESALE_ROOT, "Clothing");
    assert_eq!(names(&h.magento().child_categories(clothing12.id)), ["Men", "Women"]);
    assert_eq!(h.magento().category_count(), before + 2 + 10);
    assert!(h.magento().categories_named(2, "Internal Supplies").is_empty(), "not exportable");

    // French names at store scope in the fr store view (root 2 only: root 12 has no fr view).
    let clothing = h.magento().category(3).unwrap();
    assert_eq!(clothing.name, "Clothing");
    assert_eq!(clothing.store_names.get(&2).map(String::as_str), Some("Vêtements"));
    assert_eq!(child(&h, office.id, "Desks").store_names.get(&2).map(String::as_str), Some("Bureaux"));
    assert!(clothing12.store_names.is_empty());

    // Records: one per category and root.
    assert_eq!(r.records.len(), 20, "{:#?}", r.records);
    let rec = r.record("Clothing / Men (root 2)").unwrap();
    assert_eq!(rec.magento_id.as_deref(), Some("4"));
    assert!(rec.message.contains("bound to the existing Magento category 4"), "{}", rec.message);
    assert_eq!(r.record("Office / Desks (root 12)").unwrap().outcome, Outcome::Created);
    assert_eq!(r.with_outcome(Outcome::Failed).len(), 0);
    let bindings = h.store().bindings().list("sandbox", BindingKind::Category).await.unwrap();
    assert_eq!(bindings.len(), 20);
    assert_eq!(bindings.iter().filter(|b| b.store_id == WHOLESALE_ROOT).count(), 10);

    // Nothing changed: no write call at all, every record skipped.
    h.magento().knobs().reset_counts();
    let again = run(&h, JobOptions::default()).await;
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
    assert_eq!(again.with_outcome(Outcome::Skipped).len(), 20);
    h.shutdown().await;
}

#[tokio::test]
async fn rename_move_disable_and_reorder_follow_openerp() {
    let h = Harness::start().await.unwrap();
    run(&h, JobOptions::default()).await;
    let office12 = child(&h, WHOLESALE_ROOT, "Office");
    let desks12 = child(&h, office12.id, "Desks");

    write_category(&h, category_id(&h, "phones"), vec![("name", Value::String("Mobile Phones".into()))]);
    write_category(
        &h,
        category_id(&h, "desks"),
        vec![("parent_id", Value::Integer(category_id(&h, "electronics") as i32))],
    );
    write_category(&h, category_id(&h, "books"), vec![("magento_exportable", Value::Boolean(false))]);
    h.magento().knobs().reset_counts();
    let r = run(&h, JobOptions::default()).await;

    // Renamed in place (same id), and placed by name among its siblings.
    assert_eq!(h.magento().category(7).unwrap().name, "Mobile Phones");
    assert_eq!(names(&h.magento().child_categories(6)), ["Accessories", "Desks", "Mobile Phones"]);
    let electronics12 = child(&h, WHOLESALE_ROOT, "Electronics");
    assert_eq!(names(&h.magento().child_categories(electronics12.id)), ["Accessories", "Desks", "Mobile Phones"]);
    // Moved, not recreated.
    assert_eq!(child(&h, electronics12.id, "Desks").id, desks12.id);
    assert!(h.magento().child_categories(office12.id).is_empty());
    // Disabled, never deleted.
    let books = h.magento().category(10).unwrap();
    assert!(!books.is_active);
    assert!(!child(&h, WHOLESALE_ROOT, "Books").is_active);
    let rec = r.record("All / Saleable / Books (root 2)").unwrap();
    assert_eq!(rec.outcome, Outcome::Updated);
    assert!(rec.message.contains("disabled"), "{}", rec.message);
    let moved = r.record("Electronics / Desks (root 2)").unwrap();
    assert!(moved.message.contains("moved from"), "{}", moved.message);
    assert!(!writes(&h).contains_key("catalog_category.create"), "{:?}", writes(&h));

    // Exportable again: enabled again.
    write_category(&h, category_id(&h, "books"), vec![("magento_exportable", Value::Boolean(true))]);
    let r = run(&h, JobOptions::default()).await;
    assert!(h.magento().category(10).unwrap().is_active);
    assert!(r.record("Books (root 2)").unwrap().message.contains("enabled"));
    h.shutdown().await;
}

#[tokio::test]
async fn a_lost_state_store_binds_again_without_duplicates() {
    let mut h = Harness::start().await.unwrap();
    run(&h, JobOptions::default()).await;
    let count = h.magento().category_count();
    h.lose_state().unwrap();
    h.magento().knobs().reset_counts();
    let r = run(&h, JobOptions::default()).await;
    assert_eq!(h.magento().category_count(), count);
    assert!(r.with_outcome(Outcome::Created).is_empty());
    assert!(!writes(&h).contains_key("catalog_category.create"));
    assert_eq!(h.store().bindings().list("sandbox", BindingKind::Category).await.unwrap().len(), 20);
    h.shutdown().await;
}

#[tokio::test]
async fn a_dry_run_plans_and_writes_nothing() {
    let h = Harness::start().await.unwrap();
    let count = h.magento().category_count();
    let r = run(&h, JobOptions { dry_run: true, ..JobOptions::default() }).await;
    assert!(writes(&h).is_empty(), "{:?}", writes(&h));
    assert_eq!(h.magento().category_count(), count);
    assert!(h.store().bindings().list("sandbox", BindingKind::Category).await.unwrap().is_empty());
    let office = r.record("Office (root 2)").unwrap();
    assert_eq!(office.outcome, Outcome::Planned);
    assert!(office.message.contains("create \"Office\" under root 2"), "{}", office.message);
    let desks = r.record("Office / Desks (root 12)").unwrap();
    assert!(desks.message.contains("the new category \"Office\""), "{}", desks.message);
    assert!(r.record("Clothing (root 2)").unwrap().message.contains("Vêtements"));
    assert_eq!(r.run.created + r.run.updated, 0);
    h.shutdown().await;
}

#[tokio::test]
async fn an_ids_limited_run_exports_those_categories_and_the_parents_they_need() {
    let h = Harness::start().await.unwrap();
    let desks = category_id(&h, "desks");
    let r = run(&h, JobOptions { ids: Some(vec![desks]), ..JobOptions::default() }).await;
    let office = child(&h, 2, "Office");
    assert_eq!(names(&h.magento().child_categories(office.id)), ["Desks"]);
    assert_eq!(names(&h.magento().child_categories(WHOLESALE_ROOT)), ["Office"], "only what Desks needs");
    let refs: Vec<&str> = r.records.iter().map(|r| r.reference.as_str()).collect();
    assert_eq!(refs.len(), 4, "{refs:?}");
    assert!(refs.contains(&"Office / Desks (root 2)") && refs.contains(&"Office (root 12)"), "{refs:?}");
    assert_eq!(h.store().bindings().list("sandbox", BindingKind::Category).await.unwrap().len(), 4);
    h.shutdown().await;
}

#[tokio::test]
async fn a_name_longer_than_magento_keeps_is_refused_not_cut() {
    let h = Harness::start().await.unwrap();
    let before = h.magento().category_count();
    let long = format!("Office {}", "and everything a desk needs ".repeat(10));
    write_category(&h, category_id(&h, "office"), vec![("name", Value::String(long.clone()))]);
    let r = run(&h, JobOptions::default()).await;
    let failed: Vec<_> = r.with_outcome(Outcome::Failed);
    assert!(
        failed.iter().any(|f| f.message.contains("name is 286 characters") && f.message.contains("255")),
        "{failed:#?}"
    );
    assert!(
        failed.iter().any(|f| f.message.contains("could not be created")),
        "Desks waits for its parent: {failed:#?}"
    );
    assert!(h.magento().categories_named(2, &long.chars().take(255).collect::<String>()).is_empty(), "no cut name");
    assert_eq!(h.magento().category_count(), before + 8, "the rest of the tree is exported (under root 12)");

    write_category(&h, category_id(&h, "office"), vec![("name", Value::String("Office".into()))]);
    let r = run(&h, JobOptions::default()).await;
    assert!(r.with_outcome(Outcome::Failed).is_empty(), "{:#?}", r.with_outcome(Outcome::Failed));
    let office = child(&h, 2, "Office");
    assert_eq!(names(&h.magento().child_categories(office.id)), ["Desks"]);
    h.shutdown().await;
}
