//! `iq-interop lab --netns`: the two-node deployment in network namespaces (needs root and
//! iproute2; under `CI` their absence fails, by hand it skips loudly). Both figures pass with
//! the builtin UE and with aiortc, each process in its own network (the SDP addresses exist
//! only inside the namespaces), and nothing of the run is left afterwards: no namespace, no
//! root-side link, no process. SIGINT mid-run removes everything too; `--netns-cleanup`
//! removes a crashed run's leftovers and keeps a live run's namespaces.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One lab run at a time: each is several processes and a few seconds of media on 2 cores.
static SERIAL: Mutex<()> = Mutex::new(());

fn bin_dir() -> PathBuf {
    common::bin("iq-agw", "iq-agw")
        .parent()
        .expect("bin dir")
        .to_path_buf()
}

/// Root and `ip netns`; missing: a failure under CI, a loud skip otherwise.
fn netns_available(test: &str) -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false);
    let ip = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .is_ok_and(|o| o.status.success());
    if root && ip {
        return true;
    }
    let why = if root {
        "`ip netns` (iproute2) does not work"
    } else {
        "not root"
    };
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {why}; the two-node lab needs root and iproute2");
    }
    eprintln!("\n*** SKIPPING {test}: {why} (the two-node lab needs root and iproute2) ***\n");
    false
}

fn ip_out(args: &[&str]) -> String {
    let o = Command::new("ip").args(args).output().expect("ip runs");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The run's namespaces and root link still present.
fn leftovers(pid: u32) -> Vec<String> {
    let mut v: Vec<String> = ip_out(&["netns", "list"])
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(&format!("iqlab-{pid}-")))
        .map(String::from)
        .collect();
    let link = format!("iql{pid}");
    v.extend(
        ip_out(&["-o", "link", "show"])
            .lines()
            .filter_map(|l| l.split(':').nth(1))
            .map(|n| n.trim().split('@').next().unwrap_or("").to_string())
            .filter(|n| *n == link),
    );
    v
}

/// Processes whose command line names the run's configuration directory (the daemons).
fn processes_of(pid: u32) -> Vec<String> {
    let mark = format!("iq-lab-{pid}-");
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&mark))
        .collect()
}

fn lab(args: &[&str]) -> (Output, u32) {
    let child = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .arg("lab")
        .args(args)
        .arg("--bin-dir")
        .arg(bin_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run iq-interop lab");
    let pid = child.id();
    let out = child.wait_with_output().expect("lab output");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    (out, pid)
}

/// Exit 0, both figures PASS, each party at its own network's address, and nothing left.
fn assert_two_node_pass(out: &Output, pid: u32) {
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "lab failed:\n{text}");
    for w in [
        "figure 6.2.10.5.1 (UE offers): PASS",
        "figure 6.2.10.5.2 (core offers): PASS",
        &format!(
            "netns: namespaces iqlab-{pid}-alg iqlab-{pid}-agw iqlab-{pid}-ue iqlab-{pid}-core"
        ),
        // Iq between the two hosts' addresses, the ng front reached from the root namespace
        "(Iq TCP 192.0.2.10:2944, ng 10.254.",
        "(access 198.51.100.1:20000-20039, core 10.0.0.10:30000-30039)",
        // the UE offers from the access network, the core answers from the core network
        "UE -> SIP proxy (offer)  UDP/TLS/RTP/SAVPF, 198.51.100.2:",
        "core -> SIP proxy (answer) RTP/AVP, 10.0.0.20:",
        "SIP proxy -> UE (answer) UDP/TLS/RTP/SAVPF, 198.51.100.1:",
        "SIP proxy -> core (offer) RTP/AVPF, 10.0.0.10:",
        "core -> SIP proxy (offer) RTP/AVP, 10.0.0.20:",
        // without relays the lab says what it cannot see
        "no relays:",
        &format!("netns: removed iqlab-{pid}-alg iqlab-{pid}-agw iqlab-{pid}-ue iqlab-{pid}-core"),
    ] {
        assert!(text.contains(w), "output lacks {w:?}:\n{text}");
    }
    assert!(!text.contains("[FAIL]"), "{text}");
    // both UEs do ICE; both DTLS roles; the AGW released both calls
    assert_eq!(
        text.matches("[ok]  ICE checks: UE ICE state").count(),
        2,
        "{text}"
    );
    assert_eq!(
        text.matches("[ok]  DTLS handshake: UE connected as server")
            .count(),
        1
    );
    assert_eq!(
        text.matches("[ok]  DTLS handshake: UE connected as client")
            .count(),
        1
    );
    assert_eq!(
        text.matches("[ok]  AGW released: the AGW logged \"context deleted\"")
            .count(),
        2
    );
    assert_eq!(leftovers(pid), Vec::<String>::new(), "the run left these");
    assert_eq!(
        processes_of(pid),
        Vec::<String>::new(),
        "the run left these"
    );
}

#[test]
fn two_node_lab_with_builtin_ue_passes_both_figures_and_leaves_nothing() {
    if !netns_available("lab_netns builtin") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (out, pid) = lab(&[
        "--netns",
        "--transport",
        "tcp",
        "--ue",
        "builtin",
        "--seconds",
        "2",
    ]);
    assert_two_node_pass(&out, pid);
    assert!(String::from_utf8_lossy(&out.stdout).contains("UE   builtin"));
}

#[test]
fn two_node_lab_with_aiortc_ue_passes_both_figures() {
    if !netns_available("lab_netns aiortc") {
        return;
    }
    if common::oracle_python("lab_netns aiortc").is_none() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (out, pid) = lab(&[
        "--netns",
        "--transport",
        "tcp",
        "--ue",
        "aiortc",
        "--seconds",
        "2",
    ]);
    assert_two_node_pass(&out, pid);
    assert!(String::from_utf8_lossy(&out.stdout).contains("UE   aiortc"));
}

/// A crashed run's leftovers go with `--netns-cleanup`, a live run's namespaces stay; SIGINT
/// then ends the live run with 130 and removes its namespaces, link and processes.
#[test]
fn cleanup_removes_dead_runs_only_and_sigint_cleans_up() {
    if !netns_available("lab_netns cleanup") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // a "crashed run": the pid of a process that has exited
    let mut t = Command::new("true").spawn().expect("true");
    let dead = t.id();
    t.wait().expect("true exits");
    let (alg, agw) = (format!("iqlab-{dead}-alg"), format!("iqlab-{dead}-agw"));
    let unrelated = format!("iqtest-keep-{}", std::process::id());
    for ns in [&alg, &agw, &unrelated] {
        assert!(Command::new("ip")
            .args(["netns", "add", ns])
            .status()
            .unwrap()
            .success());
    }
    let link = format!("iql{dead}");
    assert!(Command::new("ip")
        .args(["link", "add", &link, "type", "veth", "peer", "name", "x0", "netns", &agw])
        .status()
        .unwrap()
        .success());
    assert_eq!(leftovers(dead).len(), 3);

    // a live run, up to its first figure
    let mut child = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args(["lab", "--netns", "--transport", "tcp", "--seconds", "3"])
        .arg("--bin-dir")
        .arg(bin_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run iq-interop lab");
    let live = child.id();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    loop {
        let l = lines
            .next()
            .unwrap_or_else(|| panic!("lab ended before its first figure:\n{seen}"))
            .expect("line");
        seen.push_str(&l);
        seen.push('\n');
        if l.contains("== Figure 6.2.10.5.1") {
            break;
        }
        assert!(Instant::now() < deadline, "{seen}");
    }
    assert_eq!(leftovers(live).len(), 5, "{seen}");

    let out = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args(["lab", "--netns-cleanup"])
        .output()
        .expect("cleanup runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    println!("{text}{err}");
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    assert_eq!(leftovers(dead), Vec::<String>::new(), "{text}");
    // (the root link went with the namespace holding its peer)
    assert!(text.contains(&alg) && text.contains(&agw), "{text}");
    assert_eq!(
        leftovers(live).len(),
        5,
        "the live run's namespaces went: {text}"
    );
    assert!(text.contains(&format!("kept iqlab-{live}-")), "{text}");
    assert!(ip_out(&["netns", "list"]).contains(&unrelated));
    let _ = Command::new("ip")
        .args(["netns", "del", &unrelated])
        .status();

    // SIGINT the live run: exit 130, everything of it gone
    assert!(
        processes_of(live).len() >= 2,
        "the daemons should be running"
    );
    assert!(Command::new("kill")
        .args(["-INT", &live.to_string()])
        .status()
        .unwrap()
        .success());
    let status = child.wait().expect("lab exits");
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    eprintln!("{err}");
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("SIGINT: removing the namespaces"), "{err}");
    assert_eq!(leftovers(live), Vec::<String>::new());
    // the killed processes may take a moment to be reaped by init
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_of(live).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_of(live), Vec::<String>::new());
}

/// Without `ip` on PATH (or without root) the lab says what it needs and exits 2.
#[test]
fn without_ip_the_netns_lab_says_so_and_exits_2() {
    let empty = std::env::temp_dir().join(format!("iq-lab-noip-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    for args in [&["lab", "--netns"][..], &["lab", "--netns-cleanup"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
            .args(args)
            .env("PATH", &empty)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("`ip` (iproute2) is needed") || err.contains("need root"),
            "{err}"
        );
        assert!(out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("PASS"));
    }
    let _ = std::fs::remove_dir_all(&empty);
}
