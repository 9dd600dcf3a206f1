//! Helpers for the procedure tests: hand-written H.248 text (digest section 3) decoded with
//! the text codec, hand-written SDP, and a driver that collects a session's outputs.
#![allow(dead_code)]

use iq_alg::procedures::*;
use iq_codec::model::{ActionRequest, MessageBody, NotifyRequest, Transaction, TransactionResult};
use std::time::Instant;

pub const UE_FP: &str = "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00";
pub const UE_FP2: &str = "99:88:77:66:55:44:33:22:11:00:FF:EE:DD:CC:BB:AA:99:88:77:66:55:44:33:22:11:00:FF:EE:DD:CC:BB:AA";
pub const AGW_FP: &str = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
pub const UE_TLS_ID: &str = "ueTlsIdUeTlsIdUeTlsId01";
pub const UE_TLS_ID2: &str = "ueTlsIdUeTlsIdUeTlsId02";

/// The actions of the one transaction request in an H.248 text message from the ALG.
pub fn request(body: &str) -> Vec<ActionRequest> {
    let text = format!("MEGACO/3 <alg1.example.net>:2944\n{body}\n");
    let msg = iq_codec::text::decode(text.as_bytes())
        .unwrap_or_else(|e| panic!("expected text does not decode: {e}\n{text}"));
    match msg.body {
        MessageBody::Transactions(mut t) => match t.remove(0) {
            Transaction::Request(r) => r.actions,
            other => panic!("not a request: {other:?}"),
        },
        other => panic!("not transactions: {other:?}"),
    }
}

/// The result of the one transaction reply in an H.248 text message from the AGW.
pub fn reply(body: &str) -> TransactionResult {
    let text = format!("MEGACO/3 <agw1.example.net>:2944\n{body}\n");
    let msg = iq_codec::text::decode(text.as_bytes())
        .unwrap_or_else(|e| panic!("reply text does not decode: {e}\n{text}"));
    match msg.body {
        MessageBody::Transactions(mut t) => match t.remove(0) {
            Transaction::Reply(r) => r.result,
            other => panic!("not a reply: {other:?}"),
        },
        other => panic!("not transactions: {other:?}"),
    }
}

/// The Notify command of an H.248 text message from the AGW.
pub fn notify(body: &str) -> NotifyRequest {
    let acts = {
        let text = format!("MEGACO/3 <agw1.example.net>:2944\n{body}\n");
        let msg = iq_codec::text::decode(text.as_bytes()).expect("notify decodes");
        match msg.body {
            MessageBody::Transactions(mut t) => match t.remove(0) {
                Transaction::Request(r) => r.actions,
                _ => panic!(),
            },
            _ => panic!(),
        }
    };
    match &acts[0].commands[0].command {
        iq_codec::model::Command::Notify(n) => n.clone(),
        other => panic!("not a notify: {other:?}"),
    }
}

/// Parse SDP written with LF (sent as CRLF, like SIP).
pub fn sdp(text: &str) -> Sdp {
    Sdp::parse(&text.trim_start().replace('\n', "\r\n")).expect("test SDP parses")
}

/// Drives a session and collects outputs.
pub struct Driver {
    pub s: Session,
    pub now: Instant,
    pub out: Vec<Output>,
    pub tls_ids: TlsIdAllocator,
}

impl Driver {
    pub fn new(cfg: SessionConfig) -> Self {
        let tls_ids = TlsIdAllocator::new();
        Driver {
            s: Session::new(cfg, tls_ids.clone()),
            now: Instant::now(),
            out: Vec::new(),
            tls_ids,
        }
    }

    fn drain(&mut self) {
        while let Some(o) = self.s.poll_output() {
            self.out.push(o);
        }
    }

    pub fn offer(&mut self, from: Side, text: &str) -> Result<(), ProcedureError> {
        let r = self.s.handle_offer(from, sdp(text), self.now);
        self.drain();
        r
    }

    pub fn answer(&mut self, from: Side, text: &str) -> Result<(), ProcedureError> {
        let r = self.s.handle_answer(from, sdp(text), self.now);
        self.drain();
        r
    }

    pub fn reply(&mut self, token: TxToken, body: &str) {
        self.s
            .handle_iq_reply(token, IqOutcome::Replied(reply(body)), self.now)
            .expect("reply accepted");
        self.drain();
    }

    pub fn outcome(&mut self, token: TxToken, o: IqOutcome) {
        self.s
            .handle_iq_reply(token, o, self.now)
            .expect("outcome accepted");
        self.drain();
    }

    pub fn notify(&mut self, body: &str) -> NotifyOutcome {
        let r = self.s.handle_notify(&notify(body), self.now);
        self.drain();
        r
    }

    pub fn release(&mut self) {
        self.s.release(self.now);
        self.drain();
    }

    /// The next output must be an Iq request equal to the hand-written `expected` text
    /// (decoded); returns its token.
    #[track_caller]
    pub fn expect_iq(&mut self, expected: &str) -> TxToken {
        assert!(
            !self.out.is_empty(),
            "no output; expected an Iq request:\n{expected}"
        );
        match self.out.remove(0) {
            Output::Iq { token, actions } => {
                let want = request(expected);
                assert_eq!(
                    actions, want,
                    "\nIq request differs.\n got: {actions:#?}\nwant: {want:#?}"
                );
                token
            }
            other => panic!("expected an Iq request, got {other:?}\nwant:\n{expected}"),
        }
    }

    /// The next output must be SDP of `kind` for `side`; returns it.
    #[track_caller]
    pub fn expect_sdp(&mut self, side: Side, kind: SdpKind) -> Sdp {
        assert!(
            !self.out.is_empty(),
            "no output; expected SDP {kind:?} to {side:?}"
        );
        match self.out.remove(0) {
            Output::Sdp {
                side: s,
                kind: k,
                sdp,
            } => {
                assert_eq!((s, k), (side, kind), "SDP for the wrong side/kind");
                sdp
            }
            other => panic!("expected SDP {kind:?} to {side:?}, got {other:?}"),
        }
    }

    #[track_caller]
    pub fn expect_failed(&mut self) -> FailureReason {
        assert!(!self.out.is_empty(), "no output; expected Failed");
        match self.out.remove(0) {
            Output::Failed { reason } => reason,
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[track_caller]
    pub fn expect_released(&mut self) {
        assert!(!self.out.is_empty(), "no output; expected Released");
        match self.out.remove(0) {
            Output::Released => {}
            other => panic!("expected Released, got {other:?}"),
        }
    }

    #[track_caller]
    pub fn expect_nothing(&mut self) {
        assert!(self.out.is_empty(), "unexpected outputs: {:#?}", self.out);
    }
}

/// Compare SDP with hand-written lines. The `o=` line must read `o=- <digits> <version> IN
/// <addrtype> <addr>` as given in `expected` with `*` for the session id; the rest compares
/// line by line.
#[track_caller]
pub fn assert_sdp(got: &Sdp, expected: &str) {
    let text = got.to_string();
    assert!(
        text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'),
        "CRLF line ends"
    );
    let got_lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    let want: Vec<&str> = expected.trim().lines().map(str::trim).collect();
    assert_eq!(
        got_lines.len(),
        want.len(),
        "\nSDP line count differs.\n got:\n{}\nwant:\n{}",
        got_lines.join("\n"),
        want.join("\n")
    );
    for (g, w) in got_lines.iter().zip(&want) {
        if let Some(wo) = w.strip_prefix("o=") {
            let gf: Vec<&str> = g.trim_start_matches("o=").split(' ').collect();
            let wf: Vec<&str> = wo.split(' ').collect();
            assert_eq!(gf.len(), 6, "o= line {g}");
            assert!(
                gf[1].bytes().all(|b| b.is_ascii_digit()),
                "o= session id {g}"
            );
            assert_eq!(
                (gf[0], gf[2], gf[3], gf[4], gf[5]),
                (wf[0], wf[2], wf[3], wf[4], wf[5]),
                "o= line {g} vs {w}"
            );
        } else {
            assert_eq!(
                g,
                w,
                "\nSDP differs.\n got:\n{}\nwant:\n{}",
                got_lines.join("\n"),
                want.join("\n")
            );
        }
    }
}

/// RFC 8842 format of the ALG's tls-id: 24 characters of [A-Za-z0-9+/].
#[track_caller]
pub fn assert_tls_id_format(id: &str) {
    assert_eq!(id.len(), 24, "tls-id {id}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'),
        "tls-id {id}"
    );
}
