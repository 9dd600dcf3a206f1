//! Structural comparison of a recorded and a live reply (as JSON renderings of the iq-codec
//! model), learning the values the gateway chose and substituting them into later requests.
//!
//! Role values (allowed to differ between recording and replay, but consistently): context IDs
//! (keys `context`), termination IDs (`termination_ids`, topology `from`/`to`) and the tokens of
//! SDP lines whose type is in `sdp_roles` (addresses, ports, fingerprints, ICE credentials and
//! candidates by default). A role value seen for the first time is learnt (recorded -> live);
//! seen again it must map the same way. Paths matching an `ignore` pattern may differ freely
//! (timestamps and statistics values by default). Everything else must be equal: a different error code, a missing or
//! extra descriptor or command is a difference.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

/// Comparison rules (TOML file, `--rules`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Paths whose values may differ freely: dot-separated segments (object keys, array
    /// indexes), `*` matches one segment, a trailing `**` any rest.
    pub ignore: Vec<String>,
    /// SDP lines whose tokens are chosen by the gateway: a line type (`c`, `m`, `o`) or an
    /// attribute (`a=fingerprint`).
    pub sdp_roles: Vec<String>,
    /// Keys whose values are IDs chosen by the gateway.
    pub id_keys: Vec<String>,
    /// A reply (`--as mgc`) that takes longer than this many milliseconds after its request
    /// is a mismatch (`latency`), whatever its content. `--max-reply-ms` overrides it.
    pub max_reply_ms: u64,
}

/// The default of [`Rules::max_reply_ms`]: generous for a gateway on the same host or LAN
/// (ours answers in a few ms), well below the transaction timers (H.248.1 default
/// normalMGExecutionTime 200 ms plus retransmissions, `--timeout` 10 s).
pub const DEFAULT_MAX_REPLY_MS: u64 = 2000;

impl Default for Rules {
    fn default() -> Self {
        Rules {
            // Timestamps, and statistics values (durations, counters: measurements, not
            // behaviour; the statistic names are still compared).
            ignore: vec![
                "**.timestamp".into(),
                "**.time_stamp".into(),
                "**.statistics.*.value".into(),
            ],
            sdp_roles: [
                "c",
                "o",
                "m",
                "a=fingerprint",
                "a=ice-ufrag",
                "a=ice-pwd",
                "a=candidate",
                "a=rtcp",
            ]
            .iter()
            .map(|s| (*s).to_string())
            .collect(),
            id_keys: ["context", "termination_ids", "from", "to"]
                .iter()
                .map(|s| (*s).to_string())
                .collect(),
            max_reply_ms: DEFAULT_MAX_REPLY_MS,
        }
    }
}

impl Rules {
    /// Parses a rules file; lists given there replace the defaults, `ignore` adds to them.
    pub fn from_toml(text: &str) -> Result<Rules, String> {
        let r: Rules = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut out = Rules::default();
        out.ignore.extend(r.ignore);
        let given: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        if given.contains_key("sdp_roles") {
            out.sdp_roles = r.sdp_roles;
        }
        if given.contains_key("id_keys") {
            out.id_keys = r.id_keys;
        }
        out.max_reply_ms = r.max_reply_ms;
        Ok(out)
    }

    fn ignored(&self, path: &[String]) -> bool {
        self.ignore.iter().any(|p| glob(p, path))
    }

    fn sdp_role(&self, name: &str, value: &str) -> bool {
        self.sdp_roles.iter().any(|r| match r.split_once('=') {
            Some((t, attr)) => {
                t == name
                    && value
                        .split([':', ' '])
                        .next()
                        .is_some_and(|a| a.eq_ignore_ascii_case(attr))
            }
            None => r == name,
        })
    }
}

fn glob(pattern: &str, path: &[String]) -> bool {
    fn go(p: &[&str], path: &[String]) -> bool {
        match p.split_first() {
            None => path.is_empty(),
            Some((&"**", rest)) => (0..=path.len()).any(|i| go(rest, &path[i..])),
            Some((seg, rest)) => path
                .split_first()
                .is_some_and(|(h, t)| (*seg == "*" || seg == h) && go(rest, t)),
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    go(&p, path)
}

/// Recorded -> live values learnt so far.
#[derive(Debug, Default, Clone)]
pub struct Mapping {
    /// IDs (JSON text of the recorded value -> live value).
    ids: HashMap<String, Value>,
    /// SDP tokens.
    tokens: HashMap<String, String>,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Where (dot path).
    pub path: String,
    /// What.
    pub what: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// An SDP line: `{"name": "c", "value": ["IN IP4 1.2.3.4"]}`.
fn sdp_line(v: &Value) -> Option<(&str, &str)> {
    let o = v.as_object()?;
    if o.len() != 2 {
        return None;
    }
    let name = o.get("name")?.as_str()?;
    let vals = o.get("value")?.as_array()?;
    if name.len() != 1 || vals.len() != 1 {
        return None;
    }
    Some((name, vals[0].as_str()?))
}

fn sub(path: &[String], i: usize) -> String {
    if path.is_empty() {
        i.to_string()
    } else {
        format!("{}.{i}", path.join("."))
    }
}

/// Whether token `i` of an SDP line of type `name` is one the gateway chooses: the port of
/// `m=`, the address of `c=`, session ID, version and address of `o=`, everything after the
/// attribute name of a role attribute.
fn role_token(name: &str, i: usize) -> bool {
    match name {
        "m" => i == 1,
        "c" => i >= 2,
        "o" => matches!(i, 1 | 2 | 5),
        _ => i >= 1,
    }
}

/// Tokens of an SDP line value: separated by spaces, and for an attribute its name (up to the
/// first `:`) is a token of its own (`fingerprint:sha-256 AB:CD` is `fingerprint`, `sha-256`,
/// `AB:CD`).
fn tokens<'a>(name: &str, s: &'a str) -> Vec<&'a str> {
    let (head, rest) = match (name, s.split_once(':')) {
        ("a", Some((h, r))) => (Some(h), r),
        _ => (None, s),
    };
    head.into_iter()
        .chain(rest.split(' ').filter(|t| !t.is_empty()))
        .collect()
}

/// Inverse of [`tokens`] (single spaces).
fn untokens(name: &str, s: &str, t: &[String]) -> String {
    if name == "a" && s.contains(':') && !t.is_empty() {
        format!("{}:{}", t[0], t[1..].join(" "))
    } else {
        t.join(" ")
    }
}

impl Mapping {
    /// Replaces recorded role values by the live ones in a request about to be sent.
    pub fn substitute(&self, v: &mut Value, rules: &Rules) {
        self.subst(v, rules, false);
    }

    fn subst(&self, v: &mut Value, rules: &Rules, in_id: bool) {
        if in_id {
            if let Some(live) = self.ids.get(&v.to_string()) {
                *v = live.clone();
                return;
            }
        }
        if let Some((name, value)) = sdp_line(v) {
            if rules.sdp_role(name, value) {
                let t: Vec<String> = tokens(name, value)
                    .iter()
                    .enumerate()
                    .map(
                        |(i, tok)| match self.tokens.get(*tok).filter(|_| role_token(name, i)) {
                            Some(live) => live.clone(),
                            None => (*tok).to_string(),
                        },
                    )
                    .collect();
                let out = untokens(name, value, &t);
                v["value"][0] = Value::String(out);
            }
            return;
        }
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    let id = rules.id_keys.iter().any(|i| i == k);
                    self.subst(x, rules, id);
                }
            }
            Value::Array(a) => {
                for x in a {
                    self.subst(x, rules, in_id);
                }
            }
            _ => {}
        }
    }

    /// Compares `recorded` with `live`, learning role values; returns the differences.
    pub fn compare(&mut self, recorded: &Value, live: &Value, rules: &Rules) -> Vec<Difference> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        self.cmp(recorded, live, rules, false, &mut path, &mut out);
        out
    }

    fn role_id(&mut self, r: &Value, l: &Value, path: &[String], out: &mut Vec<Difference>) {
        let key = r.to_string();
        match self.ids.get(&key) {
            Some(m) if m == l => {}
            Some(m) => out.push(Difference {
                path: path.join("."),
                what: format!(
                    "recorded {} was {} earlier in this replay, now {}",
                    short(r),
                    short(m),
                    short(l)
                ),
            }),
            None => {
                // Two recorded values may not map to one live value either.
                if let Some((other, _)) = self.ids.iter().find(|(k, v)| *v == l && **k != key) {
                    out.push(Difference {
                        path: path.join("."),
                        what: format!(
                            "live {} already stands for recorded {other}, here for {}",
                            short(l),
                            short(r)
                        ),
                    });
                } else {
                    self.ids.insert(key, l.clone());
                }
            }
        }
    }

    fn cmp(
        &mut self,
        r: &Value,
        l: &Value,
        rules: &Rules,
        in_id: bool,
        path: &mut Vec<String>,
        out: &mut Vec<Difference>,
    ) {
        if rules.ignored(path) {
            return;
        }
        if in_id && !r.is_array() {
            self.role_id(r, l, path, out);
            return;
        }
        if let (Some((rn, rv)), Some((ln, lv))) = (sdp_line(r), sdp_line(l)) {
            if rn == ln && rules.sdp_role(rn, rv) && rules.sdp_role(ln, lv) {
                let (rt, lt) = (tokens(rn, rv), tokens(ln, lv));
                if rt.len() == lt.len() {
                    for (i, (a, b)) in rt.iter().zip(&lt).enumerate() {
                        if a == b {
                            continue;
                        }
                        if !role_token(rn, i) {
                            out.push(Difference {
                                path: path.join("."),
                                what: format!("SDP line recorded {rn}={rv:?}, live {ln}={lv:?}"),
                            });
                            break;
                        }
                        match self.tokens.get(*a) {
                            Some(m) if m == b => {}
                            Some(m) => out.push(Difference {
                                path: path.join("."),
                                what: format!(
                                    "SDP {rn}= {a:?} was {m:?} earlier in this replay, now {b:?} (line {lv:?})"
                                ),
                            }),
                            None => {
                                self.tokens.insert((*a).to_string(), (*b).to_string());
                            }
                        }
                    }
                    return;
                }
                out.push(Difference {
                    path: path.join("."),
                    what: format!("SDP line recorded {rn}={rv:?}, live {ln}={lv:?}"),
                });
                return;
            }
        }
        match (r, l) {
            (Value::Object(ro), Value::Object(lo)) => {
                for (k, rv) in ro {
                    path.push(k.clone());
                    match lo.get(k) {
                        Some(lv) => {
                            let id = rules.id_keys.iter().any(|i| i == k);
                            self.cmp(rv, lv, rules, id, path, out);
                        }
                        None if !rules.ignored(path) => out.push(Difference {
                            path: path.join("."),
                            what: format!("missing in the live message (recorded {})", short(rv)),
                        }),
                        None => {}
                    }
                    path.pop();
                }
                for (k, lv) in lo {
                    if !ro.contains_key(k) {
                        path.push(k.clone());
                        if !rules.ignored(path) {
                            out.push(Difference {
                                path: path.join("."),
                                what: format!("extra in the live message: {}", short(lv)),
                            });
                        }
                        path.pop();
                    }
                }
            }
            (Value::Array(ra), Value::Array(la)) => {
                for (i, (a, b)) in ra.iter().zip(la).enumerate() {
                    path.push(i.to_string());
                    self.cmp(a, b, rules, in_id, path, out);
                    path.pop();
                }
                for (i, a) in ra.iter().enumerate().skip(la.len()) {
                    out.push(Difference {
                        path: sub(path, i),
                        what: format!("missing in the live message (recorded {})", short(a)),
                    });
                }
                for (i, b) in la.iter().enumerate().skip(ra.len()) {
                    out.push(Difference {
                        path: sub(path, i),
                        what: format!("extra in the live message: {}", short(b)),
                    });
                }
            }
            _ if r == l => {}
            _ => out.push(Difference {
                path: path.join("."),
                what: format!("recorded {}, live {}", short(r), short(l)),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_learnt_then_held_and_codes_compared() {
        let rules = Rules::default();
        let mut m = Mapping::default();
        let rec = json!({"context": {"id": 41}, "error": {"code": 411}, "termination_ids": ["ip/acc/t7"]});
        let live =
            json!({"context": {"id": 1}, "error": {"code": 411}, "termination_ids": ["ip/acc/t1"]});
        assert!(m.compare(&rec, &live, &rules).is_empty());
        // Same recorded context now answered with another live one: a difference.
        let live2 =
            json!({"context": {"id": 2}, "error": {"code": 400}, "termination_ids": ["ip/acc/t1"]});
        let d = m.compare(&rec, &live2, &rules);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].path, "context");
        assert_eq!(d[1].path, "error.code");
        // Substitution into a later request.
        let mut req =
            json!({"context": {"id": 41}, "commands": [{"termination_ids": ["ip/acc/t7"]}]});
        m.substitute(&mut req, &rules);
        assert_eq!(
            req,
            json!({"context": {"id": 1}, "commands": [{"termination_ids": ["ip/acc/t1"]}]})
        );
    }

    #[test]
    fn sdp_roles_and_missing_descriptors() {
        let rules = Rules::default();
        let mut m = Mapping::default();
        let line = |n: &str, v: &str| json!({"name": n, "value": [v]});
        let rec = json!([
            line("c", "IN IP4 192.0.2.1"),
            line("m", "audio 40000 RTP/AVP 0"),
            line("a", "rtpmap:0 PCMU/8000")
        ]);
        let live = json!([
            line("c", "IN IP4 127.0.0.1"),
            line("m", "audio 30002 RTP/AVP 0"),
            line("a", "rtpmap:0 PCMU/8000")
        ]);
        assert!(m.compare(&rec, &live, &rules).is_empty());
        let live_bad = json!([
            line("c", "IN IP4 127.0.0.1"),
            line("m", "audio 30002 RTP/AVP 8")
        ]);
        let d = m.compare(&rec, &live_bad, &rules);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].path, "1");
        assert!(d[0].what.contains("RTP/AVP 8"), "{}", d[0]);
        assert_eq!(d[1].path, "2");
        let mut req = json!([
            line("c", "IN IP4 192.0.2.1"),
            line("m", "audio 40000 RTP/AVP 0")
        ]);
        m.substitute(&mut req, &rules);
        assert_eq!(
            req,
            json!([
                line("c", "IN IP4 127.0.0.1"),
                line("m", "audio 30002 RTP/AVP 0")
            ])
        );
    }

    #[test]
    fn rules_file_and_globs() {
        let r = Rules::from_toml("ignore = [\"**.error.text\"]\nsdp_roles = [\"c\"]\n").unwrap();
        assert!(r.ignored(&["a".into(), "error".into(), "text".into()]));
        assert!(!r.ignored(&["a".into(), "error".into(), "code".into()]));
        assert!(r.ignored(&["x".into(), "timestamp".into()]));
        assert_eq!(r.sdp_roles, vec!["c".to_string()]);
        assert!(Rules::from_toml("bogus = 1").is_err());
    }
}
