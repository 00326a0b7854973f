//! What one client can make the server hold, and how long: session budgets and quotas,
//! streams, timeouts for slow clients, the connection cap, the graceful shutdown, and
//! server-to-client requests that time out. Real HTTP on 127.0.0.1.

// A failed `unwrap` in a helper is a failed test, as in the tests themselves; clippy's
// `allow-unwrap-in-tests` only reaches `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use mcp_runtime::input::InputRequest;
use mcp_runtime::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use support::{LEGACY, frames, init_body, json_of, open_session, post, session_id};

struct Desk;

#[mcp_server]
impl Desk {
    /// Sleeps for `ms` milliseconds.
    #[tool]
    async fn nap(&self, ms: u64) -> String {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        "rested".into()
    }

    /// Asks the user something, and gives up after 300 ms.
    #[tool]
    async fn impatient(&self, ctx: RequestContext) -> Result<String, ToolError> {
        let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}});
        ctx.ask(
            "ok",
            InputRequest::elicit("Proceed?", schema).timeout(Duration::from_millis(300)),
        )
        .await?;
        Ok("answered".into())
    }

    /// Blocks its thread for `ms` milliseconds, as a sync driver would.
    #[tool(blocking)]
    fn grind(&self, ms: u64) -> String {
        std::thread::sleep(Duration::from_millis(ms));
        "ground".into()
    }

    /// A resource to subscribe to.
    #[resource(uri_template = "notes://{id}")]
    fn note(&self, id: String) -> String {
        id
    }
}

/// Serves `config` as a router, with each request's peer address, on 127.0.0.1.
async fn spawn(config: HttpConfig) -> String {
    let (listener, url) = support::listen().await;
    let app = Desk
        .router(config)
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A client whose connections come from `ip` (any of 127.0.0.0/8 on Linux).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

fn initialize(client: &reqwest::Client, url: &str) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .json(&init_body(1, json!({})))
}

async fn initialize_from(ip: &str, url: &str) -> reqwest::Response {
    initialize(&client_from(ip), url).send().await.unwrap()
}

fn call(url: &str, sid: &str, id: i64, tool: &str, arguments: &Value) -> reqwest::RequestBuilder {
    support::in_session(url, sid).json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}}))
}

fn retry_after(resp: &reqwest::Response) -> u64 {
    resp.headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", resp.headers()))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The resident set of process `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

/// 400 `initialize` calls, each with a 1 MiB `clientInfo`, are refused with -32602 and
/// leave the server's memory where it was (unbounded, they took +4 MB a session).
#[tokio::test]
async fn a_flood_of_huge_client_info_leaves_memory_bounded() {
    let port = support::free_port();
    let mut server = support::ChildGuard::spawn_logged(
        std::process::Command::new(support::example_binary("everything"))
            .env("MCP_BIND", format!("127.0.0.1:{port}")),
        "the everything example",
        support::log_dir("limits").join("everything.log"),
    );
    server.wait_for_port(port, Duration::from_mins(1));
    let url = format!("http://127.0.0.1:{port}/mcp");
    let pid = server.child.id();
    // Warm the allocator with ordinary sessions first.
    for _ in 0..20 {
        open_session(&url).await;
    }
    let before = rss(pid);
    let mut body = init_body(1, json!({}));
    body["params"]["clientInfo"] = json!({"name": "x".repeat(1 << 20), "version": "1"});
    let body = body.to_string();
    let client = reqwest::Client::new();
    let mut calls = Vec::new();
    for _ in 0..400 {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        calls.push(tokio::spawn(async move {
            let resp = client
                .post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(resp.headers().get("mcp-session-id").is_none());
            json_of(resp).await
        }));
        if calls.len() == 16 {
            for c in calls.drain(..) {
                let answer = c.await.unwrap();
                assert_eq!(answer["error"]["code"], -32602, "{answer}");
                assert!(
                    answer["error"]["message"]
                        .as_str()
                        .unwrap()
                        .contains("65536 bytes"),
                    "{answer}"
                );
            }
        }
    }
    let grown = rss(pid).saturating_sub(before);
    assert!(grown < 64 << 20, "RSS grew by {} MiB", grown >> 20);
    // The server still works.
    open_session(&url).await;
}

/// One address opening sessions as fast as it can gets 429 at its share, and another
/// client still gets in; a full table answers 503. Both carry `Retry-After`.
#[tokio::test]
async fn a_flood_of_initialize_from_one_address_locks_no_one_else_out() {
    let config = HttpConfig::new().max_sessions_per_client(5).max_sessions(7);
    let stats = config.stats();
    let url = spawn(config).await;
    let flooder = client_from("127.0.0.1");
    let mut refused = 0;
    for _ in 0..40 {
        let resp = initialize(&flooder, &url).send().await.unwrap();
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(retry_after(&resp) >= 1);
            let body = json_of(resp).await;
            assert_eq!(body["id"], 1);
            assert_eq!(
                body["error"]["data"]["limit"], "sessions_per_client",
                "{body}"
            );
            refused += 1;
        } else {
            assert_eq!(resp.status(), StatusCode::OK);
        }
    }
    assert_eq!(refused, 35);
    assert_eq!(stats.sessions(), 5);
    assert_eq!(stats.sessions_refused(), 35);

    let second = client_from("127.0.0.2");
    let resp = initialize(&second, &url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "another client gets in");
    let sid = session_id(&resp);
    let resp = initialize_from("127.0.0.3", &url).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = initialize_from("127.0.0.4", &url).await;
    assert_eq!(
        resp.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "the table is full"
    );
    assert!(retry_after(&resp) >= 1);
    assert_eq!(json_of(resp).await["error"]["data"]["limit"], "sessions");
    // Closing a session makes room again.
    let resp = reqwest::Client::new()
        .delete(&url)
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", LEGACY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = initialize_from("127.0.0.4", &url).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Sessions never used after `initialize`, and idle ones, expire on their own schedule,
/// without a new `initialize` to trigger a sweep; the operator sees the counts.
#[tokio::test]
async fn unused_and_idle_sessions_expire_on_their_own() {
    let config = HttpConfig::new()
        .unused_session_timeout(Duration::from_millis(400))
        .session_idle_timeout(Duration::from_millis(1500));
    let stats = config.stats();
    let url = spawn(config).await;
    for _ in 0..10 {
        let resp = post(&url)
            .json(&init_body(1, json!({})))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let used = open_session(&url).await;
    assert_eq!(stats.sessions(), 11);
    assert_eq!(stats.unused_sessions(), 10);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(stats.sessions(), 1, "{stats:?}");
    assert_eq!(stats.sessions_expired(), 10);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(stats.sessions(), 0, "{stats:?}");
    let resp = call(&url, &used, 2, "nap", &json!({"ms": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// A session holds a bounded number of subscriptions, each of a bounded length, and a
/// bounded number of requests in flight.
#[tokio::test]
async fn a_session_holds_bounded_subscriptions_and_requests() {
    let url = spawn(
        HttpConfig::new()
            .max_subscriptions(2)
            .max_requests_per_session(2),
    )
    .await;
    let sid = open_session(&url).await;
    let subscribe = |id: i64, uri: String| {
        support::in_session(&url, &sid).json(&json!({"jsonrpc": "2.0", "id": id,
            "method": "resources/subscribe", "params": {"uri": uri}}))
    };
    for (id, uri) in [(1, "notes://a"), (2, "notes://b"), (3, "notes://a")] {
        let body = json_of(subscribe(id, uri.into()).send().await.unwrap()).await;
        assert_eq!(body["result"], json!({}), "{body}");
    }
    let body = json_of(subscribe(4, "notes://c".into()).send().await.unwrap()).await;
    assert_eq!(body["error"]["code"], -32602, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 subscriptions")
    );
    let long = format!("notes://{}", "x".repeat(5000));
    let body = json_of(subscribe(5, long).send().await.unwrap()).await;
    assert_eq!(body["error"]["code"], -32602, "{body}");

    let slow: Vec<_> = (0..2)
        .map(|i| tokio::spawn(call(&url, &sid, 10 + i, "nap", &json!({"ms": 800})).send()))
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let resp = call(&url, &sid, 20, "nap", &json!({"ms": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&resp) >= 1);
    let body = json_of(resp).await;
    assert_eq!(body["id"], 20);
    assert_eq!(
        body["error"]["data"]["limit"], "requests_per_session",
        "{body}"
    );
    for s in slow {
        assert_eq!(s.await.unwrap().unwrap().status(), StatusCode::OK);
    }
    let resp = call(&url, &sid, 21, "nap", &json!({"ms": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "room again once they finish");
}

/// Notification streams are bounded in number, and end after their lifetime with a
/// `retry:` hint.
#[tokio::test]
async fn notification_streams_are_bounded_and_end_with_a_retry_hint() {
    let config = HttpConfig::new()
        .max_streams(1)
        .sse_max_lifetime(Duration::from_millis(600));
    let stats = config.stats();
    let url = spawn(config).await;
    let get = |sid: &str| {
        reqwest::Client::new()
            .get(&url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", sid)
            .header("mcp-protocol-version", LEGACY)
            .send()
    };
    let first = open_session(&url).await;
    let second = open_session(&url).await;
    let stream = get(&first).await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let refused = get(&second).await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry_after(&refused) >= 1);
    assert_eq!(stats.streams(), 1);
    let started = Instant::now();
    let text = tokio::time::timeout(Duration::from_secs(5), stream.text())
        .await
        .expect("the stream ends after its lifetime")
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert!(text.contains("retry: 1000"), "{text:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(stats.streams(), 0);
    assert_eq!(get(&second).await.unwrap().status(), StatusCode::OK);
}

/// A server-to-client request the client never answers times out: the server cancels it
/// and the tool gets its error, instead of waiting forever.
#[tokio::test]
async fn an_unanswered_elicitation_times_out() {
    let url = spawn(HttpConfig::new()).await;
    let resp = post(&url)
        .json(&init_body(1, json!({"elicitation": {}})))
        .send()
        .await
        .unwrap();
    let sid = session_id(&resp);
    let started = Instant::now();
    let resp = call(&url, &sid, 7, "impatient", &json!({}))
        .send()
        .await
        .unwrap();
    let text = tokio::time::timeout(Duration::from_secs(10), resp.text())
        .await
        .expect("the call ends")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let messages = frames(&text);
    assert_eq!(messages[0]["method"], "elicitation/create", "{text}");
    let asked = messages[0]["id"].clone();
    assert_eq!(messages[1]["method"], "notifications/cancelled", "{text}");
    assert_eq!(messages[1]["params"]["requestId"], asked);
    let last = messages.last().unwrap();
    assert_eq!(last["id"], 7);
    assert!(
        last.to_string().contains("did not answer in time"),
        "{last}"
    );
}

/// Starts `serve_http` on a free port with `config`; returns the URL and the task.
async fn serve_http(
    config: HttpConfig,
) -> (
    String,
    tokio::task::JoinHandle<Result<(), mcp_runtime::ServeError>>,
) {
    let port = support::free_port();
    let task = tokio::spawn(Desk.serve_http(format!("127.0.0.1:{port}"), config));
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&addr).await.is_err() {
        assert!(Instant::now() < deadline, "serve_http did not listen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (format!("http://{addr}/mcp"), task)
}

/// Whether the server closed `socket` within `within` (reads until EOF or an error).
async fn closed_within(socket: &mut tokio::net::TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, socket.read_to_end(&mut got)).await;
    read.is_ok().then_some(got)
}

/// Slow clients are cut off: headers trickling in, a body that stalls, an idle connection;
/// meanwhile a normal client is served.
#[tokio::test]
async fn slow_clients_are_disconnected_while_others_are_served() {
    let (url, _task) = serve_http(
        HttpConfig::new()
            .header_timeout(Duration::from_secs(1))
            .body_timeout(Duration::from_secs(1)),
    )
    .await;
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();

    // Headers a byte at a time.
    let mut trickle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let trickler = tokio::spawn(async move {
        let started = Instant::now();
        for b in b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if trickle.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "a client sending its headers slowly is still connected"
            );
        }
        started.elapsed()
    });
    // A body that stops halfway.
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(
            b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Accept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"",
        )
        .await
        .unwrap();
    // A connection that says nothing.
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // A keep-alive connection left idle after its response.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let init = init_body(1, json!({})).to_string();
    idle.write_all(
        format!(
            "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{init}",
            init.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();

    let session = open_session(&url).await;
    let resp = call(&url, &session, 2, "nap", &json!({"ms": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "a normal client is served");

    let answer = closed_within(&mut stalled, Duration::from_secs(5))
        .await
        .expect("a stalled body is answered and closed");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        closed_within(&mut silent, Duration::from_secs(5))
            .await
            .is_some(),
        "an idle connection is closed"
    );
    let answered = closed_within(&mut idle, Duration::from_secs(5))
        .await
        .expect("an idle keep-alive connection is closed");
    let answered = String::from_utf8_lossy(&answered);
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    let cut_after = trickler.await.unwrap();
    assert!(cut_after < Duration::from_secs(5), "{cut_after:?}");
}

/// At the connection cap, the connection quiet longest is closed to make room for a new
/// client, so connections that send nothing cannot keep it out (the header timeout here
/// is 30 s); one with a request in progress is never the one closed.
#[tokio::test]
async fn at_the_connection_cap_quiet_connections_make_room() {
    let config = HttpConfig::new()
        .max_connections(4)
        .header_timeout(Duration::from_secs(30));
    let stats = config.stats();
    let (url, _task) = serve_http(config).await;
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let session = open_session(&url).await;
    let settle = Instant::now() + Duration::from_secs(5);
    while stats.connections() > 0 {
        assert!(
            Instant::now() < settle,
            "the session's connection stays open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let naps: Vec<_> = (0..2)
        .map(|i| tokio::spawn(call(&url, &session, 10 + i, "nap", &json!({"ms": 4000})).send()))
        .collect();
    let mut hogs = Vec::new();
    for _ in 0..2 {
        hogs.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        stats.connections(),
        4,
        "two calls and two silent connections"
    );

    let started = Instant::now();
    let resp = tokio::time::timeout(
        Duration::from_secs(10),
        post(&url).json(&init_body(1, json!({}))).send(),
    )
    .await
    .expect("served long before the silent connections time out")
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(stats.connections_evicted(), 1, "{stats:?}");
    let mut closed = 0;
    for hog in &mut hogs {
        if closed_within(hog, Duration::from_millis(500))
            .await
            .is_some()
        {
            closed += 1;
        }
    }
    assert_eq!(closed, 1, "one silent connection made room");
    for nap in naps {
        let resp = nap.await.unwrap().unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "a call in progress is never cut"
        );
        assert!(resp.text().await.unwrap().contains("rested"));
    }
    assert!(stats.connections() <= 4);
}

/// A graceful shutdown with a notification stream, a half-sent request and a long call
/// open: the stream ends with `retry:`, the long call is answered 503 with its id, and
/// `serve_http` returns by the drain deadline.
#[tokio::test]
async fn shutdown_completes_within_its_deadline_whatever_is_open() {
    let stop = tokio_util::sync::CancellationToken::new();
    let config = HttpConfig::new()
        .drain_timeout(Duration::from_secs(2))
        .header_timeout(Duration::from_secs(30))
        .body_timeout(Duration::from_secs(30))
        .shutdown_on(stop.clone().cancelled_owned());
    let stats = config.stats();
    let (url, task) = serve_http(config).await;
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let sid = open_session(&url).await;
    let stream = reqwest::Client::new()
        .get(&url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", LEGACY)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let long = tokio::spawn(call(&url, &sid, 9, "nap", &json!({"ms": 60_000})).send());
    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Le")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    stop.cancel();
    let text = tokio::time::timeout(Duration::from_secs(3), stream.text())
        .await
        .expect("the stream ends when the shutdown starts")
        .unwrap();
    assert!(text.contains("retry:"), "{text:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(stats.shutting_down());

    let resp = long.await.unwrap().unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json_of(resp).await;
    assert_eq!(body["id"], 9, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shutting down")
    );
    let served = tokio::time::timeout(Duration::from_secs(4), task)
        .await
        .expect("serve_http returns by the drain deadline")
        .unwrap();
    assert!(served.is_ok(), "{served:?}");
    assert!(
        started.elapsed() < Duration::from_millis(2600),
        "{:?}",
        started.elapsed()
    );
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "no longer listening"
    );
}

/// A 3.4 MB body made of one object of 300 000 members is refused after a scan, with the
/// reason, instead of being built into a map.
#[tokio::test]
async fn an_object_too_wide_is_refused_without_a_parse() {
    let url = spawn(HttpConfig::new()).await;
    let sid = open_session(&url).await;
    let members: Vec<String> = (0..300_000).map(|i| format!("\"k{i}\":0")).collect();
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"nap","arguments":{{{}}}}}}}"#,
        members.join(",")
    );
    assert!(body.len() > 3_000_000);
    let resp = support::in_session(&url, &sid)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let answer = json_of(resp).await;
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("10000 members"),
        "{answer}"
    );
}

/// Four blocking tools running at once on a two-worker runtime leave room for a quick
/// call: the blocked workers hand their other tasks on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_tool_does_not_delay_another_call() {
    let url = spawn(HttpConfig::new()).await;
    let sid = open_session(&url).await;
    let slow: Vec<_> = (0..4)
        .map(|i| tokio::spawn(call(&url, &sid, 30 + i, "grind", &json!({"ms": 2000})).send()))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let resp = call(&url, &sid, 40, "nap", &json!({"ms": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(1),
        "the quick call waited {waited:?}"
    );
    for s in slow {
        let body = json_of(s.await.unwrap().unwrap()).await;
        assert_eq!(body["result"]["content"][0]["text"], "ground", "{body}");
    }
}

/// What the server logged, kept for the test to read.
#[derive(Clone, Default)]
struct Logged(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logged {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logged {
    type Writer = Logged;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// `serve_http` turns Nagle's algorithm off on every connection it accepts: the option, read
/// back from the accepted socket, is on.
#[tokio::test]
async fn serve_http_sets_tcp_nodelay_on_every_connection() {
    use tracing_subscriber::util::SubscriberInitExt as _;
    let logged = Logged::default();
    let _guard = tracing_subscriber::fmt()
        .with_writer(logged.clone())
        .with_ansi(false)
        .with_env_filter("mcp_runtime=debug")
        .finish()
        .set_default();
    let (url, _task) = serve_http(HttpConfig::new()).await;
    // Three clients, a connection each.
    for _ in 0..3 {
        open_session(&url).await;
    }
    let text = String::from_utf8(logged.0.lock().unwrap().clone()).unwrap();
    let accepted: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("connection accepted"))
        .collect();
    // The probe that waited for the listener, and a connection per client.
    assert!(accepted.len() >= 4, "{text}");
    assert!(
        accepted.iter().all(|l| l.contains("nodelay=true")),
        "{text}"
    );
}
