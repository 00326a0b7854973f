//! Acting for the caller downstream: the caller's token, kept for token exchange (RFC 8693)
//! and for nothing else, and what an exchange gives.

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;

/// An access token for a downstream API, issued by the authorization server in exchange
/// for the caller's token ([`Auth::exchange`](crate::Auth::exchange)). Send it as
/// [`authorization`](Self::authorization); it never appears in `Debug` output.
#[derive(Clone)]
pub struct ExchangedToken {
    access_token: Arc<str>,
    expires_at: Option<u64>,
    scopes: Vec<String>,
}

impl ExchangedToken {
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn new(
        access_token: Arc<str>,
        expires_at: Option<u64>,
        scopes: Vec<String>,
    ) -> Self {
        Self {
            access_token,
            expires_at,
            scopes,
        }
    }

    /// The token.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// `Bearer <token>`, the `Authorization` header's value.
    pub fn authorization(&self) -> String {
        format!("Bearer {}", self.access_token)
    }

    /// When it expires, in seconds since the Unix epoch, when the server said.
    pub fn expires_at(&self) -> Option<u64> {
        self.expires_at
    }

    /// The scopes granted, as the server answered (empty when it did not say).
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
}

impl fmt::Debug for ExchangedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExchangedToken")
            .field("access_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Why a token exchange gave no token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// The server was not configured for token exchange, or not for the caller's issuer
    /// (only the first issuer's tokens are exchanged).
    #[error(
        "token exchange is not configured for this caller's issuer: give the server's client \
         credentials at its first issuer with \
         `OAuthConfigBuilder::token_exchange(client_id, client_secret)`"
    )]
    NotConfigured,
    /// The caller has no token to exchange (a local caller, over stdio).
    #[error("the caller has no access token to exchange")]
    NoToken,
    /// The authorization server refused (RFC 6749, section 5.2).
    #[error("the authorization server refused the exchange: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The error code (`invalid_target`, `invalid_scope`, `invalid_grant`, …).
        error: String,
        /// The server's description, if any.
        description: Option<String>,
    },
    /// The authorization server could not be asked, or answered something else than a
    /// token or an error.
    #[error("the authorization server cannot exchange tokens now: {0}")]
    Unavailable(String),
}

/// Exchanges a subject token for one for a target (`transport::http` implements it).
pub(crate) trait Exchange: Send + Sync {
    fn exchange<'a>(
        &'a self,
        subject: &'a str,
        target: &'a str,
        scopes: &'a [&'a str],
    ) -> BoxFuture<'a, Result<ExchangedToken, ExchangeError>>;
}

/// The caller's token and who exchanges it, when the server exchanges tokens. Neither
/// shown nor compared.
#[derive(Clone, Default)]
pub(crate) struct Delegation(Option<(Arc<str>, Arc<dyn Exchange>)>);

#[cfg_attr(not(feature = "http"), allow(dead_code))]
impl Delegation {
    pub(crate) fn new(token: &str, exchanger: Arc<dyn Exchange>) -> Self {
        Self(Some((token.into(), exchanger)))
    }

    /// The bytes it keeps.
    pub(crate) fn size(&self) -> usize {
        self.0.as_ref().map_or(0, |(token, _)| token.len())
    }

    pub(crate) async fn exchange(
        &self,
        target: &str,
        scopes: &[&str],
    ) -> Result<ExchangedToken, ExchangeError> {
        match &self.0 {
            Some((token, exchanger)) => exchanger.exchange(token, target, scopes).await,
            None => Err(ExchangeError::NotConfigured),
        }
    }
}

impl fmt::Debug for Delegation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Delegation(..)"
        } else {
            "Delegation(None)"
        })
    }
}

impl PartialEq for Delegation {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
