//! Transports behind one trait: SCTP (H.248.4), TCP with TPKT (H.248.1 Annex D.2) and UDP with
//! ALF (H.248.1 Annex D.1).
//!
//! Each transport has a listener for the MGC (IMS-ALG) side and a connector for the MG (IMS-AGW)
//! side, which opens the association. Both give a connection implementing [`Transport`]:
//! [`send`](Transport::send) one whole H.248 message with a [`StreamKey`], and
//! [`recv`](Transport::recv) one whole message with the peer's address. The drivers are thin: no
//! retransmission (the transaction layer does that, as Annex D.1 asks for UDP), no parsing beyond
//! telling text from binary.
//!
//! | | SCTP | TCP | UDP |
//! |---|---|---|---|
//! | framing | one message per SCTP user message, PPID 7 | TPKT header per message | one message per datagram |
//! | [`StreamKey`] | picks the outbound stream (`key % streams`) | ignored | ignored |
//! | listener | [`SctpListener`] | [`TcpListener`] | [`UdpListener`] (one connection per peer address) |
//! | connector | [`SctpConnection::connect`] | [`TcpConnection::connect`] | [`UdpConnection::connect`] |
//!
//! [`TransportConfig`] picks a transport at run time and yields [`Listener`] / [`Connection`]
//! enums that forward to the concrete types.
//!
//! SCTP uses the kernel's SCTP through `sctp-rs`. On a kernel without it, choosing SCTP fails at
//! start-up with [`TransportError::SctpUnavailable`], whose text names `modprobe sctp` and the
//! TCP alternative (see [`sctp::probe`]).
//!
//! ```no_run
//! use iq_link::transport::{StreamKey, Transport, TransportConfig, TransportKind};
//! # async fn mg() -> Result<(), iq_link::transport::TransportError> {
//! let cfg = TransportConfig::new(TransportKind::Tcp);
//! let conn = cfg.connect("192.0.2.10:2944".parse().unwrap(), None).await?;
//! conn.send(b"MEGACO/3 [192.0.2.20]:2944 T=1{C=-{SC=ROOT{SV{MT=RS,RE=\"901\"}}}}", StreamKey::CONTROL)
//!     .await?;
//! let reply = conn.recv().await?;
//! println!("{} octets from {} ({})", reply.data.len(), reply.peer, reply.encoding);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;

mod allow;
mod encoding;
mod error;
pub mod sctp;
mod tcp;
pub mod tpkt;
mod udp;

pub(crate) use allow::Gate;
pub use allow::{AllowList, DropLog, IpNet, IpNetError};
pub(crate) use encoding::EncodingState;
pub use encoding::{Encoding, EncodingMode};
pub use error::{TpktError, TransportError};
pub use sctp::{SctpConnection, SctpListener, SctpOptions};
pub use tcp::{TcpConnection, TcpListener};
pub use tpkt::TpktCodec;
pub use udp::{UdpConnection, UdpListener, UDP_MAX_PAYLOAD};

/// Well-known port for text-encoded H.248 (H.248.1 Annex D, H.248.4).
pub const H248_TEXT_PORT: u16 = 2944;
/// Well-known port for binary-encoded H.248.
pub const H248_BINARY_PORT: u16 = 2945;
/// SCTP payload protocol identifier of H.248 (IANA; H.248.4). Sent in network byte order.
pub const H248_SCTP_PPID: u32 = 7;
/// Default size limit of one message on every transport (the most TPKT can carry).
pub const DEFAULT_MAX_MESSAGE: usize = tpkt::TPKT_MAX_PAYLOAD;

/// Which transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// SCTP, H.248.4.
    Sctp,
    /// TCP with TPKT framing, H.248.1 Annex D.2.
    Tcp,
    /// UDP with application-level framing, H.248.1 Annex D.1.
    Udp,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportKind::Sctp => "SCTP",
            TransportKind::Tcp => "TCP",
            TransportKind::Udp => "UDP",
        })
    }
}

/// Caller-chosen key that keeps related messages in order: messages with the same key go on the
/// same SCTP stream. Use the context ID ([`StreamKey::context`]) so that each context's
/// transactions stay ordered while unrelated contexts do not wait for each other (no head-of-line
/// blocking across contexts). TCP and UDP accept and ignore it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct StreamKey(pub u64);

impl StreamKey {
    /// Key for messages about no particular context (ServiceChange on ROOT, ...): stream 0.
    pub const CONTROL: StreamKey = StreamKey(0);

    /// Key of an H.248 context ID.
    pub fn context(context_id: u32) -> StreamKey {
        StreamKey(context_id as u64)
    }

    /// The stream among `streams` outbound streams this key maps to (`key % streams`).
    pub fn stream(self, streams: u16) -> u16 {
        if streams <= 1 {
            0
        } else {
            (self.0 % streams as u64) as u16
        }
    }
}

/// One received H.248 message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The whole message, without transport framing.
    pub data: Bytes,
    /// Who sent it.
    pub peer: SocketAddr,
    /// Encoding of the association (configured, or detected from its first message).
    pub encoding: Encoding,
    /// SCTP stream it arrived on (`None` on TCP and UDP).
    pub stream: Option<u16>,
    /// SCTP payload protocol identifier in host byte order, 7 for H.248 (`None` on TCP and UDP).
    pub ppid: Option<u32>,
}

/// A connection (SCTP association, TCP connection, or UDP peer) that moves whole H.248 messages.
///
/// Methods take `&self`: one task may wait in [`recv`](Self::recv) while others
/// [`send`](Self::send) (wrap the connection in an `Arc`). Messages from concurrent senders are
/// never interleaved.
pub trait Transport: Send + Sync {
    /// Which transport this is.
    fn kind(&self) -> TransportKind;
    /// The remote address.
    fn peer_addr(&self) -> SocketAddr;
    /// The local address.
    fn local_addr(&self) -> SocketAddr;
    /// The association's encoding, once configured or seen in a message.
    fn encoding(&self) -> Option<Encoding>;
    /// Send one whole message. `key` picks the SCTP stream; TCP and UDP ignore it.
    fn send(
        &self,
        msg: &[u8],
        key: StreamKey,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;
    /// Receive the next whole message. After an error with
    /// [`is_fatal`](TransportError::is_fatal) the connection is closed.
    fn recv(&self) -> impl Future<Output = Result<Received, TransportError>> + Send;
}

/// Run-time choice of transport and its settings.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// Which transport.
    pub kind: TransportKind,
    /// Text or binary: detected per association, or fixed.
    pub encoding: EncodingMode,
    /// Largest message accepted in either direction (capped by what the transport can carry).
    pub max_message: usize,
    /// SCTP settings (streams, INIT retries).
    pub sctp: SctpOptions,
    /// Listeners only: source addresses allowed to open an association. A TCP connection or
    /// SCTP association from elsewhere is closed as soon as it is accepted, a UDP datagram from
    /// elsewhere dropped before any state exists for its sender; each is logged, at most once
    /// a minute per source ([`DropLog`]). `None` (the default) allows every source.
    pub allow: Option<AllowList>,
}

impl TransportConfig {
    /// Defaults for `kind`: encoding detected, 65531-octet messages, 16 SCTP streams each way,
    /// every source allowed.
    pub fn new(kind: TransportKind) -> Self {
        TransportConfig {
            kind,
            encoding: EncodingMode::Detect,
            max_message: DEFAULT_MAX_MESSAGE,
            sctp: SctpOptions::default(),
            allow: None,
        }
    }

    /// Well-known port for the configured encoding (2944 when detected or text, 2945 binary).
    pub fn default_port(&self) -> u16 {
        match self.encoding {
            EncodingMode::Fixed(e) => e.default_port(),
            EncodingMode::Detect => H248_TEXT_PORT,
        }
    }

    /// MGC side: listen on `local` (an explicit address for SCTP).
    pub async fn listen(&self, local: SocketAddr) -> Result<Listener, TransportError> {
        Ok(match self.kind {
            TransportKind::Sctp => Listener::Sctp(SctpListener::bind(&[local], self)?),
            TransportKind::Tcp => Listener::Tcp(TcpListener::bind(local, self).await?),
            TransportKind::Udp => Listener::Udp(UdpListener::bind(local, self).await?),
        })
    }

    /// MG side: open the association to `remote`, from `local` if given (otherwise from the
    /// address the routing table picks for `remote`, bound explicitly).
    pub async fn connect(
        &self,
        remote: SocketAddr,
        local: Option<SocketAddr>,
    ) -> Result<Connection, TransportError> {
        Ok(match self.kind {
            TransportKind::Sctp => {
                Connection::Sctp(SctpConnection::connect(remote, local, self).await?)
            }
            TransportKind::Tcp => {
                Connection::Tcp(TcpConnection::connect(remote, local, self).await?)
            }
            TransportKind::Udp => {
                Connection::Udp(UdpConnection::connect(remote, local, self).await?)
            }
        })
    }
}

/// A listener of any transport.
#[derive(Debug)]
pub enum Listener {
    /// SCTP.
    Sctp(SctpListener),
    /// TCP/TPKT.
    Tcp(TcpListener),
    /// UDP/ALF.
    Udp(UdpListener),
}

impl Listener {
    /// Wait for the next association (for UDP: the next new peer address).
    pub async fn accept(&self) -> Result<Connection, TransportError> {
        Ok(match self {
            Listener::Sctp(l) => Connection::Sctp(l.accept().await?),
            Listener::Tcp(l) => Connection::Tcp(l.accept().await?),
            Listener::Udp(l) => Connection::Udp(l.accept().await?),
        })
    }

    /// The (first) local address.
    pub fn local_addr(&self) -> SocketAddr {
        match self {
            Listener::Sctp(l) => l.local_addr(),
            Listener::Tcp(l) => l.local_addr(),
            Listener::Udp(l) => l.local_addr(),
        }
    }
}

/// A connection of any transport.
#[derive(Debug)]
pub enum Connection {
    /// SCTP association.
    Sctp(SctpConnection),
    /// TCP connection with TPKT framing.
    Tcp(TcpConnection),
    /// UDP peer with ALF.
    Udp(UdpConnection),
}

macro_rules! each {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            Connection::Sctp($c) => $e,
            Connection::Tcp($c) => $e,
            Connection::Udp($c) => $e,
        }
    };
}

impl Connection {
    /// Send `msgs` in order: one write for TCP, one message each for SCTP and UDP (whose
    /// messages are datagrams). Stops at the first error.
    pub async fn send_batch(&self, msgs: &[Vec<u8>], key: StreamKey) -> Result<(), TransportError> {
        match self {
            Connection::Tcp(c) => c.send_all(msgs).await,
            _ => {
                for m in msgs {
                    self.send(m, key).await?;
                }
                Ok(())
            }
        }
    }
}

impl Transport for Connection {
    fn kind(&self) -> TransportKind {
        each!(self, c => c.kind())
    }
    fn peer_addr(&self) -> SocketAddr {
        each!(self, c => c.peer_addr())
    }
    fn local_addr(&self) -> SocketAddr {
        each!(self, c => c.local_addr())
    }
    fn encoding(&self) -> Option<Encoding> {
        each!(self, c => c.encoding())
    }
    async fn send(&self, msg: &[u8], key: StreamKey) -> Result<(), TransportError> {
        each!(self, c => c.send(msg, key).await)
    }
    async fn recv(&self) -> Result<Received, TransportError> {
        each!(self, c => c.recv().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_key_mapping() {
        assert_eq!(StreamKey::CONTROL.stream(16), 0);
        assert_eq!(StreamKey::context(5).stream(16), 5);
        assert_eq!(StreamKey::context(21).stream(16), 5);
        assert_eq!(StreamKey::context(u32::MAX).stream(10), 5);
        assert_eq!(StreamKey::context(7).stream(1), 0);
        assert_eq!(StreamKey::context(7).stream(0), 0);
    }

    #[test]
    fn default_ports() {
        let mut c = TransportConfig::new(TransportKind::Sctp);
        assert_eq!(c.default_port(), 2944);
        c.encoding = EncodingMode::Fixed(Encoding::Binary);
        assert_eq!(c.default_port(), 2945);
    }
}
