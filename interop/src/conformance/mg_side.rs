//! `--mgc`: the other direction. We act as an MG (iq-link's [`Mg`] over [`MgDriver`]) and
//! register with the controller under test: its ServiceChange reply must accept us (version,
//! profile), and it must answer our Notify.

use std::net::SocketAddr;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use iq_codec::model::{ActionReply, ActionRequest, ErrorDescriptor, MId, TransactionResult};
use iq_link::association::{mg, Mg, MgConfig};
use iq_link::driver::{format_mid, MgDriver};
use iq_link::transaction::Encoding;
use iq_link::transport::{TransportConfig, TransportKind};

use super::check;
use super::report::{Outcome, Verdict};

/// Everything the MG side needs.
pub struct MgSide {
    /// Our mId.
    pub mid: MId,
    /// The controller's mId.
    pub mgc_mid: MId,
    /// Its address.
    pub mgc_addr: SocketAddr,
    /// Transport.
    pub transport: TransportKind,
    /// BER.
    pub binary: bool,
    /// Wait this long for registration and replies.
    pub timeout: Duration,
}

/// 501 for every request of the controller (we serve nothing); ROOT audits are answered by
/// the association itself.
fn refuse(actions: &[ActionRequest]) -> TransactionResult {
    TransactionResult::Actions(
        actions
            .iter()
            .map(|a| ActionReply {
                context: a.context,
                error: Some(ErrorDescriptor {
                    code: 501,
                    text: Some("iq-interop conformance MG serves no calls".into()),
                }),
                context_reply: None,
                commands: Vec::new(),
            })
            .collect(),
    )
}

fn notify_actions() -> Result<Vec<ActionRequest>, String> {
    // H.248.14 inactivity timeout on ROOT: the MG-driven keepalive of TS 29.334 Table 5.12.3
    let msg = "MEGACO/3 [127.0.0.1]:1\nTransaction = 1 { Context = - { Notify = ROOT { ObservedEvents = 0 { it/ito } } } }";
    let m = iq_codec::text::decode(msg.as_bytes()).map_err(|e| e.to_string())?;
    match m.body {
        iq_codec::model::MessageBody::Transactions(ts) => match ts.into_iter().next() {
            Some(iq_codec::model::Transaction::Request(r)) => Ok(r.actions),
            _ => Err("not a request".into()),
        },
        _ => Err("not a request".into()),
    }
}

impl MgSide {
    /// Run the MG-side scenarios.
    pub fn run(&self) -> Vec<Outcome> {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                return vec![Outcome {
                    name: "mgc-registration",
                    about: "",
                    verdict: Verdict::Fail(format!("[internal] tokio: {e}")),
                    time: Duration::ZERO,
                    steps: Vec::new(),
                }]
            }
        };
        rt.block_on(self.run_async())
    }

    async fn run_async(&self) -> Vec<Outcome> {
        let mut out = Vec::new();
        let start = Instant::now();
        let mut steps = Vec::new();
        let mut cfg = MgConfig::new(self.mid.clone(), self.mgc_mid.clone());
        cfg.transaction.encoding = if self.binary {
            Encoding::Binary
        } else {
            Encoding::Text(iq_codec::text::Style::Pretty)
        };
        cfg.transaction.reliable = self.transport != TransportKind::Udp;
        cfg.inactivity_timer = false;
        cfg.connect_timeout = self.timeout;
        let mg = match Mg::new(cfg) {
            Ok(m) => m,
            Err(e) => {
                out.push(Outcome {
                    name: "mgc-registration",
                    about: "",
                    verdict: Verdict::Fail(format!("[internal] {e}")),
                    time: Duration::ZERO,
                    steps,
                });
                return out;
            }
        };
        let mut driver = MgDriver::new(
            mg,
            TransportConfig::new(self.transport),
            self.mgc_addr,
            None,
        );
        let (tx, rx) = std_mpsc::channel::<mg::Event>();
        let mut on_event = |m: &mut Mg, now: Instant, ev: mg::Event| {
            if let mg::Event::Request { id, actions } = &ev {
                let _ = m.send_reply(now, *id, refuse(actions));
            }
            let _ = tx.send(ev);
        };
        // 1. registration
        let deadline = Instant::now() + self.timeout;
        let mut registered = None;
        let mut failure = None;
        steps.push(format!(
            "connecting to {} ({}) as {}",
            self.mgc_addr,
            format_mid(&self.mgc_mid),
            format_mid(&self.mid)
        ));
        while registered.is_none() && failure.is_none() && Instant::now() < deadline {
            driver
                .run_until(tokio::time::sleep(Duration::from_millis(50)), &mut on_event)
                .await;
            while let Ok(ev) = rx.try_recv() {
                steps.push(format!("{ev:?}"));
                match ev {
                    mg::Event::Registered {
                        version,
                        profile,
                        method,
                        ..
                    } => registered = Some((version, profile, method)),
                    mg::Event::RegistrationFailed { failure: f, .. } => {
                        failure = Some(format!("{f:?}"))
                    }
                    _ => {}
                }
            }
        }
        let verdict = match (&registered, &failure) {
            (Some((v, _, _)), _) if !(2..=3).contains(v) => Verdict::Fail(format!(
                "[digest §1.2 Iq uses H.248.1 version 3, at least 2] negotiated version {v}"
            )),
            (Some(_), _) => Verdict::Pass,
            (None, Some(f)) => Verdict::Fail(format!(
                "[H.248.1 §11.2 the MGC accepts a configured MG's ServiceChange Restart] {f}"
            )),
            (None, None) => Verdict::Fail(format!(
                "[H.248.1 §11.2 the ServiceChange is answered] no registration within {:?}",
                self.timeout
            )),
        };
        out.push(Outcome {
            name: "mgc-registration",
            about: "ServiceChange Restart 901, version 3, profile threegiq/1: the MGC accepts it",
            verdict,
            time: start.elapsed(),
            steps: std::mem::take(&mut steps),
        });
        // 2. Notify
        let start = Instant::now();
        let verdict = if registered.is_none() {
            Verdict::NotApplicable("not registered".into())
        } else {
            match notify_actions().and_then(|a| {
                driver
                    .mg
                    .send_request(Instant::now(), a)
                    .map_err(|e| e.to_string())
            }) {
                Err(e) => Verdict::Fail(format!("[internal] cannot send Notify: {e}")),
                Ok(id) => {
                    steps.push(format!("Notify ROOT it/ito sent as transaction {id}"));
                    let deadline = Instant::now() + self.timeout;
                    let mut got = None;
                    while got.is_none() && Instant::now() < deadline {
                        driver
                            .run_until(tokio::time::sleep(Duration::from_millis(50)), &mut on_event)
                            .await;
                        while let Ok(ev) = rx.try_recv() {
                            match ev {
                                mg::Event::Reply { id: r, result } if r == id => {
                                    got = Some(Ok(result))
                                }
                                mg::Event::Timeout { id: r } | mg::Event::Abandoned { id: r }
                                    if r == id =>
                                {
                                    got = Some(Err("no reply".to_string()))
                                }
                                other => steps.push(format!("{other:?}")),
                            }
                        }
                    }
                    match got {
                        Some(Ok(r)) => {
                            steps.push(format!(
                                "reply: {}",
                                check::reply_text(&r)
                                    .split_whitespace()
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            ));
                            match check::first_error(&r) {
                                Some((code, t)) if !(400..600).contains(&code) => Verdict::Fail(format!(
                                    "[H.248.8 error codes are 400..599] Notify answered with {code} {t:?}"
                                )),
                                _ => Verdict::Pass,
                            }
                        }
                        Some(Err(e)) => Verdict::Fail(format!(
                            "[H.248.1 §8.2 the MGC answers every Notify] {e}"
                        )),
                        None => Verdict::Fail(format!(
                            "[H.248.1 §8.2 the MGC answers every Notify] no reply within {:?}",
                            self.timeout
                        )),
                    }
                }
            }
        };
        out.push(Outcome {
            name: "mgc-notify",
            about: "Notify on ROOT (it/ito): the MGC answers it",
            verdict,
            time: start.elapsed(),
            steps: std::mem::take(&mut steps),
        });
        driver
            .shutdown(
                iq_codec::model::ServiceChangeMethod::Forced,
                905,
                Duration::from_secs(1),
                &mut on_event,
            )
            .await;
        out
    }
}
