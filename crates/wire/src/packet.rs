//! The values [`crate::decode`] produces.

use std::net::IpAddr;

use crate::events::{EventSet, InvalidReason};

/// The result of decoding one captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The mirror encapsulation the frame arrived in; `None` for traffic that
    /// was not encapsulated (an ordinary capture) or whose tunnel header
    /// itself was unreadable.
    pub mirror: Option<Mirror>,
    /// The innermost packet, or why nothing inspectable remained.
    pub outcome: Result<Inner<'a>, Invalid>,
}

/// How the mirrored frame was carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncapKind {
    /// VXLAN (RFC 7348), what AWS Traffic Mirroring sends to ENI and NLB targets.
    Vxlan,
    /// GENEVE (RFC 8926) carrying the frame directly.
    Geneve,
    /// AWS Gateway Load Balancer: GENEVE → IP → UDP 4789 → VXLAN → frame.
    Gwlb,
    /// ERSPAN type I, II or III over GRE (on-premises switches).
    Erspan,
    /// Plain GRE (no ERSPAN header).
    Gre,
}

impl EncapKind {
    /// The name used in EVE's `mirror.encap`.
    pub fn as_str(self) -> &'static str {
        match self {
            EncapKind::Vxlan => "vxlan",
            EncapKind::Geneve => "geneve",
            EncapKind::Gwlb => "gwlb",
            EncapKind::Erspan => "erspan",
            EncapKind::Gre => "gre",
        }
    }
}

/// The Gateway Load Balancer GENEVE options (class 0x0108).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct GwlbMeta {
    /// Type 1: the GWLB endpoint id (64 bits).
    pub endpoint_id: Option<u64>,
    /// Type 2: the attachment id (64 bits).
    pub attachment_id: Option<u64>,
    /// Type 3: the flow cookie (32 bits).
    pub flow_cookie: Option<u32>,
}

/// The mirror encapsulation of a packet: what attributes it to a session.
///
/// For nested tunnels this describes the *mirror* layer: the outermost
/// VXLAN/GENEVE/GRE layer, except that a GWLB GENEVE wrap around a VXLAN
/// packet is one mirror layer whose key and outer source are the VXLAN's
/// (the source ENI), with the GENEVE options in [`Mirror::gwlb`]. Tunnels
/// inside the mirrored frame are decoded through to the innermost packet
/// but do not change the mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mirror {
    /// The encapsulation.
    pub encap: EncapKind,
    /// VXLAN or GENEVE virtual network id (24 bits). For [`EncapKind::Gwlb`]
    /// the VNI of the inner VXLAN header.
    pub vni: Option<u32>,
    /// ERSPAN type II/III session id (10 bits).
    pub erspan_session_id: Option<u16>,
    /// ERSPAN version field: 0 = type I (no header), 1 = type II,
    /// 2 = type III. `None` when not ERSPAN.
    pub erspan_version: Option<u8>,
    /// Source address of the IP header enclosing the mirror header (for
    /// GWLB, the IP header enclosing the VXLAN: the source ENI's address).
    pub outer_src: IpAddr,
    /// Destination address of that IP header.
    pub outer_dst: IpAddr,
    /// UDP source port of the tunnel (0 for GRE).
    pub outer_src_port: u16,
    /// UDP destination port of the tunnel (0 for GRE).
    pub outer_dst_port: u16,
    /// GWLB GENEVE options, when present.
    pub gwlb: Option<GwlbMeta>,
}

/// Up to three VLAN ids of the innermost frame, outermost first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VlanIds {
    ids: [u16; 3],
    len: u8,
}

impl VlanIds {
    /// No VLAN tags.
    pub const EMPTY: VlanIds = VlanIds {
        ids: [0; 3],
        len: 0,
    };

    /// Appends an id; returns `false` (and changes nothing) when three are
    /// already held.
    pub fn push(&mut self, id: u16) -> bool {
        if usize::from(self.len) >= self.ids.len() {
            return false;
        }
        self.ids[usize::from(self.len)] = id & 0x0fff;
        self.len += 1;
        true
    }

    /// The ids, outermost first.
    pub fn as_slice(&self) -> &[u16] {
        &self.ids[..usize::from(self.len)]
    }

    /// How many tags.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// IP fragment information, for the defragmenter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// IPv4 identification (16 bits) or IPv6 fragment header identification.
    pub id: u32,
    /// Fragment offset in bytes.
    pub offset: u32,
    /// The more-fragments flag.
    pub more: bool,
}

/// The innermost network layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network<'a> {
    /// IPv4.
    Ipv4 {
        /// Source address.
        src: std::net::Ipv4Addr,
        /// Destination address.
        dst: std::net::Ipv4Addr,
        /// The protocol field.
        proto: u8,
        /// Time to live.
        ttl: u8,
        /// The total-length field (may exceed the captured bytes).
        total_len: u16,
        /// Header bytes including options, as captured.
        header: &'a [u8],
        /// Set when the packet is a fragment (offset != 0 or MF set).
        fragment: Option<Fragment>,
    },
    /// IPv6 (after walking the extension headers).
    Ipv6 {
        /// Source address.
        src: std::net::Ipv6Addr,
        /// Destination address.
        dst: std::net::Ipv6Addr,
        /// The upper-layer protocol after the extension headers.
        proto: u8,
        /// Hop limit.
        hop_limit: u8,
        /// The payload-length field (may exceed the captured bytes).
        payload_len: u16,
        /// Fixed header plus extension headers, as captured.
        header: &'a [u8],
        /// Set when a fragment header is present.
        fragment: Option<Fragment>,
    },
    /// ARP (or RARP); the body as captured.
    Arp {
        /// The ARP packet bytes.
        body: &'a [u8],
    },
    /// A well-formed frame of a link-layer protocol that is not inspected
    /// further (LLDP, STP, IPX, ...).
    Other {
        /// The EtherType (or the linktype-specific protocol value).
        ethertype: u16,
    },
}

/// The innermost transport layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Sequence number.
        seq: u32,
        /// Acknowledgement number.
        ack: u32,
        /// The flags byte (FIN 0x01 ... CWR 0x80).
        flags: u8,
        /// Window.
        window: u16,
        /// Header length in bytes (with options).
        header_len: u8,
    },
    /// UDP.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// The length field.
        len: u16,
    },
    /// ICMPv4.
    Icmpv4 {
        /// Type.
        icmp_type: u8,
        /// Code.
        icmp_code: u8,
    },
    /// ICMPv6.
    Icmpv6 {
        /// Type.
        icmp_type: u8,
        /// Code.
        icmp_code: u8,
    },
    /// No transport header: a non-first fragment, an L4 header cut off by
    /// truncation, or a protocol not decoded (GRE without ERSPAN, SCTP, ...).
    None,
}

/// Checksum observations. A checksum that could not be checked (truncated
/// packet, offloaded zero UDP checksum) is neither good nor bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checksums {
    /// The IPv4 header checksum is wrong.
    pub ipv4_bad: bool,
    /// The TCP/UDP/ICMP checksum is wrong.
    pub l4_bad: bool,
    /// The L4 checksum was not checked (truncated, or checking disabled).
    pub l4_unchecked: bool,
}

/// The innermost packet, ready for inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inner<'a> {
    /// The innermost link-layer frame as captured: from its Ethernet header
    /// for Ethernet frames, from the IP header where the innermost layer
    /// has no L2 (GENEVE/GRE carrying IP, raw-IP linktypes).
    pub frame: &'a [u8],
    /// VLAN ids of the innermost frame.
    pub vlan: VlanIds,
    /// Network layer.
    pub network: Network<'a>,
    /// Transport layer.
    pub transport: Transport,
    /// L4 payload as captured (empty for fragments' non-first pieces: there
    /// it is the IP payload).
    pub payload: &'a [u8],
    /// Some bytes the headers declare were not captured.
    pub truncated: bool,
    /// Checksum observations.
    pub checksums: Checksums,
    /// Non-fatal decoder events.
    pub events: EventSet,
    /// Number of tunnel layers decoded through (0 for a plain packet).
    pub tunnel_depth: u8,
}

/// The normalized-by-nothing 5-tuple of a packet, in packet direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FiveTuple {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    /// Source port (0 where the protocol has none).
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

impl Inner<'_> {
    /// The packet's 5-tuple when it has an IP layer. Ports are 0 for
    /// protocols without ports and when the L4 header was not captured.
    pub fn five_tuple(&self) -> Option<FiveTuple> {
        let (src, dst, proto) = match self.network {
            Network::Ipv4 {
                src, dst, proto, ..
            } => (IpAddr::V4(src), IpAddr::V4(dst), proto),
            Network::Ipv6 {
                src, dst, proto, ..
            } => (IpAddr::V6(src), IpAddr::V6(dst), proto),
            _ => return None,
        };
        let (src_port, dst_port) = match self.transport {
            Transport::Tcp {
                src_port, dst_port, ..
            }
            | Transport::Udp {
                src_port, dst_port, ..
            } => (src_port, dst_port),
            _ => (0, 0),
        };
        Some(FiveTuple {
            src,
            dst,
            proto,
            src_port,
            dst_port,
        })
    }

    /// The fragment information, when the packet is an IP fragment.
    pub fn fragment(&self) -> Option<Fragment> {
        match self.network {
            Network::Ipv4 { fragment, .. } | Network::Ipv6 { fragment, .. } => fragment,
            _ => None,
        }
    }
}

/// Why a packet has nothing inspectable left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid {
    /// The decoder event that stopped decoding.
    pub reason: InvalidReason,
    /// The innermost IP addresses that were read before decoding stopped,
    /// for the anomaly record (may be from an outer layer).
    pub addrs: Option<(IpAddr, IpAddr)>,
    /// The innermost IP protocol read before decoding stopped, if any.
    pub proto: Option<u8>,
}
