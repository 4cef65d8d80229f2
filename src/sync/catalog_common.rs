//! What the category and product exports share: where the catalog goes (Magento roots,
//! websites, the default store view and the store views that get translations), which OpenERP
//! categories are exported under each root, how a product's category maps to Magento, and the
//! hashing of payloads.
//!
//! Everything here is pure except [`load_scope`], which may read Magento's store list. This
//! module writes nothing, to either peer or to the state store.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use crate::magento::types::StoreView;
use crate::openerp::Context;
use crate::openerp::models::categories::Category;
use crate::openerp::models::settings::{BackendSettings, StoreSettings};
use crate::rpc::value::Many2one;
use crate::server::jobs::JobError;
use crate::store::Binding;
use crate::sync::env::JobEnv;

/// One Magento root category and what is exported under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootScope {
    /// Magento root category id (the store group's root).
    pub magento_root_id: i64,
    /// OpenERP category mapped to that root: its children become the root's children.
    /// `None`: the whole exportable tree (OpenERP's top-level categories go under the root).
    pub openerp_root: Option<i64>,
    /// Store views (with `export_catalog`) under this root.
    pub store_ids: Vec<i64>,
}

/// A store view whose texts are sent at store scope, in its own language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslationStore {
    /// Magento store view id.
    pub store_id: i64,
    /// Magento root category of its store group.
    pub root_id: i64,
    /// OpenERP language (`fr_FR`).
    pub lang: String,
}

/// Where the catalog goes, from the backend settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogScope {
    /// Roots, by Magento root id.
    pub roots: Vec<RootScope>,
    /// Websites of the store views with `export_catalog` (a product goes to all of them).
    pub website_ids: Vec<i64>,
    /// The default store view: Magento's store view `default` when mapped, else the exported
    /// store view with the lowest id. Its language is the language of default-scope values and
    /// its pricelist prices products when the price source is a pricelist.
    pub default_store_id: i64,
    /// Language of default-scope values (`None`: OpenERP's own default, `en_US`).
    pub default_lang: Option<String>,
    /// Pricelist of the default store view.
    pub default_pricelist: Option<Many2one>,
    /// Exported store views whose language differs from the default one.
    pub translations: Vec<TranslationStore>,
}

/// Settings that leave nothing to export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// No store line has `export_catalog`.
    #[error(
        "no store view of this backend exports the catalog: tick \"Export catalog\" on at least one store view \
         (Load stores on the backend first)"
    )]
    NoExportStore,
    /// Two store views under one Magento root map different OpenERP categories to it.
    #[error(
        "store views {first} and {second} share Magento root category {root} but map different OpenERP root \
         categories to it ({first_category} and {second_category}); give them the same one"
    )]
    ConflictingRoots {
        /// Magento root id.
        root: i64,
        /// First store view.
        first: i64,
        /// Its OpenERP root.
        first_category: String,
        /// Second store view.
        second: i64,
        /// Its OpenERP root.
        second_category: String,
    },
}

fn category_label(c: Option<&Many2one>) -> String {
    c.map_or_else(|| "none (the whole tree)".to_owned(), |m| format!("{:?} (id {})", m.name, m.id))
}

impl CatalogScope {
    /// True when a store line with `export_catalog` lacks its website or root category, so
    /// Magento's store list is needed to complete it.
    pub fn needs_magento_stores(settings: &BackendSettings) -> bool {
        settings
            .stores
            .iter()
            .filter(|s| s.export_catalog)
            .any(|s| s.magento_root_category_id.is_none_or(|r| r <= 0) || s.magento_website_id.is_none_or(|w| w <= 0))
    }

    /// Builds the scope from the settings, completing store lines with `views` (Magento's store
    /// list) when given. Returns warnings for store lines that had to be left out.
    pub fn from_settings(
        settings: &BackendSettings,
        views: Option<&[StoreView]>,
    ) -> Result<(CatalogScope, Vec<String>), ScopeError> {
        let mut warnings = Vec::new();
        let mut lines: Vec<(&StoreSettings, i64, i64)> = Vec::new();
        for s in settings.stores.iter().filter(|s| s.export_catalog) {
            let view = views.and_then(|v| v.iter().find(|v| v.id == s.magento_store_id));
            let root = s.magento_root_category_id.filter(|r| *r > 0).or(view.map(|v| v.root_category_id));
            let website = s.magento_website_id.filter(|w| *w > 0).or(view.map(|v| v.website_id));
            match (root, website) {
                (Some(r), Some(w)) => lines.push((s, r, w)),
                _ => warnings.push(format!(
                    "store view {} is left out of the catalog export: its website or root category is unknown \
                     (Magento has no store view with this id; use Load stores on the backend)",
                    s.magento_store_id
                )),
            }
        }
        if lines.is_empty() {
            return Err(ScopeError::NoExportStore);
        }
        lines.sort_by_key(|(s, _, _)| s.magento_store_id);
        let mut roots: Vec<RootScope> = Vec::new();
        let mut root_source: BTreeMap<i64, (i64, Option<Many2one>)> = BTreeMap::new();
        for (s, root, _) in &lines {
            let mapped = s.root_category.clone().or_else(|| settings.root_category.clone());
            match root_source.get(root) {
                Some((first, first_cat)) => {
                    if first_cat.as_ref().map(|c| c.id) != mapped.as_ref().map(|c| c.id) {
                        return Err(ScopeError::ConflictingRoots {
                            root: *root,
                            first: *first,
                            first_category: category_label(first_cat.as_ref()),
                            second: s.magento_store_id,
                            second_category: category_label(mapped.as_ref()),
                        });
                    }
                    if let Some(r) = roots.iter_mut().find(|r| r.magento_root_id == *root) {
                        r.store_ids.push(s.magento_store_id);
                    }
                }
                None => {
                    root_source.insert(*root, (s.magento_store_id, mapped.clone()));
                    roots.push(RootScope {
                        magento_root_id: *root,
                        openerp_root: mapped.map(|c| c.id),
                        store_ids: vec![s.magento_store_id],
                    });
                }
            }
        }
        roots.sort_by_key(|r| r.magento_root_id);
        let website_ids: Vec<i64> = lines.iter().map(|(_, _, w)| *w).collect::<BTreeSet<_>>().into_iter().collect();
        let default = settings
            .stores
            .iter()
            .find(|s| s.magento_store_code.as_deref() == Some("default"))
            .or_else(|| lines.first().map(|(s, _, _)| *s));
        let (default_store_id, default_lang, default_pricelist) = match default {
            Some(d) => (d.magento_store_id, clean_lang(d.lang.as_deref()), d.pricelist.clone()),
            None => (0, None, None),
        };
        let effective_default = default_lang.clone().unwrap_or_else(|| DEFAULT_LANG.to_owned());
        let translations = lines
            .iter()
            .filter_map(|(s, root, _)| {
                let lang = clean_lang(s.lang.as_deref())?;
                (lang != effective_default).then_some(TranslationStore {
                    store_id: s.magento_store_id,
                    root_id: *root,
                    lang,
                })
            })
            .collect();
        Ok((
            CatalogScope { roots, website_ids, default_store_id, default_lang, default_pricelist, translations },
            warnings,
        ))
    }

    /// The OpenERP context of default-scope values (the default store view's language).
    pub fn context(&self) -> Context {
        match &self.default_lang {
            Some(l) => Context::default().with_lang(l),
            None => Context::default(),
        }
    }

    /// Translation stores under one root.
    pub fn translations_under(&self, root_id: i64) -> impl Iterator<Item = &TranslationStore> {
        self.translations.iter().filter(move |t| t.root_id == root_id)
    }

    /// Distinct translation languages, sorted.
    pub fn translation_langs(&self) -> Vec<String> {
        self.translations.iter().map(|t| t.lang.clone()).collect::<BTreeSet<_>>().into_iter().collect()
    }

    /// What of the scope shapes product payloads (part of the products' settings fingerprint).
    pub fn fingerprint(&self) -> serde_json::Value {
        serde_json::json!({
            "roots": self.roots.iter().map(|r| (r.magento_root_id, r.openerp_root)).collect::<Vec<_>>(),
            "websites": self.website_ids,
            "default_store": self.default_store_id,
            "default_lang": self.default_lang,
            "pricelist": self.default_pricelist.as_ref().map(|p| p.id),
            "translations": self.translations.iter().map(|t| (t.store_id, t.lang.clone())).collect::<Vec<_>>(),
        })
    }
}

/// OpenERP's language when a store line has none.
pub const DEFAULT_LANG: &str = "en_US";

fn clean_lang(l: Option<&str>) -> Option<String> {
    l.map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned)
}

/// Reads the scope of a run: the settings, completed by Magento's store list only when a store
/// line lacks its website or root. Warnings go to the run's messages.
pub async fn load_scope(env: &JobEnv) -> Result<CatalogScope, JobError> {
    let views = if CatalogScope::needs_magento_stores(&env.settings) {
        Some(env.magento().stores().await.map_err(|e| {
            JobError::failed(format!("cannot read Magento's store views to complete the store mapping: {e}"))
        })?)
    } else {
        None
    };
    let (scope, warnings) = CatalogScope::from_settings(&env.settings, views.as_deref())
        .map_err(|e| JobError::failed(format!("backend {:?}: {e}", env.backend())))?;
    for w in warnings {
        env.ctx.warn(w).await;
    }
    Ok(scope)
}

// ---------------------------------------------------------------------------------------------
// The exported tree

/// An OpenERP category exported under one Magento root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedCategory {
    /// `product.category` id.
    pub id: i64,
    /// Exported parent; `None` when it goes directly under the Magento root.
    pub parent: Option<i64>,
    /// Name (default language, trimmed).
    pub name: String,
    /// Names from the top of the exported tree down (`Clothing / Men`).
    pub path: String,
}

/// A category name as sent: trimmed.
pub fn clean_name(name: &str) -> String {
    name.trim().to_owned()
}

/// The key names are compared and sorted by: trimmed, lowercase.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The categories exported under a root mapped to `openerp_root`, parents before children and
/// siblings by name (case-insensitive, then id): the children of `openerp_root` and their
/// descendants, or the whole tree when `None`. A category that is not exportable is left out
/// with its whole subtree; the mapped root itself is never exported (it *is* the Magento
/// root), whatever its flag. A cycle in bad data cannot loop.
pub fn exported_tree(categories: &[Category], openerp_root: Option<i64>) -> Vec<ExportedCategory> {
    let known: BTreeSet<i64> = categories.iter().map(|c| c.id).collect();
    let mut children: BTreeMap<Option<i64>, Vec<&Category>> = BTreeMap::new();
    for c in categories {
        let parent = c.parent.as_ref().map(|p| p.id).filter(|p| known.contains(p));
        children.entry(parent).or_default().push(c);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| name_key(&a.name).cmp(&name_key(&b.name)).then(a.id.cmp(&b.id)));
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    if let Some(root) = openerp_root {
        seen.insert(root);
    }
    // Depth first, pre-order: a parent is pushed before its children.
    type Frame<'c> = (&'c Category, Option<i64>, String);
    fn push_children<'c>(
        stack: &mut Vec<Frame<'c>>,
        children: &BTreeMap<Option<i64>, Vec<&'c Category>>,
        of: Option<i64>,
        parent: Option<i64>,
        path: &str,
    ) {
        if let Some(list) = children.get(&of) {
            for c in list.iter().rev() {
                stack.push((c, parent, path.to_owned()));
            }
        }
    }
    let mut stack: Vec<Frame<'_>> = Vec::new();
    push_children(&mut stack, &children, openerp_root, None, "");
    while let Some((c, parent, prefix)) = stack.pop() {
        if !c.magento_exportable || !seen.insert(c.id) {
            continue;
        }
        let name = clean_name(&c.name);
        // The path only labels records: a nameless category still shows which one it is.
        let shown = if name.is_empty() { format!("[category {} without a name]", c.id) } else { name.clone() };
        let path = if parent.is_none() { shown } else { format!("{prefix} / {shown}") };
        out.push(ExportedCategory { id: c.id, parent, name, path: path.clone() });
        push_children(&mut stack, &children, Some(c.id), Some(c.id), &path);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Product categories

/// How one root resolves OpenERP categories to Magento categories.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RootCategories {
    root_id: i64,
    openerp_root: Option<i64>,
    /// Exported categories → Magento id (`None`: exported but not in Magento yet).
    exported: BTreeMap<i64, Option<i64>>,
}

/// Maps a product's OpenERP category to Magento category ids, one per root, through the
/// category bindings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryResolver {
    roots: Vec<RootCategories>,
    names: HashMap<i64, String>,
}

/// Where a product's category lands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedCategories {
    /// Magento category ids (one per root where the category is exported and bound).
    pub ids: Vec<i64>,
    /// Why it is missing under some root, in plain words.
    pub missing: Vec<String>,
}

impl CategoryResolver {
    /// Builds the resolver from the categories, the scope and every category binding.
    pub fn new(categories: &[Category], scope: &CatalogScope, bindings: &[Binding]) -> Self {
        let mut bound: HashMap<(i64, i64), i64> = HashMap::new();
        for b in bindings {
            if let Ok(m) = b.magento_id.parse::<i64>() {
                bound.insert((b.store_id, b.openerp_id), m);
            }
        }
        let roots = scope
            .roots
            .iter()
            .map(|r| RootCategories {
                root_id: r.magento_root_id,
                openerp_root: r.openerp_root,
                exported: exported_tree(categories, r.openerp_root)
                    .into_iter()
                    .map(|c| (c.id, bound.get(&(r.magento_root_id, c.id)).copied()))
                    .collect(),
            })
            .collect();
        let names = categories.iter().map(|c| (c.id, c.complete_name.clone())).collect();
        CategoryResolver { roots, names }
    }

    /// The Magento categories of a product in OpenERP category `category`. The mapped OpenERP
    /// root maps to the Magento root itself.
    pub fn resolve(&self, category: Option<i64>) -> ResolvedCategories {
        let mut out = ResolvedCategories::default();
        let Some(c) = category else {
            out.missing.push("the product has no category".into());
            return out;
        };
        let label = self.names.get(&c).map_or_else(|| format!("category {c}"), |n| format!("category {n:?}"));
        for r in &self.roots {
            if r.openerp_root == Some(c) {
                out.ids.push(r.root_id);
                continue;
            }
            match r.exported.get(&c) {
                Some(Some(m)) => out.ids.push(*m),
                Some(None) => out.missing.push(format!(
                    "{label} is not in Magento under root {} yet: run the category export first",
                    r.root_id
                )),
                None => out.missing.push(format!(
                    "{label} is not exported under root {} (it or a parent is not exportable, or it is outside the \
                     exported tree)",
                    r.root_id
                )),
            }
        }
        out.ids.sort_unstable();
        out.ids.dedup();
        out
    }

    /// The mapping as JSON (part of the products' settings fingerprint).
    pub fn fingerprint(&self) -> serde_json::Value {
        serde_json::json!(
            self.roots
                .iter()
                .map(|r| serde_json::json!({
                    "root": r.root_id,
                    "openerp_root": r.openerp_root,
                    "map": r.exported.iter().collect::<Vec<_>>(),
                }))
                .collect::<Vec<_>>()
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Hashing

/// SHA-256 of `v`'s JSON text (object keys sorted by serde_json's map), lowercase hex, first
/// 32 characters: the "payload hash" kept in bindings.
pub fn hash_json(v: &serde_json::Value) -> String {
    hash_text(&v.to_string())
}

/// SHA-256 of a text, lowercase hex, first 32 characters.
pub fn hash_text(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(id: i64, parent: Option<i64>, name: &str, exportable: bool) -> Category {
        Category {
            id,
            name: name.into(),
            parent: parent.map(|p| Many2one { id: p, name: String::new() }),
            complete_name: name.into(),
            child_ids: vec![],
            write_date: None,
            magento_exportable: exportable,
        }
    }

    fn tree() -> Vec<Category> {
        vec![
            cat(1, None, "All", true),
            cat(2, Some(1), "Saleable", true),
            cat(3, Some(2), "Electronics", true),
            cat(4, Some(3), "Phones", true),
            cat(5, Some(2), " clothing ", true),
            cat(6, Some(2), "Internal", false),
            cat(7, Some(6), "Hidden child", true),
            cat(8, Some(3), "Accessories", true),
            cat(9, Some(1), "Other", true),
        ]
    }

    #[test]
    fn exported_tree_is_parents_first_by_name_and_drops_non_exportable_subtrees() {
        let t = exported_tree(&tree(), Some(2));
        let ids: Vec<i64> = t.iter().map(|c| c.id).collect();
        assert_eq!(ids, vec![5, 3, 8, 4]);
        assert_eq!(t[0].parent, None);
        assert_eq!(t[0].name, "clothing");
        assert_eq!(t[2].parent, Some(3));
        assert_eq!(t[3].path, "Electronics / Phones");
        let whole = exported_tree(&tree(), None);
        assert_eq!(whole.first().map(|c| c.id), Some(1));
        assert!(!whole.iter().any(|c| c.id == 6 || c.id == 7));
        assert_eq!(whole.len(), 7);
        assert!(exported_tree(&tree(), Some(99)).is_empty());
    }

    #[test]
    fn a_cycle_in_bad_data_does_not_loop() {
        let cats = vec![cat(1, Some(2), "A", true), cat(2, Some(1), "B", true), cat(3, None, "C", true)];
        assert_eq!(exported_tree(&cats, None).iter().map(|c| c.id).collect::<Vec<_>>(), vec![3]);
        assert_eq!(exported_tree(&cats, Some(1)).iter().map(|c| c.id).collect::<Vec<_>>(), vec![2]);
    }

    fn store(id: i64, code: &str, root: Option<i64>, website: Option<i64>, lang: &str, export: bool) -> StoreSettings {
        StoreSettings {
            id,
            name: None,
            magento_store_id: id,
            magento_store_code: Some(code.into()),
            magento_website_id: website,
            magento_group_id: None,
            magento_root_category_id: root,
            lang: Some(lang.into()),
            pricelist: Some(Many2one { id: 10 + id, name: format!("PL{id}") }),
            warehouse: None,
            root_category: None,
            import_orders: true,
            export_catalog: export,
        }
    }

    fn settings(stores: Vec<StoreSettings>) -> BackendSettings {
        BackendSettings {
            root_category: Some(Many2one { id: 2, name: "All / Saleable".into() }),
            import_statuses: vec![],
            import_overlap_minutes: 0,
            confirm_orders: false,
            ..BackendSettings::example("shop", stores)
        }
    }

    #[test]
    fn scope_groups_stores_by_root_and_finds_translation_stores() {
        let s = settings(vec![
            store(2, "fr", Some(2), Some(1), "fr_FR", true),
            store(1, "default", Some(2), Some(1), "en_US", true),
            store(3, "wholesale", Some(12), Some(2), "en_US", true),
            store(4, "de", Some(2), Some(1), "de_DE", false),
        ]);
        assert!(!CatalogScope::needs_magento_stores(&s));
        let (scope, warnings) = CatalogScope::from_settings(&s, None).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(scope.roots.len(), 2);
        assert_eq!(scope.roots[0].magento_root_id, 2);
        assert_eq!(scope.roots[0].store_ids, vec![1, 2]);
        assert_eq!(scope.roots[0].openerp_root, Some(2));
        assert_eq!(scope.website_ids, vec![1, 2]);
        assert_eq!((scope.default_store_id, scope.default_lang.as_deref()), (1, Some("en_US")));
        assert_eq!(scope.default_pricelist.as_ref().map(|p| p.id), Some(11));
        assert_eq!(scope.translations, vec![TranslationStore { store_id: 2, root_id: 2, lang: "fr_FR".into() }]);
        assert_eq!(scope.translation_langs(), vec!["fr_FR".to_owned()]);
    }

    #[test]
    fn scope_completes_lines_from_magento_and_refuses_conflicts() {
        let mut s =
            settings(vec![store(1, "main", None, None, "en_US", true), store(5, "gone", None, None, "en_US", true)]);
        assert!(CatalogScope::needs_magento_stores(&s));
        let views = vec![StoreView {
            id: 1,
            code: "main".into(),
            name: "Main".into(),
            website_id: 1,
            group_id: 1,
            root_category_id: 2,
            is_active: true,
            sort_order: 0,
        }];
        let (scope, warnings) = CatalogScope::from_settings(&s, Some(&views)).unwrap();
        assert_eq!(scope.roots[0].magento_root_id, 2);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("store view 5"), "{warnings:?}");
        assert_eq!(scope.default_store_id, 1, "no `default` code: the lowest exported store");

        s.stores =
            vec![store(1, "default", Some(2), Some(1), "en_US", true), store(2, "b", Some(2), Some(1), "en_US", true)];
        s.stores[1].root_category = Some(Many2one { id: 9, name: "Other".into() });
        let e = CatalogScope::from_settings(&s, None).unwrap_err();
        assert!(matches!(e, ScopeError::ConflictingRoots { root: 2, first: 1, second: 2, .. }), "{e}");
        s.stores.iter_mut().for_each(|x| x.export_catalog = false);
        assert_eq!(CatalogScope::from_settings(&s, None).unwrap_err(), ScopeError::NoExportStore);
    }

    fn binding(oe: i64, root: i64, magento: i64) -> Binding {
        Binding {
            backend: "shop".into(),
            kind: crate::store::BindingKind::Category,
            openerp_id: oe,
            magento_id: magento.to_string(),
            store_id: root,
            payload_hash: None,
            extra: serde_json::json!({}),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn product_categories_resolve_per_root_and_say_what_is_missing() {
        let s = settings(vec![
            store(1, "default", Some(2), Some(1), "en_US", true),
            store(3, "wholesale", Some(12), Some(2), "en_US", true),
        ]);
        let (scope, _) = CatalogScope::from_settings(&s, None).unwrap();
        let r = CategoryResolver::new(&tree(), &scope, &[binding(4, 2, 7), binding(4, 12, 40), binding(3, 2, 6)]);
        assert_eq!(r.resolve(Some(4)), ResolvedCategories { ids: vec![7, 40], missing: vec![] });
        let e = r.resolve(Some(3));
        assert_eq!(e.ids, vec![6]);
        assert!(e.missing[0].contains("not in Magento under root 12 yet"), "{e:?}");
        let hidden = r.resolve(Some(7));
        assert!(hidden.ids.is_empty() && hidden.missing.len() == 2);
        assert!(hidden.missing[0].contains("not exported under root 2"), "{hidden:?}");
        assert_eq!(r.resolve(Some(2)).ids, vec![2, 12], "the mapped root is the Magento root");
        assert_eq!(r.resolve(None).missing, vec!["the product has no category".to_owned()]);
        let before = r.fingerprint();
        let r2 = CategoryResolver::new(&tree(), &scope, &[binding(4, 2, 7)]);
        assert_ne!(before, r2.fingerprint());
    }

    #[test]
    fn hashes_are_stable_and_short() {
        let a = hash_json(&serde_json::json!({"b": 1, "a": [1, 2]}));
        let b = hash_json(&serde_json::json!({"a": [1, 2], "b": 1}));
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
        assert_ne!(a, hash_text("x"));
    }
}
