//! `iq-interop replay --as mgc` against the real `iq-agw`.
//!
//! A trace of figure 6.2.10.5.1 (TS 23.334: Add T1 access DTLS-SRTP with `$` Local and
//! fingerprint, Add T2 core into that context, Modify T1 with the UE's answer, a Modify on an
//! unknown context (error 411), Subtract both) is recorded in the text trace format: the
//! requests as written here, the replies as one `iq-agw` run gave them to the test controller.
//! The recorded context and termination IDs are then renumbered (as if another gateway had
//! chosen them) and the replay runs against a second `iq-agw` with other port ranges: every
//! transaction must match, which needs the chosen IDs, ports and fingerprint learnt and
//! substituted. Then the recorded error code is altered: exactly that transaction is a
//! mismatch naming the error code, and the exit status is 1.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::mgc::TestMgc;
use common::{bin, Proc};
use iq_codec::model::{Message, MessageBody, Transaction};
use serde_json::Value;

const AGW_MID: &str = "<agw1.example.net>";
const FP: &str = "sha-256 12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0";

fn agw_config(controller: &str, access: (u16, u16), core: (u16, u16)) -> String {
    format!(
        r#"
[iq]
transport = "tcp"
controller = "{controller}"
controller_mid = "<alg-test.example.net>"
encoding = "text"
mid = "{AGW_MID}"

[reconnect]
initial_ms = 200
max_ms = 1000

[timers]
long_timer_ms = 1000

[[media.realm]]
name = "access"
address = "127.0.0.1"
ports = "{}-{}"

[[media.realm]]
name = "core"
address = "127.0.0.1"
ports = "{}-{}"
"#,
        access.0, access.1, core.0, core.1
    )
}

/// First value under `key` anywhere in `v`.
fn find<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(o) => o.get(key).or_else(|| o.values().find_map(|x| find(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find(x, key)),
        _ => None,
    }
}

/// Records the figure against one `iq-agw`; returns the trace text.
fn record() -> String {
    let mut mgc = TestMgc::start(AGW_MID);
    let _agw = Proc::daemon(
        "agw",
        &bin("iq-agw", "iq-agw"),
        &agw_config(&mgc.addr.to_string(), (47000, 47019), (47100, 47119)),
        &[],
    );
    mgc.wait_registered(Duration::from_secs(10));
    let mut trace = String::from("# figure 6.2.10.5.1, replies recorded from iq-agw\n\n");
    let mut id = 10u32;
    let mut t = 0.0f64;
    let mut step = |trace: &mut String, actions: String| -> Value {
        id += 1;
        t += 0.25;
        let result = mgc.request_text(&actions);
        let v = serde_json::to_value(&result).unwrap();
        trace.push_str(&format!(
            "# mgc->mg {t}\nMEGACO/3 [127.0.0.1]:2944\nTransaction = {id} {{ {actions} }}\n\n# mg->mgc {}\n{}\n",
            t + 0.01,
            common::mgc::reply_text(AGW_MID, id, result)
        ));
        v
    };
    let r1 = step(
        &mut trace,
        "Context = $ { Add = $ { Media { TerminationState { ipdc/realm = \"access\" }, \
         Stream = 1 { LocalControl { Mode = SendReceive, ipnapt/latch = ON }, Local {\nv=0\nc=IN IP4 $\n\
         m=audio $ UDP/TLS/RTP/SAVP 0\na=rtpmap:0 PCMU/8000\na=rtcp-mux\na=fingerprint:$\n} } }, \
         Events = 2001 { xdtls/estfail } } }"
            .into(),
    );
    let ctx = find(&r1, "context")
        .and_then(|c| find(c, "id").or(Some(c)))
        .unwrap()
        .clone();
    let ctx = ctx
        .as_u64()
        .unwrap_or_else(|| panic!("context {ctx} in {r1}"));
    let t1 = find(&r1, "termination_ids").unwrap()[0]
        .as_str()
        .unwrap()
        .to_string();
    let r2 = step(
        &mut trace,
        format!(
            "Context = {ctx} {{ Add = $ {{ Media {{ TerminationState {{ ipdc/realm = \"core\" }}, \
             Stream = 1 {{ LocalControl {{ Mode = SendReceive }}, Local {{\nv=0\nc=IN IP4 $\n\
             m=audio $ RTP/AVP 0\na=rtpmap:0 PCMU/8000\n}}, Remote {{\nv=0\nc=IN IP4 127.0.0.1\n\
             m=audio 47500 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n}} }} }} }} }}"
        ),
    );
    let t2 = find(&r2, "termination_ids").unwrap()[0]
        .as_str()
        .unwrap()
        .to_string();
    step(
        &mut trace,
        format!(
            "Context = {ctx} {{ Modify = {t1} {{ Media {{ Stream = 1 {{ Remote {{\nv=0\nc=IN IP4 127.0.0.1\n\
             m=audio 47600 UDP/TLS/RTP/SAVP 0\na=rtpmap:0 PCMU/8000\na=rtcp-mux\na=setup:active\na=fingerprint:{FP}\n}} }} }} }} }}"
        ),
    );
    let r4 = step(&mut trace, format!("Context = 4242 {{ Modify = {t1} }}"));
    assert_eq!(find(&r4, "code").and_then(Value::as_u64), Some(411), "{r4}");
    step(
        &mut trace,
        format!("Context = {ctx} {{ Subtract = {t1}, Subtract = {t2} }}"),
    );
    // As if another gateway had chosen the IDs.
    assert!(!trace.contains("ip/acc/t77") && !trace.contains("ip/core/t88"));
    trace
        .replace(
            &format!("Context = {ctx} "),
            &format!("Context = {} ", ctx + 40),
        )
        .replace(&t1, "ip/acc/t77")
        .replace(&t2, "ip/core/t88")
}

struct Run {
    code: Option<i32>,
    /// The `--pcap` recording of the replay.
    pcap: std::path::PathBuf,
    /// The port the replay listened on (the controller's side of the recording).
    port: u16,
    stdout: String,
    stderr: String,
    junit: String,
}

/// Replays `trace` against a fresh `iq-agw` (other port ranges than the recording).
/// `extra`: more arguments for `iq-interop replay`.
fn replay(trace: &str, name: &str, extra: &[&str]) -> Run {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("replay_agw");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.txt"));
    let junit = dir.join(format!("{name}.xml"));
    let pcap = dir.join(format!("{name}.pcap"));
    let _ = std::fs::remove_file(&pcap);
    std::fs::write(&path, trace).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args([
            "replay",
            "--as",
            "mgc",
            "--target",
            "127.0.0.1:0",
            "--listen",
            &listen,
        ])
        .args(["--fast", "--timeout", "10", "--junit"])
        .arg(&junit)
        .arg("--pcap")
        .arg(&pcap)
        .args(extra)
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err_pipe, &mut s).unwrap();
        s
    });
    let _agw = Proc::daemon(
        "agw",
        &bin("iq-agw", "iq-agw"),
        &agw_config(&listen, (47200, 47219), (47300, 47319)),
        &[],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("replay did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    let stderr = stderr.join().unwrap();
    eprintln!("{stderr}");
    Run {
        stderr,
        pcap,
        port,
        code: status.code(),
        stdout,
        junit: std::fs::read_to_string(&junit).unwrap_or_default(),
    }
}

#[test]
fn figure_replays_against_agw_and_altered_reply_is_caught() {
    let trace = record();
    let ok = replay(&trace, "fig-6.2.10.5.1", &["--quiet"]);
    assert_eq!(ok.code, Some(0), "report:\n{}\ntrace:\n{trace}", ok.stdout);
    assert_eq!(
        ok.stdout.matches("\nMATCH ").count() + usize::from(ok.stdout.starts_with("MATCH ")),
        5,
        "{}",
        ok.stdout
    );
    assert!(!ok.stdout.contains("MISMATCH"), "{}", ok.stdout);
    assert!(
        ok.junit.contains("tests=\"5\" failures=\"0\""),
        "{}",
        ok.junit
    );

    check_recording(&ok);
    // --quiet: no progress at all
    assert!(!ok.stderr.contains("replay: "), "{}", ok.stderr);

    // Alter the recorded error code of the Modify on the unknown context.
    assert_eq!(trace.matches("411").count(), 1, "{trace}");
    let altered = trace.replace("411", "412");
    let bad = replay(&altered, "altered", &["--progress-every", "2"]);
    assert_eq!(bad.code, Some(1), "{}", bad.stdout);
    let mism: Vec<&str> = bad
        .stdout
        .lines()
        .filter(|l| l.starts_with("MISMATCH"))
        .collect();
    assert_eq!(mism.len(), 1, "{}", bad.stdout);
    assert!(mism[0].starts_with("MISMATCH  T14 "), "{}", bad.stdout);
    assert!(
        bad.stdout.contains("error.code: recorded 412, live 411"),
        "{}",
        bad.stdout
    );
    assert_eq!(bad.stdout.matches("\nMATCH ").count(), 4, "{}", bad.stdout);
    // Progress (stderr is a pipe, not a terminal): every 2 transactions and at the end, with
    // the running count of mismatches (T14, the 4th, is the one); no terminal control codes.
    let progress: Vec<&str> = bad
        .stderr
        .lines()
        .filter(|l| l.starts_with("replay: "))
        .collect();
    assert_eq!(
        progress,
        [
            "replay: 2/5 transaction(s), 0 not matching",
            "replay: 4/5 transaction(s), 1 not matching",
            "replay: 5/5 transaction(s), 1 not matching",
        ],
        "{}",
        bad.stderr
    );
    assert!(!bad.stderr.contains('\r'), "{:?}", bad.stderr);
    assert!(!bad.stdout.contains("replay: "), "{}", bad.stdout);
    assert!(
        bad.junit.contains("tests=\"5\" failures=\"1\""),
        "{}",
        bad.junit
    );
}

/// The `--pcap` recording of a matching replay, read back by our trace reader and by tshark:
/// the gateway's registration, then the five replayed requests (Add, Add, Modify, Modify,
/// Subtract) each answered, all between the replay's listening port and the gateway.
fn check_recording(run: &Run) {
    assert!(
        run.stdout.contains(&format!("in {}", run.pcap.display())),
        "{}",
        run.stdout
    );
    let port = run.port.to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args(["replay", "--list", "--ports", &port])
        .arg(&run.pcap)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{listing}");
    let lines: Vec<Value> = listing
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours = format!("127.0.0.1:{port}");
    let mut requests = Vec::new(); // (direction, id, first command)
    let mut replies = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for l in &lines {
        assert_eq!(l["transport"], "tcp", "{l}");
        let (src, dst) = (l["src"].as_str().unwrap(), l["dst"].as_str().unwrap());
        assert!(src == ours || dst == ours, "{l}");
        assert!(
            src.starts_with("127.0.0.1:") && dst.starts_with("127.0.0.1:"),
            "{l}"
        );
        let message: Message = serde_json::from_value(l["message"].clone()).unwrap();
        let MessageBody::Transactions(ts) = message.body else {
            panic!("{l}")
        };
        for t in ts {
            match t {
                Transaction::Request(r) => {
                    ids.insert(r.id);
                    let cmd = r.actions[0].commands[0].command.name().to_string();
                    requests.push((l["direction"].as_str().unwrap().to_string(), r.id, cmd));
                }
                Transaction::Reply(r) => {
                    ids.insert(r.id);
                    replies.push((l["direction"].as_str().unwrap().to_string(), r.id));
                }
                _ => {}
            }
        }
    }
    let cmds: Vec<(&str, &str)> = requests
        .iter()
        .map(|(d, _, c)| (d.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        cmds,
        [
            ("mg->mgc", "ServiceChange"),
            ("mgc->mg", "Add"),
            ("mgc->mg", "Add"),
            ("mgc->mg", "Modify"),
            ("mgc->mg", "Modify"),
            ("mgc->mg", "Subtract"),
        ],
        "{listing}"
    );
    for (d, id, _) in &requests {
        let back = if d == "mg->mgc" { "mgc->mg" } else { "mg->mgc" };
        assert!(
            replies.iter().any(|(rd, rid)| rd == back && rid == id),
            "request {id} unanswered in the recording:\n{listing}"
        );
    }
    // tshark (a third-party reader) sees the same transactions.
    let tshark = Command::new("tshark").arg("--version").output();
    if !tshark.map(|o| o.status.success()).unwrap_or(false) {
        if std::env::var_os("CI").is_some() {
            panic!("replay_agw: tshark missing (scripts/test.sh installs it)");
        }
        eprintln!("\n*** SKIPPING the tshark check of replay --pcap: no tshark on PATH ***\n");
        return;
    }
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(&run.pcap)
        .args(["-d", &format!("tcp.port=={port},megaco")])
        .args(["-Y", "megaco", "-T", "fields", "-e", "megaco.transid"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: std::collections::BTreeSet<u32> = String::from_utf8_lossy(&out.stdout)
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(
        seen,
        ids,
        "tshark: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let messages = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(messages, lines.len(), "{listing}");
}
