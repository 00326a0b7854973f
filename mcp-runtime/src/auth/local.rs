//! [`LocalCaller`]: the identity a server runs as where no token can arrive.

use serde_json::{Map, Value};

use super::Principal;

/// The caller of a server served over a transport without bearer tokens (stdio), with the
/// scopes it is granted.
///
/// MCP lets a local server take its credentials from its environment. A server declared
/// with `oauth` is served over stdio only as an explicit local identity, and every request
/// is checked against that identity's scopes exactly as a verified token's would be: a
/// tool needing a scope the identity lacks answers `insufficient scope`.
///
/// ```no_run
/// use mcp_runtime::auth::LocalCaller;
/// use mcp_runtime::prelude::*;
///
/// struct Notes;
///
/// #[mcp_server(oauth(scopes = ["notes:read", "notes:write"]))]
/// impl Notes {
///     /// Says who is calling.
///     #[tool(scopes = ["notes:read"])]
///     fn whoami(&self, caller: Auth) -> String {
///         caller.subject().to_owned()
///     }
/// }
///
/// # async fn run() -> Result<(), mcp_runtime::ServeError> {
/// let user = std::env::var("USER").unwrap_or_else(|_| "local".into());
/// Notes.serve_stdio_as(LocalCaller::new(user).scopes(["notes:read"])).await
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LocalCaller {
    subject: String,
    scopes: Vec<String>,
    claims: Map<String, Value>,
}

/// The issuer of a local identity, as `Auth::issuer` reports it.
pub(super) const LOCAL_ISSUER: &str = "local";

impl LocalCaller {
    /// A local identity named `subject`, with no scopes.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            scopes: Vec::new(),
            claims: Map::new(),
        }
    }

    /// Grants `scopes` (added to those already granted).
    #[must_use]
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Adds a claim that `Auth<C>` reads into its claims type (`sub`, `iss` and `scope`
    /// are set from the identity and cannot be overridden).
    #[must_use]
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.claims.insert(name.into(), value.into());
        self
    }

    /// The principal every request runs as, read from the identity's claims as a token's
    /// would be: `sub` is the subject, `iss` is `local`, `scope` the granted scopes.
    pub fn into_principal(self) -> Principal {
        let mut claims = self.claims;
        claims.insert("sub".into(), self.subject.into());
        claims.insert("iss".into(), LOCAL_ISSUER.into());
        claims.insert("scope".into(), self.scopes.join(" ").into());
        let claims = Value::Object(claims);
        Principal::from_claims(claims.clone()).unwrap_or_else(|| Principal {
            subject: String::new(),
            issuer: LOCAL_ISSUER.into(),
            scopes: Vec::new(),
            roles: Vec::new(),
            expires_at: None,
            client_id: None,
            claims,
            delegation: super::Delegation::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_caller_is_a_principal_with_its_scopes_and_claims() {
        let p = LocalCaller::new("alice")
            .scopes(["notes:read"])
            .claim("role", "admin")
            .claim("sub", "mallory")
            .into_principal();
        assert_eq!(p.subject, "alice");
        assert_eq!(p.issuer, "local");
        assert!(p.has_scope("notes:read") && !p.has_scope("notes:write"));
        assert_eq!(p.claims["sub"], "alice");
        assert_eq!(p.claims["role"], "admin");
        assert_eq!(p.claims["scope"], "notes:read");
    }
}
