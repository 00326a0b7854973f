//! Streamable HTTP over real HTTP on 127.0.0.1: sessions, the stateless revision, bad input.

// A failed `unwrap` in a helper is a failed test, as in the tests themselves; clippy's
// `allow-unwrap-in-tests` only reaches `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mcp_runtime::prelude::*;
use reqwest::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use support::{
    MODERN, frames, in_session, init_body, json_of, modern, modern_meta, open_session, post, spawn,
};

#[derive(Serialize, JsonSchema)]
struct Sum {
    sum: i64,
}

static CANCELLED: AtomicBool = AtomicBool::new(false);

struct Calc;

#[mcp_server(name = "calc", version = "1.2.3")]
impl Calc {
    /// Adds two integers.
    #[tool(read_only)]
    fn add(&self, a: i64, b: i64) -> Sum {
        Sum { sum: a + b }
    }

    /// Fails on purpose.
    #[tool]
    fn fail(&self) -> Result<String, ToolError> {
        Err(ToolError::new("the widget is out of stock"))
    }

    /// Panics on purpose.
    #[tool]
    fn explode(&self) -> String {
        panic!("secret internal state: password=hunter2")
    }

    /// Reports progress three times.
    #[tool]
    async fn steps(&self, ctx: RequestContext) -> String {
        for i in 1..=3 {
            ctx.progress(f64::from(i), Some(3.0), Some("working")).await;
        }
        "done".into()
    }

    /// Waits 30 seconds, unless the request is cancelled and the wait abandoned.
    #[tool]
    async fn wait(&self) -> String {
        struct Abandoned;
        impl Drop for Abandoned {
            fn drop(&mut self) {
                CANCELLED.store(true, Ordering::SeqCst);
            }
        }
        let abandoned = Abandoned;
        tokio::time::sleep(Duration::from_secs(30)).await;
        std::mem::forget(abandoned);
        "finished".into()
    }
}

struct Stateless;

#[mcp_server(stateless)]
impl Stateless {
    /// Says hello.
    #[tool(
        title = "Greeter",
        read_only,
        destructive = false,
        idempotent,
        open_world = false
    )]
    fn hello(&self, #[arg(description = "Who to greet")] name: Option<String>) -> String {
        format!("hello, {}", name.as_deref().unwrap_or("world"))
    }
}

async fn calc() -> String {
    spawn(Calc.router(HttpConfig::new().body_limit(64 * 1024))).await
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn legacy_call(url: &str, sid: &str, body: Value) -> (StatusCode, Value) {
    let resp = in_session(url, sid).json(&body).send().await.unwrap();
    (resp.status(), json_of(resp).await)
}

#[tokio::test]
async fn a_2025_session_runs_from_initialize_to_delete() {
    let url = calc().await;
    let sid = open_session(&url).await;
    assert!(
        sid.len() >= 32 && sid.bytes().all(|b| (0x21..=0x7e).contains(&b)),
        "{sid}"
    );

    let (status, body) = legacy_call(
        &url,
        &sid,
        json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["add", "fail", "explode", "steps", "wait"]);
    assert!(
        body["result"].get("resultType").is_none(),
        "legacy results carry no 2026 fields"
    );

    let (_, body) = legacy_call(
        &url,
        &sid,
        json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}),
    )
    .await;
    assert_eq!(body["id"], 3);
    assert_eq!(body["result"]["structuredContent"], json!({"sum": 5}));
    assert_eq!(body["result"]["content"][0]["text"], "{\"sum\":5}");

    let (_, body) = legacy_call(&url, &sid, json!({"jsonrpc":"2.0","id":4,"method":"ping"})).await;
    assert_eq!(body["result"], json!({}));

    let resp = client()
        .delete(&url)
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, body) = legacy_call(
        &url,
        &sid,
        json!({"jsonrpc":"2.0","id":5,"method":"tools/list"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], -32600);
    let resp = client()
        .delete(&url)
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn initialize_negotiates_the_version() {
    let url = calc().await;
    for (asked, got) in [
        ("2025-06-18", "2025-06-18"),
        ("2025-03-26", "2025-03-26"),
        ("1999-01-01", "2025-11-25"),
    ] {
        let resp = post(&url)
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
                "protocolVersion":asked,"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}))
            .send()
            .await
            .unwrap();
        let body = json_of(resp).await;
        assert_eq!(body["result"]["protocolVersion"], got);
        assert_eq!(
            body["result"]["serverInfo"],
            json!({"name": "calc", "version": "1.2.3"})
        );
        assert_eq!(
            body["result"]["capabilities"]["tools"],
            json!({"listChanged": true})
        );
    }
}

#[tokio::test]
async fn sessions_are_required_and_must_exist() {
    let url = calc().await;
    let resp = post(&url)
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(
        json_of(resp).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Mcp-Session-Id")
    );
    let (status, _) = legacy_call(
        &url,
        "no-such-session",
        json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let resp = client()
        .get(&url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = client().delete(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_unsupported_legacy_version_header_is_refused() {
    let url = calc().await;
    let sid = open_session(&url).await;
    let resp = post(&url)
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "2025-13-45")
        .json(&json!({"jsonrpc":"2.0","id":9,"method":"tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json_of(resp).await;
    assert_eq!(body["id"], 9);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("MCP-Protocol-Version")
    );
    // A value that is not text names no version either: refused, not ignored.
    let resp = post(&url)
        .header("mcp-session-id", &sid)
        .header(
            "mcp-protocol-version",
            reqwest::header::HeaderValue::from_bytes("2025-11-25\u{e9}".as_bytes()).unwrap(),
        )
        .json(&json!({"jsonrpc":"2.0","id":10,"method":"tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json_of(resp).await;
    assert_eq!(body["id"], 10);
    assert_eq!(body["error"]["code"], -32600);
}

#[tokio::test]
async fn the_get_stream_of_a_session_is_sse() {
    let url = calc().await;
    let sid = open_session(&url).await;
    let resp = client()
        .get(&url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    // Ending the session ends its stream: the body completes instead of sending
    // keep-alives for a session that no longer exists.
    let deleted = client()
        .delete(&url)
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let remaining = tokio::time::timeout(Duration::from_secs(5), resp.text())
        .await
        .expect("the stream ends once its session is deleted")
        .unwrap();
    assert!(frames(&remaining).is_empty(), "{remaining}");
    let sid = open_session(&url).await;
    let resp = client()
        .get(&url)
        .header("accept", "application/json")
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn a_stateless_server_keeps_no_sessions() {
    let url = spawn(Stateless.router(HttpConfig::new())).await;
    let resp = post(&url)
        .json(&init_body(1, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("mcp-session-id").is_none());
    // Name and version default to the crate's.
    let body = json_of(resp).await;
    assert_eq!(
        body["result"]["serverInfo"],
        json!({"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")})
    );
    let resp = post(&url)
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc":"2.0","id":3,"method":"tools/list"}))
        .send()
        .await
        .unwrap();
    let tool = json_of(resp).await["result"]["tools"][0].clone();
    assert_eq!(tool["title"], "Greeter");
    assert_eq!(
        tool["annotations"],
        json!({"readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false})
    );
    assert_eq!(
        tool["inputSchema"]["properties"]["name"]["description"],
        "Who to greet"
    );
    assert!(
        tool["inputSchema"].get("required").is_none(),
        "an `Option` argument is optional"
    );
    let resp = post(&url)
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"hello","arguments":{"name":"Ada"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(resp).await["result"]["content"][0]["text"],
        "hello, Ada"
    );
    let resp = client()
        .get(&url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let resp = client()
        .delete(&url)
        .header("mcp-session-id", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_2026_revision_is_served_statelessly() {
    let url = calc().await;
    let resp = modern(&url, "server/discover", None, json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("mcp-session-id").is_none());
    let body = json_of(resp).await;
    let r = &body["result"];
    assert_eq!(r["supportedVersions"], json!([MODERN]));
    assert_eq!(r["capabilities"]["tools"], json!({"listChanged": true}));
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["cacheScope"], "public");
    assert!(r["ttlMs"].is_u64());
    assert_eq!(
        r["_meta"]["io.modelcontextprotocol/serverInfo"],
        json!({"name":"calc","version":"1.2.3"})
    );

    let body = json_of(
        modern(&url, "tools/list", None, json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["result"]["tools"].as_array().unwrap().len(), 5);
    assert_eq!(body["result"]["resultType"], "complete");
    assert!(body["result"]["ttlMs"].is_u64());

    let body = json_of(
        modern(
            &url,
            "tools/call",
            Some("add"),
            json!({"name":"add","arguments":{"a":40,"b":2}}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(body["id"], 7);
    assert_eq!(body["result"]["structuredContent"], json!({"sum": 42}));
    assert_eq!(body["result"]["resultType"], "complete");
    assert_eq!(
        body["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "calc"
    );

    // Names that are not plain ASCII travel base64-encoded and are decoded before comparing.
    let body = json_of(
        modern(
            &url,
            "tools/call",
            Some("=?base64?YWRk?="),
            json!({"name":"add","arguments":{"a":1,"b":1}}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(body["result"]["structuredContent"], json!({"sum": 2}));
}

async fn modern_error(req: reqwest::RequestBuilder) -> (StatusCode, i64, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let body = json_of(resp).await;
    assert_eq!(body["id"], 7, "errors keep the request id: {body}");
    (
        status,
        body["error"]["code"].as_i64().unwrap(),
        body["error"].clone(),
    )
}

#[tokio::test]
async fn the_2026_revision_checks_headers_and_meta_in_order() {
    let url = calc().await;
    let req = |headers: &[(&str, &str)], params: Value| {
        let mut r = post(&url);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.json(&json!({"jsonrpc":"2.0","id":7,"method":"server/discover","params":params}))
    };
    let meta = modern_meta();
    // No version header at all, but modern `_meta`: -32020.
    assert_eq!(
        modern_error(req(
            &[("mcp-method", "server/discover")],
            json!({"_meta": meta})
        ))
        .await
        .1,
        -32020
    );
    // Version header but no `_meta`: -32602.
    let (status, code, _) = modern_error(req(
        &[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "server/discover"),
        ],
        json!({}),
    ))
    .await;
    assert_eq!((status, code), (StatusCode::BAD_REQUEST, -32602));
    // `_meta` without capabilities: -32602.
    let partial = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}});
    assert_eq!(
        modern_error(req(
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "server/discover")
            ],
            partial
        ))
        .await
        .1,
        -32602
    );
    // Header and `_meta` disagree: -32020.
    let other = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "v999.0.0", "io.modelcontextprotocol/clientCapabilities": {}}});
    let (status, code, _) = modern_error(req(
        &[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "server/discover"),
        ],
        other.clone(),
    ))
    .await;
    assert_eq!((status, code), (StatusCode::BAD_REQUEST, -32020));
    // Both say an unsupported version: -32022 listing what is supported.
    let (status, code, error) = modern_error(req(
        &[
            ("mcp-protocol-version", "v999.0.0"),
            ("mcp-method", "server/discover"),
        ],
        other,
    ))
    .await;
    assert_eq!((status, code), (StatusCode::BAD_REQUEST, -32022));
    assert_eq!(
        error["data"],
        json!({"supported": [MODERN], "requested": "v999.0.0"})
    );
    // Mcp-Method missing or wrong: -32020.
    let ok_meta = json!({"_meta": modern_meta()});
    assert_eq!(
        modern_error(req(&[("mcp-protocol-version", MODERN)], ok_meta.clone()))
            .await
            .1,
        -32020
    );
    assert_eq!(
        modern_error(req(
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "tools/list")
            ],
            ok_meta
        ))
        .await
        .1,
        -32020
    );
    // Mcp-Name missing or wrong on tools/call: -32020.
    let call = json!({"name":"add","arguments":{"a":1,"b":2}});
    let (status, code, _) = modern_error(modern(&url, "tools/call", None, call.clone())).await;
    assert_eq!((status, code), (StatusCode::BAD_REQUEST, -32020));
    assert_eq!(
        modern_error(modern(&url, "tools/call", Some("fail"), call.clone()))
            .await
            .1,
        -32020
    );
    // Surrounding whitespace in a header value is not part of it.
    let body = json_of(
        modern(&url, "tools/call", Some("  add  "), call)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["result"]["structuredContent"]["sum"], 3);
}

#[tokio::test]
async fn the_2026_revision_has_no_legacy_methods() {
    let url = calc().await;
    for method in [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "unknown/method",
    ] {
        let (status, code, _) = modern_error(modern(&url, method, None, json!({}))).await;
        assert_eq!((status, code), (StatusCode::NOT_FOUND, -32601), "{method}");
    }
    let resp = client()
        .get(&url)
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", MODERN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn malformed_messages_get_json_rpc_errors() {
    let url = calc().await;
    let sid = open_session(&url).await;
    let raw = |body: &'static str| in_session(&url, &sid).body(body);
    let cases: [(&str, StatusCode, Value, i64); 6] = [
        (
            "{\"jsonrpc\":\"2.0\",\"id\":1,",
            StatusCode::BAD_REQUEST,
            Value::Null,
            -32700,
        ),
        (
            "not json at all",
            StatusCode::BAD_REQUEST,
            Value::Null,
            -32700,
        ),
        (
            "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
            StatusCode::BAD_REQUEST,
            Value::Null,
            -32600,
        ),
        (
            "{\"id\":4,\"method\":\"ping\"}",
            StatusCode::BAD_REQUEST,
            json!(4),
            -32600,
        ),
        (
            "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"tools/list\",\"params\":[1]}",
            StatusCode::BAD_REQUEST,
            json!("s"),
            -32600,
        ),
        (
            "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"no/such\"}",
            StatusCode::OK,
            json!(6),
            -32601,
        ),
    ];
    for (body, status, id, code) in cases {
        let resp = raw(body).send().await.unwrap();
        assert_eq!(resp.status(), status, "{body}");
        let json = json_of(resp).await;
        assert_eq!(json["jsonrpc"], "2.0");
        assert_eq!(json["id"], id, "{body}");
        assert_eq!(json["error"]["code"], code, "{body}");
    }
}

#[tokio::test]
async fn wrong_tools_and_arguments_name_what_is_wrong() {
    let url = calc().await;
    let sid = open_session(&url).await;
    let call = |params: Value| {
        legacy_call(
            &url,
            &sid,
            json!({"jsonrpc":"2.0","id":11,"method":"tools/call","params":params}),
        )
    };
    let cases = [
        (json!({"name":"nope"}), "unknown tool `nope`"),
        (json!({"arguments":{}}), "missing tool `name`"),
        (
            json!({"name":"add","arguments":{"a":1}}),
            "missing required argument `b`",
        ),
        (
            json!({"name":"add","arguments":{"a":1,"b":"two"}}),
            "invalid argument `b`: invalid type: string \"two\", expected i64",
        ),
        (
            json!({"name":"add","arguments":[1,2]}),
            "`arguments` must be an object",
        ),
    ];
    for (params, message) in cases {
        let (status, body) = call(params.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["id"], 11);
        assert_eq!(body["error"]["code"], -32602, "{params}");
        assert_eq!(body["error"]["message"], message, "{params}");
    }
}

#[tokio::test]
async fn transport_limits_and_media_types_are_enforced() {
    let url = calc().await;
    let sid = open_session(&url).await;
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(100_000)
    );
    let resp = post(&url)
        .header("mcp-session-id", &sid)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json_of(resp).await["error"]["code"], -32600);

    let resp = client()
        .post(&url)
        .header("content-type", "text/plain")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &sid)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let resp = client()
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("mcp-session-id", &sid)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE);
    assert!(
        json_of(resp).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("text/event-stream")
    );

    let resp = client().put(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn tool_failures_and_panics_are_results_and_leak_nothing() {
    let url = calc().await;
    let sid = open_session(&url).await;
    let (_, body) = legacy_call(
        &url,
        &sid,
        json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fail"}}),
    )
    .await;
    assert_eq!(body["result"]["isError"], true);
    assert_eq!(
        body["result"]["content"][0]["text"],
        "the widget is out of stock"
    );

    let (status, body) = legacy_call(
        &url,
        &sid,
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"explode"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["result"]["isError"], true);
    let text = body.to_string();
    assert!(
        text.contains("tool `explode` failed unexpectedly"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("panicked") && !text.contains(".rs"),
        "{text}"
    );

    // The server keeps serving.
    let (_, body) = legacy_call(&url, &sid, json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":1}}})).await;
    assert_eq!(body["result"]["structuredContent"]["sum"], 2);
}

#[tokio::test]
async fn progress_is_streamed_before_the_result() {
    let url = calc().await;
    let sid = open_session(&url).await;
    let resp = in_session(&url, &sid)
        .json(&json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"steps","_meta":{"progressToken":"tok"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let text = resp.text().await.unwrap();
    let messages = frames(&text);
    assert_eq!(messages.len(), 4, "{text}");
    for (i, m) in messages[..3].iter().enumerate() {
        assert_eq!(m["method"], "notifications/progress");
        assert_eq!(m["params"]["progressToken"], "tok");
        assert_eq!(
            m["params"]["progress"],
            json!(f64::from(u8::try_from(i).unwrap() + 1))
        );
    }
    assert_eq!(messages[3]["id"], 5);
    assert_eq!(messages[3]["result"]["content"][0]["text"], "done");

    // Without a token the same tool answers with plain JSON.
    let (_, body) = legacy_call(
        &url,
        &sid,
        json!({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"steps"}}),
    )
    .await;
    assert_eq!(body["result"]["content"][0]["text"], "done");
}

#[tokio::test]
async fn notifications_cancelled_stops_a_request() {
    let url = calc().await;
    let sid = open_session(&url).await;
    let pending = tokio::spawn({
        let (url, sid) = (url.clone(), sid.clone());
        async move {
            in_session(&url, &sid)
                .json(&json!({"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"wait"}}))
                .send()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resp = in_session(&url, &sid)
        .json(&json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow","reason":"user"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let resp = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "a cancelled request gets no response"
    );
    for _ in 0..50 {
        if CANCELLED.load(Ordering::SeqCst) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the tool kept running after the cancellation");
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let url = calc().await;
    let init = init_body(1, json!({}));
    let resp = post(&url)
        .header("host", "evil.example.com")
        .header("origin", "http://evil.example.com")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // A loopback name followed by anything but a port is not a loopback name.
    for host in [
        "[::1].evil.example",
        "localhost:evil",
        "127.0.0.1:80.evil.example",
    ] {
        let resp = post(&url)
            .header("host", host)
            .json(&init)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{host}");
        assert_eq!(json_of(resp).await["error"]["message"], "host not allowed");
    }
    let resp = post(&url)
        .header("origin", "http://evil.example.com")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json_of(resp).await["error"]["message"],
        "origin not allowed"
    );
    let resp = post(&url)
        .header("origin", "http://localhost:6274")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let url = spawn(
        Calc.router(
            HttpConfig::new()
                .allow_host("mcp.example.com")
                .allow_origin("https://app.example.com"),
        ),
    )
    .await;
    let resp = post(&url)
        .header("host", "mcp.example.com")
        .header("origin", "https://app.example.com")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = post(&url)
        .header("host", "other.example.com")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

/// SIGTERM, as Kubernetes, systemd and `docker stop` send it, drains the server: every
/// request in flight is answered, then the process exits on its own.
#[tokio::test]
async fn sigterm_answers_the_requests_in_flight_then_exits() {
    let port = support::free_port();
    let mut server = support::ChildGuard::spawn_logged(
        std::process::Command::new(support::example_binary("everything"))
            .env("MCP_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info"),
        "the everything example",
        support::log_dir("sigterm").join("everything.log"),
    );
    server.wait_for_port(port, Duration::from_mins(1));
    let url = format!("http://127.0.0.1:{port}/mcp");
    // Each call takes about 150 ms; all are in flight when the signal comes.
    let calls: Vec<_> = (0..50)
        .map(|i| {
            let request = support::modern(
                &url,
                "tools/call",
                Some("test_tool_with_progress"),
                json!({"name": "test_tool_with_progress"}),
            );
            tokio::spawn(async move { (i, request.send().await) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(60)).await;
    let pid = server.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    for call in calls {
        let (i, resp) = call.await.unwrap();
        let resp = resp.unwrap_or_else(|e| panic!("call {i} was cut: {e}"));
        assert_eq!(resp.status(), StatusCode::OK, "call {i}");
        let body = json_of(resp).await;
        assert_eq!(
            body["result"]["content"][0]["text"], "Progress complete.",
            "call {i}: {body}"
        );
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.exited() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 10 s after SIGTERM; log:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}; log:\n{}", server.log_text());
    assert!(
        server.log_text().contains("shutting down"),
        "{}",
        server.log_text()
    );
}

/// Two processes given the same `MCP_REQUEST_STATE_KEYS` open each other's 2026-07-28
/// request states; an unreadable ring is logged as an error naming the variable.
#[tokio::test]
async fn replicas_read_their_request_state_keys_from_the_environment() {
    let ring = format!("{},{}", "5a".repeat(32), "a5".repeat(32));
    let start = |name: &str, keys: &str| {
        let port = support::free_port();
        let mut server = support::ChildGuard::spawn_logged(
            std::process::Command::new(support::example_binary("everything"))
                .env("MCP_BIND", format!("127.0.0.1:{port}"))
                .env("MCP_REQUEST_STATE_KEYS", keys),
            "the everything example",
            support::log_dir("state-keys").join(format!("{name}.log")),
        );
        server.wait_for_port(port, Duration::from_mins(1));
        (server, format!("http://127.0.0.1:{port}/mcp"))
    };
    let (_a, a) = start("a", &ring);
    let (_b, b) = start("b", &ring);
    let (broken, c) = start("broken", "not-a-key");
    let call = |url: &str, extra: Value| {
        let mut params = json!({"name": "test_elicitation", "arguments": {"message": "Who?"}});
        for (k, v) in extra.as_object().unwrap() {
            params[k] = v.clone();
        }
        params["_meta"] = support::modern_meta();
        params["_meta"]["io.modelcontextprotocol/clientCapabilities"] = json!({"elicitation": {}});
        support::modern_request(url, 3, "tools/call", Some("test_elicitation"), &params)
    };
    let first = json_of(call(&a, json!({})).send().await.unwrap()).await;
    assert_eq!(first["result"]["resultType"], "input_required", "{first}");
    let state = first["result"]["requestState"].clone();
    let answer = json!({"user_info": {"action": "accept",
        "content": {"username": "kim", "email": "kim@example.com"}}});
    let retry = json!({"inputResponses": answer, "requestState": state});
    let done = json_of(call(&b, retry.clone()).send().await.unwrap()).await;
    assert_eq!(done["result"]["resultType"], "complete", "{done}");
    assert!(
        done["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("kim@example.com"),
        "{done}"
    );
    let refused = json_of(call(&c, retry).send().await.unwrap()).await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    let log = broken.log_text();
    assert!(
        log.contains("MCP_REQUEST_STATE_KEYS is not a key ring"),
        "{log}"
    );
}
