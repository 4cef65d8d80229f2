//! Pure part of the order follow-up: what happened to one imported order in OpenERP, turned
//! into the list of events to send to Magento, in the order they must be sent.
//!
//! Input: the order's state, its posted customer invoices with their lines, its outgoing
//! deliveries with their done moves and tracking reference ([`OrderDocs`]), the line → Magento
//! item links of the order binding ([`LineLink`]) and the status mapping of the backend.
//! Output: [`Event`]s with a stable key each (what the state store remembers as sent).
//!
//! This module does no I/O and knows nothing of the state store's rows beyond
//! [`classify_prior`]; the driver decides what to send from it.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::magento::types::{ItemQuantities, OrderComment, Track};
use crate::openerp::models::settings::{OrderEvent, StatusMapping};
use crate::store::{EventKind, EventState, SentEvent};

/// Documents created (invoices) or validated (deliveries) more than this long before the order
/// binding was written happened before the import: they are recorded as done, never sent. The
/// margin covers clock skew between OpenERP and the connector and an import that wrote its
/// binding a while after creating the order.
pub const IMPORT_MARGIN_MINUTES: i64 = 60;

/// Key of the per-order row (kind [`EventKind::Status`], state `done`) whose message holds the
/// fingerprint of the OpenERP documents last processed.
pub const FINGERPRINT_KEY: &str = "fingerprint";

/// Message of an event written `pending` just before its Magento call: found again on a later
/// run, it means the process stopped mid-call and Magento must be checked before resending.
pub const IN_FLIGHT: &str = "sending to Magento";

/// Prefix of the message of a `pending` event whose last call may have reached Magento
/// (timeout, connection lost, unreadable answer): checked in Magento before resending.
pub const UNCONFIRMED: &str = "unconfirmed: ";

/// Carrier code used when the OpenERP carrier has no known Magento equivalent.
pub const CUSTOM_CARRIER: &str = "custom";

/// How one OpenERP order line maps to a Magento order item (from the order binding's
/// `extra.lines`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineLink {
    /// `sale.order.line` id.
    pub line_id: i64,
    /// Magento order item id to invoice and ship (the parent item for configurables).
    pub item_id: i64,
    /// SKU, when the import recorded it.
    pub sku: Option<String>,
    /// Ordered quantity, when the import recorded it.
    pub qty: Option<Decimal>,
}

/// Reads `extra.lines` of an order binding. Every entry needs integer `line_id` and `item_id`;
/// `sku` and `qty` are optional. The error names the entry and field.
pub fn line_links(extra: &serde_json::Value) -> Result<Vec<LineLink>, String> {
    let lines = extra
        .get("lines")
        .ok_or("the order binding has no `lines` (links from OpenERP lines to Magento items)")?
        .as_array()
        .ok_or("the order binding's `lines` is not a list")?;
    let int = |i: usize, e: &serde_json::Value, f: &str| -> Result<i64, String> {
        match e.get(f) {
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("the order binding's lines[{i}].{f} is not a positive integer"))
    };
    let mut out = Vec::with_capacity(lines.len());
    for (i, e) in lines.iter().enumerate() {
        let qty = match e.get("qty") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Number(n)) => Some(Decimal::from_str(&n.to_string())),
            Some(serde_json::Value::String(s)) => Some(Decimal::from_str(s.trim())),
            Some(_) => Some(Decimal::from_str("")),
        }
        .transpose()
        .map_err(|_| format!("the order binding's lines[{i}].qty is not a number"))?;
        out.push(LineLink {
            line_id: int(i, e, "line_id")?,
            item_id: int(i, e, "item_id")?,
            sku: e.get("sku").and_then(|s| s.as_str()).map(str::to_owned),
            qty,
        });
    }
    if out.is_empty() {
        return Err("the order binding links no OpenERP line to a Magento item".into());
    }
    Ok(out)
}

/// A quantity on a document line and the sale order lines it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QtyLine {
    /// `sale.order.line` ids (an invoice line may name several; a move names one).
    pub sale_line_ids: Vec<i64>,
    /// Quantity invoiced or delivered.
    pub qty: Decimal,
}

/// A posted customer invoice of the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDoc {
    /// `account.move` id.
    pub id: i64,
    /// Number (`INV/2026/00001`).
    pub name: String,
    /// Created in OpenERP.
    pub created: Option<DateTime<Utc>>,
    /// Product lines.
    pub lines: Vec<QtyLine>,
}

/// An outgoing delivery of the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickingDoc {
    /// `stock.picking` id.
    pub id: i64,
    /// Reference (`WH/OUT/00012`).
    pub name: String,
    /// `draft` … `done`, `cancel`.
    pub state: String,
    /// Validated at.
    pub date_done: Option<DateTime<Utc>>,
    /// Carrier tracking reference (one or several numbers).
    pub tracking_ref: Option<String>,
    /// Carrier name.
    pub carrier: Option<String>,
    /// Done moves.
    pub moves: Vec<QtyLine>,
}

impl PickingDoc {
    fn is_open(&self) -> bool {
        !matches!(self.state.as_str(), "done" | "cancel")
    }
}

/// What the follow-up knows of one order in OpenERP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDocs {
    /// `sale.order` id.
    pub order_id: i64,
    /// Number (`S00025`).
    pub name: String,
    /// `draft`, `sent`, `sale`, `done`, `cancel`.
    pub state: String,
    /// Posted customer invoices.
    pub invoices: Vec<InvoiceDoc>,
    /// Outgoing deliveries, any state.
    pub pickings: Vec<PickingDoc>,
}

/// What to do in Magento for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `add_order_comment` for a mapped event.
    Comment {
        /// The OpenERP event.
        event: OrderEvent,
        /// Status, text and notification.
        comment: OrderComment,
    },
    /// `create_invoice` with these quantities.
    Invoice {
        /// `account.move` id.
        invoice_id: i64,
        /// Invoice number.
        name: String,
        /// Quantities per Magento item.
        items: ItemQuantities,
    },
    /// `create_shipment` with these quantities.
    Shipment {
        /// `stock.picking` id.
        picking_id: i64,
        /// Delivery reference.
        name: String,
        /// Quantities per Magento item.
        items: ItemQuantities,
    },
    /// `add_track` on the shipment of a delivery.
    Track {
        /// `stock.picking` id.
        picking_id: i64,
        /// The tracking number.
        track: Track,
    },
    /// `cancel_order`.
    Cancel,
}

/// One thing to tell Magento about an order, identified by `(kind, key)` in the state store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Kind in the state store.
    pub kind: EventKind,
    /// Key within the order (`confirmed`, `invoice:7`, `picking:25:track:1Z99`, ...).
    pub key: String,
    /// What to send.
    pub action: Action,
    /// Key of the event that must be in Magento first (the document of a status comment or of
    /// a tracking number).
    pub after: Option<String>,
    /// Why nothing is sent for this event (recorded as done once).
    pub noop: Option<String>,
}

impl Event {
    /// Kind of report record (`status`, `invoice`, `shipment`, `track`, `cancel`).
    pub fn record_kind(&self) -> &'static str {
        match self.action {
            Action::Comment { .. } => "status",
            Action::Invoice { .. } => "invoice",
            Action::Shipment { .. } => "shipment",
            Action::Track { .. } => "track",
            Action::Cancel => "cancel",
        }
    }

    /// OpenERP id of the document, if any.
    pub fn openerp_id(&self) -> Option<i64> {
        match &self.action {
            Action::Invoice { invoice_id, .. } => Some(*invoice_id),
            Action::Shipment { picking_id, .. } | Action::Track { picking_id, .. } => Some(*picking_id),
            Action::Comment { .. } | Action::Cancel => None,
        }
    }

    /// What the event is, in words.
    pub fn describe(&self) -> String {
        match &self.action {
            Action::Comment { event, comment } => {
                let status = comment.status.as_deref().map(|s| format!(" with status {s:?}")).unwrap_or_default();
                format!("{} comment{status}", event_name(*event))
            }
            Action::Invoice { name, items, .. } => format!("invoice {name} ({})", describe_items(items)),
            Action::Shipment { name, items, .. } => format!("delivery {name} ({})", describe_items(items)),
            Action::Track { track, .. } => format!("tracking number {} ({})", track.number, track.carrier_code),
            Action::Cancel => "cancellation".into(),
        }
    }
}

/// `item #12 × 1, item #13 × 3`.
pub fn describe_items(items: &ItemQuantities) -> String {
    if items.is_empty() {
        return "no item".into();
    }
    items.iter().map(|(id, q)| format!("item #{id} × {}", q.normalize())).collect::<Vec<_>>().join(", ")
}

/// The addon's name of an event (`confirmed`, `partially_shipped`, ...).
pub fn event_name(e: OrderEvent) -> &'static str {
    match e {
        OrderEvent::Confirmed => "confirmed",
        OrderEvent::Invoiced => "invoiced",
        OrderEvent::Shipped => "shipped",
        OrderEvent::PartiallyShipped => "partially_shipped",
        OrderEvent::Cancelled => "cancelled",
    }
}

/// What [`detect`] needs besides the documents.
#[derive(Debug, Clone, Copy)]
pub struct DetectContext<'a> {
    /// Line → item links of the order binding.
    pub links: &'a [LineLink],
    /// When the order binding was written.
    pub imported_at: DateTime<Utc>,
    /// The backend's status mapping.
    pub mappings: &'a [StatusMapping],
}

/// Every follow-up event of an order, in sending order: confirmed → invoices (each followed by
/// its status comment) → deliveries (shipment, its tracking numbers, its status comment) →
/// cancellation and its comment.
pub fn detect(docs: &OrderDocs, cx: &DetectContext<'_>) -> Vec<Event> {
    let mut out = Vec::new();
    let cutoff = cx.imported_at - Duration::minutes(IMPORT_MARGIN_MINUTES);
    let before_import = |at: Option<DateTime<Utc>>| {
        at.filter(|t| *t < cutoff).map(|t| {
            format!(
                "happened in OpenERP on {} UTC, before the order was imported: not sent",
                t.format("%Y-%m-%d %H:%M:%S")
            )
        })
    };
    let confirmed = matches!(docs.state.as_str(), "sale" | "done");
    if confirmed {
        out.push(comment_event(cx, docs, OrderEvent::Confirmed, "confirmed".into(), None, &docs.name, &[], None));
    }

    let mut invoices: Vec<&InvoiceDoc> = docs.invoices.iter().collect();
    invoices.sort_by_key(|i| i.id);
    for inv in invoices {
        let items = item_quantities(&inv.lines, cx.links);
        let noop = before_import(inv.created).or_else(|| {
            items.is_empty().then(|| {
                "no line of this invoice is linked to a Magento order item (shipping, down payment or a line \
                 added in OpenERP): nothing to invoice in Magento"
                    .to_owned()
            })
        });
        let key = format!("invoice:{}", inv.id);
        out.push(Event {
            kind: EventKind::Invoice,
            key: key.clone(),
            action: Action::Invoice { invoice_id: inv.id, name: inv.name.clone(), items },
            after: None,
            noop: noop.clone(),
        });
        let ckey = format!("invoiced:{}", inv.id);
        out.push(comment_event(cx, docs, OrderEvent::Invoiced, ckey, Some(key), &inv.name, &[], noop.as_deref()));
    }

    let mut done: Vec<&PickingDoc> = docs.pickings.iter().filter(|p| p.state == "done").collect();
    done.sort_by_key(|p| (p.date_done, p.id));
    let any_open = docs.pickings.iter().any(PickingDoc::is_open);
    for (i, p) in done.iter().enumerate() {
        let items = item_quantities(&p.moves, cx.links);
        let noop = before_import(p.date_done).or_else(|| {
            items.is_empty().then(|| {
                "no delivered product of this delivery is linked to a Magento order item: nothing to ship in Magento"
                    .to_owned()
            })
        });
        let key = format!("picking:{}", p.id);
        out.push(Event {
            kind: EventKind::Shipment,
            key: key.clone(),
            action: Action::Shipment { picking_id: p.id, name: p.name.clone(), items },
            after: None,
            noop: noop.clone(),
        });
        let numbers = p.tracking_ref.as_deref().map(tracking_numbers).unwrap_or_default();
        for number in &numbers {
            out.push(Event {
                kind: EventKind::Shipment,
                key: format!("picking:{}:track:{number}", p.id),
                action: Action::Track {
                    picking_id: p.id,
                    track: Track {
                        carrier_code: carrier_code(p.carrier.as_deref()).to_owned(),
                        title: p.carrier.clone().filter(|c| !c.trim().is_empty()).unwrap_or_else(|| "Tracking".into()),
                        number: number.clone(),
                    },
                },
                after: Some(key.clone()),
                noop: noop.clone(),
            });
        }
        let everything = !any_open && i + 1 == done.len();
        let event = if everything { OrderEvent::Shipped } else { OrderEvent::PartiallyShipped };
        let ckey = format!("shipped:{}", p.id);
        out.push(comment_event(cx, docs, event, ckey, Some(key), &p.name, &numbers, noop.as_deref()));
    }

    if docs.state == "cancel" {
        out.push(Event {
            kind: EventKind::Cancel,
            key: "cancel".into(),
            action: Action::Cancel,
            after: None,
            noop: None,
        });
        out.push(comment_event(
            cx,
            docs,
            OrderEvent::Cancelled,
            "cancelled".into(),
            Some("cancel".into()),
            &docs.name,
            &[],
            None,
        ));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn comment_event(
    cx: &DetectContext<'_>,
    docs: &OrderDocs,
    event: OrderEvent,
    key: String,
    after: Option<String>,
    document: &str,
    tracking: &[String],
    document_noop: Option<&str>,
) -> Event {
    let mapping = cx.mappings.iter().find(|m| m.event == event);
    let comment = mapping
        .map(|m| OrderComment {
            status: m.magento_status.clone(),
            comment: m.comment.as_deref().map(|t| render(t, &docs.name, document, tracking)).unwrap_or_default(),
            notify: m.notify,
        })
        .unwrap_or_default();
    let noop = match (document_noop, mapping) {
        (Some(_), _) => Some("its document was not sent to Magento: no comment either".to_owned()),
        (None, None) => {
            Some(format!("no status mapping for {:?} in the backend settings: no comment sent", event_name(event)))
        }
        (None, Some(m)) if m.magento_status.is_none() && m.comment.is_none() => {
            Some(format!("the status mapping of {:?} sets neither a status nor a comment", event_name(event)))
        }
        (None, Some(_)) => None,
    };
    Event { kind: EventKind::Status, key, action: Action::Comment { event, comment }, after, noop }
}

/// Fills a comment template: `{name}` is the OpenERP order number, `{document}` the invoice
/// or delivery reference (the order number for order-level events), `{tracking}` the tracking
/// numbers, comma-separated.
pub fn render(template: &str, order_name: &str, document: &str, tracking: &[String]) -> String {
    template.replace("{name}", order_name).replace("{document}", document).replace("{tracking}", &tracking.join(", "))
}

/// Quantities per Magento item of document lines, through the binding's links (lines of other
/// orders, shipping and unlinked lines are left out; items whose total is not positive too).
pub fn item_quantities(lines: &[QtyLine], links: &[LineLink]) -> ItemQuantities {
    let by_line: BTreeMap<i64, i64> = links.iter().map(|l| (l.line_id, l.item_id)).collect();
    let mut out = ItemQuantities::new();
    for l in lines {
        if let Some(item) = l.sale_line_ids.iter().find_map(|id| by_line.get(id)) {
            *out.entry(*item).or_insert(Decimal::ZERO) += l.qty;
        }
    }
    out.retain(|_, q| *q > Decimal::ZERO);
    for q in out.values_mut() {
        *q = q.normalize();
    }
    out
}

/// Tracking numbers of a carrier reference: several numbers may be separated by commas,
/// semicolons or line breaks (spaces are kept: some carriers print numbers with spaces).
/// Duplicates are dropped, the order is kept.
pub fn tracking_numbers(reference: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in reference.split([',', ';', '\n', '\r']).map(str::trim).filter(|n| !n.is_empty()) {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_owned());
        }
    }
    out
}

/// Magento carrier code for an OpenERP carrier name: `ups`, `usps`, `fedex`, `dhlint` when the
/// name says so, `custom` otherwise (Magento accepts any title with `custom`).
pub fn carrier_code(name: Option<&str>) -> &'static str {
    let Some(n) = name.map(str::to_lowercase) else {
        return CUSTOM_CARRIER;
    };
    let words: Vec<&str> = n.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    if words.contains(&"usps") || n.contains("postal service") {
        "usps"
    } else if words.contains(&"fedex") || n.contains("federal express") {
        "fedex"
    } else if words.contains(&"ups") || n.contains("united parcel") {
        "ups"
    } else if words.contains(&"dhl") {
        "dhlint"
    } else {
        CUSTOM_CARRIER
    }
}

/// Fingerprint of what the follow-up looks at (state, posted invoices, deliveries with their
/// state and tracking reference); `None` for an order that no longer exists. An order whose
/// fingerprint did not change and that has no pending event is skipped without any call.
pub fn fingerprint(docs: Option<&OrderDocs>) -> String {
    let mut text = String::from("followup-v1|");
    match docs {
        None => text.push_str("missing"),
        Some(d) => {
            text.push_str(&d.state);
            let mut inv: Vec<i64> = d.invoices.iter().map(|i| i.id).collect();
            inv.sort_unstable();
            text.push_str(&format!("|i:{inv:?}|p:"));
            let mut picks: Vec<&PickingDoc> = d.pickings.iter().collect();
            picks.sort_by_key(|p| p.id);
            for p in picks {
                text.push_str(&format!("{}={}:{:?};", p.id, p.state, p.tracking_ref));
            }
        }
    }
    let digest = Sha256::digest(text.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Where an event stands, from its stored row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prior {
    /// Never attempted.
    New,
    /// Sent or done: nothing more to do.
    Finished,
    /// Magento refused the last attempt (nothing was applied): send again.
    Retry,
    /// The last attempt may have reached Magento: check Magento before sending again.
    Uncertain,
}

/// Classifies a stored event row.
pub fn classify_prior(row: Option<&SentEvent>) -> Prior {
    match row {
        None => Prior::New,
        Some(r) if matches!(r.state, EventState::Sent | EventState::Done) => Prior::Finished,
        Some(r) if r.message == IN_FLIGHT || r.message.starts_with(UNCONFIRMED) => Prior::Uncertain,
        Some(_) => Prior::Retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn links() -> Vec<LineLink> {
        vec![
            LineLink { line_id: 11, item_id: 101, sku: Some("A".into()), qty: Some(d("1")) },
            LineLink { line_id: 12, item_id: 102, sku: Some("B".into()), qty: Some(d("3")) },
        ]
    }

    fn mappings() -> Vec<StatusMapping> {
        let m = |id, event, status: Option<&str>, comment: Option<&str>, notify| StatusMapping {
            id,
            event,
            magento_status: status.map(str::to_owned),
            comment: comment.map(str::to_owned),
            notify,
        };
        vec![
            m(1, OrderEvent::Confirmed, Some("processing"), Some("Confirmed as {name}."), false),
            m(2, OrderEvent::Invoiced, None, Some("Invoice {document} of {name}."), false),
            m(3, OrderEvent::Shipped, Some("complete"), Some("Shipped: {tracking}"), true),
            m(4, OrderEvent::PartiallyShipped, Some("processing"), Some("Part shipped {document}"), true),
        ]
    }

    fn t(h: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-03-01T{h:02}:00:00Z")).unwrap().with_timezone(&Utc)
    }

    fn picking(
        id: i64,
        state: &str,
        done_at: Option<u32>,
        tracking: Option<&str>,
        moves: &[(i64, &str)],
    ) -> PickingDoc {
        PickingDoc {
            id,
            name: format!("WH/OUT/{id:05}"),
            state: state.into(),
            date_done: done_at.map(t),
            tracking_ref: tracking.map(str::to_owned),
            carrier: None,
            moves: moves.iter().map(|(l, q)| QtyLine { sale_line_ids: vec![*l], qty: d(q) }).collect(),
        }
    }

    fn order(state: &str) -> OrderDocs {
        OrderDocs { order_id: 5, name: "S00005".into(), state: state.into(), invoices: vec![], pickings: vec![] }
    }

    fn keys(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.key.as_str()).collect()
    }

    #[test]
    fn links_are_read_from_the_binding_and_errors_name_the_entry() {
        let extra = serde_json::json!({"lines": [
            {"line_id": 11, "item_id": 101, "sku": "A", "qty": 1},
            {"line_id": "12", "item_id": 102, "qty": "2.5"},
        ], "state": "sale"});
        let l = line_links(&extra).unwrap();
        assert_eq!(l[1], LineLink { line_id: 12, item_id: 102, sku: None, qty: Some(d("2.5")) });
        let bad = serde_json::json!({"lines": [{"line_id": 11, "item_id": 101}, {"line_id": 12}]});
        assert_eq!(line_links(&bad).unwrap_err(), "the order binding's lines[1].item_id is not a positive integer");
        assert!(line_links(&serde_json::json!({})).unwrap_err().contains("no `lines`"));
        assert!(line_links(&serde_json::json!({"lines": []})).unwrap_err().contains("links no"));
        let bad_qty = serde_json::json!({"lines": [{"line_id": 1, "item_id": 2, "qty": [1]}]});
        assert!(line_links(&bad_qty).unwrap_err().contains("lines[0].qty"));
    }

    #[test]
    fn full_lifecycle_in_sending_order() {
        let mut o = order("cancel");
        o.invoices = vec![
            InvoiceDoc {
                id: 8,
                name: "INV/2".into(),
                created: Some(t(10)),
                lines: vec![QtyLine { sale_line_ids: vec![12], qty: d("1") }],
            },
            InvoiceDoc {
                id: 7,
                name: "INV/1".into(),
                created: Some(t(10)),
                lines: vec![
                    QtyLine { sale_line_ids: vec![11], qty: d("1") },
                    QtyLine { sale_line_ids: vec![12], qty: d("2.000") },
                    QtyLine { sale_line_ids: vec![99], qty: d("1") },
                ],
            },
        ];
        o.pickings = vec![
            picking(31, "done", Some(12), Some("1Z1, 1Z2 ;1Z1"), &[(12, "1")]),
            picking(30, "done", Some(11), None, &[(11, "1"), (12, "2")]),
        ];
        let maps = mappings();
        let cx = DetectContext { links: &links(), imported_at: t(9), mappings: &maps };
        let ev = detect(&o, &cx);
        assert_eq!(
            keys(&ev),
            [
                "invoice:7",
                "invoiced:7",
                "invoice:8",
                "invoiced:8",
                "picking:30",
                "shipped:30",
                "picking:31",
                "picking:31:track:1Z1",
                "picking:31:track:1Z2",
                "shipped:31",
                "cancel",
                "cancelled"
            ],
            "a cancelled order sends no confirmation"
        );
        let Action::Invoice { items, .. } = &ev[0].action else { panic!() };
        assert_eq!(items, &ItemQuantities::from([(101, d("1")), (102, d("2"))]), "line 99 is not linked");
        let Action::Comment { comment, .. } = &ev[1].action else { panic!() };
        assert_eq!(comment.comment, "Invoice INV/1 of S00005.");
        assert_eq!(comment.status, None);
        assert_eq!(ev[1].after.as_deref(), Some("invoice:7"));
        let Action::Comment { event, .. } = &ev[5].action else { panic!() };
        assert_eq!(*event, OrderEvent::PartiallyShipped, "a later delivery exists");
        let Action::Comment { event, comment } = &ev[9].action else { panic!() };
        assert_eq!(*event, OrderEvent::Shipped);
        assert_eq!(comment.comment, "Shipped: 1Z1, 1Z2");
        assert!(comment.notify);
        assert_eq!(ev[7].after.as_deref(), Some("picking:31"));
        assert_eq!(ev[10].noop, None);
        assert!(ev[11].noop.as_deref().unwrap().contains("no status mapping for \"cancelled\""));
    }

    #[test]
    fn open_deliveries_make_a_shipment_partial_and_confirmation_comes_first() {
        let mut o = order("sale");
        o.pickings = vec![picking(30, "done", Some(11), None, &[(11, "1")]), picking(31, "assigned", None, None, &[])];
        let maps = mappings();
        let cx = DetectContext { links: &links(), imported_at: t(9), mappings: &maps };
        let ev = detect(&o, &cx);
        assert_eq!(keys(&ev), ["confirmed", "picking:30", "shipped:30"]);
        let Action::Comment { comment, .. } = &ev[0].action else { panic!() };
        assert_eq!(
            comment,
            &OrderComment { status: Some("processing".into()), comment: "Confirmed as S00005.".into(), notify: false }
        );
        let Action::Comment { event, comment } = &ev[2].action else { panic!() };
        assert_eq!((*event, comment.comment.as_str()), (OrderEvent::PartiallyShipped, "Part shipped WH/OUT/00030"));
    }

    #[test]
    fn documents_before_the_import_or_without_magento_items_are_noops_with_their_comments() {
        let mut o = order("sale");
        o.invoices = vec![
            InvoiceDoc {
                id: 7,
                name: "INV/1".into(),
                created: Some(t(7)),
                lines: vec![QtyLine { sale_line_ids: vec![11], qty: d("1") }],
            },
            InvoiceDoc {
                id: 9,
                name: "INV/3".into(),
                created: Some(t(8) + Duration::minutes(30)),
                lines: vec![QtyLine { sale_line_ids: vec![99], qty: d("1") }],
            },
        ];
        o.pickings = vec![picking(30, "done", Some(7), Some("X1"), &[(11, "1")])];
        let maps = mappings();
        let cx = DetectContext { links: &links(), imported_at: t(9), mappings: &maps };
        let ev = detect(&o, &cx);
        assert!(ev[1].noop.as_deref().unwrap().contains("before the order was imported"), "{:?}", ev[1].noop);
        assert!(ev[2].noop.is_some(), "the comment of a document not sent is not sent either");
        assert!(ev[3].noop.as_deref().unwrap().contains("Magento order item"), "within the margin, but no item");
        assert!(ev[4].noop.is_some());
        assert!(ev[5].noop.as_deref().unwrap().contains("before the order was imported"));
        assert_eq!(keys(&ev)[6], "picking:30:track:X1");
        assert!(ev[6].noop.is_some() && ev[7].noop.is_some(), "tracks and comment follow their delivery");
        assert_eq!(ev[0].noop, None);
    }

    #[test]
    fn quantities_tracking_and_carriers() {
        let l = links();
        let lines = vec![
            QtyLine { sale_line_ids: vec![11], qty: d("1") },
            QtyLine { sale_line_ids: vec![11], qty: d("-1") },
            QtyLine { sale_line_ids: vec![50, 12], qty: d("1.50") },
        ];
        assert_eq!(item_quantities(&lines, &l), ItemQuantities::from([(102, d("1.5"))]));
        assert_eq!(tracking_numbers(" 1Z1,1Z2\n1Z3; ;1Z1"), ["1Z1", "1Z2", "1Z3"]);
        assert_eq!(tracking_numbers("JJD 0000 1234"), ["JJD 0000 1234"]);
        assert!(tracking_numbers(" , ").is_empty());
        assert_eq!(carrier_code(Some("UPS Ground")), "ups");
        assert_eq!(carrier_code(Some("USPS Priority")), "usps");
        assert_eq!(carrier_code(Some("FedEx")), "fedex");
        assert_eq!(carrier_code(Some("DHL Express")), "dhlint");
        assert_eq!(carrier_code(Some("Groups Delivery")), "custom", "`ups` inside a word is not UPS");
        assert_eq!(carrier_code(None), "custom");
        assert_eq!(describe_items(&ItemQuantities::from([(3, d("2.000"))])), "item #3 × 2");
    }

    #[test]
    fn fingerprint_follows_state_documents_and_tracking() {
        let mut o = order("sale");
        o.pickings = vec![picking(30, "assigned", None, None, &[])];
        let a = fingerprint(Some(&o));
        assert_eq!(a, fingerprint(Some(&o.clone())));
        o.pickings[0].moves.push(QtyLine { sale_line_ids: vec![1], qty: d("1") });
        assert_eq!(a, fingerprint(Some(&o)), "details do not count, only headers");
        o.pickings[0].state = "done".into();
        let b = fingerprint(Some(&o));
        assert_ne!(a, b);
        o.pickings[0].tracking_ref = Some("1Z".into());
        assert_ne!(b, fingerprint(Some(&o)));
        assert_ne!(fingerprint(None), a);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn prior_of_stored_rows() {
        let row = |state, message: &str| SentEvent {
            backend: "b".into(),
            increment_id: "1".into(),
            kind: EventKind::Invoice,
            key: "invoice:1".into(),
            state,
            magento_ref: None,
            message: message.into(),
            at: Utc::now(),
        };
        assert_eq!(classify_prior(None), Prior::New);
        assert_eq!(classify_prior(Some(&row(EventState::Sent, ""))), Prior::Finished);
        assert_eq!(classify_prior(Some(&row(EventState::Done, ""))), Prior::Finished);
        assert_eq!(classify_prior(Some(&row(EventState::Pending, IN_FLIGHT))), Prior::Uncertain);
        assert_eq!(classify_prior(Some(&row(EventState::Pending, "unconfirmed: timeout"))), Prior::Uncertain);
        assert_eq!(classify_prior(Some(&row(EventState::Pending, "refused: fault 1"))), Prior::Retry);
    }
}
