//! Product export (`catalog.export_products`): exportable OpenERP products as Magento simple
//! (or virtual, for services) products, with their store-view translations and main image;
//! products no longer exported are disabled, never deleted.
//!
//! * [`select`] chooses the products of a run (incremental by `write_date`, payload hashes,
//!   a settings fingerprint, retries) and keeps the incremental state.
//! * [`payload`], [`translations`], [`images`]: the pure decisions.
//! * this module: the driver. Products go by pages of [`PAGE`]: one read per page (plus one
//!   per translation language, prices, images only for changed products), one SKU lookup for
//!   the unbound ones, then creates and updates through the client's batch calls
//!   (`multiCall`), translations in one more batch, images one product at a time. Bindings are
//!   written right after the Magento write they record. A product that fails is reported with
//!   the reason and retried by the next run; the others go on.
//!
//! Bindings: kind `product`, store 0, hash = hash of the default-scope payload (`disabled` for
//! a product the connector disabled), extra = [`ProductExtra`].
//!
//! This module owns the product job; categories are read (their bindings), never written.

pub mod images;
pub mod payload;
pub mod select;
pub mod translations;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::Engine as _;
use chrono::Utc;
use futures_util::StreamExt as _;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use self::images::{Action as ImageAction, ImageState, Wanted};
use self::payload::{DISABLED_HASH, Meta, Payload, PayloadInput, Snapshot, Texts};
use self::select::Selection;
use crate::magento::MagentoError;
use crate::magento::types::{
    AttrValue, NewProduct, ProductData, ProductFilter, ProductImage, ProductUpdate, Scope, StockData, Visibility,
};
use crate::openerp::models::pricelist::PriceBook;
use crate::openerp::models::products::{MODEL, Product};
use crate::openerp::models::settings::PriceSource;
use crate::openerp::models::taxes::Tax;
use crate::openerp::{Context, ProductKind};
use crate::rpc::value::Record;
use crate::server::jobs::{JobError, Summary};
use crate::store::{Binding, BindingKind, BindingPut, NewRecord, Outcome};
use crate::sync::catalog_common::{CatalogScope, CategoryResolver, hash_json, load_scope};
use crate::sync::env::JobEnv;
use crate::sync::taxes::product_tax_class;

/// Record kind of this job.
pub const RECORD_KIND: &str = "product";

/// Products handled per page (one OpenERP read, one SKU lookup, a few batches).
pub const PAGE: usize = 200;

/// Images handled at once.
const IMAGE_CONCURRENCY: usize = 4;

/// OpenERP's SEO fields (module `website`) and the Magento attributes they fill.
const META_FIELDS: [&str; 3] = ["website_meta_title", "website_meta_description", "website_meta_keywords"];

/// What the binding of a product keeps besides the Magento id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductExtra {
    /// The product's SKU in Magento (the key of every call).
    #[serde(default)]
    pub sku: String,
    /// Snapshot of the last default-scope payload.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub snap: Snapshot,
    /// Hash of the texts last sent per store view.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tr: BTreeMap<i64, String>,
    /// The image the connector put in the gallery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageState>,
    /// Files of ours whose removal failed (tried again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale_images: Vec<String>,
    /// Disabled by the connector.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

impl ProductExtra {
    /// Reads a binding's extra leniently (anything unreadable counts as empty).
    pub fn from_binding(b: &Binding) -> Self {
        serde_json::from_value(b.extra.clone()).unwrap_or_default()
    }
}

/// Runs the product export.
pub async fn run(env: &JobEnv) -> Result<Summary, JobError> {
    let started = Utc::now();
    let mut job = Job::prepare(env).await?;
    let state = select::load_state(env).await?;
    let selection = select::select(env, &job.ctx, &state, &job.fingerprint, job.images_setting()).await?;
    env.ctx.info(selection.describe()).await;
    env.ctx.set_total(selection.ids.len() as u64).await?;
    let mut tally = Tally::default();
    for page in selection.ids.chunks(PAGE) {
        env.check_cancelled()?;
        job.page(env, page, &selection, &mut tally).await?;
        env.ctx.advance(page.len() as u64).await?;
    }
    if !env.ctx.dry_run() {
        let processed: BTreeSet<i64> = selection.ids.iter().copied().collect();
        let mut pending: BTreeSet<i64> = state.pending.difference(&processed).copied().collect();
        pending.extend(tally.retry.iter().copied());
        let complete =
            (selection.mode != select::Mode::Ids).then_some((started, job.fingerprint.as_str(), job.images_setting()));
        select::save_state(env, complete, &pending).await?;
    }
    Ok(Summary::new(tally.line(env.ctx.dry_run())))
}

/// Counts of a run.
#[derive(Debug, Default)]
struct Tally {
    counts: BTreeMap<&'static str, usize>,
    retry: BTreeSet<i64>,
}

impl Tally {
    fn line(&self, dry_run: bool) -> String {
        let n = |k: &str| self.counts.get(k).copied().unwrap_or(0);
        if dry_run {
            format!("products: dry run, {} planned, {} unchanged, {} failed", n("planned"), n("skipped"), n("failed"))
        } else {
            format!(
                "products: {} created, {} updated, {} unchanged or skipped, {} failed",
                n("created"),
                n("updated"),
                n("skipped"),
                n("failed")
            )
        }
    }
}

/// What a run reads once.
struct Job {
    scope: CatalogScope,
    ctx: Context,
    taxes: BTreeMap<i64, Tax>,
    resolver: CategoryResolver,
    prices: Option<(i64, PriceBook)>,
    meta: bool,
    fingerprint: String,
    visibility: Visibility,
    attribute_set: i64,
    export_images: bool,
    full: bool,
    dry: bool,
    skus: HashMap<String, i64>,
}

fn openerp_failed(what: &str, e: crate::openerp::Error) -> JobError {
    JobError::failed(format!("cannot {what} in OpenERP: {e}"))
}

impl Job {
    async fn prepare(env: &JobEnv) -> Result<Job, JobError> {
        let scope = load_scope(env).await?;
        let ctx = scope.context();
        let o = env.openerp();
        let taxes: BTreeMap<i64, Tax> = o
            .sale_taxes(true, &ctx)
            .await
            .map_err(|e| openerp_failed("read the sale taxes", e))?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let categories = o.categories(&ctx).await.map_err(|e| openerp_failed("read the categories", e))?;
        let category_bindings = env.ctx.store().bindings().list(env.backend(), BindingKind::Category).await?;
        let resolver = CategoryResolver::new(&categories, &scope, &category_bindings);
        let prices = match env.settings.price_source {
            PriceSource::ListPrice => None,
            PriceSource::Pricelist => {
                let pl = scope.default_pricelist.clone().ok_or_else(|| {
                    JobError::failed(format!(
                        "prices come from a pricelist, but the default store view {} has no pricelist: set one on \
                         its store line",
                        scope.default_store_id
                    ))
                })?;
                let book = o.read_price_book(pl.id, &ctx).await.map_err(|e| openerp_failed("read the pricelist", e))?;
                Some((pl.id, book))
            }
        };
        let meta = match o.has_field(MODEL, META_FIELDS[0]).await {
            Ok(yes) => yes,
            Err(e) => {
                env.ctx.warn(format!("cannot tell whether products have SEO fields, none are sent: {e}")).await;
                false
            }
        };
        let visibility =
            Visibility::from_id(i64::from(env.settings.product_visibility)).unwrap_or(Visibility::CatalogSearch);
        let fingerprint = hash_json(&serde_json::json!({
            "v": 1,
            "scope": scope.fingerprint(),
            "attribute_set": env.settings.attribute_set_id,
            "prices": prices.as_ref().map(|(id, book)| (id, format!("{book:?}"))),
            "taxes": taxes
                .values()
                .map(|t| (t.id, t.type_tax_use.clone(), t.magento_tax_class_mapped, t.magento_tax_class_id))
                .collect::<Vec<_>>(),
            "categories": resolver.fingerprint(),
            "meta": meta,
        }));
        Ok(Job {
            scope,
            ctx,
            taxes,
            resolver,
            prices,
            meta,
            fingerprint,
            visibility,
            attribute_set: env.settings.attribute_set_id,
            export_images: env.settings.export_images,
            full: env.ctx.options().full,
            dry: env.ctx.dry_run(),
            skus: HashMap::new(),
        })
    }

    fn images_setting(&self) -> &'static str {
        if self.export_images { "on" } else { "off" }
    }

    /// Handles one page of products, from reading them to the records.
    async fn page(&mut self, env: &JobEnv, ids: &[i64], sel: &Selection, tally: &mut Tally) -> Result<(), JobError> {
        let all = self.ctx.clone().with_active_test(false);
        let products: BTreeMap<i64, Product> = env
            .openerp()
            .read_products(ids, &all)
            .await
            .map_err(|e| openerp_failed("read the products", e))?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let bindings: BTreeMap<i64, Binding> = env
            .ctx
            .store()
            .bindings()
            .get_many(env.backend(), BindingKind::Product, ids)
            .await?
            .into_iter()
            .filter(|b| b.store_id == 0)
            .map(|b| (b.openerp_id, b))
            .collect();
        let exportable: Vec<i64> =
            ids.iter().copied().filter(|id| payload::exportability(products.get(id)).is_ok()).collect();
        let prices = self.prices(env, &exportable).await?;
        let meta = self.meta_texts(env, &exportable).await?;

        let mut items: Vec<Item> = Vec::with_capacity(ids.len());
        for id in ids {
            let item = self.classify(*id, products.get(id), bindings.get(id), &prices, &meta, sel);
            items.push(item);
        }
        self.lookup(env, &mut items).await;
        self.plan_translations(env, &mut items).await;
        self.plan_images(env, &mut items, sel).await;
        if !self.dry {
            env.check_cancelled()?;
            self.write_products(env, &mut items).await;
            self.write_translations(env, &mut items).await;
            self.write_images(env, &mut items).await;
            self.save_bindings(env, &mut items).await?;
        }
        for item in items {
            item.report(env, self.dry, tally).await?;
        }
        Ok(())
    }

    async fn prices(&self, env: &JobEnv, ids: &[i64]) -> Result<HashMap<i64, Result<Decimal, String>>, JobError> {
        let Some((pricelist, book)) = &self.prices else {
            return Ok(HashMap::new());
        };
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let inputs =
            env.openerp().price_inputs(ids, &self.ctx).await.map_err(|e| openerp_failed("read the prices", e))?;
        let now = Utc::now();
        Ok(inputs
            .iter()
            .map(|i| {
                let price = book.price(*pricelist, i, now).map_err(|e| {
                    format!(
                        "its pricelist price cannot be computed ({e}); change the pricelist rule or the price source"
                    )
                });
                (i.product_id, price)
            })
            .collect())
    }

    async fn meta_texts(&self, env: &JobEnv, ids: &[i64]) -> Result<HashMap<i64, Meta>, JobError> {
        if !self.meta || ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = env
            .openerp()
            .read(MODEL, ids, &META_FIELDS, &self.ctx)
            .await
            .map_err(|e| openerp_failed("read the SEO fields", e))?;
        let mut out = HashMap::new();
        for m in &rows {
            let r = Record::new(m, MODEL);
            let text = |f: &str| r.opt_string(f).ok().flatten();
            if let Ok(id) = r.i64("id") {
                out.insert(
                    id,
                    Meta {
                        title: text(META_FIELDS[0]),
                        description: text(META_FIELDS[1]),
                        keywords: text(META_FIELDS[2]),
                    },
                );
            }
        }
        Ok(out)
    }

    /// Decides what a product needs, before anything is asked of Magento.
    fn classify(
        &mut self,
        id: i64,
        product: Option<&Product>,
        binding: Option<&Binding>,
        prices: &HashMap<i64, Result<Decimal, String>>,
        meta: &HashMap<i64, Meta>,
        sel: &Selection,
    ) -> Item {
        let extra = binding.map(ProductExtra::from_binding).unwrap_or_default();
        let magento_id = binding.and_then(|b| b.magento_id.parse::<i64>().ok());
        let reference = match product {
            Some(p) => match p.default_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => s.to_owned(),
                None => format!("[id {id}] {}", p.name),
            },
            None if !extra.sku.is_empty() => extra.sku.clone(),
            None => format!("[id {id}]"),
        };
        let mut item = Item {
            id,
            reference,
            magento_id,
            existed: magento_id.is_some(),
            previous_hash: binding.and_then(|b| b.payload_hash.clone()),
            extra,
            ..Item::default()
        };
        if let Err(why) = payload::exportability(product) {
            match (item.magento_id, item.extra.disabled) {
                (Some(_), false) if !item.extra.sku.is_empty() => {
                    item.work = Work::Disable { reason: why.to_string(), forget: product.is_none() };
                }
                (Some(_), false) => item.fail(format!("{why}, but its binding has no SKU, so it cannot be disabled")),
                (Some(_), true) if product.is_none() => item.work = Work::Forget,
                (Some(_), true) => item.skip(format!("not exported ({why}); already disabled in Magento")),
                (None, _) if sel.mode == select::Mode::Ids => item.skip(format!("not exported: {why}")),
                (None, _) => item.work = Work::Ignore,
            }
            return item;
        }
        let Some(p) = product else { return item };
        let sku = match payload::sku(p) {
            Ok(s) => s,
            Err(e) => {
                item.fail(e);
                return item;
            }
        };
        if let Some(other) = self.skus.get(&sku.to_lowercase()).filter(|o| **o != id) {
            item.fail(format!(
                "the internal reference {sku:?} is also used by OpenERP product {other}: Magento needs one product per SKU"
            ));
            return item;
        }
        self.skus.insert(sku.to_lowercase(), id);
        let type_id = match payload::magento_type(&p.kind) {
            Ok(t) => t,
            Err(e) => {
                item.fail(e);
                return item;
            }
        };
        let tax_class_id = match product_tax_class(&p.tax_ids, &self.taxes) {
            Ok(c) => c,
            Err(e) => {
                item.fail(format!("not exported: {e}"));
                return item;
            }
        };
        let price = match prices.get(&id) {
            None if self.prices.is_some() => {
                item.fail("its pricelist price could not be read".into());
                return item;
            }
            None => p.lst_price,
            Some(Ok(x)) => *x,
            Some(Err(e)) => {
                item.fail(format!("not exported: {e}"));
                return item;
            }
        };
        if price < Decimal::ZERO {
            item.fail(format!("its price {price} is negative"));
            return item;
        }
        if p.name.trim().is_empty() {
            item.fail("it has no name".into());
            return item;
        }
        let categories = self.resolver.resolve(p.category.as_ref().map(|c| c.id));
        item.notes.extend(categories.missing.iter().map(|m| format!("exported without that category: {m}")));
        let texts = Texts::of(p);
        let previous = (!item.extra.snap.is_empty()).then_some(&item.extra.snap);
        let no_meta = Meta::default();
        let meta = if self.meta { Some(meta.get(&id).unwrap_or(&no_meta)) } else { None };
        let built = payload::build(&PayloadInput {
            sku: &sku,
            type_id,
            texts: &texts,
            price,
            weight: p.weight,
            tax_class_id,
            website_ids: &self.scope.website_ids,
            category_ids: &categories.ids,
            meta,
            previous,
        });
        let key = if item.extra.sku.is_empty() { sku.clone() } else { item.extra.sku.clone() };
        let write = if item.magento_id.is_none() {
            Write::Lookup
        } else if self.full
            || item.extra.disabled
            || key != sku
            || item.previous_hash.as_deref() != Some(built.hash.as_str())
        {
            Write::Update { key }
        } else {
            Write::Nothing
        };
        let storable = p.kind == ProductKind::Storable;
        item.work = Work::Export(Box::new(Export {
            sku,
            type_id,
            storable,
            name: p.name.trim().to_owned(),
            texts,
            payload: built,
            write,
            translations: Vec::new(),
            image: None,
        }));
        item
    }

    /// Finds unbound products in Magento by SKU (one call per 200 SKUs) and binds them.
    async fn lookup(&self, env: &JobEnv, items: &mut [Item]) {
        let skus: Vec<String> = items
            .iter()
            .filter_map(|i| i.export().filter(|e| e.write == Write::Lookup).map(|e| e.sku.clone()))
            .collect();
        if skus.is_empty() {
            return;
        }
        let found =
            match env.magento().list_products(&ProductFilter { skus: Some(skus), ..ProductFilter::default() }).await {
                Ok(list) => list.into_iter().map(|p| (p.sku.to_lowercase(), p)).collect::<HashMap<_, _>>(),
                Err(e) => {
                    for i in items.iter_mut().filter(|i| i.export().is_some_and(|e| e.write == Write::Lookup)) {
                        i.fail(format!("cannot check whether its SKU is already in Magento: {e}"));
                    }
                    return;
                }
            };
        for item in items.iter_mut() {
            let Some(export) = item.export() else { continue };
            if export.write != Write::Lookup {
                continue;
            }
            let sku = export.sku.clone();
            let Some(existing) = found.get(&sku.to_lowercase()) else {
                if let Some(e) = item.export_mut() {
                    e.write = Write::Create;
                }
                continue;
            };
            if !matches!(existing.type_id.as_str(), "simple" | "virtual") {
                item.fail(format!(
                    "SKU {sku:?} is a {} product in Magento (id {}); the connector only exports simple and virtual products",
                    existing.type_id, existing.id
                ));
                continue;
            }
            match env
                .ctx
                .store()
                .bindings()
                .find_by_magento(env.backend(), BindingKind::Product, &existing.id.to_string(), 0)
                .await
            {
                Ok(Some(b)) if b.openerp_id != item.id => {
                    item.fail(format!(
                        "Magento product {} (SKU {:?}) is already bound to OpenERP product {}: two OpenERP products share \
                         this SKU",
                        existing.id, existing.sku, b.openerp_id
                    ));
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    item.fail(format!("the state store failed: {e}"));
                    continue;
                }
            }
            item.magento_id = Some(existing.id);
            item.existed = true;
            item.found = true;
            item.extra.sku = existing.sku.clone();
            item.changes.push(format!("bound to the existing Magento product {} (same SKU)", existing.id));
            if let Some(e) = item.export_mut() {
                e.write = Write::Update { key: existing.sku.clone() };
            }
            if !self.dry {
                let put = BindingPut::new(env.backend(), BindingKind::Product, item.id, existing.id.to_string())
                    .extra(serde_json::to_value(&item.extra).unwrap_or_default());
                if let Err(e) = env.ctx.store().bindings().put(put).await {
                    item.fail(format!("the binding could not be saved: {e}"));
                }
            }
        }
    }

    /// Reads the texts of every translation language and decides what to send.
    async fn plan_translations(&self, env: &JobEnv, items: &mut [Item]) {
        let ids: Vec<i64> = items.iter().filter(|i| i.export().is_some()).map(|i| i.id).collect();
        if ids.is_empty() {
            return;
        }
        for lang in self.scope.translation_langs() {
            let texts = match env.openerp().product_texts(&ids, &lang, &self.ctx).await {
                Ok(t) => t
                    .into_iter()
                    .map(|t| {
                        (t.product_id, Texts::new(&t.name, t.description.as_deref(), t.description_sale.as_deref()))
                    })
                    .collect::<HashMap<_, _>>(),
                Err(e) => {
                    for i in items.iter_mut().filter(|i| i.export().is_some()) {
                        i.fail(format!("its {lang} texts could not be read: {e}"));
                    }
                    continue;
                }
            };
            for item in items.iter_mut() {
                let previous = item.extra.tr.clone();
                let id = item.id;
                let Some(export) = item.export_mut() else { continue };
                let translated = texts.get(&id).cloned().unwrap_or_else(|| export.texts.clone());
                for store in self.scope.translations.iter().filter(|t| t.lang == lang) {
                    let prev = previous.get(&store.store_id).map(String::as_str);
                    if let Some(hash) = translations::decide(&export.texts, &translated, prev, self.full) {
                        export.translations.push(PlannedText {
                            store_id: store.store_id,
                            texts: translated.clone(),
                            hash,
                        });
                    }
                }
            }
        }
    }

    /// Reads the images of the products that need it and decides what to do.
    async fn plan_images(&self, env: &JobEnv, items: &mut [Item], sel: &Selection) {
        if !self.export_images {
            return;
        }
        let ids: Vec<i64> =
            items.iter().filter(|i| i.export().is_some() && sel.reads_image(i.id)).map(|i| i.id).collect();
        if ids.is_empty() {
            return;
        }
        let read = match env.openerp().product_images(&ids, &self.ctx).await {
            Ok(list) => list.into_iter().map(|i| (i.product_id, i)).collect::<HashMap<_, _>>(),
            Err(e) => {
                for i in items.iter_mut().filter(|i| ids.contains(&i.id)) {
                    i.fail(format!("its image could not be read: {e}"));
                }
                return;
            }
        };
        for item in items.iter_mut().filter(|i| ids.contains(&i.id)) {
            let img = read.get(&item.id);
            let want = img.map(|i| Wanted { sha: i.sha256.clone(), mime: images::accepted_mime(i.mime) });
            let have = item.extra.image.clone();
            let Some(export) = item.export() else { continue };
            let magento_sku = match &export.write {
                Write::Update { key } => Some(key.clone()),
                Write::Nothing => Some(export.sku.clone()),
                Write::Create | Write::Lookup => None,
            };
            let list_gallery = item.existed && (self.full || (have.is_none() && (want.is_some() || item.found)));
            let gallery: Option<Vec<ProductImage>> = match (&magento_sku, list_gallery) {
                (Some(sku), true) => match env.magento().images(sku).await {
                    Ok(g) => Some(g),
                    Err(e) => {
                        item.fail(format!("its Magento gallery could not be read: {e}"));
                        continue;
                    }
                },
                _ => None,
            };
            let action = images::decide(item.id, want.as_ref(), have.as_ref(), gallery.as_deref());
            let content = match (&action, img) {
                (ImageAction::Add { .. }, Some(i)) => {
                    match base64::engine::general_purpose::STANDARD.decode(i.base64.trim()) {
                        Ok(b) => Some(b),
                        Err(_) => {
                            item.fail("its OpenERP image is not valid base64".into());
                            continue;
                        }
                    }
                }
                _ => None,
            };
            if let Some(e) = item.export_mut() {
                let label = e.name.clone();
                e.image = Some(PlannedImage { action, want, content, label });
            }
        }
    }

    /// Creates, updates and disables through the batch calls.
    async fn write_products(&self, env: &JobEnv, items: &mut [Item]) {
        let magento = env.magento();
        let creates: Vec<usize> =
            (0..items.len()).filter(|i| items[*i].export().is_some_and(|e| e.write == Write::Create)).collect();
        if !creates.is_empty() {
            let batch: Vec<NewProduct> = creates
                .iter()
                .filter_map(|i| items[*i].export())
                .map(|e| {
                    let mut data = e.payload.data.clone();
                    data.visibility = Some(self.visibility);
                    data.stock = Some(StockData { qty: None, is_in_stock: None, manage_stock: Some(e.storable) });
                    NewProduct {
                        sku: e.sku.clone(),
                        type_id: e.type_id.to_owned(),
                        attribute_set_id: self.attribute_set,
                        data,
                    }
                })
                .collect();
            let results = magento.create_products(&batch).await;
            for (i, r) in creates.into_iter().zip(results) {
                let item = &mut items[i];
                match r {
                    Ok(id) => {
                        item.magento_id = Some(id);
                        item.created = true;
                        item.apply_export_written();
                        if let Err(e) = item.put_binding(env).await {
                            item.fail(format!("created in Magento (id {id}), but the binding could not be saved: {e}"));
                        }
                    }
                    Err(e) => item.fail(format!("Magento refused the create: {e}")),
                }
            }
        }
        let updates: Vec<usize> = (0..items.len())
            .filter(|i| {
                matches!(&items[*i].work, Work::Disable { .. })
                    || items[*i].export().is_some_and(|e| matches!(e.write, Write::Update { .. }))
            })
            .collect();
        if updates.is_empty() {
            return;
        }
        let batch: Vec<ProductUpdate> = updates
            .iter()
            .map(|i| match &items[*i].work {
                Work::Export(e) => {
                    let key = match &e.write {
                        Write::Update { key } => key.clone(),
                        _ => e.sku.clone(),
                    };
                    let mut data = e.payload.data.clone();
                    if key != e.sku {
                        data.attributes.insert("sku".into(), AttrValue::Text(e.sku.clone()));
                    }
                    ProductUpdate { sku: key, scope: Scope::Default, data }
                }
                _ => ProductUpdate {
                    sku: items[*i].extra.sku.clone(),
                    scope: Scope::Default,
                    data: ProductData { enabled: Some(false), ..ProductData::default() },
                },
            })
            .collect();
        let results = magento.update_products(&batch).await;
        for (i, r) in updates.into_iter().zip(results) {
            let item = &mut items[i];
            let disabling = match &item.work {
                Work::Disable { reason, .. } => Some(reason.clone()),
                _ => None,
            };
            match (r, disabling) {
                (Ok(()), Some(reason)) => {
                    item.changes.push(format!("disabled in Magento: {reason}"));
                    item.extra.disabled = true;
                    item.new_hash = Some(DISABLED_HASH.into());
                    item.dirty = true;
                }
                (Ok(()), None) => item.apply_export_written(),
                (Err(e), _) if e.is_not_found() => item.lost_in_magento(env, &e).await,
                (Err(e), Some(_)) => item.fail(format!("Magento refused to disable it: {e}")),
                (Err(e), None) => item.fail(format!("Magento refused the update: {e}")),
            }
        }
    }

    /// Sends the planned translations in one batch.
    async fn write_translations(&self, env: &JobEnv, items: &mut [Item]) {
        let mut batch = Vec::new();
        let mut owners = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if item.failure.is_some() || item.magento_id.is_none() {
                continue;
            }
            if let Some(e) = item.export() {
                for (k, t) in e.translations.iter().enumerate() {
                    batch.push(translations::update(&e.sku, t.store_id, &t.texts));
                    owners.push((i, k));
                }
            }
        }
        if batch.is_empty() {
            return;
        }
        let results = env.magento().update_products(&batch).await;
        for ((i, k), r) in owners.into_iter().zip(results) {
            let item = &mut items[i];
            let Some(t) = item.export().and_then(|e| e.translations.get(k)).cloned() else { continue };
            match r {
                Ok(()) => {
                    item.extra.tr.insert(t.store_id, t.hash.clone());
                    item.changes.push(format!("texts of store view {} sent (name {:?})", t.store_id, t.texts.name));
                    item.dirty = true;
                }
                Err(e) => item.fail(format!("the texts of store view {} were refused: {e}", t.store_id)),
            }
        }
    }

    /// Adds, replaces and removes images, a few products at a time.
    async fn write_images(&self, env: &JobEnv, items: &mut [Item]) {
        let work: Vec<(usize, String, PlannedImage, Vec<String>)> = items
            .iter()
            .enumerate()
            .filter(|(_, i)| i.failure.is_none() && i.magento_id.is_some())
            .filter_map(|(n, i)| {
                let e = i.export()?;
                let img = e.image.clone()?;
                Some((n, e.sku.clone(), img, i.extra.stale_images.clone()))
            })
            .collect();
        let magento = env.magento();
        let done: Vec<(usize, ImageResult)> = futures_util::stream::iter(work)
            .map(|(n, sku, img, stale)| async move { (n, apply_image(magento, &sku, img, stale).await) })
            .buffer_unordered(IMAGE_CONCURRENCY)
            .collect()
            .await;
        for (n, r) in done {
            let item = &mut items[n];
            if let Some(state) = r.state {
                item.extra.image = state;
                item.dirty = true;
            }
            if r.stale != item.extra.stale_images {
                item.extra.stale_images = r.stale;
                item.dirty = true;
            }
            item.changes.extend(r.changes);
            item.notes.extend(r.notes);
            if let Some(f) = r.failure {
                item.fail(f);
            }
        }
    }

    /// Writes the bindings that changed.
    async fn save_bindings(&self, env: &JobEnv, items: &mut [Item]) -> Result<(), JobError> {
        for item in items.iter_mut() {
            if matches!(item.work, Work::Forget)
                || (matches!(item.work, Work::Disable { forget: true, .. }) && item.extra.disabled)
            {
                env.ctx.store().bindings().delete(env.backend(), BindingKind::Product, item.id, 0).await?;
                continue;
            }
            if item.dirty
                && !item.dropped
                && item.magento_id.is_some()
                && let Err(e) = item.put_binding(env).await
            {
                item.fail(format!("the binding could not be saved: {e}"));
            }
        }
        Ok(())
    }
}

/// What happened to one product's gallery.
#[derive(Debug, Default)]
struct ImageResult {
    /// New image state (`Some(None)`: no image of ours any more).
    state: Option<Option<ImageState>>,
    stale: Vec<String>,
    changes: Vec<String>,
    notes: Vec<String>,
    failure: Option<String>,
}

async fn remove_files(magento: &dyn crate::magento::MagentoApi, sku: &str, files: &[String]) -> Vec<String> {
    let mut left = Vec::new();
    for f in files {
        match magento.remove_image(sku, f).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                tracing::warn!(sku, file = %f, "removing an image failed, tried again next run: {e}");
                left.push(f.clone());
            }
        }
    }
    left
}

async fn apply_image(
    magento: &dyn crate::magento::MagentoApi,
    sku: &str,
    img: PlannedImage,
    stale: Vec<String>,
) -> ImageResult {
    let mut r = ImageResult { stale: remove_files(magento, sku, &stale).await, ..ImageResult::default() };
    match img.action {
        ImageAction::Keep => {}
        ImageAction::Refuse(why) => r.notes.push(format!("image not sent: {why}")),
        ImageAction::Adopt { file, remove } => {
            let sha = img.want.map(|w| w.sha).unwrap_or_default();
            r.state = Some(Some(ImageState { sha, file: file.clone() }));
            r.stale.extend(remove_files(magento, sku, &remove).await);
            r.changes.push(format!("image {file} found in the gallery and kept"));
        }
        ImageAction::Remove(files) => {
            let left = remove_files(magento, sku, &files).await;
            if left.is_empty() {
                r.changes.push("image removed (OpenERP has none)".into());
            }
            r.stale.extend(left);
            r.state = Some(None);
        }
        ImageAction::Add { stem, remove } => {
            let (Some(want), Some(content)) = (img.want, img.content) else {
                r.failure = Some("its image vanished while it was being sent".into());
                return r;
            };
            let Ok(mime) = want.mime else {
                return r;
            };
            match magento.add_image(sku, &images::new_image(content, mime, &stem, &img.label)).await {
                Ok(file) => {
                    r.state = Some(Some(ImageState { sha: want.sha, file: file.clone() }));
                    r.changes.push(if remove.is_empty() {
                        format!("image added ({file})")
                    } else {
                        format!("image replaced ({file})")
                    });
                    r.stale.extend(remove_files(magento, sku, &remove).await);
                }
                Err(e) => r.failure = Some(format!("the image was refused: {e}")),
            }
        }
    }
    r.stale.sort();
    r.stale.dedup();
    r
}

/// A store view's texts to send.
#[derive(Debug, Clone)]
struct PlannedText {
    store_id: i64,
    texts: Texts,
    hash: String,
}

/// The gallery change of a product.
#[derive(Debug, Clone)]
struct PlannedImage {
    action: ImageAction,
    want: Option<Wanted>,
    content: Option<Vec<u8>>,
    label: String,
}

/// The default-scope write a product needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Write {
    /// Unbound: look the SKU up first.
    Lookup,
    /// Not in Magento: create.
    Create,
    /// Update the product whose SKU in Magento is `key`.
    Update { key: String },
    /// Unchanged.
    Nothing,
}

/// An exported product.
#[derive(Debug)]
struct Export {
    sku: String,
    type_id: &'static str,
    storable: bool,
    name: String,
    texts: Texts,
    payload: Payload,
    write: Write,
    translations: Vec<PlannedText>,
    image: Option<PlannedImage>,
}

/// What a product needs.
#[derive(Debug, Default)]
enum Work {
    /// Decided already (reported as skipped or failed), or nothing to say.
    #[default]
    Done,
    /// Not exportable and never bound: not reported.
    Ignore,
    /// Deleted in OpenERP and already disabled: the binding is dropped.
    Forget,
    /// Bound and no longer exported: disable.
    Disable { reason: String, forget: bool },
    /// Exported.
    Export(Box<Export>),
}

/// One product through a page.
#[derive(Debug, Default)]
struct Item {
    id: i64,
    reference: String,
    magento_id: Option<i64>,
    /// In Magento before this run (bound, or found by SKU).
    existed: bool,
    /// Found by SKU this run.
    found: bool,
    previous_hash: Option<String>,
    extra: ProductExtra,
    work: Work,
    new_hash: Option<String>,
    notes: Vec<String>,
    changes: Vec<String>,
    failure: Option<String>,
    skipped: Option<String>,
    created: bool,
    dirty: bool,
    dropped: bool,
}

impl Item {
    fn export(&self) -> Option<&Export> {
        match &self.work {
            Work::Export(e) if self.failure.is_none() => Some(e),
            _ => None,
        }
    }

    fn export_mut(&mut self) -> Option<&mut Export> {
        match &mut self.work {
            Work::Export(e) if self.failure.is_none() => Some(e),
            _ => None,
        }
    }

    fn fail(&mut self, why: String) {
        match &mut self.failure {
            Some(f) => {
                f.push_str("; ");
                f.push_str(&why);
            }
            None => self.failure = Some(why),
        }
    }

    fn skip(&mut self, why: String) {
        self.skipped = Some(why);
    }

    /// The default-scope payload went through: the binding follows it.
    fn apply_export_written(&mut self) {
        let Work::Export(e) = &self.work else { return };
        let before = (!self.extra.snap.is_empty()).then(|| self.extra.snap.clone());
        let mut what = payload::diff(before.as_ref(), &e.payload.snapshot);
        if self.extra.disabled && !self.created {
            what.insert(0, "enabled again".into());
        }
        if !self.created {
            if what.is_empty() {
                what.push("sent again".into());
            }
            self.changes.push(format!("updated: {}", what.join(", ")));
        } else {
            self.changes.push(format!("created (id {})", self.magento_id.unwrap_or_default()));
        }
        self.extra.sku = e.sku.clone();
        self.extra.snap = e.payload.snapshot.clone();
        self.extra.disabled = false;
        self.new_hash = Some(e.payload.hash.clone());
        self.dirty = true;
    }

    /// The bound Magento product no longer exists: the binding is dropped so the next run
    /// finds or creates it again.
    async fn lost_in_magento(&mut self, env: &JobEnv, e: &MagentoError) {
        self.dropped = true;
        let sku = self.extra.sku.clone();
        match env.ctx.store().bindings().delete(env.backend(), BindingKind::Product, self.id, 0).await {
            Ok(_) => self.fail(format!(
                "Magento product {} (SKU {sku:?}) no longer exists ({e}); the binding was dropped and the next run \
                 creates it again",
                self.magento_id.unwrap_or_default()
            )),
            Err(se) => self.fail(format!(
                "Magento product SKU {sku:?} no longer exists, and the binding could not be dropped: {se}"
            )),
        }
    }

    async fn put_binding(&self, env: &JobEnv) -> Result<(), crate::store::StoreError> {
        let Some(m) = self.magento_id else { return Ok(()) };
        let mut put = BindingPut::new(env.backend(), BindingKind::Product, self.id, m.to_string())
            .extra(serde_json::to_value(&self.extra).unwrap_or_default());
        if let Some(h) = self.new_hash.as_ref().or(self.previous_hash.as_ref()) {
            put = put.hash(h.clone());
        }
        env.ctx.store().bindings().put(put).await.map(drop)
    }

    /// What a dry run would do.
    fn planned(&self) -> Vec<String> {
        let mut out = self.changes.clone();
        match &self.work {
            Work::Disable { reason, .. } => out.push(format!("disable in Magento: {reason}")),
            Work::Export(e) => {
                match &e.write {
                    Write::Create => out.push(format!(
                        "create ({}): {}",
                        e.type_id,
                        payload::diff(None, &e.payload.snapshot).join(", ")
                    )),
                    Write::Update { key } => {
                        let before = (!self.extra.snap.is_empty()).then(|| self.extra.snap.clone());
                        let mut what = payload::diff(before.as_ref(), &e.payload.snapshot);
                        if key != &e.sku {
                            what.insert(0, format!("SKU {key} → {}", e.sku));
                        }
                        if self.extra.disabled {
                            what.insert(0, "enable again".into());
                        }
                        if what.is_empty() {
                            what.push("send again".into());
                        }
                        out.push(format!("update: {}", what.join(", ")));
                    }
                    Write::Lookup | Write::Nothing => {}
                }
                for t in &e.translations {
                    out.push(format!("send the texts of store view {} (name {:?})", t.store_id, t.texts.name));
                }
                if let Some(img) = &e.image {
                    match &img.action {
                        ImageAction::Keep | ImageAction::Refuse(_) => {}
                        ImageAction::Add { remove, .. } if remove.is_empty() => out.push("add the image".into()),
                        ImageAction::Add { .. } => out.push("replace the image".into()),
                        ImageAction::Adopt { file, .. } => {
                            out.push(format!("keep the image {file} found in the gallery"))
                        }
                        ImageAction::Remove(_) => out.push("remove the image".into()),
                    }
                }
            }
            _ => {}
        }
        out
    }

    async fn report(self, env: &JobEnv, dry: bool, tally: &mut Tally) -> Result<(), JobError> {
        if matches!(self.work, Work::Ignore | Work::Forget) && self.failure.is_none() {
            return Ok(());
        }
        let notes = self.notes.join("; ");
        let with_notes = |mut text: String| {
            if !notes.is_empty() {
                if !text.is_empty() {
                    text.push_str("; ");
                }
                text.push_str(&notes);
            }
            text
        };
        let (outcome, message) = if let Some(f) = &self.failure {
            let done =
                if self.changes.is_empty() { String::new() } else { format!("{}; but ", self.changes.join("; ")) };
            (Outcome::Failed, format!("{done}{f}"))
        } else if let Some(s) = &self.skipped {
            (Outcome::Skipped, s.clone())
        } else if dry {
            let planned = self.planned();
            if planned.is_empty() {
                (Outcome::Skipped, with_notes("unchanged since the last export".into()))
            } else {
                (Outcome::Planned, with_notes(planned.join("; ")))
            }
        } else if self.created {
            (Outcome::Created, with_notes(self.changes.join("; ")))
        } else if !self.changes.is_empty() {
            (Outcome::Updated, with_notes(self.changes.join("; ")))
        } else {
            (Outcome::Skipped, with_notes("unchanged since the last export".into()))
        };
        *tally.counts.entry(outcome.as_str()).or_insert(0) += 1;
        if outcome == Outcome::Failed {
            tally.retry.insert(self.id);
        }
        let mut rec = NewRecord::new(RECORD_KIND, self.reference.clone(), outcome).message(message).openerp_id(self.id);
        if let Some(m) = self.magento_id {
            rec = rec.magento_id(m.to_string());
        }
        env.ctx.record(rec).await?;
        Ok(())
    }
}
