//! proptest strategies for inner frames, with the facts a decoder must find.
//!
//! ```
//! use mirador_testkit::strategies::arb_inner_frame;
//! use proptest::prelude::*;
//!
//! proptest!(|(f in arb_inner_frame())| {
//!     // A prefix that reaches the end of the L4 header still holds the ports.
//!     let cut = f.expected.l4_header_end;
//!     prop_assert!(f.expected.ports_in_prefix(cut).is_some());
//!     prop_assert!(f.bytes.len() >= cut);
//! });
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::prelude::*;

use crate::frame::{FrameSpec, L4, Vlan, tcp_flags};

/// A random inner Ethernet frame and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InnerFrame {
    /// The frame bytes.
    pub bytes: Vec<u8>,
    /// What a decoder must find in them.
    pub expected: Expected,
    /// The spec it was built from.
    pub spec: FrameSpec,
}

/// The facts of an [`InnerFrame`], with offsets for reasoning about
/// truncated prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// IP source.
    pub src: IpAddr,
    /// IP destination.
    pub dst: IpAddr,
    /// IP protocol (after IPv6 extension headers).
    pub proto: u8,
    /// TCP/UDP source port (0 for ICMP).
    pub src_port: u16,
    /// TCP/UDP destination port (0 for ICMP).
    pub dst_port: u16,
    /// VLAN ids, outermost first.
    pub vlan_ids: Vec<u16>,
    /// ICMP/ICMPv6 (type, code), when ICMP.
    pub icmp: Option<(u8, u8)>,
    /// TCP flags, when TCP.
    pub tcp_flags: Option<u8>,
    /// Offset of the IP header.
    pub ip_start: usize,
    /// Offset of the L4 header (the IP header, options included, ends here).
    pub l4_start: usize,
    /// Offset where the L4 header (with TCP options) ends.
    pub l4_header_end: usize,
    /// Offset where the IP packet ends; Ethernet padding may follow.
    pub ip_end: usize,
    /// Length of the frame.
    pub frame_len: usize,
}

impl Expected {
    /// Whether a prefix of `captured` bytes holds the whole IP header (so
    /// addresses and protocol are readable).
    pub fn holds_ip_header(&self, captured: usize) -> bool {
        captured >= self.l4_start
    }

    /// The ports a decoder must report for a prefix of `captured` bytes:
    /// `Some` when the prefix holds the whole L4 header, `None` when it
    /// does not (a decoder may then report the ports or 0).
    pub fn ports_in_prefix(&self, captured: usize) -> Option<(u16, u16)> {
        (captured >= self.l4_header_end).then_some((self.src_port, self.dst_port))
    }

    /// Whether a prefix of `captured` bytes misses some of the IP packet
    /// (padding after it does not count).
    pub fn is_truncated(&self, captured: usize) -> bool {
        captured < self.ip_end
    }
}

/// UDP ports a decoder treats as tunnels (VXLAN, GENEVE, and the other
/// VXLAN/GENEVE ports some decoders know); random inner UDP avoids them so
/// the frame is not read as a nested tunnel.
pub const TUNNEL_PORTS: [u16; 4] = [4789, 6081, 8472, 4790];

fn arb_port() -> impl Strategy<Value = u16> {
    any::<u16>().prop_filter("not a tunnel port", |p| !TUNNEL_PORTS.contains(p))
}

fn arb_vlans() -> impl Strategy<Value = Vec<Vlan>> {
    (vec((1u16..4095, 0u8..8), 0..=3), any::<bool>()).prop_map(|(ids, qinq)| {
        let n = ids.len();
        ids.into_iter()
            .enumerate()
            .map(|(i, (id, pcp))| {
                let mut v = if qinq && i == 0 && n > 1 {
                    Vlan::dot1ad(id)
                } else {
                    Vlan::dot1q(id)
                };
                v.pcp = pcp;
                v
            })
            .collect()
    })
}

fn arb_addrs() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        3 => (any::<[u8; 4]>(), any::<[u8; 4]>())
            .prop_map(|(a, b)| (IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V4(Ipv4Addr::from(b)))),
        1 => (any::<[u8; 16]>(), any::<[u8; 16]>())
            .prop_map(|(a, b)| (IpAddr::V6(Ipv6Addr::from(a)), IpAddr::V6(Ipv6Addr::from(b)))),
    ]
}

fn arb_tcp_options() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![]),
        // MSS 1460
        Just(vec![2, 4, 0x05, 0xb4]),
        // MSS, SACK permitted, timestamps, NOP, window scale 7 (a Linux SYN)
        Just(vec![
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7
        ]),
        // NOP NOP timestamps (a Linux data segment)
        Just(vec![1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1]),
    ]
}

fn arb_l4(v6: bool) -> impl Strategy<Value = L4> {
    let tcp = (
        arb_port(),
        arb_port(),
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
        any::<u16>(),
        arb_tcp_options(),
    )
        .prop_map(
            |(src_port, dst_port, seq, ack, flags, window, options)| L4::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                window,
                options,
            },
        );
    let udp =
        (arb_port(), arb_port()).prop_map(|(src_port, dst_port)| L4::Udp { src_port, dst_port });
    // Echo only: ICMP errors quote another packet, which a decoder may
    // read, and NDP has its own rules; neither is this strategy's point.
    let (req, rep) = if v6 { (128u8, 129u8) } else { (8, 0) };
    let icmp =
        (prop_oneof![Just(req), Just(rep)], any::<[u8; 4]>()).prop_map(|(icmp_type, rest)| {
            L4::Icmp {
                icmp_type,
                code: 0,
                rest,
            }
        });
    prop_oneof![3 => tcp, 2 => udp, 1 => icmp]
}

/// A random, valid [`FrameSpec`]: Ethernet with 0-3 VLAN tags (outer
/// 802.1ad sometimes), IPv4 (3 in 4) or IPv6, TCP/UDP/ICMP(v6) echo,
/// random addresses, ports (never a tunnel port), TTL, id, TCP fields and
/// options, payload of 0..1400 bytes (small ones often), sometimes padded
/// to 60 bytes.
pub fn arb_frame_spec() -> impl Strategy<Value = FrameSpec> {
    arb_addrs().prop_flat_map(|(src, dst)| {
        let v6 = src.is_ipv6();
        (
            arb_l4(v6),
            arb_vlans(),
            any::<([u8; 6], [u8; 6])>(),
            (
                1u8..=255,
                any::<u16>(),
                any::<bool>(),
                0u8..64,
                any::<u32>(),
            ),
            // Small payloads often (ACKs, DNS; and frames short enough to be
            // padded), any size up to 1400 otherwise.
            prop_oneof![
                1 => vec(any::<u8>(), 0..16),
                1 => vec(any::<u8>(), 0..200),
                2 => vec(any::<u8>(), 0..1400),
            ],
            any::<bool>(),
        )
            .prop_map(
                move |(l4, vlans, (smac, dmac), (ttl, id, df, dscp, flow), payload, pad)| {
                    let mut s = FrameSpec::udp(src, dst, 1, 2)
                        .vlan_tags(vlans)
                        .macs(smac, dmac)
                        .ttl(ttl)
                        .payload(payload)
                        .pad_to(if pad { 60 } else { 0 });
                    s.l4 = l4;
                    s.ipv4.id = id;
                    s.ipv4.df = df;
                    s.ipv4.dscp = dscp;
                    s.ipv6.flow_label = flow & 0xf_ffff;
                    s.ipv6.traffic_class = dscp << 2;
                    s
                },
            )
    })
}

/// [`arb_frame_spec`] built, with its [`Expected`] facts.
pub fn arb_inner_frame() -> impl Strategy<Value = InnerFrame> {
    arb_frame_spec().prop_map(|spec| inner_frame(&spec))
}

/// Builds `spec` and works out its [`Expected`] facts.
pub fn inner_frame(spec: &FrameSpec) -> InnerFrame {
    let b = spec.build();
    let v6 = spec.is_ipv6();
    let (src_port, dst_port) = spec.l4.ports();
    let vlan_ids = match &spec.link {
        crate::frame::Link::Ethernet { vlans, .. } => vlans.iter().map(|v| v.id).collect(),
        crate::frame::Link::RawIp => Vec::new(),
    };
    let expected = Expected {
        src: spec.src,
        dst: spec.dst,
        proto: spec.l4.proto(v6),
        src_port,
        dst_port,
        vlan_ids,
        icmp: match &spec.l4 {
            L4::Icmp {
                icmp_type, code, ..
            } => Some((*icmp_type, *code)),
            _ => None,
        },
        tcp_flags: match &spec.l4 {
            L4::Tcp { flags, .. } => Some(*flags),
            _ => None,
        },
        ip_start: b.ip_start,
        l4_start: b.l4_start,
        l4_header_end: b.l4_header_end,
        ip_end: b.payload_end,
        frame_len: b.bytes.len(),
    };
    InnerFrame {
        bytes: b.bytes,
        expected,
        spec: spec.clone(),
    }
}

/// The same flow in the other direction: addresses, ports and MACs
/// swapped, the TCP flags kept (the bytes differ, the flow is the same).
pub fn reverse(spec: &FrameSpec) -> FrameSpec {
    let mut r = spec.clone();
    std::mem::swap(&mut r.src, &mut r.dst);
    if let crate::frame::Link::Ethernet { src, dst, .. } = &mut r.link {
        std::mem::swap(src, dst);
    }
    match &mut r.l4 {
        L4::Tcp {
            src_port, dst_port, ..
        }
        | L4::Udp { src_port, dst_port } => std::mem::swap(src_port, dst_port),
        L4::Icmp { icmp_type, .. } => {
            *icmp_type = match *icmp_type {
                8 => 0,
                0 => 8,
                128 => 129,
                129 => 128,
                t => t,
            }
        }
        L4::Raw { .. } => {}
    }
    r
}

/// A TCP SYN from a random client port, for tests that need "a flow".
pub fn syn(src: IpAddr, dst: IpAddr, src_port: u16, dst_port: u16) -> FrameSpec {
    FrameSpec::tcp(src, dst, src_port, dst_port)
        .flags(tcp_flags::SYN)
        .seq_ack(1000, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::checksums_ok;

    proptest! {
        #[test]
        fn frames_are_valid(f in arb_inner_frame()) {
            let e = &f.expected;
            prop_assert_eq!(e.frame_len, f.bytes.len());
            prop_assert!(e.ip_start <= e.l4_start && e.l4_start <= e.l4_header_end);
            prop_assert!(e.l4_header_end <= e.ip_end && e.ip_end <= e.frame_len);
            prop_assert_eq!(e.ip_start, 14 + 4 * e.vlan_ids.len());
            prop_assert!(checksums_ok(&f.spec.build()));
            // The IP version nibble sits at ip_start.
            let want = if e.src.is_ipv6() { 6 } else { 4 };
            prop_assert_eq!(f.bytes[e.ip_start] >> 4, want);
            // Ports are where the L4 header starts.
            if e.proto == 6 || e.proto == 17 {
                let p = &f.bytes[e.l4_start..];
                prop_assert_eq!(u16::from_be_bytes([p[0], p[1]]), e.src_port);
                prop_assert_eq!(u16::from_be_bytes([p[2], p[3]]), e.dst_port);
            }
        }
    }

    #[test]
    fn reverse_swaps() {
        let s = FrameSpec::udp(
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            1,
            2,
        );
        let r = reverse(&s);
        assert_eq!(r.l4.ports(), (2, 1));
        assert_eq!(r.src, s.dst);
    }
}
