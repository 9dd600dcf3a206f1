//! SCTP (H.248.4) over kernel SCTP: real one-to-one associations on loopback.
//!
//! Kernel SCTP is missing on many build hosts (and CI), so this test target is built only with
//! the `vm-tests` feature: `tools/sctp-vm/test.sh` builds it and runs it in a VM with sctp.ko
//! loaded and REQUIRE_KERNEL_SCTP=1 (a missing kernel SCTP is then a failure). Run by hand on a
//! host without SCTP, the tests print a loud SKIPPED. The start-up error test is
//! `sctp_startup.rs`, which runs everywhere.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use iq_link::transport::{
    sctp, Encoding, Received, SctpConnection, SctpListener, StreamKey, Transport, TransportConfig,
    TransportError, TransportKind, H248_SCTP_PPID,
};

const SC: &[u8] = b"MEGACO/3 [127.0.0.1]:2944\nTransaction = 1 { Context = - { ServiceChange = ROOT { Services { Method = Restart, ServiceChangeAddress = 2944, Profile = ETSI_BGF/2 } } } }";
const REPLY: &[u8] = b"MEGACO/3 [127.0.0.1]:2944\nReply = 1 { Context = - { ServiceChange = ROOT { Services { ServiceChangeAddress = 2944 } } } }";

fn required() -> bool {
    std::env::var("REQUIRE_KERNEL_SCTP").is_ok_and(|v| v == "1")
}

/// True when kernel SCTP is there. Otherwise fails under REQUIRE_KERNEL_SCTP=1, or prints a
/// SKIPPED line that the test harness does not capture.
fn kernel_sctp(test: &str) -> bool {
    match sctp::probe() {
        Ok(()) => true,
        Err(e) if required() => panic!("REQUIRE_KERNEL_SCTP=1 but kernel SCTP is unavailable: {e}"),
        Err(_) => {
            // one write straight to fd 2: the test harness captures eprintln!, not this
            let line = format!(
                "\n*** SKIPPED {test}: this kernel has no SCTP; run tools/sctp-vm/test.sh \
                 (REQUIRE_KERNEL_SCTP=1 turns this into a failure) ***\n"
            );
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
            false
        }
    }
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("test timed out")
}

fn cfg() -> TransportConfig {
    TransportConfig::new(TransportKind::Sctp)
}

/// MGC listening on 127.0.0.1 (ephemeral port), MG connected to it, MGC's side accepted.
async fn association(cfg: &TransportConfig) -> (SctpListener, SctpConnection, SctpConnection) {
    let l = SctpListener::bind(&["127.0.0.1:0".parse().unwrap()], cfg).unwrap();
    assert_ne!(l.local_addr().port(), 0, "listener reports its actual port");
    let mg = SctpConnection::connect(l.local_addr(), None, cfg)
        .await
        .unwrap();
    let mgc = l.accept().await.unwrap();
    (l, mg, mgc)
}

fn assert_h248(r: &Received) {
    assert_eq!(
        r.ppid,
        Some(H248_SCTP_PPID),
        "PPID 7 after conversion to host order"
    );
}

#[tokio::test]
async fn mg_connects_and_messages_flow_both_ways_with_ppid_7() {
    if !kernel_sctp("mg_connects_and_messages_flow_both_ways_with_ppid_7") {
        return;
    }
    within(async {
        let (l, mg, mgc) = association(&cfg()).await;
        assert_eq!(mg.kind(), TransportKind::Sctp);
        assert_eq!(mg.peer_addr(), l.local_addr());
        assert_eq!(
            mg.local_addr().ip().to_string(),
            "127.0.0.1",
            "explicit bind"
        );
        assert_eq!(mgc.peer_addr(), mg.local_addr());

        mg.send(SC, StreamKey::CONTROL).await.unwrap();
        let r = mgc.recv().await.unwrap();
        assert_eq!(&r.data[..], SC);
        assert_h248(&r);
        assert_eq!(r.stream, Some(0));
        assert_eq!(r.peer, mg.local_addr());
        assert_eq!(r.encoding, Encoding::Text);

        mgc.send(REPLY, StreamKey::CONTROL).await.unwrap();
        let r = mg.recv().await.unwrap();
        assert_eq!(&r.data[..], REPLY);
        assert_h248(&r);
        assert_eq!(r.peer, l.local_addr());

        // through the run-time choice too
        let c = cfg();
        let l2 = c.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mg2 = c.connect(l2.local_addr(), None).await.unwrap();
        let mgc2 = l2.accept().await.unwrap();
        mg2.send(SC, StreamKey::context(3)).await.unwrap();
        let r = mgc2.recv().await.unwrap();
        assert_eq!((&r.data[..], r.stream), (SC, Some(3)));
        assert_h248(&r);
    })
    .await
}

#[tokio::test]
async fn stream_key_picks_the_stream_and_any_stream_is_received() {
    if !kernel_sctp("stream_key_picks_the_stream_and_any_stream_is_received") {
        return;
    }
    within(async {
        let (_l, mg, mgc) = association(&cfg()).await;
        assert_eq!((mg.ostreams(), mg.istreams()), (16, 16));
        assert_eq!((mgc.ostreams(), mgc.istreams()), (16, 16));
        let mg = Arc::new(mg);
        let keys: Vec<StreamKey> = (0..40u32).map(StreamKey::context).collect();
        for k in &keys {
            let m = format!("!/3 [127.0.0.1] T={}{{C={}{{N=a/1{{}}}}}}", k.0 + 100, k.0);
            mg.send(m.as_bytes(), *k).await.unwrap();
        }
        let mut streams = std::collections::BTreeSet::new();
        for _ in &keys {
            let r = mgc.recv().await.unwrap();
            assert_h248(&r);
            let text = std::str::from_utf8(&r.data).unwrap();
            let ctx: u64 = text
                .split("C=")
                .nth(1)
                .unwrap()
                .split('{')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(r.stream, Some(StreamKey(ctx).stream(16)), "{text}");
            streams.insert(r.stream.unwrap());
            // reply on the same context's stream
            mgc.send(
                format!("!/3 [127.0.0.1] P={}{{C={ctx}{{}}}}", ctx + 100).as_bytes(),
                StreamKey(ctx),
            )
            .await
            .unwrap();
        }
        assert_eq!(streams.len(), 16, "all 16 streams used");
        for _ in &keys {
            let r = mg.recv().await.unwrap();
            let text = std::str::from_utf8(&r.data).unwrap();
            let ctx: u64 = text
                .split("C=")
                .nth(1)
                .unwrap()
                .split('{')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(r.stream, Some(StreamKey(ctx).stream(16)));
        }
        // fewer streams granted than asked for: keys wrap around what the peer granted
        let mut few = cfg();
        few.sctp.istreams = 4;
        let l = SctpListener::bind(&["127.0.0.1:0".parse().unwrap()], &few).unwrap();
        let mg = SctpConnection::connect(l.local_addr(), None, &cfg())
            .await
            .unwrap();
        let mgc = l.accept().await.unwrap();
        assert_eq!(mg.ostreams(), 4);
        mg.send(SC, StreamKey::context(7)).await.unwrap();
        assert_eq!(mgc.recv().await.unwrap().stream, Some(3));
    })
    .await
}

#[tokio::test]
async fn association_loss_is_detected() {
    if !kernel_sctp("association_loss_is_detected") {
        return;
    }
    within(async {
        // MG goes away: the MGC's receive ends
        let (_l, mg, mgc) = association(&cfg()).await;
        mg.send(SC, StreamKey::CONTROL).await.unwrap();
        drop(mg);
        assert_eq!(
            &mgc.recv().await.unwrap().data[..],
            SC,
            "queued data still delivered"
        );
        let e = mgc.recv().await.unwrap_err();
        assert!(matches!(e, TransportError::Closed), "{e:?}");
        assert!(e.is_fatal());
        // and sending on it fails
        assert!(mgc.send(REPLY, StreamKey::CONTROL).await.is_err());

        // MGC shuts the association down: the MG sees it
        let (_l, mg, mgc) = association(&cfg()).await;
        mgc.shutdown().unwrap();
        assert!(matches!(mg.recv().await, Err(TransportError::Closed)));

        // nobody listening: connect fails with a clear error, promptly (ABORT)
        let port = {
            let l = SctpListener::bind(&["127.0.0.1:0".parse().unwrap()], &cfg()).unwrap();
            l.local_addr().port()
        };
        let e = SctpConnection::connect(format!("127.0.0.1:{port}").parse().unwrap(), None, &cfg())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("SCTP connect to 127.0.0.1"), "{e}");
    })
    .await
}

#[tokio::test]
async fn large_messages_are_reassembled() {
    if !kernel_sctp("large_messages_are_reassembled") {
        return;
    }
    within(async {
        let (_l, mg, mgc) = association(&cfg()).await;
        let mg = Arc::new(mg);
        // around sctp-rs's 4096-octet receive buffer, several times it, and up to 64 KiB
        let sizes = [4095usize, 4096, 4097, 8192, 8193, 12_288, 30_000, 65_531, 1];
        let msgs: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let mut m: Vec<u8> = format!("MEGACO/3 [127.0.0.1] message {i} ").into_bytes();
                m.resize(n.max(1), b'a' + i as u8);
                m.truncate(n);
                m[0] = b'M';
                m
            })
            .collect();
        {
            let (mg, msgs) = (mg.clone(), msgs.clone());
            tokio::spawn(async move {
                for (i, m) in msgs.iter().enumerate() {
                    mg.send(m, StreamKey::context(i as u32 % 3)).await.unwrap();
                }
            });
        }
        let mut got: Vec<Vec<u8>> = Vec::new();
        for _ in &msgs {
            let r = mgc.recv().await.unwrap();
            assert_h248(&r);
            got.push(r.data.to_vec());
        }
        // streams may overtake each other; each message arrives whole
        for m in &msgs {
            assert!(
                got.contains(m),
                "message of {} octets not received intact",
                m.len()
            );
        }
        // a message of exactly 4096 octets alone does not wait for more
        mgc.send(&msgs[1], StreamKey::CONTROL).await.unwrap();
        let r = tokio::time::timeout(Duration::from_secs(5), mg.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.data.len(), 4096);
        // several large ones queued back to back on one stream are told apart
        for m in [&msgs[3], &msgs[1], &msgs[5]] {
            mgc.send(m, StreamKey::CONTROL).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        for m in [&msgs[3], &msgs[1], &msgs[5]] {
            assert_eq!(&mg.recv().await.unwrap().data[..], &m[..]);
        }
    })
    .await
}

#[tokio::test]
async fn binary_encoding_detected_per_association() {
    if !kernel_sctp("binary_encoding_detected_per_association") {
        return;
    }
    within(async {
        let (_l, mg, mgc) = association(&cfg()).await;
        let ber = [0x30u8, 0x03, 0x02, 0x01, 0x03];
        mg.send(&ber, StreamKey::CONTROL).await.unwrap();
        assert_eq!(mg.encoding(), Some(Encoding::Binary));
        let r = mgc.recv().await.unwrap();
        assert_eq!((r.encoding, &r.data[..]), (Encoding::Binary, &ber[..]));
        assert_eq!(mgc.encoding(), Some(Encoding::Binary));
    })
    .await
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn failed_bind_and_connect_leak_no_descriptors() {
    if !kernel_sctp("failed_bind_and_connect_leak_no_descriptors") {
        return;
    }
    within(async {
        let l = SctpListener::bind(&["127.0.0.1:0".parse().unwrap()], &cfg()).unwrap();
        let taken = l.local_addr();
        let before = open_fds();
        for _ in 0..20 {
            let e = SctpListener::bind(&[taken], &cfg()).unwrap_err();
            assert!(e.to_string().contains("SCTP bind"), "{e}");
            let e = SctpConnection::connect(l.local_addr(), Some(taken), &cfg())
                .await
                .unwrap_err();
            assert!(e.to_string().contains("SCTP bind"), "{e}");
        }
        let after = open_fds();
        // other tests run in parallel threads: allow them a few, not the 40 a leak would add
        assert!(
            after < before + 10,
            "descriptors leaked: {before} before, {after} after"
        );
        let e = SctpListener::bind(&["0.0.0.0:0".parse().unwrap()], &cfg()).unwrap_err();
        assert!(matches!(e, TransportError::Config(_)), "{e}");
    })
    .await
}
