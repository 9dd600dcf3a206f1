//! STUN for an ICE-lite responder (RFC 8489/8445/7675): verify Binding requests
//! (USERNAME, MESSAGE-INTEGRITY with our ice-pwd, FINGERPRINT) and build the success
//! response. Pure functions, no state. OWNER: media-net helper (stub with the agreed API).

use std::net::SocketAddr;

use super::api::IceCredentials;

/// A verified Binding request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingCheck {
    /// USE-CANDIDATE present (the controlling peer nominates this pair).
    pub use_candidate: bool,
    /// The peer's ufrag (the part after ':' in USERNAME).
    pub remote_ufrag: String,
}

/// Why a STUN message was not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StunError {
    /// Not a well-formed STUN message.
    #[error("malformed STUN: {0}")]
    Malformed(&'static str),
    /// Not a Binding request (responses, indications and other methods are ignored).
    #[error("not a binding request")]
    NotBindingRequest,
    /// USERNAME missing or not `<our ufrag>:<peer ufrag>`.
    #[error("wrong username")]
    WrongUsername,
    /// MESSAGE-INTEGRITY missing or wrong.
    #[error("bad message integrity")]
    BadIntegrity,
    /// FINGERPRINT missing or wrong.
    #[error("bad fingerprint")]
    BadFingerprint,
}

/// Verify `msg` (a Binding request from `from`) against our credentials (and the peer's ufrag
/// when known) and write the success response into `out` (cleared first).
pub fn answer_binding(
    msg: &[u8],
    from: SocketAddr,
    local: &IceCredentials,
    remote: Option<&IceCredentials>,
    out: &mut Vec<u8>,
) -> Result<BindingCheck, StunError> {
    let _ = (msg, from, local, remote, out);
    Err(StunError::Malformed("stub"))
}
