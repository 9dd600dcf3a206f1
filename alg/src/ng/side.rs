//! Which side an ng offer comes from: the access side (WebRTC client, DTLS-SRTP/ICE) or the
//! core side (plain RTP).
//!
//! rtpengine's keys describe what to produce *towards the recipient*: `transport-protocol`
//! `UDP/TLS/RTP/SAVPF`, `ICE=force`, `DTLS=passive|active`, `rtcp-mux=[offer|require]` ask for
//! WebRTC towards the recipient, so the offer comes from the core; `RTP/AVP`, `ICE=remove`,
//! `DTLS=off`, `rtcp-mux=[demux]` ask for plain RTP towards it, so the offer comes from the
//! access side. `direction` names the sender's and the recipient's logical interfaces, matched
//! against the configured realm names. When none of these say anything, the SDP decides: an
//! offer with a `UDP/TLS/RTP/SAVP(F)` m-line comes from the access side.

use super::request::OfferAnswer;

pub use crate::procedures::Side;

/// Realm (logical interface) names known for each side, as used in `direction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmNames {
    /// Names meaning the access side (e.g. `access`, `external`).
    pub access: Vec<String>,
    /// Names meaning the core side (e.g. `core`, `internal`).
    pub core: Vec<String>,
}

impl Default for RealmNames {
    fn default() -> Self {
        RealmNames {
            access: vec!["access".into(), "external".into()],
            core: vec!["core".into(), "internal".into()],
        }
    }
}

impl RealmNames {
    /// The side a realm name means.
    pub fn side_of(&self, name: &str) -> Option<Side> {
        let eq = |n: &String| n.eq_ignore_ascii_case(name);
        if self.access.iter().any(eq) {
            Some(Side::Access)
        } else if self.core.iter().any(eq) {
            Some(Side::Core)
        } else {
            None
        }
    }
}

/// Why [`offer_origin`] decided as it did (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Basis {
    /// `direction`.
    Direction,
    /// `transport-protocol`.
    TransportProtocol,
    /// `ICE`.
    Ice,
    /// `DTLS`.
    Dtls,
    /// `rtcp-mux`.
    RtcpMux,
    /// The offer's m-lines.
    Sdp,
}

/// The side an offer comes from, and on what basis.
pub fn offer_origin(o: &OfferAnswer, realms: &RealmNames) -> (Side, Basis) {
    // direction: [sender's interface, recipient's interface].
    if let Some(s) = o.direction.first().and_then(|d| realms.side_of(d)) {
        return (s, Basis::Direction);
    }
    if let Some(s) = o.direction.get(1).and_then(|d| realms.side_of(d)) {
        return (s.other(), Basis::Direction);
    }
    if let Some(tp) = &o.transport_protocol {
        let tp = tp.to_ascii_uppercase();
        if tp.starts_with("UDP/TLS/") || tp.contains("SAVP") {
            return (Side::Core, Basis::TransportProtocol);
        }
        if tp.starts_with("RTP/AVP") {
            return (Side::Access, Basis::TransportProtocol);
        }
    }
    match o.ice.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("force" | "force-relay" | "force_relay") => return (Side::Core, Basis::Ice),
        Some("remove") => return (Side::Access, Basis::Ice),
        _ => {}
    }
    match o.dtls.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("passive" | "active") => return (Side::Core, Basis::Dtls),
        Some("off" | "no" | "disable") => return (Side::Access, Basis::Dtls),
        _ => {}
    }
    for m in &o.rtcp_mux {
        match m.to_ascii_lowercase().as_str() {
            "offer" | "require" => return (Side::Core, Basis::RtcpMux),
            "demux" => return (Side::Access, Basis::RtcpMux),
            _ => {}
        }
    }
    let side = if sdp_is_webrtc(&o.sdp) {
        Side::Access
    } else {
        Side::Core
    };
    (side, Basis::Sdp)
}

/// Whether an SDP has an m-line with a DTLS-SRTP profile (`UDP/TLS/RTP/SAVP(F)`).
pub fn sdp_is_webrtc(sdp: &str) -> bool {
    sdp.lines().any(|l| {
        l.strip_prefix("m=").is_some_and(|m| {
            m.split_whitespace()
                .nth(2)
                .is_some_and(|p| p.to_ascii_uppercase().starts_with("UDP/TLS/RTP/SAVP"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEBRTC: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:actpass\r\n";
    const PLAIN: &str = "v=0\r\nm=audio 30000 RTP/AVP 0\r\n";

    fn offer(sdp: &str) -> OfferAnswer {
        OfferAnswer {
            call_id: "c".into(),
            from_tag: "f".into(),
            sdp: sdp.into(),
            ..Default::default()
        }
    }

    #[test]
    fn sdp_decides_without_keys() {
        let r = RealmNames::default();
        assert_eq!(offer_origin(&offer(WEBRTC), &r), (Side::Access, Basis::Sdp));
        assert_eq!(offer_origin(&offer(PLAIN), &r), (Side::Core, Basis::Sdp));
        // Only the proto field counts, not a mention elsewhere.
        let tricky = "v=0\r\ns=UDP/TLS/RTP/SAVPF\r\nm=audio 1 RTP/AVP 0\r\n";
        assert_eq!(offer_origin(&offer(tricky), &r).0, Side::Core);
    }

    #[test]
    fn keys_describe_the_recipient() {
        let r = RealmNames::default();
        // Kamailio towards a WebRTC callee: offer comes from the core even if the SDP is odd.
        let mut o = offer(WEBRTC);
        o.transport_protocol = Some("UDP/TLS/RTP/SAVPF".into());
        assert_eq!(offer_origin(&o, &r), (Side::Core, Basis::TransportProtocol));
        let mut o = offer(PLAIN);
        o.transport_protocol = Some("RTP/AVP".into());
        assert_eq!(
            offer_origin(&o, &r),
            (Side::Access, Basis::TransportProtocol)
        );
        let mut o = offer(PLAIN);
        o.ice = Some("force".into());
        assert_eq!(offer_origin(&o, &r), (Side::Core, Basis::Ice));
        let mut o = offer(WEBRTC);
        o.ice = Some("remove".into());
        assert_eq!(offer_origin(&o, &r), (Side::Access, Basis::Ice));
        let mut o = offer(PLAIN);
        o.ice = Some("default".into());
        o.dtls = Some("passive".into());
        assert_eq!(offer_origin(&o, &r), (Side::Core, Basis::Dtls));
        let mut o = offer(PLAIN);
        o.dtls = Some("off".into());
        assert_eq!(offer_origin(&o, &r), (Side::Access, Basis::Dtls));
        let mut o = offer(PLAIN);
        o.rtcp_mux = vec!["accept".into(), "offer".into()];
        assert_eq!(offer_origin(&o, &r), (Side::Core, Basis::RtcpMux));
        let mut o = offer(WEBRTC);
        o.rtcp_mux = vec!["demux".into()];
        assert_eq!(offer_origin(&o, &r), (Side::Access, Basis::RtcpMux));
    }

    #[test]
    fn direction_wins() {
        let r = RealmNames {
            access: vec!["wss-edge".into()],
            core: vec!["ims".into()],
        };
        let mut o = offer(PLAIN);
        o.transport_protocol = Some("RTP/AVP".into());
        o.direction = vec!["IMS".into(), "wss-edge".into()];
        assert_eq!(offer_origin(&o, &r), (Side::Core, Basis::Direction));
        // Unknown sender realm: the recipient's decides.
        o.direction = vec!["other".into(), "ims".into()];
        assert_eq!(offer_origin(&o, &r), (Side::Access, Basis::Direction));
        // Neither known: fall through to the other keys.
        o.direction = vec!["x".into(), "y".into()];
        assert_eq!(
            offer_origin(&o, &r),
            (Side::Access, Basis::TransportProtocol)
        );
    }
}
