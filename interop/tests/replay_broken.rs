//! Deliberately broken gateways caught by `iq-interop replay --as mgc`, each with one precise
//! difference. The gateway is a real `iq-agw` behind a mutating relay written here (TCP/TPKT,
//! text): the relay passes everything through, except that it alters the AGW's reply to one
//! chosen command:
//!
//! - wrong error code: the 411 of the Modify on an unknown context becomes 412;
//! - dropped descriptor: the Local descriptor of the Add reply is removed;
//! - late answer: the Subtract reply is held 1500 ms (the replay runs with
//!   `--max-reply-ms 700`).
//!
//! The trace is recorded here against another `iq-agw` with the tests' controller. A replay
//! through the relay with no alteration matches everywhere (so the relay itself changes
//! nothing); each alteration gives exactly one MISMATCH, on the transaction it touched, with
//! exactly one difference line whose path is computed here from the recorded reply's model.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::mgc::TestMgc;
use common::{bin, Proc};
use iq_codec::model::{Message, MessageBody, Transaction};
use serde_json::Value;

const AGW_MID: &str = "<agw-broken.example.net>";

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

/// Path (dot-separated) to the first object key `key` in `v`, depth first.
fn path_to(v: &Value, key: &str) -> Option<String> {
    match v {
        Value::Object(o) => {
            if o.contains_key(key) {
                return Some(key.to_string());
            }
            o.iter()
                .find_map(|(k, x)| path_to(x, key).map(|p| format!("{k}.{p}")))
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| path_to(x, key).map(|p| format!("{i}.{p}"))),
        _ => None,
    }
}

fn find<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(o) => o.get(key).or_else(|| o.values().find_map(|x| find(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find(x, key)),
        _ => None,
    }
}

/// The recorded trace and the recorded replies (Add, Modify on an unknown context, Subtract).
struct Recording {
    trace: String,
    add: Value,
    modify: Value,
}

fn record() -> Recording {
    let mut mgc = TestMgc::start(AGW_MID);
    let _agw = Proc::daemon(
        "agw",
        &bin("iq-agw", "iq-agw"),
        &agw_config(&mgc.addr.to_string(), (47400, 47419), (47500, 47519)),
        &[],
    );
    mgc.wait_registered(Duration::from_secs(10));
    let mut trace = String::from("# replay_broken: replies recorded from iq-agw\n\n");
    let mut id = 30u32;
    let mut t = 0.0f64;
    let mut step = |trace: &mut String, actions: String| -> Value {
        id += 1;
        t += 0.1;
        let result = mgc.request_text(&actions);
        let v = serde_json::to_value(&result).unwrap();
        trace.push_str(&format!(
            "# mgc->mg {t}\nMEGACO/3 [127.0.0.1]:2944\nTransaction = {id} {{ {actions} }}\n\n# mg->mgc {}\n{}\n",
            t + 0.005,
            common::mgc::reply_text(AGW_MID, id, result)
        ));
        v
    };
    let add = step(
        &mut trace,
        "Context = $ { Add = $ { Media { TerminationState { ipdc/realm = \"access\" }, \
         Stream = 1 { LocalControl { Mode = SendReceive }, Local {\nv=0\nc=IN IP4 $\n\
         m=audio $ RTP/AVP 0\na=rtpmap:0 PCMU/8000\n} } } } }"
            .into(),
    );
    let ctx = find(&add, "context")
        .and_then(|c| find(c, "id").or(Some(c)))
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no context in {add}"));
    let t1 = find(&add, "termination_ids").unwrap()[0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(path_to(&add, "local").is_some(), "no Local in {add}");
    let modify = step(&mut trace, format!("Context = 4242 {{ Modify = {t1} }}"));
    assert_eq!(
        find(&modify, "code").and_then(Value::as_u64),
        Some(411),
        "{modify}"
    );
    step(&mut trace, format!("Context = {ctx} {{ Subtract = {t1} }}"));
    Recording { trace, add, modify }
}

#[derive(Clone, Copy, Debug)]
enum Break {
    Nothing,
    ErrorCode,
    DropLocal,
    Late,
}

const LATE_MS: u64 = 1500;

/// Reads one TPKT-framed message (None at the end of the stream).
fn read_tpkt(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).ok()?;
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let mut body = vec![0u8; len.checked_sub(4)?];
    s.read_exact(&mut body).ok()?;
    Some(body)
}

fn write_tpkt(s: &mut TcpStream, body: &[u8]) -> bool {
    let len = (body.len() + 4) as u16;
    let mut m = vec![3, 0];
    m.extend_from_slice(&len.to_be_bytes());
    m.extend_from_slice(body);
    s.write_all(&m).is_ok()
}

/// Removes every `local` key in `v`.
fn drop_local(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.remove("local");
            o.values_mut().for_each(drop_local);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_local),
        _ => {}
    }
}

/// Alters a message from the AGW; returns it and how long to hold it.
fn mutate(data: Vec<u8>, how: Break) -> (Vec<u8>, Duration) {
    let Ok(msg) = iq_codec::text::decode(&data) else {
        return (data, Duration::ZERO);
    };
    let MessageBody::Transactions(ts) = &msg.body else {
        return (data, Duration::ZERO);
    };
    let mut v = serde_json::to_value(&msg).unwrap();
    let replies: Vec<Value> = ts
        .iter()
        .filter_map(|t| match t {
            Transaction::Reply(r) => Some(serde_json::to_value(&r.result).unwrap()),
            _ => None,
        })
        .collect();
    let has = |k: &str| replies.iter().any(|r| find(r, k).is_some());
    let mut hold = Duration::ZERO;
    match how {
        Break::Nothing => return (data, hold),
        Break::ErrorCode if has("code") => {
            let s = v.to_string().replace("\"code\":411", "\"code\":412");
            v = serde_json::from_str(&s).unwrap();
        }
        Break::DropLocal if has("add") && has("local") => drop_local(&mut v),
        Break::Late if has("subtract") => hold = Duration::from_millis(LATE_MS),
        _ => return (data, hold),
    }
    let m: Message = serde_json::from_value(v).unwrap();
    (
        iq_codec::text::encode(&m, iq_codec::text::Style::Pretty).into_bytes(),
        hold,
    )
}

/// Relay: the AGW connects here, we connect to `replay`; AGW -> replay messages are altered.
fn start_relay(replay: SocketAddr, how: Break) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for agw in l.incoming() {
            let Ok(mut agw) = agw else { continue };
            let mut up = loop {
                match TcpStream::connect(replay) {
                    Ok(s) => break s,
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            };
            let (mut agw2, mut up2) = (agw.try_clone().unwrap(), up.try_clone().unwrap());
            std::thread::spawn(move || {
                while let Some(m) = read_tpkt(&mut up2) {
                    if !write_tpkt(&mut agw2, &m) {
                        break;
                    }
                }
            });
            std::thread::spawn(move || {
                while let Some(m) = read_tpkt(&mut agw) {
                    let (m, hold) = mutate(m, how);
                    std::thread::sleep(hold);
                    if !write_tpkt(&mut up, &m) {
                        break;
                    }
                }
            });
        }
    });
    addr
}

struct Run {
    code: Option<i32>,
    stdout: String,
}

fn replay(trace: &str, how: Break, extra: &[&str]) -> Run {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("replay_broken");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{how:?}.txt"));
    std::fs::write(&path, trace).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args([
            "replay",
            "--as",
            "mgc",
            "--target",
            "127.0.0.1:0",
            "--quiet",
        ])
        .args(["--fast", "--timeout", "10", "--listen"])
        .arg(listen.to_string())
        .args(extra)
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let relay = start_relay(listen, how);
    let _agw = Proc::daemon(
        "agw",
        &bin("iq-agw", "iq-agw"),
        &agw_config(&relay.to_string(), (47600, 47619), (47700, 47719)),
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
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    println!("--- {how:?}\n{stdout}");
    Run {
        code: status.code(),
        stdout,
    }
}

/// The MISMATCH header lines and the difference lines under them.
fn mismatches(out: &str) -> (Vec<&str>, Vec<&str>) {
    let heads = out
        .lines()
        .filter(|l| l.starts_with("MISMATCH") || l.starts_with("FAILED"))
        .collect();
    let diffs = out.lines().filter(|l| l.starts_with("    ")).collect();
    (heads, diffs)
}

#[test]
fn broken_gateways_are_caught_precisely() {
    let rec = record();
    let trace = &rec.trace;

    let ok = replay(trace, Break::Nothing, &[]);
    assert_eq!(ok.code, Some(0), "{}", ok.stdout);
    assert_eq!(
        ok.stdout
            .lines()
            .filter(|l| l.starts_with("MATCH "))
            .count(),
        3
    );

    // Wrong error code: T32 (the Modify), path of `code` in the recorded reply.
    let bad = replay(trace, Break::ErrorCode, &[]);
    assert_eq!(bad.code, Some(1), "{}", bad.stdout);
    let (heads, diffs) = mismatches(&bad.stdout);
    assert_eq!(heads.len(), 1, "{}", bad.stdout);
    assert!(
        heads[0].starts_with("MISMATCH  T32 ") && heads[0].ends_with(" Modify"),
        "{}",
        bad.stdout
    );
    let code_path = path_to(&rec.modify, "code").unwrap();
    assert_eq!(
        diffs,
        [format!("    {code_path}: recorded 411, live 412")],
        "{}",
        bad.stdout
    );

    // Dropped Local descriptor: T31 (the Add), path of `local` in the recorded reply.
    let bad = replay(trace, Break::DropLocal, &[]);
    assert_eq!(bad.code, Some(1), "{}", bad.stdout);
    let (heads, diffs) = mismatches(&bad.stdout);
    assert_eq!(heads.len(), 1, "{}", bad.stdout);
    assert!(
        heads[0].starts_with("MISMATCH  T31 ") && heads[0].ends_with(" Add"),
        "{}",
        bad.stdout
    );
    let local_path = path_to(&rec.add, "local").unwrap();
    assert_eq!(diffs.len(), 1, "{}", bad.stdout);
    assert!(
        diffs[0].starts_with(&format!(
            "    {local_path}: missing in the live message (recorded {{\"groups\":"
        )),
        "{local_path}: {}",
        bad.stdout
    );

    // Late answer: T33 (the Subtract) after LATE_MS, over --max-reply-ms 700.
    let bad = replay(trace, Break::Late, &["--max-reply-ms", "700"]);
    assert_eq!(bad.code, Some(1), "{}", bad.stdout);
    let (heads, diffs) = mismatches(&bad.stdout);
    assert_eq!(heads.len(), 1, "{}", bad.stdout);
    assert!(
        heads[0].starts_with("MISMATCH  T33 ") && heads[0].ends_with(" Subtract"),
        "{}",
        bad.stdout
    );
    assert_eq!(diffs.len(), 1, "{}", bad.stdout);
    let rest = diffs[0]
        .strip_prefix("    latency: reply after ")
        .unwrap_or_else(|| panic!("{}", bad.stdout));
    let (ms, rest) = rest.split_once(" ms, ").unwrap();
    let ms: u64 = ms.parse().unwrap();
    assert!((LATE_MS..LATE_MS + 1000).contains(&ms), "{}", bad.stdout);
    // the recorded latency: 5 ms in the trace
    assert_eq!(
        rest, "over max_reply_ms 700 (recorded 5 ms)",
        "{}",
        bad.stdout
    );

    // The same late gateway under the default limit (2000 ms) is not a mismatch.
    let slow_ok = replay(trace, Break::Late, &[]);
    assert_eq!(slow_ok.code, Some(0), "{}", slow_ok.stdout);
}
