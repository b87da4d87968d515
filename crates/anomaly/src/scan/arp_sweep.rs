//! ARP sweep: one sender asking ARP for many addresses, the mark of host
//! discovery on a local segment (`nmap -sn`, `arp-scan`, worms). Mirrored
//! VPC traffic carries no ARP; on-premises ERSPAN sources do.
//!
//! Key: (tenant, sender). Counted: the distinct target addresses of ARP
//! requests (op 1). Not counted: requests from the unspecified address
//! (RFC 5227 probes, sent by every host checking its own address) and
//! gratuitous ARP (target equal to sender). Retries to the same target
//! count once. Nothing here depends on seeing replies, so one-sided
//! traffic counts too.
//!
//! Defaults and why:
//! - `targets: 32` distinct targets in `window: 10` seconds. A host asks
//!   for a neighbour when it first talks to it or revalidates a stale
//!   entry: a handful a minute, a busy gateway at most a few a second
//!   spread over time. A sweep asks for a whole subnet at once: nmap's
//!   host discovery of a /24 (a public capture of it: 503 requests for
//!   245 addresses in 2.1 s) passes 32 targets in 0.2 s. A short window
//!   keeps a gateway's steady trickle apart from a burst; slow sweeps
//!   (nmap `-T1`) are missed, as the price of that.
//! - `max_distinct: 64` targets kept per sender; `max_entries: 4096`
//!   senders (ARP senders are hosts on the mirrored segments).

use std::net::IpAddr;

use mirador_wire::Timestamp;

use super::{Distinct, after, before, horizon, window_ns};
use crate::bounded::Bounded;
use crate::{Allow, Counters, Detection, Detector, DetectorId, Event, EventKind, PerTenant, Value};

/// ARP sweep settings (`detectors.arp-sweep`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Whether it runs (default true).
    #[serde(deserialize_with = "crate::de_bool")]
    pub enabled: bool,
    /// Distinct target addresses asked for within the window to fire
    /// (default 32).
    pub targets: usize,
    /// The sliding window, seconds (default 10).
    pub window: u64,
    /// Targets kept per sender (default 64; raised to the threshold).
    pub max_distinct: usize,
    /// Senders kept, all tenants together; taken from the default settings
    /// (default 4096).
    pub max_entries: usize,
    /// Traffic not counted (senders as sources, targets as destinations;
    /// ports do not apply).
    pub allow: Allow,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            targets: 32,
            window: 10,
            max_distinct: 64,
            max_entries: 4096,
            allow: Allow::default(),
        }
    }
}

#[derive(Debug, Default)]
struct Entry {
    targets: Distinct<IpAddr>,
    quiet_until: Option<Timestamp>,
}

/// The ARP sweep detector.
#[derive(Debug)]
pub struct ArpSweep {
    cfg: PerTenant<Config>,
    table: Bounded<(u32, IpAddr), Entry>,
    horizon: i64,
    events: u64,
    detections: u64,
}

impl ArpSweep {
    /// A detector with these settings.
    pub fn new(cfg: PerTenant<Config>) -> Self {
        ArpSweep {
            table: Bounded::new(cfg.default.max_entries),
            horizon: horizon(&cfg, |c| c.window),
            cfg,
            events: 0,
            detections: 0,
        }
    }
}

impl Detector for ArpSweep {
    fn id(&self) -> DetectorId {
        DetectorId::ArpSweep
    }

    fn on_event(&mut self, ev: &Event<'_>, out: &mut Vec<Detection>) {
        self.events += 1;
        self.table.expire(before(ev.ts, self.horizon), |_, _| {});
        let EventKind::Arp {
            sender,
            target,
            op: 1,
        } = ev.kind
        else {
            return;
        };
        if sender.is_unspecified() || sender == target {
            return;
        }
        let cfg = self.cfg.get(ev.tenant);
        if !cfg.enabled || cfg.targets == 0 || cfg.allow.allows(sender, target, None) {
            return;
        }
        let w = window_ns(cfg.window);
        let e = self.table.touch((ev.tenant, sender), ev.ts, Entry::default);
        e.targets.prune(before(ev.ts, w));
        e.targets
            .see(target, ev.ts, 0, cfg.max_distinct.max(cfg.targets));
        if e.quiet_until.is_some_and(|q| ev.ts < q) {
            return;
        }
        let n = e.targets.len();
        if n < cfg.targets {
            return;
        }
        out.push(Detection {
            detector: DetectorId::ArpSweep,
            ts: ev.ts,
            tenant: ev.tenant,
            session: ev.session,
            msg: "MIRADOR ARP sweep: one sender asked for many addresses",
            severity: 2,
            src: Some(sender),
            dst: None,
            proto: None,
            flow: None,
            evidence: vec![
                ("distinct_targets", Value::Count(n as u64)),
                ("targets", Value::Hosts(e.targets.listed())),
                ("protocol", Value::Text("arp".into())),
                ("window", Value::Seconds(cfg.window as f64)),
                (
                    "first_seen",
                    Value::Time(e.targets.first().unwrap_or(ev.ts)),
                ),
                ("last_seen", Value::Time(ev.ts)),
            ],
        });
        self.detections += 1;
        e.targets.clear();
        e.quiet_until = Some(after(ev.ts, w));
    }

    fn advance(&mut self, now: Timestamp, _out: &mut Vec<Detection>) {
        self.table.expire(before(now, self.horizon), |_, _| {});
    }

    fn counters(&self) -> Counters {
        Counters::of(self.events, self.detections, &self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::testutil::*;

    /// The ARP requests of a public nmap host-discovery capture (Zeek's
    /// test trace `nmap-vsn.pcap`): (microseconds from its first packet,
    /// last octet of the target in 192.168.1.0/24); every one is a request
    /// from 192.168.1.71. Extracted with tshark (`-Y arp`, fields
    /// `frame.time_relative` and `arp.dst.proto_ipv4`).
    #[rustfmt::skip]
    const NMAP_VSN_ARP: &[(i64, u8)] = &[
    (48, 2), (78, 3), (108, 4), (138, 5), (166, 6), (199, 7), (227, 8), (260, 9),
    (291, 10), (1429, 13), (1482, 14), (100161, 37), (100280, 40), (100310, 41), (100337, 42), (100366, 43),
    (100395, 44), (100494, 47), (100525, 48), (100552, 49), (101452, 90), (101546, 93), (200345, 110), (200541, 113),
    (200586, 114), (200631, 115), (200676, 116), (200718, 117), (200895, 120), (200942, 121), (200985, 122), (201568, 137),
    (201731, 140), (300462, 157), (300630, 160), (300799, 163), (300853, 164), (300896, 165), (301068, 168), (301114, 169),
    (301157, 170), (301312, 173), (301697, 182), (301852, 185), (400598, 202), (400764, 205), (400977, 208), (401025, 209),
    (401187, 212), (401254, 213), (401429, 216), (401478, 217), (401524, 218), (401824, 225), (401981, 228), (500726, 245),
    (500892, 248), (501057, 251), (501234, 254), (501407, 11), (501454, 12), (501621, 15), (501673, 16), (501719, 17),
    (501953, 22), (502110, 25), (601426, 28), (601487, 29), (601534, 30), (601711, 33), (601758, 34), (601800, 35),
    (601972, 38), (602019, 39), (602063, 45), (602274, 51), (602581, 54), (602629, 55), (602671, 56), (602716, 57),
    (602762, 58), (602809, 59), (602855, 60), (602939, 62), (603022, 64), (603105, 66), (603150, 67), (603276, 70),
    (603408, 73), (603452, 74), (603496, 75), (603535, 76), (603584, 77), (603623, 78), (603660, 79), (603699, 80),
    (603738, 81), (603775, 82), (603814, 83), (603853, 84), (603889, 85), (603927, 86), (603963, 87), (604002, 88),
    (604366, 91), (604408, 92), (604448, 94), (604484, 95), (604523, 96), (604562, 97), (604599, 98), (604637, 99),
    (604676, 100), (604713, 101), (604752, 102), (604788, 103), (604827, 104), (604866, 105), (604902, 106), (604942, 107),
    (604979, 108), (605022, 109), (605062, 111), (605099, 112), (605138, 118), (605178, 119), (605214, 123), (605253, 124),
    (605289, 125), (605327, 126), (605366, 127), (605410, 128), (605450, 129), (605486, 130), (605525, 131), (605563, 132),
    (605599, 133), (608615, 136), (701690, 147), (701739, 148), (702076, 151), (702119, 152), (702170, 153), (702217, 154),
    (702554, 158), (702599, 159), (702641, 161), (702686, 162), (703027, 166), (703063, 167), (703101, 171), (703136, 172),
    (703179, 174), (703216, 175), (703260, 176), (703574, 179), (703613, 180), (703648, 181), (703686, 183), (703721, 184),
    (703759, 186), (703797, 187), (703833, 188), (703871, 189), (704210, 192), (704248, 193), (704286, 194), (704321, 195),
    (704364, 196), (704410, 197), (704446, 198), (704484, 199), (704520, 200), (704558, 201), (704597, 203), (704632, 204),
    (704670, 206), (704706, 207), (704745, 210), (705089, 214), (705124, 215), (705163, 219), (705198, 220), (705241, 221),
    (705279, 222), (705314, 223), (705353, 224), (705399, 226), (705435, 227), (705473, 229), (705508, 230), (705547, 231),
    (705584, 232), (705939, 235), (705979, 236), (706014, 237), (706053, 238), (706091, 239), (706126, 240), (706169, 241),
    (706207, 242), (706243, 243), (706281, 244), (706317, 246), (706355, 247), (706402, 249), (706438, 250), (706477, 252),
    (706513, 253), (706627, 18), (706665, 19), (706700, 20), (706744, 21), (708732, 36), (802023, 52), (802078, 53),
    (802416, 89), (802464, 134), (802509, 135), (802551, 138), (802876, 141), (802926, 142), (802969, 143), (803013, 144),
    (803341, 149), (803392, 150), (803441, 155), (803477, 156), (803804, 178), (804215, 190), (804251, 191), (804843, 211),
    (805724, 233), (805760, 234), (806775, 23), (806814, 24), (806850, 26), (806888, 27), (806924, 31), (806963, 32),
    (807253, 46), (902344, 146), (902757, 177), (904167, 139), (904209, 145), (1100191, 2), (1100338, 3), (1100376, 4),
    (1100425, 5), (1100466, 6), (1100503, 7), (1100550, 8), (1100588, 9), (1100628, 10), (1101468, 13), (1101610, 14),
    (1200377, 37), (1200509, 40), (1200551, 41), (1200593, 42), (1200630, 43), (1200671, 44), (1201393, 47), (1201436, 48),
    (1201474, 49), (1201669, 90), (1201708, 93), (1300448, 110), (1300594, 113), (1301079, 114), (1301121, 115), (1301163, 116),
    (1301201, 117), (1301249, 120), (1301288, 121), (1301331, 122), (1301678, 137), (1302220, 140), (1400602, 157), (1400729, 160),
    (1401043, 163), (1401081, 164), (1401211, 165), (1401242, 168), (1401533, 169), (1401565, 170), (1401594, 173), (1402126, 182),
    (1402157, 185), (1500859, 202), (1500905, 205), (1501070, 208), (1501467, 209), (1501506, 212), (1501548, 213), (1501691, 216),
    (1501733, 217), (1501771, 218), (1502345, 225), (1502382, 228), (1502484, 228), (1502750, 182), (1502785, 185), (1601085, 202),
    (1601257, 205), (1601289, 208), (1601357, 245), (1601387, 248), (1601419, 251), (1601668, 254), (1601698, 11), (1601727, 12),
    (1601992, 15), (1602021, 16), (1602048, 17), (1602084, 209), (1602114, 212), (1602140, 213), (1602169, 216), (1602197, 217),
    (1602226, 218), (1602262, 22), (1602290, 25), (1602641, 225), (1701670, 28), (1701717, 29), (1702158, 30), (1702198, 33),
    (1702244, 34), (1702286, 35), (1702522, 38), (1702560, 39), (1702602, 45), (1702639, 51), (1703311, 54), (1703358, 55),
    (1703399, 56), (1703435, 57), (1703470, 58), (1703503, 59), (1703543, 60), (1703577, 62), (1703648, 64), (1703715, 66),
    (1703748, 67), (1703818, 70), (1703852, 73), (1704420, 74), (1704453, 75), (1704489, 76), (1704525, 77), (1704557, 78),
    (1704597, 79), (1704630, 80), (1704665, 81), (1704701, 82), (1802193, 83), (1802231, 84), (1802410, 85), (1802440, 86),
    (1802467, 87), (1802496, 88), (1802525, 91), (1803052, 92), (1803238, 94), (1803265, 95), (1803294, 96), (1803323, 97),
    (1803350, 98), (1803548, 99), (1803575, 100), (1803604, 101), (1803633, 102), (1803659, 103), (1803688, 104), (1803716, 105),
    (1803743, 106), (1803963, 107), (1803991, 108), (1804019, 109), (1804052, 111), (1804079, 112), (1804108, 118), (1804134, 119),
    (1804164, 123), (1804194, 124), (1804220, 125), (1804249, 126), (1805239, 127), (1805264, 128), (1805428, 129), (1805454, 130),
    (1901901, 18), (1901951, 19), (1902328, 20), (1902369, 21), (1902414, 36), (1902814, 52), (1902856, 53), (1902904, 89),
    (1902957, 131), (1903393, 132), (1903432, 133), (1903474, 134), (1903515, 135), (1903554, 136), (1903596, 138), (1903980, 141),
    (1904027, 142), (1904066, 143), (1904107, 144), (1904145, 147), (1904187, 148), (1904229, 149), (1904268, 150), (1904311, 151),
    (1904358, 152), (1904399, 153), (1904435, 154), (1904827, 155), (1904860, 156), (1904900, 158), (1904933, 159), (1904969, 161),
    (1905005, 162), (1905038, 166), (1905075, 167), (1905108, 171), (1905145, 172), (1905180, 174), (1905214, 175), (1905249, 176),
    (1905285, 178), (1905779, 179), (1905817, 180), (1905853, 181), (1905887, 183), (1905923, 184), (1905959, 186), (1905992, 187),
    (1906027, 188), (1906063, 189), (1906096, 190), (1906132, 191), (1906165, 192), (1906201, 193), (1906237, 194), (1906270, 195),
    (1906311, 196), (1906344, 197), (1906381, 198), (1906417, 199), (2002238, 23), (2002541, 24), (2002581, 26), (2002622, 27),
    (2002665, 31), (2003296, 32), (2003336, 46), (2003386, 146), (2003955, 177), (2004606, 139), (2004646, 145), (2004753, 200),
    (2004789, 201), (2004822, 203), (2004859, 204), (2004895, 206), (2004928, 207), (2004964, 210), (2005000, 211), (2005033, 214),
    (2005641, 215), (2005678, 219), (2005712, 220), (2006085, 221), (2006118, 222), (2006153, 223), (2006192, 224), (2006228, 226),
    (2006264, 227), (2006297, 229), (2006751, 230), (2006787, 231), (2006820, 232), (2006856, 233), (2006890, 234), (2006926, 235),
    (2006967, 236), (2007000, 237), (2007037, 238), (2007070, 239), (2007107, 240), (2103334, 241), (2103405, 242), (2103731, 243),
    (2104003, 244), (2104036, 246), (2104328, 247), (2104365, 249), (2104402, 250), (2104435, 252), (2104471, 253),
    ];

    fn nmap_vsn() -> Vec<Event<'static>> {
        let base = 1_317_146_840_497_541; // the capture's first packet, µs
        NMAP_VSN_ARP
            .iter()
            .map(|&(us, last)| {
                arp(
                    Timestamp::from_nanos((base + us) * 1000),
                    ip(192, 168, 1, 71),
                    ip(192, 168, 1, last),
                    1,
                )
            })
            .collect()
    }

    #[test]
    fn the_nmap_capture_fires_with_defaults() {
        let evs = nmap_vsn();
        assert_eq!(evs.len(), 503);
        let mut d = ArpSweep::new(PerTenant::all(Config::default()));
        let out = run(&mut d, &evs);
        // One sweep of 2.1 s: one detection (the rest falls in its quiet window).
        assert_eq!(out.len(), 1, "{out:?}");
        let x = &out[0];
        assert_eq!(x.src, Some(ip(192, 168, 1, 71)));
        assert_eq!(get(x, "distinct_targets"), &Value::Count(32));
        assert_eq!(get(x, "first_seen"), &Value::Time(evs[0].ts));
        let Value::Hosts(h) = get(x, "targets") else {
            panic!()
        };
        assert_eq!(h.len(), 32);
        assert!(h.windows(2).all(|w| w[0] < w[1]));
        assert!(x.msg.starts_with("MIRADOR "));
    }

    #[test]
    fn a_near_miss_replies_probes_and_gratuitous_arp_do_not_fire() {
        let mut evs = Vec::new();
        for i in 0..31u8 {
            // 31 targets, each asked for three times.
            for k in 0..3 {
                evs.push(arp(
                    ms(i64::from(i) * 10 + k),
                    ip(10, 0, 0, 1),
                    ip(10, 0, 1, i),
                    1,
                ));
            }
            evs.push(arp(
                ms(i64::from(i) * 10),
                ip(10, 0, 0, 2),
                ip(10, 0, 1, i + 100),
                2,
            ));
            evs.push(arp(
                ms(i64::from(i) * 10),
                ip(0, 0, 0, 0),
                ip(10, 0, 1, i + 100),
                1,
            ));
            evs.push(arp(
                ms(i64::from(i) * 10),
                ip(10, 0, 3, i),
                ip(10, 0, 3, i),
                1,
            ));
        }
        for i in 0..40u8 {
            evs.push(arp(
                ms(1000 + i64::from(i)),
                ip(10, 0, 0, 3),
                ip(10, 0, 4, i),
                2,
            ));
        }
        let mut d = ArpSweep::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &evs).is_empty());
        // A gateway asking for 100 neighbours over a minute: under 32 in 10 s.
        let evs: Vec<_> = (0..100u8)
            .map(|i| arp(ms(i64::from(i) * 600), ip(10, 0, 0, 1), ip(10, 0, 1, i), 1))
            .collect();
        let mut d = ArpSweep::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &evs).is_empty());
    }

    #[test]
    fn allow_lists_are_respected() {
        let mut d = ArpSweep::new(PerTenant::all(Config {
            allow: Allow {
                sources: vec!["192.168.1.71/32".parse().unwrap()],
                ..Allow::default()
            },
            ..Config::default()
        }));
        assert!(run(&mut d, &nmap_vsn()).is_empty());
        let mut d = ArpSweep::new(PerTenant::all(Config {
            allow: Allow {
                destinations: vec!["192.168.1.0/24".parse().unwrap()],
                ..Allow::default()
            },
            ..Config::default()
        }));
        assert!(run(&mut d, &nmap_vsn()).is_empty());
    }

    #[test]
    fn re_arms_after_the_window() {
        let mut evs = nmap_vsn();
        // The same sweep again 5 s later: still quiet. 30 s later: fires again.
        let again = |secs: i64| -> Vec<Event<'static>> {
            nmap_vsn()
                .into_iter()
                .map(|mut e| {
                    e.ts = Timestamp::from_nanos(e.ts.as_nanos() + secs * 1_000_000_000);
                    e
                })
                .collect()
        };
        evs.extend(again(5));
        evs.extend(again(30));
        let mut d = ArpSweep::new(PerTenant::all(Config::default()));
        assert_eq!(run(&mut d, &evs).len(), 2);
    }

    #[test]
    fn memory_stays_under_the_caps_under_a_spoofed_flood() {
        let cap = 4096;
        let mut d = ArpSweep::new(PerTenant::all(Config::default()));
        let mut out = Vec::new();
        for i in 0..1_000_000u32 {
            let e = arp(
                Timestamp::from_nanos(i64::from(i)),
                ip32(0x0b00_0000 + i),
                ip(10, 0, 0, 2),
                1,
            );
            d.on_event(&e, &mut out);
            assert!(d.table.len() <= cap);
        }
        assert!(out.is_empty());
        assert_eq!(d.counters().evicted, 1_000_000 - cap as u64);
        // One sender asking for a /8 keeps at most max_distinct targets.
        let mut d = ArpSweep::new(PerTenant::all(Config::default()));
        for i in 0..100_000u32 {
            d.on_event(
                &arp(ms(i64::from(i)), ip(10, 0, 0, 1), ip32(0x0a00_0000 + i), 1),
                &mut out,
            );
        }
        assert!(d.table.iter().all(|(_, e)| e.targets.len() <= 64));
    }
}
