//! The connections of the accept loop and whether each is doing anything. At the cap, the
//! connection quiet longest (no request in progress for at least [`QUIET`]: idle between
//! keep-alive requests, or still sending its first request head) is closed to make room, so
//! that connections which send nothing cannot keep a real client out. A connection with a
//! request in progress, a notification stream among them, is never closed this way.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::connection::session::lock;

/// How long a connection must have had no request in progress before it may be closed to
/// make room.
pub(crate) const QUIET: Duration = Duration::from_secs(1);

/// Every open connection of one accept loop.
pub(crate) struct Slots {
    epoch: Instant,
    open: Mutex<HashMap<u64, Arc<Slot>>>,
    next: AtomicU64,
    emptied: Notify,
    evicted: AtomicU64,
}

/// One connection: its requests in progress, and since when it has had none.
pub(crate) struct Slot {
    busy: AtomicU32,
    /// Whether a request came on the connection.
    started: AtomicBool,
    /// Milliseconds after [`Slots::epoch`].
    quiet_since: AtomicU64,
    epoch: Instant,
    /// Fires when the connection is chosen to make room, or when the shutdown starts.
    pub(crate) close: CancellationToken,
}

impl Slot {
    /// Whether no request is in progress.
    pub(crate) fn is_quiet(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0
    }

    /// Whether a request came on the connection yet.
    pub(crate) fn has_started(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

impl Slots {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            epoch: Instant::now(),
            open: Mutex::default(),
            next: AtomicU64::new(0),
            emptied: Notify::new(),
            evicted: AtomicU64::new(0),
        })
    }

    /// Registers a connection until the returned guard drops; `shutdown` closes it too.
    pub(crate) fn open(self: &Arc<Self>, shutdown: &CancellationToken) -> Registered {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            busy: AtomicU32::new(0),
            started: AtomicBool::new(false),
            quiet_since: AtomicU64::new(0),
            epoch: self.epoch,
            close: shutdown.child_token(),
        });
        slot.quiet_since.store(slot.now_ms(), Ordering::Relaxed);
        lock(&self.open).insert(id, Arc::clone(&slot));
        Registered {
            slots: Arc::clone(self),
            id,
            slot,
        }
    }

    /// Asks the connection quiet longest, if one has been quiet for [`QUIET`], to close.
    /// Returns whether one was asked.
    pub(crate) fn make_room(&self) -> bool {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let quiet = u64::try_from(QUIET.as_millis()).unwrap_or(u64::MAX);
        let open = lock(&self.open);
        let chosen = open
            .values()
            .filter(|s| s.is_quiet() && !s.close.is_cancelled())
            .map(|s| (s.quiet_since.load(Ordering::Relaxed), s))
            .filter(|(since, _)| now.saturating_sub(*since) >= quiet)
            .min_by_key(|(since, _)| *since);
        let Some((_, slot)) = chosen else {
            return false;
        };
        slot.close.cancel();
        self.evicted.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Connections closed so far to make room.
    pub(crate) fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Resolves once every registered connection has closed.
    pub(crate) async fn all_closed(&self) {
        loop {
            let emptied = self.emptied.notified();
            if lock(&self.open).is_empty() {
                return;
            }
            emptied.await;
        }
    }
}

/// A registered connection; dropping it unregisters the connection.
pub(crate) struct Registered {
    slots: Arc<Slots>,
    id: u64,
    pub(crate) slot: Arc<Slot>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut open = lock(&self.slots.open);
        open.remove(&self.id);
        if open.is_empty() {
            self.slots.emptied.notify_waiters();
        }
    }
}

/// A request in progress on a connection, from its head until its response body ends.
pub(crate) struct Busy(Arc<Slot>);

impl Busy {
    pub(crate) fn new(slot: &Arc<Slot>) -> Self {
        slot.busy.fetch_add(1, Ordering::AcqRel);
        slot.started.store(true, Ordering::Release);
        Self(Arc::clone(slot))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.quiet_since.store(self.0.now_ms(), Ordering::Relaxed);
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The router's response future, keeping the request counted as in progress.
pub(crate) struct Tracked<F> {
    pub(crate) inner: F,
    pub(crate) busy: Option<Busy>,
}

impl<F, E> std::future::Future for Tracked<F>
where
    F: std::future::Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response<TrackedBody>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = std::task::ready!(Pin::new(&mut self.inner).poll(cx));
        let busy = self.busy.take();
        Poll::Ready(response.map(|r| r.map(|inner| TrackedBody { inner, _busy: busy })))
    }
}

/// A response body that keeps its request counted as in progress until it ends.
pub(crate) struct TrackedBody {
    inner: Body,
    _busy: Option<Busy>,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_quiet_longest_makes_room_never_a_busy_one() {
        let slots = Slots::new();
        let shutdown = CancellationToken::new();
        let first = slots.open(&shutdown);
        let second = slots.open(&shutdown);
        let busy = Busy::new(&first.slot);
        assert!(!slots.make_room(), "nothing has been quiet for long enough");
        std::thread::sleep(QUIET + Duration::from_millis(20));
        let third = slots.open(&shutdown);
        assert!(slots.make_room());
        assert!(second.slot.close.is_cancelled(), "the quiet one closes");
        assert!(!first.slot.close.is_cancelled(), "a busy one never does");
        assert!(!slots.make_room(), "the newest has not been quiet for long");
        drop(busy);
        assert!(!slots.make_room(), "quiet only since its request ended");
        assert_eq!(slots.evicted(), 1);
        assert!(!third.slot.close.is_cancelled());
        shutdown.cancel();
        assert!(
            third.slot.close.is_cancelled(),
            "the shutdown closes every one"
        );
    }

    #[tokio::test]
    async fn all_closed_waits_for_the_last_connection() {
        let slots = Slots::new();
        let shutdown = CancellationToken::new();
        let one = slots.open(&shutdown);
        let waiting = tokio::spawn({
            let slots = Arc::clone(&slots);
            async move { slots.all_closed().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(one);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("resolved once empty")
            .unwrap();
    }
}
