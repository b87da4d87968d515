//! `mirador send`: send a capture to a sensor as mirrored traffic.
//!
//! A capture of mirror traffic (frames carrying UDP to 4789 or 6081) is
//! sent as it is: each tunnel datagram's UDP payload, the VXLAN or GENEVE
//! header and what it carries. Any other capture is wrapped frame by frame
//! as `pcap encap` wraps it (VXLAN, or with `--gwlb` GENEVE around VXLAN)
//! and the wrapping's UDP payload is sent. The kernel adds the outer IP and
//! UDP headers, so the outer addresses and the source port are the sending
//! host's: one socket, one source port (AWS varies it per inner flow).
//!
//! Datagrams go out in `sendmmsg` batches ([`mirador_capture::udp`]),
//! optionally paced by a token bucket that sleeps rather than spins. The
//! report counts only datagrams the kernel accepted; refused sends are
//! counted apart.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mirador_capture::PcapSource;
use mirador_capture::udp::{MAX_BATCH, send_batch};
use mirador_wire::emit::{self, GENEVE_PORT, VXLAN_PORT};

use super::encap::Wrapper;
use crate::SendArgs;

/// The VNI of wrapped frames when `--vni` is not given.
const DEFAULT_VNI: u32 = 1;

/// Pacing granularity: a batch holds at most this long's worth of traffic
/// at the requested rate, so pacing stays smooth at low rates.
const BATCH_SPAN: f64 = 0.010;

/// Runs `mirador send`.
pub fn run(args: &SendArgs) -> Result<ExitCode> {
    let dest = resolve(&args.to)?;
    let pcap = args.pcap.as_path();
    let as_is = is_mirror_capture(pcap)?;
    let mut wrapper = if as_is {
        if args.vni.is_some() || args.gwlb || args.packet_length.is_some() {
            bail!(
                "{}: already VXLAN/GENEVE mirror traffic, sent as it is; --vni, --gwlb and \
                 --packet-length apply to captures that need wrapping",
                pcap.display()
            );
        }
        None
    } else {
        // The addresses inside the GWLB wrap are `pcap encap`'s defaults:
        // the socket, not these, gives the outer ones.
        let w = Wrapper::new(
            args.vni.unwrap_or(DEFAULT_VNI),
            "10.0.1.15".parse()?,
            "10.0.0.100".parse()?,
            args.packet_length,
            args.gwlb,
            false,
        )?;
        Some(w)
    };
    let wrap_port = if args.gwlb { GENEVE_PORT } else { VXLAN_PORT };
    let other_port = if args.gwlb { VXLAN_PORT } else { GENEVE_PORT };
    if !as_is && dest.port() == other_port {
        eprintln!(
            "mirador send: warning: --to {dest}: sending {} to port {other_port}, where a \
             sensor expects {}",
            kind_name(wrap_port),
            kind_name(other_port)
        );
    }

    let socket = connect(dest)?;
    let pace = match (args.rate, args.mbps) {
        (Some(pps), _) => Some(Pace::new(Unit::Datagrams, pps)),
        (None, Some(mbps)) => Some(Pace::new(Unit::Bits, mbps * 1e6)),
        (None, None) => None,
    };
    let mut sender = Sender::new(&socket, pace);
    let mut tally = Tally::default();
    let mut scratch = Vec::new();
    for _ in 0..args.loops {
        let mut src = PcapSource::open(pcap)?;
        let mut record = 0u64;
        while let Some(rec) = src.next_record()? {
            record += 1;
            let Some(frame) = emit::to_ethernet(rec.linktype, rec.data, &mut scratch) else {
                tally.no_ethernet += 1;
                continue;
            };
            let out = sender.next_buffer();
            let port = match wrapper.as_mut() {
                Some(w) => {
                    w.udp_payload(frame, out)
                        .with_context(|| format!("{}: record {record}", pcap.display()))?
                        .dst
                }
                None => {
                    let Some((port, payload)) = tunnel_datagram(frame) else {
                        tally.not_tunnel += 1;
                        continue;
                    };
                    out.clear();
                    out.extend_from_slice(payload);
                    port
                }
            };
            if port == GENEVE_PORT {
                tally.geneve += 1;
            } else {
                tally.vxlan += 1;
            }
            sender.commit();
        }
        tally.truncated_tail |= src.truncated_tail();
    }
    sender.flush();
    let elapsed = sender.started.map(|t| t.elapsed()).unwrap_or_default();

    let secs = elapsed.as_secs_f64();
    let (pps, mbps) = if secs > 0.0 {
        (
            sender.sent as f64 / secs,
            sender.bytes as f64 * 8.0 / secs / 1e6,
        )
    } else {
        (0.0, 0.0)
    };
    eprintln!(
        "mirador send: {} datagrams, {} bytes (UDP payload) sent to {dest} in {secs:.3} s: \
         {pps:.0} datagrams/s, {mbps:.3} Mbit/s",
        sender.sent, sender.bytes
    );
    let what = match &wrapper {
        Some(_) => format!(
            "{} frames wrapped as {}{}{}",
            tally.vxlan + tally.geneve,
            if args.gwlb {
                "GWLB GENEVE+VXLAN"
            } else {
                "VXLAN"
            },
            format_args!(" vni {}", args.vni.unwrap_or(DEFAULT_VNI)),
            args.packet_length
                .map(|l| format!(", truncated to {l} bytes"))
                .unwrap_or_default(),
        ),
        None => format!(
            "{} VXLAN and {} GENEVE datagrams taken as they are, {} frames skipped (not \
             VXLAN/GENEVE)",
            tally.vxlan, tally.geneve, tally.not_tunnel
        ),
    };
    eprintln!(
        "  {} pass(es) over {}: {what}, {} skipped (no Ethernet form){}",
        args.loops,
        pcap.display(),
        tally.no_ethernet,
        if tally.truncated_tail {
            "; the capture ends in a partial record"
        } else {
            ""
        }
    );
    match &sender.first_error {
        None => eprintln!("  failed sends: 0"),
        Some(e) => eprintln!("  failed sends: {} (first: {e})", sender.failed),
    }
    Ok(if sender.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn kind_name(port: u16) -> &'static str {
    if port == GENEVE_PORT {
        "GENEVE"
    } else {
        "VXLAN"
    }
}

/// `--to HOST:PORT`: the first address it resolves to.
fn resolve(to: &str) -> Result<SocketAddr> {
    to.to_socket_addrs()
        .with_context(|| format!("--to {to}: expected HOST:PORT"))?
        .next()
        .with_context(|| format!("--to {to}: resolves to no address"))
}

/// A UDP socket of `dest`'s family, connected to it (so sends carry no
/// address and ICMP errors are reported).
fn connect(dest: SocketAddr) -> Result<UdpSocket> {
    let any: SocketAddr = if dest.is_ipv4() {
        "0.0.0.0:0".parse()?
    } else {
        "[::]:0".parse()?
    };
    let socket = UdpSocket::bind(any).with_context(|| format!("--to {dest}: cannot bind {any}"))?;
    socket
        .connect(dest)
        .with_context(|| format!("--to {dest}: cannot connect"))?;
    Ok(socket)
}

/// Whether the capture holds mirror traffic: any frame carrying a UDP
/// datagram to 4789 or 6081.
fn is_mirror_capture(pcap: &Path) -> Result<bool> {
    let mut src = PcapSource::open(pcap)?;
    let mut scratch = Vec::new();
    while let Some(rec) = src.next_record()? {
        if emit::to_ethernet(rec.linktype, rec.data, &mut scratch)
            .and_then(tunnel_datagram)
            .is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The destination port and payload of a UDP datagram to the VXLAN or
/// GENEVE port carried by `frame` (an Ethernet frame, up to three VLAN
/// tags, unfragmented IPv4 or IPv6). Written here rather than taken from
/// the decoder, which decodes through the tunnel and reports the inner
/// packet, not where the outer UDP payload lies. The payload is bounded by
/// the IP and UDP length fields (Ethernet padding is not sent) and by what
/// was captured.
fn tunnel_datagram(frame: &[u8]) -> Option<(u16, &[u8])> {
    let be16 = |b: &[u8], at: usize| -> Option<u16> {
        Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
    };
    let mut off = 12;
    let mut ethertype = be16(frame, off)?;
    for _ in 0..3 {
        if ethertype != 0x8100 && ethertype != 0x88a8 {
            break;
        }
        off += 4;
        ethertype = be16(frame, off)?;
    }
    let ip = frame.get(off + 2..)?;
    let udp = match ethertype {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(be16(ip, 2)?);
            let frag = be16(ip, 6)? & 0x3fff; // MF and offset
            if ip.first()? >> 4 != 4 || ihl < 20 || *ip.get(9)? != 17 || frag != 0 || total < ihl {
                return None;
            }
            ip.get(ihl..total.min(ip.len()))?
        }
        0x86dd => {
            if ip.first()? >> 4 != 6 {
                return None;
            }
            let end = 40usize.saturating_add(usize::from(be16(ip, 4)?));
            let ip = ip.get(..end.min(ip.len()))?;
            let (mut next, mut at) = (*ip.get(6)?, 40);
            // Hop-by-hop, routing and destination options may precede UDP;
            // a fragment header (44) or anything else ends the search.
            while matches!(next, 0 | 43 | 60) {
                next = *ip.get(at)?;
                at += (usize::from(*ip.get(at + 1)?) + 1) * 8;
            }
            if next != 17 {
                return None;
            }
            ip.get(at..)?
        }
        _ => return None,
    };
    let port = be16(udp, 2)?;
    if port != VXLAN_PORT && port != GENEVE_PORT {
        return None;
    }
    let len = usize::from(be16(udp, 4)?);
    if len < 8 {
        return None;
    }
    Some((port, udp.get(8..len.min(udp.len()))?))
}

/// What was read and how it was handled.
#[derive(Debug, Default)]
struct Tally {
    vxlan: u64,
    geneve: u64,
    no_ethernet: u64,
    not_tunnel: u64,
    truncated_tail: bool,
}

/// What a rate counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Datagrams,
    /// Bits of UDP payload.
    Bits,
}

/// A rate limit: the bucket and how big a batch may grow under it.
#[derive(Debug)]
struct Pace {
    unit: Unit,
    bucket: TokenBucket,
    /// Tokens a batch may cost before it is sent.
    batch_cost: f64,
}

impl Pace {
    fn new(unit: Unit, rate: f64) -> Pace {
        let batch_cost = rate * BATCH_SPAN;
        Pace {
            unit,
            bucket: TokenBucket::new(rate, batch_cost, Duration::ZERO),
            batch_cost,
        }
    }

    fn cost(&self, datagram: &[u8]) -> f64 {
        match self.unit {
            Unit::Datagrams => 1.0,
            Unit::Bits => datagram.len() as f64 * 8.0,
        }
    }
}

/// A token bucket with debt: a caller takes what it needs, possibly going
/// below zero, and waits until the debt is repaid. Over any span `t` from
/// its creation no more than `burst + rate * t` tokens are handed out
/// before their wait has passed. Time is an argument (the offset from a
/// start the caller keeps), so it is tested without a clock.
#[derive(Debug, Clone)]
struct TokenBucket {
    /// Tokens per second.
    rate: f64,
    /// Most tokens stored while idle.
    burst: f64,
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket at time `now`.
    fn new(rate: f64, burst: f64, now: Duration) -> TokenBucket {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes `cost` tokens at `now` and returns how long to wait before
    /// using them (zero when they were there).
    fn take(&mut self, cost: f64, now: Duration) -> Duration {
        if let Some(dt) = now.checked_sub(self.last) {
            self.tokens = (self.tokens + dt.as_secs_f64() * self.rate).min(self.burst);
            self.last = now;
        }
        self.tokens -= cost;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(-self.tokens / self.rate).unwrap_or(Duration::MAX)
        }
    }
}

/// Batches datagrams and sends them, paced.
struct Sender<'a> {
    socket: &'a UdpSocket,
    pace: Option<Pace>,
    /// Reused datagram buffers; the first `len` hold the pending batch.
    bufs: Vec<Vec<u8>>,
    len: usize,
    cost: f64,
    started: Option<Instant>,
    sent: u64,
    bytes: u64,
    failed: u64,
    first_error: Option<std::io::Error>,
}

impl<'a> Sender<'a> {
    fn new(socket: &'a UdpSocket, pace: Option<Pace>) -> Sender<'a> {
        Sender {
            socket,
            pace,
            bufs: vec![Vec::new(); MAX_BATCH],
            len: 0,
            cost: 0.0,
            started: None,
            sent: 0,
            bytes: 0,
            failed: 0,
            first_error: None,
        }
    }

    /// The buffer for the next datagram (its old content is to be
    /// replaced); it joins the batch at [`Sender::commit`].
    fn next_buffer(&mut self) -> &mut Vec<u8> {
        &mut self.bufs[self.len]
    }

    /// Adds the buffer filled since [`Sender::next_buffer`] to the batch,
    /// and sends the batch when it is full.
    fn commit(&mut self) {
        if let Some(p) = &self.pace {
            self.cost += p.cost(&self.bufs[self.len]);
        }
        self.len += 1;
        let paced_full = self
            .pace
            .as_ref()
            .is_some_and(|p| self.cost >= p.batch_cost);
        if self.len == MAX_BATCH || paced_full {
            self.flush();
        }
    }

    /// Waits for the batch's tokens, then sends it; a datagram the kernel
    /// refuses is counted as failed and skipped.
    fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        let started = *self.started.get_or_insert_with(Instant::now);
        if let Some(p) = self.pace.as_mut() {
            let wait = p.bucket.take(self.cost, started.elapsed());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        }
        let mut i = 0;
        while i < self.len {
            match send_batch(self.socket, &self.bufs[i..self.len]) {
                Ok(n) if n > 0 => {
                    let end = (i + n).min(self.len);
                    self.sent += (end - i) as u64;
                    self.bytes += self.bufs[i..end]
                        .iter()
                        .map(|b| b.len() as u64)
                        .sum::<u64>();
                    i = end;
                }
                Ok(_) => {
                    self.failed += 1;
                    i += 1;
                }
                Err(e) => {
                    self.failed += 1;
                    self.first_error.get_or_insert(e);
                    i += 1;
                }
            }
        }
        self.len = 0;
        self.cost = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_full_bucket_serves_its_burst_at_once() {
        let mut b = TokenBucket::new(100.0, 5.0, ms(0));
        assert_eq!(b.take(5.0, ms(0)), Duration::ZERO);
        // Empty now: one more token costs 1/100 s.
        assert_eq!(b.take(1.0, ms(0)), ms(10));
    }

    #[test]
    fn debt_accumulates_and_is_repaid_by_time() {
        let mut b = TokenBucket::new(1000.0, 0.0, ms(0));
        assert_eq!(b.take(10.0, ms(0)), ms(10));
        assert_eq!(b.take(10.0, ms(0)), ms(20));
        // At 20 ms the debt of 20 tokens is repaid.
        assert_eq!(b.take(10.0, ms(20)), ms(10));
        // Taken late: the pause repaid the debt but stored nothing (the
        // burst is zero).
        assert_eq!(b.take(5.0, ms(40)), ms(5));
    }

    #[test]
    fn idle_time_stores_no_more_than_the_burst() {
        let mut b = TokenBucket::new(100.0, 5.0, ms(0));
        assert_eq!(b.take(5.0, ms(0)), Duration::ZERO);
        // A minute idle refills 5 tokens, not 6000.
        assert_eq!(b.take(5.0, ms(60_000)), Duration::ZERO);
        assert_eq!(b.take(2.0, ms(60_000)), ms(20));
    }

    #[test]
    fn a_clock_going_back_refills_nothing() {
        let mut b = TokenBucket::new(100.0, 1.0, ms(100));
        assert_eq!(b.take(1.0, ms(100)), Duration::ZERO);
        assert_eq!(b.take(1.0, ms(50)), ms(10));
    }

    #[test]
    fn the_rate_holds_over_a_run() {
        // A caller who sleeps exactly as told: 1001 tokens in batches of
        // 7 at 500/s are paid for after (1001 - burst) / 500 s.
        let mut b = TokenBucket::new(500.0, 5.0, ms(0));
        let mut now = Duration::ZERO;
        let mut taken = 0.0;
        while taken < 1000.0 {
            now += b.take(7.0, now);
            taken += 7.0;
            assert!(taken <= 5.0 + 500.0 * now.as_secs_f64() + 1e-6);
        }
        let secs = now.as_secs_f64();
        assert!((secs - (1001.0 - 5.0) / 500.0).abs() < 0.001, "{secs}");
    }

    #[test]
    fn an_absurd_debt_waits_forever_without_panicking() {
        let mut b = TokenBucket::new(f64::MIN_POSITIVE, 0.0, ms(0));
        assert_eq!(b.take(1e300, ms(0)), Duration::MAX);
    }

    fn eth(ethertype: u16, l3: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(l3);
        f
    }

    fn udp(dst: u16, payload: &[u8]) -> Vec<u8> {
        let mut u = vec![0xc0, 0x00];
        u.extend_from_slice(&dst.to_be_bytes());
        u.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        u
    }

    fn ipv4(proto: u8, frag: u16, l4: &[u8]) -> Vec<u8> {
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&(20 + l4.len() as u16).to_be_bytes());
        ip.extend_from_slice(&[0, 0]);
        ip.extend_from_slice(&frag.to_be_bytes());
        ip.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        ip.extend_from_slice(l4);
        ip
    }

    fn ipv6(next: u8, l4: &[u8]) -> Vec<u8> {
        let mut ip = vec![0x60, 0, 0, 0];
        ip.extend_from_slice(&(l4.len() as u16).to_be_bytes());
        ip.extend_from_slice(&[next, 64]);
        ip.extend_from_slice(&[0; 32]);
        ip.extend_from_slice(l4);
        ip
    }

    #[test]
    fn tunnel_datagrams_are_found() {
        let payload = b"VXLANHDRinner";
        let mut f = eth(0x0800, &ipv4(17, 0x4000, &udp(4789, payload)));
        f.extend_from_slice(&[0; 6]); // Ethernet padding is not sent
        assert_eq!(tunnel_datagram(&f), Some((4789, &payload[..])));
        let f = eth(0x86dd, &ipv6(17, &udp(6081, payload)));
        assert_eq!(tunnel_datagram(&f), Some((6081, &payload[..])));
        // Destination options before UDP.
        let mut ext = vec![17, 0, 0, 0, 0, 0, 0, 0];
        ext.extend_from_slice(&udp(4789, payload));
        let f = eth(0x86dd, &ipv6(60, &ext));
        assert_eq!(tunnel_datagram(&f), Some((4789, &payload[..])));
        // Behind a VLAN tag.
        let mut tagged = vec![0, 7, 0x08, 0x00];
        tagged.extend_from_slice(&ipv4(17, 0, &udp(4789, payload)));
        let f = eth(0x8100, &tagged);
        assert_eq!(tunnel_datagram(&f), Some((4789, &payload[..])));
    }

    #[test]
    fn other_traffic_is_not_a_tunnel_datagram() {
        let payload = b"xxxxxxxx";
        for f in [
            eth(0x0800, &ipv4(17, 0, &udp(53, payload))),
            eth(0x0800, &ipv4(6, 0, &udp(4789, payload))),
            // A first fragment: the datagram is not whole.
            eth(0x0800, &ipv4(17, 0x2000, &udp(4789, payload))),
            eth(0x86dd, &ipv6(44, &udp(4789, payload))),
            eth(0x0806, &[0; 28]),
        ] {
            assert_eq!(tunnel_datagram(&f), None);
        }
    }

    #[test]
    fn every_truncation_is_handled() {
        let mut ext = vec![17, 0, 0, 0, 0, 0, 0, 0];
        ext.extend_from_slice(&udp(4789, b"VXLANHDRinner"));
        for f in [
            eth(0x0800, &ipv4(17, 0, &udp(4789, b"VXLANHDRinner"))),
            eth(0x86dd, &ipv6(0, &ext)),
        ] {
            for cut in 0..f.len() {
                // A datagram cut inside its payload is what was captured.
                if let Some((_, p)) = tunnel_datagram(&f[..cut]) {
                    assert!(p.len() < 13);
                }
            }
            let mut garbage = f.clone();
            for i in 14..garbage.len() {
                garbage[i] = 0xff;
                let _ = tunnel_datagram(&garbage);
            }
        }
    }
}
