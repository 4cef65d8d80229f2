//! Which Magento orders a run looks at: the store views that import orders, the per-store
//! window of `updated_at` with its overlap, the list filter, and where the cursor moves.
//!
//! # Why `updated_at`
//! Increment ids restart per store and compare as strings, so they are no watermark; creation
//! dates are one, but an order skipped because of its status (e.g. `pending_payment` when only
//! `pending,processing` are imported) would then be skipped forever once the window has passed
//! it. Filtering on `updated_at` lists it again when its status changes, and the order binding
//! (store + increment id) decides what is new, so an order seen twice is imported once.
//! Orders created before the backend's `import_from_date` are never listed.
//!
//! The cursor of a store (`orders.updated_at`) is the latest `updated_at` Magento reported for
//! an order the run finished with (imported, skipped, or sent to the broken queue); an order
//! that failed for a passing reason keeps the cursor at its date so the next run sees it
//! again. Dates are Magento's own (UTC), never the local clock, so clock skew cannot drop an
//! order; the next window starts `import_overlap_minutes` before the cursor.

use chrono::{DateTime, Duration, Utc};

use crate::magento::types::{OrderFilter, OrderSummary};
use crate::openerp::models::settings::{BackendSettings, StoreSettings};
use crate::rpc::value;
use crate::server::jobs::StoreRef;
use crate::store::{Store, StoreError};

/// Cursor stream of the order import.
pub const CURSOR_STREAM: &str = "orders.updated_at";

/// The store lines that import orders, restricted to `only` when given (by id or code).
pub fn stores_to_import<'a>(settings: &'a BackendSettings, only: Option<&[StoreRef]>) -> Vec<&'a StoreSettings> {
    settings
        .stores
        .iter()
        .filter(|s| s.import_orders)
        .filter(|s| {
            only.is_none_or(|refs| {
                refs.iter().any(|r| match r {
                    StoreRef::Id(id) => *id == s.magento_store_id,
                    StoreRef::Code(code) => s.magento_store_code.as_deref() == Some(code.as_str()),
                })
            })
        })
        .collect()
}

/// The `updated_at` window of one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Updated at or after (`None`: from the beginning).
    pub from: Option<DateTime<Utc>>,
    /// The run may move the cursor (the window covers everything after it).
    pub moves_cursor: bool,
}

/// The window after `cursor`, `overlap_minutes` earlier, or from `since` when the run was
/// given one (then the cursor moves only when `since` does not skip orders after it).
pub fn window(cursor: Option<DateTime<Utc>>, overlap_minutes: i64, since: Option<DateTime<Utc>>) -> Window {
    match since {
        Some(s) => Window { from: Some(s), moves_cursor: cursor.is_none_or(|c| s <= c) },
        None => Window { from: cursor.map(|c| c - Duration::minutes(overlap_minutes.max(0))), moves_cursor: true },
    }
}

/// The `sales_order.list` filter of one store's window.
pub fn filter(store_id: i64, w: &Window, statuses: &[String], import_from: Option<DateTime<Utc>>) -> OrderFilter {
    OrderFilter {
        created_from: import_from,
        created_to: None,
        updated_from: w.from,
        statuses: statuses.to_vec(),
        store_ids: vec![store_id],
    }
}

/// Where the cursor goes after a run that listed `listed` and could not finish `unfinished`
/// (their `updated_at`): the earliest unfinished date, else the latest date listed (never
/// before `old` then).
pub fn next_cursor(
    old: Option<DateTime<Utc>>,
    listed: &[DateTime<Utc>],
    unfinished: &[DateTime<Utc>],
) -> Option<DateTime<Utc>> {
    if let Some(first) = unfinished.iter().min() {
        return Some(*first);
    }
    match (old, listed.iter().max()) {
        (Some(o), Some(m)) => Some(o.max(*m)),
        (o, m) => o.or(m.copied()),
    }
}

/// The stored cursor of a store.
pub async fn cursor(store: &Store, backend: &str, store_id: i64) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(store.cursors().get(backend, store_id, CURSOR_STREAM).await?.and_then(|(v, _)| value::parse_datetime(&v)))
}

/// Stores a cursor.
pub async fn set_cursor(store: &Store, backend: &str, store_id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
    store.cursors().set(backend, store_id, CURSOR_STREAM, &value::format_datetime(&at)).await
}

/// Headers sorted oldest first (creation date, then increment id), so partners are created in
/// the order customers appeared.
pub fn sort_headers(h: &mut [OrderSummary]) {
    h.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.increment_id.cmp(&b.increment_id)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openerp::models::settings::StoreSettings;

    fn at(s: &str) -> DateTime<Utc> {
        value::parse_datetime(s).unwrap()
    }

    #[test]
    fn windows_overlap_and_since_decides_the_cursor() {
        let c = Some(at("2026-01-01 10:00:00"));
        assert_eq!(window(c, 10, None), Window { from: Some(at("2026-01-01 09:50:00")), moves_cursor: true });
        assert_eq!(window(None, 10, None), Window { from: None, moves_cursor: true });
        let earlier = window(c, 10, Some(at("2025-12-01 00:00:00")));
        assert!(earlier.moves_cursor);
        let later = window(c, 10, Some(at("2026-02-01 00:00:00")));
        assert!(!later.moves_cursor, "a later start would skip orders between the cursor and it");
        let f = filter(2, &earlier, &["pending".into()], Some(at("2020-01-01 00:00:00")));
        assert_eq!((f.store_ids, f.statuses, f.updated_from), (vec![2], vec!["pending".to_owned()], earlier.from));
        assert_eq!(f.created_from, Some(at("2020-01-01 00:00:00")));
    }

    #[test]
    fn the_cursor_stops_at_the_first_unfinished_order() {
        let (a, b, c) = (at("2026-01-01 10:00:00"), at("2026-01-01 11:00:00"), at("2026-01-01 12:00:00"));
        assert_eq!(next_cursor(Some(a), &[b, c], &[]), Some(c));
        assert_eq!(next_cursor(Some(c), &[b], &[]), Some(c), "never backwards when all finished");
        assert_eq!(next_cursor(Some(a), &[b, c], &[c, b]), Some(b));
        assert_eq!(next_cursor(None, &[], &[]), None);
        assert_eq!(next_cursor(None, &[b], &[]), Some(b));
    }

    #[test]
    fn stores_filter_by_flag_id_and_code() {
        let s = |id: i64, code: &str, import: bool| StoreSettings {
            id,
            name: None,
            magento_store_id: id,
            magento_store_code: Some(code.into()),
            magento_website_id: None,
            magento_group_id: None,
            magento_root_category_id: None,
            lang: None,
            pricelist: None,
            warehouse: None,
            root_category: None,
            import_orders: import,
            export_catalog: true,
        };
        let settings =
            BackendSettings::example("b", vec![s(1, "default", true), s(2, "fr", true), s(3, "wholesale", false)]);
        let ids = |v: Vec<&StoreSettings>| v.iter().map(|s| s.magento_store_id).collect::<Vec<_>>();
        assert_eq!(ids(stores_to_import(&settings, None)), [1, 2]);
        assert_eq!(ids(stores_to_import(&settings, Some(&[StoreRef::Code("fr".into())]))), [2]);
        assert_eq!(ids(stores_to_import(&settings, Some(&[StoreRef::Id(3)]))), Vec::<i64>::new());
    }
}
