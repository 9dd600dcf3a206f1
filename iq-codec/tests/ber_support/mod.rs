//! Helpers of the BER model tests (`ber_roundtrip.rs`, `ber_megaco.rs`, `ber_errors.rs`): the
//! termination ID mapping for the corpus, and the documented normalisations under which a
//! message decoded from BER equals the same message decoded from text.
#![allow(dead_code)]

use iq_codec::binary::{BinaryCodec, TermIdMapping};
use iq_codec::model::Message;
use iq_codec::packages::Registry;
use serde_json::Value;

/// Rules for the text-style termination IDs of the corpus (the default mapping knows only
/// binary digits, ROOT, `ip/acc/t<N>` and `ip/core/t<N>`). Every id is 4 or 5 octets, so none
/// collides with the 3-octet binary-digit IDs.
pub const CORPUS_TERM_IDS: &str = r#"
[[rule]]
text_prefix = "tdm/trunk1/"
id_prefix = [0x30, 0x01]
width = 2

[[rule]]
text_prefix = "tdm/"
id_prefix = [0x31]
width = 3

[[rule]]
text_prefix = "rtp/"
id_prefix = [0x40]
width = 3

[[rule]]
text_prefix = "rtp/trunk/"
id_prefix = [0x41]
width = 3

[[rule]]
text_prefix = "a"
id_prefix = [0x50]
width = 3

[[rule]]
text_prefix = "a1/"
id_prefix = [0x51]
width = 3

[[rule]]
text_prefix = "a2/"
id_prefix = [0x53]
width = 3

[[rule]]
text_prefix = "a4444/rtp"
id_prefix = [0x52]
width = 3

[[rule]]
text_prefix = "mux/"
id_prefix = [0x60]
width = 3
"#;

/// Binary IDs for the corpus' invented packages and items (`tst`, `cx`, `md`, `gm/rsb`,
/// parameters of `cg/bt`), applied on top of the built-in table like a vendor profile.
pub const CORPUS_PROFILE: &str = include_str!("corpus-profile.toml");

/// The default codec with [`CORPUS_TERM_IDS`] (after the default rules) and the built-in
/// package table plus [`CORPUS_PROFILE`].
pub fn corpus_codec() -> BinaryCodec {
    BinaryCodec::default()
        .with_registry(Registry::with_profile(CORPUS_PROFILE).expect("test profile is valid"))
        .with_term_ids(TermIdMapping::from_toml(CORPUS_TERM_IDS).expect("test mapping is valid"))
}

/// Bit order of the audit tokens (AuditDescriptor.auditToken).
const AUDIT_ORDER: [&str; 10] = [
    "mux",
    "modem",
    "media",
    "events",
    "signals",
    "digit_map",
    "statistics",
    "observed_events",
    "packages",
    "event_buffer",
];

/// Bit order of NotifyCompletion.
const COMPLETION_ORDER: [&str; 5] = [
    "on_time_out",
    "on_interrupt_by_event",
    "on_interrupt_by_new_signal_descr",
    "other_reason",
    "iteration",
];

/// The documented normalisations (`src/binary/mod.rs`, "Mapping rules"), applied to a model
/// decoded from text so that it can be compared with the same message decoded from BER:
///
/// * N1 AuditValue/AuditCapability without an audit descriptor has the empty one (BER cannot
///   tell them apart).
/// * N2 audit tokens (`Audit { Media, Events }`, ServiceChange info) in bit order, no
///   duplicates (a BIT STRING).
/// * N3 NotifyCompletion reasons in bit order, no duplicates (a BIT STRING).
/// * N4 digit map names `dialplanD` / `dialplan` are `dialplan0D` / `dialplan00` (megaco's
///   2-octet digit map names).
/// * N5 a run of consecutive empty descriptors in a command reply in bit order, no
///   duplicates (one emptyDescriptors BIT STRING).
/// * N6 SDP line types in lower case (Annex C tags).
/// * N7 an MTP address with an odd number of hex digits gets a leading zero (octets).
pub fn normalise(m: &Message) -> Message {
    let mut v = serde_json::to_value(m).unwrap();
    walk(&mut v);
    serde_json::from_value(v).unwrap()
}

fn order_of(list: &[&str], s: &Value) -> usize {
    s.as_str()
        .and_then(|s| list.iter().position(|x| *x == s))
        .unwrap_or(usize::MAX)
}

fn sort_dedup(a: &mut Vec<Value>, list: &[&str]) {
    a.sort_by_key(|x| order_of(list, x));
    a.dedup();
}

fn dialplan(s: &mut String) {
    if let Some(rest) = s.strip_prefix("dialplan") {
        match rest.len() {
            0 => *s = "dialplan00".into(),
            1 if rest.as_bytes()[0].is_ascii_digit() => *s = format!("dialplan0{rest}"),
            _ => {}
        }
    }
}

fn walk(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for key in ["audit_value", "audit_capabilities"] {
                if let Some(Value::Object(req)) = map.get_mut(key) {
                    if req.contains_key("termination_ids") && !req.contains_key("audit") {
                        req.insert("audit".into(), Value::Object(Default::default()));
                    }
                }
            }
            if let Some(Value::Array(items)) = map.get_mut("items") {
                sort_dedup(items, &AUDIT_ORDER);
            }
            if let Some(Value::Array(nc)) = map.get_mut("notify_completion") {
                sort_dedup(nc, &COMPLETION_ORDER);
            }
            match map.get_mut("digit_map") {
                Some(Value::String(s)) => dialplan(s),
                Some(Value::Object(dm)) => {
                    if let Some(Value::String(s)) = dm.get_mut("name") {
                        dialplan(s);
                    }
                }
                _ => {}
            }
            if let Some(Value::Array(groups)) = map.get_mut("groups") {
                for p in groups
                    .iter_mut()
                    .flat_map(|g| g.as_array_mut().into_iter().flatten())
                {
                    if let Some(Value::String(n)) = p.get_mut("name") {
                        *n = n.to_ascii_lowercase();
                    }
                }
            }
            if let Some(Value::String(h)) = map.get_mut("mtp") {
                if h.len() % 2 == 1 {
                    *h = format!("0{h}");
                }
            }
            if let Some(Value::Array(audit)) = map.get_mut("audit") {
                normalise_empty_runs(audit);
            }
            for (_, x) in map.iter_mut() {
                walk(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(walk),
        _ => {}
    }
}

fn normalise_empty_runs(a: &mut Vec<Value>) {
    let mut out = Vec::with_capacity(a.len());
    let mut run: Vec<Value> = Vec::new();
    let flush = |run: &mut Vec<Value>, out: &mut Vec<Value>| {
        sort_dedup(run, &AUDIT_ORDER);
        out.extend(run.drain(..).map(|x| serde_json::json!({ "empty": x })));
    };
    for x in a.drain(..) {
        match x.get("empty") {
            Some(e) => run.push(e.clone()),
            None => {
                flush(&mut run, &mut out);
                out.push(x);
            }
        }
    }
    flush(&mut run, &mut out);
    *a = out;
}

/// `(name, text)` of every message in megaco's `examples/meas/time_test.msgs` (an Erlang term
/// file of `{msgNN, <<"...">>}` binaries; only the escapes \n \r \t \" \\ occur), or `None`
/// when Debian's erlang-examples is not installed.
pub fn megaco_examples() -> Option<Vec<(String, String)>> {
    let dir = std::fs::read_dir("/usr/lib/erlang/lib").ok()?;
    let meg = dir.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("megaco-"))
    })?;
    let src = std::fs::read_to_string(meg.join("examples/meas/time_test.msgs")).ok()?;
    let mut out = Vec::new();
    let mut rest = src.as_str();
    while let Some(i) = rest.find("{msg") {
        rest = &rest[i + 1..];
        let Some((name, after)) = rest.split_once(",<<\"") else {
            break;
        };
        let mut text = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((j, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => text.push('\n'),
                    Some((_, 'r')) => text.push('\r'),
                    Some((_, 't')) => text.push('\t'),
                    Some((_, o)) => text.push(o),
                    None => break,
                },
                '"' => {
                    end = j;
                    break;
                }
                _ => text.push(c),
            }
        }
        out.push((name.to_string(), text));
        rest = &after[end..];
    }
    Some(out)
}

/// Where two JSON renderings of models first differ, with some context.
pub fn first_difference(a: &Message, b: &Message) -> String {
    let a: Vec<char> = serde_json::to_string(a).unwrap().chars().collect();
    let b: Vec<char> = serde_json::to_string(b).unwrap().chars().collect();
    let k = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let from = k.saturating_sub(120);
    let cut = |v: &[char]| {
        v[from.min(v.len())..(k + 160).min(v.len())]
            .iter()
            .collect::<String>()
    };
    format!("\n   want: ...{}\n   got:  ...{}", cut(&a), cut(&b))
}

/// Every constructed element of a (definite-length) BER encoding rewritten with the indefinite
/// form. Minimal TLV walker of the test's own.
pub fn to_indefinite(b: &[u8]) -> Vec<u8> {
    fn one(b: &[u8], out: &mut Vec<u8>) -> usize {
        let mut i = 1;
        if b[0] & 0x1f == 0x1f {
            while b[i] & 0x80 != 0 {
                i += 1;
            }
            i += 1;
        }
        let tag = &b[..i];
        let l0 = b[i] as usize;
        i += 1;
        let len = if l0 < 0x80 {
            l0
        } else {
            let n = l0 & 0x7f;
            let v = b[i..i + n].iter().fold(0usize, |a, &x| a << 8 | x as usize);
            i += n;
            v
        };
        let body = &b[i..i + len];
        if b[0] & 0x20 != 0 {
            out.extend(tag);
            out.push(0x80);
            let mut j = 0;
            while j < body.len() {
                j += one(&body[j..], out);
            }
            out.extend([0, 0]);
        } else {
            out.extend(&b[..i + len]);
        }
        i + len
    }
    let mut out = Vec::new();
    let mut j = 0;
    while j < b.len() {
        j += one(&b[j..], &mut out);
    }
    out
}
