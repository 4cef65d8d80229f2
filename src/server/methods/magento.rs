//! `magento.*`: Magento's structure, read through the [`Backends`](crate::server::Backends) seam.

use std::sync::Arc;

use super::{Params, int};
use crate::rpc::value;
use crate::rpc::{Call, Fault, MethodResult, Registry};
use crate::server::AppState;

pub(super) fn register(r: &mut Registry<AppState>) {
    r.method(
        "magento.stores",
        "magento.stores(backend) -> {websites: [{id, name}], groups: [{id, website_id, name, root_category_id}], store_views: [{id, code, name, website_id, group_id, is_active, root_category_id}]}",
        stores,
    );
}

async fn stores(state: Arc<AppState>, call: Call) -> MethodResult {
    let p = Params::new(&call, "magento.stores(backend)", 1, 1)?;
    let backend = p.backend(&state, 0)?;
    let s = Arc::clone(&state.backends)
        .stores(backend)
        .await
        .map_err(|e| Fault::new(502, format!("magento.stores: {}", state.redactor.scrub(&e.to_string()))))?;
    let websites =
        s.websites.iter().map(|w| value::structure([("id", int(w.id)), ("name", value::string(w.name.clone()))]));
    let groups = s.groups.iter().map(|g| {
        value::structure([
            ("id", int(g.id)),
            ("website_id", int(g.website_id)),
            ("name", value::string(g.name.clone())),
            ("root_category_id", int(g.root_category_id)),
        ])
    });
    let views = s.store_views.iter().map(|v| {
        value::structure([
            ("id", int(v.id)),
            ("code", value::string(v.code.clone())),
            ("name", value::string(v.name.clone())),
            ("website_id", int(v.website_id)),
            ("group_id", int(v.group_id)),
            ("is_active", value::boolean(v.is_active)),
            ("root_category_id", int(v.root_category_id)),
        ])
    });
    Ok(value::structure([
        ("websites", value::array(websites)),
        ("groups", value::array(groups)),
        ("store_views", value::array(views)),
    ]))
}
