//! A signalling-only context table: allocates context and termination IDs and fills `$` in
//! Local SDP with an address and a port from a counter. No media is handled.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use iq_codec::model::{
    ActionReply, ActionRequest, AmmDescriptor, AmmRequest, AmmsReply, AuditItem, AuditReply,
    AuditRequest, AuditReturnParameter, Command, CommandReply, ContextId, ErrorDescriptor,
    LocalRemoteDescriptor, MediaDescriptor, NotifyReply, PackagesItem, StreamParms, Streams,
    TerminationId, TransactionResult,
};

/// 411 The transaction refers to an unknown ContextId (H.248.8).
pub const UNKNOWN_CONTEXT: u16 = 411;
/// 430 Unknown TerminationID (H.248.8).
pub const UNKNOWN_TERMINATION: u16 = 430;
/// 433 TerminationID is already in a Context (H.248.8).
pub const ALREADY_IN_CONTEXT: u16 = 433;
/// 501 Not Implemented.
pub const NOT_IMPLEMENTED: u16 = 501;

/// The table.
#[derive(Debug)]
pub struct Contexts {
    media_address: IpAddr,
    next_context: u32,
    next_termination: u32,
    next_port: u16,
    first_port: u16,
    contexts: BTreeMap<u32, BTreeSet<TerminationId>>,
    packages: Vec<PackagesItem>,
    /// Name chosen terminations with binary-digit levels (`00000001/00000000/00000101`)
    /// instead of `ip/acc/t5`: the form stacks with megaco's default binary termination IDs
    /// (8/8/8 bits) can carry in BER.
    binary_names: bool,
}

fn err(code: u16, text: &str) -> ErrorDescriptor {
    ErrorDescriptor {
        code,
        text: Some(text.into()),
    }
}

impl Contexts {
    /// Name chosen terminations with binary-digit levels (see the field); off by default.
    pub fn with_binary_names(mut self, on: bool) -> Self {
        self.binary_names = on;
        self
    }

    /// An empty table; Local SDP gets `media_address` and even ports from `first_port` up.
    pub fn new(media_address: IpAddr, first_port: u16) -> Self {
        Contexts {
            media_address,
            next_context: 1,
            next_termination: 1,
            next_port: first_port,
            first_port,
            contexts: BTreeMap::new(),
            binary_names: false,
            packages: ["root", "ipdc", "it"]
                .iter()
                .map(|n| PackagesItem {
                    name: (*n).into(),
                    version: 1,
                })
                .collect(),
        }
    }

    /// Number of contexts.
    pub fn len(&self) -> usize {
        self.contexts.len()
    }

    /// Forget every context (out of service, Forced).
    pub fn clear(&mut self) {
        self.contexts.clear();
    }

    /// Execute a transaction and build its reply.
    pub fn execute(&mut self, actions: &[ActionRequest]) -> TransactionResult {
        TransactionResult::Actions(actions.iter().map(|a| self.action(a)).collect())
    }

    fn action(&mut self, a: &ActionRequest) -> ActionReply {
        let mut reply = ActionReply {
            context: a.context,
            error: None,
            context_reply: None,
            commands: Vec::new(),
        };
        let mut ctx = match a.context {
            ContextId::Id(id) if !self.contexts.contains_key(&id) => {
                reply.error = Some(err(UNKNOWN_CONTEXT, "unknown context"));
                return reply;
            }
            c => c,
        };
        for c in &a.commands {
            let r = match (&c.command, ctx) {
                (Command::AuditValue(r), ContextId::Null) => self.audit(r),
                (Command::Notify(n), _) => Ok(CommandReply::Notify(NotifyReply {
                    termination_ids: n.termination_ids.clone(),
                    error: None,
                })),
                (Command::Add(r), ContextId::Choose) => {
                    let id = self.next_context;
                    self.next_context = self.next_context.checked_add(1).unwrap_or(1);
                    self.contexts.insert(id, BTreeSet::new());
                    ctx = ContextId::Id(id);
                    reply.context = ctx;
                    self.add(id, r)
                }
                (Command::Add(r), ContextId::Id(id)) => self.add(id, r),
                (Command::Modify(r), ContextId::Id(id)) => self.modify(id, r),
                (Command::Subtract(r), ContextId::Id(id)) => self.subtract(id, &r.termination_ids),
                (other, _) => Err(err(
                    NOT_IMPLEMENTED,
                    &format!("{} not supported in this context", other.name()),
                )),
            };
            match r {
                Ok(r) => reply.commands.push(r),
                Err(e) => {
                    reply.error = Some(e);
                    break;
                }
            }
        }
        // A context chosen here that ended up empty (failed Add) is not kept.
        if let ContextId::Id(id) = ctx {
            if self.contexts.get(&id).is_some_and(BTreeSet::is_empty) {
                self.contexts.remove(&id);
            }
        }
        reply
    }

    fn audit(&self, r: &AuditRequest) -> Result<CommandReply, ErrorDescriptor> {
        if !r.termination_ids.iter().all(TerminationId::is_root) {
            return Err(err(UNKNOWN_TERMINATION, "only ROOT can be audited here"));
        }
        let wants_packages = r
            .audit
            .as_ref()
            .is_some_and(|a| a.items.contains(&AuditItem::Packages));
        let audit = if wants_packages {
            vec![AuditReturnParameter::Packages(self.packages.clone())]
        } else {
            Vec::new()
        };
        Ok(CommandReply::AuditValue(AuditReply::AuditResult {
            termination_ids: vec![TerminationId::root()],
            audit,
        }))
    }

    fn find(&self, t: &TerminationId) -> Option<u32> {
        self.contexts
            .iter()
            .find(|(_, ts)| ts.contains(t))
            .map(|(id, _)| *id)
    }

    fn add(&mut self, ctx: u32, r: &AmmRequest) -> Result<CommandReply, ErrorDescriptor> {
        let media = media_of(r);
        let mut ids = Vec::new();
        for t in &r.termination_ids {
            let id = if t.as_str().contains('$') {
                let side = if realm(media).is_some_and(|v| v.contains("core")) {
                    "core"
                } else {
                    "acc"
                };
                let n = self.next_termination;
                self.next_termination += 1;
                if self.binary_names {
                    // level 1: the realm (1 access, 2 core); levels 2 and 3: the number.
                    let realm = if side == "core" { 2 } else { 1 };
                    TerminationId::new(&format!(
                        "{realm:08b}/{:08b}/{:08b}",
                        (n >> 8) & 0xff,
                        n & 0xff
                    ))
                } else {
                    TerminationId::new(&format!("ip/{side}/t{n}"))
                }
            } else if t.is_root() || t.is_wildcard() {
                return Err(err(NOT_IMPLEMENTED, "cannot add this termination"));
            } else if self.find(t).is_some() {
                return Err(err(ALREADY_IN_CONTEXT, "termination already in a context"));
            } else {
                t.clone()
            };
            ids.push(id);
        }
        let audit = media.map(|m| vec![AuditReturnParameter::Media(self.fill(m))]);
        let set = self.contexts.entry(ctx).or_default();
        set.extend(ids.iter().cloned());
        Ok(CommandReply::Add(AmmsReply {
            termination_ids: ids,
            audit,
        }))
    }

    fn modify(&mut self, ctx: u32, r: &AmmRequest) -> Result<CommandReply, ErrorDescriptor> {
        let set = &self.contexts[&ctx];
        for t in &r.termination_ids {
            if !set.contains(t) {
                return Err(err(UNKNOWN_TERMINATION, "termination not in this context"));
            }
        }
        let audit = media_of(r).map(|m| vec![AuditReturnParameter::Media(self.fill(m))]);
        Ok(CommandReply::Modify(AmmsReply {
            termination_ids: r.termination_ids.clone(),
            audit,
        }))
    }

    fn subtract(
        &mut self,
        ctx: u32,
        ids: &[TerminationId],
    ) -> Result<CommandReply, ErrorDescriptor> {
        let set = self.contexts.get_mut(&ctx).expect("checked");
        let gone: Vec<TerminationId> = if ids.iter().any(|t| t.as_str() == "*") {
            std::mem::take(set).into_iter().collect()
        } else {
            if let Some(t) = ids.iter().find(|t| !set.contains(t)) {
                return Err(err(
                    UNKNOWN_TERMINATION,
                    &format!("{} not in this context", t.as_str()),
                ));
            }
            ids.iter().filter(|t| set.remove(t)).cloned().collect()
        };
        if set.is_empty() {
            self.contexts.remove(&ctx);
        }
        Ok(CommandReply::Subtract(AmmsReply {
            termination_ids: gone,
            audit: None,
        }))
    }

    /// The Media descriptor with `$` in Local SDP filled in (address, port).
    fn fill(&mut self, m: &MediaDescriptor) -> MediaDescriptor {
        let mut m = m.clone();
        let mut fill_one = |p: &mut StreamParms| {
            if let Some(local) = p.local.as_mut() {
                self.fill_sdp(local);
            }
        };
        match m.streams.as_mut() {
            Some(Streams::One(p)) => fill_one(p),
            Some(Streams::Multi(v)) => v.iter_mut().for_each(|s| fill_one(&mut s.parms)),
            None => {}
        }
        m
    }

    fn fill_sdp(&mut self, d: &mut LocalRemoteDescriptor) {
        for group in &mut d.groups {
            for prop in group.iter_mut() {
                for v in prop.value.iter_mut() {
                    if !v.contains('$') {
                        continue;
                    }
                    let with = match prop.name.as_str() {
                        "m" => {
                            let port = self.next_port;
                            self.next_port = match self.next_port.checked_add(2) {
                                Some(p) => p,
                                None => self.first_port,
                            };
                            port.to_string()
                        }
                        "o" => "0".to_string(),
                        _ => self.media_address.to_string(),
                    };
                    *v = v.replacen('$', &with, 1);
                    if prop.name == "o" {
                        *v = v.replace('$', &self.media_address.to_string());
                    }
                }
            }
        }
    }
}

fn media_of(r: &AmmRequest) -> Option<&MediaDescriptor> {
    r.descriptors.iter().find_map(|d| match d {
        AmmDescriptor::Media(m) => Some(m),
        _ => None,
    })
}

/// The `ipdc/realm` property, from TerminationState or any stream's LocalControl.
fn realm(m: Option<&MediaDescriptor>) -> Option<String> {
    let m = m?;
    let mut props: Vec<_> = m
        .termination_state
        .iter()
        .flat_map(|t| t.props.iter())
        .collect();
    let streams: Vec<&StreamParms> = match &m.streams {
        Some(Streams::One(p)) => vec![p],
        Some(Streams::Multi(v)) => v.iter().map(|s| &s.parms).collect(),
        None => Vec::new(),
    };
    for p in streams {
        if let Some(lc) = &p.local_control {
            props.extend(lc.props.iter());
        }
    }
    props
        .into_iter()
        .find(|p| p.name == "ipdc/realm")
        .and_then(|p| p.value.first())
        .map(|v| v.trim_matches('"').to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_actions(text: &str) -> Vec<ActionRequest> {
        let msg = iq_codec::text::decode(text.as_bytes()).expect("decodes");
        match msg.body {
            iq_codec::model::MessageBody::Transactions(ts) => match ts.into_iter().next() {
                Some(iq_codec::model::Transaction::Request(r)) => r.actions,
                other => panic!("not a request: {other:?}"),
            },
            other => panic!("not transactions: {other:?}"),
        }
    }

    fn actions(result: TransactionResult) -> Vec<ActionReply> {
        match result {
            TransactionResult::Actions(a) => a,
            TransactionResult::Error(e) => panic!("error {e:?}"),
        }
    }

    #[test]
    fn add_modify_subtract() {
        let mut c = Contexts::new("127.0.0.1".parse().unwrap(), 20000);
        let add = decode_actions(
            "MEGACO/3 [127.0.0.1]:2944\nTransaction = 1 { Context = $ { Add = ip/$ { Media { \
             Stream = 1 { LocalControl { Mode = SendReceive, ipdc/realm = \"core\" }, \
             Local { \nv=0\nc=IN IP4 $\nm=audio $ RTP/AVP 0\n } } } } } }",
        );
        let r = actions(c.execute(&add));
        assert_eq!(r[0].error, None);
        assert_eq!(r[0].context, ContextId::Id(1));
        let CommandReply::Add(a) = &r[0].commands[0] else {
            panic!()
        };
        assert_eq!(a.termination_ids, vec![TerminationId::new("ip/core/t1")]);
        let text = format!("{:?}", a.audit);
        assert!(text.contains("IN IP4 127.0.0.1"), "{text}");
        assert!(text.contains("audio 20000 RTP/AVP 0"), "{text}");
        assert_eq!(c.len(), 1);

        let bad = decode_actions(
            "MEGACO/3 [127.0.0.1]:2944\nTransaction = 2 { Context = 7 { Modify = ip/acc/t9 } }",
        );
        assert_eq!(
            actions(c.execute(&bad))[0].error.as_ref().unwrap().code,
            UNKNOWN_CONTEXT
        );
        let bad = decode_actions(
            "MEGACO/3 [127.0.0.1]:2944\nTransaction = 3 { Context = 1 { Subtract = ip/acc/t9 } }",
        );
        assert_eq!(
            actions(c.execute(&bad))[0].error.as_ref().unwrap().code,
            UNKNOWN_TERMINATION
        );
        let sub = decode_actions(
            "MEGACO/3 [127.0.0.1]:2944\nTransaction = 4 { Context = 1 { Subtract = ip/core/t1 } }",
        );
        assert_eq!(actions(c.execute(&sub))[0].error, None);
        assert_eq!(c.len(), 0);
    }
}
