//! Secrets never appear in logs, faults or run messages: a whole session of calls with a token
//! and backend secrets configured, logs captured through the real subscriber (one test: the
//! subscriber is global to this test binary).

mod server_support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use magento_connector::rpc::CallError;
use magento_connector::rpc::value;
use magento_connector::store::Store;
use magento_connector::telemetry::{self, LogOptions, Redactor};
use server_support::*;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_appear_in_no_log_line_fault_or_run_message() {
    let capture = Capture::default();
    let sink = capture.clone();
    let config = magento_connector::config::Config::from_raw(raw_config(), Some("t.toml".into()), &|_| None).unwrap();
    let redactor = Redactor::new(&config.secrets());
    let sub =
        telemetry::subscriber(LogOptions { json: false, verbosity: 2 }, "trace", redactor, move || sink.clone(), false);
    tracing::subscriber::set_global_default(sub).unwrap();

    let exec = FakeExecutor::new();
    let srv = spawn(fake_services(&exec), Store::open_in_memory().unwrap(), settings(2)).await;
    let c = srv.client();
    let mut answers: Vec<String> = Vec::new();
    let keep = |answers: &mut Vec<String>, r: Result<dxr::Value, CallError>| answers.push(format!("{r:?}"));

    // Right token, wrong token, a token sent as a method name and as a parameter.
    keep(&mut answers, c.call("connector.version", vec![]).await);
    keep(
        &mut answers,
        client(&srv.url, Some(&format!("Bearer {ERP_PASSWORD}"))).call("connector.version", vec![]).await,
    );
    keep(&mut answers, client(&srv.url, Some(&format!("Token {TOKEN}"))).call("connector.version", vec![]).await);
    keep(&mut answers, c.call(TOKEN, vec![]).await);
    keep(&mut answers, c.call("runs.get", vec![value::string(MAGENTO_KEY)]).await);
    keep(&mut answers, c.call("catalog.export_products", vec![value::string(ERP_PASSWORD), no_options()]).await);
    keep(
        &mut answers,
        c.call("stock.export", vec![value::string("shop"), st(vec![(MAGENTO_KEY, value::boolean(true))])]).await,
    );
    // Peers and jobs that quote the secrets.
    keep(&mut answers, c.call("connector.check", vec![value::string("shop")]).await);
    keep(&mut answers, c.call("magento.stores", vec![value::string("shop")]).await);
    let id = c.call("orders.import", vec![value::string("shop"), no_options()]).await.unwrap();
    let run = wait_run(&c, int_of(&id)).await;
    answers.push(format!("{run:?}"));
    keep(&mut answers, c.call("runs.report", vec![id.clone()]).await);
    keep(&mut answers, c.call("runs.list", vec![]).await);
    srv.stop().await;

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("call refused: wrong token"), "the capture works: {log}");
    assert!(
        log.contains("refused [redacted]") || log.contains("password [redacted]"),
        "secret-bearing lines are logged, scrubbed: {log}"
    );
    for secret in [TOKEN, ERP_PASSWORD, MAGENTO_KEY] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
        for a in &answers {
            // A caller's own wrong input may be echoed back to that caller only when it is not a
            // configured secret; configured secrets never come back.
            assert!(!a.contains(secret), "{secret} in an answer: {a}");
        }
    }
    let error = str_of(member(&run, "error"));
    assert_eq!(error, "OpenERP refused password [redacted] and Magento key [redacted]");
}
