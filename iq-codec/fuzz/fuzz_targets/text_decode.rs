//! Arbitrary bytes into the text decoder. It must never panic, loop or overflow its stack; and
//! when it accepts the input, re-encoding the model (pretty and compact) must decode to the same
//! model, which makes the fuzzer find encoder/decoder asymmetries too.
#![no_main]

use iq_codec::text::{decode, encode, Style};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = decode(data) else {
        return;
    };
    for style in [Style::Pretty, Style::Compact] {
        let text = encode(&msg, style);
        match decode(text.as_bytes()) {
            Ok(back) => assert!(
                back == msg,
                "{style:?} re-encoding decodes to another model\n--- input\n{}\n--- re-encoding\n{text}\n--- first model\n{msg:?}\n--- second model\n{back:?}",
                String::from_utf8_lossy(data)
            ),
            Err(e) => panic!(
                "{style:?} re-encoding does not decode: {e}\n--- input\n{}\n--- re-encoding\n{text}",
                String::from_utf8_lossy(data)
            ),
        }
    }
});
