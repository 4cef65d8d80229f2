//! Bindings: which Magento record an OpenERP record was exported to (or imported from), per
//! backend, kind and store scope, with the hash of the last payload sent so unchanged records
//! are skipped.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{Store, StoreError, now_text, parse_json, parse_ts};

/// The kind of record a binding links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BindingKind {
    /// `product.category` ⇄ Magento category.
    Category,
    /// `product.product` ⇄ Magento product.
    Product,
    /// `sale.order` ⇄ Magento order (Magento id is the increment id).
    Order,
    /// `res.partner` (customer) ⇄ Magento customer.
    Partner,
    /// `res.partner` (address) ⇄ Magento customer address.
    Address,
}

impl BindingKind {
    /// Every kind, in a stable order.
    pub const ALL: [BindingKind; 5] =
        [BindingKind::Category, BindingKind::Product, BindingKind::Order, BindingKind::Partner, BindingKind::Address];

    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BindingKind::Category => "category",
            BindingKind::Product => "product",
            BindingKind::Order => "order",
            BindingKind::Partner => "partner",
            BindingKind::Address => "address",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(s: &str) -> Option<BindingKind> {
        BindingKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for BindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One binding as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// Backend name.
    pub backend: String,
    /// Record kind.
    pub kind: BindingKind,
    /// OpenERP record id.
    pub openerp_id: i64,
    /// Magento id (entity id, or increment id for orders), as text.
    pub magento_id: String,
    /// Store view scope (0 = global).
    pub store_id: i64,
    /// Hash of the last payload sent (`None`: never sent, or imported).
    pub payload_hash: Option<String>,
    /// Free-form extra data (JSON object).
    pub extra: serde_json::Value,
    /// First written.
    pub created_at: DateTime<Utc>,
    /// Last written.
    pub updated_at: DateTime<Utc>,
}

/// What [`Bindings::put`] writes.
#[derive(Debug, Clone, PartialEq)]
pub struct BindingPut {
    /// Backend name.
    pub backend: String,
    /// Record kind.
    pub kind: BindingKind,
    /// OpenERP record id.
    pub openerp_id: i64,
    /// Magento id.
    pub magento_id: String,
    /// Store view scope (0 = global).
    pub store_id: i64,
    /// Hash of the payload just sent.
    pub payload_hash: Option<String>,
    /// Extra data (`Value::Null` is stored as `{}`).
    pub extra: serde_json::Value,
}

impl BindingPut {
    /// A global-scope binding without hash or extra data.
    pub fn new(backend: &str, kind: BindingKind, openerp_id: i64, magento_id: impl Into<String>) -> Self {
        BindingPut {
            backend: backend.to_owned(),
            kind,
            openerp_id,
            magento_id: magento_id.into(),
            store_id: 0,
            payload_hash: None,
            extra: serde_json::Value::Null,
        }
    }

    /// Sets the store scope.
    pub fn store(mut self, store_id: i64) -> Self {
        self.store_id = store_id;
        self
    }

    /// Sets the payload hash.
    pub fn hash(mut self, hash: impl Into<String>) -> Self {
        self.payload_hash = Some(hash.into());
        self
    }

    /// Sets the extra data.
    pub fn extra(mut self, extra: serde_json::Value) -> Self {
        self.extra = extra;
        self
    }
}

const COLUMNS: &str = "backend, kind, openerp_id, magento_id, store_id, payload_hash, extra, created_at, updated_at";

fn from_row(r: &Row<'_>) -> Result<Binding, StoreError> {
    let kind: String = r.get(1)?;
    let extra: String = r.get(6)?;
    let created: String = r.get(7)?;
    let updated: String = r.get(8)?;
    Ok(Binding {
        backend: r.get(0)?,
        kind: BindingKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt { column: "bindings.kind", message: format!("{kind:?}") })?,
        openerp_id: r.get(2)?,
        magento_id: r.get(3)?,
        store_id: r.get(4)?,
        payload_hash: r.get(5)?,
        extra: parse_json("bindings.extra", &extra)?,
        created_at: parse_ts("bindings.created_at", &created)?,
        updated_at: parse_ts("bindings.updated_at", &updated)?,
    })
}

/// Typed access to the `bindings` table (see [`Store::bindings`]).
#[derive(Debug, Clone, Copy)]
pub struct Bindings<'a>(pub(super) &'a Store);

impl Bindings<'_> {
    /// The binding of one OpenERP record in one scope.
    pub async fn get(
        &self,
        backend: &str,
        kind: BindingKind,
        openerp_id: i64,
        store_id: i64,
    ) -> Result<Option<Binding>, StoreError> {
        let backend = backend.to_owned();
        self.0
            .call(move |c| {
                let sql = format!("SELECT {COLUMNS} FROM bindings WHERE backend = ?1 AND kind = ?2 AND openerp_id = ?3 AND store_id = ?4");
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(params![backend, kind.as_str(), openerp_id, store_id])?;
                rows.next()?.map(from_row).transpose()
            })
            .await
    }

    /// Every binding (all scopes) of the given OpenERP records, ordered by OpenERP id then scope.
    pub async fn get_many(
        &self,
        backend: &str,
        kind: BindingKind,
        openerp_ids: &[i64],
    ) -> Result<Vec<Binding>, StoreError> {
        let backend = backend.to_owned();
        let ids = openerp_ids.to_vec();
        self.0
            .call(move |c| {
                let sql = format!("SELECT {COLUMNS} FROM bindings WHERE backend = ?1 AND kind = ?2 AND openerp_id = ?3 ORDER BY store_id");
                let mut st = c.prepare_cached(&sql)?;
                let mut out = Vec::new();
                let mut sorted = ids;
                sorted.sort_unstable();
                sorted.dedup();
                for id in sorted {
                    let mut rows = st.query(params![backend, kind.as_str(), id])?;
                    while let Some(r) = rows.next()? {
                        out.push(from_row(r)?);
                    }
                }
                Ok(out)
            })
            .await
    }

    /// The binding of one Magento record in one scope.
    pub async fn find_by_magento(
        &self,
        backend: &str,
        kind: BindingKind,
        magento_id: &str,
        store_id: i64,
    ) -> Result<Option<Binding>, StoreError> {
        let (backend, magento_id) = (backend.to_owned(), magento_id.to_owned());
        self.0
            .call(move |c| {
                let sql = format!("SELECT {COLUMNS} FROM bindings WHERE backend = ?1 AND kind = ?2 AND magento_id = ?3 AND store_id = ?4");
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(params![backend, kind.as_str(), magento_id, store_id])?;
                rows.next()?.map(from_row).transpose()
            })
            .await
    }

    /// Every binding of a kind on a backend, ordered by OpenERP id then scope.
    pub async fn list(&self, backend: &str, kind: BindingKind) -> Result<Vec<Binding>, StoreError> {
        let backend = backend.to_owned();
        self.0
            .call(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM bindings WHERE backend = ?1 AND kind = ?2 ORDER BY openerp_id, store_id"
                );
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(params![backend, kind.as_str()])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(from_row(r)?);
                }
                Ok(out)
            })
            .await
    }

    /// The OpenERP ids bound in one scope, ascending: what [`Bindings::list`] gives without
    /// reading every binding's payload (a run over a large catalog needs only the ids).
    pub async fn openerp_ids(&self, backend: &str, kind: BindingKind, store_id: i64) -> Result<Vec<i64>, StoreError> {
        let backend = backend.to_owned();
        self.0
            .call(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT openerp_id FROM bindings WHERE backend = ?1 AND kind = ?2 AND store_id = ?3 ORDER BY openerp_id",
                )?;
                let ids = st.query_map(params![backend, kind.as_str(), store_id], |r| r.get(0))?;
                ids.collect::<Result<Vec<i64>, _>>().map_err(Into::into)
            })
            .await
    }

    /// Creates or updates the binding of `put.openerp_id` in `put.store_id` and returns it.
    ///
    /// Idempotent. Refused with [`StoreError::Conflict`] (nothing written) when the Magento id is
    /// already bound to another OpenERP record of the same kind and scope: that is a duplicate
    /// to resolve by hand, not something to overwrite silently.
    pub async fn put(&self, put: BindingPut) -> Result<Binding, StoreError> {
        self.0
            .call(move |c| {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let b = put_in(&tx, put)?;
                tx.commit()?;
                Ok(b)
            })
            .await
    }

    /// [`Bindings::put`] of many bindings in one transaction (one commit for a page of
    /// products instead of one each); one result per input, in input order. A conflict refuses
    /// that binding only; any other failure refuses them all (nothing written).
    pub async fn put_many(&self, puts: Vec<BindingPut>) -> Result<Vec<Result<Binding, StoreError>>, StoreError> {
        if puts.is_empty() {
            return Ok(Vec::new());
        }
        self.0
            .call(move |c| {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let mut out = Vec::with_capacity(puts.len());
                for put in puts {
                    match put_in(&tx, put) {
                        Err(e @ StoreError::Conflict { .. }) => out.push(Err(e)),
                        other => out.push(Ok(other?)),
                    }
                }
                tx.commit()?;
                Ok(out)
            })
            .await
    }

    /// Deletes one binding; returns whether it existed.
    pub async fn delete(
        &self,
        backend: &str,
        kind: BindingKind,
        openerp_id: i64,
        store_id: i64,
    ) -> Result<bool, StoreError> {
        let backend = backend.to_owned();
        self.0
            .call(move |c| {
                let n = c.execute(
                    "DELETE FROM bindings WHERE backend = ?1 AND kind = ?2 AND openerp_id = ?3 AND store_id = ?4",
                    params![backend, kind.as_str(), openerp_id, store_id],
                )?;
                Ok(n > 0)
            })
            .await
    }
}

/// The upsert of [`Bindings::put`] inside an open transaction.
fn put_in(tx: &rusqlite::Transaction<'_>, put: BindingPut) -> Result<Binding, StoreError> {
    let other: Option<i64> = tx
        .prepare_cached(
            "SELECT openerp_id FROM bindings WHERE backend = ?1 AND kind = ?2 AND magento_id = ?3 AND store_id = ?4",
        )?
        .query_row(params![put.backend, put.kind.as_str(), put.magento_id, put.store_id], |r| r.get(0))
        .optional()?;
    if let Some(bound_to) = other.filter(|id| *id != put.openerp_id) {
        return Err(StoreError::Conflict {
            backend: put.backend,
            kind: put.kind,
            magento_id: put.magento_id,
            store_id: put.store_id,
            bound_to,
        });
    }
    let extra = if put.extra.is_null() { "{}".to_owned() } else { put.extra.to_string() };
    let now = now_text();
    tx.prepare_cached(
        "INSERT INTO bindings (backend, kind, openerp_id, magento_id, store_id, payload_hash, extra, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (backend, kind, openerp_id, store_id) DO UPDATE SET
             magento_id = excluded.magento_id, payload_hash = excluded.payload_hash,
             extra = excluded.extra, updated_at = excluded.updated_at",
    )?
    .execute(params![
        put.backend,
        put.kind.as_str(),
        put.openerp_id,
        put.magento_id,
        put.store_id,
        put.payload_hash,
        extra,
        now
    ])?;
    let sql = format!(
        "SELECT {COLUMNS} FROM bindings WHERE backend = ?1 AND kind = ?2 AND openerp_id = ?3 AND store_id = ?4"
    );
    let mut st = tx.prepare_cached(&sql)?;
    let mut rows = st.query(params![put.backend, put.kind.as_str(), put.openerp_id, put.store_id])?;
    match rows.next()? {
        Some(r) => from_row(r),
        None => Err(StoreError::Corrupt { column: "bindings", message: "row vanished after upsert".into() }),
    }
}
