//! The Tasks extension (`io.modelcontextprotocol/tasks`) over real HTTP on 127.0.0.1: a call
//! that waits becomes a task whose handle answers the request, `tasks/get` follows it to
//! its result, `tasks/update` answers its questions and `tasks/cancel` stops it; a client
//! without the extension, another caller, a token without the tool's scope and a wrong
//! `Mcp-Name` are refused; tasks expire, live in a shared Redis where any replica answers
//! for them, and are recorded as failed when the replica running them stops.

// A failed `unwrap` in a helper is a failed test, as in the tests themselves; clippy's
// `allow-unwrap-in-tests` only reaches `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcp_runtime::input::{InputRequest, StateKeys};
use mcp_runtime::prelude::*;
use mcp_runtime::store::RedisStore;
use mcp_runtime::testing::TestIssuer;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{LEGACY, MODERN, Redis, in_session, json_of, open_session, post, spawn};

/// Calls of `work` that saw their task cancelled.
static SAW_CANCEL: AtomicUsize = AtomicUsize::new(0);

struct Jobs;

#[mcp_server(name = "jobs")]
impl Jobs {
    /// Works for `ms` milliseconds, as a task when the client takes tasks.
    #[tool(task = "optional")]
    async fn work(&self, ctx: RequestContext, ms: u64) -> String {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(ms)) => format!("worked {ms} ms"),
            () = ctx.cancelled() => {
                SAW_CANCEL.fetch_add(1, Ordering::SeqCst);
                "stopped".into()
            }
        }
    }

    /// Returns at once: never waits, so never a task.
    #[tool(task = "optional")]
    async fn quick(&self) -> String {
        "quick".into()
    }

    /// Always a task; fails after a moment.
    #[tool(task = "required")]
    async fn fail_later(&self) -> Result<String, ToolError> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(ToolError::new("the disk is full"))
    }

    /// Crashes after a moment.
    #[tool(task = "optional")]
    async fn crash(&self) -> String {
        tokio::time::sleep(Duration::from_millis(50)).await;
        panic!("worker crashed")
    }

    /// Asks two questions at once once it has started.
    #[tool(task = "optional")]
    async fn interview(&self, ctx: RequestContext) -> Result<String, ToolError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let schema = json!({"type": "object", "properties": {"v": {"type": "string"}}});
        let (a, b) = tokio::join!(
            ctx.ask("first", InputRequest::elicit("First?", schema.clone())),
            ctx.ask("second", InputRequest::elicit("Second?", schema)),
        );
        let (a, b) = (a?, b?);
        Ok(format!("{} {}", a["content"]["v"], b["content"]["v"]))
    }

    /// Never a task.
    #[tool]
    fn plain(&self) -> String {
        "plain".into()
    }
}

/// The `_meta` of a 2026-07-28 request whose client takes tasks (or not).
fn meta(tasks: bool) -> Value {
    let mut capabilities = json!({"elicitation": {}});
    if tasks {
        capabilities["extensions"] = json!({"io.modelcontextprotocol/tasks": {}});
    }
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}
    })
}

/// A client of one endpoint: 2026-07-28 requests with their routing headers.
struct Client {
    url: String,
    tasks: bool,
    token: Option<String>,
}

impl Client {
    fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            tasks: true,
            token: None,
        }
    }

    fn without_tasks(mut self) -> Self {
        self.tasks = false;
        self
    }

    fn with_token(mut self, token: String) -> Self {
        self.token = Some(token);
        self
    }

    /// Sends `method` with `params` and `Mcp-Name: name`; the status and the JSON body.
    async fn send(
        &self,
        method: &str,
        name: Option<&str>,
        mut params: Value,
    ) -> (StatusCode, Value) {
        params["_meta"] = meta(self.tasks);
        let mut req = post(&self.url)
            .header("mcp-protocol-version", MODERN)
            .header("mcp-method", method);
        if let Some(name) = name {
            req = req.header("mcp-name", name);
        }
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let resp = req
            .json(&json!({"jsonrpc": "2.0", "id": 9, "method": method, "params": params}))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, json_of(resp).await)
    }

    async fn call(&self, tool: &str, arguments: Value) -> (StatusCode, Value) {
        self.send(
            "tools/call",
            Some(tool),
            json!({"name": tool, "arguments": arguments}),
        )
        .await
    }

    async fn task(&self, method: &str, id: &str, extra: Value) -> (StatusCode, Value) {
        let mut params = json!({"taskId": id});
        if let Value::Object(extra) = extra {
            params.as_object_mut().unwrap().extend(extra);
        }
        self.send(method, Some(id), params).await
    }

    /// `tasks/get`'s result, which must come.
    async fn get(&self, id: &str) -> Value {
        let (status, body) = self.task("tasks/get", id, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["result"].clone()
    }

    /// Polls `tasks/get` until the task is `status` or has ended.
    async fn wait_for(&self, id: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let task = self.get(id).await;
            let now = task["status"].as_str().unwrap().to_owned();
            if now == status || ["completed", "failed", "cancelled"].contains(&now.as_str()) {
                return task;
            }
            assert!(Instant::now() < deadline, "task {id} stuck: {task}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts `tool` as a task; its handle.
    async fn start(&self, tool: &str, arguments: Value) -> Value {
        let (status, body) = self.call(tool, arguments).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["result"]["resultType"], "task", "{body}");
        body["result"].clone()
    }
}

fn is_timestamp(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 24 && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.starts_with("20")
    })
}

#[tokio::test]
async fn a_call_that_waits_becomes_a_task_that_runs_to_its_result() {
    let url = spawn(Jobs.router(HttpConfig::new())).await;
    let client = Client::new(&url);
    let handle = client.start("work", json!({"ms": 300})).await;
    // The handle is flat: the task's fields, `resultType: "task"`, the server's `_meta`.
    let id = handle["taskId"].as_str().unwrap().to_owned();
    assert!(
        id.len() > 40 && id.split_once('.').is_some_and(|(_, tool)| tool == "work"),
        "{id}"
    );
    assert_eq!(handle["status"], "working");
    assert!(is_timestamp(&handle["createdAt"]), "{handle}");
    assert!(is_timestamp(&handle["lastUpdatedAt"]), "{handle}");
    assert_eq!(handle["ttlMs"], 3_600_000);
    assert_eq!(handle["pollIntervalMs"], 500);
    assert_eq!(
        handle["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "jobs"
    );
    for absent in [
        "result",
        "error",
        "inputRequests",
        "requestState",
        "task",
        "content",
    ] {
        assert!(handle.get(absent).is_none(), "{absent} in {handle}");
    }
    // At once, and while it works.
    let now = client.get(&id).await;
    assert_eq!(now["status"], "working");
    assert_eq!(now["resultType"], "complete");
    assert!(now.get("result").is_none());
    let done = client.wait_for(&id, "completed").await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["content"][0]["text"], "worked 300 ms");
    assert!(done["result"].get("_meta").is_none(), "{done}");

    // A call that does not wait is answered as any call; a tool without task support too.
    let (_, quick) = client.call("quick", json!({})).await;
    assert_eq!(quick["result"]["resultType"], "complete", "{quick}");
    assert_eq!(quick["result"]["content"][0]["text"], "quick");
    let (_, plain) = client.call("plain", json!({})).await;
    assert_eq!(plain["result"]["content"][0]["text"], "plain");

    // tasks/list and tasks/result are not methods of the extension.
    for method in ["tasks/list", "tasks/result"] {
        let (status, body) = client.send(method, None, json!({"taskId": id})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}: {body}");
        assert_eq!(body["error"]["code"], -32601);
    }
}

#[tokio::test]
async fn tool_errors_complete_and_protocol_errors_fail() {
    let url = spawn(Jobs.router(HttpConfig::new())).await;
    let client = Client::new(&url);
    let handle = client.start("fail_later", json!({})).await;
    let done = client
        .wait_for(handle["taskId"].as_str().unwrap(), "completed")
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["isError"], true);
    assert_eq!(done["result"]["content"][0]["text"], "the disk is full");

    let handle = client.start("crash", json!({})).await;
    let failed = client
        .wait_for(handle["taskId"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["code"], -32603);
    assert_eq!(
        failed["error"]["message"],
        "tool `crash` failed unexpectedly"
    );
    assert!(failed.get("result").is_none());
    // The panic's message stays in the server.
    assert!(!failed.to_string().contains("worker crashed"), "{failed}");
}

#[tokio::test]
async fn cancelling_stops_the_tool_and_acknowledges_with_nothing_else() {
    let url = spawn(Jobs.router(HttpConfig::new())).await;
    let client = Client::new(&url);
    let before = SAW_CANCEL.load(Ordering::SeqCst);
    let handle = client.start("work", json!({"ms": 60_000})).await;
    let id = handle["taskId"].as_str().unwrap();
    let (status, ack) = client.task("tasks/cancel", id, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let ack = &ack["result"];
    assert_eq!(ack["resultType"], "complete", "{ack}");
    for absent in ["taskId", "status", "result", "error", "inputRequests"] {
        assert!(ack.get(absent).is_none(), "{absent} in {ack}");
    }
    let task = client.get(id).await;
    assert_eq!(task["status"], "cancelled", "{task}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while SAW_CANCEL.load(Ordering::SeqCst) == before {
        assert!(
            Instant::now() < deadline,
            "the tool never saw the cancellation"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // What the tool returned after that changes nothing.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(client.get(id).await["status"], "cancelled");
    // Cancelling an ended task is acknowledged the same way; an unknown one is -32602.
    let (status, again) = client.task("tasks/cancel", id, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["result"]["resultType"], "complete");
    let (_, unknown) = client.task("tasks/cancel", "nope.work", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    let (_, unknown) = client.task("tasks/get", "nope.work", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
}

#[tokio::test]
async fn questions_park_the_task_until_update_answers_them() {
    let url = spawn(Jobs.router(HttpConfig::new())).await;
    let client = Client::new(&url);
    let handle = client.start("interview", json!({})).await;
    let id = handle["taskId"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let parked = loop {
        let task = client.get(id).await;
        if task["inputRequests"]
            .as_object()
            .is_some_and(|r| r.len() == 2)
        {
            break task;
        }
        assert!(Instant::now() < deadline, "never asked both: {task}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(parked["status"], "input_required");
    assert_eq!(
        parked["inputRequests"]["first"]["method"],
        "elicitation/create"
    );
    assert_eq!(
        parked["inputRequests"]["second"]["params"]["message"],
        "Second?"
    );
    // One answer (and one to nothing asked): acknowledged, the answered question gone at once.
    let answer = |v: &str| json!({"action": "accept", "content": {"v": v}});
    let (status, ack) = client
        .task(
            "tasks/update",
            id,
            json!({"inputResponses": {"first": answer("a"), "never-asked": answer("x")}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ack["result"]["resultType"], "complete");
    assert!(ack["result"].get("status").is_none(), "{ack}");
    let after = client.get(id).await;
    assert_eq!(after["status"], "input_required", "{after}");
    assert_eq!(
        after["inputRequests"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["second"]
    );
    let (_, bad) = client
        .task("tasks/update", id, json!({"inputResponses": [1]}))
        .await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    client
        .task(
            "tasks/update",
            id,
            json!({"inputResponses": {"second": answer("b")}}),
        )
        .await;
    let done = client.wait_for(id, "completed").await;
    assert_eq!(
        done["result"]["content"][0]["text"], "\"a\" \"b\"",
        "{done}"
    );
}

#[tokio::test]
async fn a_client_without_the_extension_gets_no_task() {
    let url = spawn(Jobs.router(HttpConfig::new())).await;
    let client = Client::new(&url).without_tasks();
    // An optional task answers when the tool returns.
    let (status, body) = client.call("work", json!({"ms": 30})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["result"]["content"][0]["text"], "worked 30 ms",
        "{body}"
    );
    // A required one, and every tasks/* call, is -32021 naming the extension, with 400.
    let (status, body) = client.call("fail_later", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], -32021);
    assert_eq!(
        body["error"]["data"]["requiredCapabilities"],
        json!({"extensions": {"io.modelcontextprotocol/tasks": {}}})
    );
    let (status, body) = client.task("tasks/get", "x.work", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], -32021);

    // server/discover offers the extension.
    let (_, discover) = client.send("server/discover", None, json!({})).await;
    assert_eq!(
        discover["result"]["capabilities"]["extensions"],
        json!({"io.modelcontextprotocol/tasks": {}})
    );

    // A 2025-11-25 session has no tasks: an optional one answers in its request.
    let sid = open_session(&url).await;
    let resp = in_session(&url, &sid)
        .header("mcp-protocol-version", LEGACY)
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "work", "arguments": {"ms": 10}}}))
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("worked 10 ms"));
}

#[tokio::test]
async fn mcp_name_must_name_the_task() {
    let url = spawn(Jobs.router(HttpConfig::new())).await;
    let client = Client::new(&url);
    let handle = client.start("work", json!({"ms": 1000})).await;
    let id = handle["taskId"].as_str().unwrap();
    let (status, body) = client
        .send("tasks/get", Some("other.work"), json!({"taskId": id}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], -32020);
    let (status, body) = client.send("tasks/get", None, json!({"taskId": id})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], -32020);
}

#[tokio::test]
async fn a_finished_task_expires_with_its_ttl() {
    let config = HttpConfig::new()
        .task_ttl(Duration::from_millis(300))
        .task_poll_interval(Duration::from_millis(50));
    let url = spawn(Jobs.router(config)).await;
    let client = Client::new(&url);
    let handle = client.start("work", json!({"ms": 20})).await;
    assert_eq!(handle["ttlMs"], 300);
    assert_eq!(handle["pollIntervalMs"], 50);
    let id = handle["taskId"].as_str().unwrap();
    assert_eq!(
        client.wait_for(id, "completed").await["status"],
        "completed"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (_, gone) = client.task("tasks/get", id, json!({})).await;
    assert_eq!(gone["error"]["code"], -32602, "{gone}");
}

#[tokio::test]
async fn at_the_limit_an_optional_task_answers_in_its_request() {
    let url = spawn(Jobs.router(HttpConfig::new().max_tasks(1))).await;
    let client = Client::new(&url);
    let _running = client.start("work", json!({"ms": 2000})).await;
    let (_, body) = client.call("work", json!({"ms": 30})).await;
    assert_eq!(body["result"]["resultType"], "complete", "{body}");
    assert_eq!(body["result"]["content"][0]["text"], "worked 30 ms");
    let (_, body) = client.call("fail_later", json!({})).await;
    assert_eq!(body["error"]["code"], -32603, "{body}");
    assert_eq!(
        body["error"]["message"],
        "too many tasks are running; try again later"
    );
}

mod protected {
    use super::*;

    pub(super) struct Vault;

    #[mcp_server(oauth(scopes = ["vault:read", "vault:seal"], required = ["vault:read"]))]
    impl Vault {
        /// Seals the vault, slowly.
        #[tool(task = "optional", scopes = ["vault:seal"])]
        async fn seal(&self) -> String {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "sealed".into()
        }
    }
}

#[tokio::test]
async fn a_task_is_its_creators_and_needs_its_tools_scopes() {
    let issuer = TestIssuer::start().await.unwrap();
    let (listener, url) = support::listen().await;
    let config = support::trusting(&issuer, &url).build().await.unwrap();
    support::serve(listener, protected::Vault.router(config));
    let token = |subject: &str, scopes: &[&str]| {
        issuer
            .token()
            .subject(subject)
            .audience(&url)
            .scopes(scopes.iter().copied())
            .sign()
    };
    let alice = Client::new(&url).with_token(token("alice", &["vault:read", "vault:seal"]));
    let handle = alice.start("seal", json!({})).await;
    let id = handle["taskId"].as_str().unwrap();
    assert_eq!(alice.get(id).await["status"], "working");

    // For bob, with the same scopes, the task does not exist.
    let bob = Client::new(&url).with_token(token("bob", &["vault:read", "vault:seal"]));
    for method in ["tasks/get", "tasks/cancel", "tasks/update"] {
        let (status, body) = bob.task(method, id, json!({"inputResponses": {}})).await;
        assert_eq!(status, StatusCode::OK, "{method}: {body}");
        assert_eq!(body["error"]["code"], -32602, "{method}: {body}");
    }
    // Alice's token without the tool's scope: 403 naming every scope the call needs.
    let reader = Client::new(&url).with_token(token("alice", &["vault:read"]));
    let mut req = post(&url)
        .header("mcp-protocol-version", MODERN)
        .header("mcp-method", "tasks/get")
        .header("mcp-name", id)
        .bearer_auth(reader.token.as_deref().unwrap());
    req = req.json(&json!({"jsonrpc": "2.0", "id": 3, "method": "tasks/get",
        "params": {"taskId": id, "_meta": meta(true)}}));
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    assert!(
        challenge.contains("scope=\"vault:read vault:seal\""),
        "{challenge}"
    );
    // Without a token: 401, as every request.
    let anonymous = Client::new(&url);
    let (status, _) = anonymous.task("tasks/get", id, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Alice sees it through.
    assert_eq!(
        alice.wait_for(id, "completed").await["result"]["content"][0]["text"],
        "sealed"
    );
}

#[tokio::test]
async fn a_listen_stream_carries_the_tasks_it_asked_for() {
    let url = spawn(Jobs.router(HttpConfig::new())).await;
    let client = Client::new(&url);
    let handle = client.start("work", json!({"ms": 300})).await;
    let id = handle["taskId"].as_str().unwrap().to_owned();
    let listen = |tasks: bool| {
        post(&url)
            .header("mcp-protocol-version", MODERN)
            .header("mcp-method", "subscriptions/listen")
            .json(&json!({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen",
                "params": {"notifications": {"taskIds": [id, "unknown.work"]}, "_meta": meta(tasks)}}))
            .send()
    };
    let mut events = support::Events::new(listen(true).await.unwrap());
    let mut next = async || events.next().await.unwrap().message.unwrap();
    let ack = next().await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    // Only the tasks that exist, and are the caller's, are honoured.
    assert_eq!(
        ack["params"]["notifications"]["taskIds"],
        json!([id]),
        "{ack}"
    );
    let now = next().await;
    assert_eq!(now["method"], "notifications/tasks");
    assert_eq!(now["params"]["taskId"], id.as_str());
    assert_eq!(now["params"]["status"], "working");
    assert_eq!(
        now["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "L"
    );
    let done = next().await;
    assert_eq!(done["params"]["status"], "completed", "{done}");
    assert_eq!(
        done["params"]["result"]["content"][0]["text"],
        "worked 300 ms"
    );

    // Asking for tasks without the extension is -32021.
    let refused = listen(false).await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(refused).await["error"]["code"], -32021);
}

/// One replica of `Jobs` sharing `redis`, on 127.0.0.1; its URL and what stops it.
async fn replica(
    redis: &Redis,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = HttpConfig::new()
        .session_store(store)
        .request_state_keys(StateKeys::new([3; 32]))
        .drain_timeout(Duration::from_millis(600))
        .shutdown_on(async move {
            let _ = stopped.await;
        });
    let port = support::free_port();
    let addr = format!("127.0.0.1:{port}");
    let served = tokio::spawn(async move {
        Jobs.serve_http(addr, config).await.unwrap();
    });
    let url = format!("http://127.0.0.1:{port}/mcp");
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "replica did not listen");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (url, stop, served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_replica_answers_for_a_task_and_a_stopped_one_fails_its_tasks() {
    let redis = Redis::start("tasks-replicas");
    let (a, stop_a, served_a) = replica(&redis).await;
    let (b, _stop_b, _served_b) = replica(&redis).await;
    let (on_a, on_b) = (Client::new(&a), Client::new(&b));

    // Created on A, stored before its handle: B answers for it at once.
    let handle = on_a.start("interview", json!({})).await;
    let id = handle["taskId"].as_str().unwrap().to_owned();
    assert_eq!(on_b.get(&id).await["taskId"], id.as_str());
    assert!(
        redis.keys().iter().any(|k| k.ends_with(&id)),
        "{:?}",
        redis.keys()
    );
    // B relays answers to A, where the tool waits.
    let parked = on_b.wait_for(&id, "input_required").await;
    assert_eq!(parked["status"], "input_required", "{parked}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while on_b.get(&id).await["inputRequests"]
        .as_object()
        .map_or(0, serde_json::Map::len)
        < 2
    {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let answer = |v: &str| json!({"action": "accept", "content": {"v": v}});
    on_b.task(
        "tasks/update",
        &id,
        json!({"inputResponses": {"first": answer("x"), "second": answer("y")}}),
    )
    .await;
    let done = on_b.wait_for(&id, "completed").await;
    assert_eq!(
        done["result"]["content"][0]["text"], "\"x\" \"y\"",
        "{done}"
    );

    // B relays a cancellation to A.
    let before = SAW_CANCEL.load(Ordering::SeqCst);
    let handle = on_a.start("work", json!({"ms": 60_000})).await;
    let id = handle["taskId"].as_str().unwrap().to_owned();
    on_b.task("tasks/cancel", &id, json!({})).await;
    assert_eq!(on_a.get(&id).await["status"], "cancelled");
    let deadline = Instant::now() + Duration::from_secs(5);
    while SAW_CANCEL.load(Ordering::SeqCst) == before {
        assert!(
            Instant::now() < deadline,
            "A's tool never saw B's cancellation"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A stops gracefully with a task still running: B reports it failed, not working.
    let handle = on_a.start("work", json!({"ms": 60_000})).await;
    let id = handle["taskId"].as_str().unwrap().to_owned();
    stop_a.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), served_a)
        .await
        .unwrap()
        .unwrap();
    let failed = on_b.get(&id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(
        failed["error"]["message"],
        "the server stopped before the task finished"
    );
}
