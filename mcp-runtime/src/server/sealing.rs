//! The keys that seal 2026-07-28 `requestState`s, and the sealing itself (HMAC-SHA256).
//!
//! A state sealed by one replica is opened by whichever replica the client's retry reaches,
//! so replicas share a key ring: one current key that seals, and older keys that still open
//! the states they sealed while a rotation rolls out.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

/// The environment variable [`StateKeys::from_env`] reads.
pub const STATE_KEYS_VAR: &str = "MCP_REQUEST_STATE_KEYS";

/// How long a sealed state stays valid, in seconds: an older key can be removed from the
/// ring this long after it stopped being the current one.
pub const STATE_LIFETIME_SECS: u64 = 15 * 60;

/// One 256-bit key.
type Key = [u8; 32];

/// The key ring that seals and opens 2026-07-28 `requestState`s: the current key seals,
/// every key of the ring opens.
///
/// Replicas behind one load balancer must share it, since a client's retry may reach any
/// of them. To rotate, first give every replica the new key as an accepted one, then make
/// it current everywhere, then drop the old key once [`STATE_LIFETIME_SECS`] have passed:
/// at no step does a state sealed by one replica fail to open on another.
///
/// Without a ring configured, a server uses [`StateKeys::from_env`] when
/// `MCP_REQUEST_STATE_KEYS` is set, else a random key of the process, which only suits a
/// single replica.
///
/// ```
/// use mcp_runtime::input::StateKeys;
///
/// let current = [7u8; 32];
/// let retiring = [9u8; 32];
/// let keys = StateKeys::new(current).accepting(retiring);
/// assert_eq!(keys.len(), 2);
///
/// let parsed = StateKeys::parse(&format!("{},{}", "07".repeat(32), "09".repeat(32)))?;
/// assert_eq!(parsed, keys);
/// # Ok::<(), mcp_runtime::input::StateKeysError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct StateKeys {
    /// The current key first, then the keys that only open.
    keys: Arc<[Key]>,
}

impl fmt::Debug for StateKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateKeys")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// Why a key ring could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateKeysError {
    /// The ring names no key.
    #[error("a request-state key ring needs at least one key")]
    Empty,
    /// A key is not 64 hex digits; `position` counts from 1, the current key first.
    #[error("request-state key {position} is not 64 hex digits (256 bits)")]
    NotAKey {
        /// Which key of the list, from 1.
        position: usize,
    },
}

impl StateKeys {
    /// A ring whose one key is `current`.
    #[must_use]
    pub fn new(current: [u8; 32]) -> Self {
        Self {
            keys: Arc::new([current]),
        }
    }

    /// A ring with one random key: states open only in this process.
    #[must_use]
    pub fn random() -> Self {
        Self::new(rand::random())
    }

    /// The ring with `older` added as a key that opens states but no longer seals them.
    #[must_use]
    pub fn accepting(self, older: [u8; 32]) -> Self {
        if self.keys.contains(&older) {
            return self;
        }
        let mut keys = self.keys.to_vec();
        keys.push(older);
        Self { keys: keys.into() }
    }

    /// Reads a comma-separated list of keys, each 64 hex digits, the current key first.
    /// Spaces around a key are ignored.
    ///
    /// # Errors
    ///
    /// [`StateKeysError`] when the list is empty or a key is not 64 hex digits.
    pub fn parse(list: &str) -> Result<Self, StateKeysError> {
        let mut keys = list
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .enumerate()
            .map(|(i, hex)| parse_key(hex).ok_or(StateKeysError::NotAKey { position: i + 1 }));
        let mut ring = Self::new(keys.next().ok_or(StateKeysError::Empty)??);
        for key in keys {
            ring = ring.accepting(key?);
        }
        Ok(ring)
    }

    /// The ring in `MCP_REQUEST_STATE_KEYS` ([`parse`](Self::parse)'s format), or `None`
    /// when it is not set.
    ///
    /// # Errors
    ///
    /// [`StateKeysError`] when it is set but is not a key ring.
    pub fn from_env() -> Result<Option<Self>, StateKeysError> {
        std::env::var(STATE_KEYS_VAR)
            .ok()
            .map(|list| Self::parse(&list))
            .transpose()
    }

    /// How many keys the ring holds, the current one included.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always `false`: a ring holds its current key at least.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The ring a server uses when none is configured: `MCP_REQUEST_STATE_KEYS`, else one
    /// random key shared by the process's servers. An unreadable variable is logged, not
    /// ignored silently, and the random key is used.
    pub(crate) fn process_default() -> Self {
        static DEFAULT: OnceLock<StateKeys> = OnceLock::new();
        DEFAULT
            .get_or_init(|| match Self::from_env() {
                Ok(Some(keys)) => keys,
                Ok(None) => Self::random(),
                Err(error) => {
                    tracing::error!(
                        %error,
                        "{STATE_KEYS_VAR} is not a key ring (comma-separated keys of 64 hex \
                         digits, the current one first); request states use a random key \
                         of this process and will not open on other replicas"
                    );
                    Self::random()
                }
            })
            .clone()
    }
}

fn parse_key(hex: &str) -> Option<Key> {
    if hex.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (byte, pair) in key.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(key)
}

/// Seals and opens `requestState` with a [`StateKeys`] ring.
#[derive(Clone, Debug)]
pub(crate) struct Sealer {
    keys: StateKeys,
}

impl Sealer {
    pub(crate) fn new(keys: StateKeys) -> Self {
        Self { keys }
    }

    fn mac(key: &Key) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length")
    }

    /// `base64url(json).base64url(hmac)` binding `binding` (method, params digest, caller),
    /// sealed with the current key.
    pub(crate) fn seal(&self, binding: &str, round: u64, app: Option<&Value>) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = json!({"b": binding, "r": round, "e": now() + STATE_LIFETIME_SECS, "a": app, "n": rand::random::<u64>()});
        let payload = engine.encode(payload.to_string());
        let mut mac = Self::mac(&self.keys.keys[0]);
        mac.update(payload.as_bytes());
        let mac = engine.encode(mac.finalize().into_bytes());
        format!("{payload}.{mac}")
    }

    /// The round and app state of a state sealed for `binding` by a key of the ring; `None`
    /// when no key of the ring sealed it, it was changed, has expired, or belongs to another
    /// request or caller.
    pub(crate) fn open(&self, binding: &str, state: &str) -> Option<(u64, Option<Value>)> {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (payload, mac) = state.split_once('.')?;
        let mac = engine.decode(mac).ok()?;
        self.keys.keys.iter().find(|key| {
            let mut check = Self::mac(key);
            check.update(payload.as_bytes());
            check.verify_slice(&mac).is_ok()
        })?;
        let payload: Value = serde_json::from_slice(&engine.decode(payload).ok()?).ok()?;
        if payload.get("b")?.as_str()? != binding || payload.get("e")?.as_u64()? < now() {
            return None;
        }
        let app = payload.get("a").filter(|a| !a.is_null()).cloned();
        Some((payload.get("r")?.as_u64()?, app))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::input::binding;

    #[test]
    fn sealed_state_opens_only_unchanged_and_for_its_request() {
        let sealer = Sealer::new(StateKeys::random());
        let params = json!({"name": "t", "arguments": {"x": 1}})
            .as_object()
            .cloned()
            .unwrap();
        let b = binding("tools/call", &params, Some("alice"));
        let state = sealer.seal(&b, 2, Some(&json!({"step": 1})));
        assert_eq!(sealer.open(&b, &state), Some((2, Some(json!({"step": 1})))));
        assert_eq!(sealer.open(&b, &format!("{state}-TAMPERED")), None);
        let other = binding("tools/call", &params, Some("bob"));
        assert_eq!(sealer.open(&other, &state), None, "bound to the caller");
        assert_eq!(
            Sealer::new(StateKeys::random()).open(&b, &state),
            None,
            "bound to the key"
        );
        let mut retry = params.clone();
        retry.insert("inputResponses".into(), json!({"k": {}}));
        retry.insert("requestState".into(), json!(state));
        assert_eq!(
            binding("tools/call", &retry, Some("alice")),
            b,
            "retry fields are not part of it"
        );
    }

    #[test]
    fn a_rotation_keeps_every_state_opening_somewhere_it_should() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let before = Sealer::new(StateKeys::new(old));
        let during = Sealer::new(StateKeys::new(new).accepting(old));
        let after = Sealer::new(StateKeys::new(new));
        let sealed_before = before.seal("b", 1, None);
        let sealed_during = during.seal("b", 1, None);
        assert!(
            during.open("b", &sealed_before).is_some(),
            "old states open"
        );
        assert!(after.open("b", &sealed_during).is_some(), "new key seals");
        assert_eq!(
            after.open("b", &sealed_before),
            None,
            "a retired key opens nothing"
        );
        assert_eq!(before.open("b", &sealed_during), None);
    }

    #[test]
    fn key_rings_parse_or_say_which_key_is_wrong() {
        let (a, b) = ("ab".repeat(32), "CD".repeat(32));
        let ring = StateKeys::parse(&format!(" {a} , {b},")).unwrap();
        assert_eq!(ring, StateKeys::new([0xab; 32]).accepting([0xcd; 32]));
        assert_eq!(StateKeys::parse(" , "), Err(StateKeysError::Empty));
        assert_eq!(
            StateKeys::parse(&format!("{a},{}", "ab".repeat(31))),
            Err(StateKeysError::NotAKey { position: 2 })
        );
        assert_eq!(
            StateKeys::parse(&"zz".repeat(32)),
            Err(StateKeysError::NotAKey { position: 1 })
        );
        assert_eq!(
            StateKeys::parse(&format!("{a},{a}")).unwrap().len(),
            1,
            "a key listed twice is one key"
        );
        let debug = format!("{ring:?}");
        assert!(!debug.contains("ab") && !debug.contains("171"), "{debug}");
    }
}
