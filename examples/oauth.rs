//! An MCP server protected by OAuth 2.1: every request needs a bearer token, `whoami`
//! shows the caller, and `add_note` needs the `notes:write` scope (a token without it gets
//! 403 `insufficient_scope`, and the client can step up).
//!
//! With no `MCP_ISSUER`, a development authorization server starts beside it on
//! `127.0.0.1:3003`: connect any MCP client to `http://127.0.0.1:3002/mcp` and sign in as
//! `alice` (password `alice`, may write) or `bob` (password `bob`, may only read).
//!
//! ```sh
//! cargo run --example oauth
//! ```
//!
//! `cargo run --example oauth -- --contract` prints what the server exposes (tools, scopes,
//! protected resource metadata) as sorted JSON and exits, without an authorization server.
//!
//! With your identity provider instead:
//!
//! ```sh
//! MCP_ISSUER=https://idp.example.com/realms/mcp \
//! MCP_RESOURCE_URL=http://127.0.0.1:3002/mcp \
//! cargo run --example oauth
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `MCP_ISSUER` | the authorization server's issuer identifier (unset: the development one) |
//! | `MCP_DEV_AUTH_BIND` | where the development authorization server listens (default `127.0.0.1:3003`; loopback only) |
//! | `MCP_DEV_AUTO_LOGIN` | a development user signed in without the sign-in page, for tests and CI (for instance `alice`) |
//! | `MCP_BIND` | the listening address (default `127.0.0.1:3002`) |
//! | `MCP_RESOURCE_URL` | this server's URL as clients know it (default `http://<MCP_BIND>/mcp`) |
//! | `MCP_AUDIENCE` | an extra accepted `aud`, for identity providers that cannot issue the resource URL |
//! | `MCP_JWKS_URI` | the JWKS URL, when the issuer's metadata has none |
//! | `MCP_IDP` | the identity provider's profile: `keycloak`, `entra`, `auth0`, `okta` or `generic` (default) |
//! | `MCP_ROLES_CLAIM` | with `auth0`, the namespaced claim an Action puts roles in |
//! | `MCP_CLIENT_ID`, `MCP_CLIENT_SECRET` | this server's client at the authorization server, for token exchange (`delegate`); the development server sets its own |
//! | `MCP_DOWNSTREAM` | the API `delegate` exchanges tokens for (default `https://calendar.example.com/api`) |
//! | `MCP_LEEWAY` | seconds of clock skew allowed on `exp` and `nbf` (default 30) |
//! | `MCP_DPOP` | `accept` or `require` DPoP-bound tokens with their proofs (RFC 9449; unset: bearer tokens only) |
//! | `MCP_ALLOWED_ORIGINS` | comma-separated browser origins allowed to call the server |
//!
//! Over stdio there are no bearer tokens: the server runs every request as the local user,
//! with the scopes named in `MCP_STDIO_SCOPES` (default `notes:read`), checked exactly as a
//! token's would be:
//!
//! ```sh
//! MCP_STDIO=1 MCP_STDIO_SCOPES="notes:read notes:write" cargo run --example oauth
//! ```

use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_runtime::auth::IdpProfile;
use mcp_runtime::dev_auth::{DevAuthServer, DevUser};
use mcp_runtime::oauth::{Dpop, OAuthConfigBuilder};
use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The claims this server reads from access tokens besides scopes and roles (which the
/// identity provider's profile finds).
#[derive(Deserialize)]
struct Claims {
    preferred_username: Option<String>,
}

/// Who is calling.
#[derive(Serialize, JsonSchema)]
struct Identity {
    subject: String,
    username: Option<String>,
    roles: Vec<String>,
    scopes: Vec<String>,
}

/// A note.
#[derive(Serialize, JsonSchema, Clone)]
struct Note {
    id: usize,
    title: String,
    body: String,
    author: String,
}

#[derive(Default)]
struct Notes {
    notes: Mutex<Vec<Note>>,
    /// The downstream API `delegate` asks a token for.
    downstream: String,
}

/// What a token obtained by exchange says.
#[derive(Serialize, JsonSchema)]
struct Delegated {
    /// `aud`: the downstream API.
    audience: Value,
    /// `sub`: still the caller.
    subject: Value,
    /// `act`: who acts for them, this server.
    actor: Value,
    scopes: Vec<String>,
}

#[mcp_server(
    name = "notes",
    instructions = "A shared notebook. Reading needs `notes:read`; adding needs `notes:write`.",
    oauth(scopes = ["notes:read", "notes:write"], required = ["notes:read"])
)]
impl Notes {
    /// Shows the caller's subject, username, roles and granted scopes.
    #[tool(read_only, open_world = false)]
    fn whoami(&self, caller: Auth<Claims>) -> Identity {
        Identity {
            subject: caller.subject().to_owned(),
            username: caller.claims().preferred_username.clone(),
            roles: caller.roles().to_vec(),
            scopes: caller.scopes().to_vec(),
        }
    }

    /// Adds a note and returns it.
    #[tool(scopes = ["notes:write"], open_world = false)]
    fn add_note(
        &self,
        caller: Auth,
        title: String,
        body: Option<String>,
    ) -> Result<Note, ToolError> {
        if title.trim().is_empty() {
            return Err(ToolError::new("a note needs a title"));
        }
        let mut notes = self
            .notes
            .lock()
            .map_err(|_| ToolError::new("the notebook is unavailable"))?;
        let note = Note {
            id: notes.len() + 1,
            title,
            body: body.unwrap_or_default(),
            author: caller.subject().to_owned(),
        };
        notes.push(note.clone());
        Ok(note)
    }

    /// Exchanges the caller's token (RFC 8693) for one for the downstream API and shows
    /// what the new token says, not the token itself: how this server acts for its caller
    /// without ever forwarding the caller's own token.
    #[tool(read_only, open_world = true)]
    async fn delegate(&self, caller: Auth) -> Result<Delegated, ToolError> {
        let token = caller.exchange(&self.downstream, &["notes:read"]).await?;
        let claims: Value = token
            .access_token()
            .split('.')
            .nth(1)
            .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
            .and_then(|json| serde_json::from_slice(&json).ok())
            .unwrap_or_default();
        Ok(Delegated {
            audience: claims["aud"].clone(),
            subject: claims["sub"].clone(),
            actor: claims["act"].clone(),
            scopes: token.scopes().to_vec(),
        })
    }

    /// Lists the notes, newest first.
    #[tool(read_only, open_world = false)]
    fn list_notes(&self, limit: Option<usize>) -> Result<Vec<Note>, ToolError> {
        let notes = self
            .notes
            .lock()
            .map_err(|_| ToolError::new("the notebook is unavailable"))?;
        Ok(notes
            .iter()
            .rev()
            .take(limit.unwrap_or(usize::MAX))
            .cloned()
            .collect())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if var("MCP_STDIO").is_some() {
        let user = var("USER").unwrap_or_else(|| "local".into());
        let scopes = var("MCP_STDIO_SCOPES").unwrap_or_else(|| "notes:read".into());
        let caller = LocalCaller::new(user).scopes(scopes.split_whitespace());
        Notes::default().serve_stdio_as(caller).await?;
        return Ok(());
    }
    let bind = var("MCP_BIND").unwrap_or_else(|| "127.0.0.1:3002".into());
    if std::env::args().any(|a| a == "--contract") {
        // What the server exposes, without an authorization server: the issuer as
        // configured, or the one the development server would have.
        let issuer = var("MCP_ISSUER").unwrap_or_else(|| {
            let dev = var("MCP_DEV_AUTH_BIND").unwrap_or_else(|| "127.0.0.1:3003".into());
            format!("http://{dev}")
        });
        print!("{}", Notes::contract(&settings(&var, &bind, &issuer)?));
        return Ok(());
    }
    // The development server, if any, lives until the MCP server stops.
    let mut exchange = var("MCP_CLIENT_ID").zip(var("MCP_CLIENT_SECRET"));
    let (issuer, _dev) = if let Some(issuer) = var("MCP_ISSUER") {
        (issuer, None)
    } else {
        let secret = format!("{:032x}", rand::random::<u128>());
        let dev = dev_auth(var("MCP_DEV_AUTH_BIND"), var("MCP_DEV_AUTO_LOGIN"), &secret).await?;
        exchange = Some(("notes-server".into(), secret));
        (dev.issuer().to_owned(), Some(dev))
    };
    let mut builder = settings(&var, &bind, &issuer)?;
    if let Some((id, secret)) = exchange {
        builder = builder.token_exchange(id, secret);
    }
    let config = builder.build().await?;
    let resource = config.resource();
    eprintln!("notes MCP server on http://{bind}, resource {resource}, issuer {issuer}");
    eprintln!("  protected resource metadata: {}", config.metadata_url());
    let notes = Notes {
        downstream: var("MCP_DOWNSTREAM")
            .unwrap_or_else(|| "https://calendar.example.com/api".into()),
        ..Notes::default()
    };
    notes.serve_http(bind, config).await?;
    Ok(())
}

/// The OAuth settings the environment gives, trusting `issuer`.
fn settings(
    var: &impl Fn(&str) -> Option<String>,
    bind: &str,
    issuer: &str,
) -> Result<OAuthConfigBuilder, Box<dyn std::error::Error>> {
    let resource = var("MCP_RESOURCE_URL").unwrap_or_else(|| format!("http://{bind}/mcp"));
    let mut http = HttpConfig::new();
    for origin in var("MCP_ALLOWED_ORIGINS").iter().flat_map(|o| o.split(',')) {
        http = http.allow_origin(origin.trim());
    }
    let mut builder = OAuthConfig::builder()
        .resource(&resource)
        .authorization_server(issuer)
        .resource_name("Notes")
        .http(http);
    if let Some(audience) = var("MCP_AUDIENCE") {
        builder = builder.accept_audience(audience);
    }
    if let Some(jwks) = var("MCP_JWKS_URI") {
        builder = builder.jwks_uri(jwks);
    }
    if let Some(name) = var("MCP_IDP") {
        builder = builder.profile(profile(&name, var("MCP_ROLES_CLAIM"))?);
    }
    if let Some(leeway) = var("MCP_LEEWAY") {
        let seconds: u64 = leeway
            .parse()
            .map_err(|_| format!("MCP_LEEWAY must be a number of seconds, not `{leeway}`"))?;
        builder = builder.leeway(std::time::Duration::from_secs(seconds));
    }
    match var("MCP_DPOP").as_deref() {
        None => {}
        Some("accept") => builder = builder.dpop(Dpop::accept()),
        Some("require") => builder = builder.dpop(Dpop::require()),
        Some(other) => {
            return Err(format!("MCP_DPOP must be accept or require, not `{other}`").into());
        }
    }
    Ok(builder)
}

/// The identity-provider profile `MCP_IDP` names.
fn profile(name: &str, roles_claim: Option<String>) -> Result<IdpProfile, String> {
    Ok(match name {
        "keycloak" => IdpProfile::keycloak(),
        "entra" => IdpProfile::entra(),
        "auth0" => IdpProfile::auth0(
            roles_claim.ok_or("MCP_IDP=auth0 needs MCP_ROLES_CLAIM, the namespaced roles claim")?,
        ),
        "okta" => IdpProfile::okta(),
        "generic" => IdpProfile::generic(),
        other => {
            return Err(format!(
                "MCP_IDP must be keycloak, entra, auth0, okta or generic, not `{other}`"
            ));
        }
    })
}

/// The development authorization server, with its two users.
async fn dev_auth(
    bind: Option<String>,
    auto_login: Option<String>,
    secret: &str,
) -> Result<DevAuthServer, Box<dyn std::error::Error>> {
    let bind = bind.as_deref().unwrap_or("127.0.0.1:3003").parse()?;
    let mut builder = DevAuthServer::builder()
        .bind(bind)
        .scopes(["notes:read", "notes:write"])
        .client("notes-server", secret)
        .user(DevUser::new("alice", "alice").claim("roles", serde_json::json!(["editor"])))
        .user(
            DevUser::new("bob", "bob")
                .claim("roles", serde_json::json!(["viewer"]))
                .scopes(["notes:read"]),
        );
    if let Some(user) = &auto_login {
        builder = builder.auto_login(user);
    }
    let dev = builder.start().await?;
    eprintln!(
        "development authorization server on {} (not for production)",
        dev.issuer()
    );
    if let Some(user) = &auto_login {
        eprintln!("  every sign-in is {user}'s, without a page");
    } else {
        eprintln!("  sign in as alice / alice (notes:read notes:write, role editor)");
        eprintln!("          or bob / bob (notes:read, role viewer)");
    }
    Ok(dev)
}
