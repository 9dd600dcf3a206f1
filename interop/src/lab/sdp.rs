//! SDP as the lab's SIP proxy handles it: one-line summaries for the ladder, the media address,
//! and rewriting the address of one side to the lab's access relay.

use std::net::{IpAddr, SocketAddr};

fn attr<'a>(sdp: &'a str, name: &str) -> Option<&'a str> {
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix(name))
        .map(str::trim)
}

/// The audio m-line's proto.
pub fn proto(sdp: &str) -> Option<&str> {
    attr(sdp, "m=audio ").and_then(|m| m.split_whitespace().nth(1))
}

/// `a=setup:` value.
pub fn setup(sdp: &str) -> Option<&str> {
    attr(sdp, "a=setup:")
}

/// `a=fingerprint:` value.
pub fn fingerprint(sdp: &str) -> Option<&str> {
    attr(sdp, "a=fingerprint:")
}

/// The media address: the audio section's `c=` (or the session's) and the m-line port.
pub fn media_addr(sdp: &str) -> Option<SocketAddr> {
    let mut session_c = None;
    let mut media_c = None;
    let mut port = None;
    let mut in_audio = false;
    for l in sdp.lines().map(str::trim_end) {
        if let Some(m) = l.strip_prefix("m=") {
            in_audio = m.starts_with("audio ");
            if in_audio && port.is_none() {
                port = m
                    .split_whitespace()
                    .nth(1)
                    .and_then(|p| p.parse::<u16>().ok());
            }
        } else if let Some(c) = l.strip_prefix("c=IN IP4 ") {
            let ip: Option<IpAddr> = c.split('/').next().and_then(|a| a.trim().parse().ok());
            if port.is_none() && !in_audio {
                session_c = ip;
            } else if in_audio && media_c.is_none() {
                media_c = ip;
            }
        }
    }
    Some(SocketAddr::new(media_c.or(session_c)?, port?))
}

/// One line: proto, setup, fingerprint prefix, ICE, tls-id.
pub fn summary(sdp: &str) -> String {
    let mut parts = vec![proto(sdp).unwrap_or("no m=audio").to_string()];
    if let Some(a) = media_addr(sdp) {
        parts.push(a.to_string());
    }
    if let Some(s) = setup(sdp) {
        parts.push(format!("setup:{s}"));
    }
    if let Some(f) = fingerprint(sdp) {
        let short: String = f.chars().take(22).collect();
        parts.push(format!("fingerprint {short}.."));
    }
    let cands = sdp
        .lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .count();
    if attr(sdp, "a=ice-ufrag:").is_some() {
        let lite = if sdp.contains("a=ice-lite") {
            " lite"
        } else {
            ""
        };
        parts.push(format!("ICE{lite} ({cands} candidates)"));
    } else {
        parts.push("no ICE".into());
    }
    match attr(sdp, "a=tls-id:") {
        Some(t) => parts.push(format!("tls-id {t}")),
        None => parts.push("no tls-id".into()),
    }
    parts.join(", ")
}

/// `sdp` with every occurrence of `from` (c= address with the m-line port, and ICE candidates)
/// replaced by `to`. Other candidates (other addresses of the same host) are dropped, so that
/// every path goes through `to`.
pub fn rewrite(sdp: &str, from: SocketAddr, to: SocketAddr) -> String {
    let eol = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(sdp.len());
    for l in sdp.lines() {
        let line = if let Some(c) = l.strip_prefix("c=IN IP4 ") {
            if c.trim() == from.ip().to_string() {
                format!("c=IN IP4 {}", to.ip())
            } else {
                l.to_string()
            }
        } else if let Some(m) = l.strip_prefix("m=audio ") {
            let mut f: Vec<&str> = m.split(' ').collect();
            let p = to.port().to_string();
            if f.first() == Some(&from.port().to_string().as_str()) {
                f[0] = &p;
            }
            format!("m=audio {}", f.join(" "))
        } else if l.starts_with("a=candidate:") {
            let mut f: Vec<String> = l.split(' ').map(String::from).collect();
            if f.len() > 5 && f[4] == from.ip().to_string() && f[5] == from.port().to_string() {
                f[4] = to.ip().to_string();
                f[5] = to.port().to_string();
                f.join(" ")
            } else {
                continue;
            }
        } else if l.starts_with("a=rtcp:") {
            // rtcp-mux: RTCP goes to the RTP port
            continue;
        } else {
            l.to_string()
        };
        out.push_str(&line);
        out.push_str(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_moves_address_and_candidates() {
        let sdp = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 5000 UDP/TLS/RTP/SAVPF 0\r\n\
                   a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n\
                   a=candidate:2 1 udp 2130706431 10.1.1.1 5000 typ host\r\na=setup:actpass\r\n";
        let from: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let to: SocketAddr = "127.0.0.2:6000".parse().unwrap();
        let r = rewrite(sdp, from, to);
        assert_eq!(media_addr(&r), Some(to));
        assert!(r.contains("a=candidate:1 1 udp 2130706431 127.0.0.2 6000 typ host\r\n"));
        assert!(!r.contains("10.1.1.1"), "{r}");
        assert!(r.contains("a=setup:actpass\r\n"));
        assert_eq!(media_addr(sdp), Some(from));
    }
}
