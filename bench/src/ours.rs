//! O: the servers written with mcp-runtime.

use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Serialize, JsonSchema)]
pub struct Sum {
    sum: i64,
}

/// W1 (2026-07-28), W4, W5, idle sessions: sessions and the stateless revision side by side.
pub struct Calc;

#[mcp_server(name = "bench-ours", version = "0.0.0")]
impl Calc {
    /// Adds two integers.
    #[tool(read_only)]
    fn add(&self, a: i64, b: i64) -> Sum {
        Sum { sum: a + b }
    }

    /// Sends `n` progress notifications as fast as it can, then answers: the events a
    /// stream carries through the store.
    #[tool(read_only)]
    async fn burst(&self, ctx: RequestContext, n: u32) -> String {
        for i in 1..=n {
            ctx.progress(f64::from(i), Some(f64::from(n)), None).await;
        }
        format!("{n} sent")
    }
}

/// Sessions in the Redis at `MCP_REDIS_URL`, as replicas share them.
async fn with_redis() -> HttpConfig {
    let store = mcp_runtime::store::RedisStore::from_env()
        .await
        .expect("the bench's redis-server")
        .expect("MCP_REDIS_URL is set for the ours-redis server");
    HttpConfig::new()
        .session_store(store)
        .request_state_keys(mcp_runtime::input::StateKeys::new([7; 32]))
}

/// W1 (2026-07-28) with its first argument mirrored into `Mcp-Param-A`, which every call
/// sends and the server compares with the body.
pub struct CalcMirrored;

#[mcp_server(name = "bench-ours", version = "0.0.0")]
impl CalcMirrored {
    /// Adds two integers.
    #[tool(read_only)]
    fn add(&self, #[arg(header = "A")] a: i64, b: i64) -> Sum {
        Sum { sum: a + b }
    }
}

/// W1 (2025-11-25 without sessions).
pub struct CalcStateless;

#[mcp_server(stateless, name = "bench-ours", version = "0.0.0")]
impl CalcStateless {
    /// Adds two integers.
    #[tool(read_only)]
    fn add(&self, a: i64, b: i64) -> Sum {
        Sum { sum: a + b }
    }
}

/// W2: every request needs a bearer token with `mcp:tools`.
pub struct CalcAuth;

#[mcp_server(
    name = "bench-ours",
    version = "0.0.0",
    oauth(scopes = ["mcp:tools"], required = ["mcp:tools"])
)]
impl CalcAuth {
    /// Adds two integers.
    #[tool(read_only)]
    fn add(&self, a: i64, b: i64) -> Sum {
        Sum { sum: a + b }
    }
}

include!(concat!(env!("OUT_DIR"), "/many_ours.rs"));

/// The OAuth configuration of a `kind` served on `port`, trusting `issuer`.
async fn oauth(kind: &str, port: u16, issuer: Option<&str>) -> OAuthConfig {
    let issuer = issuer.unwrap_or_else(|| panic!("{kind} needs --issuer"));
    let builder = OAuthConfig::builder()
        .resource(format!("http://127.0.0.1:{port}/mcp"))
        .authorization_server(issuer);
    let builder = if kind == "ours-oauth-small-cache" {
        builder.token_cache_bytes(1024 * 1024)
    } else {
        builder
    };
    builder.build().await.expect("OAuth configuration")
}

pub async fn router(kind: &str, port: u16, issuer: Option<&str>) -> axum::Router {
    match kind {
        "ours" => Calc.router(HttpConfig::new()),
        // W1 under a subscriber that records nothing of ours (an application logging its
        // own warnings): what the telemetry costs when no one asks for it.
        "ours-subscribed" => {
            use tracing_subscriber::layer::SubscriberExt as _;
            let subscriber =
                tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::WARN);
            tracing::subscriber::set_global_default(subscriber).expect("no subscriber yet");
            Calc.router(HttpConfig::new())
        }
        // W1 under a subscriber that takes every span and event and keeps nothing: the cost
        // of building each request's span and log line, without exporting them.
        "ours-traced" => {
            tracing::subscriber::set_global_default(tracing_subscriber::registry())
                .expect("no subscriber yet");
            Calc.router(HttpConfig::new())
        }
        "ours-mirrored" => CalcMirrored.router(HttpConfig::new()),
        "ours-redis" => Calc.router(with_redis().await),
        "ours-stateless" => CalcStateless.router(HttpConfig::new()),
        "ours-list" => Many.router(HttpConfig::new()),
        "ours-oauth" => CalcAuth.router(oauth(kind, port, issuer).await),
        // W2u: a cache too small for its pool of distinct tokens.
        "ours-oauth-small-cache" => CalcAuth.router(oauth(kind, port, issuer).await),
        _ => unreachable!("{kind}"),
    }
}

/// Serves `kind` (`ours-serve`, `ours-oauth-serve`) with `serve_http` on `port`, as a
/// production server runs.
pub async fn serve(kind: &str, port: u16, issuer: Option<&str>) {
    let addr = format!("127.0.0.1:{port}");
    let served = match kind {
        "ours-serve" => Calc.serve_http(addr, HttpConfig::new()).await,
        "ours-oauth-serve" => {
            let config = oauth(kind, port, issuer).await;
            CalcAuth.serve_http(addr, config).await
        }
        _ => unreachable!("{kind}"),
    };
    served.expect("serving");
}
