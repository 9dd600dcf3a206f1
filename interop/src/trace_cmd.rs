//! `iq-interop trace`: a trace (pcap, pcapng or text trace) as a ladder, one line per
//! transaction part (request, reply, pending, acknowledgement) or message error:
//!
//! ```text
//!     0.000  <alg.example.net>  <------  <agw.example.net>  T1 request  C=-: ServiceChange root
//!     0.012  <alg.example.net>  ------>  <agw.example.net>  T1 reply  C=-: ServiceChange root
//!     0.250  <alg.example.net>  ------>  <agw.example.net>  T11 request  C=$: Add $
//! ```
//!
//! The controller's mId is the left column, the gateway's the right one; the arrow points from
//! the sender to the receiver (`--?-->` when the direction is unknown). `--context` and
//! `--termination` keep the transactions (request, pending, reply and acknowledgement together)
//! in which any action names that context or any command that termination.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use iq_codec::binary::BinaryCodec;
use iq_codec::model::{
    ActionReply, ActionRequest, AuditReply, AuditReturnParameter, Command, CommandReply, ContextId,
    ErrorDescriptor, MessageBody, ServiceChangeResult, TerminationId, Transaction,
    TransactionResult,
};
use serde::Serialize;

use crate::trace::{self, Direction, Filter, TraceMessage};

/// `iq-interop trace` arguments.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Only the transactions in which an action names this context (`-`, `$`, `*` or a number).
    #[arg(long, value_name = "ID")]
    pub context: Option<String>,
    /// Only the transactions in which a command names this termination (case-insensitive).
    #[arg(long, value_name = "ID")]
    pub termination: Option<String>,
    /// One JSON object per ladder line instead of text.
    #[arg(long)]
    pub json: bool,
    /// H.248 ports in captures (UDP, TCP, SCTP; SCTP also by PPID 7).
    #[arg(long, value_delimiter = ',', default_values_t = [2944u16, 2945])]
    pub ports: Vec<u16>,
    /// The trace.
    pub trace: PathBuf,
}

/// One command of a ladder line.
#[derive(Debug, Clone, Serialize)]
pub struct LadderCommand {
    /// Command name (`Add`, `Notify`, ...).
    pub command: String,
    /// Termination IDs.
    pub terminations: Vec<String>,
    /// Observed event names (Notify requests).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// Error code of this command (reply, or a Notify's error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<u16>,
}

/// One action of a ladder line.
#[derive(Debug, Clone, Serialize)]
pub struct LadderAction {
    /// Context ID as text (`-`, `$`, `*`, number).
    pub context: String,
    /// Error code of the action (replies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<u16>,
    /// Commands.
    pub commands: Vec<LadderCommand>,
}

/// One ladder line.
#[derive(Debug, Clone, Serialize)]
pub struct LadderLine {
    /// Frame (capture) or block (text trace).
    pub frame: u32,
    /// Seconds since the epoch (or the trace's own zero).
    pub time: f64,
    /// Seconds since the trace's first message.
    pub offset: f64,
    /// `mgc->mg`, `mg->mgc` or `unknown`.
    pub direction: Direction,
    /// Sender's mId.
    pub from: String,
    /// `request`, `reply`, `pending`, `ack`, `segment` or `message-error`.
    pub kind: &'static str,
    /// Transaction ID (the first one for an acknowledgement range; absent for a message error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<u32>,
    /// Last acknowledged transaction of a range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<u32>,
    /// Actions (requests and replies).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<LadderAction>,
    /// Error code of the whole transaction or message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<u16>,
    /// Text of that error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
    /// The transaction this line belongs to: the requester's direction and the ID.
    #[serde(skip)]
    key: Option<(Direction, u32)>,
}

fn ctx(c: &ContextId) -> String {
    match c {
        ContextId::Null => "-".into(),
        ContextId::Choose => "$".into(),
        ContextId::All => "*".into(),
        ContextId::Id(i) => i.to_string(),
    }
}

fn tids(t: &[TerminationId]) -> Vec<String> {
    t.iter().map(|t| t.0.to_string()).collect()
}

fn request_action(a: &ActionRequest) -> LadderAction {
    let commands = a
        .commands
        .iter()
        .map(|c| {
            let (terminations, events, error) = match &c.command {
                Command::Add(x) | Command::Modify(x) | Command::Move(x) => {
                    (tids(&x.termination_ids), Vec::new(), None)
                }
                Command::Subtract(x) => (tids(&x.termination_ids), Vec::new(), None),
                Command::AuditValue(x) | Command::AuditCapabilities(x) => {
                    (tids(&x.termination_ids), Vec::new(), None)
                }
                Command::Notify(x) => (
                    tids(&x.termination_ids),
                    x.observed_events
                        .iter()
                        .flat_map(|o| o.events.iter().map(|e| e.name.to_string()))
                        .collect(),
                    x.error.as_ref().map(|e| e.code),
                ),
                Command::ServiceChange(x) => (tids(&x.termination_ids), Vec::new(), None),
            };
            LadderCommand {
                command: c.command.name().to_string(),
                terminations,
                events,
                error,
            }
        })
        .collect();
    LadderAction {
        context: ctx(&a.context),
        error: None,
        commands,
    }
}

fn audit_error(a: &Option<Vec<AuditReturnParameter>>) -> Option<u16> {
    a.iter().flatten().find_map(|p| match p {
        AuditReturnParameter::Error(e) => Some(e.code),
        _ => None,
    })
}

fn reply_action(a: &ActionReply) -> LadderAction {
    let commands = a
        .commands
        .iter()
        .map(|c| {
            let (terminations, error) = match c {
                CommandReply::Add(x)
                | CommandReply::Move(x)
                | CommandReply::Modify(x)
                | CommandReply::Subtract(x) => (tids(&x.termination_ids), audit_error(&x.audit)),
                CommandReply::AuditValue(x) | CommandReply::AuditCapabilities(x) => match x {
                    AuditReply::ContextAuditResult(t) => (tids(t), None),
                    AuditReply::Error(e) => (Vec::new(), Some(e.code)),
                    AuditReply::AuditResult {
                        termination_ids,
                        audit,
                    } => (tids(termination_ids), audit_error(&Some(audit.clone()))),
                },
                CommandReply::Notify(x) => {
                    (tids(&x.termination_ids), x.error.as_ref().map(|e| e.code))
                }
                CommandReply::ServiceChange(x) => (
                    tids(&x.termination_ids),
                    match &x.result {
                        ServiceChangeResult::Error(e) => Some(e.code),
                        _ => None,
                    },
                ),
            };
            LadderCommand {
                command: c.name().to_string(),
                terminations,
                events: Vec::new(),
                error,
            }
        })
        .collect();
    LadderAction {
        context: ctx(&a.context),
        error: a.error.as_ref().map(|e| e.code),
        commands,
    }
}

fn other(d: Direction) -> Direction {
    match d {
        Direction::MgcToMg => Direction::MgToMgc,
        Direction::MgToMgc => Direction::MgcToMg,
        _ => Direction::Unknown,
    }
}

/// The ladder lines of a trace, in frame order (message errors included).
pub fn ladder(messages: &[TraceMessage]) -> Vec<LadderLine> {
    let t0 = messages.first().map_or(0.0, |m| m.time);
    let mut out = Vec::new();
    for m in messages {
        let from = iq_link::driver::format_mid(&m.message.mid);
        let line = |kind, transaction, key| LadderLine {
            frame: m.frame,
            time: m.time,
            offset: m.time - t0,
            direction: m.direction,
            from: from.clone(),
            kind,
            transaction,
            last: None,
            actions: Vec::new(),
            error: None,
            error_text: None,
            key,
        };
        let ts = match &m.message.body {
            MessageBody::Error(e) => {
                let mut l = line("message-error", None, None);
                set_error(&mut l, e);
                out.push(l);
                continue;
            }
            MessageBody::Transactions(ts) => ts,
        };
        // The requester of a request or acknowledgement is the sender; of a reply or pending
        // the receiver.
        let mine = m.direction;
        let theirs = other(m.direction);
        for t in ts {
            match t {
                Transaction::Request(r) => {
                    let mut l = line("request", Some(r.id), Some((mine, r.id)));
                    l.actions = r.actions.iter().map(request_action).collect();
                    out.push(l);
                }
                Transaction::Reply(r) => {
                    let mut l = line("reply", Some(r.id), Some((theirs, r.id)));
                    match &r.result {
                        TransactionResult::Error(e) => set_error(&mut l, e),
                        TransactionResult::Actions(a) => {
                            l.actions = a.iter().map(reply_action).collect()
                        }
                    }
                    out.push(l);
                }
                Transaction::Pending(id) => {
                    out.push(line("pending", Some(*id), Some((theirs, *id))))
                }
                Transaction::ResponseAck(acks) => {
                    for a in acks {
                        let mut l = line("ack", Some(a.first), Some((mine, a.first)));
                        l.last = a.last;
                        out.push(l);
                    }
                }
                Transaction::SegmentReply(s) => {
                    out.push(line("segment", Some(s.id), Some((mine, s.id))))
                }
            }
        }
    }
    out
}

fn set_error(l: &mut LadderLine, e: &ErrorDescriptor) {
    l.error = Some(e.code);
    l.error_text = e.text.clone();
}

/// Keeps the lines of the transactions in which an action names `context` and a command names
/// `termination` (each when given). An acknowledgement range belongs to every transaction in it.
pub fn filter(
    lines: Vec<LadderLine>,
    context: Option<&str>,
    termination: Option<&str>,
) -> Vec<LadderLine> {
    if context.is_none() && termination.is_none() {
        return lines;
    }
    let termination = termination.map(str::to_ascii_lowercase);
    let hit = |l: &LadderLine| {
        context.is_none_or(|c| l.actions.iter().any(|a| a.context == c))
            && termination.as_deref().is_none_or(|t| {
                l.actions
                    .iter()
                    .flat_map(|a| &a.commands)
                    .any(|c| c.terminations.iter().any(|x| x == t))
            })
    };
    let keys: HashSet<(Direction, u32)> = lines
        .iter()
        .filter(|l| hit(l))
        .filter_map(|l| l.key)
        .collect();
    lines
        .into_iter()
        .filter(|l| match (l.kind, l.key) {
            ("ack", Some((d, first))) => {
                let last = l.last.unwrap_or(first);
                keys.iter()
                    .any(|(kd, id)| *kd == d && (first..=last).contains(id))
            }
            (_, Some(k)) => keys.contains(&k),
            _ => false,
        })
        .collect()
}

/// The text of one line's transaction part, e.g. `T5 reply    C=1: Add ip/acc/t1`.
pub fn describe(l: &LadderLine) -> String {
    let mut s = match (l.kind, l.transaction) {
        ("message-error", _) => "message".to_string(),
        ("ack", Some(id)) => match l.last {
            Some(last) => format!("ack T{id}-T{last}"),
            None => format!("ack T{id}"),
        },
        (k, Some(id)) => format!("T{id} {k}"),
        (k, None) => k.to_string(),
    };
    let acts: Vec<String> = l
        .actions
        .iter()
        .map(|a| {
            let mut p = format!("C={}:", a.context);
            if let Some(e) = a.error {
                p.push_str(&format!(" error {e}"));
            }
            let cmds: Vec<String> = a
                .commands
                .iter()
                .map(|c| {
                    let mut x = c.command.clone();
                    if !c.terminations.is_empty() {
                        x.push(' ');
                        x.push_str(&c.terminations.join(","));
                    }
                    if !c.events.is_empty() {
                        x.push_str(&format!(" [{}]", c.events.join(",")));
                    }
                    if let Some(e) = c.error {
                        x.push_str(&format!(" error {e}"));
                    }
                    x
                })
                .collect();
            if !cmds.is_empty() {
                p.push(' ');
                p.push_str(&cmds.join(", "));
            }
            p
        })
        .collect();
    if !acts.is_empty() {
        s.push_str("  ");
        s.push_str(&acts.join(" | "));
    }
    if let Some(e) = l.error {
        s.push_str(&format!("  error {e}"));
        if let Some(t) = &l.error_text {
            s.push_str(&format!(" {t:?}"));
        }
    }
    s
}

/// Entry point.
pub fn run(a: TraceArgs) -> ExitCode {
    use std::io::Write;
    let filt = Filter {
        ports: a.ports.clone(),
    };
    let trace = match trace::read(&a.trace, &filt, &BinaryCodec::default()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("iq-interop trace: {e}");
            return ExitCode::from(2);
        }
    };
    for e in &trace.errors {
        eprintln!("trace: {e}");
    }
    let mid_of = |d: Direction, dflt: &str| {
        trace
            .messages
            .iter()
            .find(|m| m.direction == d)
            .map_or(dflt.to_string(), |m| {
                iq_link::driver::format_mid(&m.message.mid)
            })
    };
    let (mgc, mg) = (
        mid_of(Direction::MgcToMg, "MGC"),
        mid_of(Direction::MgToMgc, "MG"),
    );
    let lines = filter(
        ladder(&trace.messages),
        a.context.as_deref(),
        a.termination.as_deref(),
    );
    let mut out = std::io::stdout().lock();
    let w = mgc.chars().count();
    for l in &lines {
        let r = if a.json {
            match serde_json::to_string(l) {
                Ok(s) => writeln!(out, "{s}"),
                Err(e) => {
                    eprintln!("iq-interop trace: {e}");
                    return ExitCode::from(2);
                }
            }
        } else {
            let (left, arrow, right) = match l.direction {
                Direction::MgcToMg => (mgc.as_str(), "------>", mg.as_str()),
                Direction::MgToMgc => (mgc.as_str(), "<------", mg.as_str()),
                _ => (l.from.as_str(), "--?-->", "?"),
            };
            writeln!(
                out,
                "{:>9.3}  {left:<w$}  {arrow}  {right}  {}",
                l.offset,
                describe(l)
            )
        };
        if r.is_err() {
            return ExitCode::from(2);
        }
    }
    if trace.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
