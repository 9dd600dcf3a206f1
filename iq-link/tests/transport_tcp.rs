//! TCP with TPKT framing over real loopback sockets.

use std::sync::Arc;
use std::time::Duration;

use iq_link::transport::{
    Connection, Encoding, EncodingMode, StreamKey, TpktError, Transport, TransportConfig,
    TransportError, TransportKind,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SC: &[u8] = b"MEGACO/3 [192.0.2.2]:2944\nTransaction = 1 { Context = - { ServiceChange = ROOT { Services { Method = Restart, ServiceChangeAddress = 2944, Profile = ETSI_BGF/2 } } } }";
const REPLY: &[u8] = b"MEGACO/3 [192.0.2.1]:2944\nReply = 1 { Context = - { ServiceChange = ROOT { Services { ServiceChangeAddress = 2944 } } } }";

fn tpkt(msg: &[u8]) -> Vec<u8> {
    let len = (msg.len() + 4) as u16;
    let mut v = vec![3, 0, (len >> 8) as u8, len as u8];
    v.extend_from_slice(msg);
    v
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test timed out")
}

/// A listener on an ephemeral loopback port and a raw TCP client connected to it.
async fn raw_pair(cfg: &TransportConfig) -> (Connection, TcpStream) {
    let l = cfg.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = TcpStream::connect(l.local_addr()).await.unwrap();
    let conn = l.accept().await.unwrap();
    (conn, client)
}

#[tokio::test]
async fn mg_and_mgc_exchange_messages() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Tcp);
        let l = cfg.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mg = cfg.connect(l.local_addr(), None).await.unwrap();
        let mgc = l.accept().await.unwrap();
        assert_eq!(mg.kind(), TransportKind::Tcp);
        assert_eq!(mg.peer_addr(), l.local_addr());
        assert_eq!(mgc.peer_addr(), mg.local_addr());

        // any stream key is accepted (TCP has one byte stream)
        mg.send(SC, StreamKey::CONTROL).await.unwrap();
        mg.send(SC, StreamKey::context(77)).await.unwrap();
        for _ in 0..2 {
            let r = mgc.recv().await.unwrap();
            assert_eq!(&r.data[..], SC);
            assert_eq!(r.peer, mg.local_addr());
            assert_eq!(r.encoding, Encoding::Text);
            assert_eq!((r.stream, r.ppid), (None, None));
        }
        assert_eq!(mgc.encoding(), Some(Encoding::Text));
        assert_eq!(mg.encoding(), Some(Encoding::Text)); // from what it sent
        mgc.send(REPLY, StreamKey(u64::MAX)).await.unwrap();
        let r = mg.recv().await.unwrap();
        assert_eq!(&r.data[..], REPLY);
        assert_eq!(r.peer, l.local_addr());
    })
    .await
}

#[tokio::test]
async fn explicit_local_address_is_bound() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Tcp);
        let l = cfg.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mg = cfg
            .connect(l.local_addr(), Some("127.0.0.2:0".parse().unwrap()))
            .await
            .unwrap();
        assert_eq!(mg.local_addr().ip().to_string(), "127.0.0.2");
        let mgc = l.accept().await.unwrap();
        assert_eq!(mgc.peer_addr(), mg.local_addr());
    })
    .await
}

#[tokio::test]
async fn byte_by_byte_writes_are_reassembled() {
    within(async {
        let (conn, mut client) = raw_pair(&TransportConfig::new(TransportKind::Tcp)).await;
        let msgs: Vec<Vec<u8>> = vec![
            SC.to_vec(),
            REPLY.to_vec(),
            b"!/3 [192.0.2.2] T=2{C=-{AV=ROOT}}".to_vec(),
        ];
        let all: Vec<u8> = msgs.iter().flat_map(|m| tpkt(m)).collect();
        let writer = tokio::spawn(async move {
            for b in all {
                client.write_all(&[b]).await.unwrap();
                client.flush().await.unwrap();
                tokio::task::yield_now().await;
            }
            client
        });
        for m in &msgs {
            assert_eq!(&conn.recv().await.unwrap().data[..], &m[..]);
        }
        let _client = writer.await.unwrap();
    })
    .await
}

#[tokio::test]
async fn several_messages_in_one_segment() {
    within(async {
        let (conn, mut client) = raw_pair(&TransportConfig::new(TransportKind::Tcp)).await;
        let mut seg = Vec::new();
        for i in 0..10 {
            seg.extend(tpkt(
                format!("!/3 [192.0.2.2] T={i}{{C=-{{AV=ROOT}}}}").as_bytes(),
            ));
        }
        // and half of an eleventh message, completed by a second write
        let eleventh = tpkt(SC);
        seg.extend_from_slice(&eleventh[..7]);
        client.write_all(&seg).await.unwrap();
        for i in 0..10 {
            let r = conn.recv().await.unwrap();
            assert_eq!(
                r.data,
                format!("!/3 [192.0.2.2] T={i}{{C=-{{AV=ROOT}}}}").as_bytes()
            );
        }
        client.write_all(&eleventh[7..]).await.unwrap();
        assert_eq!(&conn.recv().await.unwrap().data[..], SC);
    })
    .await
}

#[tokio::test]
async fn large_messages_both_ways() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Tcp);
        let l = cfg.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mg = Arc::new(cfg.connect(l.local_addr(), None).await.unwrap());
        let mgc = l.accept().await.unwrap();
        let mut sizes = vec![1, 4096, 20_000];
        sizes.push(iq_link::transport::tpkt::TPKT_MAX_PAYLOAD); // 65531, TPKT length 0xffff
        let msgs: Vec<Vec<u8>> = sizes
            .iter()
            .map(|&n| {
                let mut m = b"MEGACO/3 [192.0.2.2]:2944 ".to_vec();
                m.resize(n.max(m.len()), b'x');
                m.truncate(n.max(1));
                m[0] = b'M';
                m
            })
            .collect();
        let sender = {
            let (mg, msgs) = (mg.clone(), msgs.clone());
            tokio::spawn(async move {
                for m in &msgs {
                    mg.send(m, StreamKey::CONTROL).await.unwrap();
                }
            })
        };
        for m in &msgs {
            let r = mgc.recv().await.unwrap();
            assert_eq!(r.data.len(), m.len());
            assert_eq!(&r.data[..], &m[..]);
        }
        sender.await.unwrap();
        mgc.send(&msgs[3], StreamKey::CONTROL).await.unwrap();
        assert_eq!(mg.recv().await.unwrap().data.len(), msgs[3].len());

        // one octet more does not fit a TPKT header: refused, and the connection stays usable
        let too_big = vec![b'M'; iq_link::transport::tpkt::TPKT_MAX_PAYLOAD + 1];
        let e = mg.send(&too_big, StreamKey::CONTROL).await.unwrap_err();
        assert!(
            matches!(
                e,
                TransportError::TooLarge {
                    len: 65532,
                    max: 65531,
                    ..
                }
            ),
            "{e}"
        );
        assert!(!e.is_fatal());
        mg.send(SC, StreamKey::CONTROL).await.unwrap();
        assert_eq!(&mgc.recv().await.unwrap().data[..], SC);
    })
    .await
}

async fn assert_peer_sees_close(client: &mut TcpStream) {
    let mut buf = [0u8; 16];
    match client.read(&mut buf).await {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the connection closed, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_tpkt_header_is_an_error_and_closes_the_connection() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Tcp);
        let cases: Vec<(Vec<u8>, TpktError)> = vec![
            (SC.to_vec(), TpktError::Version(b'M')), // no TPKT at all
            (vec![2, 0, 0, 10, b'M'], TpktError::Version(2)),
            (vec![3, 7, 0, 10, b'M'], TpktError::Reserved(7)),
            (vec![3, 0, 0, 4], TpktError::Length(4)),
            (vec![3, 0, 0, 1], TpktError::Length(1)),
        ];
        for (bytes, want) in cases {
            let (conn, mut client) = raw_pair(&cfg).await;
            // a good message first: the error comes after it, not instead of it
            client.write_all(&tpkt(SC)).await.unwrap();
            client.write_all(&bytes).await.unwrap();
            assert_eq!(&conn.recv().await.unwrap().data[..], SC);
            match conn.recv().await {
                Err(TransportError::Tpkt(got)) => assert_eq!(got, want),
                other => panic!("expected {want:?}, got {other:?}"),
            }
            let e = TransportError::Tpkt(want);
            assert!(e.is_fatal());
            assert!(e.to_string().contains("bad TPKT header"), "{e}");
            assert_peer_sees_close(&mut client).await;
            assert!(matches!(conn.recv().await, Err(TransportError::Closed)));
            assert!(matches!(
                conn.send(SC, StreamKey::CONTROL).await,
                Err(TransportError::Closed)
            ));
        }
    })
    .await
}

#[tokio::test]
async fn oversize_announcement_is_refused_before_reading_it() {
    within(async {
        let mut cfg = TransportConfig::new(TransportKind::Tcp);
        cfg.max_message = 1000;
        let (conn, mut client) = raw_pair(&cfg).await;
        client.write_all(&[3, 0, 0x10, 0x00]).await.unwrap(); // 4092 octets announced
        match conn.recv().await {
            Err(TransportError::Tpkt(TpktError::TooLarge {
                len: 4092,
                max: 1000,
            })) => {}
            other => panic!("{other:?}"),
        }
        assert_peer_sees_close(&mut client).await;
    })
    .await
}

#[tokio::test]
async fn peer_close_is_reported() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Tcp);
        let (conn, mut client) = raw_pair(&cfg).await;
        client.write_all(&tpkt(SC)).await.unwrap();
        drop(client);
        assert_eq!(&conn.recv().await.unwrap().data[..], SC);
        assert!(matches!(conn.recv().await, Err(TransportError::Closed)));

        // closed in the middle of a packet
        let (conn, mut client) = raw_pair(&cfg).await;
        client.write_all(&tpkt(SC)[..20]).await.unwrap();
        drop(client);
        assert!(matches!(
            conn.recv().await,
            Err(TransportError::Tpkt(TpktError::Truncated(20)))
        ));
    })
    .await
}

#[tokio::test]
async fn binary_detected_and_fixed_encoding_enforced() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Tcp);
        let (conn, mut client) = raw_pair(&cfg).await;
        let ber = [0x30u8, 0x03, 0x02, 0x01, 0x03];
        client.write_all(&tpkt(&ber)).await.unwrap();
        client.write_all(&tpkt(SC)).await.unwrap();
        client.write_all(&tpkt(&ber)).await.unwrap();
        let r = conn.recv().await.unwrap();
        assert_eq!((r.encoding, &r.data[..]), (Encoding::Binary, &ber[..]));
        let e = conn.recv().await.unwrap_err();
        assert!(matches!(
            e,
            TransportError::EncodingMismatch {
                expected: Encoding::Binary,
                found: Encoding::Text
            }
        ));
        assert!(!e.is_fatal());
        assert_eq!(conn.recv().await.unwrap().encoding, Encoding::Binary);

        let mut cfg = TransportConfig::new(TransportKind::Tcp);
        cfg.encoding = EncodingMode::Fixed(Encoding::Text);
        let (conn, mut client) = raw_pair(&cfg).await;
        assert_eq!(conn.encoding(), Some(Encoding::Text));
        client.write_all(&tpkt(&ber)).await.unwrap();
        client.write_all(&tpkt(b"{odd}")).await.unwrap();
        assert!(conn.recv().await.is_err());
        assert_eq!(&conn.recv().await.unwrap().data[..], b"{odd}"); // configured: let through

        let (conn, mut client) = raw_pair(&TransportConfig::new(TransportKind::Tcp)).await;
        client.write_all(&tpkt(b"{odd}")).await.unwrap();
        assert!(matches!(
            conn.recv().await,
            Err(TransportError::UnknownEncoding(b'{'))
        ));
    })
    .await
}

#[tokio::test]
async fn concurrent_senders_do_not_interleave() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Tcp);
        let l = cfg.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mg = Arc::new(cfg.connect(l.local_addr(), None).await.unwrap());
        let mgc = l.accept().await.unwrap();
        let mut tasks = Vec::new();
        for t in 0..4u32 {
            let mg = mg.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..50u32 {
                    let mut m = format!("!/3 [192.0.2.2] T={t}{i:04}{{C={t}{{}}}}").into_bytes();
                    m.resize(3000 + (i as usize * 37) % 500, b' ');
                    mg.send(&m, StreamKey::context(t)).await.unwrap();
                }
            }));
        }
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let r = mgc.recv().await.unwrap();
            assert!(r.data.starts_with(b"!/3 [192.0.2.2] T="));
            seen.insert(r.data[18..23].to_vec());
        }
        assert_eq!(seen.len(), 200);
        for t in tasks {
            t.await.unwrap();
        }
    })
    .await
}

#[tokio::test]
async fn a_batch_is_one_write_of_the_messages_each_framed() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Tcp);
        let (conn, mut client) = raw_pair(&cfg).await;
        let batch = vec![SC.to_vec(), REPLY.to_vec(), SC.to_vec()];
        conn.send_batch(&batch, StreamKey::CONTROL).await.unwrap();
        // What arrives is the three TPKT frames back to back, in order, and nothing else.
        let want: Vec<u8> = batch.iter().flat_map(|m| tpkt(m)).collect();
        let mut got = vec![0u8; want.len()];
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(got, want);
        assert_eq!(conn.encoding(), Some(Encoding::Text));
        // An empty batch writes nothing; the connection still works after it.
        conn.send_batch(&[], StreamKey::CONTROL).await.unwrap();
        conn.send(REPLY, StreamKey::CONTROL).await.unwrap();
        let mut one = vec![0u8; REPLY.len() + 4];
        client.read_exact(&mut one).await.unwrap();
        assert_eq!(one, tpkt(REPLY));
    })
    .await
}
