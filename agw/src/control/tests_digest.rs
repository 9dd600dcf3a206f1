//! The example requests of the spec digest (iq-dtls-digest.md 3.2 and 3.3), verbatim.

/// Digest 3.2.2.
pub(super) const F1_ADD_T1: &str = r#"MEGACO/3 <alg1.example.net>:2944
Transaction = 1001 {
  Context = $ {
    Add = $ {
      Media {
        TerminationState { ipdc/realm = "access" },
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
"#;

/// Digest 3.2.4.
pub(super) const F1_ADD_T2: &str = r#"MEGACO/3 <alg1.example.net>:2944
Transaction = 1002 {
  Context = 4711 {
    Add = $ {
      Media {
        TerminationState { ipdc/realm = "core" },
        Stream = 1 {
          LocalControl { Mode = SendReceive },
          Local {
v=0
c=IN IP4 $
m=audio $ RTP/AVPF 111 0
a=rtpmap:111 opus/48000/2
          }
        }
      },
      Events = 2002 { hangterm/thb { timerx = 60 } }
    }
  }
}
"#;

/// Digest 3.2.6.
pub(super) const F1_MOD_T2: &str = r#"MEGACO/3 <alg1.example.net>:2944
Transaction = 1003 {
  Context = 4711 {
    Modify = ip/core/t1002 {
      Media {
        Stream = 1 {
          Local {
v=0
c=IN IP4 10.0.0.10
m=audio 20000 RTP/AVPF 111
a=rtpmap:111 opus/48000/2
          },
          Remote {
v=0
c=IN IP4 10.0.1.50
m=audio 30000 RTP/AVPF 111
a=rtpmap:111 opus/48000/2
          }
        }
      }
    }
  }
}
"#;

/// Digest 3.2.10.
pub(super) const F1_SUB: &str = r#"MEGACO/3 <alg1.example.net>:2944
Transaction = 1004 {
  Context = 4711 {
    Subtract = ip/acc/t1001 { Audit { } },
    Subtract = ip/core/t1002 { Audit { } }
  }
}
"#;

/// Digest 3.3.2.
pub(super) const F2_ADD_T2: &str = r#"MEGACO/3 <alg1.example.net>:2944
Transaction = 2001 {
  Context = $ {
    Add = $ {
      Media {
        TerminationState { ipdc/realm = "core" },
        Stream = 1 {
          LocalControl { Mode = SendReceive },
          Local {
v=0
c=IN IP4 $
m=audio $ RTP/AVPF 111 0
a=rtpmap:111 opus/48000/2
          },
          Remote {
v=0
c=IN IP4 10.0.1.50
m=audio 30000 RTP/AVPF 111 0
a=rtpmap:111 opus/48000/2
          }
        }
      },
      Events = 3001 { hangterm/thb { timerx = 60 } }
    }
  }
}
"#;

/// Digest 3.3.4.
pub(super) const F2_ADD_T1: &str = r#"MEGACO/3 <alg1.example.net>:2944
Transaction = 2002 {
  Context = 4712 {
    Add = $ {
      Media {
        TerminationState { ipdc/realm = "access" },
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
          }
        }
      },
      Events = 3002 { hangterm/thb { timerx = 60 }, xdtls/estfail }
    }
  }
}
"#;

/// Digest 3.3.6.
pub(super) const F2_MOD_T1: &str = r#"MEGACO/3 <alg1.example.net>:2944
Transaction = 2003 {
  Context = 4712 {
    Modify = ip/acc/t2002 {
      Media {
        Stream = 1 {
          Local {
v=0
c=IN IP4 203.0.113.10
m=audio 40002 UDP/TLS/RTP/SAVPF 111
a=rtpmap:111 opus/48000/2
a=rtcp-mux
          },
          Remote {
v=0
c=IN IP4 198.51.100.21
m=audio 50002 UDP/TLS/RTP/SAVPF 111
a=rtpmap:111 opus/48000/2
a=rtcp-mux
a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00
a=ice-ufrag:Ub2c
a=ice-pwd:ubPasswordUbPassword333
a=candidate:1 1 udp 2122260223 198.51.100.21 50002 typ host
          }
        }
      }
    }
  }
}
"#;
