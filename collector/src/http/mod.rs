//! The HTTP edge: server (accept loop, caps, PROXY protocol, graceful shutdown),
//! connection deadlines, routes, CORS and client identity.

pub mod client_ip;
pub mod connection;
pub mod cors;
pub mod proxy_protocol;
pub mod response;
pub mod routes;
pub mod server;
pub mod unavailable;
