//! A test issuer: serves authorization server metadata and a JWKS on 127.0.0.1 and mints
//! RS256 access tokens, so a protected server can be exercised without an identity
//! provider. Enabled by the `testing` feature; meant for tests only (its key is public).
//!
//! In a crate's `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! mcp-runtime = { version = "0.1", features = ["testing"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! axum = "0.8"
//! reqwest = { version = "0.12", features = ["json"] }
//! serde_json = "1"
//! ```
//!
//! A test that starts the issuer and the server on free ports, calls a tool as 2026-07-28
//! clients do, and checks what a reader, a caller without a token and a forged token get:
//!
//! ```no_run
//! use mcp_runtime::prelude::*;
//! use mcp_runtime::testing::TestIssuer;
//! use serde_json::{Value, json};
//!
//! struct Notes;
//!
//! #[mcp_server(oauth(scopes = ["notes:read", "notes:write"], required = ["notes:read"]))]
//! impl Notes {
//!     /// Adds a note.
//!     #[tool(scopes = ["notes:write"])]
//!     fn add_note(&self, caller: Auth, title: String) -> String {
//!         format!("{} added {title}", caller.subject())
//!     }
//! }
//!
//! /// A 2026-07-28 `tools/call`, with the MCP headers and `token` when given.
//! fn call(url: &str, tool: &str, args: &Value, token: Option<&str>) -> reqwest::RequestBuilder {
//!     let meta = json!({
//!         "io.modelcontextprotocol/protocolVersion": "2026-07-28",
//!         "io.modelcontextprotocol/clientCapabilities": {}
//!     });
//!     let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
//!         "params": {"name": tool, "arguments": args, "_meta": meta}});
//!     let request = reqwest::Client::new()
//!         .post(url)
//!         .header("accept", "application/json, text/event-stream")
//!         .header("mcp-protocol-version", "2026-07-28")
//!         .header("mcp-method", "tools/call")
//!         .header("mcp-name", tool)
//!         .json(&body);
//!     match token {
//!         Some(token) => request.bearer_auth(token),
//!         None => request,
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // (in a `#[tokio::test] async fn`)
//! let issuer = TestIssuer::start().await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("http://{}/mcp", listener.local_addr()?);
//! let config = OAuthConfig::builder()
//!     .resource(&url)
//!     .authorization_server(issuer.url())
//!     .build()
//!     .await?;
//! let app = Notes.router(config);
//! tokio::spawn(async move { axum::serve(listener, app).await });
//!
//! let writer = issuer
//!     .token()
//!     .subject("alice")
//!     .audience(&url)
//!     .scopes(["notes:read", "notes:write"])
//!     .sign();
//! let args = json!({"title": "groceries"});
//! let resp = call(&url, "add_note", &args, Some(&writer)).send().await?;
//! assert_eq!(resp.status(), 200);
//! let body: Value = resp.json().await?;
//! assert_eq!(body["result"]["content"][0]["text"], "alice added groceries");
//!
//! // No token: 401 with the challenge that leads a client to the authorization server.
//! let resp = call(&url, "add_note", &args, None).send().await?;
//! assert_eq!(resp.status(), 401);
//! assert!(resp.headers()["www-authenticate"].to_str()?.contains("resource_metadata="));
//!
//! // A reader's token: 403 naming the missing scope, and the tool does not run.
//! let reader = issuer.token().subject("bob").audience(&url).scopes(["notes:read"]).sign();
//! let resp = call(&url, "add_note", &args, Some(&reader)).send().await?;
//! assert_eq!(resp.status(), 403);
//! assert!(resp.headers()["www-authenticate"].to_str()?.contains("notes:write"));
//!
//! // Forged tokens: 401 `invalid_token`.
//! for forged in [
//!     issuer.token().subject("alice").audience(&url).signed_by_attacker().sign(),
//!     issuer.token().subject("alice").audience(&url).expires_in(-3600).sign(),
//!     issuer.token().subject("alice").audience(&url).unsigned(),
//!     issuer.token().subject("alice").audience(&url).hs256_with_public_key(),
//! ] {
//!     let resp = call(&url, "add_note", &args, Some(&forged)).send().await?;
//!     assert_eq!(resp.status(), 401);
//!     assert!(resp.headers()["www-authenticate"].to_str()?.contains("invalid_token"));
//! }
//! # Ok(()) }
//! ```
//!
//! The token builder also forges `.kid("…")`, `.issuer("…")`, `.not_before_in(3600)` and
//! `.without("claim")`; [`TestIssuer::rotate_keys`], [`TestIssuer::stop`] and
//! [`TestIssuer::restart`] test key rotation and an identity provider that is down, and
//! `.opaque()` with [`TestIssuer::introspection_endpoint`] an introspected token.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

const ISSUER_KEY: &str = include_str!("issuer.pem");
const ISSUER_N: &str = include_str!("issuer.n");
const SECOND_KEY: &str = include_str!("attacker.pem");
const SECOND_N: &str = include_str!("attacker.n");
const DPOP_KEY: (&str, &str) = (include_str!("dpop.pem"), include_str!("dpop.xy"));
const DPOP_OTHER_KEY: (&str, &str) = (
    include_str!("dpop-other.pem"),
    include_str!("dpop-other.xy"),
);
/// The `kid` of the test issuer's signing key.
pub const KEY_ID: &str = "mcp-runtime-test-key";
/// The `kid` of the key the issuer adds when it rotates its keys.
pub const ROTATED_KEY_ID: &str = "mcp-runtime-test-key-2";
/// The client id the resource server authenticates to the introspection endpoint with.
pub const INTROSPECTION_CLIENT_ID: &str = "mcp-resource-server";
/// Its secret (HTTP Basic).
pub const INTROSPECTION_CLIENT_SECRET: &str = "test-secret";

/// An authorization server stand-in on 127.0.0.1; it stops when dropped.
///
/// Besides metadata and a JWKS it serves `/introspect` (RFC 7662) for the opaque tokens it
/// issued, and it can rotate its keys and count JWKS fetches, so caching can be tested.
#[derive(Debug)]
pub struct TestIssuer {
    url: String,
    addr: std::net::SocketAddr,
    state: Arc<State>,
    /// Ends the serving and every connection, when stopped.
    serving: Mutex<tokio_util::sync::CancellationToken>,
}

#[derive(Debug, Default)]
struct State {
    jwks_fetches: AtomicUsize,
    introspections: AtomicUsize,
    rotated: AtomicBool,
    opaque: Mutex<HashMap<String, Value>>,
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        lock(&self.serving).cancel();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Serves `app` on `listener` until `stop`, closing every connection then.
fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    stop: tokio_util::sync::CancellationToken,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                () = stop.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => continue,
                },
            };
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let mut app = app.clone();
                        tower_service::Service::call(&mut app, req.map(axum::body::Body::new))
                    },
                );
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    () = stop.cancelled() => {}
                    _ = connection => {}
                }
            });
        }
    });
}

impl TestIssuer {
    /// Starts serving `/.well-known/oauth-authorization-server` and `/jwks` on a free port.
    ///
    /// # Errors
    ///
    /// When no port on 127.0.0.1 can be bound.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let issuer = Self {
            url: format!("http://{addr}"),
            addr,
            state: Arc::new(State::default()),
            serving: Mutex::default(),
        };
        serve(listener, issuer.app(), lock(&issuer.serving).clone());
        Ok(issuer)
    }

    fn app(&self) -> axum::Router {
        let url = &self.url;
        let metadata = json!({
            "issuer": url,
            "jwks_uri": format!("{url}/jwks"),
            "authorization_endpoint": format!("{url}/authorize"),
            "token_endpoint": format!("{url}/token"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        });
        axum::Router::new()
            .route(
                "/.well-known/oauth-authorization-server",
                axum::routing::get(move || async move { axum::Json(metadata) }),
            )
            .route("/jwks", axum::routing::get(jwks))
            .route("/introspect", axum::routing::post(introspect))
            .with_state(Arc::clone(&self.state))
    }

    /// Stops answering, as an identity provider in an outage: its port refuses
    /// connections and the open ones close. [`restart`](Self::restart) brings it back.
    pub fn stop(&self) {
        lock(&self.serving).cancel();
    }

    /// Serves again on the same port, with the same keys, after [`stop`](Self::stop).
    ///
    /// # Errors
    ///
    /// When the port cannot be bound again.
    pub async fn restart(&self) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        let stop = tokio_util::sync::CancellationToken::new();
        *lock(&self.serving) = stop.clone();
        serve(listener, self.app(), stop);
        Ok(())
    }

    /// Adds a second signing key ([`ROTATED_KEY_ID`]) to the JWKS, as an issuer does when it
    /// rotates keys; sign with it through [`TokenBuilder::rotated_key`].
    pub fn rotate_keys(&self) {
        self.state.rotated.store(true, Ordering::SeqCst);
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many introspection requests arrived.
    pub fn introspections(&self) -> usize {
        self.state.introspections.load(Ordering::SeqCst)
    }

    /// The introspection endpoint (RFC 7662); authenticate with
    /// [`INTROSPECTION_CLIENT_ID`] and [`INTROSPECTION_CLIENT_SECRET`].
    pub fn introspection_endpoint(&self) -> String {
        format!("{}/introspect", self.url)
    }

    /// The issuer identifier (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A token signed by this issuer: subject `test-user`, valid for an hour, no audience
    /// and no scopes until set.
    pub fn token(&self) -> TokenBuilder {
        let now = unix_now();
        let mut claims = Map::new();
        claims.insert("iss".into(), self.url.clone().into());
        claims.insert("sub".into(), "test-user".into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + 3600).into());
        claims.insert(
            "jti".into(),
            format!("{now}-{}", rand::random::<u64>()).into(),
        );
        TokenBuilder {
            claims,
            kid: Some(KEY_ID.into()),
            key: ISSUER_KEY,
            state: Arc::clone(&self.state),
        }
    }
}

async fn jwks(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let mut keys = vec![json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY_ID, "n": ISSUER_N.trim(), "e": "AQAB"
    })];
    if state.rotated.load(Ordering::SeqCst) {
        keys.push(json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": ROTATED_KEY_ID, "n": SECOND_N.trim(), "e": "AQAB"
        }));
    }
    // What an identity provider says of how long its keys keep.
    let mut response = axum::Json(json!({ "keys": keys })).into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// RFC 7662: active with the token's claims, or `{"active": false}`; 401 for an
/// unauthenticated caller.
async fn introspect(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    headers: axum::http::HeaderMap,
    axum::extract::Form(form): axum::extract::Form<HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    state.introspections.fetch_add(1, Ordering::SeqCst);
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{INTROSPECTION_CLIENT_ID}:{INTROSPECTION_CLIENT_SECRET}"
        ))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    }
    let claims = form.get("token").and_then(|t| {
        state
            .opaque
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(t)
            .cloned()
    });
    let answer = match claims {
        Some(Value::Object(mut claims)) => {
            let live = claims
                .get("exp")
                .and_then(Value::as_u64)
                .is_none_or(|exp| exp > unix_now());
            claims.insert("active".into(), live.into());
            if live {
                Value::Object(claims)
            } else {
                json!({"active": false})
            }
        }
        _ => json!({"active": false}),
    };
    axum::Json(answer).into_response()
}

/// Builds and signs one access token; see [`TestIssuer::token`].
#[derive(Debug, Clone)]
#[must_use]
pub struct TokenBuilder {
    claims: Map<String, Value>,
    kid: Option<String>,
    key: &'static str,
    state: Arc<State>,
}

impl TokenBuilder {
    /// `sub`.
    pub fn subject(self, subject: &str) -> Self {
        self.claim("sub", subject.into())
    }

    /// `scope`, space-separated.
    pub fn scopes<'a>(self, scopes: impl IntoIterator<Item = &'a str>) -> Self {
        let scope = scopes.into_iter().collect::<Vec<_>>().join(" ");
        self.claim("scope", scope.into())
    }

    /// `aud`.
    pub fn audience(self, audience: &str) -> Self {
        self.claim("aud", audience.into())
    }

    /// `iss` (to forge one from elsewhere).
    pub fn issuer(self, issuer: &str) -> Self {
        self.claim("iss", issuer.into())
    }

    /// `exp` this far from now; negative offsets give expired tokens.
    pub fn expires_in(self, seconds: i64) -> Self {
        let exp = unix_now().cast_signed() + seconds;
        self.claim("exp", exp.into())
    }

    /// `nbf` this far from now.
    pub fn not_before_in(self, seconds: i64) -> Self {
        let nbf = unix_now().cast_signed() + seconds;
        self.claim("nbf", nbf.into())
    }

    /// Drops a claim (for instance `exp`).
    pub fn without(mut self, claim: &str) -> Self {
        self.claims.remove(claim);
        self
    }

    /// Sets any claim.
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    /// The `kid` header (to name a key the JWKS does not have).
    pub fn kid(mut self, kid: &str) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Signs with a key that is not in the issuer's JWKS, keeping its `kid`.
    pub fn signed_by_attacker(mut self) -> Self {
        self.key = SECOND_KEY;
        self
    }

    /// Signs with the key [`TestIssuer::rotate_keys`] adds, under its `kid`.
    pub fn rotated_key(mut self) -> Self {
        self.key = SECOND_KEY;
        self.kid = Some(ROTATED_KEY_ID.into());
        self
    }

    /// An opaque token (not a JWT) that the issuer's introspection endpoint knows, with
    /// these claims.
    pub fn opaque(self) -> String {
        let token = format!("opaque-{:032x}", rand::random::<u128>());
        self.opaque_as(&token)
    }

    /// The opaque token `token`, which the issuer's introspection endpoint then knows with
    /// these claims: a fixed value, for fixtures whose clients send tokens they were told.
    pub fn opaque_as(self, token: &str) -> String {
        self.state
            .opaque
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(token.to_owned(), Value::Object(self.claims));
        token.to_owned()
    }

    /// Binds the token to `key` (RFC 9449 §6: `cnf.jkt`, the key's thumbprint): it is then
    /// accepted only with a DPoP proof signed by that key.
    pub fn bound_to(self, key: &DpopKey) -> Self {
        self.claim("cnf", json!({ "jkt": key.thumbprint() }))
    }

    /// The signed token.
    ///
    /// # Panics
    ///
    /// Never with the embedded keys.
    pub fn sign(self) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("at+jwt".into());
        header.kid = self.kid;
        let key =
            EncodingKey::from_rsa_pem(self.key.as_bytes()).expect("the embedded test key is valid");
        crate::transport::http::oauth::backend::ready();
        jsonwebtoken::encode(&header, &self.claims, &key).expect("signing with the test key works")
    }

    /// The token with `alg: none` and no signature, which a resource server must refuse.
    pub fn unsigned(self) -> String {
        let header = json!({"alg": "none", "typ": "at+jwt", "kid": self.kid});
        format!("{}.{}.", b64(&header), b64(&Value::Object(self.claims)))
    }

    /// The token signed with HS256, using the issuer's public key as the HMAC secret: the
    /// classic algorithm-confusion forgery, which a resource server must refuse.
    ///
    /// # Panics
    ///
    /// Never: any bytes are a valid HMAC secret.
    pub fn hs256_with_public_key(self) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = self.kid;
        let public = format!(
            "{{\"kty\":\"RSA\",\"n\":\"{}\",\"e\":\"AQAB\"}}",
            ISSUER_N.trim()
        );
        let key = EncodingKey::from_secret(public.as_bytes());
        crate::transport::http::oauth::backend::ready();
        jsonwebtoken::encode(&header, &self.claims, &key).expect("HMAC signing works")
    }
}

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// A client's DPoP key (ES256, one of two embedded test keys): it signs proofs
/// ([`DpopKey::proof`]), and [`TokenBuilder::bound_to`] binds tokens to it.
///
/// ```
/// use mcp_runtime::testing::DpopKey;
///
/// let key = DpopKey::new();
/// let proof = key.proof("POST", "http://127.0.0.1:8080/mcp", "the-access-token").sign();
/// assert_eq!(proof.split('.').count(), 3);
/// assert_ne!(key.thumbprint(), DpopKey::other().thumbprint());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct DpopKey {
    pem: &'static str,
    xy: &'static str,
}

impl Default for DpopKey {
    fn default() -> Self {
        Self::new()
    }
}

impl DpopKey {
    /// The first key.
    pub fn new() -> Self {
        Self {
            pem: DPOP_KEY.0,
            xy: DPOP_KEY.1,
        }
    }

    /// Another key, for a proof signed by someone else than the token's holder.
    pub fn other() -> Self {
        Self {
            pem: DPOP_OTHER_KEY.0,
            xy: DPOP_OTHER_KEY.1,
        }
    }

    /// The public key, as a JWK.
    pub fn jwk(&self) -> Value {
        let (x, y) = self.xy.trim().split_once(' ').unwrap_or_default();
        json!({"kty": "EC", "crv": "P-256", "x": x, "y": y})
    }

    /// Its RFC 7638 thumbprint, what a bound token's `cnf.jkt` names.
    ///
    /// # Panics
    ///
    /// Never with the embedded keys.
    pub fn thumbprint(&self) -> String {
        crate::transport::http::oauth::thumbprint(&self.jwk()).expect("the embedded key is public")
    }

    /// A proof for a request with `method` to `url` presenting `token`: `typ: dpop+jwt`,
    /// ES256, this key as `jwk`, and `htm`, `htu`, `iat` (now), a random `jti` and `ath`.
    pub fn proof(&self, method: &str, url: &str, token: &str) -> ProofBuilder {
        use sha2::Digest as _;
        let ath = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(token.as_bytes()));
        let claims = json!({
            "htm": method,
            "htu": url,
            "iat": unix_now(),
            "jti": format!("{:032x}", rand::random::<u128>()),
            "ath": ath,
        });
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()});
        ProofBuilder {
            key: *self,
            header: header.as_object().cloned().unwrap_or_default(),
            claims: claims.as_object().cloned().unwrap_or_default(),
        }
    }
}

/// Builds and signs one DPoP proof; see [`DpopKey::proof`]. Its setters forge the proofs
/// a resource server must refuse.
#[derive(Debug, Clone)]
#[must_use]
pub struct ProofBuilder {
    key: DpopKey,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl ProofBuilder {
    /// Sets any claim (`htm`, `htu`, `jti`, …).
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    /// Drops a claim (for instance `ath`).
    pub fn without(mut self, claim: &str) -> Self {
        self.claims.remove(claim);
        self
    }

    /// Sets a header member (`typ`, `jwk`, …).
    pub fn header(mut self, name: &str, value: Value) -> Self {
        self.header.insert(name.into(), value);
        self
    }

    /// `iat` this far from now; negative offsets give stale proofs.
    pub fn issued_in(self, seconds: i64) -> Self {
        let iat = unix_now().cast_signed() + seconds;
        self.claim("iat", iat.into())
    }

    /// Signed by `key`, keeping the `jwk` header of the key the proof was started with.
    pub fn signed_by(mut self, key: DpopKey) -> Self {
        self.key = key;
        self
    }

    /// The signed proof (ES256 unless `alg` was changed to `none` or an HMAC algorithm,
    /// which sign with nothing or with the public key as the secret).
    ///
    /// # Panics
    ///
    /// Never with the embedded keys.
    pub fn sign(self) -> String {
        let alg = self
            .header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or("ES256");
        let input = format!(
            "{}.{}",
            b64(&Value::Object(self.header.clone())),
            b64(&Value::Object(self.claims))
        );
        crate::transport::http::oauth::backend::ready();
        let signature = match alg {
            "none" => String::new(),
            "HS256" => {
                let secret = EncodingKey::from_secret(self.key.jwk().to_string().as_bytes());
                jsonwebtoken::crypto::sign(input.as_bytes(), &secret, Algorithm::HS256)
                    .expect("HMAC signing works")
            }
            _ => {
                let key = EncodingKey::from_ec_pem(self.key.pem.as_bytes())
                    .expect("the embedded key is valid");
                jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::ES256)
                    .expect("signing with the embedded key works")
            }
        };
        format!("{input}.{signature}")
    }
}
