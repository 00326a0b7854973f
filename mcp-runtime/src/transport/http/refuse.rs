//! The refusals that need nothing but the request head, made before a token is verified or
//! a byte of the body is read: the method, the media types, the declared body size.
//!
//! | what | answer |
//! |---|---|
//! | `GET` or `DELETE` where no session can exist (a stateless server, or a 2026-07-28 request without a session) | 405 with `Allow: POST` |
//! | `POST` whose `Accept` lacks `application/json` or `text/event-stream`; `GET` whose `Accept` lacks `text/event-stream` | 406 |
//! | `POST` whose `Content-Type` is not `application/json` | 415 |
//! | `POST` whose `Content-Length` exceeds the body limit | 413 (a body that grows past it unannounced is cut at the limit when read) |

use std::task::{Context, Poll};

use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::Response;
use tower_layer::Layer;
use tower_service::Service;

use super::error::{CheckFuture, NO_SESSIONS, Refusal, forward_unless};
use super::{HttpConfig, header_str};
use crate::headers::{MCP_PROTOCOL_VERSION, MCP_SESSION_ID};

/// Refuses what an MCP endpoint cannot serve from the request head alone.
#[derive(Debug, Clone, Copy)]
pub struct RefuseLayer {
    body_limit: usize,
    stateless: bool,
}

impl RefuseLayer {
    /// With the body limit of `config`; `stateless` when the server keeps no sessions.
    pub fn new(config: &HttpConfig, stateless: bool) -> Self {
        Self {
            body_limit: config.body_limit,
            stateless,
        }
    }
}

impl<S> Layer<S> for RefuseLayer {
    type Service = Refuse<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Refuse {
            inner,
            layer: *self,
        }
    }
}

/// The service of [`RefuseLayer`].
#[derive(Debug, Clone)]
pub struct Refuse<S> {
    inner: S,
    layer: RefuseLayer,
}

impl<S, B> Service<Request<B>> for Refuse<S>
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
        let checked = check(self.layer, req.method(), req.headers());
        forward_unless(&mut self.inner, req, checked)
    }
}

fn check(layer: RefuseLayer, method: &Method, headers: &HeaderMap) -> Result<(), Refusal> {
    if *method == Method::POST {
        let accepted = accepts(headers);
        if !accepted.json || !accepted.sse {
            return Err(Refusal::new(
                StatusCode::NOT_ACCEPTABLE,
                "`Accept` must list both `application/json` and `text/event-stream`",
            ));
        }
        if !is_json(headers) {
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "`Content-Type` must be `application/json`",
            ));
        }
        let declared = header_str(headers, &header::CONTENT_LENGTH).and_then(|v| v.parse().ok());
        if declared.is_some_and(|n: u64| n > layer.body_limit as u64) {
            return Err(Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body is larger than the endpoint accepts",
            ));
        }
        return Ok(());
    }
    if *method == Method::GET || *method == Method::DELETE {
        if layer.stateless || !headers.contains_key(MCP_SESSION_ID) && is_modern_header(headers) {
            return Err(NO_SESSIONS);
        }
        if *method == Method::GET && !accepts(headers).sse {
            return Err(Refusal::new(
                StatusCode::NOT_ACCEPTABLE,
                "`Accept` must list `text/event-stream`",
            ));
        }
    }
    Ok(())
}

fn is_modern_header(headers: &HeaderMap) -> bool {
    header_str(
        headers,
        &MCP_PROTOCOL_VERSION.parse().expect("a valid header name"),
    )
    .is_some_and(|v| crate::protocol::modern_version(v).is_some())
}

/// Which of the two media types of an MCP endpoint `Accept` admits.
#[derive(Debug, PartialEq, Eq)]
struct Accepted {
    json: bool,
    sse: bool,
}

/// Reads `Accept` once, without allocating; wildcards count, case does not.
fn accepts(headers: &HeaderMap) -> Accepted {
    let mut accepted = Accepted {
        json: false,
        sse: false,
    };
    let ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','));
    for range in ranges {
        // The media range is what comes before any parameter, without whitespace.
        let range = range.split(|&b| b == b';').next().unwrap_or_default();
        let range = range.trim_ascii();
        let is = |media: &[u8]| range.eq_ignore_ascii_case(media);
        accepted.json |= is(b"application/json") || is(b"application/*") || is(b"*/*");
        accepted.sse |= is(b"text/event-stream") || is(b"text/*") || is(b"*/*");
    }
    accepted
}

fn is_json(headers: &HeaderMap) -> bool {
    header_str(headers, &header::CONTENT_TYPE)
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use axum::response::IntoResponse as _;
    use tower::ServiceExt as _;

    fn accepted(values: &[&str]) -> (bool, bool) {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        }
        let a = accepts(&headers);
        (a.json, a.sse)
    }

    #[test]
    fn accept_is_read_with_wildcards_parameters_and_any_case() {
        assert_eq!(
            accepted(&["application/json, text/event-stream"]),
            (true, true)
        );
        assert_eq!(
            accepted(&["Application/JSON;q=0.9", " TEXT/Event-Stream "]),
            (true, true)
        );
        assert_eq!(accepted(&["*/*"]), (true, true));
        assert_eq!(accepted(&["application/*"]), (true, false));
        assert_eq!(accepted(&["text/*;q=1, application/xml"]), (false, true));
        assert_eq!(accepted(&["application/jsonx, text/event"]), (false, false));
        assert_eq!(accepted(&["*/json"]), (false, false));
        assert_eq!(accepted(&[]), (false, false));
    }

    async fn status(stateless: bool, req: axum::http::request::Builder) -> StatusCode {
        let layer = RefuseLayer::new(&HttpConfig::new().body_limit(100), stateless);
        let service = layer.layer(tower::service_fn(|_: Request<()>| async {
            Ok::<_, std::convert::Infallible>(StatusCode::OK.into_response())
        }));
        service
            .oneshot(req.body(()).unwrap())
            .await
            .unwrap()
            .status()
    }

    fn post() -> axum::http::request::Builder {
        Request::post("/mcp")
            .header(header::ACCEPT, "application/json, text/event-stream")
            .header(header::CONTENT_TYPE, "application/json")
    }

    #[tokio::test]
    async fn each_refusal_has_its_status() {
        assert_eq!(status(false, post()).await, StatusCode::OK);
        let json_only = Request::post("/mcp")
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/json");
        assert_eq!(status(false, json_only).await, StatusCode::NOT_ACCEPTABLE);
        let text = Request::post("/mcp")
            .header(header::ACCEPT, "*/*")
            .header(header::CONTENT_TYPE, "text/plain");
        assert_eq!(
            status(false, text).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        assert_eq!(
            status(false, post().header(header::CONTENT_LENGTH, "101")).await,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            status(false, post().header(header::CONTENT_LENGTH, "100")).await,
            StatusCode::OK
        );
        let get = || Request::get("/mcp").header(header::ACCEPT, "text/event-stream");
        assert_eq!(status(false, get()).await, StatusCode::OK);
        assert_eq!(status(true, get()).await, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            status(false, get().header("mcp-protocol-version", "2026-07-28")).await,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            status(
                false,
                Request::get("/mcp").header(header::ACCEPT, "application/json")
            )
            .await,
            StatusCode::NOT_ACCEPTABLE
        );
        assert_eq!(
            status(true, Request::delete("/mcp")).await,
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}
