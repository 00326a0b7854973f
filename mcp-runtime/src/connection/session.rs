//! 2025-11-25 sessions: the negotiated version and client, in-flight requests for
//! `notifications/cancelled`, and the standalone GET stream.
//!
//! Ids are 32 random bytes in base64url: visible ASCII (0x21–0x7E) as the transport
//! requires, and unguessable, though never a credential.
//!
//! What one client can make the store hold is bounded ([`SessionLimits`]): sessions per
//! client (its OAuth subject, or its address on servers without OAuth) and in all, the
//! bytes of its `clientInfo` and capabilities, its subscriptions, its requests in flight.
//! Sessions expire on their own schedule, swept by a task of the store: one never used
//! after `initialize` soon, an idle one after the idle timeout.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::RngCore as _;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::events::{CopyEvents, ReplayLimits, ReplayTotal, Streams};
use crate::protocol::{RequestId, notification_json};
use crate::server::call::ClientDeclaration;
use crate::server::input::{Change, Hub, LogLevel, PendingRequests, next_change};
use crate::server::session::SessionData;

/// One session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: Arc<str>,
    pub(crate) version: &'static str,
    pub(crate) client: Arc<ClientDeclaration>,
    /// The `(iss, sub)` that opened the session, on protected servers.
    owner: Option<(String, String)>,
    /// Whom the session counts against.
    client_key: Option<ClientKey>,
    inflight: Mutex<HashMap<RequestId, CancellationToken>>,
    /// The most requests in flight at once.
    max_in_flight: usize,
    /// Ends the standalone stream open now, if any.
    stream: Mutex<Option<CancellationToken>>,
    /// Milliseconds since the store's epoch.
    last_seen: AtomicU64,
    /// Whether a message named the session after `initialize`.
    used: AtomicBool,
    /// Server-to-client requests awaiting the client's answer.
    pub(crate) pending: Arc<PendingRequests>,
    /// `logging/setLevel`, as a `LogLevel` number; `u8::MAX` while unset.
    log_level: AtomicU8,
    /// URIs of `resources/subscribe`.
    subscriptions: Mutex<HashSet<String>>,
    max_subscriptions: usize,
    /// What handlers store on the session.
    data: Arc<SessionData>,
    /// What its SSE streams carried, for resumption (Streamable HTTP only); made on first
    /// use.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    streams: OnceLock<Arc<Streams>>,
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    replay: ReplayLimits,
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    replay_total: Arc<ReplayTotal>,
    /// The replica's number and where the events of its streams are copied, where
    /// replicas share sessions.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    copies: Option<(u64, Arc<dyn CopyEvents>)>,
}

impl fmt::Debug for dyn CopyEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CopyEvents")
    }
}

impl Session {
    /// The handle a handler receives as its `Session` parameter.
    pub(crate) fn handle(&self) -> crate::server::Session {
        crate::server::Session {
            id: Arc::clone(&self.id),
            data: Arc::clone(&self.data),
        }
    }

    /// Whether `principal` (`(iss, sub)`, or none on unprotected servers) opened it.
    pub(crate) fn is_owned_by(&self, principal: Option<(&str, &str)>) -> bool {
        self.owner.as_ref().map(|(i, s)| (i.as_str(), s.as_str())) == principal
    }

    /// Registers an in-flight request; the guard unregisters it. `None` when the session
    /// has as many requests in flight as it may.
    pub(crate) fn track(
        self: &Arc<Self>,
        id: &RequestId,
    ) -> Option<(CancellationToken, InflightGuard)> {
        let token = CancellationToken::new();
        {
            let mut inflight = lock(&self.inflight);
            if inflight.len() >= self.max_in_flight && !inflight.contains_key(id) {
                return None;
            }
            inflight.insert(id.clone(), token.clone());
        }
        Some((
            token,
            InflightGuard {
                session: Arc::clone(self),
                id: id.clone(),
            },
        ))
    }

    /// The most requests the session may have in flight at once.
    pub(crate) fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// Cancels an in-flight request; whether it was one of this process (unknown or
    /// finished ids are ignored).
    pub(crate) fn cancel(&self, id: &RequestId) -> bool {
        match lock(&self.inflight).remove(id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Whether a connection or a request of this process uses the session now.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn busy(&self) -> bool {
        lock(&self.stream).is_some() || !lock(&self.inflight).is_empty()
    }

    /// Replaces the subscriptions with those another replica recorded.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn set_subscriptions(&self, uris: HashSet<String>) {
        *lock(&self.subscriptions) = uris;
    }

    /// Records a subscription another replica accepted, past this process's limits.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn note_subscription(&self, uri: &str, on: bool) {
        let mut subscriptions = lock(&self.subscriptions);
        if on {
            subscriptions.insert(uri.to_owned());
        } else {
            subscriptions.remove(uri);
        }
    }

    /// Opens the standalone stream, replacing (and so closing) an earlier one. List changes
    /// and updates of subscribed resources published on `hub` go out on it.
    pub(crate) fn open_stream(self: &Arc<Self>, hub: &Hub) -> mpsc::Receiver<Vec<u8>> {
        let (tx, rx) = mpsc::channel(64);
        let ended = CancellationToken::new();
        if let Some(earlier) = lock(&self.stream).replace(ended.clone()) {
            earlier.cancel();
        }
        let mut changes = hub.subscribe();
        let session = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                // Ending the task drops the stream's sender: the response ends with it.
                let change = tokio::select! {
                    () = ended.cancelled() => return,
                    change = next_change(&mut changes, &tx) => change,
                };
                let Some(change) = change else {
                    return;
                };
                let Some(session) = session.upgrade() else {
                    return;
                };
                let message = match change {
                    Change::Tools => {
                        notification_json("notifications/tools/list_changed", &json!({}))
                    }
                    Change::Prompts => {
                        notification_json("notifications/prompts/list_changed", &json!({}))
                    }
                    Change::Resources => {
                        notification_json("notifications/resources/list_changed", &json!({}))
                    }
                    Change::Resource(uri) if lock(&session.subscriptions).contains(&uri) => {
                        notification_json("notifications/resources/updated", &json!({"uri": uri}))
                    }
                    Change::Resource(_) => continue,
                };
                if tx.send(message).await.is_err() {
                    return;
                }
            }
        });
        rx
    }

    /// The `logging/setLevel` threshold, if the client set one.
    pub(crate) fn log_level(&self) -> Option<LogLevel> {
        LogLevel::from_u8(self.log_level.load(Ordering::Relaxed))
    }

    pub(crate) fn set_log_level(&self, level: LogLevel) {
        self.log_level.store(level.to_u8(), Ordering::Relaxed);
    }

    /// Records `resources/subscribe` (`true`) or `resources/unsubscribe` (`false`);
    /// refuses a subscription beyond the session's limit or a URI longer than
    /// [`MAX_SUBSCRIBED_URI`].
    pub(crate) fn subscribe(&self, uri: &str, on: bool) -> Result<(), SubscriptionRefused> {
        let mut subscriptions = lock(&self.subscriptions);
        if !on {
            subscriptions.remove(uri);
            return Ok(());
        }
        if uri.len() > MAX_SUBSCRIBED_URI {
            return Err(SubscriptionRefused::UriTooLong);
        }
        if subscriptions.len() >= self.max_subscriptions && !subscriptions.contains(uri) {
            return Err(SubscriptionRefused::TooMany(self.max_subscriptions));
        }
        subscriptions.insert(uri.to_owned());
        Ok(())
    }

    /// The session's SSE streams, kept for resumption.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn streams(&self) -> &Arc<Streams> {
        self.streams.get_or_init(|| {
            let streams = Streams::new(self.replay, Arc::clone(&self.replay_total));
            Arc::new(match &self.copies {
                Some((replica, copies)) => {
                    streams.copied(*replica, Arc::clone(&self.id), Arc::clone(copies))
                }
                None => streams,
            })
        })
    }

    fn close(&self) {
        if let Some(stream) = lock(&self.stream).take() {
            stream.cancel();
        }
        if let Some(streams) = self.streams.get() {
            streams.close();
        }
        for (_, token) in lock(&self.inflight).drain() {
            token.cancel();
        }
    }
}

/// Unregisters an in-flight request when dropped.
pub(crate) struct InflightGuard {
    session: Arc<Session>,
    id: RequestId,
}

impl InflightGuard {
    /// The session of the request.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.session
    }
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        lock(&self.session.inflight).remove(&self.id);
    }
}

/// The longest URI a session may subscribe to, in bytes.
pub(crate) const MAX_SUBSCRIBED_URI: usize = 4096;

/// Why `resources/subscribe` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubscriptionRefused {
    /// The session holds this many subscriptions already.
    TooMany(usize),
    /// The URI is longer than [`MAX_SUBSCRIBED_URI`].
    UriTooLong,
}

/// What sessions may hold, and for how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionLimits {
    /// Sessions held at once.
    pub(crate) max: usize,
    /// Sessions held at once for one client: an OAuth subject, or an address (IPv6 by /64).
    pub(crate) per_client: usize,
    /// How long a session may go unused before it expires.
    pub(crate) idle: Duration,
    /// How long a session may wait after `initialize` for its next message.
    pub(crate) unused: Duration,
    /// Bytes of `clientInfo` and `capabilities` kept per session.
    pub(crate) client_bytes: usize,
    /// `resources/subscribe` URIs per session.
    pub(crate) subscriptions: usize,
    /// Requests in flight per session.
    pub(crate) in_flight: usize,
    /// What is kept of SSE streams for resumption.
    pub(crate) replay: ReplayLimits,
}

impl SessionLimits {
    /// One client whose session lives as long as the process (stdio).
    #[cfg(any(feature = "stdio", test))]
    pub(crate) const ONE_CLIENT: Self = Self {
        max: 2,
        per_client: 2,
        idle: Duration::MAX,
        unused: Duration::MAX,
        client_bytes: usize::MAX,
        subscriptions: usize::MAX,
        in_flight: usize::MAX,
        replay: ReplayLimits::DEFAULT,
    };
}

/// Whom a session counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ClientKey {
    /// An OAuth `(iss, sub)`.
    Subject(String, String),
    /// An address; IPv6 addresses by their /64, which one host is usually given whole.
    Peer(IpAddr),
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Subject(iss, sub) => write!(f, "s:{iss} {sub}"),
            Self::Peer(ip) => write!(f, "p:{ip}"),
        }
    }
}

impl ClientKey {
    /// The key of a client known by its subject, else by its address.
    pub(crate) fn of(owner: Option<&(String, String)>, peer: Option<IpAddr>) -> Option<Self> {
        match (owner, peer) {
            (Some((iss, sub)), _) => Some(Self::Subject(iss.clone(), sub.clone())),
            (None, Some(ip)) => Some(Self::Peer(network_of(ip))),
            (None, None) => None,
        }
    }
}

/// `ip` with an IPv6 address cut to its /64 (an IPv4-mapped one read as IPv4).
pub(crate) fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or_else(
            || IpAddr::V6((u128::from(v6) & (!0u128 << 64)).into()),
            IpAddr::V4,
        ),
    }
}

/// Why a session could not be created; the client may retry after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The store holds as many sessions as it may.
    Full { retry_after: Duration },
    /// This client holds as many sessions as one client may.
    ClientQuota { limit: usize, retry_after: Duration },
}

struct Table {
    sessions: HashMap<Arc<str>, Arc<Session>, BuildHasherDefault<IdHasher>>,
    per_client: HashMap<ClientKey, usize>,
}

impl Table {
    /// Takes `id` out, closing it and freeing its client's place.
    fn take(&mut self, id: &str) -> Option<Arc<Session>> {
        let session = self.sessions.remove(id)?;
        if let Some(key) = &session.client_key
            && let Some(n) = self.per_client.get_mut(key)
        {
            *n -= 1;
            if *n == 0 {
                self.per_client.remove(key);
            }
        }
        session.close();
        Some(session)
    }
}

/// All sessions of one endpoint.
pub(crate) struct SessionStore {
    table: RwLock<Table>,
    limits: SessionLimits,
    epoch: Instant,
    /// Sessions expired by the sweeper or on access, and `initialize` calls refused.
    expired: AtomicU64,
    refused: AtomicU64,
    sweeping: AtomicBool,
    /// Bytes of SSE events kept over all sessions.
    replay_total: Arc<ReplayTotal>,
    /// This process's number among replicas sharing sessions.
    replica: Option<u64>,
    /// Where the events of streams are copied, where replicas share sessions.
    copies: OnceLock<Arc<dyn CopyEvents>>,
    me: Weak<SessionStore>,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Hashes a session id by its first eight bytes. The ids are random and only the server
/// inserts them, so those bytes are already evenly spread, and ids made up by a client can
/// only miss: no chain grows longer than chance makes it.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Spread the bits so that every part of the hash varies.
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(8) ^ u64::from_le_bytes(word);
    }
}

/// The counts an operator reads.
#[cfg(any(feature = "http", test))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SessionCounts {
    pub(crate) open: usize,
    pub(crate) unused: usize,
    pub(crate) expired: u64,
    pub(crate) refused: u64,
    /// Bytes of SSE events kept for resumption.
    pub(crate) replay_bytes: usize,
}

impl SessionStore {
    pub(crate) fn new(limits: SessionLimits) -> Arc<Self> {
        Self::of_replica(limits, None)
    }

    /// The sessions replica number `replica` holds in memory, of those the replicas share.
    pub(crate) fn of_replica(limits: SessionLimits, replica: Option<u64>) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            table: RwLock::new(Table {
                sessions: HashMap::default(),
                per_client: HashMap::new(),
            }),
            limits,
            epoch: Instant::now(),
            expired: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            sweeping: AtomicBool::new(false),
            replay_total: Arc::default(),
            replica,
            copies: OnceLock::new(),
            me: me.clone(),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How often the sweeper looks: a quarter of the shorter timeout, from 100 ms to 30 s.
    fn sweep_every(&self) -> Duration {
        (self.limits.idle.min(self.limits.unused) / 4)
            .clamp(Duration::from_millis(100), Duration::from_secs(30))
    }

    /// How long a refused client should wait: until the next sweep can have made room.
    fn retry_after(&self) -> Duration {
        self.sweep_every().max(Duration::from_secs(1))
    }

    pub(crate) fn create(
        &self,
        version: &'static str,
        client: Arc<ClientDeclaration>,
        owner: Option<(String, String)>,
        peer: Option<IpAddr>,
    ) -> Result<Arc<Session>, Refused> {
        self.start_sweeping();
        let client_key = ClientKey::of(owner.as_ref(), peer);
        let session = self.session(new_id(), version, client, owner, client_key.clone());
        let id = Arc::clone(&session.id);
        let mut table = write(&self.table);
        if table.sessions.len() >= self.limits.max {
            drop(table);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Refused::Full {
                retry_after: self.retry_after(),
            });
        }
        if let Some(key) = client_key {
            let held = table.per_client.entry(key).or_insert(0);
            if *held >= self.limits.per_client {
                drop(table);
                self.refused.fetch_add(1, Ordering::Relaxed);
                return Err(Refused::ClientQuota {
                    limit: self.limits.per_client,
                    retry_after: self.retry_after(),
                });
            }
            *held += 1;
        }
        table.sessions.insert(id, Arc::clone(&session));
        Ok(session)
    }

    /// A session not yet in the table.
    fn session(
        &self,
        id: Arc<str>,
        version: &'static str,
        client: Arc<ClientDeclaration>,
        owner: Option<(String, String)>,
        client_key: Option<ClientKey>,
    ) -> Arc<Session> {
        Arc::new(Session {
            id,
            version,
            client,
            owner,
            client_key,
            inflight: Mutex::default(),
            max_in_flight: self.limits.in_flight,
            stream: Mutex::default(),
            last_seen: AtomicU64::new(self.now()),
            used: AtomicBool::new(false),
            pending: Arc::new(PendingRequests::of_replica(self.replica)),
            log_level: AtomicU8::new(u8::MAX),
            subscriptions: Mutex::default(),
            max_subscriptions: self.limits.subscriptions,
            data: Arc::default(),
            streams: OnceLock::new(),
            replay: self.limits.replay,
            replay_total: Arc::clone(&self.replay_total),
            copies: self.replica.zip(self.copies.get().cloned()),
        })
    }

    /// Copies the events of every stream opened from now on to `copies`.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn copy_events_to(&self, copies: Arc<dyn CopyEvents>) {
        let _ = self.copies.set(copies);
    }

    /// Holds here a session a store shared by replicas admitted, with what it records; the
    /// session held already, when it is.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn adopt(&self, record: Adopted) -> Arc<Session> {
        if let Some(held) = read(&self.table).sessions.get(&*record.id) {
            return Arc::clone(held);
        }
        let session = self.session(
            record.id,
            record.version,
            record.client,
            record.owner,
            // The shared store counts it.
            None,
        );
        if let Some(level) = record.log_level {
            session.set_log_level(level);
        }
        session.set_subscriptions(record.subscriptions);
        let mut table = write(&self.table);
        Arc::clone(
            table
                .sessions
                .entry(Arc::clone(&session.id))
                .or_insert(session),
        )
    }

    /// The session `id` if this process holds it, without touching it.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn held(&self, id: &str) -> Option<Arc<Session>> {
        read(&self.table).sessions.get(id).cloned()
    }

    /// How long `session` has gone unused here.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn quiet_for(&self, session: &Session) -> Duration {
        Duration::from_millis(
            self.now()
                .saturating_sub(session.last_seen.load(Ordering::Relaxed)),
        )
    }

    /// Every session held here.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn all(&self) -> Vec<Arc<Session>> {
        read(&self.table).sessions.values().cloned().collect()
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        let session = read(&self.table).sessions.get(id).cloned()?;
        let now = self.now();
        if self.expired_at(&session, now) {
            if write(&self.table).take(id).is_some() {
                self.expired.fetch_add(1, Ordering::Relaxed);
            }
            return None;
        }
        session.last_seen.store(now, Ordering::Relaxed);
        if !session.used.load(Ordering::Relaxed) {
            session.used.store(true, Ordering::Relaxed);
        }
        Some(session)
    }

    /// Whether `session` has outlived its timeout at `now`.
    fn expired_at(&self, session: &Session, now: u64) -> bool {
        let timeout = if session.used.load(Ordering::Relaxed) {
            self.limits.idle
        } else {
            self.limits.unused
        };
        let quiet = now.saturating_sub(session.last_seen.load(Ordering::Relaxed));
        u128::from(quiet) > timeout.as_millis()
    }

    pub(crate) fn remove(&self, id: &str) -> bool {
        write(&self.table).take(id).is_some()
    }

    /// Starts the sweeper once, from inside the runtime, unless sessions never expire.
    fn start_sweeping(&self) {
        if self.limits.idle == Duration::MAX && self.limits.unused == Duration::MAX
            || self.sweeping.swap(true, Ordering::Relaxed)
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.sweeping.store(false, Ordering::Relaxed);
            return;
        };
        let store = self.me.clone();
        let every = self.sweep_every();
        runtime.spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                // The store went with its endpoint: nothing left to sweep.
                let Some(store) = store.upgrade() else {
                    return;
                };
                store.sweep();
            }
        });
    }

    /// Drops the sessions past their timeouts.
    fn sweep(&self) {
        let now = self.now();
        let stale: Vec<Arc<str>> = read(&self.table)
            .sessions
            .iter()
            .filter(|(_, s)| self.expired_at(s, now))
            .map(|(id, _)| Arc::clone(id))
            .collect();
        if stale.is_empty() {
            return;
        }
        let mut table = write(&self.table);
        let mut expired = 0u64;
        for id in &stale {
            // Used again since it was read: it stays.
            if table
                .sessions
                .get(id)
                .is_some_and(|s| self.expired_at(s, now))
            {
                table.take(id);
                expired += 1;
            }
        }
        let open = table.sessions.len();
        drop(table);
        self.expired.fetch_add(expired, Ordering::Relaxed);
        tracing::debug!(expired, open, "expired sessions");
    }

    /// The counts an operator reads.
    #[cfg(any(feature = "http", test))]
    pub(crate) fn counts(&self) -> SessionCounts {
        let table = read(&self.table);
        SessionCounts {
            open: table.sessions.len(),
            unused: table
                .sessions
                .values()
                .filter(|s| !s.used.load(Ordering::Relaxed))
                .count(),
            expired: self.expired.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            replay_bytes: self.replay_total.bytes(),
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        read(&self.table).sessions.len()
    }
}

/// A new session id: 32 random bytes in base64url.
pub(crate) fn new_id() -> Arc<str> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(bytes)
        .into()
}

/// A session as a store shared by replicas records it.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) struct Adopted {
    pub(crate) id: Arc<str>,
    pub(crate) version: &'static str,
    pub(crate) client: Arc<ClientDeclaration>,
    pub(crate) owner: Option<(String, String)>,
    pub(crate) log_level: Option<LogLevel>,
    pub(crate) subscriptions: HashSet<String>,
}

/// Locks `m`. A poisoned lock only means another request panicked mid-update of state
/// whose entries stay valid on their own, so the data is still safe to use.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}
fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize) -> SessionLimits {
        SessionLimits {
            max,
            per_client: max,
            idle: Duration::from_mins(1),
            unused: Duration::from_mins(1),
            client_bytes: 1024,
            subscriptions: 2,
            in_flight: 2,
            replay: ReplayLimits::DEFAULT,
        }
    }

    fn open(store: &SessionStore, peer: Option<IpAddr>) -> Result<Arc<Session>, Refused> {
        store.create("2025-11-25", ClientDeclaration::new(None, None), None, peer)
    }

    #[test]
    fn ids_are_visible_ascii_and_unique() {
        let store = SessionStore::new(limits(10));
        let a = open(&store, None).unwrap();
        let b = open(&store, None).unwrap();
        assert_ne!(a.id, b.id);
        assert!(a.id.len() >= 40 && a.id.bytes().all(|c| (0x21..=0x7e).contains(&c)));
        assert!(store.get(&a.id).is_some());
        assert!(store.remove(&a.id));
        assert!(store.get(&a.id).is_none());
        assert!(!store.remove(&a.id));
    }

    #[test]
    fn the_store_is_bounded_and_cancels_on_close() {
        let store = SessionStore::new(limits(1));
        let s = open(&store, None).unwrap();
        assert!(matches!(open(&store, None), Err(Refused::Full { .. })));
        let (token, _guard) = s.track(&RequestId::Number(1)).unwrap();
        store.remove(&s.id);
        assert!(token.is_cancelled());
        assert_eq!(store.len(), 0);
        assert_eq!(store.counts().refused, 1);
    }

    #[test]
    fn one_client_holds_at_most_its_share() {
        let store = SessionStore::new(SessionLimits {
            per_client: 2,
            ..limits(10)
        });
        let here = Some("192.0.2.1".parse().unwrap());
        let there = Some("192.0.2.2".parse().unwrap());
        let first = open(&store, here).unwrap();
        open(&store, here).unwrap();
        assert!(matches!(
            open(&store, here),
            Err(Refused::ClientQuota { limit: 2, .. })
        ));
        open(&store, there).unwrap();
        store.remove(&first.id);
        open(&store, here).expect("a closed session frees its place");
        // A subject counts apart from its address.
        let owner = Some(("https://as".to_owned(), "alice".to_owned()));
        store
            .create(
                "2025-11-25",
                ClientDeclaration::new(None, None),
                owner,
                here,
            )
            .unwrap();
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_slash_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        assert_ne!(network_of(a), network_of(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(network_of(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn requests_in_flight_and_subscriptions_are_bounded() {
        let store = SessionStore::new(limits(1));
        let s = open(&store, None).unwrap();
        let one = s.track(&RequestId::Number(1)).unwrap();
        let _two = s.track(&RequestId::Number(2)).unwrap();
        assert!(s.track(&RequestId::Number(3)).is_none());
        drop(one);
        assert!(s.track(&RequestId::Number(3)).is_some());
        assert_eq!(s.subscribe("a://1", true), Ok(()));
        assert_eq!(s.subscribe("a://2", true), Ok(()));
        assert_eq!(s.subscribe("a://1", true), Ok(()), "again is no more");
        assert_eq!(
            s.subscribe("a://3", true),
            Err(SubscriptionRefused::TooMany(2))
        );
        let long = format!("a://{}", "x".repeat(MAX_SUBSCRIBED_URI));
        assert_eq!(
            s.subscribe(&long, true),
            Err(SubscriptionRefused::UriTooLong)
        );
        assert_eq!(s.subscribe("a://1", false), Ok(()));
        assert_eq!(s.subscribe("a://3", true), Ok(()));
    }

    #[tokio::test]
    async fn unused_and_idle_sessions_expire_on_their_own() {
        let store = SessionStore::new(SessionLimits {
            unused: Duration::from_millis(200),
            idle: Duration::from_millis(800),
            ..limits(10)
        });
        let unused = open(&store, None).unwrap();
        let used = open(&store, None).unwrap();
        assert!(store.get(&used.id).is_some());
        assert_eq!(store.counts().unused, 1);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let counts = store.counts();
        assert_eq!(
            counts.open, 1,
            "the unused session is gone without a new one"
        );
        assert_eq!(counts.expired, 1);
        assert!(store.get(&unused.id).is_none());
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(store.counts().open, 0, "the idle one follows");
        assert_eq!(store.counts().expired, 2);
    }

    #[test]
    fn cancelling_an_unknown_request_is_ignored() {
        let store = SessionStore::new(limits(1));
        let s = open(&store, None).unwrap();
        s.cancel(&RequestId::Number(9));
        let (token, guard) = s.track(&RequestId::Number(1)).unwrap();
        drop(guard);
        s.cancel(&RequestId::Number(1));
        assert!(!token.is_cancelled());
    }

    #[tokio::test]
    async fn a_stream_ends_when_its_session_ends_or_another_replaces_it() {
        let store = SessionStore::new(limits(1));
        let hub = Hub::default();
        let s = open(&store, None).unwrap();
        let mut first = s.open_stream(&hub);
        let mut second = s.open_stream(&hub);
        let ended = tokio::time::timeout(Duration::from_secs(5), first.recv()).await;
        assert_eq!(ended.unwrap(), None, "a second stream closes the first");
        store.remove(&s.id);
        let ended = tokio::time::timeout(Duration::from_secs(5), second.recv()).await;
        assert_eq!(ended.unwrap(), None, "ending the session ends its stream");
    }
}
