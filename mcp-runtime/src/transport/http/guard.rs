//! DNS-rebinding protection (2025-11-25 transports, security warning): the `Host` must be one
//! this endpoint serves, and a browser's `Origin`, when present, must be allowed. Refused
//! with 403 before anything else is read.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use tower_layer::Layer;
use tower_service::Service;

use super::HttpConfig;
use super::error::{CheckFuture, Refusal, forward_unless};

/// Refuses requests whose `Host` or `Origin` the [`HttpConfig`] does not allow (403).
#[derive(Debug, Clone)]
pub struct HostOriginLayer {
    config: Arc<HttpConfig>,
}

impl HostOriginLayer {
    /// Checks against the hosts and origins of `config` (loopback names always pass).
    pub fn new(config: &HttpConfig) -> Self {
        Self {
            config: Arc::new(config.clone()),
        }
    }
}

impl<S> Layer<S> for HostOriginLayer {
    type Service = HostOrigin<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HostOrigin {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// The service of [`HostOriginLayer`].
#[derive(Debug, Clone)]
pub struct HostOrigin<S> {
    inner: S,
    config: Arc<HttpConfig>,
}

impl<S, B> Service<Request<B>> for HostOrigin<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = CheckFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let checked = check(&self.config, &req);
        forward_unless(&mut self.inner, req, checked)
    }
}

fn check<B>(config: &HttpConfig, req: &Request<B>) -> Result<(), Refusal> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| {
            req.uri()
                .authority()
                .map(axum::http::uri::Authority::as_str)
        });
    if !host.is_some_and(|h| config.host_allowed(h)) {
        return Err(Refusal::new(StatusCode::FORBIDDEN, "host not allowed"));
    }
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| config.origin_allowed(o))
    {
        return Err(Refusal::new(StatusCode::FORBIDDEN, "origin not allowed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse as _;
    use tower::ServiceExt as _;

    async fn status(host: &str, origin: Option<&str>) -> StatusCode {
        let service = HostOriginLayer::new(&HttpConfig::new().allow_host("mcp.example.com")).layer(
            tower::service_fn(|_: Request<()>| async {
                Ok::<_, std::convert::Infallible>(StatusCode::OK.into_response())
            }),
        );
        let mut req = Request::builder().uri("/mcp").header(header::HOST, host);
        if let Some(origin) = origin {
            req = req.header(header::ORIGIN, origin);
        }
        service
            .oneshot(req.body(()).unwrap())
            .await
            .unwrap()
            .status()
    }

    #[tokio::test]
    async fn hosts_and_origins_not_served_are_refused() {
        assert_eq!(status("localhost:3000", None).await, StatusCode::OK);
        assert_eq!(status("mcp.example.com", None).await, StatusCode::OK);
        assert_eq!(
            status("evil.example.com", None).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status("localhost", Some("http://localhost:6274")).await,
            StatusCode::OK
        );
        assert_eq!(
            status("localhost", Some("https://evil.example.com")).await,
            StatusCode::FORBIDDEN
        );
    }
}
