//! An access (DTLS-SRTP) leg inside the engine answers ICE connectivity checks over real UDP:
//! aioice (third-party) sends Binding requests to the port the engine bound, with the ICE
//! credentials the engine returned in LocalInfo, and checks our answers itself; bad requests
//! stay unanswered and nothing STUN reaches the core leg.

use std::net::{Ipv4Addr, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_agw::media::api::{
    DtlsRole, IceCredentials, LegId, LegKind, LegSpec, MediaPlane, StreamMode,
};
use iq_agw::media::cert::Certificate;
use iq_agw::media::engine::{Engine, EngineConfig, RealmConfig};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn access_leg_answers_aioice_checks() {
    let Some(python) = oracle_python() else {
        if std::env::var_os("CI").is_some() {
            panic!("aioice oracle missing (IQ_ORACLE_PYTHON or target/oracle/venv) under CI");
        }
        eprintln!("SKIPPED engine_ice: no python with aioice (set IQ_ORACLE_PYTHON or run scripts/test.sh)");
        return;
    };
    let mut engine = Engine::new(EngineConfig {
        realms: vec![RealmConfig {
            name: "access".into(),
            address: Ipv4Addr::LOCALHOST.into(),
            advertise: None,
            ports: 24000..=24099,
        }],
        certificate: Arc::new(Certificate::generate().unwrap()),
        handshake_timeout: Duration::from_secs(10),
        consent_timeout: Duration::from_secs(30),
    })
    .unwrap();
    let core = UdpSocket::bind("127.0.0.1:0").unwrap();
    core.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let now = Instant::now();
    let access = LegSpec {
        context: 1,
        kind: LegKind::DtlsSrtp,
        realm: "access".into(),
        mode: StreamMode::SendRecv,
        remote: None,
        remote_fingerprints: vec![],
        dtls_role: Some(DtlsRole::Server),
        remote_ice: Some(IceCredentials {
            ufrag: "peerUF".into(),
            pwd: "peerPasswordOf22chars++".into(),
        }),
        latching: false,
    };
    let info = engine.open(LegId(1), &access, now).unwrap();
    let core_spec = LegSpec {
        kind: LegKind::Plain,
        remote: Some(core.local_addr().unwrap()),
        dtls_role: None,
        remote_ice: None,
        ..access.clone()
    };
    engine.open(LegId(2), &core_spec, now).unwrap();
    let ice = info.ice.clone().unwrap();

    // The python client blocks; run it off the runtime so the engine's task keeps going.
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/stun_aioice_client.py");
    let port = info.addr.port().to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args(["127.0.0.1", &port, &ice.ufrag, &ice.pwd, "peerUF"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "aioice client failed:\n{stdout}\n{stderr}"
    );
    let mut buf = [0u8; 2048];
    assert!(
        core.recv_from(&mut buf).is_err(),
        "STUN must not reach the core"
    );
    assert_eq!(
        engine.stats(LegId(1)).unwrap().packets_received,
        0,
        "checks are not media"
    );
}
