//! Sending UDP datagrams in batches, for `mirador send`.
//!
//! [`send_batch`] hands the kernel up to [`MAX_BATCH`] datagrams in one
//! system call: `sendmmsg(2)` on Linux, where one call per datagram would
//! make the system-call cost, not the network, the limit of a load test.
//! Elsewhere it falls back to one `send(2)` per datagram with the same
//! contract. The `sendmmsg` call is the crate's only `unsafe` code.

use std::io;
use std::net::UdpSocket;

/// Most datagrams one [`send_batch`] call hands the kernel (the `mmsghdr`
/// and `iovec` arrays live on the stack: no allocation per batch).
pub const MAX_BATCH: usize = 64;

/// Sends the first datagrams of `datagrams` (at most [`MAX_BATCH`]) on
/// `socket`, which must be connected, and returns how many the kernel
/// took, counted from the front; `Ok(0)` only for an empty slice.
///
/// An error means that the first datagram was not sent. A failure after
/// the first shows as a short count, and the error is met again (or not,
/// if it was transient) when the caller sends the rest. Interrupted calls
/// are retried. A blocking socket blocks while its send buffer is full.
pub fn send_batch<B: AsRef<[u8]>>(socket: &UdpSocket, datagrams: &[B]) -> io::Result<usize> {
    let batch = datagrams.get(..MAX_BATCH).unwrap_or(datagrams);
    if batch.is_empty() {
        return Ok(0);
    }
    loop {
        match send_some(socket, batch) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

#[cfg(target_os = "linux")]
fn send_some<B: AsRef<[u8]>>(socket: &UdpSocket, batch: &[B]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;

    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_BATCH];
    for (v, d) in iov.iter_mut().zip(batch) {
        let d = d.as_ref();
        // sendmmsg only reads through the pointer; the cast to *mut is
        // what the C struct asks for.
        v.iov_base = d.as_ptr().cast_mut().cast();
        v.iov_len = d.len();
    }
    let n = batch.len().min(MAX_BATCH);
    sendmmsg(socket.as_raw_fd(), &mut iov[..n])
}

/// `sendmmsg(2)` of one datagram per `iov` entry on the connected socket
/// `fd`; returns how many were sent.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn sendmmsg(fd: std::os::fd::RawFd, iov: &mut [libc::iovec]) -> io::Result<usize> {
    let n = iov.len().min(MAX_BATCH);
    // SAFETY: an all-zero `mmsghdr` is valid (null name and control, no
    // iovecs, zero flags); the zeroing also covers the private padding
    // fields some libcs declare, which a struct literal could not.
    let mut msgs: [libc::mmsghdr; MAX_BATCH] = unsafe { std::mem::zeroed() };
    for (m, v) in msgs.iter_mut().zip(iov.iter_mut()) {
        m.msg_hdr.msg_iov = v;
        m.msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: `msgs[..n]` are initialised headers, each pointing at one
    // live `iovec` of `iov`, each describing a live borrowed byte slice
    // (see `send_some`); all outlive the call, the kernel only reads the
    // buffers and writes `msg_len`, and `n <= MAX_BATCH` (fits c_uint).
    let rc = unsafe { libc::sendmmsg(fd, msgs.as_mut_ptr(), n as libc::c_uint, 0) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as usize)
    }
}

#[cfg(not(target_os = "linux"))]
fn send_some<B: AsRef<[u8]>>(socket: &UdpSocket, batch: &[B]) -> io::Result<usize> {
    for (i, d) in batch.iter().enumerate() {
        if let Err(e) = socket.send(d.as_ref()) {
            return if i == 0 { Err(e) } else { Ok(i) };
        }
    }
    Ok(batch.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pair(v6: bool) -> Option<(UdpSocket, UdpSocket)> {
        let any = if v6 { "[::1]:0" } else { "127.0.0.1:0" };
        let rx = UdpSocket::bind(any).ok()?;
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let tx = UdpSocket::bind(any).unwrap();
        tx.connect(rx.local_addr().unwrap()).unwrap();
        Some((tx, rx))
    }

    fn round_trip(tx: &UdpSocket, rx: &UdpSocket, count: usize) {
        let datagrams: Vec<Vec<u8>> = (0..count).map(|i| vec![i as u8; 1 + i % 300]).collect();
        let mut sent = 0;
        while sent < count {
            let n = send_batch(tx, &datagrams[sent..]).unwrap();
            assert!((1..=MAX_BATCH).contains(&n));
            sent += n;
        }
        let mut buf = [0u8; 2048];
        for d in &datagrams {
            let n = rx.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], &d[..]);
        }
    }

    #[test]
    fn batches_arrive_whole_and_in_order() {
        let (tx, rx) = pair(false).unwrap();
        round_trip(&tx, &rx, MAX_BATCH * 2 + 3);
    }

    #[test]
    fn ipv6_batches_arrive() {
        // Hosts without IPv6 loopback skip.
        if let Some((tx, rx)) = pair(true) {
            round_trip(&tx, &rx, 10);
        }
    }

    #[test]
    fn empty_and_oversized_batches() {
        let (tx, _rx) = pair(false).unwrap();
        assert_eq!(send_batch::<&[u8]>(&tx, &[]).unwrap(), 0);
        let big = vec![0u8; 70_000]; // over the IPv4 UDP payload limit
        assert!(send_batch(&tx, &[&big[..]]).is_err());
    }
}
