//! Local/Remote SDP <-> [`LegSpec`] pieces: the leg kind from the m-line proto, the remote
//! address, fingerprints and ICE credentials from Remote, and filling the `$` (CHOOSE) values
//! the ALG wrote in Local with what the media plane chose ([`LocalInfo`]).

use std::net::{IpAddr, SocketAddr};

use iq_codec::model::{ErrorDescriptor, LocalRemoteDescriptor};
use iq_codec::sdp::{
    Choosable, Connection, Fingerprint as SdpFingerprint, FingerprintAttr, HashFunction as SdpHash,
    Origin, Proto, Sdp,
};

use super::codes::{err, BAD_VALUE, NOT_IMPLEMENTED};
use crate::media::api::{Fingerprint, HashFunction, IceCredentials, LegKind, LocalInfo};

/// The first session description of a Local/Remote descriptor (the MG takes the first
/// alternative), or `None` for an empty descriptor.
pub(crate) fn first_sdp(
    d: &LocalRemoteDescriptor,
    which: &str,
) -> Result<Option<Sdp>, ErrorDescriptor> {
    let mut all = Sdp::from_descriptor(d).map_err(|e| err(BAD_VALUE, &format!("{which}: {e}")))?;
    if all.is_empty() {
        return Ok(None);
    }
    Ok(Some(all.swap_remove(0)))
}

/// The leg kind of a stream's SDP: `None` without an m-line.
pub(crate) fn kind_of(sdp: &Sdp, which: &str) -> Result<Option<LegKind>, ErrorDescriptor> {
    let media = sdp.media();
    let m = match media {
        [] => return Ok(None),
        [m] => m,
        _ => {
            return Err(err(
                NOT_IMPLEMENTED,
                &format!(
                    "{which}: {} m= lines in one stream (one per stream)",
                    media.len()
                ),
            ))
        }
    };
    let proto = m.proto();
    match proto {
        Proto::UdpTlsRtpSavp | Proto::UdpTlsRtpSavpf => Ok(Some(LegKind::DtlsSrtp)),
        Proto::RtpAvp | Proto::RtpAvpf => Ok(Some(LegKind::Plain)),
        Proto::Other(p) => Err(err(
            BAD_VALUE,
            &format!("{which}: unknown transport protocol {p:?}"),
        )),
        p => Err(err(
            NOT_IMPLEMENTED,
            &format!(
                "{which}: transport protocol {} is not supported (RTP/AVP(F), UDP/TLS/RTP/SAVP(F))",
                p.as_str()
            ),
        )),
    }
}

/// Does any line of the descriptor hold a `$`?
pub(crate) fn has_choose(d: &LocalRemoteDescriptor) -> bool {
    d.groups
        .iter()
        .flatten()
        .any(|p| p.value.iter().any(|v| v.contains('$')))
}

/// What the Remote descriptor says about the peer.
#[derive(Debug, Default)]
pub(crate) struct RemoteParams {
    pub addr: Option<SocketAddr>,
    pub fingerprints: Vec<Fingerprint>,
    pub ice: Option<IceCredentials>,
}

fn api_hash(h: &SdpHash) -> Option<HashFunction> {
    Some(match h {
        SdpHash::Sha1 => HashFunction::Sha1,
        SdpHash::Sha224 => HashFunction::Sha224,
        SdpHash::Sha256 => HashFunction::Sha256,
        SdpHash::Sha384 => HashFunction::Sha384,
        SdpHash::Sha512 => HashFunction::Sha512,
        _ => return None,
    })
}

fn sdp_hash(h: HashFunction) -> SdpHash {
    match h {
        HashFunction::Sha1 => SdpHash::Sha1,
        HashFunction::Sha224 => SdpHash::Sha224,
        HashFunction::Sha256 => SdpHash::Sha256,
        HashFunction::Sha384 => SdpHash::Sha384,
        HashFunction::Sha512 => SdpHash::Sha512,
    }
}

/// `sha-256 AB:CD:...` as an SDP fingerprint.
pub(crate) fn to_sdp_fingerprint(f: &Fingerprint) -> Result<SdpFingerprint, ErrorDescriptor> {
    SdpFingerprint::new(sdp_hash(f.hash), f.digest.clone())
        .map_err(|e| err(super::codes::INTERNAL, &format!("local fingerprint: {e}")))
}

/// Read the peer's address, fingerprints and ICE credentials from a Remote SDP.
pub(crate) fn remote_params(sdp: &Sdp, kind: LegKind) -> Result<RemoteParams, ErrorDescriptor> {
    let bad = |m: String| err(BAD_VALUE, &format!("Remote: {m}"));
    let mut out = RemoteParams::default();
    let Some(m) = sdp.media().first() else {
        return Ok(out);
    };
    let port = match m.port() {
        Choosable::Choose => return Err(bad("$ port (CHOOSE is not allowed in Remote)".into())),
        Choosable::Value(p) => p,
    };
    let ip = match sdp.effective_connection(0) {
        None => None,
        Some(c) => match &c.address {
            Choosable::Choose => return Err(bad("c= $ (CHOOSE is not allowed in Remote)".into())),
            Choosable::Value(a) => Some(
                c.ip_addr()
                    .ok_or_else(|| bad(format!("c= address {a:?} is not an IP address")))?,
            ),
        },
    };
    // Port 0 (stream disabled) or an unspecified address (hold): nowhere to send yet.
    out.addr = match ip {
        Some(ip) if port != 0 && !ip.is_unspecified() => Some(SocketAddr::new(ip, port)),
        _ => None,
    };
    if kind == LegKind::DtlsSrtp {
        let fps = sdp
            .effective_fingerprints(0)
            .map_err(|e| bad(e.to_string()))?;
        if fps.iter().any(FingerprintAttr::is_choose) {
            return Err(bad(
                "a=fingerprint:$ (CHOOSE is not allowed in Remote)".into()
            ));
        }
        out.fingerprints = fps
            .iter()
            .filter_map(FingerprintAttr::fingerprint)
            .filter_map(|f| {
                api_hash(&f.hash).map(|hash| Fingerprint {
                    hash,
                    digest: f.value.clone(),
                })
            })
            .collect();
        if out.fingerprints.is_empty() {
            return Err(bad(if fps.is_empty() {
                "no a=fingerprint for a DTLS-SRTP stream".into()
            } else {
                "no a=fingerprint with a supported hash function (sha-1, sha-2)".into()
            }));
        }
        let ufrag = sdp.effective_ice_ufrag(0).map_err(|e| bad(e.to_string()))?;
        let pwd = sdp.effective_ice_pwd(0).map_err(|e| bad(e.to_string()))?;
        out.ice = match (ufrag, pwd) {
            (None, None) => None,
            (Some(Choosable::Value(ufrag)), Some(Choosable::Value(pwd))) => {
                Some(IceCredentials { ufrag, pwd })
            }
            (Some(Choosable::Choose), _) | (_, Some(Choosable::Choose)) => {
                return Err(bad("ICE $ (CHOOSE is not allowed in Remote)".into()))
            }
            _ => return Err(bad("a=ice-ufrag and a=ice-pwd must come together".into())),
        };
    }
    Ok(out)
}

/// Fill every `$` of a Local SDP: `c=` address, m= port, `o=` fields, `a=fingerprint:$`
/// (`sha-256`), `a=ice-ufrag:$` / `a=ice-pwd:$`; access (DTLS-SRTP) legs also get a
/// session-level `a=ice-lite` (RFC 8839: ice-lite is a session-level attribute). A `$`
/// anywhere else is an error.
pub(crate) fn fill_local(
    sdp: &mut Sdp,
    info: &LocalInfo,
    kind: LegKind,
    serial: u64,
) -> Result<(), ErrorDescriptor> {
    let bad = |m: String| err(BAD_VALUE, &format!("Local: {m}"));
    let ip: IpAddr = info.addr.ip();
    let conn = |c: &Connection| Connection {
        nettype: c.nettype.clone(),
        addrtype: if ip.is_ipv4() { "IP4" } else { "IP6" }.into(),
        address: Choosable::Value(ip.to_string()),
    };
    if let Some(c) = sdp.session().connection() {
        if c.address.is_choose() {
            sdp.session_mut()
                .set_connection(&conn(&c))
                .map_err(|e| bad(e.to_string()))?;
        }
    }
    if let Some(mut o) = sdp.origin() {
        if [&o.session_id, &o.session_version, &o.address]
            .iter()
            .any(|f| f.contains('$'))
        {
            if o.session_id == "$" {
                o.session_id = serial.to_string();
            }
            if o.session_version == "$" {
                o.session_version = "0".into();
            }
            if o.address == "$" {
                o.address = ip.to_string();
                o.addrtype = if ip.is_ipv4() { "IP4" } else { "IP6" }.into();
            }
            sdp.set_origin(&Origin { ..o })
                .map_err(|e| bad(e.to_string()))?;
        }
    }
    let session_has_c = sdp.session().connection().is_some();
    let fp = info
        .fingerprint
        .as_ref()
        .map(to_sdp_fingerprint)
        .transpose()?;
    let fill_fps =
        |fps: Vec<FingerprintAttr>| -> Result<Option<Vec<FingerprintAttr>>, ErrorDescriptor> {
            if !fps.iter().any(FingerprintAttr::is_choose) {
                return Ok(None);
            }
            let Some(fp) = &fp else {
                return Err(bad(
                    "a=fingerprint:$ on a stream without DTLS (plain RTP)".into()
                ));
            };
            fps.into_iter()
                .map(|f| match f {
                    FingerprintAttr::Choose => Ok(FingerprintAttr::Value(fp.clone())),
                    FingerprintAttr::ChooseWithHash(h) if h == fp.hash => {
                        Ok(FingerprintAttr::Value(fp.clone()))
                    }
                    FingerprintAttr::ChooseWithHash(h) => Err(bad(format!(
                        "a=fingerprint:{h} $: only {} is offered",
                        fp.hash
                    ))),
                    v => Ok(v),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        };
    let fps = sdp
        .session()
        .fingerprints()
        .map_err(|e| bad(e.to_string()))?;
    if let Some(new) = fill_fps(fps)? {
        sdp.session_mut()
            .set_fingerprints(&new)
            .map_err(|e| bad(e.to_string()))?;
    }
    let ice = info.ice.as_ref();
    let mut ice_filled = false;
    {
        let mut fill_ice = |b: &mut iq_codec::sdp::Block| -> Result<(), ErrorDescriptor> {
            if b.ice_ufrag().map_err(|e| bad(e.to_string()))? == Some(Choosable::Choose) {
                let i = ice.ok_or_else(|| bad("a=ice-ufrag:$ on a stream without ICE".into()))?;
                b.set_ice_ufrag(Choosable::Value(&i.ufrag))
                    .map_err(|e| bad(e.to_string()))?;
                ice_filled = true;
            }
            if b.ice_pwd().map_err(|e| bad(e.to_string()))? == Some(Choosable::Choose) {
                let i = ice.ok_or_else(|| bad("a=ice-pwd:$ on a stream without ICE".into()))?;
                b.set_ice_pwd(Choosable::Value(&i.pwd))
                    .map_err(|e| bad(e.to_string()))?;
                ice_filled = true;
            }
            Ok(())
        };
        fill_ice(sdp.session_mut())?;
        for m in sdp.media_mut() {
            fill_ice(m)?;
        }
    }
    for m in sdp.media_mut() {
        if m.port().is_choose() {
            m.set_port(Choosable::Value(info.addr.port()));
        }
        match m.connection() {
            Some(c) if c.address.is_choose() => m
                .set_connection(&conn(&c))
                .map_err(|e| bad(e.to_string()))?,
            None if !session_has_c => m
                .set_connection(&Connection::ip(ip))
                .map_err(|e| bad(e.to_string()))?,
            _ => {}
        }
        let fps = m.fingerprints().map_err(|e| bad(e.to_string()))?;
        if let Some(new) = fill_fps(fps)? {
            m.set_fingerprints(&new).map_err(|e| bad(e.to_string()))?;
        }
    }
    if kind == LegKind::DtlsSrtp && (ice_filled || info.ice.is_some()) {
        let has_lite = sdp.session().ice_lite() || sdp.media().iter().any(|m| m.ice_lite());
        if !has_lite {
            sdp.session_mut()
                .set_ice_lite(true)
                .map_err(|e| bad(e.to_string()))?;
        }
    }
    if let Some(l) = sdp.lines().find(|l| l.value().contains('$')) {
        return Err(bad(format!(
            "cannot choose a value for '{}={}'",
            l.kind(),
            l.value()
        )));
    }
    Ok(())
}

/// Concrete Local `c=`/m= values must match the bound address (the MG cannot rebind).
pub(crate) fn check_local_matches(sdp: &Sdp, info: &LocalInfo) -> Result<(), ErrorDescriptor> {
    let Some(m) = sdp.media().first() else {
        return Ok(());
    };
    if let Choosable::Value(p) = m.port() {
        if p != info.addr.port() && p != 0 {
            return Err(err(
                BAD_VALUE,
                &format!(
                    "Local: port {p} is not the port of this stream ({}); use $",
                    info.addr.port()
                ),
            ));
        }
    }
    if let Some(c) = sdp.effective_connection(0) {
        if let (Choosable::Value(a), Some(ip)) = (&c.address, c.ip_addr()) {
            if ip != info.addr.ip() {
                return Err(err(
                    BAD_VALUE,
                    &format!(
                        "Local: address {a} is not the address of this stream ({}); use $",
                        info.addr.ip()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The RTP clock rate of the first format of the stream (rtpmap, else the RFC 3551 static
/// payload types), for converting jitter to milliseconds.
pub(crate) fn clock_rate(sdp: &Sdp) -> Option<u32> {
    let m = sdp.media().first()?;
    let fmt = m.fmts().into_iter().next()?;
    let pt: u8 = fmt.parse().ok()?;
    if let Ok(Some(r)) = m.rtpmap(pt) {
        return Some(r.clock_rate);
    }
    match pt {
        0..=8 | 12..=13 | 15 | 18 => Some(8000),
        9 => Some(8000),
        10 | 11 => Some(44100),
        14 => Some(90000),
        16 => Some(11025),
        17 => Some(22050),
        25 | 26 | 28 | 31..=34 => Some(90000),
        _ => None,
    }
}
