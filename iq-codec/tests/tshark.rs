//! Wireshark acceptance test.
//!
//! Criterion: every corpus message (`tests/corpus/*.txt`), written to a pcap over UDP port 2944
//! and over TCP port 2944 with a TPKT header (H.248.1 Annex D.1 / D.2), is dissected by tshark
//! (Debian's), and the transaction IDs and command names tshark shows match ours. tshark's own
//! dissector flags some legal messages, so the malformed rule is relative: our encoding shows no
//! malformed / expert-error entry wherever tshark shows none for Erlang/OTP megaco's encoding of
//! the same message; every other deviation is listed in `tests/tshark-known-limits.txt` with
//! tshark's words.
//!
//! How it works:
//!
//! 1. Every corpus file is decoded by our codec (a failure fails the test, naming the file) and
//!    encoded again, pretty and compact.
//! 2. `interop/peers/megaco/megaco_oracle.escript encode` writes megaco's own pretty and compact
//!    re-encodings of every corpus file (one Erlang VM for all files).
//! 3. Eight pcaps (classic pcap, LINKTYPE_RAW, IPv4): {ours, megaco's} x {pretty, compact} x
//!    {UDP 2944 -> 2944, one TCP connection to port 2944}. UDP: one datagram per message, UDP
//!    checksum 0. TCP: SYN / SYN-ACK / ACK, then one segment per message carrying
//!    `TPKT(version 3, reserved 0, 16-bit length incl. the 4-byte header) + message`, each
//!    acknowledged by the server, so tshark's TCP analysis has nothing to complain about.
//!    tshark's megaco dissector claims UDP and TCP port 2944 by default (TCP via its TPKT
//!    handler), so no `-d` option is needed.
//! 4. `tshark -n -r FILE -T pdml` runs once per pcap (all eight in parallel); the PDML is read
//!    in document order, frame by frame.
//!
//! What tshark 4.0 (`packet-megaco.c`) shows, and the mapping used here:
//!
//! * field `megaco.transaction` names each transaction it parses: "Request", "Reply",
//!   "TransactionResponseAck", or "Error" for a message-level error descriptor. A `Pending`
//!   transaction is labelled "Reply" (sic). The field `megaco.transid` that follows carries the
//!   transaction ID; for a TransactionResponseAck it is the first acknowledged ID (strtoul of
//!   the text after `{`), which is the `id` of our `TransactionSummary` too. A message error
//!   has no `megaco.transid`.
//! * the dissector stops after a Pending, a TransactionResponseAck, a Reply carrying a
//!   transaction-level error descriptor, or a message error, so transactions after those are
//!   not shown; it knows no v3 `Segment` token (segment reply), so nothing from a segment
//!   reply on is shown (it adds an expert error instead).
//! * field `megaco.command`, one per command in document order; `O-` / `W-` prefixes are not
//!   part of it. With the short header (`!/`) tshark maps the short token to the long name
//!   ("AuditValue", "Modify", ...); with the long header (`MEGACO/`) it shows the token as
//!   written. Both are mapped here, case-insensitively, long or short token, to our command
//!   names (`Add Move Modify Subtract AuditValue AuditCapability Notify ServiceChange`; the
//!   token `AuditCapability` / `AC`). tshark also puts some context-level items into
//!   `megaco.command` (priority, emergency, IEPS, context audit, packages, ...); those listed in
//!   [`NOT_COMMANDS`] are not commands and are dropped. Anything else stays as tshark wrote it
//!   and so fails to match.
//! * a command belongs to the last `megaco.transaction` before it in the PDML.
//!
//! So the expected view of a message is our `transaction_summary()` mapped as above (kind
//! renamed, list cut where tshark stops) and it must equal tshark's view of our encoding.
//!
//! Flags ("malformed/expert-error entry"): an expert info of severity Error
//! (`_ws.expert.severity` = 0x00800000; this includes tshark's "Malformed Packet (Exception
//! occurred)"), an expert info of group Malformed whatever its severity (tshark adds a
//! `_ws.malformed` entry for it, e.g. the SDP dissector's Note "Invalid SDP line (no '='
//! delimiter)"), or any other `_ws.malformed` entry in the frame. Flags are reported in
//! tshark's words (`_ws.expert.message`). Warnings and notes of other groups (e.g. "No
//! Descriptor detectable") are not flags.
//!
//! Rule per (file, transport, style):
//! * tshark's view of our encoding differs from the expected view -> deviation;
//! * tshark flags our encoding but not megaco's encoding of the same message (or megaco could
//!   not encode it) -> deviation, one per flag;
//! * tshark flags both -> reported, not a failure.
//!
//! A deviation fails the test unless a line of `tests/tshark-known-limits.txt` covers it; a line
//! that covers no deviation (stale) fails it too. See that file for its format.
//!
//! Without `tshark` or `escript`: fails when `CI` is set, else prints "SKIPPED" and passes.

mod common;

use common::pcap::{
    attr, checksum, finish_tshark, format_view, have, spawn_tshark, ExpertFlags, Pcap, Shown,
    MGC_ADDR, MG_ADDR,
};
use iq_codec::model::{MessageBody, Transaction, TransactionResult};
use iq_codec::text::{self, Style};
use iq_codec::Message;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const MEGACO_PORT: u16 = 2944;
const CLIENT_PORT: u16 = 40000;

/// Strings tshark puts into `megaco.command` that are not commands, lower case; they are
/// dropped from its view. With the short header tshark names `PR`, `IEPS`, `PG`, `PN`, `PF`
/// "Priority", "IEPSCall", "Packages", "Pending", "Profile"; with the long header it shows the
/// token as written, so the context property / audit tokens are listed long and short.
const NOT_COMMANDS: &[&str] = &[
    "priority",
    "pr",
    "emergency",
    "eg",
    "emergencyoff",
    "ego",
    "iepscall",
    "ieps",
    "contextaudit",
    "ca",
    "contextattr",
    "ct",
    "contextlist",
    "packages",
    "pending",
    "profile",
];

/// Our command names and their long and short text tokens (H.248.1 B.2), lower case.
const COMMANDS: &[(&str, &str, &str)] = &[
    ("Add", "add", "a"),
    ("Move", "move", "mv"),
    ("Modify", "modify", "mf"),
    ("Subtract", "subtract", "s"),
    ("AuditValue", "auditvalue", "av"),
    ("AuditCapability", "auditcapability", "ac"),
    ("Notify", "notify", "n"),
    ("ServiceChange", "servicechange", "sc"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

fn style_name(style: Style) -> &'static str {
    match style {
        Style::Pretty => "pretty",
        _ => "compact",
    }
}

// ------------------------------------------------------------------------------------------
// pcap writing (common::pcap), TCP of our own

const TCP_SYN: u8 = 0x02;
const TCP_PSH: u8 = 0x08;
const TCP_ACK: u8 = 0x10;

/// One TCP connection MG:40000 -> MGC:2944 in a pcap.
struct TcpConn {
    client_seq: u32,
    server_seq: u32,
}

impl TcpConn {
    fn open(p: &mut Pcap) -> Self {
        let mut c = TcpConn {
            client_seq: 1_000,
            server_seq: 5_000,
        };
        c.segment(p, true, TCP_SYN, &[]);
        c.client_seq += 1;
        c.segment(p, false, TCP_SYN | TCP_ACK, &[]);
        c.server_seq += 1;
        c.segment(p, true, TCP_ACK, &[]);
        c
    }

    fn segment(&self, p: &mut Pcap, from_client: bool, flags: u8, payload: &[u8]) -> u32 {
        let (src, dst, sport, dport, seq, ack) = if from_client {
            (
                MG_ADDR,
                MGC_ADDR,
                CLIENT_PORT,
                MEGACO_PORT,
                self.client_seq,
                self.server_seq,
            )
        } else {
            (
                MGC_ADDR,
                MG_ADDR,
                MEGACO_PORT,
                CLIENT_PORT,
                self.server_seq,
                self.client_seq,
            )
        };
        let ack = if flags & TCP_ACK != 0 { ack } else { 0 };
        let mut h = Vec::with_capacity(20 + payload.len());
        h.extend_from_slice(&sport.to_be_bytes());
        h.extend_from_slice(&dport.to_be_bytes());
        h.extend_from_slice(&seq.to_be_bytes());
        h.extend_from_slice(&ack.to_be_bytes());
        h.extend_from_slice(&[5 << 4, flags]);
        h.extend_from_slice(&65_535u16.to_be_bytes()); // window
        h.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
        h.extend_from_slice(payload);
        let tcp_len = u16::try_from(h.len()).expect("segment too large");
        let mut pseudo = Vec::with_capacity(12);
        pseudo.extend_from_slice(&src);
        pseudo.extend_from_slice(&dst);
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&tcp_len.to_be_bytes());
        let c = checksum(&[&pseudo, &h]);
        h[16..18].copy_from_slice(&c.to_be_bytes());
        p.ip_packet(src, dst, 6, &h)
    }

    /// Sends `msg` in one TPKT-framed segment, acknowledged by the server; returns the frame
    /// number of the data segment.
    fn send_tpkt(&mut self, p: &mut Pcap, msg: &[u8]) -> u32 {
        let len = u16::try_from(4 + msg.len()).expect("message too large for TPKT");
        let mut d = Vec::with_capacity(4 + msg.len());
        d.extend_from_slice(&[3, 0]);
        d.extend_from_slice(&len.to_be_bytes());
        d.extend_from_slice(msg);
        let frame = self.segment(p, true, TCP_PSH | TCP_ACK, &d);
        self.client_seq = self.client_seq.wrapping_add(u32::from(len));
        self.segment(p, false, TCP_ACK, &[]);
        frame
    }
}

// ------------------------------------------------------------------------------------------
// tshark's view

/// What tshark showed for one frame.
#[derive(Debug, Default)]
struct Frame {
    megaco: bool,
    /// `megaco.transaction` / `megaco.transid` / `megaco.command` in document order, commands
    /// mapped by [`map_command`].
    view: Vec<Shown>,
    /// Expert infos of severity Error, and malformed entries, in tshark's words.
    errors: Vec<String>,
}

/// Maps a `megaco.command` string to our command name, `None` for a non-command.
fn map_command(shown: &str) -> Option<String> {
    let lower = shown.to_ascii_lowercase();
    if let Some((name, _, _)) = COMMANDS
        .iter()
        .find(|(_, long, short)| lower == *long || lower == *short)
    {
        return Some((*name).to_string());
    }
    if NOT_COMMANDS.contains(&lower.as_str()) {
        return None;
    }
    Some(shown.to_string())
}

/// Reads tshark's PDML: one [`Frame`] per `<packet>`, in order (index = frame number - 1).
fn parse_pdml(pdml: &str) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut flags = ExpertFlags::default();
    for line in pdml.lines() {
        let line = line.trim_start();
        if line.starts_with("<packet>") {
            if let Some(f) = frames.last_mut() {
                f.errors = std::mem::take(&mut flags).finish();
            }
            frames.push(Frame::default());
            continue;
        }
        let Some(frame) = frames.last_mut() else {
            continue;
        };
        let Some(name) = attr(line, " name=\"").or_else(|| attr(line, "<field name=\"")) else {
            continue;
        };
        let show = attr(line, " show=\"").unwrap_or_default();
        match name.as_str() {
            "megaco" if line.starts_with("<proto ") => frame.megaco = true,
            "megaco.transaction" => frame.view.push(Shown {
                kind: show,
                id: None,
                commands: Vec::new(),
            }),
            "megaco.transid" => {
                if frame.view.is_empty() {
                    frame.view.push(Shown {
                        kind: "?".into(),
                        id: None,
                        commands: Vec::new(),
                    });
                }
                let t = frame.view.last_mut().unwrap();
                t.id = Some(show.parse().unwrap_or(u32::MAX));
            }
            "megaco.command" => {
                if let Some(c) = map_command(&show) {
                    if frame.view.is_empty() {
                        frame.view.push(Shown {
                            kind: "?".into(),
                            id: None,
                            commands: Vec::new(),
                        });
                    }
                    frame.view.last_mut().unwrap().commands.push(c);
                }
            }
            _ => flags.field(&name, &show, line),
        }
    }
    if let Some(f) = frames.last_mut() {
        f.errors = flags.finish();
    }
    frames
}

// ------------------------------------------------------------------------------------------
// our expected view

/// Our `transaction_summary()` as tshark would show it (see the module documentation).
fn expected_view(msg: &Message) -> Vec<Shown> {
    let transactions = match &msg.body {
        MessageBody::Error(_) => {
            return vec![Shown {
                kind: "Error".into(),
                id: None,
                commands: Vec::new(),
            }];
        }
        MessageBody::Transactions(ts) => ts,
    };
    let mut view = Vec::new();
    for (t, s) in transactions.iter().zip(msg.transaction_summary()) {
        let (kind, last) = match s.kind {
            "Request" => ("Request", false),
            "Reply" => {
                let error = matches!(t, Transaction::Reply(r) if matches!(r.result, TransactionResult::Error(_)));
                ("Reply", error)
            }
            "Pending" => ("Reply", true),
            "ResponseAck" => ("TransactionResponseAck", true),
            "SegmentReply" => break,
            other => panic!("unknown transaction kind {other}"),
        };
        view.push(Shown {
            kind: kind.into(),
            id: Some(s.id),
            commands: s.commands.iter().map(|c| (*c).to_string()).collect(),
        });
        if last {
            break;
        }
    }
    view
}

// ------------------------------------------------------------------------------------------
// known limits

struct Limit {
    line: usize,
    file: String,
    /// `None`: both transports.
    transport: Option<Transport>,
    style: Style,
    words: String,
    used: bool,
}

impl Limit {
    fn covers(&self, file: &str, transport: Transport, style: Style, deviation: &str) -> bool {
        self.file == file
            && match self.transport {
                Some(t) => t == transport,
                None => true,
            }
            && self.style == style
            && deviation.contains(&self.words)
    }
}

fn read_limits(path: &Path, failures: &mut Vec<String>) -> Vec<Limit> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => panic!("{}: {e}", path.display()),
    };
    let mut limits = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = line.split_once(" : ").and_then(|(head, words)| {
            let mut it = head.split_whitespace();
            let file = it.next()?;
            let variant = it.next()?;
            if it.next().is_some() || words.trim().is_empty() {
                return None;
            }
            let (transport, style) = match variant.split_once('-') {
                Some(("udp", s)) => (Some(Transport::Udp), s),
                Some(("tcp", s)) => (Some(Transport::Tcp), s),
                Some(_) => return None,
                None => (None, variant),
            };
            let style = match style {
                "pretty" => Style::Pretty,
                "compact" => Style::Compact,
                _ => return None,
            };
            Some(Limit {
                line: i + 1,
                file: file.to_string(),
                transport,
                style,
                words: words.trim().to_string(),
                used: false,
            })
        });
        match parsed {
            Some(l) => limits.push(l),
            None => failures.push(format!(
                "{}:{}: malformed line (want `<file> <variant> : <words>`): {raw}",
                path.display(),
                i + 1
            )),
        }
    }
    limits
}

// ------------------------------------------------------------------------------------------
// the test

struct Item {
    file: String,
    msg: Message,
    /// Ours, by style index (0 pretty, 1 compact).
    ours: [String; 2],
    /// megaco's, by style index; `None` if megaco could not encode it.
    megaco: [Option<Vec<u8>>; 2],
}

const STYLES: [Style; 2] = [Style::Pretty, Style::Compact];
const TRANSPORTS: [Transport; 2] = [Transport::Udp, Transport::Tcp];

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Builds the pcap of one kind; returns the frame number of each item (or `None`).
fn build_pcap(
    items: &[Item],
    transport: Transport,
    style_ix: usize,
    megaco: bool,
    path: &Path,
) -> Vec<Option<u32>> {
    let mut p = Pcap::new();
    let mut tcp = (transport == Transport::Tcp).then(|| TcpConn::open(&mut p));
    let frames = items
        .iter()
        .map(|it| {
            let bytes: &[u8] = if megaco {
                it.megaco[style_ix].as_deref()?
            } else {
                it.ours[style_ix].as_bytes()
            };
            Some(match tcp.as_mut() {
                Some(c) => c.send_tpkt(&mut p, bytes),
                None => p.udp(MEGACO_PORT, bytes),
            })
        })
        .collect();
    p.write(path);
    frames
}

#[test]
fn tshark_dissects_corpus_like_megaco() {
    let ci = std::env::var_os("CI").is_some();
    for (tool, arg) in [("tshark", "-v"), ("escript", "-h")] {
        if !have(tool, arg) {
            assert!(!ci, "{tool} is not installed, and CI is set");
            eprintln!("\n**************************************************");
            eprintln!("SKIPPED: {tool} not installed (tests/tshark.rs)");
            eprintln!("**************************************************\n");
            return;
        }
    }

    let corpus_dir = repo_path("tests/corpus");
    let mut files: Vec<PathBuf> = fs::read_dir(&corpus_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", corpus_dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no corpus files in {}",
        corpus_dir.display()
    );

    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tshark");
    let _ = fs::remove_dir_all(&work);
    let megaco_dir = work.join("megaco");
    let config_dir = work.join("wireshark-config");
    fs::create_dir_all(&megaco_dir).unwrap();
    fs::create_dir_all(&config_dir).unwrap();

    let mut failures: Vec<String> = Vec::new();
    let mut report: Vec<String> = Vec::new();

    // megaco's encodings (one Erlang VM for all files); its exit status is 1 if any file fails,
    // which is looked at per file below.
    let oracle = repo_path("../interop/peers/megaco/megaco_oracle.escript");
    let out = Command::new("escript")
        .arg(&oracle)
        .arg("encode")
        .arg(&megaco_dir)
        .args(&files)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run escript");
    if !matches!(out.status.code(), Some(0 | 1)) {
        panic!(
            "{} encode failed ({}): {}",
            oracle.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Ours.
    let mut items = Vec::new();
    let mut megaco_missing = Vec::new();
    for path in &files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let base = path.file_stem().unwrap().to_string_lossy().into_owned();
        let input = fs::read(path).unwrap();
        let msg = match text::decode(&input) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{file}: our decoder fails: {e}"));
                continue;
            }
        };
        let ours = STYLES.map(|s| text::encode(&msg, s));
        let megaco =
            STYLES.map(|s| fs::read(megaco_dir.join(format!("{base}.{}.txt", style_name(s)))).ok());
        if megaco.iter().any(Option::is_none) {
            let why =
                fs::read_to_string(megaco_dir.join(format!("{base}.err"))).unwrap_or_default();
            megaco_missing.push(format!(
                "{file}: {}",
                why.lines().next().unwrap_or("no output")
            ));
        }
        items.push(Item {
            file,
            msg,
            ours,
            megaco,
        });
    }

    // Eight pcaps, eight tshark runs in parallel.
    struct Run {
        transport: Transport,
        style_ix: usize,
        megaco: bool,
        frames: Vec<Option<u32>>,
        pdml: PathBuf,
        child: Option<Child>,
    }
    let mut runs = Vec::new();
    for transport in TRANSPORTS {
        for (style_ix, style) in STYLES.into_iter().enumerate() {
            for megaco in [false, true] {
                let name = format!(
                    "{}-{}-{}",
                    if megaco { "megaco" } else { "ours" },
                    transport.name(),
                    style_name(style)
                );
                let pcap = work.join(format!("{name}.pcap"));
                let pdml = work.join(format!("{name}.pdml"));
                let frames = build_pcap(&items, transport, style_ix, megaco, &pcap);
                let child = Some(spawn_tshark(&pcap, &pdml, &config_dir, &[]));
                runs.push(Run {
                    transport,
                    style_ix,
                    megaco,
                    frames,
                    pdml,
                    child,
                });
            }
        }
    }
    let mut parsed = Vec::new();
    for run in &mut runs {
        let pdml = finish_tshark(run.child.take().unwrap(), &run.pdml);
        parsed.push(parse_pdml(&pdml));
    }
    let find = |transport: Transport, style_ix: usize, megaco: bool| {
        runs.iter()
            .position(|r| r.transport == transport && r.style_ix == style_ix && r.megaco == megaco)
            .unwrap()
    };

    let limits_path = repo_path("tests/tshark-known-limits.txt");
    let mut limits = read_limits(&limits_path, &mut failures);

    let (mut frames_checked, mut flagged_ours, mut flagged_megaco, mut both_flagged) = (0, 0, 0, 0);
    let (mut megaco_view_differs, mut covered) = (0, 0);
    // Transactions and commands of frames whose view matched.
    let (mut transactions_matched, mut commands_matched) = (0, 0);
    for (ix, item) in items.iter().enumerate() {
        let expected = expected_view(&item.msg);
        for transport in TRANSPORTS {
            for (style_ix, style) in STYLES.into_iter().enumerate() {
                let variant = format!("{}-{}", transport.name(), style_name(style));
                let ours_run = find(transport, style_ix, false);
                let meg_run = find(transport, style_ix, true);
                let frame_of = |run: usize| {
                    runs[run].frames[ix].map(|n| {
                        parsed[run].get(n as usize - 1).unwrap_or_else(|| {
                            panic!(
                                "tshark output lacks frame {n} of {}",
                                runs[run].pdml.display()
                            )
                        })
                    })
                };
                let ours = frame_of(ours_run).unwrap();
                let meg = frame_of(meg_run);
                frames_checked += 1;

                let mut deviations = Vec::new();
                if !ours.megaco {
                    deviations.push(format!(
                        "not dissected as MEGACO; ours is {}",
                        format_view(&expected)
                    ));
                } else if ours.view != expected {
                    deviations.push(format!(
                        "shows {}; ours is {}",
                        format_view(&ours.view),
                        format_view(&expected)
                    ));
                } else {
                    transactions_matched += expected.len();
                    commands_matched += expected.iter().map(|t| t.commands.len()).sum::<usize>();
                }
                let meg_flagged = meg.is_some_and(|m| !m.errors.is_empty());
                if meg_flagged {
                    flagged_megaco += 1;
                }
                if let Some(m) = meg {
                    if m.view != expected {
                        megaco_view_differs += 1;
                        report.push(format!(
                            "{} {variant}: (info) megaco's encoding: tshark shows {}; ours is {}",
                            item.file,
                            format_view(&m.view),
                            format_view(&expected)
                        ));
                    }
                }
                if !ours.errors.is_empty() {
                    flagged_ours += 1;
                    if meg_flagged {
                        both_flagged += 1;
                        report.push(format!(
                            "{} {variant}: flagged for both encodings (not a failure): ours: {}; megaco's: {}",
                            item.file,
                            ours.errors.join(" | "),
                            meg.unwrap().errors.join(" | ")
                        ));
                    } else {
                        for e in &ours.errors {
                            deviations.push(format!("flagged: {e}"));
                        }
                    }
                } else if meg_flagged {
                    report.push(format!(
                        "{} {variant}: (info) only megaco's encoding flagged: {}",
                        item.file,
                        meg.unwrap().errors.join(" | ")
                    ));
                }

                for d in deviations {
                    let mut hit = false;
                    for l in limits
                        .iter_mut()
                        .filter(|l| l.covers(&item.file, transport, style, &d))
                    {
                        l.used = true;
                        hit = true;
                    }
                    if hit {
                        covered += 1;
                        report.push(format!("{} {variant}: known limit: {d}", item.file));
                    } else {
                        let megaco_text = item.megaco[style_ix]
                            .as_deref()
                            .map(|b| String::from_utf8_lossy(b).into_owned())
                            .unwrap_or_else(|| "(megaco could not encode it)".into());
                        let megaco_errors = meg.map(|m| m.errors.join(" | ")).unwrap_or_default();
                        failures.push(format!(
                            "{} {variant}: {d}\n--- our encoding:\n{}\n--- megaco's encoding (tshark: {}):\n{}\n---",
                            item.file,
                            item.ours[style_ix],
                            if megaco_errors.is_empty() { "no errors" } else { &megaco_errors },
                            megaco_text
                        ));
                    }
                }
            }
        }
    }
    for l in limits.iter().filter(|l| !l.used) {
        failures.push(format!(
            "{}:{}: stale entry, no longer occurs: {} {}{} : {}",
            limits_path.display(),
            l.line,
            l.file,
            l.transport
                .map(|t| format!("{}-", t.name()))
                .unwrap_or_default(),
            style_name(l.style),
            l.words
        ));
    }

    for line in &report {
        eprintln!("tshark: {line}");
    }
    for m in &megaco_missing {
        eprintln!("tshark: (info) megaco could not encode {m}");
    }
    eprintln!(
        "tshark summary: {} corpus files, {} decoded, {} frames checked (x udp/tcp x pretty/compact), \
         {transactions_matched} transactions and {commands_matched} commands matched; \
         flagged ours: {flagged_ours}, flagged megaco's: {flagged_megaco}, flagged both: {both_flagged}; \
         megaco's view differs: {megaco_view_differs}; known limits: {} entries covering {covered} deviations; \
         failures: {}; work dir {}",
        files.len(),
        items.len(),
        frames_checked,
        limits.len(),
        failures.len(),
        work.display()
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
