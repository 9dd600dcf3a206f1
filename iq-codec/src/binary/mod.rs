//! The binary encoding of H.248.1 (Annex A): ASN.1 BER, for the whole message model.
//!
//! Two layers:
//!
//! * [`BinaryCodec`] (and the free functions [`encode_message`] / [`decode_message`] with the
//!   default codec): [`Message`] ⇔ BER octets. It holds the package table
//!   ([`Registry`], default [`Registry::shared_builtin`]) that maps names to binary IDs and the
//!   [`TermIdMapping`] for termination IDs. The mapping is in [`map`] and [`termid`]; its rules
//!   are below and in `src/binary/README.md`. **Both directions are one pass**, with no
//!   [`asn`] value in between: `direct_dec.rs` reads BER octets straight into the model (a
//!   small BER reader and a walk over the ASN.1 module), `direct_enc.rs` writes them straight
//!   from it; both apply `map`'s rules through the functions they share with `map::Dec` and
//!   `map::Enc` (shared, not copied).
//! * The raw ASN.1 layer: [`asn`] holds the ASN.1 module `MEDIA-GATEWAY-CONTROL` version 3 as Rust
//!   types; [`decode_ber`] reads a `MegacoMessage` in BER (definite and indefinite lengths,
//!   unknown extension additions skipped), [`encode_ber`] writes one with definite lengths (the
//!   DER-like form Erlang/OTP megaco also writes). The `asn` types remain the transcription of
//!   the ASN.1 module, the raw API, and the reference both one-pass codecs are tested against:
//!   [`BinaryCodec::decode_via_asn`] ([`decode_ber`] then [`BinaryCodec::from_asn`]) and
//!   `BinaryCodec::encode_via_asn` ([`BinaryCodec::to_asn`] then [`encode_ber`]).
//!
//! Why one pass: on megaco's BER (callgrind, `examples/codec_work.rs ber-decode` /
//! `ber-encode`), the two-pass decoder (rasn's derived BER decoder into `asn`, then `map::Dec`)
//! took 17,485 instructions per message, ~12,400 of them in rasn, and the two-pass encoder
//! 13,358 (half building and dropping the `asn` values, half rasn's encoder); in one pass they
//! took 8,372 and 4,049 when they were merged, and 5,483 and 3,758 after later work
//! (BENCHMARKS.md has the steps). The one-pass results equal the two-pass ones for every input:
//! - decode: the same model, or an error with the same code and transaction (for a mapping
//!   error, also the same path and reason): `tests/ber_direct.rs` and the `ber_decode` fuzz
//!   target;
//! - encode: the same octets, or the same error field for field: `tests/ber_direct_enc.rs`.
//!
//! ```
//! use iq_codec::binary::{decode_message, encode_message};
//! let msg = iq_codec::text::decode(b"!/3 [192.0.2.1]:2944\nT=1{C=-{SC=ROOT{SV{MT=RS,RE=901}}}}")
//!     .unwrap();
//! let ber = encode_message(&msg).unwrap();
//! assert!(ber.ends_with(&[0xa4, 0x05, 0x04, 0x03, b'9', b'0', b'1'])); // reason "901"
//! assert_eq!(decode_message(&ber).unwrap(), msg);
//! ```
//!
//! # Errors
//!
//! * [`EncodeError`]: a model element BER cannot express (a name without a binary ID and not of
//!   the `pXXXX/iXXXX` form, a termination ID the [`TermIdMapping`] cannot express, a value
//!   that is not ASCII where ASN.1 has an IA5String, ...). It names the element (`item`), where
//!   it is (`path`, e.g. `Transaction 7 / Context 1 / command 1 (Add) / Media / Stream 1 /
//!   LocalControl`), why (`reason`) and the H.248 code to answer with: always 500, what megaco
//!   answers when its binary encoder cannot express something.
//! * [`BinDecodeError`]: `code` 400 for octets that are not a valid `MegacoMessage` (BER
//!   errors, trailing octets, values the ASN.1 constrains: a termination id of 0 or more than 8
//!   octets, an invalid PkgdName, a profile that is not `name/version`, ...); 501 for valid BER
//!   the model cannot carry (see "Not carried" below). `path` locates the error by ASN.1
//!   component (rasn errors) or by message structure (mapping errors); BER errors carry no byte
//!   offset. `transaction_id` is set when the error is inside a transaction.
//!
//! # Mapping rules
//!
//! **Names.** A `pkg/item` name is the 4-octet `PkgdName`: package ID and item ID from the
//! [`Registry`], looked up by the item kind of the position: properties in TerminationState,
//! LocalControl, Local/Remote, ContextAttr, Modem and the property audits (IndAud*,
//! contextPropAud); events in Events, ObservedEvents, EventBuffer and event audits; signals in
//! Signals and signal audits; statistics in Statistics. Unknown IDs decode to (and `pXXXX` /
//! `iXXXX` names encode from) the registry's hex forms, so nothing is lost. Event and signal
//! parameter names are the 2-octet `Name` IDs of the parameter within its event/signal
//! ([`Registry::param_id`], `iXXXX` for unknown IDs, also under wildcarded items); the model's
//! `stream` field is the ASN.1 `streamID`, never a parameter. Package names (Packages
//! descriptor, package audit) are the 2-octet package ID (0xFFFF is refused on decoding).
//!
//! **Digit map names** are `Name` (2 octets). megaco's resolver maps `dialplanDD` to the two
//! decimal digits as octet values (`dialplan12` = `01 02`); it also accepts `dialplanD`
//! (= `0D`) and `dialplan` (= `00 00`). The same here, plus `dialplanXXXX` (4 hex digits) for
//! octet pairs whose octets are not both 0..9 (megaco would decode those into non-digit
//! characters). Decoding always gives `dialplanDD` or `dialplanXXXX`. Any other name is an
//! [`EncodeError`].
//!
//! **SDP** in Local/Remote: each line is a PropertyParm of package 0x0000 with the Annex C tag of
//! its line type (`v` = 0xB001 ... `m` = 0xB00F, [`crate::packages::sdp_tag`]), one value: the
//! rest of the line as octets. Property groups map 1:1. An *audited* Local/Remote
//! (IndAudLocalRemoteDescriptor) has one group: a line with values is an IndAudPropertyParm with
//! propertyParms (a selection), a line without values a plain name.
//!
//! **Values** (property and parameter values, statistics, ServiceChange reason) are the text
//! value's octets as they are, one OCTET STRING per value (megaco's convention, no BER
//! IA5String inside): `Reason = "901 Cold Boot"` is `04 0d "901 Cold Boot"`. Relations, ranges
//! and sublists are `extraInfo`. Decoded octets must be UTF-8 (501 otherwise).
//!
//! **Where text and ASN.1 differ:**
//! * Topology `OnewayExternal` / `OnewayBoth` = direction `oneway` + topologyDirectionExtension
//!   `onewayexternal` / `onewayboth`; an extension on another direction is a decode error.
//! * AuditValue/AuditCapability request: one termination = `terminationID`; several =
//!   `terminationID` (the first) + `terminationIDList` (all of them). No audit descriptor
//!   (`AuditValue = t1` without braces) = the empty AuditDescriptor: BER cannot tell the two
//!   apart, decoding gives `Some(empty)`.
//! * Audit reply: one termination = `auditResult`, several = `auditResultTermList`
//!   (an `auditResultTermList` of one decodes to the one-termination model).
//! * `AuditReturnParameter::Empty` items: a run of consecutive ones is one `emptyDescriptors`
//!   AuditDescriptor whose auditToken has their bits; decoding gives one `Empty` per set bit in
//!   bit order (mux, modem, media, events, signals, digitMap, statistics, observedEvents,
//!   packages, eventBuffer). Audit descriptor tokens and NotifyCompletion are BIT STRINGs
//!   written DER-style (up to the highest set bit); decoding lists them in bit order, without
//!   duplicates.
//! * Events descriptor without request ID (`Events` in a reply) = `requestID` absent.
//! * RequestedEvent `KeepActive`, `DigitMap`, `Embed`, notify behaviour, `ResetEventsDescriptor`
//!   = RequestedActions (present only if one is set; `keepActive` only when TRUE); embedded
//!   events = SecondEventsDescriptor, whose events cannot embed events again (EncodeError). An
//!   event's digit map is a name or a value (EventDM), not both.
//! * Signal `KeepActive` = `keepActive TRUE` (absent otherwise).
//! * ServiceChange `Profile = name/version` = one IA5String `"name/version"`; the reason is
//!   SEQUENCE OF OCTET STRING with zero (no reason) or one element.
//! * MTP addresses: the model's hex digits as 2 to 4 octets (`MTP{0A1B}` = `0a 1b`; an odd
//!   number of digits gets a leading zero). megaco instead writes the hex characters
//!   (`"0A1B"`), not what the ASN.1 `OCTET STRING(SIZE(2..4))` means.
//! * IPv4/IPv6 addresses are their 4/16 octets, ports `portNumber`.
//! * Time stamps: `date` and `time` IA5Strings of the text's `yyyymmdd` / `hhmmssss`.
//! * A Notify without ObservedEvents (v1 error-only Notify) = `requestId 0` and an empty list
//!   (ASN.1 makes the descriptor mandatory; text always has at least one event); an empty list
//!   decodes back to none.
//! * ServiceChange extension parameters (`X-name = value`, which ASN.1 has no field for) =
//!   `nonStandardData { experimental "X-IQ-EXT", data }` with `data` the parameters as Annex B
//!   text, every value quoted: `x-vendor="abc",x+flag#"1",x-l={"a","b"}`. Decoding reads that
//!   back exactly; other nonStandardData is a 501 decode error. megaco's binary codec drops
//!   extensions. Extension *methods* (`Method = X-foo`) have no form in the closed
//!   ServiceChangeMethod ENUMERATED: EncodeError.
//! * ContextAudit: attribute names, then selections (`name = value`) = `contextPropAud`
//!   IndAudPropertyParm without / with `propertyParms` (the model keeps the two apart, so
//!   decoding a mixed order lists names first).
//! * Individual property audits: `IndAudProp::Name` / `Select` = IndAudPropertyParm without /
//!   with `propertyParms`. `ServiceStates # x` and `Mode # x` selections have no ASN.1 form
//!   (selection by equality only): EncodeError. `Signals { }` in an Audit descriptor (audit all
//!   signals individually) has none either: EncodeError.
//!
//! **Termination IDs**: see [`termid`]. ROOT, megaco's binary-digit levels (`[8, 8, 8]`), the
//! AGW rules (`ip/acc/t<N>`, `ip/core/t<N>`, configurable by TOML) and a lossless `x<hex>`
//! fallback for binary IDs nothing else maps.
//!
//! **Not carried** (valid BER the model cannot hold, 501 on decoding): `streamID` of an
//! IndAudEventsDescriptor; `streamID`/`signalRequestID` of the signal of an audited signal list;
//! `propGroupID` of an audited Local/Remote; nonStandardData of Mux, Modem and ServiceChange
//! (other than the extensions above); several serviceChangeReason values; auditPropertyToken
//! in emptyDescriptors; an IndAudPropertyParm whose propertyParms name another property;
//! non-UTF-8 octets in values.
//!
//! **Normalisations** (BER → model → BER is byte-identical for what this encoder and megaco
//! write; a decoder also accepts these, which re-encode differently): `keepActive FALSE`,
//! empty RequestedActions and other present-but-empty optional lists are dropped; an
//! `auditResultTermList` of one termination becomes `auditResult`; bit strings are rewritten
//! DER-style; split runs of emptyDescriptors are merged.

pub mod asn;
mod direct_dec;
mod direct_enc;
pub mod map;
mod tags;
pub mod termid;

/// A seeded xorshift for the randomized unit tests of this module's codecs: `below(n)` gives a
/// number in `0..n`, the same sequence for the same seed.
#[cfg(test)]
pub(crate) fn test_rng(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    }
}

pub use termid::{BinaryTermId, TermIdConfigError, TermIdMapping, TermIdRule};

use crate::model::Message;
use crate::packages::Registry;
use rasn::error::{DecodeError, DecodeErrorKind};
use std::sync::{Arc, OnceLock};
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

// =============================================================================================
// The model codec.

/// A model element BER cannot express: what, where, why and the H.248 code to answer with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path}: cannot encode {item} in BER: {reason} (error {code})")]
#[non_exhaustive]
pub struct EncodeError {
    /// Where in the message, outermost first (`Transaction 7 / Context 1 / command 1 (Add) /
    /// Media / ...`), or `message`.
    pub path: String,
    /// The offending element as text (`termination ID 'tdm/1'`, `event 'foo/bar'`, ...).
    pub item: String,
    /// Why it has no binary form.
    pub reason: String,
    /// H.248 error code to answer with (500, as megaco does).
    pub code: u16,
    /// The transaction the element is in, when known.
    pub transaction_id: Option<u32>,
}

/// BER octets that do not decode to a message: where, why and the H.248 code to answer with
/// (400 malformed, 501 valid BER the model cannot carry).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path}: error {code}: {reason}")]
#[non_exhaustive]
pub struct BinDecodeError {
    /// H.248 error code to answer with.
    pub code: u16,
    /// Where: the ASN.1 component path of a BER error (as [`BerError`] gives it), or the
    /// message structure of a mapping error (`Transaction 7 / Context 1 / command 1 / Add`).
    pub path: String,
    /// The transaction the error is in, when known.
    pub transaction_id: Option<u32>,
    /// What was wrong.
    pub reason: String,
}

impl From<BerError> for BinDecodeError {
    fn from(e: BerError) -> Self {
        match e {
            BerError::Malformed { path, reason } => BinDecodeError {
                code: map::MALFORMED_CODE,
                path,
                transaction_id: None,
                reason,
            },
            BerError::TrailingData { .. } => BinDecodeError {
                code: map::MALFORMED_CODE,
                path: "MegacoMessage".to_string(),
                transaction_id: None,
                reason: e.to_string(),
            },
        }
    }
}

/// Message ⇔ BER with a package table and a termination ID mapping. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BinaryCodec {
    registry: Arc<Registry>,
    term_ids: Arc<TermIdMapping>,
}

impl Default for BinaryCodec {
    /// [`Registry::builtin`] (one shared instance) and [`TermIdMapping::default`].
    fn default() -> Self {
        BinaryCodec::shared().clone()
    }
}

impl BinaryCodec {
    /// The default codec, built once: [`decode_message`] and [`encode_message`] borrow it
    /// rather than clone it, which cost two atomic reference count increments and decrements
    /// per message.
    fn shared() -> &'static BinaryCodec {
        static SHARED: OnceLock<BinaryCodec> = OnceLock::new();
        SHARED.get_or_init(|| BinaryCodec {
            registry: Arc::new(Registry::shared_builtin().clone()),
            term_ids: Arc::new(TermIdMapping::default()),
        })
    }

    /// A codec with this package table and termination ID mapping.
    pub fn new(registry: Registry, term_ids: TermIdMapping) -> Self {
        BinaryCodec {
            registry: Arc::new(registry),
            term_ids: Arc::new(term_ids),
        }
    }

    /// The default codec with another package table.
    pub fn with_registry(mut self, registry: Registry) -> Self {
        self.registry = Arc::new(registry);
        self
    }

    /// The default codec with another termination ID mapping.
    pub fn with_term_ids(mut self, term_ids: TermIdMapping) -> Self {
        self.term_ids = Arc::new(term_ids);
        self
    }

    /// The package table.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The termination ID mapping.
    pub fn term_ids(&self) -> &TermIdMapping {
        &self.term_ids
    }

    /// Model → ASN.1 value.
    pub fn to_asn(&self, msg: &Message) -> Result<asn::MegacoMessage, EncodeError> {
        map::Enc::new(&self.registry, &self.term_ids)
            .message(msg)
            .map_err(|mut e| {
                map::whole_message_path(&mut e.path);
                e
            })
    }

    /// ASN.1 value → model.
    pub fn from_asn(&self, msg: &asn::MegacoMessage) -> Result<Message, BinDecodeError> {
        map::Dec::new(&self.registry, &self.term_ids)
            .message(msg)
            .map_err(|mut e| {
                map::whole_message_path(&mut e.path);
                e
            })
    }

    /// Model → BER (definite lengths), in one pass (`direct_enc.rs`).
    pub fn encode(&self, msg: &Message) -> Result<Vec<u8>, EncodeError> {
        direct_enc::encode(&self.registry, &self.term_ids, msg).map_err(|mut e| {
            map::whole_message_path(&mut e.path);
            e
        })
    }

    /// Model → BER through the ASN.1 values: `encode_ber(&self.to_asn(msg)?)`, the reference
    /// [`Self::encode`] is tested against (same octets, same errors).
    #[doc(hidden)]
    pub fn encode_via_asn(&self, msg: &Message) -> Result<Vec<u8>, EncodeError> {
        Ok(encode_ber(&self.to_asn(msg)?))
    }

    /// BER (definite or indefinite lengths) → model. Never panics.
    ///
    /// One pass over the octets (`direct_dec.rs`), without the [`asn`] types in between; the
    /// result is that of [`BinaryCodec::decode_via_asn`] for every input.
    pub fn decode(&self, input: &[u8]) -> Result<Message, BinDecodeError> {
        direct_dec::decode(&self.registry, &self.term_ids, input)
    }

    /// The two-pass reference decoder: [`decode_ber`], then [`BinaryCodec::from_asn`]. What
    /// [`BinaryCodec::decode`] is tested against (`tests/ber_direct.rs`).
    #[doc(hidden)]
    pub fn decode_via_asn(&self, input: &[u8]) -> Result<Message, BinDecodeError> {
        self.from_asn(&decode_ber(input)?)
    }
}

/// [`BinaryCodec::encode`] with the default codec.
pub fn encode_message(msg: &Message) -> Result<Vec<u8>, EncodeError> {
    BinaryCodec::shared().encode(msg)
}

/// [`BinaryCodec::decode`] with the default codec.
pub fn decode_message(input: &[u8]) -> Result<Message, BinDecodeError> {
    BinaryCodec::shared().decode(input)
}
