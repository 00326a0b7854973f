//! Token exchange (RFC 8693) at the authorization server's token endpoint, with the
//! resource server's own client credentials, and a bounded cache of what it gave.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::BoxFuture;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::verifier::now;
use crate::auth::{Exchange, ExchangeError, ExchangedToken};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Exchanged tokens kept at most.
const CACHED: usize = 10_000;
/// A cached token is not handed out in its last seconds.
const MARGIN: u64 = 30;

pub(crate) struct Exchanger {
    client: reqwest::Client,
    endpoint: String,
    client_id: String,
    client_secret: String,
    /// By caller token, target and scopes (hashed): the token and when it expires.
    cache: Mutex<HashMap<[u8; 32], (ExchangedToken, u64)>>,
}

impl Exchanger {
    pub(crate) fn new(
        client: reqwest::Client,
        endpoint: String,
        client_id: String,
        client_secret: String,
    ) -> Self {
        Self {
            client,
            endpoint,
            client_id,
            client_secret,
            cache: Mutex::default(),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], (ExchangedToken, u64)>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn ask(
        &self,
        subject: &str,
        target: &str,
        scopes: &[&str],
    ) -> Result<ExchangedToken, ExchangeError> {
        let mut sorted: Vec<&str> = scopes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let key: [u8; 32] = Sha256::new()
            .chain_update(subject)
            .chain_update([0])
            .chain_update(target)
            .chain_update([0])
            .chain_update(sorted.join(" "))
            .finalize()
            .into();
        let now = now();
        if let Some((token, until)) = self.cache().get(&key)
            && now + MARGIN < *until
        {
            return Ok(token.clone());
        }
        // A URL names the resource (RFC 8707); anything else is a logical audience.
        let target_param =
            if url::Url::parse(target).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                "resource"
            } else {
                "audience"
            };
        let scope = sorted.join(" ");
        let mut form = vec![
            ("grant_type", GRANT),
            ("subject_token", subject),
            ("subject_token_type", ACCESS_TOKEN),
            ("requested_token_type", ACCESS_TOKEN),
            (target_param, target),
        ];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let response = self
            .client
            .post(&self.endpoint)
            .basic_auth(
                form_encode(&self.client_id),
                Some(form_encode(&self.client_secret)),
            )
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| ExchangeError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        if !status.is_success() {
            return Err(match text("error") {
                Some(error) if status.is_client_error() => ExchangeError::Refused {
                    error,
                    description: text("error_description"),
                },
                _ => ExchangeError::Unavailable(format!("the token endpoint answered {status}")),
            });
        }
        let Some(access_token) = text("access_token") else {
            return Err(ExchangeError::Unavailable(
                "the token endpoint's answer has no `access_token`".into(),
            ));
        };
        if text("token_type").is_none_or(|t| !t.eq_ignore_ascii_case("bearer"))
            || text("issued_token_type").is_some_and(|t| t != ACCESS_TOKEN)
        {
            return Err(ExchangeError::Unavailable(
                "the token endpoint did not issue a bearer access token".into(),
            ));
        }
        let expires_at = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .map(|s| now.saturating_add(s));
        let granted = text("scope").map_or_else(Vec::new, |s| {
            s.split_whitespace().map(str::to_owned).collect()
        });
        let token = ExchangedToken::new(access_token.into(), expires_at, granted);
        // Kept no longer than it lives; without a lifetime, not kept.
        if let Some(until) = expires_at {
            let mut cache = self.cache();
            if cache.len() >= CACHED {
                cache.retain(|_, (_, until)| now + MARGIN < *until);
                if cache.len() >= CACHED {
                    cache.clear();
                }
            }
            cache.insert(key, (token.clone(), until));
        }
        Ok(token)
    }
}

impl Exchange for Exchanger {
    fn exchange<'a>(
        &'a self,
        subject: &'a str,
        target: &'a str,
        scopes: &'a [&'a str],
    ) -> BoxFuture<'a, Result<ExchangedToken, ExchangeError>> {
        Box::pin(self.ask(subject, target, scopes))
    }
}

/// RFC 6749, section 2.3.1: client credentials are form-encoded before HTTP Basic.
fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
