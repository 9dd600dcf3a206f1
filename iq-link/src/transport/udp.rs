//! UDP with application-level framing (H.248.1 Annex D.1): one message per datagram, no
//! retransmission here (the transaction layer's job).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

use super::{
    EncodingState, Gate, Received, StreamKey, Transport, TransportConfig, TransportError,
    TransportKind,
};

/// Largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP). Larger messages are refused on send.
pub const UDP_MAX_PAYLOAD: usize = 65_507;
/// Datagrams queued per peer before new ones are dropped (UDP semantics; the peer retransmits).
const PEER_QUEUE: usize = 256;
/// New peers queued before `accept`.
const ACCEPT_QUEUE: usize = 64;

/// MGC side of UDP: one socket; every new peer address becomes a [`UdpConnection`] from
/// [`accept`](Self::accept), and its datagrams are routed to that connection.
#[derive(Debug)]
pub struct UdpListener {
    local: SocketAddr,
    new_peers: Mutex<mpsc::Receiver<UdpConnection>>,
    demux: JoinHandle<()>,
}

impl Drop for UdpListener {
    fn drop(&mut self) {
        // the connections' receive queues close with it
        self.demux.abort();
    }
}

impl UdpListener {
    /// Listen on `local`.
    pub async fn bind(local: SocketAddr, cfg: &TransportConfig) -> Result<Self, TransportError> {
        let sock = UdpSocket::bind(local)
            .await
            .map_err(|e| TransportError::io(format!("UDP bind {local}"), e))?;
        let local = sock
            .local_addr()
            .map_err(|e| TransportError::io("UDP local address", e))?;
        let sock = Arc::new(sock);
        let (tx, rx) = mpsc::channel(ACCEPT_QUEUE);
        let demux = tokio::spawn(demux(sock, local, tx, cfg.clone()));
        Ok(UdpListener {
            local,
            new_peers: Mutex::new(rx),
            demux,
        })
    }

    /// Wait for a datagram from a peer address not seen before (or whose connection was dropped).
    pub async fn accept(&self) -> Result<UdpConnection, TransportError> {
        self.new_peers
            .lock()
            .await
            .recv()
            .await
            .ok_or(TransportError::Closed)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

async fn demux(
    sock: Arc<UdpSocket>,
    local: SocketAddr,
    accept: mpsc::Sender<UdpConnection>,
    cfg: TransportConfig,
) {
    let mut peers: HashMap<SocketAddr, mpsc::Sender<Bytes>> = HashMap::new();
    let mut buf = vec![0u8; 65_536];
    let gate = Gate::new(cfg.allow.clone(), TransportKind::Udp);
    let max = cfg.max_message.min(UDP_MAX_PAYLOAD);
    let mut too_large = super::DropLog::default();
    loop {
        let (n, peer) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!("UDP receive on {local}: {e}");
                if !matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
                ) {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                continue;
            }
        };
        if n == 0 || !gate.admit(peer) {
            continue;
        }
        if n > max {
            // Dropped before it is copied or queued: nothing is kept of it. (Answering needs
            // the transaction ID, i.e. parsing the message this limit refuses to parse.)
            if let Some(count) = too_large.note(std::time::Instant::now(), peer.ip()) {
                tracing::warn!(%peer, len = n, max, dropped = count, "UDP H.248 message too large, dropped");
            }
            continue;
        }
        let mut msg = Bytes::copy_from_slice(&buf[..n]);
        if let Some(tx) = peers.get(&peer) {
            match tx.try_send(msg) {
                Ok(()) => continue,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(%peer, "UDP receive queue full, datagram dropped");
                    continue;
                }
                Err(mpsc::error::TrySendError::Closed(m)) => {
                    peers.remove(&peer);
                    msg = m;
                }
            }
        }
        let (tx, rx) = mpsc::channel(PEER_QUEUE);
        let _ = tx.try_send(msg);
        let conn = UdpConnection {
            sock: sock.clone(),
            peer,
            local,
            rx: Some(Mutex::new(rx)),
            max_message: cfg.max_message.min(UDP_MAX_PAYLOAD),
            encoding: EncodingState::new(cfg.encoding),
        };
        match accept.try_send(conn) {
            Ok(()) => {
                peers.insert(peer, tx);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(%peer, "UDP accept queue full, datagram from a new peer dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return,
        }
    }
}

/// A UDP peer: on the MG side a connected socket, on the MGC side one peer of a [`UdpListener`].
#[derive(Debug)]
pub struct UdpConnection {
    sock: Arc<UdpSocket>,
    peer: SocketAddr,
    local: SocketAddr,
    /// `None`: the socket is connected to `peer` and read directly.
    rx: Option<Mutex<mpsc::Receiver<Bytes>>>,
    max_message: usize,
    encoding: EncodingState,
}

impl UdpConnection {
    /// MG side: a socket bound to `local` (or an ephemeral port on all addresses) and connected
    /// to `remote`.
    pub async fn connect(
        remote: SocketAddr,
        local: Option<SocketAddr>,
        cfg: &TransportConfig,
    ) -> Result<Self, TransportError> {
        let bind = local.unwrap_or(if remote.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        });
        let sock = UdpSocket::bind(bind)
            .await
            .map_err(|e| TransportError::io(format!("UDP bind {bind}"), e))?;
        sock.connect(remote)
            .await
            .map_err(|e| TransportError::io(format!("UDP connect to {remote}"), e))?;
        let local = sock
            .local_addr()
            .map_err(|e| TransportError::io("UDP local address", e))?;
        Ok(UdpConnection {
            sock: Arc::new(sock),
            peer: remote,
            local,
            rx: None,
            max_message: cfg.max_message.min(UDP_MAX_PAYLOAD),
            encoding: EncodingState::new(cfg.encoding),
        })
    }
}

impl Transport for UdpConnection {
    fn kind(&self) -> TransportKind {
        TransportKind::Udp
    }

    fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn encoding(&self) -> Option<super::Encoding> {
        self.encoding.get()
    }

    async fn send(&self, msg: &[u8], _key: StreamKey) -> Result<(), TransportError> {
        if msg.is_empty() {
            return Err(TransportError::Empty);
        }
        if msg.len() > self.max_message {
            return Err(TransportError::TooLarge {
                transport: TransportKind::Udp,
                len: msg.len(),
                max: self.max_message,
            });
        }
        self.encoding.note_outgoing(msg);
        let what = || format!("UDP send to {}", self.peer);
        let sent = match self.rx {
            None => self.sock.send(msg).await,
            Some(_) => self.sock.send_to(msg, self.peer).await,
        }
        .map_err(|e| TransportError::Io {
            what: what(),
            source: e,
        })?;
        if sent != msg.len() {
            return Err(TransportError::Io {
                what: what(),
                source: io::Error::new(io::ErrorKind::WriteZero, "datagram truncated"),
            });
        }
        Ok(())
    }

    async fn recv(&self) -> Result<Received, TransportError> {
        let data = match &self.rx {
            Some(rx) => rx.lock().await.recv().await.ok_or(TransportError::Closed)?,
            None => {
                let mut buf = vec![0u8; 65_536];
                loop {
                    match self.sock.recv(&mut buf).await {
                        Ok(0) => continue,
                        Ok(n) => break Bytes::copy_from_slice(&buf[..n]),
                        // an ICMP port unreachable for an earlier datagram: the peer is not
                        // (yet) there; the transaction layer retransmits or gives up
                        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                            tracing::debug!(peer = %self.peer, "UDP: {e}");
                            continue;
                        }
                        Err(e) => {
                            return Err(TransportError::Io {
                                what: format!("UDP receive from {}", self.peer),
                                source: e,
                            })
                        }
                    }
                }
            }
        };
        if data.len() > self.max_message {
            return Err(TransportError::TooLarge {
                transport: TransportKind::Udp,
                len: data.len(),
                max: self.max_message,
            });
        }
        let encoding = self.encoding.check(&data)?;
        Ok(Received {
            data,
            peer: self.peer,
            encoding,
            stream: None,
            ppid: None,
        })
    }
}
