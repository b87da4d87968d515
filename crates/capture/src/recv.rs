//! Receiving UDP datagrams in batches, for `mirador run`.
//!
//! A [`UdpReceiver`] is one socket bound with `SO_REUSEPORT` (so several
//! receivers, one per thread, share a port and the kernel spreads
//! datagrams over them by their outer 4-tuple), a large `SO_RCVBUF`, and
//! kernel receive timestamps (`SO_TIMESTAMPNS`). [`UdpReceiver::recv_batch`]
//! reads up to [`MAX_BATCH`] datagrams in one `recvmmsg(2)` call into a
//! landing buffer the receiver owns (no allocation per batch) and hands
//! each to a callback with its sender and timestamp.
//!
//! [`UdpReceiver::kernel_drops`] reads the socket's drop counter
//! (`SO_MEMINFO`'s `SK_MEMINFO_DROPS`): datagrams the kernel discarded
//! because the receive buffer was full. `SO_RXQ_OVFL` reports the same
//! only on a later datagram, so a burst's drops would go unseen at
//! shutdown; `SO_MEMINFO` can be read at any time.
//!
//! socket2 creates and binds the socket; `recvmmsg`, its control messages
//! and `SO_MEMINFO` have no safe wrapper in socket2 or std, so they are
//! called through libc here, with the crate's only other `unsafe` code.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, SystemTime};

use socket2::{Domain, Protocol, Socket, Type};

/// Most datagrams one [`UdpReceiver::recv_batch`] call reads.
pub const MAX_BATCH: usize = 1024;

/// Bytes kept of each datagram: a jumbo-frame mirror copy (9001-byte MTU)
/// fits with room to spare. A larger datagram (only a hostile or
/// misconfigured sender makes one) is cut to this size and reported
/// [`Datagram::truncated`]; its inner packet then decodes as truncated.
pub const MAX_DATAGRAM: usize = 16 * 1024;

/// How a receiving socket is set up.
#[derive(Debug, Clone, Copy)]
pub struct RecvOptions {
    /// `SO_RCVBUF` to ask for, in bytes.
    pub recv_buffer: usize,
    /// Datagrams per `recvmmsg` call (1 to [`MAX_BATCH`]).
    pub batch: usize,
    /// How long a receive waits for the first datagram before returning
    /// `Ok(0)`, so that the calling thread can check whether to stop.
    pub poll: Duration,
}

impl Default for RecvOptions {
    fn default() -> Self {
        RecvOptions {
            recv_buffer: 64 << 20,
            batch: 64,
            poll: Duration::from_millis(100),
        }
    }
}

/// One received datagram.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// The UDP payload (at most [`MAX_DATAGRAM`] bytes of it).
    pub data: &'a [u8],
    /// Its sender.
    pub peer: SocketAddr,
    /// When the kernel received it (the process's clock when the kernel
    /// gave no timestamp).
    pub ts: SystemTime,
    /// Whether the datagram was longer than [`MAX_DATAGRAM`] and was cut.
    pub truncated: bool,
}

/// A bound UDP socket and its landing buffers.
pub struct UdpReceiver {
    socket: UdpSocket,
    local: SocketAddr,
    batch: usize,
    /// `batch` slots of [`MAX_DATAGRAM`] bytes.
    landing: Vec<u8>,
    granted: usize,
}

impl std::fmt::Debug for UdpReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpReceiver")
            .field("local", &self.local)
            .field("batch", &self.batch)
            .field("granted", &self.granted)
            .finish()
    }
}

impl UdpReceiver {
    /// Binds `addr` with `SO_REUSEPORT` (IPv6 addresses IPv6-only, so that
    /// `0.0.0.0` and `[::]` can both be bound), asks for `opts.recv_buffer`
    /// and turns kernel timestamps on.
    pub fn bind(addr: SocketAddr, opts: &RecvOptions) -> io::Result<UdpReceiver> {
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        #[cfg(all(unix, not(target_os = "solaris"), not(target_os = "illumos")))]
        socket.set_reuse_port(true)?;
        // The kernel halves what it reports back and caps the request at
        // net.core.rmem_max; `granted` is what the caller compares.
        let _ = socket.set_recv_buffer_size(opts.recv_buffer);
        socket.set_read_timeout(Some(opts.poll.max(Duration::from_millis(1))))?;
        socket.bind(&addr.into())?;
        let socket: UdpSocket = socket.into();
        sys::enable_timestamps(&socket);
        let local = socket.local_addr()?;
        let granted = Socket::from(socket.try_clone()?).recv_buffer_size()?;
        let batch = opts.batch.clamp(1, MAX_BATCH);
        Ok(UdpReceiver {
            socket,
            local,
            batch,
            landing: vec![0; batch * MAX_DATAGRAM],
            granted,
        })
    }

    /// The bound address (with the port the kernel chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The receive buffer the kernel granted, as `SO_RCVBUF` reports it
    /// (Linux doubles the request for its bookkeeping, then reports that).
    pub fn recv_buffer(&self) -> usize {
        self.granted
    }

    /// Reads up to the configured batch of datagrams and calls `f` for
    /// each, in arrival order; returns how many were read. Waits up to the
    /// poll interval for the first one (`Ok(0)` when none came) unless
    /// `nonblocking`, when it returns at once. An interrupted call returns
    /// `Ok(0)` too.
    pub fn recv_batch(
        &mut self,
        nonblocking: bool,
        f: impl FnMut(Datagram<'_>),
    ) -> io::Result<usize> {
        match sys::recv_batch(&self.socket, &mut self.landing, self.batch, nonblocking, f) {
            // A signal or the poll interval: nothing read, the caller polls again.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(0)
            }
            r => r,
        }
    }

    /// The datagrams the kernel has dropped on this socket since it was
    /// opened (its receive buffer was full), or `None` where the kernel
    /// does not report it.
    pub fn kernel_drops(&self) -> Option<u64> {
        sys::kernel_drops(&self.socket)
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys {
    use super::{Datagram, MAX_BATCH, MAX_DATAGRAM};
    use std::io;
    use std::mem::{size_of, zeroed};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
    use std::os::fd::AsRawFd;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    /// Control-message space per datagram: one `SCM_TIMESTAMPNS` (a
    /// `timespec`, 16 bytes, plus the 16-byte header), rounded up.
    const CONTROL: usize = 64;

    /// `SK_MEMINFO_DROPS`: the drop counter's index in `SO_MEMINFO`'s array
    /// (linux/sock_diag.h; libc does not export it).
    const SK_MEMINFO_DROPS: usize = 8;
    /// `SK_MEMINFO_VARS` as of Linux 4.15.
    const SK_MEMINFO_VARS: usize = 9;

    pub(super) fn enable_timestamps(socket: &UdpSocket) {
        let on: libc::c_int = 1;
        // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from a live
        // c_int. A kernel without it leaves the receiver on its own clock.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }

    pub(super) fn kernel_drops(socket: &UdpSocket) -> Option<u64> {
        let mut info = [0u32; SK_MEMINFO_VARS];
        let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `info`, which
        // is that long, and updates `len`.
        let rc = unsafe {
            libc::getsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_MEMINFO,
                info.as_mut_ptr().cast(),
                &mut len,
            )
        };
        let words = len as usize / size_of::<u32>();
        (rc == 0 && words > SK_MEMINFO_DROPS).then(|| u64::from(info[SK_MEMINFO_DROPS]))
    }

    pub(super) fn recv_batch(
        socket: &UdpSocket,
        landing: &mut [u8],
        batch: usize,
        nonblocking: bool,
        mut f: impl FnMut(Datagram<'_>),
    ) -> io::Result<usize> {
        let n = batch.min(MAX_BATCH).min(landing.len() / MAX_DATAGRAM);
        if n == 0 {
            return Ok(0);
        }
        // The headers and their arrays live on the stack: no allocation
        // per call. SAFETY (all three): all-zero is a valid value of these
        // plain C structs (null pointers, zero lengths).
        let mut iov: [libc::iovec; MAX_BATCH] = unsafe { zeroed() };
        let mut names: [libc::sockaddr_storage; MAX_BATCH] = unsafe { zeroed() };
        let mut msgs: [libc::mmsghdr; MAX_BATCH] = unsafe { zeroed() };
        let mut control = [[0u64; CONTROL / 8]; MAX_BATCH];
        for (i, slot) in landing.chunks_exact_mut(MAX_DATAGRAM).take(n).enumerate() {
            iov[i].iov_base = slot.as_mut_ptr().cast();
            iov[i].iov_len = MAX_DATAGRAM;
            let h = &mut msgs[i].msg_hdr;
            h.msg_name = (&mut names[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut iov[i];
            h.msg_iovlen = 1;
            h.msg_control = control[i].as_mut_ptr().cast();
            h.msg_controllen = CONTROL as _;
        }
        let flags = if nonblocking {
            libc::MSG_DONTWAIT
        } else {
            libc::MSG_WAITFORONE
        };
        // SAFETY: `msgs[..n]` each point at a live name buffer, one iovec
        // describing a distinct MAX_DATAGRAM-byte slot of `landing`, and a
        // live CONTROL-byte control buffer, all of which outlive the call;
        // the kernel writes within those lengths and sets `msg_len`,
        // `msg_namelen`, `msg_controllen` and `msg_flags`. A timeout is
        // not passed (the socket's SO_RCVTIMEO bounds the wait).
        let rc = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                msgs.as_mut_ptr(),
                n as libc::c_uint,
                flags,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let got = (rc as usize).min(n);
        let now = SystemTime::now();
        for (i, m) in msgs.iter().enumerate().take(got) {
            let len = (m.msg_len as usize).min(MAX_DATAGRAM);
            let truncated = m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            let peer = sockaddr(&names[i]).unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
            // SAFETY: the header is the one the kernel filled in, its
            // control pointer and length describe `control[i]`.
            let ts = unsafe { timestamp(&m.msg_hdr) }.unwrap_or(now);
            let start = i * MAX_DATAGRAM;
            let data = landing.get(start..start + len).unwrap_or(&[]);
            f(Datagram {
                data,
                peer,
                ts,
                truncated,
            });
        }
        Ok(got)
    }

    /// The `SCM_TIMESTAMPNS` control message of a received header.
    ///
    /// # Safety
    /// `h.msg_control`/`h.msg_controllen` must describe a live buffer the
    /// kernel filled in.
    unsafe fn timestamp(h: &libc::msghdr) -> Option<SystemTime> {
        // SAFETY: the CMSG macros walk the buffer the header describes,
        // never past `msg_controllen`; the data read is a `timespec` when
        // the type says so, read unaligned.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(h);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let t: libc::timespec =
                        std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::timespec>());
                    let secs = u64::try_from(t.tv_sec).ok()?;
                    let nanos = u32::try_from(t.tv_nsec).ok()?;
                    return UNIX_EPOCH.checked_add(Duration::new(secs, nanos));
                }
                c = libc::CMSG_NXTHDR(h, c);
            }
        }
        None
    }

    fn sockaddr(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
        match i32::from(s.ss_family) {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in,
                // which it is large and aligned enough for.
                let a =
                    unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
                Some(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                    u16::from_be(a.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: as above, for sockaddr_in6.
                let a =
                    unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(a.sin6_addr.s6_addr),
                    u16::from_be(a.sin6_port),
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    //! Portable fallback: one `recv_from` per datagram, the process's clock,
    //! no drop counter.
    use super::{Datagram, MAX_DATAGRAM};
    use std::io;
    use std::net::UdpSocket;
    use std::time::SystemTime;

    pub(super) fn enable_timestamps(_: &UdpSocket) {}

    pub(super) fn kernel_drops(_: &UdpSocket) -> Option<u64> {
        None
    }

    pub(super) fn recv_batch(
        socket: &UdpSocket,
        landing: &mut [u8],
        batch: usize,
        nonblocking: bool,
        mut f: impl FnMut(Datagram<'_>),
    ) -> io::Result<usize> {
        let mut got = 0;
        socket.set_nonblocking(nonblocking)?;
        let slot = &mut landing[..MAX_DATAGRAM.min(landing.len())];
        while got < batch {
            match socket.recv_from(slot) {
                Ok((len, peer)) => {
                    got += 1;
                    f(Datagram {
                        data: &slot[..len.min(slot.len())],
                        peer,
                        ts: SystemTime::now(),
                        truncated: false,
                    });
                    socket.set_nonblocking(true)?;
                }
                Err(e) if got > 0 && e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    socket.set_nonblocking(false)?;
                    return Err(e);
                }
            }
        }
        socket.set_nonblocking(false)?;
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receiver(addr: &str) -> Option<UdpReceiver> {
        let opts = RecvOptions {
            recv_buffer: 1 << 20,
            batch: 8,
            poll: Duration::from_millis(50),
        };
        UdpReceiver::bind(addr.parse().ok()?, &opts).ok()
    }

    #[test]
    fn a_batch_arrives_with_senders_and_timestamps() {
        let mut rx = receiver("127.0.0.1:0").expect("bind");
        let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let before = SystemTime::now() - Duration::from_secs(1);
        for i in 0..20u8 {
            tx.send_to(&[i; 100], rx.local_addr()).expect("send");
        }
        let mut seen = Vec::new();
        while seen.len() < 20 {
            let n = rx
                .recv_batch(false, |d| {
                    assert_eq!(d.peer, tx.local_addr().expect("addr"));
                    assert!(d.ts >= before && d.ts <= SystemTime::now());
                    assert!(!d.truncated);
                    assert_eq!(d.data.len(), 100);
                    seen.push(d.data[0]);
                })
                .expect("recv");
            assert!(n <= 8, "more than one batch in a call");
            if n == 0 {
                break;
            }
        }
        assert_eq!(seen, (0..20).collect::<Vec<u8>>());
        assert_eq!(
            rx.recv_batch(true, |_| panic!("nothing left"))
                .expect("recv"),
            0
        );
        assert!(rx.recv_buffer() > 0);
    }

    #[test]
    fn an_oversized_datagram_is_cut_and_flagged() {
        let mut rx = receiver("127.0.0.1:0").expect("bind");
        let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
        tx.send_to(&vec![7u8; MAX_DATAGRAM + 100], rx.local_addr())
            .expect("send");
        let mut got = None;
        rx.recv_batch(false, |d| got = Some((d.data.len(), d.truncated)))
            .expect("recv");
        if cfg!(target_os = "linux") {
            assert_eq!(got, Some((MAX_DATAGRAM, true)));
        }
    }

    #[test]
    fn reuseport_lets_two_receivers_share_a_port_and_ipv6_binds_beside_ipv4() {
        let a = receiver("127.0.0.1:0").expect("bind");
        let port = a.local_addr().port();
        let b = receiver(&format!("127.0.0.1:{port}")).expect("second socket on the port");
        assert_eq!(b.local_addr().port(), port);
        // The IPv6 wildcard next to IPv4 on the same port, where the host has IPv6.
        if let Some(v6) = receiver(&format!("[::]:{port}")) {
            assert_eq!(v6.local_addr().port(), port);
        }
    }

    #[test]
    fn an_idle_socket_returns_after_the_poll_interval() {
        let mut rx = receiver("127.0.0.1:0").expect("bind");
        let t = std::time::Instant::now();
        assert_eq!(rx.recv_batch(false, |_| {}).expect("recv"), 0);
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn kernel_drops_count_what_the_buffer_could_not_hold() {
        let opts = RecvOptions {
            // The kernel's minimum: a few datagrams fit.
            recv_buffer: 1,
            batch: 8,
            poll: Duration::from_millis(50),
        };
        let mut rx = UdpReceiver::bind("127.0.0.1:0".parse().expect("addr"), &opts).expect("bind");
        let Some(before) = rx.kernel_drops() else {
            return; // an old kernel without SK_MEMINFO_DROPS
        };
        let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
        for _ in 0..500 {
            let _ = tx.send_to(&[0u8; 1400], rx.local_addr());
        }
        let mut received = 0u64;
        loop {
            let n = rx.recv_batch(true, |_| {}).expect("recv");
            if n == 0 {
                break;
            }
            received += n as u64;
        }
        let dropped = rx.kernel_drops().expect("drops") - before;
        assert!(dropped > 0, "a 500-datagram burst into the minimum buffer");
        assert_eq!(
            received + dropped,
            500,
            "every datagram received or counted"
        );
    }
}
