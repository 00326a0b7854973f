//! Access-token verification: JWTs (RFC 9068) against cached JWKS, opaque tokens through
//! RFC 7662 introspection, and a bounded cache of verified tokens that never outlives them.
//!
//! A JWT must be signed with an allowed asymmetric algorithm by a key of the JWKS of the
//! issuer it names (`alg=none`, HMAC and an `alg` that does not fit the key are refused),
//! carry that issuer as `iss`, one of the accepted audiences in `aud` (RFC 8707), an `exp`
//! in the future and no `nbf` in the future (with leeway), and a `sub`. An unknown `kid`
//! refreshes the issuer's JWKS, one fetch at a time and at most once per ten seconds; keys
//! past the lifetime the JWKS response gave (`Cache-Control: max-age`, between a minute and
//! a day, an hour without one) are fetched again, and kept in use while that fails.
//!
//! When the authorization server cannot be asked (its JWKS or introspection endpoint is
//! unreachable or failing), a token that needs it is not invalid but unchecked: it gets
//! [`Rejected::Unavailable`] (503), and the endpoint is tried again after a backoff that
//! doubles from one second to a minute, with jitter, so an outage costs one attempt per
//! backoff rather than one per request. Tokens already verified, and JWTs signed by keys
//! already fetched, are served throughout.
//!
//! The cache of verified tokens is bounded by bytes (a token and what was read from it), and
//! is read first: a valid token is served from it whatever else happens. Refused tokens and
//! each peer's failed checks are bounded by [`Failures`].

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::ConfigError;
use super::failures::{Budget, Failures};
use crate::auth::Principal;

/// The fewest seconds between two JWKS fetches of one issuer.
const REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// The bytes of verified tokens kept by default.
pub(crate) const TOKEN_CACHE_BYTES: usize = 16 * 1024 * 1024;
/// What an entry of the cache costs besides its token and claims (map slot, place in the
/// eviction order, principal).
const ENTRY_OVERHEAD: usize = 256;
/// How long an introspection answer is reused at most.
const INTROSPECTION_TTL: u64 = 60;

/// RFC 7662 settings.
#[derive(Clone)]
pub(crate) struct Introspection {
    pub(crate) endpoint: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<String>,
}

impl std::fmt::Debug for Introspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspection")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Why a token was refused. Deliberately coarse: the client learns only `invalid_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid(pub(crate) &'static str);

/// Why a token could not be accepted, as a check finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failed {
    Invalid(Invalid),
    /// The authorization server could not be asked: neither remembered nor charged to
    /// the client.
    Unavailable(Duration),
}

impl From<Invalid> for Failed {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(invalid)
    }
}

/// Consecutive failures of one endpoint of the authorization server, and until when it is
/// not tried again.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
    until: Option<Instant>,
}

impl Backoff {
    /// How long until the endpoint may be tried again, if it is resting.
    fn resting(&self) -> Option<Duration> {
        self.until
            .map(|until| until.saturating_duration_since(Instant::now()))
            .filter(|left| !left.is_zero())
    }

    /// Records a failure: the endpoint rests 1 s, 2 s, 4 s … up to a minute, each between
    /// half and all of that at random. Failures of attempts made before the rest began
    /// (requests that were already under way) do not lengthen it.
    fn failed(&mut self) -> Duration {
        if let Some(left) = self.resting() {
            return left;
        }
        self.failures = self.failures.saturating_add(1);
        let full =
            Duration::from_secs(1 << self.failures.min(7).saturating_sub(1)).min(MAX_BACKOFF);
        let rest = full.mul_f64(0.5 + rand::random::<f64>() / 2.0);
        self.until = Some(Instant::now() + rest);
        rest
    }

    fn succeeded(&mut self) {
        *self = Self::default();
    }
}

/// The longest rest between two attempts at an endpoint that fails.
const MAX_BACKOFF: Duration = Duration::from_mins(1);
/// How long fetched keys are used before they are fetched again, without `Cache-Control`.
const KEYS_FRESH_FOR: Duration = Duration::from_hours(1);
/// One issuer's keys: where they are, and for a URI its metadata named, how long that
/// metadata is used before it is read again ([`fresh_for`] its `max-age`).
pub(crate) struct JwksSource {
    pub(crate) issuer: String,
    pub(crate) jwks_uri: String,
    pub(crate) metadata_fresh_for: Option<Duration>,
}

/// How long a document with `max_age` is used: within [`KEYS_FRESH_BOUNDS`], an hour
/// without one.
pub(crate) fn fresh_for(max_age: Option<Duration>) -> Duration {
    max_age.map_or(KEYS_FRESH_FOR, |age| {
        age.clamp(KEYS_FRESH_BOUNDS.0, KEYS_FRESH_BOUNDS.1)
    })
}

/// The bounds put on a JWKS or metadata response's `max-age`.
const KEYS_FRESH_BOUNDS: (Duration, Duration) = (Duration::from_mins(1), Duration::from_hours(24));

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// The token is not valid.
    Invalid(Invalid),
    /// The peer spent its budget of failed checks; it may try again after this long.
    Throttled(Duration),
    /// The authorization server cannot be asked now; try again after this long.
    Unavailable(Duration),
}

struct Key {
    issuer: usize,
    kid: Option<String>,
    alg: Option<Algorithm>,
    decoding: DecodingKey,
}

struct Source {
    issuer: String,
    /// Whether its JWKS URI came from its metadata, which is then read again once stale.
    discovered: bool,
    fetched: tokio::sync::Mutex<Fetched>,
}

/// Where an issuer's keys are, when they were fetched, until when they (and the metadata
/// that named their URI) are fresh, and how fetching fails.
#[derive(Debug, Default)]
struct Fetched {
    jwks_uri: String,
    metadata_fresh_until: Option<Instant>,
    /// The last fetch that found the keys, other than the one at startup.
    at: Option<Instant>,
    fresh_until: Option<Instant>,
    outage: Backoff,
}

/// Why an issuer's keys are fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch {
    Startup,
    UnknownKey,
    Stale,
}

/// A JWKS fetch that failed: why, and how long the endpoint rests.
struct FetchFailed {
    why: String,
    rest: Duration,
}

/// Verified tokens: each one's principal, the Unix time until which it may be reused, and
/// the bytes it takes; bounded by `budget` bytes in all. When full, the oldest entries go
/// first (expired or not), in constant time per insert whatever the cache holds.
///
/// Keys hash with foldhash, seeded at random per process: a token is hundreds of bytes,
/// hashed up to four times per first sight, and only verified tokens are ever inserted.
#[derive(Default)]
struct TokenCache {
    map: HashMap<Arc<str>, Cached, foldhash::fast::RandomState>,
    /// Tokens in the order they were inserted, with the `seq` of that insert; one whose entry
    /// was replaced or dropped since is skipped when it comes up.
    order: VecDeque<(Arc<str>, u64)>,
    seq: u64,
    bytes: usize,
    budget: usize,
}

struct Cached {
    principal: Arc<Principal>,
    until: u64,
    size: usize,
    seq: u64,
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
            .filter(|c| now < c.until)
            .map(|c| &c.principal)
    }

    /// Keeps `principal` for `token` until `until`, making room by dropping the oldest
    /// entries; a token larger than the whole budget is not kept.
    /// `claims_bytes`: the size of the claims as they arrived (JSON text).
    fn insert(&mut self, token: &str, principal: Arc<Principal>, until: u64, claims_bytes: usize) {
        let size = token.len() + principal.delegation.size() + claims_bytes + ENTRY_OVERHEAD;
        if size > self.budget {
            return;
        }
        if let Some(old) = self.map.remove(token) {
            self.bytes -= old.size;
        }
        while self.bytes + size > self.budget {
            let Some((oldest, seq)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&oldest).is_some_and(|c| c.seq == seq)
                && let Some(c) = self.map.remove(&oldest)
            {
                self.bytes -= c.size;
            }
        }
        // Re-inserted tokens leave stale places behind; they never outnumber the live ones
        // for long.
        if self.order.len() > 2 * self.map.len() + 16 {
            let map = &self.map;
            self.order
                .retain(|(t, seq)| map.get(t).is_some_and(|c| c.seq == *seq));
        }
        self.seq += 1;
        let token: Arc<str> = token.into();
        self.order.push_back((Arc::clone(&token), self.seq));
        self.bytes += size;
        self.map.insert(
            token,
            Cached {
                principal,
                until,
                size,
                seq: self.seq,
            },
        );
    }
}

pub(crate) struct Verifier {
    client: reqwest::Client,
    sources: Vec<Source>,
    keys: RwLock<Vec<Arc<Key>>>,
    profile: crate::auth::IdpProfile,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    introspection: Option<Introspection>,
    introspection_outage: Mutex<Backoff>,
    cache: Mutex<TokenCache>,
    failures: Failures,
    /// Exchanges the tokens of the callers of one issuer (the first), when the server was
    /// given client credentials for it: another issuer's tokens never go to it.
    exchanger: Option<(String, Arc<dyn crate::auth::Exchange>)>,
}

impl Verifier {
    pub(crate) fn new(
        client: reqwest::Client,
        jwks_uris: Vec<JwksSource>,
        (profile, algorithms, leeway): (crate::auth::IdpProfile, Vec<Algorithm>, Duration),
        introspection: Option<Introspection>,
        cache_bytes: usize,
        budgets: (Budget, Budget),
    ) -> Self {
        let sources = jwks_uris
            .into_iter()
            .map(|source| Source {
                issuer: source.issuer,
                discovered: source.metadata_fresh_for.is_some(),
                fetched: tokio::sync::Mutex::new(Fetched {
                    jwks_uri: source.jwks_uri,
                    metadata_fresh_until: source
                        .metadata_fresh_for
                        .map(|fresh_for| Instant::now() + fresh_for),
                    ..Fetched::default()
                }),
            })
            .collect();
        Self {
            client,
            sources,
            keys: RwLock::default(),
            profile,
            algorithms,
            leeway,
            introspection,
            introspection_outage: Mutex::default(),
            cache: Mutex::new(TokenCache::new(cache_bytes)),
            failures: Failures::new(budgets.0, budgets.1),
            exchanger: None,
        }
    }

    /// Keeps the token of each verified caller of `issuer` for `exchanger` to exchange.
    pub(crate) fn exchange_with(
        &mut self,
        issuer: String,
        exchanger: Arc<dyn crate::auth::Exchange>,
    ) {
        self.exchanger = Some((issuer, exchanger));
    }

    /// Fetches every JWKS once, failing when one cannot be had.
    pub(crate) async fn prefetch(&self) -> Result<(), ConfigError> {
        for i in 0..self.sources.len() {
            self.refresh(i, Fetch::Startup)
                .await
                .map_err(|failed| ConfigError::Discovery {
                    issuer: self.sources[i].issuer.clone(),
                    why: failed.why,
                })?;
        }
        Ok(())
    }

    /// An issuer whose every key names an algorithm this server does not allow, and those
    /// algorithms: its tokens could never be verified.
    pub(crate) fn unusable_keys(&self) -> Option<(String, String)> {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.sources.iter().enumerate().find_map(|(i, source)| {
            let mine: Vec<&Arc<Key>> = keys.iter().filter(|k| k.issuer == i).collect();
            let usable = mine
                .iter()
                .any(|k| k.alg.is_none_or(|a| self.algorithms.contains(&a)));
            (!mine.is_empty() && !usable).then(|| {
                let algs: Vec<String> = mine
                    .iter()
                    .filter_map(|k| k.alg.map(|a| format!("{a:?}")))
                    .collect();
                (source.issuer.clone(), algs.join(", "))
            })
        })
    }

    /// Fetches one issuer's keys again, unless another request just did, they are still
    /// fresh (for [`Fetch::Stale`]), or the JWKS endpoint rests after failing.
    async fn refresh(&self, source: usize, reason: Fetch) -> Result<(), FetchFailed> {
        let src = &self.sources[source];
        // Keys merely past their lifetime are still good: while another request fetches
        // them, this one goes on with those held rather than wait for it.
        let mut fetched = if reason == Fetch::Stale {
            match src.fetched.try_lock() {
                Ok(fetched) => fetched,
                Err(_) => return Ok(()),
            }
        } else {
            src.fetched.lock().await
        };
        if reason != Fetch::Startup {
            if let Some(rest) = fetched.outage.resting() {
                return Err(FetchFailed {
                    why: "resting after a failure".into(),
                    rest,
                });
            }
            let done = match reason {
                Fetch::UnknownKey => fetched.at.is_some_and(|t| t.elapsed() < REFRESH_INTERVAL),
                _ => fetched.fresh_until.is_some_and(|t| Instant::now() < t),
            };
            if done {
                return Ok(());
            }
        }
        if reason != Fetch::Startup
            && src.discovered
            && fetched
                .metadata_fresh_until
                .is_some_and(|t| Instant::now() >= t)
        {
            self.rediscover(src, &mut fetched).await;
        }
        match self.fetch_keys(source, &fetched.jwks_uri).await {
            Ok((fresh, max_age)) => {
                let now = Instant::now();
                // The fetch at startup does not count, so a key rotated just after startup
                // is found.
                if reason != Fetch::Startup {
                    fetched.at = Some(now);
                }
                fetched.fresh_until = Some(now + fresh_for(max_age));
                fetched.outage.succeeded();
                let mut keys = self
                    .keys
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                keys.retain(|k| k.issuer != source);
                keys.extend(fresh);
                Ok(())
            }
            Err(why) => {
                let rest = fetched.outage.failed();
                if reason != Fetch::Startup {
                    tracing::warn!(
                        issuer = %src.issuer,
                        error = %why,
                        retry_in = ?rest,
                        "cannot fetch the issuer's keys; tokens signed by keys fetched before are still accepted"
                    );
                }
                Err(FetchFailed { why, rest })
            }
        }
    }

    /// Reads an issuer's metadata again, its lifetime over: the JWKS URI it names now. On
    /// failure the URI known stays, and the metadata is asked again a minute later.
    async fn rediscover(&self, src: &Source, fetched: &mut Fetched) {
        match discover(&self.client, &src.issuer).await {
            Ok((metadata, max_age)) => {
                if let Some(uri) = metadata.get("jwks_uri").and_then(Value::as_str)
                    && uri != fetched.jwks_uri
                {
                    tracing::info!(issuer = %src.issuer, jwks = uri, "the issuer's metadata names another JWKS");
                    uri.clone_into(&mut fetched.jwks_uri);
                }
                fetched.metadata_fresh_until = Some(Instant::now() + fresh_for(max_age));
            }
            Err(e) => {
                tracing::warn!(issuer = %src.issuer, error = %e, "cannot read the issuer's metadata again; keeping its JWKS URI");
                fetched.metadata_fresh_until = Some(Instant::now() + KEYS_FRESH_BOUNDS.0);
            }
        }
    }

    /// The usable keys of the JWKS at `uri`, and how long the response says they keep.
    async fn fetch_keys(
        &self,
        source: usize,
        uri: &str,
    ) -> Result<(Vec<Arc<Key>>, Option<Duration>), String> {
        let (value, max_age) = fetch_json(&self.client, uri).await?;
        let set: JwkSet =
            serde_json::from_value(value).map_err(|e| format!("its JWKS is malformed: {e}"))?;
        let mut fresh = Vec::new();
        for jwk in &set.keys {
            // Keys this crate cannot use (for instance an encryption key) are skipped.
            super::backend::ready();
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
            return Err(format!("its JWKS at `{uri}` has no usable signing key"));
        }
        Ok((fresh, max_age))
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
        if let Err(Failed::Invalid(_)) = &checked {
            self.failures.record(token, peer);
        } else if let Some((peer, spent)) = &spent {
            self.failures.refund(*peer, spent);
        }
        let (mut principal, until, claims_bytes) = checked.map_err(|failed| match failed {
            Failed::Invalid(invalid) => Rejected::Invalid(invalid),
            Failed::Unavailable(rest) => Rejected::Unavailable(rest),
        })?;
        if let Some((issuer, exchanger)) = &self.exchanger
            && same_issuer(issuer, &principal.issuer)
        {
            principal.delegation = crate::auth::Delegation::new(token, Arc::clone(exchanger));
        }
        let principal = Arc::new(principal);
        self.cache_lock()
            .insert(token, Arc::clone(&principal), until, claims_bytes);
        Ok(principal)
    }

    /// Checks a token not seen before: its principal, and until when it may be reused.
    async fn check(
        &self,
        token: &str,
        audiences: &[String],
        now: u64,
    ) -> Result<(Principal, u64, usize), Failed> {
        if token.split('.').count() == 3 && !self.sources.is_empty() {
            let p = self.verify_jwt(token, audiences).await?;
            let until = p.expires_at.unwrap_or(now);
            // The claims are inside the token, base64url-encoded: a third larger.
            Ok((p, until, token.len() * 3 / 4))
        } else if let Some(introspection) = &self.introspection {
            let p = self.introspect(introspection, token, audiences).await?;
            let until = p
                .expires_at
                .map_or(now + INTROSPECTION_TTL, |e| e.min(now + INTROSPECTION_TTL));
            let bytes = p.claims.to_string().len();
            Ok((p, until, bytes))
        } else {
            Err(Invalid("not a JWT and no introspection endpoint is configured").into())
        }
    }

    fn cache_lock(&self) -> std::sync::MutexGuard<'_, TokenCache> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Verifies a JWT: its header read once, its signature checked over the bytes as sent,
    /// its claims parsed once and checked here (`exp`, `nbf` with the leeway, `iss`, `sub`,
    /// `aud`).
    async fn verify_jwt(&self, token: &str, audiences: &[String]) -> Result<Principal, Failed> {
        let (signing_input, signature) = token.rsplit_once('.').ok_or(Invalid("malformed JWT"))?;
        let (header_part, payload_part) = signing_input
            .split_once('.')
            .ok_or(Invalid("malformed JWT"))?;
        let header: JwtHeader = decode_part(header_part).ok_or(Invalid("malformed JWT header"))?;
        if !self.algorithms.contains(&header.alg) {
            return Err(Invalid("algorithm not allowed").into());
        }
        if let Some(typ) = &header.typ
            && !["at+jwt", "application/at+jwt", "jwt"]
                .iter()
                .any(|t| t.eq_ignore_ascii_case(typ))
        {
            return Err(Invalid("not an access token").into());
        }
        for i in 0..self.sources.len() {
            // Keys past their lifetime: fetched again, and still used while that fails.
            let _ = self.refresh(i, Fetch::Stale).await;
        }
        let mut candidates = self.find_key(header.kid.as_deref(), header.alg);
        if candidates.is_empty() && header.kid.is_some() {
            let mut outage = None;
            for i in 0..self.sources.len() {
                if let Err(failed) = self.refresh(i, Fetch::UnknownKey).await {
                    outage = Some(failed.rest);
                }
            }
            candidates = self.find_key(header.kid.as_deref(), header.alg);
            // The key may be one an issuer that cannot be asked now has added.
            if let (true, Some(rest)) = (candidates.is_empty(), outage) {
                return Err(Failed::Unavailable(rest));
            }
        }
        let mut claims = None;
        for key in candidates {
            // An RSA key is never an HMAC secret, nor an EC key an RSA one.
            if key.decoding.family() != header.alg.family() {
                continue;
            }
            super::backend::ready();
            let signed = jsonwebtoken::crypto::verify(
                signature,
                signing_input.as_bytes(),
                &key.decoding,
                header.alg,
            );
            if !matches!(signed, Ok(true)) {
                continue;
            }
            let read: Value = match &claims {
                Some(read) => Value::clone(read),
                None => decode_part(payload_part).ok_or(Invalid("malformed JWT claims"))?,
            };
            let issuer = &self.sources[key.issuer].issuer;
            if claims_valid(&read, issuer, now(), self.leeway) {
                if !audience_matches(read.get("aud"), audiences) {
                    return Err(Invalid("audience mismatch").into());
                }
                return Principal::read(read, &self.profile)
                    .ok_or(Invalid("claims unusable").into());
            }
            claims = Some(read);
        }
        Err(Invalid("signature or claims invalid").into())
    }

    async fn introspect(
        &self,
        cfg: &Introspection,
        token: &str,
        audiences: &[String],
    ) -> Result<Principal, Failed> {
        if let Some(rest) = lock(&self.introspection_outage).resting() {
            return Err(Failed::Unavailable(rest));
        }
        let outage = |why: &str| {
            let rest = lock(&self.introspection_outage).failed();
            tracing::warn!(error = why, retry_in = ?rest, "cannot introspect access tokens");
            Failed::Unavailable(rest)
        };
        let mut req = self
            .client
            .post(&cfg.endpoint)
            .header("accept", "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")]);
        req = match &cfg.client_secret {
            Some(secret) => req.basic_auth(&cfg.client_id, Some(secret)),
            None => req.query(&[("client_id", &cfg.client_id)]),
        };
        let resp = req.send().await.map_err(|e| outage(&without_url(&e)))?;
        let status = resp.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(outage(&format!("the endpoint answered {status}")));
        }
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            // This server's own credentials, not the token: no token can be checked.
            tracing::error!(
                %status,
                "the introspection endpoint refuses this server's credentials; check the client id and secret"
            );
            return Err(outage(&format!("the endpoint answered {status}")));
        }
        if !status.is_success() {
            // Most often the token itself (too large, malformed) made the request fail.
            return Err(Invalid("introspection refused the token").into());
        }
        let claims: Value = resp
            .json()
            .await
            .map_err(|_| outage("the endpoint's answer is not JSON"))?;
        lock(&self.introspection_outage).succeeded();
        if claims.get("active") != Some(&Value::Bool(true)) {
            return Err(Invalid("inactive").into());
        }
        if claims
            .get("exp")
            .and_then(Value::as_u64)
            .is_some_and(|exp| exp.saturating_add(self.leeway.as_secs()) <= now())
        {
            return Err(Invalid("expired").into());
        }
        if let Some(iss) = claims.get("iss").and_then(Value::as_str)
            && !self.sources.iter().any(|s| same_issuer(&s.issuer, iss))
        {
            return Err(Invalid("issuer mismatch").into());
        }
        if !audience_matches(claims.get("aud"), audiences) {
            return Err(Invalid("audience mismatch").into());
        }
        Principal::read(claims, &self.profile).ok_or(Invalid("claims unusable").into())
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
    // Most tokens name the resource exactly as configured.
    let exact = |v: &Value| v.as_str().is_some_and(|s| audiences.iter().any(|a| a == s));
    let found = match aud {
        Some(Value::Array(items)) => items.iter().any(exact),
        Some(v) => exact(v),
        None => return false,
    };
    if found {
        return true;
    }
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

/// RFC 9068's time and identity claims at Unix time `now`: `exp` (required), `nbf` (when
/// present) with `leeway`, `iss` naming the key's issuer, and a `sub`.
#[allow(
    clippy::cast_precision_loss,
    reason = "Unix seconds are far below 2^53"
)]
fn claims_valid(claims: &Value, issuer: &str, now: u64, leeway: Duration) -> bool {
    let (now, leeway) = (now as f64, leeway.as_secs_f64());
    let number = |name: &str| claims.get(name).map(Value::as_f64);
    let live = matches!(number("exp"), Some(Some(exp)) if exp >= now - leeway);
    let started = match number("nbf") {
        None => true,
        Some(Some(nbf)) => nbf <= now + leeway,
        Some(None) => false,
    };
    live && started
        && claims.get("iss").and_then(Value::as_str) == Some(issuer)
        && claims.get("sub").is_some()
}

/// The members of a JWT header this verifier reads.
#[derive(serde::Deserialize)]
struct JwtHeader {
    alg: Algorithm,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
}

/// A base64url part of a JWT, read as JSON.
fn decode_part<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// A JSON document, and the `max-age` of its `Cache-Control` (none for `no-store` or
/// `no-cache`, which leave it to the caller's default).
async fn fetch_json(
    client: &reqwest::Client,
    url: &str,
) -> Result<(Value, Option<Duration>), String> {
    let resp = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("`{url}` is unreachable: {}", without_url(&e)))?;
    if !resp.status().is_success() {
        return Err(format!("`{url}` answered {}", resp.status()));
    }
    let max_age = resp
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age);
    let value = resp
        .json()
        .await
        .map_err(|e| format!("`{url}` did not return JSON: {}", without_url(&e)))?;
    Ok((value, max_age))
}

/// The `max-age` directive of a `Cache-Control` value.
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|directive| {
        let (name, value) = directive.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| value.trim().trim_matches('"').parse().ok())
            .flatten()
            .map(Duration::from_secs)
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
/// The document's `issuer` must be the configured one (RFC 8414 §3.3). The document, and
/// the `max-age` of its `Cache-Control`.
pub(crate) async fn discover(
    client: &reqwest::Client,
    issuer: &str,
) -> Result<(Value, Option<Duration>), ConfigError> {
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
            Ok((doc, max_age)) => {
                let named = doc
                    .get("issuer")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !same_issuer(named, issuer) {
                    return Err(fail(format!(
                        "its metadata at `{candidate}` names issuer `{named}`; the configured issuer must match it exactly"
                    )));
                }
                return Ok((doc, max_age));
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

    /// The claims' size the cache tests give for their tokens.
    const CLAIMS: usize = 3100;

    fn principal(claims: serde_json::Value) -> Arc<Principal> {
        Arc::new(Principal::from_claims(claims).unwrap())
    }

    #[test]
    fn time_and_identity_claims_are_checked_with_the_leeway() {
        let (now, leeway, iss) = (1_000_000, Duration::from_secs(30), "https://as");
        let ok = |claims: serde_json::Value| claims_valid(&claims, iss, now, leeway);
        let base = json!({"iss": iss, "sub": "alice", "exp": now + 60});
        assert!(ok(base.clone()));
        let with = |k: &str, v: serde_json::Value| {
            let mut c = base.clone();
            c[k] = v;
            c
        };
        assert!(
            ok(with("exp", json!(now - 30))),
            "expired within the leeway"
        );
        assert!(!ok(with("exp", json!(now - 31))));
        assert!(
            ok(with("exp", json!(1_000_059.5))),
            "NumericDate may be fractional"
        );
        assert!(!ok(with("exp", json!("2030-01-01"))));
        assert!(
            ok(with("nbf", json!(now + 30))),
            "not before, within the leeway"
        );
        assert!(!ok(with("nbf", json!(now + 31))));
        assert!(!ok(with("nbf", json!(null))));
        assert!(
            !ok(with("iss", json!("https://as/"))),
            "iss is compared exactly"
        );
        assert!(!ok(with("iss", json!(null))));
        let mut no_sub = base.clone();
        no_sub.as_object_mut().unwrap().remove("sub");
        assert!(!ok(no_sub));
        let mut no_exp = base;
        no_exp.as_object_mut().unwrap().remove("exp");
        assert!(!ok(no_exp));
    }

    #[test]
    fn the_token_cache_is_bounded_by_bytes() {
        let budget = 64 * 1024;
        let mut cache = TokenCache::new(budget);
        let now = 1000;
        let claims = json!({"sub": "alice", "iss": "https://as", "pad": "x".repeat(3000)});
        for i in 0..100 {
            let token = format!("{i:04}{}", "t".repeat(4000));
            cache.insert(&token, principal(claims.clone()), now + 60, CLAIMS);
            assert!(cache.bytes <= budget, "{} bytes after {i}", cache.bytes);
            assert!(cache.get(&token, now).is_some(), "the newest token is kept");
        }
        let counted: usize = cache.map.values().map(|c| c.size).sum();
        assert_eq!(counted, cache.bytes);
        assert!(cache.map.len() < 10, "{} entries", cache.map.len());

        let huge = "h".repeat(budget);
        cache.insert(&huge, principal(claims.clone()), now + 60, CLAIMS);
        assert!(
            cache.get(&huge, now).is_none(),
            "larger than the budget: not kept"
        );
        assert!(cache.bytes <= budget);

        // Expired entries are never served.
        cache.insert("old", principal(claims.clone()), now + 1, CLAIMS);
        assert!(cache.get("old", now + 2).is_none());
    }

    #[test]
    fn the_oldest_tokens_make_room_and_reinserts_leave_nothing_behind() {
        let claims = json!({"sub": "alice", "iss": "https://as"});
        let one = "t".len() + CLAIMS + ENTRY_OVERHEAD;
        let mut cache = TokenCache::new(3 * one + one / 2);
        let now = 1000;
        for t in ["a", "b", "c"] {
            cache.insert(t, principal(claims.clone()), now + 60, CLAIMS);
        }
        // `a` again: now the newest, so `b` goes first.
        cache.insert("a", principal(claims.clone()), now + 60, CLAIMS);
        cache.insert("d", principal(claims.clone()), now + 60, CLAIMS);
        let kept: Vec<bool> = ["a", "b", "c", "d"]
            .iter()
            .map(|t| cache.get(t, now).is_some())
            .collect();
        assert_eq!(kept, [true, false, true, true]);
        // The same token verified again and again keeps one place in the order.
        for _ in 0..10_000 {
            cache.insert("c", principal(claims.clone()), now + 60, CLAIMS);
        }
        assert_eq!(cache.map.len(), 3);
        assert!(cache.order.len() <= 2 * 3 + 17, "{}", cache.order.len());
        let counted: usize = cache.map.values().map(|c| c.size).sum();
        assert_eq!(counted, cache.bytes);
    }

    /// Once the metadata's lifetime is over, the JWKS URI it names now is the one fetched.
    #[cfg(feature = "testing")]
    #[tokio::test]
    async fn stale_metadata_is_read_again_for_its_jwks_uri() {
        let keys = crate::testing::TestIssuer::start().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let metadata = json!({"issuer": issuer, "jwks_uri": format!("{}/jwks", keys.url())});
        let app = axum::Router::new().route(
            "/.well-known/oauth-authorization-server",
            axum::routing::get(move || async move { axum::Json(metadata) }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let verifier = Verifier::new(
            reqwest::Client::new(),
            vec![JwksSource {
                issuer: issuer.clone(),
                // Where the keys were when the metadata was first read.
                jwks_uri: format!("{issuer}/old-jwks"),
                metadata_fresh_for: Some(Duration::from_mins(1)),
            }],
            (
                crate::auth::IdpProfile::generic(),
                vec![Algorithm::RS256],
                Duration::ZERO,
            ),
            None,
            TOKEN_CACHE_BYTES,
            (Budget::PER_PEER, Budget::TOTAL),
        );
        assert!(
            verifier.refresh(0, Fetch::UnknownKey).await.is_err(),
            "the old URI is gone"
        );
        verifier.sources[0].fetched.lock().await.outage = Backoff::default();
        assert!(
            verifier.refresh(0, Fetch::UnknownKey).await.is_err(),
            "still fresh"
        );
        {
            let mut fetched = verifier.sources[0].fetched.lock().await;
            fetched.outage = Backoff::default();
            fetched.metadata_fresh_until = Some(Instant::now());
        }
        assert!(verifier.refresh(0, Fetch::UnknownKey).await.is_ok());
        assert!(
            !verifier
                .find_key(Some(crate::testing::KEY_ID), Algorithm::RS256)
                .is_empty()
        );
        let fetched = verifier.sources[0].fetched.lock().await;
        assert_eq!(fetched.jwks_uri, format!("{}/jwks", keys.url()));
        assert!(fetched.metadata_fresh_until.unwrap() > Instant::now() + Duration::from_secs(30));
    }

    #[test]
    fn cache_control_gives_max_age() {
        assert_eq!(max_age("public, max-age=300"), Some(Duration::from_mins(5)));
        assert_eq!(
            max_age("Max-Age=\"60\", must-revalidate"),
            Some(Duration::from_mins(1))
        );
        assert_eq!(max_age("no-store"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }

    #[test]
    fn backoff_doubles_to_a_minute_with_jitter_and_resets() {
        let mut backoff = Backoff::default();
        assert!(backoff.resting().is_none());
        let mut last = Duration::ZERO;
        for n in 0..10u32 {
            // The rest before is over.
            backoff.until = None;
            let rest = backoff.failed();
            let full = Duration::from_secs(1 << n.min(6)).min(MAX_BACKOFF);
            assert!(
                rest >= full / 2 && rest <= full,
                "{n}: {rest:?} of {full:?}"
            );
            assert!(rest * 2 >= last || full == MAX_BACKOFF, "grows");
            last = rest;
        }
        assert!(backoff.resting().is_some());
        let before = backoff.failures;
        assert!(backoff.failed() <= MAX_BACKOFF);
        assert_eq!(
            backoff.failures, before,
            "a failure while resting does not count"
        );
        backoff.succeeded();
        assert!(backoff.resting().is_none());
        assert!(backoff.failed() <= Duration::from_secs(1));
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
