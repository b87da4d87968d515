//! The decoder: linktype → tunnels → innermost L2-L4.
//!
//! Decoding is a loop over [`Next`] steps (no recursion), each step reading
//! one header and naming the next one. Every step either consumes bytes or
//! enters a tunnel (capped by [`DecodeOptions::max_layers`]), and the loop
//! itself is capped by [`MAX_STEPS`], so no input can make it spin.
//!
//! Module layout:
//! - `link`: the pcap linktypes (Ethernet, SLL, SLL2, NULL/LOOP, PPP, ...);
//! - `ether`: EtherType dispatch, VLAN, VN-Tag, MPLS, PPPoE, ARP;
//! - `tunnel`: VXLAN, GENEVE (AWS GWLB options), GRE, ERSPAN I/II/III;
//! - `ip`: IPv4 and IPv6 (extension headers), tunnel dispatch on the protocol;
//! - `transport`: TCP, UDP, ICMP, ICMPv6 and the final [`Inner`];
//! - `checksum`: the one's-complement sums.

mod checksum;
mod ether;
mod ip;
mod link;
mod transport;
mod tunnel;

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::events::{DecodeEvent, EventSet, InvalidReason};
use crate::packet::{Checksums, Decoded, Inner, Invalid, Mirror, Network, Transport, VlanIds};

/// A small fixed set of UDP ports (no allocation; at most 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSet {
    ports: [u16; 8],
    len: u8,
}

impl PortSet {
    /// At most this many ports.
    pub const CAPACITY: usize = 8;

    /// A set from a slice; `None` when it holds more than [`Self::CAPACITY`].
    pub fn new(ports: &[u16]) -> Option<PortSet> {
        if ports.len() > Self::CAPACITY {
            return None;
        }
        let mut s = PortSet {
            ports: [0; 8],
            len: 0,
        };
        for &p in ports {
            if !s.contains(p) {
                s.ports[usize::from(s.len)] = p;
                s.len += 1;
            }
        }
        Some(s)
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.ports[..usize::from(self.len)].contains(&port)
    }

    /// The ports.
    pub fn as_slice(&self) -> &[u16] {
        &self.ports[..usize::from(self.len)]
    }
}

/// What the decoder needs from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// UDP destination ports decoded as VXLAN (default 4789).
    pub vxlan_ports: PortSet,
    /// UDP destination ports decoded as GENEVE (default 6081).
    pub geneve_ports: PortSet,
    /// Most tunnel layers decoded through before the packet is invalid
    /// (`decoder.too_many_layers`). Default 8.
    pub max_layers: u8,
    /// Compute and check IPv4 and L4 checksums (the result is reported in
    /// [`crate::Checksums`]; the decoder never rejects on it).
    pub verify_checksums: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            vxlan_ports: PortSet::new(&[4789]).expect("one port"),
            geneve_ports: PortSet::new(&[6081]).expect("one port"),
            max_layers: 8,
            verify_checksums: true,
        }
    }
}

/// Decodes one captured frame of the given linktype.
///
/// Never panics and never allocates, whatever `frame` holds. An unsupported
/// `linktype` gives an [`Invalid`] with [`InvalidReason::LinktypeUnsupported`].
///
/// # Example
///
/// ```
/// use mirador_wire::{decode, linktype, DecodeOptions, Network};
///
/// // Raw IPv4: a bare 20-byte header (protocol 59, nothing after it).
/// let pkt = [
///     0x45, 0, 0, 20, 0, 0, 0, 0, 64, 59, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
/// ];
/// let d = decode(linktype::RAW, &pkt, &DecodeOptions::default());
/// let inner = d.outcome.unwrap();
/// assert!(matches!(inner.network, Network::Ipv4 { proto: 59, .. }));
/// assert!(inner.checksums.ipv4_bad); // the checksum field is zero
/// ```
pub fn decode<'a>(linktype: u32, frame: &'a [u8], opts: &DecodeOptions) -> Decoded<'a> {
    Ctx::new(opts, frame).run(link::start(linktype, frame))
}

/// Decodes the payload of a UDP datagram received on a tunnel port (the
/// live receiver's entry: the kernel has already removed the outer IP and
/// UDP headers).
///
/// The destination port picks the tunnel: one of
/// [`DecodeOptions::vxlan_ports`] is VXLAN, one of
/// [`DecodeOptions::geneve_ports`] is GENEVE (including the GWLB double
/// wrap); any other port gives [`InvalidReason::UdpNotTunnelPort`].
pub fn decode_udp_payload<'a>(
    outer_src: SocketAddr,
    outer_dst: SocketAddr,
    payload: &'a [u8],
    opts: &DecodeOptions,
) -> Decoded<'a> {
    let mut ctx = Ctx::new(opts, payload);
    ctx.addrs = Some((outer_src.ip(), outer_dst.ip()));
    ctx.proto = Some(ip::PROTO_UDP);
    let outer = Outer {
        src: outer_src.ip(),
        dst: outer_dst.ip(),
        src_port: outer_src.port(),
        dst_port: outer_dst.port(),
    };
    let first =
        tunnel::udp(&mut ctx, outer, payload).unwrap_or(Err(InvalidReason::UdpNotTunnelPort));
    ctx.run(first)
}

/// A safety net on the number of decoding steps for one frame. Every step
/// consumes header bytes or enters a (capped) tunnel, so real frames need
/// far fewer: about six per tunnel layer.
const MAX_STEPS: usize = 1024;

/// What to decode next.
#[derive(Debug)]
enum Next<'a> {
    /// An Ethernet header starts here.
    Ethernet(&'a [u8]),
    /// The payload of an EtherType.
    EtherType(u16, &'a [u8]),
    /// An IPv4 header starts here.
    Ipv4(&'a [u8]),
    /// An IPv6 header starts here.
    Ipv6(&'a [u8]),
    /// Decoding is finished: the innermost layers.
    Done(Done<'a>),
}

/// The innermost layers, before they become an [`Inner`].
#[derive(Debug)]
struct Done<'a> {
    network: Network<'a>,
    transport: Transport,
    payload: &'a [u8],
    checksums: Checksums,
}

impl<'a> Done<'a> {
    /// A frame with no transport layer.
    fn network(network: Network<'a>) -> Self {
        Done {
            network,
            transport: Transport::None,
            payload: &[],
            checksums: Checksums {
                l4_unchecked: true,
                ..Checksums::default()
            },
        }
    }
}

/// One decoding step's result: the next step, or why decoding stopped.
type Step<'a> = Result<Next<'a>, InvalidReason>;

/// The IP/UDP header pair enclosing a UDP tunnel (or the IP header enclosing
/// GRE, ports 0).
#[derive(Debug, Clone, Copy)]
struct Outer {
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
}

/// Decoding state carried from layer to layer.
#[derive(Debug)]
struct Ctx<'a, 'o> {
    opts: &'o DecodeOptions,
    mirror: Option<Mirror>,
    /// The innermost link-layer frame so far.
    frame: &'a [u8],
    /// VLAN ids of `frame`.
    vlan: VlanIds,
    /// Some header declared more bytes than were captured (sticky: an
    /// outer truncation truncates everything inside it).
    truncated: bool,
    events: EventSet,
    /// Tunnel layers entered.
    depth: u8,
    /// The innermost IP addresses and protocol read so far.
    addrs: Option<(IpAddr, IpAddr)>,
    proto: Option<u8>,
    /// The mirror layer was a GENEVE header carrying IP directly and
    /// nothing else has been entered since: a VXLAN header now makes the
    /// mirror a GWLB double wrap.
    gwlb_candidate: bool,
    /// The next Ethernet header is a VXLAN payload: its EtherType must be
    /// one VXLAN may carry.
    vxlan_payload: bool,
    /// A VLAN id the enclosing ERSPAN header recorded: the first VLAN of
    /// the frame it carries.
    erspan_vlan: Option<u16>,
}

impl<'a, 'o> Ctx<'a, 'o> {
    fn new(opts: &'o DecodeOptions, frame: &'a [u8]) -> Self {
        Ctx {
            opts,
            mirror: None,
            frame,
            vlan: VlanIds::EMPTY,
            truncated: false,
            events: EventSet::default(),
            depth: 0,
            addrs: None,
            proto: None,
            gwlb_candidate: false,
            vxlan_payload: false,
            erspan_vlan: None,
        }
    }

    /// Runs the steps to the end.
    fn run(mut self, first: Step<'a>) -> Decoded<'a> {
        let mut step = first;
        for _ in 0..MAX_STEPS {
            step = match step {
                Ok(Next::Ethernet(b)) => ether::ethernet(&mut self, b),
                Ok(Next::EtherType(t, b)) => ether::ethertype(&mut self, t, b),
                Ok(Next::Ipv4(b)) => ip::ipv4(&mut self, b),
                Ok(Next::Ipv6(b)) => ip::ipv6(&mut self, b),
                Ok(Next::Done(done)) => return self.finish(done),
                Err(reason) => return self.invalid(reason),
            };
        }
        self.invalid(InvalidReason::TooManyLayers)
    }

    fn finish(self, done: Done<'a>) -> Decoded<'a> {
        Decoded {
            mirror: self.mirror,
            outcome: Ok(Inner {
                frame: self.frame,
                vlan: self.vlan,
                network: done.network,
                transport: done.transport,
                payload: done.payload,
                truncated: self.truncated,
                checksums: done.checksums,
                events: self.events,
                tunnel_depth: self.depth,
            }),
        }
    }

    fn invalid(self, reason: InvalidReason) -> Decoded<'a> {
        Decoded {
            mirror: self.mirror,
            outcome: Err(Invalid {
                reason,
                addrs: self.addrs,
                proto: self.proto,
            }),
        }
    }

    fn event(&mut self, e: DecodeEvent) {
        self.events.insert(e);
    }

    /// Enters one tunnel layer whose payload starts at `payload`.
    fn enter_tunnel(&mut self, payload: &'a [u8]) -> Result<(), InvalidReason> {
        if self.depth >= self.opts.max_layers {
            return Err(InvalidReason::TooManyLayers);
        }
        self.depth = self.depth.saturating_add(1);
        self.frame = payload;
        self.vlan = VlanIds::EMPTY;
        self.gwlb_candidate = false;
        self.vxlan_payload = false;
        self.erspan_vlan = None;
        Ok(())
    }

    /// The outer addresses for a mirror record (unspecified when no IP
    /// header was read, which only a malformed caller can cause).
    fn outer(&self, src_port: u16, dst_port: u16) -> Outer {
        let (src, dst) = self.addrs.unwrap_or((
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        ));
        Outer {
            src,
            dst,
            src_port,
            dst_port,
        }
    }
}

/// Big-endian `u16` at `at`, if captured.
#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s: &[u8; 2] = b.get(at..)?.first_chunk()?;
    Some(u16::from_be_bytes(*s))
}

/// Big-endian `u32` at `at`, if captured.
#[inline]
fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s: &[u8; 4] = b.get(at..)?.first_chunk()?;
    Some(u32::from_be_bytes(*s))
}

/// Big-endian `u64` at `at`, if captured.
#[inline]
fn be64(b: &[u8], at: usize) -> Option<u64> {
    let s: &[u8; 8] = b.get(at..)?.first_chunk()?;
    Some(u64::from_be_bytes(*s))
}

/// Whether IPv4 or TCP options are well-formed: both use the same layout
/// (kind 0 ends the list, kind 1 is one byte of padding, any other kind is
/// followed by a length that counts the kind and length bytes).
fn options_ok(mut opts: &[u8]) -> bool {
    while let Some(&kind) = opts.first() {
        match kind {
            0 => return true,
            1 => opts = rest(opts, 1),
            _ => {
                let len = opts.get(1).map_or(0, |&l| usize::from(l));
                if len < 2 || len > opts.len() {
                    return false;
                }
                opts = rest(opts, len);
            }
        }
    }
    true
}

/// The bytes from `at` on (empty when `at` is past the end).
#[inline]
fn rest(b: &[u8], at: usize) -> &[u8] {
    b.get(at..).unwrap_or(&[])
}
