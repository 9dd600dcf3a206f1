//! `iq-interop lab --netns`: the lab as a true two-node deployment on one machine. Four network
//! namespaces of this run (`iqlab-<pid>-alg|agw|ue|core`) and veth links between them, with the
//! addresses of `deploy/alg.toml` and `deploy/agw.toml`:
//!
//! ```text
//!  root (lab: SIP proxy, ng client)
//!   iql<pid> 10.254.x.y/30 ── sip0 ─┐
//!                                   ALG host  iq0 192.0.2.10/24 ── iq0 192.0.2.20/24  AGW host
//!                                                    (Iq: SCTP or TCP)               │      │
//!         UE  acc0 198.51.100.2/24 ── acc0 198.51.100.1/24 (access realm) ───────────┘      │
//!       core  core0 10.0.0.20/24 ──── core0 10.0.0.10/24 (core realm) ──────────────────────┘
//! ```
//!
//! iq-alg runs in the ALG namespace, iq-agw in the AGW namespace, the UE in the access network,
//! our core agent (`iq-interop agent core`) in the core network, each via `ip netns exec`.
//! The Iq and access relays of the loopback lab are off: the processes talk to each other
//! directly. Everything is removed at the end, on failure, on SIGINT/SIGTERM/SIGHUP, and by
//! `--netns-cleanup` after a crash.

use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{LabArgs, Topology};

/// Namespace name prefix; the run's pid follows, then the role.
const PREFIX: &str = "iqlab-";
/// Root-side link name prefix; the run's pid follows.
const LINK_PREFIX: &str = "iql";
const ROLES: [&str; 4] = ["alg", "agw", "ue", "core"];

const ALG_IQ: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const AGW_IQ: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 20);
const AGW_ACCESS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const UE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const AGW_CORE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);
const CORE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 20);

/// Run `ip ARGS`; Err with its standard error.
fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Root and iproute2 with `ip netns`, or why not.
fn preflight() -> Result<(), String> {
    let euid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(String::from))
        })
        .unwrap_or_default();
    if euid != "0" {
        return Err(
            "network namespaces need root: run `iq-interop lab --netns` as root (or with sudo)"
                .into(),
        );
    }
    match Command::new("ip")
        .args(["netns", "list"])
        .stdin(Stdio::null())
        .output()
    {
        Err(e) => Err(format!(
            "`ip` (iproute2) is needed for --netns and could not run: {e} (Debian: apt-get \
             install iproute2)"
        )),
        Ok(o) if !o.status.success() => Err(format!(
            "`ip netns list` failed: {} (iproute2 with netns support is needed)",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => Ok(()),
    }
}

/// The namespaces and the root-side link of one run; removed once (end, failure or signal).
struct Net {
    pid: u32,
    done: Mutex<bool>,
    /// A signal ended the run: the signal thread tears down and exits with 130.
    interrupted: AtomicBool,
}

impl Net {
    fn ns(&self, role: &str) -> String {
        format!("{PREFIX}{}-{role}", self.pid)
    }

    fn link(&self) -> String {
        format!("{LINK_PREFIX}{}", self.pid)
    }

    fn wrap(&self, role: &str) -> Vec<String> {
        ["ip", "netns", "exec"]
            .into_iter()
            .map(String::from)
            .chain([self.ns(role)])
            .collect()
    }

    /// Create the namespaces and links; returns (root address, ALG's root-facing address).
    fn setup(&self) -> Result<(Ipv4Addr, Ipv4Addr), String> {
        for r in ROLES {
            let ns = self.ns(r);
            ip(&["netns", "add", &ns])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        let (root_ip, alg_ng_ip) = pick_root_subnet(self.pid)?;
        let link = self.link();
        let (alg, agw, ue, core) = (
            self.ns("alg"),
            self.ns("agw"),
            self.ns("ue"),
            self.ns("core"),
        );
        ip(&[
            "link", "add", &link, "type", "veth", "peer", "name", "sip0", "netns", &alg,
        ])?;
        ip(&["addr", "add", &format!("{root_ip}/30"), "dev", &link])?;
        ip(&["link", "set", &link, "up"])?;
        ip(&[
            "-n",
            &alg,
            "addr",
            "add",
            &format!("{alg_ng_ip}/30"),
            "dev",
            "sip0",
        ])?;
        ip(&["-n", &alg, "link", "set", "sip0", "up"])?;
        // point-to-point links between namespaces: same name at both ends
        let links = [
            ("iq0", &alg, ALG_IQ, &agw, AGW_IQ),
            ("acc0", &agw, AGW_ACCESS, &ue, UE),
            ("core0", &agw, AGW_CORE, &core, CORE),
        ];
        for (name, a, a_ip, b, b_ip) in links {
            ip(&[
                "-n", a, "link", "add", name, "type", "veth", "peer", "name", name, "netns", b,
            ])?;
            for (ns, addr) in [(a, a_ip), (b, b_ip)] {
                ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", name])?;
                ip(&["-n", ns, "link", "set", name, "up"])?;
            }
        }
        Ok((root_ip, alg_ng_ip))
    }

    /// Kill what still runs in the namespaces, delete them and the root link. Idempotent.
    fn teardown(&self) -> Vec<String> {
        let Ok(mut done) = self.done.lock() else {
            return Vec::new();
        };
        if *done {
            return Vec::new();
        }
        *done = true;
        let mut removed = Vec::new();
        for r in ROLES {
            if remove_ns(&self.ns(r)) {
                removed.push(self.ns(r));
            }
        }
        // deleting the ALG namespace deletes the veth pair; this catches a half-made setup
        let _ = ip(&["link", "del", &self.link()]);
        removed
    }
}

/// Kill the processes in a namespace (by pid, from `ip netns pids`) and delete it.
fn remove_ns(ns: &str) -> bool {
    if let Ok(pids) = ip(&["netns", "pids", ns]) {
        for pid in pids.split_whitespace() {
            if pid.parse::<u32>().is_ok() {
                let _ = Command::new("kill")
                    .args(["-KILL", pid])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
    ip(&["netns", "del", ns]).is_ok()
}

/// A /30 in 10.254.0.0/16 for the root side of the SIP proxy link: from the pid, the next one
/// no interface in the root namespace uses yet (parallel runs).
fn pick_root_subnet(pid: u32) -> Result<(Ipv4Addr, Ipv4Addr), String> {
    let used = ip(&["-o", "-4", "addr", "show"])?;
    for k in 0..16_384u32 {
        let n = (pid.wrapping_add(k)) % 16_384;
        let (c, d) = ((n / 64) as u8, ((n % 64) * 4) as u8);
        let root = Ipv4Addr::new(10, 254, c, d + 1);
        let alg = Ipv4Addr::new(10, 254, c, d + 2);
        let taken = used.split_whitespace().any(|w| {
            w.split('/')
                .next()
                .and_then(|a| a.parse::<Ipv4Addr>().ok())
                .is_some_and(|a| a == root || a == alg)
        });
        if !taken {
            return Ok((root, alg));
        }
    }
    Err("no free /30 in 10.254.0.0/16 for the SIP proxy link".into())
}

/// On SIGINT, SIGTERM or SIGHUP (after the daemons are stopped, `crate::stop`): tear down,
/// exit 130. Returns once the handler is installed.
fn install_signal_handler(net: Arc<Net>, keep: bool) -> Result<(), String> {
    crate::stop::on_signal(move |name| {
        net.interrupted.store(true, Ordering::SeqCst);
        eprintln!("iq-interop lab --netns: {name}: removing the namespaces of this run");
        let removed = net.teardown();
        eprintln!("netns: removed {}", removed.join(" "));
        if !keep {
            remove_run_dirs(net.pid);
        }
    });
    crate::stop::install()
}

/// The lab's configuration and log directories of run `pid` (`$TMPDIR/iq-lab-<pid>-<stamp>`),
/// removed when a signal ends the run.
fn remove_run_dirs(pid: u32) {
    let prefix = format!("iq-lab-{pid}-");
    if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Run the lab in network namespaces.
pub fn run(args: LabArgs) -> ExitCode {
    if let Err(e) = preflight() {
        eprintln!("iq-interop lab --netns: {e}");
        return ExitCode::from(2);
    }
    if args.pcap.is_some() {
        eprintln!(
            "iq-interop lab --netns: --pcap needs the lab's relays, which the two-node \
             deployment does not have (run `iq-interop lab --pcap FILE` on loopback)"
        );
        return ExitCode::from(2);
    }
    let net = Arc::new(Net {
        pid: std::process::id(),
        done: Mutex::new(false),
        interrupted: AtomicBool::new(false),
    });
    if let Err(e) = install_signal_handler(net.clone(), args.keep) {
        eprintln!("iq-interop lab --netns: {e}");
        return ExitCode::from(2);
    }
    // a panic below still removes the namespaces
    struct Guard(Arc<Net>);
    impl Drop for Guard {
        fn drop(&mut self) {
            let removed = self.0.teardown();
            if !removed.is_empty() {
                println!("netns: removed {}", removed.join(" "));
            }
        }
    }
    let guard = Guard(net.clone());
    let (root_ip, alg_ng_ip) = match net.setup() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("iq-interop lab --netns: setting up the namespaces: {e}");
            drop(guard);
            return ExitCode::from(2);
        }
    };
    println!(
        "netns: namespaces {} {} {} {}",
        net.ns("alg"),
        net.ns("agw"),
        net.ns("ue"),
        net.ns("core")
    );
    println!("  ALG host  {}: Iq {ALG_IQ}, ng {alg_ng_ip} (from the lab at {root_ip} in the root namespace)", net.ns("alg"));
    println!(
        "  AGW host  {}: Iq {AGW_IQ}, access realm {AGW_ACCESS}, core realm {AGW_CORE}",
        net.ns("agw")
    );
    println!("  access    {}: UE {UE}", net.ns("ue"));
    println!("  core      {}: core peer {CORE}", net.ns("core"));
    let topo = Topology {
        alg_ip: IpAddr::V4(ALG_IQ),
        alg_ng_ip: IpAddr::V4(alg_ng_ip),
        agw_ctl_ip: IpAddr::V4(AGW_IQ),
        agw_access_ip: IpAddr::V4(AGW_ACCESS),
        agw_core_ip: IpAddr::V4(AGW_CORE),
        lab_ip: IpAddr::V4(root_ip),
        ue_ip: IpAddr::V4(UE),
        core_ip: IpAddr::V4(CORE),
        wrap_alg: net.wrap("alg"),
        wrap_agw: net.wrap("agw"),
        wrap_ue: net.wrap("ue"),
        wrap_core: net.wrap("core"),
        fixed_ports: true,
        relays: false,
    };
    let code = match super::Lab::run(&args, topo) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("iq-interop lab: {e}");
            2
        }
    };
    drop(guard);
    if net.interrupted.load(Ordering::SeqCst) {
        // the lab failed because a signal killed its processes: the signal thread exits 130
        loop {
            std::thread::park();
        }
    }
    ExitCode::from(code)
}

/// Is `pid` a running iq-interop (a lab run that is still going)?
fn lab_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end() == "iq-interop")
}

/// The pid in `iqlab-<pid>-<role>` or `iql<pid>`.
fn pid_of(name: &str) -> Option<u32> {
    if let Some(rest) = name.strip_prefix(PREFIX) {
        let (pid, role) = rest.split_once('-')?;
        return ROLES.contains(&role).then(|| pid.parse().ok())?;
    }
    let rest = name.strip_prefix(LINK_PREFIX)?;
    rest.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| rest.parse().ok())?
}

/// `--netns-cleanup`: remove the namespaces and root links of runs that are no longer going.
/// Whether a namespace of that name still exists.
fn ns_exists(name: &str) -> bool {
    ip(&["netns", "list"])
        .map(|l| l.lines().any(|x| x.split_whitespace().next() == Some(name)))
        .unwrap_or(true)
}

pub fn cleanup_leftovers() -> ExitCode {
    if let Err(e) = preflight() {
        eprintln!("iq-interop lab --netns-cleanup: {e}");
        return ExitCode::from(2);
    }
    let list = match ip(&["netns", "list"]) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("iq-interop lab --netns-cleanup: {e}");
            return ExitCode::from(2);
        }
    };
    let mut removed = Vec::new();
    let mut kept = Vec::new();
    let mut failed = Vec::new();
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = pid_of(name) else { continue };
        if lab_alive(pid) {
            kept.push(name.to_string());
        } else if remove_ns(name) {
            removed.push(name.to_string());
        } else if ns_exists(name) {
            failed.push(name.to_string());
        }
        // (gone meanwhile: its own run removed it while we looked; nothing to do)
    }
    // root-side links (`N: iql123@if2: ...`) whose run is gone
    if let Ok(links) = ip(&["-o", "link", "show"]) {
        for l in links.lines() {
            let Some(name) = l.split(':').nth(1).map(|n| n.trim()) else {
                continue;
            };
            let name = name.split('@').next().unwrap_or(name);
            if pid_of(name).is_some_and(|p| !name.starts_with(PREFIX) && !lab_alive(p)) {
                if ip(&["link", "del", name]).is_ok() {
                    removed.push(name.to_string());
                } else if ip(&["link", "show", name]).is_ok() {
                    failed.push(name.to_string());
                }
                // (a link that vanished meanwhile went with its namespace's peer)
            }
        }
    }
    println!(
        "netns cleanup: removed {}",
        if removed.is_empty() {
            "nothing".to_string()
        } else {
            removed.join(" ")
        }
    );
    if !kept.is_empty() {
        println!(
            "netns cleanup: kept {} (their run is still going)",
            kept.join(" ")
        );
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("netns cleanup: could not remove {}", failed.join(" "));
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_names_are_recognised_by_their_pid() {
        assert_eq!(pid_of("iqlab-4242-agw"), Some(4242));
        assert_eq!(pid_of("iql4242"), Some(4242));
        // other people's namespaces and links
        assert_eq!(pid_of("iqlab-4242-other"), None);
        assert_eq!(pid_of("iqlab-x-alg"), None);
        assert_eq!(pid_of("iqlabs"), None);
        assert_eq!(pid_of("iql"), None);
        assert_eq!(pid_of("iql12a"), None);
        assert_eq!(pid_of("eth0"), None);
    }
}
