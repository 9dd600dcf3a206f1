//! Decoder errors.

use thiserror::Error;

/// A message that could not be decoded: where, why, and the H.248 error code the receiver should
/// answer with (400 syntax error in message, 403 syntax error in transaction request, 406 version
/// not supported, 443 unknown command, 444 unknown descriptor).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{line}:{column}: error {code}: {reason}")]
#[non_exhaustive]
pub struct DecodeError {
    /// 1-based line of the offending input.
    pub line: usize,
    /// 1-based column (in bytes) of the offending input.
    pub column: usize,
    /// H.248 error code to answer with.
    pub code: u16,
    /// The transaction the error is in, when known, so a reply can name it.
    pub transaction_id: Option<u32>,
    /// What was wrong.
    pub reason: String,
}
