//! 2025-11-25 sessions: the negotiated version and client, in-flight requests for
//! `notifications/cancelled`, and the standalone GET stream.
//!
//! Ids are 32 random bytes in base64url: visible ASCII (0x21–0x7E) as the transport
//! requires, and unguessable, though never a credential.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::RngCore as _;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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
    inflight: Mutex<HashMap<RequestId, CancellationToken>>,
    /// Ends the standalone stream open now, if any.
    stream: Mutex<Option<CancellationToken>>,
    last_seen: AtomicU64,
    /// Server-to-client requests awaiting the client's answer.
    pub(crate) pending: Arc<PendingRequests>,
    /// `logging/setLevel`, as a `LogLevel` number; `u8::MAX` while unset.
    log_level: AtomicU8,
    /// URIs of `resources/subscribe`.
    subscriptions: Mutex<HashSet<String>>,
    /// What handlers store on the session.
    data: Arc<SessionData>,
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

    /// Registers an in-flight request; the guard unregisters it.
    pub(crate) fn track(self: &Arc<Self>, id: &RequestId) -> (CancellationToken, InflightGuard) {
        let token = CancellationToken::new();
        lock(&self.inflight).insert(id.clone(), token.clone());
        (
            token,
            InflightGuard {
                session: Arc::clone(self),
                id: id.clone(),
            },
        )
    }

    /// Cancels an in-flight request; unknown or finished ids are ignored.
    pub(crate) fn cancel(&self, id: &RequestId) {
        if let Some(token) = lock(&self.inflight).remove(id) {
            token.cancel();
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

    /// Records `resources/subscribe` (`true`) or `resources/unsubscribe` (`false`).
    pub(crate) fn subscribe(&self, uri: &str, on: bool) {
        let mut subscriptions = lock(&self.subscriptions);
        if on {
            subscriptions.insert(uri.to_owned());
        } else {
            subscriptions.remove(uri);
        }
    }

    fn close(&self) {
        if let Some(stream) = lock(&self.stream).take() {
            stream.cancel();
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

impl Drop for InflightGuard {
    fn drop(&mut self) {
        lock(&self.session.inflight).remove(&self.id);
    }
}

/// All sessions of one endpoint.
#[derive(Debug)]
pub(crate) struct SessionStore {
    map: RwLock<HashMap<Arc<str>, Arc<Session>, BuildHasherDefault<IdHasher>>>,
    idle: Duration,
    max: usize,
    epoch: Instant,
    last_sweep: AtomicU64,
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

/// Why a session could not be created.
#[derive(Debug)]
pub(crate) struct StoreFull;

impl SessionStore {
    pub(crate) fn new(idle: Duration, max: usize) -> Self {
        Self {
            map: RwLock::new(HashMap::default()),
            idle,
            max,
            epoch: Instant::now(),
            last_sweep: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_secs()
    }

    pub(crate) fn create(
        &self,
        version: &'static str,
        client: Arc<ClientDeclaration>,
        owner: Option<(String, String)>,
    ) -> Result<Arc<Session>, StoreFull> {
        self.sweep();
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let id: Arc<str> = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(bytes)
            .into();
        let session = Arc::new(Session {
            id: Arc::clone(&id),
            version,
            client,
            owner,
            inflight: Mutex::default(),
            stream: Mutex::default(),
            last_seen: AtomicU64::new(self.now()),
            pending: Arc::default(),
            log_level: AtomicU8::new(u8::MAX),
            subscriptions: Mutex::default(),
            data: Arc::default(),
        });
        let mut map = write(&self.map);
        if map.len() >= self.max {
            return Err(StoreFull);
        }
        map.insert(id, Arc::clone(&session));
        Ok(session)
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        let session = read(&self.map).get(id).cloned()?;
        let now = self.now();
        if now.saturating_sub(session.last_seen.load(Ordering::Relaxed)) > self.idle.as_secs() {
            self.remove(id);
            return None;
        }
        session.last_seen.store(now, Ordering::Relaxed);
        Some(session)
    }

    pub(crate) fn remove(&self, id: &str) -> bool {
        let removed = write(&self.map).remove(id);
        removed.inspect(|s| s.close()).is_some()
    }

    /// Drops idle sessions, at most once a minute.
    fn sweep(&self) {
        let now = self.now();
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now < last + 60
            || self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let idle = self.idle.as_secs();
        write(&self.map).retain(|_, s| {
            let keep = now.saturating_sub(s.last_seen.load(Ordering::Relaxed)) <= idle;
            if !keep {
                s.close();
            }
            keep
        });
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        read(&self.map).len()
    }
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

    #[test]
    fn ids_are_visible_ascii_and_unique() {
        let store = SessionStore::new(Duration::from_mins(1), 10);
        let a = store
            .create("2025-11-25", ClientDeclaration::new(None, None), None)
            .unwrap();
        let b = store
            .create("2025-11-25", ClientDeclaration::new(None, None), None)
            .unwrap();
        assert_ne!(a.id, b.id);
        assert!(a.id.len() >= 40 && a.id.bytes().all(|c| (0x21..=0x7e).contains(&c)));
        assert!(store.get(&a.id).is_some());
        assert!(store.remove(&a.id));
        assert!(store.get(&a.id).is_none());
        assert!(!store.remove(&a.id));
    }

    #[test]
    fn the_store_is_bounded_and_cancels_on_close() {
        let store = SessionStore::new(Duration::from_mins(1), 1);
        let s = store
            .create("2025-11-25", ClientDeclaration::new(None, None), None)
            .unwrap();
        assert!(
            store
                .create("2025-11-25", ClientDeclaration::new(None, None), None)
                .is_err()
        );
        let (token, _guard) = s.track(&RequestId::Number(1));
        store.remove(&s.id);
        assert!(token.is_cancelled());
        assert_eq!(store.len(), 0);
    }

    #[test]
    fn cancelling_an_unknown_request_is_ignored() {
        let store = SessionStore::new(Duration::from_mins(1), 1);
        let s = store
            .create("2025-11-25", ClientDeclaration::new(None, None), None)
            .unwrap();
        s.cancel(&RequestId::Number(9));
        let (token, guard) = s.track(&RequestId::Number(1));
        drop(guard);
        s.cancel(&RequestId::Number(1));
        assert!(!token.is_cancelled());
    }

    #[tokio::test]
    async fn a_stream_ends_when_its_session_ends_or_another_replaces_it() {
        let store = SessionStore::new(Duration::from_mins(1), 1);
        let hub = Hub::default();
        let s = store
            .create("2025-11-25", ClientDeclaration::new(None, None), None)
            .unwrap();
        let mut first = s.open_stream(&hub);
        let mut second = s.open_stream(&hub);
        let ended = tokio::time::timeout(Duration::from_secs(5), first.recv()).await;
        assert_eq!(ended.unwrap(), None, "a second stream closes the first");
        store.remove(&s.id);
        let ended = tokio::time::timeout(Duration::from_secs(5), second.recv()).await;
        assert_eq!(ended.unwrap(), None, "ending the session ends its stream");
    }
}
