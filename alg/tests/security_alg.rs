//! Hostile input against the real `iq-alg` (issue 10): the Iq allow-list (only the `[[agw]]`
//! addresses reach H.248 at all), the ng allow-list, garbage and oversized messages on the Iq
//! port (TCP and UDP) and on the ng port, and memory under a burst of oversized input. The
//! test plays the AGW and the ng client with raw sockets; loopback gives it a second source
//! address (127.0.0.2) for the stranger.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

fn alg_cfg(transport: &str, extra_iq: &str, ng: &str) -> String {
    format!(
        r#"
[iq]
transport = "{transport}"
listen = "127.0.0.1:0"
encoding = "text"
mid = "<alg1.example.net>"
keepalive_secs = 30
{extra_iq}

[ng]
listen = "127.0.0.1:0"
{ng}

[[agw]]
mid = "<agw1.example.net>"
address = "127.0.0.1"
"#
    )
}

fn after<A: std::str::FromStr>(line: &str, pat: &str) -> A {
    line.rsplit(pat)
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no address after {pat:?} in {line:?}"))
}

/// Start the ALG; its Iq and ng addresses.
fn start(cfg: &str) -> (Proc, SocketAddr, SocketAddr) {
    let mut alg = Proc::spawn("alg", &alg_bin(), cfg, &[]);
    let iq: SocketAddr = after(&alg.wait_for(&["listening on"], T), "listening on ");
    let ng: SocketAddr = after(&alg.wait_for(&["ng control on"], T), "ng control on ");
    (alg, iq, ng)
}

/// The AGW's registration (text, as iq-agw sends it).
fn service_change(mid: &str, tid: u32) -> String {
    format!(
        "MEGACO/3 {mid}\nTransaction = {tid} {{ Context = - {{ ServiceChange = ROOT {{ Services {{ \
         Method = Restart, Reason = \"901\", Version = 3, Profile = threegiq/1 }} }} }} }}"
    )
}

fn tpkt(msg: &[u8]) -> Vec<u8> {
    let mut v = vec![3, 0];
    v.extend_from_slice(&((msg.len() + 4) as u16).to_be_bytes());
    v.extend_from_slice(msg);
    v
}

/// Read one TPKT message (None on close/timeout).
fn read_tpkt(s: &mut TcpStream) -> Option<String> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).ok()?;
    let len = u16::from_be_bytes([h[2], h[3]]) as usize - 4;
    let mut b = vec![0u8; len];
    s.read_exact(&mut b).ok()?;
    Some(String::from_utf8_lossy(&b).into_owned())
}

/// Whether the peer closed `s` (EOF or reset) within `t`, having sent nothing.
fn closed_silently(s: &mut TcpStream, t: Duration) -> bool {
    s.set_read_timeout(Some(t)).unwrap();
    let mut b = [0u8; 64];
    match s.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
        ),
    }
}

/// The good AGW registers over TCP from 127.0.0.1 and gets a ServiceChange reply.
fn register_tcp(iq: SocketAddr, tid: u32) -> TcpStream {
    let mut s = TcpStream::connect(iq).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    s.write_all(&tpkt(service_change("<agw1.example.net>", tid).as_bytes()))
        .unwrap();
    let r = read_tpkt(&mut s).expect("a reply to the registration");
    assert!(
        r.contains(&format!("{tid}")) && !r.to_ascii_lowercase().contains("error"),
        "registration not accepted: {r}"
    );
    s
}

fn udp_from(ip: &str) -> UdpSocket {
    let s = UdpSocket::bind(format!("{ip}:0")).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(800)))
        .unwrap();
    s
}

fn recv_text(s: &UdpSocket) -> Option<String> {
    let mut b = vec![0u8; 65_536];
    s.recv(&mut b)
        .ok()
        .map(|n| String::from_utf8_lossy(&b[..n]).into_owned())
}

/// Resident set size of a process (kB).
fn vm_rss(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

#[test]
fn iq_tcp_stranger_is_closed_unread_and_configured_agw_still_registers() {
    let (mut alg, iq, _) = start(&alg_cfg("tcp", "", ""));
    // From 127.0.0.2 (not an [[agw]] address): a perfectly valid registration with the
    // configured mId gets no answer, the connection is closed.
    let mut s = connect_from("127.0.0.2", iq);
    let _ = s.write_all(&tpkt(service_change("<agw1.example.net>", 7).as_bytes()));
    assert!(
        closed_silently(&mut s, T),
        "the stranger's connection was not closed silently"
    );
    alg.wait_for(&["not in the allow-list", "127.0.0.2", "TCP"], T);
    // Ten more from the stranger: still closed, and logged no more (one line a minute).
    for _ in 0..10 {
        let mut s = connect_from("127.0.0.2", iq);
        let _ = s.write_all(&tpkt(service_change("<agw1.example.net>", 8).as_bytes()));
        assert!(closed_silently(&mut s, T));
    }
    // The configured AGW registers.
    let _agw = register_tcp(iq, 9);
    alg.wait_for(&["registration accepted", "<agw1.example.net>"], T);
    let dropped_lines = alg
        .seen
        .iter()
        .filter(|l| l.contains("not in the allow-list"))
        .count();
    assert_eq!(dropped_lines, 1, "the drop log is not rate-limited");
    assert!(
        !alg.seen.iter().any(|l| l.contains("registration refused")),
        "the stranger reached the association layer"
    );
}

/// A TCP connection from `ip` (std cannot bind before connecting; tokio's `TcpSocket` can).
fn connect_from(ip: &str, to: SocketAddr) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind(format!("{ip}:0").parse().unwrap()).unwrap();
        sock.connect(to).await.unwrap()
    });
    let s = s.into_std().unwrap();
    s.set_nonblocking(false).unwrap();
    s
}

#[test]
fn iq_udp_stranger_is_dropped_unanswered_configured_address_gets_504_for_a_wrong_mid() {
    let (mut alg, iq, _) = start(&alg_cfg("udp", "", ""));
    let stranger = udp_from("127.0.0.2");
    stranger
        .send_to(service_change("<agw1.example.net>", 11).as_bytes(), iq)
        .unwrap();
    assert_eq!(recv_text(&stranger), None, "a stranger got an answer");
    alg.wait_for(&["not in the allow-list", "127.0.0.2", "UDP"], T);
    // The configured address with an unknown mId reaches the association: error 504.
    let wrong_mid = udp_from("127.0.0.1");
    wrong_mid
        .send_to(service_change("<rogue.example.net>", 12).as_bytes(), iq)
        .unwrap();
    let r = recv_text(&wrong_mid).expect("an answer to the configured address");
    assert!(r.contains("504"), "{r}");
    // And the right one registers.
    let good = udp_from("127.0.0.1");
    good.send_to(service_change("<agw1.example.net>", 13).as_bytes(), iq)
        .unwrap();
    let r = recv_text(&good).expect("registration reply");
    assert!(r.contains("13") && !r.contains("Error"), "{r}");
    alg.wait_for(&["registration accepted"], T);
}

#[test]
fn iq_garbage_and_oversized_messages_are_refused_and_the_alg_keeps_serving() {
    // A small limit, so that "oversized" is cheap to send.
    let (mut alg, iq, _) = start(&alg_cfg("tcp", "max_message = 2000", ""));
    let pid = alg.child.id();
    // TCP garbage that is not TPKT: the connection is closed.
    let mut s = TcpStream::connect(iq).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert!(closed_silently(&mut s, T));
    // A TPKT announcing more than max_message: closed before the body is read.
    let mut s = TcpStream::connect(iq).unwrap();
    s.write_all(&[3, 0, 0xff, 0xff]).unwrap();
    assert!(closed_silently(&mut s, T));
    alg.wait_for(&["closing TCP connection", "exceeds the limit of 2000"], T);
    // Undecodable H.248 in good TPKT from the configured address: not registered, no crash.
    let mut s = TcpStream::connect(iq).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(&tpkt(
        b"MEGACO/3 <agw1.example.net>\nTransaction = 1 { Context = - { Bogus } }",
    ))
    .unwrap();
    let answer = read_tpkt(&mut s);
    // Either an H.248 error (4xx) or nothing; never a registration.
    if let Some(a) = &answer {
        assert!(a.contains("Error") || a.contains("ER"), "{a}");
    }
    drop(s);
    let before = vm_rss(pid);
    // A burst: 300 connections each announcing 65535 octets and sending 60000 of them.
    let body = vec![b'x'; 60_000];
    for _ in 0..300 {
        let Ok(mut s) = TcpStream::connect(iq) else {
            continue;
        };
        let _ = s.write_all(&[3, 0, 0xff, 0xff]);
        let _ = s.write_all(&body);
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = vm_rss(pid);
    println!("iq-alg VmRSS before the burst {before} kB, after {after} kB");
    assert!(
        after < before + 20_000,
        "RSS grew by {} kB under oversized input",
        after - before
    );
    // Still serving: the AGW registers.
    let _agw = register_tcp(iq, 42);
    alg.wait_for(&["registration accepted"], T);
}

#[test]
fn iq_udp_oversized_datagrams_are_dropped_and_the_alg_keeps_serving() {
    let (mut alg, iq, _) = start(&alg_cfg("udp", "max_message = 2000", ""));
    let pid = alg.child.id();
    let s = udp_from("127.0.0.1");
    let mut big = service_change("<agw1.example.net>", 21).into_bytes();
    big.extend(std::iter::repeat_n(b' ', 3000));
    s.send_to(&big, iq).unwrap();
    assert_eq!(recv_text(&s), None, "an oversized message was answered");
    alg.wait_for(&["too large", "2000"], T);
    let before = vm_rss(pid);
    let junk = vec![0x30u8; 60_000];
    let t0 = Instant::now();
    for _ in 0..3000 {
        let _ = s.send_to(&junk, iq);
    }
    println!("3000 x 60000 octets in {:?}", t0.elapsed());
    std::thread::sleep(Duration::from_millis(500));
    let after = vm_rss(pid);
    println!("iq-alg VmRSS before the burst {before} kB, after {after} kB");
    assert!(after < before + 20_000, "RSS grew by {} kB", after - before);
    let good = udp_from("127.0.0.1");
    good.send_to(service_change("<agw1.example.net>", 22).as_bytes(), iq)
        .unwrap();
    let r = recv_text(&good).expect("registration reply");
    assert!(r.contains("22") && !r.contains("Error"), "{r}");
    alg.wait_for(&["registration accepted"], T);
}

/// One ng request from `s` to `ng`; the reply (None: no reply within the socket's timeout).
fn ng_call(s: &UdpSocket, ng: SocketAddr, msg: &[u8]) -> Option<String> {
    s.send_to(msg, ng).unwrap();
    recv_text(s)
}

#[test]
fn ng_allow_list_drops_other_clients_and_limits_hold() {
    let (mut alg, _, ng) = start(&alg_cfg(
        "tcp",
        "",
        "allow = [\"127.0.0.1/32\"]\nmax_message = 4096",
    ));
    let pid = alg.child.id();
    let good = udp_from("127.0.0.1");
    assert_eq!(
        ng_call(&good, ng, b"c1 d7:command4:pinge").as_deref(),
        Some("c1 d6:result4:ponge")
    );
    // 127.0.0.2 is loopback but not in this allow-list: no answer at all.
    let stranger = udp_from("127.0.0.2");
    assert_eq!(ng_call(&stranger, ng, b"c2 d7:command4:pinge"), None);
    alg.wait_for(&["not in [ng] allow", "127.0.0.2"], T);
    // Garbage from the client: an error when a cookie is readable, nothing otherwise.
    let r = ng_call(&good, ng, b"c3 d7:command").expect("an error reply");
    assert!(r.starts_with("c3 ") && r.contains("error"), "{r}");
    assert_eq!(
        ng_call(&good, ng, b"\x00\x01\x02garbage-without-space"),
        None
    );
    let r = ng_call(&good, ng, b"c4 d7:command5:jumpe").expect("reply");
    assert!(r.contains("error"), "{r}");
    // Oversized: answered with an error, not parsed.
    let mut big = b"c5 d7:command4:ping3:pad".to_vec();
    big.extend_from_slice(b"9000:");
    big.extend(std::iter::repeat_n(b'a', 9000));
    big.push(b'e');
    let r = ng_call(&good, ng, &big).expect("an error for the oversized request");
    assert!(r.starts_with("c5 ") && r.contains("too large"), "{r}");
    // Memory under a burst of oversized and garbage datagrams.
    let before = vm_rss(pid);
    let junk = vec![b'z'; 60_000];
    for i in 0..3000 {
        let _ = good.send_to(if i % 2 == 0 { &junk[..] } else { &junk[..100] }, ng);
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = vm_rss(pid);
    println!("iq-alg VmRSS before the ng burst {before} kB, after {after} kB");
    assert!(after < before + 20_000, "RSS grew by {} kB", after - before);
    // Still serving.
    let fresh = udp_from("127.0.0.1");
    fresh
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(
        ng_call(&fresh, ng, b"c6 d7:command4:pinge").as_deref(),
        Some("c6 d6:result4:ponge")
    );
}

#[test]
fn ng_default_allow_list_is_loopback() {
    // No `allow`: loopback only; 127.0.0.2 is loopback, so it is served.
    let (mut alg, _, ng) = start(&alg_cfg("tcp", "", ""));
    alg.wait_for(&["ng clients allowed", "127.0.0.0/8", "::1/128"], T);
    let other = udp_from("127.0.0.2");
    assert_eq!(
        ng_call(&other, ng, b"d1 d7:command4:pinge").as_deref(),
        Some("d1 d6:result4:ponge")
    );
}
