//! Ethernet and what an EtherType can lead to: VLAN tags, VN-Tag, MPLS,
//! PPPoE, ARP, IP.
//!
//! Hand-written: etherparse's `LaxSlicedPacket` would walk these, but it
//! stops at its own fixed set (no VN-Tag, no MPLS pseudowire guess, no
//! PPPoE, no tunnels) and reports errors in its own terms; the headers are
//! a few fixed-size fields, so reading them here is shorter than mapping.

use super::{Ctx, Done, Next, Step, be16, link, rest};
use crate::events::{DecodeEvent, InvalidReason};
use crate::packet::Network;

pub(super) const IPV4: u16 = 0x0800;
pub(super) const ARP: u16 = 0x0806;
pub(super) const TEB: u16 = 0x6558;
pub(super) const RARP: u16 = 0x8035;
pub(super) const VLAN: u16 = 0x8100;
pub(super) const IPV6: u16 = 0x86dd;
pub(super) const MPLS_UC: u16 = 0x8847;
pub(super) const MPLS_MC: u16 = 0x8848;
pub(super) const PPPOE_DISC: u16 = 0x8863;
pub(super) const PPPOE_SESS: u16 = 0x8864;
pub(super) const QINQ: u16 = 0x88a8;
pub(super) const VNTAG: u16 = 0x8926;
pub(super) const QINQ_OLD: u16 = 0x9100;

/// Ethernet II header layout.
mod field {
    use std::ops::Range;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const HEADER_LEN: usize = ETHERTYPE.end;
}

/// An Ethernet header starts at `b`: a new link-layer frame.
#[inline]
pub(super) fn ethernet<'a>(ctx: &mut Ctx<'a, '_>, b: &'a [u8]) -> Step<'a> {
    let et = be16(b, field::ETHERTYPE.start).ok_or(InvalidReason::EthernetPktTooSmall)?;
    ctx.frame = b;
    ctx.vlan = crate::packet::VlanIds::EMPTY;
    if let Some(v) = ctx.erspan_vlan.take() {
        ctx.vlan.push(v);
    }
    if ctx.vxlan_payload {
        ctx.vxlan_payload = false;
        // What Suricata's VXLAN decoder accepts (plus MPLS, PPPoE session
        // and VN-Tag, which our EtherType dispatch decodes).
        if !matches!(
            et,
            IPV4 | IPV6 | ARP | VLAN | QINQ | QINQ_OLD | MPLS_UC | MPLS_MC | PPPOE_SESS | VNTAG
        ) {
            return Err(InvalidReason::VxlanUnknownPayloadType);
        }
    }
    Ok(Next::EtherType(et, rest(b, field::HEADER_LEN)))
}

/// The payload `b` of EtherType `et`.
#[inline]
pub(super) fn ethertype<'a>(ctx: &mut Ctx<'a, '_>, et: u16, b: &'a [u8]) -> Step<'a> {
    match et {
        IPV4 => Ok(Next::Ipv4(b)),
        IPV6 => Ok(Next::Ipv6(b)),
        VLAN | QINQ | QINQ_OLD => {
            // TCI, then the next EtherType.
            let tci = be16(b, 0).ok_or(InvalidReason::VlanHeaderTooSmall)?;
            let next = be16(b, 2).ok_or(InvalidReason::VlanHeaderTooSmall)?;
            if !ctx.vlan.push(tci & 0x0fff) {
                return Err(InvalidReason::VlanTooManyLayers);
            }
            Ok(Next::EtherType(next, rest(b, 4)))
        }
        VNTAG => {
            // 4 bytes of tag, then the next EtherType.
            let next = be16(b, 4).ok_or(InvalidReason::VntagHeaderTooSmall)?;
            Ok(Next::EtherType(next, rest(b, 6)))
        }
        ARP | RARP => arp(b),
        MPLS_UC | MPLS_MC => mpls(b),
        PPPOE_SESS => {
            // ver/type, code, session id, length; then the PPP protocol.
            if b.len() < 6 {
                return Err(InvalidReason::PppoePktTooSmall);
            }
            let ppp = link::ppp_body(
                rest(b, 6),
                InvalidReason::PppoePktTooSmall,
                InvalidReason::PppoeWrongCode,
            )?;
            match ppp {
                // A control protocol: report the PPPoE session EtherType.
                Next::Done(_) => Ok(Next::Done(Done::network(Network::Other { ethertype: et }))),
                next => Ok(next),
            }
        }
        PPPOE_DISC => {
            if b.len() < 6 {
                return Err(InvalidReason::PppoePktTooSmall);
            }
            Ok(Next::Done(Done::network(Network::Other { ethertype: et })))
        }
        _ => {
            // Below 0x0600 it is an 802.3 length (LLC follows): well-formed.
            if et >= 0x0600 {
                ctx.event(DecodeEvent::EthernetUnknownEthertype);
            }
            Ok(Next::Done(Done::network(Network::Other { ethertype: et })))
        }
    }
}

/// ARP/RARP: the fixed 8 bytes must be there; the body is trimmed to the
/// declared addresses when they were captured (dropping Ethernet padding).
fn arp(b: &[u8]) -> Step<'_> {
    let fixed: &[u8; 8] = b.first_chunk().ok_or(InvalidReason::ArpPktTooSmall)?;
    let (hlen, plen) = (usize::from(fixed[4]), usize::from(fixed[5]));
    let len = 8 + 2 * (hlen + plen);
    let body = b.get(..len).unwrap_or(b);
    Ok(Next::Done(Done::network(Network::Arp { body })))
}

/// MPLS: labels to the bottom of the stack, then the payload by the label
/// (0 IPv4 explicit null, 2 IPv6 explicit null) or by its first nibble, as
/// Suricata guesses: 4 IPv4, 6 IPv6, 0 an Ethernet pseudowire behind a
/// 4-byte control word.
fn mpls(mut b: &[u8]) -> Step<'_> {
    let label = loop {
        let shim = super::be32(b, 0).ok_or(InvalidReason::MplsHeaderTooSmall)?;
        b = rest(b, 4);
        if shim & 0x100 != 0 {
            break shim >> 12;
        }
    };
    match label {
        0 => return Ok(Next::Ipv4(b)),
        2 => return Ok(Next::Ipv6(b)),
        _ => {}
    }
    match b.first().map(|v| v >> 4) {
        Some(4) => Ok(Next::Ipv4(b)),
        Some(6) => Ok(Next::Ipv6(b)),
        Some(0) => {
            let eth = b.get(4..).ok_or(InvalidReason::MplsHeaderTooSmall)?;
            Ok(Next::Ethernet(eth))
        }
        _ => Err(InvalidReason::MplsUnknownPayloadType),
    }
}
