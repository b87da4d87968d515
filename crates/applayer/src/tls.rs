//! TLS handshakes.
