//! Where sessions are kept: in this process's memory (the default), or in a store that
//! replicas share ([`SharedStore`]), with this process holding the sessions it serves.
//!
//! Either way a session is found, touched, ended and limited through [`Sessions`]; only
//! the shared store can fail ([`StoreDown`]), and then the request is refused with a retry
//! hint rather than answered from a copy that may be stale.

use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::events::EventId;
use super::session::{Refused, Session, SessionLimits, SessionStore, SubscriptionRefused};
use crate::protocol::RequestId;
use crate::server::call::ClientDeclaration;
use crate::server::input::{Hub, LogLevel};
use crate::server::tasks::TaskStore;

/// The shared store did not answer; the client may retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoreDown;

impl StoreDown {
    /// How long a client should wait before retrying.
    pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(1);
}

/// The events of a stream that another replica wrote, in batches, as a shared store
/// replays them.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) type EventBatches = Pin<Box<dyn Stream<Item = Vec<(EventId, Vec<u8>)>> + Send>>;

/// A store that replicas share, behind the sessions this process holds. What the store
/// must record goes through it; the rest is done on the session held here.
pub(crate) trait SharedStore: Send + Sync {
    /// The sessions this process holds, of those in the store.
    fn local(&self) -> &Arc<SessionStore>;
    /// Where changes are published, to this process's streams and the other replicas'.
    fn hub(&self) -> &Hub;
    /// The limits, counted in the store.
    fn limits(&self) -> SessionLimits;
    fn create(
        &self,
        version: &'static str,
        client: Arc<ClientDeclaration>,
        owner: Option<(String, String)>,
        peer: Option<IpAddr>,
    ) -> BoxFuture<'_, Result<Result<Arc<Session>, Refused>, StoreDown>>;
    /// The session `id`, touched, held here from now on.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Arc<Session>>, StoreDown>>;
    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreDown>>;
    fn set_log_level<'a>(
        &'a self,
        id: &'a str,
        level: LogLevel,
    ) -> BoxFuture<'a, Result<(), StoreDown>>;
    fn subscribe<'a>(
        &'a self,
        session: &'a Session,
        uri: &'a str,
        on: bool,
    ) -> BoxFuture<'a, Result<Result<(), SubscriptionRefused>, StoreDown>>;
    /// Tells the replica running request `id` of `session` that it is cancelled.
    fn cancel<'a>(
        &'a self,
        session: &'a str,
        id: &'a RequestId,
    ) -> BoxFuture<'a, Result<(), StoreDown>>;
    /// Hands the client's answer to the replica whose request awaits it.
    fn answer<'a>(
        &'a self,
        session: &'a str,
        id: &'a RequestId,
        outcome: Result<Value, Value>,
    ) -> BoxFuture<'a, Result<(), StoreDown>>;
    /// Where the tasks of the Tasks extension are kept, with the sessions.
    fn task_store(&self) -> Arc<dyn TaskStore>;
    /// The events of `session`'s stream after `from`, as the store holds them, then as
    /// they come; `None` when the store holds no such stream.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    fn read<'a>(
        &'a self,
        session: &'a str,
        from: EventId,
    ) -> BoxFuture<'a, Result<Option<EventBatches>, StoreDown>>;
}

/// The sessions of one endpoint.
pub(crate) struct Sessions {
    /// The sessions this process holds: all of them, or those it serves of a shared store.
    local: Arc<SessionStore>,
    hub: Hub,
    limits: SessionLimits,
    shared: Option<Arc<dyn SharedStore>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("limits", &self.limits)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions in this process's memory.
    pub(crate) fn memory(limits: SessionLimits) -> Self {
        Self {
            local: SessionStore::new(limits),
            hub: Hub::default(),
            limits,
            shared: None,
        }
    }

    /// Sessions in a store shared by replicas.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn in_store(shared: Arc<dyn SharedStore>) -> Self {
        Self {
            local: Arc::clone(shared.local()),
            hub: shared.hub().clone(),
            limits: shared.limits(),
            shared: Some(shared),
        }
    }

    /// The store shared by replicas, if the sessions are in one.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn shared(&self) -> Option<&Arc<dyn SharedStore>> {
        self.shared.as_ref()
    }

    /// The sessions this process holds.
    pub(crate) fn local(&self) -> &Arc<SessionStore> {
        &self.local
    }

    /// Where changes are published: to this process's streams, and the other replicas'.
    pub(crate) fn hub(&self) -> &Hub {
        &self.hub
    }

    pub(crate) fn limits(&self) -> &SessionLimits {
        &self.limits
    }

    /// Opens a session, counted against the limits (in the shared store, where there is
    /// one).
    pub(crate) async fn create(
        &self,
        version: &'static str,
        client: Arc<ClientDeclaration>,
        owner: Option<(String, String)>,
        peer: Option<IpAddr>,
    ) -> Result<Result<Arc<Session>, Refused>, StoreDown> {
        match &self.shared {
            Some(shared) => shared.create(version, client, owner, peer).await,
            None => Ok(self.local.create(version, client, owner, peer)),
        }
    }

    /// The session `id`, touched, if it exists.
    pub(crate) async fn get(&self, id: &str) -> Result<Option<Arc<Session>>, StoreDown> {
        match &self.shared {
            Some(shared) => shared.get(id).await,
            None => Ok(self.local.get(id)),
        }
    }

    /// Ends the session `id` everywhere; whether it existed.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) async fn remove(&self, id: &str) -> Result<bool, StoreDown> {
        match &self.shared {
            Some(shared) => shared.remove(id).await,
            None => Ok(self.local.remove(id)),
        }
    }

    /// Records `logging/setLevel`.
    pub(crate) async fn set_log_level(
        &self,
        session: &Session,
        level: LogLevel,
    ) -> Result<(), StoreDown> {
        if let Some(shared) = &self.shared {
            shared.set_log_level(&session.id, level).await?;
        }
        session.set_log_level(level);
        Ok(())
    }

    /// Records `resources/subscribe` (`on`) or `resources/unsubscribe`.
    pub(crate) async fn subscribe(
        &self,
        session: &Session,
        uri: &str,
        on: bool,
    ) -> Result<Result<(), SubscriptionRefused>, StoreDown> {
        match &self.shared {
            Some(shared) => shared.subscribe(session, uri, on).await,
            None => Ok(session.subscribe(uri, on)),
        }
    }

    /// Delivers `notifications/cancelled` to the request, wherever it runs.
    pub(crate) async fn cancel(&self, session: &Session, id: &RequestId) -> Result<(), StoreDown> {
        match &self.shared {
            Some(shared) if !session.cancel(id) => shared.cancel(&session.id, id).await,
            Some(_) => Ok(()),
            None => {
                session.cancel(id);
                Ok(())
            }
        }
    }

    /// Delivers the client's answer to the request that awaits it, wherever it runs;
    /// an answer nobody awaits is ignored.
    pub(crate) async fn answer(
        &self,
        session: &Session,
        id: &RequestId,
        outcome: Result<Value, Value>,
    ) -> Result<(), StoreDown> {
        match (session.pending.resolve(id, outcome), &self.shared) {
            (Some(outcome), Some(shared)) => shared.answer(&session.id, id, outcome).await,
            _ => Ok(()),
        }
    }
}
