//! The OpenERP sandbox's knobs: random and targeted injections (fault, HTTP 500, held and
//! dropped connections) and call counters, seen from a client.

mod openerp_sandbox_support;

use std::time::Duration;

use dxr::Value;
use magento_connector::rpc::transport::encode_call;
use magento_connector::rpc::value;
use magento_connector::sandbox::knobs::{Inject, Rule};
use magento_connector::sandbox::openerp::{OpenErpSandbox, Options};
use openerp_sandbox_support::*;

fn create_order_body(erp: &OpenErpSandbox, reference: &str) -> String {
    encode_call(
        "execute_kw",
        vec![
            value::string(erp.db()),
            Value::Integer(2),
            value::string(erp.password()),
            value::string("sale.order"),
            value::string("create"),
            value::array([value::structure([
                ("partner_id", Value::Integer(6)),
                ("client_order_ref", value::string(reference)),
            ])]),
        ],
    )
    .unwrap()
}

#[tokio::test]
async fn targeted_faults_and_http_500_apply_nothing() {
    let erp = OpenErpSandbox::start(Options::default()).await.unwrap();
    let c = Client::new(&erp);
    erp.knobs().add_rule(Rule::method_with("sale.order.create", "MAGE-1", Inject::Fault, Some(1)));
    let f = decode(&c.raw("/xmlrpc/2/object", create_order_body(&erp, "MAGE-1")).await.unwrap().body).unwrap_err();
    assert_eq!(f.code, 1);
    assert!(f.message.contains("sandbox knob"));
    assert_eq!(erp.count("sale.order", &[]).unwrap(), 0);
    assert!(
        decode(&c.raw("/xmlrpc/2/object", create_order_body(&erp, "MAGE-2")).await.unwrap().body).is_ok(),
        "the rule only matches MAGE-1"
    );
    assert!(
        decode(&c.raw("/xmlrpc/2/object", create_order_body(&erp, "MAGE-1")).await.unwrap().body).is_ok(),
        "the rule ran out"
    );
    erp.knobs().add_rule(Rule::method_with("sale.order.create", "", Inject::Http500, Some(1)));
    let raw = c.raw("/xmlrpc/2/object", create_order_body(&erp, "MAGE-3")).await.unwrap();
    assert_eq!((raw.status, raw.body.as_str()), (500, ""));
    assert_eq!(erp.orders_by_client_ref("MAGE-3").len(), 0);
    erp.knobs().add_rule(Rule::method_with("sale.order.create", "", Inject::Deadlock, Some(1)));
    let f = decode(&c.raw("/xmlrpc/object", create_order_body(&erp, "MAGE-4")).await.unwrap().body).unwrap_err();
    assert_eq!(
        f.text_code.as_deref(),
        Some("could not serialize access due to concurrent update"),
        "legacy endpoint: text code"
    );
    assert_eq!(erp.knobs().count("sale.order.create"), 5);
    assert_eq!(erp.knobs().injected(), 3);
    erp.shutdown().await;
}

#[tokio::test]
async fn dropped_and_held_answers_after_the_work_is_done() {
    let erp = OpenErpSandbox::start(Options::default()).await.unwrap();
    let c = Client::new(&erp);
    erp.knobs().add_rule(Rule::method_with("sale.order.create", "LOST", Inject::Drop, Some(1)));
    let err = c.raw("/xmlrpc/2/object", create_order_body(&erp, "LOST")).await;
    assert!(err.is_err(), "the connection is dropped without an answer");
    assert_eq!(erp.orders_by_client_ref("LOST").len(), 1, "the order was created before the answer was lost");
    erp.knobs().set_hang(Duration::from_millis(1500));
    erp.knobs().add_rule(Rule::method_with("sale.order.create", "SLOW", Inject::Timeout, Some(1)));
    let http = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    let res = http.post(format!("{}/xmlrpc/2/object", erp.url())).body(create_order_body(&erp, "SLOW")).send().await;
    assert!(res.is_err_and(|e| e.is_timeout()));
    assert_eq!(erp.orders_by_client_ref("SLOW").len(), 1);
    assert!(
        decode(&c.raw("/xmlrpc/2/object", create_order_body(&erp, "AFTER")).await.unwrap().body).is_ok(),
        "later requests are served"
    );
    erp.shutdown().await;
}

#[tokio::test]
async fn random_injection_is_reproducible_and_counted() {
    let erp = OpenErpSandbox::start(Options::default()).await.unwrap();
    let c = Client::new(&erp);
    let run = |seed: u64| {
        let erp = &erp;
        let c = &c;
        async move {
            erp.knobs().set_random_faults(0.3, &[Inject::Fault, Inject::Http500], seed);
            let mut outcome = Vec::new();
            for _ in 0..40 {
                let raw = c.raw("/xmlrpc/2/common", encode_call("version", vec![]).unwrap()).await.unwrap();
                outcome.push(match raw.status {
                    500 => 'H',
                    _ => {
                        if decode(&raw.body).is_ok() {
                            '.'
                        } else {
                            'F'
                        }
                    }
                });
            }
            erp.knobs().clear_random_faults();
            outcome.into_iter().collect::<String>()
        }
    };
    let a = run(7).await;
    let b = run(7).await;
    assert_eq!(a, b);
    assert!(a.contains('H') && a.contains('F') && a.contains('.'), "{a}");
    erp.knobs().reset_counts();
    c.ok("res.partner", "search", vec![domain(&[])], kw(&[])).await;
    c.ok("res.partner", "search", vec![domain(&[])], kw(&[])).await;
    c.call("/xmlrpc/2/common", "version", vec![]).await.unwrap();
    assert_eq!(
        (erp.knobs().count("res.partner.search"), erp.knobs().count("common.version"), erp.knobs().requests()),
        (2, 1, 3)
    );
    erp.shutdown().await;
}
