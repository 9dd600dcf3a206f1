//! The one error type of the transports.

use std::io;

use super::{Encoding, TransportKind};

/// What went wrong moving H.248 messages.
///
/// [`is_fatal`](Self::is_fatal) tells whether the connection is gone (reconnect or drop it) or only
/// the one message was refused (the connection stays usable).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// SCTP was chosen but this kernel cannot open SCTP sockets. The text names `modprobe sctp`
    /// and the TCP alternative; it is meant to be shown to an operator as is.
    #[error("{0}")]
    SctpUnavailable(String),
    /// The configuration cannot work (for example a wildcard SCTP bind address).
    #[error("{0}")]
    Config(String),
    /// A socket call failed; `what` says which one.
    #[error("{what}: {source}")]
    Io {
        /// The operation, e.g. "connect to 192.0.2.1:2944".
        what: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The peer closed the connection (TCP FIN, SCTP SHUTDOWN or ABORT) or it was closed here.
    #[error("connection closed")]
    Closed,
    /// A TPKT header (H.248.1 Annex D.2) was malformed; the connection has been closed since the
    /// byte stream cannot be resynchronised.
    #[error("bad TPKT header: {0}; connection closed")]
    Tpkt(TpktError),
    /// The message is larger than the transport (or the configured limit) allows.
    #[error("H.248 message of {len} octets is larger than {max} octets, the most {transport} carries here")]
    TooLarge {
        /// Transport that refused it.
        transport: TransportKind,
        /// Size of the message.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An empty message was given to send (H.248 messages are never empty).
    #[error("empty H.248 message")]
    Empty,
    /// The first octet of a message is neither an ASN.1 SEQUENCE (binary) nor the start of a text
    /// message, on an association whose encoding is not configured.
    #[error("cannot tell H.248 text from binary: the message starts with octet {0:#04x}")]
    UnknownEncoding(u8),
    /// A message in one encoding arrived on an association fixed to the other.
    #[error("{found} H.248 message on a {expected} association")]
    EncodingMismatch {
        /// Encoding of the association.
        expected: Encoding,
        /// Encoding of the message.
        found: Encoding,
    },
}

impl TransportError {
    /// True when the connection can no longer be used.
    pub fn is_fatal(&self) -> bool {
        match self {
            TransportError::SctpUnavailable(_)
            | TransportError::Config(_)
            | TransportError::Io { .. }
            | TransportError::Closed
            | TransportError::Tpkt(_) => true,
            TransportError::TooLarge { .. }
            | TransportError::Empty
            | TransportError::UnknownEncoding(_)
            | TransportError::EncodingMismatch { .. } => false,
        }
    }

    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> Self {
        match source.kind() {
            io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::UnexpectedEof => TransportError::Closed,
            _ => TransportError::Io {
                what: what.into(),
                source,
            },
        }
    }
}

impl From<io::Error> for TransportError {
    fn from(e: io::Error) -> Self {
        TransportError::io("socket I/O", e)
    }
}

impl From<TpktError> for TransportError {
    fn from(e: TpktError) -> Self {
        TransportError::Tpkt(e)
    }
}

/// A malformed TPKT header (RFC 1006 as used by H.248.1 Annex D.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TpktError {
    /// Version octet is not 3.
    #[error("version {0}, expected 3")]
    Version(u8),
    /// Reserved octet is not 0.
    #[error("reserved octet {0:#04x}, expected 0")]
    Reserved(u8),
    /// Length below 5: the 4-octet header plus at least one octet of message.
    #[error("length {0} is below 5 (the 4-octet header plus a non-empty message)")]
    Length(u16),
    /// The packet announces a message larger than the configured limit.
    #[error("announced message of {len} octets exceeds the limit of {max}")]
    TooLarge {
        /// Message octets announced by the header.
        len: usize,
        /// Configured limit.
        max: usize,
    },
    /// The peer closed the connection in the middle of a packet.
    #[error("connection closed inside a TPKT packet ({0} octets of it received)")]
    Truncated(usize),
}
