//! Community ID v1 (<https://github.com/corelight/community-id-spec>): a
//! flow hash that Suricata, Zeek and Arkime agree on, so records of one flow
//! can be joined across tools.
//!
//! The hashed bytes, in network byte order:
//! `seed(2) . saddr(4|16) . daddr(4|16) . proto(1) . 0x00(1) . sport(2) . dport(2)`,
//! with the endpoints ordered so that the smaller `(addr, port)` comes first,
//! ports only for TCP, UDP, SCTP, ICMP and ICMPv6 (where the ICMP type and
//! its counterpart type, or the code for one-way types, stand in for them).
//! SHA-1 of those bytes, base64, prefixed with `"1:"`.
//!
//! Nothing here allocates: the result is a [`CommunityId`], a 30-byte inline
//! string.

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// IP protocol numbers with ports in Community ID terms.
const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;
const PROTO_SCTP: u8 = 132;

/// The length of a v1 Community ID: `"1:"` plus 28 base64 characters.
pub const LEN: usize = 30;

/// A Community ID v1 string, held inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommunityId([u8; LEN]);

impl CommunityId {
    /// The id as text, e.g. `1:wCb3OG7yAFWelaUydu0D+125CLM=`.
    pub fn as_str(&self) -> &str {
        // Only ASCII ("1:" and the base64 alphabet) is ever written.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The id as bytes.
    pub fn as_bytes(&self) -> &[u8; LEN] {
        &self.0
    }
}

impl fmt::Display for CommunityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CommunityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommunityId({})", self.as_str())
    }
}

impl AsRef<str> for CommunityId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// ICMPv4 types with a counterpart (spec: echo, timestamp, info, router
/// solicitation/advertisement, address mask), as pycommunityid and Zeek.
fn icmpv4_counterpart(t: u8) -> Option<u8> {
    Some(match t {
        8 => 0,   // echo -> echo reply
        0 => 8,   // echo reply -> echo
        13 => 14, // timestamp -> timestamp reply
        14 => 13,
        15 => 16, // information request -> reply
        16 => 15,
        10 => 9, // router solicitation -> router advertisement
        9 => 10,
        17 => 18, // address mask request -> reply
        18 => 17,
        _ => return None,
    })
}

/// ICMPv6 counterparts (spec: echo, MLD, ND, WRU (node information), home
/// agent address discovery 144/145).
fn icmpv6_counterpart(t: u8) -> Option<u8> {
    Some(match t {
        128 => 129, // echo request -> reply
        129 => 128,
        133 => 134, // router solicitation -> advertisement
        134 => 133,
        135 => 136, // neighbor solicitation -> advertisement
        136 => 135,
        130 => 131, // multicast listener query -> report
        131 => 130,
        139 => 140, // WRU (node information) request -> reply
        140 => 139,
        144 => 145, // home agent address discovery request -> reply
        145 => 144,
        _ => return None,
    })
}

/// The ICMP/ICMPv6 port equivalents of the spec: `(sport, dport, one_way)`.
/// Two-way types use (type, counterpart type); one-way types use
/// (type, code) and are not reordered.
pub fn icmp_ports(proto: u8, icmp_type: u8, icmp_code: u8) -> (u16, u16, bool) {
    let counterpart = if proto == PROTO_ICMPV6 {
        icmpv6_counterpart(icmp_type)
    } else {
        icmpv4_counterpart(icmp_type)
    };
    match counterpart {
        Some(c) => (u16::from(icmp_type), u16::from(c), false),
        None => (u16::from(icmp_type), u16::from(icmp_code), true),
    }
}

/// Whether `proto` carries ports in the hash input.
fn has_ports(proto: u8) -> bool {
    matches!(
        proto,
        PROTO_TCP | PROTO_UDP | PROTO_SCTP | PROTO_ICMP | PROTO_ICMPV6
    )
}

fn addr_bytes(a: &IpAddr, buf: &mut [u8; 16]) -> usize {
    match a {
        IpAddr::V4(v4) => {
            buf[..4].copy_from_slice(&v4.octets());
            4
        }
        IpAddr::V6(v6) => {
            *buf = v6.octets();
            16
        }
    }
}

/// Community ID v1 of a flow given in packet (or flow) direction.
///
/// `sport`/`dport` are the transport ports; for ICMP (proto 1) and ICMPv6
/// (58) pass the ICMP type as `sport` and the code as `dport`: the
/// type/counterpart mapping of the spec is applied here. For protocols
/// without ports the ports are ignored. `src` and `dst` of different
/// families are hashed as given (the spec does not define that case).
pub fn community_id_v1(
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    sport: u16,
    dport: u16,
) -> CommunityId {
    let mut sa = [0u8; 16];
    let mut da = [0u8; 16];
    let sl = addr_bytes(&src, &mut sa);
    let dl = addr_bytes(&dst, &mut da);

    let (mut sp, mut dp, one_way) = if proto == PROTO_ICMP || proto == PROTO_ICMPV6 {
        // Type and code arrive in the 16-bit slots.
        icmp_ports(proto, sport as u8, dport as u8)
    } else {
        (sport, dport, false)
    };
    let ports = has_ports(proto);
    if !ports {
        sp = 0;
        dp = 0;
    }

    // Order: the smaller (addr, port) first. One-way ICMP messages are
    // not reordered at all (pycommunityid, community-id.py).
    let (s, d) = (&sa[..sl], &da[..dl]);
    let swap = !one_way && (s, sp) > (d, dp);
    let (a1, a2, p1, p2) = if swap { (d, s, dp, sp) } else { (s, d, sp, dp) };

    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    h.update(a1);
    h.update(a2);
    h.update([proto, 0]);
    if ports {
        h.update(p1.to_be_bytes());
        h.update(p2.to_be_bytes());
    }
    let digest: [u8; 20] = h.finalize().into();

    let mut out = [0u8; LEN];
    out[0] = b'1';
    out[1] = b':';
    // 20 bytes -> exactly 28 base64 characters with padding.
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(digest, &mut out[2..])
        .unwrap_or(0);
    debug_assert_eq!(n, LEN - 2);
    CommunityId(out)
}

/// Writes the Community ID into `buf` and returns the written part, for
/// callers that already hold an output buffer.
pub fn write_community_id_v1(
    buf: &mut [u8; LEN],
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    sport: u16,
    dport: u16,
) -> &str {
    *buf = community_id_v1(seed, src, dst, proto, sport, dport).0;
    std::str::from_utf8(buf).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(a: [u8; 4]) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(a))
    }

    #[test]
    fn spec_tcp_vector_both_directions() {
        let a = v4([1, 2, 3, 4]);
        let b = v4([5, 6, 7, 8]);
        let want = "1:wCb3OG7yAFWelaUydu0D+125CLM=";
        assert_eq!(community_id_v1(0, a, b, 6, 1122, 3344).as_str(), want);
        assert_eq!(community_id_v1(0, b, a, 6, 3344, 1122).as_str(), want);
    }

    #[test]
    fn spec_udp_vector() {
        let a = v4([1, 2, 3, 4]);
        let b = v4([5, 6, 7, 8]);
        let want = "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=";
        assert_eq!(community_id_v1(0, a, b, 17, 1122, 3344).as_str(), want);
        assert_eq!(community_id_v1(0, b, a, 17, 3344, 1122).as_str(), want);
    }

    /// Every record of the spec's `baseline/baseline_deflt.json` (seed 0).
    /// The file gives ICMP "ports" as port equivalents; here they are
    /// passed as (type, code): two-way types carry code 0.
    #[test]
    fn spec_baseline_default_seed() {
        #[rustfmt::skip]
        let cases: &[(u8, &str, &str, u16, u16, &str)] = &[
            (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
            (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
            (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 0, "1:zavyT/cezQr1fmImYCwYnMXbgck="),
            (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 0, "1:zavyT/cezQr1fmImYCwYnMXbgck="),
            (58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="),
            (58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, "1:hLZd0XGWojozrvxqE0dWB1iM6R0="),
            (58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 0, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="),
            (58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 0, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="),
            (58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="),
            (58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0, "1:pkvHqCL88/tg1k4cPigmZXUtL00="),
            (1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
            (1, "192.168.0.1", "192.168.0.89", 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
            (1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="),
            (6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
            (6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
            (132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
            (132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
            (6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
            (6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
            (17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
            (17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
            (46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="),
            (46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="),
        ];
        for &(proto, s, d, sp, dp, want) in cases {
            let s: IpAddr = s.parse().unwrap();
            let d: IpAddr = d.parse().unwrap();
            let got = community_id_v1(0, s, d, proto, sp, dp);
            assert_eq!(got.as_str(), want, "{proto} {s} {d} {sp} {dp}");
        }
    }

    #[test]
    fn suricata_docs_vector() {
        let a = v4([128, 232, 110, 120]);
        let b = v4([66, 35, 250, 204]);
        let want = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
        assert_eq!(community_id_v1(0, a, b, 6, 34855, 80).as_str(), want);
        assert_eq!(community_id_v1(0, b, a, 6, 80, 34855).as_str(), want);
    }

    #[test]
    fn hashed_bytes_match_the_documented_layout() {
        // anchors.md: `0000 01020304 05060708 06 00 0462 0d10`.
        let bytes = [0u8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 6, 0, 0x04, 0x62, 0x0d, 0x10];
        let digest: [u8; 20] = Sha1::digest(bytes).into();
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        let id = community_id_v1(0, v4([1, 2, 3, 4]), v4([5, 6, 7, 8]), 6, 1122, 3344);
        assert_eq!(id.as_str(), format!("1:{b64}"));
        assert_eq!(id.as_str().len(), LEN);
    }

    #[test]
    fn seed_changes_the_id() {
        let a = v4([1, 2, 3, 4]);
        let b = v4([5, 6, 7, 8]);
        let s0 = community_id_v1(0, a, b, 6, 1122, 3344);
        let s1 = community_id_v1(1, a, b, 6, 1122, 3344);
        assert_ne!(s0, s1);
        assert_eq!(s1, community_id_v1(1, b, a, 6, 3344, 1122));
    }

    #[test]
    fn icmp_echo_and_reply_are_one_flow() {
        let a = v4([192, 168, 0, 1]);
        let b = v4([192, 168, 0, 2]);
        let req = community_id_v1(0, a, b, 1, 8, 0);
        let rep = community_id_v1(0, b, a, 1, 0, 0);
        assert_eq!(req, rep);
        // The same as hashing with ports (8, 0) ordered by address.
        let mut h = Sha1::new();
        h.update([0, 0, 192, 168, 0, 1, 192, 168, 0, 2, 1, 0, 0, 8, 0, 0]);
        let d: [u8; 20] = h.finalize().into();
        let want = format!("1:{}", base64::engine::general_purpose::STANDARD.encode(d));
        assert_eq!(req.as_str(), want);
        // Timestamp request/reply and mask request/reply too.
        assert_eq!(
            community_id_v1(0, a, b, 1, 13, 0),
            community_id_v1(0, b, a, 1, 14, 0)
        );
        assert_eq!(
            community_id_v1(0, a, b, 1, 17, 0),
            community_id_v1(0, b, a, 1, 18, 0)
        );
    }

    #[test]
    fn icmp_one_way_types_use_type_and_code() {
        assert_eq!(icmp_ports(1, 3, 1), (3, 1, true));
        assert_eq!(icmp_ports(1, 11, 0), (11, 0, true));
        assert_eq!(icmp_ports(1, 8, 0), (8, 0, false));
        assert_eq!(icmp_ports(58, 1, 4), (1, 4, true));
        assert_eq!(icmp_ports(58, 135, 0), (135, 136, false));
        assert_eq!(icmp_ports(58, 144, 0), (144, 145, false));
        // A one-way message is hashed as (type, code) in packet order,
        // even when the destination is the smaller address.
        let a = v4([10, 0, 0, 2]);
        let b = v4([10, 0, 0, 1]);
        let mut h = Sha1::new();
        h.update([0, 0, 10, 0, 0, 2, 10, 0, 0, 1, 1, 0, 0, 3, 0, 1]);
        let d: [u8; 20] = h.finalize().into();
        let want = format!("1:{}", base64::engine::general_purpose::STANDARD.encode(d));
        assert_eq!(community_id_v1(0, a, b, 1, 3, 1).as_str(), want);
        // Destination unreachable from the other side is another flow
        // than the ICMP echo between the same hosts.
        assert_ne!(
            community_id_v1(0, a, b, 1, 3, 1),
            community_id_v1(0, a, b, 1, 8, 0)
        );
    }

    #[test]
    fn ipv6_tcp_and_icmpv6() {
        let a: IpAddr = "fe80::200:86ff:fe05:80da"
            .parse::<Ipv6Addr>()
            .unwrap()
            .into();
        let b: IpAddr = "fe80::260:97ff:fe07:69ea"
            .parse::<Ipv6Addr>()
            .unwrap()
            .into();
        let x = community_id_v1(0, a, b, 6, 1024, 22);
        assert_eq!(x, community_id_v1(0, b, a, 6, 22, 1024));
        // Hash input layout for IPv6: 2 + 16 + 16 + 2 + 4 bytes.
        let mut h = Sha1::new();
        h.update([0, 0]);
        h.update(a.to_string().parse::<Ipv6Addr>().unwrap().octets());
        h.update(b.to_string().parse::<Ipv6Addr>().unwrap().octets());
        h.update([6, 0, 0x04, 0x00, 0x00, 0x16]);
        let d: [u8; 20] = h.finalize().into();
        let want = format!("1:{}", base64::engine::general_purpose::STANDARD.encode(d));
        assert_eq!(x.as_str(), want);
        // ICMPv6 echo request/reply and neighbour solicitation/advertisement.
        assert_eq!(
            community_id_v1(0, a, b, 58, 128, 0),
            community_id_v1(0, b, a, 58, 129, 0)
        );
        assert_eq!(
            community_id_v1(0, a, b, 58, 135, 0),
            community_id_v1(0, b, a, 58, 136, 0)
        );
    }

    #[test]
    fn protocols_without_ports_ignore_them() {
        let a = v4([1, 2, 3, 4]);
        let b = v4([5, 6, 7, 8]);
        let gre = community_id_v1(0, a, b, 47, 1, 2);
        assert_eq!(gre, community_id_v1(0, b, a, 47, 0, 0));
        let mut h = Sha1::new();
        h.update([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 47, 0]);
        let d: [u8; 20] = h.finalize().into();
        let want = format!("1:{}", base64::engine::general_purpose::STANDARD.encode(d));
        assert_eq!(gre.as_str(), want);
    }

    #[test]
    fn writes_into_a_caller_buffer() {
        let mut buf = [0u8; LEN];
        let s = write_community_id_v1(
            &mut buf,
            0,
            v4([1, 2, 3, 4]),
            v4([5, 6, 7, 8]),
            6,
            1122,
            3344,
        );
        assert_eq!(s, "1:wCb3OG7yAFWelaUydu0D+125CLM=");
    }
}
