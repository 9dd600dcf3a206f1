//! Per-realm UDP port pools: even ports of the realm's range, one socket per leg (RTP and
//! RTCP muxed). A port is leased with its socket and returns to the pool when the lease is
//! dropped (after the socket, by the task that owned it). OWNER: media-net helper.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::api::MediaError;
use super::engine::RealmConfig;

#[derive(Debug)]
struct PoolState {
    in_use: foldhash::HashSet<u16>,
    /// Next even port to try.
    cursor: u16,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<PoolState>,
    /// Sockets open across all pools of one engine.
    open_sockets: Arc<AtomicUsize>,
}

/// The port pool of one realm.
#[derive(Debug, Clone)]
pub struct PortPool {
    name: String,
    address: IpAddr,
    advertise: Option<IpAddr>,
    first: u16,
    last: u16,
    shared: Arc<Shared>,
}

/// A port held by an open socket; dropping it returns the port to its pool.
#[derive(Debug)]
pub struct PortLease {
    port: u16,
    shared: Arc<Shared>,
}

impl PortLease {
    /// The leased port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        let mut state = self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.in_use.remove(&self.port);
        self.shared.open_sockets.fetch_sub(1, Ordering::Relaxed);
    }
}

impl PortPool {
    /// The pool of `realm`; `open_sockets` counts sockets of all pools sharing it.
    pub fn new(realm: &RealmConfig, open_sockets: Arc<AtomicUsize>) -> Self {
        let start = *realm.ports.start();
        // First even port of the range (port 0 would mean "any port").
        let first = start.max(2).saturating_add(start.max(2) % 2);
        PortPool {
            name: realm.name.clone(),
            address: realm.address,
            advertise: realm.advertise,
            first,
            last: *realm.ports.end(),
            shared: Arc::new(Shared {
                state: Mutex::new(PoolState {
                    in_use: Default::default(),
                    cursor: first,
                }),
                open_sockets,
            }),
        }
    }

    /// Realm name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The address to write into Local for `port`.
    pub fn advertised(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.advertise.unwrap_or(self.address), port)
    }

    /// Number of even ports in the range.
    pub fn capacity(&self) -> usize {
        if self.first > self.last || self.first % 2 == 1 {
            0
        } else {
            usize::from((self.last - self.first) / 2) + 1
        }
    }

    /// Ports currently leased.
    pub fn in_use(&self) -> usize {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .in_use
            .len()
    }

    /// Bind a non-blocking UDP socket on the next free even port, round robin from the
    /// last one handed out; ports the OS refuses are skipped. `NoPorts` when every port
    /// is leased or refused as in use; `Io` when every attempt failed for another reason
    /// (e.g. the realm address is not local).
    pub fn bind(&self) -> Result<(UdpSocket, PortLease), MediaError> {
        let capacity = self.capacity();
        let mut state = self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut other_error: Option<io::Error> = None;
        let mut refused_in_use = false;
        let mut port = state.cursor;
        for _ in 0..capacity {
            if port < self.first || port > self.last {
                port = self.first;
            }
            let candidate = port;
            port = match port.checked_add(2) {
                Some(p) if p <= self.last => p,
                _ => self.first,
            };
            if state.in_use.contains(&candidate) {
                continue;
            }
            match UdpSocket::bind(SocketAddr::new(self.address, candidate)) {
                Ok(socket) => {
                    if let Err(e) = socket.set_nonblocking(true) {
                        return Err(MediaError::Io(e.to_string()));
                    }
                    state.in_use.insert(candidate);
                    state.cursor = port;
                    self.shared.open_sockets.fetch_add(1, Ordering::Relaxed);
                    return Ok((
                        socket,
                        PortLease {
                            port: candidate,
                            shared: self.shared.clone(),
                        },
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    tracing::debug!(realm = %self.name, port = candidate, "port in use, skipped");
                    refused_in_use = true;
                }
                Err(e) => {
                    tracing::debug!(realm = %self.name, port = candidate, error = %e, "bind failed, skipped");
                    other_error = Some(e);
                }
            }
        }
        match other_error {
            Some(e) if !refused_in_use && state.in_use.is_empty() => {
                Err(MediaError::Io(format!("{}: {e}", self.address)))
            }
            _ => Err(MediaError::NoPorts(self.name.clone())),
        }
    }
}
