//! A `mirador run` process for tests: started on loopback with ports the
//! kernel picks (read back from its JSON log), scraped, signalled and
//! stopped.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Held while a test's sensor runs: one sensor at a time, so that a 2-core
/// machine gives each the CPU it needs to keep up with the sender.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// `mirador send --to TO ARGS PCAP`; returns the datagrams sent.
pub fn send_to(to: &str, args: &[&str], pcap: &Path) -> u64 {
    let out = super::common::mirador()
        .arg("send")
        .arg("--to")
        .arg(to)
        .args(args)
        .arg(pcap)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("mirador send: "))
        .unwrap_or_else(|| panic!("no report: {err}"));
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

/// A running sensor.
pub struct Sensor {
    child: Option<Child>,
    /// Its (first) VXLAN socket.
    pub udp: SocketAddr,
    /// Every socket: listener label (`vxlan 127.0.0.1:0`) and bound address.
    pub listeners: Vec<(String, SocketAddr)>,
    /// Its HTTP endpoint.
    pub http: SocketAddr,
    /// Its TCP health-check listener.
    pub tcp: SocketAddr,
    /// Its EVE file.
    pub eve: PathBuf,
    logs: Arc<Mutex<Vec<Value>>>,
    /// Its scratch folder.
    pub dir: tempfile::TempDir,
}

/// The field `key` of a JSON log line (tracing's `fields`, or top level).
pub fn field<'a>(line: &'a Value, key: &str) -> Option<&'a Value> {
    line.get("fields")
        .and_then(|f| f.get(key))
        .or_else(|| line.get(key))
}

fn message(line: &Value) -> &str {
    field(line, "message").and_then(Value::as_str).unwrap_or("")
}

impl Sensor {
    /// Starts `mirador run ARGS` on loopback: VXLAN on one socket, no
    /// GENEVE, JSON logs; waits until it runs.
    pub fn start(args: &[&str]) -> Sensor {
        let dir = tempfile::tempdir().unwrap();
        let eve = dir.path().join("eve.json");
        Self::start_in(dir, &eve, args)
    }

    /// The same, with the EVE output at `eve`.
    pub fn start_in(dir: tempfile::TempDir, eve: &Path, args: &[&str]) -> Sensor {
        let mut cmd = super::common::mirador();
        cmd.arg("run")
            .arg("--eve")
            .arg(eve)
            .args([
                "--set",
                "listen.vxlan=[\"127.0.0.1:0\"]",
                "--set",
                "listen.geneve=[]",
                "--set",
                "listen.sockets=1",
                "--set",
                "http.listen=[\"127.0.0.1:0\"]",
                "--set",
                "health.tcp=[\"127.0.0.1:0\"]",
                "--set",
                "logging.format=json",
            ])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("mirador run");
        let stderr = child.stderr.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        {
            let logs = logs.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let v =
                        serde_json::from_str(&line).unwrap_or_else(|_| Value::String(line.clone()));
                    logs.lock().unwrap().push(v);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        let (mut udp, mut http, mut tcp) = (None, None, None);
        let mut listeners = Vec::new();
        loop {
            {
                let l = logs.lock().unwrap();
                listeners.clear();
                for line in l.iter() {
                    let addr = |k: &str| {
                        field(line, k)
                            .and_then(Value::as_str)
                            .and_then(|s| s.parse::<SocketAddr>().ok())
                    };
                    match message(line) {
                        "listening" => {
                            let name = field(line, "listener").and_then(Value::as_str);
                            if let (Some(n), Some(a)) = (name, addr("bound")) {
                                listeners.push((n.to_string(), a));
                                if n.starts_with("vxlan") {
                                    udp = udp.or(Some(a));
                                }
                            }
                        }
                        m if m.starts_with("HTTP endpoint") => http = http.or(addr("address")),
                        "TCP health check" => tcp = tcp.or(addr("address")),
                        _ => {}
                    }
                }
                if l.iter().any(|line| message(line) == "mirador running") {
                    break;
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "mirador run exited ({status}) before running: {:?}",
                    logs.lock().unwrap()
                );
            }
            assert!(Instant::now() < deadline, "mirador run did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Sensor {
            child: Some(child),
            udp: udp.expect("the VXLAN socket's address in the log"),
            listeners,
            http: http.expect("the HTTP endpoint's address in the log"),
            tcp: tcp.expect("the health check's address in the log"),
            eve: eve.to_path_buf(),
            logs,
            dir,
        }
    }

    /// `mirador send ARGS PCAP` to its VXLAN socket; returns the datagrams
    /// sent.
    pub fn send(&self, args: &[&str], pcap: &Path) -> u64 {
        send_to(&self.udp.to_string(), args, pcap)
    }

    /// An HTTP request: (status, body).
    pub fn request(&self, method: &str, path: &str) -> (u16, String) {
        request(self.http, method, path)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// A size field of `/proc/PID/status` in KiB (`VmHWM`: peak RSS).
    pub fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/PID/status"))
    }

    /// `GET /metrics`, parsed: series (name and labels, as written) to value.
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        let (status, body) = self.request("GET", "/metrics");
        assert_eq!(status, 200, "{body}");
        parse_metrics(&body)
    }

    /// Waits until the sum of `name`'s series reaches `at_least`.
    pub fn wait_metric(&self, name: &str, at_least: f64, within: Duration) -> f64 {
        let deadline = Instant::now() + within;
        loop {
            let v = sum(&self.metrics(), name);
            if v >= at_least {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "{name} stayed at {v}, below {at_least}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends signal `sig` (a `libc::SIG*`).
    pub fn signal(&self, sig: i32) {
        let pid = i32::try_from(self.pid()).unwrap();
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill -{sig} {pid}");
    }

    /// Log lines so far.
    pub fn logs(&self) -> Vec<Value> {
        self.logs.lock().unwrap().clone()
    }

    /// Log lines whose message is `m`.
    pub fn logged(&self, m: &str) -> Vec<Value> {
        self.logs()
            .into_iter()
            .filter(|l| message(l) == m)
            .collect()
    }

    /// SIGTERM, then waits for the exit: its status and the EVE records.
    pub fn stop(mut self) -> (ExitStatus, Vec<Value>) {
        let status = self.stop_process();
        (status, read_eve(&self.eve))
    }

    /// SIGTERM, then waits for the exit; its status.
    pub fn stop_process(&mut self) -> ExitStatus {
        self.signal(15);
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "mirador run did not stop");
            std::thread::sleep(Duration::from_millis(20));
        };
        // The log thread reads to the end of the pipe.
        std::thread::sleep(Duration::from_millis(100));
        status
    }
}

impl Drop for Sensor {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An HTTP/1.1 request to `addr`: (status, body). The body is read to
/// the end of the connection (`Connection: close`; mirador's endpoint
/// never answers chunked).
pub fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the HTTP endpoint");
    s.set_read_timeout(Some(Duration::from_secs(300))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Every record of an EVE file.
pub fn read_eve(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad EVE line {l:?}: {e}")))
        .collect()
}

/// Prometheus text: series to value (comments skipped).
pub fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some((series, value)) = line.rsplit_once(' ') {
            let v = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap_or(f64::NAN),
            };
            m.insert(series.to_string(), v);
        }
    }
    m
}

/// The metric families of an exposition (`# TYPE NAME TYPE` lines): name
/// to type.
pub fn parse_types(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("# TYPE ")?.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect()
}

/// The metric name of a series.
pub fn name_of(series: &str) -> &str {
    series.split('{').next().unwrap_or(series)
}

/// The sum of every series of metric `name`.
pub fn sum(m: &BTreeMap<String, f64>, name: &str) -> f64 {
    m.iter()
        .filter(|(s, _)| name_of(s) == name)
        .map(|(_, v)| *v)
        .sum()
}
