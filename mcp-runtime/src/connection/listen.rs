//! 2026-07-28 `subscriptions/listen`: the notifications a client asked to hear, on one
//! stream.

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::Core;
use crate::protocol::{self, RequestId};
use crate::server::McpServer;
use crate::server::input::{Change, next_change};

/// 2026-07-28 `subscriptions/listen`: an SSE stream that first acknowledges the
/// notifications it will carry, then carries exactly those, each tagged with the listen
/// request's id as `subscriptionId`. Closing the stream ends the subscription.
pub(crate) fn listen<S: McpServer>(
    core: &Core<S>,
    id: &RequestId,
    params: &Map<String, Value>,
) -> mpsc::Receiver<Vec<u8>> {
    let asked = params.get("notifications").and_then(Value::as_object);
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
    tokio::spawn(async move {
        if tx.send(ack).await.is_err() {
            return;
        }
        loop {
            let Some(change) = next_change(&mut changes, &tx).await else {
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
    rx
}
