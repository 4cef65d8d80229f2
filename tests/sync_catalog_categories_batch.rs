//! Category export in batches: a new tree of generated categories goes to Magento one batch per
//! level (not one request per category), in the same order with multiCall on and off, its
//! store-view names in batches too; a create refused inside a batch is reported, never sent
//! twice, and done by the next run without duplicates.

use std::collections::BTreeMap;

use magento_connector::config::MultiCallMode;
use magento_connector::sandbox::harness::{ClientTuning, Harness, RunResult, SandboxesOptions};
use magento_connector::sandbox::knobs::{Inject, Rule};
use magento_connector::sandbox::openerp::Options as OpenErpOptions;
use magento_connector::server::jobs::{JobKind, JobOptions};
use magento_connector::store::{Outcome, RunState};

const CREATE: &str = "catalog_category.create";
const UPDATE: &str = "catalog_category.update";

async fn harness(categories: usize, multicall: MultiCallMode) -> Harness {
    let options = SandboxesOptions {
        openerp: OpenErpOptions::with_generated(categories, 0),
        tuning: ClientTuning { multicall, concurrency: 4, ..ClientTuning::default() },
        ..SandboxesOptions::default()
    };
    Harness::with_options(options).await.unwrap()
}

async fn run(h: &Harness) -> RunResult {
    let r = h.run(JobKind::Categories, JobOptions::default()).await.unwrap();
    assert_eq!(r.run.state, RunState::Done, "{:?}\n{:#?}", r.run.error, r.records);
    r
}

/// Names under every generated category of both roots, children in Magento's order.
fn generated_tree(h: &Harness) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for root in [2, 12] {
        for top in h.magento().child_categories(root) {
            let top_name = top.name.clone();
            let children: Vec<String> = h.magento().child_categories(top.id).into_iter().map(|c| c.name).collect();
            out.insert(format!("{root}/{top_name}"), children);
        }
        let tops: Vec<String> = h
            .magento()
            .child_categories(root)
            .into_iter()
            .map(|c| c.name)
            .filter(|n| n.starts_with("Bench Category"))
            .collect();
        out.insert(format!("{root}"), tops);
    }
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn a_new_tree_goes_one_batch_per_level_in_order_with_multicall_on_and_off() {
    let mut trees = Vec::new();
    for mode in [MultiCallMode::Auto, MultiCallMode::Off] {
        let h = harness(60, mode).await;
        h.magento().knobs().reset_counts();
        let r = run(&h).await;
        assert!(r.with_outcome(Outcome::Failed).is_empty(), "{:#?}", r.with_outcome(Outcome::Failed));
        let knobs = h.magento().knobs();
        let created = r.with_outcome(Outcome::Created).len() as u64;
        // 60 generated under each root, plus the demo ones root 2 lacks and root 12's whole tree.
        assert!(created >= 120, "{created}");
        assert_eq!(knobs.count(CREATE), created, "one create call per new category, none sent twice");
        let translations = knobs.count(UPDATE);
        assert!(translations >= 60, "the French names of root 2: {translations}");
        if mode == MultiCallMode::Auto {
            // Creates: a few levels per root, 25 per multiCall; names: 25 per multiCall.
            assert!(
                knobs.requests() < (created + translations) / 5,
                "{} requests for {created} creates and {translations} names",
                knobs.requests()
            );
        }
        let tree = generated_tree(&h);
        for (parent, children) in &tree {
            assert_eq!(children, &sorted(children.clone()), "siblings under {parent} in OpenERP's order");
        }
        let bench = h.magento().categories_named(2, "Bench Category 3");
        assert_eq!(bench.len(), 1);
        assert_eq!(bench[0].store_names.get(&2).map(String::as_str), Some("Catégorie de test 3"));
        let children: Vec<String> = h.magento().child_categories(bench[0].id).into_iter().map(|c| c.name).collect();
        assert_eq!(
            children,
            ["Bench Category 13", "Bench Category 23", "Bench Category 33", "Bench Category 43", "Bench Category 53"]
        );
        trees.push(tree);

        knobs.reset_counts();
        let again = run(&h).await;
        assert_eq!((knobs.count(CREATE), knobs.count(UPDATE)), (0, 0));
        assert!(again.with_outcome(Outcome::Created).is_empty());
        h.shutdown().await;
    }
    assert_eq!(trees[0], trees[1], "the same tree with multiCall on and off");
}

#[tokio::test]
async fn a_create_refused_inside_a_batch_is_not_sent_again_and_the_next_run_does_it() {
    let h = harness(20, MultiCallMode::Auto).await;
    h.magento().knobs().add_rule(Rule::method_with(CREATE, "Bench Category 3", Inject::Fault, Some(1)));
    h.magento().knobs().reset_counts();
    let before = h.magento().category_count() as u64;
    let r = run(&h).await;
    let failed = r.with_outcome(Outcome::Failed);
    let refused = r.record("Bench Category 3 (root 2)").or_else(|| r.record("Bench Category 3 (root 12)")).unwrap();
    assert_eq!(refused.outcome, Outcome::Failed);
    assert!(refused.message.contains("Magento refused the create"), "{}", refused.message);
    // Its child, and a sibling placed after it, wait for it; nothing else fails.
    for f in &failed {
        assert!(
            f.reference.starts_with("Bench Category 3")
                || f.message.contains("\"Bench Category 3\" could not be created"),
            "{f:#?}"
        );
    }
    assert!(failed.iter().any(|f| f.reference.starts_with("Bench Category 3 / Bench Category 13")), "{failed:#?}");
    let created = h.magento().category_count() as u64 - before;
    let knobs = h.magento().knobs();
    assert_eq!(knobs.count(CREATE), created + 1, "the refused create is not sent again");

    knobs.reset_counts();
    let second = run(&h).await;
    assert!(second.with_outcome(Outcome::Failed).is_empty(), "{:#?}", second.with_outcome(Outcome::Failed));
    assert_eq!(knobs.count(CREATE), 2);
    for root in [2, 12] {
        let found = h.magento().categories_named(root, "Bench Category 3");
        assert_eq!(found.len(), 1, "root {root}");
        let children: Vec<String> = h.magento().child_categories(found[0].id).into_iter().map(|c| c.name).collect();
        assert_eq!(children, ["Bench Category 13"], "root {root}");
    }
    h.shutdown().await;
}
