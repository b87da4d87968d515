//! Zero-copy, sans-IO decoding of mirrored traffic.
//!
//! `mirador-wire` turns one captured frame (from a pcap record, or the payload
//! of a UDP datagram received on 4789/6081) into a [`Decoded`] value: the
//! mirror encapsulation it arrived in ([`Mirror`]: VXLAN, GENEVE, the AWS
//! Gateway Load Balancer double wrap, GRE/ERSPAN) and the innermost packet
//! ([`Inner`]: VLAN ids, IPv4/IPv6/ARP, TCP/UDP/ICMP, payload), or the reason
//! nothing inspectable remained ([`Invalid`]).
//!
//! # Should I use it?
//!
//! It is the first stage of the sensor: everything after it (sessions,
//! filters, flows, detection) works on its output. It does no I/O, reads no
//! clock, never allocates and never panics, whatever the input bytes.
//!
//! # Example
//!
//! ```
//! use mirador_wire::{decode, linktype, DecodeOptions};
//!
//! // An Ethernet frame that is not encapsulated: ARP request.
//! let frame = [
//!     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06,
//!     0, 1, 0x08, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1,
//!     0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
//! ];
//! let d = decode(linktype::ETHERNET, &frame, &DecodeOptions::default());
//! assert!(d.mirror.is_none());
//! assert!(d.outcome.is_ok());
//! ```
//!
//! # Truncation
//!
//! AWS truncates mirrored frames (`PacketLength`, target MTU), so an inner IP
//! total length larger than the captured bytes is normal: the packet decodes
//! with every captured byte kept and [`Inner::truncated`] set. Only when not
//! even the network header is present is the packet [`Invalid`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod community_id;
mod decode;
pub mod emit;
mod events;
mod packet;
mod time;

pub use decode::{DecodeOptions, PortSet, decode, decode_udp_payload};
pub use events::{DecodeEvent, EventSet, InvalidReason};
pub use packet::{
    Checksums, Decoded, EncapKind, FiveTuple, Fragment, GwlbMeta, Inner, Invalid, Mirror, Network,
    Transport, VlanIds,
};
pub use time::Timestamp;

/// Link-layer header types (LINKTYPE_* values of pcap and pcapng).
pub mod linktype {
    /// BSD loopback: a 4-byte address family in host byte order.
    pub const NULL: u32 = 0;
    /// Ethernet (DLT_EN10MB).
    pub const ETHERNET: u32 = 1;
    /// PPP, RFC 1661 framing.
    pub const PPP: u32 = 9;
    /// Raw IP (IPv4 or IPv6 by the version nibble).
    pub const RAW: u32 = 101;
    /// Cisco HDLC.
    pub const C_HDLC: u32 = 104;
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux "cooked" capture v1.
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux "cooked" capture v2.
    pub const LINUX_SLL2: u32 = 276;

    /// Whether [`crate::decode`] understands `linktype`.
    pub fn is_supported(linktype: u32) -> bool {
        matches!(
            linktype,
            NULL | ETHERNET | PPP | RAW | C_HDLC | LOOP | LINUX_SLL | IPV4 | IPV6 | LINUX_SLL2
        )
    }

    /// A human name for error messages ("LINKTYPE_IEEE802_11 (105)").
    pub fn name(linktype: u32) -> &'static str {
        match linktype {
            NULL => "LINKTYPE_NULL",
            ETHERNET => "LINKTYPE_ETHERNET",
            PPP => "LINKTYPE_PPP",
            RAW => "LINKTYPE_RAW",
            C_HDLC => "LINKTYPE_C_HDLC",
            LOOP => "LINKTYPE_LOOP",
            LINUX_SLL => "LINKTYPE_LINUX_SLL",
            IPV4 => "LINKTYPE_IPV4",
            IPV6 => "LINKTYPE_IPV6",
            LINUX_SLL2 => "LINKTYPE_LINUX_SLL2",
            105 => "LINKTYPE_IEEE802_11",
            127 => "LINKTYPE_IEEE802_11_RADIOTAP",
            _ => "an unknown linktype",
        }
    }
}
