//! Product export (`catalog.export_products`): exportable OpenERP products (`sale_ok`,
//! active, `magento_exportable`) as Magento simple products (virtual for services), with their
//! store-view translations and main image. Products no longer exported are disabled (status
//! 2), never deleted.
//!
//! * [`select`]: which products a run looks at (changes since the last run, never-bound
//!   products, retries, or everything after a settings change) and the state kept for that.
//! * [`payload`], [`translations`], [`images`]: the pure decisions (field rules are in
//!   [`payload`]).
//! * `plan`, `write`, `item` and this module: the driver. Products go by pages of [`PAGE`]:
//!   one OpenERP read per page (plus one per translation language, the prices, and for changed
//!   products one size-only read of the images, then the images that exist a few at a time),
//!   one `catalog_product.list` lookup for the unbound SKUs, creates and updates through the
//!   client's batch calls (`multiCall`: 25 calls per request by default), store-view texts in
//!   one more batch, images a few products at a time. 100 changed products cost 4 HTTP requests
//!   with `multiCall`, 100 without. Bindings are written right after the Magento write they
//!   record (one store transaction per batch), the page's report lines together. A product that
//!   fails is reported with the reason and retried by the next run; the others go on. A run
//!   where nothing changed writes nothing to Magento.
//!
//! Decisions:
//! * identity: the binding (OpenERP product id → Magento id). Without one, the SKU is looked
//!   up and an existing simple or virtual product is bound instead of creating a duplicate; a
//!   configurable (or other) product with that SKU is reported.
//! * a changed SKU is sent as `sku` in `catalog_product.update` addressed by the SKU Magento
//!   has (the binding's): Magento 1 accepts it (`sku` is an editable attribute; the save
//!   refuses a SKU another product has, with fault 1 "The value of attribute "SKU" must be
//!   unique", which is reported). No second product is created.
//! * categories: the product goes into the Magento category bound to its OpenERP category
//!   under each root (the mapped OpenERP root itself maps to the Magento root; parents are not
//!   added, Magento's anchor categories show them). When its category is not exported or not
//!   in Magento yet, the product is exported without it and its record says so.
//! * prices: the variant's sales price, or with `price_source = pricelist` the default store
//!   view's pricelist price (a rule that cannot be evaluated fails that product, with the
//!   reason).
//! * tax class: [`crate::sync::taxes::product_tax_class`]; an unmapped tax fails the product.
//!
//! Bindings: kind `product`, store 0, hash = hash of the default-scope payload (`disabled` for
//! a product the connector disabled), extra = [`ProductExtra`].
//!
//! This module owns the product job; category bindings are read, never written.

pub mod images;
mod item;
pub mod payload;
mod plan;
pub mod select;
pub mod translations;
mod write;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use self::images::ImageState;
use self::item::Item;
use self::payload::{Meta, Snapshot};
use self::select::Selection;
use crate::magento::types::Visibility;
use crate::openerp::Context;
use crate::openerp::models::pricelist::PriceBook;
use crate::openerp::models::products::{MODEL, Product};
use crate::openerp::models::settings::PriceSource;
use crate::openerp::models::taxes::Tax;
use crate::rpc::value::Record;
use crate::server::jobs::{JobError, Summary};
use crate::store::{Binding, BindingKind};
use crate::sync::catalog_common::{CatalogScope, CategoryResolver, hash_json, load_scope};
use crate::sync::env::JobEnv;

/// Record kind of this job.
pub const RECORD_KIND: &str = "product";

/// Products handled per page (one OpenERP read, one SKU lookup, a few batches).
pub const PAGE: usize = 200;

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

/// Ids of the pricelist rules valid now: a rule starting or ending changes prices without any
/// write in OpenERP, so it is part of the settings fingerprint.
fn rules_in_force(book: &PriceBook) -> Vec<i64> {
    let now = Utc::now();
    book.pricelists
        .values()
        .flat_map(|p| p.rules.iter())
        .filter(|r| r.date_start.is_none_or(|d| d <= now) && r.date_end.is_none_or(|d| now <= d))
        .map(|r| r.id)
        .collect()
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
            "prices": prices.as_ref().map(|(id, book)| (id, format!("{book:?}"), rules_in_force(book))),
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
        let (read, unreadable) =
            env.openerp().read_products_each(ids, &all).await.map_err(|e| openerp_failed("read the products", e))?;
        let products: BTreeMap<i64, Product> = read.into_iter().map(|p| (p.id, p)).collect();
        let unreadable: BTreeMap<i64, String> = unreadable.into_iter().collect();
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
            let item = match unreadable.get(id) {
                // Not read is not deleted: never disabled for it, reported and retried.
                Some(why) => Item::unreadable(*id, bindings.get(id), why),
                None => self.classify(*id, products.get(id), bindings.get(id), &prices, &meta, sel),
            };
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
        let records: Vec<_> = items.into_iter().filter_map(|item| item.report(self.dry, tally)).collect();
        env.ctx.record_many(records).await?;
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
}
