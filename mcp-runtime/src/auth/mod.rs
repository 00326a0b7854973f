//! Who is calling: the verified [`Principal`] of a request, the [`Auth`] parameter that hands
//! it to a tool, and the [`LocalCaller`] a local transport runs as.
//!
//! Nothing here does I/O or knows a transport. Over Streamable HTTP the principal comes from
//! a bearer token verified by [`OAuthConfig`](crate::OAuthConfig) (see
//! [`transport::http`](crate::transport::http)); over stdio, which has no tokens (MCP: a
//! stdio server takes its credentials from its environment), from the `LocalCaller` the
//! server is started with. Either way the same scope checks apply.

mod delegation;
mod local;
mod profile;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

#[cfg_attr(not(feature = "http"), allow(unused_imports))]
pub(crate) use delegation::{Delegation, Exchange};
pub use delegation::{ExchangeError, ExchangedToken};
pub use local::LocalCaller;
#[cfg_attr(not(feature = "http"), allow(unused_imports))]
pub(crate) use profile::Audience;
pub use profile::IdpProfile;

/// The verified caller of a request: who, with which scopes, from which issuer.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// `sub`.
    pub subject: String,
    /// `iss`.
    pub issuer: String,
    /// The granted scopes, from the claims the [`IdpProfile`] names (`scope` and `scp` by
    /// default).
    pub scopes: Vec<String>,
    /// The roles, from the claims the [`IdpProfile`] names (`roles` by default).
    pub roles: Vec<String>,
    /// `exp`, in seconds since the Unix epoch.
    pub expires_at: Option<u64>,
    /// `client_id` (or `azp`), when the token names the client.
    pub client_id: Option<String>,
    /// Every claim of the token (or of the introspection answer).
    pub claims: Value,
    /// The token itself, for token exchange only.
    pub(crate) delegation: Delegation,
}

impl Principal {
    pub(crate) fn from_claims(claims: Value) -> Option<Self> {
        Self::read(claims, &IdpProfile::generic())
    }

    /// The principal of a token's claims, its scopes and roles where `profile` says.
    pub(crate) fn read(claims: Value, profile: &IdpProfile) -> Option<Self> {
        let subject = claims.get("sub")?.as_str()?.to_owned();
        let issuer = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let scopes = profile.scopes_of(&claims);
        let roles = profile.roles_of(&claims);
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
            roles,
            expires_at,
            client_id,
            claims,
            delegation: Delegation::default(),
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

impl<C: AuthClaims> Auth<C> {
    /// The caller `principal`, with its claims read into `C`.
    pub(crate) fn read(principal: Arc<Principal>) -> Result<Self, String> {
        let claims = C::from_claims(&principal.claims)?;
        Ok(Self { principal, claims })
    }
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

    /// The caller's roles, where the server's [`IdpProfile`] says the token carries them.
    pub fn roles(&self) -> &[String] {
        &self.principal.roles
    }

    /// Whether the caller has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.principal.roles.iter().any(|r| r == role)
    }

    /// A token for the downstream API `target` (its URL, or the name the authorization
    /// server knows it by) with `scopes`, on the caller's behalf: RFC 8693 token exchange at
    /// the authorization server's token endpoint, with the server's own client
    /// credentials ([`token_exchange`](crate::oauth::OAuthConfigBuilder::token_exchange)).
    /// The caller's own token is never sent anywhere else: passing it through is what the
    /// MCP specification forbids. A token is reused for the same caller, target and scopes
    /// until shortly before it expires.
    ///
    /// ```no_run
    /// use mcp_runtime::prelude::*;
    ///
    /// struct Notes;
    ///
    /// #[mcp_server(oauth(scopes = ["notes:read"]))]
    /// impl Notes {
    ///     /// The caller's next meeting, from the calendar API.
    ///     #[tool]
    ///     async fn next_meeting(&self, caller: Auth) -> Result<String, ToolError> {
    ///         let token = caller
    ///             .exchange("https://calendar.example.com/api", &["calendar:read"])
    ///             .await?;
    ///         // GET https://calendar.example.com/api/next with `token.authorization()`
    ///         # let _ = token;
    ///         Ok("…".into())
    ///     }
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ExchangeError`]: not configured, no token (a local caller), refused by the
    /// authorization server (with its error code), or the server unreachable.
    pub async fn exchange(
        &self,
        target: &str,
        scopes: &[&str],
    ) -> Result<ExchangedToken, ExchangeError> {
        if self.principal.issuer == local::LOCAL_ISSUER {
            return Err(ExchangeError::NoToken);
        }
        self.principal.delegation.exchange(target, scopes).await
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
