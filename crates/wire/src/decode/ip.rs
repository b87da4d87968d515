//! IPv4 and IPv6 (with extension headers), and the dispatch on the IP
//! protocol: IP-in-IP, GRE and UDP tunnels, or the transport layer.
//!
//! Hand-written rather than etherparse's `Ipv4HeaderSlice` /
//! `Ipv6ExtensionsSlice`: we decode laxly (a total length beyond the
//! captured bytes is truncation, not an error; an IPv4 total length of 0
//! is TSO), need Suricata's error classes, and read only the few fields we
//! keep, which is a handful of bounds checks on the hot path.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Ctx, Next, Step, be16, be32, options_ok, rest, transport, tunnel};
use crate::events::{DecodeEvent, InvalidReason};
use crate::packet::{Fragment, Network};

pub(super) const PROTO_ICMP: u8 = 1;
pub(super) const PROTO_IPIP: u8 = 4;
pub(super) const PROTO_TCP: u8 = 6;
pub(super) const PROTO_UDP: u8 = 17;
pub(super) const PROTO_IPV6: u8 = 41;
pub(super) const PROTO_GRE: u8 = 47;
pub(super) const PROTO_ICMPV6: u8 = 58;

/// IPv6 extension headers walked before giving up (RFC 8200 allows each
/// once, the destination options twice).
const MAX_IPV6_EXT: usize = 8;

/// IPv4 header layout (RFC 791).
mod v4 {
    use std::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOTAL_LEN: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLAGS_FRAG: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const SRC: Range<usize> = 12..16;
    pub const DST: Range<usize> = 16..20;
    pub const HEADER_LEN: usize = DST.end;
}

/// IPv6 fixed header layout (RFC 8200).
mod v6 {
    use std::ops::Range;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: Range<usize> = 8..24;
    pub const DST: Range<usize> = 24..40;
    pub const HEADER_LEN: usize = DST.end;
}

/// The pseudo-header inputs of an L4 checksum.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pseudo<'a> {
    V4 {
        src: &'a [u8; 4],
        dst: &'a [u8; 4],
        /// The IPv4 header, for its own checksum.
        header: &'a [u8],
    },
    V6 {
        src: &'a [u8; 16],
        dst: &'a [u8; 16],
    },
}

/// What the IP layer hands to the layer above.
#[derive(Debug, Clone, Copy)]
pub(super) struct L4<'a> {
    /// The protocol (after IPv6 extension headers).
    pub proto: u8,
    /// The IP payload as captured, without link-layer padding.
    pub data: &'a [u8],
    /// The payload length the IP header declares.
    pub declared: usize,
    pub fragment: Option<Fragment>,
    pub pseudo: Pseudo<'a>,
}

fn arr<const N: usize>(b: &[u8], at: usize) -> Option<&[u8; N]> {
    b.get(at..)?.first_chunk()
}

/// An IPv4 header starts at `b`.
#[inline(never)]
pub(super) fn ipv4<'a>(ctx: &mut Ctx<'a, '_>, b: &'a [u8]) -> Step<'a> {
    let h: &[u8; v4::HEADER_LEN] = b.first_chunk().ok_or(InvalidReason::Ipv4PktTooSmall)?;
    if h[v4::VER_IHL] >> 4 != 4 {
        return Err(InvalidReason::Ipv4WrongIpVersion);
    }
    let src: &[u8; 4] = arr(h, v4::SRC.start).ok_or(InvalidReason::Ipv4PktTooSmall)?;
    let dst: &[u8; 4] = arr(h, v4::DST.start).ok_or(InvalidReason::Ipv4PktTooSmall)?;
    let proto = h[v4::PROTOCOL];
    ctx.addrs = Some((
        IpAddr::V4(Ipv4Addr::from(*src)),
        IpAddr::V4(Ipv4Addr::from(*dst)),
    ));
    ctx.proto = Some(proto);
    let ihl = usize::from(h[v4::VER_IHL] & 0x0f) * 4;
    if ihl < v4::HEADER_LEN {
        return Err(InvalidReason::Ipv4HlenTooSmall);
    }
    let total_len = be16(h, v4::TOTAL_LEN.start).unwrap_or(0);
    let total = usize::from(total_len);
    if total != 0 && total < ihl {
        return Err(InvalidReason::Ipv4IplenSmallerThanHlen);
    }
    let header = b.get(..ihl).ok_or(InvalidReason::Ipv4TruncPkt)?;
    // A total length of 0 is a TSO/GSO capture: the packet is what was
    // captured.
    let end = if total == 0 {
        b.len()
    } else if total > b.len() {
        ctx.truncated = true;
        b.len()
    } else {
        total
    };
    let data = b.get(ihl..end).unwrap_or(&[]);
    let declared = if total == 0 { data.len() } else { total - ihl };
    if ihl > v4::HEADER_LEN && !options_ok(rest(header, v4::HEADER_LEN)) {
        ctx.event(DecodeEvent::Ipv4OptMalformed);
    }
    let flags_frag = be16(h, v4::FLAGS_FRAG.start).unwrap_or(0);
    let more = flags_frag & 0x2000 != 0;
    let offset = u32::from(flags_frag & 0x1fff) * 8;
    let fragment = (more || offset != 0).then(|| Fragment {
        id: u32::from(be16(h, v4::IDENT.start).unwrap_or(0)),
        offset,
        more,
    });
    let network = Network::Ipv4 {
        src: Ipv4Addr::from(*src),
        dst: Ipv4Addr::from(*dst),
        proto,
        ttl: h[v4::TTL],
        total_len,
        header,
        fragment,
    };
    let l4 = L4 {
        proto,
        data,
        declared,
        fragment,
        pseudo: Pseudo::V4 { src, dst, header },
    };
    upper(ctx, network, l4)
}

/// An IPv6 header starts at `b`.
#[inline(never)]
pub(super) fn ipv6<'a>(ctx: &mut Ctx<'a, '_>, b: &'a [u8]) -> Step<'a> {
    let h: &[u8; v6::HEADER_LEN] = b.first_chunk().ok_or(InvalidReason::Ipv6PktTooSmall)?;
    if h[0] >> 4 != 6 {
        return Err(InvalidReason::Ipv6WrongIpVersion);
    }
    let src: &[u8; 16] = arr(h, v6::SRC.start).ok_or(InvalidReason::Ipv6PktTooSmall)?;
    let dst: &[u8; 16] = arr(h, v6::DST.start).ok_or(InvalidReason::Ipv6PktTooSmall)?;
    ctx.addrs = Some((
        IpAddr::V6(Ipv6Addr::from(*src)),
        IpAddr::V6(Ipv6Addr::from(*dst)),
    ));
    let payload_len = be16(h, v6::PAYLOAD_LEN.start).unwrap_or(0);
    let pl = usize::from(payload_len);
    let after = rest(b, v6::HEADER_LEN);
    // A payload length of 0 is a jumbogram or a GSO capture: the packet is
    // what was captured.
    let (all, declared) = if pl == 0 {
        (after, after.len())
    } else if pl > after.len() {
        ctx.truncated = true;
        (after, pl)
    } else {
        (after.get(..pl).unwrap_or(after), pl)
    };

    // Walk the extension headers.
    let mut next = h[v6::NEXT_HEADER];
    let mut off = 0usize;
    let mut fragment = None;
    let mut cut = false;
    for _ in 0..MAX_IPV6_EXT {
        let len = match next {
            // Hop-by-hop, routing, destination options: (len + 1) * 8.
            0 | 43 | 60 => all.get(off + 1).map(|&l| (usize::from(l) + 1) * 8),
            // Fragment: 8 bytes.
            44 => Some(8),
            // AH: (len + 2) * 4.
            51 => all.get(off + 1).map(|&l| (usize::from(l) + 2) * 4),
            _ => break,
        };
        let Some(ext) = len.and_then(|len| all.get(off..off + len)) else {
            cut = true;
            break;
        };
        let mut later_fragment = false;
        if next == 44 {
            let fo = be16(ext, 2).unwrap_or(0);
            let f = Fragment {
                id: be32(ext, 4).unwrap_or(0),
                offset: u32::from(fo & 0xfff8),
                more: fo & 1 != 0,
            };
            later_fragment = f.offset != 0;
            fragment = Some(f);
        }
        next = ext.first().copied().unwrap_or(59);
        off += ext.len();
        if later_fragment {
            // What follows a non-first fragment's header is fragment data,
            // even when the next-header value names an extension header.
            break;
        }
    }
    let later_fragment = fragment.is_some_and(|f| f.offset != 0);
    let complete = later_fragment || (!cut && !matches!(next, 0 | 43 | 44 | 51 | 60));
    ctx.proto = Some(next);
    let header = b.get(..v6::HEADER_LEN + off).unwrap_or(h);
    let network = Network::Ipv6 {
        src: Ipv6Addr::from(*src),
        dst: Ipv6Addr::from(*dst),
        proto: next,
        hop_limit: h[v6::HOP_LIMIT],
        payload_len,
        header,
        fragment,
    };
    let data = rest(all, off);
    if !complete {
        // An extension header cut off by truncation, malformed (overrunning
        // the payload length) or beyond the cap.
        if !(cut && ctx.truncated) {
            ctx.event(DecodeEvent::Ipv6ExthdrInvalid);
        }
        return Ok(transport::raw(ctx, network, data, None));
    }
    let l4 = L4 {
        proto: next,
        data,
        declared: declared.saturating_sub(off),
        fragment,
        pseudo: Pseudo::V6 { src, dst },
    };
    upper(ctx, network, l4)
}

/// The layer above IP: a tunnel, or the transport layer.
fn upper<'a>(ctx: &mut Ctx<'a, '_>, network: Network<'a>, l4: L4<'a>) -> Step<'a> {
    if let Some(f) = l4.fragment {
        // Tunnels are not decoded from fragments: only reassembly could.
        if f.offset != 0 {
            return Ok(transport::raw(ctx, network, l4.data, Some(l4.pseudo)));
        }
        return Ok(transport::transport(ctx, network, l4));
    }
    match l4.proto {
        PROTO_IPIP => {
            ctx.enter_tunnel(l4.data)?;
            Ok(Next::Ipv4(l4.data))
        }
        PROTO_IPV6 => {
            ctx.enter_tunnel(l4.data)?;
            Ok(Next::Ipv6(l4.data))
        }
        PROTO_GRE => tunnel::gre(ctx, l4.data),
        PROTO_UDP => {
            if let Some((src_port, dst_port, payload)) = transport::udp_for_tunnel(&l4) {
                let outer = ctx.outer(src_port, dst_port);
                if let Some(step) = tunnel::udp(ctx, outer, payload) {
                    return step;
                }
            }
            Ok(transport::transport(ctx, network, l4))
        }
        _ => Ok(transport::transport(ctx, network, l4)),
    }
}
