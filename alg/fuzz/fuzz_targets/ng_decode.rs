//! Arbitrary bytes as an ng datagram: cookie split, bencode or JSON dictionary, typed request.
//! Nothing may panic, and whatever bencode decodes must re-encode to bytes that decode to the
//! same value, whose encoding is then a fixed point (canonical form).
#![no_main]

use iq_alg::ng::{bencode, request, wire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = bencode::decode(data) {
        let once = v.encode();
        let back = bencode::decode(&once).expect("our own encoding decodes");
        assert_eq!(back, v);
        assert_eq!(back.encode(), once);
    }
    if let Ok(d) = wire::decode(data) {
        let _ = request::parse(&d.body);
        let reply = wire::encode(&d.cookie, &d.body, d.format);
        let again = wire::decode(&reply).expect("our reply decodes");
        assert_eq!(again.cookie, d.cookie);
        if d.format == wire::Format::Bencode {
            assert_eq!(again.body, d.body);
        }
    }
});
