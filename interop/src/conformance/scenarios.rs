//! The Iq procedure scenarios, each a named test case of requests and checks. Every check that
//! fails names the rule it enforces (`[rule] what was wrong`).
//!
//! Preconditions: the WebRTC scenarios need the MG to announce the DTLS package (`xdtls`) in its
//! ROOT Packages audit (an MG that does not is not an eIMS-AGW: N/A, not failed); the media
//! scenarios need `--media`, a UE runtime and a Local address we can reach.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use iq_codec::model::{
    ActionRequest, AuditReturnParameter, Command, MessageBody, Transaction, TransactionResult,
};
use serde_json::json;

use super::check::{self, Term};
use super::link::{Link, ProbeReply, Registration, ScKind, Seen};
use super::media::{rtp_list, CorePeer, Ue, UeSetup};
use super::report::{Outcome, Verdict};

/// Options the scenarios read.
#[derive(Debug, Clone)]
pub struct Options {
    /// Run media checks.
    pub media: bool,
    /// UE runtime for the media checks.
    pub ue: UeSetup,
    /// `ipdc/realm` of the access side (`None`: not sent).
    pub access_realm: Option<String>,
    /// `ipdc/realm` of the core side.
    pub core_realm: Option<String>,
    /// HandOff target MGC (mId).
    pub handoff_to: Option<iq_codec::model::MId>,
    /// Binary encoding in use.
    pub binary: bool,
    /// How long to wait for the MG to register.
    pub register_timeout: Duration,
}

/// Why a scenario stopped early.
pub enum Stop {
    /// A check failed.
    Fail(String),
    /// A precondition is missing.
    Na(String),
}

type R = Result<(), Stop>;

fn fail(rule: &str, msg: impl std::fmt::Display) -> Stop {
    Stop::Fail(format!("[{rule}] {msg}"))
}

/// Everything a scenario works with.
pub struct Ctx<'a> {
    /// The controller.
    pub link: &'a mut Link,
    /// Options.
    pub opts: &'a Options,
    /// The registration (once done).
    pub registration: Option<Registration>,
    /// Packages from the ROOT audit (`name-version`), once audited.
    pub packages: Option<Vec<String>>,
    steps: Vec<String>,
    /// Contexts created by the running scenario that still need releasing.
    open: Vec<u32>,
}

/// One scenario.
pub struct Scenario {
    /// Name (`--only` selects by it).
    pub name: &'static str,
    /// What it covers.
    pub about: &'static str,
    /// Uses the media plane.
    pub media: bool,
    run: fn(&mut Ctx<'_>) -> R,
}

/// Every scenario, in run order (registration first, the ServiceChange ones last).
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario { name: "registration", about: "ServiceChange Restart on ROOT: method, reason, version 3 offered, profile; accepted", media: false, run: registration },
        Scenario { name: "audit-root", about: "AuditValue ROOT Packages: the packages the MG supports", media: false, run: audit_root },
        Scenario { name: "audit-termination", about: "AuditValue of a termination: its Media descriptor", media: false, run: audit_termination },
        Scenario { name: "plain-call", about: "TS 23.334 6.2.1: Add T1/T2 RTP/AVP with $ (Local filled), Modify with Remote, Subtract both", media: false, run: plain_call },
        Scenario { name: "fig-6.2.10.5.1", about: "UE-originated DTLS-SRTP: Add access UDP/TLS/RTP/SAVPF with a=fingerprint:$ and ICE, Establish signal; core Add; Modify; Subtract", media: false, run: fig1 },
        Scenario { name: "fig-6.2.10.5.2", about: "UE-terminated DTLS-SRTP: Add core reserve-and-configure, Add access reserve, Modify access with the UE answer (a=setup:active, fingerprint, estfail event)", media: false, run: fig2 },
        Scenario { name: "fig-6.2.10.5.2-agw-client", about: "figure 6.2.10.5.2 when the UE answers a=setup:passive: Modify access with Remote fingerprint + Signals xdtls/estab", media: false, run: fig2_agw_client },
        Scenario { name: "re-offer", about: "Modify with a changed Remote; Mode change for hold and back", media: false, run: re_offer },
        Scenario { name: "release", about: "Subtract with statistics; wildcard Subtract *; the context is gone afterwards", media: false, run: release },
        Scenario { name: "audit-all-contexts", about: "AuditValue = * on context * (H.248.1 7.2.5): one action reply per context, naming its terminations (what an MGC audits to find contexts it forgot)", media: false, run: audit_all_contexts },
        Scenario { name: "error-unknown-context", about: "Modify in an unknown context: 411", media: false, run: err_context },
        Scenario { name: "error-unknown-termination", about: "Modify of an unknown termination: 430", media: false, run: err_termination },
        Scenario { name: "error-syntax", about: "a syntactically broken message: a 400-range error", media: false, run: err_syntax },
        Scenario { name: "error-unknown-package", about: "a property of an unknown package: 440, 445 or 501", media: false, run: err_package },
        Scenario { name: "media-fig-6.2.10.5.1", about: "figure 6.2.10.5.1 with media: AGW DTLS client, SRTP<->RTP both ways, RTCP", media: true, run: media_fig1 },
        Scenario { name: "media-fig-6.2.10.5.2", about: "figure 6.2.10.5.2 with media: AGW DTLS server, SRTP<->RTP both ways, RTCP", media: true, run: media_fig2 },
        Scenario { name: "dtls-failure", about: "a UE with a wrong fingerprint: no media, Notify xdtls/estfail", media: true, run: dtls_failure },
        Scenario { name: "service-change", about: "MGC-directed ServiceChange Forced (905) then Restart (900); the MG serves again", media: false, run: service_change },
        Scenario { name: "handoff", about: "MGC-directed ServiceChange HandOff (903, MgcIdToTry); the MG re-registers", media: false, run: handoff },
    ]
}

impl<'a> Ctx<'a> {
    /// A context for the run.
    pub fn new(link: &'a mut Link, opts: &'a Options) -> Self {
        Ctx {
            link,
            opts,
            registration: None,
            packages: None,
            steps: Vec::new(),
            open: Vec::new(),
        }
    }

    /// Run one scenario.
    pub fn run(&mut self, s: &Scenario, verbose: bool) -> Outcome {
        let start = Instant::now();
        self.steps.clear();
        let _ = self.link.drain();
        let verdict = if s.media && !self.opts.media {
            Verdict::NotApplicable("media scenario: run with --media".into())
        } else if s.name != "registration" && self.registration.is_none() {
            Verdict::NotApplicable("the MG did not register".into())
        } else {
            match (s.run)(self) {
                Ok(()) => Verdict::Pass,
                Err(Stop::Fail(m)) => Verdict::Fail(m),
                Err(Stop::Na(m)) => Verdict::NotApplicable(m),
            }
        };
        for s in self.link.drain() {
            self.steps.push(format!("event: {}", s.describe()));
        }
        // leave nothing behind for the next scenario
        for c in std::mem::take(&mut self.open) {
            let _ = self.request_quiet(&format!("Context = {c} {{ Subtract = * }}"));
        }
        if verbose {
            for st in &self.steps {
                println!("  {}: {st}", s.name);
            }
        }
        Outcome {
            name: s.name,
            about: s.about,
            verdict,
            time: start.elapsed(),
            steps: std::mem::take(&mut self.steps),
        }
    }

    fn step(&mut self, s: impl Into<String>) {
        self.steps.push(s.into());
    }

    fn actions(text: &str) -> Result<Vec<ActionRequest>, Stop> {
        let msg = format!("MEGACO/3 [127.0.0.1]:1\nTransaction = 1 {{ {text} }}");
        let m = iq_codec::text::decode(msg.as_bytes())
            .map_err(|e| Stop::Fail(format!("[internal] request does not parse: {e}\n{text}")))?;
        match m.body {
            MessageBody::Transactions(ts) => match ts.into_iter().next() {
                Some(Transaction::Request(r)) => Ok(r.actions),
                _ => Err(Stop::Fail("[internal] not a request".into())),
            },
            MessageBody::Error(_) => Err(Stop::Fail("[internal] not a request".into())),
        }
    }

    fn request_quiet(&mut self, text: &str) -> Result<TransactionResult, String> {
        let a = Self::actions(text).map_err(|_| "bad request".to_string())?;
        self.link.request(a)
    }

    /// Send a request (H.248 text actions); the reply, or a failure if none came.
    fn req(&mut self, step: &str, text: &str) -> Result<TransactionResult, Stop> {
        let a = Self::actions(text)?;
        self.step(format!("{step}: {}", one_line(text)));
        let r = self.link.request(a).map_err(|e| {
            fail(
                "H.248.1 §8.2 every request is answered",
                format!("{step}: {e}"),
            )
        })?;
        let txt = check::reply_text(&r);
        self.step(format!("  reply: {}", one_line(&txt)));
        Ok(r)
    }

    /// Send a request that must succeed.
    fn ok(&mut self, step: &str, text: &str) -> Result<TransactionResult, Stop> {
        let r = self.req(step, text)?;
        if let Some((code, t)) = check::first_error(&r) {
            return Err(fail(
                "TS 29.334 §5.17 procedure accepted",
                format!("{step}: error {code} {t:?}"),
            ));
        }
        Ok(r)
    }

    /// Add/Modify that must succeed and return one termination.
    fn term(&mut self, step: &str, text: &str) -> Result<Term, Stop> {
        let r = self.ok(step, text)?;
        let t = check::term_of(&r).ok_or_else(|| {
            fail(
                "H.248.1 §7.2 command reply names its context and termination",
                format!("{step}: {}", one_line(&check::reply_text(&r))),
            )
        })?;
        if !self.open.contains(&t.context) {
            self.open.push(t.context);
        }
        Ok(t)
    }

    fn realm(&self, access: bool) -> String {
        let r = if access {
            &self.opts.access_realm
        } else {
            &self.opts.core_realm
        };
        r.as_ref().map_or(String::new(), |r| {
            format!("TerminationState {{ ipdc/realm = \"{r}\" }}, ")
        })
    }

    /// The ROOT packages (audited once).
    fn packages(&mut self) -> Result<Vec<String>, Stop> {
        if let Some(p) = &self.packages {
            return Ok(p.clone());
        }
        let r = self.ok(
            "AuditValue ROOT",
            "Context = - { AuditValue = ROOT { Audit { Packages } } }",
        )?;
        let p = check::packages(&r).ok_or_else(|| {
            fail(
                "H.248.1 §7.2.5 AuditValue returns the audited Packages descriptor",
                "no Packages descriptor in the ROOT audit reply",
            )
        })?;
        self.packages = Some(p.clone());
        Ok(p)
    }

    /// N/A unless the MG announces the DTLS package.
    fn need_webrtc(&mut self) -> R {
        let p = self.packages()?;
        if p.iter().any(|p| p.starts_with("xdtls-")) {
            Ok(())
        } else {
            Err(Stop::Na(format!(
                "the MG does not announce the DTLS package xdtls (ROOT packages: {}); not an eIMS-AGW",
                p.join(", ")
            )))
        }
    }

    fn new_context_plain(&mut self) -> Result<(Term, Term), Stop> {
        let t1 = self.add_plain("Add T1", "$", true, None)?;
        let t2 = self.add_plain("Add T2", &t1.context.to_string(), false, None)?;
        Ok((t1, t2))
    }

    fn add_plain(
        &mut self,
        step: &str,
        ctx: &str,
        access: bool,
        remote: Option<(&str, u16)>,
    ) -> Result<Term, Stop> {
        let remote = remote.map_or(String::new(), |(ip, port)| {
            format!(", Remote {{\nv=0\nc=IN IP4 {ip}\nm=audio {port} RTP/AVP 0\n}}")
        });
        let realm = self.realm(access);
        let t = self.term(
            step,
            &format!(
                "Context = {ctx} {{ Add = $ {{ Media {{ {realm}Stream = 1 {{ LocalControl {{ Mode = SendReceive }}, \
                 Local {{\nv=0\nc=IN IP4 $\nm=audio $ RTP/AVP 0\n}}{remote} }} }} }} }}"
            ),
        )?;
        check_local_filled(step, &t)?;
        Ok(t)
    }

    fn subtract(&mut self, step: &str, t: &Term) -> Result<TransactionResult, Stop> {
        let r = self.ok(
            step,
            &format!("Context = {} {{ Subtract = {} }}", t.context, t.id),
        )?;
        Ok(r)
    }

    fn close(&mut self, ctx: u32) {
        self.open.retain(|c| *c != ctx);
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Local with `$` answered: c= address and m= port chosen, nothing left as `$`.
fn check_local_filled(step: &str, t: &Term) -> R {
    const RULE: &str = "H.248.1 §7.1.8 / TS 29.334 §5.17.1.3 the MG fills every $ of Local";
    if t.local.is_empty() {
        return Err(fail(RULE, format!("{step}: no Local SDP in the reply")));
    }
    let addr = t.address().unwrap_or_default();
    if addr
        .parse::<IpAddr>()
        .map(|a| a.is_unspecified())
        .unwrap_or(true)
    {
        return Err(fail(
            RULE,
            format!(
                "{step}: c= address {addr:?} is not a usable address ({})",
                t.sdp()
            ),
        ));
    }
    let port = t.port().unwrap_or_default();
    if port.parse::<u16>().map(|p| p == 0).unwrap_or(true) {
        return Err(fail(
            RULE,
            format!(
                "{step}: m= port {port:?} is not a non-zero port ({})",
                t.sdp()
            ),
        ));
    }
    let left = t.unfilled();
    if !left.is_empty() {
        return Err(fail(
            RULE,
            format!("{step}: still unchosen: {}", left.join(", ")),
        ));
    }
    Ok(())
}

/// The access Local of a DTLS Add: proto kept, fingerprint in the Iq format, ICE credentials when
/// requested.
fn check_dtls_local(step: &str, t: &Term, proto: &str, ice: bool) -> R {
    check_local_filled(step, t)?;
    if t.proto().as_deref() != Some(proto) {
        return Err(fail(
            "TS 23.334 6.2.10.5 the access termination keeps the DTLS-SRTP transport",
            format!("{step}: m= proto {:?}, requested {proto}", t.proto()),
        ));
    }
    let fp = t.attr("fingerprint").ok_or_else(|| {
        fail(
            "TS 29.334 §5.17.1.x a=fingerprint:$ is answered with the AGW's certificate fingerprint",
            format!("{step}: no a=fingerprint in Local ({})", t.sdp()),
        )
    })?;
    check::check_fingerprint(&fp).map_err(|e| {
        fail(
            "RFC 8122 §5 fingerprint: sha-256, 32 upper-case hex octets, colon-separated",
            format!("{step}: {e}"),
        )
    })?;
    if ice {
        let (Some(u), Some(p)) = (t.attr("ice-ufrag"), t.attr("ice-pwd")) else {
            return Err(fail(
                "TS 29.334 ICE-lite: requested ice-ufrag/ice-pwd are returned",
                format!("{step}: ICE credentials missing ({})", t.sdp()),
            ));
        };
        check::check_ice(&u, &p)
            .map_err(|e| fail("RFC 8839 §5.4 ICE credentials", format!("{step}: {e}")))?;
    }
    Ok(())
}

fn expect_code(step: &str, r: &Result<TransactionResult, Stop>, want: &[u16], rule: &str) -> R {
    let r = match r {
        Ok(r) => r,
        Err(Stop::Fail(m)) => return Err(Stop::Fail(m.clone())),
        Err(Stop::Na(m)) => return Err(Stop::Na(m.clone())),
    };
    match check::first_error(r) {
        Some((code, _)) if want.contains(&code) => Ok(()),
        Some((code, t)) => Err(fail(
            rule,
            format!("{step}: error {code} {t:?}, expected {want:?}"),
        )),
        None => Err(fail(
            rule,
            format!("{step}: accepted, expected error {want:?}"),
        )),
    }
}

/// A termination ID the MG surely does not have, shaped like one it chose.
fn unknown_like(id: &str) -> String {
    let (head, last) = id.rsplit_once('/').unwrap_or(("", id));
    let join = |l: &str| {
        if head.is_empty() {
            l.to_string()
        } else {
            format!("{head}/{l}")
        }
    };
    if last.len() == 8 && last.chars().all(|c| c == '0' || c == '1') {
        return join(if last == "11111110" {
            "11111101"
        } else {
            "11111110"
        });
    }
    let stem = last.trim_end_matches(|c: char| c.is_ascii_digit());
    join(&format!("{stem}987654"))
}

// ------------------------------------------------------------------------------ scenarios

fn registration(c: &mut Ctx<'_>) -> R {
    c.step("waiting for the MG's ServiceChange");
    let r = c
        .link
        .wait_registered(c.opts.register_timeout)
        .ok_or_else(|| {
            fail(
                "TS 29.334 §5.11 the MG registers with ServiceChange on ROOT",
                format!("no registration within {:?}", c.opts.register_timeout),
            )
        })?;
    c.step(format!(
        "registered: {} from {}, version {} negotiated",
        iq_link::driver::format_mid(&r.mid),
        r.address,
        r.version
    ));
    c.registration = Some(r.clone());
    let Some(p) = &r.request else {
        return Err(fail(
            "H.248.1 §11.2 registration",
            "the ServiceChange request could not be read off the wire",
        ));
    };
    c.step(format!("request: {p:?} on {:?}", r.terminations));
    if r.terminations != ["ROOT"]
        && r.terminations
            .iter()
            .all(|t| !t.eq_ignore_ascii_case("root"))
    {
        return Err(fail(
            "H.248.1 §11.2 registration is a ServiceChange on ROOT",
            format!("on {:?}", r.terminations),
        ));
    }
    use iq_codec::model::ServiceChangeMethod as M;
    if !matches!(
        p.method,
        M::Restart | M::Disconnected | M::Failover | M::HandOff
    ) {
        return Err(fail(
            "H.248.1 §11.2 registration method",
            format!("{:?}", p.method),
        ));
    }
    if p.method != M::Restart {
        return Err(fail(
            "TS 29.334 §5.11 a starting MG registers with Method Restart",
            format!("method {:?} on a fresh association", p.method),
        ));
    }
    let reason = p
        .reason
        .as_deref()
        .and_then(iq_link::association::reason::parse);
    match reason {
        Some(900..=999) => {}
        _ => {
            return Err(fail(
                "H.248.8 ServiceChange reason 9xx (901 cold boot, 902 warm boot)",
                format!("reason {:?}", p.reason),
            ))
        }
    }
    match p.version.or(r.header_version) {
        Some(3) => {}
        v => {
            return Err(fail(
                "digest §1.2 the Iq MG announces H.248.1 version 3",
                format!("version {v:?}"),
            ))
        }
    }
    if r.version < 2 {
        return Err(fail(
            "digest §1.2 Iq needs at least version 2",
            format!("negotiated {}", r.version),
        ));
    }
    match &p.profile {
        Some(pr) => c.step(format!("profile {}/{}", pr.name, pr.version)),
        None => {
            return Err(fail(
                "TS 29.334 §5.11 / digest §1.8 the MG offers its profile in ServiceChangeProfile",
                "no Profile in the registration",
            ))
        }
    }
    Ok(())
}

fn audit_root(c: &mut Ctx<'_>) -> R {
    let p = c.packages()?;
    c.step(format!("packages: {}", p.join(", ")));
    if p.is_empty() {
        return Err(fail(
            "H.248.1 §7.2.5 Packages audit lists the packages",
            "empty Packages descriptor",
        ));
    }
    for base in ["root", "g"] {
        if !p.iter().any(|x| x.starts_with(&format!("{base}-"))) {
            return Err(fail(
                "TS 29.334 Table 5.14.1.1 mandatory packages (g, root)",
                format!("package {base} not announced ({})", p.join(", ")),
            ));
        }
    }
    Ok(())
}

fn audit_termination(c: &mut Ctx<'_>) -> R {
    let t = c.add_plain("Add T1", "$", true, None)?;
    let r = c.ok(
        "AuditValue T1",
        &format!(
            "Context = {} {{ AuditValue = {} {{ Audit {{ Media }} }} }}",
            t.context, t.id
        ),
    )?;
    if !check::has_descriptor(&r, |p| matches!(p, AuditReturnParameter::Media(_))) {
        return Err(fail(
            "H.248.1 §7.2.5 AuditValue returns the audited Media descriptor",
            format!("no Media descriptor: {}", one_line(&check::reply_text(&r))),
        ));
    }
    c.subtract("Subtract T1", &t)?;
    c.close(t.context);
    Ok(())
}

fn plain_call(c: &mut Ctx<'_>) -> R {
    let (t1, t2) = c.new_context_plain()?;
    if t1.id == t2.id {
        return Err(fail(
            "H.248.1 §6.2 termination IDs are unique",
            format!("both {}", t1.id),
        ));
    }
    let ctx = t1.context;
    c.ok(
        "Modify T1 with Remote",
        &format!(
            "Context = {ctx} {{ Modify = {} {{ Media {{ Stream = 1 {{ Remote {{\nv=0\nc=IN IP4 192.0.2.10\nm=audio 40100 RTP/AVP 0\n}} }} }} }} }}",
            t1.id
        ),
    )?;
    c.ok(
        "Modify T2 with Remote",
        &format!(
            "Context = {ctx} {{ Modify = {} {{ Media {{ Stream = 1 {{ Remote {{\nv=0\nc=IN IP4 192.0.2.20\nm=audio 40200 RTP/AVP 0\n}} }} }} }} }}",
            t2.id
        ),
    )?;
    c.subtract("Subtract T1", &t1)?;
    c.subtract("Subtract T2", &t2)?;
    c.close(ctx);
    Ok(())
}

/// Add the access termination with DTLS-SRTP (`$` fingerprint, ICE credentials requested).
fn add_access(
    c: &mut Ctx<'_>,
    step: &str,
    remote: Option<&str>,
    estab: bool,
    proto: &str,
) -> Result<Term, Stop> {
    let realm = c.realm(true);
    let remote = remote.map_or(String::new(), |r| format!(", Remote {{\n{r}}}"));
    let signals = if estab {
        ", Signals { xdtls/estab }"
    } else {
        ""
    };
    let t = c.term(
        step,
        &format!(
            "Context = $ {{ Add = $ {{ Media {{ {realm}Stream = 1 {{ LocalControl {{ Mode = SendReceive, ipnapt/latch = ON }}, \
             Local {{\nv=0\nc=IN IP4 $\nm=audio $ {proto} 0\na=rtpmap:0 PCMU/8000\na=rtcp-mux\na=ice-ufrag:$\na=ice-pwd:$\na=fingerprint:$\n}}{remote} }} }}, \
             Events = 2001 {{ xdtls/estfail }}{signals} }} }}"
        ),
    )?;
    check_dtls_local(step, &t, proto, true)?;
    Ok(t)
}

/// The UE's SDP as Remote. `ice`: with ICE credentials (a UE without ICE, like the OpenSSL UE
/// of the media scenarios, sends none, so the ICE-lite AGW does not wait for its checks).
fn ue_remote(ip: &str, port: u16, fp: &str, setup: Option<&str>, ice: bool) -> String {
    let setup = setup.map_or(String::new(), |s| format!("a=setup:{s}\n"));
    let ice = if ice {
        "a=ice-ufrag:UEuf\na=ice-pwd:UEpassword0123456789ab\n"
    } else {
        ""
    };
    format!(
        "v=0\nc=IN IP4 {ip}\nm=audio {port} UDP/TLS/RTP/SAVPF 0\na=rtpmap:0 PCMU/8000\na=rtcp-mux\n\
         {ice}a=fingerprint:{fp}\n{setup}"
    )
}

fn add_core(
    c: &mut Ctx<'_>,
    step: &str,
    ctx: &str,
    remote: Option<(&str, u16)>,
) -> Result<Term, Stop> {
    c.add_plain(step, ctx, false, remote)
}

const SOME_FP: &str = "sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF";

fn fig1(c: &mut Ctx<'_>) -> R {
    c.need_webrtc()?;
    // step 2: access Add, reserve and configure with the UE's offer (actpass: the AGW is client)
    let t1 = add_access(
        c,
        "Add T1 (access, UE offer)",
        Some(&ue_remote(
            "192.0.2.1",
            50000,
            SOME_FP,
            Some("actpass"),
            true,
        )),
        true,
        "UDP/TLS/RTP/SAVPF",
    )?;
    let t2 = add_core(c, "Add T2 (core, reserve)", &t1.context.to_string(), None)?;
    c.ok(
        "Modify T2 (core answer)",
        &format!(
            "Context = {} {{ Modify = {} {{ Media {{ Stream = 1 {{ Remote {{\nv=0\nc=IN IP4 192.0.2.30\nm=audio 41000 RTP/AVP 0\n}} }} }} }} }}",
            t1.context, t2.id
        ),
    )?;
    c.subtract("Subtract T1", &t1)?;
    c.subtract("Subtract T2", &t2)?;
    c.close(t1.context);
    Ok(())
}

fn fig2(c: &mut Ctx<'_>) -> R {
    fig2_with(c, false)
}

fn fig2_agw_client(c: &mut Ctx<'_>) -> R {
    fig2_with(c, true)
}

/// Figure 6.2.10.5.2; `agw_client`: the UE answered `a=setup:passive`, so the Modify also
/// carries `Signals { xdtls/estab }` (digest 3.3.6, the variant after the example).
fn fig2_with(c: &mut Ctx<'_>, agw_client: bool) -> R {
    c.need_webrtc()?;
    let (setup, estab) = if agw_client {
        ("passive", ", Signals { xdtls/estab }")
    } else {
        ("active", "")
    };
    // step 2: the core termination first, reserve and configure with the core offer
    let t2 = add_core(
        c,
        "Add T2 (core, reserve and configure)",
        "$",
        Some(("192.0.2.30", 41000)),
    )?;
    let realm = c.realm(true);
    let t1 = c.term(
        "Add T1 (access, reserve)",
        &format!(
            "Context = {} {{ Add = $ {{ Media {{ {realm}Stream = 1 {{ LocalControl {{ Mode = SendReceive }}, \
             Local {{\nv=0\nc=IN IP4 $\nm=audio $ UDP/TLS/RTP/SAVPF 0\na=rtpmap:0 PCMU/8000\na=rtcp-mux\na=ice-ufrag:$\na=ice-pwd:$\na=fingerprint:$\n}} }} }} }} }}",
            t2.context
        ),
    )?;
    check_dtls_local("Add T1", &t1, "UDP/TLS/RTP/SAVPF", true)?;
    // step 8: the UE's answer with its fingerprint (and estab when the AGW is the client)
    c.ok(
        &format!("Modify T1 (UE answer a=setup:{setup}, fingerprint{})", if agw_client { ", estab" } else { "" }),
        &format!(
            "Context = {} {{ Modify = {} {{ Media {{ Stream = 1 {{ Remote {{\n{}}} }} }}, Events = 2002 {{ xdtls/estfail }}{estab} }} }}",
            t1.context,
            t1.id,
            ue_remote("192.0.2.1", 50002, SOME_FP, Some(setup), true)
        ),
    )?;
    c.subtract("Subtract T1", &t1)?;
    c.subtract("Subtract T2", &t2)?;
    c.close(t1.context);
    Ok(())
}

fn re_offer(c: &mut Ctx<'_>) -> R {
    let t1 = c.add_plain("Add T1", "$", true, Some(("192.0.2.10", 40100)))?;
    let t2 = c.add_plain(
        "Add T2",
        &t1.context.to_string(),
        false,
        Some(("192.0.2.20", 40200)),
    )?;
    let ctx = t1.context;
    c.ok(
        "Modify T2 (re-offer: new Remote)",
        &format!(
            "Context = {ctx} {{ Modify = {} {{ Media {{ Stream = 1 {{ Remote {{\nv=0\nc=IN IP4 192.0.2.21\nm=audio 40300 RTP/AVP 0\n}} }} }} }} }}",
            t2.id
        ),
    )?;
    for (mode, want) in [("SendOnly", "SendOnly"), ("SendReceive", "SendRecv")] {
        c.ok(
            &format!("Modify T1 Mode = {mode}"),
            &format!("Context = {ctx} {{ Modify = {} {{ Media {{ Stream = 1 {{ LocalControl {{ Mode = {mode} }} }} }} }} }}", t1.id),
        )?;
        let r = c.ok(
            "AuditValue T1 Media",
            &format!(
                "Context = {ctx} {{ AuditValue = {} {{ Audit {{ Media }} }} }}",
                t1.id
            ),
        )?;
        let got = check::mode_of(&r);
        if !got
            .as_deref()
            .is_some_and(|g| g.eq_ignore_ascii_case(want) || g.eq_ignore_ascii_case(mode))
        {
            return Err(fail(
                "H.248.1 §7.1.7 the Mode set by Modify is in effect (hold / resume)",
                format!("Mode {mode} set, audit says {got:?}"),
            ));
        }
    }
    c.subtract("Subtract T1", &t1)?;
    c.subtract("Subtract T2", &t2)?;
    c.close(ctx);
    Ok(())
}

fn release(c: &mut Ctx<'_>) -> R {
    let (t1, t2) = c.new_context_plain()?;
    let ctx = t1.context;
    let r = c.ok(
        "Subtract T1 with statistics",
        &format!(
            "Context = {ctx} {{ Subtract = {} {{ Audit {{ Statistics }} }} }}",
            t1.id
        ),
    )?;
    if !check::has_descriptor(
        &r,
        |p| matches!(p, AuditReturnParameter::Statistics(s) if !s.is_empty()),
    ) {
        return Err(fail(
            "TS 29.334 §5.17.2 Release AGW Termination returns the termination's statistics",
            format!("no statistics: {}", one_line(&check::reply_text(&r))),
        ));
    }
    let r = c.ok(
        "Subtract * (wildcard)",
        &format!("Context = {ctx} {{ Subtract = * }}"),
    )?;
    let gone: Vec<String> = check::commands(&r)
        .into_iter()
        .flat_map(|(_, c)| check::terms_of(c))
        .collect();
    if !gone.contains(&t2.id) {
        return Err(fail(
            "H.248.1 §6.2.2 a wildcard Subtract answers for each termination it matched",
            format!("reply names {gone:?}, expected {}", t2.id),
        ));
    }
    c.close(ctx);
    let r = c.req(
        "Modify in the released context",
        &format!("Context = {ctx} {{ Modify = {} }}", t2.id),
    );
    expect_code(
        "Modify after release",
        &r,
        &[411, 430, 435],
        "H.248.1 §6.1 an emptied context is deleted",
    )
}

fn audit_all_contexts(c: &mut Ctx<'_>) -> R {
    let (a1, a2) = c.new_context_plain()?;
    let b1 = c.add_plain("Add T3 (second context)", "$", true, None)?;
    let r = c.req(
        "AuditValue * on all contexts",
        "Context = * { AuditValue = * { Audit { } } }",
    )?;
    if let Some((code, text)) = check::first_error(&r) {
        if code == 501 {
            return Err(Stop::Na(format!(
                "the MG does not implement commands on context * (501 {text:?}); an MGC cannot \
                 list the contexts it forgot"
            )));
        }
        return Err(fail(
            "H.248.1 7.2.5 AuditValue may name all contexts (*)",
            format!("error {code} {text:?}"),
        ));
    }
    let TransactionResult::Actions(replies) = &r else {
        return Err(fail("H.248.1 8.2 the reply carries action replies", "none"));
    };
    let mut listed: Vec<(u32, Vec<String>)> = Vec::new();
    for a in replies {
        let iq_codec::model::ContextId::Id(id) = a.context else {
            return Err(fail(
                "H.248.1 7.2.5 a wildcarded context is answered per context",
                format!("an action reply for context {:?}", a.context),
            ));
        };
        let terms = a.commands.iter().flat_map(check::terms_of).collect();
        listed.push((id, terms));
    }
    for (t, others) in [(&a1, vec![&a1, &a2]), (&b1, vec![&b1])] {
        let Some((_, terms)) = listed.iter().find(|(id, _)| *id == t.context) else {
            return Err(fail(
                "H.248.1 7.2.5 every context is listed",
                format!("context {} missing from {listed:?}", t.context),
            ));
        };
        for o in others {
            if !terms.contains(&o.id) {
                return Err(fail(
                    "H.248.1 7.2.5 each context's reply names its terminations",
                    format!("context {}: {terms:?} lacks {}", t.context, o.id),
                ));
            }
        }
    }
    Ok(())
}

fn err_context(c: &mut Ctx<'_>) -> R {
    let r = c.req(
        "Modify in context 4242424",
        "Context = 4242424 { Modify = ROOT }",
    );
    expect_code(
        "Modify unknown context",
        &r,
        &[411],
        "H.248.8 411 The transaction refers to an unknown ContextId",
    )
}

fn err_termination(c: &mut Ctx<'_>) -> R {
    let t = c.add_plain("Add T1", "$", true, None)?;
    let bogus = unknown_like(&t.id);
    let r = c.req(
        "Modify of an unknown termination",
        &format!("Context = {} {{ Modify = {bogus} }}", t.context),
    );
    expect_code(
        "Modify unknown termination",
        &r,
        &[430],
        "H.248.8 430 Unknown TerminationID",
    )?;
    // the context is untouched by the failure
    c.subtract("Subtract T1", &t)?;
    c.close(t.context);
    Ok(())
}

fn err_syntax(c: &mut Ctx<'_>) -> R {
    let id = c.link.probe_id();
    let bytes = if c.opts.binary {
        // a BER SEQUENCE whose length runs past the end
        vec![0x30, 0x82, 0x10, 0x00, 0xa1, 0x03, 0x02, 0x01, 0x03]
    } else {
        format!(
            "MEGACO/3 <iq-interop.conformance>\nTransaction = {id} {{ Context = 1 {{ Modify = x {{ Media {{ Stream = 1 {{ LocalControl {{ Mode = \n"
        )
        .into_bytes()
    };
    c.step(format!("raw: {}", String::from_utf8_lossy(&bytes).trim()));
    let r = c.link.raw(bytes, id).map_err(|e| {
        fail(
            "H.248.1 §8.2.2 / Annex D: a malformed message is answered with an error",
            e,
        )
    })?;
    let (code, where_) = match &r {
        ProbeReply::MessageError(e) => (e.code, "message error"),
        ProbeReply::Reply(t) => match check::first_error(t) {
            Some((code, _)) => (code, "transaction reply"),
            None => {
                return Err(fail(
                    "H.248.1 §8.2.2 syntax error -> 400-range error",
                    "the broken request was accepted",
                ))
            }
        },
    };
    c.step(format!("  answered with {code} ({where_})"));
    if (400..500).contains(&code) {
        Ok(())
    } else {
        Err(fail(
            "H.248.8 400 Syntax error in message / 403 in transaction (400 range)",
            format!("error {code}"),
        ))
    }
}

fn err_package(c: &mut Ctx<'_>) -> R {
    if c.opts.binary {
        return Err(Stop::Na(
            "an unknown package name cannot be encoded in BER".into(),
        ));
    }
    let t = c.add_plain("Add T1", "$", true, None)?;
    let r = c.req(
        "Modify with a property of package zzqq",
        &format!(
            "Context = {} {{ Modify = {} {{ Media {{ TerminationState {{ zzqq/prop = 1 }} }} }} }}",
            t.context, t.id
        ),
    );
    expect_code(
        "unknown package",
        &r,
        &[440, 445, 501],
        "TS 29.334 §5.2 / H.248.8 440 Unsupported or unknown Package (or 445 / 501)",
    )?;
    c.subtract("Subtract T1", &t)?;
    c.close(t.context);
    Ok(())
}

fn media_ready(c: &mut Ctx<'_>) -> Result<(), Stop> {
    c.need_webrtc()?;
    c.opts.ue.probe().map_err(Stop::Na)
}

fn local_addr(step: &str, t: &Term) -> Result<SocketAddr, Stop> {
    format!(
        "{}:{}",
        t.address().unwrap_or_default(),
        t.port().unwrap_or_default()
    )
    .parse()
    .map_err(|e| fail("H.248.1 §7.1.8 Local address", format!("{step}: {e}")))
}

/// The UE's and core peer's address: where we reach the MG from (the MG's Local must be
/// reachable; a loopback MG gets loopback peers).
fn peer_ip(mg: &SocketAddr) -> IpAddr {
    if mg.ip().is_loopback() {
        mg.ip()
    } else {
        IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
    }
}

fn media_case(c: &mut Ctx<'_>, agw_client: bool) -> R {
    media_ready(c)?;
    let mut ue = Ue::start(&c.opts.ue).map_err(Stop::Na)?;
    let ue_ip = "127.0.0.1";
    let setup = if agw_client { "actpass" } else { "active" };
    let t1 = add_access(
        c,
        "Add T1 (access, UE SDP)",
        Some(&ue_remote(
            ue_ip,
            ue.port,
            &ue.fingerprint,
            Some(setup),
            false,
        )),
        agw_client,
        "UDP/TLS/RTP/SAVPF",
    )?;
    let a1 = local_addr("Add T1", &t1)?;
    let mut core = CorePeer::bind(peer_ip(&a1)).map_err(|e| Stop::Na(format!("core peer: {e}")))?;
    let core_addr = core
        .addr()
        .map_err(|e| Stop::Na(format!("core peer: {e}")))?;
    let t2 = add_core(
        c,
        "Add T2 (core)",
        &t1.context.to_string(),
        Some((&core_addr.ip().to_string(), core_addr.port())),
    )?;
    let a2 = local_addr("Add T2", &t2)?;
    let fp = t1.attr("fingerprint").unwrap_or_default();
    c.step(format!(
        "UE {ue_ip}:{} <-> AGW access {a1}; core {core_addr} <-> AGW core {a2}",
        ue.port
    ));
    ue.send(&json!({"cmd": "run", "remote": a1.to_string(), "role": if agw_client { "server" } else { "client" },
        "peer_fingerprint": fp, "seconds": 2.5, "packets": 50}))
        .map_err(Stop::Na)?;
    core.run(a2, 50, Duration::from_millis(3000));
    let report = ue.read().map_err(|e| fail("media", e))?["report"].clone();
    c.step(format!(
        "UE handshake {}, sent {} recv {} RTP; core sent {} recv {} RTP, {} RTCP",
        report["handshake"],
        rtp_list(&report["sent_rtp"]).len(),
        rtp_list(&report["recv_rtp"]).len(),
        core.sent.len(),
        core.received.len(),
        core.rtcp_received
    ));
    if report["handshake"] != "ok" {
        return Err(fail(
            "RFC 5763/5764 DTLS-SRTP handshake with the AGW",
            format!("UE: {}", report["handshake"]),
        ));
    }
    let ue_sent = rtp_list(&report["sent_rtp"]);
    let ue_recv = rtp_list(&report["recv_rtp"]);
    if core.received != ue_sent || ue_sent.is_empty() {
        return Err(fail(
            "TS 23.334 6.2.10.5 SRTP from the UE reaches the core as RTP, unchanged",
            format!(
                "core got {} packets, UE sent {}",
                core.received.len(),
                ue_sent.len()
            ),
        ));
    }
    if ue_recv != core.sent || core.sent.is_empty() {
        return Err(fail(
            "TS 23.334 6.2.10.5 RTP from the core reaches the UE as SRTP, unchanged",
            format!(
                "UE got {} packets, core sent {}",
                ue_recv.len(),
                core.sent.len()
            ),
        ));
    }
    if core.rtcp_received == 0 || report["recv_rtcp"].as_u64().unwrap_or(0) == 0 {
        return Err(fail(
            "RTCP relayed both ways",
            format!(
                "core got {} RTCP, UE got {}",
                core.rtcp_received, report["recv_rtcp"]
            ),
        ));
    }
    c.subtract("Subtract T1", &t1)?;
    c.subtract("Subtract T2", &t2)?;
    c.close(t1.context);
    Ok(())
}

fn media_fig1(c: &mut Ctx<'_>) -> R {
    media_case(c, true)
}

fn media_fig2(c: &mut Ctx<'_>) -> R {
    media_case(c, false)
}

fn dtls_failure(c: &mut Ctx<'_>) -> R {
    media_ready(c)?;
    let mut ue = Ue::start(&c.opts.ue).map_err(Stop::Na)?;
    let wrong = format!("sha-256 {}", ["AB"; 32].join(":"));
    let t1 = add_access(
        c,
        "Add T1 (access, wrong UE fingerprint)",
        Some(&ue_remote(
            "127.0.0.1",
            ue.port,
            &wrong,
            Some("active"),
            false,
        )),
        false,
        "UDP/TLS/RTP/SAVPF",
    )?;
    let a1 = local_addr("Add T1", &t1)?;
    let fp = t1.attr("fingerprint").unwrap_or_default();
    ue.send(
        &json!({"cmd": "run", "remote": a1.to_string(), "role": "client", "peer_fingerprint": fp,
        "seconds": 2.5, "packets": 20, "handshake_seconds": 3}),
    )
    .map_err(Stop::Na)?;
    let report = ue.read().map_err(|e| fail("media", e))?["report"].clone();
    c.step(format!("UE handshake: {}", report["handshake"]));
    if report["handshake"] == "ok" {
        return Err(fail(
            "RFC 8122 §5 the AGW checks the peer certificate against the Remote fingerprint",
            "handshake with a wrong fingerprint succeeded",
        ));
    }
    let id = t1.id.clone();
    let notify = c.link.wait_for(Duration::from_secs(10), |s| match s {
        Seen::Request(a) => a
            .iter()
            .flat_map(|a| &a.commands)
            .find_map(|cmd| match &cmd.command {
                Command::Notify(n) => Some((
                    n.termination_ids
                        .iter()
                        .map(|t| t.0.to_string())
                        .collect::<Vec<_>>(),
                    format!("{:?}", n.observed_events),
                )),
                _ => None,
            }),
        _ => None,
    });
    let Some((terms, events)) = notify else {
        return Err(fail(
            "TS 29.334 xdtls/estfail: the AGW notifies the DTLS failure",
            "no Notify within 10 s",
        ));
    };
    c.step(format!("Notify on {terms:?}: {events}"));
    if !terms.contains(&id) || !events.contains("estfail") {
        return Err(fail(
            "TS 29.334 xdtls/estfail Notify names the access termination",
            format!("Notify on {terms:?}: {events}"),
        ));
    }
    c.ok(
        "Subtract T1",
        &format!("Context = {} {{ Subtract = * }}", t1.context),
    )?;
    c.close(t1.context);
    Ok(())
}

fn service_change(c: &mut Ctx<'_>) -> R {
    use iq_link::association::mgc::ServiceChangeOutcome as O;
    let o = c
        .link
        .service_change(ScKind::Forced(905))
        .map_err(|e| fail("H.248.1 §7.2.8 ServiceChange is answered", e))?;
    c.step(format!("ServiceChange Forced 905 on ROOT: {o:?}"));
    if o != O::Accepted {
        return Err(fail(
            "H.248.1 §7.2.8 MGC-directed Forced out of service is accepted",
            format!("{o:?}"),
        ));
    }
    let o = c
        .link
        .service_change(ScKind::Restart(900))
        .map_err(|e| fail("H.248.1 §7.2.8 ServiceChange is answered", e))?;
    c.step(format!("ServiceChange Restart 900 on ROOT: {o:?}"));
    if o != O::Accepted {
        return Err(fail(
            "H.248.1 §7.2.8 MGC-directed Restart (back in service) is accepted",
            format!("{o:?}"),
        ));
    }
    // in service again: a call can be set up
    let t = c.add_plain("Add T1 after Restart", "$", true, None)?;
    c.subtract("Subtract T1", &t)?;
    c.close(t.context);
    Ok(())
}

fn handoff(c: &mut Ctx<'_>) -> R {
    let Some(to) = c.opts.handoff_to.clone() else {
        return Err(Stop::Na("no --handoff-to MGC given".into()));
    };
    use iq_link::association::mgc::ServiceChangeOutcome as O;
    let o = c
        .link
        .service_change(ScKind::HandOff(to.clone()))
        .map_err(|e| fail("H.248.1 §11.5 HandOff is answered", e))?;
    c.step(format!(
        "ServiceChange HandOff 903 MgcIdToTry {}: {o:?}",
        iq_link::driver::format_mid(&to)
    ));
    if o != O::Accepted {
        return Err(fail(
            "H.248.1 §11.5 MGC-directed HandOff is accepted",
            format!("{o:?}"),
        ));
    }
    // the MG registers with the designated MGC; when that is this listener (same address),
    // we see it come back with Method HandOff
    let back = c.link.wait_for(c.opts.register_timeout, |s| match s {
        Seen::Registered(r) => Some((**r).clone()),
        _ => None,
    });
    match back {
        Some(r) => {
            let m = r.request.as_ref().map(|p| p.method.clone());
            c.step(format!("re-registered: {m:?}"));
            if m != Some(iq_codec::model::ServiceChangeMethod::HandOff) {
                return Err(fail(
                    "H.248.1 §11.5 after a HandOff the MG registers with Method HandOff",
                    format!("{m:?}"),
                ));
            }
            c.registration = Some(r);
            Ok(())
        }
        None => Err(Stop::Na(format!(
            "the MG accepted the HandOff; its registration with {} was not seen here",
            iq_link::driver::format_mid(&to)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_ids_differ_from_the_model() {
        assert_eq!(unknown_like("ip/acc/t5"), "ip/acc/t987654");
        assert_eq!(unknown_like("rtp/1"), "rtp/987654");
        assert_eq!(
            unknown_like("11111111/00000000/00000001"),
            "11111111/00000000/11111110"
        );
        assert_ne!(unknown_like("x"), "x");
    }
}
