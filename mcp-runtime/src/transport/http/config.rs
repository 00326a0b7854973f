//! [`HttpConfig`]: the deployment a Streamable HTTP endpoint serves, and its limits.

use std::time::Duration;

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
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub(crate) path: String,
    pub(crate) body_limit: usize,
    pub(crate) hosts: Vec<String>,
    pub(crate) any_host: bool,
    pub(crate) origins: Vec<String>,
    pub(crate) session_idle_timeout: Duration,
    pub(crate) max_sessions: usize,
    pub(crate) drain_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            path: "/mcp".into(),
            body_limit: 4 * 1024 * 1024,
            hosts: Vec::new(),
            any_host: false,
            origins: Vec::new(),
            session_idle_timeout: Duration::from_mins(30),
            max_sessions: 100_000,
            drain_timeout: Duration::from_secs(25),
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
        self.session_idle_timeout = timeout;
        self
    }

    /// The most 2025-11-25 sessions held at once (default 100 000); `initialize` beyond it
    /// gets 503.
    #[must_use]
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = max;
        self
    }

    /// How long [`serve_http`](crate::Serve::serve_http) waits, after SIGTERM or Ctrl-C, for
    /// the requests in flight before it closes what is still open (default 25 s, inside the
    /// 30 s Kubernetes and systemd give a process before they kill it).
    #[must_use]
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
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
