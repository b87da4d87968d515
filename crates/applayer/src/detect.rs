//! Application-layer protocol detection by content first, port second, as
//! Suricata 7's `app-layer-detect-proto.c` does for the protocols mirador
//! parses.
//!
//! * **HTTP/1.x** on any port: a request method followed by a space or tab
//!   at the start of the client's data (case-insensitive, the methods
//!   `HTPRegisterPatternsForProtocolDetection` registers), or `HTTP/` at
//!   the start of the server's.
//! * **TLS** on any port: a TLS record header (handshake, alert, change
//!   cipher spec or application data with version 3.0 to 3.4) at the start
//!   of either side, or an SSLv2-framed ClientHello (`SSLRegisterPatterns`
//!   `ForProtocolDetection`'s `|01 03 0x|` at offset 2).
//! * **DNS** on its detection port (53 by default, Suricata's
//!   `detection-ports`): a message whose header and question section parse
//!   (UDP), or the same after the 2-byte length (TCP).
//!
//! A direction is decided on its first bytes. [`Detector`] keeps the
//! prefix of a direction until it has enough to decide (bounded: a
//! direction that has sent [`MAX_PREFIX`] bytes without a verdict is
//! undecidable), so one-byte segments detect like one large one. The flow's
//! protocol is the first direction's verdict; when both directions have
//! decided on nothing, the flow's detection has failed (Suricata's
//! `ALPROTO_FAILED`) and nothing is parsed.

use crate::Dir;

/// The protocols detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// HTTP/1.x.
    Http,
    /// TLS / SSL.
    Tls,
    /// DNS.
    Dns,
}

impl Proto {
    /// Suricata's name, as in EVE `app_proto`.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Http => "http",
            Proto::Tls => "tls",
            Proto::Dns => "dns",
        }
    }
}

/// The verdict on some bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Too few bytes to tell.
    NeedMore,
    /// This protocol.
    Is(Proto),
    /// None of ours.
    No,
}

/// Bytes of one direction kept while undecided.
pub const MAX_PREFIX: usize = 1024;

/// HTTP request methods Suricata 7 registers for detection.
const METHODS: &[&[u8]] = &[
    b"GET",
    b"PUT",
    b"POST",
    b"HEAD",
    b"TRACE",
    b"OPTIONS",
    b"CONNECT",
    b"DELETE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"CHECKOUT",
    b"UNCHECKOUT",
    b"CHECKIN",
    b"UPDATE",
    b"LABEL",
    b"REPORT",
    b"MKWORKSPACE",
    b"MKACTIVITY",
    b"MERGE",
    b"INVALID",
    b"VERSION-CONTROL",
    b"BASELINE-CONTROL",
];

/// DNS's detection port (Suricata's default `detection-ports`).
pub const DNS_PORT: u16 = 53;

fn http(dir: Dir, d: &[u8]) -> Verdict {
    match dir {
        Dir::ToServer => {
            let mut need_more = false;
            for m in METHODS {
                let n = m.len();
                if d.len() <= n {
                    if d.eq_ignore_ascii_case(&m[..d.len()]) {
                        need_more = true;
                    }
                    continue;
                }
                if d[..n].eq_ignore_ascii_case(m) && matches!(d[n], b' ' | b'\t') {
                    return Verdict::Is(Proto::Http);
                }
            }
            if need_more {
                Verdict::NeedMore
            } else {
                Verdict::No
            }
        }
        Dir::ToClient => {
            let p = b"HTTP/";
            if d.len() < p.len() {
                if d.eq_ignore_ascii_case(&p[..d.len()]) {
                    Verdict::NeedMore
                } else {
                    Verdict::No
                }
            } else if d[..p.len()].eq_ignore_ascii_case(p) {
                Verdict::Is(Proto::Http)
            } else {
                Verdict::No
            }
        }
    }
}

fn tls(d: &[u8]) -> Verdict {
    // A record: content type 20-23, version 3.0-3.4.
    let record = |d: &[u8]| -> Verdict {
        match d {
            [] => Verdict::NeedMore,
            [t, ..] if !(20..=23).contains(t) => Verdict::No,
            [_] => Verdict::NeedMore,
            [_, 3, ..] if d.len() < 3 => Verdict::NeedMore,
            [_, 3, v, ..] if *v <= 4 => Verdict::Is(Proto::Tls),
            _ => Verdict::No,
        }
    };
    // SSLv2 framing: 2-byte length with the high bit, message type 1
    // (ClientHello), version 3.0-3.3.
    let v2 = |d: &[u8]| -> Verdict {
        match d {
            [] => Verdict::NeedMore,
            [h, ..] if h & 0x80 == 0 => Verdict::No,
            [_] | [_, _] => Verdict::NeedMore,
            [_, _, 1] | [_, _, 1, 3] => Verdict::NeedMore,
            [_, _, 1, 3, v, ..] if *v <= 3 => Verdict::Is(Proto::Tls),
            _ => Verdict::No,
        }
    };
    match (record(d), v2(d)) {
        (Verdict::Is(p), _) | (_, Verdict::Is(p)) => Verdict::Is(p),
        (Verdict::NeedMore, _) | (_, Verdict::NeedMore) => Verdict::NeedMore,
        _ => Verdict::No,
    }
}

/// Whether `msg` looks like a DNS message: a header and a question
/// section that parse, sane counts (Suricata's `rs_dns_probe` parses the
/// request with its full parser; this checks the same fields without
/// allocating).
pub fn dns_message(msg: &[u8]) -> Verdict {
    if msg.len() < 12 {
        return Verdict::NeedMore;
    }
    let u16_at = |i: usize| u16::from_be_bytes([msg[i], msg[i + 1]]);
    let (qd, an, ns, ar) = (u16_at(4), u16_at(6), u16_at(8), u16_at(10));
    let opcode = (msg[2] >> 3) & 0x0f;
    // Queries, inverse queries, status, notify, update.
    if opcode > 5 || opcode == 3 {
        return Verdict::No;
    }
    if qd == 0 && an == 0 && ns == 0 && ar == 0 {
        return Verdict::No;
    }
    // Walk the questions' names (uncompressed or a pointer) and fixed
    // fields.
    let mut at = 12usize;
    for _ in 0..qd.min(32) {
        let mut labels = 0;
        loop {
            let Some(&len) = msg.get(at) else {
                return Verdict::NeedMore;
            };
            if len == 0 {
                at += 1;
                break;
            }
            if len & 0xc0 == 0xc0 {
                at += 2;
                break;
            }
            if len & 0xc0 != 0 {
                return Verdict::No;
            }
            labels += 1;
            if labels > 127 {
                return Verdict::No;
            }
            at += 1 + usize::from(len);
        }
        at += 4;
        if at > msg.len() {
            return Verdict::NeedMore;
        }
    }
    Verdict::Is(Proto::Dns)
}

/// The verdict on the first bytes of one TCP direction, with the flow's
/// server port.
pub fn tcp(dir: Dir, data: &[u8], server_port: u16) -> Verdict {
    let mut more = false;
    for v in [http(dir, data), tls(data)] {
        match v {
            Verdict::Is(p) => return Verdict::Is(p),
            Verdict::NeedMore => more = true,
            Verdict::No => {}
        }
    }
    if server_port == DNS_PORT {
        match data {
            [a, b, rest @ ..] => {
                let len = usize::from(u16::from_be_bytes([*a, *b]));
                if len < 12 {
                    return Verdict::No;
                }
                match dns_message(&rest[..rest.len().min(len)]) {
                    Verdict::NeedMore if rest.len() >= len => {}
                    Verdict::No => {}
                    v => return v,
                }
            }
            _ => more = true,
        }
    }
    if more { Verdict::NeedMore } else { Verdict::No }
}

/// The verdict on one UDP datagram, with the flow's server port.
pub fn udp(payload: &[u8], server_port: u16) -> Verdict {
    if server_port == DNS_PORT {
        match dns_message(payload) {
            Verdict::Is(p) => return Verdict::Is(p),
            _ => return Verdict::No,
        }
    }
    Verdict::No
}

/// Detection state of one TCP flow. It keeps each direction's first bytes
/// (up to [`MAX_PREFIX`]) until the flow's protocol is known, so that the
/// parser can be given the stream from its start.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    /// Each direction's first bytes.
    prefix: [Vec<u8>; 2],
    /// Bytes of each direction not kept (beyond the prefix, or gaps).
    lost: [u64; 2],
    /// Each direction's verdict: `None` while undecided.
    done: [Option<Option<Proto>>; 2],
}

/// The flow-level outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowVerdict {
    /// Still looking.
    Undecided,
    /// The flow's protocol.
    Detected(Proto),
    /// Both directions are decided on none of ours.
    Failed,
}

impl Detector {
    /// Feeds in-order bytes of direction `dir`; returns the flow's verdict
    /// and how many bytes of `data` were kept in the prefix (the rest of
    /// `data` is the caller's to hand to the parser once the protocol is
    /// known; earlier bytes that did not fit are counted as lost).
    pub fn feed(&mut self, dir: Dir, data: &[u8], server_port: u16) -> (FlowVerdict, usize) {
        let i = dir.index();
        // After a loss, later bytes cannot follow the prefix: they are lost
        // too, until the caller hands them on.
        let room = if self.lost[i] > 0 {
            0
        } else {
            MAX_PREFIX - self.prefix[i].len()
        };
        let stored = data.len().min(room);
        self.prefix[i].extend_from_slice(&data[..stored]);
        if self.done[i].is_none() && !data.is_empty() {
            match tcp(dir, &self.prefix[i], server_port) {
                Verdict::Is(proto) => self.done[i] = Some(Some(proto)),
                Verdict::No => self.done[i] = Some(None),
                Verdict::NeedMore if self.prefix[i].len() >= MAX_PREFIX || self.lost[i] > 0 => {
                    self.done[i] = Some(None)
                }
                Verdict::NeedMore => {}
            }
        }
        let verdict = self.verdict();
        if verdict == FlowVerdict::Undecided {
            // Still undecided: what did not fit is gone.
            self.lost[i] += (data.len() - stored) as u64;
            return (verdict, data.len());
        }
        (verdict, stored)
    }

    /// Direction `dir` ended, or lost bytes it had not decided on: it is
    /// decided as none (a gap makes the prefix unusable for detection).
    pub fn give_up(&mut self, dir: Dir) -> FlowVerdict {
        let i = dir.index();
        if self.done[i].is_none() {
            self.done[i] = Some(None);
        }
        self.verdict()
    }

    /// Counts `len` bytes of direction `dir` as lost (a gap).
    pub fn lose(&mut self, dir: Dir, len: u64) {
        let i = dir.index();
        self.lost[i] = self.lost[i].saturating_add(len);
    }

    /// The flow's verdict so far: the first direction that named a
    /// protocol (the client's when both did), failure when neither can.
    pub fn verdict(&self) -> FlowVerdict {
        match self.done {
            [Some(Some(p)), _] | [_, Some(Some(p))] => FlowVerdict::Detected(p),
            [Some(None), Some(None)] => FlowVerdict::Failed,
            _ => FlowVerdict::Undecided,
        }
    }

    /// The kept prefixes and the lost byte counts, per direction.
    pub fn into_parts(self) -> ([Vec<u8>; 2], [u64; 2]) {
        (self.prefix, self.lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_by_method_or_status_line() {
        assert_eq!(
            tcp(Dir::ToServer, b"GET / HTTP/1.1\r\n", 8080),
            Verdict::Is(Proto::Http)
        );
        assert_eq!(tcp(Dir::ToServer, b"post\t/x", 1), Verdict::Is(Proto::Http));
        assert_eq!(tcp(Dir::ToServer, b"GE", 80), Verdict::NeedMore);
        assert_eq!(tcp(Dir::ToServer, b"GET", 80), Verdict::NeedMore);
        assert_eq!(tcp(Dir::ToServer, b"GETX /", 80), Verdict::No);
        assert_eq!(tcp(Dir::ToServer, b"SSH-2.0-x", 22), Verdict::No);
        assert_eq!(
            tcp(Dir::ToClient, b"HTTP/1.1 200 OK", 80),
            Verdict::Is(Proto::Http)
        );
        assert_eq!(tcp(Dir::ToClient, b"HTT", 80), Verdict::NeedMore);
        // A server does not send requests, a client not status lines.
        assert_eq!(tcp(Dir::ToClient, b"GET / HTTP/1.1", 80), Verdict::No);
        assert_eq!(tcp(Dir::ToServer, b"HTTP/1.1 200", 80), Verdict::No);
    }

    #[test]
    fn tls_records_and_sslv2_hello() {
        assert_eq!(
            tcp(Dir::ToServer, &[0x16, 3, 1, 0, 5], 4433),
            Verdict::Is(Proto::Tls)
        );
        assert_eq!(
            tcp(Dir::ToClient, &[0x15, 3, 3], 443),
            Verdict::Is(Proto::Tls)
        );
        assert_eq!(tcp(Dir::ToServer, &[0x16, 3], 443), Verdict::NeedMore);
        assert_eq!(tcp(Dir::ToServer, &[0x16, 3, 9], 443), Verdict::No);
        assert_eq!(
            tcp(Dir::ToServer, &[0x80, 0x2e, 1, 3, 1, 0], 443),
            Verdict::Is(Proto::Tls)
        );
        assert_eq!(tcp(Dir::ToServer, &[0x80, 0x2e, 2, 3, 1], 443), Verdict::No);
    }

    fn query() -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        m
    }

    #[test]
    fn dns_on_its_port_only() {
        let q = query();
        assert_eq!(udp(&q, 53), Verdict::Is(Proto::Dns));
        assert_eq!(udp(&q, 5353), Verdict::No);
        assert_eq!(udp(&q[..20], 53), Verdict::No);
        let mut t = (q.len() as u16).to_be_bytes().to_vec();
        t.extend_from_slice(&q);
        assert_eq!(tcp(Dir::ToServer, &t, 53), Verdict::Is(Proto::Dns));
        assert_eq!(tcp(Dir::ToServer, &t[..10], 53), Verdict::NeedMore);
        assert_eq!(tcp(Dir::ToServer, &t, 54), Verdict::No);
        // Garbage on port 53.
        assert_eq!(udp(&[0xff; 40], 53), Verdict::No);
    }

    #[test]
    fn detector_accumulates_and_decides_once() {
        let mut d = Detector::default();
        let mut got = Vec::new();
        for b in b"GET /" {
            got.push(d.feed(Dir::ToServer, std::slice::from_ref(b), 80).0);
        }
        let http = FlowVerdict::Detected(Proto::Http);
        assert_eq!(got[..3], [FlowVerdict::Undecided; 3]);
        assert_eq!(got[3..], [http, http]);
        // The other direction cannot change it.
        assert_eq!(d.feed(Dir::ToClient, b"\x16\x03\x01", 80).0, http);
        let (prefix, lost) = d.into_parts();
        assert_eq!(prefix[0], b"GET /");
        assert_eq!(prefix[1], b"\x16\x03\x01");
        assert_eq!(lost, [0, 0]);

        let mut f = Detector::default();
        assert_eq!(
            f.feed(Dir::ToServer, b"hello", 80).0,
            FlowVerdict::Undecided
        );
        assert_eq!(f.feed(Dir::ToClient, b"world", 80).0, FlowVerdict::Failed);

        // A prefix that never decides is bounded.
        let mut g = Detector::default();
        for _ in 0..2 * MAX_PREFIX {
            g.feed(Dir::ToServer, b"G", 80);
        }
        assert!(g.prefix[0].len() <= MAX_PREFIX);
        assert_eq!(g.give_up(Dir::ToClient), FlowVerdict::Failed);

        // A first chunk larger than the prefix that decides: the caller
        // gets back what was not kept.
        let mut h = Detector::default();
        let big = [b"GET /".as_slice(), &[b'a'; 2000]].concat();
        let (v, stored) = h.feed(Dir::ToServer, &big, 80);
        assert_eq!(v, FlowVerdict::Detected(Proto::Http));
        assert_eq!(stored, MAX_PREFIX);
        // Undecided bytes that do not fit are lost, and counted.
        let mut k = Detector::default();
        k.feed(Dir::ToServer, &[b'G'; 1], 80);
        let (v, stored) = k.feed(Dir::ToClient, &[0u8; 3000], 80);
        assert_eq!(v, FlowVerdict::Undecided);
        assert_eq!(stored, 3000);
        assert_eq!(k.into_parts().1, [0, 3000 - MAX_PREFIX as u64]);
    }

    #[test]
    fn no_panic_on_any_prefix() {
        let inputs: [&[u8]; 4] = [
            b"GET / HTTP/1.1\r\n",
            &[0x16, 3, 1, 0, 5, 1],
            &[0x80, 0x2e, 1, 3, 1],
            &query(),
        ];
        for i in inputs {
            for n in 0..=i.len() {
                for dir in [Dir::ToServer, Dir::ToClient] {
                    let _ = tcp(dir, &i[..n], 53);
                    let _ = udp(&i[..n], 53);
                }
            }
        }
    }
}
