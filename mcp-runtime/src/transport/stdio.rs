//! stdio: one JSON-RPC message per line on stdin, one per line on stdout, logs on stderr.
//!
//! The process is one client, so it is one session of the connection core from the start:
//! `initialize` renews it with what the client declared, and requests carrying 2026-07-28
//! `_meta` are answered statelessly. Requests run concurrently, so `notifications/cancelled`
//! can stop a long one; a cancelled request gets no response. List changes and updates of
//! subscribed resources go out as notifications. A server declared with `oauth` runs every
//! request as the [`LocalCaller`](crate::auth::LocalCaller) it was started with.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::sync::mpsc;

use crate::auth::Principal;
use crate::connection::session::{SessionLimits, lock};
use crate::connection::sessions::Sessions;
use crate::connection::{Core, ModernMeta, Revision, Step, classify, modern_other};
use crate::error::ServeError;
use crate::protocol::{self, ErrorCode, LATEST_LEGACY_VERSION, Message, RpcError};
use crate::server::McpServer;
use crate::server::call::ClientDeclaration;
use crate::server::dispatch::Era;
use crate::server::input::StateKeys;
use crate::server::tasks::TaskSettings;
use crate::telemetry::{AuthOutcome, Operation, Outcome, Recorder, Telemetry, Via};
use tracing::Instrument as _;

/// The largest line read from stdin; a longer one is answered with -32600 and skipped
/// without being kept.
const MAX_LINE: usize = 16 * 1024 * 1024;

/// Serves `server` on `input` and `output`; a protected server runs every request as
/// `local`, the caller with the scopes the server requires of every request.
pub(crate) async fn serve<S, R, W>(
    server: S,
    local: Option<(Arc<Principal>, &'static [&'static str])>,
    input: R,
    output: W,
) -> Result<(), ServeError>
where
    S: McpServer,
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (caller, required) = match local {
        Some((caller, required)) => (Some(caller), required),
        None => (None, &[][..]),
    };
    // One client: its session never expires, and a renewed one replaces it.
    let core = Arc::new(Core::new(
        server,
        Sessions::memory(SessionLimits::ONE_CLIENT),
        StateKeys::process_default(),
        required,
        TaskSettings::default(),
    ));
    let recorder = Recorder::new(&Telemetry::new(), None, super::declared::<S>());
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(mut line) = rx.recv().await {
            // An empty message asks to close an SSE connection: stdio has none.
            if line.is_empty() {
                continue;
            }
            line.push(b'\n');
            output.write_all(&line).await?;
            output.flush().await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let owner = caller
        .as_ref()
        .map(|p| (p.issuer.clone(), p.subject.clone()));
    let first = core
        .sessions
        .local()
        .create(
            LATEST_LEGACY_VERSION,
            ClientDeclaration::new(None, None),
            owner,
            None,
        )
        .map_err(|_| ServeError::Io(std::io::Error::other("no session for stdio")))?;
    let client = Arc::new(Mutex::new(Arc::clone(&first)));
    forward(first.open_stream(&core.hub), tx.clone());
    let mut reader = BufReader::new(input);
    let mut line = Vec::new();
    loop {
        line.clear();
        match read_line(&mut reader, &mut line).await? {
            Line::End => break,
            Line::TooLong => {
                let e = RpcError::new(ErrorCode::InvalidRequest, "message too large");
                let _ = tx.send(protocol::error_json(None, &e)).await;
                continue;
            }
            Line::Read => {}
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
        let session = Arc::clone(&lock(&client));
        let mut operation = Operation::start(&recorder, &message, Via::STDIO);
        if let Some(caller) = &caller {
            operation.caller(caller);
        }
        let span = operation.span();
        let step = match classify(&message, false, None) {
            Revision::Modern => match message {
                Message::Request { .. } => match ModernMeta::read(&message) {
                    Ok(meta) => span.in_scope(|| core.modern(message, &meta, caller.clone())),
                    Err(e) => {
                        operation.finish(Outcome::Failed(&e));
                        let id = message.request_id();
                        let _ = tx.send(protocol::error_json(id, &e)).await;
                        continue;
                    }
                },
                other => modern_other(other),
            },
            Revision::Legacy => {
                operation.session(&session.id);
                core.legacy_in(message, Some(&session.id), None, caller.clone(), None)
                    .instrument(span)
                    .await
            }
        };
        match step {
            Step::Accepted => operation.finish(Outcome::Ok),
            // The process's session lives as long as stdin is open.
            Step::NoSession(why) => {
                tracing::warn!(?why, "a message found no session");
                operation.finish(Outcome::Refused(why.as_str(), "no session"));
            }
            Step::Result(body) => {
                operation.finish(Outcome::Ok);
                let _ = tx.send(body).await;
            }
            Step::Error {
                id,
                era,
                error,
                malformed,
            } => {
                if let Some(era) = era {
                    operation.version(era.version());
                }
                operation.finish(Outcome::Failed(&error));
                tracing::debug!(code = ?error.code, era = era.map(Era::version), malformed, "request refused");
                let _ = tx.send(protocol::error_json(id.as_ref(), &error)).await;
            }
            Step::Limited(limited) => {
                let error = &limited.error;
                operation.finish(Outcome::Failed(error));
                tracing::info!(
                    retry_after = ?limited.retry_after,
                    server_wide = limited.server_wide,
                    "a request reached a limit"
                );
                let _ = tx
                    .send(protocol::error_json(Some(&limited.id), error))
                    .await;
            }
            Step::Forbidden(id, forbidden) => {
                recorder.auth(AuthOutcome::InsufficientScope);
                operation.forbidden(caller.as_deref(), &forbidden.needed());
                operation.finish(Outcome::Failed(&forbidden.error));
                tracing::info!(needed = ?forbidden.needed, "the local caller lacks scopes");
                let _ = tx
                    .send(protocol::error_json(Some(&id), &forbidden.error))
                    .await;
            }
            Step::Opened {
                body,
                session,
                version,
            } => {
                operation.version(version);
                if let Some(renewed) = session {
                    operation.session(&renewed.id);
                    let old = std::mem::replace(&mut *lock(&client), Arc::clone(&renewed));
                    core.sessions.local().remove(&old.id);
                    forward(renewed.open_stream(&core.hub), tx.clone());
                }
                operation.finish(Outcome::Ok);
                let _ = tx.send(body).await;
            }
            Step::Listen(rx) => {
                operation.finish(Outcome::Ok);
                forward(rx, tx.clone());
            }
            Step::Run(mut prepared) => {
                operation.version(prepared.call.era.version());
                let id = prepared.call.id.clone();
                if prepared.guard.is_none()
                    // A 2026-07-28 request is still the process's: cancellable the same way
                    // (the stdio session has no limit on requests in flight).
                    && let Some((token, guard)) = session.track(&id)
                {
                    prepared.call.cancellation = Some(token);
                    prepared.guard = Some(guard);
                }
                let Some(cancellation) = prepared.call.cancellation.clone() else {
                    continue;
                };
                if prepared.call.may_stream(&prepared.params) {
                    prepared.call.notifier = Some(tx.clone());
                }
                let (core, tx) = (Arc::clone(&core), tx.clone());
                let span = operation.span();
                tokio::spawn(async move {
                    let guard = prepared.guard;
                    let run = core.run(&prepared.method, prepared.params, prepared.call);
                    let outcome = tokio::select! {
                        biased;
                        () = cancellation.cancelled() => return,
                        outcome = run.instrument(span) => outcome,
                    };
                    drop(guard);
                    let body = match outcome {
                        Ok(reply) => {
                            operation.finish(if reply.is_tool_error() {
                                Outcome::ToolError
                            } else {
                                Outcome::Ok
                            });
                            reply.into_response(&id)
                        }
                        Err(e) => {
                            operation.finish(Outcome::Failed(&e));
                            protocol::error_json(Some(&id), &e)
                        }
                    };
                    let _ = tx.send(body).await;
                });
            }
        }
    }
    // Ending the session cancels what still runs and closes its notification stream.
    let last = Arc::clone(&lock(&client));
    core.sessions.local().remove(&last.id);
    drop(tx);
    writer
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(e)))??;
    Ok(())
}

/// Writes what `rx` carries until either side closes.
fn forward(mut rx: mpsc::Receiver<Vec<u8>>, tx: mpsc::Sender<Vec<u8>>) {
    tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            if tx.send(message).await.is_err() {
                return;
            }
        }
    });
}

/// What [`read_line`] found.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// A line (without more than [`MAX_LINE`] bytes) is in the buffer.
    Read,
    /// A line longer than [`MAX_LINE`] was skipped.
    TooLong,
    /// stdin is closed.
    End,
}

/// Reads one line into `line`; a longer one than [`MAX_LINE`] is dropped as it is read, so
/// no more than the limit (plus the reader's buffer) is ever held.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    line: &mut Vec<u8>,
) -> std::io::Result<Line> {
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(if too_long {
                Line::TooLong
            } else if line.is_empty() {
                Line::End
            } else {
                Line::Read
            });
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (&available[..=at], true),
            None => (available, false),
        };
        let n = chunk.len();
        if !too_long && line.len() + n > MAX_LINE + 1 {
            too_long = true;
            line.clear();
            line.shrink_to(0);
        }
        if !too_long {
            line.extend_from_slice(chunk);
        }
        reader.consume(n);
        if done {
            return Ok(if too_long { Line::TooLong } else { Line::Read });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that yields `n` bytes of `x` without a newline, then `tail`, without ever
    /// holding them all.
    struct Endless {
        left: usize,
        tail: &'static [u8],
    }

    impl AsyncRead for Endless {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if self.left > 0 {
                let n = self.left.min(buf.remaining());
                buf.put_slice(&vec![b'x'; n]);
                self.left -= n;
            } else {
                let tail = self.tail;
                let n = tail.len().min(buf.remaining());
                buf.put_slice(&tail[..n]);
                self.tail = &tail[n..];
            }
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn an_over_long_line_is_skipped_without_being_kept() {
        let mut reader = BufReader::new(Endless {
            left: 3 * MAX_LINE,
            tail: b"\n{\"jsonrpc\":\"2.0\"}\n",
        });
        let mut line = Vec::new();
        assert_eq!(
            read_line(&mut reader, &mut line).await.unwrap(),
            Line::TooLong
        );
        assert_eq!(line.capacity(), 0, "nothing of the long line is kept");
        line.clear();
        assert_eq!(read_line(&mut reader, &mut line).await.unwrap(), Line::Read);
        assert_eq!(line, b"{\"jsonrpc\":\"2.0\"}\n");
        line.clear();
        assert_eq!(read_line(&mut reader, &mut line).await.unwrap(), Line::End);
    }
}
