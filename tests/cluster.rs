//! Replicas as processes behind a real load balancer: three processes of
//! `examples/everything.rs` sharing one `redis-server` (writing every change to its
//! append-only file, as a production Redis would) and one request-state key ring, behind
//! nginx with plain round-robin (no affinity), each on a 127.0.0.1 port of the test's own.
//! nginx names the replica that answered in an `X-Replica` header and logs every request
//! with its replica, so a test can tell where each request landed.
//!
//! * the official TypeScript and Python SDK clients: one session spread over every
//!   replica, elicitations answered on another replica than the one running the tool, and
//!   list changes raised on one replica reaching the GET stream held by another;
//! * SIGTERM of the replica holding a session's GET stream and a call streaming progress:
//!   the call finishes, the stream resumes through nginx on another replica, and no event
//!   is lost or repeated;
//! * SIGKILL of a replica: other sessions carry on, the affected stream resumes from what
//!   the store holds, and the store keeps nothing of the dead replica;
//! * Redis killed and restarted under load: 503 with `Retry-After` while it is gone, and
//!   the same sessions work again once it is back;
//! * every replica restarted in turn (SIGTERM, then a new process) under 200 requests per
//!   second of mixed session traffic: no request fails.
//!
//! `scripts/install-test-tools.sh` installs nginx and Redis (Debian packages) and the
//! SDK clients when missing; the tests run it themselves.
// Helpers outside `#[test]` functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use support::{
    ChildGuard, Event, Events, Redis, SendGet as _, Session, e2e_script, example_binary, frames,
    free_port, in_session, init_body, install_tools, log_dir, node, post, python, read_log,
    repo_root, run_bounded,
};

const REPLICAS: usize = 3;

/// The request-state key ring every replica shares (`MCP_REQUEST_STATE_KEYS`).
const STATE_KEYS: &str = "6d63702d72756e74696d652d636c75737465722d746573742d6b65792d303031";

// ------------------------------------------------------------------ the cluster

/// Redis, the replicas and nginx; stopped when dropped.
struct Cluster {
    dir: PathBuf,
    binary: PathBuf,
    redis: Redis,
    ports: Vec<u16>,
    replicas: Vec<Option<ChildGuard>>,
    starts: usize,
    nginx: ChildGuard,
    port: u16,
}

impl Cluster {
    fn start(name: &str) -> Self {
        install_tools();
        let binary = example_binary("everything");
        let dir = log_dir("cluster").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let redis = Redis::start_persistent(&format!("cluster-{name}"));
        let ports: Vec<u16> = (0..REPLICAS).map(|_| free_port()).collect();
        let port = free_port();
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, nginx_conf(&dir, &ports, port)).unwrap();
        let mut nginx = ChildGuard::spawn_logged(
            Command::new(nginx_binary())
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(&conf),
            "nginx",
            dir.join("logs").join("stderr.log"),
        );
        nginx.wait_for_port(port, Duration::from_secs(10));
        let mut cluster = Self {
            dir,
            binary,
            redis,
            ports,
            replicas: (0..REPLICAS).map(|_| None).collect(),
            starts: 0,
            nginx,
            port,
        };
        for i in 0..REPLICAS {
            cluster.start_replica(i);
        }
        cluster
    }

    /// The MCP endpoint, through nginx.
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    /// Starts replica `i` (again) on its port.
    fn start_replica(&mut self, i: usize) {
        assert!(self.replicas[i].is_none(), "replica {i} runs already");
        self.starts += 1;
        let log = self.dir.join(format!("replica-{i}-{}.log", self.starts));
        let mut process = ChildGuard::spawn_logged(
            Command::new(&self.binary)
                .env("MCP_BIND", format!("127.0.0.1:{}", self.ports[i]))
                .env("MCP_REDIS_URL", self.redis.url())
                .env("MCP_REQUEST_STATE_KEYS", STATE_KEYS)
                .env("RUST_LOG", "info")
                .env("NO_COLOR", "1"),
            &format!("replica {i}"),
            log,
        );
        process.wait_for_port(self.ports[i], Duration::from_secs(20));
        self.replicas[i] = Some(process);
    }

    /// Sends SIGTERM to replica `i`: it starts draining.
    fn terminate(&self, i: usize) {
        let pid = self.replicas[i].as_ref().unwrap().child.id();
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM {pid}");
    }

    /// Waits until replica `i` exited; how it did.
    fn wait_stopped(&mut self, i: usize, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        let process = self.replicas[i].as_mut().unwrap();
        loop {
            if let Some(status) = process.exited() {
                self.replicas[i] = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "replica {i} still runs {within:?} after SIGTERM; log:\n{}",
                process.log_text()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills replica `i` with SIGKILL.
    fn kill(&mut self, i: usize) {
        let mut process = self.replicas[i].take().unwrap();
        process.child.kill().unwrap();
        process.child.wait().unwrap();
    }

    /// The replica that answered `resp`, as nginx names it.
    fn replica_of(&self, resp: &reqwest::Response) -> usize {
        let named = resp
            .headers()
            .get("x-replica")
            .expect("nginx names the replica that answered")
            .to_str()
            .unwrap();
        self.index_of(named)
            .unwrap_or_else(|| panic!("`{named}` is not a replica"))
    }

    /// The replica of an nginx `$upstream_addr` (the last one it tried).
    fn index_of(&self, upstream: &str) -> Option<usize> {
        let last = upstream.rsplit(", ").next()?;
        let port: u16 = last.rsplit(':').next()?.parse().ok()?;
        self.ports.iter().position(|&p| p == port)
    }

    /// Every request nginx logged, in the order they ended.
    fn requests(&self) -> Vec<Logged> {
        let log =
            std::fs::read_to_string(self.dir.join("logs").join("access.log")).unwrap_or_default();
        log.lines()
            .map(|line| {
                let entry: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("nginx logged `{line}`: {e}"));
                let text = |k: &str| entry[k].as_str().unwrap_or_default().to_owned();
                Logged {
                    replica: self.index_of(&text("upstream")),
                    status: text("status").parse().unwrap_or(0),
                    method: text("method"),
                    session: text("session"),
                    body: serde_json::from_str(&text("body")).unwrap_or(Value::Null),
                }
            })
            .collect()
    }

    /// Every replica's log, for a failure message.
    fn logs(&self) -> String {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| format!("--- {} ---\n{}", p.display(), read_log(p)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether every replica still runs (none exited on its own).
    fn all_running(&mut self) -> bool {
        self.replicas
            .iter_mut()
            .all(|r| r.as_mut().is_some_and(|p| p.exited().is_none()))
    }

    /// Whether every replica but `stopped` still runs.
    fn all_running_but(&mut self, stopped: usize) -> bool {
        self.replicas
            .iter_mut()
            .enumerate()
            .all(|(i, r)| i == stopped || r.as_mut().is_some_and(|p| p.exited().is_none()))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // nginx's worker outlives a killed master: ask the master to stop them both.
        let pid = self.nginx.child.id().to_string();
        let _ = Command::new("kill").args(["-QUIT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.nginx.exited().is_none() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One request in nginx's access log.
struct Logged {
    /// `None` when nginx answered itself.
    replica: Option<usize>,
    status: u16,
    method: String,
    /// Its `Mcp-Session-Id`, empty without one.
    session: String,
    /// Its JSON body, `Null` without one.
    body: Value,
}

impl Logged {
    fn calls(&self, tool: &str) -> bool {
        self.method == "POST" && self.body["params"]["name"] == tool
    }
}

fn nginx_binary() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

/// Round-robin over `ports` (no affinity), streaming both ways, naming the replica that
/// answered in `X-Replica` and logging each request's replica, session and body as JSON. A
/// replica that answers 503 (as one shutting down does) is left out for 10 s, and a `GET`
/// it refused goes to another.
fn nginx_conf(dir: &Path, ports: &[u16], port: u16) -> String {
    let dir = dir.display();
    let mut servers = String::new();
    for p in ports {
        let _ = writeln!(servers, "        server 127.0.0.1:{p};");
    }
    format!(
        r#"daemon off;
worker_processes 1;
error_log {dir}/logs/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    log_format replicas escape=json '{{"upstream":"$upstream_addr","status":"$status",'
        '"method":"$request_method","session":"$http_mcp_session_id","body":"$request_body"}}';
    access_log {dir}/logs/access.log replicas;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream replicas {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_next_upstream error timeout http_503;
            add_header X-Replica $upstream_addr always;
        }}
    }}
}}
"#
    )
}

/// Runs a blocking step of a test on the runtime's thread.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

// ------------------------------------------------------------------ requests

fn request(id: u64, method: &str, params: Value) -> Value {
    let mut request = json!({"jsonrpc": "2.0", "id": id, "method": method});
    request["params"] = params;
    request
}

fn tool(id: u64, name: &str, arguments: Value) -> Value {
    let mut params = json!({"name": name});
    params["arguments"] = arguments;
    request(id, "tools/call", params)
}

/// The JSON-RPC response in `resp`'s body, JSON or SSE.
async fn response_of(resp: reqwest::Response) -> Value {
    let sse = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let text = resp.text().await.unwrap();
    if sse {
        frames(&text)
            .into_iter()
            .find(|m| m.get("id").is_some())
            .unwrap_or_else(|| panic!("no response in {text}"))
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

/// Calls `name` in session `sid` through nginx: the replica that answered, and the result.
/// A 503 with `Retry-After` (a replica shutting down) is retried, as the answer says.
async fn call(cluster: &Cluster, sid: &str, name: &str, arguments: Value) -> (usize, Value) {
    let mut tries = 0;
    let resp = loop {
        let resp = in_session(&cluster.url(), sid)
            .json(&tool(7, name, arguments.clone()))
            .send()
            .await
            .unwrap();
        if resp.status() != StatusCode::SERVICE_UNAVAILABLE || tries == 5 {
            break resp;
        }
        assert_eq!(resp.headers()["retry-after"], "1");
        tries += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(resp.status(), StatusCode::OK, "{name}");
    let replica = cluster.replica_of(&resp);
    let answer = response_of(resp).await;
    assert!(answer.get("result").is_some(), "{name}: {answer}");
    (replica, answer["result"].clone())
}

/// Pings in session `sid` until the next request nginx passes on goes to `replica`.
async fn next_goes_to(cluster: &Cluster, sid: &str, replica: usize) {
    for _ in 0..REPLICAS * 2 {
        let resp = in_session(&cluster.url(), sid)
            .json(&request(3, "ping", json!({})))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        if (cluster.replica_of(&resp) + 1) % REPLICAS == replica {
            return;
        }
    }
    panic!("nginx does not take the replicas in turn");
}

/// Opens the GET stream of session `sid` through nginx, resuming after `last` if given.
async fn get_stream(cluster: &Cluster, sid: &str, last: Option<&str>) -> (usize, Events) {
    let mut req = in_session(&cluster.url(), sid);
    if let Some(last) = last {
        req = req.header("last-event-id", last);
    }
    let resp = req.send_get().await;
    assert_eq!(resp.status(), StatusCode::OK, "GET (after {last:?})");
    (cluster.replica_of(&resp), Events::new(resp))
}

fn is_change(event: &Event) -> bool {
    event
        .message
        .as_ref()
        .is_some_and(|m| m["method"] == "notifications/tools/list_changed")
}

/// Reads `events` until `n` list changes came; every event read, in order.
async fn changes(events: &mut Events, n: usize) -> Vec<Event> {
    let mut read = Vec::new();
    while read.iter().filter(|e| is_change(e)).count() < n {
        let event = events
            .next()
            .await
            .unwrap_or_else(|| panic!("the stream ended after {read:?}"));
        read.push(event);
    }
    read
}

async fn raise_changes(cluster: &Cluster, sid: &str, n: usize) -> Vec<usize> {
    let mut on = Vec::new();
    for _ in 0..n {
        on.push(
            call(cluster, sid, "test_trigger_tool_change", json!({}))
                .await
                .0,
        );
    }
    on
}

fn ids(events: &[Event]) -> Vec<String> {
    events.iter().filter_map(|e| e.id.clone()).collect()
}

fn assert_unique(ids: &[String]) {
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an event came twice: {ids:?}");
}

// ------------------------------------------------------------------ SDK clients

/// Runs an SDK client `script` against the cluster and checks, from what the client saw
/// and what nginx logged, that its session spread over the replicas.
fn an_sdk_session_spreads_over_the_replicas(name: &str, program: &Path, script: &str) {
    let cluster = Cluster::start(name);
    let script = e2e_script(script);
    let mut cmd = Command::new(program);
    cmd.arg(&script).arg(cluster.url()).current_dir(repo_root());
    let run = run_bounded(cmd, Duration::from_secs(90));
    assert!(
        run.status.success(),
        "{} failed ({}):\n{}\n{}",
        script.display(),
        run.status,
        run.stderr,
        cluster.logs()
    );
    let out = run.json_line(&script);
    assert_eq!(out["protocolVersion"], "2025-11-25", "{out}");
    assert_eq!(out["questions"], json!(["round 1", "round 2", "round 3"]));
    for (i, text) in out["elicitations"].as_array().unwrap().iter().enumerate() {
        let text = text.as_str().unwrap_or_default();
        assert!(
            text.contains(&format!("ada{}", i + 1)),
            "round {}: the tool got the answer: {text}",
            i + 1
        );
    }
    assert_eq!(
        out["seen"],
        json!([1, 1, 1]),
        "each change reached the GET stream once: {out}"
    );

    // The GET stream is logged once the client has closed it.
    let deadline = Instant::now() + Duration::from_secs(5);
    let logged = loop {
        let logged = cluster.requests();
        if logged.iter().any(|l| l.method == "GET") || Instant::now() > deadline {
            break logged;
        }
        thread::sleep(Duration::from_millis(50));
    };
    let session: Vec<&Logged> = logged.iter().filter(|l| !l.session.is_empty()).collect();
    assert!(
        session
            .iter()
            .all(|l| l.status < 400 || l.method == "DELETE"),
        "every request of the session succeeded: {:?}",
        session
            .iter()
            .map(|l| (&l.method, l.status))
            .collect::<Vec<_>>()
    );
    let served: BTreeSet<usize> = session.iter().filter_map(|l| l.replica).collect();
    assert_eq!(
        served.len(),
        REPLICAS,
        "the session's requests landed on every replica"
    );

    let on = |pick: &dyn Fn(&Logged) -> bool| -> Vec<usize> {
        session
            .iter()
            .filter(|l| pick(l))
            .filter_map(|l| l.replica)
            .collect()
    };
    let asked = on(&|l| l.calls("test_elicitation"));
    let answered = on(&|l| l.method == "POST" && l.body["result"]["action"] == "accept");
    assert_eq!((asked.len(), answered.len()), (3, 3), "three rounds");
    // A call is logged when it ends, after its answer: the i-th of each belong together.
    assert!(
        asked.iter().zip(&answered).any(|(a, b)| a != b),
        "an answer reached another replica than the one running its tool: tools on \
         {asked:?}, answers on {answered:?}"
    );
    let raised = on(&|l| l.calls("test_trigger_tool_change"));
    let streams: BTreeSet<usize> = on(&|l| l.method == "GET").into_iter().collect();
    assert_eq!(raised.len(), 3);
    assert!(!streams.is_empty(), "the client held a GET stream");
    assert!(
        raised.iter().any(|r| !streams.contains(r)),
        "a change raised on one replica reached a stream held by another: raised on \
         {raised:?}, streams on {streams:?}"
    );
}

#[test]
fn the_typescript_sdk_spreads_a_session_over_the_replicas() {
    an_sdk_session_spreads_over_the_replicas("ts-sdk", &node(), "ts_replicas_client.mjs");
}

#[test]
fn the_python_sdk_spreads_a_session_over_the_replicas() {
    an_sdk_session_spreads_over_the_replicas("py-sdk", &python(), "py_replicas_client.py");
}

// ------------------------------------------------------------------ SIGTERM, SIGKILL

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hands_a_stream_and_a_call_over_without_loss() {
    let mut cluster = blocking(|| Cluster::start("sigterm"));
    let sid = Session::open(&cluster.url()).await.id.unwrap();
    let (held, mut stream) = get_stream(&cluster, &sid, None).await;

    // A call streaming progress, on the replica that holds the GET stream.
    next_goes_to(&cluster, &sid, held).await;
    let resp = in_session(&cluster.url(), &sid)
        .json(
            &json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
            "name": "progress_ticks", "arguments": {"count": 30, "interval_ms": 100},
            "_meta": {"progressToken": "ticks"}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(cluster.replica_of(&resp), held);
    let mut ticks = Events::new(resp);
    let mut progress = Vec::new();
    while progress.len() < 5 {
        let event = ticks.next().await.expect("progress");
        if let Some(m) = event.message {
            progress.push(m["params"]["progress"].as_f64().unwrap());
        }
    }

    let mut seen = changes(&mut stream, 0).await;
    raise_changes(&cluster, &sid, 2).await;
    seen.extend(changes(&mut stream, 2).await);

    // SIGTERM: the GET stream ends with a `retry:` hint while the call goes on.
    cluster.terminate(held);
    let mut retry = false;
    while let Some(event) = stream.next().await {
        retry |= event.retry;
        seen.push(event);
    }
    assert!(retry, "the stream ended with a retry hint: {seen:?}");
    // Raised while the replica drains, on the others.
    let drained_on = raise_changes(&cluster, &sid, 2).await;
    assert!(
        !drained_on.contains(&held),
        "a draining replica answers no new request"
    );
    let last = ids(&seen).last().cloned().unwrap();
    let (resumed_on, mut resumed) = get_stream(&cluster, &sid, Some(&last)).await;
    assert_ne!(resumed_on, held);
    let mut after = changes(&mut resumed, 2).await;

    // The call's stream carries every step once, then its result.
    let mut result = None;
    while let Some(event) = ticks.next().await {
        let Some(m) = event.message else { continue };
        if m.get("id").is_some() {
            result = Some(m);
        } else {
            progress.push(m["params"]["progress"].as_f64().unwrap());
        }
    }
    let expected: Vec<f64> = (1..=30).map(f64::from).collect();
    assert_eq!(progress, expected, "each step once, in order");
    let result = result.expect("the call's result");
    assert_eq!(
        result["result"]["content"][0]["text"], "30 steps done.",
        "{result}"
    );

    let status = blocking(|| cluster.wait_stopped(held, Duration::from_secs(30)));
    assert!(status.success(), "drained and exited cleanly: {status}");
    // Once the replica is gone, the stream it held goes on elsewhere.
    tokio::time::sleep(Duration::from_millis(500)).await;
    raise_changes(&cluster, &sid, 2).await;
    after.extend(changes(&mut resumed, 2).await);

    let before: Vec<String> = ids(&seen);
    let mut all = before.clone();
    all.extend(ids(&after));
    assert_unique(&all);
    assert_eq!(seen.iter().filter(|e| is_change(e)).count(), 2);
    assert_eq!(
        after.iter().filter(|e| is_change(e)).count(),
        4,
        "nothing raised during the drain or after it was lost: {after:?}"
    );
    assert!(
        blocking(|| cluster.all_running_but(held)),
        "{}",
        cluster.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_leaves_the_other_sessions_and_the_store_sound() {
    let mut cluster = blocking(|| Cluster::start("sigkill"));
    let url = cluster.url();
    let a = Session::open(&url).await.id.unwrap();
    let b = Session::open(&url).await.id.unwrap();
    let (killed, mut stream) = get_stream(&cluster, &a, None).await;
    let mut stream_seen = changes(&mut stream, 0).await;
    raise_changes(&cluster, &b, 2).await;
    stream_seen.extend(changes(&mut stream, 2).await);
    let last = ids(&stream_seen).last().cloned().unwrap();
    // Two more reach the stream, and the store, but the client reads them only later.
    raise_changes(&cluster, &b, 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    blocking(|| cluster.kill(killed));
    drop(stream);
    // The other session carries on: nginx passes each request to a live replica.
    for _ in 0..2 * REPLICAS {
        let (on, result) = call(&cluster, &b, "test_simple_text", json!({})).await;
        assert_ne!(on, killed);
        assert_eq!(
            result["content"][0]["text"],
            "This is a simple text response for testing."
        );
    }

    // The stream resumes from the store: the two unread changes, then it goes on here.
    let (resumed_on, resumed) = get_stream(&cluster, &a, Some(&last)).await;
    assert_ne!(resumed_on, killed);
    let mut resumed = resumed.patience(Duration::from_secs(15));
    let mut after = changes(&mut resumed, 2).await;
    let old_stream = last.rsplit_once('-').map(|(s, _)| s.to_owned());
    loop {
        let event = resumed.next().await.expect("the stream goes on");
        let stream = event
            .id
            .as_deref()
            .and_then(|i| i.rsplit_once('-'))
            .map(|(s, _)| s.to_owned());
        let fresh = stream.is_some() && stream != old_stream;
        after.push(event);
        if fresh {
            break;
        }
    }
    raise_changes(&cluster, &b, 2).await;
    after.extend(changes(&mut resumed, 2).await);
    let mut all = ids(&stream_seen);
    all.extend(ids(&after));
    assert_unique(&all);
    assert_eq!(
        after.iter().filter(|e| is_change(e)).count(),
        4,
        "{after:?}"
    );

    // The store stays sound: both sessions end, and nothing is left of them, nor (once
    // its heartbeat lapsed) of the dead replica.
    for sid in [&a, &b] {
        let resp = in_session(&url, sid)
            .send_get_as(reqwest::Method::DELETE)
            .await;
        assert!(resp.status().is_success(), "DELETE: {}", resp.status());
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let keys = cluster.redis.keys();
    let beats = keys.iter().filter(|k| k.starts_with("mcp:r:")).count();
    let rest: Vec<&String> = keys
        .iter()
        .filter(|k| !k.starts_with("mcp:r:") && *k != "mcp:replica")
        .collect();
    assert_eq!(
        beats,
        REPLICAS - 1,
        "one heartbeat per live replica: {keys:?}"
    );
    assert!(rest.is_empty(), "nothing left of the sessions: {rest:?}");
}

// ------------------------------------------------------------------ load

/// What a load run saw.
#[derive(Default)]
struct Tally {
    requests: AtomicUsize,
    /// Requests answered 503 with `Retry-After`, then retried.
    retried: AtomicUsize,
    /// Streams resumed with `Last-Event-ID`.
    resumed: AtomicUsize,
    /// Changes the GET streams received.
    changes: AtomicUsize,
    failures: std::sync::Mutex<Vec<String>>,
}

impl Tally {
    fn fail(&self, what: String) {
        self.failures.lock().unwrap().push(what);
    }

    fn failures(&self) -> Vec<String> {
        self.failures.lock().unwrap().clone()
    }
}

/// How one exchange went.
enum Outcome {
    Answered(Value),
    /// 503 with `Retry-After`: the documented path, retried after a second.
    Unavailable,
    Failed(String),
}

/// Sends `body` (in session `sid`, if any) and reads the JSON-RPC response, or the 202 of
/// a notification (as `Null`).
async fn exchange(http: &reqwest::Client, url: &str, sid: Option<&str>, body: &Value) -> Outcome {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .json(body);
    if let Some(sid) = sid {
        req = req
            .header("mcp-session-id", sid)
            .header("mcp-protocol-version", "2025-11-25");
    }
    let resp = match req.send().await {
        Ok(resp) => resp,
        Err(e) => return Outcome::Failed(format!("{}: {e}", body["method"])),
    };
    match resp.status() {
        StatusCode::OK => {}
        StatusCode::ACCEPTED => return Outcome::Answered(Value::Null),
        StatusCode::SERVICE_UNAVAILABLE if resp.headers().contains_key("retry-after") => {
            return Outcome::Unavailable;
        }
        status => {
            let text = resp.text().await.unwrap_or_default();
            return Outcome::Failed(format!("{}: {status}: {text}", body["method"]));
        }
    }
    let session = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let sse = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let text = match resp.text().await {
        Ok(text) => text,
        Err(e) => return Outcome::Failed(format!("{}: body: {e}", body["method"])),
    };
    let answer = if sse {
        frames(&text).into_iter().find(|m| m.get("id").is_some())
    } else {
        serde_json::from_str::<Value>(&text).ok()
    };
    match answer {
        Some(mut answer) if answer.get("result").is_some() => {
            if let Some(session) = session {
                answer["session"] = session.into();
            }
            Outcome::Answered(answer)
        }
        _ => Outcome::Failed(format!("{}: {text}", body["method"])),
    }
}

/// [`exchange`], retried after a second while the answer is 503 with `Retry-After`.
async fn send(
    tally: &Tally,
    http: &reqwest::Client,
    url: &str,
    sid: Option<&str>,
    body: &Value,
) -> Option<Value> {
    for _ in 0..10 {
        tally.requests.fetch_add(1, Ordering::Relaxed);
        match exchange(http, url, sid, body).await {
            Outcome::Answered(answer) => return Some(answer),
            Outcome::Unavailable => {
                tally.retried.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Outcome::Failed(what) => {
                tally.fail(what);
                return None;
            }
        }
    }
    tally.fail(format!("{}: still 503 after 10 tries", body["method"]));
    None
}

/// A whole session: `initialize`, `notifications/initialized`, a call, `DELETE`.
async fn whole_session(tally: &Tally, http: &reqwest::Client, url: &str) {
    let Some(init) = send(tally, http, url, None, &init_body(1, json!({}))).await else {
        return;
    };
    let sid = init["session"].as_str().unwrap().to_owned();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    if send(tally, http, url, Some(&sid), &initialized)
        .await
        .is_none()
    {
        return;
    }
    let call = tool(2, "test_simple_text", json!({}));
    if send(tally, http, url, Some(&sid), &call).await.is_none() {
        return;
    }
    tally.requests.fetch_add(1, Ordering::Relaxed);
    let resp = http
        .delete(url)
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await;
    match resp {
        Ok(resp) if resp.status().is_success() => {}
        Ok(resp) => tally.fail(format!("DELETE: {}", resp.status())),
        Err(e) => tally.fail(format!("DELETE: {e}")),
    }
}

/// One step of mixed session traffic in session `sid`, by its number `n`.
async fn step(tally: &Tally, http: &reqwest::Client, url: &str, sid: &str, n: usize) {
    let body = match n % 20 {
        0..=7 => tool(n as u64, "test_simple_text", json!({})),
        8..=10 => request(n as u64, "ping", json!({})),
        11..=13 => request(
            n as u64,
            "resources/read",
            json!({"uri": "test://static-text"}),
        ),
        14..=15 => json!({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {
            "name": "test_tool_with_progress", "arguments": {},
            "_meta": {"progressToken": n}}}),
        16..=17 => request(n as u64, "tools/list", json!({})),
        18 => tool(n as u64, "test_trigger_tool_change", json!({})),
        _ => return whole_session(tally, http, url).await,
    };
    send(tally, http, url, Some(sid), &body).await;
}

/// Holds session `sid`'s GET stream until `done`, resuming it with `Last-Event-ID`
/// whenever it ends or its connection is cut; an event seen twice is a failure.
async fn hold_stream(tally: &Tally, url: &str, sid: &str, done: &CancellationToken) {
    let mut last: Option<String> = None;
    let mut seen = HashSet::new();
    while !done.is_cancelled() {
        let mut req = in_session(url, sid);
        if let Some(last) = &last {
            req = req.header("last-event-id", last);
            tally.resumed.fetch_add(1, Ordering::Relaxed);
        }
        tally.requests.fetch_add(1, Ordering::Relaxed);
        let resp = tokio::select! {
            resp = req.send_get() => resp,
            () = done.cancelled() => return,
        };
        match resp.status() {
            StatusCode::OK => {}
            StatusCode::SERVICE_UNAVAILABLE if resp.headers().contains_key("retry-after") => {
                tally.retried.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            status => {
                tally.fail(format!("GET after {last:?}: {status}"));
                return;
            }
        }
        let mut events = Events::new(resp).patience(Duration::from_mins(2));
        loop {
            let event = tokio::select! {
                event = events.try_next() => event,
                () = done.cancelled() => return,
            };
            let Ok(Some(event)) = event else { break };
            if let Some(id) = &event.id {
                if !seen.insert(id.clone()) {
                    tally.fail(format!("event {id} came twice"));
                }
                last = Some(id.clone());
            }
            if is_change(&event) {
                tally.changes.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Sessions of a load run that hold a GET stream.
const STREAMS: usize = 4;

/// Mixed session traffic through `url` at about `rate` requests per second over
/// `sessions` sessions ([`STREAMS`] of them holding a GET stream) until `done`.
async fn load(url: String, rate: u32, sessions: usize, done: CancellationToken) -> Arc<Tally> {
    let tally = Arc::new(Tally::default());
    let http = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    for s in 0..sessions {
        let sid = Session::open(&url).await.id.unwrap();
        if s < STREAMS {
            let (tally, url, sid, done) =
                (Arc::clone(&tally), url.clone(), sid.clone(), done.clone());
            tasks.spawn(async move { hold_stream(&tally, &url, &sid, &done).await });
        }
        let (tally, http, url, done) =
            (Arc::clone(&tally), http.clone(), url.clone(), done.clone());
        let every = Duration::from_secs(1) * u32::try_from(sessions).unwrap() / rate;
        tasks.spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut n = s;
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = done.cancelled() => return,
                }
                step(&tally, &http, &url, &sid, n).await;
                n += 1;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    tally
}

#[test]
fn a_rolling_restart_under_load_fails_no_request() {
    let mut cluster = Cluster::start("rolling");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let done = CancellationToken::new();
    let started = Instant::now();
    let load = runtime.spawn(load(cluster.url(), 200, 16, done.clone()));
    thread::sleep(Duration::from_secs(5));
    for i in 0..REPLICAS {
        cluster.terminate(i);
        let status = cluster.wait_stopped(i, Duration::from_secs(30));
        assert!(
            status.success(),
            "replica {i} drained and exited cleanly: {status}"
        );
        cluster.start_replica(i);
        thread::sleep(Duration::from_secs(8));
    }
    thread::sleep(Duration::from_mins(1).saturating_sub(started.elapsed()));
    done.cancel();
    let tally = runtime.block_on(load).unwrap();
    let failures = tally.failures();
    let requests = tally.requests.load(Ordering::Relaxed);
    eprintln!(
        "rolling restart: {requests} requests in {:?}, {} retried after 503, {} streams \
         resumed, {} changes received",
        started.elapsed(),
        tally.retried.load(Ordering::Relaxed),
        tally.resumed.load(Ordering::Relaxed),
        tally.changes.load(Ordering::Relaxed)
    );
    assert!(
        failures.is_empty(),
        "{} of {requests} requests failed, the first: {:?}\n{}",
        failures.len(),
        &failures[..failures.len().min(10)],
        cluster.logs()
    );
    assert!(
        requests > 9_000,
        "the load kept its pace: {requests} requests in a minute"
    );
    // Every replica restarted, so every stream ended at least once, and resumed.
    assert!(
        tally.resumed.load(Ordering::Relaxed) >= STREAMS,
        "each GET stream resumed after its replica stopped"
    );
    assert!(tally.changes.load(Ordering::Relaxed) > 0);
}

#[test]
fn while_redis_is_gone_requests_get_503_and_the_replicas_recover() {
    let mut cluster = Cluster::start("redis-restart");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = cluster.url();
    let sessions: Vec<String> = runtime.block_on(async {
        let mut sessions = Vec::new();
        for _ in 0..4 {
            sessions.push(Session::open(&url).await.id.unwrap());
        }
        sessions
    });
    let done = CancellationToken::new();
    // Each session calls a tool every 50 ms; every answer is kept with when it came.
    let mut tasks = Vec::new();
    for sid in sessions {
        let (url, done) = (url.clone(), done.clone());
        tasks.push(runtime.spawn(async move {
            let http = reqwest::Client::new();
            let mut answers = Vec::new();
            while !done.is_cancelled() {
                let started = Instant::now();
                let resp = post(&url)
                    .header("mcp-session-id", &sid)
                    .header("mcp-protocol-version", "2025-11-25")
                    .json(&tool(5, "test_simple_text", json!({})))
                    .send();
                let resp = tokio::time::timeout(Duration::from_secs(10), resp).await;
                let answer = match resp {
                    Ok(Ok(resp)) => {
                        let status = resp.status();
                        let retry_after = resp.headers().get("retry-after").cloned();
                        let body = resp.text().await.unwrap_or_default();
                        Ok((status, retry_after, body))
                    }
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("no answer within 10 s".to_owned()),
                };
                answers.push((started, started.elapsed(), answer));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            drop(http);
            answers
        }));
    }
    thread::sleep(Duration::from_secs(2));
    let gone = Instant::now();
    cluster.redis.kill();
    thread::sleep(Duration::from_secs(4));
    cluster.redis.restart();
    let back = Instant::now();
    thread::sleep(Duration::from_secs(6));
    done.cancel();
    let answers: Vec<_> = tasks
        .into_iter()
        .map(|t| runtime.block_on(t).unwrap())
        .collect();

    let mut refused = 0;
    for answers in &answers {
        let mut recovered = None;
        for (at, took, answer) in answers {
            let (status, retry_after, body) = answer
                .as_ref()
                .unwrap_or_else(|e| panic!("every request is answered: {e}"));
            assert!(
                *took < Duration::from_secs(5),
                "answered within 5 s, not after a hang: {took:?}"
            );
            match *status {
                StatusCode::OK => {
                    if *at > back && recovered.is_none() {
                        recovered = Some(at.duration_since(back));
                    }
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    refused += 1;
                    assert!(*at + *took > gone, "refused only once Redis was gone");
                    assert_eq!(
                        retry_after.as_ref().map(|v| v.to_str().unwrap()),
                        Some("1"),
                        "503 says when to retry"
                    );
                    let body: Value = serde_json::from_str(body).unwrap();
                    assert_eq!(body["error"]["data"]["limit"], "session_store", "{body}");
                    assert!(body["id"] == 5, "the error answers the request: {body}");
                }
                other => panic!("only 200 or 503, not {other}: {body}"),
            }
        }
        let recovered = recovered.expect("the session works again once Redis is back");
        assert!(
            recovered < Duration::from_secs(5),
            "recovered {recovered:?} after Redis came back"
        );
    }
    assert!(refused > 0, "requests were refused while Redis was gone");
    assert!(
        cluster.all_running(),
        "no replica exited\n{}",
        cluster.logs()
    );
}
