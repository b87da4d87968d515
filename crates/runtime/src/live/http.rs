//! The HTTP endpoint (`http.listen`): Prometheus metrics, liveness,
//! readiness and reload.
//!
//! | request | answer |
//! |---|---|
//! | `GET /metrics` | 200, [`Endpoint::metrics`] as `text/plain; version=0.0.4` (the Prometheus text format only: an `Accept` asking for OpenMetrics gets it too, which Prometheus accepts) |
//! | `GET /healthz` | 200 `ok`: the process is alive |
//! | `GET /readyz` | 200 or 503 per [`Endpoint::ready`], with its body |
//! | `POST /-/reload` | 200 with [`Endpoint::reload`]'s message, or 500 with its error; 403 when [`Endpoint::reload_enabled`] is false |
//!
//! `HEAD` is `GET` without the body; another method on a known path is 405
//! (with `Allow`), an unknown path 404. The query string is ignored.
//!
//! A small HTTP/1.1 server on `std` rather than a crate: the synchronous
//! ones (tiny_http 0.12 was looked at) read a request's head with no size
//! limit (tiny_http issue 56), set no socket timeouts, spawn a thread per
//! busy connection without a cap, and stop accepting for good on the first
//! `accept` error (such as running out of descriptors). This endpoint needs
//! four routes, so it is simpler to bound everything here:
//!
//! * at most [`MAX_CONNECTIONS`] connections at once, one thread each
//!   (`mirador-http-cx`); past that a connection gets a 503 and is closed;
//! * the request head is at most [`MAX_HEAD`] bytes (431), a body at most
//!   [`MAX_BODY`] (413; read and thrown away), chunked bodies are refused
//!   (411);
//! * the whole request must arrive within [`REQUEST_TIMEOUT`] (else 408, or
//!   a silent close when nothing came) and the answer must leave within
//!   [`WRITE_TIMEOUT`];
//! * one request per connection (`Connection: close`), so an idle keep-alive
//!   connection never holds a thread;
//! * reloads run one at a time (a second waits for the first);
//! * a panic in the endpoint is a 500, not a dead thread.
//!
//! Each address has its accepting thread (`mirador-http`); [`HttpServer::stop`]
//! wakes them, shuts every open connection down and joins all threads.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{bind_listener, is_timeout, wake};

/// Connections served at once, all addresses together.
pub const MAX_CONNECTIONS: usize = 64;
/// Largest request head (request line and headers), in bytes.
pub const MAX_HEAD: usize = 8 * 1024;
/// Largest request body accepted, in bytes (none of the routes reads one).
pub const MAX_BODY: u64 = 4 * 1024;
/// Time a client has to send its whole request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a client has to take the whole answer.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time spent, after answering, reading what the client still sends before
/// closing: closing with unread data would reset the connection and could
/// destroy the answer before the client reads it.
const LINGER: Duration = Duration::from_millis(500);
/// Most bytes read while lingering.
const LINGER_BYTES: usize = 64 * 1024;

/// The content type of `/metrics`: OpenMetrics text, which prometheus-client
/// writes (counter families named without `_total`, a final `# EOF`) and
/// Prometheus negotiates.
pub const METRICS_CONTENT_TYPE: &str = super::metrics::CONTENT_TYPE;
const TEXT: &str = "text/plain; charset=utf-8";

/// What the endpoint serves; implemented by the live sensor.
pub trait Endpoint: Send + Sync + 'static {
    /// The metrics, in the Prometheus text format.
    fn metrics(&self) -> String;
    /// Readiness, for `/readyz`.
    fn ready(&self) -> Readiness;
    /// Reloads the rules (and whatever else reloads); the message of a
    /// success or the error. Called by one request at a time.
    fn reload(&self) -> Result<String, String>;
    /// Whether `POST /-/reload` is accepted (`http.reload`).
    fn reload_enabled(&self) -> bool;
}

/// The answer to `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// 200 when true, 503 when false.
    pub ready: bool,
    /// The body (a newline is added when missing).
    pub body: String,
}

/// Timeouts and caps; [`HttpServer::start`] uses the constants, tests
/// shorter ones.
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_connections: usize,
    request_timeout: Duration,
    write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: MAX_CONNECTIONS,
            request_timeout: REQUEST_TIMEOUT,
            write_timeout: WRITE_TIMEOUT,
        }
    }
}

/// The running HTTP endpoint.
pub struct HttpServer {
    addrs: Vec<SocketAddr>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addrs", &self.addrs)
            .finish_non_exhaustive()
    }
}

struct Shared {
    endpoint: Arc<dyn Endpoint>,
    limits: Limits,
    stop: AtomicBool,
    reload: Mutex<()>,
    conns: Mutex<Conns>,
}

/// The open connections: a clone of each socket (to shut it down at stop)
/// and every connection thread not yet joined.
#[derive(Default)]
struct Conns {
    next_id: u64,
    open: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

/// A poisoned lock only means a thread panicked while holding it; the data
/// (a connection table, or nothing) stays usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl HttpServer {
    /// Binds every address (all or none) and starts serving `endpoint`.
    pub fn start(addrs: &[SocketAddr], endpoint: Arc<dyn Endpoint>) -> io::Result<HttpServer> {
        Self::start_with(addrs, endpoint, Limits::default())
    }

    fn start_with(
        addrs: &[SocketAddr],
        endpoint: Arc<dyn Endpoint>,
        limits: Limits,
    ) -> io::Result<HttpServer> {
        let listeners = addrs
            .iter()
            .map(|&a| {
                bind_listener(a)
                    .map_err(|e| io::Error::new(e.kind(), format!("HTTP endpoint {a}: {e}")))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let mut server = HttpServer {
            addrs: Vec::with_capacity(listeners.len()),
            shared: Arc::new(Shared {
                endpoint,
                limits,
                stop: AtomicBool::new(false),
                reload: Mutex::new(()),
                conns: Mutex::new(Conns::default()),
            }),
            threads: Vec::with_capacity(listeners.len()),
        };
        for listener in listeners {
            server.addrs.push(listener.local_addr()?);
            let shared = Arc::clone(&server.shared);
            let spawned = std::thread::Builder::new()
                .name("mirador-http".into())
                .spawn(move || accept_loop(&listener, &shared));
            match spawned {
                Ok(h) => server.threads.push(h),
                Err(e) => {
                    server.shutdown();
                    return Err(e);
                }
            }
        }
        Ok(server)
    }

    /// The addresses bound (with the port the system chose for port 0).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.addrs.clone()
    }

    /// Stops accepting, shuts the open connections down and joins every
    /// thread (a reload in progress is waited for).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for (addr, _) in self.addrs.iter().zip(&self.threads) {
            wake(*addr);
        }
        for h in self.threads.drain(..) {
            let _ = h.join();
        }
        // No connection is accepted any more: shut the open ones down (their
        // threads see EOF or an error at once) and wait for their threads.
        let threads = {
            let mut conns = lock(&self.shared.conns);
            for s in conns.open.values() {
                let _ = s.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut conns.threads)
        };
        for h in threads {
            let _ = h.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.shutdown();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                admit(stream, shared);
            }
            Err(e) if is_timeout(&e) => {}
            // Out of descriptors, a connection aborted before it was
            // accepted...: keep serving; pause so a lasting error does not
            // spin.
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Hands an accepted connection to a thread of its own, unless
/// [`Limits::max_connections`] are open already.
fn admit(stream: TcpStream, shared: &Arc<Shared>) {
    let mut conns = lock(&shared.conns);
    // Join the threads that have ended, so their handles do not pile up.
    let (ended, running): (Vec<_>, Vec<_>) = std::mem::take(&mut conns.threads)
        .into_iter()
        .partition(|h| h.is_finished());
    conns.threads = running;
    for h in ended {
        let _ = h.join();
    }
    if conns.open.len() >= shared.limits.max_connections {
        drop(conns);
        refuse(stream);
        return;
    }
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let id = conns.next_id;
    conns.next_id += 1;
    conns.open.insert(id, clone);
    let inner = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("mirador-http-cx".into())
        .spawn(move || {
            // Removes the connection from the table however the thread ends.
            struct Open<'a>(&'a Shared, u64);
            impl Drop for Open<'_> {
                fn drop(&mut self) {
                    lock(&self.0.conns).open.remove(&self.1);
                }
            }
            let _open = Open(&inner, id);
            serve(stream, &inner);
        });
    match spawned {
        Ok(h) => conns.threads.push(h),
        Err(_) => {
            // The stream went with the closure; forget the clone too.
            conns.open.remove(&id);
        }
    }
}

/// Answers 503 to a connection over the cap without waiting on it (the
/// accepting thread must not block).
fn refuse(mut stream: TcpStream) {
    let r = Response::text(503, "too many connections\n");
    if stream.set_nonblocking(true).is_ok() {
        let mut answer = r.head();
        answer.extend_from_slice(r.body.as_bytes());
        let _ = stream.write(&answer);
        let _ = stream.shutdown(Shutdown::Write);
        // Take what has arrived of the request: closing with unread data
        // would reset the connection and could destroy the answer.
        let mut chunk = [0u8; 1024];
        for _ in 0..8 {
            if !matches!(stream.read(&mut chunk), Ok(n) if n > 0) {
                break;
            }
        }
    }
}

/// A parsed request: what routing needs.
#[derive(Debug)]
struct Request {
    method: String,
    path: String,
}

/// Why no request could be read.
#[derive(Debug)]
enum ReadError {
    /// Nothing was sent, or the connection ended or failed: no answer.
    Silent,
    /// An error answer.
    Answer(Response),
}

/// Reads one request: its head, then its body (thrown away).
fn read_request(stream: &mut TcpStream, deadline: Instant) -> Result<Request, ReadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(end) = find_head_end(&buf) {
            break end;
        }
        if buf.len() >= MAX_HEAD {
            return Err(answer(431, "request head too large\n"));
        }
        let want = chunk.len().min(MAX_HEAD - buf.len());
        match read_by(stream, &mut chunk[..want], deadline) {
            Ok(0) => return Err(ReadError::Silent),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) && !buf.is_empty() => {
                return Err(answer(408, "request timeout\n"));
            }
            Err(_) => return Err(ReadError::Silent),
        }
    };
    let head = std::str::from_utf8(&buf[..head_end])
        .map_err(|_| answer(400, "request head is not UTF-8\n"))?;
    let (request, body_len, expect_continue) = parse_head(head)?;
    // The body: whatever came with the head, then the rest, thrown away.
    let mut left = body_len.saturating_sub((buf.len() - head_end) as u64);
    if left > 0 && expect_continue {
        let _ = write_by(stream, b"HTTP/1.1 100 Continue\r\n\r\n", deadline);
    }
    while left > 0 {
        let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        match read_by(stream, &mut chunk[..want], deadline) {
            Ok(0) => return Err(ReadError::Silent),
            Ok(n) => left -= n as u64,
            Err(e) if is_timeout(&e) => return Err(answer(408, "request timeout\n")),
            Err(_) => return Err(ReadError::Silent),
        }
    }
    Ok(request)
}

fn answer(status: u16, body: &str) -> ReadError {
    ReadError::Answer(Response::text(status, body))
}

/// The length of the head including its blank line (CRLF CRLF, or bare LF
/// LF as RFC 9112 lets a server accept).
fn find_head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = memchr_lf(&buf[i..]) {
        let lf = i + p;
        let rest = &buf[lf + 1..];
        if rest.starts_with(b"\n") {
            return Some(lf + 2);
        }
        if rest.starts_with(b"\r\n") {
            return Some(lf + 3);
        }
        i = lf + 1;
    }
    None
}

fn memchr_lf(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Parses the head: the request, the body's length and whether the client
/// waits for `100 Continue`.
fn parse_head(head: &str) -> Result<(Request, u64, bool), ReadError> {
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let line = lines.next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(answer(400, "malformed request line\n"));
    };
    if method.is_empty() || !method.bytes().all(is_token) {
        return Err(answer(400, "malformed method\n"));
    }
    if !target.starts_with('/') {
        return Err(answer(400, "malformed request target\n"));
    }
    match version {
        "HTTP/1.1" | "HTTP/1.0" => {}
        v if v.starts_with("HTTP/") => {
            return Err(answer(505, "only HTTP/1.0 and HTTP/1.1 are served\n"));
        }
        _ => return Err(answer(400, "malformed HTTP version\n")),
    }
    let mut body_len: Option<u64> = None;
    let mut expect_continue = false;
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(answer(400, "malformed header\n"));
        };
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(answer(400, "malformed header name\n"));
        }
        let value = value.trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case("content-length") {
            // Digits only (`parse` would take a sign).
            let n: u64 = Some(value)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| answer(400, "malformed Content-Length\n"))?;
            if body_len.is_some_and(|m| m != n) {
                return Err(answer(400, "conflicting Content-Length\n"));
            }
            body_len = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(answer(411, "send bodies with a Content-Length\n"));
        } else if name.eq_ignore_ascii_case("expect") {
            if !value.eq_ignore_ascii_case("100-continue") {
                return Err(answer(417, "unsupported expectation\n"));
            }
            expect_continue = true;
        }
    }
    let body_len = body_len.unwrap_or(0);
    if body_len > MAX_BODY {
        return Err(answer(413, "request body too large\n"));
    }
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    Ok((
        Request {
            method: method.to_string(),
            path: path.to_string(),
        },
        body_len,
        expect_continue,
    ))
}

/// RFC 9110 `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// An answer.
#[derive(Debug)]
struct Response {
    status: u16,
    content_type: &'static str,
    allow: Option<&'static str>,
    body: String,
}

impl Response {
    fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: TEXT,
            allow: None,
            body: body.to_string(),
        }
    }

    fn not_allowed(allow: &'static str) -> Response {
        Response {
            allow: Some(allow),
            ..Response::text(405, "method not allowed\n")
        }
    }

    /// The status line and headers (`Content-Length` is the body's, also
    /// for `HEAD`, whose body is not sent).
    fn head(&self) -> Vec<u8> {
        let mut h = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        if let Some(a) = self.allow {
            h.push_str("Allow: ");
            h.push_str(a);
            h.push_str("\r\n");
        }
        h.push_str("\r\n");
        h.into_bytes()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

fn with_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The answer to a request.
fn route(req: &Request, shared: &Shared) -> Response {
    let ep = &shared.endpoint;
    let get = matches!(req.method.as_str(), "GET" | "HEAD");
    match req.path.as_str() {
        "/metrics" | "/healthz" | "/readyz" if !get => Response::not_allowed("GET, HEAD"),
        "/metrics" => Response {
            content_type: METRICS_CONTENT_TYPE,
            ..Response::text(200, &ep.metrics())
        },
        "/healthz" => Response::text(200, "ok\n"),
        "/readyz" => {
            let r = ep.ready();
            Response::text(if r.ready { 200 } else { 503 }, &with_newline(r.body))
        }
        "/-/reload" if req.method != "POST" => Response::not_allowed("POST"),
        "/-/reload" if !ep.reload_enabled() => Response::text(403, "reload disabled\n"),
        "/-/reload" => {
            let _one_at_a_time = lock(&shared.reload);
            match ep.reload() {
                Ok(m) => Response::text(200, &with_newline(m)),
                Err(e) => Response::text(500, &with_newline(e)),
            }
        }
        _ => Response::text(404, "not found\n"),
    }
}

/// Serves one connection: one request, one answer.
fn serve(mut stream: TcpStream, shared: &Shared) {
    let limits = shared.limits;
    let deadline = Instant::now() + limits.request_timeout;
    let (response, head_only) = match read_request(&mut stream, deadline) {
        Ok(req) => {
            let r = catch_unwind(AssertUnwindSafe(|| route(&req, shared)))
                .unwrap_or_else(|_| Response::text(500, "internal error\n"));
            (r, req.method == "HEAD")
        }
        Err(ReadError::Answer(r)) => (r, false),
        Err(ReadError::Silent) => return,
    };
    let deadline = Instant::now() + limits.write_timeout;
    let sent = write_by(&mut stream, &response.head(), deadline).and_then(|()| {
        if head_only {
            Ok(())
        } else {
            write_by(&mut stream, response.body.as_bytes(), deadline)
        }
    });
    if sent.is_err() {
        return;
    }
    // Lingering close: FIN first, then read what is left until the client
    // closes, within bounds.
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER;
    let mut chunk = [0u8; 1024];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        match read_by(&mut stream, &mut chunk, deadline) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// The time left until `deadline`, or a timeout error.
fn left(deadline: Instant) -> io::Result<Duration> {
    let d = deadline.saturating_duration_since(Instant::now());
    if d.is_zero() {
        Err(io::ErrorKind::TimedOut.into())
    } else {
        Ok(d)
    }
}

/// One read that gives up at `deadline`.
fn read_by(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
    stream.set_read_timeout(Some(left(deadline)?))?;
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                stream.set_read_timeout(Some(left(deadline)?))?;
            }
            r => return r,
        }
    }
}

/// Writes all of `bytes` by `deadline`.
fn write_by(stream: &mut TcpStream, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.set_write_timeout(Some(left(deadline)?))?;
        match stream.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[derive(Default)]
    struct Fake {
        not_ready: AtomicBool,
        reload_disabled: AtomicBool,
        reload_fails: AtomicBool,
        reloads: AtomicUsize,
        panic_in_metrics: AtomicBool,
    }

    impl Endpoint for Fake {
        fn metrics(&self) -> String {
            assert!(!self.panic_in_metrics.load(Ordering::SeqCst), "boom");
            "# TYPE mirador_ready gauge\nmirador_ready 1\n".to_string()
        }
        fn ready(&self) -> Readiness {
            if self.not_ready.load(Ordering::SeqCst) {
                Readiness {
                    ready: false,
                    body: "rules not loaded".into(),
                }
            } else {
                Readiness {
                    ready: true,
                    body: "ready\n".into(),
                }
            }
        }
        fn reload(&self) -> Result<String, String> {
            self.reloads.fetch_add(1, Ordering::SeqCst);
            if self.reload_fails.load(Ordering::SeqCst) {
                Err("rules/bad.rules:3: syntax error".into())
            } else {
                Ok("reloaded: 42 rules".into())
            }
        }
        fn reload_enabled(&self) -> bool {
            !self.reload_disabled.load(Ordering::SeqCst)
        }
    }

    fn server_with(limits: Limits) -> (HttpServer, Arc<Fake>, SocketAddr) {
        let fake = Arc::new(Fake::default());
        let s = HttpServer::start_with(
            &["127.0.0.1:0".parse().unwrap()],
            fake.clone() as Arc<dyn Endpoint>,
            limits,
        )
        .unwrap();
        let addr = s.local_addrs()[0];
        (s, fake, addr)
    }

    fn server() -> (HttpServer, Arc<Fake>, SocketAddr) {
        server_with(Limits::default())
    }

    #[derive(Debug)]
    struct Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Answer {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    /// Sends raw bytes, reads to EOF and parses the answer.
    fn send(addr: SocketAddr, raw: &[u8]) -> Answer {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(raw).unwrap();
        // Done sending: the server's lingering close ends at once.
        s.shutdown(Shutdown::Write).unwrap();
        read_answer(&mut s)
    }

    fn read_answer(s: &mut TcpStream) -> Answer {
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").expect(&text);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
        let status = status_line[9..12].parse().unwrap();
        let headers = lines
            .map(|l| {
                let (n, v) = l.split_once(": ").unwrap();
                (n.to_string(), v.to_string())
            })
            .collect();
        Answer {
            status,
            headers,
            body: body.to_string(),
        }
    }

    fn get(addr: SocketAddr, path: &str) -> Answer {
        send(
            addr,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        )
    }

    fn post(addr: SocketAddr, path: &str) -> Answer {
        send(
            addr,
            format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").as_bytes(),
        )
    }

    #[test]
    fn metrics_health_and_readiness() {
        let (s, fake, addr) = server();
        let a = get(addr, "/metrics");
        assert_eq!(a.status, 200);
        assert_eq!(a.header("Content-Type"), Some(METRICS_CONTENT_TYPE));
        assert_eq!(a.body, fake.metrics());
        assert_eq!(a.header("Content-Length"), Some(&*a.body.len().to_string()));
        assert_eq!(a.header("Connection"), Some("close"));
        // The query string is ignored; HTTP/1.0 and bare LF are served.
        assert_eq!(get(addr, "/metrics?debug=1").body, fake.metrics());
        let a = send(addr, b"GET /metrics HTTP/1.0\n\n");
        assert_eq!((a.status, a.body), (200, fake.metrics()));

        let a = get(addr, "/healthz");
        assert_eq!((a.status, a.body.as_str()), (200, "ok\n"));
        assert_eq!(a.header("Content-Type"), Some(TEXT));

        let a = get(addr, "/readyz");
        assert_eq!((a.status, a.body.as_str()), (200, "ready\n"));
        fake.not_ready.store(true, Ordering::SeqCst);
        let a = get(addr, "/readyz");
        assert_eq!((a.status, a.body.as_str()), (503, "rules not loaded\n"));
        // Alive even when not ready.
        assert_eq!(get(addr, "/healthz").status, 200);
        s.stop();
    }

    #[test]
    fn head_is_get_without_the_body() {
        let (s, fake, addr) = server();
        let a = send(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n");
        assert_eq!(a.status, 200);
        assert_eq!(a.body, "");
        assert_eq!(
            a.header("Content-Length"),
            Some(&*fake.metrics().len().to_string())
        );
        assert_eq!(a.header("Content-Type"), Some(METRICS_CONTENT_TYPE));
        fake.not_ready.store(true, Ordering::SeqCst);
        let a = send(addr, b"HEAD /readyz HTTP/1.1\r\n\r\n");
        assert_eq!((a.status, a.body.as_str()), (503, ""));
        s.stop();
    }

    #[test]
    fn reload() {
        let (s, fake, addr) = server();
        let a = post(addr, "/-/reload");
        assert_eq!((a.status, a.body.as_str()), (200, "reloaded: 42 rules\n"));
        fake.reload_fails.store(true, Ordering::SeqCst);
        let a = post(addr, "/-/reload");
        assert_eq!(
            (a.status, a.body.as_str()),
            (500, "rules/bad.rules:3: syntax error\n")
        );
        // A small body is read and ignored.
        let a = send(
            addr,
            b"POST /-/reload HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        );
        assert_eq!(a.status, 500);
        assert_eq!(fake.reloads.load(Ordering::SeqCst), 3);

        for m in ["GET", "HEAD", "PUT", "DELETE"] {
            let a = send(addr, format!("{m} /-/reload HTTP/1.1\r\n\r\n").as_bytes());
            assert_eq!(a.status, 405, "{m}");
            assert_eq!(a.header("Allow"), Some("POST"));
        }
        fake.reload_disabled.store(true, Ordering::SeqCst);
        let a = post(addr, "/-/reload");
        assert_eq!((a.status, a.body.as_str()), (403, "reload disabled\n"));
        assert_eq!(fake.reloads.load(Ordering::SeqCst), 3);
        s.stop();
    }

    #[test]
    fn wrong_methods_and_unknown_paths() {
        let (s, _fake, addr) = server();
        for p in ["/metrics", "/healthz", "/readyz"] {
            let a = post(addr, p);
            assert_eq!(a.status, 405, "{p}");
            assert_eq!(a.header("Allow"), Some("GET, HEAD"));
        }
        for p in ["/", "/metrics/", "/reload", "/-/reload/x", "/%00"] {
            assert_eq!(get(addr, p).status, 404, "{p}");
        }
        // Methods are case-sensitive.
        assert_eq!(send(addr, b"get /metrics HTTP/1.1\r\n\r\n").status, 405);
        s.stop();
    }

    #[test]
    fn garbage_is_answered_400_and_the_server_survives() {
        let (s, fake, addr) = server();
        let cases: &[(&[u8], u16)] = &[
            (b"\r\n\r\n", 400),
            (b"GET\r\n\r\n", 400),
            (b"GET /metrics\r\n\r\n", 400),
            (b"GET  /metrics HTTP/1.1\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1 extra\r\n\r\n", 400),
            (b"GET metrics HTTP/1.1\r\n\r\n", 400),
            (b"GET * HTTP/1.1\r\n\r\n", 400),
            (b"G(T /metrics HTTP/1.1\r\n\r\n", 400),
            (b"GET /metrics HTTQ/1.1\r\n\r\n", 400),
            (b"GET /metrics HTTP/2.0\r\n\r\n", 505),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1\r\nbad name: x\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1\r\n: x\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1\r\nContent-Length: +0\r\n\r\n", 400),
            (b"GET /metrics HTTP/1.1\r\nContent-Length:\r\n\r\n", 400),
            (
                b"GET /metrics HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                400,
            ),
            (
                b"POST /-/reload HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                400,
            ),
            (b"GET /metrics HTTP/1.1\r\nExpect: magic\r\n\r\n", 417),
            (b"\xff\xfe\x00\x01\r\n\r\n", 400),
            (b"GET /m\xc3\x28 HTTP/1.1\r\n\r\n", 400),
        ];
        for (raw, status) in cases {
            let a = send(addr, raw);
            assert_eq!(a.status, *status, "{:?}", String::from_utf8_lossy(raw));
        }
        // Pseudo-random bytes ending a head: any answer, no crash.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..50 {
            let mut raw: Vec<u8> = (0..200)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            raw.extend_from_slice(b"\r\n\r\n");
            let mut c = TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            c.write_all(&raw).unwrap();
            let mut out = Vec::new();
            let _ = c.read_to_end(&mut out);
        }
        // Connections that close at once, or half-way through a head.
        drop(TcpStream::connect(addr).unwrap());
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"GET /metr").unwrap();
        drop(c);
        assert_eq!(get(addr, "/metrics").body, fake.metrics());
        s.stop();
    }

    #[test]
    fn oversized_requests() {
        let (s, fake, addr) = server();
        // A body over MAX_BODY: 413, the endpoint is not called.
        let mut raw = b"POST /-/reload HTTP/1.1\r\nContent-Length: 5000\r\n\r\n".to_vec();
        raw.extend(std::iter::repeat_n(b'x', 5000));
        let a = send(addr, &raw);
        assert_eq!(a.status, 413);
        assert_eq!(fake.reloads.load(Ordering::SeqCst), 0);
        // Exactly MAX_BODY is fine.
        let mut raw =
            format!("POST /-/reload HTTP/1.1\r\nContent-Length: {MAX_BODY}\r\n\r\n").into_bytes();
        raw.extend(std::iter::repeat_n(b'x', MAX_BODY as usize));
        assert_eq!(send(addr, &raw).status, 200);
        // Chunked bodies are refused.
        let a = send(
            addr,
            b"POST /-/reload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        );
        assert_eq!(a.status, 411);
        assert_eq!(fake.reloads.load(Ordering::SeqCst), 1);
        // A head over MAX_HEAD, with or without line ends: 431.
        let mut raw = b"GET /metrics HTTP/1.1\r\n".to_vec();
        for i in 0..1000 {
            raw.extend_from_slice(format!("X-Filler-{i}: aaaaaaaaaaaaaaaa\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        assert_eq!(send(addr, &raw).status, 431);
        // (Less than the server reads while lingering: past that, closing
        // resets the connection, and the answer may be lost.)
        let raw = vec![b'A'; MAX_HEAD + LINGER_BYTES - 1024];
        assert_eq!(send(addr, &raw).status, 431);
        s.stop();
    }

    #[test]
    fn expect_continue() {
        let (s, fake, addr) = server();
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(
            b"POST /-/reload HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
        )
        .unwrap();
        let mut interim = [0u8; 25];
        c.read_exact(&mut interim).unwrap();
        assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
        c.write_all(b"abc").unwrap();
        assert_eq!(read_answer(&mut c).status, 200);
        assert_eq!(fake.reloads.load(Ordering::SeqCst), 1);
        s.stop();
    }

    #[test]
    fn a_panicking_endpoint_is_a_500() {
        let (s, fake, addr) = server();
        fake.panic_in_metrics.store(true, Ordering::SeqCst);
        let a = get(addr, "/metrics");
        assert_eq!((a.status, a.body.as_str()), (500, "internal error\n"));
        assert_eq!(get(addr, "/healthz").status, 200);
        s.stop();
    }

    #[test]
    fn silent_and_slow_clients_do_not_block_others() {
        let (s, fake, addr) = server();
        // One connects and sends nothing, one stalls half-way through its head.
        let idle = TcpStream::connect(addr).unwrap();
        let mut slow = TcpStream::connect(addr).unwrap();
        slow.write_all(b"GET /metrics HTTP/1.1\r\nHost:").unwrap();
        let started = Instant::now();
        for _ in 0..5 {
            assert_eq!(get(addr, "/metrics").body, fake.metrics());
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        // Stopping does not wait for them.
        let started = Instant::now();
        s.stop();
        assert!(started.elapsed() < Duration::from_secs(3));
        drop((idle, slow));
    }

    #[test]
    fn requests_time_out() {
        let (s, fake, addr) = server_with(Limits {
            request_timeout: Duration::from_millis(300),
            ..Limits::default()
        });
        // Nothing sent: closed without an answer.
        let mut idle = TcpStream::connect(addr).unwrap();
        idle.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let started = Instant::now();
        let mut out = Vec::new();
        let _ = idle.read_to_end(&mut out);
        assert!(out.is_empty());
        assert!(started.elapsed() < Duration::from_secs(5));
        // Half a head: 408.
        let mut slow = TcpStream::connect(addr).unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        slow.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
        assert_eq!(read_answer(&mut slow).status, 408);
        // Half a body: 408, and no reload.
        let mut slow = TcpStream::connect(addr).unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        slow.write_all(b"POST /-/reload HTTP/1.1\r\nContent-Length: 10\r\n\r\nab")
            .unwrap();
        assert_eq!(read_answer(&mut slow).status, 408);
        assert_eq!(fake.reloads.load(Ordering::SeqCst), 0);
        s.stop();
    }

    #[test]
    fn connections_are_capped() {
        let (s, fake, addr) = server_with(Limits {
            max_connections: 3,
            ..Limits::default()
        });
        let idle: Vec<_> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
        // Let the server take them.
        let end = Instant::now() + Duration::from_secs(5);
        while lock(&s.shared.conns).open.len() < 3 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
        // One more: 503 (it sends nothing, so that the answer cannot be
        // lost to a reset).
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let a = read_answer(&mut c);
        assert_eq!((a.status, a.body.as_str()), (503, "too many connections\n"));
        drop(idle);
        let end = Instant::now() + Duration::from_secs(5);
        while !lock(&s.shared.conns).open.is_empty() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(get(addr, "/metrics").body, fake.metrics());
        s.stop();
    }

    #[test]
    fn several_addresses_and_stop() {
        let fake = Arc::new(Fake::default());
        let lo: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let s = HttpServer::start(&[lo, lo], fake.clone() as Arc<dyn Endpoint>).unwrap();
        let addrs = s.local_addrs();
        assert_eq!(addrs.len(), 2);
        for a in &addrs {
            assert_eq!(get(*a, "/healthz").status, 200);
        }
        s.stop();
        for a in &addrs {
            assert!(TcpStream::connect(a).is_err());
        }
        // A taken address fails the start.
        let taken = TcpListener::bind(lo).unwrap();
        let err = HttpServer::start(&[taken.local_addr().unwrap()], fake).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }

    #[test]
    fn head_end_detection() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\nbody"), Some(18));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\n\nbody"), Some(16));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
        assert_eq!(find_head_end(b""), None);
        assert_eq!(find_head_end(b"\n"), None);
        assert_eq!(find_head_end(b"\r\n\r\n"), Some(4));
    }
}
