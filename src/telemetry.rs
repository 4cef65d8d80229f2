//! Logging: a `tracing` subscriber with an env filter, human or JSON lines on stderr, the
//! `log` bridge (dxr logs through `log`), and a redacting writer that scrubs every configured
//! secret from every formatted line.
//!
//! Never logging parameters is the first line of defence; the [`Redactor`] is the second: any
//! text that reaches a log line, a run message or a run error passes through it. This module
//! only formats and filters; it decides nothing about what is logged.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::secret::{REDACTED, Secret};

/// Replaces configured secrets in text, in the forms they could take once formatted (as is,
/// JSON-escaped, XML-escaped). Cheap to clone.
///
/// ```
/// use magento_connector::secret::Secret;
/// use magento_connector::telemetry::Redactor;
///
/// let r = Redactor::new([&Secret::new("s3cr3t&key")]);
/// assert_eq!(r.scrub("login with s3cr3t&key failed"), "login with [redacted] failed");
/// assert_eq!(r.scrub("<string>s3cr3t&amp;key</string>"), "<string>[redacted]</string>");
/// ```
#[derive(Clone, Default)]
pub struct Redactor {
    needles: Arc<Vec<String>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} forms)", self.needles.len())
    }
}

impl Redactor {
    /// A redactor for these secrets (values shorter than 4 characters are ignored, as in
    /// [`Secret::scrub`], so ordinary words are not mangled).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        let mut needles: Vec<String> = Vec::new();
        for s in secrets {
            let raw = s.expose();
            if raw.chars().count() < 4 {
                continue;
            }
            // As is and as Rust's `{:?}` quotes it (faults quote names with it), each of them
            // raw, JSON-escaped (JSON logs), XML-escaped without and with quotes (dxr escapes
            // `"` and `'` too).
            let debug = format!("{raw:?}");
            let debug = debug.strip_prefix('"').and_then(|d| d.strip_suffix('"')).unwrap_or(&debug).to_owned();
            for base in [raw.to_owned(), debug] {
                let json = serde_json::to_string(&base).unwrap_or_default();
                let json = json.strip_prefix('"').and_then(|j| j.strip_suffix('"')).unwrap_or(&json).to_owned();
                let xml = base.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
                let xml_quoted = xml.replace('"', "&quot;").replace('\'', "&apos;");
                for form in [base, json, xml, xml_quoted] {
                    if !form.is_empty() && !needles.contains(&form) {
                        needles.push(form);
                    }
                }
            }
        }
        // Longest first, so a secret containing another is replaced whole.
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        Redactor { needles: Arc::new(needles) }
    }

    /// True when there is nothing to scrub.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every secret replaced by `[redacted]`.
    pub fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for n in self.needles.iter() {
            if out.contains(n.as_str()) {
                out = Cow::Owned(out.replace(n.as_str(), REDACTED));
            }
        }
        out
    }
}

/// A [`MakeWriter`] that buffers each log event and scrubs it before passing it on.
#[derive(Debug, Clone)]
pub struct RedactingMakeWriter<M> {
    inner: M,
    redactor: Redactor,
}

impl<M> RedactingMakeWriter<M> {
    /// Wraps `inner`.
    pub fn new(inner: M, redactor: Redactor) -> Self {
        RedactingMakeWriter { inner, redactor }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter { inner: self.inner.make_writer(), buf: Vec::new(), redactor: self.redactor.clone() }
    }
}

/// Writer for one event: collects the formatted bytes, scrubs them on flush or drop.
pub struct RedactingWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    redactor: Redactor,
}

impl<W: Write> RedactingWriter<W> {
    fn drain(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buf);
        let clean = self.redactor.scrub(&text);
        let result = self.inner.write_all(clean.as_bytes());
        self.buf.clear();
        result
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.drain()?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        // Nowhere to report a failed log write; losing the line is the only option.
        let _ = self.drain();
    }
}

/// How to log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// One JSON object per line instead of human text.
    pub json: bool,
    /// `-v` count: 0 = `RUST_LOG` or the default level; 1 = debug for this crate; 2+ = trace.
    pub verbosity: u8,
}

/// The event filter: `-v` wins, then `RUST_LOG`, then `default` (e.g. `info`).
pub fn filter(opts: LogOptions, default: &str) -> EnvFilter {
    match opts.verbosity {
        0 => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
        1 => EnvFilter::new("info,magento_connector=debug"),
        _ => EnvFilter::new("debug,magento_connector=trace"),
    }
}

/// A subscriber writing to `writer` through `redactor` (tests pass a buffer).
pub fn subscriber<M>(
    opts: LogOptions,
    default: &str,
    redactor: Redactor,
    writer: M,
    ansi: bool,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    M: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let writer = RedactingMakeWriter::new(writer, redactor);
    let builder = tracing_subscriber::fmt().with_env_filter(filter(opts, default)).with_writer(writer);
    if opts.json {
        Box::new(builder.json().with_current_span(true).with_span_list(false).finish())
    } else {
        Box::new(builder.with_ansi(ansi).with_target(true).finish())
    }
}

/// Sends panic messages to the log (error level, scrubbed by the subscriber's redactor, in
/// its format) instead of printing them raw on stderr: a panic message may quote a secret.
/// [`init`] installs it; the previous hook is dropped.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
        tracing::error!(target: "panic", %location, %thread, "panic: {message}");
    }));
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up logging: {0}")]
pub struct TelemetryError(String);

/// Installs the global subscriber on stderr (level `default` unless `-v` or `RUST_LOG` say
/// otherwise) and the `log` bridge. Call once, early.
pub fn init(opts: LogOptions, default: &str, redactor: Redactor) -> Result<(), TelemetryError> {
    let ansi = !opts.json && std::io::stderr().is_terminal();
    subscriber(opts, default, redactor, std::io::stderr, ansi).try_init().map_err(|e| TelemetryError(e.to_string()))?;
    install_panic_hook();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_every_form_of_every_secret() {
        let token = Secret::new("tok\"en<&>-123");
        let pw = Secret::new("hunter2-pw");
        let r = Redactor::new([&token, &pw, &Secret::new("abc")]);
        let json = serde_json::to_string("tok\"en<&>-123").unwrap();
        let text = format!("raw tok\"en<&>-123 json {json} xml tok\"en&lt;&amp;&gt;-123 pw hunter2-pw short abc");
        let out = r.scrub(&text);
        assert!(
            !out.contains("hunter2-pw") && !out.contains("en<&>") && !out.contains("en\\\"") && !out.contains("en&lt;"),
            "{out}"
        );
        assert!(out.contains("short abc"), "secrets under 4 characters are left alone: {out}");
        // As dxr writes it (quotes escaped too) and as `{:?}` quotes it, also inside JSON.
        let debug = format!("{:?}", "tok\"en<&>-123");
        let quoted = format!(
            "xml tok&quot;en&lt;&amp;&gt;-123 debug {debug} json-debug {}",
            serde_json::to_string(&debug).unwrap()
        );
        let out = r.scrub(&quoted);
        assert!(!out.contains("en&lt;") && !out.contains("tok\\") && !out.contains("en<"), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 3, "{out}");
        assert_eq!(r.scrub("nothing here"), Cow::Borrowed("nothing here"));
    }

    #[test]
    fn the_writer_scrubs_what_it_writes_even_when_split() {
        let r = Redactor::new([&Secret::new("s3cr3t-value")]);
        let mut out = Vec::new();
        {
            let mut w = RedactingWriter { inner: &mut out, buf: Vec::new(), redactor: r };
            w.write_all(b"a s3cr3t-").unwrap();
            w.write_all(b"value b\n").unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "a [redacted] b\n");
    }
}
