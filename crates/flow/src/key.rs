//! The flow key and the symmetric shard hash.
//!
//! A flow is identified by (tenant, inner VLAN ids, normalized inner
//! 5-tuple) (DESIGN.md, "Sessions, tenancy and the flow key"). The two
//! endpoints are stored in order, the smaller `(addr, port)` first, so both
//! directions of a conversation give the same [`FlowKey`]; a [`Direction`]
//! says which way a packet went.
//!
//! ICMP: echo request and reply (ICMPv4 8/0, ICMPv6 128/129) use the echo
//! identifier as both ports, so a ping and its answer are one flow and two
//! pings with different identifiers are two. Other request/response pairs
//! (timestamp, information, address mask, router and neighbour discovery,
//! MLD, ...) are one flow per pair of hosts with ports 0; the pair's request
//! type is kept in [`FlowKey::icmp`] so that they never mix with echo flows.
//! ICMP error messages follow Suricata's flow engine (`flow-hash.c`
//! `FlowGetHash`/`FlowCompareICMPv4`/`FlowCreateCheck`): an ICMPv4
//! destination unreachable quoting a TCP or UDP packet belongs to the
//! quoted flow, so [`classify`] returns that flow's key and the caller
//! routes the error to its shard ([`PacketKey::IcmpError`]); every other
//! ICMPv4 error is inspected without a flow ([`PacketKey::Flowless`]), as
//! Suricata never creates a flow for one; ICMPv6 errors are hashed on their
//! own addresses like any ICMPv6 message, so they are flows of their own.
//!
//! The shard hash ([`FlowKey::shard`]) is a fixed-key hash of the
//! normalized key: the same for both directions, across runs and across
//! machines, and never of outer (tunnel) headers. It is not DoS-resistant
//! by itself: an attacker who knows it can load one shard, which the
//! per-shard caps bound (crates.md §10).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mirador_wire::{FiveTuple, Inner, Network, Transport, VlanIds};

/// IP protocol numbers used here.
pub mod proto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// SCTP.
    pub const SCTP: u8 = 132;
}

/// One end of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Address.
    pub addr: IpAddr,
    /// Port (0 for protocols without ports; the echo id for ICMP echo).
    pub port: u16,
}

/// Which way a packet travels relative to its key's normalized endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From [`FlowKey::lo`] to [`FlowKey::hi`] (also when both are equal).
    LoToHi,
    /// From [`FlowKey::hi`] to [`FlowKey::lo`].
    HiToLo,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::LoToHi => Direction::HiToLo,
            Direction::HiToLo => Direction::LoToHi,
        }
    }
}

/// A normalized flow key.
///
/// Ordering (`Ord`) is by tenant, VLAN ids, protocol, ICMP class, then the
/// endpoints: a total, run-independent order used to make the table's
/// output deterministic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// The tenant: an interned id the caller supplies (from the session).
    pub tenant: u32,
    /// Inner VLAN ids, outermost first.
    pub vlan: VlanIds,
    /// IP protocol.
    pub proto: u8,
    /// For ICMP and ICMPv6: the request type of a request/response pair
    /// (8 for echo, 128 for ICMPv6 echo, 13 for timestamp, ...), or the
    /// message type of a one-way message; 0 for other protocols.
    pub icmp: u8,
    /// The smaller `(addr, port)`.
    pub lo: Endpoint,
    /// The larger `(addr, port)`.
    pub hi: Endpoint,
}

impl PartialOrd for FlowKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FlowKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (
            self.tenant,
            self.vlan.as_slice(),
            self.proto,
            self.icmp,
            self.lo,
            self.hi,
        )
            .cmp(&(
                other.tenant,
                other.vlan.as_slice(),
                other.proto,
                other.icmp,
                other.lo,
                other.hi,
            ))
    }
}

impl FlowKey {
    /// The key of a packet from `src` to `dst`, and the packet's direction.
    pub fn new(
        tenant: u32,
        vlan: VlanIds,
        proto: u8,
        icmp: u8,
        src: Endpoint,
        dst: Endpoint,
    ) -> (FlowKey, Direction) {
        let (lo, hi, dir) = if src <= dst {
            (src, dst, Direction::LoToHi)
        } else {
            (dst, src, Direction::HiToLo)
        };
        (
            FlowKey {
                tenant,
                vlan,
                proto,
                icmp,
                lo,
                hi,
            },
            dir,
        )
    }

    /// The key of a TCP/UDP/SCTP/other-protocol 5-tuple (for ICMP use
    /// [`classify`], which knows the echo id and error quoting).
    pub fn from_tuple(tenant: u32, vlan: VlanIds, t: &FiveTuple) -> (FlowKey, Direction) {
        FlowKey::new(
            tenant,
            vlan,
            t.proto,
            0,
            Endpoint {
                addr: t.src,
                port: t.src_port,
            },
            Endpoint {
                addr: t.dst,
                port: t.dst_port,
            },
        )
    }

    /// `(source, destination)` of a packet going in `dir`.
    pub fn endpoints(&self, dir: Direction) -> (Endpoint, Endpoint) {
        match dir {
            Direction::LoToHi => (self.lo, self.hi),
            Direction::HiToLo => (self.hi, self.lo),
        }
    }

    /// A 64-bit hash of the normalized key with a fixed key: identical in
    /// every run and on every machine.
    pub fn stable_hash(&self) -> u64 {
        let mut h = Mix::new();
        h.word(u64::from(self.tenant) << 32 | u64::from(self.proto) << 8 | u64::from(self.icmp));
        let v = self.vlan.as_slice();
        let mut vw = v.len() as u64;
        for (i, id) in v.iter().enumerate() {
            vw |= u64::from(*id) << (16 * (i + 1));
        }
        h.word(vw);
        for ep in [self.lo, self.hi] {
            let (fam, a) = match ep.addr {
                IpAddr::V4(a) => (4u64, a.to_ipv6_mapped().octets()),
                IpAddr::V6(a) => (6u64, a.octets()),
            };
            let (w0, w1) = a.split_at(8);
            h.word(u64::from_be_bytes(w0.try_into().unwrap_or([0; 8])));
            h.word(u64::from_be_bytes(w1.try_into().unwrap_or([0; 8])));
            h.word(fam << 16 | u64::from(ep.port));
        }
        h.finish()
    }

    /// The shard (`0..n`) this flow belongs to; `n == 0` is treated as 1.
    pub fn shard(&self, n: usize) -> usize {
        let n = n.max(1) as u128;
        // Lemire's multiply-shift reduction: uniform, no division.
        ((u128::from(self.stable_hash()) * n) >> 64) as usize
    }
}

/// A small fixed-key multiply-xorshift mixer (murmur3/splitmix finalizer
/// style). Not a keyed PRF: see the module docs.
struct Mix(u64);

impl Mix {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    fn new() -> Self {
        Mix(0x6d69_7261_646f_7221) // "mirador!"
    }

    fn word(&mut self, w: u64) {
        self.0 = (self.0 ^ w).wrapping_mul(Self::K);
        self.0 ^= self.0 >> 29;
    }

    fn finish(self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// What a packet's flow identity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKey {
    /// An ordinary packet of flow `key`, going in `dir`.
    Flow {
        /// The flow.
        key: FlowKey,
        /// The packet's direction.
        dir: Direction,
    },
    /// An ICMPv4 destination unreachable quoting a packet of flow
    /// `quoted`. Route it to `quoted.shard(n)`; there it belongs to that
    /// flow if the flow exists, else it is inspected without a flow
    /// (Suricata creates no flow for an ICMPv4 error). `quoted_dir` is the
    /// direction of the *quoted* packet; the error itself usually travels
    /// the other way.
    IcmpError {
        /// The quoted packet's flow.
        quoted: FlowKey,
        /// The quoted packet's direction.
        quoted_dir: Direction,
        /// The error's ICMP type.
        icmp_type: u8,
        /// The error's ICMP code.
        icmp_code: u8,
    },
    /// A packet inspected without a flow that never creates one: an ICMPv4
    /// error that names no flow Suricata would look up. `key` (the
    /// packet's own addresses, ports 0, its ICMP type as the class) only
    /// routes it; `dir` is its direction relative to `key`.
    Flowless {
        /// The packet's own key.
        key: FlowKey,
        /// The packet's direction.
        dir: Direction,
    },
}

impl PacketKey {
    /// The key whose shard this packet goes to.
    pub fn routing_key(&self) -> &FlowKey {
        match self {
            PacketKey::Flow { key, .. } => key,
            PacketKey::IcmpError { quoted, .. } => quoted,
            PacketKey::Flowless { key, .. } => key,
        }
    }
}

/// Whether an ICMP (`v6 == false`) or ICMPv6 type is an error message.
pub fn is_icmp_error(v6: bool, icmp_type: u8) -> bool {
    if v6 {
        // RFC 4443: error messages have types 0-127; 1-4 are defined.
        icmp_type < 128
    } else {
        // Destination unreachable, source quench, redirect, time
        // exceeded, parameter problem.
        matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
    }
}

/// Request/response pairs: the request type of a pair `t` belongs to.
fn icmp_pair(v6: bool, t: u8) -> Option<u8> {
    if v6 {
        match t {
            128 | 129 => Some(128),
            130 | 131 => Some(130),
            133 | 134 => Some(133),
            135 | 136 => Some(135),
            139 | 140 => Some(139),
            144 | 145 => Some(144),
            _ => None,
        }
    } else {
        match t {
            8 | 0 => Some(8),
            13 | 14 => Some(13),
            15 | 16 => Some(15),
            10 | 9 => Some(10),
            17 | 18 => Some(17),
            _ => None,
        }
    }
}

fn is_echo(v6: bool, t: u8) -> bool {
    if v6 {
        t == 128 || t == 129
    } else {
        t == 8 || t == 0
    }
}

/// `(icmp class, src port, dst port)` of a non-error ICMP message whose
/// bytes (from the type byte) are `msg`.
fn icmp_identity(v6: bool, msg: &[u8]) -> Option<(u8, u16)> {
    let t = *msg.first()?;
    if is_echo(v6, t) {
        let id = msg
            .get(4..6)
            .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
        return Some((if v6 { 128 } else { 8 }, id));
    }
    Some((icmp_pair(v6, t).unwrap_or(t), 0))
}

/// The ICMP message of `inner` from its type byte, as captured, when the
/// packet is ICMP or ICMPv6 and the IP header lies within `inner.frame`
/// (it does for every packet [`mirador_wire::decode`] returns).
pub fn icmp_message<'a>(inner: &Inner<'a>) -> Option<&'a [u8]> {
    if !matches!(
        inner.transport,
        Transport::Icmpv4 { .. } | Transport::Icmpv6 { .. }
    ) {
        return None;
    }
    let header = match inner.network {
        Network::Ipv4 { header, .. } | Network::Ipv6 { header, .. } => header,
        _ => return None,
    };
    // Locate the IP header inside the frame by address (safe arithmetic on
    // addresses, no pointer dereference).
    let base = inner.frame.as_ptr() as usize;
    let at = (header.as_ptr() as usize).checked_sub(base)?;
    let end = at.checked_add(header.len())?;
    let l4 = inner.frame.get(end..)?;
    // Trim to the IP length where the frame carries link-layer padding.
    let l4_len = match inner.network {
        Network::Ipv4 { total_len, .. } => usize::from(total_len).checked_sub(header.len()),
        Network::Ipv6 {
            payload_len,
            header,
            ..
        } => (usize::from(payload_len) + 40).checked_sub(header.len()),
        _ => None,
    };
    Some(match l4_len {
        Some(n) if n < l4.len() => &l4[..n],
        _ => l4,
    })
}

/// The 5-tuple of the packet an ICMP error quotes, in the quoted packet's
/// direction. `v6` tells ICMPv6 from ICMP; `msg` is the ICMP message from
/// its type byte ([`icmp_message`]). Ports are the quoted TCP/UDP/SCTP
/// ports, the echo id (both ports) for a quoted ICMP echo, 0 for other
/// protocols. `None` when `msg` is not an error message, or the quoted
/// header or the ports it needs were not captured, or the quoted packet is
/// a non-first fragment. Every access is bounds-checked.
///
/// Returned with the quoted packet's ICMP class (see [`FlowKey::icmp`]).
pub fn icmp_error_quoted(v6: bool, msg: &[u8]) -> Option<(FiveTuple, u8)> {
    let t = *msg.first()?;
    if !is_icmp_error(v6, t) {
        return None;
    }
    // Both ICMP and ICMPv6 errors: 4 bytes of header, 4 bytes unused /
    // pointer / MTU / gateway, then the quoted packet.
    let q = msg.get(8..)?;
    let (src, dst, mut nh, mut off, first) = if v6 {
        if q.first()? >> 4 != 6 || q.len() < 40 {
            return None;
        }
        let src: [u8; 16] = q[8..24].try_into().ok()?;
        let dst: [u8; 16] = q[24..40].try_into().ok()?;
        (
            IpAddr::V6(Ipv6Addr::from(src)),
            IpAddr::V6(Ipv6Addr::from(dst)),
            q[6],
            40usize,
            true,
        )
    } else {
        let b0 = *q.first()?;
        let ihl = usize::from(b0 & 0x0f) * 4;
        if b0 >> 4 != 4 || ihl < 20 || q.len() < ihl {
            return None;
        }
        let frag_off = u16::from_be_bytes([q[6], q[7]]) & 0x1fff;
        let src: [u8; 4] = q[12..16].try_into().ok()?;
        let dst: [u8; 4] = q[16..20].try_into().ok()?;
        (
            IpAddr::V4(Ipv4Addr::from(src)),
            IpAddr::V4(Ipv4Addr::from(dst)),
            q[9],
            ihl,
            frag_off == 0,
        )
    };
    let mut first = first;
    if v6 {
        // Walk a bounded number of extension headers.
        for _ in 0..8 {
            match nh {
                0 | 43 | 60 => {
                    let h = q.get(off..off + 2)?;
                    nh = h[0];
                    off += (usize::from(h[1]) + 1) * 8;
                }
                51 => {
                    let h = q.get(off..off + 2)?;
                    nh = h[0];
                    off += (usize::from(h[1]) + 2) * 4;
                }
                44 => {
                    let h = q.get(off..off + 8)?;
                    nh = h[0];
                    if u16::from_be_bytes([h[2], h[3]]) >> 3 != 0 {
                        first = false;
                    }
                    off += 8;
                }
                _ => break,
            }
        }
    }
    let l4 = q.get(off..).unwrap_or(&[]);
    let (sp, dp, class) = match nh {
        proto::TCP | proto::UDP | proto::SCTP => {
            if !first {
                return None;
            }
            let p = l4.get(..4)?;
            (
                u16::from_be_bytes([p[0], p[1]]),
                u16::from_be_bytes([p[2], p[3]]),
                0,
            )
        }
        proto::ICMP | proto::ICMPV6 => {
            if !first {
                return None;
            }
            let qv6 = nh == proto::ICMPV6;
            let qt = *l4.first()?;
            if is_icmp_error(qv6, qt) {
                // An error about an error: no flow to find.
                return None;
            }
            if is_echo(qv6, qt) && l4.len() < 6 {
                return None;
            }
            let (class, id) = icmp_identity(qv6, l4)?;
            (id, id, class)
        }
        _ => (0, 0, 0),
    };
    Some((
        FiveTuple {
            src,
            dst,
            proto: nh,
            src_port: sp,
            dst_port: dp,
        },
        class,
    ))
}

/// The quoted TCP/UDP 5-tuple of an ICMPv4 destination unreachable that
/// Suricata attaches to the quoted flow (`ICMPV4_DEST_UNREACH_IS_VALID`):
/// type 3 with a known code (at most 15, `NR_ICMP_UNREACH`), a quoted IPv4
/// header, and a quoted TCP header of 20 bytes or UDP header of 8 (Suricata
/// sets its embedded TCP/UDP header only then). `msg` is the ICMP message
/// from its type byte. Unlike Suricata, the quoted ports are read after the
/// quoted header's own length (Suricata assumes 20 bytes), so a quote with
/// IP options finds its flow too.
pub fn unreach_flow_v4(msg: &[u8]) -> Option<FiveTuple> {
    if *msg.first()? != 3 || *msg.get(1)? > 15 {
        return None;
    }
    let (q, _) = icmp_error_quoted(false, msg)?;
    let ihl = usize::from(msg.get(8)? & 0x0f) * 4;
    let l4 = match q.proto {
        proto::TCP => 20,
        proto::UDP => 8,
        _ => return None,
    };
    (msg.len() >= 8 + ihl + l4).then_some(q)
}

/// The flow identity of a decoded packet: `None` for packets without an IP
/// layer (ARP, other L2). `tenant` is the session's interned tenant id.
///
/// A packet whose transport header was not captured (`Transport::None`,
/// e.g. a non-first fragment that defragmentation could not complete) is
/// keyed with ports 0.
pub fn classify(tenant: u32, inner: &Inner<'_>) -> Option<PacketKey> {
    let t = inner.five_tuple()?;
    let v6 = match inner.transport {
        Transport::Icmpv4 { .. } => false,
        Transport::Icmpv6 { .. } => true,
        _ => {
            let (key, dir) = FlowKey::from_tuple(tenant, inner.vlan, &t);
            return Some(PacketKey::Flow { key, dir });
        }
    };
    let (icmp_type, icmp_code) = match inner.transport {
        Transport::Icmpv4 {
            icmp_type,
            icmp_code,
        }
        | Transport::Icmpv6 {
            icmp_type,
            icmp_code,
        } => (icmp_type, icmp_code),
        _ => (0, 0),
    };
    let msg = icmp_message(inner).unwrap_or(&[]);
    if !v6
        && is_icmp_error(false, icmp_type)
        && let Some(q) = unreach_flow_v4(msg)
    {
        let (quoted, quoted_dir) = FlowKey::from_tuple(tenant, inner.vlan, &q);
        return Some(PacketKey::IcmpError {
            quoted,
            quoted_dir,
            icmp_type,
            icmp_code,
        });
    }
    // Any other ICMPv4 error has no flow: Suricata hashes it on its own
    // addresses, finds no flow (none is ever created for an ICMPv4 error,
    // `FlowCreateCheck`) and inspects it flowless. ICMPv6 errors (no
    // quoted-flow lookup in Suricata) fall through to a one-way flow of
    // their own type, as Suricata's ICMPv6 flows do.
    if !v6 && is_icmp_error(false, icmp_type) {
        let (key, dir) = FlowKey::new(
            tenant,
            inner.vlan,
            t.proto,
            icmp_type,
            Endpoint {
                addr: t.src,
                port: 0,
            },
            Endpoint {
                addr: t.dst,
                port: 0,
            },
        );
        return Some(PacketKey::Flowless { key, dir });
    }
    // Echo id from the message (0 when not captured).
    let (class, id) = if msg.first() == Some(&icmp_type) {
        icmp_identity(v6, msg).unwrap_or((icmp_type, 0))
    } else if is_echo(v6, icmp_type) {
        (if v6 { 128 } else { 8 }, 0)
    } else {
        (icmp_pair(v6, icmp_type).unwrap_or(icmp_type), 0)
    };
    let (key, dir) = FlowKey::new(
        tenant,
        inner.vlan,
        t.proto,
        class,
        Endpoint {
            addr: t.src,
            port: id,
        },
        Endpoint {
            addr: t.dst,
            port: id,
        },
    );
    Some(PacketKey::Flow { key, dir })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirador_wire::{DecodeOptions, decode, linktype};
    use proptest::prelude::*;

    fn ep(a: &str, port: u16) -> Endpoint {
        Endpoint {
            addr: a.parse().unwrap(),
            port,
        }
    }

    fn ipv4_packet(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
        let total = 20 + l4.len();
        let mut p = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            1,
            0,
            0,
            64,
            proto,
            0,
            0,
        ];
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(l4);
        p
    }

    fn ipv6_packet(nh: u8, src: Ipv6Addr, dst: Ipv6Addr, l4: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(l4.len() as u16).to_be_bytes());
        p.extend_from_slice(&[nh, 64]);
        p.extend_from_slice(&src.octets());
        p.extend_from_slice(&dst.octets());
        p.extend_from_slice(l4);
        p
    }

    fn classify_raw(frame: &[u8]) -> PacketKey {
        let d = decode(linktype::RAW, frame, &DecodeOptions::default());
        let inner = d.outcome.expect("decodes");
        classify(7, &inner).expect("has a key")
    }

    #[test]
    fn both_directions_share_key_and_shard() {
        let (k1, d1) = FlowKey::new(
            1,
            VlanIds::EMPTY,
            6,
            0,
            ep("10.0.0.1", 1234),
            ep("10.0.0.2", 80),
        );
        let (k2, d2) = FlowKey::new(
            1,
            VlanIds::EMPTY,
            6,
            0,
            ep("10.0.0.2", 80),
            ep("10.0.0.1", 1234),
        );
        assert_eq!(k1, k2);
        assert_eq!(d1, Direction::LoToHi);
        assert_eq!(d2, Direction::HiToLo);
        assert_eq!(k1.endpoints(d1), (ep("10.0.0.1", 1234), ep("10.0.0.2", 80)));
        assert_eq!(k1.endpoints(d2), (ep("10.0.0.2", 80), ep("10.0.0.1", 1234)));
        for n in 1..17 {
            assert_eq!(k1.shard(n), k2.shard(n));
            assert!(k1.shard(n) < n);
        }
        assert_eq!(k1.shard(0), 0);
    }

    #[test]
    fn ports_decide_when_addresses_are_equal() {
        let (k, d) = FlowKey::new(
            0,
            VlanIds::EMPTY,
            17,
            0,
            ep("10.0.0.1", 9),
            ep("10.0.0.1", 5),
        );
        assert_eq!((k.lo.port, k.hi.port, d), (5, 9, Direction::HiToLo));
    }

    #[test]
    fn tenant_and_vlan_separate_flows() {
        let mk = |tenant, vlan: &[u16]| {
            let mut v = VlanIds::EMPTY;
            for id in vlan {
                v.push(*id);
            }
            FlowKey::new(tenant, v, 6, 0, ep("10.0.0.1", 1), ep("10.0.0.2", 2)).0
        };
        assert_ne!(mk(1, &[]), mk(2, &[]));
        assert_ne!(mk(1, &[]), mk(1, &[10]));
        assert_ne!(mk(1, &[10]), mk(1, &[10, 20]));
        assert_ne!(mk(1, &[10]).stable_hash(), mk(1, &[11]).stable_hash());
    }

    /// The shard hash is pinned: a change would move flows between shards
    /// for a given worker count across versions, which is allowed, but it
    /// must never depend on the run.
    #[test]
    fn stable_hash_is_fixed() {
        let (k, _) = FlowKey::new(
            3,
            VlanIds::EMPTY,
            6,
            0,
            ep("1.2.3.4", 1122),
            ep("5.6.7.8", 3344),
        );
        let h = k.stable_hash();
        assert_eq!(h, k.stable_hash());
        let (k6, _) = FlowKey::new(
            3,
            VlanIds::EMPTY,
            6,
            0,
            ep("::ffff:1.2.3.4", 1122),
            ep("5.6.7.8", 3344),
        );
        // v4 and v4-mapped v6 are different flows and hash differently.
        assert_ne!(k6, k);
        assert_ne!(k6.stable_hash(), h);
    }

    #[test]
    fn shards_spread() {
        let mut counts = [0usize; 4];
        for i in 0..4000u32 {
            let a = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            let (k, _) = FlowKey::new(
                0,
                VlanIds::EMPTY,
                6,
                0,
                Endpoint {
                    addr: a,
                    port: 40000,
                },
                ep("10.1.0.1", 443),
            );
            counts[k.shard(4)] += 1;
        }
        for c in counts {
            assert!((800..1200).contains(&c), "{counts:?}");
        }
    }

    fn arb_addr() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
            // Small v4 space too, so equal addresses happen.
            (0u8..3).prop_map(|b| IpAddr::V4(Ipv4Addr::new(10, 0, 0, b))),
            any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        ]
    }

    proptest! {
        #[test]
        fn key_and_shard_are_symmetric(
            tenant in any::<u32>(),
            vlan in proptest::collection::vec(0u16..4096, 0..3),
            proto in any::<u8>(),
            a in arb_addr(), b in arb_addr(),
            pa in prop_oneof![any::<u16>(), 0u16..3], pb in prop_oneof![any::<u16>(), 0u16..3],
            n in 1usize..64,
        ) {
            let mut v = VlanIds::EMPTY;
            for id in &vlan { v.push(*id); }
            let ea = Endpoint { addr: a, port: pa };
            let eb = Endpoint { addr: b, port: pb };
            let (k1, d1) = FlowKey::new(tenant, v, proto, 0, ea, eb);
            let (k2, d2) = FlowKey::new(tenant, v, proto, 0, eb, ea);
            prop_assert_eq!(k1, k2);
            prop_assert_eq!(k1.stable_hash(), k2.stable_hash());
            prop_assert_eq!(k1.shard(n), k2.shard(n));
            prop_assert!(k1.lo <= k1.hi);
            prop_assert_eq!(k1.endpoints(d1), (ea, eb));
            prop_assert_eq!(k2.endpoints(d2), (eb, ea));
            if ea != eb { prop_assert_ne!(d1, d2); }
        }
    }

    #[test]
    fn classify_tcp_both_directions() {
        let syn = [
            0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ];
        let synack = [
            0, 80, 0x04, 0xd2, 0, 0, 0, 9, 0, 0, 0, 2, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0,
        ];
        let a = classify_raw(&ipv4_packet(6, [10, 0, 0, 2], [10, 0, 0, 1], &syn));
        let b = classify_raw(&ipv4_packet(6, [10, 0, 0, 1], [10, 0, 0, 2], &synack));
        let (PacketKey::Flow { key: ka, dir: da }, PacketKey::Flow { key: kb, dir: db }) = (a, b)
        else {
            panic!("flows")
        };
        assert_eq!(ka, kb);
        assert_eq!(ka.tenant, 7);
        assert_eq!((da, db), (Direction::HiToLo, Direction::LoToHi));
        assert_eq!(ka.lo, ep("10.0.0.1", 80));
    }

    fn icmp_echo(t: u8, id: u16, seq: u16) -> Vec<u8> {
        let mut m = vec![t, 0, 0, 0];
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(b"ping");
        m
    }

    #[test]
    fn icmp_echo_id_pairs_request_and_reply() {
        let req = classify_raw(&ipv4_packet(
            1,
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            &icmp_echo(8, 0x1234, 1),
        ));
        let rep = classify_raw(&ipv4_packet(
            1,
            [10, 0, 0, 2],
            [10, 0, 0, 1],
            &icmp_echo(0, 0x1234, 1),
        ));
        let other = classify_raw(&ipv4_packet(
            1,
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            &icmp_echo(8, 0x4321, 1),
        ));
        let ts = classify_raw(&ipv4_packet(
            1,
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            &icmp_echo(13, 0x1234, 1),
        ));
        let (
            PacketKey::Flow { key: k1, dir: d1 },
            PacketKey::Flow { key: k2, dir: d2 },
            PacketKey::Flow { key: k3, .. },
            PacketKey::Flow { key: k4, .. },
        ) = (req, rep, other, ts)
        else {
            panic!("flows")
        };
        assert_eq!(k1, k2);
        assert_ne!(d1, d2);
        assert_eq!(
            (k1.lo.port, k1.hi.port, k1.icmp, k1.proto),
            (0x1234, 0x1234, 8, 1)
        );
        assert_ne!(k1, k3);
        assert_eq!(k4.icmp, 13);
        assert_ne!(k1, k4);

        // ICMPv6 echo.
        let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let req = classify_raw(&ipv6_packet(58, a, b, &icmp_echo(128, 77, 1)));
        let rep = classify_raw(&ipv6_packet(58, b, a, &icmp_echo(129, 77, 1)));
        assert_eq!(req.routing_key(), rep.routing_key());
        assert_eq!(req.routing_key().lo.port, 77);
        assert_eq!(req.routing_key().icmp, 128);
    }

    #[test]
    fn icmp_error_routes_to_the_quoted_flow() {
        // The client 10.0.0.1:5555 sent UDP to 10.0.0.9:53; a router
        // 192.0.2.1 answers with port unreachable quoting it.
        let udp = [0x15, 0xb3, 0, 53, 0, 12, 0, 0, b'a', b'b', b'c', b'd'];
        let quoted = ipv4_packet(17, [10, 0, 0, 1], [10, 0, 0, 9], &udp);
        let mut msg = vec![3, 3, 0, 0, 0, 0, 0, 0];
        msg.extend_from_slice(&quoted[..28]);
        let err = classify_raw(&ipv4_packet(1, [192, 0, 2, 1], [10, 0, 0, 1], &msg));
        let orig = classify_raw(&quoted);
        let PacketKey::IcmpError {
            quoted: qk,
            quoted_dir,
            icmp_type,
            icmp_code,
        } = err
        else {
            panic!("error")
        };
        let PacketKey::Flow { key, dir } = orig else {
            panic!("flow")
        };
        assert_eq!(qk, key);
        assert_eq!(quoted_dir, dir);
        assert_eq!((icmp_type, icmp_code), (3, 3));
        assert_eq!(err.routing_key().shard(4), orig.routing_key().shard(4));

        // Time exceeded, even quoting a flow, is flowless (Suricata looks
        // up the quoted flow for destination unreachable only).
        let echo = ipv4_packet(1, [10, 0, 0, 1], [8, 8, 8, 8], &icmp_echo(8, 99, 3));
        let mut msg = vec![11, 0, 0, 0, 0, 0, 0, 0];
        msg.extend_from_slice(&echo[..28]);
        let err = classify_raw(&ipv4_packet(1, [192, 0, 2, 1], [10, 0, 0, 1], &msg));
        let PacketKey::Flowless { key, dir } = err else {
            panic!("flowless: {err:?}")
        };
        assert_eq!((key.proto, key.icmp), (1, 11));
        assert_eq!(key.endpoints(dir), (ep("192.0.2.1", 0), ep("10.0.0.1", 0)));
        let mut msg = vec![11, 0, 0, 0, 0, 0, 0, 0];
        msg.extend_from_slice(&quoted[..28]);
        let err = classify_raw(&ipv4_packet(1, [192, 0, 2, 1], [10, 0, 0, 1], &msg));
        assert!(matches!(err, PacketKey::Flowless { .. }), "{err:?}");
    }

    #[test]
    fn unreachable_needs_what_suricata_needs() {
        let tcp = [
            0x9c, 0x40, 1, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ];
        let quoted = ipv4_packet(6, [10, 0, 0, 1], [10, 0, 0, 9], &tcp);
        let unreach = |code: u8, n: usize| {
            let mut m = vec![3, code, 0, 0, 0, 0, 0, 0];
            m.extend_from_slice(&quoted[..n]);
            m
        };
        // A whole quoted TCP header: the quoted flow.
        let q = unreach_flow_v4(&unreach(1, 40)).expect("valid");
        assert_eq!((q.proto, q.src_port, q.dst_port), (6, 40000, 443));
        // IP header + 8 bytes of TCP is not enough for Suricata.
        assert!(unreach_flow_v4(&unreach(1, 28)).is_none());
        // Unknown code.
        assert!(unreach_flow_v4(&unreach(16, 40)).is_none());
        // Not an unreachable.
        let mut te = unreach(1, 40);
        te[0] = 11;
        assert!(unreach_flow_v4(&te).is_none());
        // Neither TCP nor UDP.
        let other = ipv4_packet(47, [10, 0, 0, 1], [10, 0, 0, 9], &tcp);
        let mut m = vec![3, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&other);
        assert!(unreach_flow_v4(&m).is_none());
        // Every truncation: no panic.
        let full = unreach(3, 40);
        for n in 0..=full.len() {
            assert_eq!(unreach_flow_v4(&full[..n]).is_some(), n == full.len());
        }
    }

    #[test]
    fn icmpv6_error_quoting_walks_extension_headers() {
        let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let r: Ipv6Addr = "2001:db8::ff".parse().unwrap();
        let tcp = [
            0x9c, 0x40, 1, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ];
        // Hop-by-hop options header (8 bytes) before TCP.
        let mut ext = vec![6, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&tcp);
        let quoted = ipv6_packet(0, a, b, &ext);
        let mut msg = vec![1, 4, 0, 0, 0, 0, 0, 0];
        msg.extend_from_slice(&quoted);
        let (q, _) = icmp_error_quoted(true, &msg).expect("quote found");
        let direct = classify_raw(&ipv6_packet(6, a, b, &tcp));
        assert_eq!(
            FlowKey::from_tuple(7, VlanIds::EMPTY, &q).0,
            *direct.routing_key()
        );
        // Suricata looks up no quoted flow for ICMPv6: the error is a
        // one-way ICMPv6 flow of its own type.
        let err = classify_raw(&ipv6_packet(58, r, a, &msg));
        let PacketKey::Flow { key, .. } = err else {
            panic!("own flow: {err:?}")
        };
        assert_eq!(
            (key.proto, key.icmp, key.lo.port, key.hi.port),
            (58, 1, 0, 0)
        );
    }

    #[test]
    fn icmp_error_quote_is_bounds_checked() {
        let udp = [0x15, 0xb3, 0, 53, 0, 12, 0, 0];
        let quoted = ipv4_packet(17, [10, 0, 0, 1], [10, 0, 0, 9], &udp);
        let mut msg = vec![3, 3, 0, 0, 0, 0, 0, 0];
        msg.extend_from_slice(&quoted);
        // Every truncation of the message: never panics; the quote is
        // found only once the ports are there.
        for n in 0..=msg.len() {
            let r = icmp_error_quoted(false, &msg[..n]);
            assert_eq!(r.is_some(), n >= 8 + 24, "len {n}");
        }
        // Garbage after the ICMP header.
        for n in 0..64 {
            let junk: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let mut m = vec![3, 1, 0, 0, 0, 0, 0, 0];
            m.extend_from_slice(&junk);
            let _ = icmp_error_quoted(false, &m);
            let mut m6 = vec![1, 0, 0, 0, 0, 0, 0, 0, 0x60];
            m6.extend_from_slice(&junk);
            let _ = icmp_error_quoted(true, &m6);
        }
        // Not an error type.
        assert!(icmp_error_quoted(false, &icmp_echo(8, 1, 1)).is_none());
        // A non-first quoted fragment has no ports.
        let mut frag = quoted.clone();
        frag[6] = 0;
        frag[7] = 8;
        let mut m = vec![3, 3, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&frag);
        assert!(icmp_error_quoted(false, &m).is_none());
    }

    #[test]
    fn unusable_icmpv4_error_is_flowless() {
        // Suricata creates no flow for an ICMPv4 error, and inspects it.
        let msg = [3, 1, 0, 0, 0, 0, 0, 0, 0x45];
        let frame = ipv4_packet(1, [192, 0, 2, 1], [10, 0, 0, 1], &msg);
        assert!(matches!(classify_raw(&frame), PacketKey::Flowless { .. }));
    }

    #[test]
    fn ordering_is_total_and_run_independent() {
        let (a, _) = FlowKey::new(
            1,
            VlanIds::EMPTY,
            6,
            0,
            ep("10.0.0.1", 1),
            ep("10.0.0.2", 2),
        );
        let (b, _) = FlowKey::new(
            1,
            VlanIds::EMPTY,
            6,
            0,
            ep("10.0.0.1", 1),
            ep("10.0.0.3", 2),
        );
        let (c, _) = FlowKey::new(
            0,
            VlanIds::EMPTY,
            17,
            0,
            ep("10.0.0.9", 1),
            ep("10.0.0.9", 2),
        );
        let mut v = vec![b, a, c];
        v.sort();
        assert_eq!(v, vec![c, a, b]);
    }
}
