//! Resuming the SSE streams of a 2025-11-25 session with `Last-Event-ID`, over real HTTP on
//! 127.0.0.1: what a broken connection missed is replayed, once, and nothing else.
// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use mcp_runtime::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{Event, Events, SendGet as _, Session, spawn};

struct Ticker;

#[mcp_server]
impl Ticker {
    /// Reports progress `n` times, 40 ms apart, then answers.
    #[tool]
    async fn tick(&self, ctx: RequestContext, n: u32) -> String {
        for i in 1..=n {
            tokio::time::sleep(Duration::from_millis(40)).await;
            ctx.progress(f64::from(i), Some(f64::from(n)), None).await;
        }
        format!("ticked {n}")
    }

    /// Closes its connection, then reports progress and answers.
    #[tool]
    async fn poll(&self, ctx: RequestContext) -> String {
        ctx.close_sse_stream().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        ctx.progress(1.0, None, None).await;
        "polled".into()
    }

    /// Says that the tool list changed.
    #[tool]
    fn change(&self, ctx: RequestContext) -> String {
        ctx.notify(Change::Tools);
        "changed".into()
    }
}

fn tick_call(id: i64, n: u32) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "tick", "arguments": {"n": n}, "_meta": {"progressToken": "t"}}})
}

fn progress_of(event: &Event) -> Option<f64> {
    let message = event.message.as_ref()?;
    (message["method"] == "notifications/progress")
        .then(|| message["params"]["progress"].as_f64())
        .flatten()
}

async fn resume(session: &Session, last: &str) -> reqwest::Response {
    session
        .request()
        .header("accept", "text/event-stream")
        .header("last-event-id", last)
        .send_get()
        .await
}

/// A call's stream cut after two progress events is resumed by `GET` with the last id:
/// the rest of the progress and the result come, each once, and the stream ends.
#[tokio::test]
async fn a_broken_call_stream_resumes_where_it_stopped() {
    let url = spawn(Ticker.router(HttpConfig::new())).await;
    let session = Session::open(&url).await;
    let resp = session
        .request()
        .json(&tick_call(5, 6))
        .send()
        .await
        .unwrap();
    let mut events = Events::new(resp);
    let priming = events.next().await.unwrap();
    let stream = priming.id.clone().expect("the first event has an id");
    assert!(stream.ends_with("-0"), "{stream}");
    assert!(priming.retry && priming.message.is_none(), "{priming:?}");
    let one = events.next().await.unwrap();
    let two = events.next().await.unwrap();
    assert_eq!(
        (progress_of(&one), progress_of(&two)),
        (Some(1.0), Some(2.0))
    );
    let last = two.id.clone().unwrap();
    drop(events);

    // The call went on without a connection; the rest waits in the session.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let missed = Events::new(resume(&session, &last).await).rest().await;
    let progress: Vec<_> = missed.iter().filter_map(progress_of).collect();
    assert_eq!(progress, [3.0, 4.0, 5.0, 6.0], "{missed:?}");
    let result = missed.last().unwrap().message.clone().unwrap();
    assert_eq!(result["id"], 5);
    assert_eq!(result["result"]["content"][0]["text"], "ticked 6");
    let ids: Vec<_> = missed.iter().map(|e| e.id.clone().unwrap()).collect();
    let prefix = stream.trim_end_matches('0');
    assert!(ids.iter().all(|id| id.starts_with(prefix)), "{ids:?}");

    // From the priming event, the whole stream again; from its end, nothing.
    let again = Events::new(resume(&session, &stream).await).rest().await;
    assert_eq!(again.iter().filter_map(progress_of).count(), 6);
    let end = ids.last().unwrap();
    assert!(
        Events::new(resume(&session, end).await)
            .rest()
            .await
            .is_empty()
    );
}

/// Notifications raised while the standalone stream had no connection are replayed when
/// the client resumes it; a resume retires the older connection.
#[tokio::test]
async fn the_standalone_stream_keeps_what_came_while_disconnected() {
    let url = spawn(Ticker.router(HttpConfig::new())).await;
    let session = Session::open(&url).await;
    let get = session
        .request()
        .header("accept", "text/event-stream")
        .send_get()
        .await;
    let mut first = Events::new(get);
    let priming = first.next().await.unwrap();
    session
        .call("tools/call", json!({"name": "change", "arguments": {}}))
        .await;
    let seen = first.next().await.unwrap();
    assert_eq!(
        seen.message.as_ref().unwrap()["method"],
        "notifications/tools/list_changed"
    );
    let seen_id = seen.id.clone().unwrap();
    drop(first);
    for _ in 0..2 {
        session
            .call("tools/call", json!({"name": "change", "arguments": {}}))
            .await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut resumed = Events::new(resume(&session, &seen_id).await);
    let a = resumed.next().await.unwrap();
    let b = resumed.next().await.unwrap();
    for e in [&a, &b] {
        assert_eq!(
            e.message.as_ref().unwrap()["method"],
            "notifications/tools/list_changed"
        );
    }
    assert_ne!(a.id, b.id);
    assert_ne!(a.id.as_deref(), Some(seen_id.as_str()), "nothing twice");

    // Resuming again from the priming event retires this connection.
    let mut newer = Events::new(resume(&session, priming.id.as_deref().unwrap()).await);
    assert_eq!(newer.next().await.unwrap().id, seen.id);
    assert!(resumed.next().await.is_none(), "the older reader ends");
}

/// A `Last-Event-ID` that is not an id, or names a stream the session does not hold, gets
/// 400; ids are per session, so another session's ids reach nothing of the first.
#[tokio::test]
async fn a_bad_last_event_id_is_refused() {
    let url = spawn(Ticker.router(HttpConfig::new())).await;
    let session = Session::open(&url).await;
    for bad in ["nonsense", "1-x", "99-0"] {
        let resp = resume(&session, bad).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body = resp.text().await.unwrap();
        assert!(body.contains("Last-Event-ID"), "{body}");
    }
    let resp = session
        .request()
        .json(&tick_call(1, 2))
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = Events::new(resp)
        .rest()
        .await
        .into_iter()
        .filter_map(|e| e.id)
        .collect();
    let other = Session::open(&url).await;
    let resp = resume(&other, ids.first().unwrap()).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "not this session's");
    // The last place an id can name: nothing comes after it.
    let (stream, _) = ids[0].split_once('-').unwrap();
    let resp = resume(&session, &format!("{stream}-{}", u64::MAX)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    drop(resp);
    let resp = resume(&session, "99-0").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "still serving");
}

/// What a session keeps for resumption is bounded by bytes: a long stream keeps its
/// newest events, and the endpoint's count shows the bound holding.
#[tokio::test]
async fn what_is_kept_for_resumption_is_bounded() {
    let config = HttpConfig::new().sse_replay_bytes(2048, 1 << 20);
    let stats = config.stats();
    let url = spawn(Ticker.router(config)).await;
    let session = Session::open(&url).await;
    let resp = session
        .request()
        .json(&tick_call(9, 40))
        .send()
        .await
        .unwrap();
    let events = Events::new(resp).rest().await;
    assert_eq!(events.iter().filter_map(progress_of).count(), 40);
    let kept = stats.sse_replay_bytes();
    assert!(kept > 0 && kept <= 2048, "{kept}");
    let first = events.first().unwrap().id.clone().unwrap();
    let replayed = Events::new(resume(&session, &first).await).rest().await;
    assert!(
        replayed.len() < 40,
        "older events were dropped: {}",
        replayed.len()
    );
    let result = replayed.last().unwrap().message.clone().unwrap();
    assert_eq!(
        result["result"]["content"][0]["text"], "ticked 40",
        "the newest stay"
    );
    let mut deleted = support::in_session(&url, session.id.as_deref().unwrap())
        .build()
        .unwrap();
    *deleted.method_mut() = reqwest::Method::DELETE;
    assert!(
        reqwest::Client::new()
            .execute(deleted)
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert_eq!(
        stats.sse_replay_bytes(),
        0,
        "an ended session keeps nothing"
    );
}

/// A tool that closes its connection mid-call (SSE polling): the client sees the priming
/// event and the end of the stream, and gets the progress and result by resuming. Outside
/// a session the same tool answers on its one stream.
#[tokio::test]
async fn a_tool_can_close_its_connection_and_answer_on_the_resumed_stream() {
    let url = spawn(Ticker.router(HttpConfig::new())).await;
    let session = Session::open(&url).await;
    let call = json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
        "params": {"name": "poll", "arguments": {}, "_meta": {"progressToken": "p"}}});
    let resp = session.request().json(&call).send().await.unwrap();
    let cut = Events::new(resp).rest().await;
    assert_eq!(cut.len(), 1, "only the priming event: {cut:?}");
    let priming = cut[0].id.clone().unwrap();
    assert!(cut[0].retry);
    let resumed = Events::new(resume(&session, &priming).await).rest().await;
    assert_eq!(
        resumed.iter().filter_map(progress_of).count(),
        1,
        "{resumed:?}"
    );
    let result = resumed.last().unwrap().message.clone().unwrap();
    assert_eq!(result["id"], 8);
    assert_eq!(result["result"]["content"][0]["text"], "polled");

    let stateless = spawn(Ticker.router(HttpConfig::new())).await;
    let mut params = call["params"].clone();
    params["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!(support::MODERN);
    params["_meta"]["io.modelcontextprotocol/clientCapabilities"] = json!({});
    let resp = support::modern_request(&stateless, 8, "tools/call", Some("poll"), &params)
        .send()
        .await
        .unwrap();
    let whole = Events::new(resp).rest().await;
    let last = whole.last().unwrap().message.clone().unwrap();
    assert_eq!(last["result"]["content"][0]["text"], "polled", "{whole:?}");
    assert!(
        whole.iter().all(|e| e.id.is_none()),
        "no resumption in 2026-07-28"
    );
}
