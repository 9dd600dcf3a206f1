//! RFC 7983 demultiplexing of one UDP port: STUN, DTLS, RTP, RTCP (RFC 5761 payload-type
//! rule). OWNER: media-net helper.

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

/// Classify a datagram by its first octet (RFC 7983 section 7) and, for RTP/RTCP, its second
/// octet (RFC 5761 section 4: RTCP packet types 192..=223 are RTP payload types 64..=95 with
/// the marker bit set). A datagram shorter than two octets is [`Packet::Other`].
pub fn classify(buf: &[u8]) -> Packet {
    let (first, second) = match buf {
        [a, b, ..] => (*a, *b),
        _ => return Packet::Other,
    };
    match first {
        0..=3 => Packet::Stun,
        20..=63 => Packet::Dtls,
        128..=191 => {
            if (192..=223).contains(&second) {
                Packet::Rtcp
            } else {
                Packet::Rtp
            }
        }
        _ => Packet::Other,
    }
}
