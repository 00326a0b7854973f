//! The token endpoint: codes, refresh tokens and token exchange, and what the grants in
//! progress hold. A request with a `DPoP` proof (RFC 9449 §5) gets an access token bound to
//! the proof's key, and a public client's refresh token is bound to it too.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::clients::Client;
use super::{Dev, Params, lock, random_token, scope_list, unix_now};
use crate::transport::http::oauth::ProofRefused;

/// The token-exchange grant type (RFC 8693).
pub(super) const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
/// The scope that asks for a refresh token (OpenID Connect's convention, which clients
/// follow): a grant without it gets an access token only, and a client that needs more
/// scopes later asks the user again rather than refreshing into the same ones.
pub(super) const OFFLINE_ACCESS: &str = "offline_access";

/// How long a code may wait for its exchange.
const CODE_FOR: Duration = Duration::from_mins(1);
/// How long a sign-in page may wait for its answer.
const PENDING_FOR: Duration = Duration::from_mins(10);
/// How long a refresh token lives.
const REFRESH_FOR: Duration = Duration::from_hours(24);
/// Of each kind of grant in progress, at most this many are kept.
const MAX_GRANTS: usize = 10_000;

/// An authorization request that passed its checks.
#[derive(Clone, Debug)]
pub(super) struct Request {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) challenge: String,
    pub(super) scopes: Vec<String>,
    pub(super) resource: Option<String>,
    pub(super) state: Option<String>,
}

struct Code {
    request: Request,
    username: String,
    at: Instant,
    used: bool,
    /// The family of the refresh tokens issued from it, revoked if it is used twice.
    family: String,
}

struct Refresh {
    /// The grant it descends from: a code, through every rotation.
    family: String,
    client_id: String,
    username: String,
    scopes: Vec<String>,
    resource: Option<String>,
    at: Instant,
    /// The thumbprint of the key it is bound to: a public client's, when its code was
    /// redeemed with a DPoP proof.
    jkt: Option<String>,
}

/// The grants in progress.
#[derive(Default)]
pub(super) struct Grants {
    /// Each sign-in page's request, when it was shown, and the wrong passwords it took.
    pending: HashMap<String, (Request, Instant, u8)>,
    codes: HashMap<String, Code>,
    refresh: HashMap<String, Refresh>,
    /// Refresh tokens replaced by newer ones, and their family: presented again, they
    /// revoke it (OAuth 2.1, section 4.3.1).
    retired: HashMap<String, (String, Instant)>,
}

/// Makes room in `map` for one more entry: the expired go, then any one if still full.
fn room<T>(map: &mut HashMap<String, T>, expired: impl Fn(&T) -> bool) {
    if map.len() < MAX_GRANTS {
        return;
    }
    map.retain(|_, v| !expired(v));
    if map.len() >= MAX_GRANTS
        && let Some(any) = map.keys().next().cloned()
    {
        map.remove(&any);
    }
}

impl Grants {
    /// Keeps `request` while its sign-in page is open; the page's id for it.
    pub(super) fn pend(&mut self, request: Request) -> String {
        room(&mut self.pending, |(_, at, _)| at.elapsed() > PENDING_FOR);
        let id = random_token();
        self.pending
            .insert(id.clone(), (request, Instant::now(), 0));
        id
    }

    pub(super) fn pending(&self, id: &str) -> Option<Request> {
        self.pending
            .get(id)
            .filter(|(_, at, _)| at.elapsed() <= PENDING_FOR)
            .map(|(request, _, _)| request.clone())
    }

    /// Removes a sign-in page's request: `None` when another answer took it first.
    pub(super) fn take_pending(&mut self, id: &str) -> Option<Request> {
        self.pending.remove(id).map(|(request, _, _)| request)
    }

    /// Counts a wrong password on a sign-in page: false once it took `most`, and the page
    /// is gone.
    pub(super) fn failed_attempt(&mut self, id: &str, most: u8) -> bool {
        let Some((_, _, attempts)) = self.pending.get_mut(id) else {
            return false;
        };
        *attempts += 1;
        if *attempts >= most {
            self.pending.remove(id);
            return false;
        }
        true
    }

    /// Revokes every refresh token of `family`.
    fn revoke(&mut self, family: &str) {
        self.refresh.retain(|_, r| r.family != family);
    }

    /// A code for `username`'s consent to `request`.
    pub(super) fn code(&mut self, request: Request, username: &str) -> String {
        room(&mut self.codes, |c| c.at.elapsed() > CODE_FOR);
        let code = random_token();
        self.codes.insert(
            code.clone(),
            Code {
                request,
                username: username.to_owned(),
                at: Instant::now(),
                used: false,
                family: random_token(),
            },
        );
        code
    }

    fn keep_refresh(&mut self, refresh: Refresh) -> String {
        room(&mut self.refresh, |r| r.at.elapsed() > REFRESH_FOR);
        let token = random_token();
        self.refresh.insert(token.clone(), refresh);
        token
    }
}

/// An absolute `http(s)` URL without a fragment: what a resource indicator may be.
pub(super) fn is_resource(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.fragment().is_none())
}

/// An error answer of the token endpoint (RFC 6749, section 5.2).
fn refuse(error: &str, description: &str) -> Response {
    let status = match error {
        "invalid_client" => StatusCode::UNAUTHORIZED,
        "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    no_store(&mut response);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"token\""),
        );
    }
    response
}

fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// `POST /token`.
pub(super) async fn token(
    State(dev): State<Arc<Dev>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = match super::params(&body) {
        Ok(form) => form,
        Err(why) => return refuse("invalid_request", &why),
    };
    let client = match dev.authenticate(&headers, &form).await {
        Ok(client) => client,
        Err(response) => return response,
    };
    // Before the grant: a code is not used up by a request whose proof is refused.
    let jkt = match dev.proof_key(&headers).await {
        Ok(jkt) => jkt,
        Err(response) => return response,
    };
    let jkt = jkt.as_deref();
    let get = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    match get("grant_type") {
        Some("authorization_code") => dev.redeem(&client, &form, jkt),
        Some("refresh_token") => dev.refresh(&client, &form, jkt),
        Some(TOKEN_EXCHANGE) => dev.exchange(&client, &form, jkt),
        Some(other) => refuse(
            "unsupported_grant_type",
            &format!("`{other}` is not a grant type of this server"),
        ),
        None => refuse("invalid_request", "the request names no `grant_type`"),
    }
}

impl Dev {
    /// The thumbprint of the key a token request's `DPoP` proof proves it holds (RFC 9449
    /// §5: `htm` POST, `htu` the token endpoint, no `ath`); `None` without a proof.
    async fn proof_key(&self, headers: &HeaderMap) -> Result<Option<String>, Response> {
        let mut values = headers.get_all("dpop").iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(refuse(
                "invalid_dpop_proof",
                "a token request carries at most one `DPoP` proof",
            ));
        }
        let now = unix_now();
        let refused = |why| match why {
            ProofRefused::Invalid(why) => refuse(
                "invalid_dpop_proof",
                &format!("the DPoP proof is refused: {why}"),
            ),
            ProofRefused::Full | ProofRefused::Down => refuse(
                "temporarily_unavailable",
                "too many DPoP proofs to tell a replay; retry shortly",
            ),
        };
        let proof = value
            .to_str()
            .map_err(|_| ProofRefused::Invalid("not text"))
            .and_then(|proof| self.dpop.check(proof, "POST", None, now))
            .map_err(refused)?;
        self.dpop.first_use(&proof, now).await.map_err(refused)?;
        Ok(Some(proof.thumbprint))
    }

    /// The client making a token request: by HTTP Basic, by `client_secret` in the form, or
    /// a public client by its `client_id` alone.
    async fn authenticate(&self, headers: &HeaderMap, form: &Params) -> Result<Client, Response> {
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "));
        let (id, secret) = if let Some(basic) = basic {
            let decoded = STANDARD
                .decode(basic.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| refuse("invalid_client", "the Basic credentials cannot be read"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| refuse("invalid_client", "the Basic credentials cannot be read"))?;
            // RFC 6749, section 2.3.1: both are form-encoded inside the header.
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            (decode(id), Some(decode(secret)))
        } else {
            let id = form
                .get("client_id")
                .cloned()
                .ok_or_else(|| refuse("invalid_client", "the request names no client"))?;
            (
                id,
                form.get("client_secret").filter(|s| !s.is_empty()).cloned(),
            )
        };
        let client = self
            .client(&id)
            .await
            .map_err(|e| refuse("invalid_client", &e.0))?;
        let authentic = match (&client.secret, &secret) {
            (None, None) => true,
            (Some(expected), Some(given)) => {
                Sha256::digest(expected.as_bytes()) == Sha256::digest(given.as_bytes())
            }
            _ => false,
        };
        if !authentic {
            return Err(refuse(
                "invalid_client",
                "the client's credentials do not match",
            ));
        }
        Ok(client)
    }

    /// The authorization code grant.
    fn redeem(&self, client: &Client, form: &Params, jkt: Option<&str>) -> Response {
        let get = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
        let mut grants = lock(&self.grants);
        if get("code").is_empty() {
            return refuse("invalid_request", "the request names no `code`");
        }
        let Some(code) = grants.codes.get_mut(get("code")) else {
            return refuse("invalid_grant", "the code is unknown or expired");
        };
        if code.used {
            // A code used twice was likely stolen: what it gave is revoked (OAuth 2.1,
            // section 4.1.3), rotated or not.
            let family = code.family.clone();
            grants.codes.remove(get("code"));
            grants.revoke(&family);
            return refuse(
                "invalid_grant",
                "the code was used already; the tokens issued for it are revoked",
            );
        }
        code.used = true;
        if code.at.elapsed() > CODE_FOR {
            return refuse("invalid_grant", "the code expired");
        }
        if code.request.client_id != client.id {
            return refuse("invalid_grant", "the code was issued to another client");
        }
        if code.request.redirect_uri != get("redirect_uri") {
            return refuse(
                "invalid_grant",
                "`redirect_uri` differs from the authorization request's",
            );
        }
        let verifier = get("code_verifier");
        let proof = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if !(43..=128).contains(&verifier.len()) || proof != code.request.challenge {
            return refuse(
                "invalid_grant",
                "the code verifier does not match the code challenge",
            );
        }
        let resource = match (form.get("resource"), &code.request.resource) {
            (Some(asked), Some(granted)) if asked != granted => {
                return refuse(
                    "invalid_target",
                    "`resource` differs from the one authorized",
                );
            }
            (Some(asked), None) if !is_resource(asked) => {
                return refuse(
                    "invalid_target",
                    "`resource` must be an absolute http(s) URL without a fragment",
                );
            }
            (asked, granted) => granted.clone().or_else(|| asked.cloned()),
        };
        let username = code.username.clone();
        let scopes = self.grantable(&username, &code.request.scopes);
        let offline = code.request.scopes.iter().any(|s| s == OFFLINE_ACCESS);
        let family = code.family.clone();
        let refresh = offline.then(|| {
            grants.keep_refresh(Refresh {
                family,
                client_id: client.id.clone(),
                username: username.clone(),
                scopes: scopes.clone(),
                resource: resource.clone(),
                at: Instant::now(),
                // RFC 9449 §5: a public client's refresh token is bound to its key; a
                // confidential client's, to its credentials.
                jkt: jkt.filter(|_| client.secret.is_none()).map(str::to_owned),
            })
        });
        drop(grants);
        self.tokens(
            &username,
            client,
            resource.as_deref(),
            &scopes,
            refresh.as_deref(),
            None,
            jkt,
        )
    }

    /// The refresh token grant; the refresh token is replaced by a new one.
    fn refresh(&self, client: &Client, form: &Params, jkt: Option<&str>) -> Response {
        let given = form
            .get("refresh_token")
            .map(String::as_str)
            .unwrap_or_default();
        let mut grants = lock(&self.grants);
        let Some(old) = grants.refresh.remove(given) else {
            if let Some((family, _)) = grants.retired.remove(given) {
                // A replaced token presented again: one of its holders is not the client.
                grants.revoke(&family);
            }
            return refuse("invalid_grant", "the refresh token is unknown or expired");
        };
        if old.client_id != client.id || old.at.elapsed() > REFRESH_FOR {
            return refuse("invalid_grant", "the refresh token is unknown or expired");
        }
        if old.jkt.is_some() && old.jkt.as_deref() != jkt {
            grants.refresh.insert(given.to_owned(), old);
            return refuse(
                "invalid_dpop_proof",
                "this refresh token is bound to a key: present a DPoP proof signed by it",
            );
        }
        let mut asked = scope_list(form.get("scope").map(String::as_str));
        asked.retain(|s| s != OFFLINE_ACCESS);
        if let Some(extra) = asked.iter().find(|s| !old.scopes.contains(s)) {
            grants.refresh.insert(given.to_owned(), old);
            return refuse(
                "invalid_scope",
                &format!("`{extra}` was not granted to this refresh token"),
            );
        }
        let scopes = if asked.is_empty() {
            old.scopes.clone()
        } else {
            asked
        };
        // RFC 8707, section 2.2: no other resource than the one granted.
        if form
            .get("resource")
            .is_some_and(|r| old.resource.as_ref() != Some(r))
        {
            grants.refresh.insert(given.to_owned(), old);
            return refuse(
                "invalid_target",
                "`resource` differs from the one this refresh token was granted for",
            );
        }
        let resource = old.resource.clone();
        let username = old.username.clone();
        room(&mut grants.retired, |(_, at)| at.elapsed() > REFRESH_FOR);
        grants
            .retired
            .insert(given.to_owned(), (old.family.clone(), Instant::now()));
        let refresh = grants.keep_refresh(Refresh {
            at: Instant::now(),
            ..old
        });
        drop(grants);
        self.tokens(
            &username,
            client,
            resource.as_deref(),
            &scopes,
            Some(&refresh),
            None,
            jkt,
        )
    }

    /// Token exchange (RFC 8693): a configured client trades an access token of this
    /// server for one for another audience, on the same user's behalf.
    fn exchange(&self, client: &Client, form: &Params, jkt: Option<&str>) -> Response {
        let get = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
        if !client.configured {
            return refuse(
                "unauthorized_client",
                "token exchange is for the clients this server was configured with",
            );
        }
        let (Some(subject), Some(kind)) = (get("subject_token"), get("subject_token_type")) else {
            return refuse(
                "invalid_request",
                "token exchange needs `subject_token` and `subject_token_type`",
            );
        };
        if kind != ACCESS_TOKEN_TYPE && kind != JWT_TOKEN_TYPE {
            return refuse(
                "invalid_request",
                "`subject_token_type` must be an access token or a JWT",
            );
        }
        if get("requested_token_type").is_some_and(|t| t != ACCESS_TOKEN_TYPE) {
            return refuse(
                "invalid_request",
                "only access tokens are issued by exchange",
            );
        }
        let Some(claims) = self.key.verify(subject, &self.issuer) else {
            // RFC 8693, section 2.2.2.
            return refuse(
                "invalid_request",
                "the subject token is not a live access token of this server",
            );
        };
        let Some(target) = get("resource").or_else(|| get("audience")) else {
            return refuse(
                "invalid_target",
                "name the API the token is for with `resource` or `audience`",
            );
        };
        if get("resource").is_some_and(|r| !is_resource(r)) {
            return refuse(
                "invalid_target",
                "`resource` must be an absolute http(s) URL without a fragment",
            );
        }
        let username = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let asked = scope_list(get("scope"));
        if let Some(unknown) = asked.iter().find(|s| !self.scopes.contains(s)) {
            return refuse(
                "invalid_scope",
                &format!("this server has no scope `{unknown}`"),
            );
        }
        // Without scopes asked for, those of the subject token: never more than the user
        // granted by default.
        let asked = if asked.is_empty() {
            scope_list(claims.get("scope").and_then(Value::as_str))
        } else {
            asked
        };
        let scopes = self.grantable(&username, &asked);
        // Who acts now, and who acted before (RFC 8693, section 4.1).
        let mut actor = json!({"sub": client.id});
        if let Some(before) = claims.get("act") {
            actor["act"] = before.clone();
        }
        self.tokens(
            &username,
            client,
            Some(target),
            &scopes,
            None,
            Some(actor),
            jkt,
        )
    }

    /// Of `asked` (or, when it names none, of all the server's scopes), those `username`
    /// may be granted.
    fn grantable(&self, username: &str, asked: &[String]) -> Vec<String> {
        let asked: Vec<&String> = asked.iter().filter(|s| *s != OFFLINE_ACCESS).collect();
        let asked = if asked.is_empty() {
            self.scopes.iter().collect()
        } else {
            asked
        };
        let user = self.user(username);
        asked
            .into_iter()
            .filter(|s| user.is_none_or(|u| u.may_have(s)))
            .cloned()
            .collect()
    }

    /// The token response: an access token for `audience`, bound to the key of thumbprint
    /// `jkt` if any, and `refresh` if any.
    #[allow(clippy::too_many_arguments)]
    fn tokens(
        &self,
        username: &str,
        client: &Client,
        audience: Option<&str>,
        scopes: &[String],
        refresh: Option<&str>,
        actor: Option<Value>,
        jkt: Option<&str>,
    ) -> Response {
        let now = unix_now();
        let ttl = self.token_ttl.as_secs().max(1);
        let mut claims = Map::new();
        if let Some(user) = self.user(username) {
            claims.extend(user.claims.clone());
        }
        claims.insert("iss".into(), self.issuer.clone().into());
        claims.insert("sub".into(), username.into());
        claims.insert("aud".into(), audience.unwrap_or(&client.id).into());
        claims.insert("client_id".into(), client.id.clone().into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + ttl).into());
        claims.insert("jti".into(), random_token().into());
        let scope = scopes.join(" ");
        if !scope.is_empty() {
            claims.insert("scope".into(), scope.clone().into());
        }
        let exchanged = actor.is_some();
        if let Some(actor) = actor {
            claims.insert("act".into(), actor);
        }
        if let Some(jkt) = jkt {
            claims.insert("cnf".into(), json!({"jkt": jkt}));
        }
        let mut answer = json!({
            "access_token": self.key.sign(&claims),
            "token_type": if jkt.is_some() { "DPoP" } else { "Bearer" },
            "expires_in": ttl,
            "scope": scope,
        });
        if let Some(refresh) = refresh {
            answer["refresh_token"] = refresh.into();
        }
        if exchanged {
            answer["issued_token_type"] = ACCESS_TOKEN_TYPE.into();
        }
        let mut response = Json(answer).into_response();
        no_store(&mut response);
        response
    }
}
