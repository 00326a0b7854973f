//! What the SSE streams of a 2025-11-25 session carried, kept so that a client whose
//! connection broke can resume a stream with `Last-Event-ID` and miss nothing.
//!
//! Every stream of a session has a number, and every event on it an id `"{stream}-{seq}"`:
//! unique across the session's streams, and naming its stream, as the transport asks. A
//! stream is written by whatever produces its messages (a running request, the session's
//! notifications) whether or not a connection reads it; a connection reads from a position
//! and may go away, and a later `GET` with `Last-Event-ID` reads on from where it stopped.
//! One connection reads a stream at a time: a resuming one closes the earlier reader, so
//! no message is delivered twice.
//!
//! What is kept is bounded by bytes, per session and in total ([`ReplayLimits`]). Beyond a
//! bound the session that writes drops its oldest events, those of ended streams before
//! those of live ones, keeping at least the event just written; a resume from before what
//! is left starts at the oldest event still held.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{Stream, StreamExt as _};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::session::lock;
use crate::server::context::CLOSE_STREAM;

/// The id of one event: its stream and its place on it, from 1. The priming event a stream
/// starts with has place 0: resuming from it replays the whole stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventId {
    pub(crate) stream: u64,
    pub(crate) seq: u64,
}

impl EventId {
    /// Whether the event is on a session's standalone (`GET`) stream rather than a
    /// request's.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn standalone(self) -> bool {
        self.stream & 1 == 1
    }

    /// The number of the replica that writes the event's stream (0 for a process that
    /// shares no sessions).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn replica(self) -> u64 {
        self.stream >> 32
    }

    /// Reads `"{stream}-{seq}"`; anything else is not an id this server gave.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (stream, seq) = text.trim().split_once('-')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(stream) || !digits(seq) {
            return None;
        }
        Some(Self {
            stream: stream.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.stream, self.seq)
    }
}

/// How much of what streams carried is kept for resumption.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReplayLimits {
    /// Bytes kept per session, over all its streams.
    pub(crate) per_session: usize,
    /// Bytes kept over all sessions of the endpoint.
    pub(crate) total: usize,
    /// Ended streams kept per session, besides the live ones.
    pub(crate) ended_streams: usize,
}

impl ReplayLimits {
    /// The defaults: 1 MiB per session, 256 MiB in all, 16 ended streams per session.
    pub(crate) const DEFAULT: Self = Self {
        per_session: 1024 * 1024,
        total: 256 * 1024 * 1024,
        ended_streams: 16,
    };
}

/// The bytes kept over all sessions of an endpoint.
#[derive(Debug, Default)]
pub(crate) struct ReplayTotal(AtomicUsize);

impl ReplayTotal {
    pub(crate) fn bytes(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// What a stream carries: a request's messages, or the session's notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Call,
    Standalone,
}

/// What happened to a stream, as copied for other replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    /// It opened (place 0: the priming event).
    Opened,
    /// It carried an event.
    Event(&'a [u8]),
    /// It ended, at the place the next event would have taken.
    Ended,
    /// Its writer stopped with the process, and another replica is to carry it on from
    /// this place.
    HandedOff,
}

/// Where the events of a session are copied for other replicas to read, in order.
pub(crate) trait CopyEvents: Send + Sync {
    fn copy(&self, session: &str, stream: u64, seq: u64, what: Entry<'_>);
}

/// The streams of one session.
pub(crate) struct Streams {
    inner: Mutex<Inner>,
    limits: ReplayLimits,
    total: Arc<ReplayTotal>,
    /// Added to every stream number: the replica's, in its high 32 bits.
    base: u64,
    /// The session and where its events are copied, where replicas share sessions.
    copies: Option<(Arc<str>, Arc<dyn CopyEvents>)>,
}

impl fmt::Debug for Streams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = lock(&self.inner);
        f.debug_struct("Streams")
            .field("streams", &inner.logs.len())
            .field("bytes", &inner.bytes)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Inner {
    next_stream: u64,
    logs: BTreeMap<u64, Log>,
    /// Bytes held by all logs.
    bytes: usize,
}

struct Log {
    /// The place of `events[0]`.
    first: u64,
    events: VecDeque<Vec<u8>>,
    ended: bool,
    /// Carried on here from another replica: what came before is in the shared store
    /// only, so it is read from there.
    carried: bool,
    /// Which reader may read it: a newer one retires the older.
    reader: u64,
    wake: Arc<Notify>,
}

impl Log {
    /// The place the next event gets.
    fn next(&self) -> u64 {
        self.first + self.events.len() as u64
    }
}

impl Inner {
    /// Drops the oldest event, those of ended streams first, to make room; the bytes it
    /// freed, or `None` when nothing is left to drop but the newest event of `keep`.
    fn drop_oldest(&mut self, keep: u64) -> Option<usize> {
        let ended = self
            .logs
            .iter()
            .find(|(_, log)| log.ended && !log.events.is_empty())
            .map(|(n, _)| *n);
        let victim = ended.or_else(|| {
            self.logs
                .iter()
                .find(|(n, log)| log.events.len() > usize::from(**n == keep))
                .map(|(n, _)| *n)
        })?;
        let log = self.logs.get_mut(&victim)?;
        let event = log.events.pop_front()?;
        log.first += 1;
        self.bytes -= event.len();
        Some(event.len())
    }
}

impl Streams {
    pub(crate) fn new(limits: ReplayLimits, total: Arc<ReplayTotal>) -> Self {
        Self {
            inner: Mutex::default(),
            limits,
            total,
            base: 0,
            copies: None,
        }
    }

    /// The streams of replica `replica`, whose events of session `session` are copied to
    /// `copies`.
    pub(crate) fn copied(
        mut self,
        replica: u64,
        session: Arc<str>,
        copies: Arc<dyn CopyEvents>,
    ) -> Self {
        self.base = replica << 32;
        self.copies = Some((session, copies));
        self
    }

    /// Opens a new stream; writing to it through the [`Writer`], ending it when that drops.
    /// Its number says its kind (lowest bit) and its replica (high 32 bits).
    pub(crate) fn open(self: &Arc<Self>, kind: Kind) -> Writer {
        let mut inner = lock(&self.inner);
        let stream = self.base | (inner.next_stream << 1) | u64::from(kind == Kind::Standalone);
        inner.next_stream += 1;
        if let Some((session, copies)) = &self.copies {
            copies.copy(session, stream, 0, Entry::Opened);
        }
        inner.logs.insert(
            stream,
            Log {
                first: 1,
                events: VecDeque::new(),
                ended: false,
                carried: false,
                reader: 0,
                wake: Arc::new(Notify::new()),
            },
        );
        // Forget the oldest ended streams beyond the number kept.
        let ended: Vec<u64> = inner
            .logs
            .iter()
            .filter(|(_, log)| log.ended)
            .map(|(n, _)| *n)
            .collect();
        let excess = ended.len().saturating_sub(self.limits.ended_streams);
        let mut freed = 0;
        for n in &ended[..excess] {
            if let Some(log) = inner.logs.remove(n) {
                freed += log.events.iter().map(Vec::len).sum::<usize>();
            }
        }
        inner.bytes -= freed;
        drop(inner);
        self.total.0.fetch_sub(freed, Ordering::Relaxed);
        Writer {
            streams: Arc::clone(self),
            stream,
            handed_off: false,
        }
    }

    /// Carries on here the stream `stream` another replica wrote up to place `next` (not
    /// included), with the same number: a client resuming it sees one stream.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn carry_on(self: &Arc<Self>, stream: u64, next: u64) -> Option<Writer> {
        let mut inner = lock(&self.inner);
        if inner.logs.contains_key(&stream) {
            return None;
        }
        inner.logs.insert(
            stream,
            Log {
                first: next,
                events: VecDeque::new(),
                ended: false,
                carried: true,
                reader: 0,
                wake: Arc::new(Notify::new()),
            },
        );
        Some(Writer {
            streams: Arc::clone(self),
            stream,
            handed_off: false,
        })
    }

    /// Adds `message` to `stream`; its id.
    fn push(&self, stream: u64, message: Vec<u8>) -> Option<EventId> {
        let size = message.len();
        let mut inner = lock(&self.inner);
        let log = inner.logs.get_mut(&stream)?;
        let id = EventId {
            stream,
            seq: log.next(),
        };
        if let Some((session, copies)) = &self.copies {
            copies.copy(session, stream, id.seq, Entry::Event(&message));
        }
        log.events.push_back(message);
        let wake = Arc::clone(&log.wake);
        inner.bytes += size;
        let mut total = self.total.0.fetch_add(size, Ordering::Relaxed) + size;
        while inner.bytes > self.limits.per_session || total > self.limits.total {
            let Some(freed) = inner.drop_oldest(stream) else {
                break;
            };
            total = self.total.0.fetch_sub(freed, Ordering::Relaxed) - freed;
        }
        drop(inner);
        wake.notify_waiters();
        Some(id)
    }

    fn end(&self, stream: u64, handed_off: bool) {
        let mut inner = lock(&self.inner);
        if let Some(log) = inner.logs.get_mut(&stream) {
            log.ended = true;
            log.wake.notify_waiters();
            if let Some((session, copies)) = &self.copies {
                let entry = if handed_off {
                    Entry::HandedOff
                } else {
                    Entry::Ended
                };
                copies.copy(session, stream, log.next(), entry);
            }
        }
    }

    /// A reader of `stream` from after `after` (0: from its start), retiring any earlier
    /// reader; `None` when the session holds no such stream.
    pub(crate) fn read(self: &Arc<Self>, stream: u64, after: u64) -> Option<Reader> {
        let mut inner = lock(&self.inner);
        let log = inner.logs.get_mut(&stream).filter(|log| !log.carried)?;
        log.reader += 1;
        let me = log.reader;
        let wake = Arc::clone(&log.wake);
        drop(inner);
        wake.notify_waiters();
        Some(Reader {
            streams: Arc::clone(self),
            stream,
            next: after.saturating_add(1),
            me,
            wake,
        })
    }

    /// Ends the reader of `stream`, if any, leaving the stream as it is: the client resumes
    /// it with a new one.
    pub(crate) fn close_reader(&self, stream: u64) {
        let mut inner = lock(&self.inner);
        if let Some(log) = inner.logs.get_mut(&stream) {
            log.reader += 1;
            log.wake.notify_waiters();
        }
    }

    /// Up to 64 events of `stream` from `next`, or why there are none.
    fn take(&self, stream: u64, next: u64, me: u64) -> Taken {
        let inner = lock(&self.inner);
        let Some(log) = inner.logs.get(&stream) else {
            return Taken::Over;
        };
        if log.reader != me {
            return Taken::Over;
        }
        let from = next.max(log.first);
        let skip = usize::try_from(from - log.first).unwrap_or(usize::MAX);
        let events: Vec<(EventId, Vec<u8>)> = log
            .events
            .iter()
            .skip(skip)
            .take(64)
            .enumerate()
            .map(|(i, e)| {
                let seq = from + i as u64;
                (EventId { stream, seq }, e.clone())
            })
            .collect();
        if !events.is_empty() {
            return Taken::Events(events);
        }
        if log.ended {
            Taken::Over
        } else {
            Taken::Nothing
        }
    }

    /// Forgets every stream (the session ended); their readers end.
    pub(crate) fn close(&self) {
        let mut inner = lock(&self.inner);
        let logs = std::mem::take(&mut inner.logs);
        let freed = std::mem::take(&mut inner.bytes);
        drop(inner);
        self.total.0.fetch_sub(freed, Ordering::Relaxed);
        for log in logs.values() {
            log.wake.notify_waiters();
        }
    }

    /// Bytes held for the session.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        lock(&self.inner).bytes
    }
}

impl Drop for Streams {
    fn drop(&mut self) {
        let freed = lock(&self.inner).bytes;
        self.total.0.fetch_sub(freed, Ordering::Relaxed);
    }
}

enum Taken {
    Events(Vec<(EventId, Vec<u8>)>),
    Nothing,
    /// The stream ended and all was read, is gone, or has a newer reader.
    Over,
}

/// Writes one stream; ends it when dropped.
#[derive(Debug)]
pub(crate) struct Writer {
    streams: Arc<Streams>,
    stream: u64,
    /// Whether another replica is to carry the stream on, rather than it ending.
    handed_off: bool,
}

impl Writer {
    /// The stream's number.
    pub(crate) fn stream(&self) -> u64 {
        self.stream
    }

    /// Ends the connection reading the stream now, if one does.
    pub(crate) fn close_reader(&self) {
        self.streams.close_reader(self.stream);
    }

    /// Adds `message`; its id, or `None` once the session has ended.
    pub(crate) fn push(&self, message: Vec<u8>) -> Option<EventId> {
        self.streams.push(self.stream, message)
    }

    /// Stops writing because the process stops: where replicas share sessions, another
    /// carries the stream on from here.
    pub(crate) fn hand_off(mut self) {
        self.handed_off = true;
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.streams.end(self.stream, self.handed_off);
    }
}

/// Writes what `messages` yields to `writer`'s stream, on a task of its own, whether or
/// not a connection reads it; an empty message closes the reading connection instead
/// ([`CLOSE_STREAM`]). It stops when `messages` ends or the session does; when `until`
/// fires first, the stream is handed off.
pub(crate) fn spawn_writer(
    writer: Writer,
    messages: impl Stream<Item = Vec<u8>> + Send + 'static,
    until: Option<CancellationToken>,
) {
    tokio::spawn(async move {
        let mut messages = std::pin::pin!(messages);
        loop {
            let message = match &until {
                Some(until) => tokio::select! {
                    () = until.cancelled() => return writer.hand_off(),
                    message = messages.next() => message,
                },
                None => messages.next().await,
            };
            let Some(message) = message else {
                return;
            };
            if message == CLOSE_STREAM {
                writer.close_reader();
            } else if writer.push(message).is_none() {
                return;
            }
        }
    });
}

/// Reads one stream from a position, waiting for what comes next.
pub(crate) struct Reader {
    streams: Arc<Streams>,
    stream: u64,
    next: u64,
    me: u64,
    wake: Arc<Notify>,
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("stream", &self.stream)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// The next events, waiting for them; `None` once the stream ended and all was read,
    /// the session ended, or a newer reader took over.
    pub(crate) async fn next(&mut self) -> Option<Vec<(EventId, Vec<u8>)>> {
        loop {
            let wake = Arc::clone(&self.wake);
            let notified = wake.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            match self.streams.take(self.stream, self.next, self.me) {
                Taken::Events(events) => {
                    if let Some((last, _)) = events.last() {
                        self.next = last.seq + 1;
                    }
                    return Some(events);
                }
                Taken::Over => return None,
                Taken::Nothing => notified.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn streams(per_session: usize) -> Arc<Streams> {
        Arc::new(Streams::new(
            ReplayLimits {
                per_session,
                total: usize::MAX,
                ended_streams: 2,
            },
            Arc::default(),
        ))
    }

    struct Nowhere;

    impl CopyEvents for Nowhere {
        fn copy(&self, _: &str, _: u64, _: u64, _: Entry<'_>) {}
    }

    async fn all(reader: &mut Reader) -> Vec<String> {
        let mut seen = Vec::new();
        while let Ok(Some(events)) =
            tokio::time::timeout(Duration::from_millis(100), reader.next()).await
        {
            seen.extend(
                events
                    .into_iter()
                    .map(|(id, e)| format!("{id}:{}", String::from_utf8(e).unwrap())),
            );
        }
        seen
    }

    #[test]
    fn ids_name_their_stream_and_place() {
        let id = EventId { stream: 3, seq: 17 };
        assert_eq!(id.to_string(), "3-17");
        assert!(id.standalone());
        let copied = Streams::new(ReplayLimits::DEFAULT, Arc::default()).copied(
            5,
            "s".into(),
            Arc::new(Nowhere),
        );
        let call = Arc::new(copied).open(Kind::Call).stream();
        assert_eq!(EventId::parse(" 3-17 "), Some(id));
        let on_call = EventId {
            stream: call,
            seq: 1,
        };
        assert_eq!((on_call.replica(), on_call.standalone()), (5, false));
        for bad in ["3", "-1", "3-", "a-1", "3-1-2", "3-+1", ""] {
            assert_eq!(EventId::parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_reader_resumes_after_what_it_saw_and_retires_the_earlier_one() {
        let s = streams(1 << 20);
        let writer = s.open(Kind::Call);
        let mut first = s.read(writer.stream(), 0).unwrap();
        writer.push(b"a".to_vec());
        writer.push(b"b".to_vec());
        assert_eq!(all(&mut first).await, ["0-1:a", "0-2:b"]);
        writer.push(b"c".to_vec());
        let mut second = s.read(writer.stream(), 1).unwrap();
        assert_eq!(first.next().await, None, "the newer reader takes over");
        drop(writer);
        assert_eq!(all(&mut second).await, ["0-2:b", "0-3:c"]);
        assert!(
            second.next().await.is_none(),
            "an ended stream ends its reader"
        );
        assert!(s.read(7, 0).is_none());
    }

    #[tokio::test]
    async fn what_is_kept_is_bounded_and_ended_streams_go_first() {
        let s = streams(10);
        let ended = s.open(Kind::Call);
        ended.push(b"12345".to_vec());
        drop(ended);
        let live = s.open(Kind::Standalone);
        let l = live.stream();
        assert_eq!(l, 3, "the second stream, a standalone one");
        live.push(b"abcd".to_vec());
        live.push(b"efgh".to_vec());
        assert!(s.bytes() <= 10, "{}", s.bytes());
        assert_eq!(
            all(&mut s.read(l, 0).unwrap()).await,
            ["3-1:abcd", "3-2:efgh"]
        );
        assert!(all(&mut s.read(0, 0).unwrap()).await.is_empty());
        live.push(b"ijkl".to_vec());
        assert_eq!(
            all(&mut s.read(l, 0).unwrap()).await,
            ["3-2:efgh", "3-3:ijkl"],
            "a resume from before what is left starts at the oldest held"
        );
        let big = s.open(Kind::Call);
        assert_eq!(big.stream(), 4, "the third, a call's");
        big.push(vec![b'x'; 32]);
        assert_eq!(
            all(&mut s.read(big.stream(), 0).unwrap()).await.len(),
            1,
            "the newest stays"
        );
        assert_eq!(s.bytes(), 32);
        // Only the two newest ended streams are kept.
        let big_stream = big.stream();
        drop((live, big));
        for _ in 0..3 {
            drop(s.open(Kind::Call));
        }
        assert!(s.read(l, 0).is_none() && s.read(big_stream, 0).is_none());
        s.close();
        assert_eq!(s.bytes(), 0);
    }

    #[test]
    fn the_total_is_shared_and_returned() {
        let total = Arc::new(ReplayTotal::default());
        let limits = ReplayLimits {
            per_session: 100,
            total: 12,
            ended_streams: 4,
        };
        let a = Arc::new(Streams::new(limits, Arc::clone(&total)));
        let b = Arc::new(Streams::new(limits, Arc::clone(&total)));
        let (wa, wb) = (a.open(Kind::Call), b.open(Kind::Call));
        wa.push(vec![0; 8]);
        wb.push(vec![0; 4]);
        assert_eq!(total.bytes(), 12);
        wb.push(vec![0; 4]);
        assert_eq!(
            total.bytes(),
            12,
            "the writer makes room in its own session"
        );
        assert_eq!(b.bytes(), 4);
        drop((wa, wb));
        drop(a);
        b.close();
        assert_eq!(total.bytes(), 0);
    }
}
