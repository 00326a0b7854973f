//! The stage after the body is read: which revision a message speaks, and the header rules
//! of each, ending in a [`Step`] of the connection core.
//!
//! 2026-07-28 (SEP-2243): `MCP-Protocol-Version` must be sent and equal the `_meta`
//! version; `Mcp-Method` mirrors the method and `Mcp-Name` the tool, prompt or resource the
//! body names (400, -32020 otherwise). 2025-11-25: the session named by `Mcp-Session-Id`
//! (400 without one, 404 for one that does not exist), at its version unless a supported
//! `MCP-Protocol-Version` says otherwise (400 for one that is not).

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Map, Value};

use super::error::Refusal;
use super::header_str;
use crate::auth::Principal;
use crate::connection::{Core, ModernMeta, NoSession, Revision, Step, classify, modern_other};
use crate::headers::{self, decode_mirrored};
use crate::protocol::{ErrorCode, Message, RpcError};
use crate::server::McpServer;
use crate::server::mirror::{self, MirroredArg, Mismatch};

pub(super) const MCP_SESSION_ID: HeaderName = HeaderName::from_static(headers::MCP_SESSION_ID);
pub(super) const MCP_PROTOCOL_VERSION: HeaderName =
    HeaderName::from_static(headers::MCP_PROTOCOL_VERSION);
const MCP_METHOD: HeaderName = HeaderName::from_static(headers::MCP_METHOD);
const MCP_NAME: HeaderName = HeaderName::from_static(headers::MCP_NAME);

/// Routes one `POST`ed message to the core.
pub(super) async fn route<S: McpServer>(
    core: &Core<S>,
    headers: &HeaderMap,
    message: Message,
    caller: Option<Arc<Principal>>,
    peer: Option<std::net::IpAddr>,
) -> Step {
    let version = header_str(headers, &MCP_PROTOCOL_VERSION);
    if version.is_none() && headers.contains_key(MCP_PROTOCOL_VERSION) {
        // Sent, but not text: no revision is named like that, in or out of a session.
        return Step::Error {
            id: message.request_id().cloned(),
            era: None,
            error: RpcError::new(
                ErrorCode::InvalidRequest,
                "`MCP-Protocol-Version` must be a protocol version",
            ),
            malformed: true,
        };
    }
    match classify(&message, headers.contains_key(MCP_SESSION_ID), version) {
        Revision::Modern => modern(core, headers, version, message, caller),
        Revision::Legacy => {
            let session = header_str(headers, &MCP_SESSION_ID);
            core.legacy_in(message, session, version, caller, peer)
                .await
        }
    }
}

fn modern<S: McpServer>(
    core: &Core<S>,
    headers: &HeaderMap,
    version: Option<&str>,
    message: Message,
    caller: Option<Arc<Principal>>,
) -> Step {
    if !matches!(message, Message::Request { .. }) {
        return modern_other(message);
    }
    let mismatch = |message: &Message, why: String| Step::Error {
        id: message.request_id().cloned(),
        era: None,
        error: RpcError::new(ErrorCode::HeaderMismatch, why),
        malformed: true,
    };
    let Some(header_version) = version else {
        return mismatch(&message, "missing `MCP-Protocol-Version` header".into());
    };
    let meta = match ModernMeta::read(&message) {
        Ok(meta) => meta,
        Err(error) => {
            return Step::Error {
                id: message.request_id().cloned(),
                era: None,
                error,
                malformed: true,
            };
        }
    };
    if header_version != meta.version() {
        return mismatch(
            &message,
            "`MCP-Protocol-Version` header does not match `_meta` protocol version".into(),
        );
    }
    if let (Some(method), Some(params)) = (message.method(), message.params()) {
        if let Err(why) = check_mirrored(headers, method, params) {
            return mismatch(&message, why);
        }
        if method == "tools/call"
            && let Some(name) = params.get("name").and_then(Value::as_str)
            && let Err(why) = check_params(headers, core.engine.mirrored(name), params)
        {
            return mismatch(&message, why.to_string());
        }
    }
    core.modern(message, &meta, caller)
}

/// 400 for a 2025-11-25 message without a session, 404 for one whose session does not
/// exist (or is another caller's).
pub(super) fn no_session(why: NoSession) -> Refusal {
    match why {
        NoSession::Missing => Refusal::new(
            StatusCode::BAD_REQUEST,
            "missing `Mcp-Session-Id` header; send `initialize` first",
        ),
        NoSession::Unknown => Refusal::new(
            StatusCode::NOT_FOUND,
            "session not found; send `initialize` again",
        ),
        NoSession::StoreDown => STORE_DOWN,
    }
}

/// 503 while the session store shared by replicas does not answer.
pub(super) const STORE_DOWN: Refusal = Refusal::new(
    StatusCode::SERVICE_UNAVAILABLE,
    "the session store is unavailable; try again shortly",
);

/// SEP-2243: `Mcp-Method` always, `Mcp-Name` where the body names a tool, prompt or resource,
/// or a task (the Tasks extension's `tasks/*`).
fn check_mirrored(
    headers: &HeaderMap,
    method: &str,
    params: &Map<String, Value>,
) -> Result<(), String> {
    mirrors(headers.get(MCP_METHOD), method, "Mcp-Method")?;
    let name_key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return Ok(()),
    };
    match params.get(name_key).and_then(Value::as_str) {
        Some(body_value) => mirrors(headers.get(MCP_NAME), body_value, "Mcp-Name"),
        None => Ok(()),
    }
}

/// SEP-2243 `Mcp-Param-*`: the arguments the tool mirrors, against the headers sent.
fn check_params(
    headers: &HeaderMap,
    mirrored: &'static [MirroredArg],
    params: &Map<String, Value>,
) -> Result<(), Mismatch> {
    if mirrored.is_empty() {
        return Ok(());
    }
    let arguments = params.get("arguments").and_then(Value::as_object);
    mirror::check(mirrored, arguments, |key| {
        // Lowercase and valid, as the macros wrote it: no parsing of the name.
        let mut sent = headers.get_all(HeaderName::from_static(key)).iter();
        let first = sent.next().map(HeaderValue::as_bytes);
        (first, sent.next().is_some())
    })
}

/// Whether the header `name` mirrors `body_value`: verbatim, with whitespace around, or
/// base64-encoded.
fn mirrors(header: Option<&HeaderValue>, body_value: &str, name: &str) -> Result<(), String> {
    let Some(header) = header else {
        return Err(format!("missing `{name}` header"));
    };
    let raw = header.as_bytes();
    // The common case, a plain value sent as is, needs no decoding.
    let plain = raw.iter().all(|b| (0x21..0x7f).contains(b)) && !raw.starts_with(b"=?");
    if plain && raw == body_value.as_bytes() {
        return Ok(());
    }
    match decode_mirrored(raw) {
        None => Err(format!("`{name}` header has invalid characters")),
        Some(v) if v != body_value => Err(format!("`{name}` header does not match the body")),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn params(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn mirrored_headers_must_match_the_body() {
        let call = params(r#"{"name":"add"}"#);
        let ok = headers(&[("mcp-method", "tools/call"), ("mcp-name", "add")]);
        assert_eq!(check_mirrored(&ok, "tools/call", &call), Ok(()));
        let spaced = headers(&[
            ("mcp-method", " tools/call "),
            ("mcp-name", "=?base64?YWRk?="),
        ]);
        assert_eq!(check_mirrored(&spaced, "tools/call", &call), Ok(()));
        let wrong = headers(&[("mcp-method", "tools/call"), ("mcp-name", "sub")]);
        assert!(
            check_mirrored(&wrong, "tools/call", &call)
                .unwrap_err()
                .contains("does not match")
        );
        let none = headers(&[("mcp-method", "tools/call")]);
        assert!(
            check_mirrored(&none, "tools/call", &call)
                .unwrap_err()
                .contains("missing `Mcp-Name`")
        );
        assert!(check_mirrored(&HeaderMap::new(), "ping", &params("{}")).is_err());
        assert_eq!(
            check_mirrored(&headers(&[("mcp-method", "ping")]), "ping", &params("{}")),
            Ok(())
        );
    }
}
