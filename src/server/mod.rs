//! The connector XML-RPC server.
