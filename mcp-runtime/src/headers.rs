//! MCP's HTTP headers and the encoding of mirrored values (SEP-2243).
//!
//! Header names compare case-insensitively and values case-sensitively. A value that is not
//! plain header-safe ASCII travels as `=?base64?<base64 of the UTF-8>?=` and is decoded
//! before it is compared with the body.

use std::borrow::Cow;

use base64::Engine as _;

/// `Mcp-Session-Id`: the 2025-11-25 session.
pub const MCP_SESSION_ID: &str = "mcp-session-id";
/// `MCP-Protocol-Version`: the request's protocol revision.
pub const MCP_PROTOCOL_VERSION: &str = "mcp-protocol-version";
/// `Mcp-Method`: mirrors the JSON-RPC `method` (2026-07-28).
pub const MCP_METHOD: &str = "mcp-method";
/// `Mcp-Name`: mirrors `params.name` or `params.uri` (2026-07-28).
pub const MCP_NAME: &str = "mcp-name";
/// `Last-Event-ID`: where a resumed SSE stream continues.
pub const LAST_EVENT_ID: &str = "last-event-id";

/// Decodes a mirrored header value: trims optional whitespace and unwraps the
/// `=?base64?…?=` form. `None` when the value is not valid.
pub fn decode_mirrored(raw: &[u8]) -> Option<Cow<'_, str>> {
    let value = std::str::from_utf8(raw).ok()?.trim_matches([' ', '\t']);
    if let Some(inner) = value
        .strip_prefix("=?base64?")
        .and_then(|v| v.strip_suffix("?="))
    {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(inner)
            .ok()?;
        return String::from_utf8(bytes).ok().map(Cow::Owned);
    }
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Some(Cow::Borrowed(value))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plain_trimmed_and_base64_values() {
        assert_eq!(
            decode_mirrored(b"tools/call").as_deref(),
            Some("tools/call")
        );
        assert_eq!(decode_mirrored(b"  add  ").as_deref(), Some("add"));
        assert_eq!(
            decode_mirrored(b"=?base64?SGVsbG8=?=").as_deref(),
            Some("Hello")
        );
        assert_eq!(
            decode_mirrored("=?base64?w6lsYW4=?=".as_bytes()).as_deref(),
            Some("élan")
        );
        assert_eq!(
            decode_mirrored(b"=?base64?SGVsbG8?="),
            None,
            "unpadded base64 is invalid"
        );
        assert_eq!(decode_mirrored(b"=?base64?***?="), None);
        assert_eq!(decode_mirrored(&[0xff, 0xfe]), None);
    }
}
