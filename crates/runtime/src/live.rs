//! The live sensor (`mirador run`): the receiver threads ([`receiver`]),
//! the pipeline thread ([`pipeline`]), what the metrics endpoint renders
//! ([`metrics`]), and the I/O around them: the EVE output file with
//! rotation and reopening ([`eve_file`]), the HTTP endpoint for metrics,
//! health and reload ([`http`]), and the TCP health check a Network Load
//! Balancer probes ([`health_tcp`]).

pub mod eve_file;
pub mod health_tcp;
pub mod http;
pub mod metrics;
pub mod pipeline;
pub mod receiver;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// How long a blocked `accept` waits before its thread looks at the stop
/// flag again (stopping also wakes it at once by connecting to it; this is
/// the fallback when that connection cannot be made).
pub(crate) const ACCEPT_POLL: Duration = Duration::from_millis(250);

/// A TCP listener on `addr`: `SO_REUSEADDR` (a restart binds at once, whatever
/// connections linger in TIME_WAIT), IPv6 sockets IPv6-only (so that
/// `0.0.0.0:P` and `[::]:P` can both be listed, as in the `listen` section),
/// and an accept timeout of [`ACCEPT_POLL`] so that the accepting thread can
/// always be stopped.
pub(crate) fn bind_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // SO_RCVTIMEO applies to accept(2) on Linux (socket(7)).
    socket.set_read_timeout(Some(ACCEPT_POLL))?;
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    Ok(socket.into())
}

/// Connects to a listener of ours so that a thread blocked in its `accept`
/// returns and sees the stop flag. Best effort: the accept timeout covers a
/// failure.
pub(crate) fn wake(listening: SocketAddr) {
    let ip = match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let _ = TcpStream::connect_timeout(
        &SocketAddr::new(ip, listening.port()),
        Duration::from_millis(200),
    );
}

/// Whether an `accept` error is only the accept timeout expiring.
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}
