//! The binary encoding of H.248.1 (Annex A): ASN.1 BER.
//!
//! [`asn`] holds the ASN.1 module `MEDIA-GATEWAY-CONTROL` version 3 as Rust types (raw wire
//! forms: package and item IDs as octets, values as octet strings). [`decode_ber`] reads a
//! `MegacoMessage` in BER, with definite and indefinite lengths, skipping extension additions
//! it does not know; [`encode_ber`] writes one with definite lengths only (the DER-like form
//! Erlang/OTP megaco also writes). Mapping to the message model is built on top of these types.
//!
//! ```
//! use iq_codec::binary::{decode_ber, encode_ber};
//! // MegacoMessage { mess { version 3, mId ip4Address { 192.0.2.1 port 2944 },
//! //   messageBody transactions { transactionPending { transactionId 1 } } } }
//! let ber = [
//!     0x30, 0x1c, 0xa1, 0x1a, 0x80, 0x01, 0x03, 0xa1, 0x0c, 0xa0, 0x0a, 0x80, 0x04, 0xc0,
//!     0x00, 0x02, 0x01, 0x81, 0x02, 0x0b, 0x80, 0xa2, 0x07, 0xa1, 0x05, 0xa1, 0x03, 0x80,
//!     0x01, 0x01,
//! ];
//! let msg = decode_ber(&ber).unwrap();
//! assert_eq!(msg.mess.version, 3);
//! assert_eq!(encode_ber(&msg), ber);
//! ```

pub mod asn;

use rasn::error::{DecodeError, DecodeErrorKind};
use thiserror::Error;

/// A BER message that could not be decoded: where and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BerError {
    /// The octets are not a `MegacoMessage` in BER.
    #[error("BER decode error in {path}: {reason}")]
    Malformed {
        /// Where: the chain of ASN.1 components being decoded, outermost first, as
        /// `Type.field` (e.g. `MegacoMessage.mess / Message.m_id`); `MegacoMessage` when the
        /// outermost value itself is wrong.
        path: String,
        /// Why, as the BER decoder put it.
        reason: String,
    },
    /// A whole `MegacoMessage` was read but octets follow it.
    #[error("{trailing} octet(s) after the end of the MegacoMessage at offset {end}")]
    TrailingData {
        /// Length of the `MegacoMessage` (offset of the first extra octet).
        end: usize,
        /// How many octets follow it.
        trailing: usize,
    },
}

impl BerError {
    fn from_rasn(err: &DecodeError) -> Self {
        let mut path = vec!["MegacoMessage"];
        let mut inner = err;
        while let DecodeErrorKind::FieldError { name, nested } = &*inner.kind {
            path.push(name);
            inner = nested;
        }
        if path.len() > 1 {
            // The field names already start with their type ("MegacoMessage.mess").
            path.remove(0);
        }
        BerError::Malformed {
            path: path.join(" / "),
            reason: inner.kind.to_string(),
        }
    }
}

/// Decodes one BER-encoded `MegacoMessage` that fills `input` exactly.
///
/// Definite and indefinite lengths are accepted (also constructed string encodings);
/// extension additions unknown to version 3 at the end of an extensible SEQUENCE are skipped.
/// Never panics; nesting deeper than 128 levels is an error.
pub fn decode_ber(input: &[u8]) -> Result<asn::MegacoMessage, BerError> {
    use rasn::ber::de::{Decoder, DecoderOptions};
    use rasn::Decode;
    let mut decoder = Decoder::new(input, DecoderOptions::ber());
    let msg = asn::MegacoMessage::decode(&mut decoder).map_err(|e| BerError::from_rasn(&e))?;
    let end = decoder.decoded_len();
    if end != input.len() {
        return Err(BerError::TrailingData {
            end,
            trailing: input.len() - end,
        });
    }
    Ok(msg)
}

/// Encodes a `MegacoMessage` in BER with definite lengths, minimal length and integer octets
/// and primitive strings (the form megaco and DER use; values are written as held, e.g. a BIT
/// STRING keeps its length).
pub fn encode_ber(msg: &asn::MegacoMessage) -> Vec<u8> {
    // The types declare no constraints rasn checks on encoding (sizes are fixed by the Rust
    // types or left unchecked), and an OBJECT IDENTIFIER can only be built valid, so the BER
    // encoder has no failure left.
    rasn::ber::encode(msg).expect("BER encoding of asn::MegacoMessage cannot fail")
}
