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

use tokio::sync::Notify;

use super::session::lock;

/// The id of one event: its stream and its place on it, from 1. The priming event a stream
/// starts with has place 0: resuming from it replays the whole stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventId {
    pub(crate) stream: u64,
    pub(crate) seq: u64,
}

impl EventId {
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

/// The streams of one session.
pub(crate) struct Streams {
    inner: Mutex<Inner>,
    limits: ReplayLimits,
    total: Arc<ReplayTotal>,
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
        }
    }

    /// Opens a new stream; writing to it through the [`Writer`], ending it when that drops.
    pub(crate) fn open(self: &Arc<Self>) -> Writer {
        let mut inner = lock(&self.inner);
        let stream = inner.next_stream;
        inner.next_stream += 1;
        inner.logs.insert(
            stream,
            Log {
                first: 1,
                events: VecDeque::new(),
                ended: false,
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
        }
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

    fn end(&self, stream: u64) {
        let mut inner = lock(&self.inner);
        if let Some(log) = inner.logs.get_mut(&stream) {
            log.ended = true;
            log.wake.notify_waiters();
        }
    }

    /// A reader of `stream` from after `after` (0: from its start), retiring any earlier
    /// reader; `None` when the session holds no such stream.
    pub(crate) fn read(self: &Arc<Self>, stream: u64, after: u64) -> Option<Reader> {
        let mut inner = lock(&self.inner);
        let log = inner.logs.get_mut(&stream)?;
        log.reader += 1;
        let me = log.reader;
        let wake = Arc::clone(&log.wake);
        drop(inner);
        wake.notify_waiters();
        Some(Reader {
            streams: Arc::clone(self),
            stream,
            next: after + 1,
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
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.streams.end(self.stream);
    }
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
        assert_eq!(EventId::parse(" 3-17 "), Some(id));
        for bad in ["3", "-1", "3-", "a-1", "3-1-2", "3-+1", ""] {
            assert_eq!(EventId::parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_reader_resumes_after_what_it_saw_and_retires_the_earlier_one() {
        let s = streams(1 << 20);
        let writer = s.open();
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
        let ended = s.open();
        ended.push(b"12345".to_vec());
        drop(ended);
        let live = s.open();
        live.push(b"abcd".to_vec());
        live.push(b"efgh".to_vec());
        assert!(s.bytes() <= 10, "{}", s.bytes());
        assert_eq!(
            all(&mut s.read(1, 0).unwrap()).await,
            ["1-1:abcd", "1-2:efgh"]
        );
        assert!(all(&mut s.read(0, 0).unwrap()).await.is_empty());
        live.push(b"ijkl".to_vec());
        assert_eq!(
            all(&mut s.read(1, 0).unwrap()).await,
            ["1-2:efgh", "1-3:ijkl"],
            "a resume from before what is left starts at the oldest held"
        );
        let big = s.open();
        big.push(vec![b'x'; 32]);
        assert_eq!(
            all(&mut s.read(2, 0).unwrap()).await.len(),
            1,
            "the newest stays"
        );
        assert_eq!(s.bytes(), 32);
        // Only the two newest ended streams are kept.
        drop((live, big));
        for _ in 0..3 {
            drop(s.open());
        }
        assert!(s.read(1, 0).is_none() && s.read(2, 0).is_none());
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
        let (wa, wb) = (a.open(), b.open());
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
