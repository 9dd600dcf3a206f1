//! Issue 9: no allocation per packet on the media relay path. A counting global allocator
//! (`stats_alloc`) watches 10,000 packets each way relayed through the same sans-IO core the
//! context task runs (`RelayCore::datagram`): SRTP from a UE (a client `AccessLeg` after a
//! real in-memory DTLS handshake with the AGW's server leg) to plain RTP on the core leg,
//! and plain RTP from the core to SRTP for the UE, with RTCP both ways, across a sequence
//! number rollover, for each SRTP profile. Zero allocations allowed during the loop.
//!
//! This file holds one test so that no other test thread allocates while it counts.

use std::alloc::System;
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_agw::media::api::{
    DtlsRole, IceCredentials, LegId, LegKind, LegSpec, MediaEvent, StreamMode,
};
use iq_agw::media::cert::Certificate;
use iq_agw::media::leg::{
    AccessLeg, AccessLegConfig, Received, SRTP_AEAD_AES_128_GCM, SRTP_AEAD_AES_256_GCM,
    SRTP_AES128_CM_HMAC_SHA1_32, SRTP_AES128_CM_HMAC_SHA1_80,
};
use iq_agw::media::plain::{PlainLeg, RtpReceiveStats};
use iq_agw::media::task::{DetachedLeg, Egress, LegCounters, LegState, RelayCore, TAIL_ROOM};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const UE: u16 = 40000;
const AGW_ACCESS: u16 = 40002;
const CORE: u16 = 50000;
const PACKETS: usize = 10_000;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// An egress that keeps the last datagram in a fixed buffer (no allocation).
struct Capture {
    buf: RefCell<[u8; 4096]>,
    len: Cell<usize>,
    to: Cell<Option<SocketAddr>>,
    count: Cell<u64>,
}

impl Capture {
    fn new() -> Self {
        Capture {
            buf: RefCell::new([0; 4096]),
            len: Cell::new(0),
            to: Cell::new(None),
            count: Cell::new(0),
        }
    }

    /// Move the last datagram out (so a stale one is never read twice).
    fn take(&self, out: &mut [u8]) -> Option<(SocketAddr, usize)> {
        let to = self.to.take()?;
        let n = self.len.get();
        out[..n].copy_from_slice(&self.buf.borrow()[..n]);
        Some((to, n))
    }
}

impl Egress for Capture {
    fn try_send_to(&self, data: &[u8], to: SocketAddr) -> std::io::Result<usize> {
        self.buf.borrow_mut()[..data.len()].copy_from_slice(data);
        self.len.set(data.len());
        self.to.set(Some(to));
        self.count.set(self.count.get() + 1);
        Ok(data.len())
    }
}

fn config(id: u64, cert: &Arc<Certificate>) -> AccessLegConfig {
    AccessLegConfig {
        leg: LegId(id),
        local_ice: IceCredentials {
            ufrag: format!("u{id}"),
            pwd: "0123456789abcdefghijklmnop".into(),
        },
        certificate: cert.clone(),
        handshake_timeout: Duration::from_secs(10),
        consent_timeout: Duration::from_secs(30),
    }
}

fn spec(kind: LegKind, role: Option<DtlsRole>, remote: u16, cert: Option<&Certificate>) -> LegSpec {
    LegSpec {
        context: 1,
        kind,
        realm: "r".into(),
        mode: StreamMode::SendRecv,
        remote: Some(addr(remote)),
        remote_fingerprints: cert
            .map(|c| vec![c.fingerprint().clone()])
            .unwrap_or_default(),
        dtls_role: role,
        remote_ice: None,
        latching: false,
    }
}

/// Handshake a UE (DTLS client) with the AGW's access leg (server) in memory.
fn handshake(profile: u16) -> (AccessLeg, AccessLeg, Instant) {
    let cu = Arc::new(Certificate::generate().unwrap());
    let ca = Arc::new(Certificate::generate().unwrap());
    let mut now = Instant::now();
    let mut ue = AccessLeg::with_profiles(
        config(1, &cu),
        &spec(
            LegKind::DtlsSrtp,
            Some(DtlsRole::Client),
            AGW_ACCESS,
            Some(&ca),
        ),
        now,
        &[profile],
    );
    let mut agw = AccessLeg::new(
        config(2, &ca),
        &spec(LegKind::DtlsSrtp, Some(DtlsRole::Server), UE, Some(&cu)),
        now,
    );
    for _ in 0..1000 {
        let mut moved = false;
        while let Some((_, mut d)) = ue.poll_transmit() {
            agw.handle_datagram(now, addr(UE), &mut d);
            moved = true;
        }
        while let Some((_, mut d)) = agw.poll_transmit() {
            ue.handle_datagram(now, addr(AGW_ACCESS), &mut d);
            moved = true;
        }
        if ue.srtp_profile().is_some() && agw.srtp_profile().is_some() && !moved {
            break;
        }
        if !moved {
            match [ue.poll_timeout(), agw.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
            {
                Some(t) => {
                    now = now.max(t);
                    ue.handle_timeout(now);
                    agw.handle_timeout(now);
                }
                None => break,
            }
        }
    }
    assert_eq!(ue.srtp_profile(), Some(profile), "UE keyed");
    assert_eq!(agw.srtp_profile(), Some(profile), "AGW keyed");
    (ue, agw, now)
}

fn write_rtp(buf: &mut [u8], seq: u16, ssrc: u32, fill: u8) -> usize {
    buf[0] = 0x80;
    buf[1] = 111;
    buf[2..4].copy_from_slice(&seq.to_be_bytes());
    buf[4..8].copy_from_slice(&(u32::from(seq) * 960).to_be_bytes());
    buf[8..12].copy_from_slice(&ssrc.to_be_bytes());
    for (i, b) in buf[12..172].iter_mut().enumerate() {
        *b = fill ^ i as u8;
    }
    172
}

fn write_rtcp(buf: &mut [u8], ssrc: u32, n: u32) -> usize {
    buf[..4].copy_from_slice(&[0x80, 200, 0, 6]);
    buf[4..8].copy_from_slice(&ssrc.to_be_bytes());
    for k in 0..5 {
        buf[8 + 4 * k..12 + 4 * k].copy_from_slice(&(n + k as u32).to_be_bytes());
    }
    28
}

struct Bench {
    ue: AccessLeg,
    core: RelayCore,
    legs: Vec<DetachedLeg<Capture>>,
    now: Instant,
    plain: [u8; 2048 + TAIL_ROOM],
    wire: [u8; 2048 + TAIL_ROOM],
}

impl Bench {
    /// One round: UE -> AGW -> core, core -> AGW -> UE; RTCP both ways every tenth round.
    fn round(&mut self, k: usize) {
        let seq = 60_000u16.wrapping_add(k as u16);
        let fill = k as u8;

        // UE SRTP -> access leg (0) -> plain leg (1).
        let len = write_rtp(&mut self.plain, seq, 0x0A0A_0001, fill);
        self.wire[..len].copy_from_slice(&self.plain[..len]);
        let n = self.ue.protect(&mut self.wire, len).expect("UE protect");
        self.core.recv_buf()[..n].copy_from_slice(&self.wire[..n]);
        self.core.datagram(&mut self.legs, 0, n, addr(UE), self.now);
        let (to, m) = self.legs[1]
            .egress
            .take(&mut self.wire)
            .expect("relayed to core");
        assert_eq!(to, addr(CORE));
        assert_eq!(self.wire[..m], self.plain[..len], "SRTP->RTP {k}");

        // Core RTP -> plain leg (1) -> access leg (0) -> UE.
        let len = write_rtp(&mut self.plain, seq.wrapping_add(7), 0x0C0C_0002, !fill);
        self.core.recv_buf()[..len].copy_from_slice(&self.plain[..len]);
        self.core
            .datagram(&mut self.legs, 1, len, addr(CORE), self.now);
        let (to, m) = self.legs[0]
            .egress
            .take(&mut self.wire)
            .expect("relayed to UE");
        assert_eq!(to, addr(UE));
        match self
            .ue
            .handle_datagram(self.now, addr(AGW_ACCESS), &mut self.wire[..m])
        {
            Received::Media {
                len: got,
                rtcp: false,
            } => {
                assert_eq!(self.wire[..got], self.plain[..len], "RTP->SRTP {k}")
            }
            other => panic!("UE got {other:?} at {k}"),
        }

        if k % 10 == 0 {
            let len = write_rtcp(&mut self.plain, 0x0A0A_0001, k as u32);
            self.wire[..len].copy_from_slice(&self.plain[..len]);
            let n = self
                .ue
                .protect(&mut self.wire, len)
                .expect("UE protect RTCP");
            self.core.recv_buf()[..n].copy_from_slice(&self.wire[..n]);
            self.core.datagram(&mut self.legs, 0, n, addr(UE), self.now);
            let (_, m) = self.legs[1]
                .egress
                .take(&mut self.wire)
                .expect("RTCP to core");
            assert_eq!(self.wire[..m], self.plain[..len], "SRTCP->RTCP {k}");

            let len = write_rtcp(&mut self.plain, 0x0C0C_0002, k as u32);
            self.core.recv_buf()[..len].copy_from_slice(&self.plain[..len]);
            self.core
                .datagram(&mut self.legs, 1, len, addr(CORE), self.now);
            let (_, m) = self.legs[0]
                .egress
                .take(&mut self.wire)
                .expect("RTCP to UE");
            match self
                .ue
                .handle_datagram(self.now, addr(AGW_ACCESS), &mut self.wire[..m])
            {
                Received::Media {
                    len: got,
                    rtcp: true,
                } => {
                    assert_eq!(self.wire[..got], self.plain[..len], "RTCP->SRTCP {k}")
                }
                other => panic!("UE got {other:?} for RTCP at {k}"),
            }
        }
    }
}

#[test]
fn relay_path_allocates_nothing_per_packet() {
    // The counter counts: one Box is one allocation.
    let region = Region::new(GLOBAL);
    let b = std::hint::black_box(Box::new(7u64));
    assert_eq!(
        region.change().allocations,
        1,
        "counting allocator not counting"
    );
    drop(b);

    for profile in [
        SRTP_AES128_CM_HMAC_SHA1_80,
        SRTP_AES128_CM_HMAC_SHA1_32,
        SRTP_AEAD_AES_128_GCM,
        SRTP_AEAD_AES_256_GCM,
    ] {
        let (ue, agw, now) = handshake(profile);
        let (events, mut events_rx) = tokio::sync::mpsc::unbounded_channel::<MediaEvent>();
        let access = DetachedLeg {
            id: LegId(2),
            mode: StreamMode::SendRecv,
            state: LegState::Access(Box::new(agw)),
            counters: LegCounters::default(),
            access_rtp: RtpReceiveStats::new(now),
            egress: Capture::new(),
        };
        let plain_spec = spec(LegKind::Plain, None, CORE, None);
        let plain = DetachedLeg {
            id: LegId(3),
            mode: StreamMode::SendRecv,
            state: LegState::Plain(Box::new(PlainLeg::new(&plain_spec, now))),
            counters: LegCounters::default(),
            access_rtp: RtpReceiveStats::new(now),
            egress: Capture::new(),
        };
        let mut bench = Bench {
            ue,
            core: RelayCore::new(events),
            legs: vec![access, plain],
            now,
            plain: [0; 2048 + TAIL_ROOM],
            wire: [0; 2048 + TAIL_ROOM],
        };
        // Warm-up: first packets of each SSRC create their (preallocated) states.
        for k in 0..100 {
            bench.round(k);
        }
        let region = Region::new(GLOBAL);
        for k in 100..100 + PACKETS {
            bench.round(k);
        }
        let stats = region.change();
        assert_eq!(
            (stats.allocations, stats.reallocations),
            (0, 0),
            "profile {profile:#06x}: allocations on the relay path over {PACKETS} rounds: {stats:?}"
        );
        // Everything went through: both ways, RTP and RTCP, across the rollover.
        let rounds = (100 + PACKETS) as u64;
        let rtcp = rounds.div_ceil(10);
        let access = bench.legs[0].counters.snapshot();
        let core = bench.legs[1].counters.snapshot();
        assert_eq!(access.packets_received, rounds + rtcp);
        assert_eq!(core.packets_sent, rounds + rtcp);
        assert_eq!(core.packets_received, rounds + rtcp);
        assert_eq!(access.packets_sent, rounds + rtcp);
        assert_eq!(bench.legs[0].egress.count.get(), rounds + rtcp);
        while let Ok(ev) = events_rx.try_recv() {
            assert!(
                !matches!(ev, MediaEvent::DtlsFailed { .. }),
                "unexpected {ev:?}"
            );
        }
    }
}
