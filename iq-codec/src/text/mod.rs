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

/// `n` in decimal, written into `buf` without `fmt` or an allocation (the encoders write a
/// number per transaction, context, stream and length prefix).
///
/// ```
/// let mut buf = [0; 20];
/// assert_eq!(iq_codec::text::decimal(0, &mut buf), "0");
/// assert_eq!(iq_codec::text::decimal(u64::MAX, &mut buf), "18446744073709551615");
/// ```
pub fn decimal(n: u64, buf: &mut [u8; 20]) -> &str {
    let start = decimal_digits(n, buf);
    // ASCII digits only.
    std::str::from_utf8(&buf[start..]).unwrap_or_default()
}

/// The decimal digits of `n` at the end of `buf`, as octets: where they start.
pub(crate) fn decimal_digits(mut n: u64, buf: &mut [u8; 20]) -> usize {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    i
}

/// Decode one text message.
pub fn decode(input: &[u8]) -> Result<Message, DecodeError> {
    parser::Parser::new(input).message().map_err(|e| *e)
}

/// Encode a message as text.
pub fn encode(msg: &Message, style: Style) -> String {
    let mut e = encoder::Encoder::new(style == Style::Compact);
    e.message(msg);
    e.finish()
}
