//! The endpoint's life: what it holds now ([`Stats`]), and the stages of a graceful
//! shutdown that its requests and streams watch.
//!
//! Shutting down has two moments. When it starts (SIGTERM, Ctrl-C, or the future given to
//! [`HttpConfig::shutdown_on`](super::HttpConfig::shutdown_on)) `draining` fires:
//! notification streams end with a `retry:` hint, and for a second new connections are
//! answered 503 with `Retry-After` before the listener closes. Shortly
//! before the drain timeout `deadline` fires: requests still running are answered with an
//! error instead of being cut off with their connection, and tasks (the Tasks extension)
//! still running are recorded as failed, so that no client polls a task that nothing runs.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::slots::Slots;
use crate::connection::session::{SessionStore, lock};
use crate::server::tasks::Tasks;

type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Shared by an [`HttpConfig`](super::HttpConfig), its clones, and what is built from it.
#[derive(Default)]
pub(crate) struct Lifecycle {
    /// Fires when the shutdown starts.
    pub(crate) draining: CancellationToken,
    /// Fires shortly before the drain timeout: what still runs is answered with an error.
    pub(crate) deadline: CancellationToken,
    /// Fires once every connection of the server closed, just before it returns.
    pub(crate) stopped: CancellationToken,
    started: AtomicBool,
    signal: Mutex<Option<Signal>>,
    connections: AtomicUsize,
    streams: AtomicUsize,
    stores: Mutex<Vec<Weak<SessionStore>>>,
    tasks: Mutex<Vec<Weak<Tasks>>>,
    slots: Mutex<Weak<Slots>>,
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle")
            .field("draining", &self.draining.is_cancelled())
            .field("connections", &self.connections.load(Ordering::Relaxed))
            .field("streams", &self.streams.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// How long before the drain timeout the requests still running are answered.
pub(crate) fn answer_margin(drain: Duration) -> Duration {
    (drain / 10).min(Duration::from_secs(1))
}

impl Lifecycle {
    pub(crate) fn set_signal(&self, signal: Signal) {
        *lock(&self.signal) = Some(signal);
    }

    /// Watches the signal given to `shutdown_on`, if any, from inside the runtime.
    pub(crate) fn watch_signal(self: &Arc<Self>, drain: Duration) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(signal) = lock(&self.signal).take() else {
            return;
        };
        let life = Arc::clone(self);
        runtime.spawn(async move {
            signal.await;
            life.shut_down(drain).await;
        });
    }

    /// Runs the shutdown's two moments; a second call does nothing.
    pub(crate) async fn shut_down(self: Arc<Self>, drain: Duration) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::info!(
            ?drain,
            "shutting down: answering the requests in flight, ending notification streams"
        );
        self.draining.cancel();
        tokio::time::sleep(drain.saturating_sub(answer_margin(drain))).await;
        self.deadline.cancel();
        self.stop_tasks().await;
    }

    pub(crate) fn add_tasks(&self, tasks: &Arc<Tasks>) {
        let mut all = lock(&self.tasks);
        all.retain(|t| t.strong_count() > 0);
        all.push(Arc::downgrade(tasks));
    }

    fn tasks(&self) -> Vec<Arc<Tasks>> {
        lock(&self.tasks).iter().filter_map(Weak::upgrade).collect()
    }

    /// Records every task still running as failed.
    async fn stop_tasks(&self) {
        for tasks in self.tasks() {
            tasks.stop().await;
        }
    }

    /// Waits for the tasks still running to end, until `until`, then records the rest as
    /// failed: the process stops after this.
    pub(crate) async fn settle_tasks(&self, until: tokio::time::Instant) {
        while self.tasks().iter().any(|t| t.running() > 0) {
            if tokio::time::Instant::now() >= until {
                tracing::warn!("tasks still running at the drain deadline are recorded as failed");
                self.stop_tasks().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn add_store(&self, store: &Arc<SessionStore>) {
        let mut stores = lock(&self.stores);
        stores.retain(|s| s.strong_count() > 0);
        stores.push(Arc::downgrade(store));
    }

    /// The connections of the running accept loop, for [`Stats`].
    pub(crate) fn set_slots(&self, slots: &Arc<Slots>) {
        *lock(&self.slots) = Arc::downgrade(slots);
    }

    /// Counts a connection until the guard drops.
    pub(crate) fn connection(self: &Arc<Self>) -> Held {
        self.connections.fetch_add(1, Ordering::Relaxed);
        Held {
            life: Arc::clone(self),
            what: What::Connection,
        }
    }

    /// Counts a notification stream until the guard drops, unless `max` are open already.
    pub(crate) fn stream(self: &Arc<Self>, max: usize) -> Option<Held> {
        self.streams
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        Some(Held {
            life: Arc::clone(self),
            what: What::Stream,
        })
    }
}

enum What {
    Connection,
    Stream,
}

/// One counted connection or stream.
pub(crate) struct Held {
    life: Arc<Lifecycle>,
    what: What,
}

impl Drop for Held {
    fn drop(&mut self) {
        let count = match self.what {
            What::Connection => &self.life.connections,
            What::Stream => &self.life.streams,
        };
        count.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What an endpoint holds now, for an operator's metrics or logs: from
/// [`HttpConfig::stats`](super::HttpConfig::stats).
///
/// ```
/// use mcp_runtime::HttpConfig;
///
/// let config = HttpConfig::new();
/// let stats = config.stats();
/// assert_eq!(stats.sessions(), 0);
/// assert!(!stats.shutting_down());
/// ```
#[derive(Clone)]
pub struct Stats {
    life: Arc<Lifecycle>,
}

impl std::fmt::Debug for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stats")
            .field("sessions", &self.sessions())
            .field("unused_sessions", &self.unused_sessions())
            .field("streams", &self.streams())
            .field("sse_replay_bytes", &self.sse_replay_bytes())
            .field("connections", &self.connections())
            .field("connections_evicted", &self.connections_evicted())
            .finish()
    }
}

impl Stats {
    pub(crate) fn new(life: Arc<Lifecycle>) -> Self {
        Self { life }
    }

    fn each_store(&self, mut f: impl FnMut(&SessionStore)) {
        for store in lock(&self.life.stores).iter().filter_map(Weak::upgrade) {
            f(&store);
        }
    }

    /// 2025-11-25 sessions open.
    pub fn sessions(&self) -> usize {
        let mut n = 0;
        self.each_store(|s| n += s.counts().open);
        n
    }

    /// Sessions open that no message used since `initialize`.
    pub fn unused_sessions(&self) -> usize {
        let mut n = 0;
        self.each_store(|s| n += s.counts().unused);
        n
    }

    /// Sessions expired so far (idle or unused past their timeouts).
    pub fn sessions_expired(&self) -> u64 {
        let mut n = 0;
        self.each_store(|s| n += s.counts().expired);
        n
    }

    /// `initialize` calls refused so far because the table or the client's share was full.
    pub fn sessions_refused(&self) -> u64 {
        let mut n = 0;
        self.each_store(|s| n += s.counts().refused);
        n
    }

    /// Bytes of SSE events kept so that clients can resume their sessions' streams
    /// (bounded by [`HttpConfig::sse_replay_bytes`](crate::HttpConfig::sse_replay_bytes)).
    pub fn sse_replay_bytes(&self) -> usize {
        let mut n = 0;
        self.each_store(|s| n += s.counts().replay_bytes);
        n
    }

    /// Notification streams open.
    pub fn streams(&self) -> usize {
        self.life.streams.load(Ordering::Relaxed)
    }

    /// Connections open (under [`serve_http`](crate::Serve::serve_http)).
    pub fn connections(&self) -> usize {
        self.life.connections.load(Ordering::Relaxed)
    }

    /// Connections closed so far to make room at the connection cap (each had no request
    /// in progress for at least a second).
    pub fn connections_evicted(&self) -> u64 {
        lock(&self.life.slots).upgrade().map_or(0, |s| s.evicted())
    }

    /// Whether the graceful shutdown has started.
    pub fn shutting_down(&self) -> bool {
        self.life.draining.is_cancelled()
    }
}
