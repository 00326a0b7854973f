//! The Tasks extension (`io.modelcontextprotocol/tasks`): a `tools/call` answered with a
//! task handle, whose status, input requests and result the client reads with `tasks/get`,
//! answers with `tasks/update` and stops with `tasks/cancel`.
//!
//! A tool declared with `#[tool(task = "optional")]` starts like any call. If it finishes
//! without waiting, the call is answered as usual; once it waits (a timer, I/O, a question
//! for the client), and the request's capabilities name the extension, the call becomes a
//! task: its record is stored, the handle (`resultType: "task"`) answers the request, and
//! the tool runs on by itself. `task = "required"` always makes a task, and is refused to a
//! client without the extension (-32021). Input a 2026-07-28 round asks for before the tool
//! waits is answered with `input_required` as for any call, so a task starts with its
//! questions settled; a question asked while it runs parks it in `input_required` until
//! `tasks/update` brings the answer.
//!
//! A task belongs to the subject that created it (on a server with `oauth`): for anyone else
//! it does not exist. Its id is 256 random bits followed by the tool's name, which lets the
//! scopes of every `tasks/*` call be decided before dispatch, as for `tools/call`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::input::Hub;
use crate::protocol::{CallToolResult, ErrorCode, RpcError};

/// How often the record of a running task is written again, so that a store that expires
/// records keeps it however long the tool runs without a change.
pub(crate) const REFRESH: Duration = Duration::from_secs(20);

/// The extension's identifier, in `capabilities.extensions` of both sides.
pub(crate) const EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// Whether a tool runs as a task, from `#[tool(task = "…")]`.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSupport {
    /// Never: the call is answered when the tool returns.
    Forbidden,
    /// When the client takes tasks and the tool waits.
    Optional,
    /// Always; a client that does not take tasks is refused (-32021).
    Required,
}

/// Whether the request's capabilities name the extension.
pub(crate) fn negotiated(capabilities: &Value) -> bool {
    capabilities
        .get("extensions")
        .and_then(|e| e.get(EXTENSION))
        .is_some_and(|v| !v.is_null())
}

/// -32021 naming the extension: what a client without it gets for `tasks/*` and for a tool
/// that runs only as a task.
pub(crate) fn missing_extension(what: &str) -> RpcError {
    RpcError::new(
        ErrorCode::MissingRequiredClientCapability,
        format!("{what} needs the client capability `extensions.{EXTENSION}`"),
    )
    .with_data(json!({"requiredCapabilities": {"extensions": {EXTENSION: {}}}}))
}

/// -32602 for a task that does not exist, has expired, or is another caller's.
pub(crate) fn unknown_task() -> RpcError {
    RpcError::invalid_params("task not found (it does not exist, has expired, or is not yours)")
}

/// How long tasks are kept and how often clients are told to poll.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskSettings {
    /// From creation until the record may be dropped (`ttlMs`).
    pub(crate) ttl: Duration,
    /// `pollIntervalMs`.
    pub(crate) poll_interval: Duration,
    /// Records kept at once; at the limit the oldest finished one goes, and when every one
    /// is running no task is created (an optional tool then answers in its request).
    pub(crate) max_tasks: usize,
}

impl Default for TaskSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_hours(1),
            poll_interval: Duration::from_millis(500),
            max_tasks: 10_000,
        }
    }
}

/// A task's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Working,
    InputRequired,
    Completed,
    Failed,
    Cancelled,
}

impl Status {
    pub(crate) fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// A task as it is stored: everything `tasks/get` answers, and whose it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TaskRecord {
    pub(crate) id: String,
    /// The subject that created it; `None` on a server without `oauth`.
    pub(crate) owner: Option<String>,
    pub(crate) status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub(crate) created_ms: u64,
    pub(crate) updated_ms: u64,
    pub(crate) ttl_ms: u64,
    pub(crate) poll_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(crate) input_requests: Map<String, Value>,
}

impl TaskRecord {
    /// The task as `tasks/get` and the handle give it: the `Task` fields and what its
    /// status carries (`result`, `error` or `inputRequests`).
    pub(crate) fn to_json(&self) -> Map<String, Value> {
        let mut task = Map::new();
        task.insert("taskId".into(), self.id.clone().into());
        task.insert(
            "status".into(),
            serde_json::to_value(self.status).unwrap_or_default(),
        );
        if let Some(message) = &self.message {
            task.insert("statusMessage".into(), message.clone().into());
        }
        task.insert("createdAt".into(), iso8601(self.created_ms).into());
        task.insert("lastUpdatedAt".into(), iso8601(self.updated_ms).into());
        task.insert("ttlMs".into(), self.ttl_ms.into());
        task.insert("pollIntervalMs".into(), self.poll_ms.into());
        match self.status {
            Status::Completed => {
                task.insert("result".into(), self.result.clone().unwrap_or_default());
            }
            Status::Failed => {
                task.insert("error".into(), self.error.clone().unwrap_or_default());
            }
            Status::InputRequired => {
                task.insert(
                    "inputRequests".into(),
                    Value::Object(self.input_requests.clone()),
                );
            }
            Status::Working | Status::Cancelled => {}
        }
        task
    }

    fn expired(&self, now: u64) -> bool {
        now >= self.created_ms.saturating_add(self.ttl_ms)
    }

    fn touch(&mut self) {
        self.updated_ms = now_ms().max(self.updated_ms);
    }
}

/// Why a task could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreError {
    /// Every record kept is a running task.
    Full,
    /// The store shared by replicas does not answer.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Down,
}

impl From<StoreError> for RpcError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full => RpcError::new(
                ErrorCode::InternalError,
                "too many tasks are running; try again later",
            ),
            StoreError::Down => RpcError::new(
                ErrorCode::InternalError,
                "the task store is unavailable; try again shortly",
            ),
        }
    }
}

/// Where task records live: this process's memory, or a store replicas share, which must
/// hold a record once `put` returns (a handle is answered only after that).
pub(crate) trait TaskStore: Send + Sync + fmt::Debug {
    fn put<'a>(&'a self, record: &'a TaskRecord) -> BoxFuture<'a, Result<(), StoreError>>;
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, StoreError>>;

    /// Tells the replica running task `id` what a client asked of it here. In memory every
    /// task runs in this process, so there is no one to tell.
    fn relay<'a>(&'a self, _id: &'a str, _what: Relayed) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    /// Where what other replicas relay for this process's tasks goes.
    fn serve(&self, _tasks: Weak<Tasks>) {}
}

/// What a client asked, on another replica, of a task running here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "lowercase")]
pub(crate) enum Relayed {
    /// `tasks/cancel`.
    Cancel,
    /// `tasks/update` with these `inputResponses`.
    Answer { responses: Map<String, Value> },
}

/// Task records in this process's memory, bounded by count.
#[derive(Debug)]
pub(crate) struct MemoryTasks {
    records: Mutex<HashMap<String, TaskRecord>>,
    max: usize,
}

impl MemoryTasks {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            records: Mutex::new(HashMap::new()),
            max: max.max(1),
        }
    }

    fn put_now(&self, record: &TaskRecord) -> Result<(), StoreError> {
        let mut records = lock(&self.records);
        if !records.contains_key(&record.id) && records.len() >= self.max {
            let now = now_ms();
            records.retain(|_, r| !(r.status.is_terminal() && r.expired(now)));
            if records.len() >= self.max {
                let oldest = records
                    .values()
                    .filter(|r| r.status.is_terminal())
                    .min_by_key(|r| r.updated_ms)
                    .map(|r| r.id.clone());
                match oldest {
                    Some(id) => {
                        records.remove(&id);
                    }
                    None => return Err(StoreError::Full),
                }
            }
        }
        records.insert(record.id.clone(), record.clone());
        Ok(())
    }
}

impl TaskStore for MemoryTasks {
    fn put<'a>(&'a self, record: &'a TaskRecord) -> BoxFuture<'a, Result<(), StoreError>> {
        let done = self.put_now(record);
        Box::pin(async move { done })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, StoreError>> {
        let found = lock(&self.records).get(id).cloned();
        Box::pin(async move { Ok(found) })
    }
}

/// A task running in this process: its record (written through to the store on every
/// change), its cancellation, and the questions its tool awaits answers to.
#[derive(Debug)]
pub(crate) struct Live {
    record: Mutex<TaskRecord>,
    cancel: CancellationToken,
    waiting: Mutex<HashMap<String, oneshot::Sender<Value>>>,
    store: Arc<dyn TaskStore>,
    hub: Hub,
}

impl Live {
    /// The record as it is now.
    pub(crate) fn snapshot(&self) -> TaskRecord {
        lock(&self.record).clone()
    }

    /// Changes the record, unless the task has ended, and stores it.
    async fn change(&self, f: impl FnOnce(&mut TaskRecord)) {
        let record = {
            let mut record = lock(&self.record);
            if record.status.is_terminal() {
                return;
            }
            f(&mut record);
            record.touch();
            record.clone()
        };
        if let Err(e) = self.store.put(&record).await {
            tracing::warn!(task = %record.id, error = ?e, "a task's change could not be stored");
        }
        self.hub.publish_task(&record.id);
    }

    /// Writes the record again as it is, unless the task has ended.
    pub(crate) async fn refresh(&self) {
        let record = self.snapshot();
        if record.status.is_terminal() {
            return;
        }
        if let Err(e) = self.store.put(&record).await {
            tracing::warn!(task = %record.id, error = ?e, "a running task could not be kept in the store");
        }
    }

    /// Parks the task in `input_required` with `request` under `key` until `tasks/update`
    /// answers it (`None` when the task is cancelled first). Back to `working` once no
    /// question is outstanding.
    pub(crate) async fn ask(&self, key: &str, request: Value) -> Option<Value> {
        let (tx, rx) = oneshot::channel();
        lock(&self.waiting).insert(key.to_owned(), tx);
        self.change(|r| {
            r.input_requests.insert(key.to_owned(), request);
            r.status = Status::InputRequired;
        })
        .await;
        let answer = tokio::select! {
            answer = rx => answer.ok(),
            () = self.cancel.cancelled() => None,
        };
        lock(&self.waiting).remove(key);
        self.change(|r| {
            r.input_requests.remove(key);
            if r.input_requests.is_empty() {
                r.status = Status::Working;
            }
        })
        .await;
        answer
    }

    /// Hands each answer to the question awaiting it, and takes the answered questions off
    /// the record before acknowledging, so that the next `tasks/get` no longer shows them.
    /// Answers to nothing outstanding are ignored, as the extension asks.
    async fn answer(&self, responses: &Map<String, Value>) {
        let answered: Vec<&String> = {
            let mut waiting = lock(&self.waiting);
            responses
                .iter()
                .filter_map(|(key, answer)| {
                    let tx = waiting.remove(key)?;
                    tx.send(answer.clone()).ok().map(|()| key)
                })
                .collect()
        };
        if answered.is_empty() {
            return;
        }
        self.change(|r| {
            for key in answered {
                r.input_requests.remove(key);
            }
            if r.input_requests.is_empty() && r.status == Status::InputRequired {
                r.status = Status::Working;
            }
        })
        .await;
    }

    /// Whether `key` is awaited: an answer to it may be taken.
    #[cfg(test)]
    pub(crate) fn awaits(&self, key: &str) -> bool {
        lock(&self.waiting).contains_key(key)
    }
}

/// How a task's tool ended.
pub(crate) enum Ending {
    /// It returned a result (`isError` included).
    Returned(CallToolResult),
    /// It failed with a JSON-RPC error, or panicked.
    Failed(RpcError),
}

/// The tasks of one endpoint.
#[derive(Debug)]
pub(crate) struct Tasks {
    store: Arc<dyn TaskStore>,
    live: Mutex<HashMap<String, Arc<Live>>>,
    settings: TaskSettings,
    /// Where changes are published, for `subscriptions/listen` streams.
    hub: Hub,
}

impl Tasks {
    /// Tasks kept in this process's memory.
    pub(crate) fn memory(settings: TaskSettings, hub: Hub) -> Arc<Self> {
        Self::new(
            Arc::new(MemoryTasks::new(settings.max_tasks)),
            settings,
            hub,
        )
    }

    /// Tasks in `store`, which other replicas share; they relay to this process what their
    /// clients ask of the tasks running here.
    pub(crate) fn new(store: Arc<dyn TaskStore>, settings: TaskSettings, hub: Hub) -> Arc<Self> {
        let tasks = Arc::new(Self {
            store,
            live: Mutex::new(HashMap::new()),
            settings,
            hub,
        });
        tasks.store.serve(Arc::downgrade(&tasks));
        tasks
    }

    /// The tool a task id names (its part after the first `.`).
    pub(crate) fn tool_of(id: &str) -> Option<&str> {
        id.split_once('.').map(|(_, tool)| tool)
    }

    /// Stores a new task of `tool` for `owner`, `working` (or already `ended`), and holds it
    /// here while it runs.
    pub(crate) async fn create(
        &self,
        owner: Option<String>,
        tool: &str,
        cancel: CancellationToken,
        ended: Option<Ending>,
    ) -> Result<Arc<Live>, StoreError> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let id = format!(
            "{}.{tool}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
        );
        let now = now_ms();
        let mut record = TaskRecord {
            id: id.clone(),
            owner,
            status: Status::Working,
            message: None,
            created_ms: now,
            updated_ms: now,
            ttl_ms: millis(self.settings.ttl),
            poll_ms: millis(self.settings.poll_interval),
            result: None,
            error: None,
            input_requests: Map::new(),
        };
        if let Some(ending) = ended {
            end(&mut record, ending);
        }
        self.store.put(&record).await?;
        let live = Arc::new(Live {
            record: Mutex::new(record),
            cancel,
            waiting: Mutex::new(HashMap::new()),
            store: Arc::clone(&self.store),
            hub: self.hub.clone(),
        });
        if !live.snapshot().status.is_terminal() {
            lock(&self.live).insert(id, Arc::clone(&live));
        }
        Ok(live)
    }

    /// Records how the task's tool ended, unless it was cancelled first, and lets it go.
    pub(crate) async fn finish(&self, live: &Live, ending: Ending) {
        live.change(|r| end(r, ending)).await;
        let id = live.snapshot().id;
        lock(&self.live).remove(&id);
    }

    /// The task `id` as `owner` may see it: `None` when it does not exist, has expired, or
    /// belongs to someone else.
    pub(crate) async fn get(
        &self,
        id: &str,
        owner: Option<&str>,
    ) -> Result<Option<TaskRecord>, StoreError> {
        let live = lock(&self.live).get(id).cloned();
        let record = match live {
            Some(live) => Some(live.snapshot()),
            None => self.store.get(id).await?,
        };
        let now = now_ms();
        Ok(record
            .filter(|r| r.owner.as_deref() == owner && !(r.expired(now) && r.status.is_terminal())))
    }

    /// `tasks/update`: hands `responses` to the task's outstanding questions. `false` when
    /// the task is unknown to `owner`.
    pub(crate) async fn update(
        &self,
        id: &str,
        owner: Option<&str>,
        responses: &Map<String, Value>,
    ) -> Result<bool, StoreError> {
        let live = self.live_of(id, owner);
        if let Some(live) = live {
            live.answer(responses).await;
            return Ok(true);
        }
        let Some(mut record) = self.get(id, owner).await? else {
            return Ok(false);
        };
        // Running on another replica: the answered questions leave the record here and
        // now, and the answers travel to the tool.
        let answered: Vec<&String> = responses
            .keys()
            .filter(|k| record.input_requests.contains_key(*k))
            .collect();
        if record.status.is_terminal() || answered.is_empty() {
            return Ok(true);
        }
        for key in answered {
            record.input_requests.remove(key);
        }
        if record.input_requests.is_empty() {
            record.status = Status::Working;
        }
        record.touch();
        self.store.put(&record).await?;
        self.hub.publish_task(id);
        self.store
            .relay(
                id,
                Relayed::Answer {
                    responses: responses.clone(),
                },
            )
            .await?;
        Ok(true)
    }

    /// What another replica relayed for a task that may run here.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) async fn take(&self, id: &str, what: Relayed) {
        let Some(live) = lock(&self.live).get(id).cloned() else {
            return;
        };
        match what {
            Relayed::Answer { responses } => live.answer(&responses).await,
            Relayed::Cancel => self.cancel_live(id, &live).await,
        }
    }

    /// `tasks/cancel`: a running task is `cancelled` at once, and its tool told; an ended one
    /// stays as it is. `false` when the task is unknown to `owner`.
    pub(crate) async fn cancel(&self, id: &str, owner: Option<&str>) -> Result<bool, StoreError> {
        if let Some(live) = self.live_of(id, owner) {
            self.cancel_live(id, &live).await;
            return Ok(true);
        }
        let Some(mut record) = self.get(id, owner).await? else {
            return Ok(false);
        };
        if !record.status.is_terminal() {
            cancelled(&mut record);
            record.touch();
            self.store.put(&record).await?;
            self.hub.publish_task(id);
            self.store.relay(id, Relayed::Cancel).await?;
        }
        Ok(true)
    }

    async fn cancel_live(&self, id: &str, live: &Live) {
        live.change(cancelled).await;
        live.cancel.cancel();
        lock(&self.live).remove(id);
    }

    /// Marks every task still running here `failed`: the process is stopping and its tools
    /// with it.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) async fn stop(&self) {
        let running: Vec<Arc<Live>> = lock(&self.live).drain().map(|(_, l)| l).collect();
        for live in running {
            live.change(|r| {
                end(
                    r,
                    Ending::Failed(RpcError::new(
                        ErrorCode::InternalError,
                        "the server stopped before the task finished",
                    )),
                );
            })
            .await;
            live.cancel.cancel();
        }
    }

    /// How many tasks run here.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn running(&self) -> usize {
        lock(&self.live).len()
    }

    fn live_of(&self, id: &str, owner: Option<&str>) -> Option<Arc<Live>> {
        lock(&self.live)
            .get(id)
            .filter(|l| lock(&l.record).owner.as_deref() == owner)
            .cloned()
    }
}

fn cancelled(record: &mut TaskRecord) {
    record.status = Status::Cancelled;
    record.message = Some("cancelled by the client".into());
    record.input_requests.clear();
}

/// Writes how the tool ended into the record.
fn end(record: &mut TaskRecord, ending: Ending) {
    record.input_requests.clear();
    match ending {
        Ending::Returned(result) => {
            record.status = Status::Completed;
            record.result = Some(serde_json::to_value(&result).unwrap_or_default());
        }
        Ending::Failed(error) => {
            record.status = Status::Failed;
            record.message = Some(error.message.clone());
            let mut e = json!({"code": error.code.code(), "message": error.message});
            if let Some(data) = error.data {
                e["data"] = data;
            }
            record.error = Some(e);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

/// `ms` since the Unix epoch as an RFC 3339 UTC timestamp with milliseconds.
pub(crate) fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let rem = secs % 86_400;
    // Days to a civil date (proleptic Gregorian), after H. Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_796_663_845_123), "2026-12-07T17:17:25.123Z");
    }

    #[test]
    fn ids_name_their_tool() {
        assert_eq!(Tasks::tool_of("abc.slow.compute"), Some("slow.compute"));
        assert_eq!(Tasks::tool_of("abc"), None);
    }

    #[tokio::test]
    async fn a_task_is_its_owners_and_ends_once() {
        let tasks = Tasks::memory(TaskSettings::default(), Hub::default());
        let live = tasks
            .create(Some("alice".into()), "job", CancellationToken::new(), None)
            .await
            .unwrap();
        let id = live.snapshot().id;
        assert_eq!(Tasks::tool_of(&id), Some("job"));
        assert!(id.len() > 40, "{id}");
        assert!(tasks.get(&id, Some("bob")).await.unwrap().is_none());
        assert!(tasks.get(&id, None).await.unwrap().is_none());
        assert_eq!(
            tasks.get(&id, Some("alice")).await.unwrap().unwrap().status,
            Status::Working
        );
        assert!(tasks.cancel(&id, Some("alice")).await.unwrap());
        tasks
            .finish(&live, Ending::Returned(CallToolResult::text("late")))
            .await;
        let record = tasks.get(&id, Some("alice")).await.unwrap().unwrap();
        assert_eq!(record.status, Status::Cancelled);
        assert!(record.result.is_none());
        assert_eq!(tasks.running(), 0);
    }

    #[tokio::test]
    async fn questions_park_the_task_until_answered() {
        let tasks = Tasks::memory(TaskSettings::default(), Hub::default());
        let live = tasks
            .create(None, "job", CancellationToken::new(), None)
            .await
            .unwrap();
        let id = live.snapshot().id;
        let asking = {
            let live = Arc::clone(&live);
            tokio::spawn(async move {
                live.ask("name", json!({"method": "elicitation/create"}))
                    .await
            })
        };
        while !live.awaits("name") {
            tokio::task::yield_now().await;
        }
        let parked = tasks.get(&id, None).await.unwrap().unwrap();
        assert_eq!(parked.status, Status::InputRequired);
        assert_eq!(
            parked.to_json()["inputRequests"]["name"]["method"],
            "elicitation/create"
        );
        let mut answers = Map::new();
        answers.insert("other".into(), json!({}));
        answers.insert("name".into(), json!({"action": "accept"}));
        assert!(tasks.update(&id, None, &answers).await.unwrap());
        assert_eq!(asking.await.unwrap(), Some(json!({"action": "accept"})));
        let record = tasks.get(&id, None).await.unwrap().unwrap();
        assert_eq!(record.status, Status::Working);
        assert!(!record.to_json().contains_key("inputRequests"));
    }

    #[tokio::test]
    async fn at_the_limit_the_oldest_finished_task_goes() {
        let settings = TaskSettings {
            max_tasks: 2,
            ..TaskSettings::default()
        };
        let tasks = Tasks::memory(settings, Hub::default());
        let done = Some(Ending::Returned(CallToolResult::text("ok")));
        let first = tasks
            .create(None, "a", CancellationToken::new(), done)
            .await
            .unwrap();
        let _running = tasks
            .create(None, "b", CancellationToken::new(), None)
            .await
            .unwrap();
        let third = tasks
            .create(None, "c", CancellationToken::new(), None)
            .await
            .unwrap();
        assert!(
            tasks
                .get(&first.snapshot().id, None)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            tasks
                .get(&third.snapshot().id, None)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            tasks
                .create(None, "d", CancellationToken::new(), None)
                .await
                .unwrap_err(),
            StoreError::Full
        );
    }
}
