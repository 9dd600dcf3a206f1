//! The access leg against third-party DTLS-SRTP: OpenSSL 3 (pyOpenSSL, DTLS 1.2 with
//! use_srtp and the RFC 5705 exporter) for the handshake and libsrtp (pylibsrtp) for SRTP,
//! over real UDP on 127.0.0.1. The test shuttles datagrams between a std UDP socket and
//! the sans-IO leg. Certificates and their fingerprints come from the `openssl` CLI.
//!
//! Needs `openssl` on PATH and the oracle venv (`IQ_ORACLE_PYTHON`, default
//! `<workspace>/target/oracle/venv/bin/python`); fails when `CI` is set and they are missing.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_agw::media::api::{
    DtlsRole, Fingerprint, HashFunction, IceCredentials, LegId, LegKind, LegSpec, MediaEvent,
    StreamMode,
};
use iq_agw::media::cert::Certificate;
use iq_agw::media::leg::{
    AccessLeg, AccessLegConfig, Received, SRTP_AEAD_AES_128_GCM, SRTP_AEAD_AES_256_GCM,
    SRTP_AES128_CM_HMAC_SHA1_32, SRTP_AES128_CM_HMAC_SHA1_80,
};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python() -> Option<PathBuf> {
    let p = std::env::var_os("IQ_ORACLE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/oracle/venv/bin/python"));
    p.exists().then_some(p)
}

fn tools_or_skip() -> Option<PathBuf> {
    let openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    match (openssl, python()) {
        (true, Some(py)) => Some(py),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("openssl CLI or the oracle python venv is missing (CI is set)");
            }
            eprintln!("!!! SKIPPING dtls_openssl: openssl CLI or oracle venv missing !!!");
            None
        }
    }
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iq-agw-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn openssl(args: &[&str]) -> String {
    let o = Command::new("openssl").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A self-signed P-256 certificate made by openssl: (cert, key) paths. `sec1` writes the
/// key as `EC PRIVATE KEY` (ecparam), otherwise PKCS#8 (req -newkey).
fn openssl_cert(dir: &Path, name: &str, sec1: bool) -> (PathBuf, PathBuf) {
    let cert = dir.join(format!("{name}-cert.pem"));
    let key = dir.join(format!("{name}-key.pem"));
    let (c, k) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let subj = format!("/CN={name}");
    if sec1 {
        openssl(&[
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            k,
        ]);
        openssl(&[
            "req", "-new", "-x509", "-key", k, "-out", c, "-days", "2", "-subj", &subj,
        ]);
    } else {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            k,
            "-out",
            c,
            "-days",
            "2",
            "-subj",
            &subj,
        ]);
    }
    (cert, key)
}

/// `openssl x509 -fingerprint -sha256` turned into SDP text (`sha-256 AB:...`).
fn openssl_fingerprint(cert: &Path, hash: &str) -> String {
    let text = openssl(&[
        "x509",
        "-in",
        cert.to_str().unwrap(),
        "-noout",
        "-fingerprint",
        &format!("-{hash}"),
    ]);
    // e.g. "sha256 Fingerprint=AB:CD:..." (OpenSSL 3) or "SHA256 Fingerprint=..."
    let hex = text.trim().split_once('=').unwrap().1;
    let name = hash.replace("sha", "sha-");
    format!("{name} {hex}")
}

fn spec(role: DtlsRole, remote: SocketAddr, fp: Fingerprint) -> LegSpec {
    LegSpec {
        context: 7,
        kind: LegKind::DtlsSrtp,
        realm: "access".into(),
        mode: StreamMode::SendRecv,
        remote: Some(remote),
        remote_fingerprints: vec![fp],
        dtls_role: Some(role),
        remote_ice: None,
        latching: false,
    }
}

/// The python peer's plain packets (mirrors `packets()` in dtls_srtp_peer.py).
fn python_packets(count: usize, ssrc: u32) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for i in 0..count {
        let mut p = vec![0x80, 0];
        p.extend_from_slice(&(100 + i as u16).to_be_bytes());
        p.extend_from_slice(&(160 * i as u32).to_be_bytes());
        p.extend_from_slice(&ssrc.to_be_bytes());
        for _ in 0..8 {
            p.extend_from_slice(format!("py-rtp-{i}").as_bytes());
        }
        v.push(p);
    }
    let mut r = vec![0x80, 200, 0, 6];
    r.extend_from_slice(&ssrc.to_be_bytes());
    r.extend_from_slice(&[0x22; 20]);
    v.push(r);
    v
}

/// What the AGW sends: 5 RTP (PT 96) + 1 RTCP RR-ish SR.
fn agw_packets() -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for i in 0..5u16 {
        let mut p = vec![0x80, 96];
        p.extend_from_slice(&(4000 + i).to_be_bytes());
        p.extend_from_slice(&(90_000u32 + 3000 * i as u32).to_be_bytes());
        p.extend_from_slice(&0xA6A6_0001u32.to_be_bytes());
        p.extend((0..100u8).map(|b| b.wrapping_mul(i as u8 + 3)));
        v.push(p);
    }
    let mut r = vec![0x80, 200, 0, 6];
    r.extend_from_slice(&0xA6A6_0001u32.to_be_bytes());
    r.extend_from_slice(&[0x5a; 20]);
    v.push(r);
    v
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn profile_name(p: u16) -> &'static str {
    match p {
        SRTP_AES128_CM_HMAC_SHA1_80 => "SRTP_AES128_CM_SHA1_80",
        SRTP_AES128_CM_HMAC_SHA1_32 => "SRTP_AES128_CM_SHA1_32",
        SRTP_AEAD_AES_128_GCM => "SRTP_AEAD_AES_128_GCM",
        SRTP_AEAD_AES_256_GCM => "SRTP_AEAD_AES_256_GCM",
        _ => unreachable!(),
    }
}

/// One run: the AGW in `role` against the python/OpenSSL peer, with `profile`.
fn run(role: DtlsRole, profile: u16, sec1_agw_key: bool) {
    let Some(py) = tools_or_skip() else { return };
    let tag = format!("{role:?}-{profile}-{sec1_agw_key}");
    let dir = tmpdir(&tag);
    let (ue_cert, ue_key) = openssl_cert(&dir, "ue", false);
    let (agw_cert, agw_key) = openssl_cert(&dir, "agw", sec1_agw_key);
    let ue_fp_text = openssl_fingerprint(&ue_cert, "sha256");
    let agw_fp_text = openssl_fingerprint(&agw_cert, "sha256");
    let ue_fp = Fingerprint::parse_sdp(&ue_fp_text).expect("openssl fingerprint parses");

    let cert = Arc::new(Certificate::load(&agw_cert, &agw_key).expect("load openssl cert/key"));
    // Our own fingerprint equals what openssl computes for the same file.
    assert_eq!(
        cert.fingerprint(),
        &Fingerprint::parse_sdp(&agw_fp_text).unwrap()
    );

    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let local = sock.local_addr().unwrap();

    let mut child = Command::new(&py)
        .arg(workspace().join("agw/tests/peers/dtls_srtp_peer.py"))
        .args([
            "--role",
            if role == DtlsRole::Server {
                "client"
            } else {
                "server"
            },
            "--peer",
            &local.to_string(),
            "--cert",
            ue_cert.to_str().unwrap(),
            "--key",
            ue_key.to_str().unwrap(),
            "--profile",
            profile_name(profile),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let port: u16 = first
        .strip_prefix("port ")
        .unwrap_or_else(|| panic!("bad first line {first:?}"))
        .parse()
        .unwrap();
    let peer = SocketAddr::from(([127, 0, 0, 1], port));
    // Read the rest on a thread so the UDP loop never blocks on the pipe.
    let reader = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());

    let config = AccessLegConfig {
        leg: LegId(42),
        local_ice: IceCredentials {
            ufrag: "agw1".into(),
            pwd: "agwpassword0123456789abcd".into(),
        },
        certificate: cert.clone(),
        handshake_timeout: Duration::from_secs(10),
        consent_timeout: Duration::from_secs(30),
    };
    let mut leg = AccessLeg::with_profiles(
        config,
        &spec(role, peer, ue_fp.clone()),
        Instant::now(),
        &[profile],
    );

    let expected_in = python_packets(5, 0x5EED_0001);
    let mut received = Vec::new();
    let mut events = Vec::new();
    let mut sent_ours = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = vec![0u8; 2048];
    while Instant::now() < deadline {
        while let Some((to, d)) = leg.poll_transmit() {
            assert_eq!(to, peer);
            sock.send_to(&d, to).unwrap();
        }
        while let Some(e) = leg.poll_event() {
            events.push(e);
        }
        if received.len() == expected_in.len() && !sent_ours {
            let dest = leg.media_destination().expect("destination once connected");
            for p in agw_packets() {
                let mut b = p.clone();
                b.resize(p.len() + 64, 0);
                let n = leg.protect(&mut b, p.len()).unwrap();
                sock.send_to(&b[..n], dest).unwrap();
            }
            sent_ours = true;
        }
        if reader.is_finished() {
            break;
        }
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            if let Received::Media { len, .. } =
                leg.handle_datagram(Instant::now(), from, &mut buf[..n])
            {
                received.push(buf[..len].to_vec());
            }
        }
        if let Some(t) = leg.poll_timeout() {
            if Instant::now() >= t {
                leg.handle_timeout(Instant::now());
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let out = reader.join().unwrap();
    let field = |k: &str| {
        out.iter()
            .find_map(|l| l.strip_prefix(&format!("{k} ")).map(str::to_owned))
    };
    assert!(
        out.iter().any(|l| l == "done"),
        "python peer did not finish: {out:?}; events {events:?}"
    );
    assert!(
        events.contains(&MediaEvent::DtlsConnected {
            leg: LegId(42),
            profile
        }),
        "{events:?}"
    );
    assert!(!events
        .iter()
        .any(|e| matches!(e, MediaEvent::DtlsFailed { .. })));
    assert_eq!(field("version").as_deref(), Some("DTLSv1.2"));
    assert_eq!(field("profile").as_deref(), Some(profile_name(profile)));
    // OpenSSL saw the certificate whose fingerprint openssl x509 computed for our file.
    assert_eq!(
        field("peer_fp").and_then(|t| Fingerprint::parse_sdp(&t)),
        Fingerprint::parse_sdp(&agw_fp_text)
    );
    // We verified the openssl peer's certificate: the one openssl x509 fingerprinted.
    let peer_der = leg.peer_certificate().expect("peer cert");
    assert!(ue_fp.matches_der(peer_der));
    assert_eq!(Fingerprint::of_der(HashFunction::Sha256, peer_der), ue_fp);
    // libsrtp -> leg: byte-identical plain packets.
    assert_eq!(received, expected_in);
    // leg -> libsrtp: what libsrtp unprotected is what we protected.
    let got: Vec<String> = out
        .iter()
        .filter_map(|l| l.strip_prefix("recv ").map(str::to_owned))
        .collect();
    let want: Vec<String> = agw_packets().iter().map(|p| hex(p)).collect();
    assert_eq!(got, want);
    let s = leg.stats();
    assert_eq!((s.packets_received, s.packets_sent), (6, 6));
    assert_eq!((s.srtp_auth_failures, s.srtp_replays), (0, 0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn agw_server_vs_openssl_client_sha1_80() {
    run(DtlsRole::Server, SRTP_AES128_CM_HMAC_SHA1_80, false);
}

#[test]
fn agw_client_vs_openssl_server_sha1_80() {
    run(DtlsRole::Client, SRTP_AES128_CM_HMAC_SHA1_80, true);
}

#[test]
fn agw_server_vs_openssl_client_aead_aes_128_gcm() {
    run(DtlsRole::Server, SRTP_AEAD_AES_128_GCM, true);
}

#[test]
fn agw_client_vs_openssl_server_aead_aes_256_gcm() {
    run(DtlsRole::Client, SRTP_AEAD_AES_256_GCM, false);
}

#[test]
fn agw_server_vs_openssl_client_sha1_32() {
    run(DtlsRole::Server, SRTP_AES128_CM_HMAC_SHA1_32, false);
}
