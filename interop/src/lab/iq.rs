//! The Iq association through the lab: a relay between the AGW and the ALG on the same
//! transport (iq-link's SCTP, TCP/TPKT or UDP/ALF), so that the lab sees every H.248 message,
//! summarises it for the ladder and records it for the pcap.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use iq_codec::model::{
    AmmDescriptor, Command, CommandReply, ContextId, Message, MessageBody, SignalsItem,
    Transaction, TransactionResult,
};
use iq_link::transport::{Connection, StreamKey, Transport, TransportConfig, TransportKind};

use super::pcap::{Record, Seen};

/// Everything the lab saw, shared between its threads.
pub type Log = Arc<Mutex<Vec<Record>>>;

/// Start the relay on its own thread: listen on `listen`, and for each association from the AGW
/// open one to `alg`. Returns the address the AGW must use.
pub fn start_relay(
    kind: TransportKind,
    listen: SocketAddr,
    alg: SocketAddr,
    log: Log,
) -> Result<SocketAddr, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("iq-relay".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(format!("Iq relay runtime: {e}")));
                    return;
                }
            };
            rt.block_on(async move {
                let cfg = TransportConfig::new(kind);
                let listener = match cfg.listen(listen).await {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = tx.send(Err(format!("Iq relay cannot listen on {listen}: {e}")));
                        return;
                    }
                };
                let _ = tx.send(Ok(listener.local_addr()));
                loop {
                    let Ok(from_agw) = listener.accept().await else {
                        continue;
                    };
                    let to_alg = match cfg.connect(alg, None).await {
                        Ok(c) => c,
                        Err(e) => {
                            eprintln!("lab: Iq relay cannot reach the ALG at {alg}: {e}");
                            continue;
                        }
                    };
                    let a = Arc::new(from_agw);
                    let b = Arc::new(to_alg);
                    tokio::spawn(pump(a.clone(), b.clone(), kind, alg, log.clone(), true));
                    tokio::spawn(pump(b, a, kind, alg, log.clone(), false));
                }
            });
        })
        .map_err(|e| format!("Iq relay thread: {e}"))?;
    rx.recv().map_err(|_| "Iq relay thread ended".to_string())?
}

async fn pump(
    from: Arc<Connection>,
    to: Arc<Connection>,
    kind: TransportKind,
    alg: SocketAddr,
    log: Log,
    agw_to_alg: bool,
) {
    // in the capture the association is AGW address <-> ALG address, as the two ends see it
    let agw = if agw_to_alg {
        from.peer_addr()
    } else {
        to.peer_addr()
    };
    loop {
        let m = match from.recv().await {
            Ok(m) => m,
            Err(e) if e.is_fatal() => return,
            Err(_) => continue,
        };
        let stream = m.stream.unwrap_or(0);
        let (src, dst) = if agw_to_alg { (agw, alg) } else { (alg, agw) };
        if let Ok(mut l) = log.lock() {
            l.push(Record {
                at: SystemTime::now(),
                what: Seen::Iq {
                    kind,
                    src,
                    dst,
                    stream,
                    data: m.data.to_vec(),
                },
            });
        }
        if to
            .send(&m.data, StreamKey(u64::from(stream)))
            .await
            .is_err()
        {
            return;
        }
    }
}

fn ctx(c: &ContextId) -> String {
    match c {
        ContextId::Null => "-".into(),
        ContextId::Choose => "$".into(),
        ContextId::All => "*".into(),
        ContextId::Id(i) => i.to_string(),
    }
}

/// What the Local/Remote SDP and descriptors of a command say, in a few words: realm, proto
/// of the m-line, the DTLS establishment signal, events.
fn details(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    if let Some(p) = lower.find("ipdc/realm") {
        // `ipdc/realm = access` or `ipdc/realm="access"`
        let v: String = text[p + "ipdc/realm".len()..]
            .trim_start_matches([' ', '='])
            .trim_start_matches('"')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        if !v.is_empty() {
            out.push(v);
        }
    }
    for l in text.lines() {
        let l = l.trim();
        if let Some(m) = l.strip_prefix("m=") {
            if let Some(proto) = m.split_whitespace().nth(2) {
                if !out.iter().any(|o| o == proto) {
                    out.push(proto.to_string());
                }
            }
        }
    }
    if lower.contains("estfail") {
        out.push("events estfail".into());
    }
    if lower.contains("a=fingerprint") {
        out.push("fingerprint".into());
    }
    if lower.contains("a=ice-ufrag") {
        out.push("ice".into());
    }
    out
}

/// One line per transaction of a message, e.g. `Request 7 C=$ Add $ (access, UDP/TLS/RTP/SAVPF, estab)`.
pub fn summarise(data: &[u8]) -> Vec<String> {
    let msg = match crate::trace::decode(data, &iq_codec::binary::BinaryCodec::default()) {
        Ok((m, _)) => m,
        Err(e) => return vec![format!("(undecodable: {e})")],
    };
    let ts = match &msg.body {
        MessageBody::Error(e) => return vec![format!("message error {}", e.code)],
        MessageBody::Transactions(ts) => ts,
    };
    let mut out = Vec::new();
    for t in ts {
        let one = Message {
            body: MessageBody::Transactions([t.clone()].into()),
            ..msg.clone()
        };
        let text = iq_codec::text::encode(&one, iq_codec::text::Style::Pretty);
        match t {
            Transaction::Request(r) => {
                let mut parts = Vec::new();
                for a in &r.actions {
                    for c in &a.commands {
                        let (name, tids): (&str, Vec<String>) = match &c.command {
                            Command::Add(x) | Command::Modify(x) | Command::Move(x) => (
                                c.command.name(),
                                x.termination_ids.iter().map(|t| t.0.to_string()).collect(),
                            ),
                            Command::Subtract(x) => (
                                "Subtract",
                                x.termination_ids.iter().map(|t| t.0.to_string()).collect(),
                            ),
                            Command::AuditValue(x) | Command::AuditCapabilities(x) => (
                                c.command.name(),
                                x.termination_ids.iter().map(|t| t.0.to_string()).collect(),
                            ),
                            Command::Notify(x) => (
                                "Notify",
                                x.termination_ids.iter().map(|t| t.0.to_string()).collect(),
                            ),
                            Command::ServiceChange(x) => (
                                "ServiceChange",
                                x.termination_ids.iter().map(|t| t.0.to_string()).collect(),
                            ),
                        };
                        let signals = match &c.command {
                            Command::Add(x) | Command::Modify(x) => x
                                .descriptors
                                .iter()
                                .filter_map(|d| match d {
                                    AmmDescriptor::Signals(s) => Some(s),
                                    _ => None,
                                })
                                .flatten()
                                .filter_map(|s| match s {
                                    SignalsItem::Signal(s) => Some(s.name.to_string()),
                                    _ => None,
                                })
                                .collect::<Vec<_>>(),
                            _ => Vec::new(),
                        };
                        let mut d = details(&text);
                        d.extend(signals);
                        let d = if d.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", d.join(", "))
                        };
                        parts.push(format!("{name} {}{d}", tids.join(",")));
                    }
                }
                let c = r
                    .actions
                    .first()
                    .map(|a| ctx(&a.context))
                    .unwrap_or_default();
                out.push(format!("Request {} C={c} {}", r.id, parts.join("; ")));
            }
            Transaction::Reply(r) => {
                let s = match &r.result {
                    TransactionResult::Error(e) => format!("error {}", e.code),
                    TransactionResult::Actions(acts) => {
                        let mut parts = Vec::new();
                        for a in acts {
                            if let Some(e) = &a.error {
                                parts.push(format!("C={} error {}", ctx(&a.context), e.code));
                                continue;
                            }
                            for c in &a.commands {
                                let tids = match c {
                                    CommandReply::Add(x)
                                    | CommandReply::Modify(x)
                                    | CommandReply::Move(x)
                                    | CommandReply::Subtract(x) => x
                                        .termination_ids
                                        .iter()
                                        .map(|t| t.0.clone())
                                        .collect::<Vec<_>>()
                                        .join(","),
                                    _ => String::new(),
                                };
                                parts.push(format!("C={} {} {tids}", ctx(&a.context), c.name()));
                            }
                        }
                        let mut d = details(&text);
                        d.retain(|x| x != "events estfail");
                        let d = if d.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", d.join(", "))
                        };
                        format!("{}{d}", parts.join("; "))
                    }
                };
                out.push(format!("Reply {} {s}", r.id));
            }
            Transaction::Pending(id) => out.push(format!("Pending {id}")),
            Transaction::ResponseAck(_) => out.push("TransactionResponseAck".into()),
            Transaction::SegmentReply(s) => out.push(format!("Segment {}", s.id)),
            #[allow(unreachable_patterns)]
            _ => out.push("(other)".into()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_command_realm_proto_and_signal() {
        let m = b"MEGACO/3 [127.0.0.1]:2944\nTransaction = 9 { Context = $ { Add = $ { Media { \
                  TerminationState { ipdc/realm = \"access\" }, Stream = 1 { Local {\nv=0\n\
                  m=audio $ UDP/TLS/RTP/SAVPF 0\na=fingerprint:$\n} } }, Signals { xdtls/estab } } } }";
        let s = summarise(m);
        assert_eq!(s.len(), 1, "{s:?}");
        assert!(s[0].starts_with("Request 9 C=$ Add $"), "{s:?}");
        for w in ["access", "UDP/TLS/RTP/SAVPF", "xdtls/estab"] {
            assert!(s[0].contains(w), "{w} missing: {s:?}");
        }
    }
}
