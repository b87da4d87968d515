//! The project's generated captures (`pcaps/` at the repository root).
//!
//! Each file is built here, deterministically (fixed seeds and timestamps
//! from 2024-01-01T00:00:00Z), from [`crate::frame`] and [`crate::tunnel`].
//! `cargo run -p mirador-testkit --bin gen-pcaps -- pcaps/` writes them with
//! `pcaps/README.md`; a test checks the committed files still match.
//!
//! Addresses used throughout (AWS-like):
//!
//! | what | address |
//! |---|---|
//! | sensor (mirror target) | 10.0.0.100 |
//! | mirror source ENI A, session VNI 42 | 10.0.1.15 |
//! | mirror source ENI B, session VNI 7, `PacketLength` 128 | 10.0.2.20 (IPv6 2600:1f18:4a3b:2::20) |
//! | VPC DNS resolver | 10.0.0.2 |
//! | GWLB endpoint / GWLB node (gwlb.pcap) | 10.0.3.50 / 10.0.3.10 |
//! | on-premises switch (erspan.pcap) | 192.0.2.10 |
//!
//! The outer UDP source port is this crate's own hash of the inner 5-tuple
//! in packet order ([`mirror_src_port`]), so the two directions of a flow
//! differ, as AWS allows.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use crate::frame::{FrameSpec, Mac, ethernet_frame, tcp_flags as F};
use crate::pcap::{Interface, Record, TsResolution, pcap, pcapng};
use crate::tunnel::{
    self, ErspanII, ErspanIII, Geneve, GeneveOption, erspan_i, erspan_ii, erspan_iii, gre_frame,
    gwlb_frame, vxlan_frame,
};

/// 2024-01-01T00:00:00Z in nanoseconds: the start of every capture.
pub const T0_NS: u64 = 1_704_067_200_000_000_000;

/// The mirror target.
pub const SENSOR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
/// Mirror source ENI A (session VNI 42).
pub const ENI_A: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 15);
/// Mirror source ENI B (session VNI 7, `PacketLength` 128).
pub const ENI_B: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 20);
/// ENI B's IPv6 address.
pub const ENI_B_V6: Ipv6Addr = Ipv6Addr::new(0x2600, 0x1f18, 0x4a3b, 2, 0, 0, 0, 0x20);
/// The VPC resolver.
pub const VPC_DNS: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The GWLB endpoint (outer destination of the VXLAN inside GENEVE).
pub const GWLBE: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 50);
/// The GWLB node (outer source of the GENEVE).
pub const GWLB_NODE: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 10);
/// GWLB endpoint id TLV value in gwlb.pcap.
pub const GWLB_ENDPOINT_ID: u64 = 0x0a1b_2c3d_4e5f_6071;
/// GWLB attachment id TLV value in gwlb.pcap.
pub const GWLB_ATTACHMENT_ID: u64 = 0x8c7d_6e5f_4a3b_2c1d;
/// The ERSPAN source switch.
pub const SWITCH: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

const ENI_A_MAC: Mac = [0x02, 0x1a, 0x2b, 0x00, 0x01, 0x0f];
const ENI_B_MAC: Mac = [0x02, 0x1a, 0x2b, 0x00, 0x02, 0x14];
const ROUTER_MAC: Mac = [0x02, 0xff, 0xff, 0xff, 0xff, 0x01];

/// One generated file.
pub struct PcapFile {
    /// File name in `pcaps/`.
    pub name: &'static str,
    /// One line for `pcaps/README.md`.
    pub about: &'static str,
    /// Builds the file's bytes.
    pub build: fn() -> Vec<u8>,
}

/// Every generated file.
pub const FILES: &[PcapFile] = &[
    PcapFile {
        name: "demo-vxlan.pcap",
        about: "the README demo: two AWS mirror sessions (VNI 42 from ENI 10.0.1.15, VNI 7 with PacketLength 128 from 10.0.2.20) to sensor 10.0.0.100; HTTP over TCP with handshakes, DNS to 10.0.0.2, ICMP echo, SSH, an IPv6 TCP flow, one 802.1Q-tagged inner frame, VNI 7's larger frames truncated to 128 bytes; per-direction outer source ports",
        build: demo_vxlan,
    },
    PcapFile {
        name: "gwlb.pcap",
        about: "Gateway Load Balancer double wrap: IPv4 10.0.3.10→10.0.0.100 UDP 6081 GENEVE with class 0x0108 TLVs (endpoint id 0x0a1b2c3d4e5f6071, attachment id 0x8c7d6e5f4a3b2c1d, a flow cookie per flow) → IPv4 ENI→10.0.3.50 UDP 4789 VXLAN (VNI 42 / 7) → frame; HTTP, DNS, ICMP, IPv6 inner TCP",
        build: gwlb,
    },
    PcapFile {
        name: "erspan.pcap",
        about: "ERSPAN from switch 192.0.2.10 to 10.0.0.100: type I (GRE 0x88BE, no sequence, no header), type II (session 100, sequence numbers, one over IPv6, one with a VLAN-tagged frame), type III (GRE 0x22EB, session 200, with and without the platform subheader)",
        build: erspan,
    },
    PcapFile {
        name: "plain.pcap",
        about: "ordinary Ethernet, not encapsulated: HTTP over TCP, DNS over IPv4 and IPv6, ICMP echo, ARP, an 802.1Q and a QinQ frame",
        build: plain,
    },
    PcapFile {
        name: "truncated.pcap",
        about: "VXLAN VNI 42 from 10.0.1.15: one 1514-byte IPv4 TCP frame, one IPv6 TCP frame and one IPv4 UDP frame mirrored with PacketLength 14, 20, 34, 38, 40, 54, 64, 128, 1000 and whole; then one record cut by the capture's snap length (orig_len > captured)",
        build: truncated,
    },
    PcapFile {
        name: "malformed.pcap",
        about: "one invalid packet each: VXLAN header cut (4 bytes), inner IPv4 header cut (12 bytes), inner unknown EtherType 0x88B5, GENEVE option length beyond the options (GWLB), 4 inner VLAN tags, VXLAN I flag clear, inner IPv4 IHL 4, GENEVE Opt Len beyond the packet",
        build: malformed,
    },
    PcapFile {
        name: "mixed.pcapng",
        about: "pcapng, nanosecond timestamps, two interfaces: 0 \"ens5\" Ethernet carrying VXLAN mirror traffic (VNI 42) and 1 \"tun0\" LINKTYPE_RAW carrying plain IPv4/IPv6 packets, interleaved",
        build: mixed_pcapng,
    },
];

/// `pcaps/README.md`.
pub fn readme() -> String {
    let mut s = String::from(
        "# Generated captures\n\n\
         Made by `cargo run -p mirador-testkit --bin gen-pcaps -- pcaps/` from \
         `crates/testkit/src/pcaps.rs` (deterministic: fixed seeds, timestamps from \
         2024-01-01T00:00:00Z); `cargo test -p mirador-testkit` fails when they drift. \
         Addresses: sensor 10.0.0.100, ENI A 10.0.1.15 (VNI 42), ENI B 10.0.2.20 (VNI 7, \
         PacketLength 128), VPC DNS 10.0.0.2.\n\n",
    );
    for f in FILES {
        s.push_str(&format!("- `{}`: {}.\n", f.name, f.about));
    }
    s
}

/// Writes every file of [`FILES`] and `README.md` into `dir`.
pub fn write_all(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for f in FILES {
        std::fs::write(dir.join(f.name), (f.build)())?;
    }
    std::fs::write(dir.join("README.md"), readme())
}

/// A small deterministic PRNG (SplitMix64): the files must not change with
/// a dependency's version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..hi` (`lo` when empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.next_u64() % (hi - lo)
        }
    }
    /// True with probability `p` percent.
    pub fn pct(&mut self, p: u64) -> bool {
        self.range(0, 100) < p
    }
}

/// The outer UDP source port this crate puts on a mirrored `spec`: an
/// FNV-1a hash of (src, dst, protocol, src port, dst port) in packet order,
/// into 49152..=65535.
pub fn mirror_src_port(spec: &FrameSpec) -> u16 {
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |b: &[u8]| {
        for &x in b {
            h = (h ^ u32::from(x)).wrapping_mul(0x0100_0193);
        }
    };
    let ip = |a: IpAddr| match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let (sp, dp) = spec.l4.ports();
    eat(&ip(spec.src));
    eat(&ip(spec.dst));
    eat(&[spec.l4.proto(spec.is_ipv6())]);
    eat(&sp.to_be_bytes());
    eat(&dp.to_be_bytes());
    49152 + (h ^ (h >> 16)) as u16 % 16384
}

/// A mirror session: where its VXLAN packets come from.
#[derive(Debug, Clone, Copy)]
struct Session {
    eni: Ipv4Addr,
    vni: u32,
    packet_length: Option<usize>,
}

const SESSION_A: Session = Session {
    eni: ENI_A,
    vni: 42,
    packet_length: None,
};
const SESSION_B: Session = Session {
    eni: ENI_B,
    vni: 7,
    packet_length: Some(128),
};

impl Session {
    fn cut<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        &frame[..frame.len().min(self.packet_length.unwrap_or(usize::MAX))]
    }
    fn wrap(&self, spec: &FrameSpec) -> Vec<u8> {
        let b = spec.build();
        vxlan_frame(
            self.eni.into(),
            SENSOR.into(),
            mirror_src_port(spec),
            self.vni,
            self.cut(&b.bytes),
        )
    }
}

/// Packets in time order (stable for equal times).
#[derive(Default)]
struct Timeline(Vec<(u64, usize, Vec<u8>)>);

impl Timeline {
    fn push(&mut self, ts: u64, frame: Vec<u8>) {
        let n = self.0.len();
        self.0.push((ts, n, frame));
    }
    fn records(mut self) -> Vec<Record> {
        self.0.sort_by_key(|(t, n, _)| (*t, *n));
        self.0
            .into_iter()
            .map(|(t, _, f)| Record::new(t, f))
            .collect()
    }
}

/// A TCP connection that keeps its sequence numbers right.
struct Tcp {
    client: IpAddr,
    server: IpAddr,
    cport: u16,
    sport: u16,
    cseq: u32,
    sseq: u32,
    cmac: Mac,
    smac: Mac,
    vlans: Vec<u16>,
    cid: u16,
    sid: u16,
}

impl Tcp {
    #[allow(clippy::too_many_arguments)]
    fn new(
        client: IpAddr,
        server: IpAddr,
        cport: u16,
        sport: u16,
        rng: &mut Rng,
        cmac: Mac,
        smac: Mac,
    ) -> Tcp {
        Tcp {
            client,
            server,
            cport,
            sport,
            cseq: rng.next_u64() as u32,
            sseq: rng.next_u64() as u32,
            cmac,
            smac,
            vlans: Vec::new(),
            cid: rng.next_u64() as u16,
            sid: rng.next_u64() as u16,
        }
    }

    fn seg(&mut self, from_client: bool, flags: u8, data: &[u8]) -> FrameSpec {
        let (src, dst, sp, dp, smac, dmac) = if from_client {
            (
                self.client,
                self.server,
                self.cport,
                self.sport,
                self.cmac,
                self.smac,
            )
        } else {
            (
                self.server,
                self.client,
                self.sport,
                self.cport,
                self.smac,
                self.cmac,
            )
        };
        let (seq, ack) = if from_client {
            (self.cseq, self.sseq)
        } else {
            (self.sseq, self.cseq)
        };
        let ack = if flags & F::ACK != 0 { ack } else { 0 };
        let mut s = FrameSpec::tcp(src, dst, sp, dp)
            .flags(flags)
            .seq_ack(seq, ack)
            .macs(smac, dmac)
            .vlans(&self.vlans)
            .payload(data.to_vec())
            .ttl(if from_client { 64 } else { 61 });
        if flags & F::SYN != 0 {
            // MSS 1460, SACK permitted, NOP, window scale 7.
            s = s.tcp_options(vec![2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7]);
            if let crate::frame::L4::Tcp { window, .. } = &mut s.l4 {
                *window = 64240;
            }
        } else if let crate::frame::L4::Tcp { window, .. } = &mut s.l4 {
            *window = 502;
        }
        let id = if from_client {
            &mut self.cid
        } else {
            &mut self.sid
        };
        s.ipv4.id = *id;
        *id = id.wrapping_add(1);
        let adv = data.len() as u32 + u32::from(flags & (F::SYN | F::FIN) != 0);
        if from_client {
            self.cseq = self.cseq.wrapping_add(adv);
        } else {
            self.sseq = self.sseq.wrapping_add(adv);
        }
        s
    }
}

/// Emits one TCP conversation: handshake, request, response in segments of
/// at most 1400 bytes, ACKs, FIN exchange. Returns the time after it.
fn tcp_conversation(
    out: &mut Vec<(u64, FrameSpec)>,
    mut t: u64,
    c: &mut Tcp,
    request: &[u8],
    response: &[u8],
    rtt_us: u64,
) -> u64 {
    let rtt = rtt_us * 1000;
    let half = rtt / 2;
    let mut put = |t: u64, s: FrameSpec| out.push((t, s));
    put(t, c.seg(true, F::SYN, &[]));
    t += rtt;
    put(t, c.seg(false, F::SYN | F::ACK, &[]));
    t += 40_000;
    put(t, c.seg(true, F::ACK, &[]));
    t += 60_000;
    put(t, c.seg(true, F::PSH | F::ACK, request));
    t += half;
    put(t, c.seg(false, F::ACK, &[]));
    t += 900_000;
    let chunks: Vec<&[u8]> = response.chunks(1400).collect();
    for (i, ch) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        let flags = if last { F::PSH | F::ACK } else { F::ACK };
        put(t, c.seg(false, flags, ch));
        t += 12_000;
        if i % 2 == 1 || last {
            t += half;
            put(t, c.seg(true, F::ACK, &[]));
        }
    }
    t += 2_000_000;
    put(t, c.seg(true, F::FIN | F::ACK, &[]));
    t += half;
    put(t, c.seg(false, F::FIN | F::ACK, &[]));
    t += half;
    put(t, c.seg(true, F::ACK, &[]));
    t
}

fn http_request(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n")
        .into_bytes()
}

fn http_response(body_len: usize) -> Vec<u8> {
    let line = "<p>mirador demo page: the quick brown fox jumps over the lazy dog.</p>\n";
    let mut body = String::from("<!doctype html>\n<html><body>\n");
    while body.len() < body_len {
        body.push_str(line);
    }
    body.truncate(body_len);
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Type: text/html\r\nContent-Length: {body_len}\r\n\r\n"
    )
    .into_bytes();
    r.extend_from_slice(body.as_bytes());
    r
}

/// A DNS message (RFC 1035 §4.1): one A question, and the answer when
/// `answer` is set.
fn dns(id: u16, name: &str, answer: Option<Ipv4Addr>) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(if answer.is_some() {
        &[0x81, 0x80]
    } else {
        &[0x01, 0x00]
    });
    m.extend_from_slice(&[0, 1, 0, u8::from(answer.is_some()), 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    if let Some(a) = answer {
        // Name pointer to offset 12, A, IN, TTL 60, 4 bytes.
        m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        m.extend_from_slice(&a.octets());
    }
    m
}

#[allow(clippy::too_many_arguments)]
fn dns_pair(
    out: &mut Vec<(u64, FrameSpec)>,
    t: u64,
    client: IpAddr,
    server: IpAddr,
    cport: u16,
    id: u16,
    name: &str,
    answer: Ipv4Addr,
    cmac: Mac,
) {
    let q = FrameSpec::udp(client, server, cport, 53)
        .payload(dns(id, name, None))
        .macs(cmac, ROUTER_MAC);
    let r = FrameSpec::udp(server, client, 53, cport)
        .payload(dns(id, name, Some(answer)))
        .macs(ROUTER_MAC, cmac);
    out.push((t, q));
    out.push((t + 420_000, r));
}

/// Linux ping's 56-byte payload: 8 bytes of time, then 0x10, 0x11, ...
fn ping_payload(seq: u16) -> Vec<u8> {
    let mut p = vec![0u8; 8];
    p[..2].copy_from_slice(&seq.to_be_bytes());
    p.extend((0x10u8..0x40).take(48));
    p
}

fn ping(
    out: &mut Vec<(u64, FrameSpec)>,
    t: u64,
    a: IpAddr,
    b: IpAddr,
    id: u16,
    seq: u16,
    amac: Mac,
) {
    let req = FrameSpec::icmp_echo(a, b, true, id, seq)
        .payload(ping_payload(seq))
        .macs(amac, ROUTER_MAC);
    let rep = FrameSpec::icmp_echo(b, a, false, id, seq)
        .payload(ping_payload(seq))
        .macs(ROUTER_MAC, amac)
        .ttl(118);
    out.push((t, req));
    out.push((t + 1_800_000, rep));
}

fn ip(a: impl Into<IpAddr>) -> IpAddr {
    a.into()
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// The traffic of session A (ENI 10.0.1.15) in demo-vxlan.pcap.
fn session_a_traffic(rng: &mut Rng) -> Vec<(u64, FrameSpec)> {
    let mut out = Vec::new();
    let me = ip(ENI_A);
    // Outbound HTTP to a few web servers.
    let servers = [
        (v4(93, 184, 216, 34), "example.com"),
        (v4(151, 101, 1, 69), "news.example.org"),
        (v4(203, 0, 113, 80), "intranet.example.net"),
    ];
    for i in 0..8u64 {
        let (srv, host) = servers[(i % 3) as usize];
        let mut c = Tcp::new(
            me,
            srv,
            41000 + (i as u16) * 7,
            80,
            rng,
            ENI_A_MAC,
            ROUTER_MAC,
        );
        let t = T0_NS + i * 1_100_000_000 + rng.range(0, 300_000) * 1000;
        let body = [600usize, 2400, 5000][(i % 3) as usize];
        let path = format!("/page/{i}");
        tcp_conversation(
            &mut out,
            t,
            &mut c,
            &http_request(host, &path),
            &http_response(body),
            18_000,
        );
    }
    // DNS lookups to the VPC resolver before each.
    for i in 0..12u64 {
        let (_, host) = servers[(i % 3) as usize];
        let t = T0_NS + i * 730_000_000 + 5_000_000;
        let ans = [
            Ipv4Addr::new(93, 184, 216, 34),
            Ipv4Addr::new(151, 101, 1, 69),
            Ipv4Addr::new(203, 0, 113, 80),
        ][(i % 3) as usize];
        dns_pair(
            &mut out,
            t,
            me,
            ip(VPC_DNS),
            50000 + i as u16 * 13,
            0x1000 + i as u16,
            host,
            ans,
            ENI_A_MAC,
        );
    }
    // Pings to the subnet gateway.
    for s in 1..=5u16 {
        ping(
            &mut out,
            T0_NS + 2_000_000_000 + u64::from(s) * 1_000_000_000,
            me,
            v4(10, 0, 1, 1),
            0x2a2a,
            s,
            ENI_A_MAC,
        );
    }
    // An inbound SSH session from an administrator.
    let mut c = Tcp::new(
        v4(198, 51, 100, 7),
        me,
        52222,
        22,
        rng,
        ROUTER_MAC,
        ENI_A_MAC,
    );
    let mut t = T0_NS + 1_500_000_000;
    let mut put = |t: u64, s: FrameSpec| out.push((t, s));
    put(t, c.seg(true, F::SYN, &[]));
    t += 30_000_000;
    put(t, c.seg(false, F::SYN | F::ACK, &[]));
    t += 30_000_000;
    put(t, c.seg(true, F::ACK, &[]));
    put(
        t + 5_000_000,
        c.seg(
            false,
            F::PSH | F::ACK,
            b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n",
        ),
    );
    t += 35_000_000;
    put(t, c.seg(true, F::PSH | F::ACK, b"SSH-2.0-OpenSSH_9.7\r\n"));
    for k in 0..10u64 {
        t += 200_000_000 + rng.range(0, 50_000) * 1000;
        let n = 36 + (rng.range(0, 8) as usize) * 16;
        let data: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
        put(t, c.seg(k % 2 == 0, F::PSH | F::ACK, &data));
        t += 30_000_000;
        put(t, c.seg(k % 2 == 1, F::ACK, &[]));
    }
    out
}

/// The traffic of session B (ENI 10.0.2.20, PacketLength 128).
fn session_b_traffic(rng: &mut Rng) -> Vec<(u64, FrameSpec)> {
    let mut out = Vec::new();
    let me = ip(ENI_B);
    // Inbound HTTP to the app server.
    let clients = [v4(198, 51, 100, 23), v4(203, 0, 113, 9), v4(192, 0, 2, 77)];
    for i in 0..6u64 {
        let cl = clients[(i % 3) as usize];
        let mut c = Tcp::new(
            cl,
            me,
            55000 + i as u16 * 11,
            80,
            rng,
            ROUTER_MAC,
            ENI_B_MAC,
        );
        let t = T0_NS + 300_000_000 + i * 1_300_000_000;
        let body = if i < 3 { 1800 } else { 20 };
        let path = if i < 3 { "/index.html" } else { "/health" };
        tcp_conversation(
            &mut out,
            t,
            &mut c,
            &http_request("app.internal", path),
            &http_response(body),
            24_000,
        );
    }
    // An IPv6 TLS-looking flow to an external API.
    let mut c = Tcp::new(
        ip(ENI_B_V6),
        "2001:db8:beef::5".parse().unwrap(),
        47000,
        443,
        rng,
        ENI_B_MAC,
        ROUTER_MAC,
    );
    let hello: Vec<u8> = [&[0x16u8, 0x03, 0x01, 0x00, 0xb0, 0x01][..], &[0x5a; 170]].concat();
    let server_hello: Vec<u8> =
        [&[0x16u8, 0x03, 0x03, 0x04, 0x00, 0x02][..], &[0xa5; 1018]].concat();
    tcp_conversation(
        &mut out,
        T0_NS + 900_000_000,
        &mut c,
        &hello,
        &server_hello,
        70_000,
    );
    // DNS.
    for i in 0..6u64 {
        let t = T0_NS + 250_000_000 + i * 1_250_000_000;
        dns_pair(
            &mut out,
            t,
            me,
            ip(VPC_DNS),
            33000 + i as u16 * 3,
            0x7000 + i as u16,
            "db.internal",
            Ipv4Addr::new(10, 0, 2, 31),
            ENI_B_MAC,
        );
    }
    for s in 1..=3u16 {
        ping(
            &mut out,
            T0_NS + 4_000_000_000 + u64::from(s) * 1_000_000_000,
            me,
            v4(10, 0, 2, 1),
            0x0707,
            s,
            ENI_B_MAC,
        );
    }
    // One frame carrying an 802.1Q tag (VLAN 100): syslog to a collector.
    let syslog = FrameSpec::udp(me, v4(10, 0, 2, 5), 40514, 514)
        .payload(b"<134>Jan  1 00:00:06 app1 api[812]: request served in 12ms".to_vec())
        .macs(ENI_B_MAC, ROUTER_MAC)
        .vlans(&[100]);
    out.push((T0_NS + 6_000_000_000, syslog));
    out
}

/// `demo-vxlan.pcap` (see [`FILES`]).
pub fn demo_vxlan() -> Vec<u8> {
    let mut rng = Rng::new(42);
    let mut tl = Timeline::default();
    for (t, s) in session_a_traffic(&mut rng) {
        tl.push(t, SESSION_A.wrap(&s));
    }
    for (t, s) in session_b_traffic(&mut rng) {
        tl.push(t, SESSION_B.wrap(&s));
    }
    micro(tl)
}

fn micro(tl: Timeline) -> Vec<u8> {
    let mut recs = tl.records();
    for r in &mut recs {
        r.ts_ns -= r.ts_ns % 1000; // classic pcap keeps microseconds
    }
    pcap(1, TsResolution::Micro, &recs).expect("in-memory pcap")
}

fn gwlb_wrap(session: Session, spec: &FrameSpec) -> Vec<u8> {
    let b = spec.build();
    let port = mirror_src_port(spec);
    // GWLB's flow cookie identifies the flow it carries (ENI → GWLBE,
    // source port), so it is stable per direction.
    let cookie = (u32::from(port) << 16) ^ u32::from_be_bytes(session.eni.octets()).rotate_left(5);
    gwlb_frame(
        GWLB_NODE,
        SENSOR,
        session.eni.into(),
        GWLBE.into(),
        port,
        session.vni,
        (GWLB_ENDPOINT_ID, GWLB_ATTACHMENT_ID, cookie),
        session.cut(&b.bytes),
    )
}

/// `gwlb.pcap` (see [`FILES`]).
pub fn gwlb() -> Vec<u8> {
    let mut rng = Rng::new(7);
    let mut a = Vec::new();
    let mut c = Tcp::new(
        ip(ENI_A),
        v4(93, 184, 216, 34),
        43210,
        80,
        &mut rng,
        ENI_A_MAC,
        ROUTER_MAC,
    );
    tcp_conversation(
        &mut a,
        T0_NS,
        &mut c,
        &http_request("example.com", "/"),
        &http_response(1500),
        15_000,
    );
    dns_pair(
        &mut a,
        T0_NS + 3_000_000_000,
        ip(ENI_A),
        ip(VPC_DNS),
        51000,
        0x4242,
        "example.com",
        Ipv4Addr::new(93, 184, 216, 34),
        ENI_A_MAC,
    );
    let mut b = Vec::new();
    ping(
        &mut b,
        T0_NS + 500_000_000,
        ip(ENI_B),
        v4(10, 0, 2, 1),
        0x0101,
        1,
        ENI_B_MAC,
    );
    let mut c6 = Tcp::new(
        ip(ENI_B_V6),
        "2001:db8:beef::5".parse().unwrap(),
        47001,
        443,
        &mut rng,
        ENI_B_MAC,
        ROUTER_MAC,
    );
    b.push((T0_NS + 700_000_000, c6.seg(true, F::SYN, &[])));
    b.push((T0_NS + 770_000_000, c6.seg(false, F::SYN | F::ACK, &[])));
    b.push((T0_NS + 770_500_000, c6.seg(true, F::ACK, &[])));
    let mut tl = Timeline::default();
    let whole_b = Session {
        packet_length: None,
        ..SESSION_B
    };
    for (t, s) in a {
        tl.push(t, gwlb_wrap(SESSION_A, &s));
    }
    for (t, s) in b {
        tl.push(t, gwlb_wrap(whole_b, &s));
    }
    micro(tl)
}

/// `erspan.pcap` (see [`FILES`]).
pub fn erspan() -> Vec<u8> {
    let mut rng = Rng::new(3);
    let sw = ip(SWITCH);
    let sensor = ip(SENSOR);
    let h1 = v4(172, 16, 5, 10);
    let h2 = v4(172, 16, 5, 20);
    let m1: Mac = [0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x01];
    let m2: Mac = [0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x02];
    let mut tl = Timeline::default();
    let mut t = T0_NS;

    // Type I: bare GRE 0x88BE.
    let mut pings = Vec::new();
    ping(&mut pings, t, h1, h2, 0x0001, 1, m1);
    for (ts, s) in pings {
        let s = if s.src == h1 {
            s.macs(m1, m2)
        } else {
            s.macs(m2, m1)
        };
        tl.push(ts, gre_frame(sw, sensor, &erspan_i(&s.build().bytes)));
    }
    let arp = crate::frame::arp_request(
        m1,
        Ipv4Addr::new(172, 16, 5, 10),
        Ipv4Addr::new(172, 16, 5, 1),
    );
    tl.push(t + 3_000_000, gre_frame(sw, sensor, &erspan_i(&arp)));

    // Type II: session 100, sequence numbers.
    t += 1_000_000_000;
    let mut conv = Vec::new();
    let mut c = Tcp::new(h1, h2, 40100, 8080, &mut rng, m1, m2);
    tcp_conversation(&mut conv, t, &mut c, b"PING\r\n", b"PONG\r\n", 400);
    let mut seq = 0u32;
    for (ts, s) in conv {
        seq += 1;
        let h = ErspanII {
            session_id: 100,
            index: 0x0_1001,
            ..Default::default()
        };
        tl.push(
            ts,
            gre_frame(sw, sensor, &erspan_ii(seq, &h, &s.build().bytes)),
        );
    }
    // A VLAN-tagged frame, VLAN also in the header (En = 3: tag preserved).
    t += 1_000_000_000;
    seq += 1;
    let tagged = FrameSpec::udp(h1, h2, 40001, 9999)
        .payload(b"tagged".to_vec())
        .macs(m1, m2)
        .vlans(&[20]);
    let h = ErspanII {
        session_id: 100,
        vlan: 20,
        en: 3,
        index: 0x0_1001,
        ..Default::default()
    };
    tl.push(
        t,
        gre_frame(sw, sensor, &erspan_ii(seq, &h, &tagged.build().bytes)),
    );
    // Over IPv6.
    seq += 1;
    let h = ErspanII {
        session_id: 100,
        index: 0x0_1002,
        ..Default::default()
    };
    let f = FrameSpec::udp(h2, h1, 123, 123)
        .payload(vec![0x23; 48])
        .macs(m2, m1);
    tl.push(
        t + 1_000_000,
        gre_frame(
            "2001:db8:1::10".parse().unwrap(),
            "2001:db8::100".parse().unwrap(),
            &erspan_ii(seq, &h, &f.build().bytes),
        ),
    );

    // Type III: session 200, timestamps in 100 µs units (granularity 0).
    t += 1_000_000_000;
    let mut pings = Vec::new();
    for s in 1..=3u16 {
        ping(
            &mut pings,
            t + u64::from(s) * 10_000_000,
            h2,
            h1,
            0x0003,
            s,
            m2,
        );
    }
    for (i, (ts, s)) in pings.into_iter().enumerate() {
        let s = if s.src == h1 {
            s.macs(m1, m2)
        } else {
            s.macs(m2, m1)
        };
        let platform = (i >= 4).then_some([0x0c, 0, 0, 0, 0x65, 0x92, 0x00, 0x00]);
        let h = ErspanIII {
            session_id: 200,
            timestamp: ((ts - T0_NS) / 100_000) as u32,
            hw_id: 1,
            egress: i % 2 == 1,
            platform,
            ..Default::default()
        };
        tl.push(
            ts,
            gre_frame(sw, sensor, &erspan_iii(i as u32 + 1, &h, &s.build().bytes)),
        );
    }
    micro(tl)
}

/// `plain.pcap` (see [`FILES`]).
pub fn plain() -> Vec<u8> {
    let mut rng = Rng::new(1);
    let a = v4(192, 168, 1, 10);
    let b = v4(192, 168, 1, 20);
    let ma: Mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x01];
    let mb: Mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x02];
    let mut specs = Vec::new();
    let mut c = Tcp::new(a, b, 45678, 80, &mut rng, ma, mb);
    tcp_conversation(
        &mut specs,
        T0_NS,
        &mut c,
        &http_request("192.168.1.20", "/"),
        &http_response(1800),
        500,
    );
    dns_pair(
        &mut specs,
        T0_NS + 100_000_000,
        a,
        v4(192, 168, 1, 1),
        40053,
        0xbeef,
        "example.com",
        Ipv4Addr::new(93, 184, 216, 34),
        ma,
    );
    let a6: IpAddr = "fd00::10".parse().unwrap();
    let r6: IpAddr = "fd00::1".parse().unwrap();
    dns_pair(
        &mut specs,
        T0_NS + 200_000_000,
        a6,
        r6,
        40054,
        0xbef0,
        "example.com",
        Ipv4Addr::new(93, 184, 216, 34),
        ma,
    );
    ping(&mut specs, T0_NS + 300_000_000, a, b, 0x0042, 1, ma);
    specs.push((
        T0_NS + 400_000_000,
        FrameSpec::udp(a, b, 40000, 9999)
            .payload(b"dot1q".to_vec())
            .macs(ma, mb)
            .vlans(&[10]),
    ));
    specs.push((
        T0_NS + 500_000_000,
        FrameSpec::udp(a, b, 40000, 9999)
            .payload(b"qinq".to_vec())
            .macs(ma, mb)
            .vlans(&[300, 10]),
    ));
    let mut tl = Timeline::default();
    tl.push(
        T0_NS - 1_000_000,
        crate::frame::arp_request(
            ma,
            Ipv4Addr::new(192, 168, 1, 10),
            Ipv4Addr::new(192, 168, 1, 20),
        ),
    );
    for (t, s) in specs {
        tl.push(t, s.build().bytes);
    }
    micro(tl)
}

/// `truncated.pcap` (see [`FILES`]).
pub fn truncated() -> Vec<u8> {
    let me = ip(ENI_A);
    let big = FrameSpec::tcp(v4(93, 184, 216, 34), me, 80, 41000)
        .flags(F::ACK)
        .seq_ack(0x1000, 0x2000)
        .macs(ROUTER_MAC, ENI_A_MAC)
        .payload(http_response(1400)[..1460].to_vec());
    let v6 = FrameSpec::tcp(
        "2001:db8:beef::5".parse().unwrap(),
        "2600:1f18:4a3b:1::15".parse().unwrap(),
        443,
        47000,
    )
    .flags(F::PSH | F::ACK)
    .macs(ROUTER_MAC, ENI_A_MAC)
    .payload(vec![0x17; 600]);
    let udp = FrameSpec::udp(me, ip(VPC_DNS), 53000, 53)
        .macs(ENI_A_MAC, ROUTER_MAC)
        .payload(dns(0x5151, "a-rather-long-name.example.com", None));
    let mut recs = Vec::new();
    let mut t = T0_NS;
    for spec in [&big, &v6, &udp] {
        let bytes = spec.build().bytes;
        let port = mirror_src_port(spec);
        for len in [14usize, 20, 34, 38, 40, 54, 64, 128, 1000, usize::MAX] {
            let cut = &bytes[..bytes.len().min(len)];
            recs.push(Record::new(
                t,
                vxlan_frame(me, SENSOR.into(), port, 42, cut),
            ));
            t += 1_000_000;
        }
    }
    // A record the capture itself cut (snaplen 96).
    let whole = vxlan_frame(
        me,
        SENSOR.into(),
        mirror_src_port(&big),
        42,
        &big.build().bytes,
    );
    recs.push(Record {
        orig_len: Some(whole.len() as u32),
        ..Record::new(t, whole[..96].to_vec())
    });
    pcap(1, TsResolution::Micro, &recs).expect("in-memory pcap")
}

/// `malformed.pcap` (see [`FILES`]).
pub fn malformed() -> Vec<u8> {
    let me: IpAddr = ip(ENI_A);
    let sensor: IpAddr = ip(SENSOR);
    let good = FrameSpec::udp(me, ip(VPC_DNS), 53001, 53)
        .macs(ENI_A_MAC, ROUTER_MAC)
        .payload(dns(1, "example.com", None));
    let good_bytes = good.build().bytes;
    let port = mirror_src_port(&good);
    let eth =
        |payload: &[u8]| tunnel::ethernet(tunnel::OUTER_DST_MAC, tunnel::OUTER_SRC_MAC, payload);
    let mut frames = Vec::new();

    // 1. VXLAN header cut: 4 of its 8 bytes.
    frames.push(eth(&tunnel::ip_udp(
        me,
        sensor,
        port,
        4789,
        &[0x08, 0, 0, 0],
    )));
    // 2. Inner IPv4 header cut after 12 bytes.
    frames.push(vxlan_frame(me, sensor, port, 42, &good_bytes[..14 + 12]));
    // 3. Inner frame of an unknown EtherType (0x88B5, IEEE local experimental).
    let unknown = ethernet_frame(ROUTER_MAC, ENI_A_MAC, &[], 0x88b5, &[0x42; 46]);
    frames.push(vxlan_frame(me, sensor, port, 42, &unknown));
    // 4. GWLB GENEVE whose flow-cookie option claims 31 words.
    let mirror = tunnel::ip_udp(me, ip(GWLBE), port, 4789, &tunnel::vxlan(42, &good_bytes));
    let mut g = Geneve::gwlb(0x0800, GWLB_ENDPOINT_ID, GWLB_ATTACHMENT_ID, 0xc0c0_c0c0);
    g.options[2] = GeneveOption {
        len_override: Some(31),
        ..g.options[2].clone()
    };
    frames.push(eth(&tunnel::ip_udp(
        ip(GWLB_NODE),
        sensor,
        51000,
        6081,
        &g.encode(&mirror),
    )));
    // 5. Four VLAN tags.
    let four = good.clone().vlans(&[1, 2, 3, 4]).build().bytes;
    frames.push(vxlan_frame(me, sensor, port, 42, &four));
    // 6. VXLAN I flag clear.
    let mut vx = tunnel::vxlan(42, &good_bytes);
    vx[0] = 0;
    frames.push(eth(&tunnel::ip_udp(me, sensor, port, 4789, &vx)));
    // 7. Inner IPv4 with IHL 4 (a 16-byte header, below the minimum).
    let mut ihl = good_bytes.clone();
    ihl[14] = 0x44;
    frames.push(vxlan_frame(me, sensor, port, 42, &ihl));
    // 8. GENEVE Opt Len of 63 words, beyond the end of the packet.
    let mut g = Geneve::gwlb(0x0800, GWLB_ENDPOINT_ID, GWLB_ATTACHMENT_ID, 0xc0c0_c0c0);
    g.opt_len_override = Some(63);
    frames.push(eth(&tunnel::ip_udp(
        ip(GWLB_NODE),
        sensor,
        51001,
        6081,
        &g.encode(&[]),
    )));

    let recs: Vec<Record> = frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| Record::new(T0_NS + i as u64 * 1_000_000, f))
        .collect();
    pcap(1, TsResolution::Micro, &recs).expect("in-memory pcap")
}

/// `mixed.pcapng` (see [`FILES`]).
pub fn mixed_pcapng() -> Vec<u8> {
    let mut rng = Rng::new(9);
    let mut recs = Vec::new();
    let mut conv = Vec::new();
    let mut c = Tcp::new(
        ip(ENI_A),
        v4(93, 184, 216, 34),
        41999,
        80,
        &mut rng,
        ENI_A_MAC,
        ROUTER_MAC,
    );
    tcp_conversation(
        &mut conv,
        T0_NS + 123,
        &mut c,
        &http_request("example.com", "/ng"),
        &http_response(900),
        9_000,
    );
    for (t, s) in conv {
        recs.push((t + rng.range(0, 999), 0u32, SESSION_A.wrap(&s)));
    }
    let a = v4(100, 64, 0, 2);
    let b = v4(100, 64, 0, 1);
    let mut raw = Vec::new();
    ping(&mut raw, T0_NS + 50_000_777, a, b, 0x0777, 1, ENI_A_MAC);
    ping(&mut raw, T0_NS + 1_050_000_777, a, b, 0x0777, 2, ENI_A_MAC);
    let a6: IpAddr = "fd7a:115c:a1e0::2".parse().unwrap();
    let b6: IpAddr = "fd7a:115c:a1e0::1".parse().unwrap();
    raw.push((
        T0_NS + 70_000_001,
        FrameSpec::udp(a6, b6, 41641, 41641).payload(vec![0x11; 64]),
    ));
    raw.push((
        T0_NS + 70_500_003,
        FrameSpec::udp(b6, a6, 41641, 41641).payload(vec![0x22; 96]),
    ));
    for (t, s) in raw {
        recs.push((t, 1, s.raw_ip().build().bytes));
    }
    recs.sort_by_key(|r| r.0);
    let ifs = [
        Interface {
            linktype: 1,
            ts: TsResolution::Nano,
            name: Some("ens5".into()),
        },
        Interface {
            linktype: 101,
            ts: TsResolution::Nano,
            name: Some("tun0".into()),
        },
    ];
    let recs: Vec<Record> = recs
        .into_iter()
        .map(|(t, i, f)| Record {
            interface: i,
            ..Record::new(t, f)
        })
        .collect();
    pcapng(&ifs, &recs).expect("in-memory pcapng")
}

/// `n` VXLAN-wrapped packets of mixed traffic for decode benchmarks:
/// (timestamp ns, outer Ethernet frame). 256 flows over four sessions
/// (one with `PacketLength` 256); 90% IPv4, 80% TCP / 15% UDP / 5% ICMP,
/// 5% VLAN-tagged; sizes in an IMIX-like mix (about 58% small, 33%
/// ~570 bytes, 9% ~1500 bytes). Deterministic for a `seed`.
pub fn mixed_vxlan_traffic(n_packets: usize, seed: u64) -> Vec<(u64, Vec<u8>)> {
    mixed_vxlan_traffic_with(n_packets, seed, Payload::Constant)
}

/// What the packets of [`mixed_vxlan_traffic_with`] carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// Every payload byte is `0x5a` (fast to generate; what the decode and
    /// flow benchmarks use).
    Constant,
    /// Slices of a 64 KiB corpus mixing HTTP requests and responses, HTML
    /// and script text, SMTP, base64 and random binary, for detection
    /// benchmarks whose prefilter must see text that looks like traffic.
    Mixed,
}

/// The 64 KiB corpus behind [`Payload::Mixed`].
fn mixed_corpus(rng: &mut Rng) -> Vec<u8> {
    const TEXT: &[&[u8]] = &[
        b"GET /index.php?id=42&page=2 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\nAccept: text/html,application/xhtml+xml\r\nAccept-Encoding: gzip, deflate\r\nCookie: session=8f2a9c0d1e; theme=dark\r\nConnection: keep-alive\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Fri, 27 Nov 2026 10:00:00 GMT\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: 5120\r\nCache-Control: no-cache\r\n\r\n",
        b"<!DOCTYPE html><html><head><title>Quarterly report</title><script src=\"/static/app.js\"></script><link rel=\"stylesheet\" href=\"/css/site.css\"></head><body><div class=\"content\"><p>Revenue grew in every region.</p><a href=\"/login\">Sign in</a></div></body></html>",
        b"function init(){var x=document.getElementById('main');if(x){x.innerHTML='<b>ok</b>';}window.setTimeout(function(){fetch('/api/v1/status').then(r=>r.json());},1000);}",
        b"POST /api/v2/upload HTTP/1.1\r\nHost: api.example.org\r\nContent-Type: application/json\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc\r\nContent-Length: 61\r\n\r\n{\"user\":\"alice\",\"action\":\"update\",\"items\":[1,2,3],\"ok\":true}",
        b"EHLO mail.example.com\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: meeting notes\r\nContent-Type: text/plain\r\n\r\nSee you at 10.\r\n.\r\nQUIT\r\n",
        b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n",
        b"TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACAAAAADh+6DgC0Cc0huAFMzSFUaGlzIHByb2dyYW0gY2Fubm90IGJlIHJ1biBpbiBET1MgbW9kZS4NDQokAAAAAAAAAA==",
    ];
    let mut c = Vec::with_capacity(65_536 + 2_048);
    while c.len() < 65_536 {
        match rng.range(0, 10) {
            0..=6 => c.extend_from_slice(TEXT[rng.range(0, TEXT.len() as u64) as usize]),
            _ => {
                // TLS-record-like binary: a header, then random bytes.
                c.extend_from_slice(&[0x17, 0x03, 0x03, 0x02, 0x00]);
                for _ in 0..rng.range(64, 1024) {
                    c.push(rng.range(0, 256) as u8);
                }
            }
        }
    }
    c
}

/// [`mixed_vxlan_traffic`] with the payload bytes chosen by `payload`.
pub fn mixed_vxlan_traffic_with(
    n_packets: usize,
    seed: u64,
    payload: Payload,
) -> Vec<(u64, Vec<u8>)> {
    let mut rng = Rng::new(seed);
    let sessions = [
        SESSION_A,
        Session {
            packet_length: None,
            ..SESSION_B
        },
        Session {
            eni: Ipv4Addr::new(10, 0, 4, 40),
            vni: 1001,
            packet_length: None,
        },
        Session {
            eni: Ipv4Addr::new(10, 0, 5, 50),
            vni: 1002,
            packet_length: Some(256),
        },
    ];
    struct Flow {
        spec: FrameSpec,
        session: usize,
        /// TCP: the next sequence number of each direction (forward,
        /// reverse), so that every segment continues its stream and
        /// acknowledges the other one, as a real connection does.
        next: [u32; 2],
    }
    let flows: Vec<Flow> = (0..256)
        .map(|i| {
            let session = i % sessions.len();
            let (src, dst) = if rng.pct(90) {
                (
                    IpAddr::V4(sessions[session].eni),
                    v4(198, 18, (rng.next_u64() >> 8) as u8, rng.next_u64() as u8),
                )
            } else {
                (
                    IpAddr::V6(Ipv6Addr::new(
                        0x2600,
                        0x1f18,
                        0,
                        session as u16,
                        0,
                        0,
                        0,
                        0x10,
                    )),
                    IpAddr::V6(Ipv6Addr::new(
                        0x2001,
                        0xdb8,
                        0,
                        0,
                        0,
                        0,
                        rng.next_u64() as u16,
                        rng.next_u64() as u16,
                    )),
                )
            };
            let sport = rng.range(32768, 61000) as u16;
            let kind = rng.range(0, 100);
            let spec = if kind < 80 {
                let dport = [443u16, 80, 22, 5432][rng.range(0, 4) as usize];
                FrameSpec::tcp(src, dst, sport, dport)
                    .seq_ack(rng.next_u64() as u32, rng.next_u64() as u32)
            } else if kind < 95 {
                FrameSpec::udp(src, dst, sport, [53u16, 123, 443][rng.range(0, 3) as usize])
            } else {
                FrameSpec::icmp_echo(src, dst, true, rng.next_u64() as u16, 1)
            };
            let spec = if rng.pct(5) {
                spec.vlans(&[rng.range(1, 4095) as u16])
            } else {
                spec
            };
            let next = [rng.next_u64() as u32, rng.next_u64() as u32];
            Flow {
                spec,
                session,
                next,
            }
        })
        .collect();
    let corpus = match payload {
        Payload::Constant => vec![0x5au8; 1500],
        Payload::Mixed => mixed_corpus(&mut rng),
    };
    let mut flows = flows;
    let mut out = Vec::with_capacity(n_packets);
    let mut t = T0_NS;
    for _ in 0..n_packets {
        let fi = rng.range(0, flows.len() as u64) as usize;
        let f = &mut flows[fi];
        let size = rng.range(0, 100);
        let len = if size < 58 {
            rng.range(0, 12) as usize
        } else if size < 91 {
            rng.range(500, 560) as usize
        } else {
            rng.range(1380, 1448) as usize
        };
        let mut spec = f.spec.clone();
        let rev = rng.pct(50);
        if rev {
            spec = crate::strategies::reverse(&spec);
        }
        let d = usize::from(rev);
        spec = spec.seq_ack(f.next[d], f.next[1 - d]);
        f.next[d] = f.next[d].wrapping_add(len as u32);
        let at = if corpus.len() > 1500 {
            rng.range(0, (corpus.len() - len) as u64) as usize
        } else {
            0
        };
        spec.payload = corpus[at..at + len].to_vec();
        out.push((t, sessions[f.session].wrap(&spec)));
        t += rng.range(1_000, 20_000);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(pcap_bytes: &[u8]) -> usize {
        let mut r = pcap_file::pcap::PcapReader::new(pcap_bytes).unwrap();
        let mut n = 0;
        while let Some(p) = r.next_packet() {
            p.unwrap();
            n += 1;
        }
        n
    }

    #[test]
    fn deterministic_and_sized() {
        for f in FILES {
            assert_eq!((f.build)(), (f.build)(), "{} is not deterministic", f.name);
        }
        let demo = demo_vxlan();
        let n = count(&demo);
        assert!((200..=400).contains(&n), "demo has {n} packets");
        assert_eq!(count(&malformed()), 8);
        assert_eq!(mixed_vxlan_traffic(100, 1), mixed_vxlan_traffic(100, 1));
        assert_eq!(mixed_vxlan_traffic(100, 1).len(), 100);
    }

    #[test]
    fn demo_has_both_sessions_and_truncation() {
        let demo = demo_vxlan();
        let mut r = pcap_file::pcap::PcapReader::new(&demo[..]).unwrap();
        let (mut a, mut b, mut cut, mut vlan) = (0, 0, 0, 0);
        while let Some(p) = r.next_packet() {
            let p = p.unwrap();
            let d = &p.data;
            assert_eq!(&d[30..34], &SENSOR.octets());
            assert_eq!(&d[36..38], &4789u16.to_be_bytes());
            match d[48] {
                42 => a += 1,
                7 => {
                    b += 1;
                    assert!(d.len() - 50 <= 128);
                    cut += usize::from(d.len() - 50 == 128);
                }
                v => panic!("vni {v}"),
            }
            vlan += usize::from(d[50 + 12..50 + 14] == [0x81, 0x00]);
        }
        assert!(a > 100 && b > 50, "{a} {b}");
        assert!((3..=20).contains(&cut), "{cut} truncated");
        assert_eq!(vlan, 1);
    }
}
