//! Streamable HTTP on axum: one endpoint (default `/mcp`) that serves MCP 2025-11-25 with
//! sessions and the stateless 2026-07-28 revision side by side, chosen per request.
//!
//! Each POST is classified in this order (2026-07-28 `basic/versioning`, backward
//! compatibility): a `_meta` key under `io.modelcontextprotocol/` makes it a 2026-07-28
//! request; otherwise `initialize`, an `Mcp-Session-Id` header or a legacy
//! `MCP-Protocol-Version` makes it a 2025-11-25 one; an unknown version header makes it a
//! 2026-07-28 request, so that it gets the errors of that revision.
//!
//! A request meets, in this order: [`HostOriginLayer`] (403), [`RefuseLayer`] (405, 406,
//! 415, 413 from the head alone), bearer authentication on servers declared with `oauth`
//! (401, 400, 403; see [`oauth`]), then the endpoint, which reads the body and passes the
//! message through the revision stage to the connection core. Cheap refusals thus cost no
//! signature check and no parse.
//!
//! | what | answer |
//! |---|---|
//! | `Host` not served, or a browser `Origin` not allowed (DNS rebinding) | 403 |
//! | `Accept` without `application/json` and `text/event-stream` | 406 |
//! | `Content-Type` not `application/json` | 415 |
//! | body over [`HttpConfig::body_limit`] | 413 |
//! | `GET` or `DELETE` on a stateless endpoint | 405 |
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

mod bearer;
mod body;
mod config;
mod cors;
mod endpoint;
mod error;
mod guard;
mod lifecycle;
pub mod oauth;
mod refuse;
mod respond;
mod revision;
pub(crate) mod serve;
mod slots;
mod sse;
mod stream;

use axum::http::{HeaderMap, HeaderName};

pub use config::HttpConfig;
pub use guard::{HostOrigin, HostOriginLayer};
pub use lifecycle::Stats;
pub use oauth::OAuthConfig;
pub use refuse::{Refuse, RefuseLayer};

use crate::connection::Core;
use crate::connection::sessions::Sessions;
use crate::server::input::StateKeys;
use crate::server::{McpServer, Protected, Unprotected};
use crate::telemetry::{Gauges, Recorder};
use bearer::BearerLayer;
use oauth::AuthSettings;
use std::sync::Arc;
use tower_layer::Layer as _;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::HttpConfig {}
    impl Sealed for super::OAuthConfig {}
}

/// A configuration that can serve the server `S` over HTTP.
///
/// [`HttpConfig`] serves servers declared without `oauth`; [`OAuthConfig`] serves those
/// declared with it, and nothing else does. Which one it is decides the layers of the
/// router: only an `OAuthConfig` puts bearer authentication in it.
pub trait ServeConfig<S>: sealed::Sealed {
    /// The endpoint settings.
    #[doc(hidden)]
    fn http_config(&self) -> &HttpConfig;

    /// The router serving `server`.
    #[doc(hidden)]
    fn into_router(self, server: S) -> axum::Router;
}

impl<S: Unprotected> ServeConfig<S> for HttpConfig {
    fn http_config(&self) -> &HttpConfig {
        self
    }

    fn into_router(self, server: S) -> axum::Router {
        let recorder = recorder::<S>(&self);
        let endpoint = endpoint(server, &self, &[], recorder);
        let stateless = endpoint.stateless();
        let service =
            HostOriginLayer::new(&self).layer(RefuseLayer::new(&self, stateless).layer(endpoint));
        axum::Router::new()
            .route_service(&self.path, service)
            .layer(cors::layer(&self, S::__descriptor()))
    }
}

impl<S: Protected> ServeConfig<S> for OAuthConfig {
    fn http_config(&self) -> &HttpConfig {
        &self.http
    }

    fn into_router(self, server: S) -> axum::Router {
        let http = self.http;
        let auth = AuthSettings {
            config: self.inner,
            required: S::REQUIRED_SCOPES,
            scopes: S::SCOPES,
        };
        let metadata = oauth::metadata_routes(&auth);
        let recorder = recorder::<S>(&http);
        let endpoint = endpoint(server, &http, S::REQUIRED_SCOPES, Arc::clone(&recorder));
        let stateless = endpoint.stateless();
        let bearer = BearerLayer::new(auth, http.body_timeout, recorder).layer(endpoint);
        let service =
            HostOriginLayer::new(&http).layer(RefuseLayer::new(&http, stateless).layer(bearer));
        axum::Router::new()
            .route_service(&http.path, service)
            .merge(metadata)
            .layer(cors::layer(&http, S::__descriptor()))
    }
}

/// What the endpoint's handlers share.
pub(crate) struct Http<S> {
    pub(crate) core: Core<S>,
    pub(crate) config: HttpConfig,
    pub(crate) recorder: Arc<Recorder>,
}

/// The telemetry of an endpoint, its gauges read from its [`Stats`].
fn recorder<S: McpServer>(config: &HttpConfig) -> Arc<Recorder> {
    let (sessions, streams) = (config.stats(), config.stats());
    let gauges = Gauges {
        sessions: Box::new(move || sessions.sessions() as u64),
        streams: Box::new(move || streams.streams() as u64),
    };
    Recorder::new(&config.telemetry, Some(gauges), super::declared::<S>())
}

/// The endpoint serving `server`.
fn endpoint<S: McpServer>(
    server: S,
    config: &HttpConfig,
    required: &'static [&'static str],
    recorder: Arc<Recorder>,
) -> endpoint::Endpoint<S> {
    let sessions = sessions(config);
    config.life.add_store(sessions.local());
    config.life.watch_signal(config.drain_timeout);
    let core = Core::new(
        server,
        sessions,
        config
            .state_keys
            .clone()
            .unwrap_or_else(StateKeys::process_default),
        required,
        config.tasks,
    );
    if let Some(tasks) = core.engine.tasks() {
        config.life.add_tasks(tasks);
    }
    endpoint::Endpoint::new(Http {
        core,
        config: config.clone(),
        recorder,
    })
}

/// The sessions of an endpoint: in memory, or in the configured store.
fn sessions(config: &HttpConfig) -> Sessions {
    #[cfg(feature = "redis")]
    if let Some(store) = &config.store {
        if config.state_keys.is_none() && std::env::var_os(crate::input::STATE_KEYS_VAR).is_none() {
            tracing::warn!(
                "sessions are in a shared store but request states are sealed with a random \
                 key of this process: set `HttpConfig::request_state_keys` or {} to the same \
                 ring on every replica",
                crate::input::STATE_KEYS_VAR
            );
        }
        return Sessions::in_store(store.attach(config.sessions, config.life.stopped.clone()));
    }
    Sessions::memory(config.sessions)
}

/// The `traceparent` and `tracestate` headers of a request, when they are text.
pub(crate) fn trace_headers(headers: &HeaderMap) -> (Option<&str>, Option<&str>) {
    (
        header_str(headers, &TRACEPARENT),
        header_str(headers, &TRACESTATE),
    )
}

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// A header's value as trimmed text, when it is text.
pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}
