//! The pcap linktypes: where the first network-layer header starts.
//!
//! These link headers are tiny and etherparse has no type for most of them
//! (it knows Ethernet and SLL only), so they are read here directly.

use super::{Done, Next, Step, be16, be32, ether, rest};
use crate::events::InvalidReason;
use crate::linktype;
use crate::packet::Network;

/// BSD `AF_INET`.
const AF_INET: u32 = 2;
/// The BSD `AF_INET6` values: NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30.
const AF_INET6: [u32; 3] = [24, 28, 30];

/// The first step for a frame of `lt`.
pub(super) fn start(lt: u32, frame: &[u8]) -> Step<'_> {
    match lt {
        linktype::ETHERNET => Ok(Next::Ethernet(frame)),
        linktype::RAW => match frame.first().map(|b| b >> 4) {
            Some(4) => Ok(Next::Ipv4(frame)),
            Some(6) => Ok(Next::Ipv6(frame)),
            _ => Err(InvalidReason::IprawInvalidIpVersion),
        },
        linktype::IPV4 => Ok(Next::Ipv4(frame)),
        linktype::IPV6 => Ok(Next::Ipv6(frame)),
        linktype::NULL => {
            let af = be32(frame, 0).ok_or(InvalidReason::NullPktTooSmall)?;
            // Host byte order of the capturing machine: accept either.
            null_af(af, rest(frame, 4)).or_else(|_| null_af(af.swap_bytes(), rest(frame, 4)))
        }
        linktype::LOOP => {
            let af = be32(frame, 0).ok_or(InvalidReason::NullPktTooSmall)?;
            null_af(af, rest(frame, 4))
        }
        linktype::PPP => ppp(frame),
        linktype::C_HDLC => {
            // address, control, protocol (an EtherType).
            let proto = be16(frame, 2).ok_or(InvalidReason::ChdlcPktTooSmall)?;
            Ok(chdlc(proto, rest(frame, 4)))
        }
        linktype::LINUX_SLL => {
            // packet type, ARPHRD, address length, address (8), protocol.
            let proto = be16(frame, 14).ok_or(InvalidReason::SllPktTooSmall)?;
            Ok(Next::EtherType(proto, rest(frame, 16)))
        }
        linktype::LINUX_SLL2 => {
            // protocol, reserved, ifindex, ARPHRD, packet type, address
            // length, address (8).
            let proto = be16(frame, 0).ok_or(InvalidReason::Sll2PktTooSmall)?;
            if frame.len() < 20 {
                return Err(InvalidReason::Sll2PktTooSmall);
            }
            Ok(Next::EtherType(proto, rest(frame, 20)))
        }
        _ => Err(InvalidReason::LinktypeUnsupported),
    }
}

fn null_af(af: u32, payload: &[u8]) -> Step<'_> {
    if af == AF_INET {
        Ok(Next::Ipv4(payload))
    } else if AF_INET6.contains(&af) {
        Ok(Next::Ipv6(payload))
    } else {
        Err(InvalidReason::NullUnsupportedType)
    }
}

/// Cisco HDLC: the protocol is an EtherType; SLARP, CDP and the like are
/// well-formed but not inspected.
fn chdlc(proto: u16, payload: &[u8]) -> Next<'_> {
    match proto {
        ether::IPV4 | ether::IPV6 => Next::EtherType(proto, payload),
        _ => Next::Done(Done::network(Network::Other { ethertype: proto })),
    }
}

/// PPP (RFC 1661), with or without the 0xff 0x03 address and control bytes
/// (as the linktype and GRE carry it).
pub(super) fn ppp(frame: &[u8]) -> Step<'_> {
    let body = match frame {
        [0xff, 0x03, ..] => rest(frame, 2),
        _ => frame,
    };
    ppp_body(
        body,
        InvalidReason::PppPktTooSmall,
        InvalidReason::PppUnsupProto,
    )
}

/// A PPP protocol field (one byte when compressed: an odd first byte, RFC
/// 1661 §6.5) and what follows.
pub(super) fn ppp_body(
    body: &[u8],
    too_small: InvalidReason,
    unsupported: InvalidReason,
) -> Step<'_> {
    let first = *body.first().ok_or(too_small)?;
    let (proto, payload) = if first & 1 == 1 {
        (u16::from(first), rest(body, 1))
    } else {
        (be16(body, 0).ok_or(too_small)?, rest(body, 2))
    };
    ppp_proto(proto, payload, unsupported)
}

/// PPP protocol numbers: IPv4 and IPv6 are decoded; control protocols
/// (0x8000 and up: LCP, IPCP, PAP, CHAP, ...) are well-formed but not
/// inspected; any other data protocol gives `unsupported`.
fn ppp_proto(proto: u16, payload: &[u8], unsupported: InvalidReason) -> Step<'_> {
    match proto {
        0x0021 => Ok(Next::Ipv4(payload)),
        0x0057 => Ok(Next::Ipv6(payload)),
        p if p >= 0x8000 => Ok(Next::Done(Done::network(Network::Other { ethertype: p }))),
        _ => Err(unsupported),
    }
}
