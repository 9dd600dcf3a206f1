//! Shared by the conformance tests: run `iq-interop conformance` as a process, read its
//! summary, and parse its JUnit report with a third-party XML parser (Python's xml.etree).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A free 127.0.0.1 TCP port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The running `iq-interop conformance`.
pub struct Run {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub out: Vec<String>,
    pub junit: PathBuf,
}

impl Run {
    /// Start it with `args` (plus `--junit` into a temporary file) and wait until it listens.
    pub fn start(args: &[&str]) -> Run {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let junit =
            std::env::temp_dir().join(format!("iq-conformance-{}-{n}.xml", std::process::id()));
        let _ = std::fs::remove_file(&junit);
        let mut child = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
            .arg("conformance")
            .args(args)
            .arg("--junit")
            .arg(&junit)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start iq-interop conformance");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                println!("[conformance] {l}");
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let mut r = Run {
            child,
            lines: rx,
            out: Vec::new(),
            junit,
        };
        r.wait_line("listening on", Duration::from_secs(10));
        r
    }

    fn wait_line(&mut self, pat: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let hit = l.contains(pat);
                    self.out.push(l);
                    if hit {
                        return;
                    }
                }
                Err(_) => panic!("no {pat:?} line; output:\n{}", self.out.join("\n")),
            }
        }
    }

    /// Wait for the exit (killing it after `timeout`); the exit code and the summary table
    /// as scenario -> verdict word.
    pub fn finish(&mut self, timeout: Duration) -> (Option<i32>, BTreeMap<String, String>) {
        let deadline = Instant::now() + timeout;
        let code = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st.code();
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("conformance run did not end within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(100));
        while let Ok(l) = self.lines.try_recv() {
            self.out.push(l);
        }
        // the table follows the "scenario  verdict" header up to the counts line
        let mut table = BTreeMap::new();
        let mut inside = false;
        for l in &self.out {
            if l.starts_with("scenario ") && l.contains("verdict") {
                inside = true;
                continue;
            }
            if !inside || l.starts_with("---") {
                continue;
            }
            if l.contains(" passed, ") {
                break;
            }
            let mut f = l.split_whitespace();
            if let (Some(name), Some(v)) = (f.next(), f.next()) {
                table.insert(name.to_string(), v.to_string());
            }
        }
        (code, table)
    }

    /// The summary line's text for one scenario (verdict and reason).
    pub fn line(&self, name: &str) -> String {
        self.out
            .iter()
            .rev()
            .find(|l| l.split_whitespace().next() == Some(name))
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.junit);
    }
}

/// A Python with the standard library (the oracle venv's, else `python3`).
fn python() -> PathBuf {
    let venv = std::env::var_os("IQ_ORACLE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/oracle/venv/bin/python")
        });
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// The JUnit file parsed by xml.etree: (suite attributes tests/failures/skipped, testcase name
/// -> "pass" | "failure: message" | "skipped: message"). Panics if it is not well-formed.
pub fn parse_junit(path: &Path) -> ((usize, usize, usize), BTreeMap<String, String>) {
    let script = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root if root.tag == 'testsuite' else root.find('testsuite')
cases = {}
for c in suite.iter('testcase'):
    f, s = c.find('failure'), c.find('skipped')
    cases[c.get('name')] = ('failure: ' + f.get('message')) if f is not None else (('skipped: ' + s.get('message')) if s is not None else 'pass')
print(json.dumps({'tests': int(suite.get('tests')), 'failures': int(suite.get('failures')), 'skipped': int(suite.get('skipped')), 'cases': cases}))
"#;
    let out = Command::new(python())
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "JUnit XML does not parse: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(path).unwrap_or_default()
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cases = v["cases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let n = |k: &str| v[k].as_u64().unwrap() as usize;
    ((n("tests"), n("failures"), n("skipped")), cases)
}

/// Check that the JUnit report and the summary table say the same, and that the suite counts
/// are those of its test cases.
pub fn junit_matches_summary(junit: &Path, table: &BTreeMap<String, String>) {
    let ((tests, failures, skipped), cases) = parse_junit(junit);
    assert_eq!(tests, cases.len(), "tests attribute vs testcases");
    assert_eq!(
        failures,
        cases.values().filter(|v| v.starts_with("failure")).count()
    );
    assert_eq!(
        skipped,
        cases.values().filter(|v| v.starts_with("skipped")).count()
    );
    assert_eq!(
        cases.keys().collect::<Vec<_>>(),
        table.keys().collect::<Vec<_>>(),
        "JUnit testcases vs summary scenarios"
    );
    for (name, verdict) in table {
        let c = &cases[name];
        let want = match verdict.as_str() {
            "PASS" => "pass",
            "FAIL" => "failure",
            "N/A" => "skipped",
            other => panic!("verdict {other}"),
        };
        assert!(c.starts_with(want), "{name}: summary {verdict}, JUnit {c}");
    }
}
