//! `cargo run --release --manifest-path bench/Cargo.toml [-- options]`: compares mcp-runtime
//! (O) with rmcp (R) and a bare axum + serde_json handler (B, the baseline) in one run.
//!
//! Each server is a child process of this binary (`bench server <kind> --port P`) pinned to
//! one core; the load generator is this process, pinned to another core, on a single-threaded
//! tokio runtime with keep-alive connections. See `bench --help` and README.md
//! ("Performance") for the workloads and what each figure means.

mod bare;
mod client;
mod ours;
mod rmcp_srv;
mod stress;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::Conn;
use serde_json::Value;

const MODERN: &str = "2026-07-28";
const LEGACY: &str = "2025-11-25";
const A: i64 = 1234;
const B: i64 = 4321;
const RMCP_VERSION: &str = "3.11.0";

const USAGE: &str = "\
usage: bench [options]                       run every workload, print the tables
       bench server <kind> --port P [--issuer URL]
       bench load <W1|W1m|W2u|W3|W4|W5> --port P [--style 2026|2025] [--duration S] [--concurrency N]
                  [--tokens FILE [--from I]]
       bench issuer --for-port P --tokens FILE   a test issuer; writes tokens for port P, one a line

options (defaults in brackets):
  --duration S          seconds per timed run [3]
  --runs N              interleaved runs per server and workload [5]
  --warmup S            seconds of load before each timed run [0.3]
  --concurrency N       connections for W1-W5 [32]
  --workloads LIST      comma-separated from W1,W2,W2u,W3,W4,W5,sweep,cold,idle,events [all]
  --sweep LIST          W1 concurrencies for the sweep [1,8,32,128,256]
  --sweep-duration S    seconds per sweep point [2]
  --sessions N          idle sessions opened for the memory figure [10000]
  --cold-starts N       spawns per kind for the cold-start median [10]
  --server-core N       core the servers are pinned to [0]
  --client-core N       core the load generator is pinned to [1]
  --quick               3 runs of 3 s, 1 s sweep points, 2000 sessions, 5 cold starts

server kinds: bare, bare-jwt (B); ours, ours-subscribed, ours-traced, ours-mirrored, ours-stateless, ours-oauth, ours-oauth-small-cache,
              ours-list, ours-redis (O);
              ours-serve, ours-oauth-serve (O under `serve_http`, as in production);
              rmcp, rmcp-stateless, rmcp-list (R)

W2 sends one token again and again (O verifies it once, then answers from its cache); W2u
sends a different token on each request, from a pool of 4 096 that a cache of 1 MiB (about
800 tokens) cannot hold, so that O verifies every request as B-jwt does.

A timed run is repeated (twice at most) when other processes used more than 10% of a core
or the hypervisor took more than 3% of the server's or the client's core (steal time in
/proc/stat); runs still disturbed are counted and the workload's table says so.

W4, W5 and idle also run `ours-redis` (O redis): the same server with its sessions in a
Redis (a `redis-server` of the run's own, pinned to the servers' core, so O redis shares
its core with its store). `events` measures the SSE events a stream carries through that
Redis. `redis-server` comes from Debian's package (`bash scripts/install-test-tools.sh`).

`--workloads stress` (not in the default run, about 2 minutes) measures a legitimate
client's latency beside its idle figure while the server is attacked: a forged-token flood,
slowloris at an open-file limit of 1024, and 1 000 connections.";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("server") => server_main(&args[1..]),
        Some("issuer") => runtime().block_on(issuer_main(&args[1..])),
        Some("load") => {
            let opts = Opts::parse(&args[2..]);
            pin_self(opts.client_core);
            runtime().block_on(load_main(&args[1..], &opts));
        }
        Some("-h" | "--help" | "help") => println!("{USAGE}"),
        _ => {
            let opts = Opts::parse(&args);
            pin_self(opts.client_core);
            runtime().block_on(orchestrate(opts));
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

// ---------------------------------------------------------------------------------------------
// Options

#[derive(Debug, Clone)]
struct Opts {
    duration: f64,
    runs: usize,
    warmup: f64,
    concurrency: usize,
    workloads: Vec<String>,
    sweep: Vec<usize>,
    sweep_duration: f64,
    sessions: usize,
    cold_starts: usize,
    server_core: usize,
    client_core: usize,
    port: u16,
    style: Style,
    /// `bench load W2u`: the file of tokens to send in turn, from the `from`th.
    tokens: Option<String>,
    from: usize,
}

impl Opts {
    fn parse(args: &[String]) -> Self {
        let mut o = Opts {
            duration: 3.0,
            runs: 5,
            warmup: 0.3,
            concurrency: 32,
            workloads: [
                "W1", "W2", "W2u", "W3", "W4", "W5", "sweep", "cold", "idle", "events",
            ]
            .map(String::from)
            .to_vec(),
            sweep: vec![1, 8, 32, 128, 256],
            sweep_duration: 2.0,
            sessions: 10_000,
            cold_starts: 10,
            server_core: 0,
            client_core: 1,
            port: 0,
            style: Style::Modern,
            tokens: None,
            from: 0,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || {
                it.next()
                    .unwrap_or_else(|| die(&format!("{flag} needs a value\n\n{USAGE}")))
                    .clone()
            };
            let num = |v: String| -> f64 {
                v.parse()
                    .unwrap_or_else(|_| die(&format!("{flag}: `{v}` is not a number")))
            };
            match flag.as_str() {
                "--duration" => o.duration = num(value()),
                "--runs" => o.runs = num(value()) as usize,
                "--warmup" => o.warmup = num(value()),
                "--concurrency" => o.concurrency = num(value()) as usize,
                "--workloads" => {
                    o.workloads = value().split(',').map(|s| s.trim().to_owned()).collect();
                }
                "--sweep" => {
                    o.sweep = value()
                        .split(',')
                        .map(|s| num(s.trim().to_owned()) as usize)
                        .collect();
                }
                "--sweep-duration" => o.sweep_duration = num(value()),
                "--sessions" => o.sessions = num(value()) as usize,
                "--cold-starts" => o.cold_starts = num(value()) as usize,
                "--server-core" => o.server_core = num(value()) as usize,
                "--client-core" => o.client_core = num(value()) as usize,
                "--port" => o.port = num(value()) as u16,
                "--tokens" => o.tokens = Some(value()),
                "--from" => o.from = num(value()) as usize,
                "--style" => {
                    o.style = match value().as_str() {
                        "2026" | "modern" => Style::Modern,
                        "2025" | "legacy" => Style::Legacy,
                        v => die(&format!("--style: `{v}` is neither 2026 nor 2025")),
                    }
                }
                "--quick" => {
                    o.runs = 3;
                    o.duration = 3.0;
                    o.sweep_duration = 1.0;
                    o.sessions = 2000;
                    o.cold_starts = 5;
                }
                _ => die(&format!("unknown option `{flag}`\n\n{USAGE}")),
            }
        }
        if o.runs == 0 || o.duration <= 0.0 || o.concurrency == 0 {
            die("--runs, --duration and --concurrency must be positive");
        }
        o
    }

    fn wants(&self, w: &str) -> bool {
        self.workloads.iter().any(|x| x.eq_ignore_ascii_case(w))
    }
}

fn die(msg: &str) -> ! {
    eprintln!("bench: {msg}");
    std::process::exit(2)
}

// ---------------------------------------------------------------------------------------------
// Servers (child processes)

fn server_main(args: &[String]) {
    let kind = args.first().unwrap_or_else(|| die(USAGE)).clone();
    let mut port = 0u16;
    let mut issuer = None;
    let mut it = args[1..].iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--port" => port = it.next().and_then(|p| p.parse().ok()).unwrap_or(0),
            "--issuer" => issuer = it.next().cloned(),
            _ => die(&format!("unknown server option `{flag}`")),
        }
    }
    // The default multi-threaded runtime, as `#[tokio::main]` builds it: one worker per core
    // this process may use, so one worker when pinned to one core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async move {
        use axum::serve::ListenerExt as _;
        if kind.ends_with("-serve") {
            // Served by `serve_http` itself: its accept loop, timeouts and connection cap.
            ours::serve(&kind, port, issuer.as_deref()).await;
            return;
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| die(&format!("{kind}: cannot bind port {port}: {e}")));
        let port = listener.local_addr().expect("a local address").port();
        let issuer = issuer.as_deref();
        let router = match kind.as_str() {
            "bare" | "bare-jwt" => bare::router(&kind, port, issuer).await,
            "ours"
            | "ours-subscribed"
            | "ours-traced"
            | "ours-mirrored"
            | "ours-stateless"
            | "ours-oauth"
            | "ours-oauth-small-cache"
            | "ours-list"
            | "ours-redis" => ours::router(&kind, port, issuer).await,
            "rmcp" | "rmcp-stateless" | "rmcp-list" => rmcp_srv::router(&kind),
            _ => die(&format!("unknown server kind `{kind}`\n\n{USAGE}")),
        };
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, router).await.expect("serving");
    });
}

fn pin_self(core: usize) {
    if let Err(e) = pin(core) {
        eprintln!("bench: cannot pin the load generator to core {core}: {e}");
    }
}

fn pin(core: usize) -> io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET stays within its bounds for
    // core < CPU_SETSIZE, which sched_setaffinity then reads.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

struct Running {
    kind: &'static str,
    port: u16,
    pid: u32,
    /// The Redis it keeps its sessions in, if any.
    store_pid: Option<u32>,
    /// The core it is pinned to, and the load generator's.
    cores: (usize, usize),
    child: tokio::process::Child,
}

impl Running {
    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn spawn_server(kind: &'static str, port: u16, ctx: &Ctx) -> tokio::process::Child {
    spawn_server_with(kind, port, ctx, None)
}

/// [`spawn_server`], with the server's soft open-file limit set to `nofile` when given.
fn spawn_server_with(
    kind: &'static str,
    port: u16,
    ctx: &Ctx,
    nofile: Option<u64>,
) -> tokio::process::Child {
    let exe = std::env::current_exe().expect("the bench binary's path");
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("server")
        .arg(kind)
        .arg("--port")
        .arg(port.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    if kind.ends_with("-jwt") || kind.contains("-oauth") {
        cmd.arg("--issuer").arg(ctx.issuer.url());
    }
    if kind.ends_with("-redis") {
        let redis = ctx
            .redis
            .as_ref()
            .unwrap_or_else(|| die(&format!("{kind} needs the run's redis-server")));
        cmd.env("MCP_REDIS_URL", redis.url());
    }
    let core = ctx.opts.server_core;
    // SAFETY: the closure only calls sched_setaffinity, prctl, getrlimit and setrlimit,
    // which are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            // The server dies with the benchmark, however the benchmark ends.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if let Some(soft) = nofile {
                let mut limit = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit);
                limit.rlim_cur = soft.min(limit.rlim_max);
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            pin(core)
        });
    }
    cmd.spawn()
        .unwrap_or_else(|e| die(&format!("cannot start server {kind}: {e}")))
}

/// Starts a server and waits until it accepts connections.
async fn start(kind: &'static str, ctx: &Ctx) -> Running {
    start_with(kind, ctx, None).await
}

/// [`start`], with the server's soft open-file limit set to `nofile` when given.
async fn start_with(kind: &'static str, ctx: &Ctx, nofile: Option<u64>) -> Running {
    let port = free_port();
    let child = spawn_server_with(kind, port, ctx, nofile);
    let pid = child.id().expect("a running child");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        if Instant::now() > deadline {
            die(&format!(
                "server {kind} did not listen on {addr} within 20 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Running {
        kind,
        port,
        pid,
        store_pid: ctx
            .redis
            .as_ref()
            .filter(|_| kind.ends_with("-redis"))
            .map(RedisServer::pid),
        cores: (ctx.opts.server_core, ctx.opts.client_core),
        child,
    }
}

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| {
            v.trim_start_matches(':')
                .trim()
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system) the process has used.
fn proc_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
    ticks as f64 / hz as f64
}

/// CPU seconds this process (the load generator) has used.
fn self_cpu() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU ticks (user + system) used so far by every process on the machine except this one and
/// its children (the servers). A process that starts and ends between two snapshots is missed;
/// one that starts between them counts with all its time.
fn others_ticks() -> std::collections::HashMap<u32, u64> {
    let me = std::process::id();
    let mut out = std::collections::HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(me) {
            continue; // one of our servers
        }
        if f.first() == Some(&"Z") {
            continue; // a zombie keeps the times it had
        }
        let ticks: u64 = f
            .get(11..13)
            .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
        out.insert(pid, ticks);
    }
    out
}

/// Cores' worth of CPU that other processes used between two [`others_ticks`] snapshots, and
/// the busiest of them (`pid name`).
fn others_cores(before: &std::collections::HashMap<u32, u64>, secs: f64) -> (f64, String) {
    let after = others_ticks();
    let mut busiest = (0, 0);
    let mut ticks = 0;
    for (pid, t) in &after {
        let used = t.saturating_sub(before.get(pid).copied().unwrap_or(0));
        ticks += used;
        if used > busiest.1 {
            busiest = (*pid, used);
        }
    }
    let name = std::fs::read_to_string(format!("/proc/{}/comm", busiest.0)).unwrap_or_default();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
    (
        ticks as f64 / hz as f64 / secs,
        format!("{} {}", busiest.0, name.trim()),
    )
}

// ---------------------------------------------------------------------------------------------
// Requests

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// 2026-07-28: `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` headers and `_meta`.
    Modern,
    /// 2025-11-25 without a session (a stateless server).
    Legacy,
}

impl Style {
    fn label(self) -> &'static str {
        match self {
            Self::Modern => "2026-07-28",
            Self::Legacy => "2025-11-25 stateless",
        }
    }
}

const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

fn call_request(port: u16, style: Style, token: Option<&str>) -> Vec<u8> {
    let args = format!(r#""name":"add","arguments":{{"a":{A},"b":{B}}}"#);
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers: Vec<(&str, &str)> = Vec::new();
    let body = match style {
        Style::Modern => {
            headers.extend([
                ("MCP-Protocol-Version", MODERN),
                ("Mcp-Method", "tools/call"),
                ("Mcp-Name", "add"),
            ]);
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{{args},{META}}}}}"#
            )
        }
        Style::Legacy => {
            headers.push(("MCP-Protocol-Version", LEGACY));
            format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{{args}}}}}"#)
        }
    };
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth));
    }
    client::post(port, &headers, &body)
}

/// W1's 2026-07-28 call with `a` also sent as `Mcp-Param-A`.
fn mirrored_call_request(port: u16) -> Vec<u8> {
    let a = A.to_string();
    let headers = [
        ("MCP-Protocol-Version", MODERN),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "add"),
        ("Mcp-Param-A", a.as_str()),
    ];
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"add","arguments":{{"a":{A},"b":{B}}},{META}}}}}"#
    );
    client::post(port, &headers, &body)
}

fn list_request(port: u16, style: Style) -> Vec<u8> {
    match style {
        Style::Modern => client::post(
            port,
            &[
                ("MCP-Protocol-Version", MODERN),
                ("Mcp-Method", "tools/list"),
            ],
            &format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{{META}}}}}"#),
        ),
        Style::Legacy => client::post(
            port,
            &[("MCP-Protocol-Version", LEGACY)],
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        ),
    }
}

fn init_request(port: u16) -> Vec<u8> {
    client::post(
        port,
        &[],
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0.0.0"}}}"#,
    )
}

fn session_headers(sid: &str) -> [(&str, &str); 2] {
    [("MCP-Protocol-Version", LEGACY), ("Mcp-Session-Id", sid)]
}

fn initialized_request(port: u16, sid: &str) -> Vec<u8> {
    client::post(
        port,
        &session_headers(sid),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    )
}

fn session_call_request(port: u16, sid: &str) -> Vec<u8> {
    client::post(
        port,
        &session_headers(sid),
        &format!(
            r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"add","arguments":{{"a":{A},"b":{B}}}}}}}"#
        ),
    )
}

fn delete_request(port: u16, sid: &str) -> Vec<u8> {
    client::delete(port, &session_headers(sid))
}

fn status_error(what: &str, status: u16, conn: &Conn) -> io::Error {
    let body = String::from_utf8_lossy(&conn.body);
    let body: String = body.chars().take(300).collect();
    io::Error::other(format!("{what}: HTTP {status}: {body}"))
}

async fn expect(conn: &mut Conn, req: &[u8], what: &str, ok: fn(u16) -> bool) -> io::Result<()> {
    let status = conn.request(req).await?;
    if ok(status) {
        Ok(())
    } else {
        Err(status_error(what, status, conn))
    }
}

fn is_200(s: u16) -> bool {
    s == 200
}
fn is_202(s: u16) -> bool {
    s == 202
}
fn is_2xx(s: u16) -> bool {
    (200..300).contains(&s)
}

/// `initialize` then `notifications/initialized`; the session id.
async fn open_session(conn: &mut Conn, port: u16) -> io::Result<String> {
    expect(conn, &init_request(port), "initialize", is_200).await?;
    let sid = conn
        .session
        .take()
        .ok_or_else(|| io::Error::other("initialize answered without Mcp-Session-Id"))?;
    expect(
        conn,
        &initialized_request(port, &sid),
        "notifications/initialized",
        is_202,
    )
    .await?;
    Ok(sid)
}

/// W4's unit: a whole session.
async fn session_cycle(conn: &mut Conn, port: u16) -> io::Result<()> {
    let sid = open_session(conn, port).await?;
    expect(
        conn,
        &session_call_request(port, &sid),
        "tools/call",
        is_200,
    )
    .await?;
    expect(conn, &delete_request(port, &sid), "DELETE", is_2xx).await
}

// ---------------------------------------------------------------------------------------------
// Checks made before anything is timed

fn check_call(msg: Option<Value>) -> Result<(), String> {
    let msg = msg.ok_or("the answer is not a JSON-RPC message")?;
    let result = &msg["result"];
    let want = A + B;
    if result["structuredContent"]["sum"].as_i64() != Some(want) {
        return Err(format!("structuredContent.sum is not {want}: {msg}"));
    }
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    let parsed: Value = serde_json::from_str(text).unwrap_or_default();
    if parsed["sum"].as_i64() != Some(want) || result["isError"] == true {
        return Err(format!("content[0].text is not {{\"sum\":{want}}}: {msg}"));
    }
    Ok(())
}

fn check_list(msg: Option<Value>) -> Result<(), String> {
    let msg = msg.ok_or("the answer is not a JSON-RPC message")?;
    let tools = msg["result"]["tools"]
        .as_array()
        .ok_or_else(|| format!("no result.tools: {msg}"))?;
    let mut names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let schemas = tools
        .iter()
        .filter(|t| t["inputSchema"]["properties"]["a"].is_object())
        .count();
    if tools.len() != 100 || names.len() != 100 || schemas != 100 {
        return Err(format!(
            "{} tools, {} distinct names, {} input schemas; expected 100 of each",
            tools.len(),
            names.len(),
            schemas
        ));
    }
    Ok(())
}

fn fail(what: &str, why: impl std::fmt::Display) -> ! {
    eprintln!("\nbench: ABORTED: {what}: {why}");
    std::process::exit(1)
}

/// One correct answer from the variant's server, or abort; returns the answer's body size.
async fn verify(v: &Variant, server: &Running, ctx: &Ctx) -> usize {
    let what = format!("{} ({}) on `{}`", v.label, v.workload, server.kind);
    let result: Result<usize, String> = async {
        let mut conn = Conn::connect(server.addr())
            .await
            .map_err(|e| e.to_string())?;
        let port = server.port;
        match v.workload {
            "W1" | "W2" | "W2u" => {
                let token = (v.workload != "W1").then(|| ctx.token(port));
                if token.is_some() {
                    // Without a token: refused.
                    let req = call_request(port, v.style, None);
                    let status = conn.request(&req).await.map_err(|e| e.to_string())?;
                    if status != 401 {
                        return Err(format!(
                            "a request without a token got HTTP {status}, not 401"
                        ));
                    }
                }
                if v.kind == "ours-mirrored" {
                    // Without its header: refused.
                    let req = call_request(port, v.style, None);
                    let status = conn.request(&req).await.map_err(|e| e.to_string())?;
                    if status != 400 {
                        return Err(format!(
                            "a call without `Mcp-Param-A` got HTTP {status}, not 400"
                        ));
                    }
                }
                let req = if v.kind == "ours-mirrored" {
                    mirrored_call_request(port)
                } else {
                    call_request(port, v.style, token.as_deref())
                };
                let status = conn.request(&req).await.map_err(|e| e.to_string())?;
                if status != 200 {
                    return Err(status_error("tools/call", status, &conn).to_string());
                }
                check_call(conn.message())?;
                Ok(conn.body.len())
            }
            "W3" => {
                let status = conn
                    .request(&list_request(port, v.style))
                    .await
                    .map_err(|e| e.to_string())?;
                if status != 200 {
                    return Err(status_error("tools/list", status, &conn).to_string());
                }
                check_list(conn.message())?;
                Ok(conn.body.len())
            }
            _ => {
                // W4, W5: a whole session, and the session is gone after DELETE.
                expect(&mut conn, &init_request(port), "initialize", is_200)
                    .await
                    .map_err(|e| e.to_string())?;
                let msg = conn.message().ok_or("initialize: not a JSON-RPC message")?;
                if !msg["result"]["protocolVersion"].is_string() {
                    return Err(format!("initialize: no protocolVersion: {msg}"));
                }
                let sid = conn.session.take().ok_or("initialize: no Mcp-Session-Id")?;
                expect(
                    &mut conn,
                    &initialized_request(port, &sid),
                    "initialized",
                    is_202,
                )
                .await
                .map_err(|e| e.to_string())?;
                let call = session_call_request(port, &sid);
                expect(&mut conn, &call, "tools/call", is_200)
                    .await
                    .map_err(|e| e.to_string())?;
                check_call(conn.message())?;
                let size = conn.body.len();
                expect(&mut conn, &delete_request(port, &sid), "DELETE", is_2xx)
                    .await
                    .map_err(|e| e.to_string())?;
                let status = conn.request(&call).await.map_err(|e| e.to_string())?;
                if status != 404 {
                    return Err(format!(
                        "a call in a deleted session got HTTP {status}, not 404"
                    ));
                }
                Ok(size)
            }
        }
    }
    .await;
    result.unwrap_or_else(|why| fail(&what, why))
}

// ---------------------------------------------------------------------------------------------
// Load

#[derive(Clone)]
enum Op {
    /// The same request again and again, answered 200.
    Repeat(Arc<Vec<u8>>),
    /// W2u: the requests in turn, connection `k` of `n` sending those at `k`, `k + n`, …
    /// so that no request repeats before all were sent.
    Rotate(Arc<Vec<Vec<u8>>>),
    /// W4: initialize, notifications/initialized, tools/call, DELETE.
    Session,
    /// W5: tools/call in a session each connection opens before timing.
    InSession,
}

struct RunStats {
    ops: u64,
    /// The larger share of the server's and the client's core the hypervisor took.
    steal: f64,
    secs: f64,
    lats: Vec<u64>,
    server_cpu: f64,
    client_cpu: f64,
    /// Cores the server's Redis used meanwhile.
    store_cpu: f64,
    /// Cores used by other processes on the machine meanwhile.
    others: f64,
    /// The busiest of them.
    busiest: String,
}

async fn worker(
    addr: SocketAddr,
    op: Op,
    (k, n): (usize, usize),
    measure_from: Instant,
    end: Instant,
) -> io::Result<(u64, Vec<u64>)> {
    let mut conn = Conn::connect(addr).await?;
    let port = addr.port();
    let mut next = k;
    let req = match &op {
        Op::Repeat(req) => Arc::clone(req),
        Op::Rotate(_) => Arc::new(Vec::new()),
        Op::InSession => {
            let sid = open_session(&mut conn, port).await?;
            Arc::new(session_call_request(port, &sid))
        }
        Op::Session => Arc::new(Vec::new()),
    };
    let mut ops = 0;
    let mut lats = Vec::with_capacity(16 * 1024);
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        match &op {
            Op::Repeat(_) | Op::InSession => {
                let status = conn.request(&req).await?;
                if status != 200 {
                    return Err(status_error("request", status, &conn));
                }
            }
            Op::Rotate(reqs) => {
                let status = conn.request(&reqs[next]).await?;
                if status != 200 {
                    return Err(status_error("request", status, &conn));
                }
                next = (next + n) % reqs.len();
            }
            Op::Session => session_cycle(&mut conn, port).await?,
        }
        if t0 >= measure_from {
            ops += 1;
            lats.push(t0.elapsed().as_nanos() as u64);
        }
    }
    Ok((ops, lats))
}

async fn run_load(
    server: &Running,
    op: &Op,
    concurrency: usize,
    warmup: f64,
    secs: f64,
    what: &str,
) -> RunStats {
    let others0 = others_ticks();
    let steal0 = cpu_ticks();
    let (srv0, cli0, t0) = (proc_cpu(server.pid), self_cpu(), Instant::now());
    let store0 = server.store_pid.map_or(0.0, proc_cpu);
    let measure_from = t0 + Duration::from_secs_f64(warmup);
    let end = measure_from + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..concurrency)
        .map(|k| {
            tokio::spawn(worker(
                server.addr(),
                op.clone(),
                (k, concurrency),
                measure_from,
                end,
            ))
        })
        .collect();
    let mut ops = 0;
    let mut lats = Vec::new();
    for task in tasks {
        match task.await.expect("a load task") {
            Ok((n, l)) => {
                ops += n;
                lats.extend(l);
            }
            Err(e) => fail(&format!("{what} on `{}` under load", server.kind), e),
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let (others, busiest) = others_cores(&others0, wall);
    let steal = steal_share(&steal0, &cpu_ticks(), server.cores.0, server.cores.1);
    RunStats {
        ops,
        steal,
        secs,
        lats,
        server_cpu: (proc_cpu(server.pid) - srv0) / wall,
        client_cpu: (self_cpu() - cli0) / wall,
        store_cpu: (server.store_pid.map_or(0.0, proc_cpu) - store0) / wall,
        others,
        busiest,
    }
}

/// Other processes may use at most this many cores during a timed run; a run that saw more
/// is repeated (see [`measured`]).
const QUIET: f64 = 0.10;
/// The most of the server's or the client's core the hypervisor may take (steal time)
/// during a timed run; a run that lost more is repeated.
const STEAL_MAX: f64 = 0.03;

/// Per CPU (`cpuN` of /proc/stat): ticks stolen by the hypervisor, and all ticks.
fn cpu_ticks() -> Vec<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    stat.lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        .map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal (guest time is inside user).
            let total = f.iter().take(8).sum();
            (f.get(7).copied().unwrap_or(0), total)
        })
        .collect()
}

/// The larger share of ticks stolen from core `a` or `b` between two [`cpu_ticks`].
fn steal_share(before: &[(u64, u64)], after: &[(u64, u64)], a: usize, b: usize) -> f64 {
    [a, b]
        .iter()
        .filter_map(|&c| {
            let (s0, t0) = before.get(c)?;
            let (s1, t1) = after.get(c)?;
            let total = t1.saturating_sub(*t0);
            (total > 0).then(|| s1.saturating_sub(*s0) as f64 / total as f64)
        })
        .fold(0.0, f64::max)
}

/// Whether a run was disturbed: by other processes, or by the hypervisor.
fn disturbed(others: f64, steal: f64) -> bool {
    others > QUIET || steal > STEAL_MAX
}
/// Repeats of disturbed runs allowed in one benchmark, so that a busy machine still ends.
const MAX_REPEATS: usize = 40;

/// [`run_load`], repeated up to twice when other processes disturbed it.
async fn measured(
    server: &Running,
    op: &Op,
    concurrency: usize,
    warmup: f64,
    secs: f64,
    what: &str,
    repeats: &std::cell::Cell<usize>,
) -> RunStats {
    let mut attempt = 0;
    loop {
        let stats = run_load(server, op, concurrency, warmup, secs, what).await;
        if !disturbed(stats.others, stats.steal) || attempt == 2 || repeats.get() >= MAX_REPEATS {
            return stats;
        }
        attempt += 1;
        repeats.set(repeats.get() + 1);
        eprintln!(
            "  {what}: other processes used {:.0}% of a core (busiest: {}), steal {:.1}%; \
             repeating the run",
            stats.others * 100.0,
            stats.busiest,
            stats.steal * 100.0
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Orchestration

struct Ctx {
    opts: Opts,
    issuer: mcp_runtime::testing::TestIssuer,
    /// The Redis of the `ours-redis` servers, when a workload needs one.
    redis: Option<RedisServer>,
    /// Runs repeated because other processes disturbed them.
    repeats: std::cell::Cell<usize>,
    /// W2u's requests, per server port, signed once.
    pools: std::cell::RefCell<std::collections::HashMap<u16, Arc<Vec<Vec<u8>>>>>,
}

/// The distinct tokens W2u sends in turn: more than its O server's cache holds.
const TOKEN_POOL: usize = 4096;

impl Ctx {
    fn token(&self, port: u16) -> String {
        self.issuer
            .token()
            .subject("bench")
            .audience(&format!("http://127.0.0.1:{port}/mcp"))
            .scopes(["mcp:tools"])
            .sign()
    }

    /// [`TOKEN_POOL`] requests, each with a token of its own (another subject and `jti`).
    fn distinct_token_requests(&self, port: u16, style: Style) -> Vec<Vec<u8>> {
        (0..TOKEN_POOL)
            .map(|i| {
                let token = self
                    .issuer
                    .token()
                    .subject(&format!("bench-{i}"))
                    .claim("jti", Value::from(format!("w2u-{port}-{i}")))
                    .audience(&format!("http://127.0.0.1:{port}/mcp"))
                    .scopes(["mcp:tools"])
                    .sign();
                call_request(port, style, Some(&token))
            })
            .collect()
    }
}

#[derive(Clone)]
struct Variant {
    workload: &'static str,
    label: &'static str,
    kind: &'static str,
    style: Style,
    /// The label of the baseline variant this one is compared with (itself for baselines).
    baseline: &'static str,
}

impl Variant {
    fn op(&self, port: u16, ctx: &Ctx) -> Op {
        match self.workload {
            "W1" if self.kind == "ours-mirrored" => {
                Op::Repeat(Arc::new(mirrored_call_request(port)))
            }
            "W1" => Op::Repeat(Arc::new(call_request(port, self.style, None))),
            "W2" => Op::Repeat(Arc::new(call_request(
                port,
                self.style,
                Some(&ctx.token(port)),
            ))),
            "W2u" => Op::Rotate(Arc::clone(
                ctx.pools
                    .borrow_mut()
                    .entry(port)
                    .or_insert_with(|| Arc::new(ctx.distinct_token_requests(port, self.style))),
            )),
            "W3" => Op::Repeat(Arc::new(list_request(port, self.style))),
            "W4" => Op::Session,
            "W5" => Op::InSession,
            w => unreachable!("{w}"),
        }
    }
}

fn v(
    workload: &'static str,
    label: &'static str,
    kind: &'static str,
    style: Style,
    baseline: &'static str,
) -> Variant {
    Variant {
        workload,
        label,
        kind,
        style,
        baseline,
    }
}

fn variants(workload: &str) -> Vec<Variant> {
    use Style::{Legacy, Modern};
    match workload {
        // Each O right after its baseline (and right before it in the reversed runs).
        "W1" => vec![
            v("W1", "B 2026", "bare", Modern, "B 2026"),
            v("W1", "O 2026", "ours", Modern, "B 2026"),
            v("W1", "O 2026 subscribed", "ours-subscribed", Modern, "B 2026"),
            v("W1", "O 2026 traced", "ours-traced", Modern, "B 2026"),
            v("W1", "O 2026 mirrored", "ours-mirrored", Modern, "B 2026"),
            v("W1", "R 2026", "rmcp", Modern, "B 2026"),
            v("W1", "B 2025", "bare", Legacy, "B 2025"),
            v("W1", "O 2025 stateless", "ours-stateless", Legacy, "B 2025"),
            v("W1", "R 2025 stateless", "rmcp-stateless", Legacy, "B 2025"),
        ],
        "W2" => vec![
            v("W2", "B-jwt 2026", "bare-jwt", Modern, "B-jwt 2026"),
            v("W2", "O-oauth 2026", "ours-oauth", Modern, "B-jwt 2026"),
        ],
        "W2u" => vec![
            v("W2u", "B-jwt 2026", "bare-jwt", Modern, "B-jwt 2026"),
            v(
                "W2u",
                "O-oauth 2026",
                "ours-oauth-small-cache",
                Modern,
                "B-jwt 2026",
            ),
        ],
        "W3" => vec![
            v("W3", "B 2026", "bare", Modern, "B 2026"),
            v("W3", "O 2026", "ours-list", Modern, "B 2026"),
            v("W3", "R 2026", "rmcp-list", Modern, "B 2026"),
            v("W3", "B 2025", "bare", Legacy, "B 2025"),
            v("W3", "O 2025 stateless", "ours-list", Legacy, "B 2025"),
            v("W3", "R 2025 stateless", "rmcp-list", Legacy, "B 2025"),
        ],
        "W4" | "W5" => {
            let w = if workload == "W4" { "W4" } else { "W5" };
            vec![
                v(w, "B", "bare", Legacy, "B"),
                v(w, "O", "ours", Legacy, "B"),
                v(w, "O redis", "ours-redis", Legacy, "B"),
                v(w, "R", "rmcp", Legacy, "B"),
            ]
        }
        _ => unreachable!(),
    }
}

const TITLES: [(&str, &str); 6] = [
    ("W1", "tools/call add, stateless, no auth (req/s)"),
    ("W2", "tools/call add + Bearer RS256 JWT, one token (req/s)"),
    (
        "W2u",
        "tools/call add + Bearer RS256 JWT, a different token each request (req/s)",
    ),
    ("W3", "tools/list, 100 tools (req/s)"),
    (
        "W4",
        "whole 2025-11-25 session: initialize, initialized, tools/call, DELETE (sessions/s)",
    ),
    (
        "W5",
        "tools/call inside established 2025-11-25 sessions (req/s)",
    ),
];

struct Outcome {
    label: &'static str,
    baseline: &'static str,
    kind: &'static str,
    throughput: Vec<f64>,
    lats: Vec<u64>,
    server_cpu: Vec<f64>,
    client_cpu: Vec<f64>,
    /// Per run: CPU seconds the server's Redis used per operation.
    store_cpu_per_op: Vec<f64>,
    others: Vec<f64>,
    /// Per run: the share of the server's or client's core stolen by the hypervisor.
    steal: Vec<f64>,
    peak_rss_kib: u64,
    body_bytes: usize,
}

impl Outcome {
    fn median(&self) -> f64 {
        median(&self.throughput)
    }

    /// Timed runs kept although other processes or the hypervisor disturbed them.
    fn disturbed_runs(&self) -> usize {
        self.others
            .iter()
            .zip(&self.steal)
            .filter(|(o, s)| disturbed(**o, **s))
            .count()
    }
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64
}

/// One untimed second of load on each fresh server: the first seconds of a new process
/// (page faults, allocator growth, caches) are slower than the rest, for every server alike.
async fn warm_up(vs: &[Variant], servers: &[Running], ctx: &Ctx) {
    for (v, server) in vs.iter().zip(servers) {
        let op = v.op(server.port, ctx);
        let what = format!("{} {} (warm-up)", v.workload, v.label);
        run_load(server, &op, ctx.opts.concurrency, 0.0, WARM_UP_SECS, &what).await;
    }
}

const WARM_UP_SECS: f64 = 1.0;

/// Runs one workload: its servers start, each answers correctly once, then `runs` timed runs
/// alternate between them (in reverse order every other run).
async fn workload(name: &'static str, ctx: &Ctx) -> Vec<Outcome> {
    let o = &ctx.opts;
    let vs = variants(name);
    let mut servers = Vec::new();
    let mut outcomes = Vec::new();
    for v in &vs {
        let server = start(v.kind, ctx).await;
        let body_bytes = verify(v, &server, ctx).await;
        outcomes.push(Outcome {
            label: v.label,
            baseline: v.baseline,
            kind: v.kind,
            throughput: Vec::new(),
            lats: Vec::new(),
            server_cpu: Vec::new(),
            client_cpu: Vec::new(),
            store_cpu_per_op: Vec::new(),
            others: Vec::new(),
            steal: Vec::new(),
            peak_rss_kib: 0,
            body_bytes,
        });
        servers.push(server);
    }
    eprintln!(
        "[{name}] {} servers answer correctly; {} runs of {} s at concurrency {}",
        vs.len(),
        o.runs,
        o.duration,
        o.concurrency
    );
    warm_up(&vs, &servers, ctx).await;
    for run in 0..o.runs {
        let order: Vec<usize> = if run % 2 == 0 {
            (0..vs.len()).collect()
        } else {
            (0..vs.len()).rev().collect()
        };
        for i in order {
            let op = vs[i].op(servers[i].port, ctx);
            let what = format!("{name} {}", vs[i].label);
            let stats = measured(
                &servers[i],
                &op,
                o.concurrency,
                o.warmup,
                o.duration,
                &what,
                &ctx.repeats,
            )
            .await;
            let out = &mut outcomes[i];
            eprintln!(
                "  {what}: {:.0} ops/s (server CPU {:.0}%, others {:.0}%, steal {:.1}%){}",
                stats.ops as f64 / stats.secs,
                stats.server_cpu * 100.0,
                stats.others * 100.0,
                stats.steal * 100.0,
                if disturbed(stats.others, stats.steal) {
                    " DISTURBED"
                } else {
                    ""
                }
            );
            out.throughput.push(stats.ops as f64 / stats.secs);
            out.lats.extend(stats.lats);
            out.server_cpu.push(stats.server_cpu);
            out.client_cpu.push(stats.client_cpu);
            out.store_cpu_per_op
                .push(stats.store_cpu * stats.secs / stats.ops.max(1) as f64);
            out.others.push(stats.others);
            out.steal.push(stats.steal);
        }
        eprintln!("[{name}] run {}/{} done", run + 1, o.runs);
    }
    for (out, server) in outcomes.iter_mut().zip(servers) {
        out.peak_rss_kib = proc_status_kib(server.pid, "VmHWM");
        out.lats.sort_unstable();
        server.stop().await;
    }
    outcomes
}

/// Server CPU seconds per operation, in µs: the median run's CPU share over its rate.
fn per_op(out: &Outcome) -> f64 {
    median(&out.server_cpu) / out.median() * 1e6
}

fn find_any(results: &[(&'static str, Vec<Outcome>)], label: &str) -> bool {
    results
        .iter()
        .any(|(_, outs)| outs.iter().any(|x| x.label == label))
}

// ---------------------------------------------------------------------------------------------
// The Redis store

/// The run's own `redis-server`, saving nothing, pinned to `core`; killed with the run.
struct RedisServer {
    port: u16,
    pid: u32,
    _child: tokio::process::Child,
    conn: redis::aio::MultiplexedConnection,
}

impl RedisServer {
    async fn start(core: usize) -> Self {
        let port = free_port();
        let mut cmd = tokio::process::Command::new("redis-server");
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true);
        // SAFETY: the closure only calls prctl and sched_setaffinity, which are
        // async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                pin(core)
            });
        }
        let child = cmd.spawn().unwrap_or_else(|e| {
            die(&format!(
                "cannot start redis-server ({e}); install it with `bash scripts/install-test-tools.sh` \
                 or `apt-get install redis-server`"
            ))
        });
        let url = format!("redis://127.0.0.1:{port}/");
        let deadline = Instant::now() + Duration::from_secs(10);
        let conn = loop {
            let client = redis::Client::open(url.as_str()).expect("a Redis URL");
            match client.get_multiplexed_async_connection().await {
                Ok(conn) => break conn,
                Err(e) if Instant::now() > deadline => fail("redis-server", e),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        Self {
            port,
            pid: child.id().expect("a running redis-server"),
            _child: child,
            conn,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn pid(&self) -> u32 {
        self.pid
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &mut redis::Cmd) -> T {
        cmd.query_async(&mut self.conn.clone())
            .await
            .unwrap_or_else(|e| fail("redis-server", e))
    }

    async fn flush(&self) {
        self.query::<()>(&mut redis::cmd("FLUSHALL")).await;
    }

    /// `used_memory`, in bytes.
    async fn used_memory(&self) -> f64 {
        let info: String = self.query(redis::cmd("INFO").arg("memory")).await;
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| fail("redis-server", "INFO memory has no used_memory"))
    }

    /// How many sessions the store counts.
    async fn sessions(&self) -> u64 {
        self.query(redis::cmd("ZCARD").arg("mcp:sessions")).await
    }

    /// How many entries stream `key` was ever given (its last id is `0-<n>`).
    async fn stream_entries(&self, key: &str) -> u64 {
        let info: redis::streams::StreamInfoStreamReply =
            self.query(redis::cmd("XINFO").arg("STREAM").arg(key)).await;
        info.last_generated_id
            .strip_prefix("0-")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    async fn stream_keys(&self) -> Vec<String> {
        self.query(redis::cmd("KEYS").arg("mcp:e:*")).await
    }
}

/// What one stream carried through the store.
struct StoreEvents {
    sent: u64,
    /// Events per second the client read from the call's stream.
    read: f64,
    stored: u64,
    /// Events per second that reached the Redis stream.
    stored_rate: f64,
}

/// The `burst` tool sends its progress notifications as fast as it can on a call stream of
/// an `ours-redis` server: how fast the client reads them, and how fast they reach Redis.
async fn store_events(ctx: &Ctx) -> StoreEvents {
    const SENT: u32 = 20_000;
    let redis = ctx.redis.as_ref().expect("started for events");
    redis.flush().await;
    let server = start("ours-redis", ctx).await;
    let url = format!("http://127.0.0.1:{}/mcp", server.port);
    let http = reqwest::Client::new();
    let post = |body: String, sid: Option<&str>| {
        let mut req = http
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body);
        if let Some(sid) = sid {
            req = req
                .header("mcp-session-id", sid)
                .header("mcp-protocol-version", LEGACY);
        }
        req.send()
    };
    let init = post(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0.0.0"}}}"#.into(),
        None,
    )
    .await
    .unwrap_or_else(|e| fail("events: initialize", e));
    let sid = init
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| fail("events", "initialize answered without a session"))
        .to_owned();
    post(
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.into(),
        Some(&sid),
    )
    .await
    .unwrap_or_else(|e| fail("events: initialized", e));
    let started = Instant::now();
    let mut resp = post(
        format!(
            r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"burst","arguments":{{"n":{SENT}}},"_meta":{{"progressToken":1}}}}}}"#
        ),
        Some(&sid),
    )
    .await
    .unwrap_or_else(|e| fail("events: tools/call burst", e));
    let mut read = 0u64;
    let mut tail = String::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .unwrap_or_else(|e| fail("events: the call's stream", e))
    {
        tail.push_str(&String::from_utf8_lossy(&chunk));
        let cut = tail.rfind('\n').map_or(0, |i| i + 1);
        read += tail[..cut].matches("notifications/progress").count() as u64;
        tail.drain(..cut);
    }
    let read_secs = started.elapsed().as_secs_f64();
    if read != u64::from(SENT) {
        fail(
            "events",
            format!("the client read {read} of {SENT} notifications"),
        );
    }
    // Every notification, and the stream's opening, response and end, are entries.
    let key = redis
        .stream_keys()
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| fail("events", "no stream in Redis"));
    let want = u64::from(SENT) + 3;
    let mut stored = redis.stream_entries(&key).await;
    let mut last_change = Instant::now();
    while stored < want && last_change.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let now = redis.stream_entries(&key).await;
        if now != stored {
            stored = now;
            last_change = Instant::now();
        }
    }
    let stored_secs = last_change.duration_since(started).as_secs_f64();
    server.stop().await;
    let stored = stored.saturating_sub(3).min(u64::from(SENT));
    eprintln!("[events] {read} read in {read_secs:.3} s, {stored} stored in {stored_secs:.3} s");
    StoreEvents {
        sent: u64::from(SENT),
        read: read as f64 / read_secs,
        stored,
        stored_rate: stored as f64 / stored_secs,
    }
}

/// The median over runs of `out`'s throughput divided by its baseline's in the same run:
/// each pair was measured minutes apart at most, so a machine that changes speed between
/// runs moves both.
fn paired(out: &Outcome, base: &Outcome) -> f64 {
    let ratios: Vec<f64> = out
        .throughput
        .iter()
        .zip(&base.throughput)
        .filter(|(_, b)| **b > 0.0)
        .map(|(o, b)| o / b)
        .collect();
    median(&ratios)
}

fn times(r: f64) -> String {
    if r.is_finite() {
        format!("{r:.2}×")
    } else {
        "–".into()
    }
}

fn ratio(x: f64, base: f64) -> String {
    if base > 0.0 && x.is_finite() && base.is_finite() {
        format!("{:.2}×", x / base)
    } else {
        "–".into()
    }
}

fn print_workload(name: &str, outs: &[Outcome], ctx: &Ctx) {
    let o = &ctx.opts;
    let title = TITLES.iter().find(|(w, _)| *w == name).map_or("", |t| t.1);
    println!("\n### {name}: {title}\n");
    println!(
        "concurrency {}, {} interleaved runs of {} s after 1 s of untimed load per server; \
         ops/s median, spread = (max − min) / median; latency over all timed requests; \
         × = ratio to the baseline row named in `vs` (for ops/s, the median of the runs' ratios, \
         each run's pair measured one after the other); CPU in % of one core: server and load \
         generator (medians), other processes (worst run); steal: the most of the server's or \
         client's core the hypervisor took in a run; disturbed: runs kept although disturbed",
        o.concurrency, o.runs, o.duration
    );
    println!();
    println!(
        "| server | vs | ops/s | spread | × | p50 µs | × | p99 µs | × | peak RSS MiB | × | CPU server / client / other | steal | disturbed | body B |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for out in outs {
        let base = outs.iter().find(|b| b.label == out.baseline).unwrap_or(out);
        let (p50, p99) = (
            percentile(&out.lats, 0.5) / 1e3,
            percentile(&out.lats, 0.99) / 1e3,
        );
        let (bp50, bp99) = (
            percentile(&base.lats, 0.5) / 1e3,
            percentile(&base.lats, 0.99) / 1e3,
        );
        let med = out.median();
        let min = out.throughput.iter().copied().fold(f64::INFINITY, f64::min);
        let max = out.throughput.iter().copied().fold(0.0, f64::max);
        let rss = out.peak_rss_kib as f64 / 1024.0;
        let base_rss = base.peak_rss_kib as f64 / 1024.0;
        println!(
            "| {} `{}` | {} | {:.0} | {:.1}% | {} | {:.0} | {} | {:.0} | {} | {:.1} | {} | {:.0}% / {:.0}% / {:.0}% | {:.1}% | {} | {} |",
            out.label,
            out.kind,
            if out.label == out.baseline {
                "–"
            } else {
                out.baseline
            },
            med,
            (max - min) / med * 100.0,
            times(paired(out, base)),
            p50,
            ratio(p50, bp50),
            p99,
            ratio(p99, bp99),
            rss,
            ratio(rss, base_rss),
            median(&out.server_cpu) * 100.0,
            median(&out.client_cpu) * 100.0,
            out.others.iter().copied().fold(0.0, f64::max) * 100.0,
            out.steal.iter().copied().fold(0.0, f64::max) * 100.0,
            out.disturbed_runs(),
            out.body_bytes,
        );
    }
}

async fn cold_starts(ctx: &Ctx) -> Vec<(&'static str, Vec<f64>)> {
    let kinds: [&'static str; 9] = [
        "bare",
        "bare-jwt",
        "ours",
        "ours-stateless",
        "ours-oauth",
        "ours-list",
        "rmcp",
        "rmcp-stateless",
        "rmcp-list",
    ];
    let mut out: Vec<(&'static str, Vec<f64>)> = kinds.iter().map(|k| (*k, Vec::new())).collect();
    for i in 0..ctx.opts.cold_starts {
        for (kind, times) in &mut out {
            let port = free_port();
            let kind: &'static str = kind;
            let (req, list) = match kind {
                "ours-list" | "rmcp-list" => (list_request(port, Style::Modern), true),
                "ours-stateless" | "rmcp-stateless" => {
                    (call_request(port, Style::Legacy, None), false)
                }
                "bare-jwt" | "ours-oauth" => (
                    call_request(port, Style::Modern, Some(&ctx.token(port))),
                    false,
                ),
                _ => (call_request(port, Style::Modern, None), false),
            };
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let t0 = Instant::now();
            let mut child = spawn_server(kind, port, ctx);
            let deadline = t0 + Duration::from_secs(20);
            let elapsed = loop {
                if Instant::now() > deadline {
                    fail(&format!("cold start of `{kind}`"), "no answer within 20 s");
                }
                let Ok(mut conn) = Conn::connect(addr).await else {
                    tokio::task::yield_now().await;
                    continue;
                };
                match conn.request(&req).await {
                    Ok(200) => {
                        let elapsed = t0.elapsed();
                        let check = if list {
                            check_list(conn.message())
                        } else {
                            check_call(conn.message())
                        };
                        if let Err(why) = check {
                            fail(&format!("cold start of `{kind}`"), why);
                        }
                        break elapsed;
                    }
                    _ => tokio::task::yield_now().await,
                }
            };
            let _ = child.kill().await;
            times.push(elapsed.as_secs_f64() * 1e3);
        }
        eprintln!("[cold] round {}/{} done", i + 1, ctx.opts.cold_starts);
    }
    out
}

/// RSS growth per open idle 2025-11-25 session.
async fn idle_sessions(kind: &'static str, ctx: &Ctx) -> (f64, f64, f64, f64) {
    let n = ctx.opts.sessions;
    let server = start(kind, ctx).await;
    let conc = ctx.opts.concurrency.min(n.max(1));
    // Connections (and one session each) first, so that their buffers are not counted.
    let mut conns = Vec::new();
    for _ in 0..conc {
        let mut conn = Conn::connect(server.addr())
            .await
            .unwrap_or_else(|e| fail(kind, e));
        open_session(&mut conn, server.port)
            .await
            .unwrap_or_else(|e| fail(&format!("idle sessions on `{kind}`"), e));
        conns.push(conn);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = proc_status_kib(server.pid, "VmRSS");
    let t0 = Instant::now();
    let per = n / conc;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut conn)| {
            let port = server.port;
            let count = per + usize::from(i < n % conc);
            tokio::spawn(async move {
                for _ in 0..count {
                    open_session(&mut conn, port).await?;
                }
                Ok::<_, io::Error>(conn)
            })
        })
        .collect();
    let mut keep = Vec::new();
    for task in tasks {
        keep.push(
            task.await
                .expect("a session task")
                .unwrap_or_else(|e| fail(&format!("idle sessions on `{kind}`"), e)),
        );
    }
    let secs = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = proc_status_kib(server.pid, "VmRSS");
    drop(keep);
    server.stop().await;
    let per_session = (after.saturating_sub(before)) as f64 * 1024.0 / n as f64;
    (
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        per_session,
        n as f64 / secs,
    )
}

async fn sweep(ctx: &Ctx) -> (Vec<(&'static str, &'static str, Vec<f64>)>, f64) {
    let vs = variants("W1");
    let mut servers = Vec::new();
    for v in &vs {
        let s = start(v.kind, ctx).await;
        verify(v, &s, ctx).await;
        servers.push(s);
    }
    warm_up(&vs, &servers, ctx).await;
    let mut table: Vec<(&'static str, &'static str, Vec<f64>)> = vs
        .iter()
        .map(|v| (v.label, v.baseline, Vec::new()))
        .collect();
    let mut table_others = Vec::new();
    for &c in &ctx.opts.sweep {
        for (i, v) in vs.iter().enumerate() {
            let op = v.op(servers[i].port, ctx);
            let what = format!("sweep c={c} {}", v.label);
            let stats = measured(
                &servers[i],
                &op,
                c,
                ctx.opts.warmup,
                ctx.opts.sweep_duration,
                &what,
                &ctx.repeats,
            )
            .await;
            table[i].2.push(stats.ops as f64 / stats.secs);
            table_others.push(stats.others);
        }
        eprintln!("[sweep] concurrency {c} done");
    }
    for s in servers {
        s.stop().await;
    }
    let worst = table_others.iter().copied().fold(0.0, f64::max);
    (table, worst)
}

/// The commit the benchmark was built from, and whether the tree had changes.
fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short=7", "HEAD"]) {
        Some(head) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("`{head}` with uncommitted changes")
            } else {
                format!("`{head}`")
            }
        }
        None => "unknown (not a git checkout)".into(),
    }
}

fn environment() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    // SAFETY: sysconf has no preconditions.
    let cores = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024 / 1024);
    format!("{cpu}, {cores} cores, {mem} GiB, Linux {}", kernel.trim())
}

async fn orchestrate(opts: Opts) {
    let started = Instant::now();
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if online < 2 || opts.server_core == opts.client_core {
        eprintln!(
            "bench: warning: servers and load generator share a core; figures will mostly measure the client"
        );
    }
    let issuer = mcp_runtime::testing::TestIssuer::start()
        .await
        .unwrap_or_else(|e| fail("the test issuer", e));
    let redis = if ["W4", "W5", "idle", "events"].iter().any(|w| opts.wants(w)) {
        Some(RedisServer::start(opts.server_core).await)
    } else {
        None
    };
    let ctx = Ctx {
        opts,
        issuer,
        redis,
        repeats: std::cell::Cell::new(0),
        pools: std::cell::RefCell::default(),
    };
    let o = &ctx.opts;

    let mut results: Vec<(&'static str, Vec<Outcome>)> = Vec::new();
    for (name, _) in TITLES {
        if o.wants(name) {
            results.push((name, workload(name, &ctx).await));
        }
    }
    let stress_table = if o.wants("stress") {
        Some(stress::run(&ctx).await)
    } else {
        None
    };
    let sweep_table = if o.wants("sweep") {
        Some(sweep(&ctx).await)
    } else {
        None
    };
    let cold = if o.wants("cold") {
        Some(cold_starts(&ctx).await)
    } else {
        None
    };
    let mut idle = Vec::new();
    if o.wants("idle") {
        for (label, kind) in [("B", "bare"), ("O", "ours"), ("R", "rmcp")] {
            idle.push((label, kind, idle_sessions(kind, &ctx).await));
            eprintln!("[idle] {kind} done");
        }
    }
    let idle_in_redis = if o.wants("idle") {
        let redis = ctx.redis.as_ref().expect("started for idle");
        redis.flush().await;
        let before = redis.used_memory().await;
        let figures = idle_sessions("ours-redis", &ctx).await;
        let sessions = redis.sessions().await;
        let per = (redis.used_memory().await - before) / sessions.max(1) as f64;
        eprintln!("[idle] ours-redis done");
        Some((figures, per, sessions))
    } else {
        None
    };
    let events = if o.wants("events") {
        Some(store_events(&ctx).await)
    } else {
        None
    };

    // ---- Report ----
    println!("## mcp-runtime benchmark\n");
    println!("Commit {}.\n", commit());
    println!(
        "B = bare axum + serde_json handler (baseline), O = mcp-runtime (this repository), \
         R = rmcp {RMCP_VERSION}. Servers pinned to core {}, load generator to core {} \
         (single-threaded tokio, keep-alive HTTP/1.1). {}.",
        o.server_core,
        o.client_core,
        environment()
    );
    for (name, outs) in &results {
        print_workload(name, outs, &ctx);
        match *name {
            "W1" => println!(
                "\n`2026` rows send 2026-07-28 requests (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `_meta` with \
                 protocolVersion and clientCapabilities); `2025 stateless` rows send 2025-11-25 `tools/call` without a \
                 session to a stateless server. B gets the same bytes as the rows compared with it. R 2026 runs on rmcp \
                 with sessions enabled: rmcp serves 2026-07-28 requests statelessly whatever its mode."
            ),
            "W2" => println!(
                "\nR: not measured. rmcp {RMCP_VERSION} has no resource-server token verification (its `auth` feature is \
                 the OAuth client side), so an rmcp row would measure whatever middleware the benchmark added. \
                 B-jwt verifies the RS256 signature, iss, aud, exp and sub on every request; O verifies the token once \
                 and then answers from its cache of verified tokens, as it does in production. Both verify with \
                 aws-lc-rs (jsonwebtoken's `aws_lc_rs` backend, mcp-runtime's default)."
            ),
            "W2u" => println!(
                "\nEach connection sends its share of {TOKEN_POOL} distinct tokens in turn, so no token comes back \
                 before the other {} were sent. O's cache is limited to 1 MiB (`token_cache_bytes`, about 800 tokens): \
                 every request is a first sight, verified and then cached, evicting the oldest entry, as under a \
                 stream of new users. B-jwt does what it does in W2.",
                TOKEN_POOL - 1
            ),
            "W3" => println!(
                "\nEach server lists 100 tools `tool_NNN(a: i64, b: i64) -> {{sum}}` with description, inputSchema, \
                 outputSchema and readOnlyHint. B answers with a precomputed byte string: the list as a person \
                 would write it by hand (`type: integer` properties, no `$schema`, no formats); O and R generate \
                 theirs from the Rust types (`body B` gives each answer's size)."
            ),
            "W4" | "W5" => println!(
                "\nB keeps sessions in a `Mutex<HashSet<String>>`. R answers requests inside 2025-11-25 sessions with SSE \
                 (a priming event, then the response) and never JSON: rmcp's `json_response` applies only to stateless \
                 requests. DELETE: B and O answer 200, R 202."
            ),
            _ => {}
        }
    }
    if let Some(table) = &stress_table {
        println!("{table}");
    }
    if let Some((table, worst)) = &sweep_table {
        println!("\n### W1 throughput by concurrency (req/s, × vs its baseline row)\n");
        println!(
            "One run of {} s per point after {} s warm-up; other processes used at most {:.0}% of a core.\n",
            o.sweep_duration,
            o.warmup,
            worst * 100.0
        );
        let header: Vec<String> = o.sweep.iter().map(|c| format!("c={c}")).collect();
        println!("| server | {} |", header.join(" | "));
        println!("|---|{}|", vec!["---:"; o.sweep.len()].join("|"));
        for (label, base, xs) in table {
            let b = table.iter().find(|t| t.0 == *base).map_or(xs, |t| &t.2);
            let cells: Vec<String> = xs
                .iter()
                .zip(b)
                .map(|(x, bx)| {
                    if label == base {
                        format!("{x:.0}")
                    } else {
                        format!("{x:.0} ({})", ratio(*x, *bx))
                    }
                })
                .collect();
            println!("| {label} | {} |", cells.join(" | "));
        }
    }
    if let Some(cold) = &cold {
        println!(
            "\n### Cold start: spawn → first correct answer (ms, {} spawns each)\n",
            o.cold_starts
        );
        println!(
            "One binary holds every server, so each start maps the same executable; `ours-oauth` and `bare-jwt` \
                  include fetching the issuer's metadata/JWKS from the load generator's test issuer.\n"
        );
        println!("| server | median | min | max | × |");
        println!("|---|---:|---:|---:|---:|");
        let base_of = |k: &str| {
            if k.ends_with("-jwt") || k.ends_with("-oauth") {
                "bare-jwt"
            } else {
                "bare"
            }
        };
        for (kind, times) in cold {
            let base = cold
                .iter()
                .find(|c| c.0 == base_of(kind))
                .map_or(f64::NAN, |c| median(&c.1));
            let min = times.iter().copied().fold(f64::INFINITY, f64::min);
            let max = times.iter().copied().fold(0.0, f64::max);
            println!(
                "| `{kind}` | {:.1} | {min:.1} | {max:.1} | {} |",
                median(times),
                ratio(median(times), base)
            );
        }
    }
    if !idle.is_empty() {
        println!(
            "\n### Memory per idle 2025-11-25 session ({} sessions opened, never closed)\n",
            o.sessions
        );
        println!(
            "| server | RSS before MiB | RSS after MiB | per session KiB | × | sessions/s opened |"
        );
        println!("|---|---:|---:|---:|---:|---:|");
        let base = idle.first().map_or(f64::NAN, |i| i.2.2);
        for (label, kind, (before, after, per, rate)) in &idle {
            println!(
                "| {label} `{kind}` | {before:.1} | {after:.1} | {:.2} | {} | {rate:.0} |",
                per / 1024.0,
                ratio(*per, base)
            );
        }
    }

    // ---- Summary: one line per figure ----
    println!("\n### Summary\n");
    println!(
        "Medians; × = ratio to B measured in the same run (throughput: the median of the runs' ratios; higher is better; latency, memory, start: lower is better).\n"
    );
    println!("| figure | B | O (mcp-runtime) | O × B | R (rmcp) | R × B |");
    println!("|---|---:|---:|---:|---:|---:|");
    let get = |w: &str, label: &str| -> Option<&Outcome> {
        results
            .iter()
            .find(|(n, _)| *n == w)
            .and_then(|(_, outs)| outs.iter().find(|x| x.label == label))
    };
    let row = |name: &str, b: Option<f64>, o_: Option<f64>, r: Option<f64>, digits: usize| {
        let f = |x: Option<f64>| x.map_or("n/a".to_owned(), |x| format!("{x:.digits$}"));
        let rt = |x: Option<f64>| match (x, b) {
            (Some(x), Some(b)) => ratio(x, b),
            _ => "–".to_owned(),
        };
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            f(b),
            f(o_),
            rt(o_),
            f(r),
            rt(r)
        );
    };
    let p99 = |w: &str, l: &str| get(w, l).map(|x| percentile(&x.lats, 0.99) / 1e3);
    let rss = |w: &str, l: &str| get(w, l).map(|x| x.peak_rss_kib as f64 / 1024.0);
    for (w, what, b, o_, r) in [
        (
            "W1",
            "W1 tools/call, 2026-07-28 (req/s)",
            "B 2026",
            "O 2026",
            "R 2026",
        ),
        (
            "W1",
            "W1 tools/call, 2025-11-25 stateless (req/s)",
            "B 2025",
            "O 2025 stateless",
            "R 2025 stateless",
        ),
        (
            "W2",
            "W2 tools/call + RS256 JWT (req/s)",
            "B-jwt 2026",
            "O-oauth 2026",
            "-",
        ),
        (
            "W2u",
            "W2u tools/call + RS256 JWT, a new token each request (req/s)",
            "B-jwt 2026",
            "O-oauth 2026",
            "-",
        ),
        (
            "W3",
            "W3 tools/list 100 tools, 2026-07-28 (req/s)",
            "B 2026",
            "O 2026",
            "R 2026",
        ),
        (
            "W3",
            "W3 tools/list 100 tools, 2025-11-25 (req/s)",
            "B 2025",
            "O 2025 stateless",
            "R 2025 stateless",
        ),
        ("W4", "W4 whole sessions (sessions/s)", "B", "O", "R"),
        ("W5", "W5 tools/call in a session (req/s)", "B", "O", "R"),
    ] {
        if let Some(base) = get(w, b) {
            let cells = |label: &str| {
                get(w, label).map_or(("n/a".to_owned(), "–".to_owned()), |x| {
                    (format!("{:.0}", x.median()), times(paired(x, base)))
                })
            };
            let ((o_v, o_x), (r_v, r_x)) = (cells(o_), cells(r));
            println!(
                "| {what} | {:.0} | {o_v} | {o_x} | {r_v} | {r_x} |",
                base.median()
            );
        }
    }
    if get("W1", "B 2026").is_some() {
        row(
            "W1 2026 p99 latency at c=32 (µs)",
            p99("W1", "B 2026"),
            p99("W1", "O 2026"),
            p99("W1", "R 2026"),
            0,
        );
        row(
            "W1 2026 peak RSS under load (MiB)",
            rss("W1", "B 2026"),
            rss("W1", "O 2026"),
            rss("W1", "R 2026"),
            1,
        );
    }
    if get("W5", "B").is_some() {
        row(
            "W5 peak RSS under load (MiB)",
            rss("W5", "B"),
            rss("W5", "O"),
            rss("W5", "R"),
            1,
        );
    }
    if !idle.is_empty() {
        let per = |l: &str| idle.iter().find(|i| i.0 == l).map(|i| i.2.2 / 1024.0);
        row(
            "memory per idle session (KiB)",
            per("B"),
            per("O"),
            per("R"),
            2,
        );
    }
    if let Some(cold) = &cold {
        let m = |k: &str| cold.iter().find(|c| c.0 == k).map(|c| median(&c.1));
        row(
            "cold start, spawn → first answer (ms)",
            m("bare"),
            m("ours"),
            m("rmcp"),
            1,
        );
    }

    if idle_in_redis.is_some() || events.is_some() || find_any(&results, "O redis") {
        println!("\n### With the Redis store (O redis)\n");
        println!(
            "O redis is O with `HttpConfig::session_store(RedisStore)`, as replicas run it, against a \
             `redis-server` (saving nothing) pinned to the server's core: the server and its store share \
             one core, and each request makes its round trip to Redis."
        );
        println!("\n| figure | O | O redis | O redis / O |");
        println!("|---|---:|---:|---:|");
        for w in ["W4", "W5"] {
            let pick = |label: &str| {
                results
                    .iter()
                    .find(|(n, _)| *n == w)
                    .and_then(|(_, outs)| outs.iter().find(|x| x.label == label))
            };
            if let (Some(o_), Some(r_)) = (pick("O"), pick("O redis")) {
                println!(
                    "| {w} throughput | {:.0} | {:.0} | {} |",
                    o_.median(),
                    r_.median(),
                    ratio(r_.median(), o_.median())
                );
                println!(
                    "| {w} server CPU per operation (µs) | {:.1} | {:.1} | |",
                    per_op(o_),
                    per_op(r_)
                );
                println!(
                    "| {w} Redis CPU per operation (µs) | | {:.1} | |",
                    median(&r_.store_cpu_per_op) * 1e6
                );
            }
        }
        if let Some(((_, _, rss_per, _), per, sessions)) = &idle_in_redis {
            let o_per = idle.iter().find(|i| i.0 == "O").map(|i| i.2.2);
            println!(
                "| memory per idle session in the server (B) | {} | {rss_per:.0} | |",
                o_per.map_or("–".into(), |v| format!("{v:.0}"))
            );
            println!(
                "| memory per idle session in Redis (B, `used_memory` over {sessions} sessions) | | {per:.0} | |"
            );
        }
        if let Some(e) = &events {
            println!(
                "| events a stream carries, as the client reads them (events/s) | | {:.0} | |",
                e.read
            );
            println!(
                "| events a stream carries into Redis (events/s; {} of {} stored) | | {:.0} | |",
                e.stored, e.sent, e.stored_rate
            );
        }
    }

    // ---- Targets for O ----
    println!("\n### Targets for mcp-runtime (O)\n");
    println!("| figure | O | baseline | ratio | target | met |");
    println!("|---|---:|---:|---:|---|---|");
    let find = |w: &str, label: &str| -> Option<&Outcome> {
        results
            .iter()
            .find(|(n, _)| *n == w)
            .and_then(|(_, outs)| outs.iter().find(|x| x.label == label))
    };
    for (w, label, target) in [
        ("W1", "O 2026", 0.95),
        ("W1", "O 2025 stateless", 0.95),
        ("W2", "O-oauth 2026", 1.0),
        ("W2u", "O-oauth 2026", 0.95),
        ("W3", "O 2026", 1.0),
        ("W3", "O 2025 stateless", 1.0),
        ("W4", "O", 0.9),
        ("W5", "O", 0.95),
    ] {
        if let Some(out) = find(w, label) {
            let base = find(w, out.baseline).expect("baseline");
            let r = paired(out, base);
            println!(
                "| {w} {label} throughput | {:.0} | {:.0} | {r:.2}× | ≥ {target:.2}× | {} |",
                out.median(),
                base.median(),
                if r >= target { "yes" } else { "**no**" }
            );
        }
    }
    // What the request spans and the log line cost: under a subscriber that records none
    // of them (the target), and under one that takes them all and keeps nothing (a figure).
    for (kind, target) in [("O 2026 subscribed", Some(0.03)), ("O 2026 traced", None)] {
        if let (Some(traced), Some(plain), Some(base)) =
            (find("W1", kind), find("W1", "O 2026"), find("W1", "B 2026"))
        {
            let cost = paired(plain, base) - paired(traced, base);
            let (target, met) = match target {
                Some(t) => (
                    format!("≤ {t:.3}"),
                    if cost <= t { "yes" } else { "**no**" }.to_owned(),
                ),
                None => ("–".to_owned(), "–".to_owned()),
            };
            println!(
                "| W1 telemetry cost, {} (O − {kind}, × of B) | {:.0} | {:.0} | {cost:.3} | {target} | {met} |",
                if kind.ends_with("subscribed") { "nothing enabled" } else { "every span enabled" },
                traced.median(),
                plain.median(),
            );
        }
    }
    // An argument mirrored into a header, compared with the body on every call.
    if let (Some(mirrored), Some(plain), Some(base)) = (
        find("W1", "O 2026 mirrored"),
        find("W1", "O 2026"),
        find("W1", "B 2026"),
    ) {
        let cost = paired(plain, base) - paired(mirrored, base);
        println!(
            "| W1 mirrored-argument cost (O − O mirrored, × of B) | {:.0} | {:.0} | {cost:.3} | ≤ 0.050 | {} |",
            mirrored.median(),
            plain.median(),
            if cost <= 0.05 { "yes" } else { "**no**" }
        );
    }
    // With a shared store, against the same server keeping its sessions in memory.
    for (w, target) in [("W4", 0.3), ("W5", 0.6)] {
        if let (Some(out), Some(base)) = (find(w, "O redis"), find(w, "O")) {
            let r = paired(out, base);
            println!(
                "| {w} O redis throughput (vs O) | {:.0} | {:.0} | {r:.2}× | ≥ {target:.2}× | {} |",
                out.median(),
                base.median(),
                if r >= target { "yes" } else { "**no**" }
            );
        }
    }
    if let Some(out) = find("W1", "O 2026") {
        let mib = out.peak_rss_kib as f64 / 1024.0;
        let base = find("W1", "B 2026").map_or(f64::NAN, |b| b.peak_rss_kib as f64 / 1024.0);
        println!(
            "| peak RSS under W1 load (MiB) | {mib:.1} | {base:.1} | {} | ≤ 16 MiB | {} |",
            ratio(mib, base),
            if mib <= 16.0 { "yes" } else { "**no**" }
        );
    }
    if let (Some(o_), Some(b_)) = (
        idle.iter().find(|i| i.0 == "O"),
        idle.iter().find(|i| i.0 == "B"),
    ) {
        let (o_kib, b_kib) = (o_.2.2 / 1024.0, b_.2.2 / 1024.0);
        println!(
            "| idle session (KiB) | {o_kib:.2} | {b_kib:.2} | {} | ≤ 2 KiB | {} |",
            ratio(o_kib, b_kib),
            if o_kib <= 2.0 { "yes" } else { "**no**" }
        );
    }
    if let Some(cold) = &cold {
        let m = |k: &str| {
            cold.iter()
                .find(|c| c.0 == k)
                .map_or(f64::NAN, |c| median(&c.1))
        };
        let (o_ms, b_ms) = (m("ours"), m("bare"));
        println!(
            "| cold start `ours` (ms) | {o_ms:.1} | {b_ms:.1} | {} | ≤ 30 ms | {} |",
            ratio(o_ms, b_ms),
            if o_ms <= 30.0 { "yes" } else { "**no**" }
        );
    }
    let disturbed = results
        .iter()
        .flat_map(|(_, outs)| outs.iter())
        .map(Outcome::disturbed_runs)
        .sum::<usize>()
        + sweep_table.iter().filter(|(_, w)| *w > QUIET).count();
    println!(
        "\nRuns repeated because other processes used more than {:.0}% of a core or the hypervisor \
         took more than {:.0}% of the server's or client's core: {}; kept runs still disturbed: {}.",
        QUIET * 100.0,
        STEAL_MAX * 100.0,
        ctx.repeats.get(),
        disturbed
    );
    if disturbed > 0 {
        println!("**The machine was busy during this run: the figures above are disturbed.**");
    }
    println!(
        "\nCommand: `cargo run --release --manifest-path bench/Cargo.toml{}`; took {:.0} s.",
        {
            let a: Vec<String> = std::env::args().skip(1).collect();
            if a.is_empty() {
                String::new()
            } else {
                format!(" -- {}", a.join(" "))
            }
        },
        started.elapsed().as_secs_f64()
    );
}

/// `bench issuer`: a test issuer for a server started by hand (`bench server ours-oauth
/// --issuer URL`): prints its URL, writes 4 × [`TOKEN_POOL`] distinct tokens for the server on
/// `--for-port` to `--tokens`, then serves until killed.
async fn issuer_main(args: &[String]) {
    let (mut port, mut out) = (0u16, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--for-port" => port = it.next().and_then(|p| p.parse().ok()).unwrap_or(0),
            "--tokens" => out = it.next().cloned(),
            _ => die(&format!("unknown issuer option `{flag}`")),
        }
    }
    let (Some(out), true) = (out, port != 0) else {
        die("bench issuer needs --for-port P and --tokens FILE");
    };
    let issuer = mcp_runtime::testing::TestIssuer::start()
        .await
        .unwrap_or_else(|e| fail("the test issuer", e));
    let tokens: Vec<String> = (0..4 * TOKEN_POOL)
        .map(|i| {
            issuer
                .token()
                .subject(&format!("bench-{i}"))
                .audience(&format!("http://127.0.0.1:{port}/mcp"))
                .scopes(["mcp:tools"])
                .sign()
        })
        .collect();
    std::fs::write(&out, tokens.join("\n"))
        .unwrap_or_else(|e| die(&format!("cannot write {out}: {e}")));
    println!("{}", issuer.url());
    std::future::pending::<()>().await;
}

/// `bench load`: drives one already running server, for profiling it.
async fn load_main(args: &[String], opts: &Opts) {
    let workload = args.first().map(String::as_str).unwrap_or("W1");
    if opts.port == 0 {
        die("bench load needs --port");
    }
    let (op, label) = match workload {
        "W1" => (
            Op::Repeat(Arc::new(call_request(opts.port, opts.style, None))),
            opts.style.label(),
        ),
        // For `ours-mirrored`, which refuses a call without the header.
        "W1m" => (
            Op::Repeat(Arc::new(mirrored_call_request(opts.port))),
            "2026-07-28, `a` in Mcp-Param-A",
        ),
        "W2u" => {
            let file = opts
                .tokens
                .as_deref()
                .unwrap_or_else(|| die("bench load W2u needs --tokens FILE (from `bench issuer`)"));
            let text = std::fs::read_to_string(file)
                .unwrap_or_else(|e| die(&format!("cannot read {file}: {e}")));
            // Those before `--from` last: a warm-up that sent them leaves none in a cache.
            let lines: Vec<&str> = text.lines().collect();
            let from = opts.from % lines.len().max(1);
            let reqs = lines[from..]
                .iter()
                .chain(&lines[..from])
                .map(|t| call_request(opts.port, opts.style, Some(t)))
                .collect();
            (Op::Rotate(Arc::new(reqs)), "a different token each request")
        }
        "W3" => (
            Op::Repeat(Arc::new(list_request(opts.port, opts.style))),
            opts.style.label(),
        ),
        "W4" => (Op::Session, "2025-11-25 sessions"),
        "W5" => (Op::InSession, "2025-11-25 sessions"),
        w => die(&format!(
            "bench load: `{w}` is not one of W1, W1m, W2u, W3, W4, W5"
        )),
    };
    let server = Running {
        kind: "external",
        port: opts.port,
        pid: 0,
        store_pid: None,
        cores: (opts.server_core, opts.client_core),
        child: tokio::process::Command::new("true").spawn().expect("true"),
    };
    let stats = run_load(
        &server,
        &op,
        opts.concurrency,
        opts.warmup,
        opts.duration,
        workload,
    )
    .await;
    let mut lats = stats.lats;
    lats.sort_unstable();
    println!(
        "{workload} ({label}) on port {}: {:.0} ops/s, p50 {:.0} µs, p99 {:.0} µs, client CPU {:.0}%",
        opts.port,
        stats.ops as f64 / stats.secs,
        percentile(&lats, 0.5) / 1e3,
        percentile(&lats, 0.99) / 1e3,
        stats.client_cpu * 100.0
    );
}
