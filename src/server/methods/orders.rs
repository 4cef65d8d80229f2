//! `orders.*`: order import, re-import and follow-up jobs, and the broken-order list.

use std::sync::Arc;

use super::{Params, date, int, internal, start_job};
use crate::rpc::value;
use crate::rpc::{Call, MethodResult, Registry};
use crate::server::AppState;
use crate::server::jobs::JobKind;

pub(super) fn register(r: &mut Registry<AppState>) {
    r.method(
        "orders.import",
        "orders.import(backend, options) -> run id; options {stores?: [int or code], since?: \"YYYY-MM-DD HH:MM:SS\", increment_ids?: [string], dry_run?}",
        |s, c| start_job(s, c, JobKind::OrdersImport),
    )
    .method(
        "orders.reimport",
        "orders.reimport(backend, options) -> run id; options {increment_ids?: [string]} (absent: every broken order)",
        |s, c| start_job(s, c, JobKind::OrdersReimport),
    )
    .method(
        "orders.export_status",
        "orders.export_status(backend, options) -> run id; options {increment_ids?: [string], dry_run?}",
        |s, c| start_job(s, c, JobKind::OrderStatus),
    )
    .method(
        "orders.list_broken",
        "orders.list_broken(backend) -> [{increment_id, store_id, reason, hint, code, attempts, first_seen, last_attempt}]",
        list_broken,
    );
}

async fn list_broken(state: Arc<AppState>, call: Call) -> MethodResult {
    let p = Params::new(&call, "orders.list_broken(backend)", 1, 1)?;
    let backend = p.backend(&state, 0)?;
    let broken =
        state.store.broken().list(&backend, false).await.map_err(|e| internal(&state, "orders.list_broken", &e))?;
    Ok(value::array(broken.iter().map(|b| {
        value::structure([
            ("increment_id", value::string(b.increment_id.clone())),
            ("store_id", int(b.store_id)),
            ("reason", value::string(b.reason.clone())),
            ("hint", value::string(b.hint.clone())),
            ("code", value::string(b.code.as_str())),
            ("attempts", int(b.attempts)),
            ("first_seen", date(&b.first_seen)),
            ("last_attempt", date(&b.last_attempt)),
        ])
    })))
}
