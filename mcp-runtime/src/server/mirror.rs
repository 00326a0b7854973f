//! Tool arguments mirrored into `Mcp-Param-<Name>` headers (2026-07-28, SEP-2243).
//!
//! `#[arg(header = "Region")]` on a tool parameter annotates its property with
//! `x-mcp-header`, so that a client sends the value in `Mcp-Param-Region` too and an
//! intermediary can route on it. The macros check the name (an HTTP token, unique within
//! the tool whatever its case) and, through [`HeaderArg`], the type; they write the table of
//! each tool's mirrored arguments ([`MirroredArg`]) that the HTTP transport compares the
//! headers against, without reading any schema.

use schemars::{Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value};

/// The largest integer every client represents exactly (`Number.MAX_SAFE_INTEGER`): a
/// mirrored integer stays within ±this.
pub(crate) const SAFE_INTEGER: i64 = (1 << 53) - 1;

/// One argument of a tool mirrored into a header, as the macros declare it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct MirroredArg {
    /// The argument's property name.
    pub arg: &'static str,
    /// The name after `Mcp-Param-`, as declared (`Region`).
    pub header: &'static str,
    /// The whole header name in lowercase (`mcp-param-region`).
    pub key: &'static str,
}

/// A type whose value can travel in an `Mcp-Param-*` header: a string, an integer or a
/// boolean, or an `Option` of one (`None` sends no header). Implemented for `String`,
/// `bool` and the integer types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be mirrored into an `Mcp-Param-*` header",
    label = "not a string, an integer or a boolean",
    note = "a mirrored argument is a string, an integer or a boolean property of the arguments: not a number (`f32`, `f64`), and not a value whose schema is reached through `items`, `oneOf` or `$ref` (a list, an enum, a struct)"
)]
pub trait HeaderArg {
    /// The property's schema: one `type` (never with `null`, which clients refuse on a
    /// mirrored property), integers within the range every client represents exactly.
    fn header_schema(generator: &mut SchemaGenerator) -> Schema;
}

impl HeaderArg for String {
    fn header_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string"})
    }
}

impl HeaderArg for bool {
    fn header_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "boolean"})
    }
}

impl<T: HeaderArg> HeaderArg for Option<T> {
    fn header_schema(generator: &mut SchemaGenerator) -> Schema {
        T::header_schema(generator)
    }
}

macro_rules! integers {
    ($($ty:ty),*) => {$(
        impl HeaderArg for $ty {
            #[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation, clippy::cast_lossless)]
            fn header_schema(_: &mut SchemaGenerator) -> Schema {
                let low = (<$ty>::MIN as i128).max(-(SAFE_INTEGER as i128)) as i64;
                let high = (<$ty>::MAX as i128).min(SAFE_INTEGER as i128) as i64;
                json_schema!({"type": "integer", "minimum": low, "maximum": high})
            }
        }
    )*};
}

integers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

/// Why the headers of a `tools/call` do not mirror its arguments (400, -32020).
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) enum Mismatch {
    /// The argument has a value and its header is missing.
    Missing(&'static MirroredArg),
    /// The header is sent but the argument is absent or `null`.
    Unexpected(&'static MirroredArg),
    /// The header is sent more than once.
    Repeated(&'static MirroredArg),
    /// The header is no valid value (bad characters, bad base64).
    Invalid(&'static MirroredArg),
    /// The header's value is not the argument's.
    Differs(&'static MirroredArg),
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(m) => write!(
                f,
                "missing `Mcp-Param-{}` header for the `{}` argument",
                m.header, m.arg
            ),
            Self::Unexpected(m) => write!(
                f,
                "`Mcp-Param-{}` header is sent but the `{}` argument is not",
                m.header, m.arg
            ),
            Self::Repeated(m) => write!(f, "`Mcp-Param-{}` header is sent twice", m.header),
            Self::Invalid(m) => write!(f, "`Mcp-Param-{}` header has invalid characters", m.header),
            Self::Differs(m) => write!(
                f,
                "`Mcp-Param-{}` header does not match the `{}` argument",
                m.header, m.arg
            ),
        }
    }
}

/// Checks the headers of one `tools/call` against its arguments: `header(key)` gives the
/// values sent under a lowercase header name. A `null` or absent argument expects no header;
/// a value expects exactly one, equal after decoding (integers compared as numbers, booleans
/// as `true`/`false`).
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn check<'h>(
    mirrored: &'static [MirroredArg],
    arguments: Option<&Map<String, Value>>,
    mut header: impl FnMut(&'static str) -> (Option<&'h [u8]>, bool),
) -> Result<(), Mismatch> {
    for m in mirrored {
        let (sent, repeated) = header(m.key);
        let value = arguments
            .and_then(|a| a.get(m.arg))
            .filter(|v| !v.is_null());
        let (value, raw) = match (value, sent) {
            (None, None) => continue,
            (None, Some(_)) => return Err(Mismatch::Unexpected(m)),
            (Some(_), None) => return Err(Mismatch::Missing(m)),
            (Some(_), Some(_)) if repeated => return Err(Mismatch::Repeated(m)),
            (Some(value), Some(raw)) => (value, raw),
        };
        // The common case, a plain value sent as is, needs no decoding.
        let plain = raw.iter().all(|b| (0x21..0x7f).contains(b)) && !raw.starts_with(b"=?");
        let sent = match std::str::from_utf8(raw) {
            Ok(sent) if plain => std::borrow::Cow::Borrowed(sent),
            _ => crate::headers::decode_mirrored(raw).ok_or(Mismatch::Invalid(m))?,
        };
        let equal = match value {
            Value::String(s) => *s == *sent,
            Value::Bool(b) => sent == if *b { "true" } else { "false" },
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(n), _) => sent.parse::<i64>().is_ok_and(|h| h == n),
                (None, Some(n)) => sent.parse::<u64>().is_ok_and(|h| h == n),
                _ => false,
            },
            _ => false,
        };
        if !equal {
            return Err(Mismatch::Differs(m));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    static MIRRORED: [MirroredArg; 3] = [
        MirroredArg {
            arg: "region",
            header: "Region",
            key: "mcp-param-region",
        },
        MirroredArg {
            arg: "priority",
            header: "Priority",
            key: "mcp-param-priority",
        },
        MirroredArg {
            arg: "verbose",
            header: "Verbose",
            key: "mcp-param-verbose",
        },
    ];

    fn run(arguments: &Value, sent: &[(&'static str, &'static str)]) -> Result<(), String> {
        check(&MIRRORED, arguments.as_object(), |key| {
            let mut values = sent
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.as_bytes());
            let first = values.next();
            (first, values.next().is_some())
        })
        .map_err(|m| m.to_string())
    }

    #[test]
    fn headers_must_mirror_the_arguments() {
        let args = json!({"region": "eu-west", "priority": 7, "verbose": true});
        let all = [
            ("mcp-param-region", "eu-west"),
            ("mcp-param-priority", "7"),
            ("mcp-param-verbose", "true"),
        ];
        assert_eq!(run(&args, &all), Ok(()));
        // Base64, numbers compared as numbers, whitespace around.
        let encoded = [
            ("mcp-param-region", "=?base64?ZXUtd2VzdA==?="),
            ("mcp-param-priority", " 007 "),
            ("mcp-param-verbose", "true"),
        ];
        assert_eq!(run(&args, &encoded), Ok(()));
        // `null` and absent arguments expect no header.
        assert_eq!(
            run(
                &json!({"region": "x", "priority": null}),
                &[("mcp-param-region", "x")]
            ),
            Ok(())
        );
        let err =
            |args: &Value, sent: &[(&'static str, &'static str)]| run(args, sent).unwrap_err();
        assert_eq!(
            err(&args, &all[1..]),
            "missing `Mcp-Param-Region` header for the `region` argument"
        );
        assert_eq!(
            err(&json!({}), &all[..1]),
            "`Mcp-Param-Region` header is sent but the `region` argument is not"
        );
        assert_eq!(
            err(&args, &[all[0], all[0], all[1], all[2]]),
            "`Mcp-Param-Region` header is sent twice"
        );
        assert_eq!(
            err(
                &json!({"region": "Hello"}),
                &[("mcp-param-region", "=?base64?SGVsbG8?=")]
            ),
            "`Mcp-Param-Region` header has invalid characters"
        );
        assert_eq!(
            err(
                &json!({"region": "Hello"}),
                &[("mcp-param-region", "=?base64?SGVs!!!bG8=?=")]
            ),
            "`Mcp-Param-Region` header has invalid characters"
        );
        assert_eq!(
            err(
                &json!({"region": "Hello"}),
                &[("mcp-param-region", "hello")]
            ),
            "`Mcp-Param-Region` header does not match the `region` argument"
        );
        assert!(
            err(&json!({"priority": 7}), &[("mcp-param-priority", "7.0")])
                .contains("does not match")
        );
        assert!(
            err(
                &json!({"verbose": false}),
                &[("mcp-param-verbose", "False")]
            )
            .contains("does not match")
        );
        assert!(
            err(&json!({"priority": 7.5}), &[("mcp-param-priority", "7")])
                .contains("does not match")
        );
        // What looks like base64 without both ends is a literal value.
        assert_eq!(
            run(
                &json!({"region": "=?base64?SGVsbG8="}),
                &[("mcp-param-region", "=?base64?SGVsbG8=")]
            ),
            Ok(())
        );
    }

    #[test]
    fn mirrored_schemas_have_one_type_and_safe_integers() {
        let mut generator = SchemaGenerator::default();
        assert_eq!(
            <Option<String>>::header_schema(&mut generator).to_value(),
            json!({"type": "string"})
        );
        assert_eq!(
            u64::header_schema(&mut generator).to_value(),
            json!({"type": "integer", "minimum": 0, "maximum": SAFE_INTEGER})
        );
        assert_eq!(
            i8::header_schema(&mut generator).to_value(),
            json!({"type": "integer", "minimum": -128, "maximum": 127})
        );
        assert_eq!(
            i64::header_schema(&mut generator).to_value(),
            json!({"type": "integer", "minimum": -SAFE_INTEGER, "maximum": SAFE_INTEGER})
        );
    }
}
