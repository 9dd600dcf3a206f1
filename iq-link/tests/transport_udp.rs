//! UDP with application-level framing over real loopback sockets.

use std::time::Duration;

use iq_link::transport::{
    Encoding, StreamKey, Transport, TransportConfig, TransportError, TransportKind, UDP_MAX_PAYLOAD,
};
use tokio::net::UdpSocket;

const SC: &[u8] = b"MEGACO/3 [192.0.2.2]:2944\nTransaction = 1 { Context = - { ServiceChange = ROOT { Services { Method = Restart } } } }";
const REPLY: &[u8] = b"MEGACO/3 [192.0.2.1]:2944\nReply = 1 { Context = - { ServiceChange = ROOT { Services { ServiceChangeAddress = 2944 } } } }";

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test timed out")
}

#[tokio::test]
async fn one_connection_per_peer_messages_both_ways() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Udp);
        let l = cfg.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mg1 = cfg.connect(l.local_addr(), None).await.unwrap();
        let mg2 = cfg
            .connect(l.local_addr(), Some("127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
        assert_eq!(mg1.kind(), TransportKind::Udp);

        mg1.send(SC, StreamKey::CONTROL).await.unwrap();
        let c1 = l.accept().await.unwrap();
        assert_eq!(c1.peer_addr(), mg1.local_addr());
        // stream keys are accepted and ignored
        mg2.send(b"!/3 [192.0.2.3] T=9{C=-{AV=ROOT}}", StreamKey::context(9))
            .await
            .unwrap();
        let c2 = l.accept().await.unwrap();
        assert_eq!(c2.peer_addr(), mg2.local_addr());
        mg1.send(b"!/3 [192.0.2.2] T=2{C=-{AV=ROOT}}", StreamKey(12345))
            .await
            .unwrap();

        let r = c1.recv().await.unwrap();
        assert_eq!(
            (&r.data[..], r.peer, r.encoding),
            (SC, mg1.local_addr(), Encoding::Text)
        );
        assert_eq!((r.stream, r.ppid), (None, None));
        assert_eq!(
            &c1.recv().await.unwrap().data[..],
            b"!/3 [192.0.2.2] T=2{C=-{AV=ROOT}}"
        );
        assert_eq!(
            &c2.recv().await.unwrap().data[..],
            b"!/3 [192.0.2.3] T=9{C=-{AV=ROOT}}"
        );

        c1.send(REPLY, StreamKey::CONTROL).await.unwrap();
        c2.send(b"!/3 [192.0.2.1] P=9{C=-{AV=ROOT}}", StreamKey::CONTROL)
            .await
            .unwrap();
        let r = mg1.recv().await.unwrap();
        assert_eq!((&r.data[..], r.peer), (REPLY, l.local_addr()));
        assert_eq!(
            &mg2.recv().await.unwrap().data[..],
            b"!/3 [192.0.2.1] P=9{C=-{AV=ROOT}}"
        );
    })
    .await
}

#[tokio::test]
async fn one_message_per_datagram_and_large_messages() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Udp);
        let l = cfg.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mg = cfg.connect(l.local_addr(), None).await.unwrap();
        let sizes = [1usize, 1400, 9000, 60_000, UDP_MAX_PAYLOAD];
        for &n in &sizes {
            let mut m = vec![b'x'; n];
            m[0] = b'M';
            mg.send(&m, StreamKey::CONTROL).await.unwrap();
        }
        let c = l.accept().await.unwrap();
        for &n in &sizes {
            let r = c.recv().await.unwrap();
            assert_eq!(r.data.len(), n);
        }
        let e = mg
            .send(&vec![b'M'; UDP_MAX_PAYLOAD + 1], StreamKey::CONTROL)
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                TransportError::TooLarge {
                    transport: TransportKind::Udp,
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(
            mg.send(b"", StreamKey::CONTROL).await,
            Err(TransportError::Empty)
        ));
    })
    .await
}

#[tokio::test]
async fn raw_datagrams_encoding_detection() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Udp);
        let l = cfg.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let raw = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        raw.send_to(b"\x01junk", l.local_addr()).await.unwrap();
        raw.send_to(&[0x30, 0x03, 0x02, 0x01, 0x03], l.local_addr())
            .await
            .unwrap();
        let c = l.accept().await.unwrap();
        let e = c.recv().await.unwrap_err();
        assert!(matches!(e, TransportError::UnknownEncoding(1)), "{e}");
        assert!(!e.is_fatal());
        assert_eq!(c.recv().await.unwrap().encoding, Encoding::Binary);
        assert_eq!(c.encoding(), Some(Encoding::Binary));
        c.send(&[0x30, 0x00], StreamKey::CONTROL).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = raw.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&[0x30u8, 0x00][..], l.local_addr()));
    })
    .await
}

#[tokio::test]
async fn dropped_listener_closes_its_connections() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Udp);
        let l = cfg.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mg = cfg.connect(l.local_addr(), None).await.unwrap();
        mg.send(SC, StreamKey::CONTROL).await.unwrap();
        let c = l.accept().await.unwrap();
        assert_eq!(&c.recv().await.unwrap().data[..], SC);
        drop(l);
        assert!(matches!(c.recv().await, Err(TransportError::Closed)));
    })
    .await
}

#[tokio::test]
async fn dropped_connection_is_accepted_anew() {
    within(async {
        let cfg = TransportConfig::new(TransportKind::Udp);
        let l = cfg.listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mg = cfg.connect(l.local_addr(), None).await.unwrap();
        mg.send(SC, StreamKey::CONTROL).await.unwrap();
        drop(l.accept().await.unwrap());
        mg.send(REPLY, StreamKey::CONTROL).await.unwrap();
        let c = l.accept().await.unwrap();
        assert_eq!(&c.recv().await.unwrap().data[..], REPLY);
    })
    .await
}
