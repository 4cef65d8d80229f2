//! Outbound XML-RPC over HTTP(S): one POST per call, typed errors, bounded retries.
//!
//! Built on dxr's `MethodCall`/`MethodResponse` and a `reqwest` client we configure ourselves
//! (rustls with the ring provider, certificate verification always on, connect and request
//! timeouts, a connection pool). dxr_client is not used because it hides the HTTP status (a PHP
//! fatal is an HTTP 500 with an empty body, which must be retried, not reported as bad XML) and
//! copies whole documents into its errors. Errors here carry at most a short snippet.
//!
//! Retry *policy* (what to retry) belongs to each peer's client; this module supplies the
//! mechanics ([`Backoff`]) and a classification ([`CallError::is_transient`]).

use std::sync::Once;
use std::time::Duration;

use dxr::{MethodCall, MethodResponse, Value};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};

use super::fault::Fault;
use super::value;
use crate::secret::Secret;

/// Why an outbound call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The peer answered with an XML-RPC fault.
    #[error("{0}")]
    Fault(Fault),
    /// The peer answered with a non-200 HTTP status.
    #[error("HTTP {status} from {url}{}", if .snippet.is_empty() { String::new() } else { format!(": {}", .snippet) })]
    Http {
        /// HTTP status code.
        status: u16,
        /// Endpoint (without credentials).
        url: String,
        /// First bytes of the body, for diagnosis.
        snippet: String,
    },
    /// The request did not complete in time.
    #[error("timed out calling {url}")]
    Timeout {
        /// Endpoint.
        url: String,
    },
    /// Could not connect, or the connection dropped.
    #[error("cannot reach {url}: {reason}")]
    Connect {
        /// Endpoint.
        url: String,
        /// Transport reason.
        reason: String,
    },
    /// The peer answered 200 but the body is not an XML-RPC response.
    #[error("invalid XML-RPC response from {url}: {snippet}")]
    Decode {
        /// Endpoint.
        url: String,
        /// First bytes of the body.
        snippet: String,
    },
    /// The request could not be encoded (our bug or bad caller input).
    #[error("cannot encode request: {0}")]
    Encode(String),
}

impl CallError {
    /// True for failures worth retrying with the same request: timeouts, connection errors,
    /// HTTP 5xx/429, and an empty or truncated 200 body. Faults are never transient here; each
    /// client decides which fault codes to retry.
    pub fn is_transient(&self) -> bool {
        match self {
            CallError::Timeout { .. } | CallError::Connect { .. } => true,
            CallError::Http { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            CallError::Decode { snippet, .. } => snippet.is_empty(),
            CallError::Fault(_) | CallError::Encode(_) => false,
        }
    }

    /// The fault, when the peer sent one.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            CallError::Fault(f) => Some(f),
            _ => None,
        }
    }
}

/// HTTP settings for one peer.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request/response.
    pub request_timeout: Duration,
    /// Idle connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// Extra headers sent with every request (e.g. `Authorization`).
    pub headers: Vec<(String, Secret)>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            pool_max_idle_per_host: 8,
            headers: Vec::new(),
        }
    }
}

/// Installs rustls' ring crypto provider once per process (aws-lc is a long C build).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// An XML-RPC endpoint reached over HTTP(S).
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    url: reqwest::Url,
    display_url: String,
}

impl Transport {
    /// Builds a transport for `url` (certificate verification is always on).
    pub fn new(url: &str, opts: &HttpOptions) -> Result<Self, CallError> {
        install_crypto_provider();
        let parsed = reqwest::Url::parse(url).map_err(|e| CallError::Encode(format!("invalid URL {url:?}: {e}")))?;
        let mut display = parsed.clone();
        let _ = display.set_password(None);
        let _ = display.set_username("");
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
        headers.insert(USER_AGENT, HeaderValue::from_static(concat!("magento-connector/", env!("CARGO_PKG_VERSION"))));
        for (name, val) in &opts.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| CallError::Encode(format!("invalid header name {name:?}")))?;
            let mut v =
                HeaderValue::from_str(val.expose()).map_err(|_| CallError::Encode("invalid header value".into()))?;
            v.set_sensitive(true);
            headers.insert(name, v);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.request_timeout)
            .pool_max_idle_per_host(opts.pool_max_idle_per_host)
            .build()
            .map_err(|e| CallError::Encode(format!("cannot build HTTP client: {e}")))?;
        Ok(Transport { http, url: parsed, display_url: display.to_string() })
    }

    /// The endpoint URL without credentials.
    pub fn url(&self) -> &str {
        &self.display_url
    }

    /// Sends one call and returns its value, or a typed error.
    pub async fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, CallError> {
        let body = encode_call(method, params)?;
        self.post(body).await
    }

    /// Sends a pre-encoded request body.
    pub async fn post(&self, body: String) -> Result<Value, CallError> {
        let url = &self.display_url;
        let resp = self.http.post(self.url.clone()).body(body).send().await.map_err(|e| classify(url, &e))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| classify(url, &e))?;
        let text = String::from_utf8_lossy(&bytes);
        if status != 200 {
            return Err(CallError::Http { status, url: url.clone(), snippet: value::truncate(text.trim(), 200) });
        }
        let text = repair_char_refs(&text);
        decode_response(&text).map_err(|e| match e {
            DecodeFailure::Fault(f) => CallError::Fault(f),
            DecodeFailure::Invalid => {
                CallError::Decode { url: url.clone(), snippet: value::truncate(text.trim(), 200) }
            }
        })
    }
}

/// The numeric character references of `text`: (start, end, code point).
fn char_refs(text: &str) -> impl Iterator<Item = (usize, usize, u32)> + '_ {
    text.match_indices("&#").filter_map(move |(start, _)| {
        let rest = &text[start + 2..];
        let end = rest.find(';').filter(|e| *e <= 10)?;
        let digits = &rest[..end];
        let n = match digits.strip_prefix('x').or_else(|| digits.strip_prefix('X')) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => digits.parse().ok()?,
        };
        Some((start, start + 2 + end + 1, n))
    })
}

/// Repairs the character references the parser would refuse, which would lose the whole
/// answer for one bad text: a UTF-16 surrogate pair (`&#55357;&#56832;`, as an encoder working
/// in UTF-16 writes one character beyond U+FFFF) becomes that character; a reference to no
/// character (a lone surrogate, 0, beyond U+10FFFF) becomes U+FFFD, as invalid UTF-8 bytes do.
fn repair_char_refs(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("&#") {
        return std::borrow::Cow::Borrowed(text);
    }
    let is_char = |n: u32| n != 0 && char::from_u32(n).is_some();
    let refs: Vec<(usize, usize, u32)> = char_refs(text).collect();
    if refs.iter().all(|(_, _, n)| is_char(*n)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < refs.len() {
        let (start, end, n) = refs[i];
        if is_char(n) || start < copied {
            i += 1;
            continue;
        }
        out.push_str(&text[copied..start]);
        let low = refs.get(i + 1).filter(|(s, _, lo)| *s == end && (0xDC00..0xE000).contains(lo));
        match low {
            Some((_, end2, lo)) if (0xD800..0xDC00).contains(&n) => {
                let c = char::from_u32(0x10000 + ((n - 0xD800) << 10) + (lo - 0xDC00));
                out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
                copied = *end2;
                i += 2;
            }
            _ => {
                tracing::warn!(
                    reference = &text[start..end],
                    "a peer sent a reference to no character: read as U+FFFD"
                );
                out.push(char::REPLACEMENT_CHARACTER);
                copied = end;
                i += 1;
            }
        }
    }
    out.push_str(&text[copied..]);
    std::borrow::Cow::Owned(out)
}

fn classify(url: &str, e: &reqwest::Error) -> CallError {
    if e.is_timeout() {
        CallError::Timeout { url: url.to_owned() }
    } else {
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason = format!("{reason}: {s}");
            source = s.source();
        }
        CallError::Connect { url: url.to_owned(), reason: value::truncate(&reason, 300) }
    }
}

/// Encodes a method call as a complete request document.
pub fn encode_call(method: &str, params: Vec<Value>) -> Result<String, CallError> {
    let call = MethodCall { name: method.into(), params };
    let xml = call.to_xml().map_err(|e| CallError::Encode(value::truncate(&e.to_string(), 200)))?;
    Ok(format!("<?xml version=\"1.0\"?>\n{xml}"))
}

/// Why a response body did not yield a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeFailure {
    /// The body is a fault response.
    Fault(Fault),
    /// The body is not an XML-RPC response.
    Invalid,
}

/// Decodes a response document: its value, or the fault it carries (int or text code).
///
/// The document is parsed once: the first element inside `<methodResponse>` decides between
/// value and fault.
pub fn decode_response(text: &str) -> Result<Value, DecodeFailure> {
    let start = text.find("<methodResponse").ok_or(DecodeFailure::Invalid)?;
    let after = text[start..].find('>').map(|i| start + i + 1).ok_or(DecodeFailure::Invalid)?;
    let rest = text[after..].trim_start();
    if rest.starts_with("<fault") {
        let open = rest.find('>').ok_or(DecodeFailure::Invalid)? + 1;
        let close = rest.rfind("</fault>").ok_or(DecodeFailure::Invalid)?;
        if close < open {
            return Err(DecodeFailure::Invalid);
        }
        let v = Value::from_xml(rest[open..close].trim()).map_err(|_| DecodeFailure::Invalid)?;
        match &v {
            Value::Struct(m) => Err(Fault::from_map(m).map_or(DecodeFailure::Invalid, DecodeFailure::Fault)),
            _ => Err(DecodeFailure::Invalid),
        }
    } else {
        MethodResponse::from_xml(&text[start..]).map(|r| r.value).map_err(|_| DecodeFailure::Invalid)
    }
}

/// Exponential backoff with full jitter, for bounded retries.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Attempts in total (1 = no retry).
    pub attempts: u32,
    /// Delay before the first retry.
    pub base: Duration,
    /// Upper bound of any delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { attempts: 4, base: Duration::from_millis(200), max: Duration::from_secs(10) }
    }
}

impl Backoff {
    /// Delay before retry number `retry` (1-based): random in `[0, min(max, base * 2^(retry-1))]`.
    pub fn delay(&self, retry: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let cap = exp.min(self.max);
        let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrogate_references_are_repaired_instead_of_losing_the_answer() {
        let doc = |s: &str| {
            format!(
                "<?xml version=\"1.0\"?><methodResponse><params><param><value><struct><member><name>lastname</name>\
                 <value><string>{s}</string></value></member></struct></value></param></params></methodResponse>"
            )
        };
        let read = |s: &str| {
            let d = doc(s);
            let v = decode_response(&repair_char_refs(&d)).unwrap();
            value::Record::from_value(&v, "r").unwrap().string("lastname").unwrap()
        };
        assert!(decode_response(&doc("Sur&#55357;rogate")).is_err(), "the parser alone loses the answer");
        assert_eq!(read("Smile &#55357;&#56832; &#xD83D;&#xDE00;"), "Smile \u{1F600} \u{1F600}");
        assert_eq!(
            read("Sur&#55357;rogate &#0; &#1114112; &#56832;&#55357;"),
            "Sur\u{FFFD}rogate \u{FFFD} \u{FFFD} \u{FFFD}\u{FFFD}"
        );
        assert_eq!(read("kept: &#233; &#1; &amp;#55357; &#x26;"), "kept: \u{e9} \u{1} &#55357; &");
        let plain = doc("no references");
        assert!(matches!(repair_char_refs(&plain), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn decodes_values_and_both_fault_code_types() {
        let ok = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse><params><param><value><string>abc</string></value></param></params></methodResponse>";
        assert_eq!(decode_response(ok), Ok(value::string("abc")));
        let f = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>3</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>Access Denied</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";
        assert_eq!(decode_response(f), Err(DecodeFailure::Fault(Fault::new(3, "Access Denied"))));
        let legacy = "<methodResponse><fault><value><struct><member><name>faultCode</name><value><string>AccessDenied</string></value></member><member><name>faultString</name><value><string>Access Denied</string></value></member></struct></value></fault></methodResponse>";
        assert_eq!(
            decode_response(legacy),
            Err(DecodeFailure::Fault(Fault::with_text_code("AccessDenied", "Access Denied")))
        );
        assert_eq!(decode_response(""), Err(DecodeFailure::Invalid));
        assert_eq!(decode_response("<html>500</html>"), Err(DecodeFailure::Invalid));
    }

    #[test]
    fn encoded_calls_decode_back() {
        let body = encode_call("call", vec![value::string("s"), value::array([value::int(1)])]).unwrap();
        let call = MethodCall::from_xml(&body).unwrap();
        assert_eq!(call.name, "call");
        assert_eq!(call.params.len(), 2);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff { attempts: 5, base: Duration::from_millis(100), max: Duration::from_millis(250) };
        for retry in 1..10 {
            assert!(b.delay(retry) <= Duration::from_millis(250));
        }
        assert!(b.delay(1) <= Duration::from_millis(100));
    }

    #[test]
    fn transient_classification() {
        assert!(CallError::Http { status: 500, url: String::new(), snippet: String::new() }.is_transient());
        assert!(!CallError::Http { status: 404, url: String::new(), snippet: String::new() }.is_transient());
        assert!(CallError::Timeout { url: String::new() }.is_transient());
        assert!(!CallError::Fault(Fault::new(5, "x")).is_transient());
        assert!(CallError::Decode { url: String::new(), snippet: String::new() }.is_transient());
    }
}
