//! Issue 10: the real `iq-agw` takes control only from its configured controller. The test
//! plays the controller with raw sockets: over UDP, an AuditValue from another source to the
//! AGW's Iq port is never answered (the AGW's socket is connected to the controller) while the
//! same request from the controller is; over TCP the AGW opens the connection itself and
//! listens on no Iq port, so a stranger cannot even connect to the port it uses.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

struct Agw {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    _dir: PathGuard,
}

struct PathGuard(std::path::PathBuf);
impl Drop for PathGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Agw {
    fn start(transport: &str, controller: SocketAddr) -> Agw {
        let dir = std::env::temp_dir().join(format!(
            "iq-agw-security-{}-{transport}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("agw.toml");
        std::fs::write(
            &cfg,
            format!(
                r#"
[iq]
transport = "{transport}"
controller = "{controller}"
controller_mid = "<alg1.example.net>"
encoding = "text"
mid = "<agw1.example.net>"

[reconnect]
initial_ms = 200
max_ms = 1000
"#
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_iq-agw"))
            .arg("--config")
            .arg(&cfg)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                println!("[agw] {l}");
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Agw {
            child,
            lines: rx,
            seen: Vec::new(),
            _dir: PathGuard(dir),
        }
    }

    fn wait_for(&mut self, pats: &[&str], t: Duration) -> String {
        let end = Instant::now() + t;
        loop {
            match self
                .lines
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if pats.iter().all(|p| l.contains(p)) {
                        return l;
                    }
                }
                Err(_) => panic!("no line with {pats:?}:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Lines so far, waiting `t` for more.
    fn drain(&mut self, t: Duration) {
        let end = Instant::now() + t;
        while let Ok(l) = self
            .lines
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            self.seen.push(l);
        }
    }
}

impl Drop for Agw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The transaction ID of the first `Transaction = N` in `text`.
fn tid(text: &str) -> u32 {
    let i = text
        .find("Transaction")
        .or_else(|| text.find("T="))
        .unwrap_or_else(|| panic!("no transaction in {text}"));
    text[i..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

fn sc_reply(t: u32) -> String {
    format!("MEGACO/3 <alg1.example.net>\nReply = {t} {{ Context = - {{ ServiceChange = ROOT {{ Services {{ Version = 3 }} }} }} }}")
}

const AUDIT: &str =
    "MEGACO/3 <alg1.example.net>\nTransaction = 500 { Context = - { AuditValue = ROOT { Audit { Packages } } } }";

#[test]
fn udp_requests_from_anyone_but_the_controller_are_never_answered() {
    let ctl = UdpSocket::bind("127.0.0.1:0").unwrap();
    ctl.set_read_timeout(Some(T)).unwrap();
    let mut agw = Agw::start("udp", ctl.local_addr().unwrap());
    let mut b = vec![0u8; 65536];
    let (n, agw_addr) = ctl.recv_from(&mut b).expect("the AGW's ServiceChange");
    let sc = String::from_utf8_lossy(&b[..n]).into_owned();
    ctl.send_to(sc_reply(tid(&sc)).as_bytes(), agw_addr)
        .unwrap();
    agw.wait_for(&["iq_agw: registered"], T);

    // Strangers: another port on the controller's address, and another address.
    for ip in ["127.0.0.1", "127.0.0.2"] {
        let s = UdpSocket::bind(format!("{ip}:0")).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(700)))
            .unwrap();
        s.send_to(AUDIT.as_bytes(), agw_addr).unwrap();
        assert!(
            s.recv(&mut b).is_err(),
            "the AGW answered a stranger at {ip}"
        );
    }
    agw.drain(Duration::from_millis(300));
    assert!(
        !agw.seen.iter().any(|l| l.contains("request answered")),
        "a stranger's request was executed"
    );
    // The controller's request is answered.
    ctl.send_to(AUDIT.as_bytes(), agw_addr).unwrap();
    loop {
        let n = ctl.recv(&mut b).expect("the AGW answers its controller");
        let r = String::from_utf8_lossy(&b[..n]).into_owned();
        if r.contains("500") {
            assert!(r.contains("Packages") || r.contains("PG"), "{r}");
            break;
        }
    }
    agw.wait_for(&["request answered", "AuditValue"], T);
}

#[test]
fn tcp_agw_listens_on_no_iq_port() {
    let ctl = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut agw = Agw::start("tcp", ctl.local_addr().unwrap());
    let (mut s, agw_addr) = ctl.accept().unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    let mut h = [0u8; 4];
    s.read_exact(&mut h).unwrap();
    let mut body = vec![0u8; u16::from_be_bytes([h[2], h[3]]) as usize - 4];
    s.read_exact(&mut body).unwrap();
    let sc = String::from_utf8_lossy(&body).into_owned();
    let r = sc_reply(tid(&sc));
    let mut framed = vec![3, 0];
    framed.extend(((r.len() + 4) as u16).to_be_bytes());
    framed.extend(r.as_bytes());
    s.write_all(&framed).unwrap();
    agw.wait_for(&["iq_agw: registered"], T);
    // The AGW's end of the association is not a listening socket: a stranger is refused.
    let e = TcpStream::connect_timeout(&agw_addr, Duration::from_secs(2));
    assert!(
        e.is_err(),
        "something accepted a connection on the AGW's Iq port"
    );
}
