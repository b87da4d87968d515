//! Sessions on the wire: TCP conversations (handshake, MSS-sized segments
//! with running sequence numbers, delayed ACKs, FIN close) and UDP
//! exchanges, each packet built with [`FrameSpec`] and wrapped in VXLAN as
//! an AWS Traffic Mirroring session sends it: outer source the mirrored
//! ENI (the VPC side of the conversation), outer destination the sensor,
//! UDP/4789, the session's VNI, the outer source port a hash of the inner
//! flow ([`mirror_src_port`]).

use std::net::IpAddr;

use crate::frame::{FrameSpec, tcp_flags};
use crate::pcaps::mirror_src_port;
use crate::tunnel::vxlan_frame;

/// Where the mirrored copies go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mirror {
    /// The mirrored ENI's address (outer source).
    pub eni: IpAddr,
    /// The sensor's address (outer destination).
    pub sensor: IpAddr,
    /// The mirror session's VNI.
    pub vni: u32,
}

/// One endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// Address.
    pub ip: IpAddr,
    /// Port.
    pub port: u16,
}

/// A packet: timestamp (ns) and the mirrored frame.
pub type Packet = (u64, Vec<u8>);

/// Maximum segment size used on every TCP conversation (Ethernet MTU 1500
/// minus IPv4 and TCP headers; IPv6 uses 1440).
pub const MSS_V4: usize = 1460;

/// A TCP conversation being written, client and server side by side.
#[derive(Debug)]
pub struct Tcp {
    client: Peer,
    server: Peer,
    mirror: Mirror,
    /// Next sequence number each side sends: [client, server].
    next: [u32; 2],
    /// IPv4 identification per side.
    ip_id: [u16; 2],
    /// Segments received and not yet acknowledged per side.
    unacked: [u32; 2],
    /// The clock, ns.
    pub t: u64,
    /// Round-trip time, ns.
    pub rtt: u64,
    /// Serialisation time per byte, ns (the path's bandwidth).
    pub ns_per_byte: u64,
    mss: usize,
    /// The packets so far.
    pub packets: Vec<Packet>,
    ttl: [u8; 2],
}

impl Tcp {
    /// A conversation starting at `t` with initial sequence numbers
    /// `isn` (client, server).
    pub fn new(client: Peer, server: Peer, mirror: Mirror, t: u64, rtt: u64, isn: [u32; 2]) -> Tcp {
        let v6 = client.ip.is_ipv6();
        Tcp {
            client,
            server,
            mirror,
            next: isn,
            ip_id: [(isn[0] >> 7) as u16, (isn[1] >> 9) as u16],
            unacked: [0, 0],
            t,
            rtt,
            ns_per_byte: 80, // 100 Mbit/s
            mss: if v6 { MSS_V4 - 20 } else { MSS_V4 },
            packets: Vec::new(),
            ttl: [64, if isn[1] & 1 == 0 { 128 } else { 57 }],
        }
    }

    fn emit(&mut self, from_client: bool, flags: u8, payload: &[u8], options: &[u8]) {
        let s = usize::from(!from_client);
        let (src, dst) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let seq = self.next[s];
        let ack = if flags & tcp_flags::ACK != 0 {
            self.next[1 - s]
        } else {
            0
        };
        let mut spec = FrameSpec::tcp(src.ip, dst.ip, src.port, dst.port)
            .seq_ack(seq, ack)
            .flags(flags)
            .window(if from_client { 64240 } else { 65160 })
            .ttl(self.ttl[s])
            .payload(payload.to_vec());
        spec.ipv4.id = self.ip_id[s];
        self.ip_id[s] = self.ip_id[s].wrapping_add(1);
        if !options.is_empty() {
            spec = spec.tcp_options(options.to_vec());
        }
        let inner = spec.build().bytes;
        let frame = vxlan_frame(
            self.mirror.eni,
            self.mirror.sensor,
            mirror_src_port(&spec),
            self.mirror.vni,
            &inner,
        );
        self.packets.push((self.t, frame));
        let mut adv = payload.len() as u32;
        if flags & (tcp_flags::SYN | tcp_flags::FIN) != 0 {
            adv += 1;
        }
        self.next[s] = seq.wrapping_add(adv);
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self) {
        // MSS, NOP, window scale 7, NOP, NOP, SACK permitted.
        let m = (self.mss as u16).to_be_bytes();
        let opts = [2, 4, m[0], m[1], 1, 3, 3, 7, 1, 1, 4, 2];
        self.emit(true, tcp_flags::SYN, &[], &opts);
        self.t += self.rtt;
        self.emit(false, tcp_flags::SYN | tcp_flags::ACK, &[], &opts);
        self.t += 20_000;
        self.emit(true, tcp_flags::ACK, &[], &[]);
    }

    /// `data` from one side in MSS-sized segments, PSH on the last; the
    /// other side ACKs every second segment and the last one.
    pub fn send(&mut self, from_client: bool, data: &[u8]) {
        let r = usize::from(from_client); // the receiver's index
        let n = data.len().div_ceil(self.mss);
        for (i, seg) in data.chunks(self.mss).enumerate() {
            let last = i + 1 == n;
            let mut flags = tcp_flags::ACK;
            if last {
                flags |= tcp_flags::PSH;
            }
            self.t += 5_000 + seg.len() as u64 * self.ns_per_byte;
            self.emit(from_client, flags, seg, &[]);
            self.unacked[r] += 1;
            if self.unacked[r] >= 2 || last {
                self.t += 30_000;
                self.emit(!from_client, tcp_flags::ACK, &[], &[]);
                self.unacked[r] = 0;
            }
        }
    }

    /// The other side answers after a round trip and `think` ns.
    pub fn turn(&mut self, think: u64) {
        self.t += self.rtt + think;
    }

    /// Client FIN, server FIN-ACK, client ACK.
    pub fn close(&mut self) {
        self.t += 200_000;
        self.emit(true, tcp_flags::FIN | tcp_flags::ACK, &[], &[]);
        self.t += self.rtt;
        self.emit(false, tcp_flags::FIN | tcp_flags::ACK, &[], &[]);
        self.t += 20_000;
        self.emit(true, tcp_flags::ACK, &[], &[]);
    }

    /// The sequence number each side sends next: [client, server].
    pub fn next_seq(&self) -> [u32; 2] {
        self.next
    }
}

/// One UDP datagram, mirrored.
pub fn udp(src: Peer, dst: Peer, mirror: Mirror, ip_id: u16, ttl: u8, payload: &[u8]) -> Vec<u8> {
    let mut spec = FrameSpec::udp(src.ip, dst.ip, src.port, dst.port)
        .ttl(ttl)
        .payload(payload.to_vec());
    spec.ipv4.id = ip_id;
    let inner = spec.build().bytes;
    vxlan_frame(
        mirror.eni,
        mirror.sensor,
        mirror_src_port(&spec),
        mirror.vni,
        &inner,
    )
}
