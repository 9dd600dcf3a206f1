//! SDP model: lossless round trip, typed access, editing as the IMS-ALG / eIMS-AGW do it,
//! conversion to and from the H.248 model, errors with line numbers, and a no-panic property
//! test on arbitrary input.

#[path = "sdp_samples.rs"]
mod samples;

use iq_codec::model::{LocalRemoteDescriptor, PropertyParm, Text};
use iq_codec::sdp::*;
use proptest::prelude::*;
use samples::*;

fn hex(s: &str) -> Vec<u8> {
    s.split(':')
        .map(|p| u8::from_str_radix(p, 16).unwrap())
        .collect()
}

fn sha256(s: &str) -> FingerprintAttr {
    FingerprintAttr::Value(Fingerprint::new(HashFunction::Sha256, hex(s)).unwrap())
}

fn all_samples() -> Vec<(&'static str, &'static str)> {
    vec![
        ("chrome", CHROME_OFFER),
        ("firefox", FIREFOX_OFFER),
        ("ue offer", UE_OFFER),
        ("local t1 request", LOCAL_T1_REQUEST),
        ("remote t1 request", REMOTE_T1_REQUEST),
        ("local t1 reply", LOCAL_T1_REPLY),
        ("local t2 request", LOCAL_T2_REQUEST),
        ("remote t2 mod", REMOTE_T2_MOD),
        ("core answer", CORE_ANSWER),
        ("ue answer", UE_ANSWER),
    ]
}

// ---------------------------------------------------------------------------------------------
// round trip

#[test]
fn every_sample_round_trips_exactly_with_lf_and_crlf_and_without_final_eol() {
    for (name, text) in all_samples() {
        for t in [
            text.to_string(),
            crlf(text),
            text.trim_end().to_string(),
            crlf(text).trim_end().to_string(),
        ] {
            let sdp = Sdp::parse(&t).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(sdp.to_string(), t, "{name}");
            assert_eq!(sdp.is_terminated(), t.ends_with('\n'), "{name}");
            let expected = if t.starts_with("v=0\r\n") {
                Eol::CrLf
            } else {
                Eol::Lf
            };
            assert_eq!(sdp.line_ending(), expected, "{name}");
            // FromStr and serde go through the same text.
            assert_eq!(t.parse::<Sdp>().unwrap(), sdp);
            let json = serde_json::to_string(&sdp).unwrap();
            assert_eq!(serde_json::from_str::<Sdp>(&json).unwrap(), sdp);
        }
    }
}

#[test]
fn mixed_line_ends_and_unknown_lines_survive() {
    let t = "v=0\r\no=- 1 2 IN IP4 192.0.2.1\ns=-\r\nx=unknown line\r\nt=0 0\nk=prompt\r\na=X-Vendor:Value with  two spaces \r\nm=audio 4000/2 RTP/AVP 0 8\nz=whatever\r\na=weird-flag\r\n";
    let sdp = Sdp::parse(t).unwrap();
    assert_eq!(sdp.to_string(), t);
    assert_eq!(sdp.media().len(), 1);
    assert_eq!(sdp.media()[0].port_count(), Some(2));
    assert_eq!(
        sdp.session().attr_value("x-vendor"),
        Some("Value with  two spaces ")
    );
    assert_eq!(
        sdp.lines().map(|l| l.kind()).collect::<String>(),
        "vosxtkamza"
    );
}

#[test]
fn several_session_descriptions_are_alternatives() {
    let t = "v=0\nc=IN IP4 $\nm=audio $ RTP/AVP 0\nv=0\nc=IN IP6 $\nm=audio $ RTP/AVP 8\n";
    let all = Sdp::parse_all(t).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(Sdp::write_all(&all), t);
    assert_eq!(
        all[1].session().connection(),
        Some(Connection::choose(true))
    );
    assert_eq!(all[1].media()[0].fmts(), vec!["8"]);
    assert_eq!(all[1].lines().next().unwrap().line_no(), Some(4));
    assert_eq!(
        Sdp::parse(t).unwrap_err(),
        SdpError::MultipleSessions { line: 4 }
    );
    assert!(Sdp::parse_all("").unwrap().is_empty());
    // H.248 relaxed: the first description may lack v=.
    let all = Sdp::parse_all("c=IN IP4 $\nm=audio $ RTP/AVP 0\nv=0\nm=audio $ RTP/AVP 8").unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].version(), None);
    assert_eq!(all[1].version(), Some("0"));
}

// ---------------------------------------------------------------------------------------------
// typed getters

#[test]
fn chrome_offer_typed() {
    let sdp = Sdp::parse(&crlf(CHROME_OFFER)).unwrap();
    let s = sdp.session();
    assert_eq!(
        sdp.origin(),
        Some(Origin {
            username: "-".into(),
            session_id: "4611731400430051336".into(),
            session_version: "2".into(),
            nettype: "IN".into(),
            addrtype: "IP4".into(),
            address: "127.0.0.1".into(),
        })
    );
    assert_eq!(sdp.session_name(), Some("-"));
    assert_eq!(
        s.bundle().unwrap(),
        Some(Group {
            semantics: "BUNDLE".into(),
            ids: vec!["0".into(), "1".into(), "2".into()]
        })
    );
    assert!(s.fingerprints().unwrap().is_empty());
    assert_eq!(sdp.media().len(), 3);

    let a = &sdp.media()[0];
    assert_eq!(a.media_type(), "audio");
    assert_eq!(a.port(), Choosable::Value(9));
    assert_eq!(a.proto(), Proto::UdpTlsRtpSavpf);
    assert!(a.proto().is_dtls_srtp() && a.proto().is_feedback() && a.proto().is_srtp());
    assert_eq!(
        a.fmts(),
        vec!["111", "63", "9", "0", "8", "13", "110", "126"]
    );
    assert_eq!(
        a.connection().unwrap().ip_addr(),
        Some("0.0.0.0".parse().unwrap())
    );
    assert_eq!(
        a.rtcp().unwrap(),
        Some(Rtcp {
            port: Choosable::Value(9),
            connection: Some(Connection::ip("0.0.0.0".parse().unwrap()))
        })
    );
    let c = a.candidates().unwrap();
    assert_eq!(c.len(), 3);
    assert_eq!(
        c[1],
        Candidate {
            foundation: "434256498".into(),
            component: 1,
            transport: "udp".into(),
            priority: 1686052607,
            address: "203.0.113.77".into(),
            port: 46243,
            typ: CandidateType::Srflx,
            raddr: Some("192.168.0.196".into()),
            rport: Some(46243),
            extensions: vec![
                ("generation".into(), "0".into()),
                ("network-id".into(), "1".into()),
                ("network-cost".into(), "10".into()),
            ],
        }
    );
    assert_eq!(c[2].transport, "tcp");
    assert_eq!(c[2].extension("tcptype"), Some("active"));
    assert_eq!(c[0].typ, CandidateType::Host);
    assert_eq!(
        a.ice_ufrag().unwrap(),
        Some(Choosable::Value("EsAw".into()))
    );
    assert_eq!(
        a.ice_pwd().unwrap(),
        Some(Choosable::Value("bP+XJMM09aR8AiX1jdukzR6Y".into()))
    );
    assert_eq!(a.ice_options(), vec!["trickle"]);
    assert!(!a.end_of_candidates());
    assert_eq!(a.fingerprints().unwrap(), vec![sha256(CHROME_FP)]);
    assert_eq!(a.setup().unwrap(), Some(Setup::Actpass));
    assert_eq!(a.tls_id().unwrap(), None);
    assert_eq!(a.mid().unwrap().as_deref(), Some("0"));
    assert_eq!(a.direction().unwrap(), Some(Direction::SendRecv));
    assert_eq!(
        a.msids().unwrap(),
        vec![Msid {
            id: "6f1d2e3c-stream".into(),
            appdata: Some("9a8b7c6d-audio".into())
        }]
    );
    assert!(a.rtcp_mux());
    assert!(!a.rtcp_rsize());
    let maps = a.rtpmaps().unwrap();
    assert_eq!(maps.len(), 8);
    assert_eq!(
        maps[0],
        RtpMap {
            payload_type: 111,
            encoding: "opus".into(),
            clock_rate: 48000,
            params: Some("2".into())
        }
    );
    assert_eq!(maps[0].channels(), Some(2));
    assert_eq!(a.rtpmap(0).unwrap().unwrap().encoding, "PCMU");
    assert_eq!(a.rtpmap(0).unwrap().unwrap().channels(), Some(1));
    let opus = a.fmtp("111").unwrap().unwrap();
    assert_eq!(opus.param("useinbandfec"), Some("1"));
    assert_eq!(
        opus.param_list(),
        vec![("minptime", Some("10")), ("useinbandfec", Some("1"))]
    );
    assert_eq!(
        a.rtcp_fbs().unwrap(),
        vec![RtcpFb {
            fmt: "111".into(),
            fb_type: "transport-cc".into(),
            param: None
        }]
    );
    assert_eq!(
        a.ssrcs().unwrap()[1],
        Ssrc {
            ssrc: 3570614608,
            attribute: "msid".into(),
            value: Some("6f1d2e3c-stream 9a8b7c6d-audio".into())
        }
    );
    assert_eq!(a.attr_values("extmap").len(), 4);

    let v = &sdp.media()[1];
    assert_eq!(v.media_type(), "video");
    assert!(v.rtcp_rsize());
    let fbs = v.rtcp_fbs().unwrap();
    assert_eq!(fbs.len(), 10);
    assert_eq!(
        fbs[2],
        RtcpFb {
            fmt: "96".into(),
            fb_type: "ccm".into(),
            param: Some("fir".into())
        }
    );
    assert_eq!(
        v.ssrc_groups().unwrap(),
        vec![SsrcGroup {
            semantics: "FID".into(),
            ssrcs: vec![2231627014, 632943048]
        }]
    );
    assert_eq!(v.ssrcs().unwrap().len(), 4);
    assert_eq!(v.fmtp("97").unwrap().unwrap().param("apt"), Some("96"));

    let d = &sdp.media()[2];
    assert_eq!(d.proto(), Proto::UdpDtlsSctp);
    assert!(d.proto().is_sctp() && d.proto().uses_fingerprint() && !d.proto().is_rtp());
    assert_eq!(d.fmts(), vec!["webrtc-datachannel"]);
    assert_eq!(d.sctp_port().unwrap(), Some(5000));
    assert_eq!(d.max_message_size().unwrap(), Some(262144));
    assert_eq!(d.mid().unwrap().as_deref(), Some("2"));
    for i in 0..3 {
        assert_eq!(
            sdp.effective_fingerprints(i).unwrap(),
            vec![sha256(CHROME_FP)]
        );
        assert_eq!(sdp.effective_setup(i).unwrap(), Some(Setup::Actpass));
    }
}

#[test]
fn firefox_offer_session_level_fallbacks() {
    let sdp = Sdp::parse(&crlf(FIREFOX_OFFER)).unwrap();
    let s = sdp.session();
    assert_eq!(s.direction().unwrap(), Some(Direction::SendRecv));
    assert_eq!(s.fingerprints().unwrap(), vec![sha256(FIREFOX_FP)]);
    assert_eq!(s.ice_options(), vec!["trickle"]);
    let a = &sdp.media()[0];
    let v = &sdp.media()[1];
    // Media level has no fingerprint: the session's applies.
    assert!(a.fingerprints().unwrap().is_empty());
    assert_eq!(
        sdp.effective_fingerprints(0).unwrap(),
        vec![sha256(FIREFOX_FP)]
    );
    assert_eq!(
        sdp.effective_fingerprints(1).unwrap(),
        vec![sha256(FIREFOX_FP)]
    );
    // Media-level direction overrides.
    assert_eq!(sdp.effective_direction(0).unwrap(), Direction::SendRecv);
    assert_eq!(v.direction().unwrap(), Some(Direction::RecvOnly));
    assert_eq!(sdp.effective_direction(1).unwrap(), Direction::RecvOnly);
    assert_eq!(
        sdp.effective_connection(0).unwrap().address,
        Choosable::Value("198.51.100.33".to_string())
    );
    assert_eq!(a.port(), Choosable::Value(54321));
    let c = a.candidates().unwrap();
    assert_eq!(c[0].transport, "UDP");
    assert_eq!(c[0].foundation, "0");
    assert_eq!(c[0].priority, 2122252543);
    assert_eq!(c[1].extensions, vec![("tcptype".into(), "active".into())]);
    assert!(a.end_of_candidates());
    assert_eq!(
        a.ice_ufrag().unwrap(),
        Some(Choosable::Value("8a1b2c3d".into()))
    );
    assert_eq!(
        sdp.effective_ice_pwd(1).unwrap(),
        Some(Choosable::Value("e2d3f8a19b0c4d5e6f708192a3b4c5d6".into()))
    );
    assert_eq!(a.rtpmap(9).unwrap().unwrap().params.as_deref(), Some("1"));
    assert_eq!(a.fmtp("101").unwrap().unwrap().params, "0-15");
    assert_eq!(
        a.msids().unwrap()[0].id,
        "{5e0c8a7b-1d2f-4e3a-9b8c-7d6e5f4a3b2c}"
    );
    assert_eq!(v.rtcp_fbs().unwrap().len(), 5);
}

#[test]
fn h248_local_with_choose() {
    let sdp = Sdp::parse(LOCAL_T1_REQUEST).unwrap();
    assert_eq!(sdp.origin(), None);
    assert_eq!(sdp.session_name(), None);
    assert_eq!(sdp.session().connection(), Some(Connection::choose(false)));
    assert_eq!(sdp.effective_connection(0).unwrap().ip_addr(), None);
    let m = &sdp.media()[0];
    assert_eq!(m.port(), Choosable::Choose);
    assert_eq!(
        m.media_line(),
        MediaLine {
            media: "audio".into(),
            port: Choosable::Choose,
            port_count: None,
            proto: Proto::UdpTlsRtpSavpf,
            fmts: vec!["111".into(), "0".into()],
        }
    );
    assert_eq!(m.fingerprints().unwrap(), vec![FingerprintAttr::Choose]);
    assert!(m.fingerprints().unwrap()[0].is_choose());
    assert_eq!(m.ice_ufrag().unwrap(), Some(Choosable::Choose));
    assert_eq!(m.ice_pwd().unwrap(), Some(Choosable::Choose));
    assert_eq!(m.setup().unwrap(), None);

    let core = Sdp::parse(LOCAL_T2_REQUEST).unwrap();
    assert_eq!(core.media()[0].proto(), Proto::RtpAvpf);
    assert!(core.media()[0].proto().is_avp() && core.media()[0].proto().is_feedback());

    let fp = FingerprintAttr::parse("SHA-256 $").unwrap();
    assert_eq!(fp, FingerprintAttr::ChooseWithHash(HashFunction::Sha256));
    assert_eq!(fp.to_string(), "sha-256 $");
}

#[test]
fn ts_23334_remote_and_answer() {
    let r = Sdp::parse(REMOTE_T1_REQUEST).unwrap();
    let m = &r.media()[0];
    assert_eq!(m.fingerprints().unwrap(), vec![sha256(UE_FP)]);
    assert_eq!(m.candidates().unwrap()[0].address, "198.51.100.20");
    assert_eq!(m.candidates().unwrap()[0].port, 50000);

    let ans = Sdp::parse(&crlf(UE_ANSWER)).unwrap();
    let m = &ans.media()[0];
    assert_eq!(m.setup().unwrap(), Some(Setup::Active));
    assert_eq!(
        m.tls_id().unwrap().unwrap().as_str(),
        "alg0b7d3c1e9f4a2b6c8d0e1f2"
    );
    assert!(m.ice_lite());
    assert_eq!(
        m.fingerprints().unwrap()[0].fingerprint().unwrap().hex(),
        AGW_FP
    );

    let ue = Sdp::parse(&crlf(UE_OFFER)).unwrap();
    let m = &ue.media()[0];
    assert_eq!(m.ptime().unwrap(), Some(20.0));
    assert_eq!(m.maxptime().unwrap(), None);
    assert_eq!(
        m.tls_id().unwrap(),
        Some(TlsId::new("ueTlsId0123456789abcdef").unwrap())
    );
}

#[test]
fn fingerprint_type() {
    let f = Fingerprint::parse(&format!("SHA-256 {}", CHROME_FP.to_lowercase())).unwrap();
    assert_eq!(f.hash, HashFunction::Sha256);
    assert_eq!(f.value.len(), 32);
    assert_eq!(f.value[0], 0xD2);
    // Written back with the registered lower-case name and upper-case hex.
    assert_eq!(f.to_string(), format!("sha-256 {CHROME_FP}"));
    assert!(f.matches(&HashFunction::Sha256, &hex(CHROME_FP)));
    assert!(!f.matches(&HashFunction::Sha1, &hex(CHROME_FP)));
    for (name, h, n) in [
        ("sha-1", HashFunction::Sha1, 20),
        ("Sha-224", HashFunction::Sha224, 28),
        ("SHA-384", HashFunction::Sha384, 48),
        ("sha-512", HashFunction::Sha512, 64),
    ] {
        let v: Vec<String> = (0..n).map(|i| format!("{:02X}", i as u8)).collect();
        let f = Fingerprint::parse(&format!("{name} {}", v.join(":"))).unwrap();
        assert_eq!(f.hash, h);
        assert_eq!(h.digest_len(), Some(n));
        assert_eq!(f.hex(), v.join(":"));
    }
    assert!(Fingerprint::parse("sha-256 AA:BB").is_err()); // wrong length
    assert!(Fingerprint::parse("sha-1 AAB:CC").is_err());
    // Hex digits in either case, every octet value; anything else in an octet is an error.
    let all: Vec<u8> = (0..=255u8).collect();
    let lower: Vec<String> = all.iter().map(|b| format!("{b:02x}")).collect();
    let f = Fingerprint::parse(&format!("x-any {}", lower.join(":"))).unwrap();
    assert_eq!(f.value, all);
    let f = Fingerprint::parse("sha-1 aB:Cd:eF:09:10:FA:fa:00:11:22:33:44:55:66:77:88:99:aa:BB:cC")
        .unwrap();
    assert_eq!(
        &f.value[..8],
        &[0xab, 0xcd, 0xef, 0x09, 0x10, 0xfa, 0xfa, 0x00]
    );
    for bad in [
        "x-any 0G",
        "x-any 01:",
        "x-any :01",
        "x-any 01::02",
        "x-any 0\u{e9}",
        "x-any 1",
    ] {
        assert!(Fingerprint::parse(bad).is_err(), "{bad}");
    }
    assert!(Fingerprint::parse("sha-1").is_err());
    assert!(Fingerprint::parse("$").is_err()); // CHOOSE is a FingerprintAttr, not a Fingerprint
    let other = Fingerprint::parse("x-hash 01:02").unwrap();
    assert_eq!(other.hash, HashFunction::Other("x-hash".into()));
    assert!(!other.hash.is_sha());
    assert!(Fingerprint::new(HashFunction::Sha256, vec![1, 2]).is_err());
}

#[test]
fn tls_id_validation() {
    assert!(TlsId::new("a".repeat(19)).is_err());
    assert!(TlsId::new("a".repeat(20)).is_ok());
    assert!(TlsId::new("A".repeat(255)).is_ok());
    assert!(TlsId::new("A".repeat(256)).is_err());
    assert!(TlsId::new("abcABC0123456789+/-_").is_ok());
    let e = TlsId::new("abcdefghij0123456789!").unwrap_err();
    assert!(e.to_string().contains("'!'"), "{e}");
    // The getter validates too, naming the line.
    let sdp = Sdp::parse("v=0\nm=audio 9 UDP/TLS/RTP/SAVP 0\na=tls-id:short\n").unwrap();
    let e = sdp.media()[0].tls_id().unwrap_err();
    assert_eq!(e.line(), Some(3));
    assert!(e.to_string().starts_with("line 3: a=tls-id: "), "{e}");
}

#[test]
fn proto_mapping_5_11_2_4() {
    let cases = [
        ("UDP/TLS/RTP/SAVP", "RTP/AVP"),
        ("UDP/TLS/RTP/SAVPF", "RTP/AVPF"),
        ("RTP/SAVP", "RTP/AVP"),
        ("RTP/SAVPF", "RTP/AVPF"),
        ("UDP/TLS/UDPTL", "udptl"),
    ];
    for (access, core) in cases {
        assert_eq!(
            Proto::parse(access).to_core().unwrap().to_string(),
            core,
            "{access}"
        );
    }
    assert_eq!(Proto::RtpAvp.to_dtls(), Some(Proto::UdpTlsRtpSavp));
    assert_eq!(Proto::RtpAvpf.to_dtls(), Some(Proto::UdpTlsRtpSavpf));
    assert_eq!(Proto::Udptl.to_dtls(), Some(Proto::UdpTlsUdptl));
    assert_eq!(Proto::RtpAvp.to_core(), None);
    assert_eq!(Proto::UdpDtlsSctp.to_core(), None);
    assert_eq!(Proto::parse("udp/tls/rtp/savpf"), Proto::UdpTlsRtpSavpf);
    assert_eq!(Proto::parse("RTP/XYZ"), Proto::Other("RTP/XYZ".into()));
    assert!(Proto::RtpSavp.is_sdes_srtp() && !Proto::RtpSavp.is_dtls_srtp());
    assert!(Proto::RtpAvp.is_rtp() && !Proto::RtpAvp.is_feedback());
    assert!(Proto::TcpDtlsSctp.is_sctp());
}

// ---------------------------------------------------------------------------------------------
// editing

/// Digest section 6, offer UE -> core: proto to RTP/AVP(F), remove setup, fingerprint,
/// tls-id, ICE and rtcp-mux; address and port of T2.
#[test]
fn alg_offer_towards_core() {
    let mut sdp = Sdp::parse(&crlf(UE_OFFER)).unwrap();
    let mut o = sdp.origin().unwrap();
    o.address = "10.0.0.10".into();
    sdp.set_origin(&o).unwrap();
    sdp.session_mut()
        .set_connection(&Connection::ip("10.0.0.10".parse().unwrap()))
        .unwrap();
    assert_eq!(sdp.session_mut().remove_ice(), 1);
    let m = &mut sdp.media_mut()[0];
    let core = m.proto().to_core().unwrap();
    m.set_proto(core).unwrap();
    m.set_port(Choosable::Value(20000));
    assert_eq!(m.remove_setup(), 1);
    assert_eq!(m.remove_fingerprints(), 1);
    assert_eq!(m.remove_tls_id(), 1);
    assert_eq!(m.remove_ice(), 4);
    m.set_rtcp_mux(false).unwrap();
    assert_eq!(
        sdp.to_string(),
        crlf(
            "v=0
o=ue 2890844526 1 IN IP4 10.0.0.10
s=-
c=IN IP4 10.0.0.10
t=0 0
m=audio 20000 RTP/AVPF 111 0
a=rtpmap:111 opus/48000/2
a=rtpmap:0 PCMU/8000
a=fmtp:111 minptime=10;useinbandfec=1
a=rtcp-fb:111 transport-cc
a=ptime:20
a=sendrecv
"
        )
    );
    // Edited lines lose their input line number; untouched ones keep it.
    let nos: Vec<_> = sdp.lines().map(|l| l.line_no()).collect();
    assert_eq!(nos[1], None);
    assert_eq!(nos[2], Some(3));
    assert_eq!(nos[5], None);
    assert_eq!(nos[6], Some(8));
}

/// Digest section 6 / 3.2.8, answer core -> UE: proto back to UDP/TLS/RTP/SAVPF, add the AGW
/// fingerprint, a new tls-id, setup:active (AGW = DTLS client), ICE-lite credentials and the
/// host candidate; T1's address and port.
#[test]
fn alg_answer_towards_ue_is_the_digest_example() {
    let mut sdp = Sdp::parse(CORE_ANSWER).unwrap();
    let mut o = sdp.origin().unwrap();
    o.address = "203.0.113.10".into();
    sdp.set_origin(&o).unwrap();
    sdp.session_mut()
        .set_connection(&Connection::ip("203.0.113.10".parse().unwrap()))
        .unwrap();
    let m = &mut sdp.media_mut()[0];
    let dtls = m.proto().to_dtls().unwrap();
    m.set_proto(dtls).unwrap();
    m.set_port(Choosable::Value(40000));
    m.set_rtcp_mux(true).unwrap();
    m.add_fingerprint(&sha256(AGW_FP)).unwrap();
    m.set_setup(Setup::Active).unwrap();
    m.set_tls_id(&TlsId::new("alg0b7d3c1e9f4a2b6c8d0e1f2").unwrap())
        .unwrap();
    m.set_ice_lite(true).unwrap();
    m.set_ice_ufrag(Choosable::Value("Agw1")).unwrap();
    m.set_ice_pwd(Choosable::Value("agwPasswordAgwPassword1"))
        .unwrap();
    m.add_candidate(&Candidate::parse("1 1 udp 2130706431 203.0.113.10 40000 typ host").unwrap())
        .unwrap();
    assert_eq!(sdp.to_string(), UE_ANSWER);
    // And for SIP:
    sdp.set_line_ending(Eol::CrLf);
    assert_eq!(sdp.to_string(), crlf(UE_ANSWER));
}

/// The AGW fills the `$` of the Local in the ADD request and gets the Local of its reply.
#[test]
fn agw_fills_choose_in_local() {
    let mut sdp = Sdp::parse(LOCAL_T1_REQUEST).unwrap();
    sdp.session_mut()
        .set_connection(&Connection::ip("203.0.113.10".parse().unwrap()))
        .unwrap();
    let m = &mut sdp.media_mut()[0];
    assert!(m.port().is_choose());
    m.set_port(Choosable::Value(40000));
    assert_eq!(m.fingerprints().unwrap(), vec![FingerprintAttr::Choose]);
    m.set_fingerprints(&[sha256(AGW_FP)]).unwrap();
    m.set_ice_ufrag(Choosable::Value("Agw1")).unwrap();
    m.set_ice_pwd(Choosable::Value("agwPasswordAgwPassword1"))
        .unwrap();
    m.set_ice_lite(true).unwrap();
    assert_eq!(sdp.to_string(), LOCAL_T1_REPLY);
}

#[test]
fn adding_lines_goes_where_rfc_8866_orders_them() {
    let mut sdp = Sdp::new(Eol::CrLf);
    sdp.set_session_name("-").unwrap();
    sdp.set_origin(&Origin::parse("- 1 1 IN IP4 192.0.2.1").unwrap())
        .unwrap();
    sdp.session_mut()
        .add_line(Line::new('t', "0 0").unwrap())
        .unwrap();
    sdp.session_mut()
        .set_connection(&Connection::ip("192.0.2.1".parse().unwrap()))
        .unwrap();
    sdp.session_mut()
        .add_group(&Group::parse("BUNDLE a").unwrap())
        .unwrap();
    let m =
        sdp.push_media(Media::new(&MediaLine::parse("audio 4000 RTP/AVP 0 8").unwrap()).unwrap());
    m.add_attr("rtpmap", Some("0 PCMU/8000")).unwrap();
    m.set_mid("a").unwrap();
    m.add_line(Line::new('b', "AS:64").unwrap()).unwrap();
    m.set_connection(&Connection::ip("192.0.2.2".parse().unwrap()))
        .unwrap();
    m.add_line(Line::new('i', "voice").unwrap()).unwrap();
    m.add_rtpmap(&RtpMap::parse("8 PCMA/8000").unwrap())
        .unwrap();
    m.set_direction(Direction::SendOnly).unwrap();
    m.set_ptime(20).unwrap();
    m.set_bandwidth(&Bandwidth::parse("AS:80").unwrap())
        .unwrap();
    assert_eq!(
        sdp.to_string(),
        crlf(
            "v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
a=group:BUNDLE a
m=audio 4000 RTP/AVP 0 8
i=voice
c=IN IP4 192.0.2.2
b=AS:80
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=mid:a
a=sendonly
a=ptime:20
"
        )
    );
    let m = &mut sdp.media_mut()[0];
    m.set_direction(Direction::Inactive).unwrap();
    assert_eq!(m.direction().unwrap(), Some(Direction::Inactive));
    assert_eq!(m.remove_direction(), 1);
    assert!(m.set_fmts::<&str>(&[]).is_err());
    m.set_fmts(&["8"]).unwrap();
    assert_eq!(m.retain_formats(&["8"]), 1);
    assert_eq!(m.rtpmaps().unwrap().len(), 1);
    assert!(m
        .add_line(Line::new('m', "audio 1 RTP/AVP 0").unwrap())
        .is_err());
    assert!(m.add_line(Line::new('v', "0").unwrap()).is_err());
    assert!(m.set_proto(Proto::Other("bad proto".into())).is_err());
}

#[test]
fn m_line_edits_keep_the_other_fields_as_written() {
    let mut sdp = Sdp::parse("v=0\nm=audio 9/2 rtp/avp 0 8\n").unwrap();
    let m = &mut sdp.media_mut()[0];
    assert_eq!(m.proto(), Proto::RtpAvp);
    m.set_port(Choosable::Choose);
    assert_eq!(m.m_line().value(), "audio $/2 rtp/avp 0 8");
    m.set_fmts(&["8"]).unwrap();
    assert_eq!(m.m_line().value(), "audio $/2 rtp/avp 8");
    assert!(m.set_fmts(&["1 2"]).is_err());
    assert!(m.set_proto(Proto::Other("RTP/".into())).is_err());
    m.set_proto(Proto::RtpAvpf).unwrap();
    assert_eq!(sdp.to_string(), "v=0\nm=audio $/2 RTP/AVPF 8\n");
}

#[test]
fn set_replaces_in_place_and_drops_duplicates() {
    let t = "v=0\nm=audio 9 UDP/TLS/RTP/SAVPF 0\na=setup:actpass\na=mid:x\na=setup:passive\na=fingerprint:sha-1 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13\na=x:1\na=fingerprint:$\n";
    let mut sdp = Sdp::parse(t).unwrap();
    let m = &mut sdp.media_mut()[0];
    let e = m.setup().unwrap_err();
    assert_eq!(e.line(), Some(5));
    assert_eq!(
        e.to_string(),
        "line 5: a=setup: appears more than once (first on line 3)"
    );
    assert_eq!(m.fingerprints().unwrap().len(), 2);
    m.set_setup(Setup::Passive).unwrap();
    m.set_fingerprints(&[sha256(UE_FP), sha256(AGW_FP)])
        .unwrap();
    assert_eq!(
        sdp.to_string(),
        format!("v=0\nm=audio 9 UDP/TLS/RTP/SAVPF 0\na=setup:passive\na=mid:x\na=fingerprint:sha-256 {UE_FP}\na=fingerprint:sha-256 {AGW_FP}\na=x:1\n")
    );
}

#[test]
fn move_session_fingerprint_into_media() {
    let mut sdp = Sdp::parse(&crlf(FIREFOX_OFFER)).unwrap();
    assert_eq!(sdp.move_session_attr_to_media("fingerprint"), 1);
    assert!(sdp.session().fingerprints().unwrap().is_empty());
    for m in sdp.media() {
        assert_eq!(m.fingerprints().unwrap(), vec![sha256(FIREFOX_FP)]);
        let last = m.lines().last().unwrap();
        assert_eq!(
            last.to_string(),
            format!("a=fingerprint:sha-256 {FIREFOX_FP}")
        );
        assert_eq!(last.eol(), Eol::CrLf);
    }
    assert_eq!(sdp.move_session_attr_to_media("fingerprint"), 0);
}

#[test]
fn appending_to_an_unterminated_sdp_keeps_the_style() {
    let mut sdp = Sdp::parse("v=0\r\nm=audio 9 RTP/AVP 0").unwrap();
    sdp.media_mut()[0].set_rtcp_mux(true).unwrap();
    assert_eq!(sdp.to_string(), "v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtcp-mux");
    sdp.set_terminated(true);
    assert_eq!(
        sdp.to_string(),
        "v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtcp-mux\r\n"
    );
}

// ---------------------------------------------------------------------------------------------
// H.248 model

fn descriptors(msg: &iq_codec::model::Message, key: &str) -> Vec<LocalRemoteDescriptor> {
    fn walk(v: &serde_json::Value, key: &str, out: &mut Vec<LocalRemoteDescriptor>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    if k == key {
                        out.push(serde_json::from_value(x.clone()).unwrap());
                    } else {
                        walk(x, key, out);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, key, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&serde_json::to_value(msg).unwrap(), key, &mut out);
    out
}

#[test]
fn group_conversion_with_the_h248_parser() {
    let msg = iq_codec::text::decode(ADD_T1_REQUEST.as_bytes()).unwrap();
    let local = &descriptors(&msg, "local")[0];
    let remote = &descriptors(&msg, "remote")[0];
    let l = Sdp::from_descriptor(local).unwrap();
    let r: Vec<Sdp> = Vec::try_from(remote).unwrap();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].to_string(), LOCAL_T1_REQUEST);
    assert_eq!(r[0].to_string(), REMOTE_T1_REQUEST);
    assert_eq!(Sdp::to_descriptor(&l), *local);
    assert_eq!(LocalRemoteDescriptor::from(&r[0]), *remote);
    assert_eq!(
        l[0].media()[0].fingerprints().unwrap(),
        vec![FingerprintAttr::Choose]
    );
    assert_eq!(r[0].media()[0].fingerprints().unwrap(), vec![sha256(UE_FP)]);
    // The first properties by hand.
    assert_eq!(
        l[0].to_group()[..3],
        [
            PropertyParm {
                name: "v".into(),
                value: vec!["0".into()].into(),
                extra: None
            },
            PropertyParm {
                name: "c".into(),
                value: vec!["IN IP4 $".into()].into(),
                extra: None
            },
            PropertyParm {
                name: "m".into(),
                value: vec!["audio $ UDP/TLS/RTP/SAVPF 111 0".into()].into(),
                extra: None
            },
        ]
    );

    // The AGW's answer, built from the request Local, is exactly the reply's Local as the
    // H.248 parser reads it.
    let mut filled = l[0].clone();
    filled
        .session_mut()
        .set_connection(&Connection::ip("203.0.113.10".parse().unwrap()))
        .unwrap();
    let m = &mut filled.media_mut()[0];
    m.set_port(Choosable::Value(40000));
    m.set_fingerprints(&[sha256(AGW_FP)]).unwrap();
    m.set_ice_ufrag(Choosable::Value("Agw1")).unwrap();
    m.set_ice_pwd(Choosable::Value("agwPasswordAgwPassword1"))
        .unwrap();
    m.set_ice_lite(true).unwrap();
    let reply = iq_codec::text::decode(ADD_T1_REPLY.as_bytes()).unwrap();
    assert_eq!(
        LocalRemoteDescriptor::from(&filled),
        descriptors(&reply, "local")[0]
    );
}

#[test]
fn group_conversion_round_trips_every_sample_and_alternatives() {
    for (name, text) in all_samples() {
        let sdp = Sdp::parse(&crlf(text)).unwrap();
        let g = sdp.to_group();
        assert_eq!(g.len(), text.lines().count(), "{name}");
        let back = Sdp::from_group(&g).unwrap();
        assert_eq!(back.to_string(), text, "{name}: groups use LF");
        assert_eq!(back.to_group(), g, "{name}");
    }
    let alts = Sdp::parse_all(&format!("{LOCAL_T1_REQUEST}{LOCAL_T2_REQUEST}")).unwrap();
    let d = Sdp::to_descriptor(&alts);
    assert_eq!(d.groups.len(), 2);
    assert_eq!(Sdp::from_descriptor(&d).unwrap(), alts);
    assert!(Sdp::from_descriptor(&LocalRemoteDescriptor::default())
        .unwrap()
        .is_empty());
}

#[test]
fn group_errors_name_the_line() {
    let p = |n: &str, v: &[&str]| PropertyParm {
        name: n.into(),
        value: v.iter().map(|s| Text::from(*s)).collect(),
        extra: None,
    };
    let e = Sdp::from_group(&[p("v", &["0"]), p("ab", &["x"])]).unwrap_err();
    assert_eq!(e.line(), Some(2));
    assert!(e.to_string().contains("'ab'"), "{e}");
    let e = Sdp::from_group(&[p("v", &["0"]), p("c", &["IN", "IP4"])]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2: SDP property 'c' has 2 values, expected 1"
    );
    let e = Sdp::from_group(&[p("v", &["0"]), p("m", &["audio"])]).unwrap_err();
    assert_eq!(e.line(), Some(2));
    let e = Sdp::from_group(&[p("v", &["0"]), p("v", &["0"])]).unwrap_err();
    assert_eq!(e, SdpError::MultipleSessions { line: 2 });
    assert_eq!(Sdp::from_group(&[]).unwrap_err(), SdpError::Empty);
    let e = Sdp::from_group(&[p("a", &["x\ny"])]).unwrap_err();
    assert_eq!(e.line(), Some(1));
    // Across groups of a descriptor, lines count on.
    let d = LocalRemoteDescriptor {
        groups: vec![
            vec![p("v", &["0"]), p("c", &["IN IP4 $"])],
            vec![p("v", &["0"]), p("c", &["IN IP4"])],
        ],
    };
    assert_eq!(Sdp::from_descriptor(&d).unwrap_err().line(), Some(4));
}

// ---------------------------------------------------------------------------------------------
// errors

#[test]
fn parse_errors_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("v=1\n", 1, "v= must be 0"),
        ("v=0\nc=IN IP4\n", 2, "c= needs 3 fields"),
        ("v=0\r\nm=audio x RTP/AVP 0\r\n", 2, "port 'x'"),
        ("v=0\nm=audio 70000 RTP/AVP 0\n", 2, "out of range"),
        ("v=0\nm=audio 9 RTP/AVP\n", 2, "at least 4 fields"),
        ("v=0\nm=audio 9/0 RTP/AVP 0\n", 2, "port count"),
        ("v=0\no=- 1 IN IP4 x\n", 2, "o= needs 6 fields"),
        ("v=0\nt=0\n", 2, "t= needs"),
        ("v=0\nb=AS\n", 2, "b= needs"),
        ("v=0\nb=AS:x\n", 2, "not a number"),
        ("v=0\n\nm=audio 9 RTP/AVP 0\n", 2, "empty line"),
        ("v=0\ns=a\rb\n", 2, "carriage return"),
        ("v=0\nno equals sign\n", 2, "expected '<type>=<value>'"),
        ("v=0\nab=1\n", 2, "not a single letter"),
        ("v=0\nA=1\n", 2, "not a lower-case letter"),
        ("v=0\na=:x\n", 2, "attribute name"),
        ("v=0\na=na me\n", 2, "attribute name"),
        ("v=0\ns=nul\0\n", 2, "'\\0'"),
        ("v=0\n v=0\n", 2, "not a single letter"),
    ];
    for (text, line, what) in cases {
        let e = Sdp::parse(text).unwrap_err();
        assert_eq!(e.line(), Some(*line), "{text:?}: {e}");
        let s = e.to_string();
        assert!(s.starts_with(&format!("line {line}: ")), "{text:?}: {s}");
        assert!(s.contains(what), "{text:?}: {s}");
    }
    assert_eq!(Sdp::parse("").unwrap_err(), SdpError::Empty);
    assert_eq!(Sdp::parse("").unwrap_err().to_string(), "empty SDP");
}

#[test]
fn attribute_errors_name_the_line() {
    let t = crlf(
        "v=0
m=audio 9 UDP/TLS/RTP/SAVPF 0
a=fingerprint:sha-256 AA:BB
a=setup:sometimes
a=candidate:1 1 udp 1 192.0.2.1 9 type host
a=ice-ufrag:ab
a=ice-pwd:short
a=rtpmap:200 x/8000
a=ssrc:x cname:y
a=sendonly
a=recvonly
a=ptime:0
a=crypto:1 AES_CM_128_HMAC_SHA1_80
a=rtcp:x
a=group
a=setup
",
    );
    let sdp = Sdp::parse(&t).unwrap();
    assert_eq!(sdp.to_string(), t);
    let m = &sdp.media()[0];
    let checks: Vec<(Result<(), SdpError>, usize, &str)> = vec![
        (m.fingerprints().map(drop), 3, "2 octets, expected 32"),
        (
            m.setup().map(drop),
            16,
            "appears more than once (first on line 4)",
        ),
        (m.candidates().map(drop), 5, "expected 'typ'"),
        (m.ice_ufrag().map(drop), 6, "4 to 256"),
        (m.ice_pwd().map(drop), 7, "22 to 256"),
        (m.rtpmaps().map(drop), 8, "above 127"),
        (m.ssrcs().map(drop), 9, "ssrc 'x'"),
        (m.direction().map(drop), 11, "second direction"),
        (m.ptime().map(drop), 12, "positive number"),
        (m.cryptos().map(drop), 13, "expected '<tag>"),
        (m.rtcp().map(drop), 14, "port 'x'"),
        (m.groups().map(drop), 15, "missing value"),
    ];
    for (r, line, what) in checks {
        let e = r.unwrap_err();
        assert_eq!(e.line(), Some(line), "{e}");
        assert!(e.to_string().contains(what), "{e}");
    }
    let only_setup = Sdp::parse("v=0\nm=audio 9 RTP/AVP 0\na=setup:sometimes\n").unwrap();
    assert_eq!(
        only_setup.media()[0].setup().unwrap_err().to_string(),
        "line 3: a=setup: 'sometimes' is not one of active, passive, actpass, holdconn"
    );
    let e = Block::default()
        .set_ice_ufrag(Choosable::Value("a b"))
        .unwrap_err();
    assert!(matches!(
        e,
        SdpError::InvalidValue {
            what: "ice-ufrag",
            ..
        }
    ));
    assert_eq!(
        Line::attribute("a b", Some("x")).unwrap_err().to_string(),
        "added line: attribute name 'a b' is not a token"
    );
}

#[test]
fn typed_values_display_back_to_their_input() {
    let cands = [
        "1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 network-id 1 network-cost 10",
        "434256498 1 udp 1686052607 203.0.113.77 46243 typ srflx raddr 192.168.0.196 rport 46243",
        "3 2 UDP 16777215 198.51.100.9 3478 typ relay raddr 0.0.0.0 rport 0",
        "a1+/ 256 tcp 1 abc.local 9 typ host tcptype passive",
    ];
    for c in cands {
        assert_eq!(Candidate::parse(c).unwrap().to_string(), c);
    }
    for v in [
        "0 PCMU/8000",
        "111 opus/48000/2",
        "101 telephone-event/8000",
    ] {
        assert_eq!(RtpMap::parse(v).unwrap().to_string(), v);
    }
    for v in ["96 nack pli", "* transport-cc", "96 ccm fir"] {
        assert_eq!(RtcpFb::parse(v).unwrap().to_string(), v);
    }
    for v in [
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
        "2 AEAD_AES_128_GCM inline:abcd UNENCRYPTED_SRTCP KDR=1",
    ] {
        let c = Crypto::parse(v).unwrap();
        assert_eq!(c.to_string(), v);
        assert!(c.tag == 1 || c.session_params.len() == 2);
    }
    for v in ["9 IN IP4 0.0.0.0", "53020", "$"] {
        assert_eq!(Rtcp::parse(v).unwrap().to_string(), v);
    }
    for v in ["BUNDLE 0 1 2", "LS"] {
        assert_eq!(Group::parse(v).unwrap().to_string(), v);
    }
    assert_eq!(SsrcGroup::parse("FID 1 2").unwrap().to_string(), "FID 1 2");
    for v in ["1 cname:x", "4294967295 msid:a b", "7 foo"] {
        assert_eq!(Ssrc::parse(v).unwrap().to_string(), v);
    }
    for v in [
        "audio $ RTP/AVP 0",
        "video 49170/2 RTP/AVPF 96 97",
        "image 0 udptl t38",
    ] {
        assert_eq!(MediaLine::parse(v).unwrap().to_string(), v);
    }
    for v in ["IN IP6 2001:db8::1", "IN IP4 224.2.1.1/127/3", "IN IP4 $"] {
        assert_eq!(Connection::parse(v).unwrap().to_string(), v);
    }
    assert_eq!(
        Connection::parse("IN IP4 224.2.1.1/127").unwrap().ip_addr(),
        Some("224.2.1.1".parse().unwrap())
    );
    for v in ["AS:64", "TIAS:64000", "RS:$"] {
        assert_eq!(Bandwidth::parse(v).unwrap().to_string(), v);
    }
    for s in ["active", "passive", "actpass", "holdconn"] {
        assert_eq!(Setup::parse(s).unwrap().to_string(), s);
    }
    assert_eq!(Setup::parse("ACTIVE").unwrap(), Setup::Active);
    assert_eq!(Direction::SendOnly.reverse(), Direction::RecvOnly);
    assert_eq!(Direction::from_name("Inactive"), Some(Direction::Inactive));
}

#[test]
fn strict_rfc_8866_check() {
    for t in [CHROME_OFFER, FIREFOX_OFFER, UE_OFFER] {
        Sdp::parse(&crlf(t)).unwrap().check_strict().unwrap();
    }
    // The digest's 3.2.8 answer (and the core answer it is made from) put c= after t=.
    for t in [CORE_ANSWER, UE_ANSWER] {
        let e = Sdp::parse(t).unwrap().check_strict().unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 5: c= is out of order (session level: v o s i u e p c b t r z k a)"
        );
    }
    // H.248 SDP is relaxed; parse takes it, the strict check does not.
    assert_eq!(
        Sdp::parse(LOCAL_T1_REQUEST)
            .unwrap()
            .check_strict()
            .unwrap_err()
            .to_string(),
        "invalid SDP: o= must appear exactly once at session level, found 0"
    );
    let head = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\n";
    let cases: &[(&str, usize, &str)] = &[
        ("t=0 0\nc=IN IP4 192.0.2.1\n", 5, "c= is out of order"),
        ("t=0 0\nm=audio 9 RTP/AVP 0\n", 5, "no c= line"),
        ("c=IN IP4 $\nt=0 0\n", 4, "CHOOSE"),
        (
            "c=IN IP4 192.0.2.1\nt=0 0\nm=audio $ RTP/AVP 0\n",
            6,
            "CHOOSE",
        ),
        ("x=1\nt=0 0\n", 4, "not a session-level line type"),
        (
            "c=IN IP4 192.0.2.1\nt=0 0\nm=audio 9 RTP/AVP 0\na=x\nb=AS:1\n",
            8,
            "b= is out of order",
        ),
        (
            "c=IN IP4 192.0.2.1\nt=0 0\nm=audio 9 RTP/AVP 0\ns=-\n",
            7,
            "not a media-level line type",
        ),
    ];
    for (tail, line, what) in cases {
        let e = Sdp::parse(&format!("{head}{tail}"))
            .unwrap()
            .check_strict()
            .unwrap_err();
        assert_eq!(e.line(), Some(*line), "{tail:?}: {e}");
        assert!(e.to_string().contains(what), "{tail:?}: {e}");
    }
    let e = Sdp::parse("o=- 1 1 IN IP4 192.0.2.1\nv=0\n").unwrap_err();
    assert_eq!(e, SdpError::MultipleSessions { line: 2 });
    let e = Sdp::parse("s=-\n").unwrap().check_strict().unwrap_err();
    assert_eq!(e.to_string(), "line 1: the first line must be v=");
    assert_eq!(
        Sdp::parse("v=0\nc=IN IP4 1.2.3.4\n")
            .unwrap()
            .check_strict()
            .unwrap_err()
            .to_string(),
        "invalid SDP: o= must appear exactly once at session level, found 0"
    );
}

#[test]
fn media_section_display() {
    let sdp = Sdp::parse(&crlf(UE_ANSWER)).unwrap();
    let m = sdp.media()[0].to_string();
    assert!(m.starts_with("m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"));
    assert!(crlf(UE_ANSWER).ends_with(&m));
}

/// Many small mutations of the samples: a good share must still parse (so the property tests
/// reach the typed getters) and some typed getters must fail with a line number.
#[test]
fn mutations_reach_getters_and_their_errors() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet = [' ', ':', '$', '/', '0', '9', 'a', 'x', '-', '.', '\n'];
    let (mut parsed, mut getter_errors, n) = (0, 0, 3000);
    for i in 0..n {
        let (_, text) = all_samples()[i % 10];
        let ops: Vec<(usize, u8, char)> = (0..1 + rnd() % 2)
            .map(|_| {
                (
                    rnd() as usize,
                    (rnd() % 3) as u8,
                    alphabet[(rnd() % alphabet.len() as u64) as usize],
                )
            })
            .collect();
        let s = mutate(text, &ops);
        exercise(&s);
        if let Ok(sdp) = Sdp::parse(&s) {
            parsed += 1;
            for m in sdp.media() {
                let errs = [
                    m.fingerprints().err(),
                    m.candidates().err(),
                    m.rtpmaps().err(),
                    m.ice_pwd().err(),
                    m.ssrcs().err(),
                ];
                for e in errs.into_iter().flatten() {
                    assert!(e.line().is_some(), "{e}");
                    getter_errors += 1;
                }
            }
        }
    }
    assert!(parsed > n / 3, "only {parsed} of {n} mutations parsed");
    assert!(getter_errors > 50, "only {getter_errors} getter errors");
}

// ---------------------------------------------------------------------------------------------
// never panic

/// Read `s` every way the API offers; when it parses it must write back exactly.
fn exercise(s: &str) {
    if let Ok(all) = Sdp::parse_all(s) {
        assert_eq!(Sdp::write_all(&all), s);
    }
    let Ok(mut sdp) = Sdp::parse(s) else {
        return;
    };
    assert_eq!(sdp.to_string(), s);
    let g = sdp.to_group();
    let back = Sdp::from_group(&g).expect("a parsed SDP converts back from its group");
    assert_eq!(back.to_group(), g);
    let _ = (sdp.origin(), sdp.session_name(), sdp.version());
    let blocks: Vec<&Block> = std::iter::once(sdp.session())
        .chain(sdp.media().iter().map(|m| &**m))
        .collect();
    for b in blocks {
        let _ = (
            b.connection(),
            b.bandwidths(),
            b.fingerprints(),
            b.setup(),
            b.tls_id(),
            b.ice_ufrag(),
            b.ice_pwd(),
            b.ice_lite(),
            b.ice_options(),
            b.candidates(),
            b.end_of_candidates(),
            b.rtcp_mux(),
            b.rtcp_rsize(),
            b.rtcp(),
            b.rtpmaps(),
            b.fmtps(),
            b.rtcp_fbs(),
        );
        let _ = (
            b.mid(),
            b.groups(),
            b.msids(),
            b.ssrcs(),
            b.ssrc_groups(),
            b.cryptos(),
            b.direction(),
            b.ptime(),
            b.maxptime(),
            b.sctp_port(),
            b.max_message_size(),
            b.attributes().count(),
        );
    }
    for i in 0..sdp.media().len() {
        let _ = (
            sdp.effective_connection(i),
            sdp.effective_fingerprints(i),
            sdp.effective_setup(i),
            sdp.effective_direction(i),
            sdp.effective_ice_ufrag(i),
            sdp.effective_ice_pwd(i),
        );
        let m = &mut sdp.media_mut()[i];
        let _ = (m.media_line(), m.port(), m.fmts());
        if let Some(p) = m.proto().to_core() {
            m.set_proto(p).unwrap();
        }
        m.remove_dtls();
        m.remove_ice();
        m.set_setup(Setup::Active).unwrap();
    }
    // After edits it still reads back the same.
    let t = sdp.to_string();
    assert_eq!(Sdp::parse(&t).unwrap().to_string(), t);
}

fn mutate(seed: &str, ops: &[(usize, u8, char)]) -> String {
    let mut v: Vec<char> = seed.chars().collect();
    for &(pos, op, c) in ops {
        let i = if v.is_empty() { 0 } else { pos % (v.len() + 1) };
        match op % 3 {
            0 => v.insert(i, c),
            1 if i < v.len() => {
                v.remove(i);
            }
            _ if i < v.len() => v[i] = c,
            _ => v.push(c),
        }
    }
    v.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn no_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn no_panic_on_sdp_like_text(s in "((v=0|[a-z]=[ -~]{0,12}|m=[a-z]{1,6} [$0-9/]{1,7} [A-Z/]{3,18} [0-9$a-z ]{0,9}|a=(fingerprint|setup|tls-id|candidate|ice-ufrag|ice-pwd|rtpmap|fmtp|rtcp-fb|rtcp|ssrc|group|crypto|ptime|msid|mid|sendonly|recvonly)(:[ -~]{0,40})?|c=IN IP[46] [$0-9.:]{0,15})(\r\n|\n|\r)?){0,14}") {
        exercise(&s);
    }

    #[test]
    fn no_panic_on_mutated_samples(
        which in 0usize..10,
        crlf_form in any::<bool>(),
        ops in proptest::collection::vec((any::<usize>(), any::<u8>(), prop_oneof![
            Just('\r'), Just('\n'), Just(' '), Just(':'), Just('='), Just('$'), Just('/'),
            Just('0'), Just('9'), Just('a'), Just('m'), Just('v'), Just('\0'), Just('é'), any::<char>()
        ]), 0..6),
    ) {
        let (_, text) = all_samples()[which];
        let seed = if crlf_form { crlf(text) } else { text.to_string() };
        exercise(&mutate(&seed, &ops));
    }
}
