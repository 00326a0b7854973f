//! JSON Schema 2020-12 for tool inputs and outputs, built with schemars once per server.
//!
//! MCP requires `inputSchema` to be an object schema; 2025-11-25 also requires an object
//! root for `outputSchema`, so a tool returning, say, a list gets `{"result": [...]}`.
//!
//! 2020-12 is the dialect a schema without `$schema` has since MCP 2025-11-25, so generated
//! schemas do not name it: in a list of a hundred tools that is 13 KB less per
//! `tools/list`. A `$schema` that a type's own `JsonSchema` writes is kept as written.
//!
//! Integer widths are written as bounds, not formats: schemars' `format: "uint32"`,
//! `"uint8"`, `"int16"`, `"uint"` and the like are known to no validator that clients use
//! (`ajv-formats`, which the official TypeScript SDK and the MCP Inspector load, warns on
//! each and checks nothing), so each becomes the `minimum` and `maximum` it stands for, which
//! every validator enforces. `int32` goes the same way (a validator without `ajv-formats`
//! refuses any format), and `format: "double"` and `"int64"`, the default widths, are
//! dropped: they say nothing beyond the `type`. Optional values stay `type: [T, "null"]`,
//! which both accept.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::transform::{RecursiveTransform, Transform as _};
use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::protocol::{CallToolResult, RpcError};

/// The settings of every tool schema: 2020-12, without `$schema`, integer widths as bounds.
fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12()
        .with(|s| s.meta_schema = None)
        .with_transform(RecursiveTransform(widths_as_bounds))
}

/// Replaces an integer width's `format` by the bounds it stands for (the type's own where
/// they are tighter), and drops `format: "double"`.
fn widths_as_bounds(schema: &mut Schema) {
    let Some(format) = schema.get("format").and_then(Value::as_str) else {
        return;
    };
    let (low, high): (Option<i64>, Option<i64>) = match format {
        "double" | "int64" | "int" => (None, None),
        "int8" => (Some(i8::MIN.into()), Some(i8::MAX.into())),
        "int16" => (Some(i16::MIN.into()), Some(i16::MAX.into())),
        "int32" => (Some(i32::MIN.into()), Some(i32::MAX.into())),
        "uint8" => (Some(0), Some(u8::MAX.into())),
        "uint16" => (Some(0), Some(u16::MAX.into())),
        "uint32" => (Some(0), Some(u32::MAX.into())),
        "uint64" | "uint" => (Some(0), None),
        _ => return,
    };
    schema.remove("format");
    for (key, bound, is_low) in [("minimum", low, true), ("maximum", high, false)] {
        let Some(bound) = bound else { continue };
        // A bound the type declares is kept when it is at least as tight.
        let looser = match schema.get(key) {
            None => true,
            Some(v) => match (v.as_i64(), v.as_f64()) {
                (Some(own), _) => {
                    if is_low {
                        own < bound
                    } else {
                        own > bound
                    }
                }
                (None, Some(own)) => {
                    #[allow(clippy::cast_precision_loss)] // widths up to 32 bits: exact
                    let bound = bound as f64;
                    if is_low { own < bound } else { own > bound }
                }
                (None, None) => false,
            },
        };
        if looser {
            schema.insert(key.into(), bound.into());
        }
    }
}

/// A tool argument: anything that reads from JSON and describes itself as a JSON Schema.
#[diagnostic::on_unimplemented(
    message = "tool argument `{Self}` cannot be read from JSON",
    label = "this argument needs `Deserialize` and `JsonSchema`",
    note = "derive `serde::Deserialize` and `schemars::JsonSchema` for it"
)]
pub trait ToolInput: Sized {
    /// The argument's schema; named types go to `$defs`.
    #[doc(hidden)]
    fn schema(generator: &mut SchemaGenerator) -> Schema;

    /// The argument's schema as a whole input (for [`Args`]).
    #[doc(hidden)]
    fn root_schema() -> Schema;

    /// Reads the value.
    #[doc(hidden)]
    fn from_json(value: &Value) -> Result<Self, String>;

    /// Reads a whole object.
    #[doc(hidden)]
    fn from_object(object: &Map<String, Value>) -> Result<Self, String>;

    /// Reads the argument `name` of `args`; absent reads as `null` (so `Option` is `None`).
    #[doc(hidden)]
    fn from_arg(args: &Map<String, Value>, name: &str) -> Result<Self, RpcError> {
        match args.get(name) {
            Some(value) => Self::from_json(value)
                .map_err(|e| RpcError::invalid_params(format!("invalid argument `{name}`: {e}"))),
            None => Self::from_json(&Value::Null).map_err(|_| {
                RpcError::invalid_params(format!("missing required argument `{name}`"))
            }),
        }
    }

    /// Reads the whole arguments object (for [`Args`]).
    #[doc(hidden)]
    fn from_args(args: &Map<String, Value>) -> Result<Self, RpcError> {
        Self::from_object(args)
            .map_err(|e| RpcError::invalid_params(format!("invalid arguments: {e}")))
    }
}

#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + JsonSchema> ToolInput for T {
    fn schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<T>()
    }

    fn root_schema() -> Schema {
        settings().into_generator().into_root_schema_for::<T>()
    }

    fn from_json(value: &Value) -> Result<Self, String> {
        read_with_path(value)
    }

    fn from_object(object: &Map<String, Value>) -> Result<Self, String> {
        read_with_path(object)
    }
}

/// Reads a `T`; on a mismatch, reads again to name where in the value it is.
fn read_with_path<'de, T, D>(from: D) -> Result<T, String>
where
    T: DeserializeOwned,
    D: serde::Deserializer<'de, Error = serde_json::Error> + Copy,
{
    if let Ok(value) = T::deserialize(from) {
        return Ok(value);
    }
    serde_path_to_error::deserialize(from).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("`{path}`: {}", e.into_inner())
        }
    })
}

/// Tool output written as `structuredContent`, described by an `outputSchema`.
#[diagnostic::on_unimplemented(
    message = "tool output `{Self}` cannot be written as structured JSON",
    label = "this return type needs `Serialize` and `JsonSchema`",
    note = "derive `serde::Serialize` and `schemars::JsonSchema` for it, or return `String`, `Content`, `Vec<Content>` or `CallToolResult`"
)]
pub trait ToolOutput {
    /// The output schema, and whether it had to be wrapped in an object.
    #[doc(hidden)]
    fn output_schema() -> (Value, bool);

    /// The result: `structuredContent` plus a text copy for older clients.
    #[doc(hidden)]
    fn into_result(self, wrapped: bool) -> CallToolResult;
}

#[diagnostic::do_not_recommend]
impl<T: Serialize + JsonSchema> ToolOutput for T {
    fn output_schema() -> (Value, bool) {
        let schema = settings()
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<T>()
            .to_value();
        wrap_output_schema(schema)
    }

    fn into_result(self, wrapped: bool) -> CallToolResult {
        match serde_json::to_value(&self) {
            Ok(value) if wrapped => CallToolResult::structured(json!({ "result": value })),
            Ok(value) => CallToolResult::structured(value),
            Err(e) => {
                tracing::error!(error = %e, "tool output could not be serialized");
                CallToolResult::error("the tool's output could not be serialized")
            }
        }
    }
}

/// Wraps a non-object root as `{"result": …}`, keeping `$defs` at the root where `$ref`s
/// expect them. Returns the schema and whether it was wrapped.
fn wrap_output_schema(mut schema: Value) -> (Value, bool) {
    let is_object = schema.get("type").and_then(Value::as_str) == Some("object");
    if is_object {
        return (schema, false);
    }
    let Some(obj) = schema.as_object_mut() else {
        // `true` / `false` schemas: anything goes, or nothing does.
        return (
            json!({"type": "object", "properties": {"result": schema}, "required": ["result"]}),
            true,
        );
    };
    let defs = obj.remove("$defs");
    let title = obj.remove("title");
    let mut root = json!({
        "type": "object",
        "properties": {"result": schema},
        "required": ["result"],
    });
    if let Some(title) = title {
        root["title"] = title;
    }
    if let Some(defs) = defs {
        root["$defs"] = defs;
    }
    (root, true)
}

/// One individually declared tool parameter.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// The argument name.
    pub name: &'static str,
    /// Its description, from `#[arg(description = "…")]`.
    pub description: Option<&'static str>,
    /// Whether it must be present (not an `Option`).
    pub required: bool,
    /// Its schema.
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// The header it is mirrored into (`x-mcp-header`), from `#[arg(header = "…")]`.
    pub header: Option<&'static str>,
}

/// The input schema of a tool declared with individual parameters.
#[doc(hidden)]
pub fn params_schema(params: &[ParamSpec]) -> Value {
    if params.is_empty() {
        return json!({"type": "object", "additionalProperties": false});
    }
    let mut generator = settings().into_generator();
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in params {
        // An inline subschema has not been through the generator's transforms.
        let mut schema = (p.schema)(&mut generator);
        RecursiveTransform(widths_as_bounds).transform(&mut schema);
        let mut schema = schema.to_value();
        if let Some(obj) = schema.as_object_mut() {
            if let Some(description) = p.description {
                obj.insert("description".into(), description.into());
            }
            if let Some(header) = p.header {
                obj.insert("x-mcp-header".into(), header.into());
            }
        }
        properties.insert(p.name.into(), schema);
        if p.required {
            required.push(Value::from(p.name));
        }
    }
    let mut root = Map::new();
    root.insert("type".into(), "object".into());
    root.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        root.insert("required".into(), Value::Array(required));
    }
    let defs = generator.take_definitions(true);
    if !defs.is_empty() {
        root.insert("$defs".into(), Value::Object(defs));
    }
    Value::Object(root)
}

/// The input schema of a tool that takes one [`Args`] struct: `schema` is
/// `<T as ToolInput>::root_schema()`, which the generated code calls itself so that a `T`
/// that is no [`ToolInput`] gives one error, where `T` is written.
///
/// # Panics
///
/// When the struct's schema is not an object (a tool's arguments are always an object);
/// the panic happens once, when the tool table is first built at startup.
#[doc(hidden)]
pub fn args_schema<T: ?Sized>(tool: &str, schema: Schema) -> Value {
    let schema = schema.to_value();
    assert!(
        schema.get("type").and_then(Value::as_str) == Some("object"),
        "tool `{tool}`: `Args<{}>` must describe a JSON object (a struct with named fields)",
        std::any::type_name::<T>()
    );
    schema
}

/// The output schema of a tool, and whether its output is wrapped.
#[doc(hidden)]
pub fn output_schema<T: ToolOutput>() -> (Value, bool) {
    T::output_schema()
}

/// The whole arguments object of a tool, read into one struct.
///
/// Use it instead of individual parameters when the arguments already have a type:
///
/// ```no_run
/// use mcp_runtime::prelude::*;
/// use serde::Deserialize;
/// use schemars::JsonSchema;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Search {
///     /// Words to look for.
///     query: String,
///     /// At most this many hits.
///     limit: Option<u32>,
/// }
///
/// struct Library;
///
/// #[mcp_server]
/// impl Library {
///     /// Searches the catalogue.
///     #[tool]
///     fn search(&self, Args(search): Args<Search>) -> String {
///         format!("{} (limit {:?})", search.query, search.limit)
///     }
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args<T>(pub T);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, serde::Serialize, JsonSchema)]
    struct Point {
        x: i32,
        y: i32,
    }

    #[test]
    fn params_schema_is_an_object_with_defs() {
        let schema = params_schema(&[
            ParamSpec {
                name: "p",
                description: Some("a point"),
                required: true,
                schema: Point::schema,
                header: None,
            },
            ParamSpec {
                name: "n",
                description: None,
                required: false,
                schema: <Option<u8>>::schema,
                header: None,
            },
        ]);
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["p"]));
        assert_eq!(schema["properties"]["p"]["$ref"], "#/$defs/Point");
        assert_eq!(schema["properties"]["p"]["description"], "a point");
        assert_eq!(schema["$defs"]["Point"]["type"], "object");
        assert_eq!(
            params_schema(&[]),
            json!({"type": "object", "additionalProperties": false})
        );
    }

    #[test]
    fn non_object_outputs_are_wrapped() {
        let (schema, wrapped) = output_schema::<Vec<Point>>();
        assert!(wrapped);
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["properties"]["result"]["type"], "array");
        assert_eq!(
            schema["properties"]["result"]["items"]["$ref"],
            "#/$defs/Point"
        );
        assert!(schema["$defs"]["Point"].is_object());
        let (schema, wrapped) = output_schema::<Point>();
        assert!(!wrapped);
        assert_eq!(schema["type"], "object");
        let result = vec![Point { x: 1, y: 2 }].into_result(true);
        assert_eq!(
            result.structured_content,
            Some(json!({"result": [{"x": 1, "y": 2}]}))
        );
    }

    #[derive(serde::Deserialize, serde::Serialize, JsonSchema)]
    struct Reading {
        at: i64,
        value: f64,
        count: i32,
        points: Vec<Point>,
    }

    #[test]
    fn schemas_name_no_dialect_and_no_default_widths() {
        let input = params_schema(&[
            ParamSpec {
                name: "r",
                description: None,
                required: true,
                schema: Reading::schema,
                header: None,
            },
            ParamSpec {
                name: "scale",
                description: None,
                required: true,
                schema: f64::schema,
                header: None,
            },
            ParamSpec {
                name: "n",
                description: None,
                required: true,
                schema: <Option<i64>>::schema,
                header: None,
            },
        ]);
        let (output, _) = output_schema::<Reading>();
        let (wrapped, _) = output_schema::<Vec<Reading>>();
        let args = args_schema::<Reading>("t", Reading::root_schema());
        for schema in [&input, &output, &wrapped, &args] {
            let text = schema.to_string();
            assert!(!text.contains("$schema"), "{text}");
            assert!(
                !text.contains("double") && !text.contains("int64"),
                "{text}"
            );
            // No integer format is left: the widths are bounds.
            assert!(!text.contains("format"), "{text}");
        }
        assert_eq!(input["properties"]["scale"], json!({"type": "number"}));
        assert_eq!(
            input["properties"]["n"],
            json!({"type": ["integer", "null"]})
        );
        assert_eq!(
            output["properties"]["value"],
            json!({"type": "number"}),
            "{output}"
        );
    }

    #[derive(serde::Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Widths {
        a: u8,
        b: u16,
        c: u32,
        d: u64,
        e: usize,
        f: i8,
        g: i16,
        h: i32,
        #[schemars(range(min = 1, max = 10))]
        tight: u32,
        #[schemars(range(max = 1_000_000_000_000_u64))]
        loose: u32,
        maybe: Option<u32>,
    }

    #[test]
    fn integer_widths_are_bounds_not_formats() {
        let schema = args_schema::<Widths>("t", Widths::root_schema());
        let p = &schema["properties"];
        assert!(!schema.to_string().contains("format"), "{schema}");
        let bounds = |key: &str| (p[key]["minimum"].clone(), p[key]["maximum"].clone());
        assert_eq!(bounds("a"), (json!(0), json!(255)));
        assert_eq!(bounds("b"), (json!(0), json!(65_535)));
        assert_eq!(bounds("c"), (json!(0), json!(4_294_967_295_u32)));
        assert_eq!(bounds("d"), (json!(0), Value::Null));
        assert_eq!(bounds("e"), (json!(0), Value::Null));
        assert_eq!(bounds("f"), (json!(-128), json!(127)));
        assert_eq!(bounds("g"), (json!(-32_768), json!(32_767)));
        assert_eq!(
            bounds("h"),
            (json!(-2_147_483_648_i64), json!(2_147_483_647))
        );
        // Bounds the type declares itself are kept.
        assert_eq!(bounds("tight"), (json!(1), json!(10)));
        // A looser one gives way to the width's.
        assert_eq!(bounds("loose"), (json!(0), json!(4_294_967_295_u32)));
        assert_eq!(p["maybe"]["type"], json!(["integer", "null"]));
        assert_eq!(bounds("maybe"), (json!(0), json!(4_294_967_295_u32)));
    }

    /// A type that names its dialect itself.
    #[derive(serde::Deserialize)]
    struct Declared;

    impl JsonSchema for Declared {
        fn schema_name() -> std::borrow::Cow<'static, str> {
            "Declared".into()
        }

        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            schemars::json_schema!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"x": {"type": "number", "format": "double"}}
            })
        }
    }

    #[test]
    fn a_dialect_a_schema_names_itself_is_kept() {
        let schema = args_schema::<Declared>("t", Declared::root_schema());
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }

    #[test]
    fn argument_errors_name_the_field() {
        let args = json!({"p": {"x": 1, "y": "two"}})
            .as_object()
            .cloned()
            .unwrap();
        let err = Point::from_arg(&args, "p").err().unwrap();
        assert!(
            err.message
                .contains("invalid argument `p`: `y`: invalid type"),
            "{}",
            err.message
        );
        let err = Point::from_arg(&Map::new(), "p").err().unwrap();
        assert_eq!(err.message, "missing required argument `p`");
        assert_eq!(<Option<u8>>::from_arg(&Map::new(), "n").unwrap(), None);
    }
}
