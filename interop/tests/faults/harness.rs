//! The fault tests' harness: `iq-alg` and `iq-agw` as real processes whose log lines are kept
//! (to count what happened: "request answered ... contexts=N", "registered", ...), free port
//! ranges, the ng calls of a figure 6.2.10.5.2 call, and the one-line results.
#![allow(dead_code)] // not every test uses every helper

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::common::ng::{Ng, B};

/// A daemon process; every stdout line is echoed (for the test log) and kept.
pub struct Daemon {
    pub name: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    /// Lines before this index were consumed by [`Daemon::wait_for`].
    cursor: usize,
}

impl Daemon {
    /// `[ip netns exec NS] bin --config config extra...` with `RUST_LOG=info`.
    pub fn start(
        name: &str,
        bin: &Path,
        config: &Path,
        extra: &[&str],
        netns: Option<&str>,
    ) -> Self {
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.arg("--config")
            .arg(config)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        let out = child.stdout.take().expect("stdout piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let keep = lines.clone();
        let tag = name.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                println!("[{tag}] {line}");
                keep.lock().unwrap().push(line);
            }
        });
        Daemon {
            name: name.to_string(),
            child,
            lines,
            cursor: 0,
        }
    }

    /// The next line (after the last one waited for) containing every one of `pats`.
    pub fn wait_for(&mut self, pats: &[&str], timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let lines = self.lines.lock().unwrap();
                if let Some(i) = lines[self.cursor..]
                    .iter()
                    .position(|l| pats.iter().all(|p| l.contains(p)))
                {
                    self.cursor += i + 1;
                    return lines[self.cursor - 1].clone();
                }
                if Instant::now() >= deadline {
                    panic!(
                        "{}: no line with {pats:?} within {timeout:?}; last lines:\n{}",
                        self.name,
                        lines[lines.len().saturating_sub(40)..].join("\n")
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// All lines so far containing every one of `pats`.
    pub fn matching(&self, pats: &[&str]) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| pats.iter().all(|p| l.contains(p)))
            .cloned()
            .collect()
    }

    /// How many lines so far contain every one of `pats`.
    pub fn count(&self, pats: &[&str]) -> usize {
        self.matching(pats).len()
    }

    /// The number of contexts the AGW holds, from its own log: the `contexts=N` of its last
    /// "request answered" line, or 0 after "all contexts cleared" (Forced out of service) or
    /// before any request.
    pub fn agw_contexts(&self) -> usize {
        let lines = self.lines.lock().unwrap();
        for l in lines.iter().rev() {
            if l.contains("all contexts cleared") {
                return 0;
            }
            if l.contains("request answered") {
                if let Some(n) = field(l, "contexts") {
                    return n as usize;
                }
            }
        }
        0
    }

    /// [`Self::agw_contexts`] once it equals `want`, or its value after `timeout`: the daemons
    /// batch their log writes, so the line about a reply can reach us up to 50 ms after the
    /// reply itself (and after the ng answer the test waited for).
    pub fn agw_contexts_settled(&self, want: usize, timeout: Duration) -> usize {
        let mut n = self.agw_contexts();
        let _ = until(timeout, || {
            n = self.agw_contexts();
            n == want
        });
        n
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The integer value of `name=N` in a log line.
pub fn field(line: &str, name: &str) -> Option<u64> {
    let pat = format!(" {name}=");
    let at = line.find(&pat)? + pat.len();
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The workspace binary `name` (built if missing or stale, see `common::bin`).
pub fn bin(name: &str) -> PathBuf {
    super::common::bin(name, name)
}

/// A fresh directory for one test's configurations.
pub fn test_dir(test: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "iq-faults-{}-{test}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Removes a directory when dropped (also when the test panics).
pub struct RemoveOnDrop(pub PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `n` consecutive UDP ports (n even, starting even) that are free on 127.0.0.1 right now.
/// Each call of this process looks at a different place, so the tests of this binary never
/// share ports; other processes are avoided by the bind check.
pub fn free_ports(n: u16) -> (u16, u16) {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let seed = (std::process::id() % 97) as u16;
    for _ in 0..200 {
        let slot = NEXT.fetch_add(1, Ordering::Relaxed);
        let start = 40_000 + ((seed * 131 + slot * 211) % 20_000) / 2 * 2;
        let end = start + n - 1;
        if end >= 60_000 {
            continue;
        }
        let free = (start..=end).all(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok());
        if free {
            return (start, end);
        }
    }
    panic!("no {n} free UDP ports");
}

/// The address in "listening on ADDR" / "ng control on ADDR".
pub fn addr_after(line: &str, marker: &str) -> SocketAddr {
    line.rsplit(marker)
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no address after {marker:?} in {line:?}"))
}

/// ALG configuration: Iq on `transport` at `listen`, ng on `ng`, one AGW at `agw_addr`.
/// `extra_iq` goes into `[iq]` (keepalive settings).
pub fn alg_config(
    transport: &str,
    listen: &str,
    ng: &str,
    agw_addr: &str,
    extra_iq: &str,
) -> String {
    format!(
        r#"
[iq]
transport = "{transport}"
listen = "{listen}"
encoding = "text"
mid = "<alg1.example.net>"
{extra_iq}

[ng]
listen = "{ng}"

[procedures]
heartbeat_secs = 0

[[agw]]
mid = "<agw1.example.net>"
address = "{agw_addr}"
"#
    )
}

/// AGW configuration: controller at `controller`, realms on `media_ip` over `access` and `core`,
/// `extra` appended (sections `[timers]`, `[dtls]`, `[ice]`).
pub fn agw_config(
    transport: &str,
    controller: SocketAddr,
    media_ip: &str,
    access: (u16, u16),
    core: (u16, u16),
    extra: &str,
) -> String {
    format!(
        r#"
[iq]
transport = "{transport}"
controller = "{controller}"
controller_mid = "<alg1.example.net>"
encoding = "text"
mid = "<agw1.example.net>"

[reconnect]
initial_ms = 200
max_ms = 1000

[[media.realm]]
name = "access"
address = "{media_ip}"
ports = "{}-{}"

[[media.realm]]
name = "core"
address = "{media_ip}"
ports = "{}-{}"

{extra}
"#,
        access.0, access.1, core.0, core.1
    )
}

/// Write `text` to `dir/name`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A UE's SDP without ICE (the AGW reaches it at this address).
pub fn ue_sdp(port: u16, fingerprint: &str, setup: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\n\
         m=audio {port} UDP/TLS/RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\n\
         a=fingerprint:{fingerprint}\r\na=setup:{setup}\r\na=tls-id:ue0123456789abcdefghij\r\n"
    )
}

/// A core peer's plain RTP SDP.
pub fn core_sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

/// A fingerprint nobody has (the UE never does DTLS in the calls that use it).
pub fn some_fingerprint() -> String {
    format!("sha-256 {}", vec!["AB"; 32].join(":"))
}

/// The `result` of an ng reply.
pub fn result(r: &B) -> String {
    r.get("result").and_then(B::str).unwrap_or_default()
}

/// The SDP of a successful ng reply, or the reply itself as the error.
pub fn sdp_of(r: &B) -> Result<String, String> {
    match (result(r).as_str(), r.get("sdp").and_then(B::str)) {
        ("ok", Some(s)) => Ok(s),
        _ => Err(format!(
            "{} {}",
            result(r),
            r.get("error-reason").and_then(B::str).unwrap_or_default()
        )),
    }
}

/// `m=audio` port and `c=` address of an SDP.
pub fn media_addr(sdp: &str) -> SocketAddr {
    let line = |p: &str| {
        sdp.lines()
            .find_map(|l| l.trim_end().strip_prefix(p).map(str::to_string))
    };
    let ip = line("c=IN IP4 ").expect("c= line");
    let port = line("m=audio ")
        .and_then(|m| m.split_whitespace().next().map(str::to_string))
        .expect("m= line");
    format!("{}:{port}", ip.trim()).parse().unwrap()
}

/// One call of figure 6.2.10.5.2 without media: the core offers plain RTP, the UE answers
/// DTLS-SRTP as `active` (the AGW is the DTLS server and waits: no handshake, no timer).
/// Returns the SDP sent to the UE.
pub fn call(ng: &mut Ng, call_id: &str) -> Result<String, String> {
    let offer = ng.call(B::d(&[
        ("command", B::s("offer")),
        ("call-id", B::s(call_id)),
        ("from-tag", B::s("ft")),
        ("sdp", B::s(&core_sdp(4000))),
    ]));
    let to_ue = sdp_of(&offer)?;
    if !to_ue.contains("UDP/TLS/RTP/SAVP") {
        return Err(format!("offer to the UE is not DTLS-SRTP:\n{to_ue}"));
    }
    let answer = ng.call(B::d(&[
        ("command", B::s("answer")),
        ("call-id", B::s(call_id)),
        ("from-tag", B::s("ft")),
        ("to-tag", B::s("tt")),
        ("sdp", B::s(&ue_sdp(4002, &some_fingerprint(), "active"))),
    ]));
    let to_core = sdp_of(&answer)?;
    if !to_core.contains(" RTP/AVP ") {
        return Err(format!("answer to the core is not RTP/AVP:\n{to_core}"));
    }
    Ok(to_ue)
}

/// ng delete of a call.
pub fn delete(ng: &mut Ng, call_id: &str) -> String {
    let r = ng.call(B::d(&[
        ("command", B::s("delete")),
        ("call-id", B::s(call_id)),
        ("from-tag", B::s("ft")),
    ]));
    result(&r)
}

/// The calls the ALG lists.
pub fn list(ng: &mut Ng) -> Vec<String> {
    let l = ng.call(B::d(&[("command", B::s("list"))]));
    match l.get("calls") {
        Some(B::L(v)) => v.iter().filter_map(B::str).collect(),
        _ => Vec::new(),
    }
}

/// ng query of a call: "ok" while the ALG has it, "error" once it does not.
pub fn query(ng: &mut Ng, call_id: &str) -> String {
    let q = ng.call(B::d(&[
        ("command", B::s("query")),
        ("call-id", B::s(call_id)),
    ]));
    result(&q)
}

/// Poll `f` every 50 ms until it holds; the time it took, or None after `timeout`.
pub fn until(timeout: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let t0 = Instant::now();
    loop {
        if f() {
            return Some(t0.elapsed());
        }
        if t0.elapsed() >= timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The one result line of a fault, and its summary table. Written to stderr directly (not
/// through `println!`), so that `cargo test` shows it for passing tests too.
pub fn report(name: &str, kept: usize, released: usize, recover_ms: u128, rows: &[(&str, String)]) {
    use std::io::Write;
    let mut out =
        format!("FAULT {name}: kept={kept} released={released} recover_ms={recover_ms}\n");
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let rule = format!("+-{}-+-{}\n", "-".repeat(w), "-".repeat(40));
    out.push_str(&rule);
    for (k, v) in rows {
        out.push_str(&format!("| {k:w$} | {v}\n"));
    }
    out.push_str(&rule);
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}
