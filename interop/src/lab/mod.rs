//! `iq-interop lab`: the ALG and the AGW as separate processes, this tool as the SIP proxy
//! (ng client), the UE and the core peer; both figures of TS 23.334 6.2.10.5 end to end with
//! real ICE, DTLS-SRTP and RTP, a ladder of what crossed each interface and a verdict.
//!
//! The Iq association runs through a relay in the lab (same transport both sides), so every
//! H.248 message is seen, summarised and captured; the UE's media runs through a relay on the
//! access leg (the SDP each side gets names the relay), so the lab sees and counts every
//! STUN/DTLS/SRTP packet; the core peer is the lab itself.

pub(crate) mod daemons;
mod iq;
mod media;
mod netns;
mod ng;
pub(crate) mod pcap;
mod sdp;
mod ue;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iq_link::transport::TransportKind;

use daemons::Daemon;
use iq::Log;
use media::{AccessRelay, CorePeer};
use pcap::Seen;
pub use ue::UeKind;

/// Iq transport choice on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// SCTP (H.248.4); needs kernel SCTP.
    Sctp,
    /// TCP with TPKT framing.
    Tcp,
    /// UDP with application-level framing.
    Udp,
}

/// H.248 encoding of the Iq association on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum IqEncoding {
    /// Annex B text.
    #[default]
    Text,
    /// Annex A binary (ASN.1 BER).
    Binary,
}

impl IqEncoding {
    /// The daemons' configuration value.
    pub fn config_value(self) -> &'static str {
        match self {
            IqEncoding::Text => "text",
            IqEncoding::Binary => "binary",
        }
    }
}

/// `iq-interop lab` options.
#[derive(Debug, clap::Args)]
pub struct LabArgs {
    /// The UE: builtin (`iq-interop agent ue`; the default when this build has it), aiortc
    /// (`interop/peers/webrtc/ue.py`) or openssl (`dtls_ue.py`, OpenSSL + libsrtp, no ICE).
    /// The Python UEs use `$IQ_ORACLE_PYTHON`.
    #[arg(long, value_enum)]
    pub ue: Option<UeKind>,
    /// Iq transport; default SCTP when the kernel has it, else TCP.
    #[arg(long, value_enum)]
    pub transport: Option<Transport>,
    /// H.248 encoding of the Iq association (both daemons are configured with it).
    #[arg(long, value_enum, default_value_t = IqEncoding::Text)]
    pub encoding: IqEncoding,
    /// Seconds of 20 ms audio per figure.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Directory with `iq-agw` and `iq-alg` (default: next to this executable, else PATH).
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
    /// Keep the directory with the configurations and logs (and print it).
    #[arg(long)]
    pub keep: bool,
    /// Show full SDP, ng and H.248 messages.
    #[arg(long)]
    pub verbose: bool,
    /// Write everything the lab saw (Iq and media) to this pcap file.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Two-node deployment in network namespaces (needs root and iproute2): ALG host, AGW
    /// host, the UE's access network and the core network, each a namespace of this run.
    #[arg(long)]
    pub netns: bool,
    /// Remove the namespaces and links left behind by `--netns` runs that crashed (runs still
    /// going are left alone), then exit.
    #[arg(long, conflicts_with = "netns")]
    pub netns_cleanup: bool,
}

/// Where each party lives (loopback: all 127.0.0.1; netns: one address per network).
#[derive(Debug, Clone)]
pub(crate) struct Topology {
    /// ALG: Iq listen address and ng address.
    pub alg_ip: IpAddr,
    /// ALG address as the lab's ng client reaches it.
    pub alg_ng_ip: IpAddr,
    /// The AGW's address towards the ALG.
    pub agw_ctl_ip: IpAddr,
    /// The AGW's access realm address.
    pub agw_access_ip: IpAddr,
    /// The AGW's core realm address.
    pub agw_core_ip: IpAddr,
    /// The lab's own address for the ng client.
    pub lab_ip: IpAddr,
    /// The UE's address.
    pub ue_ip: IpAddr,
    /// The core peer's address.
    pub core_ip: IpAddr,
    /// Command prefixes per process (`ip netns exec NS`).
    pub wrap_alg: Vec<String>,
    /// AGW prefix.
    pub wrap_agw: Vec<String>,
    /// UE prefix.
    pub wrap_ue: Vec<String>,
    /// Core peer prefix; when set, the core peer is a process (`iq-interop agent core`) in
    /// that network instead of a socket of the lab.
    pub wrap_core: Vec<String>,
    /// The well-known ports (Iq 2944, ng 2223, media 20000+ and 30000+) instead of free ones
    /// picked on loopback: the namespaces are the run's own.
    pub fixed_ports: bool,
    /// Relays (Iq and access media) in the lab; off in the netns deployment, where the
    /// processes talk to each other directly.
    pub relays: bool,
}

impl Topology {
    fn loopback() -> Topology {
        let l = IpAddr::V4(Ipv4Addr::LOCALHOST);
        Topology {
            alg_ip: l,
            alg_ng_ip: l,
            agw_ctl_ip: l,
            agw_access_ip: l,
            agw_core_ip: l,
            lab_ip: l,
            ue_ip: l,
            core_ip: l,
            wrap_alg: Vec::new(),
            wrap_agw: Vec::new(),
            wrap_ue: Vec::new(),
            wrap_core: Vec::new(),
            fixed_ports: false,
            relays: true,
        }
    }
}

/// Entry point.
pub fn run(args: LabArgs) -> ExitCode {
    if args.netns_cleanup {
        return netns::cleanup_leftovers();
    }
    if args.netns {
        return netns::run(args);
    }
    let code = match Lab::run(&args, Topology::loopback()) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("iq-interop lab: {e}");
            2
        }
    };
    ExitCode::from(code)
}

/// The UE kind: as asked, else builtin when this build has the agent, else aiortc.
fn choose_ue(asked: Option<UeKind>) -> UeKind {
    if let Some(k) = asked {
        return k;
    }
    let builtin = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            std::process::Command::new(exe)
                .args(["agent", "ue", "--help"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .ok()
        })
        .is_some_and(|s| s.success());
    if builtin {
        UeKind::Builtin
    } else {
        println!("lab: this build has no `iq-interop agent ue`; the UE is aiortc (ue.py)");
        UeKind::Aiortc
    }
}

/// The transport: as asked, else SCTP when the kernel has it, else TCP (one line says so).
fn choose_transport(asked: Option<Transport>) -> Result<TransportKind, String> {
    match asked {
        Some(Transport::Tcp) => Ok(TransportKind::Tcp),
        Some(Transport::Udp) => Ok(TransportKind::Udp),
        Some(Transport::Sctp) => iq_link::transport::sctp::probe()
            .map(|_| TransportKind::Sctp)
            .map_err(|e| format!("--transport sctp: {e}")),
        None => match iq_link::transport::sctp::probe() {
            Ok(()) => Ok(TransportKind::Sctp),
            Err(e) => {
                println!("lab: no kernel SCTP here ({e}); Iq runs over TCP (TPKT) instead");
                Ok(TransportKind::Tcp)
            }
        },
    }
}

/// The RFC 5764 name of an SRTP protection profile number (as the AGW logs it).
fn srtp_profile_name(n: &str) -> String {
    match n {
        "1" => "SRTP_AES128_CM_SHA1_80".into(),
        "2" => "SRTP_AES128_CM_SHA1_32".into(),
        "7" => "SRTP_AEAD_AES_128_GCM".into(),
        "8" => "SRTP_AEAD_AES_256_GCM".into(),
        other => other.to_string(),
    }
}

/// The core side of a figure: the lab's own socket (loopback) or our core agent process in
/// the core network (namespaces).
enum Core {
    Peer(CorePeer, String),
    Agent(ue::Ue),
}

/// The core side while the media runs.
enum CoreRun {
    Thread(std::thread::JoinHandle<media::CoreResult>),
    Agent(ue::Ue),
}

/// One checked step.
#[derive(Debug, Clone)]
struct Step {
    name: String,
    ok: bool,
}

/// The running lab.
pub(crate) struct Lab<'a> {
    args: &'a LabArgs,
    topo: Topology,
    kind: TransportKind,
    ue_kind: UeKind,
    log: Log,
    iq_seen: usize,
    alg_iq: SocketAddr,
    alg: Daemon,
    agw: Daemon,
    ng: ng::Ng,
    dir: PathBuf,
}

impl<'a> Lab<'a> {
    /// Start everything and run both figures; Ok(all passed).
    pub(crate) fn run(args: &'a LabArgs, topo: Topology) -> Result<bool, String> {
        let kind = choose_transport(args.transport)?;
        let alg_bin = daemons::find_binary("iq-alg", args.bin_dir.as_deref())?;
        let agw_bin = daemons::find_binary("iq-agw", args.bin_dir.as_deref())?;
        let ue_kind = choose_ue(args.ue);
        let self_exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("iq-lab-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let result = Self::run_in(
            args, topo, kind, ue_kind, &alg_bin, &agw_bin, &self_exe, &dir,
        );
        if args.keep {
            println!("lab: configurations and logs kept in {}", dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&dir);
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn run_in(
        args: &'a LabArgs,
        topo: Topology,
        kind: TransportKind,
        ue_kind: UeKind,
        alg_bin: &std::path::Path,
        agw_bin: &std::path::Path,
        self_exe: &std::path::Path,
        dir: &std::path::Path,
    ) -> Result<bool, String> {
        let log: Log = Arc::new(Mutex::new(Vec::new()));
        // the ALG: Iq and ng on free ports it picks and logs
        let alg_cfg = dir.join("alg.toml");
        let write = |p: &std::path::Path, s: &str| {
            std::fs::write(p, s).map_err(|e| format!("{}: {e}", p.display()))
        };
        let agw_seen_ip = if topo.relays {
            topo.lab_ip
        } else {
            topo.agw_ctl_ip
        };
        let (iq_port, ng_port) = if topo.fixed_ports {
            (iq_link::transport::H248_TEXT_PORT, 2223)
        } else {
            (0, 0)
        };
        write(
            &alg_cfg,
            &daemons::alg_config(
                kind,
                args.encoding,
                SocketAddr::new(topo.alg_ip, iq_port),
                SocketAddr::new(topo.alg_ng_ip, ng_port),
                agw_seen_ip,
                topo.lab_ip,
            ),
        )?;
        let mut alg = Daemon::start("alg", alg_bin, &alg_cfg, dir, &topo.wrap_alg)?;
        let line = alg.wait_for(&["listening on"], Duration::from_secs(10))?;
        let alg_iq = daemons::addr_after(&line, "listening on ")
            .ok_or_else(|| format!("no Iq address in the ALG's log line {line:?}"))?;
        let line = alg.wait_for(&["ng control on"], Duration::from_secs(10))?;
        let ng_addr = daemons::addr_after(&line, "ng control on ")
            .ok_or_else(|| format!("no ng address in the ALG's log line {line:?}"))?;
        let ng_addr = SocketAddr::new(topo.alg_ng_ip, ng_addr.port());
        let controller = if topo.relays {
            iq::start_relay(kind, SocketAddr::new(topo.lab_ip, 0), alg_iq, log.clone())?
        } else {
            alg_iq
        };
        let access = if topo.fixed_ports {
            (20_000, 20_039)
        } else {
            daemons::free_port_range(topo.agw_access_ip, 40)?
        };
        let core = if topo.fixed_ports {
            (30_000, 30_039)
        } else if topo.agw_core_ip == topo.agw_access_ip {
            let mut c;
            loop {
                c = daemons::free_port_range(topo.agw_core_ip, 40)?;
                if c.1 < access.0 || c.0 > access.1 {
                    break;
                }
            }
            c
        } else {
            daemons::free_port_range(topo.agw_core_ip, 40)?
        };
        let agw_cfg = dir.join("agw.toml");
        write(
            &agw_cfg,
            &daemons::agw_config(
                kind,
                args.encoding,
                controller,
                (!topo.relays).then_some(topo.agw_ctl_ip),
                (topo.agw_access_ip, access),
                (topo.agw_core_ip, core),
            ),
        )?;
        let mut agw = Daemon::start("agw", agw_bin, &agw_cfg, dir, &topo.wrap_agw)?;
        agw.wait_for(&["registered"], Duration::from_secs(15))
            .map_err(|e| format!("{e}\nthe ALG's last log lines:\n{}", alg.tail(10)))?;
        let ng = ng::Ng::new(topo.lab_ip, ng_addr)?;
        println!("iq-interop lab");
        println!(
            "  ALG  {} (Iq {kind} {alg_iq}, ng {ng_addr}, H.248 {})",
            alg_bin.display(),
            args.encoding.config_value()
        );
        println!(
            "  AGW  {} (access {}:{}-{}, core {}:{}-{})",
            agw_bin.display(),
            topo.agw_access_ip,
            access.0,
            access.1,
            topo.agw_core_ip,
            core.0,
            core.1
        );
        if topo.relays {
            println!("  Iq relay {controller} (the AGW registers through the lab)");
        }
        println!("  UE   {} at {}", ue_kind.label(), topo.ue_ip);
        if !topo.wrap_core.is_empty() {
            println!("  core iq-interop agent core at {}", topo.core_ip);
        }
        if !topo.relays {
            println!(
                "  no relays: the AGW registered with the ALG directly and the UE talks to the AGW \
                 directly, so the ladder does not show the Iq transactions, the access leg's \
                 packet counts nor which side sent the DTLS ClientHello; checked instead: the \
                 AGW's registration, the UE's ICE and DTLS report (state, role), the AGW's \
                 \"DTLS connected\" and \"context deleted\" log lines, the media at both ends"
            );
        }
        let mut lab = Lab {
            args,
            topo,
            kind,
            ue_kind,
            log,
            iq_seen: 0,
            alg_iq,
            alg,
            agw,
            ng,
            dir: dir.to_path_buf(),
        };
        lab.print_iq();
        let f1 = lab.figure(true, self_exe);
        let f2 = lab.figure(false, self_exe);
        lab.agw.stop();
        lab.alg.stop();
        lab.print_iq();
        if let Some(p) = &args.pcap {
            lab.write_pcap(p)?;
        }
        println!();
        let verdict = |name: &str, r: &Result<Vec<Step>, String>| -> bool {
            match r {
                Ok(steps) => match steps.iter().find(|s| !s.ok) {
                    None => {
                        println!("figure {name}: PASS ({} steps)", steps.len());
                        true
                    }
                    Some(s) => {
                        println!("figure {name}: FAIL at step \"{}\"", s.name);
                        false
                    }
                },
                Err(e) => {
                    println!("figure {name}: FAIL: {e}");
                    false
                }
            }
        };
        let ok1 = verdict("6.2.10.5.1 (UE offers)", &f1);
        let ok2 = verdict("6.2.10.5.2 (core offers)", &f2);
        let _ = &lab.dir;
        Ok(ok1 && ok2)
    }

    fn write_pcap(&self, path: &std::path::Path) -> Result<(), String> {
        let mut w = pcap::PcapWriter::new();
        let alg = self.alg_iq;
        let map = move |a: SocketAddr| {
            if a == alg {
                SocketAddr::new(a.ip(), iq_link::transport::H248_TEXT_PORT)
            } else {
                a
            }
        };
        let recs = self.log.lock().map(|l| l.clone()).unwrap_or_default();
        let mut recs = recs;
        recs.sort_by_key(|r| r.at);
        for r in &recs {
            w.record(r, &map);
        }
        let n = w.frames;
        std::fs::write(path, w.into_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
        println!(
            "pcap: {n} frames in {} (Iq on port {} as H.248 {} {}; media as UDP)",
            path.display(),
            iq_link::transport::H248_TEXT_PORT,
            self.kind,
            self.args.encoding.config_value()
        );
        Ok(())
    }

    /// Print the Iq messages the relay saw since the last call.
    fn print_iq(&mut self) {
        let new: Vec<_> = self
            .log
            .lock()
            .map(|l| {
                l.iter()
                    .filter_map(|r| match &r.what {
                        Seen::Iq { src, data, .. } => Some((*src, data.clone())),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (src, data) in new.iter().skip(self.iq_seen) {
            let dir = if *src == self.alg_iq {
                "ALG -> AGW"
            } else {
                "AGW -> ALG"
            };
            for s in iq::summarise(data) {
                println!("  Iq    {dir}  {s}");
            }
            if self.args.verbose {
                for l in String::from_utf8_lossy(data).lines() {
                    println!("          | {l}");
                }
            }
        }
        self.iq_seen = new.len();
    }

    fn sdp_line(&self, who: &str, sdp: &str) {
        println!("  SDP   {who:<24} {}", sdp::summary(sdp));
        if self.args.verbose {
            for l in sdp.lines() {
                println!("          | {l}");
            }
        }
    }

    fn ng_call(
        &mut self,
        what: &str,
        pairs: Vec<(&str, iq_alg::ng::bencode::Value)>,
    ) -> Result<iq_alg::ng::bencode::Value, String> {
        println!("  ng    SIP proxy -> ALG        {what}");
        let before = self.ng.transcript.len();
        let r = self.ng.call(pairs);
        // the Iq transactions the request caused; give the relay a moment for the last reply
        std::thread::sleep(Duration::from_millis(50));
        self.print_iq();
        if let Ok(v) = &r {
            println!("  ng    ALG -> SIP proxy        {what}: {}", ng::result(v));
        }
        if self.args.verbose {
            for l in &self.ng.transcript[before..] {
                println!("          | {l}");
            }
        }
        r
    }

    fn check(steps: &mut Vec<Step>, name: &str, ok: bool, detail: &str) {
        println!(
            "  {:<5} {name}: {detail}",
            if ok { "[ok]" } else { "[FAIL]" }
        );
        steps.push(Step {
            name: name.to_string(),
            ok,
        });
    }

    /// One figure: `ue_offers` = 6.2.10.5.1, else 6.2.10.5.2.
    fn figure(&mut self, ue_offers: bool, self_exe: &std::path::Path) -> Result<Vec<Step>, String> {
        let title = if ue_offers {
            "Figure 6.2.10.5.1: the UE offers"
        } else {
            "Figure 6.2.10.5.2: the core offers"
        };
        println!("\n== {title} ==");
        let call = format!(
            "lab-{}-{}",
            if ue_offers { "fig1" } else { "fig2" },
            std::process::id()
        );
        let mut steps = Vec::new();
        let dtls_before = self.agw.grep(&["DTLS connected"]).len();
        let relay = if self.topo.relays {
            Some(
                AccessRelay::start(self.topo.lab_ip, self.log.clone())
                    .map_err(|e| format!("access relay: {e}"))?,
            )
        } else {
            None
        };
        let mut ue = ue::Ue::start(self.ue_kind, self_exe, &self.topo.wrap_ue, self.topo.ue_ip)?;
        let mut core = if self.topo.wrap_core.is_empty() {
            let peer = CorePeer::bind(self.topo.core_ip).map_err(|e| format!("core peer: {e}"))?;
            let sdp = format!(
                "v=0\r\no=- 2 1 IN IP4 {ip}\r\ns=core\r\nt=0 0\r\nc=IN IP4 {ip}\r\n\
                 m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
                ip = peer.addr().ip(),
                port = peer.addr().port()
            );
            Core::Peer(peer, sdp)
        } else {
            Core::Agent(ue::Ue::start_core(
                self_exe,
                &self.topo.wrap_core,
                self.topo.core_ip,
            )?)
        };
        let base = |cmd: &str| {
            vec![
                ("command", ng::s(cmd)),
                ("call-id", ng::s(&call)),
                ("from-tag", ng::s("lab-from")),
            ]
        };
        let ue_did_ice;
        let (to_ue, to_core, ue_role, agw_role);
        if ue_offers {
            let offer = ue.offer()?;
            self.sdp_line("UE -> SIP proxy (offer)", &offer);
            ue_did_ice = offer.contains("a=ice-ufrag");
            let ue_addr = sdp::media_addr(&offer).ok_or("no media address in the UE's offer")?;
            let offer_out = match &relay {
                Some(r) => {
                    r.set_ue(ue_addr);
                    sdp::rewrite(&offer, ue_addr, r.b)
                }
                None => offer.clone(),
            };
            let mut req = base("offer");
            req.push(("sdp", ng::s(&offer_out)));
            let r = self.ng_call("offer (UE's SDP)", req)?;
            let sdp_core = ng::ok_sdp(&r);
            Self::check(
                &mut steps,
                "ng offer",
                sdp_core.is_ok(),
                sdp_core.as_ref().err().map_or("ok", |e| e),
            );
            let sdp_core = sdp_core?;
            self.sdp_line("SIP proxy -> core (offer)", &sdp_core);
            self.check_core_side(&mut steps, &sdp_core);
            let core_sdp = match &mut core {
                Core::Peer(_, sdp) => sdp.clone(),
                Core::Agent(a) => a.accept(&sdp_core)?,
            };
            self.sdp_line("core -> SIP proxy (answer)", &core_sdp);
            let mut req = base("answer");
            req.push(("to-tag", ng::s("lab-to")));
            req.push(("sdp", ng::s(&core_sdp)));
            let r = self.ng_call("answer (core's SDP)", req)?;
            let sdp_ue = ng::ok_sdp(&r);
            Self::check(
                &mut steps,
                "ng answer",
                sdp_ue.is_ok(),
                sdp_ue.as_ref().err().map_or("ok", |e| e),
            );
            let sdp_ue = sdp_ue?;
            self.sdp_line("SIP proxy -> UE (answer)", &sdp_ue);
            // RFC 5763: the UE offered actpass; the ALG chose the AGW's role
            let setup = sdp::setup(&sdp_ue).unwrap_or("");
            agw_role = if setup == "active" {
                "client"
            } else {
                "server"
            };
            ue_role = if agw_role == "client" {
                "server"
            } else {
                "client"
            };
            self.check_ue_side(&mut steps, &sdp_ue, &["active", "passive"], ue_did_ice);
            let agw_access =
                sdp::media_addr(&sdp_ue).ok_or("no media address in the SDP for the UE")?;
            let sdp_ue_out = match &relay {
                Some(r) => {
                    r.set_agw(agw_access);
                    sdp::rewrite(&sdp_ue, agw_access, r.a)
                }
                None => sdp_ue.clone(),
            };
            ue.answer(&sdp_ue_out)?;
            to_ue = sdp_ue;
            to_core = sdp_core;
        } else {
            let core_sdp = match &mut core {
                Core::Peer(_, sdp) => sdp.clone(),
                Core::Agent(a) => a.offer()?,
            };
            self.sdp_line("core -> SIP proxy (offer)", &core_sdp);
            let mut req = base("offer");
            req.push(("sdp", ng::s(&core_sdp)));
            let r = self.ng_call("offer (core's SDP)", req)?;
            let sdp_ue = ng::ok_sdp(&r);
            Self::check(
                &mut steps,
                "ng offer",
                sdp_ue.is_ok(),
                sdp_ue.as_ref().err().map_or("ok", |e| e),
            );
            let sdp_ue = sdp_ue?;
            self.sdp_line("SIP proxy -> UE (offer)", &sdp_ue);
            let agw_access =
                sdp::media_addr(&sdp_ue).ok_or("no media address in the SDP for the UE")?;
            let sdp_ue_out = match &relay {
                Some(r) => {
                    r.set_agw(agw_access);
                    sdp::rewrite(&sdp_ue, agw_access, r.a)
                }
                None => sdp_ue.clone(),
            };
            let answer = ue.accept(&sdp_ue_out)?;
            self.sdp_line("UE -> SIP proxy (answer)", &answer);
            ue_did_ice = answer.contains("a=ice-ufrag");
            self.check_ue_side(&mut steps, &sdp_ue, &["actpass"], ue_did_ice);
            let ue_addr = sdp::media_addr(&answer).ok_or("no media address in the UE's answer")?;
            let answer_out = match &relay {
                Some(r) => {
                    r.set_ue(ue_addr);
                    sdp::rewrite(&answer, ue_addr, r.b)
                }
                None => answer.clone(),
            };
            ue_role = if sdp::setup(&answer) == Some("passive") {
                "server"
            } else {
                "client"
            };
            agw_role = if ue_role == "client" {
                "server"
            } else {
                "client"
            };
            let mut req = base("answer");
            req.push(("to-tag", ng::s("lab-to")));
            req.push(("sdp", ng::s(&answer_out)));
            let r = self.ng_call("answer (UE's SDP)", req)?;
            let sdp_core = ng::ok_sdp(&r);
            Self::check(
                &mut steps,
                "ng answer",
                sdp_core.is_ok(),
                sdp_core.as_ref().err().map_or("ok", |e| e),
            );
            let sdp_core = sdp_core?;
            self.sdp_line("SIP proxy -> core (answer)", &sdp_core);
            self.check_core_side(&mut steps, &sdp_core);
            if let Core::Agent(a) = &mut core {
                a.answer(&sdp_core)?;
            }
            to_ue = sdp_ue;
            to_core = sdp_core;
        }
        let _ = &to_ue;
        // media: the UE runs for `seconds`; the core peer answers its audio
        let agw_core =
            sdp::media_addr(&to_core).ok_or("no media address in the SDP for the core")?;
        let seconds = self.args.seconds.max(1.0);
        let stop = Arc::new(AtomicBool::new(false));
        let run_start = Instant::now();
        let send_until = if self.ue_kind == UeKind::Openssl {
            None
        } else {
            Some(run_start + Duration::from_secs_f64(seconds - 0.4))
        };
        // the core agent (a process) runs a little longer than the UE, started first and
        // reported last, so it listens for all of the UE's audio
        // (the OpenSSL UE sends for 0.6 s more than asked, after its handshake)
        let core_extra = if self.ue_kind == UeKind::Openssl {
            1.5
        } else {
            0.5
        };
        let core_run = match core {
            Core::Peer(peer, _) => CoreRun::Thread(peer.spawn(
                agw_core,
                send_until,
                Duration::from_secs_f64(seconds - 0.2),
                stop.clone(),
                self.log.clone(),
            )),
            Core::Agent(mut a) => {
                a.start_run(seconds + core_extra)?;
                CoreRun::Agent(a)
            }
        };
        println!(
            "  media {seconds} s of 20 ms audio both ways (UE DTLS {ue_role}, AGW DTLS {agw_role})"
        );
        let report = ue.run(seconds, ue_role);
        std::thread::sleep(Duration::from_millis(100));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (core_r, core_after_ue) = match core_run {
            CoreRun::Thread(t) => (t.join().map_err(|_| "core peer thread panicked")?, None),
            CoreRun::Agent(mut a) => {
                let r = a.core_report(seconds + core_extra);
                a.close();
                let mut r = r?;
                // what the core sent after the UE's last received packet went out while the UE
                // had stopped listening: not counted, but bounded (the core ran 0.5 s longer)
                let after = match report.as_ref().ok().and_then(|u| u.recv_rtp.last()) {
                    Some(last) => r
                        .sent
                        .iter()
                        .position(|p| p.0 == last.0 && p.1 == last.1)
                        .map_or(0, |i| r.sent.len() - i - 1),
                    None => 0,
                };
                r.sent.truncate(r.sent.len() - after);
                (r, Some(after))
            }
        };
        let counts = relay.map(AccessRelay::stop);
        if self.args.verbose {
            for l in &ue.transcript {
                println!("          | {l}");
            }
        }
        let report = report?;
        if let Some((up, down)) = counts {
            println!(
                "  access UE -> AGW: {} STUN, {} DTLS, {} SRTP, {} SRTCP; AGW -> UE: {} STUN, {} DTLS, {} SRTP, {} SRTCP",
                up.stun, up.dtls, up.srtp, up.srtcp, down.stun, down.dtls, down.srtp, down.srtcp
            );
            if ue_did_ice {
                Self::check(
                    &mut steps,
                    "ICE checks",
                    up.stun > 0 && down.stun > 0,
                    &format!(
                        "{} STUN requests from the UE, {} answers from the AGW; UE ICE state {}",
                        up.stun,
                        down.stun,
                        report.ice_state.as_deref().unwrap_or("?")
                    ),
                );
            }
            let (hello_by_agw, hello_by_ue) = (down.client_hello, up.client_hello);
            let ok = if agw_role == "client" {
                hello_by_agw && !hello_by_ue
            } else {
                hello_by_ue && !hello_by_agw
            };
            Self::check(
                &mut steps,
                "DTLS role on the wire",
                ok,
                &format!(
                    "ClientHello from {} (expected from the {})",
                    match (hello_by_agw, hello_by_ue) {
                        (true, false) => "the AGW",
                        (false, true) => "the UE",
                        (true, true) => "both",
                        (false, false) => "nobody",
                    },
                    if agw_role == "client" { "AGW" } else { "UE" }
                ),
            );
        } else if ue_did_ice {
            let ok = matches!(report.ice_state.as_deref(), Some("completed" | "connected"));
            Self::check(
                &mut steps,
                "ICE checks",
                ok,
                &format!(
                    "UE ICE state {}",
                    report.ice_state.as_deref().unwrap_or("?")
                ),
            );
        }
        let mut agw_dtls = self.agw.grep(&["DTLS connected"]);
        agw_dtls.drain(..dtls_before.min(agw_dtls.len()));
        let agw_profile = agw_dtls
            .last()
            .and_then(|l| l.split("profile=").nth(1))
            .and_then(|p| p.split_whitespace().next())
            .map(|p| srtp_profile_name(p.trim_matches('"')));
        Self::check(
            &mut steps,
            "DTLS handshake",
            report.dtls_ok && report.role.as_deref() == Some(ue_role),
            &format!(
                "UE {} as {}, profile {}; AGW {} ({})",
                report.dtls_state,
                report.role.as_deref().unwrap_or("?"),
                report
                    .profile
                    .as_deref()
                    .or(agw_profile.as_deref())
                    .unwrap_or("?"),
                agw_role,
                if agw_dtls.is_empty() {
                    "no \"DTLS connected\" in its log".to_string()
                } else {
                    format!(
                        "DTLS connected, profile {}",
                        agw_profile.as_deref().unwrap_or("?")
                    )
                }
            ),
        );
        let up = media::compare(&report.sent_rtp, &core_r.received);
        let down = media::compare(&core_r.sent, &report.recv_rtp);
        let late = core_after_ue.map_or(String::new(), |n| {
            format!(" (+{n} sent while the UE no longer listened, not counted)")
        });
        let good = |c: &media::Compare| c.foreign == 0 && c.sent >= 10 && c.identical + 5 >= c.sent;
        Self::check(
            &mut steps,
            "media UE -> core (SRTP -> RTP)",
            good(&up),
            &format!(
                "{} sent, {} received, {} identical, {} altered",
                up.sent, up.received, up.identical, up.foreign
            ),
        );
        Self::check(
            &mut steps,
            "media core -> UE (RTP -> SRTP)",
            good(&down) && core_after_ue.is_none_or(|n| n as f64 <= (core_extra + 0.5) * 50.0),
            &format!(
                "{} sent, {} received, {} identical, {} altered{late}",
                down.sent, down.received, down.identical, down.foreign
            ),
        );
        Self::check(
            &mut steps,
            "RTCP both ways",
            core_r.rtcp_received > 0 && report.recv_rtcp > 0,
            &format!(
                "UE sent {} / received {} SRTCP; core sent {} / received {} RTCP",
                report.sent_rtcp, report.recv_rtcp, core_r.rtcp_sent, core_r.rtcp_received
            ),
        );
        // release
        let iq_before = self.iq_count();
        let deleted_before = self.agw.grep(&["context deleted"]).len();
        let r = self.ng_call("delete", base("delete"))?;
        Self::check(
            &mut steps,
            "ng delete",
            ng::result(&r) == "ok",
            &ng::result(&r),
        );
        let released = self.wait_released(iq_before, deleted_before, Duration::from_secs(5));
        self.print_iq();
        let l = self.ng_call("list", vec![("command", ng::s("list"))])?;
        let listed = format!("{:?}", l.get("calls"));
        Self::check(
            &mut steps,
            "AGW released",
            released.is_ok() && !listed.contains(&call),
            &match released {
                Ok(s) => format!("{s}; ng list no longer has the call"),
                Err(e) => e,
            },
        );
        // the UE hangs up once the call is released: aiortc's DTLS close_notify, reaching the
        // AGW before the delete, is reported as xdtls/estfail and the ALG releases the call
        ue.close();
        Ok(steps)
    }

    fn iq_count(&self) -> usize {
        self.log
            .lock()
            .map(|l| {
                l.iter()
                    .filter(|r| matches!(r.what, Seen::Iq { .. }))
                    .count()
            })
            .unwrap_or(0)
    }

    /// After a delete: a Subtract went to the AGW and was answered without error (from the
    /// relay), or, without relay, the AGW logged "context deleted" (more often than the
    /// `before` times counted before the delete).
    fn wait_released(
        &self,
        since: usize,
        before: usize,
        timeout: Duration,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.topo.relays {
                let msgs: Vec<Vec<u8>> = self
                    .log
                    .lock()
                    .map(|l| {
                        l.iter()
                            .filter_map(|r| match &r.what {
                                Seen::Iq { data, .. } => Some(data.clone()),
                                _ => None,
                            })
                            .skip(since)
                            .collect()
                    })
                    .unwrap_or_default();
                let lines: Vec<String> = msgs.iter().flat_map(|m| iq::summarise(m)).collect();
                let sub = lines
                    .iter()
                    .any(|l| l.starts_with("Request") && l.contains("Subtract"));
                let reply = lines.iter().any(|l| {
                    l.starts_with("Reply") && l.contains("Subtract") && !l.contains("error")
                });
                if sub && reply {
                    return Ok("Subtract answered by the AGW".into());
                }
            } else if self.agw.grep(&["context deleted"]).len() > before {
                return Ok("the AGW logged \"context deleted\"".into());
            }
            if Instant::now() > deadline {
                return Err(if self.topo.relays {
                    format!("no answered Subtract within {timeout:?}")
                } else {
                    format!("no \"context deleted\" in the AGW's log within {timeout:?}")
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn check_core_side(&self, steps: &mut Vec<Step>, sdp: &str) {
        let proto = sdp::proto(sdp).unwrap_or("");
        let extra: Vec<&str> = ["a=fingerprint", "a=setup", "a=tls-id", "a=ice-"]
            .into_iter()
            .filter(|a| sdp.contains(a))
            .collect();
        Self::check(
            steps,
            "SDP to the core",
            matches!(proto, "RTP/AVP" | "RTP/AVPF") && extra.is_empty(),
            &format!(
                "{proto}{}",
                if extra.is_empty() {
                    ", no DTLS/ICE attributes".to_string()
                } else {
                    format!(", but carries {extra:?}")
                }
            ),
        );
    }

    fn check_ue_side(&self, steps: &mut Vec<Step>, sdp: &str, setups: &[&str], ice: bool) {
        let mut bad = Vec::new();
        if !sdp::proto(sdp).is_some_and(|p| p.starts_with("UDP/TLS/RTP/SAVP")) {
            bad.push("proto not UDP/TLS/RTP/SAVP(F)");
        }
        if !sdp::setup(sdp).is_some_and(|s| setups.contains(&s)) {
            bad.push("a=setup");
        }
        if !sdp::fingerprint(sdp).is_some_and(|f| f.to_ascii_lowercase().starts_with("sha-256 ")) {
            bad.push("no sha-256 fingerprint");
        }
        if !sdp.contains("a=tls-id:") {
            bad.push("no tls-id");
        }
        if ice && !(sdp.contains("a=ice-ufrag:") && sdp.contains("a=ice-lite")) {
            bad.push("no ICE-lite credentials for an ICE UE");
        }
        Self::check(
            steps,
            "SDP to the UE",
            bad.is_empty(),
            &if bad.is_empty() {
                format!(
                    "{}, setup:{}, AGW fingerprint, tls-id{}",
                    sdp::proto(sdp).unwrap_or(""),
                    sdp::setup(sdp).unwrap_or(""),
                    if ice { ", ICE-lite" } else { "" }
                )
            } else {
                bad.join("; ")
            },
        );
    }
}
