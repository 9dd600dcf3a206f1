//! Figure 2: full DTLS handshakes per second per core on the AGW side. The AGW's own
//! association ([`iq_agw::media::dtls::DtlsAssoc`], what its access leg runs) against a UE
//! built from the same code, in memory: DTLS 1.2, ECDSA P-256 certificates on both sides, the
//! server requiring the client's certificate, both checking the peer's SHA-256 fingerprint
//! (RFC 8122), use_srtp, the RFC 5764 key export. Only the gateway side's calls are timed
//! (this thread's CPU clock around them), as in the OpenSSL peer (`bench/c/dtls_openssl.c`).

use std::time::{Duration, Instant};

use iq_agw::media::cert::Certificate;
use iq_agw::media::dtls::{DtlsAssoc, DtlsOutcome};
use iq_agw::media::srtp::{DEFAULT_PROFILES, SRTP_AES128_CM_HMAC_SHA1_80};

use crate::stat::thread_cpu;

/// Which side the gateway plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GwRole {
    /// The UE offered `actpass`/`active`: the AGW accepts the ClientHello.
    Server,
    /// The AGW answered `a=setup:active` (figure 6.2.10.5.1 default): it connects.
    Client,
}

/// Result of `n` handshakes.
#[derive(Debug, Clone, Copy)]
pub struct Result {
    /// Gateway-side CPU per handshake.
    pub gw_cpu: Duration,
    /// Peer-side CPU per handshake (the UE).
    pub peer_cpu: Duration,
}

fn timed<T>(acc: &mut Duration, f: impl FnOnce() -> T) -> T {
    let t0 = thread_cpu();
    let r = f();
    *acc += thread_cpu().saturating_sub(t0);
    r
}

/// One handshake; `Ok` when both sides connected with the same keying material.
fn one(
    gw_cert: &Certificate,
    ue_cert: &Certificate,
    role: GwRole,
    gw: &mut Duration,
    ue: &mut Duration,
) -> std::result::Result<(), String> {
    let now = Instant::now();
    let ue_prof = [SRTP_AES128_CM_HMAC_SHA1_80];
    let gfp = std::slice::from_ref(gw_cert.fingerprint());
    let ufp = std::slice::from_ref(ue_cert.fingerprint());
    // (side 0 = gateway, side 1 = UE)
    let mut sides = match role {
        GwRole::Server => [
            timed(gw, || DtlsAssoc::server(gw_cert, ufp, &DEFAULT_PROFILES))?,
            timed(ue, || DtlsAssoc::client(now, ue_cert, gfp, &ue_prof))?,
        ],
        GwRole::Client => [
            timed(gw, || {
                DtlsAssoc::client(now, gw_cert, ufp, &DEFAULT_PROFILES)
            })?,
            timed(ue, || DtlsAssoc::server(ue_cert, gfp, &ue_prof))?,
        ],
    };
    let mut keys: [Option<Vec<u8>>; 2] = [None, None];
    for _ in 0..40 {
        if keys.iter().all(Option::is_some) {
            break;
        }
        for from in 0..2 {
            let to = 1 - from;
            loop {
                let acc = if from == 0 { &mut *gw } else { &mut *ue };
                let Some(d) = timed(acc, || sides[from].poll_transmit()) else {
                    break;
                };
                let acc = if to == 0 { &mut *gw } else { &mut *ue };
                match timed(acc, || sides[to].handle(now, &d)) {
                    Some(DtlsOutcome::Connected {
                        keying_material, ..
                    }) => keys[to] = Some(keying_material),
                    Some(o) => return Err(format!("handshake: {o:?}")),
                    None => {}
                }
            }
        }
    }
    match keys {
        [Some(a), Some(b)] if a == b => Ok(()),
        [Some(_), Some(_)] => Err("the two sides exported different keys".into()),
        _ => Err("the handshake did not complete".into()),
    }
}

/// `n` handshakes with the gateway in `role` (one certificate per side for the whole run, as
/// the AGW has one certificate).
pub fn run(n: u64, role: GwRole) -> std::result::Result<Result, String> {
    let gw_cert = Certificate::generate().map_err(|e| e.to_string())?;
    let ue_cert = Certificate::generate().map_err(|e| e.to_string())?;
    let (mut gw, mut ue) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..n {
        one(&gw_cert, &ue_cert, role, &mut gw, &mut ue)?;
    }
    let n32 = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    Ok(Result {
        gw_cpu: gw / n32,
        peer_cpu: ue / n32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshakes_complete_in_both_roles_and_cost_cpu_on_both_sides() {
        for role in [GwRole::Server, GwRole::Client] {
            let r = run(2, role).expect("handshakes");
            // an ECDSA signature and ECDH at least on each side: far above zero
            assert!(r.gw_cpu > Duration::from_micros(50), "{role:?} {r:?}");
            assert!(r.peer_cpu > Duration::from_micros(50), "{role:?} {r:?}");
        }
    }

    #[test]
    fn a_wrong_fingerprint_fails_the_handshake() {
        let gw = Certificate::generate().unwrap();
        let ue = Certificate::generate().unwrap();
        let other = Certificate::generate().unwrap();
        let (mut a, mut b) = (Duration::ZERO, Duration::ZERO);
        // the UE expects another gateway's certificate
        let now = Instant::now();
        let mut srv = DtlsAssoc::server(
            &gw,
            std::slice::from_ref(ue.fingerprint()),
            &DEFAULT_PROFILES,
        )
        .unwrap();
        let mut cli = DtlsAssoc::client(
            now,
            &ue,
            std::slice::from_ref(other.fingerprint()),
            &[SRTP_AES128_CM_HMAC_SHA1_80],
        )
        .unwrap();
        let mut failed = false;
        for _ in 0..20 {
            while let Some(d) = cli.poll_transmit() {
                failed |= matches!(srv.handle(now, &d), Some(DtlsOutcome::Failed(_)));
            }
            while let Some(d) = srv.poll_transmit() {
                failed |= matches!(cli.handle(now, &d), Some(DtlsOutcome::Failed(_)));
            }
        }
        assert!(failed, "no side failed");
        // and our driver reports the good pair as fine
        assert!(one(&gw, &ue, GwRole::Server, &mut a, &mut b).is_ok());
    }
}
