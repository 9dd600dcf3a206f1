//! Figure 1: media relay throughput. 20 ms PCMU packets (12 + 160 octets of RTP, 182 octets
//! as SRTP with AES_CM_128_HMAC_SHA1_80) through a relay process, SRTP -> RTP (UE to core) and
//! RTP -> SRTP (core to UE), counted where they come out; the relay's CPU time
//! (utime + stime of the whole process, all threads, from /proc/PID/stat) over the run divided
//! by the packets it relayed gives the CPU per packet and the packets per second per core.
//!
//! The load generator replays packets built before the clock starts (the SRTP ones encrypted
//! in advance, each with its own index so the relay's replay window accepts them), from one
//! thread per direction as fast as the socket takes them (or paced with `--rate`), and the
//! receiving side only counts; "offered" and "relayed" are both reported.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use iq_agw::media::api::Fingerprint;
use iq_agw::media::cert::Certificate;
use iq_agw::media::dtls::{DtlsAssoc, DtlsOutcome};
use iq_agw::media::srtp::{SrtpSession, SRTP_AES128_CM_HMAC_SHA1_80};

use crate::daemon::{scratch, Daemon};
use crate::ng::{req, Ng};
use crate::sdp;
use crate::stat;

/// Plain RTP size: 12-octet header + 160 octets (20 ms of PCMU).
pub const RTP_LEN: usize = 172;
/// Room per packet in the replay buffer.
const STRIDE: usize = 192;
/// Packets per call sent (and checked) before the clock starts.
const WARMUP: usize = 5;

/// Options of one relay run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Packets per direction.
    pub packets: usize,
    /// Offered rate in packets per second (0: as fast as the socket takes them).
    pub rate: u64,
}

/// The result of one direction through one relay.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Packets sent.
    pub offered: u64,
    /// Packets that came out at the far side.
    pub relayed: u64,
    /// Sending time.
    pub send_wall: Duration,
    /// First sent to last received.
    pub wall: Duration,
    /// The relay's CPU time over the run.
    pub cpu: Duration,
}

impl Run {
    /// Offered packets per second.
    pub fn offered_pps(&self) -> f64 {
        self.offered as f64 / self.send_wall.as_secs_f64().max(1e-9)
    }
    /// Relayed packets per second (wall clock).
    pub fn relayed_pps(&self) -> f64 {
        self.relayed as f64 / self.wall.as_secs_f64().max(1e-9)
    }
    /// CPU nanoseconds per relayed packet.
    pub fn cpu_ns_per_packet(&self) -> f64 {
        self.cpu.as_nanos() as f64 / (self.relayed.max(1)) as f64
    }
    /// Relayed packets per second of relay CPU.
    pub fn pps_per_core(&self) -> f64 {
        1e9 / self.cpu_ns_per_packet()
    }
}

/// One call through the relay: its two addresses and the UE's SRTP session.
pub struct Leg {
    relay_access: SocketAddr,
    relay_core: SocketAddr,
    srtp: SrtpSession,
}

/// A relay set up for `legs.len()` calls: one UE socket and one core socket serve them all
/// (every call's SDP names the same UE and core addresses; the relay's ports tell the calls
/// apart), so the load generator is one sending and one counting thread per direction.
pub struct Call {
    ue: UdpSocket,
    core: UdpSocket,
    legs: Vec<Leg>,
    pid: u32,
    /// Packets per stream used by earlier measurements: the next one continues the
    /// sequence numbers (a repeated SRTP index would be a replay).
    used: u64,
}

impl Call {
    /// The relay's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

fn bind() -> Result<UdpSocket, String> {
    let s = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    // root may exceed rmem_max/wmem_max; else the ordinary (capped) options
    let size = 8 << 20;
    if nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::RcvBufForce, &size).is_err() {
        let _ = socket2::SockRef::from(&s).set_recv_buffer_size(size);
    }
    if nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::SndBufForce, &size).is_err() {
        let _ = socket2::SockRef::from(&s).set_send_buffer_size(size);
    }
    Ok(s)
}

fn port_of(s: &UdpSocket) -> u16 {
    s.local_addr().map(|a| a.port()).unwrap_or(0)
}

/// A free UDP port on loopback (for a daemon's ng listener).
pub fn free_port() -> Result<u16, String> {
    let s = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(port_of(&s))
}

/// Plain RTP packet `i` of the stream (PCMU, SSRC `ssrc`).
pub fn rtp_packet(out: &mut [u8; RTP_LEN], ssrc: u32, i: u64) {
    out[0] = 0x80;
    out[1] = 0;
    out[2..4].copy_from_slice(&((i & 0xffff) as u16).to_be_bytes());
    out[4..8].copy_from_slice(&((i as u32).wrapping_mul(160)).to_be_bytes());
    out[8..12].copy_from_slice(&ssrc.to_be_bytes());
    out[12..].fill(0xd5);
    // a per-packet payload marker, checked at the far end
    out[12..20].copy_from_slice(&i.to_be_bytes());
}

/// The sequence number a packet carries in its payload marker (plain RTP).
pub fn marker_of(p: &[u8]) -> Option<u64> {
    let b: [u8; 8] = p.get(12..20)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// `rounds` packets of each of `streams` streams, interleaved (packet `j` of stream `c` at
/// `j * streams + c`), in one buffer at `STRIDE`, with their lengths.
struct Batch {
    buf: Vec<u8>,
    lens: Vec<usize>,
    streams: usize,
}

impl Batch {
    fn build(
        first: u64,
        rounds: usize,
        streams: usize,
        ssrc: u32,
        mut protect: impl FnMut(usize, &mut [u8], usize) -> Result<usize, String>,
    ) -> Result<Batch, String> {
        let mut buf = vec![0u8; rounds * streams * STRIDE];
        let mut lens = Vec::with_capacity(rounds * streams);
        let mut p = [0u8; RTP_LEN];
        for (i, slot) in buf.chunks_exact_mut(STRIDE).enumerate() {
            let (j, c) = (i / streams, i % streams);
            rtp_packet(&mut p, ssrc.wrapping_add(c as u32), first + j as u64);
            slot[..RTP_LEN].copy_from_slice(&p);
            lens.push(protect(c, slot, RTP_LEN)?);
        }
        Ok(Batch { buf, lens, streams })
    }
    fn get(&self, i: usize) -> &[u8] {
        &self.buf[i * STRIDE..i * STRIDE + self.lens[i]]
    }
}

/// Send `batch[range]` from `tx`, packet `i` to `to[i % streams]` (paced at `rate` when
/// non-zero), while counting what arrives on `rx`; `check` sees each received packet and its
/// source (it may look at the first ones only).
#[allow(clippy::too_many_arguments)]
fn run_dir(
    pid: u32,
    tck: u64,
    tx: &UdpSocket,
    to: &[SocketAddr],
    batch: &Batch,
    range: std::ops::Range<usize>,
    rate: u64,
    rx: &UdpSocket,
    mut check: impl FnMut(SocketAddr, &mut [u8]) -> Result<(), String>,
) -> Result<Run, String> {
    // what a starved relay delivered late from an earlier run is not this run's
    let mut stale = [0u8; 2048];
    rx.set_read_timeout(Some(Duration::from_millis(20)))
        .map_err(|e| e.to_string())?;
    while rx.recv(&mut stale).is_ok() {}
    rx.set_read_timeout(Some(Duration::from_millis(300)))
        .map_err(|e| e.to_string())?;
    let done = AtomicBool::new(false);
    let send_wall_ns = AtomicU64::new(0);
    let sent = AtomicU64::new(0);
    let cpu0 = stat::process_cpu(pid, tck).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut received = 0u64;
    let mut last = start;
    let mut err = None;
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut n = 0u64;
            for i in range.clone() {
                if rate > 0 {
                    // sleep (not spin: the sender must leave the relay its core) until due
                    let due = start + Duration::from_secs_f64(n as f64 / rate as f64);
                    let now = Instant::now();
                    if due > now + Duration::from_micros(200) {
                        std::thread::sleep(due - now);
                    }
                }
                // a full socket buffer (ENOBUFS) is an offered packet the kernel dropped
                let _ = tx.send_to(batch.get(i), to[i % batch.streams]);
                n += 1;
            }
            sent.store(n, Ordering::Relaxed);
            send_wall_ns.store(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
            done.store(true, Ordering::Release);
        });
        let mut buf = [0u8; 2048];
        loop {
            match rx.recv_from(&mut buf) {
                Ok((n, from)) => {
                    received += 1;
                    last = Instant::now();
                    if err.is_none() {
                        if let Err(e) = check(from, &mut buf[..n]) {
                            err = Some(e);
                        }
                    }
                }
                Err(_) if done.load(Ordering::Acquire) => break,
                Err(_) => {}
            }
        }
    });
    let cpu1 = stat::process_cpu(pid, tck).map_err(|e| e.to_string())?;
    if let Some(e) = err {
        return Err(e);
    }
    Ok(Run {
        offered: sent.load(Ordering::Relaxed),
        relayed: received,
        send_wall: Duration::from_nanos(send_wall_ns.load(Ordering::Relaxed)),
        wall: last.saturating_duration_since(start),
        cpu: cpu1.saturating_sub(cpu0),
    })
}

/// Both directions through the relay of `call`: `opt.packets` per direction spread over its
/// calls.
pub fn measure(call: &mut Call, opt: &Options) -> Result<(Run, Run), String> {
    let tck = stat::clk_tck();
    let k = call.legs.len().max(1);
    let rounds = WARMUP + opt.packets.div_ceil(k);
    let warm = WARMUP * k;
    let n = rounds * k;
    let ssrc_ue = 0x5eed_0000;
    let ssrc_core = 0x7eed_0000;
    let access: Vec<SocketAddr> = call.legs.iter().map(|l| l.relay_access).collect();
    let core: Vec<SocketAddr> = call.legs.iter().map(|l| l.relay_core).collect();
    // UE -> relay: SRTP encrypted in advance, each call with its own keys
    let legs = &mut call.legs;
    let first = call.used;
    call.used += rounds as u64;
    let up = Batch::build(first, rounds, k, ssrc_ue, |c, b, len| {
        legs[c]
            .srtp
            .protect(b, len)
            .map_err(|e| format!("protect: {e:?}"))
    })?;
    let down = Batch::build(first, rounds, k, ssrc_core, |_, _, len| Ok(len))?;
    // warm-up (and check): the relay passes the UE's packets as the same plain RTP
    let w = run_dir(
        call.pid,
        tck,
        &call.ue,
        &access,
        &up,
        0..warm,
        20_000,
        &call.core,
        |_, p| {
            let m = marker_of(p).ok_or("short packet at the core")?;
            let ssrc = u32::from_be_bytes([p[8], p[9], p[10], p[11]]);
            if m < first {
                return Ok(()); // late from an earlier run
            }
            // (order is not checked: a multi-threaded relay may reorder)
            if p.len() != RTP_LEN
                || !(first..first + WARMUP as u64).contains(&m)
                || !(ssrc_ue..ssrc_ue + k as u32).contains(&ssrc)
            {
                return Err(format!(
                    "core got a wrong packet ({} octets, index {m}): {:02x?}",
                    p.len(),
                    &p[..20.min(p.len())]
                ));
            }
            Ok(())
        },
    )?;
    // (a relay starved of CPU on a shared machine may drop some: content is what counts)
    if w.relayed * 10 < warm as u64 {
        return Err(format!(
            "warm-up: only {} of {warm} SRTP packets came out as RTP",
            w.relayed
        ));
    }
    let by_addr: std::collections::HashMap<SocketAddr, usize> =
        access.iter().enumerate().map(|(i, a)| (*a, i)).collect();
    let legs = &mut call.legs;
    let mut checked = 0;
    let w = run_dir(
        call.pid,
        tck,
        &call.core,
        &core,
        &down,
        0..warm,
        20_000,
        &call.ue,
        |from, p| {
            // RTP only (a late DTLS retransmission is not media)
            if checked < 200 && (128..=191).contains(&p[0]) {
                checked += 1;
                let c = *by_addr.get(&from).ok_or("SRTP from an unknown address")?;
                let (len, _) = legs[c]
                    .srtp
                    .unprotect(p)
                    .map_err(|e| format!("UE cannot unprotect the relay's SRTP: {e:?}"))?;
                if len != RTP_LEN || marker_of(&p[..len]).is_none() {
                    return Err("UE got a wrong packet".into());
                }
            }
            Ok(())
        },
    )?;
    if w.relayed * 10 < warm as u64 {
        return Err(format!(
            "warm-up: only {} of {warm} RTP packets came out as SRTP",
            w.relayed
        ));
    }
    eprintln!("iq-bench: warm-up passed, measuring");
    let a = run_dir(
        call.pid,
        tck,
        &call.ue,
        &access,
        &up,
        warm..n,
        opt.rate,
        &call.core,
        |_, _| Ok(()),
    )?;
    let b = run_dir(
        call.pid,
        tck,
        &call.core,
        &core,
        &down,
        warm..n,
        opt.rate,
        &call.ue,
        |_, _| Ok(()),
    )?;
    Ok((a, b))
}

/// The UE's DTLS server handshakes (the AGW answered `a=setup:active`) with every relay
/// address in `peers` at once on the one UE socket, told apart by source address: the SRTP
/// sessions in the order of `peers`.
fn ue_dtls(
    sock: &UdpSocket,
    peers: &[(SocketAddr, Fingerprint)],
    cert: &Certificate,
) -> Result<Vec<SrtpSession>, String> {
    let mut assocs = Vec::with_capacity(peers.len());
    let mut index = std::collections::HashMap::new();
    for (i, (addr, fp)) in peers.iter().enumerate() {
        let a = DtlsAssoc::server(
            cert,
            std::slice::from_ref(fp),
            &[SRTP_AES128_CM_HMAC_SHA1_80],
        )?;
        assocs.push(a);
        index.insert(*addr, i);
    }
    let mut sessions: Vec<Option<SrtpSession>> = (0..peers.len()).map(|_| None).collect();
    let mut left = peers.len();
    let deadline = Instant::now() + Duration::from_secs(30 + peers.len() as u64 / 10);
    let mut buf = [0u8; 4096];
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .map_err(|e| e.to_string())?;
    loop {
        for (i, a) in assocs.iter_mut().enumerate() {
            while let Some(d) = a.poll_transmit() {
                sock.send_to(&d, peers[i].0).map_err(|e| e.to_string())?;
            }
        }
        if left == 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("UE DTLS: {left} handshakes not done in time"));
        }
        let now = Instant::now();
        match sock.recv_from(&mut buf) {
            Ok((n, from)) if (20..=63).contains(&buf[0]) => {
                let Some(&i) = index.get(&from) else {
                    continue;
                };
                match assocs[i].handle(now, &buf[..n]) {
                    Some(DtlsOutcome::Connected {
                        profile,
                        keying_material,
                        ..
                    }) => {
                        sessions[i] = Some(
                            SrtpSession::for_certificate(profile, &keying_material, false, cert)
                                .map_err(|e| format!("SRTP keys: {e:?}"))?,
                        );
                        left -= 1;
                    }
                    Some(o) => return Err(format!("UE DTLS with {from}: {o:?}")),
                    None => {}
                }
            }
            Ok(_) => {}
            // (a server before the ClientHello has no timer)
            Err(_) => {
                for a in &mut assocs {
                    if a.poll_timeout().is_some_and(|t| t <= now) {
                        if let Some(DtlsOutcome::Failed(e)) = a.handle_timeout(now) {
                            return Err(format!("UE DTLS: {e}"));
                        }
                    }
                }
            }
        }
    }
    Ok(sessions.into_iter().flatten().collect())
}

/// `iq-alg` + `iq-agw` (release builds in `bin_dir`), `calls` calls set up through the ALG's
/// ng front as a SIP proxy would (the UE offers DTLS-SRTP `actpass`, the core answers
/// RTP/AVP; the AGW is the DTLS client), the UE's DTLS handshake done for each: the calls and
/// the daemons (kept alive while measuring).
pub fn agw_call(bin_dir: &Path, calls: usize) -> Result<(Call, Vec<Daemon>), String> {
    let ng_port = free_port()?;
    let alg_cfg = format!(
        "[iq]\ntransport = \"tcp\"\nlisten = \"127.0.0.1:0\"\nencoding = \"text\"\n\
         mid = \"<alg1.example.net>\"\nkeepalive_secs = 30\n\n[ng]\nlisten = \"127.0.0.1:{ng_port}\"\n\n\
         [[agw]]\nmid = \"<agw1.example.net>\"\naddress = \"127.0.0.1\"\n"
    );
    let mut alg = Daemon::iq("alg", &bin_dir.join("iq-alg"), &alg_cfg)?;
    let line = alg.wait_for(&["listening on"], Duration::from_secs(10))?;
    let iq: SocketAddr = line
        .rsplit("listening on ")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("iq-alg: no address in {line:?}"))?;
    let agw_cfg = format!(
        "[iq]\ntransport = \"tcp\"\ncontroller = \"{iq}\"\ncontroller_mid = \"<alg1.example.net>\"\n\
         encoding = \"text\"\nmid = \"<agw1.example.net>\"\n\n\
         [[media.realm]]\nname = \"access\"\naddress = \"127.0.0.1\"\nports = \"41000-44999\"\n\n\
         [[media.realm]]\nname = \"core\"\naddress = \"127.0.0.1\"\nports = \"45000-48999\"\n"
    );
    let mut agw = Daemon::iq("agw", &bin_dir.join("iq-agw"), &agw_cfg)?;
    agw.wait_for(&["registered"], Duration::from_secs(10))?;
    let cert = Certificate::generate().map_err(|e| e.to_string())?;
    let ue = bind()?;
    let core = bind()?;
    let mut ng = Ng::new(
        format!("127.0.0.1:{ng_port}")
            .parse()
            .map_err(|_| "ng addr")?,
    )?;
    let ue_sdp = sdp::audio(
        port_of(&ue),
        1,
        "UDP/TLS/RTP/SAVP",
        &[
            format!("a=fingerprint:{}", cert.fingerprint()),
            "a=setup:actpass".into(),
            "a=tls-id:bench0123456789abcdefgh".into(),
        ],
    );
    let core_sdp = sdp::audio(port_of(&core), 2, "RTP/AVP", &[]);
    let mut peers = Vec::with_capacity(calls);
    for c in 0..calls {
        let id = format!("bench-agw-{c}");
        let to_core = ng.call_sdp(&req(
            &[
                ("command", "offer"),
                ("call-id", &id),
                ("from-tag", "ft"),
                ("sdp", &ue_sdp),
            ],
            &[],
        ))?;
        let relay_core = sdp::media_addr(&to_core).ok_or("no media address towards the core")?;
        let to_ue = ng.call_sdp(&req(
            &[
                ("command", "answer"),
                ("call-id", &id),
                ("from-tag", "ft"),
                ("to-tag", "tt"),
                ("sdp", &core_sdp),
            ],
            &[],
        ))?;
        let relay_access = sdp::media_addr(&to_ue).ok_or("no media address towards the UE")?;
        let fp = sdp::attr(&to_ue, "a=fingerprint:")
            .and_then(Fingerprint::parse_sdp)
            .ok_or("no AGW fingerprint")?;
        if sdp::attr(&to_ue, "a=setup:") != Some("active") {
            return Err(format!("expected a=setup:active towards the UE:\n{to_ue}"));
        }
        peers.push((relay_access, fp, relay_core));
        agw.drain();
        alg.drain();
    }
    let t = Instant::now();
    let dtls: Vec<(SocketAddr, Fingerprint)> =
        peers.iter().map(|(a, f, _)| (*a, f.clone())).collect();
    let sessions = ue_dtls(&ue, &dtls, &cert)?;
    let legs: Vec<Leg> = sessions
        .into_iter()
        .zip(&peers)
        .map(|(srtp, (relay_access, _, relay_core))| Leg {
            relay_access: *relay_access,
            relay_core: *relay_core,
            srtp,
        })
        .collect();
    eprintln!("iq-bench: {calls} DTLS handshakes in {:?}", t.elapsed());
    eprintln!("iq-bench: {calls} calls through iq-agw set up");
    let pid = agw.pid();
    Ok((
        Call {
            ue,
            core,
            legs,
            pid,
            used: 0,
        },
        vec![agw, alg],
    ))
}

/// A weak generator for the SDES keys (benchmark keys, not secrets).
struct Xorshift(u64);

impl Xorshift {
    fn new() -> Xorshift {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Xorshift(t ^ (u64::from(std::process::id()) << 32) | 1)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 >> 24) as u8
            })
            .collect()
    }
}

/// Debian's `rtpengine` in userspace (`--table=-1`, foreground, its own configuration with one
/// worker thread, as iq-agw's media plane has), `calls` calls set up by the same ng
/// offer/answer, SDES (`a=crypto` AES_CM_128_HMAC_SHA1_80) on the UE side and RTP/AVP towards
/// the core.
pub fn rtpengine_call(bin: &Path, calls: usize) -> Result<(Call, Vec<Daemon>), String> {
    let ng_port = free_port()?;
    let dir = scratch("rtpengine")?;
    let conf = dir.join("rtpengine.conf");
    std::fs::write(
        &conf,
        format!(
            "[rtpengine]\ntable = -1\ninterface = 127.0.0.1\nlisten-ng = 127.0.0.1:{ng_port}\n\
             port-min = 50000\nport-max = 59999\nnum-threads = 1\nlog-level = 5\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new(bin);
    cmd.arg(format!("--config-file={}", conf.display())).args([
        "--foreground",
        "--log-stderr",
        "--table=-1",
    ]);
    let mut d = Daemon::spawn("rtpengine", cmd, dir)?;
    let mut ng = Ng::new(
        format!("127.0.0.1:{ng_port}")
            .parse()
            .map_err(|_| "ng addr")?,
    )?;
    let mut up = false;
    for _ in 0..20 {
        if ng.call(&req(&[("command", "ping")], &[])).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !up {
        return Err(format!("rtpengine does not answer ng ping: {}", d.tail()));
    }
    let ue = bind()?;
    let core = bind()?;
    let suite = "AES_CM_128_HMAC_SHA1_80";
    let core_sdp = sdp::audio(port_of(&core), 2, "RTP/AVP", &[]);
    let mut rng = Xorshift::new();
    let mut legs = Vec::with_capacity(calls);
    for c in 0..calls {
        let id = format!("bench-rtpengine-{c}");
        let ue_key = rng.bytes(30);
        let ue_sdp = sdp::audio(
            port_of(&ue),
            1,
            "RTP/SAVP",
            &[sdp::crypto_line(1, suite, &ue_key)],
        );
        let to_core = ng.call_sdp(&req(
            &[
                ("command", "offer"),
                ("call-id", &id),
                ("from-tag", "ft"),
                ("transport-protocol", "RTP/AVP"),
                ("ICE", "remove"),
                ("DTLS", "off"),
                ("sdp", &ue_sdp),
            ],
            &[],
        ))?;
        let relay_core = sdp::media_addr(&to_core).ok_or("no media address towards the core")?;
        let to_ue = ng.call_sdp(&req(
            &[
                ("command", "answer"),
                ("call-id", &id),
                ("from-tag", "ft"),
                ("to-tag", "tt"),
                ("sdp", &core_sdp),
            ],
            &[],
        ))?;
        let relay_access = sdp::media_addr(&to_ue).ok_or("no media address towards the UE")?;
        let their = sdp::sdes_key(&to_ue, suite)
            .filter(|k| k.len() == 30)
            .ok_or_else(|| format!("no {suite} a=crypto in rtpengine's answer:\n{to_ue}"))?;
        // SrtpSession wants the RFC 5764 layout: client key, server key, client salt, server salt
        let mut km = Vec::with_capacity(60);
        km.extend_from_slice(&ue_key[..16]);
        km.extend_from_slice(&their[..16]);
        km.extend_from_slice(&ue_key[16..]);
        km.extend_from_slice(&their[16..]);
        let cert = Certificate::generate().map_err(|e| e.to_string())?;
        let srtp = SrtpSession::for_certificate(SRTP_AES128_CM_HMAC_SHA1_80, &km, true, &cert)
            .map_err(|e| format!("SRTP keys: {e:?}"))?;
        legs.push(Leg {
            relay_access,
            relay_core,
            srtp,
        });
        d.drain();
    }
    eprintln!("iq-bench: {calls} calls through rtpengine set up");
    let pid = d.pid();
    Ok((
        Call {
            ue,
            core,
            legs,
            pid,
            used: 0,
        },
        vec![d],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_packets_carry_their_index() {
        let mut p = [0u8; RTP_LEN];
        rtp_packet(&mut p, 0xdead_beef, 70_000);
        assert_eq!(p[0] >> 6, 2, "RTP version 2");
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), (70_000 % 65_536) as u16);
        assert_eq!(&p[8..12], &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(marker_of(&p), Some(70_000));
        assert_eq!(marker_of(&p[..15]), None);
    }

    #[test]
    fn run_figures_follow_the_counts() {
        let r = Run {
            offered: 1000,
            relayed: 500,
            send_wall: Duration::from_millis(10),
            wall: Duration::from_millis(20),
            cpu: Duration::from_millis(5),
        };
        assert!((r.offered_pps() - 100_000.0).abs() < 1e-6);
        assert!((r.relayed_pps() - 25_000.0).abs() < 1e-6);
        assert!((r.cpu_ns_per_packet() - 10_000.0).abs() < 1e-6);
        assert!((r.pps_per_core() - 100_000.0).abs() < 1e-6);
    }
}
