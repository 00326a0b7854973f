//! The accept loop of [`serve_http`](crate::Serve::serve_http): connections bounded in
//! number and in how long they may take to send a request, the peer's address put in every
//! request, and the graceful shutdown of [`lifecycle`](super::lifecycle).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse as _;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::sync::Semaphore;

use super::HttpConfig;
use super::error::Refusal;
use super::slots::{Busy, Slot, Slots, Tracked, TrackedBody};
use crate::error::ServeError;

/// The most connections by default, whatever the open-file limit allows.
const MAX_CONNECTIONS: usize = 10_000;
/// How long a shutting-down server answers new connections 503 before it closes its
/// listener (at most half the drain timeout).
const REFUSING_FOR: Duration = Duration::from_secs(1);
/// How long a shutdown waits for the first request of a connection opened just before.
const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(1);
/// File descriptors kept free for everything but connections (logs, the JWKS client…).
const SPARE_FILES: usize = 64;

/// Serves `router` on `addr` until SIGTERM, Ctrl-C or the config's shutdown signal, then
/// drains within [`HttpConfig::drain_timeout`].
pub(crate) async fn serve(
    router: axum::Router,
    addr: impl tokio::net::ToSocketAddrs + std::fmt::Display + Send,
    config: &HttpConfig,
) -> Result<(), ServeError> {
    let display = addr.to_string();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: display,
            source,
        })?;
    let local = listener.local_addr().map_err(ServeError::Io)?;
    if !local.ip().is_loopback() && config.hosts.is_empty() && !config.any_host {
        tracing::warn!(
            %local,
            "listening beyond loopback, but only requests addressed to localhost are accepted; \
             name the public host with `HttpConfig::allow_host`"
        );
    }
    let max = config
        .max_connections
        .unwrap_or_else(default_max_connections);
    tracing::info!(
        max_connections = max,
        "MCP endpoint at http://{local}{}",
        config.path
    );

    let protocols = Arc::new(Protocols::new(config.header_timeout));
    let life = Arc::clone(&config.life);
    let slots = Slots::new();
    life.set_slots(&slots);
    let permits = Arc::new(Semaphore::new(max));
    let mut full_since: Option<Instant> = None;
    let mut failing_since: Option<Instant> = None;
    let stop = async {
        tokio::select! {
            () = shutdown_signal() => {}
            () = life.draining.cancelled() => {}
        }
    };
    let mut stop = std::pin::pin!(stop);
    let drain = config.drain_timeout;
    let refusing = REFUSING_FOR.min(drain / 2);
    let mut listener = Some(listener);
    // Once the listener closes: the listener, to take what the kernel queued for it.
    let mut backlog: Option<std::net::TcpListener> = None;
    // Once stopping: when it started.
    let mut stopped_at: Option<Instant> = None;
    loop {
        let refused_for = stopped_at.map(|at| at.elapsed());
        if refused_for.is_some_and(|t| t >= refusing) && backlog.is_none() {
            match listener.take().map(tokio::net::TcpListener::into_std) {
                Some(Ok(queued)) => backlog = Some(queued),
                _ => break,
            }
        }
        let (stream, peer) = if let Some(queued) = &backlog {
            // Connections the kernel completed but nobody accepted yet would be reset with
            // the listener, and a load balancer cannot tell whether their requests ran:
            // they are answered 503, and the listener closes behind them. The queue is
            // read with the system call itself, not a readiness the reactor may not have
            // seen yet.
            match queued.accept().and_then(|(stream, peer)| {
                stream.set_nonblocking(true)?;
                Ok((tokio::net::TcpStream::from_std(stream)?, peer))
            }) {
                Ok(accepted) => accepted,
                Err(_) => break,
            }
        } else {
            let accepting = listener.as_ref().expect("listening until stopping");
            tokio::select! {
            accepted = accepting.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most often: wait for some to close.
                    if failing_since.is_none_or(|t| t.elapsed() > Duration::from_mins(1)) {
                        failing_since = Some(Instant::now());
                        tracing::error!(error = %e, "cannot accept connections");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop, if stopped_at.is_none() => {
                // While the server drains, new connections are answered 503 with
                // `Retry-After` for a moment before the listener closes: a load balancer
                // takes the replica out of its rotation on that answer (nginx with
                // `proxy_next_upstream http_503`), so that no connection is under way when
                // the listener closes and resets what it has not accepted.
                stopped_at = Some(Instant::now());
                tokio::spawn(Arc::clone(&life).shut_down(drain));
                continue;
            }
            () = tokio::time::sleep_until(
                stopped_at.map_or_else(Instant::now, |at| at + refusing).into()
            ), if stopped_at.is_some() => continue,
            }
        };
        let late = stopped_at.is_some();
        let permit = if let Ok(permit) = Arc::clone(&permits).try_acquire_owned() {
            permit
        } else if late {
            break;
        } else {
            if full_since.is_none_or(|t| t.elapsed() > Duration::from_mins(1)) {
                full_since = Some(Instant::now());
                tracing::warn!(
                    max_connections = max,
                    "connection limit reached: the connection quiet longest is closed to \
                     make room for a new one, which waits while none is quiet \
                     (`HttpConfig::max_connections`)"
                );
            }
            tokio::select! {
                permit = make_room(&permits, &slots) => permit,
                () = &mut stop => break,
            }
        };
        // Responses and SSE events go out when written, not after the peer's delayed ACK.
        let _ = stream.set_nodelay(true);
        tracing::debug!(%peer, nodelay = stream.nodelay().unwrap_or(false), "connection accepted");
        let registered = slots.open(&life.draining);
        let service = PeerService {
            router: router.clone(),
            peer,
            slot: Arc::clone(&registered.slot),
        };
        let held = life.connection();
        let (protocols, draining) = (Arc::clone(&protocols), life.draining.clone());
        tokio::spawn(async move {
            let _held = (held, permit);
            let slot = &registered.slot;
            // The first byte tells HTTP/1.1 from HTTP/2 (whose preface starts `PRI`), and
            // a connection that sends none in time is closed.
            let mut first = [0u8; 1];
            let peeked = tokio::select! {
                peeked = tokio::time::timeout(protocols.header_timeout, stream.peek(&mut first)) => peeked,
                () = slot.close.cancelled(), if !late => {
                    if !draining.is_cancelled() {
                        return;
                    }
                    // Shutting down before the connection sent anything: its first request
                    // may be on its way, and it gets an answer.
                    tokio::time::timeout(FIRST_REQUEST_GRACE, stream.peek(&mut first)).await
                }
            };
            if !matches!(peeked, Ok(Ok(1..))) {
                return;
            }
            let builder = if first[0] == b'P' {
                &protocols.any
            } else {
                &protocols.http1
            };
            if late {
                // Accepted while shutting down: its requests are answered 503; HTTP/1.1
                // closes after the first (`Connection: close`).
                let refused = service_fn(refuse_shutting_down);
                let _ = builder
                    .serve_connection(TokioIo::new(stream), refused)
                    .await;
                return;
            }
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                () = slot.close.cancelled() => {}
            }
            // Requests are handed to the service on this task, so a connection quiet now
            // has none in progress: closing it loses nothing. Otherwise (and always when
            // shutting down) it answers what it has, then closes.
            if slot.is_quiet() && !draining.is_cancelled() {
                return;
            }
            // Closing a connection that has not yet delivered its first request would drop
            // that request unanswered: it gets a moment to arrive.
            let grace = Instant::now() + FIRST_REQUEST_GRACE;
            while !slot.has_started() && Instant::now() < grace {
                tokio::select! {
                    _ = connection.as_mut() => return,
                    () = tokio::time::sleep(Duration::from_millis(5)) => {}
                }
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    drop((listener, backlog));
    let stopped_at = stopped_at.unwrap_or_else(Instant::now);
    tokio::spawn(Arc::clone(&life).shut_down(drain));
    tokio::select! {
        () = slots.all_closed() => {
            tracing::info!("every connection closed; stopped");
        }
        () = tokio::time::sleep_until((stopped_at + drain).into()) => {
            tracing::warn!(?drain, "drain deadline reached; closing the connections still open");
        }
    }
    // A task outlives its request, not the process: it ends, or is recorded as failed.
    life.settle_tasks((stopped_at + drain).into()).await;
    life.stopped.cancel();
    // What the streams carried last, and their ends, must reach the store before the
    // process ends, for the replica that resumes them.
    #[cfg(feature = "redis")]
    if let Some(store) = &config.store {
        // The streams' writers see `stopped` first.
        tokio::time::sleep(Duration::from_millis(20)).await;
        store.flush(Duration::from_secs(2)).await;
    }
    Ok(())
}

/// 503 with `Retry-After` for a request that comes while the server shuts down.
const SHUTTING_DOWN: Refusal = Refusal::new(
    StatusCode::SERVICE_UNAVAILABLE,
    "the server is shutting down; retry the request",
);

async fn refuse_shutting_down(
    req: hyper::Request<Incoming>,
) -> Result<axum::response::Response, Infallible> {
    // The body is read first: a connection closed with bytes unread is reset, and the
    // answer with it. The server is stopping, so at most a little is read.
    let _ = axum::body::to_bytes(axum::body::Body::new(req.into_body()), 64 * 1024).await;
    let mut response = SHUTTING_DOWN.into_response();
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    Ok(response)
}

/// The connection builders: HTTP/1.1 alone, and with HTTP/2 for a client that opens with
/// its preface.
struct Protocols {
    http1: auto::Builder<TokioExecutor>,
    any: auto::Builder<TokioExecutor>,
    header_timeout: Duration,
}

impl Protocols {
    fn new(header_timeout: Duration) -> Self {
        let mut any = auto::Builder::new(TokioExecutor::new());
        any.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout);
        any.http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(100)
            .keep_alive_interval(Some(Duration::from_secs(20)))
            .keep_alive_timeout(header_timeout);
        let http1 = any.clone().http1_only();
        Self {
            http1,
            any,
            header_timeout,
        }
    }
}

/// A connection permit when none is free: the connection quiet longest is asked to close,
/// and asked again every 100 ms while none has been quiet for long enough.
async fn make_room(permits: &Arc<Semaphore>, slots: &Slots) -> tokio::sync::OwnedSemaphorePermit {
    loop {
        let asked = slots.make_room();
        let wait = Arc::clone(permits).acquire_owned();
        let retry = if asked {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(100)
        };
        tokio::select! {
            permit = wait => return permit.expect("the semaphore is never closed"),
            () = tokio::time::sleep(retry) => {}
        }
    }
}

/// The router, with the peer's address in each request as axum's [`ConnectInfo`], counting
/// the connection's requests in progress.
#[derive(Clone)]
struct PeerService {
    router: axum::Router,
    peer: SocketAddr,
    slot: Arc<Slot>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for PeerService {
    type Response = axum::response::Response<TrackedBody>;
    type Error = Infallible;
    type Future = Tracked<axum::routing::future::RouteFuture<Infallible>>;

    fn call(&self, mut req: hyper::Request<Incoming>) -> Self::Future {
        let busy = Busy::new(&self.slot);
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let mut router = self.router.clone();
        // A router is always ready.
        let inner = tower_service::Service::call(&mut router, req.map(axum::body::Body::new));
        Tracked {
            inner,
            busy: Some(busy),
        }
    }
}

/// The open-file limit less [`SPARE_FILES`], at most [`MAX_CONNECTIONS`].
fn default_max_connections() -> usize {
    open_file_limit()
        .map_or(MAX_CONNECTIONS, |n| n.saturating_sub(SPARE_FILES))
        .clamp(16, MAX_CONNECTIONS)
}

/// The soft `RLIMIT_NOFILE`, read from `/proc/self/limits` where there is one.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_file_limit(&limits)
}

fn parse_open_file_limit(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// SIGTERM (what Kubernetes, systemd and `docker stop` send) or Ctrl-C.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_file_limit_is_read_from_proc() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max cpu time              unlimited            unlimited            seconds\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_open_file_limit(limits), Some(1024));
        assert_eq!(parse_open_file_limit("nothing"), None);
        let max = default_max_connections();
        assert!((16..=MAX_CONNECTIONS).contains(&max));
    }
}
