//! One product on its way through a page: what it needs ([`Work`]), what was done, what
//! failed, and its record in the run report.

use super::images::{Action as ImageAction, Wanted};
use super::payload::{self, Payload, Texts};
use super::{ProductExtra, RECORD_KIND, Tally};
use crate::magento::MagentoError;
use crate::store::{BindingKind, BindingPut, NewRecord, Outcome};
use crate::sync::env::JobEnv;

/// A store view's texts to send.
#[derive(Debug, Clone)]
pub(super) struct PlannedText {
    /// Store view id.
    pub(super) store_id: i64,
    /// Texts in its language.
    pub(super) texts: Texts,
    /// Hash kept once sent.
    pub(super) hash: String,
}

/// The gallery change of a product.
#[derive(Debug, Clone)]
pub(super) struct PlannedImage {
    /// What to do.
    pub(super) action: ImageAction,
    /// The OpenERP image (hash and format).
    pub(super) want: Option<Wanted>,
    /// Its bytes, when it is sent.
    pub(super) content: Option<Vec<u8>>,
    /// Label (the product name).
    pub(super) label: String,
}

/// The default-scope write a product needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Write {
    /// Unbound: look the SKU up first.
    Lookup,
    /// Not in Magento: create.
    Create,
    /// Update the product whose SKU in Magento is `key`.
    Update {
        /// Current SKU in Magento.
        key: String,
    },
    /// Unchanged.
    Nothing,
}

/// An exported product.
#[derive(Debug)]
pub(super) struct Export {
    /// SKU (OpenERP internal reference).
    pub(super) sku: String,
    /// Magento type.
    pub(super) type_id: &'static str,
    /// Stock is tracked (Magento manages stock).
    pub(super) storable: bool,
    /// Name (image label).
    pub(super) name: String,
    /// Default-language texts.
    pub(super) texts: Texts,
    /// Default-scope payload.
    pub(super) payload: Payload,
    /// The default-scope write.
    pub(super) write: Write,
    /// Store-view texts to send.
    pub(super) translations: Vec<PlannedText>,
    /// Gallery change (`None`: image not looked at).
    pub(super) image: Option<PlannedImage>,
}

/// What a product needs.
#[derive(Debug, Default)]
pub(super) enum Work {
    /// Decided already (reported as skipped or failed), or nothing to say.
    #[default]
    Done,
    /// Not exportable and never bound: not reported.
    Ignore,
    /// Deleted in OpenERP and already disabled: the binding is dropped.
    Forget,
    /// Bound and no longer exported: disable.
    Disable {
        /// Why, in plain words.
        reason: String,
        /// Deleted in OpenERP: drop the binding once disabled.
        forget: bool,
    },
    /// Exported.
    Export(Box<Export>),
}

/// One product through a page.
#[derive(Debug, Default)]
pub(super) struct Item {
    /// `product.product` id.
    pub(super) id: i64,
    /// Report reference (SKU, or id and name).
    pub(super) reference: String,
    /// Magento product id, once known.
    pub(super) magento_id: Option<i64>,
    /// In Magento before this run (bound, or found by SKU).
    pub(super) existed: bool,
    /// Found by SKU this run.
    pub(super) found: bool,
    /// Payload hash of the binding when the run started.
    pub(super) previous_hash: Option<String>,
    /// Binding extra, updated as writes succeed.
    pub(super) extra: ProductExtra,
    /// What it needs.
    pub(super) work: Work,
    /// Payload hash to keep once written.
    pub(super) new_hash: Option<String>,
    /// Warnings for the record (missing categories, image not sent).
    pub(super) notes: Vec<String>,
    /// What was done (or, in a dry run, found).
    pub(super) changes: Vec<String>,
    /// Why it failed (retried next run).
    pub(super) failure: Option<String>,
    /// Why it was skipped.
    pub(super) skipped: Option<String>,
    /// Created this run.
    pub(super) created: bool,
    /// The binding needs saving.
    pub(super) dirty: bool,
    /// The binding was dropped (the Magento product is gone).
    pub(super) dropped: bool,
}

impl Item {
    /// A product whose OpenERP values cannot be used (`why` names the field): failed, nothing
    /// written.
    pub(super) fn unreadable(id: i64, binding: Option<&crate::store::Binding>, why: &str) -> Item {
        let extra = binding.map(ProductExtra::from_binding).unwrap_or_default();
        let reference = if extra.sku.is_empty() { format!("[id {id}]") } else { extra.sku.clone() };
        let mut item = Item { id, reference, ..Item::default() };
        item.fail(format!("OpenERP's data cannot be used: {why}"));
        item
    }

    /// The export, unless the product failed.
    pub(super) fn export(&self) -> Option<&Export> {
        match &self.work {
            Work::Export(e) if self.failure.is_none() => Some(e),
            _ => None,
        }
    }

    /// The export, mutable, unless the product failed.
    pub(super) fn export_mut(&mut self) -> Option<&mut Export> {
        match &mut self.work {
            Work::Export(e) if self.failure.is_none() => Some(e),
            _ => None,
        }
    }

    /// Records a failure (several are joined).
    pub(super) fn fail(&mut self, why: String) {
        match &mut self.failure {
            Some(f) => {
                f.push_str("; ");
                f.push_str(&why);
            }
            None => self.failure = Some(why),
        }
    }

    /// Records why it is skipped.
    pub(super) fn skip(&mut self, why: String) {
        self.skipped = Some(why);
    }

    /// The default-scope payload went through: the binding follows it.
    pub(super) fn apply_export_written(&mut self) {
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
    pub(super) async fn lost_in_magento(&mut self, env: &JobEnv, e: &MagentoError) {
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

    /// The binding as it stands (`None` before the Magento id is known).
    pub(super) fn binding_put(&self, backend: &str) -> Option<BindingPut> {
        let m = self.magento_id?;
        let mut put = BindingPut::new(backend, BindingKind::Product, self.id, m.to_string())
            .extra(serde_json::to_value(&self.extra).unwrap_or_default());
        if let Some(h) = self.new_hash.as_ref().or(self.previous_hash.as_ref()) {
            put = put.hash(h.clone());
        }
        Some(put)
    }

    /// What a dry run would do.
    pub(super) fn planned(&self) -> Vec<String> {
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

    /// Its record for the run report (none for products that are not reported), counted.
    pub(super) fn report(self, dry: bool, tally: &mut Tally) -> Option<NewRecord> {
        if matches!(self.work, Work::Ignore | Work::Forget) && self.failure.is_none() {
            return None;
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
        Some(rec)
    }
}
