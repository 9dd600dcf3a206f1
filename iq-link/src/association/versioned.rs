//! The negotiated protocol version, applied to every message an association's engine encodes.
//!
//! The transaction [`Endpoint`](crate::transaction::Endpoint) writes the version fixed in its
//! [`Config`](crate::transaction::Config) into every message, and offers no way to change it
//! afterwards. Version negotiation (H.248.1 §11.3) changes it in the middle of an association,
//! so the association hands the engine this codec instead: it wraps the configured one and
//! overrides the header version with a value the association sets. Decoding is untouched.
//! (An `Endpoint::set_version` would make this wrapper unnecessary.)

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use iq_codec::Message;

use crate::transaction::{Codec, EncodeError, Encoding, MalformedMessage};

/// A handle on the version the codec writes.
#[derive(Debug, Clone)]
pub(crate) struct VersionHandle(Arc<AtomicU8>);

impl VersionHandle {
    pub(crate) fn set(&self, version: u8) {
        self.0.store(version, Ordering::Relaxed);
    }
    pub(crate) fn get(&self) -> u8 {
        self.0.load(Ordering::Relaxed)
    }
}

pub(crate) struct VersionedCodec {
    inner: Arc<dyn Codec>,
    version: VersionHandle,
}

impl fmt::Debug for VersionedCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VersionedCodec")
            .field("inner", &self.inner)
            .field("version", &self.version.get())
            .finish()
    }
}

impl Codec for VersionedCodec {
    fn encode(&self, msg: &Message) -> Result<Vec<u8>, EncodeError> {
        let version = self.version.get();
        if msg.version == version {
            self.inner.encode(msg)
        } else {
            // Only after a downgrade (the engine is configured with our highest version).
            let mut msg = msg.clone();
            msg.version = version;
            self.inner.encode(&msg)
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<Message, MalformedMessage> {
        self.inner.decode(bytes)
    }
}

/// Wrap `encoding` so that the returned handle decides the header version. `None` if the
/// encoding is not available (the engine would refuse it too).
pub(crate) fn wrap(encoding: &Encoding, version: u8) -> Option<(Encoding, VersionHandle)> {
    let inner = encoding.codec()?;
    let handle = VersionHandle(Arc::new(AtomicU8::new(version)));
    let codec = VersionedCodec {
        inner,
        version: handle.clone(),
    };
    Some((Encoding::Custom(Arc::new(codec)), handle))
}
