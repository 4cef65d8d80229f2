//! Which products a run looks at, and the incremental state kept between runs.
//!
//! State (store cursors, scope 0): `products.since` (start of the last complete run),
//! `products.fingerprint` (hash of every setting that shapes payloads: store mapping, tax
//! mapping, category bindings, price source and pricelist rules, attribute set),
//! `products.images` (the image setting), `products.pending` (ids whose last export failed).
//!
//! * `ids` option: exactly those products.
//! * `full`: every exportable product and every bound one, hashes ignored, images checked.
//! * first run, the fingerprint changed, or images were turned on: every exportable and bound
//!   product is evaluated again (payload hashes still spare the unchanged ones); images only
//!   for the changed ones, unless it is the first run or images were just turned on.
//! * otherwise: products (or their templates) written since `since` minus an overlap, never
//!   bound exportable products, pending ones, and bound products deleted in OpenERP.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use crate::openerp::models::products::MODEL;
use crate::openerp::{Context, Domain, SearchOpts};
use crate::rpc::value;
use crate::server::jobs::JobError;
use crate::store::{BindingKind, StoreError};
use crate::sync::env::JobEnv;

/// Cursor: start of the last complete run.
pub const STREAM_SINCE: &str = "products.since";
/// Cursor: settings fingerprint of the last complete run.
pub const STREAM_FINGERPRINT: &str = "products.fingerprint";
/// Cursor: the image setting of the last complete run.
pub const STREAM_IMAGES: &str = "products.images";
/// Cursor: product ids whose export failed (JSON array).
pub const STREAM_PENDING: &str = "products.pending";

/// How far before `since` changes are looked for (clock skew between the two servers, and
/// writes committed while the last run was reading).
pub fn overlap() -> Duration {
    Duration::minutes(10)
}

/// Why the products of a run were chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `ids` option.
    Ids,
    /// `full` option.
    Full,
    /// Everything evaluated again (first run, or settings changed); the text says why.
    Reevaluate(String),
    /// Changes since the cursor.
    Incremental(DateTime<Utc>),
}

/// Products of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Product ids, ascending.
    pub ids: Vec<i64>,
    /// Why.
    pub mode: Mode,
    /// Products whose image is read and compared (`None`: all).
    pub images_for: Option<BTreeSet<i64>>,
}

impl Selection {
    /// Whether the image of `id` is read this run.
    pub fn reads_image(&self, id: i64) -> bool {
        self.images_for.as_ref().is_none_or(|s| s.contains(&id))
    }

    /// One line for the run's messages.
    pub fn describe(&self) -> String {
        let n = self.ids.len();
        match &self.mode {
            Mode::Ids => format!("{n} product(s) given by id"),
            Mode::Full => format!("full export: {n} product(s)"),
            Mode::Reevaluate(why) => format!("{why}: {n} product(s) evaluated again"),
            Mode::Incremental(since) => {
                format!("{n} product(s) changed since {}, new, or to retry", value::format_datetime(since))
            }
        }
    }
}

/// What the last complete run left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Start of the last complete run.
    pub since: Option<DateTime<Utc>>,
    /// Its settings fingerprint.
    pub fingerprint: Option<String>,
    /// Its image setting.
    pub images: Option<String>,
    /// Products to retry.
    pub pending: BTreeSet<i64>,
}

/// Reads the incremental state.
pub async fn load_state(env: &JobEnv) -> Result<State, StoreError> {
    let c = env.ctx.store().cursors();
    let b = env.backend();
    let get = |stream: &'static str| async move { c.get(b, 0, stream).await.map(|x| x.map(|(v, _)| v)) };
    Ok(State {
        since: get(STREAM_SINCE)
            .await?
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|d| d.with_timezone(&Utc)),
        fingerprint: get(STREAM_FINGERPRINT).await?,
        images: get(STREAM_IMAGES).await?,
        pending: get(STREAM_PENDING).await?.map(|s| parse_pending(&s)).unwrap_or_default(),
    })
}

/// Reads a stored pending list (anything unreadable counts as empty).
pub fn parse_pending(s: &str) -> BTreeSet<i64> {
    serde_json::from_str::<Vec<i64>>(s).map(|v| v.into_iter().collect()).unwrap_or_default()
}

/// Saves the state of a run. `complete`: the cursor, fingerprint and image setting move on
/// (a run limited to ids only updates the pending list).
pub async fn save_state(
    env: &JobEnv,
    complete: Option<(DateTime<Utc>, &str, &str)>,
    pending: &BTreeSet<i64>,
) -> Result<(), StoreError> {
    let c = env.ctx.store().cursors();
    let b = env.backend();
    if let Some((since, fingerprint, images)) = complete {
        c.set(b, 0, STREAM_SINCE, &since.to_rfc3339()).await?;
        c.set(b, 0, STREAM_FINGERPRINT, fingerprint).await?;
        c.set(b, 0, STREAM_IMAGES, images).await?;
    }
    let list: Vec<i64> = pending.iter().copied().collect();
    c.set(b, 0, STREAM_PENDING, &serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())).await
}

fn openerp_failed(what: &str, e: crate::openerp::Error) -> JobError {
    JobError::failed(format!("cannot {what} in OpenERP: {e}"))
}

/// Chooses the products of a run.
pub async fn select(
    env: &JobEnv,
    ctx: &Context,
    state: &State,
    fingerprint: &str,
    images: &str,
) -> Result<Selection, JobError> {
    if let Some(ids) = &env.ctx.options().ids {
        let ids: BTreeSet<i64> = ids.iter().copied().collect();
        return Ok(Selection { ids: ids.into_iter().collect(), mode: Mode::Ids, images_for: None });
    }
    let o = env.openerp();
    let all = ctx.clone().with_active_test(false);
    let exportable_domain = Domain::new()
        .eq("sale_ok", dxr::Value::Boolean(true))
        .eq(crate::openerp::models::products::ADDON_FIELD, dxr::Value::Boolean(true));
    let exportable: BTreeSet<i64> = o
        .search(MODEL, &exportable_domain, &SearchOpts::default(), ctx)
        .await
        .map_err(|e| openerp_failed("list the exportable products", e))?
        .into_iter()
        .collect();
    let bound: BTreeSet<i64> =
        env.ctx.store().bindings().openerp_ids(env.backend(), BindingKind::Product, 0).await?.into_iter().collect();
    let full = env.ctx.options().full;
    // Images were off and are on now: every product's image must be looked at.
    let images_on = state.images.as_deref() != Some(images) && images == "on";
    let reevaluate = match (&state.since, &state.fingerprint) {
        _ if full => None,
        (None, _) => Some("first run".to_owned()),
        (Some(_), Some(f)) if f == fingerprint && !images_on => None,
        (Some(_), Some(f)) if f == fingerprint => Some("images are exported again".to_owned()),
        (Some(_), _) => {
            Some("the settings that shape products changed (stores, taxes, categories or prices)".to_owned())
        }
    };
    let changed = match state.since {
        Some(since) if !full => {
            let from = dxr::Value::String(value::format_datetime(&(since - overlap())));
            let domain = Domain::or(
                Domain::new().term("write_date", ">=", from.clone()),
                Domain::new().term("product_tmpl_id.write_date", ">=", from),
            );
            Some(
                o.search(MODEL, &domain, &SearchOpts::default(), &all)
                    .await
                    .map_err(|e| openerp_failed("list the changed products", e))?
                    .into_iter()
                    .collect::<BTreeSet<i64>>(),
            )
        }
        _ => None,
    };
    let unbound: BTreeSet<i64> = exportable.difference(&bound).copied().collect();
    if full || reevaluate.is_some() {
        let ids: BTreeSet<i64> = exportable.union(&bound).copied().collect();
        let images_for = match (&changed, full || images_on) {
            (Some(c), false) => Some(c.union(&unbound).chain(state.pending.iter()).copied().collect()),
            _ => None,
        };
        let mode = match reevaluate {
            Some(why) => Mode::Reevaluate(why),
            None => Mode::Full,
        };
        return Ok(Selection { ids: ids.into_iter().collect(), mode, images_for });
    }
    let since = state.since.unwrap_or_else(Utc::now);
    let changed = changed.unwrap_or_default();
    let existing: BTreeSet<i64> = o
        .search(MODEL, &Domain::new(), &SearchOpts::default(), &all)
        .await
        .map_err(|e| openerp_failed("list the products", e))?
        .into_iter()
        .collect();
    let deleted: BTreeSet<i64> = bound.difference(&existing).copied().collect();
    // A changed product that is neither exportable nor bound needs nothing (a raw material
    // whose stock moved, say): it stays out, so the run's total is what it reports on.
    let concerned = |id: &&i64| exportable.contains(*id) || bound.contains(*id);
    let ids: BTreeSet<i64> = changed
        .iter()
        .chain(state.pending.iter())
        .filter(concerned)
        .chain(unbound.iter())
        .chain(deleted.iter())
        .copied()
        .collect();
    let images_for = Some(changed.iter().chain(unbound.iter()).chain(state.pending.iter()).copied().collect());
    Ok(Selection { ids: ids.into_iter().collect(), mode: Mode::Incremental(since), images_for })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_lists_read_leniently() {
        assert_eq!(parse_pending("[3, 1]"), [1, 3].into_iter().collect());
        assert!(parse_pending("nonsense").is_empty());
    }

    #[test]
    fn selection_tells_which_images_are_read() {
        let s = Selection { ids: vec![1, 2], mode: Mode::Ids, images_for: None };
        assert!(s.reads_image(2));
        let s = Selection { ids: vec![1, 2], mode: Mode::Full, images_for: Some([2].into_iter().collect()) };
        assert!(!s.reads_image(1) && s.reads_image(2));
        assert!(s.describe().contains("full export: 2"));
    }
}
