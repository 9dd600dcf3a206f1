//! Text or binary: per association, configured or detected from the first octet.

use std::fmt;
use std::sync::OnceLock;

use super::{TransportError, H248_BINARY_PORT, H248_TEXT_PORT};

/// The H.248 encoding used on an association.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Annex B text (ABNF).
    Text,
    /// Annex A binary (ASN.1 BER).
    Binary,
}

impl Encoding {
    /// Classify a message by its first octet: `0x30` (BER SEQUENCE) is binary; `M`/`m` (MEGACO),
    /// `!` (short form), `;` (comment) and white space start a text message. `None` otherwise.
    pub fn detect(msg: &[u8]) -> Option<Encoding> {
        match *msg.first()? {
            0x30 => Some(Encoding::Binary),
            b'M' | b'm' | b'!' | b';' | b' ' | b'\t' | b'\r' | b'\n' => Some(Encoding::Text),
            _ => None,
        }
    }

    /// Well-known port of the encoding (H.248.1 Annex D, H.248.4): 2944 text, 2945 binary.
    pub fn default_port(self) -> u16 {
        match self {
            Encoding::Text => H248_TEXT_PORT,
            Encoding::Binary => H248_BINARY_PORT,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Text => "text",
            Encoding::Binary => "binary",
        })
    }
}

/// How a connection decides its encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum EncodingMode {
    /// From the first message sent or received on the association.
    #[default]
    Detect,
    /// Fixed by configuration; messages clearly in the other encoding are refused.
    Fixed(Encoding),
}

/// Per-connection encoding state.
#[derive(Debug)]
pub(crate) struct EncodingState {
    mode: EncodingMode,
    detected: OnceLock<Encoding>,
}

impl EncodingState {
    pub(crate) fn new(mode: EncodingMode) -> Self {
        EncodingState {
            mode,
            detected: OnceLock::new(),
        }
    }

    /// The association's encoding, if configured or already seen.
    pub(crate) fn get(&self) -> Option<Encoding> {
        match self.mode {
            EncodingMode::Fixed(e) => Some(e),
            EncodingMode::Detect => self.detected.get().copied(),
        }
    }

    /// Check a message against the association's encoding, fixing it on first use.
    pub(crate) fn check(&self, msg: &[u8]) -> Result<Encoding, TransportError> {
        let found = Encoding::detect(msg);
        let assoc = match (self.get(), found) {
            (Some(e), _) => e,
            (None, Some(f)) => *self.detected.get_or_init(|| f),
            (None, None) => {
                return Err(match msg.first() {
                    Some(&b) => TransportError::UnknownEncoding(b),
                    None => TransportError::Empty,
                })
            }
        };
        match found {
            Some(f) if f != assoc => Err(TransportError::EncodingMismatch {
                expected: assoc,
                found: f,
            }),
            _ => Ok(assoc),
        }
    }

    /// Like [`check`](Self::check) for an outgoing message, but never refuses one whose encoding
    /// is unclear (the caller knows what it sends); it only fixes the association's encoding.
    pub(crate) fn note_outgoing(&self, msg: &[u8]) {
        if self.get().is_none() {
            if let Some(f) = Encoding::detect(msg) {
                let _ = self.detected.get_or_init(|| f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_first_octet() {
        assert_eq!(
            Encoding::detect(b"MEGACO/3 [1.2.3.4]"),
            Some(Encoding::Text)
        );
        assert_eq!(Encoding::detect(b"!/3 [1.2.3.4]"), Some(Encoding::Text));
        assert_eq!(Encoding::detect(b"; comment\nM"), Some(Encoding::Text));
        assert_eq!(Encoding::detect(b"\r\nmegaco/3"), Some(Encoding::Text));
        assert_eq!(
            Encoding::detect(&[0x30, 0x81, 0x10]),
            Some(Encoding::Binary)
        );
        assert_eq!(Encoding::detect(b"{"), None);
        assert_eq!(Encoding::detect(b""), None);
    }

    #[test]
    fn association_keeps_first_encoding() {
        let st = EncodingState::new(EncodingMode::Detect);
        assert!(matches!(
            st.check(b"xyz"),
            Err(TransportError::UnknownEncoding(b'x'))
        ));
        assert_eq!(st.get(), None);
        assert_eq!(st.check(&[0x30, 0]).unwrap(), Encoding::Binary);
        assert!(matches!(
            st.check(b"MEGACO/3"),
            Err(TransportError::EncodingMismatch {
                expected: Encoding::Binary,
                found: Encoding::Text
            })
        ));
        // unclassifiable octets are let through once the encoding is known
        assert_eq!(st.check(&[0x31]).unwrap(), Encoding::Binary);
    }

    #[test]
    fn fixed_mode_refuses_the_other_encoding() {
        let st = EncodingState::new(EncodingMode::Fixed(Encoding::Text));
        assert_eq!(st.get(), Some(Encoding::Text));
        assert!(st.check(&[0x30]).is_err());
        st.note_outgoing(&[0x30]);
        assert_eq!(st.get(), Some(Encoding::Text));
        let st = EncodingState::new(EncodingMode::Detect);
        st.note_outgoing(b"!/3 [1.2.3.4]");
        assert_eq!(st.get(), Some(Encoding::Text));
    }
}
