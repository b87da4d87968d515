//! EVE JSON records, written straight into a reusable byte buffer.
//!
//! Records follow Suricata's field names and layout (`timestamp`,
//! `event_type`, `src_ip`, ..., one object per line). mirador's additions
//! are the top-level `mirror` object on records from mirrored traffic and
//! the free-form counters of `stats`. Writing by hand rather than through
//! `serde_json::Value` keeps a record to one buffer append, with no
//! allocation per record.

use std::io::Write as _;
use std::net::IpAddr;

use mirador_wire::{Mirror, Timestamp};

/// Appends `s` as a JSON string (with quotes) to `out`.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes a JSON object field by field; commas are handled here.
pub struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Opens an object.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        push_str(self.out, k);
        self.out.push(b':');
    }

    /// A string field.
    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        push_str(self.out, v);
        self
    }

    /// An unsigned integer field.
    pub fn u64(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        let _ = write!(self.out, "{v}");
        self
    }

    /// A number field with `decimals` digits after the point (JSON has no
    /// NaN or infinity: those are written as 0).
    pub fn f64(&mut self, k: &str, v: f64, decimals: usize) -> &mut Self {
        self.key(k);
        let v = if v.is_finite() { v } else { 0.0 };
        let _ = write!(self.out, "{v:.decimals$}");
        self
    }

    /// An array of strings.
    pub fn strs<'s>(&mut self, k: &str, v: impl IntoIterator<Item = &'s str>) -> &mut Self {
        self.key(k);
        self.out.push(b'[');
        for (i, x) in v.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            push_str(self.out, x);
        }
        self.out.push(b']');
        self
    }

    /// A boolean field.
    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    /// An IP address as a string field. IPv6 is written as Suricata's
    /// `PrintInetIPv6` writes it: all eight groups, four hex digits each,
    /// never compressed (`2001:0db8:0000:...:0001`), so records compare as
    /// strings with Suricata's.
    pub fn ip(&mut self, k: &str, v: IpAddr) -> &mut Self {
        self.key(k);
        push_ip(self.out, v);
        self
    }

    /// An array of addresses, each written as [`Obj::ip`] writes one.
    pub fn ips(&mut self, k: &str, v: impl IntoIterator<Item = IpAddr>) -> &mut Self {
        self.key(k);
        self.out.push(b'[');
        for (i, a) in v.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            push_ip(self.out, a);
        }
        self.out.push(b']');
        self
    }

    /// An unsigned integer as a zero-padded lowercase hexadecimal string of
    /// `digits` digits.
    pub fn hex(&mut self, k: &str, v: u64, digits: usize) -> &mut Self {
        self.key(k);
        let _ = write!(self.out, "\"{v:0digits$x}\"");
        self
    }

    /// A protocol name as Suricata writes it (`TCP`, `UDP`, `ICMP`,
    /// `IPv6-ICMP`, or the number as three digits).
    pub fn proto(&mut self, k: &str, proto: u8) -> &mut Self {
        self.key(k);
        match proto_name(proto) {
            Some(name) => push_str(self.out, name),
            None => {
                let _ = write!(self.out, "\"{proto:03}\"");
            }
        }
        self
    }

    /// A timestamp field in Suricata's format.
    pub fn ts(&mut self, k: &str, t: Timestamp) -> &mut Self {
        self.key(k);
        self.out.push(b'"');
        push_timestamp(self.out, t);
        self.out.push(b'"');
        self
    }

    /// A nested object, filled by `f`.
    pub fn obj(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.key(k);
        let mut o = Obj::new(self.out);
        f(&mut o);
        o.close();
        self
    }

    /// An array of unsigned integers.
    pub fn u64s(&mut self, k: &str, v: impl IntoIterator<Item = u64>) -> &mut Self {
        self.key(k);
        self.out.push(b'[');
        for (i, x) in v.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            let _ = write!(self.out, "{x}");
        }
        self.out.push(b']');
        self
    }

    /// An array of objects, one per item, each filled by `f`.
    pub fn objs<T>(
        &mut self,
        k: &str,
        items: impl IntoIterator<Item = T>,
        mut f: impl FnMut(&mut Obj<'_>, T),
    ) -> &mut Self {
        self.key(k);
        self.out.push(b'[');
        for (i, x) in items.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            let mut o = Obj::new(self.out);
            f(&mut o, x);
            o.close();
        }
        self.out.push(b']');
        self
    }

    /// Closes the object.
    pub fn close(self) {
        self.out.push(b'}');
    }
}

/// Appends `v` quoted, as Suricata writes addresses (IPv6 uncompressed,
/// `PrintInetIPv6`).
fn push_ip(out: &mut Vec<u8>, v: IpAddr) {
    match v {
        IpAddr::V4(a) => {
            let _ = write!(out, "\"{a}\"");
        }
        IpAddr::V6(a) => {
            out.push(b'"');
            for (i, g) in a.segments().iter().enumerate() {
                if i > 0 {
                    out.push(b':');
                }
                let _ = write!(out, "{g:04x}");
            }
            out.push(b'"');
        }
    }
}

/// Appends `t` as Suricata writes timestamps: `2023-09-18T06:13:41.532140+0000`
/// (UTC, microseconds).
pub fn push_timestamp(out: &mut Vec<u8>, t: Timestamp) {
    let secs = t.secs();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}+0000",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        t.subsec_nanos() / 1000
    );
}

/// Timestamp as a `String` (for summaries and tests).
pub fn format_timestamp(t: Timestamp) -> String {
    let mut v = Vec::new();
    push_timestamp(&mut v, t);
    String::from_utf8(v).unwrap_or_default()
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
/// Howard Hinnant's algorithm; written out rather than taking a date crate
/// for this one conversion.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Static facts about a session, as EVE's `mirror` object shows them.
#[derive(Debug, Clone, Default)]
pub struct SessionLabel {
    /// `tenant`.
    pub tenant: String,
    /// `session_id` (tms-...), when configured.
    pub session_id: Option<String>,
    /// `session_name`, when configured.
    pub session_name: Option<String>,
    /// `source_eni`, when configured.
    pub source_eni: Option<String>,
}

/// Writes the `mirror` object for a packet of `mirror`, attributed to a
/// session labelled `label`.
pub fn mirror_object(o: &mut Obj<'_>, mirror: &Mirror, label: &SessionLabel) {
    o.obj("mirror", |m| {
        m.str("encap", mirror.encap.as_str());
        if let Some(vni) = mirror.vni {
            m.u64("vni", u64::from(vni));
        }
        m.str("tenant", &label.tenant);
        if let Some(id) = &label.session_id {
            m.str("session_id", id);
        }
        if let Some(name) = &label.session_name {
            m.str("session_name", name);
        }
        if let Some(eni) = &label.source_eni {
            m.str("source_eni", eni);
        }
        m.ip("outer_src_ip", mirror.outer_src);
        if let Some(g) = &mirror.gwlb {
            m.obj("gwlb", |g2| {
                if let Some(v) = g.endpoint_id {
                    g2.hex("endpoint_id", v, 16);
                }
                if let Some(v) = g.attachment_id {
                    g2.hex("attachment_id", v, 16);
                }
                if let Some(v) = g.flow_cookie {
                    g2.hex("flow_cookie", u64::from(v), 8);
                }
            });
        }
        if let Some(id) = mirror.erspan_session_id {
            m.u64("erspan_session_id", u64::from(id));
        }
    });
}

/// What a decode `anomaly` record says about its packet.
#[derive(Debug, Clone, Copy)]
pub struct DecodeAnomaly<'a> {
    /// Packet time.
    pub ts: Timestamp,
    /// 1-based packet number in the input; 0 for live traffic.
    pub pcap_cnt: u64,
    /// Source and destination addresses, when read.
    pub addrs: Option<(IpAddr, IpAddr)>,
    /// IP protocol, when read.
    pub proto: Option<u8>,
    /// The mirror encapsulation and its session's labels.
    pub mirror: Option<(&'a Mirror, &'a SessionLabel)>,
    /// The capture linktype (`packet_info.linktype`), when known.
    pub linktype: Option<u32>,
    /// The event name, e.g. `decoder.ipv4.trunc_pkt`.
    pub event: &'a str,
}

/// Appends a decode `anomaly` record (one line) to `out`.
pub fn write_decode_anomaly(out: &mut Vec<u8>, a: &DecodeAnomaly<'_>) {
    let mut o = Obj::new(out);
    o.ts("timestamp", a.ts);
    if a.pcap_cnt > 0 {
        o.u64("pcap_cnt", a.pcap_cnt);
    }
    o.str("event_type", "anomaly");
    if let Some((src, dst)) = a.addrs {
        o.ip("src_ip", src).ip("dest_ip", dst);
    }
    if let Some(p) = a.proto {
        o.proto("proto", p);
    }
    o.str("pkt_src", if a.pcap_cnt > 0 { "wire/pcap" } else { "wire" });
    if let Some((m, label)) = a.mirror {
        mirror_object(&mut o, m, label);
    }
    if let Some(lt) = a.linktype {
        o.obj("packet_info", |pi| {
            pi.u64("linktype", u64::from(lt));
        });
    }
    o.obj("anomaly", |x| {
        x.str("type", "decode").str("event", a.event);
    });
    o.close();
    out.push(b'\n');
}

/// Suricata's name for an IP protocol, where it has one.
pub fn proto_name(proto: u8) -> Option<&'static str> {
    Some(match proto {
        1 => "ICMP",
        6 => "TCP",
        17 => "UDP",
        47 => "GRE",
        50 => "ESP",
        58 => "IPv6-ICMP",
        132 => "SCTP",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_suricata_format() {
        let t = Timestamp::from_secs_nanos(1_695_017_621, 532_140_999);
        assert_eq!(format_timestamp(t), "2023-09-18T06:13:41.532140+0000");
        assert_eq!(
            format_timestamp(Timestamp::from_nanos(0)),
            "1970-01-01T00:00:00.000000+0000"
        );
        assert_eq!(
            format_timestamp(Timestamp::from_secs_nanos(-1, 0)),
            "1969-12-31T23:59:59.000000+0000"
        );
        // Leap day.
        assert_eq!(
            format_timestamp(Timestamp::from_secs_nanos(951_782_400, 0)),
            "2000-02-29T00:00:00.000000+0000"
        );
    }

    #[test]
    fn strings_are_escaped_as_json() {
        let mut v = Vec::new();
        push_str(&mut v, "a\"b\\c\nd\u{1}é");
        let s = String::from_utf8(v).unwrap();
        assert_eq!(
            serde_json::from_str::<String>(&s).unwrap(),
            "a\"b\\c\nd\u{1}é"
        );
    }

    #[test]
    fn objects_nest_and_parse() {
        let mut v = Vec::new();
        let mut o = Obj::new(&mut v);
        o.str("a", "x").u64("n", 7).bool("t", true).obj("in", |i| {
            i.u64s("l", [1, 2]);
        });
        o.hex("h", 0xab, 4).proto("p", 6).proto("q", 99);
        o.close();
        let j: serde_json::Value = serde_json::from_slice(&v).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"a": "x", "n": 7, "t": true, "in": {"l": [1, 2]},
                "h": "00ab", "p": "TCP", "q": "099"})
        );
    }
}
