//! Start-up smoke test of the OpenERP sandbox.

mod openerp_sandbox_support;

use dxr::Value;
use magento_connector::sandbox::openerp::{OpenErpSandbox, Options};
use openerp_sandbox_support::*;

#[tokio::test]
async fn starts_and_answers_version_and_a_search_read() {
    let erp = OpenErpSandbox::start(Options::default()).await.unwrap();
    let c = Client::new(&erp);
    let v = c.call("/xmlrpc/2/common", "version", vec![]).await.unwrap();
    assert!(matches!(&v, Value::Struct(m) if m.contains_key("server_version")));
    let r = c
        .ok(
            "product.product",
            "search_read",
            vec![domain(&[("default_code", "=", Value::String("API-LAMP-001".into()))])],
            kw(&[("fields", fields(&["name", "categ_id", "taxes_id", "qty_available", "image_1920"]))]),
        )
        .await;
    let recs = records(&r);
    assert_eq!(recs.len(), 1, "{r:?}");
    println!("{:?}", recs[0]);
    erp.shutdown().await;
}
