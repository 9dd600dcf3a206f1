//! `iq-interop load` end to end, small: a few hundred figure 6.2.10.5.1 sessions through the
//! real `iq-alg` and `iq-agw` (two of them). Asserts that every session was set up and
//! released, that the ALG counted exactly the Iq transactions of the figure (four per session:
//! Add, Add, Modify, and one Subtract transaction for both terminations) and that the JSON
//! report is complete and self-consistent. Not a speed test: no figure is compared with a goal.

mod common;

use std::process::Command;

use serde_json::Value;

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    x.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number in the report: {x:?}"))
}

#[test]
fn few_hundred_sessions_set_up_and_released() {
    let alg = common::bin("iq-alg", "iq-alg");
    common::bin("iq-agw", "iq-agw");
    let bin_dir = alg.parent().expect("bin dir").to_path_buf();
    let sessions = 300u64;
    let out = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args([
            "load",
            "--sessions",
            &sessions.to_string(),
            "--rate",
            "600",
            "--concurrency",
            "60",
            "--hold",
            "0.3",
            "--duration",
            "15",
            "--agws",
            "2",
            "--json",
            "--bin-dir",
        ])
        .arg(&bin_dir)
        .output()
        .expect("iq-interop runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "load failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let r: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let n = sessions as f64;

    // Every session set up and released, nothing failed.
    for k in ["started", "set_up", "released"] {
        assert_eq!(num(&r, &["sessions", k]), n, "sessions.{k}: {r:#}");
    }
    assert_eq!(num(&r, &["sessions", "failed"]), 0.0);
    assert_eq!(num(&r, &["sessions", "unfinished"]), 0.0);
    assert!(
        r["failures"].as_object().is_some_and(|f| f.is_empty()),
        "{r:#}"
    );

    // The ALG's own count: per session one transaction per Add (two), one Modify and one
    // Subtract transaction (both terminations in it), all replied without error.
    let iq = &r["iq"];
    assert_eq!(num(iq, &["iq_requests"]), 4.0 * n, "{iq:#}");
    assert_eq!(num(iq, &["iq_add"]), 2.0 * n);
    assert_eq!(num(iq, &["iq_modify"]), n);
    assert_eq!(
        num(iq, &["iq_subtract"]),
        2.0 * n,
        "two terminations per Subtract"
    );
    assert_eq!(num(iq, &["iq_replies_ok"]), 4.0 * n);
    assert_eq!(num(iq, &["iq_replies_error"]), 0.0);
    assert_eq!(num(iq, &["iq_timeouts"]), 0.0);
    assert_eq!(num(iq, &["sessions_created"]), n);
    assert_eq!(num(iq, &["sessions_released"]), n);
    assert_eq!(
        num(iq, &["sessions_now"]),
        0.0,
        "the session table is empty again"
    );

    // Rates are the counts over the elapsed time.
    let secs = num(&r, &["elapsed_s"]);
    assert!(secs > 0.0);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
    assert!(close(num(&r, &["sessions_per_s"]), n / secs), "{r:#}");
    assert!(close(num(&r, &["iq_transactions_per_s"]), 4.0 * n / secs));
    // The hold paces the run: 300 sessions, 60 at a time, 0.3 s each take at least 1.5 s.
    assert!(secs >= 1.4, "elapsed {secs} s");

    // Latencies: one sample per session for each step, ordered percentiles, and the setup
    // (offer sent -> answer replied) spans the offer's and the answer's round trips.
    for k in ["setup", "offer", "answer", "delete"] {
        let p = &r["latency_ms"][k];
        assert_eq!(num(p, &["n"]), n, "latency {k}");
        let (p50, p99, p999, max) = (
            num(p, &["p50"]),
            num(p, &["p99"]),
            num(p, &["p999"]),
            num(p, &["max"]),
        );
        assert!(
            0.0 < p50 && p50 <= p99 && p99 <= p999 && p999 <= max,
            "{k}: {p:#}"
        );
    }
    assert!(num(&r, &["latency_ms", "setup", "p50"]) >= num(&r, &["latency_ms", "offer", "p50"]));

    // ng: three requests per session, and what was retransmitted is counted.
    assert_eq!(num(&r, &["ng", "requests"]), 3.0 * n);
    assert!(num(&r, &["ng", "retransmissions"]) >= 0.0);

    // Memory: sessions were held idle together, and the figure per idle session is
    // (RSS held - RSS before) / held.
    let m = &r["memory"];
    let held = num(m, &["held_sessions"]);
    assert!(held > 1.0 && held <= 60.0, "{m:#}");
    let per = num(m, &["agw_kib_per_idle_session"]);
    let before = num(m, &["agw_rss_before_kib"]);
    let at = num(m, &["agw_rss_held_kib"]);
    assert!(before > 0.0 && at > 0.0);
    assert!(close(per, (at - before).max(0.0) / held), "{m:#}");
    assert!(num(m, &["alg_rss_before_kib"]) > 0.0);
    assert_eq!(num(&r, &["config", "agws"]), 2.0);
    // CPU: both daemons worked, and per session is the total over the sessions.
    let cpu = &r["cpu"];
    for who in ["alg", "agw"] {
        let total = num(cpu, &[format!("{who}_secs").as_str()]);
        assert!(total > 0.0, "{cpu:#}");
        assert!(close(
            num(cpu, &[format!("{who}_us_per_session").as_str()]),
            total * 1e6 / n
        ));
    }
    assert!(r["soak"].is_null());
}

/// The process IDs whose parent is `ppid` (from `/proc/*/stat`).
fn children_of(ppid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // after "(comm)": state, ppid
        let parent = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if parent == Some(ppid) {
            out.push(pid);
        }
    }
    out
}

/// Alive and not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rfind(')')
            .and_then(|i| s[i + 1..].split_whitespace().next())
            .is_some_and(|st| st != "Z" && st != "X")
    })
}

/// `kill -TERM` sent to the tool alone (as a CI timeout or a lab engineer's `kill` does; not
/// Ctrl-C, which reaches the whole process group) stops the daemons it started, and the tool
/// exits with 130. Before, both daemons kept running after the tool was gone.
#[test]
fn a_signalled_load_run_stops_its_daemons() {
    let alg = common::bin("iq-alg", "iq-alg");
    common::bin("iq-agw", "iq-agw");
    let bin_dir = alg.parent().expect("bin dir").to_path_buf();
    let tool = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args([
            "load",
            "--sessions",
            "1000000",
            "--rate",
            "50",
            "--concurrency",
            "10",
            "--agws",
            "1",
            "--bin-dir",
        ])
        .arg(&bin_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("iq-interop runs");
    // both daemons up: two children, for a moment (and some sessions under way)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let daemons = loop {
        let c = children_of(tool.id());
        if c.len() >= 2 {
            break c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the load run did not start its two daemons within 20 s: {c:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    std::thread::sleep(std::time::Duration::from_secs(2));
    let status = Command::new("kill")
        .args(["-TERM", &tool.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while daemons.iter().any(|&p| alive(p)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let left: Vec<u32> = daemons.iter().copied().filter(|&p| alive(p)).collect();
    for p in &left {
        let _ = Command::new("kill")
            .args(["-KILL", &p.to_string()])
            .status();
    }
    let out = tool.wait_with_output().expect("the tool exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        left.is_empty(),
        "daemons {left:?} (of {daemons:?}) still running 10 s after the tool got SIGTERM; \
         its stderr:\n{stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(130),
        "exit status after SIGTERM: {}; stderr:\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains("SIGTERM: stopping the daemons it started"),
        "no word of the stop on stderr:\n{stderr}"
    );
}
