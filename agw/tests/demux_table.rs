//! RFC 7983 / RFC 5761 demultiplexing: every boundary of the first-octet ranges and the
//! RTCP-vs-RTP rule on the second octet.

use iq_agw::media::demux::{classify, Packet};

#[test]
fn first_octet_boundaries() {
    // (first octet, expected class) with an RTP-looking second octet (PT 0).
    let table: &[(u8, Packet)] = &[
        (0, Packet::Stun),
        (1, Packet::Stun),
        (3, Packet::Stun),
        (4, Packet::Other),
        (16, Packet::Other), // ZRTP range 16..=19
        (19, Packet::Other),
        (20, Packet::Dtls),
        (22, Packet::Dtls), // handshake
        (63, Packet::Dtls),
        (64, Packet::Other), // TURN channel 64..=79
        (79, Packet::Other),
        (127, Packet::Other),
        (128, Packet::Rtp),
        (0x80, Packet::Rtp),
        (0x90, Packet::Rtp),
        (191, Packet::Rtp),
        (192, Packet::Other),
        (255, Packet::Other),
    ];
    for &(first, want) in table {
        assert_eq!(classify(&[first, 0, 0, 0]), want, "first octet {first}");
    }
}

#[test]
fn rtcp_versus_rtp_by_second_octet() {
    // RTCP packet types: SR 200, RR 201, SDES 202, BYE 203, APP 204, RTPFB 205, PSFB 206.
    for pt in [192u8, 200, 201, 202, 203, 204, 205, 206, 223] {
        assert_eq!(
            classify(&[0x80, pt, 0, 1]),
            Packet::Rtcp,
            "second octet {pt}"
        );
        assert_eq!(
            classify(&[0x81, pt, 0, 7, 0, 0, 0, 0]),
            Packet::Rtcp,
            "RC=1, {pt}"
        );
    }
    // RTP payload types 0 (PCMU), 8, 96, 111 (opus), 127, with and without the marker bit,
    // and the neighbours of the RTCP range.
    for second in [0u8, 8, 96, 111, 127, 0x80, 0x80 | 111, 191, 224, 255] {
        assert_eq!(
            classify(&[0x80, second, 0, 1]),
            Packet::Rtp,
            "second octet {second}"
        );
    }
}

#[test]
fn short_datagrams_are_other() {
    assert_eq!(classify(&[]), Packet::Other);
    assert_eq!(classify(&[0x80]), Packet::Other);
    assert_eq!(classify(&[0x00]), Packet::Other);
    assert_eq!(classify(&[22]), Packet::Other);
    assert_eq!(classify(&[0x80, 200]), Packet::Rtcp);
}
