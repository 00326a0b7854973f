//! A small MCP server with structured tool output, served over Streamable HTTP.
//!
//! Run it with `cargo run --example quickstart`; it listens on `127.0.0.1:3000/mcp`, or on
//! the address in `MCP_BIND`. Set `MCP_STDIO=1` to serve stdin/stdout instead, for clients
//! that start the server as a subprocess. `--contract` prints what it exposes as sorted JSON
//! and exits. Each request is logged at `info` (`RUST_LOG` chooses).

use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The sum of two integers.
#[derive(Serialize, JsonSchema)]
struct Sum {
    sum: i64,
}

/// The quotient of two numbers.
#[derive(Serialize, JsonSchema)]
struct Quotient {
    quotient: f64,
}

/// What a text contains.
#[derive(Serialize, JsonSchema)]
struct TextStats {
    words: usize,
    characters: usize,
    lines: usize,
}

/// Temperature units.
#[derive(Deserialize, JsonSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

/// Arguments of `convert_temperature`.
#[derive(Deserialize, JsonSchema)]
struct Conversion {
    /// The temperature to convert.
    value: f64,
    /// The unit it is in.
    from: Unit,
}

/// A converted temperature.
#[derive(Serialize, JsonSchema)]
struct Temperature {
    celsius: f64,
    fahrenheit: f64,
}

struct Quickstart;

#[mcp_server(
    name = "quickstart",
    title = "Quickstart",
    instructions = "Arithmetic and text utilities. Every tool is side-effect free."
)]
impl Quickstart {
    /// Adds two integers.
    #[tool(read_only, idempotent, open_world = false)]
    fn add(&self, a: i64, b: i64) -> Result<Sum, ToolError> {
        a.checked_add(b)
            .map(|sum| Sum { sum })
            .ok_or_else(|| ToolError::new("the sum overflows a 64-bit integer"))
    }

    /// Divides `a` by `b`; dividing by zero is an error the model can read.
    #[tool(read_only, idempotent, open_world = false)]
    fn divide(
        &self,
        #[arg(description = "The dividend")] a: f64,
        #[arg(description = "The divisor; must not be zero")] b: f64,
    ) -> Result<Quotient, ToolError> {
        if b == 0.0 {
            return Err(ToolError::new("cannot divide by zero"));
        }
        Ok(Quotient { quotient: a / b })
    }

    /// Echoes the text back.
    #[tool(read_only, open_world = false)]
    async fn echo(&self, text: String) -> String {
        text
    }

    /// Counts the words, characters and lines of a text.
    #[tool(read_only, idempotent, open_world = false)]
    fn text_stats(&self, text: String) -> TextStats {
        TextStats {
            words: text.split_whitespace().count(),
            characters: text.chars().count(),
            lines: text.lines().count(),
        }
    }

    /// Converts a temperature between Celsius and Fahrenheit.
    #[tool(
        name = "convert_temperature",
        read_only,
        idempotent,
        open_world = false
    )]
    fn convert(&self, Args(c): Args<Conversion>) -> Temperature {
        let celsius = match c.from {
            Unit::Celsius => c.value,
            Unit::Fahrenheit => (c.value - 32.0) * 5.0 / 9.0,
        };
        Temperature {
            celsius,
            fahrenheit: celsius * 9.0 / 5.0 + 32.0,
        }
    }

    /// Lists the prime numbers up to `limit` (at most 100 000), reporting progress.
    #[tool(read_only, idempotent, open_world = false)]
    async fn primes(&self, ctx: RequestContext, limit: u32) -> Result<Vec<u32>, ToolError> {
        if limit > 100_000 {
            return Err(ToolError::new("`limit` must be at most 100000"));
        }
        let mut primes = Vec::new();
        for n in 2..=limit {
            if ctx.is_cancelled() {
                return Err(ToolError::new("cancelled"));
            }
            if primes
                .iter()
                .take_while(|p| *p * *p <= n)
                .all(|p| n % p != 0)
            {
                primes.push(n);
            }
            if n % 10_000 == 0 {
                ctx.progress(f64::from(n), Some(f64::from(limit)), None)
                    .await;
            }
        }
        Ok(primes)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--contract") {
        print!("{}", Quickstart::contract(&HttpConfig::new()));
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    if std::env::var_os("MCP_STDIO").is_some() {
        Quickstart.serve_stdio().await?;
        return Ok(());
    }
    let bind = std::env::var("MCP_BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    eprintln!("quickstart MCP server on http://{bind}/mcp");
    eprintln!(
        "  connect: npx @modelcontextprotocol/inspector --transport http --server-url http://{bind}/mcp"
    );
    Quickstart
        .serve_http(bind, config_from_env().await?)
        .await?;
    Ok(())
}

/// The endpoint's settings; with `MCP_REDIS_URL` set, sessions live in that Redis, shared
/// with every replica that names it (see the README's "Several replicas").
async fn config_from_env() -> Result<HttpConfig, mcp_runtime::store::RedisStoreError> {
    Ok(match mcp_runtime::store::RedisStore::from_env().await? {
        Some(store) => HttpConfig::new().session_store(store),
        None => HttpConfig::new(),
    })
}
