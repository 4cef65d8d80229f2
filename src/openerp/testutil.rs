//! Test helpers: load the Odoo 17 recordings (`shared/recordings/odoo17`).
//!
//! The recordings sit next to the repository (`<repo>/../shared`); in a worktree they may be
//! further up, so every ancestor of the crate directory is tried.

use std::path::PathBuf;

use dxr::Value;

use crate::rpc::Fault;
use crate::rpc::transport::{DecodeFailure, decode_response};

/// Directory of the Odoo 17 recordings.
pub fn recordings_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared/recordings/odoo17"))
        .find(|p| p.is_dir())
        .expect("shared/recordings/odoo17 next to the repository")
}

fn response_text(stem: &str) -> String {
    let path = recordings_dir().join(format!("{stem}.response.xml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The value of a recorded successful response (`stem` without `.response.xml`).
pub fn recording(stem: &str) -> Value {
    match decode_response(&response_text(stem)) {
        Ok(v) => v,
        Err(e) => panic!("{stem}: expected a value, got {e:?}"),
    }
}

/// The fault of a recorded fault response.
pub fn recorded_fault(stem: &str) -> Fault {
    match decode_response(&response_text(stem)) {
        Err(DecodeFailure::Fault(f)) => f,
        other => panic!("{stem}: expected a fault, got {other:?}"),
    }
}

/// The structs of a recorded `read`/`search_read` response.
pub fn recorded_rows(stem: &str) -> Vec<crate::rpc::value::Map> {
    match recording(stem) {
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::Struct(m) => m,
                other => panic!("{stem}: expected structs, got {other:?}"),
            })
            .collect(),
        other => panic!("{stem}: expected an array, got {other:?}"),
    }
}
