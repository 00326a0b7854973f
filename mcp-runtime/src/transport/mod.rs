//! Transports: Streamable HTTP on axum and newline-delimited stdio, both feeding the
//! connection core, and [`Serve`], which turns a server into one of them.

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "stdio")]
pub(crate) mod stdio;

use std::future::Future;
use std::pin::Pin;

use crate::server::McpServer;
use crate::telemetry::Declared;

/// The tools and prompts `S` declares, for its telemetry.
pub(crate) fn declared<S: McpServer>() -> Declared {
    let desc = S::__descriptor();
    Declared::new(
        desc.tools.iter().map(|t| t.name),
        desc.prompts.iter().map(|p| p.name),
    )
}

/// The future of a running transport: ends when the transport stops.
///
/// A named type rather than `impl Future`, so that serving a server with a configuration
/// it does not accept is one compile error at the call, not one more at each `.await`.
pub type Serving<'a> =
    Pin<Box<dyn Future<Output = Result<(), crate::error::ServeError>> + Send + 'a>>;

/// Serves an [`McpServer`] over a transport; in the prelude, implemented for every server.
///
/// Which configuration a server accepts follows from its declaration: a server without
/// `oauth` is served with an [`HttpConfig`](crate::HttpConfig) or plain stdio; one with
/// `oauth` with an [`OAuthConfig`](crate::OAuthConfig) or, over stdio, as a
/// [`LocalCaller`](crate::auth::LocalCaller). Anything else does not compile.
pub trait Serve: McpServer {
    /// The server's [`Contract`](crate::contract::Contract) under `config`: its tools,
    /// resources, prompts and completions, the scopes of each and, with OAuth, the
    /// protected resource metadata, without serving it or needing a server value.
    ///
    /// ```
    /// use mcp_runtime::prelude::*;
    ///
    /// struct Echo;
    ///
    /// #[mcp_server]
    /// impl Echo {
    ///     /// Says `text` back.
    ///     #[tool(read_only)]
    ///     async fn echo(&self, text: String) -> String {
    ///         text
    ///     }
    /// }
    ///
    /// let contract = Echo::contract(&HttpConfig::new());
    /// assert_eq!(contract.as_json()["tools"][0]["annotations"]["readOnlyHint"], true);
    /// print!("{contract}");
    /// ```
    #[cfg(feature = "http")]
    fn contract<C: crate::contract::ContractConfig<Self>>(config: &C) -> crate::contract::Contract {
        crate::contract::Contract::of::<Self, C>(config)
    }

    /// Builds the Streamable HTTP endpoint as an [`axum::Router`] serving `/mcp` (or the
    /// configured path).
    ///
    /// Mount it beside your own routes or wrap it in tower layers. See
    /// [`transport::http`](crate::transport::http) for what the endpoint does.
    #[cfg(feature = "http")]
    fn router<C: http::ServeConfig<Self>>(self, config: C) -> axum::Router {
        config.into_router(self)
    }

    /// Serves the Streamable HTTP endpoint on `addr` until SIGTERM, Ctrl-C or the signal of
    /// [`HttpConfig::shutdown_on`](crate::HttpConfig::shutdown_on), then drains within
    /// [`HttpConfig::drain_timeout`](crate::HttpConfig::drain_timeout).
    ///
    /// What it sets up beyond [`router`](Self::router) with `axum::serve`:
    ///
    /// - `TCP_NODELAY` on every accepted connection, so that a response or an SSE event
    ///   leaves when it is written rather than after the client's delayed ACK;
    /// - HTTP/1.1 and cleartext HTTP/2 on the same port, told apart by the first bytes;
    /// - at most [`max_connections`](crate::HttpConfig::max_connections) connections (the
    ///   open-file limit less 64, at most 10 000, by default), the quietest closed to make
    ///   room at the cap;
    /// - [`header_timeout`](crate::HttpConfig::header_timeout) (10 s) for a request's
    ///   headers, which also closes idle keep-alive connections, and
    ///   [`body_timeout`](crate::HttpConfig::body_timeout) (30 s, then 408) for its body;
    /// - the peer's address in every request, as axum's `ConnectInfo<SocketAddr>`, for the
    ///   per-client session limits;
    /// - the graceful shutdown above, in-flight requests answered and new connections
    ///   refused with 503 for a second before the listener closes.
    ///
    /// # Errors
    ///
    /// [`ServeError::Bind`](crate::ServeError::Bind) when the address cannot be bound, and
    /// [`ServeError::Io`](crate::ServeError::Io) when serving fails.
    #[cfg(feature = "http")]
    fn serve_http<'a, C: http::ServeConfig<Self>>(
        self,
        addr: impl tokio::net::ToSocketAddrs + std::fmt::Display + Send + 'a,
        config: C,
    ) -> Serving<'a> {
        let settings = config.http_config().clone();
        let router = config.into_router(self);
        Box::pin(async move { http::serve::serve(router, addr, &settings).await })
    }

    /// Serves newline-delimited JSON-RPC on stdin and stdout until stdin closes.
    ///
    /// Logs must go to stderr: stdout carries the JSON-RPC messages, and a subscriber
    /// writing there (as `tracing_subscriber::fmt()` does unless given
    /// `.with_writer(std::io::stderr)`) would mix its lines, among them the request line of
    /// [`telemetry`](crate::telemetry), into the stream.
    ///
    /// # Errors
    ///
    /// [`ServeError::Io`](crate::ServeError::Io) when stdin or stdout fail.
    #[cfg(feature = "stdio")]
    fn serve_stdio(self) -> Serving<'static>
    where
        Self: crate::server::Unprotected,
    {
        Box::pin(stdio::serve(
            self,
            None,
            tokio::io::stdin(),
            tokio::io::stdout(),
        ))
    }

    /// Serves a server declared with `oauth` over stdio, every request made by `caller`
    /// and checked against its scopes like a verified token's. Logs go to stderr, as for
    /// [`serve_stdio`](Self::serve_stdio).
    ///
    /// # Errors
    ///
    /// [`ServeError::Io`](crate::ServeError::Io) when stdin or stdout fail.
    #[cfg(feature = "stdio")]
    fn serve_stdio_as(self, caller: crate::auth::LocalCaller) -> Serving<'static>
    where
        Self: crate::server::Protected,
    {
        let caller = std::sync::Arc::new(caller.into_principal());
        let local = Some((caller, Self::REQUIRED_SCOPES));
        Box::pin(stdio::serve(
            self,
            local,
            tokio::io::stdin(),
            tokio::io::stdout(),
        ))
    }
}

impl<S: McpServer> Serve for S {}
