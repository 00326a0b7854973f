//! Replicas sharing their 2025-11-25 sessions in a real Redis (a `redis-server` of the
//! test's own), each serving real HTTP on 127.0.0.1: any replica serves any session, the
//! limits count over all of them, and what one replica's request awaits (an answer, a
//! cancellation) or raises (a change) crosses to the others. While Redis is gone, requests
//! get 503 with `Retry-After`, and the replicas recover on their own.
// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcp_runtime::input::{InputRequest, StateKeys};
use mcp_runtime::prelude::*;
use mcp_runtime::store::RedisStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{Events, Exchange as _, Redis, SendGet as _, in_session, init_body, post};

/// Calls of `wait` that stopped before their end.
static CANCELLED: AtomicUsize = AtomicUsize::new(0);

/// Counts a call that stops before its end: dropped with the cancelled request.
struct Abandoned;

impl Drop for Abandoned {
    fn drop(&mut self) {
        CANCELLED.fetch_add(1, Ordering::SeqCst);
    }
}

struct Desk;

#[mcp_server]
impl Desk {
    /// Waits 20 s, unless cancelled.
    #[tool]
    async fn wait(&self) -> String {
        let abandoned = Abandoned;
        tokio::time::sleep(Duration::from_secs(20)).await;
        std::mem::forget(abandoned);
        "waited".into()
    }

    /// Asks the user to confirm, and says what they answered.
    #[tool]
    async fn confirm(&self, ctx: RequestContext) -> Result<String, ToolError> {
        let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}});
        let answer = ctx
            .ask("ok", InputRequest::elicit("Proceed?", schema))
            .await?;
        Ok(format!("answered {answer}"))
    }

    /// Reports progress `n` times, 50 ms apart, then answers.
    #[tool]
    async fn tick(&self, ctx: RequestContext, n: u32) -> String {
        for i in 1..=n {
            tokio::time::sleep(Duration::from_millis(50)).await;
            ctx.progress(f64::from(i), Some(f64::from(n)), None).await;
        }
        format!("ticked {n}")
    }

    /// Announces that the tool list changed.
    #[tool]
    fn announce(&self, ctx: RequestContext) -> String {
        ctx.notify(Change::Tools);
        "announced".into()
    }

    /// Announces that a note changed.
    #[tool]
    fn touch(&self, ctx: RequestContext, id: String) -> String {
        ctx.notify(Change::Resource(format!("notes://{id}")));
        "touched".into()
    }

    /// A note.
    #[resource(uri_template = "notes://{id}")]
    fn note(&self, id: String) -> String {
        id
    }
}

/// `n` replicas of [`Desk`] sharing `redis` and one key ring, replica `i` with
/// `config(i)`, each serving on a port of its own until its config's shutdown; their
/// endpoint URLs.
async fn replicas(redis: &Redis, n: usize, config: impl Fn(usize) -> HttpConfig) -> Vec<String> {
    let keys = StateKeys::new([7; 32]);
    let mut urls = Vec::new();
    for i in 0..n {
        let store = RedisStore::connect(&redis.url()).await.unwrap();
        let config = config(i)
            .session_store(store)
            .request_state_keys(keys.clone());
        let port = support::free_port();
        tokio::spawn(async move { Desk.serve_http(format!("127.0.0.1:{port}"), config).await });
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "replica {i} does not listen");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        urls.push(format!("http://127.0.0.1:{port}/mcp"));
    }
    urls
}

/// Opens a session on `url` with `capabilities`; its id.
async fn open(url: &str, capabilities: Value) -> String {
    let resp = post(url)
        .json(&init_body(1, capabilities))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let sid = support::session_id(&resp);
    let resp = in_session(url, &sid)
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    sid
}

fn request(id: i64, method: &str, params: Value) -> Value {
    let mut message = json!({"jsonrpc": "2.0", "id": id, "method": method});
    message["params"] = params;
    message
}

#[tokio::test]
async fn every_replica_serves_a_session_and_delete_ends_it_everywhere() {
    let redis = Redis::start("sessions");
    let urls = replicas(&redis, 3, |_| HttpConfig::new()).await;
    let sid = open(&urls[0], json!({})).await;

    let listed = in_session(&urls[1], &sid)
        .json(&request(2, "tools/list", json!({})))
        .exchange()
        .await;
    assert_eq!(
        listed["result"]["tools"].as_array().unwrap().len(),
        5,
        "{listed}"
    );
    let set = in_session(&urls[2], &sid)
        .json(&request(3, "logging/setLevel", json!({"level": "error"})))
        .exchange()
        .await;
    assert_eq!(set["result"], json!({}), "{set}");
    assert!(
        redis.keys().iter().any(|k| k.contains(&sid)),
        "the session is in Redis: {:?}",
        redis.keys()
    );

    let resp = in_session(&urls[1], &sid)
        .send_get_as(reqwest::Method::DELETE)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // The end reaches the other replicas over pub/sub, at once on a quiet machine; a replica
    // that confirmed the session less than a second ago may serve it until the message
    // arrives, and no longer than that second.
    for url in &urls {
        let deadline = Instant::now() + Duration::from_millis(1500);
        loop {
            let resp = in_session(url, &sid)
                .json(&request(4, "tools/list", json!({})))
                .send()
                .await
                .unwrap();
            if resp.status() == StatusCode::NOT_FOUND {
                break;
            }
            assert_eq!(resp.status(), StatusCode::OK, "on {url}");
            assert!(
                Instant::now() < deadline,
                "still served on {url} 1.5 s after DELETE"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let left: Vec<String> = redis
        .keys()
        .into_iter()
        .filter(|k| k.contains(&sid))
        .collect();
    assert!(left.is_empty(), "nothing of the session is left: {left:?}");
}

#[tokio::test]
async fn limits_are_counted_over_all_replicas() {
    let redis = Redis::start("limits");
    let urls = replicas(&redis, 3, |_| {
        HttpConfig::new()
            .max_sessions_per_client(2)
            .max_subscriptions(1)
    })
    .await;
    let first = open(&urls[0], json!({})).await;
    open(&urls[1], json!({})).await;
    let resp = post(&urls[2])
        .json(&init_body(1, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["error"]["data"]["limit"], "sessions_per_client",
        "{body}"
    );

    let resp = in_session(&urls[2], &first)
        .send_get_as(reqwest::Method::DELETE)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let third = open(&urls[2], json!({})).await;

    let subscribe = |id, uri: &str| request(id, "resources/subscribe", json!({"uri": uri}));
    let done = in_session(&urls[0], &third)
        .json(&subscribe(2, "notes://a"))
        .exchange()
        .await;
    assert_eq!(done["result"], json!({}), "{done}");
    let refused = in_session(&urls[1], &third)
        .json(&subscribe(3, "notes://b"))
        .exchange()
        .await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
}

#[tokio::test]
async fn an_answer_reaches_the_replica_whose_tool_asked() {
    let redis = Redis::start("answers");
    let urls = replicas(&redis, 2, |_| HttpConfig::new()).await;
    let sid = open(&urls[0], json!({"elicitation": {}})).await;
    let resp = in_session(&urls[0], &sid)
        .json(&request(5, "tools/call", json!({"name": "confirm"})))
        .send()
        .await
        .unwrap();
    let mut events = Events::new(resp);
    let asked = loop {
        let event = events.next().await.expect("the elicitation comes");
        if let Some(message) = event.message
            && message["method"] == "elicitation/create"
        {
            break message;
        }
    };
    let resp = in_session(&urls[1], &sid)
        .json(&json!({"jsonrpc": "2.0", "id": asked["id"],
            "result": {"action": "accept", "content": {"ok": true}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let after = events.rest().await;
    let result = after
        .iter()
        .filter_map(|e| e.message.as_ref())
        .find(|m| m["id"] == 5)
        .expect("the call's result");
    let text = result["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("accept"), "{result}");
}

#[tokio::test]
async fn a_cancellation_reaches_the_replica_running_the_request() {
    let redis = Redis::start("cancel");
    let urls = replicas(&redis, 2, |_| HttpConfig::new()).await;
    let sid = open(&urls[0], json!({})).await;
    let before = CANCELLED.load(Ordering::SeqCst);
    let call = tokio::spawn({
        let (url, sid) = (urls[0].clone(), sid.clone());
        async move {
            in_session(&url, &sid)
                .json(
                    &json!({"jsonrpc": "2.0", "id": "long", "method": "tools/call",
                    "params": {"name": "wait"}}),
                )
                .send()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resp = in_session(&urls[1], &sid)
        .json(
            &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": "long", "reason": "user"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let resp = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends soon after its cancellation")
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "no answer to a cancelled call"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while CANCELLED.load(Ordering::SeqCst) == before {
        assert!(
            Instant::now() < deadline,
            "the tool never saw its cancellation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_change_raised_on_one_replica_reaches_a_stream_on_another() {
    let redis = Redis::start("changes");
    let urls = replicas(&redis, 2, |_| HttpConfig::new()).await;
    let sid = open(&urls[0], json!({})).await;
    let subscribed = in_session(&urls[1], &sid)
        .json(&request(
            2,
            "resources/subscribe",
            json!({"uri": "notes://a"}),
        ))
        .exchange()
        .await;
    assert_eq!(subscribed["result"], json!({}), "{subscribed}");
    let stream = in_session(&urls[0], &sid)
        .header("accept", "text/event-stream")
        .send_get()
        .await;
    let mut events = Events::new(stream);
    let priming = events.next().await.unwrap();
    assert!(priming.message.is_none());
    // The stream is open on the first replica; the changes come from the second.
    for (id, tool, arguments) in [
        (3, "touch", json!({"id": "b"})),
        (4, "touch", json!({"id": "a"})),
        (5, "announce", json!({})),
    ] {
        let done = in_session(&urls[1], &sid)
            .json(&request(
                id,
                "tools/call",
                json!({"name": tool, "arguments": arguments}),
            ))
            .exchange()
            .await;
        assert!(done["result"].is_object(), "{done}");
    }
    let first = events.next().await.unwrap().message.unwrap();
    assert_eq!(
        first["method"], "notifications/resources/updated",
        "{first}"
    );
    assert_eq!(
        first["params"]["uri"], "notes://a",
        "not the note nobody follows"
    );
    let second = events.next().await.unwrap().message.unwrap();
    assert_eq!(second["method"], "notifications/tools/list_changed");
}

#[tokio::test]
async fn while_redis_is_gone_requests_get_503_and_the_replicas_recover() {
    let mut redis = Redis::start("outage");
    let urls = replicas(&redis, 2, |_| HttpConfig::new()).await;
    let sid = open(&urls[0], json!({})).await;
    redis.kill();

    let started = Instant::now();
    let resp = in_session(&urls[1], &sid)
        .json(&request(2, "tools/list", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["data"]["limit"], "session_store", "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused promptly, not after a hang: {:?}",
        started.elapsed()
    );
    let resp = post(&urls[0])
        .json(&init_body(1, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    // The replica that opened the session takes it as current for a second after the store
    // last confirmed it; past that it asks the store again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resp = in_session(&urls[0], &sid)
        .header("accept", "text/event-stream")
        .send_get()
        .await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));

    // A new, empty Redis: the old session is gone, and new ones work on every replica.
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    let sid = loop {
        let resp = post(&urls[1])
            .json(&init_body(1, json!({})))
            .send()
            .await
            .unwrap();
        if resp.status() == StatusCode::OK {
            break support::session_id(&resp);
        }
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "the replicas did not reconnect");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let listed = in_session(&urls[0], &sid)
        .json(&request(2, "tools/list", json!({})))
        .exchange()
        .await;
    assert!(listed["result"]["tools"].is_array(), "{listed}");
}

/// A subscription recorded as its session ends leaves nothing in the store.
#[tokio::test]
async fn a_subscription_of_an_ended_session_leaves_nothing_behind() {
    let redis = Redis::start("late-subscription");
    let urls = replicas(&redis, 1, |_| HttpConfig::new()).await;
    let sid = open(&urls[0], json!({})).await;
    // Gone from the store as an expiry takes it, while the replica has just seen it.
    redis.cli(&["del", &format!("mcp:s:{sid}")]);
    let _ = in_session(&urls[0], &sid)
        .json(&request(
            2,
            "resources/subscribe",
            json!({"uri": "notes://a"}),
        ))
        .send()
        .await
        .unwrap();
    let keys = redis.keys();
    assert!(!keys.iter().any(|k| k.contains(&*sid)), "{keys:?}");
    let resp = in_session(&urls[0], &sid)
        .json(&request(3, "ping", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// A notification stream the store let expire (quiet for longer than an idle timeout)
/// while its session lives on carries on as a new stream on another replica.
#[tokio::test]
async fn an_expired_notification_stream_carries_on_as_a_new_one() {
    let redis = Redis::start("expired-stream");
    let urls = replicas(&redis, 2, |_| HttpConfig::new()).await;
    let sid = open(&urls[0], json!({})).await;
    let resp = in_session(&urls[0], &sid)
        .header("accept", "text/event-stream")
        .send_get()
        .await;
    let mut events = Events::new(resp);
    let priming = events.next().await.unwrap();
    let last = priming.id.clone().expect("the priming event has an id");
    drop(events);
    let (stream, _) = last.split_once('-').unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let key = format!("mcp:e:{sid}:{stream}");
    while !redis.keys().contains(&key) {
        assert!(Instant::now() < deadline, "the stream reaches the store");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    redis.cli(&["del", &key]);
    let mut resumed = resume(&urls[1], &sid, &last).await;
    let first = resumed.next().await.unwrap();
    assert!(first.message.is_none(), "a new stream's priming: {first:?}");
    let (new_stream, _) = first.id.as_deref().unwrap().split_once('-').unwrap();
    assert_ne!(new_stream, stream);
    let done = in_session(&urls[0], &sid)
        .json(&request(4, "tools/call", json!({"name": "announce"})))
        .exchange()
        .await;
    assert!(done["result"].is_object(), "{done}");
    let next = resumed.next().await.unwrap();
    assert_eq!(
        next.message.unwrap()["method"],
        "notifications/tools/list_changed"
    );
}

fn tick_call(id: i64, n: u32) -> Value {
    request(
        id,
        "tools/call",
        json!({"name": "tick", "arguments": {"n": n}, "_meta": {"progressToken": "t"}}),
    )
}

/// The progress an event reports, if it is a progress notification.
fn progress_of(event: &support::Event) -> Option<f64> {
    let message = event.message.as_ref()?;
    (message["method"] == "notifications/progress")
        .then(|| message["params"]["progress"].as_f64())
        .flatten()
}

/// A `GET` of session `sid` on `url` resuming after `last`.
async fn resume(url: &str, sid: &str, last: &str) -> Events {
    let resp = in_session(url, sid)
        .header("accept", "text/event-stream")
        .header("last-event-id", last)
        .send_get()
        .await;
    Events::new(resp)
}

#[tokio::test]
async fn a_call_stream_resumes_on_another_replica_missing_nothing() {
    let redis = Redis::start("resume-call");
    let urls = replicas(&redis, 2, |_| HttpConfig::new()).await;
    let sid = open(&urls[0], json!({})).await;
    let resp = in_session(&urls[0], &sid)
        .json(&tick_call(7, 10))
        .send()
        .await
        .unwrap();
    let mut events = Events::new(resp);
    let (mut progress, mut last) = (Vec::new(), String::new());
    while progress.len() < 3 {
        let event = events.next().await.expect("progress comes");
        last = event.id.clone().expect("every event has an id");
        progress.extend(progress_of(&event));
    }
    drop(events);

    let resumed = resume(&urls[1], &sid, &last).await.rest().await;
    progress.extend(resumed.iter().filter_map(progress_of));
    let expected: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(progress, expected, "each progress event once, in order");
    let results: Vec<&Value> = resumed
        .iter()
        .filter_map(|e| e.message.as_ref())
        .filter(|m| m["id"] == 7)
        .collect();
    assert_eq!(results.len(), 1, "{resumed:?}");
    assert_eq!(results[0]["result"]["content"][0]["text"], "ticked 10");
}

#[tokio::test]
async fn a_notification_stream_moves_to_another_replica_when_its_own_drains() {
    let redis = Redis::start("resume-standalone");
    let stop = tokio_util::sync::CancellationToken::new();
    let urls = replicas(&redis, 2, |i| match i {
        0 => HttpConfig::new()
            .drain_timeout(Duration::from_secs(3))
            .shutdown_on(stop.clone().cancelled_owned()),
        _ => HttpConfig::new(),
    })
    .await;
    let sid = open(&urls[0], json!({})).await;
    let announce = async |id: i64| {
        let done = in_session(&urls[1], &sid)
            .json(&request(id, "tools/call", json!({"name": "announce"})))
            .exchange()
            .await;
        assert_eq!(done["result"]["content"][0]["text"], "announced");
    };
    let resp = in_session(&urls[0], &sid)
        .header("accept", "text/event-stream")
        .send_get()
        .await;
    let mut on_first = Events::new(resp);
    assert!(on_first.next().await.unwrap().message.is_none(), "priming");
    announce(2).await;
    let seen = on_first.next().await.unwrap();
    assert_eq!(
        seen.message.as_ref().unwrap()["method"],
        "notifications/tools/list_changed"
    );

    // The first replica drains: its stream ends with a retry hint.
    stop.cancel();
    let ended = on_first.rest().await;
    assert!(ended.iter().any(|e| e.retry), "{ended:?}");
    // Raised while the client is away, once the second replica carries the stream on.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !redis.keys().iter().any(|k| k.starts_with("mcp:w:")) {
        assert!(
            Instant::now() < deadline,
            "no replica carries the stream on"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    announce(3).await;
    let mut on_second = resume(&urls[1], &sid, seen.id.as_deref().unwrap()).await;
    let missed = on_second.next().await.unwrap();
    assert_eq!(
        missed.message.as_ref().unwrap()["method"],
        "notifications/tools/list_changed",
        "what came while away"
    );
    // The stream carries on on the second replica: one stream, its places in order.
    announce(4).await;
    let next = on_second.next().await.expect("the stream carries on");
    assert_eq!(
        next.message.as_ref().unwrap()["method"],
        "notifications/tools/list_changed"
    );
    let place = |e: &support::Event| {
        let id = e.id.clone().unwrap();
        let (stream, seq) = id.split_once('-').unwrap();
        (stream.to_owned(), seq.parse::<u64>().unwrap())
    };
    let (first, second, third) = (place(&seen), place(&missed), place(&next));
    assert_eq!((&second.0, &third.0), (&first.0, &first.0), "one stream");
    assert_eq!((second.1, third.1), (first.1 + 1, first.1 + 2));
    let more = tokio::time::timeout(Duration::from_millis(500), on_second.next()).await;
    assert!(more.is_err(), "nothing twice: {more:?}");
}
