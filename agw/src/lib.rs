//! The eIMS-AGW (H.248 media gateway) of the Iq interface: `control` (contexts and
//! terminations, sans-IO) and `media` (the media plane).

pub mod control;
pub mod media;
