//! `iq-interop codec --from ber` / `--to ber` (raw octets and `--hex`).

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin).unwrap();
    let o = c.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        o.stdout,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const MSG: &str = "MEGACO/3 [192.0.2.1]:2944\nTransaction = 1 { Context = - { ServiceChange = ROOT { Services { Method = Restart, Reason = 901 } } } }\n";

#[test]
fn text_to_ber_and_back_raw_and_hex() {
    let (rc, raw, err) = run(&["codec", "--to", "ber"], MSG.as_bytes());
    assert_eq!(rc, 0, "{err}");
    assert_eq!(raw[0], 0x30);
    assert!(raw.ends_with(b"\x04\x03901"), "{raw:02x?}");
    let (rc, hex, _) = run(&["codec", "--to", "ber", "--hex"], MSG.as_bytes());
    assert_eq!(rc, 0);
    let want: String = raw.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n";
    assert_eq!(String::from_utf8(hex.clone()).unwrap(), want);
    // Back to text, from raw octets and from hex (white space allowed).
    let (rc, txt, _) = run(&["codec", "--from", "ber", "--to", "compact"], &raw);
    assert_eq!(rc, 0);
    assert_eq!(
        String::from_utf8(txt).unwrap(),
        "!/3 [192.0.2.1]:2944\nT=1{C=-{SC=ROOT{SV{MT=RS,RE=901}}}}\n"
    );
    let spaced: String = want
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let (rc, again, _) = run(
        &["codec", "--from", "ber", "--hex", "--to", "ber"],
        spaced.as_bytes(),
    );
    assert_eq!(rc, 0);
    // `--hex` applies to both sides.
    assert_eq!(String::from_utf8(again).unwrap(), want);
}

#[test]
fn ber_errors_have_codes() {
    let (rc, _, err) = run(&["codec", "--from", "ber"], &[0x30, 0x05, 0x01]);
    assert_eq!(rc, 2);
    assert!(err.contains("error 400"), "{err}");
    let (rc, _, err) = run(&["codec", "--from", "ber", "--hex"], b"30 0");
    assert_eq!(rc, 2);
    assert!(err.contains("bad hex"), "{err}");
    // A termination ID BER cannot express: 500, naming it.
    let (rc, _, err) = run(
        &["codec", "--to", "ber"],
        b"!/3 [192.0.2.1]:2944\nT=4{C=1{A=tdm/7}}",
    );
    assert_eq!(rc, 2);
    assert!(
        err.contains("termination ID 'tdm/7'") && err.contains("error 500"),
        "{err}"
    );
}

#[test]
fn term_id_mapping_from_a_file() {
    let dir = std::env::temp_dir().join(format!("iq-interop-ber-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("tids.toml");
    std::fs::write(
        &p,
        "[[rule]]\ntext_prefix = \"tdm/\"\nid_prefix = [0x31]\nwidth = 3\n",
    )
    .unwrap();
    let msg = b"!/3 [192.0.2.1]:2944\nT=4{C=1{A=tdm/7}}";
    let (rc, hex, err) = run(
        &[
            "codec",
            "--to",
            "ber",
            "--hex",
            "--term-ids",
            p.to_str().unwrap(),
        ],
        msg,
    );
    assert_eq!(rc, 0, "{err}");
    assert!(
        String::from_utf8_lossy(&hex).contains("8104" /* id, 4 octets */),
        "{hex:?}"
    );
    let (rc, txt, _) = run(
        &[
            "codec",
            "--from",
            "ber",
            "--hex",
            "--to",
            "compact",
            "--term-ids",
            p.to_str().unwrap(),
        ],
        &hex,
    );
    assert_eq!(rc, 0);
    assert!(String::from_utf8(txt).unwrap().contains("A=tdm/7"));
    let _ = std::fs::remove_dir_all(&dir);
}
