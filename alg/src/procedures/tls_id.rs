//! The ALG's DTLS association identities (`a=tls-id`, RFC 8842).

use iq_codec::sdp::TlsId;
use rand::Rng;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

/// The characters of an ALG tls-id: 64 of the RFC 8842 `tls-id-char`s, so that one random
/// octet's low six bits pick one uniformly.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Length of an ALG tls-id: 24 characters = 144 random bits (RFC 8842 asks for at least 20
/// characters and enough randomness to make collisions improbable).
pub const TLS_ID_LEN: usize = 24;

/// Hands out the ALG's tls-id values from the thread CSPRNG (`rand::rng()`, ChaCha seeded from
/// the OS) and guarantees that no two live associations get the same value. Cheap to clone;
/// all clones share one set, so one allocator serves every session of the ALG (and may be
/// shared between threads).
///
/// A value is live from [`TlsIdAllocator::allocate`] until [`TlsIdAllocator::free`] (a
/// session frees its values when it is released or replaces an association).
#[derive(Debug, Clone, Default)]
pub struct TlsIdAllocator {
    live: Arc<Mutex<HashSet<String>>>,
}

impl TlsIdAllocator {
    /// An allocator with no live values.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new value, different from every live one: [`TLS_ID_LEN`] characters of
    /// `A-Z a-z 0-9 + /`.
    pub fn allocate(&self) -> TlsId {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let mut rng = rand::rng();
        loop {
            let mut raw = [0u8; TLS_ID_LEN];
            rng.fill_bytes(&mut raw);
            let s: String = raw
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b & 0x3f)]))
                .collect();
            if live.contains(&s) {
                continue;
            }
            // Always valid: 24 characters of the RFC 8842 set.
            match TlsId::new(s.clone()) {
                Ok(id) => {
                    live.insert(s);
                    return id;
                }
                Err(_) => continue,
            }
        }
    }

    /// The association `id` is gone; its value may be handed out again.
    pub fn free(&self, id: &TlsId) {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id.as_str());
    }

    /// Is `id` live?
    pub fn is_live(&self, id: &TlsId) -> bool {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(id.as_str())
    }

    /// How many values are live.
    pub fn live_count(&self) -> usize {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
