//! The encoding abstraction: the engine sees a message model and bytes, never a concrete codec.

use std::fmt;
use std::sync::Arc;

use iq_codec::text::Style;
use iq_codec::Message;
use thiserror::Error;

/// Received bytes that are not a message we can take: the H.248 error code to answer with and,
/// when the failure lies inside a transaction request, its ID (so the answer can be a reply).
///
/// The engine's own type rather than [`iq_codec::DecodeError`] (which other crates cannot
/// construct), so that any [`Codec`] can report one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("error {code}: {reason}")]
pub struct MalformedMessage {
    /// H.248 error code to answer with (400 message syntax, 403 transaction syntax, 443, ...).
    pub code: u16,
    /// The transaction request the error is in, when known.
    pub transaction_id: Option<u32>,
    /// What was wrong, and where.
    pub reason: String,
}

impl From<iq_codec::DecodeError> for MalformedMessage {
    fn from(e: iq_codec::DecodeError) -> Self {
        MalformedMessage {
            code: e.code,
            transaction_id: e.transaction_id,
            reason: format!("{}:{}: {}", e.line, e.column, e.reason),
        }
    }
}

/// A message that could not be encoded (e.g. a name with no binary identifier).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot encode message: {reason}")]
pub struct EncodeError {
    /// Why.
    pub reason: String,
}

/// One H.248 encoding: whole messages to bytes and back.
///
/// Implemented here for text (Annex B) and binary (Annex A BER, through
/// [`iq_codec::binary::BinaryCodec`]); others plug in through [`Encoding::Custom`]. A decoder error
/// ([`MalformedMessage`]) carries the H.248 error code the engine answers with and, inside a
/// transaction request, its ID.
pub trait Codec: fmt::Debug + Send + Sync {
    /// Encode a whole message.
    fn encode(&self, msg: &Message) -> Result<Vec<u8>, EncodeError>;
    /// Decode a whole message.
    fn decode(&self, bytes: &[u8]) -> Result<Message, MalformedMessage>;
}

/// The text encoding (H.248.1 Annex B) in one of its two styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextCodec(pub Style);

impl Codec for TextCodec {
    fn encode(&self, msg: &Message) -> Result<Vec<u8>, EncodeError> {
        Ok(iq_codec::text::encode(msg, self.0).into_bytes())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Message, MalformedMessage> {
        iq_codec::text::decode(bytes).map_err(MalformedMessage::from)
    }
}

/// The binary encoding (H.248.1 Annex A, BER), with its package table and termination-ID
/// mapping (a vendor profile, when one is configured).
#[derive(Debug, Clone, Default)]
pub struct BerCodec(pub iq_codec::binary::BinaryCodec);

impl Codec for BerCodec {
    fn encode(&self, msg: &Message) -> Result<Vec<u8>, EncodeError> {
        self.0.encode(msg).map_err(|e| EncodeError {
            reason: e.to_string(),
        })
    }

    fn decode(&self, bytes: &[u8]) -> Result<Message, MalformedMessage> {
        self.0.decode(bytes).map_err(|e| MalformedMessage {
            code: e.code,
            transaction_id: e.transaction_id,
            reason: format!("{}: {}", e.path, e.reason),
        })
    }
}

/// Which encoding an association uses (TS 29.334 Table 5.9.1: text and binary are both allowed;
/// one per association).
#[derive(Clone)]
#[non_exhaustive]
pub enum Encoding {
    /// Text, pretty (long tokens) or compact (short tokens). Receivers accept both forms.
    Text(Style),
    /// Binary (ASN.1 BER, Annex A) with the built-in package table and termination-ID
    /// mapping; for a vendor profile use [`Encoding::Custom`] with a configured [`BerCodec`].
    Binary,
    /// Any other codec.
    Custom(Arc<dyn Codec>),
}

impl Encoding {
    /// The codec for this encoding, or `None` if it is not available.
    pub fn codec(&self) -> Option<Arc<dyn Codec>> {
        match self {
            Encoding::Text(style) => Some(Arc::new(TextCodec(*style))),
            Encoding::Binary => Some(Arc::new(BerCodec::default())),
            Encoding::Custom(c) => Some(c.clone()),
        }
    }
}

impl fmt::Debug for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Encoding::Text(s) => f.debug_tuple("Text").field(s).finish(),
            Encoding::Binary => f.write_str("Binary"),
            Encoding::Custom(c) => f.debug_tuple("Custom").field(c).finish(),
        }
    }
}
