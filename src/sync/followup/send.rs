//! Magento side of the order follow-up: one call (or two, for a carrier code Magento does not
//! know) per event, and what a refusal means.
//!
//! A refusal of an invoice, shipment or cancellation is checked against the order as Magento
//! has it: nothing left to invoice or ship, or already canceled, means the event is already
//! done there (recorded as done, never retried); a canceled or closed order cannot take an
//! invoice or shipment any more (done, reported as failed once); anything else stays pending
//! with Magento's reason and is retried on the next run.
//!
//! The pure parts ([`MagentoView`], [`resolve_document`], [`resolve_cancel`], the `*_present`
//! checks) are apart from the calls. This module never touches OpenERP or the state store.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::detect::{Action, CUSTOM_CARRIER};
use crate::magento::types::{InvoiceRequest, ItemQuantities, Order, OrderComment, ShipmentRequest, Track};
use crate::magento::{ErrorKind, MagentoApi, MagentoError};

/// Quantities of one Magento order item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ItemState {
    /// Invoiced so far.
    pub invoiced: Decimal,
    /// Shipped so far.
    pub shipped: Decimal,
    /// Still invoiceable.
    pub to_invoice: Decimal,
    /// Still shippable.
    pub to_ship: Decimal,
}

/// What the follow-up needs to know of an order as Magento has it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MagentoView {
    /// State (`new`, `processing`, `complete`, `canceled`, `closed`, `holded`, ...).
    pub state: String,
    /// Status.
    pub status: String,
    /// Parent-level items (child rows of configurables follow their parent).
    pub items: BTreeMap<i64, ItemState>,
    /// Comments of the status history.
    pub comments: Vec<String>,
}

impl MagentoView {
    /// The view of a full order.
    pub fn of(o: &Order) -> MagentoView {
        let items = o
            .items
            .iter()
            .filter(|i| i.parent_item_id.is_none())
            .map(|i| {
                let left = |done: Decimal| (i.qty_ordered - done - i.qty_canceled).max(Decimal::ZERO);
                let st = ItemState {
                    invoiced: i.qty_invoiced,
                    shipped: i.qty_shipped,
                    to_invoice: left(i.qty_invoiced),
                    to_ship: if i.is_virtual { Decimal::ZERO } else { left(i.qty_shipped) },
                };
                (i.item_id, st)
            })
            .collect();
        MagentoView {
            state: o.state.clone(),
            status: o.status.clone(),
            items,
            comments: o.status_history.iter().filter_map(|h| h.comment.clone()).collect(),
        }
    }
}

/// Which document a refusal concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// An invoice.
    Invoice,
    /// A shipment.
    Shipment,
}

/// What a refusal turned out to mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Magento already has it.
    AlreadyDone(String),
    /// It can never be done in Magento.
    Impossible(String),
    /// A real refusal: keep the event pending (the text adds context to Magento's reason).
    Retry(Option<String>),
}

/// Meaning of a refused invoice or shipment of `items`, given the order as Magento has it now.
pub fn resolve_document(doc: Document, view: &MagentoView, items: &ItemQuantities) -> Resolution {
    let (what, verb) = match doc {
        Document::Invoice => ("invoice", "invoiced"),
        Document::Shipment => ("shipment", "shipped"),
    };
    let left = |item: &i64| {
        view.items.get(item).map_or(Decimal::ZERO, |s| match doc {
            Document::Invoice => s.to_invoice,
            Document::Shipment => s.to_ship,
        })
    };
    let unknown: Vec<String> = items.keys().filter(|i| !view.items.contains_key(i)).map(|i| format!("#{i}")).collect();
    if !unknown.is_empty() {
        return Resolution::Retry(Some(format!(
            "the Magento order has no item {} (check the line links of the order binding)",
            unknown.join(", ")
        )));
    }
    if items.keys().all(|i| left(i).is_zero()) {
        return Resolution::AlreadyDone(format!("already {verb} in Magento (nothing left to {what} on these items)"));
    }
    if matches!(view.state.as_str(), "canceled" | "closed") {
        return Resolution::Impossible(format!(
            "the Magento order is {}: the {what} cannot be created there any more; nothing more will be tried",
            view.state
        ));
    }
    let short: Vec<String> = items
        .iter()
        .filter(|(i, q)| left(i) < **q)
        .map(|(i, q)| format!("item #{i}: {} asked, {} left", q.normalize(), left(i).normalize()))
        .collect();
    let mut notes = Vec::new();
    if matches!(view.state.as_str(), "holded" | "payment_review") {
        notes.push(format!("the Magento order is {}", view.state));
    }
    if !short.is_empty() {
        notes.push(format!("Magento has less left to {what} ({})", short.join("; ")));
    }
    Resolution::Retry(if notes.is_empty() { None } else { Some(notes.join("; ")) })
}

/// Meaning of a refused cancellation.
pub fn resolve_cancel(view: &MagentoView) -> Resolution {
    if view.state == "canceled" {
        Resolution::AlreadyDone("already canceled in Magento".into())
    } else {
        Resolution::Retry(Some(format!(
            "Magento cannot cancel the order in state {:?} (status {:?})",
            view.state, view.status
        )))
    }
}

/// True when Magento has at least `expected` invoiced (or shipped) on every item.
pub fn quantities_present(doc: Document, view: &MagentoView, expected: &ItemQuantities) -> bool {
    expected.iter().all(|(item, q)| {
        view.items.get(item).is_some_and(|s| match doc {
            Document::Invoice => s.invoiced >= *q,
            Document::Shipment => s.shipped >= *q,
        })
    })
}

/// True when the comment (or, without text, the status) is on the order.
pub fn comment_present(view: &MagentoView, c: &OrderComment) -> bool {
    if c.comment.is_empty() {
        c.status.as_deref().is_some_and(|s| s == view.status)
    } else {
        view.comments.iter().any(|h| h == &c.comment)
    }
}

/// A successful send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Magento created a document (invoice or shipment increment id, track id).
    Created(String),
    /// Magento applied it (comment, cancellation).
    Applied,
    /// Magento already had it.
    AlreadyDone(String),
    /// A call that may have gone through did (with the Magento number when known).
    Found(Option<String>),
    /// It can never be done in Magento.
    Impossible(String),
}

/// A failed send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Why, with Magento's reason.
    pub message: String,
    /// The call may have reached Magento (check before resending).
    pub uncertain: bool,
    /// Bad credentials or missing rights: the run cannot go on.
    pub auth: bool,
    /// Magento answered (with a fault): the call is over on its side.
    pub answered: bool,
}

impl Failure {
    fn of(e: &MagentoError, note: Option<String>) -> Failure {
        let message = match note {
            Some(n) => format!("{e}; {n}"),
            None => e.to_string(),
        };
        Failure {
            message,
            uncertain: matches!(e.kind, ErrorKind::Retryable | ErrorKind::Protocol),
            auth: e.is_auth(),
            answered: e.fault_code.is_some(),
        }
    }
}

/// Comment put on the Magento invoice, naming the OpenERP invoice.
pub fn invoice_note(name: &str) -> String {
    format!("OpenERP invoice {name}")
}

/// Comment put on the Magento shipment, naming the OpenERP delivery.
pub fn shipment_note(name: &str) -> String {
    format!("OpenERP delivery {name}")
}

/// Sends one event of order `increment_id`. `shipment` is the Magento shipment increment id a
/// tracking number goes to.
pub async fn send(
    m: &dyn MagentoApi,
    increment_id: &str,
    action: &Action,
    shipment: Option<&str>,
) -> Result<Sent, Failure> {
    match action {
        Action::Comment { comment, .. } => {
            m.add_order_comment(increment_id, comment).await.map(|()| Sent::Applied).map_err(|e| Failure::of(&e, None))
        }
        Action::Invoice { name, items, .. } => {
            let req = InvoiceRequest { items: items.clone(), comment: Some(invoice_note(name)), ..Default::default() };
            match m.create_invoice(increment_id, &req).await {
                Ok(r) => Ok(Sent::Created(r)),
                Err(e) => settle(m, increment_id, e, |v| resolve_document(Document::Invoice, v, items)).await,
            }
        }
        Action::Shipment { name, items, .. } => {
            let req =
                ShipmentRequest { items: items.clone(), comment: Some(shipment_note(name)), ..Default::default() };
            match m.create_shipment(increment_id, &req).await {
                Ok(r) => Ok(Sent::Created(r)),
                Err(e) => settle(m, increment_id, e, |v| resolve_document(Document::Shipment, v, items)).await,
            }
        }
        Action::Track { track, .. } => {
            let Some(shipment) = shipment else {
                return Err(Failure {
                    message: "the Magento shipment of this delivery is not known".into(),
                    uncertain: false,
                    auth: false,
                    answered: false,
                });
            };
            match m.add_track(shipment, track).await {
                Ok(id) => Ok(Sent::Created(id.to_string())),
                Err(e) if unknown_carrier(&e, track) => {
                    let custom = Track { carrier_code: CUSTOM_CARRIER.into(), ..track.clone() };
                    tracing::info!(carrier = %track.carrier_code, "Magento does not know the carrier; using custom");
                    m.add_track(shipment, &custom)
                        .await
                        .map(|id| Sent::Created(id.to_string()))
                        .map_err(|e| Failure::of(&e, None))
                }
                Err(e) => Err(Failure::of(&e, None)),
            }
        }
        Action::Cancel => match m.cancel_order(increment_id).await {
            Ok(()) => Ok(Sent::Applied),
            Err(e) => settle(m, increment_id, e, resolve_cancel).await,
        },
    }
}

fn unknown_carrier(e: &MagentoError, track: &Track) -> bool {
    e.kind == ErrorKind::Refused
        && track.carrier_code != CUSTOM_CARRIER
        && e.message.to_ascii_lowercase().contains("carrier")
}

/// Reads the order after a refusal and decides what the refusal meant.
async fn settle(
    m: &dyn MagentoApi,
    increment_id: &str,
    e: MagentoError,
    resolve: impl Fn(&MagentoView) -> Resolution,
) -> Result<Sent, Failure> {
    if e.kind != ErrorKind::Refused {
        return Err(Failure::of(&e, None));
    }
    match m.order(increment_id).await {
        Ok(o) => match resolve(&MagentoView::of(&o)) {
            Resolution::AlreadyDone(msg) => Ok(Sent::AlreadyDone(msg)),
            Resolution::Impossible(msg) => Ok(Sent::Impossible(format!("{msg} (Magento: {})", e.message))),
            Resolution::Retry(note) => Err(Failure::of(&e, note)),
        },
        Err(read) => Err(Failure::of(&e, Some(format!("the order could not be read to check why: {read}")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: i64) -> Decimal {
        Decimal::from(n)
    }

    fn view(state: &str, items: &[(i64, i64, i64, i64)]) -> MagentoView {
        MagentoView {
            state: state.into(),
            status: state.into(),
            items: items
                .iter()
                .map(|(id, ordered, inv, ship)| {
                    (
                        *id,
                        ItemState {
                            invoiced: d(*inv),
                            shipped: d(*ship),
                            to_invoice: d(ordered - inv),
                            to_ship: d(ordered - ship),
                        },
                    )
                })
                .collect(),
            comments: vec!["Confirmed.".into()],
        }
    }

    #[test]
    fn refused_documents_are_done_impossible_or_retried() {
        let items = ItemQuantities::from([(1, d(1)), (2, d(2))]);
        let full = view("processing", &[(1, 1, 1, 0), (2, 2, 2, 0)]);
        assert!(matches!(resolve_document(Document::Invoice, &full, &items), Resolution::AlreadyDone(_)));
        assert!(matches!(resolve_document(Document::Shipment, &full, &items), Resolution::Retry(None)));
        let canceled = view("canceled", &[(1, 1, 0, 0), (2, 2, 0, 0)]);
        assert!(matches!(resolve_document(Document::Invoice, &canceled, &items), Resolution::Impossible(_)));
        let part = view("holded", &[(1, 1, 0, 0), (2, 2, 1, 0)]);
        let Resolution::Retry(Some(note)) = resolve_document(Document::Invoice, &part, &items) else { panic!() };
        assert!(note.contains("holded") && note.contains("item #2: 2 asked, 1 left"), "{note}");
        let Resolution::Retry(Some(note)) =
            resolve_document(Document::Invoice, &full, &ItemQuantities::from([(9, d(1))]))
        else {
            panic!()
        };
        assert!(note.contains("no item #9"), "{note}");
    }

    #[test]
    fn refused_cancel_and_presence_checks() {
        assert!(matches!(resolve_cancel(&view("canceled", &[])), Resolution::AlreadyDone(_)));
        let Resolution::Retry(Some(n)) = resolve_cancel(&view("complete", &[])) else { panic!() };
        assert!(n.contains("\"complete\""));
        let v = view("processing", &[(1, 3, 2, 1)]);
        assert!(quantities_present(Document::Invoice, &v, &ItemQuantities::from([(1, d(2))])));
        assert!(!quantities_present(Document::Invoice, &v, &ItemQuantities::from([(1, d(3))])));
        assert!(!quantities_present(Document::Shipment, &v, &ItemQuantities::from([(1, d(2))])));
        assert!(!quantities_present(Document::Shipment, &v, &ItemQuantities::from([(7, d(1))])));
        let c = |status: Option<&str>, text: &str| OrderComment {
            status: status.map(str::to_owned),
            comment: text.into(),
            notify: false,
        };
        assert!(comment_present(&v, &c(None, "Confirmed.")));
        assert!(!comment_present(&v, &c(None, "Shipped.")));
        assert!(comment_present(&v, &c(Some("processing"), "")));
        assert!(!comment_present(&v, &c(Some("complete"), "")));
    }

    #[test]
    fn failures_tell_uncertain_from_refused() {
        let t = MagentoError::new(ErrorKind::Retryable, "sales_order_invoice.create", "timed out");
        let f = Failure::of(&t, None);
        assert!(f.uncertain && !f.auth);
        let r = MagentoError::fault(ErrorKind::Refused, "sales_order.addComment", 1, "Internal Error");
        let f = Failure::of(&r, Some("note".into()));
        assert!(!f.uncertain && f.message.ends_with("; note"));
        let a = MagentoError::fault(ErrorKind::Auth, "sales_order.cancel", 2, "Access denied.");
        assert!(Failure::of(&a, None).auth);
        let track = Track { carrier_code: "ups".into(), title: "UPS".into(), number: "1".into() };
        let bad =
            MagentoError::fault(ErrorKind::Refused, "sales_order_shipment.addTrack", 102, "Invalid carrier specified.");
        assert!(unknown_carrier(&bad, &track));
        assert!(!unknown_carrier(&bad, &Track { carrier_code: "custom".into(), ..track.clone() }));
    }
}
