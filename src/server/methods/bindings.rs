//! `bindings.*`: which Magento records OpenERP records are bound to.

use std::sync::Arc;

use dxr::Value;

use super::{Params, bad_params, date, int, internal};
use crate::rpc::value;
use crate::rpc::{Call, MethodResult, Registry};
use crate::server::AppState;
use crate::store::BindingKind;

/// Most ids one `bindings.get` call may ask for.
const MAX_IDS: usize = 10_000;

pub(super) fn register(r: &mut Registry<AppState>) {
    r.method(
        "bindings.get",
        "bindings.get(backend, kind, openerp_ids) -> [{openerp_id, magento_id, store_id?, synced_at}]; kind: category, product, order, partner, address",
        get,
    );
}

async fn get(state: Arc<AppState>, call: Call) -> MethodResult {
    const SIG: &str = "bindings.get(backend, kind, openerp_ids)";
    let p = Params::new(&call, SIG, 3, 3)?;
    let backend = p.backend(&state, 0)?;
    let kind_text = p.string(1, "kind")?;
    let kind = BindingKind::parse(kind_text).ok_or_else(|| {
        bad_params(format!(
            "{SIG}: unknown kind {:?} (one of category, product, order, partner, address)",
            value::truncate(kind_text, 40)
        ))
    })?;
    let ids = match p.opt(2) {
        Some(Value::Array(a)) if a.len() <= MAX_IDS => a
            .iter()
            .map(|v| match v {
                Value::Integer(i) if *i > 0 => Ok(i64::from(*i)),
                other => Err(bad_params(format!(
                    "{SIG}: `openerp_ids` must hold positive ints, got {}",
                    value::describe(other)
                ))),
            })
            .collect::<Result<Vec<i64>, _>>()?,
        Some(Value::Array(_)) => return Err(bad_params(format!("{SIG}: at most {MAX_IDS} ids per call"))),
        Some(other) => {
            return Err(bad_params(format!("{SIG}: `openerp_ids` must be an array, got {}", value::describe(other))));
        }
        None => return Err(bad_params(format!("{SIG}: `openerp_ids` is missing"))),
    };
    let found = state
        .store
        .bindings()
        .get_many(&backend, kind, &ids)
        .await
        .map_err(|e| internal(&state, "bindings.get", &e))?;
    Ok(value::array(found.iter().map(|b| {
        let mut m = value::Map::new();
        m.insert("openerp_id".into(), int(b.openerp_id));
        m.insert("magento_id".into(), value::string(b.magento_id.clone()));
        if b.store_id != 0 {
            m.insert("store_id".into(), int(b.store_id));
        }
        m.insert("synced_at".into(), date(&b.updated_at));
        Value::Struct(m)
    })))
}
