//! The exceptions the emulated Odoo raises, and how each endpoint encodes them as faults.
//!
//! Odoo 17 maps exceptions to faults in `odoo/addons/base/controllers/rpc.py`:
//! `/xmlrpc/2/*` sends integer codes (1 anything else with a traceback, 2 `UserError` and its
//! subclasses with the bare message, 3 `AccessDenied`, 4 `AccessError`), the legacy `/xmlrpc/*`
//! sends text codes (`'warning -- UserError\n\n<msg>'` with an empty faultString, `'AccessDenied'`,
//! or the message itself as code and the traceback as faultString). This module owns that
//! mapping and the traceback texts; it knows nothing of models.

use crate::rpc::Fault;

/// Where a Python exception was raised; only shapes the traceback frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Inside a model method (ORM, business code).
    Orm,
    /// While marshalling the result (`None`, ints beyond 32 bits).
    Marshal,
    /// While opening the database (unknown db).
    Connect,
    /// In the service dispatcher (unknown service or method).
    Service,
}

/// An exception raised by the emulated server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OdooError {
    /// Any exception that is not one of Odoo's own: fault 1 with a traceback whose last line is
    /// `class: message` (`ValueError: Invalid field ...`).
    #[error("{class}: {message}")]
    Python {
        /// Python exception class as printed (`ValueError`, `psycopg2.errors.NumericValueOutOfRange`).
        class: String,
        /// `str(exception)`.
        message: String,
        /// Extra lines printed after the last line (psycopg2's `LINE 1: ...`).
        detail: String,
        /// Where it was raised.
        stage: Stage,
    },
    /// `odoo.exceptions.UserError`.
    #[error("{0}")]
    User(String),
    /// `odoo.exceptions.ValidationError` (a `UserError`).
    #[error("{0}")]
    Validation(String),
    /// `odoo.exceptions.MissingError` (a `UserError`).
    #[error("{0}")]
    Missing(String),
    /// `odoo.exceptions.AccessDenied` (wrong password).
    #[error("Access Denied")]
    AccessDenied,
    /// `odoo.exceptions.AccessError` (private method, ACL).
    #[error("{0}")]
    Access(String),
}

/// Result alias of the emulated server.
pub type OResult<T> = Result<T, OdooError>;

impl OdooError {
    /// A Python exception raised in the ORM.
    pub fn python(class: &str, message: impl Into<String>) -> Self {
        OdooError::Python { class: class.to_owned(), message: message.into(), detail: String::new(), stage: Stage::Orm }
    }

    /// `ValueError(message)`.
    pub fn value(message: impl Into<String>) -> Self {
        Self::python("ValueError", message)
    }

    /// `TypeError(message)`.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::python("TypeError", message)
    }

    /// `ValueError: Invalid field 'f' on model 'm'`.
    pub fn invalid_field(model: &str, field: &str) -> Self {
        Self::value(format!("Invalid field {} on model {}", py_str(field), py_str(model)))
    }

    /// `AttributeError: The method 'x' does not exist on the model 'm'`.
    pub fn no_method(model: &str, method: &str) -> Self {
        Self::python("AttributeError", format!("The method '{method}' does not exist on the model '{model}'"))
    }

    /// `psycopg2.errors.NumericValueOutOfRange` for an int4 column or parameter.
    pub fn int4_out_of_range(value: i64) -> Self {
        OdooError::Python {
            class: "psycopg2.errors.NumericValueOutOfRange".into(),
            message: format!("value \"{value}\" is out of range for type integer"),
            detail: format!("LINE 1: ...WHERE ... = '{value}'\n                   ^\n"),
            stage: Stage::Orm,
        }
    }

    /// `psycopg2.errors.NumericValueOutOfRange: integer out of range` (insert/update of an int4).
    pub fn integer_out_of_range() -> Self {
        Self::python("psycopg2.errors.NumericValueOutOfRange", "integer out of range")
    }

    /// `TypeError: cannot marshal None unless allow_none is enabled`, raised after the method
    /// ran and its work was committed.
    pub fn none_result() -> Self {
        OdooError::Python {
            class: "TypeError".into(),
            message: "cannot marshal None unless allow_none is enabled".into(),
            detail: String::new(),
            stage: Stage::Marshal,
        }
    }

    /// `OverflowError: int exceeds XML-RPC limits` (a result int beyond 32 bits).
    pub fn int_overflow() -> Self {
        OdooError::Python {
            class: "OverflowError".into(),
            message: "int exceeds XML-RPC limits".into(),
            detail: String::new(),
            stage: Stage::Marshal,
        }
    }

    /// psycopg2's error for a database that does not exist (raised by every service).
    pub fn unknown_db(db: &str) -> Self {
        OdooError::Python {
            class: "psycopg2.OperationalError".into(),
            message: format!(
                "connection to server at \"127.0.0.1\", port 5433 failed: FATAL:  database \"{}\" does not exist\n",
                db.replace('"', "")
            ),
            detail: String::new(),
            stage: Stage::Connect,
        }
    }

    /// `MissingError` for records of `model` that do not exist.
    pub fn missing(model: &str, ids: &[i64], uid: i64) -> Self {
        OdooError::Missing(format!(
            "Record does not exist or has been deleted.\n(Record: {model}{}, User: {uid})",
            py_tuple(ids)
        ))
    }

    /// The `ValidationError` Odoo makes of a NOT NULL violation.
    pub fn not_null(model_label: &str, model: &str, field_label: &str, field: &str) -> Self {
        OdooError::Validation(format!(
            "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n- Delete: another model \
             requires the record being deleted. If possible, archive it instead.\n\nModel: {model_label} ({model})\nField: \
             {field_label} ({field})\n"
        ))
    }

    /// The `ValidationError` Odoo makes of a foreign-key violation.
    pub fn foreign_key(model_label: &str, model: &str, constraint: &str) -> Self {
        OdooError::Validation(format!(
            "The operation cannot be completed: another model requires the record being deleted. If possible, archive it \
             instead.\n\nModel: {model_label} ({model})\nConstraint: {constraint}\n"
        ))
    }

    /// True for the fault Odoo sends after a method that returned `None` (work committed).
    pub fn is_none_result(&self) -> bool {
        matches!(self, OdooError::Python { stage: Stage::Marshal, class, .. } if class == "TypeError")
    }

    /// The Python exception class name, as printed on the last traceback line.
    pub fn class_name(&self) -> &str {
        match self {
            OdooError::Python { class, .. } => class,
            OdooError::User(_) => "odoo.exceptions.UserError",
            OdooError::Validation(_) => "odoo.exceptions.ValidationError",
            OdooError::Missing(_) => "odoo.exceptions.MissingError",
            OdooError::AccessDenied => "odoo.exceptions.AccessDenied",
            OdooError::Access(_) => "odoo.exceptions.AccessError",
        }
    }

    /// The fault as `/xmlrpc/2/<service>` sends it (integer codes).
    pub fn to_fault(&self) -> Fault {
        match self {
            OdooError::Python { .. } => Fault::new(1, self.traceback(false)),
            OdooError::User(m) | OdooError::Validation(m) | OdooError::Missing(m) => Fault::new(2, m.clone()),
            OdooError::AccessDenied => Fault::new(3, "Access Denied"),
            OdooError::Access(m) => Fault::new(4, m.clone()),
        }
    }

    /// The fault as the legacy `/xmlrpc/<service>` sends it (text codes).
    pub fn to_legacy_fault(&self) -> Fault {
        match self {
            OdooError::Python { message, .. } => Fault::with_text_code(message.clone(), self.traceback(true)),
            OdooError::User(m) | OdooError::Validation(m) => {
                Fault::with_text_code(format!("warning -- UserError\n\n{m}"), "")
            }
            OdooError::Missing(m) => Fault::with_text_code(format!("warning -- MissingError\n\n{m}"), ""),
            OdooError::AccessDenied => Fault::with_text_code("AccessDenied", "Access Denied"),
            OdooError::Access(m) => Fault::with_text_code(format!("warning -- AccessError\n\n{m}"), ""),
        }
    }

    /// A traceback shaped like Odoo 17's for this exception.
    fn traceback(&self, legacy: bool) -> String {
        let OdooError::Python { class, message, detail, stage } = self else {
            return self.to_string();
        };
        let mut t = String::from("Traceback (most recent call last):\n");
        let (line, entry) = if legacy { (138, "xmlrpc_1") } else { (147, "xmlrpc_2") };
        frame(&mut t, "odoo/addons/base/controllers/rpc.py", line, entry, "response = self._xmlrpc(service)");
        match stage {
            Stage::Marshal => {
                frame(
                    &mut t,
                    "odoo/addons/base/controllers/rpc.py",
                    128,
                    "_xmlrpc",
                    "return xmlrpc.client.dumps((result,), methodresponse=1, allow_none=False)",
                );
                t.push_str(
                    "  File \"/usr/lib/python3.11/xmlrpc/client.py\", line 981, in dumps\n    data = m.dumps(params)\n",
                );
            }
            Stage::Connect | Stage::Service | Stage::Orm => {
                frame(
                    &mut t,
                    "odoo/addons/base/controllers/rpc.py",
                    127,
                    "_xmlrpc",
                    "result = dispatch_rpc(service, method, params)",
                );
                frame(&mut t, "odoo/http.py", 391, "dispatch_rpc", "return dispatch(method, params)");
            }
        }
        match stage {
            Stage::Connect => {
                frame(&mut t, "odoo/modules/registry.py", 182, "init", "with closing(self.cursor()) as cr:");
                frame(&mut t, "odoo/sql_db.py", 681, "borrow", "result = psycopg2.connect(");
            }
            Stage::Orm => {
                frame(&mut t, "odoo/service/model.py", 37, "dispatch", "res = execute_kw(db, uid, *params[3:])");
                frame(
                    &mut t,
                    "odoo/service/model.py",
                    65,
                    "execute",
                    "res = execute_cr(cr, uid, obj, method, *args, **kw)",
                );
                frame(&mut t, "odoo/api.py", 464, "call_kw", "result = _call_kw_model(method, model, args, kwargs)");
            }
            Stage::Service | Stage::Marshal => {}
        }
        t.push_str(class);
        t.push_str(": ");
        t.push_str(message);
        t.push('\n');
        t.push_str(detail);
        t
    }
}

fn frame(t: &mut String, file: &str, line: u32, func: &str, code: &str) {
    t.push_str(&format!("  File \"/opt/odoo/{file}\", line {line}, in {func}\n    {code}\n"));
}

/// Python `repr()` of a string (single quotes unless the text holds one).
pub fn py_str(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'").replace('\n', "\\n"))
    }
}

/// Python `repr()` of a tuple of ids: `(5,)`, `(1, 2)`.
pub fn py_tuple(ids: &[i64]) -> String {
    match ids {
        [one] => format!("({one},)"),
        _ => format!("({})", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// Python `repr()` of an XML-RPC value (for messages that quote arguments).
pub fn py_repr(v: &dxr::Value) -> String {
    use dxr::Value;
    match v {
        Value::Integer(i) => i.to_string(),
        Value::Long(i) => i.to_string(),
        Value::Boolean(b) => if *b { "True" } else { "False" }.to_owned(),
        Value::String(s) => py_str(s),
        Value::Double(d) => {
            if d.fract() == 0.0 && d.abs() < 1e16 {
                format!("{d:.1}")
            } else {
                d.to_string()
            }
        }
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Struct(m) => {
            format!(
                "{{{}}}",
                m.iter().map(|(k, v)| format!("{}: {}", py_str(k), py_repr(v))).collect::<Vec<_>>().join(", ")
            )
        }
        Value::Nil => "None".into(),
        Value::DateTime(_) => "<DateTime>".into(),
        Value::Base64(_) => "<xmlrpc.client.Binary>".into(),
        _ => "?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_errors_have_bare_messages_and_legacy_text_codes() {
        let e = OdooError::User("Object x doesn't exist".into());
        assert_eq!(e.to_fault(), Fault::new(2, "Object x doesn't exist"));
        let legacy = e.to_legacy_fault();
        assert_eq!(legacy.text_code.as_deref(), Some("warning -- UserError\n\nObject x doesn't exist"));
        assert_eq!(legacy.message, "");
        let m = OdooError::missing("res.partner", &[999999], 2);
        assert_eq!(
            m.to_string(),
            "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)"
        );
        assert!(m.to_legacy_fault().text_code.unwrap().starts_with("warning -- MissingError\n\n"));
    }

    #[test]
    fn python_errors_end_with_class_and_message() {
        let e = OdooError::invalid_field("product.product", "no_such_field");
        let f = e.to_fault();
        assert_eq!(f.code, 1);
        assert!(f.message.starts_with("Traceback (most recent call last):\n"));
        assert!(f.message.ends_with("ValueError: Invalid field 'no_such_field' on model 'product.product'\n"));
        let legacy = e.to_legacy_fault();
        assert_eq!(legacy.text_code.as_deref(), Some("Invalid field 'no_such_field' on model 'product.product'"));
        assert!(legacy.message.contains("xmlrpc_1"));
        assert_eq!(OdooError::AccessDenied.to_fault(), Fault::new(3, "Access Denied"));
        assert!(OdooError::none_result().is_none_result());
    }

    #[test]
    fn python_reprs() {
        assert_eq!(py_tuple(&[1, 2]), "(1, 2)");
        assert_eq!(
            py_repr(&crate::rpc::value::array([dxr::Value::String("a".into()), dxr::Value::Double(1.0)])),
            "['a', 1.0]"
        );
    }
}
