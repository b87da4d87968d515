//! Inner frames (what was mirrored), built with `pnet_packet`.
//!
//! A [`FrameSpec`] describes one Ethernet (or raw IP) frame: MACs, VLAN tags,
//! MPLS labels, IPv4/IPv6 header fields, a TCP/UDP/ICMP/ICMPv6 header and a
//! payload. [`FrameSpec::build`] lays it out with pnet's `Mutable*Packet`
//! setters and fills lengths and checksums with pnet's checksum helpers,
//! unless [`Corrupt`] asks for them to be wrong. The result carries the
//! offsets of each layer ([`Built`]) so tests can reason about truncation.
//!
//! ```
//! use mirador_testkit::frame::{FrameSpec, tcp_flags};
//!
//! let f = FrameSpec::tcp("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), 40000, 80)
//!     .flags(tcp_flags::SYN)
//!     .vlans(&[100])
//!     .build();
//! assert_eq!(f.ip_start, 18);
//! assert_eq!(f.l4_header_end, 18 + 20 + 20);
//! assert_eq!(f.bytes.len(), 60); // padded to the Ethernet minimum
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pnet_packet::ethernet::{EtherType, MutableEthernetPacket};
use pnet_packet::icmp::{IcmpCode, IcmpPacket, IcmpType, MutableIcmpPacket};
use pnet_packet::icmpv6::{Icmpv6Code, Icmpv6Packet, Icmpv6Type, MutableIcmpv6Packet};
use pnet_packet::ip::IpNextHeaderProtocol;
use pnet_packet::ipv4::{Ipv4Packet, MutableIpv4Packet};
use pnet_packet::ipv6::MutableIpv6Packet;
use pnet_packet::tcp::{MutableTcpPacket, TcpPacket};
use pnet_packet::udp::{MutableUdpPacket, UdpPacket};
use pnet_packet::vlan::{ClassOfService, MutableVlanPacket};

/// A MAC address.
pub type Mac = [u8; 6];

/// EtherTypes used by the builders.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// 802.1Q VLAN tag.
    pub const DOT1Q: u16 = 0x8100;
    /// 802.1ad service tag (QinQ outer).
    pub const DOT1AD: u16 = 0x88a8;
    /// MPLS unicast.
    pub const MPLS: u16 = 0x8847;
    /// Transparent Ethernet bridging (GRE/GENEVE carrying Ethernet).
    pub const TEB: u16 = 0x6558;
    /// ERSPAN type I and II (GRE protocol).
    pub const ERSPAN_II: u16 = 0x88be;
    /// ERSPAN type III (GRE protocol).
    pub const ERSPAN_III: u16 = 0x22eb;
}

/// TCP flag bits (the 13th header byte).
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
}

/// IP protocol numbers.
pub mod proto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// GRE.
    pub const GRE: u8 = 47;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
}

/// One VLAN tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vlan {
    /// The TPID written before this tag's TCI (0x8100 or 0x88a8).
    pub tpid: u16,
    /// Priority code point (3 bits).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN id (12 bits).
    pub id: u16,
}

impl Vlan {
    /// An 802.1Q tag.
    pub fn dot1q(id: u16) -> Vlan {
        Vlan {
            tpid: ethertype::DOT1Q,
            pcp: 0,
            dei: false,
            id,
        }
    }
    /// An 802.1ad (S-tag, QinQ outer) tag.
    pub fn dot1ad(id: u16) -> Vlan {
        Vlan {
            tpid: ethertype::DOT1AD,
            ..Vlan::dot1q(id)
        }
    }
}

/// One MPLS label stack entry (RFC 3032 §2.1); the bottom-of-stack bit is
/// set on the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mpls {
    /// Label (20 bits).
    pub label: u32,
    /// Traffic class (3 bits).
    pub tc: u8,
    /// TTL.
    pub ttl: u8,
}

/// The link layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Ethernet II, with tags.
    Ethernet {
        /// Source MAC.
        src: Mac,
        /// Destination MAC.
        dst: Mac,
        /// VLAN tags, outermost first.
        vlans: Vec<Vlan>,
        /// MPLS labels after the tags (EtherType 0x8847), outermost first.
        mpls: Vec<Mpls>,
    },
    /// No link header: the frame starts with the IP header (LINKTYPE_RAW,
    /// GENEVE/GRE carrying IP).
    RawIp,
}

/// IPv4 header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Fields {
    /// TTL.
    pub ttl: u8,
    /// Identification.
    pub id: u16,
    /// Don't fragment.
    pub df: bool,
    /// More fragments.
    pub mf: bool,
    /// Fragment offset in 8-byte units.
    pub frag_offset: u16,
    /// DSCP (6 bits).
    pub dscp: u8,
    /// Options, raw; padded with zeros (end of options) to 4 bytes.
    pub options: Vec<u8>,
}

impl Default for Ipv4Fields {
    fn default() -> Self {
        Ipv4Fields {
            ttl: 64,
            id: 1,
            df: true,
            mf: false,
            frag_offset: 0,
            dscp: 0,
            options: Vec::new(),
        }
    }
}

/// IPv6 header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Fields {
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// A fragment extension header (RFC 8200 §4.5) before the L4 header.
    pub fragment: Option<Ipv6Fragment>,
}

impl Default for Ipv6Fields {
    fn default() -> Self {
        Ipv6Fields {
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
            fragment: None,
        }
    }
}

/// An IPv6 fragment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Fragment {
    /// Identification.
    pub id: u32,
    /// Offset in 8-byte units.
    pub offset: u16,
    /// More fragments.
    pub more: bool,
}

/// The transport header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L4 {
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
        /// Flags byte ([`tcp_flags`]).
        flags: u8,
        /// Window.
        window: u16,
        /// Options, raw; padded with zeros (EOL) to 4 bytes.
        options: Vec<u8>,
    },
    /// UDP.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
    },
    /// ICMP over IPv4, ICMPv6 over IPv6.
    Icmp {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
        /// The four header bytes after the checksum (identifier and
        /// sequence number for echo).
        rest: [u8; 4],
    },
    /// No transport header: the payload follows the IP header, with this
    /// protocol number.
    Raw {
        /// IP protocol number.
        proto: u8,
    },
}

impl L4 {
    /// The IP protocol number (ICMP is 1 over IPv4 and 58 over IPv6).
    pub fn proto(&self, ipv6: bool) -> u8 {
        match self {
            L4::Tcp { .. } => proto::TCP,
            L4::Udp { .. } => proto::UDP,
            L4::Icmp { .. } if ipv6 => proto::ICMPV6,
            L4::Icmp { .. } => proto::ICMP,
            L4::Raw { proto } => *proto,
        }
    }

    /// The (source, destination) ports; 0 for protocols without ports.
    pub fn ports(&self) -> (u16, u16) {
        match self {
            L4::Tcp {
                src_port, dst_port, ..
            }
            | L4::Udp { src_port, dst_port } => (*src_port, *dst_port),
            _ => (0, 0),
        }
    }

    fn header_len(&self) -> usize {
        match self {
            L4::Tcp { options, .. } => 20 + pad4(options.len()),
            L4::Udp { .. } | L4::Icmp { .. } => 8,
            L4::Raw { .. } => 0,
        }
    }
}

/// Deliberate damage, for decoder tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Corrupt {
    /// Flip bits of the IPv4 header checksum.
    pub ip_checksum: bool,
    /// Flip bits of the TCP/UDP/ICMP checksum.
    pub l4_checksum: bool,
    /// Write this IPv4 total length / IPv6 payload length instead.
    pub ip_length: Option<u16>,
    /// Write this UDP length instead.
    pub udp_length: Option<u16>,
    /// Write a UDP checksum of 0 (none) over IPv4.
    pub udp_checksum_zero: bool,
}

/// A frame to build. Construct with [`FrameSpec::tcp`], [`FrameSpec::udp`],
/// [`FrameSpec::icmp`] or [`FrameSpec::icmp_echo`], then adjust with the
/// chainable setters or the public fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSpec {
    /// Link layer.
    pub link: Link,
    /// IP source (both addresses must be the same version; a v4 address
    /// paired with a v6 one is written v4-mapped).
    pub src: IpAddr,
    /// IP destination.
    pub dst: IpAddr,
    /// IPv4 fields, used when the addresses are IPv4.
    pub ipv4: Ipv4Fields,
    /// IPv6 fields, used when the addresses are IPv6.
    pub ipv6: Ipv6Fields,
    /// Transport header.
    pub l4: L4,
    /// L4 payload.
    pub payload: Vec<u8>,
    /// Pad the frame with zeros to at least this many bytes (60: the
    /// Ethernet minimum without FCS; 0: no padding).
    pub pad_to: usize,
    /// Deliberate damage.
    pub corrupt: Corrupt,
}

/// Default source MAC of built frames.
pub const DEFAULT_SRC_MAC: Mac = [0x06, 0x1a, 0x2b, 0x3c, 0x4d, 0x01];
/// Default destination MAC of built frames.
pub const DEFAULT_DST_MAC: Mac = [0x06, 0x1a, 0x2b, 0x3c, 0x4d, 0x02];

impl FrameSpec {
    fn new(src: IpAddr, dst: IpAddr, l4: L4) -> FrameSpec {
        FrameSpec {
            link: Link::Ethernet {
                src: DEFAULT_SRC_MAC,
                dst: DEFAULT_DST_MAC,
                vlans: Vec::new(),
                mpls: Vec::new(),
            },
            src,
            dst,
            ipv4: Ipv4Fields::default(),
            ipv6: Ipv6Fields::default(),
            l4,
            payload: Vec::new(),
            pad_to: 60,
            corrupt: Corrupt::default(),
        }
    }

    /// A TCP segment with ACK set, seq 1, ack 1, window 65535, no options.
    pub fn tcp(src: IpAddr, dst: IpAddr, src_port: u16, dst_port: u16) -> FrameSpec {
        FrameSpec::new(
            src,
            dst,
            L4::Tcp {
                src_port,
                dst_port,
                seq: 1,
                ack: 1,
                flags: tcp_flags::ACK,
                window: 65535,
                options: Vec::new(),
            },
        )
    }

    /// A UDP datagram.
    pub fn udp(src: IpAddr, dst: IpAddr, src_port: u16, dst_port: u16) -> FrameSpec {
        FrameSpec::new(src, dst, L4::Udp { src_port, dst_port })
    }

    /// An ICMP (IPv4) or ICMPv6 (IPv6) message.
    pub fn icmp(src: IpAddr, dst: IpAddr, icmp_type: u8, code: u8, rest: [u8; 4]) -> FrameSpec {
        FrameSpec::new(
            src,
            dst,
            L4::Icmp {
                icmp_type,
                code,
                rest,
            },
        )
    }

    /// An ICMP error message (ICMPv4 over IPv4, ICMPv6 over IPv6) from
    /// `src` to `dst` whose body quotes the IP packet of `quoted` (a built
    /// frame), cut to at most `quote_len` bytes: RFC 792 routers quote the
    /// IP header and 8 bytes, RFC 1812 and 4443 hosts as much as fits. The
    /// 4 bytes after the checksum (unused, MTU, pointer, gateway) are
    /// `rest`.
    pub fn icmp_error(
        src: IpAddr,
        dst: IpAddr,
        icmp_type: u8,
        code: u8,
        rest: [u8; 4],
        quoted: &Built,
        quote_len: usize,
    ) -> FrameSpec {
        let ip = quoted.bytes.get(quoted.ip_start..).unwrap_or(&[]);
        let quote = ip[..ip.len().min(quote_len)].to_vec();
        FrameSpec::icmp(src, dst, icmp_type, code, rest).payload(quote)
    }

    /// An echo request or reply: ICMP 8/0 over IPv4, ICMPv6 128/129 over IPv6.
    pub fn icmp_echo(src: IpAddr, dst: IpAddr, request: bool, id: u16, seq: u16) -> FrameSpec {
        let v6 = src.is_ipv6() || dst.is_ipv6();
        let t = match (v6, request) {
            (false, true) => 8,
            (false, false) => 0,
            (true, true) => 128,
            (true, false) => 129,
        };
        let [a, b] = id.to_be_bytes();
        let [c, d] = seq.to_be_bytes();
        FrameSpec::icmp(src, dst, t, 0, [a, b, c, d])
    }

    /// Sets the L4 payload.
    pub fn payload(mut self, payload: impl Into<Vec<u8>>) -> FrameSpec {
        self.payload = payload.into();
        self
    }

    /// Sets the MACs (no effect on raw IP frames).
    pub fn macs(mut self, src_mac: Mac, dst_mac: Mac) -> FrameSpec {
        if let Link::Ethernet { src, dst, .. } = &mut self.link {
            *src = src_mac;
            *dst = dst_mac;
        }
        self
    }

    /// Sets 802.1Q tags with these ids, outermost first (an outer tag of
    /// a stack of two or more is 802.1ad, as QinQ does).
    pub fn vlans(self, ids: &[u16]) -> FrameSpec {
        let tags = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                if i == 0 && ids.len() > 1 {
                    Vlan::dot1ad(id)
                } else {
                    Vlan::dot1q(id)
                }
            })
            .collect();
        self.vlan_tags(tags)
    }

    /// Sets the VLAN tags.
    pub fn vlan_tags(mut self, tags: Vec<Vlan>) -> FrameSpec {
        if let Link::Ethernet { vlans, .. } = &mut self.link {
            *vlans = tags;
        }
        self
    }

    /// Sets MPLS labels (after any VLAN tags).
    pub fn mpls(mut self, labels: Vec<Mpls>) -> FrameSpec {
        if let Link::Ethernet { mpls, .. } = &mut self.link {
            *mpls = labels;
        }
        self
    }

    /// No link header: the frame starts with the IP header.
    pub fn raw_ip(mut self) -> FrameSpec {
        self.link = Link::RawIp;
        self.pad_to = 0;
        self
    }

    /// Sets the TCP flags (no effect on other protocols).
    pub fn flags(mut self, f: u8) -> FrameSpec {
        if let L4::Tcp { flags, .. } = &mut self.l4 {
            *flags = f;
        }
        self
    }

    /// Sets the TCP sequence and acknowledgement numbers.
    pub fn seq_ack(mut self, s: u32, a: u32) -> FrameSpec {
        if let L4::Tcp { seq, ack, .. } = &mut self.l4 {
            *seq = s;
            *ack = a;
        }
        self
    }

    /// Sets the TCP window (ignored for other protocols).
    pub fn window(mut self, w: u16) -> FrameSpec {
        if let L4::Tcp { window, .. } = &mut self.l4 {
            *window = w;
        }
        self
    }

    /// Sets the TCP options (raw bytes, padded to 4; ignored for other
    /// protocols).
    pub fn tcp_options(mut self, o: impl Into<Vec<u8>>) -> FrameSpec {
        if let L4::Tcp { options, .. } = &mut self.l4 {
            *options = o.into();
        }
        self
    }

    /// Sets the TTL / hop limit.
    pub fn ttl(mut self, ttl: u8) -> FrameSpec {
        self.ipv4.ttl = ttl;
        self.ipv6.hop_limit = ttl;
        self
    }

    /// Sets the padding target (0 for none).
    pub fn pad_to(mut self, n: usize) -> FrameSpec {
        self.pad_to = n;
        self
    }

    /// Sets the damage.
    pub fn corrupt(mut self, c: Corrupt) -> FrameSpec {
        self.corrupt = c;
        self
    }

    /// Whether the IP layer is IPv6.
    pub fn is_ipv6(&self) -> bool {
        self.src.is_ipv6() || self.dst.is_ipv6()
    }

    /// Lays the frame out.
    pub fn build(&self) -> Built {
        let v6 = self.is_ipv6();
        let proto = self.l4.proto(v6);

        // Link layer.
        let mut out = Vec::with_capacity(128 + self.payload.len());
        if let Link::Ethernet {
            src,
            dst,
            vlans,
            mpls,
        } = &self.link
        {
            let net_type = if v6 { ethertype::IPV6 } else { ethertype::IPV4 };
            let after_vlans = if mpls.is_empty() {
                net_type
            } else {
                ethertype::MPLS
            };
            let first = vlans.first().map_or(after_vlans, |v| v.tpid);
            out.extend_from_slice(&ethernet_header(*dst, *src, first));
            for (i, v) in vlans.iter().enumerate() {
                let next = vlans.get(i + 1).map_or(after_vlans, |n| n.tpid);
                out.extend_from_slice(&vlan_tag(v, next));
            }
            for (i, m) in mpls.iter().enumerate() {
                // RFC 3032 §2.1: label(20) | TC(3) | S(1) | TTL(8).
                let bos = u32::from(i + 1 == mpls.len());
                let word = (m.label & 0xf_ffff) << 12
                    | u32::from(m.tc & 7) << 9
                    | bos << 8
                    | u32::from(m.ttl);
                out.extend_from_slice(&word.to_be_bytes());
            }
        }
        let ip_start = out.len();

        // Transport header and payload, checksummed against the addresses.
        let l4_hdr = self.l4.header_len();
        let mut l4 = vec![0u8; l4_hdr + self.payload.len()];
        l4[l4_hdr..].copy_from_slice(&self.payload);
        let (s4, d4, s6, d6) = addrs(self.src, self.dst);
        self.fill_l4(&mut l4, v6, (s4, d4, s6, d6));

        // Network header.
        let ip_hdr_len;
        if v6 {
            let frag_len = if self.ipv6.fragment.is_some() { 8 } else { 0 };
            ip_hdr_len = 40 + frag_len;
            let mut h = vec![0u8; ip_hdr_len];
            let payload_len = self
                .corrupt
                .ip_length
                .unwrap_or_else(|| clamp16(frag_len + l4.len()));
            {
                let mut p = MutableIpv6Packet::new(&mut h[..40]).expect("40 bytes");
                p.set_version(6);
                p.set_traffic_class(self.ipv6.traffic_class);
                p.set_flow_label(self.ipv6.flow_label & 0xf_ffff);
                p.set_payload_length(payload_len);
                p.set_next_header(IpNextHeaderProtocol(if frag_len > 0 { 44 } else { proto }));
                p.set_hop_limit(self.ipv6.hop_limit);
                p.set_source(s6);
                p.set_destination(d6);
            }
            if let Some(f) = self.ipv6.fragment {
                // RFC 8200 §4.5: next header | reserved | offset(13) res(2) M(1) | id(32).
                h[40] = proto;
                let off = (f.offset << 3) | u16::from(f.more);
                h[42..44].copy_from_slice(&off.to_be_bytes());
                h[44..48].copy_from_slice(&f.id.to_be_bytes());
            }
            out.extend_from_slice(&h);
        } else {
            ip_hdr_len = 20 + pad4(self.ipv4.options.len());
            let mut h = vec![0u8; ip_hdr_len];
            h[20..20 + self.ipv4.options.len()].copy_from_slice(&self.ipv4.options);
            let total = self
                .corrupt
                .ip_length
                .unwrap_or_else(|| clamp16(ip_hdr_len + l4.len()));
            let mut p = MutableIpv4Packet::new(&mut h).expect("20 bytes");
            p.set_version(4);
            p.set_header_length((ip_hdr_len / 4) as u8);
            p.set_dscp(self.ipv4.dscp & 0x3f);
            p.set_total_length(total);
            p.set_identification(self.ipv4.id);
            p.set_flags(u8::from(self.ipv4.df) << 1 | u8::from(self.ipv4.mf));
            p.set_fragment_offset(self.ipv4.frag_offset & 0x1fff);
            p.set_ttl(self.ipv4.ttl);
            p.set_next_level_protocol(IpNextHeaderProtocol(proto));
            p.set_source(s4);
            p.set_destination(d4);
            let mut sum = pnet_packet::ipv4::checksum(&p.to_immutable());
            if self.corrupt.ip_checksum {
                sum ^= 0x5a5a;
            }
            p.set_checksum(sum);
            out.extend_from_slice(&h);
        }
        let l4_start = out.len();
        out.extend_from_slice(&l4);
        if out.len() < self.pad_to {
            out.resize(self.pad_to, 0);
        }
        Built {
            bytes: out,
            ip_start,
            l4_start,
            l4_header_end: l4_start + l4_hdr,
            payload_end: l4_start + l4.len(),
        }
    }

    fn fill_l4(
        &self,
        l4: &mut [u8],
        v6: bool,
        (s4, d4, s6, d6): (Ipv4Addr, Ipv4Addr, Ipv6Addr, Ipv6Addr),
    ) {
        let bad = if self.corrupt.l4_checksum { 0x5a5a } else { 0 };
        match &self.l4 {
            L4::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                window,
                options,
            } => {
                l4[20..20 + options.len()].copy_from_slice(options);
                let mut p = MutableTcpPacket::new(l4).expect("20 bytes");
                p.set_source(*src_port);
                p.set_destination(*dst_port);
                p.set_sequence(*seq);
                p.set_acknowledgement(*ack);
                p.set_data_offset(((20 + pad4(options.len())) / 4) as u8);
                p.set_flags(*flags);
                p.set_window(*window);
                let view = TcpPacket::new(p.packet_ref()).expect("20 bytes");
                let sum = if v6 {
                    pnet_packet::tcp::ipv6_checksum(&view, &s6, &d6)
                } else {
                    pnet_packet::tcp::ipv4_checksum(&view, &s4, &d4)
                };
                p.set_checksum(sum ^ bad);
            }
            L4::Udp { src_port, dst_port } => {
                let len = self.corrupt.udp_length.unwrap_or(clamp16(l4.len()));
                let mut p = MutableUdpPacket::new(l4).expect("8 bytes");
                p.set_source(*src_port);
                p.set_destination(*dst_port);
                p.set_length(len);
                let view = UdpPacket::new(p.packet_ref()).expect("8 bytes");
                let mut sum = if v6 {
                    pnet_packet::udp::ipv6_checksum(&view, &s6, &d6)
                } else {
                    pnet_packet::udp::ipv4_checksum(&view, &s4, &d4)
                };
                if sum == 0 {
                    sum = 0xffff; // RFC 768: a computed 0 is sent as all ones
                }
                if self.corrupt.udp_checksum_zero && !v6 {
                    sum = 0;
                } else {
                    sum ^= bad;
                }
                p.set_checksum(sum);
            }
            L4::Icmp {
                icmp_type,
                code,
                rest,
            } => {
                l4[4..8].copy_from_slice(rest);
                if v6 {
                    let mut p = MutableIcmpv6Packet::new(l4).expect("8 bytes");
                    p.set_icmpv6_type(Icmpv6Type(*icmp_type));
                    p.set_icmpv6_code(Icmpv6Code(*code));
                    let view = Icmpv6Packet::new(p.packet_ref()).expect("8 bytes");
                    let sum = pnet_packet::icmpv6::checksum(&view, &s6, &d6);
                    p.set_checksum(sum ^ bad);
                } else {
                    let mut p = MutableIcmpPacket::new(l4).expect("8 bytes");
                    p.set_icmp_type(IcmpType(*icmp_type));
                    p.set_icmp_code(IcmpCode(*code));
                    let view = IcmpPacket::new(p.packet_ref()).expect("8 bytes");
                    let sum = pnet_packet::icmp::checksum(&view);
                    p.set_checksum(sum ^ bad);
                }
            }
            L4::Raw { .. } => {}
        }
    }
}

/// A built frame and where its layers start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The frame.
    pub bytes: Vec<u8>,
    /// Offset of the IP header.
    pub ip_start: usize,
    /// Offset of the L4 header (after IPv6 extension headers).
    pub l4_start: usize,
    /// Offset where the L4 header ends (== `l4_start` for [`L4::Raw`]).
    pub l4_header_end: usize,
    /// Offset where the IP packet ends (padding follows).
    pub payload_end: usize,
}

/// Needed by pnet's immutable views over a mutable packet.
trait PacketRef {
    fn packet_ref(&self) -> &[u8];
}

impl<T: pnet_packet::Packet> PacketRef for T {
    fn packet_ref(&self) -> &[u8] {
        self.packet()
    }
}

fn pad4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

fn clamp16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn addrs(src: IpAddr, dst: IpAddr) -> (Ipv4Addr, Ipv4Addr, Ipv6Addr, Ipv6Addr) {
    let v4 = |a: IpAddr| match a {
        IpAddr::V4(a) => a,
        IpAddr::V6(a) => a.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
    };
    let v6 = |a: IpAddr| match a {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    };
    (v4(src), v4(dst), v6(src), v6(dst))
}

/// A 14-byte Ethernet II header, written by pnet.
pub fn ethernet_header(dst: Mac, src: Mac, ethertype: u16) -> [u8; 14] {
    let mut h = [0u8; 14];
    let mut p = MutableEthernetPacket::new(&mut h).expect("14 bytes");
    p.set_destination(dst.into());
    p.set_source(src.into());
    p.set_ethertype(EtherType(ethertype));
    h
}

/// The 4 bytes of a VLAN tag after its TPID: TCI and the next EtherType.
fn vlan_tag(v: &Vlan, next: u16) -> [u8; 4] {
    let mut h = [0u8; 4];
    let mut p = MutableVlanPacket::new(&mut h).expect("4 bytes");
    p.set_priority_code_point(ClassOfService(v.pcp & 7));
    p.set_drop_eligible_indicator(u8::from(v.dei));
    p.set_vlan_identifier(v.id & 0x0fff);
    p.set_ethertype(EtherType(next));
    h
}

/// An Ethernet frame with any EtherType and body (LLDP, unknown types,
/// ARP built by hand...), with VLAN tags, padded to 60 bytes.
pub fn ethernet_frame(dst: Mac, src: Mac, vlans: &[Vlan], ethertype: u16, body: &[u8]) -> Vec<u8> {
    let first = vlans.first().map_or(ethertype, |v| v.tpid);
    let mut out = ethernet_header(dst, src, first).to_vec();
    for (i, v) in vlans.iter().enumerate() {
        let next = vlans.get(i + 1).map_or(ethertype, |n| n.tpid);
        out.extend_from_slice(&vlan_tag(v, next));
    }
    out.extend_from_slice(body);
    if out.len() < 60 {
        out.resize(60, 0);
    }
    out
}

/// An ARP request "who has `target` tell `sender`" (RFC 826), broadcast.
pub fn arp_request(sender_mac: Mac, sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, MutableArpPacket};
    use pnet_packet::ethernet::EtherTypes;
    let mut body = [0u8; 28];
    let mut p = MutableArpPacket::new(&mut body).expect("28 bytes");
    p.set_hardware_type(ArpHardwareTypes::Ethernet);
    p.set_protocol_type(EtherTypes::Ipv4);
    p.set_hw_addr_len(6);
    p.set_proto_addr_len(4);
    p.set_operation(ArpOperations::Request);
    p.set_sender_hw_addr(sender_mac.into());
    p.set_sender_proto_addr(sender);
    p.set_target_hw_addr([0u8; 6].into());
    p.set_target_proto_addr(target);
    ethernet_frame([0xff; 6], sender_mac, &[], ethertype::ARP, &body)
}

/// Verifies the IPv4 header checksum and the L4 checksum of a built IP
/// packet with pnet (true when both are right). For tests of the builder.
pub fn checksums_ok(b: &Built) -> bool {
    let ip = &b.bytes[b.ip_start..b.payload_end];
    let l4 = &b.bytes[b.l4_start..b.payload_end];
    let proto_and_addrs = if ip[0] >> 4 == 4 {
        let Some(p) = Ipv4Packet::new(ip) else {
            return false;
        };
        if pnet_packet::ipv4::checksum(&p) != p.get_checksum() {
            return false;
        }
        (
            p.get_next_level_protocol().0,
            IpAddr::V4(p.get_source()),
            IpAddr::V4(p.get_destination()),
        )
    } else {
        let Some(p) = pnet_packet::ipv6::Ipv6Packet::new(ip) else {
            return false;
        };
        let nh = p.get_next_header().0;
        let nh = if nh == 44 { ip[40] } else { nh };
        (
            nh,
            IpAddr::V6(p.get_source()),
            IpAddr::V6(p.get_destination()),
        )
    };
    let (s4, d4, s6, d6) = addrs(proto_and_addrs.1, proto_and_addrs.2);
    let v6 = proto_and_addrs.1.is_ipv6();
    match proto_and_addrs.0 {
        proto::TCP => TcpPacket::new(l4).is_some_and(|t| {
            let want = if v6 {
                pnet_packet::tcp::ipv6_checksum(&t, &s6, &d6)
            } else {
                pnet_packet::tcp::ipv4_checksum(&t, &s4, &d4)
            };
            want == t.get_checksum()
        }),
        proto::UDP => UdpPacket::new(l4).is_some_and(|u| {
            let mut want = if v6 {
                pnet_packet::udp::ipv6_checksum(&u, &s6, &d6)
            } else {
                pnet_packet::udp::ipv4_checksum(&u, &s4, &d4)
            };
            if want == 0 {
                want = 0xffff;
            }
            want == u.get_checksum()
        }),
        proto::ICMP => {
            IcmpPacket::new(l4).is_some_and(|i| pnet_packet::icmp::checksum(&i) == i.get_checksum())
        }
        proto::ICMPV6 => Icmpv6Packet::new(l4)
            .is_some_and(|i| pnet_packet::icmpv6::checksum(&i, &s6, &d6) == i.get_checksum()),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn tcp_syn_bytes() {
        let b = FrameSpec::tcp(a("10.0.0.1"), a("10.0.0.2"), 0x1234, 80)
            .flags(tcp_flags::SYN)
            .seq_ack(0x01020304, 0)
            .build();
        assert_eq!(&b.bytes[12..14], &[0x08, 0x00]);
        // IPv4: 45 00 0028 0001 4000 40 06 csum 0a000001 0a000002
        assert_eq!(&b.bytes[14..24], &[0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6]);
        assert_eq!(&b.bytes[34..38], &[0x12, 0x34, 0, 80]);
        assert_eq!(&b.bytes[38..42], &[1, 2, 3, 4]);
        assert_eq!(b.bytes[46], 0x50); // data offset 5
        assert_eq!(b.bytes[47], tcp_flags::SYN);
        assert_eq!(b.bytes.len(), 60);
        assert_eq!(b.payload_end, 54);
        assert!(checksums_ok(&b));
        // IPv4 header checksum of this exact header, computed by hand:
        // 4500+0028+0001+4000+4006+0a00+0001+0a00+0002 = 0xd932 → !0xd932
        assert_eq!(&b.bytes[24..26], &[0x26, 0xcd]);
    }

    #[test]
    fn every_kind_has_good_checksums() {
        let specs = [
            FrameSpec::udp(a("10.0.0.1"), a("10.0.0.2"), 53000, 53).payload(b"hello".to_vec()),
            FrameSpec::udp(a("2001:db8::1"), a("2001:db8::2"), 53000, 53).payload(vec![7; 33]),
            FrameSpec::tcp(a("2001:db8::1"), a("2001:db8::2"), 1, 2)
                .tcp_options(vec![2, 4, 5, 0xb4, 1])
                .vlans(&[10, 20, 30]),
            FrameSpec::icmp_echo(a("10.0.0.1"), a("10.0.0.2"), true, 7, 1).payload(vec![1; 56]),
            FrameSpec::icmp_echo(a("fe80::1"), a("fe80::2"), false, 7, 1).payload(vec![1; 3]),
        ];
        for s in specs {
            let b = s.build();
            assert!(checksums_ok(&b), "{s:?}");
            let mut bad = s.clone();
            bad.corrupt.l4_checksum = true;
            assert!(!checksums_ok(&bad.build()));
        }
        let mut bad = FrameSpec::udp(a("10.0.0.1"), a("10.0.0.2"), 1, 2);
        bad.corrupt.ip_checksum = true;
        assert!(!checksums_ok(&bad.build()));
    }

    #[test]
    fn icmp_error_quotes_the_ip_packet() {
        let udp = FrameSpec::udp(a("10.0.0.1"), a("10.0.0.9"), 40000, 53)
            .payload(b"query".to_vec())
            .build();
        let b =
            FrameSpec::icmp_error(a("192.0.2.1"), a("10.0.0.1"), 3, 3, [0; 4], &udp, 28).build();
        assert!(checksums_ok(&b));
        assert_eq!(&b.bytes[b.l4_start..b.l4_start + 2], &[3, 3]);
        // IP header and the UDP header, no more.
        assert_eq!(&b.bytes[b.l4_start + 8..], &udp.bytes[14..14 + 28]);
        // A quote longer than the packet is the whole packet.
        let all =
            FrameSpec::icmp_error(a("192.0.2.1"), a("10.0.0.1"), 3, 3, [0; 4], &udp, 999).build();
        assert_eq!(&all.bytes[all.l4_start + 8..], &udp.bytes[14..]);
    }

    #[test]
    fn vlans_and_mpls_layout() {
        let b = FrameSpec::udp(a("10.0.0.1"), a("10.0.0.2"), 1, 2)
            .vlans(&[100, 200])
            .build();
        assert_eq!(
            &b.bytes[12..22],
            &[0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 200, 0x08, 0x00]
        );
        assert_eq!(b.ip_start, 22);
        let m = FrameSpec::udp(a("10.0.0.1"), a("10.0.0.2"), 1, 2)
            .mpls(vec![
                Mpls {
                    label: 16,
                    tc: 0,
                    ttl: 64,
                },
                Mpls {
                    label: 17,
                    tc: 0,
                    ttl: 64,
                },
            ])
            .build();
        assert_eq!(&m.bytes[12..22], &[0x88, 0x47, 0, 1, 0, 64, 0, 1, 0x11, 64]);
        assert_eq!(m.ip_start, 22);
        let r = FrameSpec::udp(a("10.0.0.1"), a("10.0.0.2"), 1, 2)
            .raw_ip()
            .build();
        assert_eq!(r.ip_start, 0);
        assert_eq!(r.bytes.len(), 28);
    }

    #[test]
    fn ipv6_fragment_header() {
        let mut s = FrameSpec::udp(a("2001:db8::1"), a("2001:db8::2"), 1, 2);
        s.ipv6.fragment = Some(Ipv6Fragment {
            id: 0xabcdef01,
            offset: 0,
            more: true,
        });
        let b = s.build();
        assert_eq!(b.bytes[14 + 6], 44);
        assert_eq!(&b.bytes[54..62], &[17, 0, 0, 1, 0xab, 0xcd, 0xef, 0x01]);
        assert_eq!(b.l4_start, 62);
    }

    #[test]
    fn arp_is_60_bytes() {
        let f = arp_request(
            [2, 0, 0, 0, 0, 1],
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
        );
        assert_eq!(f.len(), 60);
        assert_eq!(&f[12..16], &[0x08, 0x06, 0, 1]);
    }
}
