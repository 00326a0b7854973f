//! CORS for browser clients, applied where a browser is involved.
//!
//! Browsers may send the MCP and auth headers and read the session id and the challenge;
//! only allowed origins get an answer. A `POST` or `DELETE` without `Origin` comes from a
//! client that is not a browser (a browser sends `Origin` on every cross-origin and every
//! `POST` request), and such responses are never cached, so those requests skip the CORS
//! work. Every other request, the metadata documents included (cacheable, so they say
//! they vary by origin), goes through it.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{HeaderName, Method, Request, Response, header};
use futures_util::future::Either;
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};
use tower_layer::Layer;
use tower_service::Service;

use super::HttpConfig;
use crate::server::ServerDescriptor;

/// The CORS layer of the endpoint: the MCP headers and the `Mcp-Param-*` headers that the
/// server's tools declare may be sent.
pub(super) fn layer(config: &HttpConfig, desc: &'static ServerDescriptor) -> BrowserCorsLayer {
    let config = config.clone();
    let mut allowed = vec![
        header::AUTHORIZATION,
        header::CONTENT_TYPE,
        header::ACCEPT,
        HeaderName::from_static("mcp-session-id"),
        HeaderName::from_static("mcp-protocol-version"),
        HeaderName::from_static("last-event-id"),
        HeaderName::from_static("mcp-method"),
        HeaderName::from_static("mcp-name"),
    ];
    for mirrored in desc.tools.iter().flat_map(|t| t.headers) {
        let name = HeaderName::from_static(mirrored.key);
        if !allowed.contains(&name) {
            allowed.push(name);
        }
    }
    BrowserCorsLayer(
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, _| {
                origin.to_str().is_ok_and(|o| config.origin_allowed(o))
            }))
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers(allowed)
            .expose_headers([
                HeaderName::from_static("mcp-session-id"),
                header::WWW_AUTHENTICATE,
                // Not safelisted: a browser client would not see when to retry a 429 or 503.
                header::RETRY_AFTER,
            ])
            .max_age(std::time::Duration::from_hours(1)),
    )
}

#[derive(Clone)]
pub(super) struct BrowserCorsLayer(CorsLayer);

impl<S> Layer<S> for BrowserCorsLayer {
    type Service = BrowserCors<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BrowserCors {
            inner,
            cors: Arc::new(self.0.clone()),
        }
    }
}

/// The inner service, reached through CORS unless the request is a non-browser `POST` or
/// `DELETE`. Cloned for every request (as axum does with routes), so the CORS settings are
/// shared rather than copied.
#[derive(Clone)]
pub(super) struct BrowserCors<S> {
    inner: S,
    cors: Arc<CorsLayer>,
}

impl<S, B, ResBody> Service<Request<B>> for BrowserCors<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Either<tower_http::cors::ResponseFuture<S::Future>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let skips = matches!(*req.method(), Method::POST | Method::DELETE)
            && !req.headers().contains_key(header::ORIGIN);
        if skips {
            return Either::Right(self.inner.call(req));
        }
        // The service made ready by `poll_ready` takes the request; a clone stays.
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        let mut cors: Cors<S> = self.cors.layer(ready);
        Either::Left(cors.call(req))
    }
}
