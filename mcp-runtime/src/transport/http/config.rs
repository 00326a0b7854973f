//! [`HttpConfig`]: the deployment a Streamable HTTP endpoint serves, and its limits.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::lifecycle::{Lifecycle, Stats};
use crate::connection::events::ReplayLimits;
use crate::connection::session::SessionLimits;
use crate::server::input::StateKeys;
use crate::server::tasks::TaskSettings;
use crate::telemetry::Telemetry;

/// Settings of the Streamable HTTP endpoint of a server declared without `oauth`.
///
/// The defaults suit a server on a developer's machine: requests must be addressed to
/// `localhost`, `127.0.0.1` or `[::1]` (DNS-rebinding protection), and a browser `Origin`
/// must be one of those hosts too. A server deployed under a domain names it with
/// [`HttpConfig::allow_host`].
///
/// ```
/// use mcp_runtime::HttpConfig;
///
/// let config = HttpConfig::new()
///     .allow_host("mcp.example.com")
///     .allow_origin("https://app.example.com")
///     .body_limit(1 << 20);
/// assert_eq!(config.path(), "/mcp");
/// ```
///
/// Every limit has a default that suits a production server, and a setting; the README's
/// "Running in production" section lists them. A config and its clones share one
/// [`Stats`] and one shutdown: build one config per endpoint.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub(crate) path: String,
    pub(crate) body_limit: usize,
    pub(crate) hosts: Vec<String>,
    pub(crate) any_host: bool,
    pub(crate) origins: Vec<String>,
    pub(crate) sessions: SessionLimits,
    pub(crate) max_streams: usize,
    pub(crate) sse_keep_alive: Duration,
    pub(crate) sse_max_lifetime: Duration,
    pub(crate) header_timeout: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) max_connections: Option<usize>,
    pub(crate) drain_timeout: Duration,
    pub(crate) state_keys: Option<StateKeys>,
    #[cfg(feature = "redis")]
    pub(crate) store: Option<crate::store::RedisStore>,
    pub(crate) life: Arc<Lifecycle>,
    pub(crate) telemetry: Telemetry,
    pub(crate) tasks: TaskSettings,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            path: "/mcp".into(),
            body_limit: 4 * 1024 * 1024,
            hosts: Vec::new(),
            any_host: false,
            origins: Vec::new(),
            sessions: SessionLimits {
                max: 100_000,
                per_client: 256,
                idle: Duration::from_mins(30),
                unused: Duration::from_mins(1),
                client_bytes: 64 * 1024,
                subscriptions: 1000,
                in_flight: 64,
                replay: ReplayLimits::DEFAULT,
            },
            max_streams: 10_000,
            sse_keep_alive: Duration::from_secs(15),
            sse_max_lifetime: Duration::from_mins(10),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: None,
            drain_timeout: Duration::from_secs(25),
            state_keys: None,
            #[cfg(feature = "redis")]
            store: None,
            life: Arc::default(),
            telemetry: Telemetry::new(),
            tasks: TaskSettings::default(),
        }
    }
}

impl HttpConfig {
    /// The defaults: path `/mcp`, 4 MiB bodies, localhost only, 30-minute idle sessions.
    pub fn new() -> Self {
        Self::default()
    }

    /// The endpoint path (default `/mcp`).
    ///
    /// # Panics
    ///
    /// When `path` does not start with `/`.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        assert!(
            path.starts_with('/'),
            "the MCP endpoint path must start with `/`, got `{path}`"
        );
        self.path = path;
        self
    }

    /// The endpoint path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The largest request body accepted, in bytes (default 4 MiB); larger ones get 413.
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Accepts requests whose `Host` is `host` (any port), besides the loopback names.
    #[must_use]
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.hosts.push(host.into().to_ascii_lowercase());
        self
    }

    /// Accepts any `Host` header: only for servers behind a proxy that checks it.
    #[must_use]
    pub fn allow_any_host(mut self) -> Self {
        self.any_host = true;
        self
    }

    /// Accepts browser requests from `origin` (for instance `https://app.example.com`),
    /// besides loopback origins.
    #[must_use]
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.origins
            .push(origin.into().trim_end_matches('/').to_ascii_lowercase());
        self
    }

    /// How long a 2025-11-25 session may stay unused before it is dropped (default 30 min).
    #[must_use]
    pub fn session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.sessions.idle = timeout;
        self
    }

    /// How long a session may wait, after `initialize`, for the client's next message
    /// before it is dropped (default 1 min): sessions opened and never used go early.
    #[must_use]
    pub fn unused_session_timeout(mut self, timeout: Duration) -> Self {
        self.sessions.unused = timeout;
        self
    }

    /// The most 2025-11-25 sessions held at once (default 100 000); `initialize` beyond it
    /// gets 503 with `Retry-After`.
    #[must_use]
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.sessions.max = max;
        self
    }

    /// The most sessions one client holds at once (default 256): a client is its OAuth
    /// subject on servers declared with `oauth`, otherwise its address (IPv6 by /64).
    /// `initialize` beyond it gets 429 with `Retry-After`, so that one client cannot fill
    /// the table. The address is known when the server runs
    /// [`serve_http`](crate::Serve::serve_http), or when a [`router`](crate::Serve::router)
    /// is served with `into_make_service_with_connect_info::<SocketAddr>()`; behind a proxy
    /// every client has the proxy's address, so raise this there or use OAuth.
    #[must_use]
    pub fn max_sessions_per_client(mut self, max: usize) -> Self {
        self.sessions.per_client = max;
        self
    }

    /// The most bytes of `clientInfo` and `capabilities` (as JSON) a session keeps
    /// (default 64 KiB); a larger `initialize` gets -32602.
    #[must_use]
    pub fn max_client_info_bytes(mut self, bytes: usize) -> Self {
        self.sessions.client_bytes = bytes;
        self
    }

    /// The most resources one session subscribes to (default 1 000); beyond it
    /// `resources/subscribe` gets -32602. A subscribed URI is at most 4 KiB.
    #[must_use]
    pub fn max_subscriptions(mut self, max: usize) -> Self {
        self.sessions.subscriptions = max;
        self
    }

    /// The most requests one session has in flight at once (default 64); beyond it a
    /// request gets 429 with `Retry-After`.
    #[must_use]
    pub fn max_requests_per_session(mut self, max: usize) -> Self {
        self.sessions.in_flight = max;
        self
    }

    /// The most notification streams (a session's `GET` stream, 2026-07-28
    /// `subscriptions/listen`) open at once (default 10 000); beyond it the request gets
    /// 503 with `Retry-After`. A session has at most one `GET` stream: a new one replaces
    /// the old.
    #[must_use]
    pub fn max_streams(mut self, max: usize) -> Self {
        self.max_streams = max;
        self
    }

    /// How many bytes of SSE events a 2025-11-25 session keeps so that its client can
    /// resume a broken stream with `Last-Event-ID` (default 1 MiB), and how many over all
    /// sessions (default 256 MiB). Past either, the session writing drops its oldest events
    /// first, those of finished streams before those of live ones; a resume from before
    /// what is left starts at the oldest event kept. A session also keeps the 16 newest of
    /// its finished streams.
    #[must_use]
    pub fn sse_replay_bytes(mut self, per_session: usize, total: usize) -> Self {
        self.sessions.replay.per_session = per_session;
        self.sessions.replay.total = total;
        self
    }

    /// How often an SSE stream with nothing to send sends a comment, so that proxies keep
    /// it open (default 15 s).
    #[must_use]
    pub fn sse_keep_alive(mut self, every: Duration) -> Self {
        self.sse_keep_alive = every;
        self
    }

    /// How long a notification stream stays open (default 10 min); it then ends with a
    /// `retry:` hint and the client opens a new one. Shorter than the session idle timeout,
    /// so that a client that only listens keeps its session.
    #[must_use]
    pub fn sse_max_lifetime(mut self, lifetime: Duration) -> Self {
        self.sse_max_lifetime = lifetime;
        self
    }

    /// How long a connection may take to send a request's headers (default 10 s), counted
    /// from when it opens or its previous response ended: this also closes idle keep-alive
    /// connections. Applies to [`serve_http`](crate::Serve::serve_http).
    #[must_use]
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// How long a request's body may take to arrive (default 30 s); a slower one gets 408.
    #[must_use]
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Keeps sessions, what their streams carry, and the messages between replicas in
    /// `store`, so that replicas behind a load balancer with no session affinity serve
    /// every session (see [`store`](crate::store)). The replicas also need one
    /// [`request_state_keys`](Self::request_state_keys) ring; without one a warning is
    /// logged. The session limits ([`max_sessions`](Self::max_sessions),
    /// [`max_sessions_per_client`](Self::max_sessions_per_client),
    /// [`max_subscriptions`](Self::max_subscriptions)) are counted in the store, over all
    /// replicas; [`max_requests_per_session`](Self::max_requests_per_session) per replica.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn session_store(mut self, store: crate::store::RedisStore) -> Self {
        self.store = Some(store);
        self
    }

    /// The key ring that seals and opens 2026-07-28 `requestState`s (see [`StateKeys`]).
    /// Replicas behind one load balancer need the same ring, since a client's retry may
    /// reach any of them. Without this setting, `MCP_REQUEST_STATE_KEYS` is read
    /// ([`StateKeys::from_env`]), else the process uses a random key.
    #[must_use]
    pub fn request_state_keys(mut self, keys: StateKeys) -> Self {
        self.state_keys = Some(keys);
        self
    }

    /// The most connections [`serve_http`](crate::Serve::serve_http) holds open (default:
    /// the process's open-file limit less 64, at most 10 000). At the cap it logs a warning
    /// (at most once a minute) and closes the connection that has had no request in flight
    /// for longest, if for at least a second, to make room for the new one; while every
    /// connection is busy, the new one waits in the kernel's queue until one closes.
    /// [`Stats::connections_evicted`](crate::Stats::connections_evicted) counts
    /// the connections closed this way.
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = Some(max.max(1));
        self
    }

    /// How long the server drains after SIGTERM, Ctrl-C or [`shutdown_on`]'s future
    /// (default 25 s, inside the 30 s Kubernetes and systemd give a process before they
    /// kill it). Notification streams end at once with a `retry:` hint; requests in flight
    /// are answered; for a second (at most half the timeout) new connections get 503 with
    /// `Retry-After`, so that a load balancer takes the server out of its rotation before
    /// the listener closes; shortly before the deadline, those still running are answered 503 with
    /// a JSON-RPC error, and [`serve_http`](crate::Serve::serve_http) returns by the
    /// deadline whatever clients do (with a session store, up to 2 s later, while what
    /// the streams carried last reaches the store).
    ///
    /// [`shutdown_on`]: HttpConfig::shutdown_on
    #[must_use]
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Starts the graceful shutdown when `signal` completes, besides SIGTERM and Ctrl-C
    /// under [`serve_http`](crate::Serve::serve_http). For a [`router`](crate::Serve::router)
    /// served by your own `axum::serve(…).with_graceful_shutdown(…)`, give the same signal
    /// here, so that notification streams end and the endpoint answers what is still
    /// running by the [`drain_timeout`](HttpConfig::drain_timeout) (a stream left open would
    /// otherwise hold the shutdown forever).
    ///
    /// ```no_run
    /// use mcp_runtime::HttpConfig;
    ///
    /// let stop = tokio_util::sync::CancellationToken::new();
    /// let config = HttpConfig::new().shutdown_on(stop.clone().cancelled_owned());
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn shutdown_on(self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.life.set_signal(Box::pin(signal));
        self
    }

    /// What the endpoint records about its requests: spans, metrics, the log line of each
    /// (see [`telemetry`](crate::telemetry)).
    ///
    /// ```
    /// use mcp_runtime::HttpConfig;
    /// use mcp_runtime::telemetry::Telemetry;
    ///
    /// // No log line per request.
    /// let config = HttpConfig::new().telemetry(Telemetry::new().request_log(false));
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// How long a task of the Tasks extension is kept from its creation (`ttlMs`, default
    /// one hour): past it a finished task is gone (`tasks/get` answers -32602), while one
    /// still running is kept until it ends. With a [session store](Self::session_store)
    /// the store expires it.
    #[must_use]
    pub fn task_ttl(mut self, ttl: Duration) -> Self {
        self.tasks.ttl = ttl;
        self
    }

    /// How often clients are told to poll a task (`pollIntervalMs`, default 500 ms).
    #[must_use]
    pub fn task_poll_interval(mut self, interval: Duration) -> Self {
        self.tasks.poll_interval = interval;
        self
    }

    /// How many tasks this process keeps in memory (default 10 000; not with a session
    /// store, which keeps them until they expire). At the limit the oldest finished task
    /// goes; when all of them run, a tool with `task = "optional"` answers in its request
    /// and one with `task = "required"` is refused with -32603.
    #[must_use]
    pub fn max_tasks(mut self, max: usize) -> Self {
        self.tasks.max_tasks = max;
        self
    }

    /// What the endpoint holds now: sessions, streams, connections. Take it before the
    /// config goes to [`router`](crate::Serve::router) or
    /// [`serve_http`](crate::Serve::serve_http).
    pub fn stats(&self) -> Stats {
        Stats::new(Arc::clone(&self.life))
    }

    /// Whether the `Host` header value is one this endpoint serves.
    pub(crate) fn host_allowed(&self, host: &str) -> bool {
        if self.any_host {
            return true;
        }
        let Some(name) = host_name(host) else {
            return false;
        };
        is_loopback_name(name) || self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// Whether a browser `Origin` header value may call this endpoint.
    pub(crate) fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.origins.contains(&origin) {
            return true;
        }
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false;
        };
        matches!(scheme, "http" | "https") && host_name(authority).is_some_and(is_loopback_name)
    }
}

/// The host of an authority (`host`, `host:port`, `[v6]`, `[v6]:port`), or `None` when what
/// follows the host is not a port: `[::1].evil.example` and `localhost:evil` name no host
/// this endpoint serves.
fn host_name(authority: &str) -> Option<&str> {
    let (name, rest) = if authority.starts_with('[') {
        // `[::1]:3000` keeps its brackets.
        let end = authority.find(']')?;
        authority.split_at(end + 1)
    } else {
        let end = authority.find(':').unwrap_or(authority.len());
        authority.split_at(end)
    };
    let port = match rest {
        "" => true,
        _ => rest.strip_prefix(':').is_some_and(|p| {
            !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
        }),
    };
    (port && !name.is_empty()).then_some(name)
}

fn is_loopback_name(name: &str) -> bool {
    ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_and_origins_are_allowed_by_default() {
        let c = HttpConfig::new();
        for host in [
            "localhost",
            "localhost:3000",
            "127.0.0.1:1",
            "[::1]:8080",
            "LOCALHOST",
        ] {
            assert!(c.host_allowed(host), "{host}");
        }
        for host in [
            "evil.example.com",
            "127.0.0.1.evil.com",
            "localhost.evil.com:80",
            "[::2]",
            "[::1].evil.example",
            "[::1]:80.evil.example",
            "localhost:evil",
            "localhost:",
            "localhost:80:80",
            "127.0.0.1:123456",
            ":80",
        ] {
            assert!(!c.host_allowed(host), "{host}");
        }
        assert!(c.origin_allowed("http://localhost:6274"));
        assert!(c.origin_allowed("https://127.0.0.1"));
        assert!(!c.origin_allowed("http://evil.example.com"));
        assert!(!c.origin_allowed("null"));
        assert!(!c.origin_allowed("file://localhost"));
        assert!(!c.origin_allowed("http://[::1].evil.example"));
        assert!(!c.origin_allowed("http://localhost:evil"));
        assert!(c.origin_allowed("http://[::1]:6274"));
    }

    #[test]
    fn configured_hosts_and_origins_are_allowed() {
        let c = HttpConfig::new()
            .allow_host("MCP.example.com")
            .allow_origin("https://app.example.com/");
        assert!(c.host_allowed("mcp.example.com:443"));
        assert!(!c.host_allowed("other.example.com"));
        assert!(c.origin_allowed("https://APP.example.com"));
        assert!(!c.origin_allowed("http://app.example.com"));
        assert!(HttpConfig::new().allow_any_host().host_allowed("anything"));
    }
}
