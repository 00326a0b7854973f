//! The server the official MCP conformance suite expects, written with the macros: every
//! tool, resource and prompt the suite's scenarios call, for both protocol revisions.
//!
//! `cargo run --example everything` listens on `127.0.0.1:3001/mcp` (or `MCP_BIND`);
//! `bash scripts/conformance.sh` runs the suite against it. `--contract` prints what it
//! exposes as sorted JSON and exits. Warnings and one line per request are logged unless
//! `RUST_LOG` says otherwise.

use std::time::Duration;

use mcp_runtime::prelude::*;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::{Value, json};

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

fn png() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(PNG)
        .unwrap_or_default()
}

fn wav() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(WAV)
        .unwrap_or_default()
}

/// Arguments of `json_schema_2020_12_tool`, described by a hand-written 2020-12 schema that
/// names its dialect and uses `$defs`, `$anchor`, composition and conditionals; the server
/// lists it as written.
#[derive(Deserialize)]
#[allow(dead_code)] // The suite lists the tool; it never calls it.
struct Contact {
    name: Option<String>,
    address: Option<Value>,
    #[serde(rename = "contactMethod")]
    method: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

impl JsonSchema for Contact {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Contact".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {"address": {"$anchor": "addressDef", "type": "object", "properties": {
                "street": {"type": "string"}, "city": {"type": "string"}}}},
            "properties": {
                "name": {"type": "string"},
                "address": {"$ref": "#/$defs/address"},
                "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                "phone": {"type": "string"},
                "email": {"type": "string"}
            },
            "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
            "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
            "then": {"required": ["phone"]},
            "else": {"required": ["email"]},
            "additionalProperties": false
        })
    }
}

fn name_schema(field: &str) -> Value {
    json!({"type": "object", "properties": {field: {"type": "string"}}, "required": [field]})
}

/// The text an elicitation answer carries for `field`, or a note that none came.
fn answered(answer: &Value, field: &str) -> String {
    answer["content"][field]
        .as_str()
        .map_or_else(|| "(no answer)".to_owned(), str::to_owned)
}

struct Everything;

#[mcp_server(
    name = "mcp-runtime-everything",
    title = "Conformance fixture",
    instructions = "The fixture server of the MCP conformance suite.",
    // `PNG` as a `data:` URI: an attribute takes literals only.
    icon(
        src = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
        mime_type = "image/png",
        sizes = ["1x1"]
    )
)]
impl Everything {
    /// Returns a simple text response.
    #[tool]
    fn test_simple_text(&self) -> String {
        "This is a simple text response for testing.".into()
    }

    /// Returns a PNG image.
    #[tool]
    fn test_image_content(&self) -> Content {
        Content::image(png(), "image/png")
    }

    /// Returns a WAV clip.
    #[tool]
    fn test_audio_content(&self) -> Content {
        Content::audio(wav(), "audio/wav")
    }

    /// Returns an embedded text resource.
    #[tool]
    fn test_embedded_resource(&self) -> Content {
        Content::resource_text(
            "test://embedded-resource",
            Some("text/plain"),
            "This is an embedded resource content.",
        )
    }

    /// Returns text, an image and an embedded resource.
    #[tool]
    fn test_multiple_content_types(&self) -> Vec<Content> {
        vec![
            Content::text("Multiple content types test:"),
            Content::image(png(), "image/png"),
            Content::resource_text(
                "test://mixed-content-resource",
                Some("application/json"),
                r#"{"test":"data","value":123}"#,
            ),
        ]
    }

    /// Reports progress 0, 50 and 100 of 100.
    #[tool]
    async fn test_tool_with_progress(&self, ctx: RequestContext) -> String {
        for step in [0.0, 50.0, 100.0] {
            ctx.progress(step, Some(100.0), None).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        "Progress complete.".into()
    }

    /// Reports `count` progress steps `interval_ms` apart (at most 1 000 steps, 1 s apart):
    /// a call that outlasts a replica's restart.
    #[tool]
    async fn progress_ticks(
        &self,
        ctx: RequestContext,
        count: u32,
        interval_ms: u64,
    ) -> Result<String, ToolError> {
        if count > 1_000 || interval_ms > 1_000 {
            return Err(ToolError::new("at most 1000 steps, at most 1000 ms apart"));
        }
        for step in 1..=count {
            tokio::time::sleep(Duration::from_millis(interval_ms)).await;
            ctx.progress(f64::from(step), Some(f64::from(count)), None)
                .await;
        }
        Ok(format!("{count} steps done."))
    }

    /// Closes its SSE connection mid-call and answers once the client has reconnected with
    /// `Last-Event-ID` (SSE polling, SEP-1699).
    #[tool]
    async fn test_reconnection(&self, ctx: RequestContext) -> String {
        ctx.close_sse_stream().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        "Reconnection test completed: the result came after the stream was closed.".into()
    }

    /// Fails on purpose.
    #[tool]
    fn test_error_handling(&self) -> Result<String, ToolError> {
        Err(ToolError::new(
            "This tool intentionally returns an error for testing",
        ))
    }

    /// Logs three messages while it works.
    #[tool]
    async fn test_tool_with_logging(&self, ctx: RequestContext) -> String {
        for message in [
            "Tool execution started",
            "Tool processing data",
            "Tool execution completed",
        ] {
            ctx.log(LogLevel::Info, message).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        "Logging complete.".into()
    }

    /// Logs only when the request asked for a log level.
    #[tool]
    async fn test_logging_tool(&self, ctx: RequestContext) -> String {
        ctx.log(LogLevel::Info, "Logging tool ran").await;
        "Logged.".into()
    }

    /// Asks the client's model to answer a prompt.
    #[tool]
    async fn test_sampling(
        &self,
        ctx: RequestContext,
        prompt: String,
    ) -> Result<String, ToolError> {
        let answer = ctx
            .ask("sampling", InputRequest::sample_text(prompt, 100))
            .await?;
        Ok(format!(
            "LLM response: {}",
            answer["content"]["text"].as_str().unwrap_or_default()
        ))
    }

    /// Asks the user for a name and an email address.
    #[tool]
    async fn test_elicitation(
        &self,
        ctx: RequestContext,
        message: String,
    ) -> Result<String, ToolError> {
        let schema = json!({"type": "object", "properties": {
            "username": {"type": "string", "description": "Your username"},
            "email": {"type": "string", "description": "Your email address"}},
            "required": ["username", "email"]});
        let answer = ctx
            .ask("user_info", InputRequest::elicit(message, schema))
            .await?;
        Ok(format!("User response: {answer}"))
    }

    /// Asks with defaults on every kind of field (SEP-1034).
    #[tool]
    async fn test_elicitation_sep1034_defaults(
        &self,
        ctx: RequestContext,
    ) -> Result<String, ToolError> {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "default": "John Doe"},
            "age": {"type": "integer", "default": 30},
            "score": {"type": "number", "default": 95.5},
            "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
            "verified": {"type": "boolean", "default": true}},
            "required": []});
        let answer = ctx
            .ask(
                "defaults",
                InputRequest::elicit("Please review your details", schema),
            )
            .await?;
        Ok(format!("Elicitation completed: {answer}"))
    }

    /// Asks with the five enum forms (SEP-1330).
    #[tool]
    async fn test_elicitation_sep1330_enums(
        &self,
        ctx: RequestContext,
    ) -> Result<String, ToolError> {
        let titled = json!([
            {"const": "value1", "title": "First Option"},
            {"const": "value2", "title": "Second Option"},
            {"const": "value3", "title": "Third Option"}]);
        let schema = json!({"type": "object", "properties": {
            "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
            "titledSingle": {"type": "string", "oneOf": titled},
            "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"]},
            "untitledMulti": {"type": "array", "minItems": 1, "maxItems": 3,
                "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
            "titledMulti": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"anyOf": titled}}},
            "required": []});
        let answer = ctx
            .ask("enums", InputRequest::elicit("Pick some options", schema))
            .await?;
        Ok(format!("Elicitation completed: {answer}"))
    }

    /// Uses every JSON Schema 2020-12 keyword family in its arguments.
    #[tool]
    fn json_schema_2020_12_tool(&self, Args(_contact): Args<Contact>) -> String {
        "Schema accepted.".into()
    }

    /// Needs the client's sampling capability.
    #[tool]
    async fn test_missing_capability(&self, ctx: RequestContext) -> Result<String, ToolError> {
        ctx.require_capability("sampling")?;
        let answer = ctx
            .ask("sampling", InputRequest::sample_text("Say hello", 20))
            .await?;
        Ok(format!("Sampled: {answer}"))
    }

    /// Asks the user to confirm, streaming nothing but notifications and the result.
    #[tool]
    async fn test_streaming_elicitation(&self, ctx: RequestContext) -> Result<String, ToolError> {
        ctx.progress(0.0, Some(1.0), Some("asking")).await;
        let answer = ctx
            .ask(
                "confirm",
                InputRequest::elicit("Continue?", name_schema("ok")),
            )
            .await?;
        Ok(format!("Answer: {answer}"))
    }

    /// Tells listeners that the tool list changed.
    #[tool]
    fn test_trigger_tool_change(&self, ctx: RequestContext) -> String {
        ctx.notify(Change::Tools);
        "Tool list change announced.".into()
    }

    /// Tells listeners that the prompt list changed.
    #[tool]
    fn test_trigger_prompt_change(&self, ctx: RequestContext) -> String {
        ctx.notify(Change::Prompts);
        "Prompt list change announced.".into()
    }

    /// Asks for the user's name, then greets them.
    #[tool]
    async fn test_input_required_result_elicitation(
        &self,
        ctx: RequestContext,
    ) -> Result<String, ToolError> {
        let answer = ctx
            .ask(
                "user_name",
                InputRequest::elicit("What is your name?", name_schema("name")),
            )
            .await?;
        Ok(format!("Hello, {}!", answered(&answer, "name")))
    }

    /// Asks the client's model a question.
    #[tool]
    async fn test_input_required_result_sampling(
        &self,
        ctx: RequestContext,
    ) -> Result<String, ToolError> {
        let answer = ctx
            .ask(
                "capital_question",
                InputRequest::sample_text("What is the capital of France?", 100),
            )
            .await?;
        Ok(format!(
            "The model said: {}",
            answer["content"]["text"].as_str().unwrap_or_default()
        ))
    }

    /// Asks for the client's roots.
    #[tool]
    async fn test_input_required_result_list_roots(
        &self,
        ctx: RequestContext,
    ) -> Result<String, ToolError> {
        let answer = ctx.ask("client_roots", InputRequest::list_roots()).await?;
        Ok(format!("Roots: {}", answer["roots"]))
    }

    /// Asks for confirmation and keeps state between the rounds.
    #[tool]
    async fn test_input_required_result_request_state(
        &self,
        ctx: RequestContext,
    ) -> Result<String, ToolError> {
        ctx.set_request_state(json!({"step": "confirm"}));
        let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]});
        let answer = ctx
            .ask("confirm", InputRequest::elicit("Proceed?", schema))
            .await?;
        let state = ctx.request_state().map_or("state-missing", |_| "state-ok");
        Ok(format!("{state}: {answer}"))
    }

    /// Asks for three things at once.
    #[tool]
    async fn test_input_required_result_multiple_inputs(
        &self,
        ctx: RequestContext,
    ) -> Result<String, ToolError> {
        let name = ctx
            .ask(
                "user_name",
                InputRequest::elicit("What is your name?", name_schema("name")),
            )
            .await;
        let greeting = ctx
            .ask(
                "greeting",
                InputRequest::sample_text("Write a greeting", 50),
            )
            .await;
        let roots = ctx.ask("client_roots", InputRequest::list_roots()).await;
        let (name, greeting, roots) = (name?, greeting?, roots?);
        Ok(format!(
            "{} to {} with roots {}",
            greeting["content"]["text"].as_str().unwrap_or("Hello"),
            answered(&name, "name"),
            roots["roots"]
        ))
    }

    /// Asks for a name, then in another round for a colour.
    #[tool]
    async fn test_input_required_result_multi_round(
        &self,
        ctx: RequestContext,
    ) -> Result<String, ToolError> {
        let remembered = ctx
            .request_state()
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str);
        let name = if let Some(name) = remembered {
            name.to_owned()
        } else {
            let question = InputRequest::elicit("What is your name?", name_schema("name"));
            answered(&ctx.ask("step1", question).await?, "name")
        };
        ctx.set_request_state(json!({"name": name}));
        let answer = ctx
            .ask(
                "step2",
                InputRequest::elicit("What is your favourite colour?", name_schema("color")),
            )
            .await?;
        Ok(format!("{name} likes {}", answered(&answer, "color")))
    }

    /// Asks for input; its sealed state must come back unchanged.
    #[tool]
    async fn test_input_required_result_tampered_state(
        &self,
        ctx: RequestContext,
    ) -> Result<String, ToolError> {
        ctx.set_request_state(json!({"secret": "kept"}));
        let answer = ctx
            .ask(
                "confirm",
                InputRequest::elicit("Confirm?", name_schema("ok")),
            )
            .await?;
        Ok(format!("Confirmed: {answer}"))
    }

    /// A static text resource.
    #[resource(
        uri = "test://static-text",
        name = "static-text",
        mime_type = "text/plain"
    )]
    fn static_text(&self) -> String {
        "This is the content of the static text resource.".into()
    }

    /// A static binary resource (a PNG image).
    #[resource(
        uri = "test://static-binary",
        name = "static-binary",
        mime_type = "image/png"
    )]
    fn static_binary(&self) -> Blob {
        Blob(png())
    }

    /// A resource clients may subscribe to.
    #[resource(
        uri = "test://watched-resource",
        name = "watched-resource",
        mime_type = "text/plain"
    )]
    fn watched_resource(&self) -> String {
        "Watched resource content.".into()
    }

    /// Data for one id.
    #[resource(
        uri_template = "test://template/{id}/data",
        name = "template-data",
        mime_type = "application/json"
    )]
    fn template_data(&self, id: String) -> String {
        json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}).to_string()
    }

    /// A prompt without arguments.
    #[prompt]
    fn test_simple_prompt(&self) -> String {
        "This is a simple prompt for testing.".into()
    }

    /// A prompt with two required arguments.
    #[prompt]
    fn test_prompt_with_arguments(
        &self,
        #[arg(description = "First test argument")] arg1: String,
        #[arg(description = "Second test argument")] arg2: String,
    ) -> String {
        format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")
    }

    /// A prompt that embeds a resource.
    #[prompt]
    #[allow(non_snake_case)] // The argument's wire name is `resourceUri`.
    fn test_prompt_with_embedded_resource(
        &self,
        #[arg(description = "URI of the resource to embed")] resourceUri: String,
    ) -> Vec<PromptMessage> {
        vec![
            PromptMessage::user(Content::resource_text(
                resourceUri,
                Some("text/plain"),
                "Embedded resource content for testing.",
            )),
            PromptMessage::user("Please process the embedded resource above."),
        ]
    }

    /// A prompt with an image.
    #[prompt]
    fn test_prompt_with_image(&self) -> Vec<PromptMessage> {
        vec![
            PromptMessage::user(Content::image(png(), "image/png")),
            PromptMessage::user("Please analyze the image above."),
        ]
    }

    /// A prompt that first asks the user for context.
    #[prompt]
    async fn test_input_required_result_prompt(
        &self,
        ctx: RequestContext,
    ) -> Result<String, PromptError> {
        let schema = json!({"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]});
        let answer = ctx
            .ask(
                "user_context",
                InputRequest::elicit("What context should the prompt use?", schema),
            )
            .await
            .map_err(PromptError::internal)?;
        Ok(format!(
            "Use this context: {}",
            answered(&answer, "context")
        ))
    }

    /// Completes the first argument of `test_prompt_with_arguments`.
    #[completion(prompt = "test_prompt_with_arguments", argument = "arg1")]
    fn complete_arg1(&self, value: String) -> Vec<String> {
        ["testValue1", "testValue2", "other"]
            .into_iter()
            .filter(|v| v.starts_with(&value))
            .map(str::to_owned)
            .collect()
    }

    /// Echoes the arguments that a 2026-07-28 client also sends as `Mcp-Param-*` headers,
    /// which the runtime compares with the body before the tool runs.
    #[tool]
    fn test_custom_headers(
        &self,
        #[arg(header = "Region", description = "Where the request is routed")] region: String,
        #[arg(header = "Priority")] priority: Option<i64>,
        #[arg(header = "Verbose")] verbose: Option<bool>,
    ) -> String {
        format!(
            "region={region} priority={} verbose={}",
            priority.map_or_else(|| "-".to_owned(), |p| p.to_string()),
            verbose.map_or("-", |v| if v { "true" } else { "false" })
        )
    }

    /// Greets `name` at once; never a task.
    #[tool]
    fn greet(&self, name: String) -> String {
        format!("Hello, {name}!")
    }

    /// Computes for `seconds`, as a task when the client takes tasks; stops when cancelled.
    #[tool(task = "optional")]
    async fn slow_compute(&self, ctx: RequestContext, seconds: f64, label: String) -> String {
        let work = Duration::from_secs_f64(seconds.clamp(0.0, 3600.0));
        tokio::select! {
            () = tokio::time::sleep(work) => format!("{label}: computed for {seconds} s"),
            () = ctx.cancelled() => format!("{label}: cancelled"),
        }
    }

    /// Runs only as a task, and ends with a tool error after a second.
    #[tool(task = "required")]
    async fn failing_job(&self) -> Result<String, ToolError> {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Err(ToolError::new("the job failed: the input file is corrupt"))
    }

    /// Fails inside the server after a moment, as a task: the task ends `failed`.
    #[tool(task = "optional")]
    async fn protocol_error_job(&self) -> String {
        tokio::time::sleep(Duration::from_millis(200)).await;
        panic!("the job's worker crashed")
    }

    /// Looks `filename` up, then asks the user to confirm deleting it.
    #[tool(task = "optional")]
    async fn confirm_delete(
        &self,
        ctx: RequestContext,
        filename: String,
    ) -> Result<String, ToolError> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let schema = json!({"type": "object", "properties": {"confirm": {"type": "boolean"}},
            "required": ["confirm"]});
        let answer = ctx
            .ask(
                "confirm",
                InputRequest::elicit(format!("Delete {filename}?"), schema),
            )
            .await?;
        let confirmed = answer["action"] == "accept" && answer["content"]["confirm"] == true;
        Ok(if confirmed {
            format!("Deleted {filename}")
        } else {
            format!("Kept {filename}")
        })
    }

    /// Asks two questions at once, as a task.
    #[tool(task = "optional")]
    async fn multi_input(&self, ctx: RequestContext) -> Result<String, ToolError> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (name, confirm) = tokio::join!(
            ctx.ask(
                "name",
                InputRequest::elicit("Your name?", name_schema("name"))
            ),
            ctx.ask(
                "confirm",
                InputRequest::elicit(
                    "Proceed?",
                    json!({"type": "object", "properties": {"confirm": {"type": "boolean"}}})
                )
            ),
        );
        let (name, confirm) = (name?, confirm?);
        Ok(format!(
            "name: {}, confirmed: {}",
            answered(&name, "name"),
            confirm["content"]["confirm"]
        ))
    }

    /// Asks for a name in the call's round, then works on as a task.
    #[tool(task = "required")]
    async fn test_tool_with_task(&self, ctx: RequestContext) -> Result<String, ToolError> {
        let answer = ctx
            .ask(
                "user_name",
                InputRequest::elicit("What is your name?", name_schema("name")),
            )
            .await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(format!("Hello, {}!", answered(&answer, "name")))
    }

    /// Asks only what the client can answer.
    #[tool]
    async fn test_input_required_result_capabilities(
        &self,
        ctx: RequestContext,
    ) -> Result<String, ToolError> {
        let answer = if ctx.supports("elicitation") {
            ctx.ask(
                "user_name",
                InputRequest::elicit("What is your name?", name_schema("name")),
            )
            .await?
        } else if ctx.supports("sampling") {
            ctx.ask("greeting", InputRequest::sample_text("Say hello", 20))
                .await?
        } else {
            ctx.ask("client_roots", InputRequest::list_roots()).await?
        };
        Ok(format!("Got: {answer}"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--contract") {
        print!("{}", Everything::contract(&HttpConfig::new()));
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,mcp_runtime::request=info".into()),
        )
        .init();
    let bind = std::env::var("MCP_BIND").unwrap_or_else(|_| "127.0.0.1:3001".into());
    eprintln!("conformance fixture on http://{bind}/mcp");
    Everything
        .serve_http(bind, config_from_env().await?)
        .await?;
    Ok(())
}

/// The endpoint's settings; with `MCP_REDIS_URL` set, sessions live in that Redis, shared
/// with every replica that names it (see the README's "Several replicas").
async fn config_from_env() -> Result<HttpConfig, mcp_runtime::store::RedisStoreError> {
    Ok(match mcp_runtime::store::RedisStore::from_env().await? {
        Some(store) => HttpConfig::new().session_store(store),
        None => HttpConfig::new(),
    })
}
