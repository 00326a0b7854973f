//! Outgoing JSON-RPC messages, written straight to bytes: responses, errors, notifications.

use serde_json::Value;

use super::{RequestId, RpcError};

/// Serializes a success response.
pub(crate) fn response_json(id: &RequestId, result: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    write_response_head(&mut out, Some(id));
    out.extend_from_slice(b"\"result\":");
    serde_json::to_writer(&mut out, result).expect("serializing a JSON value cannot fail");
    out.push(b'}');
    out
}

/// Serializes a success response whose result is already serialized JSON.
pub(crate) fn response_raw(id: &RequestId, raw_result: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw_result.len() + 48);
    write_response_head(&mut out, Some(id));
    out.extend_from_slice(b"\"result\":");
    out.extend_from_slice(raw_result);
    out.push(b'}');
    out
}

/// Serializes an error response; `id` is `null` when the request's id could not be read.
pub(crate) fn error_json(id: Option<&RequestId>, error: &RpcError) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    write_response_head(&mut out, id);
    out.extend_from_slice(b"\"error\":");
    serde_json::to_writer(&mut out, &error.to_value())
        .expect("serializing a JSON value cannot fail");
    out.push(b'}');
    out
}

pub(crate) fn write_response_head(out: &mut Vec<u8>, id: Option<&RequestId>) {
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    match id {
        Some(id) => serde_json::to_writer(&mut *out, id).expect("serializing an id cannot fail"),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b',');
}

/// Serializes a notification.
pub(crate) fn notification_json(method: &str, params: &Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"jsonrpc": "2.0", "method": method, "params": params}))
        .expect("serializing a JSON value cannot fail")
}
