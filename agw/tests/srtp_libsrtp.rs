//! libsrtp (through pylibsrtp in the oracle venv) against our in-place SRTP, for the four
//! profiles: packets libsrtp protects are unprotected by us to the same plaintext, ours are
//! unprotected by libsrtp, RTP and RTCP, across a rollover (sequence numbers crossing
//! 65535); replayed and tampered packets are rejected by both sides; the per-leg SSRC bound
//! holds against authentic packets and forged ones never take a slot.
//!
//! Needs `IQ_ORACLE_PYTHON` (default `target/oracle/venv/bin/python`) with pylibsrtp: fails
//! under `CI` when missing, skips loudly otherwise.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use iq_agw::media::srtp::{Context, Direction, Profile, UnprotectError, MAX_SSRCS};

const PROFILES: [Profile; 4] = [
    Profile::Aes128CmHmacSha1_80,
    Profile::Aes128CmHmacSha1_32,
    Profile::AeadAes128Gcm,
    Profile::AeadAes256Gcm,
];

struct Oracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex from oracle"))
        .collect()
}

impl Oracle {
    fn start() -> Option<Oracle> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let python = std::env::var_os("IQ_ORACLE_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/oracle/venv/bin/python"));
        let ok = Command::new(&python)
            .args(["-c", "import pylibsrtp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            if std::env::var_os("CI").is_some() {
                panic!("pylibsrtp oracle missing ({}) under CI", python.display());
            }
            eprintln!(
                "SKIPPED srtp_libsrtp: no python with pylibsrtp at {} (set IQ_ORACLE_PYTHON)",
                python.display()
            );
            return None;
        }
        let mut child = Command::new(&python)
            .arg(root.join("agw/tests/oracle/srtp_libsrtp.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn oracle");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Some(Oracle {
            child,
            stdin,
            stdout,
        })
    }

    fn call(&mut self, line: &str) -> Result<Vec<u8>, String> {
        writeln!(self.stdin, "{line}").expect("write oracle");
        self.stdin.flush().expect("flush oracle");
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).expect("read oracle");
        let answer = answer.trim_end();
        match answer.split_once(' ') {
            Some(("ok", h)) => Ok(unhex(h)),
            None if answer == "ok" => Ok(vec![]),
            Some(("err", e)) => Err(e.to_owned()),
            _ => panic!("oracle said {answer:?}"),
        }
    }

    fn session(&mut self, profile: Profile, direction: &str, key: &[u8], salt: &[u8]) {
        let mut k = key.to_vec();
        k.extend_from_slice(salt);
        self.call(&format!(
            "session {} {direction} {}",
            profile.number(),
            hex(&k)
        ))
        .expect("libsrtp session");
    }

    fn op(&mut self, op: &str, pkt: &[u8]) -> Result<Vec<u8>, String> {
        self.call(&format!("{op} {}", hex(pkt)))
    }
}

fn master(profile: Profile, seed: u8) -> (Vec<u8>, Vec<u8>) {
    let key = (0..profile.key_len())
        .map(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 7))
        .collect();
    let salt = (0..profile.salt_len())
        .map(|i| seed.wrapping_add(0x50).wrapping_add(i as u8 * 13))
        .collect();
    (key, salt)
}

const SSRC: u32 = 0xcafe_babe;

/// RTP version 2, PT 111, `seq`, a payload that differs per packet. Every fourth packet
/// carries two CSRCs and a one-word header extension (the header length must be right).
fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
    let ext = seq % 4 == 1;
    let mut p = vec![if ext { 0x92 } else { 0x80 }, 111];
    p.extend(seq.to_be_bytes());
    p.extend((u32::from(seq) * 960).to_be_bytes());
    p.extend(ssrc.to_be_bytes());
    if ext {
        p.extend(0x1111_1111u32.to_be_bytes());
        p.extend(0x2222_2222u32.to_be_bytes());
        p.extend([0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00]);
    }
    p.extend((0..160).map(|i| (i as u16 ^ seq) as u8));
    p
}

/// An RTCP sender report (PT 200) with a counter in the NTP timestamp.
fn rtcp(n: u32, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 200, 0x00, 0x06];
    p.extend(ssrc.to_be_bytes());
    p.extend(n.to_be_bytes());
    p.extend([0x11; 4]);
    p.extend((n * 960).to_be_bytes());
    p.extend(n.to_be_bytes());
    p.extend((n * 100).to_be_bytes());
    p
}

/// Sequence numbers crossing 65535 (ROC 0 -> 1).
fn seqs() -> impl Iterator<Item = u16> {
    (65_520u16..=65_535).chain(0..16)
}

fn with_room(p: &[u8]) -> Vec<u8> {
    let mut b = p.to_vec();
    b.resize(p.len() + 32, 0);
    b
}

#[test]
fn libsrtp_protects_we_unprotect() {
    let Some(mut o) = Oracle::start() else {
        return;
    };
    for (n, profile) in PROFILES.into_iter().enumerate() {
        let (key, salt) = master(profile, n as u8 + 1);
        o.session(profile, "out", &key, &salt);
        let mut rx = Context::from_master(profile, &key, &salt, Direction::Inbound).unwrap();
        let mut tx = Context::from_master(profile, &key, &salt, Direction::Outbound).unwrap();
        let mut kept = vec![];
        for seq in seqs() {
            let plain = rtp(seq, SSRC);
            let wire = o.op("protect", &plain).expect("libsrtp protect");
            // Our outbound transform of the same packet is byte for byte libsrtp's.
            let mut ours = with_room(&plain);
            let len = tx.protect_rtp(&mut ours, plain.len()).unwrap();
            assert_eq!(
                ours[..len],
                wire[..],
                "{profile:?} seq {seq}: protect differs"
            );
            let mut buf = wire.clone();
            let len = rx
                .unprotect_rtp(&mut buf)
                .unwrap_or_else(|e| panic!("{profile:?} seq {seq}: libsrtp's packet refused: {e}"));
            assert_eq!(buf[..len], plain[..], "{profile:?} seq {seq}");
            kept.push(wire);
        }
        assert_eq!(rx.roc(SSRC), Some(1), "{profile:?}: rollover followed");
        // Replays: one from before the wrap (still in the window), one just now.
        for w in [&kept[10], &kept[kept.len() - 1]] {
            let mut buf = w.clone();
            assert_eq!(rx.unprotect_rtp(&mut buf), Err(UnprotectError::Replay));
        }
        // Tampered: a payload bit, then a header bit; the untouched packet still passes
        // afterwards (a failed check must not move the window).
        let wire = o.op("protect", &rtp(16, SSRC)).unwrap();
        for at in [wire.len() - profile.rtp_tag_len() - 1, 3] {
            let mut bad = wire.clone();
            bad[at] ^= 0x04;
            assert_eq!(rx.unprotect_rtp(&mut bad), Err(UnprotectError::AuthFailed));
        }
        let mut buf = wire.clone();
        assert!(rx.unprotect_rtp(&mut buf).is_ok());

        // SRTCP.
        let mut kept = vec![];
        for i in 0..8 {
            let plain = rtcp(i, SSRC);
            let wire = o.op("protect_rtcp", &plain).expect("libsrtp protect_rtcp");
            let mut buf = wire.clone();
            let len = rx
                .unprotect_rtcp(&mut buf)
                .unwrap_or_else(|e| panic!("{profile:?} rtcp {i}: libsrtp's packet refused: {e}"));
            assert_eq!(buf[..len], plain[..], "{profile:?} rtcp {i}");
            kept.push(wire);
        }
        let mut buf = kept[3].clone();
        assert_eq!(rx.unprotect_rtcp(&mut buf), Err(UnprotectError::Replay));
        let wire = o.op("protect_rtcp", &rtcp(8, SSRC)).unwrap();
        let mut bad = wire.clone();
        bad[12] ^= 0x01;
        assert_eq!(rx.unprotect_rtcp(&mut bad), Err(UnprotectError::AuthFailed));
        let mut buf = wire.clone();
        assert!(rx.unprotect_rtcp(&mut buf).is_ok());
    }
}

#[test]
fn we_protect_libsrtp_unprotects() {
    let Some(mut o) = Oracle::start() else {
        return;
    };
    for (n, profile) in PROFILES.into_iter().enumerate() {
        let (key, salt) = master(profile, n as u8 + 9);
        o.session(profile, "in", &key, &salt);
        let mut tx = Context::from_master(profile, &key, &salt, Direction::Outbound).unwrap();
        let mut sent = vec![];
        for seq in seqs() {
            let plain = rtp(seq, SSRC);
            let mut buf = with_room(&plain);
            let len = tx.protect_rtp(&mut buf, plain.len()).unwrap();
            assert_eq!(len, plain.len() + profile.rtp_tag_len());
            let back = o
                .op("unprotect", &buf[..len])
                .unwrap_or_else(|e| panic!("{profile:?} seq {seq}: libsrtp refused ours: {e}"));
            assert_eq!(back, plain, "{profile:?} seq {seq}");
            sent.push(buf[..len].to_vec());
        }
        assert_eq!(tx.roc(SSRC), Some(1), "{profile:?}: outbound rollover");
        for w in [&sent[12], &sent[sent.len() - 1]] {
            assert!(
                o.op("unprotect", w).is_err(),
                "{profile:?}: libsrtp took a replay"
            );
        }
        let plain = rtp(16, SSRC);
        let mut buf = with_room(&plain);
        let len = tx.protect_rtp(&mut buf, plain.len()).unwrap();
        let mut bad = buf[..len].to_vec();
        bad[20] ^= 0x10;
        assert!(o.op("unprotect", &bad).is_err(), "{profile:?}: tampered");
        assert_eq!(o.op("unprotect", &buf[..len]).unwrap(), plain);

        let mut sent = vec![];
        for i in 0..8 {
            let plain = rtcp(i, SSRC);
            let mut buf = with_room(&plain);
            let len = tx.protect_rtcp(&mut buf, plain.len()).unwrap();
            let back = o
                .op("unprotect_rtcp", &buf[..len])
                .unwrap_or_else(|e| panic!("{profile:?} rtcp {i}: libsrtp refused ours: {e}"));
            assert_eq!(back, plain, "{profile:?} rtcp {i}");
            sent.push(buf[..len].to_vec());
        }
        assert!(
            o.op("unprotect_rtcp", &sent[2]).is_err(),
            "{profile:?}: rtcp replay"
        );
        let plain = rtcp(8, SSRC);
        let mut buf = with_room(&plain);
        let len = tx.protect_rtcp(&mut buf, plain.len()).unwrap();
        let mut bad = buf[..len].to_vec();
        bad[10] ^= 0x01;
        assert!(
            o.op("unprotect_rtcp", &bad).is_err(),
            "{profile:?}: rtcp tampered"
        );
        assert_eq!(o.op("unprotect_rtcp", &buf[..len]).unwrap(), plain);
    }
}

/// The inbound SSRC table: forged packets of new SSRCs never take a slot; authentic ones
/// take the [`MAX_SSRCS`] slots and the next new SSRC is dropped and counted, while the
/// known ones keep flowing.
#[test]
fn ssrc_bound_against_libsrtp_streams() {
    let Some(mut o) = Oracle::start() else {
        return;
    };
    let profile = Profile::AeadAes128Gcm;
    let (key, salt) = master(profile, 42);
    o.session(profile, "out", &key, &salt);
    let mut rx = Context::from_master(profile, &key, &salt, Direction::Inbound).unwrap();
    for k in 0..100u32 {
        let mut forged = o.op("protect", &rtp(7, 0x1000 + k)).unwrap();
        let last = forged.len() - 1;
        forged[last] ^= 0x55;
        assert_eq!(
            rx.unprotect_rtp(&mut forged),
            Err(UnprotectError::AuthFailed)
        );
    }
    assert_eq!(rx.ssrc_count(), 0, "forged packets created state");
    for k in 0..MAX_SSRCS as u32 {
        let mut w = o.op("protect", &rtp(100, 0x2000 + k)).unwrap();
        assert!(rx.unprotect_rtp(&mut w).is_ok());
    }
    assert_eq!(rx.ssrc_count(), MAX_SSRCS);
    let mut w = o.op("protect", &rtp(100, 0x3000)).unwrap();
    assert_eq!(rx.unprotect_rtp(&mut w), Err(UnprotectError::SsrcLimit));
    assert_eq!(rx.ssrc_limit_drops(), 1);
    let mut w = o.op("protect", &rtp(101, 0x2000)).unwrap();
    assert!(
        rx.unprotect_rtp(&mut w).is_ok(),
        "known SSRC still accepted"
    );
}
