//! The decoder: linktype → tunnels → innermost L2-L4.
// PLACEHOLDER: being written.

use crate::packet::Decoded;

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
pub fn decode<'a>(_linktype: u32, _frame: &'a [u8], _opts: &DecodeOptions) -> Decoded<'a> {
    todo!()
}

/// Decodes the payload of a UDP datagram received on a tunnel port (the
/// live receiver's entry: the kernel has already removed the outer IP and
/// UDP headers).
pub fn decode_udp_payload<'a>(
    _outer_src: std::net::SocketAddr,
    _outer_dst: std::net::SocketAddr,
    _payload: &'a [u8],
    _opts: &DecodeOptions,
) -> Decoded<'a> {
    todo!()
}
