//! Incremental-sync cursors: per backend, store scope and stream (e.g. `orders.updated_at`),
//! the point the last successful pass reached. Values are opaque text to the store.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, now_text, parse_ts};

/// Typed access to `cursors` (see [`Store::cursors`]).
#[derive(Debug, Clone, Copy)]
pub struct Cursors<'a>(pub(super) &'a Store);

impl Cursors<'_> {
    /// The cursor value and when it was set.
    pub async fn get(
        &self,
        backend: &str,
        store_id: i64,
        stream: &str,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let (backend, stream) = (backend.to_owned(), stream.to_owned());
        self.0
            .call(move |c| {
                let row: Option<(String, String)> = c
                    .prepare_cached(
                        "SELECT value, updated_at FROM cursors WHERE backend = ?1 AND store_id = ?2 AND stream = ?3",
                    )?
                    .query_row(params![backend, store_id, stream], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                row.map(|(v, at)| Ok((v, parse_ts("cursors.updated_at", &at)?))).transpose()
            })
            .await
    }

    /// Sets (creates or replaces) a cursor.
    pub async fn set(&self, backend: &str, store_id: i64, stream: &str, value: &str) -> Result<(), StoreError> {
        let (backend, stream, value) = (backend.to_owned(), stream.to_owned(), value.to_owned());
        self.0
            .call(move |c| {
                c.prepare_cached(
                    "INSERT INTO cursors (backend, store_id, stream, value, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (backend, store_id, stream) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                )?
                .execute(params![backend, store_id, stream, value, now_text()])?;
                Ok(())
            })
            .await
    }

    /// Deletes a cursor (a `full` run starts over); returns whether it existed.
    pub async fn delete(&self, backend: &str, store_id: i64, stream: &str) -> Result<bool, StoreError> {
        let (backend, stream) = (backend.to_owned(), stream.to_owned());
        self.0
            .call(move |c| {
                let n = c.execute(
                    "DELETE FROM cursors WHERE backend = ?1 AND store_id = ?2 AND stream = ?3",
                    params![backend, store_id, stream],
                )?;
                Ok(n > 0)
            })
            .await
    }
}
