//! The plan of one Magento root: from the Magento tree under the root, the exported OpenERP
//! categories and their bindings, the ordered list of [`Step`]s that makes Magento match.
//!
//! Pure: no I/O. Steps refer to categories created earlier in the same plan by their OpenERP
//! id ([`Target::Created`]); the driver resolves them as it executes.
//!
//! Rules:
//! * identity: the binding (OpenERP id, root); without one (or when its Magento category is no
//!   longer under the root), the child of the Magento parent whose name matches
//!   (case-insensitive, trimmed) and that no other category claims is bound; else one is
//!   created. Parents are handled before children.
//! * a bound category whose parent changed is moved (`catalog_category.move`); a changed name
//!   or a disabled category is updated.
//! * bound categories that are no longer exported are disabled (`is_active = 0`), never
//!   deleted. Magento categories the connector does not know are left alone.
//! * position: among the exported siblings under one Magento parent, Magento's order follows
//!   OpenERP's (name, case-insensitive, then id); out-of-order categories are moved after
//!   their predecessor (`afterId`, `0` = first). Categories Magento has on its own keep their
//!   place relative to the others.
//! * translations: per store view of the root whose language differs from the default one,
//!   the translated name is sent at store scope when it differs from the default name and
//!   changed since last sent (hash per store in the binding). A translation that went back
//!   to the default name is overwritten with the default name once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::magento::types::CategoryNode;
use crate::sync::catalog_common::{ExportedCategory, hash_text, name_key};

/// A Magento category a step works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// An existing Magento category id.
    Magento(i64),
    /// The category created earlier in this plan for this OpenERP id.
    Created(i64),
}

/// One write (or binding) the plan needs, in execution order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Bind an existing Magento category found by its path of names.
    Bind {
        /// OpenERP category.
        category: i64,
        /// Magento category.
        magento_id: i64,
    },
    /// Create the category under `parent`.
    Create {
        /// OpenERP category.
        category: i64,
        /// Magento parent.
        parent: Target,
        /// Name.
        name: String,
    },
    /// Change the name and/or enable the category (default scope).
    Update {
        /// OpenERP category.
        category: i64,
        /// Magento category.
        magento_id: i64,
        /// `(current, new)` name when it changes.
        name: Option<(String, String)>,
        /// Enable a disabled category.
        enable: bool,
    },
    /// Move the category under another parent (appended last).
    Move {
        /// OpenERP category.
        category: i64,
        /// Magento category.
        magento_id: i64,
        /// Current Magento parent.
        from: i64,
        /// New Magento parent.
        to: Target,
    },
    /// Reposition among its siblings: after `after`, or first when `None`.
    Reorder {
        /// OpenERP category.
        category: i64,
        /// Its Magento category.
        target: Target,
        /// Its Magento parent.
        parent: Target,
        /// The sibling it goes after (`None`: first).
        after: Option<Target>,
    },
    /// Disable a bound category that is no longer exported.
    Disable {
        /// OpenERP category.
        category: i64,
        /// Magento category.
        magento_id: i64,
    },
    /// Send the name of a store view.
    Translate {
        /// OpenERP category.
        category: i64,
        /// Its Magento category.
        target: Target,
        /// Store view id.
        store_id: i64,
        /// Name to send at store scope.
        name: String,
        /// Hash to keep in the binding once sent.
        hash: String,
    },
}

impl Step {
    /// The OpenERP category the step is about.
    pub fn category(&self) -> i64 {
        match self {
            Step::Bind { category, .. }
            | Step::Create { category, .. }
            | Step::Update { category, .. }
            | Step::Move { category, .. }
            | Step::Reorder { category, .. }
            | Step::Disable { category, .. }
            | Step::Translate { category, .. } => *category,
        }
    }
}

/// What the state store knows of a bound category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bound {
    /// Magento category id.
    pub magento_id: i64,
    /// Hash of the last name sent per store view.
    pub translations: BTreeMap<i64, String>,
}

/// Names of one store view's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreNames {
    /// Store view id.
    pub store_id: i64,
    /// Translated names by OpenERP id (missing: no translation).
    pub names: HashMap<i64, String>,
}

/// Everything the planner needs about one root.
#[derive(Debug, Clone)]
pub struct RootInput<'a> {
    /// Magento root category id.
    pub root_id: i64,
    /// Magento tree under the root (the root itself at the top).
    pub tree: &'a CategoryNode,
    /// Exported categories, parents first.
    pub desired: &'a [ExportedCategory],
    /// Bindings under this root by OpenERP id.
    pub bound: &'a BTreeMap<i64, Bound>,
    /// Store views of this root that get translated names.
    pub translations: &'a [StoreNames],
    /// Limit the run to these OpenERP ids (their exported ancestors are handled too).
    pub only: Option<&'a BTreeSet<i64>>,
    /// Ignore hashes and current values: send every name and translation again.
    pub full: bool,
}

/// The plan of one root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootPlan {
    /// Steps in execution order.
    pub steps: Vec<Step>,
    /// OpenERP ids the run reports on (exported and in scope), in tree order.
    pub reported: Vec<i64>,
}

#[derive(Debug, Clone)]
struct MagentoInfo {
    name: String,
    is_active: bool,
}

/// A node of the simulated tree: ours (by OpenERP id) or Magento's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Ours(i64),
    Foreign(i64),
}

struct Sim {
    children: HashMap<Key, Vec<Key>>,
    parent: HashMap<Key, Key>,
    ours_magento: HashMap<i64, i64>,
}

impl Sim {
    fn remove_child(&mut self, parent: Key, child: Key) {
        if let Some(list) = self.children.get_mut(&parent) {
            list.retain(|c| *c != child);
        }
    }

    fn append(&mut self, parent: Key, child: Key) {
        self.children.entry(parent).or_default().push(child);
        self.parent.insert(child, parent);
    }

    /// Turns Magento's node `m` into ours (bound by path).
    fn adopt(&mut self, m: i64, category: i64) {
        let (from, to) = (Key::Foreign(m), Key::Ours(category));
        if let Some(list) = self.children.remove(&from) {
            for c in &list {
                self.parent.insert(*c, to);
            }
            self.children.insert(to, list);
        }
        if let Some(p) = self.parent.remove(&from) {
            self.parent.insert(to, p);
            if let Some(list) = self.children.get_mut(&p) {
                for c in list.iter_mut().filter(|c| **c == from) {
                    *c = to;
                }
            }
        }
        self.ours_magento.insert(category, m);
    }

    fn target(&self, k: Key) -> Target {
        match k {
            Key::Foreign(m) => Target::Magento(m),
            Key::Ours(c) => self.ours_magento.get(&c).map_or(Target::Created(c), |m| Target::Magento(*m)),
        }
    }
}

fn sorted_children(node: &CategoryNode) -> Vec<&CategoryNode> {
    let mut c: Vec<&CategoryNode> = node.children.iter().collect();
    c.sort_by_key(|n| (n.position, n.id));
    c
}

/// Plans one root.
pub fn plan_root(input: &RootInput<'_>) -> RootPlan {
    let desired_ids: BTreeSet<i64> = input.desired.iter().map(|c| c.id).collect();
    let by_id: HashMap<i64, &ExportedCategory> = input.desired.iter().map(|c| (c.id, c)).collect();

    // What is in scope: the given ids and their exported ancestors (needed to place them).
    let in_scope: BTreeSet<i64> = match input.only {
        None => desired_ids.clone(),
        Some(only) => {
            let mut s = BTreeSet::new();
            for id in only.iter().filter(|i| desired_ids.contains(i)) {
                let mut cur = Some(*id);
                while let Some(c) = cur {
                    if !s.insert(c) {
                        break;
                    }
                    cur = by_id.get(&c).and_then(|x| x.parent);
                }
            }
            s
        }
    };
    let requested = |id: i64| input.only.is_none_or(|o| o.contains(&id));

    // The Magento tree, with bound categories as ours.
    let mut info: HashMap<i64, MagentoInfo> = HashMap::new();
    let magento_to_ours: HashMap<i64, i64> =
        input.bound.iter().filter(|(id, _)| desired_ids.contains(id)).map(|(id, b)| (b.magento_id, *id)).collect();
    let key_of = |m: i64| magento_to_ours.get(&m).map_or(Key::Foreign(m), |c| Key::Ours(*c));
    let mut sim = Sim { children: HashMap::new(), parent: HashMap::new(), ours_magento: HashMap::new() };
    let root_key = Key::Foreign(input.root_id);
    let mut stack = vec![input.tree];
    while let Some(n) = stack.pop() {
        info.insert(n.id, MagentoInfo { name: n.name.clone(), is_active: n.is_active });
        let k = if n.id == input.root_id { root_key } else { key_of(n.id) };
        if let Key::Ours(c) = k {
            sim.ours_magento.insert(c, n.id);
        }
        for ch in sorted_children(n) {
            let ck = key_of(ch.id);
            sim.append(k, ck);
            stack.push(ch);
        }
    }

    let mut steps = Vec::new();
    let mut claimed: BTreeSet<i64> = input.bound.values().map(|b| b.magento_id).collect();
    // Categories that get another Magento category than their binding's: what was sent to the
    // old one does not count.
    let mut fresh: BTreeSet<i64> = BTreeSet::new();
    for c in input.desired.iter().filter(|c| in_scope.contains(&c.id)) {
        let parent_key = c.parent.map_or(root_key, Key::Ours);
        let me = Key::Ours(c.id);
        let mut existing = sim.ours_magento.get(&c.id).copied();
        if existing.is_none() {
            // Find it by name under its Magento parent.
            let found = sim.children.get(&parent_key).and_then(|list| {
                list.iter().find_map(|k| match k {
                    Key::Foreign(m)
                        if !claimed.contains(m)
                            && info.get(m).is_some_and(|i| name_key(&i.name) == name_key(&c.name)) =>
                    {
                        Some(*m)
                    }
                    _ => None,
                })
            });
            if let Some(m) = found {
                claimed.insert(m);
                fresh.insert(c.id);
                sim.adopt(m, c.id);
                steps.push(Step::Bind { category: c.id, magento_id: m });
                existing = Some(m);
            }
        }
        match existing {
            None => {
                fresh.insert(c.id);
                steps.push(Step::Create { category: c.id, parent: sim.target(parent_key), name: c.name.clone() });
                sim.append(parent_key, me);
            }
            Some(m) => {
                let current_parent = sim.parent.get(&me).copied();
                if current_parent != Some(parent_key) {
                    let from = match current_parent.map(|p| sim.target(p)) {
                        Some(Target::Magento(id)) => id,
                        _ => input.root_id,
                    };
                    steps.push(Step::Move { category: c.id, magento_id: m, from, to: sim.target(parent_key) });
                    if let Some(p) = current_parent {
                        sim.remove_child(p, me);
                    }
                    sim.append(parent_key, me);
                }
                let cur = info.get(&m);
                let name_now = cur.map(|i| i.name.clone()).unwrap_or_default();
                let rename = input.full || name_now != c.name;
                let enable = input.full || !cur.is_some_and(|i| i.is_active);
                if rename || enable {
                    steps.push(Step::Update {
                        category: c.id,
                        magento_id: m,
                        name: rename.then(|| (name_now, c.name.clone())),
                        enable,
                    });
                }
            }
        }
    }

    // Bound categories that are no longer exported.
    for (id, b) in input.bound {
        if desired_ids.contains(id) || !requested(*id) {
            continue;
        }
        if info.get(&b.magento_id).is_some_and(|i| i.is_active) && b.magento_id != input.root_id {
            steps.push(Step::Disable { category: *id, magento_id: b.magento_id });
        }
    }

    // Positions among exported siblings.
    let mut parents: Vec<Key> = sim.children.keys().copied().collect();
    parents.sort();
    for p in parents {
        let list = sim.children.get(&p).cloned().unwrap_or_default();
        let ours: Vec<i64> = list
            .iter()
            .filter_map(|k| match k {
                Key::Ours(c) if in_scope.contains(c) => Some(*c),
                _ => None,
            })
            .collect();
        if ours.len() < 2 {
            continue;
        }
        if input.only.is_some() && !ours.iter().any(|c| requested(*c)) {
            continue;
        }
        let mut wanted = ours.clone();
        wanted.sort_by(|a, b| {
            let (na, nb) = (by_id.get(a).map(|x| name_key(&x.name)), by_id.get(b).map(|x| name_key(&x.name)));
            na.cmp(&nb).then(a.cmp(b))
        });
        let mut current = list;
        for (i, c) in wanted.iter().enumerate() {
            let ours_now: Vec<i64> = current
                .iter()
                .filter_map(|k| match k {
                    Key::Ours(x) if wanted.contains(x) => Some(*x),
                    _ => None,
                })
                .collect();
            if ours_now.get(i) == Some(c) {
                continue;
            }
            let me = Key::Ours(*c);
            current.retain(|k| *k != me);
            let after = if i == 0 { None } else { Some(Key::Ours(wanted[i - 1])) };
            let at = match after {
                None => 0,
                Some(a) => current.iter().position(|k| *k == a).map_or(current.len(), |x| x + 1),
            };
            current.insert(at, me);
            steps.push(Step::Reorder {
                category: *c,
                target: sim.target(me),
                parent: sim.target(p),
                after: after.map(|a| sim.target(a)),
            });
        }
        sim.children.insert(p, current);
    }

    // Translations.
    for c in input.desired.iter().filter(|c| in_scope.contains(&c.id)) {
        for store in input.translations {
            let name = store
                .names
                .get(&c.id)
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| c.name.clone());
            let hash = hash_text(&name);
            let previous = input
                .bound
                .get(&c.id)
                .filter(|_| !fresh.contains(&c.id))
                .and_then(|b| b.translations.get(&store.store_id));
            let send = match previous {
                None => name != c.name,
                Some(p) => input.full || *p != hash,
            };
            if send {
                steps.push(Step::Translate {
                    category: c.id,
                    target: sim.target(Key::Ours(c.id)),
                    store_id: store.store_id,
                    name,
                    hash,
                });
            }
        }
    }

    let reported = input.desired.iter().map(|c| c.id).filter(|id| in_scope.contains(id) && requested(*id)).collect();
    RootPlan { steps, reported }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(
        id: i64,
        parent: i64,
        name: &str,
        position: i64,
        active: bool,
        children: Vec<CategoryNode>,
    ) -> CategoryNode {
        CategoryNode { id, parent_id: Some(parent), name: name.into(), is_active: active, position, level: 0, children }
    }

    /// The seeded shop's root 2: Clothing (Men, Women), Electronics, Home & Garden, Books, Sale.
    fn shop_tree() -> CategoryNode {
        node(
            2,
            1,
            "Default Category",
            1,
            true,
            vec![
                node(
                    3,
                    2,
                    "Clothing",
                    1,
                    true,
                    vec![node(4, 3, "Men", 1, true, vec![]), node(5, 3, "Women", 2, true, vec![])],
                ),
                node(6, 2, "Electronics", 2, true, vec![]),
                node(9, 2, "Home & Garden", 3, true, vec![]),
                node(10, 2, "Books", 4, true, vec![]),
                node(11, 2, "Sale", 5, false, vec![]),
            ],
        )
    }

    fn ex(id: i64, parent: Option<i64>, name: &str) -> ExportedCategory {
        ExportedCategory { id, parent, name: name.into(), path: name.into() }
    }

    /// OpenERP: Books 10x, Clothing 100 (Men 101, Women 102), Electronics 200, Home & Garden 300,
    /// Office 400 (Desks 401), in tree order.
    fn desired() -> Vec<ExportedCategory> {
        vec![
            ex(110, None, "Books"),
            ex(100, None, "clothing "),
            ex(101, Some(100), "Men"),
            ex(102, Some(100), "Women"),
            ex(200, None, "Electronics"),
            ex(300, None, "Home & Garden"),
            ex(400, None, "Office"),
            ex(401, Some(400), "Desks"),
        ]
        .into_iter()
        .map(|mut c| {
            c.name = c.name.trim().to_owned();
            c
        })
        .collect()
    }

    fn input<'a>(
        tree: &'a CategoryNode,
        desired: &'a [ExportedCategory],
        bound: &'a BTreeMap<i64, Bound>,
        translations: &'a [StoreNames],
    ) -> RootInput<'a> {
        RootInput { root_id: 2, tree, desired, bound, translations, only: None, full: false }
    }

    #[test]
    fn first_run_binds_by_path_creates_the_rest_and_orders_by_name() {
        let tree = shop_tree();
        let d = desired();
        let bound = BTreeMap::new();
        let plan = plan_root(&input(&tree, &d, &bound, &[]));
        let binds: Vec<(i64, i64)> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Bind { category, magento_id } => Some((*category, *magento_id)),
                _ => None,
            })
            .collect();
        assert_eq!(binds, vec![(110, 10), (100, 3), (101, 4), (102, 5), (200, 6), (300, 9)]);
        let creates: Vec<&Step> = plan.steps.iter().filter(|s| matches!(s, Step::Create { .. })).collect();
        assert_eq!(
            creates,
            vec![
                &Step::Create { category: 400, parent: Target::Magento(2), name: "Office".into() },
                &Step::Create { category: 401, parent: Target::Created(400), name: "Desks".into() },
            ]
        );
        // "Clothing" matched " clothing " case-insensitively but the name is made exact.
        assert!(plan.steps.contains(&Step::Update {
            category: 100,
            magento_id: 3,
            name: Some(("Clothing".into(), "clothing".into())),
            enable: false
        }));
        // Books goes first; everything else is already in order (Sale is Magento's own).
        let reorders: Vec<&Step> = plan.steps.iter().filter(|s| matches!(s, Step::Reorder { .. })).collect();
        assert_eq!(
            reorders,
            vec![&Step::Reorder {
                category: 110,
                target: Target::Magento(10),
                parent: Target::Magento(2),
                after: None
            }]
        );
        assert!(!plan.steps.iter().any(|s| matches!(s, Step::Disable { .. })));
        assert_eq!(plan.reported.len(), 8);
    }

    fn bound_all() -> BTreeMap<i64, Bound> {
        [(110, 10), (100, 3), (101, 4), (102, 5), (200, 6), (300, 9), (400, 20), (401, 21)]
            .into_iter()
            .map(|(c, m)| (c, Bound { magento_id: m, translations: BTreeMap::new() }))
            .collect()
    }

    fn synced_tree() -> CategoryNode {
        node(
            2,
            1,
            "Default Category",
            1,
            true,
            vec![
                node(10, 2, "Books", 1, true, vec![]),
                node(
                    3,
                    2,
                    "Clothing",
                    2,
                    true,
                    vec![node(4, 3, "Men", 1, true, vec![]), node(5, 3, "Women", 2, true, vec![])],
                ),
                node(6, 2, "Electronics", 3, true, vec![]),
                node(9, 2, "Home & Garden", 4, true, vec![]),
                node(11, 2, "Sale", 5, false, vec![]),
                node(20, 2, "Office", 6, true, vec![node(21, 20, "Desks", 1, true, vec![])]),
            ],
        )
    }

    fn desired_exact() -> Vec<ExportedCategory> {
        let mut d = desired();
        d[1].name = "Clothing".into();
        d
    }

    #[test]
    fn nothing_to_do_when_magento_matches() {
        let tree = synced_tree();
        let d = desired_exact();
        let bound = bound_all();
        let plan = plan_root(&input(&tree, &d, &bound, &[]));
        assert_eq!(plan.steps, vec![]);
        let full = RootInput { full: true, ..input(&tree, &d, &bound, &[]) };
        assert_eq!(plan_root(&full).steps.len(), 8, "full updates every category");
    }

    #[test]
    fn rename_move_disable_and_reorder() {
        let tree = synced_tree();
        let mut d = desired_exact();
        // Desks moves under Electronics, Women is renamed "Ladies" (sorts before Men),
        // Books is removed from the export.
        d.retain(|c| c.id != 110);
        d.iter_mut().find(|c| c.id == 102).unwrap().name = "Ladies".into();
        let desks = d.iter().position(|c| c.id == 401).unwrap();
        let mut moved = d.remove(desks);
        moved.parent = Some(200);
        let at = d.iter().position(|c| c.id == 200).unwrap() + 1;
        d.insert(at, moved);
        let bound = bound_all();
        let plan = plan_root(&input(&tree, &d, &bound, &[]));
        assert!(plan.steps.contains(&Step::Update {
            category: 102,
            magento_id: 5,
            name: Some(("Women".into(), "Ladies".into())),
            enable: false
        }));
        assert!(plan.steps.contains(&Step::Move { category: 401, magento_id: 21, from: 20, to: Target::Magento(6) }));
        assert!(plan.steps.contains(&Step::Disable { category: 110, magento_id: 10 }));
        assert!(plan.steps.contains(&Step::Reorder {
            category: 102,
            target: Target::Magento(5),
            parent: Target::Magento(3),
            after: None
        }));
        assert_eq!(plan.steps.iter().filter(|s| matches!(s, Step::Reorder { .. })).count(), 1);
    }

    #[test]
    fn a_bound_category_gone_from_magento_is_found_again_or_recreated() {
        let mut tree = synced_tree();
        tree.children.retain(|c| c.id != 20);
        let d = desired_exact();
        let bound = bound_all();
        let plan = plan_root(&input(&tree, &d, &bound, &[]));
        assert!(plan.steps.contains(&Step::Create {
            category: 400,
            parent: Target::Magento(2),
            name: "Office".into()
        }));
        assert!(plan.steps.contains(&Step::Create {
            category: 401,
            parent: Target::Created(400),
            name: "Desks".into()
        }));
    }

    #[test]
    fn a_recreated_category_gets_its_translation_again() {
        let mut tree = synced_tree();
        tree.children.retain(|c| c.id != 20);
        let d = desired_exact();
        let mut bound = bound_all();
        bound.get_mut(&400).unwrap().translations.insert(2, hash_text("Bureau"));
        let fr = StoreNames { store_id: 2, names: [(400, "Bureau".to_owned())].into_iter().collect() };
        let plan = plan_root(&input(&tree, &d, &bound, std::slice::from_ref(&fr)));
        assert!(plan.steps.contains(&Step::Translate {
            category: 400,
            target: Target::Created(400),
            store_id: 2,
            name: "Bureau".into(),
            hash: hash_text("Bureau")
        }));
    }

    #[test]
    fn translations_are_sent_when_different_and_changed() {
        let tree = synced_tree();
        let d = desired_exact();
        let mut bound = bound_all();
        let fr = StoreNames {
            store_id: 2,
            names: [(100, "Vêtements".to_owned()), (200, "Electronics".to_owned())].into_iter().collect(),
        };
        let plan = plan_root(&input(&tree, &d, &bound, std::slice::from_ref(&fr)));
        let tr: Vec<(i64, String)> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Translate { category, name, .. } => Some((*category, name.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(tr, vec![(100, "Vêtements".to_owned())], "same as default: nothing to send");
        bound.get_mut(&100).unwrap().translations.insert(2, hash_text("Vêtements"));
        assert!(plan_root(&input(&tree, &d, &bound, std::slice::from_ref(&fr))).steps.is_empty());
        // The translation was removed in OpenERP: the default name overrides the old one once.
        let fr2 = StoreNames { store_id: 2, names: HashMap::new() };
        let plan = plan_root(&input(&tree, &d, &bound, std::slice::from_ref(&fr2)));
        assert_eq!(
            plan.steps,
            vec![Step::Translate {
                category: 100,
                target: Target::Magento(3),
                store_id: 2,
                name: "Clothing".into(),
                hash: hash_text("Clothing")
            }]
        );
    }

    #[test]
    fn an_ids_limited_plan_covers_the_ids_and_their_ancestors_only() {
        let tree = shop_tree();
        let d = desired();
        let bound = BTreeMap::new();
        let only: BTreeSet<i64> = [401].into_iter().collect();
        let plan = plan_root(&RootInput { only: Some(&only), ..input(&tree, &d, &bound, &[]) });
        let cats: BTreeSet<i64> = plan.steps.iter().map(Step::category).collect();
        assert_eq!(cats, [400, 401].into_iter().collect());
        assert_eq!(plan.reported, vec![401]);
    }

    #[test]
    fn two_categories_with_one_name_do_not_share_a_magento_category() {
        let tree = shop_tree();
        let d = vec![ex(1, None, "Books"), ex(2, None, "books")];
        let bound = BTreeMap::new();
        let plan = plan_root(&input(&tree, &d, &bound, &[]));
        assert!(plan.steps.contains(&Step::Bind { category: 1, magento_id: 10 }));
        assert!(plan.steps.contains(&Step::Create { category: 2, parent: Target::Magento(2), name: "books".into() }));
    }
}
