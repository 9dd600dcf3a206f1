//! `iq-interop replay --as mg`: we play the recorded gateway against a controller under test
//! (here the tests' own `TestMgc`, iq-link's controller association). The trace is written
//! here by hand: the gateway's registration, an Add with `$` answered with context 7,
//! termination `ip/acc/t9` and a Local SDP on port 40000, then a Subtract of those. The
//! controller must see exactly those recorded replies (values taken from the trace text, not
//! from the tool); sending the recorded requests gives two matches and exit 0; sending a Modify
//! where the Subtract was recorded is one mismatch naming the command, and exit 1.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::mgc::TestMgc;
use iq_codec::model::TransactionResult;
use serde_json::Value;

const GW: &str = "<rec-gw.example.net>";

const ADD: &str =
    "Context = $ { Add = $ { Media { Stream = 1 { LocalControl { Mode = SendReceive }, \
    Local {\nv=0\nc=IN IP4 $\nm=audio $ RTP/AVP 0\n} } } } }";

fn trace() -> String {
    format!(
        "# written for replay_mg\n\n\
         # mg->mgc 1.0\nMEGACO/3 {GW}\nTransaction = 1 {{ Context = - {{ ServiceChange = ROOT {{ Services {{ Method = Restart, Reason = 901, Profile = threegiq/1 }} }} }} }}\n\n\
         # mgc->mg 1.01\nMEGACO/3 <alg-test.example.net>\nReply = 1 {{ Context = - {{ ServiceChange = ROOT {{ Services {{ Profile = threegiq/1 }} }} }} }}\n\n\
         # mgc->mg 2.0\nMEGACO/3 <alg-test.example.net>\nTransaction = 5 {{ {ADD} }}\n\n\
         # mg->mgc 2.01\nMEGACO/3 {GW}\nReply = 5 {{ Context = 7 {{ Add = ip/acc/t9 {{ Media {{ Stream = 1 {{ Local {{\nv=0\nc=IN IP4 192.0.2.10\nm=audio 40000 RTP/AVP 0\n}} }} }} }} }} }}\n\n\
         # mgc->mg 3.0\nMEGACO/3 <alg-test.example.net>\nTransaction = 6 {{ Context = 7 {{ Subtract = ip/acc/t9 }} }}\n\n\
         # mg->mgc 3.01\nMEGACO/3 {GW}\nReply = 6 {{ Context = 7 {{ Subtract = ip/acc/t9 }} }}\n"
    )
}

fn find<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(o) => o.get(key).or_else(|| o.values().find_map(|x| find(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find(x, key)),
        _ => None,
    }
}

/// Runs the replay against a fresh `TestMgc`; `second` is the controller's second request.
fn run(name: &str, second: &str) -> (Option<i32>, String, Vec<TransactionResult>) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("replay_mg");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.txt"));
    std::fs::write(&path, trace()).unwrap();
    let mut mgc = TestMgc::start(GW);
    let mut child = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args([
            "replay",
            "--as",
            "mg",
            "--quiet",
            "--timeout",
            "3",
            "--target",
        ])
        .arg(mgc.addr.to_string())
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    mgc.wait_registered(Duration::from_secs(10));
    let replies = vec![mgc.request_text(ADD), mgc.request_text(second)];
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("replay --as mg did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    (status.code(), stdout, replies)
}

#[test]
fn answers_as_recorded_and_catches_a_different_request() {
    let (code, out, replies) = run("same", "Context = 7 { Subtract = ip/acc/t9 }");
    // the controller got the recorded gateway's choices
    let add = serde_json::to_value(&replies[0]).unwrap();
    let text = add.to_string();
    assert_eq!(
        find(&add, "context")
            .and_then(|c| find(c, "id").or(Some(c)))
            .and_then(Value::as_u64),
        Some(7),
        "{add}"
    );
    assert!(text.contains("ip/acc/t9"), "{add}");
    assert!(
        text.contains("m=audio 40000") || text.contains("40000"),
        "{add}"
    );
    assert!(text.contains("192.0.2.10"), "{add}");
    let sub = serde_json::to_value(&replies[1]).unwrap().to_string();
    assert!(
        sub.contains("ip/acc/t9") && !sub.contains("\"code\""),
        "{sub}"
    );
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("MATCH ")).count(),
        2,
        "{out}"
    );
    assert!(
        out.contains("registered with <alg-test.example.net>"),
        "{out}"
    );

    let (code, out, _) = run("different", "Context = 7 { Modify = ip/acc/t9 }");
    assert_eq!(code, Some(1), "{out}");
    let mism: Vec<&str> = out.lines().filter(|l| l.starts_with("MISMATCH")).collect();
    assert_eq!(mism.len(), 1, "{out}");
    assert!(mism[0].starts_with("MISMATCH  T6 "), "{out}");
    assert!(
        out.contains("command.subtract: missing in the live message")
            && out.contains("command.modify: extra in the live message"),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with("MATCH ")).count(),
        1,
        "{out}"
    );
}
