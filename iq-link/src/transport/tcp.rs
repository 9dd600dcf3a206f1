//! TCP with TPKT framing (H.248.1 Annex D.2).

use std::net::SocketAddr;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Mutex;
use tokio_util::codec::Decoder;

use super::{
    EncodingState, Gate, Received, StreamKey, TpktCodec, TpktError, Transport, TransportConfig,
    TransportError, TransportKind,
};

/// MGC side of TCP: accepts connections.
#[derive(Debug)]
pub struct TcpListener {
    inner: tokio::net::TcpListener,
    local: SocketAddr,
    cfg: TransportConfig,
    gate: Gate,
}

impl TcpListener {
    /// Listen on `local`.
    pub async fn bind(local: SocketAddr, cfg: &TransportConfig) -> Result<Self, TransportError> {
        let inner = tokio::net::TcpListener::bind(local)
            .await
            .map_err(|e| TransportError::io(format!("TCP bind {local}"), e))?;
        let local = inner
            .local_addr()
            .map_err(|e| TransportError::io("TCP local address", e))?;
        Ok(TcpListener {
            inner,
            local,
            cfg: cfg.clone(),
            gate: Gate::new(cfg.allow.clone(), TransportKind::Tcp),
        })
    }

    /// Wait for the next connection from an allowed source ([`TransportConfig::allow`]); one
    /// from elsewhere is closed at once (nothing of it is read).
    pub async fn accept(&self) -> Result<TcpConnection, TransportError> {
        loop {
            let (stream, peer) = self
                .inner
                .accept()
                .await
                .map_err(|e| TransportError::io(format!("TCP accept on {}", self.local), e))?;
            if !self.gate.admit(peer) {
                drop(stream);
                continue;
            }
            return TcpConnection::from_stream(stream, &self.cfg);
        }
    }

    /// The bound address (with the actual port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

struct ReadSide {
    half: Option<OwnedReadHalf>,
    buf: BytesMut,
    codec: TpktCodec,
}

/// A TCP connection carrying TPKT-framed H.248 messages.
pub struct TcpConnection {
    reader: Mutex<ReadSide>,
    writer: Mutex<Option<OwnedWriteHalf>>,
    codec: TpktCodec,
    peer: SocketAddr,
    local: SocketAddr,
    encoding: EncodingState,
}

impl std::fmt::Debug for TcpConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpConnection")
            .field("peer", &self.peer)
            .field("local", &self.local)
            .field("encoding", &self.encoding.get())
            .finish()
    }
}

impl TcpConnection {
    /// MG side: connect to `remote`, binding `local` first when given.
    pub async fn connect(
        remote: SocketAddr,
        local: Option<SocketAddr>,
        cfg: &TransportConfig,
    ) -> Result<Self, TransportError> {
        let sock = if remote.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|e| TransportError::io("TCP socket", e))?;
        if let Some(local) = local {
            sock.bind(local)
                .map_err(|e| TransportError::io(format!("TCP bind {local}"), e))?;
        }
        let stream = sock.connect(remote).await.map_err(|e| TransportError::Io {
            what: format!("TCP connect to {remote}"),
            source: e,
        })?;
        Self::from_stream(stream, cfg)
    }

    /// Wrap an established TCP stream.
    pub fn from_stream(stream: TcpStream, cfg: &TransportConfig) -> Result<Self, TransportError> {
        let _ = stream.set_nodelay(true);
        let peer = stream
            .peer_addr()
            .map_err(|e| TransportError::io("TCP peer address", e))?;
        let local = stream
            .local_addr()
            .map_err(|e| TransportError::io("TCP local address", e))?;
        let (r, w) = stream.into_split();
        let codec = TpktCodec::with_max_payload(cfg.max_message);
        Ok(TcpConnection {
            reader: Mutex::new(ReadSide {
                half: Some(r),
                buf: BytesMut::with_capacity(8 * 1024),
                codec: codec.clone(),
            }),
            writer: Mutex::new(Some(w)),
            codec,
            peer,
            local,
            encoding: EncodingState::new(cfg.encoding),
        })
    }

    /// Close both directions (a framing error does this too).
    pub async fn close(&self) {
        let mut r = self.reader.lock().await;
        self.close_locked(&mut r).await;
    }

    async fn close_locked(&self, r: &mut ReadSide) {
        r.half = None;
        r.buf.clear();
        if let Some(mut w) = self.writer.lock().await.take() {
            let _ = w.shutdown().await;
        }
    }
}

impl TcpConnection {
    /// Send several messages with one write: each TPKT-framed in order, so the peer reads
    /// exactly what `send` one by one would have given it, for one system call and (on a busy
    /// association) fewer segments.
    pub async fn send_all(&self, msgs: &[Vec<u8>]) -> Result<(), TransportError> {
        let mut framed = BytesMut::with_capacity(msgs.iter().map(|m| m.len() + 4).sum());
        for msg in msgs {
            self.frame(msg, &mut framed)?;
        }
        self.write_framed(&framed).await
    }

    /// Append `msg` TPKT-framed to `out`, noting its encoding.
    fn frame(&self, msg: &[u8], out: &mut BytesMut) -> Result<(), TransportError> {
        self.codec.encode_into(msg, out)?;
        self.encoding.note_outgoing(msg);
        Ok(())
    }

    async fn write_framed(&self, framed: &[u8]) -> Result<(), TransportError> {
        let mut w = self.writer.lock().await;
        let half = w.as_mut().ok_or(TransportError::Closed)?;
        half.write_all(framed)
            .await
            .map_err(|e| TransportError::io(format!("TCP send to {}", self.peer), e))
    }
}

impl Transport for TcpConnection {
    fn kind(&self) -> TransportKind {
        TransportKind::Tcp
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
        let mut framed = BytesMut::new();
        self.frame(msg, &mut framed)?;
        self.write_framed(&framed).await
    }

    async fn recv(&self) -> Result<Received, TransportError> {
        let mut guard = self.reader.lock().await;
        let r = &mut *guard;
        loop {
            match r.codec.decode(&mut r.buf) {
                Ok(Some(frame)) => {
                    let data = frame.freeze();
                    let encoding = self.encoding.check(&data)?;
                    return Ok(Received {
                        data,
                        peer: self.peer,
                        encoding,
                        stream: None,
                        ppid: None,
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(peer = %self.peer, "closing TCP connection: {e}");
                    self.close_locked(r).await;
                    return Err(e);
                }
            }
            let Some(half) = r.half.as_mut() else {
                return Err(TransportError::Closed);
            };
            let n = match half.read_buf(&mut r.buf).await {
                Ok(n) => n,
                Err(e) => {
                    self.close_locked(r).await;
                    return Err(TransportError::io(
                        format!("TCP receive from {}", self.peer),
                        e,
                    ));
                }
            };
            if n == 0 {
                let pending = r.buf.len();
                self.close_locked(r).await;
                return Err(if pending == 0 {
                    TransportError::Closed
                } else {
                    TpktError::Truncated(pending).into()
                });
            }
        }
    }
}
