//! A test issuer: serves authorization server metadata and a JWKS on 127.0.0.1 and mints
//! RS256 access tokens, so a protected server can be exercised without an identity
//! provider. Enabled by the `testing` feature; meant for tests only (its key is public).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_runtime::OAuthConfig;
//! use mcp_runtime::testing::TestIssuer;
//!
//! let issuer = TestIssuer::start().await?;
//! let config = OAuthConfig::builder()
//!     .resource("http://127.0.0.1:3000/mcp")
//!     .authorization_server(issuer.url())
//!     .build()
//!     .await?;
//! let token = issuer
//!     .token()
//!     .subject("alice")
//!     .scopes(["notes:read", "notes:write"])
//!     .audience("http://127.0.0.1:3000/mcp")
//!     .claim("roles", serde_json::json!(["editor"]))
//!     .sign();
//! # let _ = (config, token); Ok(()) }
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

const ISSUER_KEY: &str = include_str!("issuer.pem");
const ISSUER_N: &str = include_str!("issuer.n");
const ATTACKER_KEY: &str = include_str!("attacker.pem");
/// The `kid` of the test issuer's signing key.
pub const KEY_ID: &str = "mcp-runtime-test-key";

/// An authorization server stand-in on 127.0.0.1; it stops when dropped.
#[derive(Debug)]
pub struct TestIssuer {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestIssuer {
    /// Starts serving `/.well-known/oauth-authorization-server` and `/jwks` on a free port.
    ///
    /// # Errors
    ///
    /// When no port on 127.0.0.1 can be bound.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let metadata = json!({
            "issuer": url,
            "jwks_uri": format!("{url}/jwks"),
            "authorization_endpoint": format!("{url}/authorize"),
            "token_endpoint": format!("{url}/token"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        });
        let jwks = json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY_ID, "n": ISSUER_N.trim(), "e": "AQAB"
        }]});
        let app = axum::Router::new()
            .route(
                "/.well-known/oauth-authorization-server",
                axum::routing::get(move || async move { axum::Json(metadata) }),
            )
            .route(
                "/jwks",
                axum::routing::get(move || async move { axum::Json(jwks) }),
            );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, task })
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
        }
    }
}

/// Builds and signs one access token; see [`TestIssuer::token`].
#[derive(Debug, Clone)]
#[must_use]
pub struct TokenBuilder {
    claims: Map<String, Value>,
    kid: Option<String>,
    key: &'static str,
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
        self.key = ATTACKER_KEY;
        self
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
