//! [`OAuthConfig`]: one canonical resource URL and the authorization servers that issue
//! tokens for it.
//!
//! The resource URL is the only place the deployment's address is written: the protected
//! resource metadata's `resource`, the `resource_metadata` URL of every challenge, the
//! well-known routes (RFC 9728 §3.1) and the audience a token must carry (RFC 8707) all
//! derive from it. An identity provider that cannot put that URL in `aud` (Entra's
//! `api://…` audiences) is served by [`OAuthConfigBuilder::accept_audience`], an additional
//! accepted audience, never by a second copy of the URL.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use url::Url;

use super::failures::Budget;
use super::verifier::{Introspection, JwksSource, Verifier};
use crate::transport::http::HttpConfig;

/// The OAuth 2.1 resource-server configuration of a server declared with
/// `#[mcp_server(oauth(..))]`.
///
/// Built with [`OAuthConfig::builder`]; [`OAuthConfigBuilder::build`] checks the settings
/// and fetches each issuer's metadata and keys, so a wrong issuer fails at startup rather
/// than on the first request.
///
/// ```no_run
/// # async fn run() -> Result<(), mcp_runtime::oauth::ConfigError> {
/// use mcp_runtime::oauth::OAuthConfig;
///
/// let config = OAuthConfig::builder()
///     .resource("https://notes.example.com/mcp")
///     .authorization_server("https://idp.example.com/realms/mcp")
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OAuthConfig {
    pub(crate) inner: Arc<Inner>,
    pub(crate) http: HttpConfig,
}

pub(crate) struct Inner {
    /// The resource URL exactly as configured (scheme and host lowercased by parsing).
    pub(crate) resource: String,
    /// `…/.well-known/oauth-protected-resource<path>`.
    pub(crate) metadata_url: String,
    /// The path of the path-suffixed well-known route.
    pub(crate) metadata_path: String,
    /// The issuers, as written (their metadata's `issuer` must match).
    pub(crate) issuers: Vec<String>,
    /// Accepted audiences: the resource, then any extra ones.
    pub(crate) audiences: Vec<String>,
    pub(crate) verifier: Verifier,
    pub(crate) resource_name: Option<String>,
    pub(crate) documentation: Option<String>,
    /// The first issuer's metadata document, served for 2025-03-26 clients when enabled.
    pub(crate) legacy_as_metadata: Option<serde_json::Value>,
    /// DPoP proofs, when accepted.
    pub(crate) dpop: Option<super::dpop::DpopCheck>,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("resource", &self.inner.resource)
            .field("issuers", &self.inner.issuers)
            .field("audiences", &self.inner.audiences)
            .finish_non_exhaustive()
    }
}

impl OAuthConfig {
    /// Starts a configuration.
    pub fn builder() -> OAuthConfigBuilder {
        OAuthConfigBuilder::default()
    }

    /// The canonical resource URL.
    pub fn resource(&self) -> &str {
        &self.inner.resource
    }

    /// The URL of the protected resource metadata document.
    pub fn metadata_url(&self) -> &str {
        &self.inner.metadata_url
    }
}

/// The resource identifier: scheme and host lowercased by parsing, the rest as written
/// (`Url` writes an empty path as `/`, which the user may not have).
fn canonical_resource(url: &Url, raw: &str) -> String {
    let mut resource = url.as_str().to_owned();
    if url.path() == "/" && !raw.ends_with('/') {
        resource.pop();
    }
    resource
}

/// Why an [`OAuthConfig`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No resource URL was given.
    #[error("the resource URL is missing: call `.resource(\"https://…/mcp\")`")]
    MissingResource,
    /// No authorization server was given.
    #[error("no authorization server: call `.authorization_server(\"https://idp…\")`")]
    MissingIssuer,
    /// A URL is not acceptable.
    #[error("{what} `{url}` is not usable: {why}")]
    InvalidUrl {
        /// Which setting.
        what: &'static str,
        /// The value given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// An issuer's metadata could not be fetched or read.
    #[error("authorization server `{issuer}`: {why}")]
    Discovery {
        /// The issuer.
        issuer: String,
        /// What failed.
        why: String,
    },
    /// The identity provider's profile needs a setting that is missing.
    #[error("the {profile} profile: {why}")]
    Profile {
        /// The profile's name.
        profile: String,
        /// What to add.
        why: String,
    },
    /// An algorithm that a resource server must never accept.
    #[error(
        "algorithm {0:?} cannot verify access tokens: only RS256/384/512, PS256/384/512, ES256/384 and EdDSA can"
    )]
    Algorithm(Algorithm),
}

/// Builds an [`OAuthConfig`]; see [`OAuthConfig::builder`].
///
/// The resource URL and one authorization server are required; everything else has a
/// default meant for production. [`build`](Self::build) checks the settings and discovers
/// each issuer's metadata and keys, so a wrong issuer or resource fails at startup, saying
/// what to change, not at the first request.
///
/// ```no_run
/// use std::time::Duration;
///
/// use mcp_runtime::auth::IdpProfile;
/// use mcp_runtime::{HttpConfig, OAuthConfig};
///
/// # async fn run() -> Result<(), mcp_runtime::oauth::ConfigError> {
/// let config = OAuthConfig::builder()
///     // This server's URL as clients know it: the audience its tokens must name.
///     .resource("https://notes.example.com/mcp")
///     .authorization_server("https://keycloak.example.com/realms/mcp")
///     // Where this identity provider writes scopes and roles.
///     .profile(IdpProfile::keycloak())
///     .resource_name("Notes")
///     .leeway(Duration::from_secs(10))
///     // The endpoint's own settings: a browser client's origin, the public host name.
///     .http(
///         HttpConfig::new()
///             .allow_origin("https://app.example.com")
///             .allow_host("notes.example.com"),
///     )
///     .build()
///     .await?;
/// assert_eq!(
///     config.metadata_url(),
///     "https://notes.example.com/.well-known/oauth-protected-resource/mcp"
/// );
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct OAuthConfigBuilder {
    resource: Option<String>,
    issuers: Vec<String>,
    jwks_uri: Option<String>,
    algorithms: Option<Vec<Algorithm>>,
    leeway: Option<Duration>,
    profile: Option<crate::auth::IdpProfile>,
    audiences: Vec<String>,
    introspection: Option<(String, String, Option<String>)>,
    resource_name: Option<String>,
    documentation: Option<String>,
    legacy_as_metadata: bool,
    http: Option<HttpConfig>,
    http_client: Option<reqwest::Client>,
    token_cache_bytes: Option<usize>,
    token_exchange: Option<(String, String)>,
    failed_checks: Option<Budget>,
    failed_checks_total: Option<Budget>,
    dpop: Option<super::Dpop>,
}

impl std::fmt::Debug for OAuthConfigBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Client secrets (introspection, token exchange) are left out.
        f.debug_struct("OAuthConfigBuilder")
            .field("resource", &self.resource)
            .field("issuers", &self.issuers)
            .field("jwks_uri", &self.jwks_uri)
            .field("algorithms", &self.algorithms)
            .field("leeway", &self.leeway)
            .field("profile", &self.profile)
            .field("audiences", &self.audiences)
            .field(
                "introspection",
                &self
                    .introspection
                    .as_ref()
                    .map(|(endpoint, id, _)| (endpoint, id)),
            )
            .field(
                "token_exchange",
                &self.token_exchange.as_ref().map(|(id, _)| id),
            )
            .finish_non_exhaustive()
    }
}

impl OAuthConfigBuilder {
    /// The canonical URL of this MCP server, as clients are configured with it, for
    /// instance `https://notes.example.com/mcp`. Absolute, without fragment; `https` unless
    /// the host is loopback.
    #[must_use]
    pub fn resource(mut self, url: impl Into<String>) -> Self {
        self.resource = Some(url.into());
        self
    }

    /// An authorization server's issuer identifier; call it again for several. Tokens must
    /// carry one of them as `iss`.
    #[must_use]
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// The JWKS URL, when the issuer's metadata does not give one (or should be bypassed).
    #[must_use]
    pub fn jwks_uri(mut self, url: impl Into<String>) -> Self {
        self.jwks_uri = Some(url.into());
        self
    }

    /// The signature algorithms accepted (default `RS256`, `RS384`, `RS512`, `PS256`, `PS384`,
    /// `PS512`, `ES256`, `ES384` and `EdDSA`). HMAC algorithms are refused by `build`.
    #[must_use]
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// The clock skew tolerated on `exp` and `nbf` (default 30 seconds).
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = Some(leeway);
        self
    }

    /// The server's own client credentials at the authorization server, with which
    /// [`Auth::exchange`](crate::Auth::exchange) exchanges a caller's token for one for a
    /// downstream API (RFC 8693, at the token endpoint the first issuer's metadata names).
    #[must_use]
    pub fn token_exchange(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.token_exchange = Some((client_id.into(), client_secret.into()));
        self
    }

    /// Where the identity provider writes scopes and roles, and what it puts in `aud`
    /// (default [`IdpProfile::generic`](crate::auth::IdpProfile::generic)): see
    /// [`IdpProfile`](crate::auth::IdpProfile).
    #[must_use]
    pub fn profile(mut self, profile: crate::auth::IdpProfile) -> Self {
        self.profile = Some(profile);
        self
    }

    /// An additional accepted `aud`, for identity providers that cannot issue the resource
    /// URL itself (for instance Entra's `api://<app-id>`).
    #[must_use]
    pub fn accept_audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Verifies opaque (non-JWT) tokens through RFC 7662 introspection at `endpoint`,
    /// authenticating as `client_id` (with HTTP Basic when a secret is given).
    #[must_use]
    pub fn introspection(
        mut self,
        endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Option<String>,
    ) -> Self {
        self.introspection = Some((endpoint.into(), client_id.into(), client_secret));
        self
    }

    /// `resource_name` in the protected resource metadata.
    #[must_use]
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// `resource_documentation` in the protected resource metadata.
    #[must_use]
    pub fn documentation(mut self, url: impl Into<String>) -> Self {
        self.documentation = Some(url.into());
        self
    }

    /// Also serves the first issuer's metadata at this server's
    /// `/.well-known/oauth-authorization-server`, for 2025-03-26-era clients that look for it
    /// there. Its `issuer` then differs from its URL, which strict clients reject.
    #[must_use]
    pub fn serve_authorization_server_metadata(mut self) -> Self {
        self.legacy_as_metadata = true;
        self
    }

    /// Accepts, or requires, DPoP-bound access tokens (RFC 9449) with their proofs; see
    /// [`Dpop`](super::Dpop). Without it a DPoP-bound token is refused, like any token
    /// presented by someone who cannot prove they hold its key.
    #[must_use]
    pub fn dpop(mut self, dpop: super::Dpop) -> Self {
        self.dpop = Some(dpop);
        self
    }

    /// Endpoint settings (path, limits, hosts, origins). The resource URL's host is always
    /// accepted; the path comes from the resource URL.
    #[must_use]
    pub fn http(mut self, http: HttpConfig) -> Self {
        self.http = Some(http);
        self
    }

    /// The most bytes the cache of verified tokens holds (default 16 MiB), counting each
    /// token and the claims read from it. A token is verified once and then answered from
    /// the cache until it expires (introspection answers for at most a minute).
    #[must_use]
    pub fn token_cache_bytes(mut self, bytes: usize) -> Self {
        self.token_cache_bytes = Some(bytes);
        self
    }

    /// How many failed token checks one peer may cause (default 20 a second, in bursts of up
    /// to 40); beyond them its requests with tokens not verified before get 429 with
    /// `Retry-After`, without a signature check, held at least 250 ms (at most 1 s) so that
    /// a client looping on bad tokens slows itself down. A peer is an address (IPv6 by
    /// /64), known under [`serve_http`](crate::Serve::serve_http) or a router served with
    /// `into_make_service_with_connect_info::<SocketAddr>()`; without it only the memory of
    /// refused tokens applies (the same refused token is not checked again for 30 s). Valid
    /// tokens verified before are always accepted.
    #[must_use]
    pub fn failed_token_checks_per_peer(mut self, per_second: u32, burst: u32) -> Self {
        self.failed_checks = Some(Budget {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
        });
        self
    }

    /// How many token checks the whole server spends on peers that failed one in the last
    /// 30 s (default 200 a second, in bursts of up to 400), against floods of forged tokens
    /// from many addresses, each within its own budget. Once spent, such peers get 429 as
    /// in [`failed_token_checks_per_peer`](Self::failed_token_checks_per_peer); a peer that
    /// never failed a check is still checked, and valid tokens verified before are always
    /// accepted.
    #[must_use]
    pub fn failed_token_checks_in_total(mut self, per_second: u32, burst: u32) -> Self {
        self.failed_checks_total = Some(Budget {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
        });
        self
    }

    /// The HTTP client used for discovery, JWKS and introspection (for custom roots or
    /// proxies).
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// For a contract: the resource as [`build`](Self::build) would serve it (as written when
    /// it is not a usable URL), the issuers as written, the name and documentation URL.
    pub(crate) fn metadata_parts(&self) -> (String, &[String], Option<&str>, Option<&str>) {
        let raw = self.resource.as_deref().unwrap_or_default();
        let resource = check_url("the resource URL", raw)
            .map_or_else(|_| raw.to_owned(), |url| canonical_resource(&url, raw));
        (
            resource,
            &self.issuers,
            self.resource_name.as_deref(),
            self.documentation.as_deref(),
        )
    }

    /// Checks the settings and discovers each issuer's metadata and keys.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the setting that is missing or wrong, or the issuer whose
    /// metadata or keys could not be had.
    pub async fn build(self) -> Result<OAuthConfig, ConfigError> {
        let resource_raw = self.resource.ok_or(ConfigError::MissingResource)?;
        let resource = check_url("the resource URL", &resource_raw)?;
        if self.issuers.is_empty() {
            return Err(ConfigError::MissingIssuer);
        }
        for issuer in &self.issuers {
            check_url("the issuer", issuer)?;
        }
        let algorithms = self.algorithms.unwrap_or_else(|| {
            use Algorithm::{ES256, ES384, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512};
            vec![
                RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA,
            ]
        });
        if let Some(bad) = algorithms
            .iter()
            .find(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        {
            return Err(ConfigError::Algorithm(*bad));
        }
        if let Some(bad) = self
            .dpop
            .iter()
            .flat_map(|d| &d.algorithms)
            .find(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        {
            return Err(ConfigError::Algorithm(*bad));
        }
        let client = self.http_client.unwrap_or_else(|| {
            // A 307 or 308 resends the body, which for introspection holds the token: not
            // to another host.
            let policy = reqwest::redirect::Policy::custom(|attempt| {
                let elsewhere = attempt
                    .previous()
                    .last()
                    .is_some_and(|from| from.host_str() != attempt.url().host_str());
                let resends = matches!(attempt.status().as_u16(), 307 | 308);
                if attempt.previous().len() >= 3 || (elsewhere && resends) {
                    attempt.stop()
                } else {
                    attempt.follow()
                }
            });
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(policy)
                .build()
                .unwrap_or_default()
        });

        let resource_str = canonical_resource(&resource, &resource_raw);
        let path = resource.path().trim_end_matches('/');
        let metadata_path = format!("/.well-known/oauth-protected-resource{path}");
        let origin = resource.origin().ascii_serialization();
        let metadata_url = format!("{origin}{metadata_path}");

        let profile = self.profile.unwrap_or_default();
        if profile.audience() == crate::auth::Audience::ApplicationId && self.audiences.is_empty() {
            return Err(ConfigError::Profile {
                profile: profile.name().to_owned(),
                why: "its tokens carry the API's application id in `aud`, not the resource URL: \
                      add `.accept_audience(\"<application-id>\")` (or its `api://` URI)"
                    .into(),
            });
        }
        let mut jwks_uris = Vec::new();
        let mut first_metadata = None;
        let mut issuers = Vec::with_capacity(self.issuers.len());
        for issuer in &self.issuers {
            let (metadata, max_age) = super::verifier::discover(&client, issuer).await?;
            // The issuer as its metadata spells it (Auth0 ends it with `/`): tokens carry
            // that, and clients compare it with what the resource metadata names.
            let named = metadata
                .get("issuer")
                .and_then(|v| v.as_str())
                .unwrap_or(issuer)
                .to_owned();
            if let Some(uri) = metadata.get("jwks_uri").and_then(|v| v.as_str()) {
                jwks_uris.push(JwksSource {
                    issuer: named.clone(),
                    jwks_uri: uri.to_owned(),
                    metadata_fresh_for: Some(super::verifier::fresh_for(max_age)),
                });
            }
            issuers.push(named);
            first_metadata.get_or_insert(metadata);
        }
        if let Some(uri) = &self.jwks_uri {
            check_url("the JWKS URL", uri)?;
            jwks_uris = issuers
                .iter()
                .map(|issuer| JwksSource {
                    issuer: issuer.clone(),
                    jwks_uri: uri.clone(),
                    metadata_fresh_for: None,
                })
                .collect();
        }
        if jwks_uris.is_empty() && self.introspection.is_none() {
            return Err(ConfigError::Discovery {
                issuer: issuers[0].clone(),
                why: "its metadata names no `jwks_uri`; give one with `.jwks_uri(..)` or configure introspection".into(),
            });
        }
        let introspection = match self.introspection {
            Some((endpoint, client_id, secret)) => {
                check_url("the introspection endpoint", &endpoint)?;
                Some(Introspection {
                    endpoint,
                    client_id,
                    client_secret: secret,
                })
            }
            None => None,
        };
        let mut audiences = vec![resource_str.clone()];
        audiences.extend(self.audiences);
        let described = (
            jwks_uris
                .iter()
                .map(|s| s.jwks_uri.clone())
                .collect::<Vec<_>>(),
            algorithms.clone(),
        );
        let exchanger = match (&self.token_exchange, &first_metadata) {
            (Some((id, secret)), Some(metadata)) => {
                let Some(endpoint) = metadata.get("token_endpoint").and_then(|v| v.as_str()) else {
                    return Err(ConfigError::Discovery {
                        issuer: issuers[0].clone(),
                        why: "its metadata names no `token_endpoint`, which token exchange needs"
                            .into(),
                    });
                };
                check_url("the token endpoint", endpoint)?;
                let listed = metadata
                    .get("grant_types_supported")
                    .and_then(|v| v.as_array());
                if listed.is_some_and(|grants| {
                    !grants
                        .iter()
                        .any(|g| g == "urn:ietf:params:oauth:grant-type:token-exchange")
                }) {
                    tracing::warn!(
                        issuer = %issuers[0],
                        "the authorization server does not list the token-exchange grant; exchanges may be refused"
                    );
                }
                // A redirect would carry the caller's token (in the form) to another host.
                let posting = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap_or_default();
                Some((
                    issuers[0].clone(),
                    Arc::new(super::exchange::Exchanger::new(
                        posting,
                        endpoint.to_owned(),
                        id.clone(),
                        secret.clone(),
                    )),
                ))
            }
            _ => None,
        };
        let leeway = self.leeway.unwrap_or(Duration::from_secs(30));
        #[allow(unused_mut)]
        let mut dpop = self
            .dpop
            .map(|d| super::dpop::DpopCheck::new(d, &resource, leeway));
        #[cfg(feature = "redis")]
        if let (Some(dpop), Some(http)) = (&mut dpop, &self.http) {
            dpop.shared.clone_from(&http.store);
        }
        let mut verifier = Verifier::new(
            client,
            jwks_uris,
            (profile.clone(), algorithms, leeway),
            introspection,
            self.token_cache_bytes
                .unwrap_or(super::verifier::TOKEN_CACHE_BYTES),
            (
                self.failed_checks.unwrap_or(Budget::PER_PEER),
                self.failed_checks_total.unwrap_or(Budget::TOTAL),
            ),
        );
        if let Some((issuer, exchanger)) = exchanger {
            verifier.exchange_with(issuer, exchanger);
        }
        verifier.prefetch().await?;
        if let Some((issuer, algs)) = verifier.unusable_keys() {
            return Err(ConfigError::Discovery {
                issuer,
                why: format!(
                    "its keys sign with {algs}, none of which this server allows; allow one \
                     with `.algorithms([..])`"
                ),
            });
        }
        tracing::info!(
            resource = %resource_str,
            issuers = ?issuers,
            jwks = ?described.0,
            algorithms = ?described.1,
            audiences = ?audiences,
            profile = profile.name(),
            backend = super::backend::NAME,
            "verifying access tokens"
        );

        let mut http = self.http.unwrap_or_default();
        http.path = if path.is_empty() {
            "/".into()
        } else {
            path.to_owned()
        };
        if let Some(host) = resource.host_str() {
            http = http.allow_host(host.trim_start_matches('[').trim_end_matches(']'));
            if let Some(host) = resource.host_str().filter(|h| h.starts_with('[')) {
                http = http.allow_host(host);
            }
        }
        http = http.allow_origin(origin);
        Ok(OAuthConfig {
            inner: Arc::new(Inner {
                resource: resource_str,
                metadata_url,
                metadata_path,
                issuers,
                audiences,
                verifier,
                resource_name: self.resource_name,
                documentation: self.documentation,
                legacy_as_metadata: if self.legacy_as_metadata {
                    first_metadata
                } else {
                    None
                },
                dpop,
            }),
            http,
        })
    }
}

/// Absolute, no fragment, `https` unless loopback.
fn check_url(what: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let bad = |why: &str| ConfigError::InvalidUrl {
        what,
        url: raw.to_owned(),
        why: why.to_owned(),
    };
    let url = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    if url.fragment().is_some() {
        return Err(bad("it has a fragment (`#…`), which RFC 8707 forbids"));
    }
    if url.query().is_some() && what == "the resource URL" {
        return Err(bad(
            "it has a query; the well-known metadata route cannot be derived from it",
        ));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(bad(
            "plain `http` is only allowed for loopback hosts; use `https`",
        )),
        _ => Err(bad("the scheme must be `https`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(check_url("the resource URL", "https://a.example.com/mcp").is_ok());
        assert!(check_url("the resource URL", "http://127.0.0.1:3000/mcp").is_ok());
        let e = check_url("the resource URL", "https://a.example.com/mcp#x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("fragment"), "{e}");
        let e = check_url("the resource URL", "http://a.example.com/mcp")
            .unwrap_err()
            .to_string();
        assert!(e.contains("https"), "{e}");
        assert!(check_url("the resource URL", "/mcp").is_err());
        assert!(check_url("the resource URL", "https://a.example.com/mcp?x=1").is_err());
    }

    #[tokio::test]
    async fn missing_settings_are_named() {
        let e = OAuthConfig::builder().build().await.unwrap_err();
        assert!(matches!(e, ConfigError::MissingResource));
        let e = OAuthConfig::builder()
            .resource("https://a.example.com/mcp")
            .build()
            .await
            .unwrap_err();
        assert!(matches!(e, ConfigError::MissingIssuer));
        let e = OAuthConfig::builder()
            .resource("https://a.example.com/mcp")
            .authorization_server("https://idp.example.com")
            .algorithms([Algorithm::HS256])
            .build()
            .await
            .unwrap_err();
        assert!(matches!(e, ConfigError::Algorithm(Algorithm::HS256)));
    }

    #[tokio::test]
    async fn an_unreachable_issuer_fails_at_build() {
        let e = OAuthConfig::builder()
            .resource("http://127.0.0.1:9/mcp")
            .authorization_server("http://127.0.0.1:9")
            .build()
            .await
            .unwrap_err();
        assert!(matches!(e, ConfigError::Discovery { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("authorization server `http://127.0.0.1:9`"),
            "{e}"
        );
    }
}
