//! The media plane of the eIMS-AGW: ICE-lite, DTLS-SRTP and plain RTP legs on real UDP
//! sockets, relayed per context.
//!
//! - [`api`]: the contract with `control` (specs in, local info and events out).
//! - [`demux`], [`stun`]: RFC 7983 demultiplexing and the ICE-lite STUN responder.
//! - [`cert`], [`leg`]: the DTLS certificate and the sans-IO access leg (ICE-lite, DTLS-SRTP).
//! - [`dtls`], [`srtp`]: one DTLS association and its SRTP contexts (public for the lab UE).
//! - [`engine`]: sockets, port pools and the per-context relay tasks.

pub mod api;
pub mod cert;
pub mod demux;
pub mod dtls;
pub mod engine;
pub mod leg;
pub mod plain;
pub mod pool;
pub mod srtp;
pub mod stun;
pub mod task;
