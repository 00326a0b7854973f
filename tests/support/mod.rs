//! Helpers shared by the integration tests (`mod support;` in each test file).
//!
//! * processes and binaries: the workspace paths, `scripts/install-test-tools.sh`,
//!   the examples built with `cargo`, free ports, logged child processes that are
//!   killed on drop, bounded client runs;
//! * Streamable HTTP: serving a router on 127.0.0.1, MCP `POST`s, 2025-11-25
//!   sessions, 2026-07-28 requests and SSE bodies;
//! * the development authorization server's code flow, for a token.

// Each test binary compiles this module on its own and uses only a subset of it.
#![allow(dead_code)]
// A failed `unwrap` in a helper is a failed test, as in the tests themselves; clippy's
// `allow-unwrap-in-tests` only reaches `#[test]` functions.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) mod snapshot;

// ------------------------------------------------------------------ paths, tools

/// The workspace root (the parent of this package's `tests/` directory).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("CARGO_MANIFEST_DIR has a parent")
        .to_path_buf()
}

/// `<repo>/.tools/`, where `scripts/install-test-tools.sh` installs the test tools.
pub(crate) fn tools_dir() -> PathBuf {
    repo_root().join(".tools")
}

/// `target/<profile>/`: test binaries live in `target/<profile>/deps/`.
pub(crate) fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary has a parent directory");
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("deps/ has a parent")
    } else {
        deps
    };
    dir.to_path_buf()
}

/// `target/<profile>/<name>/`, created if missing.
pub(crate) fn log_dir(name: &str) -> PathBuf {
    let dir = profile_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create log dir");
    dir
}

/// The text of a log file, or a note saying why it cannot be read.
pub(crate) fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| format!("<cannot read {}: {e}>", path.display()))
}

/// Runs `scripts/install-test-tools.sh` once per test process.
pub(crate) fn install_tools() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        let script = repo_root().join("scripts").join("install-test-tools.sh");
        let out = Command::new("bash")
            .arg(&script)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed ({}):\n--- stderr ---\n{}\n--- stdout ---\n{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout),
            ))
        }
    });
    if let Err(message) = result {
        panic!("installing the test tools failed; these tests need them:\n{message}");
    }
}

/// An installed tool under [`tools_dir`], which must exist.
fn tool(path: &[&str]) -> PathBuf {
    let tool = path.iter().fold(tools_dir(), |dir, part| dir.join(part));
    assert!(
        tool.exists(),
        "{} is missing after scripts/install-test-tools.sh",
        tool.display()
    );
    tool
}

/// The Node.js installed by [`install_tools`].
pub(crate) fn node() -> PathBuf {
    tool(&["bin", "node"])
}

/// The Python (virtual environment with the MCP SDK) installed by [`install_tools`].
pub(crate) fn python() -> PathBuf {
    tool(&["py", "bin", "python"])
}

/// `tests/e2e/<script>`.
pub(crate) fn e2e_script(script: &str) -> PathBuf {
    repo_root().join("tests").join("e2e").join(script)
}

/// Builds (once per test process) and returns `target/<profile>/examples/<name>`.
pub(crate) fn example_binary(name: &str) -> PathBuf {
    static BINARIES: OnceLock<Mutex<HashMap<String, Result<PathBuf, String>>>> = OnceLock::new();
    // The lock is held while building, so concurrent tests wait for one build.
    let mut binaries = BINARIES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let result = binaries
        .entry(name.to_owned())
        .or_insert_with(|| build_example(name));
    match result {
        Ok(path) => path.clone(),
        Err(message) => panic!("{message}"),
    }
}

fn build_example(name: &str) -> Result<PathBuf, String> {
    let profile_dir = profile_dir();
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    // `cargo test` already builds the examples; this makes sure the binary is present
    // and fresh even when only one test target was built.
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug")
        .to_owned();
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["build", "--quiet", "-p", "mcp-tests", "--example", name])
        .args([
            "--profile",
            if profile == "debug" { "dev" } else { &profile },
        ])
        .current_dir(repo_root())
        .stdin(Stdio::null());
    if let Some(target_dir) = profile_dir.parent() {
        cargo.arg("--target-dir").arg(target_dir);
    }
    let out = cargo
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo build -p mcp-tests --example {name}` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "{} is missing after building it; run `cargo build -p mcp-tests --examples`",
            binary.display()
        ))
    }
}

/// A free loopback port (bind to port 0, read it, release it), never one this process was
/// given before: the kernel may hand a released port out again at once, and two servers of
/// one test would then be told the same port.
pub(crate) fn free_port() -> u16 {
    static GIVEN: OnceLock<Mutex<std::collections::HashSet<u16>>> = OnceLock::new();
    let mut given = GIVEN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        if given.insert(port) {
            return port;
        }
    }
}

// ------------------------------------------------------------------ processes

/// A child process that is killed (and reaped) when dropped.
pub(crate) struct ChildGuard {
    pub(crate) child: Child,
    /// What the process is, for messages ("the oauth example").
    pub(crate) what: String,
    /// Where its output goes.
    pub(crate) log: PathBuf,
}

impl ChildGuard {
    /// Spawns `cmd` with stdin closed and stdout and stderr going to a new file `log`.
    pub(crate) fn spawn_logged(cmd: &mut Command, what: &str, log: PathBuf) -> Self {
        let log_file = File::create(&log).unwrap_or_else(|e| panic!("create {what} log: {e}"));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", cmd.get_program().display()));
        ChildGuard {
            child,
            what: what.to_owned(),
            log,
        }
    }

    pub(crate) fn log_text(&self) -> String {
        read_log(&self.log)
    }

    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .try_wait()
            .unwrap_or_else(|e| panic!("try_wait on {}: {e}", self.what))
    }

    /// Waits until something accepts connections on `127.0.0.1:<port>`; panics with
    /// the log if the process exits first or `timeout` passes.
    pub(crate) fn wait_for_port(&mut self, port: u16, timeout: Duration) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                panic!(
                    "{} exited before listening ({status}); log:\n{}",
                    self.what,
                    self.log_text()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not accept connections on {addr} within {timeout:?}; log:\n{}",
                self.what,
                self.log_text()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `redis-server` of the test's own on a free 127.0.0.1 port, stopped when dropped;
/// `scripts/install-test-tools.sh` installs Redis when missing.
pub(crate) struct Redis {
    pub(crate) port: u16,
    name: String,
    /// Where a persistent server keeps its append-only file.
    dir: Option<PathBuf>,
    process: Option<ChildGuard>,
}

impl Redis {
    /// A server that saves nothing to disk: a restart empties it.
    pub(crate) fn start(name: &str) -> Self {
        Self::start_with(name, None)
    }

    /// A server that writes every change to an append-only file before it answers, as a
    /// production Redis would: a restart keeps what it held.
    pub(crate) fn start_persistent(name: &str) -> Self {
        let dir = log_dir("redis").join(format!("{name}-data"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self::start_with(name, Some(dir))
    }

    fn start_with(name: &str, dir: Option<PathBuf>) -> Self {
        install_tools();
        let mut redis = Self {
            port: free_port(),
            name: name.to_owned(),
            dir,
            process: None,
        };
        redis.restart();
        redis
    }

    /// `redis://127.0.0.1:<port>/`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server; what it held is gone.
    pub(crate) fn kill(&mut self) {
        self.process = None;
    }

    /// The keys it holds, by `redis-cli`.
    pub(crate) fn keys(&self) -> Vec<String> {
        self.cli(&["keys", "*"])
    }

    /// What `redis-cli` prints for one command, line by line.
    pub(crate) fn cli(&self, command: &[&str]) -> Vec<String> {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "--raw"])
            .args(command)
            .output()
            .expect("redis-cli runs");
        assert!(out.status.success(), "redis-cli: {out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Starts the server (again) on its port: empty, unless it is persistent.
    pub(crate) fn restart(&mut self) {
        self.process = None;
        let port = self.port.to_string();
        let log = log_dir("redis").join(format!("{}.log", self.name));
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port, "--bind", "127.0.0.1", "--save", ""]);
        match &self.dir {
            Some(dir) => cmd
                .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                .arg(dir),
            None => cmd.args(["--appendonly", "no"]),
        };
        let mut process = ChildGuard::spawn_logged(&mut cmd, "redis-server", log);
        process.wait_for_port(self.port, Duration::from_secs(20));
        self.process = Some(process);
    }
}

/// Output of one finished client process.
pub(crate) struct ClientRun {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl ClientRun {
    /// The last non-empty stdout line of `script`'s run, parsed as JSON.
    pub(crate) fn json_line(&self, script: &Path) -> Value {
        let line = self
            .stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "{} printed no JSON line ({e}); stdout:\n{}\nstderr:\n{}",
                script.display(),
                self.stdout,
                self.stderr
            )
        })
    }
}

/// Runs `cmd` to completion (killing it after `timeout`).
pub(crate) fn run_bounded(mut cmd: Command, timeout: Duration) -> ClientRun {
    let description = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {description}: {e}"));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait on client") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err_reader.join().unwrap_or_default();
            panic!("{description} did not finish within {timeout:?}; stderr:\n{stderr}");
        }
        thread::sleep(Duration::from_millis(50));
    };
    ClientRun {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

// ------------------------------------------------------------------ Streamable HTTP

/// The 2025-11-25 revision (sessions, `initialize`).
pub(crate) const LEGACY: &str = "2025-11-25";
/// The 2026-07-28 revision (stateless, `_meta` on every request).
pub(crate) const MODERN: &str = "2026-07-28";

/// A listener on 127.0.0.1 (any port) and its MCP endpoint URL.
pub(crate) async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, format!("http://{addr}/mcp"))
}

/// Serves `app` on `listener` in the background.
pub(crate) fn serve(listener: tokio::net::TcpListener, app: axum::Router) {
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

/// Serves `app` on 127.0.0.1 (any port); returns the MCP endpoint URL.
pub(crate) async fn spawn(app: axum::Router) -> String {
    let (listener, url) = listen().await;
    serve(listener, app);
    url
}

/// A `POST` of JSON that accepts JSON and SSE answers.
pub(crate) fn post(url: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
}

/// The response body, which must be JSON.
pub(crate) async fn json_of(resp: reqwest::Response) -> Value {
    let text = resp.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Sending a request and reading its JSON answer in one step.
pub(crate) trait Exchange {
    /// Sends the request; its answer, which must be JSON.
    fn exchange(self) -> impl std::future::Future<Output = Value> + Send;
}

impl Exchange for reqwest::RequestBuilder {
    async fn exchange(self) -> Value {
        json_of(self.send().await.unwrap()).await
    }
}

/// The JSON-RPC messages of an SSE body; events with empty data (a resumable stream's
/// priming event) carry none, and clients skip them.
pub(crate) fn frames(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| !d.is_empty())
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

/// An `initialize` request at 2025-11-25 with `id` and client `capabilities`.
pub(crate) fn init_body(id: i64, capabilities: Value) -> Value {
    let mut body = json!({"jsonrpc":"2.0","id":id,"method":"initialize","params":{
        "protocolVersion":LEGACY,"capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    body["params"]["capabilities"] = capabilities;
    body
}

/// The `Mcp-Session-Id` of a response, which must have one.
pub(crate) fn session_id(resp: &reqwest::Response) -> String {
    resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A [`post`] inside the 2025-11-25 session `sid`.
pub(crate) fn in_session(url: &str, sid: &str) -> reqwest::RequestBuilder {
    post(url)
        .header("mcp-session-id", sid)
        .header("mcp-protocol-version", LEGACY)
}

/// A 2025-11-25 session: `initialize` (whose result it keeps) then
/// `notifications/initialized`.
pub(crate) struct Session {
    pub(crate) url: String,
    /// `None` for a stateless server.
    pub(crate) id: Option<String>,
    /// The `initialize` result.
    pub(crate) initialize: Value,
}

impl Session {
    pub(crate) async fn open(url: &str) -> Self {
        let resp = post(url)
            .json(&init_body(1, json!({})))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let id = resp
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_owned());
        let initialize = json_of(resp).await["result"].clone();
        assert_eq!(initialize["protocolVersion"], LEGACY);
        let session = Self {
            url: url.to_owned(),
            id,
            initialize,
        };
        let resp = session
            .request()
            .json(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        assert!(resp.text().await.unwrap().is_empty());
        session
    }

    /// A [`post`] inside this session.
    pub(crate) fn request(&self) -> reqwest::RequestBuilder {
        let mut req = post(&self.url).header("mcp-protocol-version", LEGACY);
        if let Some(id) = &self.id {
            req = req.header("mcp-session-id", id);
        }
        req
    }

    /// The whole response body of `method` with `params`.
    pub(crate) async fn call(&self, method: &str, params: Value) -> Value {
        let resp = self
            .request()
            .json(&json!({"jsonrpc":"2.0","id":2,"method":method,"params":params}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{method}");
        json_of(resp).await
    }
}

/// `initialize` then `notifications/initialized`; returns the session id.
pub(crate) async fn open_session(url: &str) -> String {
    Session::open(url)
        .await
        .id
        .expect("a stateful server hands out an Mcp-Session-Id")
}

/// The `_meta` of a 2026-07-28 request: version, no capabilities, client info.
pub(crate) fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}
    })
}

/// A 2026-07-28 request `id` with its routing headers; `params` go as they are.
pub(crate) fn modern_request(
    url: &str,
    id: i64,
    method: &str,
    name: Option<&str>,
    params: &Value,
) -> reqwest::RequestBuilder {
    let mut req = post(url)
        .header("mcp-protocol-version", MODERN)
        .header("mcp-method", method);
    if let Some(name) = name {
        req = req.header("mcp-name", name);
    }
    req.json(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}))
}

/// A 2026-07-28 request (id 7) with [`modern_meta`] as the `_meta` of `params`.
pub(crate) fn modern(
    url: &str,
    method: &str,
    name: Option<&str>,
    mut params: Value,
) -> reqwest::RequestBuilder {
    params["_meta"] = modern_meta();
    modern_request(url, 7, method, name, &params)
}

// ------------------------------------------------------------------ SSE

/// One SSE event: its id, and its message when it carries one.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) id: Option<String>,
    pub(crate) retry: bool,
    pub(crate) message: Option<Value>,
}

/// Reads SSE events from `resp` as they come.
pub(crate) struct Events {
    resp: reqwest::Response,
    buffer: String,
    /// How long to wait for the next event.
    patience: Duration,
}

impl Events {
    pub(crate) fn new(resp: reqwest::Response) -> Self {
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Self {
            resp,
            buffer: String::new(),
            patience: Duration::from_secs(5),
        }
    }

    /// Waits up to `patience` for each event, instead of 5 s.
    pub(crate) fn patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// The next event, `None` once the stream ends; fails after the patience (5 s)
    /// without one.
    pub(crate) async fn next(&mut self) -> Option<Event> {
        self.try_next().await.unwrap()
    }

    /// The next event, `None` once the stream ends, an error when its connection was cut;
    /// fails after the patience without one.
    pub(crate) async fn try_next(&mut self) -> Result<Option<Event>, reqwest::Error> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event {
                    id: None,
                    retry: false,
                    message: None,
                };
                let mut comment = true;
                for line in block.lines() {
                    if let Some(id) = line.strip_prefix("id:") {
                        event.id = Some(id.trim().to_owned());
                    } else if line.starts_with("retry:") {
                        event.retry = true;
                    } else if let Some(data) = line.strip_prefix("data:") {
                        let data = data.trim();
                        if !data.is_empty() {
                            event.message = Some(serde_json::from_str(data).unwrap());
                        }
                    }
                    comment &= line.starts_with(':');
                }
                if comment {
                    continue;
                }
                return Ok(Some(event));
            }
            let chunk = tokio::time::timeout(self.patience, self.resp.chunk())
                .await
                .unwrap_or_else(|_| panic!("an event within {:?}", self.patience))?;
            let Some(chunk) = chunk else {
                return Ok(None);
            };
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Every event until the stream ends.
    pub(crate) async fn rest(mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event);
        }
        events
    }
}

/// `GET` (or another method without a body) with a `POST` builder's headers.
pub(crate) trait SendGet {
    async fn send_get(self) -> reqwest::Response;
    async fn send_get_as(self, method: reqwest::Method) -> reqwest::Response;
}

impl SendGet for reqwest::RequestBuilder {
    async fn send_get(self) -> reqwest::Response {
        self.send_get_as(reqwest::Method::GET).await
    }

    async fn send_get_as(self, method: reqwest::Method) -> reqwest::Response {
        let (client, request) = self.build_split();
        let mut request = request.unwrap();
        *request.method_mut() = method;
        *request.body_mut() = None;
        client.execute(request).await.unwrap()
    }
}

/// OAuth settings for a server at `resource` trusting the test `issuer`, its JWKS and its
/// introspection endpoint (with the issuer's introspection client).
pub(crate) fn trusting(
    issuer: &mcp_runtime::testing::TestIssuer,
    resource: &str,
) -> mcp_runtime::oauth::OAuthConfigBuilder {
    use mcp_runtime::testing::{INTROSPECTION_CLIENT_ID, INTROSPECTION_CLIENT_SECRET};
    mcp_runtime::OAuthConfig::builder()
        .resource(resource)
        .authorization_server(issuer.url())
        .introspection(
            issuer.introspection_endpoint(),
            INTROSPECTION_CLIENT_ID,
            Some(INTROSPECTION_CLIENT_SECRET.into()),
        )
}

// ------------------------------------------------------------------ development sign-in

/// The token response of the development server `dev` (signing its user in itself) to a
/// registered public client, through the code flow with PKCE, for `scope` at `resource`;
/// with `proof` as the token request's `DPoP` header when given.
pub(crate) async fn dev_tokens(
    dev: &mcp_runtime::dev_auth::DevAuthServer,
    resource: &str,
    scope: &str,
    proof: Option<&str>,
) -> Value {
    use base64::Engine as _;
    use sha2::Digest as _;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = "http://127.0.0.1:8978/cb";
    let client: Value = http
        .post(format!("{}/register", dev.issuer()))
        .json(&json!({"redirect_uris": [redirect], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = client["client_id"].as_str().unwrap();
    let verifier = "v".repeat(50);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let authorize = reqwest::Url::parse_with_params(
        &dev.authorization_endpoint(),
        [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("resource", resource),
        ],
    )
    .unwrap();
    let resp = http.get(authorize).send().await.unwrap();
    let location = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let mut request = http.post(dev.token_endpoint()).form(&[
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("code", &code),
        ("redirect_uri", redirect),
        ("code_verifier", &verifier),
        ("resource", resource),
    ]);
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    request.send().await.unwrap().json().await.unwrap()
}
