//! AGW selection: the configured AGWs, which of them are registered and in service, and a
//! weighted choice among them (smooth weighted round robin, so that the spread follows the
//! weights exactly over each cycle and is deterministic).

use iq_codec::model::MId;

/// One configured AGW.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgwConf {
    /// Its mId (as configured; the port is ignored when matching).
    pub mid: MId,
    /// Relative weight (0 = never chosen for new sessions).
    pub weight: u32,
    /// Realm names it serves (empty = any).
    pub realms: Vec<String>,
}

#[derive(Debug, Clone)]
struct Slot {
    conf: AgwConf,
    /// The mId it registered with (used to address it), while registered and in service.
    live: Option<MId>,
    current: i64,
}

/// The AGW pool.
#[derive(Debug, Clone)]
pub struct AgwPool {
    slots: Vec<Slot>,
}

/// Whether two mIds name the same entity (ports ignored, names case-insensitive).
pub fn same_mid(a: &MId, b: &MId) -> bool {
    match (a, b) {
        (MId::Domain { name: x, .. }, MId::Domain { name: y, .. }) => x.eq_ignore_ascii_case(y),
        (MId::Ip4 { addr: x, .. }, MId::Ip4 { addr: y, .. }) => x == y,
        (MId::Ip6 { addr: x, .. }, MId::Ip6 { addr: y, .. }) => x == y,
        (MId::Device(x), MId::Device(y)) => x == y,
        (MId::Mtp(x), MId::Mtp(y)) => x == y,
        _ => false,
    }
}

impl AgwPool {
    /// A pool of the configured AGWs, none in service yet.
    pub fn new(confs: Vec<AgwConf>) -> Self {
        AgwPool {
            slots: confs
                .into_iter()
                .map(|conf| Slot {
                    conf,
                    live: None,
                    current: 0,
                })
                .collect(),
        }
    }

    fn find(&self, mid: &MId) -> Option<usize> {
        self.slots.iter().position(|s| same_mid(&s.conf.mid, mid))
    }

    /// An AGW registered (or came back in service) under `mid`.
    pub fn up(&mut self, mid: &MId) -> bool {
        match self.find(mid) {
            Some(i) => {
                self.slots[i].live = Some(mid.clone());
                true
            }
            None => false,
        }
    }

    /// An AGW was lost, handed off or taken out of service: no new sessions go there.
    pub fn down(&mut self, mid: &MId) {
        if let Some(i) = self.find(mid) {
            self.slots[i].live = None;
            self.slots[i].current = 0;
        }
    }

    /// Whether `mid` is in service.
    pub fn is_up(&self, mid: &MId) -> bool {
        self.find(mid).is_some_and(|i| self.slots[i].live.is_some())
    }

    /// Choose an in-service AGW for a new session. With `realm`, AGWs listing that realm are
    /// preferred; those listing no realm serve any; if none qualifies, any in-service one is
    /// taken. Returns the mId to address it with.
    pub fn choose(&mut self, realm: Option<&str>) -> Option<MId> {
        let serves = |s: &Slot, strict: bool| {
            s.live.is_some()
                && s.conf.weight > 0
                && match realm {
                    Some(r) if strict => s.conf.realms.iter().any(|x| x.eq_ignore_ascii_case(r)),
                    Some(_) => s.conf.realms.is_empty(),
                    None => true,
                }
        };
        let mut eligible: Vec<usize> = (0..self.slots.len())
            .filter(|&i| serves(&self.slots[i], true))
            .collect();
        if eligible.is_empty() {
            eligible = (0..self.slots.len())
                .filter(|&i| serves(&self.slots[i], false))
                .collect();
        }
        if eligible.is_empty() {
            eligible = (0..self.slots.len())
                .filter(|&i| self.slots[i].live.is_some() && self.slots[i].conf.weight > 0)
                .collect();
        }
        let total: i64 = eligible
            .iter()
            .map(|&i| i64::from(self.slots[i].conf.weight))
            .sum();
        let mut best: Option<usize> = None;
        for &i in &eligible {
            self.slots[i].current += i64::from(self.slots[i].conf.weight);
            if best.is_none_or(|b| self.slots[i].current > self.slots[b].current) {
                best = Some(i);
            }
        }
        let b = best?;
        self.slots[b].current -= total;
        self.slots[b].live.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mid(n: &str) -> MId {
        MId::Domain {
            name: n.into(),
            port: None,
        }
    }

    fn conf(n: &str, weight: u32, realms: &[&str]) -> AgwConf {
        AgwConf {
            mid: mid(n),
            weight,
            realms: realms.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn only_live_agws() {
        let mut p = AgwPool::new(vec![conf("a", 1, &[]), conf("b", 1, &[])]);
        assert_eq!(p.choose(None), None);
        let with_port = MId::Domain {
            name: "b".into(),
            port: Some(2944),
        };
        assert!(p.up(&with_port));
        assert!(!p.up(&mid("unknown")));
        // The registered form (with port) is what is returned.
        assert_eq!(p.choose(None), Some(with_port.clone()));
        p.down(&mid("b"));
        assert_eq!(p.choose(None), None);
    }

    #[test]
    fn weights_and_realms() {
        let mut p = AgwPool::new(vec![
            conf("a", 3, &[]),
            conf("b", 1, &[]),
            conf("c", 5, &["wss"]),
            conf("z", 0, &[]),
        ]);
        for n in ["a", "b", "c", "z"] {
            p.up(&mid(n));
        }
        let mut counts = std::collections::HashMap::new();
        for _ in 0..40 {
            let m = p.choose(Some("access")).unwrap();
            *counts.entry(format!("{m:?}")).or_insert(0) += 1;
        }
        // Realm "access": c (wss only) excluded; a:b = 3:1; z (weight 0) never.
        assert_eq!(counts.get(&format!("{:?}", mid("a"))), Some(&30));
        assert_eq!(counts.get(&format!("{:?}", mid("b"))), Some(&10));
        assert_eq!(counts.len(), 2);
        // Realm "wss": only c.
        for _ in 0..5 {
            assert_eq!(p.choose(Some("WSS")), Some(mid("c")));
        }
        // If c goes down, the realm falls back to the general ones.
        p.down(&mid("c"));
        assert!(p.choose(Some("wss")).is_some());
    }
}
