//! `iq-codec`: the H.248.1 version 3 (Megaco) message model and its text encoding (Annex B), for
//! the 3GPP Iq interface between IMS-ALG and IMS-AGW.
//!
//! Pure: no sockets, no clock, no async runtime.
//!
//! ```
//! let msg = iq_codec::text::decode(b"!/3 [192.0.2.1]:2944\nT=1{C=-{AV=ROOT}}").unwrap();
//! let pretty = iq_codec::text::encode(&msg, iq_codec::text::Style::Pretty);
//! assert!(pretty.starts_with("MEGACO/3 [192.0.2.1]:2944"));
//! assert_eq!(iq_codec::text::decode(pretty.as_bytes()).unwrap(), msg);
//! ```

pub mod binary;
pub mod error;
pub mod model;
pub mod packages;
pub mod sdp;
pub mod text;

pub use error::DecodeError;
pub use model::Message;

/// The crates behind [`model::Text`] and [`model::Values`], re-exported so that users name the
/// same versions the model uses.
pub use compact_str;
pub use smallvec;
