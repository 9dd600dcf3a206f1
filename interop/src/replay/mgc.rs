//! `--as mgc`: we are the recorded controller. The gateway under test registers with us; we
//! send the recorded controller's requests in order, wait for each reply, and compare it with
//! the recorded reply.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use iq_codec::model::{ActionRequest, MessageBody, Transaction, TransactionId, TransactionResult};
use iq_link::transport::TransportKind;
use serde_json::Value;

use super::diff::{Difference, Mapping, Rules};
use super::ReplayArgs;
use crate::conformance::link::{Link, LinkConfig};
use crate::trace::{Direction, Encoding, Trace};

/// One recorded controller transaction.
pub(super) struct Step {
    pub(super) frame: u32,
    time: f64,
    pub(super) id: TransactionId,
    pub(super) actions: Vec<ActionRequest>,
    pub(super) recorded: Option<TransactionResult>,
    /// When the recorded reply came (same clock as `time`).
    pub(super) replied: Option<f64>,
}

/// The verdict of one step.
pub struct Verdict {
    /// Recorded transaction ID.
    pub id: TransactionId,
    /// Frame of the recorded request.
    pub frame: u32,
    /// Command names.
    pub commands: String,
    /// Differences (empty: match), or the failure to get a reply.
    pub result: Result<Vec<Difference>, String>,
}

pub(super) fn steps(trace: &Trace) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    for m in &trace.messages {
        let MessageBody::Transactions(ts) = &m.message.body else {
            continue;
        };
        for t in ts {
            match (m.direction, t) {
                // A retransmission (UDP): same ID and actions as a request already taken.
                (Direction::MgcToMg, Transaction::Request(r))
                    if out.iter().any(|s| s.id == r.id && s.actions == r.actions) => {}
                (Direction::MgcToMg, Transaction::Request(r)) => out.push(Step {
                    frame: m.frame,
                    time: m.time,
                    id: r.id,
                    actions: r.actions.clone(),
                    recorded: None,
                    replied: None,
                }),
                (Direction::MgToMgc, Transaction::Reply(r)) => {
                    if let Some(s) = out
                        .iter_mut()
                        .find(|s| s.id == r.id && s.recorded.is_none())
                    {
                        s.recorded = Some(r.result.clone());
                        s.replied = Some(m.time);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

pub(super) fn commands(actions: &[ActionRequest]) -> String {
    actions
        .iter()
        .flat_map(|a| a.commands.iter().map(|c| c.command.name()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The built-in rules and `--rules` (`None`: reported on stderr).
pub(super) fn load_rules(a: &ReplayArgs) -> Option<Rules> {
    let mut rules = load_rules_file(a)?;
    if let Some(ms) = a.max_reply_ms {
        rules.max_reply_ms = ms;
    }
    Some(rules)
}

fn load_rules_file(a: &ReplayArgs) -> Option<Rules> {
    match &a.rules {
        None => Some(Rules::default()),
        Some(p) => match std::fs::read_to_string(p)
            .map_err(|e| e.to_string())
            .and_then(|t| Rules::from_toml(&t))
        {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("iq-interop replay: {}: {e}", p.display());
                None
            }
        },
    }
}

/// `--transport` (`None`: reported on stderr).
pub(super) fn transport_kind(t: &str) -> Option<TransportKind> {
    match t {
        "tcp" => Some(TransportKind::Tcp),
        "udp" => Some(TransportKind::Udp),
        "sctp" => Some(TransportKind::Sctp),
        other => {
            eprintln!("iq-interop replay: unknown transport {other:?} (tcp, udp, sctp)");
            None
        }
    }
}

/// Runs the replay; prints the report.
pub fn run(a: &ReplayArgs, trace: &Trace) -> ExitCode {
    let Some(rules) = load_rules(a) else {
        return ExitCode::from(2);
    };
    let Some(target) = a.target else {
        eprintln!("iq-interop replay: --target ADDR (the gateway under test) is required");
        return ExitCode::from(2);
    };
    let Some(transport) = transport_kind(&a.transport) else {
        return ExitCode::from(2);
    };
    let ctrl = trace
        .messages
        .iter()
        .find(|m| m.direction == Direction::MgcToMg);
    let mid = match (&a.mid, ctrl) {
        (Some(s), _) => iq_link::driver::parse_mid(s),
        (None, Some(m)) => Ok(m.message.mid.clone()),
        (None, None) => Err("the trace has no controller message".into()),
    };
    let mid = match mid {
        Ok(m) => m,
        Err(e) => {
            eprintln!("iq-interop replay: our mId: {e}");
            return ExitCode::from(2);
        }
    };
    let steps = steps(trace);
    if steps.is_empty() {
        eprintln!("iq-interop replay: no controller request in the trace");
        return ExitCode::from(2);
    }
    let timeout = Duration::from_secs_f64(a.timeout.clamp(0.1, 3600.0));
    let (tap, wire) = match a.pcap {
        Some(_) => {
            let (tx, rx) = std::sync::mpsc::channel();
            (Some(tx), Some(rx))
        }
        None => (None, None),
    };
    let mut link = match Link::start_tapped(
        LinkConfig {
            mid,
            mg_mid: None,
            mg_addr: target.ip(),
            mg_port: (target.port() != 0).then_some(target.port()),
            transport,
            binary: ctrl.is_some_and(|m| m.encoding == Encoding::Binary),
            listen: a.listen,
            request_timeout: timeout,
        },
        tap,
    ) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("iq-interop replay: {e}");
            return ExitCode::from(2);
        }
    };
    println!("listening on {} for the gateway at {target}", link.addr);
    let Some(reg) = link.wait_registered(timeout) else {
        eprintln!("iq-interop replay: the gateway did not register within {timeout:?}");
        return ExitCode::from(2);
    };
    println!(
        "gateway {} registered from {}",
        iq_link::driver::format_mid(&reg.mid),
        reg.address
    );
    let progress = super::progress::Progress::new(steps.len(), a.quiet, a.progress_every);
    let verdicts = replay(&link, &steps, &rules, a.fast, progress);
    drop(link);
    let code = report(&verdicts, trace, a.junit.as_deref(), target);
    if let (Some(p), Some(rx)) = (&a.pcap, wire) {
        match super::record::write_pcap(p, rx.try_iter()) {
            Ok(n) => println!("pcap: {n} H.248 message(s) in {}", p.display()),
            Err(e) => {
                eprintln!("iq-interop replay: {e}");
                return ExitCode::from(2);
            }
        }
    }
    code
}

fn replay(
    link: &Link,
    steps: &[Step],
    rules: &Rules,
    fast: bool,
    mut progress: super::progress::Progress,
) -> Vec<Verdict> {
    let mut failed = 0;
    let mut map = Mapping::default();
    let mut out = Vec::new();
    let start = Instant::now();
    let t0 = steps.first().map_or(0.0, |s| s.time);
    for s in steps {
        if !fast {
            let due = s.time - t0;
            if due.is_finite() && due > 0.0 {
                let due = Duration::from_secs_f64(due.min(3600.0));
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        }
        let commands = commands(&s.actions);
        let result = (|| {
            let mut req = serde_json::to_value(&s.actions).map_err(|e| e.to_string())?;
            map.substitute(&mut req, rules);
            let actions: Vec<ActionRequest> =
                serde_json::from_value(req).map_err(|e| format!("substitution: {e}"))?;
            let sent = Instant::now();
            let live = link.request(actions)?;
            let took = sent.elapsed();
            let Some(rec) = &s.recorded else {
                return Err("no recorded reply in the trace to compare with".to_string());
            };
            let (r, l) = (to_value(rec)?, to_value(&live)?);
            let mut d = map.compare(&r, &l, rules);
            if let Some(late) = latency(s, took, rules) {
                d.push(late);
            }
            Ok(d)
        })();
        if !matches!(&result, Ok(d) if d.is_empty()) {
            failed += 1;
        }
        out.push(Verdict {
            id: s.id,
            frame: s.frame,
            commands,
            result,
        });
        progress.step(out.len(), failed);
    }
    progress.finish();
    out
}

/// The `latency` difference of a reply that took `took`, when that is over the rules' limit.
fn latency(s: &Step, took: Duration, rules: &Rules) -> Option<Difference> {
    let ms = took.as_millis();
    if ms <= u128::from(rules.max_reply_ms) {
        return None;
    }
    let recorded = match s.replied.map(|r| (r - s.time) * 1000.0) {
        Some(r) if r.is_finite() && r >= 0.0 => format!("recorded {r:.0} ms"),
        _ => "no recorded time".to_string(),
    };
    Some(Difference {
        path: "latency".into(),
        what: format!(
            "reply after {ms} ms, over max_reply_ms {} ({recorded})",
            rules.max_reply_ms
        ),
    })
}

fn to_value(r: &TransactionResult) -> Result<Value, String> {
    serde_json::to_value(r).map_err(|e| e.to_string())
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) fn report(
    verdicts: &[Verdict],
    trace: &Trace,
    junit: Option<&std::path::Path>,
    target: SocketAddr,
) -> ExitCode {
    let mut failed = 0;
    for v in verdicts {
        match &v.result {
            Ok(d) if d.is_empty() => {
                println!("MATCH     T{} (frame {}) {}", v.id, v.frame, v.commands)
            }
            Ok(d) => {
                failed += 1;
                println!("MISMATCH  T{} (frame {}) {}", v.id, v.frame, v.commands);
                for x in d {
                    println!("    {x}");
                }
            }
            Err(e) => {
                failed += 1;
                println!(
                    "FAILED    T{} (frame {}) {}: {e}",
                    v.id, v.frame, v.commands
                );
            }
        }
    }
    println!(
        "{} transaction(s): {} matched, {failed} did not; {} trace error(s)",
        verdicts.len(),
        verdicts.len() - failed,
        trace.errors.len()
    );
    if let Some(p) = junit {
        let mut x = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"replay {}\" tests=\"{}\" failures=\"{failed}\">\n",
            xml(&target.to_string()),
            verdicts.len()
        );
        for v in verdicts {
            x.push_str(&format!(
                "  <testcase classname=\"replay\" name=\"T{} frame {} {}\"",
                v.id,
                v.frame,
                xml(&v.commands)
            ));
            match &v.result {
                Ok(d) if d.is_empty() => x.push_str("/>\n"),
                Ok(d) => {
                    let body: Vec<String> = d.iter().map(|d| xml(&d.to_string())).collect();
                    x.push_str(&format!(
                        ">\n    <failure message=\"{} difference(s)\">{}</failure>\n  </testcase>\n",
                        d.len(),
                        body.join("\n")
                    ));
                }
                Err(e) => x.push_str(&format!(
                    ">\n    <failure message=\"{}\"/>\n  </testcase>\n",
                    xml(e)
                )),
            }
        }
        x.push_str("</testsuite>\n");
        if let Err(e) = std::fs::write(p, x) {
            eprintln!("iq-interop replay: cannot write {}: {e}", p.display());
            return ExitCode::from(2);
        }
    }
    if failed == 0 && trace.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
