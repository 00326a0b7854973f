//! stdio: one JSON-RPC message per line on stdin, one per line on stdout, logs on stderr.
//!
//! The process is one client: `initialize` opens its (implicit) session, and requests
//! carrying 2026-07-28 `_meta` are answered statelessly. Requests run concurrently, so
//! `notifications/cancelled` can stop a long one; a cancelled request gets no response.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::ServeError;
use crate::protocol::{
    self, ErrorCode, LATEST_LEGACY_VERSION, META_CLIENT_CAPABILITIES, META_CLIENT_INFO,
    META_PREFIX, META_PROTOCOL_VERSION, Message, RequestId, RpcError,
};
use crate::server::McpServer;
use crate::server::context::{ClientDeclaration, ClientLink, Session};
use crate::server::dispatch::{Call, Engine, Era};
use crate::server::input::{LogLevel, PendingRequests};

/// The largest line read from stdin; a longer one is answered with -32600 and skipped.
const MAX_LINE: usize = 16 * 1024 * 1024;

/// The one client of the process: what `initialize` said, its log level, its session.
#[derive(Default)]
struct Client {
    version: Option<&'static str>,
    declared: Option<Arc<ClientDeclaration>>,
    log_level: Option<LogLevel>,
    pending: Arc<PendingRequests>,
    session: Option<Session>,
}

pub(crate) async fn serve<S, R, W>(server: S, input: R, output: W) -> Result<(), ServeError>
where
    S: McpServer,
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let engine = Arc::new(Engine::new(server));
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(mut line) = rx.recv().await {
            line.push(b'\n');
            output.write_all(&line).await?;
            output.flush().await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let client = Arc::new(Mutex::new(Client::default()));
    let inflight: Arc<Mutex<HashMap<RequestId, CancellationToken>>> = Arc::default();
    let mut reader = BufReader::new(input);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            break;
        }
        if line.len() > MAX_LINE && !line.ends_with(b"\n") {
            // Skip the rest of the oversized line.
            let mut sink = Vec::new();
            reader.read_until(b'\n', &mut sink).await?;
            let e = RpcError::new(ErrorCode::InvalidRequest, "message too large");
            let _ = tx.send(protocol::error_json(None, &e)).await;
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let message = match Message::parse(&line) {
            Ok(m) => m,
            Err((id, e)) => {
                let _ = tx.send(protocol::error_json(id.as_ref(), &e)).await;
                continue;
            }
        };
        match message {
            Message::Notification { method, params } => {
                if method == "notifications/cancelled"
                    && let Some(id) = params.get("requestId")
                    && let Ok(id) = serde_json::from_value::<RequestId>(id.clone())
                    && let Some(token) = lock(&inflight).remove(&id)
                {
                    token.cancel();
                }
            }
            Message::Response { id, outcome } => {
                let pending = Arc::clone(&lock(&client).pending);
                pending.resolve(&id, outcome);
            }
            Message::Request { id, method, params }
                if method == "logging/setLevel" && !has_modern_meta(&params) =>
            {
                let reply = match params
                    .get("level")
                    .and_then(Value::as_str)
                    .and_then(LogLevel::parse)
                {
                    Some(level) => {
                        lock(&client).log_level = Some(level);
                        protocol::response_json(&id, &Value::Object(Map::new()))
                    }
                    None => protocol::error_json(
                        Some(&id),
                        &RpcError::invalid_params("unknown `level`"),
                    ),
                };
                let _ = tx.send(reply).await;
            }
            Message::Request { id, method, params } => {
                if method == "initialize" && !has_modern_meta(&params) {
                    let (version, result) = engine.initialize(&params);
                    {
                        let mut c = lock(&client);
                        c.version = Some(version);
                        c.declared = Some(ClientDeclaration::new(
                            params.get("clientInfo").cloned(),
                            params.get("capabilities").cloned(),
                        ));
                        c.session = Some(Session {
                            id: "stdio".into(),
                            data: Arc::default(),
                        });
                    }
                    let _ = tx.send(protocol::response_json(&id, &result)).await;
                    continue;
                }
                let call = match prepare(&client, &id, &params) {
                    Ok(call) => call,
                    Err(e) => {
                        let _ = tx.send(protocol::error_json(Some(&id), &e)).await;
                        continue;
                    }
                };
                let cancellation = CancellationToken::new();
                lock(&inflight).insert(id.clone(), cancellation.clone());
                let call = Call {
                    cancellation: Some(cancellation.clone()),
                    notifier: Some(tx.clone()),
                    ..call
                };
                let (engine, tx, inflight) =
                    (Arc::clone(&engine), tx.clone(), Arc::clone(&inflight));
                tokio::spawn(async move {
                    let outcome = tokio::select! {
                        biased;
                        () = cancellation.cancelled() => return,
                        outcome = engine.request(&method, params, call) => outcome,
                    };
                    lock(&inflight).remove(&id);
                    let body = match outcome {
                        Ok(reply) => reply.into_response(&id),
                        Err(e) => protocol::error_json(Some(&id), &e),
                    };
                    let _ = tx.send(body).await;
                });
            }
        }
    }
    drop(tx);
    for (_, token) in lock(&inflight).drain() {
        token.cancel();
    }
    writer
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(e)))??;
    Ok(())
}

fn has_modern_meta(params: &Map<String, Value>) -> bool {
    params
        .get("_meta")
        .and_then(Value::as_object)
        .is_some_and(|m| m.keys().any(|k| k.starts_with(META_PREFIX)))
}

/// The era of a request: its own `_meta` when it has modern keys, else the session.
fn prepare(
    client: &Mutex<Client>,
    id: &RequestId,
    params: &Map<String, Value>,
) -> Result<Call, RpcError> {
    let new_call = |era, client| Call {
        id: id.clone(),
        era,
        client,
        cancellation: None,
        notifier: None,
        #[cfg(feature = "http")]
        principal: None,
        link: ClientLink::default(),
    };
    if has_modern_meta(params) {
        let meta = params.get("_meta").and_then(Value::as_object);
        let version = meta
            .and_then(|m| m.get(META_PROTOCOL_VERSION))
            .and_then(Value::as_str);
        let capabilities = meta
            .and_then(|m| m.get(META_CLIENT_CAPABILITIES))
            .filter(|c| c.is_object());
        let (Some(version), Some(capabilities)) = (version, capabilities) else {
            return Err(RpcError::invalid_params(format!(
                "`_meta` must carry `{META_PROTOCOL_VERSION}` and `{META_CLIENT_CAPABILITIES}`"
            )));
        };
        let Some(version) = protocol::modern_version(version) else {
            return Err(crate::server::dispatch::unsupported_version(version));
        };
        let info = meta.and_then(|m| m.get(META_CLIENT_INFO)).cloned();
        let client = ClientDeclaration::new(info, Some(capabilities.clone()));
        return Ok(new_call(Era::Modern(version), client));
    }
    let c = lock(client);
    let version = c.version.unwrap_or(LATEST_LEGACY_VERSION);
    let client = c
        .declared
        .clone()
        .unwrap_or_else(|| ClientDeclaration::new(None, None));
    let mut call = new_call(Era::Legacy(version), client);
    call.link = ClientLink {
        log_level: c.log_level,
        pending: Some(Arc::clone(&c.pending)),
        session: c.session.clone(),
        ..ClientLink::default()
    };
    Ok(call)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
