//! RFC 5769 test vectors (typed from the RFC) against our STUN verifier and responder, and
//! the rejections an ICE-lite responder must make.

use std::net::SocketAddr;

use iq_agw::media::api::IceCredentials;
use iq_agw::media::stun::{answer_binding, verify_message, StunError, BINDING_SUCCESS};

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

const PASSWORD: &str = "VOkJxbRl1RmTxUk/WvJxBt";

/// RFC 5769 2.1 Sample Request (SOFTWARE "STUN test client", PRIORITY, ICE-CONTROLLED,
/// USERNAME "evtj:h6vY", MESSAGE-INTEGRITY, FINGERPRINT).
fn sample_request() -> Vec<u8> {
    hex(
        "00 01 00 58  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
         80 22 00 10  53 54 55 4e  20 74 65 73  74 20 63 6c  69 65 6e 74
         00 24 00 04  6e 00 01 ff
         80 29 00 08  93 2f f9 b1  51 26 3b 36
         00 06 00 09  65 76 74 6a  3a 68 36 76  59 20 20 20
         00 08 00 14  9a ea a7 0c  bf d8 cb 56  78 1e f2 b5  b2 d3 f2 49  c1 b5 71 a2
         80 28 00 04  e5 7a 3b cf",
    )
}

/// RFC 5769 2.2 Sample IPv4 Response (XOR-MAPPED-ADDRESS 192.0.2.1:32853).
fn sample_ipv4_response() -> Vec<u8> {
    hex(
        "01 01 00 3c  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
         80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
         00 20 00 08  00 01 a1 47  e1 12 a6 43
         00 08 00 14  2b 91 f5 99  fd 9e 90 c3  8c 74 89 f9  2a f9 ba 53  f0 6b e7 d7
         80 28 00 04  c0 7d 4c 96",
    )
}

/// RFC 5769 2.3 Sample IPv6 Response (XOR-MAPPED-ADDRESS
/// [2001:db8:1234:5678:11:2233:4455:6677]:32853).
fn sample_ipv6_response() -> Vec<u8> {
    hex(
        "01 01 00 48  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
         80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
         00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9
         00 08 00 14  a3 82 95 4e  4b e6 7b f1  17 84 c9 7c  82 92 c2 75  bf e3 ed 41
         80 28 00 04  c8 fb 0b 4c",
    )
}

fn creds(ufrag: &str, pwd: &str) -> IceCredentials {
    IceCredentials {
        ufrag: ufrag.into(),
        pwd: pwd.into(),
    }
}

#[test]
fn rfc5769_sample_request_is_answered() {
    let req = sample_request();
    let from: SocketAddr = "192.0.2.1:32853".parse().unwrap();
    let mut out = Vec::new();
    let check = answer_binding(
        &req,
        from,
        &creds("evtj", PASSWORD),
        Some(&creds("h6vY", "x")),
        &mut out,
    )
    .expect("the RFC's sample request verifies");
    assert_eq!(check.remote_ufrag, "h6vY");
    assert!(!check.use_candidate);
    // Our response: same transaction ID, verifies with the password, maps the source.
    let view = verify_message(&out, PASSWORD.as_bytes()).expect("our response verifies");
    assert_eq!(view.message_type, BINDING_SUCCESS);
    assert_eq!(&view.transaction_id[..], &req[8..20]);
    assert_eq!(view.xor_mapped_address, Some(from));
    // The mapped address bytes are those of the RFC's own IPv4 response for the same
    // transaction and address (2.2), attribute for attribute.
    let rfc = sample_ipv4_response();
    let ours_xma = &out[20..32];
    assert_eq!(ours_xma, &rfc[36..48]);
    // The IPv6 case likewise matches 2.3's XOR-MAPPED-ADDRESS octets.
    let from6: SocketAddr = "[2001:db8:1234:5678:11:2233:4455:6677]:32853"
        .parse()
        .unwrap();
    answer_binding(&req, from6, &creds("evtj", PASSWORD), None, &mut out).unwrap();
    assert_eq!(&out[20..44], &sample_ipv6_response()[36..60]);
    assert_eq!(
        verify_message(&out, PASSWORD.as_bytes())
            .unwrap()
            .xor_mapped_address,
        Some(from6)
    );
}

#[test]
fn rfc5769_sample_responses_verify() {
    let v4 = sample_ipv4_response();
    let view = verify_message(&v4, PASSWORD.as_bytes()).expect("2.2 verifies");
    assert_eq!(view.message_type, BINDING_SUCCESS);
    assert_eq!(
        view.xor_mapped_address,
        Some("192.0.2.1:32853".parse().unwrap())
    );
    let v6 = sample_ipv6_response();
    let view = verify_message(&v6, PASSWORD.as_bytes()).expect("2.3 verifies");
    assert_eq!(
        view.xor_mapped_address,
        Some(
            "[2001:db8:1234:5678:11:2233:4455:6677]:32853"
                .parse()
                .unwrap()
        )
    );
    assert_eq!(
        verify_message(&v4, b"wrong password").unwrap_err(),
        StunError::BadIntegrity
    );
}

#[test]
fn rejections() {
    let req = sample_request();
    let from: SocketAddr = "192.0.2.1:32853".parse().unwrap();
    let mut out = vec![1, 2, 3];
    let local = creds("evtj", PASSWORD);

    // Wrong password.
    assert_eq!(
        answer_binding(
            &req,
            from,
            &creds("evtj", "VOkJxbRl1RmTxUk/WvJxBu"),
            None,
            &mut out
        ),
        Err(StunError::BadIntegrity)
    );
    assert!(out.is_empty(), "nothing written on error");
    // Our ufrag is not the first half of USERNAME.
    assert_eq!(
        answer_binding(&req, from, &creds("h6vY", PASSWORD), None, &mut out),
        Err(StunError::WrongUsername)
    );
    // The peer's ufrag is known and differs.
    assert_eq!(
        answer_binding(&req, from, &local, Some(&creds("other", "x")), &mut out),
        Err(StunError::WrongUsername)
    );
    // A flipped bit in the signed part: fingerprint fails first.
    let mut bad = req.clone();
    bad[45] ^= 1;
    assert_eq!(
        answer_binding(&bad, from, &local, None, &mut out),
        Err(StunError::BadFingerprint)
    );
    // Without FINGERPRINT (length field adjusted): refused.
    let mut nofp = req[..100].to_vec();
    nofp[3] = (100 - 20) as u8;
    assert_eq!(
        answer_binding(&nofp, from, &local, None, &mut out),
        Err(StunError::BadFingerprint)
    );
    // A response is not a request.
    assert_eq!(
        answer_binding(&sample_ipv4_response(), from, &local, None, &mut out),
        Err(StunError::NotBindingRequest)
    );
    // Length field inconsistent with the datagram.
    let mut long = req.clone();
    long.extend_from_slice(&[0, 0, 0, 0]);
    assert!(matches!(
        answer_binding(&long, from, &local, None, &mut out),
        Err(StunError::Malformed(_))
    ));
    // Wrong magic cookie.
    let mut cookie = req.clone();
    cookie[4] = 0;
    assert!(matches!(
        answer_binding(&cookie, from, &local, None, &mut out),
        Err(StunError::Malformed(_))
    ));
    // Every truncation and every single-octet corruption is refused without panicking.
    for n in 0..req.len() {
        assert!(
            answer_binding(&req[..n], from, &local, None, &mut out).is_err(),
            "prefix {n}"
        );
    }
    for i in 0..req.len() {
        for bit in 0..8 {
            let mut m = req.clone();
            m[i] ^= 1 << bit;
            // FINGERPRINT covers every octet before it (USERNAME padding included) and
            // its own value must match, so no single flip may pass.
            let r = answer_binding(&m, from, &local, None, &mut out);
            assert!(r.is_err(), "octet {i} bit {bit} accepted");
        }
    }
}
