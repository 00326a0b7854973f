//! Asking the client, logging, sessions and change notifications over real HTTP on
//! 127.0.0.1, in both revisions.
// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicU32, Ordering};

use mcp_runtime::input::StateKeys;
use mcp_runtime::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{Exchange, MODERN, frames, init_body, modern_request, post, session_id, spawn};

struct Desk;

#[mcp_server]
impl Desk {
    /// Asks for a name and greets.
    #[tool]
    async fn greet(&self, ctx: RequestContext, greeting: String) -> Result<String, ToolError> {
        let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
        let answer = ctx
            .ask("user_name", InputRequest::elicit("Your name?", schema))
            .await?;
        Ok(format!(
            "{greeting}, {}!",
            answer["content"]["name"].as_str().unwrap_or("?")
        ))
    }

    /// Logs at two levels.
    #[tool]
    async fn noisy(&self, ctx: RequestContext) -> String {
        ctx.log(LogLevel::Debug, "debug detail").await;
        ctx.log(LogLevel::Warning, json!({"disk": "almost full"}))
            .await;
        "done".into()
    }

    /// Counts calls within the session.
    #[tool]
    fn count(&self, session: Session) -> u32 {
        if session.get::<AtomicU32>().is_none() {
            session.insert(AtomicU32::new(0));
        }
        let counter = session.get::<AtomicU32>().expect("inserted above");
        counter.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Needs sampling.
    #[tool]
    fn sample(&self, ctx: RequestContext) -> Result<String, ToolError> {
        ctx.require_capability("sampling")?;
        Ok("sampling available".into())
    }

    /// Announces a new tool list.
    #[tool]
    fn change(&self, ctx: RequestContext) -> String {
        ctx.notify(Change::Tools);
        "changed".into()
    }
}

async fn serve() -> String {
    spawn(Desk.router(HttpConfig::new())).await
}

async fn session(url: &str, capabilities: Value) -> String {
    let resp = post(url)
        .json(&init_body(0, capabilities))
        .send()
        .await
        .unwrap();
    session_id(&resp)
}

fn in_session(url: &str, sid: &str, body: &Value) -> reqwest::RequestBuilder {
    support::in_session(url, sid).json(body)
}

fn modern_call(
    url: &str,
    tool: &str,
    extra: &Value,
    capabilities: &Value,
) -> reqwest::RequestBuilder {
    let mut params = json!({"name": tool, "arguments": {"greeting": "Hi"}, "_meta": {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": capabilities}});
    for (k, v) in extra.as_object().unwrap() {
        if k == "_meta" {
            for (mk, mv) in v.as_object().unwrap() {
                params["_meta"][mk] = mv.clone();
            }
        } else {
            params[k] = v.clone();
        }
    }
    modern_request(url, 1, "tools/call", Some(tool), &params)
}

#[tokio::test]
async fn a_2025_session_asks_the_client_on_the_call_stream() {
    let url = serve().await;
    let sid = session(&url, json!({"elicitation": {}})).await;
    let call = json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"greet","arguments":{"greeting":"Hello"}}});
    let mut resp = in_session(&url, &sid, &call).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    // The first frame is the server's request to the client.
    let mut buffer = String::new();
    let request = loop {
        let chunk = resp
            .chunk()
            .await
            .unwrap()
            .expect("the stream stays open for the answer");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        if let Some(frame) = frames(&buffer).into_iter().next() {
            break frame;
        }
    };
    assert_eq!(request["method"], "elicitation/create");
    assert_eq!(request["params"]["message"], "Your name?");
    let answer = json!({"jsonrpc":"2.0","id":request["id"],"result":{"action":"accept","content":{"name":"Ada"}}});
    let accepted = in_session(&url, &sid, &answer).send().await.unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let remaining = resp.text().await.unwrap();
    let result = frames(&remaining).pop().unwrap();
    assert_eq!(result["id"], 5);
    assert_eq!(result["result"]["content"][0]["text"], "Hello, Ada!");

    // A client that did not declare elicitation is not asked: the tool fails.
    let sid = session(&url, json!({})).await;
    let body: Value = in_session(&url, &sid, &call).exchange().await;
    assert_eq!(body["result"]["isError"], true);
}

#[tokio::test]
async fn a_2026_request_asks_in_rounds_with_a_sealed_state() {
    let url = serve().await;
    let caps = json!({"elicitation": {}});
    let first: Value = modern_call(&url, "greet", &json!({}), &caps)
        .exchange()
        .await;
    let r = &first["result"];
    assert_eq!(r["resultType"], "input_required");
    assert_eq!(
        r["inputRequests"]["user_name"]["method"],
        "elicitation/create"
    );
    let state = r["requestState"].as_str().unwrap().to_owned();

    let answer = json!({"user_name": {"action": "accept", "content": {"name": "Lin"}}});
    let retry = json!({"inputResponses": answer, "requestState": state});
    let done: Value = modern_call(&url, "greet", &retry, &caps).exchange().await;
    assert_eq!(done["result"]["resultType"], "complete");
    assert_eq!(done["result"]["content"][0]["text"], "Hi, Lin!");

    // A changed state, or the state of other arguments, is refused.
    for state in [format!("{state}x"), "not-a-state".to_owned()] {
        let retry = json!({"inputResponses": answer, "requestState": state});
        let body: Value = modern_call(&url, "greet", &retry, &caps).exchange().await;
        assert_eq!(body["error"]["code"], -32602, "{body}");
    }
    let mut unrelated = modern_call(&url, "greet", &json!({}), &caps)
        .exchange()
        .await;
    let other_state = unrelated["result"]["requestState"].take();
    let mut req = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"greet","arguments":{"greeting":"Yo"},
        "inputResponses": answer, "requestState": other_state, "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": caps}}});
    let body: Value = post(&url)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "greet")
        .json(&req.take())
        .exchange()
        .await;
    assert_eq!(
        body["error"]["code"], -32602,
        "a state is bound to its arguments: {body}"
    );

    // Without the capability: -32021 naming it, HTTP 400.
    let resp = modern_call(&url, "sample", &json!({}), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32021);
    assert_eq!(
        body["error"]["data"]["requiredCapabilities"],
        json!({"sampling": {}})
    );
}

/// The first round of `greet` on `url`: its `requestState`.
async fn first_round(url: &str) -> String {
    let first: Value = modern_call(url, "greet", &json!({}), &json!({"elicitation": {}}))
        .exchange()
        .await;
    first["result"]["requestState"].as_str().unwrap().to_owned()
}

/// The retry of `greet` on `url` with `state`: its text, or its error code.
async fn retry(url: &str, state: &str) -> Result<String, i64> {
    let answer = json!({"user_name": {"action": "accept", "content": {"name": "Kim"}}});
    let retry = json!({"inputResponses": answer, "requestState": state});
    let body: Value = modern_call(url, "greet", &retry, &json!({"elicitation": {}}))
        .exchange()
        .await;
    body["result"]["content"][0]["text"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| body["error"]["code"].as_i64().unwrap())
}

/// Replicas sharing a key ring open each other's states, through every step of a key
/// rotation; a server with another ring refuses them.
#[tokio::test]
async fn replicas_sharing_a_key_ring_open_each_others_states_through_a_rotation() {
    let (old, new) = ([3u8; 32], [4u8; 32]);
    let replica = |keys: StateKeys| spawn(Desk.router(HttpConfig::new().request_state_keys(keys)));
    let before = replica(StateKeys::new(old)).await;
    let also_before = replica(StateKeys::new(old)).await;
    let during = replica(StateKeys::new(new).accepting(old)).await;
    let after = replica(StateKeys::new(new)).await;
    let stranger = serve().await;

    let sealed_before = first_round(&before).await;
    assert_eq!(
        retry(&also_before, &sealed_before).await.as_deref(),
        Ok("Hi, Kim!")
    );
    assert_eq!(
        retry(&during, &sealed_before).await.as_deref(),
        Ok("Hi, Kim!")
    );
    let sealed_during = first_round(&during).await;
    assert_eq!(
        retry(&after, &sealed_during).await.as_deref(),
        Ok("Hi, Kim!")
    );
    assert_eq!(retry(&after, &sealed_before).await, Err(-32602), "retired");
    assert_eq!(retry(&stranger, &sealed_during).await, Err(-32602));
}

#[tokio::test]
async fn logs_reach_the_client_only_at_the_level_it_asked_for() {
    let url = serve().await;
    let text = modern_call(
        &url,
        "noisy",
        &json!({"_meta": {"io.modelcontextprotocol/logLevel": "warning"}}),
        &json!({}),
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let logs: Vec<Value> = frames(&text)
        .into_iter()
        .filter(|f| f["method"] == "notifications/message")
        .collect();
    assert_eq!(logs.len(), 1, "{text}");
    assert_eq!(logs[0]["params"]["level"], "warning");
    assert_eq!(logs[0]["params"]["data"], json!({"disk": "almost full"}));

    // No level asked for: no log, and a plain JSON answer.
    let resp = modern_call(&url, "noisy", &json!({}), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");

    // In a session, `logging/setLevel` sets the level for later calls.
    let sid = session(&url, json!({})).await;
    let set =
        json!({"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"debug"}});
    let body: Value = in_session(&url, &sid, &set).exchange().await;
    assert_eq!(body["result"], json!({}));
    let call = json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"noisy"}});
    let text = in_session(&url, &sid, &call)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let levels: Vec<Value> = frames(&text)
        .into_iter()
        .filter(|f| f["method"] == "notifications/message")
        .map(|f| f["params"]["level"].clone())
        .collect();
    assert_eq!(levels, [json!("debug"), json!("warning")]);
}

#[tokio::test]
async fn a_session_keeps_data_between_calls() {
    let url = serve().await;
    let sid = session(&url, json!({})).await;
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"count"}});
    for expected in 1..=3 {
        let body: Value = in_session(&url, &sid, &call).exchange().await;
        assert_eq!(body["result"]["structuredContent"]["result"], expected);
    }
    let other = session(&url, json!({})).await;
    let body: Value = in_session(&url, &other, &call).exchange().await;
    assert_eq!(
        body["result"]["structuredContent"]["result"], 1,
        "each session has its own data"
    );
    // A 2026-07-28 request belongs to no session.
    let body: Value = modern_call(&url, "count", &json!({}), &json!({}))
        .exchange()
        .await;
    assert_eq!(body["error"]["code"], -32600);
}

#[tokio::test]
async fn listen_streams_carry_what_they_asked_for() {
    let url = serve().await;
    let listen = json!({"jsonrpc":"2.0","id":"L1","method":"subscriptions/listen","params":{
        "notifications": {"toolsListChanged": true, "promptsListChanged": true},
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}});
    let mut stream = post(&url)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "subscriptions/listen")
        .json(&listen)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut buffer = String::new();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        seen = frames(&buffer);
        if seen.len() == 1
            && seen[0]["method"] == "notifications/subscriptions/acknowledged"
            && !buffer.contains("list_changed")
        {
            // The server has no prompts, so only tools are honoured.
            assert_eq!(
                seen[0]["params"]["notifications"],
                json!({"toolsListChanged": true})
            );
            assert_eq!(
                seen[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
                "L1"
            );
            let body: Value = modern_call(&url, "change", &json!({}), &json!({}))
                .exchange()
                .await;
            assert_eq!(body["result"]["content"][0]["text"], "changed");
        }
    }
    assert_eq!(seen[1]["method"], "notifications/tools/list_changed");
    assert_eq!(
        seen[1]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "L1"
    );
}
