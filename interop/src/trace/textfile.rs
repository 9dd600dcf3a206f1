//! The plain text trace format (documented in `README.md` next to this file).

use iq_codec::binary::BinaryCodec;

use super::{decode, Direction, Trace, TraceError, TraceMessage, Transport};

/// Seconds since the epoch of an RFC 3339 timestamp (`2026-11-27T17:00:00.250Z`,
/// `...+01:00`), or plain seconds (`12.5`).
pub fn parse_time(s: &str) -> Option<f64> {
    if let Ok(x) = s.parse::<f64>() {
        return x.is_finite().then_some(x);
    }
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        frac = format!("0.{}", &r[..n]).parse().ok()?;
        rest = &r[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            if o.get(3..4) != Some(":") {
                return None;
            }
            let oh: i64 = o.get(1..3)?.parse().ok()?;
            let om: i64 = o.get(4..6)?.parse().ok()?;
            let v = oh * 3600 + om * 60;
            if o.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    // Days from the civil date (proleptic Gregorian), after H. Hinnant's algorithm.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + se - offset) as f64 + frac)
}

/// Parses a text trace: each block starts with `# <mgc->mg|mg->mgc> <timestamp>`; the block's
/// message runs up to the next header line. Lines before the first header that start with `#`
/// or are blank are comments.
pub fn parse(text: &str, codec: &BinaryCodec) -> Result<Trace, String> {
    let mut trace = Trace::default();
    let mut blocks: Vec<(u32, usize, Direction, f64, String)> = Vec::new();
    let mut current: Option<(u32, usize, Direction, f64, String)> = None;
    let mut n = 0u32;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let header = line.strip_prefix('#').map(str::trim).and_then(|h| {
            let mut it = h.split_whitespace();
            let dir = match it.next()? {
                "mgc->mg" => Direction::MgcToMg,
                "mg->mgc" => Direction::MgToMgc,
                _ => return None,
            };
            Some((dir, it.next().map(str::to_owned), it.next().is_some()))
        });
        match header {
            Some((dir, ts, extra)) => {
                if let Some(b) = current.take() {
                    blocks.push(b);
                }
                n += 1;
                let time = match ts.as_deref().map(parse_time) {
                    Some(Some(t)) if !extra => t,
                    _ => {
                        trace.errors.push(TraceError::new(
                            n,
                            format!(
                                "line {lineno}: header needs `# <mgc->mg|mg->mgc> <RFC 3339 time or seconds>`"
                            ),
                        ));
                        f64::NAN
                    }
                };
                current = Some((n, lineno, dir, time, String::new()));
            }
            None => match current.as_mut() {
                Some(b) => {
                    b.4.push_str(line);
                    b.4.push('\n');
                }
                None if line.trim().is_empty() || line.starts_with('#') => {}
                None => {
                    return Err(format!(
                        "line {lineno}: text before the first `# <direction> <time>` header"
                    ))
                }
            },
        }
    }
    if let Some(b) = current.take() {
        blocks.push(b);
    }
    if blocks.is_empty() {
        return Err("no `# <direction> <time>` block in the text trace".into());
    }
    for (frame, lineno, direction, time, body) in blocks {
        if time.is_nan() {
            continue; // already an error
        }
        match decode(body.trim().as_bytes(), codec) {
            Ok((message, encoding)) => trace.messages.push(TraceMessage {
                frame,
                time,
                src: None,
                dst: None,
                transport: Transport::File,
                direction,
                encoding,
                message,
            }),
            Err(e) => trace.errors.push(TraceError::new(
                frame,
                format!("block at line {lineno}: {e}"),
            )),
        }
    }
    // header errors were found before the decode errors of earlier blocks
    trace.errors.sort_by_key(|e| e.frame);
    Ok(trace)
}

#[cfg(test)]
mod tests {
    use super::{parse, parse_time};

    #[test]
    fn errors_in_block_order() {
        // block 1: bad header, block 2: undecodable, block 3: bad header (found by the
        // cargo-fuzz target `trace_read`: errors came out as 1, 3, 2)
        let t = parse(
            "# mgc->mg soon\nMEGACO/3 [192.0.2.2]:2944\n\n# mg->mgc 3\ngarbage\n\n# mg->mgc 3o\nx\n",
            &iq_codec::binary::BinaryCodec::default(),
        )
        .unwrap();
        let frames: Vec<u32> = t.errors.iter().map(|e| e.frame).collect();
        assert_eq!(frames, [1, 2, 3], "{:?}", t.errors);
        assert!(t.messages.is_empty());
    }

    #[test]
    fn rfc3339_against_known_epochs() {
        // 2000-03-01T00:00:00Z = 951868800 (leap-year boundary); date(1) agrees.
        assert_eq!(parse_time("2000-03-01T00:00:00Z"), Some(951_868_800.0));
        assert_eq!(parse_time("1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(parse_time("2026-11-27T17:00:00.5Z"), Some(1_795_798_800.5));
        assert_eq!(parse_time("12.25"), Some(12.25));
        assert_eq!(parse_time("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2026-11-27T17:00:00+0\u{e9}00"), None);
    }
}
