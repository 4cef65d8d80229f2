//! The OpenERP client's error type: every wire failure translated into our own kinds.
//!
//! Odoo reports failures as XML-RPC faults whose *code* says little and whose *text* says a lot
//! (a full Python traceback for code 1). This module turns a [`Fault`] or a transport
//! [`CallError`] into an [`Error`] with a [`ErrorKind`] the sync jobs can act on, a short
//! message (the last line of a traceback, never the whole of it), and the model, method and
//! record ids of the call. It does no I/O and knows no model.

use std::fmt;

use crate::rpc::Fault;
use crate::rpc::transport::CallError;
use crate::rpc::value::{self, DecodeError};

/// Longest message kept from a fault or a transport error.
const MAX_MESSAGE: usize = 400;

/// The fault text Odoo sends when a method returned `None` (the work is already committed).
pub const NONE_RETURN_MESSAGE: &str = "TypeError: cannot marshal None unless allow_none is enabled";

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Wrong login, password or API key (`authenticate` returned False, or fault 3).
    AccessDenied,
    /// The user may not do this (fault 4 `AccessError`: access rights, record rules, private
    /// methods).
    Forbidden,
    /// A record does not exist or was deleted (fault 2 `MissingError`).
    NotFound,
    /// Odoo refused the operation with a message meant for a user (fault 2 `UserError`,
    /// `ValidationError`, `RedirectWarning`).
    Refused,
    /// Any other server exception (fault 1): unknown field or method, bad value, bug. The Python
    /// exception class is in [`Error::exception`].
    Server,
    /// A database conflict (serialization failure, deadlock) that outlasted the retries.
    Conflict,
    /// The configured database does not exist on the server.
    UnknownDatabase,
    /// Network or HTTP failure (timeout, connection, HTTP status) that outlasted the retries.
    Transport,
    /// A call that is not safe to repeat (e.g. `create`) failed in transit: it may or may not
    /// have been committed. The caller must check (for orders: search by reference).
    Uncertain,
    /// The reply could not be understood (not XML-RPC, or a field of an unexpected type).
    Decode,
    /// A value was refused before sending (nil, dateTime, base64, integer beyond 32 bits), or
    /// the caller's input is invalid.
    InvalidInput,
    /// The server version or a requested feature is not supported by this client.
    Unsupported,
    /// A method answered with the "cannot marshal None" fault and reading back did not show
    /// the expected effect.
    Unverified,
}

impl ErrorKind {
    /// Short label used in messages.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::Forbidden => "not allowed",
            ErrorKind::NotFound => "record not found",
            ErrorKind::Refused => "refused by OpenERP",
            ErrorKind::Server => "OpenERP server error",
            ErrorKind::Conflict => "database conflict",
            ErrorKind::UnknownDatabase => "unknown database",
            ErrorKind::Transport => "cannot reach OpenERP",
            ErrorKind::Uncertain => "outcome unknown",
            ErrorKind::Decode => "unexpected reply",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Unverified => "effect not verified",
        }
    }
}

/// An OpenERP client error: a kind, a short message, and the call it happened in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    message: String,
    model: Option<String>,
    method: Option<String>,
    ids: Vec<i64>,
    exception: Option<String>,
    transient: bool,
}

impl Error {
    /// A new error with no call context.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: value::truncate(&message.into(), MAX_MESSAGE),
                model: None,
                method: None,
                ids: Vec::new(),
                exception: None,
                transient: false,
            }),
        }
    }

    /// Adds the model and method of the call.
    pub fn with_call(mut self, model: &str, method: &str) -> Self {
        self.inner.model = Some(model.to_owned());
        self.inner.method = Some(method.to_owned());
        self
    }

    /// Adds the record ids the call was about.
    pub fn with_ids(mut self, ids: &[i64]) -> Self {
        self.inner.ids = ids.to_vec();
        self
    }

    /// Builds an error from a value that could not be decoded.
    pub fn decode(e: &DecodeError) -> Self {
        Error::new(ErrorKind::Decode, e.to_string())
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Short message: the Odoo message, or the last line of a traceback.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Model of the failed call, when known.
    pub fn model(&self) -> Option<&str> {
        self.inner.model.as_deref()
    }

    /// Method of the failed call, when known.
    pub fn method(&self) -> Option<&str> {
        self.inner.method.as_deref()
    }

    /// Record ids of the failed call, when known.
    pub fn ids(&self) -> &[i64] {
        &self.inner.ids
    }

    /// Python exception class of a fault 1 (`ValueError`, `psycopg2.errors.SerializationFailure`).
    pub fn exception(&self) -> Option<&str> {
        self.inner.exception.as_deref()
    }

    /// True when repeating the same call later may succeed (transport failures, conflicts).
    pub fn is_transient(&self) -> bool {
        self.inner.transient
    }

    /// True for the fault Odoo sends when a method returned `None` after committing.
    pub fn is_none_return(&self) -> bool {
        self.inner.kind == ErrorKind::Server && self.inner.message == NONE_RETURN_MESSAGE
    }

    /// Translates a fault from `/xmlrpc/2/*` (int code) or `/xmlrpc/*` (text code).
    pub fn from_fault(fault: &Fault) -> Self {
        let mut e = match &fault.text_code {
            Some(text) => from_text_code(text, &fault.message),
            None => from_int_code(fault.code, &fault.message),
        };
        if e.inner.kind == ErrorKind::Conflict {
            e.inner.transient = true;
        }
        e
    }

    /// Translates a transport failure (the fault case goes through [`Error::from_fault`]).
    pub fn from_call(e: &CallError) -> Self {
        match e {
            CallError::Fault(f) => Error::from_fault(f),
            CallError::Decode { .. } => {
                let mut err = Error::new(ErrorKind::Decode, e.to_string());
                err.inner.transient = e.is_transient();
                err
            }
            CallError::Encode(m) => Error::new(ErrorKind::InvalidInput, format!("cannot encode the request: {m}")),
            CallError::Http { .. } | CallError::Timeout { .. } | CallError::Connect { .. } => {
                let mut err = Error::new(ErrorKind::Transport, e.to_string());
                err.inner.transient = e.is_transient();
                err
            }
        }
    }

    /// Turns a failure of a call that is not safe to repeat into [`ErrorKind::Uncertain`] when
    /// the request may have reached the server (transport failures); other errors are kept.
    pub fn into_uncertain(mut self) -> Self {
        if matches!(self.inner.kind, ErrorKind::Transport | ErrorKind::Decode) && self.inner.transient {
            self.inner.message =
                format!("{}; the call may have been committed, check before repeating it", self.inner.message);
            self.inner.kind = ErrorKind::Uncertain;
            self.inner.transient = false;
        }
        self
    }

    /// Replaces every occurrence of `secret` in the message (faults may echo a request).
    pub fn scrubbed(mut self, secret: &crate::secret::Secret) -> Self {
        self.inner.message = secret.scrub(&self.inner.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(model), Some(method)) = (&self.inner.model, &self.inner.method) {
            write!(f, "{model}.{method}")?;
            if !self.inner.ids.is_empty() {
                let shown: Vec<String> = self.inner.ids.iter().take(10).map(i64::to_string).collect();
                let more = if self.inner.ids.len() > 10 { ", …" } else { "" };
                write!(f, " (ids {}{more})", shown.join(", "))?;
            }
            f.write_str(": ")?;
        }
        write!(f, "{}: {}", self.inner.kind.label(), self.inner.message)
    }
}

impl std::error::Error for Error {}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::decode(&e)
    }
}

fn from_int_code(code: i32, text: &str) -> Error {
    match code {
        2 => {
            let msg = text.trim();
            let kind = if is_missing_record(msg) { ErrorKind::NotFound } else { ErrorKind::Refused };
            Error::new(kind, msg)
        }
        3 => Error::new(ErrorKind::AccessDenied, non_empty(text.trim(), "Access Denied")),
        4 => Error::new(ErrorKind::Forbidden, text.trim()),
        _ => from_traceback(text),
    }
}

fn from_text_code(code: &str, text: &str) -> Error {
    if let Some(rest) = code.strip_prefix("warning -- ") {
        let (class, msg) = match rest.split_once("\n\n") {
            Some((c, m)) => (c.trim(), m.trim()),
            None => (rest.trim(), text.trim()),
        };
        let kind = match class {
            "MissingError" => ErrorKind::NotFound,
            "AccessError" => ErrorKind::Forbidden,
            _ if is_missing_record(msg) => ErrorKind::NotFound,
            _ => ErrorKind::Refused,
        };
        let mut e = Error::new(kind, non_empty(msg, class));
        e.inner.exception = Some(class.to_owned());
        return e;
    }
    if code.trim() == "AccessDenied" {
        return Error::new(ErrorKind::AccessDenied, non_empty(text.trim(), "Access Denied"));
    }
    // Anything else: the code is the exception message and the string is the traceback.
    let mut e = from_traceback(text);
    if e.inner.kind == ErrorKind::Server && is_conflict(code) {
        e.inner.kind = ErrorKind::Conflict;
    }
    if e.inner.exception.is_none() && !code.trim().is_empty() {
        let first = code.trim().lines().next().unwrap_or_default();
        e.inner.message = value::truncate(first, MAX_MESSAGE);
    }
    e
}

/// Classifies a fault 1 from its traceback and keeps the exception line as the message.
fn from_traceback(text: &str) -> Error {
    let (exception, line) = match last_exception_line(text) {
        Some((class, line)) => (Some(class.to_owned()), line.to_owned()),
        None => (None, text.trim().lines().last().unwrap_or("(no message)").trim().to_owned()),
    };
    let kind = if is_conflict(text) {
        ErrorKind::Conflict
    } else if unknown_database(text) {
        ErrorKind::UnknownDatabase
    } else {
        ErrorKind::Server
    };
    let mut e = Error::new(kind, line);
    e.inner.exception = exception;
    e
}

/// The last `Class: message` line of a Python traceback (column 0, dotted identifier, `: `).
/// Continuation lines such as psycopg2's `LINE 1: ...` and caret lines are skipped.
pub fn last_exception_line(text: &str) -> Option<(&str, &str)> {
    text.lines().rev().find_map(|line| {
        let (class, _) = line.split_once(':')?;
        let ident = !class.is_empty()
            && class.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && class.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        (ident && class != "Traceback").then(|| (class, line.trim_end()))
    })
}

/// PostgreSQL serialization failures and deadlocks: transient, the transaction was rolled back.
fn is_conflict(text: &str) -> bool {
    text.contains("could not serialize access") || text.contains("deadlock detected")
}

fn unknown_database(text: &str) -> bool {
    text.contains("OperationalError") && text.contains("database \"") && text.contains("\" does not exist")
}

/// Odoo's `MissingError` text (English, or the language-independent `(Record: model(ids,)` part).
fn is_missing_record(msg: &str) -> bool {
    msg.starts_with("Record does not exist or has been deleted")
        || msg.contains("(Record: ")
        || msg.contains("(Records: ")
}

fn non_empty(s: &str, fallback: &str) -> String {
    if s.is_empty() { fallback.to_owned() } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recorded_fault_gets_its_kind_and_a_short_message() {
        use crate::openerp::testutil::recorded_fault;
        let cases: &[(&str, ErrorKind, &str)] = &[
            (
                "0440-fault.i8-id-out-of-range",
                ErrorKind::Server,
                "psycopg2.errors.NumericValueOutOfRange: value \"4294967296\"",
            ),
            ("0480-product.product.write-image-as-base64-type", ErrorKind::Refused, "Image is not encoded in base64."),
            (
                "0500-sale.order.write-dateTime-iso8601",
                ErrorKind::Server,
                "TypeError: object of type 'DateTime' has no len()",
            ),
            ("0530-fault.missing-model", ErrorKind::Refused, "Object magento.missing.model doesn't exist"),
            ("0540-fault.wrong-password", ErrorKind::AccessDenied, "Access Denied"),
            ("0550-fault.write-missing-id", ErrorKind::NotFound, "Record does not exist or has been deleted."),
            ("0570-fault.unlink-missing-id", ErrorKind::NotFound, "Record does not exist or has been deleted."),
            (
                "0580-fault.invalid-field",
                ErrorKind::Server,
                "ValueError: Invalid field 'no_such_field' on model 'product.product'",
            ),
            (
                "0590-fault.invalid-domain-field",
                ErrorKind::Server,
                "ValueError: Invalid field product.product.no_such_field",
            ),
            (
                "0600-fault.unknown-method",
                ErrorKind::Server,
                "AttributeError: The method 'no_such_method' does not exist",
            ),
            (
                "0610-fault.private-method",
                ErrorKind::Forbidden,
                "Private methods (such as _compute_amounts) cannot be called remotely.",
            ),
            ("0620-fault.missing-required-field", ErrorKind::Refused, "The operation cannot be completed:"),
            (
                "0630-fault.double-confirm",
                ErrorKind::Refused,
                "The following orders are not in a state requiring confirmation: S00025",
            ),
            (
                "0640-fault.bad-selection-value",
                ErrorKind::Server,
                "ValueError: Wrong value for res.partner.type: 'shipping'",
            ),
            ("0650-fault.none-return-action_archive", ErrorKind::Server, NONE_RETURN_MESSAGE),
            ("0680-fault.int-overflow-in-response", ErrorKind::Server, "OverflowError: int exceeds XML-RPC limits"),
            ("0690-fault.wrong-uid", ErrorKind::NotFound, "Record does not exist or has been deleted."),
            (
                "0700-fault.authenticate-unknown-db",
                ErrorKind::UnknownDatabase,
                "psycopg2.OperationalError: connection to server",
            ),
            (
                "0710-fault.execute_kw-unknown-db",
                ErrorKind::UnknownDatabase,
                "psycopg2.OperationalError: connection to server",
            ),
            (
                "0720-fault.malformed-xml",
                ErrorKind::Server,
                "xml.parsers.expat.ExpatError: no element found: line 1, column 55",
            ),
            ("0730-legacy.fault.write-missing-id", ErrorKind::NotFound, "Record does not exist or has been deleted."),
            ("0740-legacy.fault.wrong-password", ErrorKind::AccessDenied, "Access Denied"),
            ("0750-legacy.fault.missing-model", ErrorKind::Refused, "Object magento.missing.model doesn't exist"),
            (
                "0760-legacy.fault.double-confirm",
                ErrorKind::Refused,
                "The following orders are not in a state requiring confirmation",
            ),
            (
                "0780-legacy.fault.invalid-field",
                ErrorKind::Server,
                "ValueError: Invalid field 'no_such_field' on model 'product.product'",
            ),
            ("0800-fault.wrong-password-after-5-failures", ErrorKind::AccessDenied, "Access Denied"),
        ];
        for (stem, kind, start) in cases {
            let e = Error::from_fault(&recorded_fault(stem));
            assert_eq!(e.kind(), *kind, "{stem}: {e}");
            assert!(e.message().starts_with(start), "{stem}: {:?}", e.message());
            assert!(
                !e.message().contains("Traceback") && !e.message().contains("File \""),
                "{stem}: {:?}",
                e.message()
            );
            assert!(e.message().len() <= MAX_MESSAGE + 4, "{stem}");
            assert_eq!(e.is_none_return(), stem.contains("none-return"), "{stem}");
            assert!(!e.is_transient(), "{stem}");
        }
    }

    #[test]
    fn traceback_keeps_only_the_exception_line() {
        let tb = "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\n    raise ValueError(f\"bad\")\nValueError: Invalid field 'x' on model 'y'\n";
        let e = Error::from_fault(&Fault::new(1, tb));
        assert_eq!(e.kind(), ErrorKind::Server);
        assert_eq!(e.message(), "ValueError: Invalid field 'x' on model 'y'");
        assert_eq!(e.exception(), Some("ValueError"));
        assert!(!e.is_transient());
    }

    #[test]
    fn psycopg_continuation_lines_are_skipped() {
        let tb = "Traceback (most recent call last):\n  File \"q.py\", line 2\npsycopg2.errors.NumericValueOutOfRange: value \"4294967296\" is out of range for type integer\nLINE 1: ...rtner\".\"id\" = '429496729...\n                                                             ^\n\n";
        let e = Error::from_fault(&Fault::new(1, tb));
        assert_eq!(e.exception(), Some("psycopg2.errors.NumericValueOutOfRange"));
        assert!(e.message().starts_with("psycopg2.errors.NumericValueOutOfRange: value"));
    }

    #[test]
    fn serialization_failures_are_transient_conflicts() {
        let tb = "Traceback (most recent call last):\n  File \"sql_db.py\"\npsycopg2.errors.SerializationFailure: could not serialize access due to concurrent update\n";
        let e = Error::from_fault(&Fault::new(1, tb));
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.is_transient());
        let dl = Error::from_fault(&Fault::new(1, "Traceback\npsycopg2.errors.DeadlockDetected: deadlock detected\n"));
        assert_eq!(dl.kind(), ErrorKind::Conflict);
    }

    #[test]
    fn legacy_text_codes_are_classified() {
        let e = Error::from_fault(&Fault::with_text_code("warning -- UserError\n\nObject x doesn't exist", ""));
        assert_eq!((e.kind(), e.message()), (ErrorKind::Refused, "Object x doesn't exist"));
        let e = Error::from_fault(&Fault::with_text_code("warning -- AccessError\n\nnope", ""));
        assert_eq!(e.kind(), ErrorKind::Forbidden);
        let e = Error::from_fault(&Fault::with_text_code("AccessDenied", "Access Denied"));
        assert_eq!(e.kind(), ErrorKind::AccessDenied);
        let e = Error::from_fault(&Fault::with_text_code("warning -- Error!\n\nOpenERP 7 except_orm", ""));
        assert_eq!((e.kind(), e.message()), (ErrorKind::Refused, "OpenERP 7 except_orm"));
    }

    #[test]
    fn display_names_call_and_ids_and_never_runs_long() {
        let e = Error::new(ErrorKind::NotFound, "gone").with_call("res.partner", "write").with_ids(&[1, 2]);
        assert_eq!(e.to_string(), "res.partner.write (ids 1, 2): record not found: gone");
        let long = Error::new(ErrorKind::Server, "x".repeat(10_000));
        assert!(long.to_string().len() < 500);
    }

    #[test]
    fn uncertain_only_for_transient_transport_failures() {
        let t = Error::from_call(&CallError::Timeout { url: "http://h/xmlrpc/2/object".into() });
        assert_eq!(t.clone().into_uncertain().kind(), ErrorKind::Uncertain);
        let r = Error::new(ErrorKind::Refused, "no");
        assert_eq!(r.into_uncertain().kind(), ErrorKind::Refused);
        let h404 = Error::from_call(&CallError::Http { status: 404, url: String::new(), snippet: String::new() });
        assert_eq!(h404.into_uncertain().kind(), ErrorKind::Transport);
    }
}
