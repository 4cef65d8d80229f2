//! The Magento calls the order follow-up adds to the client, against recorded traffic:
//! `order_shipments` (order → `sales_order_shipment.list` by order id → `info` per shipment)
//! decodes the recorded shipment with its items, tracking number and comment.

mod magento_client_support;

use std::str::FromStr;

use dxr::Value;
use magento_client_support::*;
use magento_connector::magento::MagentoApi;
use magento_connector::rpc::{Fault, value};
use rust_decimal::Decimal;

#[tokio::test]
async fn shipments_of_an_order_decode_from_the_recordings() {
    let handler: Handler = Box::new(|path, args| match path {
        "sales_order.info" => recorded_response("1030-sales_order.info"),
        "sales_order_shipment.list" => {
            let filter = args.first().cloned().unwrap_or(Value::Nil);
            let want = value::structure([("order_id", value::structure([("eq", value::string("1"))]))]);
            if filter == want {
                Ok(value::array([value::structure([("increment_id", value::string("100000001"))])]))
            } else {
                Err(Fault::new(101, format!("unexpected filter {filter:?}")))
            }
        }
        "sales_order_shipment.info" => recorded_response("1170-sales_order_shipment.info"),
        _ => Err(Fault::new(3, "Invalid api path.")),
    });
    let fake = Fake::start(MultiCall::Supported, handler).await;
    let shipments = fake.client().order_shipments("100000001").await.unwrap();
    assert_eq!(shipments.len(), 1);
    let s = &shipments[0];
    assert_eq!(s.increment_id, "100000001");
    let d = |x: &str| Decimal::from_str(x).unwrap();
    assert_eq!(s.items, [(1, d("1")), (2, d("3")), (3, d("1"))].into_iter().collect());
    assert_eq!(s.tracks, ["1Z999AA10123456784"]);
    assert_eq!(s.comments, ["Shipped from WH/OUT/00042"]);
    assert_eq!(fake.state.calls_to("sales_order_shipment.info"), 1);
}
