//! Access-token verification: JWTs (RFC 9068) against cached JWKS, opaque tokens through
//! RFC 7662 introspection, and a bounded cache of verified tokens that never outlives them.
//!
//! A JWT must be signed with an allowed asymmetric algorithm by a key of the JWKS of the
//! issuer it names (`alg=none`, HMAC and an `alg` that does not fit the key are refused),
//! carry that issuer as `iss`, one of the accepted audiences in `aud` (RFC 8707), an `exp`
//! in the future and no `nbf` in the future (with leeway), and a `sub`. An unknown `kid`
//! refreshes the issuer's JWKS, one fetch at a time and at most once per ten seconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::ConfigError;
use crate::auth::Principal;

/// The fewest seconds between two JWKS fetches of one issuer.
const REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// The most verified tokens kept.
const CACHE_CAPACITY: usize = 10_000;
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

/// Verified tokens: each one's principal and the Unix time until which it may be reused.
type TokenCache = HashMap<Box<str>, (Arc<Principal>, u64)>;

pub(crate) struct Verifier {
    client: reqwest::Client,
    sources: Vec<Source>,
    keys: RwLock<Vec<Arc<Key>>>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    introspection: Option<Introspection>,
    cache: Mutex<TokenCache>,
}

impl Verifier {
    pub(crate) fn new(
        client: reqwest::Client,
        jwks_uris: Vec<(String, String)>,
        algorithms: Vec<Algorithm>,
        leeway: Duration,
        introspection: Option<Introspection>,
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
            cache: Mutex::default(),
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

    /// Verifies a bearer token, from the cache when it was verified before.
    pub(crate) async fn verify(
        &self,
        token: &str,
        audiences: &[String],
    ) -> Result<Arc<Principal>, Invalid> {
        let now = now();
        if let Some((principal, until)) = self.cache_lock().get(token)
            && now < *until
        {
            return Ok(Arc::clone(principal));
        }
        let (principal, until) = if token.split('.').count() == 3 {
            let p = self.verify_jwt(token, audiences).await?;
            let until = p.expires_at.unwrap_or(now);
            (p, until)
        } else if let Some(introspection) = &self.introspection {
            let p = self.introspect(introspection, token, audiences).await?;
            let until = p
                .expires_at
                .map_or(now + INTROSPECTION_TTL, |e| e.min(now + INTROSPECTION_TTL));
            (p, until)
        } else {
            return Err(Invalid(
                "not a JWT and no introspection endpoint is configured",
            ));
        };
        let principal = Arc::new(principal);
        let mut cache = self.cache_lock();
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, (_, until)| now < *until);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(token.into(), (Arc::clone(&principal), until));
        Ok(principal)
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
