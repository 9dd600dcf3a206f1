//! `iq-interop lab --pcap FILE`: the capture dissects in tshark (Wireshark's dissectors, a
//! third party): H.248 on the Iq port with exactly the transactions the ladder showed, DTLS
//! ClientHellos from both figures, RTP on the media ports, and nothing malformed.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

fn tshark_present() -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("lab_pcap: tshark missing (scripts/test.sh installs it)");
        }
        eprintln!("\n*** SKIPPING lab_pcap: no tshark on PATH ***\n");
    }
    ok
}

/// tshark's view; `heur` enables the RTP heuristic (the UE's leg goes through the lab's
/// relay, whose address no SDP names, so only the heuristic finds its SRTP).
fn tshark_with(file: &std::path::Path, heur: bool, extra: &[&str]) -> Vec<String> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(file);
    if heur {
        cmd.args(["--enable-heuristic", "rtp_udp"]);
    }
    let out = cmd.args(extra).output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

fn tshark(file: &std::path::Path, extra: &[&str]) -> Vec<String> {
    tshark_with(file, false, extra)
}

/// `ue`: extra lab arguments choosing the UE; `strict`: no exemption at all for SRTCP frames.
fn run_lab(transport: &str, ue: &[&str], strict: bool) {
    if !tshark_present() {
        return;
    }
    let bin_dir = common::bin("iq-agw", "iq-agw")
        .parent()
        .unwrap()
        .to_path_buf();
    let file = std::env::temp_dir().join(format!("iq-lab-{}-{transport}.pcap", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args(["lab", "--transport", transport, "--seconds", "1"])
        .args(ue)
        .arg("--pcap")
        .arg(&file)
        .arg("--bin-dir")
        .arg(&bin_dir)
        .output()
        .expect("run the lab");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    println!("{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "the lab failed");
    // the transaction IDs the ladder showed (requests and replies, both directions)
    let ladder: BTreeSet<u32> = text
        .lines()
        .filter_map(|l| l.split("  Iq    ").nth(1))
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let i = w.iter().position(|x| *x == "Request" || *x == "Reply")?;
            w.get(i + 1)?.parse().ok()
        })
        .collect();
    assert!(
        ladder.len() >= 8,
        "too few transactions on the ladder: {ladder:?}"
    );
    let ids: BTreeSet<u32> = tshark(
        &file,
        &["-Y", "megaco", "-T", "fields", "-e", "megaco.transid"],
    )
    .iter()
    .flat_map(|l| {
        l.split(',')
            .map(|x| x.trim().to_string())
            .collect::<Vec<_>>()
    })
    .filter_map(|x| x.parse().ok())
    .collect();
    assert_eq!(
        ids, ladder,
        "tshark's H.248 transaction IDs differ from the ladder's"
    );
    // both figures' DTLS handshakes (one ClientHello each), and the UE's and core's media
    let hellos = tshark(&file, &["-Y", "dtls.handshake.type == 1"]);
    assert!(hellos.len() >= 2, "DTLS ClientHellos: {hellos:?}");
    // without any heuristic: the core leg's RTP (announced in the SDP the H.248 messages carry)
    let plain = tshark(&file, &["-Y", "rtp.p_type == 0 && rtp.ssrc == 0x5eedc0de"]);
    assert!(
        plain.len() >= 20,
        "the core peer's RTP is not dissected: {plain:?}"
    );
    // with the RTP heuristic: the UE's SRTP too
    let rtp = tshark_with(&file, true, &["-Y", "rtp && !(rtp.ssrc == 0x5eedc0de)"]);
    assert!(
        rtp.len() >= 40,
        "only {} SRTP packets from the UE/AGW",
        rtp.len()
    );
    // nothing malformed and no expert error. With AEAD_AES_128_GCM (what our UE and the AGW
    // prefer) tshark 4.0 misreads SRTCP: RFC 7714 puts the E flag and SRTCP index after the
    // 16-octet tag, while tshark looks for them where the HMAC-SHA1 profiles put them (before
    // a 10-octet tag), so it takes a random bit of the tag for "not encrypted" and dissects
    // ciphertext as RTCP, about one run in two. For GCM runs SRTCP frames are exempt; the
    // HMAC-SHA1-80 run (`strict`) has no exemption at all.
    let filter = if strict {
        "_ws.malformed || _ws.expert.severity == error"
    } else {
        "(_ws.malformed || _ws.expert.severity == error) && !srtcp"
    };
    let bad = tshark(&file, &["-Y", filter]);
    assert!(bad.is_empty(), "malformed entries: {bad:#?}");
    let bad = tshark_with(&file, true, &["-Y", filter]);
    assert!(
        bad.is_empty(),
        "malformed entries (RTP heuristic on): {bad:#?}"
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn pcap_over_tcp_dissects_cleanly() {
    run_lab("tcp", &[], false);
}

/// The OpenSSL UE negotiates SRTP_AES128_CM_SHA1_80, whose SRTCP layout tshark knows: the
/// capture must then dissect with no malformed frame and no exemption.
#[test]
fn pcap_with_the_hmac_sha1_profile_has_no_malformed_frame_at_all() {
    if common::oracle_python("lab_pcap").is_none() {
        return;
    }
    run_lab("tcp", &["--ue", "openssl"], true);
}

#[test]
fn pcap_over_udp_dissects_cleanly() {
    run_lab("udp", &[], false);
}
