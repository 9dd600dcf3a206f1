//! RFC 7983 classification and the plain leg's packet path on any datagram: no panic, and
//! the class agrees with the first two octets.
#![no_main]

use std::time::Instant;

use iq_agw::media::demux::{classify, Packet};
use iq_agw::media::plain::RtpReceiveStats;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let class = classify(data);
    match data {
        [a, b, ..] => match class {
            Packet::Stun => assert!(*a <= 3),
            Packet::Dtls => assert!((20..=63).contains(a)),
            Packet::Rtcp => assert!((128..=191).contains(a) && (192..=223).contains(b)),
            Packet::Rtp => assert!((128..=191).contains(a) && !(192..=223).contains(b)),
            Packet::Other => {
                assert!(!(*a <= 3 || (20..=63).contains(a) || (128..=191).contains(a)))
            }
        },
        _ => assert_eq!(class, Packet::Other),
    }
    // Feed the datagram split into RTP-sized pieces through the receiver statistics.
    let epoch = Instant::now();
    let mut stats = RtpReceiveStats::new(epoch);
    for chunk in data.chunks(16) {
        stats.on_rtp(chunk, epoch);
    }
    let _ = (stats.lost(), stats.jitter());
});
