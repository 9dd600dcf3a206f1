//! RFC 7983 demultiplexing of one UDP port: STUN, DTLS, RTP, RTCP (RFC 5761 payload-type
//! rule). OWNER: media-net helper (stub with the agreed API).

/// The protocol of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet {
    /// First octet 0..=3.
    Stun,
    /// First octet 20..=63.
    Dtls,
    /// First octet 128..=191, second octet's payload type not in 64..=95.
    Rtp,
    /// First octet 128..=191, second octet 192..=223.
    Rtcp,
    /// Anything else (ZRTP, TURN channel data, garbage): dropped.
    Other,
}

/// Classify a datagram.
pub fn classify(buf: &[u8]) -> Packet {
    let _ = buf;
    Packet::Other
}
