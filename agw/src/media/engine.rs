//! The real media plane: UDP sockets bound from per-realm port pools, one task per context
//! relaying between its legs (access legs through [`super::leg::AccessLeg`], core legs plain
//! RTP), implementing [`super::api::MediaPlane`]. OWNER: media-net helper (stub with the
//! agreed API).

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::api::{LegId, LegSpec, LegStats, LocalInfo, MediaError, MediaEvent, MediaPlane};
use super::cert::Certificate;

/// One realm (`ipdc/realm` value) with its address and port range.
#[derive(Debug, Clone)]
pub struct RealmConfig {
    /// Realm name as the ALG writes it (`access`, `core`, ...).
    pub name: String,
    /// Address to bind.
    pub address: IpAddr,
    /// Address to write into Local SDP, if different (NAT in front of the AGW).
    pub advertise: Option<IpAddr>,
    /// Even ports from this range are used for RTP (RTCP muxed on the same port).
    pub ports: RangeInclusive<u16>,
}

/// Media-plane configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Realms; the first one is used when a termination names none.
    pub realms: Vec<RealmConfig>,
    /// The process certificate.
    pub certificate: Arc<Certificate>,
    /// DTLS handshake guard time.
    pub handshake_timeout: Duration,
    /// ICE consent expiry.
    pub consent_timeout: Duration,
}

/// The media plane. Must be created inside a tokio runtime (it spawns its tasks there).
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
}

impl Engine {
    /// Start the media plane.
    pub fn new(config: EngineConfig) -> Result<Engine, MediaError> {
        Ok(Engine { config })
    }
    /// The events channel for the daemon loop (taken once).
    pub fn take_events(&mut self) -> Option<tokio::sync::mpsc::UnboundedReceiver<MediaEvent>> {
        let _ = &self.config;
        None
    }
}

impl MediaPlane for Engine {
    fn open(&mut self, leg: LegId, spec: &LegSpec, now: Instant) -> Result<LocalInfo, MediaError> {
        let _ = (leg, now);
        Err(MediaError::UnknownRealm(spec.realm.clone()))
    }
    fn update(&mut self, leg: LegId, spec: &LegSpec, now: Instant) -> Result<(), MediaError> {
        let _ = (spec, now);
        Err(MediaError::UnknownLeg(leg))
    }
    fn close(&mut self, leg: LegId) -> Result<LegStats, MediaError> {
        Err(MediaError::UnknownLeg(leg))
    }
    fn stats(&self, leg: LegId) -> Result<LegStats, MediaError> {
        Err(MediaError::UnknownLeg(leg))
    }
    fn poll_event(&mut self) -> Option<MediaEvent> {
        None
    }
}
