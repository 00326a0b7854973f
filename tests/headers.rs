//! Tool arguments mirrored into `Mcp-Param-*` headers (2026-07-28, SEP-2243): the schema a
//! client sees, the official Python SDK sending them, and each way a request's headers can
//! disagree with its body, refused with 400 and -32020 before the tool runs.

// A failed `unwrap` in a helper is a failed test, as in the tests themselves; clippy's
// `allow-unwrap-in-tests` only reaches `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_runtime::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{
    ChildGuard, LEGACY, e2e_script, example_binary, free_port, install_tools, json_of, log_dir,
    modern_meta, open_session, post, python, spawn,
};

/// How many calls of `place` ran with the note `refused`.
static REFUSED_RAN: AtomicUsize = AtomicUsize::new(0);

struct Router;

#[mcp_server(name = "router")]
impl Router {
    /// Places an order in a region.
    #[tool]
    fn place(
        &self,
        #[arg(header = "Region")] region: String,
        #[arg(header = "Priority")] priority: Option<u32>,
        #[arg(header = "Express")] express: Option<bool>,
        note: Option<String>,
    ) -> String {
        if note.as_deref() == Some("refused") {
            REFUSED_RAN.fetch_add(1, Ordering::SeqCst);
        }
        format!(
            "{region} {} {} {}",
            priority.unwrap_or_default(),
            express.unwrap_or_default(),
            note.unwrap_or_default()
        )
    }

    /// Mirrors nothing.
    #[tool]
    fn plain(&self, region: String) -> String {
        region
    }
}

/// A 2026-07-28 `tools/call` of `place` with `arguments` and the extra `headers`.
fn call(url: &str, arguments: &Value, headers: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let mut req = post(url)
        .header("mcp-protocol-version", support::MODERN)
        .header("mcp-method", "tools/call")
        .header("mcp-name", "place");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.json(
        &json!({"jsonrpc": "2.0", "id": 41, "method": "tools/call", "params": {
        "name": "place", "arguments": arguments, "_meta": modern_meta()}}),
    )
}

#[tokio::test]
async fn the_schema_names_each_header_with_one_type() {
    let url = spawn(Router.router(HttpConfig::new())).await;
    let body = json_of(
        support::modern(&url, "tools/list", None, json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let place = &body["result"]["tools"][0];
    assert_eq!(place["name"], "place");
    let props = &place["inputSchema"]["properties"];
    assert_eq!(
        props["region"],
        json!({"type": "string", "x-mcp-header": "Region"})
    );
    // An optional argument is not required, and its type is still one type (a client drops
    // a mirrored property whose `type` is a list).
    assert_eq!(
        props["priority"],
        json!({"type": "integer", "minimum": 0, "maximum": 4_294_967_295_u64, "x-mcp-header": "Priority"})
    );
    assert_eq!(
        props["express"],
        json!({"type": "boolean", "x-mcp-header": "Express"})
    );
    assert!(props["note"].get("x-mcp-header").is_none(), "{props}");
    assert_eq!(place["inputSchema"]["required"], json!(["region"]));
    assert!(
        body["result"]["tools"][1]["inputSchema"]["properties"]["region"]
            .get("x-mcp-header")
            .is_none()
    );
}

#[tokio::test]
async fn headers_that_mirror_the_body_are_accepted() {
    let url = spawn(Router.router(HttpConfig::new())).await;
    let accepted = [
        (
            json!({"region": "eu-west"}),
            vec![("mcp-param-region", "eu-west")],
        ),
        // Any case of the name; base64 for what is no plain ASCII; numbers as numbers.
        (
            json!({"region": "Zürich", "priority": 7, "express": true, "note": "n"}),
            vec![
                ("MCP-PARAM-REGION", "=?base64?WsO8cmljaA==?="),
                ("mcp-param-priority", "07"),
                ("Mcp-Param-Express", "true"),
            ],
        ),
        // `null` expects no header.
        (
            json!({"region": "us", "priority": null}),
            vec![("mcp-param-region", "us")],
        ),
        // What only looks like base64 is the value itself.
        (
            json!({"region": "=?base64?SGVsbG8="}),
            vec![("mcp-param-region", "=?base64?SGVsbG8=")],
        ),
    ];
    for (arguments, headers) in accepted {
        let resp = call(&url, &arguments, &headers).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{arguments} {headers:?}");
        let body = json_of(resp).await;
        assert!(body["result"]["isError"].is_null(), "{body}");
        assert!(body["result"]["content"][0]["text"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn headers_that_disagree_with_the_body_are_refused_before_the_tool_runs() {
    let url = spawn(Router.router(HttpConfig::new())).await;
    let refused = [
        (
            json!({"region": "eu"}),
            vec![],
            "missing `Mcp-Param-Region` header for the `region` argument",
        ),
        (
            json!({"region": "eu"}),
            vec![("mcp-param-region", "us")],
            "`Mcp-Param-Region` header does not match the `region` argument",
        ),
        (
            json!({"region": "Hello"}),
            vec![("mcp-param-region", "=?base64?SGVsbG8?=")],
            "`Mcp-Param-Region` header has invalid characters",
        ),
        (
            json!({"region": "Hello"}),
            vec![("mcp-param-region", "=?base64?SGVs!!!bG8=?=")],
            "`Mcp-Param-Region` header has invalid characters",
        ),
        (
            json!({"region": "eu", "express": false}),
            vec![("mcp-param-region", "eu"), ("mcp-param-express", "0")],
            "`Mcp-Param-Express` header does not match the `express` argument",
        ),
        (
            json!({"region": "eu", "priority": 2}),
            vec![("mcp-param-region", "eu"), ("mcp-param-priority", "2.0")],
            "`Mcp-Param-Priority` header does not match the `priority` argument",
        ),
        (
            json!({"region": "eu"}),
            vec![("mcp-param-region", "eu"), ("mcp-param-priority", "2")],
            "`Mcp-Param-Priority` header is sent but the `priority` argument is not",
        ),
        (
            json!({"region": "eu"}),
            vec![("mcp-param-region", "eu"), ("mcp-param-region", "eu")],
            "`Mcp-Param-Region` header is sent twice",
        ),
    ];
    for (mut arguments, headers, message) in refused {
        arguments["note"] = "refused".into();
        let resp = call(&url, &arguments, &headers).send().await.unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::BAD_REQUEST,
            "{arguments} {headers:?}"
        );
        let body = json_of(resp).await;
        assert_eq!(body["id"], 41, "{body}");
        assert_eq!(body["error"]["code"], -32020, "{body}");
        assert_eq!(body["error"]["message"], message, "{body}");
    }
    assert_eq!(
        REFUSED_RAN.load(Ordering::SeqCst),
        0,
        "a refused call ran the tool"
    );
    // A header no tool declares is ignored, as intermediaries do.
    let resp = call(
        &url,
        &json!({"region": "eu"}),
        &[("mcp-param-region", "eu"), ("mcp-param-other", "x")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_session_of_2025_11_25_sends_no_mirrored_headers() {
    let url = spawn(Router.router(HttpConfig::new())).await;
    let sid = open_session(&url).await;
    let resp = support::in_session(&url, &sid)
        .header("mcp-protocol-version", LEGACY)
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "place", "arguments": {"region": "eu"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(text.contains("\"eu 0 false \""), "{text}");
}

#[tokio::test]
async fn browsers_may_send_the_declared_headers() {
    let url = spawn(Router.router(HttpConfig::new())).await;
    let origin = url.trim_end_matches("/mcp").to_owned();
    let resp = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", &origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, mcp-method, mcp-name, mcp-param-region, mcp-param-priority",
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{resp:?}");
    let allowed = resp.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    for name in [
        "mcp-param-region",
        "mcp-param-priority",
        "mcp-param-express",
    ] {
        assert!(allowed.contains(name), "{name} not in {allowed}");
    }
}

#[test]
fn the_python_sdk_mirrors_the_arguments_the_fixture_declares() {
    install_tools();
    let port = free_port();
    let log = log_dir("headers-logs").join("python-server.log");
    let mut server = ChildGuard::spawn_logged(
        Command::new(example_binary("everything"))
            .env("MCP_BIND", format!("127.0.0.1:{port}"))
            .env("NO_COLOR", "1"),
        "the everything example",
        log,
    );
    server.wait_for_port(port, Duration::from_secs(30));
    let script = e2e_script("py_headers_client.py");
    let mut cmd = Command::new(python());
    cmd.arg(&script)
        .arg(format!("http://127.0.0.1:{port}/mcp"))
        .current_dir(support::repo_root());
    let run = support::run_bounded(cmd, Duration::from_secs(90));
    assert!(
        run.status.success(),
        "{}\n{}\n--- server log ---\n{}",
        run.stderr,
        run.stdout,
        server.log_text()
    );
    let out = run.json_line(&script);
    let report = serde_json::to_string_pretty(&out).unwrap();
    // The SDK drops a tool whose annotations it finds invalid; it kept this one.
    assert!(
        out["tools"]
            .as_array()
            .unwrap()
            .contains(&json!("test_custom_headers")),
        "{report}"
    );
    assert_eq!(
        out["plain"]["text"][0], "region=eu-west priority=- verbose=-",
        "{report}"
    );
    assert_eq!(
        out["encoded"]["text"][0], "region= Zürich  priority=3 verbose=true",
        "{report}"
    );
    assert_eq!(
        out["sent"][0],
        json!({"mcp-param-region": "eu-west"}),
        "{report}"
    );
    assert_eq!(
        out["sent"][1],
        json!({
            "mcp-param-region": "=?base64?IFrDvHJpY2gg?=",
            "mcp-param-priority": "3",
            "mcp-param-verbose": "true"
        }),
        "{report}"
    );
}
