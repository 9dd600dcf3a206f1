//! `iq-interop codec`: the command users run first.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const MSG: &str =
    "MEGACO/3 <alg1.example.net>:2944\nTransaction = 12 { Context = - { AuditValue = ROOT } }\n";

#[test]
fn compact_pretty_and_json_from_stdin() {
    let (rc, out, _) = run(&["codec", "--from", "text", "--to", "compact"], MSG);
    assert_eq!(rc, 0);
    assert_eq!(out, "!/3 <alg1.example.net>:2944\nT=12{C=-{AV=ROOT}}\n");
    let (rc, out, _) = run(&["codec", "--to", "pretty"], &out);
    assert_eq!(rc, 0);
    assert!(
        out.starts_with("MEGACO/3 <alg1.example.net>:2944\nTransaction = 12 {"),
        "{out}"
    );
    let (rc, out, _) = run(&["codec", "--to", "json"], &out);
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], 3);
    assert_eq!(v["mid"]["domain"]["name"], "alg1.example.net");
    assert_eq!(v["body"]["transactions"][0]["request"]["id"], 12);
}

#[test]
fn bad_input_exits_2_with_line_column_code() {
    let (rc, out, err) = run(
        &["codec"],
        "MEGACO/3 [192.0.2.1]:2944\nTransaction = 5 {\n  Context = 1 { Bogus = t1 }\n}\n",
    );
    assert_eq!(rc, 2);
    assert!(out.is_empty());
    assert!(err.starts_with("<stdin>:3:17: error 443:"), "{err}");
}

#[test]
fn missing_file_exits_2() {
    let (rc, _, err) = run(&["codec", "/nonexistent/msg.txt"], "");
    assert_eq!(rc, 2);
    assert!(err.contains("/nonexistent/msg.txt"), "{err}");
}
