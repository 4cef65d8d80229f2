//! Fuzzes the client side: `rpc::transport::decode_response` on whatever a peer may send.
//!
//! Properties: no panic, no abort; a decoded value renders and decodes back to the same
//! document (what the sandboxes and the server send is what the clients read).

#![no_main]

use libfuzzer_sys::fuzz_target;
use magento_connector::rpc::FaultStyle;
use magento_connector::rpc::dispatch::render;
use magento_connector::rpc::transport::{DecodeFailure, decode_response};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match decode_response(&text) {
        Ok(value) => {
            let first = render(FaultStyle::Connector, Ok(value));
            let again = decode_response(&first).expect("a rendered value decodes");
            assert_eq!(render(FaultStyle::Connector, Ok(again)), first, "render/decode round trip");
        }
        Err(DecodeFailure::Fault(fault)) => {
            let first = render(FaultStyle::Connector, Err(fault));
            match decode_response(&first) {
                Err(DecodeFailure::Fault(_)) => {}
                other => panic!("a rendered fault decodes as a fault, got {other:?}: {first}"),
            }
        }
        Err(DecodeFailure::Invalid) => {}
    }
});
