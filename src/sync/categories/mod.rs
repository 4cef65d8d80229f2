//! Category export (`catalog.export_categories`): the OpenERP `product.category` tree into
//! each Magento root category of the store views that export the catalog.
//!
//! The driver reads the OpenERP categories (default language, then one read per translation
//! language), the bindings, and the Magento tree under each root (one call per root); the pure
//! [`plan`] decides what to bind, create, rename, move, reorder, disable and translate; the
//! driver executes the steps in order, writing each binding right after the Magento write it
//! records, and reports one record per category and root. A run where Magento already
//! matches OpenERP makes no write call. Consecutive creates go as batches (one `multiCall` per
//! level of the new subtree, in plan order so siblings keep their positions, never re-sent:
//! a category that may have been created is found by name on the next run), and so do the
//! store-view names; moves, reorders, renames and disables are single calls.
//!
//! Translations: store views whose language differs from the default store view's get the
//! name read in their language. Real Odoo 17 does not translate `product.category.name`
//! (every language reads the same name), so nothing is sent there; the sandbox does.
//!
//! Bindings: kind `category`, `store` = the Magento root id, hash = hash of the last default
//! values sent, extra = `{"name", "parent", "tr": {"<store id>": "<hash of the name sent>"}}`.
//!
//! This module owns the category job only; it does not touch products.

pub mod plan;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use self::plan::{Bound, RootInput, RootPlan, Step, StoreNames, Target, plan_root};
use crate::magento::types::{CategoryUpdate, NewCategory, Scope};
use crate::openerp::models::categories::Category;
use crate::server::jobs::{JobError, Summary};
use crate::store::{Binding, BindingKind, BindingPut, NewRecord, Outcome};
use crate::sync::catalog_common::{CatalogScope, ExportedCategory, RootScope, exported_tree, hash_json, load_scope};
use crate::sync::env::JobEnv;

/// Record kind of this job.
pub const RECORD_KIND: &str = "category";

/// What the binding of a category keeps besides the Magento id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryExtra {
    /// Name last sent at default scope.
    #[serde(default)]
    pub name: String,
    /// Magento parent id last set.
    #[serde(default)]
    pub parent: i64,
    /// Hash of the name last sent per store view.
    #[serde(default)]
    pub tr: BTreeMap<i64, String>,
    /// Disabled by the connector (no longer exported).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

impl CategoryExtra {
    /// Reads a binding's extra leniently (anything unreadable counts as empty).
    pub fn from_binding(b: &Binding) -> Self {
        serde_json::from_value(b.extra.clone()).unwrap_or_default()
    }

    fn hash(&self) -> String {
        hash_json(&serde_json::json!({"name": self.name, "parent": self.parent, "disabled": self.disabled}))
    }
}

/// Runs the category export.
pub async fn run(env: &JobEnv) -> Result<Summary, JobError> {
    let scope = load_scope(env).await?;
    let ctx = scope.context();
    let categories = env
        .openerp()
        .categories(&ctx)
        .await
        .map_err(|e| JobError::failed(format!("cannot read the OpenERP categories: {e}")))?;
    let mut by_lang: BTreeMap<String, HashMap<i64, String>> = BTreeMap::new();
    for lang in scope.translation_langs() {
        match env.openerp().categories(&ctx.clone().with_lang(&lang)).await {
            Ok(list) => {
                by_lang.insert(lang, list.into_iter().map(|c| (c.id, c.name)).collect());
            }
            Err(e) => {
                env.ctx
                    .warn(format!("category names in {lang} could not be read, so none are sent this run: {e}"))
                    .await
            }
        }
    }
    let bindings = env.ctx.store().bindings().list(env.backend(), BindingKind::Category).await?;
    let only: Option<BTreeSet<i64>> = env.ctx.options().ids.as_ref().map(|v| v.iter().copied().collect());

    let mut roots = Vec::new();
    for root in &scope.roots {
        env.check_cancelled()?;
        if let Some(o) = root.openerp_root
            && !categories.iter().any(|c| c.id == o)
        {
            env.ctx
                .warn(format!(
                    "OpenERP category {o}, mapped to Magento root {}, does not exist: nothing is exported there",
                    root.magento_root_id
                ))
                .await;
        }
        let desired = exported_tree(&categories, root.openerp_root);
        let tree = env.magento().category_tree(Some(root.magento_root_id), Scope::Default).await;
        roots.push((root, desired, tree));
    }

    let mut total = 0;
    let mut planned = Vec::new();
    for (root, desired, tree) in roots {
        let bound: BTreeMap<i64, Bound> = bindings
            .iter()
            .filter(|b| b.store_id == root.magento_root_id)
            .filter_map(|b| {
                let m = b.magento_id.parse().ok()?;
                Some((b.openerp_id, Bound { magento_id: m, translations: CategoryExtra::from_binding(b).tr }))
            })
            .collect();
        let translations = store_names(&scope, root, &by_lang);
        let plan = match &tree {
            Ok(t) => plan_root(&RootInput {
                root_id: root.magento_root_id,
                tree: t,
                desired: &desired,
                bound: &bound,
                translations: &translations,
                only: only.as_ref(),
                full: env.ctx.options().full,
            }),
            Err(_) => RootPlan {
                steps: Vec::new(),
                reported: desired
                    .iter()
                    .map(|c| c.id)
                    .filter(|id| only.as_ref().is_none_or(|o| o.contains(id)))
                    .collect(),
            },
        };
        total += plan.reported.len() + extra_reported(&plan).len();
        planned.push((root, desired, tree, plan));
    }
    env.ctx.set_total(total as u64).await?;

    let mut tally = Tally::default();
    for (root, desired, tree, plan) in planned {
        env.check_cancelled()?;
        let labels = Labels::new(root, &desired, &categories);
        match tree {
            Ok(_) => execute(env, root, &plan, &bindings, &labels, &mut tally).await?,
            Err(e) => {
                let reason = format!("cannot read the Magento tree under root {}: {e}", root.magento_root_id);
                env.ctx.error(&reason).await;
                for id in &plan.reported {
                    let rec = NewRecord::new(RECORD_KIND, labels.reference(*id), Outcome::Failed)
                        .message(reason.clone())
                        .openerp_id(*id);
                    tally.add(Outcome::Failed);
                    env.ctx.record(rec).await?;
                    env.ctx.advance(1).await?;
                }
            }
        }
    }
    let roots: Vec<String> = scope.roots.iter().map(|r| r.magento_root_id.to_string()).collect();
    Ok(Summary::new(format!("categories under root(s) {}: {}", roots.join(", "), tally.line(env.ctx.dry_run()))))
}

fn store_names(
    scope: &CatalogScope,
    root: &RootScope,
    by_lang: &BTreeMap<String, HashMap<i64, String>>,
) -> Vec<StoreNames> {
    scope
        .translations_under(root.magento_root_id)
        .filter_map(|t| by_lang.get(&t.lang).map(|names| StoreNames { store_id: t.store_id, names: names.clone() }))
        .collect()
}

/// Categories with steps that are not in `reported` (ancestors of an ids-limited run,
/// disabled ones).
fn extra_reported(plan: &RootPlan) -> Vec<i64> {
    let reported: BTreeSet<i64> = plan.reported.iter().copied().collect();
    let mut out = Vec::new();
    for s in &plan.steps {
        let c = s.category();
        if !reported.contains(&c) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Counts of a run, for its summary line.
#[derive(Debug, Default)]
struct Tally {
    counts: BTreeMap<&'static str, usize>,
}

impl Tally {
    fn add(&mut self, o: Outcome) {
        *self.counts.entry(o.as_str()).or_insert(0) += 1;
    }

    fn line(&self, dry_run: bool) -> String {
        let n = |k: &str| self.counts.get(k).copied().unwrap_or(0);
        if dry_run {
            format!("dry run, {} planned, {} unchanged, {} failed", n("planned"), n("skipped"), n("failed"))
        } else {
            format!(
                "{} created, {} updated, {} unchanged, {} failed",
                n("created"),
                n("updated"),
                n("skipped"),
                n("failed")
            )
        }
    }
}

/// Names of the categories of one root for records and messages.
struct Labels {
    root_id: i64,
    paths: HashMap<i64, String>,
    complete: HashMap<i64, String>,
}

impl Labels {
    fn new(root: &RootScope, desired: &[ExportedCategory], all: &[Category]) -> Self {
        Labels {
            root_id: root.magento_root_id,
            paths: desired.iter().map(|c| (c.id, c.path.clone())).collect(),
            complete: all.iter().map(|c| (c.id, c.complete_name.clone())).collect(),
        }
    }

    /// `Clothing / Men (root 2)`; categories no longer exported by their OpenERP full name.
    fn reference(&self, id: i64) -> String {
        let name = self
            .paths
            .get(&id)
            .or_else(|| self.complete.get(&id))
            .cloned()
            .unwrap_or_else(|| format!("category {id} (deleted in OpenERP)"));
        format!("{name} (root {})", self.root_id)
    }

    fn name(&self, id: i64) -> String {
        self.paths.get(&id).or_else(|| self.complete.get(&id)).cloned().unwrap_or_else(|| format!("category {id}"))
    }
}

/// Progress of one category during execution.
#[derive(Debug, Default)]
struct CatState {
    magento_id: Option<i64>,
    extra: CategoryExtra,
    created: bool,
    changes: Vec<String>,
    failure: Option<String>,
}

impl CatState {
    fn fail(&mut self, why: String) {
        match &mut self.failure {
            Some(f) => {
                f.push_str("; ");
                f.push_str(&why);
            }
            None => self.failure = Some(why),
        }
    }
}

async fn execute(
    env: &JobEnv,
    root: &RootScope,
    plan: &RootPlan,
    bindings: &[Binding],
    labels: &Labels,
    tally: &mut Tally,
) -> Result<(), JobError> {
    let dry = env.ctx.dry_run();
    let mut states: BTreeMap<i64, CatState> = BTreeMap::new();
    for b in bindings.iter().filter(|b| b.store_id == root.magento_root_id) {
        states.insert(
            b.openerp_id,
            CatState {
                magento_id: b.magento_id.parse().ok(),
                extra: CategoryExtra::from_binding(b),
                ..CatState::default()
            },
        );
    }
    let mut exec = Exec { env, root, labels, states, created: HashMap::new() };
    let steps = &plan.steps;
    if dry {
        for step in steps {
            let text = planned_text(step, &|t| exec.describe(t), labels);
            exec.states.entry(step.category()).or_default().changes.push(text);
        }
    } else {
        let mut i = 0;
        while i < steps.len() {
            env.check_cancelled()?;
            // Consecutive creates, and consecutive translations, go as batches.
            let kind = std::mem::discriminant(&steps[i]);
            let end = match &steps[i] {
                Step::Create { .. } | Step::Translate { .. } => {
                    i + steps[i..].iter().take_while(|s| std::mem::discriminant(*s) == kind).count()
                }
                _ => i + 1,
            };
            match &steps[i] {
                Step::Create { .. } => exec.creates(&steps[i..end]).await?,
                Step::Translate { .. } => exec.translations(&steps[i..end]).await,
                step => exec.single(step).await?,
            }
            i = end;
        }
    }
    let Exec { mut states, created, .. } = exec;

    let mut order: Vec<i64> = plan.reported.clone();
    order.extend(extra_reported(plan));
    for id in order {
        let state = states.remove(&id).unwrap_or_default();
        let (outcome, message) = match (&state.failure, dry) {
            (Some(f), _) if state.changes.is_empty() => (Outcome::Failed, f.clone()),
            (Some(f), _) => (Outcome::Failed, format!("{}; but {f}", state.changes.join("; "))),
            (None, true) if !state.changes.is_empty() => (Outcome::Planned, state.changes.join("; ")),
            (None, _) if state.created => (Outcome::Created, state.changes.join("; ")),
            (None, _) if !state.changes.is_empty() => (Outcome::Updated, state.changes.join("; ")),
            (None, _) => (Outcome::Skipped, "unchanged: Magento already matches OpenERP".to_owned()),
        };
        tally.add(outcome);
        let mut rec = NewRecord::new(RECORD_KIND, labels.reference(id), outcome).message(message).openerp_id(id);
        if let Some(m) = state.magento_id.or_else(|| created.get(&id).copied()) {
            rec = rec.magento_id(m.to_string());
        }
        env.ctx.record(rec).await?;
        env.ctx.advance(1).await?;
    }
    Ok(())
}

/// What the execution of one root's steps tracks.
struct Exec<'a> {
    env: &'a JobEnv,
    root: &'a RootScope,
    labels: &'a Labels,
    states: BTreeMap<i64, CatState>,
    created: HashMap<i64, i64>,
}

impl Exec<'_> {
    /// The Magento id of a target, once known.
    fn resolve(&self, t: &Target) -> Result<i64, String> {
        match t {
            Target::Magento(m) => Ok(*m),
            Target::Created(c) => {
                self.created.get(c).copied().ok_or_else(|| {
                    format!("not done because {:?} could not be created in Magento", self.labels.name(*c))
                })
            }
        }
    }

    fn describe(&self, t: &Target) -> String {
        match t {
            Target::Magento(m) if *m == self.root.magento_root_id => format!("root {m}"),
            Target::Magento(m) => format!("Magento category {m}"),
            Target::Created(c) => format!("the new category {:?}", self.labels.name(*c)),
        }
    }

    /// Records the result of a step on `cat`, and saves its binding right after a success.
    async fn settle(&mut self, cat: i64, result: Result<Option<String>, String>) {
        let state = self.states.entry(cat).or_default();
        match result {
            Ok(change) => {
                if let Some(c) = change {
                    state.changes.push(c);
                }
                if let Some(m) = state.magento_id {
                    let put = BindingPut::new(self.env.backend(), BindingKind::Category, cat, m.to_string())
                        .store(self.root.magento_root_id)
                        .hash(state.extra.hash())
                        .extra(serde_json::to_value(&state.extra).unwrap_or_default());
                    if let Err(e) = self.env.ctx.store().bindings().put(put).await {
                        state.fail(format!("the binding could not be saved: {e}"));
                    }
                }
            }
            Err(e) => state.fail(e),
        }
    }

    /// A run of consecutive creates: in waves (a category whose parent is created in the same
    /// run waits for the next wave), each wave one batch in plan order, so siblings keep the
    /// order the plan placed them in.
    async fn creates(&mut self, run: &[Step]) -> Result<(), JobError> {
        let mut wave_of: HashMap<i64, usize> = HashMap::new();
        let mut waves: Vec<Vec<(i64, &Target, &String)>> = Vec::new();
        for step in run {
            let Step::Create { category, parent, name } = step else { continue };
            let wave = match parent {
                Target::Created(p) => wave_of.get(p).map_or(0, |w| w + 1),
                Target::Magento(_) => 0,
            };
            wave_of.insert(*category, wave);
            if waves.len() <= wave {
                waves.resize_with(wave + 1, Vec::new);
            }
            waves[wave].push((*category, parent, name));
        }
        for wave in waves {
            self.env.check_cancelled()?;
            let mut calls = Vec::new();
            let mut owners = Vec::new();
            for (cat, parent, name) in wave {
                match self.resolve(parent) {
                    Ok(p) => {
                        calls.push((p, NewCategory::new(name.clone())));
                        owners.push((cat, p, parent, name));
                    }
                    Err(e) => self.settle(cat, Err(e)).await,
                }
            }
            if calls.is_empty() {
                continue;
            }
            let results = self.env.magento().create_categories(&calls).await;
            for ((cat, p, parent, name), r) in owners.into_iter().zip(results) {
                let result = match r {
                    Ok(id) => {
                        self.created.insert(cat, id);
                        let state = self.states.entry(cat).or_default();
                        state.magento_id = Some(id);
                        state.created = true;
                        state.extra = CategoryExtra { name: name.clone(), parent: p, ..CategoryExtra::default() };
                        Ok(Some(format!("created under {} (id {id})", self.describe(parent))))
                    }
                    Err(e) => Err(format!("Magento refused the create: {e}")),
                };
                self.settle(cat, result).await;
            }
        }
        Ok(())
    }

    /// A run of consecutive translations: one batch (each is a store-scope update).
    async fn translations(&mut self, run: &[Step]) {
        let mut calls = Vec::new();
        let mut owners = Vec::new();
        for step in run {
            let Step::Translate { category, target, store_id, name, hash } = step else { continue };
            match self.resolve(target) {
                Ok(id) => {
                    let update = CategoryUpdate { name: Some(name.clone()), ..CategoryUpdate::default() };
                    calls.push((id, update, Scope::Store(*store_id)));
                    owners.push((*category, *store_id, name, hash));
                }
                Err(e) => self.settle(*category, Err(e)).await,
            }
        }
        if calls.is_empty() {
            return;
        }
        let results = self.env.magento().update_categories(&calls).await;
        for ((cat, store_id, name, hash), r) in owners.into_iter().zip(results) {
            let result = match r {
                Ok(()) => {
                    self.states.entry(cat).or_default().extra.tr.insert(store_id, hash.clone());
                    Ok(Some(format!("name in store view {store_id}: {name:?}")))
                }
                Err(e) => Err(format!("the name of store view {store_id} was refused: {e}")),
            };
            self.settle(cat, result).await;
        }
    }

    /// One step alone.
    async fn single(&mut self, step: &Step) -> Result<(), JobError> {
        let cat = step.category();
        let magento = self.env.magento();
        let result: Result<Option<String>, String> = match step {
            Step::Bind { magento_id, .. } => {
                let state = self.states.entry(cat).or_default();
                state.magento_id = Some(*magento_id);
                state.extra = CategoryExtra::default();
                Ok(Some(format!(
                    "bound to the existing Magento category {magento_id} (same name under the same parent)"
                )))
            }
            Step::Create { .. } => return self.creates(std::slice::from_ref(step)).await,
            Step::Translate { .. } => {
                self.translations(std::slice::from_ref(step)).await;
                return Ok(());
            }
            Step::Update { magento_id, name, enable, .. } => {
                let update = CategoryUpdate {
                    name: name.as_ref().map(|(_, n)| n.clone()),
                    is_active: enable.then_some(true),
                    ..CategoryUpdate::default()
                };
                match magento.update_category(*magento_id, &update, Scope::Default).await {
                    Ok(()) => {
                        let state = self.states.entry(cat).or_default();
                        let mut what = Vec::new();
                        if let Some((old, new)) = name {
                            state.extra.name = new.clone();
                            if old != new {
                                what.push(format!("renamed {old:?} → {new:?}"));
                            }
                        }
                        if *enable {
                            state.extra.disabled = false;
                            what.push("enabled".to_owned());
                        }
                        Ok(Some(what.join(", ")).filter(|s| !s.is_empty()))
                    }
                    Err(e) => Err(format!("Magento refused the update: {e}")),
                }
            }
            Step::Move { magento_id, from, to, .. } => match self.resolve(to) {
                Err(e) => Err(e),
                Ok(p) => match magento.move_category(*magento_id, p, None).await {
                    Ok(()) => {
                        self.states.entry(cat).or_default().extra.parent = p;
                        Ok(Some(format!(
                            "moved from {} to {}",
                            self.describe(&Target::Magento(*from)),
                            self.describe(to)
                        )))
                    }
                    Err(e) => Err(format!("Magento refused the move: {e}")),
                },
            },
            Step::Reorder { target, parent, after, .. } => {
                let ids =
                    (self.resolve(target), self.resolve(parent), after.as_ref().map(|a| self.resolve(a)).transpose());
                match ids {
                    (Ok(id), Ok(p), Ok(a)) => match magento.move_category(id, p, Some(a.unwrap_or(0))).await {
                        Ok(()) => Ok(Some(match after {
                            None => "placed first among its siblings".to_owned(),
                            Some(a) => format!("placed after {}", self.describe(a)),
                        })),
                        Err(e) => Err(format!("Magento refused the new position: {e}")),
                    },
                    (Err(e), _, _) | (_, Err(e), _) => Err(e),
                    // A sibling that could not be created fails itself, not this category.
                    (_, _, Err(e)) => Ok(Some(format!("position among its siblings not set ({e})"))),
                }
            }
            Step::Disable { magento_id, .. } => {
                let update = CategoryUpdate { is_active: Some(false), ..CategoryUpdate::default() };
                match magento.update_category(*magento_id, &update, Scope::Default).await {
                    Ok(()) => {
                        self.states.entry(cat).or_default().extra.disabled = true;
                        Ok(Some(
                            "disabled: no longer exported (removed, not exportable, or outside the exported tree)"
                                .into(),
                        ))
                    }
                    Err(e) => Err(format!("Magento refused to disable it: {e}")),
                }
            }
        };
        self.settle(cat, result).await;
        Ok(())
    }
}

/// What a step would do, for a dry run.
fn planned_text(step: &Step, describe: &dyn Fn(&Target) -> String, labels: &Labels) -> String {
    match step {
        Step::Bind { magento_id, .. } => format!("bind to the existing Magento category {magento_id} (same name)"),
        Step::Create { parent, name, .. } => format!("create {name:?} under {}", describe(parent)),
        Step::Update { name, enable, .. } => {
            let mut w = Vec::new();
            if let Some((old, new)) = name
                && old != new
            {
                w.push(format!("rename {old:?} → {new:?}"));
            }
            if *enable {
                w.push("enable".to_owned());
            }
            if w.is_empty() { "send the name again".to_owned() } else { w.join(", ") }
        }
        Step::Move { from, to, .. } => format!("move from {} to {}", describe(&Target::Magento(*from)), describe(to)),
        Step::Reorder { after, .. } => match after {
            None => "place first among its siblings".to_owned(),
            Some(a) => format!("place after {}", describe(a)),
        },
        Step::Disable { category, .. } => format!("disable {:?}: no longer exported", labels.name(*category)),
        Step::Translate { store_id, name, .. } => format!("set the name of store view {store_id} to {name:?}"),
    }
}
