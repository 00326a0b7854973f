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

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long the server may take to accept connections after it was spawned.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one client run may take (the Python SDK alone needs ~1 s to import).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(90);

/// The workspace root (the parent of this package's `tests/` directory).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("CARGO_MANIFEST_DIR has a parent")
        .to_path_buf()
}

/// `target/<profile>/`: test binaries live in `target/<profile>/deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary has a parent directory");
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("deps/ has a parent")
    } else {
        deps
    };
    dir.to_path_buf()
}

/// Runs `scripts/install-test-tools.sh` once per test process.
fn install_tools() {
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
        panic!("installing the real MCP clients failed; the tests need them:\n{message}");
    }
}

/// Builds (if needed) and returns `target/<profile>/examples/quickstart`.
fn quickstart_binary() -> &'static Path {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = BINARY.get_or_init(|| {
        let profile_dir = profile_dir();
        let binary = profile_dir
            .join("examples")
            .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX));
        // `cargo test` already builds the examples; this makes sure the binary is
        // present and fresh even when only this test target was built.
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("debug")
            .to_owned();
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args([
                "build",
                "--quiet",
                "-p",
                "mcp-tests",
                "--example",
                "quickstart",
            ])
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
                "`cargo build -p mcp-tests --example quickstart` failed ({}):\n{}",
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
    });
    match result {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

/// A free loopback port (bind to port 0, read it, release it).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// The running quickstart example; killed on drop.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Server {
    fn start(test_name: &str) -> Self {
        let binary = quickstart_binary();
        let port = free_port();
        let log_dir = profile_dir().join("real-clients-logs");
        std::fs::create_dir_all(&log_dir).expect("create log dir");
        let log = log_dir.join(format!("{test_name}-server.log"));
        let log_file = std::fs::File::create(&log).expect("create server log");
        let child = Command::new(binary)
            .env("MCP_BIND", format!("127.0.0.1:{port}"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut server = Server {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
            log,
        };
        server.wait_until_listening(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
        server
    }

    fn wait_until_listening(&mut self, addr: SocketAddr) {
        let deadline = Instant::now() + SERVER_START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait on server") {
                panic!(
                    "quickstart exited before listening ({status}); log:\n{}",
                    self.log_text()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "quickstart did not accept connections on {addr} within {SERVER_START_TIMEOUT:?}; log:\n{}",
                self.log_text()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log)
            .unwrap_or_else(|e| format!("<cannot read {}: {e}>", self.log.display()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Output of one finished client process.
struct ClientRun {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` to completion (killing it after [`CLIENT_TIMEOUT`]).
fn run_bounded(mut cmd: Command) -> ClientRun {
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
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait on client") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err_reader.join().unwrap_or_default();
            panic!("{description} did not finish within {CLIENT_TIMEOUT:?}; stderr:\n{stderr}");
        }
        thread::sleep(Duration::from_millis(50));
    };
    ClientRun {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// Runs a client against `server` and parses its single JSON line.
fn run_client(server: &Server, program: &Path, script: &str, extra_args: &[&str]) -> Value {
    let script = repo_root().join("tests").join("e2e").join(script);
    let mut cmd = Command::new(program);
    cmd.arg(&script)
        .arg(&server.url)
        .args(extra_args)
        .current_dir(repo_root());
    let run = run_bounded(cmd);
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
    let line = run
        .stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "{} printed no JSON line ({e}); stdout:\n{}\nstderr:\n{}",
            script.display(),
            run.stdout,
            run.stderr
        )
    })
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

fn python() -> PathBuf {
    repo_root()
        .join(".tools")
        .join("py")
        .join("bin")
        .join("python")
}

#[test]
fn typescript_sdk_client_initialize_session() {
    install_tools();
    let server = Server::start("typescript_sdk_client_initialize_session");
    let node = repo_root().join(".tools").join("bin").join("node");
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
