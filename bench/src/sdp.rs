//! The few SDP lines the bench reads (the media address, `a=fingerprint`, `a=crypto`) and the
//! offers it writes.

use std::net::SocketAddr;

/// The value of the first line starting with `prefix`.
pub fn attr<'a>(sdp: &'a str, prefix: &str) -> Option<&'a str> {
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix(prefix))
        .map(str::trim)
}

/// The address of the first audio stream: session- or media-level `c=IN IP4` and `m=audio`.
pub fn media_addr(sdp: &str) -> Option<SocketAddr> {
    let mut session_ip = None;
    let mut media_ip = None;
    let mut port = None;
    for l in sdp.lines().map(str::trim_end) {
        if let Some(a) = l.strip_prefix("c=IN IP4 ") {
            let ip = a.split('/').next().map(str::to_owned);
            if port.is_none() {
                session_ip = ip;
            } else {
                media_ip = ip;
            }
        } else if let Some(m) = l.strip_prefix("m=") {
            if port.is_some() {
                break;
            }
            port = m
                .strip_prefix("audio ")
                .and_then(|m| m.split_whitespace().next())
                .and_then(|p| p.parse::<u16>().ok());
        }
    }
    format!("{}:{}", media_ip.or(session_ip)?, port?)
        .parse()
        .ok()
}

/// The master key and salt of the first `a=crypto` line with `suite`
/// (`inline:<base64 of key || salt>`, RFC 4568; lifetime and MKI parameters ignored).
pub fn sdes_key(sdp: &str, suite: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    sdp.lines().find_map(|l| {
        let rest = l.trim_end().strip_prefix("a=crypto:")?;
        let mut it = rest.split_whitespace();
        let _tag = it.next()?;
        if it.next()? != suite {
            return None;
        }
        let inline = it.next()?.strip_prefix("inline:")?;
        let b64 = inline.split('|').next()?;
        base64::engine::general_purpose::STANDARD.decode(b64).ok()
    })
}

/// `a=crypto` value for our SDES key.
pub fn crypto_line(tag: u32, suite: &str, key_salt: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "a=crypto:{tag} {suite} inline:{}",
        base64::engine::general_purpose::STANDARD.encode(key_salt)
    )
}

/// A single-stream audio SDP (PCMU, rtcp-mux) at `port`, with `proto` and extra lines.
pub fn audio(port: u16, session: u32, proto: &str, extra: &[String]) -> String {
    let mut s = format!(
        "v=0\r\no=- {session} 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\n\
         m=audio {port} {proto} 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\na=sendrecv\r\n"
    );
    for l in extra {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_level_connection_overrides_session_level() {
        let sdp = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 127.0.0.2\r\n\
                   m=audio 5000 RTP/AVP 0\r\nc=IN IP4 10.9.9.9\r\n";
        assert_eq!(media_addr(sdp), Some("127.0.0.2:4000".parse().unwrap()));
        let session_only = "c=IN IP4 192.0.2.7\r\nm=audio 30000 RTP/SAVP 0\r\n";
        assert_eq!(
            media_addr(session_only),
            Some("192.0.2.7:30000".parse().unwrap())
        );
        assert_eq!(media_addr("m=audio 1 RTP/AVP 0\r\n"), None);
    }

    #[test]
    fn crypto_key_of_the_wanted_suite() {
        // RFC 4568 section 9.1 example key
        let sdp = "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n\
                   a=crypto:2 AES_CM_128_HMAC_SHA1_80 \
                   inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\r\n";
        let k = sdes_key(sdp, "AES_CM_128_HMAC_SHA1_80").expect("suite 80");
        assert_eq!(k.len(), 30);
        assert_eq!(&k[..4], b"=-n@");
        assert_eq!(sdes_key(sdp, "AEAD_AES_256_GCM"), None);
        // and our own line reads back
        let key: Vec<u8> = (0u8..30).collect();
        let line = crypto_line(1, "AES_CM_128_HMAC_SHA1_80", &key);
        assert_eq!(sdes_key(&line, "AES_CM_128_HMAC_SHA1_80"), Some(key));
    }
}
