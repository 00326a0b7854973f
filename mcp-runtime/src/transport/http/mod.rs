//! Streamable HTTP on axum: one endpoint (default `/mcp`) that serves MCP 2025-11-25 with
//! sessions and the stateless 2026-07-28 revision side by side, chosen per request.
//!
//! Each POST is classified in this order (2026-07-28 `basic/versioning`, backward
//! compatibility): a `_meta` key under `io.modelcontextprotocol/` makes it a 2026-07-28
//! request; otherwise `initialize`, an `Mcp-Session-Id` header or a legacy
//! `MCP-Protocol-Version` makes it a 2025-11-25 one; an unknown version header makes it a
//! 2026-07-28 request, so that it gets the errors of that revision.
//!
//! | what | answer |
//! |---|---|
//! | `Host` not served, or a browser `Origin` not allowed (DNS rebinding) | 403 |
//! | `Accept` without `application/json` and `text/event-stream` | 406 |
//! | `Content-Type` not `application/json` | 415 |
//! | body over [`HttpConfig::body_limit`] | 413 |
//! | not JSON / not a JSON-RPC message | 400, -32700 / -32600 |
//! | 2025-11-25 request without `Mcp-Session-Id` / with an unknown one | 400 / 404 |
//! | 2026-07-28 header missing or disagreeing with the body | 400, -32020 |
//! | 2026-07-28 `_meta` missing its protocol version or capabilities | 400, -32602 |
//! | 2026-07-28 unsupported version | 400, -32022 with `data.supported` |
//! | 2026-07-28 unknown method | 404, -32601 |
//! | notification | 202 |
//!
//! A request whose handler sends something before its result (progress, when the request
//! carries a `progressToken`; log messages, once the client set a level; requests to the
//! client of a session that declared something to be asked for) is answered as an SSE
//! stream from that first message on, ending with the result; closing that stream cancels
//! the request. Every other request gets one JSON object, and a request whose handler
//! cannot send anything is answered without preparing a stream at all.

mod body;
mod config;
mod cors;
mod handler;
mod stream;

use std::sync::Arc;

pub(crate) use config::AuthSettings;
pub use config::HttpConfig;

use crate::error::ServeError;
use crate::server::dispatch::Engine;
use crate::server::{McpServer, Unprotected};
use crate::transport::session::SessionStore;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::HttpConfig {}
    impl Sealed for crate::auth::OAuthConfig {}
}

/// A configuration that can serve the server `S` over HTTP.
///
/// [`HttpConfig`] serves servers declared without `oauth`; [`OAuthConfig`](crate::OAuthConfig)
/// serves those declared with it, and nothing else does.
pub trait ServeConfig<S>: sealed::Sealed {
    /// The endpoint settings.
    #[doc(hidden)]
    fn into_http_config(self) -> HttpConfig;
}

impl<S: Unprotected> ServeConfig<S> for HttpConfig {
    fn into_http_config(self) -> HttpConfig {
        self
    }
}

impl<S: crate::auth::Protected> ServeConfig<S> for crate::auth::OAuthConfig {
    fn into_http_config(self) -> HttpConfig {
        let mut http = self.http;
        http.auth = Some(AuthSettings {
            config: self.inner,
            required: S::REQUIRED_SCOPES,
            scopes: S::SCOPES,
        });
        http
    }
}

/// Everything the handlers share.
pub(crate) struct Shared<S> {
    pub(crate) engine: Engine<S>,
    pub(crate) config: HttpConfig,
    pub(crate) sessions: SessionStore,
    pub(crate) hub: crate::server::input::Hub,
}

pub(crate) fn router<S: McpServer>(server: S, config: HttpConfig) -> axum::Router {
    let path = config.path.clone();
    let shared = Arc::new(Shared {
        engine: Engine::new(server),
        sessions: SessionStore::new(config.session_idle_timeout, config.max_sessions),
        config,
        hub: crate::server::input::Hub::default(),
    });
    let mut router = axum::Router::new().route(
        &path,
        axum::routing::post(handler::post::<S>)
            .get(handler::get::<S>)
            .delete(handler::delete::<S>),
    );
    if let Some(auth) = &shared.config.auth {
        let document = bytes::Bytes::from(
            serde_json::to_vec(&crate::auth::protected_resource_metadata(
                &auth.config,
                auth.scopes,
            ))
            .expect("serializing a JSON value cannot fail"),
        );
        let serve = move || {
            let document = document.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    document,
                )
            }
        };
        router = router.route(
            &auth.config.metadata_path,
            axum::routing::get(serve.clone()),
        );
        if auth.config.metadata_path != ROOT_METADATA_PATH {
            router = router.route(ROOT_METADATA_PATH, axum::routing::get(serve));
        }
        if let Some(doc) = &auth.config.legacy_as_metadata {
            let doc = bytes::Bytes::from(
                serde_json::to_vec(doc).expect("serializing a JSON value cannot fail"),
            );
            router = router.route(
                "/.well-known/oauth-authorization-server",
                axum::routing::get(move || {
                    let doc = doc.clone();
                    async move {
                        (
                            [(axum::http::header::CONTENT_TYPE, "application/json")],
                            doc,
                        )
                    }
                }),
            );
        }
    }
    let cors = cors::layer(&shared.config);
    router.with_state(shared).layer(cors)
}

const ROOT_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

pub(crate) async fn serve<S: McpServer>(
    server: S,
    addr: impl tokio::net::ToSocketAddrs + std::fmt::Display + Send,
    config: HttpConfig,
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
    let path = config.path.clone();
    let app = router(server, config);
    tracing::info!("MCP endpoint at http://{local}{path}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(ServeError::Io)
}
