//! End-to-end tests against the official MCP SDK clients.
//!
//! Each test starts the `quickstart` example on a free loopback port and drives it
//! with a real client over Streamable HTTP:
//!
//! * the TypeScript SDK (`tests/e2e/ts_client.mjs`, `@modelcontextprotocol/sdk`
//!   pinned in `tests/e2e/package-lock.json`), which speaks 2025-11-25 with
//!   `initialize` and an `Mcp-Session-Id` session;
//! * the Python SDK (`tests/e2e/py_client.py`, `mcp` pinned in
//!   `tests/e2e/requirements.txt`), once in its default `auto` mode (which must end
//!   up on 2026-07-28 through `server/discover`) and once in `legacy` mode
//!   (`initialize` handshake).
//!
//! The clients are installed into `<repo>/.tools/` by `scripts/install-test-tools.sh`,
//! which these tests run themselves (it is a no-op when the pins are already
//! installed). A missing tool fails the tests; they never skip.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use support::{ChildGuard, e2e_script, example_binary, free_port, install_tools, log_dir, python};

/// How long the server may take to accept connections after it was spawned.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one client run may take (the Python SDK alone needs ~1 s to import).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(90);

/// The running quickstart example; killed on drop.
struct Server {
    process: ChildGuard,
    url: String,
}

impl Server {
    fn start(test_name: &str) -> Self {
        Self::start_example(test_name, "quickstart")
    }

    fn start_example(test_name: &str, example: &str) -> Self {
        let binary = example_binary(example);
        let port = free_port();
        let log = log_dir("real-clients-logs").join(format!("{test_name}-server.log"));
        let mut process = ChildGuard::spawn_logged(
            Command::new(binary)
                .env("MCP_BIND", format!("127.0.0.1:{port}"))
                .env("NO_COLOR", "1"),
            "the example server",
            log,
        );
        process.wait_for_port(port, SERVER_START_TIMEOUT);
        Server {
            process,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }

    fn log_text(&self) -> String {
        self.process.log_text()
    }
}

/// Runs a client against `server` and parses its single JSON line.
fn run_client(server: &Server, program: &Path, script: &str, extra_args: &[&str]) -> Value {
    let script = e2e_script(script);
    let mut cmd = Command::new(program);
    cmd.arg(&script)
        .arg(&server.url)
        .args(extra_args)
        .current_dir(support::repo_root());
    let run = support::run_bounded(cmd, CLIENT_TIMEOUT);
    assert!(
        run.status.success(),
        "{} failed ({}) against {}\n--- client stderr ---\n{}\n--- client stdout ---\n{}\n--- server log ---\n{}",
        script.display(),
        run.status,
        server.url,
        run.stderr,
        run.stdout,
        server.log_text()
    );
    run.json_line(&script)
}

/// The assertions every client shares: tool listing, `add`, `divide` by zero.
fn assert_common(out: &Value) {
    let report = serde_json::to_string_pretty(out).unwrap_or_default();
    let tools: Vec<&str> = out["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools array in client output:\n{report}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in ["add", "echo", "divide"] {
        assert!(
            tools.contains(&name),
            "tools/list lacks `{name}`: {tools:?}\n{report}"
        );
    }
    assert_eq!(
        out["addStructured"],
        json!({"sum": 42}),
        "add(2, 40) structuredContent\n{report}"
    );
    assert_eq!(
        out["addIsError"],
        json!(false),
        "add(2, 40) isError\n{report}"
    );
    assert_eq!(
        out["divideByZeroIsError"],
        json!(true),
        "divide(1, 0) isError\n{report}"
    );
    let schema = &out["outputSchemaOfAdd"];
    assert_eq!(
        schema["type"],
        json!("object"),
        "outputSchema of add\n{report}"
    );
    assert!(
        schema["properties"].get("sum").is_some(),
        "outputSchema of add has no `sum` property\n{report}"
    );
}

/// The quickstart example's `serverInfo.name`.
const SERVER_NAME: &str = "quickstart";

/// The `http` log of the Python client as (method, status, JSON-RPC method) triples.
fn http_exchanges(out: &Value) -> Vec<(String, u64, String)> {
    out["http"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    (
                        e["method"].as_str().unwrap_or_default().to_owned(),
                        e["status"].as_u64().unwrap_or_default(),
                        e["rpcMethod"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn typescript_sdk_client_initialize_session() {
    install_tools();
    let server = Server::start("typescript_sdk_client_initialize_session");
    let node = support::node();
    let out = run_client(&server, &node, "ts_client.mjs", &[]);
    let report = serde_json::to_string_pretty(&out).unwrap_or_default();
    assert_common(&out);
    // @modelcontextprotocol/sdk 1.32.2 offers LATEST_PROTOCOL_VERSION = 2025-11-25 in
    // `initialize` and only accepts versions from SUPPORTED_PROTOCOL_VERSIONS.
    assert_eq!(out["protocolVersion"], json!("2025-11-25"), "{report}");
    assert_eq!(
        out["serverName"],
        json!(SERVER_NAME),
        "initialize serverInfo\n{report}"
    );
    assert!(
        out["sessionId"].as_str().is_some_and(|s| !s.is_empty()),
        "no Mcp-Session-Id after initialize\n{report}"
    );
    // terminateSession() throws on anything but 2xx/405; success clears the id.
    assert_eq!(
        out["sessionTerminated"],
        json!(true),
        "DELETE of the session\n{report}"
    );
    assert_eq!(
        out["transportErrors"],
        json!([]),
        "transport errors\n{report}"
    );
}

#[test]
fn python_sdk_client_auto_negotiates_2026_07_28() {
    install_tools();
    let server = Server::start("python_sdk_client_auto_negotiates_2026_07_28");
    let out = run_client(&server, &python(), "py_client.py", &["auto"]);
    let report = serde_json::to_string_pretty(&out).unwrap_or_default();
    // mcp 2.3.0 `Client(mode="auto")` probes server/discover at 2026-07-28 and silently
    // falls back to `initialize` on any JSON-RPC error or HTTP 4xx (mcp/client/_probe.py),
    // so the negotiated version is what tells whether discover worked.
    assert_eq!(out["protocolVersion"], json!("2026-07-28"), "{report}");
    assert_eq!(out["negotiatedBy"], json!("server/discover"), "{report}");
    // At 2026-07-28 the SDK reads serverInfo from the optional `_meta` stamp of the
    // discover result (ClientSession.server_info): absent is allowed, wrong is not.
    assert!(
        out["serverName"].is_null() || out["serverName"] == json!(SERVER_NAME),
        "discover serverInfo stamp\n{report}"
    );
    assert_common(&out);
    let exchanges = http_exchanges(&out);
    assert_eq!(
        exchanges
            .first()
            .map(|(m, s, r)| (m.as_str(), *s, r.as_str())),
        Some(("POST", 200, "server/discover")),
        "first exchange\n{report}"
    );
    // 2026-07-28 is stateless: no session id, so no GET stream and no DELETE either.
    for entry in out["http"].as_array().into_iter().flatten() {
        assert_eq!(
            entry["gotSessionId"],
            json!(false),
            "session id in a 2026-07-28 response\n{report}"
        );
        assert_eq!(
            entry["method"],
            json!("POST"),
            "non-POST request at 2026-07-28\n{report}"
        );
    }
}

#[test]
fn python_sdk_client_legacy_initialize_session() {
    install_tools();
    let server = Server::start("python_sdk_client_legacy_initialize_session");
    let out = run_client(&server, &python(), "py_client.py", &["legacy"]);
    let report = serde_json::to_string_pretty(&out).unwrap_or_default();
    // mode="legacy" sends `initialize` offering LATEST_HANDSHAKE_VERSION (2025-11-25).
    assert_eq!(out["protocolVersion"], json!("2025-11-25"), "{report}");
    assert_eq!(out["negotiatedBy"], json!("initialize"), "{report}");
    assert_eq!(
        out["serverName"],
        json!(SERVER_NAME),
        "initialize serverInfo\n{report}"
    );
    assert_common(&out);
    let exchanges = http_exchanges(&out);
    assert_eq!(
        exchanges.first().map(|(m, _, r)| (m.as_str(), r.as_str())),
        Some(("POST", "initialize")),
        "first exchange\n{report}"
    );
    // The transport only sends DELETE when the server handed out an Mcp-Session-Id;
    // it logs (and ignores) a non-2xx answer, so check the status here.
    let delete = exchanges.iter().find(|(m, _, _)| m == "DELETE");
    assert!(
        delete.is_some_and(|(_, status, _)| matches!(status, 200 | 202 | 204)),
        "session DELETE missing or failed: {delete:?}\n{report}"
    );
}

/// What a client resuming `test_reconnection` reports: the result, after one `GET` from the
/// priming event.
fn assert_resumed_once(out: &Value) {
    let report = serde_json::to_string_pretty(out).unwrap_or_default();
    assert_eq!(out["protocolVersion"], json!("2025-11-25"), "{report}");
    assert!(
        out["reconnectionText"]
            .as_str()
            .is_some_and(|t| t.contains("Reconnection test completed")),
        "{report}"
    );
    let resumes = out["resumes"]
        .as_array()
        .unwrap_or_else(|| panic!("no resumes array\n{report}"));
    assert_eq!(resumes.len(), 1, "one resume\n{report}");
    assert!(
        resumes[0].as_str().is_some_and(|id| id.ends_with("-0")),
        "from the priming event\n{report}"
    );
}

/// The TypeScript SDK resumes a call whose connection the server closed mid-call (SSE
/// polling): after the stream's `retry:` delay it sends `GET` with the priming event's id
/// and gets the result; progress of another call arrives in order.
#[test]
fn typescript_sdk_client_resumes_a_closed_call_stream() {
    install_tools();
    let server = Server::start_example("typescript_sdk_client_resumes", "everything");
    let out = run_client(&server, &support::node(), "ts_resume_client.mjs", &[]);
    let report = serde_json::to_string_pretty(&out).unwrap_or_default();
    assert_resumed_once(&out);
    assert!(
        out["reconnectionMs"].as_u64().is_some_and(|ms| ms >= 900),
        "the client waited for the retry delay\n{report}"
    );
    assert_eq!(out["progress"], json!([0, 50, 100]), "{report}");
    assert_eq!(out["progressText"], json!("Progress complete."), "{report}");
    assert_eq!(out["transportErrors"], json!([]), "{report}");
}

/// The Python SDK resumes the same closed call stream.
#[test]
fn python_sdk_client_resumes_a_closed_call_stream() {
    install_tools();
    let server = Server::start_example("python_sdk_client_resumes", "everything");
    let out = run_client(&server, &python(), "py_resume_client.py", &[]);
    assert_resumed_once(&out);
}
