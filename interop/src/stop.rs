//! What happens when the tool itself is stopped by SIGINT, SIGTERM or SIGHUP: the daemons it
//! started are stopped (SIGTERM, SIGKILL after a 3 s grace time), then the run's registered
//! clean-ups run (the network namespaces of `lab --netns`), and the tool exits with 130.
//!
//! Without it a `kill` of `iq-interop load` or `iq-interop lab` (or a CI job's timeout) left
//! both daemons running: `Drop` does not run when a signal ends the process. Ctrl-C in a
//! terminal reaches the daemons too (same process group); a signal sent to the tool alone does
//! not.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

type Cleanup = Box<dyn FnOnce(&'static str) + Send>;

/// Daemons started and not yet stopped (process IDs).
static DAEMONS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// Clean-ups to run after the daemons are stopped, in registration order.
static CLEANUPS: Mutex<Vec<Cleanup>> = Mutex::new(Vec::new());
/// The signal thread, started once.
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// A failure of [`install`] has been reported.
static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// How long a daemon gets to exit after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

/// Start watching for the signals (once per process; later calls return the first result).
pub fn install() -> Result<(), String> {
    INSTALLED.get_or_init(spawn_watcher).clone()
}

/// A daemon the tool started: stopped if a signal ends the tool first. Starts the signal
/// thread on first use (a failure to start it is reported once, on stderr).
pub fn track_daemon(pid: u32) {
    if let Err(e) = install() {
        if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            eprintln!("iq-interop: {e}: the daemons it starts outlive it if it is killed");
        }
    }
    if let Ok(mut d) = DAEMONS.lock() {
        d.push(pid);
    }
}

/// The daemon has been stopped (or has exited) by the normal path.
pub fn forget_daemon(pid: u32) {
    if let Ok(mut d) = DAEMONS.lock() {
        d.retain(|&p| p != pid);
    }
}

/// Run `f` (given the signal's name) when a signal ends the tool, after its daemons are stopped.
pub fn on_signal(f: impl FnOnce(&'static str) + Send + 'static) {
    if let Ok(mut c) = CLEANUPS.lock() {
        c.push(Box::new(f));
    }
}

fn spawn_watcher() -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel::<Result<(), String>>();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(format!("signal handler runtime: {e}")));
                    return;
                }
            };
            let name = rt.block_on(async {
                use tokio::signal::unix::{signal, SignalKind};
                let (term, hup, int) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::hangup()),
                    signal(SignalKind::interrupt()),
                );
                let (mut term, mut hup, mut int) = match (term, hup, int) {
                    (Ok(a), Ok(b), Ok(c)) => (a, b, c),
                    (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                        let _ = tx.send(Err(format!("signal handler: {e}")));
                        return None;
                    }
                };
                let _ = tx.send(Ok(()));
                Some(tokio::select! {
                    _ = int.recv() => "SIGINT",
                    _ = term.recv() => "SIGTERM",
                    _ = hup.recv() => "SIGHUP",
                })
            });
            if let Some(name) = name {
                stop_all(name);
                std::process::exit(130);
            }
        })
        .map_err(|e| format!("signal handler thread: {e}"))?;
    rx.recv()
        .map_err(|_| "signal handler thread died".to_string())?
}

fn stop_all(name: &'static str) {
    let pids: Vec<u32> = DAEMONS.lock().map(|d| d.clone()).unwrap_or_default();
    if !pids.is_empty() {
        let list: Vec<String> = pids.iter().map(u32::to_string).collect();
        eprintln!(
            "iq-interop: {name}: stopping the daemons it started (pid {})",
            list.join(", ")
        );
        signal_all("-TERM", &list);
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline && pids.iter().any(|&p| running(p)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let left: Vec<String> = pids
            .iter()
            .filter(|&&p| running(p))
            .map(u32::to_string)
            .collect();
        if !left.is_empty() {
            eprintln!(
                "iq-interop: pid {} still running after {GRACE:?}: SIGKILL",
                left.join(", ")
            );
            signal_all("-KILL", &left);
        }
    }
    let cleanups: Vec<Cleanup> = CLEANUPS
        .lock()
        .map(|mut c| std::mem::take(&mut *c))
        .unwrap_or_default();
    for f in cleanups {
        f(name);
    }
}

fn signal_all(sig: &str, pids: &[String]) {
    let _ = std::process::Command::new("kill")
        .arg(sig)
        .args(pids)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// Alive and not a zombie (an exited child nobody has waited for yet counts as stopped).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_process_runs_and_a_reaped_one_does_not() {
        assert!(running(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().expect("true");
        let pid = child.id();
        // exited but not waited for: a zombie, which counts as stopped
        let deadline = Instant::now() + Duration::from_secs(5);
        while running(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!running(pid), "an exited child still counts as running");
        child.wait().expect("wait");
        assert!(!running(pid));
    }
}
