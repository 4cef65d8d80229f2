//! The last stock level sent to Magento per product and scope, so an incremental stock export
//! only sends what changed and `full` can start over.
//!
//! Kept apart from `bindings` (rather than folded into a payload hash) because the quantity
//! itself is worth seeing when a shop disagrees with the ERP, and stock can be sent for
//! products the connector did not create. Keyed by the OpenERP product id (stable across SKU
//! renames); the SKU sent is kept alongside. Quantities are decimals stored as text. The
//! backorders code sent is kept too (`None`: never sent, the shop's configuration applies), so
//! a change of the backorder policy is sent even when the quantity did not move.

use std::collections::HashMap;
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
    /// Magento backorders code sent (`None`: never sent).
    pub backorders: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
}

/// One level to record as sent (see [`StockSentLog::put_many`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StockSentPut {
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
    /// Magento backorders code sent (`None`: not sent).
    pub backorders: Option<i64>,
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
        backorders: r.get(7)?,
    })
}

const COLUMNS: &str = "backend, product_id, scope, sku, qty, is_in_stock, at, backorders";

const UPSERT: &str = "INSERT INTO stock_sent (backend, product_id, scope, sku, qty, is_in_stock, at, backorders)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
     ON CONFLICT (backend, product_id, scope) DO UPDATE SET
         sku = excluded.sku, qty = excluded.qty, is_in_stock = excluded.is_in_stock, at = excluded.at,
         backorders = excluded.backorders";

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

    /// The levels last sent for `product_ids` in `scope`, by product id (products never sent
    /// are absent).
    pub async fn get_many(
        &self,
        backend: &str,
        product_ids: &[i64],
        scope: i64,
    ) -> Result<HashMap<i64, StockSent>, StoreError> {
        let backend = backend.to_owned();
        let ids = product_ids.to_vec();
        self.0
            .call(move |c| {
                let sql =
                    format!("SELECT {COLUMNS} FROM stock_sent WHERE backend = ?1 AND product_id = ?2 AND scope = ?3");
                let mut st = c.prepare_cached(&sql)?;
                let mut out = HashMap::with_capacity(ids.len());
                for id in ids {
                    let mut rows = st.query(params![backend, id, scope])?;
                    if let Some(r) = rows.next()? {
                        out.insert(id, from_row(r)?);
                    }
                }
                Ok(out)
            })
            .await
    }

    /// Records a level as sent (creates or replaces; no backorders code).
    pub async fn put(
        &self,
        backend: &str,
        product_id: i64,
        scope: i64,
        sku: &str,
        qty: Decimal,
        is_in_stock: bool,
    ) -> Result<(), StoreError> {
        let put = StockSentPut { product_id, scope, sku: sku.to_owned(), qty, is_in_stock, backorders: None };
        self.put_many(backend, vec![put]).await
    }

    /// Records many levels as sent, in one transaction (creates or replaces each).
    pub async fn put_many(&self, backend: &str, puts: Vec<StockSentPut>) -> Result<(), StoreError> {
        if puts.is_empty() {
            return Ok(());
        }
        let backend = backend.to_owned();
        self.0
            .call(move |c| {
                let tx = c.transaction()?;
                let now = now_text();
                {
                    let mut st = tx.prepare_cached(UPSERT)?;
                    for p in puts {
                        st.execute(params![
                            backend,
                            p.product_id,
                            p.scope,
                            p.sku,
                            p.qty.normalize().to_string(),
                            p.is_in_stock,
                            now,
                            p.backorders
                        ])?;
                    }
                }
                tx.commit()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn put(product_id: i64, qty: &str, backorders: Option<i64>) -> StockSentPut {
        StockSentPut {
            product_id,
            scope: 0,
            sku: format!("SKU-{product_id}"),
            qty: Decimal::from_str(qty).unwrap(),
            is_in_stock: true,
            backorders,
        }
    }

    #[tokio::test]
    async fn many_levels_in_one_go_with_their_backorders() {
        let store = Store::open_in_memory().unwrap();
        let log = store.stock();
        log.put_many("shop", vec![put(1, "5.5000", None), put(2, "-3", Some(1))]).await.unwrap();
        log.put_many("other", vec![put(1, "9", None)]).await.unwrap();
        log.put_many("shop", vec![]).await.unwrap();
        let got = log.get_many("shop", &[1, 2, 3], 0).await.unwrap();
        assert_eq!(got.len(), 2, "product 3 was never sent");
        assert_eq!((got[&1].qty, got[&1].backorders), (Decimal::from_str("5.5").unwrap(), None));
        assert_eq!((got[&2].qty, got[&2].backorders), (Decimal::from(-3), Some(1)));
        log.put_many("shop", vec![put(2, "4", Some(0))]).await.unwrap();
        assert_eq!(log.get("shop", 2, 0).await.unwrap().unwrap().backorders, Some(0));
        log.put("shop", 2, 0, "SKU-2", Decimal::ONE, false).await.unwrap();
        let again = log.get("shop", 2, 0).await.unwrap().unwrap();
        assert_eq!((again.qty, again.is_in_stock, again.backorders), (Decimal::ONE, false, None));
        assert!(log.get_many("shop", &[1], 1).await.unwrap().is_empty(), "another scope");
    }

    #[tokio::test]
    async fn levels_sent_before_the_backorders_column_read_as_never_sent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite3");
        {
            let mut c = rusqlite::Connection::open(&path).unwrap();
            super::super::migrations::migrate(&mut c, &super::super::migrations::MIGRATIONS[..1], &path).unwrap();
            c.execute(
                "INSERT INTO stock_sent (backend, product_id, scope, sku, qty, is_in_stock, at)
                 VALUES ('shop', 5, 0, 'SKU-5', '7', 1, '2026-01-01 00:00:00.000')",
                [],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let got = store.stock().get("shop", 5, 0).await.unwrap().unwrap();
        assert_eq!((got.qty, got.is_in_stock, got.backorders), (Decimal::from(7), true, None));
    }
}
