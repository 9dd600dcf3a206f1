//! SCTP per H.248.4, on the kernel's SCTP through `sctp-rs`.
//!
//! - One-to-one (TCP-style) sockets; the MG opens the association
//!   ([`SctpConnection::connect`]), the MGC accepts ([`SctpListener`]).
//! - Every message is one SCTP user message with payload protocol identifier 7, sent in network
//!   byte order (sctp-rs passes the value to the kernel unconverted, so this module converts).
//! - Several streams: [`StreamKey`] picks the outbound stream (`key % outbound streams`), so one
//!   context's messages stay in order without holding up other contexts. Any inbound stream is
//!   accepted; [`Received::stream`] tells which.
//! - Explicit local addresses: a listener refuses the wildcard address (it would advertise every
//!   local address in INIT), and a connector without a local address binds the one the routing
//!   table picks for the peer.
//! - [`probe`] checks that the kernel offers SCTP before any sctp-rs call (sctp-rs 0.3.1 would
//!   report a missing SCTP as "Bad file descriptor").
//!
//! Messages are reassembled when larger than sctp-rs's 4096-octet receive buffer: the kernel puts
//! the rest of a message that did not fit back at the head of the receive queue within the same
//! `recvmsg`, so it is read at once and recognised by its stream, SSN and TSN.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::task::Poll;
use std::time::{Duration, Instant};

use sctp_rs::{
    AssocChangeState, BindxFlags, ConnectedSocket, Notification, NotificationOrData, RcvInfo,
    SendData, SendInfo, Socket, SocketToAssociation,
};
use tokio::sync::Mutex;

use super::{
    EncodingState, Gate, Received, StreamKey, Transport, TransportConfig, TransportError,
    TransportKind, H248_SCTP_PPID,
};

/// sctp-rs 0.3.1 reads at most this many octets per `recvmsg`.
const SCTPRS_RECV_CHUNK: usize = 4096;
/// How long a send may wait for room in a full send buffer.
const SEND_BLOCKED_LIMIT: Duration = Duration::from_secs(30);
const LISTEN_BACKLOG: i32 = 16;

/// SCTP association parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SctpOptions {
    /// Outbound streams asked for in INIT (the peer may grant fewer).
    pub ostreams: u16,
    /// Inbound streams accepted.
    pub istreams: u16,
    /// INIT transmissions before a connect gives up (0: kernel default).
    pub max_init_attempts: u16,
    /// Upper bound of the INIT retransmission timeout, ms (0: kernel default).
    pub max_init_timeout_ms: u16,
}

impl Default for SctpOptions {
    fn default() -> Self {
        SctpOptions {
            ostreams: 16,
            istreams: 16,
            max_init_attempts: 4,
            max_init_timeout_ms: 1000,
        }
    }
}

/// Check that this kernel can open SCTP sockets (`socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)`).
///
/// The error, [`TransportError::SctpUnavailable`], says so in words an operator can act on: it
/// names `modprobe sctp` and the TCP transport as the alternative.
pub fn probe() -> Result<(), TransportError> {
    probe_family(false)
}

fn probe_family(v6: bool) -> Result<(), TransportError> {
    let domain = if v6 {
        socket2::Domain::IPV6
    } else {
        socket2::Domain::IPV4
    };
    match socket2::Socket::new(
        domain,
        socket2::Type::STREAM,
        Some(socket2::Protocol::from(132)), // IPPROTO_SCTP
    ) {
        Ok(_probe) => Ok(()), // closed on drop
        Err(e) => Err(unavailable(v6, &e)),
    }
}

fn unavailable(v6: bool, e: &io::Error) -> TransportError {
    let call = if v6 {
        "socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP)"
    } else {
        "socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)"
    };
    let why = match e.kind() {
        io::ErrorKind::PermissionDenied => {
            "SCTP sockets are not permitted here (a container or security policy blocks them)"
        }
        _ => "this kernel has no SCTP (the sctp module is not loaded or not built)",
    };
    TransportError::SctpUnavailable(format!(
        "SCTP transport unavailable: {why}; {call} failed: {e}. \
         Load kernel SCTP with `modprobe sctp` (as root; needs CONFIG_IP_SCTP, on some \
         distributions the module ships in a linux-modules-extra package), \
         or configure the TCP transport (TPKT framing, H.248.1 Annex D.2) instead."
    ))
}

fn new_socket(v6: bool) -> Result<Socket, TransportError> {
    probe_family(v6)?;
    let sock = if v6 {
        Socket::new_v6(SocketToAssociation::OneToOne)
    } else {
        Socket::new_v4(SocketToAssociation::OneToOne)
    };
    // sctp-rs turns a failed socket() into EBADF; the probe above makes that unlikely, but never
    // let "Bad file descriptor" reach an operator
    sock.map_err(|e| match e.raw_os_error() {
        Some(9) => unavailable(v6, &e),
        _ => TransportError::io("SCTP socket", e),
    })
}

/// Close an unconnected sctp-rs socket. sctp-rs 0.3.1 closes the descriptor only from the
/// `Listener` or `ConnectedSocket` a `Socket` turns into, so dropping a `Socket` after a failed
/// bind leaks it; turning it into a listener (the kernel binds an ephemeral port if needed) and
/// dropping that closes it. (Backlog 1: `listen(0)` on an unbound SCTP socket is EINVAL.)
fn discard(sock: Socket) {
    drop(sock.listen(1));
}

fn setup(sock: &Socket, opts: &SctpOptions) -> io::Result<()> {
    sock.sctp_setup_init_params(
        opts.ostreams,
        opts.istreams,
        opts.max_init_attempts,
        opts.max_init_timeout_ms,
    )
}

/// MGC side of SCTP: a one-to-one listening socket on explicit local addresses.
pub struct SctpListener {
    inner: sctp_rs::Listener,
    locals: Vec<SocketAddr>,
    cfg: TransportConfig,
    gate: Gate,
}

impl std::fmt::Debug for SctpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SctpListener")
            .field("locals", &self.locals)
            .finish()
    }
}

impl SctpListener {
    /// Listen on `locals` (one address, or several for a multi-homed endpoint; all explicit,
    /// one family, one port).
    pub fn bind(locals: &[SocketAddr], cfg: &TransportConfig) -> Result<Self, TransportError> {
        let first = *locals
            .first()
            .ok_or_else(|| TransportError::Config("SCTP listener: no local address".into()))?;
        for a in locals {
            if a.ip().is_unspecified() {
                return Err(TransportError::Config(format!(
                    "SCTP listener on {a}: bind explicit local addresses, not the wildcard \
                     (a wildcard bind advertises every local address of the host in INIT)"
                )));
            }
            if a.is_ipv4() != first.is_ipv4() {
                return Err(TransportError::Config(
                    "SCTP listener: local addresses of one family only".into(),
                ));
            }
        }
        let sock = new_socket(first.is_ipv6())?;
        if let Err(e) = sock.sctp_bindx(locals, BindxFlags::Add) {
            discard(sock);
            return Err(TransportError::io(format!("SCTP bind {locals:?}"), e));
        }
        if let Err(e) = setup(&sock, &cfg.sctp) {
            discard(sock);
            return Err(TransportError::io("SCTP INIT parameters", e));
        }
        let inner = sock
            .listen(LISTEN_BACKLOG)
            .map_err(|e| TransportError::io(format!("SCTP listen on {first}"), e))?;
        // the kernel's view has the actual port when bound to port 0
        let locals = match inner.sctp_getladdrs(0) {
            Ok(l) if !l.is_empty() => l,
            _ => locals.to_vec(),
        };
        tracing::debug!(?locals, "SCTP listening");
        Ok(SctpListener {
            inner,
            locals,
            cfg: cfg.clone(),
            gate: Gate::new(cfg.allow.clone(), TransportKind::Sctp),
        })
    }

    /// Wait for the next association from an allowed source ([`TransportConfig::allow`]); one
    /// from elsewhere is shut down at once (nothing of it is read).
    pub async fn accept(&self) -> Result<SctpConnection, TransportError> {
        loop {
            let (sock, peer) =
                self.inner.accept().await.map_err(|e| {
                    TransportError::io(format!("SCTP accept on {}", self.locals[0]), e)
                })?;
            if !self.gate.admit(peer) {
                let _ = sock.shutdown(std::net::Shutdown::Both);
                drop(sock);
                continue;
            }
            return SctpConnection::establish(sock, 0, peer, self.locals[0], &self.cfg);
        }
    }

    /// The first local address.
    pub fn local_addr(&self) -> SocketAddr {
        self.locals[0]
    }

    /// All local addresses.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.locals
    }
}

/// One SCTP association (one-to-one socket).
pub struct SctpConnection {
    sock: ConnectedSocket,
    peer: SocketAddr,
    local: SocketAddr,
    ostreams: u16,
    istreams: u16,
    /// An event read ahead while looking for the rest of a large message.
    pending: Mutex<Option<NotificationOrData>>,
    max_message: usize,
    encoding: EncodingState,
}

impl std::fmt::Debug for SctpConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SctpConnection")
            .field("peer", &self.peer)
            .field("local", &self.local)
            .field("ostreams", &self.ostreams)
            .field("istreams", &self.istreams)
            .field("encoding", &self.encoding.get())
            .finish()
    }
}

/// The local address the routing table would use towards `remote` (connecting a UDP socket
/// sends nothing).
fn source_address(remote: SocketAddr) -> Result<IpAddr, TransportError> {
    let any: SocketAddr = if remote.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let s = std::net::UdpSocket::bind(any)
        .and_then(|s| s.connect(remote).map(|()| s))
        .and_then(|s| s.local_addr())
        .map_err(|e| TransportError::io(format!("no route to {remote}"), e))?;
    Ok(s.ip())
}

impl SctpConnection {
    /// MG side: open an association to `remote` from `local` (an explicit address; port 0 for an
    /// ephemeral port). Without `local`, the address the routing table picks for `remote` is
    /// bound. Gives up after [`SctpOptions::max_init_attempts`] INITs.
    pub async fn connect(
        remote: SocketAddr,
        local: Option<SocketAddr>,
        cfg: &TransportConfig,
    ) -> Result<Self, TransportError> {
        let local = match local {
            Some(l) => l,
            None => SocketAddr::new(source_address(remote)?, 0),
        };
        if local.ip().is_unspecified() {
            return Err(TransportError::Config(format!(
                "SCTP connect from {local}: bind an explicit local address, not the wildcard"
            )));
        }
        if local.is_ipv4() != remote.is_ipv4() {
            return Err(TransportError::Config(format!(
                "SCTP connect from {local} to {remote}: address families differ"
            )));
        }
        let sock = new_socket(remote.is_ipv6())?;
        if let Err(e) = sock.bind(local) {
            discard(sock);
            return Err(TransportError::io(format!("SCTP bind {local}"), e));
        }
        if let Err(e) = setup(&sock, &cfg.sctp) {
            discard(sock);
            return Err(TransportError::io("SCTP INIT parameters", e));
        }
        let (conn, assoc) =
            sock.sctp_connectx(&[remote])
                .await
                .map_err(|e| TransportError::Io {
                    what: format!("SCTP connect to {remote} from {local}"),
                    source: e,
                })?;
        Self::establish(conn, assoc, remote, local, cfg)
    }

    fn establish(
        sock: ConnectedSocket,
        assoc: i32,
        peer: SocketAddr,
        local: SocketAddr,
        cfg: &TransportConfig,
    ) -> Result<Self, TransportError> {
        sock.sctp_request_rcvinfo(true)
            .map_err(|e| TransportError::io("SCTP_RECVRCVINFO", e))?;
        let status = sock
            .sctp_get_status(assoc)
            .map_err(|e| TransportError::io("SCTP_STATUS", e))?;
        let local = match sock.sctp_getladdrs(assoc) {
            Ok(l) if !l.is_empty() => l[0],
            _ => local,
        };
        tracing::debug!(
            %peer, %local, ostreams = status.outstreams, istreams = status.instreams,
            "SCTP association up"
        );
        Ok(SctpConnection {
            sock,
            peer,
            local,
            ostreams: status.outstreams,
            istreams: status.instreams,
            pending: Mutex::new(None),
            max_message: cfg.max_message,
            encoding: EncodingState::new(cfg.encoding),
        })
    }

    /// Outbound streams granted by the peer.
    pub fn ostreams(&self) -> u16 {
        self.ostreams
    }

    /// Inbound streams.
    pub fn istreams(&self) -> u16 {
        self.istreams
    }

    /// Start a graceful SHUTDOWN (queued messages are delivered first). Dropping the connection
    /// does the same.
    pub fn shutdown(&self) -> Result<(), TransportError> {
        self.sock
            .shutdown(std::net::Shutdown::Write)
            .map_err(|e| TransportError::io("SCTP shutdown", e))
    }

    fn recv_error(&self, e: io::Error) -> TransportError {
        TransportError::io(format!("SCTP receive from {}", self.peer), e)
    }

    /// The next event if one is queued right now, without waiting.
    async fn poll_now(&self) -> Poll<io::Result<NotificationOrData>> {
        let mut fut = std::pin::pin!(self.sock.sctp_recv());
        // unconstrained: tokio's cooperative budget must not make a ready socket look empty
        tokio::task::coop::unconstrained(std::future::poll_fn(|cx| {
            Poll::Ready(fut.as_mut().poll(cx))
        }))
        .await
    }
}

fn same_message(a: &Option<RcvInfo>, b: &Option<RcvInfo>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a.sid, a.ssn, a.tsn) == (b.sid, b.ssn, b.tsn),
        _ => true, // without receive info, assume the remainder (it is at the queue head)
    }
}

impl Transport for SctpConnection {
    fn kind(&self) -> TransportKind {
        TransportKind::Sctp
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

    async fn send(&self, msg: &[u8], key: StreamKey) -> Result<(), TransportError> {
        if msg.is_empty() {
            return Err(TransportError::Empty);
        }
        if msg.len() > self.max_message {
            return Err(TransportError::TooLarge {
                transport: TransportKind::Sctp,
                len: msg.len(),
                max: self.max_message,
            });
        }
        self.encoding.note_outgoing(msg);
        let sid = key.stream(self.ostreams);
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            let data = SendData {
                payload: msg.to_vec(),
                snd_info: Some(SendInfo {
                    sid,
                    flags: 0,
                    ppid: H248_SCTP_PPID.to_be(), // network byte order on the wire
                    context: 0,
                    assoc_id: 0,
                }),
            };
            match self.sock.sctp_send(data).await {
                Ok(()) => return Ok(()),
                // sctp-rs returns EAGAIN instead of waiting when the send buffer is full
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if start.elapsed() > SEND_BLOCKED_LIMIT {
                        return Err(TransportError::io(
                            format!("SCTP send to {}: send buffer full", self.peer),
                            e,
                        ));
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => {
                    return Err(TransportError::io(
                        format!("SCTP send to {} on stream {sid}", self.peer),
                        e,
                    ))
                }
            }
        }
    }

    async fn recv(&self) -> Result<Received, TransportError> {
        let mut pending = self.pending.lock().await;
        loop {
            let ev = match pending.take() {
                Some(ev) => ev,
                None => self
                    .sock
                    .sctp_recv()
                    .await
                    .map_err(|e| self.recv_error(e))?,
            };
            let first = match ev {
                NotificationOrData::Notification(n) => match n {
                    Notification::AssociationChange(c)
                        if matches!(
                            c.state,
                            AssocChangeState::CommLost
                                | AssocChangeState::ShutdownComplete
                                | AssocChangeState::CannotStartAssoc
                        ) =>
                    {
                        return Err(TransportError::Closed)
                    }
                    Notification::Shutdown(_) => return Err(TransportError::Closed),
                    _ => continue,
                },
                // recvmsg() == 0: the peer shut the association down (DATA is never empty)
                NotificationOrData::Data(d) if d.payload.is_empty() => {
                    return Err(TransportError::Closed)
                }
                NotificationOrData::Data(d) => d,
            };
            let info = first.rcv_info;
            let mut data = first.payload;
            let mut last = data.len();
            // Octets of this message seen; past `max_message` the rest is read and counted but
            // not kept, so an oversized message costs one chunk of memory, not its size.
            let mut total = data.len();
            while last == SCTPRS_RECV_CHUNK {
                match self.poll_now().await {
                    Poll::Pending => break, // nothing queued: the message was exactly full
                    Poll::Ready(Err(e)) => return Err(self.recv_error(e)),
                    Poll::Ready(Ok(NotificationOrData::Data(more)))
                        if !more.payload.is_empty() && same_message(&info, &more.rcv_info) =>
                    {
                        last = more.payload.len();
                        total += last;
                        if total <= self.max_message {
                            data.extend_from_slice(&more.payload);
                        } else {
                            data = Vec::new();
                        }
                    }
                    Poll::Ready(Ok(other)) => {
                        *pending = Some(other);
                        break;
                    }
                }
            }
            if total > self.max_message {
                return Err(TransportError::TooLarge {
                    transport: TransportKind::Sctp,
                    len: total,
                    max: self.max_message,
                });
            }
            let ppid = info.as_ref().map(|i| u32::from_be(i.ppid));
            if let Some(p) = ppid.filter(|&p| p != H248_SCTP_PPID) {
                tracing::warn!(peer = %self.peer, ppid = p, "SCTP message with a PPID other than 7 (H.248)");
            }
            let encoding = self.encoding.check(&data)?;
            return Ok(Received {
                data: data.into(),
                peer: self.peer,
                encoding,
                stream: info.as_ref().map(|i| i.sid),
                ppid,
            });
        }
    }
}
