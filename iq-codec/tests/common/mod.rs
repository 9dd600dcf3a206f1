//! Helpers shared by the integration tests: the corpus, scratch directories, external tools.
#![allow(dead_code)]

pub mod pcap;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every corpus message file, sorted. Fails if the corpus is smaller than the 150 messages the
/// acceptance criteria require.
pub fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 150,
        "corpus has {} messages, fewer than 150",
        v.len()
    );
    v
}

/// A new empty directory under the target dir for this test run.
pub fn fresh_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Is `tool` on PATH? If not: panic under CI (a missing oracle is a failure there), otherwise
/// print a loud SKIPPED line and return false.
pub fn require_tool(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{tool} is not installed; the test command (scripts/test.sh) installs it");
    }
    eprintln!("\n*** SKIPPED: {tool} is not installed (run scripts/test.sh to install it). This test did NOT run. ***\n");
    false
}

pub fn megaco_oracle_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/peers/megaco/megaco_oracle.escript")
}

/// Run the megaco oracle escript; returns its exit status (per-file results are in `out`).
pub fn escript(script: &Path, cmd: &str, out: &Path, files: &[PathBuf]) -> i32 {
    let o = Command::new("escript")
        .arg(script)
        .arg(cmd)
        .arg(out)
        .args(files)
        .output()
        .expect("run escript");
    o.status.code().unwrap_or(-1)
}

/// xorshift64*: a deterministic pseudo-random sequence for mutation tests (no dependency, the
/// same cases on every run).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
