//! Our ICE-lite responder against aioice (third-party STUN/ICE in Python): aioice builds the
//! Binding requests (USERNAME, PRIORITY, ICE-CONTROLLING/CONTROLLED, USE-CANDIDATE,
//! MESSAGE-INTEGRITY, FINGERPRINT) and sends them over real UDP; our answers are checked by
//! aioice's parser and integrity/fingerprint checks; bad requests must go unanswered.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use iq_agw::media::api::IceCredentials;
use iq_agw::media::stun::{answer_binding, BindingCheck, StunError};

fn oracle_python() -> Option<PathBuf> {
    let path = match std::env::var_os("IQ_ORACLE_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/oracle/venv/bin/python"),
    };
    let ok = Command::new(&path)
        .args(["-c", "import aioice.stun"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    ok.then_some(path)
}

fn run_against_aioice(bind: &str) {
    let Some(python) = oracle_python() else {
        if std::env::var_os("CI").is_some() {
            panic!("aioice oracle missing (IQ_ORACLE_PYTHON or target/oracle/venv) under CI");
        }
        eprintln!("SKIPPED stun_aioice: no python with aioice (set IQ_ORACLE_PYTHON or run scripts/test.sh)");
        return;
    };
    let local = IceCredentials {
        ufrag: "AGWu".into(),
        pwd: "agwPasswordOf24Chars+/xy".into(),
    };
    let peer = IceCredentials {
        ufrag: "peerUF".into(),
        pwd: "unused-by-the-responder".into(),
    };
    let socket = UdpSocket::bind(bind).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let addr = socket.local_addr().unwrap();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let responder = std::thread::spawn(move || {
        let mut results: Vec<Result<BindingCheck, StunError>> = Vec::new();
        let mut buf = [0u8; 2048];
        let mut out = Vec::new();
        while stop_rx.try_recv().is_err() {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                continue;
            };
            let r = answer_binding(&buf[..n], from, &local, Some(&peer), &mut out);
            if r.is_ok() {
                socket.send_to(&out, from).unwrap();
            }
            results.push(r);
        }
        results
    });
    let host = addr.ip().to_string();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/stun_aioice_client.py");
    let output = Command::new(python)
        .arg(script)
        .args([
            &host,
            &addr.port().to_string(),
            "AGWu",
            "agwPasswordOf24Chars+/xy",
            "peerUF",
        ])
        .output()
        .unwrap();
    stop_tx.send(()).unwrap();
    let results = responder.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "aioice client failed:\n{stdout}\n{stderr}"
    );

    let ok = |use_candidate| {
        Ok(BindingCheck {
            use_candidate,
            remote_ufrag: "peerUF".into(),
        })
    };
    assert_eq!(
        results,
        vec![
            ok(true),
            ok(false),
            Err(StunError::BadIntegrity),
            Err(StunError::WrongUsername),
            Err(StunError::WrongUsername),
            Err(StunError::BadFingerprint),
            ok(true),
        ],
        "aioice said:\n{stdout}"
    );
}

#[test]
fn aioice_requests_ipv4() {
    run_against_aioice("127.0.0.1:0");
}

#[test]
fn aioice_requests_ipv6() {
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("SKIPPED aioice_requests_ipv6: no IPv6 loopback");
        return;
    }
    run_against_aioice("[::1]:0");
}
