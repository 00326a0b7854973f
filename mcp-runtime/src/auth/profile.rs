//! Where an identity provider writes scopes and roles in its tokens, as data.

use std::borrow::Cow;

use serde_json::Value;

/// How an identity provider shapes its access tokens: the claims that carry scopes (a
/// space-separated string or an array, read in every claim listed), the claims that carry
/// roles, and what it does with issuer and audience. Ready-made for Keycloak, Microsoft
/// Entra ID (v2 tokens), Auth0, Okta and a generic issuer; [`custom`](Self::custom) for any
/// other. Give it to [`OAuthConfigBuilder::profile`](crate::oauth::OAuthConfigBuilder::profile);
/// the roles it finds are [`Auth::roles`](crate::Auth::roles), and `Auth<C>` still reads any
/// claim into `C`.
///
/// ```
/// use mcp_runtime::auth::IdpProfile;
///
/// // An in-house issuer: scopes in `permissions`, roles under `authz.roles`.
/// let profile = IdpProfile::custom("in-house")
///     .scopes_at(["permissions"])
///     .roles_at(["authz", "roles"]);
/// # let _ = profile;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpProfile {
    name: Cow<'static, str>,
    scopes: Vec<ClaimPath>,
    roles: Vec<ClaimPath>,
    audience: Audience,
}

/// A claim, as the keys leading to it from the top of the token.
type ClaimPath = Vec<Cow<'static, str>>;

/// What a provider puts in `aud`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    /// The resource URL asked for, or what the provider was told to put there.
    Resource,
    /// Its own identifier of the API (Entra: the application id, or `api://…`), never the
    /// resource URL.
    ApplicationId,
}

fn path(segments: &[&'static str]) -> ClaimPath {
    segments.iter().map(|s| Cow::Borrowed(*s)).collect()
}

impl IdpProfile {
    /// Any OAuth 2.1 / OpenID Connect issuer: scopes in `scope` or `scp`, roles in `roles`.
    /// The default.
    pub fn generic() -> Self {
        Self {
            name: Cow::Borrowed("generic"),
            scopes: vec![path(&["scope"]), path(&["scp"])],
            roles: vec![path(&["roles"])],
            audience: Audience::Resource,
        }
    }

    /// Keycloak: scopes in `scope`; realm roles in `realm_access.roles` (and `roles`, where a
    /// mapper flattens them). Client roles live under `resource_access.<client>.roles`: add
    /// them with [`roles_at`](Self::roles_at). `aud` holds the resource URL once an
    /// *Audience* mapper adds it.
    pub fn keycloak() -> Self {
        Self {
            name: Cow::Borrowed("keycloak"),
            scopes: vec![path(&["scope"])],
            roles: vec![path(&["realm_access", "roles"]), path(&["roles"])],
            ..Self::generic()
        }
    }

    /// Microsoft Entra ID, v2 tokens: delegated scopes in `scp` (space-separated), app roles
    /// in `roles`; `aud` is the API's application id (or its `api://` URI), never the
    /// resource URL, so the builder requires
    /// [`accept_audience`](crate::oauth::OAuthConfigBuilder::accept_audience).
    pub fn entra() -> Self {
        Self {
            name: Cow::Borrowed("entra"),
            scopes: vec![path(&["scp"])],
            roles: vec![path(&["roles"])],
            audience: Audience::ApplicationId,
        }
    }

    /// Auth0: scopes in `scope`, and with RBAC the API's permissions in `permissions`;
    /// roles only where an Action adds them, under a namespaced claim such as
    /// `https://notes.example.com/roles` (give that name). Its issuer ends with `/`; tokens
    /// are checked against the issuer its metadata names, so either spelling configures it.
    pub fn auth0(roles_claim: impl Into<String>) -> Self {
        Self {
            name: Cow::Borrowed("auth0"),
            scopes: vec![path(&["scope"]), path(&["permissions"])],
            roles: vec![vec![Cow::Owned(roles_claim.into())]],
            audience: Audience::Resource,
        }
    }

    /// Okta: scopes in `scp` (an array), groups in `groups` (with a groups claim on the
    /// authorization server).
    pub fn okta() -> Self {
        Self {
            name: Cow::Borrowed("okta"),
            scopes: vec![path(&["scp"])],
            roles: vec![path(&["groups"])],
            ..Self::generic()
        }
    }

    /// A profile of your own, reading no claim until told: add them with
    /// [`scopes_at`](Self::scopes_at) and [`roles_at`](Self::roles_at).
    pub fn custom(name: impl Into<String>) -> Self {
        Self {
            name: Cow::Owned(name.into()),
            scopes: Vec::new(),
            roles: Vec::new(),
            ..Self::generic()
        }
    }

    /// Also reads scopes from the claim at `path` (the keys from the top of the token).
    #[must_use]
    pub fn scopes_at<S: Into<String>>(mut self, path: impl IntoIterator<Item = S>) -> Self {
        self.scopes.push(owned(path));
        self
    }

    /// Also reads roles from the claim at `path` (the keys from the top of the token), for
    /// instance `["resource_access", "notes", "roles"]` for a Keycloak client's roles.
    #[must_use]
    pub fn roles_at<S: Into<String>>(mut self, path: impl IntoIterator<Item = S>) -> Self {
        self.roles.push(owned(path));
        self
    }

    /// The profile's name (`generic`, `keycloak`, `entra`, `auth0`, `okta`, or yours).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The scopes of a token's claims: every listed claim, each scope once.
    pub(crate) fn scopes_of(&self, claims: &Value) -> Vec<String> {
        gather(&self.scopes, claims)
    }

    /// The roles of a token's claims: every listed claim, each role once.
    pub(crate) fn roles_of(&self, claims: &Value) -> Vec<String> {
        gather(&self.roles, claims)
    }

    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn audience(&self) -> Audience {
        self.audience
    }
}

impl Default for IdpProfile {
    fn default() -> Self {
        Self::generic()
    }
}

fn owned<S: Into<String>>(path: impl IntoIterator<Item = S>) -> ClaimPath {
    path.into_iter().map(|s| Cow::Owned(s.into())).collect()
}

/// The strings at `paths` in `claims`: a space-separated string gives its words, an array
/// its strings; each once, in order.
fn gather(paths: &[ClaimPath], claims: &Value) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !s.is_empty() && !found.iter().any(|f| f == s) {
            found.push(s.to_owned());
        }
    };
    for path in paths {
        let Some(value) = path.iter().try_fold(claims, |v, key| v.get(key.as_ref())) else {
            continue;
        };
        match value {
            Value::String(s) => s.split_whitespace().for_each(&mut add),
            Value::Array(items) => items.iter().filter_map(Value::as_str).for_each(&mut add),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_listed_claim_is_read_in_either_shape() {
        let token = json!({
            "scope": "",
            "scp": ["notes:read", "notes:write"],
            "realm_access": {"roles": ["editor"]},
            "roles": ["editor", "auditor"],
            "https://n.example/roles": ["admin"],
            "permissions": ["notes:read"],
            "groups": ["staff"]
        });
        let generic = IdpProfile::generic();
        assert_eq!(generic.scopes_of(&token), ["notes:read", "notes:write"]);
        assert_eq!(generic.roles_of(&token), ["editor", "auditor"]);
        assert_eq!(
            IdpProfile::keycloak().scopes_of(&token),
            Vec::<String>::new()
        );
        assert_eq!(
            IdpProfile::keycloak().roles_of(&token),
            ["editor", "auditor"]
        );
        assert_eq!(IdpProfile::okta().roles_of(&token), ["staff"]);
        let auth0 = IdpProfile::auth0("https://n.example/roles");
        assert_eq!(auth0.scopes_of(&token), ["notes:read"]);
        assert_eq!(auth0.roles_of(&token), ["admin"]);
        let custom = IdpProfile::custom("mine").roles_at(["realm_access", "roles"]);
        assert_eq!(custom.roles_of(&token), ["editor"]);
        assert!(custom.scopes_of(&token).is_empty());
    }
}
