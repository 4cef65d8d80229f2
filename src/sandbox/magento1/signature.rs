//! Zend_XmlRpc_Server's strict signature check (protocols.md A.2.1).
//!
//! Zend compares the exact list of XML-RPC types of the request parameters with prototypes built
//! from the handler's PHP docblocks (one prototype per number of optional parameters, `mixed`
//! read as `struct`). Any mismatch is fault 623. The `multiCall` prototype changed in OpenMage
//! 20.11 (its `@param array $calls` line was dropped), which the sandbox models with
//! [`MultiCallPrototype`].

use dxr::Value;

use crate::rpc::Fault;

/// Fault 623 as Zend sends it.
pub(crate) fn mismatch() -> Fault {
    Fault::new(623, "Calling parameters do not match signature")
}

/// Which `multiCall` prototype the emulated version has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiCallPrototype {
    /// Magento 1.9 / OpenMage ≤ 20.10: `(string[, array[, array]])`.
    Array,
    /// OpenMage ≥ 20.11: `(string[, struct[, struct]])` (standard multiCall gets 623).
    Struct,
}

/// Zend's type name of a request parameter.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Integer(_) => "int",
        Value::Long(_) => "i8",
        Value::Boolean(_) => "boolean",
        Value::String(_) => "string",
        Value::Double(_) => "double",
        Value::DateTime(_) => "dateTime.iso8601",
        Value::Base64(_) => "base64",
        Value::Struct(_) => "struct",
        Value::Array(_) => "array",
        Value::Nil => "nil",
        _ => "unknown",
    }
}

/// The prototypes of a handler method, or `None` when the handler has no such public method.
pub(crate) fn prototypes(method: &str, multicall: MultiCallPrototype) -> Option<&'static [&'static [&'static str]]> {
    const S: &str = "string";
    Some(match method {
        "login" => &[&[S], &[S, S]],
        "call" => &[&[S, S], &[S, S, "array"]],
        "multiCall" => match multicall {
            MultiCallPrototype::Array => &[&[S], &[S, "array"], &[S, "array", "array"]],
            MultiCallPrototype::Struct => &[&[S], &[S, "struct"], &[S, "struct", "struct"]],
        },
        "endSession" | "resources" | "globalFaults" => &[&[S]],
        "startSession" => &[&[]],
        "resourceFaults" => &[&[S, S]],
        _ => return None,
    })
}

/// Checks `params` against the prototypes of `method` (fault 623 on mismatch).
pub(crate) fn check(method: &str, params: &[Value], multicall: MultiCallPrototype) -> Result<(), Fault> {
    let Some(protos) = prototypes(method, multicall) else {
        return Ok(());
    };
    let called: Vec<&str> = params.iter().map(type_name).collect();
    if protos.contains(&called.as_slice()) { Ok(()) } else { Err(mismatch()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn call_args_must_be_an_array() {
        let a = MultiCallPrototype::Array;
        assert!(check("call", &[s("sid"), s("store.list")], a).is_ok());
        assert!(check("call", &[s("sid"), s("x.y"), Value::Array(vec![])], a).is_ok());
        assert_eq!(check("call", &[s("sid"), s("x.y"), s("1")], a).unwrap_err().code, 623);
        assert_eq!(check("call", &[s("sid"), s("x.y"), Value::Struct(Default::default())], a).unwrap_err().code, 623);
        assert_eq!(check("call", &[Value::Integer(1), s("x.y")], a).unwrap_err().code, 623);
        assert_eq!(check("login", &[s("u"), Value::Integer(123)], a).unwrap_err().code, 623);
        assert!(check("login", &[s("u"), s("k")], a).is_ok());
    }

    #[test]
    fn multicall_prototype_depends_on_the_version() {
        let calls = Value::Array(vec![]);
        let opts = Value::Struct(Default::default());
        assert!(check("multiCall", &[s("sid"), calls.clone()], MultiCallPrototype::Array).is_ok());
        assert!(check("multiCall", &[s("sid"), calls.clone(), opts.clone()], MultiCallPrototype::Array).is_err());
        assert!(check("multiCall", &[s("sid"), calls.clone()], MultiCallPrototype::Struct).is_err());
        assert!(check("multiCall", &[s("sid"), opts.clone(), opts], MultiCallPrototype::Struct).is_ok());
    }
}
