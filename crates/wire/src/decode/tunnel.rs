//! The tunnel headers we own: VXLAN, GENEVE (with the AWS GWLB options),
//! GRE and ERSPAN I/II/III.
//!
//! Each header is a small smoltcp-style view: a private `mod field` of
//! offsets, `new_checked` that proves the length once, then accessors that
//! cannot fail. The handlers below turn a view into the next decoding step
//! and record the [`Mirror`] when the header is the mirror layer.

use super::{Ctx, Next, Outer, Step, be16, be32, be64, ether, rest};
use crate::events::{DecodeEvent, InvalidReason};
use crate::packet::{EncapKind, GwlbMeta, Mirror};

/// A UDP datagram to `outer.dst_port`: the tunnel step, or `None` when the
/// port is not a tunnel port (ordinary traffic).
pub(super) fn udp<'a>(ctx: &mut Ctx<'a, '_>, outer: Outer, payload: &'a [u8]) -> Option<Step<'a>> {
    if ctx.opts.vxlan_ports.contains(outer.dst_port) {
        Some(vxlan(ctx, outer, payload))
    } else if ctx.opts.geneve_ports.contains(outer.dst_port) {
        Some(geneve(ctx, outer, payload))
    } else {
        None
    }
}

fn mirror(encap: EncapKind, outer: Outer) -> Mirror {
    Mirror {
        encap,
        vni: None,
        erspan_session_id: None,
        erspan_version: None,
        outer_src: outer.src,
        outer_dst: outer.dst,
        outer_src_port: outer.src_port,
        outer_dst_port: outer.dst_port,
        gwlb: None,
    }
}

// ---------------------------------------------------------------- VXLAN

/// A VXLAN header (RFC 7348 §5).
///
/// ```text
/// |R|R|R|R|I|R|R|R|            Reserved                           |
/// |                VXLAN Network Identifier (VNI) |   Reserved    |
/// ```
#[derive(Debug, Clone, Copy)]
pub(super) struct VxlanHeader<'a>(&'a [u8; vxlan_field::HEADER_LEN]);

mod vxlan_field {
    use std::ops::Range;
    pub const FLAGS: usize = 0;
    pub const VNI: Range<usize> = 4..7;
    pub const HEADER_LEN: usize = 8;
    /// The I flag: the VNI is valid.
    pub const FLAG_I: u8 = 0x08;
}

impl<'a> VxlanHeader<'a> {
    /// The header and its payload, or `None` when fewer than 8 bytes.
    pub(super) fn new_checked(b: &'a [u8]) -> Option<(Self, &'a [u8])> {
        let (h, payload) = b.split_first_chunk()?;
        Some((VxlanHeader(h), payload))
    }

    /// Whether the I flag is set. Reserved bits are ignored (RFC 7348 §5).
    pub(super) fn flag_i(&self) -> bool {
        self.0[vxlan_field::FLAGS] & vxlan_field::FLAG_I != 0
    }

    /// The 24-bit VNI.
    pub(super) fn vni(&self) -> u32 {
        let [a, b, c] = [
            self.0[vxlan_field::VNI.start],
            self.0[vxlan_field::VNI.start + 1],
            self.0[vxlan_field::VNI.start + 2],
        ];
        u32::from_be_bytes([0, a, b, c])
    }
}

fn vxlan<'a>(ctx: &mut Ctx<'a, '_>, outer: Outer, b: &'a [u8]) -> Step<'a> {
    let (h, payload) = VxlanHeader::new_checked(b).ok_or(InvalidReason::VxlanPktTooSmall)?;
    let gwlb = ctx.gwlb_candidate;
    ctx.enter_tunnel(payload)?;
    if !h.flag_i() {
        ctx.event(DecodeEvent::VxlanFlagInvalid);
    }
    let vni = h.vni();
    match &mut ctx.mirror {
        None => {
            ctx.mirror = Some(Mirror {
                vni: Some(vni),
                ..mirror(EncapKind::Vxlan, outer)
            });
        }
        Some(m) if gwlb && m.encap == EncapKind::Geneve => {
            // GENEVE → IP → UDP → VXLAN: the AWS GWLB double wrap. The
            // session is the VXLAN's, from the source ENI.
            *m = Mirror {
                vni: Some(vni),
                gwlb: m.gwlb,
                ..mirror(EncapKind::Gwlb, outer)
            };
        }
        Some(_) => {}
    }
    ctx.vxlan_payload = true;
    Ok(Next::Ethernet(payload))
}

// ---------------------------------------------------------------- GENEVE

/// A GENEVE header (RFC 8926 §3.4), options not included.
///
/// ```text
/// |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
/// |        Virtual Network Identifier (VNI)       |    Reserved   |
/// |                    Variable-Length Options                    |
/// ```
#[derive(Debug, Clone, Copy)]
pub(super) struct GeneveHeader<'a>(&'a [u8; geneve_field::HEADER_LEN]);

mod geneve_field {
    use std::ops::Range;
    pub const VER_OPTLEN: usize = 0;
    pub const PROTOCOL: Range<usize> = 2..4;
    pub const VNI: Range<usize> = 4..7;
    pub const HEADER_LEN: usize = 8;
    /// Option header: class (2), critical bit + type (1), reserved bits +
    /// length in 4-byte words (1).
    pub const OPT_HEADER_LEN: usize = 4;
}

impl<'a> GeneveHeader<'a> {
    /// The header, its options and its payload; `None` when the fixed
    /// header or the declared options were not captured.
    pub(super) fn new_checked(b: &'a [u8]) -> Option<(Self, &'a [u8], &'a [u8])> {
        let (h, more) = b.split_first_chunk()?;
        let h = GeneveHeader(h);
        let opts = more.get(..h.options_len())?;
        Some((h, opts, rest(more, h.options_len())))
    }

    /// The version (must be 0).
    pub(super) fn version(&self) -> u8 {
        self.0[geneve_field::VER_OPTLEN] >> 6
    }

    /// Options length in bytes.
    pub(super) fn options_len(&self) -> usize {
        usize::from(self.0[geneve_field::VER_OPTLEN] & 0x3f) * 4
    }

    /// The protocol type of the payload (an EtherType).
    pub(super) fn protocol(&self) -> u16 {
        u16::from_be_bytes([
            self.0[geneve_field::PROTOCOL.start],
            self.0[geneve_field::PROTOCOL.start + 1],
        ])
    }

    /// The 24-bit VNI.
    pub(super) fn vni(&self) -> u32 {
        let v = geneve_field::VNI.start;
        u32::from_be_bytes([0, self.0[v], self.0[v + 1], self.0[v + 2]])
    }
}

/// The GWLB option class and types.
const GWLB_CLASS: u16 = 0x0108;
const GWLB_ENDPOINT_ID: u8 = 1;
const GWLB_ATTACHMENT_ID: u8 = 2;
const GWLB_FLOW_COOKIE: u8 = 3;

/// Walks GENEVE options; `None` when one overruns the options area.
/// Returns the GWLB options, if any was present.
fn geneve_options(ctx: &mut Ctx<'_, '_>, mut opts: &[u8]) -> Option<Option<GwlbMeta>> {
    let mut gwlb: Option<GwlbMeta> = None;
    // Each option takes at least 4 bytes, so this ends within 63 rounds.
    while !opts.is_empty() {
        let (h, more) = opts.split_first_chunk::<{ geneve_field::OPT_HEADER_LEN }>()?;
        let class = u16::from_be_bytes([h[0], h[1]]);
        let opt_type = h[2] & 0x7f;
        let len = usize::from(h[3] & 0x1f) * 4;
        let data = more.get(..len)?;
        opts = rest(more, len);
        if class != GWLB_CLASS {
            continue;
        }
        let meta = gwlb.get_or_insert_default();
        let ok = match (opt_type, len) {
            (GWLB_ENDPOINT_ID, 8) => {
                meta.endpoint_id = be64(data, 0);
                true
            }
            (GWLB_ATTACHMENT_ID, 8) => {
                meta.attachment_id = be64(data, 0);
                true
            }
            (GWLB_FLOW_COOKIE, 4) => {
                meta.flow_cookie = be32(data, 0);
                true
            }
            (GWLB_ENDPOINT_ID | GWLB_ATTACHMENT_ID | GWLB_FLOW_COOKIE, _) => false,
            // Another type in the GWLB class: not ours to judge.
            _ => true,
        };
        if !ok {
            ctx.event(DecodeEvent::GeneveGwlbOptionInvalid);
        }
    }
    // Only report GWLB metadata when some option actually carried a value.
    Some(gwlb.filter(|m| *m != GwlbMeta::default()))
}

fn geneve<'a>(ctx: &mut Ctx<'a, '_>, outer: Outer, b: &'a [u8]) -> Step<'a> {
    let (h, opts, payload) =
        GeneveHeader::new_checked(b).ok_or(InvalidReason::GenevePktTooSmall)?;
    if h.version() != 0 {
        return Err(InvalidReason::GeneveWrongVersion);
    }
    let gwlb = geneve_options(ctx, opts).ok_or(InvalidReason::GenevePktTooSmall)?;
    ctx.enter_tunnel(payload)?;
    let is_mirror = ctx.mirror.is_none();
    if is_mirror {
        ctx.mirror = Some(Mirror {
            vni: Some(h.vni()),
            gwlb,
            ..mirror(EncapKind::Geneve, outer)
        });
    }
    match h.protocol() {
        ether::TEB => Ok(Next::Ethernet(payload)),
        ether::IPV4 => {
            ctx.gwlb_candidate = is_mirror;
            Ok(Next::Ipv4(payload))
        }
        ether::IPV6 => {
            ctx.gwlb_candidate = is_mirror;
            Ok(Next::Ipv6(payload))
        }
        ether::ARP => Ok(Next::EtherType(ether::ARP, payload)),
        _ => Err(InvalidReason::GeneveUnknownPayloadType),
    }
}

// ---------------------------------------------------------------- GRE

/// A GRE header (RFC 2784, with the RFC 2890 key and sequence number, and
/// the RFC 1701 routing field skipped).
///
/// ```text
/// |C|R|K|S|s|Recur|  Flags  | Ver |         Protocol Type         |
/// |      Checksum (optional)      |       Offset (optional)       |
/// |                         Key (optional)                        |
/// |                 Sequence Number (optional)                    |
/// ```
#[derive(Debug, Clone, Copy)]
pub(super) struct GreHeader {
    flags_ver: u16,
    protocol: u16,
}

mod gre_field {
    use std::ops::Range;
    pub const FLAGS_VER: Range<usize> = 0..2;
    pub const PROTOCOL: Range<usize> = 2..4;
    pub const HEADER_LEN: usize = 4;
    pub const FLAG_C: u16 = 0x8000;
    pub const FLAG_R: u16 = 0x4000;
    pub const FLAG_K: u16 = 0x2000;
    pub const FLAG_S: u16 = 0x1000;
    pub const VERSION: u16 = 0x0007;
}

/// At most this many RFC 1701 source route entries are walked.
const GRE_MAX_SRE: usize = 16;

impl GreHeader {
    /// The header and its payload (after the optional fields and any
    /// source routing); `Err` with the reason when cut off or not version 0.
    pub(super) fn new_checked(b: &[u8]) -> Result<(Self, &[u8]), InvalidReason> {
        let too_small = InvalidReason::GrePktTooSmall;
        let flags_ver = be16(b, gre_field::FLAGS_VER.start).ok_or(too_small)?;
        let protocol = be16(b, gre_field::PROTOCOL.start).ok_or(too_small)?;
        let h = GreHeader {
            flags_ver,
            protocol,
        };
        if h.version() != 0 {
            return Err(InvalidReason::GreWrongVersion);
        }
        let mut len = gre_field::HEADER_LEN;
        for (flag, size) in [
            (gre_field::FLAG_C | gre_field::FLAG_R, 4),
            (gre_field::FLAG_K, 4),
            (gre_field::FLAG_S, 4),
        ] {
            if flags_ver & flag != 0 {
                len += size;
            }
        }
        let mut payload = b.get(len..).ok_or(too_small)?;
        if flags_ver & gre_field::FLAG_R != 0 {
            // Source route entries: family (2), offset (1), length (1),
            // data; a zero family and length end the list.
            let mut ended = false;
            for _ in 0..GRE_MAX_SRE {
                let family = be16(payload, 0).ok_or(too_small)?;
                let sre_len = usize::from(*payload.get(3).ok_or(too_small)?);
                payload = payload.get(4 + sre_len..).ok_or(too_small)?;
                if family == 0 && sre_len == 0 {
                    ended = true;
                    break;
                }
            }
            if !ended {
                return Err(too_small);
            }
        }
        Ok((h, payload))
    }

    pub(super) fn version(&self) -> u16 {
        self.flags_ver & gre_field::VERSION
    }

    /// Whether the sequence number is present (ERSPAN type II vs I).
    pub(super) fn has_seq(&self) -> bool {
        self.flags_ver & gre_field::FLAG_S != 0
    }

    pub(super) fn protocol(&self) -> u16 {
        self.protocol
    }
}

/// PPP over GRE.
const GRE_PPP: u16 = 0x880b;
/// ERSPAN type II over GRE.
const ERSPAN_II: u16 = 0x88be;
/// ERSPAN type III over GRE.
const ERSPAN_III: u16 = 0x22eb;

/// An ERSPAN type II or III header.
///
/// ```text
/// type II:  |  Ver  |          VLAN         | COS |En|T|    Session ID     |
///           |      Reserved         |                 Index                |
/// type III: |  Ver  |          VLAN         | COS |BSO|T|    Session ID    |
///           |                          Timestamp                           |
///           |             SGT               |P|    FT   |   Hw ID   |D|Gra|O|
///           [ platform-specific subheader, 8 bytes, when O is set ]
/// ```
#[derive(Debug, Clone, Copy)]
pub(super) struct ErspanHeader {
    version: u8,
    session_id: u16,
    /// The original frame's VLAN (0: none).
    vlan: u16,
    /// Type III frame type: 0 Ethernet, 2 IP (type II: always Ethernet).
    frame_type: u8,
}

mod erspan_field {
    use std::ops::Range;
    pub const VER_VLAN: Range<usize> = 0..2;
    pub const SESSION: Range<usize> = 2..4;
    pub const TYPE2_LEN: usize = 8;
    pub const TYPE3_LEN: usize = 12;
    /// Type III: the P bit and the frame type (FT, 5 bits).
    pub const TYPE3_FT: usize = 10;
    /// Type III: the byte holding the O bit (platform subheader present).
    pub const TYPE3_FLAGS: usize = 11;
    /// Frame types.
    pub const FT_ETHERNET: u8 = 0;
    pub const FT_IP: u8 = 2;
    pub const PLATFORM_LEN: usize = 8;
}

impl ErspanHeader {
    /// Parses a type II (`type3 == false`) or III header and returns its
    /// payload (an Ethernet frame).
    pub(super) fn new_checked(b: &[u8], type3: bool) -> Result<(Self, &[u8]), InvalidReason> {
        let too_small = InvalidReason::ErspanHeaderTooSmall;
        let ver_vlan = be16(b, erspan_field::VER_VLAN.start).ok_or(too_small)?;
        let session = be16(b, erspan_field::SESSION.start).ok_or(too_small)?;
        let mut h = ErspanHeader {
            version: (ver_vlan >> 12) as u8,
            session_id: session & 0x03ff,
            vlan: ver_vlan & 0x0fff,
            frame_type: erspan_field::FT_ETHERNET,
        };
        let len = if type3 {
            if h.version != 2 {
                return Err(InvalidReason::ErspanUnsupportedVersion);
            }
            let ft = *b.get(erspan_field::TYPE3_FT).ok_or(too_small)?;
            h.frame_type = (ft >> 2) & 0x1f;
            let flags = *b.get(erspan_field::TYPE3_FLAGS).ok_or(too_small)?;
            if flags & 1 != 0 {
                erspan_field::TYPE3_LEN + erspan_field::PLATFORM_LEN
            } else {
                erspan_field::TYPE3_LEN
            }
        } else {
            if h.version != 1 {
                return Err(InvalidReason::ErspanUnsupportedVersion);
            }
            erspan_field::TYPE2_LEN
        };
        let payload = b.get(len..).ok_or(too_small)?;
        Ok((h, payload))
    }
}

/// A GRE packet (IP protocol 47) in `b`.
pub(super) fn gre<'a>(ctx: &mut Ctx<'a, '_>, b: &'a [u8]) -> Step<'a> {
    let (h, payload) = GreHeader::new_checked(b)?;
    let outer = ctx.outer(0, 0);
    // (encap, ERSPAN version and session, payload, next step kind)
    let mut frame_type = erspan_field::FT_ETHERNET;
    let mut vlan = 0;
    let (encap, version, session, payload) = match h.protocol() {
        ERSPAN_II if !h.has_seq() => (EncapKind::Erspan, Some(0), None, payload),
        ERSPAN_II | ERSPAN_III => {
            let (e, p) = ErspanHeader::new_checked(payload, h.protocol() == ERSPAN_III)?;
            frame_type = e.frame_type;
            // Type II only: Suricata decodes no type III, and a type III
            // switch's VLAN field repeats the frame's own tag.
            if h.protocol() == ERSPAN_II {
                vlan = e.vlan;
            }
            (EncapKind::Erspan, Some(e.version), Some(e.session_id), p)
        }
        ether::IPV4
        | ether::IPV6
        | ether::TEB
        | ether::ARP
        | ether::MPLS_UC
        | ether::MPLS_MC
        | GRE_PPP => (EncapKind::Gre, None, None, payload),
        _ => return Err(InvalidReason::GreUnknownPayloadType),
    };
    ctx.enter_tunnel(payload)?;
    // The VLAN the switch recorded belongs to the mirrored frame: Suricata
    // puts it first in the packet's VLAN ids (`DecodeERSPAN`), so it is
    // part of the flow key.
    if vlan != 0 {
        ctx.vlan.push(vlan);
        ctx.erspan_vlan = Some(vlan);
    }
    if ctx.mirror.is_none() {
        ctx.mirror = Some(Mirror {
            erspan_version: version,
            erspan_session_id: session,
            ..mirror(encap, outer)
        });
    }
    match h.protocol() {
        ether::IPV4 => Ok(Next::Ipv4(payload)),
        ether::IPV6 => Ok(Next::Ipv6(payload)),
        GRE_PPP => super::link::ppp(payload),
        p @ (ether::ARP | ether::MPLS_UC | ether::MPLS_MC) => Ok(Next::EtherType(p, payload)),
        // ERSPAN III may carry a bare IP packet instead of a frame.
        ERSPAN_III => match frame_type {
            erspan_field::FT_ETHERNET => Ok(Next::Ethernet(payload)),
            erspan_field::FT_IP => match payload.first().map(|v| v >> 4) {
                Some(6) => Ok(Next::Ipv6(payload)),
                _ => Ok(Next::Ipv4(payload)),
            },
            _ => Err(InvalidReason::ErspanUnsupportedFrameType),
        },
        // Transparent Ethernet bridging and ERSPAN I/II carry Ethernet frames.
        _ => Ok(Next::Ethernet(payload)),
    }
}
