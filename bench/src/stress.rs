//! `--workloads stress`: a legitimate client's latency beside its idle figure while the
//! server (under `serve_http`, as in production) is attacked. Not a throughput test: each
//! figure is what one sequential client doing `tools/call add` sees.
//!
//! The attacks run on a thread of their own at the lowest CPU priority, on the load
//! generator's core, so that the legitimate client (which needs little CPU) is scheduled
//! first and its figures measure the server, not the attacker's core.

use std::fmt::Write as _;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt as _;

use super::client::Conn;
use super::{Ctx, Style, call_request, percentile, start_with};

/// How long the legitimate client waits for one answer before it counts a failure.
const PATIENCE: Duration = Duration::from_secs(2);

/// What the legitimate client saw.
struct Seen {
    lats_us: Vec<u64>,
    failed: usize,
}

impl Seen {
    fn p(&self, q: f64) -> String {
        if self.lats_us.is_empty() {
            return "–".into();
        }
        format!("{:.2}", percentile(&self.lats_us, q) / 1000.0)
    }
}

/// Sequential requests `req` to `addr` for `secs`, reconnecting after an error.
async fn legitimate(addr: SocketAddr, req: &[u8], secs: f64) -> Seen {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut conn: Option<Conn> = None;
    let mut seen = Seen {
        lats_us: Vec::new(),
        failed: 0,
    };
    while Instant::now() < end {
        let started = Instant::now();
        let outcome = tokio::time::timeout(PATIENCE, async {
            if conn.is_none() {
                conn = Some(Conn::connect(addr).await?);
            }
            let c = conn.as_mut().expect("connected above");
            c.request(req).await
        })
        .await;
        match outcome {
            Ok(Ok(200)) => seen
                .lats_us
                .push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)),
            _ => {
                seen.failed += 1;
                conn = None;
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    seen.lats_us.sort_unstable();
    seen
}

type Job<R> = Box<dyn FnOnce(Arc<AtomicBool>) -> Pin<Box<dyn Future<Output = R>>> + Send>;

/// An attack on a thread of its own, at the lowest priority, until [`Background::finish`].
struct Background<R> {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<R>,
}

fn in_background<R: Send + 'static>(job: Job<R>) -> Background<R> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let handle = std::thread::spawn(move || {
        // SAFETY: setpriority on the calling thread (its tid) has no memory effects.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid);
            libc::setpriority(
                libc::PRIO_PROCESS,
                libc::id_t::try_from(tid).unwrap_or(0),
                19,
            );
        }
        super::runtime().block_on(job(flag))
    });
    Background { stop, handle }
}

impl<R> Background<R> {
    fn finish(self) -> R {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().expect("the attack thread")
    }
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// Tokens shaped like `valid` (its header and signature), each with another payload: every
/// one is new to the server and fails its signature check.
struct Forger {
    header: String,
    signature: String,
    issuer: String,
    audience: String,
}

impl Forger {
    fn new(valid: &str, issuer: &str, port: u16) -> Self {
        let mut parts = valid.split('.');
        let header = parts.next().unwrap_or_default().to_owned();
        let signature = parts.nth(1).unwrap_or_default().to_owned();
        Self {
            header,
            signature,
            issuer: issuer.to_owned(),
            audience: format!("http://127.0.0.1:{port}/mcp"),
        }
    }

    fn forge(&self, n: u64) -> String {
        let payload = format!(
            r#"{{"iss":"{}","sub":"mallory","aud":"{}","scope":"mcp:tools","exp":4102444800,"jti":"forged-{n}"}}"#,
            self.issuer, self.audience
        );
        format!(
            "{}.{}.{}",
            self.header,
            base64url(payload.as_bytes()),
            self.signature
        )
    }
}

/// Status counts of a flood.
#[derive(Default)]
struct Flood {
    sent: AtomicU64,
    unauthorized: AtomicU64,
    throttled: AtomicU64,
    other: AtomicU64,
}

/// `connections` connections sending forged tokens as fast as they are answered, each from
/// one of `from`.
fn forged_flood(
    addr: SocketAddr,
    forger: Forger,
    connections: usize,
    from: Vec<IpAddr>,
) -> (Arc<Flood>, Background<()>) {
    let flood = Arc::new(Flood::default());
    let counts = Arc::clone(&flood);
    let job: Job<()> = Box::new(move |stop| {
        Box::pin(async move {
            let forger = Arc::new(forger);
            let mut tasks = Vec::new();
            for i in 0..connections {
                let (stop, counts, forger) =
                    (Arc::clone(&stop), Arc::clone(&counts), Arc::clone(&forger));
                let local = from[i % from.len()];
                tasks.push(tokio::task::spawn_local(async move {
                    let mut conn = None;
                    let mut n = (i as u64) << 40;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        if conn.is_none() {
                            conn = Conn::connect_from(addr, local).await.ok();
                        }
                        let Some(c) = conn.as_mut() else {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        };
                        let token = forger.forge(n);
                        let req = call_request(addr.port(), Style::Modern, Some(&token));
                        counts.sent.fetch_add(1, Ordering::Relaxed);
                        let counter = match c.request(&req).await {
                            Ok(401) => &counts.unauthorized,
                            Ok(429) => &counts.throttled,
                            Ok(_) => &counts.other,
                            Err(_) => {
                                conn = None;
                                &counts.other
                            }
                        };
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        })
    });
    let background = in_local_background(job);
    (flood, background)
}

/// [`in_background`] on a `LocalSet`, for `spawn_local`.
fn in_local_background<R: Send + 'static>(job: Job<R>) -> Background<R> {
    in_background(Box::new(move |stop| {
        Box::pin(async move { tokio::task::LocalSet::new().run_until(job(stop)).await })
    }))
}

/// What the slow sockets saw.
#[derive(Default)]
struct Slow {
    opened: AtomicU64,
    closed_by_server: AtomicU64,
    /// Sum of the lifetimes of the sockets the server closed, in milliseconds.
    lifetime_ms: AtomicU64,
    refused: AtomicU64,
}

/// `sockets` connections, each sending a request head a byte every `every`, reopened when
/// the server closes them.
fn slowloris(addr: SocketAddr, sockets: usize, every: Duration) -> (Arc<Slow>, Background<()>) {
    let slow = Arc::new(Slow::default());
    let counts = Arc::clone(&slow);
    let job: Job<()> = Box::new(move |stop| {
        Box::pin(async move {
            let mut tasks = Vec::new();
            for _ in 0..sockets {
                let (stop, counts) = (Arc::clone(&stop), Arc::clone(&counts));
                tasks.push(tokio::task::spawn_local(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let Ok(mut socket) = tokio::net::TcpStream::connect(addr).await else {
                            counts.refused.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        };
                        counts.opened.fetch_add(1, Ordering::Relaxed);
                        let opened = Instant::now();
                        let head = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
                        let mut i = 0;
                        loop {
                            if stop.load(Ordering::Relaxed) {
                                return;
                            }
                            let byte = if i < head.len() { head[i] } else { b'a' };
                            i += 1;
                            if socket.write_all(&[byte]).await.is_err() {
                                break;
                            }
                            // A peer that closed is seen by the next write, or at once by a
                            // read that returns nothing.
                            let mut probe = [0u8; 1];
                            let closed = tokio::select! {
                                read = tokio::io::AsyncReadExt::read(&mut socket, &mut probe) => !matches!(read, Ok(1..)),
                                () = tokio::time::sleep(every) => false,
                            };
                            if closed {
                                break;
                            }
                        }
                        counts.closed_by_server.fetch_add(1, Ordering::Relaxed);
                        counts.lifetime_ms.fetch_add(
                            u64::try_from(opened.elapsed().as_millis()).unwrap_or(u64::MAX),
                            Ordering::Relaxed,
                        );
                    }
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        })
    });
    (slow, in_local_background(job))
}

/// `connections` keep-alive connections, each sending `req` about once a second.
fn many_connections(
    addr: SocketAddr,
    req: Vec<u8>,
    connections: usize,
) -> (Arc<AtomicU64>, Background<()>) {
    let failures = Arc::new(AtomicU64::new(0));
    let counts = Arc::clone(&failures);
    let job: Job<()> = Box::new(move |stop| {
        Box::pin(async move {
            let req = Arc::new(req);
            let mut tasks = Vec::new();
            for i in 0..connections {
                let (stop, counts, req) =
                    (Arc::clone(&stop), Arc::clone(&counts), Arc::clone(&req));
                tasks.push(tokio::task::spawn_local(async move {
                    // Spread over the second.
                    tokio::time::sleep(Duration::from_micros((i as u64 * 997) % 1_000_000)).await;
                    let mut conn = None;
                    while !stop.load(Ordering::Relaxed) {
                        if conn.is_none() {
                            conn = Conn::connect(addr).await.ok();
                        }
                        let ok = match conn.as_mut() {
                            Some(c) => matches!(c.request(&req).await, Ok(200)),
                            None => false,
                        };
                        if !ok {
                            counts.fetch_add(1, Ordering::Relaxed);
                            conn = None;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        })
    });
    (failures, in_local_background(job))
}

/// Raises this process's soft open-file limit to its hard limit, for the attacks' sockets.
fn raise_open_files() {
    // SAFETY: getrlimit and setrlimit on a local struct.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit);
        }
    }
}

struct Row {
    scenario: String,
    idle: Seen,
    attacked: Seen,
    notes: String,
}

/// Runs the three scenarios and returns the section of the report.
pub async fn run(ctx: &Ctx) -> String {
    raise_open_files();
    let secs = ctx.opts.duration.max(3.0) * 3.0;
    let mut rows = Vec::new();

    // Forged-token flood: from one address, then from 200.
    let server = start_with("ours-oauth-serve", ctx, None).await;
    let addr = server.addr();
    let valid = ctx.token(server.port);
    let legit = call_request(server.port, Style::Modern, Some(&valid));
    legitimate(addr, &legit, 1.0).await;
    for (label, connections, from) in [
        (
            "forged-token flood, 1 address, 32 connections",
            32,
            vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        ),
        (
            "forged-token flood, 200 addresses, a connection each",
            200,
            (2..202u8)
                .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 1, i)))
                .collect(),
        ),
    ] {
        let idle = legitimate(addr, &legit, secs).await;
        let forger = Forger::new(&valid, ctx.issuer.url(), server.port);
        let started = Instant::now();
        let (flood, attack) = forged_flood(addr, forger, connections, from);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let cpu = super::proc_cpu(server.pid);
        let measured = Instant::now();
        let attacked = legitimate(addr, &legit, secs).await;
        let busy = (super::proc_cpu(server.pid) - cpu) / measured.elapsed().as_secs_f64();
        attack.finish();
        let elapsed = started.elapsed().as_secs_f64();
        let sent = flood.sent.load(Ordering::Relaxed);
        let notes = format!(
            "flood {:.0} req/s: {} × 401, {} × 429, {} other; server CPU {:.0}% of a core",
            sent as f64 / elapsed,
            flood.unauthorized.load(Ordering::Relaxed),
            flood.throttled.load(Ordering::Relaxed),
            flood.other.load(Ordering::Relaxed),
            busy * 100.0
        );
        eprintln!("[stress] {label}: {notes}");
        rows.push(Row {
            scenario: label.into(),
            idle,
            attacked,
            notes,
        });
    }
    server.stop().await;

    // Slowloris against a server allowed 1 024 open files.
    let server = start_with("ours-serve", ctx, Some(1024)).await;
    let addr = server.addr();
    let legit = call_request(server.port, Style::Modern, None);
    legitimate(addr, &legit, 1.0).await;
    let idle = legitimate(addr, &legit, secs).await;
    let (slow, attack) = slowloris(addr, 1100, Duration::from_secs(3));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attacked = legitimate(addr, &legit, secs.max(20.0)).await;
    attack.finish();
    let closed = slow.closed_by_server.load(Ordering::Relaxed);
    let notes = format!(
        "{} slow sockets opened, {closed} closed by the server after {:.1} s on average, {} connects refused",
        slow.opened.load(Ordering::Relaxed),
        slow.lifetime_ms.load(Ordering::Relaxed) as f64 / closed.max(1) as f64 / 1000.0,
        slow.refused.load(Ordering::Relaxed)
    );
    eprintln!("[stress] slowloris: {notes}");
    rows.push(Row {
        scenario: "slowloris, 1 100 sockets, a byte every 3 s, server at 1 024 open files".into(),
        idle,
        attacked,
        notes,
    });
    server.stop().await;

    // 1 000 connections, each a request a second.
    let server = start_with("ours-serve", ctx, Some(4096)).await;
    let addr = server.addr();
    let legit = call_request(server.port, Style::Modern, None);
    legitimate(addr, &legit, 1.0).await;
    let idle = legitimate(addr, &legit, secs).await;
    let (failures, attack) = many_connections(addr, legit.clone(), 1000);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attacked = legitimate(addr, &legit, secs).await;
    attack.finish();
    let notes = format!(
        "{} failed requests among the 1 000 connections",
        failures.load(Ordering::Relaxed)
    );
    eprintln!("[stress] 1000 connections: {notes}");
    rows.push(Row {
        scenario: "1 000 keep-alive connections, a request a second each".into(),
        idle,
        attacked,
        notes,
    });
    server.stop().await;
    table(secs, &rows)
}

fn table(secs: f64, rows: &[Row]) -> String {
    let mut out = String::from("\n### Stress: a legitimate client under attack\n\n");
    let _ = writeln!(
        out,
        "O under `serve_http` with default settings; one sequential client doing `tools/call add` \
         (2026-07-28, with a valid cached bearer token in the flood rows), {secs:.0} s per figure, \
         {} s per request before it counts as failed. Latencies in ms.\n",
        PATIENCE.as_secs()
    );
    out.push_str(
        "| scenario | idle p50 | idle p99 | attacked p50 | attacked p99 | failed | notes |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---|\n");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.scenario,
            row.idle.p(0.50),
            row.idle.p(0.99),
            row.attacked.p(0.50),
            row.attacked.p(0.99),
            row.attacked.failed,
            row.notes
        );
    }
    out
}
