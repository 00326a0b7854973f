//! Sender-constrained access tokens (DPoP, RFC 9449) on the resource server.
//!
//! A request presents `Authorization: DPoP <token>` and one `DPoP` header: a JWT the client
//! signs with its own key for this one request. The proof is checked (RFC 9449 §4.3) before
//! the token is: `typ` is `dpop+jwt`; `alg` an asymmetric algorithm this server allows
//! (never `none`, never HMAC); `jwk` a public key (no private members, RSA of 2048 to 4096
//! bits) that verifies the signature; `htm` the request's method; `htu` this server's
//! resource URL, compared after normalisation (scheme and host case, default port, no query
//! or fragment); `iat` within the proof lifetime (and the leeway); `ath` the base64url
//! SHA-256 of the token. Then the token's `cnf.jkt` must be the RFC 7638 thumbprint of the
//! proof's key, and last, the proof's `jti` must not have been seen within its lifetime.
//!
//! A token bound to a key (`cnf.jkt`) presented as a bearer token is refused: whoever holds
//! only the token cannot use it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Whether a server declared with `oauth` accepts or requires DPoP-bound access tokens
/// (RFC 9449); given to [`OAuthConfigBuilder::dpop`](super::OAuthConfigBuilder::dpop).
///
/// With [`Dpop::accept`], a client may present a bearer token or a DPoP-bound one with its
/// proof; with [`Dpop::require`], only the latter, and the protected resource metadata says
/// `dpop_bound_access_tokens_required`. Either way a token bound to a key is never accepted
/// as a bearer token.
///
/// ```
/// use std::time::Duration;
///
/// use mcp_runtime::oauth::{Algorithm, Dpop};
///
/// let dpop = Dpop::require()
///     .algorithms([Algorithm::ES256, Algorithm::EdDSA])
///     .proof_lifetime(Duration::from_secs(30));
/// # let _ = dpop;
/// ```
#[derive(Debug, Clone)]
pub struct Dpop {
    pub(crate) required: bool,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) lifetime: Duration,
    pub(crate) replay_entries: usize,
}

impl Dpop {
    /// Bearer tokens and DPoP-bound tokens (with a valid proof) are both accepted.
    pub fn accept() -> Self {
        use Algorithm::{ES256, ES384, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512};
        Self {
            required: false,
            algorithms: vec![
                ES256, ES384, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512,
            ],
            lifetime: Duration::from_mins(1),
            replay_entries: 200_000,
        }
    }

    /// Only DPoP-bound tokens with a valid proof are accepted.
    pub fn require() -> Self {
        Self {
            required: true,
            ..Self::accept()
        }
    }

    /// The algorithms a proof may be signed with (default: ES256, ES384, `EdDSA`, PS256 to
    /// PS512, RS256 to RS512). HMAC algorithms make [`build`](super::OAuthConfigBuilder::build) fail.
    #[must_use]
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// How long after its `iat` a proof is accepted (default 60 s), and so how long its
    /// `jti` is remembered.
    #[must_use]
    pub fn proof_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// How many proofs are remembered at most to refuse replays (default 200 000, about
    /// 16 MiB). When every one is still within its lifetime, a new proof is refused with
    /// 503 rather than one forgotten: raise it above the proofs a server receives in a
    /// proof lifetime.
    #[must_use]
    pub fn replay_cache_entries(mut self, entries: usize) -> Self {
        self.replay_entries = entries.max(1);
        self
    }
}

/// Why a proof is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProofRefused {
    /// The proof is not acceptable (`invalid_dpop_proof`), for the reason given (logged,
    /// never sent).
    Invalid(&'static str),
    /// The replay cache is full of live proofs.
    Full,
    /// The store shared by the replicas cannot be reached.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Down,
}

/// A proof that passed every check but the binding and its `jti`.
#[derive(Debug)]
pub(crate) struct Proof {
    /// The RFC 7638 thumbprint of the proof's key.
    pub(crate) thumbprint: String,
    /// What the replay cache remembers: a hash of the thumbprint and `jti`.
    seen: [u8; 32],
    /// Until when the proof could be accepted.
    until: u64,
}

/// The checks of one server: its settings, its URL and the proofs it has seen.
pub(crate) struct DpopCheck {
    pub(crate) settings: Dpop,
    /// The algorithms for `algs="…"`.
    pub(crate) algs: String,
    htu: String,
    leeway: u64,
    seen: Mutex<HashMap<[u8; 32], u64>>,
    /// Where the replicas record the proofs they have seen, instead of `seen`.
    #[cfg(feature = "redis")]
    pub(crate) shared: Option<crate::store::RedisStore>,
}

impl DpopCheck {
    pub(crate) fn new(settings: Dpop, resource: &url::Url, leeway: Duration) -> Self {
        let algs = settings
            .algorithms
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            settings,
            algs,
            htu: normalised(resource),
            leeway: leeway.as_secs(),
            seen: Mutex::default(),
            #[cfg(feature = "redis")]
            shared: None,
        }
    }

    /// Checks the proof `proof` of a request with `method`, presenting `token`, at `now`.
    /// Without a token (a request to a token endpoint, RFC 9449 §5), `ath` is not checked.
    pub(crate) fn check(
        &self,
        proof: &str,
        method: &str,
        token: Option<&str>,
        now: u64,
    ) -> Result<Proof, ProofRefused> {
        use ProofRefused::Invalid;
        let (signing_input, signature) = proof.rsplit_once('.').ok_or(Invalid("not a JWS"))?;
        let (header_part, claims_part) =
            signing_input.split_once('.').ok_or(Invalid("not a JWS"))?;
        let header: Value = decode(header_part).ok_or(Invalid("malformed header"))?;
        if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
            return Err(Invalid("typ is not dpop+jwt"));
        }
        let alg: Algorithm = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(|a| a.parse().ok())
            .ok_or(Invalid("unknown alg"))?;
        if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
            || !self.settings.algorithms.contains(&alg)
        {
            return Err(Invalid("alg not allowed"));
        }
        let jwk = header.get("jwk").ok_or(Invalid("no jwk"))?;
        let thumbprint = thumbprint(jwk).ok_or(Invalid("jwk is not a public key"))?;
        let parsed: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(jwk.clone()).map_err(|_| Invalid("jwk unreadable"))?;
        let key = DecodingKey::from_jwk(&parsed).map_err(|_| Invalid("jwk unusable"))?;
        if key.family() != alg.family() {
            return Err(Invalid("jwk does not fit alg"));
        }
        super::backend::ready();
        let signed = jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), &key, alg);
        if !matches!(signed, Ok(true)) {
            return Err(Invalid("signature invalid"));
        }
        let claims: Value = decode(claims_part).ok_or(Invalid("malformed claims"))?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        if text("htm") != Some(method) {
            return Err(Invalid("htm is not the request's method"));
        }
        let htu = text("htu")
            .and_then(|u| url::Url::parse(u).ok())
            .ok_or(Invalid("htu missing"))?;
        if normalised(&htu) != self.htu {
            return Err(Invalid("htu is not this server's URL"));
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_u64)
            .ok_or(Invalid("iat missing"))?;
        let lifetime = self.settings.lifetime.as_secs();
        if iat > now + self.leeway || iat + lifetime + self.leeway < now {
            return Err(Invalid("iat outside the proof lifetime"));
        }
        let jti = text("jti")
            .filter(|j| !j.is_empty() && j.len() <= 256)
            .ok_or(Invalid("jti missing"))?;
        if let Some(token) = token {
            let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
            if text("ath") != Some(ath.as_str()) {
                return Err(Invalid("ath is not the token's hash"));
            }
        }
        let mut seen = Sha256::new();
        seen.update(thumbprint.as_bytes());
        seen.update(b".");
        seen.update(jti.as_bytes());
        Ok(Proof {
            thumbprint,
            seen: seen.finalize().into(),
            until: iat + lifetime + self.leeway,
        })
    }

    /// Records `proof` as used, in the store the replicas share when there is one: refused
    /// if it was before.
    #[cfg_attr(not(feature = "redis"), allow(clippy::unused_async))]
    pub(crate) async fn first_use(&self, proof: &Proof, now: u64) -> Result<(), ProofRefused> {
        #[cfg(feature = "redis")]
        if let Some(store) = &self.shared {
            let ttl = Duration::from_secs(proof.until.saturating_sub(now).max(1));
            return match store.first_use(&proof.seen, ttl).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(ProofRefused::Invalid("jti replayed")),
                Err(_) => Err(ProofRefused::Down),
            };
        }
        self.remember(proof, now)
    }

    fn remember(&self, proof: &Proof, now: u64) -> Result<(), ProofRefused> {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.get(&proof.seen).is_some_and(|&until| until >= now) {
            return Err(ProofRefused::Invalid("jti replayed"));
        }
        if seen.len() >= self.settings.replay_entries {
            seen.retain(|_, until| *until >= now);
            if seen.len() >= self.settings.replay_entries {
                tracing::warn!(
                    entries = self.settings.replay_entries,
                    "the DPoP replay cache is full of live proofs; raise `Dpop::replay_cache_entries`"
                );
                return Err(ProofRefused::Full);
            }
        }
        seen.insert(proof.seen, proof.until);
        Ok(())
    }
}

/// The thumbprint a token's `cnf.jkt` names, if it is bound to a key.
pub(crate) fn bound_to(claims: &Value) -> Option<&str> {
    claims.get("cnf")?.get("jkt")?.as_str()
}

/// RFC 9449 §4.3: `htu` without query and fragment, scheme and host lowercased and the
/// default port dropped (which parsing does).
fn normalised(url: &url::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.into()
}

fn decode(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: its required members in
/// lexicographic order, without whitespace. `None` for a private key, an unknown key type
/// or an RSA modulus outside 2048–4096 bits.
pub(crate) fn thumbprint(jwk: &Value) -> Option<String> {
    const PRIVATE: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];
    let jwk = jwk.as_object()?;
    if PRIVATE.iter().any(|m| jwk.contains_key(*m)) {
        return None;
    }
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let kty = member("kty")?;
    let members: &[&str] = match kty {
        "RSA" => {
            // base64url of 256 to 512 bytes.
            let n = member("n")?.len();
            if !(342..=683).contains(&n) {
                return None;
            }
            &["e", "kty", "n"]
        }
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canonical = serde_json::Map::new();
    for name in members {
        canonical.insert((*name).to_owned(), Value::String(member(name)?.to_owned()));
    }
    // serde_json's map keeps its keys sorted, and writes no whitespace.
    let text = serde_json::to_string(&canonical).ok()?;
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_thumbprint_of_rfc_7638s_example_key() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }

    #[test]
    fn private_keys_and_odd_key_types_have_no_thumbprint() {
        let ec = json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b"});
        assert!(thumbprint(&ec).is_some());
        let mut private = ec.clone();
        private["d"] = json!("secret");
        assert_eq!(thumbprint(&private), None);
        assert_eq!(thumbprint(&json!({"kty": "oct", "k": "c2VjcmV0"})), None);
        assert_eq!(
            thumbprint(&json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"})),
            None
        );
    }

    #[test]
    fn htu_is_compared_without_query_fragment_default_port_or_case() {
        let a = url::Url::parse("HTTPS://Notes.Example.com:443/mcp?x=1#f").unwrap();
        let b = url::Url::parse("https://notes.example.com/mcp").unwrap();
        assert_eq!(normalised(&a), normalised(&b));
        let c = url::Url::parse("https://notes.example.com/mcp/other").unwrap();
        assert_ne!(normalised(&c), normalised(&b));
    }

    #[test]
    fn a_full_replay_cache_forgets_only_expired_proofs() {
        let check = DpopCheck::new(
            Dpop::accept().replay_cache_entries(2),
            &url::Url::parse("https://a.example/mcp").unwrap(),
            Duration::ZERO,
        );
        let proof = |n: u8, until| Proof {
            thumbprint: String::new(),
            seen: [n; 32],
            until,
        };
        check.remember(&proof(1, 100), 50).unwrap();
        assert_eq!(
            check.remember(&proof(1, 100), 60),
            Err(ProofRefused::Invalid("jti replayed"))
        );
        check.remember(&proof(2, 200), 60).unwrap();
        assert_eq!(check.remember(&proof(3, 300), 70), Err(ProofRefused::Full));
        // Proof 1 has expired by 150: its place is taken.
        check.remember(&proof(3, 300), 150).unwrap();
    }
}
