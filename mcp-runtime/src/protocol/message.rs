//! One JSON-RPC 2.0 message, read leniently enough to answer every malformed one with the
//! right error and, where it can be read, the request's own `id`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use super::rpc_error::{ErrorCode, RpcError};

/// A JSON-RPC request id: a string or an integer (MCP forbids `null`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum RequestId {
    /// An integer id.
    Number(i64),
    /// A string id.
    String(String),
}

impl RequestId {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::String(s) => Some(Self::String(s.clone())),
            Value::Number(n) => n.as_i64().map(Self::Number),
            _ => None,
        }
    }

    /// The id as JSON.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Number(n) => Value::from(*n),
            Self::String(s) => Value::from(s.as_str()),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;

        impl Visitor<'_> for IdVisitor {
            type Value = RequestId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<RequestId, E> {
                Ok(RequestId::Number(n))
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<RequestId, E> {
                i64::try_from(n)
                    .map(RequestId::Number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<RequestId, E> {
                Ok(RequestId::String(s.to_owned()))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<RequestId, E> {
                Ok(RequestId::String(s))
            }
        }

        deserializer.deserialize_any(IdVisitor)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// One incoming JSON-RPC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A request: it has an `id` and expects a response.
    Request {
        /// The request id.
        id: RequestId,
        /// The method name.
        method: String,
        /// The params object (empty when absent).
        params: Map<String, Value>,
    },
    /// A notification: no `id`, no response.
    Notification {
        /// The method name.
        method: String,
        /// The params object (empty when absent).
        params: Map<String, Value>,
    },
    /// A response from the client to a server-to-client request.
    Response {
        /// The id of the server's request.
        id: RequestId,
        /// The `result`, or the `error` object.
        outcome: Result<Value, Value>,
    },
}

impl Message {
    /// Reads one message from bytes.
    ///
    /// # Errors
    ///
    /// -32700 when the bytes are not JSON; -32600 (with the request id when it can be read)
    /// when the JSON is not a single JSON-RPC 2.0 message.
    pub fn parse(bytes: &[u8]) -> Result<Self, (Option<RequestId>, RpcError)> {
        if bytes.len() >= SCAN_FROM && widest_object(bytes) > MAX_OBJECT_MEMBERS {
            return Err((
                None,
                RpcError::new(
                    ErrorCode::InvalidRequest,
                    format!(
                        "invalid request: an object has more than {MAX_OBJECT_MEMBERS} members"
                    ),
                ),
            ));
        }
        // A well-formed message is read straight into its parts; anything else is read
        // again as a `Value` to say precisely what is wrong with it.
        if let Ok(envelope) = serde_json::from_slice::<Envelope<'_>>(bytes)
            && envelope.jsonrpc == "2.0"
        {
            match envelope {
                Envelope {
                    id,
                    method: Some(method),
                    params,
                    ..
                } => {
                    let params = params.unwrap_or_default();
                    return Ok(match id {
                        Some(id) => Self::Request { id, method, params },
                        None => Self::Notification { method, params },
                    });
                }
                Envelope {
                    id: Some(id),
                    result: Some(result),
                    ..
                } => {
                    return Ok(Self::Response {
                        id,
                        outcome: Ok(result),
                    });
                }
                Envelope {
                    id: Some(id),
                    error: Some(error),
                    ..
                } => {
                    return Ok(Self::Response {
                        id,
                        outcome: Err(error),
                    });
                }
                Envelope { .. } => {}
            }
        }
        Self::parse_value(bytes)
    }

    /// Reads a message that is not well-formed, or not a message, to say what is wrong.
    #[cold]
    #[inline(never)]
    fn parse_value(bytes: &[u8]) -> Result<Self, (Option<RequestId>, RpcError)> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            let detail = if e.is_eof() {
                "the body ends early"
            } else {
                "the body is not valid JSON"
            };
            (
                None,
                RpcError::new(ErrorCode::ParseError, format!("parse error: {detail}")),
            )
        })?;
        Self::from_value(value)
    }

    /// Reads one message from parsed JSON.
    ///
    /// # Errors
    ///
    /// -32600 (with the request id when it can be read) when the JSON is not a single
    /// JSON-RPC 2.0 message.
    pub fn from_value(value: Value) -> Result<Self, (Option<RequestId>, RpcError)> {
        let invalid = |id: Option<RequestId>, why: &str| {
            (
                id,
                RpcError::new(ErrorCode::InvalidRequest, format!("invalid request: {why}")),
            )
        };
        let Value::Object(mut obj) = value else {
            return Err(match value {
                Value::Array(_) => invalid(
                    None,
                    "batches are not supported; send one message per request",
                ),
                _ => invalid(None, "a JSON-RPC message is a JSON object"),
            });
        };
        let id = match obj.remove("id") {
            None => None,
            Some(v) => match RequestId::from_value(&v) {
                Some(id) => Some(id),
                None => return Err(invalid(None, "`id` must be a string or an integer")),
            },
        };
        if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(invalid(id, "`jsonrpc` must be \"2.0\""));
        }
        let params = match obj.remove("params") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(p)) => p,
            Some(_) => return Err(invalid(id, "`params` must be an object")),
        };
        match (obj.remove("method"), id) {
            (Some(Value::String(method)), Some(id)) => Ok(Self::Request { id, method, params }),
            (Some(Value::String(method)), None) => Ok(Self::Notification { method, params }),
            (Some(_), id) => Err(invalid(id, "`method` must be a string")),
            (None, Some(id)) => {
                if let Some(result) = obj.remove("result") {
                    Ok(Self::Response {
                        id,
                        outcome: Ok(result),
                    })
                } else if let Some(error) = obj.remove("error") {
                    Ok(Self::Response {
                        id,
                        outcome: Err(error),
                    })
                } else {
                    Err(invalid(Some(id), "a request needs `method`"))
                }
            }
            (None, None) => Err(invalid(None, "a request needs `method`")),
        }
    }

    /// The method, for requests and notifications.
    pub fn method(&self) -> Option<&str> {
        match self {
            Self::Request { method, .. } | Self::Notification { method, .. } => Some(method),
            Self::Response { .. } => None,
        }
    }

    /// The params object, for requests and notifications.
    pub fn params(&self) -> Option<&Map<String, Value>> {
        match self {
            Self::Request { params, .. } | Self::Notification { params, .. } => Some(params),
            Self::Response { .. } => None,
        }
    }

    /// The request id, for requests.
    pub fn request_id(&self) -> Option<&RequestId> {
        match self {
            Self::Request { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// The most members a JSON object of a message may have. Building a map costs far more per
/// member than reading the bytes does, so a body of a few megabytes made of one wide object
/// would cost a parse of a tenth of a second; it is refused after a scan instead.
pub(crate) const MAX_OBJECT_MEMBERS: usize = 10_000;

/// Bodies shorter than this cannot hold an object wider than [`MAX_OBJECT_MEMBERS`] (each
/// member takes at least four bytes, `"":0`), so they are not scanned.
const SCAN_FROM: usize = MAX_OBJECT_MEMBERS * 4;

/// The most members of any one object in `bytes`, read as JSON without parsing it: a
/// member is a `:` outside strings, counted against the innermost open object.
fn widest_object(bytes: &[u8]) -> usize {
    let mut open: Vec<usize> = Vec::new();
    let mut widest = 0;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => open.push(0),
            // An array inside an object counts nothing against it.
            b'[' => open.push(usize::MAX),
            b'}' | b']' => {
                open.pop();
            }
            b':' => {
                if let Some(n) = open.last_mut().filter(|n| **n != usize::MAX) {
                    *n += 1;
                    widest = widest.max(*n);
                }
            }
            _ => {}
        }
    }
    widest
}

/// The members of a well-formed message. A member that is present must have its type:
/// `null` is refused even where the member is optional, so that such messages take the
/// path that explains the error.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    jsonrpc: &'a str,
    #[serde(default, deserialize_with = "present")]
    id: Option<RequestId>,
    #[serde(default, deserialize_with = "present")]
    method: Option<String>,
    #[serde(default, deserialize_with = "null_or_present")]
    params: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    error: Option<Value>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `params: null` reads as no params.
fn null_or_present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::wire::{error_json, response_json};

    fn err(bytes: &[u8]) -> (Option<RequestId>, i64) {
        let (id, e) = Message::parse(bytes).unwrap_err();
        (id, e.code.code())
    }

    #[test]
    fn objects_wider_than_the_limit_are_refused_before_parsing() {
        assert_eq!(
            widest_object(br#"{"a":1,"b":{"c":":","d":[1,{"e":2}]}}"#),
            2
        );
        assert_eq!(widest_object(br#"{"a\":b":1}"#), 1);
        let members = |n: usize| {
            let keys: Vec<String> = (0..n).map(|i| format!("\"k{i}\":0")).collect();
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"t","arguments":{{{}}}}}}}"#,
                keys.join(",")
            )
        };
        let wide = members(MAX_OBJECT_MEMBERS + 1);
        let (id, e) = Message::parse(wide.as_bytes()).unwrap_err();
        assert_eq!((id, e.code.code()), (None, -32600));
        assert!(e.message.contains("10000 members"), "{}", e.message);
        assert!(Message::parse(members(MAX_OBJECT_MEMBERS).as_bytes()).is_ok());
        // Many small objects are fine.
        let many: Vec<&str> = std::iter::repeat_n(r#"{"a":1}"#, 20_000).collect();
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"t","arguments":{{"list":[{}]}}}}}}"#,
            many.join(",")
        );
        assert!(Message::parse(body.as_bytes()).is_ok());
    }

    #[test]
    fn reads_requests_notifications_and_responses() {
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#).unwrap();
        assert_eq!(m.request_id(), Some(&RequestId::Number(7)));
        assert_eq!(m.method(), Some("tools/list"));
        let m =
            Message::parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(m, Message::Notification { .. }));
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap();
        assert!(matches!(m, Message::Response { outcome: Ok(_), .. }));
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":"a","result":null}"#).unwrap();
        assert!(matches!(
            m,
            Message::Response {
                outcome: Ok(Value::Null),
                ..
            }
        ));
        let m = Message::parse(br#"{"id":3,"error":{"code":1},"jsonrpc":"2.0"}"#).unwrap();
        assert!(matches!(
            m,
            Message::Response {
                outcome: Err(_),
                ..
            }
        ));
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping","params":null,"x":[]}"#)
            .unwrap();
        assert_eq!(m.params(), Some(&Map::new()));
        let escaped = Message::parse(br#"{"jsonrpc":"2.\u0030","id":1,"method":"p\u0069ng"}"#);
        assert_eq!(escaped.unwrap().method(), Some("ping"));
    }

    #[test]
    fn rejects_malformed_messages_keeping_the_id() {
        assert_eq!(err(b"{not json"), (None, -32700));
        assert_eq!(err(b"[]"), (None, -32600));
        assert_eq!(err(b"3"), (None, -32600));
        assert_eq!(
            err(br#"{"jsonrpc":"2.0","id":null,"method":"x"}"#),
            (None, -32600)
        );
        assert_eq!(
            err(br#"{"jsonrpc":"1.0","id":5,"method":"x"}"#),
            (Some(RequestId::Number(5)), -32600)
        );
        assert_eq!(
            err(br#"{"jsonrpc":"2.0","id":"k","method":"x","params":[1]}"#),
            (Some(RequestId::String("k".into())), -32600)
        );
        assert_eq!(
            err(br#"{"jsonrpc":"2.0","id":1,"method":3}"#),
            (Some(RequestId::Number(1)), -32600)
        );
        assert_eq!(
            err(br#"{"jsonrpc":"2.0","id":1,"method":null}"#),
            (Some(RequestId::Number(1)), -32600)
        );
        assert_eq!(
            err(br#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"x"}"#),
            (None, -32600)
        );
        assert_eq!(
            err(br#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#),
            (None, -32600)
        );
        assert_eq!(err(br#"{"jsonrpc":"2.0","result":{}}"#), (None, -32600));
        assert_eq!(
            err(br#"{"jsonrpc":"2.0","id":2}"#),
            (Some(RequestId::Number(2)), -32600)
        );
    }

    #[test]
    fn serializes_responses_compactly() {
        let id = RequestId::String("x".into());
        let body = response_json(&id, &serde_json::json!({"a": 1}));
        assert_eq!(body, br#"{"jsonrpc":"2.0","id":"x","result":{"a":1}}"#);
        let body = error_json(None, &RpcError::new(ErrorCode::ParseError, "bad"));
        assert_eq!(
            body,
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}"#
        );
    }
}
