//! Test-only packet encoders and pcap builders for mirador, independent of
//! its decoder.
//!
//! # Why this crate exists
//!
//! A decoder tested only against its own encoder can share a mistake with it
//! (a field read at the wrong offset is written at the same wrong offset, and
//! the round trip passes). Everything here is therefore built without
//! `mirador-wire` and without etherparse (which the decoder uses): inner
//! frames with `pnet_packet`'s setters and checksum helpers, tunnel headers
//! by hand from the RFC diagrams quoted next to the code. The decoder's tests
//! and the project's round-trip tests check `mirador_wire::decode` against
//! these bytes, and `mirador_wire::emit` against the decoder.
//!
//! # Tour
//!
//! - [`frame`]: one inner frame from a [`frame::FrameSpec`] (Ethernet, VLAN
//!   and MPLS tags, IPv4/IPv6, TCP/UDP/ICMP/ICMPv6, payload; lengths and
//!   checksums right unless [`frame::Corrupt`] says otherwise), ARP and
//!   arbitrary EtherTypes.
//! - [`tunnel`]: VXLAN (RFC 7348), GENEVE (RFC 8926) with any options and the
//!   AWS Gateway Load Balancer TLVs, GRE (RFC 2784/2890), ERSPAN types I, II
//!   and III; outer IP/UDP/Ethernet wrappers; the GWLB double wrap.
//! - [`pcap`]: pcap (micro/nanosecond) and pcapng (several interfaces)
//!   writers, in memory or to a file.
//! - [`strategies`]: proptest strategies for random valid inner frames with
//!   the facts a decoder must find ([`strategies::Expected`]).
//! - [`appgen`]: a large HTTP/TLS/DNS workload with sessions derived from
//!   rules to make them alert (`gen-app`).
//! - [`pcaps`]: the project's generated captures (`pcaps/` at the repository
//!   root), as functions, and [`pcaps::mixed_vxlan_traffic`] for benchmarks.
//!
//! ```
//! use mirador_testkit::{frame::FrameSpec, tunnel};
//!
//! let inner = FrameSpec::udp("10.0.1.15".parse().unwrap(), "10.0.0.2".parse().unwrap(), 40000, 53)
//!     .payload(b"query".to_vec())
//!     .build();
//! let outer = tunnel::vxlan_frame(
//!     "10.0.1.15".parse().unwrap(),
//!     "10.0.0.100".parse().unwrap(),
//!     50000,
//!     42,
//!     &inner.bytes,
//! );
//! assert_eq!(&outer[42..50], &tunnel::vxlan_header(42));
//! assert_eq!(&outer[50..], &inner.bytes[..]);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod appgen;
pub mod frame;
pub mod pcap;
pub mod pcaps;
pub mod strategies;
pub mod tunnel;
