//! [`Session`]: what a handler keeps from one request of a 2025-11-25 session to the next.

use std::sync::{Arc, Mutex};

/// The 2025-11-25 session a request belongs to (for stdio, the process): its id and data
/// kept from one request to the next.
///
/// A handler receives it by declaring a `Session` parameter. A server declared `stateless`
/// has no sessions, so taking one there does not compile; a 2026-07-28 request has none
/// either and is answered -32600. Keep what must survive a restart or serve several
/// replicas elsewhere.
#[derive(Clone)]
pub struct Session {
    pub(crate) id: Arc<str>,
    pub(crate) data: Arc<SessionData>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Values stored on a session, one per type.
#[derive(Default)]
pub(crate) struct SessionData {
    values:
        Mutex<std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>,
}

impl std::fmt::Debug for SessionData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionData")
    }
}

impl Session {
    /// The session id (`Mcp-Session-Id`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The stored value of type `T`, if any.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let values = self
            .data
            .values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        values
            .get(&std::any::TypeId::of::<T>())
            .cloned()
            .and_then(|v| v.downcast::<T>().ok())
    }

    /// Stores `value`, replacing the value of the same type.
    pub fn insert<T: Send + Sync + 'static>(&self, value: T) {
        let mut values = self
            .data
            .values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        values.insert(std::any::TypeId::of::<T>(), Arc::new(value));
    }
}
