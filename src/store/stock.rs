//! The last stock level sent to Magento per product and scope, so an incremental stock export
//! only sends what changed and `full` can start over.
//!
//! Kept apart from `bindings` (rather than folded into a payload hash) because the quantity
//! itself is worth seeing when a shop disagrees with the ERP, and stock can be sent for
//! products the connector did not create. Keyed by the OpenERP product id (stable across SKU
//! renames); the SKU sent is kept alongside. Quantities are decimals stored as text.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{Row, params};
use rust_decimal::Decimal;

use super::{Store, StoreError, now_text, parse_ts};

/// One stock level as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct StockSent {
    /// Backend name.
    pub backend: String,
    /// OpenERP product id.
    pub product_id: i64,
    /// Website/store scope (0 = default stock).
    pub scope: i64,
    /// SKU the level was sent for.
    pub sku: String,
    /// Quantity sent.
    pub qty: Decimal,
    /// `is_in_stock` flag sent.
    pub is_in_stock: bool,
    /// When.
    pub at: DateTime<Utc>,
}

fn from_row(r: &Row<'_>) -> Result<StockSent, StoreError> {
    let qty: String = r.get(4)?;
    let at: String = r.get(6)?;
    Ok(StockSent {
        backend: r.get(0)?,
        product_id: r.get(1)?,
        scope: r.get(2)?,
        sku: r.get(3)?,
        qty: Decimal::from_str(&qty)
            .map_err(|e| StoreError::Corrupt { column: "stock_sent.qty", message: format!("{qty:?}: {e}") })?,
        is_in_stock: r.get(5)?,
        at: parse_ts("stock_sent.at", &at)?,
    })
}

const COLUMNS: &str = "backend, product_id, scope, sku, qty, is_in_stock, at";

/// Typed access to `stock_sent` (see [`Store::stock`]).
#[derive(Debug, Clone, Copy)]
pub struct StockSentLog<'a>(pub(super) &'a Store);

impl StockSentLog<'_> {
    /// The level last sent for a product in a scope.
    pub async fn get(&self, backend: &str, product_id: i64, scope: i64) -> Result<Option<StockSent>, StoreError> {
        let backend = backend.to_owned();
        self.0
            .call(move |c| {
                let sql =
                    format!("SELECT {COLUMNS} FROM stock_sent WHERE backend = ?1 AND product_id = ?2 AND scope = ?3");
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(params![backend, product_id, scope])?;
                rows.next()?.map(from_row).transpose()
            })
            .await
    }

    /// Records a level as sent (creates or replaces).
    pub async fn put(
        &self,
        backend: &str,
        product_id: i64,
        scope: i64,
        sku: &str,
        qty: Decimal,
        is_in_stock: bool,
    ) -> Result<(), StoreError> {
        let (backend, sku) = (backend.to_owned(), sku.to_owned());
        self.0
            .call(move |c| {
                c.prepare_cached(
                    "INSERT INTO stock_sent (backend, product_id, scope, sku, qty, is_in_stock, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (backend, product_id, scope) DO UPDATE SET
                         sku = excluded.sku, qty = excluded.qty, is_in_stock = excluded.is_in_stock, at = excluded.at",
                )?
                .execute(params![
                    backend,
                    product_id,
                    scope,
                    sku,
                    qty.normalize().to_string(),
                    is_in_stock,
                    now_text()
                ])?;
                Ok(())
            })
            .await
    }

    /// Every level sent on a backend, by product then scope.
    pub async fn list(&self, backend: &str) -> Result<Vec<StockSent>, StoreError> {
        let backend = backend.to_owned();
        self.0
            .call(move |c| {
                let sql = format!("SELECT {COLUMNS} FROM stock_sent WHERE backend = ?1 ORDER BY product_id, scope");
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query([backend])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(from_row(r)?);
                }
                Ok(out)
            })
            .await
    }

    /// Forgets every level sent on a backend (a `full` stock export); returns how many.
    pub async fn clear(&self, backend: &str) -> Result<u64, StoreError> {
        let backend = backend.to_owned();
        self.0
            .call(move |c| {
                let n = c.execute("DELETE FROM stock_sent WHERE backend = ?1", [backend])?;
                Ok(n as u64)
            })
            .await
    }
}
