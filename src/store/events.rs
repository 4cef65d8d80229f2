//! Order follow-up events sent to Magento (status changes, invoices, shipments, cancels), so
//! that each is sent once. An event is written `pending` before the call and `sent` after
//! Magento acknowledged it: a `pending` row after a crash means "check Magento before sending
//! again", never "send blindly".

use chrono::{DateTime, Utc};
use rusqlite::{Row, params};

use super::{Store, StoreError, now_text, parse_ts};

/// Kind of follow-up event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Order status/state change (with comment).
    Status,
    /// Invoice created in Magento.
    Invoice,
    /// Shipment (with tracking) created in Magento.
    Shipment,
    /// Order cancelled in Magento.
    Cancel,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 4] = [EventKind::Status, EventKind::Invoice, EventKind::Shipment, EventKind::Cancel];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Status => "status",
            EventKind::Invoice => "invoice",
            EventKind::Shipment => "shipment",
            EventKind::Cancel => "cancel",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Delivery state of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventState {
    /// About to be sent (or the process died while sending).
    Pending,
    /// Magento acknowledged it.
    Sent,
    /// Nothing more to do (confirmed, or found already present in Magento).
    Done,
}

impl EventState {
    /// Every state.
    pub const ALL: [EventState; 3] = [EventState::Pending, EventState::Sent, EventState::Done];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventState::Pending => "pending",
            EventState::Sent => "sent",
            EventState::Done => "done",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<EventState> {
        EventState::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Identifies one follow-up event: backend, order, kind and key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventKey {
    /// Backend name.
    pub backend: String,
    /// Order increment id.
    pub increment_id: String,
    /// Event kind.
    pub kind: EventKind,
    /// What makes the event unique within its order and kind.
    pub key: String,
}

impl EventKey {
    /// Builds a key.
    pub fn new(backend: &str, increment_id: &str, kind: EventKind, key: &str) -> Self {
        EventKey { backend: backend.to_owned(), increment_id: increment_id.to_owned(), kind, key: key.to_owned() }
    }
}

/// One follow-up event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SentEvent {
    /// Backend name.
    pub backend: String,
    /// Order increment id.
    pub increment_id: String,
    /// Event kind.
    pub kind: EventKind,
    /// What makes the event unique within its order and kind (target status, OpenERP picking id, ...).
    pub key: String,
    /// Delivery state.
    pub state: EventState,
    /// What Magento returned (invoice or shipment increment id), if anything.
    pub magento_ref: Option<String>,
    /// Last message.
    pub message: String,
    /// Last change.
    pub at: DateTime<Utc>,
}

const COLUMNS: &str = "backend, increment_id, event_kind, event_key, state, magento_ref, message, at";

fn from_row(r: &Row<'_>) -> Result<SentEvent, StoreError> {
    let kind: String = r.get(2)?;
    let state: String = r.get(4)?;
    let at: String = r.get(7)?;
    Ok(SentEvent {
        backend: r.get(0)?,
        increment_id: r.get(1)?,
        kind: EventKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt { column: "sent_events.event_kind", message: format!("{kind:?}") })?,
        key: r.get(3)?,
        state: EventState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt { column: "sent_events.state", message: format!("{state:?}") })?,
        magento_ref: r.get(5)?,
        message: r.get(6)?,
        at: parse_ts("sent_events.at", &at)?,
    })
}

/// Typed access to `sent_events` (see [`Store::events`]).
#[derive(Debug, Clone, Copy)]
pub struct SentEvents<'a>(pub(super) &'a Store);

impl SentEvents<'_> {
    /// One event.
    pub async fn get(&self, key: &EventKey) -> Result<Option<SentEvent>, StoreError> {
        let EventKey { backend, increment_id, kind, key } = key.clone();
        self.0
            .call(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM sent_events WHERE backend = ?1 AND increment_id = ?2 AND event_kind = ?3 AND event_key = ?4"
                );
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(params![backend, increment_id, kind.as_str(), key])?;
                rows.next()?.map(from_row).transpose()
            })
            .await
    }

    /// Creates or updates an event's state (a `None` `magento_ref` keeps the stored one).
    pub async fn mark(
        &self,
        key: &EventKey,
        state: EventState,
        magento_ref: Option<&str>,
        message: &str,
    ) -> Result<SentEvent, StoreError> {
        let EventKey { backend, increment_id, kind, key } = key.clone();
        let (magento_ref, message) = (magento_ref.map(str::to_owned), message.to_owned());
        self.0
            .call(move |c| {
                let sql = format!(
                    "INSERT INTO sent_events (backend, increment_id, event_kind, event_key, state, magento_ref, message, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (backend, increment_id, event_kind, event_key) DO UPDATE SET
                         state = excluded.state, magento_ref = coalesce(excluded.magento_ref, magento_ref),
                         message = excluded.message, at = excluded.at
                     RETURNING {COLUMNS}"
                );
                let mut st = c.prepare_cached(&sql)?;
                let mut rows =
                    st.query(params![backend, increment_id, kind.as_str(), key, state.as_str(), magento_ref, message, now_text()])?;
                match rows.next()? {
                    Some(r) => from_row(r),
                    None => Err(StoreError::Corrupt { column: "sent_events", message: "upsert returned no row".into() }),
                }
            })
            .await
    }

    /// Every event of one order, in the order they were first written.
    pub async fn for_order(&self, backend: &str, increment_id: &str) -> Result<Vec<SentEvent>, StoreError> {
        let (backend, increment_id) = (backend.to_owned(), increment_id.to_owned());
        self.0
            .call(move |c| {
                let sql =
                    format!("SELECT {COLUMNS} FROM sent_events WHERE backend = ?1 AND increment_id = ?2 ORDER BY id");
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(params![backend, increment_id])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(from_row(r)?);
                }
                Ok(out)
            })
            .await
    }

    /// Every event of a backend in `state` (e.g. `Pending` after a crash), oldest first.
    pub async fn in_state(&self, backend: &str, state: EventState) -> Result<Vec<SentEvent>, StoreError> {
        let backend = backend.to_owned();
        self.0
            .call(move |c| {
                let sql = format!("SELECT {COLUMNS} FROM sent_events WHERE backend = ?1 AND state = ?2 ORDER BY id");
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(params![backend, state.as_str()])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(from_row(r)?);
                }
                Ok(out)
            })
            .await
    }
}
