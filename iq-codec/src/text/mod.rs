//! H.248.1 Annex B text encoding: decoder (long and short tokens, any case, comments, SDP bodies)
//! and encoder (pretty and compact).

mod encoder;
mod parser;
mod tokens;

use crate::error::DecodeError;
use crate::model::Message;

/// Which text form to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Style {
    /// Long tokens, one item per line, tab-indented.
    Pretty,
    /// Short tokens and no optional white space.
    Compact,
}

/// Decode one text message.
pub fn decode(input: &[u8]) -> Result<Message, DecodeError> {
    parser::Parser::new(input).message()
}

/// Encode a message as text.
pub fn encode(msg: &Message, style: Style) -> String {
    let mut e = encoder::Encoder::new(style == Style::Compact);
    e.message(msg);
    e.finish()
}
