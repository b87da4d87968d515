//! Building mirrored packets: the inverse of decoding, as AWS builds them.
//!
//! This is what `mirador pcap encap` and `mirador send` use to turn ordinary
//! traffic into what a Traffic Mirroring target receives. The byte layout is
//! written by hand here (not with etherparse) and does not share code with
//! [`crate::decode`]; the round-trip tests check one against the other, and
//! `mirador-testkit` has a third, independent encoder.
//!
//! # What AWS sends, and what this module writes
//!
//! VXLAN target (ENI or NLB), [`encap_frame`] without [`GwlbParams`]:
//!
//! ```text
//! Ethernet (outer MACs)                     14
//! IPv4 outer_src → outer_dst, DF, proto 17  20   (IPv6: 40)
//! UDP  src = hash of the inner flow → 4789   8   (checksum 0 over IPv4, computed over IPv6)
//! VXLAN flags 0x08 (I), VNI                  8
//! inner Ethernet frame, cut to packet_length
//! ```
//!
//! Gateway Load Balancer endpoint target, with [`GwlbParams`] (the "double
//! wrap"; GWLB's GENEVE layer is always IPv4 and adds 68 bytes):
//!
//! ```text
//! Ethernet                                            14
//! IPv4 gwlb.geneve_src → gwlb.geneve_dst, proto 17    20
//! UDP  src = hash → 6081                               8
//! GENEVE, protocol 0x0800 (0x86DD for IPv6 inside)     8
//!   option class 0x0108 type 1: endpoint id (8 bytes) 12
//!   option class 0x0108 type 2: attachment id (8)     12
//!   option class 0x0108 type 3: flow cookie (4)        8
//! IPv4 outer_src (source ENI) → outer_dst (GWLBE)     20   (IPv6: 40)
//! UDP  src = hash → 4789                               8
//! VXLAN                                                8
//! inner Ethernet frame, cut to packet_length
//! ```
//!
//! # The outer UDP source port
//!
//! AWS documents it as "a 5-tuple hash of the original L2 packet" for TCP,
//! UDP and ICMP, a "3-tuple hash" otherwise, and promises no symmetry. The
//! default [`SrcPortMode::Asymmetric`] hashes the inner 5-tuple in packet
//! order, so the two directions of one flow almost always get different
//! ports (a collision is 1 in 16384): anything downstream that shards on the
//! outer headers is exposed. [`SrcPortMode::Symmetric`] orders the two
//! endpoints first. Ports fall in the IANA dynamic range 49152–65535
//! ([`EPHEMERAL_PORTS`]). Non-TCP/UDP/ICMP IP packets hash (src, dst,
//! protocol); non-IP frames hash (destination MAC, source MAC, EtherType).
//!
//! # Buffers
//!
//! Every writer clears the caller's `Vec` and writes into it, so one buffer
//! reused across packets allocates only until it has grown to the largest
//! packet.
//!
//! # Example
//!
//! ```
//! use mirador_wire::emit::{encap_frame, EncapParams};
//!
//! let inner = [0u8; 60]; // an inner Ethernet frame
//! let params = EncapParams::vxlan(42, "10.0.1.15".parse().unwrap(), "10.0.0.100".parse().unwrap());
//! let mut out = Vec::new();
//! encap_frame(&inner, &params, &mut out).unwrap();
//! assert_eq!(out.len(), 14 + 20 + 8 + 8 + 60);
//! assert_eq!(&out[42..50], &[0x08, 0, 0, 0, 0, 0, 42, 0]);
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// UDP destination port of VXLAN (IANA, RFC 7348 §5).
pub const VXLAN_PORT: u16 = 4789;
/// UDP destination port of GENEVE (IANA, RFC 8926 §3.3).
pub const GENEVE_PORT: u16 = 6081;
/// The GENEVE option class of the AWS Gateway Load Balancer TLVs.
pub const GWLB_OPTION_CLASS: u16 = 0x0108;
/// Range of outer UDP source ports: the IANA dynamic/private range
/// (RFC 6335 §6), where RFC 7348 §5 recommends VXLAN source ports fall.
pub const EPHEMERAL_PORTS: std::ops::RangeInclusive<u16> = 49152..=65535;
/// Default outer source MAC: locally administered (02:…), "mir" in ASCII.
pub const DEFAULT_OUTER_SRC_MAC: [u8; 6] = [0x02, 0x6d, 0x69, 0x72, 0x00, 0x01];
/// Default outer destination MAC (the sensor's interface).
pub const DEFAULT_OUTER_DST_MAC: [u8; 6] = [0x02, 0x6d, 0x69, 0x72, 0x00, 0x02];
/// Source MAC [`to_ethernet`] puts on frames whose capture had no Ethernet
/// header (raw IP, loopback, PPP, ...).
pub const SYNTH_SRC_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
/// Destination MAC [`to_ethernet`] puts on synthesised Ethernet headers.
pub const SYNTH_DST_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

const ETH_LEN: usize = 14;
const IPV4_LEN: usize = 20;
const IPV6_LEN: usize = 40;
const UDP_LEN: usize = 8;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// How the outer UDP source port is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SrcPortMode {
    /// Hash of the inner flow in packet order: the two directions of a flow
    /// get different ports (AWS promises nothing else). The default.
    #[default]
    Asymmetric,
    /// Hash of the inner flow with its endpoints ordered: both directions
    /// get the same port.
    Symmetric,
    /// Always this port.
    Fixed(u16),
}

/// The Gateway Load Balancer layer of the double wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GwlbParams {
    /// Source of the GENEVE IPv4 header (the GWLB node).
    pub geneve_src: Ipv4Addr,
    /// Destination of the GENEVE IPv4 header (the appliance, i.e. the sensor).
    pub geneve_dst: Ipv4Addr,
    /// Option class 0x0108 type 1: the GWLB endpoint id.
    pub endpoint_id: u64,
    /// Option class 0x0108 type 2: the attachment id.
    pub attachment_id: u64,
    /// Option class 0x0108 type 3: the flow cookie.
    pub flow_cookie: u32,
}

/// How to wrap a frame. Build with [`EncapParams::vxlan`] and adjust fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncapParams {
    /// VXLAN network identifier (24 bits; larger values are an error).
    pub vni: u32,
    /// Source of the IP header around the VXLAN: the mirror source ENI's
    /// primary address.
    pub outer_src: IpAddr,
    /// Destination of that header: the target (sensor, NLB, or GWLB
    /// endpoint). Must be the same family as `outer_src`.
    pub outer_dst: IpAddr,
    /// Mirror at most this many bytes of the inner frame (AWS
    /// `PacketLength`, counted after the VXLAN header). `None`: all of it.
    pub packet_length: Option<u32>,
    /// Wrap again in GENEVE as a Gateway Load Balancer endpoint delivers.
    pub gwlb: Option<GwlbParams>,
    /// How the outer UDP source port(s) are chosen.
    pub src_port_mode: SrcPortMode,
    /// Source MAC of the outer Ethernet header.
    pub outer_src_mac: [u8; 6],
    /// Destination MAC of the outer Ethernet header.
    pub outer_dst_mac: [u8; 6],
    /// TTL / hop limit of the outer IP header(s).
    pub ttl: u8,
}

impl EncapParams {
    /// Plain VXLAN from `outer_src` (the source ENI) to `outer_dst` (the
    /// sensor), whole frames, asymmetric source ports, default MACs, TTL 64.
    pub fn vxlan(vni: u32, outer_src: IpAddr, outer_dst: IpAddr) -> EncapParams {
        EncapParams {
            vni,
            outer_src,
            outer_dst,
            packet_length: None,
            gwlb: None,
            src_port_mode: SrcPortMode::Asymmetric,
            outer_src_mac: DEFAULT_OUTER_SRC_MAC,
            outer_dst_mac: DEFAULT_OUTER_DST_MAC,
            ttl: 64,
        }
    }
}

/// Why a frame could not be wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncapError {
    /// The VNI does not fit in 24 bits.
    VniOutOfRange(u32),
    /// `outer_src` and `outer_dst` are not the same IP version.
    AddressFamilyMismatch,
    /// The wrapped packet would exceed an IP or UDP length field; `len` is
    /// the length that did not fit.
    TooLong {
        /// The length that did not fit.
        len: usize,
    },
}

impl fmt::Display for EncapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncapError::VniOutOfRange(v) => write!(f, "VNI {v} does not fit in 24 bits"),
            EncapError::AddressFamilyMismatch => {
                f.write_str("outer source and destination addresses are not the same IP version")
            }
            EncapError::TooLong { len } => {
                write!(
                    f,
                    "wrapped packet of {len} bytes exceeds the IP/UDP length limit"
                )
            }
        }
    }
}

impl std::error::Error for EncapError {}

/// UDP ports of the outermost tunnel header that [`encap_udp_payload`]
/// chose: what a sender puts on its socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpPorts {
    /// Source port.
    pub src: u16,
    /// Destination port ([`VXLAN_PORT`] or [`GENEVE_PORT`]).
    pub dst: u16,
}

/// Writes into `out` (cleared first) the complete mirrored Ethernet frame
/// carrying `inner` (an Ethernet frame), as described in the module docs.
pub fn encap_frame(
    inner: &[u8],
    params: &EncapParams,
    out: &mut Vec<u8>,
) -> Result<(), EncapError> {
    check(params)?;
    out.clear();
    let (src, dst) = match &params.gwlb {
        Some(g) => (IpAddr::V4(g.geneve_src), IpAddr::V4(g.geneve_dst)),
        None => (params.outer_src, params.outer_dst),
    };
    put_ethernet(
        out,
        params.outer_dst_mac,
        params.outer_src_mac,
        ethertype_of(src),
    );
    let ip_off = out.len();
    begin_ip_udp(out, src, dst, params.ttl);
    let ports = write_udp_payload(inner, params, out)?;
    finish_ip_udp(out, ip_off, src, ports)
}

/// Writes into `out` (cleared first) what follows the outermost UDP header:
/// the VXLAN header and frame, or with [`EncapParams::gwlb`] the GENEVE
/// header, options, IP, UDP, VXLAN and frame. For senders whose socket
/// provides the outer IP and UDP headers (`mirador send`); the returned
/// ports are the ones [`encap_frame`] would have written.
pub fn encap_udp_payload(
    inner: &[u8],
    params: &EncapParams,
    out: &mut Vec<u8>,
) -> Result<UdpPorts, EncapError> {
    check(params)?;
    out.clear();
    write_udp_payload(inner, params, out)
}

/// The outer UDP source port AWS-style mirroring would use for `inner` (an
/// Ethernet frame) under `mode`.
pub fn outer_src_port(inner: &[u8], mode: SrcPortMode) -> u16 {
    match mode {
        SrcPortMode::Fixed(p) => p,
        SrcPortMode::Asymmetric => port_from_hash(flow_hash(inner, false)),
        SrcPortMode::Symmetric => port_from_hash(flow_hash(inner, true)),
    }
}

fn check(params: &EncapParams) -> Result<(), EncapError> {
    if params.vni > 0x00ff_ffff {
        return Err(EncapError::VniOutOfRange(params.vni));
    }
    if params.outer_src.is_ipv4() != params.outer_dst.is_ipv4() {
        return Err(EncapError::AddressFamilyMismatch);
    }
    Ok(())
}

/// Appends the tunnel payload (after the outermost UDP header) and returns
/// the outermost UDP ports.
fn write_udp_payload(
    inner: &[u8],
    params: &EncapParams,
    out: &mut Vec<u8>,
) -> Result<UdpPorts, EncapError> {
    let vxlan_src_port = outer_src_port(inner, params.src_port_mode);
    let vxlan_ports = UdpPorts {
        src: vxlan_src_port,
        dst: VXLAN_PORT,
    };
    let Some(g) = &params.gwlb else {
        put_vxlan(out, params.vni, inner, params.packet_length);
        return Ok(vxlan_ports);
    };

    // GENEVE header, RFC 8926 §3.4:
    //  0: Ver(2)=0 | Opt Len(6) in 4-byte words
    //  1: O(1)=0 | C(1)=0 | Rsvd(6)
    //  2-3: Protocol Type (EtherType of the payload; GWLB carries L3)
    //  4-6: VNI (GWLB's is not documented; 0)   7: Reserved
    const OPTS_LEN: usize = 12 + 12 + 8;
    let proto = ethertype_of(params.outer_src);
    out.push((OPTS_LEN / 4) as u8);
    out.push(0);
    out.extend_from_slice(&proto.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    // Options, RFC 8926 §3.5: Class(16) | Type(8, high bit = critical) |
    // R(3) Length(5) in 4-byte words excluding this 4-byte option header.
    put_geneve_option(out, GWLB_OPTION_CLASS, 1, &g.endpoint_id.to_be_bytes());
    put_geneve_option(out, GWLB_OPTION_CLASS, 2, &g.attachment_id.to_be_bytes());
    put_geneve_option(out, GWLB_OPTION_CLASS, 3, &g.flow_cookie.to_be_bytes());

    // The mirror packet GWLB carries: source ENI → GWLBE / UDP 4789 / VXLAN.
    let ip_off = out.len();
    begin_ip_udp(out, params.outer_src, params.outer_dst, params.ttl);
    put_vxlan(out, params.vni, inner, params.packet_length);
    finish_ip_udp(out, ip_off, params.outer_src, vxlan_ports)?;

    // GWLB hashes the flow it carries too; fold a constant in so the GENEVE
    // port is not always equal to the VXLAN one.
    let geneve_src = match params.src_port_mode {
        SrcPortMode::Fixed(p) => p,
        _ => port_from_hash(mix(u64::from(vxlan_src_port) ^ 0x6081_6081)),
    };
    Ok(UdpPorts {
        src: geneve_src,
        dst: GENEVE_PORT,
    })
}

fn put_geneve_option(out: &mut Vec<u8>, class: u16, ty: u8, data: &[u8]) {
    debug_assert!(data.len().is_multiple_of(4) && data.len() <= 124);
    out.extend_from_slice(&class.to_be_bytes());
    out.push(ty);
    out.push((data.len() / 4) as u8);
    out.extend_from_slice(data);
}

/// VXLAN header, RFC 7348 §5: flags (I = 0x08) | 24 reserved bits | VNI (24)
/// | 8 reserved bits; then the frame, cut to `packet_length`.
fn put_vxlan(out: &mut Vec<u8>, vni: u32, inner: &[u8], packet_length: Option<u32>) {
    out.extend_from_slice(&[0x08, 0, 0, 0]);
    out.extend_from_slice(&(vni << 8).to_be_bytes());
    let keep = match packet_length {
        Some(l) => inner.len().min(usize::try_from(l).unwrap_or(usize::MAX)),
        None => inner.len(),
    };
    out.extend_from_slice(&inner[..keep]);
}

fn put_ethernet(out: &mut Vec<u8>, dst: [u8; 6], src: [u8; 6], ethertype: u16) {
    out.extend_from_slice(&dst);
    out.extend_from_slice(&src);
    out.extend_from_slice(&ethertype.to_be_bytes());
}

fn ethertype_of(a: IpAddr) -> u16 {
    if a.is_ipv4() {
        ETHERTYPE_IPV4
    } else {
        ETHERTYPE_IPV6
    }
}

/// Appends an IP header and a UDP header with the fixed fields set and the
/// lengths and checksums zero; [`finish_ip_udp`] fills them in.
fn begin_ip_udp(out: &mut Vec<u8>, src: IpAddr, dst: IpAddr, ttl: u8) {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            // RFC 791 §3.1: version 4, IHL 5 | TOS | total length | id |
            // flags (DF, as Linux sends tunnels) + fragment offset | TTL |
            // protocol 17 | checksum | src | dst. Id 0 is allowed with DF
            // (RFC 6864 §4.1).
            out.extend_from_slice(&[0x45, 0, 0, 0, 0, 0, 0x40, 0, ttl, 17, 0, 0]);
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
        }
        _ => {
            // RFC 8200 §3: version 6 | traffic class 0 | flow label 0 |
            // payload length | next header 17 | hop limit | src | dst.
            let (s, d) = (v6_octets(src), v6_octets(dst));
            out.extend_from_slice(&[0x60, 0, 0, 0, 0, 0, 17, ttl]);
            out.extend_from_slice(&s);
            out.extend_from_slice(&d);
        }
    }
    out.extend_from_slice(&[0; UDP_LEN]);
}

fn v6_octets(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Fills the lengths and checksums of the IP + UDP headers at `ip_off`,
/// whose payload runs to the end of `out`.
fn finish_ip_udp(
    out: &mut [u8],
    ip_off: usize,
    src: IpAddr,
    ports: UdpPorts,
) -> Result<(), EncapError> {
    let ip_len = if src.is_ipv4() { IPV4_LEN } else { IPV6_LEN };
    let udp_off = ip_off + ip_len;
    let udp_len = out.len() - udp_off;
    let udp_len16 = u16::try_from(udp_len).map_err(|_| EncapError::TooLong { len: udp_len })?;
    {
        let udp = &mut out[udp_off..udp_off + UDP_LEN];
        udp[0..2].copy_from_slice(&ports.src.to_be_bytes());
        udp[2..4].copy_from_slice(&ports.dst.to_be_bytes());
        udp[4..6].copy_from_slice(&udp_len16.to_be_bytes());
    }
    if src.is_ipv4() {
        let total = ip_len + udp_len;
        let total16 = u16::try_from(total).map_err(|_| EncapError::TooLong { len: total })?;
        let ip = &mut out[ip_off..udp_off];
        ip[2..4].copy_from_slice(&total16.to_be_bytes());
        let sum = !fold(ones_sum(0, ip));
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        // UDP checksum stays 0: allowed over IPv4 (RFC 768) and what VXLAN
        // senders do (RFC 7348 §5).
    } else {
        out[ip_off + 4..ip_off + 6].copy_from_slice(&udp_len16.to_be_bytes());
        // Over IPv6 the UDP checksum is mandatory (RFC 8200 §8.1): the
        // pseudo-header is src, dst, upper-layer length (32), next header.
        let mut acc = ones_sum(0, &out[ip_off + 8..ip_off + 40]);
        acc += udp_len as u32 >> 16;
        acc += udp_len as u32 & 0xffff;
        acc += 17;
        let acc = ones_sum(acc, &out[udp_off..]);
        let mut sum = !fold(acc);
        if sum == 0 {
            sum = 0xffff; // RFC 768: a computed 0 is sent as all ones
        }
        out[udp_off + 6..udp_off + 8].copy_from_slice(&sum.to_be_bytes());
    }
    Ok(())
}

/// RFC 1071 one's-complement sum, unfolded (a u32 accumulator holds
/// 65535 carries, ample for 64 KiB of 16-bit words... folded per chunk to be
/// safe for any length).
fn ones_sum(mut acc: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
        if acc > 0xffff_0000 {
            acc = (acc & 0xffff) + (acc >> 16);
        }
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

fn port_from_hash(h: u64) -> u16 {
    let span = u64::from(EPHEMERAL_PORTS.end() - EPHEMERAL_PORTS.start()) + 1;
    EPHEMERAL_PORTS.start() + (h % span) as u16
}

/// A 64-bit finaliser (SplitMix64's): spreads every input bit over the
/// output, so the port's low bits depend on all of the flow.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a over byte strings, finished with [`mix`]. Deterministic across
/// runs and platforms (unlike `std`'s `RandomState`), so generated pcaps are
/// reproducible.
struct Hasher(u64);

impl Hasher {
    fn new() -> Hasher {
        Hasher(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A length separator keeps ("ab","c") and ("a","bc") apart.
        self.0 = (self.0 ^ bytes.len() as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    fn finish(&self) -> u64 {
        mix(self.0)
    }
}

/// The hash of the inner flow that picks the source port.
fn flow_hash(frame: &[u8], symmetric: bool) -> u64 {
    let mut h = Hasher::new();
    match read_flow(frame) {
        Flow::L4 {
            src,
            dst,
            proto,
            sport,
            dport,
        } => {
            let (a, b) = ((src, sport), (dst, dport));
            let (a, b) = if symmetric && b < a { (b, a) } else { (a, b) };
            h.write(a.0);
            h.write(b.0);
            h.write(&[proto]);
            h.write(&a.1.to_be_bytes());
            h.write(&b.1.to_be_bytes());
        }
        Flow::L3 { src, dst, proto } => {
            let (a, b) = if symmetric && dst < src {
                (dst, src)
            } else {
                (src, dst)
            };
            h.write(a);
            h.write(b);
            h.write(&[proto]);
        }
        Flow::L2 {
            dst,
            src,
            ethertype,
        } => {
            let (a, b) = if symmetric && src < dst {
                (src, dst)
            } else {
                (dst, src)
            };
            h.write(a);
            h.write(b);
            h.write(&ethertype.to_be_bytes());
        }
    }
    h.finish()
}

enum Flow<'a> {
    /// TCP, UDP, ICMP, ICMPv6 (ports 0 for ICMP).
    L4 {
        src: &'a [u8],
        dst: &'a [u8],
        proto: u8,
        sport: u16,
        dport: u16,
    },
    /// Other IP protocols, fragments and cut L4 headers.
    L3 {
        src: &'a [u8],
        dst: &'a [u8],
        proto: u8,
    },
    /// Not IP (or the IP header is cut).
    L2 {
        dst: &'a [u8],
        src: &'a [u8],
        ethertype: u16,
    },
}

/// A minimal reader of the inner frame for the hash: Ethernet, any number
/// of 802.1Q/802.1ad tags, IPv4 or IPv6 (through the usual extension
/// headers), TCP/UDP ports. Whatever it cannot read falls back to a coarser
/// tuple; it never fails.
fn read_flow(frame: &[u8]) -> Flow<'_> {
    let dst = frame.get(0..6).unwrap_or(&[]);
    let src = frame.get(6..12).unwrap_or(&[]);
    let l2 = |ethertype| Flow::L2 {
        dst,
        src,
        ethertype,
    };
    let mut off = 12;
    let mut ethertype = match be16(frame, off) {
        Some(t) => t,
        None => return l2(0),
    };
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
        off += 4;
        match be16(frame, off) {
            Some(t) => ethertype = t,
            None => return l2(ethertype),
        }
    }
    let ip = &frame[off + 2..];
    let (src, dst, proto, l4) = match ethertype {
        ETHERTYPE_IPV4 => {
            let Some(h) = ip.get(..IPV4_LEN) else {
                return l2(ethertype);
            };
            let ihl = usize::from(h[0] & 0x0f) * 4;
            let frag = u16::from_be_bytes([h[6], h[7]]) & 0x1fff;
            let l4 = if frag == 0 && ihl >= IPV4_LEN {
                ip.get(ihl..)
            } else {
                None
            };
            (&h[12..16], &h[16..20], h[9], l4)
        }
        ETHERTYPE_IPV6 => {
            let Some(h) = ip.get(..IPV6_LEN) else {
                return l2(ethertype);
            };
            let (mut next, mut at) = (h[6], IPV6_LEN);
            let mut l4 = None;
            // Hop-by-hop, routing, destination options, fragment, AH.
            for _ in 0..8 {
                match next {
                    0 | 43 | 60 => {
                        let (Some(&n), Some(&len)) = (ip.get(at), ip.get(at + 1)) else {
                            break;
                        };
                        next = n;
                        at += (usize::from(len) + 1) * 8;
                    }
                    44 => {
                        let (Some(&n), Some(off_hi), Some(off_lo)) =
                            (ip.get(at), ip.get(at + 2), ip.get(at + 3))
                        else {
                            break;
                        };
                        next = n;
                        at += 8;
                        if (u16::from_be_bytes([*off_hi, *off_lo]) >> 3) != 0 {
                            break; // a non-first fragment has no L4 header
                        }
                    }
                    51 => {
                        let (Some(&n), Some(&len)) = (ip.get(at), ip.get(at + 1)) else {
                            break;
                        };
                        next = n;
                        at += (usize::from(len) + 2) * 4;
                    }
                    _ => {
                        l4 = ip.get(at..);
                        break;
                    }
                }
            }
            (&h[8..24], &h[24..40], next, l4)
        }
        _ => return l2(ethertype),
    };
    match (proto, l4) {
        (6 | 17, Some(l4)) if l4.len() >= 4 => Flow::L4 {
            src,
            dst,
            proto,
            sport: u16::from_be_bytes([l4[0], l4[1]]),
            dport: u16::from_be_bytes([l4[2], l4[3]]),
        },
        (1 | 58, Some(_)) => Flow::L4 {
            src,
            dst,
            proto,
            sport: 0,
            dport: 0,
        },
        _ => Flow::L3 { src, dst, proto },
    }
}

fn be16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(off)?, *b.get(off + 1)?]))
}

/// Presents a captured frame of `linktype` as an Ethernet frame, so
/// captures of any supported link type can be wrapped: Ethernet frames are
/// returned as they are; raw IP (`RAW`, `IPV4`, `IPV6`), BSD loopback
/// (`NULL`, `LOOP`), Linux cooked (`LINUX_SLL`, `LINUX_SLL2`), `PPP` and
/// Cisco HDLC have their link header replaced by an Ethernet header written
/// into `scratch` (cleared first), from [`SYNTH_SRC_MAC`] to
/// [`SYNTH_DST_MAC`] (a Linux cooked header's own 6-byte source address is
/// used as the source MAC when it has one). Returns `None` for other link
/// types and for frames too short to hold their link header or whose
/// network protocol cannot be told.
pub fn to_ethernet<'a>(
    linktype: u32,
    frame: &'a [u8],
    scratch: &'a mut Vec<u8>,
) -> Option<&'a [u8]> {
    use crate::linktype as lt;
    let mut src_mac = SYNTH_SRC_MAC;
    let (ethertype, payload) = match linktype {
        lt::ETHERNET => return Some(frame),
        lt::RAW => (ip_version_ethertype(frame)?, frame),
        lt::IPV4 => (ETHERTYPE_IPV4, frame),
        lt::IPV6 => (ETHERTYPE_IPV6, frame),
        lt::NULL | lt::LOOP => {
            let h: [u8; 4] = frame.get(..4)?.try_into().ok()?;
            // NULL's family is in the capturing host's byte order, which
            // the file does not record: the values are small, so whichever
            // order gives one under 256 is right.
            let af = if linktype == lt::LOOP {
                u32::from_be_bytes(h)
            } else {
                let le = u32::from_le_bytes(h);
                if le < 256 { le } else { u32::from_be_bytes(h) }
            };
            let t = match af {
                2 => ETHERTYPE_IPV4,
                // AF_INET6 is 10 on Linux, 24 on NetBSD/OpenBSD, 28 on
                // FreeBSD, 30 on macOS.
                10 | 24 | 28 | 30 => ETHERTYPE_IPV6,
                _ => return None,
            };
            (t, &frame[4..])
        }
        lt::LINUX_SLL => {
            // packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2)
            let h = frame.get(..16)?;
            if u16::from_be_bytes([h[2], h[3]]) == 1 && u16::from_be_bytes([h[4], h[5]]) == 6 {
                src_mac.copy_from_slice(&h[6..12]);
            }
            (u16::from_be_bytes([h[14], h[15]]), &frame[16..])
        }
        lt::LINUX_SLL2 => {
            // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1)
            // addr len(1) addr(8)
            let h = frame.get(..20)?;
            if u16::from_be_bytes([h[8], h[9]]) == 1 && h[11] == 6 {
                src_mac.copy_from_slice(&h[12..18]);
            }
            (u16::from_be_bytes([h[0], h[1]]), &frame[20..])
        }
        lt::PPP => {
            // RFC 1661 §2 / RFC 1662 §3.1: optional FF 03 address/control,
            // then a 2-byte protocol (1 byte when compressed: odd first byte).
            let f = match frame {
                [0xff, 0x03, rest @ ..] => rest,
                f => f,
            };
            let (proto, rest) = match f {
                [p, rest @ ..] if p & 1 == 1 => (u16::from(*p), rest),
                [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
                _ => return None,
            };
            let t = match proto {
                0x0021 => ETHERTYPE_IPV4,
                0x0057 => ETHERTYPE_IPV6,
                _ => return None,
            };
            (t, rest)
        }
        lt::C_HDLC => {
            // address(1) control(1) protocol(2, an EtherType)
            let h = frame.get(..4)?;
            (u16::from_be_bytes([h[2], h[3]]), &frame[4..])
        }
        _ => return None,
    };
    scratch.clear();
    scratch.reserve(ETH_LEN + payload.len());
    put_ethernet(scratch, SYNTH_DST_MAC, src_mac, ethertype);
    scratch.extend_from_slice(payload);
    Some(scratch)
}

fn ip_version_ethertype(frame: &[u8]) -> Option<u16> {
    match frame.first()? >> 4 {
        4 => Some(ETHERTYPE_IPV4),
        6 => Some(ETHERTYPE_IPV6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Ethernet / IPv4 10.0.1.15 → 10.0.1.20 / UDP 1234 → 53, 4-byte payload.
    fn inner_udp(swap: bool) -> Vec<u8> {
        let (mut s, mut d) = ([10, 0, 1, 15], [10, 0, 1, 20]);
        let (mut sp, mut dp) = (1234u16, 53u16);
        if swap {
            std::mem::swap(&mut s, &mut d);
            std::mem::swap(&mut sp, &mut dp);
        }
        let mut f = vec![0x0a, 0, 0, 0, 0, 2, 0x0a, 0, 0, 0, 0, 1, 0x08, 0x00];
        f.extend_from_slice(&[0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0]);
        f.extend_from_slice(&s);
        f.extend_from_slice(&d);
        f.extend_from_slice(&sp.to_be_bytes());
        f.extend_from_slice(&dp.to_be_bytes());
        f.extend_from_slice(&[0, 12, 0, 0, b'a', b'b', b'c', b'd']);
        f
    }

    fn verify_ipv4_header(h: &[u8]) {
        assert_eq!(fold(ones_sum(0, &h[..20])), 0xffff, "IPv4 header checksum");
    }

    #[test]
    fn vxlan_fixture() {
        let inner = inner_udp(false);
        let mut p = EncapParams::vxlan(42, v4("10.0.1.15"), v4("10.0.0.100"));
        p.src_port_mode = SrcPortMode::Fixed(50000);
        let mut out = vec![0xaa; 3]; // cleared, not appended to
        encap_frame(&inner, &p, &mut out).unwrap();
        let total = 20 + 8 + 8 + inner.len();
        #[rustfmt::skip]
        let want_head: Vec<u8> = [
            &DEFAULT_OUTER_DST_MAC[..], &DEFAULT_OUTER_SRC_MAC[..], &[0x08, 0x00],
            &[0x45, 0x00], &(total as u16).to_be_bytes(), &[0, 0, 0x40, 0x00, 64, 17],
        ].concat();
        assert_eq!(&out[..24], &want_head[..]);
        assert_eq!(&out[26..30], &[10, 0, 1, 15]);
        assert_eq!(&out[30..34], &[10, 0, 0, 100]);
        verify_ipv4_header(&out[14..34]);
        let udp_len = (8 + 8 + inner.len()) as u16;
        let mut want_udp = vec![0xc3, 0x50, 0x12, 0xb5];
        want_udp.extend_from_slice(&udp_len.to_be_bytes());
        want_udp.extend_from_slice(&[0, 0]);
        assert_eq!(&out[34..42], &want_udp[..]);
        assert_eq!(&out[42..50], &[0x08, 0, 0, 0, 0, 0, 0x2a, 0]);
        assert_eq!(&out[50..], &inner[..]);
    }

    #[test]
    fn packet_length_truncates_after_vxlan_header() {
        let inner = inner_udp(false);
        let mut p = EncapParams::vxlan(7, v4("10.0.2.20"), v4("10.0.0.100"));
        p.packet_length = Some(20);
        let mut out = Vec::new();
        encap_frame(&inner, &p, &mut out).unwrap();
        assert_eq!(out.len(), 50 + 20);
        assert_eq!(&out[50..], &inner[..20]);
        assert_eq!(u16::from_be_bytes([out[16], out[17]]), 20 + 8 + 8 + 20);
        assert_eq!(u16::from_be_bytes([out[38], out[39]]), 8 + 8 + 20);
        verify_ipv4_header(&out[14..34]);
        // Longer than the frame: nothing cut.
        p.packet_length = Some(10_000);
        encap_frame(&inner, &p, &mut out).unwrap();
        assert_eq!(&out[50..], &inner[..]);
    }

    #[test]
    fn ipv6_outer_has_a_valid_udp_checksum() {
        let inner = inner_udp(false);
        let src: IpAddr = "2001:db8::15".parse().unwrap();
        let dst: IpAddr = "2001:db8::100".parse().unwrap();
        let p = EncapParams::vxlan(42, src, dst);
        let mut out = Vec::new();
        encap_frame(&inner, &p, &mut out).unwrap();
        assert_eq!(&out[12..14], &[0x86, 0xdd]);
        let ip = &out[14..54];
        assert_eq!(ip[0], 0x60);
        let plen = u16::from_be_bytes([ip[4], ip[5]]);
        assert_eq!(usize::from(plen), out.len() - 54);
        assert_eq!(ip[6], 17);
        assert_eq!(
            &ip[8..24],
            &"2001:db8::15".parse::<Ipv6Addr>().unwrap().octets()
        );
        let udp = &out[54..];
        assert_ne!(&udp[6..8], &[0, 0]);
        // Verify: the sum over pseudo-header and datagram folds to 0xffff.
        let mut acc = ones_sum(0, &ip[8..40]);
        acc += u32::from(plen) + 17;
        assert_eq!(fold(ones_sum(acc, udp)), 0xffff);
        assert_eq!(&udp[8..16], &[0x08, 0, 0, 0, 0, 0, 0x2a, 0]);
    }

    #[test]
    fn gwlb_double_wrap_fixture() {
        let inner = inner_udp(false);
        let mut p = EncapParams::vxlan(42, v4("10.0.1.15"), v4("10.0.3.50"));
        p.gwlb = Some(GwlbParams {
            geneve_src: "10.0.3.10".parse().unwrap(),
            geneve_dst: "10.0.0.100".parse().unwrap(),
            endpoint_id: 0x0102_0304_0506_0708,
            attachment_id: 0x1112_1314_1516_1718,
            flow_cookie: 0xdead_beef,
        });
        p.src_port_mode = SrcPortMode::Fixed(50000);
        let mut out = Vec::new();
        encap_frame(&inner, &p, &mut out).unwrap();
        // 68 bytes of GWLB overhead around the VXLAN packet.
        assert_eq!(out.len(), 14 + 68 + 20 + 8 + 8 + inner.len());
        assert_eq!(&out[26..30], &[10, 0, 3, 10]);
        assert_eq!(&out[30..34], &[10, 0, 0, 100]);
        verify_ipv4_header(&out[14..34]);
        assert_eq!(&out[36..38], &6081u16.to_be_bytes());
        #[rustfmt::skip]
        let geneve: [u8; 40] = [
            0x08, 0x00, 0x08, 0x00, 0, 0, 0, 0,          // opt len 8 words, proto IPv4
            0x01, 0x08, 0x01, 0x02, 1, 2, 3, 4, 5, 6, 7, 8,
            0x01, 0x08, 0x02, 0x02, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
            0x01, 0x08, 0x03, 0x01, 0xde, 0xad, 0xbe, 0xef,
        ];
        assert_eq!(&out[42..82], &geneve[..]);
        let ip = &out[82..102];
        verify_ipv4_header(ip);
        assert_eq!(&ip[12..16], &[10, 0, 1, 15]);
        assert_eq!(&ip[16..20], &[10, 0, 3, 50]);
        assert_eq!(
            usize::from(u16::from_be_bytes([ip[2], ip[3]])),
            out.len() - 82
        );
        assert_eq!(&out[104..106], &4789u16.to_be_bytes());
        assert_eq!(&out[110..118], &[0x08, 0, 0, 0, 0, 0, 0x2a, 0]);
        assert_eq!(&out[118..], &inner[..]);

        // The UDP payload alone is what follows the outer UDP header.
        let mut payload = Vec::new();
        let ports = encap_udp_payload(&inner, &p, &mut payload).unwrap();
        assert_eq!(
            ports,
            UdpPorts {
                src: 50000,
                dst: 6081
            }
        );
        assert_eq!(&payload[..], &out[42..]);
    }

    #[test]
    fn source_ports_differ_per_direction_unless_symmetric() {
        let (a, b) = (inner_udp(false), inner_udp(true));
        let pa = outer_src_port(&a, SrcPortMode::Asymmetric);
        let pb = outer_src_port(&b, SrcPortMode::Asymmetric);
        assert_ne!(pa, pb);
        assert_eq!(pa, outer_src_port(&a, SrcPortMode::Asymmetric));
        assert!(EPHEMERAL_PORTS.contains(&pa) && EPHEMERAL_PORTS.contains(&pb));
        assert_eq!(
            outer_src_port(&a, SrcPortMode::Symmetric),
            outer_src_port(&b, SrcPortMode::Symmetric)
        );
        // Payload bytes do not move the port; the 5-tuple does.
        let mut a2 = a.clone();
        *a2.last_mut().unwrap() ^= 0xff;
        assert_eq!(pa, outer_src_port(&a2, SrcPortMode::Asymmetric));
        let mut a3 = a.clone();
        a3[34] ^= 1; // source port
        assert_ne!(pa, outer_src_port(&a3, SrcPortMode::Asymmetric));
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let p = EncapParams::vxlan(1, v4("10.0.0.1"), v4("10.0.0.2"));
        let mut out = Vec::new();
        for len in 0..60 {
            let f: Vec<u8> = inner_udp(false).into_iter().cycle().take(len).collect();
            encap_frame(&f, &p, &mut out).unwrap();
            let mut vlan = vec![0u8; 12];
            vlan.extend(std::iter::repeat_n([0x81, 0x00, 0, 5], 5).flatten());
            vlan.truncate(len);
            encap_frame(&vlan, &p, &mut out).unwrap();
            let mut v6 = vec![0u8; 12];
            v6.extend_from_slice(&[0x86, 0xdd, 0x60]);
            // Next header 0 then zeros: a chain of hop-by-hop headers.
            v6.resize(len.max(15), 0);
            encap_frame(&v6, &p, &mut out).unwrap();
        }
    }

    #[test]
    fn errors() {
        let mut out = Vec::new();
        let p = EncapParams::vxlan(1 << 24, v4("10.0.0.1"), v4("10.0.0.2"));
        assert_eq!(
            encap_frame(&[], &p, &mut out),
            Err(EncapError::VniOutOfRange(1 << 24))
        );
        let p = EncapParams::vxlan(1, v4("10.0.0.1"), "::1".parse().unwrap());
        assert_eq!(
            encap_frame(&[], &p, &mut out),
            Err(EncapError::AddressFamilyMismatch)
        );
        let p = EncapParams::vxlan(1, v4("10.0.0.1"), v4("10.0.0.2"));
        let big = vec![0u8; 65536];
        assert!(matches!(
            encap_frame(&big, &p, &mut out),
            Err(EncapError::TooLong { .. })
        ));
        assert!(encap_udp_payload(&big, &p, &mut out).is_ok());
    }

    #[test]
    fn linktypes_become_ethernet() {
        use crate::linktype as lt;
        let ip: Vec<u8> = inner_udp(false)[14..].to_vec();
        let mut s = Vec::new();
        let eth = inner_udp(false);
        assert_eq!(to_ethernet(lt::ETHERNET, &eth, &mut s), Some(&eth[..]));

        let want = |t: u16, src: [u8; 6]| -> Vec<u8> {
            [&SYNTH_DST_MAC[..], &src[..], &t.to_be_bytes(), &ip[..]].concat()
        };
        let v4 = want(0x0800, SYNTH_SRC_MAC);
        assert_eq!(to_ethernet(lt::RAW, &ip, &mut s).unwrap(), &v4[..]);
        assert_eq!(to_ethernet(lt::IPV4, &ip, &mut s).unwrap(), &v4[..]);
        let null_le = [&[2, 0, 0, 0][..], &ip].concat();
        assert_eq!(to_ethernet(lt::NULL, &null_le, &mut s).unwrap(), &v4[..]);
        let null_be = [&[0, 0, 0, 2][..], &ip].concat();
        assert_eq!(to_ethernet(lt::NULL, &null_be, &mut s).unwrap(), &v4[..]);
        let loop6 = [&[0, 0, 0, 24][..], &ip].concat();
        assert_eq!(
            to_ethernet(lt::LOOP, &loop6, &mut s).unwrap(),
            &want(0x86dd, SYNTH_SRC_MAC)[..]
        );
        let ppp = [&[0xff, 0x03, 0x00, 0x21][..], &ip].concat();
        assert_eq!(to_ethernet(lt::PPP, &ppp, &mut s).unwrap(), &v4[..]);
        let ppp_c = [&[0x21][..], &ip].concat();
        assert_eq!(to_ethernet(lt::PPP, &ppp_c, &mut s).unwrap(), &v4[..]);
        let hdlc = [&[0x0f, 0x00, 0x08, 0x00][..], &ip].concat();
        assert_eq!(to_ethernet(lt::C_HDLC, &hdlc, &mut s).unwrap(), &v4[..]);
        let mac = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
        #[rustfmt::skip]
        let sll = [&[0, 4, 0, 1, 0, 6][..], &mac, &[0, 0], &[0x08, 0x00], &ip].concat();
        assert_eq!(
            to_ethernet(lt::LINUX_SLL, &sll, &mut s).unwrap(),
            &want(0x0800, mac)[..]
        );
        #[rustfmt::skip]
        let sll2 = [&[0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6][..], &mac, &[0, 0], &ip].concat();
        assert_eq!(
            to_ethernet(lt::LINUX_SLL2, &sll2, &mut s).unwrap(),
            &want(0x0800, mac)[..]
        );

        assert_eq!(to_ethernet(105, &ip, &mut s), None);
        assert_eq!(to_ethernet(lt::RAW, &[0x50], &mut s), None);
        assert_eq!(to_ethernet(lt::LINUX_SLL, &[0; 10], &mut s), None);
        assert_eq!(to_ethernet(lt::NULL, &[99, 0, 0, 0], &mut s), None);
        assert_eq!(to_ethernet(lt::PPP, &[], &mut s), None);
    }
}
