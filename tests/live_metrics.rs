//! `mirador run`'s metrics and output, checked from outside: a real
//! Prometheus scrapes the sensor; every metric of the README's table moves
//! under traffic arranged to move it; an overload is survived with the
//! accounting exact and memory bounded; the EVE file validates.
//!
//! Like `tests/live.rs`, each test starts `mirador run` on loopback and
//! they run one at a time.

mod common;
#[path = "live/sensor.rs"]
mod sensor;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use mirador_testkit::frame::FrameSpec;
use mirador_testkit::frame::tcp_flags::{ACK, FIN, PSH, SYN};
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use mirador_testkit::tunnel;
use sensor::{Sensor, name_of, parse_metrics, parse_types, serial, sum};
use serde_json::Value;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------
// Traffic.

/// An inner frame in VXLAN as a mirror source sends it.
fn vx(vni: u32, inner: &[u8]) -> Vec<u8> {
    tunnel::vxlan_frame(ip("10.0.1.15"), ip("10.0.0.100"), 50000, vni, inner)
}

/// Each inner frame in VXLAN.
fn vxlan(vni: u32, inner: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    inner.iter().map(|f| vx(vni, f)).collect()
}

/// A capture of (already encapsulated) frames, 1 ms apart.
fn write_pcap(dir: &Path, name: &str, frames: &[Vec<u8>]) -> PathBuf {
    let records: Vec<Record> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Record::new(1_700_000_000_000_000_000 + i as u64 * 1_000_000, f.clone()))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, pcap(1, TsResolution::Nano, &records).unwrap()).unwrap();
    path
}

/// One TCP connection's segments, client `c` to server `s`.
struct Tcp {
    c: (IpAddr, u16),
    s: (IpAddr, u16),
}

impl Tcp {
    fn seg(&self, to_server: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let spec = if to_server {
            FrameSpec::tcp(self.c.0, self.s.0, self.c.1, self.s.1)
        } else {
            FrameSpec::tcp(self.s.0, self.c.0, self.s.1, self.c.1)
        };
        spec.flags(flags)
            .seq_ack(seq, ack)
            .payload(payload.to_vec())
            .build()
            .bytes
    }

    fn handshake(&self) -> Vec<Vec<u8>> {
        vec![
            self.seg(true, 1000, 0, SYN, b""),
            self.seg(false, 5000, 1001, SYN | ACK, b""),
            self.seg(true, 1001, 5001, ACK, b""),
        ]
    }

    /// A request whose middle segment the mirror lost (the server
    /// acknowledges past it: a gap, mirror loss), the first segment sent
    /// again with a few more bytes (an overlap), an answer, then FINs.
    fn lossy(&self, tag: &str) -> Vec<Vec<u8>> {
        let a = format!("GET /m/{tag} HTTP/1.1\r\nHost: m\r\n").into_bytes();
        let b = [b'b'; 100];
        let c = b"X-Pad: c\r\n\r\n".to_vec();
        let (sa, sb) = (1001u32, 1001 + a.len() as u32);
        let sc = sb + b.len() as u32;
        let end = sc + c.len() as u32;
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nm-ok";
        let mut f = self.handshake();
        f.push(self.seg(true, sa, 5001, ACK | PSH, &a));
        // `b` never arrives.
        f.push(self.seg(true, sc, 5001, ACK | PSH, &c));
        // `a` again with the start of `b`: new bytes overlapping old ones.
        let mut again = a.clone();
        again.extend_from_slice(&b[..10]);
        f.push(self.seg(true, sa, 5001, ACK | PSH, &again));
        f.push(self.seg(false, 5001, end, ACK, b""));
        f.push(self.seg(false, 5001, end, ACK | PSH, resp));
        let sr = 5001 + resp.len() as u32;
        f.push(self.seg(true, end, sr, ACK, b""));
        f.push(self.seg(true, end, sr, FIN | ACK, b""));
        f.push(self.seg(false, sr, end + 1, FIN | ACK, b""));
        f.push(self.seg(true, end + 1, sr + 1, ACK, b""));
        f
    }

    /// Data after a hole, never acknowledged and never closed: it waits in
    /// reassembly for the missing bytes.
    fn waiting(&self) -> Vec<Vec<u8>> {
        let mut f = self.handshake();
        f.push(self.seg(true, 1101, 5001, ACK | PSH, &[b'w'; 400]));
        f
    }
}

/// `n` closed HTTP-like conversations and as many UDP exchanges (port
/// 53), alternating between VNI 1 (the declared session) and VNI 2.
fn conversations(n: usize, tag: u8) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..n {
        let vni = 1 + (i % 2) as u32;
        let c = ip(&format!("10.{tag}.0.{}", i + 1));
        let s = ip("10.200.0.80");
        let req = format!("GET /m/{i} HTTP/1.1\r\nHost: m\r\n\r\n");
        let resp = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nm-ok";
        for f in tcp_conversation(
            (c, 40000 + i as u16),
            (s, 80),
            &[(true, req.as_bytes()), (false, resp.as_bytes())],
            true,
        ) {
            out.push(vx(vni, &f));
        }
        let q = FrameSpec::udp(c, ip("10.200.0.53"), 30000 + i as u16, 53)
            .payload(vec![0xde, 0xad, 0xbe, 0xef, i as u8])
            .build()
            .bytes;
        out.push(vx(vni, &q));
        let a = FrameSpec::udp(ip("10.200.0.53"), c, 53, 30000 + i as u16)
            .payload(vec![1, 2, 3])
            .build()
            .bytes;
        out.push(vx(vni, &a));
    }
    out
}

/// Inner UDP frames over `flows` flows carrying text for the rules to scan.
fn udp_load(frames: usize, flows: usize, payload: usize, tag: u8) -> Vec<Vec<u8>> {
    let text: Vec<u8> = b"abcd12efgh34ijkl56mnop78qrst90uvwx "
        .iter()
        .copied()
        .cycle()
        .take(payload)
        .collect();
    (0..frames)
        .map(|i| {
            let f = i % flows;
            let c = ip(&format!("10.{tag}.{}.{}", f / 200, f % 200 + 1));
            FrameSpec::udp(c, ip("10.200.1.1"), 20000 + f as u16, 9999)
                .payload(text.clone())
                .build()
                .bytes
        })
        .collect()
}

const LIGHT_RULES: &str = "\
alert tcp any any -> any any (msg:\"m: request\"; flow:to_server; content:\"GET /m\"; classtype:attempted-recon; sid:9200001; rev:1;)
alert tcp any any -> any any (msg:\"m: response\"; flow:to_client; content:\"m-ok\"; classtype:misc-activity; sid:9200002; rev:1;)
alert udp any any -> any 53 (msg:\"m: udp\"; content:\"|de ad be ef|\"; classtype:trojan-activity; sid:9200003; rev:1;)
";

/// `n` rules that every small UDP packet must run a regular expression
/// for (no content to prefilter on, no literal for the regex engine to
/// skip ahead to): inspection becomes slow enough to overload one worker.
/// Packets of 300 bytes or more are left alone, so that a burst can carry
/// many bytes and still drain in moments at shutdown.
fn slow_rules(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "alert udp any any -> any any (msg:\"slow {i}\"; dsize:<300; pcre:\"/([a-z]{{4}}[0-9]{{2}}){{{}}}[A-Z]/\"; sid:{}; rev:1;)\n",
            2 + i % 5,
            9300000 + i
        ));
    }
    s
}

// ---------------------------------------------------------------------
// Scrapes.

/// One `GET /metrics`.
#[derive(Debug, Clone)]
struct Scrape {
    at: Duration,
    values: BTreeMap<String, f64>,
    types: BTreeMap<String, String>,
}

/// Scrapes `/metrics` every 50 ms in the background, keeping every scrape;
/// waits in the foreground add theirs.
struct Scraper {
    http: SocketAddr,
    started: Instant,
    scrapes: Arc<Mutex<Vec<Scrape>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn scrape(http: SocketAddr, started: Instant) -> Scrape {
    let (status, body) = sensor::request(http, "GET", "/metrics");
    assert_eq!(status, 200, "{body}");
    Scrape {
        at: started.elapsed(),
        values: parse_metrics(&body),
        types: parse_types(&body),
    }
}

impl Scraper {
    fn start(http: SocketAddr) -> Scraper {
        let started = Instant::now();
        let scrapes = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (scrapes, stop) = (scrapes.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Relaxed) {
                    let s = scrape(http, started);
                    scrapes.lock().unwrap().push(s);
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        Scraper {
            http,
            started,
            scrapes,
            stop,
            thread: Some(thread),
        }
    }

    /// Scrapes until `ok` holds for the scrape, or panics after `within`.
    fn wait(&self, what: &str, within: Duration, ok: impl Fn(&Scrape) -> bool) -> Scrape {
        let deadline = Instant::now() + within;
        loop {
            let s = scrape(self.http, self.started);
            self.scrapes.lock().unwrap().push(s.clone());
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "waited in vain for {what}; the last scrape:\n{}",
                nonzero(&s)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the sum of `name`'s series is at least `at_least`.
    fn wait_sum(&self, name: &str, at_least: f64) -> Scrape {
        self.wait(
            &format!("{name} >= {at_least}"),
            Duration::from_secs(30),
            |s| sum(&s.values, name) >= at_least,
        )
    }

    /// Whether some scrape so far satisfied `ok`.
    fn seen(&self, ok: impl Fn(&Scrape) -> bool) -> bool {
        self.scrapes.lock().unwrap().iter().any(ok)
    }

    fn count(&self) -> usize {
        self.scrapes.lock().unwrap().len()
    }

    /// Stops scraping; every scrape, in order.
    fn finish(mut self) -> Vec<Scrape> {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        let mut v = std::mem::take(&mut *self.scrapes.lock().unwrap());
        v.sort_by_key(|s| s.at);
        v
    }
}

/// A scrape's non-zero series, one a line.
fn nonzero(s: &Scrape) -> String {
    s.values
        .iter()
        .filter(|(_, v)| **v != 0.0)
        .map(|(k, v)| format!("{k} {v}\n"))
        .collect()
}

/// Waits until every datagram sent so far was received or dropped by the
/// kernel.
fn settled(scraper: &Scraper, sent: u64) -> Scrape {
    scraper.wait(
        &format!("{sent} datagrams received or dropped by the kernel"),
        Duration::from_secs(60),
        |s| {
            sum(&s.values, "mirador_packets_received_total")
                + sum(&s.values, "mirador_kernel_dropped_total")
                >= sent as f64
        },
    )
}

// ---------------------------------------------------------------------
// The README's table.

/// One row of the README's `## Metrics` table.
#[derive(Debug)]
struct Documented {
    name: String,
    kind: String,
    labelled: bool,
}

impl Documented {
    /// The family name in the exposition (OpenMetrics drops `_total`).
    fn family(&self) -> &str {
        match self.kind.as_str() {
            "counter" => self
                .name
                .strip_suffix("_total")
                .expect("a counter ends in _total"),
            _ => &self.name,
        }
    }

    /// The series whose sum is the metric's value (a histogram's count).
    fn value_series(&self) -> String {
        match self.kind.as_str() {
            "histogram" => format!("{}_count", self.name),
            _ => self.name.clone(),
        }
    }
}

fn readme_metrics() -> Vec<Documented> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("\n## Metrics\n")
        .nth(1)
        .expect("a ## Metrics section in README.md");
    let section = section.split("\n## ").next().unwrap();
    let mut out = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`').to_string();
        let kind = cells[2].to_string();
        assert!(
            matches!(kind.as_str(), "counter" | "gauge" | "histogram"),
            "{line}"
        );
        out.push(Documented {
            name,
            kind,
            labelled: !cells[3].is_empty(),
        });
    }
    assert!(out.len() >= 30, "the table has every metric: {out:?}");
    out
}

// ---------------------------------------------------------------------
// The final stats record.

fn last_stats(records: &[Value]) -> &Value {
    &records
        .iter()
        .rfind(|r| r["event_type"] == "stats")
        .expect("a final stats record")["stats"]
}

// ---------------------------------------------------------------------
// Every metric moves.

#[test]
fn every_metric_in_the_readme_moves_under_traffic() {
    let _one = serial();
    let documented = readme_metrics();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("m.rules");
    std::fs::write(&rules, LIGHT_RULES).unwrap();
    // A declared session (VNI 1: on loopback every outer source is
    // 127.0.0.1, so the VNI alone names it) whose filter keeps inbound SSH
    // out; VNI 2 is anonymous; VNI 3 is not allowed.
    let config = dir.path().join("m.yaml");
    std::fs::write(
        &config,
        "\
mirror:
  vni-allow: [1, 2]
  sessions:
    - id: tms-0123456789abcdef0
      name: app
      vni: 1
      eni-addresses: [10.200.0.0/16]
      tenant: prod
      filter: no-ssh-in
filters:
  no-ssh-in:
    ingress:
      - { rule-number: 100, action: reject, protocol: 6, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0, destination-port: 22 }
      - { rule-number: 200, action: accept, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }
    egress:
      - { rule-number: 100, action: accept, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }
",
    )
    .unwrap();
    let s = Sensor::start(&[
        "--config",
        config.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--workers",
        "1",
        // Closed flows end at the next tick (their gaps and overlaps count
        // then); a small table goes into emergency and evicts.
        "--set",
        "flow-timeouts.tcp.closed=0",
        "--set",
        "flow.max-flows=50",
        "--set",
        "outputs.eve.rotate-size=16kb",
        // Room for one batch between the receiver and the pipeline: a
        // burst overflows it. A small receive buffer, that paced traffic
        // (`mirador send --rate` sends 10 ms at a time) fits in.
        "--set",
        "listen.queue=1",
        "--set",
        "listen.recv-buffer=64kb",
        "--set",
        "health.fail-on-overload=yes",
    ]);
    let scraper = Scraper::start(s.http);
    let mut sent = 0u64;
    while scraper.count() < 3 {
        std::thread::sleep(Duration::from_millis(20));
    }

    // Conversations, alerts, a lost segment and an overlap.
    let mut frames = conversations(10, 1);
    for i in 0..4u16 {
        let t = Tcp {
            c: (ip(&format!("10.1.1.{}", i + 1)), 41000 + i),
            s: (ip("10.200.0.80"), 80),
        };
        frames.extend(t.lossy(&i.to_string()).iter().map(|f| vx(1, f)));
    }
    let p_conversations = write_pcap(dir.path(), "conversations.pcap", &frames);
    sent += s.send(&["--rate", "2000"], &p_conversations);
    settled(&scraper, sent);
    for m in [
        "mirador_alerts_total",
        "mirador_reassembly_gaps_total",
        "mirador_reassembly_overlaps_total",
        "mirador_session_mirror_loss_bytes_total",
    ] {
        scraper.wait_sum(m, 1.0);
    }

    // Stream data waiting for a hole to fill.
    let t = Tcp {
        c: (ip("10.1.2.1"), 42000),
        s: (ip("10.200.0.80"), 80),
    };
    let frames: Vec<_> = t.waiting().iter().map(|f| vx(2, f)).collect();
    let p = write_pcap(dir.path(), "waiting.pcap", &frames);
    sent += s.send(&["--rate", "2000"], &p);
    scraper.wait_sum("mirador_reassembly_memory_bytes", 1.0);

    // Invalid, truncated (a TCP header cut short: inspected laxly) and
    // filtered packets.
    let mut bad_version = FrameSpec::udp(ip("10.1.3.1"), ip("10.200.0.53"), 1, 53)
        .build()
        .bytes;
    bad_version[14] = 0x55;
    let cut_tcp = FrameSpec::tcp(ip("10.1.3.2"), ip("10.200.0.80"), 2, 80)
        .build()
        .bytes[..14 + 20 + 8]
        .to_vec();
    let ssh = Tcp {
        c: (ip("10.1.3.3"), 43000),
        s: (ip("10.200.0.22"), 22),
    };
    let frames = vec![
        vx(1, &bad_version),
        vx(1, &cut_tcp),
        vx(
            3,
            &FrameSpec::udp(ip("10.1.3.4"), ip("10.200.0.53"), 3, 53)
                .build()
                .bytes,
        ),
        vx(1, &ssh.seg(true, 1000, 0, SYN, b"")),
    ];
    let p = write_pcap(dir.path(), "bad.pcap", &frames);
    sent += s.send(&["--rate", "2000"], &p);
    scraper.wait_sum("mirador_packets_invalid_total", 1.0);
    scraper.wait_sum("mirador_decode_events_total", 1.0);
    scraper.wait_sum("mirador_packets_filtered_total", 2.0);
    scraper.wait_sum("mirador_session_filtered_total", 1.0);

    // Truncated copies (AWS PacketLength).
    // (`mirador send` wraps these Ethernet frames itself.)
    let p = write_pcap(dir.path(), "long.pcap", &udp_load(20, 1, 300, 4));
    sent += s.send(
        &["--rate", "2000", "--vni", "1", "--packet-length", "80"],
        &p,
    );
    scraper.wait_sum("mirador_packets_truncated_total", 1.0);
    scraper.wait_sum("mirador_session_truncated_total", 1.0);

    // More flows than the table holds: emergency mode, evictions; their
    // flow records rotate the EVE file.
    let p = write_pcap(
        dir.path(),
        "flows.pcap",
        &vxlan(2, udp_load(300, 300, 10, 5)),
    );
    sent += s.send(&["--rate", "5000"], &p);
    scraper.wait_sum("mirador_flows_evicted_total", 1.0);
    scraper.wait_sum("mirador_flows_emergency", 1.0);
    scraper.wait_sum("mirador_eve_rotations_total", 1.0);
    settled(&scraper, sent);

    // Reloads: a rule set of another size with a rule skipped, then a
    // rules file that is gone.
    let mut heavy = LIGHT_RULES.to_string();
    heavy.push_str(
        "alert smtp any any -> any any (msg:\"m: smtp, unsupported\"; sid:9200009; rev:1;)\n",
    );
    heavy.push_str(&slow_rules(60));
    std::fs::write(&rules, &heavy).unwrap();
    let (code, body) = s.request("POST", "/-/reload");
    assert_eq!(code, 200, "{body}");
    let gone = dir.path().join("gone.rules");
    std::fs::rename(&rules, &gone).unwrap();
    let (code, body) = s.request("POST", "/-/reload");
    assert_eq!(code, 500, "{body}");
    std::fs::rename(&gone, &rules).unwrap();
    scraper.wait_sum("mirador_reload_failures_total", 1.0);
    scraper.wait_sum("mirador_rules_skipped", 1.0);

    // Datagrams the kernel drops: while the sensor is stopped (SIGSTOP)
    // nothing reads its socket, and a burst overflows the receive buffer.
    let burst = write_pcap(
        dir.path(),
        "burst.pcap",
        &vxlan(2, udp_load(4000, 64, 200, 6)),
    );
    s.signal(19); // SIGSTOP
    sent += s.send(&[], &burst);
    s.signal(18); // SIGCONT
    settled(&scraper, sent);
    scraper.wait_sum("mirador_kernel_dropped_total", 1.0);

    // Bursts faster than one worker with those rules inspects.
    let want = |sc: &Scraper| {
        sc.seen(|s| sum(&s.values, "mirador_worker_queue_depth") > 0.0)
            && sc.seen(|s| sum(&s.values, "mirador_packets_dropped_total") > 0.0)
            && sc.seen(|s| sum(&s.values, "mirador_overloaded") == 1.0)
            && sc.seen(|s| sum(&s.values, "mirador_ready") == 0.0)
    };
    for attempt in 1..=5 {
        let t = Instant::now();
        sent += s.send(&["--loop", "5"], &burst);
        eprintln!("burst {attempt}: sent in {:?}", t.elapsed());
        let t = Instant::now();
        settled(&scraper, sent);
        scraper.wait("the queues to drain", Duration::from_secs(60), |s| {
            sum(&s.values, "mirador_worker_queue_depth") == 0.0
        });
        eprintln!("burst {attempt}: settled in {:?}", t.elapsed());
        if want(&scraper) {
            break;
        }
        assert!(attempt < 5, "no overload after 5 bursts");
    }
    let (code, body) = s.request("GET", "/readyz");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("overloaded: yes"), "{body}");

    let scrapes = scraper.finish();
    let (status, records) = s.stop();
    assert!(status.success(), "{status}");
    let received = balanced(&last_stats(&records)["accounting"]);
    assert!(received > 0);
    eprintln!("{} scrapes", scrapes.len());

    let mut still = Vec::new();
    for m in &documented {
        for sc in &scrapes {
            assert_eq!(
                sc.types.get(m.family()).map(String::as_str),
                Some(m.kind.as_str()),
                "{} is served as a {} in every scrape (at {:?})",
                m.name,
                m.kind,
                sc.at
            );
            if !m.labelled {
                assert!(
                    sc.values.contains_key(&m.value_series()),
                    "{} has its series in every scrape (at {:?})",
                    m.name,
                    sc.at
                );
            }
        }
        let values: BTreeSet<u64> = scrapes
            .iter()
            .map(|sc| sum(&sc.values, &m.value_series()).to_bits())
            .collect();
        eprintln!(
            "{}: {} values, last {}",
            m.name,
            values.len(),
            sum(&scrapes.last().unwrap().values, &m.value_series())
        );
        match m.name.as_str() {
            // Constant by definition.
            "mirador_build_info" => {
                assert!(scrapes.iter().all(|sc| sum(&sc.values, &m.name) == 1.0));
            }
            // Needs failing writes: checked on its own run below.
            "mirador_eve_write_errors_total" => {}
            _ => {
                if values.len() < 2 {
                    still.push(m.name.clone());
                }
            }
        }
    }
    assert!(still.is_empty(), "these metrics never moved: {still:?}");
    // And the table has every metric served.
    let families: BTreeSet<&str> = documented.iter().map(Documented::family).collect();
    for sc in &scrapes {
        for f in sc.types.keys() {
            assert!(
                families.contains(f.as_str()),
                "{f} is not in the README's table"
            );
        }
    }

    // Failing writes, on a sensor of their own: its EVE output is a full
    // disk.
    let mut s = Sensor::start_in(
        tempfile::tempdir().unwrap(),
        Path::new("/dev/full"),
        &[
            "--no-rules",
            "--workers",
            "1",
            "--set",
            "flow-timeouts.tcp.closed=0",
        ],
    );
    let scraper = Scraper::start(s.http);
    scraper.wait("a scrape before traffic", Duration::from_secs(10), |_| true);
    s.send(&["--rate", "2000"], &p_conversations);
    scraper.wait_sum("mirador_eve_write_errors_total", 1.0);
    let values: BTreeSet<u64> = scraper
        .finish()
        .iter()
        .map(|sc| sum(&sc.values, "mirador_eve_write_errors_total").to_bits())
        .collect();
    assert!(values.len() >= 2);
    // The sensor keeps running through write errors; its exit status
    // reports them.
    let status = s.stop_process();
    assert_eq!(status.code(), Some(1), "{status}");
    assert!(!s.logged("EVE output").is_empty(), "{:?}", s.logs());
}

// ---------------------------------------------------------------------
// Records are written while the sensor runs.

/// The complete lines of an EVE file being written, parsed.
fn eve_so_far(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |i| &text[..=i]);
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad EVE line {l:?}: {e}")))
        .collect()
}

#[test]
fn records_come_out_while_traffic_is_quiet() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("m.rules");
    std::fs::write(&rules, LIGHT_RULES).unwrap();
    let s = Sensor::start(&[
        "--rules",
        rules.to_str().unwrap(),
        "--workers",
        "2",
        "--set",
        "flow-timeouts.tcp.closed=0",
    ]);
    let p = write_pcap(dir.path(), "c.pcap", &conversations(4, 7));
    s.send(&["--rate", "2000"], &p);
    // Each alert is written within moments, and each TCP flow's record
    // once its FIN exchange has ended it: not when a buffer fills, nor at
    // shutdown.
    let alerts = s.wait_metric("mirador_alerts_total", 12.0, Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let records = eve_so_far(&s.eve);
        let n = |t: &str| records.iter().filter(|r| r["event_type"] == t).count();
        let tcp_flows = records
            .iter()
            .filter(|r| r["event_type"] == "flow" && r["proto"] == "TCP")
            .count();
        let counted = sum(&s.metrics(), "mirador_eve_records_total");
        if n("alert") as f64 == alerts && tcp_flows >= 4 && counted == records.len() as f64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after 10 s the EVE file has {} alerts of {alerts}, {tcp_flows} TCP flow records of 4, \
             {} records of the {counted} mirador_eve_records_total counts",
            n("alert"),
            records.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = s.stop();
    assert!(status.success());
}

#[test]
fn each_eviction_is_counted_once() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let s = Sensor::start(&["--no-rules", "--workers", "1", "--set", "flow.max-flows=50"]);
    // 300 flows of one packet, in well under emergency-new's timeout:
    // each flow past the 50th evicts one (reason `forced`).
    let p = write_pcap(
        dir.path(),
        "flows.pcap",
        &vxlan(2, udp_load(300, 300, 10, 12)),
    );
    let sent = s.send(&["--rate", "5000"], &p);
    let deadline = Instant::now() + Duration::from_secs(30);
    let evicted = loop {
        let forced = eve_so_far(&s.eve)
            .iter()
            .filter(|r| r["event_type"] == "flow" && r["flow"]["reason"] == "forced")
            .count() as f64;
        let m = s.metrics();
        let evicted = sum(&m, "mirador_flows_evicted_total");
        if sum(&m, "mirador_packets_received_total") == sent as f64 && forced == 250.0 {
            assert_eq!(evicted, forced, "one eviction, one forced flow record");
            break evicted;
        }
        assert!(
            Instant::now() < deadline,
            "{forced} forced flow records of 250; mirador_flows_evicted_total {evicted}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let (status, records) = s.stop();
    assert!(status.success());
    assert_eq!(
        last_stats(&records)["flow"]["forced"].as_f64(),
        Some(evicted)
    );
}

// ---------------------------------------------------------------------
// Prometheus scrapes the sensor.

/// A process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port nothing listens on (the kernel's choice).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Percent-encodes a query parameter.
fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET path` as HTTP/1.0, so that the answer is never chunked (the tests
/// have no HTTP client crate, and need none for this); `None` while
/// nothing listens.
fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: test\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

/// An instant query's result vector.
fn prom_query(prom: SocketAddr, q: &str) -> Vec<Value> {
    let Some((200, body)) = get(prom, &format!("/api/v1/query?query={}", query_escape(q))) else {
        return Vec::new();
    };
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "success", "{body}");
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// The value of a query whose result is one sample.
fn prom_value(prom: SocketAddr, q: &str) -> Option<f64> {
    let r = prom_query(prom, q);
    match r.as_slice() {
        [one] => one["value"][1].as_str()?.parse().ok(),
        _ => None,
    }
}

/// Starts Prometheus scraping `target` every second, on a free loopback
/// port; returns once it answers `/-/ready`.
fn start_prometheus(dir: &Path, target: SocketAddr) -> (Killed, SocketAddr) {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: mirador\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let log_path = dir.join("prometheus.log");
    // The port is free when chosen, not necessarily when Prometheus binds
    // it (another socket may take it meanwhile): then try another.
    for _ in 0..3 {
        let prom: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = std::fs::File::create(&log_path).unwrap();
        let mut p = Killed(
            Command::new("prometheus")
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.join("tsdb").display()
                ))
                .arg(format!("--web.listen-address={prom}"))
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("prometheus"),
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some((200, _)) = get(prom, "/-/ready") {
                return (p, prom);
            }
            if let Ok(Some(status)) = p.0.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap();
                assert!(
                    log.contains("address already in use"),
                    "prometheus exited ({status}):\n{log}"
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus is not ready after 60 s:\n{}",
                std::fs::read_to_string(&log_path).unwrap()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("prometheus found no free port in 3 tries");
}

#[test]
fn prometheus_scrapes_the_sensor() {
    let Some(()) = tool("prometheus") else { return };
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("m.rules");
    std::fs::write(&rules, LIGHT_RULES).unwrap();
    let s = Sensor::start(&[
        "--rules",
        rules.to_str().unwrap(),
        "--workers",
        "2",
        "--set",
        "flow-timeouts.tcp.closed=0",
    ]);
    let (mut prometheus, prom) = start_prometheus(dir.path(), s.http);
    let prom_log = || std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap();

    let p = write_pcap(dir.path(), "c.pcap", &conversations(20, 8));
    let sent = s.send(&["--rate", "5000"], &p);
    let received = s.wait_metric(
        "mirador_packets_received_total",
        sent as f64,
        Duration::from_secs(30),
    );
    assert_eq!(received, sent as f64);
    let alerts = s.wait_metric("mirador_alerts_total", 60.0, Duration::from_secs(30));

    // Prometheus has what mirador's own /metrics says, and its scrapes
    // succeed.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = prom_value(prom, "mirador_packets_received_total");
        let alerts_got = prom_value(prom, "sum(mirador_alerts_total)");
        let up = prom_value(prom, "up{job=\"mirador\"}");
        if got == Some(received) && alerts_got == Some(alerts) && up == Some(1.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus has received {got:?} (want {received}), alerts {alerts_got:?} (want {alerts}), up {up:?}; it {}; its log:\n{}",
            match prometheus.0.try_wait() {
                Ok(Some(st)) => format!("exited: {st}"),
                _ => "runs".to_string(),
            },
            prom_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (code, body) = get(prom, "/api/v1/targets").unwrap();
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let targets = v["data"]["activeTargets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{body}");
    let t = &targets[0];
    assert_eq!(t["scrapeUrl"], format!("http://{}/metrics", s.http), "{t}");
    assert_eq!(t["health"], "up", "{t}");
    assert_eq!(t["lastError"], "", "{t}");

    // Every series name mirador serves was ingested.
    let served: BTreeSet<String> = s.metrics().keys().map(|k| name_of(k).to_string()).collect();
    let ingested: BTreeSet<String> =
        prom_query(prom, "group by (__name__) ({__name__=~\"mirador_.+\"})")
            .iter()
            .filter_map(|r| r["metric"]["__name__"].as_str().map(String::from))
            .collect();
    let missing: Vec<_> = served.difference(&ingested).collect();
    assert!(missing.is_empty(), "Prometheus lacks {missing:?}");
    let (status, _) = s.stop();
    assert!(status.success());
}

// ---------------------------------------------------------------------
// Overload.

#[test]
fn overload_is_graceful() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("slow.rules");
    std::fs::write(&rules, slow_rules(60)).unwrap();
    // Small datagrams the rules inspect slowly, between large ones that
    // carry the bytes.
    let small = udp_load(2000, 64, 200, 9);
    let large = udp_load(2000, 64, 1400, 10);
    let frames: Vec<_> = small
        .into_iter()
        .zip(large)
        .flat_map(|(a, b)| [vx(2, &a), vx(2, &b)])
        .collect();
    let burst = write_pcap(dir.path(), "burst.pcap", &frames);
    for fail_on_overload in [false, true] {
        let s = Sensor::start(&[
            "--rules",
            rules.to_str().unwrap(),
            "--workers",
            "1",
            "--set",
            "listen.queue=1",
            "--set",
            &format!(
                "health.fail-on-overload={}",
                if fail_on_overload { "yes" } else { "no" }
            ),
        ]);
        let before = s.status_kib("VmRSS");
        let mut sent = 0;
        let t = Instant::now();
        for attempt in 1..=5 {
            sent += s.send(&["--loop", "25"], &burst);
            let m = s.metrics();
            if sum(&m, "mirador_packets_dropped_total") > 0.0 {
                break;
            }
            assert!(attempt < 5, "no queue drop after 5 bursts: {m:?}");
        }
        eprintln!("sent {sent} datagrams in {:?}", t.elapsed());
        let bytes = sum(&s.metrics(), "mirador_listener_bytes_total");
        let m = s.metrics();
        assert!(
            m["mirador_packets_dropped_total{reason=\"queue_full\"}"] > 0.0,
            "{m:?}"
        );
        assert_eq!(sum(&m, "mirador_overloaded"), 1.0);
        let (code, body) = s.request("GET", "/readyz");
        assert!(body.contains("overloaded: yes"), "{body}");
        if fail_on_overload {
            assert_eq!(code, 503, "{body}");
            assert_eq!(sum(&m, "mirador_ready"), 0.0);
        } else {
            assert_eq!(code, 200, "{body}");
            assert_eq!(sum(&m, "mirador_ready"), 1.0);
        }
        // Bounded memory. What the sensor may hold under overload is set by
        // its caps: listen.queue (1) batches between receiver and pipeline
        // plus the receiver's and the pipeline's own (each at most 256 KiB
        // of frames and one datagram), the worker's queue of 16 batches of
        // 64 packets (about 1.5 MiB of these frames), the EVE buffers
        // (pipeline 512 KiB, worker 128 KiB) and a flow table of 128 flows:
        // under 4 MiB. Allowed: four times that plus 16 MiB for the
        // allocator and the debug build, 32 MiB over the RSS before
        // traffic. A sensor that kept what it could not inspect would hold
        // the dropped datagrams instead: more than twice that.
        let peak = s.status_kib("VmHWM");
        let bound = before + 32 * 1024;
        eprintln!(
            "peak RSS {peak} KiB ({before} KiB before traffic; bound {bound} KiB) after {} MB received",
            bytes / 1e6
        );
        assert!(peak < bound, "peak RSS {peak} KiB, over {bound} KiB");
        assert!(
            bytes > 2.0 * 32.0 * 1024.0 * 1024.0,
            "the burst is over twice the bound"
        );
        let (status, records) = s.stop();
        assert!(status.success(), "{status}");
        let stats = last_stats(&records);
        let received = balanced(&stats["accounting"]);
        let kernel = stats["capture"]["kernel_drops"].as_u64().unwrap();
        assert_eq!(sent, received + kernel, "{stats}");
    }
}

// ---------------------------------------------------------------------
// The live sensor's EVE validates.

#[test]
fn live_eve_validates_against_suricatas_schema() {
    let Some(corpus) = corpus() else { return };
    let tool = corpus.join("../tools/eve-validate");
    let has_jsonschema = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    let Some(()) = optional("python3 with jsonschema", has_jsonschema.then_some(())) else {
        return;
    };
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("m.rules");
    std::fs::write(&rules, LIGHT_RULES).unwrap();
    // The EVE file outlives the sensor's scratch folder.
    let eve = dir.path().join("eve.json");
    let s = Sensor::start_in(
        tempfile::tempdir().unwrap(),
        &eve,
        &[
            "--rules",
            rules.to_str().unwrap(),
            "--workers",
            "2",
            "--set",
            "flow-timeouts.tcp.closed=0",
            "--set",
            "stats.interval=1",
            "--set",
            "outputs.eve.alert.payload=yes",
            "--set",
            "outputs.eve.alert.packet=yes",
        ],
    );
    // Alerts, flows (lossy ones too) and anomalies.
    let mut frames = conversations(10, 11);
    let t = Tcp {
        c: (ip("10.11.1.1"), 41000),
        s: (ip("10.200.0.80"), 80),
    };
    frames.extend(t.lossy("v").iter().map(|f| vx(1, f)));
    let mut bad = FrameSpec::udp(ip("10.11.3.1"), ip("10.200.0.53"), 1, 53)
        .build()
        .bytes;
    bad[14] = 0x55;
    frames.push(vx(1, &bad));
    let p = write_pcap(dir.path(), "v.pcap", &frames);
    s.send(&["--rate", "2000"], &p);
    s.wait_metric("mirador_alerts_total", 30.0, Duration::from_secs(30));
    // At least one periodic stats record before the final one.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !eve_so_far(&s.eve)
        .iter()
        .any(|r| r["event_type"] == "stats")
    {
        assert!(Instant::now() < deadline, "no periodic stats record");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, records) = s.stop();
    assert!(status.success());
    let count = |t: &str| records.iter().filter(|r| r["event_type"] == t).count();
    for t in ["alert", "flow", "anomaly"] {
        assert!(count(t) > 0, "no {t} record");
    }
    assert!(count("stats") >= 2, "periodic and final stats records");
    for r in records.iter().filter(|r| r["event_type"] == "stats") {
        let c = &r["stats"]["capture"];
        assert!(
            c["kernel_packets"].is_u64() && c["kernel_drops"].is_u64(),
            "stats.capture: {r}"
        );
    }

    // Every record fits Suricata's schema with mirador's declared overlay
    // (the shared tool; it leaves `stats` free-form)...
    let out = Command::new("python3")
        .arg(&tool)
        .arg(&eve)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{} valid, 0 invalid", records.len())),
        "{stdout}"
    );
    // ... mirador's own additions schema, and `stats.capture` fits
    // Suricata's `stats.capture` exactly (its field names, no others).
    let script = r#"
import json, sys, jsonschema
additions = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
suricata = json.load(open(sys.argv[2]))
capture = jsonschema.Draft202012Validator(suricata["properties"]["stats"]["properties"]["capture"])
n = bad = 0
for line in open(sys.argv[3]):
    rec = json.loads(line)
    n += 1
    errors = list(additions.iter_errors(rec))
    if rec["event_type"] == "stats":
        errors += list(capture.iter_errors(rec["stats"]["capture"]))
    for e in errors:
        bad += 1
        print("line", n, rec["event_type"], list(e.absolute_path), e.message)
print(n, "records", bad, "errors")
sys.exit(1 if bad else 0)
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/eve-additions.schema.json"))
        .arg(corpus.join("eve-schema/suricata-schema.json"))
        .arg(&eve)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
