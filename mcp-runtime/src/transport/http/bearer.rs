//! Bearer authentication (RFC 6750 §2.1): present in the router of a server declared with
//! `oauth`, and only there, so whether a request is authenticated follows from the server's
//! type. A token in the `Authorization` header is verified on every request (never one in
//! the query string or body); the verified caller travels on to the endpoint as a request
//! extension.
//!
//! | what | answer |
//! |---|---|
//! | no `Authorization`, or another scheme | 401, challenge without an error code |
//! | `Bearer` with nothing after it, or two `Authorization` headers | 400 `invalid_request` |
//! | a token outside the RFC 6750 `b64token` grammar, or one that fails verification | 401 `invalid_token` |
//! | a token without a scope the server requires of every request | 403 `insufficient_scope` |
//! | a token not verified before, from a peer that spent its budget of failed checks | 429 with `Retry-After`, no signature check, sent after [`HOLD`] |
//!
//! A token verified before is answered from the cache, whatever the peer's budget. The
//! JSON-RPC error body keeps the request's `id` when the body is small enough to hold it in
//! [`ID_PREFIX`] bytes and arrives within the body timeout; otherwise the `id` is `null`. No
//! more of an unauthenticated body is ever read.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use tower_layer::Layer;
use tower_service::Service;

use super::error::rpc_error;
use super::oauth::verifier::Rejected;
use super::oauth::verifier::now;
use super::oauth::{
    AuthSettings, Challenge, ProofRefused, bound_to, challenge_header, dpop_challenge,
};
use crate::auth::Principal;
use crate::protocol::{ErrorCode, Message, RequestId, RpcError};
use crate::telemetry::{AuthOutcome, Operation, Outcome, Recorder, Via};

/// The verified caller of a request, put in its extensions by [`BearerLayer`].
#[derive(Clone)]
pub(crate) struct Caller {
    pub(crate) principal: Arc<Principal>,
    /// Where a scope challenge sends the client.
    pub(crate) auth: Arc<AuthSettings>,
    /// Whether the token came with a DPoP proof.
    pub(crate) dpop: bool,
}

impl Caller {
    /// The 403 of a call that needs `needed`, with the JSON-RPC `error`.
    #[cold]
    pub(crate) fn insufficient_scope(
        &self,
        id: Option<&RequestId>,
        needed: &[&str],
        error: &RpcError,
    ) -> Response {
        Denied::new(
            &self.auth,
            Challenge::InsufficientScope,
            needed,
            error.clone(),
            self.dpop,
        )
        .into_response(id)
    }
}

/// How long a 429 for spent failed checks is held before it is sent, at least and at
/// most: a client looping on tokens that fail then slows itself down, instead of taking
/// the server's time from valid callers at the rate it is answered.
pub(crate) const HOLD: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(1));

/// The most bytes of an unauthenticated body read to find the request's `id`.
pub(crate) const ID_PREFIX: usize = 8 * 1024;

/// Authenticates every request with a bearer token.
#[derive(Clone)]
pub(crate) struct BearerLayer {
    auth: Arc<AuthSettings>,
    body_timeout: Duration,
    recorder: Arc<Recorder>,
}

impl BearerLayer {
    pub(crate) fn new(auth: AuthSettings, body_timeout: Duration, recorder: Arc<Recorder>) -> Self {
        Self {
            auth: Arc::new(auth),
            body_timeout,
            recorder,
        }
    }
}

impl<S> Layer<S> for BearerLayer {
    type Service = Bearer<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Bearer {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`BearerLayer`].
#[derive(Clone)]
pub(crate) struct Bearer<S> {
    inner: S,
    layer: BearerLayer,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<Request<Body>> for Bearer<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        // The service made ready by `poll_ready` takes the request; a clone stays.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let address = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0);
            let peer = address.map(|a| a.ip());
            match authenticate(&layer.auth, req.method(), req.headers(), peer).await {
                Ok((principal, dpop)) => {
                    layer.recorder.auth(AuthOutcome::Ok);
                    req.extensions_mut().insert(Caller {
                        principal,
                        auth: layer.auth,
                        dpop,
                    });
                    inner.call(req).await
                }
                Err(denied) => {
                    layer.recorder.auth(denied.outcome);
                    // The challenge keeps the request id when the body can be read.
                    let (traceparent, tracestate) = super::trace_headers(req.headers());
                    let (traceparent, tracestate) = (
                        traceparent.map(str::to_owned),
                        tracestate.map(str::to_owned),
                    );
                    let message = if req.method() == Method::POST {
                        read_message(req, layer.body_timeout).await
                    } else {
                        None
                    };
                    let mut operation = message.as_ref().map_or(Operation::NONE, |m| {
                        let via = Via {
                            http: true,
                            peer: address,
                            trace_headers: (traceparent.as_deref(), tracestate.as_deref()),
                        };
                        Operation::start(&layer.recorder, m, via)
                    });
                    if denied.outcome == AuthOutcome::InsufficientScope {
                        operation.forbidden(denied.principal.as_deref(), layer.auth.required);
                    }
                    operation.finish(Outcome::Denied(denied.outcome, &denied.error));
                    let id = message.as_ref().and_then(Message::request_id);
                    // Only a client's own failures are held; an outage is not its fault.
                    if let Some(wait) = denied.wait
                        && denied.status == StatusCode::TOO_MANY_REQUESTS
                    {
                        tokio::time::sleep(wait.clamp(HOLD.0, HOLD.1)).await;
                    }
                    Ok(denied.into_response(id))
                }
            }
        })
    }
}

/// The JSON-RPC message of `req`, if its whole body fits in [`ID_PREFIX`] bytes and
/// arrives within `timeout`.
async fn read_message(req: Request<Body>, timeout: Duration) -> Option<Message> {
    use http_body_util::BodyExt as _;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > ID_PREFIX as u64) {
        return None;
    }
    let read = http_body_util::Limited::new(req.into_body(), ID_PREFIX).collect();
    let bytes = tokio::time::timeout(timeout, read)
        .await
        .ok()?
        .ok()?
        .to_bytes();
    Message::parse(&bytes).ok()
}

/// A refused request: status, challenge (or `Retry-After` seconds) and JSON-RPC error.
pub(crate) struct Denied {
    outcome: AuthOutcome,
    /// The caller, when its token was valid but lacks a required scope.
    principal: Option<Arc<Principal>>,
    status: StatusCode,
    challenge: String,
    /// A second challenge, `DPoP …`, beside a `Bearer` one.
    dpop_challenge: Option<String>,
    /// How long the peer must wait, for a 429.
    wait: Option<Duration>,
    error: RpcError,
}

impl Denied {
    /// A refusal of `kind`, for a request that presented its token with a DPoP proof when
    /// `dpop`: a server that requires DPoP challenges with `DPoP` only, one that accepts it
    /// with `Bearer` and `DPoP`, the error code in the challenge of the scheme it concerns.
    #[cold]
    fn new(
        auth: &AuthSettings,
        kind: Challenge,
        scopes: &[&str],
        error: RpcError,
        dpop: bool,
    ) -> Self {
        let (status, outcome) = match kind {
            Challenge::Missing => (StatusCode::UNAUTHORIZED, AuthOutcome::Missing),
            Challenge::InvalidToken | Challenge::InvalidDpopProof => {
                (StatusCode::UNAUTHORIZED, AuthOutcome::Invalid)
            }
            Challenge::InvalidRequest => (StatusCode::BAD_REQUEST, AuthOutcome::Malformed),
            Challenge::InsufficientScope => (StatusCode::FORBIDDEN, AuthOutcome::InsufficientScope),
        };
        let metadata = &auth.config.metadata_url;
        let (challenge, dpop_challenge) = match &auth.config.dpop {
            None => (challenge_header(kind, metadata, scopes), None),
            Some(check) if check.settings.required => {
                (dpop_challenge(kind, metadata, scopes, &check.algs), None)
            }
            Some(check) if dpop || kind == Challenge::InvalidDpopProof => (
                challenge_header(Challenge::Missing, metadata, scopes),
                Some(dpop_challenge(kind, metadata, scopes, &check.algs)),
            ),
            Some(check) => (
                challenge_header(kind, metadata, scopes),
                Some(dpop_challenge(
                    Challenge::Missing,
                    metadata,
                    scopes,
                    &check.algs,
                )),
            ),
        };
        Self {
            outcome,
            principal: None,
            status,
            challenge,
            dpop_challenge,
            wait: None,
            error,
        }
    }

    /// 429: the peer spent its budget of failed token checks.
    #[cold]
    fn throttled(wait: Duration) -> Self {
        Self {
            outcome: AuthOutcome::Throttled,
            principal: None,
            status: StatusCode::TOO_MANY_REQUESTS,
            challenge: String::new(),
            dpop_challenge: None,
            wait: Some(wait),
            error: RpcError::new(
                ErrorCode::InvalidRequest,
                "too many failed token checks from this client; retry later",
            ),
        }
    }

    /// 503: the token cannot be checked while the authorization server cannot be asked.
    /// Not a 401: a client would throw a good token away.
    #[cold]
    fn unavailable(wait: Duration) -> Self {
        Self::busy(
            wait,
            "the access token cannot be checked now (the authorization server does not \
             answer); retry later with the same token",
        )
    }

    /// 503 for a request that cannot be checked now, saying why.
    #[cold]
    fn busy(wait: Duration, message: &str) -> Self {
        Self {
            outcome: AuthOutcome::IdpUnavailable,
            principal: None,
            status: StatusCode::SERVICE_UNAVAILABLE,
            challenge: String::new(),
            dpop_challenge: None,
            wait: Some(wait.max(Duration::from_secs(1))),
            error: RpcError::new(ErrorCode::InternalError, message),
        }
    }

    #[cold]
    fn into_response(self, id: Option<&RequestId>) -> Response {
        let mut response = rpc_error(self.status, id, &self.error);
        if let Some(wait) = self.wait {
            // Whole seconds, rounded up.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        } else {
            for challenge in std::iter::once(&self.challenge).chain(&self.dpop_challenge) {
                if let Ok(value) = HeaderValue::from_str(challenge) {
                    response
                        .headers_mut()
                        .append(header::WWW_AUTHENTICATE, value);
                }
            }
        }
        response
    }
}

/// How the `Authorization` header presents a token.
#[derive(Debug, PartialEq, Eq)]
enum Presented<'a> {
    /// No bearer credential at all.
    Nothing,
    /// `Bearer` with no token, or more than one header: a malformed request.
    Malformed,
    /// Something that is not a token (outside RFC 6750's `b64token`): an invalid token.
    NotAToken,
    /// A token to verify, and whether its scheme is `DPoP` rather than `Bearer`.
    Token(&'a str, bool),
}

/// The characters of RFC 6750's `b64token` (RFC 7235's token68) before its trailing `=`s.
const TOKEN68: [bool; 256] = {
    let mut table = [false; 256];
    let mut c: u8 = 0;
    loop {
        table[c as usize] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        if c == u8::MAX {
            break table;
        }
        c += 1;
    }
};

/// RFC 6750 §2.1: `Authorization: Bearer <b64token>`, or RFC 9449 §7.1's `DPoP
/// <b64token>`; the scheme is case-insensitive.
fn presented(headers: &HeaderMap) -> Presented<'_> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return if headers.contains_key(header::AUTHORIZATION) {
            Presented::Malformed
        } else {
            Presented::Nothing
        };
    };
    let raw = value.as_bytes();
    let (scheme, rest) = match raw.iter().position(|&b| b == b' ') {
        Some(at) => (&raw[..at], &raw[at + 1..]),
        None => (raw, &b""[..]),
    };
    let dpop = scheme.eq_ignore_ascii_case(b"dpop");
    if !dpop && !scheme.eq_ignore_ascii_case(b"bearer") {
        return Presented::Nothing;
    }
    let token = rest.trim_ascii();
    if token.is_empty() {
        return Presented::Malformed;
    }
    let body = token.strip_suffix(b"=").map_or(token, |t| {
        let mut t = t;
        while let Some(shorter) = t.strip_suffix(b"=") {
            t = shorter;
        }
        t
    });
    let valid = !body.is_empty() && body.iter().all(|&b| TOKEN68[usize::from(b)]);
    match std::str::from_utf8(token) {
        Ok(token) if valid => Presented::Token(token, dpop),
        _ => Presented::NotAToken,
    }
}

/// Verifies the request's token (with its DPoP proof, when presented with one) and the
/// scopes the server requires of every request: the caller, and whether it proved a key.
async fn authenticate(
    auth: &AuthSettings,
    method: &Method,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Result<(Arc<Principal>, bool), Denied> {
    let presented = presented(headers);
    let (token, dpop) = match presented {
        // `DPoP` is another scheme for a server that does not take it.
        Presented::Token(_, true) if auth.config.dpop.is_none() => ("", false),
        Presented::Token(token, dpop) => (token, dpop),
        _ => ("", false),
    };
    let refuse = |kind, message: &str| {
        let e = RpcError::new(ErrorCode::InvalidRequest, message);
        Denied::new(auth, kind, auth.required, e, dpop)
    };
    match presented {
        Presented::Token(..) if !token.is_empty() => {}
        Presented::Malformed => {
            return Err(refuse(
                Challenge::InvalidRequest,
                "malformed `Authorization` header",
            ));
        }
        Presented::NotAToken => {
            tracing::debug!("access token refused: not a bearer token");
            return Err(refuse(Challenge::InvalidToken, "invalid access token"));
        }
        _ => return Err(refuse(Challenge::Missing, "authorization required")),
    }
    let proof = match &auth.config.dpop {
        Some(check) if dpop => {
            let mut values = headers.get_all("dpop").iter();
            let (Some(value), None) = (values.next(), values.next()) else {
                tracing::debug!("access token refused: not exactly one DPoP proof");
                return Err(refuse(
                    Challenge::InvalidDpopProof,
                    "a DPoP-bound token needs exactly one `DPoP` proof header",
                ));
            };
            let checked = value
                .to_str()
                .map_err(|_| ProofRefused::Invalid("not text"))
                .and_then(|proof| check.check(proof, method.as_str(), Some(token), now()));
            match checked {
                Ok(proof) => Some(proof),
                Err(why) => {
                    tracing::debug!(reason = ?why, "DPoP proof refused");
                    return Err(refuse(Challenge::InvalidDpopProof, "invalid DPoP proof"));
                }
            }
        }
        Some(check) if check.settings.required => {
            tracing::debug!("access token refused: presented without a DPoP proof");
            return Err(refuse(
                Challenge::InvalidToken,
                "this server accepts only DPoP-bound access tokens, sent as \
                 `Authorization: DPoP <token>` with a `DPoP` proof",
            ));
        }
        _ => None,
    };
    // Boxed: verification (with its key refresh) stays out of the request's future.
    let verified = auth
        .config
        .verifier
        .verify(token, &auth.config.audiences, peer);
    let principal = Box::pin(verified).await.map_err(|why| match why {
        Rejected::Invalid(why) => {
            tracing::debug!(reason = why.0, "access token refused");
            refuse(Challenge::InvalidToken, "invalid access token")
        }
        Rejected::Throttled(wait) => {
            tracing::debug!(?peer, "failed token checks throttled");
            Denied::throttled(wait)
        }
        Rejected::Unavailable(wait) => Denied::unavailable(wait),
    })?;
    match (bound_to(&principal.claims), &proof) {
        (Some(key), Some(proof)) if key == proof.thumbprint => {}
        (None, None) => {}
        (Some(_), Some(_)) => {
            tracing::debug!("DPoP proof refused: signed with another key than the token's");
            return Err(refuse(Challenge::InvalidDpopProof, "invalid DPoP proof"));
        }
        (Some(_), None) => {
            tracing::debug!("access token refused: bound to a key, presented as a bearer token");
            return Err(refuse(
                Challenge::InvalidToken,
                "this access token is bound to a key: send it as `Authorization: DPoP <token>` \
                 with a `DPoP` proof",
            ));
        }
        (None, Some(_)) => {
            tracing::debug!("access token refused: presented with DPoP but bound to no key");
            return Err(refuse(
                Challenge::InvalidToken,
                "this access token is not bound to a key",
            ));
        }
    }
    if let Some(missing) = auth.required.iter().find(|s| !principal.has_scope(s)) {
        tracing::debug!(scope = %missing, "token lacks a required scope");
        let e = RpcError::new(ErrorCode::InsufficientScope, "insufficient scope");
        let mut denied = Denied::new(auth, Challenge::InsufficientScope, auth.required, e, dpop);
        denied.principal = Some(principal);
        return Err(denied);
    }
    // Last: only a proof that would have been accepted uses up its `jti`.
    if let (Some(check), Some(proof)) = (&auth.config.dpop, &proof) {
        match check.first_use(proof, now()).await {
            Ok(()) => {}
            Err(ProofRefused::Full) => {
                return Err(Denied::busy(
                    Duration::from_secs(1),
                    "too many DPoP proofs within their lifetime to tell a replay; retry shortly",
                ));
            }
            Err(ProofRefused::Down) => {
                return Err(Denied::busy(
                    Duration::from_secs(1),
                    "the DPoP proof cannot be checked for replay now; retry shortly",
                ));
            }
            Err(ProofRefused::Invalid(why)) => {
                tracing::debug!(reason = why, "DPoP proof refused");
                return Err(refuse(Challenge::InvalidDpopProof, "invalid DPoP proof"));
            }
        }
    }
    Ok((principal, dpop))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        headers
    }

    #[test]
    fn only_an_empty_credential_or_two_headers_are_malformed_requests() {
        assert_eq!(presented(&with(&[])), Presented::Nothing);
        assert_eq!(presented(&with(&[b"Basic YTpi"])), Presented::Nothing);
        assert_eq!(presented(&with(&[b"Bearer"])), Presented::Malformed);
        assert_eq!(presented(&with(&[b"Bearer   "])), Presented::Malformed);
        assert_eq!(
            presented(&with(&[b"Bearer a", b"Bearer b"])),
            Presented::Malformed
        );
        assert_eq!(
            presented(&with(&[b"bearer abc.def-_~+/=="])),
            Presented::Token("abc.def-_~+/==", false)
        );
        assert_eq!(
            presented(&with(&[b"Bearer  abc "])),
            Presented::Token("abc", false)
        );
        assert_eq!(
            presented(&with(&[b"dpop abc"])),
            Presented::Token("abc", true)
        );
    }

    #[test]
    fn what_is_not_a_b64token_is_an_invalid_token() {
        for bad in [
            &b"Bearer abc.def.ghi%%"[..],
            "Bearer tok\u{e9}n".as_bytes(),
            b"Bearer a b",
            b"Bearer ==",
            b"Bearer a=b",
        ] {
            assert_eq!(presented(&with(&[bad])), Presented::NotAToken, "{bad:?}");
        }
    }
}
