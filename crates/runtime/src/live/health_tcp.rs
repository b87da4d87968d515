//! The TCP health check (`health.tcp`): a Network Load Balancer's TCP health
//! check only needs the handshake, so each accepted connection is closed at
//! once, without reading or writing anything.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{bind_listener, is_timeout, wake};

/// The TCP health-check listeners: one thread (`mirador-health`) per
/// address.
#[derive(Debug)]
pub struct TcpHealth {
    addrs: Vec<SocketAddr>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    accepted: AtomicU64,
}

impl TcpHealth {
    /// Binds every address (all or none: an error closes those bound) and
    /// starts accepting.
    pub fn start(addrs: &[SocketAddr]) -> io::Result<TcpHealth> {
        let listeners = addrs
            .iter()
            .map(|&a| {
                bind_listener(a)
                    .map_err(|e| io::Error::new(e.kind(), format!("TCP health check {a}: {e}")))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let shared = Arc::new(Shared::default());
        let mut health = TcpHealth {
            addrs: Vec::with_capacity(listeners.len()),
            shared,
            threads: Vec::with_capacity(listeners.len()),
        };
        for listener in listeners {
            health.addrs.push(listener.local_addr()?);
            let shared = Arc::clone(&health.shared);
            let spawned = std::thread::Builder::new()
                .name("mirador-health".into())
                .spawn(move || accept_loop(&listener, &shared));
            match spawned {
                Ok(h) => health.threads.push(h),
                Err(e) => {
                    health.stop();
                    return Err(e);
                }
            }
        }
        Ok(health)
    }

    /// The addresses bound (with the port the system chose for port 0).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.addrs.clone()
    }

    /// Connections accepted so far, all addresses together.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    /// Stops accepting, closes the listeners and joins their threads.
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
    }
}

impl Drop for TcpHealth {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.shutdown();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                // Dropping it closes it: FIN, not RST, and nothing read.
                drop(stream);
            }
            Err(e) if is_timeout(&e) => {}
            // Out of descriptors, a connection aborted before it was
            // accepted...: none is a reason to stop answering; pause so that
            // a persistent error does not spin.
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpStream;
    use std::time::Instant;

    fn loopback() -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    fn wait_for(mut f: impl FnMut() -> bool) -> bool {
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn accepts_closes_and_counts() {
        let h = TcpHealth::start(&[loopback(), loopback()]).unwrap();
        let addrs = h.local_addrs();
        assert_eq!(addrs.len(), 2);
        assert!(addrs.iter().all(|a| a.port() != 0));
        assert_ne!(addrs[0], addrs[1]);
        for (i, a) in addrs.iter().cycle().take(5).enumerate() {
            let mut s = TcpStream::connect(a).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 16];
            // The server closes without sending anything: EOF.
            assert_eq!(s.read(&mut buf).unwrap(), 0, "connection {i}");
        }
        assert!(wait_for(|| h.accepted() == 5), "accepted {}", h.accepted());
        let started = Instant::now();
        h.stop();
        assert!(started.elapsed() < Duration::from_secs(2));
        // Nothing listens any more.
        for a in &addrs {
            assert!(TcpStream::connect(a).is_err());
        }
    }

    #[test]
    fn stop_without_connections_does_not_hang() {
        let h = TcpHealth::start(&[loopback()]).unwrap();
        let started = Instant::now();
        h.stop();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(TcpHealth::start(&[]).unwrap().local_addrs(), vec![]);
    }

    #[test]
    fn a_busy_address_fails_the_start() {
        let taken = TcpListener::bind(loopback()).unwrap();
        let addr = taken.local_addr().unwrap();
        let err = TcpHealth::start(&[loopback(), addr]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }

    #[test]
    fn restart_rebinds_the_same_port() {
        let h = TcpHealth::start(&[loopback()]).unwrap();
        let addr = h.local_addrs()[0];
        // Leave a connection in TIME_WAIT on the server side.
        drop(TcpStream::connect(addr).unwrap());
        assert!(wait_for(|| h.accepted() == 1));
        h.stop();
        let again = TcpHealth::start(&[addr]).unwrap();
        assert_eq!(again.local_addrs(), vec![addr]);
        drop(again);
    }

    #[test]
    fn ipv4_and_ipv6_wildcards_on_the_same_port() {
        let v4 = TcpHealth::start(&["0.0.0.0:0".parse().unwrap()]).unwrap();
        let port = v4.local_addrs()[0].port();
        // IPv6-only, so it does not collide with the IPv4 wildcard (skipped
        // where the host has no IPv6).
        let v6: SocketAddr = format!("[::]:{port}").parse().unwrap();
        match TcpHealth::start(&[v6]) {
            Ok(h) => h.stop(),
            Err(e) => assert_ne!(e.kind(), io::ErrorKind::AddrInUse, "{e}"),
        }
        v4.stop();
    }
}
