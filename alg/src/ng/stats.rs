//! Counters of the daemon for the ng `statistics` command (rtpengine has a command of that
//! name; its reply here is our own shape, documented on [`Counters::reply`]). `iq-interop load`
//! reads them to count the Iq transactions a load run caused.

use iq_codec::model::{ActionRequest, Command, TransactionResult};

use super::bencode::Value;
use super::request::Request;

/// Monotonic counters since the daemon started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// ng requests read (any command, including `statistics`).
    pub ng_requests: u64,
    /// ng `offer`s.
    pub ng_offers: u64,
    /// ng `answer`s.
    pub ng_answers: u64,
    /// ng `delete`s.
    pub ng_deletes: u64,
    /// Sessions created (first offers that got an AGW).
    pub sessions_created: u64,
    /// Sessions released and dropped from the table.
    pub sessions_released: u64,
    /// Iq transactions the sessions asked for (sent or not).
    pub iq_requests: u64,
    /// Iq transactions that could not be sent (AGW not in service, transport error).
    pub iq_unsent: u64,
    /// `Add` commands in those transactions.
    pub iq_adds: u64,
    /// `Modify` commands.
    pub iq_modifies: u64,
    /// `Subtract` commands.
    pub iq_subtracts: u64,
    /// Other commands.
    pub iq_other: u64,
    /// Replies without a transaction or action error.
    pub iq_replies_ok: u64,
    /// Replies with a transaction or action error.
    pub iq_replies_error: u64,
    /// Transactions that timed out or were abandoned (association lost).
    pub iq_timeouts: u64,
}

fn int(x: u64) -> Value {
    Value::Int(i64::try_from(x).unwrap_or(i64::MAX))
}

impl Counters {
    /// Count one ng request by command.
    pub fn ng_request(&mut self, req: &Request) {
        self.ng_requests += 1;
        match req {
            Request::Offer(_) => self.ng_offers += 1,
            Request::Answer(_) => self.ng_answers += 1,
            Request::Delete(_) => self.ng_deletes += 1,
            _ => {}
        }
    }

    /// Count one Iq transaction a session asks for, by command.
    pub fn iq_request(&mut self, actions: &[ActionRequest]) {
        self.iq_requests += 1;
        for c in actions.iter().flat_map(|a| &a.commands) {
            match c.command {
                Command::Add(_) => self.iq_adds += 1,
                Command::Modify(_) => self.iq_modifies += 1,
                Command::Subtract(_) => self.iq_subtracts += 1,
                _ => self.iq_other += 1,
            }
        }
    }

    /// Count the reply to a session's transaction.
    pub fn iq_reply(&mut self, result: &TransactionResult) {
        let ok = match result {
            TransactionResult::Error(_) => false,
            TransactionResult::Actions(a) => a.iter().all(|r| r.error.is_none()),
        };
        if ok {
            self.iq_replies_ok += 1;
        } else {
            self.iq_replies_error += 1;
        }
    }

    /// The `statistics` reply:
    ///
    /// ```text
    /// { result: ok,
    ///   currentstatistics: { sessionsown: <sessions in the table>, transactions: <Iq in flight> },
    ///   totalstatistics: { managedsess: <created>, releasedsess: <released> },
    ///   ng: { requests, offer, answer, delete },
    ///   iq: { requests, unsent, add, modify, subtract, other, replies-ok, replies-error,
    ///         timeouts } }
    /// ```
    ///
    /// (`currentstatistics.sessionsown` and `totalstatistics.managedsess` are rtpengine's names.)
    pub fn reply(&self, sessions: usize, in_flight: usize) -> Value {
        let n = |x: usize| int(u64::try_from(x).unwrap_or(u64::MAX));
        Value::dict([
            ("result", Value::str("ok")),
            (
                "currentstatistics",
                Value::dict([("sessionsown", n(sessions)), ("transactions", n(in_flight))]),
            ),
            (
                "totalstatistics",
                Value::dict([
                    ("managedsess", int(self.sessions_created)),
                    ("releasedsess", int(self.sessions_released)),
                ]),
            ),
            (
                "ng",
                Value::dict([
                    ("requests", int(self.ng_requests)),
                    ("offer", int(self.ng_offers)),
                    ("answer", int(self.ng_answers)),
                    ("delete", int(self.ng_deletes)),
                ]),
            ),
            (
                "iq",
                Value::dict([
                    ("requests", int(self.iq_requests)),
                    ("unsent", int(self.iq_unsent)),
                    ("add", int(self.iq_adds)),
                    ("modify", int(self.iq_modifies)),
                    ("subtract", int(self.iq_subtracts)),
                    ("other", int(self.iq_other)),
                    ("replies-ok", int(self.iq_replies_ok)),
                    ("replies-error", int(self.iq_replies_error)),
                    ("timeouts", int(self.iq_timeouts)),
                ]),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iq_codec::model::{
        AmmRequest, CommandRequest, ContextId, ErrorDescriptor, SubtractRequest, TerminationId,
    };

    fn cmd(c: Command) -> CommandRequest {
        CommandRequest {
            command: c,
            optional: false,
            wildcard_return: false,
        }
    }

    #[test]
    fn counts_commands_and_outcomes() {
        let mut c = Counters::default();
        let add = Command::Add(AmmRequest {
            termination_ids: [TerminationId::root()].into(),
            descriptors: Vec::new(),
        });
        let sub = Command::Subtract(SubtractRequest {
            termination_ids: [TerminationId::root()].into(),
            audit: None,
        });
        c.iq_request(&[ActionRequest {
            context: ContextId::Choose,
            context_request: None,
            context_audit: None,
            commands: vec![cmd(add), cmd(sub.clone()), cmd(sub)],
        }]);
        assert_eq!((c.iq_requests, c.iq_adds, c.iq_subtracts), (1, 1, 2));
        c.iq_reply(&TransactionResult::Error(ErrorDescriptor {
            code: 510,
            text: None,
        }));
        c.iq_reply(&TransactionResult::Actions(Vec::new()));
        assert_eq!((c.iq_replies_ok, c.iq_replies_error), (1, 1));
        let v = c.reply(3, 2);
        let iq = v.get("iq").expect("iq");
        assert_eq!(iq.get("subtract").and_then(Value::as_int), Some(2));
        assert_eq!(
            v.get("currentstatistics")
                .and_then(|s| s.get("sessionsown"))
                .and_then(Value::as_int),
            Some(3)
        );
    }
}
