//! The HTTP edge: server (accept loop, timeouts, PROXY protocol, graceful shutdown),
//! routes, CORS and client identity.

pub mod client_ip;
pub mod cors;
pub mod proxy_protocol;
pub mod response;
pub mod routes;
pub mod server;
