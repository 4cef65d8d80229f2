//! Conversion of raw XML-RPC values to JSON, for payload snapshots (broken orders) and for
//! attributes the typed structs do not name.
//!
//! Pure conversion, no I/O. Strings stay strings (Magento's `'149.9900'` is not turned into a
//! number), `<nil/>` becomes `null`, base64 becomes its base64 text, doubles that JSON cannot
//! carry (NaN, infinities) become strings.

use base64::Engine as _;
use dxr::Value;

/// Converts an XML-RPC value to JSON, keeping every member.
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Integer(i) => J::from(*i),
        Value::Long(i) => J::from(*i),
        Value::Boolean(b) => J::Bool(*b),
        Value::String(s) => J::String(s.clone()),
        Value::Double(d) => serde_json::Number::from_f64(*d).map_or_else(|| J::String(d.to_string()), J::Number),
        Value::DateTime(dt) => J::String(dt.to_string()),
        Value::Base64(bytes) => J::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
        Value::Struct(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Array(a) => J::Array(a.iter().map(to_json).collect()),
        Value::Nil => J::Null,
        _ => J::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::value;

    #[test]
    fn converts_every_xmlrpc_shape() {
        let v = value::structure([
            ("id", value::int(7)),
            ("price", value::string("149.9900")),
            ("flag", value::boolean(true)),
            ("none", Value::Nil),
            ("ratio", value::double(0.5)),
            ("nan", value::double(f64::NAN)),
            ("blob", Value::Base64(b"hi".to_vec())),
            ("list", value::array([value::int(1), Value::Array(vec![])])),
        ]);
        let j = to_json(&v);
        assert_eq!(
            j,
            serde_json::json!({
                "id": 7, "price": "149.9900", "flag": true, "none": null, "ratio": 0.5,
                "nan": "NaN", "blob": "aGk=", "list": [1, []]
            })
        );
    }
}
