//! TCP, UDP, ICMP and ICMPv6: the last step, producing the [`Done`] layers
//! and their checksums.
//!
//! Hand-written for the same reasons as `ip`: etherparse's
//! `TcpHeaderSlice` would reject a header whose options were cut off by
//! truncation, and we only read the ports, numbers and flags.

use super::ip::{L4, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, Pseudo};
use super::{Ctx, Done, Next, be16, be32, checksum, options_ok, rest};
use crate::events::DecodeEvent;
use crate::packet::{Checksums, Network, Transport};

/// TCP header layout (RFC 9293).
mod tcp {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ: Range<usize> = 4..8;
    pub const ACK: Range<usize> = 8..12;
    pub const DATA_OFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: Range<usize> = 14..16;
    pub const HEADER_LEN: usize = 20;
}

/// UDP header layout (RFC 768).
mod udp {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
    pub const HEADER_LEN: usize = CHECKSUM.end;
}

/// The IPv4 header checksum observation.
fn ipv4_bad(ctx: &Ctx<'_, '_>, pseudo: Option<&Pseudo<'_>>) -> bool {
    match pseudo {
        Some(Pseudo::V4 { header, .. }) if ctx.opts.verify_checksums => {
            !checksum::verifies(checksum::sum(header))
        }
        _ => false,
    }
}

/// The IP payload with no transport decoded (non-first fragments, cut-off
/// extension headers).
pub(super) fn raw<'a>(
    ctx: &mut Ctx<'a, '_>,
    network: Network<'a>,
    data: &'a [u8],
    pseudo: Option<Pseudo<'a>>,
) -> Next<'a> {
    Next::Done(Done {
        network,
        transport: Transport::None,
        payload: data,
        checksums: Checksums {
            ipv4_bad: ipv4_bad(ctx, pseudo.as_ref()),
            l4_bad: false,
            l4_unchecked: true,
        },
    })
}

/// The UDP ports and payload (bounded by the UDP length when it is sane),
/// when the UDP header was captured.
pub(super) fn udp_for_tunnel<'a>(l4: &L4<'a>) -> Option<(u16, u16, &'a [u8])> {
    let src = be16(l4.data, udp::SRC_PORT.start)?;
    let dst = be16(l4.data, udp::DST_PORT.start)?;
    let len = usize::from(be16(l4.data, udp::LENGTH.start)?);
    Some((src, dst, udp_payload(l4, len)))
}

fn udp_payload<'a>(l4: &L4<'a>, len: usize) -> &'a [u8] {
    let end = if (udp::HEADER_LEN..=l4.declared).contains(&len) {
        len.min(l4.data.len())
    } else {
        l4.data.len()
    };
    l4.data.get(udp::HEADER_LEN..end).unwrap_or(&[])
}

/// The transport layer of a non-tunnel IP payload.
pub(super) fn transport<'a>(ctx: &mut Ctx<'a, '_>, network: Network<'a>, l4: L4<'a>) -> Next<'a> {
    let data = l4.data;
    // This IP payload was cut short of what the header declares.
    let short = data.len() < l4.declared;
    // The checksum can be checked: the whole segment, not a fragment.
    let checkable = ctx.opts.verify_checksums && !short && l4.fragment.is_none();
    let mut checksums = Checksums {
        ipv4_bad: ipv4_bad(ctx, Some(&l4.pseudo)),
        l4_bad: false,
        l4_unchecked: true,
    };
    let mut l4_check = |with_pseudo: bool| {
        let mut acc = checksum::sum(data);
        if with_pseudo {
            acc += checksum::pseudo(&l4.pseudo, l4.proto, data.len());
        }
        checksums.l4_unchecked = false;
        checksums.l4_bad = !checksum::verifies(acc);
    };
    let (transport, payload) = match l4.proto {
        PROTO_TCP => match data.first_chunk::<{ tcp::HEADER_LEN }>() {
            Some(h) => {
                let header_len = (h[tcp::DATA_OFF] >> 4) * 4;
                let hl = usize::from(header_len);
                let payload = if hl < tcp::HEADER_LEN {
                    ctx.event(DecodeEvent::TcpHlenTooSmall);
                    &[]
                } else if let Some(p) = data.get(hl..) {
                    if hl > tcp::HEADER_LEN
                        && !options_ok(data.get(tcp::HEADER_LEN..hl).unwrap_or(&[]))
                    {
                        ctx.event(DecodeEvent::TcpOptInvalidLen);
                    }
                    if checkable {
                        l4_check(true);
                    }
                    p
                } else {
                    if !short {
                        ctx.event(DecodeEvent::TcpHlenTooSmall);
                    }
                    &[]
                };
                let t = Transport::Tcp {
                    src_port: be16(h, tcp::SRC_PORT.start).unwrap_or(0),
                    dst_port: be16(h, tcp::DST_PORT.start).unwrap_or(0),
                    seq: be32(h, tcp::SEQ.start).unwrap_or(0),
                    ack: be32(h, tcp::ACK.start).unwrap_or(0),
                    flags: h[tcp::FLAGS],
                    window: be16(h, tcp::WINDOW.start).unwrap_or(0),
                    header_len,
                };
                (t, payload)
            }
            None => {
                if !short {
                    ctx.event(DecodeEvent::TcpPktTooSmall);
                }
                (Transport::None, data)
            }
        },
        PROTO_UDP => match data.first_chunk::<{ udp::HEADER_LEN }>() {
            Some(h) => {
                let len = be16(h, udp::LENGTH.start).unwrap_or(0);
                let sane = (udp::HEADER_LEN..=l4.declared).contains(&usize::from(len));
                if !sane {
                    ctx.event(DecodeEvent::UdpLenInvalid);
                }
                let zero = be16(h, udp::CHECKSUM.start) == Some(0);
                let v4 = matches!(l4.pseudo, Pseudo::V4 { .. });
                if checkable && sane && !(zero && v4) {
                    l4_check(true);
                }
                let t = Transport::Udp {
                    src_port: be16(h, udp::SRC_PORT.start).unwrap_or(0),
                    dst_port: be16(h, udp::DST_PORT.start).unwrap_or(0),
                    len,
                };
                (t, udp_payload(&l4, usize::from(len)))
            }
            None => {
                if !short {
                    ctx.event(DecodeEvent::UdpPktTooSmall);
                }
                (Transport::None, data)
            }
        },
        PROTO_ICMP => match data.first_chunk::<4>() {
            Some(h) => {
                if data.len() < 8 && !short {
                    ctx.event(DecodeEvent::Icmpv4PktTooSmall);
                }
                if checkable {
                    l4_check(false);
                }
                let t = Transport::Icmpv4 {
                    icmp_type: h[0],
                    icmp_code: h[1],
                };
                (t, rest(data, 8))
            }
            None => {
                if !short {
                    ctx.event(DecodeEvent::Icmpv4PktTooSmall);
                }
                (Transport::None, data)
            }
        },
        PROTO_ICMPV6 => match data.first_chunk::<4>() {
            Some(h) => {
                if checkable && matches!(l4.pseudo, Pseudo::V6 { .. }) {
                    l4_check(true);
                }
                let t = Transport::Icmpv6 {
                    icmp_type: h[0],
                    icmp_code: h[1],
                };
                (t, rest(data, 4))
            }
            None => {
                if !short {
                    ctx.event(DecodeEvent::Icmpv6PktTooSmall);
                }
                (Transport::None, data)
            }
        },
        _ => (Transport::None, data),
    };
    Next::Done(Done {
        network,
        transport,
        payload,
        checksums,
    })
}
