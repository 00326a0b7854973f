//! An OAuth 2.1 authorization server for development, in the process: try a protected
//! server with a real sign-in and real signed tokens before any identity provider is set
//! up. Enabled by the `dev-auth` feature. **Not for production**: it keeps everything in
//! memory, its users and passwords are whatever the program configures, and it binds to
//! loopback addresses only.
//!
//! What it implements, enough for every MCP client to run the whole discovery flow:
//!
//! - authorization server metadata (RFC 8414) and OpenID discovery, a JWK Set;
//! - the authorization code grant with PKCE (`S256`, required), resource indicators
//!   (RFC 8707: `aud` is the requested resource), refresh tokens for `offline_access`
//!   (rotated on use);
//! - RS256 JWT access tokens (RFC 9068, `typ: at+jwt`) with the granted scopes and the
//!   user's claims;
//! - dynamic client registration (RFC 7591) and client ID metadata documents (an `https`,
//!   or loopback `http`, URL as `client_id`, read and checked);
//! - token exchange (RFC 8693) for the clients it is configured with, as a server calling
//!   a downstream API on its caller's behalf does;
//! - DPoP (RFC 9449): a token request with a `DPoP` proof gets an access token bound to the
//!   proof's key (`cnf.jkt`, `token_type: DPoP`), and a public client's refresh token is
//!   bound to it too;
//! - a sign-in and consent page (plain HTML, no external assets), or, for tests and CI,
//!   [`auto_login`](DevAuthBuilder::auto_login): a configured user signed in and consenting
//!   without a page.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_runtime::OAuthConfig;
//! use mcp_runtime::dev_auth::{DevAuthServer, DevUser};
//!
//! let dev = DevAuthServer::builder()
//!     .scopes(["notes:read", "notes:write"])
//!     .user(DevUser::new("alice", "alice").claim("roles", serde_json::json!(["editor"])))
//!     .start()
//!     .await?;
//! let config = OAuthConfig::builder()
//!     .resource("http://127.0.0.1:3002/mcp")
//!     .authorization_server(dev.issuer())
//!     .build()
//!     .await?;
//! # let _ = config; Ok(()) }
//! ```

mod authorize;
mod clients;
mod keys;
mod token;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use clients::{Client, Clients};

use crate::transport::http::oauth::{Dpop, DpopCheck};

/// A user who can sign in.
#[derive(Clone, Debug)]
pub struct DevUser {
    username: String,
    password: String,
    claims: Map<String, Value>,
    scopes: Option<Vec<String>>,
}

impl DevUser {
    /// A user signing in with `username` and `password`; tokens name them as `sub` and
    /// `preferred_username`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        let username = username.into();
        let mut claims = Map::new();
        claims.insert("preferred_username".into(), username.clone().into());
        Self {
            username,
            password: password.into(),
            claims,
            scopes: None,
        }
    }

    /// A claim every token of the user carries (`roles`, `email`, …).
    #[must_use]
    pub fn claim(mut self, name: impl Into<String>, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    /// The scopes the user may be granted (all the server's scopes unless set): asking
    /// for more grants only these.
    #[must_use]
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The user's name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The user's password.
    pub fn password(&self) -> &str {
        &self.password
    }

    fn may_have(&self, scope: &str) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|scopes| scopes.iter().any(|s| s == scope))
    }
}

/// Why the development authorization server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevAuthError {
    /// Only a loopback address may be bound: the server is for development.
    #[error(
        "the development authorization server binds to loopback addresses only, not {0}; \
         use 127.0.0.1 or [::1], and a real identity provider anywhere else"
    )]
    NotLoopback(SocketAddr),
    /// The address could not be bound.
    #[error("cannot bind the development authorization server to {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// No signing key could be made.
    #[error("{0}")]
    Key(String),
}

/// Configures a [`DevAuthServer`]; from [`DevAuthServer::builder`].
#[derive(Debug)]
#[must_use]
pub struct DevAuthBuilder {
    bind: SocketAddr,
    scopes: Vec<String>,
    users: Vec<DevUser>,
    auto_login: Option<String>,
    clients: Vec<(String, String)>,
    token_ttl: Duration,
}

impl DevAuthBuilder {
    /// The address to listen on (default `127.0.0.1:0`, a free port); loopback only.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// The scopes the server grants; a request for any other is refused
    /// (`invalid_scope`).
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A user who can sign in.
    pub fn user(mut self, user: DevUser) -> Self {
        self.users.push(user);
        self
    }

    /// Signs `username` in and consents for them without showing a page: an
    /// authorization request is answered at once with a redirect carrying the code. For
    /// tests and CI, where no person is at a browser.
    pub fn auto_login(mut self, username: impl Into<String>) -> Self {
        self.auto_login = Some(username.into());
        self
    }

    /// A confidential client authenticating with `secret` (HTTP Basic or the form): the one
    /// a resource server exchanges tokens with. Only such clients may exchange tokens, not
    /// those that registered themselves.
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.clients.push((id.into(), secret.into()));
        self
    }

    /// How long access tokens live (default 10 minutes).
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Generates the signing key, binds and serves until the server is dropped.
    ///
    /// # Errors
    ///
    /// [`DevAuthError::NotLoopback`] for an address that is not loopback; binding and key
    /// failures otherwise.
    pub async fn start(self) -> Result<DevAuthServer, DevAuthError> {
        if !self.bind.ip().is_loopback() {
            return Err(DevAuthError::NotLoopback(self.bind));
        }
        let listener = tokio::net::TcpListener::bind(self.bind)
            .await
            .map_err(|source| DevAuthError::Bind {
                addr: self.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| DevAuthError::Bind {
            addr: self.bind,
            source,
        })?;
        let key = tokio::task::spawn_blocking(keys::SigningKey::generate)
            .await
            .map_err(|e| DevAuthError::Key(e.to_string()))?
            .map_err(DevAuthError::Key)?;
        let issuer = format!("http://{addr}");
        let mut clients = Clients::default();
        for (id, secret) in self.clients {
            clients.configure(Client {
                id,
                secret: Some(secret),
                redirect_uris: Vec::new(),
                name: None,
                configured: true,
            });
        }
        let fetch = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| DevAuthError::Key(e.to_string()))?;
        let token_endpoint = url::Url::parse(&format!("{issuer}/token"))
            .map_err(|e| DevAuthError::Key(e.to_string()))?;
        let dpop = DpopCheck::new(Dpop::accept(), &token_endpoint, Duration::from_secs(5));
        let dev = Arc::new(Dev {
            dpop,
            issuer: issuer.clone(),
            key,
            scopes: self.scopes,
            users: self.users,
            auto_login: self.auto_login,
            token_ttl: self.token_ttl,
            clients: Mutex::new(clients),
            grants: Mutex::default(),
            fetch,
        });
        // Browser-based clients (the MCP Inspector among them) read the metadata, register
        // and redeem codes from their page's origin; no cookie is involved.
        let cors = tower_http::cors::CorsLayer::new()
            .allow_origin(tower_http::cors::Any)
            .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
            .allow_headers(tower_http::cors::AllowHeaders::mirror_request())
            .max_age(Duration::from_hours(1));
        let api = axum::Router::new()
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .route("/.well-known/openid-configuration", get(metadata))
            .route("/jwks", get(jwks))
            .route("/token", post(token::token))
            .route("/register", post(clients::register))
            .layer(cors);
        let app = axum::Router::new()
            .route("/authorize", get(authorize::ask).post(authorize::answer))
            .merge(api)
            .layer(DefaultBodyLimit::max(64 * 1024))
            .with_state(Arc::clone(&dev));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        tracing::warn!(
            issuer = %issuer,
            "DEVELOPMENT authorization server: in-memory, configured passwords, loopback only; \
             never use it in production"
        );
        Ok(DevAuthServer { issuer, dev, task })
    }
}

/// The running development authorization server; it stops when dropped.
#[derive(Debug)]
pub struct DevAuthServer {
    issuer: String,
    dev: Arc<Dev>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DevAuthServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DevAuthServer {
    /// A server on a free loopback port, with no users or scopes until added.
    pub fn builder() -> DevAuthBuilder {
        DevAuthBuilder {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            scopes: Vec::new(),
            users: Vec::new(),
            auto_login: None,
            clients: Vec::new(),
            token_ttl: Duration::from_mins(10),
        }
    }

    /// The issuer identifier, `http://127.0.0.1:<port>`: give it to
    /// [`authorization_server`](crate::transport::http::oauth::OAuthConfigBuilder::authorization_server)
    /// of [`OAuthConfig::builder`](crate::OAuthConfig::builder).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The authorization endpoint, where a browser signs in.
    pub fn authorization_endpoint(&self) -> String {
        format!("{}/authorize", self.issuer)
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.issuer)
    }

    /// The users who can sign in.
    pub fn users(&self) -> &[DevUser] {
        &self.dev.users
    }
}

/// What the server holds.
struct Dev {
    issuer: String,
    key: keys::SigningKey,
    scopes: Vec<String>,
    users: Vec<DevUser>,
    auto_login: Option<String>,
    token_ttl: Duration,
    clients: Mutex<Clients>,
    grants: Mutex<token::Grants>,
    /// Reads client ID metadata documents: five seconds, no redirects.
    fetch: reqwest::Client,
    /// Checks the DPoP proofs of token requests, and remembers them to refuse replays.
    dpop: DpopCheck,
}

impl std::fmt::Debug for Dev {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dev")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Dev {
    fn user(&self, username: &str) -> Option<&DevUser> {
        self.users.iter().find(|u| u.username == username)
    }
}

async fn metadata(State(dev): State<Arc<Dev>>) -> Json<Value> {
    let i = &dev.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "registration_endpoint": format!("{i}/register"),
        "jwks_uri": format!("{i}/jwks"),
        "scopes_supported": dev
            .scopes
            .iter()
            .map(String::as_str)
            .chain([token::OFFLINE_ACCESS])
            .collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            token::TOKEN_EXCHANGE,
        ],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "client_id_metadata_document_supported": true,
        "authorization_response_iss_parameter_supported": true,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "dpop_signing_alg_values_supported": dev.dpop.algs.split(' ').collect::<Vec<_>>(),
    }))
}

async fn jwks(State(dev): State<Arc<Dev>>) -> Json<Value> {
    Json(dev.key.jwks())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// 128 random bits, hex.
fn random_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// The scopes of a space-separated `scope` parameter, each once, in order.
fn scope_list(scope: Option<&str>) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for s in scope
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        if !scopes.iter().any(|t| t == s) {
            scopes.push(s.to_owned());
        }
    }
    scopes
}

/// Query or form fields, each named once.
type Params = HashMap<String, String>;

/// The longest value of a parameter read.
const MAX_PARAM: usize = 2048;

/// The fields of a query or form: refused when one is repeated (RFC 6749, section 3.1) or
/// longer than [`MAX_PARAM`] bytes.
fn params(encoded: &[u8]) -> Result<Params, String> {
    let mut params = Params::new();
    for (name, value) in url::form_urlencoded::parse(encoded) {
        if value.len() > MAX_PARAM {
            return Err(format!("`{name}` is longer than {MAX_PARAM} bytes"));
        }
        if params
            .insert(name.to_string(), value.into_owned())
            .is_some()
        {
            return Err(format!("`{name}` is given more than once"));
        }
    }
    Ok(params)
}
