//! Real `iq-agw` registering with a real `iq-alg` over kernel SCTP (H.248.4) on 127.0.0.1.
//!
//! Kernel SCTP is missing on many build hosts (and CI), so this target is built only with the
//! `vm-tests` feature: `tools/sctp-vm/test.sh` builds it and runs it in a VM with sctp.ko loaded,
//! REQUIRE_KERNEL_SCTP=1 (a missing kernel SCTP is then a failure) and the daemons' paths in
//! IQ_ALG_BIN / IQ_AGW_BIN. Run by hand on a host without SCTP, the tests print a loud SKIPPED.

mod common;

use common::*;
use std::io::Write;
use std::time::{Duration, Instant};

use iq_link::transport::sctp;

/// Generous: the VM runs under software emulation (TCG).
const T: Duration = Duration::from_secs(20);

fn required() -> bool {
    std::env::var("REQUIRE_KERNEL_SCTP").is_ok_and(|v| v == "1")
}

/// True when kernel SCTP is there. Otherwise fails under REQUIRE_KERNEL_SCTP=1, or prints a
/// SKIPPED line that the test harness does not capture.
fn kernel_sctp(test: &str) -> bool {
    match sctp::probe() {
        Ok(()) => true,
        Err(e) if required() => panic!("REQUIRE_KERNEL_SCTP=1 but kernel SCTP is unavailable: {e}"),
        Err(_) => {
            let line = format!(
                "\n*** SKIPPED {test}: this kernel has no SCTP; run tools/sctp-vm/test.sh \
                 (REQUIRE_KERNEL_SCTP=1 turns this into a failure) ***\n"
            );
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
            false
        }
    }
}

/// ALG listening on SCTP 127.0.0.1 (ephemeral port) with --probe, AGW connecting to it:
/// registration on both sides, the probe's AuditValue answered, then SIGTERM to the AGW
/// (ServiceChange Forced reaches the ALG, exit 0) and to the ALG (exit 0).
fn register_over_sctp(test: &str, encoding: &str) {
    if !kernel_sctp(test) {
        return;
    }
    let (mut alg, addr) = start_alg("sctp", "127.0.0.1:0", encoding, &["--probe"]);
    assert_ne!(addr.port(), 0, "the ALG reports its actual SCTP port");
    let line = alg.seen.last().cloned().unwrap_or_default();
    assert!(line.contains("transport=SCTP"), "listening line: {line}");
    let mut agw = Proc::spawn(
        "agw",
        &agw_bin(),
        &agw_config("sctp", addr, encoding, "<agw1.example.net>"),
        &[],
    );
    alg.wait_for(
        &["registration accepted", "<agw1.example.net>", "Restart"],
        T,
    );
    agw.wait_for(&["iq_agw: registered", "Restart", "version=3"], T);
    agw.wait_for(&["request answered", "AuditValue"], T);
    alg.wait_for(&["probe reply: ok", "Packages"], T);
    agw.terminate();
    alg.wait_for(&["MG service change", "Forced"], T);
    assert_eq!(agw.wait_exit(T), Some(0));
    alg.terminate();
    assert_eq!(alg.wait_exit(T), Some(0));
}

#[test]
fn sctp_text_registration() {
    register_over_sctp("sctp_text_registration", "text");
}

#[test]
fn sctp_binary_registration() {
    register_over_sctp("sctp_binary_registration", "binary");
}

/// Loss recovery over SCTP: `iq-alg` is killed (SIGKILL, so no ServiceChange and no graceful
/// SHUTDOWN from the application; the kernel ends the association when the socket closes),
/// `iq-agw` reports the association lost, and after the ALG restarts on the same SCTP port the
/// AGW re-registers within the bound set by its `[reconnect]` backoff (300 ms doubling to 1 s,
/// `common::agw_config`), with a margin for TCG.
#[test]
fn sctp_agw_reregisters_after_alg_killed() {
    if !kernel_sctp("sctp_agw_reregisters_after_alg_killed") {
        return;
    }
    let (mut alg, addr) = start_alg("sctp", "127.0.0.1:0", "text", &[]);
    let mut agw = Proc::spawn(
        "agw",
        &agw_bin(),
        &agw_config("sctp", addr, "text", "<agw1.example.net>"),
        &[],
    );
    alg.wait_for(&["registration accepted", "Restart"], T);
    agw.wait_for(&["iq_agw: registered", "Restart"], T);

    alg.kill(); // SIGKILL, reaped
    let killed = Instant::now();
    agw.wait_for(&["association lost"], T);
    let noticed = killed.elapsed();
    // Loss seen through the association's end (ABORT / SHUTDOWN from the dying socket), not
    // through a keepalive or transaction timeout (keepalive_secs = 30).
    assert!(
        noticed < Duration::from_secs(10),
        "loss noticed after {noticed:?}"
    );

    let restarted = Instant::now();
    let (mut alg, addr2) = start_alg("sctp", &addr.to_string(), "text", &[]);
    assert_eq!(addr, addr2, "the ALG restarts on the same SCTP port");
    // At most 1 s between attempts once the backoff is at its maximum; an INIT to a closed port
    // is answered by ABORT at once. 10 s leaves room for TCG.
    let bound = Duration::from_secs(10);
    let line = agw.wait_for(&["iq_agw: registered"], bound);
    let took = restarted.elapsed();
    assert!(
        line.contains("Disconnected") || line.contains("Restart"),
        "method: {line}"
    );
    assert!(took < bound, "re-registered {took:?} after the restart");
    alg.wait_for(&["registration accepted"], T);
    let _ = std::io::stderr().lock().write_all(
        format!(
            "\niq-sctp-recovery: loss noticed {:.3} s after SIGKILL, re-registered {:.3} s after the restart\n",
            noticed.as_secs_f64(),
            took.as_secs_f64()
        )
        .as_bytes(),
    );
    agw.terminate();
    assert_eq!(agw.wait_exit(T), Some(0));
    alg.terminate();
    assert_eq!(alg.wait_exit(T), Some(0));
}

/// `iq-alg --bench`: AuditValue ROOT transactions to `iq-agw` over SCTP, all answered; the rate
/// goes straight to stderr (`iq-bench: ...`, kept in the VM log; not checked: TCG is slow).
#[test]
fn sctp_bench_transactions_per_second() {
    if !kernel_sctp("sctp_bench_transactions_per_second") {
        return;
    }
    let n = std::env::var("IQ_SCTP_BENCH_N").unwrap_or_else(|_| "500".into());
    let (mut alg, addr) = start_alg(
        "sctp",
        "127.0.0.1:0",
        "text",
        &["--bench", &n, "--bench-window", "64"],
    );
    let mut agw = Proc::spawn(
        "agw",
        &agw_bin(),
        &agw_config("sctp", addr, "text", "<agw1.example.net>"),
        &[],
    );
    let line = alg.wait_for(&["bench done"], Duration::from_secs(120));
    assert!(
        line.contains(&format!("n={n} ok={n} failed=0 window=64")),
        "{line}"
    );
    let tps: f64 = line
        .rsplit("tps=")
        .next()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no tps in {line:?}"));
    assert!(tps > 0.0, "{line}");
    let build = if alg_bin().components().any(|c| c.as_os_str() == "release") {
        "release build"
    } else {
        "debug build"
    };
    let msg = format!(
        "\niq-bench: iq-alg -> iq-agw over SCTP (text, {build}): {}\n",
        line.split("bench done").nth(1).unwrap_or(&line).trim()
    );
    let _ = std::io::stderr().lock().write_all(msg.as_bytes());
    assert_eq!(alg.wait_exit(T), Some(0));
    agw.kill();
}
