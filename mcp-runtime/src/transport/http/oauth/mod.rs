//! The OAuth 2.1 resource server of the Streamable HTTP transport, for servers declared with
//! `#[mcp_server(oauth(scopes = [..]))]`.
//!
//! Every HTTP request must carry a bearer token in the `Authorization` header (never the
//! query string or body); it is verified on every request, stateless or not. A request
//! without one gets 401 with `WWW-Authenticate: Bearer resource_metadata="…", scope="…"`; a
//! bad or malformed one adds `error="invalid_token"` (RFC 6750 §3.1: only when a token was
//! presented). A token that lacks a call's scopes gets 403 `error="insufficient_scope"`
//! naming every scope the call needs, before anything runs. The protected resource metadata
//! (RFC 9728) is served at the well-known routes derived from the resource URL.

pub(crate) mod backend;
mod challenge;
mod config;
mod dpop;
mod exchange;
mod failures;
mod metadata;
pub(crate) mod verifier;

pub(crate) use challenge::{Challenge, challenge_header, dpop_challenge};
pub(crate) use config::Inner as ConfigInner;
pub use config::{ConfigError, OAuthConfig, OAuthConfigBuilder};
pub use dpop::Dpop;
#[cfg(feature = "dev-auth")]
pub(crate) use dpop::DpopCheck;
#[cfg(feature = "testing")]
pub(crate) use dpop::thumbprint;
pub(crate) use dpop::{ProofRefused, bound_to};
/// The signature algorithms of [`OAuthConfigBuilder::algorithms`].
pub use jsonwebtoken::Algorithm;
pub(crate) use metadata::protected_resource_metadata;

/// What an `OAuthConfig` adds to the endpoint of a server `S`: the configuration and the
/// server's declared scopes.
pub(crate) struct AuthSettings {
    pub(crate) config: std::sync::Arc<ConfigInner>,
    pub(crate) required: &'static [&'static str],
    pub(crate) scopes: &'static [&'static str],
}

const ROOT_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// The well-known routes of the protected resource metadata (RFC 9728 §3.1: the
/// path-suffixed form and the root form), and the authorization server's metadata for
/// 2025-03-26-era clients when enabled.
pub(super) fn metadata_routes(auth: &AuthSettings) -> axum::Router {
    let config = &auth.config;
    let mut metadata = protected_resource_metadata(
        &config.resource,
        &config.issuers,
        config.resource_name.as_deref(),
        config.documentation.as_deref(),
        auth.scopes,
    );
    if let (Some(dpop), serde_json::Value::Object(fields)) = (&config.dpop, &mut metadata) {
        // RFC 9728 §2.
        let algs = dpop.algs.split(' ').map(serde_json::Value::from).collect();
        fields.insert(
            "dpop_signing_alg_values_supported".into(),
            serde_json::Value::Array(algs),
        );
        if dpop.settings.required {
            fields.insert("dpop_bound_access_tokens_required".into(), true.into());
        }
    }
    let document = json_bytes(&metadata);
    let mut router = axum::Router::new().route(&auth.config.metadata_path, serve(document.clone()));
    if auth.config.metadata_path != ROOT_METADATA_PATH {
        router = router.route(ROOT_METADATA_PATH, serve(document));
    }
    if let Some(doc) = &auth.config.legacy_as_metadata {
        router = router.route(
            "/.well-known/oauth-authorization-server",
            serve(json_bytes(doc)),
        );
    }
    router
}

fn json_bytes(value: &serde_json::Value) -> bytes::Bytes {
    bytes::Bytes::from(serde_json::to_vec(value).expect("serializing a JSON value cannot fail"))
}

fn serve(document: bytes::Bytes) -> axum::routing::MethodRouter {
    axum::routing::get(move || {
        let document = document.clone();
        async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                document,
            )
        }
    })
}
