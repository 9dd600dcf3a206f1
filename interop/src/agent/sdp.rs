//! The agents' SDP: browser-like audio offers/answers out, the far end's description in
//! (parsed with `iq_codec::sdp`).

use std::net::{IpAddr, SocketAddr};

use iq_agw::media::api::{Fingerprint, IceCredentials};
use iq_codec::sdp::{Sdp, Setup};

use super::rtp::Codec;

/// What the agents need from the far end's SDP (its first audio section).
#[derive(Debug, Clone)]
pub struct Remote {
    /// `c=` address and `m=` port.
    pub addr: SocketAddr,
    /// Payload types with their codec (supported ones only), in the far end's order.
    pub codecs: Vec<Codec>,
    /// ICE credentials, when the far end does ICE.
    pub ice: Option<IceCredentials>,
    /// Session-level `a=ice-lite`.
    pub ice_lite: bool,
    /// Component-1 UDP host/srflx/... candidates with a literal IP address.
    pub candidates: Vec<SocketAddr>,
    /// Usable fingerprints (unknown hash functions are left out).
    pub fingerprints: Vec<Fingerprint>,
    /// `a=setup` (media or session level).
    pub setup: Option<Setup>,
    /// `a=mid`.
    pub mid: Option<String>,
    /// `a=group:BUNDLE` present.
    pub bundle: bool,
    /// The m-line proto (an answer repeats it: `UDP/TLS/RTP/SAVP` vs `.../SAVPF`).
    pub proto: String,
}

/// Parse the far end's SDP.
pub fn parse_remote(text: &str) -> Result<Remote, String> {
    let sdp = Sdp::parse(text).map_err(|e| format!("bad SDP: {e}"))?;
    let i = sdp
        .media()
        .iter()
        .position(|m| m.media_type() == "audio")
        .ok_or("no m=audio section")?;
    let m = &sdp.media()[i];
    let port = *m.port().value().ok_or("m= port is $")?;
    let conn = sdp.effective_connection(i).ok_or("no c= line")?;
    let ip: IpAddr = conn
        .address
        .value()
        .and_then(|a| a.split('/').next())
        .and_then(|a| a.parse().ok())
        .ok_or("c= address is not an IP address")?;
    let rtpmaps = m.rtpmaps().map_err(|e| e.to_string())?;
    let mut codecs = Vec::new();
    for f in m.fmts() {
        let Ok(pt) = f.parse::<u8>() else { continue };
        let name = rtpmaps
            .iter()
            .find(|r| r.payload_type == pt)
            .map(|r| (r.encoding.to_ascii_lowercase(), r.clock_rate));
        let codec = match (pt, name) {
            (_, Some((n, 8000))) if n == "pcmu" => Some(Codec { pt, opus: false }),
            (0, None) => Some(Codec { pt, opus: false }),
            (_, Some((n, 48000))) if n == "opus" => Some(Codec { pt, opus: true }),
            _ => None,
        };
        codecs.extend(codec);
    }
    let ufrag = sdp.effective_ice_ufrag(i).map_err(|e| e.to_string())?;
    let pwd = sdp.effective_ice_pwd(i).map_err(|e| e.to_string())?;
    let ice = match (
        ufrag.and_then(|u| u.value().cloned()),
        pwd.and_then(|p| p.value().cloned()),
    ) {
        (Some(ufrag), Some(pwd)) => Some(IceCredentials { ufrag, pwd }),
        _ => None,
    };
    let mut candidates = Vec::new();
    let mut cands = m.candidates().map_err(|e| e.to_string())?;
    cands.extend(sdp.session().candidates().map_err(|e| e.to_string())?);
    cands.sort_by_key(|c| std::cmp::Reverse(c.priority));
    for c in cands {
        if c.component != 1 || !c.transport.eq_ignore_ascii_case("udp") {
            continue;
        }
        if let Ok(ip) = c.address.parse::<IpAddr>() {
            let a = SocketAddr::new(ip, c.port);
            if !candidates.contains(&a) {
                candidates.push(a);
            }
        }
    }
    let mut fingerprints = Vec::new();
    for v in m
        .attr_values("fingerprint")
        .into_iter()
        .chain(sdp.session().attr_values("fingerprint"))
    {
        if let Some(f) = Fingerprint::parse_sdp(v) {
            fingerprints.push(f);
        }
    }
    let setup = sdp.effective_setup(i).map_err(|e| e.to_string())?;
    let bundle = sdp
        .session()
        .attr_values("group")
        .iter()
        .any(|g| g.starts_with("BUNDLE"));
    Ok(Remote {
        addr: SocketAddr::new(ip, port),
        codecs,
        ice,
        ice_lite: sdp.session().ice_lite(),
        candidates,
        fingerprints,
        setup,
        mid: m.attr_value("mid").map(str::to_owned),
        bundle,
        proto: m.proto().as_str().to_owned(),
    })
}

fn ip_words(ip: IpAddr) -> (&'static str, String) {
    match ip {
        IpAddr::V4(a) => ("IP4", a.to_string()),
        IpAddr::V6(a) => ("IP6", a.to_string()),
    }
}

/// Everything our WebRTC description says about us.
#[derive(Debug, Clone)]
pub struct WebRtcLocal<'a> {
    pub addr: SocketAddr,
    pub session_id: u64,
    pub ice: &'a IceCredentials,
    pub fingerprint: &'a Fingerprint,
    pub tls_id: &'a str,
    pub ssrc: u32,
    pub cname: &'a str,
    pub candidate_priority: u32,
}

/// A browser-like audio description: offer (`codecs` = opus 111 + PCMU 0, `actpass`) or
/// answer (the chosen codec, `active`/`passive`, the offer's mid and BUNDLE).
pub fn webrtc(
    l: &WebRtcLocal<'_>,
    proto: &str,
    codecs: &[Codec],
    setup: Setup,
    mid: &str,
    bundle: bool,
) -> String {
    let (fam, ip) = ip_words(l.addr.ip());
    let port = l.addr.port();
    let fmts: Vec<String> = codecs.iter().map(|c| c.pt.to_string()).collect();
    let mut s = format!(
        "v=0\r\no=- {sid} 1 IN {fam} {ip}\r\ns=-\r\nt=0 0\r\n",
        sid = l.session_id
    );
    if bundle {
        s += &format!("a=group:BUNDLE {mid}\r\n");
    }
    s += "a=msid-semantic: WMS\r\n";
    s += &format!(
        "m=audio {port} {proto} {}\r\nc=IN {fam} {ip}\r\n",
        fmts.join(" ")
    );
    s += &format!(
        "a=candidate:1 1 udp {} {ip} {port} typ host\r\na=end-of-candidates\r\n",
        l.candidate_priority
    );
    s += &format!(
        "a=ice-ufrag:{}\r\na=ice-pwd:{}\r\na=fingerprint:{}\r\na=setup:{}\r\na=tls-id:{}\r\n",
        l.ice.ufrag,
        l.ice.pwd,
        l.fingerprint,
        setup.as_str(),
        l.tls_id
    );
    s += &format!("a=mid:{mid}\r\na=sendrecv\r\na=rtcp-mux\r\n");
    for c in codecs {
        if c.opus {
            s += &format!(
                "a=rtpmap:{pt} opus/48000/2\r\na=fmtp:{pt} minptime=10;useinbandfec=1\r\n",
                pt = c.pt
            );
        } else {
            s += &format!("a=rtpmap:{} PCMU/8000\r\n", c.pt);
        }
    }
    s += &format!("a=ssrc:{} cname:{}\r\n", l.ssrc, l.cname);
    s
}

/// A plain RTP/AVP audio description (the core peer).
pub fn plain(addr: SocketAddr, session_id: u64, codecs: &[Codec]) -> String {
    let (fam, ip) = ip_words(addr.ip());
    let fmts: Vec<String> = codecs.iter().map(|c| c.pt.to_string()).collect();
    let mut s = format!(
        "v=0\r\no=- {session_id} 1 IN {fam} {ip}\r\ns=-\r\nc=IN {fam} {ip}\r\nt=0 0\r\n\
         m=audio {} RTP/AVP {}\r\n",
        addr.port(),
        fmts.join(" ")
    );
    for c in codecs {
        if c.opus {
            s += &format!("a=rtpmap:{} opus/48000/2\r\n", c.pt);
        } else {
            s += &format!("a=rtpmap:{} PCMU/8000\r\n", c.pt);
        }
    }
    s += "a=ptime:20\r\na=sendrecv\r\na=rtcp-mux\r\n";
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local_parts() -> (IceCredentials, Fingerprint) {
        let ice = IceCredentials {
            ufrag: "abcd".into(),
            pwd: "0123456789012345678901".into(),
        };
        let fp = Fingerprint::parse_sdp(&format!("sha-256 {}", ["AB"; 32].join(":"))).unwrap();
        (ice, fp)
    }

    #[test]
    fn our_offer_reads_back_as_a_remote() {
        let (ice, fp) = local_parts();
        let l = WebRtcLocal {
            addr: "127.0.0.1:40000".parse().unwrap(),
            session_id: 7,
            ice: &ice,
            fingerprint: &fp,
            tls_id: "00ff",
            ssrc: 42,
            cname: "ue",
            candidate_priority: 2_130_706_431,
        };
        let codecs = [
            Codec {
                pt: 111,
                opus: true,
            },
            Codec { pt: 0, opus: false },
        ];
        let text = webrtc(&l, "UDP/TLS/RTP/SAVPF", &codecs, Setup::Actpass, "0", true);
        assert!(text.contains("m=audio 40000 UDP/TLS/RTP/SAVPF 111 0\r\n"));
        let r = parse_remote(&text).unwrap();
        assert_eq!(r.addr, l.addr);
        assert_eq!(r.codecs, codecs);
        assert_eq!(r.ice.as_ref(), Some(&ice));
        assert!(!r.ice_lite);
        assert_eq!(r.candidates, vec![l.addr]);
        assert_eq!(r.fingerprints, vec![fp]);
        assert_eq!(r.setup, Some(Setup::Actpass));
        assert_eq!(r.mid.as_deref(), Some("0"));
        assert!(r.bundle);
    }

    #[test]
    fn agw_style_answer_session_level_ice_lite_and_unknown_codecs() {
        let text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n\
            m=audio 31100 UDP/TLS/RTP/SAVPF 8 0 96\r\nc=IN IP4 127.0.0.1\r\n\
            a=rtpmap:96 telephone-event/8000\r\na=ice-ufrag:AGWu\r\na=ice-pwd:pppppppppppppppppppppp\r\n\
            a=candidate:1 1 udp 2130706431 127.0.0.1 31100 typ host\r\n\
            a=candidate:2 2 udp 2130706430 127.0.0.1 31101 typ host\r\n\
            a=fingerprint:sha-256 zz\r\na=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:00:11:22:33:44:55:66:77:88:99\r\n\
            a=setup:active\r\n";
        let r = parse_remote(text).unwrap();
        assert!(r.ice_lite);
        assert_eq!(r.codecs, vec![Codec { pt: 0, opus: false }]);
        assert_eq!(
            r.candidates,
            vec!["127.0.0.1:31100".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(r.fingerprints.len(), 1, "the malformed one is left out");
        assert_eq!(r.setup, Some(Setup::Active));
        assert!(!r.bundle);
        assert_eq!(r.proto, "UDP/TLS/RTP/SAVPF");
    }

    /// The ALG offers `UDP/TLS/RTP/SAVP` to the UE when the core offered RTP/AVP (5.11.2.4);
    /// the answer must keep that proto (the lab showed the UE answering SAVPF).
    #[test]
    fn an_answer_keeps_the_offers_proto() {
        let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
            m=audio 31100 UDP/TLS/RTP/SAVP 0\r\nc=IN IP4 127.0.0.1\r\n\
            a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:00:11:22:33:44:55:66:77:88:99\r\n\
            a=setup:actpass\r\n";
        let r = parse_remote(offer).unwrap();
        assert_eq!(r.proto, "UDP/TLS/RTP/SAVP");
        let (ice, fp) = local_parts();
        let l = WebRtcLocal {
            addr: "127.0.0.1:40000".parse().unwrap(),
            session_id: 1,
            ice: &ice,
            fingerprint: &fp,
            tls_id: "abcdefghijklmnopqrstuvwx",
            ssrc: 1,
            cname: "ue",
            candidate_priority: 1,
        };
        let answer = webrtc(&l, &r.proto, &r.codecs, Setup::Active, "0", false);
        assert!(
            answer.contains("m=audio 40000 UDP/TLS/RTP/SAVP 0\r\n"),
            "{answer}"
        );
    }

    #[test]
    fn plain_offer_reads_back() {
        let codecs = [
            Codec { pt: 0, opus: false },
            Codec {
                pt: 111,
                opus: true,
            },
        ];
        let text = plain("127.0.0.1:5004".parse().unwrap(), 1, &codecs);
        assert!(text.contains("m=audio 5004 RTP/AVP 0 111\r\n"));
        let r = parse_remote(&text).unwrap();
        assert_eq!(r.codecs, codecs);
        assert!(r.ice.is_none() && r.fingerprints.is_empty());
    }
}
