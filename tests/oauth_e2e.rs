//! End-to-end OAuth 2.1 tests: the `oauth` example as the resource server, a real
//! authorization server, and the official MCP SDK clients. Every test runs twice: against
//! an independent authorization server, and against the development one the example
//! starts itself when it is given no issuer (`mcp_runtime::dev_auth`, with
//! `MCP_DEV_AUTO_LOGIN=alice`).
//!
//! * The independent authorization server is `tests/e2e/as/server.mjs`: `oidc-provider` (pinned
//!   in `tests/e2e/as/package-lock.json`) with dynamic client registration, PKCE S256,
//!   resource indicators and RS256 JWT access tokens (`typ: at+jwt`) carrying
//!   `preferred_username` and `roles`; its login and consent complete on their own
//!   for the user `alice`, so following its redirects with plain GETs yields a code.
//! * The MCP server is `examples/oauth.rs`, started with `MCP_BIND`,
//!   `MCP_RESOURCE_URL` and `MCP_ISSUER`.
//! * The clients are `tests/e2e/ts_oauth_client.mjs` (`@modelcontextprotocol/sdk`,
//!   `StreamableHTTPClientTransport` + `OAuthClientProvider`) and
//!   `tests/e2e/py_oauth_client.py` (`mcp`, `OAuthClientProvider`): 401 → protected
//!   resource metadata → authorization server metadata → registration →
//!   authorization code + PKCE → token → `whoami`, then `add_note` → 403
//!   `insufficient_scope` → step-up → `add_note` succeeds.
//! * A token the same authorization server issued for ANOTHER resource is refused
//!   with 401 `invalid_token` (the Rust helper [`obtain_token`] runs the
//!   authorization-code flow itself).
//!
//! Node, the SDKs and oidc-provider are installed into `<repo>/.tools/` by
//! `scripts/install-test-tools.sh`, which these tests run themselves (a no-op when
//! the pins are already installed). A missing tool fails the tests; they never skip.

mod support;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::blocking::Client as HttpClient;
use reqwest::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use support::{
    ChildGuard, e2e_script, example_binary, free_port, install_tools, node, python, repo_root,
    run_bounded, tools_dir,
};

/// How long a server may take to print its address / accept connections.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one client run may take (two authorization rounds, Python imports).
const CLIENT_TIMEOUT: Duration = Duration::from_mins(2);
/// Timeout of one HTTP request made by the tests themselves.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// A second resource the authorization server issues tokens for; nothing listens
/// there, it only has to be a resource that is not the MCP server.
const OTHER_RESOURCE: &str = "http://127.0.0.1:9/other";
/// The downstream API the example's `delegate` exchanges tokens for (nothing listens).
const DOWNSTREAM: &str = "http://127.0.0.1:9/calendar";
/// The redirect URI of the tests' own client (nothing listens there either).
const TEST_REDIRECT_URI: &str = "http://127.0.0.1:8978/oauth/callback";
/// The user the authorization server logs in.
const USER: &str = "alice";
/// Their password on the example's development authorization server.
const PASSWORD: &str = "alice";

// ------------------------------------------------------------------ paths, tools

fn log_dir() -> PathBuf {
    support::log_dir("oauth-e2e-logs")
}

// ------------------------------------------------------------------ processes

/// The running authorization server (`tests/e2e/as/server.mjs`).
struct AuthServer {
    process: ChildGuard,
    issuer: String,
    /// Its stdin: the server exits when this closes, so it does not outlive a test
    /// process that was killed before the guard could run.
    _stdin: ChildStdin,
}

impl AuthServer {
    fn start(test_name: &str, resources: &[&str]) -> Self {
        let port = free_port();
        let log = log_dir().join(format!("{test_name}-as.log"));
        let log_file = File::create(&log).expect("create authorization server log");
        let script = repo_root()
            .join("tests")
            .join("e2e")
            .join("as")
            .join("server.mjs");
        let mut cmd = Command::new(node());
        cmd.arg(&script).arg("--port").arg(port.to_string());
        for resource in resources {
            cmd.arg("--resource").arg(resource);
        }
        let mut child = cmd
            .env("OIDC_PROVIDER_DIR", tools_dir().join("as"))
            .env("AS_EXIT_ON_STDIN_EOF", "1")
            .current_dir(repo_root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut process = ChildGuard {
            child,
            what: "authorization server".to_owned(),
            log,
        };
        // The first stdout line is {"issuer": ...}; keep draining after it.
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let deadline = Instant::now() + SERVER_START_TIMEOUT;
        let line = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => break line,
                Err(mpsc::RecvTimeoutError::Disconnected) => break String::new(),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some(status) = process.exited() {
                panic!(
                    "the authorization server exited before listening ({status}); log:\n{}",
                    process.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the authorization server printed nothing within {SERVER_START_TIMEOUT:?}; log:\n{}",
                process.log_text()
            );
        };
        let announced: Value = serde_json::from_str(line.trim()).unwrap_or_else(|e| {
            panic!(
                "the authorization server's first line is not JSON ({e}): {line:?}; log:\n{}",
                process.log_text()
            )
        });
        let issuer = format!("http://127.0.0.1:{port}");
        assert_eq!(
            announced["issuer"],
            json!(issuer),
            "announced issuer; log:\n{}",
            process.log_text()
        );
        AuthServer {
            process,
            issuer,
            _stdin: stdin,
        }
    }

    fn log_text(&self) -> String {
        self.process.log_text()
    }
}

/// The running `oauth` example.
struct McpServer {
    process: ChildGuard,
    /// `http://127.0.0.1:<port>/mcp`: the endpoint and the resource identifier.
    url: String,
    port: u16,
}

impl McpServer {
    /// The example trusting `issuer`, or with none, the development authorization server
    /// it starts on port `dev.0`, signing `alice` in without a page when `dev.1`.
    fn start(test_name: &str, port: u16, issuer: Option<&str>, dev: (u16, bool)) -> Self {
        let binary = example_binary("oauth");
        let log = log_dir().join(format!("{test_name}-mcp.log"));
        let url = resource_url(port);
        let mut command = Command::new(binary);
        command
            .env("MCP_BIND", format!("127.0.0.1:{port}"))
            .env("MCP_RESOURCE_URL", &url)
            .env("MCP_DOWNSTREAM", DOWNSTREAM);
        if let Some(issuer) = issuer {
            // The confidential client `tests/e2e/as/server.mjs` has for token exchange.
            command
                .env("MCP_ISSUER", issuer)
                .env("MCP_CLIENT_ID", "notes-server")
                .env("MCP_CLIENT_SECRET", "s3cret");
        } else {
            command
                .env_remove("MCP_ISSUER")
                .env_remove("MCP_DEV_AUTO_LOGIN")
                .env("MCP_DEV_AUTH_BIND", format!("127.0.0.1:{}", dev.0));
            if dev.1 {
                command.env("MCP_DEV_AUTO_LOGIN", USER);
            }
        }
        let mut process = ChildGuard::spawn_logged(&mut command, "the oauth example", log);
        process.wait_for_port(port, SERVER_START_TIMEOUT);
        McpServer { process, url, port }
    }

    /// The protected resource metadata URL the server advertises (RFC 9728 §3.1:
    /// the well-known prefix inserted before the resource's path).
    fn prm_url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/.well-known/oauth-protected-resource/mcp",
            self.port
        )
    }

    fn log_text(&self) -> String {
        self.process.log_text()
    }
}

fn resource_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/mcp")
}

/// Which authorization server a stack has.
#[derive(Clone, Copy, Debug)]
enum Issuer {
    /// `oidc-provider`, in a process of its own.
    Independent,
    /// The development server the example starts, signing `alice` in without a page.
    Development,
    /// The development server the example starts, with its sign-in page.
    DevelopmentPage,
}

/// An authorization server that issues tokens for the MCP resource and
/// [`OTHER_RESOURCE`], and the `oauth` example trusting it.
struct Stack {
    // Field order = drop order: the MCP server goes first.
    mcp: McpServer,
    auth: Option<AuthServer>,
    issuer: String,
}

impl Stack {
    fn start(test_name: &str, kind: Issuer) -> Self {
        install_tools();
        let mcp_port = free_port();
        let test_name = format!("{test_name}-{kind:?}");
        match kind {
            Issuer::Independent => {
                let auth = AuthServer::start(
                    &test_name,
                    &[&resource_url(mcp_port), OTHER_RESOURCE, DOWNSTREAM],
                );
                let mcp = McpServer::start(&test_name, mcp_port, Some(&auth.issuer), (0, false));
                let issuer = auth.issuer.clone();
                Stack {
                    mcp,
                    auth: Some(auth),
                    issuer,
                }
            }
            Issuer::Development | Issuer::DevelopmentPage => {
                let dev_port = free_port();
                let auto = matches!(kind, Issuer::Development);
                let mcp = McpServer::start(&test_name, mcp_port, None, (dev_port, auto));
                Stack {
                    mcp,
                    auth: None,
                    issuer: format!("http://127.0.0.1:{dev_port}"),
                }
            }
        }
    }

    fn logs(&self) -> String {
        let auth = self
            .auth
            .as_ref()
            .map_or_else(|| "(in the example's log)".to_owned(), AuthServer::log_text);
        format!(
            "--- oauth example log ---\n{}\n--- authorization server log ---\n{auth}",
            self.mcp.log_text(),
        )
    }
}

/// Runs a client script against the stack and parses its single JSON line.
fn run_client(stack: &Stack, program: &Path, script: &str) -> Value {
    let script = e2e_script(script);
    let mut cmd = Command::new(program);
    cmd.arg(&script)
        .arg(&stack.mcp.url)
        .current_dir(repo_root());
    let run = run_bounded(cmd, CLIENT_TIMEOUT);
    assert!(
        run.status.success(),
        "{} failed ({}) against {}\n--- client stderr ---\n{}\n--- client stdout ---\n{}\n{}",
        script.display(),
        run.status,
        stack.mcp.url,
        run.stderr,
        run.stdout,
        stack.logs()
    );
    run.json_line(&script)
}

// ------------------------------------------------------------------ HTTP helpers

fn http_client() -> HttpClient {
    HttpClient::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .build()
        .expect("build reqwest client")
}

fn get_json(http: &HttpClient, url: &str) -> Value {
    let response = http
        .get(url)
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status();
    let text = response.text().unwrap_or_default();
    assert!(status.is_success(), "GET {url} -> {status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {text}"))
}

/// `n` random bytes from the OS.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf
}

/// The auth-params of a `WWW-Authenticate: Bearer k="v", k2=v2` challenge, or
/// `None` when the scheme is not Bearer.
fn bearer_params(header: &str) -> Option<BTreeMap<String, String>> {
    let rest = header.trim().strip_prefix("Bearer")?;
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.trim().is_empty() {
            break;
        }
        if chars.next() != Some('=') {
            params.insert(key.trim().to_owned(), String::new());
            continue;
        }
        let value = if chars.peek() == Some(&'"') {
            chars.next();
            let mut v = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => v.extend(chars.next()),
                    '"' => break,
                    c => v.push(c),
                }
            }
            v
        } else {
            std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_owned()
        };
        params.insert(key.trim().to_owned(), value);
    }
    Some(params)
}

/// The decoded header and claims of a JWT (no signature check: the MCP server does that).
fn jwt_parts(token: &str) -> (Value, Value) {
    let mut segments = token.split('.');
    let mut decode = |what: &str| -> Value {
        let segment = segments
            .next()
            .unwrap_or_else(|| panic!("access token has no {what} segment: {token}"));
        let bytes = URL_SAFE_NO_PAD
            .decode(segment)
            .unwrap_or_else(|e| panic!("access token {what} is not base64url ({e})"));
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("access token {what} is not JSON ({e})"))
    };
    let header = decode("header");
    let claims = decode("payload");
    (header, claims)
}

/// A token from [`obtain_token`].
struct Token {
    /// The access token (a JWT).
    jwt: String,
    scope: String,
    header: Value,
    claims: Value,
}

/// The user agent of an authorization server that signs its user in on its own: follows
/// the redirects by hand (keeping cookies) from `authorize` to the redirect URI.
fn follow_redirects(http: &HttpClient, authorize: reqwest::Url) -> reqwest::Url {
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let mut url = authorize;
    let mut trail = Vec::new();
    loop {
        assert!(trail.len() < 20, "too many redirects: {trail:#?}");
        let mut request = http.get(url.clone());
        if !cookies.is_empty() {
            let header = cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header(COOKIE, header);
        }
        let response = request.send().unwrap_or_else(|e| panic!("GET {url}: {e}"));
        for set_cookie in response.headers().get_all(SET_COOKIE) {
            let set_cookie = set_cookie.to_str().unwrap_or_default();
            let pair = set_cookie.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    cookies.remove(name.trim());
                } else {
                    cookies.insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        trail.push(format!("{status} {url}"));
        let Some(location) = location.filter(|_| status.is_redirection()) else {
            let body = response.text().unwrap_or_default();
            panic!("authorization stopped with {status} at {url}: {body}\ntrail: {trail:#?}");
        };
        let next = url.join(&location).expect("redirect location is a URL");
        if next.as_str().starts_with(TEST_REDIRECT_URI) {
            break next;
        }
        url = next;
    }
}

/// Runs the whole authorization-code flow against the authorization server, as a
/// client would: metadata, dynamic registration (public client), authorization
/// request with PKCE S256 and `resource`, the redirects through login and consent
/// (cookies kept by hand), and the token request.
fn obtain_token(issuer: &str, resource: &str, scope: &str) -> Token {
    obtain_token_by(issuer, resource, scope, follow_redirects)
}

/// The DPoP proof (RFC 9449) of one request, made by `tests/e2e/dpop_proof.mjs` with
/// `jose` and the ES256 key kept in `key_file`; and the key's thumbprint.
fn dpop_proof(key_file: &Path, method: &str, url: &str, token: Option<&str>) -> (String, String) {
    let mut cmd = Command::new(node());
    cmd.arg(e2e_script("dpop_proof.mjs"))
        .arg(key_file)
        .arg(method)
        .arg(url)
        .args(token)
        .current_dir(repo_root());
    let run = run_bounded(cmd, CLIENT_TIMEOUT);
    assert!(run.status.success(), "dpop_proof.mjs: {}", run.stderr);
    let line = run.json_line(&e2e_script("dpop_proof.mjs"));
    (
        line["proof"].as_str().expect("a proof").to_owned(),
        line["jkt"].as_str().expect("a thumbprint").to_owned(),
    )
}

/// [`obtain_token`], with `user_agent` taking the authorization URL to the redirect URI
/// the authorization server sends the code to.
fn obtain_token_by(
    issuer: &str,
    resource: &str,
    scope: &str,
    user_agent: impl FnOnce(&HttpClient, reqwest::Url) -> reqwest::Url,
) -> Token {
    obtain_bound_token(issuer, resource, scope, user_agent, None)
}

/// [`obtain_token_by`], sending a DPoP proof from `dpop_key` with the token request when
/// given, so that the token is bound to that key.
fn obtain_bound_token(
    issuer: &str,
    resource: &str,
    scope: &str,
    user_agent: impl FnOnce(&HttpClient, reqwest::Url) -> reqwest::Url,
    dpop_key: Option<&Path>,
) -> Token {
    let http = http_client();
    let metadata = get_json(
        &http,
        &format!("{issuer}/.well-known/oauth-authorization-server"),
    );
    let endpoint = |name: &str| -> String {
        metadata[name]
            .as_str()
            .unwrap_or_else(|| panic!("authorization server metadata lacks {name}: {metadata}"))
            .to_owned()
    };

    // Registration (RFC 7591).
    let registration_endpoint = endpoint("registration_endpoint");
    let response = http
        .post(&registration_endpoint)
        .json(&json!({
            "client_name": "mcp-runtime oauth_e2e.rs",
            "redirect_uris": [TEST_REDIRECT_URI],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }))
        .send()
        .unwrap_or_else(|e| panic!("POST {registration_endpoint}: {e}"));
    let status = response.status();
    let text = response.text().unwrap_or_default();
    assert_eq!(status.as_u16(), 201, "registration: {text}");
    let registration: Value = serde_json::from_str(&text).expect("registration response is JSON");
    let client_id = registration["client_id"]
        .as_str()
        .unwrap_or_else(|| panic!("registration without client_id: {text}"))
        .to_owned();

    // Authorization request with PKCE (RFC 7636, S256).
    let verifier = URL_SAFE_NO_PAD.encode(random_bytes(32));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = URL_SAFE_NO_PAD.encode(random_bytes(16));
    let authorize = reqwest::Url::parse_with_params(
        &endpoint("authorization_endpoint"),
        [
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", TEST_REDIRECT_URI),
            ("scope", scope),
            ("state", state.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("resource", resource),
        ],
    )
    .expect("authorization URL");

    let callback = user_agent(&http, authorize);
    let params: BTreeMap<String, String> = callback.query_pairs().into_owned().collect();
    assert!(
        !params.contains_key("error"),
        "authorization error: {callback}"
    );
    assert_eq!(
        params.get("state"),
        Some(&state),
        "state echoed: {callback}"
    );
    assert_eq!(
        params.get("iss").map(String::as_str),
        Some(issuer),
        "RFC 9207 iss: {callback}"
    );
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code in {callback}"));

    // Token request.
    let token_endpoint = endpoint("token_endpoint");
    let mut request = http.post(&token_endpoint);
    if let Some(key) = dpop_key {
        request = request.header("dpop", dpop_proof(key, "POST", &token_endpoint, None).0);
    }
    let response = request
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", TEST_REDIRECT_URI),
            ("client_id", client_id.as_str()),
            ("code_verifier", verifier.as_str()),
            ("resource", resource),
        ])
        .send()
        .unwrap_or_else(|e| panic!("POST {token_endpoint}: {e}"));
    let status = response.status();
    let text = response.text().unwrap_or_default();
    assert!(status.is_success(), "token request -> {status}: {text}");
    let tokens: Value = serde_json::from_str(&text).expect("token response is JSON");
    let access_token = tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token: {text}"))
        .to_owned();
    let (header, claims) = jwt_parts(&access_token);
    Token {
        scope: tokens["scope"].as_str().unwrap_or_default().to_owned(),
        jwt: access_token,
        header,
        claims,
    }
}

/// POSTs one JSON-RPC message to the MCP endpoint; returns status, WWW-Authenticate
/// and body.
fn post_mcp(url: &str, bearer: Option<&str>, message: &Value) -> (u16, Option<String>, String) {
    let mut request = http_client()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(message);
    if let Some(token) = bearer {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = request.send().unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap_or("<not visible ASCII>").to_owned());
    (status, challenge, response.text().unwrap_or_default())
}

fn initialize_request(id: &Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "oauth_e2e.rs", "version": "0.0.0"}
        }
    })
}

// ------------------------------------------------------------------ assertions

/// One step expected in a client's HTTP log.
struct Expect {
    what: &'static str,
    matches: Box<dyn Fn(&Value) -> bool>,
}

fn expect(what: &'static str, matches: impl Fn(&Value) -> bool + 'static) -> Expect {
    Expect {
        what,
        matches: Box::new(matches),
    }
}

/// Asserts that the client's `http` log contains the steps in this order (other
/// exchanges may come in between).
fn assert_http_sequence(out: &Value, steps: &[Expect]) {
    let log = out["http"].as_array().cloned().unwrap_or_default();
    let rendered = log
        .iter()
        .map(|e| {
            format!(
                "{} {} -> {} {}{}",
                e["method"].as_str().unwrap_or("?"),
                e["url"].as_str().unwrap_or("?"),
                e["status"],
                e["rpcMethod"].as_str().unwrap_or(""),
                e["tool"]
                    .as_str()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut from = 0;
    for step in steps {
        let found = log[from..].iter().position(|e| (step.matches)(e));
        match found {
            Some(i) => from += i + 1,
            None => panic!(
                "the client's HTTP log lacks `{}` (after exchange #{from}); log:\n{rendered}",
                step.what
            ),
        }
    }
}

fn is(entry: &Value, method: &str, url: &str, status: u16) -> bool {
    entry["method"] == json!(method)
        && entry["url"].as_str().is_some_and(|u| u == url)
        && entry["status"] == json!(status)
}

fn url_starts(entry: &Value, method: &str, prefix: &str, status: u16) -> bool {
    entry["method"] == json!(method)
        && entry["url"].as_str().is_some_and(|u| u.starts_with(prefix))
        && entry["status"] == json!(status)
}

fn is_tool_call(entry: &Value, url: &str, tool: &str, status: u16) -> bool {
    is(entry, "POST", url, status) && entry["tool"] == json!(tool)
}

fn scopes_of(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// What both SDK clients must show: discovery, two authorization rounds (the second
/// adding notes:write), whoami as alice, the 403 challenge, and the note written.
fn assert_oauth_flow(stack: &Stack, out: &Value) {
    let report = serde_json::to_string_pretty(out).unwrap_or_default();
    let mcp = stack.mcp.url.as_str();
    let issuer = stack.issuer.as_str();
    let metadata = get_json(
        &http_client(),
        &format!("{issuer}/.well-known/oauth-authorization-server"),
    );
    let endpoint = |name: &str| metadata[name].as_str().unwrap_or_default().to_owned();
    let (registration, authorization, token) = (
        endpoint("registration_endpoint"),
        endpoint("authorization_endpoint"),
        endpoint("token_endpoint"),
    );

    // whoami: the claims of the JWT, as the server saw them.
    let whoami = &out["whoami"];
    assert_eq!(whoami["subject"], json!(USER), "whoami.subject\n{report}");
    assert_eq!(whoami["username"], json!(USER), "whoami.username\n{report}");
    assert_eq!(whoami["roles"], json!(["editor"]), "whoami.roles\n{report}");
    let scopes = scopes_of(&whoami["scopes"]);
    assert!(
        scopes.iter().any(|s| s == "notes:read"),
        "whoami.scopes lacks notes:read\n{report}"
    );
    assert!(
        !scopes.iter().any(|s| s == "notes:write"),
        "whoami ran before the step-up, yet its token already has notes:write\n{report}"
    );

    // Two authorization rounds with the same registered client; the second one is
    // the step-up to notes:write. Both name the MCP server as the resource.
    let rounds = out["authorizationRounds"]
        .as_array()
        .unwrap_or_else(|| panic!("no authorizationRounds\n{report}"));
    assert_eq!(rounds.len(), 2, "authorization rounds\n{report}");
    let first = scopes_of(&rounds[0]["scope"]);
    let second = scopes_of(&rounds[1]["scope"]);
    assert!(
        first.iter().any(|s| s == "notes:read") && !first.iter().any(|s| s == "notes:write"),
        "first round must ask for the challenged notes:read only: {first:?}\n{report}"
    );
    assert!(
        second.iter().any(|s| s == "notes:read") && second.iter().any(|s| s == "notes:write"),
        "step-up round must ask for notes:read AND notes:write: {second:?}\n{report}"
    );
    for round in rounds {
        assert_eq!(
            round["resource"],
            json!(mcp),
            "resource indicator\n{report}"
        );
        assert_eq!(
            round["codeChallengeMethod"],
            json!("S256"),
            "PKCE\n{report}"
        );
        assert_eq!(round["iss"], json!(issuer), "RFC 9207 iss\n{report}");
        assert_eq!(
            round["clientId"], rounds[0]["clientId"],
            "one client_id\n{report}"
        );
    }
    assert_eq!(
        out["registrations"],
        json!(1),
        "dynamic registrations\n{report}"
    );
    let tokens = out["tokens"].as_array().cloned().unwrap_or_default();
    assert_eq!(tokens.len(), 2, "tokens obtained\n{report}");
    assert!(
        scopes_of(&tokens[1]["scope"])
            .iter()
            .any(|s| s == "notes:write"),
        "the step-up token lacks notes:write\n{report}"
    );

    // The 403 that triggered the step-up.
    let challenge = out["stepUp"]["wwwAuthenticate"]
        .as_str()
        .unwrap_or_else(|| panic!("no 403 insufficient_scope challenge was seen\n{report}"));
    assert_eq!(out["stepUp"]["status"], json!(403), "{report}");
    let params = bearer_params(challenge)
        .unwrap_or_else(|| panic!("403 challenge is not Bearer: {challenge}\n{report}"));
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("insufficient_scope"),
        "403 challenge: {challenge}"
    );
    let mut challenged = scopes_of(&json!(params.get("scope").cloned().unwrap_or_default()));
    challenged.sort();
    assert_eq!(
        challenged,
        ["notes:read", "notes:write"],
        "403 challenge: {challenge}"
    );
    assert_eq!(
        params.get("resource_metadata"),
        Some(&stack.mcp.prm_url()),
        "403 challenge: {challenge}"
    );

    // add_note went through after the step-up.
    let note = &out["addNote"];
    assert!(
        note.get("id").is_some(),
        "add_note result has no id\n{report}"
    );
    assert!(
        note["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("OAuth step-up")),
        "add_note result title\n{report}"
    );

    // The wire, in order.
    let prm = stack.mcp.prm_url();
    let as_metadata = format!("{issuer}/.well-known/oauth-authorization-server");
    let mcp_owned = mcp.to_owned();
    let (m1, m2, m3, m4, m5) = (
        mcp_owned.clone(),
        mcp_owned.clone(),
        mcp_owned.clone(),
        mcp_owned.clone(),
        mcp_owned,
    );
    let (auth1, auth2) = (authorization.clone(), authorization);
    let (token_a, token_b) = (token.clone(), token);
    let steps = [
        expect("POST <mcp> -> 401 without a token", move |e| {
            is(e, "POST", &m1, 401) && e["bearer"] == json!(false)
        }),
        expect("GET <protected resource metadata> -> 200", move |e| {
            is(e, "GET", &prm, 200)
        }),
        expect("GET <AS metadata> -> 200", move |e| {
            is(e, "GET", &as_metadata, 200)
        }),
        expect("POST <registration> -> 201", move |e| {
            is(e, "POST", &registration, 201)
        }),
        expect("GET <authorization endpoint> -> 303", move |e| {
            url_starts(e, "GET", &format!("{auth1}?"), 303)
        }),
        expect("POST <token> -> 200", move |e| is(e, "POST", &token_a, 200)),
        expect("POST <mcp> with the token -> 200", move |e| {
            is(e, "POST", &m2, 200) && e["bearer"] == json!(true)
        }),
        expect("tools/call whoami -> 200", move |e| {
            is_tool_call(e, &m3, "whoami", 200)
        }),
        expect("tools/call add_note -> 403", move |e| {
            is_tool_call(e, &m4, "add_note", 403)
        }),
        expect(
            "GET <authorization endpoint> again (step-up) -> 303",
            move |e| url_starts(e, "GET", &format!("{auth2}?"), 303),
        ),
        expect("POST <token> again -> 200", move |e| {
            is(e, "POST", &token_b, 200)
        }),
        expect("tools/call add_note -> 200", move |e| {
            is_tool_call(e, &m5, "add_note", 200)
        }),
    ];
    assert_http_sequence(out, &steps);
}

// ------------------------------------------------------------------ tests

/// The authorization server itself: both metadata documents, and a real RS256 `at+jwt`
/// token whose claims are what the MCP server will read.
#[test]
fn authorization_server_issues_rs256_jwt_access_tokens() {
    install_tools();
    let resource = "http://127.0.0.1:9/mcp";
    let auth = AuthServer::start(
        "authorization_server_issues_rs256_jwt_access_tokens",
        &[resource, OTHER_RESOURCE],
    );
    issues_rs256_jwt_access_tokens(&auth.issuer, resource);
}

#[test]
fn development_authorization_server_issues_rs256_jwt_access_tokens() {
    let stack = Stack::start(
        "development_authorization_server_issues_rs256_jwt_access_tokens",
        Issuer::Development,
    );
    issues_rs256_jwt_access_tokens(&stack.issuer, &stack.mcp.url);
}

fn issues_rs256_jwt_access_tokens(issuer: &str, resource: &str) {
    let http = http_client();
    let rfc8414 = get_json(
        &http,
        &format!("{issuer}/.well-known/oauth-authorization-server"),
    );
    let oidc = get_json(&http, &format!("{issuer}/.well-known/openid-configuration"));
    for metadata in [&rfc8414, &oidc] {
        assert_eq!(metadata["issuer"], json!(issuer), "{metadata}");
        assert_eq!(
            metadata["code_challenge_methods_supported"],
            json!(["S256"]),
            "{metadata}"
        );
        assert!(metadata["registration_endpoint"].is_string(), "{metadata}");
        assert_eq!(
            metadata["authorization_response_iss_parameter_supported"],
            json!(true),
            "{metadata}"
        );
        for scope in ["notes:read", "notes:write"] {
            assert!(
                scopes_of(&metadata["scopes_supported"])
                    .iter()
                    .any(|s| s == scope),
                "{metadata}"
            );
        }
    }

    let token = obtain_token(issuer, resource, "notes:read");
    assert_eq!(token.header["alg"], json!("RS256"), "{}", token.header);
    assert_eq!(token.header["typ"], json!("at+jwt"), "{}", token.header);
    let jwks = get_json(&http, rfc8414["jwks_uri"].as_str().expect("jwks_uri"));
    assert!(
        jwks["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|k| k["kid"] == token.header["kid"]
                && k["kty"] == json!("RSA")
                && k.get("d").is_none()),
        "the token's kid is not a public RSA key of the JWKS: {jwks}"
    );
    let claims = &token.claims;
    assert_eq!(claims["iss"], json!(issuer), "{claims}");
    assert_eq!(claims["aud"], json!(resource), "{claims}");
    assert_eq!(claims["sub"], json!(USER), "{claims}");
    assert_eq!(claims["preferred_username"], json!(USER), "{claims}");
    assert_eq!(claims["roles"], json!(["editor"]), "{claims}");
    assert_eq!(claims["scope"], json!("notes:read"), "{claims}");
    assert_eq!(token.scope, "notes:read");
    assert!(claims["exp"].as_u64().is_some(), "{claims}");

    // Both scopes when asked for both, for the other resource too.
    let both = obtain_token(issuer, OTHER_RESOURCE, "notes:read notes:write");
    assert_eq!(both.claims["aud"], json!(OTHER_RESOURCE), "{}", both.claims);
    assert_eq!(
        both.claims["scope"],
        json!("notes:read notes:write"),
        "{}",
        both.claims
    );
}

/// No token: 401 with the RFC 9728 challenge, and the metadata it points at.
#[test]
fn unauthenticated_request_gets_challenge_and_protected_resource_metadata() {
    challenge_and_metadata(Issuer::Independent);
}

#[test]
fn unauthenticated_request_gets_challenge_and_metadata_naming_the_development_server() {
    challenge_and_metadata(Issuer::Development);
}

fn challenge_and_metadata(kind: Issuer) {
    let stack = Stack::start("unauthenticated_request_gets_challenge", kind);
    // What the server verifies with, said at startup.
    let started = stack.mcp.log_text();
    let said = started
        .lines()
        .find(|l| l.contains("verifying access tokens"))
        .unwrap_or_else(|| panic!("no startup line on verification:\n{started}"));
    for part in [
        stack.issuer.as_str(),
        "/jwks",
        "RS256",
        stack.mcp.url.as_str(),
        "generic",
    ] {
        assert!(said.contains(part), "{part} not in {said}");
    }
    let id = json!(7);
    let (status, challenge, body) = post_mcp(&stack.mcp.url, None, &initialize_request(&id));
    let logs = stack.logs();
    assert_eq!(
        status, 401,
        "initialize without a token; body: {body}\n{logs}"
    );
    let challenge = challenge.unwrap_or_else(|| panic!("401 without WWW-Authenticate\n{logs}"));
    let params = bearer_params(&challenge)
        .unwrap_or_else(|| panic!("WWW-Authenticate is not Bearer: {challenge}"));
    assert_eq!(
        params.get("resource_metadata"),
        Some(&stack.mcp.prm_url()),
        "WWW-Authenticate: {challenge}"
    );
    assert_eq!(
        params.get("scope").map(String::as_str),
        Some("notes:read"),
        "WWW-Authenticate: {challenge}"
    );
    assert!(
        !params.contains_key("error"),
        "a request without credentials gets no error code (RFC 6750 §3.1): {challenge}"
    );

    let http = http_client();
    for url in [
        stack.mcp.prm_url(),
        format!(
            "http://127.0.0.1:{}/.well-known/oauth-protected-resource",
            stack.mcp.port
        ),
    ] {
        let prm = get_json(&http, &url);
        assert_eq!(prm["resource"], json!(stack.mcp.url), "{url}: {prm}");
        assert_eq!(
            prm["authorization_servers"],
            json!([stack.issuer]),
            "{url}: {prm}"
        );
        assert_eq!(
            prm["bearer_methods_supported"],
            json!(["header"]),
            "{url}: {prm}"
        );
        let mut scopes = scopes_of(&prm["scopes_supported"]);
        scopes.sort();
        assert_eq!(scopes, ["notes:read", "notes:write"], "{url}: {prm}");
    }
}

/// The official TypeScript SDK: discovery, registration, code + PKCE, whoami, then
/// the 403 `insufficient_scope` step-up and `add_note`.
#[test]
fn typescript_sdk_oauth_flow_with_step_up() {
    typescript_sdk_flow(Issuer::Independent);
}

#[test]
fn typescript_sdk_oauth_flow_with_step_up_on_the_development_server() {
    typescript_sdk_flow(Issuer::Development);
}

fn typescript_sdk_flow(kind: Issuer) {
    let stack = Stack::start("typescript_sdk_oauth_flow_with_step_up", kind);
    let out = run_client(&stack, &node(), "ts_oauth_client.mjs");
    assert_oauth_flow(&stack, &out);
    let report = serde_json::to_string_pretty(&out).unwrap_or_default();
    // SDK 1.32.2 surfaces the need for a redirect as UnauthorizedError both times.
    assert!(out["firstConnectError"].is_string(), "{report}");
    assert!(out["stepUp"]["sdkError"].is_string(), "{report}");
}

/// The official Python SDK: the same flow; mcp 2.x steps up on its own (SEP-2350).
#[test]
fn python_sdk_oauth_flow_with_step_up() {
    python_sdk_flow(Issuer::Independent);
}

#[test]
fn python_sdk_oauth_flow_with_step_up_on_the_development_server() {
    python_sdk_flow(Issuer::Development);
}

fn python_sdk_flow(kind: Issuer) {
    let stack = Stack::start("python_sdk_oauth_flow_with_step_up", kind);
    let out = run_client(&stack, &python(), "py_oauth_client.py");
    assert_oauth_flow(&stack, &out);
}

/// A real, unexpired token from the same issuer, but for another resource: the MCP
/// server must refuse it as `invalid_token` and say nothing about it.
#[test]
fn token_for_another_resource_is_rejected() {
    token_for_another_resource(Issuer::Independent);
}

#[test]
fn token_of_the_development_server_for_another_resource_is_rejected() {
    token_for_another_resource(Issuer::Development);
}

fn token_for_another_resource(kind: Issuer) {
    let stack = Stack::start("token_for_another_resource_is_rejected", kind);
    let issuer = stack.issuer.clone();

    // Control: a token for this server works.
    let good = obtain_token(&issuer, &stack.mcp.url, "notes:read");
    let (status, _, body) = post_mcp(
        &stack.mcp.url,
        Some(&good.jwt),
        &initialize_request(&json!(1)),
    );
    assert_eq!(
        status,
        200,
        "initialize with a valid token for {}: {body}\n{}",
        stack.mcp.url,
        stack.logs()
    );

    let other = obtain_token(&issuer, OTHER_RESOURCE, "notes:read notes:write");
    assert_eq!(
        other.claims["aud"],
        json!(OTHER_RESOURCE),
        "{}",
        other.claims
    );
    assert_eq!(other.claims["iss"], json!(issuer), "{}", other.claims);

    let id = json!("other-audience-41");
    let (status, challenge, body) =
        post_mcp(&stack.mcp.url, Some(&other.jwt), &initialize_request(&id));
    let logs = stack.logs();
    assert_eq!(
        status, 401,
        "token with aud={OTHER_RESOURCE}; body: {body}\n{logs}"
    );
    let challenge =
        challenge.unwrap_or_else(|| panic!("401 without WWW-Authenticate; body: {body}\n{logs}"));
    let params = bearer_params(&challenge)
        .unwrap_or_else(|| panic!("WWW-Authenticate is not Bearer: {challenge}"));
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("invalid_token"),
        "WWW-Authenticate: {challenge}"
    );
    assert_eq!(
        params.get("resource_metadata"),
        Some(&stack.mcp.prm_url()),
        "WWW-Authenticate: {challenge}"
    );

    let reply: Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("401 body is not JSON ({e}): {body}"));
    assert_eq!(reply["jsonrpc"], json!("2.0"), "{body}");
    assert_eq!(
        reply["id"], id,
        "the JSON-RPC error keeps the request id: {body}"
    );
    assert!(
        reply["error"]["code"].is_i64(),
        "JSON-RPC error code: {body}"
    );
    assert!(
        reply["error"]["message"].is_string(),
        "JSON-RPC error message: {body}"
    );
    assert!(reply.get("result").is_none(), "{body}");

    // Nothing about the token: not the token, none of its parts or claims.
    let mut secrets: Vec<(&str, String)> = vec![("the token", other.jwt.clone())];
    for segment in other.jwt.split('.') {
        secrets.push(("a token segment", segment.to_owned()));
    }
    for claim in ["jti", "aud", "client_id", "sub"] {
        if let Some(value) = other.claims[claim].as_str() {
            secrets.push((claim, value.to_owned()));
        }
    }
    for (what, secret) in &secrets {
        assert!(
            !body.contains(secret.as_str()),
            "the 401 body reveals {what} ({secret}): {body}"
        );
        assert!(
            !challenge.contains(secret.as_str()),
            "WWW-Authenticate reveals {what} ({secret}): {challenge}"
        );
    }
}

/// A person signs in on the development authorization server's page in a real browser
/// (headless Chromium): a wrong password is refused on the page, the right one and the
/// consent give a code, and the token it buys calls a tool as that person.
#[test]
fn a_person_signs_in_with_a_browser_on_the_development_server() {
    let stack = Stack::start("browser_sign_in", Issuer::DevelopmentPage);
    let mut page = Value::Null;
    let token = obtain_token_by(
        &stack.issuer,
        &stack.mcp.url,
        "notes:read notes:write",
        |_, authorize| {
            let mut cmd = Command::new(node());
            let script = e2e_script("browser_sign_in.mjs");
            cmd.arg(&script)
                .arg(authorize.as_str())
                .arg(TEST_REDIRECT_URI)
                .arg(USER)
                .arg(PASSWORD)
                .current_dir(repo_root());
            let run = run_bounded(cmd, CLIENT_TIMEOUT);
            assert!(
                run.status.success(),
                "the browser did not sign in ({}):\n{}\n{}\n{}",
                run.status,
                run.stderr,
                run.stdout,
                stack.logs()
            );
            page = run.json_line(&script);
            reqwest::Url::parse(page["callback"].as_str().unwrap_or_default())
                .expect("the browser reached the redirect URI")
        },
    );
    assert_eq!(
        page["wrongPassword"], "Wrong username or password.",
        "{page}"
    );
    assert_eq!(token.claims["sub"], json!(USER), "{}", token.claims);
    assert_eq!(token.scope, "notes:read notes:write");

    let whoami = call_tool(&stack.mcp.url, &token.jwt, "whoami");
    assert_eq!(whoami["username"], json!(USER), "{whoami}");
    assert_eq!(whoami["roles"], json!(["editor"]), "{whoami}");
    let mut scopes = scopes_of(&whoami["scopes"]);
    scopes.sort();
    assert_eq!(scopes, ["notes:read", "notes:write"], "{whoami}");
}

/// Calls `tool` (no arguments) in a new session with `token`; its structured result.
fn call_tool(url: &str, token: &str, tool: &str) -> Value {
    let http = http_client();
    let send = |session: Option<&str>, message: &Value| {
        let mut request = http
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .json(message);
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        request.send().unwrap_or_else(|e| panic!("POST {url}: {e}"))
    };
    let initialized = send(None, &initialize_request(&json!(1)));
    assert_eq!(initialized.status().as_u16(), 200);
    let session = initialized
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .expect("a session")
        .to_owned();
    let _ = initialized.text();
    send(
        Some(&session),
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    let called = send(
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": tool, "arguments": {}}}),
    );
    assert_eq!(called.status().as_u16(), 200);
    let text = called.text().unwrap_or_default();
    let message: Value = text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .find_map(|data| serde_json::from_str(data.trim()).ok())
        .or_else(|| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("no JSON-RPC answer in {text}"));
    message["result"]["structuredContent"].clone()
}

/// `MCP_LEEWAY` sets the clock skew the example allows: a token expired a minute ago is
/// refused with the default 30 s and accepted with 120 s; a value that is not a number of
/// seconds stops the example with a message saying so.
#[test]
fn the_example_takes_its_leeway_from_the_environment() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the test issuer");
    let issuer = runtime
        .block_on(mcp_runtime::testing::TestIssuer::start())
        .expect("the test issuer starts");
    for (leeway, expected) in [(None, 401), (Some("120"), 200)] {
        let port = free_port();
        let url = resource_url(port);
        let mut command = Command::new(example_binary("oauth"));
        command
            .env("MCP_BIND", format!("127.0.0.1:{port}"))
            .env("MCP_RESOURCE_URL", &url)
            .env("MCP_ISSUER", issuer.url());
        if let Some(leeway) = leeway {
            command.env("MCP_LEEWAY", leeway);
        }
        let log = log_dir().join(format!("leeway-{}.log", leeway.unwrap_or("default")));
        let mut process = ChildGuard::spawn_logged(&mut command, "the oauth example", log);
        process.wait_for_port(port, SERVER_START_TIMEOUT);
        let token = issuer
            .token()
            .subject(USER)
            .audience(&url)
            .scopes(["notes:read"])
            .expires_in(-60)
            .sign();
        let (status, _, body) = post_mcp(&url, Some(&token), &initialize_request(&json!(1)));
        assert_eq!(status, expected, "MCP_LEEWAY={leeway:?}: {body}");
    }
    let mut command = Command::new(example_binary("oauth"));
    command
        .env("MCP_BIND", format!("127.0.0.1:{}", free_port()))
        .env("MCP_ISSUER", issuer.url())
        .env("MCP_LEEWAY", "soon");
    let run = run_bounded(command, SERVER_START_TIMEOUT);
    assert!(!run.status.success());
    assert!(
        run.stderr
            .contains("MCP_LEEWAY must be a number of seconds, not `soon`"),
        "{}",
        run.stderr
    );
}

/// A tool acts for its caller downstream: the example's `delegate` exchanges the caller's
/// token (RFC 8693) at the authorization server with the server's own client credentials,
/// and the new token names the downstream API as `aud`, the caller as `sub` and the server
/// as the actor, against either authorization server.
#[test]
fn a_tool_exchanges_its_callers_token_at_the_independent_server() {
    token_exchange(Issuer::Independent);
}

#[test]
fn a_tool_exchanges_its_callers_token_at_the_development_server() {
    token_exchange(Issuer::Development);
}

fn token_exchange(kind: Issuer) {
    let stack = Stack::start("token_exchange", kind);
    let token = obtain_token(&stack.issuer, &stack.mcp.url, "notes:read");
    let delegated = call_tool(&stack.mcp.url, &token.jwt, "delegate");
    let logs = stack.logs();
    assert_eq!(delegated["audience"], DOWNSTREAM, "{delegated}\n{logs}");
    assert_eq!(delegated["subject"], USER, "{delegated}");
    assert_eq!(delegated["actor"]["sub"], "notes-server", "{delegated}");
    assert_eq!(delegated["scopes"], json!(["notes:read"]), "{delegated}");
}

#[test]
fn dpop_bound_tokens_from_the_independent_server_need_their_proofs() {
    install_tools();
    let test_name = "dpop_bound_tokens";
    let port = free_port();
    let url = resource_url(port);
    let auth = AuthServer::start(test_name, &[&url]);
    let mut command = Command::new(example_binary("oauth"));
    command
        .env("MCP_BIND", format!("127.0.0.1:{port}"))
        .env("MCP_RESOURCE_URL", &url)
        .env("MCP_ISSUER", &auth.issuer)
        .env("MCP_DPOP", "require");
    let log = log_dir().join(format!("{test_name}-mcp.log"));
    let mut mcp = ChildGuard::spawn_logged(&mut command, "the oauth example", log);
    mcp.wait_for_port(port, SERVER_START_TIMEOUT);

    let key = log_dir().join(format!("{test_name}-{}.jwk", std::process::id()));
    let _ = std::fs::remove_file(&key);
    let token = obtain_bound_token(
        &auth.issuer,
        &url,
        "notes:read",
        follow_redirects,
        Some(&key),
    );
    // oidc-provider checked the proof and bound the token to its key.
    let (_, jkt) = dpop_proof(&key, "POST", &url, None);
    assert_eq!(token.claims["cnf"]["jkt"], json!(jkt), "{}", token.claims);

    let send = |authorization: String, proof: Option<&str>| {
        let mut request = http_client()
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header(AUTHORIZATION, authorization)
            .json(&initialize_request(&json!(1)));
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, challenge, response.text().unwrap_or_default())
    };
    let (proof, _) = dpop_proof(&key, "POST", &url, Some(&token.jwt));
    let (status, _, body) = send(format!("DPoP {}", token.jwt), Some(&proof));
    assert_eq!(status, 200, "{body}\n{}", mcp.log_text());
    assert!(body.contains("protocolVersion"), "{body}");
    // The same proof twice, the token as a bearer token, a proof without `ath`.
    let (status, challenge, _) = send(format!("DPoP {}", token.jwt), Some(&proof));
    assert_eq!(status, 401);
    assert!(
        challenge.starts_with("DPoP error=\"invalid_dpop_proof\""),
        "{challenge}"
    );
    let (status, challenge, _) = send(format!("Bearer {}", token.jwt), None);
    assert_eq!(status, 401);
    assert!(
        challenge.starts_with("DPoP error=\"invalid_token\""),
        "{challenge}"
    );
    let (no_ath, _) = dpop_proof(&key, "POST", &url, None);
    let (status, challenge, _) = send(format!("DPoP {}", token.jwt), Some(&no_ath));
    assert_eq!(status, 401);
    assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    // The metadata tells clients DPoP is required, and with which algorithms.
    let prm = get_json(
        &http_client(),
        &format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"),
    );
    assert_eq!(prm["dpop_bound_access_tokens_required"], json!(true));
    assert!(
        prm["dpop_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("ES256"))
    );
    let _ = std::fs::remove_file(&key);
}
