//! Writing a page to Magento: creates and updates (including disables) through the batch
//! calls, store-view texts in one more batch, images a few products at a time, then the
//! bindings. Nothing here runs in a dry run.

use futures_util::StreamExt as _;

use super::Job;
use super::images::{self, Action as ImageAction, ImageState};
use super::item::{Item, PlannedImage, Work, Write};
use super::payload::DISABLED_HASH;
use super::translations;
use crate::magento::MagentoApi;
use crate::magento::types::{AttrValue, NewProduct, ProductData, ProductUpdate, Scope, StockData};
use crate::server::jobs::JobError;
use crate::store::{BindingKind, BindingPut, StoreError};
use crate::sync::env::JobEnv;

/// Images handled at once.
const IMAGE_CONCURRENCY: usize = 4;

impl Job {
    /// Creates, updates and disables through the batch calls.
    pub(super) async fn write_products(&self, env: &JobEnv, items: &mut [Item]) {
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
            let mut created = Vec::new();
            for (i, r) in creates.into_iter().zip(results) {
                let item = &mut items[i];
                match r {
                    Ok(id) => {
                        item.magento_id = Some(id);
                        item.created = true;
                        item.apply_export_written();
                        created.push(i);
                    }
                    Err(e) => item.fail(format!("Magento refused the create: {e}")),
                }
            }
            // The bindings of the batch, in one transaction, before anything else.
            put_bindings(env, items, &created, |id, e| {
                format!("created in Magento (id {id}), but the binding could not be saved: {e}")
            })
            .await;
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
    pub(super) async fn write_translations(&self, env: &JobEnv, items: &mut [Item]) {
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
    pub(super) async fn write_images(&self, env: &JobEnv, items: &mut [Item]) {
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

    /// Writes the bindings that changed (in one transaction).
    pub(super) async fn save_bindings(&self, env: &JobEnv, items: &mut [Item]) -> Result<(), JobError> {
        let mut dirty = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if matches!(item.work, Work::Forget)
                || (matches!(item.work, Work::Disable { forget: true, .. }) && item.extra.disabled)
            {
                env.ctx.store().bindings().delete(env.backend(), BindingKind::Product, item.id, 0).await?;
                continue;
            }
            if item.dirty && !item.dropped && item.magento_id.is_some() {
                dirty.push(i);
            }
        }
        put_bindings(env, items, &dirty, |_, e| format!("the binding could not be saved: {e}")).await;
        Ok(())
    }
}

/// Saves the bindings of `which` items in one store transaction; an item whose binding is
/// refused fails with `why(magento id, error)`.
async fn put_bindings(env: &JobEnv, items: &mut [Item], which: &[usize], why: impl Fn(i64, &StoreError) -> String) {
    let puts: Vec<(usize, BindingPut)> =
        which.iter().filter_map(|i| items[*i].binding_put(env.backend()).map(|p| (*i, p))).collect();
    if puts.is_empty() {
        return;
    }
    let (owners, puts): (Vec<usize>, Vec<BindingPut>) = puts.into_iter().unzip();
    match env.ctx.store().bindings().put_many(puts).await {
        Ok(results) => {
            for (i, r) in owners.into_iter().zip(results) {
                if let Err(e) = r {
                    let item = &mut items[i];
                    item.fail(why(item.magento_id.unwrap_or_default(), &e));
                }
            }
        }
        Err(e) => {
            for i in owners {
                let item = &mut items[i];
                item.fail(why(item.magento_id.unwrap_or_default(), &e));
            }
        }
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

async fn remove_files(magento: &dyn MagentoApi, sku: &str, files: &[String]) -> Vec<String> {
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

async fn apply_image(magento: &dyn MagentoApi, sku: &str, img: PlannedImage, stale: Vec<String>) -> ImageResult {
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
