//! The IMS-ALG (H.248 MGC side of the 3GPP Iq interface) as a library: the per-session
//! procedures of TS 23.334 clauses 6.2.1 and 6.2.10.5 ([`procedures`]), used by the `iq-alg`
//! daemon.

pub mod daemon;
pub mod ng;
pub mod procedures;
