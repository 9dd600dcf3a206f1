//! Wireshark acceptance test for the BER (binary, H.248.1 Annex A) encoding.
//!
//! Criterion: tshark (Debian's) dissects our BER messages over UDP port 2945 and in SCTP DATA
//! chunks with payload protocol identifier 7, showing the same transaction IDs and commands as
//! our model, and its own names for the standard packages of the PkgdNames we encode.
//! tshark's BER dissector flags many legal messages (about 42 of megaco's 149 examples in
//! megaco's own encoding), so Erlang/OTP megaco is the authority for binary and tshark's rule is
//! relative, as for text (`tests/tshark.rs`): no flag on our encoding where there is none on
//! megaco's encoding of the same message. Every other deviation is listed in
//! `tests/tshark-ber-known-limits.txt` with tshark's words.
//!
//! Messages (named as in `ber_megaco.rs`):
//! * `ex_<msgNN>`: megaco's 149 example messages (`examples/meas/time_test.msgs`, read at test
//!   time), decoded by our text decoder and BER-encoded by [`BinaryCodec::default`];
//! * `co_<base>`: every corpus file (`tests/corpus/*.txt`) our BER codec can encode, with the
//!   corpus termination ID mapping of `ber_roundtrip.rs` (`ber_support::corpus_codec`); the
//!   files it cannot encode (`ber_roundtrip.rs`, `UNENCODABLE`) are counted and listed.
//!
//! `interop/peers/megaco/megaco_ber.escript ber` (one Erlang VM) writes megaco's BER of the
//! same texts, where megaco can encode them (its built-in packages, binary-digit termination
//! IDs, no IPv6: all examples and about 60 corpus files).
//!
//! Captures (classic pcap, LINKTYPE_RAW, IPv4; `common::pcap`): {ours, megaco's} x
//! {UDP 2945 -> 2945, one datagram per message, checksum 0; SCTP 2945 -> 2945, one packet per
//! message with one DATA chunk (stream 0, ordered, unfragmented, TSN and stream sequence
//! number counting up, PPID 7 = H.248 big-endian) and a correct CRC32c}. No SCTP handshake is
//! written: tshark dissects DATA chunks of an association it has not seen start. Two control
//! frames end our SCTP capture: PPID 7 on port 5000 and PPID 0 on port 2945.
//!
//! `tshark -n -r FILE -o sctp.checksum:CRC-32C -T pdml` runs once per capture (four, in
//! parallel). What tshark 4.0 does:
//! * UDP port 2945 is the H.248 binary dissector's (`h248`) by default; no `-d` is needed.
//! * SCTP: tshark picks the dissector by PPID: PPID 7 ("H.248/MEGACO") goes to the MEGACO
//!   dissector, which hands BER to `h248` (protocols `sctp:megaco:h248`), whatever the port;
//!   PPID 0 on port 2945 is not dissected (the control frames show it; printed as info). So
//!   no `-d sctp.ppi==7,h248` is needed either. tshark verifies SCTP checksums only when told
//!   (`sctp.checksum:CRC-32C`); every SCTP frame must then show `sctp.checksum.status` Good.
//!
//! tshark's view of a frame (`packet-h248.c`, fields in PDML document order):
//! * `h248.messageBody` 0 = a message-level errorDescriptor, shown as one transaction "Error";
//! * `h248.Transaction` names each transaction by its CHOICE alternative: transactionRequest,
//!   transactionPending, transactionReply, transactionResponseAck, segmentReply, mapped to our
//!   `TransactionSummary` kinds Request, Pending, Reply, ResponseAck, SegmentReply;
//! * the transaction ID is the field `h248.transactionRequest.transactionId`,
//!   `h248.transactionpending.transactionId`, `h248.transactionreply.transactionId` or
//!   `h248.segmentreply.transactionId` that follows, and for a TransactionResponseAck the first
//!   `h248.firstAck` (our summary's ID is the first acknowledged ID too);
//! * commands are `h248.command` (requests: addReq, moveReq, modReq, subtractReq,
//!   auditCapRequest, auditValueRequest, notifyReq, serviceChangeReq) and `h248.CommandReply`
//!   (replies: addReply, ..., serviceChangeReply), the alternative's name taken from the
//!   showname (`command: modReq (2)`), mapped to our command names (Add, Move, Modify,
//!   Subtract, AuditCapability, AuditValue, Notify, ServiceChange); a command belongs to the
//!   last transaction before it;
//! * packages: every PkgdName (property, event, signal, statistic, event parameter names)
//!   tshark decodes shows `h248.package_name`: `show` is the package ID (`0x000d`), the
//!   showname is tshark's name for it (`PkgName: TDM Circuit Package - Annex E (tdmc)
//!   (0x000d)`; the `PkgName: ` prefix is missing for event names).
//!
//! The expected view is our `transaction_summary()` (kinds as above; a message error is
//! "Error"). The expected packages are those of the `pkg/item` names in our model (properties,
//! events, signals, statistics, audited items; not Annex C / SDP names, not `*`), by the binary
//! ID of our package table. For each, tshark must show an `h248.package_name` with that ID,
//! and, for the packages in [`TSHARK_PACKAGE_NAMES`] (our text name -> tshark's name), exactly
//! tshark's name; a package tshark names but the table lacks, or a table entry no message uses,
//! fails the test. Packages tshark calls "Unknown Package" (the lab's `xdtls`) are checked by
//! ID only. Conversely every package ID tshark shows must be one of ours (or Annex C, or `*`).
//!
//! Flags: as in `tests/tshark.rs` (expert infos of severity Error, including "Malformed Packet
//! (Exception occurred)", or of group Malformed, or any `_ws.malformed` entry), in tshark's
//! words; an exception is followed by "after <showname of the last package item decoded>"
//! (`h248.package_paramid` / `package_eventid` / `package_signalid`), which says where tshark
//! gave up.
//!
//! Rule per (message, transport), for our encoding:
//! * tshark does not dissect it as H.248 -> deviation;
//! * tshark's view differs from the expected view -> deviation, unless tshark flags the frame
//!   and the view is the start of the expected one (tshark gave up there: the flag is what is
//!   judged, below; reported as "cut short"), or tshark shows megaco's encoding the same;
//! * an expected package not shown -> deviation, unless tshark flags the frame (cut short, as
//!   above); shown under another name, or a package shown that we did not encode -> deviation;
//! * a flag on ours that tshark does not show, in the same words, for megaco's encoding of the
//!   same message (or megaco could not encode it) -> deviation, one per flag; the same flags on
//!   both -> reported, not a failure.
//!
//! Deviations are written `shows <view>; ours is <view>`, `not dissected as H.248; ours is
//! <view>`, `package <name> (0x<id>): <what tshark shows>`, `package 0x<id>: shown by tshark,
//! not in our message` and `flagged: <tshark's words>`. A deviation fails the test unless a
//! line of `tests/tshark-ber-known-limits.txt` covers it; a line that covers none (stale)
//! fails it too. SCTP frames whose checksum is not Good fail it. The report prints a line said
//! for both transports once, as `<message> all: ...`.
//!
//! Without `tshark`, `escript` or megaco's examples (erlang-examples): fails when `CI` is set,
//! else prints "SKIPPED" and passes.

mod ber_support;
mod common;

use ber_support::{corpus_codec, megaco_examples};
use common::pcap::{
    attr, escape, finish_tshark, format_view, hex, spawn_tshark, ExpertFlags, Pcap, SctpSender,
    Shown,
};
use common::{corpus_files, require_tool};
use iq_codec::binary::BinaryCodec;
use iq_codec::model::MessageBody;
use iq_codec::packages::Registry;
use iq_codec::Message;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// H.248.1 Annex D.1: the binary encoding's UDP port (and the one used for SCTP here).
const H248_BINARY_PORT: u16 = 2945;
/// SCTP payload protocol identifier of H.248 (IANA).
const PPID_H248: u32 = 7;
const TSHARK_OPTIONS: &[&str] = &["-o", "sctp.checksum:CRC-32C"];

/// tshark's names for the packages our encodings use, by our text name (tshark 4.0: the name a
/// package registered with its own dissector, else the entry of `base_package_name_vals`).
/// Every package a checked message uses that tshark knows by name must be listed (a missing or
/// unused entry fails the test); packages tshark does not know ("Unknown Package", e.g. the
/// lab's `xdtls`) are checked by ID only. The names are tshark's, spacing included.
const TSHARK_PACKAGE_NAMES: &[(&str, &str)] = &[
    ("g", "Generic Package - Annex E (g)"),
    ("tonegen", "Tone Generator - Annex E (tonegen)"),
    ("tonedet", "Tone Detection Package - Annex E  (tonedet)"),
    ("dg", "Basic DTMF Generator Package - Annex E (dg)"),
    ("dd", "dd H.248.1 Annex E"),
    ("cg", "Call Progress Tones Generator - Annex E (cg)"),
    ("al", "Analog Line Supervision Package - Annex E (al)"),
    ("ct", "Basic Continuity Package (ct)"),
    ("nt", "Network Package (nt)"),
    ("rtp", "RTP Package - Annex E (rtp)"),
    ("tdmc", "TDM Circuit Package - Annex E (tdmc)"),
    ("it", "Inactivity Timer Package H.248.14"),
    ("hangterm", "Hanging Termination Package"),
    ("ipnapt", "IP NAPT Traversal Package"),
    ("ipdc", "Domain Connection Package"),
    ("ds", "Differentiated Services Package"),
    ("gm", "Gate Management Package"),
    ("an", "Generic Announcement Package (an) (H.248.7)"),
];

/// tshark's words when a dissector throws (a BER length or value it cannot read).
const EXCEPTION: &str = "Malformed Packet (Exception occurred)";

/// Package ID of the Annex C properties (SDP and media properties; names without `/`).
const ANNEX_C: u16 = 0x0000;
/// Package ID of `*`.
const WILDCARD: u16 = 0xffff;

/// tshark's name for a package ID it has no table entry for.
const UNKNOWN_PACKAGE: &str = "Unknown Package";

/// CHOICE alternatives of `Command` and `CommandReply` (`h248.command`, `h248.CommandReply`)
/// and our command names.
const COMMANDS: &[(&str, &str, &str)] = &[
    ("addReq", "addReply", "Add"),
    ("moveReq", "moveReply", "Move"),
    ("modReq", "modReply", "Modify"),
    ("subtractReq", "subtractReply", "Subtract"),
    ("auditCapRequest", "auditCapReply", "AuditCapability"),
    ("auditValueRequest", "auditValueReply", "AuditValue"),
    ("notifyReq", "notifyReply", "Notify"),
    ("serviceChangeReq", "serviceChangeReply", "ServiceChange"),
];

/// `h248.Transaction` (CHOICE index) -> our `TransactionSummary` kind.
const TRANSACTION_KINDS: &[&str] = &["Request", "Pending", "Reply", "ResponseAck", "SegmentReply"];

/// Fields carrying the ID of a transaction of each kind but ResponseAck.
const TRANSACTION_ID_FIELDS: &[&str] = &[
    "h248.transactionRequest.transactionId",
    "h248.transactionpending.transactionId",
    "h248.transactionreply.transactionId",
    "h248.segmentreply.transactionId",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Udp,
    Sctp,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Sctp => "sctp",
        }
    }
}

const TRANSPORTS: [Transport; 2] = [Transport::Udp, Transport::Sctp];

// ------------------------------------------------------------------------------------------
// tshark's view

/// What tshark showed for one frame.
#[derive(Debug, Default)]
struct Frame {
    h248: bool,
    view: Vec<Shown>,
    /// `h248.package_name`: package ID and tshark's name for it, in document order.
    packages: Vec<(u16, String)>,
    errors: Vec<String>,
    /// `sctp.checksum.status` (1 = Good), if the frame is SCTP.
    sctp_checksum: Option<String>,
    /// Showname of the last package item (parameter, event, signal) tshark decoded.
    last_item: Option<String>,
}

impl Frame {
    fn last(&mut self) -> &mut Shown {
        if self.view.is_empty() {
            self.view.push(Shown {
                kind: "?".into(),
                id: None,
                commands: Vec::new(),
            });
        }
        self.view.last_mut().unwrap()
    }
}

/// The CHOICE alternative in a showname like `command: modReq (2)`.
fn alternative(showname: &str) -> &str {
    let s = showname.split_once(": ").map_or(showname, |(_, r)| r);
    s.rsplit_once(" (").map_or(s, |(l, _)| l)
}

fn map_command(showname: &str) -> String {
    let alt = alternative(showname);
    COMMANDS
        .iter()
        .find(|(req, reply, _)| alt == *req || alt == *reply)
        .map_or_else(|| alt.to_string(), |(_, _, ours)| (*ours).to_string())
}

/// tshark's package name from the showname of `h248.package_name`.
fn package_display(showname: &str) -> String {
    let s = showname.strip_prefix("PkgName: ").unwrap_or(showname);
    s.rsplit_once(" (0x")
        .map_or(s, |(l, _)| l)
        .trim_end()
        .to_string()
}

/// Reads tshark's PDML: one [`Frame`] per `<packet>`, in order (index = frame number - 1).
fn parse_pdml(pdml: &str) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut flags = ExpertFlags::default();
    let finish = |f: &mut Frame, flags: ExpertFlags| {
        f.errors = flags.finish();
        // Where the dissector threw: after the last package item it decoded.
        if let Some(item) = &f.last_item {
            for e in &mut f.errors {
                if e == EXCEPTION {
                    let _ = write!(e, " after {item}");
                }
            }
        }
    };
    for line in pdml.lines() {
        let line = line.trim_start();
        if line.starts_with("<packet>") {
            if let Some(f) = frames.last_mut() {
                finish(f, std::mem::take(&mut flags));
            }
            frames.push(Frame::default());
            continue;
        }
        let Some(frame) = frames.last_mut() else {
            continue;
        };
        let Some(name) = attr(line, " name=\"") else {
            continue;
        };
        let show = attr(line, " show=\"").unwrap_or_default();
        let showname = || attr(line, " showname=\"").unwrap_or_default();
        match name.as_str() {
            "h248" if line.starts_with("<proto ") => frame.h248 = true,
            "h248.messageBody" if show == "0" => frame.view.push(Shown {
                kind: "Error".into(),
                id: None,
                commands: Vec::new(),
            }),
            "h248.Transaction" => frame.view.push(Shown {
                kind: show
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| TRANSACTION_KINDS.get(i))
                    .map_or_else(|| format!("Transaction({show})"), |k| (*k).to_string()),
                id: None,
                commands: Vec::new(),
            }),
            n if TRANSACTION_ID_FIELDS.contains(&n) => {
                let t = frame.last();
                if t.id.is_none() {
                    t.id = Some(show.parse().unwrap_or(u32::MAX));
                }
            }
            "h248.firstAck" => {
                let t = frame.last();
                if t.kind == "ResponseAck" && t.id.is_none() {
                    t.id = Some(show.parse().unwrap_or(u32::MAX));
                }
            }
            "h248.command" | "h248.CommandReply" => {
                let c = map_command(&showname());
                frame.last().commands.push(c);
            }
            "h248.package_name" => {
                let id = show
                    .strip_prefix("0x")
                    .and_then(|h| u16::from_str_radix(h, 16).ok())
                    .unwrap_or(u16::MAX);
                frame.packages.push((id, package_display(&showname())));
            }
            "h248.package_paramid" | "h248.package_eventid" | "h248.package_signalid" => {
                frame.last_item = Some(showname());
            }
            "sctp.checksum.status" => frame.sctp_checksum = Some(show),
            _ => flags.field(&name, &show, line),
        }
    }
    if let Some(f) = frames.last_mut() {
        finish(f, flags);
    }
    frames
}

// ------------------------------------------------------------------------------------------
// our expected view

fn expected_view(msg: &Message) -> Vec<Shown> {
    if let MessageBody::Error(_) = &msg.body {
        return vec![Shown {
            kind: "Error".into(),
            id: None,
            commands: Vec::new(),
        }];
    }
    msg.transaction_summary()
        .into_iter()
        .map(|s| Shown {
            kind: s.kind.to_string(),
            id: Some(s.id),
            commands: s.commands.iter().map(|c| (*c).to_string()).collect(),
        })
        .collect()
}

/// Is `shown` the start of `expected`, as when tshark gives up in the middle of a message: the
/// transactions shown are the first ones, the last possibly without its ID or only with its
/// first commands?
fn is_cut_short(shown: &[Shown], expected: &[Shown]) -> bool {
    let Some((last, before)) = shown.split_last() else {
        return true;
    };
    let Some(want) = expected.get(before.len()) else {
        return false;
    };
    before == &expected[..before.len()]
        && last.kind == want.kind
        && last.id.is_none_or(|id| Some(id) == want.id)
        && want.commands.starts_with(&last.commands)
}

/// The packages of the `pkg/item` names in `msg` (properties, events, signals, statistics,
/// audited items): text name -> binary ID of our table. Annex C / SDP names have no `/`;
/// `*` and unknown packages have no ID and are left out.
fn expected_packages(msg: &Message, registry: &Registry) -> BTreeMap<String, u16> {
    fn walk(v: &serde_json::Value, registry: &Registry, out: &mut BTreeMap<String, u16>) {
        use serde_json::Value;
        let mut name = |s: &str| {
            if let Some((pkg, _)) = s.split_once('/') {
                if let Some(id) = registry.package_id(pkg) {
                    out.insert(registry.package_name(id), id);
                }
            }
        };
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    match (k.as_str(), x) {
                        ("name" | "signal" | "statistics", Value::String(s)) => name(s),
                        ("props", Value::Array(a)) => {
                            a.iter().filter_map(Value::as_str).for_each(&mut name)
                        }
                        _ => {}
                    }
                }
                map.values().for_each(|x| walk(x, registry, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, registry, out)),
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk(&serde_json::to_value(msg).unwrap(), registry, &mut out);
    out
}

// ------------------------------------------------------------------------------------------
// known limits

struct Limit {
    line: usize,
    message: String,
    /// `None`: both transports.
    transport: Option<Transport>,
    words: String,
    used: bool,
}

impl Limit {
    fn covers(&self, message: &str, transport: Transport, deviation: &str) -> bool {
        self.message == message
            && self.transport.is_none_or(|t| t == transport)
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
            let message = it.next()?;
            let transport = match it.next()? {
                "all" => None,
                "udp" => Some(Transport::Udp),
                "sctp" => Some(Transport::Sctp),
                _ => return None,
            };
            if it.next().is_some() || words.trim().is_empty() {
                return None;
            }
            Some(Limit {
                line: i + 1,
                message: message.to_string(),
                transport,
                words: words.trim().to_string(),
                used: false,
            })
        });
        match parsed {
            Some(l) => limits.push(l),
            None => failures.push(format!(
                "{}:{}: malformed line (want `<message> all|udp|sctp : <words>`): {raw}",
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
    name: String,
    msg: Message,
    ours: Vec<u8>,
    /// megaco's BER of the same text; `None` if megaco could not encode it.
    megaco: Option<Vec<u8>>,
    /// Expected packages: our text name -> ID.
    packages: BTreeMap<String, u16>,
}

/// Report lines `<message> <udp|sctp>: <text>`, a line said for both transports once as
/// `<message> all: <text>`, in first-seen order.
fn merge_transports(report: &[String]) -> Vec<String> {
    let split = |l: &str| -> Option<(String, String, String)> {
        let (head, text) = l.split_once(": ")?;
        let (name, variant) = head.split_once(' ')?;
        Some((name.into(), variant.into(), text.into()))
    };
    let parsed: Vec<_> = report.iter().map(|l| (l, split(l))).collect();
    let keys: BTreeSet<(&str, &str, &str)> = parsed
        .iter()
        .filter_map(|(_, p)| p.as_ref())
        .map(|(n, v, t)| (n.as_str(), v.as_str(), t.as_str()))
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (line, p) in &parsed {
        let Some((name, _, text)) = p else {
            out.push((*line).clone());
            continue;
        };
        let both = TRANSPORTS
            .iter()
            .all(|t| keys.contains(&(name.as_str(), t.name(), text.as_str())));
        let line = if both {
            format!("{name} all: {text}")
        } else {
            (*line).clone()
        };
        if seen.insert(line.clone()) {
            out.push(line);
        }
    }
    out
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// Writes one capture; returns the frame number of each item (`None`: no message).
fn build_pcap(items: &[Item], transport: Transport, megaco: bool, path: &Path) -> Vec<Option<u32>> {
    let mut p = Pcap::new();
    let mut sctp = SctpSender::new(H248_BINARY_PORT);
    let frames = items
        .iter()
        .map(|it| {
            let bytes: &[u8] = if megaco {
                it.megaco.as_deref()?
            } else {
                &it.ours
            };
            Some(match transport {
                Transport::Udp => p.udp(H248_BINARY_PORT, bytes),
                Transport::Sctp => sctp.data(&mut p, PPID_H248, bytes),
            })
        })
        .collect();
    if transport == Transport::Sctp && !megaco {
        // Control frames: is it the PPID or the port that selects H.248?
        let first = items
            .first()
            .map(|i| i.ours.as_slice())
            .unwrap_or(&[0x30, 0]);
        SctpSender::new(5000).data(&mut p, PPID_H248, first);
        SctpSender::new(H248_BINARY_PORT).data(&mut p, 0, first);
    }
    p.write(path);
    frames
}

#[test]
fn tshark_dissects_our_ber_like_megacos() {
    if !require_tool("tshark") || !require_tool("escript") {
        return;
    }
    let Some(examples) = megaco_examples() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "megaco's example corpus (erlang-examples) is not installed, and CI is set"
        );
        eprintln!("\n*** SKIPPED: erlang-examples not installed (tests/tshark_ber.rs); this test did NOT run. ***\n");
        return;
    };

    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tshark_ber");
    let _ = fs::remove_dir_all(&work);
    let texts_dir = work.join("texts");
    let megaco_dir = work.join("megaco");
    let config_dir = work.join("wireshark-config");
    for d in [&texts_dir, &megaco_dir, &config_dir] {
        fs::create_dir_all(d).unwrap();
    }

    // All texts under one naming scheme, as in ber_megaco.rs.
    let mut texts: Vec<(String, PathBuf)> = Vec::new();
    for (name, text) in &examples {
        let p = texts_dir.join(format!("ex_{name}.txt"));
        fs::write(&p, text).unwrap();
        texts.push((format!("ex_{name}"), p));
    }
    for f in corpus_files() {
        let p = texts_dir.join(format!("co_{}.txt", stem(&f)));
        fs::copy(&f, &p).unwrap();
        texts.push((format!("co_{}", stem(&f)), p));
    }

    // megaco's BER (one Erlang VM); exit status 1 if any text fails, looked at per text below.
    let script = repo_path("../interop/peers/megaco/megaco_ber.escript");
    let out = Command::new("escript")
        .arg(&script)
        .arg("ber")
        .arg(&megaco_dir)
        .args(texts.iter().map(|(_, p)| p))
        .stdin(Stdio::null())
        .output()
        .expect("cannot run escript");
    if !matches!(out.status.code(), Some(0 | 1)) {
        panic!(
            "{} ber failed ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let mut failures: Vec<String> = Vec::new();
    let mut report: Vec<String> = Vec::new();

    // Ours.
    let example_codec = BinaryCodec::default();
    let corpus = corpus_codec();
    let mut items = Vec::new();
    let mut unencodable = Vec::new();
    for (name, path) in &texts {
        let is_example = name.starts_with("ex_");
        let codec = if is_example { &example_codec } else { &corpus };
        let msg = match iq_codec::text::decode(&fs::read(path).unwrap()) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: our text decoder rejects it: {e}"));
                continue;
            }
        };
        let ours = match codec.encode(&msg) {
            Ok(b) => b,
            Err(e) if is_example => {
                failures.push(format!("{name}: we cannot encode megaco's example: {e}"));
                continue;
            }
            Err(e) => {
                unencodable.push(format!("{name}: {e}"));
                continue;
            }
        };
        let megaco = fs::read(megaco_dir.join(format!("{name}.ber"))).ok();
        let packages = expected_packages(&msg, codec.registry());
        items.push(Item {
            name: name.clone(),
            msg,
            ours,
            megaco,
            packages,
        });
    }

    // Which message is where (the captures of ours have one frame per item, in this order).
    let index: String = items
        .iter()
        .enumerate()
        .map(|(i, it)| format!("{} {}\n", i + 1, it.name))
        .collect();
    fs::write(work.join("frames.txt"), index).unwrap();

    // Four captures, four tshark runs in parallel.
    struct Run {
        transport: Transport,
        megaco: bool,
        frames: Vec<Option<u32>>,
        pdml: PathBuf,
    }
    let mut runs = Vec::new();
    let mut children = Vec::new();
    for transport in TRANSPORTS {
        for megaco in [false, true] {
            let name = format!(
                "{}-{}",
                if megaco { "megaco" } else { "ours" },
                transport.name()
            );
            let pcap = work.join(format!("{name}.pcap"));
            let pdml = work.join(format!("{name}.pdml"));
            let frames = build_pcap(&items, transport, megaco, &pcap);
            children.push(spawn_tshark(&pcap, &pdml, &config_dir, TSHARK_OPTIONS));
            runs.push(Run {
                transport,
                megaco,
                frames,
                pdml,
            });
        }
    }
    let parsed: Vec<Vec<Frame>> = children
        .into_iter()
        .zip(&runs)
        .map(|(child, run)| parse_pdml(&finish_tshark(child, &run.pdml)))
        .collect();
    let find = |transport: Transport, megaco: bool| {
        runs.iter()
            .position(|r| r.transport == transport && r.megaco == megaco)
            .unwrap()
    };

    // SCTP: checksums good everywhere; the control frames say how tshark picks H.248.
    let mut sctp_frames = 0;
    for (run, frames) in runs.iter().zip(&parsed) {
        if run.transport != Transport::Sctp {
            continue;
        }
        for (i, f) in frames.iter().enumerate() {
            sctp_frames += 1;
            if f.sctp_checksum.as_deref() != Some("1") {
                failures.push(format!(
                    "{} frame {}: SCTP checksum status {:?}, not Good",
                    run.pdml.display(),
                    i + 1,
                    f.sctp_checksum
                ));
            }
        }
    }
    let ours_sctp = &parsed[find(Transport::Sctp, false)];
    let control: Vec<bool> = ours_sctp[ours_sctp.len() - 2..]
        .iter()
        .map(|f| f.h248)
        .collect();
    let ppid_note = format!(
        "SCTP PPID 7 on port 5000 dissected as H.248: {}; PPID 0 on port 2945: {}",
        control[0], control[1]
    );

    let limits_path = repo_path("tests/tshark-ber-known-limits.txt");
    let mut limits = read_limits(&limits_path, &mut failures);

    let (mut frames_checked, mut flagged_ours, mut flagged_megaco, mut both_flagged) = (0, 0, 0, 0);
    let (mut megaco_view_differs, mut covered, mut cut_short, mut shown_alike) = (0, 0, 0, 0);
    let (mut transactions_matched, mut commands_matched) = (0, 0);
    let (mut package_names_checked, mut package_ids_checked, mut packages_cut) = (0, 0, 0);
    let mut tshark_names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut table_used: BTreeSet<&str> = BTreeSet::new();
    for (ix, item) in items.iter().enumerate() {
        let expected = expected_view(&item.msg);
        for transport in TRANSPORTS {
            let variant = transport.name();
            let frame_of = |megaco: bool| {
                let run = find(transport, megaco);
                runs[run].frames[ix].map(|n| {
                    parsed[run].get(n as usize - 1).unwrap_or_else(|| {
                        panic!(
                            "tshark output lacks frame {n} of {}",
                            runs[run].pdml.display()
                        )
                    })
                })
            };
            let ours = frame_of(false).unwrap();
            let meg = frame_of(true);
            frames_checked += 1;
            let meg_flagged = meg.is_some_and(|m| !m.errors.is_empty());
            let ours_flagged = !ours.errors.is_empty();
            if meg_flagged {
                flagged_megaco += 1;
            }
            let mut deviations = Vec::new();

            // Transactions and commands.
            if !ours.h248 {
                deviations.push(format!(
                    "not dissected as H.248; ours is {}",
                    format_view(&expected)
                ));
            } else if ours.view == expected {
                transactions_matched += expected.len();
                commands_matched += expected.iter().map(|t| t.commands.len()).sum::<usize>();
            } else if ours_flagged && is_cut_short(&ours.view, &expected) {
                cut_short += 1;
                report.push(format!(
                    "{} {variant}: (info) cut short where tshark flags it: shows {}; ours is {}",
                    item.name,
                    format_view(&ours.view),
                    format_view(&expected)
                ));
            } else if meg.is_some_and(|m| m.view == ours.view) {
                shown_alike += 1;
                report.push(format!(
                    "{} {variant}: shown alike for megaco's encoding (not a failure): shows {}; ours is {}",
                    item.name,
                    format_view(&ours.view),
                    format_view(&expected)
                ));
            } else {
                deviations.push(format!(
                    "shows {}; ours is {}",
                    format_view(&ours.view),
                    format_view(&expected)
                ));
            }
            if let Some(m) = meg {
                if m.view != expected {
                    megaco_view_differs += 1;
                    report.push(format!(
                        "{} {variant}: (info) megaco's encoding: tshark shows {}; ours is {}",
                        item.name,
                        format_view(&m.view),
                        format_view(&expected)
                    ));
                }
            }

            // Packages.
            for (pkg, &id) in item.packages.iter().filter(|_| ours.h248) {
                let shown: BTreeSet<&str> = ours
                    .packages
                    .iter()
                    .filter(|(i, _)| *i == id)
                    .map(|(_, n)| n.as_str())
                    .collect();
                let key = format!("{pkg} (0x{id:04x})");
                for n in &shown {
                    tshark_names
                        .entry(key.clone())
                        .or_default()
                        .insert((*n).to_string());
                }
                let want = TSHARK_PACKAGE_NAMES
                    .iter()
                    .find(|(ours, _)| ours == pkg)
                    .map(|(o, t)| (*o, *t));
                let all_are = |name: &str| shown.iter().all(|n| *n == name);
                match want {
                    _ if shown.is_empty() && ours_flagged => {
                        packages_cut += 1;
                        report.push(format!(
                            "{} {variant}: (info) package {key} not shown, cut short where tshark flags it",
                            item.name
                        ));
                    }
                    _ if shown.is_empty() => {
                        deviations.push(format!("package {key}: not shown"));
                    }
                    Some((o, t)) if all_are(t) => {
                        table_used.insert(o);
                        package_names_checked += 1;
                    }
                    Some((_, t)) => deviations.push(format!(
                        "package {key}: shown as {}, tshark's name for it is {t}",
                        shown.iter().copied().collect::<Vec<_>>().join(" / ")
                    )),
                    None if all_are(UNKNOWN_PACKAGE) => package_ids_checked += 1,
                    None => failures.push(format!(
                        "{} {variant}: tshark names package {key} {}: add it to TSHARK_PACKAGE_NAMES",
                        item.name,
                        shown.iter().copied().collect::<Vec<_>>().join(" / ")
                    )),
                }
            }

            // Package IDs tshark shows that none of our names has (Annex C and `*` aside).
            let stray: BTreeSet<u16> = ours
                .packages
                .iter()
                .map(|(id, _)| *id)
                .filter(|id| ![ANNEX_C, WILDCARD].contains(id))
                .filter(|id| !item.packages.values().any(|x| x == id))
                .collect();
            for id in stray {
                deviations.push(format!(
                    "package 0x{id:04x}: shown by tshark, not in our message"
                ));
            }

            // Flags.
            // A flag of ours is excused by the same words on megaco's encoding.
            if ours_flagged {
                flagged_ours += 1;
                let meg_errors: &[String] = meg.map_or(&[], |m| &m.errors);
                if meg_flagged {
                    both_flagged += 1;
                    report.push(format!(
                        "{} {variant}: flagged for both encodings (not a failure): ours: {}; megaco's: {}",
                        item.name,
                        ours.errors.join(" | "),
                        meg_errors.join(" | ")
                    ));
                }
                for e in ours.errors.iter().filter(|e| !meg_errors.contains(e)) {
                    deviations.push(format!("flagged: {e}"));
                }
            } else if meg_flagged {
                report.push(format!(
                    "{} {variant}: (info) only megaco's encoding flagged: {}",
                    item.name,
                    meg.unwrap().errors.join(" | ")
                ));
            }

            for d in deviations {
                let mut hit = false;
                for l in limits
                    .iter_mut()
                    .filter(|l| l.covers(&item.name, transport, &d))
                {
                    l.used = true;
                    hit = true;
                }
                if hit {
                    covered += 1;
                    report.push(format!("{} {variant}: known limit: {d}", item.name));
                } else {
                    let megaco_errors = meg.map(|m| m.errors.join(" | ")).unwrap_or_default();
                    failures.push(format!(
                        "{} {variant}: {d}\n  our BER:  {}\n  megaco's: {} (tshark: {})",
                        item.name,
                        hex(&item.ours, 400),
                        item.megaco
                            .as_deref()
                            .map_or_else(|| "(megaco could not encode it)".into(), |b| hex(b, 400)),
                        if megaco_errors.is_empty() {
                            "no flags"
                        } else {
                            &megaco_errors
                        }
                    ));
                }
            }
        }
    }
    for (ours, t) in TSHARK_PACKAGE_NAMES {
        if !table_used.contains(ours) {
            failures.push(format!(
                "TSHARK_PACKAGE_NAMES: {ours} = {t}: no checked message shows it; remove the entry"
            ));
        }
    }
    for l in limits.iter().filter(|l| !l.used) {
        failures.push(format!(
            "{}:{}: stale entry, no longer occurs: {} {} : {}",
            limits_path.display(),
            l.line,
            l.message,
            l.transport.map_or("all", Transport::name),
            l.words
        ));
    }

    for line in merge_transports(&report) {
        eprintln!("tshark-ber: {}", escape(&line));
    }
    for u in &unencodable {
        eprintln!("tshark-ber: (info) our BER codec cannot encode {u}");
    }
    let names: Vec<String> = tshark_names
        .iter()
        .map(|(ours, t)| {
            format!(
                "{ours} = {}",
                t.iter().cloned().collect::<Vec<_>>().join(" / ")
            )
        })
        .collect();
    eprintln!(
        "tshark-ber: package names tshark shows: {}",
        names.join("; ")
    );
    eprintln!("tshark-ber: {ppid_note}");
    let n_ex = items.iter().filter(|i| i.name.starts_with("ex_")).count();
    let n_meg = items.iter().filter(|i| i.megaco.is_some()).count();
    // Examples whose megaco encoding tshark flags (over UDP).
    let meg_udp = &parsed[find(Transport::Udp, true)];
    let meg_ex_flagged = items
        .iter()
        .enumerate()
        .filter(|(ix, it)| {
            it.name.starts_with("ex_")
                && runs[find(Transport::Udp, true)].frames[*ix]
                    .is_some_and(|n| !meg_udp[n as usize - 1].errors.is_empty())
        })
        .count();
    eprintln!(
        "tshark-ber summary: {} messages ({n_ex} megaco examples, {} corpus files; {} corpus \
         files not encodable in BER), megaco encodes {n_meg}; {frames_checked} frames checked \
         (each over UDP and SCTP; {sctp_frames} SCTP frames, all with good CRC32c); \
         {transactions_matched} transactions and {commands_matched} commands matched, \
         {cut_short} views cut short where tshark flags the frame, {shown_alike} shown alike \
         for megaco's encoding; packages: {package_names_checked} checked by tshark's name, \
         {package_ids_checked} by ID only, {packages_cut} not shown in flagged frames; flagged \
         ours: {flagged_ours}, flagged megaco's: {flagged_megaco} ({meg_ex_flagged} of {n_ex} \
         examples), flagged both: {both_flagged}; megaco's view differs: \
         {megaco_view_differs}; known limits: {} entries covering {covered} deviations; \
         failures: {}; work dir {}",
        items.len(),
        items.len() - n_ex,
        unencodable.len(),
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
