//! Our SCTP endpoint against an independent SCTP stack on a real wire: the kernel-SCTP side of
//! `tools/sctp-vm/wire-check.sh`, which runs it inside the VM with the usrsctp peer
//! (`tools/sctp-vm/usctp/h248peer.c`) on the host end of a tap link and checks the capture with
//! tshark. Not a cargo test (it needs that peer): an example program the wire check runs, with
//! IQ_WIRE_LOCAL (our address) and IQ_WIRE_PEER (the peer's address:port). Exits non-zero (a
//! panic) on any failed check.

use std::net::SocketAddr;
use std::time::Duration;

use iq_link::transport::{
    Received, SctpConnection, SctpListener, StreamKey, Transport, TransportConfig, TransportError,
    TransportKind, H248_SCTP_PPID,
};

fn env_addr(name: &str) -> SocketAddr {
    let v = std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    v.parse().unwrap_or_else(|e| panic!("{name}={v}: {e}"))
}

/// `Transaction = N { Context = C { Cmd = Term` -> (N, C, Cmd, Term)
fn request_parts(msg: &str) -> Option<(u32, String, String, String)> {
    let rest = msg.split_once("Transaction = ")?.1;
    let (tid, rest) = rest.split_once(" { Context = ")?;
    let (ctx, rest) = rest.split_once(" { ")?;
    let (cmd, rest) = rest.split_once(" = ")?;
    let term: String = rest
        .chars()
        .take_while(|c| !matches!(c, ' ' | '{' | '}'))
        .collect();
    Some((tid.parse().ok()?, ctx.into(), cmd.into(), term))
}

fn check_h248(r: &Received) {
    assert_eq!(r.ppid, Some(H248_SCTP_PPID), "PPID 7 in host byte order");
    assert!(
        r.data.starts_with(b"MEGACO/"),
        "{:?}",
        String::from_utf8_lossy(&r.data)
    );
}

fn say(s: &str) {
    println!("iq-wire: {s}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let local = env_addr("IQ_WIRE_LOCAL");
    let peer = env_addr("IQ_WIRE_PEER");
    let cfg = TransportConfig::new(TransportKind::Sctp);
    // bound first, so the peer's MG role finds it whenever it comes
    let listener = SctpListener::bind(&[local], &cfg).unwrap();
    let me = local.ip();

    // 1. we are the MG: open the association to the peer's MGC
    let mg = {
        let mut tries = 0;
        loop {
            match SctpConnection::connect(peer, Some(SocketAddr::new(me, 0)), &cfg).await {
                Ok(c) => break c,
                Err(e) if tries < 20 => {
                    tries += 1;
                    say(&format!("connect to {peer}: {e}; retrying"));
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("connect to {peer}: {e}"),
            }
        }
    };
    say(&format!(
        "MG: associated {} -> {}, {} outbound streams",
        mg.local_addr(),
        mg.peer_addr(),
        mg.ostreams()
    ));
    let sdp_pad: String = (0..300)
        .map(|i| format!("a=x-iq-padding:{i:04}\n"))
        .collect();
    let requests: Vec<(StreamKey, String)> = vec![
        (StreamKey::CONTROL, format!("MEGACO/3 [{me}]:2944\nTransaction = 1 {{ Context = - {{ ServiceChange = ROOT {{ Services {{ Method = Restart, ServiceChangeAddress = 2944, Profile = ETSI_BGF/2 }} }} }} }}")),
        (StreamKey::context(5), format!("MEGACO/3 [{me}]:2944\nTransaction = 2 {{ Context = 5 {{ Notify = ip/5 {{ ObservedEvents = 3 {{ g/sc {{ method = TO }} }} }} }} }}")),
        (StreamKey::context(7), format!("MEGACO/3 [{me}]:2944\nTransaction = 3 {{ Context = 7 {{ Modify = ip/7 {{ Media {{ Stream = 1 {{ Local {{\nv=0\no=- 7 7 IN IP4 {me}\ns=-\nc=IN IP4 {me}\nt=0 0\nm=audio 40000 RTP/AVP 0\n{sdp_pad}}} }} }} }} }} }}")),
    ];
    for (key, msg) in &requests {
        mg.send(msg.as_bytes(), *key).await.unwrap();
        let r = tokio::time::timeout(Duration::from_secs(20), mg.recv())
            .await
            .unwrap()
            .unwrap();
        check_h248(&r);
        let (tid, ..) = request_parts(msg).unwrap();
        let text = String::from_utf8_lossy(&r.data);
        assert!(text.contains(&format!("Reply = {tid} ")), "{text}");
        assert_eq!(
            r.stream,
            Some(key.stream(mg.ostreams())),
            "reply on the request's stream"
        );
        say(&format!(
            "MG: request {tid} ({} octets, stream {}) answered: {} octets, stream {}, ppid {}",
            msg.len(),
            key.stream(mg.ostreams()),
            r.data.len(),
            r.stream.unwrap(),
            r.ppid.unwrap()
        ));
    }
    drop(mg); // SHUTDOWN: the peer's MGC role ends and it turns MG

    // 2. we are the MGC: the peer's MG opens an association to us
    let mgc = tokio::time::timeout(Duration::from_secs(60), listener.accept())
        .await
        .unwrap()
        .unwrap();
    say(&format!(
        "MGC: accepted {} on {}",
        mgc.peer_addr(),
        mgc.local_addr()
    ));
    let mut answered = 0;
    loop {
        let r = match tokio::time::timeout(Duration::from_secs(30), mgc.recv())
            .await
            .unwrap()
        {
            Ok(r) => r,
            Err(TransportError::Closed) => break,
            Err(e) => panic!("MGC receive: {e}"),
        };
        check_h248(&r);
        let text = String::from_utf8_lossy(&r.data);
        let (tid, ctx, cmd, term) =
            request_parts(&text).unwrap_or_else(|| panic!("not a request: {text}"));
        let reply = format!(
            "MEGACO/3 [{me}]:2944\nReply = {tid} {{ Context = {ctx} {{ {cmd} = {term} }} }}"
        );
        let stream = r.stream.unwrap();
        mgc.send(reply.as_bytes(), StreamKey(stream.into()))
            .await
            .unwrap();
        say(&format!(
            "MGC: request {tid} ({} octets, stream {stream}, ppid {}) answered",
            r.data.len(),
            r.ppid.unwrap()
        ));
        answered += 1;
    }
    assert_eq!(answered, 3, "the peer's MG sends three requests");
    say("PASS");
}
