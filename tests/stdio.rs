//! stdio: the quickstart example as a subprocess, one JSON-RPC message per line.

// A failed `unwrap` in a helper is a failed test, as in the tests themselves; clippy's
// `allow-unwrap-in-tests` only reaches `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value, json};

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    start_example("quickstart", &[])
}

fn start_example(name: &str, env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(support::example_binary(name))
        .env("MCP_STDIO", "1")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("the {name} example starts: {e}"));
    let stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    Server {
        child,
        stdin,
        stdout,
    }
}

impl Server {
    fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn recv(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(line.ends_with('\n'), "one message per line: {line:?}");
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout carries only JSON-RPC ({e}): {line}"))
    }

    fn request(&mut self, message: &Value) -> Value {
        self.send(&message.to_string());
        self.recv()
    }
}

#[test]
fn a_client_initializes_lists_and_calls_over_stdio() {
    let mut server = start();
    let init = server.request(
        &json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
    );
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(init["result"]["serverInfo"]["name"], "quickstart");
    server.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);

    let list = server.request(&json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}));
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"add") && names.contains(&"convert_temperature"),
        "{names:?}"
    );

    let sum = server.request(&json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"a":20,"b":22}}}));
    assert_eq!(sum["id"], 3);
    assert_eq!(sum["result"]["structuredContent"], json!({"sum": 42}));

    let primes = server.request(&json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"primes","arguments":{"limit":10}}}));
    assert_eq!(
        primes["result"]["structuredContent"],
        json!({"result": [2, 3, 5, 7]})
    );
}

#[test]
fn bad_lines_get_errors_and_the_server_goes_on() {
    let mut server = start();
    server.send("{\"jsonrpc\":\"2.0\",\"id\":1");
    let e = server.recv();
    assert_eq!(
        (e["id"].clone(), e["error"]["code"].clone()),
        (Value::Null, json!(-32700))
    );
    let e = server.request(&json!({"jsonrpc":"2.0","id":2,"method":"nope"}));
    assert_eq!(
        (e["id"].clone(), e["error"]["code"].clone()),
        (json!(2), json!(-32601))
    );
    let e = server.request(&json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"a":"x"}}}));
    assert_eq!(e["error"]["code"], -32602);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("`a`"),
        "{e}"
    );
    let ok = server.request(&json!({"jsonrpc":"2.0","id":4,"method":"ping"}));
    assert_eq!(ok["result"], json!({}));
}

#[test]
fn a_2026_request_is_answered_statelessly_over_stdio() {
    let mut server = start();
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let discover = server.request(
        &json!({"jsonrpc":"2.0","id":"d","method":"server/discover","params":{"_meta": meta}}),
    );
    assert_eq!(
        discover["result"]["supportedVersions"],
        json!(["2026-07-28"])
    );
    assert_eq!(discover["result"]["resultType"], "complete");
    let call = server.request(
        &json!({"jsonrpc":"2.0","id":"c","method":"tools/call","params":{
        "name":"echo","arguments":{"text":"hi"},"_meta": meta}}),
    );
    assert_eq!(call["result"]["content"][0]["text"], "hi");
    assert_eq!(call["result"]["resultType"], "complete");
    let bad = server.request(&json!({"jsonrpc":"2.0","id":"v","method":"server/discover","params":{"_meta":{
        "io.modelcontextprotocol/protocolVersion": "v9", "io.modelcontextprotocol/clientCapabilities": {}}}}));
    assert_eq!(bad["error"]["code"], -32022);
    assert_eq!(bad["error"]["data"]["requested"], "v9");
}

/// A server declared with `oauth` has no bearer tokens over stdio: it runs as the local
/// identity it was started with, and that identity's scopes are checked like a token's.
#[test]
fn an_oauth_server_over_stdio_runs_as_its_local_caller_and_checks_its_scopes() {
    let mut server = start_example(
        "oauth",
        &[("USER", "alice"), ("MCP_STDIO_SCOPES", "notes:read")],
    );
    let init = server.request(
        &json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
    );
    assert_eq!(init["result"]["serverInfo"]["name"], "notes");
    let who = server
        .request(&json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami"}}));
    assert_eq!(
        who["result"]["structuredContent"]["subject"], "alice",
        "{who}"
    );
    assert_eq!(
        who["result"]["structuredContent"]["scopes"],
        json!(["notes:read"])
    );
    let add = server.request(
        &json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{
        "name":"add_note","arguments":{"title":"t"}}}),
    );
    assert_eq!(
        add["error"]["message"], "insufficient scope for tool `add_note`",
        "{add}"
    );
    assert_eq!(
        add["error"]["data"]["scopes"],
        json!(["notes:read", "notes:write"])
    );
    // Nothing ran: the notebook is still empty.
    let list = server.request(
        &json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{
        "name":"list_notes","arguments":{}}}),
    );
    assert_eq!(
        list["result"]["structuredContent"],
        json!({"result": []}),
        "{list}"
    );

    // With no scopes at all, even the scope every request needs is missing.
    let mut server = start_example("oauth", &[("MCP_STDIO_SCOPES", " ")]);
    let init = server.request(
        &json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
    );
    assert_eq!(
        init["error"]["data"]["scopes"],
        json!(["notes:read"]),
        "{init}"
    );
}

/// A line longer than the limit is answered and skipped, and the server goes on.
#[test]
fn an_over_long_line_is_refused_and_the_server_goes_on() {
    let mut server = start();
    let long = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"{}\"}}",
        "x".repeat(17 << 20)
    );
    server.send(&long);
    let e = server.recv();
    assert_eq!(e["error"]["message"], "message too large", "{e}");
    let ok = server.request(&json!({"jsonrpc":"2.0","id":2,"method":"ping"}));
    assert_eq!(ok["result"], json!({}));
}
