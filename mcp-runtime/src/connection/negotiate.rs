//! Which revision a message speaks, and what a 2026-07-28 request says about itself.
//!
//! A message is 2026-07-28 when its `_meta` has a key under `io.modelcontextprotocol/`;
//! otherwise `initialize`, or a session named beside it, makes it 2025-11-25; otherwise a
//! protocol version sent beside it decides (an unknown one counts as 2026-07-28, so that it
//! gets that revision's errors). Without any of these it is 2025-11-25 at the version the
//! transport assumes (`2025-03-26` for Streamable HTTP, as that revision's spec says).

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{Core, Prepared, Step};
use crate::auth::Principal;
use crate::protocol::{
    self, META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_PREFIX, META_PROTOCOL_VERSION, Message,
    RequestId, RpcError,
};
use crate::server::McpServer;
use crate::server::call::{ClientDeclaration, ClientLink};
use crate::server::dispatch::{Call, Era, unsupported_version};
use crate::server::input::LogLevel;

/// The version assumed for a 2025-era message that names none, outside a session.
pub(crate) const DEFAULT_LEGACY_VERSION: &str = "2025-03-26";

/// `_meta` key of a 2026-07-28 request's log level.
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// The revision family of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revision {
    /// `initialize`-based revisions (2025-11-25 and before).
    Legacy,
    /// Stateless revisions with per-request `_meta` (2026-07-28).
    Modern,
}

/// The classifier of the module docs. `session_named` says the transport carries a
/// session id beside the message; `version` is a protocol version sent beside it.
pub(crate) fn classify(message: &Message, session_named: bool, version: Option<&str>) -> Revision {
    if message.params().is_some_and(has_modern_meta) {
        return Revision::Modern;
    }
    if message.method() == Some("initialize") || session_named {
        return Revision::Legacy;
    }
    if version.is_some_and(|v| protocol::legacy_version(v).is_none()) {
        Revision::Modern
    } else {
        Revision::Legacy
    }
}

fn has_modern_meta(params: &Map<String, Value>) -> bool {
    params
        .get("_meta")
        .and_then(Value::as_object)
        .is_some_and(|m| m.keys().any(|k| k.starts_with(META_PREFIX)))
}

/// The protocol version a 2026-07-28 request declares in its `_meta`.
#[derive(Debug)]
pub(crate) struct ModernMeta {
    version: Declared,
}

/// A declared version: one this server speaks (no copy needed), or another, as sent.
#[derive(Debug)]
enum Declared {
    Supported(&'static str),
    Unsupported(String),
}

impl ModernMeta {
    /// Reads a request's `_meta`, which must carry the protocol version and the client's
    /// capabilities (-32602 otherwise).
    ///
    /// # Errors
    ///
    /// The -32602 error to answer.
    pub(crate) fn read(message: &Message) -> Result<Self, RpcError> {
        let meta = message
            .params()
            .and_then(|p| p.get("_meta"))
            .and_then(Value::as_object);
        let version = meta
            .and_then(|m| m.get(META_PROTOCOL_VERSION))
            .and_then(Value::as_str);
        let capabilities = meta
            .and_then(|m| m.get(META_CLIENT_CAPABILITIES))
            .filter(|c| c.is_object());
        match (version, capabilities) {
            (Some(version), Some(_)) => Ok(Self {
                version: protocol::modern_version(version).map_or_else(
                    || Declared::Unsupported(version.to_owned()),
                    Declared::Supported,
                ),
            }),
            _ => Err(RpcError::invalid_params(format!(
                "`_meta` must carry `{META_PROTOCOL_VERSION}` and `{META_CLIENT_CAPABILITIES}`"
            ))),
        }
    }

    /// The version, as sent.
    pub(crate) fn version(&self) -> &str {
        match &self.version {
            Declared::Supported(v) => v,
            Declared::Unsupported(v) => v,
        }
    }

    /// The version, when this server speaks it.
    fn supported(&self) -> Option<&'static str> {
        match self.version {
            Declared::Supported(v) => Some(v),
            Declared::Unsupported(_) => None,
        }
    }
}

/// The version of a 2025-era message: its session's, else the one sent beside it, else
/// [`DEFAULT_LEGACY_VERSION`]. `Err` carries a version sent that this server does not speak.
pub(crate) fn legacy_version<'a>(
    session: Option<&'static str>,
    sent: Option<&'a str>,
) -> Result<&'static str, &'a str> {
    match sent {
        Some(v) => protocol::legacy_version(v).ok_or(v),
        None => Ok(session.unwrap_or(DEFAULT_LEGACY_VERSION)),
    }
}

/// The rest of [`Core::modern`] for a request.
pub(super) fn modern<S: McpServer>(
    core: &Core<S>,
    id: RequestId,
    method: String,
    mut params: Map<String, Value>,
    meta: &ModernMeta,
    caller: Option<Arc<Principal>>,
) -> Step {
    let malformed = |id, error| Step::Error {
        id: Some(id),
        era: None,
        error,
        malformed: true,
    };
    let Some(version) = meta.supported() else {
        return malformed(id, unsupported_version(meta.version()));
    };
    let era = Era::Modern(version);
    let log_level = params
        .get("_meta")
        .and_then(|m| m.get(META_LOG_LEVEL))
        .map(|l| l.as_str().and_then(LogLevel::parse));
    if let Some(None) = log_level {
        return Step::Error {
            id: Some(id),
            era: Some(era),
            error: RpcError::invalid_params(format!("unknown `{META_LOG_LEVEL}`")),
            malformed: false,
        };
    }
    if let Err(refusal) = super::authorize(core, &method, &params, caller.as_deref()) {
        return refusal.step(id, Some(era));
    }
    if method == "subscriptions/listen" {
        let owner = caller.as_ref().map(|c| c.subject.clone());
        return match super::listen::listen(core, &id, &params, owner) {
            Ok(stream) => Step::Listen(stream),
            Err(error) => Step::Error {
                id: Some(id),
                era: Some(era),
                error,
                malformed: false,
            },
        };
    }
    let link = ClientLink {
        log_level: log_level.flatten(),
        input_responses: params
            .get("inputResponses")
            .and_then(Value::as_object)
            .cloned(),
        hub: Some(core.hub.clone()),
        ..ClientLink::default()
    };
    // The client's description moves out of `_meta`; the rest (`progressToken`) stays.
    let client = match params.get_mut("_meta") {
        Some(Value::Object(meta)) => ClientDeclaration::new(
            meta.remove(META_CLIENT_INFO),
            meta.remove(META_CLIENT_CAPABILITIES),
        ),
        _ => ClientDeclaration::new(None, None),
    };
    Step::Run(Prepared {
        method,
        params,
        call: Call {
            id,
            era,
            client,
            cancellation: None,
            notifier: None,
            principal: caller,
            link,
        },
        guard: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ErrorCode;

    fn message(json: &str) -> Message {
        Message::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn the_body_then_the_session_then_the_version_decide() {
        let modern = message(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
        );
        let plain = message(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
        let init = message(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#);
        assert_eq!(classify(&modern, true, None), Revision::Modern);
        assert_eq!(classify(&init, false, Some("2026-07-28")), Revision::Legacy);
        assert_eq!(classify(&plain, true, Some("2099-01-01")), Revision::Legacy);
        assert_eq!(
            classify(&plain, false, Some("2099-01-01")),
            Revision::Modern
        );
        assert_eq!(
            classify(&plain, false, Some("2025-11-25")),
            Revision::Legacy
        );
        assert_eq!(classify(&plain, false, None), Revision::Legacy);
    }

    #[test]
    fn a_legacy_version_comes_from_the_session_the_message_or_the_default() {
        assert_eq!(legacy_version(Some("2025-06-18"), None), Ok("2025-06-18"));
        assert_eq!(
            legacy_version(Some("2025-06-18"), Some("2025-11-25")),
            Ok("2025-11-25")
        );
        assert_eq!(legacy_version(None, None), Ok(DEFAULT_LEGACY_VERSION));
        assert_eq!(legacy_version(None, Some("1999")), Err("1999"));
    }

    #[test]
    fn modern_meta_needs_version_and_capabilities() {
        let ok = message(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
        );
        assert_eq!(ModernMeta::read(&ok).unwrap().version(), "2026-07-28");
        let no_caps = message(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
        );
        assert_eq!(
            ModernMeta::read(&no_caps).unwrap_err().code,
            ErrorCode::InvalidParams
        );
    }
}
