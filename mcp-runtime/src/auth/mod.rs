//! OAuth 2.1 resource-server authorization for servers declared with
//! `#[mcp_server(oauth(scopes = [..]))]`.
//!
//! Every HTTP request must carry a bearer token in the `Authorization` header (never the
//! query string or body); it is verified on every request, stateless or not. A request
//! without one gets 401 with `WWW-Authenticate: Bearer resource_metadata="…", scope="…"`; a
//! bad one adds `error="invalid_token"` (RFC 6750 §3.1: only when a token was presented).
//! A token that lacks a tool's scopes gets 403 `error="insufficient_scope"` naming every
//! scope the call needs, before the tool runs. The protected resource metadata (RFC 9728)
//! is served at the well-known routes derived from the resource URL.

mod challenge;
mod config;
pub(crate) use config::Inner as ConfigInner;
mod metadata;
pub(crate) mod verifier;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub(crate) use challenge::{Challenge, challenge_header};
pub use config::{ConfigError, OAuthConfig, OAuthConfigBuilder};
pub(crate) use metadata::protected_resource_metadata;

use crate::protocol::RpcError;
use crate::server::RequestContext;
use crate::server::inject::{DeclaresOAuth, FromCaller};

/// The verified caller of a request: who, with which scopes, from which issuer.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// `sub`.
    pub subject: String,
    /// `iss`.
    pub issuer: String,
    /// The granted scopes (`scope`, or `scp` as Entra and Okta write it).
    pub scopes: Vec<String>,
    /// `exp`, in seconds since the Unix epoch.
    pub expires_at: Option<u64>,
    /// `client_id` (or `azp`), when the token names the client.
    pub client_id: Option<String>,
    /// Every claim of the token (or of the introspection answer).
    pub claims: Value,
}

impl Principal {
    pub(crate) fn from_claims(claims: Value) -> Option<Self> {
        let subject = claims.get("sub")?.as_str()?.to_owned();
        let issuer = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let scopes = match claims.get("scope").or_else(|| claims.get("scp")) {
            Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let expires_at = claims.get("exp").and_then(Value::as_u64);
        let client_id = claims
            .get("client_id")
            .or_else(|| claims.get("azp"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some(Self {
            subject,
            issuer,
            scopes,
            expires_at,
            client_id,
            claims,
        })
    }

    /// Whether the token grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// The caller of a tool, injected by type on servers declared with `oauth`; `C` receives
/// the token's claims (roles, username, tenant, …).
///
/// ```no_run
/// use mcp_runtime::prelude::*;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Claims {
///     preferred_username: String,
///     #[serde(default)]
///     roles: Vec<String>,
/// }
///
/// struct Notes;
///
/// #[mcp_server(oauth(scopes = ["notes:read"]))]
/// impl Notes {
///     /// Says who is calling.
///     #[tool]
///     fn whoami(&self, caller: Auth<Claims>) -> String {
///         format!("{} ({}) {:?}", caller.subject(), caller.claims().preferred_username, caller.claims().roles)
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Auth<C = Value> {
    principal: Arc<Principal>,
    claims: C,
}

impl<C> Auth<C> {
    /// `sub`.
    pub fn subject(&self) -> &str {
        &self.principal.subject
    }

    /// `iss`.
    pub fn issuer(&self) -> &str {
        &self.principal.issuer
    }

    /// The granted scopes.
    pub fn scopes(&self) -> &[String] {
        &self.principal.scopes
    }

    /// Whether the token grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.principal.has_scope(scope)
    }

    /// `exp`, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> Option<u64> {
        self.principal.expires_at
    }

    /// The claims, read into `C`.
    pub fn claims(&self) -> &C {
        &self.claims
    }

    /// The verified principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
}

/// Claims types that `Auth<C>` can read from a token.
#[diagnostic::on_unimplemented(
    message = "`Auth<{Self}>` cannot read the token's claims into `{Self}`",
    label = "the claims type needs `Deserialize`",
    note = "derive `serde::Deserialize` for it, or use `Auth` for the claims as JSON"
)]
pub trait AuthClaims: Sized + Send + Sync + 'static {
    /// Reads the claims.
    #[doc(hidden)]
    fn from_claims(claims: &Value) -> Result<Self, String>;
}

#[diagnostic::do_not_recommend]
impl<C: DeserializeOwned + Send + Sync + 'static> AuthClaims for C {
    fn from_claims(claims: &Value) -> Result<Self, String> {
        C::deserialize(claims).map_err(|e| e.to_string())
    }
}

impl<S: DeclaresOAuth, C: AuthClaims> FromCaller<S> for Auth<C> {
    fn from_context(ctx: &RequestContext) -> Result<Self, RpcError> {
        let principal = ctx.principal().cloned().ok_or_else(|| {
            RpcError::new(
                crate::protocol::ErrorCode::InternalError,
                "no verified caller",
            )
        })?;
        let claims = C::from_claims(&principal.claims).map_err(|e| {
            tracing::warn!(error = %e, "token claims do not fit the tool's claims type");
            RpcError::new(
                crate::protocol::ErrorCode::InvalidRequest,
                "the access token lacks claims this tool needs",
            )
        })?;
        Ok(Self { principal, claims })
    }
}

/// Marks a server declared with `oauth`: it is served only with an [`OAuthConfig`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not declared with `oauth`, so an `OAuthConfig` has nothing to protect",
    label = "this server takes an `HttpConfig`",
    note = "declare the server with `#[mcp_server(oauth(scopes = [..]))]`, or serve it with `HttpConfig::new()`"
)]
pub trait Protected: crate::server::McpServer {
    /// Scopes every request needs.
    #[doc(hidden)]
    const REQUIRED_SCOPES: &'static [&'static str];
    /// Scopes the server declares (`scopes_supported`).
    #[doc(hidden)]
    const SCOPES: &'static [&'static str];
}
