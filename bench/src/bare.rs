//! B: the baseline, a bare axum + serde_json JSON-RPC handler with no MCP machinery: it parses
//! the body into `serde_json::Value`, dispatches on `method`, and builds the result with
//! `json!`. Sessions are a `Mutex<HashSet<String>>` of random ids; `tools/list` is a
//! precomputed byte string. `bare-jwt` also verifies an RS256 JWT on every request with
//! jsonwebtoken (issuer, audience, `exp`, `sub`), with no cache.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

struct Jwt {
    key: DecodingKey,
    validation: Validation,
}

struct Shared {
    sessions: Mutex<HashSet<String>>,
    /// Built on the first `tools/list`, so that it does not count in the cold start of a
    /// server that only answers `tools/call`.
    tools: OnceLock<Bytes>,
    jwt: Option<Jwt>,
}

#[derive(Deserialize)]
struct RpcRequest {
    #[serde(default)]
    id: Option<Value>,
    method: String,
    #[serde(default)]
    params: Value,
}

/// The 100 tools of W3, as a person would write the list by hand: the same tools, with no
/// `$schema` (2020-12 is MCP's default dialect), no formats and no titles.
fn tools_list() -> Bytes {
    let tools: Vec<Value> = (0..100)
        .map(|i| {
            json!({
                "name": format!("tool_{i:03}"),
                "description": format!("Tool {i:03} of 100: adds two integers."),
                "inputSchema": {
                    "type": "object",
                    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                    "required": ["a", "b"]
                },
                "outputSchema": {
                    "type": "object",
                    "properties": {"sum": {"type": "integer"}},
                    "required": ["sum"]
                },
                "annotations": {"readOnlyHint": true}
            })
        })
        .collect();
    Bytes::from(serde_json::to_vec(&json!({ "tools": tools })).unwrap())
}

pub async fn router(kind: &str, port: u16, issuer: Option<&str>) -> axum::Router {
    let jwt = match kind {
        "bare" => None,
        "bare-jwt" => {
            let issuer = issuer.expect("bare-jwt needs --issuer");
            let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(format!("{issuer}/jwks"))
                .await
                .and_then(reqwest::Response::error_for_status)
                .expect("the issuer's JWKS")
                .json()
                .await
                .expect("a JWKS");
            let key = DecodingKey::from_jwk(&jwks.keys[0]).expect("an RSA key");
            let mut validation = Validation::new(Algorithm::RS256);
            validation.leeway = 30;
            validation.set_issuer(&[issuer]);
            validation.set_audience(&[format!("http://127.0.0.1:{port}/mcp")]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            Some(Jwt { key, validation })
        }
        _ => unreachable!("{kind}"),
    };
    let shared = Arc::new(Shared {
        sessions: Mutex::default(),
        tools: OnceLock::new(),
        jwt,
    });
    axum::Router::new()
        .route("/mcp", axum::routing::post(post).delete(delete))
        .with_state(shared)
}

fn json_body(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn error(status: StatusCode, id: Option<&Value>, code: i64, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    json_body(status, serde_json::to_vec(&body).unwrap())
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(jwt) = &shared.jwt else {
        return true;
    };
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    jsonwebtoken::decode::<Value>(token, &jwt.key, &jwt.validation).is_ok()
}

async fn post(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&shared, &headers) {
        let mut r = error(StatusCode::UNAUTHORIZED, None, -32600, "unauthorized");
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    }
    let req: RpcRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => return error(StatusCode::BAD_REQUEST, None, -32700, "parse error"),
    };
    let id = req.id.as_ref();
    if req.method == "initialize" {
        let sid = {
            let bytes: [u8; 16] = rand::random();
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        shared.sessions.lock().unwrap().insert(sid.clone());
        let result = json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {"tools": {"listChanged": false}},
            "serverInfo": {"name": "bench-bare", "version": "0.0.0"}
        });
        let body = json!({"jsonrpc": "2.0", "id": id, "result": result});
        let mut r = json_body(StatusCode::OK, serde_json::to_vec(&body).unwrap());
        r.headers_mut()
            .insert("mcp-session-id", HeaderValue::from_str(&sid).unwrap());
        return r;
    }
    if let Some(sid) = headers.get("mcp-session-id").and_then(|v| v.to_str().ok())
        && !shared.sessions.lock().unwrap().contains(sid)
    {
        return error(StatusCode::NOT_FOUND, id, -32600, "session not found");
    }
    if id.is_none() {
        return StatusCode::ACCEPTED.into_response(); // a notification
    }
    match req.method.as_str() {
        "tools/call" => {
            let args = &req.params["arguments"];
            let (Some(a), Some(b)) = (args["a"].as_i64(), args["b"].as_i64()) else {
                return error(StatusCode::OK, id, -32602, "invalid arguments");
            };
            if req.params["name"] != "add" {
                return error(StatusCode::OK, id, -32602, "unknown tool");
            }
            let sum = add(a, b);
            let body = json!({"jsonrpc": "2.0", "id": id, "result": {
                "content": [{"type": "text", "text": format!("{{\"sum\":{sum}}}")}],
                "structuredContent": {"sum": sum},
                "isError": false
            }});
            json_body(StatusCode::OK, serde_json::to_vec(&body).unwrap())
        }
        "tools/list" => {
            let id = serde_json::to_string(&id).unwrap();
            let tools = shared.tools.get_or_init(tools_list);
            let mut out = Vec::with_capacity(tools.len() + 40);
            out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(b",\"result\":");
            out.extend_from_slice(tools);
            out.push(b'}');
            json_body(StatusCode::OK, out)
        }
        _ => error(StatusCode::OK, id, -32601, "method not found"),
    }
}

fn add(a: i64, b: i64) -> i64 {
    a + b
}

async fn delete(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let removed = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sid| shared.sessions.lock().unwrap().remove(sid));
    if removed {
        StatusCode::OK.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}
