//! `iq-interop conformance --mgc`: the other direction, against our own `iq-alg` as the
//! controller under test. We register as an MG (ServiceChange Restart) and send a Notify; the
//! ALG must accept the registration and answer the Notify. The JUnit report must agree.

mod common;
mod conformance_util;

use std::process::Command;
use std::time::Duration;

use common::{bin, Proc};

#[test]
fn iq_alg_accepts_our_registration_and_answers_our_notify() {
    let alg_cfg = r#"
[iq]
transport = "tcp"
listen = "127.0.0.1:0"
encoding = "text"
mid = "<alg1.example.net>"
keepalive_secs = 0

[ng]
listen = ""

[[agw]]
mid = "<iq-interop.conformance>"
address = "127.0.0.1"
"#;
    let mut alg = Proc::daemon("alg", &bin("iq-alg", "iq-alg"), alg_cfg, &[]);
    let line = alg.wait_for(&["listening on"], Duration::from_secs(10));
    let addr = line
        .rsplit("listening on ")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let junit = std::env::temp_dir().join(format!("iq-conf-mgc-{}.xml", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args(["conformance", "--mgc"])
        .arg(format!("<alg1.example.net>@{addr}"))
        .args(["--transport", "tcp", "--register-timeout", "10", "--junit"])
        .arg(&junit)
        .output()
        .expect("run iq-interop conformance --mgc");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    println!("{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(0),
        "conformance --mgc against iq-alg failed"
    );
    let verdict = |name: &str| {
        text.lines()
            .find(|l| {
                l.contains(name) && (l.contains("PASS") || l.contains("FAIL") || l.contains("N/A"))
            })
            .unwrap_or_else(|| panic!("no verdict line for {name}:\n{text}"))
            .to_string()
    };
    assert!(verdict("mgc-registration").contains("PASS"));
    let ((tests, failures, _skipped), table) = conformance_util::parse_junit(&junit);
    assert!(tests >= 2, "JUnit has {tests} test cases: {table:?}");
    assert_eq!(failures, 0, "{table:?}");
    // the ALG logged our registration
    alg.wait_for(&["registered"], Duration::from_secs(5));
    let _ = std::fs::remove_file(&junit);
}
