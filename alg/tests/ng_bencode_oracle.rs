//! Our bencode codec against an independent implementation: Python's `bencode.py` (PyPI,
//! module `bencodepy`, installed into the oracle venv from scripts/oracle-requirements.txt).
//!
//! 1. Values we generate and encode are decoded by bencodepy and re-encoded: the bytes must be
//!    identical (both produce the canonical form: sorted keys, minimal integers).
//! 2. Values bencodepy generates (from its own random structures) and encodes are decoded by us
//!    and re-encoded: identical bytes again, and every one must decode.
//! 3. Inputs bencodepy refuses we refuse too (for the strict cases both reject).
//!
//! Needs the venv: fails under CI without it, says SKIPPED loudly elsewhere.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use iq_alg::ng::bencode::{decode, Value};

fn python() -> Option<PathBuf> {
    let p = std::env::var_os("IQ_ORACLE_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/oracle/venv/bin/python"),
        PathBuf::from,
    );
    let ok = Command::new(&p)
        .args(["-c", "import bencodepy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "python with bencodepy (bencode.py) missing at {}; scripts/test.sh installs it",
        p.display()
    );
    eprintln!("\n*** SKIPPED ng_bencode_oracle: no python with bencodepy at {}. This test did NOT run. ***\n", p.display());
    None
}

/// xorshift64*, so that the generated values are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn gen(r: &mut Rng, depth: u32) -> Value {
    let kind = if depth >= 4 { r.below(2) } else { r.below(4) };
    match kind {
        0 => Value::Int(match r.below(4) {
            0 => 0,
            1 => -(r.below(1000) as i64),
            2 => r.next() as i64,
            _ => r.below(100_000) as i64,
        }),
        1 => Value::Bytes((0..r.below(20)).map(|_| r.next() as u8).collect()),
        2 => Value::List((0..r.below(5)).map(|_| gen(r, depth + 1)).collect()),
        _ => {
            let mut d = BTreeMap::new();
            for _ in 0..r.below(5) {
                let k: Vec<u8> = (0..r.below(8)).map(|_| r.next() as u8).collect();
                d.insert(k, gen(r, depth + 1));
            }
            Value::Dict(d)
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

const SCRIPT: &str = r#"
import sys, random, bencodepy
mode = sys.argv[1]
if mode == "reencode":
    for line in sys.stdin:
        line = line.strip()
        try:
            v = bencodepy.decode(bytes.fromhex(line))
            print(bencodepy.encode(v).hex())
        except Exception:
            print("ERR")
elif mode == "generate":
    rnd = random.Random(int(sys.argv[2]))
    def gen(d):
        k = rnd.randrange(2 if d >= 4 else 4)
        if k == 0:
            return rnd.choice([0, -rnd.randrange(1000), rnd.randrange(-2**63, 2**63), rnd.randrange(10**5)])
        if k == 1:
            return bytes(rnd.randrange(256) for _ in range(rnd.randrange(20)))
        if k == 2:
            return [gen(d + 1) for _ in range(rnd.randrange(5))]
        return {bytes(rnd.randrange(256) for _ in range(rnd.randrange(8))): gen(d + 1) for _ in range(rnd.randrange(5))}
    for _ in range(int(sys.argv[3])):
        print(bencodepy.encode(gen(0)).hex())
"#;

fn run(py: &PathBuf, args: &[&str], input: &str) -> Vec<String> {
    let mut child = Command::new(py)
        .arg("-c")
        .arg(SCRIPT)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn ours_read_by_bencodepy() {
    let Some(py) = python() else { return };
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let vals: Vec<Value> = (0..500).map(|_| gen(&mut r, 0)).collect();
    let input: String = vals.iter().map(|v| hex(&v.encode()) + "\n").collect();
    let out = run(&py, &["reencode"], &input);
    assert_eq!(out.len(), vals.len());
    for (v, o) in vals.iter().zip(&out) {
        assert_eq!(
            o,
            &hex(&v.encode()),
            "bencodepy re-encodes {v:?} differently"
        );
    }
}

#[test]
fn bencodepy_read_by_ours() {
    let Some(py) = python() else { return };
    let out = run(&py, &["generate", "7", "500"], "");
    assert_eq!(out.len(), 500);
    for line in &out {
        let bytes = unhex(line);
        let v = decode(&bytes).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(v.encode(), bytes, "our re-encoding of {line} differs");
    }
}

#[test]
fn both_refuse_malformed() {
    let Some(py) = python() else { return };
    // Cases bencodepy also refuses: truncation, bad integer syntax, non-string keys, garbage.
    let bad: &[&[u8]] = &[
        b"i12",
        b"4:abc",
        b"l1:a",
        b"di1e1:ae",
        b"x",
        b"ie",
        b"d1:ae",
    ];
    let input: String = bad.iter().map(|b| hex(b) + "\n").collect();
    let out = run(&py, &["reencode"], &input);
    for (b, o) in bad.iter().zip(&out) {
        let ours = decode(b);
        if o == "ERR" {
            assert!(
                ours.is_err(),
                "{:?}: bencodepy refuses, we accept",
                String::from_utf8_lossy(b)
            );
        }
    }
    // Stricter than bencodepy is fine; looser is not — checked above.
    assert!(out.iter().filter(|o| *o == "ERR").count() >= 5, "{out:?}");
}
