//! Reading MG replies: errors, chosen contexts and terminations, Local SDP, descriptors; and the
//! format checks of the Iq profile (fingerprint, ICE credentials).

use iq_codec::model::{
    ActionReply, AuditReply, AuditReturnParameter, CommandReply, ContextId, LocalRemoteDescriptor,
    MId, Message, MessageBody, StreamParms, Streams, TerminationAudit, Transaction,
    TransactionReply, TransactionResult,
};

/// The pretty text of a reply (for failure messages and scanning).
pub fn reply_text(result: &TransactionResult) -> String {
    let m = Message {
        auth: None,
        version: 3,
        mid: MId::Device("mg".into()),
        body: MessageBody::Transactions(
            [Transaction::Reply(TransactionReply {
                id: 1,
                imm_ack_required: false,
                result: result.clone(),
                segment_number: None,
                segmentation_complete: false,
            })]
            .into(),
        ),
    };
    iq_codec::text::encode(&m, iq_codec::text::Style::Pretty)
}

/// The first error (transaction, action, command or returned-descriptor level) of a reply.
pub fn first_error(result: &TransactionResult) -> Option<(u16, String)> {
    let e = |d: &iq_codec::model::ErrorDescriptor| (d.code, d.text.clone().unwrap_or_default());
    match result {
        TransactionResult::Error(d) => Some(e(d)),
        TransactionResult::Actions(acts) => acts.iter().find_map(|a| {
            a.error.as_ref().map(e).or_else(|| {
                a.commands.iter().find_map(|c| match c {
                    CommandReply::Notify(n) => n.error.as_ref().map(e),
                    CommandReply::AuditValue(AuditReply::Error(d))
                    | CommandReply::AuditCapabilities(AuditReply::Error(d)) => Some(e(d)),
                    CommandReply::ServiceChange(s) => match &s.result {
                        iq_codec::model::ServiceChangeResult::Error(d) => Some(e(d)),
                        _ => None,
                    },
                    other => audit_of(other).and_then(|a| {
                        a.iter().find_map(|p| match p {
                            AuditReturnParameter::Error(d) => Some(e(d)),
                            _ => None,
                        })
                    }),
                })
            })
        }),
    }
}

/// The descriptors returned by one command reply.
pub fn audit_of(c: &CommandReply) -> Option<&TerminationAudit> {
    match c {
        CommandReply::Add(r)
        | CommandReply::Modify(r)
        | CommandReply::Move(r)
        | CommandReply::Subtract(r) => r.audit.as_ref(),
        CommandReply::AuditValue(AuditReply::AuditResult { audit, .. })
        | CommandReply::AuditCapabilities(AuditReply::AuditResult { audit, .. }) => Some(audit),
        _ => None,
    }
}

/// The termination IDs of one command reply.
pub fn terms_of(c: &CommandReply) -> Vec<String> {
    match c {
        CommandReply::Add(r)
        | CommandReply::Modify(r)
        | CommandReply::Move(r)
        | CommandReply::Subtract(r) => r.termination_ids.iter().map(|t| t.0.to_string()).collect(),
        CommandReply::AuditValue(AuditReply::AuditResult {
            termination_ids, ..
        })
        | CommandReply::AuditCapabilities(AuditReply::AuditResult {
            termination_ids, ..
        }) => termination_ids.iter().map(|t| t.0.to_string()).collect(),
        CommandReply::AuditValue(AuditReply::ContextAuditResult(t)) => {
            t.iter().map(|t| t.0.to_string()).collect()
        }
        CommandReply::Notify(n) => n.termination_ids.iter().map(|t| t.0.to_string()).collect(),
        CommandReply::ServiceChange(s) => {
            s.termination_ids.iter().map(|t| t.0.to_string()).collect()
        }
        _ => Vec::new(),
    }
}

/// Every command reply of every action.
pub fn commands(result: &TransactionResult) -> Vec<(&ActionReply, &CommandReply)> {
    match result {
        TransactionResult::Actions(a) => a
            .iter()
            .flat_map(|ar| ar.commands.iter().map(move |c| (ar, c)))
            .collect(),
        TransactionResult::Error(_) => Vec::new(),
    }
}

fn streams(p: &AuditReturnParameter) -> Vec<&StreamParms> {
    match p {
        AuditReturnParameter::Media(m) => match &m.streams {
            Some(Streams::One(s)) => vec![s],
            Some(Streams::Multi(v)) => v.iter().map(|s| &s.parms).collect(),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// SDP lines (`type`, rest) of a Local/Remote descriptor's first group.
pub fn sdp_lines(d: &LocalRemoteDescriptor) -> Vec<(String, String)> {
    d.groups
        .first()
        .map(|g| {
            g.iter()
                .map(|p| (p.name.to_string(), p.value.join(" ")))
                .collect()
        })
        .unwrap_or_default()
}

/// What one Add/Modify reply said about its termination.
#[derive(Debug, Clone, Default)]
pub struct Term {
    /// Context chosen.
    pub context: u32,
    /// Termination ID.
    pub id: String,
    /// Local SDP lines (type, value), empty if none returned.
    pub local: Vec<(String, String)>,
}

impl Term {
    /// Value of the first SDP line of this type whose value starts with `prefix`, minus it.
    pub fn line(&self, kind: &str, prefix: &str) -> Option<String> {
        self.local
            .iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(kind) && v.starts_with(prefix))
            .map(|(_, v)| v[prefix.len()..].trim().to_string())
    }

    /// `a=<name>:value`.
    pub fn attr(&self, name: &str) -> Option<String> {
        self.line("a", &format!("{name}:"))
    }

    /// The `c=` address.
    pub fn address(&self) -> Option<String> {
        self.line("c", "")
            .and_then(|c| c.split_whitespace().nth(2).map(str::to_string))
    }

    /// The `m=` port (first media line).
    pub fn port(&self) -> Option<String> {
        self.line("m", "")
            .and_then(|m| m.split_whitespace().nth(1).map(str::to_string))
    }

    /// The `m=` proto.
    pub fn proto(&self) -> Option<String> {
        self.line("m", "")
            .and_then(|m| m.split_whitespace().nth(2).map(str::to_string))
    }

    /// Whether any SDP value still holds a `$` (the MG left a choice unmade).
    pub fn unfilled(&self) -> Vec<String> {
        self.local
            .iter()
            .filter(|(_, v)| v.split_whitespace().any(|w| w == "$" || w.ends_with(":$")))
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    /// The Local SDP as text lines.
    pub fn sdp(&self) -> String {
        self.local
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// The termination of the single Add/Modify command reply of `result`, with its Local SDP.
pub fn term_of(result: &TransactionResult) -> Option<Term> {
    let (ar, c) = commands(result).into_iter().next()?;
    let context = match ar.context {
        ContextId::Id(c) => c,
        _ => return None,
    };
    let id = terms_of(c).into_iter().next()?;
    let local = audit_of(c)
        .into_iter()
        .flatten()
        .flat_map(streams)
        .find_map(|s| s.local.as_ref())
        .map(sdp_lines)
        .unwrap_or_default();
    Some(Term { context, id, local })
}

/// Whether a reply returned a descriptor for which `pick` holds.
pub fn has_descriptor(
    result: &TransactionResult,
    pick: impl Fn(&AuditReturnParameter) -> bool,
) -> bool {
    commands(result)
        .into_iter()
        .filter_map(|(_, c)| audit_of(c))
        .flatten()
        .any(pick)
}

/// Package names of a ROOT Packages audit reply.
pub fn packages(result: &TransactionResult) -> Option<Vec<String>> {
    commands(result)
        .into_iter()
        .filter_map(|(_, c)| audit_of(c))
        .flatten()
        .find_map(|p| match p {
            AuditReturnParameter::Packages(v) => Some(
                v.iter()
                    .map(|p| format!("{}-{}", p.name, p.version))
                    .collect(),
            ),
            _ => None,
        })
}

/// The Mode of the first stream's LocalControl in a reply's Media descriptor.
pub fn mode_of(result: &TransactionResult) -> Option<String> {
    commands(result)
        .into_iter()
        .filter_map(|(_, c)| audit_of(c))
        .flatten()
        .flat_map(streams)
        .find_map(|s| s.local_control.as_ref().and_then(|lc| lc.mode))
        .map(|m| format!("{m:?}"))
}

/// RFC 8122 §5 / RFC 4572: `a=fingerprint:sha-256 XX:XX:...` with 32 octets, upper-case hex,
/// colon-separated (UHEX). `Err` says what is wrong.
pub fn check_fingerprint(value: &str) -> Result<(), String> {
    let mut it = value.split_whitespace();
    let (Some(hash), Some(fp), None) = (it.next(), it.next(), it.next()) else {
        return Err(format!("{value:?} is not `<hash-func> <fingerprint>`"));
    };
    if hash != "sha-256" {
        return Err(format!(
            "hash function {hash:?}: the Iq DTLS profile uses sha-256 (lower case token)"
        ));
    }
    let octets: Vec<&str> = fp.split(':').collect();
    if octets.len() != 32 {
        return Err(format!("{} octets, sha-256 has 32", octets.len()));
    }
    if let Some(o) = octets.iter().find(|o| {
        o.len() != 2
            || !o
                .chars()
                .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
    }) {
        return Err(format!(
            "octet {o:?} is not two upper-case hex digits (RFC 8122 UHEX)"
        ));
    }
    Ok(())
}

/// RFC 8839 §5.4: ice-ufrag 4..256 and ice-pwd 22..256 ice-chars (ALPHA / DIGIT / "+" / "/").
pub fn check_ice(ufrag: &str, pwd: &str) -> Result<(), String> {
    let chars = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
    };
    if !(4..=256).contains(&ufrag.len()) || !chars(ufrag) {
        return Err(format!(
            "ice-ufrag {ufrag:?}: 4 to 256 ice-chars (RFC 8839 §5.4)"
        ));
    }
    if !(22..=256).contains(&pwd.len()) || !chars(pwd) {
        return Err(format!(
            "ice-pwd of {} characters: 22 to 256 ice-chars (RFC 8839 §5.4)",
            pwd.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_format() {
        let good = format!("sha-256 {}", ["0A"; 32].join(":"));
        assert!(check_fingerprint(&good).is_ok());
        assert!(check_fingerprint(&good.to_lowercase()).is_err());
        assert!(check_fingerprint(&format!("sha-1 {}", ["0A"; 20].join(":"))).is_err());
        assert!(check_fingerprint(&format!("sha-256 {}", ["0A"; 31].join(":"))).is_err());
        assert!(check_fingerprint("sha-256 $").is_err());
        assert!(check_fingerprint(&format!("sha-256 {}", ["0G"; 32].join(":"))).is_err());
    }

    #[test]
    fn ice_format() {
        assert!(check_ice("abcd", "0123456789abcdef+/ABCD").is_ok());
        assert!(check_ice("abc", "0123456789abcdef+/ABCD").is_err());
        assert!(check_ice("abcd", "short").is_err());
        assert!(check_ice("ab d", "0123456789abcdef+/ABCD").is_err());
    }
}
