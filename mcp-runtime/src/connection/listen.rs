//! 2026-07-28 `subscriptions/listen`: the notifications a client asked to hear, on one
//! stream, task status notifications (the Tasks extension's `notifications/tasks`) included.

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::Core;
use crate::protocol::{self, RequestId, RpcError};
use crate::server::McpServer;
use crate::server::input::{Change, next_change};
use crate::server::tasks;

/// Task ids one stream may listen to.
const MAX_TASK_IDS: usize = 100;

/// 2026-07-28 `subscriptions/listen`: an SSE stream that first acknowledges the
/// notifications it will carry, then carries exactly those, each tagged with the listen
/// request's id as `subscriptionId`. Closing the stream ends the subscription.
///
/// `taskIds` are honoured for the tasks of `owner` that exist: each is sent as it is now
/// after the acknowledgement, then again at every change. Asking for them without the
/// extension in the request's capabilities is -32021.
pub(crate) fn listen<S: McpServer>(
    core: &Core<S>,
    id: &RequestId,
    params: &Map<String, Value>,
    owner: Option<String>,
) -> Result<mpsc::Receiver<Vec<u8>>, RpcError> {
    let asked = params.get("notifications").and_then(Value::as_object);
    let task_ids: Vec<String> = asked
        .and_then(|a| a.get("taskIds"))
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .take(MAX_TASK_IDS)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if !task_ids.is_empty() {
        let capabilities = params
            .get("_meta")
            .and_then(|m| m.get(crate::protocol::META_CLIENT_CAPABILITIES))
            .unwrap_or(&Value::Null);
        if !tasks::negotiated(capabilities) {
            return Err(tasks::missing_extension("listening to tasks"));
        }
    }
    let tasks = core
        .engine
        .tasks()
        .cloned()
        .filter(|_| !task_ids.is_empty());
    let flag = |name: &str| {
        asked
            .and_then(|a| a.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let desc = core.engine.descriptor();
    let tools = flag("toolsListChanged") && !desc.tools.is_empty();
    let prompts = flag("promptsListChanged") && core.engine.declares("prompts");
    let resources = flag("resourcesListChanged") && core.engine.declares("resources");
    let uris: Vec<String> = asked
        .and_then(|a| a.get("resourceSubscriptions"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let uris: Vec<String> = if core.engine.declares("resources") {
        uris
    } else {
        Vec::new()
    };
    let mut honored = Map::new();
    for (name, on) in [
        ("toolsListChanged", tools),
        ("promptsListChanged", prompts),
        ("resourcesListChanged", resources),
    ] {
        if on {
            honored.insert(name.into(), Value::Bool(true));
        }
    }
    if !uris.is_empty() {
        honored.insert("resourceSubscriptions".into(), serde_json::json!(uris));
    }
    let meta = serde_json::json!({ "io.modelcontextprotocol/subscriptionId": id });
    let (tx, rx) = mpsc::channel::<Vec<u8>>(64);
    let ack = protocol::notification_json(
        "notifications/subscriptions/acknowledged",
        &serde_json::json!({"notifications": honored, "_meta": meta}),
    );
    let mut changes = core.hub.subscribe();
    let mut task_changes = core.hub.subscribe_tasks();
    tokio::spawn(async move {
        // The tasks this caller may hear of, as they are now.
        let mut heard = Vec::new();
        let mut first = Vec::new();
        if let Some(tasks) = &tasks {
            for task in &task_ids {
                if let Ok(Some(record)) = tasks.get(task, owner.as_deref()).await {
                    heard.push(task.clone());
                    first.push(record);
                }
            }
        }
        let mut ack = ack;
        if !heard.is_empty() {
            let mut params = serde_json::json!({"notifications": honored, "_meta": meta});
            params["notifications"]["taskIds"] = serde_json::json!(heard);
            ack = protocol::notification_json("notifications/subscriptions/acknowledged", &params);
        }
        if tx.send(ack).await.is_err() {
            return;
        }
        for record in first {
            if tx.send(task_notification(&record, &meta)).await.is_err() {
                return;
            }
        }
        loop {
            let change = tokio::select! {
                change = next_change(&mut changes, &tx) => change,
                task = next_change(&mut task_changes, &tx), if !heard.is_empty() => {
                    let Some(task) = task else { return };
                    if !heard.iter().any(|h| **h == *task) {
                        continue;
                    }
                    let record = match &tasks {
                        Some(tasks) => tasks.get(&task, owner.as_deref()).await.ok().flatten(),
                        None => None,
                    };
                    if let Some(record) = record
                        && tx.send(task_notification(&record, &meta)).await.is_err()
                    {
                        return;
                    }
                    continue;
                }
            };
            let Some(change) = change else {
                return;
            };
            let (method, mut params) = match change {
                Change::Tools if tools => {
                    ("notifications/tools/list_changed", serde_json::json!({}))
                }
                Change::Prompts if prompts => {
                    ("notifications/prompts/list_changed", serde_json::json!({}))
                }
                Change::Resources if resources => (
                    "notifications/resources/list_changed",
                    serde_json::json!({}),
                ),
                Change::Resource(uri) if uris.contains(&uri) => (
                    "notifications/resources/updated",
                    serde_json::json!({"uri": uri}),
                ),
                _ => continue,
            };
            params["_meta"] = meta.clone();
            if tx
                .send(protocol::notification_json(method, &params))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    Ok(rx)
}

/// `notifications/tasks`: the task as `tasks/get` gives it, tagged with the subscription.
fn task_notification(record: &tasks::TaskRecord, meta: &Value) -> Vec<u8> {
    let mut params = record.to_json();
    params.insert("_meta".into(), meta.clone());
    protocol::notification_json("notifications/tasks", &Value::Object(params))
}
