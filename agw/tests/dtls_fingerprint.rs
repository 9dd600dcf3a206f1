//! `a=fingerprint` text (RFC 8122) and the process certificate, with the `openssl` CLI as the
//! oracle for digests and certificate contents.

use std::path::{Path, PathBuf};
use std::process::Command;

use iq_agw::media::api::{Fingerprint, HashFunction};
use iq_agw::media::cert::{CertError, Certificate};

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("openssl CLI missing (CI is set)");
        }
        eprintln!("!!! SKIPPING: openssl CLI missing !!!");
    }
    ok
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iq-agw-fp-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn openssl(args: &[&str]) -> String {
    let o = Command::new("openssl").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `openssl x509 -fingerprint -<hash>` as SDP text.
fn openssl_fp(cert: &Path, inform: &str, hash: &str) -> String {
    let t = openssl(&[
        "x509",
        "-inform",
        inform,
        "-in",
        p(cert),
        "-noout",
        "-fingerprint",
        &format!("-{hash}"),
    ]);
    let hex = t.trim().split_once('=').unwrap().1.to_owned();
    format!("{} {hex}", hash.replace("sha", "sha-"))
}

const HASHES: [(&str, HashFunction); 5] = [
    ("sha1", HashFunction::Sha1),
    ("sha224", HashFunction::Sha224),
    ("sha256", HashFunction::Sha256),
    ("sha384", HashFunction::Sha384),
    ("sha512", HashFunction::Sha512),
];

#[test]
fn format_and_parse_agree_with_openssl_for_each_hash() {
    if !have_openssl() {
        return;
    }
    let dir = tmpdir("each");
    let (cert, key) = (dir.join("c.pem"), dir.join("k.pem"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        p(&key),
        "-out",
        p(&cert),
        "-days",
        "1",
        "-subj",
        "/CN=fp",
    ]);
    let loaded = Certificate::load(&cert, &key).unwrap();
    for (name, hash) in HASHES {
        let text = openssl_fp(&cert, "PEM", name);
        let ours = Fingerprint::of_der(hash, loaded.der());
        assert_eq!(ours.to_string(), text, "Display for {name}");
        assert_eq!(ours.digest.len(), hash.digest_len());
        let parsed = Fingerprint::parse_sdp(&text).unwrap();
        assert_eq!(parsed, ours);
        assert!(parsed.matches_der(loaded.der()));
        // Case-insensitive hex and hash name.
        assert_eq!(
            Fingerprint::parse_sdp(&text.to_lowercase()),
            Some(ours.clone())
        );
        assert_eq!(
            Fingerprint::parse_sdp(&text.to_uppercase()),
            Some(ours.clone())
        );
        // As the whole attribute line.
        assert_eq!(
            Fingerprint::parse_sdp(&format!("a=fingerprint:{text}\r\n")),
            Some(ours.clone())
        );
        // One digit changed: still parses, no longer matches.
        let mut other = parsed.clone();
        other.digest[3] ^= 0x40;
        assert!(!other.matches_der(loaded.der()));
    }
    assert_eq!(loaded.fingerprint().hash, HashFunction::Sha256);
    assert_eq!(
        loaded.fingerprint().to_string(),
        openssl_fp(&cert, "PEM", "sha256")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generated_certificate_is_p256_ecdsa_and_fingerprint_is_sha256_of_der() {
    if !have_openssl() {
        return;
    }
    let dir = tmpdir("gen");
    let c = Certificate::generate().unwrap();
    let der = dir.join("c.der");
    std::fs::write(&der, c.der()).unwrap();
    let text = openssl(&["x509", "-inform", "DER", "-in", p(&der), "-noout", "-text"]);
    assert!(text.contains("id-ecPublicKey"), "{text}");
    assert!(
        text.contains("prime256v1") || text.contains("P-256"),
        "{text}"
    );
    assert!(text.contains("ecdsa-with-SHA256"), "{text}");
    assert_eq!(
        c.fingerprint().to_string(),
        openssl_fp(&der, "DER", "sha256")
    );
    // Two generations differ (fresh keys).
    let d = Certificate::generate().unwrap();
    assert_ne!(c.fingerprint(), d.fingerprint());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn load_accepts_sec1_keys_and_rejects_bad_input() {
    if !have_openssl() {
        return;
    }
    let dir = tmpdir("load");
    let (cert, key) = (dir.join("c.pem"), dir.join("k.pem"));
    openssl(&[
        "ecparam",
        "-genkey",
        "-name",
        "prime256v1",
        "-noout",
        "-out",
        p(&key),
    ]);
    openssl(&[
        "req",
        "-new",
        "-x509",
        "-key",
        p(&key),
        "-out",
        p(&cert),
        "-days",
        "1",
        "-subj",
        "/CN=sec1",
    ]);
    let c = Certificate::load(&cert, &key).expect("SEC1 EC PRIVATE KEY");
    assert_eq!(
        c.fingerprint().to_string(),
        openssl_fp(&cert, "PEM", "sha256")
    );

    assert!(matches!(
        Certificate::load(dir.join("missing.pem"), &key),
        Err(CertError::Io { .. })
    ));
    // Key file given as certificate: no CERTIFICATE block.
    assert!(matches!(
        Certificate::load(&key, &key),
        Err(CertError::Pem { .. })
    ));
    // An RSA key is not P-256.
    let rsa = dir.join("rsa.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        p(&rsa),
    ]);
    assert!(matches!(
        Certificate::load(&cert, &rsa),
        Err(CertError::Key(_))
    ));
    // A P-256 key of another pair does not belong to the certificate.
    let other = dir.join("other.pem");
    openssl(&[
        "ecparam",
        "-genkey",
        "-name",
        "prime256v1",
        "-noout",
        "-out",
        p(&other),
    ]);
    assert!(matches!(
        Certificate::load(&cert, &other),
        Err(CertError::Key(_))
    ));
    // A P-384 key is not P-256 either.
    let p384 = dir.join("p384.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-out",
        p(&p384),
    ]);
    assert!(matches!(
        Certificate::load(&cert, &p384),
        Err(CertError::Key(_))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_fingerprint_text_is_rejected() {
    let good32 = (0..32)
        .map(|i| format!("{:02X}", i * 7 % 256))
        .collect::<Vec<_>>()
        .join(":");
    assert!(Fingerprint::parse_sdp(&format!("sha-256 {good32}")).is_some());
    let bad = [
        String::new(),
        "sha-256".into(),
        "sha-256 ".into(),
        format!("sha256 {good32}"),           // not the RFC 8122 name
        format!("md5 {}", &good32[..47]),     // unsupported hash
        format!("sha-1 {good32}"),            // wrong length for sha-1
        format!("sha-384 {good32}"),          // wrong length for sha-384
        format!("sha-256 {}", &good32[..94]), // one octet short
        format!("sha-256 {good32}:00"),       // one octet long
        format!("sha-256 {good32}:"),         // trailing colon
        format!("sha-256 {}", good32.replacen(':', "::", 1)),
        format!("sha-256 {}", good32.replacen("00", "0G", 1)), // not hex
        format!("sha-256 {}", good32.replace(':', "")),        // no separators
        format!("sha-256 {}", good32.replace(':', " ")),       // wrong separator
        format!("sha-256 {}", good32.replacen("00:", "0:", 1)), // single digit
        format!("sha-256 {}", good32.replacen("00:", "000:", 1)), // three digits
        format!("sha-256 +{}", &good32[1..]),
        format!("sha-256 {}", good32.replacen("00", "\u{e9}0", 1)), // non-ASCII
    ];
    for b in &bad {
        assert_eq!(Fingerprint::parse_sdp(b), None, "{b:?}");
    }
}

#[test]
fn display_is_uppercase_colon_separated() {
    let f = Fingerprint {
        hash: HashFunction::Sha1,
        digest: (0xf0..=0xff).chain(0..4).collect(),
    };
    assert_eq!(
        f.to_string(),
        "sha-1 F0:F1:F2:F3:F4:F5:F6:F7:F8:F9:FA:FB:FC:FD:FE:FF:00:01:02:03"
    );
    assert_eq!(Fingerprint::parse_sdp(&f.to_string()), Some(f));
    assert_eq!(
        HashFunction::from_name("SHA-512"),
        Some(HashFunction::Sha512)
    );
    assert_eq!(HashFunction::from_name("md5"), None);
}
