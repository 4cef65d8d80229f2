//! Helpers shared by the Magento sandbox tests: a logged-in client on our own transport and
//! short value builders.

#![allow(dead_code)]

use std::time::Duration;

use dxr::Value;
use magento_connector::rpc::transport::{CallError, HttpOptions, Transport};
use magento_connector::sandbox::magento1::{MagentoSandbox, SandboxOptions};

/// A client with a live session.
pub struct Client {
    pub transport: Transport,
    pub session: String,
}

/// Starts a sandbox with default options.
pub async fn sandbox() -> MagentoSandbox {
    MagentoSandbox::start(SandboxOptions::default()).await.expect("sandbox starts")
}

/// A transport with a short request timeout.
pub fn transport(sb: &MagentoSandbox, timeout: Duration) -> Transport {
    let opts = HttpOptions { request_timeout: timeout, ..HttpOptions::default() };
    Transport::new(sb.url(), &opts).expect("transport")
}

impl Client {
    /// Logs in as the connector user.
    pub async fn login(sb: &MagentoSandbox) -> Client {
        let c = sb.credentials();
        Client::login_as(sb, &c.username, c.api_key.expose()).await
    }

    /// Logs in as `user`.
    pub async fn login_as(sb: &MagentoSandbox, user: &str, key: &str) -> Client {
        let transport = transport(sb, Duration::from_secs(30));
        let v = transport.call("login", vec![s(user), s(key)]).await.expect("login");
        let Value::String(session) = v else { panic!("session id is a string: {v:?}") };
        Client { transport, session }
    }

    /// `call(session, path, args)`.
    pub async fn call(&self, path: &str, args: Vec<Value>) -> Result<Value, CallError> {
        self.transport.call("call", vec![s(&self.session), s(path), Value::Array(args)]).await
    }

    /// `call(session, path)` without args.
    pub async fn call0(&self, path: &str) -> Result<Value, CallError> {
        self.transport.call("call", vec![s(&self.session), s(path)]).await
    }

    /// `multiCall(session, calls)`.
    pub async fn multi(&self, calls: Vec<Value>) -> Result<Value, CallError> {
        self.transport.call("multiCall", vec![s(&self.session), Value::Array(calls)]).await
    }
}

pub fn s(x: &str) -> Value {
    Value::String(x.to_owned())
}

pub fn i(x: i32) -> Value {
    Value::Integer(x)
}

pub fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

pub fn st(pairs: &[(&str, Value)]) -> Value {
    Value::Struct(pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

/// A multiCall item `[path, args]`.
pub fn item(path: &str, args: Vec<Value>) -> Value {
    arr(vec![s(path), arr(args)])
}

/// The fault code of a failed call (panics on other failures).
pub fn code(r: Result<Value, CallError>) -> i32 {
    match r {
        Err(CallError::Fault(f)) => f.code,
        other => panic!("expected a fault, got {other:?}"),
    }
}

/// The fault of a failed call.
pub fn fault(r: Result<Value, CallError>) -> magento_connector::rpc::Fault {
    match r {
        Err(CallError::Fault(f)) => f,
        other => panic!("expected a fault, got {other:?}"),
    }
}

/// Struct member `k`.
pub fn get<'a>(v: &'a Value, k: &str) -> &'a Value {
    match v {
        Value::Struct(m) => m.get(k).unwrap_or_else(|| panic!("no member {k} in {v:?}")),
        _ => panic!("not a struct: {v:?}"),
    }
}

/// String member `k`.
pub fn text(v: &Value, k: &str) -> String {
    match get(v, k) {
        Value::String(x) => x.clone(),
        other => panic!("{k} is not a string: {other:?}"),
    }
}

/// Array items.
pub fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) => a,
        _ => panic!("not an array: {v:?}"),
    }
}

/// Decimal member `k` (a 4-decimal string).
pub fn dec(v: &Value, k: &str) -> rust_decimal::Decimal {
    text(v, k).parse().unwrap_or_else(|_| panic!("{k} is not a decimal"))
}

/// A PNG file (1×1) as base64.
pub const PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
