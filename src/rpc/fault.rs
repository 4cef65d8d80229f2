//! XML-RPC faults as our servers send them and our clients receive them.
//!
//! dxr's own `Fault` only carries an integer code. Odoo's legacy `/xmlrpc/` endpoints send
//! *string* codes, and the OpenERP sandbox must be able to emulate them, so this type can carry
//! either. Encoding and decoding of fault documents live here too.

use dxr::Value;

use super::value::{self, Map};

/// A fault: an integer code (or, for Odoo's legacy endpoints, a text code) and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fault {}: {message}", self.code_display())]
pub struct Fault {
    /// Integer fault code (0 when the peer sent a text code).
    pub code: i32,
    /// Text fault code, as Odoo's legacy `/xmlrpc/` endpoints send; `None` for integer codes.
    pub text_code: Option<String>,
    /// `faultString`.
    pub message: String,
}

impl Fault {
    /// Fault with an integer code.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Fault { code, text_code: None, message: message.into() }
    }

    /// Fault with a text code (Odoo legacy endpoints).
    pub fn with_text_code(text_code: impl Into<String>, message: impl Into<String>) -> Self {
        Fault { code: 0, text_code: Some(text_code.into()), message: message.into() }
    }

    fn code_display(&self) -> String {
        match &self.text_code {
            Some(t) => format!("{:?}", value::truncate(t, 60)),
            None => self.code.to_string(),
        }
    }

    /// The fault as the XML-RPC struct `{faultCode, faultString}`.
    pub fn to_value(&self) -> Value {
        let code = match &self.text_code {
            Some(t) => Value::String(t.clone()),
            None => Value::Integer(self.code),
        };
        value::structure([("faultCode", code), ("faultString", Value::String(self.message.clone()))])
    }

    /// Reads a `{faultCode, faultString}` struct (int or text code).
    pub fn from_map(m: &Map) -> Option<Fault> {
        let message = match m.get("faultString") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => value::describe(other),
            None => String::new(),
        };
        match m.get("faultCode")? {
            Value::Integer(i) => Some(Fault::new(*i, message)),
            Value::Long(i) => Some(Fault::new(i32::try_from(*i).unwrap_or(i32::MAX), message)),
            Value::String(s) => match s.trim().parse::<i32>() {
                Ok(i) => Some(Fault::new(i, message)),
                Err(_) => Some(Fault::with_text_code(s.clone(), message)),
            },
            _ => None,
        }
    }
}

impl From<dxr::Fault> for Fault {
    fn from(f: dxr::Fault) -> Self {
        Fault::new(f.code(), f.string().to_owned())
    }
}
