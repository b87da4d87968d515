//! Application-layer protocol detection (HTTP, TLS, DNS) by content and port.
