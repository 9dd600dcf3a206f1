//! H.248 traces: pcap/pcapng captures and the plain text trace format (see `README.md` here),
//! read into a list of decoded messages with their direction. Nothing is dropped silently:
//! what cannot be read or decoded is an error entry naming the frame and the reason.

pub mod capture;
mod textfile;

use std::net::SocketAddr;
use std::path::Path;

use iq_codec::binary::BinaryCodec;
use iq_codec::model::{Command, Message, MessageBody, ServiceChangeMethod, Transaction};
use serde::Serialize;

pub use capture::Filter;

/// How a message travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Transport {
    /// UDP datagram.
    Udp,
    /// TCP with TPKT.
    Tcp,
    /// SCTP DATA chunk(s).
    Sctp,
    /// From a text trace file.
    File,
}

/// Who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Direction {
    /// Controller to gateway.
    #[serde(rename = "mgc->mg")]
    MgcToMg,
    /// Gateway to controller.
    #[serde(rename = "mg->mgc")]
    MgToMgc,
    /// Could not be told.
    #[serde(rename = "unknown")]
    Unknown,
}

/// Encoding of a message on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Encoding {
    /// Annex B text.
    Text,
    /// Annex A BER.
    Binary,
}

/// One decoded H.248 message of a trace.
#[derive(Debug, Clone, Serialize)]
pub struct TraceMessage {
    /// Frame number (pcap) or block number (text trace), 1-based.
    pub frame: u32,
    /// Seconds since the epoch (or since the trace's start, if it gave plain seconds).
    pub time: f64,
    /// Sender, when known.
    pub src: Option<SocketAddr>,
    /// Receiver, when known.
    pub dst: Option<SocketAddr>,
    /// Transport.
    pub transport: Transport,
    /// Direction.
    pub direction: Direction,
    /// Encoding.
    pub encoding: Encoding,
    /// The message.
    pub message: Message,
}

/// Something in the trace that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("frame {frame}: {reason}")]
pub struct TraceError {
    /// Frame (or block) number; 0 for the file header.
    pub frame: u32,
    /// Why.
    pub reason: String,
}

impl TraceError {
    /// New error.
    pub fn new(frame: u32, reason: impl Into<String>) -> Self {
        TraceError {
            frame,
            reason: reason.into(),
        }
    }
}

/// A whole trace: messages and errors, each in frame order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trace {
    /// Decoded messages.
    pub messages: Vec<TraceMessage>,
    /// What could not be read or decoded.
    pub errors: Vec<TraceError>,
}

/// A file that is no trace at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Could not read the file.
    #[error("cannot read {0}: {1}")]
    Io(String, std::io::Error),
    /// Not a capture and not a text trace.
    #[error("{0}: {1}")]
    Format(String, String),
}

/// Reads a capture (pcap, pcapng: told by the magic number) or a text trace.
pub fn read(path: &Path, filter: &Filter, codec: &BinaryCodec) -> Result<Trace, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError::Io(path.display().to_string(), e))?;
    parse(&bytes, filter, codec).map_err(|e| ReadError::Format(path.display().to_string(), e))
}

/// [`read`] on octets.
pub fn parse(bytes: &[u8], filter: &Filter, codec: &BinaryCodec) -> Result<Trace, String> {
    let is_capture = matches!(
        bytes.get(..4),
        Some([0x0a, 0x0d, 0x0d, 0x0a] | [0xa1, 0xb2, 0xc3, 0xd4] | [0xd4, 0xc3, 0xb2, 0xa1])
            | Some([0xa1, 0xb2, 0x3c, 0x4d] | [0x4d, 0x3c, 0xb2, 0xa1])
    );
    if !is_capture {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| "neither a pcap/pcapng capture nor a UTF-8 text trace".to_string())?;
        return textfile::parse(text, codec);
    }
    let (frames, mut errors) = capture::frames(bytes)?;
    let mut ex = capture::Extractor::new(filter.clone());
    for f in &frames {
        ex.frame(f);
    }
    ex.finish();
    errors.append(&mut ex.errors);
    let mut trace = Trace {
        messages: Vec::new(),
        errors,
    };
    for p in ex.payloads {
        match decode(&p.data, codec) {
            Ok((message, encoding)) => trace.messages.push(TraceMessage {
                frame: p.frame,
                time: p.time,
                src: Some(p.src),
                dst: Some(p.dst),
                transport: p.transport,
                direction: Direction::Unknown,
                encoding,
                message,
            }),
            Err(e) => trace.errors.push(TraceError::new(
                p.frame,
                format!(
                    "{} {} -> {}: {e}",
                    transport_name(p.transport),
                    p.src,
                    p.dst
                ),
            )),
        }
    }
    trace.errors.sort_by_key(|e| e.frame);
    infer_directions(&mut trace.messages);
    Ok(trace)
}

fn transport_name(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "UDP",
        Transport::Tcp => "TCP",
        Transport::Sctp => "SCTP",
        Transport::File => "text",
    }
}

/// Decodes one message, text or BER by its first octet (a BER MegacoMessage is a SEQUENCE,
/// 0x30; a text message never starts with the digit `0`).
pub fn decode(data: &[u8], codec: &BinaryCodec) -> Result<(Message, Encoding), String> {
    match data.first() {
        None => Err("empty message".into()),
        Some(0x30) => codec
            .decode(data)
            .map(|m| (m, Encoding::Binary))
            .map_err(|e| format!("BER: {e}")),
        Some(_) => iq_codec::text::decode(data)
            .map(|m| (m, Encoding::Text))
            .map_err(|e| format!("text: {e}")),
    }
}

fn requests(m: &Message) -> impl Iterator<Item = &Command> {
    let ts: &[Transaction] = match &m.body {
        MessageBody::Transactions(ts) => ts,
        _ => &[],
    };
    ts.iter()
        .filter_map(|t| match t {
            Transaction::Request(r) => Some(r),
            _ => None,
        })
        .flat_map(|r| r.actions.iter())
        .flat_map(|a| a.commands.iter())
        .map(|c| &c.command)
}

/// The MG's endpoint: the sender of the registration (a ServiceChange on ROOT other than a
/// HandOff), else the sender of a Notify, else the receiver of an Add/Modify/Move/Subtract.
pub fn mg_endpoint(msgs: &[TraceMessage]) -> Option<SocketAddr> {
    let registration = msgs.iter().find(|m| {
        requests(&m.message).any(|c| {
            matches!(c, Command::ServiceChange(sc)
                if sc.termination_ids.iter().any(|t| t.0 == "root")
                    && !matches!(sc.parms.method, ServiceChangeMethod::HandOff))
        })
    });
    if let Some(m) = registration {
        return m.src;
    }
    for m in msgs {
        for c in requests(&m.message) {
            match c {
                Command::Notify(_) => return m.src,
                Command::Add(_) | Command::Modify(_) | Command::Move(_) | Command::Subtract(_) => {
                    return m.dst
                }
                _ => {}
            }
        }
    }
    None
}

fn infer_directions(msgs: &mut [TraceMessage]) {
    let Some(mg) = mg_endpoint(msgs) else {
        return;
    };
    for m in msgs {
        m.direction = if m.src == Some(mg) {
            Direction::MgToMgc
        } else if m.dst == Some(mg) {
            Direction::MgcToMg
        } else {
            Direction::Unknown
        };
    }
}

/// Transaction IDs in a message, with their kind (`request`, `reply`, `pending`, `ack`).
pub fn transactions(m: &Message) -> Vec<(&'static str, u32)> {
    let MessageBody::Transactions(ts) = &m.body else {
        return Vec::new();
    };
    ts.iter()
        .filter_map(|t| match t {
            Transaction::Request(r) => Some(("request", r.id)),
            Transaction::Reply(r) => Some(("reply", r.id)),
            Transaction::Pending(id) => Some(("pending", *id)),
            Transaction::ResponseAck(a) => a.first().map(|x| ("ack", x.first)),
            _ => None,
        })
        .collect()
}
