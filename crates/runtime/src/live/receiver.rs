//! The receiver threads: UDP sockets to batches of frames for the pipeline.
//!
//! Each socket has its own thread. It reads datagrams with `recvmmsg`,
//! stamps each with the kernel's receive time, and writes it into a batch
//! as the frame the decoder would have seen on the wire: an outer IPv4 or
//! IPv6 header and a UDP header in front of the datagram, carrying the
//! sender's address (the mirror source ENI) and the encapsulation's
//! decoder port. So live traffic takes exactly the decoding path of a
//! capture file. A full batch goes to the pipeline through one bounded
//! queue shared by all receivers; when it is full the batch is dropped
//! and its datagrams are counted `dropped{queue_full}` here, where that
//! is decided, so that a slow pipeline never backs up into the kernel's
//! buffers unseen.
//!
//! At shutdown a receiver first reads what its socket still holds, and
//! hands that over even if it has to wait for room: what the kernel
//! already accepted is not lost to the stop.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use mirador_capture::recv::{RecvOptions, UdpReceiver};
use mirador_wire::Timestamp;

/// The encapsulation a listener receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encap {
    /// VXLAN (UDP 4789).
    Vxlan,
    /// GENEVE (UDP 6081).
    Geneve,
}

impl Encap {
    /// `vxlan` or `geneve`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encap::Vxlan => "vxlan",
            Encap::Geneve => "geneve",
        }
    }
}

/// One received datagram in a [`DatagramBatch`].
#[derive(Debug, Clone, Copy)]
pub struct Item {
    /// Where its frame starts in the arena.
    pub offset: u32,
    /// The frame's length (outer headers and datagram).
    pub len: u32,
    /// The kernel's receive time.
    pub ts: Timestamp,
}

/// Frames of received datagrams, back to back.
#[derive(Debug, Default)]
pub struct DatagramBatch {
    /// The frames.
    pub arena: Vec<u8>,
    /// One entry per datagram.
    pub items: Vec<Item>,
}

impl DatagramBatch {
    /// The frame of `item` (linktype raw IP).
    pub fn frame(&self, item: &Item) -> &[u8] {
        let start = item.offset as usize;
        self.arena
            .get(start..start + item.len as usize)
            .unwrap_or(&[])
    }

    fn clear(&mut self) {
        self.arena.clear();
        self.items.clear();
    }
}

/// One listening socket's counters; its receiver thread is their only
/// writer.
#[derive(Debug, Default)]
pub struct ListenerTelemetry {
    /// `vxlan 0.0.0.0:4789`: the label of its metrics.
    pub name: String,
    /// Datagrams received.
    pub datagrams: AtomicU64,
    /// UDP payload bytes received.
    pub bytes: AtomicU64,
    /// Datagrams dropped because the pipeline's queue was full.
    pub queue_dropped: AtomicU64,
    /// Datagrams the kernel dropped on this socket.
    pub kernel_dropped: AtomicU64,
    /// The receive buffer the kernel granted.
    pub recv_buffer: AtomicU64,
}

/// A socket to open.
#[derive(Debug, Clone, Copy)]
pub struct ListenerSpec {
    /// What arrives there.
    pub encap: Encap,
    /// The address to bind.
    pub addr: SocketAddr,
    /// The UDP destination port written into the outer header: the port
    /// the decoder recognises the encapsulation by.
    pub decoder_port: u16,
}

/// The running receivers.
pub struct Receivers {
    handles: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    /// Counters, one per socket.
    pub listeners: Vec<Arc<ListenerTelemetry>>,
    /// Bound addresses, one per socket (port 0 resolved).
    pub bound: Vec<SocketAddr>,
}

/// What a bind attempt left out.
#[derive(Debug)]
pub struct Skipped {
    /// The address.
    pub addr: SocketAddr,
    /// Why.
    pub error: std::io::Error,
}

/// The outer IPv4 and UDP headers written in front of a datagram.
const OUTER_V4: usize = 20 + 8;

/// Bytes of frames after which a receiver sends its batch (it also sends
/// one whenever the pipeline's queue is empty or the socket had nothing
/// more). A batch holds at most this plus one `recvmmsg` call's datagrams,
/// so the queue's memory is bounded by `listen.queue` × sockets × about
/// this much.
pub const BATCH_BYTES: usize = 128 << 10;

impl Receivers {
    /// Binds `sockets` sockets per listener and starts their threads,
    /// which send batches on `tx` and take emptied ones back from `spare`.
    /// An IPv6 wildcard that cannot be bound because the host has no IPv6
    /// is skipped and reported; any other bind error fails the start.
    pub fn start(
        specs: &[ListenerSpec],
        sockets: usize,
        opts: RecvOptions,
        kernel_drops_every: Duration,
        tx: Sender<DatagramBatch>,
        spare: Receiver<DatagramBatch>,
    ) -> std::io::Result<(Receivers, Vec<Skipped>)> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut skipped = Vec::new();
        let mut bound = Vec::new();
        let mut opened = Vec::new();
        for spec in specs {
            let mut addr = spec.addr;
            for i in 0..sockets.max(1) {
                match UdpReceiver::bind(addr, &opts) {
                    Ok(r) => {
                        // Port 0: the next sockets share the chosen port.
                        addr = r.local_addr();
                        bound.push(r.local_addr());
                        opened.push((*spec, r));
                    }
                    Err(e) if i == 0 && spec.addr.is_ipv6() && no_ipv6(&e) => {
                        skipped.push(Skipped {
                            addr: spec.addr,
                            error: e,
                        });
                        break;
                    }
                    Err(e) => {
                        return Err(std::io::Error::new(
                            e.kind(),
                            format!("{} {}: {e}", spec.encap.as_str(), spec.addr),
                        ));
                    }
                }
            }
        }
        let mut handles = Vec::new();
        let mut listeners = Vec::new();
        for (i, (spec, r)) in opened.into_iter().enumerate() {
            let tel = Arc::new(ListenerTelemetry {
                name: format!("{} {}", spec.encap.as_str(), spec.addr),
                recv_buffer: AtomicU64::new(r.recv_buffer() as u64),
                ..Default::default()
            });
            listeners.push(tel.clone());
            let ctx = Ctx {
                socket: r,
                spec,
                tel,
                tx: tx.clone(),
                spare: spare.clone(),
                stop: stop.clone(),
                kernel_drops_every,
            };
            handles.push(
                std::thread::Builder::new()
                    .name(format!("mirador-recv-{i}"))
                    .spawn(move || ctx.run())?,
            );
        }
        Ok((
            Receivers {
                handles,
                stop,
                listeners,
                bound,
            },
            skipped,
        ))
    }

    /// Stops receiving: each thread reads what its socket still holds,
    /// hands it over, reads its kernel drop counter a last time and ends.
    /// Returns once all have ended.
    pub fn stop(self) {
        self.stop.store(true, Relaxed);
        for h in self.handles {
            let _ = h.join();
        }
    }

    /// Datagrams all receivers dropped for a full queue.
    pub fn queue_dropped(listeners: &[Arc<ListenerTelemetry>]) -> u64 {
        listeners
            .iter()
            .map(|l| l.queue_dropped.load(Relaxed))
            .sum()
    }
}

/// Whether a bind error means the host has no IPv6.
fn no_ipv6(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(code) if code == libc_eafnosupport() || code == libc_eaddrnotavail()
    )
}

// The two errno values, without a libc dependency in this crate.
const fn libc_eafnosupport() -> i32 {
    97
}
const fn libc_eaddrnotavail() -> i32 {
    99
}

struct Ctx {
    socket: UdpReceiver,
    spec: ListenerSpec,
    tel: Arc<ListenerTelemetry>,
    tx: Sender<DatagramBatch>,
    spare: Receiver<DatagramBatch>,
    stop: Arc<AtomicBool>,
    kernel_drops_every: Duration,
}

impl Ctx {
    fn run(mut self) {
        let mut batch = self.fresh();
        let mut datagrams = 0u64;
        let mut bytes = 0u64;
        let mut dropped = 0u64;
        let mut last_drops = Instant::now();
        let local = self.socket.local_addr();
        let dst_ip = local.ip();
        let port = self.spec.decoder_port;
        loop {
            let stopping = self.stop.load(Relaxed);
            // A socket error (out of memory, ...) reads nothing.
            let n = self
                .socket
                .recv_batch(stopping, |d| {
                    bytes += d.data.len() as u64;
                    push_frame(&mut batch, d.peer, dst_ip, port, d.data, d.ts);
                })
                .unwrap_or_default();
            datagrams += n as u64;
            self.tel.datagrams.store(datagrams, Relaxed);
            self.tel.bytes.store(bytes, Relaxed);
            let full = batch.arena.len() >= BATCH_BYTES || batch.items.len() >= 1024;
            if !batch.items.is_empty() && (full || n == 0 || stopping || self.tx.is_empty()) {
                let b = std::mem::replace(&mut batch, self.fresh());
                if stopping {
                    // What the kernel accepted is handed over, waiting if
                    // need be: the stop must not lose it.
                    if self.tx.send(b).is_err() {
                        break;
                    }
                } else {
                    match self.tx.try_send(b) {
                        Ok(()) => {}
                        Err(TrySendError::Full(mut b)) => {
                            dropped += b.items.len() as u64;
                            self.tel.queue_dropped.store(dropped, Relaxed);
                            b.clear();
                            batch = b;
                        }
                        Err(TrySendError::Disconnected(_)) => break,
                    }
                }
            }
            if last_drops.elapsed() >= self.kernel_drops_every {
                last_drops = Instant::now();
                self.read_kernel_drops();
            }
            if stopping && n == 0 {
                break;
            }
        }
        self.read_kernel_drops();
    }

    fn read_kernel_drops(&self) {
        if let Some(d) = self.socket.kernel_drops() {
            self.tel.kernel_dropped.store(d, Relaxed);
        }
    }

    fn fresh(&self) -> DatagramBatch {
        match self.spare.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => DatagramBatch {
                arena: Vec::with_capacity(BATCH_BYTES + 16 * 1024),
                items: Vec::with_capacity(256),
            },
        }
    }
}

/// Appends the frame of one datagram: outer IP and UDP headers, then the
/// datagram. The IPv4 header checksum is computed (so that
/// `checksum-validation: all` accepts it); the UDP checksum is left zero,
/// which UDP over IPv4 allows and the decoder does not check on the
/// tunnel's outer header.
fn push_frame(
    batch: &mut DatagramBatch,
    peer: SocketAddr,
    dst: IpAddr,
    dst_port: u16,
    data: &[u8],
    ts: SystemTime,
) {
    let offset = u32::try_from(batch.arena.len()).unwrap_or(u32::MAX);
    let a = &mut batch.arena;
    let udp_len = u16::try_from(8 + data.len()).unwrap_or(u16::MAX);
    let (src, dst) = match (peer.ip(), dst) {
        (IpAddr::V6(s), IpAddr::V4(d)) => (IpAddr::V6(s), IpAddr::V6(d.to_ipv6_mapped())),
        (IpAddr::V4(s), IpAddr::V6(d)) => (
            IpAddr::V4(s),
            IpAddr::V4(d.to_ipv4().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)),
        ),
        pair => pair,
    };
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(OUTER_V4 + data.len()).unwrap_or(u16::MAX);
            let mut h = [0u8; 20];
            h[0] = 0x45;
            h[2..4].copy_from_slice(&total.to_be_bytes());
            h[6] = 0x40; // DF: the kernel reassembled any fragments
            h[8] = 64;
            h[9] = 17;
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            let sum = ipv4_checksum(&h);
            h[10..12].copy_from_slice(&sum.to_be_bytes());
            a.extend_from_slice(&h);
        }
        (s, d) => {
            let to16 = |ip: IpAddr| match ip {
                IpAddr::V6(v) => v.octets(),
                IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
            };
            let mut h = [0u8; 40];
            h[0] = 0x60;
            h[4..6].copy_from_slice(&udp_len.to_be_bytes());
            h[6] = 17;
            h[7] = 64;
            h[8..24].copy_from_slice(&to16(s));
            h[24..40].copy_from_slice(&to16(d));
            a.extend_from_slice(&h);
        }
    }
    a.extend_from_slice(&peer.port().to_be_bytes());
    a.extend_from_slice(&dst_port.to_be_bytes());
    a.extend_from_slice(&udp_len.to_be_bytes());
    a.extend_from_slice(&[0, 0]);
    a.extend_from_slice(data);
    let len = u32::try_from(a.len()).unwrap_or(u32::MAX) - offset;
    let nanos = ts
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    batch.items.push(Item {
        offset,
        len,
        ts: Timestamp::from_nanos(nanos),
    });
}

fn ipv4_checksum(h: &[u8; 20]) -> u16 {
    let mut sum: u32 = h
        .chunks_exact(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_decode_as_the_tunnel_they_came_from() {
        let mut b = DatagramBatch::default();
        // A VXLAN header (I flag, VNI 77) and an inner Ethernet/IPv4/UDP frame.
        let mut dg = vec![0x08, 0, 0, 0, 0, 0, 77, 0];
        let inner = mirador_testkit_free_frame();
        dg.extend_from_slice(&inner);
        let ts = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        push_frame(
            &mut b,
            "10.1.2.3:55555".parse().expect("addr"),
            "0.0.0.0".parse().expect("addr"),
            4789,
            &dg,
            ts,
        );
        push_frame(
            &mut b,
            "[2001:db8::5]:40000".parse().expect("addr"),
            "::".parse().expect("addr"),
            4789,
            &dg,
            ts,
        );
        for (item, src) in b.items.iter().zip(["10.1.2.3", "2001:db8::5"]) {
            let frame = b.frame(item);
            let d = mirador_wire::decode(
                mirador_wire::linktype::RAW,
                frame,
                &mirador_wire::DecodeOptions::default(),
            );
            let m = d.mirror.expect("a tunnel");
            assert_eq!(m.outer_src, src.parse::<IpAddr>().expect("ip"));
            assert_eq!(m.outer_dst_port, 4789);
            let p = d.outcome.expect("inner packet");
            let t = p.five_tuple().expect("5-tuple");
            assert_eq!(t.dst_port, 53);
            assert_eq!(item.ts.secs(), 1_700_000_000);
        }
    }

    /// Ethernet + IPv4 + UDP 1234 -> 53, 4 payload bytes (no checksum).
    fn mirador_testkit_free_frame() -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&32u16.to_be_bytes());
        ip[8] = 64;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&[192, 168, 0, 1]);
        ip[16..20].copy_from_slice(&[192, 168, 0, 2]);
        let sum = ipv4_checksum(&ip);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&1234u16.to_be_bytes());
        f.extend_from_slice(&53u16.to_be_bytes());
        f.extend_from_slice(&12u16.to_be_bytes());
        f.extend_from_slice(&[0, 0, 1, 2, 3, 4]);
        f
    }
}
