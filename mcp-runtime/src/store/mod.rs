//! Stores that replicas of one server share, so that a 2025-11-25 session can be served by
//! any of them with no sticky routing.
//!
//! By default an endpoint keeps its sessions in memory: one process serves each session
//! for its whole life. With a [`RedisStore`] given to
//! [`HttpConfig::session_store`](crate::HttpConfig::session_store), every replica finds
//! every session:
//!
//! - a session (id, negotiated revision, client info and capabilities, log level,
//!   subscriptions, owner, expiry) lives in Redis; `DELETE` and expiry end it on every
//!   replica, and the session limits are counted there, across replicas;
//! - what its SSE streams carry is kept in Redis too, so a client resumes a stream with
//!   `Last-Event-ID` on whichever replica the load balancer picks;
//! - a list change or resource update raised on one replica reaches the streams held by
//!   the others, and a client's answer to a server-to-client request, or its cancellation
//!   of a request, reaches the replica running that request, over Redis pub/sub.
//!
//! While Redis cannot be reached, requests that need it are refused with 503 and
//! `Retry-After` (never answered from a copy that may be stale), and the replicas
//! reconnect on their own.
//!
//! Each replica still holds in memory what cannot travel: the tasks running its requests,
//! the connections it serves, and what handlers keep on a [`Session`](crate::Session),
//! which is per replica.

pub(crate) mod redis;

pub use self::redis::{REDIS_URL_VAR, RedisStore, RedisStoreError};
