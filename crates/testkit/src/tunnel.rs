//! Tunnel encoders written by hand from their specifications, and the outer
//! IP/UDP/GRE wrappers.
//!
//! Each header is laid out byte by byte with the RFC's diagram in a comment,
//! so a reader can check it against the text without trusting any decoder.
//! The outer IP, UDP and Ethernet headers are written with `pnet_packet`.
//!
//! ```
//! use mirador_testkit::tunnel::vxlan_header;
//! assert_eq!(vxlan_header(42), [0x08, 0, 0, 0, 0, 0, 0x2a, 0]);
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pnet_packet::ip::IpNextHeaderProtocol;
use pnet_packet::ipv4::MutableIpv4Packet;
use pnet_packet::ipv6::MutableIpv6Packet;
use pnet_packet::udp::{MutableUdpPacket, UdpPacket};

use crate::frame::{Mac, ethernet_header, ethertype, proto};

/// UDP port of VXLAN.
pub const VXLAN_PORT: u16 = 4789;
/// UDP port of GENEVE.
pub const GENEVE_PORT: u16 = 6081;
/// GENEVE option class of the AWS Gateway Load Balancer TLVs.
pub const GWLB_CLASS: u16 = 0x0108;

/// The 8-byte VXLAN header, RFC 7348 §5:
///
/// ```text
/// |R|R|R|R|I|R|R|R|            Reserved (24)                      |
/// |                VXLAN Network Identifier (24)  | Reserved (8)  |
/// ```
pub fn vxlan_header(vni: u32) -> [u8; 8] {
    let v = vni.to_be_bytes();
    [0x08, 0, 0, 0, v[1], v[2], v[3], 0]
}

/// VXLAN header followed by `frame`.
pub fn vxlan(vni: u32, frame: &[u8]) -> Vec<u8> {
    let mut out = vxlan_header(vni).to_vec();
    out.extend_from_slice(frame);
    out
}

/// One GENEVE option (RFC 8926 §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneveOption {
    /// Option class.
    pub class: u16,
    /// Type (the high bit is the "critical" bit).
    pub ty: u8,
    /// Data; padded with zeros to a multiple of 4 bytes when encoded.
    pub data: Vec<u8>,
    /// Write this in the 5-bit length field instead of the true length (for
    /// malformed packets).
    pub len_override: Option<u8>,
}

impl GeneveOption {
    /// An option with correct length.
    pub fn new(class: u16, ty: u8, data: impl Into<Vec<u8>>) -> GeneveOption {
        GeneveOption {
            class,
            ty,
            data: data.into(),
            len_override: None,
        }
    }
}

/// The three options an AWS Gateway Load Balancer adds, class 0x0108:
/// type 1 endpoint id (8 bytes), type 2 attachment id (8), type 3 flow
/// cookie (4). 32 bytes encoded.
pub fn gwlb_options(endpoint_id: u64, attachment_id: u64, flow_cookie: u32) -> Vec<GeneveOption> {
    vec![
        GeneveOption::new(GWLB_CLASS, 1, endpoint_id.to_be_bytes()),
        GeneveOption::new(GWLB_CLASS, 2, attachment_id.to_be_bytes()),
        GeneveOption::new(GWLB_CLASS, 3, flow_cookie.to_be_bytes()),
    ]
}

/// A GENEVE header (RFC 8926 §3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geneve {
    /// Version (2 bits; 0 is the only one defined).
    pub version: u8,
    /// O bit: control packet.
    pub oam: bool,
    /// C bit: critical options present.
    pub critical: bool,
    /// Protocol type: EtherType of the payload (0x6558 for Ethernet).
    pub protocol: u16,
    /// VNI (24 bits).
    pub vni: u32,
    /// Options.
    pub options: Vec<GeneveOption>,
    /// Write this in the 6-bit Opt Len field instead of the true length.
    pub opt_len_override: Option<u8>,
}

impl Geneve {
    /// A header carrying `protocol` with no options.
    pub fn new(protocol: u16, vni: u32) -> Geneve {
        Geneve {
            version: 0,
            oam: false,
            critical: false,
            protocol,
            vni,
            options: Vec::new(),
            opt_len_override: None,
        }
    }

    /// The GWLB form: IPv4 (or IPv6) payload, VNI 0, the three GWLB options.
    pub fn gwlb(protocol: u16, endpoint_id: u64, attachment_id: u64, flow_cookie: u32) -> Geneve {
        Geneve {
            options: gwlb_options(endpoint_id, attachment_id, flow_cookie),
            ..Geneve::new(protocol, 0)
        }
    }

    /// Header, options, then `payload`.
    ///
    /// ```text
    /// |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
    /// |        Virtual Network Identifier (VNI)       |    Reserved   |
    /// |                    Variable-Length Options                    |
    /// ```
    /// Each option (§3.5):
    /// ```text
    /// |          Option Class         |      Type     |R|R|R| Length  |
    /// |                 Variable-Length Option Data                   |
    /// ```
    /// Opt Len and Length count 4-byte words, excluding the fixed header
    /// and the option's own 4-byte header respectively.
    pub fn encode(&self, payload: &[u8]) -> Vec<u8> {
        let mut opts = Vec::new();
        for o in &self.options {
            let words = o.data.len().div_ceil(4);
            opts.extend_from_slice(&o.class.to_be_bytes());
            opts.push(o.ty);
            opts.push(o.len_override.unwrap_or(words as u8) & 0x1f);
            opts.extend_from_slice(&o.data);
            opts.resize(opts.len() + (words * 4 - o.data.len()), 0);
        }
        let opt_len = self.opt_len_override.unwrap_or((opts.len() / 4) as u8) & 0x3f;
        let mut out = Vec::with_capacity(8 + opts.len() + payload.len());
        out.push((self.version & 3) << 6 | opt_len);
        out.push(u8::from(self.oam) << 7 | u8::from(self.critical) << 6);
        out.extend_from_slice(&self.protocol.to_be_bytes());
        let v = self.vni.to_be_bytes();
        out.extend_from_slice(&[v[1], v[2], v[3], 0]);
        out.extend_from_slice(&opts);
        out.extend_from_slice(payload);
        out
    }
}

/// A GRE header (RFC 2784 §2, with the key and sequence number of RFC 2890 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gre {
    /// Protocol type (an EtherType).
    pub protocol: u16,
    /// Include a checksum (C bit) over the GRE header and payload.
    pub checksum: bool,
    /// Key (K bit).
    pub key: Option<u32>,
    /// Sequence number (S bit).
    pub seq: Option<u32>,
}

impl Gre {
    /// A GRE header with only the protocol type.
    pub fn new(protocol: u16) -> Gre {
        Gre {
            protocol,
            checksum: false,
            key: None,
            seq: None,
        }
    }

    /// Header then `payload`.
    ///
    /// ```text
    /// |C| |K|S| Reserved0       | Ver |         Protocol Type         |
    /// |      Checksum (optional)      |       Reserved1 (Optional)    |
    /// |                         Key (optional)                        |
    /// |                 Sequence Number (Optional)                    |
    /// ```
    pub fn encode(&self, payload: &[u8]) -> Vec<u8> {
        let flags = u8::from(self.checksum) << 7
            | u8::from(self.key.is_some()) << 5
            | u8::from(self.seq.is_some()) << 4;
        let mut out = vec![flags, 0];
        out.extend_from_slice(&self.protocol.to_be_bytes());
        let sum_at = out.len();
        if self.checksum {
            out.extend_from_slice(&[0, 0, 0, 0]);
        }
        if let Some(k) = self.key {
            out.extend_from_slice(&k.to_be_bytes());
        }
        if let Some(s) = self.seq {
            out.extend_from_slice(&s.to_be_bytes());
        }
        out.extend_from_slice(payload);
        if self.checksum {
            // RFC 2784 §2.5: the one's complement of the one's complement
            // sum of the GRE header and payload, checksum field zero.
            let sum = internet_checksum(&out);
            out[sum_at..sum_at + 2].copy_from_slice(&sum.to_be_bytes());
        }
        out
    }
}

/// The ERSPAN type II header (draft-foschiano-erspan-03 §4.2), 8 bytes:
///
/// ```text
/// |  Ver  |          VLAN         | COS | En|T|    Session ID     |
/// |      Reserved         |                  Index                |
/// ```
/// Ver = 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ErspanII {
    /// Session id (10 bits).
    pub session_id: u16,
    /// Original VLAN (12 bits).
    pub vlan: u16,
    /// Class of service (3 bits).
    pub cos: u8,
    /// Encapsulation type of the original frame (2 bits: 0 untagged, 1 ISL,
    /// 2 802.1Q tag preserved, 3 VLAN).
    pub en: u8,
    /// T: the frame was truncated.
    pub truncated: bool,
    /// Port index (20 bits).
    pub index: u32,
}

impl ErspanII {
    /// The 8 header bytes.
    pub fn header(&self) -> [u8; 8] {
        let w0: u32 = 1 << 28
            | u32::from(self.vlan & 0x0fff) << 16
            | u32::from(self.cos & 7) << 13
            | u32::from(self.en & 3) << 11
            | u32::from(self.truncated) << 10
            | u32::from(self.session_id & 0x3ff);
        let w1: u32 = self.index & 0xf_ffff;
        let mut h = [0u8; 8];
        h[..4].copy_from_slice(&w0.to_be_bytes());
        h[4..].copy_from_slice(&w1.to_be_bytes());
        h
    }
}

/// The ERSPAN type III header (draft-foschiano-erspan-03 §4.3), 12 bytes,
/// plus the 8-byte platform-specific subheader when `platform` is set (O bit):
///
/// ```text
/// |  Ver  |          VLAN         | COS |BSO|T|     Session ID    |
/// |                          Timestamp                            |
/// |             SGT               |P|    FT   |   Hw ID   |D|Gra|O|
/// ```
/// Ver = 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ErspanIII {
    /// Session id (10 bits).
    pub session_id: u16,
    /// Original VLAN (12 bits).
    pub vlan: u16,
    /// Class of service (3 bits).
    pub cos: u8,
    /// Bad/short/oversized (2 bits).
    pub bso: u8,
    /// T: the frame was truncated.
    pub truncated: bool,
    /// Timestamp (32 bits, granularity per `gra`).
    pub timestamp: u32,
    /// Security group tag.
    pub sgt: u16,
    /// P: the frame is an Ethernet protocol frame (0 = Ethernet).
    pub p: bool,
    /// Frame type (5 bits: 0 Ethernet, 2 IP).
    pub ft: u8,
    /// Hardware id (6 bits).
    pub hw_id: u8,
    /// Direction: 0 ingress, 1 egress.
    pub egress: bool,
    /// Timestamp granularity (2 bits).
    pub gra: u8,
    /// The platform-specific subheader (O bit set when present).
    pub platform: Option<[u8; 8]>,
}

impl ErspanIII {
    /// The 12 (or 20) header bytes.
    pub fn header(&self) -> Vec<u8> {
        let w0: u32 = 2 << 28
            | u32::from(self.vlan & 0x0fff) << 16
            | u32::from(self.cos & 7) << 13
            | u32::from(self.bso & 3) << 11
            | u32::from(self.truncated) << 10
            | u32::from(self.session_id & 0x3ff);
        let w2: u32 = u32::from(self.sgt) << 16
            | u32::from(self.p) << 15
            | u32::from(self.ft & 0x1f) << 10
            | u32::from(self.hw_id & 0x3f) << 4
            | u32::from(self.egress) << 3
            | u32::from(self.gra & 3) << 1
            | u32::from(self.platform.is_some());
        let mut h = Vec::with_capacity(20);
        h.extend_from_slice(&w0.to_be_bytes());
        h.extend_from_slice(&self.timestamp.to_be_bytes());
        h.extend_from_slice(&w2.to_be_bytes());
        if let Some(p) = self.platform {
            h.extend_from_slice(&p);
        }
        h
    }
}

/// GRE carrying ERSPAN type I: protocol 0x88BE with no sequence number
/// (S bit clear) and no ERSPAN header; the mirrored frame follows.
pub fn erspan_i(frame: &[u8]) -> Vec<u8> {
    Gre::new(ethertype::ERSPAN_II).encode(frame)
}

/// GRE (protocol 0x88BE, S bit, sequence `seq`) + ERSPAN II header + frame.
pub fn erspan_ii(seq: u32, h: &ErspanII, frame: &[u8]) -> Vec<u8> {
    let mut body = h.header().to_vec();
    body.extend_from_slice(frame);
    Gre {
        seq: Some(seq),
        ..Gre::new(ethertype::ERSPAN_II)
    }
    .encode(&body)
}

/// GRE (protocol 0x22EB, S bit, sequence `seq`) + ERSPAN III header + frame.
pub fn erspan_iii(seq: u32, h: &ErspanIII, frame: &[u8]) -> Vec<u8> {
    let mut body = h.header();
    body.extend_from_slice(frame);
    Gre {
        seq: Some(seq),
        ..Gre::new(ethertype::ERSPAN_III)
    }
    .encode(&body)
}

/// RFC 1071 Internet checksum (what GRE's C bit uses).
pub fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        acc += u64::from(*b) << 8;
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// An IP packet: IPv4 (DF, given id) or IPv6 header written by pnet, then
/// `payload`. Mixed address versions are written as IPv6 (v4-mapped).
pub fn ip_packet(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    ttl: u8,
    id: u16,
    payload: &[u8],
) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut h = [0u8; 20];
            let mut p = MutableIpv4Packet::new(&mut h).expect("20 bytes");
            p.set_version(4);
            p.set_header_length(5);
            p.set_total_length(u16::try_from(20 + payload.len()).unwrap_or(u16::MAX));
            p.set_identification(id);
            p.set_flags(2);
            p.set_ttl(ttl);
            p.set_next_level_protocol(IpNextHeaderProtocol(protocol));
            p.set_source(s);
            p.set_destination(d);
            let sum = pnet_packet::ipv4::checksum(&p.to_immutable());
            p.set_checksum(sum);
            [&h[..], payload].concat()
        }
        _ => {
            let mut h = [0u8; 40];
            let mut p = MutableIpv6Packet::new(&mut h).expect("40 bytes");
            p.set_version(6);
            p.set_payload_length(u16::try_from(payload.len()).unwrap_or(u16::MAX));
            p.set_next_header(IpNextHeaderProtocol(protocol));
            p.set_hop_limit(ttl);
            p.set_source(v6(src));
            p.set_destination(v6(dst));
            [&h[..], payload].concat()
        }
    }
}

fn v6(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// IP + UDP around `payload`. The UDP checksum is 0 over IPv4 (as VXLAN and
/// GENEVE senders do) and computed (pnet) over IPv6, where it is mandatory.
pub fn ip_udp(src: IpAddr, dst: IpAddr, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut udp = vec![0u8; 8 + payload.len()];
    udp[8..].copy_from_slice(payload);
    let len = u16::try_from(udp.len()).unwrap_or(u16::MAX);
    {
        let mut p = MutableUdpPacket::new(&mut udp).expect("8 bytes");
        p.set_source(src_port);
        p.set_destination(dst_port);
        p.set_length(len);
    }
    if src.is_ipv6() || dst.is_ipv6() {
        let view = UdpPacket::new(&udp).expect("8 bytes");
        let mut sum = pnet_packet::udp::ipv6_checksum(&view, &v6(src), &v6(dst));
        if sum == 0 {
            sum = 0xffff;
        }
        udp[6..8].copy_from_slice(&sum.to_be_bytes());
    }
    ip_packet(src, dst, proto::UDP, 64, 0, &udp)
}

/// IP (protocol 47) around a GRE packet.
pub fn ip_gre(src: IpAddr, dst: IpAddr, gre: &[u8]) -> Vec<u8> {
    ip_packet(src, dst, proto::GRE, 64, 0, gre)
}

/// Outer Ethernet header (IPv4 or IPv6 EtherType by the packet's version
/// nibble) before an IP packet.
pub fn ethernet(dst: Mac, src: Mac, ip: &[u8]) -> Vec<u8> {
    let t = if ip.first().is_some_and(|b| b >> 4 == 6) {
        ethertype::IPV6
    } else {
        ethertype::IPV4
    };
    [&ethernet_header(dst, src, t)[..], ip].concat()
}

/// Outer source MAC used by the convenience wrappers (the mirror source's
/// VPC router side, locally administered).
pub const OUTER_SRC_MAC: Mac = [0x02, 0xaa, 0x00, 0x00, 0x00, 0x01];
/// Outer destination MAC used by the convenience wrappers (the sensor).
pub const OUTER_DST_MAC: Mac = [0x02, 0xaa, 0x00, 0x00, 0x00, 0x02];

/// A complete mirrored frame as an ENI/NLB target receives it:
/// Ethernet / IP `src`→`dst` / UDP `src_port`→4789 / VXLAN `vni` / `inner`.
pub fn vxlan_frame(src: IpAddr, dst: IpAddr, src_port: u16, vni: u32, inner: &[u8]) -> Vec<u8> {
    let ip = ip_udp(src, dst, src_port, VXLAN_PORT, &vxlan(vni, inner));
    ethernet(OUTER_DST_MAC, OUTER_SRC_MAC, &ip)
}

/// The Gateway Load Balancer double wrap:
/// Ethernet / IPv4 `geneve_src`→`geneve_dst` / UDP →6081 / GENEVE (GWLB
/// options, protocol IPv4) / IP `eni`→`gwlbe` / UDP →4789 / VXLAN / `inner`.
#[allow(clippy::too_many_arguments)]
pub fn gwlb_frame(
    geneve_src: Ipv4Addr,
    geneve_dst: Ipv4Addr,
    eni: IpAddr,
    gwlbe: IpAddr,
    src_port: u16,
    vni: u32,
    ids: (u64, u64, u32),
    inner: &[u8],
) -> Vec<u8> {
    let mirror = ip_udp(eni, gwlbe, src_port, VXLAN_PORT, &vxlan(vni, inner));
    let protocol = if eni.is_ipv6() {
        ethertype::IPV6
    } else {
        ethertype::IPV4
    };
    let geneve = Geneve::gwlb(protocol, ids.0, ids.1, ids.2).encode(&mirror);
    // GWLB's own UDP source port: derived from the flow's, kept distinct.
    let port = 49152 | (src_port.rotate_left(7) & 0x3fff);
    let ip = ip_udp(
        geneve_src.into(),
        geneve_dst.into(),
        port,
        GENEVE_PORT,
        &geneve,
    );
    ethernet(OUTER_DST_MAC, OUTER_SRC_MAC, &ip)
}

/// Ethernet / IP `src`→`dst` / `gre` (a GRE packet from [`Gre::encode`],
/// [`erspan_i`], [`erspan_ii`] or [`erspan_iii`]).
pub fn gre_frame(src: IpAddr, dst: IpAddr, gre: &[u8]) -> Vec<u8> {
    ethernet(OUTER_DST_MAC, OUTER_SRC_MAC, &ip_gre(src, dst, gre))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vxlan_vni_42() {
        assert_eq!(vxlan_header(42), [0x08, 0, 0, 0, 0, 0, 0x2a, 0]);
        assert_eq!(
            vxlan_header(0x00ab_cdef),
            [0x08, 0, 0, 0, 0xab, 0xcd, 0xef, 0]
        );
    }

    #[test]
    fn geneve_gwlb_options() {
        let g = Geneve::gwlb(
            0x0800,
            0x0102_0304_0506_0708,
            0x1112_1314_1516_1718,
            0xdead_beef,
        );
        #[rustfmt::skip]
        let want: [u8; 40] = [
            0x08, 0x00, 0x08, 0x00, 0, 0, 0, 0,          // Opt Len 8 words, proto IPv4, VNI 0
            0x01, 0x08, 0x01, 0x02, 1, 2, 3, 4, 5, 6, 7, 8,
            0x01, 0x08, 0x02, 0x02, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
            0x01, 0x08, 0x03, 0x01, 0xde, 0xad, 0xbe, 0xef,
        ];
        assert_eq!(g.encode(&[]), want);
        let mut h = Geneve::new(0x6558, 7);
        h.oam = true;
        h.critical = true;
        h.options
            .push(GeneveOption::new(0xffff, 0x80, vec![1, 2, 3]));
        assert_eq!(
            h.encode(&[0xee]),
            [
                0x02, 0xc0, 0x65, 0x58, 0, 0, 7, 0, 0xff, 0xff, 0x80, 1, 1, 2, 3, 0, 0xee
            ]
        );
    }

    #[test]
    fn gre_and_erspan() {
        let g = Gre {
            protocol: 0x0800,
            checksum: false,
            key: Some(0x0a0b0c0d),
            seq: Some(5),
        };
        assert_eq!(
            g.encode(&[]),
            [0x30, 0, 0x08, 0x00, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 5]
        );
        let c = Gre {
            checksum: true,
            ..Gre::new(0x6558)
        }
        .encode(&[1, 2, 3, 4]);
        assert_eq!(internet_checksum(&c), 0);
        assert_eq!(&c[..4], &[0x80, 0, 0x65, 0x58]);

        assert_eq!(erspan_i(&[9]), [0, 0, 0x88, 0xbe, 9]);
        let h2 = ErspanII {
            session_id: 0x3ff,
            vlan: 100,
            cos: 5,
            en: 3,
            truncated: true,
            index: 0xabcde,
        };
        // 0001 000001100100 101 11 1 1111111111 | 000000000000 10101011110011011110
        assert_eq!(
            h2.header(),
            [0x10, 0x64, 0xbf, 0xff, 0x00, 0x0a, 0xbc, 0xde]
        );
        let e2 = erspan_ii(7, &h2, &[0xaa]);
        assert_eq!(&e2[..8], &[0x10, 0, 0x88, 0xbe, 0, 0, 0, 7]);
        assert_eq!(e2.len(), 8 + 8 + 1);

        let h3 = ErspanIII {
            session_id: 17,
            timestamp: 0x01020304,
            hw_id: 0x3f,
            egress: true,
            gra: 3,
            ..Default::default()
        };
        assert_eq!(h3.header(), [0x20, 0, 0, 17, 1, 2, 3, 4, 0, 0, 0x03, 0xfe]);
        let h3o = ErspanIII {
            platform: Some([0x0c, 0, 0, 0, 0, 0, 0, 1]),
            ..h3
        };
        let b = h3o.header();
        assert_eq!(b.len(), 20);
        assert_eq!(b[11] & 1, 1);
        let e3 = erspan_iii(1, &h3, &[]);
        assert_eq!(&e3[..4], &[0x10, 0, 0x22, 0xeb]);
    }

    #[test]
    fn outer_wrappers_lengths() {
        let f = vxlan_frame(
            "10.0.1.15".parse().unwrap(),
            "10.0.0.100".parse().unwrap(),
            50000,
            42,
            &[0u8; 60],
        );
        assert_eq!(f.len(), 14 + 20 + 8 + 8 + 60);
        assert_eq!(&f[16..18], &((20 + 8 + 8 + 60) as u16).to_be_bytes());
        assert_eq!(internet_checksum(&f[14..34]), 0);
        assert_eq!(&f[34..42], &[0xc3, 0x50, 0x12, 0xb5, 0, 76, 0, 0]);

        let g = gwlb_frame(
            "10.0.3.10".parse().unwrap(),
            "10.0.0.100".parse().unwrap(),
            "10.0.1.15".parse().unwrap(),
            "10.0.3.50".parse().unwrap(),
            50000,
            42,
            (1, 2, 3),
            &[0u8; 60],
        );
        assert_eq!(g.len(), 14 + 68 + 20 + 8 + 8 + 60);

        let v6 = ip_udp(
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
            1,
            4789,
            &[1, 2, 3],
        );
        assert_eq!(v6.len(), 40 + 8 + 3);
        let view = UdpPacket::new(&v6[40..]).unwrap();
        let want = pnet_packet::udp::ipv6_checksum(
            &view,
            &"2001:db8::1".parse().unwrap(),
            &"2001:db8::2".parse().unwrap(),
        );
        assert_eq!(view.get_checksum(), want);
    }
}
