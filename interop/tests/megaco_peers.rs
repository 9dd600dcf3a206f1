//! The third-party H.248 peers in `interop/peers/megaco/` (Erlang/OTP megaco as an MG and as
//! an MGC, see its README.md) run against each other, before our ALG/AGW daemons rely on them:
//! TCP and UDP, text and binary (BER), on 127.0.0.1 ephemeral ports, each run bounded in time.
//! Both must exit 0, and their transcripts must show ServiceChange, Add, Modify, AuditValue,
//! Subtract and Notify exchanged, each request of one side seen by the other with the same
//! transaction ID and answered OK.
//!
//! Needs `escript` (Debian erlang-base + erlang-megaco). Without it the tests fail under CI and
//! print a loud SKIPPED elsewhere.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A whole run (both peers, VM start-up included) must end within this.
const RUN_LIMIT: Duration = Duration::from_secs(20);

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/megaco")
}

/// `escript` on PATH? Otherwise: fail under CI, else a loud SKIPPED straight to fd 2 (the test
/// harness captures `eprintln!`).
fn have_escript(test: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", "command -v escript"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("escript is not installed (Debian erlang-base, erlang-megaco); the megaco peers cannot run");
    }
    let line = format!(
        "\n*** SKIPPED {test}: escript is not installed (apt-get install erlang-base \
         erlang-megaco). This test did NOT run. ***\n"
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    false
}

fn free_port(transport: &str) -> u16 {
    match transport {
        "tcp" => TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(),
        _ => UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(),
    }
}

/// A running peer: its stdout lines arrive on `lines`; stderr is collected by a thread (so
/// that neither pipe can fill up and stall the peer).
struct Peer {
    name: &'static str,
    child: Child,
    lines: mpsc::Receiver<String>,
    out: Vec<String>,
    err: Option<thread::JoinHandle<String>>,
}

impl Peer {
    fn spawn(name: &'static str, script: &str, args: &[String]) -> Peer {
        let mut child = Command::new("escript")
            .arg(peers_dir().join(script))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {script}: {e}"));
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let err = thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Peer {
            name,
            child,
            lines: rx,
            out: Vec::new(),
            err: Some(err),
        }
    }

    fn drain(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            self.out.push(l);
        }
    }

    /// Wait for a stdout line starting with `prefix`.
    fn wait_line(&mut self, prefix: &str, deadline: Instant) -> bool {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                Ok(l) => {
                    let hit = l.starts_with(prefix);
                    self.out.push(l);
                    if hit {
                        return true;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => return false,
            }
        }
    }

    /// Everything the peer printed; call only once it has exited.
    fn report(&mut self) -> String {
        self.drain();
        let err = self
            .err
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        format!(
            "--- {} stdout\n{}\n--- {} stderr\n{}",
            self.name,
            self.out.join("\n"),
            self.name,
            err
        )
    }
}

/// Exit codes of both peers, killing whatever still runs at `deadline`.
fn wait_both(mgc: &mut Peer, mg: &mut Peer, deadline: Instant) -> (Option<i32>, Option<i32>) {
    let mut codes = (None, None);
    let mut done = (false, false);
    while !(done.0 && done.1) {
        for (peer, code, fin) in [
            (&mut *mgc, &mut codes.0, &mut done.0),
            (&mut *mg, &mut codes.1, &mut done.1),
        ] {
            if !*fin {
                if let Some(st) = peer.child.try_wait().unwrap() {
                    *code = st.code();
                    *fin = true;
                }
            }
        }
        if Instant::now() >= deadline {
            for (peer, fin) in [(&mut *mgc, done.0), (&mut *mg, done.1)] {
                if !fin {
                    let _ = peer.child.kill();
                    let _ = peer.child.wait();
                }
            }
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    // the reader threads end at EOF; give them a moment to deliver the last lines
    thread::sleep(Duration::from_millis(50));
    mgc.drain();
    mg.drain();
    codes
}

/// One transcript line: `ROLE DIR KIND TID COMMANDS RESULT [key=value ...]`.
#[derive(Debug, Clone)]
struct Tx {
    dir: String,
    kind: String,
    tid: String,
    cmds: Vec<String>,
    result: String,
    extra: Vec<(String, String)>,
}

impl Tx {
    fn get(&self, key: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn transcript(role: &str, lines: &[String]) -> Vec<Tx> {
    lines
        .iter()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            if f.len() < 6 || f[0] != role || (f[1] != "SEND" && f[1] != "RECV") {
                return None;
            }
            Some(Tx {
                dir: f[1].into(),
                kind: f[2].into(),
                tid: f[3].into(),
                cmds: if f[4] == "-" {
                    vec![]
                } else {
                    f[4].split(',').map(String::from).collect()
                },
                result: f[5].into(),
                extra: f[6..]
                    .iter()
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            })
        })
        .collect()
}

fn find<'a>(txs: &'a [Tx], dir: &str, kind: &str, cmd: &str) -> Vec<&'a Tx> {
    txs.iter()
        .filter(|t| t.dir == dir && t.kind == kind && t.cmds.iter().any(|c| c == cmd))
        .collect()
}

struct Run {
    mgc: Vec<String>,
    mg: Vec<String>,
    report: String,
}

fn run(transport: &str, encoding: &str, mgc_extra: &[&str], mg_extra: &[&str]) -> Run {
    let port = free_port(transport).to_string();
    let deadline = Instant::now() + RUN_LIMIT;
    let mut args: Vec<String> = [
        "--listen",
        &port,
        "--transport",
        transport,
        "--encoding",
        encoding,
        "--bind",
        "127.0.0.1",
        "--expect-mid",
        "<mg1.example.net>",
        "--timeout",
        "12",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(mgc_extra.iter().map(|s| s.to_string()));
    let mut mgc = Peer::spawn("megaco_mgc", "megaco_mgc.escript", &args);
    if !mgc.wait_line("MGC INFO listening", deadline) {
        let _ = mgc.child.kill();
        let _ = mgc.child.wait();
        panic!("megaco_mgc did not start listening\n{}", mgc.report());
    }
    let mut args: Vec<String> = [
        "--mgc",
        &format!("127.0.0.1:{port}"),
        "--transport",
        transport,
        "--encoding",
        encoding,
        "--mid",
        "<mg1.example.net>",
        "--exit-after",
        "12",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if transport == "udp" {
        // nothing tells a UDP MG that the MGC is gone
        args.extend(["--idle-exit".to_string(), "1.5".to_string()]);
    }
    args.extend(mg_extra.iter().map(|s| s.to_string()));
    let mut mg = Peer::spawn("megaco_mg", "megaco_mg.escript", &args);
    let started = Instant::now();
    let (mgc_rc, mg_rc) = wait_both(&mut mgc, &mut mg, deadline);
    let report = format!(
        "{transport}/{encoding} after {:?}\n{}\n{}",
        started.elapsed(),
        mgc.report(),
        mg.report()
    );
    assert_eq!(mgc_rc, Some(0), "megaco_mgc exit status\n{report}");
    assert_eq!(mg_rc, Some(0), "megaco_mg exit status\n{report}");
    Run {
        mgc: mgc.out,
        mg: mg.out,
        report,
    }
}

/// The default scenario went through, as both transcripts tell it.
fn check_scenario(r: &Run, binary: bool) {
    let rep = &r.report;
    for step in [
        "register",
        "add",
        "modify",
        "wait_notify",
        "audit_root",
        "audit_term",
        "subtract",
    ] {
        assert!(
            r.mgc
                .iter()
                .any(|l| l.starts_with("MGC STEP ") && l.contains(&format!(" {step} OK"))),
            "no OK step {step}\n{rep}"
        );
    }
    assert!(r.mgc.iter().any(|l| l.starts_with("MGC DONE OK")), "{rep}");
    assert!(r.mg.iter().any(|l| l.starts_with("MG DONE OK")), "{rep}");

    let mgc = transcript("MGC", &r.mgc);
    let mg = transcript("MG", &r.mg);

    // Every request one side sent was received by the other with the same transaction ID and
    // commands, and answered OK under that ID; both sides saw the same reply.
    for (sender, sname, receiver) in [(&mgc, "MGC", &mg), (&mg, "MG", &mgc)] {
        let sent: Vec<&Tx> = sender
            .iter()
            .filter(|t| t.dir == "SEND" && t.kind == "Request")
            .collect();
        assert!(!sent.is_empty(), "{sname} sent no request\n{rep}");
        for req in sent {
            let seen = receiver.iter().any(|t| {
                t.dir == "RECV" && t.kind == "Request" && t.tid == req.tid && t.cmds == req.cmds
            });
            assert!(
                seen,
                "{sname} request {} {:?} not received\n{rep}",
                req.tid, req.cmds
            );
            let answered = receiver
                .iter()
                .find(|t| t.dir == "SEND" && t.kind == "Reply" && t.tid == req.tid)
                .unwrap_or_else(|| panic!("{sname} request {} not answered\n{rep}", req.tid));
            assert_eq!(answered.result, "OK", "{rep}");
            assert_eq!(answered.cmds, req.cmds, "{rep}");
            let got = sender
                .iter()
                .find(|t| t.dir == "RECV" && t.kind == "Reply" && t.tid == req.tid)
                .unwrap_or_else(|| panic!("{sname} got no reply to {}\n{rep}", req.tid));
            assert_eq!(got.result, "OK", "{rep}");
            assert_eq!(got.extra, answered.extra, "{rep}");
        }
    }

    // ServiceChange from the MG, with the version, answered with the version.
    let sc = find(&mg, "SEND", "Request", "ServiceChange");
    assert_eq!(sc.len(), 1, "{rep}");
    assert_eq!(sc[0].get("term"), Some("ROOT"), "{rep}");
    assert_eq!(sc[0].get("method"), Some("restart"), "{rep}");
    assert_eq!(sc[0].get("ver"), Some("3"), "{rep}");
    let scr = find(&mg, "RECV", "Reply", "ServiceChange");
    assert_eq!(scr[0].get("ver"), Some("3"), "{rep}");

    // Add $ in context $: the MG chose a context, a termination and the Local SDP.
    let add = find(&mgc, "SEND", "Request", "Add");
    assert_eq!(add[0].get("ctx"), Some("$"), "{rep}");
    assert_eq!(add[0].get("term"), Some("$"), "{rep}");
    assert_eq!(add[0].get("local"), Some("$:$"), "{rep}");
    let added = find(&mgc, "RECV", "Reply", "Add");
    let ctx = added[0].get("ctx").unwrap();
    assert!(ctx.parse::<u32>().is_ok(), "context {ctx}\n{rep}");
    let term = added[0].get("term").unwrap();
    if binary {
        // megaco's BER term IDs: three levels of eight binary digits
        let levels: Vec<&str> = term.split('/').collect();
        assert!(
            levels.len() == 3
                && levels
                    .iter()
                    .all(|l| l.len() == 8 && l.chars().all(|c| c == '0' || c == '1')),
            "binary term ID {term}\n{rep}"
        );
    } else {
        assert!(term.starts_with("rtp/"), "text term ID {term}\n{rep}");
    }
    let local = added[0].get("local").unwrap();
    let (ip, port) = local.split_once(':').unwrap();
    assert_eq!(ip, "127.0.0.1", "{rep}");
    assert!(port.parse::<u16>().is_ok(), "port {port}\n{rep}");

    // Modify with Remote SDP and an Events descriptor, on that termination.
    let m = find(&mgc, "SEND", "Request", "Modify");
    assert_eq!(m[0].get("term"), Some(term), "{rep}");
    assert_eq!(m[0].get("ctx"), Some(ctx), "{rep}");
    assert!(m[0].get("remote").is_some(), "{rep}");
    assert_eq!(m[0].get("events"), Some("g/cause"), "{rep}");

    // The MG's Notify for the requested event, answered by the MGC.
    let n = find(&mg, "SEND", "Request", "Notify");
    assert_eq!(n.len(), 1, "{rep}");
    assert_eq!(n[0].get("term"), Some(term), "{rep}");
    assert_eq!(n[0].get("rid"), m[0].get("rid"), "{rep}");
    assert_eq!(find(&mgc, "SEND", "Reply", "Notify").len(), 1, "{rep}");

    // AuditValue on ROOT (packages) and on the termination (media).
    let audits = find(&mg, "SEND", "Reply", "AuditValue");
    assert!(
        audits
            .iter()
            .any(|a| a.get("term") == Some("ROOT") && a.get("packages").is_some()),
        "{rep}"
    );
    assert!(
        audits
            .iter()
            .any(|a| a.get("term") == Some(term) && a.get("local") == Some(local)),
        "{rep}"
    );

    // Subtract with statistics.
    let s = find(&mg, "SEND", "Reply", "Subtract");
    assert_eq!(s[0].get("term"), Some(term), "{rep}");
    assert!(
        s[0].get("stats").is_some_and(|v| v.contains("nt/dur")),
        "{rep}"
    );
}

#[test]
fn megaco_peers_tcp_text() {
    if !have_escript("megaco_peers_tcp_text") {
        return;
    }
    let log = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("megaco-mg-{}.log", std::process::id()));
    let log_s = log.to_string_lossy().into_owned();
    let r = run("tcp", "text", &[], &["--log", &log_s]);
    check_scenario(&r, false);
    // TCP: the MG noticed the MGC closing.
    assert!(
        r.mg.iter()
            .any(|l| l.starts_with("MG DONE OK reason=closed")),
        "{}",
        r.report
    );
    // --log: transcript lines and the messages themselves.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("MG SEND Request 1 ServiceChange"), "{text}");
    assert!(text.contains("MEGACO/3 <mg1.example.net>"), "{text}");
    assert!(text.contains("c=IN IP4 127.0.0.1"), "{text}");
    let _ = std::fs::remove_file(&log);
}

#[test]
fn megaco_peers_udp_text() {
    if !have_escript("megaco_peers_udp_text") {
        return;
    }
    let r = run("udp", "text", &[], &[]);
    check_scenario(&r, false);
}

#[test]
fn megaco_peers_tcp_binary() {
    if !have_escript("megaco_peers_tcp_binary") {
        return;
    }
    let r = run("tcp", "binary", &[], &[]);
    check_scenario(&r, true);
}

#[test]
fn megaco_peers_udp_binary() {
    if !have_escript("megaco_peers_udp_binary") {
        return;
    }
    let r = run("udp", "binary", &[], &[]);
    check_scenario(&r, true);
}

/// Compact text, and an MGC that only speaks version 2: the MG offers 3, the reply says 2,
/// and the rest of the scenario runs in version 2 messages.
#[test]
fn megaco_peers_version_negotiated_down() {
    if !have_escript("megaco_peers_version_negotiated_down") {
        return;
    }
    let r = run("udp", "compact", &["--version", "2"], &[]);
    let rep = &r.report;
    assert!(
        r.mgc
            .iter()
            .any(|l| l.starts_with("MGC STEP 1 register OK") && l.contains(" ver=2")),
        "{rep}"
    );
    assert!(
        r.mg.iter().any(|l| l == "MG INFO registered version=2"),
        "{rep}"
    );
    assert!(r.mgc.iter().any(|l| l.starts_with("MGC DONE OK")), "{rep}");
    let mg = transcript("MG", &r.mg);
    assert_eq!(
        find(&mg, "RECV", "Reply", "ServiceChange")[0].get("ver"),
        Some("2"),
        "{rep}"
    );
    assert!(!find(&mg, "SEND", "Reply", "Subtract").is_empty(), "{rep}");
}

/// The peers' own example scripts: an Iq-style two-termination call and scripted MG failures
/// with TransactionPending.
#[test]
fn megaco_peers_example_scripts() {
    if !have_escript("megaco_peers_example_scripts") {
        return;
    }
    let dir = peers_dir().join("scripts");
    let s = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let r = run(
        "tcp",
        "text",
        &["--script", &s("mgc_two_terminations.script")],
        &[],
    );
    assert!(
        r.mgc.iter().any(|l| l.starts_with("MGC DONE OK steps=10")),
        "{}",
        r.report
    );
    let mgc = transcript("MGC", &r.mgc);
    let sub = find(&mgc, "RECV", "Reply", "Subtract");
    assert_eq!(
        sub[0].cmds.len(),
        2,
        "Subtract * answers per termination\n{}",
        r.report
    );

    let r = run(
        "udp",
        "binary",
        &["--script", &s("mgc_retry_add.script")],
        &["--script", &s("mg_reject_first_add.script")],
    );
    assert!(
        r.mgc.iter().any(|l| l.starts_with("MGC DONE OK steps=6")),
        "{}",
        r.report
    );
    let mgc = transcript("MGC", &r.mgc);
    assert!(
        mgc.iter()
            .any(|t| t.dir == "RECV" && t.kind == "Reply" && t.result == "ERR=510"),
        "{}",
        r.report
    );
    assert!(
        mgc.iter().any(|t| t.dir == "RECV" && t.kind == "Pending"),
        "{}",
        r.report
    );
}
