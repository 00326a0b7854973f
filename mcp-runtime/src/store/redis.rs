//! The Redis store: sessions, what their streams carried, and the messages between
//! replicas.
//!
//! Keys, under a prefix (`mcp:` unless told otherwise):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{p}s:{id}` | hash | `v` revision, `c` client info and capabilities, `i`/`u` owner, `k` whom it counts against, `l` log level; expires with the session |
//! | `{p}s:{id}:subs` | set | subscribed URIs; expires with the session |
//! | `{p}sessions` | sorted set | every session, scored by when it expires: the count the limit reads |
//! | `{p}c:{client}` | sorted set | the sessions of one client, likewise |
//! | `{p}e:{id}:{stream}` | stream | the events of one SSE stream, capped; expires an idle timeout after its last event, and with the session |
//! | `{p}w:{id}:{stream}` | string | the replica carrying a handed-off stream on; expires with the stream |
//! | `{p}s:{id}:streams` | set | the session's stream and carrier keys, removed with it |
//! | `{p}replica` | counter | hands each replica its number |
//! | `{p}r:{n}` | string | present while replica `n` lives (renewed every second, expires after 3 s) |
//! | `{p}bus` | channel | ended sessions, cancellations, answers, changes, subscriptions, log levels, handed-off streams |
//!
//! A request in a session costs one round trip (one script that checks, touches and reads
//! the session), or none when the store confirmed the session to this replica less than a
//! second ago ([`CONFIRMED_FOR`]): an end on another replica arrives over the bus at once.
//! `initialize` is one script; `DELETE` one more, which also tells the other replicas;
//! `logging/setLevel` and subscriptions one more each (which also tell the other
//! replicas); a message for another replica one `PUBLISH`.
//!
//! The scripts compute some key names from what they read, so the store is one Redis
//! (standalone or behind Sentinel), not a Redis Cluster.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use crate::connection::events::{CopyEvents, Entry, EventId, spawn_writer};
use crate::connection::session::{
    Adopted, ClientKey, Refused, Session, SessionLimits, SessionStore, SubscriptionRefused, lock,
    new_id,
};
use crate::connection::sessions::{EventBatches, SharedStore, StoreDown};
use crate::protocol::{self, RequestId};
use crate::server::call::ClientDeclaration;
use crate::server::input::{Change, Hub, LogLevel};
use crate::server::tasks::{self, Relayed, StoreError, TaskRecord, TaskStore, Tasks};

/// Sessions, resumable streams and cross-replica messages in one Redis, shared by every
/// replica of a server.
///
/// Connect once at startup and give it to
/// [`HttpConfig::session_store`](crate::HttpConfig::session_store); see the
/// [module](crate::store) for what it keeps and what each request costs.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use mcp_runtime::HttpConfig;
/// use mcp_runtime::store::RedisStore;
///
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// let config = HttpConfig::new().session_store(store);
/// # let _ = config; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    backend: Arc<Backend>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.backend.prefix)
            .field("replica", &self.backend.replica)
            .finish_non_exhaustive()
    }
}

/// The environment variable [`RedisStore::from_env`] reads: a Redis URL.
pub const REDIS_URL_VAR: &str = "MCP_REDIS_URL";

/// Why [`RedisStore::connect`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// The URL is not a Redis URL.
    #[error("not a Redis URL (`redis://host:port/db`): {0}")]
    Url(String),
    /// Redis did not answer.
    #[error("Redis did not answer: {0}")]
    Unreachable(String),
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[user:password@]host:port/db`), with keys
    /// under `mcp:`.
    ///
    /// # Errors
    ///
    /// When the URL is not one, or Redis does not answer within a few seconds.
    pub async fn connect(url: &str) -> Result<Self, RedisStoreError> {
        Self::connect_with_prefix(url, "mcp:").await
    }

    /// Connects to the Redis at `url`, with keys under `prefix`: servers sharing one Redis
    /// but not their sessions use different prefixes.
    ///
    /// # Errors
    ///
    /// As [`RedisStore::connect`].
    pub async fn connect_with_prefix(url: &str, prefix: &str) -> Result<Self, RedisStoreError> {
        let client = redis::Client::open(url).map_err(|e| RedisStoreError::Url(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let unreachable = |e: redis::RedisError| RedisStoreError::Unreachable(e.to_string());
        let mut conn = tokio::time::timeout(
            Duration::from_secs(5),
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        .map_err(|_| RedisStoreError::Unreachable("no answer in 5 s".into()))?
        .map_err(unreachable)?;
        let replica: u64 = redis::cmd("INCR")
            .arg(format!("{prefix}replica"))
            .query_async(&mut conn)
            .await
            .map_err(unreachable)?;
        let (copies, queue) = mpsc::channel(COPY_QUEUE);
        let backend = Arc::new(Backend {
            client,
            conn,
            prefix: prefix.into(),
            replica,
            endpoints: Mutex::default(),
            bus: OnceLock::new(),
            ended: CancellationToken::new(),
            warned: AtomicU64::new(0),
            epoch: Instant::now(),
            copies,
            copying: Arc::default(),
            dropped: AtomicU64::new(0),
        });
        backend.start_copying(queue);
        backend.start_heartbeat();
        Ok(Self { backend })
    }

    /// The store named by `MCP_REDIS_URL` ([`REDIS_URL_VAR`]), connected; `None` when the
    /// variable is unset or empty.
    ///
    /// # Errors
    ///
    /// As [`RedisStore::connect`].
    pub async fn from_env() -> Result<Option<Self>, RedisStoreError> {
        match std::env::var(REDIS_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => Self::connect(url.trim()).await.map(Some),
            _ => Ok(None),
        }
    }

    /// Waits until the events handed to the store are written, for at most `within`: a
    /// replica that stops calls this last, so that another can resume its streams.
    pub async fn flush(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while self.backend.copying.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// This process's number among the replicas, unique as long as the store lasts.
    pub fn replica(&self) -> u64 {
        self.backend.replica
    }

    /// Records `seen` as used for `ttl`, for every replica at once (`SET … NX PX`): false
    /// when it already was.
    pub(crate) async fn first_use(
        &self,
        seen: &[u8; 32],
        ttl: Duration,
    ) -> Result<bool, StoreDown> {
        use std::fmt::Write as _;
        let mut key = format!("{}dpop:", self.backend.prefix);
        for byte in seen {
            let _ = write!(key, "{byte:02x}");
        }
        let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let set: Option<String> = self
            .backend
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(set.is_some())
    }

    /// Serves an endpoint's sessions from the store, under `limits`, until `stopped`.
    pub(crate) fn attach(
        &self,
        limits: SessionLimits,
        stopped: CancellationToken,
    ) -> Arc<dyn SharedStore> {
        let backend = Arc::clone(&self.backend);
        backend.start_bus();
        let relay = Arc::downgrade(&backend);
        let relay_task = relay.clone();
        let hub = Hub::relayed(
            move |change| {
                if let Some(backend) = relay.upgrade() {
                    backend.publish_later(Note::Change(Changed::of(change)));
                }
            },
            move |task| {
                if let Some(backend) = relay_task.upgrade() {
                    backend.publish_later(Note::TaskChanged {
                        task: task.to_owned(),
                    });
                }
            },
        );
        // What this process holds is what it serves: the store counts and expires.
        let held = SessionLimits {
            max: usize::MAX,
            per_client: usize::MAX,
            idle: Duration::MAX,
            unused: Duration::MAX,
            ..limits
        };
        let local = SessionStore::of_replica(held, Some(backend.replica));
        local.copy_events_to(Arc::new(Mirror {
            backend: Arc::downgrade(&backend),
            ttl: Attached::ms(limits.idle),
        }));
        let attached = Arc::new_cyclic(|me| Attached {
            me: me.clone(),
            local,
            hub,
            limits,
            stopped,
            backend: Arc::clone(&backend),
            tasks: OnceLock::new(),
            confirmed: Mutex::default(),
        });
        lock(&backend.endpoints).push(Arc::downgrade(&attached));
        attached.start_sweeping();
        attached
    }
}

/// What replicas tell each other on the bus.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
enum Note {
    /// The session ended: close what this replica holds of it.
    Ended { s: String },
    /// `notifications/cancelled` for a request of the session.
    Cancel { s: String, id: RequestId },
    /// The client's answer to a server-to-client request.
    Answer {
        s: String,
        id: RequestId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ok: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        err: Option<Value>,
    },
    /// A list changed, or a resource.
    Change(Changed),
    /// A subscription recorded or dropped.
    Sub { s: String, uri: String, on: bool },
    /// `logging/setLevel` set the session's level.
    Level { s: String, l: u8 },
    /// A replica stopped writing the standalone stream `stream` of the session at place
    /// `next`: one replica is to carry it on.
    Handoff { s: String, stream: u64, next: u64 },
    /// `tasks/cancel` or `tasks/update` of a task, for the replica running it.
    Task {
        task: String,
        #[serde(flatten)]
        what: Relayed,
    },
    /// A task's record changed: for the streams listening to it.
    TaskChanged { task: String },
    /// A replica lives; each replica hears its own.
    Beat,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "lowercase")]
enum Changed {
    Tools,
    Prompts,
    Resources,
    Resource { uri: String },
}

impl Changed {
    fn of(change: &Change) -> Self {
        match change {
            Change::Tools => Self::Tools,
            Change::Prompts => Self::Prompts,
            Change::Resources => Self::Resources,
            Change::Resource(uri) => Self::Resource { uri: uri.clone() },
        }
    }

    fn to_change(&self) -> Change {
        match self {
            Self::Tools => Change::Tools,
            Self::Prompts => Change::Prompts,
            Self::Resources => Change::Resources,
            Self::Resource { uri } => Change::Resource(uri.clone()),
        }
    }
}

/// A note and the replica that sent it.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    from: u64,
    #[serde(flatten)]
    note: Note,
}

pub(crate) struct Backend {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: Box<str>,
    replica: u64,
    endpoints: Mutex<Vec<Weak<Attached>>>,
    /// Whether the bus task runs.
    bus: OnceLock<()>,
    /// Stops the store's tasks once the store is dropped.
    ended: CancellationToken,
    /// Seconds since `epoch` of the last warning that Redis is gone.
    warned: AtomicU64,
    epoch: Instant,
    /// Events on their way to the store, in order.
    copies: mpsc::Sender<Copied>,
    /// Events handed to `copies` and not yet written (or dropped).
    copying: Arc<AtomicUsize>,
    /// Events not copied because the queue was full.
    dropped: AtomicU64,
}

/// What happened to a stream, on its way to the store. Entry ids are `0-{seq + 1}`:
/// Redis ids start above `0-0`, and the opening takes place 0.
struct Copied {
    session: Box<str>,
    stream: u64,
    seq: u64,
    what: CopiedWhat,
    /// How long the store keeps the stream after its last event, in ms.
    ttl: u64,
}

enum CopiedWhat {
    Opened,
    Event(Vec<u8>),
    Ended,
    /// Written up to `seq`: another replica is to carry the stream on.
    HandedOff,
}

/// Events queued for the store at most; past it, events are kept here only (a resume on
/// another replica then starts after them).
const COPY_QUEUE: usize = 65_536;

/// Events kept per stream in the store, roughly (Redis trims in whole nodes).
const EVENTS_PER_STREAM: usize = 1000;

impl Drop for Backend {
    fn drop(&mut self) {
        self.ended.cancel();
    }
}

impl Backend {
    fn session_key(&self, id: &str) -> String {
        format!("{}s:{id}", self.prefix)
    }

    fn task_key(&self, id: &str) -> String {
        format!("{}t:{id}", self.prefix)
    }

    fn subs_key(&self, id: &str) -> String {
        format!("{}s:{id}:subs", self.prefix)
    }

    fn all_key(&self) -> String {
        format!("{}sessions", self.prefix)
    }

    fn client_prefix(&self) -> String {
        format!("{}c:", self.prefix)
    }

    fn bus_key(&self) -> String {
        format!("{}bus", self.prefix)
    }

    fn events_key(&self, session: &str, stream: u64) -> String {
        format!("{}e:{session}:{stream}", self.prefix)
    }

    fn writer_key(&self, session: &str, stream: u64) -> String {
        format!("{}w:{session}:{stream}", self.prefix)
    }

    fn streams_key(&self, session: &str) -> String {
        format!("{}s:{session}:streams", self.prefix)
    }

    fn alive_key(&self, replica: u64) -> String {
        format!("{}r:{replica}", self.prefix)
    }

    /// Says every second that this replica lives (the key expires 3 s after the last
    /// time): a replica resuming another's stream stops waiting for a writer that is gone.
    /// The same beat on the bus tells each replica's listener that its subscription still
    /// receives ([`BUS_SILENT_FOR`]).
    fn start_heartbeat(self: &Arc<Self>) {
        let backend = Arc::downgrade(self);
        let key = self.alive_key(self.replica);
        let (channel, beat) = (self.bus_key(), envelope(self.replica, Note::Beat));
        let ended = self.ended.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    () = ended.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let Some(backend) = backend.upgrade() else {
                    return;
                };
                let mut pipe = redis::pipe();
                pipe.cmd("SET")
                    .arg(&key)
                    .arg(1)
                    .arg("PX")
                    .arg(3000)
                    .ignore();
                pipe.cmd("PUBLISH").arg(&channel).arg(&beat).ignore();
                let _ = backend
                    .run(|mut c| async move { pipe.query_async::<()>(&mut c).await })
                    .await;
            }
        });
    }

    /// Writes the queued events, in order, as many at once as are waiting.
    fn start_copying(self: &Arc<Self>, mut queue: mpsc::Receiver<Copied>) {
        let backend = Arc::downgrade(self);
        let copying = Arc::clone(&self.copying);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(256);
            while queue.recv_many(&mut batch, 256).await > 0 {
                let n = batch.len();
                let Some(backend) = backend.upgrade() else {
                    return;
                };
                let mut pipe = redis::pipe();
                let mut handoffs = Vec::new();
                // One script per run of events of one stream: it appends them while the
                // session exists, so that what a replica copies after a `DELETE` does not
                // bring the stream back.
                let mut append: Option<(&Copied, redis::Cmd)> = None;
                for copied in &batch {
                    if let CopiedWhat::HandedOff = copied.what {
                        handoffs.push(Note::Handoff {
                            s: copied.session.to_string(),
                            stream: copied.stream,
                            next: copied.seq,
                        });
                        continue;
                    }
                    if append.as_ref().is_some_and(|(first, _)| {
                        (&first.session, first.stream) != (&copied.session, copied.stream)
                    }) {
                        let (_, cmd) = append.take().expect("checked");
                        pipe.add_command(cmd).ignore();
                    }
                    let (_, cmd) = append.get_or_insert_with(|| {
                        let mut cmd = redis::cmd("EVAL");
                        cmd.arg(APPEND)
                            .arg(4)
                            .arg(backend.events_key(&copied.session, copied.stream))
                            .arg(backend.session_key(&copied.session))
                            .arg(backend.streams_key(&copied.session))
                            .arg(backend.writer_key(&copied.session, copied.stream))
                            .arg(copied.ttl)
                            .arg(EVENTS_PER_STREAM);
                        (copied, cmd)
                    });
                    cmd.arg(format!("0-{}", copied.seq + 1));
                    match &copied.what {
                        CopiedWhat::Opened => cmd.arg("open").arg(1),
                        CopiedWhat::Event(data) => cmd.arg("d").arg(data.as_slice()),
                        CopiedWhat::Ended => cmd.arg("end").arg(1),
                        CopiedWhat::HandedOff => unreachable!("handed-off streams are notes"),
                    };
                }
                if let Some((_, cmd)) = append {
                    pipe.add_command(cmd).ignore();
                }
                if !pipe.is_empty()
                    && let Err(StoreDown) = backend
                        .run(|mut c| async move { pipe.query_async::<()>(&mut c).await })
                        .await
                {
                    tracing::debug!(events = n, "events not copied to the store");
                }
                // After what the stream carried: the replica carrying it on starts there.
                for note in handoffs {
                    let _ = backend.publish(note).await;
                }
                batch.clear();
                copying.fetch_sub(n, Ordering::Release);
            }
        });
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// `StoreDown`, warned about at most every ten seconds.
    #[cold]
    fn down(&self, e: &dyn fmt::Display) -> StoreDown {
        let now = self.epoch.elapsed().as_secs() + 10;
        let last = self.warned.load(Ordering::Relaxed);
        if now >= last + 10
            && self
                .warned
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(error = %e, "the Redis session store did not answer; requests that need it get 503");
        }
        StoreDown
    }

    /// Runs `f` on a connection, bounded in time: the store is down when it fails or
    /// takes longer than three seconds.
    async fn run<T, F>(&self, f: impl FnOnce(ConnectionManager) -> F) -> Result<T, StoreDown>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(Duration::from_secs(3), f(self.conn())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.down(&e)),
            Err(_) => Err(self.down(&"no answer in 3 s")),
        }
    }

    async fn publish(&self, note: Note) -> Result<(), StoreDown> {
        let text = envelope(self.replica, note);
        let channel = self.bus_key();
        self.run(|mut c| async move {
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(text)
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }

    /// Publishes without waiting: a change has no one to report failure to.
    fn publish_later(self: &Arc<Self>, note: Note) {
        let backend = Arc::clone(self);
        tokio::spawn(async move {
            let _ = backend.publish(note).await;
        });
    }

    fn endpoints(&self) -> Vec<Arc<Attached>> {
        let mut endpoints = lock(&self.endpoints);
        endpoints.retain(|e| e.strong_count() > 0);
        endpoints.iter().filter_map(Weak::upgrade).collect()
    }

    /// Starts the task that listens on the bus, once.
    fn start_bus(self: &Arc<Self>) {
        if self.bus.set(()).is_err() {
            return;
        }
        let backend = Arc::downgrade(self);
        let client = self.client.clone();
        let channel = self.bus_key();
        let ended = self.ended.clone();
        tokio::spawn(async move {
            let mut first = true;
            let mut pause = Duration::from_millis(100);
            loop {
                let listened = tokio::select! {
                    () = ended.cancelled() => return,
                    listened = listen(&client, &channel, &backend, first) => listened,
                };
                if listened {
                    pause = Duration::from_millis(100);
                }
                first = false;
                tokio::select! {
                    () = ended.cancelled() => return,
                    () = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        });
    }

    fn take(&self, text: &[u8]) {
        let Ok(Envelope { from, note }) = serde_json::from_slice::<Envelope>(text) else {
            tracing::debug!("a message on the session bus that is not one");
            return;
        };
        if from == self.replica {
            return;
        }
        for endpoint in self.endpoints() {
            endpoint.take(from, &note);
        }
    }
}

fn envelope(from: u64, note: impl Serialize) -> String {
    // The note's fields sit beside `from`.
    let mut value = serde_json::to_value(note).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut value {
        map.insert("from".into(), from.into());
    }
    value.to_string()
}

/// Listens on the bus until the connection breaks; whether it was ever subscribed. After
/// a break (not the `first` time), what this replica holds is checked against the store,
/// since notes may have been missed meanwhile.
async fn listen(
    client: &redis::Client,
    channel: &str,
    backend: &Weak<Backend>,
    first: bool,
) -> bool {
    let Ok(Ok(mut pubsub)) =
        tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub()).await
    else {
        return false;
    };
    if pubsub.subscribe(channel).await.is_err() {
        return false;
    }
    if !first && let Some(backend) = backend.upgrade() {
        tracing::info!("the session bus is back; checking the sessions this replica holds");
        for endpoint in backend.endpoints() {
            tokio::spawn(async move { endpoint.recheck().await });
        }
    }
    let mut messages = pubsub.on_message();
    // A connection can stay open with nothing arriving (a proxy or a partition between):
    // without even this replica's own beat, the subscription is made again.
    while let Ok(Some(message)) = tokio::time::timeout(BUS_SILENT_FOR, messages.next()).await {
        let Some(backend) = backend.upgrade() else {
            return true;
        };
        backend.take(message.get_payload_bytes());
    }
    tracing::debug!("the session bus went quiet or closed; subscribing again");
    true
}

/// How long the bus may stay silent (each replica beats on it every second) before its
/// subscription is taken as lost.
const BUS_SILENT_FOR: Duration = Duration::from_secs(5);

/// Hands a session's events to the store.
struct Mirror {
    backend: Weak<Backend>,
    ttl: u64,
}

impl CopyEvents for Mirror {
    fn copy(&self, session: &str, stream: u64, seq: u64, what: Entry<'_>) {
        let Some(backend) = self.backend.upgrade() else {
            return;
        };
        let copied = Copied {
            session: session.into(),
            stream,
            seq,
            what: match what {
                Entry::Opened => CopiedWhat::Opened,
                Entry::Event(data) => CopiedWhat::Event(data.to_vec()),
                Entry::Ended => CopiedWhat::Ended,
                Entry::HandedOff => CopiedWhat::HandedOff,
            },
            ttl: self.ttl,
        };
        backend.copying.fetch_add(1, Ordering::AcqRel);
        if backend.copies.try_send(copied).is_err() {
            backend.copying.fetch_sub(1, Ordering::AcqRel);
            if backend.dropped.fetch_add(1, Ordering::Relaxed) % 10_000 == 0 {
                tracing::warn!(
                    "events arrive faster than Redis takes them; some are kept on this replica only"
                );
            }
        }
    }
}

/// Creates a session within the limits: 0, or 1 when the store is full, 2 when the client
/// holds its share.
const CREATE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 1 end
local counted = ARGV[9] ~= ''
if counted then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then return 2 end
end
local ttl = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'v', ARGV[5], 'c', ARGV[6], 'i', ARGV[7], 'u', ARGV[8], 'k', ARGV[9], 'l', '')
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
if counted then
  redis.call('ZADD', KEYS[3], now + ttl, ARGV[1])
  if redis.call('PTTL', KEYS[3]) < ttl then redis.call('PEXPIRE', KEYS[3], ttl) end
end
return 0
";

/// Touches a session for `ARGV[2]` ms: false when it does not exist; else its log level,
/// and with `ARGV[3]` = '1' its whole record and subscriptions.
const TOUCH: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], 'XX', now + ttl, ARGV[1])
local r = redis.call('HMGET', KEYS[1], 'l', 'k', 'v', 'c', 'i', 'u')
if r[2] and r[2] ~= '' then
  local ck = ARGV[4] .. r[2]
  redis.call('ZADD', ck, 'XX', now + ttl, ARGV[1])
  if redis.call('PTTL', ck) < ttl then redis.call('PEXPIRE', ck, ttl) end
end
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], ttl) end
if ARGV[3] ~= '1' then return {r[1] or ''} end
return {r[1] or '', r[3] or '', r[4] or '', r[5] or '', r[6] or '', redis.call('SMEMBERS', KEYS[3])}
";

/// Ends a session and tells every replica (`ARGV[3]` on channel `KEYS[5]`): 1 when it existed.
const DELETE: &str = r"
local ck = redis.call('HGET', KEYS[1], 'k')
local n = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[3])
for _, k in ipairs(redis.call('SMEMBERS', KEYS[4])) do redis.call('DEL', k) end
redis.call('DEL', KEYS[4])
redis.call('PUBLISH', KEYS[5], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
if ck and ck ~= '' then redis.call('ZREM', ARGV[2] .. ck, ARGV[1]) end
return n
";

/// Sets the log level of a session that exists, and tells every replica (`ARGV[2]` on
/// channel `KEYS[2]`).
const SET_LEVEL: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'l', ARGV[1])
redis.call('PUBLISH', KEYS[2], ARGV[2])
return 1
";

/// Records a subscription of session `KEYS[2]` and tells every replica (`ARGV[4]` on
/// channel `KEYS[3]`): 0 done, 1 when the session holds `ARGV[2]` already, 2 when the
/// session is gone.
const SUBSCRIBE: &str = r"
local ttl = redis.call('PTTL', KEYS[2])
if ttl < 0 then return 2 end
if ARGV[3] == '0' then
  redis.call('SREM', KEYS[1], ARGV[1])
elseif redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 1 end
  redis.call('SADD', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
redis.call('PUBLISH', KEYS[3], ARGV[4])
return 0
";

/// Claims the writing of a stream of session `KEYS[3]` handed off by replica `ARGV[2]`: 1
/// when this replica (`ARGV[1]`) is the first to claim it while the session lives; the
/// claim joins the session's set `KEYS[2]`.
const CLAIM: &str = r"
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
";

/// Appends events (`ARGV[3..]`: id, field, value) to stream `KEYS[1]` of session
/// `KEYS[2]`, unless the session is gone; the stream joins the session's set `KEYS[3]`,
/// and the claim `KEYS[4]` of the replica carrying it on, if any, lives as long as it.
/// An event already there (a repeated copy) is skipped; any other failure fails the script.
const APPEND: &str = r"
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
for i = 3, #ARGV, 3 do
  local r = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], ARGV[i], ARGV[i + 1], ARGV[i + 2])
  if type(r) == 'table' and r.err and not string.find(r.err, 'equal or smaller', 1, true) then
    return redis.error_reply(r.err)
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[4], ARGV[1])
redis.call('SADD', KEYS[3], KEYS[1])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
return 1
";

fn script(source: &'static str, cell: &'static OnceLock<redis::Script>) -> &'static redis::Script {
    cell.get_or_init(|| redis::Script::new(source))
}

macro_rules! scripts {
    ($($name:ident = $source:ident;)*) => {
        $(fn $name() -> &'static redis::Script {
            static CELL: OnceLock<redis::Script> = OnceLock::new();
            script($source, &CELL)
        })*
    };
}

scripts! {
    create_script = CREATE;
    touch_script = TOUCH;
    delete_script = DELETE;
    set_level_script = SET_LEVEL;
    subscribe_script = SUBSCRIBE;
    claim_script = CLAIM;
}

/// One endpoint's sessions in the store, and those this process holds.
pub(crate) struct Attached {
    backend: Arc<Backend>,
    local: Arc<SessionStore>,
    hub: Hub,
    limits: SessionLimits,
    /// Fires when the endpoint's server stops.
    stopped: CancellationToken,
    me: Weak<Attached>,
    /// The endpoint's tasks, which other replicas relay to.
    tasks: OnceLock<Weak<Tasks>>,
    /// When the store last confirmed each session this process holds: within
    /// [`CONFIRMED_FOR`] a request needs no round trip.
    confirmed: Mutex<HashMap<Box<str>, Instant>>,
}

impl fmt::Debug for Attached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attached")
            .field("replica", &self.backend.replica)
            .finish_non_exhaustive()
    }
}

/// How long a session the store confirmed is taken as current without asking again. Its end
/// and its log level set on another replica arrive over pub/sub at once; this bounds how
/// long a lost message can go unseen here.
const CONFIRMED_FOR: Duration = Duration::from_secs(1);

impl Attached {
    fn ms(d: Duration) -> u64 {
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
    }

    async fn open(
        &self,
        version: &'static str,
        client: Arc<ClientDeclaration>,
        owner: Option<(String, String)>,
        peer: Option<IpAddr>,
    ) -> Result<Result<Arc<Session>, Refused>, StoreDown> {
        let b = &self.backend;
        let id = new_id();
        let counted =
            ClientKey::of(owner.as_ref(), peer).map_or_else(String::new, |k| k.to_string());
        let record = json!({"info": client.info, "capabilities": client.capabilities}).to_string();
        let (iss, sub) = owner.clone().unwrap_or_default();
        let keys = [
            b.session_key(&id),
            b.all_key(),
            format!("{}{counted}", b.client_prefix()),
        ];
        let unused = Self::ms(self.limits.unused);
        let (max, per_client) = (self.limits.max, self.limits.per_client);
        let code: u8 = b
            .run(|mut c| {
                let mut call = create_script().prepare_invoke();
                call.key(&keys[0]).key(&keys[1]).key(&keys[2]);
                call.arg(&*id)
                    .arg(max)
                    .arg(per_client)
                    .arg(unused)
                    .arg(version)
                    .arg(record)
                    .arg(iss)
                    .arg(sub)
                    .arg(&counted);
                async move { call.invoke_async(&mut c).await }
            })
            .await?;
        let retry_after = Duration::from_secs(5);
        Ok(match code {
            0 => Ok(self.local.adopt(Adopted {
                id,
                version,
                client,
                owner,
                log_level: None,
                subscriptions: HashSet::new(),
            })),
            1 => Err(Refused::Full { retry_after }),
            _ => Err(Refused::ClientQuota {
                limit: per_client,
                retry_after,
            }),
        })
    }

    async fn touch(&self, id: &str) -> Result<Option<Arc<Session>>, StoreDown> {
        let b = &self.backend;
        let held = self.local.held(id);
        if let Some(session) = &held
            && lock(&self.confirmed)
                .get(id)
                .is_some_and(|at| at.elapsed() < CONFIRMED_FOR)
        {
            self.local.get(id);
            return Ok(Some(Arc::clone(session)));
        }
        let keys = [b.session_key(id), b.all_key(), b.subs_key(id)];
        let idle = Self::ms(self.limits.idle);
        let whole = if held.is_some() { "0" } else { "1" };
        let client_prefix = b.client_prefix();
        let found: Option<Vec<redis::Value>> = b
            .run(|mut c| {
                let mut call = touch_script().prepare_invoke();
                call.key(&keys[0]).key(&keys[1]).key(&keys[2]);
                call.arg(id).arg(idle).arg(whole).arg(client_prefix);
                async move { call.invoke_async(&mut c).await }
            })
            .await?;
        let Some(found) = found else {
            if held.is_some() {
                self.local.remove(id);
            }
            return Ok(None);
        };
        let level = found
            .first()
            .and_then(text)
            .and_then(|l| l.parse::<u8>().ok())
            .and_then(LogLevel::from_u8);
        let session = if let Some(session) = held {
            session
        } else {
            let Some(record) = adopted(id, level, &found) else {
                tracing::warn!("a session record in Redis that this version cannot read");
                return Ok(None);
            };
            self.local.adopt(record)
        };
        if let Some(level) = level {
            session.set_log_level(level);
        }
        // Marks it used and seen here.
        self.local.get(id);
        lock(&self.confirmed).insert(id.into(), Instant::now());
        Ok(Some(session))
    }

    /// Lets go of what this process holds of a session that ended.
    fn forget(&self, id: &str) {
        lock(&self.confirmed).remove(id);
        self.local.remove(id);
    }

    async fn end(&self, id: &str) -> Result<bool, StoreDown> {
        let b = &self.backend;
        let keys = [
            b.session_key(id),
            b.all_key(),
            b.subs_key(id),
            b.streams_key(id),
            b.bus_key(),
        ];
        let client_prefix = b.client_prefix();
        let ended = envelope(b.replica, Note::Ended { s: id.to_owned() });
        let n: u8 = b
            .run(|mut c| {
                let mut call = delete_script().prepare_invoke();
                for key in &keys {
                    call.key(key);
                }
                call.arg(id).arg(client_prefix).arg(ended);
                async move { call.invoke_async(&mut c).await }
            })
            .await?;
        self.forget(id);
        Ok(n == 1)
    }

    async fn record_level(&self, id: &str, level: LogLevel) -> Result<(), StoreDown> {
        let b = &self.backend;
        let (key, bus) = (b.session_key(id), b.bus_key());
        let note = envelope(
            b.replica,
            Note::Level {
                s: id.to_owned(),
                l: level.to_u8(),
            },
        );
        b.run(|mut c| {
            let mut call = set_level_script().prepare_invoke();
            call.key(key).key(bus).arg(level.to_u8()).arg(note);
            async move { call.invoke_async::<u8>(&mut c).await }
        })
        .await?;
        Ok(())
    }

    async fn record_subscription(
        &self,
        session: &Session,
        uri: &str,
        on: bool,
    ) -> Result<Result<(), SubscriptionRefused>, StoreDown> {
        if on && uri.len() > crate::connection::session::MAX_SUBSCRIBED_URI {
            return Ok(Err(SubscriptionRefused::UriTooLong));
        }
        let b = &self.backend;
        let keys = [
            b.subs_key(&session.id),
            b.session_key(&session.id),
            b.bus_key(),
        ];
        let note = envelope(
            b.replica,
            Note::Sub {
                s: session.id.to_string(),
                uri: uri.to_owned(),
                on,
            },
        );
        let most = self.limits.subscriptions;
        let code: u8 = b
            .run(|mut c| {
                let mut call = subscribe_script().prepare_invoke();
                call.key(&keys[0]).key(&keys[1]).key(&keys[2]);
                call.arg(uri)
                    .arg(most)
                    .arg(if on { "1" } else { "0" })
                    .arg(note);
                async move { call.invoke_async(&mut c).await }
            })
            .await?;
        match code {
            0 => session.note_subscription(uri, on),
            1 => return Ok(Err(SubscriptionRefused::TooMany(most))),
            // Ended meanwhile: the session's next request is answered 404.
            _ => self.forget(&session.id),
        }
        Ok(Ok(()))
    }

    /// A reader of the stream of `session` that `from` names, from after it, as the store
    /// holds it; `None` when the store holds no such stream.
    async fn read_remote(
        &self,
        session: &str,
        from: EventId,
    ) -> Result<Option<RemoteReader>, StoreDown> {
        let b = &self.backend;
        let key = b.events_key(session, from.stream);
        let probe = key.clone();
        let exists: bool = b
            .run(|mut c| async move { redis::cmd("EXISTS").arg(probe).query_async(&mut c).await })
            .await?;
        Ok(exists.then(|| RemoteReader {
            backend: Arc::clone(b),
            key,
            session_key: b.session_key(session),
            writer_key: b.writer_key(session, from.stream),
            alive_key: b.alive_key(from.replica()),
            stream: from.stream,
            after: from.seq,
            done: false,
            pause: Duration::ZERO,
            checked: Instant::now(),
        }))
    }

    /// Acts on what replica `from` said.
    fn take(&self, from: u64, note: &Note) {
        match note {
            Note::Ended { s } => self.forget(s),
            Note::Cancel { s, id } => {
                if let Some(session) = self.local.held(s) {
                    session.cancel(id);
                }
            }
            Note::Answer { s, id, ok, err } => {
                if let Some(session) = self.local.held(s) {
                    let outcome = match (ok, err) {
                        (Some(v), _) => Ok(v.clone()),
                        (None, e) => Err(e.clone().unwrap_or(Value::Null)),
                    };
                    let _ = session.pending.resolve(id, outcome);
                }
            }
            Note::Change(changed) => self.hub.publish_here(changed.to_change()),
            Note::Sub { s, uri, on } => {
                if let Some(session) = self.local.held(s) {
                    session.note_subscription(uri, *on);
                }
            }
            Note::Level { s, l } => {
                if let (Some(session), Some(level)) = (self.local.held(s), LogLevel::from_u8(*l)) {
                    session.set_log_level(level);
                }
            }
            Note::Handoff { s, stream, next } => {
                if let Some(me) = self.me.upgrade() {
                    let (s, stream, next) = (s.clone(), *stream, *next);
                    tokio::spawn(async move { me.carry_on(from, &s, stream, next).await });
                }
            }
            Note::Task { task, what } => {
                if let Some(tasks) = self.tasks.get().and_then(Weak::upgrade) {
                    let (task, what) = (task.clone(), what.clone());
                    tokio::spawn(async move { tasks.take(&task, what).await });
                }
            }
            Note::TaskChanged { task } => self.hub.publish_task_here(task),
            Note::Beat => {}
        }
    }

    /// Carries on the standalone stream another replica handed off, if this replica is
    /// the first to claim it: the session's notifications go on being written to it here.
    async fn carry_on(&self, from: u64, session: &str, stream: u64, next: u64) {
        if self.stopped.is_cancelled() {
            return;
        }
        let b = &self.backend;
        let claim = b.writer_key(session, stream);
        let (me, ttl) = (b.replica, Self::ms(self.limits.idle));
        let claimed: u8 = b
            .run(|mut c| {
                let mut call = claim_script().prepare_invoke();
                call.key(claim)
                    .key(b.streams_key(session))
                    .key(b.session_key(session))
                    .arg(me)
                    .arg(from)
                    .arg(ttl);
                async move { call.invoke_async(&mut c).await }
            })
            .await
            .unwrap_or(0);
        if claimed == 0 {
            return;
        }
        let Ok(Some(session)) = self.touch(session).await else {
            return;
        };
        let Some(writer) = session.streams().carry_on(stream, next) else {
            return;
        };
        let notifications = ReceiverStream::new(session.open_stream(&self.hub));
        spawn_writer(writer, notifications, Some(self.stopped.clone()));
        tracing::debug!(
            stream,
            "carrying on a notification stream another replica handed off"
        );
    }

    /// Checks what this process holds against the store: sessions that ended meanwhile
    /// are closed, subscriptions brought up to date; sessions quiet here for a while and
    /// with nothing open here are let go (the store still has them).
    async fn recheck(&self) {
        lock(&self.confirmed).retain(|_, at| at.elapsed() < CONFIRMED_FOR);
        let b = &self.backend;
        let held = self.local.all();
        if held.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        for session in &held {
            pipe.cmd("EXISTS").arg(b.session_key(&session.id));
            pipe.cmd("SMEMBERS").arg(b.subs_key(&session.id));
        }
        let Ok(answers) = b
            .run(|mut c| async move { pipe.query_async::<Vec<redis::Value>>(&mut c).await })
            .await
        else {
            return;
        };
        for (session, pair) in held.iter().zip(answers.chunks(2)) {
            let exists = matches!(pair.first(), Some(redis::Value::Int(1)));
            if !exists {
                self.local.remove(&session.id);
                continue;
            }
            if let Some(members) = pair.get(1) {
                session.set_subscriptions(strings(members).into_iter().collect());
            }
            if !session.busy() && self.local.quiet_for(session) > LET_GO_AFTER {
                self.local.remove(&session.id);
            }
        }
    }

    fn start_sweeping(self: &Arc<Self>) {
        let every = (self.limits.idle.min(self.limits.unused) / 4)
            .clamp(Duration::from_millis(100), Duration::from_secs(30));
        let me = Arc::downgrade(self);
        let ended = self.backend.ended.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                tokio::select! {
                    () = ended.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let Some(me) = me.upgrade() else {
                    return;
                };
                me.recheck().await;
            }
        });
    }
}

/// Tasks as JSON under `t:{id}`, expiring with their TTL (a running one is kept at least a
/// minute past its last write, and its replica writes it again every 20 s), cancellations
/// and answers relayed on the bus.
impl TaskStore for Attached {
    fn put<'a>(&'a self, record: &'a TaskRecord) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let text = serde_json::to_string(record).map_err(|_| StoreError::Down)?;
            let now = tasks::now_ms();
            let left = record
                .created_ms
                .saturating_add(record.ttl_ms)
                .saturating_sub(now);
            let keep = if record.status.is_terminal() {
                left.max(1)
            } else {
                left.max(60_000)
            };
            let key = self.backend.task_key(&record.id);
            self.backend
                .run(|mut c| async move {
                    redis::cmd("SET")
                        .arg(key)
                        .arg(text)
                        .arg("PX")
                        .arg(keep)
                        .query_async::<()>(&mut c)
                        .await
                })
                .await
                .map_err(|StoreDown| StoreError::Down)
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, StoreError>> {
        Box::pin(async move {
            let key = self.backend.task_key(id);
            let text: Option<String> = self
                .backend
                .run(|mut c| async move { redis::cmd("GET").arg(key).query_async(&mut c).await })
                .await
                .map_err(|StoreDown| StoreError::Down)?;
            Ok(text.and_then(|t| match serde_json::from_str(&t) {
                Ok(record) => Some(record),
                Err(e) => {
                    tracing::warn!(task = %id, error = %e, "a task record in the store is not one");
                    None
                }
            }))
        })
    }

    fn relay<'a>(&'a self, id: &'a str, what: Relayed) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.backend
                .publish(Note::Task {
                    task: id.to_owned(),
                    what,
                })
                .await
                .map_err(|StoreDown| StoreError::Down)
        })
    }

    fn serve(&self, tasks: Weak<Tasks>) {
        let _ = self.tasks.set(tasks);
    }
}

impl SharedStore for Attached {
    fn task_store(&self) -> Arc<dyn TaskStore> {
        match self.me.upgrade() {
            Some(me) => me,
            // Unreachable while the endpoint holds this store; memory keeps tasks working.
            None => Arc::new(tasks::MemoryTasks::new(
                tasks::TaskSettings::default().max_tasks,
            )),
        }
    }

    fn local(&self) -> &Arc<SessionStore> {
        &self.local
    }

    fn hub(&self) -> &Hub {
        &self.hub
    }

    fn limits(&self) -> SessionLimits {
        self.limits
    }

    fn create(
        &self,
        version: &'static str,
        client: Arc<ClientDeclaration>,
        owner: Option<(String, String)>,
        peer: Option<IpAddr>,
    ) -> BoxFuture<'_, Result<Result<Arc<Session>, Refused>, StoreDown>> {
        Box::pin(self.open(version, client, owner, peer))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Arc<Session>>, StoreDown>> {
        Box::pin(self.touch(id))
    }

    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreDown>> {
        Box::pin(self.end(id))
    }

    fn set_log_level<'a>(
        &'a self,
        id: &'a str,
        level: LogLevel,
    ) -> BoxFuture<'a, Result<(), StoreDown>> {
        Box::pin(self.record_level(id, level))
    }

    fn subscribe<'a>(
        &'a self,
        session: &'a Session,
        uri: &'a str,
        on: bool,
    ) -> BoxFuture<'a, Result<Result<(), SubscriptionRefused>, StoreDown>> {
        Box::pin(self.record_subscription(session, uri, on))
    }

    fn cancel<'a>(
        &'a self,
        session: &'a str,
        id: &'a RequestId,
    ) -> BoxFuture<'a, Result<(), StoreDown>> {
        Box::pin(self.backend.publish(Note::Cancel {
            s: session.to_owned(),
            id: id.clone(),
        }))
    }

    fn answer<'a>(
        &'a self,
        session: &'a str,
        id: &'a RequestId,
        outcome: Result<Value, Value>,
    ) -> BoxFuture<'a, Result<(), StoreDown>> {
        let (ok, err) = match outcome {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        };
        Box::pin(self.backend.publish(Note::Answer {
            s: session.to_owned(),
            id: id.clone(),
            ok,
            err,
        }))
    }

    fn read<'a>(
        &'a self,
        session: &'a str,
        from: EventId,
    ) -> BoxFuture<'a, Result<Option<EventBatches>, StoreDown>> {
        Box::pin(async move {
            let reader = self.read_remote(session, from).await?;
            Ok(reader.map(|reader| {
                let batches = futures_util::stream::unfold(reader, |mut reader| async move {
                    reader.next_events().await.map(|events| (events, reader))
                });
                Box::pin(batches) as EventBatches
            }))
        })
    }
}

/// Reads a stream another replica writes, from the store: what it holds, then what comes,
/// until the stream's end, or until its writer, its session or the stream itself is gone.
pub(crate) struct RemoteReader {
    backend: Arc<Backend>,
    key: String,
    session_key: String,
    /// Names the replica carrying the stream on, once one does.
    writer_key: String,
    alive_key: String,
    stream: u64,
    /// The place of the last event read.
    after: u64,
    done: bool,
    /// How long to wait before asking again when nothing came.
    pause: Duration,
    /// When the writer was last seen alive.
    checked: Instant,
}

impl RemoteReader {
    /// Up to 256 events after the last read, and whether the stream ended; `None` when the
    /// store did not answer.
    async fn range(&self) -> Option<(Vec<(EventId, Vec<u8>)>, bool)> {
        let key = self.key.clone();
        let start = format!("(0-{}", self.after.saturating_add(1));
        let entries: redis::streams::StreamRangeReply = self
            .backend
            .run(|mut c| async move {
                redis::cmd("XRANGE")
                    .arg(key)
                    .arg(start)
                    .arg("+")
                    .arg("COUNT")
                    .arg(256)
                    .query_async(&mut c)
                    .await
            })
            .await
            .ok()?;
        let mut events = Vec::with_capacity(entries.ids.len());
        let mut ended = false;
        for entry in entries.ids {
            let Some(seq) = entry
                .id
                .strip_prefix("0-")
                .and_then(|n| n.parse::<u64>().ok())
                .and_then(|n| n.checked_sub(1))
            else {
                continue;
            };
            if entry.map.contains_key("end") {
                ended = true;
                break;
            }
            if let Some(redis::Value::BulkString(data)) = entry.map.get("d") {
                let id = EventId {
                    stream: self.stream,
                    seq,
                };
                events.push((id, data.clone()));
            }
        }
        Some((events, ended))
    }

    /// Whether the stream can still grow: its writer (the replica that opened it, or the
    /// one carrying it on) lives, and the session and the stream are still in the store.
    async fn may_grow(&self) -> bool {
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(&self.writer_key);
        pipe.cmd("EXISTS").arg(&self.alive_key);
        pipe.cmd("EXISTS").arg(&self.session_key);
        pipe.cmd("EXISTS").arg(&self.key);
        let Ok((carrier, alive, session, stream)) = self
            .backend
            .run(|mut c| async move {
                pipe.query_async::<(Option<u64>, bool, bool, bool)>(&mut c)
                    .await
            })
            .await
        else {
            return false;
        };
        if !(session && stream) {
            return false;
        }
        let Some(carrier) = carrier else {
            return alive;
        };
        let key = self.backend.alive_key(carrier);
        self.backend
            .run(|mut c| async move {
                redis::cmd("EXISTS")
                    .arg(key)
                    .query_async::<bool>(&mut c)
                    .await
            })
            .await
            .unwrap_or(false)
    }
}

impl RemoteReader {
    /// The next events, waiting for them; `None` once there will be no more.
    async fn next_events(&mut self) -> Option<Vec<(EventId, Vec<u8>)>> {
        loop {
            if self.done {
                return None;
            }
            let (events, ended) = self.range().await?;
            self.done = ended;
            if let Some((last, _)) = events.last() {
                self.after = last.seq;
                self.pause = Duration::ZERO;
                self.checked = Instant::now();
                return Some(events);
            }
            if ended {
                return None;
            }
            if self.checked.elapsed() > Duration::from_secs(1) {
                if !self.may_grow().await {
                    return None;
                }
                self.checked = Instant::now();
            }
            self.pause =
                (self.pause * 2).clamp(Duration::from_millis(10), Duration::from_millis(250));
            tokio::time::sleep(self.pause).await;
        }
    }
}

/// How long a session may go unused here, with nothing open, before this process lets go
/// of its copy.
const LET_GO_AFTER: Duration = Duration::from_mins(1);

fn text(value: &redis::Value) -> Option<String> {
    match value {
        redis::Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        redis::Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

fn strings(value: &redis::Value) -> Vec<String> {
    match value {
        redis::Value::Array(items) | redis::Value::Set(items) => {
            items.iter().filter_map(text).collect()
        }
        _ => Vec::new(),
    }
}

/// A session as the touch script returned it whole.
fn adopted(id: &str, log_level: Option<LogLevel>, found: &[redis::Value]) -> Option<Adopted> {
    let field = |n: usize| found.get(n).and_then(text);
    let version = protocol::legacy_version(&field(1)?)?;
    let record: Value = serde_json::from_str(&field(2)?).ok()?;
    let info = record.get("info").filter(|v| !v.is_null()).cloned();
    let capabilities = record.get("capabilities").cloned();
    let (iss, sub) = (field(3).unwrap_or_default(), field(4).unwrap_or_default());
    let owner = (!iss.is_empty() || !sub.is_empty()).then_some((iss, sub));
    let subscriptions = found.get(5).map(strings).unwrap_or_default();
    Some(Adopted {
        id: id.into(),
        version,
        client: ClientDeclaration::new(info, capabilities),
        owner,
        log_level,
        subscriptions: subscriptions.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_travel_as_flat_json() {
        let text = envelope(
            7,
            Note::Answer {
                s: "abc".into(),
                id: RequestId::String("s3-1".into()),
                ok: Some(json!({"action": "accept"})),
                err: None,
            },
        );
        let back: Envelope = serde_json::from_str(&text).unwrap();
        assert_eq!(back.from, 7);
        assert!(matches!(
            back.note,
            Note::Answer {
                ok: Some(_),
                err: None,
                ..
            }
        ));
        let text = envelope(
            1,
            Note::Change(Changed::Resource {
                uri: "a://b".into(),
            }),
        );
        let back: Envelope = serde_json::from_str(&text).unwrap();
        assert!(matches!(
            back.note,
            Note::Change(Changed::Resource { uri }) if uri == "a://b"
        ));
    }
}
