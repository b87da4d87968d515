//! Event builders for the scan detectors' tests.

use std::net::{IpAddr, Ipv4Addr};

use mirador_wire::Timestamp;

use crate::{Detection, Detector, Event, EventKind};

pub(crate) fn ms(ms: i64) -> Timestamp {
    Timestamp::from_nanos(ms * 1_000_000)
}

pub(crate) fn ip(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

pub(crate) fn ip32(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

fn ev(ts: Timestamp, bidirectional: bool, kind: EventKind<'static>) -> Event<'static> {
    Event {
        ts,
        tenant: 0,
        session: 0,
        bidirectional,
        kind,
    }
}

/// A flow opened by a TCP SYN (proto 6), a UDP packet (17) or an ICMP echo
/// request (1).
pub(crate) fn start(
    ts: Timestamp,
    src: IpAddr,
    dst: IpAddr,
    dport: u16,
    proto: u8,
) -> Event<'static> {
    ev(
        ts,
        true,
        EventKind::FlowStart {
            src,
            dst,
            sport: if proto == 1 { 0 } else { 40000 },
            dport: if proto == 1 { 0 } else { dport },
            proto,
            syn: proto == 6,
            echo: proto == 1,
            internal: (false, true),
        },
    )
}

/// `host` rejects `initiator`'s attempt on `port`.
pub(crate) fn reject(
    ts: Timestamp,
    host: IpAddr,
    initiator: IpAddr,
    port: u16,
    bidirectional: bool,
) -> Event<'static> {
    ev(
        ts,
        bidirectional,
        EventKind::Reject {
            src: host,
            dst: initiator,
            port,
        },
    )
}

pub(crate) fn arp(ts: Timestamp, sender: IpAddr, target: IpAddr, op: u16) -> Event<'static> {
    ev(ts, true, EventKind::Arp { sender, target, op })
}

pub(crate) fn run(d: &mut dyn Detector, evs: &[Event<'_>]) -> Vec<Detection> {
    let mut out = Vec::new();
    for e in evs {
        d.on_event(e, &mut out);
    }
    out
}

pub(crate) fn get<'a>(d: &'a Detection, name: &str) -> &'a crate::Value {
    &d.evidence
        .iter()
        .find(|(k, _)| *k == name)
        .unwrap_or_else(|| panic!("no evidence {name}"))
        .1
}
