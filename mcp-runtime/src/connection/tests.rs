//! The core driven by an in-memory transport: messages in, steps out, nothing else.

#![allow(clippy::needless_pass_by_value)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::session::{Session, SessionLimits};
use super::sessions::Sessions;
use super::{Core, ModernMeta, Revision, Step, classify};
use crate::auth::{LocalCaller, Principal};
use crate::prelude::*;
use crate::protocol::Message;
use crate::server::input::{Change, StateKeys};

struct Notes;

#[mcp_server(name = "notes", version = "1.0.0", oauth(scopes = ["notes:read", "notes:write"]))]
impl Notes {
    /// Reads a note.
    #[tool(scopes = ["notes:read"])]
    fn read(&self, caller: Auth, id: u32) -> String {
        format!("{} reads {id}", caller.subject())
    }

    /// Writes a note.
    #[tool(scopes = ["notes:write"])]
    fn write(&self, id: u32) -> String {
        format!("wrote {id}")
    }

    /// Waits until cancelled.
    #[tool(scopes = ["notes:read"])]
    async fn wait(&self, ctx: RequestContext) -> String {
        ctx.cancelled().await;
        "cancelled".into()
    }

    /// The one note resource.
    #[resource(uri = "notes://one")]
    fn one(&self) -> String {
        "one".into()
    }
}

/// The smallest transport: one client, messages as JSON values, answers as JSON values.
struct Memory {
    core: Arc<Core<Notes>>,
    caller: Arc<Principal>,
    session: Option<Arc<Session>>,
}

impl Memory {
    fn new(scopes: &[&str]) -> Self {
        let sessions = Sessions::memory(SessionLimits {
            max: 4,
            idle: Duration::from_mins(1),
            unused: Duration::from_mins(1),
            ..SessionLimits::ONE_CLIENT
        });
        Self {
            core: Arc::new(Core::new(
                Notes,
                sessions,
                StateKeys::random(),
                &[],
                crate::connection::TaskSettings::default(),
            )),
            caller: Arc::new(
                LocalCaller::new("alice")
                    .scopes(scopes.iter().copied())
                    .into_principal(),
            ),
            session: None,
        }
    }

    async fn step(&mut self, message: Value) -> Step {
        let message = Message::parse(message.to_string().as_bytes()).unwrap();
        let caller = Some(Arc::clone(&self.caller));
        match classify(&message, self.session.is_some(), None) {
            Revision::Modern => match ModernMeta::read(&message) {
                Ok(meta) => self.core.modern(message, &meta, caller),
                Err(error) => panic!("bad _meta: {error:?}"),
            },
            Revision::Legacy => {
                let id = self.session.as_ref().map(|s| Arc::clone(&s.id));
                self.core
                    .legacy_in(message, id.as_deref(), None, caller, None)
                    .await
            }
        }
    }

    /// Sends `message` and returns the JSON answer, running a request to its end.
    async fn send(&mut self, message: Value) -> Value {
        let bytes = match self.step(message).await {
            Step::Result(body) => body,
            Step::Opened { body, session, .. } => {
                self.session = session;
                body
            }
            Step::Run(p) => {
                let id = p.call.id.clone();
                match self.core.run(&p.method, p.params, p.call).await {
                    Ok(reply) => reply.into_response(&id),
                    Err(e) => crate::protocol::error_json(Some(&id), &e),
                }
            }
            Step::Error { id, error, .. } => crate::protocol::error_json(id.as_ref(), &error),
            Step::Forbidden(id, f) => crate::protocol::error_json(Some(&id), &f.error),
            other => panic!("unexpected step {other:?}"),
        };
        serde_json::from_slice(&bytes).unwrap()
    }
}

fn request(id: u32, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn initialize() -> Value {
    request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "m", "version": "1"}}),
    )
}

#[tokio::test]
async fn a_session_is_opened_and_its_calls_run_as_the_caller() {
    let mut t = Memory::new(&["notes:read"]);
    let init = t.send(initialize()).await;
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    let session = t.session.clone().expect("initialize opens a session");
    assert_eq!(session.version, "2025-11-25");
    let read = t
        .send(request(
            2,
            "tools/call",
            json!({"name": "read", "arguments": {"id": 7}}),
        ))
        .await;
    assert_eq!(
        read["result"]["content"][0]["text"], "alice reads 7",
        "{read}"
    );
    let level = t
        .send(request(3, "logging/setLevel", json!({"level": "loud"})))
        .await;
    assert_eq!(level["error"]["code"], -32602, "{level}");
    assert_eq!(
        t.send(request(4, "logging/setLevel", json!({"level": "info"})))
            .await["result"],
        json!({})
    );
    assert_eq!(session.log_level(), Some(LogLevel::Info));
}

#[tokio::test]
async fn missing_scopes_are_refused_with_every_scope_the_call_needs() {
    let mut t = Memory::new(&["notes:read"]);
    t.send(initialize()).await;
    let Step::Forbidden(_, forbidden) = t
        .step(request(
            2,
            "tools/call",
            json!({"name": "write", "arguments": {"id": 1}}),
        ))
        .await
    else {
        panic!("a tool needing a scope the caller lacks must not run");
    };
    assert_eq!(forbidden.needed, ["notes:write"]);
    assert_eq!(
        forbidden.error.data,
        Some(json!({"scopes": ["notes:write"]}))
    );
    // The same decision in 2026-07-28.
    let modern = request(
        3,
        "tools/call",
        json!({"name": "write", "arguments": {"id": 1}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}}),
    );
    assert!(matches!(t.step(modern).await, Step::Forbidden(..)));
}

#[tokio::test]
async fn a_subscription_is_recorded_only_when_the_server_accepts_it() {
    let mut t = Memory::new(&["notes:read"]);
    t.send(initialize()).await;
    let session = t.session.clone().unwrap();
    let mut stream = session.open_stream(&t.core.hub);
    let refused = t
        .send(request(
            2,
            "resources/subscribe",
            json!({"uri": "notes://other"}),
        ))
        .await;
    assert_eq!(refused["error"]["code"], -32002, "{refused}");
    t.core.hub.publish(Change::Resource("notes://other".into()));
    let accepted = t
        .send(request(
            3,
            "resources/subscribe",
            json!({"uri": "notes://one"}),
        ))
        .await;
    assert_eq!(accepted["result"], json!({}));
    t.core.hub.publish(Change::Resource("notes://one".into()));
    let first = tokio::time::timeout(Duration::from_secs(5), stream.recv())
        .await
        .unwrap()
        .unwrap();
    let first: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(
        first["params"]["uri"], "notes://one",
        "the refused URI was never subscribed: {first}"
    );
}

#[tokio::test]
async fn a_cancelled_request_is_told_and_a_client_response_reaches_its_request() {
    let mut t = Memory::new(&["notes:read"]);
    t.send(initialize()).await;
    let Step::Run(p) = t
        .step(request(2, "tools/call", json!({"name": "wait"})))
        .await
    else {
        panic!("the call runs");
    };
    let core = Arc::clone(&t.core);
    let running = tokio::spawn(async move {
        let _guard = p.guard;
        core.run(&p.method, p.params, p.call).await.is_ok()
    });
    let cancel =
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}});
    assert!(matches!(t.step(cancel).await, Step::Accepted));
    assert!(
        tokio::time::timeout(Duration::from_secs(5), running)
            .await
            .unwrap()
            .unwrap()
    );

    let session = t.session.clone().unwrap();
    let (id, answer) = session.pending.register();
    let response = json!({"jsonrpc": "2.0", "id": id, "result": {"action": "accept"}});
    assert!(matches!(t.step(response).await, Step::Accepted));
    assert_eq!(answer.await.unwrap().unwrap(), json!({"action": "accept"}));
}
