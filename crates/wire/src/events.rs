//! Decoder events, named as Suricata names them (`decoder.<layer>.<event>`),
//! so that dashboards and rules written for Suricata read the same.

macro_rules! named_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name { $($(#[$vm])* $variant,)* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The position in [`Self::ALL`], for counter arrays.
            pub fn index(self) -> usize {
                self as usize
            }

            /// The Suricata-style name, e.g. `decoder.ipv4.trunc_pkt`.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum! {
    /// Why a packet has nothing inspectable left (the packet is `invalid`).
    pub enum InvalidReason {
        /// Shorter than an Ethernet header.
        EthernetPktTooSmall => "decoder.ethernet.pkt_too_small",
        /// A VLAN tag cut off.
        VlanHeaderTooSmall => "decoder.vlan.header_too_small",
        /// More than three VLAN tags.
        VlanTooManyLayers => "decoder.vlan.too_many_layers",
        /// A VN-Tag cut off.
        VntagHeaderTooSmall => "decoder.vntag.header_too_small",
        /// An MPLS label cut off.
        MplsHeaderTooSmall => "decoder.mpls.header_too_small",
        /// MPLS bottom of stack followed by an unknown payload.
        MplsUnknownPayloadType => "decoder.mpls.unknown_payload_type",
        /// PPPoE header cut off.
        PppoePktTooSmall => "decoder.pppoe.pkt_too_small",
        /// PPPoE session carrying a protocol other than IPv4/IPv6.
        PppoeWrongCode => "decoder.pppoe.wrong_code",
        /// PPP header cut off.
        PppPktTooSmall => "decoder.ppp.pkt_too_small",
        /// PPP protocol not decoded.
        PppUnsupProto => "decoder.ppp.unsup_proto",
        /// Cisco HDLC header cut off.
        ChdlcPktTooSmall => "decoder.chdlc.pkt_too_small",
        /// Linux SLL header cut off.
        SllPktTooSmall => "decoder.sll.pkt_too_small",
        /// Linux SLL2 header cut off.
        Sll2PktTooSmall => "decoder.sll2.pkt_too_small",
        /// BSD loopback header cut off.
        NullPktTooSmall => "decoder.null.pkt_too_small",
        /// BSD loopback address family not IPv4/IPv6.
        NullUnsupportedType => "decoder.null.unsupported_type",
        /// Raw-IP linktype whose version nibble is neither 4 nor 6.
        IprawInvalidIpVersion => "decoder.ipraw.invalid_ip_version",
        /// Shorter than a minimal IPv4 header.
        Ipv4PktTooSmall => "decoder.ipv4.pkt_too_small",
        /// IHL below 5.
        Ipv4HlenTooSmall => "decoder.ipv4.hlen_too_small",
        /// Total length below the header length.
        Ipv4IplenSmallerThanHlen => "decoder.ipv4.iplen_smaller_than_hlen",
        /// The IPv4 header (with options) was not captured whole.
        Ipv4TruncPkt => "decoder.ipv4.trunc_pkt",
        /// Version field is not 4.
        Ipv4WrongIpVersion => "decoder.ipv4.wrong_ip_version",
        /// Shorter than the 40-byte IPv6 header.
        Ipv6PktTooSmall => "decoder.ipv6.pkt_too_small",
        /// Version field is not 6.
        Ipv6WrongIpVersion => "decoder.ipv6.wrong_ip_version",
        /// ARP packet shorter than its fixed header.
        ArpPktTooSmall => "decoder.arp.pkt_too_small",
        /// VXLAN header cut off.
        VxlanPktTooSmall => "decoder.vxlan.pkt_too_small",
        /// VXLAN carrying a frame whose EtherType is not decoded.
        VxlanUnknownPayloadType => "decoder.vxlan.unknown_payload_type",
        /// GENEVE header or options cut off, or an option overruns the header.
        GenevePktTooSmall => "decoder.geneve.pkt_too_small",
        /// GENEVE protocol type not decoded.
        GeneveUnknownPayloadType => "decoder.geneve.unknown_payload_type",
        /// GENEVE version other than 0.
        GeneveWrongVersion => "decoder.geneve.wrong_version",
        /// GRE header cut off.
        GrePktTooSmall => "decoder.gre.pkt_too_small",
        /// GRE version other than 0 (1 is PPTP, not decoded).
        GreWrongVersion => "decoder.gre.wrong_version",
        /// GRE protocol type not decoded.
        GreUnknownPayloadType => "decoder.gre.unknown_payload_type",
        /// ERSPAN header cut off.
        ErspanHeaderTooSmall => "decoder.erspan.header_too_small",
        /// ERSPAN version other than type II (1) or III (2).
        ErspanUnsupportedVersion => "decoder.erspan.unsupported_version",
        /// ERSPAN type III frame type other than Ethernet (0) or IP (2).
        ErspanUnsupportedFrameType => "decoder.erspan.unsupported_frame_type",
        /// More tunnel layers than `decoder.max-layers`.
        TooManyLayers => "decoder.too_many_layers",
        /// A linktype the decoder does not understand (rejected when a
        /// capture file is opened; this only guards direct callers).
        LinktypeUnsupported => "decoder.linktype.unsupported",
        /// `decode_udp_payload` was given a destination port that is neither
        /// a VXLAN nor a GENEVE port.
        UdpNotTunnelPort => "decoder.udp.not_tunnel_port",
    }
}

named_enum! {
    /// A non-fatal decoder event: the packet is still inspected.
    pub enum DecodeEvent {
        /// An EtherType that is not decoded further.
        EthernetUnknownEthertype => "decoder.ethernet.unknown_ethertype",
        /// IPv4 options malformed.
        Ipv4OptMalformed => "decoder.ipv4.opt_malformed",
        /// An IPv6 extension header cut off or malformed.
        Ipv6ExthdrInvalid => "decoder.ipv6.exthdr_invalid",
        /// TCP data offset below 5, or beyond the IP payload.
        TcpHlenTooSmall => "decoder.tcp.hlen_too_small",
        /// TCP header shorter than 20 bytes although the IP length says the
        /// packet ends there (not a truncation).
        TcpPktTooSmall => "decoder.tcp.pkt_too_small",
        /// TCP options malformed.
        TcpOptInvalidLen => "decoder.tcp.opt_invalid_len",
        /// UDP header shorter than 8 bytes although not truncated.
        UdpPktTooSmall => "decoder.udp.pkt_too_small",
        /// UDP length field inconsistent with the IP length.
        UdpLenInvalid => "decoder.udp.len_invalid",
        /// ICMPv4 header shorter than 8 bytes although not truncated.
        Icmpv4PktTooSmall => "decoder.icmpv4.pkt_too_small",
        /// ICMPv6 header shorter than 4 bytes although not truncated.
        Icmpv6PktTooSmall => "decoder.icmpv6.pkt_too_small",
        /// VXLAN I flag clear (decoded anyway, as Suricata does).
        VxlanFlagInvalid => "decoder.vxlan.flag_invalid",
        /// A GENEVE GWLB option with the wrong length (ignored).
        GeneveGwlbOptionInvalid => "decoder.geneve.gwlb_option_invalid",
    }
}

/// A set of [`DecodeEvent`]s, as a bit set (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EventSet(u64);

impl EventSet {
    /// Adds an event.
    pub fn insert(&mut self, e: DecodeEvent) {
        self.0 |= 1 << (e as u32);
    }

    /// Whether `e` is set.
    pub fn contains(&self, e: DecodeEvent) -> bool {
        self.0 & (1 << (e as u32)) != 0
    }

    /// Whether no event is set.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The events set, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = DecodeEvent> + '_ {
        DecodeEvent::ALL
            .iter()
            .copied()
            .filter(|e| self.contains(*e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_suricata_shaped() {
        let mut seen = std::collections::HashSet::new();
        for r in InvalidReason::ALL {
            assert!(r.as_str().starts_with("decoder."), "{r}");
            assert!(seen.insert(r.as_str()), "duplicate {r}");
        }
        for e in DecodeEvent::ALL {
            assert!(e.as_str().starts_with("decoder."), "{e}");
            assert!(seen.insert(e.as_str()), "duplicate {e}");
        }
        assert!(DecodeEvent::ALL.len() <= 64);
    }

    #[test]
    fn event_set_round_trips() {
        let mut s = EventSet::default();
        assert!(s.is_empty());
        s.insert(DecodeEvent::UdpLenInvalid);
        s.insert(DecodeEvent::EthernetUnknownEthertype);
        assert!(s.contains(DecodeEvent::UdpLenInvalid));
        assert!(!s.contains(DecodeEvent::TcpHlenTooSmall));
        let v: Vec<_> = s.iter().collect();
        assert_eq!(
            v,
            [
                DecodeEvent::EthernetUnknownEthertype,
                DecodeEvent::UdpLenInvalid
            ]
        );
    }
}
