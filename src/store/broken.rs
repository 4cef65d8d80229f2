//! Orders that could not be imported, with the reason, a hint saying what to fix, and a
//! snapshot of the payload so the problem can be diagnosed without asking Magento again.
//!
//! Magento 1 increment ids are unique per shop, so a broken order is keyed by backend and
//! increment id. Upserting again counts an attempt; resolving keeps the row for history.

use chrono::{DateTime, Utc};
use rusqlite::{Row, params};

use super::{Store, StoreError, now_text, parse_json, parse_opt_ts, parse_ts};

/// Why an order could not be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BrokenCode {
    /// A line's SKU matches no product.
    UnknownSku,
    /// A tax rate maps to no OpenERP tax.
    UnmappedTax,
    /// The payment method maps to nothing.
    UnknownPayment,
    /// Recomputed totals differ from Magento's.
    TotalsMismatch,
    /// A billing or shipping address is unusable.
    InvalidAddress,
    /// OpenERP refused the order (validation error).
    OpenerpRefused,
    /// Magento sent data that cannot be read.
    MagentoData,
}

impl BrokenCode {
    /// Every code.
    pub const ALL: [BrokenCode; 7] = [
        BrokenCode::UnknownSku,
        BrokenCode::UnmappedTax,
        BrokenCode::UnknownPayment,
        BrokenCode::TotalsMismatch,
        BrokenCode::InvalidAddress,
        BrokenCode::OpenerpRefused,
        BrokenCode::MagentoData,
    ];

    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BrokenCode::UnknownSku => "unknown_sku",
            BrokenCode::UnmappedTax => "unmapped_tax",
            BrokenCode::UnknownPayment => "unknown_payment",
            BrokenCode::TotalsMismatch => "totals_mismatch",
            BrokenCode::InvalidAddress => "invalid_address",
            BrokenCode::OpenerpRefused => "openerp_refused",
            BrokenCode::MagentoData => "magento_data",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(s: &str) -> Option<BrokenCode> {
        BrokenCode::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for BrokenCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`BrokenOrders::upsert`] writes.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenUpsert {
    /// Backend name.
    pub backend: String,
    /// Magento store view id.
    pub store_id: i64,
    /// Order increment id.
    pub increment_id: String,
    /// Reason code.
    pub code: BrokenCode,
    /// Reason, for people.
    pub reason: String,
    /// What to fix.
    pub hint: String,
    /// Snapshot of the order as read (JSON), if worth keeping.
    pub payload: Option<serde_json::Value>,
}

/// A broken order as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenOrder {
    /// Backend name.
    pub backend: String,
    /// Magento store view id.
    pub store_id: i64,
    /// Order increment id.
    pub increment_id: String,
    /// Reason code.
    pub code: BrokenCode,
    /// Reason.
    pub reason: String,
    /// What to fix.
    pub hint: String,
    /// Payload snapshot.
    pub payload: Option<serde_json::Value>,
    /// Import attempts so far.
    pub attempts: u32,
    /// First failure.
    pub first_seen: DateTime<Utc>,
    /// Latest failure.
    pub last_attempt: DateTime<Utc>,
    /// When it was imported after all (`None`: still broken).
    pub resolved_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "backend, store_id, increment_id, code, reason, hint, payload, attempts, first_seen, last_attempt, resolved_at";

fn from_row(r: &Row<'_>) -> Result<BrokenOrder, StoreError> {
    let code: String = r.get(3)?;
    let payload: Option<String> = r.get(6)?;
    let first: String = r.get(8)?;
    let last: String = r.get(9)?;
    Ok(BrokenOrder {
        backend: r.get(0)?,
        store_id: r.get(1)?,
        increment_id: r.get(2)?,
        code: BrokenCode::parse(&code)
            .ok_or_else(|| StoreError::Corrupt { column: "broken_orders.code", message: format!("{code:?}") })?,
        reason: r.get(4)?,
        hint: r.get(5)?,
        payload: payload.map(|p| parse_json("broken_orders.payload", &p)).transpose()?,
        attempts: u32::try_from(r.get::<_, i64>(7)?).unwrap_or(u32::MAX),
        first_seen: parse_ts("broken_orders.first_seen", &first)?,
        last_attempt: parse_ts("broken_orders.last_attempt", &last)?,
        resolved_at: parse_opt_ts("broken_orders.resolved_at", r.get(10)?)?,
    })
}

/// Typed access to `broken_orders` (see [`Store::broken`]).
#[derive(Debug, Clone, Copy)]
pub struct BrokenOrders<'a>(pub(super) &'a Store);

impl BrokenOrders<'_> {
    /// Records a failed import: a new row, or one more attempt on the existing one (which is
    /// re-opened if it had been resolved). Returns the row as stored.
    pub async fn upsert(&self, b: BrokenUpsert) -> Result<BrokenOrder, StoreError> {
        self.0
            .call(move |c| {
                let now = now_text();
                let payload = b.payload.as_ref().map(serde_json::Value::to_string);
                let sql = format!(
                    "INSERT INTO broken_orders (backend, store_id, increment_id, code, reason, hint, payload, attempts, first_seen, last_attempt)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8)
                     ON CONFLICT (backend, increment_id) DO UPDATE SET
                         store_id = excluded.store_id, code = excluded.code, reason = excluded.reason, hint = excluded.hint,
                         payload = coalesce(excluded.payload, payload), attempts = attempts + 1,
                         last_attempt = excluded.last_attempt, resolved_at = NULL
                     RETURNING {COLUMNS}"
                );
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(params![b.backend, b.store_id, b.increment_id, b.code.as_str(), b.reason, b.hint, payload, now])?;
                match rows.next()? {
                    Some(r) => from_row(r),
                    None => Err(StoreError::Corrupt { column: "broken_orders", message: "upsert returned no row".into() }),
                }
            })
            .await
    }

    /// One broken order (resolved or not).
    pub async fn get(&self, backend: &str, increment_id: &str) -> Result<Option<BrokenOrder>, StoreError> {
        let (backend, increment_id) = (backend.to_owned(), increment_id.to_owned());
        self.0
            .call(move |c| {
                let sql = format!("SELECT {COLUMNS} FROM broken_orders WHERE backend = ?1 AND increment_id = ?2");
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(params![backend, increment_id])?;
                rows.next()?.map(from_row).transpose()
            })
            .await
    }

    /// Unresolved broken orders of a backend (all of them with `include_resolved`), oldest first.
    pub async fn list(&self, backend: &str, include_resolved: bool) -> Result<Vec<BrokenOrder>, StoreError> {
        let backend = backend.to_owned();
        self.0
            .call(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM broken_orders WHERE backend = ?1 AND (?2 OR resolved_at IS NULL) ORDER BY first_seen, increment_id"
                );
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(params![backend, include_resolved])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(from_row(r)?);
                }
                Ok(out)
            })
            .await
    }

    /// Marks an order imported after all; false when it is unknown or already resolved.
    pub async fn resolve(&self, backend: &str, increment_id: &str) -> Result<bool, StoreError> {
        let (backend, increment_id) = (backend.to_owned(), increment_id.to_owned());
        self.0
            .call(move |c| {
                let n = c.execute(
                    "UPDATE broken_orders SET resolved_at = ?3 WHERE backend = ?1 AND increment_id = ?2 AND resolved_at IS NULL",
                    params![backend, increment_id, now_text()],
                )?;
                Ok(n == 1)
            })
            .await
    }
}
