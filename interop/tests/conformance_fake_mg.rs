//! A deliberately broken MG (scripted on iq-link's `Mg`) must fail exactly the checks it breaks:
//! its Add reply for a DTLS access termination carries a lower-case fingerprint, and it answers
//! a Modify in an unknown context with 430 instead of 411. Its plain-RTP answers are correct,
//! so `plain-call` must pass (the checks are not failing everything).

mod conformance_util;

use std::time::{Duration, Instant};

use iq_codec::model::{
    ActionRequest, Command, ContextId, MessageBody, Transaction, TransactionResult,
};
use iq_link::association::{mg, Mg, MgConfig};
use iq_link::driver::{parse_mid, MgDriver};
use iq_link::transport::{TransportConfig, TransportKind};

use conformance_util::{free_port, Run};

fn reply(body: &str) -> TransactionResult {
    let m = iq_codec::text::decode(format!("MEGACO/3 <fake>\nReply = 1 {{ {body} }}").as_bytes())
        .unwrap_or_else(|e| panic!("{e}\n{body}"));
    match m.body {
        MessageBody::Transactions(mut t) => match t.remove(0) {
            Transaction::Reply(r) => r.result,
            _ => panic!(),
        },
        _ => panic!(),
    }
}

/// The broken MG's answers.
fn answer(actions: &[ActionRequest], next: &mut u32) -> TransactionResult {
    let a = &actions[0];
    let c = &a.commands[0].command;
    let ctx = match a.context {
        ContextId::Id(n) => n,
        _ => 7,
    };
    let text = format!("{c:?}");
    match c {
        Command::AuditValue(_) => reply(
            "Context = - { AuditValue = ROOT { Packages { root-2, g-1, nt-1, rtp-1, xdtls-1 } } }",
        ),
        Command::Add(_) => {
            *next += 1;
            let dtls = text.contains("SAVPF");
            let local = if dtls {
                // lower-case hex: breaks RFC 8122's UHEX
                format!(
                    "v=0\nc=IN IP4 127.0.0.1\nm=audio 4000 UDP/TLS/RTP/SAVPF 0\na=ice-ufrag:abcd\na=ice-pwd:0123456789abcdefghijkl\na=fingerprint:sha-256 {}\n",
                    ["ab"; 32].join(":")
                )
            } else {
                "v=0\nc=IN IP4 127.0.0.1\nm=audio 4002 RTP/AVP 0\n".to_string()
            };
            reply(&format!(
                "Context = {ctx} {{ Add = rtp/{} {{ Media {{ Stream = 1 {{ Local {{\n{local}}} }} }} }} }}",
                *next
            ))
        }
        Command::Modify(m) if ctx == 7 => reply(&format!(
            "Context = {ctx} {{ Modify = {} }}",
            m.termination_ids[0].0
        )),
        // wrong: an unknown context should be 411
        Command::Modify(_) => reply(&format!("Context = {ctx} {{ Error = 430 {{ \"no\" }} }}")),
        Command::Subtract(s) => reply(&format!(
            "Context = {ctx} {{ Subtract = {} }}",
            s.termination_ids[0].0
        )),
        _ => reply(&format!("Context = {ctx} {{ Error = 501 }}")),
    }
}

#[test]
fn broken_replies_fail_the_checks_they_break_and_only_those() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut run = Run::start(&[
        "--mg",
        "<fake.example.net>@127.0.0.1",
        "--listen",
        &listen,
        "--transport",
        "tcp",
        "--only",
        "plain-call",
        "fig-6.2.10.5.1",
        "error-unknown-context",
    ]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let t = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut cfg = MgConfig::new(
                parse_mid("<fake.example.net>").unwrap(),
                parse_mid("<iq-interop.conformance>").unwrap(),
            );
            cfg.transaction.reliable = true;
            let mut d = MgDriver::new(
                Mg::new(cfg).unwrap(),
                TransportConfig::new(TransportKind::Tcp),
                listen.parse().unwrap(),
                None,
            );
            let mut next = 0;
            let mut on = |m: &mut Mg, now: Instant, ev: mg::Event| {
                if let mg::Event::Request { id, actions } = ev {
                    let _ = m.send_reply(now, id, answer(&actions, &mut next));
                }
            };
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                d.run_until(tokio::time::sleep(Duration::from_millis(100)), &mut on)
                    .await;
            }
        });
    });
    let (code, table) = run.finish(Duration::from_secs(60));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = t.join();
    assert_eq!(
        table["registration"],
        "PASS",
        "{}",
        run.line("registration")
    );
    assert_eq!(table["plain-call"], "PASS", "{}", run.line("plain-call"));
    assert_eq!(table["fig-6.2.10.5.1"], "FAIL");
    let l = run.line("fig-6.2.10.5.1");
    assert!(l.contains("RFC 8122") && l.contains("upper-case"), "{l}");
    assert_eq!(table["error-unknown-context"], "FAIL");
    let l = run.line("error-unknown-context");
    assert!(l.contains("411") && l.contains("error 430"), "{l}");
    assert_eq!(code, Some(1));
    conformance_util::junit_matches_summary(&run.junit, &table);
}
