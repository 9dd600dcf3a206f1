//! SDP samples shared by tests/sdp.rs and tests/sdp_oracle.rs (which include this file with
//! `#[path]`); as a test target of its own it has no tests. Written with LF; `crlf()` makes the
//! SIP form.
#![allow(dead_code)]

/// LF -> CRLF.
pub fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

pub const CHROME_FP: &str = "D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F";
pub const FIREFOX_FP: &str = "3D:8A:55:0B:1C:9E:F2:47:A6:70:D4:2B:E9:13:C8:5F:91:0A:B7:36:EC:42:D9:1F:68:A5:03:7B:CE:29:F4:80";
pub const UE_FP: &str = "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00";
pub const AGW_FP: &str = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";

/// A Chrome-style WebRTC offer: BUNDLE of audio, video and a data channel; ICE candidates
/// (host udp, srflx, host tcp), per-section fingerprints, rtcp-fb, ssrc and ssrc-group lines.
pub const CHROME_OFFER: &str = "v=0
o=- 4611731400430051336 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS 6f1d2e3c-stream
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 network-id 1 network-cost 10
a=candidate:434256498 1 udp 1686052607 203.0.113.77 46243 typ srflx raddr 192.168.0.196 rport 46243 generation 0 network-id 1 network-cost 10
a=candidate:3397597051 1 tcp 1518280447 192.168.0.196 9 typ host tcptype active generation 0 network-id 1 network-cost 10
a=ice-ufrag:EsAw
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
a=ice-options:trickle
a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:6f1d2e3c-stream 9a8b7c6d-audio
a=rtcp-mux
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:3570614608 cname:4TOk42mSjXCkVIa6
a=ssrc:3570614608 msid:6f1d2e3c-stream 9a8b7c6d-audio
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:EsAw
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
a=ice-options:trickle
a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
a=setup:actpass
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:6f1d2e3c-stream 0f1e2d3c-video
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:102 H264/90000
a=rtcp-fb:102 goog-remb
a=rtcp-fb:102 transport-cc
a=rtcp-fb:102 ccm fir
a=rtcp-fb:102 nack
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=ssrc-group:FID 2231627014 632943048
a=ssrc:2231627014 cname:4TOk42mSjXCkVIa6
a=ssrc:2231627014 msid:6f1d2e3c-stream 0f1e2d3c-video
a=ssrc:632943048 cname:4TOk42mSjXCkVIa6
a=ssrc:632943048 msid:6f1d2e3c-stream 0f1e2d3c-video
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:EsAw
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
a=ice-options:trickle
a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
a=setup:actpass
a=mid:2
a=sctp-port:5000
a=max-message-size:262144
";

/// A Firefox-style offer: session-level fingerprint, direction and ice-options; media-level
/// direction overriding (video recvonly); candidates and end-of-candidates.
pub const FIREFOX_OFFER: &str = "v=0
o=mozilla...THIS_IS_SDPARTA-99.0 7518389937458012354 0 IN IP4 0.0.0.0
s=-
t=0 0
a=sendrecv
a=fingerprint:sha-256 3D:8A:55:0B:1C:9E:F2:47:A6:70:D4:2B:E9:13:C8:5F:91:0A:B7:36:EC:42:D9:1F:68:A5:03:7B:CE:29:F4:80
a=group:BUNDLE 0 1
a=ice-options:trickle
a=msid-semantic:WMS *
m=audio 54321 UDP/TLS/RTP/SAVPF 109 9 0 8 101
c=IN IP4 198.51.100.33
a=candidate:0 1 UDP 2122252543 198.51.100.33 54321 typ host
a=candidate:1 1 TCP 2105524479 198.51.100.33 9 typ host tcptype active
a=sendrecv
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
a=fmtp:101 0-15
a=ice-pwd:e2d3f8a19b0c4d5e6f708192a3b4c5d6
a=ice-ufrag:8a1b2c3d
a=mid:0
a=msid:{5e0c8a7b-1d2f-4e3a-9b8c-7d6e5f4a3b2c} {a1b2c3d4-e5f6-4789-8abc-def012345678}
a=rtcp-mux
a=rtpmap:109 opus/48000/2
a=rtpmap:9 G722/8000/1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=setup:actpass
a=ssrc:1408245789 cname:{0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5}
m=video 54321 UDP/TLS/RTP/SAVPF 120 124
c=IN IP4 198.51.100.33
a=recvonly
a=fmtp:120 max-fs=12288;max-fr=60
a=fmtp:124 apt=120
a=ice-pwd:e2d3f8a19b0c4d5e6f708192a3b4c5d6
a=ice-ufrag:8a1b2c3d
a=mid:1
a=rtcp-fb:120 nack
a=rtcp-fb:120 nack pli
a=rtcp-fb:120 ccm fir
a=rtcp-fb:120 goog-remb
a=rtcp-fb:120 transport-cc
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:120 VP8/90000
a=rtpmap:124 rtx/90000
a=setup:actpass
a=ssrc:2996331216 cname:{0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5}
";

/// A UE/WIC offer as the IMS-ALG receives it over SIP (digest 3.2.1 step 1), with o=/s=/t=,
/// DTLS (fingerprint, actpass, tls-id) and ICE.
pub const UE_OFFER: &str = "v=0
o=ue 2890844526 1 IN IP4 198.51.100.20
s=-
c=IN IP4 198.51.100.20
t=0 0
a=ice-options:trickle
m=audio 50000 UDP/TLS/RTP/SAVPF 111 0
a=rtpmap:111 opus/48000/2
a=rtpmap:0 PCMU/8000
a=fmtp:111 minptime=10;useinbandfec=1
a=rtcp-mux
a=rtcp-fb:111 transport-cc
a=ptime:20
a=sendrecv
a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00
a=setup:actpass
a=tls-id:ueTlsId0123456789abcdef
a=ice-ufrag:Ue7f
a=ice-pwd:uePasswordUePassword22
a=candidate:1 1 udp 2122260223 198.51.100.20 50000 typ host
a=end-of-candidates
";

/// Digest 3.2.2: Local of the ADD request for T1 (CHOOSE everywhere the AGW fills in).
pub const LOCAL_T1_REQUEST: &str = "v=0
c=IN IP4 $
m=audio $ UDP/TLS/RTP/SAVPF 111 0
a=rtpmap:111 opus/48000/2
a=rtcp-mux
a=fingerprint:$
a=ice-ufrag:$
a=ice-pwd:$
";

/// Digest 3.2.2: Remote of the ADD request for T1 (the UE's SDP as the AGW gets it).
pub const REMOTE_T1_REQUEST: &str = "v=0
c=IN IP4 198.51.100.20
m=audio 50000 UDP/TLS/RTP/SAVPF 111 0
a=rtpmap:111 opus/48000/2
a=rtcp-mux
a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00
a=ice-ufrag:Ue7f
a=ice-pwd:uePasswordUePassword22
a=candidate:1 1 udp 2122260223 198.51.100.20 50000 typ host
";

/// Digest 3.2.3: Local of the ADD reply for T1 (the AGW filled in the `$`).
pub const LOCAL_T1_REPLY: &str = "v=0
c=IN IP4 203.0.113.10
m=audio 40000 UDP/TLS/RTP/SAVPF 111 0
a=rtpmap:111 opus/48000/2
a=rtcp-mux
a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99
a=ice-ufrag:Agw1
a=ice-pwd:agwPasswordAgwPassword1
a=ice-lite
";

/// Digest 3.2.4: Local of the ADD request for T2 (core side).
pub const LOCAL_T2_REQUEST: &str = "v=0
c=IN IP4 $
m=audio $ RTP/AVPF 111 0
a=rtpmap:111 opus/48000/2
";

/// Digest 3.2.6: Remote of the MOD request for T2 (the core answer).
pub const REMOTE_T2_MOD: &str = "v=0
c=IN IP4 10.0.1.50
m=audio 30000 RTP/AVPF 111
a=rtpmap:111 opus/48000/2
";

/// Digest 3.2.1 step 7: the core's SDP answer as the ALG receives it over SIP.
pub const CORE_ANSWER: &str = "v=0
o=- 20518 0 IN IP4 10.0.1.50
s=-
t=0 0
c=IN IP4 10.0.1.50
m=audio 30000 RTP/AVPF 111
a=rtpmap:111 opus/48000/2
";

/// Digest 3.2.8: the SDP answer the ALG sends to the UE.
pub const UE_ANSWER: &str = "v=0
o=- 20518 0 IN IP4 203.0.113.10
s=-
t=0 0
c=IN IP4 203.0.113.10
m=audio 40000 UDP/TLS/RTP/SAVPF 111
a=rtpmap:111 opus/48000/2
a=rtcp-mux
a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99
a=setup:active
a=tls-id:alg0b7d3c1e9f4a2b6c8d0e1f2
a=ice-lite
a=ice-ufrag:Agw1
a=ice-pwd:agwPasswordAgwPassword1
a=candidate:1 1 udp 2130706431 203.0.113.10 40000 typ host
";

/// Digest 3.2.2: the whole ADD request (H.248 text) carrying LOCAL_T1_REQUEST and
/// REMOTE_T1_REQUEST.
pub const ADD_T1_REQUEST: &str = "MEGACO/3 <alg1.example.net>:2944
Transaction = 1001 {
  Context = $ {
    Add = $ {
      Media {
        TerminationState { ipdc/realm = \"access\" },
        Stream = 1 {
          LocalControl { Mode = SendReceive, ipnapt/latch = ON },
          Local {
v=0
c=IN IP4 $
m=audio $ UDP/TLS/RTP/SAVPF 111 0
a=rtpmap:111 opus/48000/2
a=rtcp-mux
a=fingerprint:$
a=ice-ufrag:$
a=ice-pwd:$
          },
          Remote {
v=0
c=IN IP4 198.51.100.20
m=audio 50000 UDP/TLS/RTP/SAVPF 111 0
a=rtpmap:111 opus/48000/2
a=rtcp-mux
a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00
a=ice-ufrag:Ue7f
a=ice-pwd:uePasswordUePassword22
a=candidate:1 1 udp 2122260223 198.51.100.20 50000 typ host
          }
        }
      },
      Events = 2001 { hangterm/thb { timerx = 60 }, xdtls/estfail },
      Signals { xdtls/estab }
    }
  }
}
";

/// Digest 3.2.3: the ADD reply carrying LOCAL_T1_REPLY.
pub const ADD_T1_REPLY: &str = "MEGACO/3 <agw1.example.net>:2944
Reply = 1001 {
  Context = 4711 {
    Add = ip/acc/t1001 {
      Media {
        Stream = 1 {
          Local {
v=0
c=IN IP4 203.0.113.10
m=audio 40000 UDP/TLS/RTP/SAVPF 111 0
a=rtpmap:111 opus/48000/2
a=rtcp-mux
a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99
a=ice-ufrag:Agw1
a=ice-pwd:agwPasswordAgwPassword1
a=ice-lite
          }
        }
      }
    }
  }
}
";
