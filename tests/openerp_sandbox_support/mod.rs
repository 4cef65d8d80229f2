//! Shared helpers of the OpenERP sandbox integration tests: a minimal XML-RPC client that posts
//! raw bodies or encoded calls to the sandbox and decodes values, faults and HTTP statuses.

#![allow(dead_code)]

use dxr::Value;
use magento_connector::rpc::Fault;
use magento_connector::rpc::transport::{DecodeFailure, decode_response, encode_call};
use magento_connector::rpc::value::{self, Map};
use magento_connector::sandbox::openerp::OpenErpSandbox;

/// A raw HTTP answer.
pub struct Raw {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// Client of one sandbox.
pub struct Client {
    http: reqwest::Client,
    pub base: String,
    pub db: String,
    pub password: String,
}

impl Client {
    pub fn new(erp: &OpenErpSandbox) -> Client {
        magento_connector::rpc::transport::install_crypto_provider();
        Client {
            http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(20)).build().expect("client"),
            base: erp.url(),
            db: erp.db().to_owned(),
            password: erp.password().to_owned(),
        }
    }

    /// POSTs a raw body to `path`.
    pub async fn raw(&self, path: &str, body: impl Into<String>) -> Result<Raw, reqwest::Error> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "text/xml")
            .body(body.into())
            .send()
            .await?;
        let status = resp.status().as_u16();
        let content_type =
            resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let body = resp.text().await?;
        Ok(Raw { status, content_type, body })
    }

    /// GET on a path.
    pub async fn get(&self, path: &str) -> u16 {
        self.http.get(format!("{}{path}", self.base)).send().await.expect("get").status().as_u16()
    }

    /// Calls `method` on `path`, returning the value or the fault.
    pub async fn call(&self, path: &str, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        let body = encode_call(method, params).expect("encode");
        let raw = self.raw(path, body).await.expect("http");
        assert_eq!(raw.status, 200, "{}", raw.body);
        decode(&raw.body)
    }

    /// `execute_kw` as uid 2 on `/xmlrpc/2/object`.
    pub async fn exec(&self, model: &str, method: &str, args: Vec<Value>, kwargs: Map) -> Result<Value, Fault> {
        self.exec_at("/xmlrpc/2/object", model, method, args, kwargs).await
    }

    /// `execute_kw` as uid 2 on a given object endpoint.
    pub async fn exec_at(
        &self,
        path: &str,
        model: &str,
        method: &str,
        args: Vec<Value>,
        kwargs: Map,
    ) -> Result<Value, Fault> {
        let params = vec![
            Value::String(self.db.clone()),
            Value::Integer(2),
            Value::String(self.password.clone()),
            Value::String(model.into()),
            Value::String(method.into()),
            Value::Array(args),
            Value::Struct(kwargs),
        ];
        self.call(path, "execute_kw", params).await
    }

    /// `execute_kw` that must succeed.
    pub async fn ok(&self, model: &str, method: &str, args: Vec<Value>, kwargs: Map) -> Value {
        match self.exec(model, method, args, kwargs).await {
            Ok(v) => v,
            Err(f) => panic!("{model}.{method} failed: {f}"),
        }
    }
}

/// Decodes a response body.
pub fn decode(body: &str) -> Result<Value, Fault> {
    match decode_response(body) {
        Ok(v) => Ok(v),
        Err(DecodeFailure::Fault(f)) => Err(f),
        Err(DecodeFailure::Invalid) => panic!("not an XML-RPC response: {body}"),
    }
}

/// `[[field, op, value], ...]`.
pub fn domain(leaves: &[(&str, &str, Value)]) -> Value {
    Value::Array(
        leaves.iter().map(|(f, o, v)| value::array([value::string(*f), value::string(*o), v.clone()])).collect(),
    )
}

/// A kwargs struct.
pub fn kw(items: &[(&str, Value)]) -> Map {
    items.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// A list of field names.
pub fn fields(names: &[&str]) -> Value {
    Value::Array(names.iter().map(|n| value::string(*n)).collect())
}

/// A list of ids.
pub fn ids(v: &[i64]) -> Value {
    Value::Array(v.iter().map(|i| value::id(*i)).collect())
}

/// The records of a `read`/`search_read` result.
pub fn records(v: &Value) -> Vec<Map> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::Struct(m) => m.clone(),
                other => panic!("not a struct: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

/// The ids of a `search` result.
pub fn id_list(v: &Value) -> Vec<i64> {
    value::to_ids("ids", v).expect("ids")
}

/// A double member.
pub fn dbl(m: &Map, k: &str) -> f64 {
    match m.get(k) {
        Some(Value::Double(d)) => *d,
        other => panic!("{k}: not a double: {other:?}"),
    }
}

/// A string member.
pub fn s<'a>(m: &'a Map, k: &str) -> &'a str {
    match m.get(k) {
        Some(Value::String(x)) => x,
        other => panic!("{k}: not a string: {other:?}"),
    }
}

/// A many2one member's id.
pub fn m2o(m: &Map, k: &str) -> Option<i64> {
    value::to_many2one(k, m.get(k).expect(k)).expect(k).map(|x| x.id)
}
