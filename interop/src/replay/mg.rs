//! `--as mg`: we are the recorded gateway. We connect to the controller under test and
//! register; every request it sends is compared with the next recorded controller request
//! (structurally, with the same role rules as `--as mgc`) and answered with the recorded
//! gateway's reply. The IDs we choose are the recorded gateway's (the replies are the recorded
//! ones), so the controller's later requests must name them as the recorded ones did; the
//! controller's own values (its addresses, ports, fingerprints) are matched by role.
//!
//! Not replayed: requests the recorded gateway sent on its own (Notify...), and the recorded
//! pacing (we answer at once).

use std::cell::RefCell;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use iq_codec::model::{ActionRequest, ErrorDescriptor, MId, TransactionResult};
use iq_link::association::mg::{self, Mg, MgConfig};
use iq_link::driver::MgDriver;
use iq_link::transport::{EncodingMode, TransportConfig, TransportKind};

use super::diff::{Mapping, Rules};
use super::mgc::{commands, load_rules, report, steps, transport_kind, Verdict};
use super::ReplayArgs;
use crate::trace::{Direction, Encoding, Trace};

struct State {
    next: usize,
    map: Mapping,
    verdicts: Vec<Verdict>,
    registered: bool,
    last: Instant,
    failed: usize,
}

/// Runs the replay as the gateway; prints the report.
pub fn run(a: &ReplayArgs, trace: &Trace) -> ExitCode {
    let Some(rules) = load_rules(a) else {
        return ExitCode::from(2);
    };
    let Some(target) = a.target else {
        eprintln!("iq-interop replay: --target ADDR (the controller under test) is required");
        return ExitCode::from(2);
    };
    let Some(kind) = transport_kind(&a.transport) else {
        return ExitCode::from(2);
    };
    let first = |d: Direction| trace.messages.iter().find(|m| m.direction == d);
    let (Some(gw), Some(ctrl)) = (first(Direction::MgToMgc), first(Direction::MgcToMg)) else {
        eprintln!(
            "iq-interop replay: the trace needs messages of both the gateway and the controller"
        );
        return ExitCode::from(2);
    };
    let mid: MId = match &a.mid {
        Some(s) => match iq_link::driver::parse_mid(s) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("iq-interop replay: our mId: {e}");
                return ExitCode::from(2);
            }
        },
        None => gw.message.mid.clone(),
    };
    let steps = steps(trace);
    if steps.is_empty() {
        eprintln!("iq-interop replay: no controller request in the trace");
        return ExitCode::from(2);
    }
    let binary = gw.encoding == Encoding::Binary;
    let timeout = Duration::from_secs_f64(a.timeout.clamp(0.1, 3600.0));
    let mut cfg = MgConfig::new(mid, ctrl.message.mid.clone());
    cfg.min_version = 1;
    cfg.connect_timeout = timeout;
    cfg.transaction.encoding = if binary {
        iq_link::transaction::Encoding::Binary
    } else {
        iq_link::transaction::Encoding::Text(iq_codec::text::Style::Pretty)
    };
    cfg.transaction.reliable = kind != TransportKind::Udp;
    let m = match Mg::new(cfg) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("iq-interop replay: gateway configuration refused: {e}");
            return ExitCode::from(2);
        }
    };
    let mut tc = TransportConfig::new(kind);
    tc.encoding = EncodingMode::Fixed(if binary {
        iq_link::transport::Encoding::Binary
    } else {
        iq_link::transport::Encoding::Text
    });
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("iq-interop replay: tokio runtime: {e}");
            return ExitCode::from(2);
        }
    };
    println!("registering with the controller at {target}");
    let state = RefCell::new(State {
        next: 0,
        map: Mapping::default(),
        verdicts: Vec::new(),
        registered: false,
        last: Instant::now(),
        failed: 0,
    });
    let mut progress = super::progress::Progress::new(steps.len(), a.quiet, a.progress_every);
    let mut on_event = |m: &mut Mg, now: Instant, ev: mg::Event| {
        let mut st = state.borrow_mut();
        match ev {
            mg::Event::Registered { mgc, version, .. } => {
                println!(
                    "registered with {} (version {version})",
                    iq_link::driver::format_mid(&mgc)
                );
                st.registered = true;
                st.last = now;
            }
            mg::Event::Request { id, actions } => {
                st.last = now;
                let (reply, verdict) = answer(&mut st, &steps, &actions, &rules);
                if let Err(e) = m.send_reply(now, id, reply) {
                    tracing::warn!(%e, "cannot send the reply");
                }
                if !matches!(&verdict.result, Ok(d) if d.is_empty()) {
                    st.failed += 1;
                }
                st.verdicts.push(verdict);
                progress.step(st.verdicts.len().min(steps.len()), st.failed);
            }
            mg::Event::RegistrationFailed { failure, .. } => {
                tracing::warn!(?failure, "registration failed");
            }
            _ => {}
        }
    };
    let stop = async {
        let start = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let (done, since) = {
                let st = state.borrow();
                (
                    st.next >= steps.len(),
                    if st.registered { st.last } else { start },
                )
            };
            if done {
                // let the last reply go out
                tokio::time::sleep(Duration::from_millis(100)).await;
                return;
            }
            if since.elapsed() > timeout {
                return;
            }
        }
    };
    rt.block_on(async {
        let mut driver = MgDriver::new(m, tc, target, None);
        driver.run_until(stop, &mut on_event).await;
        driver.mg.stop();
    });
    progress.finish();
    let mut st = state.into_inner();
    if !st.registered {
        eprintln!("iq-interop replay: could not register with {target} within {timeout:?}");
        return ExitCode::from(2);
    }
    for s in &steps[st.next.min(steps.len())..] {
        st.verdicts.push(Verdict {
            id: s.id,
            frame: s.frame,
            commands: commands(&s.actions),
            result: Err(format!(
                "the controller did not send this request (nothing within {timeout:?})"
            )),
        });
    }
    report(&st.verdicts, trace, a.junit.as_deref(), target)
}

/// The reply to one live request and its verdict.
fn answer(
    st: &mut State,
    steps: &[super::mgc::Step],
    live: &[ActionRequest],
    rules: &Rules,
) -> (TransactionResult, Verdict) {
    let Some(s) = steps.get(st.next) else {
        let error = ErrorDescriptor {
            code: 500,
            text: Some("iq-interop replay: not in the recorded trace".into()),
        };
        return (
            TransactionResult::Error(error),
            Verdict {
                id: 0,
                frame: 0,
                commands: commands(live),
                result: Err("an extra request, after every recorded one".into()),
            },
        );
    };
    st.next += 1;
    let result = (|| {
        let r = serde_json::to_value(&s.actions).map_err(|e| e.to_string())?;
        let l = serde_json::to_value(live).map_err(|e| e.to_string())?;
        Ok(st.map.compare(&r, &l, rules))
    })();
    let reply = s.recorded.clone().unwrap_or_else(|| {
        TransactionResult::Error(ErrorDescriptor {
            code: 500,
            text: Some("iq-interop replay: no recorded reply".into()),
        })
    });
    (
        reply,
        Verdict {
            id: s.id,
            frame: s.frame,
            commands: commands(&s.actions),
            result,
        },
    )
}
