//! XML-RPC plumbing shared by the connector server, both clients and both sandboxes.
//!
//! * [`value`]: builders and lenient readers for the values Magento and Odoo really send.
//! * [`fault`]: faults with integer or text codes.
//! * [`guard`]: checks on raw request bodies before parsing (DOCTYPE, nesting).
//! * [`dispatch`]: our dispatcher (method table, limits, `system.*`, fault styles).
//! * [`transport`]: outbound calls over reqwest/rustls with typed errors and backoff.
//!
//! Nothing here knows a Magento resource or an Odoo model.

pub mod dispatch;
pub mod fault;
pub mod guard;
pub mod transport;
pub mod value;

pub use dispatch::{Call, Endpoint, FaultStyle, Limits, MethodResult, Registry, RequestMeta};
pub use fault::Fault;
pub use transport::{Backoff, CallError, HttpOptions, Transport};
