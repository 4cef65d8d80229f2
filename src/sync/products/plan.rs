//! Deciding what each product of a page needs before anything is written: exportability,
//! SKU, type, tax class, price and categories ([`Job::classify`]), the SKU lookup that binds
//! products already in Magento, the translations to send and the image changes.
//!
//! Reads OpenERP and Magento and writes only the binding of a product found by SKU (none in a
//! dry run).

use std::collections::HashMap;

use base64::Engine as _;
use rust_decimal::Decimal;

use super::images::{self, Action as ImageAction, Wanted};
use super::item::{Export, Item, PlannedImage, PlannedText, Work, Write};
use super::payload::{self, Meta, PayloadInput, Texts};
use super::select::{self, Selection};
use super::translations;
use super::{Job, ProductExtra};
use crate::magento::types::{ProductFilter, ProductImage};
use crate::openerp::ProductKind;
use crate::openerp::models::products::Product;
use crate::store::{Binding, BindingKind, BindingPut};
use crate::sync::env::JobEnv;
use crate::sync::taxes::product_tax_class;

impl Job {
    /// Decides what a product needs, before anything is asked of Magento.
    pub(super) fn classify(
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
    pub(super) async fn lookup(&self, env: &JobEnv, items: &mut [Item]) {
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
    pub(super) async fn plan_translations(&self, env: &JobEnv, items: &mut [Item]) {
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
    pub(super) async fn plan_images(&self, env: &JobEnv, items: &mut [Item], sel: &Selection) {
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
}
