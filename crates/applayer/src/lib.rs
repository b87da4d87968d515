//! mirador's application-layer parsers, pure and incremental: protocol
//! detection ([`detect`]), HTTP/1.x ([`http`]), TLS ([`tls`]) and DNS
//! ([`dns`]), and the EVE objects Suricata writes for them.
//!
//! The parsers do no I/O and keep no clock: a flow worker feeds them the
//! reassembled bytes of each direction in order (and tells them about
//! gaps and the end of a direction); they build transactions whose fields
//! the signature engine inspects as Suricata's sticky buffers and the EVE
//! writer logs. Every byte is hostile: no parser panics, and every buffer,
//! list and queue has a cap with a counted, defined behaviour at the cap.

pub mod detect;
pub mod dns;
pub mod http;
pub mod tls;

/// The direction of data within a flow, as the flow table decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    /// From the client (the flow's initiator) to the server.
    ToServer,
    /// From the server to the client.
    ToClient,
}

impl Dir {
    /// The other direction.
    pub fn reverse(self) -> Dir {
        match self {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        }
    }

    /// 0 for to-server, 1 for to-client (for per-direction arrays).
    pub fn index(self) -> usize {
        self as usize
    }
}
