//! Any inner frame wrapped as AWS wraps it decodes back to the same frame.
//!
//! Two independent encoders are checked against `mirador_wire::decode`:
//! `mirador_wire::emit` (the product's, used by `mirador pcap encap` and
//! `mirador send`) and `mirador_testkit::tunnel` (built by hand from the
//! RFCs, sharing no code with the decoder or with `emit`). The inner frames
//! come from `mirador_testkit::strategies`, built with pnet, so the facts the
//! decoder must find are known independently of it.

use std::net::{IpAddr, Ipv4Addr};

use mirador_testkit::frame::ethertype;
use mirador_testkit::pcaps;
use mirador_testkit::strategies::{InnerFrame, arb_inner_frame, reverse};
use mirador_testkit::tunnel::{self, ErspanII, ErspanIII, Geneve};
use mirador_wire::emit::{self, EncapParams, GwlbParams, SrcPortMode};
use mirador_wire::{DecodeOptions, Decoded, EncapKind, GwlbMeta, decode, linktype};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

const SENSOR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const ENI: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 15);

fn opts() -> DecodeOptions {
    DecodeOptions::default()
}

/// Checks what the decoder found inside the tunnel against the facts of the
/// frame, of which the first `captured` bytes were mirrored.
fn check_inner(d: &Decoded<'_>, f: &InnerFrame, captured: usize) -> Result<(), TestCaseError> {
    let e = &f.expected;
    let min_ip = if e.src.is_ipv6() { 40 } else { 20 };
    let inner = match &d.outcome {
        Ok(inner) => inner,
        Err(invalid) => {
            // Invalid is only allowed when the IP header is not all there.
            prop_assert!(
                !e.holds_ip_header(captured),
                "invalid ({:?}) although {} bytes hold the IP header (ends at {}); frame {:02x?}",
                invalid,
                captured,
                e.l4_start,
                &f.bytes[..captured]
            );
            return Ok(());
        }
    };
    prop_assert!(
        captured >= e.ip_start + min_ip,
        "decoded although the IP header is cut ({captured} of {} bytes)",
        e.ip_start + min_ip
    );
    prop_assert_eq!(inner.frame, &f.bytes[..captured], "inner frame bytes");
    prop_assert_eq!(inner.vlan.as_slice(), &e.vlan_ids[..], "VLAN ids");
    prop_assert_eq!(
        inner.truncated,
        e.is_truncated(captured),
        "truncated mark ({} of {} bytes, IP ends at {})",
        captured,
        e.frame_len,
        e.ip_end
    );
    if e.holds_ip_header(captured) {
        let t = inner.five_tuple();
        prop_assert!(t.is_some(), "no 5-tuple");
        let t = t.unwrap();
        prop_assert_eq!(
            (t.src, t.dst, t.proto),
            (e.src, e.dst, e.proto),
            "addresses and protocol"
        );
        match e.ports_in_prefix(captured) {
            Some(ports) => prop_assert_eq!((t.src_port, t.dst_port), ports, "ports"),
            // L4 header partly captured: the ports or nothing.
            None => prop_assert!(
                (t.src_port, t.dst_port) == (0, 0)
                    || (t.src_port, t.dst_port) == (e.src_port, e.dst_port),
                "ports {:?} from a cut L4 header",
                (t.src_port, t.dst_port)
            ),
        }
    }
    Ok(())
}

/// A frame and a packet length: none, 128 (a common setting), anywhere up
/// to past the frame's end, or near a layer boundary of this frame (where
/// off-by-one mistakes live), including inside the Ethernet padding.
fn arb_frame_and_cut() -> impl Strategy<Value = (InnerFrame, Option<u32>)> {
    arb_inner_frame().prop_flat_map(|f| {
        let e = &f.expected;
        let marks = [
            e.ip_start,
            e.ip_start + if e.src.is_ipv6() { 40 } else { 20 },
            e.l4_start,
            e.l4_start + 4,
            e.l4_header_end,
            e.ip_end,
            e.frame_len,
        ];
        let near = (proptest::sample::select(marks.to_vec()), -2i64..=2)
            .prop_map(|(m, d)| Some((m as i64 + d).max(0) as u32));
        let padding = (e.ip_end as u32..=e.frame_len as u32).prop_map(Some);
        let cut = prop_oneof![
            2 => Just(None),
            1 => Just(Some(128)),
            2 => (0u32..1600).prop_map(Some),
            3 => near,
            1 => padding,
        ];
        (Just(f), cut)
    })
}

fn captured(f: &InnerFrame, packet_length: Option<u32>) -> usize {
    packet_length.map_or(f.bytes.len(), |l| f.bytes.len().min(l as usize))
}

fn arb_outer() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        3 => Just((IpAddr::V4(ENI), IpAddr::V4(SENSOR))),
        1 => Just(("2600:1f18::15".parse().unwrap(), "2600:1f18::100".parse().unwrap())),
    ]
}

/// Wraps `f` with each of the testkit's encoders and decodes it.
fn testkit_encoders(
    f: &InnerFrame,
    vni: u32,
    sport: u16,
    session: u16,
    packet_length: Option<u32>,
    ids: (u64, u64, u32),
) -> Result<(), TestCaseError> {
    let cut = captured(f, packet_length);
    let inner = &f.bytes[..cut];
    let eni = IpAddr::V4(ENI);
    let sensor = IpAddr::V4(SENSOR);

    let vx = tunnel::vxlan_frame(eni, sensor, sport, vni, inner);
    let d = decode(linktype::ETHERNET, &vx, &opts());
    prop_assert!(
        d.mirror.is_some(),
        "VXLAN: no mirror layer: {:?}",
        d.outcome
    );
    let m = d.mirror.unwrap();
    prop_assert_eq!(
        (m.encap, m.vni, m.outer_src, m.outer_dst),
        (EncapKind::Vxlan, Some(vni), eni, sensor)
    );
    prop_assert_eq!((m.outer_src_port, m.outer_dst_port), (sport, 4789));
    check_inner(&d, f, cut)?;

    let gwlbe = IpAddr::V4(Ipv4Addr::new(10, 0, 3, 50));
    let gw = tunnel::gwlb_frame(
        Ipv4Addr::new(10, 0, 3, 10),
        SENSOR,
        eni,
        gwlbe,
        sport,
        vni,
        ids,
        inner,
    );
    let d = decode(linktype::ETHERNET, &gw, &opts());
    prop_assert!(d.mirror.is_some(), "GWLB: no mirror layer: {:?}", d.outcome);
    let m = d.mirror.unwrap();
    prop_assert_eq!(
        (m.encap, m.vni, m.outer_src, m.outer_dst),
        (EncapKind::Gwlb, Some(vni), eni, gwlbe)
    );
    prop_assert_eq!(
        m.gwlb,
        Some(GwlbMeta {
            endpoint_id: Some(ids.0),
            attachment_id: Some(ids.1),
            flow_cookie: Some(ids.2)
        })
    );
    check_inner(&d, f, cut)?;

    // GENEVE carrying Ethernet directly (protocol 0x6558).
    let geneve = Geneve::new(ethertype::TEB, vni).encode(inner);
    let ge = tunnel::ethernet(
        tunnel::OUTER_DST_MAC,
        tunnel::OUTER_SRC_MAC,
        &tunnel::ip_udp(eni, sensor, sport, 6081, &geneve),
    );
    let d = decode(linktype::ETHERNET, &ge, &opts());
    prop_assert!(
        d.mirror.is_some(),
        "GENEVE: no mirror layer: {:?}",
        d.outcome
    );
    let m = d.mirror.unwrap();
    prop_assert_eq!(
        (m.encap, m.vni, m.outer_src),
        (EncapKind::Geneve, Some(vni), eni)
    );
    check_inner(&d, f, cut)?;

    // ERSPAN II and III.
    let e2 = tunnel::gre_frame(
        eni,
        sensor,
        &tunnel::erspan_ii(
            1,
            &ErspanII {
                session_id: session,
                ..Default::default()
            },
            inner,
        ),
    );
    let d = decode(linktype::ETHERNET, &e2, &opts());
    prop_assert!(
        d.mirror.is_some(),
        "ERSPAN II: no mirror layer: {:?}",
        d.outcome
    );
    let m = d.mirror.unwrap();
    prop_assert_eq!(
        (m.encap, m.erspan_session_id, m.erspan_version),
        (EncapKind::Erspan, Some(session), Some(1))
    );
    check_inner(&d, f, cut)?;
    let e3 = tunnel::gre_frame(
        eni,
        sensor,
        &tunnel::erspan_iii(
            1,
            &ErspanIII {
                session_id: session,
                platform: Some([0x0c, 0, 0, 0, 0, 0, 0, 1]),
                ..Default::default()
            },
            inner,
        ),
    );
    let d = decode(linktype::ETHERNET, &e3, &opts());
    prop_assert!(
        d.mirror.is_some(),
        "ERSPAN III: no mirror layer: {:?}",
        d.outcome
    );
    let m = d.mirror.unwrap();
    prop_assert_eq!(
        (m.encap, m.erspan_session_id, m.erspan_version),
        (EncapKind::Erspan, Some(session), Some(2))
    );
    check_inner(&d, f, cut)?;
    Ok(())
}

proptest! {
    // 512 cases by default; PROPTEST_CASES overrides, for longer hunts.
    #![proptest_config(Config {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        ..Config::default()
    })]

    /// emit VXLAN → decode.
    #[test]
    fn emit_vxlan_round_trip(
        (f, packet_length) in arb_frame_and_cut(),
        vni in 0u32..1 << 24,
        (src, dst) in arb_outer(),
    ) {
        let mut p = EncapParams::vxlan(vni, src, dst);
        p.packet_length = packet_length;
        let mut buf = Vec::new();
        emit::encap_frame(&f.bytes, &p, &mut buf).unwrap();
        let d = decode(linktype::ETHERNET, &buf, &opts());
        let m = d.mirror;
        prop_assert!(m.is_some(), "no mirror layer: {:?}", d.outcome);
        let m = m.unwrap();
        prop_assert_eq!(m.encap, EncapKind::Vxlan);
        prop_assert_eq!(m.vni, Some(vni));
        prop_assert_eq!((m.outer_src, m.outer_dst), (src, dst));
        prop_assert_eq!(m.outer_dst_port, 4789);
        prop_assert_eq!(m.outer_src_port, emit::outer_src_port(&f.bytes, SrcPortMode::Asymmetric));
        prop_assert_eq!(m.gwlb, None);
        check_inner(&d, &f, captured(&f, packet_length))?;
    }

    /// emit GWLB double wrap → decode.
    #[test]
    fn emit_gwlb_round_trip(
        (f, packet_length) in arb_frame_and_cut(),
        vni in 0u32..1 << 24,
        ids in any::<(u64, u64, u32)>(),
    ) {
        let gwlbe = IpAddr::V4(Ipv4Addr::new(10, 0, 3, 50));
        let mut p = EncapParams::vxlan(vni, IpAddr::V4(ENI), gwlbe);
        p.packet_length = packet_length;
        p.gwlb = Some(GwlbParams {
            geneve_src: Ipv4Addr::new(10, 0, 3, 10),
            geneve_dst: SENSOR,
            endpoint_id: ids.0,
            attachment_id: ids.1,
            flow_cookie: ids.2,
        });
        let mut buf = Vec::new();
        emit::encap_frame(&f.bytes, &p, &mut buf).unwrap();
        let d = decode(linktype::ETHERNET, &buf, &opts());
        prop_assert!(d.mirror.is_some(), "no mirror layer: {:?}", d.outcome);
        let m = d.mirror.unwrap();
        prop_assert_eq!(m.encap, EncapKind::Gwlb);
        prop_assert_eq!(m.vni, Some(vni));
        // The mirror's source is the IP header enclosing the VXLAN: the ENI.
        prop_assert_eq!((m.outer_src, m.outer_dst), (IpAddr::V4(ENI), gwlbe));
        prop_assert_eq!(
            m.gwlb,
            Some(GwlbMeta {
                endpoint_id: Some(ids.0),
                attachment_id: Some(ids.1),
                flow_cookie: Some(ids.2),
            })
        );
        check_inner(&d, &f, captured(&f, packet_length))?;
    }

    /// testkit VXLAN / GWLB / GENEVE / ERSPAN encoders → decode.
    #[test]
    fn testkit_encoders_round_trip(
        (f, packet_length) in arb_frame_and_cut(),
        vni in 0u32..1 << 24,
        sport in 49152u16..,
        session in 0u16..1024,
        ids in any::<(u64, u64, u32)>(),
    ) {
        testkit_encoders(&f, vni, sport, session, packet_length, ids)?;
    }

    /// The outer source port depends on the flow and direction only.
    #[test]
    fn outer_port_is_stable_per_direction(
        f in arb_inner_frame(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let other = mirador_testkit::strategies::inner_frame(&f.spec.clone().payload(payload));
        let p = EncapParams::vxlan(1, IpAddr::V4(ENI), IpAddr::V4(SENSOR));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        emit::encap_frame(&f.bytes, &p, &mut a).unwrap();
        emit::encap_frame(&other.bytes, &p, &mut b).unwrap();
        let da = decode(linktype::ETHERNET, &a, &opts()).mirror.unwrap();
        let db = decode(linktype::ETHERNET, &b, &opts()).mirror.unwrap();
        prop_assert_eq!(da.outer_src_port, db.outer_src_port);
        prop_assert!(emit::EPHEMERAL_PORTS.contains(&da.outer_src_port));
    }
}

/// In the default asymmetric mode the two directions of a flow get
/// different outer source ports (all but a chance collision in 16384);
/// in symmetric mode the same.
#[test]
fn outer_ports_differ_per_direction() {
    let mut runner = TestRunner::deterministic();
    let strategy = arb_inner_frame();
    let (mut differ, mut total) = (0, 0);
    let p = EncapParams::vxlan(42, IpAddr::V4(ENI), IpAddr::V4(SENSOR));
    let mut sym = p;
    sym.src_port_mode = SrcPortMode::Symmetric;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..500 {
        let f = strategy.new_tree(&mut runner).unwrap().current();
        let r = mirador_testkit::strategies::inner_frame(&reverse(&f.spec));
        if f.spec.src == f.spec.dst && f.spec.l4.ports().0 == f.spec.l4.ports().1 {
            continue; // a flow to itself has one direction
        }
        total += 1;
        emit::encap_frame(&f.bytes, &p, &mut a).unwrap();
        emit::encap_frame(&r.bytes, &p, &mut b).unwrap();
        let pa = decode(linktype::ETHERNET, &a, &opts())
            .mirror
            .unwrap()
            .outer_src_port;
        let pb = decode(linktype::ETHERNET, &b, &opts())
            .mirror
            .unwrap()
            .outer_src_port;
        differ += usize::from(pa != pb);
        emit::encap_frame(&f.bytes, &sym, &mut a).unwrap();
        emit::encap_frame(&r.bytes, &sym, &mut b).unwrap();
        let sa = decode(linktype::ETHERNET, &a, &opts())
            .mirror
            .unwrap()
            .outer_src_port;
        let sb = decode(linktype::ETHERNET, &b, &opts())
            .mirror
            .unwrap()
            .outer_src_port;
        assert_eq!(sa, sb, "symmetric mode: {:?}", f.spec);
    }
    assert!(
        differ * 100 >= total * 99,
        "only {differ} of {total} flows got per-direction ports"
    );
}

/// Records of a classic little-endian pcap (the generated files' format).
fn pcap_records(bytes: &[u8]) -> Vec<&[u8]> {
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian microsecond pcap"
    );
    let mut at = 24;
    let mut out = Vec::new();
    while at + 16 <= bytes.len() {
        let incl = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(&bytes[at + 16..at + 16 + incl]);
        at += 16 + incl;
    }
    out
}

/// The generated demo, GWLB and ERSPAN captures decode, every packet, with
/// the mirror layer they were built with.
#[test]
fn generated_pcaps_decode() {
    let demo = pcaps::demo_vxlan();
    let (mut truncated, mut vlan) = (0, 0);
    for (i, frame) in pcap_records(&demo).into_iter().enumerate() {
        let d = decode(linktype::ETHERNET, frame, &opts());
        let m = d
            .mirror
            .unwrap_or_else(|| panic!("demo packet {}: no mirror", i + 1));
        assert_eq!(m.encap, EncapKind::Vxlan);
        let inner = d
            .outcome
            .unwrap_or_else(|e| panic!("demo packet {}: {e:?}", i + 1));
        match m.vni {
            Some(42) => assert_eq!(m.outer_src, IpAddr::V4(pcaps::ENI_A)),
            Some(7) => assert_eq!(m.outer_src, IpAddr::V4(pcaps::ENI_B)),
            v => panic!("demo packet {}: VNI {v:?}", i + 1),
        }
        assert!(inner.five_tuple().is_some(), "demo packet {}", i + 1);
        truncated += usize::from(inner.truncated);
        vlan += usize::from(!inner.vlan.is_empty());
    }
    assert!((3..=20).contains(&truncated), "{truncated} truncated");
    assert_eq!(vlan, 1);

    for (i, frame) in pcap_records(&pcaps::gwlb()).into_iter().enumerate() {
        let d = decode(linktype::ETHERNET, frame, &opts());
        let m = d
            .mirror
            .unwrap_or_else(|| panic!("gwlb packet {}: no mirror", i + 1));
        assert_eq!(m.encap, EncapKind::Gwlb, "gwlb packet {}", i + 1);
        let g = m.gwlb.unwrap();
        assert_eq!(g.endpoint_id, Some(pcaps::GWLB_ENDPOINT_ID));
        assert_eq!(g.attachment_id, Some(pcaps::GWLB_ATTACHMENT_ID));
        assert!(g.flow_cookie.is_some());
        assert!(d.outcome.is_ok(), "gwlb packet {}: {:?}", i + 1, d.outcome);
    }

    let mut versions = Vec::new();
    for (i, frame) in pcap_records(&pcaps::erspan()).into_iter().enumerate() {
        let d = decode(linktype::ETHERNET, frame, &opts());
        let m = d
            .mirror
            .unwrap_or_else(|| panic!("erspan packet {}: no mirror", i + 1));
        assert_eq!(m.encap, EncapKind::Erspan, "erspan packet {}", i + 1);
        versions.push(m.erspan_version.unwrap());
        assert!(
            d.outcome.is_ok(),
            "erspan packet {}: {:?}",
            i + 1,
            d.outcome
        );
    }
    versions.dedup();
    assert_eq!(versions, [0, 1, 2]);

    for (i, frame) in pcap_records(&pcaps::plain()).into_iter().enumerate() {
        let d = decode(linktype::ETHERNET, frame, &opts());
        assert!(d.mirror.is_none(), "plain packet {}", i + 1);
        assert!(d.outcome.is_ok(), "plain packet {}: {:?}", i + 1, d.outcome);
    }
}

/// `to_ethernet` + `encap_frame` on a raw IP packet decodes to the same IP
/// packet behind the synthesised Ethernet header.
#[test]
fn raw_ip_is_wrapped_with_a_synthesised_ethernet_header() {
    let spec = mirador_testkit::frame::FrameSpec::udp(
        "10.1.1.1".parse().unwrap(),
        "10.1.1.2".parse().unwrap(),
        1000,
        53,
    )
    .raw_ip();
    let ip = spec.build().bytes;
    let mut scratch = Vec::new();
    let eth = emit::to_ethernet(linktype::RAW, &ip, &mut scratch).unwrap();
    let mut out = Vec::new();
    let p = EncapParams::vxlan(5, IpAddr::V4(ENI), IpAddr::V4(SENSOR));
    emit::encap_frame(eth, &p, &mut out).unwrap();
    let d = decode(linktype::ETHERNET, &out, &opts());
    let inner = d.outcome.unwrap();
    assert_eq!(&inner.frame[14..], &ip[..]);
    assert_eq!(&inner.frame[..6], &emit::SYNTH_DST_MAC);
    let t = inner.five_tuple().unwrap();
    assert_eq!((t.src_port, t.dst_port), (1000, 53));
}
