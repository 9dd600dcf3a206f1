//! ng reply dictionaries, shaped like rtpengine's: `result` = `ok` / `error` / `pong`, with
//! `error-reason` on errors, `sdp` on offer/answer, `calls` on list, and for query a subset of
//! rtpengine's structure (`created`, `last signal`, `tags` -> `tag`, `created`,
//! `in dialogue with`, `medias` -> `index`, `type`, `protocol`, `streams` -> `local port`,
//! `endpoint`, `advertised endpoint`, `stats`; and `totals`).

use std::net::SocketAddr;

use super::bencode::Value;

/// `{result: pong}`.
pub fn pong() -> Value {
    Value::dict([("result", Value::str("pong"))])
}

/// `{result: ok}`.
pub fn ok() -> Value {
    Value::dict([("result", Value::str("ok"))])
}

/// `{result: ok, sdp: ...}`.
pub fn ok_sdp(sdp: &str) -> Value {
    Value::dict([("result", Value::str("ok")), ("sdp", Value::str(sdp))])
}

/// `{result: error, error-reason: ...}`.
pub fn error(reason: &str) -> Value {
    Value::dict([
        ("result", Value::str("error")),
        ("error-reason", Value::str(reason)),
    ])
}

/// `{result: ok, calls: [...]}`.
pub fn list(calls: impl IntoIterator<Item = String>) -> Value {
    Value::dict([
        ("result", Value::str("ok")),
        (
            "calls",
            Value::List(calls.into_iter().map(Value::str).collect()),
        ),
    ])
}

/// Packet counters of one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
    /// Errors.
    pub errors: u64,
}

impl Stats {
    fn value(&self) -> Value {
        let n = |x: u64| Value::Int(i64::try_from(x).unwrap_or(i64::MAX));
        Value::dict([
            ("packets", n(self.packets)),
            ("bytes", n(self.bytes)),
            ("errors", n(self.errors)),
        ])
    }
}

/// One media stream of a tag, as far as known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamInfo {
    /// Our (the AGW's) address for it, as advertised in SDP.
    pub local: Option<SocketAddr>,
    /// The peer's address from its SDP.
    pub remote: Option<SocketAddr>,
    /// Counters, if known.
    pub stats: Stats,
}

/// One m-line of a tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaInfo {
    /// 1-based index.
    pub index: u32,
    /// `audio`, `video`, ...
    pub media_type: String,
    /// Transport protocol (m-line proto).
    pub protocol: String,
    /// Its streams (one with rtcp-mux).
    pub streams: Vec<StreamInfo>,
}

/// One SIP tag of a call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagInfo {
    /// The tag.
    pub tag: String,
    /// UNIX seconds when first seen.
    pub created: u64,
    /// The other tag of the dialogue, if known.
    pub in_dialogue_with: Option<String>,
    /// Its media.
    pub medias: Vec<MediaInfo>,
}

/// A call for `query`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallInfo {
    /// UNIX seconds.
    pub created: u64,
    /// UNIX seconds of the last offer/answer.
    pub last_signal: u64,
    /// Its tags.
    pub tags: Vec<TagInfo>,
}

fn endpoint(a: SocketAddr) -> Value {
    Value::dict([
        (
            "family",
            Value::str(if a.is_ipv4() { "IPv4" } else { "IPv6" }),
        ),
        ("address", Value::str(a.ip().to_string())),
        ("port", Value::Int(i64::from(a.port()))),
    ])
}

/// The `query` reply.
pub fn query(c: &CallInfo) -> Value {
    let int = |x: u64| Value::Int(i64::try_from(x).unwrap_or(i64::MAX));
    let mut totals = Stats::default();
    let tags = c
        .tags
        .iter()
        .map(|t| {
            let medias = t
                .medias
                .iter()
                .map(|m| {
                    let streams = m
                        .streams
                        .iter()
                        .map(|s| {
                            totals.packets += s.stats.packets;
                            totals.bytes += s.stats.bytes;
                            totals.errors += s.stats.errors;
                            let mut d = vec![("stats", s.stats.value())];
                            if let Some(l) = s.local {
                                d.push(("local port", Value::Int(i64::from(l.port()))));
                                d.push(("advertised endpoint", endpoint(l)));
                            }
                            if let Some(r) = s.remote {
                                d.push(("endpoint", endpoint(r)));
                            }
                            Value::dict(d)
                        })
                        .collect();
                    Value::dict([
                        ("index", Value::Int(i64::from(m.index))),
                        ("type", Value::str(&m.media_type)),
                        ("protocol", Value::str(&m.protocol)),
                        ("streams", Value::List(streams)),
                    ])
                })
                .collect();
            let mut d = vec![
                ("tag", Value::str(&t.tag)),
                ("created", int(t.created)),
                ("medias", Value::List(medias)),
            ];
            if let Some(o) = &t.in_dialogue_with {
                d.push(("in dialogue with", Value::str(o)));
            }
            (t.tag.clone(), Value::dict(d))
        })
        .collect::<Vec<_>>();
    Value::dict([
        ("result", Value::str("ok")),
        ("created", int(c.created)),
        ("last signal", int(c.last_signal)),
        ("tags", Value::dict(tags)),
        (
            "totals",
            Value::dict([("RTP", totals.value()), ("RTCP", Stats::default().value())]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_shape() {
        let c = CallInfo {
            created: 10,
            last_signal: 12,
            tags: vec![TagInfo {
                tag: "ft".into(),
                created: 10,
                in_dialogue_with: Some("tt".into()),
                medias: vec![MediaInfo {
                    index: 1,
                    media_type: "audio".into(),
                    protocol: "UDP/TLS/RTP/SAVPF".into(),
                    streams: vec![StreamInfo {
                        local: Some("203.0.113.10:40000".parse().unwrap()),
                        remote: Some("198.51.100.20:50000".parse().unwrap()),
                        stats: Stats {
                            packets: 5,
                            bytes: 500,
                            errors: 0,
                        },
                    }],
                }],
            }],
        };
        let v = query(&c);
        let tag = v.get("tags").and_then(|t| t.get("ft")).unwrap();
        assert_eq!(
            tag.get("in dialogue with").and_then(Value::as_str),
            Some("tt")
        );
        let s = &tag.get("medias").unwrap().as_list().unwrap()[0]
            .get("streams")
            .unwrap()
            .as_list()
            .unwrap()[0];
        assert_eq!(s.get("local port").and_then(Value::as_int), Some(40000));
        assert_eq!(
            s.get("endpoint")
                .and_then(|e| e.get("address"))
                .and_then(Value::as_str),
            Some("198.51.100.20")
        );
        assert_eq!(
            v.get("totals")
                .and_then(|t| t.get("RTP"))
                .and_then(|r| r.get("packets"))
                .and_then(Value::as_int),
            Some(5)
        );
    }
}
