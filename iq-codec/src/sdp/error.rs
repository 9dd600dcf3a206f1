//! SDP errors.

use thiserror::Error;

/// What went wrong reading or building SDP.
///
/// Every error about a line names its 1-based line number in the input it came from (the SDP
/// text given to [`Sdp::parse`](super::Sdp::parse), or the position of the property in the H.248
/// property group(s), counted across the whole Local/Remote descriptor). Lines added by editing
/// have no input line number; their errors say "added line".
///
/// An H.248 receiver answers all of these with error 474 "Invalid SDP syntax" (H.248.49), or
/// with 449 "Unsupported or Unknown Parameter or Property Value" when the syntax is right but a
/// value is not supported (e.g. an unknown fingerprint hash function).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SdpError {
    /// No lines at all.
    #[error("empty SDP")]
    Empty,
    /// A line that is not valid SDP (or not valid relaxed H.248 SDP).
    #[error("{}: {msg}", at(*.line))]
    Syntax {
        /// 1-based line number in the input; `None` for a line added by editing.
        line: Option<usize>,
        /// What is wrong.
        msg: String,
    },
    /// A `v=` line that is not the first line: a second session description. [`Sdp::parse`]
    /// reads exactly one; use [`Sdp::parse_all`] for H.248 alternatives (property groups).
    ///
    /// [`Sdp::parse`]: super::Sdp::parse
    /// [`Sdp::parse_all`]: super::Sdp::parse_all
    #[error("{}: a second session description starts here (v= line); use Sdp::parse_all for several", at(Some(*.line)))]
    MultipleSessions {
        /// 1-based line number of the second `v=` line.
        line: usize,
    },
    /// An attribute (`a=name:value`) whose value does not parse as its type, or that appears
    /// more often than allowed.
    #[error("{}: a={name}: {msg}", at(*.line))]
    Attribute {
        /// 1-based line number in the input; `None` for a line added by editing.
        line: Option<usize>,
        /// Attribute name as written.
        name: String,
        /// What is wrong.
        msg: String,
    },
    /// A value given to a typed constructor or setter is not valid (e.g. a tls-id with a
    /// forbidden character).
    #[error("invalid {what}: {msg}")]
    InvalidValue {
        /// Which kind of value.
        what: &'static str,
        /// What is wrong.
        msg: String,
    },
}

impl SdpError {
    /// The 1-based input line number the error is about, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            SdpError::Syntax { line, .. } | SdpError::Attribute { line, .. } => *line,
            SdpError::MultipleSessions { line } => Some(*line),
            SdpError::Empty | SdpError::InvalidValue { .. } => None,
        }
    }

    pub(crate) fn invalid(what: &'static str, msg: impl Into<String>) -> Self {
        SdpError::InvalidValue {
            what,
            msg: msg.into(),
        }
    }
}

fn at(line: Option<usize>) -> String {
    match line {
        Some(n) => format!("line {n}"),
        None => "added line".to_string(),
    }
}
