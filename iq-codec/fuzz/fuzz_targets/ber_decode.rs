//! Arbitrary bytes into the BER (H.248.1 Annex A) decoder, both layers. Nothing may panic, loop
//! or overflow its stack, and whatever decodes must re-encode consistently:
//!
//! * raw ASN.1 layer: `decode_ber` → `encode_ber` → `decode_ber` gives the same
//!   `asn::MegacoMessage`, and encoding that again gives the same octets (BER in, our
//!   definite-length form out, which is then a fixed point);
//! * direct decoder: `BinaryCodec::decode` (one pass over the octets) gives what the two-pass
//!   reference `decode_via_asn` (`decode_ber`, then the mapping) gives: the same model, or an
//!   error with the same code and transaction (and, for a mapping error, the same path and
//!   reason);
//! * model: `decode_message` → `encode_message` either fails with an `EncodeError` (code 500,
//!   item and reason filled in: the documented way to refuse a model) or gives octets that
//!   `decode_message` turns into the same model, and whose re-encoding is the same octets
//!   (BER → model → BER is octet-stable from the first re-encoding on; the first one may differ
//!   from the input by the documented normalisations).
#![no_main]

use iq_codec::binary::{decode_ber, decode_message, encode_ber, encode_message, BinaryCodec};
use libfuzzer_sys::fuzz_target;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fuzz_target!(|data: &[u8]| {
    // Direct decoder against the reference.
    let codec = BinaryCodec::default();
    let direct = codec.decode(data);
    let reference = codec.decode_via_asn(data);
    let ber_error = decode_ber(data).is_err();
    match (&direct, &reference) {
        (Ok(a), Ok(b)) => assert!(
            a == b,
            "direct: another model than the reference\n--- input\n{}\n--- direct\n{a:?}\n--- reference\n{b:?}",
            hex(data)
        ),
        (Err(a), Err(b)) => assert!(
            a.code == b.code
                && a.transaction_id == b.transaction_id
                && (ber_error || a == b),
            "direct: another error than the reference\n--- input\n{}\n--- direct\n{a:?}\n--- reference\n{b:?}",
            hex(data)
        ),
        (a, b) => panic!(
            "direct: {a:?}\n--- reference: {b:?}\n--- input\n{}",
            hex(data)
        ),
    }

    // Raw ASN.1 layer.
    let Ok(asn) = decode_ber(data) else {
        return;
    };
    let ber1 = encode_ber(&asn);
    match decode_ber(&ber1) {
        Ok(back) => {
            assert!(
                back == asn,
                "asn: re-encoding decodes to another value\n--- input\n{}\n--- re-encoding\n{}",
                hex(data),
                hex(&ber1)
            );
            let ber2 = encode_ber(&back);
            assert!(
                ber2 == ber1,
                "asn: re-encoding not octet-stable\n--- input\n{}\n--- first\n{}\n--- second\n{}",
                hex(data),
                hex(&ber1),
                hex(&ber2)
            );
        }
        Err(e) => panic!(
            "asn: re-encoding does not decode: {e}\n--- input\n{}\n--- re-encoding\n{}",
            hex(data),
            hex(&ber1)
        ),
    }

    // Model layer.
    let Ok(msg) = decode_message(data) else {
        return;
    };
    let ber = match encode_message(&msg) {
        Ok(b) => b,
        Err(e) => {
            assert!(
                e.code == 500 && !e.item.is_empty() && !e.reason.is_empty() && !e.path.is_empty(),
                "model: undocumented EncodeError {e:?}\n--- input\n{}",
                hex(data)
            );
            return;
        }
    };
    match decode_message(&ber) {
        Ok(back) => {
            assert!(
                back == msg,
                "model: re-encoding decodes to another model\n--- input\n{}\n--- re-encoding\n{}\n--- first model\n{msg:?}\n--- second model\n{back:?}",
                hex(data),
                hex(&ber)
            );
            match encode_message(&back) {
                Ok(again) => assert!(
                    again == ber,
                    "model: BER -> model -> BER not octet-stable\n--- input\n{}\n--- first\n{}\n--- second\n{}",
                    hex(data),
                    hex(&ber),
                    hex(&again)
                ),
                Err(e) => panic!(
                    "model: second encoding fails: {e}\n--- input\n{}",
                    hex(data)
                ),
            }
        }
        Err(e) => panic!(
            "model: re-encoding does not decode: {e}\n--- input\n{}\n--- re-encoding\n{}",
            hex(data),
            hex(&ber)
        ),
    }
});
