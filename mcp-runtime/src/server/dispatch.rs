//! The method table shared by every transport: lifecycle, discovery, tools, resources,
//! prompts and completions, answered per protocol era.
//!
//! Everything that does not depend on the request (every page of the four lists,
//! `server/discover`, the capabilities) is serialized once when the engine is built.
//! 2026-07-28 results carry `resultType` and `_meta["io.modelcontextprotocol/serverInfo"]`;
//! lists and `resources/read` also carry `ttlMs` and `cacheScope` (SEP-2549). Legacy results
//! carry none of these, since legacy clients may check that `ping` returns exactly `{}`.
//! Methods of a capability the server does not declare are -32601, as unknown ones.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use futures_util::FutureExt as _;
use serde_json::{Map, Value, json};

use super::input::Hub;
use super::mirror::MirroredArg;
use super::page::Pages;
use super::prompt::PromptDef;
use super::resource::{ResourceDef, ResourceTemplateDef};
use super::sealing::{Sealer, StateKeys};
use super::tasks::{self, Ending, TaskRecord, TaskSettings, TaskStore, TaskSupport, Tasks};
use super::{McpServer, ServerDescriptor, ToolDef};
use crate::protocol::{
    self, CallToolResult, ErrorCode, LATEST_LEGACY_VERSION, META_SERVER_INFO, MODERN_VERSIONS,
    RpcError,
};

/// How long a 2026-07-28 client may cache a page of a list, and `server/discover`.
const LIST_TTL_MS: u64 = 60_000;

pub(crate) use super::call::{Call, Era, Reply};
use super::context::context;

/// A server plus everything about it that is computed once.
pub(crate) struct Engine<S> {
    pub(super) server: Arc<S>,
    pub(super) desc: &'static ServerDescriptor,
    server_info: Value,
    capabilities: Value,
    tools: Pages,
    resources: Pages,
    resource_templates: Pages,
    prompts: Pages,
    discover: Bytes,
    /// The members that end every 2026-07-28 result: `resultType` and `_meta`, then `}`.
    stamp: Vec<u8>,
    /// Seals and opens the `requestState` of 2026-07-28 input rounds.
    sealer: Sealer,
    /// Whether any tool mirrors an argument into a header.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    mirrors: bool,
    /// `_meta` of every 2026-07-28 result: the server's identity.
    meta: Value,
    /// The tasks of the endpoint, when a tool runs as one.
    tasks: Option<Arc<Tasks>>,
}

impl<S: McpServer> Engine<S> {
    /// The engine of `server`; its tasks, if a tool runs as one, in `task_store` (shared by
    /// replicas) or in memory.
    pub(crate) fn new(
        server: S,
        keys: StateKeys,
        task_store: Option<Arc<dyn TaskStore>>,
        task_settings: TaskSettings,
        hub: Hub,
    ) -> Self {
        let desc = S::__descriptor();
        let mut server_info = json!({"name": desc.name, "version": desc.version});
        if let Some(title) = desc.title {
            server_info["title"] = title.into();
        }
        if let Some(icons) = super::icons_json(desc.icons) {
            server_info["icons"] = icons;
        }
        let capabilities = capabilities(desc);
        let meta = json!({ META_SERVER_INFO: server_info });
        let mut cacheable = Map::new();
        cacheable.insert("resultType".into(), "complete".into());
        cacheable.insert("ttlMs".into(), LIST_TTL_MS.into());
        cacheable.insert("cacheScope".into(), "public".into());
        cacheable.insert("_meta".into(), meta.clone());
        let identity = format!("{} {}", desc.name, desc.version);
        let pages = |key, items: Vec<Value>| Pages::new(key, &items, &cacheable, &identity);
        let tools = pages("tools", desc.tools.iter().map(ToolDef::to_json).collect());
        let resources = pages(
            "resources",
            desc.resources.iter().map(ResourceDef::to_json).collect(),
        );
        let resource_templates = pages(
            "resourceTemplates",
            desc.resource_templates
                .iter()
                .map(ResourceTemplateDef::to_json)
                .collect(),
        );
        let prompts = pages(
            "prompts",
            desc.prompts.iter().map(PromptDef::to_json).collect(),
        );
        let mut stamp = br#""resultType":"complete","_meta":"#.to_vec();
        stamp.extend_from_slice(&to_bytes(&meta));
        stamp.push(b'}');
        let takes_tasks = desc.tools.iter().any(|t| t.task != TaskSupport::Forbidden);
        let mut offered = capabilities.clone();
        if takes_tasks {
            offered["extensions"] = json!({ tasks::EXTENSION: {} });
        }
        let mut discover = json!({
            "supportedVersions": MODERN_VERSIONS,
            "capabilities": offered,
            "resultType": "complete",
            "ttlMs": LIST_TTL_MS,
            "cacheScope": "public",
            "_meta": meta.clone(),
        });
        if let Some(instructions) = desc.instructions {
            discover["instructions"] = instructions.into();
        }
        let discover = to_bytes(&discover);
        Self {
            server: Arc::new(server),
            desc,
            server_info,
            capabilities,
            tools,
            resources,
            resource_templates,
            prompts,
            discover,
            stamp,
            sealer: Sealer::new(keys),
            mirrors: desc.tools.iter().any(|t| !t.headers.is_empty()),
            meta,
            tasks: takes_tasks.then(|| match task_store {
                Some(store) => Tasks::new(store, task_settings, hub),
                None => Tasks::memory(task_settings, hub),
            }),
        }
    }

    /// The endpoint's tasks, when a tool runs as one.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn tasks(&self) -> Option<&Arc<Tasks>> {
        self.tasks.as_ref()
    }

    pub(crate) fn descriptor(&self) -> &'static ServerDescriptor {
        self.desc
    }

    /// The arguments that the tool `name` mirrors into headers (none for a tool that does
    /// not exist). Looks nothing up on a server whose tools mirror nothing.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn mirrored(&self, name: &str) -> &'static [MirroredArg] {
        if !self.mirrors {
            return &[];
        }
        self.desc
            .tools
            .iter()
            .find(|t| t.name == name)
            .map_or(&[], |t| t.headers)
    }

    /// Whether the server declares `capability` (`tools`, `resources`, `prompts`,
    /// `completions`).
    pub(crate) fn declares(&self, capability: &str) -> bool {
        self.capabilities.get(capability).is_some()
    }

    /// Answers `initialize`: the negotiated version and the result.
    pub(crate) fn initialize(&self, params: &Map<String, Value>) -> (&'static str, Value) {
        let requested = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let version = protocol::legacy_version(requested).unwrap_or(LATEST_LEGACY_VERSION);
        let mut result = json!({
            "protocolVersion": version,
            "capabilities": self.capabilities,
            "serverInfo": self.server_info,
        });
        if let Some(instructions) = self.desc.instructions {
            result["instructions"] = instructions.into();
        }
        (version, result)
    }

    /// Answers one request (anything but `initialize`, which opens a session).
    ///
    /// A method of a capability the server does not declare is -32601, as if unknown.
    pub(crate) async fn request(
        &self,
        method: &str,
        params: Map<String, Value>,
        mut call: Call,
    ) -> Result<Reply, RpcError> {
        // SEP-2322: these three may answer `input_required` and take a `requestState`.
        let rounds = matches!(call.era, Era::Modern(_))
            && matches!(method, "tools/call" | "prompts/get" | "resources/read");
        let principal = call.principal.clone();
        let caller = principal.as_deref().map(|p| p.subject.as_str());
        let binding = || super::input::binding(method, &params, caller);
        let round = if rounds {
            let round = super::rounds::open(&self.sealer, &params, &mut call.link, binding)?;
            Some((round, Arc::clone(&call.link.outcome)))
        } else {
            None
        };
        let reply = self.dispatch(method, &params, call).await;
        if let Some((round, outcome)) = round
            && let Some(input_required) =
                super::rounds::close(&self.sealer, round, &outcome, binding)
        {
            return input_required.map(Reply::Value);
        }
        reply
    }

    async fn dispatch(
        &self,
        method: &str,
        params: &Map<String, Value>,
        call: Call,
    ) -> Result<Reply, RpcError> {
        let era = call.era;
        let modern = matches!(era, Era::Modern(_));
        let desc = self.desc;
        let has_resources = !desc.resources.is_empty() || !desc.resource_templates.is_empty();
        match (method, era) {
            ("ping", Era::Legacy(_)) => Ok(Reply::Value(json!({}))),
            ("server/discover", Era::Modern(_)) => Ok(Reply::Raw(self.discover.clone())),
            ("tools/list", _) if !desc.tools.is_empty() => page(params, modern, &self.tools),
            ("tools/call", _) if !desc.tools.is_empty() => self.tools_call(params, call).await,
            ("tasks/get" | "tasks/update" | "tasks/cancel", Era::Modern(_))
                if self.tasks.is_some() =>
            {
                self.task_method(method, params, &call).await
            }
            ("resources/list", _) if has_resources => page(params, modern, &self.resources),
            ("resources/templates/list", _) if has_resources => {
                page(params, modern, &self.resource_templates)
            }
            ("resources/read", _) if has_resources => self.read_resource(params, call).await,
            ("prompts/list", _) if !desc.prompts.is_empty() => page(params, modern, &self.prompts),
            ("prompts/get", _) if !desc.prompts.is_empty() => {
                let result = self.get_prompt(params, call).await?;
                self.reply(&result, era, b"")
            }
            ("completion/complete", _) if !desc.completions.is_empty() => {
                let completion = self.complete(params, call).await?;
                let result = json!({ "completion": completion.truncated() });
                self.reply(&result, era, b"")
            }
            _ => Err(RpcError::method_not_found(method)),
        }
    }

    /// A result serialized, stamped for 2026-07-28 with `extra` members (each followed by a
    /// comma), `resultType` and `_meta`.
    pub(super) fn reply<T: serde::Serialize>(
        &self,
        result: &T,
        era: Era,
        extra: &[u8],
    ) -> Result<Reply, RpcError> {
        let mut out = Vec::with_capacity(256);
        serde_json::to_writer(&mut out, result).map_err(|_| internal_error())?;
        if let (Era::Modern(_), Some(b'}')) = (era, out.last()) {
            // Reopen the object to append the members.
            out.pop();
            if out.len() > 1 {
                out.push(b',');
            }
            out.extend_from_slice(extra);
            out.extend_from_slice(&self.stamp);
        }
        Ok(Reply::Raw(out.into()))
    }

    /// `tools/call`: answered when the tool returns, or with a task handle.
    async fn tools_call(&self, params: &Map<String, Value>, call: Call) -> Result<Reply, RpcError> {
        let era = call.era;
        if self.tasks.is_some() {
            let name = string_param(params, "name", "tool")?;
            let support = self
                .desc
                .tools
                .iter()
                .find(|t| t.name == name)
                .map_or(TaskSupport::Forbidden, |t| t.task);
            let takes_tasks =
                matches!(era, Era::Modern(_)) && tasks::negotiated(&call.client.capabilities);
            match support {
                TaskSupport::Forbidden => {}
                _ if takes_tasks => return self.call_as_task(params, call, support).await,
                TaskSupport::Optional => {}
                TaskSupport::Required => {
                    return Err(tasks::missing_extension(&format!(
                        "tool `{name}` runs only as a task, so it"
                    )));
                }
            }
        }
        let result = self.call_tool(params, call).await?;
        self.tool_reply(&result, era)
    }

    /// A tool's result as the reply to its call.
    fn tool_reply(&self, result: &CallToolResult, era: Era) -> Result<Reply, RpcError> {
        match self.reply(result, era, b"")? {
            Reply::Raw(raw) if result.is_error => Ok(Reply::ToolError(raw)),
            reply => Ok(reply),
        }
    }

    /// A call of a tool that may become a task (the client takes tasks): the tool starts
    /// on its own task; if it returns without waiting (or asks for input this round) the
    /// call is answered as usual, otherwise its task is stored and the handle answers.
    ///
    /// The task outlives the request: only `tasks/cancel` cancels it, or the request going
    /// away before the handle is answered, and nothing streams on the request.
    async fn call_as_task(
        &self,
        params: &Map<String, Value>,
        mut call: Call,
        support: TaskSupport,
    ) -> Result<Reply, RpcError> {
        enum First {
            Done(Option<Result<CallToolResult, RpcError>>),
            Task(TaskRecord),
        }
        let era = call.era;
        let name = string_param(params, "name", "tool")?.to_owned();
        let arguments = match params.get("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(args)) => args.clone(),
            Some(_) => return Err(RpcError::invalid_params("`arguments` must be an object")),
        };
        let owner = call.principal.as_ref().map(|p| p.subject.clone());
        let cancel = tokio_util::sync::CancellationToken::new();
        call.cancellation = Some(cancel.clone());
        call.notifier = None;
        let ctx = context(params, call);
        let handle = ctx.clone();
        let server = Arc::clone(&self.server);
        let tasks = Arc::clone(self.tasks.as_ref().ok_or_else(internal_error)?);
        let required = support == TaskSupport::Required;
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<First, RpcError>>();
        let token = cancel.clone();
        let tool = name.clone();
        tokio::spawn(async move {
            let future = catch_panic(server.__call_tool(&tool, &arguments, ctx), "tool", &tool);
            let mut future = std::pin::pin!(future);
            let first = std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await;
            if let Poll::Ready(out) = first {
                let answer = if required && !handle.asked_for_input() {
                    let ended = Some(ending(out, &tool));
                    match tasks.create(owner, &tool, token, ended).await {
                        Ok(live) => Ok(First::Task(live.snapshot())),
                        Err(e) => Err(e.into()),
                    }
                } else {
                    Ok(First::Done(out))
                };
                let _ = tx.send(answer);
                return;
            }
            match tasks.create(owner, &tool, token.clone(), None).await {
                Ok(live) => {
                    handle.attach_task(Arc::clone(&live));
                    let _ = tx.send(Ok(First::Task(live.snapshot())));
                    // A store expires what is not written again: a quiet task is rewritten
                    // while it runs.
                    let out = loop {
                        tokio::select! {
                            out = future.as_mut() => break out,
                            () = tokio::time::sleep(tasks::REFRESH) => live.refresh().await,
                        }
                    };
                    tasks.finish(&live, ending(out, &tool)).await;
                }
                Err(e) if required => {
                    token.cancel();
                    let _ = tx.send(Err(e.into()));
                }
                // No room for a task: the call is answered when the tool returns.
                Err(_) => {
                    let out = future.await;
                    let _ = tx.send(Ok(First::Done(out)));
                }
            }
        });
        let guard = cancel.drop_guard();
        let first = rx.await.map_err(|_| internal_error())?;
        guard.disarm();
        match first? {
            First::Done(out) => {
                let result = out.unwrap_or_else(|| {
                    Ok(CallToolResult::error(format!(
                        "tool `{name}` failed unexpectedly"
                    )))
                })?;
                self.tool_reply(&result, era)
            }
            First::Task(record) => {
                let mut handle = record.to_json();
                handle.insert("resultType".into(), "task".into());
                handle.insert("_meta".into(), self.meta.clone());
                Ok(Reply::Value(Value::Object(handle)))
            }
        }
    }

    /// `tasks/get`, `tasks/update` and `tasks/cancel`, for a client that takes tasks and
    /// for the task's owner alone.
    async fn task_method(
        &self,
        method: &str,
        params: &Map<String, Value>,
        call: &Call,
    ) -> Result<Reply, RpcError> {
        let tasks = self.tasks.as_ref().ok_or_else(internal_error)?;
        if !tasks::negotiated(&call.client.capabilities) {
            return Err(tasks::missing_extension(&format!("`{method}`")));
        }
        let id = string_param(params, "taskId", "task")?;
        let owner = call.principal.as_deref().map(|p| p.subject.as_str());
        let found = match method {
            "tasks/get" => {
                let record = tasks
                    .get(id, owner)
                    .await?
                    .ok_or_else(tasks::unknown_task)?;
                return self.reply(&Value::Object(record.to_json()), call.era, b"");
            }
            "tasks/update" => {
                let none = Map::new();
                let responses = match params.get("inputResponses") {
                    None | Some(Value::Null) => &none,
                    Some(Value::Object(responses)) => responses,
                    Some(_) => {
                        return Err(RpcError::invalid_params(
                            "`inputResponses` must be an object",
                        ));
                    }
                };
                tasks.update(id, owner, responses).await?
            }
            _ => tasks.cancel(id, owner).await?,
        };
        if !found {
            return Err(tasks::unknown_task());
        }
        // An empty acknowledgement.
        self.reply(&Value::Object(Map::new()), call.era, b"")
    }

    async fn call_tool(
        &self,
        params: &Map<String, Value>,
        call: Call,
    ) -> Result<CallToolResult, RpcError> {
        let name = string_param(params, "name", "tool")?;
        let no_arguments = Map::new();
        let arguments = match params.get("arguments") {
            None | Some(Value::Null) => &no_arguments,
            Some(Value::Object(args)) => args,
            Some(_) => return Err(RpcError::invalid_params("`arguments` must be an object")),
        };
        let ctx = context(params, call);
        let future = self.server.__call_tool(name, arguments, ctx);
        match catch_panic(future, "tool", name).await {
            Some(result) => result,
            None => Ok(CallToolResult::error(format!(
                "tool `{name}` failed unexpectedly"
            ))),
        }
    }
}

/// How a task's tool ended: a panic is a failure with the message the client would get.
fn ending(out: Option<Result<CallToolResult, RpcError>>, tool: &str) -> Ending {
    match out {
        Some(Ok(result)) => Ending::Returned(result),
        Some(Err(error)) => Ending::Failed(error),
        None => Ending::Failed(RpcError::new(
            ErrorCode::InternalError,
            format!("tool `{tool}` failed unexpectedly"),
        )),
    }
}

/// The page of `pages` that the request's `cursor` names.
fn page(params: &Map<String, Value>, modern: bool, pages: &Pages) -> Result<Reply, RpcError> {
    pages.page(params.get("cursor"), modern).map(Reply::Raw)
}

/// The capabilities that follow from what the server declares. Any handler may announce
/// list changes through `RequestContext::notify`, so `listChanged` is offered; `logging`
/// is offered because any handler may log.
fn capabilities(desc: &ServerDescriptor) -> Value {
    let mut capabilities = Map::new();
    if !desc.tools.is_empty() {
        capabilities.insert("tools".into(), json!({"listChanged": true}));
    }
    if !desc.resources.is_empty() || !desc.resource_templates.is_empty() {
        capabilities.insert(
            "resources".into(),
            json!({"subscribe": true, "listChanged": true}),
        );
    }
    if !desc.prompts.is_empty() {
        capabilities.insert("prompts".into(), json!({"listChanged": true}));
    }
    if !desc.completions.is_empty() {
        capabilities.insert("completions".into(), json!({}));
    }
    capabilities.insert("logging".into(), json!({}));
    Value::Object(capabilities)
}

/// Runs user code; a panic is logged (without reaching the client) and gives `None`.
pub(super) async fn catch_panic<F: Future>(future: F, kind: &str, name: &str) -> Option<F::Output> {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(output) => Some(output),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(kind, name = %name, panic = %what, "server code panicked");
            None
        }
    }
}

pub(super) fn internal_error() -> RpcError {
    RpcError::new(ErrorCode::InternalError, "internal error")
}

/// The error a modern client gets for an unsupported version (-32022).
#[cold]
pub(crate) fn unsupported_version(requested: &str) -> RpcError {
    RpcError::new(
        ErrorCode::UnsupportedProtocolVersion,
        format!("unsupported protocol version `{requested}`"),
    )
    .with_data(json!({"supported": MODERN_VERSIONS, "requested": requested}))
}

fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("serializing a JSON value cannot fail"))
}

/// The string `params[key]` of a request naming a `what` (-32602 when absent or not a string).
pub(super) fn string_param<'p>(
    params: &'p Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'p str, RpcError> {
    match params.get(key) {
        Some(Value::String(value)) => Ok(value),
        Some(_) => Err(RpcError::invalid_params(format!(
            "`{key}` must be a string"
        ))),
        None => Err(RpcError::invalid_params(format!("missing {what} `{key}`"))),
    }
}
