//! Fixture tests for the decoder: real packets cut from the corpus, and
//! frames assembled here from hand-written headers (the helpers below write
//! every field out; their checksum is an independent 16-bit loop).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::prelude::*;

use crate::linktype;
use crate::{
    DecodeEvent, DecodeOptions, Decoded, EncapKind, Fragment, GwlbMeta, Inner, InvalidReason,
    Network, Transport, decode, decode_udp_payload,
};

// ------------------------------------------------------------ helpers

fn opts() -> DecodeOptions {
    DecodeOptions::default()
}

fn csum16(chunks: &[&[u8]]) -> u16 {
    let mut all = Vec::new();
    for c in chunks {
        all.extend_from_slice(c);
    }
    let mut s: u32 = 0;
    for w in all.chunks(2) {
        s += u32::from(w[0]) << 8 | u32::from(*w.get(1).unwrap_or(&0));
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
const OUT_SRC: [u8; 4] = [172, 31, 0, 10];
const OUT_DST: [u8; 4] = [172, 31, 0, 20];
const IN_SRC: [u8; 4] = [10, 0, 0, 1];
const IN_DST: [u8; 4] = [10, 0, 0, 2];

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    cat(&[&MAC_B, &MAC_A, &ethertype.to_be_bytes(), payload])
}

/// A VLAN tag (TCI with PCP 0) followed by `ethertype`.
fn tag(tpid: u16, vid: u16, ethertype: u16) -> Vec<u8> {
    cat(&[
        &tpid.to_be_bytes(),
        &vid.to_be_bytes(),
        &ethertype.to_be_bytes(),
    ])
}

/// IPv4 header (no options, DF) and payload; `total` overrides the total
/// length field.
fn ipv4_with(
    proto: u8,
    src: [u8; 4],
    dst: [u8; 4],
    payload: &[u8],
    frag: u16,
    total: Option<u16>,
) -> Vec<u8> {
    let total = total.unwrap_or((20 + payload.len()) as u16);
    let mut h = vec![0x45, 0, 0, 0, 0x12, 0x34, 0, 0, 64, proto, 0, 0];
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[6..8].copy_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = csum16(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    cat(&[&h, payload])
}

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    ipv4_with(proto, src, dst, payload, 0x4000, None)
}

fn pseudo4(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> Vec<u8> {
    cat(&[&src, &dst, &[0, proto], &(len as u16).to_be_bytes()])
}

fn udp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut u = cat(&[
        &sport.to_be_bytes(),
        &dport.to_be_bytes(),
        &len.to_be_bytes(),
        &[0, 0],
        payload,
    ]);
    let c = csum16(&[&pseudo4(src, dst, 17, u.len()), &u]);
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

/// A TCP header with an MSS option (24 bytes) and `payload`.
fn tcp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut t = cat(&[
        &sport.to_be_bytes(),
        &dport.to_be_bytes(),
        &1000u32.to_be_bytes(),
        &2000u32.to_be_bytes(),
        &[0x60, 0x18, 0xff, 0xff, 0, 0, 0, 0],
        &[2, 4, 0x05, 0xb4],
        payload,
    ]);
    let c = csum16(&[&pseudo4(src, dst, 6, t.len()), &t]);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

fn vxlan_hdr(flags: u8, vni: u32) -> Vec<u8> {
    let v = vni.to_be_bytes();
    vec![flags, 0, 0, 0, v[1], v[2], v[3], 0]
}

/// Outer Ethernet/IPv4/UDP to `dport` around `payload`.
fn outer_udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    eth(
        0x0800,
        &ipv4(
            17,
            OUT_SRC,
            OUT_DST,
            &udp4(OUT_SRC, OUT_DST, sport, dport, payload),
        ),
    )
}

/// The inner frame used by most tests: Ethernet/IPv4/TCP 40000 → 80 "GET /".
fn inner_tcp_frame() -> Vec<u8> {
    eth(
        0x0800,
        &ipv4(
            6,
            IN_SRC,
            IN_DST,
            &tcp4(IN_SRC, IN_DST, 40000, 80, b"GET /"),
        ),
    )
}

fn vxlan_packet(vni: u32, inner: &[u8]) -> Vec<u8> {
    outer_udp(51000, 4789, &cat(&[&vxlan_hdr(0x08, vni), inner]))
}

fn ok<'a>(d: &'a Decoded<'a>) -> &'a Inner<'a> {
    match &d.outcome {
        Ok(i) => i,
        Err(e) => panic!("invalid: {e:?}"),
    }
}

fn reason(d: &Decoded<'_>) -> InvalidReason {
    match &d.outcome {
        Ok(i) => panic!("decoded: {i:?}"),
        Err(e) => e.reason,
    }
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn ports(i: &Inner<'_>) -> (u16, u16) {
    let t = i.five_tuple().expect("an IP packet");
    (t.src_port, t.dst_port)
}

// ------------------------------------------------------------ corpus fixtures

/// zeek `vxlan.pcap` packet 3: VXLAN VNI 123 carrying an ICMP echo request.
const ZEEK_VXLAN_ICMP: [u8; 148] = [
    0x08, 0x00, 0x27, 0xf2, 0x1d, 0x8c, 0x08, 0x00, 0x27, 0xae, 0x4d, 0x62, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x86, 0xd9, 0x99, 0x40, 0x00, 0x40, 0x11, 0x6f, 0x65, 0xc0, 0xa8, 0x38, 0x0b, 0xc0, 0xa8,
    0x38, 0x0c, 0xbc, 0x06, 0x12, 0xb5, 0x00, 0x72, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x7b, 0x00, 0x4a, 0x7f, 0x01, 0x3b, 0xa2, 0x71, 0xba, 0x09, 0x2b, 0x6e, 0xf8, 0xbe, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x54, 0x2f, 0x4f, 0x40, 0x00, 0x40, 0x01, 0xf7, 0x57, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02, 0x08, 0x00, 0x4c, 0x8a, 0x0d, 0x3d, 0x00, 0x01, 0xa3, 0x8c, 0x7c, 0x57,
    0x00, 0x00, 0x00, 0x00, 0xb5, 0x80, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13,
    0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
    0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
    0x34, 0x35, 0x36, 0x37,
];

/// zeek `gre-erspan3-dot1q.pcap` packet 1: ERSPAN III (with the platform
/// subheader) carrying an 802.1Q VLAN 10 frame with an ICMP echo request.
const ZEEK_ERSPAN3_DOT1Q: [u8; 160] = [
    0x02, 0x42, 0xac, 0x1f, 0x01, 0x87, 0x00, 0xae, 0xcd, 0x00, 0x07, 0xc7, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x92, 0x00, 0x00, 0x00, 0x00, 0x40, 0x2f, 0x1f, 0x61, 0xac, 0x1f, 0x01, 0x17, 0xac, 0x1f,
    0x01, 0x87, 0x00, 0x00, 0x22, 0xeb, 0x20, 0x0a, 0x00, 0x00, 0x70, 0x50, 0x7e, 0x55, 0x00, 0x00,
    0x00, 0x07, 0x0c, 0x00, 0x00, 0x03, 0x15, 0xf7, 0x42, 0xe8, 0x00, 0x50, 0x56, 0x8b, 0x6d, 0xc7,
    0x00, 0xae, 0xcd, 0x00, 0x0c, 0xf1, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00, 0x45, 0x00, 0x00, 0x54,
    0xba, 0xe6, 0x40, 0x00, 0x40, 0x01, 0x13, 0x63, 0xac, 0x1f, 0x0a, 0x1f, 0xac, 0x1f, 0x0a, 0x02,
    0x08, 0x00, 0x06, 0xba, 0x00, 0x2b, 0x00, 0x04, 0x40, 0xb9, 0x57, 0x5e, 0x00, 0x00, 0x00, 0x00,
    0x98, 0x2c, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
];

#[test]
fn vxlan_corpus_packet() {
    let d = decode(linktype::ETHERNET, &ZEEK_VXLAN_ICMP, &opts());
    let m = d.mirror.expect("mirror");
    assert_eq!(m.encap, EncapKind::Vxlan);
    assert_eq!(m.vni, Some(123));
    assert_eq!(m.outer_src, v4([192, 168, 56, 11]));
    assert_eq!(m.outer_dst, v4([192, 168, 56, 12]));
    assert_eq!((m.outer_src_port, m.outer_dst_port), (48134, 4789));
    assert_eq!(
        (m.erspan_session_id, m.erspan_version, m.gwlb),
        (None, None, None)
    );
    let i = ok(&d);
    assert_eq!(i.frame, &ZEEK_VXLAN_ICMP[50..]);
    assert_eq!(i.tunnel_depth, 1);
    assert!(
        matches!(i.network, Network::Ipv4 { src, dst, proto: 1, ttl: 64, total_len: 84, fragment: None, .. }
        if src == Ipv4Addr::new(10, 0, 0, 1) && dst == Ipv4Addr::new(10, 0, 0, 2))
    );
    assert_eq!(
        i.transport,
        Transport::Icmpv4 {
            icmp_type: 8,
            icmp_code: 0
        }
    );
    assert_eq!(i.payload.len(), 56);
    assert!(!i.truncated);
    assert!(!i.checksums.ipv4_bad && !i.checksums.l4_bad && !i.checksums.l4_unchecked);
    assert!(i.events.is_empty());
}

#[test]
fn erspan3_dot1q_corpus_packet() {
    let d = decode(linktype::ETHERNET, &ZEEK_ERSPAN3_DOT1Q, &opts());
    let m = d.mirror.expect("mirror");
    assert_eq!(m.encap, EncapKind::Erspan);
    assert_eq!(m.erspan_version, Some(2));
    assert_eq!(m.erspan_session_id, Some(0));
    assert_eq!(m.vni, None);
    assert_eq!(m.outer_src, v4([172, 31, 1, 23]));
    assert_eq!((m.outer_src_port, m.outer_dst_port), (0, 0));
    let i = ok(&d);
    assert_eq!(i.vlan.as_slice(), &[10]);
    let t = i.five_tuple().unwrap();
    assert_eq!(
        (t.src, t.dst, t.proto),
        (v4([172, 31, 10, 31]), v4([172, 31, 10, 2]), 1)
    );
    assert_eq!(
        i.transport,
        Transport::Icmpv4 {
            icmp_type: 8,
            icmp_code: 0
        }
    );
    assert!(!i.checksums.l4_bad && !i.checksums.l4_unchecked);
}

// ------------------------------------------------------------ VXLAN

#[test]
fn vxlan_inner_tcp() {
    let inner = inner_tcp_frame();
    let pkt = vxlan_packet(0x00ab_cdef, &inner);
    let d = decode(linktype::ETHERNET, &pkt, &opts());
    assert_eq!(d.mirror.unwrap().vni, Some(0x00ab_cdef));
    let i = ok(&d);
    assert_eq!(i.frame, &inner[..]);
    assert_eq!(ports(i), (40000, 80));
    assert!(matches!(
        i.transport,
        Transport::Tcp {
            seq: 1000,
            ack: 2000,
            flags: 0x18,
            window: 0xffff,
            header_len: 24,
            ..
        }
    ));
    assert_eq!(i.payload, b"GET /");
    assert!(!i.checksums.l4_bad && !i.checksums.l4_unchecked && !i.checksums.ipv4_bad);
}

#[test]
fn vxlan_reserved_bits_ignored_and_i_flag_clear_flagged() {
    let inner = inner_tcp_frame();
    let mut hdr = vxlan_hdr(0xff, 7);
    hdr[1] = 0xff;
    hdr[7] = 0xff;
    let frame = outer_udp(1, 4789, &cat(&[&hdr, &inner]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(d.mirror.unwrap().vni, Some(7));
    assert!(ok(&d).events.is_empty());

    let frame = outer_udp(1, 4789, &cat(&[&vxlan_hdr(0, 7), &inner]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert!(ok(&d).events.contains(DecodeEvent::VxlanFlagInvalid));
}

#[test]
fn vxlan_errors() {
    // Header cut off: no mirror.
    let frame = outer_udp(1, 4789, &[0x08, 0, 0, 0, 0, 0]);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::VxlanPktTooSmall);
    assert!(d.mirror.is_none());
    // Inner frame not Ethernet-sized: the mirror is known.
    let frame = vxlan_packet(5, &[0; 10]);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::EthernetPktTooSmall);
    assert_eq!(d.mirror.unwrap().vni, Some(5));
    // LLDP inside VXLAN.
    let frame = vxlan_packet(5, &eth(0x88cc, &[0; 30]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::VxlanUnknownPayloadType);
    let e = d.outcome.unwrap_err();
    assert_eq!(e.addrs, Some((v4(OUT_SRC), v4(OUT_DST))));
    assert_eq!(e.proto, Some(17));
    // A non-tunnel port is ordinary UDP.
    let frame = outer_udp(1, 4790, &vxlan_hdr(8, 1));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert!(d.mirror.is_none());
    assert!(matches!(
        ok(&d).transport,
        Transport::Udp {
            dst_port: 4790,
            len: 16,
            ..
        }
    ));
}

#[test]
fn vxlan_ports_are_configurable() {
    let o = DecodeOptions {
        vxlan_ports: crate::PortSet::new(&[8472]).unwrap(),
        ..opts()
    };
    let pkt = outer_udp(1, 8472, &cat(&[&vxlan_hdr(8, 9), &inner_tcp_frame()]));
    assert_eq!(
        decode(linktype::ETHERNET, &pkt, &o).mirror.unwrap().vni,
        Some(9)
    );
    assert!(decode(linktype::ETHERNET, &pkt, &opts()).mirror.is_none());
}

#[test]
fn vxlan_inner_arp_and_vlan() {
    let arp = [
        0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
    ];
    let mut padded = arp.to_vec();
    padded.extend_from_slice(&[0; 18]);
    let frame = vxlan_packet(1, &eth(0x0806, &padded));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(ok(&d).network, Network::Arp { body: &arp });

    let f = eth(
        0x8100,
        &cat(&[
            &100u16.to_be_bytes(),
            &0x0800u16.to_be_bytes(),
            &ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 1, 2, b"")),
        ]),
    );
    let frame = vxlan_packet(1, &f);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(ok(&d).vlan.as_slice(), &[100]);
}

#[test]
fn max_layers_caps_nesting() {
    let once = vxlan_packet(1, &inner_tcp_frame());
    let twice = vxlan_packet(2, &once);
    let d = decode(linktype::ETHERNET, &twice, &opts());
    let i = ok(&d);
    assert_eq!(i.tunnel_depth, 2);
    assert_eq!(
        d.mirror.unwrap().vni,
        Some(2),
        "the outermost VXLAN is the mirror"
    );
    let o = DecodeOptions {
        max_layers: 1,
        ..opts()
    };
    let d = decode(linktype::ETHERNET, &twice, &o);
    assert_eq!(reason(&d), InvalidReason::TooManyLayers);
    assert_eq!(d.mirror.unwrap().vni, Some(2));
}

// ------------------------------------------------------------ GENEVE / GWLB

/// A GENEVE header with the three GWLB options (class 0x0108).
fn geneve_gwlb(protocol: u16) -> Vec<u8> {
    let mut g = vec![0x08, 0x00];
    g.extend_from_slice(&protocol.to_be_bytes());
    g.extend_from_slice(&[0, 0, 0, 0]); // VNI 0
    g.extend_from_slice(&[0x01, 0x08, 0x01, 0x02]); // endpoint id, 8 bytes
    g.extend_from_slice(&0x1122_3344_5566_7788u64.to_be_bytes());
    g.extend_from_slice(&[0x01, 0x08, 0x02, 0x02]); // attachment id, 8 bytes
    g.extend_from_slice(&0x0102_0304_0506_0708u64.to_be_bytes());
    g.extend_from_slice(&[0x01, 0x08, 0x03, 0x01]); // flow cookie, 4 bytes
    g.extend_from_slice(&0xcafe_f00du32.to_be_bytes());
    assert_eq!(g.len(), 8 + 32);
    g
}

const ENI: [u8; 4] = [10, 1, 0, 5];
const GWLBE: [u8; 4] = [10, 1, 0, 99];

/// GWLB: GENEVE → IPv4 (source ENI → GWLB endpoint) → UDP 4789 → VXLAN.
fn gwlb_geneve_payload(inner: &[u8]) -> Vec<u8> {
    let vx = cat(&[&vxlan_hdr(8, 4242), inner]);
    let ip = ipv4(17, ENI, GWLBE, &udp4(ENI, GWLBE, 33333, 4789, &vx));
    cat(&[&geneve_gwlb(0x0800), &ip])
}

fn check_gwlb(d: &Decoded<'_>) {
    let m = d.mirror.expect("mirror");
    assert_eq!(m.encap, EncapKind::Gwlb);
    assert_eq!(m.vni, Some(4242));
    assert_eq!((m.outer_src, m.outer_dst), (v4(ENI), v4(GWLBE)));
    assert_eq!((m.outer_src_port, m.outer_dst_port), (33333, 4789));
    assert_eq!(
        m.gwlb,
        Some(GwlbMeta {
            endpoint_id: Some(0x1122_3344_5566_7788),
            attachment_id: Some(0x0102_0304_0506_0708),
            flow_cookie: Some(0xcafe_f00d),
        })
    );
    let i = ok(d);
    assert_eq!(i.tunnel_depth, 2);
    assert_eq!(ports(i), (40000, 80));
    assert!(!i.checksums.l4_bad && !i.checksums.l4_unchecked);
}

#[test]
fn gwlb_double_wrap() {
    let pkt = outer_udp(7777, 6081, &gwlb_geneve_payload(&inner_tcp_frame()));
    check_gwlb(&decode(linktype::ETHERNET, &pkt, &opts()));
}

#[test]
fn gwlb_double_wrap_from_the_udp_socket() {
    let payload = gwlb_geneve_payload(&inner_tcp_frame());
    let src: SocketAddr = "172.31.0.10:7777".parse().unwrap();
    let dst: SocketAddr = "172.31.0.20:6081".parse().unwrap();
    check_gwlb(&decode_udp_payload(src, dst, &payload, &opts()));
}

#[test]
fn udp_payload_entry_vxlan_and_other_ports() {
    let payload = cat(&[&vxlan_hdr(8, 77), &inner_tcp_frame()]);
    let src: SocketAddr = "[2001:db8::1]:5000".parse().unwrap();
    let dst: SocketAddr = "[2001:db8::2]:4789".parse().unwrap();
    let d = decode_udp_payload(src, dst, &payload, &opts());
    let m = d.mirror.unwrap();
    assert_eq!(
        (m.encap, m.vni, m.outer_src, m.outer_dst_port),
        (EncapKind::Vxlan, Some(77), src.ip(), 4789)
    );
    assert_eq!(ports(ok(&d)), (40000, 80));

    let dst: SocketAddr = "[2001:db8::2]:53".parse().unwrap();
    let d = decode_udp_payload(src, dst, &payload, &opts());
    assert_eq!(reason(&d), InvalidReason::UdpNotTunnelPort);
    assert_eq!(d.outcome.unwrap_err().addrs, Some((src.ip(), dst.ip())));
}

#[test]
fn geneve_ethernet_payload_without_options() {
    let g = [0x00, 0x00, 0x65, 0x58, 0x12, 0x34, 0x56, 0x00];
    let frame = outer_udp(1, 6081, &cat(&[&g, &inner_tcp_frame()]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    let m = d.mirror.unwrap();
    assert_eq!(
        (m.encap, m.vni, m.gwlb),
        (EncapKind::Geneve, Some(0x123456), None)
    );
    assert_eq!(ports(ok(&d)), (40000, 80));
}

#[test]
fn geneve_ip_payload_is_not_gwlb_without_vxlan() {
    let ip = ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 1, 2, b"x"));
    let frame = outer_udp(1, 6081, &cat(&[&geneve_gwlb(0x0800), &ip]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    let m = d.mirror.unwrap();
    assert_eq!(m.encap, EncapKind::Geneve);
    assert_eq!(m.gwlb.unwrap().flow_cookie, Some(0xcafe_f00d));
    let i = ok(&d);
    assert_eq!(i.frame, &ip[..], "no L2: the frame starts at the IP header");
    assert_eq!(ports(i), (1, 2));
}

#[test]
fn geneve_options_checked() {
    // A GWLB flow cookie of 8 bytes: flagged and ignored.
    let mut g = vec![0x03, 0x00, 0x08, 0x00, 0, 0, 1, 0];
    g.extend_from_slice(&[0x01, 0x08, 0x03, 0x02, 1, 2, 3, 4, 5, 6, 7, 8]);
    let ip = ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 1, 2, b""));
    let frame = outer_udp(1, 6081, &cat(&[&g, &ip]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert!(ok(&d).events.contains(DecodeEvent::GeneveGwlbOptionInvalid));
    assert_eq!(d.mirror.unwrap().gwlb, None);

    // An option overrunning the declared options: header too small.
    let g = [0x01, 0x00, 0x08, 0x00, 0, 0, 1, 0, 0x01, 0x08, 0x01, 0x02];
    let frame = outer_udp(1, 6081, &cat(&[&g, &ip]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::GenevePktTooSmall);
    assert!(d.mirror.is_none());

    // Options declared but not captured.
    let g = [0x3f, 0x00, 0x08, 0x00, 0, 0, 1, 0];
    let frame = outer_udp(1, 6081, &g);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::GenevePktTooSmall);

    // Version 1.
    let g = [0x40, 0x00, 0x08, 0x00, 0, 0, 1, 0];
    let frame = outer_udp(1, 6081, &cat(&[&g, &ip]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::GeneveWrongVersion);

    // Unknown protocol type.
    let g = [0x00, 0x00, 0x88, 0xcc, 0, 0, 1, 0];
    let frame = outer_udp(1, 6081, &cat(&[&g, &ip]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::GeneveUnknownPayloadType);
    assert_eq!(d.mirror.unwrap().vni, Some(1));
}

// ------------------------------------------------------------ truncation

#[test]
fn truncated_inner_packet_is_kept() {
    // The inner IP says 1400 bytes; 24 bytes of TCP header were captured.
    let tcp = tcp4(IN_SRC, IN_DST, 40000, 80, b"");
    let ip = ipv4_with(6, IN_SRC, IN_DST, &tcp, 0x4000, Some(1400));
    let frame = vxlan_packet(3, &eth(0x0800, &ip));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    let i = ok(&d);
    assert!(i.truncated);
    assert_eq!(ports(i), (40000, 80));
    assert!(i.checksums.l4_unchecked && !i.checksums.l4_bad && !i.checksums.ipv4_bad);

    // Only 10 bytes of the TCP header: no transport, still truncated.
    let ip = ipv4_with(6, IN_SRC, IN_DST, &tcp[..10], 0x4000, Some(1400));
    let frame = vxlan_packet(3, &eth(0x0800, &ip));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    let i = ok(&d);
    assert!(i.truncated);
    assert_eq!(i.transport, Transport::None);
    assert_eq!(ports(i), (0, 0));
    assert!(i.events.is_empty());

    // The same 10 bytes when the IP length agrees: an event, not truncation.
    let ip = ipv4(6, IN_SRC, IN_DST, &tcp[..10]);
    let frame = vxlan_packet(3, &eth(0x0800, &ip));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    let i = ok(&d);
    assert!(!i.truncated);
    assert!(i.events.contains(DecodeEvent::TcpPktTooSmall));
}

#[test]
fn network_header_cut_off_is_invalid() {
    let ip = ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 1, 2, b""));
    let frame = vxlan_packet(3, &eth(0x0800, &ip[..19]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::Ipv4PktTooSmall);
    assert_eq!(d.mirror.unwrap().vni, Some(3));

    let mut opt = ip.clone();
    opt[0] = 0x46; // IHL 6: options not captured
    let frame = eth(0x0800, &opt[..22]);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::Ipv4TruncPkt);
    assert_eq!(d.outcome.unwrap_err().addrs, Some((v4(IN_SRC), v4(IN_DST))));

    let mut bad = ip.clone();
    bad[0] = 0x44;
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &eth(0x0800, &bad), &opts())),
        InvalidReason::Ipv4HlenTooSmall
    );
    bad[0] = 0x65;
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &eth(0x0800, &bad), &opts())),
        InvalidReason::Ipv4WrongIpVersion
    );
    let short = ipv4_with(6, IN_SRC, IN_DST, b"", 0, Some(12));
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &eth(0x0800, &short), &opts())),
        InvalidReason::Ipv4IplenSmallerThanHlen
    );

    let v6 = ipv6(59, &[]);
    assert_eq!(
        reason(&decode(
            linktype::ETHERNET,
            &eth(0x86dd, &v6[..39]),
            &opts()
        )),
        InvalidReason::Ipv6PktTooSmall
    );
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &eth(0x86dd, &ip), &opts())),
        InvalidReason::Ipv6WrongIpVersion
    );
}

#[test]
fn ethernet_padding_is_not_payload() {
    let udp = udp4(IN_SRC, IN_DST, 5353, 53, b"q");
    let mut f = eth(0x0800, &ipv4(17, IN_SRC, IN_DST, &udp));
    f.extend_from_slice(&[0xee; 17]);
    let d = decode(linktype::ETHERNET, &f, &opts());
    let i = ok(&d);
    assert_eq!(i.payload, b"q");
    assert!(!i.truncated && !i.checksums.l4_bad && !i.checksums.l4_unchecked);
    assert!(i.events.is_empty());
}

// ------------------------------------------------------------ checksums

#[test]
fn checksums_are_reported_not_enforced() {
    let mut tcp = tcp4(IN_SRC, IN_DST, 1, 2, b"data");
    tcp[16] ^= 0xff;
    let mut ip = ipv4(6, IN_SRC, IN_DST, &tcp);
    ip[10] ^= 0xff;
    let d = decode(linktype::RAW, &ip, &opts());
    let i = ok(&d);
    assert!(i.checksums.ipv4_bad && i.checksums.l4_bad && !i.checksums.l4_unchecked);
    assert_eq!(i.payload, b"data");

    let o = DecodeOptions {
        verify_checksums: false,
        ..opts()
    };
    let d = decode(linktype::RAW, &ip, &o);
    let c = ok(&d).checksums;
    assert!(!c.ipv4_bad && !c.l4_bad && c.l4_unchecked);

    // UDP over IPv4 with a zero checksum is not checked.
    let mut udp = udp4(IN_SRC, IN_DST, 1, 2, b"abc");
    udp[6..8].copy_from_slice(&[0, 0]);
    let frame = ipv4(17, IN_SRC, IN_DST, &udp);
    let d = decode(linktype::RAW, &frame, &opts());
    let c = ok(&d).checksums;
    assert!(!c.l4_bad && c.l4_unchecked);

    // ICMP echo with a good checksum.
    let mut icmp = vec![8, 0, 0, 0, 0, 1, 0, 1, b'h', b'i'];
    let c = csum16(&[&icmp]);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let frame = ipv4(1, IN_SRC, IN_DST, &icmp);
    let d = decode(linktype::RAW, &frame, &opts());
    let i = ok(&d);
    assert_eq!(
        i.transport,
        Transport::Icmpv4 {
            icmp_type: 8,
            icmp_code: 0
        }
    );
    assert!(!i.checksums.l4_bad && !i.checksums.l4_unchecked);
    assert_eq!(i.payload, b"hi");
}

// ------------------------------------------------------------ IPv4 fragments

#[test]
fn ipv4_fragments() {
    let udp = udp4(IN_SRC, IN_DST, 1000, 2000, &[7; 32]);
    // First fragment: MF set, offset 0: transport parsed, no checksum.
    let first = ipv4_with(17, IN_SRC, IN_DST, &udp[..24], 0x2000, None);
    let d = decode(linktype::IPV4, &first, &opts());
    let i = ok(&d);
    assert_eq!(
        i.fragment(),
        Some(Fragment {
            id: 0x1234,
            offset: 0,
            more: true
        })
    );
    assert_eq!(ports(i), (1000, 2000));
    assert!(i.checksums.l4_unchecked && !i.checksums.ipv4_bad);
    // Second fragment at offset 24: no transport, payload is the IP payload.
    let second = ipv4_with(17, IN_SRC, IN_DST, &udp[24..], 3, None);
    let d = decode(linktype::IPV4, &second, &opts());
    let i = ok(&d);
    assert_eq!(
        i.fragment(),
        Some(Fragment {
            id: 0x1234,
            offset: 24,
            more: false
        })
    );
    assert_eq!(i.transport, Transport::None);
    assert_eq!(i.payload, &udp[24..]);
    // A fragment to the VXLAN port is not decoded as a tunnel.
    let vx = udp4(
        IN_SRC,
        IN_DST,
        1,
        4789,
        &cat(&[&vxlan_hdr(8, 1), &inner_tcp_frame()]),
    );
    let frame = ipv4_with(17, IN_SRC, IN_DST, &vx, 0x2000, None);
    let d = decode(linktype::IPV4, &frame, &opts());
    assert!(d.mirror.is_none());
}

// ------------------------------------------------------------ IPv6

const V6_SRC: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_DST: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    cat(&[
        &[0x60, 0, 0, 0],
        &(payload.len() as u16).to_be_bytes(),
        &[next, 64],
        &V6_SRC,
        &V6_DST,
        payload,
    ])
}

fn udp6(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut u = cat(&[
        &sport.to_be_bytes(),
        &dport.to_be_bytes(),
        &len.to_be_bytes(),
        &[0, 0],
        payload,
    ]);
    let ph = cat(&[
        &V6_SRC,
        &V6_DST,
        &u32::from(len).to_be_bytes(),
        &[0, 0, 0, 17],
    ]);
    let c = csum16(&[&ph, &u]);
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

#[test]
fn ipv6_extension_headers() {
    let udp = udp6(546, 547, b"dhcp");
    // Hop-by-hop (8 bytes, PadN) → destination options (8) → UDP.
    let hbh = [60, 0, 1, 4, 0, 0, 0, 0];
    let dst = [17, 0, 1, 4, 0, 0, 0, 0];
    let pkt = ipv6(0, &cat(&[&hbh, &dst, &udp]));
    let d = decode(linktype::IPV6, &pkt, &opts());
    let i = ok(&d);
    assert!(
        matches!(i.network, Network::Ipv6 { proto: 17, hop_limit: 64, payload_len: 28, header, fragment: None, .. } if header.len() == 56)
    );
    assert_eq!(ports(i), (546, 547));
    assert_eq!(i.payload, b"dhcp");
    assert!(!i.checksums.l4_bad && !i.checksums.l4_unchecked);

    // Fragment header, offset 0, M set.
    let frag = [17, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef];
    let frame = ipv6(44, &cat(&[&frag, &udp]));
    let d = decode(linktype::IPV6, &frame, &opts());
    let i = ok(&d);
    assert_eq!(
        i.fragment(),
        Some(Fragment {
            id: 0xdead_beef,
            offset: 0,
            more: true
        })
    );
    assert_eq!(ports(i), (546, 547));
    // Offset 8.
    let frag = [17, 0, 0x00, 0x08, 0, 0, 0, 9];
    let frame = ipv6(44, &cat(&[&frag, &udp]));
    let d = decode(linktype::IPV6, &frame, &opts());
    assert_eq!(ok(&d).transport, Transport::None);
    assert_eq!(ok(&d).fragment().unwrap().offset, 8);
    // A later fragment whose next header names an extension header (60):
    // the bytes after the fragment header are fragment data, not headers.
    let frag = [60, 0, 0x00, 0x10, 0, 0, 0, 9];
    let data = [0xff; 16];
    let frame = ipv6(44, &cat(&[&frag, &data]));
    let d = decode(linktype::IPV6, &frame, &opts());
    let i = ok(&d);
    assert!(matches!(i.network, Network::Ipv6 { proto: 60, header, .. } if header.len() == 48));
    assert_eq!(i.payload, &data[..]);
    assert!(!i.events.contains(DecodeEvent::Ipv6ExthdrInvalid));

    // An extension header overrunning the payload: event, no transport.
    let bad = [17, 5, 0, 0, 0, 0, 0, 0];
    let frame = ipv6(60, &bad);
    let d = decode(linktype::IPV6, &frame, &opts());
    let i = ok(&d);
    assert!(i.events.contains(DecodeEvent::Ipv6ExthdrInvalid));
    assert_eq!(i.transport, Transport::None);
    // More than the cap of extension headers.
    let mut chain = Vec::new();
    for _ in 0..9 {
        chain.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
    }
    let frame = ipv6(60, &chain);
    let d = decode(linktype::IPV6, &frame, &opts());
    assert!(ok(&d).events.contains(DecodeEvent::Ipv6ExthdrInvalid));
}

#[test]
fn icmpv6_checksum() {
    let mut icmp = vec![128, 0, 0, 0, 0, 1, 0, 2];
    let ph = cat(&[&V6_SRC, &V6_DST, &8u32.to_be_bytes(), &[0, 0, 0, 58]]);
    let c = csum16(&[&ph, &icmp]);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let frame = ipv6(58, &icmp);
    let d = decode(linktype::RAW, &frame, &opts());
    let i = ok(&d);
    assert_eq!(
        i.transport,
        Transport::Icmpv6 {
            icmp_type: 128,
            icmp_code: 0
        }
    );
    assert!(!i.checksums.l4_bad && !i.checksums.l4_unchecked);
    let t = i.five_tuple().unwrap();
    assert_eq!(t.src, IpAddr::V6(Ipv6Addr::from(V6_SRC)));
}

#[test]
fn ip_in_ip_counts_a_layer() {
    let inner = ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 5, 6, b""));
    let frame = ipv4(4, OUT_SRC, OUT_DST, &inner);
    let d = decode(linktype::RAW, &frame, &opts());
    let i = ok(&d);
    assert_eq!(i.tunnel_depth, 1);
    assert_eq!(i.frame, &inner[..]);
    assert_eq!(ports(i), (5, 6));
    assert!(d.mirror.is_none());
    let frame = ipv6(4, &inner);
    let d = decode(linktype::RAW, &frame, &opts());
    assert_eq!(ports(ok(&d)), (5, 6));
}

// ------------------------------------------------------------ L2 variants

#[test]
fn vlan_tags() {
    let ip = ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 1, 2, b""));
    let f = eth(
        0x88a8,
        &cat(&[
            &tag(0, 100, 0x8100)[2..],
            &tag(0, 200, 0x9100)[2..],
            &tag(0, 0x1123, 0x0800)[2..],
            &ip,
        ]),
    );
    let d = decode(linktype::ETHERNET, &f, &opts());
    assert_eq!(ok(&d).vlan.as_slice(), &[100, 200, 0x123]);

    let f = eth(
        0x8100,
        &cat(&[
            &tag(0, 1, 0x8100)[2..],
            &tag(0, 2, 0x8100)[2..],
            &tag(0, 3, 0x8100)[2..],
            &tag(0, 4, 0x0800)[2..],
            &ip,
        ]),
    );
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &f, &opts())),
        InvalidReason::VlanTooManyLayers
    );
    let f = eth(0x8100, &[0, 1, 0x08]);
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &f, &opts())),
        InvalidReason::VlanHeaderTooSmall
    );
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &f[..13], &opts())),
        InvalidReason::EthernetPktTooSmall
    );
}

#[test]
fn vntag() {
    let ip = ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 1, 2, b""));
    let f = eth(0x8926, &cat(&[&[0x80, 0x01, 0x00, 0x02, 0x08, 0x00], &ip]));
    assert_eq!(ports(ok(&decode(linktype::ETHERNET, &f, &opts()))), (1, 2));
    let f = eth(0x8926, &[0x80, 0x01, 0x00, 0x02, 0x08]);
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &f, &opts())),
        InvalidReason::VntagHeaderTooSmall
    );
}

#[test]
fn mpls() {
    let ip = ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 1, 2, b""));
    // Two labels (29, then 16 with S set), IPv4 guessed by its nibble.
    let f = eth(
        0x8847,
        &cat(&[&[0x00, 0x01, 0xd0, 0x40], &[0x00, 0x01, 0x01, 0x40], &ip]),
    );
    assert_eq!(ports(ok(&decode(linktype::ETHERNET, &f, &opts()))), (1, 2));
    // Pseudowire: control word, then Ethernet.
    let f = eth(
        0x8847,
        &cat(&[&[0x00, 0x01, 0x01, 0x40], &[0, 0, 0, 0], &inner_tcp_frame()]),
    );
    assert_eq!(
        ports(ok(&decode(linktype::ETHERNET, &f, &opts()))),
        (40000, 80)
    );
    // Unknown payload.
    let f = eth(0x8847, &[0x00, 0x01, 0x01, 0x40, 0x90, 0, 0, 0]);
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &f, &opts())),
        InvalidReason::MplsUnknownPayloadType
    );
    // No bottom of stack.
    let f = eth(0x8847, &[0x00, 0x01, 0x00, 0x40]);
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &f, &opts())),
        InvalidReason::MplsHeaderTooSmall
    );
}

#[test]
fn pppoe() {
    let ip = ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 1, 2, b""));
    let len = (ip.len() + 2) as u16;
    let f = eth(
        0x8864,
        &cat(&[
            &[0x11, 0x00, 0x00, 0x2d],
            &len.to_be_bytes(),
            &[0x00, 0x21],
            &ip,
        ]),
    );
    assert_eq!(ports(ok(&decode(linktype::ETHERNET, &f, &opts()))), (1, 2));
    // Protocol-field compression.
    let f = eth(
        0x8864,
        &cat(&[&[0x11, 0x00, 0x00, 0x2d], &len.to_be_bytes(), &[0x21], &ip]),
    );
    assert_eq!(ports(ok(&decode(linktype::ETHERNET, &f, &opts()))), (1, 2));
    // LCP: well-formed, not inspected.
    let f = eth(
        0x8864,
        &[0x11, 0x00, 0x00, 0x2d, 0x00, 0x06, 0xc0, 0x21, 1, 1, 0, 4],
    );
    assert_eq!(
        ok(&decode(linktype::ETHERNET, &f, &opts())).network,
        Network::Other { ethertype: 0x8864 }
    );
    // IPX over PPP: not decoded.
    let f = eth(
        0x8864,
        &[0x11, 0x00, 0x00, 0x2d, 0x00, 0x06, 0x00, 0x2b, 1, 1, 0, 4],
    );
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &f, &opts())),
        InvalidReason::PppoeWrongCode
    );
    let f = eth(0x8864, &[0x11, 0x00, 0x00]);
    assert_eq!(
        reason(&decode(linktype::ETHERNET, &f, &opts())),
        InvalidReason::PppoePktTooSmall
    );
    // Discovery.
    let f = eth(0x8863, &[0x11, 0x09, 0x00, 0x00, 0x00, 0x00]);
    assert_eq!(
        ok(&decode(linktype::ETHERNET, &f, &opts())).network,
        Network::Other { ethertype: 0x8863 }
    );
}

#[test]
fn other_ethertypes_and_arp() {
    let frame = eth(0x88cc, &[0; 20]);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    let i = ok(&d);
    assert_eq!(i.network, Network::Other { ethertype: 0x88cc });
    assert!(i.events.contains(DecodeEvent::EthernetUnknownEthertype));
    assert_eq!(i.five_tuple(), None);
    // 802.3 length + LLC: well-formed, no event.
    let frame = eth(0x0026, &[0x42, 0x42, 0x03]);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert!(ok(&d).events.is_empty());
    let frame = eth(0x0806, &[0, 1, 8, 0, 6]);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::ArpPktTooSmall);
}

// ------------------------------------------------------------ GRE / ERSPAN

fn gre_packet(gre: &[u8]) -> Vec<u8> {
    eth(0x0800, &ipv4(47, OUT_SRC, OUT_DST, gre))
}

#[test]
fn plain_gre() {
    let ip = ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 1, 2, b""));
    // C, K and S: checksum+offset, key and sequence (16-byte header).
    let gre = cat(&[
        &[0xb0, 0x00, 0x08, 0x00],
        &[0, 0, 0, 0],
        &[0, 0, 0, 42],
        &[0, 0, 0, 7],
        &ip,
    ]);
    let frame = gre_packet(&gre);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    let m = d.mirror.unwrap();
    assert_eq!(
        (m.encap, m.vni, m.erspan_version, m.outer_dst_port),
        (EncapKind::Gre, None, None, 0)
    );
    assert_eq!((m.outer_src, m.outer_dst), (v4(OUT_SRC), v4(OUT_DST)));
    assert_eq!(ports(ok(&d)), (1, 2));
    // Transparent Ethernet bridging.
    let gre = cat(&[&[0x00, 0x00, 0x65, 0x58], &inner_tcp_frame()]);
    assert_eq!(
        ports(ok(&decode(linktype::ETHERNET, &gre_packet(&gre), &opts()))),
        (40000, 80)
    );
    // Errors.
    let frame = gre_packet(&[0x00, 0x01, 0x88, 0x0b, 0, 0, 0, 0]);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::GreWrongVersion);
    assert!(d.mirror.is_none());
    let frame = gre_packet(&[0x20, 0x00, 0x08, 0x00, 0, 0]);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::GrePktTooSmall);
    let frame = gre_packet(&[0x00, 0x00, 0x12, 0x34]);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::GreUnknownPayloadType);
}

#[test]
fn erspan_type_i() {
    let gre = cat(&[&[0x00, 0x00, 0x88, 0xbe], &inner_tcp_frame()]);
    let frame = gre_packet(&gre);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    let m = d.mirror.unwrap();
    assert_eq!(
        (m.encap, m.erspan_version, m.erspan_session_id),
        (EncapKind::Erspan, Some(0), None)
    );
    assert_eq!(ports(ok(&d)), (40000, 80));
}

#[test]
fn erspan_type_ii() {
    // GRE with S, version 1, VLAN 0, session 0x3ff | 0x0123 = 0x123.
    let hdr = [
        0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 0x00, 0x01, 0x23, 0, 0, 0, 0,
    ];
    let frame = gre_packet(&cat(&[&hdr, &inner_tcp_frame()]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    let m = d.mirror.unwrap();
    assert_eq!(
        (m.encap, m.erspan_version, m.erspan_session_id),
        (EncapKind::Erspan, Some(1), Some(0x123))
    );
    assert_eq!(ports(ok(&d)), (40000, 80));
    assert!(ok(&d).vlan.is_empty());
    // The VLAN the switch recorded (23) is the frame's first VLAN, as
    // Suricata's DecodeERSPAN has it.
    let mut tagged = hdr;
    tagged[9] = 23;
    let frame = gre_packet(&cat(&[&tagged, &inner_tcp_frame()]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(ok(&d).vlan.as_slice(), &[23]);
    // Version 2 under 0x88be.
    let mut bad = hdr;
    bad[8] = 0x20;
    let frame = gre_packet(&cat(&[&bad, &inner_tcp_frame()]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::ErspanUnsupportedVersion);
    // Cut off.
    let frame = gre_packet(&hdr[..12]);
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::ErspanHeaderTooSmall);
    assert!(d.mirror.is_none());
}

#[test]
fn erspan_type_iii() {
    // Version 2, session 0x2aa, no platform subheader, FT 0.
    let hdr = [
        0x00, 0x00, 0x22, 0xeb, 0x20, 0x00, 0x02, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let frame = gre_packet(&cat(&[&hdr, &inner_tcp_frame()]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    let m = d.mirror.unwrap();
    assert_eq!(
        (m.erspan_version, m.erspan_session_id),
        (Some(2), Some(0x2aa))
    );
    assert_eq!(ports(ok(&d)), (40000, 80));
    // FT 2: a bare IP packet.
    let mut ip_hdr = hdr;
    ip_hdr[14] = 2 << 2;
    let ip = ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 1, 2, b""));
    let frame = gre_packet(&cat(&[&ip_hdr, &ip]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(ports(ok(&d)), (1, 2));
    // FT 7: not decoded, but the mirror is known.
    ip_hdr[14] = 7 << 2;
    let frame = gre_packet(&cat(&[&ip_hdr, &ip]));
    let d = decode(linktype::ETHERNET, &frame, &opts());
    assert_eq!(reason(&d), InvalidReason::ErspanUnsupportedFrameType);
    assert_eq!(d.mirror.unwrap().erspan_session_id, Some(0x2aa));
}

// ------------------------------------------------------------ linktypes

#[test]
fn linktypes() {
    let ip4 = ipv4(6, IN_SRC, IN_DST, &tcp4(IN_SRC, IN_DST, 1, 2, b""));
    let ip6 = ipv6(17, &udp6(3, 4, b""));
    let check = |lt: u32, frame: &[u8], want: (u16, u16)| {
        let d = decode(lt, frame, &opts());
        assert_eq!(ports(ok(&d)), want, "linktype {lt}");
    };
    check(linktype::NULL, &cat(&[&2u32.to_le_bytes(), &ip4]), (1, 2));
    check(linktype::NULL, &cat(&[&2u32.to_be_bytes(), &ip4]), (1, 2));
    for af in [24u32, 28, 30] {
        check(linktype::NULL, &cat(&[&af.to_le_bytes(), &ip6]), (3, 4));
    }
    check(linktype::LOOP, &cat(&[&28u32.to_be_bytes(), &ip6]), (3, 4));
    check(
        linktype::PPP,
        &cat(&[&[0xff, 0x03, 0x00, 0x21], &ip4]),
        (1, 2),
    );
    check(linktype::PPP, &cat(&[&[0x00, 0x57], &ip6]), (3, 4));
    check(linktype::RAW, &ip4, (1, 2));
    check(linktype::RAW, &ip6, (3, 4));
    check(linktype::IPV4, &ip4, (1, 2));
    check(linktype::IPV6, &ip6, (3, 4));
    check(
        linktype::C_HDLC,
        &cat(&[&[0x0f, 0x00, 0x08, 0x00], &ip4]),
        (1, 2),
    );
    let sll = cat(&[&[0, 0, 0, 1, 0, 6], &[0; 8], &[0x86, 0xdd], &ip6]);
    check(linktype::LINUX_SLL, &sll, (3, 4));
    let sll2 = cat(&[
        &[0x08, 0x00, 0, 0],
        &[0, 0, 0, 2],
        &[0, 1, 0, 6],
        &[0; 8],
        &ip4,
    ]);
    check(linktype::LINUX_SLL2, &sll2, (1, 2));

    let frame = cat(&[&[0; 14], &[0x00, 0x04], &[0x42, 0x42, 3]]);
    let d = decode(linktype::LINUX_SLL, &frame, &opts());
    assert_eq!(ok(&d).network, Network::Other { ethertype: 4 });
    let frame = [0x8f, 0x00, 0x80, 0x35, 0, 0];
    let d = decode(linktype::C_HDLC, &frame, &opts());
    assert_eq!(ok(&d).network, Network::Other { ethertype: 0x8035 });

    let bad = |lt: u32, frame: &[u8], want: InvalidReason| {
        assert_eq!(reason(&decode(lt, frame, &opts())), want, "linktype {lt}");
    };
    bad(linktype::NULL, &[2, 0], InvalidReason::NullPktTooSmall);
    bad(
        linktype::NULL,
        &cat(&[&7u32.to_le_bytes(), &ip4]),
        InvalidReason::NullUnsupportedType,
    );
    bad(
        linktype::LOOP,
        &cat(&[&2u32.to_le_bytes(), &ip4]),
        InvalidReason::NullUnsupportedType,
    );
    bad(linktype::PPP, &[0xff, 0x03], InvalidReason::PppPktTooSmall);
    bad(
        linktype::PPP,
        &[0x00, 0x2b, 0, 0],
        InvalidReason::PppUnsupProto,
    );
    bad(
        linktype::RAW,
        &[0x50, 0, 0, 0],
        InvalidReason::IprawInvalidIpVersion,
    );
    bad(
        linktype::C_HDLC,
        &[0x0f, 0x00, 0x08],
        InvalidReason::ChdlcPktTooSmall,
    );
    bad(linktype::LINUX_SLL, &[0; 15], InvalidReason::SllPktTooSmall);
    bad(
        linktype::LINUX_SLL2,
        &[0x08, 0x00, 0, 0, 0],
        InvalidReason::Sll2PktTooSmall,
    );
    bad(105, &ip4, InvalidReason::LinktypeUnsupported);
}

// ------------------------------------------------------------ properties

const ALL_LINKTYPES: [u32; 11] = [
    linktype::NULL,
    linktype::ETHERNET,
    linktype::PPP,
    linktype::RAW,
    linktype::C_HDLC,
    linktype::LOOP,
    linktype::LINUX_SLL,
    linktype::IPV4,
    linktype::IPV6,
    linktype::LINUX_SLL2,
    147,
];

/// Frames that exercise every tunnel, cut at every length below.
fn valid_frames() -> Vec<(&'static str, Vec<u8>)> {
    let inner = inner_tcp_frame();
    vec![
        ("vxlan", vxlan_packet(1, &inner)),
        ("gwlb", outer_udp(1, 6081, &gwlb_geneve_payload(&inner))),
        ("erspan3", ZEEK_ERSPAN3_DOT1Q.to_vec()),
        (
            "erspan2",
            gre_packet(&cat(&[
                &[
                    0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 0x00, 0x01, 0x23, 0, 0, 0, 0,
                ],
                &inner,
            ])),
        ),
        ("ipv6-udp", eth(0x86dd, &ipv6(17, &udp6(3, 4, &[1; 40])))),
        ("plain-tcp", inner),
    ]
}

/// Offset of the innermost L4 header and its fixed length, per frame.
fn l4_at(name: &str) -> (usize, usize) {
    match name {
        "vxlan" => (50 + 14 + 20, 20),
        "gwlb" => (14 + 20 + 8 + 40 + 20 + 8 + 8 + 14 + 20, 20),
        "erspan3" => (14 + 20 + 4 + 20 + 18 + 20, 4),
        "erspan2" => (14 + 20 + 16 + 14 + 20, 20),
        "ipv6-udp" => (14 + 40, 8),
        _ => (14 + 20, 20),
    }
}

#[test]
fn valid_frames_cut_at_every_length() {
    for (name, frame) in valid_frames() {
        let full = decode(linktype::ETHERNET, &frame, &opts());
        let want = ok(&full).five_tuple().unwrap();
        assert!(want.src_port != 0 || want.proto == 1, "{name}");
        let (l4, l4_len) = l4_at(name);
        for n in 0..frame.len() {
            let d = decode(linktype::ETHERNET, &frame[..n], &opts());
            match &d.outcome {
                Ok(i) => {
                    assert!(i.truncated, "{name} cut at {n} not marked truncated");
                    if n >= l4 + l4_len {
                        assert_eq!(i.five_tuple(), Some(want), "{name} cut at {n}");
                    }
                }
                Err(e) => assert!(
                    n < l4,
                    "{name} cut at {n}: {e:?} although the L4 header was captured"
                ),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for lt in ALL_LINKTYPES {
            let _ = decode(lt, &bytes, &opts());
        }
        let s: SocketAddr = "10.0.0.1:1".parse().unwrap();
        for port in [4789u16, 6081] {
            let d: SocketAddr = SocketAddr::new(s.ip(), port);
            let _ = decode_udp_payload(s, d, &bytes, &opts());
        }
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        which in 0usize..6,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let frames = valid_frames();
        let mut f = frames[which].1.clone();
        for (at, v) in flips {
            let n = f.len();
            f[at % n] ^= v;
        }
        let n = cut % (f.len() + 1);
        let d = decode(linktype::ETHERNET, &f[..n], &opts());
        if let Ok(i) = &d.outcome {
            prop_assert!(i.frame.len() <= n && i.payload.len() <= n);
        }
        let o = DecodeOptions { max_layers: 1, ..opts() };
        let _ = decode(linktype::ETHERNET, &f[..n], &o);
    }
}
