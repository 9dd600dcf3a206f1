//! The daemon's core, sans-IO: the session table that connects the ng front ([`crate::ng`]),
//! the per-call procedures ([`crate::procedures::Session`]) and the Iq MGC side
//! ([`iq_link::association::Mgc`]).
//!
//! - ng datagrams in ([`Daemon::handle_ng`]): offer/answer/delete become session inputs, keyed
//!   by (call-id, from-tag) (a re-offer from the callee, whose From-tag is the original To-tag,
//!   finds the same session). An offer or answer is answered when the session has produced the
//!   SDP for the other side, i.e. after the Iq round trips: the ng cookie is kept and the reply
//!   sent later. Replies are cached by (peer, cookie): a retransmission gets the same reply, a
//!   retransmission of a request still in progress is dropped.
//! - Iq: the sessions' requests go to the session's AGW with [`Mgc::send_request`]; replies,
//!   timeouts and abandonments come back by (AGW, transaction ID) to the session's token.
//!   Notify requests from an AGW are routed to the session owning the context
//!   (`xdtls/estfail` releases it, logged) and acknowledged.
//! - AGWs ([`agw::AgwPool`]): a new session goes to an in-service AGW chosen by realm and
//!   weight; an AGW lost (or handed off / taken out of service) releases its sessions.
//! - An AGW that re-registers having kept its contexts (`Disconnected`, `Failover`,
//!   `HandOff`) while the ALG holds no session there (the ALG restarted, or released them when
//!   it declared the AGW lost) holds only contexts nobody knows: the ALG clears them with
//!   ServiceChange `Forced` on ROOT, then puts the AGW back in service with `Restart`
//!   (see [`Daemon::clear_unknown_contexts`]); no new session goes there in between.
//! - Contexts on an AGW that no session owns (a Subtract lost with a transaction that timed
//!   out; sessions released while the AGW was unreachable, when it comes back having kept its
//!   contexts next to ones we still hold) are found with an AuditValue on all contexts and
//!   removed, after a second audit confirms them ([`reconcile`]).
//! - Outgoing datagrams: [`Daemon::poll_datagram`]; timers: [`Daemon::poll_timeout`] /
//!   [`Daemon::handle_timeout`].

pub mod agw;
pub mod reconcile;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use iq_codec::model::{ActionRequest, Command, ContextId, MId, TransactionId, TransactionResult};
use iq_codec::sdp::{Choosable, Sdp};
use iq_link::association::{mgc, Mgc};
use iq_link::driver::format_mid;
use tracing::{debug, info, warn};

use crate::ng::bencode::Value;
use crate::ng::request::{self, OfferAnswer, Request};
use crate::ng::side::{offer_origin, RealmNames};
use crate::ng::stats::Counters;
use crate::ng::wire::{self, Format};
use crate::ng::{reply, ReplyCache, Seen};
use crate::procedures::{
    FailureReason, IqOutcome, NotifyOutcome, Output, SdpKind, Session, SessionConfig, Side,
    TlsIdAllocator, TxToken,
};
use agw::{AgwConf, AgwPool};

/// The ng reply cache's default budget: 16 MiB, about 18,000 replies of a typical mix of offer,
/// answer and delete replies, which outlasts Kamailio's 5 s retransmission span up to about
/// 3,500 requests/s (this 2-core host's ALG peaks near 10,000/s).
pub const DEFAULT_REPLY_CACHE_BYTES: usize = 16 << 20;

/// Daemon configuration.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Per-session procedure settings.
    pub session: SessionConfig,
    /// Realm names for `direction`.
    pub realms: RealmNames,
    /// The AGWs sessions may use.
    pub agws: Vec<AgwConf>,
    /// How long ng replies are kept for retransmissions...
    pub reply_cache_ttl: Duration,
    /// ... unless they would take more than this many bytes (then the oldest go first).
    pub reply_cache_bytes: usize,
    /// Sessions at most (those being released count): a new offer beyond is refused with
    /// "overloaded", established sessions are kept. `None` = no cap.
    pub max_sessions: Option<usize>,
    /// The same per ng client address.
    pub max_sessions_per_client: Option<usize>,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            session: SessionConfig::default(),
            realms: RealmNames::default(),
            agws: Vec::new(),
            reply_cache_ttl: Duration::from_secs(30),
            reply_cache_bytes: DEFAULT_REPLY_CACHE_BYTES,
            max_sessions: None,
            max_sessions_per_client: None,
        }
    }
}

/// An ng request waiting for its session's output.
#[derive(Debug, Clone)]
struct PendingNg {
    peer: SocketAddr,
    cookie: Vec<u8>,
    format: Format,
    /// The SDP output that answers it: towards this side, of this kind.
    side: Side,
    kind: SdpKind,
}

#[derive(Debug)]
struct Entry {
    session: Session,
    agw: MId,
    call_id: String,
    /// The From-tag of the first offer (its sender is on `offer_side`).
    from_tag: String,
    to_tag: Option<String>,
    /// Where the first offer came from.
    offer_side: Side,
    /// Where the last offer came from (an answer comes from the other side).
    last_offer_from: Side,
    created: u64,
    last_signal: u64,
    pending: Option<PendingNg>,
    /// Last SDP received from / sent to each side.
    sdp_from: IdMap<Side, String>,
    sdp_to: IdMap<Side, String>,
    /// Deleted by ng (hidden from list/query) and being released.
    deleted: bool,
    /// The ng client that created it (for the per-client session cap).
    client: IpAddr,
}

impl Entry {
    fn tag_side(&self, tag: &str) -> Option<Side> {
        if tag == self.from_tag {
            Some(self.offer_side)
        } else if self.to_tag.as_deref() == Some(tag) {
            Some(self.offer_side.other())
        } else {
            None
        }
    }
}

type Key = u64;

/// Maps keyed by values the ALG assigns itself (session keys, sides) are foldhash's, several
/// times cheaper than SipHash per lookup; maps keyed by what peers send (`by_call`) keep
/// SipHash.
use foldhash::HashMap as IdMap;

/// The session table and its glue. See the [module documentation](self).
#[derive(Debug)]
pub struct Daemon {
    config: DaemonConfig,
    agws: AgwPool,
    tls_ids: TlsIdAllocator,
    sessions: IdMap<Key, Entry>,
    next_key: Key,
    /// (AGW, transaction) -> (session, token).
    txns: Vec<(MId, TransactionId, Key, TxToken)>,
    cache: ReplyCache,
    out: VecDeque<(SocketAddr, Vec<u8>)>,
    /// AGWs whose unknown contexts are being cleared: our ServiceChange (`Forced`, then
    /// `Restart`) awaiting its reply.
    clearing: Vec<(MId, TransactionId)>,
    /// Audits of AGWs' contexts for ones no session owns.
    reconcile: reconcile::Reconciler,
    /// Our Subtracts of unowned contexts: (AGW, transaction, contexts in it).
    cleaning: Vec<(MId, TransactionId, usize)>,
    /// For the ng `statistics` command.
    stats: Counters,
    /// Call-ID -> its sessions, so that finding a call does not scan the table.
    by_call: HashMap<String, Vec<Key>>,
    /// The sessions' timers (due, session), and the entry of each session there, so that
    /// the next wakeup is not a scan of the table.
    timers: BTreeSet<(Instant, Key)>,
    timer_of: IdMap<Key, Instant>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Daemon {
    /// A daemon with no sessions; no AGW in service until [`Daemon::handle_event`] sees them
    /// register.
    pub fn new(config: DaemonConfig) -> Self {
        Daemon {
            agws: AgwPool::new(config.agws.clone()),
            tls_ids: TlsIdAllocator::new(),
            sessions: IdMap::default(),
            next_key: 1,
            txns: Vec::new(),
            cache: ReplyCache::new(config.reply_cache_ttl, config.reply_cache_bytes),
            out: VecDeque::new(),
            clearing: Vec::new(),
            reconcile: reconcile::Reconciler::default(),
            cleaning: Vec::new(),
            stats: Counters::default(),
            by_call: HashMap::new(),
            timers: BTreeSet::new(),
            timer_of: IdMap::default(),
            config,
        }
    }

    /// The next ng datagram to send.
    pub fn poll_datagram(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.out.pop_front()
    }

    /// Sessions in the table (including those being released).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The earliest timer (sessions, context audits).
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.timers.first().map(|(t, _)| *t),
            self.reconcile.poll_timeout(),
            self.cache.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Record session `k`'s timer (after each drain, where its state may have changed).
    fn set_timer(&mut self, k: Key, at: Option<Instant>) {
        if self.timer_of.get(&k) == at.as_ref() {
            return;
        }
        if let Some(old) = self.timer_of.remove(&k) {
            self.timers.remove(&(old, k));
        }
        if let Some(t) = at {
            self.timers.insert((t, k));
            self.timer_of.insert(k, t);
        }
    }

    /// Session `k` left the table: drop it from the indexes.
    fn unindex(&mut self, k: Key, call_id: &str) {
        self.set_timer(k, None);
        if let Some(keys) = self.by_call.get_mut(call_id) {
            keys.retain(|x| *x != k);
            if keys.is_empty() {
                self.by_call.remove(call_id);
            }
        }
    }

    /// The sessions of a call.
    fn call(&self, call_id: &str) -> impl Iterator<Item = (Key, &Entry)> + '_ {
        self.by_call
            .get(call_id)
            .into_iter()
            .flatten()
            .filter_map(|k| self.sessions.get(k).map(|e| (*k, e)))
    }

    /// Run the session timers due at `now`.
    pub fn handle_timeout(&mut self, mgc: &mut Mgc, now: Instant) {
        let due: Vec<Key> = self
            .timers
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, k)| *k)
            .collect();
        for k in due {
            if let Some(e) = self.sessions.get_mut(&k) {
                e.session.handle_timeout(now);
            }
            self.drain(mgc, now, k);
        }
        self.run_reconcile(mgc, now);
        self.cache.handle_timeout(now);
    }

    // ------------------------------------------------------------------------------ ng

    fn send(&mut self, now: Instant, peer: SocketAddr, cookie: &[u8], format: Format, v: &Value) {
        let bytes = wire::encode(cookie, v, format);
        self.cache.answered(now, peer, cookie, bytes.clone());
        self.out.push_back((peer, bytes));
    }

    /// One ng datagram from `peer`.
    pub fn handle_ng(&mut self, mgc: &mut Mgc, now: Instant, peer: SocketAddr, bytes: &[u8]) {
        let d = match wire::decode(bytes) {
            Ok(d) => d,
            Err(e) => {
                warn!(%peer, %e, "ng: unreadable datagram");
                if let Some(c) = wire::cookie_of(bytes) {
                    let c = c.to_vec();
                    self.out.push_back((
                        peer,
                        wire::encode(&c, &reply::error(&e.to_string()), Format::Bencode),
                    ));
                }
                return;
            }
        };
        match self.cache.check(now, peer, &d.cookie) {
            Seen::New => {}
            Seen::Answered(r) => {
                debug!(%peer, "ng: retransmission answered from the cache");
                self.out.push_back((peer, r));
                return;
            }
            Seen::InProgress => {
                debug!(%peer, "ng: retransmission of a request in progress dropped");
                return;
            }
        }
        let req = match request::parse(&d.body) {
            Ok(r) => r,
            Err(e) => {
                warn!(%peer, %e, "ng: bad request");
                self.send(
                    now,
                    peer,
                    &d.cookie,
                    d.format,
                    &reply::error(&e.to_string()),
                );
                return;
            }
        };
        debug!(%peer, command = req.name(), "ng request");
        self.stats.ng_request(&req);
        let (cookie, format) = (d.cookie, d.format);
        let done = match req {
            Request::Ping => Some(reply::pong()),
            Request::Statistics => Some(self.stats.reply(self.sessions.len(), self.txns.len())),
            Request::List { limit } => {
                let mut calls: Vec<String> = Vec::new();
                for e in self.sessions.values().filter(|e| !e.deleted) {
                    if !calls.contains(&e.call_id) {
                        calls.push(e.call_id.clone());
                    }
                }
                calls.sort();
                calls.truncate(limit.unwrap_or(usize::MAX));
                Some(reply::list(calls))
            }
            Request::Query(q) => Some(self.query(&q.call_id)),
            Request::Delete(del) => Some(self.delete(mgc, now, &del)),
            Request::Offer(o) => self.offer(mgc, now, o, peer, &cookie, format),
            Request::Answer(a) => self.answer(mgc, now, a, peer, &cookie, format),
            Request::Unsupported(c) => Some(reply::error(&format!("Unrecognized command '{c}'"))),
        };
        if let Some(v) = done {
            self.send(now, peer, &cookie, format, &v);
        }
    }

    /// Why a new session from `client` is shed, if it is (the session caps).
    fn overloaded(&self, client: IpAddr) -> Option<String> {
        if let Some(max) = self.config.max_sessions {
            if self.sessions.len() >= max {
                return Some(format!("overloaded: {max} sessions"));
            }
        }
        if let Some(max) = self.config.max_sessions_per_client {
            let n = self
                .sessions
                .values()
                .filter(|e| e.client == client)
                .count();
            if n >= max {
                return Some(format!("overloaded: {max} sessions for client {client}"));
            }
        }
        None
    }

    fn find(&self, call_id: &str, tag: &str) -> Option<Key> {
        self.call(call_id)
            .find(|(_, e)| !e.deleted && e.tag_side(tag).is_some())
            .map(|(k, _)| k)
    }

    fn offer(
        &mut self,
        mgc: &mut Mgc,
        now: Instant,
        o: OfferAnswer,
        peer: SocketAddr,
        cookie: &[u8],
        format: Format,
    ) -> Option<Value> {
        let sdp = match Sdp::parse(&o.sdp) {
            Ok(s) => s,
            Err(e) => return Some(reply::error(&format!("Failed to parse SDP: {e}"))),
        };
        let (key, from) = match self.find(&o.call_id, &o.from_tag) {
            Some(k) => {
                let e = self.sessions.get(&k)?;
                if e.pending.is_some() {
                    return Some(reply::error("Offer/answer in progress"));
                }
                let from = e.tag_side(&o.from_tag)?;
                (k, from)
            }
            None => {
                if let Some(why) = self.overloaded(peer.ip()) {
                    warn!(call_id = %o.call_id, %peer, "ng offer refused: {why}");
                    return Some(reply::error(&why));
                }
                let (from, basis) = offer_origin(&o, &self.config.realms);
                let realm = o.direction.first().map(String::as_str);
                let Some(agw) = self.agws.choose(realm) else {
                    warn!(call_id = %o.call_id, "ng offer: no AGW in service");
                    return Some(reply::error("No AGW available"));
                };
                info!(
                    call_id = %o.call_id,
                    from_tag = %o.from_tag,
                    side = ?from,
                    ?basis,
                    agw = %format_mid(&agw),
                    "new session"
                );
                let k = self.next_key;
                self.next_key += 1;
                self.stats.sessions_created += 1;
                let t = unix_now();
                self.sessions.insert(
                    k,
                    Entry {
                        session: Session::new(self.config.session.clone(), self.tls_ids.clone()),
                        agw,
                        call_id: o.call_id.clone(),
                        from_tag: o.from_tag.clone(),
                        to_tag: o.to_tag.clone(),
                        offer_side: from,
                        last_offer_from: from,
                        created: t,
                        last_signal: t,
                        pending: None,
                        sdp_from: IdMap::default(),
                        sdp_to: IdMap::default(),
                        deleted: false,
                        client: peer.ip(),
                    },
                );
                self.by_call.entry(o.call_id.clone()).or_default().push(k);
                (k, from)
            }
        };
        let e = self.sessions.get_mut(&key)?;
        match e.session.handle_offer(from, sdp, now) {
            Ok(()) => {
                e.last_offer_from = from;
                e.last_signal = unix_now();
                e.sdp_from.insert(from, o.sdp.clone());
                e.pending = Some(PendingNg {
                    peer,
                    cookie: cookie.to_vec(),
                    format,
                    side: from.other(),
                    kind: SdpKind::Offer,
                });
                self.drain(mgc, now, key);
                None
            }
            Err(err) => {
                warn!(call_id = %o.call_id, %err, "ng offer refused");
                // A first offer that failed leaves nothing behind.
                if e.session.context().is_none() && e.sdp_to.is_empty() {
                    e.session.release(now);
                    self.drain(mgc, now, key);
                }
                Some(reply::error(&err.to_string()))
            }
        }
    }

    fn answer(
        &mut self,
        mgc: &mut Mgc,
        now: Instant,
        a: OfferAnswer,
        peer: SocketAddr,
        cookie: &[u8],
        format: Format,
    ) -> Option<Value> {
        let sdp = match Sdp::parse(&a.sdp) {
            Ok(s) => s,
            Err(e) => return Some(reply::error(&format!("Failed to parse SDP: {e}"))),
        };
        let Some(key) = self.find(&a.call_id, &a.from_tag) else {
            return Some(reply::error("Unknown call-id"));
        };
        let e = self.sessions.get_mut(&key)?;
        if e.pending.is_some() {
            return Some(reply::error("Offer/answer in progress"));
        }
        if e.to_tag.is_none() {
            e.to_tag = a.to_tag.clone();
        }
        let from = e.last_offer_from.other();
        match e.session.handle_answer(from, sdp, now) {
            Ok(()) => {
                e.last_signal = unix_now();
                e.sdp_from.insert(from, a.sdp.clone());
                e.pending = Some(PendingNg {
                    peer,
                    cookie: cookie.to_vec(),
                    format,
                    side: from.other(),
                    kind: SdpKind::Answer,
                });
                self.drain(mgc, now, key);
                None
            }
            Err(err) => {
                warn!(call_id = %a.call_id, %err, "ng answer refused");
                self.drain(mgc, now, key);
                Some(reply::error(&err.to_string()))
            }
        }
    }

    fn delete(&mut self, mgc: &mut Mgc, now: Instant, d: &request::Delete) -> Value {
        let keys: Vec<Key> = self
            .call(&d.call_id)
            .filter(|(_, e)| {
                !e.deleted
                    && d.from_tag
                        .as_deref()
                        .is_none_or(|t| e.tag_side(t).is_some())
            })
            .map(|(k, _)| k)
            .collect();
        if keys.is_empty() {
            return reply::error("Call-ID not found or tags didn't match");
        }
        for k in keys {
            if let Some(e) = self.sessions.get_mut(&k) {
                debug!(call_id = %e.call_id, from_tag = %e.from_tag, "ng delete: releasing");
                e.deleted = true;
                e.session.release(now);
            }
            self.drain(mgc, now, k);
        }
        reply::ok()
    }

    fn query(&self, call_id: &str) -> Value {
        let entries: Vec<&Entry> = self
            .call(call_id)
            .map(|(_, e)| e)
            .filter(|e| !e.deleted)
            .collect();
        let Some(first) = entries.first() else {
            return reply::error("Unknown call-id");
        };
        let mut info = reply::CallInfo {
            created: first.created,
            last_signal: entries.iter().map(|e| e.last_signal).max().unwrap_or(0),
            tags: Vec::new(),
        };
        for e in entries {
            let side_a = e.offer_side;
            let side_b = side_a.other();
            info.tags.push(reply::TagInfo {
                tag: e.from_tag.clone(),
                created: e.created,
                in_dialogue_with: e.to_tag.clone(),
                medias: medias(e.sdp_to.get(&side_a), e.sdp_from.get(&side_a)),
            });
            info.tags.push(reply::TagInfo {
                tag: e.to_tag.clone().unwrap_or_default(),
                created: e.created,
                in_dialogue_with: Some(e.from_tag.clone()),
                medias: medias(e.sdp_to.get(&side_b), e.sdp_from.get(&side_b)),
            });
        }
        reply::query(&info)
    }

    // ----------------------------------------------------------------------------- Iq

    /// An event of the MGC association. Events the daemon does not use (or uses but others
    /// may want to see, like registrations) are returned for the caller.
    pub fn handle_event(
        &mut self,
        mgc: &mut Mgc,
        now: Instant,
        ev: mgc::Event,
    ) -> Option<mgc::Event> {
        match ev {
            mgc::Event::MgRegistered {
                ref mid,
                ref method,
                ..
            } => {
                use iq_codec::model::ServiceChangeMethod as M;
                match method {
                    // A Restart means the AGW lost its state: our sessions there are gone.
                    M::Restart => self.agw_gone(mgc, now, &mid.clone()),
                    // It kept its contexts: those we no longer know must go.
                    M::Disconnected | M::Failover | M::HandOff
                        if self.clear_unknown_contexts(mgc, now, mid) =>
                    {
                        return Some(ev);
                    }
                    _ => {}
                }
                if self.agws.up(mid) {
                    info!(mid = %format_mid(mid), "AGW in service for sessions");
                }
                Some(ev)
            }
            mgc::Event::ServiceChangeDone {
                ref mid,
                id,
                ref method,
                ref outcome,
            } if self
                .clearing
                .iter()
                .any(|(m, t)| *t == id && agw::same_mid(m, mid)) =>
            {
                self.clearing
                    .retain(|(m, t)| !(*t == id && agw::same_mid(m, mid)));
                self.clearing_step(mgc, now, mid, method, outcome);
                None
            }
            mgc::Event::MgLost { ref mid, .. } | mgc::Event::MgHandedOff { ref mid, .. } => {
                self.agws.down(mid);
                self.clearing.retain(|(m, _)| !agw::same_mid(m, mid));
                self.reconcile.forget(mid);
                self.cleaning.retain(|(m, ..)| !agw::same_mid(m, mid));
                self.agw_gone(mgc, now, &mid.clone());
                Some(ev)
            }
            mgc::Event::MgServiceChange {
                ref mid,
                ref method,
                ..
            } => {
                use iq_codec::model::ServiceChangeMethod as M;
                match method {
                    M::Forced => {
                        // Its contexts are gone (H.248.1 7.2.8).
                        self.agws.down(mid);
                        self.agw_gone(mgc, now, &mid.clone());
                    }
                    M::Graceful => {
                        info!(mid = %format_mid(mid), "AGW going out of service: no new sessions");
                        self.agws.down(mid);
                    }
                    _ => {}
                }
                Some(ev)
            }
            mgc::Event::Reply { mg, id, result } if self.reconcile.is_audit(&mg, id) => {
                self.context_audit_reply(mgc, now, &mg, id, &result);
                None
            }
            mgc::Event::Reply { mg, id, result } if self.is_cleaning(&mg, id) => {
                self.cleaning_done(&mg, id, Ok(&result));
                None
            }
            mgc::Event::Timeout { mg, id } | mgc::Event::Abandoned { mg, id }
                if self.reconcile.is_audit(&mg, id) =>
            {
                warn!(mid = %format_mid(&mg), "the audit of the AGW's contexts was not answered");
                self.reconcile.forget(&mg);
                None
            }
            mgc::Event::Timeout { mg, id } | mgc::Event::Abandoned { mg, id }
                if self.is_cleaning(&mg, id) =>
            {
                self.cleaning_done(&mg, id, Err("not answered"));
                None
            }
            mgc::Event::Reply { mg, id, result } => {
                match self.take_txn(&mg, id) {
                    Some((k, t)) => {
                        self.stats.iq_reply(&result);
                        self.iq_outcome(mgc, now, k, t, IqOutcome::Replied(result))
                    }
                    None => return Some(mgc::Event::Reply { mg, id, result }),
                }
                None
            }
            mgc::Event::Timeout { mg, id } => {
                match self.take_txn(&mg, id) {
                    Some((k, t)) => {
                        self.stats.iq_timeouts += 1;
                        // What the request did on the AGW is unknown (a context may be
                        // left there that no session will own): audit it a little later.
                        self.reconcile.schedule(&mg, now + reconcile::CONFIRM_AFTER);
                        self.iq_outcome(mgc, now, k, t, IqOutcome::TimedOut)
                    }
                    None => return Some(mgc::Event::Timeout { mg, id }),
                }
                None
            }
            mgc::Event::Abandoned { mg, id } => {
                match self.take_txn(&mg, id) {
                    Some((k, t)) => {
                        self.stats.iq_timeouts += 1;
                        self.iq_outcome(
                            mgc,
                            now,
                            k,
                            t,
                            IqOutcome::Failed("association lost".into()),
                        )
                    }
                    None => return Some(mgc::Event::Abandoned { mg, id }),
                }
                None
            }
            mgc::Event::Request { mg, id, actions } => {
                let result = self.agw_request(mgc, now, &mg, &actions);
                if let Err(e) = mgc.send_reply(now, &mg, id, result) {
                    warn!(%e, "cannot reply to the AGW");
                }
                None
            }
            other => Some(other),
        }
    }

    fn take_txn(&mut self, mg: &MId, id: TransactionId) -> Option<(Key, TxToken)> {
        let i = self
            .txns
            .iter()
            .position(|(m, t, _, _)| *t == id && agw::same_mid(m, mg))?;
        let (_, _, k, t) = self.txns.swap_remove(i);
        Some((k, t))
    }

    fn iq_outcome(&mut self, mgc: &mut Mgc, now: Instant, k: Key, t: TxToken, o: IqOutcome) {
        if let Some(e) = self.sessions.get_mut(&k) {
            if let Err(err) = e.session.handle_iq_reply(t, o, now) {
                warn!(call_id = %e.call_id, %err, "Iq reply not taken by the session");
            }
            self.drain(mgc, now, k);
        }
    }

    /// Requests from an AGW: Notify is routed to the session with that context and
    /// acknowledged; anything else gets 501.
    fn agw_request(
        &mut self,
        mgc: &mut Mgc,
        now: Instant,
        mg: &MId,
        actions: &[ActionRequest],
    ) -> TransactionResult {
        for a in actions {
            // the commands the reply executes: Notifies up to the first other command (501)
            for c in &a.commands {
                let Command::Notify(n) = &c.command else {
                    break;
                };
                let ContextId::Id(ctx) = a.context else {
                    continue;
                };
                let key = self
                    .sessions
                    .iter()
                    .find(|(_, e)| e.session.context() == Some(ctx) && agw::same_mid(&e.agw, mg))
                    .map(|(k, _)| *k);
                let Some(k) = key else {
                    info!(context = ctx, mid = %format_mid(mg), "Notify for no session");
                    continue;
                };
                if let Some(e) = self.sessions.get_mut(&k) {
                    match e.session.handle_notify(n, now) {
                        NotifyOutcome::DtlsFailed => warn!(
                            call_id = %e.call_id,
                            context = ctx,
                            "AGW reports DTLS failure (xdtls/estfail): releasing"
                        ),
                        NotifyOutcome::Heartbeat => debug!(context = ctx, "heartbeat"),
                        _ => info!(context = ctx, "Notify ignored"),
                    }
                }
                self.drain(mgc, now, k);
            }
        }
        iq_link::association::acknowledge_notifies(actions, "the ALG")
    }

    /// An AGW re-registered with its contexts kept (H.248.1 11.5: `Disconnected` to the same
    /// MGC, `Failover`/`HandOff` to another). If we hold sessions there, they and their contexts
    /// carry on, and the contexts there we no longer own are found and removed by a
    /// reconciliation ([`reconcile`]: AuditValue on context ALL, which needs an AGW that
    /// implements context `*`; one that does not keeps them, logged). If we hold none, whatever
    /// contexts it has are unknown to us (we restarted, or we released them when we declared
    /// it lost) and would hold ports and media forever.
    ///
    /// How those are cleared: H.248.1 7.2.8 makes a ServiceChange `Forced` on ROOT take the
    /// whole MG out of service at once with every context lost (TS 29.334 lists
    /// ServiceChange among the Iq commands; TS 23.334 "IMS-AGW Out-of-Service"), and a
    /// following `Restart` on ROOT (reason 900 Service Restored) puts it back in service. This
    /// needs nothing beyond what every Iq MG must support, unlike context `*`.
    ///
    /// Returns whether a clearing started (the AGW stays out of the pool until it ends).
    fn clear_unknown_contexts(&mut self, mgc: &mut Mgc, now: Instant, mid: &MId) -> bool {
        let known = self
            .sessions
            .values()
            .filter(|e| agw::same_mid(&e.agw, mid))
            .count();
        if known > 0 {
            info!(
                mid = %format_mid(mid),
                sessions = known,
                "AGW re-registered with its contexts: our sessions there continue; \
                 auditing its contexts for ones we no longer own"
            );
            self.reconcile.schedule(mid, now);
            self.run_reconcile(mgc, now);
            return false;
        }
        match mgc.take_out_of_service(
            now,
            mid,
            mgc::OutOfService::Forced,
            iq_link::association::reason::TERMINATION_OUT_OF_SERVICE,
        ) {
            Ok(id) => {
                warn!(
                    mid = %format_mid(mid),
                    "AGW re-registered with contexts we do not know: clearing them \
                     (ServiceChange Forced on ROOT, then Restart)"
                );
                self.agws.down(mid);
                self.clearing.push((mid.clone(), id));
                true
            }
            Err(e) => {
                warn!(mid = %format_mid(mid), %e, "cannot clear the AGW's unknown contexts");
                false
            }
        }
    }

    /// Our clearing ServiceChange `method` to `mid` was answered: after `Forced`, `Restart`;
    /// after `Restart`, the AGW takes sessions again.
    fn clearing_step(
        &mut self,
        mgc: &mut Mgc,
        now: Instant,
        mid: &MId,
        method: &iq_codec::model::ServiceChangeMethod,
        outcome: &mgc::ServiceChangeOutcome,
    ) {
        use iq_codec::model::ServiceChangeMethod as M;
        if *outcome != mgc::ServiceChangeOutcome::Accepted {
            warn!(mid = %format_mid(mid), ?method, ?outcome, "AGW refused our ServiceChange");
        }
        match method {
            M::Forced => {
                info!(mid = %format_mid(mid), ?outcome, "AGW contexts cleared; restoring service");
                match mgc.restore_service(now, mid, iq_link::association::reason::SERVICE_RESTORED)
                {
                    Ok(id) => self.clearing.push((mid.clone(), id)),
                    Err(e) => {
                        warn!(mid = %format_mid(mid), %e, "cannot restore the AGW's service");
                    }
                }
            }
            _ => {
                if self.agws.up(mid) {
                    info!(mid = %format_mid(mid), "AGW in service for sessions");
                }
            }
        }
    }

    /// Send the context audits that are due.
    fn run_reconcile(&mut self, mgc: &mut Mgc, now: Instant) {
        for mid in self.reconcile.due(now) {
            if self.clearing.iter().any(|(m, _)| agw::same_mid(m, &mid)) {
                // All its contexts are being cleared anyway.
                self.reconcile.forget(&mid);
                continue;
            }
            match mgc.send_request(now, &mid, reconcile::audit_request()) {
                Ok(id) => {
                    debug!(mid = %format_mid(&mid), "auditing the AGW's contexts (Context = *)");
                    self.reconcile.audit_sent(&mid, id);
                }
                Err(e) => {
                    debug!(mid = %format_mid(&mid), %e, "cannot audit the AGW's contexts now");
                    self.reconcile.forget(&mid);
                }
            }
        }
    }

    /// The AGW answered our audit of all its contexts.
    fn context_audit_reply(
        &mut self,
        mgc: &mut Mgc,
        now: Instant,
        mid: &MId,
        id: TransactionId,
        result: &TransactionResult,
    ) {
        let owned: BTreeSet<u32> = self
            .sessions
            .values()
            .filter(|e| agw::same_mid(&e.agw, mid))
            .filter_map(|e| e.session.context())
            .collect();
        match self.reconcile.audited(now, mid, id, result, &owned) {
            reconcile::Audited::Clean { listed } => {
                info!(mid = %format_mid(mid), contexts = listed, "AGW contexts audited: all ours");
            }
            reconcile::Audited::Candidates(c) => info!(
                mid = %format_mid(mid),
                unowned = c.len(),
                first = ?c.iter().take(10).collect::<Vec<_>>(),
                "AGW holds contexts no session owns; confirming in {} s",
                reconcile::CONFIRM_AFTER.as_secs()
            ),
            reconcile::Audited::Remove(c) => {
                warn!(
                    mid = %format_mid(mid),
                    contexts = c.len(),
                    first = ?c.iter().take(10).collect::<Vec<_>>(),
                    "removing AGW contexts no session owns (Subtract)"
                );
                for actions in reconcile::subtract_requests(&c) {
                    let n = actions.len();
                    match mgc.send_request(now, mid, actions) {
                        Ok(id) => self.cleaning.push((mid.clone(), id, n)),
                        Err(e) => {
                            warn!(mid = %format_mid(mid), %e, "cannot remove the AGW's contexts");
                            break;
                        }
                    }
                }
            }
            reconcile::Audited::Refused(e) => warn!(
                mid = %format_mid(mid),
                code = e.code,
                text = ?e.text,
                "AGW did not list its contexts (AuditValue on context *): contexts no session \
                 owns, if any, stay there"
            ),
            _ => {}
        }
    }

    fn is_cleaning(&self, mid: &MId, id: TransactionId) -> bool {
        self.cleaning
            .iter()
            .any(|(m, t, _)| *t == id && agw::same_mid(m, mid))
    }

    /// Our Subtract of unowned contexts ended.
    fn cleaning_done(
        &mut self,
        mid: &MId,
        id: TransactionId,
        result: Result<&TransactionResult, &str>,
    ) {
        let Some(i) = self
            .cleaning
            .iter()
            .position(|(m, t, _)| *t == id && agw::same_mid(m, mid))
        else {
            return;
        };
        let (_, _, n) = self.cleaning.swap_remove(i);
        let failed: Vec<String> = match result {
            Err(why) => vec![why.to_string()],
            Ok(TransactionResult::Error(e)) => vec![format!("{} {:?}", e.code, e.text)],
            Ok(TransactionResult::Actions(a)) => a
                .iter()
                .filter_map(|r| {
                    r.error
                        .as_ref()
                        .map(|e| format!("{:?}: {}", r.context, e.code))
                })
                .collect(),
        };
        if failed.is_empty() {
            info!(mid = %format_mid(mid), contexts = n, "unowned AGW contexts removed");
        } else {
            warn!(mid = %format_mid(mid), contexts = n, ?failed, "removing unowned AGW contexts failed");
        }
    }

    /// An AGW is gone: release its sessions (their Subtracts cannot be sent; the sessions end)
    /// and report.
    fn agw_gone(&mut self, mgc: &mut Mgc, now: Instant, mid: &MId) {
        let keys: Vec<Key> = self
            .sessions
            .iter()
            .filter(|(_, e)| agw::same_mid(&e.agw, mid))
            .map(|(k, _)| *k)
            .collect();
        if keys.is_empty() {
            return;
        }
        warn!(
            mid = %format_mid(mid),
            sessions = keys.len(),
            "AGW lost: releasing its sessions"
        );
        // Transactions to it will not be answered.
        let stale: Vec<(Key, TxToken)> = self
            .txns
            .iter()
            .filter(|(m, ..)| agw::same_mid(m, mid))
            .map(|(_, _, k, t)| (*k, *t))
            .collect();
        self.txns.retain(|(m, ..)| !agw::same_mid(m, mid));
        for (k, t) in stale {
            self.iq_outcome(mgc, now, k, t, IqOutcome::Failed("AGW lost".into()));
        }
        for k in keys {
            if let Some(e) = self.sessions.get_mut(&k) {
                warn!(call_id = %e.call_id, from_tag = %e.from_tag, "session released: AGW lost");
                e.session.release(now);
            }
            self.drain(mgc, now, k);
        }
    }

    // ------------------------------------------------------------------------ outputs

    /// Carry out what session `k` asks for.
    fn drain(&mut self, mgc: &mut Mgc, now: Instant, k: Key) {
        loop {
            let Some(e) = self.sessions.get_mut(&k) else {
                return;
            };
            let Some(out) = e.session.poll_output() else {
                let at = e.session.poll_timeout();
                self.set_timer(k, at);
                return;
            };
            match out {
                Output::Iq { token, actions } => {
                    self.stats.iq_request(&actions);
                    let agw = e.agw.clone();
                    let sent = if self.agws.is_up(&agw) {
                        mgc.send_request(now, &agw, actions)
                            .map_err(|e| e.to_string())
                    } else {
                        Err("AGW not in service".into())
                    };
                    match sent {
                        Ok(id) => {
                            debug!(id, agw = %format_mid(&agw), "Iq request sent");
                            self.txns.push((agw, id, k, token));
                        }
                        Err(err) => {
                            self.stats.iq_unsent += 1;
                            debug!(%err, "Iq request not sent");
                            if let Err(x) =
                                e.session
                                    .handle_iq_reply(token, IqOutcome::Failed(err), now)
                            {
                                warn!(%x, "session refused its own failure");
                            }
                        }
                    }
                }
                Output::Sdp { side, kind, sdp } => {
                    let text = sdp.to_string();
                    e.sdp_to.insert(side, text.clone());
                    match e.pending.take() {
                        Some(p) if p.side == side && p.kind == kind => {
                            debug!(call_id = %e.call_id, ?side, ?kind, "ng reply with SDP");
                            self.send(now, p.peer, &p.cookie, p.format, &reply::ok_sdp(&text));
                        }
                        other => {
                            e.pending = other;
                            debug!(?side, ?kind, "SDP output with no ng request waiting");
                        }
                    }
                }
                Output::Failed { reason } => {
                    warn!(call_id = %e.call_id, ?reason, "session failed");
                    if let Some(p) = e.pending.take() {
                        let v = reply::error(&failure_text(&reason));
                        self.send(now, p.peer, &p.cookie, p.format, &v);
                    }
                }
                Output::Released => {
                    info!(call_id = %e.call_id, from_tag = %e.from_tag, "session released");
                    if let Some(p) = e.pending.take() {
                        let v = reply::error("Session released");
                        self.send(now, p.peer, &p.cookie, p.format, &v);
                    }
                    if let Some(gone) = self.sessions.remove(&k) {
                        self.unindex(k, &gone.call_id);
                    }
                    self.stats.sessions_released += 1;
                    self.txns.retain(|(_, _, s, _)| *s != k);
                    if self.txns.capacity() > 256 && self.txns.len() < self.txns.capacity() / 4 {
                        self.txns.shrink_to(self.txns.len() * 2);
                    }
                    shrink_sparse(&mut self.sessions);
                    shrink_sparse(&mut self.by_call);
                    shrink_sparse(&mut self.timer_of);
                    return;
                }
            }
        }
    }
}

/// A table grown for a burst keeps its size when emptied (a session entry is 648 bytes, so the
/// 4,096 buckets a 2,000-session peak needs are 2.7 MB): give the memory back once the table is
/// mostly empty. Shrinking to twice the entries leaves room to grow again without rehashing at once.
fn shrink_sparse<K: Eq + std::hash::Hash, V, S: std::hash::BuildHasher>(m: &mut HashMap<K, V, S>) {
    let cap = m.capacity();
    if cap > 256 && m.len() < cap / 4 {
        m.shrink_to(m.len() * 2);
    }
}

fn failure_text(r: &FailureReason) -> String {
    match r {
        FailureReason::AgwError(e) => format!(
            "AGW error {}{}",
            e.code,
            e.text
                .as_deref()
                .map(|t| format!(": {t}"))
                .unwrap_or_default()
        ),
        FailureReason::IqTimeout => "AGW did not answer".into(),
        FailureReason::IqFailed(s) => format!("AGW unreachable: {s}"),
        FailureReason::BadReply(s) => format!("bad AGW reply: {s}"),
        FailureReason::DtlsFailure { cause } => {
            format!(
                "DTLS failure{}",
                cause
                    .as_deref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            )
        }
        FailureReason::BadAnswer(s) => format!("bad answer: {s}"),
        FailureReason::AnswerTimeout => "no answer in time".into(),
    }
}

/// Query media info from the SDP sent to a tag (our address) and the SDP it sent (its address).
fn medias(sent: Option<&String>, received: Option<&String>) -> Vec<reply::MediaInfo> {
    let parse = |s: Option<&String>| s.and_then(|s| Sdp::parse(s).ok());
    let (ours, theirs) = (parse(sent), parse(received));
    let base = ours.as_ref().or(theirs.as_ref());
    let Some(base) = base else { return Vec::new() };
    (0..base.media().len())
        .map(|i| {
            let m = &base.media()[i];
            let addr = |s: &Option<Sdp>| -> Option<SocketAddr> {
                let s = s.as_ref()?;
                let media = s.media().get(i)?;
                let port = match media.port() {
                    Choosable::Value(p) => p,
                    _ => return None,
                };
                let c = s.effective_connection(i)?;
                let ip: IpAddr = match c.address {
                    Choosable::Value(a) => a.split('/').next()?.parse().ok()?,
                    _ => return None,
                };
                Some(SocketAddr::new(ip, port))
            };
            reply::MediaInfo {
                index: u32::try_from(i + 1).unwrap_or(u32::MAX),
                media_type: m.media_type(),
                protocol: m.proto().to_string(),
                streams: vec![reply::StreamInfo {
                    local: addr(&ours),
                    remote: addr(&theirs),
                    stats: reply::Stats::default(),
                }],
            }
        })
        .collect()
}
