//! Access-token verification: JWTs (RFC 9068) against cached JWKS, opaque tokens through
//! RFC 7662 introspection, and a bounded cache of verified tokens that never outlives them.
//!
//! A JWT must be signed with an allowed asymmetric algorithm by a key of the JWKS of the
//! issuer it names (`alg=none`, HMAC and an `alg` that does not fit the key are refused),
//! carry that issuer as `iss`, one of the accepted audiences in `aud` (RFC 8707), an `exp`
//! in the future and no `nbf` in the future (with leeway), and a `sub`. An unknown `kid`
//! refreshes the issuer's JWKS, one fetch at a time and at most once per ten seconds.
//!
//! The cache of verified tokens is bounded by bytes (a token and what was read from it), and
//! is read first: a valid token is served from it whatever else happens. Refused tokens and
//! each peer's failed checks are bounded by [`Failures`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::ConfigError;
use super::failures::{Budget, Failures};
use crate::auth::Principal;

/// The fewest seconds between two JWKS fetches of one issuer.
const REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// The bytes of verified tokens kept by default.
pub(crate) const TOKEN_CACHE_BYTES: usize = 16 * 1024 * 1024;
/// What an entry of the cache costs besides its token and claims (map slot, principal).
const ENTRY_OVERHEAD: usize = 256;
/// How long an introspection answer is reused at most.
const INTROSPECTION_TTL: u64 = 60;

/// RFC 7662 settings.
#[derive(Debug, Clone)]
pub(crate) struct Introspection {
    pub(crate) endpoint: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<String>,
}

/// Why a token was refused. Deliberately coarse: the client learns only `invalid_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid(pub(crate) &'static str);

impl Invalid {
    /// Whether the authorization server, not the token, failed: such a refusal is neither
    /// remembered nor charged to the client.
    fn is_outage(&self) -> bool {
        matches!(
            self.0,
            "introspection unreachable" | "introspection refused"
        )
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// The token is not valid.
    Invalid(Invalid),
    /// The peer spent its budget of failed checks; it may try again after this long.
    Throttled(Duration),
}

struct Key {
    issuer: usize,
    kid: Option<String>,
    alg: Option<Algorithm>,
    decoding: DecodingKey,
}

struct Source {
    issuer: String,
    jwks_uri: String,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

/// Verified tokens: each one's principal, the Unix time until which it may be reused, and
/// the bytes it takes; bounded by `budget` bytes in all.
#[derive(Default)]
struct TokenCache {
    map: HashMap<Box<str>, (Arc<Principal>, u64, usize)>,
    bytes: usize,
    budget: usize,
}

impl TokenCache {
    fn new(budget: usize) -> Self {
        Self {
            budget,
            ..Self::default()
        }
    }

    fn get(&self, token: &str, now: u64) -> Option<&Arc<Principal>> {
        self.map
            .get(token)
            .filter(|(_, until, _)| now < *until)
            .map(|(p, _, _)| p)
    }

    /// Keeps `principal` for `token` until `until`, making room by dropping expired entries
    /// first, then others; a token larger than the whole budget is not kept.
    fn insert(&mut self, token: &str, principal: Arc<Principal>, until: u64, now: u64) {
        let size = token.len() + principal.claims.to_string().len() + ENTRY_OVERHEAD;
        if size > self.budget {
            return;
        }
        if let Some((_, _, old)) = self.map.remove(token) {
            self.bytes -= old;
        }
        if self.bytes + size > self.budget {
            self.map.retain(|_, (_, until, _)| now < *until);
            self.bytes = self.map.values().map(|(_, _, b)| b).sum();
        }
        while self.bytes + size > self.budget {
            let Some(victim) = self.map.keys().next().cloned() else {
                break;
            };
            if let Some((_, _, b)) = self.map.remove(&victim) {
                self.bytes -= b;
            }
        }
        self.bytes += size;
        self.map.insert(token.into(), (principal, until, size));
    }
}

pub(crate) struct Verifier {
    client: reqwest::Client,
    sources: Vec<Source>,
    keys: RwLock<Vec<Arc<Key>>>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    introspection: Option<Introspection>,
    cache: Mutex<TokenCache>,
    failures: Failures,
}

impl Verifier {
    pub(crate) fn new(
        client: reqwest::Client,
        jwks_uris: Vec<(String, String)>,
        algorithms: Vec<Algorithm>,
        leeway: Duration,
        introspection: Option<Introspection>,
        cache_bytes: usize,
        budgets: (Budget, Budget),
    ) -> Self {
        let sources = jwks_uris
            .into_iter()
            .map(|(issuer, jwks_uri)| Source {
                issuer,
                jwks_uri,
                last_fetch: tokio::sync::Mutex::new(None),
            })
            .collect();
        Self {
            client,
            sources,
            keys: RwLock::default(),
            algorithms,
            leeway,
            introspection,
            cache: Mutex::new(TokenCache::new(cache_bytes)),
            failures: Failures::new(budgets.0, budgets.1),
        }
    }

    /// Fetches every JWKS once, failing when one cannot be had.
    pub(crate) async fn prefetch(&self) -> Result<(), ConfigError> {
        for i in 0..self.sources.len() {
            self.refresh(i, true)
                .await
                .map_err(|why| ConfigError::Discovery {
                    issuer: self.sources[i].issuer.clone(),
                    why,
                })?;
        }
        Ok(())
    }

    /// Re-fetches one issuer's JWKS unless another request just did.
    async fn refresh(&self, source: usize, force: bool) -> Result<(), String> {
        let src = &self.sources[source];
        let mut last = src.last_fetch.lock().await;
        if !force && last.is_some_and(|t| t.elapsed() < REFRESH_INTERVAL) {
            return Ok(());
        }
        // The fetch at startup does not count, so a key rotated just after startup is found.
        if !force {
            *last = Some(Instant::now());
        }
        let set: JwkSet = fetch_json(&self.client, &src.jwks_uri)
            .await
            .and_then(|v| {
                serde_json::from_value(v).map_err(|e| format!("its JWKS is malformed: {e}"))
            })?;
        let mut fresh = Vec::new();
        for jwk in &set.keys {
            // Keys this crate cannot use (for instance an encryption key) are skipped.
            let Ok(decoding) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| a.to_string().parse::<Algorithm>().ok());
            fresh.push(Arc::new(Key {
                issuer: source,
                kid: jwk.common.key_id.clone(),
                alg,
                decoding,
            }));
        }
        if fresh.is_empty() {
            return Err(format!(
                "its JWKS at `{}` has no usable signing key",
                src.jwks_uri
            ));
        }
        let mut keys = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.retain(|k| k.issuer != source);
        keys.extend(fresh);
        Ok(())
    }

    fn find_key(&self, kid: Option<&str>, alg: Algorithm) -> Vec<Arc<Key>> {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.iter()
            .filter(|k| match kid {
                Some(kid) => k.kid.as_deref() == Some(kid),
                None => true,
            })
            .filter(|k| k.alg.is_none_or(|a| a == alg))
            .cloned()
            .collect()
    }

    /// Verifies a bearer token sent by `peer`, from the cache when it was verified before.
    /// A token refused recently is refused again without a check, and a peer out of its
    /// budget of failed checks is throttled before one.
    pub(crate) async fn verify(
        &self,
        token: &str,
        audiences: &[String],
        peer: Option<IpAddr>,
    ) -> Result<Arc<Principal>, Rejected> {
        let now = now();
        if let Some(principal) = self.cache_lock().get(token, now) {
            return Ok(Arc::clone(principal));
        }
        if self.failures.refused_recently(token) {
            return Err(Rejected::Invalid(Invalid("refused recently")));
        }
        let spent = match peer {
            Some(peer) => Some((
                peer,
                self.failures.spend(peer).map_err(Rejected::Throttled)?,
            )),
            None => None,
        };
        let checked = self.check(token, audiences, now).await;
        if let Err(invalid) = &checked
            && !invalid.is_outage()
        {
            self.failures.record(token, peer);
        } else if let Some((peer, spent)) = &spent {
            self.failures.refund(*peer, spent);
        }
        let (principal, until) = checked.map_err(Rejected::Invalid)?;
        let principal = Arc::new(principal);
        self.cache_lock()
            .insert(token, Arc::clone(&principal), until, now);
        Ok(principal)
    }

    /// Checks a token not seen before: its principal, and until when it may be reused.
    async fn check(
        &self,
        token: &str,
        audiences: &[String],
        now: u64,
    ) -> Result<(Principal, u64), Invalid> {
        if token.split('.').count() == 3 {
            let p = self.verify_jwt(token, audiences).await?;
            let until = p.expires_at.unwrap_or(now);
            Ok((p, until))
        } else if let Some(introspection) = &self.introspection {
            let p = self.introspect(introspection, token, audiences).await?;
            let until = p
                .expires_at
                .map_or(now + INTROSPECTION_TTL, |e| e.min(now + INTROSPECTION_TTL));
            Ok((p, until))
        } else {
            Err(Invalid(
                "not a JWT and no introspection endpoint is configured",
            ))
        }
    }

    fn cache_lock(&self) -> std::sync::MutexGuard<'_, TokenCache> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn verify_jwt(&self, token: &str, audiences: &[String]) -> Result<Principal, Invalid> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| Invalid("malformed JWT header"))?;
        if !self.algorithms.contains(&header.alg) {
            return Err(Invalid("algorithm not allowed"));
        }
        if let Some(typ) = &header.typ
            && !["at+jwt", "application/at+jwt", "jwt"].contains(&typ.to_ascii_lowercase().as_str())
        {
            return Err(Invalid("not an access token"));
        }
        let mut candidates = self.find_key(header.kid.as_deref(), header.alg);
        if candidates.is_empty() && header.kid.is_some() {
            for i in 0..self.sources.len() {
                let _ = self.refresh(i, false).await;
            }
            candidates = self.find_key(header.kid.as_deref(), header.alg);
        }
        for key in candidates {
            let issuer = &self.sources[key.issuer].issuer;
            let mut validation = Validation::new(header.alg);
            validation.leeway = self.leeway.as_secs();
            validation.validate_nbf = true;
            validation.validate_aud = false;
            validation.set_issuer(&[issuer]);
            validation.set_required_spec_claims(&["exp", "iss", "sub"]);
            let Ok(data) = jsonwebtoken::decode::<Value>(token, &key.decoding, &validation) else {
                continue;
            };
            let claims = data.claims;
            if !audience_matches(claims.get("aud"), audiences) {
                return Err(Invalid("audience mismatch"));
            }
            return Principal::from_claims(claims).ok_or(Invalid("claims unusable"));
        }
        Err(Invalid("signature or claims invalid"))
    }

    async fn introspect(
        &self,
        cfg: &Introspection,
        token: &str,
        audiences: &[String],
    ) -> Result<Principal, Invalid> {
        let mut req = self
            .client
            .post(&cfg.endpoint)
            .header("accept", "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")]);
        req = match &cfg.client_secret {
            Some(secret) => req.basic_auth(&cfg.client_id, Some(secret)),
            None => req.query(&[("client_id", &cfg.client_id)]),
        };
        let resp = req
            .send()
            .await
            .map_err(|_| Invalid("introspection unreachable"))?;
        if !resp.status().is_success() {
            return Err(Invalid("introspection refused"));
        }
        let claims: Value = resp
            .json()
            .await
            .map_err(|_| Invalid("introspection malformed"))?;
        if claims.get("active") != Some(&Value::Bool(true)) {
            return Err(Invalid("inactive"));
        }
        if claims
            .get("exp")
            .and_then(Value::as_u64)
            .is_some_and(|exp| exp + self.leeway.as_secs() <= now())
        {
            return Err(Invalid("expired"));
        }
        if let Some(iss) = claims.get("iss").and_then(Value::as_str)
            && !self.sources.iter().any(|s| same_issuer(&s.issuer, iss))
        {
            return Err(Invalid("issuer mismatch"));
        }
        if !audience_matches(claims.get("aud"), audiences) {
            return Err(Invalid("audience mismatch"));
        }
        Principal::from_claims(claims).ok_or(Invalid("claims unusable"))
    }
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// RFC 8707: `aud` (a string or an array) must name one of the accepted audiences. Scheme
/// and host case and one trailing slash are not significant.
fn audience_matches(aud: Option<&Value>, audiences: &[String]) -> bool {
    let norm = |s: &str| {
        let s = s.strip_suffix('/').unwrap_or(s);
        match s.split_once("://") {
            Some((scheme, rest)) => {
                let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
                format!(
                    "{}://{}/{}",
                    scheme.to_ascii_lowercase(),
                    host.to_ascii_lowercase(),
                    path
                )
            }
            None => s.to_owned(),
        }
    };
    let accepted: Vec<String> = audiences.iter().map(|a| norm(a)).collect();
    let one = |v: &Value| v.as_str().is_some_and(|s| accepted.contains(&norm(s)));
    match aud {
        Some(Value::Array(items)) => items.iter().any(one),
        Some(v) => one(v),
        None => false,
    }
}

fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

async fn fetch_json(client: &reqwest::Client, url: &str) -> Result<Value, String> {
    let resp = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("`{url}` is unreachable: {}", without_url(&e)))?;
    if !resp.status().is_success() {
        return Err(format!("`{url}` answered {}", resp.status()));
    }
    resp.json()
        .await
        .map_err(|e| format!("`{url}` did not return JSON: {}", without_url(&e)))
}

fn without_url(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = e.to_string();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// RFC 8414 §3 with path insertion, then OpenID Connect discovery (inserted and appended).
/// The document's `issuer` must be the configured one (RFC 8414 §3.3).
pub(crate) async fn discover(client: &reqwest::Client, issuer: &str) -> Result<Value, ConfigError> {
    let fail = |why: String| ConfigError::Discovery {
        issuer: issuer.to_owned(),
        why,
    };
    let url = url::Url::parse(issuer).map_err(|e| fail(e.to_string()))?;
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    let candidates = [
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{origin}/.well-known/openid-configuration{path}"),
        format!("{origin}{path}/.well-known/openid-configuration"),
    ];
    let mut last_error = String::new();
    for candidate in candidates {
        match fetch_json(client, &candidate).await {
            Ok(doc) => {
                let named = doc
                    .get("issuer")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !same_issuer(named, issuer) {
                    return Err(fail(format!(
                        "its metadata at `{candidate}` names issuer `{named}`; the configured issuer must match it exactly"
                    )));
                }
                return Ok(doc);
            }
            Err(e) => last_error = e,
        }
    }
    Err(fail(format!(
        "no authorization server metadata found; last attempt: {last_error}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn principal(claims: serde_json::Value) -> Arc<Principal> {
        Arc::new(Principal::from_claims(claims).unwrap())
    }

    #[test]
    fn the_token_cache_is_bounded_by_bytes() {
        let budget = 64 * 1024;
        let mut cache = TokenCache::new(budget);
        let now = 1000;
        let claims = json!({"sub": "alice", "iss": "https://as", "pad": "x".repeat(3000)});
        for i in 0..100 {
            let token = format!("{i:04}{}", "t".repeat(4000));
            cache.insert(&token, principal(claims.clone()), now + 60, now);
            assert!(cache.bytes <= budget, "{} bytes after {i}", cache.bytes);
            assert!(cache.get(&token, now).is_some(), "the newest token is kept");
        }
        let counted: usize = cache.map.values().map(|(_, _, b)| b).sum();
        assert_eq!(counted, cache.bytes);
        assert!(cache.map.len() < 10, "{} entries", cache.map.len());

        let huge = "h".repeat(budget);
        cache.insert(&huge, principal(claims.clone()), now + 60, now);
        assert!(
            cache.get(&huge, now).is_none(),
            "larger than the budget: not kept"
        );
        assert!(cache.bytes <= budget);

        // Expired entries go first, and are never served.
        cache.insert("old", principal(claims.clone()), now + 1, now);
        assert!(cache.get("old", now + 2).is_none());
    }

    #[test]
    fn audiences_compare_without_case_or_trailing_slash() {
        let ours = [
            "https://mcp.example.com/mcp".to_owned(),
            "api://1234".to_owned(),
        ];
        assert!(audience_matches(
            Some(&json!("https://mcp.example.com/mcp")),
            &ours
        ));
        assert!(audience_matches(
            Some(&json!("HTTPS://MCP.example.com/mcp/")),
            &ours
        ));
        assert!(audience_matches(
            Some(&json!(["other", "api://1234"])),
            &ours
        ));
        assert!(
            !audience_matches(Some(&json!("https://mcp.example.com/MCP")), &ours),
            "paths are case-sensitive"
        );
        assert!(!audience_matches(
            Some(&json!("https://mcp.example.com/mcp/other")),
            &ours
        ));
        assert!(!audience_matches(Some(&json!(["a", "b"])), &ours));
        assert!(!audience_matches(None, &ours));
        assert!(!audience_matches(Some(&json!(7)), &ours));
    }
}
